/* rulefile.c - strict readers for the JSON rule files (see rulefile.h). */
#include "rulefile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int cw_rule_fail(const struct cw_rule_ctx *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->where[0])
		cw_err("%s: %s: %s", l->origin, l->where, msg);
	else
		cw_err("%s: %s", l->origin, msg);
	return -EINVAL;
}

bool cw_rule_in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

int cw_rule_check_keys(const struct cw_rule_ctx *l, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val)
	{
		if (key[0] == '_' || cw_rule_in_list(key, allowed))
			continue;
		return cw_rule_fail(l, "unknown key \"%s\"", key);
	}
	return 0;
}

int cw_rule_str(const struct cw_rule_ctx *l, json_t *obj, const char *key, bool required,
                const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			return cw_rule_fail(l, "missing required key \"%s\" (a non-empty string)",
			                    key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return cw_rule_fail(l, "\"%s\" must be a non-empty string", key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return cw_rule_fail(l, "\"%s\" must not contain NUL characters", key);
	*out = json_string_value(v);
	return 0;
}

int cw_rule_str_array(const struct cw_rule_ctx *l, json_t *obj, const char *key, bool required,
                      json_t **out)
{
	json_t *arr = json_object_get(obj, key), *v;
	size_t i;

	*out = NULL;
	if (!arr) {
		if (required)
			return cw_rule_fail(l, "missing required key \"%s\" (an array of strings)",
			                    key);
		return 0;
	}
	if (!json_is_array(arr))
		return cw_rule_fail(l, "\"%s\" must be an array of strings", key);
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return cw_rule_fail(
			    l, "\"%s\" must be an array of strings (element %zu is not a string)",
			    key, i);
		if (json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return cw_rule_fail(l, "\"%s\"[%zu] must be a non-empty string without NUL",
			                    key, i);
	}
	*out = arr;
	return 0;
}

int cw_rule_bool(const struct cw_rule_ctx *l, json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);

	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return cw_rule_fail(l, "\"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}
