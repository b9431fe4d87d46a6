/* test_catalogue.c - the tool catalogue: the embedded rules load and hold what
 * the other layers expect, every tool is recognisable by its own names, the
 * name/script/argv layers match real command lines (and leave benign ones such
 * as the AWS CDK CLI, busybox applets and ordinary scripts alone), and every
 * edge case of a command line is handled (test_catalogue_load.c: user
 * catalogues and the refusal of broken ones).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalogue.h"
#include "check.h"
#include "fixture_exec.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* Helpers */

static struct cw_catalogue *embedded_cat;

static void free_embedded(void)
{
	cw_catalogue_free(embedded_cat);
	embedded_cat = NULL;
}

/* The embedded catalogue, loaded once per run and freed at exit. */
static struct cw_catalogue *embedded(void)
{
	if (!embedded_cat) {
		if (cw_catalogue_load_default(&embedded_cat) != 0) {
			fprintf(stderr, "embedded catalogue does not load\n");
			exit(2);
		}
		atexit(free_embedded);
	}
	return embedded_cat;
}

static struct cw_exec ex;
static struct cw_detection det;

/* Match against the embedded catalogue; returns the tool id or NULL. */
static const char *match_v(const char *path, const char *filename, va_list ap)
{
	int rc;

	fx_mkexec_v(&ex, path, filename, ap);
	cw_detection_clear(&det);
	rc = cw_catalogue_match(embedded(), &ex, &det);
	if (rc < 0) {
		fprintf(stderr, "  cw_catalogue_match failed: %d\n", rc);
		return "(error)";
	}
	return rc == 1 ? det.tool_id : NULL;
}

static const char *match(const char *path, const char *filename, ...)
{
	const char *r;
	va_list ap;

	va_start(ap, filename);
	r = match_v(path, filename, ap);
	va_end(ap);
	return r;
}

#define CHECK_NOMATCH(...)                                                                         \
	do {                                                                                       \
		const char *cw_r_ = match(__VA_ARGS__, NULL);                                      \
		CHECK(cw_r_ == NULL);                                                              \
		if (cw_r_)                                                                         \
			fprintf(stderr, "  unexpected match %s: %s\n", det.rule_id, det.detail);   \
	} while (0)

/* ------------------------------------------------------------------------ */
/* The embedded catalogue */

TEST(embedded_loads)
{
	struct cw_catalogue *c = NULL;
	const struct cw_category *k;

	CHECK_INT(cw_catalogue_load_default(&c), 0);
	CHECK(c != NULL);
	CHECK(cw_catalogue_tool_count(c) >= 25);
	/* NUL-terminated within the recorded length (which may count padding) */
	CHECK(strlen(cw_embedded_catalogue) > 1000);
	CHECK(strlen(cw_embedded_catalogue) <= cw_embedded_catalogue_len);

	k = cw_catalogue_category(c, "container_escape");
	CHECK(k != NULL);
	if (k) {
		CHECK_STR(k->id, "container_escape");
		CHECK_STR(k->category, "Execution: Container Escape");
		CHECK_STR(k->module, "CONTAINER_ESCAPE");
		CHECK_STR(k->severity, "HIGH");
		CHECK_STR(k->tactic, "PRIVILEGE_ESCALATION");
		CHECK_INT(json_array_size(k->techniques), 1);
		CHECK_STR(json_string_value(json_array_get(k->techniques, 0)), "ESCAPE_TO_HOST");
		CHECK_INT(json_array_size(k->additional_tactics), 1);
		CHECK_STR(json_string_value(json_array_get(k->additional_tactics, 0)), "EXECUTION");
		CHECK(k->description && strlen(k->description) > 100);
		CHECK(k->next_steps && strstr(k->next_steps, "cagewatch findings related"));
	}
	k = cw_catalogue_category(c, "kubernetes_attack_tool");
	CHECK(k != NULL);
	if (k) {
		CHECK_STR(k->category, "Execution: Kubernetes Attack Tool Execution");
		CHECK_STR(k->severity, "CRITICAL");
		CHECK(strstr(k->next_steps, "cagewatch findings related") != NULL);
		CHECK(json_array_size(k->techniques) >= 1);
	}
	k = cw_catalogue_category(c, "local_recon");
	CHECK(k != NULL);
	if (k) {
		CHECK_STR(k->category, "Execution: Local Reconnaissance Tool Execution");
		CHECK_STR(k->severity, "MEDIUM");
		CHECK_STR(k->tactic, "DISCOVERY");
		CHECK(json_is_array(k->additional_tactics));
	}
	CHECK(cw_catalogue_category(c, "nope") == NULL);
	CHECK(cw_catalogue_category(NULL, "local_recon") == NULL);
	cw_catalogue_free(c);
	cw_catalogue_free(NULL);
}

/* Replace each wildcard of a glob with a concrete character. */
static void sample_of(const char *glob, char *out, size_t sz)
{
	size_t o = 0;

	for (const char *p = glob; *p && o + 2 < sz; p++) {
		if (*p == '*' || *p == '?')
			out[o++] = 'x';
		else if (*p == '[') {
			out[o++] = p[1];
			p = strchr(p, ']');
			if (!p)
				break;
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
}

/* Every tool: at least one name/script glob, valid shape for the content/hash
 * layers, and each of its own globs recognises it (not another tool). */
TEST(every_tool_recognised_by_its_own_globs)
{
	json_t *root = json_loads(cw_embedded_catalogue, 0, NULL);
	json_t *tools = json_object_get(root, "tools"), *t;
	size_t i;

	CHECK(json_is_array(tools));
	CHECK_INT(json_array_size(tools), cw_catalogue_tool_count(embedded()));
	json_array_foreach(tools, i, t)
	{
		const char *id = json_string_value(json_object_get(t, "id"));
		json_t *names = json_object_get(t, "names"),
		       *amb = json_object_get(t, "ambiguous_names");
		json_t *scripts = json_object_get(t, "scripts"), *g;
		json_t *sub = json_object_get(t, "subcommands"), *argv = json_object_get(t, "argv");
		struct cw_tool_ref ref;
		char sample[300], path[400], vtok[100] = "";
		size_t j;

		CHECK(json_array_size(names) + json_array_size(amb) + json_array_size(scripts) > 0);
		CHECK(json_is_array(json_object_get(t, "content_markers")));
		CHECK(json_is_array(json_object_get(t, "sha256")));
		CHECK_INT(cw_catalogue_tool(embedded(), i, &ref), 0);
		CHECK_STR(ref.id, id);
		/* a vocabulary token to go with ambiguous names */
		if (json_array_size(sub))
			sample_of(json_string_value(json_array_get(sub, 0)), vtok, sizeof(vtok));
		else if (json_array_size(argv))
			sample_of(json_string_value(json_array_get(argv, 0)), vtok, sizeof(vtok));

		json_array_foreach(names, j, g)
		{
			sample_of(json_string_value(g), sample, sizeof(sample));
			snprintf(path, sizeof(path), "/tmp/drop/%s", sample);
			CHECK_STR(match(path, path, path, NULL), id);
			CHECK_STR(det.cat ? det.cat->id : NULL, ref.cat->id);
		}
		json_array_foreach(amb, j, g)
		{
			sample_of(json_string_value(g), sample, sizeof(sample));
			snprintf(path, sizeof(path), "/tmp/drop/%s", sample);
			CHECK(vtok[0] != '\0');
			CHECK_STR(match(path, path, sample, vtok, NULL), id);
			CHECK_STR(det.matched_on, "name+argv");
			/* and never on the name alone */
			CHECK(match(path, path, sample, NULL) == NULL ||
			      strcmp(det.tool_id, id) != 0);
		}
		json_array_foreach(scripts, j, g)
		{
			sample_of(json_string_value(g), sample, sizeof(sample));
			snprintf(path, sizeof(path), "/tmp/drop/%s", sample);
			CHECK_STR(match("/usr/bin/bash", "/bin/bash", "bash", path, NULL), id);
			CHECK_STR(det.matched_on, "script");
		}
	}
	json_decref(root);
}

TEST(category_mapping)
{
	static const struct {
		const char *tool, *cat;
	} want[] = {
	    {"cdk", "container_escape"},
	    {"deepce", "container_escape"},
	    {"botb", "container_escape"},
	    {"ctrsploit", "container_escape"},
	    {"container-escape-check", "container_escape"},
	    {"cve-2019-5736-poc", "container_escape"},
	    {"cve-2022-0492", "container_escape"},
	    {"docker-escape-tool", "container_escape"},
	    {"traitor", "container_escape"},
	    {"keyctl-unmask", "container_escape"},
	    {"kubesploit", "container_escape"},
	    {"peirates", "kubernetes_attack_tool"},
	    {"kubeletctl", "kubernetes_attack_tool"},
	    {"kube-hunter", "kubernetes_attack_tool"},
	    {"amicontained", "local_recon"},
	    {"kdigger", "local_recon"},
	    {"linpeas", "local_recon"},
	};
	struct cw_tool_ref ref;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK_INT(cw_catalogue_find_tool(embedded(), want[i].tool, &ref), 0);
		CHECK_STR(ref.cat ? ref.cat->id : NULL, want[i].cat);
	}
	CHECK_INT(cw_catalogue_find_tool(embedded(), "no-such-tool", &ref), -ENOENT);
	CHECK_INT(cw_catalogue_tool(embedded(), cw_catalogue_tool_count(embedded()), &ref),
	          -EINVAL);
}

/* The keys the content/hash layer reads, in the shape it expects. */
TEST(content_and_hash_keys)
{
	const json_t *root = cw_catalogue_json(embedded());
	json_t *tools = json_object_get(root, "tools"), *t, *h;
	size_t i, j, hashes = 0, markers = 0;

	json_array_foreach(tools, i, t)
	{
		markers += json_array_size(json_object_get(t, "content_markers"));
		json_array_foreach(json_object_get(t, "sha256"), j, h)
		{
			CHECK_INT(strlen(json_string_value(h)), 64);
			hashes++;
		}
	}
	CHECK(hashes >= 10);
	CHECK(markers >= 30);
}

/* ------------------------------------------------------------------------ */
/* Positives */

TEST(positive_botb)
{
	CHECK_STR(match("/tmp/botb-linux-amd64", "/tmp/botb-linux-amd64", "/tmp/botb-linux-amd64",
	                "-autopwn", NULL),
	          "botb");
	CHECK_STR(det.rule_id, "tool.botb.name");
	CHECK_STR(det.matched_on, "name+argv");
	CHECK_STR(det.detail, "basename=\"botb-linux-amd64\" args=\"-autopwn\"");
	CHECK_STR(det.tool_name, "BOtB (Break out the Box)");
	CHECK_STR((det.cat ? det.cat->category : NULL), "Execution: Container Escape");
	CHECK(det.extra == NULL);

	/* without arguments it is still BOtB, on the name alone */
	CHECK_STR(match("/usr/local/bin/botb", "botb", "botb", NULL), "botb");
	CHECK_STR(det.matched_on, "name");
	CHECK_STR(det.detail, "basename=\"botb\"");
}

TEST(positive_cdk)
{
	CHECK_STR(match("/tmp/x/cdk", "/tmp/x/cdk", "/tmp/x/cdk", "eva", NULL), "cdk");
	CHECK_STR(det.matched_on, "name+argv");
	CHECK_STR(det.rule_id, "tool.cdk.name");
	CHECK_STR(det.detail, "basename=\"cdk\" args=\"eva\"");

	CHECK_STR(match("/tmp/cdk_linux_amd64", "./cdk_linux_amd64", "./cdk_linux_amd64", "run",
	                "mount-cgroup", "touch /tmp/x", NULL),
	          "cdk");
	CHECK_STR(det.matched_on, "name+argv");
	CHECK_STR(det.detail, "basename=\"cdk_linux_amd64\" args=\"run mount-cgroup\"");

	CHECK_STR(match("/tmp/cdk_linux_amd64_upx", "cdk", "cdk", NULL), "cdk");
	CHECK_STR(det.matched_on, "name");

	CHECK_STR(match("/usr/local/bin/cdk", "cdk", "cdk", "evaluate", "--full", NULL), "cdk");
	CHECK_STR(match("/usr/local/bin/cdk", "cdk", "cdk", "run", "--list", NULL), "cdk");
	CHECK_STR(match("/cdk", "/cdk", "/cdk", "auto-escape", "id", NULL), "cdk");
}

/* Program text in argv (`sh -c "$(cat x)"`): found for interpreters only. */
TEST(inline_program_text)
{
	struct cw_exec e;
	const char *t = NULL;

	fx_mkexec(&e, "/usr/bin/dash", "/bin/sh", "sh", "-c", "echo (DEEPCE)", NULL);
	CHECK_INT(cw_catalogue_inline(embedded(), &e, &t), 1);
	CHECK_STR(t, "echo (DEEPCE)");
	fx_mkexec(&e, "/usr/bin/bash", "/bin/bash", "bash", "-ec", "id", NULL);
	CHECK_INT(cw_catalogue_inline(embedded(), &e, &t), 1);
	CHECK_STR(t, "id");
	fx_mkexec(&e, "/usr/bin/perl", "/usr/bin/perl", "perl", "-e", "print 1", NULL);
	CHECK_INT(cw_catalogue_inline(embedded(), &e, &t), 1);
	fx_mkexec(&e, "/bin/busybox", "/bin/sh", "sh", "-c", "x", NULL);
	CHECK_INT(cw_catalogue_inline(embedded(), &e, &t), 1);
	/* not an interpreter, a script operand, no text after -c */
	fx_mkexec(&e, "/usr/bin/gcc", "/usr/bin/gcc", "gcc", "-c", "x.c", NULL);
	CHECK_INT(cw_catalogue_inline(embedded(), &e, &t), 0);
	fx_mkexec(&e, "/usr/bin/bash", "/bin/bash", "bash", "x.sh", NULL);
	CHECK_INT(cw_catalogue_inline(embedded(), &e, &t), 0);
	fx_mkexec(&e, "/usr/bin/bash", "/bin/bash", "bash", "-c", NULL);
	CHECK_INT(cw_catalogue_inline(embedded(), &e, &t), 0);
	CHECK_INT(cw_catalogue_inline(NULL, &e, &t), -EINVAL);
}

TEST(positive_deepce_scripts)
{
	CHECK_STR(match("/usr/bin/dash", "/bin/sh", "sh", "deepce.sh", "-e", "PRIVILEGED", NULL),
	          "deepce");
	CHECK_STR(det.matched_on, "script");
	CHECK_STR(det.rule_id, "tool.deepce.script");
	CHECK_STR(det.detail, "interpreter=\"dash\" script=\"deepce.sh\" args=\"-e PRIVILEGED\"");

	CHECK_STR(match("/usr/bin/bash", "/bin/bash", "bash", "/tmp/deepce.sh", NULL), "deepce");
	CHECK_STR(det.detail, "interpreter=\"bash\" script=\"deepce.sh\"");

	/* shell options before the script, including one taking a value */
	CHECK_STR(match("/usr/bin/bash", "/bin/bash", "bash", "-x", "-o", "pipefail", "--",
	                "deepce.sh", NULL),
	          "deepce");
	CHECK_STR(
	    match("/usr/bin/bash", "/bin/bash", "bash", "-euo", "pipefail", "./deepce.sh", NULL),
	    "deepce");

	/* "#!" script run by name: path is the interpreter, filename the script */
	{
		struct cw_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.flags = CW_F_SCRIPT;
		fx_mkexec(&ex, "/usr/bin/dash", "/tmp/deepce.sh", "/bin/sh", "/tmp/deepce.sh",
		          "-ne", NULL);
		ex.ev = &ev;
		cw_detection_clear(&det);
		CHECK_INT(cw_catalogue_match(embedded(), &ex, &det), 1);
		CHECK_STR(det.tool_id, "deepce");
		CHECK_STR(det.matched_on, "script");
		CHECK_STR(det.detail, "filename=\"deepce.sh\" interpreter=\"dash\" args=\"-ne\"");
	}

	/* busybox sh as the interpreter */
	CHECK_STR(match("/bin/busybox", "/bin/sh", "sh", "/tmp/deepce.sh", NULL), "deepce");
	CHECK_STR(det.detail, "interpreter=\"sh\" multicall=\"busybox\" script=\"deepce.sh\"");
	CHECK_STR(match("/bin/busybox", "/bin/busybox", "busybox", "ash", "linpeas.sh", NULL),
	          "linpeas");
	CHECK_STR((det.cat ? det.cat->id : NULL), "local_recon");

	CHECK_STR(match("/usr/bin/bash", "/bin/bash", "bash", "container-escape-check.sh", NULL),
	          "container-escape-check");
	CHECK_STR(
	    match("/usr/bin/bash", "/bin/bash", "bash", "can-ctr-escape-cve-2022-0492.sh", NULL),
	    "cve-2022-0492");
}

TEST(positive_python_module_and_script)
{
	CHECK_STR(match("/usr/bin/python3.11", "/usr/bin/python3", "python3", "-m", "kube_hunter",
	                "--pod", NULL),
	          "kube-hunter");
	CHECK_STR(det.matched_on, "script");
	CHECK_STR(det.detail, "interpreter=\"python3.11\" script=\"kube_hunter\" args=\"--pod\"");
	CHECK_STR(
	    match("/usr/bin/python3.11", "/usr/bin/python3", "python3", "-u", "KubiScan.py", NULL),
	    "kubiscan");
	CHECK_STR(match("/usr/bin/python3.11", "/usr/bin/python3", "python3", "-W", "ignore",
	                "/opt/red_kube.py", NULL),
	          "red-kube");
}

TEST(positive_ldso)
{
	CHECK_STR(match("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
	                "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2",
	                "/tmp/amicontained", NULL),
	          "amicontained");
	CHECK_STR(det.matched_on, "name");
	CHECK_STR(det.detail, "basename=\"amicontained\" loader=\"ld-linux-x86-64.so.2\"");
	CHECK_STR((det.cat ? det.cat->id : NULL), "local_recon");

	/* loader options are skipped, including ones with a value */
	CHECK_STR(match("/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-x86_64.so.1", "ld",
	                "--library-path", "/tmp/lib", "--argv0", "nginx", "./peirates", NULL),
	          "peirates");
	/* ld.so --list does not run the program */
	CHECK_NOMATCH("/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2", "ld.so",
	              "--list", "/tmp/amicontained");
	/* ld.so running a shell running a script */
	CHECK_STR(match("/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2", "ld.so",
	                "/bin/sh", "deepce.sh", NULL),
	          "deepce");
	CHECK_STR(det.detail,
	          "interpreter=\"sh\" loader=\"ld-linux-x86-64.so.2\" script=\"deepce.sh\"");
}

TEST(positive_k8s_tools)
{
	CHECK_STR(match("/usr/local/bin/peirates", "peirates", "peirates", NULL), "peirates");
	CHECK_STR((det.cat ? det.cat->id : NULL), "kubernetes_attack_tool");
	CHECK_STR((det.cat ? det.cat->severity : NULL), "CRITICAL");

	CHECK_STR(match("/usr/local/bin/kubeletctl", "kubeletctl", "kubeletctl", "scan", "rce",
	                "--server", "10.0.0.1", NULL),
	          "kubeletctl");
	CHECK_STR(det.matched_on, "name+argv");
	CHECK_STR(det.detail, "basename=\"kubeletctl\" args=\"scan rce --server\"");
	CHECK_STR(match("/tmp/kubeletctl_linux_amd64", "./kubeletctl_linux_amd64",
	                "./kubeletctl_linux_amd64", "pods", "-s", "10.0.0.1:10250", NULL),
	          "kubeletctl");
	CHECK_STR(det.detail,
	          "basename=\"kubeletctl_linux_amd64\" args=\"pods -s 10.0.0.1:10250\"");
}

TEST(positive_ctrsploit_and_others)
{
	CHECK_STR(
	    match("/tmp/ctrsploit", "./ctrsploit", "./ctrsploit", "x", "ra", "-c", "id", NULL),
	    "ctrsploit");
	CHECK_STR(det.matched_on, "name+argv");
	CHECK_STR(det.detail, "basename=\"ctrsploit\" args=\"x ra\"");

	/* re-execution of a renamed ctrsploit: argv[0] is the exploit name */
	CHECK_STR(match("/tmp/t", "/proc/self/exe", "cgroupv1-release_agent", "-c", "id", NULL),
	          "ctrsploit");
	CHECK_STR(det.matched_on, "argv");
	CHECK_STR(det.rule_id, "tool.ctrsploit.argv0");
	CHECK_STR(det.detail, "argv0=\"cgroupv1-release_agent\" basename=\"t\"");

	CHECK_STR(match("/tmp/traitor-amd64", "./traitor-amd64", "./traitor-amd64", "-e",
	                "docker:writable-socket", NULL),
	          "traitor");
	CHECK_STR(match("/tmp/keyctl-unmask", "keyctl-unmask", "keyctl-unmask", "-min", "0", "-max",
	                "999", NULL),
	          "keyctl-unmask");
	CHECK_STR(match("/tmp/kdigger", "kdigger", "kdigger", "dig", "all", NULL), "kdigger");
	CHECK_STR(det.detail, "basename=\"kdigger\" args=\"dig all\"");
	CHECK_STR(match("/tmp/docker_escape", "./docker_escape", "./docker_escape", "auto", NULL),
	          "docker-escape-tool");
	CHECK_STR(match("/tmp/main", "./main", "./main", "-shell", "id", NULL),
	          "cve-2019-5736-poc");
	CHECK_STR(det.matched_on, "name+argv");
	CHECK_STR(match("/tmp/kubesploitAgent-Linux-x64", "kubesploitAgent-Linux-x64",
	                "kubesploitAgent-Linux-x64", NULL),
	          "kubesploit");

	/* a symlink with a tool's name to an innocuous-looking file */
	CHECK_STR(match("/opt/bin/x1", "/usr/local/bin/peirates", "peirates", NULL), "peirates");
	CHECK_STR(det.detail, "filename=\"peirates\"");
}

/* ------------------------------------------------------------------------ */
/* Negatives */

TEST(negative_aws_cdk_and_node)
{
	CHECK_NOMATCH("/usr/local/bin/cdk", "cdk", "cdk", "deploy");
	CHECK_NOMATCH("/usr/local/bin/cdk", "cdk", "cdk", "synth", "MyStack");
	CHECK_NOMATCH("/usr/local/bin/cdk", "cdk", "cdk");
	CHECK_NOMATCH("/usr/local/bin/cdk", "cdk", "cdk", "deploy", "--require-approval", "never");
	/* a subcommand word later on the line is not a subcommand */
	CHECK_NOMATCH("/usr/local/bin/cdk", "cdk", "cdk", "deploy", "run");
	CHECK_NOMATCH("/usr/bin/node", "/usr/bin/node", "node", "cdk.js");
	CHECK_NOMATCH("/usr/bin/node", "/usr/bin/node", "node",
	              "/usr/lib/node_modules/aws-cdk/bin/cdk", "deploy");
	/* AWS CDK's launcher as a "#!" script through env */
	CHECK_NOMATCH("/usr/bin/env", "/usr/local/bin/cdk", "/usr/bin/env", "node",
	              "/usr/local/bin/cdk", "synth");
	CHECK_NOMATCH("/usr/bin/env", "/usr/local/bin/cdk", "/usr/bin/env", "node",
	              "/usr/local/bin/cdk", "ls");
	/* generic names without the tool's vocabulary */
	CHECK_NOMATCH("/usr/bin/escape", "escape", "escape", "--help");
	CHECK_NOMATCH("/app/main", "/app/main", "/app/main", "-port", "8080");
	CHECK_NOMATCH("/usr/bin/stratus", "stratus", "stratus", "serve");
}

TEST(negative_common_programs)
{
	CHECK_NOMATCH("/usr/bin/ls", "/bin/ls", "ls", "-la");
	CHECK_NOMATCH("/usr/bin/dash", "/bin/sh", "sh", "-c", "echo deepce.sh");
	CHECK_NOMATCH("/usr/bin/bash", "/bin/bash", "bash", "-ec", "deepce.sh");
	CHECK_NOMATCH("/usr/bin/bash", "/bin/bash", "bash", "-s", "deepce.sh");
	CHECK_NOMATCH("/usr/bin/dash", "/bin/sh", "sh", "-", "deepce.sh");
	CHECK_NOMATCH("/usr/bin/python3.11", "/usr/bin/python3", "python3", "app.py");
	CHECK_NOMATCH("/usr/bin/python3.11", "/usr/bin/python3", "python3", "-c",
	              "import kube_hunter", "deepce.sh");
	CHECK_NOMATCH("/usr/bin/perl", "/usr/bin/perl", "perl", "-e", "print 1", "deepce.sh");
	CHECK_NOMATCH("/usr/bin/grep", "grep", "grep", "deepce", "/var/log/x");
	/* a tool name as a plain argument to an ordinary program */
	CHECK_NOMATCH("/usr/bin/cat", "cat", "cat", "/tmp/botb-linux-amd64");
	CHECK_NOMATCH("/usr/bin/curl", "curl", "curl", "-o", "deepce.sh", "https://example");
	/* runc's own re-executions */
	CHECK_NOMATCH("/usr/sbin/runc", "/proc/self/exe", "runc", "init");
	CHECK_NOMATCH("/usr/sbin/runc", "/dev/fd/5", "runc:[2:INIT]");
}

TEST(negative_busybox_applets)
{
	static const char *const applets[] = {"ls",   "ps",       "sh",      "wget",
	                                      "nc",   "mount",    "cat",     "vi",
	                                      "find", "ifconfig", "netstat", "busybox"};

	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
		char fname[64];

		snprintf(fname, sizeof(fname), "/bin/%s", applets[i]);
		CHECK_NOMATCH("/bin/busybox", fname, applets[i]);
		CHECK_NOMATCH("/bin/busybox", fname, applets[i], "-l");
		CHECK_NOMATCH("/bin/busybox", "/bin/busybox", "busybox", applets[i]);
	}
	CHECK_NOMATCH("/bin/busybox", "/bin/sh", "sh", "-c", "deepce.sh");
	/* the applet name is held to the same rules as any name */
	CHECK_NOMATCH("/bin/busybox", "/tmp/cdk", "cdk", "deploy");
	CHECK_NOMATCH("/bin/busybox", "/tmp/botb", "ls");
	/* ... but an applet name that is a tool name counts */
	CHECK_STR(match("/bin/busybox", "/tmp/botb", "botb", NULL), "botb");
	CHECK_STR(det.detail, "basename=\"botb\" multicall=\"busybox\"");
}

TEST(edge_cases)
{
	struct cw_detection d = {0};

	/* execve with an empty argv */
	fx_mkexec(&ex, "/tmp/botb", "/tmp/botb", NULL);
	CHECK_INT(cw_catalogue_match(embedded(), &ex, &d), 1);
	CHECK_STR(d.tool_id, "botb");
	cw_detection_clear(&d);
	fx_mkexec(&ex, "/usr/local/bin/cdk", "cdk", NULL);
	CHECK_INT(cw_catalogue_match(embedded(), &ex, &d), 0);
	/* nothing known at all */
	fx_mkexec(&ex, "", "", NULL);
	CHECK_INT(cw_catalogue_match(embedded(), &ex, &d), 0);
	/* path missing: the filename stands in */
	fx_mkexec(&ex, "", "/tmp/peirates", "x", NULL);
	CHECK_INT(cw_catalogue_match(embedded(), &ex, &d), 1);
	CHECK_STR(d.tool_id, "peirates");
	cw_detection_clear(&d);
	/* interpreter with nothing after its options */
	CHECK_NOMATCH("/usr/bin/bash", "/bin/bash", "bash", "-o");
	CHECK_NOMATCH("/usr/bin/python3", "python3", "python3", "-m");
	CHECK_NOMATCH("/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2", "ld.so");

	/* arguments are bounded in detail, quotes escaped */
	{
		char longarg[600];

		memset(longarg, 'A', sizeof(longarg) - 1);
		longarg[sizeof(longarg) - 1] = '\0';
		memcpy(longarg, "k8s.", 4);
		fx_mkexec(&ex, "/usr/bin/stratus", "stratus", "stratus", "detonate", longarg,
		          longarg, longarg, "k8s.\"q\"", NULL);
		CHECK_INT(cw_catalogue_match(embedded(), &ex, &d), 1);
		CHECK(strlen(d.detail) < sizeof(d.detail));
		CHECK(strncmp(d.detail, "basename=\"stratus\" args=\"detonate k8s.AAA", 41) == 0);
		CHECK(d.detail[strlen(d.detail) - 1] == '"');
		CHECK(strstr(d.detail, "...") != NULL);
		cw_detection_clear(&d);
		fx_mkexec(&ex, "/tmp/bo\"tb", "x", "botb", "-autopwn", NULL);
		CHECK_INT(cw_catalogue_match(embedded(), &ex, &d), 0);
		fx_mkexec(&ex, "/tmp/botb-\"x\n", "x", "x", "-autopwn", NULL);
		CHECK_INT(cw_catalogue_match(embedded(), &ex, &d), 1);
		CHECK_STR(d.detail, "basename=\"botb-\\\"x\\x0a\" args=\"-autopwn\"");
		cw_detection_clear(&d);
	}
	/* many short tokens fill the detail buffer: cut cleanly, quote closed */
	{
		static char many[200][8];

		memset(&ex, 0, sizeof(ex));
		cw_strlcpy(ex.path, "/usr/bin/stratus", sizeof(ex.path));
		ex.argv[ex.argc++] = (char *)"stratus";
		ex.argv[ex.argc++] = (char *)"detonate";
		for (int i = 0; i < 200; i++) {
			snprintf(many[i], sizeof(many[i]), "k8s.%d", i);
			ex.argv[ex.argc++] = many[i];
		}
		ex.argv[ex.argc] = NULL;
		CHECK_INT(cw_catalogue_match(embedded(), &ex, &d), 1);
		CHECK(strlen(d.detail) > 400 && strlen(d.detail) < sizeof(d.detail));
		CHECK(strcmp(d.detail + strlen(d.detail) - 4, "...\"") == 0);
		cw_detection_clear(&d);
	}

	CHECK_INT(cw_catalogue_match(NULL, &ex, &d), -EINVAL);
	CHECK_INT(cw_catalogue_match(embedded(), NULL, &d), -EINVAL);
	CHECK_INT(cw_catalogue_match(embedded(), &ex, NULL), -EINVAL);
	cw_detection_clear(NULL);
}

static const struct cw_test tests[] = {
    {"embedded_loads", embedded_loads},
    {"every_tool_recognised_by_its_own_globs", every_tool_recognised_by_its_own_globs},
    {"category_mapping", category_mapping},
    {"content_and_hash_keys", content_and_hash_keys},
    {"positive_botb", positive_botb},
    {"positive_cdk", positive_cdk},
    {"inline_program_text", inline_program_text},
    {"positive_deepce_scripts", positive_deepce_scripts},
    {"positive_python_module_and_script", positive_python_module_and_script},
    {"positive_ldso", positive_ldso},
    {"positive_k8s_tools", positive_k8s_tools},
    {"positive_ctrsploit_and_others", positive_ctrsploit_and_others},
    {"negative_aws_cdk_and_node", negative_aws_cdk_and_node},
    {"negative_common_programs", negative_common_programs},
    {"negative_busybox_applets", negative_busybox_applets},
    {"edge_cases", edge_cases},
};

CW_TEST_MAIN(tests)