/* lib.bpf.h - part of technique.bpf.c: a container program maps a file as
 * code (mmap with PROT_EXEC of a file: the dynamic loader loading a library,
 * dlopen) that is not part of the container's image, for the
 * library_provenance rules (Added Library Loaded, Added/Modified Malicious
 * Library Loaded).
 *
 * Decided here: on overlayfs a file with an upper copy (added, or modified:
 * copied up); on any other root a file changed after the container's init
 * started (6.11+: the inode's change time is readable). A file of the image
 * stops here; so does a file version already sent (lib_seen). What is sent
 * carries the file, its path as the task sees it and the layer bits; user
 * space opens it inside the container and runs the content layers over it.
 */
#ifndef CW_LIB_BPF_H
#define CW_LIB_BPF_H

#include "layer.bpf.h"

#define PROT_EXEC     4
#define MAP_ANONYMOUS 0x20

const volatile bool lib_watch = false; /* a library_provenance rule is on */
__s64 boot_to_unix_ns = 0;             /* written by user space: boot clock -> Unix time */

struct lib_key {
	__u64 ino;
	__s64 ctime_ns;
	__u32 dev;
	__u32 mntns;
};

/** @brief File versions already sent (one record each, not one per mapping). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lib_key);
	__type(value, __u8);
} lib_seen SEC(".maps");

/* The inode's change time, Unix ns; 0 where this kernel's inode has no
 * i_ctime_sec (before 6.11). Multigrain timestamps keep a flag in bit 31. */
static __always_inline __s64 inode_ctime_ns(struct inode *inode)
{
	if (!bpf_core_field_exists(inode->i_ctime_sec))
		return 0;
	return BPF_CORE_READ(inode, i_ctime_sec) * 1000000000ll +
	       (BPF_CORE_READ(inode, i_ctime_nsec) & 0x7fffffff);
}

/* Start of the init of the task's pid namespace, Unix ns; 0 for the host's
 * (its init started at boot: nothing to compare with). */
static __always_inline __s64 ns_init_start_unix(struct task_struct *task)
{
	struct pid *tp = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	struct task_struct *reaper;

	if (!level)
		return 0;
	reaper = BPF_CORE_READ(tp, numbers[level & 31].ns, child_reaper);
	return reaper ? (__s64)BPF_CORE_READ(reaper, start_boottime) + boot_to_unix_ns : 0;
}

/* mmap(addr, len, prot, flags, fd, off): keep a code mapping of a file added
 * or changed since the container started, once per file version. */
static __always_inline bool want_lib(struct cw_tq_event *e, struct task_struct *task, __u64 prot,
                                     __u64 flags, __u64 fd)
{
	struct lib_key k = {};
	struct inode *inode;
	struct file *f;
	__u32 bits;
	__u8 one = 1;
	bool trunc;

	if (!lib_watch || !(prot & PROT_EXEC) || (flags & MAP_ANONYMOUS) || (long)(int)fd < 0)
		return false;
	f = fd_file(task, (long)(int)fd);
	inode = BPF_CORE_READ(f, f_inode);
	if (!f || !inode)
		return false;
	bits = ovl_layers(inode, BPF_CORE_READ(inode, i_sb, s_magic));
	k.ctime_ns = inode_ctime_ns(inode);
	if (bits & CW_LAYER_OVL) {
		if (!(bits & CW_LAYER_UPPER))
			return false; /* the image's */
	} else {
		__s64 start = ns_init_start_unix(task);

		if (!start || !k.ctime_ns || k.ctime_ns <= start)
			return false; /* the image's, or cannot tell */
		e->flags |= CW_TQF_CHANGED;
	}
	k.ino = BPF_CORE_READ(inode, i_ino);
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k.mntns = e->mntns;
	if (bpf_map_lookup_elem(&lib_seen, &k))
		return false;
	bpf_map_update_elem(&lib_seen, &k, &one, BPF_ANY);
	e->flags |= (bits & CW_LAYER_OVL ? CW_TQF_OVL : 0) |
	            (bits & CW_LAYER_UPPER ? CW_TQF_UPPER : 0) |
	            (bits & CW_LAYER_LOWER ? CW_TQF_LOWER : 0);
	e->arg[0] = prot;
	e->arg[1] = flags;
	e->arg[3] = fd;
	put_file(e, f);
	e->s1_len = put_dpath(e->s1, CW_TQ_STR, CW_TQ_NAME, 16, task, f, &e->cgroup_len, &trunc);
	e->cgroup_len = 0;
	if (trunc)
		e->flags |= CW_TQF_PATH_TRUNC;
	return true;
}

#endif
