/* test_exec_rules.c - the technique rules judged at exec time: where the
 * program came from (memfd, /dev/shm; added or modified since the start),
 * who is on its stdio and who its parent is, encoded arguments; and the ones
 * that look past the command line:
 * the environment a program was started with (kind exec_env: Polkit
 * CVE-2021-4034, Program Run with Disallowed HTTP Proxy Env) and how an exec
 * record's env section is decoded; the first bytes sent on a new connection
 * (first_send: Stratum); files mapped as code (library_provenance). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "exec.h"
#include "finding.h"
#include "technique.h"

static struct cw_technique_rules *rules(void)
{
	struct cw_technique_rules *r = NULL;

	if (cw_technique_rules_load_default(&r))
		abort();
	return r;
}

/* An exec of argv (argc of them) with environment env (envc strings). */
static void exec_of(struct cw_exec *ex, char **argv, int argc, char **env, int envc)
{
	memset(ex, 0, sizeof(*ex));
	for (int i = 0; i < argc; i++)
		ex->argv[i] = argv[i];
	ex->argc = argc;
	for (int i = 0; i < envc; i++)
		ex->envp[i] = env[i];
	ex->envc = envc;
}

/* A rules document of one category and one rule {"id":"a","category":"c",
 * "title":"t", fields}, into buf. */
static const char *one_rule(char *buf, size_t n, const char *fields)
{
	snprintf(buf, n,
	         "{\"schema\":1,\"categories\":{\"c\":{\"category\":\"C\",\"module\":\"M\","
	         "\"severity\":\"LOW\",\"primaryTactic\":\"EXECUTION\",\"primaryTechniques\":"
	         "[\"UNIX_SHELL\"],\"description\":\"d\",\"nextSteps\":\"n\"}},"
	         "\"runtime_comms\":[],\"usermode_helpers\":[],\"rules\":[{\"id\":\"a\","
	         "\"category\":\"c\",\"title\":\"t\",%s}]}",
	         fields);
	return buf;
}

/* Load a document of one rule of kind exec_env (unless fields name another
 * kind first); the load's result. */
static int load(const char *fields)
{
	struct cw_technique_rules *r = NULL;
	char doc[2048], kinded[900];
	const char *text;

	snprintf(kinded, sizeof(kinded), "%s%s",
	         strncmp(fields, "\"kind\"", 6) ? "\"kind\":\"exec_env\"," : "", fields);
	text = one_rule(doc, sizeof(doc), kinded);
	int err = cw_technique_rules_load(&r, text, strlen(text), "test");

	cw_technique_rules_free(r);
	return err;
}

TEST(polkit)
{
	struct cw_technique_rules *r = rules();
	struct cw_exec_facts pk = {.name = "pkexec"}, other = {.name = "env"};
	char *empty[] = {""}, *args[] = {"pkexec", "/bin/id"};
	char *pwn[] = {"PATH=GCONV_PATH=.", "CHARSET=PWNKIT", "SHELL=pwnkit"};
	char *gconv[] = {"HOME=/root", "GCONV_PATH=/tmp/x"}, *plain[] = {"PATH=/bin", "LANG=C"};
	struct cw_detection d = {0};
	struct cw_exec ex;

	exec_of(&ex, empty, 1, pwn, 3); /* the exploit on 5.18+: argv[0] is "" */
	CHECK_INT(cw_technique_exec_env(r, &pk, &ex, &d), 1);
	CHECK_STR(d.rule_id, "technique.polkit.cve_2021_4034");
	CHECK_STR(d.cat->module, "POLKIT_LOCAL_PRIVILEGE_ESCALATION_VULNERABILITY");
	CHECK_STR(d.cat->severity, "CRITICAL");
	CHECK_INT(json_array_size(json_object_get(d.extra, "Environment_Variables")), 1);
	CHECK_STR(
	    json_string_value(json_array_get(json_object_get(d.extra, "Environment_Variables"), 0)),
	    "PATH=GCONV_PATH=.");
	CHECK(strstr(d.detail, "no arguments") != NULL);
	cw_detection_clear(&d);
	exec_of(&ex, empty, 0, plain, 2); /* argc 0 (kernels before 5.18), no GCONV_PATH */
	CHECK_INT(cw_technique_exec_env(r, &pk, &ex, NULL), 1);
	exec_of(&ex, args, 2, gconv, 2);
	CHECK_INT(cw_technique_exec_env(r, &pk, &ex, &d), 1);
	CHECK_INT(json_integer_value(json_object_get(d.extra, "Argument_Count")), 2);
	cw_detection_clear(&d);
	exec_of(&ex, args, 2, plain, 2);
	CHECK_INT(cw_technique_exec_env(r, &pk, &ex, NULL), 0); /* pkexec used as meant */
	exec_of(&ex, empty, 1, pwn, 3);
	CHECK_INT(cw_technique_exec_env(r, &other, &ex, NULL), 0); /* not pkexec */
	CHECK(cw_technique_name_relevant(r, "pkexec"));            /* never known clean */
	cw_technique_rules_free(r);
}

TEST(proxy_off_by_default_and_allowed)
{
	struct cw_technique_rules *r = rules();
	struct cw_exec_facts curl = {.name = "curl"};
	char *args[] = {"curl", "x"};
	char *env[] = {"PATH=/bin", "https_proxy=http://bob:pw@10.1.2.3:3128/", "no_proxy=x"};
	char *ok[] = {"HTTP_PROXY=http://proxy.corp:3128"};
	const char *names[4];
	struct cw_detection d = {0};
	struct cw_exec ex;
	bool any = true;

	exec_of(&ex, args, 2, env, 3);
	CHECK_INT(cw_technique_exec_env(r, &curl, &ex, NULL), 0); /* default_off */
	CHECK_INT(cw_technique_env_names(r, names, 4, &any), 1);
	CHECK_STR(names[0], "pkexec");
	CHECK(!any); /* no in-kernel scan while the rule is off */
	CHECK_INT(cw_technique_enable(r, "technique.proxy_env.*"), 0);
	CHECK_INT(cw_technique_env_names(r, names, 4, &any), 1);
	CHECK(any);
	CHECK_INT(cw_technique_exec_env(r, &curl, &ex, &d), 1);
	CHECK_STR(d.cat->module, "PROGRAM_RUN_WITH_DISALLOWED_HTTP_PROXY_ENV");
	CHECK_STR(
	    json_string_value(json_array_get(json_object_get(d.extra, "Environment_Variables"), 0)),
	    "https_proxy=http://***@10.1.2.3:3128/");
	cw_detection_clear(&d);
	cw_technique_rules_free(r);
	/* a rule listing the node's own proxy as allowed */
	{
		char doc[1024];
		struct cw_technique_rules *a = NULL;

		one_rule(doc, sizeof(doc),
		         "\"kind\":\"exec_env\",\"env\":[\"HTTP_PROXY=*\"],\"env_allowed\":[\"HTTP_"
		         "PROXY=http://"
		         "proxy.corp:*\"]");
		CHECK_INT(cw_technique_rules_load(&a, doc, strlen(doc), "test"), 0);
		exec_of(&ex, args, 2, ok, 1);
		CHECK_INT(cw_technique_exec_env(a, &curl, &ex, NULL), 0);
		ok[0] = "HTTP_PROXY=http://evil.example:8080";
		exec_of(&ex, args, 2, ok, 1);
		CHECK_INT(cw_technique_exec_env(a, &curl, &ex, NULL), 1);
		cw_technique_rules_free(a);
	}
}

TEST(rules_refused)
{
	CHECK_INT(load("\"names\":[\"x\"]"), -EINVAL);          /* no env */
	CHECK_INT(load("\"env\":[\"LD_PRELOAD=*\"]"), -EINVAL); /* any program: */
	CHECK_INT(load("\"env\":[\"*_proxy=*\"]"), -EINVAL);    /* proxy names only, */
	CHECK_INT(load("\"env\":[\"proxy=*\"]"), -EINVAL);      /* written out */
	CHECK_INT(load("\"env\":[\"https_proxy=*\"],\"empty_argv\":true"), -EINVAL);
	CHECK_INT(load("\"env\":[\"My_Proxy=*\"]"), 0);
	CHECK_INT(load("\"names\":[\"x\"],\"env\":[\"LD_PRELOAD=*\"]"), 0);
}

TEST(redact)
{
	char out[128];

	cw_env_redact("http_proxy=http://u:p@h:1/", out, sizeof(out));
	CHECK_STR(out, "http_proxy=http://***@h:1/");
	cw_env_redact("http_proxy=http://h:1/a@b", out, sizeof(out)); /* @ in the path */
	CHECK_STR(out, "http_proxy=http://h:1/a@b");
	cw_env_redact("GCONV_PATH=.", out, sizeof(out));
	CHECK_STR(out, "GCONV_PATH=.");
}

/* The record's env section: whole strings only, a cut first or last one left out. */
TEST(decode_env)
{
	static struct cw_exec ex;
	static char buf[sizeof(struct cw_event)];
	struct cw_event *ev = (struct cw_event *)buf;
	const char env[] = "TH=/bin\0https_proxy=http://h:1\0LAN";

	memset(buf, 0, sizeof(buf));
	ev->type = CW_EV_EXEC;
	ev->fname_len = 1;
	ev->data[0] = 'x';
	ev->argv_len = 2;
	memcpy(ev->data + 1, "a", 2);
	memcpy(ev->data + 3, env, sizeof(env) - 1);
	ev->env_len = sizeof(env) - 1;
	ev->flags = CW_F_ENV | CW_F_ENV_MID | CW_F_ENV_TRUNC;
	CHECK_INT(cw_exec_decode(buf, offsetof(struct cw_event, data) + 3 + ev->env_len, &ex), 0);
	CHECK_INT(ex.envc, 1);
	CHECK_STR(ex.envp[0], "https_proxy=http://h:1");
	ev->flags = CW_F_ENV;
	CHECK_INT(cw_exec_decode(buf, offsetof(struct cw_event, data) + 3 + ev->env_len, &ex), 0);
	CHECK_INT(ex.envc, 3);
	CHECK_STR(ex.envp[0], "TH=/bin");
	ev->flags = 0; /* no section: nothing, whatever env_len says */
	CHECK_INT(cw_exec_decode(buf, offsetof(struct cw_event, data) + 3, &ex), 0);
	CHECK_INT(ex.envc, 0);
	ev->flags = CW_F_ENV; /* a section longer than the record */
	CHECK_INT(cw_exec_decode(buf, offsetof(struct cw_event, data) + 3 + 4, &ex), -EINVAL);
	ev->env_len = CW_ENV_MAX + 1;
	CHECK_INT(cw_exec_decode(buf, sizeof(buf), &ex), -EINVAL);
}

/* A sensor record from a container task (mount namespace 777). */
static struct cw_tq_event tq_rec(uint32_t sys)
{
	struct cw_tq_event e;

	memset(&e, 0, sizeof(e));
	e.sys = sys;
	e.flags = CW_TQF_EXITED;
	e.pid = e.tgid = 999999;
	e.mntns = 777;
	e.pidns = 778;
	snprintf(e.comm, sizeof(e.comm), "xmrig");
	snprintf(e.exe, sizeof(e.exe), "xmrig");
	return e;
}

static int eval(const struct cw_technique_rules *r, const struct cw_tq_event *e,
                struct cw_technique_hit *h)
{
	struct cw_technique_env env;

	if (cw_technique_env_init(&env, "/proc"))
		return -1;
	return cw_technique_eval(r, &env, e, sizeof(*e), h);
}

TEST(stratum)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_hit h = {0};
	struct cw_tq_event e = tq_rec(CW_TQS_WRITE);
	const uint8_t addr[4] = {198, 51, 100, 9};

	e.arg[0] = 2; /* AF_INET */
	e.arg[2] = 3333;
	memcpy(e.data + 4, addr, 4);
	snprintf(e.s1, sizeof(e.s1), "%s",
	         "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cpuminer\"]}\n");
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.det.rule_id, "technique.stratum.first_message");
	CHECK_STR(h.det.cat->module, "SUSPICIOUS_CRYPTO_MINING_ACTIVITY_USING_STRATUM_PROTOCOL");
	CHECK_STR(h.socket, "198.51.100.9:3333");
	CHECK_STR(json_string_value(json_object_get(h.det.extra, "Payload")), e.s1);
	cw_technique_hit_clear(&h);
	e.sys = CW_TQS_SENDMSG;
	snprintf(
	    e.s1, sizeof(e.s1), "%s",
	    "{\"method\": \"login\", \"params\": {\"login\": \"4A\", \"agent\": \"XMRig/6\"}}");
	CHECK_INT(eval(r, &e, &h), 1);
	cw_technique_hit_clear(&h);
	snprintf(e.s1, sizeof(e.s1), "%s", "{\"method\":\"login\",\"params\":{\"user\":\"a\"}}");
	CHECK_INT(eval(r, &e, &h), 0); /* a login without a miner's agent */
	snprintf(e.s1, sizeof(e.s1), "%s", "POST /mining.subscribe HTTP/1.1");
	CHECK_INT(eval(r, &e, &h), 0); /* not JSON-RPC */
	CHECK_INT(load("\"kind\":\"first_send\""), -EINVAL);
	cw_technique_rules_free(r);
}

TEST(library)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_hit h = {0};
	struct cw_tq_event e = tq_rec(CW_TQS_MMAP);
	struct cw_detection d = {0};
	const char *basis = NULL;

	memcpy(e.s1, "libx.so\0tmp\0", 13); /* leaf first */
	e.s1_len = 13;
	e.flags |= CW_TQF_OVL | CW_TQF_UPPER;
	CHECK_INT(cw_technique_lib_prov(e.flags, &basis), CW_PROV_ADDED);
	CHECK_INT(eval(r, &e, &h), 1); /* tentatively the malicious rule: the agent decides */
	CHECK_STR(h.det.rule_id, "technique.library.added_malicious");
	CHECK_STR(h.file, "/tmp/libx.so");
	CHECK_INT(h.prov, CW_PROV_ADDED);
	cw_technique_hit_clear(&h);
	CHECK_INT(cw_technique_lib_prov(CW_TQF_OVL | CW_TQF_UPPER | CW_TQF_LOWER, &basis),
	          CW_PROV_MODIFIED);
	CHECK_INT(cw_technique_lib_prov(CW_TQF_OVL, &basis), CW_PROV_IMAGE);
	CHECK_INT(cw_technique_lib_prov(CW_TQF_CHANGED, &basis), CW_PROV_ADDED | CW_PROV_MODIFIED);
	/* the agent's two questions: malicious, then the plain rule (off by default) */
	CHECK_INT(cw_technique_library(r, CW_PROV_MODIFIED, true, basis, &d), 1);
	CHECK_STR(d.cat->module, "MODIFIED_MALICIOUS_LIBRARY_LOADED");
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_library(r, CW_PROV_ADDED, false, basis, NULL), 0);
	CHECK_INT(cw_technique_enable(r, "technique.library.added"), 0);
	CHECK_INT(cw_technique_library(r, CW_PROV_ADDED | CW_PROV_MODIFIED, false, basis, &d), 1);
	CHECK_STR(d.cat->module, "ADDED_LIBRARY_LOADED");
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_library(r, CW_PROV_IMAGE, false, basis, NULL), 0);
	CHECK_INT(load("\"kind\":\"library_provenance\""), -EINVAL); /* no provenance */
	cw_technique_rules_free(r);
}

/* Exec-time rules: where the program came from. */
TEST(exec_from)
{
	struct cw_technique_rules *r = rules(), *bad = NULL;
	struct cw_detection d = {0};
	char doc[1024];
	const char *no_prefix = one_rule(doc, sizeof(doc), "\"kind\":\"exec_from\"");

	CHECK_INT(cw_technique_exec_from(r, "/memfd:loader (deleted)", &d), 1);
	CHECK_STR(d.rule_id, "technique.fileless.memfd");
	CHECK_STR(d.cat->severity, "HIGH");
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_exec_from(r, "/dev/shm/stage", &d), 1);
	CHECK_STR(d.rule_id, "technique.fileless.dev_shm");
	CHECK_STR(d.cat->module, "FILELESS_EXECUTION_DETECTION_SHM");
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_exec_from(r, "/dev/shm/stage", NULL), 1);
	CHECK_INT(cw_technique_exec_from(r, "/dev/shmx/stage", &d), 0);
	CHECK_INT(cw_technique_exec_from(r, "/tmp/memfd:x", &d), 0);
	CHECK_INT(cw_technique_exec_from(NULL, "/dev/shm/x", &d), 0);
	CHECK_INT(cw_technique_rules_load(&bad, no_prefix, strlen(no_prefix), "test"), -EINVAL);
	cw_technique_rules_free(r);
}

/* Exec-time rules: who is on the other end (stdio sockets) and the parent. */
TEST(exec_stdio)
{
	struct cw_technique_rules *r = rules(), *bad = NULL;
	struct cw_detection d = {0};
	struct cw_exec_facts sh_sock = {
	    .name = "sh", .parent = "nc", .stdio = CW_STDIO_STDIN, .peer = "198.51.100.7:4444"};
	struct cw_exec_facts id_out = {.name = "id", .parent = "sh", .stdio = CW_STDIO_STDOUT};
	struct cw_exec_facts under_socat = {.name = "bash", .parent = "socat"};
	struct cw_exec_facts under_nginx = {.name = "sh", .parent = "nginx"};
	struct cw_exec_facts plain = {.name = "sh", .parent = "bash"};
	struct cw_exec_facts nginx_ls = {.name = "ls", .parent = "nginx"};
	char doc[1024];
	const char *parents_only =
	    one_rule(doc, sizeof(doc), "\"kind\":\"exec_stdio\",\"parents\":[\"x\"]");

	CHECK_INT(cw_technique_exec_stdio(r, &sh_sock, &d), 1);
	CHECK_STR(d.rule_id, "technique.reverse_shell.stdin_socket");
	CHECK_STR(d.cat->severity, "CRITICAL");
	CHECK_STR(d.cat->module, "REVERSE_SHELL");
	CHECK(strstr(d.detail, "198.51.100.7:4444") != NULL);
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_exec_stdio(r, &id_out, &d), 1);
	CHECK_STR(d.rule_id, "technique.remote_command.socket_stdio");
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_exec_stdio(r, &under_socat, &d), 1);
	CHECK_STR(d.cat->module, "SOCAT_REVERSE_SHELL_DETECTED");
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_exec_stdio(r, &under_nginx, &d), 1);
	CHECK_STR(d.rule_id, "technique.child_shell.server");
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_exec_stdio(r, &plain, &d), 0);
	CHECK_INT(cw_technique_exec_stdio(r, &nginx_ls, NULL), 0);
	CHECK_INT(cw_technique_exec_stdio(NULL, &sh_sock, NULL), 0);
	/* arguments: a base64 ELF for any program, encoded scripts for shells and python */
	{
		char *elf[] = {"printf", "f0VMRgIBAQAAAAAAAAAAAAIAPgAB", NULL};
		char *shs[] = {"sh", "-c", "echo aWQ= | base64 -d | sh", NULL};
		char *ssh[] = {"sh", "-c", "cat k | base64 -d | ssh host", NULL};
		char *py[] = {"python3", "-c", "import base64;exec(base64.b64decode('eA=='))",
		              NULL};
		struct cw_exec_facts fp = {.name = "printf"}, fs = {.name = "sh"},
		                     fy = {.name = "python3"};

		CHECK_INT(cw_technique_exec_argv(r, &fp, elf, 2, &d), 1);
		CHECK_STR(d.cat->module, "BASE64_ELF_FILE_CMDLINE");
		cw_detection_clear(&d);
		CHECK_INT(cw_technique_exec_argv(r, &fs, shs, 3, &d), 1);
		CHECK_STR(d.rule_id, "technique.base64.shell");
		cw_detection_clear(&d);
		CHECK_INT(cw_technique_exec_argv(r, &fs, ssh, 3, NULL), 0); /* ssh is no shell */
		CHECK_INT(cw_technique_exec_argv(r, &fy, py, 3, &d), 1);
		CHECK_STR(d.cat->module, "BASE64_ENCODED_PYTHON_SCRIPT_EXECUTED");
		cw_detection_clear(&d);
		CHECK_INT(cw_technique_exec_argv(r, &fp, shs, 3, NULL), 0); /* printf: no rule */
		CHECK_INT(cw_technique_exec_argv(r, &fy, elf, 1, NULL),
		          0); /* argv[0] is not looked at */
		CHECK(cw_technique_name_relevant(r, "python3"));
		CHECK(!cw_technique_name_relevant(r, "printf")); /* long argv reaches us instead */
	}
	/* shells must reach user space whatever their descriptors; other names not */
	CHECK(cw_technique_name_relevant(r, "bash"));
	CHECK(!cw_technique_name_relevant(r, "ls"));
	/* a parent rule naming no program would keep every exec from the kernel's shortcut */
	CHECK_INT(cw_technique_rules_load(&bad, parents_only, strlen(parents_only), "test"),
	          -EINVAL);
	cw_technique_rules_free(r);
}

/* Exec-time rules on where the file came from: a malicious added or modified
 * file gets its own category, a clean one Added Binary Executed, the image's
 * nothing; a rule without provenance is refused. */
TEST(exec_provenance)
{
	struct cw_technique_rules *r = rules(), *bad = NULL;
	struct cw_detection d = {0};
	char doc[1024];

	CHECK(cw_technique_has_provenance(r));
	CHECK_INT(cw_technique_exec_provenance(r, CW_PROV_ADDED, true, "overlayfs", &d), 1);
	CHECK_STR(d.cat->module, "ADDED_MALICIOUS_BINARY_EXECUTED");
	CHECK_STR(d.cat->severity, "CRITICAL");
	CHECK_STR(json_string_value(json_object_get(d.extra, "Binary_Provenance")), "added");
	CHECK(strstr(d.detail, "overlayfs") != NULL);
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_exec_provenance(r, CW_PROV_MODIFIED, true, "b", &d), 1);
	CHECK_STR(d.cat->module, "MODIFIED_MALICIOUS_BINARY_EXECUTED");
	cw_detection_clear(&d);
	/* Added Binary Executed is off until asked for, as in GKE */
	CHECK_INT(cw_technique_exec_provenance(r, CW_PROV_ADDED, false, "b", NULL), 0);
	CHECK_INT(cw_technique_enable(r, "technique.nonesuch"), -EINVAL);
	CHECK_INT(cw_technique_enable(r, "technique.fileless.memfd,technique.provenance.add*"), 0);
	CHECK_INT(cw_technique_exec_provenance(r, CW_PROV_ADDED, false, "b", &d), 1);
	CHECK_STR(d.cat->category, "Added Binary Executed");
	CHECK_STR(d.cat->severity, "LOW");
	cw_detection_clear(&d);
	CHECK_INT(cw_technique_exec_provenance(r, CW_PROV_MODIFIED, false, "b", &d), 1);
	CHECK_STR(d.rule_id, "technique.provenance.added");
	cw_detection_clear(&d);
	/* changed, which way unknown: the malicious rule for added comes first */
	CHECK_INT(cw_technique_exec_provenance(r, CW_PROV_ADDED | CW_PROV_MODIFIED, true, "b", &d),
	          1);
	CHECK_STR(d.rule_id, "technique.provenance.added_malicious");
	CHECK_STR(json_string_value(json_object_get(d.extra, "Binary_Provenance")),
	          "added or modified");
	cw_detection_clear(&d);
	/* the image's programs, malicious or not, and unknown provenance: no rule */
	CHECK_INT(cw_technique_exec_provenance(r, CW_PROV_IMAGE, true, "b", &d), 0);
	CHECK_INT(cw_technique_exec_provenance(r, CW_PROV_IMAGE, false, "b", NULL), 0);
	CHECK_INT(cw_technique_exec_provenance(r, 0, true, "b", NULL), 0);
	CHECK_INT(cw_technique_exec_provenance(NULL, CW_PROV_ADDED, true, "b", NULL), 0);
	CHECK_STR(cw_provenance_name(CW_PROV_IMAGE), "image");
	CHECK_STR(cw_provenance_name(0), "unknown");
	one_rule(doc, sizeof(doc), "\"kind\":\"exec_provenance\"");
	CHECK_INT(cw_technique_rules_load(&bad, doc, strlen(doc), "test"), -EINVAL);
	one_rule(doc, sizeof(doc), "\"kind\":\"exec_provenance\",\"provenance\":[\"lower\"]");
	CHECK_INT(cw_technique_rules_load(&bad, doc, strlen(doc), "test"), -EINVAL);
	one_rule(doc, sizeof(doc),
	         "\"kind\":\"exec_provenance\",\"provenance\":[\"image\"],\"malicious\":true");
	CHECK_INT(cw_technique_rules_load(&bad, doc, strlen(doc), "test"), 0);
	CHECK(cw_technique_has_provenance(bad));
	CHECK_INT(cw_technique_exec_provenance(bad, CW_PROV_IMAGE, true, "b", NULL), 1);
	cw_technique_rules_free(bad);
	cw_technique_rules_free(r);
}

static const struct cw_test tests[] = {
    {"exec_from", exec_from},
    {"exec_stdio", exec_stdio},
    {"exec_provenance", exec_provenance},
    {"stratum", stratum},
    {"library", library},
    {"polkit", polkit},
    {"proxy_off_by_default_and_allowed", proxy_off_by_default_and_allowed},
    {"rules_refused", rules_refused},
    {"redact", redact},
    {"decode_env", decode_env},
};
CW_TEST_MAIN(tests)
