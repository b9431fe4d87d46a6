/* rulefile.h - reading cagewatch's JSON rule files (rules/catalogue.json,
 * rules/techniques.json, technique exceptions) the same strict way: every error
 * is logged naming the file and the place in it and returns -EINVAL; unknown
 * keys are errors (a misspelt key would silently disable a rule), keys starting
 * with '_' are comments; strings must be non-empty and free of NULs.
 */
#ifndef CW_RULEFILE_H
#define CW_RULEFILE_H

#include <jansson.h>
#include <stdbool.h>

struct cw_rule_ctx {
	const char *origin; /* file name, or "catalogue"/"techniques" for embedded data */
	char where[160];    /* place in the file ("tools[3]"), "" at the top */
};

__attribute__((format(printf, 2, 3))) int cw_rule_fail(const struct cw_rule_ctx *l, const char *fmt,
                                                       ...);
/* Is s one of the NULL-terminated list? */
bool cw_rule_in_list(const char *s, const char *const *list);
int cw_rule_check_keys(const struct cw_rule_ctx *l, json_t *obj, const char *const *allowed);
/* obj[key] as a non-empty string (*out NULL when absent and not required). */
int cw_rule_str(const struct cw_rule_ctx *l, json_t *obj, const char *key, bool required,
                const char **out);
/* obj[key] as an array of non-empty strings (*out NULL when absent and not required). */
int cw_rule_str_array(const struct cw_rule_ctx *l, json_t *obj, const char *key, bool required,
                      json_t **out);
/* obj[key] as true/false (*out false when absent). */
int cw_rule_bool(const struct cw_rule_ctx *l, json_t *obj, const char *key, bool *out);

#endif
