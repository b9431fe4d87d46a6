// SPDX-License-Identifier: GPL-2.0
/* exec.bpf.c - kernel side of the exec sensor.
 *
 * One program on tp_btf/sched_process_exec (no tracefs needed) records, per
 * successful exec: ids, credentials, namespaces, cgroup path, the executed file
 * (path resolved by walking dentries up to the task's root, device, inode, size,
 * times, memfd/deleted), the name execve was given and the bounded argv. The
 * record is built in a per-CPU scratch buffer and only its used prefix goes to
 * the ring buffer. Host processes are dropped here when user space only wants
 * containers, so they cost nothing past this program.
 *
 * Wake-ups: per-event wake-ups are what makes monitors slow. The reader is
 * woken by the first record it has not consumed, then drains in 2 ms batches;
 * records dropped here (host, known clean) never wake it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "event.h"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u32 host_pidns = 0;         /* pid ns inode of host PID 1 */
const volatile __u32 host_mntns = 0;         /* mount ns inode of host PID 1 */
const volatile bool containers_only = false; /* drop execs sharing host pid+mnt ns */
const volatile __u64 wakeup_bytes = 65536;   /* wake the reader once this much is pending */

/** @brief Exec records to user space. Size set by user space (default 4 MiB,
 * about 15,000 records: over a second of the fastest exec storm). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* The verifier tracks section offsets only to the next power of two; the slack
 * keeps every bounded write inside the map value without costing a copy. */
struct scratch_buf {
	struct cw_event e;
	__u64 env_from; /* env.bpf.h: where the env section starts (user address) */
	char slack[8192];
};

/** @brief Per-CPU scratch space where a record is assembled before submission. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch_buf);
} scratch SEC(".maps");

/** @brief Per-CPU counters indexed by enum cw_counter; user space sums them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/** @brief Executables user space found clean and name-neutral (see event.h);
 * their execs are dropped here while the file is unchanged. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cw_file_id);
	__type(value, struct cw_file_ver);
} known_clean SEC(".maps");

#include "hold.bpf.h" /* uses scratch */
#include "stdio.bpf.h"
#include "layer.bpf.h"
#include "env.bpf.h"

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

/* The executed file's path as the task sees it, leaf first (common.bpf.h). */
static __always_inline __u32 put_path(struct cw_event *e, struct task_struct *task,
                                      struct file *file)
{
	bool trunc;
	__u32 off = put_dpath(e->data, CW_PATH_MAX, CW_NAME_MAX, CW_PATH_DEPTH, task, file,
	                      &e->path_len, &trunc);

	if (trunc)
		e->flags |= CW_F_PATH_TRUNC;
	return off;
}

/* The task's cgroup path, components leaf first, written at data[base..]. */
static __always_inline __u32 put_cgroup(struct cw_event *e, struct task_struct *task, __u32 base)
{
	bool v1, trunc;
	struct kernfs_node *kn = task_cgroup_kn(task, &v1);
	__u32 off;

	if (v1)
		e->flags |= CW_F_CGROUP_V1;
	if (base > CW_PATH_MAX)
		return 0;
	off = put_kn_path(&e->data[base], CW_CGROUP_MAX, CW_NAME_MAX, CW_CGROUP_DEPTH, kn,
	                  &e->cgroup_len, &trunc);
	if (trunc)
		e->flags |= CW_F_CGROUP_TRUNC;
	return off;
}

/* Is this exec of a known-clean, unchanged file under its own name? The name
 * given to execve must end in the file's own dentry name (a symlink or hard
 * link under a tool's name must still reach user space): names up to 16 bytes
 * are compared whole, longer ones by length and their first and last 8 bytes. */
static __always_inline bool known_clean_exec(struct cw_event *e, struct linux_binprm *bprm,
                                             struct file *file)
{
	struct cw_file_id id = {.ino = e->ino, .dev = e->dev};
	struct cw_file_ver *v;
	const unsigned char *dname;
	char head[16], tail[8];
	__u32 len, fl, base;
	long n;

	if (!e->mtime_sec)
		return false; /* no inode times on this kernel: cannot see rewrites */
	v = bpf_map_lookup_elem(&known_clean, &id);
	if (!v || v->size != e->size || v->mtime_sec != e->mtime_sec ||
	    v->mtime_nsec != e->mtime_nsec || v->ctime_sec != e->ctime_sec ||
	    v->ctime_nsec != e->ctime_nsec)
		return false;
	len = file->f_path.dentry->d_name.len;
	dname = file->f_path.dentry->d_name.name;
	if (len == 0 || len > 255)
		return false;
	n = bpf_probe_read_kernel_str(e->data, CW_FNAME_MAX, bprm->filename);
	if (n <= 1)
		return false;
	fl = n - 1;
	if (fl < len)
		return false;
	base = fl - len;
	if (base > 0 && e->data[(base - 1) & (CW_FNAME_MAX - 1)] != '/')
		return false;
	if (bpf_probe_read_kernel(head, sizeof(head), dname))
		return false;
	for (int k = 0; k < 16; k++) {
		if (k >= len)
			return true;
		if (e->data[(base + k) & (CW_FNAME_MAX - 1)] != head[k])
			return false;
	}
	if (bpf_probe_read_kernel(tail, sizeof(tail), dname + len - 8))
		return false;
	for (int k = 0; k < 8; k++)
		if (e->data[(fl - 8 + k) & (CW_FNAME_MAX - 1)] != tail[k])
			return false;
	return true;
}

/* The file's identity and what kind of exec it is (memfd, deleted, script). */
static __always_inline void put_file_ids(struct cw_event *e, struct linux_binprm *bprm,
                                         struct file *file)
{
	struct inode *inode = file->f_inode;

	e->ino = inode->i_ino;
	e->size = inode->i_size;
	e->dev = inode->i_sb->s_dev;
	if (bpf_core_field_exists(inode->i_mtime_sec)) {
		e->mtime_sec = inode->i_mtime_sec;
		e->mtime_nsec = inode->i_mtime_nsec;
		e->ctime_sec = inode->i_ctime_sec;
		/* multigrain timestamps (6.13+) keep a "queried" flag in bit 31 */
		e->ctime_nsec = inode->i_ctime_nsec & 0x7fffffffu;
	} else {
		e->mtime_sec = e->ctime_sec = 0; /* older kernels: user space stats the file */
		e->mtime_nsec = e->ctime_nsec = 0;
	}
	if (inode->__i_nlink == 0) {
		char pre[8] = {};

		bpf_probe_read_kernel_str(pre, sizeof(pre), file->f_path.dentry->d_name.name);
		if (pre[0] == 'm' && pre[1] == 'e' && pre[2] == 'm' && pre[3] == 'f' &&
		    pre[4] == 'd' && pre[5] == ':')
			e->flags |= CW_F_MEMFD;
		else
			e->flags |= CW_F_DELETED;
	}
	if (bprm->interp != bprm->filename)
		e->flags |= CW_F_SCRIPT;
}

/* The parent chain, nearest first, up to CW_ANCESTORS or the host's init.
 * Direct BTF loads, as for the hot path: a probe-read helper per field would
 * cost ~25 ns each, 20 of them per record. */
static __always_inline void put_ancestors(struct cw_event *e, struct task_struct *task)
{
	struct task_struct *t = task->real_parent;
	__u8 n = 0;

	for (int i = 0; i < CW_ANCESTORS; i++) {
		__u32 tgid;

		if (!t)
			break;
		tgid = t->tgid;
		if (!tgid)
			break;
		e->anc[i].tgid = tgid;
		e->anc[i].start_ns = t->start_boottime;
		__builtin_memcpy(e->anc[i].comm, t->comm, sizeof(e->anc[i].comm));
		n++;
		if (tgid == 1)
			break;
		t = t->real_parent;
	}
	e->n_ancestors = n;
}

/* Credentials and confinement of the new program (after the exec committed
 * them): capabilities, effective ids, seccomp mode, no_new_privs. */
static __always_inline void put_creds(struct cw_event *e, struct task_struct *task)
{
	const struct cred *c = task->cred;

	e->cap_effective = ((__u64)c->cap_effective.val);
	e->cap_permitted = ((__u64)c->cap_permitted.val);
	e->cap_bounding = ((__u64)c->cap_bset.val);
	e->euid = c->euid.val;
	e->egid = c->egid.val;
	e->seccomp_mode = (__u8)task->seccomp.mode;
	e->no_new_privs = task->atomic_flags & 1; /* PFA_NO_NEW_PRIVS */
	e->ipcns = task->nsproxy->ipc_ns->ns.inum;
	e->utsns = task->nsproxy->uts_ns->ns.inum;
	e->flags |= CW_F_CREDS;
}

/* Who runs it: namespaces, ids, time, comm. */
static __always_inline void put_ids(struct cw_event *e, struct task_struct *task, struct pid *tp,
                                    unsigned int level)
{
	if (!e->pidns)
		e->pidns = BPF_CORE_READ(tp, numbers[level & 31].ns, ns.inum);
	e->netns = task->nsproxy->net_ns->ns.inum;
	e->cgroupns = task->nsproxy->cgroup_ns->ns.inum;
	e->userns = task->cred->user_ns->ns.inum;
	e->type = CW_EV_EXEC;
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = task->pid;
	e->tgid = task->tgid;
	e->ppid = task->real_parent->tgid;
	e->uid = task->cred->uid.val;
	e->gid = task->cred->gid.val;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	put_creds(e, task);
	put_ancestors(e, task);
}

/* The variable sections: path, cgroup, filename, argv, and the environment
 * (CW_F_ENV, env.bpf.h). Returns the bytes of data[] used, 0 if a bound does
 * not hold (the record is dropped). */
static __always_inline __u32 put_sections(struct cw_event *e, struct task_struct *task,
                                          struct linux_binprm *bprm, struct file *file)
{
	unsigned long as, ae, alen;
	struct mm_struct *mm;
	__u32 off, n32;
	long n;

	off = forget(&e->path_len, put_path(e, task, file));
	if (off > CW_PATH_MAX)
		return 0;
	e->path_len = off;
	n32 = forget(&e->cgroup_len, put_cgroup(e, task, off));
	if (n32 > CW_CGROUP_MAX)
		return 0;
	e->cgroup_len = n32;
	off += n32;
	if (off > CW_PATH_MAX + CW_CGROUP_MAX)
		return 0;
	n = bpf_probe_read_kernel_str(&e->data[off], CW_FNAME_MAX, bprm->filename);
	if (n < 0)
		n = 0;
	if (n == CW_FNAME_MAX)
		e->flags |= CW_F_FNAME_TRUNC;
	if (n > 0) /* stored without the NUL; user space terminates */
		n--;
	off = forget(&e->fname_len, off + n);
	e->fname_len = n;
	mm = BPF_CORE_READ(task, mm);
	as = BPF_CORE_READ(mm, arg_start);
	ae = BPF_CORE_READ(mm, arg_end);
	alen = ae > as ? ae - as : 0;
	if (alen > CW_ARGV_MAX) {
		alen = CW_ARGV_MAX;
		e->flags |= CW_F_ARGV_TRUNC;
	}
	if (off > CW_PATH_MAX + CW_CGROUP_MAX + CW_FNAME_MAX)
		return 0;
	if (alen > 0 && bpf_probe_read_user(&e->data[off], alen, (void *)as) < 0)
		alen = 0;
	e->argv_len = alen;
	off = forget(&e->env_len, off + alen);
	e->env_len = 0;
	if (e->flags & CW_F_ENV)
		e->env_len = put_env(e, task, off);
	return off + e->env_len;
}

/* Flags 0: the kernel wakes the reader only when this record is the first
 * one it has not consumed (empty -> non-empty); the reader then batches for
 * 2 ms before waiting again, so a storm costs at most ~500 wake-ups/s and an
 * idle node none. Force a wake-up once wakeup_bytes are pending. */
static __always_inline bool submit(struct cw_event *e, __u64 size, bool now)
{
	if (bpf_ringbuf_output(&events, e, size,
	                       now || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
	                           ? BPF_RB_FORCE_WAKEUP
	                           : 0)) {
		count(CW_CNT_LOST);
		return false;
	}
	count(CW_CNT_SUBMITTED);
	return true;
}

/* --block: hold this exec (hold.bpf.h) if the agent must judge it before it
 * runs. Called with the record complete but not sent; sends it. */
static __always_inline void submit_held(struct cw_event *e, __u64 size, struct task_struct *task)
{
	__u32 tgid = task->tgid;

	if (!hold_enter(e, task, e->hold)) {
		count(CW_CNT_HOLD_FAILED);
		e->hold = CW_HOLD_NONE;
		submit(e, size, false);
		return;
	}
	if (!submit(e, size, true)) {
		bpf_map_delete_elem(&held, &tgid);
		count(CW_CNT_HOLD_FAILED);
		return;
	}
	bpf_send_signal(CW_SIGSTOP);
	bpf_ringbuf_output(&held_wake, &tgid, sizeof(tgid), BPF_RB_FORCE_WAKEUP);
	count(CW_CNT_HELD);
}

/* Is the new program's argument area CW_ARGV_LONG bytes or more? Direct
 * BTF loads. */
static __always_inline bool long_argv(struct task_struct *task)
{
	struct mm_struct *mm = task->mm;

	return mm && mm->arg_end - mm->arg_start >= CW_ARGV_LONG;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(cw_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	__u32 zero = 0, off;
	const struct cw_interp *ip = NULL;
	struct cw_event *e;
	struct pid *tp;
	unsigned int level;
	__u64 size;

	count(CW_CNT_SEEN);
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	/* Hot path: most execs are dropped below (host, known clean), so until
	 * then read only what decides that, by direct BTF loads (tp_btf pointers
	 * are trusted; a load costs an instruction where a probe read costs a
	 * helper call). The pid namespace needs a variable array index, which only
	 * a probe read allows, so it is read when the mount namespace says host. */
	e->flags = 0;
	e->mntns = task->nsproxy->mnt_ns->ns.inum;
	tp = task->thread_pid;
	level = tp->level;
	e->pidns = 0;
	if (e->mntns == host_mntns) {
		e->pidns = BPF_CORE_READ(tp, numbers[level & 31].ns, ns.inum);
		if (e->pidns == host_pidns) {
			if (containers_only) {
				count(CW_CNT_FILTERED);
				return 0;
			}
			e->flags |= CW_F_HOST_NS;
		}
	}
	put_file_ids(e, bprm, bprm->file);
	e->hold = CW_HOLD_NONE;
	if (hold_enabled && e->mntns != host_mntns)
		e->hold = hold_first(task, bprm, &ip);
	put_stdio(e, task);
	env_scan(e, task);
	if (!e->hold && !ip && !e->stdio_inet && !(e->flags & CW_F_ENV) && !long_argv(task) &&
	    !(e->flags & (CW_F_SCRIPT | CW_F_MEMFD | CW_F_DELETED)) &&
	    known_clean_exec(e, bprm, bprm->file)) {
		count(CW_CNT_CLEAN);
		return 0;
	}
	/* This exec goes to user space: the rest of the record. */
	put_ids(e, task, tp, level);
	env_named(e, task);
	put_layer(e, bprm->file);
	e->ns_init_start_ns = ns_init_start(tp, level);
	off = put_sections(e, task, bprm, bprm->file);
	if (!off)
		return 0;
	size = offsetof(struct cw_event, data) + off;
	if (size > sizeof(*e))
		return 0;
	if (hold_enabled && !e->hold && e->mntns != host_mntns) {
		__u32 argoff = e->path_len + e->cgroup_len + e->fname_len;

		if (!ip)
			ip = interp_argv0(e, argoff);
		if (ip)
			e->hold = hold_script(e, argoff, task, ip);
	}
	if (e->hold)
		submit_held(e, size, task);
	else
		submit(e, size, false);
	return 0;
}
