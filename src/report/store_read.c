/* store_read.c - reading findings: by name, short id or unique prefix;
 * filtered, ordered listing; related findings of the same container. */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "util.h"

#define BUSY_TIMEOUT_MS 10000
#define BUSY_RETRIES    50

/* ---- reads ---- */

static int load_json(struct cw_store *s, sqlite3_stmt *st, int col, json_t **out)
{
	json_error_t jerr;
	const char *text = (const char *)sqlite3_column_text(st, col);

	*out = text ? json_loads(text, 0, &jerr) : NULL;
	if (!*out) {
		cw_err("store %s: a stored finding is not valid JSON (%s): the store is damaged",
		       s->path, text ? jerr.text : "NULL");
		return -EBADMSG;
	}
	return 0;
}

void st_row_clear(struct row *r)
{
	free(r->container_id);
	free(r->resource_name);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

static bool prefix_ok(const char *id)
{
	return id[0] && !strpbrk(id, "*?[]/");
}

/* Find one finding by full name, short id or unique short-id prefix. */
int st_resolve(struct cw_store *s, const char *id, struct row *r)
{
	static const char cols[] = "SELECT rowid, event_time_ms, container_id, resource_name, "
	                           "json FROM findings WHERE ";
	char sql[256];
	int pass, ret = -ENOENT;

	memset(r, 0, sizeof(*r));
	if (!id || !id[0])
		return -EINVAL;
	for (pass = 0; pass < 2 && ret == -ENOENT; pass++) {
		sqlite3_stmt *st;
		char *pattern = NULL;
		int rc, n = 0;

		st_row_clear(r); /* a row the last pass read but could not use */
		if (pass == 1 && (strchr(id, '/') || !prefix_ok(id)))
			break;
		snprintf(sql, sizeof(sql), "%s%s LIMIT 2", cols,
		         strchr(id, '/') ? "id = ?2 AND name = ?1"
		         : pass == 0     ? "id = ?1"
		                         : "id GLOB ?1");
		ret = st_prepare(s, sql, &st, 0);
		if (ret)
			return ret;
		if (pass == 1 && asprintf(&pattern, "%s*", id) < 0) {
			sqlite3_finalize(st);
			return -ENOMEM;
		}
		sqlite3_bind_text(st, 1, pattern ? pattern : id, -1, SQLITE_STATIC);
		if (strchr(id, '/'))
			sqlite3_bind_text(st, 2, cw_store_short_id(id), -1, SQLITE_STATIC);
		ret = -ENOENT;
		for (rc = st_step_first(st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
			if (++n > 1) {
				ret = -ENOTUNIQ;
				break;
			}
			r->rowid = sqlite3_column_int64(st, 0);
			r->event_ms = sqlite3_column_int64(st, 1);
			r->container_id = col_dup(st, 2);
			r->resource_name = col_dup(st, 3);
			ret = load_json(s, st, 4, &r->json);
			if (ret)
				break;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			ret = st_sq_fail(s, rc, "looking up a finding");
		else if (n == 1 && ret == -ENOENT)
			ret = 0;
		sqlite3_finalize(st);
		free(pattern);
		if (ret == 0 && n == 1)
			return 0;
		if (ret != -ENOENT)
			break;
	}
	st_row_clear(r);
	return ret;
}

int cw_store_get(struct cw_store *s, const char *id, json_t **out)
{
	struct row r;
	int ret;

	if (s->pg)
		return pg_get(s, id, out);
	*out = NULL;
	ret = st_resolve(s, id, &r);
	if (ret)
		return ret;
	*out = json_incref(r.json);
	st_row_clear(&r);
	return 0;
}

/* Run a SELECT whose first column is a finding's JSON and collect them;
 * restarts from scratch if the database is busy mid-way. bind() is called
 * after every reset. */
static int collect(struct cw_store *s, sqlite3_stmt *st, json_t **out)
{
	for (int attempt = 0;; attempt++) {
		json_t *arr = json_array();
		int rc, ret = 0;

		if (!arr)
			return -ENOMEM;
		sqlite3_reset(st);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			json_t *f;

			ret = load_json(s, st, 0, &f);
			if (ret)
				break;
			if (json_array_append_new(arr, f) != 0) {
				ret = -ENOMEM;
				break;
			}
		}
		if (!ret && st_is_busy(rc) && attempt < BUSY_RETRIES) {
			json_decref(arr);
			st_backoff(attempt);
			continue;
		}
		if (!ret && rc != SQLITE_DONE)
			ret = st_sq_fail(s, rc, "listing findings");
		sqlite3_reset(st);
		if (ret) {
			json_decref(arr);
			return ret;
		}
		*out = arr;
		return 0;
	}
}

/* Prepare "SELECT <what> FROM findings WHERE <filter> <tail>" with the
 * filter's parameters bound; *next is the next free parameter index. */
static int prepare_filtered(struct cw_store *s, const char *what, const struct cw_filter *f,
                            const char *tail, sqlite3_stmt **st, int *next)
{
	char *sql;
	int ret, idx;

	if (asprintf(&sql, "SELECT %s FROM findings WHERE %s%s", what,
	             f && f->sqlite.where ? f->sqlite.where : "1", tail) < 0)
		return -ENOMEM;
	ret = st_prepare(s, sql, st, 0);
	free(sql);
	if (ret)
		return ret;
	idx = cw_filter_bind(f, *st, 1);
	if (idx < 0) {
		sqlite3_finalize(*st);
		*st = NULL;
		return idx;
	}
	*next = idx;
	return 0;
}

int cw_store_list(struct cw_store *s, const struct cw_filter *f, const char *order_by, bool desc,
                  long limit, json_t **out)
{
	char order[160];

	snprintf(order, sizeof(order), "%s%s", order_by ? order_by : "event_time",
	         desc ? " desc" : "");
	return cw_store_list_page(s, f, order, limit, 0, out);
}

/* SCC's orderBy ("event_time desc, name") as SQL, into buf. 0, or -EINVAL
 * (logged) for a field that cannot order or a bad direction. */
int st_order_sql(const char *order_by, char *buf, size_t size)
{
	char copy[256], *save = NULL, *part;
	size_t used = 0;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", order_by && order_by[0] ? order_by : "event_time");
	for (part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char field[64] = "", dir[16] = "";
		const char *col;

		if (sscanf(part, " %63s %15s", field, dir) < 1 || n >= 4)
			return -EINVAL;
		col = cw_filter_order_column(field);
		if (!col || (dir[0] && strcasecmp(dir, "desc") && strcasecmp(dir, "asc"))) {
			cw_err(
			    "cannot order by \"%s\": use fields such as event_time, create_time, "
			    "category, state, severity, name, resource_name, each with desc or asc",
			    part);
			return -EINVAL;
		}
		used +=
		    (size_t)snprintf(buf + used, size - used, "%s%s %s", n ? ", " : " ORDER BY ",
		                     col, strcasecmp(dir, "desc") ? "ASC" : "DESC");
		if (used >= size)
			return -EINVAL;
		n++;
	}
	if (!n)
		return -EINVAL;
	used += (size_t)snprintf(buf + used, size - used, ", id ASC");
	return used < size ? 0 : -EINVAL;
}

int cw_store_list_page(struct cw_store *s, const struct cw_filter *f, const char *order_by,
                       long limit, long offset, json_t **out)
{
	sqlite3_stmt *st;
	char tail[512];
	int ret, idx;

	*out = NULL;
	if (s->pg)
		return pg_list_page(s, f, order_by, limit, offset, out);
	if ((ret = st_order_sql(order_by, tail, sizeof(tail))))
		return ret;
	cw_strlcpy(tail + strlen(tail), " LIMIT ? OFFSET ?", sizeof(tail) - strlen(tail));
	ret = prepare_filtered(s, "json", f, tail, &st, &idx);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, idx, limit > 0 ? limit : -1);
	sqlite3_bind_int64(st, idx + 1, offset > 0 ? offset : 0);
	ret = collect(s, st, out);
	sqlite3_finalize(st);
	return ret;
}

int cw_store_counts(struct cw_store *s, const struct cw_filter *f, json_t **out)
{
	sqlite3_stmt *st;
	int ret, rc, idx;

	if (s->pg)
		return pg_counts(s, f, out);
	*out = json_array();
	if (!*out)
		return -ENOMEM;
	ret = prepare_filtered(s, "category, severity, count(*)", f,
	                       " GROUP BY category, severity ORDER BY 3 DESC", &st, &idx);
	if (ret)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		json_array_append_new(*out, json_pack("{s:s,s:s,s:I}", "category", c ? c : "",
		                                      "severity", v ? v : "", "count",
		                                      (json_int_t)sqlite3_column_int64(st, 2)));
	}
	if (rc != SQLITE_DONE)
		ret = st_sq_fail(s, rc, "counting findings by category");
	sqlite3_finalize(st);
	return ret;
}

int cw_store_count(struct cw_store *s, const struct cw_filter *f, int64_t *out)
{
	sqlite3_stmt *st;
	int ret, rc, idx;

	if (s->pg)
		return pg_count(s, f, out);
	ret = prepare_filtered(s, "count(*)", f, "", &st, &idx);
	if (ret)
		return ret;
	rc = st_step_first(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		ret = st_sq_fail(s, rc, "counting findings");
	sqlite3_finalize(st);
	return ret;
}

int cw_store_related(struct cw_store *s, const char *id, int64_t window_ms, json_t **out)
{
	struct row r;
	sqlite3_stmt *st;
	bool by_ctr;
	int ret;

	if (s->pg)
		return pg_related(s, id, window_ms, out);
	*out = NULL;
	ret = st_resolve(s, id, &r);
	if (ret)
		return ret;
	by_ctr = r.container_id && r.container_id[0];
	if (!by_ctr && !(r.resource_name && r.resource_name[0])) {
		st_row_clear(&r);
		*out = json_array();
		return *out ? 0 : -ENOMEM;
	}
	ret = st_prepare(
	    s,
	    by_ctr ? "SELECT json FROM findings WHERE container_id = ?1 AND event_time_ms "
	             "BETWEEN ?2 AND ?3 AND rowid != ?4 ORDER BY event_time_ms, id"
	           : "SELECT json FROM findings WHERE resource_name = ?1 AND event_time_ms "
	             "BETWEEN ?2 AND ?3 AND rowid != ?4 ORDER BY event_time_ms, id",
	    &st, 0);
	if (!ret) {
		sqlite3_bind_text(st, 1, by_ctr ? r.container_id : r.resource_name, -1,
		                  SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, r.event_ms - window_ms);
		sqlite3_bind_int64(st, 3, r.event_ms + window_ms);
		sqlite3_bind_int64(st, 4, r.rowid);
		ret = collect(s, st, out);
		sqlite3_finalize(st);
	}
	st_row_clear(&r);
	return ret;
}
