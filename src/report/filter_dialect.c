/* filter_dialect.c - the two SQL dialects the filter compiler writes: SQLite
 * (the node's store, the finding as JSON text in column `json`, json1
 * functions) and PostgreSQL (the fleet's store, the finding as jsonb in
 * column `doc`, text columns in the "C" collation so comparisons and order
 * match SQLite's byte order). Both take the same parameters in the same
 * order; only the text and the form of a JSON path differ.
 */
#include <stdio.h>
#include <string.h>

#include "filter_int.h"

/* "processes.0.name" -> "$.processes[0].name" */
static void sqlite_path(const char *dotted, char *out, size_t n)
{
	size_t used = (size_t)snprintf(out, n, "$");

	for (const char *seg = dotted; *seg && used < n;) {
		size_t len = strcspn(seg, ".");
		bool index = len && strspn(seg, "0123456789") == len;

		used += (size_t)snprintf(out + used, n - used, index ? "[%.*s]" : ".%.*s", (int)len,
		                         seg);
		seg += len;
		if (*seg == '.')
			seg++;
	}
}

/* "processes.0.name" -> "{processes,0,name}" (a text[] literal; the keys are
 * the compiler's own or checked to be letters, digits and _) */
static void pg_path(const char *dotted, char *out, size_t n)
{
	snprintf(out, n, "{%s}", dotted);
	for (char *p = out; *p; p++)
		if (*p == '.')
			*p = ',';
}

const struct fl_dialect fl_sqlite = {
    .name = "sqlite",
    .numbered = false,
    .all = "1",
    .false_close = ", 0)",
    .text_has = "instr(%s, ?) > 0",
    .json_present = "json_type(json, ?) IS NOT NULL",
    .json_eq = "json_extract(json, ?) = ?",
    .json_has = "instr(CAST(json_extract(json, ?) AS TEXT), ?) > 0",
    .sp_bool = "json_type(json, ?) = ?",
    .sp_text_or_list = "((json_type(json, ?) = 'text' AND json_extract(json, ?) = ?) OR "
                       "(json_type(json, ?) = 'array' AND EXISTS (SELECT 1 FROM "
                       "json_each(findings.json, ?) WHERE value = ?)))",
    .sp_num_cmp = "(json_type(json, ?) IN ('integer', 'real') AND json_extract(json, ?) %s ?)",
    .sp_text_cmp = "(json_type(json, ?) = 'text' AND json_extract(json, ?) %s ?)",
    .path = sqlite_path,
};

const struct fl_dialect fl_postgres = {
    .name = "postgresql",
    .numbered = true,
    .all = "TRUE",
    .false_close = ", FALSE)",
    .text_has = "strpos(%s, ?) > 0",
    .json_present = "(doc #> ?::text[]) IS NOT NULL",
    .json_eq = "(doc #>> ?::text[]) = ?",
    .json_has = "strpos(doc #>> ?::text[], ?) > 0",
    .sp_bool = "(doc #> ?::text[]) = ?::jsonb",
    .sp_text_or_list = "((jsonb_typeof(doc #> ?::text[]) = 'string' AND "
                       "(doc #>> ?::text[]) = ?) OR (jsonb_typeof(doc #> ?::text[]) = 'array' "
                       "AND (doc #> ?::text[]) @> jsonb_build_array(?::text)))",
    /* CASE: the cast is evaluated only for a number */
    .sp_num_cmp = "coalesce(CASE WHEN jsonb_typeof(doc #> ?::text[]) = 'number' THEN "
                  "(doc #>> ?::text[])::numeric %s ?::numeric END, FALSE)",
    .sp_text_cmp = "(jsonb_typeof(doc #> ?::text[]) = 'string' AND "
                   "(doc #>> ?::text[]) COLLATE \"C\" %s ?)",
    .path = pg_path,
};
