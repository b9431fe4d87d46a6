/* technique.c - escape-technique detection: rules (rules/techniques.json,
 * embedded below), known-benign exceptions, evaluation of the technique
 * sensor's records into hits, their evidence as JSON, and the loader/reader of
 * the BPF sensor (src/bpf/technique.bpf.c).
 *
 * Files are matched by basename and filesystem type, never by full path: the
 * filesystem comes from the fd the kernel returned, or, when the open failed,
 * from statfs through /proc/PID/root (or cwd, or the dirfd).
 */
#include "technique.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

__asm__(".section .rodata\n"
        ".global cw_embedded_techniques\n"
        ".global cw_embedded_techniques_len\n"
        ".balign 16\n"
        "cw_embedded_techniques:\n"
        ".incbin \"rules/techniques.json\"\n"
        "cw_embedded_techniques_end:\n"
        ".byte 0\n"
        ".balign 4\n"
        "cw_embedded_techniques_len:\n"
        ".int cw_embedded_techniques_end - cw_embedded_techniques\n"
        ".previous\n");

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

static const char *fs_name(uint32_t magic)
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

enum rule_kind {
	RK_WRITE_OPEN,
	RK_PROC_EXE_WRITE,
	RK_BLOCK_OPEN,
	RK_MOUNT,
	RK_MOUNT_BLOCK,
	RK_MKNOD_BLOCK,
	RK_SETNS,
	RK_MODULE,
	RK_CONNECT_UNIX,
	RK_CONNECT_TCP,
	RK_PTRACE,
	RK_VM_WRITEV,
	RK_CHDIR_PROC_FD,
	RK_FCHDIR,
	RK_OPEN_BY_HANDLE,
	RK_UMH,
	RK_AGENT_SIGNAL,
	RK_AGENT_TRACE,
	RK_AGENT_BPF,
};

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
};
#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

struct rule {
	const char *id; /* into the document */
	const char *title;
	const struct cw_category *cat;
	enum rule_kind kind;
	json_t *names;    /* array of strings, may be NULL */
	json_t *prefixes; /* array of strings, may be NULL */
	json_t *fs_types; /* array of strings, may be NULL */
	uint32_t fs_magic[16];
	size_t n_magic;
	uint16_t ports[16];
	size_t n_ports;
	bool fs_unknown_ok;
	bool skip_runtime;
};

struct exception {
	json_t *rules, *images, *names; /* arrays of globs */
	const char *comment;
};

struct cw_technique_rules {
	json_t *doc;
	struct cw_category *cats;
	size_t n_cats;
	struct rule *rules;
	size_t n_rules;
	json_t *runtime_comms;
	json_t *helpers;
	json_t *exc_docs; /* array of loaded exception documents (keeps strings alive) */
	struct exception *exc;
	size_t n_exc;
};

static int parse_rule(const struct cw_rule_ctx *l, struct cw_technique_rules *r, json_t *o,
                      struct rule *ru)
{
	static const char *const keys[] = {"id",    "category",     "kind",     "title",
	                                   "names", "prefixes",     "fs_types", "fs_unknown_ok",
	                                   "ports", "skip_runtime", NULL};
	const char *cat, *kind;
	json_t *ports, *v;
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
	ports = json_object_get(o, "ports");
	if (ports) {
		if (!json_is_array(ports) || json_array_size(ports) > 16)
			return cw_rule_fail(
			    l, "rule %s: \"ports\" must be an array of at most 16 ports", ru->id);
		json_array_foreach(ports, i, v)
		{
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 65535)
				return cw_rule_fail(l, "rule %s: ports[%zu] must be 1..65535",
				                    ru->id, i);
			ru->ports[ru->n_ports++] = (uint16_t)json_integer_value(v);
		}
	}
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
		if (!strcmp(r->cats[i].id, id))
			return &r->cats[i];
	return NULL;
}

size_t cw_technique_rule_count(const struct cw_technique_rules *r)
{
	return r ? r->n_rules : 0;
}

int cw_technique_rules_load(struct cw_technique_rules **out, const char *text, size_t len,
                            const char *origin)
{
	static const char *const keys[] = {"schema",           "categories", "runtime_comms",
	                                   "usermode_helpers", "rules",      NULL};
	struct cw_rule_ctx l = {.origin = origin ? origin : "techniques"};
	struct cw_technique_rules *r;
	json_error_t jerr;
	json_t *cats, *rules, *v, *schema;
	const char *k;
	size_t i;
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
		goto fail;
	}
	if (!json_is_object(r->doc)) {
		err = cw_rule_fail(&l, "the document must be an object");
		goto fail;
	}
	if ((err = cw_rule_check_keys(&l, r->doc, keys)))
		goto fail;
	schema = json_object_get(r->doc, "schema");
	if (!json_is_integer(schema) || json_integer_value(schema) != 1) {
		err = cw_rule_fail(&l, "\"schema\" must be 1");
		goto fail;
	}
	if ((err = cw_rule_str_array(&l, r->doc, "runtime_comms", false, &r->runtime_comms)) ||
	    (err = cw_rule_str_array(&l, r->doc, "usermode_helpers", false, &r->helpers)))
		goto fail;
	cats = json_object_get(r->doc, "categories");
	if (!json_is_object(cats) || !json_object_size(cats)) {
		err = cw_rule_fail(&l, "\"categories\" must be a non-empty object");
		goto fail;
	}
	r->cats = calloc(json_object_size(cats), sizeof(*r->cats));
	if (!r->cats) {
		err = -ENOMEM;
		goto fail;
	}
	json_object_foreach(cats, k, v)
	{
		err = cw_category_parse(l.origin, k, v, &r->cats[r->n_cats]);
		r->n_cats++;
		if (err)
			goto fail;
	}
	rules = json_object_get(r->doc, "rules");
	if (!json_is_array(rules) || !json_array_size(rules)) {
		l.where[0] = 0;
		err = cw_rule_fail(&l, "\"rules\" must be a non-empty array");
		goto fail;
	}
	r->rules = calloc(json_array_size(rules), sizeof(*r->rules));
	if (!r->rules) {
		err = -ENOMEM;
		goto fail;
	}
	json_array_foreach(rules, i, v)
	{
		snprintf(l.where, sizeof(l.where), "rules[%zu]", i);
		if ((err = parse_rule(&l, r, v, &r->rules[i])))
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r->rules[j].id, r->rules[i].id)) {
				err = cw_rule_fail(&l, "duplicate rule id \"%s\"", r->rules[i].id);
				goto fail;
			}
		r->n_rules++;
	}
	r->exc_docs = json_array();
	if (!r->exc_docs) {
		err = -ENOMEM;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	cw_technique_rules_free(r);
	return err;
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

int cw_technique_exceptions_load(struct cw_technique_rules *r, const char *text, size_t len,
                                 const char *origin)
{
	static const char *const top[] = {"exceptions", NULL};
	static const char *const keys[] = {"rules", "images", "names", "comment", NULL};
	struct cw_rule_ctx l = {.origin = origin ? origin : "exceptions"};
	struct exception *grown = NULL;
	json_error_t jerr;
	json_t *doc, *arr, *e, *v;
	size_t i, j, n_new;
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
	n_new = json_array_size(arr);
	/* Validate everything before adding anything. */
	json_array_foreach(arr, i, e)
	{
		json_t *rules, *images, *names;
		const char *comment;

		snprintf(l.where, sizeof(l.where), "exceptions[%zu]", i);
		if (!json_is_object(e)) {
			err = cw_rule_fail(&l, "must be an object");
			goto out;
		}
		if ((err = cw_rule_check_keys(&l, e, keys)) ||
		    (err = cw_rule_str_array(&l, e, "rules", true, &rules)) ||
		    (err = cw_rule_str_array(&l, e, "images", false, &images)) ||
		    (err = cw_rule_str_array(&l, e, "names", false, &names)) ||
		    (err = cw_rule_str(&l, e, "comment", false, &comment)))
			goto out;
		if (!json_array_size(rules)) {
			err = cw_rule_fail(&l, "\"rules\" must name at least one rule");
			goto out;
		}
		json_array_foreach(rules, j, v)
		{
			const char *g = json_string_value(v);
			bool known = false;

			if (is_catch_all(g)) {
				err = cw_rule_fail(
				    &l,
				    "rule pattern \"%s\" would turn every detection off; "
				    "name the rules",
				    g);
				goto out;
			}
			for (size_t k = 0; k < r->n_rules; k++)
				if (fnmatch(g, r->rules[k].id, 0) == 0)
					known = true;
			if (!known) {
				err = cw_rule_fail(&l, "rule pattern \"%s\" matches no rule", g);
				goto out;
			}
		}
		if ((!images || !json_array_size(images)) && (!names || !json_array_size(names))) {
			err = cw_rule_fail(
			    &l, "an exception needs \"images\" or \"names\": there is no "
			        "global off switch");
			goto out;
		}
		for (int pass = 0; pass < 2; pass++) {
			json_t *a = pass ? names : images;

			if (!a)
				continue;
			json_array_foreach(a, j, v)
			{
				if (is_catch_all(json_string_value(v))) {
					err = cw_rule_fail(&l,
					                   "pattern \"%s\" matches every container",
					                   json_string_value(v));
					goto out;
				}
			}
		}
	}
	if (!n_new)
		goto out;
	grown = realloc(r->exc, (r->n_exc + n_new) * sizeof(*r->exc));
	if (!grown) {
		err = -ENOMEM;
		goto out;
	}
	r->exc = grown;
	if (json_array_append(r->exc_docs, doc)) {
		err = -ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, e)
	{
		struct exception *x = &r->exc[r->n_exc++];
		json_t *c = json_object_get(e, "comment");

		x->rules = json_object_get(e, "rules");
		x->images = json_object_get(e, "images");
		x->names = json_object_get(e, "names");
		x->comment = c ? json_string_value(c) : "";
	}
out:
	json_decref(doc);
	return err;
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

/* ------------------------------------------------------------------------ */
/* Environment: host namespaces, /proc lookups */

static const char *const ns_names[CW_NS_COUNT] = {"mnt", "pid", "net",    "user",
                                                  "uts", "ipc", "cgroup", "time"};

int cw_technique_env_init(struct cw_technique_env *env, const char *proc_root)
{
	if (!env)
		return -EINVAL;
	memset(env, 0, sizeof(*env));
	env->proc_root = proc_root ? proc_root : "/proc";
	for (int t = 0; t < CW_NS_COUNT; t++)
		env->host_ns[t] = cw_proc_ns(env->proc_root, 1, ns_names[t]);
	if (!env->host_ns[CW_NS_MNT] || !env->host_ns[CW_NS_PID]) {
		/* PID 1 unreadable (a sandbox): take our own namespaces as the host's,
		 * as container attribution does. */
		char path[4200];

		env->own_ns_as_host = true;
		for (int t = 0; t < CW_NS_COUNT; t++) {
			snprintf(path, sizeof(path), "%s/self/ns/%s", env->proc_root, ns_names[t]);
			env->host_ns[t] = cw_ns_inode(path);
		}
	}
	if (!env->host_ns[CW_NS_MNT] || !env->host_ns[CW_NS_PID]) {
		cw_err("cannot read the host's namespaces from %s/1/ns: run as root in the host's "
		       "pid namespace",
		       env->proc_root);
		return -ENOENT;
	}
	return 0;
}

/* A live process to look through: the caller itself if it is still in the
 * same mount namespace, else any process of that namespace (the container's
 * init), since short-lived callers are often gone by the time a record is read.
 * Returns 0 when there is none. */
static uint32_t view_pid(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns)
{
	struct dirent *d;
	uint32_t found = 0;
	DIR *dir;

	if (!mntns || cw_proc_ns(env->proc_root, (int)tgid, "mnt") == mntns)
		return tgid;
	dir = opendir(env->proc_root);
	if (!dir)
		return 0;
	while (!found && (d = readdir(dir))) {
		uint32_t pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (uint32_t)strtoul(d->d_name, NULL, 10);
		if (cw_proc_ns(env->proc_root, (int)pid, "mnt") == mntns)
			found = pid;
	}
	closedir(dir);
	return found;
}

/* A path as the process sees it, reached from here: absolute paths through
 * /proc/PID/root, relative ones through its cwd or the dirfd (only while the
 * caller lives). Returns -ENOENT when there is no way to reach it. */
static int proc_path(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns, long dirfd,
                     const char *p, char *out, size_t outsz)
{
	uint32_t pid = view_pid(env, tgid, mntns);

	if (!pid || (p[0] != '/' && pid != tgid))
		return -ENOENT;
	if (p[0] == '/')
		snprintf(out, outsz, "%s/%u/root%s", env->proc_root, pid, p);
	else if (dirfd == -100 /* AT_FDCWD */)
		snprintf(out, outsz, "%s/%u/cwd/%s", env->proc_root, pid, p);
	else
		snprintf(out, outsz, "%s/%u/fd/%ld/%s", env->proc_root, pid, dirfd, p);
	return 0;
}

/* Filesystem magic of a path the process named, or of its directory when the
 * path does not exist. Returns 0 when neither can be learned. */
static uint32_t path_fs(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns,
                        long dirfd, const char *p, bool parent)
{
	char full[4200], *slash;
	struct statfs sf;

	if (!*p || proc_path(env, tgid, mntns, dirfd, p, full, sizeof(full)))
		return 0;
	if (!parent && statfs(full, &sf) == 0)
		return (uint32_t)sf.f_type;
	slash = strrchr(full, '/');
	if (!slash)
		return 0;
	*slash = 0;
	if (statfs(full, &sf) == 0)
		return (uint32_t)sf.f_type;
	return 0;
}

static bool path_is_block(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns,
                          long dirfd, const char *p)
{
	char full[4200];
	struct stat st;

	if (proc_path(env, tgid, mntns, dirfd, p, full, sizeof(full)))
		return false;
	return stat(full, &st) == 0 && S_ISBLK(st.st_mode);
}

/* Host disk-like device names, for when the node cannot be stat'ed. */
static bool looks_like_disk(const char *src)
{
	static const char *const pre[] = {"/dev/sd",      "/dev/vd",   "/dev/xvd",    "/dev/hd",
	                                  "/dev/nvme",    "/dev/dm-",  "/dev/mmcblk", "/dev/md",
	                                  "/dev/mapper/", "/dev/loop", "UUID=",       "LABEL=",
	                                  "PARTUUID=",    NULL};

	for (size_t i = 0; pre[i]; i++)
		if (!strncmp(src, pre[i], strlen(pre[i])))
			return true;
	return false;
}

/* Host pid of a pid as seen in the caller's pid namespace, or 0. */
static int resolve_vpid(const struct cw_technique_env *env, uint32_t caller_pidns, long vpid)
{
	char path[4200], line[512];
	struct dirent *d;
	DIR *dir;
	int found = 0;

	if (vpid <= 0 || vpid > 0x7fffffff)
		return 0;
	if (caller_pidns && caller_pidns == env->host_ns[CW_NS_PID])
		return (int)vpid;
	dir = opendir(env->proc_root);
	if (!dir)
		return 0;
	while (!found && (d = readdir(dir))) {
		FILE *f;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s/ns/pid", env->proc_root, d->d_name);
		if (cw_ns_inode(path) != caller_pidns)
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", env->proc_root, d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *last;

			if (strncmp(line, "NSpid:", 6))
				continue;
			line[strcspn(line, "\n")] = 0;
			last = strrchr(line, '\t');
			if (!last)
				last = strrchr(line, ' ');
			if (last && strtol(last + 1, NULL, 10) == vpid)
				found = atoi(d->d_name);
			break;
		}
		fclose(f);
	}
	closedir(dir);
	return found;
}

/* ------------------------------------------------------------------------ */
/* Evaluation */

static const char *sys_name(uint32_t sys)
{
	static const char *const n[CW_TQS_MAX] = {
	    [CW_TQS_OPEN] = "open",
	    [CW_TQS_OPENAT] = "openat",
	    [CW_TQS_OPENAT2] = "openat2",
	    [CW_TQS_CREAT] = "creat",
	    [CW_TQS_MOUNT] = "mount",
	    [CW_TQS_FSOPEN] = "fsopen",
	    [CW_TQS_MKNOD] = "mknod",
	    [CW_TQS_MKNODAT] = "mknodat",
	    [CW_TQS_SETNS] = "setns",
	    [CW_TQS_INIT_MODULE] = "init_module",
	    [CW_TQS_FINIT_MODULE] = "finit_module",
	    [CW_TQS_CONNECT] = "connect",
	    [CW_TQS_PTRACE] = "ptrace",
	    [CW_TQS_VM_WRITEV] = "process_vm_writev",
	    [CW_TQS_CHDIR] = "chdir",
	    [CW_TQS_FCHDIR] = "fchdir",
	    [CW_TQS_OPEN_BY_HANDLE] = "open_by_handle_at",
	    [CW_TQS_KILL] = "kill",
	    [CW_TQS_TKILL] = "tkill",
	    [CW_TQS_TGKILL] = "tgkill",
	    [CW_TQS_PIDFD_SIGNAL] = "pidfd_send_signal",
	    [CW_TQS_BPF] = "bpf",
	    [CW_TQS_VM_READV] = "process_vm_readv",
	};

	return sys < CW_TQS_MAX && n[sys] ? n[sys] : "unknown";
}

static bool in_strs(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	if (!arr)
		return false;
	json_array_foreach(arr, i, v)
	{
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

static bool magic_in(const struct rule *ru, uint32_t m)
{
	for (size_t i = 0; i < ru->n_magic; i++)
		if (ru->fs_magic[i] == m)
			return true;
	return false;
}

static void copy_str(char *dst, size_t dstsz, const char *src, size_t srcmax)
{
	size_t n = strnlen(src, srcmax);

	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* "/proc/(self|thread-self|N)/fd/N..." */
static bool is_proc_fd_path(const char *p)
{
	const char *s = p + 6;

	if (strncmp(p, "/proc/", 6))
		return false;
	if (!strncmp(s, "self/", 5))
		s += 5;
	else if (!strncmp(s, "thread-self/", 12))
		s += 12;
	else {
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
		if (*s++ != '/')
			return false;
	}
	if (strncmp(s, "fd/", 3))
		return false;
	return isdigit((unsigned char)s[3]);
}

/* ".../(self|thread-self|N)/exe" or ".../N/task/N/exe" */
static bool is_proc_exe_text(const char *p)
{
	const char *b = cw_basename(p), *q;
	size_t dlen;

	if (strcmp(b, "exe") || b == p)
		return false;
	dlen = (size_t)(b - p) - 1; /* directory without the final '/' */
	q = p + dlen;
	while (q > p && q[-1] != '/')
		q--;
	if ((size_t)(p + dlen - q) == 4 && !strncmp(q, "self", 4))
		return true;
	if ((size_t)(p + dlen - q) == 11 && !strncmp(q, "thread-self", 11))
		return true;
	if (q == p + dlen)
		return false;
	for (const char *c = q; c < p + dlen; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	return true;
}

static void fs_label(uint32_t magic, char *out, size_t outsz)
{
	const char *n = magic ? fs_name(magic) : NULL;

	if (n)
		snprintf(out, outsz, "%s", n);
	else if (magic)
		snprintf(out, outsz, "0x%x", magic);
	else
		snprintf(out, outsz, "unknown");
}

/* Bounded formatting of evidence text; truncation is acceptable here. */
__attribute__((format(printf, 3, 4))) static void dfmt(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
}

/* Per-kind matchers: does the record match the rule? On a match, fill the
 * hit's evidence and `detail` (dsz bytes). Table-driven: a new kind is a new
 * function and a row in matchers[]. */
#define MATCH_ARGS                                                                                 \
	const struct cw_technique_env *env, const struct rule *ru, const struct cw_tq_event *ev,   \
	    struct cw_technique_hit *h, char *detail, size_t dsz
typedef bool (*matcher_fn)(MATCH_ARGS);

/* The open's directory fd: open/creat resolve against the cwd. */
static long open_dirfd(const struct cw_tq_event *ev)
{
	if (ev->sys == CW_TQS_OPEN || ev->sys == CW_TQS_CREAT)
		return -100;
	return (long)(int64_t)ev->arg[2];
}

static bool match_write_open(MATCH_ARGS)
{
	const char *base;
	uint32_t magic;
	long dirfd = open_dirfd(ev);

	if (ev->sys < CW_TQS_OPEN || ev->sys > CW_TQS_CREAT || !(ev->flags & CW_TQF_NAME_MATCH))
		return false;
	base = cw_basename(h->file);
	if (!in_strs(ru->names, base))
		return false;
	magic = (ev->flags & CW_TQF_FILE)
	            ? ev->f_magic
	            : path_fs(env, ev->tgid, ev->mntns, dirfd, h->file, false);
	fs_label(magic, h->fs_type, sizeof(h->fs_type));
	if (magic ? !magic_in(ru, magic) : !ru->fs_unknown_ok)
		return false;
	dfmt(detail, dsz, "file=%s fs=%s", h->file, h->fs_type);
	return true;
}

static bool match_proc_exe_write(MATCH_ARGS)
{
	const char *base;
	uint32_t magic;
	long dirfd = open_dirfd(ev);

	bool by_fs;

	if (ev->sys < CW_TQS_OPEN || ev->sys > CW_TQS_CREAT || !(ev->flags & CW_TQF_NAME_MATCH))
		return false;
	base = cw_basename(h->file);
	if (!in_strs(ru->names, base))
		return false;
	magic = path_fs(env, ev->tgid, ev->mntns, dirfd, h->file, true);
	by_fs = magic == 0x9fa0;
	if (!by_fs && !is_proc_exe_text(h->file))
		return false;
	snprintf(h->fs_type, sizeof(h->fs_type), "proc");
	dfmt(detail, dsz, "file=%s", h->file);
	return true;
}

static bool match_block_open(MATCH_ARGS)
{
	(void)ru;
	long dirfd = open_dirfd(ev);

	if (ev->sys < CW_TQS_OPEN || ev->sys > CW_TQS_CREAT || !(ev->flags & CW_TQF_DEV_PATH))
		return false;
	if ((ev->flags & CW_TQF_FILE) ? !S_ISBLK(ev->f_mode)
	                              : !path_is_block(env, ev->tgid, ev->mntns, dirfd, h->file))
		return false;
	dfmt(detail, dsz, "device=%s", h->file);
	return true;
}

static bool match_mount(MATCH_ARGS)
{
	(void)env;
	if (ev->sys != CW_TQS_MOUNT && ev->sys != CW_TQS_FSOPEN)
		return false;
	if (!h->mount_fstype[0] || !in_strs(ru->fs_types, h->mount_fstype))
		return false;
	dfmt(detail, dsz, "fstype=%s source=%s target=%s", h->mount_fstype, h->mount_source,
	     h->mount_target);
	return true;
}

static bool match_mount_block(MATCH_ARGS)
{
	(void)ru;
	if (ev->sys != CW_TQS_MOUNT || !h->mount_source[0])
		return false;
	if (!path_is_block(env, ev->tgid, ev->mntns, -100, h->mount_source) &&
	    !looks_like_disk(h->mount_source))
		return false;
	dfmt(detail, dsz, "source=%s target=%s fstype=%s", h->mount_source, h->mount_target,
	     h->mount_fstype);
	return true;
}

static bool match_mknod_block(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (ev->sys != CW_TQS_MKNOD && ev->sys != CW_TQS_MKNODAT)
		return false;
	if ((ev->arg[0] & S_IFMT) != S_IFBLK)
		return false;
	dfmt(detail, dsz, "node=%s dev=%llu:%llu", h->file,
	     (unsigned long long)((ev->arg[1] >> 8) & 0xfff),
	     (unsigned long long)((ev->arg[1] & 0xff) | ((ev->arg[1] >> 12) & 0xfff00)));
	return true;
}

static bool match_setns(MATCH_ARGS)
{
	(void)ru;
	if (ev->sys != CW_TQS_SETNS || !(ev->flags & CW_TQF_FILE))
		return false;
	if (ev->f_magic == NSFS_MAGIC) {
		for (int t = 0; t < CW_NS_COUNT; t++) {
			if (!env->host_ns[t] || env->host_ns[t] != (uint32_t)ev->f_ino)
				continue;
			if (h->ns[t] == env->host_ns[t])
				return false; /* already there: no-op */
			snprintf(h->target_ns, sizeof(h->target_ns), "%s:[%u]", ns_names[t],
			         (uint32_t)ev->f_ino);
			dfmt(detail, dsz, "target=host %s", h->target_ns);
			return true;
		}
		return false;
	}
	if (ev->target_pid) {
		uint32_t tm = cw_proc_ns(env->proc_root, (int)ev->target_pid, "mnt");

		if (!tm || tm != env->host_ns[CW_NS_MNT] || tm == h->ns[CW_NS_MNT])
			return false;
		h->target_pid = (int)ev->target_pid;
		snprintf(h->target_ns, sizeof(h->target_ns), "mnt:[%u]", tm);
		dfmt(detail, dsz, "target=pidfd pid %u (host mnt ns)", ev->target_pid);
		return true;
	}
	return false;
}

static bool match_module(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (ev->sys != CW_TQS_INIT_MODULE && ev->sys != CW_TQS_FINIT_MODULE)
		return false;
	if (ev->sys == CW_TQS_FINIT_MODULE)
		copy_str(h->module, sizeof(h->module), ev->fname, sizeof(ev->fname));
	else
		snprintf(h->module, sizeof(h->module), "(image of %llu bytes)",
		         (unsigned long long)ev->arg[0]);
	dfmt(detail, dsz, "module=%s", h->module);
	return true;
}

static bool match_connect_unix(MATCH_ARGS)
{
	(void)env;
	size_t i;
	json_t *v;
	bool hit = false;

	if (ev->sys != CW_TQS_CONNECT || ev->arg[0] != AF_UNIX)
		return false;
	if (ev->flags & CW_TQF_ABSTRACT) {
		if (ru->prefixes)
			json_array_foreach(ru->prefixes, i, v)
			{
				if (!strncmp(ev->s1, json_string_value(v), json_string_length(v)))
					hit = true;
			}
	} else {
		hit = in_strs(ru->names, cw_basename(h->socket));
	}
	if (!hit)
		return false;
	dfmt(detail, dsz, "socket=%s", h->socket);
	return true;
}

static bool match_connect_tcp(MATCH_ARGS)
{
	(void)env;
	bool hit = false;

	if (ev->sys != CW_TQS_CONNECT || (ev->arg[0] != AF_INET && ev->arg[0] != AF_INET6))
		return false;
	for (size_t i = 0; i < ru->n_ports; i++)
		if (ru->ports[i] == ev->arg[2])
			hit = true;
	if (!hit)
		return false;
	dfmt(detail, dsz, "address=%s", h->socket);
	return true;
}

static bool match_ptrace(MATCH_ARGS)
{
	int host_pid;
	uint32_t tm;

	if (ev->sys != (ru->kind == RK_PTRACE ? CW_TQS_PTRACE : CW_TQS_VM_WRITEV) ||
	    (ev->flags & CW_TQF_AGENT))
		return false;
	host_pid = resolve_vpid(env, h->ns[CW_NS_PID], (long)(int64_t)ev->arg[1]);
	/* the agent as target: the guard's own record reports it */
	if (!host_pid || (env->agent_tgid && (uint32_t)host_pid == env->agent_tgid))
		return false;
	tm = cw_proc_ns(env->proc_root, host_pid, "mnt");
	if (!tm || tm == h->ns[CW_NS_MNT])
		return false;
	h->target_pid = host_pid;
	snprintf(h->target_ns, sizeof(h->target_ns), "mnt:[%u]", tm);
	if (ru->kind == RK_PTRACE)
		dfmt(detail, dsz, "request=%llu target_pid=%d target=%s",
		     (unsigned long long)ev->arg[0], host_pid, h->target_ns);
	else
		dfmt(detail, dsz, "target_pid=%d target=%s", host_pid, h->target_ns);
	return true;
}

static bool match_chdir_proc_fd(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (ev->sys != CW_TQS_CHDIR || !is_proc_fd_path(h->file))
		return false;
	dfmt(detail, dsz, "cwd=%s", h->file);
	return true;
}

static bool match_fchdir(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (ev->sys != CW_TQS_FCHDIR || !(ev->flags & CW_TQF_FILE) || !ev->f_mntns ||
	    ev->f_mntns == h->ns[CW_NS_MNT])
		return false;
	fs_label(ev->f_magic, h->fs_type, sizeof(h->fs_type));
	dfmt(detail, dsz, "fd=%lld dir=%s fs=%s mntns=%u", (long long)ev->arg[0], h->file,
	     h->fs_type, ev->f_mntns);
	return true;
}

static bool match_open_by_handle(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	(void)h;
	if (ev->sys != CW_TQS_OPEN_BY_HANDLE)
		return false;
	dfmt(detail, dsz, "mount_fd=%lld", (long long)ev->arg[0]);
	return true;
}

static bool match_umh(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	(void)ev;
	(void)h;
	(void)detail;
	(void)dsz;
	return false;
}

/* Signal name ("SIGKILL") or its number. */
static void signal_label(uint64_t sig, char *out, size_t sz)
{
	const char *n = sig < 65 ? sigabbrev_np((int)sig) : NULL;

	if (n)
		snprintf(out, sz, "SIG%s", n);
	else
		snprintf(out, sz, "%llu", (unsigned long long)sig);
}

static bool match_agent_signal(MATCH_ARGS)
{
	char sig[24];

	(void)env;
	(void)ru;
	if (!(ev->flags & CW_TQF_AGENT) || ev->sys < CW_TQS_KILL || ev->sys > CW_TQS_PIDFD_SIGNAL)
		return false;
	signal_label(ev->arg[0], sig, sizeof(sig));
	snprintf(h->signal, sizeof(h->signal), "%s", sig);
	h->target_pid = (int)ev->target_pid;
	if (ev->sys == CW_TQS_KILL && (int64_t)ev->arg[1] == -1)
		dfmt(detail, dsz, "signal=%s to every process (the agent, pid %u, among them)", sig,
		     ev->target_pid);
	else
		dfmt(detail, dsz, "signal=%s target=agent pid %u", sig, ev->target_pid);
	return true;
}

static bool match_agent_trace(MATCH_ARGS)
{
	(void)env;
	(void)ru;
	if (!(ev->flags & CW_TQF_AGENT) ||
	    (ev->sys != CW_TQS_PTRACE && ev->sys != CW_TQS_VM_WRITEV && ev->sys != CW_TQS_VM_READV))
		return false;
	h->target_pid = (int)ev->target_pid;
	if (ev->sys == CW_TQS_PTRACE)
		dfmt(detail, dsz, "request=%llu target=agent pid %u",
		     (unsigned long long)ev->arg[0], ev->target_pid);
	else
		dfmt(detail, dsz, "target=agent pid %u", ev->target_pid);
	return true;
}

static const char *bpf_cmd_name(uint64_t cmd)
{
	switch (cmd) {
	case 13:
		return "BPF_PROG_GET_FD_BY_ID";
	case 14:
		return "BPF_MAP_GET_FD_BY_ID";
	case 29:
		return "BPF_LINK_UPDATE";
	case 30:
		return "BPF_LINK_GET_FD_BY_ID";
	case 34:
		return "BPF_LINK_DETACH";
	default:
		return "?";
	}
}

static bool match_agent_bpf(MATCH_ARGS)
{
	static const char *const kinds[] = {"object", "program", "map", "link"};

	(void)env;
	(void)ru;
	if (!(ev->flags & CW_TQF_AGENT) || ev->sys != CW_TQS_BPF)
		return false;
	h->target_pid = (int)ev->target_pid;
	dfmt(detail, dsz, "cmd=%s on the agent's %s id %llu", bpf_cmd_name(ev->arg[0]),
	     kinds[ev->arg[2] < 4 ? ev->arg[2] : 0], (unsigned long long)ev->arg[1]);
	return true;
}

static const matcher_fn matchers[] = {
    [RK_WRITE_OPEN] = match_write_open,
    [RK_PROC_EXE_WRITE] = match_proc_exe_write,
    [RK_BLOCK_OPEN] = match_block_open,
    [RK_MOUNT] = match_mount,
    [RK_MOUNT_BLOCK] = match_mount_block,
    [RK_MKNOD_BLOCK] = match_mknod_block,
    [RK_SETNS] = match_setns,
    [RK_MODULE] = match_module,
    [RK_CONNECT_UNIX] = match_connect_unix,
    [RK_CONNECT_TCP] = match_connect_tcp,
    [RK_PTRACE] = match_ptrace,
    [RK_VM_WRITEV] = match_ptrace,
    [RK_CHDIR_PROC_FD] = match_chdir_proc_fd,
    [RK_FCHDIR] = match_fchdir,
    [RK_OPEN_BY_HANDLE] = match_open_by_handle,
    [RK_UMH] = match_umh,
    [RK_AGENT_SIGNAL] = match_agent_signal,
    [RK_AGENT_TRACE] = match_agent_trace,
    [RK_AGENT_BPF] = match_agent_bpf,
};

static bool rule_matches(const struct cw_technique_env *env, const struct rule *ru,
                         const struct cw_tq_event *ev, struct cw_technique_hit *h, char *detail,
                         size_t dsz)
{
	if (ru->skip_runtime && h->runtime)
		return false;
	if ((size_t)ru->kind >= sizeof(matchers) / sizeof(matchers[0]) || !matchers[ru->kind])
		return false;
	return matchers[ru->kind](env, ru, ev, h, detail, dsz);
}

void cw_technique_hit_clear(struct cw_technique_hit *hit)
{
	if (!hit)
		return;
	cw_detection_clear(&hit->det);
	memset(hit, 0, sizeof(*hit));
}

static void hit_exe(const struct cw_technique_env *env, struct cw_technique_hit *h,
                    const char *kname)
{
	char path[4200];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/exe", env->proc_root, h->tgid);
	n = readlink(path, h->exe, sizeof(h->exe) - 1);
	if (n > 0 && !strcmp(cw_basename(h->exe), kname)) {
		h->exe[n] = 0;
		return;
	}
	/* gone, or exec'ed since: the kernel's name is the truth */
	snprintf(h->exe, sizeof(h->exe), "%s", kname);
}

/* Join leaf-first NUL-separated components into "/a/b/c". */
static void join_cgroup(const char *data, size_t len, char *out, size_t outsz)
{
	const char *comp[32];
	size_t n = 0, off = 0, o = 0;

	while (off < len && n < 32) {
		size_t l = strnlen(data + off, len - off);

		if (!l)
			break;
		comp[n++] = data + off;
		off += l + 1;
	}
	out[0] = 0;
	for (size_t i = n; i-- > 0;) {
		int w = snprintf(out + o, outsz - o, "/%s", comp[i]);

		if (w < 0 || (size_t)w >= outsz - o)
			break;
		o += (size_t)w;
	}
	if (!n)
		snprintf(out, outsz, "/");
}

static bool runtime_caller(const struct cw_technique_rules *r, const struct cw_tq_event *ev,
                           const char *comm)
{
	return (ev->flags & CW_TQF_FOREIGN_EXE) && in_strs(r->runtime_comms, comm);
}

static int eval_umh(const struct cw_technique_rules *r, const struct cw_technique_env *env,
                    const struct cw_tq_umh *u, struct cw_technique_hit *h);

/* The caller's identity from a record (shared by technique hits and stdin
 * captures). */
static void hit_caller(const struct cw_technique_env *env, const struct cw_tq_event *ev,
                       struct cw_technique_hit *h)
{
	h->ev = ev;
	h->time_ns = (int64_t)ev->ts_ns + env->boot_offset_ns;
	h->pid = ev->pid;
	h->tgid = ev->tgid;
	h->ppid = ev->ppid;
	h->uid = ev->uid;
	h->ns[CW_NS_MNT] = ev->mntns;
	h->ns[CW_NS_PID] = ev->pidns;
	h->ns[CW_NS_NET] = ev->netns;
	h->ns[CW_NS_USER] = ev->userns;
	h->ns[CW_NS_UTS] = ev->utsns;
	h->ns[CW_NS_IPC] = ev->ipcns;
	h->ns[CW_NS_CGROUP] = ev->cgroupns;
	h->cgroup_id = ev->cgroup_id;
	copy_str(h->comm, sizeof(h->comm), ev->comm, sizeof(ev->comm));
	join_cgroup(ev->cgroup, ev->cgroup_len, h->cgroup, sizeof(h->cgroup));
	memcpy(h->args, ev->args, ev->args_len);
	h->args_len = ev->args_len;
	h->args[h->args_len] = 0;
}

int cw_technique_eval(const struct cw_technique_rules *r, const struct cw_technique_env *env,
                      const void *data, size_t len, struct cw_technique_hit *h)
{
	const struct cw_tq_event *ev = data;
	char detail[sizeof(h->det.detail)];
	json_t *extra;
	int err;

	if (!r || !env || !data || !h)
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	if (len >= sizeof(uint32_t) && *(const uint32_t *)data == CW_TQ_UMH_MAGIC) {
		if (len != sizeof(struct cw_tq_umh))
			return -EINVAL;
		return eval_umh(r, env, data, h);
	}
	/* a syscall fails with -1..-4095 (MAX_ERRNO): anything lower is no kernel's */
	if (len != sizeof(*ev) || ev->sys == 0 || ev->sys >= CW_TQS_MAX ||
	    ev->cgroup_len > CW_TQ_CGROUP || ev->args_len > CW_TQ_ARGS ||
	    ((ev->flags & CW_TQF_EXITED) && ev->ret < -4095))
		return -EINVAL;
	hit_caller(env, ev, h);
	h->syscall = sys_name(ev->sys);
	h->returned = ev->flags & CW_TQF_EXITED;
	h->ret = h->returned ? (long)ev->ret : 0;
	h->failed = h->returned && ev->ret < 0;
	h->runtime = runtime_caller(r, ev, h->comm);

	switch (ev->sys) {
	case CW_TQS_MOUNT:
		copy_str(h->mount_source, sizeof(h->mount_source), ev->s1, sizeof(ev->s1));
		copy_str(h->mount_target, sizeof(h->mount_target), ev->s2, sizeof(ev->s2));
		copy_str(h->mount_options, sizeof(h->mount_options), ev->data, sizeof(ev->data));
		/* fall through */
	case CW_TQS_FSOPEN:
		copy_str(h->mount_fstype, sizeof(h->mount_fstype), ev->fstype, sizeof(ev->fstype));
		break;
	case CW_TQS_CONNECT:
		if (ev->arg[0] == AF_UNIX) {
			if (ev->flags & CW_TQF_ABSTRACT)
				snprintf(h->socket, sizeof(h->socket), "@%.*s", CW_TQ_STR, ev->s1);
			else
				copy_str(h->socket, sizeof(h->socket), ev->s1, sizeof(ev->s1));
		} else {
			char ip[INET6_ADDRSTRLEN] = "?";

			if (ev->arg[0] == AF_INET)
				inet_ntop(AF_INET, ev->data + 4, ip, sizeof(ip));
			else
				inet_ntop(AF_INET6, ev->data + 8, ip, sizeof(ip));
			snprintf(h->socket, sizeof(h->socket), "%s:%llu", ip,
			         (unsigned long long)ev->arg[2]);
		}
		break;
	case CW_TQS_SETNS:
		break; /* the nsfs file's name says nothing: Target_Namespace does */
	case CW_TQS_FCHDIR:
	case CW_TQS_FINIT_MODULE:
		copy_str(h->file, sizeof(h->file), ev->fname, sizeof(ev->fname));
		break;
	default:
		copy_str(h->file, sizeof(h->file), ev->s1, sizeof(ev->s1));
		break;
	}

	for (size_t i = 0; i < r->n_rules; i++) {
		const struct rule *ru = &r->rules[i];

		detail[0] = 0;
		if (!rule_matches(env, ru, ev, h, detail, sizeof(detail)))
			continue;
		hit_exe(env, h, ev->exe);
		h->det.cat = ru->cat;
		h->det.tool_id = ru->id;
		h->det.tool_name = ru->title;
		snprintf(h->det.rule_id, sizeof(h->det.rule_id), "%s", ru->id);
		snprintf(h->det.matched_on, sizeof(h->det.matched_on), "technique");
		snprintf(h->det.detail, sizeof(h->det.detail), "%s %s", h->syscall, detail);
		err = cw_technique_finding_extra(h, &extra);
		if (err)
			return err;
		h->det.extra = extra;
		return 1;
	}
	return 0;
}

/* Does the file live in a runc/crun container's root filesystem? Looks at the
 * runtimes' state.json (config.rootfs). Fills id with the container id. */
static bool in_container_rootfs(const char *path, char *id, size_t idsz, char *rootfs, size_t rsz)
{
	static const char *const roots[] = {"/run/runc",
	                                    "/run/crun",
	                                    "/run/containerd/runc/k8s.io",
	                                    "/run/containerd/runc/default",
	                                    "/run/docker/runtime-runc/moby",
	                                    NULL};
	bool found = false;

	for (size_t i = 0; roots[i] && !found; i++) {
		DIR *d = opendir(roots[i]);
		struct dirent *de;

		if (!d)
			continue;
		while (!found && (de = readdir(d))) {
			char sp[4200];
			json_t *st;
			const char *rf;
			size_t rl;

			if (de->d_name[0] == '.')
				continue;
			snprintf(sp, sizeof(sp), "%s/%s/state.json", roots[i], de->d_name);
			st = json_load_file(sp, 0, NULL);
			if (!st)
				continue;
			rf = json_string_value(
			    json_object_get(json_object_get(st, "config"), "rootfs"));
			rl = rf ? strlen(rf) : 0;
			if (rl > 1 && !strncmp(path, rf, rl) && (path[rl] == '/' || !path[rl])) {
				snprintf(id, idsz, "%s", de->d_name);
				snprintf(rootfs, rsz, "%s", rf);
				found = true;
			}
			json_decref(st);
		}
		closedir(d);
	}
	/* Container storage of the common engines, when no state matched. */
	if (!found && (strstr(path, "/overlay2/") || strstr(path, "/overlayfs/snapshots/") ||
	               strstr(path, "/containers/storage/overlay/")))
		found = true;
	return found;
}

static int eval_umh(const struct cw_technique_rules *r, const struct cw_technique_env *env,
                    const struct cw_tq_umh *u, struct cw_technique_hit *h)
{
	const struct rule *ru = NULL;
	char id[256] = "", rootfs[512] = "";
	bool in_ctr;
	json_t *extra;
	int err;

	for (size_t i = 0; i < r->n_rules; i++)
		if (r->rules[i].kind == RK_UMH)
			ru = &r->rules[i];
	if (!ru || u->args_len > CW_TQ_ARGS)
		return ru ? -EINVAL : 0;
	h->host_side = true;
	h->time_ns = (int64_t)u->ts_ns + env->boot_offset_ns;
	h->pid = h->tgid = u->pid;
	h->ppid = u->ppid;
	h->uid = u->uid;
	h->ns[CW_NS_MNT] = u->mntns;
	copy_str(h->comm, sizeof(h->comm), u->comm, sizeof(u->comm));
	copy_str(h->file, sizeof(h->file), u->filename, sizeof(u->filename));
	snprintf(h->exe, sizeof(h->exe), "%s", h->file);
	snprintf(h->cgroup, sizeof(h->cgroup), "/");
	memcpy(h->args, u->args, u->args_len);
	h->args_len = u->args_len;
	h->args[h->args_len] = 0;
	h->syscall = "execve";
	h->returned = true;
	if (in_strs(r->helpers, h->file))
		return 0;
	in_ctr = in_container_rootfs(h->file, id, sizeof(id), rootfs, sizeof(rootfs));
	h->det.cat = ru->cat;
	h->det.tool_id = ru->id;
	h->det.tool_name = ru->title;
	snprintf(h->det.rule_id, sizeof(h->det.rule_id), "%s", ru->id);
	snprintf(h->det.matched_on, sizeof(h->det.matched_on), "technique");
	snprintf(h->det.detail, sizeof(h->det.detail), "helper=%s parent=%.16s%s%s", h->file,
	         u->parent_comm, in_ctr ? " in_container_rootfs" : "", id[0] ? " container=" : "");
	if (id[0])
		strncat(h->det.detail, id, sizeof(h->det.detail) - strlen(h->det.detail) - 1);
	err = cw_technique_finding_extra(h, &extra);
	if (err)
		return err;
	if (in_ctr && json_object_set_new(extra, "Helper_In_Container_Rootfs", json_true()))
		goto nomem;
	if (id[0] && json_object_set_new(extra, "Helper_Container_Id", json_string(id)))
		goto nomem;
	if (rootfs[0] && json_object_set_new(extra, "Helper_Container_Rootfs", json_string(rootfs)))
		goto nomem;
	if (json_object_set_new(extra, "Helper_Parent",
	                        cw_json_bytes(u->parent_comm, strnlen(u->parent_comm, 16))))
		goto nomem;
	h->det.extra = extra;
	return 1;
nomem:
	json_decref(extra);
	return -ENOMEM;
}

/* ------------------------------------------------------------------------ */
/* Evidence */

static int put(json_t *o, const char *k, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, k, v) ? -ENOMEM : 0;
}

static int put_s(json_t *o, const char *k, const char *s)
{
	if (!s || !*s)
		return 0;
	return put(o, k, cw_json_str(s));
}

int cw_technique_finding_extra(const struct cw_technique_hit *h, json_t **out)
{
	json_t *o = json_object(), *files;
	int err = 0;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	err |= put_s(o, "Technique_Id", h->det.rule_id);
	err |= put_s(o, "Technique", h->det.tool_name);
	err |= put_s(o, "Syscall", h->syscall);
	if (h->returned) {
		if (h->failed) {
			const char *en = h->ret >= -4095 ? strerrorname_np((int)-h->ret) : NULL;

			err |= put_s(o, "Syscall_Result", en ? en : "error");
		} else {
			err |= put_s(o, "Syscall_Result", "success");
		}
		err |= put(o, "Attempt_Failed", json_boolean(h->failed));
	}
	err |= put_s(o, "File_Path", h->file);
	err |= put_s(o, "Filesystem_Type", h->fs_type);
	err |= put_s(o, "Mount_Source", h->mount_source);
	err |= put_s(o, "Mount_Target", h->mount_target);
	err |= put_s(o, "Mount_Fstype", h->mount_fstype);
	err |= put_s(o, "Mount_Options", h->mount_options);
	if (h->target_pid)
		err |= put(o, "Target_Pid", json_integer(h->target_pid));
	err |= put_s(o, "Target_Namespace", h->target_ns);
	err |= put_s(o, "Socket", h->socket);
	err |= put_s(o, "Module", h->module);
	err |= put_s(o, "Signal", h->signal);
	if (h->ev && (h->ev->flags & CW_TQF_AGENT))
		err |= put(o, "Target_Is_Agent", json_true());
	err |= put_s(o, "Process_Comm", h->comm);
	if (h->runtime)
		err |= put(o, "Runtime_Process", json_true());
	if (h->host_side)
		err |= put(o, "Host_Side", json_true());
	if (h->file[0] && !h->mount_source[0] && !h->socket[0] && !h->module[0]) {
		json_t *f = json_object();

		files = json_array();
		if (!f || !files || json_object_set_new(f, "path", cw_json_str(h->file)) ||
		    json_array_append_new(files, f)) {
			json_decref(f);
			json_decref(files);
			err = -ENOMEM;
		} else {
			err |= put(o, "files", files); /* the finding's top-level files[] */
		}
	}
	if (err) {
		json_decref(o);
		return -ENOMEM;
	}
	*out = o;
	return 0;
}

void cw_technique_hit_exec(const struct cw_technique_hit *h, struct cw_event *ev,
                           struct cw_exec *ex)
{
	size_t n;
	int argc = 0;

	memset(ev, 0, offsetof(struct cw_event, data));
	memset(ex, 0, sizeof(*ex));
	ev->type = CW_EV_EXEC;
	ev->cgroup_id = h->cgroup_id;
	ev->pid = h->pid;
	ev->tgid = h->tgid;
	ev->ppid = h->ppid;
	ev->uid = h->uid;
	ev->pidns = h->ns[CW_NS_PID];
	ev->mntns = h->ns[CW_NS_MNT];
	ev->netns = h->ns[CW_NS_NET];
	ev->userns = h->ns[CW_NS_USER];
	ev->cgroupns = h->ns[CW_NS_CGROUP];
	if (h->host_side)
		ev->flags |= CW_F_HOST_NS;
	if (h->ev && (h->ev->flags & CW_TQF_CGROUP_V1))
		ev->flags |= CW_F_CGROUP_V1;
	memcpy(ev->comm, h->comm, sizeof(ev->comm));
	ex->ev = ev;
	ex->time_ns = h->time_ns;
	cw_strlcpy(ex->path, h->exe, sizeof(ex->path));
	cw_strlcpy(ex->filename, h->exe, sizeof(ex->filename));
	cw_strlcpy(ex->cgroup, h->cgroup, sizeof(ex->cgroup));
	n = h->args_len < sizeof(ex->argbuf) - 1 ? h->args_len : sizeof(ex->argbuf) - 1;
	memcpy(ex->argbuf, h->args, n);
	ex->argbuf[n] = 0;
	for (size_t off = 0; off < n && argc < CW_MAX_ARGS;) {
		ex->argv[argc++] = ex->argbuf + off;
		off += strnlen(ex->argbuf + off, n - off) + 1;
	}
	ex->argv[argc] = NULL;
	ex->argc = argc;
	ex->argv_truncated = h->args_len >= CW_TQ_ARGS;
}

/* ------------------------------------------------------------------------ */
/* Sensor */

struct cw_technique {
	struct technique_bpf *skel;
	struct bpf_link **links; /* one per loaded program */
	size_t n_links;
	enum cw_technique_attach mode;
	uint32_t watched_kinds; /* bit per enum cw_tq_sys */
	struct ring_buffer *rb;
	struct cw_technique_rules *own_rules;
	const struct cw_technique_rules *rules;
	struct cw_technique_env env;
	int (*fn)(void *ctx, const struct cw_technique_hit *hit);
	int (*on_stdin)(void *ctx, const struct cw_technique_stdin *in);
	void *ctx;
	bool no_stdin;
	int ncpu;
	uint64_t records, hits, malformed;
	struct cw_technique_hit hit; /* reused; large */
};

/* A stdin capture record: validated, the caller resolved, handed on. */
static int on_stdin_record(struct cw_technique *t, const void *data, size_t len)
{
	const struct cw_tq_stdin *r = data;
	struct cw_technique_stdin in = {0};
	int rc;

	if (len != sizeof(*r) || r->len > CW_TQ_STDIN_MAX || r->ev.cgroup_len > CW_TQ_CGROUP ||
	    r->ev.args_len > CW_TQ_ARGS) {
		t->malformed++;
		cw_warn("dropped a malformed stdin capture record (%zu bytes)", len);
		return 0;
	}
	if (!t->on_stdin)
		return 0;
	memset(&t->hit, 0, sizeof(t->hit));
	hit_caller(&t->env, &r->ev, &t->hit);
	hit_exe(&t->env, &t->hit, r->ev.exe);
	in.hit = &t->hit;
	in.data = r->data;
	in.len = r->len;
	in.flags = r->flags;
	in.stdin_mode = r->stdin_mode;
	rc = t->on_stdin(t->ctx, &in);
	t->hit.ev = NULL;
	return rc;
}

int cw_technique_stdin_sweep(struct cw_technique *t)
{
	struct cw_tq_stdin *rec;
	int fd, n = 0;
	__u32 key, next, *prev = NULL;

	if (!t || !t->on_stdin)
		return 0;
	fd = bpf_map__fd(t->skel->maps.tq_stdin);
	rec = malloc(bpf_map__value_size(t->skel->maps.tq_stdin));
	if (!rec)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (kill((pid_t)key, 0) == 0 || errno != ESRCH)
			continue; /* still running: its input may go on */
		if (bpf_map_lookup_elem(fd, &key, rec) != 0)
			continue;
		if (bpf_map_delete_elem(fd, &key) != 0)
			continue; /* the kernel flushed it meanwhile */
		if (t->skel->bss->stdin_armed)
			__sync_fetch_and_sub(&t->skel->bss->stdin_armed, 1);
		rec->flags |= CW_TQI_EXITED;
		t->records++;
		on_stdin_record(t, rec, sizeof(*rec));
		n++;
	}
	free(rec);
	return n;
}

static int on_record(void *ctx, void *data, size_t len);

int cw_technique_feed(struct cw_technique *t, const void *data, size_t len)
{
	return t ? on_record(t, (void *)data, len) : -EINVAL;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct cw_technique *t = ctx;
	int rc;

	t->records++;
	if (len >= sizeof(uint32_t) && *(const uint32_t *)data == CW_TQ_STDIN_MAGIC)
		return on_stdin_record(t, data, len);
	rc = cw_technique_eval(t->rules, &t->env, data, len, &t->hit);
	if (rc < 0) {
		if (rc == -EINVAL) {
			t->malformed++;
			cw_warn("dropped a malformed technique record (%zu bytes)", len);
			return 0;
		}
		cw_warn("technique record not evaluated: %s", strerror(-rc));
		return 0;
	}
	if (rc == 0)
		return 0;
	t->hits++;
	rc = t->fn ? t->fn(t->ctx, &t->hit) : 0;
	cw_technique_hit_clear(&t->hit);
	return rc;
}

/* Syscalls watched, by this build's numbers. */
static const struct {
	long nr;
	uint32_t sys;
} watched[] = {
#ifdef SYS_open
    {SYS_open, CW_TQS_OPEN},
#endif
#ifdef SYS_creat
    {SYS_creat, CW_TQS_CREAT},
#endif
#ifdef SYS_mknod
    {SYS_mknod, CW_TQS_MKNOD},
#endif
    {SYS_openat, CW_TQS_OPENAT},
#ifdef SYS_openat2
    {SYS_openat2, CW_TQS_OPENAT2},
#endif
    {SYS_mount, CW_TQS_MOUNT},
#ifdef SYS_fsopen
    {SYS_fsopen, CW_TQS_FSOPEN},
#endif
    {SYS_mknodat, CW_TQS_MKNODAT},
    {SYS_setns, CW_TQS_SETNS},
    {SYS_init_module, CW_TQS_INIT_MODULE},
    {SYS_finit_module, CW_TQS_FINIT_MODULE},
    {SYS_connect, CW_TQS_CONNECT},
    {SYS_ptrace, CW_TQS_PTRACE},
    {SYS_process_vm_writev, CW_TQS_VM_WRITEV},
    {SYS_chdir, CW_TQS_CHDIR},
    {SYS_fchdir, CW_TQS_FCHDIR},
    {SYS_open_by_handle_at, CW_TQS_OPEN_BY_HANDLE},
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = CW_TQ_FNV_INIT;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= CW_TQ_FNV_PRIME;
	}
	return h;
}

static int fill_maps(struct cw_technique *t)
{
	int sfd = bpf_map__fd(t->skel->maps.tq_sys), nfd = bpf_map__fd(t->skel->maps.tq_names),
	    pfd = bpf_map__fd(t->skel->maps.tq_ports);
	uint32_t one = CW_TQN_WRITE_OPEN;
	uint8_t yes = 1;

	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
		uint32_t k = (uint32_t)watched[i].nr;

		if (bpf_map_update_elem(sfd, &k, &watched[i].sys, BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; i < t->rules->n_rules; i++) {
		const struct rule *ru = &t->rules->rules[i];
		size_t j;
		json_t *v;

		if ((ru->kind == RK_WRITE_OPEN || ru->kind == RK_PROC_EXE_WRITE) && ru->names)
			json_array_foreach(ru->names, j, v)
			{
				uint32_t h = name_hash(json_string_value(v));

				if (bpf_map_update_elem(nfd, &h, &one, BPF_ANY))
					return -errno;
			}
		for (j = 0; j < ru->n_ports; j++)
			if (bpf_map_update_elem(pfd, &ru->ports[j], &yes, BPF_ANY))
				return -errno;
	}
	return 0;
}

#define SYSCALL_SEC "tp/syscalls/"

const char *cw_technique_attach_name(enum cw_technique_attach a)
{
	switch (a) {
	case CW_TQ_ATTACH_SYSCALL_TP:
		return "syscall-tracepoints";
	case CW_TQ_ATTACH_RAW:
		return "raw-tracepoints";
	default:
		return "auto";
	}
}

static uint32_t kind_of(const char *name)
{
	for (uint32_t k = 1; k < CW_TQS_MAX; k++)
		if (!strcmp(sys_name(k), name))
			return k;
	return 0;
}

/* Per-syscall program's tracefs event ("sys_enter_openat"), or NULL. */
static const char *prog_event(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);

	return sec && !strncmp(sec, SYSCALL_SEC, strlen(SYSCALL_SEC)) ? sec + strlen(SYSCALL_SEC)
	                                                              : NULL;
}

static void sensor_unload(struct cw_technique *t)
{
	for (size_t i = 0; i < t->n_links; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	t->links = NULL;
	t->n_links = 0;
	technique_bpf__destroy(t->skel);
	t->skel = NULL;
	t->watched_kinds = 0;
}

/* Choose programs for the mode: per-syscall ones whose tracepoint exists
 * (dir), or the raw pair. Returns how many per-syscall events were missing. */
static int choose_programs(struct cw_technique *t, const char *dir, char *missing, size_t msz)
{
	struct bpf_program *prog;
	size_t used = 0;
	int n = 0;

	missing[0] = 0;
	bpf_object__for_each_program(prog, t->skel->obj)
	{
		const char *ev = prog_event(prog);
		bool raw =
		    prog == t->skel->progs.cw_tq_raw_enter || prog == t->skel->progs.cw_tq_raw_exit;
		bool on;

		if (raw)
			on = t->mode == CW_TQ_ATTACH_RAW;
		else if (!ev)
			on = true;
		else
			on = t->mode == CW_TQ_ATTACH_SYSCALL_TP && cw_bpf_tp_id(dir, ev) > 0;
		if (prog == t->skel->progs.tqx_read && t->no_stdin)
			on = false; /* --no-stdin-capture: no hook on every read() */
		bpf_program__set_autoload(prog, on);
		if (ev && t->mode == CW_TQ_ATTACH_SYSCALL_TP && !strncmp(ev, "sys_exit_", 9)) {
			if (on) {
				t->watched_kinds |= 1u << kind_of(ev + 9);
			} else {
				n++;
				used += snprintf(missing + used, used < msz ? msz - used : 0,
				                 "%s%s", used ? ", " : "", ev + 9);
				if (used >= msz)
					used = msz - 1;
			}
		}
	}
	if (t->mode == CW_TQ_ATTACH_RAW)
		for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
			t->watched_kinds |= 1u << watched[i].sys;
	return n;
}

static int attach_all(struct cw_technique *t, const char *dir)
{
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, t->skel->obj) n++;
	t->links = calloc(n, sizeof(*t->links));
	if (!t->links)
		return -ENOMEM;
	bpf_object__for_each_program(prog, t->skel->obj)
	{
		struct bpf_link *l = NULL;
		int err;

		if (!bpf_program__autoload(prog))
			continue;
		if (prog_event(prog)) {
			err = cw_bpf_attach_syscall_tp(prog, dir, prog_event(prog), &l);
		} else {
			l = bpf_program__attach(prog);
			err = l ? 0 : -errno;
		}
		if (err) {
			cw_err("cannot attach the technique sensor's %s (%s): %s",
			       bpf_program__name(prog), bpf_program__section_name(prog),
			       strerror(-err));
			return err;
		}
		t->links[t->n_links++] = l;
	}
	return 0;
}

/* Open, load and attach the BPF object in t->mode. Logs what failed. */
static int sensor_load(struct cw_technique *t, const struct cw_technique_opts *opts,
                       const char *dir)
{
	char missing[256];
	int err, n_missing;

	t->skel = technique_bpf__open();
	if (!t->skel) {
		err = -errno;
		cw_err("cannot open the technique BPF object: %s", strerror(-err));
		return err;
	}
	t->skel->rodata->host_pidns = t->env.host_ns[CW_NS_PID];
	t->skel->rodata->host_mntns = t->env.host_ns[CW_NS_MNT];
	t->skel->rodata->include_host = opts->include_host;
	t->skel->rodata->stdin_capture = !opts->no_stdin;
	t->no_stdin = opts->no_stdin;
	t->skel->rodata->wakeup_bytes = opts->wakeup_bytes ? opts->wakeup_bytes : 65536;
	if (opts->ringbuf_bytes &&
	    (err = bpf_map__set_max_entries(t->skel->maps.tq_events, opts->ringbuf_bytes))) {
		cw_err("technique ring buffer size %zu refused (a power of two >= page size): %s",
		       opts->ringbuf_bytes, strerror(-err));
		return err;
	}
	n_missing = choose_programs(t, dir, missing, sizeof(missing));
	if (n_missing)
		cw_info(
		    "technique sensor: no syscall tracepoint for %s on this kernel (syscall not "
		    "built in): attempts of %s are not seen",
		    missing, n_missing > 1 ? "these" : "it");
	if ((err = technique_bpf__load(t->skel))) {
		cw_err("the kernel refused to load the technique sensor (%s, %s): it needs "
		       "BTF-enabled "
		       "tracepoints (Linux 5.5+) and BPF allowed for root; rerun with "
		       "--log-level debug for the verifier log",
		       cw_technique_attach_name(t->mode), strerror(-err));
		return err;
	}
	if ((err = fill_maps(t))) {
		cw_err("cannot fill the technique sensor's maps: %s", strerror(-err));
		return err;
	}
	return attach_all(t, dir);
}

int cw_technique_open(struct cw_technique **out, const struct cw_technique_opts *opts)
{
	struct cw_technique *t;
	char dir[64] = "";
	const char *why = "";
	int err;

	if (!out || !opts || opts->sz < sizeof(*opts) || !opts->on_detection ||
	    opts->attach > CW_TQ_ATTACH_RAW)
		return -EINVAL;
	*out = NULL;
	if ((err = cw_bpf_check_host("the technique sensor")))
		return err;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = opts->on_detection;
	t->on_stdin = opts->on_stdin;
	t->ctx = opts->ctx;
	if ((err = cw_technique_env_init(&t->env, opts->proc_root)))
		goto fail;
	if (opts->host_pidns)
		t->env.host_ns[CW_NS_PID] = opts->host_pidns;
	if (opts->host_mntns)
		t->env.host_ns[CW_NS_MNT] = opts->host_mntns;
	/* The agent passes the namespaces attribution settled on (and warned about). */
	if (t->env.own_ns_as_host && !opts->host_pidns)
		cw_warn("cannot read %s/1/ns: taking this process's namespaces as the host's",
		        t->env.proc_root);
	t->env.boot_offset_ns = cw_boot_to_unix_offset_ns();
	t->env.agent_tgid = (uint32_t)getpid();
	if (opts->rules) {
		t->rules = opts->rules;
	} else {
		if ((err = cw_technique_rules_load_default(&t->own_rules)))
			goto fail;
		t->rules = t->own_rules;
	}
	t->ncpu = cw_bpf_ncpu();
	if (t->ncpu <= 0) {
		err = t->ncpu;
		goto fail;
	}
	cw_bpf_log_init();
	t->mode = opts->attach == CW_TQ_ATTACH_RAW ? CW_TQ_ATTACH_RAW : CW_TQ_ATTACH_SYSCALL_TP;
	if (t->mode == CW_TQ_ATTACH_SYSCALL_TP &&
	    (err = cw_bpf_syscall_tracefs(dir, sizeof(dir), &why))) {
		if (opts->attach == CW_TQ_ATTACH_SYSCALL_TP) {
			cw_err(
			    "per-syscall tracepoints unavailable (%s): mount tracefs at %s or use "
			    "the raw-tracepoint sensor",
			    why, CW_TRACEFS);
			goto fail;
		}
		t->mode = CW_TQ_ATTACH_RAW;
		cw_warn(
		    "per-syscall tracepoints unavailable (%s): the technique sensor falls back to "
		    "raw sys_enter/sys_exit tracepoints, which run a BPF program on every syscall "
		    "of every process (about +140 ns per syscall measured); mount tracefs at %s to "
		    "avoid it",
		    why, CW_TRACEFS);
	}
	err = sensor_load(t, opts, dir);
	if (err && t->mode == CW_TQ_ATTACH_SYSCALL_TP && opts->attach == CW_TQ_ATTACH_AUTO) {
		sensor_unload(t);
		t->mode = CW_TQ_ATTACH_RAW;
		cw_warn(
		    "per-syscall tracepoints failed (%s): the technique sensor falls back to raw "
		    "sys_enter/sys_exit tracepoints, which run a BPF program on every syscall of "
		    "every process (about +140 ns per syscall measured)",
		    strerror(-err));
		err = sensor_load(t, opts, dir);
	}
	if (err)
		goto fail;
	cw_debug("technique sensor attached with %s", cw_technique_attach_name(t->mode));
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.tq_events), on_record, t, NULL);
	if (!t->rb) {
		err = -errno;
		cw_err("cannot map the technique ring buffer: %s", strerror(-err));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	cw_technique_close(t);
	return err < 0 ? err : -EINVAL;
}

enum cw_technique_attach cw_technique_attach_mode(const struct cw_technique *t)
{
	return t ? t->mode : CW_TQ_ATTACH_AUTO;
}

bool cw_technique_watches(const struct cw_technique *t, const char *syscall)
{
	uint32_t k = syscall ? kind_of(syscall) : 0;

	return t && k && (t->watched_kinds & (1u << k));
}

int cw_technique_poll(struct cw_technique *t, int timeout_ms)
{
	int n, m;

	if (!t)
		return -EINVAL;
	n = ring_buffer__poll(t->rb, timeout_ms);
	if (n == -EINTR)
		n = 0;
	if (n < 0)
		return n;
	/* The kernel skips wake-ups for small batches: take what is pending. */
	m = ring_buffer__consume(t->rb);
	if (m < 0)
		return m == -EINTR ? n : m;
	return n + m;
}

int cw_technique_fd(const struct cw_technique *t)
{
	return t ? ring_buffer__epoll_fd(t->rb) : -EINVAL;
}

int cw_technique_stats(const struct cw_technique *t, struct cw_technique_stats *out)
{
	int fd;

	if (!t || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	fd = bpf_map__fd(t->skel->maps.tq_counters);
	for (uint32_t k = 0; k < CW_TQC_MAX; k++) {
		int err = cw_bpf_percpu_sum(fd, k, t->ncpu, &out->kernel[k], NULL, 0);

		if (err)
			return err;
	}
	out->records = t->records;
	out->hits = t->hits;
	out->malformed = t->malformed;
	return 0;
}

void cw_technique_close(struct cw_technique *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	sensor_unload(t);
	cw_technique_rules_free(t->own_rules);
	free(t);
}
