/* fuzz_paths.c - cgroup-path parsing (what /proc/PID/cgroup or the kernel
 * says a task's cgroup is) and mountinfo unescaping. */
#include "fuzz.h"

#include "container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_cgroup_ref ref;
	char *s = fuzz_str(data, size);
	size_t before = strlen(s);
	int rc = cw_cgroup_parse(s, &ref);

	FUZZ_ASSERT(rc == 0 || rc == -ENOENT || rc == -EINVAL);
	if (rc == 0) {
		FUZZ_ASSERT(strlen(ref.id) < sizeof(ref.id));
		FUZZ_ASSERT(strlen(ref.runtime) < sizeof(ref.runtime));
	}
	cw_unescape_mountinfo(s);
	FUZZ_ASSERT(strlen(s) <= before); /* unescaping never grows */
	free(s);
	return 0;
}
