/* store_int.h - what the parts of the findings store share (internal):
 *   store.c        errors and retries, JSON helpers, opening and the schema;
 *   store_write.c  recording with dedup, lifecycle updates;
 *   store_read.c   look-ups, filtered listing, related findings;
 *   store_pg.c     the same operations on PostgreSQL (the fleet's store),
 *                  store_pg_merge.c its idempotent merge of findings.
 * A store opened from a postgres:// URL has pg set and no db; every public
 * cw_store_* call on it goes to store_pg.c.
 */
#ifndef CW_STORE_INT_H
#define CW_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include <jansson.h>

#include "store.h"

struct pg_conn;

struct cw_store {
	sqlite3 *db;
	struct pg_conn *pg; /* PostgreSQL: the connection (db is NULL) */
	char *path;
	bool readonly;
	bool quiet; /* precheck: errors are returned, not logged */
	int64_t schema_version;
	sqlite3_stmt *ins, *dedup_find, *dedup_upd;
	sqlite3_stmt *ob_ins; /* outbox append; NULL: no remote sinks (store_outbox.c) */
	int64_t ob_max;       /* outbox bound (rows) */
	uint64_t ob_appends;
};

/* The indexed text columns both stores keep, in this order (st_columns). */
#define ST_N_TEXT 18
void st_columns(json_t *f, const char *c[ST_N_TEXT]);
bool st_time_ms(json_t *f, const char *key, int64_t *out);
/* Lifecycle edits of a finding's JSON (store_write.c). */
int st_change_state(json_t *f, const char *value, int64_t now);
int st_change_mute(json_t *f, const char *value, int64_t now);
/* " ORDER BY ..., id ASC" for SCC's orderBy; -EINVAL (logged) (store_read.c) */
int st_order_sql(const char *order_by, char *buf, size_t size);

/* store_pg.c */
bool st_is_pg_url(const char *path);
int pg_open(struct cw_store *s, const char *url, unsigned flags);
void pg_close(struct cw_store *s);
int pg_record(struct cw_store *s, json_t *finding, json_t **stored);
int pg_get(struct cw_store *s, const char *id, json_t **out);
int pg_list_page(struct cw_store *s, const struct cw_filter *f, const char *order_by, long limit,
                 long offset, json_t **out);
int pg_counts(struct cw_store *s, const struct cw_filter *f, json_t **out);
int pg_count(struct cw_store *s, const struct cw_filter *f, int64_t *out);
int pg_related(struct cw_store *s, const char *id, int64_t window_ms, json_t **out);
int pg_update(struct cw_store *s, const char *id, const char *column, const char *value,
              const char *time_column, int (*change)(json_t *f, const char *value, int64_t now),
              json_t **out);
int pg_check(struct cw_store *s);

#define BUSY_TIMEOUT_MS 10000
#define BUSY_RETRIES    50

/* The stored finding's fields a repeat keeps (see store.c). */
#define ST_N_KEPT   9
#define KEPT_OBJECT "muteInfo" /* the one kept field that is not a string */
extern const char *const st_kept_paths[ST_N_KEPT];

/* One finding found by st_resolve (store_read.c). */
struct row {
	sqlite3_int64 rowid;
	int64_t event_ms;
	char *container_id;
	char *resource_name;
	json_t *json;
};

int st_step_first(sqlite3_stmt *st);
int st_sq_fail(struct cw_store *s, int rc, const char *what);
int st_prepare(struct cw_store *s, const char *sql, sqlite3_stmt **st, unsigned flags);
json_t *st_time_json(int64_t ms);
int64_t st_now_ms(void);
const char *st_jstr(json_t *root, const char *path);
bool st_json_int_value(json_t *v, int64_t *out);
int st_jset(json_t *obj, const char *key, json_t *v);
json_t *st_jobj(json_t *obj, const char *key);
void st_row_clear(struct row *r);
void st_rollback(struct cw_store *s);
int st_resolve(struct cw_store *s, const char *id, struct row *r);
bool st_is_busy(int rc);
int st_exec_retry(struct cw_store *s, const char *sql, const char *what);
/* store_outbox.c: append f to the outbox in the caller's transaction (a no-op
 * unless enabled); the outbox tables. */
int st_outbox_append(struct cw_store *s, const char *name, int64_t ms, json_t *f);
int st_outbox_tables(struct cw_store *s);
void st_backoff(int attempt);

#endif
