/* fuzz_rules.c - the rule-file readers: the tool catalogue, the technique rules
 * and the technique exceptions (the first input byte picks the reader). */
#include "fuzz.h"

#include "catalogue.h"
#include "technique.h"

static struct cw_technique_rules *defaults;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_catalogue *cat = NULL;
	struct cw_technique_rules *r = NULL;
	char *text;

	if (size < 1)
		return 0;
	cw_log_set_level(CW_LOG_ERROR);
	if (!defaults && cw_technique_rules_load_default(&defaults))
		abort();
	text = fuzz_str(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		if (cw_catalogue_load(&cat, text, size - 1, "fuzz") == 0)
			cw_catalogue_free(cat);
		break;
	case 1:
		if (cw_technique_rules_load(&r, text, size - 1, "fuzz") == 0)
			cw_technique_rules_free(r);
		break;
	default:
		if (cw_technique_rules_load_default(&r) == 0) {
			cw_technique_exceptions_load(r, text, size - 1, "fuzz");
			cw_technique_rules_free(r);
		}
		break;
	}
	free(text);
	return 0;
}
