/* test_sink.c - unit tests of the sink seam (src/sink.c): order through the
 * set, a sink's replacement of the finding reaching the later sinks, failures
 * counted without stopping the others, and an asynchronous sink that is stuck
 * dropping (counted) instead of blocking the caller, then delivering in order.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "sink.h"

/* A sink that records what it got; can fail, replace, or wait on a gate. */
struct rec {
	char log[4096];
	int fail;             /* emit returns -EIO */
	int replace;          /* emit replaces the finding with {"n": n*10} */
	pthread_mutex_t gate; /* held by the test to stall emit */
	bool gated;
};

static int rec_emit(struct cw_sink *s, struct cw_sink_item *it)
{
	struct rec *r = s->priv;
	json_int_t n = json_integer_value(json_object_get(it->finding, "n"));

	if (r->gated) {
		pthread_mutex_lock(&r->gate);
		pthread_mutex_unlock(&r->gate);
	}
	snprintf(r->log + strlen(r->log), sizeof(r->log) - strlen(r->log), "%lld:%s ", (long long)n,
	         it->key);
	if (r->fail)
		return -5;
	if (r->replace) {
		json_decref(it->finding);
		it->finding = json_pack("{s:I}", "n", n * 10);
	}
	return 0;
}

static const struct cw_sink_ops rec_ops = {.kind = "rec", .emit = rec_emit};

static void emit_n(struct cw_sinks *set, int n)
{
	json_t *f = json_pack("{s:i}", "n", n);
	char key[16];

	snprintf(key, sizeof(key), "k%d", n);
	cw_sinks_emit(set, f, key);
	json_decref(f);
}

TEST(order_replace_and_failures)
{
	struct rec a = {.replace = 1}, b = {.fail = 1}, c = {0};
	struct cw_sinks set = {0};
	struct cw_sink_counters n;
	json_t *st;

	CHECK_INT(cw_sinks_add(&set, cw_sink_new(&rec_ops, &a, "first")), 0);
	CHECK_INT(cw_sinks_add(&set, cw_sink_new(&rec_ops, &b, "failing")), 0);
	CHECK_INT(cw_sinks_add(&set, cw_sink_new(&rec_ops, &c, "last")), 0);
	emit_n(&set, 1);
	emit_n(&set, 2);
	CHECK_STR(a.log, "1:k1 2:k2 ");
	/* the first sink's replacement reaches the later ones; a failure stops nothing */
	CHECK_STR(b.log, "10:k1 20:k2 ");
	CHECK_STR(c.log, "10:k1 20:k2 ");
	cw_sink_counters(set.v[1], &n);
	CHECK_INT(n.failed, 2);
	CHECK_INT(n.emitted, 0);
	st = cw_sinks_stats(&set);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(st, "last"), "emitted")), 2);
	CHECK_STR(json_string_value(json_object_get(json_object_get(st, "failing"), "kind")),
	          "rec");
	json_decref(st);
	cw_sinks_free(&set);
}

TEST(async_sink_never_blocks)
{
	struct rec r = {.gated = true};
	struct cw_sinks set = {0};
	struct cw_sink_counters n;
	struct timespec t0, t1;
	struct cw_sink *s;

	pthread_mutex_init(&r.gate, NULL);
	pthread_mutex_lock(&r.gate); /* the sink's reader is stuck */
	s = cw_sink_new(&rec_ops, &r, "slow");
	CHECK_INT(cw_sink_async(s, 4), 0);
	CHECK_INT(cw_sinks_add(&set, s), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 1; i <= 20; i++)
		emit_n(&set, i);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* 20 findings into a stuck sink of depth 4 return at once (well under 1 s) */
	CHECK(t1.tv_sec - t0.tv_sec < 1);
	cw_sink_counters(s, &n);
	/* one may be in the stuck emit, 4 queued: the rest dropped and counted */
	CHECK(n.dropped >= 15 && n.dropped <= 16);
	pthread_mutex_unlock(&r.gate);
	cw_sinks_free(&set); /* flushes the queue in order */
	CHECK(!strncmp(r.log, "1:k1 2:k2 3:k3 4:k4 ", 20));
	pthread_mutex_destroy(&r.gate);
}

TEST(full_set_refused)
{
	struct rec r = {0};
	struct cw_sinks set = {0};

	for (int i = 0; i < CW_SINKS_MAX; i++)
		CHECK_INT(cw_sinks_add(&set, cw_sink_new(&rec_ops, &r, "x")), 0);
	CHECK_INT(cw_sinks_add(&set, cw_sink_new(&rec_ops, &r, "x")), -28);
	CHECK_INT(cw_sinks_add(&set, NULL), -12);
	cw_sinks_free(&set);
}

static const struct cw_test tests[] = {
    {"order_replace_and_failures", order_replace_and_failures},
    {"async_sink_never_blocks", async_sink_never_blocks},
    {"full_set_refused", full_set_refused},
};

CW_TEST_MAIN(tests)
