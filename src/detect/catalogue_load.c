/* catalogue_load.c - reading the tool catalogue (rules/catalogue.json,
 * embedded in embed.S, or a user's file): every key checked, every error
 * naming where and what was expected; categories, tools, interpreters. */
#include "catalogue.h"
#include "catalogue_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mitre.h"
#include "rulefile.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* Validation helpers: every error names origin, location, key and expectation. */

static bool is_charset(const char *s, const char *set)
{
	if (!*s)
		return false;
	return strspn(s, set) == strlen(s);
}

static int dup_str(const struct cw_rule_ctx *l, json_t *obj, const char *key, char **out)
{
	const char *s;
	int err = cw_rule_str(l, obj, key, true, &s);

	if (err)
		return err;
	*out = strdup(s);
	if (!*out) {
		cw_err("%s: out of memory loading the catalogue", l->origin);
		return -ENOMEM;
	}
	return 0;
}

static void glob_init(struct glob *g, const char *pat)
{
	size_t n = strcspn(pat, "*?[\\");

	g->pat = pat;
	g->prefix_len = n;
	g->literal = pat[n] == '\0';
}

static void first_add(uint64_t first[4], const char *pat)
{
	unsigned char ch = (unsigned char)pat[0];

	if (ch && strchr("*?[\\", ch))
		memset(first, 0xff, 4 * sizeof(uint64_t));
	else
		first[ch >> 6] |= 1ull << (ch & 63);
}

static void globset_free(struct globset *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/* An optional array of globs. basename: the globs are matched against file
 * basenames, so a '/' in one means it could never match. */
static int get_globs(const struct cw_rule_ctx *l, json_t *obj, const char *key, bool basename,
                     struct globset *set)
{
	json_t *arr, *v;
	size_t i;
	int err;

	memset(set, 0, sizeof(*set));
	err = cw_rule_str_array(l, obj, key, false, &arr);
	if (err || !arr || json_array_size(arr) == 0)
		return err;
	set->v = calloc(json_array_size(arr), sizeof(*set->v));
	if (!set->v) {
		cw_err("%s: out of memory loading the catalogue", l->origin);
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		const char *pat = json_string_value(v);

		if (basename && strchr(pat, '/')) {
			globset_free(set);
			return cw_rule_fail(
			    l,
			    "\"%s\"[%zu] (\"%s\") contains '/': patterns are matched against "
			    "basenames",
			    key, i, pat);
		}
		glob_init(&set->v[set->n++], pat);
		first_add(set->first, pat);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Categories */

static const char *const severities[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW", NULL};

#define UPPER_ENUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
#define ID_CHARS   "abcdefghijklmnopqrstuvwxyz0123456789_-"

static int parse_enum_array(const struct cw_rule_ctx *l, json_t *obj, const char *key,
                            bool required, const char *const *valid, json_t **out)
{
	json_t *arr, *v;
	size_t i;
	int err;

	*out = NULL;
	err = cw_rule_str_array(l, obj, key, false, &arr);
	if (err)
		return err;
	if (!arr) {
		if (required)
			return cw_rule_fail(
			    l, "missing required key \"%s\" (an array of MITRE enum names)", key);
		*out = json_array();
		return *out ? 0 : -ENOMEM;
	}
	if (required && json_array_size(arr) == 0)
		return cw_rule_fail(l, "\"%s\" must not be empty", key);
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);

		if (valid ? !cw_rule_in_list(s, valid) : !is_charset(s, UPPER_ENUM))
			return cw_rule_fail(
			    l, "\"%s\"[%zu] (\"%s\") is not a %s", key, i, s,
			    valid ? "MITRE tactic name (e.g. \"PRIVILEGE_ESCALATION\")"
			          : "MITRE technique enum name (e.g. \"ESCAPE_TO_HOST\")");
	}
	*out = json_deep_copy(arr);
	return *out ? 0 : -ENOMEM;
}

static void category_free(struct cw_category *k)
{
	free(k->id);
	free(k->category);
	free(k->module);
	free(k->severity);
	free(k->tactic);
	json_decref(k->techniques);
	json_decref(k->additional_tactics);
	free(k->description);
	free(k->next_steps);
	memset(k, 0, sizeof(*k));
}

static int parse_category(struct cw_rule_ctx *l, const char *id, json_t *obj, struct cw_category *k)
{
	static const char *const keys[] = {"category",
	                                   "module",
	                                   "severity",
	                                   "primaryTactic",
	                                   "primaryTechniques",
	                                   "additionalTactics",
	                                   "description",
	                                   "nextSteps",
	                                   NULL};
	int err;

	snprintf(l->where, sizeof(l->where), "categories.%s", id);
	if (!is_charset(id, ID_CHARS))
		return cw_rule_fail(l, "category id must be made of a-z, 0-9, '_' and '-'");
	if (!json_is_object(obj))
		return cw_rule_fail(l, "must be an object");
	err = cw_rule_check_keys(l, obj, keys);
	if (err)
		return err;
	k->id = strdup(id);
	if (!k->id)
		return -ENOMEM;
	if ((err = dup_str(l, obj, "category", &k->category)) ||
	    (err = dup_str(l, obj, "module", &k->module)) ||
	    (err = dup_str(l, obj, "severity", &k->severity)) ||
	    (err = dup_str(l, obj, "primaryTactic", &k->tactic)) ||
	    (err = dup_str(l, obj, "description", &k->description)) ||
	    (err = dup_str(l, obj, "nextSteps", &k->next_steps)))
		return err;
	if (!is_charset(k->module, UPPER_ENUM))
		return cw_rule_fail(l,
		                    "\"module\" (\"%s\") must be an upper-case API name like "
		                    "\"CONTAINER_ESCAPE\"",
		                    k->module);
	if (!cw_rule_in_list(k->severity, severities))
		return cw_rule_fail(
		    l, "\"severity\" (\"%s\") must be one of CRITICAL, HIGH, MEDIUM, LOW",
		    k->severity);
	if (!cw_rule_in_list(k->tactic, cw_mitre_tactics()))
		return cw_rule_fail(l,
		                    "\"primaryTactic\" (\"%s\") is not a MITRE tactic name (e.g. "
		                    "\"PRIVILEGE_ESCALATION\")",
		                    k->tactic);
	err = parse_enum_array(l, obj, "primaryTechniques", true, NULL, &k->techniques);
	if (err)
		return err;
	return parse_enum_array(l, obj, "additionalTactics", false, cw_mitre_tactics(),
	                        &k->additional_tactics);
}

int cw_category_parse(const char *origin, const char *id, json_t *obj, struct cw_category *out)
{
	struct cw_rule_ctx l = {.origin = origin};
	int err;

	memset(out, 0, sizeof(*out));
	err = parse_category(&l, id, obj, out);
	if (err)
		category_free(out);
	return err;
}

void cw_category_clear(struct cw_category *k)
{
	category_free(k);
}

/* ------------------------------------------------------------------------ */
/* Tools */

static void tool_free(struct tool *t)
{
	globset_free(&t->names);
	globset_free(&t->ambiguous);
	globset_free(&t->scripts);
	globset_free(&t->argv0);
	globset_free(&t->subcmds);
	globset_free(&t->argv);
}

static const struct cw_category *find_cat(const struct cw_catalogue *c, const char *id)
{
	for (size_t i = 0; i < c->ncats; i++)
		if (strcmp(c->cats[i].id, id) == 0)
			return &c->cats[i];
	return NULL;
}

static int parse_tool(struct cw_rule_ctx *l, const struct cw_catalogue *c, size_t idx, json_t *obj,
                      struct tool *t)
{
	static const char *const keys[] = {
	    "id",      "name",  "category",    "reference", "names",           "ambiguous_names",
	    "scripts", "argv0", "subcommands", "argv",      "content_markers", "sha256",
	    NULL};
	const char *catid, *ref;
	json_t *arr, *v;
	size_t i;
	int err;

	snprintf(l->where, sizeof(l->where), "tools[%zu]", idx);
	if (!json_is_object(obj))
		return cw_rule_fail(l, "must be an object");
	err = cw_rule_str(l, obj, "id", true, &t->id);
	if (err)
		return err;
	snprintf(l->where, sizeof(l->where), "tools[%zu] (\"%.*s\")", idx, CW_TOOL_ID_MAX, t->id);
	if (strlen(t->id) > CW_TOOL_ID_MAX || !is_charset(t->id, ID_CHARS))
		return cw_rule_fail(l,
		                    "\"id\" must be at most %d characters of a-z, 0-9, '_' and '-'",
		                    CW_TOOL_ID_MAX);
	if ((err = cw_rule_check_keys(l, obj, keys)) ||
	    (err = cw_rule_str(l, obj, "name", true, &t->name)) ||
	    (err = cw_rule_str(l, obj, "category", true, &catid)) ||
	    (err = cw_rule_str(l, obj, "reference", false, &ref)))
		return err;
	t->cat = find_cat(c, catid);
	if (!t->cat)
		return cw_rule_fail(l,
		                    "\"category\" names unknown category \"%s\" (define it under "
		                    "\"categories\")",
		                    catid);
	if ((err = get_globs(l, obj, "names", true, &t->names)) ||
	    (err = get_globs(l, obj, "ambiguous_names", true, &t->ambiguous)) ||
	    (err = get_globs(l, obj, "scripts", true, &t->scripts)) ||
	    (err = get_globs(l, obj, "argv0", true, &t->argv0)) ||
	    (err = get_globs(l, obj, "subcommands", false, &t->subcmds)) ||
	    (err = get_globs(l, obj, "argv", false, &t->argv)))
		return err;
	if (!t->names.n && !t->ambiguous.n && !t->scripts.n)
		return cw_rule_fail(
		    l, "needs a non-empty \"names\", \"ambiguous_names\" or \"scripts\" "
		       "array: without one the tool could never be recognised");
	if (t->ambiguous.n && !t->subcmds.n && !t->argv.n)
		return cw_rule_fail(
		    l, "\"ambiguous_names\" need a non-empty \"subcommands\" or \"argv\" "
		       "vocabulary: an ambiguous name counts only with one of its tokens");
	err = cw_rule_str_array(l, obj, "content_markers", false, &arr);
	if (err)
		return err;
	err = cw_rule_str_array(l, obj, "sha256", false, &arr);
	if (err)
		return err;
	json_array_foreach(arr, i, v)
	{
		const char *h = json_string_value(v);

		if (strlen(h) != 64 || !is_charset(h, "0123456789abcdef"))
			return cw_rule_fail(
			    l, "\"sha256\"[%zu] (\"%.70s\") must be 64 lowercase hex digits", i, h);
	}
	for (i = 0; i < idx; i++)
		if (strcmp(c->tools[i].id, t->id) == 0)
			return cw_rule_fail(l, "duplicate tool id \"%s\" (also tools[%zu])", t->id,
			                    i);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Interpreters and loaders */

static void optspec_free(struct optspec *o)
{
	globset_free(&o->names);
	free(o->lopts);
	o->lopts = NULL;
	o->nlopts = 0;
}

static int parse_opts(const struct cw_rule_ctx *l, json_t *obj, const char *key, enum opt_kind kind,
                      struct optspec *o)
{
	json_t *arr, *v;
	size_t i;
	int err = cw_rule_str_array(l, obj, key, false, &arr);

	if (err || !arr)
		return err;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		size_t n = strlen(s);

		if (n == 2 && s[0] == '-' && s[1] != '-') {
			o->shortk[(unsigned char)s[1]] = (unsigned char)kind;
		} else if (n > 2 && s[0] == '-' && s[1] == '-' && !strchr(s, '=')) {
			struct longopt *lo = realloc(o->lopts, (o->nlopts + 1) * sizeof(*lo));

			if (!lo)
				return -ENOMEM;
			o->lopts = lo;
			lo[o->nlopts++] = (struct longopt){.name = s, .len = n, .kind = kind};
		} else {
			return cw_rule_fail(
			    l,
			    "\"%s\"[%zu] (\"%s\") must be a short option (\"-c\") or a long "
			    "option (\"--eval\")",
			    key, i, s);
		}
	}
	return 0;
}

static int parse_optspec(struct cw_rule_ctx *l, const char *what, size_t idx, json_t *obj,
                         struct optspec *o)
{
	static const char *const keys[] = {"names",    "plus_options", "stop", "module",
	                                   "with_arg", "attached",     NULL};
	json_t *plus;
	int err;

	snprintf(l->where, sizeof(l->where), "%s[%zu]", what, idx);
	if (!json_is_object(obj))
		return cw_rule_fail(l, "must be an object");
	err = cw_rule_check_keys(l, obj, keys);
	if (err)
		return err;
	err = get_globs(l, obj, "names", true, &o->names);
	if (err)
		return err;
	if (!o->names.n)
		return cw_rule_fail(l, "missing or empty \"names\" (an array of basename globs)");
	plus = json_object_get(obj, "plus_options");
	if (plus && !json_is_boolean(plus))
		return cw_rule_fail(l, "\"plus_options\" must be true or false");
	o->plus = json_is_true(plus);
	if ((err = parse_opts(l, obj, "stop", OPT_STOP, o)) ||
	    (err = parse_opts(l, obj, "module", OPT_MODULE, o)) ||
	    (err = parse_opts(l, obj, "with_arg", OPT_ARG, o)) ||
	    (err = parse_opts(l, obj, "attached", OPT_ATTACHED, o)))
		return err;
	return 0;
}

static int parse_optspecs(struct cw_rule_ctx *l, json_t *root, const char *key,
                          struct optspec **out, size_t *n)
{
	json_t *arr = json_object_get(root, key), *v;
	size_t i;
	int err;

	l->where[0] = '\0';
	if (!arr)
		return cw_rule_fail(l, "missing required key \"%s\" (an array, may be empty)", key);
	if (!json_is_array(arr))
		return cw_rule_fail(l, "\"%s\" must be an array of objects", key);
	if (json_array_size(arr) == 0)
		return 0;
	*out = calloc(json_array_size(arr), sizeof(**out));
	if (!*out)
		return -ENOMEM;
	json_array_foreach(arr, i, v)
	{
		err = parse_optspec(l, key, i, v, &(*out)[i]);
		*n = i + 1;
		if (err)
			return err;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Load / free */

void cw_catalogue_free(struct cw_catalogue *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ncats; i++)
		category_free(&c->cats[i]);
	free(c->cats);
	for (size_t i = 0; i < c->ntools; i++)
		tool_free(&c->tools[i]);
	free(c->tools);
	for (size_t i = 0; i < c->ninterps; i++)
		optspec_free(&c->interps[i]);
	free(c->interps);
	for (size_t i = 0; i < c->nloaders; i++)
		optspec_free(&c->loaders[i]);
	free(c->loaders);
	globset_free(&c->multicall);
	json_decref(c->root);
	free(c);
}

static int load_doc(struct cw_catalogue *c, struct cw_rule_ctx *l)
{
	static const char *const keys[] = {"schema",  "categories", "tools", "interpreters",
	                                   "loaders", "multicall",  NULL};
	json_t *root = c->root, *v, *cats, *tools;
	const char *key;
	size_t i;
	int err;

	if (!json_is_object(root))
		return cw_rule_fail(l, "the catalogue must be a JSON object");
	err = cw_rule_check_keys(l, root, keys);
	if (err)
		return err;
	v = json_object_get(root, "schema");
	if (!json_is_integer(v) || json_integer_value(v) != CW_CAT_SCHEMA)
		return cw_rule_fail(l, "\"schema\" must be the integer %d (this catalogue format)",
		                    CW_CAT_SCHEMA);

	cats = json_object_get(root, "categories");
	if (!json_is_object(cats) || json_object_size(cats) == 0)
		return cw_rule_fail(l,
		                    "\"categories\" must be a non-empty object of category id -> "
		                    "category");
	c->cats = calloc(json_object_size(cats), sizeof(*c->cats));
	if (!c->cats)
		return -ENOMEM;
	json_object_foreach(cats, key, v)
	{
		err = parse_category(l, key, v, &c->cats[c->ncats++]);
		if (err)
			return err;
	}

	l->where[0] = '\0';
	tools = json_object_get(root, "tools");
	if (!json_is_array(tools) || json_array_size(tools) == 0)
		return cw_rule_fail(l, "\"tools\" must be a non-empty array of tool objects");
	c->tools = calloc(json_array_size(tools), sizeof(*c->tools));
	if (!c->tools)
		return -ENOMEM;
	json_array_foreach(tools, i, v)
	{
		struct tool *t = &c->tools[c->ntools++];

		err = parse_tool(l, c, i, v, t);
		if (err)
			return err;
		for (int w = 0; w < 4; w++) {
			c->name_first[w] |=
			    t->names.first[w] | t->ambiguous.first[w] | t->scripts.first[w];
			c->script_first[w] |= t->scripts.first[w];
			c->argv0_first[w] |= t->argv0.first[w];
		}
	}

	if ((err = parse_optspecs(l, root, "interpreters", &c->interps, &c->ninterps)) ||
	    (err = parse_optspecs(l, root, "loaders", &c->loaders, &c->nloaders)))
		return err;
	l->where[0] = '\0';
	if (!json_is_array(json_object_get(root, "multicall")))
		return cw_rule_fail(
		    l, "missing or invalid \"multicall\" (an array of basename globs, may "
		       "be empty)");
	return get_globs(l, root, "multicall", true, &c->multicall);
}

int cw_catalogue_load(struct cw_catalogue **out, const char *text, size_t len, const char *origin)
{
	struct cw_rule_ctx l = {.origin = origin ? origin : "catalogue"};
	struct cw_catalogue *c;
	json_error_t jerr;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!text || len == 0)
		return cw_rule_fail(&l, "empty catalogue");
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!c->root) {
		cw_err("%s:%d:%d: invalid JSON: %s", l.origin, jerr.line, jerr.column, jerr.text);
		free(c);
		return -EINVAL;
	}
	err = load_doc(c, &l);
	if (err) {
		if (err == -ENOMEM)
			cw_err("%s: out of memory loading the catalogue", l.origin);
		cw_catalogue_free(c);
		return err == -ENOMEM ? err : -EINVAL;
	}
	*out = c;
	return 0;
}

int cw_catalogue_load_default(struct cw_catalogue **out)
{
	/* The text is NUL-terminated; the recorded length may include the
	 * assembler's alignment padding after it, so stop at the NUL. */
	return cw_catalogue_load(out, cw_embedded_catalogue,
	                         strnlen(cw_embedded_catalogue, cw_embedded_catalogue_len),
	                         "rules/catalogue.json (embedded)");
}

const struct cw_category *cw_catalogue_category(const struct cw_catalogue *c, const char *id)
{
	if (!c || !id)
		return NULL;
	return find_cat(c, id);
}

size_t cw_catalogue_tool_count(const struct cw_catalogue *c)
{
	return c ? c->ntools : 0;
}

int cw_catalogue_tool(const struct cw_catalogue *c, size_t i, struct cw_tool_ref *out)
{
	if (!c || !out || i >= c->ntools)
		return -EINVAL;
	out->id = c->tools[i].id;
	out->name = c->tools[i].name;
	out->cat = c->tools[i].cat;
	return 0;
}

int cw_catalogue_find_tool(const struct cw_catalogue *c, const char *id, struct cw_tool_ref *out)
{
	if (!c || !id || !out)
		return -EINVAL;
	for (size_t i = 0; i < c->ntools; i++)
		if (strcmp(c->tools[i].id, id) == 0)
			return cw_catalogue_tool(c, i, out);
	return -ENOENT;
}

const json_t *cw_catalogue_json(const struct cw_catalogue *c)
{
	return c ? c->root : NULL;
}

void cw_detection_clear(struct cw_detection *d)
{
	if (!d)
		return;
	json_decref(d->extra);
	memset(d, 0, sizeof(*d));
}
