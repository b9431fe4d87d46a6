/* agent.c - `cagewatch run`: the per-node agent.
 *
 * Two threads. The event thread drains the ring buffer and does only what is
 * cheap: decode, the catalogue's name/argv layer, and a cache-only lookup of
 * the executable's content verdict (keyed by the device, inode, size, mtime and
 * ctime the kernel reported). Only an exec that matched a name, or whose file
 * has never been seen, or that runs a script, becomes a job: the event thread
 * opens the file right away (tools exit fast) and hands the fd over. The worker
 * thread hashes and YARA-scans (src/content.c), attributes the container,
 * builds the SCC finding, writes it to the store and only then prints it, one
 * JSON line on stdout. A slow disk therefore never stalls event intake.
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
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "capture.h"
#include "catalogue.h"
#include "config.h"
#include "container.h"
#include "content.h"
#include "exec.h"
#include "finding.h"
#include "guard.h"
#include "harden.h"
#include "safeopen.h"
#include "enforce.h"
#include "sensor.h"
#include "store.h"
#include "technique.h"
#include "util.h"

#define DEDUP_WINDOW_MS (60 * 1000)
#define HASH_CAP        (64ll << 20)

enum output_format { OUT_FINDING, OUT_NOTIFICATION };

#define JOBS_MAX 256 /* queued jobs; ~24 KiB each: past this the event thread waits */

/* One exec handed from the event thread to the worker. */
struct job {
	struct job *next;
	struct cw_event ev; /* header used; data[] already decoded into ex */
	struct cw_exec ex;
	struct cw_file_key key;
	int bin_fd;        /* < 0: verdict cached (bin/cdet valid) or unopenable */
	int script_fd;     /* < 0: no script, or unopenable */
	int root_fd;       /* O_PATH of the process's root (< 0 if not needed/gone) */
	int cwd_fd;        /* O_PATH of its working directory, for relative operands */
	bool captured;     /* bin_fd came from the exec-time capture */
	char *inline_text; /* program text not in a file (stdin, `-c`), owned */
	size_t inline_len;
	const char *inline_label;  /* its script.path: "/dev/stdin" or "(argv -c)" */
	const char *inline_source; /* sourceProperties.Script_Source */
	uint32_t stdin_flags;      /* CW_TQI_* of a stdin capture */
	int script_kind;           /* cw_catalogue_operand(): 1 script, 2 loaded program */
	char script_path[CW_PATH_MAX + 2];
	bool name_hit, content_cached, content_hit;
	bool technique; /* a technique hit: name_det holds its detection */
	bool blocked;   /* an exec --block refused: content_det holds the verdict */
	bool host_side; /* technique hit about a host usermode-helper exec */
	struct cw_detection name_det, content_det;
	struct cw_file_info bin;
};

struct agent {
	struct cw_config cfg;
	struct cw_catalogue *cat;
	struct cw_content *content;
	struct cw_attrib *attrib; /* resolve on the worker, sync on the event thread */
	struct cw_store *store;   /* worker thread only */
	struct cw_sensor *sensor;
	struct cw_technique *tq; /* NULL when technique detection is off */
	struct cw_technique_rules *tq_rules;
	struct cw_enforce *enforce; /* --block; NULL otherwise */
	struct cw_capture *cap;     /* exec-time file capture; NULL if unavailable */
	struct cw_guard *guard;     /* self-protection; NULL with --no-guard */
	pthread_t enforcer;
	enum output_format out;
	bool host_too; /* also report execs outside containers */
	uint32_t host_pidns, host_mntns;
	int64_t boot_offset_ns;
	const char *stats_path;

	pthread_t worker;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t space; /* signalled when the worker takes a job */
	struct job *head, *tail;
	unsigned queued;
	bool stopping;

	/* event thread */
	uint64_t execs, decode_errors, jobs, jobs_dropped, fast_path, marked_clean;
	uint64_t backpressure;  /* times the event thread waited for queue space */
	uint64_t stdin_scripts; /* interpreters' stdin captures judged */
	/* content scans of executables never judged (worker, under lock) */
	uint64_t scans_queued, scans_done, unreadable[4];
	bool kernel_filter; /* known-clean executables dropped in the kernel */
	bool context_rules; /* some content rule reads name/argv: no capture ignore marks */
	bool no_capture;    /* --no-capture: files are opened after the exec only */
	bool realtime;      /* event thread and worker at SCHED_FIFO 1 */
	/* worker thread (read under lock for stats) */
	uint64_t findings, store_errors, not_in_container, excepted, technique_hits;
	uint64_t last_lost;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void set_realtime(bool on);
static int64_t mono_ms(void);

static struct cw_exec cur; /* ~14 KiB; the event thread handles one exec at a time */

/* Kernel dev_t (major << 20 | minor) to user space's encoding. */
static uint64_t kdev_to_udev(uint32_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

static void key_from_event(const struct cw_event *ev, struct cw_file_key *k)
{
	k->dev = kdev_to_udev(ev->dev);
	k->ino = ev->ino;
	k->size = (int64_t)ev->size;
	k->mtime_sec = ev->mtime_sec;
	k->mtime_nsec = ev->mtime_nsec;
	k->ctime_sec = ev->ctime_sec;
	k->ctime_nsec = ev->ctime_nsec;
}

enum unreadable_reason { UNREAD_GONE, UNREAD_MEMFD, UNREAD_NOT_REGULAR, UNREAD_OTHER };
static const char *const unreadable_names[] = {"process_gone", "memfd_gone", "not_regular",
                                               "open_failed"};

/* Is the file open on fd the one the kernel executed? Same inode and device,
 * or (overlayfs reports its own device) the same inode number or size. */
static bool same_exec_file(int fd, const struct cw_exec *ex)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return false;
	if (st.st_ino == ex->ev->ino && st.st_dev == kdev_to_udev(ex->ev->dev))
		return true;
	return (uint64_t)st.st_size == ex->ev->size;
}

/* Open the executed file after the fact (it was not captured at exec time):
 * /proc/PID/exe while the process lives (memfd and deleted files too), else
 * its path resolved inside the container under the root held since the event,
 * else under the container init's root. Returns an fd or a negative errno. */
static int open_binary(struct job *j, int init_pid)
{
	char p[64];
	int fd, roots[2] = {j->root_fd, -1}, err = -ENOENT;

	snprintf(p, sizeof(p), "/proc/%u/exe", j->ev.tgid);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd >= 0)
		return fd;
	if (j->ex.path[0] != '/')
		return -ENOENT;
	roots[1] = init_pid > 0 ? cw_proc_dir(NULL, init_pid, "root") : -1;
	for (int i = 0; i < 2 && fd < 0; i++) {
		if (roots[i] < 0)
			continue;
		fd = cw_open_beneath(roots[i], j->ex.path);
		if (fd < 0) {
			err = fd;
		} else if (!same_exec_file(fd, &j->ex)) {
			close(fd);
			fd = -ENOENT;
		}
	}
	if (roots[1] >= 0)
		close(roots[1]);
	return fd >= 0 ? fd : err;
}

/* Last resort once the process and its container are gone: the container's
 * root filesystem as its runtime's state named it (held by attribution). An
 * executable must still be the file the kernel ran (ex); *fd keeps its error
 * otherwise. */
static void retry_in_rootfs(struct agent *a, const struct cw_container *ctr, const char *path,
                            int *fd, const struct cw_exec *ex)
{
	int root, f;

	if (path[0] != '/' || !ctr->id[0] || (root = cw_attrib_rootfs(a->attrib, ctr->id)) < 0)
		return;
	f = cw_open_beneath(root, path);
	close(root);
	if (f >= 0 && ex && !same_exec_file(f, ex)) {
		close(f);
		return;
	}
	if (f >= 0)
		*fd = f;
}

/* Open a script (or a program run by ld.so) named by the process: absolute
 * names inside its root (else the container init's), relative ones from its
 * working directory, both held since the event, never through the host's. */
static int open_operand(struct job *j, int init_pid)
{
	const char *name = j->script_path;
	int fd, dir = name[0] == '/' ? j->root_fd : j->cwd_fd;

	fd = cw_open_beneath(dir, name);
	if (fd >= 0 || name[0] != '/' || init_pid <= 0)
		return fd;
	dir = cw_proc_dir(NULL, init_pid, "root");
	if (dir < 0)
		return fd;
	fd = cw_open_beneath(dir, name);
	close(dir);
	return fd;
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

#define RT_READ_MAX (2 << 20) /* bytes hashed and scanned at real-time priority */

/* Bytes the worker will read for this job (binary not yet judged, script). */
static int64_t read_size(const struct job *j)
{
	struct stat st;
	int64_t n = 0;

	if (!j->content_cached)
		n += j->key.size;
	if (j->script_fd >= 0)
		n += fstat(j->script_fd, &st) == 0 ? (int64_t)st.st_size : HASH_CAP;
	return n;
}

/* Worker: the content layers over the executable itself. A file that cannot
 * be read is counted by reason and named in a warning; a file found clean
 * stops raising capture events until it is written. */
static void check_binary(struct agent *a, struct job *j)
{
	const char *argv_c[CW_MAX_ARGS + 1];
	int hit, why;

	for (int i = 0; i <= j->ex.argc; i++)
		argv_c[i] = j->ex.argv[i];
	if (j->bin_fd < 0) {
		why = j->bin_fd == -CW_ENOTREG                 ? UNREAD_NOT_REGULAR
		      : j->ev.flags & CW_F_MEMFD               ? UNREAD_MEMFD
		      : j->bin_fd == -ENOENT || j->root_fd < 0 ? UNREAD_GONE
		                                               : UNREAD_OTHER;
		pthread_mutex_lock(&a->lock);
		a->unreadable[why]++;
		pthread_mutex_unlock(&a->lock);
		cw_warn("cannot read %s (pid %u) to judge it: %s (%s); its content and hash "
		        "were not checked",
		        j->ex.path, j->ev.tgid, unreadable_names[why], cw_open_error(j->bin_fd));
	}
	cw_debug("content check of %s (%lld bytes, pid %u%s)", j->ex.path, (long long)j->key.size,
	         j->ev.tgid, j->captured ? ", captured at exec" : "");
	hit = cw_content_check_fd(a->content, j->bin_fd, j->ex.path, argv_c, j->ex.argc, &j->key,
	                          &j->bin, &j->content_det);
	if (hit < 0)
		cw_warn("content check of %s failed: %s", j->ex.path, strerror(-hit));
	j->content_hit = hit > 0;
	pthread_mutex_lock(&a->lock);
	a->scans_done++;
	pthread_mutex_unlock(&a->lock);
	if (hit == 0 && j->bin_fd >= 0 && a->cap && !a->context_rules &&
	    !(j->ev.flags & CW_F_MEMFD))
		cw_capture_ignore(a->cap, j->bin_fd);
}

/* Worker: the content layers over program text that is no file: what an
 * interpreter read from stdin (`curl | sh`) or got as `-c` (`sh -c "$(cat x)"`).
 * A match becomes the detection, with the script's source and completeness. */
static bool judge_inline(struct agent *a, struct job *j, struct cw_file_info *script)
{
	const char *argv_c[CW_MAX_ARGS + 1];
	struct cw_detection d = {0};
	json_t *extra;
	int hit;

	for (int i = 0; i <= j->ex.argc; i++)
		argv_c[i] = j->ex.argv[i];
	hit = cw_content_check_mem(a->content, j->inline_text, j->inline_len, j->inline_label,
	                           argv_c, j->ex.argc, script, &d);
	if (hit < 0)
		cw_warn("content check of %s (pid %u) failed: %s", j->inline_label, j->ev.tgid,
		        strerror(-hit));
	if (hit <= 0 || j->content_hit) {
		cw_detection_clear(&d);
		return true;
	}
	cw_detection_clear(&j->content_det);
	j->content_det = d;
	j->content_hit = true;
	extra = d.extra ? d.extra : json_object();
	j->content_det.extra = extra;
	json_object_set_new(extra, "Script_Source", json_string(j->inline_source));
	if (j->stdin_flags || !strcmp(j->inline_label, "/dev/stdin"))
		json_object_set_new(
		    extra, "Script_Complete",
		    json_boolean(j->stdin_flags & CW_TQI_EOF && !(j->stdin_flags & CW_TQI_TRUNC)));
	return true;
}

/* Worker: content layers, attribution, finding, store, output. */
static void process_job(struct agent *a, struct job *j)
{
	struct cw_file_info script = {0};
	struct cw_detection script_det = {0};
	struct cw_container ctr = {0};
	struct cw_finding_input in = {0};
	struct cw_detection *det = NULL;
	const char *argv_c[CW_MAX_ARGS + 1];
	json_t *f, *stored = NULL;
	bool have_script = false, reading;
	char key[8192];
	int err, hit;

	for (int i = 0; i <= j->ex.argc; i++)
		argv_c[i] = j->ex.argv[i];

	/* Attribution first: it decides whether there is anything to report, and
	 * names a live process (the container's init) whose root still holds the
	 * file after a short-lived tool has exited. */
	err = cw_attrib_resolve(a->attrib, &j->ex, &ctr);
	if (err)
		cw_warn("container attribution failed for pid %u: %s; reporting what is known",
		        j->ev.tgid, strerror(-err));
	if (!ctr.in_container && !a->host_too && !j->host_side) {
		a->not_in_container++;
		goto out;
	}
	if (j->blocked) {
		det = &j->content_det;
		in.binary = &j->bin;
		goto report;
	}
	if (j->technique) {
		const char *why =
		    cw_technique_excepted(a->tq_rules, j->name_det.rule_id, ctr.name, ctr.image);

		if (why) {
			cw_debug("%s in container %s excepted (%s)", j->name_det.rule_id, ctr.name,
			         why[0] ? why : "configured exception");
			a->excepted++;
			goto out;
		}
		det = &j->name_det;
		goto report;
	}
	/* The event thread captured or opened what it could; the process may have
	 * gone since. */
	if (!j->content_cached && j->bin_fd < 0)
		j->bin_fd = open_binary(j, ctr.init_pid);
	if (j->script_kind && j->script_fd < 0)
		j->script_fd = open_operand(j, ctr.init_pid);
	if (!j->content_cached && j->bin_fd < 0 && !(j->ev.flags & CW_F_MEMFD))
		retry_in_rootfs(a, &ctr, j->ex.path, &j->bin_fd, &j->ex);
	if (j->script_kind && j->script_fd < 0)
		retry_in_rootfs(a, &ctr, j->script_path, &j->script_fd, NULL);

	/* Reading a large file is unbounded work: it runs at normal priority. A
	 * small one (at most RT_READ_MAX, a few ms) stays real-time, or the first
	 * exec of a new tool would wait behind every busy CPU (tens of ms). */
	reading = (!j->content_cached || j->script_fd >= 0) && read_size(j) > RT_READ_MAX;
	if (a->realtime && reading)
		set_realtime(false);
	if (!j->content_cached)
		check_binary(a, j);
	if (j->script_fd >= 0) {
		hit = cw_content_check_fd(a->content, j->script_fd, j->script_path, argv_c,
		                          j->ex.argc, NULL, &script, &script_det);
		have_script = true;
		if (hit < 0)
			cw_warn("content check of %s failed: %s", j->script_path, strerror(-hit));
		if (hit > 0 && !j->content_hit) {
			cw_detection_clear(&j->content_det);
			j->content_det = script_det;
			memset(&script_det, 0, sizeof(script_det));
			j->content_hit = true;
		}
	} else if (j->script_kind) {
		cw_strlcpy(script.path, j->script_path, sizeof(script.path));
		have_script = true;
	} else if (j->inline_text) {
		have_script = judge_inline(a, j, &script);
	}
	if (a->realtime && reading)
		set_realtime(true);
	/* Hash and content evidence outrank a name: they survive renaming. */
	if (j->content_hit)
		det = &j->content_det;
	else if (j->name_hit)
		det = &j->name_det;
	if (!det)
		goto out;
	if (j->content_hit && j->name_hit) {
		if (!det->extra)
			det->extra = json_object();
		json_object_set_new(det->extra, "Name_Rule_Id", json_string(j->name_det.rule_id));
	}
	cw_strlcpy(j->bin.path, j->ex.path, sizeof(j->bin.path));
	if (!j->bin.have_size) {
		j->bin.have_size = true;
		j->bin.size = (int64_t)j->ev.size;
	}
	in.binary = &j->bin;
	in.script = have_script ? &script : NULL;
	if (have_script && j->inline_text) {
		in.script_contents = j->inline_text;
		in.script_contents_len = j->inline_len;
	}
report:
	in.ex = &j->ex;
	in.ctr = &ctr;
	in.det = det;
	f = cw_finding_build(&a->cfg, &in);
	if (!f) {
		cw_err("cannot build a finding for %s (%s): %s", j->ex.path, det->rule_id,
		       strerror(errno));
		goto out;
	}
	if (a->store) {
		snprintf(key, sizeof(key), "%s|%s|%s|%s%s", det->cat ? det->cat->category : "",
		         ctr.id[0] ? ctr.id : "host", det->rule_id, j->ex.path,
		         j->blocked ? "|blocked" : "");
		err = cw_store_record(a->store, f, key, DEDUP_WINDOW_MS, &stored);
		if (err) {
			a->store_errors++;
			cw_err("cannot store finding for %s: %s; printing it anyway", j->ex.path,
			       strerror(-err));
		}
	}
	pthread_mutex_lock(&a->lock);
	a->findings++;
	pthread_mutex_unlock(&a->lock);
	emit(a, stored ? stored : f);
	json_decref(stored);
	json_decref(f);
out:
	cw_detection_clear(&script_det);
	cw_container_clear(&ctr);
}

static void job_free(struct job *j)
{
	if (j->bin_fd >= 0)
		close(j->bin_fd);
	if (j->script_fd >= 0)
		close(j->script_fd);
	if (j->root_fd >= 0)
		close(j->root_fd);
	if (j->cwd_fd >= 0)
		close(j->cwd_fd);
	free(j->inline_text);
	cw_detection_clear(&j->name_det);
	cw_detection_clear(&j->content_det);
	free(j);
}

static void *worker_main(void *arg)
{
	struct agent *a = arg;

	if (a->realtime)
		set_realtime(true);
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&a->lock);
		while (!a->head && !a->stopping)
			pthread_cond_wait(&a->cond, &a->lock);
		j = a->head;
		if (!j) { /* stopping and drained */
			pthread_mutex_unlock(&a->lock);
			break;
		}
		a->head = j->next;
		if (!a->head)
			a->tail = NULL;
		a->queued--;
		pthread_cond_signal(&a->space);
		pthread_mutex_unlock(&a->lock);
		process_job(a, j);
		job_free(j);
	}
	return NULL;
}

#define ENQUEUE_WAIT_S 2 /* longest wait for queue space before a job is dropped */

/* Wait (a->lock held) until the queue has room; false after ENQUEUE_WAIT_S. */
static bool wait_for_space(struct agent *a)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ENQUEUE_WAIT_S;
	while (a->queued >= JOBS_MAX && !a->stopping)
		if (pthread_cond_timedwait(&a->space, &a->lock, &until) == ETIMEDOUT)
			return a->queued < JOBS_MAX;
	return true;
}

/* Hand a job to the worker. When the queue is full the caller waits for the
 * worker (the ring buffers hold the kernel's records meanwhile and count what
 * they cannot hold); only a worker stuck for ENQUEUE_WAIT_S loses the job,
 * counted in jobs_dropped and named in a warning. */
static void enqueue(struct agent *a, struct job *j)
{
	pthread_mutex_lock(&a->lock);
	if (a->queued >= JOBS_MAX) {
		a->backpressure++;
		if (a->backpressure == 1 || a->backpressure % 1000 == 0)
			cw_warn("the worker is %u jobs behind: event intake waits for it (%llu "
			        "times so far)",
			        a->queued, (unsigned long long)a->backpressure);
		if (!wait_for_space(a)) {
			/* the worker is stuck (a file that never finishes reading, e.g. on
			 * a hung FUSE mount): intake must go on; this job is counted */
			a->jobs_dropped++;
			pthread_mutex_unlock(&a->lock);
			cw_warn("the worker has not taken a job for %d s: dropping the job for %s "
			        "(pid %u); %llu dropped so far",
			        ENQUEUE_WAIT_S, j->ex.path, j->ev.tgid,
			        (unsigned long long)a->jobs_dropped);
			job_free(j);
			return;
		}
	}
	j->next = NULL;
	if (a->tail)
		a->tail->next = j;
	else
		a->head = j;
	a->tail = j;
	a->queued++;
	a->jobs++;
	if (!j->content_cached && !j->technique)
		a->scans_queued++;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

/* Technique sensor callback (main thread): hand the hit to the worker, which
 * attributes it, applies exceptions and reports it like any other detection. */
static int on_technique(void *ctx, const struct cw_technique_hit *hit)
{
	struct agent *a = ctx;
	struct job *j = calloc(1, sizeof(*j));

	if (!j) {
		cw_err("out of memory queueing technique hit %s", hit->det.rule_id);
		return 0;
	}
	cw_technique_hit_exec(hit, &j->ev, &j->ex);
	j->bin_fd = j->script_fd = j->root_fd = j->cwd_fd = -1;
	j->technique = true;
	j->host_side = hit->host_side;
	j->name_hit = true; /* never dropped when the queue is full */
	j->name_det = hit->det;
	j->name_det.extra = hit->det.extra ? json_deep_copy(hit->det.extra) : NULL;
	a->technique_hits++;
	enqueue(a, j);
	return 0;
}

/* Technique sensor callback (main thread): an interpreter started without a
 * script read these bytes from its stdin. The worker judges them like a
 * script file; the interpreter itself was judged at its exec. */
static int on_stdin(void *ctx, const struct cw_technique_stdin *in)
{
	static const char *const source[] = {"stdin (pipe)", "stdin (file)", "stdin (socket)"};
	struct agent *a = ctx;
	struct job *j = calloc(1, sizeof(*j));

	if (!j || !(j->inline_text = malloc(in->len ? in->len : 1))) {
		cw_err("out of memory queueing what pid %u read from stdin", in->hit->tgid);
		free(j);
		return 0;
	}
	cw_technique_hit_exec(in->hit, &j->ev, &j->ex);
	memcpy(j->inline_text, in->data, in->len);
	j->inline_len = in->len;
	j->inline_label = "/dev/stdin";
	j->inline_source = source[in->stdin_mode == S_IFREG    ? 1
	                          : in->stdin_mode == S_IFSOCK ? 2
	                                                       : 0];
	/* no flag: sent because the buffer filled, so there may be more */
	j->stdin_flags = in->flags ? in->flags : CW_TQI_TRUNC;
	j->bin_fd = j->script_fd = j->root_fd = j->cwd_fd = -1;
	j->content_cached = true; /* the interpreter's own file is judged at its exec */
	cw_strlcpy(j->bin.path, j->ex.path, sizeof(j->bin.path));
	a->stdin_scripts++;
	enqueue(a, j);
	return 0;
}

/* Enforcer thread: an exec was refused; report it like a detection. */
static void on_block(void *ctx, struct cw_enforce_block *b)
{
	struct agent *a = ctx;
	struct job *j = calloc(1, sizeof(*j));
	json_t *extra;
	int err;

	if (!j) {
		cw_err("out of memory reporting the refused exec of %s", b->path);
		return;
	}
	err = cw_exec_from_proc(NULL, b->pid, &j->ev, &j->ex);
	if (err)
		cw_debug("refused exec of %s: caller %d already gone (%s): reported without it",
		         b->path, b->pid, strerror(-err));
	if (!j->ev.mntns)
		j->ev.mntns = b->mntns;
	j->ev.dev = (uint32_t)((major(b->key.dev) << 20) | (minor(b->key.dev) & 0xfffff));
	j->ev.ino = b->key.ino;
	j->ev.size = (uint64_t)b->key.size;
	cw_strlcpy(j->ex.path, b->path, sizeof(j->ex.path));
	cw_strlcpy(j->ex.filename, b->path, sizeof(j->ex.filename));
	j->bin = b->bin;
	cw_strlcpy(j->bin.path, b->path, sizeof(j->bin.path));
	j->content_det = b->det;
	b->det.extra = NULL; /* moved into the job */
	extra = j->content_det.extra ? j->content_det.extra : json_object();
	j->content_det.extra = extra;
	json_object_set_new(extra, "Blocked", json_true());
	json_object_set_new(extra, "Block_Method",
	                    json_string("fanotify exec permission: execve failed with EPERM "
	                                "before the program's first instruction"));
	j->bin_fd = j->script_fd = j->root_fd = j->cwd_fd = -1;
	j->blocked = true;
	j->content_hit = j->content_cached = true;
	j->name_hit = true; /* never dropped when the queue is full */
	cw_warn("blocked: %s (%s) in the mount namespace %u, caller pid %d", b->path,
	        j->content_det.rule_id, b->mntns, b->pid);
	enqueue(a, j);
}

static void *enforcer_main(void *arg)
{
	struct agent *a = arg;
	int64_t last = mono_ms();

	while (!stop_requested) {
		int err = cw_enforce_handle(a->enforce, 200);

		if (err < 0) {
			cw_err("--block: handling exec permission events failed: %s; execs in "
			       "containers are no longer checked",
			       strerror(-err));
			break;
		}
		if (mono_ms() - last >= 1000) { /* new containers, new mounts */
			cw_enforce_rescan(a->enforce);
			last = mono_ms();
		}
	}
	return NULL;
}

/* Event thread: take what the worker will need before the process can go:
 * the executable as captured at exec time (else /proc/PID/exe), the `#!`
 * script likewise, and O_PATH handles of the process's root and working
 * directory so that paths are later resolved inside the container even after
 * it has exited. No container path is traversed here. */
static void grab_files(struct agent *a, struct job *j, int kind, const char *operand)
{
	uint32_t pid = j->ev.tgid;

	if (!j->content_cached) {
		j->bin_fd = a->cap ? cw_capture_take(a->cap, pid, &j->key) : -ENOENT;
		j->captured = j->bin_fd >= 0;
		if (!j->captured) {
			char p[64];

			snprintf(p, sizeof(p), "/proc/%u/exe", pid);
			j->bin_fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
			if (j->bin_fd < 0)
				j->bin_fd = -errno;
		}
	}
	j->root_fd = cw_proc_dir(NULL, (int)pid, "root");
	if (j->root_fd >= 0 && a->cap) { /* a root on a filesystem not marked yet */
		char p[64];

		snprintf(p, sizeof(p), "/proc/self/fd/%d", j->root_fd);
		cw_capture_add_fs(a->cap, p);
	}
	if (!kind)
		return;
	j->script_kind = kind;
	cw_strlcpy(j->script_path, operand, sizeof(j->script_path));
	if (a->cap && (j->ev.flags & CW_F_SCRIPT) && !strcmp(operand, j->ex.filename))
		j->script_fd = cw_capture_take_script(a->cap, pid, &j->key);
	if (operand[0] != '/')
		j->cwd_fd = cw_proc_dir(NULL, (int)pid, "cwd");
}

static int on_event(void *ctx, const void *data, size_t len)
{
	struct agent *a = ctx;
	struct cw_detection name_det = {0}, cdet = {0};
	struct cw_file_info bin;
	struct cw_file_key key;
	const char *argv_c[CW_MAX_ARGS + 1], *operand = NULL;
	const char *inline_text = NULL;
	struct job *j;
	int name_hit, cached, kind, inl;

	a->execs++;
	if (cw_exec_decode(data, len, &cur)) {
		a->decode_errors++;
		cw_warn("dropped a malformed exec record (%zu bytes)", len);
		return 0;
	}
	/* Sharing the host's pid and mount namespaces: not a container. */
	if (!a->host_too && cur.ev->pidns == a->host_pidns && cur.ev->mntns == a->host_mntns)
		return 0;
	cur.time_ns = (int64_t)cur.ev->ts_ns + a->boot_offset_ns;
	if (a->enforce) /* a new container: mark its mounts from its first execs */
		cw_enforce_watch(a->enforce, cur.ev->mntns, (int)cur.ev->tgid);

	name_hit = cw_catalogue_match(a->cat, &cur, &name_det);
	key_from_event(cur.ev, &key);
	for (int i = 0; i <= cur.argc; i++)
		argv_c[i] = cur.argv[i];
	cached = cw_content_lookup(a->content, &key, cur.path, argv_c, cur.argc, &bin, &cdet);
	kind = cw_catalogue_operand(a->cat, &cur, &operand);
	inl = kind ? 0 : cw_catalogue_inline(a->cat, &cur, &inline_text);
	if (name_hit <= 0 && cached == 0 && kind == 0 && inl <= 0) {
		a->fast_path++;
		/* known-clean executable, no script: nothing to do. If no rule can look
		 * at its name either, let the kernel drop its next execs. */
		if (a->kernel_filter &&
		    !(cur.ev->flags & (CW_F_MEMFD | CW_F_DELETED | CW_F_SCRIPT)) &&
		    !strcmp(cw_basename(cur.filename), cw_basename(cur.path)) &&
		    !cw_catalogue_name_relevant(a->cat, cw_basename(cur.path)) &&
		    !cw_catalogue_name_relevant(a->cat, cw_basename(cur.argc ? cur.argv[0] : "")) &&
		    cw_sensor_mark_clean(a->sensor, cur.ev) == 0)
			a->marked_clean++;
		return 0;
	}

	j = calloc(1, sizeof(*j));
	if (!j) {
		cw_err("out of memory queueing exec of %s", cur.path);
		cw_detection_clear(&name_det);
		cw_detection_clear(&cdet);
		return 0;
	}
	memcpy(&j->ev, cur.ev, offsetof(struct cw_event, data));
	j->ex = cur;
	j->ex.ev = &j->ev;
	for (int i = 0; i < cur.argc; i++)
		j->ex.argv[i] = j->ex.argbuf + (cur.argv[i] - cur.argbuf);
	j->key = key;
	j->name_hit = name_hit > 0;
	j->name_det = name_det;
	j->bin_fd = j->script_fd = j->root_fd = j->cwd_fd = -1;
	if (cached >= 0) {
		j->content_cached = true;
		j->content_hit = cached > 0;
		j->content_det = cdet;
		j->bin = bin;
	}
	grab_files(a, j, kind, operand);
	if (inl > 0 && (j->inline_text = strdup(inline_text))) {
		j->inline_len = strlen(inline_text);
		j->inline_label = "(argv -c)";
		j->inline_source = "command line (-c)";
	}
	cw_attrib_sync(a->attrib); /* parse a new container's state while it exists */
	enqueue(a, j);
	return 0;
}

/* Content scans of never-judged executables (called under a->lock):
 * queued = done + waiting; unreadable ones are counted by reason too. */
static json_t *scan_stats(struct agent *a)
{
	json_t *why = json_object();
	uint64_t total = 0;

	for (size_t i = 0; i < sizeof(a->unreadable) / sizeof(a->unreadable[0]); i++) {
		json_object_set_new(why, unreadable_names[i],
		                    json_integer((json_int_t)a->unreadable[i]));
		total += a->unreadable[i];
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "queued", (json_int_t)a->scans_queued, "done",
	                 (json_int_t)a->scans_done, "unreadable", (json_int_t)total,
	                 "backpressure_waits", (json_int_t)a->backpressure, "stdin_scripts",
	                 (json_int_t)a->stdin_scripts, "unreadable_by_reason", why);
}

/* Self-protection counters and the gap the agent before this one left. */
static json_t *guard_stats(struct cw_guard *g)
{
	struct cw_guard_stats gs;
	json_t *o;

	if (cw_guard_stats(g, &gs))
		return NULL;
	o = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i}", "pinned", gs.pinned, "execs_counted",
	              (json_int_t)gs.execs, "delivered", (json_int_t)gs.submitted, "lost",
	              (json_int_t)gs.lost, "attempts", (json_int_t)gs.attempts, "host_attempts",
	              (json_int_t)gs.host_attempts, "malformed", (json_int_t)gs.malformed,
	              "protected_threads", (int)gs.protected_tids, "protected_objects",
	              (int)gs.protected_objects);
	if (o && gs.previous.found)
		json_object_set_new(o, "previous",
		                    json_pack("{s:i,s:b,s:f,s:I}", "pid", (int)gs.previous.pid,
		                              "clean", gs.previous.clean, "down_seconds",
		                              gs.previous.down_s, "execs_unwatched",
		                              (json_int_t)gs.previous.execs));
	return o;
}

/* An attempt on the agent (guard.c): judged by the technique rules. */
static int on_guard_record(void *ctx, const void *data, size_t len)
{
	struct agent *a = ctx;

	return cw_technique_feed(a->tq, data, len);
}

static json_t *capture_stats(struct cw_capture *cap)
{
	struct cw_capture_stats cs;

	cw_capture_get_stats(cap, &cs);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "events", (json_int_t)cs.events,
	                 "claimed", (json_int_t)cs.claimed, "unclaimed", (json_int_t)cs.unclaimed,
	                 "evicted", (json_int_t)cs.evicted, "overflows", (json_int_t)cs.overflows,
	                 "ignore_marks", (json_int_t)cs.ignore_marks, "filesystems",
	                 (json_int_t)cs.filesystems, "mark_errors", (json_int_t)cs.mark_errors,
	                 "pending", (json_int_t)cs.pending);
}

/* Counters for `cagewatch stats`, written atomically as JSON. */
static void write_stats(struct agent *a)
{
	uint64_t c[CW_CNT_MAX], lost[1024] = {0};
	struct cw_content_stats cs;
	struct cw_technique_stats ts;
	char tmp[4200];
	json_t *o, *per;
	int ncpu = cw_sensor_ncpu(a->sensor);

	if (!a->stats_path || cw_sensor_counters(a->sensor, c, lost, 1024))
		return;
	cw_content_get_stats(a->content, &cs);
	per = json_array();
	for (int i = 0; i < ncpu && i < 1024; i++)
		json_array_append_new(per, json_integer((json_int_t)lost[i]));
	pthread_mutex_lock(&a->lock);
	o = json_pack(
	    "{s:i,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:o},s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},"
	    "s:{s:I,s:I,s:I,s:I}}",
	    "pid", (int)getpid(), "time_ms", (json_int_t)(cw_now_ns() / 1000000), "kernel", "seen",
	    (json_int_t)c[CW_CNT_SEEN], "filtered", (json_int_t)c[CW_CNT_FILTERED], "known_clean",
	    (json_int_t)c[CW_CNT_CLEAN], "delivered", (json_int_t)c[CW_CNT_SUBMITTED], "lost",
	    (json_int_t)c[CW_CNT_LOST], "lost_per_cpu", per, "agent", "processed",
	    (json_int_t)a->execs, "fast_path", (json_int_t)a->fast_path, "marked_clean",
	    (json_int_t)a->marked_clean, "jobs", (json_int_t)a->jobs, "jobs_dropped",
	    (json_int_t)a->jobs_dropped, "queued", (json_int_t)a->queued, "findings",
	    (json_int_t)a->findings, "store_errors", (json_int_t)a->store_errors, "decode_errors",
	    (json_int_t)a->decode_errors, "cache", "hits", (json_int_t)cs.hits, "misses",
	    (json_int_t)cs.misses, "entries", (json_int_t)cs.entries, "bytes_scanned",
	    (json_int_t)cs.bytes_scanned);
	if (o)
		json_object_set_new(o, "scans", scan_stats(a));
	pthread_mutex_unlock(&a->lock);
	if (!o)
		return;
	if (a->cap)
		json_object_set_new(o, "capture", capture_stats(a->cap));
	if (a->guard)
		json_object_set_new(o, "guard", guard_stats(a->guard));
	if (a->tq && cw_technique_stats(a->tq, &ts) == 0)
		json_object_set_new(o, "techniques",
		                    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "syscalls_seen",
		                              (json_int_t)ts.kernel[CW_TQC_SEEN], "filtered",
		                              (json_int_t)ts.kernel[CW_TQC_FILTERED], "delivered",
		                              (json_int_t)ts.kernel[CW_TQC_SUBMITTED], "lost",
		                              (json_int_t)ts.kernel[CW_TQC_LOST], "helper_execs",
		                              (json_int_t)ts.kernel[CW_TQC_UMH], "hits",
		                              (json_int_t)ts.hits, "malformed",
		                              (json_int_t)ts.malformed));
	if (a->enforce) {
		struct cw_enforce_stats es;

		cw_enforce_get_stats(a->enforce, &es);
		json_object_set_new(
		    o, "block",
		    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "clean_marks",
		              (json_int_t)es.clean_marks, "allowed", (json_int_t)es.allowed,
		              "denied", (json_int_t)es.denied, "undecided",
		              (json_int_t)es.undecided, "namespaces", (json_int_t)es.namespaces,
		              "marks", (json_int_t)es.marks, "mark_errors",
		              (json_int_t)es.mark_errors));
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->stats_path);
	{
		FILE *f = cw_fopen_mode(tmp, 0644); /* whatever the umask: nobody forges it */

		if (f && json_dumpf(o, f, JSON_COMPACT) == 0 && fclose(f) == 0) {
			if (rename(tmp, a->stats_path) != 0)
				unlink(tmp);
		} else if (f) {
			fclose(f);
			unlink(tmp);
		}
	}
	json_decref(o);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Exec->finding latency must not depend on how busy the node is: with every
 * CPU taken by workloads, a normal-priority agent waits for a time slice
 * (measured p99 of 100 ms under a 2-worker exec storm). The event thread and
 * the worker run SCHED_FIFO at the lowest real-time priority; the worker drops
 * back to SCHED_OTHER while it reads a file it has never seen (unbounded work). */
static bool realtime_ok = true;

static void set_realtime(bool on)
{
	struct sched_param sp = {.sched_priority = on ? 1 : 0};
	int err;

	if (!realtime_ok)
		return;
	err = pthread_setschedparam(pthread_self(), on ? SCHED_FIFO : SCHED_OTHER, &sp);
	if (err && on) {
		cw_warn("cannot run at real-time priority (%s): findings may be late on a busy "
		        "node; grant CAP_SYS_NICE or pass --no-realtime",
		        strerror(err));
		realtime_ok = false;
	}
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
	uint64_t c[CW_CNT_MAX];
	bool lost = false;

	if (cw_sensor_counters(a->sensor, c, NULL, 0))
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
	struct cw_content_stats cs;
	struct rlimit rl;
	int err;

	/* captured files are descriptors: allow as many as the hard limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	cw_content_get_stats(a->content, &cs);
	a->context_rules = cs.context_rules;
	if (a->no_capture)
		return;
	err = cw_capture_open(&a->cap, NULL);
	if (err)
		cw_warn("cannot capture executed files at exec time (fanotify: %s); files are "
		        "read after the exec and a tool that exits at once may go unjudged",
		        strerror(-err));
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
	      "  --no-kernel-filter send every exec to user space (no known-clean skipping)\n"
	      "  --no-techniques    tools only: no escape-technique sensor (syscalls)\n"
	      "  --no-realtime      run at normal priority (findings may be late on busy nodes)\n"
	      "  --technique-exceptions FILE\n"
	      "                     known-benign technique exceptions by container image or name\n"
	      "  --host             also report tools run outside containers\n"
	      "  --no-harden        keep every capability, no seccomp filter (debugging)\n"
	      "  --no-guard         no self-protection: attempts on the agent (signals,\n"
	      "                     ptrace, bpf() on its programs) are not reported\n"
	      "  --pin-dir DIR      where self-protection pins its programs in bpffs (default\n"
	      "                     " CW_GUARD_PIN_DIR "; \"\" pins nothing: a killed agent\n"
	      "                     then goes unnoticed by the next one)\n"
	      "  --no-stdin-capture do not judge what shells read from stdin (removes the\n"
	      "                     read() hook: ~170 ns per read syscall on this machine)\n"
	      "  --no-capture       do not capture executed files at exec time (fanotify):\n"
	      "                     read them afterwards (a tool that exits at once may be\n"
	      "                     missed; for comparison and kernels without fanotify)\n"
	      "  --block            refuse execs of known tools in containers (fanotify exec\n"
	      "                     permission: judged by content before they start)\n"
	      "  --ringbuf-mb N     kernel ring buffer size in MiB (power of two, default 4)\n"
	      "  --rules DIR        extra YARA rules (*.yar) besides the embedded ones\n"
	      "  --stats-file PATH  counters for `cagewatch stats` (default "
	      "/run/cagewatch/stats.json)\n"
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
	    {"no-kernel-filter", no_argument, NULL, 'K'},
	    {"no-techniques", no_argument, NULL, 'N'},
	    {"no-realtime", no_argument, NULL, 'P'},
	    {"technique-exceptions", required_argument, NULL, 'E'},
	    {"host", no_argument, NULL, 'H'},
	    {"block", no_argument, NULL, 'B'},
	    {"no-capture", no_argument, NULL, 'X'},
	    {"no-harden", no_argument, NULL, 'Z'},
	    {"no-stdin-capture", no_argument, NULL, 'I'},
	    {"no-guard", no_argument, NULL, 'G'},
	    {"pin-dir", required_argument, NULL, 'D'},
	    {"ringbuf-mb", required_argument, NULL, 'r'},
	    {"rules", required_argument, NULL, 'R'},
	    {"stats-file", required_argument, NULL, 'T'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct agent a = {0};
	const char *pidfile = NULL, *config = NULL, *store = NULL, *catfile = NULL,
	           *rules_dir = NULL;
	struct cw_content_opts co = {0};
	char *cattext = NULL;
	size_t catlen = 0;
	bool worker_started = false;
	bool no_store = false, no_args = false, no_kfilter = false, no_techniques = false;
	bool no_realtime = false, block = false, enforcer_started = false, no_harden = false;
	bool no_stdin = false, no_guard = false;
	const char *pin_dir = NULL;
	const char *exceptions = NULL;
	unsigned long ringbuf_mb = 0;
	struct cw_sensor_opts so = {.sz = sizeof(so)};
	struct sigaction sa = {0};
	int opt, err, rc = 2;
	int64_t last_check;
	unsigned checks = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pidfile = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 's':
			store = optarg;
			break;
		case 'S':
			no_store = true;
			break;
		case 'C':
			catfile = optarg;
			break;
		case 'A':
			no_args = true;
			break;
		case 'K':
			no_kfilter = true;
			break;
		case 'N':
			no_techniques = true;
			break;
		case 'G':
			no_guard = true;
			break;
		case 'D':
			pin_dir = optarg;
			break;
		case 'P':
			no_realtime = true;
			break;
		case 'E':
			exceptions = optarg;
			break;
		case 'R':
			rules_dir = optarg;
			break;
		case 'T':
			a.stats_path = optarg;
			break;
		case 'H':
			a.host_too = true;
			break;
		case 'B':
			block = true;
			break;
		case 'X':
			a.no_capture = true;
			break;
		case 'Z':
			no_harden = true;
			break;
		case 'I':
			no_stdin = true;
			break;
		case 'v':
			cw_log_set_level(CW_LOG_DEBUG);
			break;
		case 'o':
			if (!strcmp(optarg, "finding"))
				a.out = OUT_FINDING;
			else if (!strcmp(optarg, "notification"))
				a.out = OUT_NOTIFICATION;
			else {
				cw_err("--output must be 'finding' or 'notification', not '%s'",
				       optarg);
				return 2;
			}
			break;
		case 'r': {
			char *end;

			ringbuf_mb = strtoul(optarg, &end, 10);
			if (*end || !ringbuf_mb || (ringbuf_mb & (ringbuf_mb - 1)) ||
			    ringbuf_mb > 1024) {
				cw_err("--ringbuf-mb must be a power of two between 1 and 1024");
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
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
		err = cw_read_file(catfile, 64 << 20, &cattext, &catlen);
		if (err) {
			cw_err("cannot read catalogue %s: %s", catfile, cw_strerror(err));
			return 2;
		}
		err = cw_catalogue_load(&a.cat, cattext, catlen, catfile);
	} else {
		err = cw_catalogue_load_default(&a.cat);
	}
	if (err) {
		cw_err("no usable tool catalogue; refusing to start");
		free(cattext);
		return 2;
	}
	co.user_rules_dir = rules_dir;
	co.catalogue = a.cat;
	co.catalogue_text = cattext;
	co.catalogue_len = catlen;
	co.catalogue_origin = catfile;
	err = cw_content_new(&a.content, &co);
	if (err) {
		cw_err("the content rules could not be loaded; refusing to start");
		goto out;
	}
	if (!a.stats_path)
		a.stats_path = "/run/cagewatch/stats.json";
	if (!strncmp(a.stats_path, "/run/cagewatch/", 15))
		mkdir("/run/cagewatch", 0755);
	pthread_mutex_init(&a.lock, NULL);
	pthread_cond_init(&a.cond, NULL);
	pthread_cond_init(&a.space, NULL);

	err = cw_attrib_new(&a.attrib, NULL);
	if (err) {
		cw_err("cannot set up container attribution: %s", strerror(-err));
		goto out;
	}
	if (!no_store) {
		err = cw_store_open(&a.store, a.cfg.store_path, CW_STORE_CREATE);
		if (err) {
			cw_err("cannot open the findings store %s: %s (use --store PATH or "
			       "--no-store)",
			       a.cfg.store_path, strerror(-err));
			goto out;
		}
	}

	a.kernel_filter = !no_kfilter;
	a.host_pidns = cw_attrib_host_pidns(a.attrib);
	a.host_mntns = cw_attrib_host_mntns(a.attrib);
	so.containers_only = !a.host_too;
	so.host_pidns = a.host_pidns;
	so.host_mntns = a.host_mntns;
	so.ringbuf_bytes = ringbuf_mb << 20;
	so.on_event = on_event;
	so.ctx = &a;
	err = cw_sensor_open(&a.sensor, &so);
	if (err)
		goto out;
	a.boot_offset_ns = cw_boot_to_unix_offset_ns();
	open_capture(&a);

	if (!no_techniques) {
		struct cw_technique_opts to = {.sz = sizeof(to)};

		err = cw_technique_rules_load_default(&a.tq_rules);
		if (!err && exceptions) {
			char *text = NULL;
			size_t len;

			err = cw_read_file(exceptions, 16 << 20, &text, &len);
			if (err)
				cw_err("cannot read technique exceptions %s: %s", exceptions,
				       cw_strerror(err));
			else
				err =
				    cw_technique_exceptions_load(a.tq_rules, text, len, exceptions);
			free(text);
		}
		if (err) {
			cw_err("technique rules could not be loaded; refusing to start");
			goto out;
		}
		to.host_pidns = a.host_pidns;
		to.host_mntns = a.host_mntns;
		to.rules = a.tq_rules;
		to.on_detection = on_technique;
		to.on_stdin = on_stdin;
		to.no_stdin = no_stdin;
		to.ctx = &a;
		err = cw_technique_open(&a.tq, &to);
		if (err) {
			cw_err("the escape-technique sensor could not start; use --no-techniques "
			       "to run with tool detection only");
			goto out;
		}
	}

	if (!no_guard) {
		struct cw_guard_opts go = {.sz = sizeof(go),
		                           .pin_dir = pin_dir,
		                           .host_pidns = a.host_pidns,
		                           .host_mntns = a.host_mntns,
		                           .on_record = a.tq ? on_guard_record : NULL,
		                           .ctx = &a};

		if ((err = cw_guard_open(&a.guard, &go))) {
			cw_err("self-protection could not start; --no-guard runs without it");
			goto out;
		}
		if (!a.tq)
			cw_warn("--no-techniques: attempts on the agent are counted, not reported");
	}

	err = cw_attrib_scan(a.attrib);
	if (err < 0)
		cw_warn("scanning running containers failed: %s; they are attributed on first exec",
		        strerror(-err));
	else
		cw_info(
		    "sensor attached; %d running container(s) known; %zu tools in the catalogue",
		    err, cw_catalogue_tool_count(a.cat));

	if (block) {
		struct cw_enforce_opts eo = {.content = a.content,
		                             .host_mntns = a.host_mntns,
		                             .on_block = on_block,
		                             .ctx = &a};

		err = cw_enforce_open(&a.enforce, &eo);
		if (err) {
			cw_err("--block could not start; run without it to detect only");
			goto out;
		}
		err = cw_enforce_rescan(a.enforce);
		cw_info("--block: execs of known tools in containers are refused; %d container "
		        "mount namespace(s) watched",
		        err < 0 ? 0 : err);
	}

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Loading the sensor parsed the kernel's BTF (megabytes, freed since):
	 * give those pages back so the agent's footprint is what it uses. */
	malloc_trim(0);

	a.realtime = !no_realtime;
	if (a.realtime)
		set_realtime(true);
	malloc_trim(0); /* the technique sensor parsed BTF too */
	/* Everything is loaded and open: give up what the agent no longer needs
	 * before any other thread exists (capabilities are per thread). */
	if (!no_harden && (err = cw_harden())) {
		cw_err("refusing to run with more privileges than needed; --no-harden runs "
		       "without dropping them");
		goto out;
	}
	err = pthread_create(&a.worker, NULL, worker_main, &a);
	if (err) {
		cw_err("cannot start the worker thread: %s", strerror(err));
		goto out;
	}
	worker_started = true;
	if (a.enforce) {
		err = pthread_create(&a.enforcer, NULL, enforcer_main, &a);
		if (err) {
			cw_err("cannot start the --block thread: %s", strerror(err));
			goto out;
		}
		enforcer_started = true;
	}

	if (a.guard && (err = cw_guard_protect(a.guard)) < 0)
		cw_warn("self-protection cannot register the agent's threads and BPF objects: %s",
		        strerror(-err));

	if (pidfile && (err = write_pidfile(pidfile))) {
		cw_err("cannot write pid file %s: %s", pidfile, strerror(-err));
		goto out;
	}

	rc = 0;
	last_check = mono_ms();
	while (!stop_requested) {
		struct pollfd pfd[4] = {
		    {.fd = cw_sensor_fd(a.sensor), .events = POLLIN},
		    {.fd = a.tq ? cw_technique_fd(a.tq) : -1, .events = POLLIN},
		    {.fd = cw_attrib_fd(a.attrib), .events = POLLIN},
		    {.fd = a.guard ? cw_guard_fd(a.guard) : -1, .events = POLLIN}};
		int64_t now;
		int n = 0;

		/* Sleep until the kernel wakes us (first unconsumed record) or 100 ms
		 * pass; then drain both sensors and let the next batch gather for 2 ms.
		 * An idle node costs 10 wake-ups a second, a storm at most ~500. */
		if (poll(pfd, 4, 100) < 0 && errno != EINTR) {
			cw_err("waiting for the sensors failed: %s", strerror(errno));
			rc = 1;
			break;
		}
		cw_attrib_sync(a.attrib); /* containers started or ended: before their execs */
		err = cw_sensor_consume(a.sensor);
		if (err >= 0) {
			n += err;
			if (a.tq) {
				err = cw_technique_poll(a.tq, 0);
				n += err > 0 ? err : 0;
			}
			if (a.guard && err >= 0 && (err = cw_guard_consume(a.guard)) > 0)
				n += err;
		}
		if (err < 0) {
			cw_err("reading the ring buffer failed: %s", strerror(-err));
			rc = 1;
			break;
		}
		now = mono_ms();
		if (now - last_check >= 100) { /* losses are reported within 100 ms */
			bool lost = check_lost(&a, false);

			cw_capture_expire(a.cap, lost);
			cw_technique_stdin_sweep(a.tq);
			if (++checks % 5 == 0)
				write_stats(&a);
			if (checks % 10 == 0 && a.guard && (err = cw_guard_beat(a.guard)))
				cw_warn("self-protection heartbeat failed: %s", strerror(-err));
			last_check = now;
		}
		if (n > 0) { /* let the next batch gather; a container's state wakes us */
			struct pollfd w = {.fd = cw_attrib_fd(a.attrib), .events = POLLIN};

			if (poll(&w, 1, 2) > 0)
				cw_attrib_sync(a.attrib);
		}
	}
	cw_sensor_poll(a.sensor, 0); /* drain what is already there */
	if (a.tq)
		cw_technique_poll(a.tq, 0);
	if (a.guard)
		cw_guard_consume(a.guard);
	check_lost(&a, true);
	write_stats(&a);
	if (pidfile)
		unlink(pidfile);
out:
	if (enforcer_started) {
		stop_requested = 1;
		pthread_join(a.enforcer, NULL);
	}
	cw_enforce_close(a.enforce); /* the kernel allows what was still pending */
	if (worker_started) {
		pthread_mutex_lock(&a.lock);
		a.stopping = true;
		pthread_cond_signal(&a.cond);
		pthread_cond_broadcast(&a.space);
		pthread_mutex_unlock(&a.lock);
		pthread_join(a.worker, NULL);
	}
	cw_guard_close(a.guard, rc == 0 && stop_requested);
	cw_technique_close(a.tq);
	cw_capture_close(a.cap);
	cw_technique_rules_free(a.tq_rules);
	cw_sensor_close(a.sensor);
	cw_content_free(a.content);
	free(cattext);
	cw_store_close(a.store);
	cw_attrib_free(a.attrib);
	cw_catalogue_free(a.cat);
	return rc;
}

/* Prometheus text exposition of the stats file: one metric per counter, the
 * JSON's sections as name parts ("kernel"."lost" -> cagewatch_kernel_lost_total),
 * per-CPU losses labelled by cpu. Only counters are exported; pid and time
 * become cagewatch_agent_pid and cagewatch_stats_time_seconds. */
static const struct {
	const char *section, *key, *metric, *help;
	bool gauge;
} prom[] = {
    {"kernel", "seen", "kernel_execs_seen_total", "execs the exec sensor saw", false},
    {"kernel", "filtered", "kernel_execs_filtered_total", "host execs dropped in the kernel",
     false},
    {"kernel", "known_clean", "kernel_execs_known_clean_total",
     "execs of known-clean files dropped in the kernel", false},
    {"kernel", "delivered", "kernel_execs_delivered_total", "exec records sent to the agent",
     false},
    {"kernel", "lost", "kernel_execs_lost_total", "exec records lost (ring buffer full)", false},
    {"agent", "processed", "agent_execs_processed_total", "exec records the agent handled", false},
    {"agent", "jobs_dropped", "agent_jobs_dropped_total",
     "unmatched execs not content-checked (queue full)", false},
    {"agent", "queued", "agent_queue_length", "jobs waiting for the worker", true},
    {"scans", "queued", "scans_queued_total", "never-judged executables queued for a scan", false},
    {"scans", "done", "scans_done_total", "never-judged executables scanned", false},
    {"scans", "unreadable", "scans_unreadable_total",
     "executables that could not be read to judge them", false},
    {"scans", "backpressure_waits", "scans_backpressure_waits_total",
     "times event intake waited for the worker", false},
    {"capture", "events", "capture_events_total", "exec opens captured at exec time", false},
    {"capture", "claimed", "capture_claimed_total", "exec records given their captured file",
     false},
    {"capture", "unclaimed", "capture_unclaimed_total", "captured files no exec record asked for",
     false},
    {"capture", "evicted", "capture_evicted_total", "captured files closed early (table full)",
     false},
    {"capture", "overflows", "capture_overflows_total", "capture queue overflows", false},
    {"capture", "ignore_marks", "capture_ignore_marks_total",
     "files that stopped raising capture events", false},
    {"agent", "findings", "agent_findings_total", "findings reported", false},
    {"agent", "store_errors", "agent_store_errors_total", "findings the store refused", false},
    {"agent", "decode_errors", "agent_decode_errors_total", "malformed exec records", false},
    {"cache", "hits", "content_cache_hits_total", "content verdicts served from the cache", false},
    {"cache", "misses", "content_cache_misses_total", "files hashed and scanned", false},
    {"cache", "entries", "content_cache_entries", "cached verdicts", true},
    {"cache", "bytes_scanned", "content_scanned_bytes_total", "bytes hashed and scanned", false},
    {"techniques", "syscalls_seen", "technique_syscalls_seen_total",
     "watched syscalls seen by the technique sensor", false},
    {"techniques", "delivered", "technique_records_delivered_total",
     "technique records sent to the agent", false},
    {"techniques", "lost", "technique_records_lost_total",
     "technique records lost (ring buffer full)", false},
    {"techniques", "hits", "technique_hits_total", "technique rule matches", false},
    {"block", "denied", "block_execs_denied_total", "container execs refused (--block)", false},
    {"block", "allowed", "block_execs_allowed_total", "container execs allowed (--block)", false},
    {"block", "undecided", "block_execs_undecided_total",
     "container execs allowed for want of a verdict (--block)", false},
    {"block", "marks", "block_mount_marks_total", "container mounts marked (--block)", false},
    {"block", "clean_marks", "block_clean_files_total",
     "clean files the kernel no longer asks about (--block)", false},
    {"guard", "attempts", "guard_attempts_total",
     "attempts on the agent from containers (signals, ptrace, bpf)", false},
    {"guard", "host_attempts", "guard_host_attempts_total",
     "attempts on the agent from host processes (logged only)", false},
    {"guard", "lost", "guard_records_lost_total",
     "records of attempts on the agent lost (ring buffer full)", false},
    {"guard", "execs_counted", "guard_execs_counted_total",
     "execs counted by the pinned self-protection counter", false},
};

static void print_prometheus(json_t *o)
{
	json_t *per = json_object_get(json_object_get(o, "kernel"), "lost_per_cpu"), *v;
	size_t i;

	printf("# HELP cagewatch_stats_time_seconds when the agent wrote these counters\n"
	       "# TYPE cagewatch_stats_time_seconds gauge\n"
	       "cagewatch_stats_time_seconds %.3f\n",
	       (double)json_integer_value(json_object_get(o, "time_ms")) / 1000.0);
	printf("# HELP cagewatch_agent_pid process id of the running agent\n"
	       "# TYPE cagewatch_agent_pid gauge\ncagewatch_agent_pid %lld\n",
	       (long long)json_integer_value(json_object_get(o, "pid")));
	for (i = 0; i < sizeof(prom) / sizeof(prom[0]); i++) {
		v = json_object_get(json_object_get(o, prom[i].section), prom[i].key);
		if (!json_is_integer(v))
			continue; /* e.g. no technique sensor */
		printf("# HELP cagewatch_%s %s\n# TYPE cagewatch_%s %s\ncagewatch_%s %lld\n",
		       prom[i].metric, prom[i].help, prom[i].metric,
		       prom[i].gauge ? "gauge" : "counter", prom[i].metric,
		       (long long)json_integer_value(v));
	}
	v = json_object_get(json_object_get(o, "guard"), "previous");
	if (v)
		printf(
		    "# HELP cagewatch_guard_previous_down_seconds how long no agent ran before "
		    "this one\n# TYPE cagewatch_guard_previous_down_seconds gauge\n"
		    "cagewatch_guard_previous_down_seconds %.3f\n"
		    "# HELP cagewatch_guard_previous_execs_unwatched execs that ran while no agent "
		    "did\n# TYPE cagewatch_guard_previous_execs_unwatched gauge\n"
		    "cagewatch_guard_previous_execs_unwatched %lld\n",
		    json_real_value(json_object_get(v, "down_seconds")),
		    (long long)json_integer_value(json_object_get(v, "execs_unwatched")));
	if (json_array_size(per)) {
		printf(
		    "# HELP cagewatch_kernel_execs_lost_per_cpu_total exec records lost, by CPU\n"
		    "# TYPE cagewatch_kernel_execs_lost_per_cpu_total counter\n");
		json_array_foreach(per, i, v)
		{
			printf("cagewatch_kernel_execs_lost_per_cpu_total{cpu=\"%zu\"} %lld\n", i,
			       (long long)json_integer_value(v));
		}
	}
}

/* `cagewatch stats [--stats-file PATH] [--format text|json|prometheus]`: the
 * running agent's counters (--json is --format json). */
int cw_cmd_stats(int argc, char **argv)
{
	const char *path = "/run/cagewatch/stats.json", *format = "text";
	json_error_t jerr;
	json_t *o, *k, *ag, *c, *t, *bl, *gd, *pv;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			format = "json";
		else if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strcmp(argv[i], "--stats-file") && i + 1 < argc)
			path = argv[++i];
		else {
			cw_err("usage: cagewatch stats [--stats-file PATH] "
			       "[--format text|json|prometheus] [--json]");
			return 2;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "prometheus")) {
		cw_err("unknown --format \"%s\": use text, json or prometheus", format);
		return 2;
	}
	o = json_load_file(path, 0, &jerr);
	if (!o) {
		cw_err(
		    "no agent statistics at %s (%s): is `cagewatch run` running? (it writes them "
		    "every half second; --stats-file names another place)",
		    path, jerr.text);
		return 2;
	}
	if (!strcmp(format, "json")) {
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return 0;
	}
	if (!strcmp(format, "prometheus")) {
		print_prometheus(o);
		json_decref(o);
		return 0;
	}
	k = json_object_get(o, "kernel");
	ag = json_object_get(o, "agent");
	c = json_object_get(o, "cache");
	t = json_object_get(o, "techniques");
	bl = json_object_get(o, "block");
	gd = json_object_get(o, "guard");
	pv = json_object_get(gd, "previous");
#define I(obj, key) ((long long)json_integer_value(json_object_get(obj, key)))
	printf("agent pid %lld\n", I(o, "pid"));
	printf(
	    "kernel:  seen %lld  filtered (host) %lld  skipped (known clean) %lld  delivered %lld  "
	    "lost %lld\n",
	    I(k, "seen"), I(k, "filtered"), I(k, "known_clean"), I(k, "delivered"), I(k, "lost"));
	printf("agent:   processed %lld  known-clean fast path %lld  marked clean in kernel %lld  "
	       "jobs %lld  dropped %lld  "
	       "findings %lld  store errors %lld\n",
	       I(ag, "processed"), I(ag, "fast_path"), I(ag, "marked_clean"), I(ag, "jobs"),
	       I(ag, "jobs_dropped"), I(ag, "findings"), I(ag, "store_errors"));
	printf("cache:   hits %lld  misses %lld  entries %lld  bytes scanned %lld\n", I(c, "hits"),
	       I(c, "misses"), I(c, "entries"), I(c, "bytes_scanned"));
	if (t)
		printf("techniques: syscalls seen %lld  delivered %lld  lost %lld  hits %lld  "
		       "helper execs %lld\n",
		       I(t, "syscalls_seen"), I(t, "delivered"), I(t, "lost"), I(t, "hits"),
		       I(t, "helper_execs"));
	if (bl)
		printf(
		    "block:   refused %lld  allowed %lld  undecided %lld  namespaces %lld  mount "
		    "marks %lld (errors %lld)  clean files no longer asked about %lld\n",
		    I(bl, "denied"), I(bl, "allowed"), I(bl, "undecided"), I(bl, "namespaces"),
		    I(bl, "marks"), I(bl, "mark_errors"), I(bl, "clean_marks"));
	if (gd)
		printf(
		    "guard:   %s  attempts from containers %lld  from the host %lld  lost %lld\n",
		    json_is_true(json_object_get(gd, "pinned")) ? "pinned" : "not pinned",
		    I(gd, "attempts"), I(gd, "host_attempts"), I(gd, "lost"));
	if (pv)
		printf("gap:     agent pid %lld stopped %s; no agent for %.1f s; %lld execs "
		       "unwatched\n",
		       I(pv, "pid"),
		       json_is_true(json_object_get(pv, "clean")) ? "on its own"
		                                                  : "without shutting down",
		       json_real_value(json_object_get(pv, "down_seconds")),
		       I(pv, "execs_unwatched"));
#undef I
	json_decref(o);
	return 0;
}
