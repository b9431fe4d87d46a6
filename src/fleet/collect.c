/* collect.c - `cagewatch collect --nats URL --store postgres://...`: the
 * fleet's collector. A durable JetStream pull consumer (explicit acks) on the
 * stream the agents' NATS sinks publish to; each fetched batch of findings is
 * merged into PostgreSQL in one transaction (store_pg_merge.c: by name,
 * idempotent, any order) and acknowledged only after the commit. A batch that
 * cannot be committed is not acknowledged (negative ack: JetStream delivers it
 * again, to this collector or another); a message that is not a finding is
 * kept in the store's `rejected` table and terminated, never retried forever.
 * Several collectors on the same durable share the work and take over from
 * each other. Counters go to the stats file (`cagewatch stats --stats-file`).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <nats/nats.h>

#include "cli.h"
#include "collect.h"
#include "nats_url.h"
#include "store.h"
#include "util.h"

#define DEFAULT_DURABLE  "cagewatch-collect"
#define DEFAULT_STREAM   "CAGEWATCH"
#define DEFAULT_SUBJECTS "cagewatch.findings.>"
#define STATS_EVERY_MS   500

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The finding a message carries: a NotificationMessage's finding with its
 * resource put back, or a bare finding. NULL with why set otherwise. */
static json_t *finding_of(const char *data, int len, char *why, size_t whysz)
{
	json_error_t jerr;
	json_t *msg = json_loadb(data, (size_t)(len > 0 ? len : 0), JSON_REJECT_DUPLICATES, &jerr);
	json_t *f = json_object_get(msg, "finding"), *res = json_object_get(msg, "resource");
	const char *name, *et;
	int64_t ms;

	if (!msg) {
		snprintf(why, whysz, "not JSON: %s", jerr.text);
		return NULL;
	}
	res = json_is_object(f) && json_is_object(res) ? json_deep_copy(res) : NULL;
	f = json_is_object(f) ? json_deep_copy(f) : json_incref(msg);
	json_decref(msg); /* f and res are our own */
	name = json_string_value(json_object_get(f, "name"));
	et = json_string_value(json_object_get(f, "eventTime"));
	if (!json_is_object(f) || !name || !strchr(name, '/') || !et ||
	    cw_parse_rfc3339_ms(et, &ms) != 0) {
		snprintf(why, whysz, "not a finding (no name, or no RFC 3339 eventTime)");
		json_decref(f);
		json_decref(res);
		return NULL;
	}
	if (res && !json_object_get(f, "resource"))
		json_object_set(f, "resource", res);
	json_decref(res);
	return f;
}

/* ---- the NATS side ---- */

static void nats_drop(struct collector *c)
{
	natsSubscription_Destroy(c->sub);
	jsCtx_Destroy(c->js);
	natsConnection_Destroy(c->nc);
	c->sub = NULL;
	c->js = NULL;
	c->nc = NULL;
}

/* Connect, make sure the stream exists, bind the durable pull consumer. */
static int nats_bind(struct collector *c, char *why, size_t whysz)
{
	natsOptions *o = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s = cw_nats_options(c->nats_url, "cagewatch-collect", &o);

	if (s == NATS_OK)
		s = natsConnection_Connect(&c->nc, o);
	natsOptions_Destroy(o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&c->js, c->nc, NULL);
	if (s != NATS_OK) {
		snprintf(why, whysz, "connecting: %s", natsStatus_GetText(s));
		return -ECONNREFUSED;
	}
	if (cw_nats_ensure_stream(c->js, c->nats_url, c->stream, "collect", why, whysz))
		return -EIO;
	jsSubOptions_Init(&so);
	so.Stream = c->stream;
	so.Config.Durable = c->durable;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.AckWait = c->ack_wait_ms * 1000000LL;
	so.Config.MaxAckPending = 20000;
	so.Config.DeliverPolicy = js_DeliverAll;
	s = js_PullSubscribe(&c->sub, c->js, c->subjects, c->durable, NULL, &so, &jerr);
	if (s != NATS_OK) {
		snprintf(why, whysz, "binding the consumer %s: %s (%s)", c->durable,
		         natsStatus_GetText(s),
		         nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
		return -EIO;
	}
	return 0;
}

/* ---- one batch ---- */

/* Keep msg as rejected and terminate it (never delivered again). Returns
 * -errno when the store could not keep it (the batch is then retried). */
static int reject(struct collector *c, natsMsg *m, const char *why)
{
	int err = cw_store_reject(c->store, natsMsg_GetSubject(m), why, natsMsg_GetData(m),
	                          (size_t)natsMsg_GetDataLength(m));

	if (err)
		return err;
	cw_warn("collect: a message on %s is %s: kept in the table \"rejected\"",
	        natsMsg_GetSubject(m), why);
	c->n.rejected++;
	natsMsg_Term(m, NULL);
	return 0;
}

/* Record the n findings; when the batch holds one the store refuses, each
 * on its own (the refused ones become rejected). */
static int record(struct collector *c, json_t **fs, natsMsg **ms, size_t n)
{
	int err = -EAGAIN;

	for (int attempt = 0; attempt < 5 && err == -EAGAIN; attempt++)
		err = cw_store_record_all(c->store, fs, n);
	if (err != -EINVAL)
		return err;
	for (size_t i = 0; i < n; i++) {
		err = cw_store_record_all(c->store, &fs[i], 1);
		if (err == -EINVAL)
			err = reject(c, ms[i], "refused by the store");
		if (err)
			return err;
	}
	return 0;
}

static void settle(struct collector *c, natsMsg **ms, size_t n, bool ok)
{
	for (size_t i = 0; i < n; i++) {
		natsStatus s =
		    ok ? natsMsg_Ack(ms[i], NULL) : natsMsg_NakWithDelay(ms[i], 500, NULL);

		if (s != NATS_OK)
			c->n.ack_errors++; /* redelivered after AckWait: merged again, no change */
	}
}

static int handle(struct collector *c, natsMsgList *list)
{
	json_t **fs = calloc((size_t)list->Count + 1, sizeof(json_t *));
	natsMsg **ms = calloc((size_t)list->Count + 1, sizeof(natsMsg *));
	size_t n = 0;
	int err = fs && ms ? 0 : -ENOMEM;

	for (int i = 0; i < list->Count && !err; i++) {
		natsMsg *m = list->Msgs[i];
		jsMsgMetaData *meta = NULL;
		char why[200];

		c->n.received++;
		if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
			c->n.redelivered += meta->NumDelivered > 1;
			c->n.pending = (int64_t)meta->NumPending;
			jsMsgMetaData_Destroy(meta);
		}
		fs[n] = finding_of(natsMsg_GetData(m), natsMsg_GetDataLength(m), why, sizeof(why));
		if (fs[n])
			ms[n++] = m;
		else
			err = reject(c, m, why);
	}
	if (!err && n)
		err = record(c, fs, ms, n);
	settle(c, ms, n, !err);
	if (!err) {
		c->n.stored += n;
		c->n.batches++;
		c->n.last_commit_ms = cw_now_ns() / 1000000;
	} else {
		c->n.store_errors++;
	}
	for (size_t i = 0; i < n; i++)
		json_decref(fs[i]);
	free(fs);
	free(ms);
	return err;
}

/* ---- the loop ---- */

static void write_stats(struct collector *c)
{
	char tmp[600];
	json_t *o;

	if (!c->stats_path)
		return;
	o = json_pack("{s:i,s:I,s:{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:b}}", "pid",
	              (int)getpid(), "time_ms", (json_int_t)(cw_now_ns() / 1000000), "collector",
	              "store", cw_store_path(c->store) ? cw_store_path(c->store) : c->store_shown,
	              "durable", c->durable, "received", (json_int_t)c->n.received, "stored",
	              (json_int_t)c->n.stored, "batches", (json_int_t)c->n.batches, "rejected",
	              (json_int_t)c->n.rejected, "redelivered", (json_int_t)c->n.redelivered,
	              "store_errors", (json_int_t)c->n.store_errors, "nats_errors",
	              (json_int_t)c->n.nats_errors, "ack_errors", (json_int_t)c->n.ack_errors,
	              "pending", (json_int_t)c->n.pending, "store_up", c->store != NULL, "nats_up",
	              c->sub != NULL);
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->stats_path);
	if (!o || json_dump_file(o, tmp, JSON_COMPACT) || rename(tmp, c->stats_path))
		cw_warn("collect: cannot write the stats file %s: %s", c->stats_path,
		        strerror(errno));
	json_decref(o);
}

/* Open what is closed; false (after a pause) while something is down. A
 * change of state is logged once, not every retry. */
static bool connect_all(struct collector *c)
{
	char why[600] = "";
	int err;

	if (!c->store) {
		err = cw_store_open(&c->store, c->store_url, 0);
		if (err && !c->store_down)
			cw_warn("collect: the store %s is unavailable (%s): retrying every second",
			        c->store_shown, strerror(-err));
		if (!err && c->store_down)
			cw_info("collect: the store %s is back", c->store_shown);
		c->store_down = err != 0;
	}
	if (c->store && !c->sub) {
		err = nats_bind(c, why, sizeof(why));
		if (err) {
			nats_drop(c);
			c->n.nats_errors++;
			if (!c->nats_down)
				cw_warn("collect: NATS %s: %s: retrying every second",
				        c->nats_shown, why);
		} else {
			cw_info("collect: consuming %s (stream %s, durable %s) into %s",
			        c->subjects, c->stream, c->durable, c->store_shown);
		}
		c->nats_down = err != 0;
	}
	if (c->store && c->sub)
		return true;
	write_stats(c);
	for (int i = 0; i < 10 && !stopping; i++)
		usleep(100 * 1000);
	return false;
}

/* One fetch: handled, a timeout (nothing to do) or an error. */
static void step(struct collector *c)
{
	natsMsgList list = {0};
	jsErrCode jerr = 0;
	natsStatus s = natsSubscription_Fetch(&list, c->sub, c->batch, 1000, &jerr);
	int err;

	if (s == NATS_TIMEOUT)
		return;
	if (s != NATS_OK) {
		c->n.nats_errors++;
		if (!c->nats_down)
			cw_warn("collect: fetching from %s: %s: retrying", c->nats_shown,
			        natsStatus_GetText(s));
		c->nats_down = true;
		natsMsgList_Destroy(&list);
		if (s == NATS_CONNECTION_CLOSED || s == NATS_INVALID_SUBSCRIPTION)
			nats_drop(c);
		usleep(200 * 1000);
		return;
	}
	c->nats_down = false;
	err = handle(c, &list);
	natsMsgList_Destroy(&list);
	if (err == -ENOTCONN || err == -ECONNREFUSED || err == -EIO) {
		cw_store_close(c->store); /* reopened by connect_all */
		c->store = NULL;
		c->store_down = true;
	}
}

int cw_collect(struct collector *c)
{
	struct sigaction sa = {.sa_handler = on_signal};
	int64_t last = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stopping) {
		int64_t now;

		if (connect_all(c))
			step(c);
		now = cw_mono_ms();
		if (now - last >= STATS_EVERY_MS) {
			write_stats(c);
			last = now;
		}
	}
	write_stats(c);
	cw_info("collect: stopping: %llu messages, %llu findings stored in %llu batches, %llu "
	        "rejected, %llu redelivered",
	        (unsigned long long)c->n.received, (unsigned long long)c->n.stored,
	        (unsigned long long)c->n.batches, (unsigned long long)c->n.rejected,
	        (unsigned long long)c->n.redelivered);
	nats_drop(c);
	cw_store_close(c->store);
	c->store = NULL;
	return CW_EXIT_OK;
}

/* `--import FILE.db`: every finding of a node's store, merged in batches. */
int cw_collect_import(struct collector *c, const char *path)
{
	struct cw_store *src = NULL;
	json_t *all = NULL;
	size_t n, done = 0;
	int err = cw_store_open(&src, path, CW_STORE_READONLY);

	if (!err)
		err = cw_store_list(src, NULL, "name", false, 0, &all);
	cw_store_close(src);
	if (!err)
		err = cw_store_open(&c->store, c->store_url, 0);
	n = json_array_size(all);
	while (!err && done < n) {
		json_t *batch[200];
		size_t k = n - done < 200 ? n - done : 200;

		for (size_t i = 0; i < k; i++)
			batch[i] = json_array_get(all, done + i);
		err = cw_store_record_all(c->store, batch, k);
		done += err ? 0 : k;
	}
	json_decref(all);
	cw_store_close(c->store);
	c->store = NULL;
	if (err) {
		cw_err("collect: importing %s: %s (%zu of %zu findings merged)", path,
		       strerror(-err), done, n);
		return CW_EXIT_ERROR;
	}
	printf("imported %zu findings from %s into %s\n", n, path, c->store_shown);
	return CW_EXIT_OK;
}
