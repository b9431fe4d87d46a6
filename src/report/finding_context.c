/* finding_context.c - what the responder needs open beside the detection,
 * captured when the finding is built (the container may be gone an hour
 * later): the process's ancestors as further SCC Process objects, the
 * container's settings with the risky ones listed, and where its log is.
 */
#include "finding.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"

static json_t *i64s(unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", v);
	return json_string(buf);
}

/* argv bytes (NUL-separated) as a JSON array of sanitized strings. */
static json_t *args_json(const char *buf, size_t len)
{
	json_t *a = json_array();
	size_t i = 0;

	while (a && i < len) {
		size_t n = strnlen(buf + i, len - i);

		if (json_array_append_new(a, cw_json_bytes(buf + i, n))) {
			json_decref(a);
			return NULL;
		}
		i += n + 1;
	}
	return a;
}

static json_t *ancestor_json(const struct cw_ancestor_info *an)
{
	json_t *p = json_object();

	if (!p)
		return NULL;
	json_object_set_new(p, "name", cw_json_str(an->comm));
	json_object_set_new(p, "pid", i64s(an->pid));
	if (an->ppid)
		json_object_set_new(p, "parentPid", i64s(an->ppid));
	if (an->path[0])
		json_object_set_new(p, "binary", json_pack("{s:o}", "path", cw_json_str(an->path)));
	if (an->args_len) {
		json_object_set_new(p, "args", args_json(an->args, an->args_len));
		json_object_set_new(p, "argumentsTruncated", json_boolean(an->args_truncated));
	}
	return p;
}

static int add_ancestors(json_t *procs, const struct cw_ancestry *anc)
{
	for (int i = 0; anc && i < anc->n; i++) {
		json_t *p = ancestor_json(&anc->a[i]);

		if (!p || json_array_append_new(procs, p))
			return -ENOMEM;
	}
	return 0;
}

int cw_finding_add_context(json_t *procs, json_t *sp, const struct cw_finding_input *in,
                           const struct cw_container *ctr)
{
	json_t *settings, *risky = NULL;

	if (add_ancestors(procs, in->ancestry))
		return -ENOMEM;
	/* without the process's credentials (it was gone): the container's
	 * configured settings and namespaces still stand */
	if (!ctr || !in->ex->ev || (!(in->ex->ev->flags & CW_F_CREDS) && !ctr->settings))
		return 0;
	settings = cw_settings_build(in->ex->ev, ctr->settings, &ctr->host, &risky);
	if (!settings || !risky || json_object_set_new(sp, "Container_Settings", settings) ||
	    json_object_set_new(sp, "Risky_Settings", risky)) {
		json_decref(settings);
		json_decref(risky);
		return -ENOMEM;
	}
	if (ctr->log_path[0]) {
		json_object_set_new(sp, "Container_Log_Path", cw_json_str(ctr->log_path));
		json_object_set_new(sp, "Container_Log_Format", cw_json_str(ctr->log_format));
	}
	if (ctr->image_id[0])
		json_object_set_new(sp, "Container_Image_Id", cw_json_str(ctr->image_id));
	return 0;
}
