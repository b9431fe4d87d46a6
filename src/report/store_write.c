/* store_write.c - recording findings (with deduplication, one write per
 * finding, durable before the call returns) and lifecycle updates (state,
 * mute). */
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

/* ---- record ---- */

static void bind_opt(sqlite3_stmt *st, int idx, const char *v)
{
	if (v)
		sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, idx);
}

/* The indexed text columns of finding f (st_text_columns order; NULL when
 * absent), borrowed from f. */
void st_columns(json_t *f, const char *c[ST_N_TEXT])
{
	static const char *const paths[ST_N_TEXT] = {
	    "name",
	    "parent",
	    "category",
	    "state",
	    "severity",
	    "mute",
	    "resourceName|resource/name",
	    "resource/displayName",
	    "resource/type",
	    "resource/gcpMetadata/projectDisplayName|resource/projectDisplayName",
	    "resource/gcpMetadata/project|resource/project|resource/projectName",
	    "sourceProperties/Container_Id",
	    "containers/0/name|sourceProperties/Container_Name",
	    "containers/0/uri",
	    "containers/0/imageId",
	    "kubernetes/pods/0/ns",
	    "kubernetes/pods/0/name",
	    "processes/0/binary/path",
	};

	for (size_t i = 0; i < ST_N_TEXT; i++) {
		char alt[128];
		const char *p = paths[i];

		c[i] = NULL;
		while (!c[i] && *p) {
			size_t n = strcspn(p, "|");

			snprintf(alt, sizeof(alt), "%.*s", (int)n, p);
			c[i] = st_jstr(f, alt);
			p += n + (p[n] == '|');
		}
	}
}

bool st_time_ms(json_t *f, const char *key, int64_t *out)
{
	const char *v = json_string_value(json_object_get(f, key));

	return v && cw_parse_rfc3339_ms(v, out) == 0;
}

static int insert(struct cw_store *s, json_t *f, const char *dedup_key, int64_t ev_ms,
                  int64_t count)
{
	sqlite3_stmt *st = s->ins;
	const char *c[ST_N_TEXT];
	int64_t ct, mt;
	char *text;
	int rc;

	st_columns(f, c);
	text = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return -ENOMEM;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	bind_opt(st, 1, cw_store_short_id(c[0]));
	for (int k = 0; k < 6; k++) /* name .. mute */
		bind_opt(st, 2 + k, c[k]);
	sqlite3_bind_int64(st, 8, ev_ms);
	if (st_time_ms(f, "createTime", &ct))
		sqlite3_bind_int64(st, 9, ct);
	for (int k = 6; k < ST_N_TEXT; k++) /* resource_name .. binary_path */
		bind_opt(st, 10 + k - 6, c[k]);
	bind_opt(st, 22, dedup_key && dedup_key[0] ? dedup_key : NULL);
	sqlite3_bind_int64(st, 23, count);
	if (st_time_ms(f, "muteUpdateTime", &mt))
		sqlite3_bind_int64(st, 25, mt);
	sqlite3_bind_text(st, 26, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(text);
	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		cw_err("store %s: finding %s is already stored (ids must be unique)", s->path,
		       c[0]);
		return -EEXIST;
	}
	return st_sq_fail(s, rc, "inserting a finding");
}

/* Inside a write transaction: count `incoming` as a repeat of the finding
 * dedup_find_sql returned in q, and turn incoming into what is returned. */
static int dedup_update(struct cw_store *s, sqlite3_stmt *q, json_t *incoming, int64_t ev_ms)
{
	sqlite3_int64 rowid = sqlite3_column_int64(q, 0);
	int64_t count = sqlite3_column_int64(q, 1) + 1;
	json_t *et = json_object_get(incoming, "eventTime"), *sp;
	char buf[40];
	size_t i;
	int rc;

	for (i = 0; i < ST_N_KEPT; i++) {
		const char *path = st_kept_paths[i], *dot = strchr(path, '.');
		const char *text = (const char *)sqlite3_column_text(q, 3 + (int)i);
		json_t *obj = incoming, *v;

		if (dot) {
			char key[64];

			snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
			obj = st_jobj(incoming, key);
			path = dot + 1;
		}
		if (!obj)
			return -ENOMEM;
		if (!text) {
			json_object_del(obj, path); /* not in the stored finding either */
			continue;
		}
		v = strcmp(path, KEPT_OBJECT) ? json_string(text) : json_loads(text, 0, NULL);
		if (!v) {
			json_decref(v);
			cw_err("store %s: stored finding has an unreadable \"%s\": the store is "
			       "damaged",
			       s->path, st_kept_paths[i]);
			return -EBADMSG;
		}
		if (st_jset(obj, path, v))
			return -ENOMEM;
	}
	sp = st_jobj(incoming, "sourceProperties");
	if (!sp || st_jset(sp, "Occurrence_Count", json_integer(count)))
		return -ENOMEM;

	sqlite3_reset(s->dedup_upd);
	sqlite3_bind_int64(s->dedup_upd, 1, rowid);
	sqlite3_bind_int64(s->dedup_upd, 2, ev_ms);
	sqlite3_bind_text(s->dedup_upd, 3,
	                  json_is_string(et) ? json_string_value(et)
	                                     : cw_rfc3339(ev_ms * 1000000, buf, sizeof(buf)),
	                  -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s->dedup_upd);
	sqlite3_reset(s->dedup_upd);
	sqlite3_clear_bindings(s->dedup_upd);
	if (rc != SQLITE_DONE)
		return st_sq_fail(s, rc, "updating a deduplicated finding");
	return 0;
}

int cw_store_record(struct cw_store *s, json_t *finding, const char *dedup_key, int64_t window_ms,
                    json_t **stored)
{
	const char *name = st_jstr(finding, "name");
	const char *et = json_string_value(json_object_get(finding, "eventTime"));
	int64_t ev_ms, count = 1;
	json_t *sp;
	int ret, rc;

	*stored = NULL;
	if (s && s->pg && !s->readonly)
		return pg_record(s, finding, stored);
	if (!s || s->readonly) {
		cw_err("store %s: opened read-only: cannot record a finding", s ? s->path : "");
		return -EROFS;
	}
	if (!json_is_object(finding) || !name || !cw_store_short_id(name)[0]) {
		cw_err("store %s: finding has no name: not stored", s->path);
		return -EINVAL;
	}
	if (!et)
		ev_ms = st_now_ms();
	else if (cw_parse_rfc3339_ms(et, &ev_ms) != 0) {
		cw_err("store %s: finding %s has eventTime \"%s\", not RFC 3339: not stored",
		       s->path, name, et);
		return -EINVAL;
	}
	sp = st_jobj(finding, "sourceProperties");
	if (!sp)
		return -ENOMEM;
	if (!st_json_int_value(json_object_get(sp, "Occurrence_Count"), &count)) {
		count = 1;
		if (st_jset(sp, "Occurrence_Count", json_integer(1)))
			return -ENOMEM;
	}

	ret = st_exec_retry(s, "BEGIN IMMEDIATE", "starting a write");
	if (ret)
		return ret;
	if (dedup_key && dedup_key[0] && window_ms > 0) {
		sqlite3_stmt *q = s->dedup_find;

		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, dedup_key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, ev_ms - window_ms);
		sqlite3_bind_int64(q, 3, ev_ms + window_ms);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			ret = dedup_update(s, q, finding, ev_ms);
			if (!ret)
				*stored = json_incref(finding);
			sqlite3_reset(q);
			sqlite3_clear_bindings(q);
			goto commit;
		}
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		if (rc != SQLITE_DONE) {
			ret = st_sq_fail(s, rc, "looking for a duplicate");
			goto commit;
		}
	}
	ret = insert(s, finding, dedup_key, ev_ms, count);
	if (!ret)
		*stored = json_incref(finding);
commit:
	if (!ret)
		ret = st_outbox_append(s, st_jstr(*stored, "name"), ev_ms, *stored);
	if (!ret)
		ret = st_exec_retry(s, "COMMIT", "committing a finding");
	if (ret) {
		st_rollback(s);
		json_decref(*stored);
		*stored = NULL;
	}
	return ret;
}

/* ---- lifecycle ---- */

/* In a write transaction: re-resolve, let change() edit the JSON, store it. */
static int update_finding(struct cw_store *s, const char *id, const char *column, const char *value,
                          const char *time_column,
                          int (*change)(json_t *f, const char *value, int64_t now), json_t **out)
{
	const char *cur;
	struct row r = {0};
	sqlite3_stmt *st = NULL;
	int64_t now = st_now_ms();
	char sql[160], *text = NULL;
	int ret, rc;

	if (out)
		*out = NULL;
	if (s->readonly) {
		cw_err("store %s: opened read-only: cannot change a finding", s->path);
		return -EROFS;
	}
	if (s->pg)
		return pg_update(s, id, column, value, time_column, change, out);
	ret = st_exec_retry(s, "BEGIN IMMEDIATE", "starting a write");
	if (ret)
		return ret;
	ret = st_resolve(s, id, &r);
	if (ret)
		goto out;
	cur = json_string_value(json_object_get(r.json, column));
	if (cur && strcmp(cur, value) == 0) {
		ret = 0; /* already so: nothing changes, no change time */
		goto out;
	}
	ret = change(r.json, value, now);
	if (ret)
		goto out;
	text = json_dumps(r.json, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(sql, sizeof(sql),
	         "UPDATE findings SET %s = ?1, %s = ?2, json = ?3 WHERE rowid = ?4", column,
	         time_column);
	ret = st_prepare(s, sql, &st, 0);
	if (ret)
		goto out;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r.rowid);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		ret = st_sq_fail(s, rc, "updating a finding");
	else
		ret = 1;
out:
	sqlite3_finalize(st);
	free(text);
	if (ret >= 0) {
		int c = st_exec_retry(s, "COMMIT", "committing a change");

		if (c)
			ret = c;
	}
	if (ret < 0)
		st_rollback(s);
	if (ret >= 0 && out)
		*out = json_incref(r.json);
	st_row_clear(&r);
	return ret;
}

int st_change_state(json_t *f, const char *value, int64_t now)
{
	json_t *sp = st_jobj(f, "sourceProperties");

	if (!sp || st_jset(f, "state", json_string(value)) ||
	    st_jset(sp, "State_Change_Time", st_time_json(now)))
		return -ENOMEM;
	return 0;
}

int st_change_mute(json_t *f, const char *value, int64_t now)
{
	json_t *info = st_jobj(f, "muteInfo"), *sm = info ? st_jobj(info, "staticMute") : NULL;
	char who[64];

	snprintf(who, sizeof(who), "cagewatch findings CLI (uid %u)", (unsigned)getuid());
	if (!sm || st_jset(f, "mute", json_string(value)) ||
	    st_jset(f, "muteUpdateTime", st_time_json(now)) ||
	    st_jset(f, "muteInitiator", json_string(who)) ||
	    st_jset(sm, "state", json_string(value)) || st_jset(sm, "applyTime", st_time_json(now)))
		return -ENOMEM;
	return 0;
}

int cw_store_set_state(struct cw_store *s, const char *id, const char *state, json_t **out)
{
	if (!state || (strcmp(state, "ACTIVE") != 0 && strcmp(state, "INACTIVE") != 0)) {
		cw_err("state must be ACTIVE or INACTIVE, not \"%s\"", state ? state : "");
		return -EINVAL;
	}
	return update_finding(s, id, "state", state, "state_change_ms", st_change_state, out);
}

int cw_store_set_mute(struct cw_store *s, const char *id, bool muted, json_t **out)
{
	return update_finding(s, id, "mute", muted ? "MUTED" : "UNMUTED", "mute_update_ms",
	                      st_change_mute, out);
}

int cw_store_check(struct cw_store *s)
{
	sqlite3_stmt *st;
	int ret, rc;

	if (s->pg)
		return pg_check(s);
	ret = st_prepare(s, "PRAGMA integrity_check", &st, 0);
	if (ret)
		return ret;
	rc = st_step_first(st);
	if (rc == SQLITE_ROW) {
		const char *msg = (const char *)sqlite3_column_text(st, 0);

		if (!msg || strcmp(msg, "ok") != 0) {
			cw_err("store %s: integrity check failed: %s", s->path, msg ? msg : "?");
			ret = -EBADMSG;
		}
	} else {
		ret = st_sq_fail(s, rc, "integrity check");
	}
	sqlite3_finalize(st);
	return ret;
}
