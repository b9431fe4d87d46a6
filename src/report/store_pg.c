/* store_pg.c - the findings store on PostgreSQL (libpq), the fleet's one
 * place: `cagewatch collect` writes every node's findings into it and
 * `findings ... --store postgres://...` and the console read and triage them
 * through the same cw_store_* calls as the node's SQLite file (store.h).
 *
 * The table mirrors the SQLite one (same indexed columns, text in the "C"
 * collation so filters and order agree byte for byte) plus `doc`, the
 * finding as jsonb for the filter's JSON paths, and evidence_occurrence, the
 * occurrence whose evidence the stored JSON holds. A finding is keyed by its
 * name: recording one that is there merges it (store_pg_merge.c), so a
 * redelivered or reordered message changes nothing. Filters come compiled
 * for this dialect (cw_filter.pg); every value is a parameter.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "store.h"
#include "store_int.h"
#include "store_pg.h"
#include "util.h"

static const char pg_schema[] =
    "SELECT pg_advisory_xact_lock(4867216745);" /* concurrent collectors: one creates */
    "CREATE TABLE IF NOT EXISTS findings ("
    " name text COLLATE \"C\" PRIMARY KEY, id text COLLATE \"C\" NOT NULL,"
    " parent text COLLATE \"C\", category text COLLATE \"C\", state text COLLATE \"C\","
    " severity text COLLATE \"C\", mute text COLLATE \"C\","
    " resource_name text COLLATE \"C\", resource_display_name text COLLATE \"C\","
    " resource_type text COLLATE \"C\", project_display_name text COLLATE \"C\","
    " project_name text COLLATE \"C\", container_id text COLLATE \"C\","
    " container_name text COLLATE \"C\", container_uri text COLLATE \"C\","
    " container_image_id text COLLATE \"C\", pod_ns text COLLATE \"C\","
    " pod_name text COLLATE \"C\", binary_path text COLLATE \"C\","
    " event_time_ms bigint NOT NULL, create_time_ms bigint,"
    " occurrence_count bigint NOT NULL DEFAULT 1, evidence_occurrence bigint NOT NULL DEFAULT 1,"
    " state_change_ms bigint, mute_update_ms bigint, stored_ms bigint NOT NULL,"
    " json text NOT NULL, doc jsonb GENERATED ALWAYS AS (json::jsonb) STORED);"
    "CREATE INDEX IF NOT EXISTS findings_id ON findings(id);"
    "CREATE INDEX IF NOT EXISTS findings_event ON findings(event_time_ms);"
    "CREATE INDEX IF NOT EXISTS findings_category ON findings(category, event_time_ms);"
    "CREATE INDEX IF NOT EXISTS findings_container ON findings(container_id, event_time_ms);"
    "CREATE INDEX IF NOT EXISTS findings_resource ON findings(resource_name, event_time_ms);"
    "CREATE INDEX IF NOT EXISTS findings_facets ON findings(category, state, severity, mute,"
    " event_time_ms);"
    "CREATE TABLE IF NOT EXISTS rejected (seq bigserial PRIMARY KEY, received_ms bigint NOT NULL,"
    " origin text, reason text NOT NULL, body bytea);"
    "CREATE TABLE IF NOT EXISTS cagewatch_meta (key text PRIMARY KEY, value text NOT NULL);"
    "INSERT INTO cagewatch_meta VALUES ('schema_version', '1') ON CONFLICT DO NOTHING;";

bool st_is_pg_url(const char *path)
{
	return path && (!strncmp(path, "postgres://", 11) || !strncmp(path, "postgresql://", 13));
}

static PGconn *conn(struct cw_store *s)
{
	return (PGconn *)s->pg;
}

/* The connection's last error, its first line ("ERROR:  ..."), into msg. */
static void last_error(struct cw_store *s, char *msg, size_t n)
{
	size_t len;

	cw_strlcpy(msg, PQerrorMessage(conn(s)), n);
	msg[strcspn(msg, "\n")] = '\0';
	len = strlen(msg);
	while (len && msg[len - 1] == ' ')
		msg[--len] = '\0';
}

/* Log a failed statement; -ENOTCONN when the connection is gone (reopen),
 * -EAGAIN for a deadlock or serialization failure (retry the transaction),
 * -EEXIST for a constraint, -EIO otherwise. */
static int pg_fail(struct cw_store *s, PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char msg[512];

	last_error(s, msg, sizeof(msg));
	if (PQstatus(conn(s)) == CONNECTION_BAD) {
		cw_warn("store %s: %s: the connection is lost (%s)", s->path, what, msg);
		return -ENOTCONN;
	}
	if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01"))) {
		cw_info("store %s: %s: %s: retrying", s->path, what, msg);
		return -EAGAIN;
	}
	cw_err("store %s: %s: %s", s->path, what, msg);
	return state && !strncmp(state, "23", 2) ? -EEXIST : -EIO;
}

PGresult *pgs_exec(struct cw_store *s, const char *sql, int n, const char *const *vals,
                   const char *what, int *err)
{
	PGresult *r = PQexecParams(conn(s), sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	*err = 0;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	*err = pg_fail(s, r, what);
	PQclear(r);
	return NULL;
}

int pgs_cmd(struct cw_store *s, const char *sql, const char *what)
{
	int err;
	PGresult *r = pgs_exec(s, sql, 0, NULL, what, &err);

	PQclear(r);
	return err;
}

/* "relation ... already exists, skipping" and the like: not for the user. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int pg_open(struct cw_store *s, const char *url, unsigned flags)
{
	PGresult *r;
	int err;

	s->pg = (struct pg_conn *)PQconnectdb(url);
	if (!s->pg)
		return -ENOMEM;
	if (PQstatus(conn(s)) != CONNECTION_OK) {
		char msg[512];

		last_error(s, msg, sizeof(msg));
		if (!s->quiet)
			cw_err("store %s: cannot connect: %s", s->path, msg);
		return -ECONNREFUSED;
	}
	PQsetNoticeProcessor(conn(s), quiet_notice, NULL);
	if (!(flags & CW_STORE_READONLY)) {
		r = PQexec(conn(s), "BEGIN");
		PQclear(r);
		r = PQexec(conn(s), pg_schema);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
			err = pg_fail(s, r, "creating the tables");
			PQclear(r);
			PQclear(PQexec(conn(s), "ROLLBACK"));
			return err;
		}
		PQclear(r);
		return pgs_cmd(s, "COMMIT", "creating the tables");
	}
	r = pgs_exec(s, "SELECT to_regclass('cagewatch_meta') IS NOT NULL", 0, NULL,
	             "looking for the tables", &err);
	if (r && strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		err = -ENOENT; /* nothing collected here yet: the caller words it */
	PQclear(r);
	if (err)
		return err;
	r = pgs_exec(s, "SELECT value FROM cagewatch_meta WHERE key = 'schema_version'", 0, NULL,
	             "reading the schema version", &err);
	if (!r)
		return err;
	s->schema_version = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	if (s->schema_version != CW_STORE_SCHEMA_VERSION) {
		cw_err("store %s: schema version %" PRId64 ", this cagewatch reads %d", s->path,
		       s->schema_version, CW_STORE_SCHEMA_VERSION);
		return -EINVAL;
	}
	return 0;
}

void pg_close(struct cw_store *s)
{
	if (s->pg)
		PQfinish(conn(s));
	s->pg = NULL;
}

int pg_check(struct cw_store *s)
{
	return pgs_cmd(s, "SELECT 1 FROM findings LIMIT 1", "checking the store");
}

/* The rows' first column (a finding's JSON) as a new array. */
static int rows_json(struct cw_store *s, PGresult *r, json_t **out)
{
	json_t *arr = json_array();

	for (int i = 0; arr && i < PQntuples(r); i++) {
		json_error_t jerr;
		json_t *f = json_loads(PQgetvalue(r, i, 0), 0, &jerr);

		if (!f) {
			cw_err("store %s: a stored finding is not valid JSON (%s)", s->path,
			       jerr.text);
			json_decref(arr);
			return -EBADMSG;
		}
		if (json_array_append_new(arr, f)) {
			json_decref(arr);
			arr = NULL;
		}
	}
	*out = arr;
	return arr ? 0 : -ENOMEM;
}

/* "SELECT what FROM findings WHERE <filter> tail" with extra parameters
 * after the filter's (tail refers to them as $N+1...). */
static PGresult *filtered(struct cw_store *s, const char *what, const struct cw_filter *f,
                          const char *tail, const char *const *extra, int nextra, int *err)
{
	const struct cw_filter_sql *q = f ? &f->pg : NULL;
	size_t np = (q ? q->nparams : 0) + (size_t)nextra;
	const char **vals = calloc(np ? np : 1, sizeof(*vals));
	char(*ints)[24] = calloc(np ? np : 1, sizeof(*ints));
	char *sql = NULL;
	PGresult *r = NULL;

	*err = -ENOMEM;
	if (vals && ints &&
	    asprintf(&sql, "SELECT %s FROM findings WHERE %s%s", what,
	             q && q->where ? q->where : "TRUE", tail) >= 0) {
		size_t i;

		for (i = 0; q && i < q->nparams; i++) {
			snprintf(ints[i], sizeof(ints[i]), "%" PRId64, q->params[i].i);
			vals[i] = q->params[i].type == CW_FP_INT ? ints[i] : q->params[i].s;
		}
		for (int k = 0; k < nextra; k++)
			vals[i + (size_t)k] = extra[k];
		r = pgs_exec(s, sql, (int)np, vals, "listing findings", err);
	} else {
		sql = NULL;
	}
	free(sql);
	free(vals);
	free(ints);
	return r;
}

int pg_list_page(struct cw_store *s, const struct cw_filter *f, const char *order_by, long limit,
                 long offset, json_t **out)
{
	size_t base = f ? f->pg.nparams : 0;
	char tail[600], lim[24], off[24];
	const char *extra[2] = {limit > 0 ? lim : NULL, off};
	PGresult *r;
	size_t n;
	int err;

	*out = NULL;
	if ((err = st_order_sql(order_by, tail, sizeof(tail))))
		return err;
	n = strlen(tail);
	snprintf(tail + n, sizeof(tail) - n, " LIMIT $%zu OFFSET $%zu", base + 1, base + 2);
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset > 0 ? offset : 0);
	r = filtered(s, "json", f, tail, extra, 2, &err);
	if (!r)
		return err;
	err = rows_json(s, r, out);
	PQclear(r);
	return err;
}

int pg_counts(struct cw_store *s, const struct cw_filter *f, json_t **out)
{
	int err;
	PGresult *r = filtered(s, "category, severity, count(*)", f,
	                       " GROUP BY category, severity ORDER BY 3 DESC, 1, 2", NULL, 0, &err);

	*out = NULL;
	if (!r)
		return err;
	*out = json_array();
	for (int i = 0; *out && i < PQntuples(r); i++)
		json_array_append_new(
		    *out, json_pack("{s:s,s:s,s:I}", "category", PQgetvalue(r, i, 0), "severity",
		                    PQgetvalue(r, i, 1), "count",
		                    (json_int_t)strtoll(PQgetvalue(r, i, 2), NULL, 10)));
	PQclear(r);
	return *out ? 0 : -ENOMEM;
}

int pg_count(struct cw_store *s, const struct cw_filter *f, int64_t *out)
{
	int err;
	PGresult *r = filtered(s, "count(*)", f, "", NULL, 0, &err);

	if (!r)
		return err;
	*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

/* One finding by full name, short id or unique short-id prefix: its name,
 * event time, container id and resource name into row (json too). `lock`
 * adds FOR UPDATE (inside a transaction). */
static int pgs_resolve(struct cw_store *s, const char *id, bool lock, struct row *row, char **name)
{
	static const char *const where[] = {"name = $1", "id = $1", "starts_with(id, $1)"};
	char sql[300];
	int err = -ENOENT;

	memset(row, 0, sizeof(*row));
	*name = NULL;
	if (!id || !id[0])
		return -EINVAL;
	for (int pass = strchr(id, '/') ? 0 : 1; pass < 3 && err == -ENOENT; pass++) {
		PGresult *r;

		if (pass == 2 && strpbrk(id, "*?[]/"))
			break;
		snprintf(
		    sql, sizeof(sql),
		    "SELECT name, event_time_ms, container_id, resource_name, json FROM findings "
		    "WHERE %s LIMIT 2%s",
		    where[pass], lock ? " FOR UPDATE" : "");
		r = pgs_exec(s, sql, 1, &id, "looking up a finding", &err);
		if (!r)
			return err;
		if (PQntuples(r) > 1) {
			err = -ENOTUNIQ;
		} else if (PQntuples(r) == 1) {
			row->event_ms = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
			row->container_id =
			    PQgetisnull(r, 0, 2) ? NULL : strdup(PQgetvalue(r, 0, 2));
			row->resource_name =
			    PQgetisnull(r, 0, 3) ? NULL : strdup(PQgetvalue(r, 0, 3));
			row->json = json_loads(PQgetvalue(r, 0, 4), 0, NULL);
			*name = strdup(PQgetvalue(r, 0, 0));
			err = row->json && *name ? 0 : -EBADMSG;
		}
		PQclear(r);
		if (err && err != -ENOENT)
			break;
	}
	if (err) {
		st_row_clear(row);
		free(*name);
		*name = NULL;
	}
	return err;
}

int pg_get(struct cw_store *s, const char *id, json_t **out)
{
	struct row row;
	char *name;
	int err = pgs_resolve(s, id, false, &row, &name);

	*out = err ? NULL : json_incref(row.json);
	st_row_clear(&row);
	free(name);
	return err;
}

int pg_related(struct cw_store *s, const char *id, int64_t window_ms, json_t **out)
{
	struct row row;
	char *name, lo[24], hi[24];
	PGresult *r;
	int err = pgs_resolve(s, id, false, &row, &name);
	bool by_ctr = !err && row.container_id && row.container_id[0];
	const char *vals[4] = {by_ctr ? row.container_id : row.resource_name, lo, hi, name};

	*out = NULL;
	if (err)
		return err;
	if (!vals[0] || !vals[0][0]) {
		st_row_clear(&row);
		free(name);
		*out = json_array();
		return *out ? 0 : -ENOMEM;
	}
	snprintf(lo, sizeof(lo), "%" PRId64, row.event_ms - window_ms);
	snprintf(hi, sizeof(hi), "%" PRId64, row.event_ms + window_ms);
	r = pgs_exec(s,
	             by_ctr ? "SELECT json FROM findings WHERE container_id = $1 AND event_time_ms "
	                      "BETWEEN $2 AND $3 AND name <> $4 ORDER BY event_time_ms, id"
	                    : "SELECT json FROM findings WHERE resource_name = $1 AND "
	                      "event_time_ms BETWEEN $2 AND $3 AND name <> $4 ORDER BY "
	                      "event_time_ms, id",
	             4, vals, "finding related findings", &err);
	if (r)
		err = rows_json(s, r, out);
	PQclear(r);
	st_row_clear(&row);
	free(name);
	return err;
}

/* set-state and mute: lock the row, let change() edit the JSON, write it
 * with the column and its change time. 1 when it changed, 0 when it was so. */
int pg_update(struct cw_store *s, const char *id, const char *column, const char *value,
              const char *time_column, int (*change)(json_t *f, const char *value, int64_t now),
              json_t **out)
{
	struct row row = {0};
	char *name = NULL, *text = NULL, sql[200], nowbuf[24];
	int64_t now = st_now_ms();
	const char *cur;
	int err = pgs_cmd(s, "BEGIN", "starting a change");

	if (!err)
		err = pgs_resolve(s, id, true, &row, &name);
	if (err)
		goto out;
	cur = json_string_value(json_object_get(row.json, column));
	if (!(cur && !strcmp(cur, value))) {
		const char *vals[4] = {value, nowbuf, NULL, name};

		if ((err = change(row.json, value, now)))
			goto out;
		text = json_dumps(row.json, JSON_COMPACT | JSON_PRESERVE_ORDER);
		vals[2] = text;
		snprintf(nowbuf, sizeof(nowbuf), "%" PRId64, now);
		snprintf(sql, sizeof(sql),
		         "UPDATE findings SET %s = $1, %s = $2, json = $3 WHERE name = $4", column,
		         time_column);
		PQclear(text ? pgs_exec(s, sql, 4, vals, "updating a finding", &err) : NULL);
		err = text ? (err ? err : 1) : -ENOMEM;
	}
out:
	if (err >= 0) {
		int c = pgs_cmd(s, "COMMIT", "committing a change");

		err = c ? c : err;
	} else if (s->pg) {
		PQclear(PQexec(conn(s), "ROLLBACK"));
	}
	if (err >= 0 && out)
		*out = json_incref(row.json);
	st_row_clear(&row);
	free(name);
	free(text);
	return err;
}
