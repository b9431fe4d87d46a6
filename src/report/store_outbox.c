/* store_outbox.c - the findings store as the outbox of the remote sinks
 * (sink_remote.c). Every finding the agent stores is appended, in the same
 * transaction, to the outbox table (a sequence number and the finding's JSON
 * as printed); each remote sink keeps its delivery position in sink_positions
 * and moves it only after its peer acknowledged. After a crash, a restart or
 * an outage a sink goes on from its position: nothing stored is lost, nothing
 * is skipped silently.
 *
 * The outbox is bounded: rows every configured sink has delivered are
 * deleted, and past max_rows the oldest rows go even if a sink has not
 * delivered them yet; that sink then finds a gap, counts it as skipped and
 * says so. The tables are added to any store a writer opens (the schema
 * version does not change: readers and older agents ignore them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "util.h"

static const char outbox_sql[] =
    "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL, time_ms INTEGER NOT NULL, json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sink_positions (sink TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,"
    " updated_ms INTEGER);";

#define PRUNE_EVERY 64 /* appends between two prunes */

int st_outbox_tables(struct cw_store *s)
{
	return st_exec_retry(s, outbox_sql, "creating the outbox tables");
}

int cw_store_outbox_enable(struct cw_store *s, const char *const *sinks, size_t n, int64_t max_rows)
{
	int ret;

	if (!s || s->readonly)
		return -EROFS;
	if (s->pg) {
		cw_err("store %s: the remote sinks' outbox is the node's SQLite store", s->path);
		return -EOPNOTSUPP;
	}
	if ((ret = st_outbox_tables(s)))
		return ret;
	for (size_t i = 0; i < n && !ret; i++) {
		sqlite3_stmt *st = NULL;

		ret = st_prepare(
		    s, "INSERT OR IGNORE INTO sink_positions (sink, seq) VALUES (?1, 0)", &st, 0);
		if (!ret) {
			sqlite3_bind_text(st, 1, sinks[i], -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) != SQLITE_DONE)
				ret = st_sq_fail(s, sqlite3_errcode(s->db), "registering a sink");
		}
		sqlite3_finalize(st);
	}
	if (!ret)
		ret = st_prepare(s, "INSERT INTO outbox (name, time_ms, json) VALUES (?1, ?2, ?3)",
		                 &s->ob_ins, SQLITE_PREPARE_PERSISTENT);
	s->ob_max = max_rows > 0 ? max_rows : 100000;
	return ret;
}

/* Delete what every registered sink has delivered, and the oldest rows past
 * the bound. In the caller's transaction. */
static int prune(struct cw_store *s)
{
	char sql[320];

	snprintf(sql, sizeof(sql),
	         "DELETE FROM outbox WHERE seq <= (SELECT coalesce(min(seq), 0) FROM "
	         "sink_positions); DELETE FROM outbox WHERE seq <= (SELECT max(seq) FROM outbox) "
	         "- %lld;",
	         (long long)s->ob_max);
	return st_exec_retry(s, sql, "pruning the outbox");
}

int st_outbox_append(struct cw_store *s, const char *name, int64_t ms, json_t *f)
{
	char *text;
	int rc;

	if (!s->ob_ins)
		return 0;
	if (!(text = json_dumps(f, JSON_COMPACT)))
		return -ENOMEM;
	sqlite3_bind_text(s->ob_ins, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->ob_ins, 2, ms);
	sqlite3_bind_text(s->ob_ins, 3, text, -1, free);
	rc = sqlite3_step(s->ob_ins);
	sqlite3_reset(s->ob_ins);
	sqlite3_clear_bindings(s->ob_ins);
	if (rc != SQLITE_DONE)
		return st_sq_fail(s, rc, "appending to the outbox");
	return ++s->ob_appends % PRUNE_EVERY ? 0 : prune(s);
}

/* The first one or two integer columns of a one-row query with an optional
 * text parameter (b may be NULL). -ENOENT when there is no row. */
static int query_ints(struct cw_store *s, const char *sql, const char *arg, int64_t *a, int64_t *b)
{
	sqlite3_stmt *st = NULL;
	int ret = st_prepare(s, sql, &st, 0), rc;

	if (ret)
		return ret;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*a = sqlite3_column_int64(st, 0);
		if (b)
			*b = sqlite3_column_int64(st, 1);
	} else {
		ret = rc == SQLITE_DONE ? -ENOENT : st_sq_fail(s, rc, "reading the outbox");
	}
	sqlite3_finalize(st);
	return ret;
}

int cw_store_outbox_state(struct cw_store *s, const char *sink, struct cw_outbox_state *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = query_ints(s, "SELECT seq, skipped FROM sink_positions WHERE sink = ?1", sink,
	                      &out->position, &out->skipped)) ||
	    (ret = query_ints(s, "SELECT coalesce(max(seq), 0), coalesce(min(seq), 0) FROM outbox",
	                      NULL, &out->head, &out->first)))
		return ret;
	/* AUTOINCREMENT: sequence numbers survive the deletion of every row */
	if (out->head == 0 && query_ints(s, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'",
	                                 NULL, &out->head, NULL) == -ENOENT)
		out->head = 0;
	return 0;
}

int cw_store_outbox_next_n(struct cw_store *s, int64_t after, size_t max, int64_t *seqs,
                           json_t **fs, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int ret = st_prepare(s, "SELECT seq, json FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	                     &st, 0),
	    rc = SQLITE_DONE;

	*n = 0;
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		seqs[*n] = sqlite3_column_int64(st, 0);
		fs[*n] = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		if (!fs[*n]) { /* damage: the rows before it, then this one alone */
			ret = *n ? 0 : -EBADMSG;
			break;
		}
		(*n)++;
	}
	if (!ret && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = st_sq_fail(s, rc, "reading the outbox");
	else if (!ret && *n == 0)
		ret = -ENOENT;
	sqlite3_finalize(st);
	if (ret == -EBADMSG)
		*n = 0;
	return ret;
}

int cw_store_outbox_next(struct cw_store *s, int64_t after, int64_t *seq, json_t **finding)
{
	size_t n;
	int ret;

	*finding = NULL;
	ret = cw_store_outbox_next_n(s, after, 1, seq, finding, &n);
	return ret;
}

int cw_store_outbox_ack(struct cw_store *s, const char *sink, int64_t seq, int64_t skipped)
{
	sqlite3_stmt *st = NULL;
	int ret =
	        st_prepare(s,
	                   "UPDATE sink_positions SET seq = max(seq, ?2), skipped = skipped + ?3, "
	                   "updated_ms = ?4 WHERE sink = ?1",
	                   &st, 0),
	    rc;

	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, skipped);
	sqlite3_bind_int64(st, 4, st_now_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : st_sq_fail(s, rc, "moving a sink's position");
}
