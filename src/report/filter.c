/* filter.c - SCC findings filter language: tokenizer, recursive-descent parser
 * and compiler to a parameterised SQL WHERE expression over the store's
 * `findings` table. Grammar (OR binds tighter than AND, as in SCC):
 *
 *   filter      := [ conj ]
 *   conj        := disj { AND disj }
 *   disj        := unary { OR unary }
 *   unary       := ( NOT | "-" ) unary | "(" conj ")" | restriction
 *   restriction := field op value        op := = : > < >= <=
 *
 * Every filter is compiled twice, for SQLite (the node's store) and for
 * PostgreSQL (the fleet's): the SQL pieces that differ are the dialect tables
 * in filter_dialect.c. Only column names, JSON paths and templates written in
 * these files appear in the SQL text; every user value (and every user-named
 * source_properties key) is bound to a placeholder.
 */
#include "filter.h"
#include "filter_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum ftype {
	F_TEXT, /* text column: = : */
	F_TIME, /* ms column: = > < >= <=, value RFC 3339 or epoch ms */
	F_INT,  /* integer column */
	F_JSON, /* fixed JSON path into the stored finding: = : */
	F_SP,   /* source_properties.<Key>: every operator */
};

struct field {
	const char *name;
	enum ftype type;
	const char *col; /* column name, or dotted JSON path for F_JSON ("processes.0.name") */
};

static const struct field fields[] = {
    {"name", F_TEXT, "name"},
    {"parent", F_TEXT, "parent"},
    {"category", F_TEXT, "category"},
    {"state", F_TEXT, "state"},
    {"severity", F_TEXT, "severity"},
    {"mute", F_TEXT, "mute"},
    {"finding_class", F_JSON, "findingClass"},
    {"external_uri", F_JSON, "externalUri"},
    {"module_name", F_JSON, "moduleName"},
    {"event_time", F_TIME, "event_time_ms"},
    {"create_time", F_TIME, "create_time_ms"},
    {"state_change_time", F_TIME, "state_change_ms"},
    {"mute_update_time", F_TIME, "mute_update_ms"},
    {"occurrence_count", F_INT, "occurrence_count"},
    {"resource_name", F_TEXT, "resource_name"},
    {"resource.name", F_TEXT, "resource_name"},
    {"resource.display_name", F_TEXT, "resource_display_name"},
    {"resource.type", F_TEXT, "resource_type"},
    {"resource.project_display_name", F_TEXT, "project_display_name"},
    {"resource.project_name", F_TEXT, "project_name"},
    {"resource.parent_name", F_JSON, "resource.gcpMetadata.parent"},
    {"resource.parent_display_name", F_JSON, "resource.gcpMetadata.parentDisplayName"},
    {"container.name", F_TEXT, "container_name"},
    {"containers.name", F_TEXT, "container_name"},
    {"container.id", F_TEXT, "container_id"},
    {"container.image", F_TEXT, "container_uri"},
    {"container.uri", F_TEXT, "container_uri"},
    {"containers.uri", F_TEXT, "container_uri"},
    {"container.image_id", F_TEXT, "container_image_id"},
    {"containers.image_id", F_TEXT, "container_image_id"},
    {"kubernetes.pod.name", F_TEXT, "pod_name"},
    {"kubernetes.pods.name", F_TEXT, "pod_name"},
    {"kubernetes.pod.ns", F_TEXT, "pod_ns"},
    {"kubernetes.pods.ns", F_TEXT, "pod_ns"},
    {"process.binary.path", F_TEXT, "binary_path"},
    {"processes.binary.path", F_TEXT, "binary_path"},
    {"process.name", F_JSON, "processes.0.name"},
    {"mitre_attack.primary_tactic", F_JSON, "mitreAttack.primaryTactic"},
};

#define SP_PREFIX "source_properties."
/* Limits that keep every accepted filter runnable in SQLite (its parser stack
 * holds about 100 levels and each filter level nests up to three SQL ones; its
 * expression trees are at most 1000 deep and a chain of N ORs is N deep). */
#define MAX_DEPTH 21
/* A source property's equality nests a subquery (a list holding the value):
 * it counts as this many more levels (19 NOTs around one overflowed SQLite's
 * parser stack; found by fuzz_filter). */
#define SP_EQ_LEVELS 2
#define MAX_TERMS    200

const char *cw_filter_fields_help(void)
{
	return "name, parent, category, state, severity, mute, finding_class, external_uri, "
	       "module_name, event_time, create_time, state_change_time, mute_update_time, "
	       "occurrence_count, resource_name, resource.name, resource.display_name, "
	       "resource.type, resource.project_display_name, resource.project_name, "
	       "resource.parent_name, resource.parent_display_name, container.name, container.id, "
	       "container.image (container.uri, containers.uri), container.image_id, "
	       "kubernetes.pod.name, kubernetes.pod.ns, process.binary.path, process.name, "
	       "mitre_attack.primary_tactic, source_properties.<Key>";
}

static const struct field *find_field(const char *name)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

const char *cw_filter_order_column(const char *field)
{
	const struct field *f = field ? find_field(field) : NULL;

	if (!f || f->type == F_JSON || f->type == F_SP)
		return NULL;
	return f->col;
}

/* ---- output ---- */

/* Append n bytes of SQL text. */
static void emit_raw(struct parser *p, const char *s, size_t n)
{
	if (p->oom)
		return;
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		char *nb;

		while (cap < p->len + n + 1)
			cap *= 2;
		nb = realloc(p->sql, cap);
		if (!nb) {
			p->oom = true;
			p->failed = true;
			return;
		}
		p->sql = nb;
		p->cap = cap;
	}
	memcpy(p->sql + p->len, s, n);
	p->len += n;
	p->sql[p->len] = '\0';
}

/* Append SQL text from this file; in a dialect with numbered placeholders
 * each `?` becomes $N (params are added in the order their `?` appear). */
static void emit(struct parser *p, const char *s)
{
	char num[16];

	if (!p->d->numbered) {
		emit_raw(p, s, strlen(s));
		return;
	}
	for (const char *q; (q = strchr(s, '?')); s = q + 1) {
		emit_raw(p, s, (size_t)(q - s));
		snprintf(num, sizeof(num), "$%d", ++p->nph);
		emit_raw(p, num, strlen(num));
	}
	emit_raw(p, s, strlen(s));
}

static struct cw_filter_param *new_param(struct parser *p)
{
	if (p->oom)
		return NULL;
	if (p->nparams == p->pcap) {
		size_t cap = p->pcap ? p->pcap * 2 : 8;
		struct cw_filter_param *np = realloc(p->params, cap * sizeof(*np));

		if (!np) {
			p->oom = true;
			p->failed = true;
			return NULL;
		}
		p->params = np;
		p->pcap = cap;
	}
	p->params[p->nparams] = (struct cw_filter_param){0};
	return &p->params[p->nparams++];
}

static void param_int(struct parser *p, int64_t v)
{
	struct cw_filter_param *fp = new_param(p);

	if (fp) {
		fp->type = CW_FP_INT;
		fp->i = v;
	}
}

static void param_text(struct parser *p, const char *s)
{
	struct cw_filter_param *fp = new_param(p);

	if (!fp)
		return;
	fp->type = CW_FP_TEXT;
	fp->s = strdup(s);
	if (!fp->s) {
		p->nparams--;
		p->oom = true;
		p->failed = true;
	}
}

/* A JSON path parameter in the dialect's form, from a dotted path. */
static void param_path(struct parser *p, const char *dotted)
{
	char buf[320];

	p->d->path(dotted, buf, sizeof(buf));
	param_text(p, buf);
}

/* ---- parser ---- */

enum vkind { V_STRING, V_INT, V_BOOL };

struct value {
	enum vkind kind;
	char *s; /* V_STRING text; V_INT/V_BOOL decimal text */
	int64_t i;
	size_t pos;
};

static bool parse_int(const char *s, bool neg, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return false;
	*out = neg ? -v : v;
	return true;
}

static bool parse_value(struct parser *p, const char *field, const char *op, struct value *v)
{
	bool neg = false;

	v->pos = p->pos;
	if (p->tok == T_MINUS) {
		neg = true;
		fl_next(p);
		if (p->tok != T_NUMBER) {
			fl_fail(p, v->pos, "expected an integer after \"-\" in the value of \"%s\"",
			        field);
			return false;
		}
	}
	switch (p->tok) {
	case T_STRING:
		v->kind = V_STRING;
		v->s = p->text;
		p->text = NULL;
		break;
	case T_NUMBER:
		if (!parse_int(p->text, neg, &v->i)) {
			fl_fail(p, v->pos, "integer %s%s is out of range", neg ? "-" : "", p->text);
			return false;
		}
		v->kind = V_INT;
		if (asprintf(&v->s, "%lld", (long long)v->i) < 0) {
			v->s = NULL;
			p->oom = p->failed = true;
			return false;
		}
		break;
	case T_WORD:
	case T_AND:
	case T_OR:
	case T_NOT:
		if (strcmp(p->text, "true") == 0 || strcmp(p->text, "false") == 0) {
			v->kind = V_BOOL;
			v->i = p->text[0] == 't';
		} else {
			v->kind = V_STRING; /* bare word: SCC enum values like ACTIVE */
		}
		v->s = p->text;
		p->text = NULL;
		break;
	default: {
		char buf[64];

		fl_fail(p, p->pos,
		        "expected a value (quoted string, integer, true or false) after \"%s %s\", "
		        "found %s",
		        field, op, fl_tok_desc(p, buf, sizeof(buf)));
		return false;
	}
	}
	fl_next(p);
	return true;
}

static const char *sql_op(const char *op)
{
	return strcmp(op, "=") == 0 ? "=" : op; /* > < >= <= are the same in SQL */
}

static bool valid_sp_key(const char *k)
{
	size_t n = k ? strlen(k) : 0;

	if (n < 1 || n > 255 || !isalpha((unsigned char)k[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_')
			return false;
	return true;
}

/* One `field op value` restriction being compiled. */
struct restriction {
	const char *fname, *spkey, *op;
	size_t fpos, oppos;
	const struct field *f;
	const struct value *v;
	bool is_colon, is_eq;
};

/* Text and JSON columns: = and : only. */
static void compile_text(struct parser *p, const struct restriction *r)
{
	const struct field *f = r->f;
	const struct value *v = r->v;
	char buf[128];

	if (!r->is_colon && !r->is_eq) {
		fl_fail(p, r->oppos,
		        "operator \"%s\" is not supported for field \"%s\": use = or : "
		        "(> < >= <= compare integers and times)",
		        r->op, r->fname);
		return;
	}
	if (f->type == F_TEXT) {
		snprintf(buf, sizeof(buf), r->is_eq ? "%s = ?" : p->d->text_has, f->col);
		emit(p, buf);
	} else if (r->is_colon && v->s[0] == 0) {
		emit(p, p->d->json_present);
		param_path(p, f->col);
		return;
	} else {
		emit(p, r->is_eq ? p->d->json_eq : p->d->json_has);
		param_path(p, f->col);
	}
	param_text(p, v->s);
}

/* Integer and time columns: = > < >= <=, times as RFC 3339 or ms. */
static void compile_number(struct parser *p, const struct restriction *r)
{
	const struct field *f = r->f;
	const struct value *v = r->v;
	char buf[128];
	int64_t n;

	if (r->is_colon) {
		fl_fail(
		    p, r->oppos,
		    "operator \":\" is not supported for field \"%s\": use = > < >= <=", r->fname);
		return;
	}
	if (v->kind == V_INT) {
		n = v->i;
	} else if (v->kind == V_STRING && parse_int(v->s, false, &n)) {
		/* "1700000000000" */
	} else if (f->type == F_TIME && v->kind == V_STRING && cw_parse_rfc3339_ms(v->s, &n) == 0) {
		/* RFC 3339 */
	} else {
		fl_fail(p, v->pos,
		        f->type == F_TIME
		            ? "\"%s\" is not a time for field \"%s\": use RFC 3339 "
		              "(\"2026-01-02T03:04:05Z\") or milliseconds since the epoch"
		            : "\"%s\" is not an integer (field \"%s\")",
		        v->s, r->fname);
		return;
	}
	snprintf(buf, sizeof(buf), "%s %s ?", f->col, sql_op(r->op));
	emit(p, buf);
	param_int(p, n);
}

/* sourceProperties.KEY: presence, booleans, numbers, text. */
static void compile_sp(struct parser *p, const struct restriction *r)
{
	const struct value *v = r->v;
	char buf[256], path[300];

	if (!valid_sp_key(r->spkey)) {
		fl_fail(p, r->fpos,
		        "\"%s\" is not a valid source property key: letters, digits and _ "
		        "starting with a letter",
		        r->spkey);
		return;
	}
	snprintf(path, sizeof(path), "sourceProperties.%s", r->spkey);
	if (r->is_colon) {
		emit(p, v->s[0] ? p->d->json_has : p->d->json_present);
		param_path(p, path);
		if (v->s[0])
			param_text(p, v->s);
		return;
	}
	if (v->kind == V_BOOL) {
		if (!r->is_eq) {
			fl_fail(p, r->oppos, "operator \"%s\" does not apply to true/false", r->op);
			return;
		}
		emit(p, p->d->sp_bool);
		param_path(p, path);
		param_text(p, v->i ? "true" : "false");
		return;
	}
	if (v->kind != V_INT && r->is_eq) {
		/* a string, or a list (Risky_Settings) holding exactly it */
		if (p->depth + SP_EQ_LEVELS > MAX_DEPTH) {
			fl_fail(
			    p, r->fpos,
			    "filter nested too deeply (more than %d levels; a source_properties "
			    "equality counts as %d more)",
			    MAX_DEPTH, SP_EQ_LEVELS);
			return;
		}
		emit(p, p->d->sp_text_or_list);
		for (int k = 0; k < 2; k++) {
			param_path(p, path);
			param_path(p, path);
			param_text(p, v->s);
		}
		return;
	}
	snprintf(buf, sizeof(buf), v->kind == V_INT ? p->d->sp_num_cmp : p->d->sp_text_cmp,
	         sql_op(r->op));
	emit(p, buf);
	param_path(p, path);
	param_path(p, path);
	if (v->kind == V_INT)
		param_int(p, v->i);
	else
		param_text(p, v->s);
}

static void compile_restriction(struct parser *p, const char *fname, size_t fpos,
                                const struct field *f, const char *spkey, const char *op,
                                size_t oppos, const struct value *v)
{
	const struct restriction r = {.fname = fname,
	                              .spkey = spkey,
	                              .op = op,
	                              .fpos = fpos,
	                              .oppos = oppos,
	                              .f = f,
	                              .v = v,
	                              .is_colon = strcmp(op, ":") == 0,
	                              .is_eq = strcmp(op, "=") == 0};

	if (!f)
		compile_sp(p, &r);
	else if (f->type == F_TEXT || f->type == F_JSON)
		compile_text(p, &r);
	else if (f->type == F_TIME || f->type == F_INT)
		compile_number(p, &r);
	else
		compile_sp(p, &r);
}

static void parse_conj(struct parser *p);

static void parse_restriction(struct parser *p)
{
	char *fname, op[3], buf[64];
	const struct field *f = NULL;
	const char *spkey = NULL;
	size_t fpos = p->pos, oppos;
	struct value v = {0};

	if (p->tok != T_WORD) {
		fl_fail(p, p->pos, "expected a field name, NOT, \"-\" or \"(\", found %s",
		        fl_tok_desc(p, buf, sizeof(buf)));
		return;
	}
	if (++p->terms > MAX_TERMS) {
		fl_fail(p, p->pos,
		        "filter has more than %d comparisons; split it into several queries",
		        MAX_TERMS);
		return;
	}
	fname = p->text;
	p->text = NULL;
	if (strncmp(fname, SP_PREFIX, strlen(SP_PREFIX)) == 0) {
		spkey = fname + strlen(SP_PREFIX);
	} else {
		f = find_field(fname);
		if (!f) {
			fl_fail(p, fpos, "unknown field \"%s\"; valid fields: %s", fname,
			        cw_filter_fields_help());
			free(fname);
			return;
		}
	}
	fl_next(p);
	if (p->tok != T_OP) {
		fl_fail(p, p->pos,
		        "expected an operator (= : > < >= <=) after field \"%s\", found %s", fname,
		        fl_tok_desc(p, buf, sizeof(buf)));
		free(fname);
		return;
	}
	memcpy(op, p->op, sizeof(op));
	oppos = p->pos;
	fl_next(p);
	if (parse_value(p, fname, op, &v))
		compile_restriction(p, fname, fpos, f, spkey, op, oppos, &v);
	free(v.s);
	free(fname);
}

static void parse_unary(struct parser *p)
{
	if (p->failed)
		return;
	if (++p->depth > MAX_DEPTH) {
		fl_fail(p, p->pos, "filter nested too deeply (more than %d levels)", MAX_DEPTH);
		return;
	}
	if (p->tok == T_NOT || p->tok == T_MINUS) {
		fl_next(p);
		emit(p, "NOT coalesce(");
		parse_unary(p);
		emit(p, p->d->false_close);
	} else if (p->tok == T_LPAREN) {
		size_t open = p->pos;
		char buf[64];

		fl_next(p);
		emit(p, "(");
		parse_conj(p);
		emit(p, ")");
		if (!p->failed && p->tok != T_RPAREN)
			fl_fail(p, p->pos,
			        "expected AND, OR or \")\" to close the \"(\" at column %zu, "
			        "found %s",
			        open + 1, fl_tok_desc(p, buf, sizeof(buf)));
		fl_next(p);
	} else {
		parse_restriction(p);
	}
	p->depth--;
}

static void parse_disj(struct parser *p)
{
	emit(p, "(");
	parse_unary(p);
	while (!p->failed && p->tok == T_OR) {
		fl_next(p);
		emit(p, " OR ");
		parse_unary(p);
	}
	emit(p, ")");
}

static void parse_conj(struct parser *p)
{
	emit(p, "(");
	parse_disj(p);
	while (!p->failed && p->tok == T_AND) {
		fl_next(p);
		emit(p, " AND ");
		parse_disj(p);
	}
	emit(p, ")");
}

static void free_params(struct cw_filter_param *params, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(params[i].s);
	free(params);
}

/* Compile expr in dialect d into sql: 0, -EINVAL (err written) or -ENOMEM. */
static int compile_in(const char *expr, const struct fl_dialect *d, struct cw_filter_sql *sql,
                      char *err, size_t errsz)
{
	struct parser p = {.src = expr ? expr : "", .err = err, .errsz = errsz, .d = d};
	char buf[64];

	fl_next(&p);
	if (p.tok == T_END && !p.failed) {
		emit(&p, d->all);
	} else {
		parse_conj(&p);
		if (!p.failed && p.tok != T_END)
			fl_fail(&p, p.pos, "expected AND, OR or the end of the filter, found %s",
			        fl_tok_desc(&p, buf, sizeof(buf)));
	}
	free(p.text);
	if (p.failed) {
		free(p.sql);
		free_params(p.params, p.nparams);
		if (p.oom)
			snprintf(err, errsz, "filter: out of memory");
		return p.oom ? -ENOMEM : -EINVAL;
	}
	sql->where = p.sql;
	sql->params = p.params;
	sql->nparams = p.nparams;
	return 0;
}

int cw_filter_compile(const char *expr, struct cw_filter **out, char *err, size_t errsz)
{
	struct cw_filter *f = calloc(1, sizeof(*f));
	int ret;

	*out = NULL;
	if (errsz)
		err[0] = 0;
	if (!f) {
		snprintf(err, errsz, "filter: out of memory");
		return -ENOMEM;
	}
	ret = compile_in(expr, &fl_sqlite, &f->sqlite, err, errsz);
	if (!ret)
		ret = compile_in(expr, &fl_postgres, &f->pg, err, errsz);
	if (ret) {
		cw_filter_free(f);
		return ret;
	}
	*out = f;
	return 0;
}

void cw_filter_free(struct cw_filter *f)
{
	if (!f)
		return;
	free(f->sqlite.where);
	free_params(f->sqlite.params, f->sqlite.nparams);
	free(f->pg.where);
	free_params(f->pg.params, f->pg.nparams);
	free(f);
}

int cw_filter_bind(const struct cw_filter *f, sqlite3_stmt *st, int first)
{
	int idx = first;

	for (size_t i = 0; f && i < f->sqlite.nparams; i++, idx++) {
		const struct cw_filter_param *fp = &f->sqlite.params[i];
		int rc = fp->type == CW_FP_INT
		             ? sqlite3_bind_int64(st, idx, fp->i)
		             : sqlite3_bind_text(st, idx, fp->s, -1, SQLITE_TRANSIENT);

		if (rc != SQLITE_OK)
			return rc == SQLITE_NOMEM ? -ENOMEM : -EINVAL;
	}
	return idx;
}
