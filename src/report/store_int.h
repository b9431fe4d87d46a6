/* store_int.h - what the parts of the findings store share (internal):
 *   store.c        errors and retries, JSON helpers, opening and the schema;
 *   store_write.c  recording with dedup, lifecycle updates;
 *   store_read.c   look-ups, filtered listing, related findings.
 */
#ifndef CW_STORE_INT_H
#define CW_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include <jansson.h>

#include "store.h"

struct cw_store {
	sqlite3 *db;
	char *path;
	bool readonly;
	bool quiet; /* precheck: errors are returned, not logged */
	int64_t schema_version;
	sqlite3_stmt *ins, *dedup_find, *dedup_upd;
	sqlite3_stmt *ob_ins; /* outbox append; NULL: no remote sinks (store_outbox.c) */
	int64_t ob_max;       /* outbox bound (rows) */
	uint64_t ob_appends;
};

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
