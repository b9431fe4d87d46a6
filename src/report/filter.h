/* filter.h - the SCC findings-list filter language compiled to parameterised
 * SQL over the findings store (see store.h). Restrictions `field op value`
 * joined by AND / OR (OR binds tighter than AND), NOT and a leading `-`,
 * parentheses; operators = : > < >= <=; values are quoted strings, integers,
 * true/false (bare words are taken as strings). Values never reach the SQL
 * text: they are bound to `?` placeholders.
 */
#ifndef CW_FILTER_H
#define CW_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "util.h" /* cw_parse_rfc3339_ms */
#include <sqlite3.h>

enum cw_filter_param_type { CW_FP_INT, CW_FP_TEXT };

struct cw_filter_param {
	enum cw_filter_param_type type;
	int64_t i;
	char *s;
};

/* One dialect's compiled filter: a boolean SQL expression over table
 * `findings` and the values of its placeholders, in order. */
struct cw_filter_sql {
	char *where; /* SQLite: `?` placeholders, "1" when empty; PostgreSQL: $1.., "TRUE" */
	struct cw_filter_param *params;
	size_t nparams;
};

struct cw_filter {
	struct cw_filter_sql sqlite; /* over the node store's columns and `json` text */
	struct cw_filter_sql pg;     /* over the fleet store's columns and `doc` jsonb */
};

/* Compile expr (NULL or blank = match everything). On a bad filter returns
 * -EINVAL and writes "filter: column N: ..." into err; -ENOMEM on allocation
 * failure. */
int cw_filter_compile(const char *expr, struct cw_filter **out, char *err, size_t errsz);
void cw_filter_free(struct cw_filter *f);

/* Bind the SQLite parameters to st starting at placeholder index first (1-based).
 * Returns the next free index or a negative errno. */
int cw_filter_bind(const struct cw_filter *f, sqlite3_stmt *st, int first);

/* Column to ORDER BY for a filter field name ("event_time", "category", ...),
 * or NULL when the field cannot be used for ordering. */
const char *cw_filter_order_column(const char *field);

/* Comma-separated list of the fields the language knows (for error messages). */
const char *cw_filter_fields_help(void);

#endif
