/* caller.bpf.h - what the technique and guard programs record about the
 * calling task (struct cw_tq_event): ids, namespaces, executable, argv, cgroup,
 * and the file behind one of its descriptors. Direct BTF loads where a field
 * is read on hot paths; CO-RE reads elsewhere. */
#ifndef CW_CALLER_BPF_H
#define CW_CALLER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "technique_event.h"
#include "common.bpf.h"

#define PID_FS_MAGIC 0x50494446

/* Namespaces of the current task: direct (BTF) loads, which cost a few
 * nanoseconds where each bpf_probe_read_kernel costs tens; these run on every
 * watched syscall of every process, host ones included. */
static __always_inline __u32 task_pidns(struct task_struct *task)
{
	struct pid *tp = task->thread_pid;
	unsigned int level = tp->level;

	if (level == 0)
		return tp->numbers[0].ns->ns.inum;
	return BPF_CORE_READ(tp, numbers[level & 31].ns, ns.inum);
}

static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;

	if (fd < 0 || fd >= max)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* Mount namespace inode of the mount a path lives on (0: internal mount). */
static __always_inline __u32 mount_ns_of(struct vfsmount *vm)
{
	struct mount *m = container_of(vm, struct mount, mnt);
	struct mnt_namespace *ns = BPF_CORE_READ(m, mnt_ns);

	if ((unsigned long)ns < 4096)
		return 0;
	return BPF_CORE_READ(ns, ns.inum);
}

static __always_inline void put_file(struct cw_tq_event *e, struct file *f)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);

	if (!f || !ino)
		return;
	e->flags |= CW_TQF_FILE;
	e->f_ino = BPF_CORE_READ(ino, i_ino);
	e->f_mode = BPF_CORE_READ(ino, i_mode);
	e->f_rdev = BPF_CORE_READ(ino, i_rdev);
	e->f_magic = BPF_CORE_READ(ino, i_sb, s_magic);
	e->f_dev = BPF_CORE_READ(ino, i_sb, s_dev);
	e->f_mntns = mount_ns_of(BPF_CORE_READ(f, f_path.mnt));
	bpf_probe_read_kernel_str(e->fname, sizeof(e->fname),
	                          BPF_CORE_READ(f, f_path.dentry, d_name.name));
	if (e->f_magic == PID_FS_MAGIC) {
		struct pid *p = BPF_CORE_READ(f, private_data);

		e->target_pid = BPF_CORE_READ(p, numbers[0].nr);
	}
}

/* The task's cgroup path (see common.bpf.h), leaf first. */
static __always_inline void put_cgroup(struct cw_tq_event *e, struct task_struct *task)
{
	bool v1, trunc;
	struct kernfs_node *kn = task_cgroup_kn(task, &v1);

	if (v1)
		e->flags |= CW_TQF_CGROUP_V1;
	e->cgroup_len =
	    put_kn_path(e->cgroup, CW_TQ_CGROUP, CW_TQ_NAME, 16, kn, &e->cgroup_len, &trunc);
	if (trunc)
		e->flags |= CW_TQF_CGROUP_TRUNC;
}

/* A record being assembled in a per-CPU array, with slack after it: the
 * verifier bounds section offsets by powers of two (technique and guard). */
struct caller_scratch {
	struct cw_tq_event e;
	char slack[1024];
};

/* The task's argv area (at most CW_TQ_ARGS bytes) into dst; its length. */
static __always_inline __u16 put_args(char *dst, struct mm_struct *mm)
{
	unsigned long as = BPF_CORE_READ(mm, arg_start), ae = BPF_CORE_READ(mm, arg_end);
	unsigned long alen = ae > as ? ae - as : 0;

	if (alen > CW_TQ_ARGS)
		alen = CW_TQ_ARGS;
	if (alen && bpf_probe_read_user(dst, alen, (void *)as) < 0)
		alen = 0;
	return alen;
}

/* Who is calling: ids, namespaces, executable, argv, cgroup. */
static __always_inline void put_caller(struct cw_tq_event *e, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct file *exe = BPF_CORE_READ(mm, exe_file);

	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = BPF_CORE_READ(task, pid);
	e->tgid = BPF_CORE_READ(task, tgid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = BPF_CORE_READ(task, cred, uid.val);
	e->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	e->cgroupns = BPF_CORE_READ(task, nsproxy, cgroup_ns, ns.inum);
	e->utsns = BPF_CORE_READ(task, nsproxy, uts_ns, ns.inum);
	e->ipcns = BPF_CORE_READ(task, nsproxy, ipc_ns, ns.inum);
	e->userns = BPF_CORE_READ(task, cred, user_ns, ns.inum);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->exe[0] = 0;
	if (exe) {
		bpf_probe_read_kernel_str(e->exe, sizeof(e->exe),
		                          BPF_CORE_READ(exe, f_path.dentry, d_name.name));
		/* runc init runs a host binary (or a memfd copy of one): its
		 * executable is not in the container's mount namespace. */
		if (mount_ns_of(BPF_CORE_READ(exe, f_path.mnt)) != e->mntns)
			e->flags |= CW_TQF_FOREIGN_EXE;
	}
	e->args_len = put_args(e->args, mm);
	e->exe_len = 0;
	put_cgroup(e, task);
}

/* The caller's executable as a path inside its root (exe_path, exe_len), so a
 * finding names /bin/busybox, not busybox, however late the agent reads it
 * (the process may be gone by then). A walk of up to 16 dentries: only for
 * records on their way to user space. */
static __always_inline void put_exe_path(struct cw_tq_event *e, struct task_struct *task)
{
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	bool trunc = false;
	__u32 n;

	e->exe_len = 0;
	if (!exe)
		return;
	n = put_dpath(e->exe_path, CW_TQ_STR, CW_TQ_NAME, 16, task, exe, &e->exe_len, &trunc);
	e->exe_len = n;
	if (trunc)
		e->flags |= CW_TQF_EXE_TRUNC;
}

#endif
