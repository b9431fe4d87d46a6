/* technique.c - the technique sensor's user-space side: loads and attaches
 * src/bpf/technique.bpf.c (per-syscall tracepoints, or raw tracepoints as a
 * fallback), fills its maps, reads its ring buffer into hits. */
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
/* Sensor */

struct cw_technique {
	struct technique_bpf *skel;
	struct bpf_link **links; /* one per loaded program */
	size_t n_links;
	enum cw_technique_attach mode;
	uint32_t watched_kinds; /* bit per enum cw_tq_sys */
	struct ring_buffer *rb;
	struct cw_technique_rules *own_rules;
	const struct cw_technique_rules *rules;
	struct cw_technique_env env;
	int (*fn)(void *ctx, const struct cw_technique_hit *hit);
	int (*on_stdin)(void *ctx, const struct cw_technique_stdin *in);
	void *ctx;
	bool no_stdin;
	bool send_watch; /* a first_send rule is on: the send programs are loaded */
	bool tcp_send;   /* ... the kernel has tcp_sendmsg_locked: it, not the syscalls */
	bool tcp_gone;   /* ... and tcp_destroy_sock: unsent sockets are forgotten */
	bool lib_watch;  /* a library_provenance rule is on: the mmap program is loaded */
	int ncpu;
	uint64_t records, hits, malformed;
	struct cw_technique_hit hit; /* reused; large */
};

/* A stdin capture record: validated, the caller resolved, handed on. */
static int on_stdin_record(struct cw_technique *t, const void *data, size_t len)
{
	const struct cw_tq_stdin *r = data;
	struct cw_technique_stdin in = {0};
	int rc;

	if (len != sizeof(*r) || r->len > CW_TQ_STDIN_MAX || r->ev.cgroup_len > CW_TQ_CGROUP ||
	    r->ev.args_len > CW_TQ_ARGS) {
		t->malformed++;
		cw_warn("dropped a malformed stdin capture record (%zu bytes)", len);
		return 0;
	}
	if (!t->on_stdin)
		return 0;
	memset(&t->hit, 0, sizeof(t->hit));
	tq_hit_caller(&t->env, &r->ev, &t->hit);
	tq_hit_exe(&t->env, &t->hit, &r->ev);
	in.hit = &t->hit;
	in.data = r->data;
	in.len = r->len;
	in.flags = r->flags;
	in.stdin_mode = r->stdin_mode;
	rc = t->on_stdin(t->ctx, &in);
	t->hit.ev = NULL;
	return rc;
}

int cw_technique_stdin_sweep(struct cw_technique *t)
{
	struct cw_tq_stdin *rec;
	int fd, n = 0;
	__u32 key, next, *prev = NULL;

	if (!t || !t->on_stdin)
		return 0;
	fd = bpf_map__fd(t->skel->maps.tq_stdin);
	rec = malloc(bpf_map__value_size(t->skel->maps.tq_stdin));
	if (!rec)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (kill((pid_t)key, 0) == 0 || errno != ESRCH)
			continue; /* still running: its input may go on */
		if (bpf_map_lookup_elem(fd, &key, rec) != 0)
			continue;
		if (bpf_map_delete_elem(fd, &key) != 0)
			continue; /* the kernel flushed it meanwhile */
		if (t->skel->bss->stdin_armed)
			__sync_fetch_and_sub(&t->skel->bss->stdin_armed, 1);
		rec->flags |= CW_TQI_EXITED;
		t->records++;
		on_stdin_record(t, rec, sizeof(*rec));
		n++;
	}
	free(rec);
	return n;
}

static int on_record(void *ctx, void *data, size_t len);

int cw_technique_feed(struct cw_technique *t, const void *data, size_t len)
{
	return t ? on_record(t, (void *)data, len) : -EINVAL;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct cw_technique *t = ctx;
	int rc;

	t->records++;
	if (len >= sizeof(uint32_t) && *(const uint32_t *)data == CW_TQ_STDIN_MAGIC)
		return on_stdin_record(t, data, len);
	rc = cw_technique_eval(t->rules, &t->env, data, len, &t->hit);
	if (rc < 0) {
		if (rc == -EINVAL) {
			t->malformed++;
			cw_warn("dropped a malformed technique record (%zu bytes)", len);
			return 0;
		}
		cw_warn("technique record not evaluated: %s", strerror(-rc));
		return 0;
	}
	if (rc == 0)
		return 0;
	t->hits++;
	rc = t->fn ? t->fn(t->ctx, &t->hit) : 0;
	cw_technique_hit_clear(&t->hit);
	return rc;
}

/* Syscalls watched, by this build's numbers. */
static const struct {
	long nr;
	uint32_t sys;
} watched[] = {
#ifdef SYS_open
    {SYS_open, CW_TQS_OPEN},
#endif
#ifdef SYS_creat
    {SYS_creat, CW_TQS_CREAT},
#endif
#ifdef SYS_mknod
    {SYS_mknod, CW_TQS_MKNOD},
#endif
    {SYS_openat, CW_TQS_OPENAT},
#ifdef SYS_openat2
    {SYS_openat2, CW_TQS_OPENAT2},
#endif
    {SYS_mount, CW_TQS_MOUNT},
#ifdef SYS_fsopen
    {SYS_fsopen, CW_TQS_FSOPEN},
#endif
    {SYS_mknodat, CW_TQS_MKNODAT},
    {SYS_setns, CW_TQS_SETNS},
    {SYS_init_module, CW_TQS_INIT_MODULE},
    {SYS_finit_module, CW_TQS_FINIT_MODULE},
    {SYS_connect, CW_TQS_CONNECT},
    {SYS_ptrace, CW_TQS_PTRACE},
    {SYS_process_vm_writev, CW_TQS_VM_WRITEV},
    {SYS_chdir, CW_TQS_CHDIR},
    {SYS_fchdir, CW_TQS_FCHDIR},
    {SYS_open_by_handle_at, CW_TQS_OPEN_BY_HANDLE},
    /* the first send on a connection (only with a first_send rule on) */
    {SYS_write, CW_TQS_WRITE},
    {SYS_sendto, CW_TQS_SENDTO},
    {SYS_writev, CW_TQS_WRITEV},
    {SYS_sendmsg, CW_TQS_SENDMSG},
    {SYS_mmap, CW_TQS_MMAP}, /* code mappings (only with a library_provenance rule on) */
};

/* Does a rule need the syscall kind? Sends and code mappings are hooked only
 * while a rule looks at them: every write() and mmap() pays for the hook. */
static bool kind_needed(const struct cw_technique *t, uint32_t sys)
{
	if (sys >= CW_TQS_WRITE && sys <= CW_TQS_SENDMSG)
		return t->send_watch && !t->tcp_send;
	if (sys == CW_TQS_TCP_SEND)
		return t->send_watch && t->tcp_send;
	if (sys == CW_TQS_MMAP)
		return t->lib_watch;
	return true;
}

static int fill_maps(struct cw_technique *t)
{
	int sfd = bpf_map__fd(t->skel->maps.tq_sys), nfd = bpf_map__fd(t->skel->maps.tq_names),
	    pfd = bpf_map__fd(t->skel->maps.tq_ports);
	uint32_t one = CW_TQN_WRITE_OPEN;
	uint8_t yes = 1;

	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
		uint32_t k = (uint32_t)watched[i].nr;

		if (!kind_needed(t, watched[i].sys))
			continue;
		if (bpf_map_update_elem(sfd, &k, &watched[i].sys, BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; i < t->rules->n_rules; i++) {
		const struct rule *ru = &t->rules->rules[i];
		size_t j;
		json_t *v;

		if ((ru->kind == RK_WRITE_OPEN || ru->kind == RK_PROC_EXE_WRITE) && ru->names)
			json_array_foreach(ru->names, j, v)
			{
				uint32_t h = cw_fnv1a32_str(json_string_value(v));

				if (bpf_map_update_elem(nfd, &h, &one, BPF_ANY))
					return -errno;
			}
		for (j = 0; j < ru->n_ports; j++)
			if (bpf_map_update_elem(pfd, &ru->ports[j], &yes, BPF_ANY))
				return -errno;
	}
	return 0;
}

#define SYSCALL_SEC "tp/syscalls/"

const char *cw_technique_attach_name(enum cw_technique_attach a)
{
	switch (a) {
	case CW_TQ_ATTACH_SYSCALL_TP:
		return "syscall-tracepoints";
	case CW_TQ_ATTACH_RAW:
		return "raw-tracepoints";
	default:
		return "auto";
	}
}

static uint32_t kind_of(const char *name)
{
	for (uint32_t k = 1; k < CW_TQS_MAX; k++)
		if (!strcmp(tq_sys_name(k), name))
			return k;
	return 0;
}

/* Per-syscall program's tracefs event ("sys_enter_openat"), or NULL. */
static const char *prog_event(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);

	return sec && !strncmp(sec, SYSCALL_SEC, strlen(SYSCALL_SEC)) ? sec + strlen(SYSCALL_SEC)
	                                                              : NULL;
}

static void sensor_unload(struct cw_technique *t)
{
	for (size_t i = 0; i < t->n_links; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	t->links = NULL;
	t->n_links = 0;
	technique_bpf__destroy(t->skel);
	t->skel = NULL;
	t->watched_kinds = 0;
}

/* Choose programs for the mode: per-syscall ones whose tracepoint exists
 * (dir), or the raw pair. Returns how many per-syscall events were missing. */
static int choose_programs(struct cw_technique *t, const char *dir, char *missing, size_t msz)
{
	struct bpf_program *prog;
	size_t used = 0;
	int n = 0;

	missing[0] = 0;
	bpf_object__for_each_program(prog, t->skel->obj)
	{
		const char *ev = prog_event(prog);
		bool raw =
		    prog == t->skel->progs.cw_tq_raw_enter || prog == t->skel->progs.cw_tq_raw_exit;
		bool on, wanted = true; /* wanted: not turned off by an option or the rules */

		if (raw)
			on = t->mode == CW_TQ_ATTACH_RAW;
		else if (!ev)
			on = true;
		else
			on = t->mode == CW_TQ_ATTACH_SYSCALL_TP && cw_bpf_tp_id(dir, ev) > 0;
		if (prog == t->skel->progs.tqx_read && t->no_stdin)
			wanted = false; /* --no-stdin-capture: no hook on every read() */
		if (ev && !strncmp(ev, "sys_exit_", 9) && !kind_needed(t, kind_of(ev + 9)))
			wanted = false;
		on = on && wanted;
		if (prog == t->skel->progs.cw_tq_tcp_send)
			on = kind_needed(t, CW_TQS_TCP_SEND);
		if (prog == t->skel->progs.cw_tq_tcp_gone)
			on = t->send_watch && t->tcp_gone;
		bpf_program__set_autoload(prog, on);
		if (ev && t->mode == CW_TQ_ATTACH_SYSCALL_TP && !strncmp(ev, "sys_exit_", 9)) {
			if (on) {
				t->watched_kinds |= 1u << kind_of(ev + 9);
			} else if (wanted) { /* wanted, but this kernel has no such tracepoint */
				n++;
				cw_appendf(missing, msz, &used, "%s%s", used ? ", " : "", ev + 9);
			}
		}
	}
	if (t->mode == CW_TQ_ATTACH_RAW)
		for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
			if (kind_needed(t, watched[i].sys))
				t->watched_kinds |= 1u << watched[i].sys;
	return n;
}

static int attach_all(struct cw_technique *t, const char *dir)
{
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, t->skel->obj) n++;
	t->links = calloc(n ? n : 1, sizeof(struct bpf_link *));
	if (!t->links)
		return -ENOMEM;
	bpf_object__for_each_program(prog, t->skel->obj)
	{
		struct bpf_link *l = NULL;
		int err;

		if (!bpf_program__autoload(prog))
			continue;
		if (prog_event(prog)) {
			err = cw_bpf_attach_syscall_tp(prog, dir, prog_event(prog), &l);
		} else {
			l = bpf_program__attach(prog);
			err = l ? 0 : -errno;
		}
		if (err) {
			cw_err("cannot attach the technique sensor's %s (%s): %s",
			       bpf_program__name(prog), bpf_program__section_name(prog),
			       strerror(-err));
			return err;
		}
		t->links[t->n_links++] = l;
	}
	return 0;
}

/* Does the first_send rules' hook go on tcp_sendmsg_locked (6.8+: only TCP
 * sends pay) rather than on the send syscalls (every write pays)?
 * CAGEWATCH_SEND_HOOK=syscalls forces the latter (tests of the fallback). */
static bool send_hook_tcp(void)
{
	const char *force = getenv("CAGEWATCH_SEND_HOOK");

	if (force && !strcmp(force, "syscalls"))
		return false;
	return libbpf_find_vmlinux_btf_id("tcp_sendmsg_locked", BPF_TRACE_RAW_TP) > 0;
}

/* Open, load and attach the BPF object in t->mode. Logs what failed. */
static int sensor_load(struct cw_technique *t, const struct cw_technique_opts *opts,
                       const char *dir)
{
	char missing[256];
	int err, n_missing;

	t->skel = technique_bpf__open();
	if (!t->skel) {
		err = -errno;
		cw_err("cannot open the technique BPF object: %s", strerror(-err));
		return err;
	}
	t->skel->rodata->host_pidns = t->env.host_ns[CW_NS_PID];
	t->skel->rodata->host_mntns = t->env.host_ns[CW_NS_MNT];
	t->skel->rodata->include_host = opts->include_host;
	t->skel->rodata->stdin_capture = !opts->no_stdin;
	t->no_stdin = opts->no_stdin;
	t->send_watch = tq_rules_have(t->rules, RK_FIRST_SEND);
	t->tcp_send = send_hook_tcp();
	t->tcp_gone = libbpf_find_vmlinux_btf_id("tcp_destroy_sock", BPF_TRACE_RAW_TP) > 0;
	t->skel->rodata->send_watch = t->send_watch;
	t->lib_watch = tq_rules_have(t->rules, RK_LIB_PROV);
	t->skel->rodata->lib_watch = t->lib_watch;
	t->skel->bss->boot_to_unix_ns = t->env.boot_offset_ns;
	t->skel->rodata->wakeup_bytes = opts->wakeup_bytes ? opts->wakeup_bytes : 65536;
	if (opts->ringbuf_bytes &&
	    (err = bpf_map__set_max_entries(t->skel->maps.tq_events, opts->ringbuf_bytes))) {
		cw_err("technique ring buffer size %zu refused (a power of two >= page size): %s",
		       opts->ringbuf_bytes, strerror(-err));
		return err;
	}
	n_missing = choose_programs(t, dir, missing, sizeof(missing));
	if (t->send_watch)
		cw_info("technique sensor: first sends on new TCP connections seen %s",
		        t->tcp_send ? "at tcp_sendmsg_locked (TCP sends only)"
		                    : "at the write, sendto, writev and sendmsg syscalls (this "
		                      "kernel has no tcp_sendmsg_locked tracepoint: every write "
		                      "runs the hook)");
	if (n_missing)
		cw_info(
		    "technique sensor: no syscall tracepoint for %s on this kernel (syscall not "
		    "built in): attempts of %s are not seen",
		    missing, n_missing > 1 ? "these" : "it");
	if ((err = technique_bpf__load(t->skel))) {
		cw_err("the kernel refused to load the technique sensor (%s, %s): it needs "
		       "BTF-enabled "
		       "tracepoints (Linux 5.5+) and BPF allowed for root; rerun with "
		       "--log-level debug for the verifier log",
		       cw_technique_attach_name(t->mode), strerror(-err));
		return err;
	}
	if ((err = fill_maps(t))) {
		cw_err("cannot fill the technique sensor's maps: %s", strerror(-err));
		return err;
	}
	return attach_all(t, dir);
}

/* Where evaluation looks things up, and the rules it uses. */
static int setup_env(struct cw_technique *t, const struct cw_technique_opts *opts)
{
	int err = cw_technique_env_init(&t->env, opts->proc_root);

	if (err)
		return err;
	if (opts->host_pidns)
		t->env.host_ns[CW_NS_PID] = opts->host_pidns;
	if (opts->host_mntns)
		t->env.host_ns[CW_NS_MNT] = opts->host_mntns;
	/* The agent passes the namespaces attribution settled on (and warned about). */
	if (t->env.own_ns_as_host && !opts->host_pidns)
		cw_warn("cannot read %s/1/ns: taking this process's namespaces as the host's",
		        t->env.proc_root);
	t->env.boot_offset_ns = cw_boot_to_unix_offset_ns();
	t->env.agent_tgid = (uint32_t)getpid();
	if (opts->rules) {
		t->rules = opts->rules;
		return 0;
	}
	if ((err = cw_technique_rules_load_default(&t->own_rules)))
		return err;
	t->rules = t->own_rules;
	return 0;
}

/* Load and attach in the mode asked for, falling back to raw tracepoints
 * (with a warning) when per-syscall ones are unavailable and auto was asked. */
static int load_attached(struct cw_technique *t, const struct cw_technique_opts *opts)
{
	char dir[64] = "";
	const char *why = "";
	int err = 0;

	t->mode = opts->attach == CW_TQ_ATTACH_RAW ? CW_TQ_ATTACH_RAW : CW_TQ_ATTACH_SYSCALL_TP;
	if (t->mode == CW_TQ_ATTACH_SYSCALL_TP &&
	    (err = cw_bpf_syscall_tracefs(dir, sizeof(dir), &why))) {
		if (opts->attach == CW_TQ_ATTACH_SYSCALL_TP) {
			cw_err(
			    "per-syscall tracepoints unavailable (%s): mount tracefs at %s or use "
			    "the raw-tracepoint sensor",
			    why, CW_TRACEFS);
			return err;
		}
		t->mode = CW_TQ_ATTACH_RAW;
		cw_warn(
		    "per-syscall tracepoints unavailable (%s): the technique sensor falls back to "
		    "raw sys_enter/sys_exit tracepoints, which run a BPF program on every syscall "
		    "of every process (about +140 ns per syscall measured); mount tracefs at %s to "
		    "avoid it",
		    why, CW_TRACEFS);
	}
	err = sensor_load(t, opts, dir);
	if (err && t->mode == CW_TQ_ATTACH_SYSCALL_TP && opts->attach == CW_TQ_ATTACH_AUTO) {
		sensor_unload(t);
		t->mode = CW_TQ_ATTACH_RAW;
		cw_warn(
		    "per-syscall tracepoints failed (%s): the technique sensor falls back to raw "
		    "sys_enter/sys_exit tracepoints, which run a BPF program on every syscall of "
		    "every process (about +140 ns per syscall measured)",
		    strerror(-err));
		err = sensor_load(t, opts, dir);
	}
	return err;
}

int cw_technique_open(struct cw_technique **out, const struct cw_technique_opts *opts)
{
	struct cw_technique *t;
	int err;

	if (!out || !opts || opts->sz < sizeof(*opts) || !opts->on_detection ||
	    opts->attach > CW_TQ_ATTACH_RAW)
		return -EINVAL;
	*out = NULL;
	if ((err = cw_bpf_check_host("the technique sensor")))
		return err;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = opts->on_detection;
	t->on_stdin = opts->on_stdin;
	t->ctx = opts->ctx;
	if ((err = setup_env(t, opts)))
		goto fail;
	if ((t->ncpu = cw_bpf_ncpu()) <= 0) {
		err = t->ncpu;
		goto fail;
	}
	cw_bpf_log_init();
	if ((err = load_attached(t, opts)))
		goto fail;
	cw_debug("technique sensor attached with %s", cw_technique_attach_name(t->mode));
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.tq_events), on_record, t, NULL);
	if (!t->rb) {
		err = -errno;
		cw_err("cannot map the technique ring buffer: %s", strerror(-err));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	cw_technique_close(t);
	return err < 0 ? err : -EINVAL;
}

enum cw_technique_attach cw_technique_attach_mode(const struct cw_technique *t)
{
	return t ? t->mode : CW_TQ_ATTACH_AUTO;
}

bool cw_technique_watches(const struct cw_technique *t, const char *syscall)
{
	uint32_t k = syscall ? kind_of(syscall) : 0;

	return t && k && (t->watched_kinds & (1u << k));
}

int cw_technique_poll(struct cw_technique *t, int timeout_ms)
{
	int n, m;

	if (!t)
		return -EINVAL;
	n = ring_buffer__poll(t->rb, timeout_ms);
	if (n == -EINTR)
		n = 0;
	if (n < 0)
		return n;
	/* The kernel skips wake-ups for small batches: take what is pending. */
	m = ring_buffer__consume(t->rb);
	if (m < 0)
		return m == -EINTR ? n : m;
	return n + m;
}

int cw_technique_fd(const struct cw_technique *t)
{
	return t ? ring_buffer__epoll_fd(t->rb) : -EINVAL;
}

int cw_technique_stats(const struct cw_technique *t, struct cw_technique_stats *out)
{
	int fd, err;

	if (!t || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	fd = bpf_map__fd(t->skel->maps.tq_counters);
	err = cw_bpf_percpu_sums(fd, CW_TQC_MAX, t->ncpu, out->kernel, CW_TQC_MAX, NULL, 0);
	if (err)
		return err;
	out->records = t->records;
	out->hits = t->hits;
	out->malformed = t->malformed;
	return 0;
}

void cw_technique_set_rules(struct cw_technique *t, const struct cw_technique_rules *r)
{
	if (t && r)
		t->rules = r;
}

void cw_technique_close(struct cw_technique *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	sensor_unload(t);
	cw_technique_rules_free(t->own_rules);
	free(t);
}
