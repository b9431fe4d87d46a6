/* sink_remote.c - outputs to other machines, named by URL (see sink.h): the
 * delivery loop they share, over a transport of their own (sink_http.c,
 * sink_syslog.c; sink_remote.h is their table).
 *
 * A remote sink never holds the finding it is handed: the store sink before
 * it has already appended the finding to the store's outbox in the
 * finding's own transaction (store_outbox.c), and emit only wakes the
 * sink's thread. The thread, with its own store connection, delivers the
 * outbox in order from its recorded position, retrying one row with
 * exponential backoff (100 ms doubling to 30 s) until its peer takes it, and
 * moves the position only then. Detection never waits for a peer; a dead peer
 * holds only its own sink; a restart resumes where delivery stopped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "sink.h"
#include "sink_remote.h"
#include "store.h"
#include "util.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   30000
#define IDLE_WAIT_MS     1000 /* a missed wake-up costs at most this */
#define BATCH            256  /* rows read and acknowledged at once */

static const struct cw_transport_ops *const transports[] = {
    &cw_transport_http, &cw_transport_syslog, &cw_transport_nats};

/* scheme[+transport]://rest: which transport takes it, with its mode. */
static const struct cw_transport_ops *find_transport(const char *url, struct cw_remote *r)
{
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (transports[i]->parse(r, url) == 0)
			return transports[i];
	return NULL;
}

/* Sleep up to ms, or until woken (a new finding, or stopping). */
static void nap(struct cw_remote *r, int64_t ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&r->lock);
	while (!r->stopping && !r->kicked)
		if (pthread_cond_timedwait(&r->wake, &r->lock, &until) == ETIMEDOUT)
			break;
	r->kicked = false;
	pthread_mutex_unlock(&r->lock);
}

static bool stopping(struct cw_remote *r)
{
	bool s;

	pthread_mutex_lock(&r->lock);
	s = r->stopping;
	pthread_mutex_unlock(&r->lock);
	return s;
}

static void count(struct cw_remote *r, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&r->lock);
	*field += n;
	pthread_mutex_unlock(&r->lock);
}

/* One attempt at fs[0..n): the transport's batch send, else one by one.
 * *done: how many of them the peer has (a prefix). */
static int send_some(struct cw_remote *r, json_t **fs, size_t n, size_t *done)
{
	int err = 0;

	if (r->ops->send_batch)
		return r->ops->send_batch(r, fs, n, done);
	for (*done = 0; *done < n && !(err = r->ops->send(r, fs[*done]));)
		(*done)++;
	return err;
}

/* Deliver the rows until the peer takes them all or the agent stops. Returns
 * how many were taken (a prefix). */
static size_t deliver(struct cw_remote *r, json_t **fs, size_t n)
{
	int64_t backoff = BACKOFF_FIRST_MS;
	size_t taken = 0, done;
	int err;

	while ((err = send_some(r, fs + taken, n - taken, &done)) != 0) {
		taken += done;
		count(r, &r->n.retried, 1);
		if (r->n.retried == 1 || r->n.retried % 100 == 0)
			cw_warn(
			    "sink %s: delivery failed (%s): retrying in %lld ms; findings wait in "
			    "the outbox (%llu retries so far)",
			    r->display, r->why[0] ? r->why : strerror(-err), (long long)backoff,
			    (unsigned long long)r->n.retried);
		if (stopping(r))
			return taken;
		nap(r, backoff);
		if (stopping(r))
			return taken;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	return taken + done;
}

/* The outbox's extent and this sink's position; false on a store error. */
static bool refresh(struct cw_remote *r, struct cw_store *st, struct cw_outbox_state *os)
{
	int err = cw_store_outbox_state(st, r->display, os);

	if (err) {
		cw_warn("sink %s: cannot read the outbox: %s", r->display, strerror(-err));
		return false;
	}
	pthread_mutex_lock(&r->lock);
	r->n.position = os->position;
	r->n.lag = os->head > os->position ? os->head - os->position : 0;
	r->n.skipped = (uint64_t)os->skipped;
	pthread_mutex_unlock(&r->lock);
	return true;
}

/* One step: the next rows after pos (up to BATCH), delivered and
 * acknowledged with one position update. Returns false when there was
 * nothing to do (or it could not be done now). */
static bool step(struct cw_remote *r, struct cw_store *st, int64_t *pos)
{
	int64_t seqs[BATCH], gap;
	json_t *fs[BATCH];
	size_t n = 0, taken;
	int err = cw_store_outbox_next_n(st, *pos, BATCH, seqs, fs, &n);

	if (err == -EBADMSG) { /* cannot happen short of damage: say so, skip it */
		cw_err("sink %s: outbox row %lld is not JSON: skipped", r->display,
		       (long long)seqs[0]);
		(void)cw_store_outbox_ack(st, r->display, seqs[0], 1);
		*pos = seqs[0];
		return true;
	}
	if (err)
		return false;
	gap = seqs[0] - *pos - 1;
	if (gap > 0 && *pos > 0)
		cw_warn("sink %s: %lld finding(s) left the bounded outbox before they were "
		        "delivered (counted in skipped)",
		        r->display, (long long)gap);
	if (*pos == 0 || gap < 0)
		gap = 0; /* a new sink starts at the oldest row kept */
	taken = deliver(r, fs, n);
	for (size_t i = 0; i < n; i++)
		json_decref(fs[i]);
	if (!taken)
		return false;
	if ((err = cw_store_outbox_ack(st, r->display, seqs[taken - 1], gap)))
		cw_warn("sink %s: cannot record the delivery position (%s): the findings may be "
		        "sent again after a restart",
		        r->display, strerror(-err));
	*pos = seqs[taken - 1];
	count(r, &r->n.delivered, taken);
	return true;
}

static void *remote_main(void *arg)
{
	struct cw_remote *r = arg;
	struct cw_outbox_state os;
	struct cw_store *st = NULL;
	int err;

	while ((err = cw_store_open(&st, r->store_path, 0)) && !stopping(r)) {
		cw_warn("sink %s: cannot open the outbox %s (%s): retrying", r->display,
		        r->store_path, strerror(-err));
		nap(r, BACKOFF_MAX_MS);
	}
	while (st && !stopping(r)) {
		if (!refresh(r, st, &os)) {
			nap(r, IDLE_WAIT_MS);
			continue;
		}
		if (!step(r, st, &os.position))
			nap(r, IDLE_WAIT_MS);
	}
	if (st)
		(void)refresh(r, st, &os);
	r->ops->close(r);
	cw_store_close(st);
	return NULL;
}

/* The sink set calls this after the store sink recorded the finding. */
static int remote_emit(struct cw_sink *s, struct cw_sink_item *it)
{
	struct cw_remote *r = s->priv;

	(void)it;
	pthread_mutex_lock(&r->lock);
	r->kicked = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void remote_close(struct cw_sink *s)
{
	struct cw_remote *r = s->priv;

	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->stopping = true;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static json_t *remote_stats(struct cw_sink *s)
{
	struct cw_remote *r = s->priv;
	json_t *o;

	pthread_mutex_lock(&r->lock);
	o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "url", r->display, "delivered",
	              (json_int_t)r->n.delivered, "retried", (json_int_t)r->n.retried, "skipped",
	              (json_int_t)r->n.skipped, "lag", (json_int_t)r->n.lag, "position",
	              (json_int_t)r->n.position);
	pthread_mutex_unlock(&r->lock);
	return o;
}

static const struct cw_sink_ops remote_ops = {
    .kind = "remote",
    .emit = remote_emit,
    .close = remote_close,
    .stats = remote_stats,
};

struct cw_sink *cw_sink_remote_new(const char *url, const char *store_path,
                                   const struct cw_config *cfg)
{
	struct cw_remote *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	struct cw_sink *s;
	char name[64];

	if (!r)
		return NULL;
	if (strlen(url) >= sizeof(r->url) || !(r->ops = find_transport(url, r))) {
		cw_err("--sink %s: not a sink URL: expected http(s)://, falco+http(s)://, "
		       "nats://HOST[:PORT][,...]?stream=NAME, syslog:///dev/log, "
		       "syslog+udp://HOST[:PORT] or syslog+tcp://HOST[:PORT]",
		       url);
		free(r);
		return NULL;
	}
	cw_strlcpy(r->url, url, sizeof(r->url));
	cw_url_redact(url, r->display, sizeof(r->display));
	cw_strlcpy(r->store_path, store_path, sizeof(r->store_path));
	r->cfg = *cfg;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* nap() counts on it */
	pthread_cond_init(&r->wake, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(name, sizeof(name), "%s-%08x", r->ops->kind, cw_fnv1a32_str(r->display));
	if (!(s = cw_sink_new(&remote_ops, r, name)))
		remote_close(&(struct cw_sink){.priv = r});
	return s;
}

const char *cw_sink_remote_key(struct cw_sink *s)
{
	return ((struct cw_remote *)s->priv)->display;
}

int cw_sink_remote_start(struct cw_sink *s)
{
	struct cw_remote *r = s->priv;
	int err = pthread_create(&r->thread, NULL, remote_main, r);

	if (err)
		return -err;
	r->started = true;
	return 0;
}
