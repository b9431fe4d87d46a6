/* sink.h - where a finding goes once it is built: the one seam every output
 * plugs into. A sink is an ops table (in the spirit of libbpf's opts structs
 * and redis's ConnectionType) plus its own state; the agent keeps an ordered
 * set of them and hands every finding to each in turn.
 *
 * Order matters: the store comes first (so anything printed or sent is
 * stored, and later sinks get the stored finding with its occurrence count
 * merged), then stdout, then whatever else is configured. A sink that may be
 * slow (a pipe nobody reads, a network peer) runs behind cw_sink_async: its
 * own thread and a bounded queue, so it never blocks detection; what it cannot
 * take is counted as dropped and warned about.
 */
#ifndef CW_SINK_H
#define CW_SINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct cw_config;
struct cw_store;

/* One finding on its way out. */
struct cw_sink_item {
	json_t *finding; /* a sink may replace it (new reference; the old one released) */
	const char *key; /* dedup key: category|container|rule|path */
};

struct cw_sink;

struct cw_sink_ops {
	const char *kind; /* "store", "stdout", ... */
	/* Deliver one finding. 0 or -errno (counted as failed; the next sinks
	 * still get the finding). */
	int (*emit)(struct cw_sink *s, struct cw_sink_item *it);
	/* Release the sink's state (after every emit has returned). */
	void (*close)(struct cw_sink *s);
	/* Optional: more counters for `cagewatch stats` (an object merged into
	 * the sink's entry; any thread). */
	json_t *(*stats)(struct cw_sink *s);
};

struct cw_sink_counters {
	uint64_t emitted, failed, dropped;
};

struct cw_sink_async; /* queue and thread of an asynchronous sink */

struct cw_sink {
	const struct cw_sink_ops *ops;
	void *priv;
	char name[64];
	pthread_mutex_t lock; /* guards counters */
	struct cw_sink_counters n;
	struct cw_sink_async *async; /* NULL: emit runs on the caller's thread */
};

/* A sink of these ops and state. Returns NULL without memory. */
struct cw_sink *cw_sink_new(const struct cw_sink_ops *ops, void *priv, const char *name);
/* Run the sink on its own thread behind a queue of `depth` findings. 0 or -errno. */
int cw_sink_async(struct cw_sink *s, size_t depth);
/* Flush what is queued, stop the thread, close and free. */
void cw_sink_free(struct cw_sink *s);
void cw_sink_counters(struct cw_sink *s, struct cw_sink_counters *out);

/* The sinks a finding goes through, in order. */
#define CW_SINKS_MAX 16
struct cw_sinks {
	struct cw_sink *v[CW_SINKS_MAX];
	size_t n;
};

/* Append s (taking ownership). -ENOSPC when full (s is freed). */
int cw_sinks_add(struct cw_sinks *set, struct cw_sink *s);
/* Hand the finding to every sink in order. */
void cw_sinks_emit(struct cw_sinks *set, json_t *finding, const char *key);
/* {"name": {"kind", "emitted", "failed", "dropped"}, ...} */
json_t *cw_sinks_stats(struct cw_sinks *set);
void cw_sinks_free(struct cw_sinks *set);

/* The built-in sinks. */
/* The findings store: records with dedup within window_ms; the stored
 * finding (occurrence count merged) replaces the item's. */
struct cw_sink *cw_sink_store(struct cw_store *st, int64_t window_ms);
/* One JSON line per finding on stdout; notification: wrap each as SCC's
 * NotificationMessage (cfg names it). */
struct cw_sink *cw_sink_stdout(const struct cw_config *cfg, bool notification);
/* A remote sink named by URL (sink_remote.c): http(s)://, falco+http(s)://,
 * syslog:///dev/log, syslog+udp://host[:514], syslog+tcp://host[:601]. It
 * delivers from the store's outbox (store_path) on its own thread, in order,
 * at least once, resuming at its position after a restart; emit only wakes
 * it. cfg is copied. NULL with the reason logged for a bad URL. */
struct cw_sink *cw_sink_remote_new(const char *url, const char *store_path,
                                   const struct cw_config *cfg);
/* The position key a remote sink keeps in the outbox (its URL without
 * credentials or #options). */
const char *cw_sink_remote_key(struct cw_sink *s);
/* Start its delivery thread (after privileges are dropped). 0 or -errno. */
int cw_sink_remote_start(struct cw_sink *s);

#endif
