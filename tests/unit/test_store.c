/* test_store.c - the findings store against real SQLite files in temp dirs:
 * insert/get/list, dedup windows, a 10,000-record burst, lifecycle change
 * times, related findings, a forked writer racing a reader, refusing foreign
 * and corrupt files without touching them, kill -9 of a writer, and the
 * `cagewatch findings` CLI's output and exit statuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include <sqlite3.h>

#include "check.h"
#include "cli.h"
#include "filter.h"
#include "store.h"
#include "util.h"

#define BASE_MS 1795935605000LL /* 2026-11-29T07:00:05Z */

static char dir[64];

static void mkdir_tmp(void)
{
	if (dir[0])
		return;
	strcpy(dir, "/tmp/cw-store-XXXXXX");
	if (!mkdtemp(dir))
		abort();
}

static const char *tpath(const char *name)
{
	static char buf[4][256];
	static int n;
	char *p = buf[n++ % 4];

	mkdir_tmp();
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

/* A finding with short id `id` on container ctr (NULL: none) at event time ms. */
static json_t *mk(const char *id, const char *ctr, const char *binary, int64_t ms)
{
	char name[160], et[40];
	json_t *f, *sp;

	snprintf(name, sizeof(name),
	         "organizations/0/sources/cagewatch/locations/global/findings/%s", id);
	cw_rfc3339(ms * 1000000, et, sizeof(et));
	sp = json_pack("{s:s}", "Tool_Id", "botb");
	if (ctr)
		json_object_set_new(sp, "Container_Id", json_string(ctr));
	f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:[{s:{s:s}, s:[s, s], "
	              "s:s, s:s}]}",
	              "name", name, "resourceName",
	              ctr ? "//cagewatch/host/h1/containers/x" : "//cagewatch/host/h1", "state",
	              "ACTIVE", "category", "Execution: Container Escape", "severity", "HIGH",
	              "mute", "UNDEFINED", "eventTime", et, "createTime", et, "description",
	              "A known container escape tool ran.", "sourceProperties", sp, "processes",
	              "binary", "path", binary, "args", binary, "-autopwn", "pid", "4242",
	              "parentPid", "1");
	json_object_set_new(f, "resource",
	                    json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "name",
	                              json_string_value(json_object_get(f, "resourceName")),
	                              "displayName", ctr ? ctr : "h1", "type",
	                              "cagewatch.dev/Container", "gcpMetadata", "project",
	                              "//cloudresourcemanager.googleapis.com/projects/42",
	                              "projectDisplayName", "my-proj"));
	if (ctr)
		json_object_set_new(f, "containers",
		                    json_pack("[{s:s, s:s}]", "name", ctr, "uri", "alpine:3"));
	json_object_set_new(f, "mitreAttack",
	                    json_pack("{s:s, s:[s]}", "primaryTactic", "PRIVILEGE_ESCALATION",
	                              "primaryTechniques", "ESCAPE_TO_HOST"));
	return f;
}

static int record(struct cw_store *s, json_t *f, const char *key, int64_t window, json_t **stored)
{
	json_t *tmp = NULL;
	int ret = cw_store_record(s, f, key, window, stored ? stored : &tmp);

	json_decref(tmp);
	json_decref(f);
	return ret;
}

static int64_t count(struct cw_store *s, const char *filter)
{
	struct cw_filter *f = NULL;
	char err[256];
	int64_t n = -1;

	if (cw_filter_compile(filter, &f, err, sizeof(err)) || cw_store_count(s, f, &n))
		n = -1;
	cw_filter_free(f);
	return n;
}

static const char *sid(json_t *f)
{
	return cw_store_short_id(json_string_value(json_object_get(f, "name")));
}

static int64_t occ(json_t *f)
{
	return json_integer_value(
	    json_object_get(json_object_get(f, "sourceProperties"), "Occurrence_Count"));
}

static char *slurp(const char *p, size_t *len)
{
	char *buf = NULL;

	if (cw_read_file(p, 64 << 20, &buf, len))
		return NULL;
	return buf;
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

TEST(insert_get_list)
{
	const char *p = tpath("basic/sub/findings.db");
	struct cw_store *s;
	json_t *got = NULL, *arr = NULL, *orig;
	unsigned char hdr[100];
	int fd;

	CHECK_INT(cw_store_open(&s, p, 0), -ENOENT);
	CHECK_INT(cw_store_open(&s, p, CW_STORE_READONLY | CW_STORE_CREATE), -ENOENT);
	CHECK_INT(cw_store_open(&s, p, CW_STORE_CREATE), 0); /* creates basic/sub/ */
	orig = mk("aaaa1111", "c1", "/tmp/botb", BASE_MS);
	CHECK_INT(cw_store_record(s, orig, NULL, 0, &got), 0);
	CHECK(got == orig);
	json_decref(got);
	CHECK_INT(record(s, mk("aaaa2222", "c2", "/tmp/cdk", BASE_MS + 2000), NULL, 0, NULL), 0);
	CHECK_INT(record(s, mk("bbbb3333", NULL, "/tmp/x", BASE_MS + 1000), NULL, 0, NULL), 0);
	/* the same name twice is refused */
	CHECK_INT(record(s, mk("aaaa1111", "c1", "/tmp/botb", BASE_MS), NULL, 0, NULL), -EEXIST);
	/* unusable findings */
	CHECK_INT(record(s, json_pack("{s:s}", "category", "x"), NULL, 0, NULL), -EINVAL);
	got = mk("cccc", NULL, "/x", 0);
	json_object_set_new(got, "eventTime", json_string("not a time"));
	CHECK_INT(record(s, got, NULL, 0, NULL), -EINVAL);

	/* full name, short id, unique prefix, ambiguous prefix, missing */
	CHECK_INT(cw_store_get(s,
	                       "organizations/0/sources/cagewatch/locations/global/findings/"
	                       "aaaa2222",
	                       &got),
	          0);
	CHECK_STR(sid(got), "aaaa2222");
	json_decref(got);
	CHECK_INT(cw_store_get(s, "aaaa1111", &got), 0);
	CHECK(json_equal(got, orig)); /* stored exactly, with Occurrence_Count 1 added */
	CHECK_INT(occ(got), 1);
	json_decref(got);
	json_decref(orig);
	CHECK_INT(cw_store_get(s, "bbb", &got), 0);
	CHECK_STR(sid(got), "bbbb3333");
	json_decref(got);
	CHECK_INT(cw_store_get(s, "aaaa", &got), -ENOTUNIQ);
	CHECK_INT(cw_store_get(s, "zzzz", &got), -ENOENT);
	CHECK_INT(cw_store_get(s, "a*", &got), -ENOENT);
	CHECK_INT(cw_store_get(s, "organizations/0/x/aaaa1111", &got), -ENOENT);
	CHECK(got == NULL);

	/* order and limit */
	CHECK_INT(cw_store_list(s, NULL, NULL, false, 0, &arr), 0);
	CHECK_INT(json_array_size(arr), 3);
	CHECK_STR(sid(json_array_get(arr, 0)), "aaaa1111");
	CHECK_STR(sid(json_array_get(arr, 1)), "bbbb3333");
	CHECK_STR(sid(json_array_get(arr, 2)), "aaaa2222");
	json_decref(arr);
	CHECK_INT(cw_store_list(s, NULL, "event_time", true, 2, &arr), 0);
	CHECK_INT(json_array_size(arr), 2);
	CHECK_STR(sid(json_array_get(arr, 0)), "aaaa2222");
	CHECK_STR(sid(json_array_get(arr, 1)), "bbbb3333");
	json_decref(arr);
	CHECK_INT(cw_store_list(s, NULL, "name", true, 1, &arr), 0);
	CHECK_STR(sid(json_array_get(arr, 0)), "bbbb3333");
	json_decref(arr);
	CHECK_INT(cw_store_list(s, NULL, "source_properties.X", false, 0, &arr), -EINVAL);
	CHECK(arr == NULL);
	CHECK_INT(count(s, "container.id = \"c2\""), 1);
	CHECK_INT(cw_store_check(s), 0);
	cw_store_close(s);

	/* the header marks it as ours */
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0 && read(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
	close(fd);
	CHECK_INT((hdr[68] << 24 | hdr[69] << 16 | hdr[70] << 8 | hdr[71]),
	          CW_STORE_APPLICATION_ID);
	CHECK_INT(hdr[18], 2); /* WAL */

	/* read-only handles cannot write */
	CHECK_INT(cw_store_open(&s, p, CW_STORE_READONLY), 0);
	CHECK_INT(record(s, mk("dddd", NULL, "/x", BASE_MS), NULL, 0, NULL), -EROFS);
	CHECK_INT(cw_store_set_state(s, "aaaa1111", "INACTIVE", NULL), -EROFS);
	CHECK_INT(count(s, NULL), 3);
	cw_store_close(s);
}

TEST(dedup_window)
{
	const char *p = tpath("dedup.db");
	const char *key = "Execution: Container Escape|c1|/tmp/botb";
	struct cw_store *s;
	json_t *st = NULL, *f;

	CHECK_INT(cw_store_open(&s, p, CW_STORE_CREATE), 0);
	CHECK_INT(record(s, mk("d1", "c1", "/tmp/botb", BASE_MS), key, 60000, &st), 0);
	CHECK_STR(sid(st), "d1");
	json_decref(st);
	/* 5 s later: same finding, count 2. What comes back is this occurrence
	 * (its own eventTime and args) under the stored finding's name. */
	f = mk("d2", "c1", "/tmp/botb", BASE_MS + 5000);
	json_array_set_new(
	    json_object_get(json_array_get(json_object_get(f, "processes"), 0), "args"), 1,
	    json_string("-scan"));
	CHECK_INT(record(s, f, key, 60000, &st), 0);
	CHECK_STR(sid(st), "d1");
	CHECK_INT(occ(st), 2);
	CHECK_STR(json_string_value(json_object_get(st, "eventTime")), "2026-11-29T07:00:10.000Z");
	CHECK_STR(json_string_value(json_object_get(st, "createTime")), "2026-11-29T07:00:05.000Z");
	CHECK_STR(
	    json_string_value(json_array_get(
	        json_object_get(json_array_get(json_object_get(st, "processes"), 0), "args"), 1)),
	    "-scan");
	json_decref(st);
	/* the stored finding keeps its first evidence, counts, and moves eventTime */
	CHECK_INT(cw_store_get(s, "d1", &st), 0);
	CHECK_INT(occ(st), 2);
	CHECK_STR(json_string_value(json_object_get(st, "eventTime")), "2026-11-29T07:00:10.000Z");
	CHECK_STR(
	    json_string_value(json_array_get(
	        json_object_get(json_array_get(json_object_get(st, "processes"), 0), "args"), 1)),
	    "-autopwn");
	json_decref(st);
	/* lifecycle changes made since carry over to what is returned for repeats */
	CHECK_INT(cw_store_set_state(s, "d1", "INACTIVE", NULL), 1);
	CHECK_INT(cw_store_set_mute(s, "d1", true, NULL), 1);
	/* an older event inside the window counts but does not move eventTime back */
	CHECK_INT(record(s, mk("d3", "c1", "/tmp/botb", BASE_MS + 1000), key, 60000, &st), 0);
	CHECK_STR(sid(st), "d1");
	CHECK_INT(occ(st), 3);
	CHECK_STR(json_string_value(json_object_get(st, "eventTime")), "2026-11-29T07:00:06.000Z");
	CHECK_STR(json_string_value(json_object_get(st, "state")), "INACTIVE");
	CHECK_STR(json_string_value(json_object_get(st, "mute")), "MUTED");
	CHECK(json_string_value(json_object_get(st, "muteInitiator")) != NULL);
	CHECK_STR(json_string_value(json_object_get(
	              json_object_get(json_object_get(st, "muteInfo"), "staticMute"), "state")),
	          "MUTED");
	CHECK(json_string_value(json_object_get(json_object_get(st, "sourceProperties"),
	                                        "State_Change_Time")) != NULL);
	json_decref(st);
	CHECK_INT(count(s, NULL), 1);
	/* the stored row agrees */
	CHECK_INT(cw_store_get(s, "d1", &st), 0);
	CHECK_INT(occ(st), 3);
	CHECK_STR(json_string_value(json_object_get(st, "eventTime")), "2026-11-29T07:00:10.000Z");
	json_decref(st);
	CHECK_INT(count(s, "occurrence_count = 3 AND event_time = \"2026-11-29T07:00:10Z\""), 1);
	/* outside the window (2 min after the last event): a new finding */
	CHECK_INT(record(s, mk("d4", "c1", "/tmp/botb", BASE_MS + 5000 + 120000), key, 60000, &st),
	          0);
	CHECK_STR(sid(st), "d4");
	CHECK_INT(occ(st), 1);
	json_decref(st);
	/* another key, no key, window 0: new findings */
	CHECK_INT(record(s, mk("d5", "c2", "/tmp/botb", BASE_MS), "other", 60000, NULL), 0);
	CHECK_INT(record(s, mk("d6", "c1", "/tmp/botb", BASE_MS), NULL, 60000, NULL), 0);
	CHECK_INT(record(s, mk("d7", "c1", "/tmp/botb", BASE_MS), key, 0, NULL), 0);
	CHECK_INT(count(s, NULL), 5);
	cw_store_close(s);
}

TEST(burst_of_10000)
{
	const char *p = tpath("burst.db");
	struct cw_store *s;
	json_t *st = NULL;
	char id[40];
	int fails = 0;

	CHECK_INT(cw_store_open(&s, p, CW_STORE_CREATE), 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "burst%05d", i);
		if (record(s, mk(id, "c1", "/tmp/botb", BASE_MS + i), "k", 15 * 60000, NULL))
			fails++;
	}
	CHECK_INT(fails, 0);
	CHECK_INT(count(s, NULL), 1);
	CHECK_INT(cw_store_get(s, "burst00000", &st), 0);
	CHECK_INT(occ(st), 10000);
	json_decref(st);
	CHECK_INT(cw_store_get(s, "burst00001", &st), -ENOENT);
	CHECK_INT(count(s, "source_properties.Occurrence_Count = 10000"), 1);
	cw_store_close(s);
}

TEST(lifecycle)
{
	const char *p = tpath("life.db");
	struct cw_store *s;
	json_t *f = NULL;
	int64_t before, after, t = 0;
	char filter[128];

	CHECK_INT(cw_store_open(&s, p, CW_STORE_CREATE), 0);
	CHECK_INT(record(s, mk("life1", "c1", "/tmp/botb", BASE_MS), NULL, 0, NULL), 0);
	before = cw_now_ns() / 1000000;
	CHECK_INT(cw_store_set_state(s, "life1", "INACTIVE", &f), 1);
	after = cw_now_ns() / 1000000;
	CHECK_STR(json_string_value(json_object_get(f, "state")), "INACTIVE");
	CHECK_INT(
	    cw_parse_rfc3339_ms(json_string_value(json_object_get(
	                            json_object_get(f, "sourceProperties"), "State_Change_Time")),
	                        &t),
	    0);
	CHECK(t >= before - 1 && t <= after + 1);
	json_decref(f);
	snprintf(filter, sizeof(filter), "state = \"INACTIVE\" AND state_change_time >= %lld",
	         (long long)before);
	CHECK_INT(count(s, filter), 1);
	/* setting the same state again changes nothing */
	CHECK_INT(cw_store_set_state(s, "life1", "INACTIVE", &f), 0);
	CHECK_STR(json_string_value(json_object_get(f, "state")), "INACTIVE");
	json_decref(f);
	CHECK_INT(cw_store_set_state(s, "life1", "active", NULL), -EINVAL);
	CHECK_INT(cw_store_set_state(s, "nope", "ACTIVE", NULL), -ENOENT);

	before = cw_now_ns() / 1000000;
	CHECK_INT(cw_store_set_mute(s, "life", true, &f), 1);
	CHECK_STR(json_string_value(json_object_get(f, "mute")), "MUTED");
	CHECK_INT(cw_parse_rfc3339_ms(json_string_value(json_object_get(f, "muteUpdateTime")), &t),
	          0);
	CHECK(t >= before - 1);
	CHECK_STR(json_string_value(json_object_get(
	              json_object_get(json_object_get(f, "muteInfo"), "staticMute"), "state")),
	          "MUTED");
	CHECK(json_string_value(json_object_get(f, "muteInitiator")) != NULL);
	json_decref(f);
	CHECK_INT(count(s, "mute = \"MUTED\" AND mute_update_time > 0"), 1);
	CHECK_INT(cw_store_set_mute(s, "life1", false, &f), 1);
	CHECK_STR(json_string_value(json_object_get(f, "mute")), "UNMUTED");
	json_decref(f);
	/* the stored JSON agrees */
	CHECK_INT(cw_store_get(s, "life1", &f), 0);
	CHECK_STR(json_string_value(json_object_get(f, "mute")), "UNMUTED");
	CHECK_STR(json_string_value(json_object_get(f, "state")), "INACTIVE");
	json_decref(f);
	CHECK_INT(count(s, "mute = \"UNMUTED\" AND state = \"INACTIVE\""), 1);
	cw_store_close(s);
}

TEST(related)
{
	const char *p = tpath("related.db");
	struct cw_store *s;
	json_t *arr = NULL;
	const int64_t min = 60000;

	CHECK_INT(cw_store_open(&s, p, CW_STORE_CREATE), 0);
	CHECK_INT(record(s, mk("r0", "c1", "/tmp/botb", BASE_MS), NULL, 0, NULL), 0);
	CHECK_INT(record(s, mk("r1", "c1", "/bin/sh", BASE_MS + 1 * min), NULL, 0, NULL), 0);
	CHECK_INT(record(s, mk("r2", "c1", "/bin/nc", BASE_MS - 5 * min), NULL, 0, NULL), 0);
	CHECK_INT(record(s, mk("r3", "c1", "/bin/ls", BASE_MS + 20 * min), NULL, 0, NULL), 0);
	CHECK_INT(record(s, mk("r4", "c2", "/bin/ls", BASE_MS + 30000), NULL, 0, NULL), 0);
	CHECK_INT(record(s, mk("h1", NULL, "/bin/ls", BASE_MS), NULL, 0, NULL), 0);
	CHECK_INT(record(s, mk("h2", NULL, "/bin/id", BASE_MS + 2 * min), NULL, 0, NULL), 0);

	CHECK_INT(cw_store_related(s, "r0", 15 * min, &arr), 0);
	CHECK_INT(json_array_size(arr), 2);
	CHECK_STR(sid(json_array_get(arr, 0)), "r2"); /* oldest first */
	CHECK_STR(sid(json_array_get(arr, 1)), "r1");
	json_decref(arr);
	CHECK_INT(cw_store_related(s, "r0", 30 * min, &arr), 0);
	CHECK_INT(json_array_size(arr), 3);
	json_decref(arr);
	CHECK_INT(cw_store_related(s, "r4", 60 * min, &arr), 0);
	CHECK_INT(json_array_size(arr), 0);
	json_decref(arr);
	/* no container: same resource */
	CHECK_INT(cw_store_related(s, "h1", 15 * min, &arr), 0);
	CHECK_INT(json_array_size(arr), 1);
	CHECK_STR(sid(json_array_get(arr, 0)), "h2");
	json_decref(arr);
	CHECK_INT(cw_store_related(s, "missing", 15 * min, &arr), -ENOENT);
	cw_store_close(s);
}

static void writer_child(const char *p, int n, int wfd)
{
	struct cw_store *s;
	char id[32];
	int rc = 0;

	if (cw_store_open(&s, p, 0))
		_exit(3);
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "w%06d", i);
		rc =
		    record(s, mk(id, i % 2 ? "c1" : "c2", "/tmp/botb", BASE_MS + i), NULL, 0, NULL);
		if (rc)
			_exit(4);
		if (wfd >= 0) {
			char line[40];
			int len = snprintf(line, sizeof(line), "%s\n", id);

			if (write(wfd, line, (size_t)len) != len)
				_exit(5);
		}
	}
	cw_store_close(s);
	_exit(0);
}

TEST(concurrent_reader_writer)
{
	const char *p = tpath("conc.db");
	struct cw_store *s;
	int status = 0, errors = 0, rounds = 0, state_changes = 0;
	int64_t last = 0, n;
	pid_t pid;

	/* create, then close before forking: connections must not cross fork() */
	CHECK_INT(cw_store_open(&s, p, CW_STORE_CREATE), 0);
	cw_store_close(s);
	fflush(NULL); /* the child must not re-emit buffered output */
	pid = fork();
	if (pid == 0)
		writer_child(p, 2000, -1);
	CHECK(pid > 0);
	for (;;) {
		struct cw_store *r = NULL, *w = NULL;
		struct cw_filter *f = NULL;
		json_t *arr = NULL;
		char err[128];
		pid_t done = waitpid(pid, &status, WNOHANG);

		rounds++;
		if (cw_store_open(&r, p, CW_STORE_READONLY) ||
		    cw_filter_compile("container.id = \"c1\" AND state = \"ACTIVE\"", &f, err,
		                      sizeof(err)) ||
		    cw_store_list(r, f, "event_time", true, 50, &arr) ||
		    cw_store_count(r, NULL, &n)) {
			errors++;
		} else {
			if (n < last)
				errors++;
			last = n;
		}
		json_decref(arr);
		cw_filter_free(f);
		cw_store_close(r);
		/* a second writer: flip a finding's state while the child inserts */
		if (rounds % 5 == 0 && last > 0) {
			if (cw_store_open(&w, p, 0) ||
			    cw_store_set_state(w, "w000000", rounds % 10 ? "INACTIVE" : "ACTIVE",
			                       NULL) < 0)
				errors++;
			else
				state_changes++;
			cw_store_close(w);
		}
		if (done == pid)
			break;
	}
	CHECK_INT(errors, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(rounds > 1);
	CHECK_INT(cw_store_open(&s, p, CW_STORE_READONLY), 0);
	CHECK_INT(count(s, NULL), 2000);
	CHECK_INT(cw_store_check(s), 0);
	cw_store_close(s);
	(void)state_changes;
}

TEST(kill_9_keeps_committed)
{
	const char *p = tpath("kill.db");
	struct cw_store *s;
	int fds[2], status, missing = 0, got = 0;
	char buf[256 * 1024], *line, *save;
	size_t used = 0;
	pid_t pid;
	FILE *in;

	CHECK_INT(cw_store_open(&s, p, CW_STORE_CREATE), 0);
	cw_store_close(s);
	CHECK_INT(pipe(fds), 0);
	fflush(NULL); /* the child must not re-emit buffered output */
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		writer_child(p, 1000000, fds[1]);
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	/* let it commit a few hundred, then kill it mid-stream */
	while (got < 300 && fgets(buf + used, (int)(sizeof(buf) - used), in)) {
		used += strlen(buf + used);
		got++;
	}
	kill(pid, SIGKILL);
	/* everything it reported before dying */
	while (used < sizeof(buf) - 64 && fgets(buf + used, (int)(sizeof(buf) - used), in))
		used += strlen(buf + used);
	fclose(in);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK(got == 300);

	CHECK_INT(cw_store_open(&s, p, CW_STORE_READONLY), 0);
	CHECK_INT(cw_store_check(s), 0);
	got = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *f = NULL;

		got++;
		if (cw_store_get(s, line, &f) != 0)
			missing++;
		json_decref(f);
	}
	CHECK(got >= 300);
	CHECK_INT(missing, 0);
	CHECK(count(s, NULL) >= got);
	cw_store_close(s);
	/* and a writer can carry on */
	CHECK_INT(cw_store_open(&s, p, 0), 0);
	CHECK_INT(record(s, mk("after-kill", NULL, "/x", BASE_MS), NULL, 0, NULL), 0);
	cw_store_close(s);
}

static void check_untouched(const char *p, int want_err)
{
	char *before, *after, side[300];
	size_t lb = 0, la = 0;
	struct cw_store *s = NULL;

	before = slurp(p, &lb);
	CHECK(before != NULL);
	CHECK_INT(cw_store_open(&s, p, CW_STORE_CREATE), want_err);
	CHECK(s == NULL);
	CHECK_INT(cw_store_open(&s, p, 0), want_err);
	CHECK_INT(cw_store_open(&s, p, CW_STORE_READONLY), want_err);
	after = slurp(p, &la);
	CHECK(after != NULL && la == lb && memcmp(before, after, lb) == 0);
	snprintf(side, sizeof(side), "%s-wal", p);
	CHECK(!exists(side));
	snprintf(side, sizeof(side), "%s-journal", p);
	CHECK(!exists(side));
	free(before);
	free(after);
}

TEST(foreign_and_corrupt_files)
{
	const char *p = tpath("other.db"), *g = tpath("garbage.db"), *c = tpath("corrupt.db");
	const char *e = tpath("empty.db");
	struct cw_store *s;
	sqlite3 *db;
	char junk[8192];
	int fd;

	/* somebody else's SQLite database */
	CHECK_INT(sqlite3_open(p, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES ('precious');", NULL,
	                       NULL, NULL),
	          SQLITE_OK);
	sqlite3_close(db);
	check_untouched(p, -EINVAL);

	/* garbage, long and short */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	fd = open(g, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	close(fd);
	check_untouched(g, -EBADMSG);
	fd = open(g, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "hello\n", 6) == 6);
	close(fd);
	check_untouched(g, -EBADMSG);

	/* a cagewatch store whose schema page is smashed */
	CHECK_INT(cw_store_open(&s, c, CW_STORE_CREATE), 0);
	CHECK_INT(record(s, mk("x1", NULL, "/x", BASE_MS), NULL, 0, NULL), 0);
	cw_store_close(s);
	fd = open(c, O_WRONLY);
	memset(junk, 0xff, sizeof(junk));
	CHECK(pwrite(fd, junk, 4096 - 100, 100) == 4096 - 100);
	close(fd);
	check_untouched(c, -EBADMSG);

	/* a directory is not a store */
	CHECK_INT(cw_store_open(&s, dir, CW_STORE_CREATE), -EINVAL);

	/* an empty file (a creation cut short) becomes a store; read-only refuses it */
	fd = open(e, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	close(fd);
	CHECK_INT(cw_store_open(&s, e, CW_STORE_READONLY), -EBADMSG);
	CHECK_INT(cw_store_open(&s, e, CW_STORE_CREATE), 0);
	cw_store_close(s);
	CHECK_INT(cw_store_open(&s, e, CW_STORE_READONLY), 0);
	cw_store_close(s);
}

/* Run `cagewatch findings ARGS...` in-process; stdout goes to a file. */
static int cli(char **out, const char *a0, ...)
{
	char *argv[16];
	int argc = 0, saved, fd, ret;
	const char *a;
	va_list ap;
	size_t len;

	argv[argc++] = (char *)"findings";
	va_start(ap, a0);
	for (a = a0; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	saved = dup(1);
	fd = open(tpath("cli.out"), O_CREAT | O_WRONLY | O_TRUNC, 0600);
	dup2(fd, 1);
	close(fd);
	ret = cw_cmd_findings(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	*out = slurp(tpath("cli.out"), &len);
	return ret;
}

TEST(cli_commands)
{
	char p[256], *out = NULL, store_opt[300];
	struct cw_store *s;
	json_t *arr, *f;

	cw_strlcpy(p, tpath("cli.db"), sizeof(p)); /* tpath() buffers rotate */
	snprintf(store_opt, sizeof(store_opt), "--store=%s", p);
	CHECK_INT(cli(&out, "list", "--store", p, NULL), 2); /* no store yet */
	free(out);
	CHECK_INT(cw_store_open(&s, p, CW_STORE_CREATE), 0);
	f = mk("0123456789abcdef0123456789abcdef", "c1", "/tmp/botb\x1b[31m", BASE_MS);
	CHECK_INT(record(s, f, NULL, 0, NULL), 0);
	CHECK_INT(record(s,
	                 mk("fedcba9876543210fedcba9876543210", "c1", "/bin/sh", BASE_MS + 60000),
	                 NULL, 0, NULL),
	          0);
	cw_store_close(s);

	CHECK_INT(cli(&out, "list", "--store", p, "--format", "json", NULL), 0);
	arr = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_is_array(arr) && json_array_size(arr) == 2);
	json_decref(arr);
	free(out);
	CHECK_INT(cli(&out, "list", "--filter", "process.binary.path = \"/bin/sh\"", "--format",
	              "json", store_opt, NULL),
	          0);
	arr = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_array_size(arr) == 1);
	json_decref(arr);
	free(out);
	CHECK_INT(
	    cli(&out, store_opt, "list", "--order-by", "event_time", "desc", "--limit", "1", NULL),
	    0);
	CHECK(out && strstr(out, "fedcba987654") && !strstr(out, "0123456789ab"));
	CHECK(out && strstr(out, "SEVERITY") && strstr(out, "/bin/sh"));
	free(out);
	CHECK_INT(cli(&out, store_opt, "list", "--order-by", "event_time asc", NULL), 0);
	/* control characters in attacker-chosen strings are escaped */
	CHECK(out && strstr(out, "/tmp/botb\\x1b[31m") && !strchr(out, 0x1b));
	CHECK(out && strstr(out, "0123456789ab") < strstr(out, "fedcba987654"));
	free(out);
	CHECK_INT(cli(&out, store_opt, "list", "--filter", "state", NULL), 2);
	free(out);
	CHECK_INT(cli(&out, store_opt, "list", "--order-by", "bogus", NULL), 2);
	free(out);
	CHECK_INT(cli(&out, store_opt, "list", "--limit", "0", NULL), 2);
	free(out);

	CHECK_INT(cli(&out, store_opt, "show", "0123", NULL), 0);
	CHECK(out && strstr(out, "What was detected") && strstr(out, "Affected resource") &&
	      strstr(out, "-autopwn") && strstr(out, "ESCAPE_TO_HOST (T1611)") &&
	      strstr(out, "my-proj") && strstr(out, "Next steps"));
	free(out);
	CHECK_INT(cli(&out, store_opt, "show", "0123", "--json", NULL), 0);
	f = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_is_object(f) && occ(f) == 1);
	json_decref(f);
	free(out);
	CHECK_INT(cli(&out, store_opt, "show", "9999", NULL), 1);
	free(out);
	CHECK_INT(cli(&out, store_opt, "show", NULL), 2);
	free(out);

	CHECK_INT(
	    cli(&out, store_opt, "related", "0123", "--window", "15m", "--format", "json", NULL),
	    0);
	arr = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_array_size(arr) == 1 &&
	      !strcmp(sid(json_array_get(arr, 0)), "fedcba9876543210fedcba9876543210"));
	json_decref(arr);
	free(out);
	CHECK_INT(cli(&out, store_opt, "related", "0123", "--window", "30s", NULL), 0);
	CHECK(out && strstr(out, "0 other findings"));
	free(out);
	CHECK_INT(cli(&out, store_opt, "related", "0123", "--window", "15 minutes", NULL), 2);
	free(out);

	CHECK_INT(cli(&out, store_opt, "set-state", "0123", "INACTIVE", NULL), 0);
	CHECK(out && strstr(out, "state INACTIVE"));
	free(out);
	CHECK_INT(cli(&out, store_opt, "set-state", "0123", "DONE", NULL), 2);
	free(out);
	CHECK_INT(cli(&out, store_opt, "mute", "0123", NULL), 0);
	free(out);
	CHECK_INT(cli(&out, store_opt, "list", "--filter", "mute=\"MUTED\" AND state=\"INACTIVE\"",
	              "--format", "json", NULL),
	          0);
	arr = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_array_size(arr) == 1);
	json_decref(arr);
	free(out);
	CHECK_INT(cli(&out, store_opt, "unmute", "0123", NULL), 0);
	free(out);
	CHECK_INT(cli(&out, store_opt, "mute", "nope", NULL), 1);
	free(out);
	CHECK_INT(cli(&out, store_opt, "frobnicate", NULL), 2);
	free(out);
	setenv(CW_STORE_ENV, p, 1);
	CHECK_INT(cli(&out, "show", "fedc", NULL), 0);
	unsetenv(CW_STORE_ENV);
	free(out);
}

TEST(cleanup)
{
	char cmd[200];

	if (!dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
}

static const struct cw_test tests[] = {
    {"insert_get_list", insert_get_list},
    {"dedup_window", dedup_window},
    {"burst_of_10000", burst_of_10000},
    {"lifecycle", lifecycle},
    {"related", related},
    {"concurrent_reader_writer", concurrent_reader_writer},
    {"kill_9_keeps_committed", kill_9_keeps_committed},
    {"foreign_and_corrupt_files", foreign_and_corrupt_files},
    {"cli_commands", cli_commands},
    {"cleanup", cleanup},
};
CW_TEST_MAIN(tests)
