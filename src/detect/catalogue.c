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
#include "catalogue_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rulefile.h"
#include "util.h"

static bool first_may(const uint64_t first[4], const char *s)
{
	unsigned char ch = (unsigned char)s[0];

	return first[ch >> 6] & (1ull << (ch & 63));
}

static bool glob_match(const struct glob *g, const char *s)
{
	if (g->literal)
		return strcmp(g->pat, s) == 0;
	if (g->prefix_len && strncmp(g->pat, s, g->prefix_len) != 0)
		return false;
	return fnmatch(g->pat, s, 0) == 0;
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
