/* test_outbox.c - the store as the remote sinks' outbox (store_outbox.c),
 * against real SQLite files: each stored finding (a repeat too) is appended
 * in its transaction, in order; positions move only on ack and survive a
 * reopen; a new sink starts at the oldest row kept; rows every sink has
 * delivered are pruned; past the bound the oldest rows go and a late sink
 * sees the gap; and a store without the outbox records as before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "check.h"
#include "store.h"
#include "util.h"

static char path[64];

static struct cw_store *fresh(void)
{
	static char dir[32];
	struct cw_store *s = NULL;

	if (!dir[0]) {
		strcpy(dir, "/tmp/cw-outbox-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(path, sizeof(path), "%s/f%d.db", dir, rand());
	CHECK_INT(cw_store_open(&s, path, CW_STORE_CREATE), 0);
	return s;
}

/* Record finding id at ms (dedup key k); 0 or -errno. */
static int rec(struct cw_store *s, const char *id, const char *k, int64_t ms)
{
	char name[128], et[40];
	json_t *f, *stored = NULL;
	int err;

	snprintf(name, sizeof(name), "organizations/0/sources/cw/locations/global/findings/%s", id);
	cw_rfc3339(ms * 1000000, et, sizeof(et));
	f = json_pack("{s:s,s:s,s:s,s:{}}", "name", name, "eventTime", et, "category", "X",
	              "sourceProperties");
	err = cw_store_record(s, f, k, 60000, &stored);
	json_decref(stored);
	json_decref(f);
	return err;
}

static const char *short_of(json_t *f)
{
	return cw_store_short_id(json_string_value(json_object_get(f, "name")));
}

TEST(order_ack_and_reopen)
{
	const char *sinks[] = {"http://a/x"};
	struct cw_store *s = fresh();
	struct cw_outbox_state os;
	int64_t seq = 0;
	json_t *f = NULL;

	CHECK_INT(cw_store_outbox_enable(s, sinks, 1, 0), 0);
	CHECK_INT(rec(s, "a1", "k1", 1795935605000LL), 0);
	CHECK_INT(rec(s, "b2", "k2", 1795935606000LL), 0);
	CHECK_INT(rec(s, "c3", "k1", 1795935607000LL), 0); /* a repeat of a1: appended too */
	CHECK_INT(cw_store_outbox_state(s, "http://a/x", &os), 0);
	CHECK_INT(os.position, 0);
	CHECK_INT(os.head, 3);
	CHECK_INT(cw_store_outbox_next(s, 0, &seq, &f), 0);
	CHECK_INT(seq, 1);
	CHECK_STR(short_of(f), "a1");
	json_decref(f);
	CHECK_INT(cw_store_outbox_next(s, 2, &seq, &f), 0);
	CHECK_STR(short_of(f), "a1"); /* the repeat carries the stored identity */
	CHECK_INT(json_integer_value(
	              json_object_get(json_object_get(f, "sourceProperties"), "Occurrence_Count")),
	          2);
	json_decref(f);
	CHECK_INT(cw_store_outbox_next(s, 3, &seq, &f), -ENOENT);
	CHECK_INT(cw_store_outbox_ack(s, "http://a/x", 2, 0), 0);
	cw_store_close(s);
	CHECK_INT(cw_store_open(&s, path, 0), 0);
	CHECK_INT(cw_store_outbox_state(s, "http://a/x", &os), 0);
	CHECK_INT(os.position, 2); /* survives a reopen */
	CHECK_INT(cw_store_outbox_state(s, "http://unknown", &os), -ENOENT);
	cw_store_close(s);
}

TEST(prune_and_bound)
{
	const char *sinks[] = {"fast", "slow"};
	struct cw_store *s = fresh();
	struct cw_outbox_state os;
	char id[16];

	CHECK_INT(cw_store_outbox_enable(s, sinks, 2, 50), 0);
	for (int i = 0; i < 64; i++) { /* the 64th append prunes */
		snprintf(id, sizeof(id), "f%d", i);
		CHECK_INT(rec(s, id, id, 1795935605000LL + i), 0);
	}
	CHECK_INT(cw_store_outbox_state(s, "slow", &os), 0);
	CHECK_INT(os.head, 64);
	CHECK_INT(os.first, 15); /* the bound: the newest 50 stay */
	CHECK_INT(cw_store_outbox_ack(s, "fast", 64, 0), 0);
	CHECK_INT(cw_store_outbox_ack(s, "slow", 30, 14), 0);
	CHECK_INT(cw_store_outbox_state(s, "slow", &os), 0);
	CHECK_INT(os.skipped, 14);
	for (int i = 64; i < 128; i++) {
		snprintf(id, sizeof(id), "f%d", i);
		CHECK_INT(rec(s, id, id, 1795935605000LL + i), 0);
	}
	CHECK_INT(cw_store_outbox_state(s, "slow", &os), 0);
	CHECK_INT(os.first, 79); /* slow delivered 30: rows past it, within the bound */
	cw_store_close(s);
}

TEST(new_sink_and_no_outbox)
{
	const char *one[] = {"old"}, *two[] = {"old", "new"};
	struct cw_store *s = fresh();
	struct cw_outbox_state os;
	int64_t seq = 0;
	json_t *f = NULL;

	CHECK_INT(rec(s, "before", "k0", 1795935605000LL), 0); /* no outbox yet: not appended */
	CHECK_INT(cw_store_outbox_enable(s, one, 1, 0), 0);
	CHECK_INT(rec(s, "x1", "k1", 1795935606000LL), 0);
	CHECK_INT(cw_store_outbox_ack(s, "old", 1, 0), 0);
	cw_store_close(s);
	CHECK_INT(cw_store_open(&s, path, 0), 0);
	CHECK_INT(cw_store_outbox_enable(s, two, 2, 0), 0);
	CHECK_INT(cw_store_outbox_state(s, "new", &os), 0);
	CHECK_INT(os.position, 0);
	CHECK_INT(cw_store_outbox_next(s, 0, &seq, &f), 0); /* the oldest row kept */
	CHECK_STR(short_of(f), "x1");
	json_decref(f);
	cw_store_close(s);
}

static const struct cw_test tests[] = {
    {"order_ack_and_reopen", order_ack_and_reopen},
    {"prune_and_bound", prune_and_bound},
    {"new_sink_and_no_outbox", new_sink_and_no_outbox},
};

CW_TEST_MAIN(tests)
