/* fuzz_records.c - the decoders of what the kernel sends: exec records and
 * technique records (stdin captures and usermode-helper records included),
 * evaluated against the embedded technique rules. The first byte picks one. */
#include "fuzz.h"

#include "exec.h"
#include "technique.h"

static struct cw_technique_rules *rules;
static struct cw_technique_env env;
static struct cw_exec ex;
static struct cw_technique_hit hit;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *copy;

	if (size < 1)
		return 0;
	cw_log_set_level(CW_LOG_ERROR);
	if (!rules &&
	    (cw_technique_rules_load_default(&rules) || cw_technique_env_init(&env, "/proc")))
		abort();
	copy = malloc(size - 1 ? size - 1 : 1); /* exact size: overreads are caught */
	if (!copy)
		abort();
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1) {
		if (cw_exec_decode(copy, size - 1, &ex) == 0) {
			FUZZ_ASSERT(ex.argc >= 0 && ex.argc <= CW_MAX_ARGS);
			FUZZ_ASSERT(strlen(ex.path) < sizeof(ex.path));
		}
	} else if (cw_technique_eval(rules, &env, copy, size - 1, &hit) >= 0) {
		cw_technique_hit_clear(&hit);
	}
	free(copy);
	return 0;
}
