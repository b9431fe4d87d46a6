/* agent.c - `cagewatch run`: the per-node agent (options, set-up, the event
 * loop, tear-down; agent_int.h lists the other stages).
 *
 * Two threads. The event thread drains the ring buffers and does only what is
 * cheap (sources.c); the worker (report.c) judges, attributes, builds the SCC
 * finding and hands it to the sinks: the store first, then stdout. A slow disk
 * or a stalled reader therefore never stalls event intake.
 *
 * Startup order matters for users' scripts: the pid file is written only once
 * the sensor is attached and running containers have been scanned, so "pid file
 * exists" means "an exec from now on is seen".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "agent_int.h"
#include "doctor.h"
#include "harden.h"
#include "util.h"

#define STDOUT_QUEUE 4096 /* findings stdout may fall behind before they are dropped */

volatile sig_atomic_t cw_agent_stop;

static void on_signal(int sig)
{
	(void)sig;
	cw_agent_stop = 1;
}

/* What `cagewatch run` was asked for. */
struct run_opts {
	const char *pidfile, *config, *store, *catfile, *rules_dir, *exceptions, *pin_dir;
	const char *stats_path, *runtime_roots, *containerd_roots, *log_format, *node_name;
	const char *block_timeout; /* ms */
	const char *enable_rules;
	bool no_store, no_args, no_kfilter, no_techniques, no_realtime, block, no_harden;
	bool no_stdin, no_guard, host_too, no_capture, notification;
	unsigned long ringbuf_mb;
	const char *sinks[CW_CONFIG_SINKS_MAX]; /* --sink URL, repeatable */
	unsigned n_sinks;
};

/* Options that set a flag or take a string: one row each. */
#define FLAG(n, c, f)                                                                              \
	{                                                                                          \
		n, no_argument, c, offsetof(struct run_opts, f)                                    \
	}
#define STR(n, c, f)                                                                               \
	{                                                                                          \
		n, required_argument, c, offsetof(struct run_opts, f)                              \
	}
static const struct {
	const char *name;
	int has_arg, id;
	size_t off;
} fields[] = {
    STR("pidfile", 'p', pidfile),
    STR("config", 'c', config),
    STR("store", 's', store),
    FLAG("no-store", 'S', no_store),
    STR("catalogue", 'C', catfile),
    FLAG("no-args", 'A', no_args),
    FLAG("no-kernel-filter", 'K', no_kfilter),
    FLAG("no-techniques", 'N', no_techniques),
    FLAG("no-realtime", 'P', no_realtime),
    STR("technique-exceptions", 'E', exceptions),
    STR("enable-rules", 'Q', enable_rules),
    FLAG("host", 'H', host_too),
    FLAG("block", 'B', block),
    STR("block-timeout", 'J', block_timeout),
    FLAG("no-capture", 'X', no_capture),
    FLAG("no-harden", 'Z', no_harden),
    FLAG("no-stdin-capture", 'I', no_stdin),
    FLAG("no-guard", 'G', no_guard),
    STR("pin-dir", 'D', pin_dir),
    STR("rules", 'R', rules_dir),
    STR("stats-file", 'T', stats_path),
    STR("runtime-roots", 'W', runtime_roots),
    STR("containerd-roots", 'Y', containerd_roots),
    STR("log-format", 'L', log_format),
    STR("node-name", 'O', node_name),
};
#undef FLAG
#undef STR

static void *enforcer_main(void *arg)
{
	struct agent *a = arg;
	int64_t last = cw_mono_ms();

	while (!cw_agent_stop) {
		int err;

		if (cw_rules_refresh(a, &a->enf_rules) &&
		    (err = cw_enforce_set_content(a->enforce, a->enf_rules->content)))
			cw_warn("--block: files allowed under the old rules keep their ignore "
			        "marks (%s); they are judged again when modified",
			        strerror(-err));
		err = cw_enforce_handle(a->enforce, 200);

		if (err < 0) {
			cw_err("--block: handling exec permission events failed: %s; execs in "
			       "containers are no longer checked",
			       strerror(-err));
			break;
		}
		if (cw_mono_ms() - last >= 1000) { /* new containers, new mounts */
			cw_enforce_rescan(a->enforce);
			last = cw_mono_ms();
		}
	}
	return NULL;
}

static int write_pidfile(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = cw_fopen_mode(tmp, 0644);
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

/* Warn about new losses; returns whether there were any since the last call. */
static bool check_lost(struct agent *a, bool final)
{
	uint64_t c[CW_CNT_MAX] = {0};
	bool lost = false;

	/* every 100 ms only the lost counter: one map read instead of CW_CNT_MAX */
	if (final ? cw_sensor_counters(a->sensor, c, NULL, 0)
	          : cw_sensor_lost(a->sensor, &c[CW_CNT_LOST]))
		return true;
	if (c[CW_CNT_LOST] > a->last_lost) {
		cw_warn("%llu exec events lost (ring buffer full; %llu lost in total): raise "
		        "--ringbuf-mb",
		        (unsigned long long)(c[CW_CNT_LOST] - a->last_lost),
		        (unsigned long long)c[CW_CNT_LOST]);
		a->last_lost = c[CW_CNT_LOST];
		lost = true;
	}
	if (final)
		cw_info("stopped: %llu execs seen by the kernel, %llu filtered in kernel, %llu "
		        "delivered, %llu lost; %llu findings",
		        (unsigned long long)c[CW_CNT_SEEN],
		        (unsigned long long)(c[CW_CNT_FILTERED] + c[CW_CNT_CLEAN]),
		        (unsigned long long)c[CW_CNT_SUBMITTED], (unsigned long long)c[CW_CNT_LOST],
		        (unsigned long long)a->findings);
	return lost;
}

/* The exec-time capture (capture.h). Without it (no CAP_SYS_ADMIN, an old
 * kernel) files are opened after the fact and a tool that exits at once may
 * be missed: said once, counted as unreadable. */
static void open_capture(struct agent *a)
{
	struct rlimit rl;
	int err;

	/* captured files are descriptors: allow as many as the hard limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (a->no_capture)
		return;
	err = cw_capture_open(&a->cap, NULL);
	if (err)
		cw_warn("cannot capture executed files at exec time (fanotify: %s); files are "
		        "read after the exec and a tool that exits at once may go unjudged",
		        strerror(-err));
}

/* --output and --ringbuf-mb. 0, or 2 after saying what is wrong. */
static int parse_value(struct run_opts *o, int id, const char *arg)
{
	char *end;

	if (id == 'U') {
		if (o->n_sinks >= CW_CONFIG_SINKS_MAX) {
			cw_err("--sink: at most %d sinks", CW_CONFIG_SINKS_MAX);
			return CW_EXIT_ERROR;
		}
		o->sinks[o->n_sinks++] = arg;
		return 0;
	}
	if (id == 'o') {
		if (strcmp(arg, "finding") && strcmp(arg, "notification")) {
			cw_err("--output must be 'finding' or 'notification', not '%s'", arg);
			return CW_EXIT_ERROR;
		}
		o->notification = !strcmp(arg, "notification");
		return 0;
	}
	o->ringbuf_mb = strtoul(arg, &end, 10);
	if (*end || !o->ringbuf_mb || (o->ringbuf_mb & (o->ringbuf_mb - 1)) ||
	    o->ringbuf_mb > 1024) {
		cw_err("--ringbuf-mb must be a power of two between 1 and 1024");
		return CW_EXIT_ERROR;
	}
	return 0;
}

/* Options into *o. Returns -1 to go on, else the exit status (0 for --help). */
static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	struct option lo[sizeof(fields) / sizeof(fields[0]) + 7] = {
	    {"output", required_argument, NULL, 'o'}, {"ringbuf-mb", required_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
	    {"help-config", no_argument, NULL, 'g'},  {"sink", required_argument, NULL, 'U'},
	};
	size_t n = 6;
	int opt;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		lo[n++] = (struct option){fields[i].name, fields[i].has_arg, NULL, fields[i].id};
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		size_t i = 0;

		while (i < sizeof(fields) / sizeof(fields[0]) && fields[i].id != opt)
			i++;
		if (i < sizeof(fields) / sizeof(fields[0])) {
			char *p = (char *)o + fields[i].off;

			if (fields[i].has_arg)
				*(const char **)(void *)p = optarg;
			else
				*(bool *)(void *)p = true;
		} else if (opt == 'o' || opt == 'r' || opt == 'U') {
			if (parse_value(o, opt, optarg))
				return CW_EXIT_ERROR;
		} else if (opt == 'v') {
			cw_log_set_level(CW_LOG_DEBUG);
		} else if (opt == 'h') {
			cw_run_usage(stdout);
			return CW_EXIT_OK;
		} else if (opt == 'g') {
			cw_config_help(stdout);
			return CW_EXIT_OK;
		} else {
			return cw_usage_hint("run",
			                     "unknown option, or one missing its value: '%s'",
			                     argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cw_usage_hint("run", "unexpected argument '%s'", argv[optind]);
	if (o->log_format && strcmp(o->log_format, "text") && strcmp(o->log_format, "json"))
		return cw_usage_hint("run", "--log-format is text or json, not '%s'",
		                     o->log_format);
	cw_log_set_json(o->log_format && !strcmp(o->log_format, "json"));
	return -1;
}

/* The first rules set (rules.c): the same loader a reload uses. 0 or -errno
 * (logged). */
static int load_rules(struct agent *a, const struct run_opts *o)
{
	struct cw_rules_src *src = &a->rules_src;
	int err;

	src->config = o->config;
	src->catfile = o->catfile;
	src->rules_dir = o->rules_dir;
	src->exceptions = o->exceptions;
	src->enable_rules = o->enable_rules;
	src->store = o->store;
	src->node_name = o->node_name;
	src->no_args = o->no_args;
	src->no_techniques = o->no_techniques;
	if ((err = cw_rules_load(a, src, &a->rules))) {
		cw_err("the configuration or rules could not be loaded (see above); refusing to "
		       "start");
		return err;
	}
	a->cfg = a->rules->cfg;
	a->ev_rules = cw_rules_ref(a->rules);
	return 0;
}

/* The store, before any BPF is loaded: a bad --store fails fast. */
static int open_store(struct agent *a, const struct run_opts *o)
{
	int err;

	if (o->no_store)
		return 0;
	err = cw_store_open(&a->store, a->cfg.store_path, CW_STORE_CREATE);
	if (err)
		cw_err("cannot open the findings store %s: %s (use --store PATH or --no-store)",
		       a->cfg.store_path, strerror(-err));
	return err;
}

/* The remote sinks (config "sinks", then --sink): after the store, which is
 * their outbox. 0 or -errno (logged). */
static int open_remote(struct agent *a, const struct run_opts *o)
{
	const char *urls[2 * CW_CONFIG_SINKS_MAX];
	size_t n = 0;
	int err;

	for (unsigned i = 0; i < a->cfg.n_sinks; i++)
		urls[n++] = a->cfg.sinks[i];
	for (unsigned i = 0; i < o->n_sinks; i++)
		urls[n++] = o->sinks[i];
	if (!n)
		return 0;
	if (!a->store) {
		cw_err(
		    "--sink needs the findings store: it is the sinks' outbox (drop --no-store)");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		struct cw_sink *s = cw_sink_remote_new(urls[i], a->cfg.store_path, &a->cfg);

		if (!s || (err = cw_sinks_add(&a->sinks, s)))
			return s ? err : -EINVAL;
		a->remote[a->n_remote++] = s;
		urls[i] = cw_sink_remote_key(s);
	}
	if ((err = cw_store_outbox_enable(a->store, urls, n, 0)))
		cw_err("cannot set up the sinks' outbox in %s: %s", a->cfg.store_path,
		       strerror(-err));
	return err;
}

/* The sinks: the store first (anything printed is stored), then stdout, then
 * the remote ones. */
static int open_outputs(struct agent *a, const struct run_opts *o)
{
	struct cw_sink *out;
	int err;

	if (a->store && (err = cw_sinks_add(&a->sinks, cw_sink_store(a->store, DEDUP_WINDOW_MS))))
		return err;
	/* stdout may be a pipe nobody reads: it gets a queue and a thread of its
	 * own once privileges are dropped (start) */
	out = cw_sink_stdout(&a->cfg, o->notification);
	if (!out) {
		cw_err("cannot set up the stdout output: out of memory");
		return -ENOMEM;
	}
	a->stdout_sink = out;
	if ((err = cw_sinks_add(&a->sinks, out)))
		return err;
	return open_remote(a, o);
}

/* Tell the exec program which environments the exec_env rules look at. */
static void env_watch(struct agent *a)
{
	const char *names[64];
	bool any;
	size_t n = cw_technique_env_names(a->ev_rules->tq, names, 64, &any);
	int err;

	if (n > 64) {
		cw_warn("exec_env rules name %zu programs; the kernel watches the first 64", n);
		n = 64;
	}
	if ((err = cw_sensor_env_watch(a->sensor, names, n, any)))
		cw_warn("cannot tell the exec program which environments to send: %s; "
		        "the exec_env rules may miss execs",
		        strerror(-err));
	if (any)
		cw_info("exec_env: every container exec's environment is scanned for "
		        "*_proxy variables");
}

/* Attribution and the exec sensor (with exec-time capture). */
static int open_exec_sensor(struct agent *a, const struct run_opts *o)
{
	struct cw_sensor_opts so = {.sz = sizeof(so)};
	struct cw_attrib_opts ao = {.containerd_roots = o->containerd_roots};
	char roots[4096];
	int err;

	if (o->runtime_roots) {
		snprintf(roots, sizeof(roots), "%s:%s", o->runtime_roots,
		         cw_runtime_default_roots());
		ao.runtime_roots = roots;
	}
	err = cw_attrib_new(&a->attrib, &ao);
	if (err) {
		cw_err("cannot set up container attribution: %s", strerror(-err));
		return err;
	}
	a->kernel_filter = !o->no_kfilter;
	a->host_pidns = cw_attrib_host_pidns(a->attrib);
	a->host_mntns = cw_attrib_host_mntns(a->attrib);
	so.containers_only = !a->host_too;
	so.host_pidns = a->host_pidns;
	so.host_mntns = a->host_mntns;
	so.ringbuf_bytes = o->ringbuf_mb << 20;
	so.hold = o->block;
	so.on_event = cw_source_exec;
	so.ctx = a;
	if ((err = cw_sensor_open(&a->sensor, &so)))
		return err;
	env_watch(a);
	a->boot_offset_ns = cw_boot_to_unix_offset_ns();
	open_capture(a);
	return 0;
}

/* The technique rules (with --technique-exceptions) and sensor. */
static int open_techniques(struct agent *a, const struct run_opts *o)
{
	struct cw_technique_opts to = {.sz = sizeof(to)};
	int err;

	to.host_pidns = a->host_pidns;
	to.host_mntns = a->host_mntns;
	to.rules = a->rules->tq;
	to.on_detection = cw_source_technique;
	to.on_stdin = cw_source_stdin;
	to.no_stdin = o->no_stdin;
	to.ctx = a;
	if ((err = cw_technique_open(&a->tq, &to)))
		cw_err("the escape-technique sensor could not start; use --no-techniques "
		       "to run with tool detection only");
	return err;
}

static int open_guard(struct agent *a, const struct run_opts *o)
{
	struct cw_guard_opts go = {.sz = sizeof(go),
	                           .pin_dir = o->pin_dir,
	                           .host_pidns = a->host_pidns,
	                           .host_mntns = a->host_mntns,
	                           .on_record = a->tq ? cw_source_guard : NULL,
	                           .ctx = a};
	int err = cw_guard_open(&a->guard, &go);

	/* Detection must not depend on it: a kernel without per-syscall
	 * tracepoints still gets every other detector, with a loud warning. */
	if (err) {
		cw_warn("self-protection is off (%s): attempts on the agent are not reported and "
		        "a killed agent goes unnoticed by the next one",
		        strerror(-err));
		a->guard = NULL;
		return 0;
	}
	if (!a->tq)
		cw_warn("--no-techniques: attempts on the agent are counted, not reported");
	return 0;
}

static int open_block(struct agent *a, const struct run_opts *o)
{
	struct cw_sensor_hold_maps m;
	struct cw_enforce_opts eo = {.content = a->rules->content,
	                             .host_mntns = a->host_mntns,
	                             .on_block = cw_source_blocked,
	                             .ctx = a};
	char *end = NULL;
	long limit = o->block_timeout ? strtol(o->block_timeout, &end, 10) : 2000;
	int err;

	if ((end && *end) || limit < 10 || limit > 600000) {
		cw_err("--block-timeout must be a number of milliseconds between 10 and 600000");
		return -EINVAL;
	}
	cw_sensor_hold_maps(a->sensor, &m);
	eo.hold = true;
	eo.marked_mnt_fd = m.marked_mnt;
	if ((err = cw_enforce_open(&a->enforce, &eo)) || (err = cw_held_open(a, (int)limit))) {
		cw_err("--block could not start; run without it to detect only");
		return err;
	}
	a->enf_rules = cw_rules_ref(a->rules);
	err = cw_enforce_rescan(a->enforce);
	cw_info("--block: execs of known tools in containers are refused; %d container "
	        "mount namespace(s) watched",
	        err < 0 ? 0 : err);
	return 0;
}

/* Everything that watches, in order. 0 or -errno (logged). */
static int open_all(struct agent *a, const struct run_opts *o)
{
	int err;

	a->host_too = o->host_too;
	a->no_capture = o->no_capture;
	a->stats_path = o->stats_path ? o->stats_path : CW_STATS_DEFAULT_PATH;
	if (!strncmp(a->stats_path, "/run/cagewatch/", 15))
		mkdir("/run/cagewatch", 0755);
	if ((err = load_rules(a, o)) || (err = open_store(a, o)) ||
	    (err = open_exec_sensor(a, o)) ||
	    (!o->no_techniques && (err = open_techniques(a, o))) ||
	    (!o->no_guard && (err = open_guard(a, o))))
		return err;
	err = cw_attrib_scan(a->attrib);
	a->containers_at_start = err;
	if (err < 0)
		cw_warn("scanning running containers failed: %s; they are attributed on first exec",
		        strerror(-err));
	else
		cw_info(
		    "sensor attached; %d running container(s) known; %zu tools in the catalogue",
		    err, cw_catalogue_tool_count(a->rules->cat));
	if (o->block && (err = open_block(a, o)))
		return err;
	cw_doctor_log_summary();
	return open_outputs(a, o);
}

/* Signals, priority, privilege drop, then the threads. */
static int start(struct agent *a, const struct run_opts *o, bool *worker, bool *enforcer)
{
	struct sigaction sa = {0};
	int err;

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Loading the sensors parsed the kernel's BTF (megabytes, freed since):
	 * give those pages back so the agent's footprint is what it uses. */
	malloc_trim(0);
	a->realtime = !o->no_realtime;
	if (a->realtime)
		cw_agent_set_realtime(true);
	/* Everything is loaded and open: give up what the agent no longer needs
	 * before any other thread exists (capabilities are per thread). */
	if (!o->no_harden && (err = cw_harden(a->hold != NULL))) {
		cw_err("refusing to run with more privileges than needed; --no-harden runs "
		       "without dropping them");
		return err;
	}
	if ((err = cw_sink_async(a->stdout_sink, STDOUT_QUEUE))) {
		cw_err("cannot start the stdout output's thread: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < a->n_remote; i++)
		if ((err = cw_sink_remote_start(a->remote[i]))) {
			cw_err("cannot start a sink's delivery thread: %s", strerror(-err));
			return err;
		}
	if ((err = pthread_create(&a->worker, NULL, cw_report_worker, a))) {
		cw_err("cannot start the worker thread: %s", strerror(err));
		return -err;
	}
	*worker = true;
	if (a->enforce && (err = pthread_create(&a->enforcer, NULL, enforcer_main, a))) {
		cw_err("cannot start the --block thread: %s", strerror(err));
		return -err;
	}
	*enforcer = a->enforce != NULL;
	if ((err = pthread_create(&a->reloader, NULL, cw_reloader_main, a))) {
		cw_err("cannot start the reload thread: %s", strerror(err));
		return -err;
	}
	a->reloader_up = true;
	if (a->guard && (err = cw_guard_protect(a->guard)) < 0)
		cw_warn("self-protection cannot register the agent's threads and BPF objects: %s",
		        strerror(-err));
	if (o->pidfile && (err = write_pidfile(o->pidfile))) {
		cw_err("cannot write pid file %s: %s", o->pidfile, strerror(-err));
		return err;
	}
	cw_service_ready(a, a->containers_at_start);
	return 0;
}

/* The event thread took a new rules set: what it cached outside the set
 * (the kernel's known-clean marks, the capture's ignore marks) came from the
 * old rules and goes. */
static void forget_old_verdicts(struct agent *a)
{
	int n = cw_sensor_forget_clean(a->sensor), err = cw_capture_forget_ignores(a->cap);

	if (err)
		cw_warn("reload: the capture's ignore marks stay (%s)", strerror(-err));
	cw_technique_set_rules(a->tq, a->ev_rules->tq);
	env_watch(a);
	cw_info("reload: rules generation %u judges this node's execs; %d known-clean "
	        "file(s) will be judged again",
	        a->ev_rules->gen, n < 0 ? 0 : n);
}

/* Drain every source once. Returns records handled or -errno. */
static int drain(struct agent *a)
{
	int n, err;

	if (cw_rules_refresh(a, &a->ev_rules))
		forget_old_verdicts(a);
	if ((err = cw_sensor_consume(a->sensor)) < 0)
		return err;
	n = err;
	if (a->tq && (err = cw_technique_poll(a->tq, 0)) < 0)
		return err;
	n += a->tq ? err : 0;
	if (a->guard && (err = cw_guard_consume(a->guard)) > 0)
		n += err;
	return n;
}

/* Every 100 ms: losses, capture expiry, stdin sweeps; stats and heartbeat. */
static void housekeeping(struct agent *a, unsigned checks)
{
	int err;
	bool lost = check_lost(a, false);

	cw_capture_expire(a->cap, lost);
	cw_technique_stdin_sweep(a->tq);
	cw_service_tick(a);
	if (checks % 5 == 0)
		cw_agent_write_stats(a);
	if (checks % 10 == 0 && a->guard && (err = cw_guard_beat(a->guard)))
		cw_warn("self-protection heartbeat failed: %s", strerror(-err));
}

/* Sleep until the kernel wakes us (first unconsumed record) or 100 ms pass;
 * then drain every sensor and let the next batch gather for 2 ms. An idle
 * node costs 10 wake-ups a second, a storm at most ~500. Returns the exit
 * status. */
static int event_loop(struct agent *a)
{
	int64_t last_check = cw_mono_ms();
	unsigned checks = 0;
	int err;

	while (!cw_agent_stop) {
		struct pollfd pfd[5] = {
		    {.fd = cw_sensor_fd(a->sensor), .events = POLLIN},
		    {.fd = a->tq ? cw_technique_fd(a->tq) : -1, .events = POLLIN},
		    {.fd = cw_attrib_fd(a->attrib), .events = POLLIN},
		    {.fd = a->guard ? cw_guard_fd(a->guard) : -1, .events = POLLIN},
		    {.fd = a->hold ? cw_sensor_wake_fd(a->sensor) : -1, .events = POLLIN}};
		int n;

		if (poll(pfd, 5, 100) < 0 && errno != EINTR) {
			cw_err("waiting for the sensors failed: %s", strerror(errno));
			return CW_EXIT_RESULT;
		}
		cw_attrib_sync(a->attrib); /* containers started or ended: before their execs */
		if (a->hold) /* a hold's record is sent before its wake-up: drained below */
			(void)cw_sensor_wake_consume(a->sensor);
		if ((n = drain(a)) < 0) {
			cw_err("reading the ring buffer failed: %s", strerror(-n));
			return CW_EXIT_RESULT;
		}
		if (cw_mono_ms() - last_check >= 100) { /* losses are reported within 100 ms */
			housekeeping(a, ++checks);
			last_check = cw_mono_ms();
		}
		if (n > 0) { /* let the next batch gather; a container's state or a hold wakes us */
			struct pollfd w[2] = {
			    {.fd = cw_attrib_fd(a->attrib), .events = POLLIN},
			    {.fd = a->hold ? cw_sensor_wake_fd(a->sensor) : -1, .events = POLLIN}};

			if (poll(w, 2, 2) > 0 && (w[0].revents & POLLIN))
				cw_attrib_sync(a->attrib);
		}
	}
	/* the record of the signal that stopped us is in the ring before the signal
	 * was sent: read it, so the agent itself logs who stopped it */
	if (a->guard && (err = cw_guard_consume(a->guard)) < 0)
		cw_warn("reading the self-protection records at stop failed: %s", strerror(-err));
	return 0;
}

/* Stop the threads (the worker drains its queue first) and close everything. */
static void teardown(struct agent *a, bool worker, bool enforcer, bool clean)
{
	cw_service_state("STOPPING=1");
	cw_agent_stop = 1;
	if (a->reloader_up) {
		(void)pthread_kill(a->reloader, SIGHUP); /* out of its wait now */
		pthread_join(a->reloader, NULL);
	}
	if (enforcer) {
		cw_agent_stop = 1;
		pthread_join(a->enforcer, NULL);
	}
	cw_enforce_close(a->enforce); /* the kernel allows what was still pending */
	if (worker) {
		pthread_mutex_lock(&a->lock);
		a->stopping = true;
		pthread_cond_signal(&a->cond);
		pthread_cond_broadcast(&a->space);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->worker, NULL);
	}
	cw_sinks_free(&a->sinks); /* after the worker: stdout's queue is flushed */
	cw_guard_close(a->guard, clean);
	cw_technique_close(a->tq);
	cw_capture_close(a->cap);
	cw_sensor_close(a->sensor);
	cw_hold_close(a->hold); /* after the sensor: no new holds; lets go what is left */
	cw_store_close(a->store);
	cw_attrib_free(a->attrib);
	cw_rules_put(a->enf_rules);
	cw_rules_put(a->ev_rules);
	cw_rules_put(a->rules);
}

/* SIGHUP means reload: blocked before any thread exists, so every thread
 * inherits the mask and only the reload thread takes it (sigtimedwait). One
 * that arrives during start-up waits for that thread. */
static void block_sighup(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int cw_cmd_run(int argc, char **argv)
{
	struct run_opts o = {0};
	struct agent a = {0};
	bool worker = false, enforcer = false;
	int rc = parse_opts(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (geteuid() != 0) {
		cw_err("cagewatch run needs root: the exec sensor loads a BPF program (CAP_BPF, "
		       "CAP_PERFMON) and reads every process's /proc entries; run it with sudo");
		return CW_EXIT_ERROR;
	}
	block_sighup();
	pthread_mutex_init(&a.lock, NULL);
	pthread_mutex_init(&a.rules_lock, NULL);
	pthread_cond_init(&a.cond, NULL);
	pthread_cond_init(&a.space, NULL);
	rc = CW_EXIT_ERROR;
	if (open_all(&a, &o) == 0 && start(&a, &o, &worker, &enforcer) == 0) {
		rc = event_loop(&a);
		drain(&a); /* what is already there */
		check_lost(&a, true);
		cw_agent_write_stats(&a);
		if (o.pidfile)
			unlink(o.pidfile);
	}
	/* whatever rc is, the agent stops on its own here: only a kill or a crash
	 * leaves the heartbeat unclosed */
	teardown(&a, worker, enforcer, true);
	return rc;
}
