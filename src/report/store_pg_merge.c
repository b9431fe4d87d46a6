/* store_pg_merge.c - recording findings on PostgreSQL so that delivery
 * "at least once, in any order, by any number of collectors" stores each
 * finding exactly once with the right counts.
 *
 * A finding is keyed by its name. Recording one that is not there inserts it;
 * recording one that is merges the two, and the merge is idempotent and
 * commutative (the same result whatever the order and however often a
 * message is replayed):
 *   - occurrence count and event time: the larger;
 *   - evidence (the rest of the JSON): that of the lowest occurrence seen, as
 *     on the node, which keeps its first occurrence's evidence;
 *   - state: whichever side changed it last (sourceProperties.
 *     State_Change_Time), so a triage decision made on the fleet store is not
 *     undone by the node's next occurrence; mute likewise by muteUpdateTime.
 * A batch is one transaction, its findings locked in name order so that
 * collectors working on overlapping batches cannot deadlock.
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

#define NCOLS 27
static const char *const cols[NCOLS] = {
    "name",
    "id",
    "parent",
    "category",
    "state",
    "severity",
    "mute",
    "resource_name",
    "resource_display_name",
    "resource_type",
    "project_display_name",
    "project_name",
    "container_id",
    "container_name",
    "container_uri",
    "container_image_id",
    "pod_ns",
    "pod_name",
    "binary_path",
    "event_time_ms",
    "create_time_ms",
    "occurrence_count",
    "evidence_occurrence",
    "state_change_ms",
    "mute_update_ms",
    "stored_ms",
    "json",
};
#define NTEXTCOLS 19 /* name .. binary_path */

static int64_t count_of(json_t *f)
{
	int64_t n;

	return st_json_int_value(
	           json_object_get(json_object_get(f, "sourceProperties"), "Occurrence_Count"), &n)
	           ? n
	           : 1;
}

static int64_t ms_of(json_t *obj, const char *key)
{
	int64_t ms;

	return obj && st_time_ms(obj, key, &ms) ? ms : 0;
}

/* The row's values: text columns borrowed from f, numbers in ints, the JSON
 * in *text (free it). */
struct rowvals {
	const char *v[NCOLS];
	char ints[NCOLS - NTEXTCOLS][24];
	char *text;
};

static int fill(struct rowvals *rv, json_t *f, int64_t evidence)
{
	const char *c[ST_N_TEXT];
	int64_t nums[NCOLS - NTEXTCOLS - 1], ct, sc, mt;

	st_columns(f, c);
	memset(rv, 0, sizeof(*rv));
	rv->v[0] = c[0];
	rv->v[1] = cw_store_short_id(c[0]);
	for (int k = 1; k < ST_N_TEXT; k++)
		rv->v[1 + k] = c[k];
	nums[0] = ms_of(f, "eventTime");
	nums[1] = st_time_ms(f, "createTime", &ct) ? ct : -1;
	nums[2] = count_of(f);
	nums[3] = evidence;
	nums[4] =
	    st_time_ms(json_object_get(f, "sourceProperties"), "State_Change_Time", &sc) ? sc : -1;
	nums[5] = st_time_ms(f, "muteUpdateTime", &mt) ? mt : -1;
	nums[6] = st_now_ms();
	for (int k = 0; k < NCOLS - NTEXTCOLS - 1; k++) {
		snprintf(rv->ints[k], sizeof(rv->ints[k]), "%" PRId64, nums[k]);
		rv->v[NTEXTCOLS + k] = nums[k] < 0 ? NULL : rv->ints[k];
	}
	rv->text = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	rv->v[NCOLS - 1] = rv->text;
	return rv->text ? 0 : -ENOMEM;
}

/* INSERT ... ON CONFLICT DO NOTHING (insert) or UPDATE ... WHERE name = $1. */
static void row_sql(char *buf, size_t n, bool insert)
{
	size_t used = 0;

	if (insert) {
		cw_appendf(buf, n, &used, "INSERT INTO findings (");
		for (int k = 0; k < NCOLS; k++)
			cw_appendf(buf, n, &used, "%s%s", k ? ", " : "", cols[k]);
		cw_appendf(buf, n, &used, ") VALUES (");
		for (int k = 0; k < NCOLS; k++)
			cw_appendf(buf, n, &used, "%s$%d", k ? ", " : "", k + 1);
		cw_appendf(buf, n, &used, ") ON CONFLICT (name) DO NOTHING");
		return;
	}
	cw_appendf(buf, n, &used, "UPDATE findings SET ");
	for (int k = 1; k < NCOLS; k++)
		cw_appendf(buf, n, &used, "%s%s = $%d", k > 1 ? ", " : "", cols[k], k + 1);
	cw_appendf(buf, n, &used, " WHERE name = $1");
}

/* Write f as its row; *inserted (insert only) tells whether it was new. */
static int write_row(struct cw_store *s, json_t *f, int64_t evidence, bool insert, bool *inserted)
{
	struct rowvals rv;
	char sql[1600];
	PGresult *r;
	int err = fill(&rv, f, evidence);

	if (!err) {
		row_sql(sql, sizeof(sql), insert);
		r = pgs_exec(s, sql, NCOLS, rv.v,
		             insert ? "storing a finding" : "merging a finding", &err);
		if (r && inserted)
			*inserted = strcmp(PQcmdTuples(r), "1") == 0;
		PQclear(r);
	}
	free(rv.text);
	return err;
}

/* dst[key] = src[key], or removed when src has none. */
static int copy_key(json_t *dst, json_t *src, const char *key)
{
	json_t *v = src ? json_object_get(src, key) : NULL;

	if (!v)
		return json_object_del(dst, key), 0;
	return json_object_set_new(dst, key, json_deep_copy(v)) ? -ENOMEM : 0;
}

/* The merge of stored finding cur (holding occurrence cur_evid's evidence)
 * and incoming in (see the top of this file); *evid its evidence. */
json_t *pgs_merge(json_t *cur, int64_t cur_evid, json_t *in, int64_t *evid)
{
	static const char *const mute_keys[] = {"mute", "muteUpdateTime", "muteInitiator",
	                                        "muteInfo"};
	int64_t ic = count_of(in), cc = count_of(cur);
	json_t *base = json_deep_copy(ic < cur_evid ? in : cur), *sp;
	json_t *cur_sp = json_object_get(cur, "sourceProperties");
	json_t *in_sp = json_object_get(in, "sourceProperties");
	json_t *state_w =
	    ms_of(in_sp, "State_Change_Time") > ms_of(cur_sp, "State_Change_Time") ? in : cur;
	json_t *mute_w = ms_of(in, "muteUpdateTime") > ms_of(cur, "muteUpdateTime") ? in : cur;
	int err = 0;

	*evid = ic < cur_evid ? ic : cur_evid;
	sp = base ? st_jobj(base, "sourceProperties") : NULL;
	if (!sp) {
		json_decref(base);
		return NULL;
	}
	err |= copy_key(base, ms_of(in, "eventTime") > ms_of(cur, "eventTime") ? in : cur,
	                "eventTime");
	err |= copy_key(base, state_w, "state");
	err |= copy_key(sp, json_object_get(state_w, "sourceProperties"), "State_Change_Time");
	for (size_t k = 0; k < sizeof(mute_keys) / sizeof(mute_keys[0]); k++)
		err |= copy_key(base, mute_w, mute_keys[k]);
	err |= st_jset(sp, "Occurrence_Count", json_integer(ic > cc ? ic : cc));
	if (err) {
		json_decref(base);
		return NULL;
	}
	return base;
}

/* Record f inside the caller's transaction; *stored what is now stored. */
static int record_in_tx(struct cw_store *s, json_t *f, json_t **stored)
{
	const char *name = st_jstr(f, "name");
	int64_t evid = 0;
	bool inserted = false;
	json_t *cur = NULL, *merged = NULL;
	PGresult *r;
	int err = write_row(s, f, count_of(f), true, &inserted);

	if (err || inserted) {
		*stored = err ? NULL : json_incref(f);
		return err;
	}
	/* it is there: lock the row, merge, write back */
	r = pgs_exec(s, "SELECT evidence_occurrence, json FROM findings WHERE name = $1 FOR UPDATE",
	             1, &name, "merging a finding", &err);
	if (r && PQntuples(r) != 1)
		err = -EAGAIN; /* deleted meanwhile: retry the batch */
	if (!err) {
		evid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		cur = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
		err = cur ? 0 : -EBADMSG;
	}
	PQclear(r);
	if (!err && !(merged = pgs_merge(cur, evid, f, &evid)))
		err = -ENOMEM;
	if (!err)
		err = write_row(s, merged, evid, false, NULL);
	*stored = err ? NULL : json_incref(merged);
	json_decref(merged);
	json_decref(cur);
	return err;
}

/* A finding the store can key: a name with a short id, an RFC 3339 event
 * time, an occurrence count (1 when absent). */
static int valid(struct cw_store *s, json_t *f)
{
	const char *name = st_jstr(f, "name");
	int64_t ms;
	json_t *sp;

	if (!json_is_object(f) || !name || !cw_store_short_id(name)[0] ||
	    !st_time_ms(f, "eventTime", &ms)) {
		cw_err("store %s: finding %s has no name or no RFC 3339 eventTime: not stored",
		       s->path, name ? name : "(unnamed)");
		return -EINVAL;
	}
	sp = st_jobj(f, "sourceProperties");
	if (!sp)
		return -ENOMEM;
	if (!json_object_get(sp, "Occurrence_Count"))
		return st_jset(sp, "Occurrence_Count", json_integer(1));
	return 0;
}

int pg_record(struct cw_store *s, json_t *finding, json_t **stored)
{
	int err = valid(s, finding);

	*stored = NULL;
	if (!err)
		err = pgs_cmd(s, "BEGIN", "starting a write");
	if (!err)
		err = record_in_tx(s, finding, stored);
	if (!err)
		err = pgs_cmd(s, "COMMIT", "committing a finding");
	if (err) {
		if (PQstatus((PGconn *)s->pg) == CONNECTION_OK)
			PQclear(PQexec((PGconn *)s->pg, "ROLLBACK"));
		json_decref(*stored);
		*stored = NULL;
	}
	return err;
}

static int by_name(const void *a, const void *b)
{
	const char *x = st_jstr(*(json_t *const *)a, "name");
	const char *y = st_jstr(*(json_t *const *)b, "name");

	return strcmp(x ? x : "", y ? y : "");
}

int cw_store_record_all(struct cw_store *s, json_t *const *findings, size_t n)
{
	json_t **sorted;
	int err = 0;

	if (!s->pg) {
		cw_err("store %s: merging batches needs a PostgreSQL store", s->path);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < n && !err; i++)
		err = valid(s, findings[i]);
	if (err)
		return err;
	sorted = malloc((n ? n : 1) * sizeof(json_t *));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, findings, n * sizeof(json_t *));
	qsort(sorted, n, sizeof(json_t *), by_name);
	err = pgs_cmd(s, "BEGIN", "starting a batch");
	for (size_t i = 0; i < n && !err; i++) {
		json_t *stored = NULL;

		err = record_in_tx(s, sorted[i], &stored);
		json_decref(stored);
	}
	if (!err)
		err = pgs_cmd(s, "COMMIT", "committing a batch");
	if (err && PQstatus((PGconn *)s->pg) == CONNECTION_OK)
		PQclear(PQexec((PGconn *)s->pg, "ROLLBACK"));
	free(sorted);
	return err;
}

int cw_store_reject(struct cw_store *s, const char *origin, const char *reason, const void *body,
                    size_t len)
{
	char now[24], *hex = NULL;
	const char *vals[4] = {now, origin, reason, NULL};
	PGresult *r;
	int err;

	if (!s->pg)
		return -EOPNOTSUPP;
	snprintf(now, sizeof(now), "%" PRId64, st_now_ms());
	hex = malloc(len * 2 + 3);
	if (!hex)
		return -ENOMEM;
	hex[0] = '\\';
	hex[1] = 'x';
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 + 2 * i, 3, "%02x", ((const unsigned char *)body)[i]);
	hex[2 + 2 * len] = '\0';
	vals[3] = hex;
	r = pgs_exec(s,
	             "INSERT INTO rejected (received_ms, origin, reason, body) VALUES ($1, $2, $3, "
	             "$4::bytea)",
	             4, vals, "keeping a rejected message", &err);
	PQclear(r);
	free(hex);
	return err;
}
