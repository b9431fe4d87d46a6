/* store.h - the node-local findings store: SQLite in WAL mode holding every
 * finding's full JSON plus indexed columns for filtering, SCC-like
 * deduplication (same detection on the same container and binary within a
 * window updates one finding), and the finding lifecycle (state, mute).
 *
 * Durability: WAL with synchronous=NORMAL. A transaction is written to the WAL
 * file (with write(2)) before cw_store_record() returns, so a process crash or
 * kill -9 afterwards never loses it; only a kernel crash or power loss can
 * roll back the last few commits, and the database stays consistent either
 * way. CW_STORE_DURABLE selects synchronous=FULL (an fsync per commit) for
 * power-loss durability at a lower insert rate.
 *
 * Errors are negative errno: -ENOENT (no store / no such finding), -EINVAL
 * (not a cagewatch store, bad argument), -EBADMSG (corrupt or not SQLite),
 * -ENOTUNIQ (ambiguous id prefix), -EROFS (write on a read-only handle).
 */
#ifndef CW_STORE_H
#define CW_STORE_H

/* Mode of the store file and its -wal/-shm: findings hold process arguments. */
#define CW_STORE_MODE 0640

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "filter.h"

#define CW_STORE_READONLY 0x1u /* open for reading only (the CLI's list/show/related) */
#define CW_STORE_CREATE   0x2u /* create the file (and its parent directory) if missing */
#define CW_STORE_DURABLE  0x4u /* synchronous=FULL: fsync every commit */

#define CW_STORE_DEFAULT_PATH   "/var/lib/cagewatch/findings.db"
#define CW_STORE_ENV            "CAGEWATCH_STORE"
#define CW_STORE_APPLICATION_ID 0x43574653 /* "CWFS" in the SQLite header */
#define CW_STORE_SCHEMA_VERSION 1          /* PRAGMA user_version */

struct cw_store;

/* Open (or with CW_STORE_CREATE create) the store at path, or at a
 * postgres://user@host/db URL: the fleet's store, its tables created unless
 * read-only (see store_pg.c). The file header is
 * checked before SQLite touches the file: anything that is not a cagewatch
 * store is refused and left byte-for-byte unchanged. A missing file without
 * CW_STORE_CREATE returns -ENOENT without logging (callers word that case). */
int cw_store_open(struct cw_store **out, const char *path, unsigned flags);
void cw_store_close(struct cw_store *s);
const char *cw_store_path(const struct cw_store *s);

/* Record a finding (a JSON object with at least "name"). If dedup_key is set
 * and window_ms > 0 and a finding with the same dedup_key has an event time
 * within window_ms of this one's, that finding is counted instead
 * (sourceProperties.Occurrence_Count += 1, eventTime to the later of the two;
 * it keeps its first occurrence's evidence) and *stored is `finding` itself,
 * this occurrence, carrying the stored finding's identity and lifecycle (name,
 * canonicalName, createTime, state, mute fields, Occurrence_Count). Otherwise
 * the finding is inserted (Occurrence_Count set to 1 if absent) and *stored is
 * a new reference to it. Both cases modify `finding`. The transaction is
 * committed before this returns. */
int cw_store_record(struct cw_store *s, json_t *finding, const char *dedup_key, int64_t window_ms,
                    json_t **stored);

/* Record n findings in one transaction: the collector's batch. PostgreSQL
 * stores only (-EOPNOTSUPP otherwise): each finding is merged by name, so a
 * batch replayed, reordered or split across collectors stores the same
 * (store_pg_merge.c). 0 when all are committed; -errno and nothing committed
 * otherwise (-ENOTCONN: the connection is lost, reopen; -EAGAIN: retry). */
int cw_store_record_all(struct cw_store *s, json_t *const *findings, size_t n);
/* Keep a message that is not a finding (PostgreSQL: table `rejected`). */
int cw_store_reject(struct cw_store *s, const char *origin, const char *reason, const void *body,
                    size_t len);

/* The finding's short id: the last path component of its name. */
const char *cw_store_short_id(const char *name);

/* Look a finding up by full name, short id or a unique prefix of the short id.
 * -ENOENT if none, -ENOTUNIQ if the prefix matches more than one. */
int cw_store_get(struct cw_store *s, const char *id, json_t **out);

/* Findings matching f (NULL = all) as a new JSON array, ordered by the filter
 * field order_by (NULL = "event_time"), descending if desc, at most limit
 * (<= 0: no limit). -EINVAL if order_by cannot be used for ordering. */
int cw_store_list(struct cw_store *s, const struct cw_filter *f, const char *order_by, bool desc,
                  long limit, json_t **out);
int cw_store_count(struct cw_store *s, const struct cw_filter *f, int64_t *out);
/* One page: order_by as SCC's orderBy ("event_time desc, name"; up to four
 * fields), at most limit (<= 0: all) after skipping offset. -EINVAL (logged)
 * for a field that cannot order. */
int cw_store_list_page(struct cw_store *s, const struct cw_filter *f, const char *order_by,
                       long limit, long offset, json_t **out);
/* Counts of the matching findings by category and severity, most first:
 * [{category, severity, count}]. */
int cw_store_counts(struct cw_store *s, const struct cw_filter *f, json_t **out);

/* Every other finding on the same container (else the same resource) whose
 * event time is within window_ms of the finding's, oldest first. */
int cw_store_related(struct cw_store *s, const char *id, int64_t window_ms, json_t **out);

/* Lifecycle. state is "ACTIVE" or "INACTIVE". Returns 1 when the finding
 * changed (the change time is recorded in a column and mirrored in the JSON:
 * sourceProperties.State_Change_Time, or muteUpdateTime/muteInfo for mute),
 * 0 when it already had that value; *out (if not NULL) is the stored finding. */
int cw_store_set_state(struct cw_store *s, const char *id, const char *state, json_t **out);
int cw_store_set_mute(struct cw_store *s, const char *id, bool muted, json_t **out);

/* The outbox of the remote sinks (store_outbox.c). */
struct cw_outbox_state {
	int64_t position; /* last sequence number the sink delivered */
	int64_t skipped;  /* rows it never got (the bound dropped them first) */
	int64_t head;     /* last sequence number appended */
	int64_t first;    /* oldest row still kept (0: none) */
};
/* From now on every recorded finding is also appended to the outbox, in its
 * transaction; registers the sinks (a new one starts at the oldest kept row)
 * and bounds the outbox at max_rows (<= 0: 100,000). 0 or -errno. */
int cw_store_outbox_enable(struct cw_store *s, const char *const *sinks, size_t n,
                           int64_t max_rows);
/* sink's position and the outbox's extent; -ENOENT if the sink is unknown. */
int cw_store_outbox_state(struct cw_store *s, const char *sink, struct cw_outbox_state *out);
/* The first row after `after`: its sequence number and finding (new
 * reference). -ENOENT when there is none yet. */
int cw_store_outbox_next(struct cw_store *s, int64_t after, int64_t *seq, json_t **finding);
/* Up to max rows after `after`, in order: seqs[] and findings fs[] (new
 * references), *n of them. -ENOENT when there is none yet; -EBADMSG (seqs[0]
 * set, *n 0) when the first is damaged. */
int cw_store_outbox_next_n(struct cw_store *s, int64_t after, size_t max, int64_t *seqs,
                           json_t **fs, size_t *n);
/* sink delivered everything up to seq (and never got `skipped` rows). */
int cw_store_outbox_ack(struct cw_store *s, const char *sink, int64_t seq, int64_t skipped);

/* PRAGMA integrity_check: 0 when "ok", -EBADMSG (logged) otherwise. */
int cw_store_check(struct cw_store *s);

#endif
