/* test_exec_rules.c - the technique rules that look past the command line:
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

static const char *one_rule(char *buf, size_t n, const char *fields)
{
	snprintf(buf, n,
	         "{\"schema\":1,\"categories\":{\"c\":{\"category\":\"C\",\"module\":\"M\","
	         "\"severity\":\"LOW\",\"primaryTactic\":\"EXECUTION\",\"primaryTechniques\":"
	         "[\"PROXY\"],\"description\":\"d\",\"nextSteps\":\"n\"}},"
	         "\"runtime_comms\":[],\"usermode_helpers\":[],\"rules\":[{\"id\":\"a\","
	         "\"category\":\"c\",\"title\":\"t\",\"kind\":\"exec_env\",%s}]}",
	         fields);
	return buf;
}

static int load(const char *fields)
{
	struct cw_technique_rules *r = NULL;
	char doc[1024];
	const char *text = one_rule(doc, sizeof(doc), fields);
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
		         "\"env\":[\"HTTP_PROXY=*\"],\"env_allowed\":[\"HTTP_PROXY=http://"
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

static const struct cw_test tests[] = {
    {"stratum", stratum},
    {"library", library},
    {"polkit", polkit},
    {"proxy_off_by_default_and_allowed", proxy_off_by_default_and_allowed},
    {"rules_refused", rules_refused},
    {"redact", redact},
    {"decode_env", decode_env},
};
CW_TEST_MAIN(tests)
