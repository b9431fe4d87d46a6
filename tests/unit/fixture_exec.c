/* fixture_exec.c - decoded execs built by hand (see fixture_exec.h). */
#include "fixture_exec.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void fx_mkexec_v(struct cw_exec *ex, const char *path, const char *filename, va_list ap)
{
	const char *a;
	size_t off = 0;

	memset(ex, 0, sizeof(*ex));
	cw_strlcpy(ex->path, path, sizeof(ex->path));
	cw_strlcpy(ex->filename, filename, sizeof(ex->filename));
	while ((a = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(a) + 1;

		if (off + n > sizeof(ex->argbuf) || ex->argc >= CW_MAX_ARGS)
			abort();
		memcpy(ex->argbuf + off, a, n);
		ex->argv[ex->argc++] = ex->argbuf + off;
		off += n;
	}
	ex->argv[ex->argc] = NULL;
}

void fx_mkexec(struct cw_exec *ex, const char *path, const char *filename, ...)
{
	va_list ap;

	va_start(ap, filename);
	fx_mkexec_v(ex, path, filename, ap);
	va_end(ap);
}
