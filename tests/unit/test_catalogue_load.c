/* test_catalogue_load.c - catalogues given by the user: a small catalogue's
 * file order and layers, adding a tool as data only, and every kind of broken
 * catalogue refused with a message that says where (file, line, key).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "catalogue.h"
#include "check.h"
#include "fixture_exec.h"
#include "util.h"

static struct cw_exec ex;

/* Run cw_catalogue_load on text with stderr captured into errbuf. */
static int load_capture(const char *text, size_t len, char *errbuf, size_t errsz,
                        struct cw_catalogue **out)
{
	char tmpl[] = "/tmp/cw-test-catalogue-XXXXXX";
	int fd, saved, rc;
	ssize_t n;

	fflush(stderr);
	fd = mkstemp(tmpl);
	if (fd < 0)
		abort();
	unlink(tmpl);
	saved = dup(2);
	if (saved < 0 || dup2(fd, 2) < 0)
		abort();
	rc = cw_catalogue_load(out, text, len, "test.json");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, errbuf, errsz - 1);
	errbuf[n > 0 ? n : 0] = '\0';
	close(fd);
	return rc;
}

/* A small valid catalogue the bad-catalogue cases start from. */
static const char base_json[] =
    "{\n"
    "  \"schema\": 1,\n"
    "  \"categories\": {\n"
    "    \"esc\": {\"category\": \"Execution: Container Escape\", \"module\": "
    "\"CONTAINER_ESCAPE\",\n"
    "      \"severity\": \"HIGH\", \"primaryTactic\": \"PRIVILEGE_ESCALATION\",\n"
    "      \"primaryTechniques\": [\"ESCAPE_TO_HOST\"], \"additionalTactics\": "
    "[\"EXECUTION\"],\n"
    "      \"description\": \"d\", \"nextSteps\": \"n\"}\n"
    "  },\n"
    "  \"tools\": [\n"
    "    {\"id\": \"alpha\", \"name\": \"Alpha\", \"category\": \"esc\", \"names\": "
    "[\"foo*\"]},\n"
    "    {\"id\": \"beta\", \"name\": \"Beta\", \"category\": \"esc\", \"names\": "
    "[\"foobar\"],\n"
    "     \"ambiguous_names\": [\"bar\"], \"subcommands\": [\"go\"], \"scripts\": "
    "[\"beta.sh\"],\n"
    "     \"content_markers\": [\"beta!\"], \"sha256\": "
    "[\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"]},\n"
    "    {\"id\": \"gamma\", \"name\": \"Gamma\", \"category\": \"esc\", \"names\": "
    "[\"*kit\"],\n"
    "     \"argv0\": [\"[gG]amma-*\"]}\n"
    "  ],\n"
    "  \"interpreters\": [{\"names\": [\"sh\"], \"stop\": [\"-c\"]}],\n"
    "  \"loaders\": [],\n"
    "  \"multicall\": [\"busybox\"]\n"
    "}\n";

/* Apply a change (a JSON Pointer-like "a.b" or "tools.1.key" path, value as
 * JSON text or NULL to delete) to base_json and load the result. */
static int load_mutated(const char *path, const char *value_json, char *errbuf, size_t errsz)
{
	json_t *root = json_loads(base_json, 0, NULL), *node = root, *val = NULL;
	char buf[256], *save = NULL, *tok, *next;
	struct cw_catalogue *c = NULL;
	char *text;
	int rc;

	if (!root)
		abort();
	if (value_json) {
		val = json_loads(value_json, JSON_DECODE_ANY, NULL);
		if (!val)
			abort();
	}
	cw_strlcpy(buf, path, sizeof(buf));
	tok = strtok_r(buf, ".", &save);
	while (tok) {
		next = strtok_r(NULL, ".", &save);
		if (!next) {
			if (json_is_array(node)) {
				size_t i = strtoul(tok, NULL, 10);

				if (val)
					json_array_set_new(node, i, val);
				else
					json_array_remove(node, i);
			} else if (val) {
				json_object_set_new(node, tok, val);
			} else {
				json_object_del(node, tok);
			}
			break;
		}
		node = json_is_array(node) ? json_array_get(node, strtoul(tok, NULL, 10))
		                           : json_object_get(node, tok);
		if (!node)
			abort();
		tok = next;
	}
	text = json_dumps(root, JSON_INDENT(1));
	json_decref(root);
	rc = load_capture(text, strlen(text), errbuf, errsz, &c);
	free(text);
	cw_catalogue_free(c);
	if (rc == 0)
		errbuf[0] = '\0';
	return rc;
}

#define CHECK_BAD(path, value, expect_substr)                                                      \
	do {                                                                                       \
		char cw_e_[2048];                                                                  \
		int cw_rc_ = load_mutated(path, value, cw_e_, sizeof(cw_e_));                      \
		CHECK_INT(cw_rc_, -EINVAL);                                                        \
		CHECK(strstr(cw_e_, expect_substr) != NULL);                                       \
		if (!strstr(cw_e_, expect_substr))                                                 \
			fprintf(stderr, "  error was: %s  expected to contain: %s\n", cw_e_,       \
			        expect_substr);                                                    \
	} while (0)

/* ------------------------------------------------------------------------ */
/* User catalogues */

TEST(custom_catalogue_order_and_layers)
{
	struct cw_catalogue *c = NULL;
	struct cw_detection d = {0};
	char err[1024];

	CHECK_INT(load_capture(base_json, strlen(base_json), err, sizeof(err), &c), 0);
	CHECK_STR(err, "");
	if (!c)
		return;
	CHECK_INT(cw_catalogue_tool_count(c), 3);
	/* "foobar" matches alpha (foo*) and beta (foobar): the first in file order wins */
	fx_mkexec(&ex, "/tmp/foobar", "foobar", "foobar", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 1);
	CHECK_STR(d.tool_id, "alpha");
	/* beta's ambiguous name needs its subcommand */
	fx_mkexec(&ex, "/tmp/bar", "bar", "bar", "stop", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 0);
	fx_mkexec(&ex, "/tmp/bar", "bar", "bar", "-v", "go", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 1);
	CHECK_STR(d.tool_id, "beta");
	CHECK_STR(d.rule_id, "tool.beta.name");
	CHECK_STR(d.detail, "basename=\"bar\" args=\"go\"");
	/* no loaders in this catalogue: ld.so is just a program */
	fx_mkexec(&ex, "/lib64/ld-linux-x86-64.so.2", "x", "x", "/tmp/foo", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 0);
	fx_mkexec(&ex, "/bin/sh", "/bin/sh", "sh", "beta.sh", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 1);
	CHECK_STR(d.rule_id, "tool.beta.script");
	/* globs starting with a wildcard or a bracket class */
	fx_mkexec(&ex, "/tmp/zz-escapekit", "x", "x", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 1);
	CHECK_STR(d.tool_id, "gamma");
	fx_mkexec(&ex, "/tmp/zz-escapekit2", "x", "x", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 0);
	fx_mkexec(&ex, "/tmp/y", "/tmp/y", "Gamma-1", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 1);
	CHECK_STR(d.rule_id, "tool.gamma.argv0");
	fx_mkexec(&ex, "/tmp/y", "/tmp/y", "/usr/bin/gamma-2", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 1);
	fx_mkexec(&ex, "/tmp/y", "/tmp/y", "xgamma-1", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 0);
	cw_catalogue_free(c);
}

/* Adding a tool is a data change: the embedded file plus one tool. */
TEST(added_tool_is_data_only)
{
	json_t *root = json_loads(cw_embedded_catalogue, 0, NULL);
	struct cw_catalogue *c = NULL, *emb = NULL;
	struct cw_detection d = {0};
	char err[1024], *text;

	CHECK(root != NULL);
	CHECK_INT(cw_catalogue_load_default(&emb), 0);
	if (!root || !emb)
		return;
	json_array_append_new(json_object_get(root, "tools"),
	                      json_pack("{s:s, s:s, s:s, s:[s]}", "id", "newtool", "name",
	                                "New Tool", "category", "local_recon", "names",
	                                "newtool-*"));
	text = json_dumps(root, 0);
	CHECK_INT(load_capture(text, strlen(text), err, sizeof(err), &c), 0);
	CHECK_INT(cw_catalogue_tool_count(c), cw_catalogue_tool_count(emb) + 1);
	fx_mkexec(&ex, "/tmp/newtool-1.0", "x", "x", NULL);
	CHECK_INT(cw_catalogue_match(c, &ex, &d), 1);
	CHECK_STR(d.tool_id, "newtool");
	CHECK_STR((d.cat ? d.cat->category : NULL),
	          "Execution: Local Reconnaissance Tool Execution");
	free(text);
	json_decref(root);
	cw_catalogue_free(c);
	cw_catalogue_free(emb);
}

TEST(bad_json_reports_line)
{
	static const char text[] =
	    "{\n  \"schema\": 1,\n  \"categories\": {\n    \"x\": ,\n  }\n}\n";
	struct cw_catalogue *c = (struct cw_catalogue *)&c;
	char err[1024];

	CHECK_INT(load_capture(text, strlen(text), err, sizeof(err), &c), -EINVAL);
	CHECK(c == NULL);
	CHECK(strstr(err, "test.json:4:") != NULL);
	CHECK(strstr(err, "invalid JSON") != NULL);

	CHECK_INT(load_capture("", 0, err, sizeof(err), &c), -EINVAL);
	CHECK(strstr(err, "test.json") != NULL);
	CHECK_INT(load_capture("[1,2]", 5, err, sizeof(err), &c), -EINVAL);
	CHECK(strstr(err, "must be a JSON object") != NULL);
	/* duplicate keys are refused, not silently merged */
	CHECK_INT(load_capture("{\"schema\":1,\"schema\":1}", 23, err, sizeof(err), &c), -EINVAL);
	CHECK(strstr(err, "test.json:1:") != NULL);
	CHECK_INT(cw_catalogue_load(NULL, "{}", 2, "x"), -EINVAL);
}

TEST(bad_catalogues)
{
	char err[1024];

	/* the base itself is fine */
	CHECK_INT(load_mutated("schema", "1", err, sizeof(err)), 0);

	/* top level */
	CHECK_BAD("schema", "2", "\"schema\" must be the integer 1");
	CHECK_BAD("schema", NULL, "\"schema\"");
	CHECK_BAD("tool", "[]", "unknown key \"tool\"");
	CHECK_BAD("tools", NULL, "\"tools\" must be a non-empty array");
	CHECK_BAD("tools", "{}", "\"tools\" must be a non-empty array");
	CHECK_BAD("tools", "[]", "\"tools\" must be a non-empty array");
	CHECK_BAD("categories", "[]", "\"categories\" must be a non-empty object");
	CHECK_BAD("interpreters", NULL, "missing required key \"interpreters\"");
	CHECK_BAD("loaders", "{}", "\"loaders\" must be an array");
	CHECK_BAD("multicall", NULL, "\"multicall\"");
	CHECK_BAD("multicall", "[1]", "\"multicall\" must be an array of strings");

	/* categories */
	CHECK_BAD("categories.esc.severity", NULL,
	          "test.json: categories.esc: missing required key \"severity\"");
	CHECK_BAD("categories.esc.severity", "\"SEVERE\"",
	          "\"severity\" (\"SEVERE\") must be one of");
	CHECK_BAD("categories.esc.category", "5", "\"category\" must be a non-empty string");
	CHECK_BAD("categories.esc.primaryTactic", "\"ESCAPE\"", "is not a MITRE tactic name");
	CHECK_BAD("categories.esc.primaryTechniques", "[]",
	          "\"primaryTechniques\" must not be empty");
	CHECK_BAD("categories.esc.primaryTechniques", "[\"escape to host\"]",
	          "is not a MITRE technique enum name");
	CHECK_BAD("categories.esc.additionalTactics", "[\"NOPE\"]", "\"additionalTactics\"[0]");
	CHECK_BAD("categories.esc.nextSteps", NULL, "missing required key \"nextSteps\"");
	CHECK_BAD("categories.esc.colour", "\"red\"", "unknown key \"colour\"");
	CHECK_BAD("categories.Bad Id", "{}", "category id must be made of");

	/* tools */
	CHECK_BAD("tools.1.names", "\"foobar\"",
	          "test.json: tools[1] (\"beta\"): \"names\" must be an array of strings");
	CHECK_BAD("tools.1.names", "[\"a\", 3]",
	          "tools[1] (\"beta\"): \"names\" must be an array "
	          "of strings (element 1 is not a string)");
	CHECK_BAD("tools.0.names", "[]", "tools[0] (\"alpha\"): needs a non-empty \"names\"");
	CHECK_BAD("tools.0.names", NULL, "tools[0] (\"alpha\"): needs a non-empty \"names\"");
	CHECK_BAD("tools.0.names", "[\"\"]", "\"names\"[0] must be a non-empty string");
	CHECK_BAD("tools.0.names", "[\"/tmp/foo\"]", "contains '/'");
	CHECK_BAD("tools.0.id", NULL, "tools[0]: missing required key \"id\"");
	CHECK_BAD("tools.0.id", "\"Alpha Tool\"", "\"id\" must be at most");
	CHECK_BAD("tools.0.id", "\"beta\"", "tools[1] (\"beta\"): duplicate tool id \"beta\"");
	CHECK_BAD("tools.0.name", "[]",
	          "tools[0] (\"alpha\"): \"name\" must be a non-empty string");
	CHECK_BAD("tools.0.category", "\"escape\"",
	          "tools[0] (\"alpha\"): \"category\" names unknown category \"escape\"");
	CHECK_BAD("tools.0.category", NULL, "missing required key \"category\"");
	CHECK_BAD("tools.0.nmaes", "[\"x\"]", "tools[0] (\"alpha\"): unknown key \"nmaes\"");
	CHECK_BAD("tools.1.subcommands", NULL, "\"ambiguous_names\" need a non-empty");
	CHECK_BAD("tools.1.sha256", "[\"ABCD\"]",
	          "\"sha256\"[0] (\"ABCD\") must be 64 lowercase hex");
	CHECK_BAD("tools.1.sha256",
	          "[\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"]",
	          "must be 64 lowercase hex");
	CHECK_BAD("tools.1.content_markers", "\"beta!\"", "\"content_markers\" must be an array");
	CHECK_BAD("tools.1.argv", "[true]", "\"argv\" must be an array of strings");
	CHECK_BAD("tools.0", "\"alpha\"", "tools[0]: must be an object");

	/* interpreters and loaders */
	CHECK_BAD("interpreters.0.stop", "[\"c\"]", "interpreters[0]: \"stop\"[0] (\"c\") must be");
	CHECK_BAD("interpreters.0.stop", "[\"--eval=x\"]", "must be a short option");
	CHECK_BAD("interpreters.0.names", "[]", "interpreters[0]: missing or empty \"names\"");
	CHECK_BAD("interpreters.0.plus_options", "\"yes\"",
	          "\"plus_options\" must be true or false");
	CHECK_BAD("interpreters.0.stops", "[]", "unknown key \"stops\"");
	CHECK_BAD("loaders", "[{\"with_arg\": [\"--x\"]}]",
	          "loaders[0]: missing or empty \"names\"");
}

static const struct cw_test tests[] = {
    {"custom_catalogue_order_and_layers", custom_catalogue_order_and_layers},
    {"added_tool_is_data_only", added_tool_is_data_only},
    {"bad_json_reports_line", bad_json_reports_line},
    {"bad_catalogues", bad_catalogues},
};

CW_TEST_MAIN(tests)
