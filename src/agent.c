/* agent.c - `cagewatch run`: the per-node agent.
 *
 * Pipeline per exec: sensor (kernel record) -> decode -> container filter ->
 * detection (catalogue name/argv layer) -> attribution (container metadata) ->
 * finding (SCC JSON) -> store (written first) -> stdout (one JSON line).
 *
 * Startup order matters for users' scripts: the pid file is written only once
 * the sensor is attached and running containers have been scanned, so "pid file
 * exists" means "an exec from now on is seen".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent.h"
#include "catalogue.h"
#include "config.h"
#include "container.h"
#include "exec.h"
#include "finding.h"
#include "sensor.h"
#include "store.h"
#include "util.h"

#define DEDUP_WINDOW_MS (60 * 1000)
#define HASH_CAP	(64ll << 20)

enum output_format { OUT_FINDING, OUT_NOTIFICATION };

struct agent {
	struct cw_config cfg;
	struct cw_catalogue *cat;
	struct cw_attrib *attrib;
	struct cw_store *store;
	struct cw_sensor *sensor;
	enum output_format out;
	bool host_too;  /* also report execs outside containers */
	int64_t boot_offset_ns;
	uint64_t execs, in_container, findings, decode_errors, store_errors;
	uint64_t last_lost;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static struct cw_exec cur; /* ~14 KiB; one exec is handled at a time */

/* Does fd refer to the file the kernel reported (device and inode)? */
static bool same_file(int fd, const struct cw_event *ev)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return false;
	return st.st_ino == ev->ino && major(st.st_dev) == (ev->dev >> 20) &&
	       minor(st.st_dev) == (ev->dev & 0xfffff);
}

/* Open the executed file. Tools often exit before we get here, so try, in
 * order: the process's /proc/PID/exe (memfd and deleted files too), the path
 * under the process's root, its parent's root, the container init's root. The
 * device and inode must match what the kernel reported. */
static int open_binary(const struct cw_exec *ex, const struct cw_container *ctr)
{
	char p[CW_PATH_MAX + 64];
	int pids[3] = {(int)ex->ev->tgid, (int)ex->ev->ppid, ctr ? ctr->init_pid : 0};
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/exe", pids[0]);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && same_file(fd, ex->ev))
		return fd;
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 3; i++) {
		if (pids[i] <= 0 || ex->path[0] != '/')
			continue;
		snprintf(p, sizeof(p), "/proc/%d/root%s", pids[i], ex->path);
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (same_file(fd, ex->ev))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* Size, SHA-256 and hashed size of the executed file. Best effort: the finding
 * is emitted with what is known. */
static void hash_binary(const struct cw_exec *ex, const struct cw_container *ctr,
			struct cw_file_info *fi)
{
	int fd;

	cw_strlcpy(fi->path, ex->path, sizeof(fi->path));
	fi->have_size = true;
	fi->size = (int64_t)ex->ev->size;
	fd = open_binary(ex, ctr);
	if (fd < 0) {
		cw_debug("cannot open %s (pid %u) to hash it: the process and its container are gone",
			 ex->path, ex->ev->tgid);
		return;
	}
	if (cw_file_hash_fd(fd, HASH_CAP, fi) < 0)
		cw_debug("cannot hash %s: read failed", ex->path);
	close(fd);
}

static void emit(struct agent *a, json_t *finding)
{
	json_t *out = finding, *env = NULL;
	char *line;

	if (a->out == OUT_NOTIFICATION) {
		env = cw_finding_notification(&a->cfg, finding);
		if (env)
			out = env;
	}
	line = json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line) {
		fputs(line, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		free(line);
	} else {
		cw_err("cannot serialise a finding (out of memory?)");
	}
	json_decref(env);
}

static void handle_detection(struct agent *a, const struct cw_exec *ex, struct cw_detection *det,
			     struct cw_container *ctr)
{
	struct cw_file_info bin = {0};
	struct cw_finding_input in = {0};
	json_t *f, *stored = NULL;
	char key[8192];
	int err;

	hash_binary(ex, ctr, &bin);
	in.ex = ex;
	in.ctr = ctr;
	in.det = det;
	in.binary = &bin;
	f = cw_finding_build(&a->cfg, &in);
	if (!f) {
		cw_err("cannot build a finding for %s (%s): %s", ex->path, det->rule_id,
		       strerror(errno));
		return;
	}
	if (a->store) {
		snprintf(key, sizeof(key), "%s|%s|%s|%s", det->cat->category,
			 ctr->id[0] ? ctr->id : "host", det->rule_id, ex->path);
		err = cw_store_record(a->store, f, key, DEDUP_WINDOW_MS, &stored);
		if (err) {
			a->store_errors++;
			cw_err("cannot store finding for %s: %s; printing it anyway", ex->path,
			       strerror(-err));
		}
	}
	a->findings++;
	emit(a, stored ? stored : f);
	json_decref(stored);
	json_decref(f);
}

static int on_event(void *ctx, const void *data, size_t len)
{
	struct agent *a = ctx;
	struct cw_detection det = {0};
	struct cw_container ctr = {0};
	int err, hit;

	a->execs++;
	err = cw_exec_decode(data, len, &cur);
	if (err) {
		a->decode_errors++;
		cw_warn("dropped a malformed exec record (%zu bytes)", len);
		return 0;
	}
	cur.time_ns = (int64_t)cur.ev->ts_ns + a->boot_offset_ns;

	hit = cw_catalogue_match(a->cat, &cur, &det);
	if (hit <= 0)
		return 0;
	err = cw_attrib_resolve(a->attrib, &cur, &ctr);
	if (err)
		cw_warn("container attribution failed for pid %u: %s; reporting what is known",
			cur.ev->tgid, strerror(-err));
	if (ctr.in_container || a->host_too) {
		a->in_container++;
		handle_detection(a, &cur, &det, &ctr);
	}
	cw_container_clear(&ctr);
	cw_detection_clear(&det);
	return 0;
}

static int write_pidfile(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
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

static void check_lost(struct agent *a, bool final)
{
	uint64_t c[CW_CNT_MAX];

	if (cw_sensor_counters(a->sensor, c, NULL, 0))
		return;
	if (c[CW_CNT_LOST] > a->last_lost) {
		cw_warn("%llu exec events lost (ring buffer full; %llu lost in total): raise "
			"--ringbuf-mb",
			(unsigned long long)(c[CW_CNT_LOST] - a->last_lost),
			(unsigned long long)c[CW_CNT_LOST]);
		a->last_lost = c[CW_CNT_LOST];
	}
	if (final)
		cw_info("stopped: %llu execs seen by the kernel, %llu filtered in kernel, %llu "
			"delivered, %llu lost; %llu findings",
			(unsigned long long)c[CW_CNT_SEEN], (unsigned long long)c[CW_CNT_FILTERED],
			(unsigned long long)c[CW_CNT_SUBMITTED], (unsigned long long)c[CW_CNT_LOST],
			(unsigned long long)a->findings);
}

static void usage(FILE *f)
{
	fputs("usage: cagewatch run [options]\n"
	      "  --pidfile PATH     write the agent's pid once the sensor is attached\n"
	      "  --config FILE      JSON configuration (organization, project, ...)\n"
	      "  --store PATH       findings store (default /var/lib/cagewatch/findings.db)\n"
	      "  --no-store         do not store findings, only print them\n"
	      "  --catalogue FILE   use this tool catalogue instead of the embedded one\n"
	      "  --output finding|notification\n"
	      "                     print findings, or SCC NotificationMessage envelopes\n"
	      "  --no-args          leave process arguments out of findings\n"
	      "  --host             also report tools run outside containers\n"
	      "  --ringbuf-mb N     kernel ring buffer size in MiB (power of two, default 8)\n"
	      "  -v, --verbose      debug logging\n",
	      f);
}

int cw_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pidfile", required_argument, NULL, 'p'},
		{"config", required_argument, NULL, 'c'},
		{"store", required_argument, NULL, 's'},
		{"no-store", no_argument, NULL, 'S'},
		{"catalogue", required_argument, NULL, 'C'},
		{"output", required_argument, NULL, 'o'},
		{"no-args", no_argument, NULL, 'A'},
		{"host", no_argument, NULL, 'H'},
		{"ringbuf-mb", required_argument, NULL, 'r'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct agent a = {0};
	const char *pidfile = NULL, *config = NULL, *store = NULL, *catfile = NULL;
	bool no_store = false, no_args = false;
	unsigned long ringbuf_mb = 0;
	struct cw_sensor_opts so = {.sz = sizeof(so)};
	struct sigaction sa = {0};
	int opt, err, rc = 2;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': pidfile = optarg; break;
		case 'c': config = optarg; break;
		case 's': store = optarg; break;
		case 'S': no_store = true; break;
		case 'C': catfile = optarg; break;
		case 'A': no_args = true; break;
		case 'H': a.host_too = true; break;
		case 'v': cw_log_set_level(CW_LOG_DEBUG); break;
		case 'o':
			if (!strcmp(optarg, "finding"))
				a.out = OUT_FINDING;
			else if (!strcmp(optarg, "notification"))
				a.out = OUT_NOTIFICATION;
			else {
				cw_err("--output must be 'finding' or 'notification', not '%s'", optarg);
				return 2;
			}
			break;
		case 'r': {
			char *end;

			ringbuf_mb = strtoul(optarg, &end, 10);
			if (*end || !ringbuf_mb || (ringbuf_mb & (ringbuf_mb - 1)) || ringbuf_mb > 1024) {
				cw_err("--ringbuf-mb must be a power of two between 1 and 1024");
				return 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		cw_err("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (geteuid() != 0) {
		cw_err("cagewatch run needs root: the exec sensor loads a BPF program (CAP_BPF, "
		       "CAP_PERFMON) and reads every process's /proc entries; run it with sudo");
		return 2;
	}
	cw_config_defaults(&a.cfg);
	if (config && (err = cw_config_load(&a.cfg, config)))
		return 2;
	if (no_args)
		a.cfg.report_args = false;
	if (store)
		cw_strlcpy(a.cfg.store_path, store, sizeof(a.cfg.store_path));

	if (catfile) {
		char *text;
		size_t len;

		err = cw_read_file(catfile, 64 << 20, &text, &len);
		if (err) {
			cw_err("cannot read catalogue %s: %s", catfile, strerror(-err));
			return 2;
		}
		err = cw_catalogue_load(&a.cat, text, len, catfile);
		free(text);
	} else {
		err = cw_catalogue_load_default(&a.cat);
	}
	if (err) {
		cw_err("no usable tool catalogue; refusing to start");
		return 2;
	}

	err = cw_attrib_new(&a.attrib, NULL);
	if (err) {
		cw_err("cannot set up container attribution: %s", strerror(-err));
		goto out;
	}
	if (!no_store) {
		err = cw_store_open(&a.store, a.cfg.store_path, CW_STORE_CREATE);
		if (err) {
			cw_err("cannot open the findings store %s: %s (use --store PATH or --no-store)",
			       a.cfg.store_path, strerror(-err));
			goto out;
		}
	}

	so.containers_only = !a.host_too;
	so.host_pidns = cw_attrib_host_pidns(a.attrib);
	so.host_mntns = cw_attrib_host_mntns(a.attrib);
	so.ringbuf_bytes = ringbuf_mb << 20;
	so.on_event = on_event;
	so.ctx = &a;
	err = cw_sensor_open(&a.sensor, &so);
	if (err)
		goto out;
	a.boot_offset_ns = cw_boot_to_unix_offset_ns();

	err = cw_attrib_scan(a.attrib);
	if (err < 0)
		cw_warn("scanning running containers failed: %s; they are attributed on first exec",
			strerror(-err));
	else
		cw_info("sensor attached; %d running container(s) known; %zu tools in the catalogue",
			err, cw_catalogue_tool_count(a.cat));

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pidfile && (err = write_pidfile(pidfile))) {
		cw_err("cannot write pid file %s: %s", pidfile, strerror(-err));
		goto out;
	}

	rc = 0;
	for (unsigned tick = 0; !stop_requested; tick++) {
		/* The kernel wakes us only when 64 KiB are pending; the short timeout bounds
		 * exec->finding latency when traffic is light. */
		err = cw_sensor_poll(a.sensor, 2);
		if (err < 0) {
			cw_err("reading the ring buffer failed: %s", strerror(-err));
			rc = 1;
			break;
		}
		if (tick % 500 == 0)
			check_lost(&a, false);
	}
	cw_sensor_poll(a.sensor, 0); /* drain what is already there */
	check_lost(&a, true);
	if (pidfile)
		unlink(pidfile);
out:
	cw_sensor_close(a.sensor);
	cw_store_close(a.store);
	cw_attrib_free(a.attrib);
	cw_catalogue_free(a.cat);
	return rc;
}
