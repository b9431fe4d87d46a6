/* catalogue.c - loads and validates the tool catalogue (rules/catalogue.json) and
 * runs its first recognition layer on every exec: executable names (seen through
 * ld.so and busybox), script names handed to interpreters, argv[0] of
 * re-executions, and argv vocabulary as supporting or required evidence.
 *
 * Loading does all the work that can be done once (glob prefixes, option tables,
 * category links); matching allocates nothing and touches only basenames and, on
 * a name hit, the argument list.
 */
#include "catalogue.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rulefile.h"
#include "util.h"

#define CW_CAT_SCHEMA     1
#define CW_TOOL_ID_MAX    64
#define CW_HOPS_MAX       4   /* loader/multicall indirections followed */
#define CW_DETAIL_VAL_MAX 160 /* bytes of one value quoted in detail */

/* One fnmatch pattern on a basename or argv element. */
struct glob {
	const char *pat;   /* points into the retained JSON document */
	size_t prefix_len; /* literal bytes before the first wildcard */
	bool literal;      /* no wildcard at all: plain string compare */
};

/* first[] has a bit for every byte a member can start with (all bits when
 * one starts with a wildcard): most candidates are rejected with one test. */
struct globset {
	struct glob *v;
	size_t n;
	uint64_t first[4];
};

enum opt_kind {
	OPT_NONE = 0,
	OPT_STOP,     /* no file operand follows (-c CMD, -e CODE, stdin) */
	OPT_MODULE,   /* the value names the program (python -m MOD) */
	OPT_ARG,      /* takes a value, attached or as the next element */
	OPT_ATTACHED, /* takes an optional value, attached only */
};

struct longopt {
	const char *name;
	size_t len;
	enum opt_kind kind;
};

/* How to find the operand (script or program) of an interpreter or loader. */
struct optspec {
	struct globset names;
	bool plus; /* "+o" style options too (shells) */
	unsigned char shortk[256];
	struct longopt *lopts;
	size_t nlopts;
};

struct tool {
	const char *id;
	const char *name;
	const struct cw_category *cat;
	struct globset names, ambiguous, scripts, argv0, subcmds, argv;
};

struct cw_catalogue {
	json_t *root;
	struct cw_category *cats;
	size_t ncats;
	struct tool *tools;
	size_t ntools;
	struct optspec *interps;
	size_t ninterps;
	struct optspec *loaders;
	size_t nloaders;
	struct globset multicall;
	uint64_t name_first[4];   /* union over tools: names, ambiguous_names, scripts */
	uint64_t script_first[4]; /* union over tools: scripts */
	uint64_t argv0_first[4];  /* union over tools: argv0 */
};

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

static bool glob_match(const struct glob *g, const char *s)
{
	if (g->literal)
		return strcmp(g->pat, s) == 0;
	if (g->prefix_len && strncmp(g->pat, s, g->prefix_len) != 0)
		return false;
	return fnmatch(g->pat, s, 0) == 0;
}

static void first_add(uint64_t first[4], const char *pat)
{
	unsigned char ch = (unsigned char)pat[0];

	if (ch && strchr("*?[\\", ch))
		memset(first, 0xff, 4 * sizeof(uint64_t));
	else
		first[ch >> 6] |= 1ull << (ch & 63);
}

static bool first_may(const uint64_t first[4], const char *s)
{
	unsigned char ch = (unsigned char)s[0];

	return first[ch >> 6] & (1ull << (ch & 63));
}

/* Index of the first glob in set matching s, or -1. */
static int globset_match(const struct globset *set, const char *s)
{
	if (!first_may(set->first, s))
		return -1;
	for (size_t i = 0; i < set->n; i++)
		if (glob_match(&set->v[i], s))
			return (int)i;
	return -1;
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
static const char *const tactics[] = {"RECONNAISSANCE",
                                      "RESOURCE_DEVELOPMENT",
                                      "INITIAL_ACCESS",
                                      "EXECUTION",
                                      "PERSISTENCE",
                                      "PRIVILEGE_ESCALATION",
                                      "DEFENSE_EVASION",
                                      "CREDENTIAL_ACCESS",
                                      "DISCOVERY",
                                      "LATERAL_MOVEMENT",
                                      "COLLECTION",
                                      "COMMAND_AND_CONTROL",
                                      "EXFILTRATION",
                                      "IMPACT",
                                      NULL};

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
	if (!cw_rule_in_list(k->tactic, tactics))
		return cw_rule_fail(l,
		                    "\"primaryTactic\" (\"%s\") is not a MITRE tactic name (e.g. "
		                    "\"PRIVILEGE_ESCALATION\")",
		                    k->tactic);
	err = parse_enum_array(l, obj, "primaryTechniques", true, NULL, &k->techniques);
	if (err)
		return err;
	return parse_enum_array(l, obj, "additionalTactics", false, tactics,
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

/* ------------------------------------------------------------------------ */
/* Matching */

/* What one exec looks like once launchers are seen through. */
struct view {
	const struct cw_exec *ex;
	const char *exe;       /* basename of the effective program */
	int prog_idx;          /* its argv index; its arguments follow */
	const char *loader;    /* ld.so basename if the program ran through it */
	const char *multicall; /* busybox basename if exe is an applet name */
	const char *fname;     /* basename of ex->filename when it adds information */
	bool fname_script;     /* ... and it is a script run through its "#!" line */
	int fname_args;        /* argv index where fname's arguments start */
	const char *interp;    /* interpreter basename (exe) when a script operand was found */
	const char *script;    /* basename of the script (or module) operand */
	int script_args;
	const char *argv0; /* basename of argv[0] */
};

static const struct optspec *optspec_find(const struct optspec *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (globset_match(&v[i].names, name) >= 0)
			return &v[i];
	return NULL;
}

static enum opt_kind long_kind(const struct optspec *o, const char *a, size_t len)
{
	for (size_t i = 0; i < o->nlopts; i++)
		if (o->lopts[i].len == len && memcmp(o->lopts[i].name, a, len) == 0)
			return o->lopts[i].kind;
	return OPT_NONE;
}

/* Skip the launcher's own options from argv[i] on. Returns the argv index of the
 * operand (script, module or program) and sets *operand, or -1 when there is
 * none (-c CMD, stdin, end of arguments). A module operand may be attached to
 * its option ("-mfoo"): the index is then that option's. */
static int find_operand(const struct optspec *o, char *const *argv, int argc, int i,
                        const char **operand)
{
	for (; i < argc && argv[i]; i++) {
		const char *a = argv[i];

		if (a[0] == '-' && a[1] == '-') {
			const char *eq;
			size_t n;
			enum opt_kind k;

			if (a[2] == '\0') { /* "--": the operand follows */
				if (i + 1 >= argc || !argv[i + 1])
					return -1;
				*operand = argv[i + 1];
				return i + 1;
			}
			eq = strchr(a, '=');
			n = eq ? (size_t)(eq - a) : strlen(a);
			k = long_kind(o, a, n);
			if (k == OPT_STOP)
				return -1;
			if (k == OPT_MODULE) {
				if (eq) {
					*operand = eq + 1;
					return i;
				}
				if (i + 1 >= argc || !argv[i + 1])
					return -1;
				*operand = argv[i + 1];
				return i + 1;
			}
			if (k == OPT_ARG && !eq)
				i++;
			continue;
		}
		if (a[0] == '-' && a[1] == '\0')
			return -1; /* program text on stdin */
		if ((a[0] == '-' || (a[0] == '+' && o->plus)) && a[1]) {
			for (const char *p = a + 1; *p; p++) {
				enum opt_kind k = o->shortk[(unsigned char)*p];

				if (k == OPT_STOP)
					return -1;
				if (k == OPT_MODULE) {
					if (p[1]) {
						*operand = p + 1;
						return i;
					}
					if (i + 1 >= argc || !argv[i + 1])
						return -1;
					*operand = argv[i + 1];
					return i + 1;
				}
				if (k == OPT_ARG) {
					if (!p[1])
						i++;
					break;
				}
				if (k == OPT_ATTACHED)
					break;
			}
			continue;
		}
		*operand = a;
		return i;
	}
	return -1;
}

static const char *arg_basename(const struct cw_exec *ex, int i)
{
	if (i < 0 || i >= ex->argc || !ex->argv[i] || !ex->argv[i][0])
		return NULL;
	return cw_basename(ex->argv[i]);
}

static void build_view(const struct cw_catalogue *c, const struct cw_exec *ex, struct view *v)
{
	const char *pb = ex->path[0] ? cw_basename(ex->path) : NULL;
	const char *fb = ex->filename[0] ? cw_basename(ex->filename) : NULL;
	const struct optspec *o;
	const char *operand;
	int k;

	memset(v, 0, sizeof(*v));
	v->ex = ex;
	v->argv0 = arg_basename(ex, 0);
	v->exe = pb && pb[0] ? pb : (fb && fb[0] ? fb : v->argv0);
	if (!v->exe || !v->exe[0]) {
		v->exe = NULL;
		return;
	}

	for (int hop = 0; hop < CW_HOPS_MAX && v->exe; hop++) {
		o = optspec_find(c->loaders, c->nloaders, v->exe);
		if (o) {
			v->loader = v->exe;
			k = find_operand(o, ex->argv, ex->argc, v->prog_idx + 1, &operand);
			v->exe = k >= 0 && operand[0] ? cw_basename(operand) : NULL;
			v->prog_idx = k;
			continue;
		}
		if (globset_match(&c->multicall, v->exe) >= 0) {
			/* A multi-call binary runs the applet named by its argv[0]
			 * ("busybox APPLET ..." when argv[0] is the binary itself). */
			const char *applet = arg_basename(ex, v->prog_idx);

			v->multicall = v->exe;
			if (applet && globset_match(&c->multicall, applet) >= 0) {
				v->prog_idx++;
				applet = arg_basename(ex, v->prog_idx);
			}
			v->exe = applet;
			continue;
		}
		break;
	}
	if (!v->exe || !v->exe[0]) {
		v->exe = NULL;
		return;
	}

	/* The name given to execve adds a second name (a symlink, or the script
	 * of a "#!" interpreter) unless a launcher already explained it. */
	if (!v->loader && !v->multicall && fb && fb[0] && strcmp(fb, v->exe) != 0) {
		v->fname = fb;
		v->fname_args = v->prog_idx + 1;
		for (int i = 1; i < ex->argc && ex->argv[i]; i++) {
			if (strcmp(ex->argv[i], ex->filename) == 0) {
				v->fname_args = i + 1;
				break;
			}
		}
	}

	o = optspec_find(c->interps, c->ninterps, v->exe);
	if (v->fname)
		v->fname_script = o || (ex->ev && (ex->ev->flags & CW_F_SCRIPT));
	if (o) {
		k = find_operand(o, ex->argv, ex->argc, v->prog_idx + 1, &operand);
		if (k >= 0 && operand[0]) {
			v->interp = v->exe;
			v->script = cw_basename(operand);
			v->script_args = k + 1;
			if (!v->script[0])
				v->script = NULL;
		}
	}
}

/* Bounded detail text: key="value" pairs, values escaped and capped. A value cut
 * short ends in "..." and every pair keeps its closing quote. */
struct dbuf {
	char *s;
	size_t cap, len;
};

#define D_RESERVE 5 /* room kept for `..."` and the NUL */

static bool d_put(struct dbuf *d, const char *s, size_t n)
{
	if (d->len + n + D_RESERVE > d->cap)
		return false;
	memcpy(d->s + d->len, s, n);
	d->len += n;
	d->s[d->len] = '\0';
	return true;
}

/* Append one value, escaped; false when it had to be cut. */
static bool d_value(struct dbuf *d, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[4];
		size_t n = 1;

		if (i >= max)
			return false;
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			n = 2;
		} else if (ch < 0x20 || ch == 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[ch >> 4];
			esc[3] = hex[ch & 15];
			n = 4;
		} else {
			esc[0] = (char)ch;
		}
		if (!d_put(d, esc, n))
			return false;
	}
	return true;
}

static void d_close(struct dbuf *d, bool complete)
{
	/* D_RESERVE guarantees the room. */
	if (!complete) {
		memcpy(d->s + d->len, "...", 3);
		d->len += 3;
	}
	d->s[d->len++] = '"';
	d->s[d->len] = '\0';
}

/* Open ` key="`; false when there is no room left for it. */
static bool d_open(struct dbuf *d, const char *key)
{
	size_t n = strlen(key);

	if (d->len + n + 3 + D_RESERVE > d->cap)
		return false;
	if (d->len)
		d_put(d, " ", 1);
	d_put(d, key, n);
	d_put(d, "=\"", 2);
	return true;
}

static void d_kv(struct dbuf *d, const char *key, const char *val)
{
	if (!val || !d_open(d, key))
		return;
	d_close(d, d_value(d, val, CW_DETAIL_VAL_MAX));
}

/* Collect the tool's argv vocabulary found in argv[from..] into d as
 * args="tok tok". The first positional argument is also tried against the
 * subcommands. Returns the number of tokens found. */
static int vocab(const struct tool *t, const struct cw_exec *ex, int from, struct dbuf *d)
{
	bool first_positional = true, open = false, complete = true;
	int found = 0;

	if (!t->subcmds.n && !t->argv.n)
		return 0;
	for (int i = from < 1 ? 1 : from; i < ex->argc && ex->argv[i]; i++) {
		const char *a = ex->argv[i];
		bool hit = false;

		if (a[0] != '-' && first_positional) {
			first_positional = false;
			hit = globset_match(&t->subcmds, a) >= 0;
		}
		if (!hit)
			hit = globset_match(&t->argv, a) >= 0;
		if (!hit)
			continue;
		if (found++ == 0)
			open = d_open(d, "args");
		else if (open && complete)
			complete = d_put(d, " ", 1);
		if (open && complete)
			complete = d_value(d, a, 64);
	}
	if (open)
		d_close(d, complete);
	return found;
}

static void fill(struct cw_detection *out, const struct tool *t, const char *layer,
                 const char *matched_on)
{
	out->cat = t->cat;
	out->tool_id = t->id;
	out->tool_name = t->name;
	snprintf(out->rule_id, sizeof(out->rule_id), "tool.%s.%s", t->id, layer);
	cw_strlcpy(out->matched_on, matched_on, sizeof(out->matched_on));
	out->extra = NULL;
}

static int hit_script_by_name(const struct tool *t, const struct view *v, const char *cand,
                              int args_from, bool is_fname, struct cw_detection *out)
{
	struct dbuf d = {.s = out->detail, .cap = sizeof(out->detail), .len = 0};

	out->detail[0] = '\0';
	d_kv(&d, is_fname ? "filename" : "basename", cand);
	if (is_fname)
		d_kv(&d, "interpreter", v->exe);
	vocab(t, v->ex, args_from, &d);
	fill(out, t, "script", "script");
	return 1;
}

/* Name layer for one candidate basename. Returns 1 on a match. */
static int match_name(const struct tool *t, const struct view *v, const char *cand, int args_from,
                      bool is_fname, struct cw_detection *out)
{
	struct dbuf d = {.s = out->detail, .cap = sizeof(out->detail), .len = 0};
	bool script_first = is_fname && v->fname_script, amb = false;
	int n;

	/* A "#!" script run by name is a script first. */
	if (script_first && globset_match(&t->scripts, cand) >= 0)
		return hit_script_by_name(t, v, cand, args_from, is_fname, out);
	if (globset_match(&t->names, cand) < 0) {
		if (globset_match(&t->ambiguous, cand) >= 0)
			amb = true;
		else if (!script_first && globset_match(&t->scripts, cand) >= 0)
			return hit_script_by_name(t, v, cand, args_from, is_fname, out);
		else
			return 0;
	}
	out->detail[0] = '\0';
	d_kv(&d, is_fname ? "filename" : "basename", cand);
	if (!is_fname) {
		d_kv(&d, "loader", v->loader);
		d_kv(&d, "multicall", v->multicall);
	}
	n = vocab(t, v->ex, args_from, &d);
	if (amb && !n) {
		out->detail[0] = '\0';
		return 0;
	}
	fill(out, t, "name", n ? "name+argv" : "name");
	return 1;
}

static int match_script(const struct tool *t, const struct view *v, struct cw_detection *out)
{
	struct dbuf d = {.s = out->detail, .cap = sizeof(out->detail), .len = 0};

	if (globset_match(&t->scripts, v->script) < 0)
		return 0;
	out->detail[0] = '\0';
	d_kv(&d, "interpreter", v->interp);
	d_kv(&d, "loader", v->loader);
	d_kv(&d, "multicall", v->multicall);
	d_kv(&d, "script", v->script);
	vocab(t, v->ex, v->script_args, &d);
	fill(out, t, "script", "script");
	return 1;
}

static int match_argv0(const struct tool *t, const struct view *v, struct cw_detection *out)
{
	struct dbuf d = {.s = out->detail, .cap = sizeof(out->detail), .len = 0};

	if (!t->argv0.n || globset_match(&t->argv0, v->argv0) < 0)
		return 0;
	out->detail[0] = '\0';
	d_kv(&d, "argv0", v->argv0);
	d_kv(&d, "basename", v->exe);
	vocab(t, v->ex, 1, &d);
	fill(out, t, "argv0", "argv");
	return 1;
}

int cw_catalogue_match(const struct cw_catalogue *c, const struct cw_exec *ex,
                       struct cw_detection *out)
{
	struct view v;
	size_t i;

	if (!c || !ex || !out || ex->argc < 0 || ex->argc > CW_MAX_ARGS)
		return -EINVAL;
	build_view(c, ex, &v);

	/* Strongest evidence first; within a layer the first tool in file order wins. */
	if (v.exe && first_may(c->name_first, v.exe))
		for (i = 0; i < c->ntools; i++)
			if (match_name(&c->tools[i], &v, v.exe, v.prog_idx + 1, false, out))
				return 1;
	if (v.fname && first_may(c->name_first, v.fname))
		for (i = 0; i < c->ntools; i++)
			if (match_name(&c->tools[i], &v, v.fname, v.fname_args, true, out))
				return 1;
	if (v.script && first_may(c->script_first, v.script))
		for (i = 0; i < c->ntools; i++)
			if (match_script(&c->tools[i], &v, out))
				return 1;
	if (v.argv0 && first_may(c->argv0_first, v.argv0))
		for (i = 0; i < c->ntools; i++)
			if (match_argv0(&c->tools[i], &v, out))
				return 1;
	return 0;
}

int cw_catalogue_operand(const struct cw_catalogue *c, const struct cw_exec *ex, const char **path)
{
	struct view v;
	const char *op = NULL;
	int kind = 0;

	build_view(c, ex, &v);
	if (v.script && v.script_args >= 1 && v.script_args - 1 < ex->argc) {
		op = ex->argv[v.script_args - 1];
		kind = 1;
	} else if (v.fname_script && ex->filename[0]) {
		op = ex->filename;
		kind = 1;
	} else if (v.loader && v.prog_idx > 0 && v.prog_idx < ex->argc) {
		op = ex->argv[v.prog_idx];
		kind = 2;
	}
	if (!op || !op[0] || op[0] == '-')
		return 0;
	*path = op;
	return kind;
}

bool cw_catalogue_name_relevant(const struct cw_catalogue *c, const char *name)
{
	if (!name || !name[0])
		return true;
	if (optspec_find(c->interps, c->ninterps, name) ||
	    optspec_find(c->loaders, c->nloaders, name) || globset_match(&c->multicall, name) >= 0)
		return true;
	for (size_t i = 0; i < c->ntools; i++) {
		const struct tool *t = &c->tools[i];

		if (globset_match(&t->names, name) >= 0 ||
		    globset_match(&t->ambiguous, name) >= 0 ||
		    globset_match(&t->scripts, name) >= 0 || globset_match(&t->argv0, name) >= 0)
			return true;
	}
	return false;
}

int cw_catalogue_inline(const struct cw_catalogue *c, const struct cw_exec *ex, const char **text)
{
	struct view v;

	if (!c || !ex || !text)
		return -EINVAL;
	build_view(c, ex, &v);
	if (!v.exe || !optspec_find(c->interps, c->ninterps, v.exe))
		return 0;
	for (int i = v.prog_idx + 1; i + 1 < ex->argc && ex->argv[i]; i++) {
		const char *a = ex->argv[i];
		size_t l = strlen(a);

		if (a[0] != '-' || l < 2 || a[1] == '-')
			continue;
		if (a[l - 1] == 'c' || (a[l - 1] == 'e' && l == 2)) { /* -c, -ec, perl/ruby -e */
			*text = ex->argv[i + 1];
			return 1;
		}
	}
	return 0;
}
