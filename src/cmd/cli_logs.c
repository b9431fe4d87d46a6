/* cli_logs.c - `cagewatch findings logs ID`: the container's own log lines
 * around the finding (container_log.h) on a terminal, every line escaped, or
 * as JSON. */
#include "cli_logs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_render.h"
#include "container_log.h"
#include "util.h"

static void header(json_t *sp, const struct cw_container_log *cl)
{
	char a[40], b[40];
	const char *name = cw_render_js(sp, "Container_Name"),
	           *id = cw_render_js(sp, "Container_Id");
	const char *rt = cw_render_js(sp, "Container_Runtime");

	printf("Container ");
	cw_render_put_safe(stdout, name ? name : "?");
	printf(" (");
	cw_render_put_safe(stdout, id ? id : "?");
	printf("), %s to %s\n", cw_rfc3339(cl->from_ns, a, sizeof(a)),
	       cw_rfc3339(cl->to_ns, b, sizeof(b)));
	if (cl->path) {
		printf("Log: ");
		cw_render_put_safe(stdout, cl->path);
		printf("\n");
		return;
	}
	printf("Log: none on this node: its runtime (");
	cw_render_put_safe(stdout, rt ? rt : "?");
	printf(") keeps no log of the container's output (plain runc, crun and ctr hand it\n"
	       "     to whoever started the container); cagewatch's own record follows\n");
}

int cw_findings_logs(struct cw_store *s, json_t *f, int64_t before_ms, int64_t after_ms, bool json)
{
	struct cw_container_log cl;
	json_t *e;
	size_t i;
	int err = cw_container_log(s, f, before_ms, after_ms, &cl);

	if (err) {
		cw_err("cannot gather the container's log: %s",
		       err == -EINVAL ? "the finding has no event time" : strerror(-err));
		return err;
	}
	if (json) {
		cw_render_json(cl.entries);
	} else {
		header(json_object_get(f, "sourceProperties"), &cl);
		json_array_foreach(cl.entries, i, e)
		{
			printf("%s  %-9s  ", cw_render_js(e, "time"), cw_render_js(e, "stream"));
			cw_render_put_safe(stdout, cw_render_js(e, "text"));
			putchar('\n');
		}
	}
	if (cl.dropped)
		cw_warn("%zu more entries in the window were not shown: narrow --before/--after",
		        cl.dropped);
	json_decref(cl.entries);
	return 0;
}
