/* technique_match.c - one matcher per rule kind: does a kernel record match
 * the rule, and what evidence does it carry. Files are matched by basename
 * and filesystem type, never by full path: the filesystem comes from the fd
 * the kernel returned, or, when the open failed, from statfs through
 * /proc/PID/root (or cwd, or the dirfd). */
#include "technique.h"
#include "technique_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfload.h"
#include "finding.h"
#include "rulefile.h"
#include "technique.skel.h"
#include "util.h"

#define EMBEDDED_ORIGIN "rules/techniques.json (embedded)"
#define NSFS_MAGIC      0x6e736673u

/* ------------------------------------------------------------------------ */
/* Evaluation */

const char *tq_sys_name(uint32_t sys)
{
	static const char *const n[CW_TQS_MAX] = {
	    [CW_TQS_OPEN] = "open",
	    [CW_TQS_OPENAT] = "openat",
	    [CW_TQS_OPENAT2] = "openat2",
	    [CW_TQS_CREAT] = "creat",
	    [CW_TQS_MOUNT] = "mount",
	    [CW_TQS_FSOPEN] = "fsopen",
	    [CW_TQS_MKNOD] = "mknod",
	    [CW_TQS_MKNODAT] = "mknodat",
	    [CW_TQS_SETNS] = "setns",
	    [CW_TQS_INIT_MODULE] = "init_module",
	    [CW_TQS_FINIT_MODULE] = "finit_module",
	    [CW_TQS_CONNECT] = "connect",
	    [CW_TQS_PTRACE] = "ptrace",
	    [CW_TQS_VM_WRITEV] = "process_vm_writev",
	    [CW_TQS_CHDIR] = "chdir",
	    [CW_TQS_FCHDIR] = "fchdir",
	    [CW_TQS_OPEN_BY_HANDLE] = "open_by_handle_at",
	    [CW_TQS_KILL] = "kill",
	    [CW_TQS_TKILL] = "tkill",
	    [CW_TQS_TGKILL] = "tgkill",
	    [CW_TQS_PIDFD_SIGNAL] = "pidfd_send_signal",
	    [CW_TQS_BPF] = "bpf",
	    [CW_TQS_VM_READV] = "process_vm_readv",
	    [CW_TQS_WRITE] = "write",
	    [CW_TQS_SENDTO] = "sendto",
	    [CW_TQS_WRITEV] = "writev",
	    [CW_TQS_SENDMSG] = "sendmsg",
	    [CW_TQS_MMAP] = "mmap",
	    [CW_TQS_TCP_SEND] = "tcp_sendmsg",
	};

	return sys < CW_TQS_MAX && n[sys] ? n[sys] : "unknown";
}

const char *tq_glob_in(const json_t *globs, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(globs, i, v)
	{
		if (!fnmatch(json_string_value(v), s, 0))
			return json_string_value(v);
	}
	return NULL;
}

bool tq_in_strs(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	if (!arr)
		return false;
	json_array_foreach(arr, i, v)
	{
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

static bool magic_in(const struct rule *ru, uint32_t m)
{
	for (size_t i = 0; i < ru->n_magic; i++)
		if (ru->fs_magic[i] == m)
			return true;
	return false;
}

void tq_copy_str(char *dst, size_t dstsz, const char *src, size_t srcmax)
{
	size_t n = strnlen(src, srcmax);

	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* "/proc/(self|thread-self|N)/fd/N..." */
static bool is_proc_fd_path(const char *p)
{
	const char *s = p + 6;

	if (strncmp(p, "/proc/", 6))
		return false;
	if (!strncmp(s, "self/", 5))
		s += 5;
	else if (!strncmp(s, "thread-self/", 12))
		s += 12;
	else {
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
		if (*s++ != '/')
			return false;
	}
	if (strncmp(s, "fd/", 3))
		return false;
	return isdigit((unsigned char)s[3]);
}

/* ".../(self|thread-self|N)/exe" or ".../N/task/N/exe" */
static bool is_proc_exe_text(const char *p)
{
	const char *b = cw_basename(p), *q;
	size_t dlen;

	if (strcmp(b, "exe") || b == p)
		return false;
	dlen = (size_t)(b - p) - 1; /* directory without the final '/' */
	q = p + dlen;
	while (q > p && q[-1] != '/')
		q--;
	if ((size_t)(p + dlen - q) == 4 && !strncmp(q, "self", 4))
		return true;
	if ((size_t)(p + dlen - q) == 11 && !strncmp(q, "thread-self", 11))
		return true;
	if (q == p + dlen)
		return false;
	for (const char *c = q; c < p + dlen; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	return true;
}

static void fs_label(uint32_t magic, char *out, size_t outsz)
{
	const char *n = magic ? tq_fs_name(magic) : NULL;

	if (n)
		snprintf(out, outsz, "%s", n);
	else if (magic)
		snprintf(out, outsz, "0x%x", magic);
	else
		snprintf(out, outsz, "unknown");
}

/* Bounded formatting of evidence text; truncation is acceptable here. */
__attribute__((format(printf, 3, 4))) static void dfmt(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
}

/* Per-kind matchers: does the record match the rule? On a match, fill the
 * hit's evidence and `detail` (dsz bytes). Table-driven: a new kind is a new
 * function and a row in matchers[]. */
#define MATCH_ARGS                                                                                 \
	const struct cw_technique_env *env, const struct rule *ru, const struct cw_tq_event *ev,   \
	    struct cw_technique_hit *h, char *detail, size_t dsz
typedef bool (*matcher_fn)(MATCH_ARGS);

/* The open's directory fd: open/creat resolve against the cwd. */
static long open_dirfd(const struct cw_tq_event *ev)
{
	if (ev->sys == CW_TQS_OPEN || ev->sys == CW_TQS_CREAT)
		return -100;
	return (long)(int64_t)ev->arg[2];
}

static bool match_write_open(MATCH_ARGS)
{
	const char *base;
	uint32_t magic;
	long dirfd = open_dirfd(ev);

	if (ev->sys < CW_TQS_OPEN || ev->sys > CW_TQS_CREAT || !(ev->flags & CW_TQF_NAME_MATCH))
		return false;
	base = cw_basename(h->file);
	if (!tq_in_strs(ru->names, base))
		return false;
	magic = (ev->flags & CW_TQF_FILE)
	            ? ev->f_magic
	            : tq_path_fs(env, ev->tgid, ev->mntns, dirfd, h->file, false);
	fs_label(magic, h->fs_type, sizeof(h->fs_type));
	if (magic ? !magic_in(ru, magic) : !ru->fs_unknown_ok)
		return false;
	dfmt(detail, dsz, "file=%s fs=%s", h->file, h->fs_type);
	return true;
}

static bool match_proc_exe_write(MATCH_ARGS)
{
	const char *base;
	uint32_t magic;
	long dirfd = open_dirfd(ev);

	bool by_fs;

	if (ev->sys < CW_TQS_OPEN || ev->sys > CW_TQS_CREAT || !(ev->flags & CW_TQF_NAME_MATCH))
		return false;
	base = cw_basename(h->file);
	if (!tq_in_strs(ru->names, base))
		return false;
	magic = tq_path_fs(env, ev->tgid, ev->mntns, dirfd, h->file, true);
	by_fs = magic == 0x9fa0;
	if (!by_fs && !is_proc_exe_text(h->file))
		return false;
	snprintf(h->fs_type, sizeof(h->fs_type), "proc");
	dfmt(detail, dsz, "file=%s", h->file);
	return true;
}

static bool match_block_open(MATCH_ARGS)
{
	(void)ru;
	long dirfd = open_dirfd(ev);

	if (ev->sys < CW_TQS_OPEN || ev->sys > CW_TQS_CREAT || !(ev->flags & CW_TQF_DEV_PATH))
		return false;
	if ((ev->flags & CW_TQF_FILE) ? !S_ISBLK(ev->f_mode)
	                              : !tq_path_is_block(env, ev->tgid, ev->mntns, dirfd, h->file))
		return false;
	dfmt(detail, dsz, "device=%s", h->file);
	return true;
}

static bool match_mount(MATCH_ARGS)
{
	(void)env;
	if (ev->sys != CW_TQS_MOUNT && ev->sys != CW_TQS_FSOPEN)
		return false;
	if (!h->mount_fstype[0] || !tq_in_strs(ru->fs_types, h->mount_fstype))
		return false;
	dfmt(detail, dsz, "fstype=%s source=%s target=%s", h->mount_fstype, h->mount_source,
	     h->mount_target);
	return true;
}

static bool match_mount_block(MATCH_ARGS)
{
	(void)ru;
	if (ev->sys != CW_TQS_MOUNT || !h->mount_source[0])
		return false;
	if (!tq_path_is_block(env, ev->tgid, ev->mntns, -100, h->mount_source) &&
	    !tq_looks_like_disk(h->mount_source))
		return false;
	dfmt(detail, dsz, "source=%s target=%s fstype=%s", h->mount_source, h->mount_target,
	     h->mount_fstype);
	return true;
}

static bool match_mknod_block(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (ev->sys != CW_TQS_MKNOD && ev->sys != CW_TQS_MKNODAT)
		return false;
	if ((ev->arg[0] & S_IFMT) != S_IFBLK)
		return false;
	dfmt(detail, dsz, "node=%s dev=%llu:%llu", h->file,
	     (unsigned long long)((ev->arg[1] >> 8) & 0xfff),
	     (unsigned long long)((ev->arg[1] & 0xff) | ((ev->arg[1] >> 12) & 0xfff00)));
	return true;
}

static bool match_setns(MATCH_ARGS)
{
	(void)ru;
	if (ev->sys != CW_TQS_SETNS || !(ev->flags & CW_TQF_FILE))
		return false;
	if (ev->f_magic == NSFS_MAGIC) {
		for (int t = 0; t < CW_NS_COUNT; t++) {
			if (!env->host_ns[t] || env->host_ns[t] != (uint32_t)ev->f_ino)
				continue;
			if (h->ns[t] == env->host_ns[t])
				return false; /* already there: no-op */
			snprintf(h->target_ns, sizeof(h->target_ns), "%s:[%u]", cw_ns_proc_names[t],
			         (uint32_t)ev->f_ino);
			dfmt(detail, dsz, "target=host %s", h->target_ns);
			return true;
		}
		return false;
	}
	if (ev->target_pid) {
		uint32_t tm = cw_proc_ns(env->proc_root, (int)ev->target_pid, "mnt");

		if (!tm || tm != env->host_ns[CW_NS_MNT] || tm == h->ns[CW_NS_MNT])
			return false;
		h->target_pid = (int)ev->target_pid;
		snprintf(h->target_ns, sizeof(h->target_ns), "mnt:[%u]", tm);
		dfmt(detail, dsz, "target=pidfd pid %u (host mnt ns)", ev->target_pid);
		return true;
	}
	return false;
}

static bool match_module(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (ev->sys != CW_TQS_INIT_MODULE && ev->sys != CW_TQS_FINIT_MODULE)
		return false;
	if (ev->sys == CW_TQS_FINIT_MODULE)
		tq_copy_str(h->module, sizeof(h->module), ev->fname, sizeof(ev->fname));
	else
		snprintf(h->module, sizeof(h->module), "(image of %llu bytes)",
		         (unsigned long long)ev->arg[0]);
	dfmt(detail, dsz, "module=%s", h->module);
	return true;
}

static bool match_connect_unix(MATCH_ARGS)
{
	(void)env;
	size_t i;
	json_t *v;
	bool hit = false;

	if (ev->sys != CW_TQS_CONNECT || ev->arg[0] != AF_UNIX)
		return false;
	if (ev->flags & CW_TQF_ABSTRACT) {
		if (ru->prefixes)
			json_array_foreach(ru->prefixes, i, v)
			{
				if (!strncmp(ev->s1, json_string_value(v), json_string_length(v)))
					hit = true;
			}
	} else {
		hit = tq_in_strs(ru->names, cw_basename(h->socket));
	}
	if (!hit)
		return false;
	dfmt(detail, dsz, "socket=%s", h->socket);
	return true;
}

static bool match_connect_tcp(MATCH_ARGS)
{
	(void)env;
	bool hit = false;

	if (ev->sys != CW_TQS_CONNECT || (ev->arg[0] != AF_INET && ev->arg[0] != AF_INET6))
		return false;
	for (size_t i = 0; i < ru->n_ports; i++)
		if (ru->ports[i] == ev->arg[2])
			hit = true;
	if (!hit)
		return false;
	dfmt(detail, dsz, "address=%s", h->socket);
	return true;
}

/* The first bytes sent on a new TCP connection match one of the payload
 * globs (a Stratum JSON-RPC method). */
static bool match_first_send(MATCH_ARGS)
{
	const char *glob;

	(void)env;
	if (((ev->sys < CW_TQS_WRITE || ev->sys > CW_TQS_SENDMSG) && ev->sys != CW_TQS_TCP_SEND) ||
	    !h->payload[0])
		return false;
	glob = tq_glob_in(ru->payload, h->payload);
	if (!glob)
		return false;
	dfmt(detail, dsz, "first bytes sent to %s match %s", h->socket, glob);
	return true;
}

/* A file not in the image mapped as code. A malicious rule matches on
 * provenance alone here: the agent runs the content layers over the file and
 * falls back to the rule that is not (cw_technique_library). */
static bool match_library(MATCH_ARGS)
{
	const char *basis;

	(void)env;
	if (ev->sys != CW_TQS_MMAP)
		return false;
	h->prov = cw_technique_lib_prov(ev->flags, &basis);
	if (!(ru->prov & h->prov))
		return false;
	dfmt(detail, dsz, "%s mapped as code: %s (%s)", h->file, cw_provenance_name(h->prov),
	     basis);
	return true;
}

static bool match_ptrace(MATCH_ARGS)
{
	int host_pid;
	uint32_t tm;

	if (ev->sys != (ru->kind == RK_PTRACE ? CW_TQS_PTRACE : CW_TQS_VM_WRITEV) ||
	    (ev->flags & CW_TQF_AGENT))
		return false;
	host_pid = tq_resolve_vpid(env, h->ns[CW_NS_PID], (long)(int64_t)ev->arg[1]);
	/* the agent as target: the guard's own record reports it */
	if (!host_pid || (env->agent_tgid && (uint32_t)host_pid == env->agent_tgid))
		return false;
	tm = cw_proc_ns(env->proc_root, host_pid, "mnt");
	if (!tm || tm == h->ns[CW_NS_MNT])
		return false;
	h->target_pid = host_pid;
	snprintf(h->target_ns, sizeof(h->target_ns), "mnt:[%u]", tm);
	if (ru->kind == RK_PTRACE)
		dfmt(detail, dsz, "request=%llu target_pid=%d target=%s",
		     (unsigned long long)ev->arg[0], host_pid, h->target_ns);
	else
		dfmt(detail, dsz, "target_pid=%d target=%s", host_pid, h->target_ns);
	return true;
}

static bool match_chdir_proc_fd(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (ev->sys != CW_TQS_CHDIR || !is_proc_fd_path(h->file))
		return false;
	dfmt(detail, dsz, "cwd=%s", h->file);
	return true;
}

static bool match_fchdir(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (ev->sys != CW_TQS_FCHDIR || !(ev->flags & CW_TQF_FILE) || !ev->f_mntns ||
	    ev->f_mntns == h->ns[CW_NS_MNT])
		return false;
	fs_label(ev->f_magic, h->fs_type, sizeof(h->fs_type));
	dfmt(detail, dsz, "fd=%lld dir=%s fs=%s mntns=%u", (long long)ev->arg[0], h->file,
	     h->fs_type, ev->f_mntns);
	return true;
}

static bool match_open_by_handle(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	(void)h;
	if (ev->sys != CW_TQS_OPEN_BY_HANDLE)
		return false;
	dfmt(detail, dsz, "mount_fd=%lld", (long long)ev->arg[0]);
	return true;
}

static bool match_umh(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	(void)ev;
	(void)h;
	(void)detail;
	(void)dsz;
	return false;
}

/* Signal name ("SIGKILL") or its number. */
static void signal_label(uint64_t sig, char *out, size_t sz)
{
	const char *n = sig < 65 ? sigabbrev_np((int)sig) : NULL;

	if (n)
		snprintf(out, sz, "SIG%s", n);
	else
		snprintf(out, sz, "%llu", (unsigned long long)sig);
}

static bool match_agent_signal(MATCH_ARGS)
{
	char sig[24];
	int32_t pid;

	(void)env;
	(void)ru;
	if (!(ev->flags & CW_TQF_AGENT) || ev->sys < CW_TQS_KILL || ev->sys > CW_TQS_PIDFD_SIGNAL)
		return false;
	signal_label(ev->arg[0], sig, sizeof(sig));
	snprintf(h->signal, sizeof(h->signal), "%s", sig);
	h->target_pid = (int)ev->target_pid;
	/* kill()'s pid is a pid_t: the kernel reads the low 32 bits of the
	 * register (a record's other bits are anything, and -INT64_MIN would
	 * overflow: found by fuzz_records) */
	pid = (int32_t)(uint32_t)ev->arg[1];
	if (ev->sys == CW_TQS_KILL && pid == -1)
		dfmt(detail, dsz, "signal=%s to every process (the agent, pid %u, among them)", sig,
		     ev->target_pid);
	else if (ev->sys == CW_TQS_KILL && pid < -1)
		dfmt(detail, dsz, "signal=%s to process group %lld (the agent's, pid %u)", sig,
		     -(long long)pid, ev->target_pid);
	else
		dfmt(detail, dsz, "signal=%s target=agent pid %u", sig, ev->target_pid);
	return true;
}

static bool match_agent_trace(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (!(ev->flags & CW_TQF_AGENT) ||
	    (ev->sys != CW_TQS_PTRACE && ev->sys != CW_TQS_VM_WRITEV && ev->sys != CW_TQS_VM_READV))
		return false;
	h->target_pid = (int)ev->target_pid;
	if (ev->sys == CW_TQS_PTRACE)
		dfmt(detail, dsz, "request=%llu target=agent pid %u",
		     (unsigned long long)ev->arg[0], ev->target_pid);
	else
		dfmt(detail, dsz, "target=agent pid %u", ev->target_pid);
	return true;
}

static const char *bpf_cmd_name(uint64_t cmd)
{
	switch (cmd) {
	case 13:
		return "BPF_PROG_GET_FD_BY_ID";
	case 14:
		return "BPF_MAP_GET_FD_BY_ID";
	case 29:
		return "BPF_LINK_UPDATE";
	case 30:
		return "BPF_LINK_GET_FD_BY_ID";
	case 34:
		return "BPF_LINK_DETACH";
	default:
		return "?";
	}
}

static bool match_agent_bpf(MATCH_ARGS)
{
	static const char *const kinds[] = {"object", "program", "map", "link"};

	(void)env;
	(void)ru;
	if (!(ev->flags & CW_TQF_AGENT) || ev->sys != CW_TQS_BPF)
		return false;
	h->target_pid = (int)ev->target_pid;
	dfmt(detail, dsz, "cmd=%s on the agent's %s id %llu", bpf_cmd_name(ev->arg[0]),
	     kinds[ev->arg[2] < 4 ? ev->arg[2] : 0], (unsigned long long)ev->arg[1]);
	return true;
}

static const matcher_fn matchers[] = {
    [RK_WRITE_OPEN] = match_write_open,
    [RK_PROC_EXE_WRITE] = match_proc_exe_write,
    [RK_BLOCK_OPEN] = match_block_open,
    [RK_MOUNT] = match_mount,
    [RK_MOUNT_BLOCK] = match_mount_block,
    [RK_MKNOD_BLOCK] = match_mknod_block,
    [RK_SETNS] = match_setns,
    [RK_MODULE] = match_module,
    [RK_CONNECT_UNIX] = match_connect_unix,
    [RK_CONNECT_TCP] = match_connect_tcp,
    [RK_FIRST_SEND] = match_first_send,
    [RK_LIB_PROV] = match_library,
    [RK_PTRACE] = match_ptrace,
    [RK_VM_WRITEV] = match_ptrace,
    [RK_CHDIR_PROC_FD] = match_chdir_proc_fd,
    [RK_FCHDIR] = match_fchdir,
    [RK_OPEN_BY_HANDLE] = match_open_by_handle,
    [RK_UMH] = match_umh,
    [RK_AGENT_SIGNAL] = match_agent_signal,
    [RK_AGENT_TRACE] = match_agent_trace,
    [RK_AGENT_BPF] = match_agent_bpf,
};

bool tq_rule_matches(const struct cw_technique_env *env, const struct rule *ru,
                     const struct cw_tq_event *ev, struct cw_technique_hit *h, char *detail,
                     size_t dsz)
{
	if (ru->skip_runtime && h->runtime)
		return false;
	if ((size_t)ru->kind >= sizeof(matchers) / sizeof(matchers[0]) || !matchers[ru->kind])
		return false;
	return matchers[ru->kind](env, ru, ev, h, detail, dsz);
}
