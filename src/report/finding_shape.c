/* finding_shape.c - SCC response shapes of stored findings (finding_shape.h). */
#include "finding_shape.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

json_t *cw_shape_list_result(const json_t *finding)
{
	json_t *f = json_deep_copy(finding), *res, *out;

	if (!f)
		return NULL;
	res = json_object_get(f, "resource");
	res = res ? json_incref(res)
	          : json_pack("{s:O?}", "name", json_object_get(f, "resourceName"));
	json_object_del(f, "resource");
	out = json_pack("{s:o,s:o,s:s}", "finding", f, "resource", res, "stateChange", "UNUSED");
	return out;
}

json_t *cw_shape_list_response(const json_t *findings, long long total, const char *next_token)
{
	json_t *results = json_array(), *v, *out;
	char now[40];
	size_t i;

	if (!results)
		return NULL;
	json_array_foreach((json_t *)findings, i, v)
	{
		if (json_array_append_new(results, cw_shape_list_result(v))) {
			json_decref(results);
			return NULL;
		}
	}
	out = json_pack("{s:o,s:s,s:I}", "listFindingsResults", results, "readTime",
	                cw_rfc3339(cw_now_ns(), now, sizeof(now)), "totalSize", (json_int_t)total);
	if (out && next_token && next_token[0])
		json_object_set_new(out, "nextPageToken", json_string(next_token));
	return out;
}

/* "projectDisplayName" -> "project_display_name". */
static char *snake(const char *k)
{
	char *o = malloc(strlen(k) * 2 + 1), *p = o;

	if (!o)
		return NULL;
	for (; *k; k++) {
		if (isupper((unsigned char)*k)) {
			*p++ = '_';
			*p++ = (char)tolower((unsigned char)*k);
		} else {
			*p++ = *k;
		}
	}
	*p = '\0';
	return o;
}

/* The console flattens the v2 gcpMetadata into the resource, in snake_case
 * (project, project_display_name, parent, ...), and keys every member so. */
static json_t *console_resource(const json_t *res)
{
	json_t *out = json_object(), *v;
	const char *k;

	json_object_foreach((json_t *)res, k, v)
	{
		const json_t *src = v;
		const char *kk = k;
		json_t *inner;
		const char *ik;

		if (!strcmp(k, "gcpMetadata") && json_is_object(v)) {
			json_object_foreach((json_t *)src, ik, inner)
			{
				char *s = snake(ik);

				if (s)
					json_object_set(out, s, inner);
				free(s);
			}
			continue;
		}
		char *s = snake(kk);

		if (s)
			json_object_set(out, s, (json_t *)src);
		free(s);
	}
	return out;
}

json_t *cw_shape_console(const json_t *finding)
{
	json_t *f = json_deep_copy(finding), *res;

	if (!f)
		return NULL;
	res = console_resource(json_object_get(f, "resource"));
	json_object_del(f, "resource");
	return json_pack("{s:o,s:o}", "finding", f, "resource", res);
}
