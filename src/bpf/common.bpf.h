/* common.bpf.h - helpers shared by the kernel-side programs (exec.bpf.c,
 * technique.bpf.c): verifier-friendly offsets, the kernfs parent across kernel
 * versions, and the task's cgroup path as leaf-first component names. */
#ifndef CW_COMMON_BPF_H
#define CW_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Kernels before 6.15 call the kernfs parent pointer `parent`. */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

/* Round-trip an offset through map memory so the verifier forgets its exact
 * range: states then compare equal and prune, keeping verification linear
 * instead of exponential in the number of loop iterations. */
static __always_inline __u32 forget(__u16 *slot, __u32 v)
{
	*(volatile __u16 *)slot = v;
	return *(volatile __u16 *)slot;
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* The kernfs node of the task's cgroup: cgroup2 if the task is below its
 * root, else the v1 memory hierarchy (*v1 set). */
static __always_inline struct kernfs_node *task_cgroup_kn(struct task_struct *task, bool *v1)
{
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);

	*v1 = false;
	if (kn && !kn_parent(kn) &&
	    bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
		struct cgroup_subsys_state *css;

		if (id >= 0 && id < CGROUP_SUBSYS_COUNT) {
			css = BPF_CORE_READ(task, cgroups, subsys[id]);
			if (css) {
				kn = BPF_CORE_READ(css, cgroup, kn);
				*v1 = true;
			}
		}
	}
	return kn;
}

/* Write the names from kn up to (not including) the hierarchy root into
 * dst[0..cap), leaf first, each NUL-terminated, at most `depth` of them and
 * name_max bytes each. slot is map memory used to forget offsets. Returns the
 * bytes used; *trunc is set when the path did not fit. */
static __always_inline __u32 put_kn_path(char *dst, __u32 cap, __u32 name_max, int depth,
                                         struct kernfs_node *kn, __u16 *slot, bool *trunc)
{
	__u32 off = 0;
	int i;

	*trunc = false;
#pragma clang loop unroll(disable)
	for (i = 0; i < depth && kn; i++) {
		struct kernfs_node *parent = kn_parent(kn);
		long n;

		if (!parent)
			break;
		off = forget(slot, off);
		if (off > cap - name_max) {
			*trunc = true;
			break;
		}
		n = bpf_probe_read_kernel_str(&dst[off], name_max, BPF_CORE_READ(kn, name));
		if (n <= 0)
			break;
		off += n;
		kn = parent;
	}
	if (i >= depth)
		*trunc = true;
	return off;
}

/* Walk a file's dentries up to the task's root, crossing mounts, writing
 * component names into dst[0..cap) leaf first, each NUL-terminated, at most
 * `depth` of them and name_max bytes each. slot is map memory used to forget
 * offsets. Returns the bytes used; *trunc is set when the path did not fit.
 * A pseudo file (memfd) or a detached dentry is its own parent: its name is
 * the whole path ("/memfd:NAME"). */
static __always_inline __u32 put_dpath(char *dst, __u32 cap, __u32 name_max, int depth,
                                       struct task_struct *task, struct file *file, __u16 *slot,
                                       bool *trunc)
{
	struct dentry *d = BPF_CORE_READ(file, f_path.dentry);
	struct vfsmount *vm = BPF_CORE_READ(file, f_path.mnt);
	struct mount *mnt = container_of(vm, struct mount, mnt);
	struct dentry *root_d = BPF_CORE_READ(task, fs, root.dentry);
	struct vfsmount *root_m = BPF_CORE_READ(task, fs, root.mnt);
	__u32 off = 0;
	int i;

	*trunc = false;
#pragma clang loop unroll(disable)
	for (i = 0; i < depth; i++) {
		struct dentry *parent, *mnt_root;
		long n;

		if (d == root_d && vm == root_m)
			break;
		mnt_root = BPF_CORE_READ(vm, mnt_root);
		parent = BPF_CORE_READ(d, d_parent);
		if (d == mnt_root) {
			struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);

			if (mp == mnt)
				break; /* top of this namespace's tree */
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mp;
			vm = &mp->mnt;
			continue;
		}
		off = forget(slot, off);
		if (off > cap - name_max) {
			*trunc = true;
			break;
		}
		n = bpf_probe_read_kernel_str(&dst[off], name_max, BPF_CORE_READ(d, d_name.name));
		if (n <= 0)
			break;
		off += n;
		if (d == parent)
			break;
		d = parent;
	}
	if (i >= depth)
		*trunc = true;
	return off;
}

#endif
