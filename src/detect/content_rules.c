/* content_rules.c - what content recognition knows: the catalogue's tools,
 * categories and SHA-256 lists, and the YARA rules (the embedded
 * rules/yara/tools.yar, marker rules generated from the catalogue, and a
 * user's directory, one namespace per file), compiled once. */
#include "content.h"
#include "content_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yara.h>

#include "util.h"

/* ---- catalogue: tool names, categories, sha256 lists -------------------- */

static bool is_sha256_hex(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

int ct_cmp_hash(const void *a, const void *b)
{
	return strcmp(((const struct hash_ent *)a)->sha256, ((const struct hash_ent *)b)->sha256);
}

static int gen_append(struct cw_content *ct, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int gen_append(struct cw_content *ct, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *ns;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	ns = realloc(ct->gen_src, ct->gen_len + (size_t)n + 1);
	if (!ns)
		return -ENOMEM;
	ct->gen_src = ns;
	va_start(ap, fmt);
	vsnprintf(ns + ct->gen_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ct->gen_len += (size_t)n;
	return 0;
}

/* A tool whose content_markers no shipped rule covers gets a generated rule
 * ("any marker"), so adding a tool to the catalogue is a data change for the
 * content layer too. */
static int gen_marker_rule(struct cw_content *ct, const char *origin, const char *id,
                           const char *cat, json_t *markers)
{
	char needle[160], ident[100];
	json_t *m;
	size_t i, j;
	int err;

	if (!json_is_array(markers) || !json_array_size(markers))
		return 0;
	snprintf(needle, sizeof(needle), "tool = \"%s\"", id);
	if (strstr(cw_embedded_yara, needle))
		return 0;
	if (!cat || strchr(cat, '"') || strchr(cat, '\\')) {
		cw_err("%s: tool '%s' has content_markers but no valid \"category\" id", origin,
		       id);
		return -EINVAL;
	}
	for (i = 0, j = 0; id[i] && j < sizeof(ident) - 1; i++)
		ident[j++] = isalnum((unsigned char)id[i]) ? id[i] : '_';
	ident[j] = '\0';
	err = gen_append(ct,
	                 "rule catalogue_%s {\n  meta:\n    tool = \"%s\"\n    category = \"%s\"\n"
	                 "    confidence = 75\n  strings:\n",
	                 ident, id, cat);
	json_array_foreach(markers, i, m)
	{
		const unsigned char *p;

		if (!json_is_string(m) || !json_string_length(m)) {
			cw_err("%s: tool '%s': content_markers[%zu] must be a non-empty string",
			       origin, id, i);
			return -EINVAL;
		}
		err = err ? err : gen_append(ct, "    $m%zu = \"", i);
		for (p = (const unsigned char *)json_string_value(m); *p && !err; p++)
			err = *p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\'
			          ? gen_append(ct, "\\x%02x", *p)
			          : gen_append(ct, "%c", *p);
		err = err ? err : gen_append(ct, "\"\n");
	}
	return err ? err : gen_append(ct, "  condition:\n    any of them\n}\n");
}

static int add_tool(struct cw_content *ct, const char *origin, const char *id, json_t *t)
{
	json_t *name = json_object_get(t, "name"), *cat = json_object_get(t, "category");
	json_t *hashes = json_object_get(t, "sha256"), *h;
	struct tool *tl;
	size_t i;
	int err;

	tl = &ct->tools[ct->ntools];
	tl->id = strdup(id);
	tl->name = strdup(json_is_string(name) ? json_string_value(name) : id);
	if (!tl->id || !tl->name) {
		free(tl->id);
		free(tl->name);
		return -ENOMEM;
	}
	tl->cat =
	    json_is_string(cat) ? cw_catalogue_category(ct->cat, json_string_value(cat)) : NULL;
	ct->ntools++;
	if (strchr(id, '"') || strchr(id, '\\')) {
		cw_err("%s: tool id '%s' may not contain quotes or backslashes", origin, id);
		return -EINVAL;
	}
	err = gen_marker_rule(ct, origin, id, json_is_string(cat) ? json_string_value(cat) : NULL,
	                      json_object_get(t, "content_markers"));
	if (err)
		return err;
	if (!hashes)
		return 0;
	if (!json_is_array(hashes)) {
		cw_err("%s: tool '%s': \"sha256\" must be an array of lowercase hex strings",
		       origin, id);
		return -EINVAL;
	}
	json_array_foreach(hashes, i, h)
	{
		struct hash_ent *nh;

		if (!json_is_string(h) || !is_sha256_hex(json_string_value(h))) {
			cw_err("%s: tool '%s': sha256[%zu] is not 64 lowercase hex digits", origin,
			       id, i);
			return -EINVAL;
		}
		nh = realloc(ct->hashes, (ct->nhashes + 1) * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		ct->hashes = nh;
		cw_strlcpy(nh[ct->nhashes].sha256, json_string_value(h), sizeof(nh->sha256));
		nh[ct->nhashes].tool = ct->ntools - 1;
		ct->nhashes++;
	}
	return 0;
}

/* The catalogue's "tools": an array of objects with "id", or an object keyed by id. */
int ct_load_tools(struct cw_content *ct, const char *text, size_t len, const char *origin)
{
	json_error_t jerr;
	json_t *root, *tools, *t;
	size_t n;
	int err = 0;

	root = json_loadb(text, len, 0, &jerr);
	if (!root) {
		cw_err("%s:%d: %s", origin, jerr.line, jerr.text);
		return -EINVAL;
	}
	tools = json_object_get(root, "tools");
	n = json_is_array(tools)    ? json_array_size(tools)
	    : json_is_object(tools) ? json_object_size(tools)
	                            : 0;
	if (!tools || (!json_is_array(tools) && !json_is_object(tools))) {
		cw_err("%s: no \"tools\" array or object: not a cagewatch catalogue", origin);
		err = -EINVAL;
		goto out;
	}
	ct->tools = calloc(n ? n : 1, sizeof(*ct->tools));
	if (!ct->tools) {
		err = -ENOMEM;
		goto out;
	}
	if (json_is_array(tools)) {
		size_t i;

		json_array_foreach(tools, i, t)
		{
			json_t *id = json_object_get(t, "id");

			if (!json_is_string(id)) {
				cw_err("%s: tools[%zu] has no string \"id\"", origin, i);
				err = -EINVAL;
				goto out;
			}
			err = add_tool(ct, origin, json_string_value(id), t);
			if (err)
				goto out;
		}
	} else {
		const char *k;

		json_object_foreach(tools, k, t)
		{
			err = add_tool(ct, origin, k, t);
			if (err)
				goto out;
		}
	}
	if (ct->nhashes)
		qsort(ct->hashes, ct->nhashes, sizeof(*ct->hashes), ct_cmp_hash);
	if (ct->gen_src && asprintf(&ct->gen_origin, "%s content_markers", origin) < 0) {
		ct->gen_origin = NULL;
		err = -ENOMEM;
	}
out:
	json_decref(root);
	return err;
}

const struct tool *ct_find_tool(const struct cw_content *ct, const char *id)
{
	for (size_t i = 0; i < ct->ntools; i++)
		if (!strcmp(ct->tools[i].id, id))
			return &ct->tools[i];
	return NULL;
}

/* ---- rules -------------------------------------------------------------- */

struct compile_ctx {
	const char *origin;
	int errors;
};

static void compiler_cb(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
                        void *data)
{
	struct compile_ctx *cc = data;
	const char *where = file ? file : cc->origin ? cc->origin : "YARA rules";

	(void)rule;
	if (level == YARA_ERROR_LEVEL_ERROR) {
		cc->errors++;
		cw_err("%s:%d: YARA rule error: %s; fix or remove the rule file", where, line, msg);
	} else {
		cw_warn("%s:%d: YARA rule warning: %s", where, line, msg);
	}
}

/* Conservative: does the rule text use the per-exec externals basename, path
 * or argv as identifiers (outside comments and text strings)? A false "yes"
 * only costs cache efficiency; a false "no" cannot happen for real uses. */
static bool uses_context(const char *s)
{
	while (*s) {
		if (s[0] == '/' && s[1] == '/') {
			while (*s && *s != '\n')
				s++;
		} else if (s[0] == '/' && s[1] == '*') {
			const char *e = strstr(s + 2, "*/");

			s = e ? e + 2 : s + strlen(s);
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			if (*s)
				s++;
		} else if (isalpha((unsigned char)*s) || *s == '_') {
			const char *b = s;

			while (isalnum((unsigned char)*s) || *s == '_')
				s++;
			if ((size_t)(s - b) == 8 && !strncmp(b, "basename", 8))
				return true;
			if ((size_t)(s - b) == 4 &&
			    (!strncmp(b, "path", 4) || !strncmp(b, "argv", 4)))
				return true;
		} else if (*s == '$' || *s == '#' || *s == '@' || *s == '!') {
			/* string reference: skip its identifier */
			for (s++; isalnum((unsigned char)*s) || *s == '_' || *s == '*'; s++)
				;
		} else {
			s++;
		}
	}
	return false;
}

static int add_rule_text(YR_COMPILER *comp, struct compile_ctx *cc, const char *text,
                         const char *origin, bool *context)
{
	int failed;

	cc->origin = origin;
	failed = yr_compiler_add_string(comp, text, origin) != 0 || cc->errors;
	cc->origin = NULL; /* origin may be a caller's stack buffer */
	if (failed) {
		cw_err("%s: rules not compiled; cagewatch will not start with a broken rule file",
		       origin);
		return -EINVAL;
	}
	if (uses_context(text))
		*context = true;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_rule_file(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' &&
	       ((l > 4 && !strcmp(n + l - 4, ".yar")) || (l > 5 && !strcmp(n + l - 5, ".yara")));
}

static int add_rule_dir(YR_COMPILER *comp, struct compile_ctx *cc, const char *dir, bool *context)
{
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d) {
		err = -errno;
		cw_err("cannot open the YARA rules directory %s: %s; check --rules / the "
		       "configuration",
		       dir, strerror(errno));
		return err;
	}
	while ((de = readdir(d))) {
		char **nn;

		if (!is_rule_file(de->d_name))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			if (nn)
				names = nn;
			err = -ENOMEM;
			goto out;
		}
		names = nn;
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && !err; i++) {
		char path[4096], *text = NULL;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		err = cw_read_file(path, MAX_RULE_FILE, &text, &len);
		if (err) {
			cw_err("cannot read YARA rule file %s: %s", path, cw_strerror(err));
			break;
		}
		if (strlen(text) != len) {
			cw_err("%s: rule file contains a NUL byte; YARA rules are text", path);
			err = -EINVAL;
		} else {
			err = add_rule_text(comp, cc, text, path, context);
		}
		free(text);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return err;
}

const YR_META *ct_rule_meta(const YR_RULE *rule, const char *id)
{
	const YR_META *m;

	yr_rule_metas_foreach(rule, m)
	{
		if (!strcmp(m->identifier, id))
			return m;
	}
	return NULL;
}

/* Every reportable rule names its tool and a known category. */
static int check_rule_metas(struct cw_content *ct)
{
	const YR_RULE *rule;
	int err = 0;

	yr_rules_foreach(ct->rules, rule)
	{
		const YR_META *tool, *cat, *conf;
		const char *file = rule->ns ? rule->ns->name : "?";

		if (rule->flags & (RULE_FLAGS_PRIVATE | RULE_FLAGS_GLOBAL))
			continue;
		ct->nrules++;
		tool = ct_rule_meta(rule, "tool");
		cat = ct_rule_meta(rule, "category");
		conf = ct_rule_meta(rule, "confidence");
		if (!tool || tool->type != META_TYPE_STRING || !cat ||
		    cat->type != META_TYPE_STRING) {
			cw_err(
			    "%s: rule %s: needs string meta \"tool\" and \"category\" (a catalogue "
			    "category id)",
			    file, rule->identifier);
			err = -EINVAL;
			continue;
		}
		if (!cw_catalogue_category(ct->cat, cat->string)) {
			cw_err("%s: rule %s: category \"%s\" is not in the catalogue", file,
			       rule->identifier, cat->string);
			err = -EINVAL;
		}
		if (conf &&
		    (conf->type != META_TYPE_INTEGER || conf->integer < 0 || conf->integer > 100)) {
			cw_err("%s: rule %s: meta \"confidence\" must be an integer 0..100", file,
			       rule->identifier);
			err = -EINVAL;
		}
	}
	return err;
}

int ct_compile_rules(struct cw_content *ct, const char *user_dir)
{
	struct compile_ctx cc = {0};
	YR_COMPILER *comp = NULL;
	int err;

	if (yr_compiler_create(&comp) != ERROR_SUCCESS)
		return -ENOMEM;
	yr_compiler_set_callback(comp, compiler_cb, &cc);
	if (yr_compiler_define_string_variable(comp, "basename", "") ||
	    yr_compiler_define_string_variable(comp, "path", "") ||
	    yr_compiler_define_string_variable(comp, "argv", "") ||
	    yr_compiler_define_string_variable(comp, "sha256", "")) {
		err = -ENOMEM;
		goto out;
	}
	err = add_rule_text(comp, &cc, cw_embedded_yara, EMBEDDED_ORIGIN, &ct->context_rules);
	if (!err && ct->gen_src)
		err = add_rule_text(comp, &cc, ct->gen_src, ct->gen_origin, &ct->context_rules);
	if (!err && user_dir)
		err = add_rule_dir(comp, &cc, user_dir, &ct->context_rules);
	if (err)
		goto out;
	if (yr_compiler_get_rules(comp, &ct->rules) != ERROR_SUCCESS) {
		cw_err("YARA could not finish compiling the rules (out of memory?)");
		err = -ENOMEM;
		goto out;
	}
	err = check_rule_metas(ct);
out:
	yr_compiler_destroy(comp);
	return err;
}
