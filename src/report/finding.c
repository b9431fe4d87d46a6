/* finding.c - builds the Security Command Center Finding (v2 JSON shape) for one
 * detection: names from the configuration, the process, its container and pod,
 * MITRE data and description from the category, evidence in sourceProperties.
 * Every string that came from the monitored system (paths, argv, comm, labels)
 * is arbitrary bytes and goes through cw_utf8_sanitize() before jansson sees it.
 * Also: SHA-256 of executables (OpenSSL EVP) and random finding ids.
 */
#include "finding.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* ---- byte strings to valid UTF-8 ---------------------------------------- */

/* Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) at s[0..n), or 0 if there is none. NUL
 * counts as not well formed so that it is made visible. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return c ? 1 : 0;
	if (c < 0xc2)
		return 0; /* continuation byte or overlong 2-byte lead */
	if (c < 0xe0)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c < 0xf0) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* UTF-16 surrogate */
		return 3;
	}
	if (c < 0xf5) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

char *cw_utf8_sanitize(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;
	char *out;

	/* Worst case every byte becomes four characters. */
	if (len > (SIZE_MAX - 1) / 4) {
		errno = ENOMEM;
		return NULL;
	}
	out = malloc(len * 4 + 1);
	if (!out)
		return NULL;
	while (i < len) {
		size_t n = utf8_seq(u + i, len - i);

		if (n) {
			memcpy(out + o, u + i, n);
			o += n;
			i += n;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 0xf];
		i++;
	}
	out[o] = '\0';
	return out;
}

json_t *cw_json_bytes(const char *s, size_t len)
{
	json_t *j;
	char *clean;

	if (!s)
		return json_string("");
	clean = cw_utf8_sanitize(s, len);
	if (!clean)
		return NULL;
	j = json_string(clean);
	free(clean);
	return j;
}

json_t *cw_json_str(const char *s)
{
	return cw_json_bytes(s, s ? strlen(s) : 0);
}

/* A fixed-size char array that may lack its terminator. */
static json_t *json_arr(const char *s, size_t size)
{
	return cw_json_bytes(s, strnlen(s, size));
}

/* ---- a small growing string -------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (!b->p)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static char *sb_finish(struct sbuf *b)
{
	if (!b->oom && !b->p)
		sb_add(b, "", 0);
	if (b->oom) {
		free(b->p);
		errno = ENOMEM;
		return NULL;
	}
	return b->p;
}

/* ---- resource name template -------------------------------------------- */

static const char *or_unknown(const char *s)
{
	return s && s[0] ? s : "unknown";
}

char *cw_finding_resource_name(const struct cw_config *cfg, const struct cw_container *ctr)
{
	const char *t = cfg->resource_template;
	struct sbuf b = {0};

	if (ctr && !ctr->in_container)
		ctr = NULL;
	while (*t) {
		const char *open = strchr(t, '{'), *close, *val = NULL;
		size_t nlen;

		if (!open) {
			sb_add(&b, t, strlen(t));
			break;
		}
		sb_add(&b, t, (size_t)(open - t));
		close = strchr(open + 1, '}');
		if (!close) {
			sb_add(&b, open, strlen(open));
			break;
		}
		nlen = (size_t)(close - open - 1);
#define IS(name) (nlen == sizeof(name) - 1 && memcmp(open + 1, name, nlen) == 0)
		if (IS("host"))
			val = or_unknown(cfg->host);
		else if (IS("project"))
			val = or_unknown(cfg->project);
		else if (IS("container_id"))
			val = or_unknown(ctr ? ctr->id : NULL);
		else if (IS("container_name"))
			val = or_unknown(ctr ? ctr->name : NULL);
		else if (IS("pod_namespace"))
			val = or_unknown(ctr ? ctr->pod_namespace : NULL);
		else if (IS("pod_name"))
			val = or_unknown(ctr ? ctr->pod_name : NULL);
#undef IS
		if (val) {
			sb_add(&b, val, strlen(val));
			t = close + 1;
		} else {
			/* Not a placeholder: keep the '{' and rescan after it, so
			 * "{{host}" still expands the inner one. */
			sb_add(&b, open, 1);
			t = open + 1;
		}
	}
	return sb_finish(&b);
}

/* ---- JSON helpers -------------------------------------------------------- */

/* Building stops at the first allocation failure: every put records it. */
struct jb {
	bool bad;
};

static void put(struct jb *b, json_t *obj, const char *key, json_t *val)
{
	if (!val) {
		b->bad = true;
		return;
	}
	if (!obj) {
		json_decref(val);
		b->bad = true;
		return;
	}
	if (json_object_set_new(obj, key, val))
		b->bad = true;
}

static void append(struct jb *b, json_t *arr, json_t *val)
{
	if (!val) {
		b->bad = true;
		return;
	}
	if (!arr) {
		json_decref(val);
		b->bad = true;
		return;
	}
	if (json_array_append_new(arr, val))
		b->bad = true;
}

/* Put a string only when it is non-empty. */
static void put_opt(struct jb *b, json_t *obj, const char *key, const char *s)
{
	if (s && s[0])
		put(b, obj, key, cw_json_str(s));
}

static void put_opt_arr(struct jb *b, json_t *obj, const char *key, const char *s, size_t size)
{
	if (s[0])
		put(b, obj, key, json_arr(s, size));
}

/* proto3 JSON: int64 as a decimal string. */
static json_t *i64(long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", v);
	return json_string(buf);
}

static json_t *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static json_t *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	json_t *j;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	j = cw_json_bytes(s, (size_t)n);
	free(s);
	return j;
}

static json_t *timestamp(int64_t ns)
{
	char buf[40];

	return json_string(cw_rfc3339(ns, buf, sizeof(buf)));
}

/* Put an object or array only when it has members; otherwise drop it. */
static void put_nonempty(struct jb *b, json_t *obj, const char *key, json_t *val)
{
	if (!val) {
		b->bad = true;
		return;
	}
	if ((json_is_object(val) && json_object_size(val) == 0) ||
	    (json_is_array(val) && json_array_size(val) == 0)) {
		json_decref(val);
		return;
	}
	put(b, obj, key, val);
}

static json_t *file_json(struct jb *b, const char *path, const struct cw_file_info *fi)
{
	json_t *o = json_object();

	put(b, o, "path", cw_json_str(path));
	if (fi && fi->have_size)
		put(b, o, "size", i64(fi->size));
	if (fi && fi->have_hash) {
		put(b, o, "sha256", json_arr(fi->sha256, sizeof(fi->sha256)));
		put(b, o, "hashedSize", i64(fi->hashed_size));
		put(b, o, "partiallyHashed", json_boolean(fi->partially_hashed));
	}
	return o;
}

/* Container labels (object name -> value) as SCC Label[] {name, value}. */
static json_t *labels_json(struct jb *b, const json_t *labels)
{
	json_t *arr = json_array();
	const char *k;
	json_t *v;

	if (!json_is_object(labels))
		return arr;
	json_object_foreach((json_t *)labels, k, v)
	{
		json_t *l = json_object();

		put(b, l, "name", cw_json_str(k));
		if (json_is_string(v)) {
			put(b, l, "value",
			    cw_json_bytes(json_string_value(v), json_string_length(v)));
		} else {
			char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			put(b, l, "value", d ? cw_json_str(d) : NULL);
			free(d);
		}
		append(b, arr, l);
	}
	return arr;
}

static json_t *process_json(struct jb *b, const struct cw_config *cfg,
                            const struct cw_finding_input *in)
{
	const struct cw_exec *ex = in->ex;
	const struct cw_event *ev = ex->ev;
	const char *bin_path;
	json_t *p = json_object();

	if (ev)
		put(b, p, "name", json_arr(ev->comm, sizeof(ev->comm)));
	bin_path = in->binary && in->binary->path[0] ? in->binary->path : ex->path;
	put(b, p, "binary", file_json(b, bin_path, in->binary));
	if (in->script) {
		const char *sp = in->script->path[0] ? in->script->path : ex->filename;

		json_t *so = file_json(b, sp, in->script);

		if (in->script_contents)
			put(b, so, "contents",
			    cw_json_bytes(in->script_contents, in->script_contents_len));
		put(b, p, "script", so);
	}
	if (cfg->report_args) {
		json_t *args = json_array();
		bool trunc = ex->argv_truncated || (ev && (ev->flags & CW_F_ARGV_TRUNC));

		for (int i = 0; i < ex->argc && ex->argv[i]; i++)
			append(b, args, cw_json_str(ex->argv[i]));
		put(b, p, "args", args);
		put(b, p, "argumentsTruncated", json_boolean(trunc));
	} else {
		put(b, p, "argumentsTruncated", json_false());
	}
	if (ev) {
		put(b, p, "pid", i64(ev->tgid));
		put(b, p, "parentPid", i64(ev->ppid));
		put(b, p, "userId", i64(ev->uid));
	}
	return p;
}

static json_t *container_json(struct jb *b, const struct cw_container *ctr)
{
	json_t *c = json_object();

	put_opt_arr(b, c, "name", ctr->name, sizeof(ctr->name));
	put_opt_arr(b, c, "uri", ctr->image, sizeof(ctr->image));
	put_opt_arr(b, c, "imageId", ctr->image_id, sizeof(ctr->image_id));
	put_nonempty(b, c, "labels", labels_json(b, ctr->labels));
	if (ctr->created_ns > 0)
		put(b, c, "createTime", timestamp(ctr->created_ns));
	return c;
}

static json_t *kubernetes_json(struct jb *b, const struct cw_container *ctr)
{
	json_t *k = json_object(), *pods = json_array(), *pod = json_object();
	json_t *ctrs = json_array(), *c = json_object();

	put_opt_arr(b, pod, "ns", ctr->pod_namespace, sizeof(ctr->pod_namespace));
	put_opt_arr(b, pod, "name", ctr->pod_name, sizeof(ctr->pod_name));
	put_opt_arr(b, c, "name", ctr->name, sizeof(ctr->name));
	put_opt_arr(b, c, "uri", ctr->image, sizeof(ctr->image));
	put_opt_arr(b, c, "imageId", ctr->image_id, sizeof(ctr->image_id));
	if (c && json_object_size(c))
		append(b, ctrs, c);
	else
		json_decref(c);
	put_nonempty(b, pod, "containers", ctrs);
	append(b, pods, pod);
	put(b, k, "pods", pods);
	return k;
}

static json_t *mitre_json(struct jb *b, const struct cw_category *cat)
{
	json_t *m = json_object();

	put_opt(b, m, "primaryTactic", cat->tactic);
	if (json_is_array(cat->techniques))
		put(b, m, "primaryTechniques", json_deep_copy(cat->techniques));
	else
		put(b, m, "primaryTechniques", json_array());
	if (json_is_array(cat->additional_tactics) && json_array_size(cat->additional_tactics))
		put(b, m, "additionalTactics", json_deep_copy(cat->additional_tactics));
	put(b, m, "version", json_string("15"));
	return m;
}

static json_t *source_properties(struct jb *b, const struct cw_config *cfg,
                                 const struct cw_finding_input *in, const struct cw_container *ctr)
{
	const struct cw_detection *det = in->det;
	const struct cw_exec *ex = in->ex;
	const struct cw_event *ev = ex->ev;
	json_t *sp = json_object();

	put_opt_arr(b, sp, "Rule_Id", det->rule_id, sizeof(det->rule_id));
	put_opt_arr(b, sp, "Matched_On", det->matched_on, sizeof(det->matched_on));
	put_opt_arr(b, sp, "Match_Detail", det->detail, sizeof(det->detail));
	put_opt(b, sp, "Tool_Id", det->tool_id);
	put_opt(b, sp, "Tool_Name", det->tool_name);
	if (ctr) {
		put_opt_arr(b, sp, "Container_Id", ctr->id, sizeof(ctr->id));
		put_opt_arr(b, sp, "Container_Name", ctr->name, sizeof(ctr->name));
		put_opt_arr(b, sp, "Container_Runtime", ctr->runtime, sizeof(ctr->runtime));
		put_opt_arr(b, sp, "Container_Image_Uri", ctr->image, sizeof(ctr->image));
		put_opt_arr(b, sp, "Pod_Uid", ctr->pod_uid, sizeof(ctr->pod_uid));
	}
	put_opt(b, sp, "Host", cfg->host);
	if (ev) {
		put(b, sp, "Pid_Namespace", json_integer(ev->pidns));
		put(b, sp, "Mount_Namespace", json_integer(ev->mntns));
	}
	put_opt_arr(b, sp, "Cgroup", ex->cgroup, sizeof(ex->cgroup));
	if (ev && (ev->dev || ev->ino)) { /* technique findings have no executed file */
		/* Kernel dev_t: 12-bit major above a 20-bit minor. */
		put(b, sp, "Executable_Device", fmt("%u:%u", ev->dev >> 20, ev->dev & 0xfffff));
		/* A string: inode numbers can exceed a double's exact range. */
		put(b, sp, "Executable_Inode", fmt("%llu", (unsigned long long)ev->ino));
		if (ev->flags & CW_F_MEMFD)
			put(b, sp, "Executable_Memfd", json_true());
		if (ev->flags & CW_F_DELETED)
			put(b, sp, "Executable_Deleted", json_true());
		if (ev->flags & CW_F_PATH_TRUNC)
			put(b, sp, "Executable_Path_Truncated", json_true());
		if (ev->flags & CW_F_HOST_NS)
			put(b, sp, "Host_Namespaces", json_true());
	}
	if (!cfg->report_args)
		put(b, sp, "Arguments_Redacted", json_true());
	put(b, sp, "Occurrence_Count", json_integer(1));
	return sp;
}

/* det->extra: "indicator" becomes the finding's indicator, everything else is
 * added to sourceProperties without overriding what the builder set. */
static void merge_extra(struct jb *b, json_t *finding, json_t *sp, const json_t *extra)
{
	const char *k;
	json_t *v;

	if (!extra)
		return;
	if (!json_is_object(extra)) {
		cw_warn("detection extra properties are %s, not an object: ignored",
		        json_is_array(extra) ? "an array" : "a scalar");
		return;
	}
	json_object_foreach((json_t *)extra, k, v)
	{
		/* SCC's own top-level fields: indicator (signatures, hashes), files
		 * (a technique's target file). */
		if (strcmp(k, "indicator") == 0 || strcmp(k, "files") == 0) {
			put(b, finding, k, json_deep_copy(v));
			continue;
		}
		if (json_object_get(sp, k)) {
			cw_debug("detection extra property %s ignored: the finding sets it", k);
			continue;
		}
		put(b, sp, k, json_deep_copy(v));
	}
}

static json_t *path_node(const char *type, const char *id, const char *display)
{
	return json_pack("{s:s,s:o,s:o}", "nodeType", type, "id", cw_json_str(id), "displayName",
	                 cw_json_str(display));
}

/* resourcePath: project, host, container (SCC has no node type for the last
 * two: RESOURCE_PATH_NODE_TYPE_UNSPECIFIED), and resourcePathString. */
static void put_resource_path(struct jb *b, json_t *r, const struct cw_config *cfg,
                              const struct cw_container *ctr)
{
	json_t *nodes = json_array(), *rp = json_object();
	const char *u = "RESOURCE_PATH_NODE_TYPE_UNSPECIFIED";
	char proj[64];

	snprintf(proj, sizeof(proj), "projects/%s", cfg->project_number);
	append(b, nodes, path_node("GCP_PROJECT", proj, cfg->project));
	append(b, nodes, path_node(u, cfg->host, cfg->host));
	if (ctr)
		append(b, nodes, path_node(u, ctr->id, ctr->name[0] ? ctr->name : ctr->id));
	put(b, rp, "nodes", nodes);
	put(b, r, "resourcePath", rp);
	if (ctr)
		put(b, r, "resourcePathString",
		    fmt("%s/hosts/%s/containers/%s", proj, cfg->host, ctr->id));
	else
		put(b, r, "resourcePathString", fmt("%s/hosts/%s", proj, cfg->host));
}

static json_t *resource_json(struct jb *b, const struct cw_config *cfg, const char *rname,
                             const struct cw_container *ctr)
{
	json_t *r = json_object(), *g = json_object();
	json_t *project =
	    fmt("//cloudresourcemanager.googleapis.com/projects/%s", cfg->project_number);

	put(b, r, "name", cw_json_str(rname));
	if (ctr && ctr->name[0])
		put(b, r, "displayName", json_arr(ctr->name, sizeof(ctr->name)));
	else if (ctr && ctr->id[0])
		put(b, r, "displayName", cw_json_bytes(ctr->id, strnlen(ctr->id, 12)));
	else
		put(b, r, "displayName", cw_json_str(cfg->host));
	put(b, r, "type", json_string(ctr ? "cagewatch.dev/Container" : "cagewatch.dev/Host"));
	put(b, g, "project", project ? json_incref(project) : NULL);
	put(b, g, "projectDisplayName", cw_json_str(cfg->project));
	put(b, g, "parent", project ? json_incref(project) : NULL);
	put(b, g, "parentDisplayName", cw_json_str(cfg->project));
	put(b, g, "organization", fmt("organizations/%s", cfg->organization));
	put(b, r, "gcpMetadata", g);
	put(b, r, "cloudProvider", json_string("CLOUD_PROVIDER_UNSPECIFIED"));
	put(b, r, "service", json_string("cagewatch"));
	put(b, r, "location", cw_json_str(cfg->location));
	put_resource_path(b, r, cfg, ctr);
	json_decref(project);
	return r;
}

/* Why the input cannot make a finding (NULL: it can). */
static const char *missing_input(const struct cw_config *cfg, const struct cw_finding_input *in)
{
	if (!cfg)
		return "configuration";
	if (!in)
		return "input";
	if (!in->ex)
		return "exec";
	if (!in->det)
		return "detection";
	return in->det->cat ? NULL : "detection category";
}

/* name, canonicalName, parent, state, category, class, severity, times. */
static void put_identity(struct jb *b, json_t *f, const struct cw_config *cfg,
                         const struct cw_finding_input *in, const char *id, const char *rname)
{
	const struct cw_category *cat = in->det->cat;
	int64_t now = cw_now_ns();

	put(b, f, "name",
	    fmt("organizations/%s/sources/%s/locations/%s/findings/%s", cfg->organization,
	        cfg->source, cfg->location, id));
	put(b, f, "canonicalName",
	    fmt("projects/%s/sources/%s/locations/%s/findings/%s", cfg->project_number, cfg->source,
	        cfg->location, id));
	put(b, f, "parent",
	    fmt("organizations/%s/sources/%s/locations/%s", cfg->organization, cfg->source,
	        cfg->location));
	put(b, f, "resourceName", cw_json_str(rname));
	put(b, f, "state", json_string("ACTIVE"));
	put_opt(b, f, "category", cat->category);
	put(b, f, "findingClass", json_string("THREAT"));
	put_opt(b, f, "severity", cat->severity);
	put(b, f, "mute", json_string("UNDEFINED"));
	/* An exec without a time (a replayed record) is dated now, not 1970. */
	put(b, f, "eventTime", timestamp(in->ex->time_ns > 0 ? in->ex->time_ns : now));
	put(b, f, "createTime", timestamp(now));
	put(b, f, "mitreAttack", mitre_json(b, cat));
}

/* containers[] (when anything beyond the id is known) and kubernetes. */
static void put_container(struct jb *b, json_t *f, const struct cw_container *ctr)
{
	json_t *c = container_json(b, ctr);

	if (!c) {
		b->bad = true;
	} else if (json_object_size(c)) {
		json_t *arr = json_array();

		append(b, arr, c);
		put(b, f, "containers", arr);
	} else {
		json_decref(c); /* nothing known about it beyond the id */
	}
	if (ctr->pod_name[0])
		put(b, f, "kubernetes", kubernetes_json(b, ctr));
}

json_t *cw_finding_build(const struct cw_config *cfg, const struct cw_finding_input *in)
{
	const struct cw_container *ctr;
	const char *id, *what = missing_input(cfg, in);
	struct jb b = {0};
	char idbuf[33], *rname;
	json_t *f, *sp, *procs;

	if (what) {
		cw_err("finding: no %s given: cannot build a finding", what);
		errno = EINVAL;
		return NULL;
	}
	ctr = in->ctr && in->ctr->in_container ? in->ctr : NULL;
	id = in->finding_id;
	if (!id || !id[0]) {
		cw_finding_new_id(idbuf);
		id = idbuf;
	}
	if (!(rname = cw_finding_resource_name(cfg, ctr))) {
		errno = ENOMEM;
		return NULL;
	}
	f = json_object();
	put_identity(&b, f, cfg, in, id, rname);
	procs = json_array();
	append(&b, procs, process_json(&b, cfg, in));
	put(&b, f, "processes", procs);
	if (ctr)
		put_container(&b, f, ctr);
	put_opt(&b, f, "description", in->det->cat->description);
	put_opt(&b, f, "nextSteps", in->det->cat->next_steps);
	put_opt(&b, f, "moduleName", in->det->cat->module);
	sp = source_properties(&b, cfg, in, ctr);
	if (sp && procs && cw_finding_add_context(procs, sp, in, ctr))
		b.bad = true;
	if (sp)
		merge_extra(&b, f, sp, in->det->extra);
	put(&b, f, "sourceProperties", sp);
	put(&b, f, "resource", resource_json(&b, cfg, rname, ctr));
	free(rname);
	if (b.bad || !f) {
		cw_err("finding: out of memory while building the finding JSON");
		json_decref(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

json_t *cw_finding_notification(const struct cw_config *cfg, json_t *finding)
{
	struct jb b = {0};
	json_t *msg, *f, *res;

	if (!cfg || !json_is_object(finding)) {
		errno = EINVAL;
		return NULL;
	}
	f = json_deep_copy(finding);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	res = json_object_get(f, "resource");
	if (res) {
		json_incref(res);
		json_object_del(f, "resource");
	} else {
		/* A finding from elsewhere: the resource is at least its name. */
		json_t *rn = json_object_get(f, "resourceName");

		res = json_object();
		if (rn)
			put(&b, res, "name", json_deep_copy(rn));
	}
	msg = json_object();
	put(&b, msg, "notificationConfigName", cw_json_str(cfg->notification_config));
	put(&b, msg, "finding", f);
	put(&b, msg, "resource", res);
	if (b.bad || !msg) {
		json_decref(msg);
		errno = ENOMEM;
		return NULL;
	}
	return msg;
}
