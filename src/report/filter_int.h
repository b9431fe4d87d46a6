/* filter_int.h - the filter compiler's parser state, shared by the lexer
 * (filter_lex.c) and the parser and SQL emitter (filter.c). Internal. */
#ifndef CW_FILTER_INT_H
#define CW_FILTER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "filter.h"

enum tok {
	T_END,
	T_LPAREN,
	T_RPAREN,
	T_MINUS,
	T_OP,
	T_STRING,
	T_NUMBER,
	T_WORD,
	T_AND,
	T_OR,
	T_NOT,
};

/* The SQL pieces that differ between the stores' dialects (filter_dialect.c).
 * Templates hold `?` for each parameter; a %s in the *_cmp ones is the
 * comparison operator, in text_has the column. JSON paths are given to
 * path() dotted ("sourceProperties.Key", "processes.0.name"). */
struct fl_dialect {
	const char *name;
	bool numbered;           /* placeholders are $1, $2, ... */
	const char *all;         /* the empty filter */
	const char *false_close; /* closes "NOT coalesce(" with the dialect's false */
	const char *text_has;    /* column contains ? */
	const char *json_present, *json_eq, *json_has; /* (path) / (path, v) */
	const char *sp_bool;                           /* (path, "true"/"false") */
	const char *sp_text_or_list; /* (path, path, v) twice: a string equal or a list holding v */
	const char *sp_num_cmp, *sp_text_cmp; /* (path, path, v) */
	void (*path)(const char *dotted, char *out, size_t n);
};
extern const struct fl_dialect fl_sqlite, fl_postgres;

struct parser {
	const struct fl_dialect *d;
	int nph; /* placeholders emitted */
	const char *src;
	size_t pos; /* start of the current token */
	size_t end; /* one past the current token */
	enum tok tok;
	char op[3]; /* T_OP text */
	char *text; /* T_STRING (unescaped), T_WORD, T_NUMBER text */
	char *err;
	size_t errsz;
	bool failed;
	int depth;
	int terms; /* restrictions so far */
	/* output */
	char *sql;
	size_t len, cap;
	struct cw_filter_param *params;
	size_t nparams, pcap;
	bool oom;
};

/* Record the first error (at column pos+1); later ones are dropped. */
void fl_fail(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The next token into p->tok (and p->text, p->op). */
void fl_next(struct parser *p);
/* The current token for a message ("the end of the filter", "\"x\""). */
const char *fl_tok_desc(const struct parser *p, char *buf, size_t bufsz);

#endif
