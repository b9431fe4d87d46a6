/* store_pg.h - what store_pg.c and store_pg_merge.c share (internal). */
#ifndef CW_STORE_PG_H
#define CW_STORE_PG_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "store_int.h"

/* Run sql with text parameters; the result, or NULL with *err set (and
 * logged: -ENOTCONN, -EAGAIN, -EEXIST or -EIO, see store_pg.c). */
PGresult *pgs_exec(struct cw_store *s, const char *sql, int n, const char *const *vals,
                   const char *what, int *err);
/* A statement without parameters or rows: 0 or -errno. */
int pgs_cmd(struct cw_store *s, const char *sql, const char *what);

/* The merge of stored finding cur (holding occurrence cur_evid's evidence)
 * and an incoming copy (store_pg_merge.c's rules); *evid the occurrence whose
 * evidence the result holds. A new object, NULL on allocation failure. */
json_t *pgs_merge(json_t *cur, int64_t cur_evid, json_t *in, int64_t *evid);

#endif
