/* fuzz_bolt.c - the bbolt reader (bolt.c) over arbitrary bytes: the two meta
 * pages' checksums are made to hold first, so the fuzzer gets past them to
 * the branch, leaf and inline-bucket pages; then the lookups podman's and
 * containerd's metadata take, and a walk of every bucket found. The settings
 * of an OCI config read from the same bytes as JSON are built too. */
#include "fuzz.h"

#include <jansson.h>

#include "bolt.h"
#include "settings.h"

static int count(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	(void)k;
	(void)v;
	*(size_t *)arg += kl + vl;
	return 0;
}

static void fix_meta(uint8_t *b, size_t size, size_t off)
{
	uint64_t sum;

	if (off + 16 + 64 > size)
		return;
	sum = cw_fnv1a64(CW_FNV64_INIT, b + off + 16, 56);
	memcpy(b + off + 16 + 56, &sum, sizeof(sum));
}

static void lookups(struct cw_bolt *db)
{
	static const char *const paths[][4] = {{"ctr", "abc", NULL, NULL},
	                                       {"v1", "default", "containers", "abc"},
	                                       {"big", NULL, NULL, NULL}};
	struct cw_bolt_bucket b, sub;
	const uint8_t *v;
	size_t vl, n = 0;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		size_t depth = 0;

		while (depth < 4 && paths[i][depth])
			depth++;
		if (cw_bolt_bucket(db, paths[i], depth, &b))
			continue;
		if (!cw_bolt_get(&b, "config", &v, &vl))
			FUZZ_ASSERT(vl < (1u << 31));
		(void)cw_bolt_each(&b, count, &n);
		if (!cw_bolt_sub(&b, "labels", &sub))
			(void)cw_bolt_each(&sub, count, &n);
	}
	if (!cw_bolt_bucket(db, NULL, 0, &b))
		(void)cw_bolt_each(&b, count, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_bolt *db = NULL;
	uint8_t *b = malloc(size ? size : 1);
	json_t *j, *s;

	if (!b)
		abort();
	cw_log_set_level(CW_LOG_ERROR);
	memcpy(b, data, size);
	fix_meta(b, size, 0);
	fix_meta(b, size, 4096);
	if (cw_bolt_open_mem(b, size, &db) == 0) {
		lookups(db);
		cw_bolt_close(db);
	}
	free(b);
	j = json_loadb((const char *)data, size, 0, NULL);
	s = cw_settings_from_oci(j);
	json_decref(s);
	json_decref(j);
	return 0;
}
