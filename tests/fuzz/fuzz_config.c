/* fuzz_config.c - the JSON configuration reader (--config FILE). */
#include "fuzz.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_config cfg;
	char path[64];
	int fd = memfd_create("cw-fuzz-config", MFD_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	cw_log_set_level(CW_LOG_ERROR);
	cw_config_defaults(&cfg);
	cw_config_load(&cfg, path);
	close(fd);
	return 0;
}
