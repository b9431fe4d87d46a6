/* report.c - the worker side of the agent: the report queue, and one pipeline
 * for every report whatever its source: attribution -> the kind's judge ->
 * the SCC finding -> every sink in order (store first, then stdout, then the
 * rest; see sink.h). Adding a source is a report kind and a judge here;
 * adding an output is a sink.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_int.h"
#include "util.h"

/* Exec->finding latency must not depend on how busy the node is: with every
 * CPU taken by workloads, a normal-priority agent waits for a time slice
 * (measured p99 of 100 ms under a 2-worker exec storm). The event thread and
 * the worker run SCHED_FIFO at the lowest real-time priority; the worker drops
 * back to SCHED_OTHER while it reads a file it has never seen (unbounded work). */
static bool realtime_ok = true;

void cw_agent_set_realtime(bool on)
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

struct cw_report *cw_report_new(enum cw_report_kind kind, struct cw_rules *rules)
{
	struct cw_report *r = calloc(1, sizeof(*r));

	if (!r) {
		cw_err("out of memory: a report is lost");
		return NULL;
	}
	r->kind = kind;
	r->rules = cw_rules_ref(rules);
	r->bin_fd = r->script_fd = r->root_fd = r->cwd_fd = -1;
	return r;
}

void cw_report_free(struct cw_report *r)
{
	if (!r)
		return;
	if (r->kind == CW_REPORT_EXEC && r->ev.hold && r->rules) /* never decided: let go */
		cw_held_let_go(r->rules->a, &r->ev);
	r->ev.hold = CW_HOLD_NONE;
	if (r->bin_fd >= 0)
		close(r->bin_fd);
	if (r->script_fd >= 0)
		close(r->script_fd);
	if (r->root_fd >= 0)
		close(r->root_fd);
	if (r->cwd_fd >= 0)
		close(r->cwd_fd);
	free(r->inline_text);
	cw_detection_clear(&r->det);
	cw_detection_clear(&r->content_det);
	cw_detection_clear(&r->exec_det);
	cw_detection_clear(&r->prov_det);
	cw_detection_clear(&r->env_det);
	cw_rules_put(r->rules); /* last: the detections point into it */
	free(r);
}

/* Wait (a->lock held) until the queue has room; false after ENQUEUE_WAIT_S. */
static bool wait_for_space(struct agent *a)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ENQUEUE_WAIT_S;
	while (a->queued >= REPORTS_MAX && !a->stopping)
		if (pthread_cond_timedwait(&a->space, &a->lock, &until) == ETIMEDOUT)
			return a->queued < REPORTS_MAX;
	return true;
}

/* When the queue is full the caller waits for the worker (the ring buffers
 * hold the kernel's records meanwhile and count what they cannot hold); only a
 * worker stuck for ENQUEUE_WAIT_S loses the report, counted in jobs_dropped
 * and named in a warning. */
void cw_report_queue(struct agent *a, struct cw_report *r)
{
	pthread_mutex_lock(&a->lock);
	if (a->queued >= REPORTS_MAX) {
		a->backpressure++;
		if (a->backpressure == 1 || a->backpressure % 1000 == 0)
			cw_warn("the worker is %u jobs behind: event intake waits for it (%llu "
			        "times so far)",
			        a->queued, (unsigned long long)a->backpressure);
		if (!wait_for_space(a)) {
			/* the worker is stuck (a file that never finishes reading, e.g. on
			 * a hung FUSE mount): intake must go on; this report is counted */
			a->jobs_dropped++;
			pthread_mutex_unlock(&a->lock);
			cw_warn("the worker has not taken a job for %d s: dropping the job for %s "
			        "(pid %u); %llu dropped so far",
			        ENQUEUE_WAIT_S, r->ex.path, r->ev.tgid,
			        (unsigned long long)a->jobs_dropped);
			cw_report_free(r);
			return;
		}
	}
	r->next = NULL;
	if (a->tail)
		a->tail->next = r;
	else
		a->head = r;
	a->tail = r;
	a->queued++;
	a->jobs++;
	if (r->kind == CW_REPORT_EXEC && !r->content_cached)
		a->scans_queued++;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

/* Does a configured exception (--technique-exceptions) cover det's rule for
 * this container? Logged and counted when it does. */
static bool excepted(struct agent *a, const struct cw_report *r, const struct cw_detection *det,
                     const struct cw_container *ctr)
{
	const char *why = cw_technique_excepted(r->rules->tq, det->rule_id, ctr->name, ctr->image);

	if (!why)
		return false;
	cw_debug("%s in container %s excepted (%s)", det->rule_id, ctr->name,
	         why[0] ? why : "configured exception");
	pthread_mutex_lock(&a->lock);
	a->excepted++;
	pthread_mutex_unlock(&a->lock);
	return true;
}

/* A technique hit: reported unless a configured exception covers the rule
 * for this container. */
static const struct cw_detection *judge_technique(struct agent *a, struct cw_report *r,
                                                  const struct cw_container *ctr,
                                                  struct cw_judged *jd)
{
	const struct cw_detection *det = r->library ? cw_judge_library(a, r, ctr, jd) : &r->det;

	return !det || excepted(a, r, det, ctr) ? NULL : det;
}

/* A refused exec: the enforcer's verdict is the detection. */
static const struct cw_detection *judge_blocked(struct agent *a, struct cw_report *r,
                                                const struct cw_container *ctr,
                                                struct cw_judged *jd)
{
	(void)a;
	(void)ctr;
	jd->in.binary = &r->bin;
	return &r->det;
}

/* An exec: judged by name, content and script, unless a configured exception
 * covers the tool rule for this container (tool.<id>.<layer> in
 * --technique-exceptions). */
static const struct cw_detection *judge_exec(struct agent *a, struct cw_report *r,
                                             const struct cw_container *ctr, struct cw_judged *jd)
{
	const struct cw_detection *det = cw_judge_exec(a, r, ctr, jd);

	return det && excepted(a, r, det, ctr) ? NULL : det;
}

typedef const struct cw_detection *(*judge_fn)(struct agent *a, struct cw_report *r,
                                               const struct cw_container *ctr,
                                               struct cw_judged *jd);

static const judge_fn judges[CW_REPORT_KINDS] = {
    [CW_REPORT_EXEC] = judge_exec,
    [CW_REPORT_TECHNIQUE] = judge_technique,
    [CW_REPORT_BLOCKED] = judge_blocked,
};

/* How long the parent chain's arguments may take to read (ancestry.h). */
#define ANCESTRY_TIMEOUT_MS 100

/* Build the finding and hand it to every sink. */
static void report_finding(struct agent *a, struct cw_report *r, const struct cw_container *ctr,
                           struct cw_judged *jd, const struct cw_detection *det)
{
	struct cw_ancestry anc;
	char key[8192];
	json_t *f;

	cw_ancestry_read(NULL, &r->ev, ANCESTRY_TIMEOUT_MS, &anc);
	if (!(r->ev.flags & CW_F_CREDS) && ctr->in_container)
		(void)cw_exec_creds_from_proc(NULL, (int)r->ev.tgid, &r->ev); /* gone: unknown */
	jd->in.ancestry = &anc;
	jd->in.ex = &r->ex;
	jd->in.ctr = ctr;
	jd->in.det = det;
	f = cw_finding_build(&r->rules->cfg, &jd->in);
	jd->in.ancestry = NULL; /* anc ends here */
	if (!f) {
		cw_err("cannot build a finding for %s (%s): %s", r->ex.path, det->rule_id,
		       strerror(errno));
		return;
	}
	/* one finding per file: a library's, not the program's that loaded it */
	snprintf(key, sizeof(key), "%s|%s|%s|%s%s", det->cat ? det->cat->category : "",
	         ctr->id[0] ? ctr->id : "host", det->rule_id,
	         r->library ? r->script_path : r->ex.path,
	         r->kind == CW_REPORT_BLOCKED ? "|blocked" : "");
	pthread_mutex_lock(&a->lock);
	a->findings++;
	pthread_mutex_unlock(&a->lock);
	cw_sinks_emit(&a->sinks, f, key);
	json_decref(f);
}

/* Attribution first: it decides whether there is anything to report, and
 * names a live process (the container's init) whose root still holds the
 * file after a short-lived tool has exited. */
static void process_report(struct agent *a, struct cw_report *r)
{
	struct cw_container ctr = {0};
	struct cw_judged jd = {0};
	const struct cw_detection *det;
	int err;

	err = cw_attrib_resolve(a->attrib, &r->ex, &ctr);
	if (err)
		cw_warn("container attribution failed for pid %u: %s; reporting what is known",
		        r->ev.tgid, strerror(-err));
	cw_held_prepare(r);
	if (!ctr.in_container && !a->host_too && !r->host_side) {
		a->not_in_container++;
	} else if ((det = judges[r->kind](a, r, &ctr, &jd))) {
		cw_held_decide(a, r, (struct cw_detection *)det); /* det is r's own */
		report_finding(a, r, &ctr, &jd, det);
	}
	cw_held_decide(a, r, NULL); /* no finding: let it go */
	/* Where the file came from is a finding of its own (Added Binary Executed). */
	if ((det = cw_judge_provenance(r, &ctr, &jd)) && !excepted(a, r, det, &ctr))
		report_finding(a, r, &ctr, &jd, det);
	/* So is the environment it was started with (a proxy, pkexec's GCONV_PATH). */
	if ((det = cw_judge_env(r, &ctr)) && !excepted(a, r, det, &ctr))
		report_finding(a, r, &ctr, &jd, det);
	cw_detection_clear(&jd.script_det);
	cw_container_clear(&ctr);
}

void *cw_report_worker(void *arg)
{
	struct agent *a = arg;

	if (a->realtime)
		cw_agent_set_realtime(true);
	for (;;) {
		struct cw_report *r;

		pthread_mutex_lock(&a->lock);
		while (!a->head && !a->stopping)
			pthread_cond_wait(&a->cond, &a->lock);
		r = a->head;
		if (!r) { /* stopping and drained */
			pthread_mutex_unlock(&a->lock);
			break;
		}
		a->head = r->next;
		if (!a->head)
			a->tail = NULL;
		a->queued--;
		pthread_cond_signal(&a->space);
		pthread_mutex_unlock(&a->lock);
		process_report(a, r);
		cw_report_free(r);
	}
	return NULL;
}
