// SPDX-License-Identifier: GPL-2.0
/* technique.bpf.c - kernel side of the escape-technique sensor.
 *
 * Two sets of syscall programs; user space loads one (bpf_program__set_autoload):
 *  - per-syscall tracepoints (tp/syscalls/sys_enter_X, sys_exit_X; need tracefs):
 *    BPF code runs only for the watched syscalls, so unrelated syscalls pay
 *    nothing beyond the kernel's syscall-tracepoint check;
 *  - the fallback, raw tp_btf/sys_enter and sys_exit (no tracefs needed): every
 *    syscall of every process runs a program that looks its number up in an array.
 * Either way, only watched syscalls from tasks outside the host's namespaces go
 * further, and only those whose arguments look like an escape step (a write-
 * open of a watched basename or of /dev/..., a block-device mknod, a runtime
 * socket, ...) are recorded: at entry into a per-task pending slot, completed
 * at exit with the result and the file the kernel resolved, then sent.
 *
 * A third program on tp_btf/sched_process_exec reports execs whose parent is a
 * kernel thread: kernel usermode helpers (release_agent, core_pattern pipe,
 * uevent_helper, modprobe), the host-side footprint of several escapes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "technique_event.h"
#include "common.bpf.h"
#include "caller.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 host_pidns = 0;
const volatile __u32 host_mntns = 0;
const volatile bool include_host = false; /* also watch host tasks (tests) */
const volatile __u64 wakeup_bytes = 65536;
const volatile bool stdin_capture = true; /* false: --no-stdin-capture */
/* Interpreters whose stdin is being captured (an upper bound: LRU evictions are
 * not subtracted). While it is 0, every read and every exit costs one load. */
__u32 stdin_armed = 0;

#define O_WRONLY   01
#define O_RDWR     02
#define O_CREAT    0100
#define O_TRUNC    01000
#define S_IFMT     0170000
#define S_IFBLK    0060000
#define S_IFIFO    0010000
#define S_IFREG    0100000
#define S_IFSOCK   0140000
#define AF_UNIX    1
#define AF_INET    2
#define AF_INET6   10
#define PF_KTHREAD 0x00200000

#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSR  6
#define PTRACE_SETREGS  13
#define PTRACE_ATTACH   16
#define PTRACE_SEIZE    0x4206

#define NR_SYSCALLS 1024

/** @brief Technique records and usermode-helper execs to user space. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} tq_events SEC(".maps");

/** @brief Syscall number -> enum cw_tq_sys (0: not watched). Filled by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SYSCALLS);
	__type(key, __u32);
	__type(value, __u32);
} tq_sys SEC(".maps");

/** @brief FNV-1a hashes of watched basenames -> CW_TQN_* bits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} tq_names SEC(".maps");

/** @brief Watched TCP ports (host byte order) for connect(). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u8);
} tq_ports SEC(".maps");

/** @brief Per-CPU scratch where an entry record is assembled. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct caller_scratch);
} tq_scratch SEC(".maps");

/** @brief Per-CPU scratch for usermode-helper exec records. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cw_tq_umh);
} tq_umh_scratch SEC(".maps");

/** @brief Stdin capture of interpreters without a script, by tgid. data is
 * three times the record's so a masked copy at any offset below
 * CW_TQ_STDIN_MAX passes the verifier; only the first CW_TQ_STDIN_MAX bytes
 * are sent. */
struct stdin_state {
	struct cw_tq_stdin rec;
	char spare[2 * CW_TQ_STDIN_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct stdin_state);
} tq_stdin SEC(".maps");

/** @brief Per-CPU scratch to build a stdin state before it is inserted. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stdin_state);
} tq_stdin_scratch SEC(".maps");

/** @brief Records between syscall entry and exit, by pid_tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct cw_tq_event);
} tq_pending SEC(".maps");

/** @brief Per-CPU counters indexed by enum cw_tq_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CW_TQC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tq_counters SEC(".maps");

/** @brief When each recent record was sent, by container and digest (repeats folded). */
struct tq_fold_key {
	__u64 cgroup_id; /* the caller's container (only container tasks are in scope) */
	__u32 sys;
	__u32 pad;
	__u64 digest; /* tq_digest() */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tq_fold_key);
	__type(value, __u64);
} tq_recent SEC(".maps");

#include "send.bpf.h"
#include "lib.bpf.h"

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&tq_counters, &idx);

	if (v)
		*v += 1;
}

/* Is the task one the sensor watches? Fills in its pid and mount ns. */
static __always_inline bool in_scope(struct task_struct *task, __u32 *pidns, __u32 *mntns)
{
	*pidns = task_pidns(task);
	*mntns = task->nsproxy->mnt_ns->ns.inum;
	return include_host || *pidns != host_pidns || *mntns != host_mntns;
}

static __always_inline __u32 sys_kind(long id)
{
	__u32 k = id, *v;

	if (id < 0 || id >= NR_SYSCALLS)
		return 0;
	v = bpf_map_lookup_elem(&tq_sys, &k);
	return v ? *v : 0;
}

/* Does the basename of the path in e->s1 (n bytes with the NUL) name a
 * watched file? Hashes at most CW_TQ_NAME_HASH_MAX bytes after the last '/'
 * among the final 64 bytes. */
static __always_inline bool name_watched(struct cw_tq_event *e, long n)
{
	__u32 len, start = 0, h = CW_TQ_FNV_INIT, *v;
	int i;

	if (n <= 1 || n > CW_TQ_STR)
		return false;
	len = n - 1;
#pragma clang loop unroll(disable)
	for (i = 1; i <= 64; i++) {
		if (i > len)
			break;
		if (e->s1[(len - i) & (CW_TQ_STR - 1)] == '/') {
			start = len - i + 1;
			break;
		}
	}
	if (!start && len > 64)
		return false;
	if (len - start > CW_TQ_NAME_HASH_MAX || len == start)
		return false;
#pragma clang loop unroll(disable)
	for (i = 0; i < CW_TQ_NAME_HASH_MAX; i++) {
		if (start + i >= len)
			break;
		h ^= (__u8)e->s1[(start + i) & (CW_TQ_STR - 1)];
		h *= CW_TQ_FNV_PRIME;
	}
	v = bpf_map_lookup_elem(&tq_names, &h);
	return v && (*v & CW_TQN_WRITE_OPEN);
}

static __always_inline bool is_write(__u64 flags)
{
	return flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC);
}

static __always_inline bool has_prefix(const char *s, const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != p[i])
			return false;
	return true;
}

/* Open family: keep write-opens of watched basenames and of /dev/ paths. */
static __always_inline bool want_open(struct cw_tq_event *e, const char *upath, __u64 flags)
{
	long n;

	e->arg[0] = flags;
	if (!is_write(flags))
		return false;
	n = bpf_probe_read_user_str(e->s1, CW_TQ_STR, upath);
	if (n <= 0)
		return false;
	if (n >= CW_TQ_STR)
		e->flags |= CW_TQF_PATH_TRUNC;
	if (has_prefix(e->s1, "/dev/", 5))
		e->flags |= CW_TQF_DEV_PATH;
	if (name_watched(e, n))
		e->flags |= CW_TQF_NAME_MATCH;
	return e->flags & (CW_TQF_DEV_PATH | CW_TQF_NAME_MATCH);
}

static __always_inline bool want_connect(struct cw_tq_event *e, const void *uaddr, __u64 alen)
{
	__u16 family = 0, port;
	long n;

	if (!uaddr || bpf_probe_read_user(&family, sizeof(family), uaddr))
		return false;
	e->arg[0] = family;
	e->arg[1] = alen;
	if (family == AF_UNIX) {
		char first = 0;

		if (bpf_probe_read_user(&first, 1, uaddr + 2))
			return false;
		if (first == 0) {
			/* Abstract name: NUL then bytes up to addrlen. */
			e->flags |= CW_TQF_ABSTRACT;
			if (alen < 4 || alen > 110)
				return false;
			if (bpf_probe_read_user(e->s1, (alen - 3) & 127, uaddr + 3))
				return false;
			e->s1[(alen - 3) & 127] = 0;
			n = alen - 2;
		} else {
			n = bpf_probe_read_user_str(e->s1, 109, uaddr + 2);
		}
		if (n < 7)
			return false;
		/* Runtime sockets end in ".sock" or ".ttrpc"; user space decides. */
		if (has_prefix(&e->s1[(n - 6) & 127], ".sock", 5) ||
		    has_prefix(&e->s1[(n - 7) & 127], ".ttrpc", 6))
			return true;
		return false;
	}
	if (family != AF_INET && family != AF_INET6)
		return false;
	if (bpf_probe_read_user(&port, sizeof(port), uaddr + 2))
		return false;
	port = __builtin_bswap16(port);
	e->arg[2] = port;
	if (!bpf_map_lookup_elem(&tq_ports, &port))
		return false;
	bpf_probe_read_user(e->data, 28, uaddr);
	return true;
}

static __always_inline bool want_ptrace(__u64 req)
{
	return req == PTRACE_ATTACH || req == PTRACE_SEIZE || req == PTRACE_POKETEXT ||
	       req == PTRACE_POKEDATA || req == PTRACE_POKEUSR || req == PTRACE_SETREGS;
}

/* Does this open, mount or mknod look like an escape step? Records its
 * arguments. kind is a constant in each per-syscall program, so only its own
 * case remains. */
static __always_inline bool want_fs(struct cw_tq_event *e, __u32 kind, __u64 a0, __u64 a1, __u64 a2,
                                    __u64 a3, __u64 a4)
{
	bool keep = false;

	switch (kind) {
	case CW_TQS_OPEN:
		keep = want_open(e, (const char *)a0, a1);
		e->arg[1] = a2;
		break;
	case CW_TQS_CREAT:
		keep = want_open(e, (const char *)a0, O_CREAT | O_WRONLY | O_TRUNC);
		e->arg[1] = a1;
		break;
	case CW_TQS_OPENAT:
		keep = want_open(e, (const char *)a1, a2);
		e->arg[1] = a3;
		e->arg[2] = a0;
		break;
	case CW_TQS_OPENAT2: {
		__u64 fl = 0;

		if (bpf_probe_read_user(&fl, sizeof(fl), (void *)a2) == 0)
			keep = want_open(e, (const char *)a1, fl);
		e->arg[2] = a0;
		break;
	}
	case CW_TQS_MOUNT:
		bpf_probe_read_user_str(e->s1, CW_TQ_STR, (void *)a0);
		bpf_probe_read_user_str(e->s2, CW_TQ_STR, (void *)a1);
		bpf_probe_read_user_str(e->fstype, CW_TQ_FSTYPE, (void *)a2);
		e->arg[0] = a3;
		if (a4)
			bpf_probe_read_user_str(e->data, CW_TQ_DATA, (void *)a4);
		keep = true;
		break;
	case CW_TQS_FSOPEN:
		bpf_probe_read_user_str(e->fstype, CW_TQ_FSTYPE, (void *)a0);
		e->arg[0] = a1;
		keep = true;
		break;
	case CW_TQS_MKNOD:
	case CW_TQS_MKNODAT: {
		__u64 mode = kind == CW_TQS_MKNOD ? a1 : a2;

		e->arg[0] = mode;
		e->arg[1] = kind == CW_TQS_MKNOD ? a2 : a3;
		e->arg[2] = kind == CW_TQS_MKNOD ? (__u64)-100 : a0;
		keep = (mode & S_IFMT) == S_IFBLK;
		if (keep)
			bpf_probe_read_user_str(e->s1, CW_TQ_STR,
			                        (void *)(kind == CW_TQS_MKNOD ? a0 : a1));
		break;
	}
	default:
		break;
	}
	return keep;
}

/* The same for namespaces, modules, sockets, tracing and directories. */
static __always_inline bool want_other(struct cw_tq_event *e, struct task_struct *task, __u32 kind,
                                       __u32 mntns, __u64 a0, __u64 a1, __u64 a2)
{
	struct file *f;
	bool keep = false;

	switch (kind) {
	case CW_TQS_SETNS:
		e->arg[0] = a0;
		e->arg[1] = a1;
		f = fd_file(task, (long)(int)a0);
		put_file(e, f);
		keep = true;
		break;
	case CW_TQS_INIT_MODULE:
		e->arg[0] = a1;
		bpf_probe_read_user_str(e->s1, CW_TQ_STR, (void *)a2);
		keep = true;
		break;
	case CW_TQS_FINIT_MODULE:
		e->arg[0] = a0;
		e->arg[1] = a2;
		put_file(e, fd_file(task, (long)(int)a0));
		bpf_probe_read_user_str(e->s1, CW_TQ_STR, (void *)a1);
		keep = true;
		break;
	case CW_TQS_CONNECT:
		keep = want_connect(e, (const void *)a1, a2);
		e->arg[3] = a0;
		send_arm(task, a0, e->arg[0]);
		break;
	case CW_TQS_WRITE:
	case CW_TQS_SENDTO:
	case CW_TQS_WRITEV:
	case CW_TQS_SENDMSG:
		keep = want_send(e, task, kind, a0, a1, a2);
		break;
	case CW_TQS_PTRACE:
		e->arg[0] = a0;
		e->arg[1] = a1;
		keep = want_ptrace(a0);
		break;
	case CW_TQS_VM_WRITEV:
		e->arg[1] = a0;
		keep = true;
		break;
	case CW_TQS_CHDIR:
		if (bpf_probe_read_user_str(e->s1, CW_TQ_STR, (void *)a0) > 6)
			keep = has_prefix(e->s1, "/proc/", 6);
		break;
	case CW_TQS_FCHDIR:
		/* A directory on a mount outside the caller's mount namespace:
		 * a leaked host fd (CVE-2024-21626). */
		e->arg[0] = a0;
		f = fd_file(task, (long)(int)a0);
		if (f) {
			put_file(e, f);
			keep = e->f_mntns && e->f_mntns != mntns;
		}
		break;
	case CW_TQS_OPEN_BY_HANDLE:
		e->arg[0] = a0;
		e->arg[1] = a2;
		keep = true;
		break;
	default:
		break;
	}
	return keep;
}

/* A watched syscall's entry: kind is enum cw_tq_sys (a constant in the
 * per-syscall programs, so each keeps only its own case), a0..a4 its arguments. */
static __always_inline int tq_enter(__u32 kind, long id, __u64 a0, __u64 a1, __u64 a2, __u64 a3,
                                    __u64 a4)
{
	struct task_struct *task;
	struct cw_tq_event *e;
	__u32 zero = 0, pidns, mntns;
	__u64 key;
	bool keep = false;

	task = (struct task_struct *)bpf_get_current_task_btf();
	if (!in_scope(task, &pidns, &mntns))
		return 0;
	/* a send matters only as the first on a connection (send.bpf.h) */
	if (kind >= CW_TQS_WRITE && kind <= CW_TQS_SENDMSG && !send_take(fd_sock(task, a0)))
		return 0;
	count(CW_TQC_SEEN);
	e = bpf_map_lookup_elem(&tq_scratch, &zero);
	if (!e)
		return 0;
	e->sys = kind;
	e->flags = (pidns == host_pidns && mntns == host_mntns) ? CW_TQF_HOST_NS : 0;
	e->syscall_nr = id;
	e->pidns = pidns;
	e->mntns = mntns;
	e->ret = 0;
	e->arg[0] = e->arg[1] = e->arg[2] = e->arg[3] = 0;
	e->f_ino = 0;
	e->f_magic = e->f_mode = e->f_dev = e->f_mntns = e->f_rdev = e->target_pid = 0;
	e->s1[0] = e->s2[0] = e->fstype[0] = e->data[0] = e->fname[0] = 0;
	e->cgroup_len = e->args_len = 0;
	e->s1_len = 0;

	if (kind <= CW_TQS_MKNODAT)
		keep = want_fs(e, kind, a0, a1, a2, a3, a4);
	else if (kind == CW_TQS_MMAP)
		keep = want_lib(e, task, a2, a3, a4);
	else if (kind == CW_TQS_TCP_SEND)
		keep = want_tcp_send(e, (struct sock *)a0, (struct msghdr *)a1);
	else
		keep = want_other(e, task, kind, mntns, a0, a1, a2);
	if (!keep) {
		count(CW_TQC_FILTERED);
		return 0;
	}
	put_caller(e, task);
	key = bpf_get_current_pid_tgid();
	return bpf_map_update_elem(&tq_pending, &key, e, BPF_ANY) == 0;
}

#define TQ_FOLD_NS 1000000000ull /* a repeated attempt: one record per second */
#define TQ_MIX     0x100000001b3ull

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static __always_inline __u64 mix(__u64 h, __u64 v)
{
	return (h ^ v) * TQ_MIX;
}

/* Mix a string field's words up to its first NUL byte: what follows it is a
 * per-CPU scratch buffer's leftover from an earlier record, and would make
 * one attempt's repeats differ. */
static __always_inline __u64 mix_str(__u64 h, const char *s, int nwords)
{
	const __u64 *w = (const __u64 *)s;

	for (int i = 0; i < nwords; i++) {
		__u64 v = w[i], z = (v - ONES) & ~v & HIGHS; /* lowest set: the first NUL */

		if (z)
			return mix(h, v & (((z & -z) >> 7) - 1));
		h = mix(h, v);
	}
	return h;
}

/* Mix the first len bytes of a binary field (len < 8 * nwords). */
static __always_inline __u64 mix_bytes(__u64 h, const char *s, __u32 len, int nwords)
{
	const __u64 *w = (const __u64 *)s;

	for (int i = 0; i < nwords; i++) {
		__u32 at = i * 8;

		if (at >= len)
			break;
		h = mix(h, len - at >= 8 ? w[i] : w[i] & ((1ull << ((len - at) * 8)) - 1));
	}
	return h;
}

/* A digest of what a rule or a finding reads from a record, except its time
 * and the caller's ids: result, arguments, file, target, the caller's program
 * and argv, and the strings (each up to its end). */
static __always_inline __u64 tq_digest(const struct cw_tq_event *p)
{
	__u16 family = *(const __u16 *)p->data;
	__u64 h = mix(p->ret * TQ_MIX, p->arg[0]);

	h = mix(mix(mix(h, p->arg[1]), p->arg[2]), p->arg[3]);
	h = mix(mix(h, p->f_ino), (__u64)p->f_dev << 32 | p->f_mode);
	h = mix(mix(h, (__u64)p->f_magic << 32 | p->f_rdev),
	        (__u64)p->target_pid << 32 | p->syscall_nr);
	h = mix_str(mix_str(mix_str(h, p->comm, 2), p->exe, 8), p->fname, 8);
	h = mix_str(mix_str(mix_str(h, p->s1, 32), p->s2, 32), p->fstype, 4);
	if (p->sys == CW_TQS_MOUNT)
		h = mix_str(h, p->data, 16); /* mount options */
	else /* a raw sockaddr: inet's 8 meaningful bytes, inet6's 24 */
		h = mix_bytes(h, p->data, family == 2 ? 8 : family == 10 ? 24 : 2, 4);
	return mix_bytes(h, p->args, p->args_len < CW_TQ_ARGS ? p->args_len : CW_TQ_ARGS, 32);
}

/* Is this record a repeat of one the same container sent less than
 * TQ_FOLD_NS ago (same program and arguments, same syscall, arguments, file
 * and result)? Then it is only counted: a container repeating one attempt in
 * a loop, in one process or a new one each time, cannot fill the ring buffer
 * and push out its next, different attempt. */
static __always_inline bool tq_fold(const struct cw_tq_event *p)
{
	struct tq_fold_key k = {.cgroup_id = p->cgroup_id, .sys = p->sys, .digest = tq_digest(p)};
	__u64 now = bpf_ktime_get_ns(), *last = bpf_map_lookup_elem(&tq_recent, &k);

	if (last && now - *last < TQ_FOLD_NS) {
		count(CW_TQC_FOLDED);
		return true;
	}
	bpf_map_update_elem(&tq_recent, &k, &now, BPF_ANY);
	return false;
}

/* A watched syscall's exit: complete the pending record and send it. */
static __always_inline int tq_exit(__u32 kind, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	struct cw_tq_event *p;
	__u32 pidns, mntns;
	__u64 key, avail;

	/* A setns into the host's namespaces takes the task out of scope. */
	if (kind != CW_TQS_SETNS && !in_scope(task, &pidns, &mntns))
		return 0;
	key = bpf_get_current_pid_tgid();
	p = bpf_map_lookup_elem(&tq_pending, &key);
	if (!p)
		return 0;
	p->ret = ret;
	p->flags |= CW_TQF_EXITED;
	if (kind == CW_TQS_MMAP)
		p->arg[2] = ret; /* the address (or -errno) */
	if (ret >= 0 && (kind == CW_TQS_OPEN || kind == CW_TQS_OPENAT || kind == CW_TQS_OPENAT2 ||
	                 kind == CW_TQS_CREAT || kind == CW_TQS_OPEN_BY_HANDLE))
		put_file(p, fd_file(task, ret));
	if (!tq_fold(p)) {
		put_exe_path(p, task);
		avail = bpf_ringbuf_query(&tq_events, BPF_RB_AVAIL_DATA);
		if (bpf_ringbuf_output(&tq_events, p, sizeof(*p),
		                       avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
		                                             : BPF_RB_NO_WAKEUP))
			count(CW_TQC_LOST);
		else
			count(CW_TQC_SUBMITTED);
	}
	bpf_map_delete_elem(&tq_pending, &key);
	return 0;
}

/* ---- Piped scripts: what an interpreter reads from stdin ---------------- */
#include "stdin.bpf.h"

SEC("tp/syscalls/sys_exit_read")
int tqx_read(struct trace_event_raw_sys_exit *ctx)
{
	stdin_read(bpf_get_current_task_btf(), ctx->ret);
	return 0;
}

/* An interpreter that exits before its input ended is swept by user space
 * (cw_technique_stdin_sweep): no program runs on every exit for it. */

/* ---- Fallback: raw syscall tracepoints (every syscall runs these) ---- */

SEC("tp_btf/sys_enter")
int BPF_PROG(cw_tq_raw_enter, struct pt_regs *regs, long id)
{
	__u32 kind = sys_kind(id);

	if (!kind)
		return 0;
	return tq_enter(kind, id, PT_REGS_PARM1_CORE_SYSCALL(regs),
	                PT_REGS_PARM2_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs),
	                PT_REGS_PARM4_CORE_SYSCALL(regs), PT_REGS_PARM5_CORE_SYSCALL(regs));
}

static __always_inline long exit_sysno(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(regs, syscallno);
#else
	return -1;
#endif
}

#if defined(__TARGET_ARCH_x86)
#define NR_READ 0
#else
#define NR_READ 63
#endif

SEC("tp_btf/sys_exit")
int BPF_PROG(cw_tq_raw_exit, struct pt_regs *regs, long ret)
{
	long nr = exit_sysno(regs);
	__u32 kind;

	if (nr == NR_READ) {
		stdin_read(bpf_get_current_task_btf(), ret);
		return 0;
	}
	kind = sys_kind(nr);

	if (!kind)
		return 0;
	return tq_exit(kind, ret);
}

/* ---- Preferred: one tracepoint per watched syscall (needs tracefs) ----
 * Each tracepoint hit costs the kernel's perf/BPF dispatch, so syscalls are
 * handled at exit alone: the arguments are still in the task's user registers
 * (x86-64 only overwrites ax; arm64 keeps orig_x0) and the memory they point
 * to is unchanged when the syscall returns to the same task. setns is the
 * exception: after it the caller's namespaces are the new ones, so its entry
 * is recorded at sys_enter. Program names are tqe_/tqx_<syscall>; user space
 * derives the tracefs event from the section name and skips syscalls this
 * kernel has no tracepoint for. */

/* Scope is checked first: the register reads and everything else happen only
 * for tasks the sensor watches; then cond, an expression over ctx and regs. */
#define TQ_SYSCALL_IF(name, kind, cond)                                                            \
	SEC("tp/syscalls/sys_exit_" #name)                                                         \
	int tqx_##name(struct trace_event_raw_sys_exit *ctx)                                       \
	{                                                                                          \
		struct task_struct *task = bpf_get_current_task_btf();                             \
		struct pt_regs *regs;                                                              \
		__u32 pidns, mntns;                                                                \
                                                                                                   \
		if (!in_scope(task, &pidns, &mntns))                                               \
			return 0;                                                                  \
		regs = (struct pt_regs *)bpf_task_pt_regs(task);                                   \
		if (!(cond))                                                                       \
			return 0;                                                                  \
		if (tq_enter(kind, ctx->id, PT_REGS_PARM1_SYSCALL(regs),                           \
		             PT_REGS_PARM2_SYSCALL(regs), PT_REGS_PARM3_SYSCALL(regs),             \
		             PT_REGS_PARM4_SYSCALL(regs), PT_REGS_PARM5_SYSCALL(regs)) > 0)        \
			tq_exit(kind, ctx->ret);                                                   \
		return 0;                                                                          \
	}
#define TQ_SYSCALL(name, kind) TQ_SYSCALL_IF(name, kind, 1)

#if defined(__TARGET_ARCH_x86)
TQ_SYSCALL(open, CW_TQS_OPEN)
TQ_SYSCALL(creat, CW_TQS_CREAT)
TQ_SYSCALL(mknod, CW_TQS_MKNOD)
#endif
TQ_SYSCALL(openat, CW_TQS_OPENAT)
TQ_SYSCALL(openat2, CW_TQS_OPENAT2)
TQ_SYSCALL(mount, CW_TQS_MOUNT)
TQ_SYSCALL(fsopen, CW_TQS_FSOPEN)
TQ_SYSCALL(mknodat, CW_TQS_MKNODAT)
TQ_SYSCALL(init_module, CW_TQS_INIT_MODULE)
TQ_SYSCALL(finit_module, CW_TQS_FINIT_MODULE)
TQ_SYSCALL(connect, CW_TQS_CONNECT)
TQ_SYSCALL(ptrace, CW_TQS_PTRACE)
TQ_SYSCALL(process_vm_writev, CW_TQS_VM_WRITEV)
TQ_SYSCALL(chdir, CW_TQS_CHDIR)
TQ_SYSCALL(fchdir, CW_TQS_FCHDIR)
TQ_SYSCALL(open_by_handle_at, CW_TQS_OPEN_BY_HANDLE)

/* Code mappings (lib.bpf.h): a failed mmap maps nothing; only PROT_EXEC
 * ones go further. */
TQ_SYSCALL_IF(mmap, CW_TQS_MMAP, ctx->ret >= 0 && (PT_REGS_PARM3_SYSCALL(regs) & PROT_EXEC))

/* The first send on an armed TCP socket, where the kernel has the
 * tracepoint (6.8+): only TCP sends run this, in the sender's context. */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(cw_tq_tcp_send, struct sock *sk, struct msghdr *msg, struct sk_buff *skb, int goal)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 pidns, mntns;

	if (!in_scope(task, &pidns, &mntns) || !send_take((__u64)sk))
		return 0;
	if (tq_enter(CW_TQS_TCP_SEND, -1, (__u64)sk, (__u64)msg, 0, 0, 0) > 0)
		tq_exit(CW_TQS_TCP_SEND, BPF_CORE_READ(msg, msg_iter.count));
	return 0;
}

/* A socket that goes away unsent is forgotten: its struct sock may be
 * reused by another socket, which must not look armed. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(cw_tq_tcp_gone, struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&tq_conn, &key);
	return 0;
}

/* Sends at the syscalls (send.bpf.h, kernels without tcp_sendmsg_locked): a
 * failed one (EAGAIN on a socket still connecting) leaves the socket armed. */
TQ_SYSCALL_IF(write, CW_TQS_WRITE, ctx->ret > 0)
TQ_SYSCALL_IF(sendto, CW_TQS_SENDTO, ctx->ret > 0)
TQ_SYSCALL_IF(writev, CW_TQS_WRITEV, ctx->ret > 0)
TQ_SYSCALL_IF(sendmsg, CW_TQS_SENDMSG, ctx->ret > 0)

SEC("tp/syscalls/sys_enter_setns")
int tqe_setns(struct trace_event_raw_sys_enter *ctx)
{
	tq_enter(CW_TQS_SETNS, ctx->id, ctx->args[0], ctx->args[1], 0, 0, 0);
	return 0;
}

SEC("tp/syscalls/sys_exit_setns")
int tqx_setns(struct trace_event_raw_sys_exit *ctx)
{
	return tq_exit(CW_TQS_SETNS, ctx->ret);
}

/* Kernel usermode helpers are started by a kernel thread (kthreadd or a
 * kworker); report their execs wherever they run. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(cw_tq_umh, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	struct task_struct *parent = task->real_parent; /* direct loads: this runs on every exec */
	unsigned int pflags = parent->flags;
	struct cw_tq_umh *u;
	__u32 zero = 0;

	if (!(pflags & PF_KTHREAD)) {
		char c0 = task->comm[0]; /* a direct load: most execs stop here */

		if (c0 == 's' || c0 == 'b' || c0 == 'd' || c0 == 'a' || c0 == 'z' || c0 == 'k' ||
		    c0 == 'p' || c0 == 'r' || c0 == 'e')
			stdin_arm(task, bprm);
		return 0;
	}
	count(CW_TQC_UMH);
	u = bpf_map_lookup_elem(&tq_umh_scratch, &zero);
	if (!u)
		return 0;
	u->magic = CW_TQ_UMH_MAGIC;
	u->pid = BPF_CORE_READ(task, tgid);
	u->ppid = BPF_CORE_READ(parent, tgid);
	u->uid = BPF_CORE_READ(task, cred, uid.val);
	u->ts_ns = bpf_ktime_get_boot_ns();
	u->ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	u->dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	u->mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	u->parent_flags = pflags;
	bpf_get_current_comm(u->comm, sizeof(u->comm));
	BPF_CORE_READ_STR_INTO(&u->parent_comm, parent, comm);
	bpf_probe_read_kernel_str(u->filename, sizeof(u->filename), BPF_CORE_READ(bprm, filename));
	u->args_len = put_args(u->args, BPF_CORE_READ(task, mm));
	if (bpf_ringbuf_output(&tq_events, u, sizeof(*u), BPF_RB_FORCE_WAKEUP))
		count(CW_TQC_LOST);
	else
		count(CW_TQC_SUBMITTED);
	return 0;
}
