/* test_finding.c - the SCC finding builder: every field of a container, a
 * Kubernetes and a host finding, argument redaction, hostile bytes (quotes,
 * control characters, invalid UTF-8, 4 KiB strings), resource-name templates,
 * the notification envelope, hashed binaries and scripts, and ids
 * (test_filehash.c: the hashing itself).
 * Findings are dumped compact, checked for raw newlines, parsed back and read.
 */
#include "check.h"
#include "fixture_data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <jansson.h>

#include "finding.h"
#include "util.h"

static struct cw_event ev;
static struct cw_exec ex;
static struct cw_container ctr;
static struct cw_category cat;
static struct cw_detection det;
static struct cw_config cfg;
static struct cw_finding_input in;

#define CTR_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define T_EXEC 1780000000123456789LL /* 2026-05-28T20:26:40.123Z */
#define T_CTR  1700000000987000000LL /* 2023-11-14T22:13:20.987Z */

static void set_argv(const char *const *args, int n)
{
	size_t o = 0;

	ex.argc = 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(args[i]);

		memcpy(ex.argbuf + o, args[i], l + 1);
		ex.argv[ex.argc++] = ex.argbuf + o;
		o += l + 1;
	}
	ex.argv[ex.argc] = NULL;
}

/* Drop the fixture's JSON references (before refilling it, and at exit so that
 * leak checkers see a clean run). */
static void release_fixture(void)
{
	json_decref(ctr.labels);
	json_decref(cat.techniques);
	json_decref(cat.additional_tactics);
	json_decref(det.extra);
	ctr.labels = cat.techniques = cat.additional_tactics = det.extra = NULL;
}

/* A BOtB exec in a Docker container, with a complete category and detection. */
static void fixture(void)
{
	static const char *const args[] = {"/tmp/botb-linux-amd64", "-autopwn"};
	static int registered;

	if (!registered) {
		atexit(release_fixture);
		registered = 1;
	}
	release_fixture();
	memset(&ev, 0, sizeof(ev));
	memset(&ex, 0, sizeof(ex));
	memset(&ctr, 0, sizeof(ctr));
	memset(&cat, 0, sizeof(cat));
	memset(&det, 0, sizeof(det));
	memset(&in, 0, sizeof(in));

	ev.type = CW_EV_EXEC;
	ev.tgid = 4242;
	ev.pid = 4243;
	ev.ppid = 17;
	ev.uid = 1000;
	ev.pidns = 4026532100u;
	ev.mntns = 4026532101u;
	ev.dev = (8u << 20) | 3u;
	ev.ino = 9876543210123ull;
	strcpy(ev.comm, "botb-linux-amd6");

	ex.ev = &ev;
	ex.time_ns = T_EXEC;
	strcpy(ex.path, "/tmp/botb-linux-amd64");
	strcpy(ex.filename, "/tmp/botb-linux-amd64");
	strcpy(ex.cgroup, "/system.slice/docker-" CTR_ID ".scope");
	set_argv(args, 2);

	ctr.in_container = true;
	strcpy(ctr.id, CTR_ID);
	strcpy(ctr.runtime, "docker");
	strcpy(ctr.name, "web");
	strcpy(ctr.image, "nginx:1.25");
	strcpy(ctr.image_id, "sha256:aaaa");
	ctr.labels = json_pack("{s:s, s:s}", "app", "web", "tier", "front");
	ctr.created_ns = T_CTR;

	cat.id = "container_escape";
	cat.category = "Execution: Container Escape";
	cat.module = "CONTAINER_ESCAPE";
	cat.severity = "HIGH";
	cat.tactic = "PRIVILEGE_ESCALATION";
	cat.techniques = json_pack("[s]", "ESCAPE_TO_HOST");
	cat.additional_tactics = json_pack("[s]", "EXECUTION");
	cat.description = "A known container escape tool was executed.";
	cat.next_steps = "Isolate the container.";

	det.cat = &cat;
	det.tool_id = "botb";
	det.tool_name = "BOtB";
	strcpy(det.rule_id, "tool.botb.name");
	strcpy(det.matched_on, "name");
	strcpy(det.detail, "basename=botb-linux-amd64 arg=-autopwn");

	cw_config_defaults(&cfg);
	strcpy(cfg.organization, "123");
	strcpy(cfg.project, "my-proj");
	strcpy(cfg.project_number, "987");
	strcpy(cfg.source, "456");
	strcpy(cfg.location, "global");
	strcpy(cfg.host, "node-1");
	strcpy(cfg.notification_config, "organizations/123/notificationConfigs/esc");

	in.ex = &ex;
	in.ctr = &ctr;
	in.det = &det;
	in.finding_id = "f00d";
}

/* Dump compact, insist on one line, parse back. */
static json_t *roundtrip(json_t *j)
{
	json_error_t err;
	json_t *back;
	char *s;

	CHECK(j != NULL);
	if (!j)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	CHECK(s != NULL);
	json_decref(j);
	if (!s)
		return NULL;
	CHECK(strchr(s, '\n') == NULL);
	CHECK(strchr(s, '\r') == NULL);
	back = json_loads(s, 0, &err);
	if (!back)
		fprintf(stderr, "  reparse failed: %s\n", err.text);
	CHECK(back != NULL);
	free(s);
	return back;
}

static json_t *build(void)
{
	return roundtrip(cw_finding_build(&cfg, &in));
}

/* The string at a path of keys/indexes ("processes", "0", "pid"). */
static json_t *at(json_t *j, const char *path)
{
	char buf[256], *save = NULL, *tok;

	cw_strlcpy(buf, path, sizeof(buf));
	for (tok = strtok_r(buf, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(j))
			j = json_array_get(j, strtoul(tok, NULL, 10));
		else
			j = json_object_get(j, tok);
	}
	return j;
}

static const char *str(json_t *j, const char *path)
{
	json_t *v = at(j, path);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int is_hex32(const char *s)
{
	if (!s || strlen(s) != 32)
		return 0;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return 0;
	return 1;
}

TEST(test_container_finding)
{
	char now_prefix[8];
	json_t *f, *p, *sp, *v;

	fixture();
	f = build();
	if (!f)
		return;
	CHECK_STR(str(f, "name"), "organizations/123/sources/456/locations/global/findings/f00d");
	CHECK_STR(str(f, "canonicalName"),
	          "projects/987/sources/456/locations/global/findings/f00d");
	CHECK_STR(str(f, "parent"), "organizations/123/sources/456/locations/global");
	CHECK_STR(str(f, "resourceName"), "//cagewatch.local/hosts/node-1/containers/" CTR_ID);
	CHECK_STR(str(f, "state"), "ACTIVE");
	CHECK_STR(str(f, "category"), "Execution: Container Escape");
	CHECK_STR(str(f, "findingClass"), "THREAT");
	CHECK_STR(str(f, "severity"), "HIGH");
	CHECK_STR(str(f, "mute"), "UNDEFINED");
	CHECK_STR(str(f, "eventTime"), "2026-05-28T20:26:40.123Z");
	/* createTime is now: RFC 3339 with milliseconds, this century. */
	CHECK(str(f, "createTime") && strlen(str(f, "createTime")) == 24);
	snprintf(now_prefix, sizeof(now_prefix), "%s", str(f, "createTime") ?: "");
	CHECK(strncmp(now_prefix, "20", 2) == 0);
	CHECK(str(f, "createTime") && str(f, "createTime")[23] == 'Z');
	CHECK_STR(str(f, "description"), "A known container escape tool was executed.");
	CHECK_STR(str(f, "nextSteps"), "Isolate the container.");
	CHECK_STR(str(f, "moduleName"), "CONTAINER_ESCAPE");
	CHECK(at(f, "indicator") == NULL);

	CHECK_STR(str(f, "mitreAttack.primaryTactic"), "PRIVILEGE_ESCALATION");
	CHECK_INT(json_array_size(at(f, "mitreAttack.primaryTechniques")), 1);
	CHECK_STR(str(f, "mitreAttack.primaryTechniques.0"), "ESCAPE_TO_HOST");
	CHECK_STR(str(f, "mitreAttack.additionalTactics.0"), "EXECUTION");
	CHECK_STR(str(f, "mitreAttack.version"), "15");

	CHECK_INT(json_array_size(at(f, "processes")), 1);
	p = at(f, "processes.0");
	CHECK_STR(str(p, "name"), "botb-linux-amd6");
	CHECK_STR(str(p, "binary.path"), "/tmp/botb-linux-amd64");
	CHECK(at(p, "binary.size") == NULL); /* unknown: no binary info given */
	CHECK(at(p, "binary.sha256") == NULL);
	CHECK(at(p, "script") == NULL);
	CHECK_INT(json_array_size(at(p, "args")), 2);
	CHECK_STR(str(p, "args.0"), "/tmp/botb-linux-amd64");
	CHECK_STR(str(p, "args.1"), "-autopwn");
	CHECK(json_is_false(at(p, "argumentsTruncated")));
	/* int64 as strings */
	CHECK_STR(str(p, "pid"), "4242");
	CHECK_STR(str(p, "parentPid"), "17");
	CHECK_STR(str(p, "userId"), "1000");

	CHECK_INT(json_array_size(at(f, "containers")), 1);
	CHECK_STR(str(f, "containers.0.name"), "web");
	CHECK_STR(str(f, "containers.0.uri"), "nginx:1.25");
	CHECK_STR(str(f, "containers.0.imageId"), "sha256:aaaa");
	CHECK_STR(str(f, "containers.0.createTime"), "2023-11-14T22:13:20.987Z");
	CHECK_INT(json_array_size(at(f, "containers.0.labels")), 2);
	CHECK_STR(str(f, "containers.0.labels.0.name"), "app");
	CHECK_STR(str(f, "containers.0.labels.0.value"), "web");
	CHECK_STR(str(f, "containers.0.labels.1.name"), "tier");
	CHECK_STR(str(f, "containers.0.labels.1.value"), "front");
	CHECK(at(f, "kubernetes") == NULL); /* no pod name */

	sp = at(f, "sourceProperties");
	CHECK_STR(str(sp, "Rule_Id"), "tool.botb.name");
	CHECK_STR(str(sp, "Matched_On"), "name");
	CHECK_STR(str(sp, "Match_Detail"), "basename=botb-linux-amd64 arg=-autopwn");
	CHECK_STR(str(sp, "Tool_Id"), "botb");
	CHECK_STR(str(sp, "Tool_Name"), "BOtB");
	CHECK_STR(str(sp, "Container_Id"), CTR_ID);
	CHECK_STR(str(sp, "Container_Runtime"), "docker");
	CHECK_STR(str(sp, "Container_Image_Uri"), "nginx:1.25");
	CHECK_STR(str(sp, "Host"), "node-1");
	v = at(sp, "Pid_Namespace");
	CHECK(json_is_integer(v) && json_integer_value(v) == 4026532100LL);
	v = at(sp, "Mount_Namespace");
	CHECK(json_is_integer(v) && json_integer_value(v) == 4026532101LL);
	CHECK_STR(str(sp, "Cgroup"), "/system.slice/docker-" CTR_ID ".scope");
	CHECK_STR(str(sp, "Executable_Device"), "8:3");
	CHECK_STR(str(sp, "Executable_Inode"), "9876543210123");
	CHECK(at(sp, "Executable_Memfd") == NULL);
	CHECK(at(sp, "Executable_Deleted") == NULL);
	CHECK(at(sp, "Arguments_Redacted") == NULL);
	v = at(sp, "Occurrence_Count");
	CHECK(json_is_integer(v) && json_integer_value(v) == 1);

	CHECK_STR(str(f, "resource.name"), str(f, "resourceName"));
	CHECK_STR(str(f, "resource.displayName"), "web");
	CHECK_STR(str(f, "resource.type"), "cagewatch.dev/Container");
	CHECK_STR(str(f, "resource.gcpMetadata.project"),
	          "//cloudresourcemanager.googleapis.com/projects/987");
	CHECK_STR(str(f, "resource.gcpMetadata.projectDisplayName"), "my-proj");
	CHECK_STR(str(f, "resource.gcpMetadata.parent"),
	          "//cloudresourcemanager.googleapis.com/projects/987");
	CHECK_STR(str(f, "resource.gcpMetadata.parentDisplayName"), "my-proj");
	CHECK_STR(str(f, "resource.gcpMetadata.organization"), "organizations/123");
	json_decref(f);

	/* No exec time known: eventTime is the creation time, not the epoch. */
	fixture();
	ex.time_ns = 0;
	f = build();
	if (!f)
		return;
	CHECK(str(f, "eventTime") && strncmp(str(f, "eventTime"), "1970", 4) != 0);
	CHECK_STR(str(f, "eventTime"), str(f, "createTime"));
	json_decref(f);
}

TEST(test_kubernetes_finding)
{
	json_t *f;

	fixture();
	strcpy(ctr.runtime, "containerd");
	strcpy(ctr.name, "app");
	strcpy(ctr.pod_name, "frontend-7d9f");
	strcpy(ctr.pod_namespace, "shop");
	strcpy(cfg.resource_template,
	       "//k8s/{project}/{pod_namespace}/{pod_name}/{container_name}");
	f = build();
	if (!f)
		return;
	CHECK_STR(str(f, "resourceName"), "//k8s/my-proj/shop/frontend-7d9f/app");
	CHECK_INT(json_array_size(at(f, "kubernetes.pods")), 1);
	CHECK_STR(str(f, "kubernetes.pods.0.ns"), "shop");
	CHECK_STR(str(f, "kubernetes.pods.0.name"), "frontend-7d9f");
	CHECK_INT(json_array_size(at(f, "kubernetes.pods.0.containers")), 1);
	CHECK_STR(str(f, "kubernetes.pods.0.containers.0.name"), "app");
	CHECK_STR(str(f, "kubernetes.pods.0.containers.0.uri"), "nginx:1.25");
	CHECK_STR(str(f, "kubernetes.pods.0.containers.0.imageId"), "sha256:aaaa");
	CHECK_STR(str(f, "sourceProperties.Container_Runtime"), "containerd");
	json_decref(f);
}

TEST(test_container_partial_metadata)
{
	json_t *f;

	/* Only the id is known: no empty strings, display name is the short id. */
	fixture();
	ctr.name[0] = ctr.image[0] = ctr.image_id[0] = ctr.runtime[0] = '\0';
	json_decref(ctr.labels);
	ctr.labels = NULL;
	ctr.created_ns = 0;
	f = build();
	if (!f)
		return;
	CHECK(at(f, "containers") == NULL);
	CHECK_STR(str(f, "resource.displayName"), "0123456789ab");
	CHECK_STR(str(f, "resource.type"), "cagewatch.dev/Container");
	CHECK_STR(str(f, "sourceProperties.Container_Id"), CTR_ID);
	CHECK(at(f, "sourceProperties.Container_Runtime") == NULL);
	CHECK(at(f, "sourceProperties.Container_Image_Uri") == NULL);
	json_decref(f);

	/* Image known, name not: one container with just the image. */
	fixture();
	ctr.name[0] = '\0';
	json_decref(ctr.labels);
	ctr.labels = json_object();
	f = build();
	if (!f)
		return;
	CHECK_INT(json_array_size(at(f, "containers")), 1);
	CHECK(at(f, "containers.0.name") == NULL);
	CHECK(at(f, "containers.0.labels") == NULL);
	CHECK_STR(str(f, "containers.0.uri"), "nginx:1.25");
	json_decref(f);
}

TEST(test_host_finding)
{
	json_t *f;

	fixture();
	ctr.in_container = false; /* attribution said host */
	ev.flags = CW_F_HOST_NS;
	f = build();
	if (!f)
		return;
	CHECK(at(f, "containers") == NULL);
	CHECK(at(f, "kubernetes") == NULL);
	CHECK_STR(str(f, "resourceName"), "//cagewatch.local/hosts/node-1/containers/unknown");
	CHECK_STR(str(f, "resource.type"), "cagewatch.dev/Host");
	CHECK_STR(str(f, "resource.displayName"), "node-1");
	CHECK(at(f, "sourceProperties.Container_Id") == NULL);
	CHECK(json_is_true(at(f, "sourceProperties.Host_Namespaces")));
	json_decref(f);

	fixture();
	in.ctr = NULL;
	f = build();
	if (!f)
		return;
	CHECK(at(f, "containers") == NULL);
	CHECK_STR(str(f, "resource.type"), "cagewatch.dev/Host");
	CHECK_STR(str(f, "processes.0.pid"), "4242");
	json_decref(f);
}

TEST(test_report_args_false)
{
	json_t *f;

	fixture();
	cfg.report_args = false;
	ex.argv_truncated = true;
	f = build();
	if (!f)
		return;
	CHECK(at(f, "processes.0.args") == NULL);
	CHECK(json_is_false(at(f, "processes.0.argumentsTruncated")));
	CHECK(json_is_true(at(f, "sourceProperties.Arguments_Redacted")));
	CHECK_STR(str(f, "processes.0.binary.path"), "/tmp/botb-linux-amd64");
	json_decref(f);

	/* With arguments on, truncation is reported. */
	fixture();
	ex.argv_truncated = true;
	f = build();
	if (f)
		CHECK(json_is_true(at(f, "processes.0.argumentsTruncated")));
	json_decref(f);
	fixture();
	ev.flags = CW_F_ARGV_TRUNC;
	f = build();
	if (f)
		CHECK(json_is_true(at(f, "processes.0.argumentsTruncated")));
	json_decref(f);
}

TEST(test_utf8_sanitize)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
#define C(a, b) {a, sizeof(a) - 1, b}
	    C("plain", "plain"),
	    C("", ""),
	    C("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    C("a\xff", "a\\xff"),
	    C("\x80", "\\x80"),                            /* lone continuation */
	    C("\xc0\xaf", "\\xc0\\xaf"),                   /* overlong '/' */
	    C("\xe0\x80\xaf", "\\xe0\\x80\\xaf"),          /* overlong 3-byte */
	    C("\xed\xa0\x80", "\\xed\\xa0\\x80"),          /* surrogate */
	    C("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"), /* above U+10FFFF */
	    C("\xe2\x82", "\\xe2\\x82"),                   /* truncated sequence */
	    C("\xc3", "\\xc3"),
	    C("x\xc3(y", "x\\xc3(y"), /* bad continuation: only the lead is bad */
	    C("a\0b", "a\\x00b"),
	    C("q\"b\\n\n\t", "q\"b\\n\n\t"), /* ASCII controls are jansson's job */
#undef C
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = cw_utf8_sanitize(cases[i].in, cases[i].len);
		json_t *j = cw_json_bytes(cases[i].in, cases[i].len);

		CHECK_STR(s, cases[i].out);
		CHECK(j != NULL); /* jansson accepted it as valid UTF-8 */
		CHECK_STR(json_string_value(j), cases[i].out);
		free(s);
		json_decref(j);
	}
	{
		json_t *j = cw_json_str(NULL);

		CHECK_STR(json_string_value(j), "");
		json_decref(j);
	}
}

TEST(test_hostile_strings)
{
	static const char *const args[] = {
	    "say \"hi\"\n\tand\\leave",
	    "\xff\xfe bad \x80 \xc0\xaf \xed\xa0\x80",
	    "\xe2\x82\xac",
	    "",
	};
	char *big_path, *big_arg;
	json_t *f;
	char *dump;

	fixture();
	strcpy(ev.comm, "a\"b\\c\nd\te\x01\xff");
	strcpy(ex.path, "/tmp/we\"ird\\dir\n/x\ty\xff");
	set_argv(args, 4);
	strcpy(ctr.name, "n\"\n");
	strcpy(ctr.image, "img\xc3");
	json_decref(ctr.labels);
	ctr.labels = json_pack("{s:s, s:i}", "k\n", "v\"\n", "num", 7);
	strcpy(det.detail, "basename=\"x\ny\"");
	f = cw_finding_build(&cfg, &in);
	CHECK(f != NULL);
	if (!f)
		return;
	dump = json_dumps(f, JSON_COMPACT);
	CHECK(dump && !strchr(dump, '\n') && !strchr(dump, '\t'));
	free(dump);
	f = roundtrip(f);
	if (!f)
		return;
	CHECK_STR(str(f, "processes.0.name"), "a\"b\\c\nd\te\x01\\xff");
	CHECK_STR(str(f, "processes.0.binary.path"), "/tmp/we\"ird\\dir\n/x\ty\\xff");
	CHECK_INT(json_array_size(at(f, "processes.0.args")), 4);
	CHECK_STR(str(f, "processes.0.args.0"), "say \"hi\"\n\tand\\leave");
	CHECK_STR(str(f, "processes.0.args.1"), "\\xff\\xfe bad \\x80 \\xc0\\xaf \\xed\\xa0\\x80");
	CHECK_STR(str(f, "processes.0.args.2"), "\xe2\x82\xac");
	CHECK_STR(str(f, "processes.0.args.3"), "");
	CHECK_STR(str(f, "containers.0.name"), "n\"\n");
	CHECK_STR(str(f, "containers.0.uri"), "img\\xc3");
	CHECK_STR(str(f, "containers.0.labels.0.name"), "k\n");
	CHECK_STR(str(f, "containers.0.labels.0.value"), "v\"\n");
	CHECK_STR(str(f, "containers.0.labels.1.name"), "num");
	CHECK_STR(str(f, "containers.0.labels.1.value"), "7");
	CHECK_STR(str(f, "resource.displayName"), "n\"\n");
	CHECK_STR(str(f, "sourceProperties.Match_Detail"), "basename=\"x\ny\"");
	json_decref(f);

	/* 4 KiB path and argument survive whole. */
	fixture();
	big_path = malloc(CW_PATH_MAX + 1);
	big_arg = malloc(CW_ARGV_MAX);
	if (!big_path || !big_arg) {
		CHECK(0);
		free(big_path);
		free(big_arg);
		return;
	}
	big_path[0] = '/';
	memset(big_path + 1, 'p', CW_PATH_MAX - 1);
	big_path[CW_PATH_MAX] = '\0';
	memset(big_arg, '\xff', CW_ARGV_MAX - 1); /* worst case: every byte escaped */
	big_arg[CW_ARGV_MAX - 1] = '\0';
	strcpy(ex.path, big_path);
	{
		const char *a[] = {big_arg};

		set_argv(a, 1);
	}
	f = build();
	if (f) {
		const char *p = str(f, "processes.0.binary.path");
		const char *a = str(f, "processes.0.args.0");

		CHECK_STR(p, big_path);
		CHECK(a && strlen(a) == (CW_ARGV_MAX - 1) * 4);
		CHECK(a && strncmp(a, "\\xff\\xff", 8) == 0);
		CHECK(a && strcmp(a + strlen(a) - 4, "\\xff") == 0);
	}
	json_decref(f);
	free(big_path);
	free(big_arg);

	/* Empty argv: an empty args array, not a crash or a missing field. */
	fixture();
	set_argv(NULL, 0);
	f = build();
	if (f) {
		CHECK(json_is_array(at(f, "processes.0.args")));
		CHECK_INT(json_array_size(at(f, "processes.0.args")), 0);
	}
	json_decref(f);
}

TEST(test_template)
{
	char *s;

	fixture();
	strcpy(ctr.pod_name, "pod-1");
	strcpy(cfg.resource_template, "{host}|{container_id}|{container_name}|{pod_namespace}|"
	                              "{pod_name}|{project}|{nope}|{|}|{host");
	s = cw_finding_resource_name(&cfg, &ctr);
	CHECK_STR(s, "node-1|" CTR_ID "|web|unknown|pod-1|my-proj|{nope}|{|}|{host");
	free(s);

	/* Not in a container: every container value is unknown. */
	ctr.in_container = false;
	s = cw_finding_resource_name(&cfg, &ctr);
	CHECK_STR(s, "node-1|unknown|unknown|unknown|unknown|my-proj|{nope}|{|}|{host");
	free(s);
	s = cw_finding_resource_name(&cfg, NULL);
	CHECK_STR(s, "node-1|unknown|unknown|unknown|unknown|my-proj|{nope}|{|}|{host");
	free(s);

	/* Nested brace: the inner placeholder still expands. */
	strcpy(cfg.resource_template, "{{host}}");
	s = cw_finding_resource_name(&cfg, NULL);
	CHECK_STR(s, "{node-1}");
	free(s);
	strcpy(cfg.resource_template, "static");
	s = cw_finding_resource_name(&cfg, NULL);
	CHECK_STR(s, "static");
	free(s);

	/* Expansion far longer than the template (no fixed buffers). */
	ctr.in_container = true;
	memset(ctr.name, 'n', sizeof(ctr.name) - 1);
	ctr.name[sizeof(ctr.name) - 1] = '\0';
	strcpy(cfg.resource_template, "");
	for (int i = 0; i < 25; i++)
		strcat(cfg.resource_template, "{container_name}/");
	s = cw_finding_resource_name(&cfg, &ctr);
	CHECK(s && strlen(s) == 25 * 256);
	free(s);

	/* Non-UTF-8 container name in the resource name is sanitized in JSON. */
	fixture();
	strcpy(ctr.name, "x\xff");
	strcpy(cfg.resource_template, "//c/{container_name}");
	{
		json_t *f = build();

		CHECK_STR(str(f, "resourceName"), "//c/x\\xff");
		CHECK_STR(str(f, "resource.name"), "//c/x\\xff");
		json_decref(f);
	}
}

TEST(test_notification)
{
	json_t *f, *n, *back;

	fixture();
	f = cw_finding_build(&cfg, &in);
	CHECK(f != NULL);
	if (!f)
		return;
	n = roundtrip(cw_finding_notification(&cfg, f));
	/* The finding passed in is untouched. */
	CHECK(json_object_get(f, "resource") != NULL);
	if (n) {
		CHECK_INT(json_object_size(n), 3);
		CHECK_STR(str(n, "notificationConfigName"),
		          "organizations/123/notificationConfigs/esc");
		CHECK(json_is_object(at(n, "finding")));
		CHECK(at(n, "finding.resource") == NULL);
		CHECK_STR(str(n, "finding.name"), str(f, "name"));
		CHECK_STR(str(n, "finding.processes.0.pid"), "4242");
		CHECK(json_equal(at(n, "resource"), json_object_get(f, "resource")));
		CHECK_STR(str(n, "resource.type"), "cagewatch.dev/Container");
		/* Everything else of the finding is carried over unchanged. */
		back = json_deep_copy(f);
		json_object_del(back, "resource");
		CHECK(json_equal(back, at(n, "finding")));
		json_decref(back);
	}
	json_decref(n);
	json_decref(f);

	errno = 0;
	CHECK(cw_finding_notification(&cfg, NULL) == NULL);
	CHECK_INT(errno, EINVAL);
}

TEST(test_extra_and_flags)
{
	json_t *f;

	fixture();
	det.extra = json_pack("{s:s, s:{s:[s]}, s:s}", "Yara_Rule", "cdk_strings", "indicator",
	                      "signatures", "x", "Rule_Id", "spoofed");
	ev.flags = CW_F_MEMFD | CW_F_DELETED | CW_F_PATH_TRUNC;
	f = build();
	if (!f)
		return;
	CHECK_STR(str(f, "sourceProperties.Yara_Rule"), "cdk_strings");
	CHECK_STR(str(f, "sourceProperties.Rule_Id"), "tool.botb.name");
	CHECK(at(f, "sourceProperties.indicator") == NULL);
	CHECK_STR(str(f, "indicator.signatures.0"), "x");
	CHECK(json_is_true(at(f, "sourceProperties.Executable_Memfd")));
	CHECK(json_is_true(at(f, "sourceProperties.Executable_Deleted")));
	CHECK(json_is_true(at(f, "sourceProperties.Executable_Path_Truncated")));
	json_decref(f);

	/* No additional tactics: the key is left out. No tactic: likewise. */
	fixture();
	json_decref(cat.additional_tactics);
	cat.additional_tactics = json_array();
	cat.tactic = NULL;
	f = build();
	if (!f)
		return;
	CHECK(at(f, "mitreAttack.additionalTactics") == NULL);
	CHECK(at(f, "mitreAttack.primaryTactic") == NULL);
	CHECK_STR(str(f, "mitreAttack.primaryTechniques.0"), "ESCAPE_TO_HOST");
	json_decref(f);
}

TEST(test_generated_id_and_errors)
{
	char a[33], b[33];
	const char *name, *slash;
	json_t *f;

	cw_finding_new_id(a);
	cw_finding_new_id(b);
	CHECK(is_hex32(a));
	CHECK(is_hex32(b));
	CHECK(strcmp(a, b) != 0);

	fixture();
	in.finding_id = NULL;
	f = build();
	if (!f)
		return;
	name = str(f, "name");
	slash = name ? strrchr(name, '/') : NULL;
	CHECK(slash && is_hex32(slash + 1));
	CHECK(slash && str(f, "canonicalName") &&
	      strcmp(strrchr(str(f, "canonicalName"), '/'), slash) == 0);
	json_decref(f);

	fixture();
	in.det = NULL;
	errno = 0;
	CHECK(cw_finding_build(&cfg, &in) == NULL);
	CHECK_INT(errno, EINVAL);
	CHECK(cw_finding_build(&cfg, NULL) == NULL);
}

/* ---- hashed files in the finding --------------------------------------- */

TEST(test_hashed_binary_and_script)
{
	struct cw_file_info bin, script;
	json_t *f;
	int fd;

	fixture();
	memset(&bin, 0, sizeof(bin));
	memset(&script, 0, sizeof(script));
	fd = fx_pattern_fd("abc", 3, 3);
	CHECK_INT(cw_file_hash_fd(fd, 0, &bin), 0);
	close(fd);
	strcpy(bin.path, "/usr/bin/bash");
	fd = fx_pattern_fd("a", 1, 1000000);
	CHECK_INT(cw_file_hash_fd(fd, 4096, &script), 0);
	close(fd);
	script.path[0] = '\0'; /* unknown: the exec's filename stands in */
	strcpy(ex.filename, "/tmp/deepce.sh");
	in.binary = &bin;
	in.script = &script;
	f = build();
	if (!f)
		return;
	CHECK_STR(str(f, "processes.0.binary.path"), "/usr/bin/bash");
	CHECK_STR(str(f, "processes.0.binary.size"), "3");
	CHECK_STR(str(f, "processes.0.binary.sha256"),
	          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_STR(str(f, "processes.0.binary.hashedSize"), "3");
	CHECK(json_is_false(at(f, "processes.0.binary.partiallyHashed")));
	CHECK_STR(str(f, "processes.0.script.path"), "/tmp/deepce.sh");
	CHECK_STR(str(f, "processes.0.script.size"), "1000000");
	CHECK_STR(str(f, "processes.0.script.hashedSize"), "4096");
	CHECK(json_is_true(at(f, "processes.0.script.partiallyHashed")));
	CHECK(str(f, "processes.0.script.sha256") &&
	      strlen(str(f, "processes.0.script.sha256")) == 64);
	json_decref(f);

	/* Binary info with an empty path falls back to the exec's path; a size
	 * without a hash shows only the size. */
	fixture();
	memset(&bin, 0, sizeof(bin));
	bin.have_size = true;
	bin.size = 77;
	in.binary = &bin;
	f = build();
	if (!f)
		return;
	CHECK_STR(str(f, "processes.0.binary.path"), "/tmp/botb-linux-amd64");
	CHECK_STR(str(f, "processes.0.binary.size"), "77");
	CHECK(at(f, "processes.0.binary.sha256") == NULL);
	CHECK(at(f, "processes.0.binary.hashedSize") == NULL);
	json_decref(f);
}

static const struct cw_test tests[] = {
    {"container_finding", test_container_finding},
    {"kubernetes_finding", test_kubernetes_finding},
    {"container_partial_metadata", test_container_partial_metadata},
    {"host_finding", test_host_finding},
    {"report_args_false", test_report_args_false},
    {"utf8_sanitize", test_utf8_sanitize},
    {"hostile_strings", test_hostile_strings},
    {"template", test_template},
    {"notification", test_notification},
    {"extra_and_flags", test_extra_and_flags},
    {"generated_id_and_errors", test_generated_id_and_errors},
    {"hashed_binary_and_script", test_hashed_binary_and_script},
};

CW_TEST_MAIN(tests)
