/* fuzz_filter.c - the SCC filter compiler, strictly: whatever compiles must run
 * in SQLite against a real store (a compiled filter that SQLite refuses is a
 * crash here, as it would be an error a user cannot fix). */
#include "fuzz.h"

#include <stdio.h>
#include <unistd.h>

#include "filter.h"
#include "store.h"

static struct cw_store *store;

static void open_store(void)
{
	char path[] = "/tmp/cw-fuzz-filter-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		abort();
	close(fd);
	unlink(path);
	cw_log_set_level(CW_LOG_ERROR);
	if (cw_store_open(&store, path, CW_STORE_CREATE))
		abort();
}

/* How many times c occurs in s. */
static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *expr = fuzz_str(data, size);
	struct cw_filter *f = NULL;
	json_t *arr = NULL;
	int64_t n;

	if (!store)
		open_store();
	if (cw_filter_compile(expr, &f, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(cw_store_list(store, f, "event_time", true, 5, &arr) == 0);
		FUZZ_ASSERT(cw_store_count(store, f, &n) == 0);
		/* both dialects: one placeholder per parameter, no value in the text */
		FUZZ_ASSERT(count_char(f->sqlite.where, '?') == f->sqlite.nparams);
		FUZZ_ASSERT(count_char(f->pg.where, '$') == f->pg.nparams);
		FUZZ_ASSERT(f->sqlite.nparams == f->pg.nparams);
		json_decref(arr);
		cw_filter_free(f);
	} else {
		FUZZ_ASSERT(err[0] != '\0'); /* a refusal always says why */
	}
	free(expr);
	return 0;
}
