/* technique_rules.c - the technique rules (rules/techniques.json, embedded
 * in embed.S) and known-benign exceptions: parsing, checks, lookups. */
#include "technique.h"
#include "technique_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfload.h"
#include "finding.h"
#include "rulefile.h"
#include "technique.skel.h"
#include "util.h"

#define EMBEDDED_ORIGIN "rules/techniques.json (embedded)"
#define NSFS_MAGIC      0x6e736673u

/* ------------------------------------------------------------------------ */
/* Filesystems by name */

static const struct {
	const char *name;
	uint32_t magic;
} fs_names[] = {
    {"cgroup", 0x27e0eb},
    {"cgroup2", 0x63677270},
    {"proc", 0x9fa0},
    {"sysfs", 0x62656572},
    {"binfmt_misc", 0x42494e4d},
    {"debugfs", 0x64626720},
    {"tracefs", 0x74726163},
    {"securityfs", 0x73636673},
    {"tmpfs", 0x01021994},
    {"overlay", 0x794c7630},
    {"ext4", 0xef53},
    {"xfs", 0x58465342},
    {"btrfs", 0x9123683e},
    {"nsfs", NSFS_MAGIC},
    {"pidfs", 0x50494446},
    {"bpf", 0xcafe4a11},
    {"devpts", 0x1cd1},
    {"mqueue", 0x19800202},
    {"squashfs", 0x73717368},
    {"fuse", 0x65735546},
    {"nfs", 0x6969},
};

const char *tq_fs_name(uint32_t magic)
{
	for (size_t i = 0; i < sizeof(fs_names) / sizeof(fs_names[0]); i++)
		if (fs_names[i].magic == magic)
			return fs_names[i].name;
	return NULL;
}

static int fs_magic(const char *name, uint32_t *out)
{
	for (size_t i = 0; i < sizeof(fs_names) / sizeof(fs_names[0]); i++)
		if (!strcmp(fs_names[i].name, name)) {
			*out = fs_names[i].magic;
			return 0;
		}
	return -ENOENT;
}

/* ------------------------------------------------------------------------ */
/* Rules */

static const char *const kind_names[] = {
    [RK_WRITE_OPEN] = "write_open",
    [RK_PROC_EXE_WRITE] = "proc_exe_write",
    [RK_BLOCK_OPEN] = "block_device_open",
    [RK_MOUNT] = "mount",
    [RK_MOUNT_BLOCK] = "mount_block_device",
    [RK_MKNOD_BLOCK] = "mknod_block",
    [RK_SETNS] = "setns_outside",
    [RK_MODULE] = "module_load",
    [RK_CONNECT_UNIX] = "connect_unix",
    [RK_CONNECT_TCP] = "connect_tcp",
    [RK_PTRACE] = "ptrace_outside",
    [RK_VM_WRITEV] = "vm_writev_outside",
    [RK_CHDIR_PROC_FD] = "chdir_proc_fd",
    [RK_FCHDIR] = "fchdir_foreign",
    [RK_OPEN_BY_HANDLE] = "open_by_handle",
    [RK_UMH] = "usermode_helper",
    [RK_AGENT_SIGNAL] = "agent_signal",
    [RK_AGENT_TRACE] = "agent_trace",
    [RK_AGENT_BPF] = "agent_bpf",
    [RK_EXEC_FROM] = "exec_from",
    [RK_EXEC_STDIO] = "exec_stdio",
    [RK_EXEC_ARGV] = "exec_argv",
    [RK_EXEC_PROV] = "exec_provenance",
    [RK_EXEC_ENV] = "exec_env",
    [RK_FIRST_SEND] = "first_send",
    [RK_LIB_PROV] = "library_provenance",
};
#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

/* "stdio": ["stdin", "stdout"]: which descriptors may be the network socket. */
static int parse_stdio(const struct cw_rule_ctx *l, json_t *o, struct rule *ru)
{
	json_t *a = NULL, *v;
	size_t i;
	int err;

	ru->stdio = 0;
	if ((err = cw_rule_str_array(l, o, "stdio", false, &a)) || !a)
		return err;
	json_array_foreach(a, i, v)
	{
		if (!strcmp(json_string_value(v), "stdin"))
			ru->stdio |= CW_STDIO_STDIN;
		else if (!strcmp(json_string_value(v), "stdout"))
			ru->stdio |= CW_STDIO_STDOUT;
		else
			return cw_rule_fail(
			    l, "rule %s: stdio[%zu] must be \"stdin\" or \"stdout\"", ru->id, i);
	}
	return 0;
}
/* "provenance": ["image", "added", "modified"]: where the file may come from. */
static int parse_provenance(const struct cw_rule_ctx *l, json_t *o, struct rule *ru)
{
	static const char *const names[] = {"image", "added", "modified"};
	json_t *a = NULL, *v;
	size_t i, k;
	int err;

	ru->prov = 0;
	if ((err = cw_rule_str_array(l, o, "provenance", false, &a)) || !a)
		return err;
	json_array_foreach(a, i, v)
	{
		for (k = 0; k < 3 && strcmp(json_string_value(v), names[k]); k++)
			;
		if (k == 3)
			return cw_rule_fail(
			    l,
			    "rule %s: provenance[%zu] must be \"image\", \"added\" or \"modified\"",
			    ru->id, i);
		ru->prov |= (uint8_t)(1u << k);
	}
	return 0;
}

/* "ports": up to 16 TCP ports. */
static int parse_ports(const struct cw_rule_ctx *l, json_t *o, struct rule *ru)
{
	json_t *ports = json_object_get(o, "ports"), *v;
	size_t i;

	if (!ports)
		return 0;
	if (!json_is_array(ports) || json_array_size(ports) > 16)
		return cw_rule_fail(l, "rule %s: \"ports\" must be an array of at most 16 ports",
		                    ru->id);
	json_array_foreach(ports, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535)
			return cw_rule_fail(l, "rule %s: ports[%zu] must be 1..65535", ru->id, i);
		ru->ports[ru->n_ports++] = (uint16_t)json_integer_value(v);
	}
	return 0;
}

static int check_needs(const struct cw_rule_ctx *l, const struct rule *ru);

static int parse_rule(const struct cw_rule_ctx *l, struct cw_technique_rules *r, json_t *o,
                      struct rule *ru)
{
	static const char *const keys[] = {
	    "id",           "category",      "kind",      "title",       "names",   "prefixes",
	    "fs_types",     "fs_unknown_ok", "ports",     "stdio",       "parents", "argv",
	    "skip_runtime", "provenance",    "malicious", "default_off", "env",     "env_allowed",
	    "empty_argv",   "payload",       NULL};
	const char *cat, *kind;
	json_t *v = NULL;
	size_t i;
	int err;

	if (!json_is_object(o))
		return cw_rule_fail(l, "must be an object");
	if ((err = cw_rule_check_keys(l, o, keys)) ||
	    (err = cw_rule_str(l, o, "id", true, &ru->id)) ||
	    (err = cw_rule_str(l, o, "category", true, &cat)) ||
	    (err = cw_rule_str(l, o, "kind", true, &kind)) ||
	    (err = cw_rule_str(l, o, "title", true, &ru->title)) ||
	    (err = cw_rule_str_array(l, o, "names", false, &ru->names)) ||
	    (err = cw_rule_str_array(l, o, "prefixes", false, &ru->prefixes)) ||
	    (err = cw_rule_str_array(l, o, "fs_types", false, &ru->fs_types)) ||
	    (err = cw_rule_str_array(l, o, "parents", false, &ru->parents)) ||
	    (err = cw_rule_str_array(l, o, "argv", false, &ru->argv)) ||
	    (err = cw_rule_str_array(l, o, "env", false, &ru->env)) ||
	    (err = cw_rule_str_array(l, o, "env_allowed", false, &ru->env_ok)) ||
	    (err = cw_rule_bool(l, o, "empty_argv", &ru->empty_argv)) ||
	    (err = cw_rule_str_array(l, o, "payload", false, &ru->payload)) ||
	    (err = parse_stdio(l, o, ru)) || (err = parse_provenance(l, o, ru)) ||
	    (err = cw_rule_bool(l, o, "malicious", &ru->malicious)) ||
	    (err = cw_rule_bool(l, o, "default_off", &ru->off)) ||
	    (err = cw_rule_bool(l, o, "fs_unknown_ok", &ru->fs_unknown_ok)) ||
	    (err = cw_rule_bool(l, o, "skip_runtime", &ru->skip_runtime)))
		return err;
	ru->cat = cw_technique_category(r, cat);
	if (!ru->cat)
		return cw_rule_fail(l, "rule %s: unknown category \"%s\"", ru->id, cat);
	for (i = 0; i < N_KINDS; i++)
		if (!strcmp(kind_names[i], kind))
			break;
	if (i == N_KINDS)
		return cw_rule_fail(l, "rule %s: unknown kind \"%s\"", ru->id, kind);
	ru->kind = (enum rule_kind)i;
	if ((ru->kind == RK_WRITE_OPEN || ru->kind == RK_CONNECT_UNIX ||
	     ru->kind == RK_PROC_EXE_WRITE) &&
	    (!ru->names || !json_array_size(ru->names)))
		return cw_rule_fail(l, "rule %s: kind %s needs \"names\"", ru->id, kind);
	if ((ru->kind == RK_WRITE_OPEN || ru->kind == RK_MOUNT) &&
	    (!ru->fs_types || !json_array_size(ru->fs_types)))
		return cw_rule_fail(l, "rule %s: kind %s needs \"fs_types\"", ru->id, kind);
	if (ru->names)
		json_array_foreach(ru->names, i, v)
		{
			if (ru->kind == RK_WRITE_OPEN &&
			    (strchr(json_string_value(v), '/') ||
			     json_string_length(v) > CW_TQ_NAME_HASH_MAX))
				return cw_rule_fail(
				    l,
				    "rule %s: name \"%s\" must be a basename of at most %d bytes",
				    ru->id, json_string_value(v), CW_TQ_NAME_HASH_MAX);
		}
	if (ru->fs_types && ru->kind != RK_MOUNT) {
		if (json_array_size(ru->fs_types) > 16)
			return cw_rule_fail(l, "rule %s: at most 16 fs_types", ru->id);
		json_array_foreach(ru->fs_types, i, v)
		{
			if (fs_magic(json_string_value(v), &ru->fs_magic[ru->n_magic++]))
				return cw_rule_fail(l, "rule %s: unknown filesystem \"%s\"", ru->id,
				                    json_string_value(v));
		}
	}
	if ((err = parse_ports(l, o, ru)))
		return err;
	return check_needs(l, ru);
}

/* Does glob name a variable whose name ends in "_proxy" (any case), with no
 * wildcard before its '='? The kernel sends a program's environment when no
 * rule names the program only for such variables (env.bpf.h). */
static bool proxy_glob(const char *glob)
{
	const char *eq = strchr(glob, '=');
	size_t n = eq ? (size_t)(eq - glob) : 0;

	return n > 6 && strcspn(glob, "*?[\\") > n && !strncasecmp(eq - 6, "_proxy", 6);
}

/* exec_env: globs on the environment; without names, proxy variables only. */
static int check_env(const struct cw_rule_ctx *l, const struct rule *ru)
{
	size_t i;
	json_t *v;

	if (!ru->env || !json_array_size(ru->env))
		return cw_rule_fail(l, "rule %s: kind exec_env needs \"env\"", ru->id);
	if (ru->names && json_array_size(ru->names))
		return 0;
	if (ru->empty_argv)
		return cw_rule_fail(l, "rule %s: \"empty_argv\" needs \"names\"", ru->id);
	json_array_foreach(ru->env, i, v)
	{
		if (!proxy_glob(json_string_value(v)))
			return cw_rule_fail(
			    l,
			    "rule %s: env[%zu] \"%s\": a rule without \"names\" can only look "
			    "at variables named *_proxy (written out before the '=', no "
			    "wildcard): the kernel sends only those execs",
			    ru->id, i, json_string_value(v));
	}
	return 0;
}

/* What each kind cannot do without. */
static int check_needs(const struct cw_rule_ctx *l, const struct rule *ru)
{
	if (ru->kind == RK_EXEC_ENV)
		return check_env(l, ru);
	if (ru->kind == RK_FIRST_SEND && (!ru->payload || !json_array_size(ru->payload)))
		return cw_rule_fail(l, "rule %s: kind first_send needs \"payload\"", ru->id);
	if (ru->kind == RK_EXEC_FROM && (!ru->prefixes || !json_array_size(ru->prefixes)))
		return cw_rule_fail(l, "rule %s: kind exec_from needs \"prefixes\"", ru->id);
	if (ru->kind == RK_EXEC_STDIO && !ru->stdio &&
	    (!ru->parents || !json_array_size(ru->parents) || !ru->names ||
	     !json_array_size(ru->names)))
		return cw_rule_fail(
		    l,
		    "rule %s: kind exec_stdio needs \"stdio\", or \"parents\" and "
		    "\"names\" (the kernel drops known-clean programs' execs unless "
		    "a rule names them)",
		    ru->id);
	if (ru->kind == RK_EXEC_ARGV && (!ru->argv || !json_array_size(ru->argv)))
		return cw_rule_fail(l, "rule %s: kind exec_argv needs \"argv\"", ru->id);
	if ((ru->kind == RK_EXEC_PROV || ru->kind == RK_LIB_PROV) && !ru->prov)
		return cw_rule_fail(l, "rule %s: kind %s needs \"provenance\"", ru->id,
		                    kind_names[ru->kind]);
	if (ru->kind == RK_CONNECT_TCP && !ru->n_ports)
		return cw_rule_fail(l, "rule %s: kind connect_tcp needs \"ports\"", ru->id);
	return 0;
}

void cw_technique_rules_free(struct cw_technique_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_cats; i++)
		cw_category_clear(&r->cats[i]);
	free(r->cats);
	free(r->rules);
	free(r->exc);
	json_decref(r->exc_docs);
	json_decref(r->doc);
	free(r);
}

const struct cw_category *cw_technique_category(const struct cw_technique_rules *r, const char *id)
{
	for (size_t i = 0; r && id && i < r->n_cats; i++)
		if (r->cats[i].id && !strcmp(r->cats[i].id, id))
			return &r->cats[i];
	return NULL;
}

bool tq_rules_have(const struct cw_technique_rules *r, enum rule_kind kind)
{
	for (size_t i = 0; r && i < r->n_rules; i++)
		if (r->rules[i].kind == kind && !r->rules[i].off)
			return true;
	return false;
}

size_t cw_technique_rule_count(const struct cw_technique_rules *r)
{
	return r ? r->n_rules : 0;
}

static int parse_categories(struct cw_rule_ctx *l, struct cw_technique_rules *r)
{
	json_t *cats = json_object_get(r->doc, "categories"), *v;
	const char *k;
	int err;

	if (!json_is_object(cats) || !json_object_size(cats))
		return cw_rule_fail(l, "\"categories\" must be a non-empty object");
	r->cats = calloc(json_object_size(cats), sizeof(*r->cats));
	if (!r->cats)
		return -ENOMEM;
	json_object_foreach(cats, k, v)
	{
		err = cw_category_parse(l->origin, k, v, &r->cats[r->n_cats]);
		r->n_cats++;
		if (err)
			return err;
	}
	return 0;
}

static int parse_rules(struct cw_rule_ctx *l, struct cw_technique_rules *r)
{
	json_t *rules = json_object_get(r->doc, "rules"), *v;
	size_t i;
	int err;

	if (!json_is_array(rules) || !json_array_size(rules)) {
		l->where[0] = 0;
		return cw_rule_fail(l, "\"rules\" must be a non-empty array");
	}
	r->rules = calloc(json_array_size(rules), sizeof(*r->rules));
	if (!r->rules)
		return -ENOMEM;
	json_array_foreach(rules, i, v)
	{
		snprintf(l->where, sizeof(l->where), "rules[%zu]", i);
		if ((err = parse_rule(l, r, v, &r->rules[i])))
			return err;
		for (size_t j = 0; j < i; j++)
			if (r->rules[j].id && r->rules[i].id &&
			    !strcmp(r->rules[j].id, r->rules[i].id))
				return cw_rule_fail(l, "duplicate rule id \"%s\"", r->rules[i].id);
		r->n_rules++;
	}
	return 0;
}

/* The document's top level: keys, schema, the runtime and helper lists. */
static int parse_top(struct cw_rule_ctx *l, struct cw_technique_rules *r)
{
	static const char *const keys[] = {"schema",           "categories", "runtime_comms",
	                                   "usermode_helpers", "rules",      NULL};
	json_t *schema;
	int err;

	if (!json_is_object(r->doc))
		return cw_rule_fail(l, "the document must be an object");
	if ((err = cw_rule_check_keys(l, r->doc, keys)))
		return err;
	schema = json_object_get(r->doc, "schema");
	if (!json_is_integer(schema) || json_integer_value(schema) != 1)
		return cw_rule_fail(l, "\"schema\" must be 1");
	if ((err = cw_rule_str_array(l, r->doc, "runtime_comms", false, &r->runtime_comms)))
		return err;
	return cw_rule_str_array(l, r->doc, "usermode_helpers", false, &r->helpers);
}

int cw_technique_rules_load(struct cw_technique_rules **out, const char *text, size_t len,
                            const char *origin)
{
	struct cw_rule_ctx l = {.origin = origin ? origin : "techniques"};
	struct cw_technique_rules *r;
	json_error_t jerr;
	int err;

	if (!out || !text)
		return -EINVAL;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!r->doc) {
		cw_err("%s: line %d: %s", l.origin, jerr.line, jerr.text);
		err = -EINVAL;
	} else if (!(err = parse_top(&l, r)) && !(err = parse_categories(&l, r)) &&
	           !(err = parse_rules(&l, r)) && !(r->exc_docs = json_array())) {
		err = -ENOMEM;
	}
	if (err) {
		cw_technique_rules_free(r);
		return err;
	}
	*out = r;
	return 0;
}

int cw_technique_rules_load_default(struct cw_technique_rules **out)
{
	return cw_technique_rules_load(out, cw_embedded_techniques, cw_embedded_techniques_len,
	                               EMBEDDED_ORIGIN);
}

/* ------------------------------------------------------------------------ */
/* Exceptions */

static bool glob_any(const json_t *globs, const char *s)
{
	size_t i;
	json_t *v;

	if (!globs || !s || !*s)
		return false;
	json_array_foreach(globs, i, v)
	{
		if (fnmatch(json_string_value(v), s, 0) == 0)
			return true;
	}
	return false;
}

static bool is_catch_all(const char *g)
{
	return strspn(g, "*?") == strlen(g);
}

/* Each rule pattern must name known rules and not all of them. */
static int check_rule_patterns(struct cw_rule_ctx *l, const struct cw_technique_rules *r,
                               json_t *rules)
{
	size_t j;
	json_t *v;

	if (!json_array_size(rules))
		return cw_rule_fail(l, "\"rules\" must name at least one rule");
	json_array_foreach(rules, j, v)
	{
		const char *g = json_string_value(v);
		bool known = false;

		if (is_catch_all(g))
			return cw_rule_fail(l,
			                    "rule pattern \"%s\" would turn every detection off; "
			                    "name the rules",
			                    g);
		for (size_t k = 0; k < r->n_rules; k++)
			if (fnmatch(g, r->rules[k].id, 0) == 0)
				known = true;
		/* tool rules (tool.<id>.<layer>) are the catalogue's: named per tool */
		if (!strncmp(g, "tool.", 5) && g[5] && !strchr("*?[", g[5]))
			known = true;
		if (!known)
			return cw_rule_fail(l, "rule pattern \"%s\" matches no rule", g);
	}
	return 0;
}

/* Image and name globs: at least one, none matching every container. */
static int check_container_patterns(struct cw_rule_ctx *l, json_t *images, json_t *names)
{
	size_t j;
	json_t *v;

	if ((!images || !json_array_size(images)) && (!names || !json_array_size(names)))
		return cw_rule_fail(l, "an exception needs \"images\" or \"names\": there is no "
		                       "global off switch");
	for (int pass = 0; pass < 2; pass++) {
		json_t *a = pass ? names : images;

		if (!a)
			continue;
		json_array_foreach(a, j, v)
		{
			if (is_catch_all(json_string_value(v)))
				return cw_rule_fail(l, "pattern \"%s\" matches every container",
				                    json_string_value(v));
		}
	}
	return 0;
}

/* One exceptions[] entry, validated. */
static int check_exception(struct cw_rule_ctx *l, const struct cw_technique_rules *r, json_t *e)
{
	static const char *const keys[] = {"rules", "images", "names", "comment", NULL};
	json_t *rules, *images, *names;
	const char *comment;
	int err;

	if (!json_is_object(e))
		return cw_rule_fail(l, "must be an object");
	if ((err = cw_rule_check_keys(l, e, keys)) ||
	    (err = cw_rule_str_array(l, e, "rules", true, &rules)) ||
	    (err = cw_rule_str_array(l, e, "images", false, &images)) ||
	    (err = cw_rule_str_array(l, e, "names", false, &names)) ||
	    (err = cw_rule_str(l, e, "comment", false, &comment)))
		return err;
	if ((err = check_rule_patterns(l, r, rules)))
		return err;
	return check_container_patterns(l, images, names);
}

/* Append the (validated) entries of arr; doc keeps their strings alive. */
static int add_exceptions(struct cw_technique_rules *r, json_t *doc, json_t *arr)
{
	size_t i, n_new = json_array_size(arr);
	struct exception *grown;
	json_t *e;

	if (!n_new)
		return 0;
	grown = realloc(r->exc, (r->n_exc + n_new) * sizeof(*r->exc));
	if (!grown)
		return -ENOMEM;
	r->exc = grown;
	if (json_array_append(r->exc_docs, doc))
		return -ENOMEM;
	json_array_foreach(arr, i, e)
	{
		struct exception *x = &r->exc[r->n_exc++];
		json_t *c = json_object_get(e, "comment");

		x->rules = json_object_get(e, "rules");
		x->images = json_object_get(e, "images");
		x->names = json_object_get(e, "names");
		x->comment = c ? json_string_value(c) : "";
	}
	return 0;
}

int cw_technique_exceptions_load(struct cw_technique_rules *r, const char *text, size_t len,
                                 const char *origin)
{
	static const char *const top[] = {"exceptions", NULL};
	struct cw_rule_ctx l = {.origin = origin ? origin : "exceptions"};
	json_error_t jerr;
	json_t *doc, *arr, *e;
	size_t i;
	int err = 0;

	if (!r || !text)
		return -EINVAL;
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		cw_err("%s: line %d: %s", l.origin, jerr.line, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(doc) || (err = cw_rule_check_keys(&l, doc, top))) {
		err = err ? err
		          : cw_rule_fail(&l,
		                         "the document must be an object {\"exceptions\": [...]}");
		goto out;
	}
	arr = json_object_get(doc, "exceptions");
	if (!json_is_array(arr)) {
		err = cw_rule_fail(&l, "\"exceptions\" must be an array");
		goto out;
	}
	/* Validate everything before adding anything. */
	json_array_foreach(arr, i, e)
	{
		snprintf(l.where, sizeof(l.where), "exceptions[%zu]", i);
		if ((err = check_exception(&l, r, e)))
			goto out;
	}
	err = add_exceptions(r, doc, arr);
out:
	json_decref(doc);
	return err;
}

int cw_technique_enable(struct cw_technique_rules *r, const char *list)
{
	char buf[1024], *save = NULL, *g;

	if (!r || !list)
		return -EINVAL;
	if (strlen(list) >= sizeof(buf)) {
		cw_err("--enable-rules: the list is longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	cw_strlcpy(buf, list, sizeof(buf));
	for (g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		size_t n = 0;

		for (size_t i = 0; i < r->n_rules; i++)
			if (!fnmatch(g, r->rules[i].id, 0)) {
				r->rules[i].off = false;
				n++;
			}
		if (!n) {
			cw_err("--enable-rules: no technique rule matches \"%s\" (the ids are in "
			       "docs/techniques.md)",
			       g);
			return -EINVAL;
		}
	}
	return 0;
}

const char *cw_technique_excepted(const struct cw_technique_rules *r, const char *rule_id,
                                  const char *ctr_name, const char *ctr_image)
{
	for (size_t i = 0; r && rule_id && i < r->n_exc; i++) {
		const struct exception *x = &r->exc[i];

		if (!glob_any(x->rules, rule_id))
			continue;
		if (glob_any(x->images, ctr_image) || glob_any(x->names, ctr_name))
			return x->comment;
	}
	return NULL;
}
