// SPDX-License-Identifier: GPL-2.0
/* guard.bpf.c - kernel side of self-protection: attempts on the agent itself.
 *
 * Syscall-entry tracepoints record, before the kernel acts on them, signals
 * sent to the agent (kill, tkill, tgkill, pidfd_send_signal), ptrace and
 * process_vm_readv/writev of it, and bpf() commands that take a descriptor of
 * one of its programs, maps or links (GET_FD_BY_ID) or detach/replace one of
 * its links. Records use the technique record layout (technique_event.h) with
 * CW_TQF_AGENT set, so user space evaluates them with the technique rules.
 *
 * The agent pins these programs, their ring buffer and the maps below in
 * bpffs: when the agent is killed, the records of the attempt wait in the ring
 * buffer, so the next agent reports the attempt; with the heartbeat the agent
 * writes into guard_state (the kernel side never reads it) it also reports the
 * gap: how long no agent ran, and how many processes the kernel started
 * meanwhile (its own fork counter: no BPF program has to run on every exec).
 *
 * A flood cannot crowd out the attempt that matters: repeats of one attempt
 * (same caller, syscall and arguments) within FOLD_NS of its last record are
 * only counted, and once the ring buffer is half full only attempts that can
 * stop the agent (a signal with a harmful default, ptrace, process_vm_writev,
 * detaching or replacing a link) still go in; the rest are counted as shed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "technique_event.h"
#include "guard_event.h"
#include "common.bpf.h"
#include "caller.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 agent_tgid = 0;  /* the agent, as the host sees it */
const volatile __u32 agent_pidns = 0; /* its pid namespace */
const volatile __u32 agent_pgid = 0;  /* its process group (kill(-pgid) reaches it) */
const volatile __u32 host_pidns = 0;
const volatile __u32 host_mntns = 0;

#define PTRACE_TRACEME            0
#define BPF_CMD_PROG_GET_FD_BY_ID 13
#define BPF_CMD_MAP_GET_FD_BY_ID  14
#define BPF_CMD_LINK_UPDATE       29
#define BPF_CMD_LINK_GET_FD_BY_ID 30
#define BPF_CMD_LINK_DETACH       34
#define FOLD_NS                   1000000000ull /* one record per attempt per second */
#define GUARD_RING_BYTES          (1 << 18)

/* One attempt, as folding tells repeats apart. */
struct fold_key {
	__u32 tgid; /* the caller */
	__u32 sys;  /* CW_TQS_* */
	__u64 a0;   /* signal, ptrace request or bpf command */
	__u64 a1;   /* pid, tid, pidfd or object id */
};

/** @brief Attempts on the agent, to user space (pinned: survives the agent). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, GUARD_RING_BYTES);
} guard_events SEC(".maps");

/** @brief Per-CPU counters indexed by enum cw_guard_counter (pinned). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CW_GC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} guard_counts SEC(".maps");

/** @brief The agent's heartbeat (struct cw_guard_state), written by user space (pinned). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cw_guard_state);
} guard_state SEC(".maps");

/** @brief The agent's thread ids (tkill/tgkill targets), filled by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} guard_tids SEC(".maps");

/** @brief Ids of the agent's BPF objects: key (type << 32 | id), CW_GO_* types. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u64);
	__type(value, __u8);
} guard_ids SEC(".maps");

/** @brief When each recent attempt was last sent (not pinned: per agent). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct fold_key);
	__type(value, __u64);
} guard_recent SEC(".maps");

/** @brief Per-CPU scratch where a record is assembled. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct caller_scratch);
} guard_scratch SEC(".maps");

static __always_inline void gcount(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&guard_counts, &idx);

	if (v)
		*v += 1;
}

/* A pid as the caller names it reaches the agent only from the agent's own
 * pid namespace (a hostPID container, or the host): its pid, every process
 * (-1), or its process group (-pgid). */
static __always_inline bool names_agent(struct task_struct *task, long pid)
{
	return task_pidns(task) == agent_pidns &&
	       (pid == agent_tgid || pid == -1 || (agent_pgid > 1 && pid == -(long)agent_pgid));
}

static __always_inline bool is_agent_tid(long tid)
{
	__u32 k = tid;

	return tid > 0 && bpf_map_lookup_elem(&guard_tids, &k);
}

/* Could this attempt stop or blind the agent? Those keep the ring's second half. */
static __always_inline bool can_stop_agent(__u32 sys, __u64 a0)
{
	switch (sys) {
	case CW_TQS_KILL:
	case CW_TQS_TKILL:
	case CW_TQS_TGKILL:
	case CW_TQS_PIDFD_SIGNAL:
		return !cw_guard_harmless_signal(a0);
	case CW_TQS_PTRACE:
	case CW_TQS_VM_WRITEV:
		return true;
	case CW_TQS_BPF:
		return a0 == BPF_CMD_LINK_DETACH || a0 == BPF_CMD_LINK_UPDATE;
	}
	return false;
}

/* Should this attempt go unsent? Repeats within FOLD_NS of the same
 * attempt's last record are folded; with the ring half full, attempts that
 * cannot stop the agent are shed. Either way counted. */
static __always_inline bool hold_back(struct task_struct *task, __u32 sys, __u64 a0, __u64 a1,
                                      bool host)
{
	struct fold_key k = {.tgid = task->tgid, .sys = sys, .a0 = a0, .a1 = a1};
	__u64 now = bpf_ktime_get_ns(), *last = bpf_map_lookup_elem(&guard_recent, &k);

	if (last && now - *last < FOLD_NS) {
		gcount(host ? CW_GC_FOLDED_HOST : CW_GC_FOLDED);
		return true;
	}
	if (!can_stop_agent(sys, a0) &&
	    bpf_ringbuf_query(&guard_events, BPF_RB_AVAIL_DATA) > GUARD_RING_BYTES / 2) {
		gcount(CW_GC_SHED);
		return true;
	}
	bpf_map_update_elem(&guard_recent, &k, &now, BPF_ANY);
	return false;
}

/* Send a record of kind sys with its arguments; the caller is filled in here. */
static __always_inline int report(struct task_struct *task, __u32 sys, long id, __u64 a0, __u64 a1,
                                  __u64 a2)
{
	struct cw_tq_event *e;
	__u32 zero = 0, pidns = task_pidns(task);
	__u32 mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	bool host = pidns == host_pidns && mntns == host_mntns;

	if (hold_back(task, sys, a0, a1, host))
		return 0;
	e = bpf_map_lookup_elem(&guard_scratch, &zero);
	if (!e)
		return 0;
	e->sys = sys;
	e->pidns = pidns;
	e->mntns = mntns;
	e->flags = CW_TQF_AGENT;
	if (host)
		e->flags |= CW_TQF_HOST_NS;
	e->syscall_nr = id;
	e->ret = 0;
	e->arg[0] = a0;
	e->arg[1] = a1;
	e->arg[2] = a2;
	e->arg[3] = 0;
	e->f_ino = 0;
	e->f_magic = e->f_mode = e->f_dev = e->f_mntns = e->f_rdev = 0;
	e->target_pid = agent_tgid;
	e->s1[0] = e->s2[0] = e->fstype[0] = e->data[0] = e->fname[0] = 0;
	e->cgroup_len = e->args_len = 0;
	put_caller(e, task);
	if (bpf_ringbuf_output(&guard_events, e, sizeof(*e), BPF_RB_FORCE_WAKEUP)) {
		gcount(CW_GC_LOST);
		return 0;
	}
	gcount(CW_GC_SUBMITTED);
	return 0;
}

/* The caller, unless it is the agent itself. */
static __always_inline struct task_struct *other_caller(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (task->tgid == agent_tgid)
		return NULL;
	return task;
}

SEC("tp/syscalls/sys_enter_kill")
int gd_kill(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = other_caller();
	long pid = (long)(int)ctx->args[0], sig = ctx->args[1];

	if (task && sig && names_agent(task, pid))
		report(task, CW_TQS_KILL, ctx->id, sig, pid, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_tkill")
int gd_tkill(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = other_caller();
	long tid = (long)(int)ctx->args[0], sig = ctx->args[1];

	if (task && sig && task_pidns(task) == agent_pidns && is_agent_tid(tid))
		report(task, CW_TQS_TKILL, ctx->id, sig, tid, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_tgkill")
int gd_tgkill(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = other_caller();
	long tgid = (long)(int)ctx->args[0], tid = (long)(int)ctx->args[1], sig = ctx->args[2];

	if (task && sig && task_pidns(task) == agent_pidns && tgid == agent_tgid)
		report(task, CW_TQS_TGKILL, ctx->id, sig, tgid, tid);
	return 0;
}

/* The pidfd's process, as the host numbers it (0: not a pidfd). */
static __always_inline long pidfd_target(struct task_struct *task, long fd)
{
	struct file *f = fd_file(task, fd);
	struct pid *p;

	if (!f || BPF_CORE_READ(f, f_inode, i_sb, s_magic) != PID_FS_MAGIC)
		return 0;
	p = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(p, numbers[0].nr);
}

SEC("tp/syscalls/sys_enter_pidfd_send_signal")
int gd_pidfd_signal(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = other_caller();
	long fd = (long)(int)ctx->args[0], sig = ctx->args[1];

	if (task && sig && pidfd_target(task, fd) == agent_tgid)
		report(task, CW_TQS_PIDFD_SIGNAL, ctx->id, sig, fd, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_ptrace")
int gd_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = other_caller();
	long req = ctx->args[0], pid = (long)(int)ctx->args[1];

	if (task && req != PTRACE_TRACEME && task_pidns(task) == agent_pidns &&
	    (pid == agent_tgid || is_agent_tid(pid)))
		report(task, CW_TQS_PTRACE, ctx->id, req, pid, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_process_vm_writev")
int gd_vm_writev(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = other_caller();
	long pid = (long)(int)ctx->args[0];

	if (task && task_pidns(task) == agent_pidns && pid == agent_tgid)
		report(task, CW_TQS_VM_WRITEV, ctx->id, 0, pid, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_process_vm_readv")
int gd_vm_readv(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = other_caller();
	long pid = (long)(int)ctx->args[0];

	if (task && task_pidns(task) == agent_pidns && pid == agent_tgid)
		report(task, CW_TQS_VM_READV, ctx->id, 0, pid, 0);
	return 0;
}

static __always_inline bool agent_object(__u32 type, __u32 id)
{
	__u64 k = ((__u64)type << 32) | id;

	return id && bpf_map_lookup_elem(&guard_ids, &k);
}

/* The id of the BPF link behind fd, 0 if none can be read. Only ids the agent
 * registered count, so a descriptor of another kind cannot pass for one. */
static __always_inline __u32 link_id(struct task_struct *task, long fd)
{
	struct file *f = fd_file(task, fd);
	struct bpf_link *l;

	if (!f)
		return 0;
	l = BPF_CORE_READ(f, private_data);
	return l ? BPF_CORE_READ(l, id) : 0;
}

SEC("tp/syscalls/sys_enter_bpf")
int gd_bpf(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = other_caller();
	long cmd = ctx->args[0];
	__u32 first = 0, type = 0, id;

	if (!task)
		return 0;
	switch (cmd) {
	case BPF_CMD_PROG_GET_FD_BY_ID:
		type = CW_GO_PROG;
		break;
	case BPF_CMD_MAP_GET_FD_BY_ID:
		type = CW_GO_MAP;
		break;
	case BPF_CMD_LINK_GET_FD_BY_ID:
		type = CW_GO_LINK;
		break;
	case BPF_CMD_LINK_DETACH:
	case BPF_CMD_LINK_UPDATE:
		type = CW_GO_LINK;
		break;
	default:
		return 0;
	}
	/* the first word of union bpf_attr: the id, or the link's descriptor */
	if (bpf_probe_read_user(&first, sizeof(first), (void *)ctx->args[1]))
		return 0;
	id = (cmd == BPF_CMD_LINK_DETACH || cmd == BPF_CMD_LINK_UPDATE) ? link_id(task, first)
	                                                                : first;
	if (agent_object(type, id))
		report(task, CW_TQS_BPF, ctx->id, cmd, id, type);
	return 0;
}
