/* hold.bpf.h - `--block`'s hold, decided in the exec program (exec.bpf.c).
 *
 * fanotify refuses an exec only from a mount the agent has marked. What no
 * mark can cover yet is held here instead: the exec of a file on a mount the
 * agent has not marked (a new container's entrypoint, a mount made since the
 * last walk, a memfd, a file passed in from another namespace), and an
 * interpreter about to read a script (an operand, or a pipe or file on stdin),
 * whose exec fanotify sees but whose script it does not. The new program gets
 * SIGSTOP from this tracepoint, delivered before its first instruction; the
 * held map records it, the record goes to the agent at once, and the agent
 * (or, when the agent cannot answer in time or is gone, its guardian) lets
 * it go or kills it. Host processes (the host's mount namespace) are never
 * held.
 */
#ifndef CW_HOLD_BPF_H
#define CW_HOLD_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "event.h"

#define CW_SIGSTOP  19
#define CW_ARGSCAN  1024 /* argv bytes looked at for a script operand */
#define CW_ARGS_MAX 8    /* arguments looked at */

const volatile bool hold_enabled = false; /* --block */

/** @brief Mounts the agent has marked (or that need no mark): see event.h. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cw_mnt_key);
	__type(value, __u8);
} marked_mnt SEC(".maps");

/** @brief Held processes by tgid; deleted by whoever lets them go. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct cw_held_rec);
} held SEC(".maps");

/** @brief One word per hold, with a forced wake-up: the reader gathers exec
 * records for 2 ms between drains, and this ring breaks that wait. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} held_wake SEC(".maps");

/** @brief Interpreters by comm (the basename execve was given), from the
 * agent's list. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, char[CW_COMM_LEN]);
	__type(value, struct cw_interp);
} interp SEC(".maps");

/* The vfsmount's ids, older kernels without the unique one. */
struct mount___old {
	int mnt_id;
} __attribute__((preserve_access_index));

/* f is a trusted pointer (the tracepoint's bprm): loaded directly; the
 * mount around its vfsmount is read with one probe read. */
static __always_inline __u64 mount_id(struct file *f)
{
	struct vfsmount *vm = f->f_path.mnt;
	struct mount *m = container_of(vm, struct mount, mnt);

	if (bpf_core_field_exists(m->mnt_id_unique))
		return BPF_CORE_READ(m, mnt_id_unique);
	return (__u64)BPF_CORE_READ((struct mount___old *)m, mnt_id);
}

static __always_inline bool mount_marked(struct file *f)
{
	struct cw_mnt_key k = {.id = f ? mount_id(f) : 0};

	return bpf_map_lookup_elem(&marked_mnt, &k) != NULL;
}

/* Before the record is built: CW_HOLD_MOUNT, or the interpreter's entry
 * (*ip) when it may read a script (decided by hold_script once argv is
 * copied), or nothing. */
static __always_inline __u32 hold_first(struct task_struct *task, struct linux_binprm *bprm,
                                        const struct cw_interp **ip)
{
	struct file *exe = bprm->executable;
	char comm[CW_COMM_LEN];

	*ip = NULL;
	if (!mount_marked(bprm->file) || (exe && exe != bprm->file && !mount_marked(exe)))
		return CW_HOLD_MOUNT;
	__builtin_memcpy(comm, task->comm, sizeof(comm));
	*ip = bpf_map_lookup_elem(&interp, comm);
	return CW_HOLD_NONE;
}

static __always_inline bool inline_opt(const char opts[8], char c)
{
	for (int k = 0; k < 8; k++) {
		if (!opts[k])
			return false;
		if (opts[k] == c)
			return true;
	}
	return false;
}

/* fd 0 of the task is a pipe or a regular file: a program may come from it. */
static __always_inline bool stdin_readable(struct task_struct *task)
{
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	struct file *f0 = NULL;
	umode_t mode;

	if (!fds || bpf_core_read(&f0, sizeof(f0), &fds[0]) || !f0)
		return false;
	mode = BPF_CORE_READ(f0, f_inode, i_mode) & 0170000;
	return mode == 0010000 || mode == 0100000;
}

/* The argv scan's state, one byte per bpf_loop step (the verifier sees the
 * step once instead of every path through 1024 of them). */
struct argscan {
	__u32 argoff, len, arg;
	__u32 result; /* CW_HOLD_SCRIPT, or 1 + CW_HOLD_STDIN for "inline: none" */
	bool start, opt, longopt;
	char opts[8];
};

#define ARGSCAN_INLINE 0xff

static long argscan_step(__u64 i, void *ctx)
{
	struct argscan *st = ctx;
	__u32 zero = 0;
	struct cw_event *e = bpf_map_lookup_elem(&scratch, &zero);
	char c;

	if (!e || i >= st->len || st->arg > CW_ARGS_MAX)
		return 1;
	c = e->data[(st->argoff + (__u32)i) & 16383];
	if (c == 0) {
		st->start = true;
		st->opt = st->longopt = false;
		st->arg++;
		return 0;
	}
	if (st->start) {
		st->start = false;
		if (st->arg == 0)
			return 0;
		if (c != '-') {
			st->result = CW_HOLD_SCRIPT;
			return 1;
		}
		st->opt = true;
		return 0;
	}
	if (!st->opt || st->longopt)
		return 0;
	if (c == '-') {
		st->longopt = true;
		return 0;
	}
	if (inline_opt(st->opts, c)) {
		st->result = ARGSCAN_INLINE;
		return 1;
	}
	return 0;
}

/* argv[0]'s basename, found one byte per bpf_loop step. */
struct argv0 {
	__u32 argoff, len, base, end;
};

static long argv0_step(__u64 i, void *ctx)
{
	struct argv0 *st = ctx;
	__u32 zero = 0;
	struct cw_event *e = bpf_map_lookup_elem(&scratch, &zero);
	char c;

	if (!e || i >= st->len)
		return 1;
	c = e->data[(st->argoff + (__u32)i) & 16383];
	if (c == '/')
		st->base = (__u32)i + 1;
	if (c == 0) {
		st->end = (__u32)i;
		return 1;
	}
	return 0;
}

/* The interpreter named by argv[0] when comm names none: a multi-call binary
 * runs its applets as /proc/self/exe (comm "exe") with argv[0] "sh". */
static __always_inline const struct cw_interp *interp_argv0(struct cw_event *e, __u32 argoff)
{
	struct argv0 st = {.argoff = argoff, .len = e->argv_len};
	char key[CW_COMM_LEN] = {};

	if (st.len > 256)
		st.len = 256;
	st.end = st.len;
	bpf_loop(256, argv0_step, &st, 0);
	if (st.end <= st.base || st.end - st.base >= CW_COMM_LEN)
		return NULL;
	for (__u32 k = 0; k < CW_COMM_LEN - 1; k++) {
		if (st.base + k >= st.end)
			break;
		key[k] = e->data[(argoff + st.base + k) & 16383];
	}
	return bpf_map_lookup_elem(&interp, key);
}

/* After argv is in e->data at argoff: an interpreter holds for a script
 * operand (the first argument that is no option), none when an option gives
 * the program inline, and for stdin when there are neither and stdin is a
 * pipe or a file. Options are short clusters (`-ex`); long ones (`--norc`)
 * are skipped; an option's value (`-o pipefail`) counts as an operand, which
 * holds at worst once more than needed. */
static __always_inline __u32 hold_script(struct cw_event *e, __u32 argoff, struct task_struct *task,
                                         const struct cw_interp *ip)
{
	struct argscan st = {.argoff = argoff, .len = e->argv_len, .start = true};

	if (st.len > CW_ARGSCAN)
		st.len = CW_ARGSCAN;
	__builtin_memcpy(st.opts, ip->inline_opts, sizeof(st.opts));
	bpf_loop(CW_ARGSCAN, argscan_step, &st, 0);
	if (st.result == CW_HOLD_SCRIPT)
		return CW_HOLD_SCRIPT;
	if (st.result == ARGSCAN_INLINE)
		return CW_HOLD_NONE;
	return stdin_readable(task) ? CW_HOLD_STDIN : CW_HOLD_NONE;
}

/* The held entry, written before the record is sent (the agent may answer at
 * once). Returns whether it was written. */
static __always_inline bool hold_enter(struct cw_event *e, struct task_struct *task, __u32 why)
{
	struct cw_held_rec h = {
	    .start_ns = task->start_boottime,
	    .held_ns = bpf_ktime_get_boot_ns(),
	    .reason = why,
	    .mntns = e->mntns,
	};
	__u32 tgid = task->tgid;

	return bpf_map_update_elem(&held, &tgid, &h, BPF_ANY) == 0;
}

#endif
