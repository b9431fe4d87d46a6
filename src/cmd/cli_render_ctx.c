/* cli_render_ctx.c - the responder's context in `findings show`: the process
 * ancestry (processes[] after the first), the "Container settings" section
 * (sourceProperties.Container_Settings and Risky_Settings) and where the
 * container's log is. Every value came from the monitored system: printed
 * through cw_render_put_safe only.
 */
#include "cli_render.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void label(const char *l)
{
	printf("  %-24s", l);
}

/* Strings of arr joined by sep on one line. */
static void joined(json_t *arr, const char *sep)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
	{
		if (i)
			fputs(sep, stdout);
		if (json_is_string(v))
			cw_render_put_safe(stdout, json_string_value(v));
	}
}

static void line_list(const char *l, json_t *arr, const char *none)
{
	label(l);
	if (json_array_size(arr))
		joined(arr, ", ");
	else
		fputs(none, stdout);
	putchar('\n');
}

static void line_bool(const char *l, json_t *v, const char *extra)
{
	if (!json_is_boolean(v))
		return;
	label(l);
	fputs(json_is_true(v) ? "yes" : "no", stdout);
	if (extra) {
		fputs(" (", stdout);
		cw_render_put_safe(stdout, extra);
		putchar(')');
	}
	putchar('\n');
}

void cw_render_ancestry(json_t *procs)
{
	json_t *p;
	size_t i;

	if (json_array_size(procs) < 2)
		return;
	printf("\nProcess ancestry (nearest parent first)\n");
	json_array_foreach(procs, i, p)
	{
		const char *pid = cw_render_js(p, "pid"), *name = cw_render_js(p, "name");
		const char *bin = cw_render_js(json_object_get(p, "binary"), "path");

		if (i == 0)
			continue;
		printf("  pid %-8s ", pid ? pid : "?");
		cw_render_put_safe(stdout, name ? name : "?");
		if (json_array_size(json_object_get(p, "args"))) {
			fputs("  ", stdout);
			joined(json_object_get(p, "args"), " ");
		} else if (bin) {
			fputs("  ", stdout);
			cw_render_put_safe(stdout, bin);
		} else {
			fputs("  (exited before the finding was built)", stdout);
		}
		putchar('\n');
	}
}

static void settings_mounts(json_t *mounts)
{
	json_t *m;
	size_t i;

	label("Host mounts");
	if (!json_array_size(mounts))
		fputs("none", stdout);
	json_array_foreach(mounts, i, m)
	{
		if (i)
			printf("\n  %-24s", "");
		cw_render_put_safe(stdout,
		                   cw_render_js(m, "source") ? cw_render_js(m, "source") : "?");
		fputs(" -> ", stdout);
		cw_render_put_safe(
		    stdout, cw_render_js(m, "destination") ? cw_render_js(m, "destination") : "?");
		printf(" (%s%s)", json_is_true(json_object_get(m, "readOnly")) ? "ro" : "rw",
		       json_is_true(json_object_get(m, "sensitive")) ? ", sensitive" : "");
	}
	putchar('\n');
}

static void settings_ids(json_t *cs)
{
	json_t *u = json_object_get(cs, "user");
	char buf[160];

	if (!u)
		return;
	snprintf(buf, sizeof(buf), "uid %lld, gid %lld (effective %lld/%lld); user namespace: %s",
	         (long long)json_integer_value(json_object_get(u, "uid")),
	         (long long)json_integer_value(json_object_get(u, "gid")),
	         (long long)json_integer_value(json_object_get(u, "euid")),
	         (long long)json_integer_value(json_object_get(u, "egid")),
	         cw_render_js(cs, "userNamespace") ? cw_render_js(cs, "userNamespace") : "?");
	cw_render_field("User", buf);
}

static void settings_seccomp(json_t *cs)
{
	json_t *prof = json_object_get(cs, "seccompProfile");
	char buf[256];

	if (json_is_object(prof))
		snprintf(buf, sizeof(buf), "%s (profile: default action %s, %lld rules)",
		         cw_render_js(cs, "seccomp") ? cw_render_js(cs, "seccomp") : "?",
		         cw_render_js(prof, "defaultAction") ? cw_render_js(prof, "defaultAction")
		                                             : "?",
		         (long long)json_integer_value(json_object_get(prof, "rules")));
	else
		snprintf(buf, sizeof(buf), "%s%s%s",
		         cw_render_js(cs, "seccomp") ? cw_render_js(cs, "seccomp") : "?",
		         json_is_string(prof) ? " (profile: " : "",
		         json_is_string(prof) ? "unconfined)" : "");
	cw_render_field("Seccomp", buf);
}

void cw_render_settings(json_t *sp)
{
	json_t *cs = json_object_get(sp, "Container_Settings");
	json_t *caps = json_object_get(cs, "capabilities");

	if (!cs && !json_object_get(sp, "Risky_Settings"))
		return;
	printf("\nContainer settings\n");
	line_list("Risky settings", json_object_get(sp, "Risky_Settings"), "none");
	line_bool("Privileged", json_object_get(cs, "privileged"),
	          cw_render_js(cs, "privilegedFrom"));
	settings_ids(cs);
	if (caps) {
		line_list("Capabilities", json_object_get(caps, "effective"), "none");
		line_list("  Permitted", json_object_get(caps, "permitted"), "none");
		line_list("  Bounding set", json_object_get(caps, "bounding"), "none");
	}
	settings_seccomp(cs);
	line_bool("No new privileges", json_object_get(cs, "noNewPrivileges"), NULL);
	cw_render_field("AppArmor profile", cw_render_js(cs, "apparmorProfile"));
	cw_render_field("SELinux label", cw_render_js(cs, "selinuxLabel"));
	line_list("Host namespaces", json_object_get(cs, "hostNamespaces"), "none");
	line_bool("Read-only rootfs", json_object_get(cs, "readOnlyRootfs"), NULL);
	if (json_object_get(cs, "mounts"))
		settings_mounts(json_object_get(cs, "mounts"));
	line_bool("All devices allowed", json_object_get(cs, "allDevicesAllowed"), NULL);
	cw_render_field("Settings from", cw_render_js(cs, "source"));
}

void cw_render_log_hint(json_t *sp, const char *id)
{
	const char *path = cw_render_js(sp, "Container_Log_Path");

	printf("\nContainer log\n");
	if (!path) {
		printf("  (its runtime keeps no log on this node: plain runc/crun and ctr write\n"
		       "   the container's output to whoever started it)\n");
		return;
	}
	cw_render_field("Path", path);
	cw_render_field("Format", cw_render_js(sp, "Container_Log_Format"));
	printf("  Lines around the finding:  cagewatch findings logs ");
	cw_render_put_safe(stdout, id);
	putchar('\n');
}
