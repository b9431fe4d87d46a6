/* fixture_exec.h - decoded execs built by hand for the matching tests
 * (catalogue, catalogue loading). Linked into the unit tests from the
 * test-fixture archive (Makefile). */
#ifndef CW_FIXTURE_EXEC_H
#define CW_FIXTURE_EXEC_H

#include <stdarg.h>

#include "exec.h"

/* Fill *ex with path, filename and the argv that follows (NULL-terminated);
 * aborts if the arguments do not fit (a test's own mistake). */
void fx_mkexec_v(struct cw_exec *ex, const char *path, const char *filename, va_list ap);
void fx_mkexec(struct cw_exec *ex, const char *path, const char *filename, ...);

#endif
