/* fuzz_escape.c - what reaches a terminal and JSON: the terminal escaper keeps
 * no control byte, no C1 control, no bidi override and no invalid UTF-8; the
 * JSON string builder always gives a string jansson can serialise. */
#include "fuzz.h"

#include <jansson.h>

#include "finding.h"
#include "termsafe.h"

/* Is there a raw byte sequence a terminal would act on? */
static int dangerous(const unsigned char *s)
{
	for (; *s; s++) {
		if (*s < 0x20 || *s == 0x7f || *s == 0xff)
			return 1;
		if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
			return 1;
		if (s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0xaa && s[2] <= 0xae)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *e = cw_term_escape(s, false), *dump;
	json_t *j = cw_json_bytes((const char *)data, size);

	FUZZ_ASSERT(e && !dangerous((const unsigned char *)e));
	FUZZ_ASSERT(j && json_is_string(j));
	dump = json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	FUZZ_ASSERT(dump != NULL);
	free(dump);
	json_decref(j);
	free(e);
	free(s);
	return 0;
}
