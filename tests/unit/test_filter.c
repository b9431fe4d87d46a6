/* test_filter.c - the SCC filter language: every filter is compiled and run
 * against a real store in a temp directory holding five findings, so the tests
 * check which findings a filter selects, not the SQL text. With CW_TEST_STORE
 * set to a postgres:// URL the same cases run on PostgreSQL: one compiler,
 * both dialects, one set of expectations. Covers precedence,
 * negation, operators, fields, error positions and injection attempts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "check.h"
#include "filter.h"
#include "store.h"
#include "util.h"

static char dir[64];
static char path[512];

struct fx {
	const char *id, *category, *state, *severity, *mute, *ctr_id, *ctr_name, *binary;
	int64_t event_ms;
	const char *sp_json; /* extra sourceProperties */
	const char *pod_ns, *pod_name, *rtype;
};

static const struct fx fixtures[] = {
    {"f1", "Execution: Container Escape", "ACTIVE", "HIGH", "UNDEFINED", "c1", "web", "/tmp/botb",
     1000000, "{\"Tool_Id\": \"botb\"}", "default", "web-0", "cagewatch.dev/Container"},
    {"f2", "Execution: Kubernetes Attack Tool Execution", "ACTIVE", "CRITICAL", "UNMUTED", "c1",
     "web", "/usr/bin/peirates", 2000000,
     "{\"Tool_Id\": \"peirates\", \"Score\": 7, \"Flag\": true}", "default", "web-0",
     "cagewatch.dev/Container"},
    {"f3", "Execution: Container Escape", "INACTIVE", "HIGH", "MUTED", "c2", "db", "/tmp/cdk",
     3000000,
     "{\"Tool_Id\": \"cdk\", \"Score\": 3, \"Risky_Settings\": [\"privileged\", \"hostPID\"]}",
     "prod", "db-0", "cagewatch.dev/Container"},
    {"f4", "Discovery: Local Reconnaissance", "ACTIVE", "MEDIUM", "UNDEFINED", NULL, NULL,
     "/usr/bin/amicontained", 4000000, "{}", NULL, NULL, "cagewatch.dev/Host"},
    {"f5", "Odd \"quoted\" category; DROP", "ACTIVE", "LOW", "UNDEFINED", NULL, NULL,
     "/opt/my tools/x", 5000000, "{\"Tool_Id\": \"x'y\"}", NULL, NULL, "cagewatch.dev/Host"},
};

static json_t *make(const struct fx *x)
{
	char name[128], et[40];
	json_t *f, *sp = json_loads(x->sp_json, 0, NULL);

	snprintf(name, sizeof(name),
	         "organizations/0/sources/cagewatch/locations/global/findings/%s", x->id);
	cw_rfc3339(x->event_ms * 1000000, et, sizeof(et));
	if (x->ctr_id)
		json_object_set_new(sp, "Container_Id", json_string(x->ctr_id));
	f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:[{s:{s:s}}]}", "name",
	              name, "parent", "organizations/0/sources/cagewatch/locations/global",
	              "resourceName",
	              x->ctr_id ? "//cagewatch/host/h1/containers/x" : "//cagewatch/host/h1",
	              "state", x->state, "category", x->category, "severity", x->severity, "mute",
	              x->mute, "eventTime", et, "createTime", et, "sourceProperties", sp,
	              "processes", "binary", "path", x->binary);
	json_object_set_new(f, "findingClass", json_string("THREAT"));
	json_object_set_new(f, "resource",
	                    json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "name",
	                              json_string_value(json_object_get(f, "resourceName")),
	                              "displayName", x->ctr_name ? x->ctr_name : "h1", "type",
	                              x->rtype, "gcpMetadata", "project",
	                              "//cloudresourcemanager.googleapis.com/projects/42",
	                              "projectDisplayName", x->ctr_id ? "proj-a" : "proj-b"));
	if (x->ctr_name)
		json_object_set_new(f, "containers",
		                    json_pack("[{s:s, s:s, s:s}]", "name", x->ctr_name, "uri",
		                              x->ctr_id[1] == '1' ? "nginx:1.25" : "postgres:16",
		                              "imageId", "sha256:abc"));
	if (x->pod_ns)
		json_object_set_new(
		    f, "kubernetes",
		    json_pack("{s:[{s:s, s:s}]}", "pods", "ns", x->pod_ns, "name", x->pod_name));
	return f;
}

static void setup(void)
{
	struct cw_store *s;

	if (path[0])
		return;
	if (getenv("CW_TEST_STORE")) { /* the same cases on PostgreSQL (test_fleet.sh) */
		snprintf(path, sizeof(path), "%s", getenv("CW_TEST_STORE"));
	} else {
		strcpy(dir, "/tmp/cw-filter-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/findings.db", dir);
	}
	if (cw_store_open(&s, path, CW_STORE_CREATE))
		abort();
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		json_t *f = make(&fixtures[i]), *stored;

		if (cw_store_record(s, f, NULL, 0, &stored))
			abort();
		json_decref(stored);
		json_decref(f);
	}
	cw_store_close(s);
}

/* Comma-separated short ids the filter selects (ordered by name), or
 * "ERR: <message>" when it does not compile. Static buffer. */
static const char *run(const char *expr)
{
	static char out[1200];
	char err[1024];
	struct cw_filter *f;
	struct cw_store *s;
	json_t *arr = NULL, *v;
	size_t i;
	int ret;

	setup();
	ret = cw_filter_compile(expr, &f, err, sizeof(err));
	if (ret) {
		snprintf(out, sizeof(out), "ERR: %s", err);
		return out;
	}
	out[0] = 0;
	if (cw_store_open(&s, path, CW_STORE_READONLY)) {
		cw_filter_free(f);
		return "OPEN FAILED";
	}
	ret = cw_store_list(s, f, "name", false, 0, &arr);
	if (ret)
		snprintf(out, sizeof(out), "LIST FAILED %d", ret);
	json_array_foreach(arr, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));

		if (i)
			strcat(out, ",");
		strncat(out, cw_store_short_id(name), 16);
	}
	json_decref(arr);
	cw_store_close(s);
	cw_filter_free(f);
	return out;
}

/* The error message must start with want. */
static void check_err(const char *expr, const char *want)
{
	const char *got = run(expr);

	if (strncmp(got, "ERR: ", 5) != 0 || strncmp(got + 5, want, strlen(want)) != 0) {
		fprintf(stderr, "  filter %s\n    got:  %s\n    want: %s...\n", expr, got, want);
		CHECK(!"error message mismatch");
	}
}

/* A filter that compiles must run: every filter the compiler accepts, up to its
 * depth and length limits and with fields of every kind, runs in SQLite; one
 * more is refused with a message that says why. */
static void must_run_or_say(const char *expr, const char *why, bool must_compile)
{
	const char *got = run(expr);

	if (!strncmp(got, "ERR: ", 5)) {
		CHECK(!must_compile);
		CHECK(strstr(got, why) != NULL);
	} else {
		CHECK(strncmp(got, "LIST FAILED", 11) != 0);
	}
}

TEST(limits_are_runnable)
{
	static char expr[64 * 1024];
	static const char *const shapes[] = {"-", "NOT ", "(", "(-", "-("};
	static const char *const leaves[] = {"state=\"ACTIVE\"",
	                                     "source_properties.Rule_Id:\"x\"",
	                                     "event_time>=\"2026-11-29T07:00:00Z\"",
	                                     "process.name:\"sh\"",
	                                     "occurrence_count>3",
	                                     "source_properties.Rule_Id=\"x\""};
	size_t n;

	for (size_t k = 0; k < 5; k++)
		for (size_t l = 0; l < sizeof(leaves) / sizeof(leaves[0]); l++)
			for (int depth = 1; depth <= 26; depth++) {
				int opens = 0;

				n = 0;
				for (int i = 0; i < depth; i++) {
					n += (size_t)snprintf(expr + n, sizeof(expr) - n, "%s",
					                      shapes[k]);
					opens += strchr(shapes[k], '(') != NULL;
				}
				n += (size_t)snprintf(expr + n, sizeof(expr) - n, "%s", leaves[l]);
				while (opens--)
					expr[n++] = ')';
				expr[n] = 0;
				/* the last leaf nests a subquery: two levels fewer */
				must_run_or_say(expr, "nested too deeply",
				                depth * (strlen(shapes[k]) == 2 ? 2 : 1) <=
				                    (l == 5 ? 18 : 20));
			}
	for (int terms = 199; terms <= 201; terms++) {
		n = 0;
		for (int i = 0; i < terms; i++)
			n += (size_t)snprintf(expr + n, sizeof(expr) - n, "%sseverity=\"S%d\"",
			                      i ? " OR " : "", i);
		must_run_or_say(expr, "more than 200 comparisons", terms <= 200);
	}
	n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(expr + n, sizeof(expr) - n,
		                      "%s(state=\"ACTIVE\" OR -mute=\"X\")", i ? " AND " : "");
	must_run_or_say(expr, "more than 200 comparisons", true);
	n += (size_t)snprintf(expr + n, sizeof(expr) - n, " AND state=\"A\"");
	must_run_or_say(expr, "more than 200 comparisons", false);
	CHECK(strstr(run(expr), "split it into several queries") != NULL);
}

TEST(empty_filter_matches_all)
{
	CHECK_STR(run(NULL), "f1,f2,f3,f4,f5");
	CHECK_STR(run(""), "f1,f2,f3,f4,f5");
	CHECK_STR(run("   \t "), "f1,f2,f3,f4,f5");
}

TEST(or_binds_tighter_than_and)
{
	/* (ACTIVE OR HIGH) AND Escape: f1 (active escape), f3 (high escape) */
	CHECK_STR(run("state=\"ACTIVE\" OR severity=\"HIGH\" AND category:\"Escape\""), "f1,f3");
	CHECK_STR(run("(state=\"ACTIVE\" OR severity=\"HIGH\") AND category:\"Escape\""), "f1,f3");
	/* explicit parentheses give the other reading */
	CHECK_STR(run("state=\"ACTIVE\" OR (severity=\"HIGH\" AND category:\"Escape\")"),
	          "f1,f2,f3,f4,f5");
	/* a AND b OR c = a AND (b OR c) */
	CHECK_STR(run("category:\"Escape\" AND state=\"INACTIVE\" OR severity=\"CRITICAL\""), "f3");
	CHECK_STR(run("severity=\"LOW\" OR severity=\"MEDIUM\" OR severity=\"CRITICAL\""),
	          "f2,f4,f5");
	/* keywords are accepted in any case */
	CHECK_STR(run("state=\"ACTIVE\" and severity=\"HIGH\""), "f1");
	CHECK_STR(run("severity=\"LOW\" or severity=\"MEDIUM\""), "f4,f5");
}

TEST(negation)
{
	CHECK_STR(run("NOT state=\"ACTIVE\""), "f3");
	CHECK_STR(run("-state=\"ACTIVE\""), "f3");
	CHECK_STR(run("NOT NOT state=\"INACTIVE\""), "f3");
	CHECK_STR(run("- -state=\"INACTIVE\""), "f3");
	/* findings without a container still match a negated container restriction */
	CHECK_STR(run("-container.id=\"c1\""), "f3,f4,f5");
	CHECK_STR(run("NOT (state=\"ACTIVE\" AND severity=\"HIGH\")"), "f2,f3,f4,f5");
	CHECK_STR(run("state=\"ACTIVE\" AND NOT mute=\"MUTED\" AND -severity=\"LOW\""), "f1,f2,f4");
	CHECK_STR(run("NOT source_properties.Score > 5"), "f1,f3,f4,f5");
}

TEST(operators)
{
	CHECK_STR(run("event_time = 2000000"), "f2");
	CHECK_STR(run("event_time > 2000000"), "f3,f4,f5");
	CHECK_STR(run("event_time >= 2000000"), "f2,f3,f4,f5");
	CHECK_STR(run("event_time < 2000000"), "f1");
	CHECK_STR(run("event_time <= 2000000"), "f1,f2");
	CHECK_STR(run("event_time>=2000000 AND event_time<4000000"), "f2,f3");
	CHECK_STR(run("event_time > -5"), "f1,f2,f3,f4,f5");
	/* RFC 3339 and quoted epoch ms: 2,000,000 ms = 1970-01-01T00:33:20Z */
	CHECK_STR(run("event_time >= \"1970-01-01T00:33:20Z\""), "f2,f3,f4,f5");
	CHECK_STR(run("event_time >= \"1970-01-01T01:33:20+01:00\""), "f2,f3,f4,f5");
	CHECK_STR(run("event_time >= \"1970-01-01T00:33:20.001Z\""), "f3,f4,f5");
	CHECK_STR(run("event_time <= \"2000000\""), "f1,f2");
	CHECK_STR(run("create_time < \"1970-01-01T00:50:00Z\""), "f1,f2");
	CHECK_STR(run("category = \"Execution: Container Escape\""), "f1,f3");
	CHECK_STR(run("category : \"Container\""), "f1,f3");
	CHECK_STR(run("category:\"container\""), ""); /* substring match is case-sensitive */
	CHECK_STR(run("state = ACTIVE AND severity = HIGH"), "f1"); /* bare words */
	CHECK_STR(run("occurrence_count = 1"), "f1,f2,f3,f4,f5");
	CHECK_STR(run("occurrence_count > 1"), "");
}

TEST(every_field)
{
	static const char *const cases[][2] = {
	    {"name = \"organizations/0/sources/cagewatch/locations/global/findings/f4\"", "f4"},
	    {"name : \"findings/f2\"", "f2"},
	    {"parent = \"organizations/0/sources/cagewatch/locations/global\"", "f1,f2,f3,f4,f5"},
	    {"severity = \"CRITICAL\"", "f2"},
	    {"severity : \"HIG\"", "f1,f3"},
	    {"mute = \"MUTED\"", "f3"},
	    {"mute : \"MUTED\"", "f2,f3"},
	    {"finding_class = \"THREAT\"", "f1,f2,f3,f4,f5"},
	    {"resource_name = \"//cagewatch/host/h1\"", "f4,f5"},
	    {"resource.name : \"containers\"", "f1,f2,f3"},
	    {"resource.display_name = \"db\"", "f3"},
	    {"resource.type = \"cagewatch.dev/Host\"", "f4,f5"},
	    {"resource.type : \"cagewatch.dev\"", "f1,f2,f3,f4,f5"},
	    {"resource.project_display_name = \"proj-a\"", "f1,f2,f3"},
	    {"resource.project_name : \"projects/42\"", "f1,f2,f3,f4,f5"},
	    {"resource.parent_name : \"nope\"", ""},
	    {"container.name = \"web\"", "f1,f2"},
	    {"containers.name : \"d\"", "f3"},
	    {"container.id = \"c2\"", "f3"},
	    {"container.image = \"nginx:1.25\"", "f1,f2"},
	    {"containers.uri : \"postgres\"", "f3"},
	    {"container.image_id = \"sha256:abc\"", "f1,f2,f3"},
	    {"container.name : \"\"", "f1,f2,f3"},
	    {"kubernetes.pod.ns = \"prod\"", "f3"},
	    {"kubernetes.pods.name = \"web-0\"", "f1,f2"},
	    {"process.binary.path = \"/tmp/botb\"", "f1"},
	    {"processes.binary.path : \"/usr/bin/\"", "f2,f4"},
	    {"process.binary.path = \"/opt/my tools/x\"", "f5"},
	    {"state_change_time > 0", ""},
	    {"mute_update_time > 0", ""},
	    {"source_properties.Tool_Id = \"botb\"", "f1"},
	    {"source_properties.Tool_Id : \"pei\"", "f2"},
	    {"source_properties.Tool_Id = \"x'y\"", "f5"},
	    {"source_properties.Score > 5", "f2"},
	    {"source_properties.Score >= 3", "f2,f3"},
	    {"source_properties.Score < 5", "f3"},
	    {"source_properties.Score <= 7", "f2,f3"},
	    {"source_properties.Score = 3", "f3"},
	    {"source_properties.Flag = true", "f2"},
	    {"source_properties.Flag = false", ""},
	    {"source_properties.Score : \"\"", "f2,f3"},
	    {"-source_properties.Score : \"\"", "f1,f4,f5"},
	    {"source_properties.Container_Id = \"c1\"", "f1,f2"},
	    {"source_properties.Occurrence_Count = 1", "f1,f2,f3,f4,f5"},
	    {"source_properties.Missing = \"x\"", ""},
	    /* a list holds a member equal to it, or (":") contains the text */
	    {"source_properties.Risky_Settings = \"privileged\"", "f3"},
	    {"source_properties.Risky_Settings = \"hostPID\"", "f3"},
	    {"source_properties.Risky_Settings = \"priv\"", ""},
	    {"source_properties.Risky_Settings : \"host\"", "f3"},
	    {"-source_properties.Risky_Settings = \"privileged\"", "f1,f2,f4,f5"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = run(cases[i][0]);

		if (strcmp(got, cases[i][1]) != 0)
			fprintf(stderr, "  case %zu: %s\n", i, cases[i][0]);
		CHECK_STR(got, cases[i][1]);
	}
}

TEST(quoted_values)
{
	CHECK_STR(run("category = \"Odd \\\"quoted\\\" category; DROP\""), "f5");
	CHECK_STR(run("category = 'Odd \"quoted\" category; DROP'"), "f5");
	CHECK_STR(run("category : \"\\\"quoted\\\"\""), "f5");
}

TEST(errors_with_positions)
{
	check_err("state", "filter: column 6: expected an operator (= : > < >= <=) after field "
	                   "\"state\", found the end of the filter");
	check_err("category:\"x\" AND state \"ACTIVE\"",
	          "filter: column 24: expected an operator (= : > < >= <=) after field \"state\"");
	check_err("foo = 1", "filter: column 1: unknown field \"foo\"; valid fields: name,");
	check_err("state = ", "filter: column 9: expected a value (quoted string, integer, true "
	                      "or false) after \"state =\"");
	check_err("state = )", "filter: column 9: expected a value");
	check_err("(state=\"ACTIVE\"",
	          "filter: column 16: expected AND, OR or \")\" to close the \"(\" at column 1");
	check_err("state=\"ACTIVE\" category=\"x\"",
	          "filter: column 16: expected AND, OR or the end of the filter, found "
	          "\"category\"");
	check_err("state=\"ACT", "filter: column 7: unterminated string");
	check_err("category > \"x\"", "filter: column 10: operator \">\" is not supported for "
	                              "field \"category\"");
	check_err("event_time >= \"yesterday\"", "filter: column 15: \"yesterday\" is not a time");
	check_err("event_time : 5", "filter: column 12: operator \":\" is not supported");
	check_err("source_properties.9x = 1", "filter: column 1: \"9x\" is not a valid source "
	                                      "property key");
	check_err("source_properties. = 1", "filter: column 1: \"\" is not a valid");
	check_err("state != \"x\"", "filter: column 7: \"!\" is not an operator");
	check_err("AND state=\"x\"",
	          "filter: column 1: expected a field name, NOT, \"-\" or \"(\"");
	check_err("state=\"x\" AND", "filter: column 14: expected a field name");
	check_err("state=\"x\" OR OR", "filter: column 14: expected a field name");
	check_err("()", "filter: column 2: expected a field name");
	check_err("occurrence_count = \"many\"", "filter: column 20: \"many\" is not an integer");
	check_err("event_time > 99999999999999999999", "filter: column 14: integer");
	check_err("state = -x", "filter: column 9: expected an integer after \"-\"");
	check_err("state = ACTIVE;", "filter: column 15: unexpected character \";\"");
	check_err("source_properties.Flag > true", "filter: column 24: operator \">\" does not");

	{
		char deep[300] = "";

		for (int i = 0; i < 100; i++)
			strcat(deep, "(");
		strcat(deep, "state=\"x\"");
		for (int i = 0; i < 100; i++)
			strcat(deep, ")");
		check_err(deep, "filter: column 22: filter nested too deeply");
		/* 20 levels are fine */
		CHECK_STR(run("((((((((((((((((((((state=\"INACTIVE\"))))))))))))))))))))"), "f3");
	}
}

TEST(injection_attempts)
{
	static const char *const attacks[] = {
	    "category=\"x\\\"; DROP TABLE findings;--\"",
	    "category=\"x'; DROP TABLE findings;--\"",
	    "category:\"' OR 1=1 --\"",
	    "category=\"\" OR \"1\"=\"1\"",
	    "source_properties.Tool_Id = \"x') OR 1=1 --\"",
	    "resource.parent_name = \"x') OR 1=1; DROP TABLE findings; --\"",
	    "name = \"f1\\\" OR \\\"1\\\"=\\\"1\"",
	};
	struct cw_filter *f;
	struct cw_store *s;
	char err[512];
	int64_t n = -1;

	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		const char *got = run(attacks[i]);

		/* "category="" OR "1"="1"" is a parse error ("1" is not a field) */
		if (strncmp(got, "ERR: ", 5) != 0)
			CHECK_STR(got, "");
		if (cw_filter_compile(attacks[i], &f, err, sizeof(err)) == 0) {
			CHECK(!strstr(f->sqlite.where, "DROP"));
			CHECK(!strstr(f->sqlite.where, "1=1"));
			cw_filter_free(f);
		}
	}
	/* the table survived */
	CHECK_INT(cw_store_open(&s, path, CW_STORE_READONLY), 0);
	CHECK_INT(cw_store_count(s, NULL, &n), 0);
	CHECK_INT(n, 5);
	CHECK_INT(cw_store_check(s), 0);
	cw_store_close(s);
}

TEST(order_columns)
{
	CHECK_STR(cw_filter_order_column("event_time"), "event_time_ms");
	CHECK_STR(cw_filter_order_column("category"), "category");
	CHECK(cw_filter_order_column("source_properties.X") == NULL);
	CHECK(cw_filter_order_column("id; DROP TABLE findings") == NULL);
	CHECK(cw_filter_order_column(NULL) == NULL);
}

TEST(rfc3339)
{
	int64_t ms = 0;

	CHECK_INT(cw_parse_rfc3339_ms("1970-01-01T00:00:00Z", &ms), 0);
	CHECK_INT(ms, 0);
	CHECK_INT(cw_parse_rfc3339_ms("2026-11-29T07:00:05.123Z", &ms), 0);
	CHECK_INT(ms, 1795935605123LL);
	CHECK_INT(cw_parse_rfc3339_ms("2026-11-29T07:00:05.1234567Z", &ms), 0);
	CHECK_INT(ms, 1795935605123LL);
	CHECK_INT(cw_parse_rfc3339_ms("2026-11-29T07:00:05.5Z", &ms), 0);
	CHECK_INT(ms, 1795935605500LL);
	CHECK_INT(cw_parse_rfc3339_ms("2019-06-10T16:07:18-07:00", &ms), 0);
	CHECK_INT(ms, 1560208038000LL);
	CHECK_INT(cw_parse_rfc3339_ms("2019-06-10t23:07:18z", &ms), 0);
	CHECK_INT(ms, 1560208038000LL);
	CHECK_INT(cw_parse_rfc3339_ms("2019-06-10T23:07:18", &ms), -EINVAL);
	CHECK_INT(cw_parse_rfc3339_ms("2019-13-10T23:07:18Z", &ms), -EINVAL);
	CHECK_INT(cw_parse_rfc3339_ms("2019-02-30T23:07:18Z", &ms), -EINVAL);
	CHECK_INT(cw_parse_rfc3339_ms("2019-06-10T24:07:18Z", &ms), -EINVAL);
	CHECK_INT(cw_parse_rfc3339_ms("2019-06-10T23:07:18Zjunk", &ms), -EINVAL);
	CHECK_INT(cw_parse_rfc3339_ms("2019-06-10T23:07:18.Z", &ms), -EINVAL);
	CHECK_INT(cw_parse_rfc3339_ms("yesterday", &ms), -EINVAL);
	CHECK_INT(cw_parse_rfc3339_ms("", &ms), -EINVAL);
	/* far years (found by the filter fuzzer: year 5570 overflowed the ns form) */
	CHECK_INT(cw_parse_rfc3339_ms("5570-11-29T07:00:00Z", &ms), 0);
	CHECK(ms > 110000000000000LL);
	{
		int64_t ns = 0;

		CHECK_INT(cw_parse_rfc3339_ns("5570-11-29T07:00:00Z", &ns), -ERANGE);
		CHECK_INT(cw_parse_rfc3339_ns("2026-11-29T07:00:05.123456789Z", &ns), 0);
		CHECK_INT(ns, 1795935605123456789LL);
		CHECK_INT(cw_parse_rfc3339_ns("0001-01-01T00:00:00Z", &ns), -ERANGE);
	}
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
    {"limits_are_runnable", limits_are_runnable},
    {"empty_filter_matches_all", empty_filter_matches_all},
    {"or_binds_tighter_than_and", or_binds_tighter_than_and},
    {"negation", negation},
    {"operators", operators},
    {"every_field", every_field},
    {"quoted_values", quoted_values},
    {"errors_with_positions", errors_with_positions},
    {"injection_attempts", injection_attempts},
    {"order_columns", order_columns},
    {"rfc3339", rfc3339},
    {"cleanup", cleanup},
};
CW_TEST_MAIN(tests)
