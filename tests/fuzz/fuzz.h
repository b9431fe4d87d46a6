/* fuzz.h - shared bits of the libFuzzer harnesses (tests/fuzz/fuzz_*.c): a
 * NUL-terminated copy of the input, and a trap that makes libFuzzer keep the
 * input when a contract is broken (not only on memory errors). */
#ifndef CW_FUZZ_H
#define CW_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* malloc'd NUL-terminated copy (the input may hold NULs: C strings end there). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#endif
