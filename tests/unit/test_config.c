/* test_config.c - configuration defaults, JSON file overlay (good, unknown key,
 * wrong type, invalid JSON, missing file) and key=value overrides. Config files
 * are real files in a mkdtemp directory; error messages are captured from stderr.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static char dir[] = "/tmp/cw-test-config-XXXXXX";
static char path[512];

static void cleanup(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* The scratch directory, made on first use and removed at exit. */
static void ensure_dir(void)
{
	static int made;

	if (made)
		return;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	made = 1;
	atexit(cleanup);
}

static void write_config(const char *name, const char *text)
{
	FILE *f;

	ensure_dir();
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

/* stderr capture: everything logged between begin and end. */
static int saved_fd = -1;
static char cap_path[600];
static char captured[8192];

static void capture_begin(void)
{
	int fd;

	ensure_dir();
	snprintf(cap_path, sizeof(cap_path), "%s/stderr.txt", dir);
	fflush(stderr);
	saved_fd = dup(2);
	fd = open(cap_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && saved_fd >= 0);
	dup2(fd, 2);
	close(fd);
}

static const char *capture_end(void)
{
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	f = fopen(cap_path, "r");
	CHECK(f != NULL);
	if (f) {
		n = fread(captured, 1, sizeof(captured) - 1, f);
		fclose(f);
	}
	captured[n] = '\0';
	return captured;
}

TEST(test_defaults)
{
	struct cw_config c;
	struct utsname u;

	memset(&c, 0x5a, sizeof(c));
	CHECK_INT(cw_config_defaults(&c), 0);
	CHECK_STR(c.organization, "0");
	CHECK_STR(c.project, "cagewatch-local");
	CHECK_STR(c.project_number, "0");
	CHECK_STR(c.source, "cagewatch");
	CHECK_STR(c.location, "global");
	CHECK_STR(c.resource_template, "//cagewatch.local/hosts/{host}/containers/{container_id}");
	CHECK(uname(&u) == 0);
	CHECK_STR(c.host, u.nodename);
	CHECK(c.report_args == true);
	CHECK_STR(c.store_path, "/var/lib/cagewatch/findings.db");
	CHECK_STR(c.notification_config,
	          "organizations/0/locations/global/notificationConfigs/cagewatch");
}

TEST(test_good_file)
{
	struct cw_config c;

	cw_config_defaults(&c);
	write_config("good.json", "{\n"
	                          "  \"organization\": \"123456789\",\n"
	                          "  \"project\": \"my-proj\",\n"
	                          "  \"project_number\": \"987654321\",\n"
	                          "  \"source\": \"456\",\n"
	                          "  \"location\": \"europe-west1\",\n"
	                          "  \"resource_template\": \"//x/{pod_namespace}/{pod_name}\",\n"
	                          "  \"host\": \"node-7\",\n"
	                          "  \"report_args\": false,\n"
	                          "  \"store_path\": \"/srv/cw/f.db\"\n"
	                          "}\n");
	CHECK_INT(cw_config_load(&c, path), 0);
	CHECK_STR(c.organization, "123456789");
	CHECK_STR(c.project, "my-proj");
	CHECK_STR(c.project_number, "987654321");
	CHECK_STR(c.source, "456");
	CHECK_STR(c.location, "europe-west1");
	CHECK_STR(c.resource_template, "//x/{pod_namespace}/{pod_name}");
	CHECK_STR(c.host, "node-7");
	CHECK(c.report_args == false);
	CHECK_STR(c.store_path, "/srv/cw/f.db");
	/* The default notification name follows the organization. */
	CHECK_STR(c.notification_config,
	          "organizations/123456789/locations/global/notificationConfigs/cagewatch");

	/* An explicit notification name: {organization} expanded; a later
	 * organization change no longer rewrites it. */
	write_config("nc.json", "{\"notification_config\": "
	                        "\"organizations/{organization}/notificationConfigs/esc\"}");
	CHECK_INT(cw_config_load(&c, path), 0);
	CHECK_STR(c.notification_config, "organizations/123456789/notificationConfigs/esc");
	write_config("org.json", "{\"organization\": \"42\", \"report_args\": true}");
	CHECK_INT(cw_config_load(&c, path), 0);
	CHECK_STR(c.organization, "42");
	CHECK(c.report_args == true);
	CHECK_STR(c.notification_config, "organizations/123456789/notificationConfigs/esc");

	/* An empty object changes nothing. */
	write_config("empty.json", "{}");
	CHECK_INT(cw_config_load(&c, path), 0);
	CHECK_STR(c.organization, "42");
}

/* Load a bad file: expect -EINVAL, cfg untouched, and every needle in the message. */
static void expect_bad(const char *name, const char *text, const char *n1, const char *n2)
{
	struct cw_config c, before;
	const char *msg;

	cw_config_defaults(&c);
	before = c;
	write_config(name, text);
	capture_begin();
	CHECK_INT(cw_config_load(&c, path), -EINVAL);
	msg = capture_end();
	CHECK(memcmp(&c, &before, sizeof(c)) == 0);
	CHECK(strstr(msg, path) != NULL);
	if (n1 && !strstr(msg, n1)) {
		fprintf(stderr, "  message lacks \"%s\": %s", n1, msg);
		CHECK(0);
	}
	if (n2 && !strstr(msg, n2)) {
		fprintf(stderr, "  message lacks \"%s\": %s", n2, msg);
		CHECK(0);
	}
}

TEST(test_unknown_key)
{
	/* Valid keys before the bad one must not be applied either. */
	expect_bad("unknown.json", "{\"project\": \"p\", \"organisation\": \"1\"}",
	           "\"organisation\"", "expected one of");
}

TEST(test_wrong_type)
{
	expect_bad("type1.json", "{\"report_args\": \"yes\"}", "\"report_args\"",
	           "expected a boolean");
	expect_bad("type2.json", "{\"organization\": 123}", "\"organization\"",
	           "expected a string");
	expect_bad("type3.json", "{\"host\": null}", "\"host\"", "expected a string");
	expect_bad("type4.json", "[\"organization\"]", "top level", "expected an object");
}

TEST(test_bad_values)
{
	char big[700];

	expect_bad("slash.json", "{\"source\": \"a/b\"}", "\"source\"", "'/'");
	expect_bad("emptystr.json", "{\"project\": \"\"}", "\"project\"", "non-empty");
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"host\": \"", 10);
	strcpy(big + sizeof(big) - 4, "\"}");
	expect_bad("long.json", big, "\"host\"", "at most 255 bytes");
	expect_bad("dup.json", "{\"project\": \"a\",\n \"project\": \"b\"}", "duplicate", ":2:");
	expect_bad("nul.json", "{\"project\": \"a\\u0000b\"}", NULL, NULL);
}

TEST(test_invalid_json)
{
	expect_bad("syntax.json", "{\n  \"organization\": \"1\",\n  oops\n}\n",
	           ":3:", "invalid JSON");
	expect_bad("trunc.json", "{\"organization\": ", "invalid JSON", NULL);
	expect_bad("binary.json", "\xff\xfe{}", "invalid JSON", NULL);
}

TEST(test_missing_file)
{
	struct cw_config c, before;
	const char *msg;

	ensure_dir();
	cw_config_defaults(&c);
	before = c;
	snprintf(path, sizeof(path), "%s/does-not-exist.json", dir);
	capture_begin();
	CHECK_INT(cw_config_load(&c, path), -ENOENT);
	msg = capture_end();
	CHECK(strstr(msg, path) != NULL);
	CHECK(strstr(msg, "does not exist") != NULL);
	CHECK(memcmp(&c, &before, sizeof(c)) == 0);

	/* A directory is not a config file. */
	capture_begin();
	CHECK(cw_config_load(&c, dir) < 0);
	msg = capture_end();
	CHECK(strstr(msg, dir) != NULL);
}

TEST(test_set)
{
	struct cw_config c, before;
	const char *msg;

	cw_config_defaults(&c);
	CHECK_INT(cw_config_set(&c, "organization", "77"), 0);
	CHECK_STR(c.organization, "77");
	CHECK_STR(c.notification_config,
	          "organizations/77/locations/global/notificationConfigs/cagewatch");
	CHECK_INT(cw_config_set(&c, "report_args", "false"), 0);
	CHECK(!c.report_args);
	CHECK_INT(cw_config_set(&c, "report_args", "1"), 0);
	CHECK(c.report_args);
	CHECK_INT(cw_config_set(&c, "resource_template", "//h/{host}"), 0);
	CHECK_STR(c.resource_template, "//h/{host}");

	before = c;
	capture_begin();
	CHECK_INT(cw_config_set(&c, "report_args", "maybe"), -EINVAL);
	CHECK_INT(cw_config_set(&c, "colour", "red"), -EINVAL);
	CHECK_INT(cw_config_set(&c, "location", "us/east"), -EINVAL);
	msg = capture_end();
	CHECK(strstr(msg, "\"report_args\"") && strstr(msg, "true or false"));
	CHECK(strstr(msg, "\"colour\""));
	CHECK(strstr(msg, "\"location\""));
	CHECK(memcmp(&c, &before, sizeof(c)) == 0);
}

static const struct cw_test tests[] = {
    {"defaults", test_defaults},         {"good_file", test_good_file},
    {"unknown_key", test_unknown_key},   {"wrong_type", test_wrong_type},
    {"bad_values", test_bad_values},     {"invalid_json", test_invalid_json},
    {"missing_file", test_missing_file}, {"set", test_set},
};

CW_TEST_MAIN(tests)
