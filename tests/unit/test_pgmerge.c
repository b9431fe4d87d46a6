/* test_pgmerge.c - the fleet store's merge of two copies of one finding
 * (store_pg_merge.c), the rule that makes at-least-once, any-order delivery
 * store each finding once: counts and event time take the larger, evidence is
 * the lowest occurrence's, state and mute follow whichever side changed them
 * last; merging is commutative and idempotent. (The same merge against a
 * real PostgreSQL runs in tests/live/test_fleet.sh.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "check.h"
#include "store_pg.h"

/* One copy: occurrence n at second t, evidence ev, state st changed at sc
 * (0: never), mute mu updated at mt (0: never). */
static json_t *copy(int n, int t, const char *ev, const char *st, int sc, const char *mu, int mt)
{
	char et[40], sct[40], mtt[40];
	json_t *f;

	snprintf(et, sizeof(et), "2026-12-01T00:00:%02dZ", t);
	snprintf(sct, sizeof(sct), "2026-12-01T00:01:%02dZ", sc);
	snprintf(mtt, sizeof(mtt), "2026-12-01T00:02:%02dZ", mt);
	f = json_pack("{s:s,s:s,s:s,s:s,s:{s:i,s:s}}", "name", "organizations/0/findings/x",
	              "eventTime", et, "state", st, "mute", mu, "sourceProperties",
	              "Occurrence_Count", n, "Evidence", ev);
	if (sc)
		json_object_set_new(json_object_get(f, "sourceProperties"), "State_Change_Time",
		                    json_string(sct));
	if (mt)
		json_object_set_new(f, "muteUpdateTime", json_string(mtt));
	return f;
}

static const char *str(json_t *f, const char *k)
{
	json_t *v = json_object_get(f, k);

	if (!v)
		v = json_object_get(json_object_get(f, "sourceProperties"), k);
	return json_string_value(v) ? json_string_value(v) : "";
}

static long long occ(json_t *f)
{
	return json_integer_value(
	    json_object_get(json_object_get(f, "sourceProperties"), "Occurrence_Count"));
}

TEST(counts_time_and_evidence)
{
	json_t *first = copy(1, 10, "first", "ACTIVE", 0, "UNDEFINED", 0);
	json_t *third = copy(3, 30, "third", "ACTIVE", 0, "UNDEFINED", 0);
	int64_t evid;
	json_t *m = pgs_merge(third, 3, first, &evid); /* the third arrived first */

	CHECK(m != NULL);
	CHECK_INT(occ(m), 3);
	CHECK_INT(evid, 1);
	CHECK_STR(str(m, "Evidence"), "first");
	CHECK_STR(str(m, "eventTime"), "2026-12-01T00:00:30Z");
	json_decref(m);
	m = pgs_merge(first, 1, third, &evid); /* in order */
	CHECK_INT(occ(m), 3);
	CHECK_INT(evid, 1);
	CHECK_STR(str(m, "Evidence"), "first");
	CHECK_STR(str(m, "eventTime"), "2026-12-01T00:00:30Z");
	json_decref(m);
	json_decref(first);
	json_decref(third);
}

TEST(idempotent)
{
	json_t *a = copy(2, 20, "second", "ACTIVE", 0, "UNDEFINED", 0), *m, *m2;
	int64_t evid, evid2;

	m = pgs_merge(a, 2, a, &evid);
	m2 = pgs_merge(m, evid, a, &evid2);
	CHECK(json_equal(m, a));
	CHECK(json_equal(m2, a));
	CHECK_INT(evid2, 2);
	json_decref(m);
	json_decref(m2);
	json_decref(a);
}

TEST(triage_on_the_fleet_store_stays)
{
	/* triaged centrally at 00:01:40 and muted at 00:02:40; the node then sends
	 * occurrence 4, still ACTIVE/UNDEFINED there and never changed */
	json_t *central = copy(3, 30, "first", "INACTIVE", 40, "MUTED", 40);
	json_t *node = copy(4, 45, "fourth", "ACTIVE", 0, "UNDEFINED", 0);
	int64_t evid;
	json_t *m = pgs_merge(central, 1, node, &evid);

	CHECK_STR(str(m, "state"), "INACTIVE");
	CHECK_STR(str(m, "mute"), "MUTED");
	CHECK_STR(str(m, "State_Change_Time"), "2026-12-01T00:01:40Z");
	CHECK_INT(occ(m), 4);
	CHECK_STR(str(m, "Evidence"), "first");
	json_decref(m);
	json_decref(node);
	/* a later change on the node wins over an older central one */
	node = copy(5, 50, "fifth", "ACTIVE", 55, "UNMUTED", 55);
	m = pgs_merge(central, 1, node, &evid);
	CHECK_STR(str(m, "state"), "ACTIVE");
	CHECK_STR(str(m, "mute"), "UNMUTED");
	CHECK_STR(str(m, "muteUpdateTime"), "2026-12-01T00:02:55Z");
	json_decref(m);
	json_decref(node);
	json_decref(central);
}

TEST(commutative)
{
	json_t *c[3] = {copy(1, 10, "a", "ACTIVE", 0, "UNDEFINED", 0),
	                copy(2, 20, "b", "INACTIVE", 25, "UNDEFINED", 0),
	                copy(3, 30, "c", "ACTIVE", 0, "MUTED", 35)};
	static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
	                                 {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	json_t *want = NULL;

	for (int o = 0; o < 6; o++) {
		int64_t evid = occ(c[orders[o][0]]);
		json_t *m = json_incref(c[orders[o][0]]);

		for (int k = 1; k < 3; k++) {
			json_t *n = pgs_merge(m, evid, c[orders[o][k]], &evid);

			json_decref(m);
			m = n;
		}
		CHECK_STR(str(m, "Evidence"), "a");
		CHECK_STR(str(m, "state"), "INACTIVE");
		CHECK_STR(str(m, "mute"), "MUTED");
		CHECK_INT(occ(m), 3);
		if (!want)
			want = json_incref(m);
		CHECK(json_equal(m, want));
		json_decref(m);
	}
	json_decref(want);
	for (int i = 0; i < 3; i++)
		json_decref(c[i]);
}

static const struct cw_test tests[] = {
    {"counts_time_and_evidence", counts_time_and_evidence},
    {"idempotent", idempotent},
    {"triage_on_the_fleet_store_stays", triage_on_the_fleet_store_stays},
    {"commutative", commutative},
};

CW_TEST_MAIN(tests)
