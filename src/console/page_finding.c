/* page_finding.c - one finding (`/findings/{short id}`): the tabs Summary
 * (what was detected, ancestry, affected resource, container and its
 * settings, MITRE, next steps as a list), JSON (the console's shape, copyable
 * and downloadable), Related (other findings on the container around the
 * time) and Logs (the container's own lines around it); and the POSTs that
 * set its state and mute, recorded like the CLI's. */
#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_log.h"
#include "finding_shape.h"
#include "util.h"

static void kv(struct html *h, const char *k, const char *v)
{
	if (!v || !v[0])
		return;
	html_raw(h, "<tr><td class=\"k\">");
	html_text(h, k);
	html_raw(h, "</td><td>");
	html_text(h, v);
	html_raw(h, "</td></tr>");
}

static void kv_list(struct html *h, const char *k, json_t *arr, const char *cls)
{
	json_t *v;
	size_t i;

	if (!json_array_size(arr))
		return;
	html_raw(h, "<tr><td class=\"k\">");
	html_text(h, k);
	html_rawf(h, "</td><td class=\"%s\">", cls ? cls : "");
	json_array_foreach(arr, i, v)
	{
		if (i)
			html_raw(h, cls && !strcmp(cls, "args") ? " " : ", ");
		html_scalar(h, v);
	}
	html_raw(h, "</td></tr>");
}

static void section(struct html *h, const char *title)
{
	html_raw(h, "</table><h2>");
	html_text(h, title);
	html_raw(h, "</h2><table>");
}

static void detected(struct html *h, json_t *f, json_t *sp)
{
	json_t *p = json_array_get(json_object_get(f, "processes"), 0);

	html_raw(h, "<h2>What was detected</h2><table>");
	kv(h, "Description", html_js(f, "description"));
	kv(h, "Program binary", html_js(json_object_get(p, "binary"), "path"));
	kv(h, "SHA-256", html_js(json_object_get(p, "binary"), "sha256"));
	kv_list(h, "Arguments", json_object_get(p, "args"), "args");
	kv(h, "Script", html_js(json_object_get(p, "script"), "path"));
	kv(h, "Process", html_js(p, "name"));
	kv(h, "Pid", html_js(p, "pid"));
	kv(h, "Tool", html_js(sp, "Tool_Name"));
	kv(h, "Rule", html_js(sp, "Rule_Id"));
	kv(h, "Matched on", html_js(sp, "Matched_On"));
	kv(h, "Match detail", html_js(sp, "Match_Detail"));
	kv(h, "Module", html_js(f, "moduleName"));
}

static void ancestry(struct html *h, json_t *procs)
{
	json_t *p;
	size_t i;

	if (json_array_size(procs) < 2)
		return;
	section(h, "Process ancestry (nearest parent first)");
	json_array_foreach(procs, i, p)
	{
		if (!i)
			continue;
		html_raw(h, "<tr><td class=\"k\">pid ");
		html_text(h, html_js(p, "pid"));
		html_raw(h, " ");
		html_text(h, html_js(p, "name"));
		html_raw(h, "</td><td class=\"args\">");
		if (json_array_size(json_object_get(p, "args"))) {
			json_t *a;
			size_t k;

			json_array_foreach(json_object_get(p, "args"), k, a)
			{
				if (k)
					html_raw(h, " ");
				html_scalar(h, a);
			}
		} else {
			html_text(h, html_js(json_object_get(p, "binary"), "path"));
		}
		html_raw(h, "</td></tr>");
	}
}

static void resource(struct html *h, json_t *f, json_t *sp)
{
	json_t *res = json_object_get(f, "resource"), *g = json_object_get(res, "gcpMetadata");
	json_t *ctr = json_array_get(json_object_get(f, "containers"), 0);
	json_t *pod = json_array_get(json_object_get(json_object_get(f, "kubernetes"), "pods"), 0);

	section(h, "Affected resource");
	kv(h, "Resource full name", html_js(f, "resourceName"));
	kv(h, "Display name", html_js(res, "displayName"));
	kv(h, "Type", html_js(res, "type"));
	kv(h, "Project", html_js(g, "projectDisplayName"));
	section(h, "Container");
	kv(h, "Name", html_js(ctr, "name") ? html_js(ctr, "name") : html_js(sp, "Container_Name"));
	kv(h, "ID", html_js(sp, "Container_Id"));
	kv(h, "Image", html_js(ctr, "uri"));
	kv(h, "Image ID", html_js(ctr, "imageId"));
	kv(h, "Runtime", html_js(sp, "Container_Runtime"));
	kv(h, "Pod namespace", html_js(pod, "ns"));
	kv(h, "Pod", html_js(pod, "name"));
}

static void settings(struct html *h, json_t *sp)
{
	json_t *cs = json_object_get(sp, "Container_Settings"),
	       *caps = json_object_get(cs, "capabilities");
	json_t *m;
	size_t i;

	if (!cs)
		return;
	section(h, "Container settings");
	kv_list(h, "Risky settings", json_object_get(sp, "Risky_Settings"), "risky");
	kv(h, "Privileged", json_is_true(json_object_get(cs, "privileged")) ? "yes" : "no");
	kv_list(h, "Capabilities", json_object_get(caps, "effective"), NULL);
	kv_list(h, "Bounding set", json_object_get(caps, "bounding"), NULL);
	kv(h, "Seccomp", html_js(cs, "seccomp"));
	kv(h, "No new privileges",
	   json_is_true(json_object_get(cs, "noNewPrivileges")) ? "yes" : "no");
	kv(h, "AppArmor profile", html_js(cs, "apparmorProfile"));
	kv(h, "SELinux label", html_js(cs, "selinuxLabel"));
	kv_list(h, "Host namespaces", json_object_get(cs, "hostNamespaces"), NULL);
	kv(h, "Read-only rootfs",
	   json_is_true(json_object_get(cs, "readOnlyRootfs")) ? "yes" : "no");
	json_array_foreach(json_object_get(cs, "mounts"), i, m)
	{
		char buf[1200];

		snprintf(buf, sizeof(buf), "%s -> %s (%s%s)",
		         html_js(m, "source") ? html_js(m, "source") : "?",
		         html_js(m, "destination") ? html_js(m, "destination") : "?",
		         json_is_true(json_object_get(m, "readOnly")) ? "ro" : "rw",
		         json_is_true(json_object_get(m, "sensitive")) ? ", sensitive" : "");
		kv(h, i ? " " : "Host mounts", buf);
	}
	kv(h, "All devices allowed",
	   json_is_true(json_object_get(cs, "allDevicesAllowed")) ? "yes" : "no");
}

/* MITRE, next steps as a list (one step per line, "1. " numbering dropped). */
static void mitre_steps(struct html *h, json_t *f)
{
	json_t *m = json_object_get(f, "mitreAttack");
	const char *ns = html_js(f, "nextSteps");

	section(h, "MITRE ATT&CK");
	kv(h, "Tactic", html_js(m, "primaryTactic"));
	kv_list(h, "Techniques", json_object_get(m, "primaryTechniques"), NULL);
	html_raw(h, "</table><h2>Next steps</h2><ol class=\"steps\">");
	for (const char *p = ns; p && *p;) {
		size_t n = strcspn(p, "\n");
		char line[2048];
		const char *t;

		snprintf(line, sizeof(line), "%.*s",
		         (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
		t = line + strspn(line, " ");
		if (t[0] >= '0' && t[0] <= '9' && strchr(t, '.') && strchr(t, '.') - t < 4)
			t = strchr(t, '.') + 1 + (strchr(t, '.')[1] == ' ');
		if (*t) {
			html_raw(h, "<li>");
			html_text(h, t);
			html_raw(h, "</li>");
		}
		p += n + (p[n] == '\n');
	}
	html_raw(h, "</ol>");
}

static void tabs(struct html *h, const char *id, const char *on)
{
	static const char *const names[][2] = {
	    {"summary", "Summary"}, {"json", "JSON"}, {"related", "Related"}, {"logs", "Logs"}};

	html_raw(h, "<nav class=\"tabs\">");
	for (size_t i = 0; i < 4; i++) {
		html_rawf(h, "<a id=\"tab-%s\" class=\"%s\" href=\"/findings/", names[i][0],
		          strcmp(on, names[i][0]) ? "" : "on");
		html_url(h, id);
		html_rawf(h, "?tab=%s\">%s</a>", names[i][0], names[i][1]);
	}
	html_raw(h, "</nav>");
}

/* State and mute buttons: POST forms carrying this client's CSRF token. */
static void actions(struct html *h, struct req *r, json_t *f, const char *id)
{
	static const char *const forms[][3] = {{"state", "ACTIVE", "Set active"},
	                                       {"state", "INACTIVE", "Set inactive"},
	                                       {"mute", "MUTED", "Mute"},
	                                       {"mute", "UNMUTED", "Unmute"}};

	html_raw(h, "<p class=\"actions\">State <b id=\"state\">");
	html_text(h, html_js(f, "state"));
	html_raw(h, "</b>, mute <b id=\"mute\">");
	html_text(h, html_js(f, "mute"));
	html_raw(h, "</b> ");
	for (size_t i = 0; i < 4; i++) {
		html_raw(h, "<form class=\"inline\" method=\"post\" action=\"/findings/");
		html_url(h, id);
		html_rawf(h, "/%s\"><input type=\"hidden\" name=\"csrf\" value=\"", forms[i][0]);
		html_text(h, r->csrf);
		html_rawf(h,
		          "\"><button type=\"submit\" name=\"%s\" value=\"%s\" "
		          "id=\"do-%s\">%s</button></form>",
		          forms[i][0], forms[i][1], forms[i][1], forms[i][2]);
	}
	html_raw(h, "</p>");
}

static void tab_summary(struct html *h, json_t *f)
{
	json_t *sp = json_object_get(f, "sourceProperties"), *v;
	const char *k;

	detected(h, f, sp);
	ancestry(h, json_object_get(f, "processes"));
	resource(h, f, sp);
	settings(h, sp);
	mitre_steps(h, f);
	html_raw(h, "<h2>Source properties</h2><table>");
	json_object_foreach(sp, k, v)
	{
		if (!strcmp(k, "Container_Settings"))
			continue;
		html_raw(h, "<tr><td class=\"k\">");
		html_text(h, k);
		html_raw(h, "</td><td>");
		html_scalar(h, v);
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</table>");
}

static void tab_json(struct html *h, json_t *f, const char *id)
{
	json_t *c = cw_shape_console(f);
	char *text = c ? json_dumps(c, JSON_INDENT(2)) : NULL;

	html_raw(h, "<p><button type=\"button\" data-copy=\"finding-json\">Copy</button> "
	            "<a href=\"/findings/");
	html_url(h, id);
	html_raw(h,
	         ".json\" download>Download</a> <span class=\"muted\">SCC console shape: "
	         "<code>finding</code> with <code>resource</code> beside it, in snake_case</span>"
	         "</p><pre id=\"finding-json\">");
	html_text(h, text);
	html_raw(h, "</pre>");
	free(text);
	json_decref(c);
}

/* "15m" -> ms; -1 if not a duration. */
static int64_t window_ms(const char *v)
{
	char *end;
	long long n = v ? strtoll(v, &end, 10) : -1;

	if (!v || n < 0 || end == v || n > 100000)
		return -1;
	return !strcmp(end, "h")            ? n * 3600000
	       : !strcmp(end, "m")          ? n * 60000
	       : !strcmp(end, "s") || !*end ? n * 1000
	                                    : -1;
}

static void tab_related(struct html *h, struct cw_store *s, struct req *r, const char *id)
{
	static const char *const wins[] = {"5m", "15m", "1h", "6h", "24h"};
	const char *w = req_arg(r, "window") ? req_arg(r, "window") : "15m";
	int64_t ms = window_ms(w);
	json_t *arr = NULL;

	if (ms < 0) {
		w = "15m";
		ms = 15 * 60000;
	}
	html_raw(
	    h, "<form method=\"get\"><input type=\"hidden\" name=\"tab\" value=\"related\">"
	       "Other findings on the same container within <select name=\"window\" data-submit>");
	for (size_t i = 0; i < sizeof(wins) / sizeof(wins[0]); i++)
		html_rawf(h, "<option%s>%s</option>", strcmp(w, wins[i]) ? "" : " selected",
		          wins[i]);
	html_raw(h, "</select> <button type=\"submit\">Show</button></form>");
	if (cw_store_related(s, id, ms, &arr)) {
		html_raw(h, "<p class=\"error\">cannot read the related findings</p>");
		return;
	}
	html_rawf(h, "<p id=\"related-count\">%zu related finding%s</p>", json_array_size(arr),
	          json_array_size(arr) == 1 ? "" : "s");
	html_findings_table(h, arr, NULL, NULL);
	json_decref(arr);
}

static void tab_logs(struct html *h, struct cw_store *s, json_t *f)
{
	struct cw_container_log cl;
	json_t *e;
	size_t i;

	if (cw_container_log(s, f, 5 * 60000, 5 * 60000, &cl)) {
		html_raw(h, "<p class=\"error\">cannot gather the container's log</p>");
		return;
	}
	html_raw(h, "<p>");
	if (cl.path) {
		html_raw(h, "Log <code>");
		html_text(h, cl.path);
		html_raw(
		    h,
		    "</code>, 5 minutes either side of the finding, with cagewatch's own record.");
	} else {
		html_raw(
		    h, "Its runtime keeps no log of the container's output on this node (plain "
		       "runc, crun and ctr hand it to whoever started the container); cagewatch's "
		       "own record follows.");
	}
	html_raw(h, "</p><table class=\"logs\"><thead><tr><th>Time</th><th>Stream</th><th>Line</th>"
	            "</tr></thead><tbody>");
	json_array_foreach(cl.entries, i, e)
	{
		html_raw(h, "<tr><td>");
		html_text(h, html_js(e, "time"));
		html_raw(h, "</td><td>");
		html_text(h, html_js(e, "stream"));
		html_raw(h, "</td><td><code>");
		html_text(h, html_js(e, "text"));
		html_raw(h, "</code></td></tr>");
	}
	html_raw(h, "</tbody></table>");
	json_decref(cl.entries);
}

/* A short id or prefix as given in a URL: hex only. */
static bool id_ok(const char *id, size_t n)
{
	return n >= 4 && n <= 64 && strspn(id, "0123456789abcdef") >= n;
}

static int lookup(struct cw_store *s, const char *id, json_t **f, struct reply *out)
{
	int err = cw_store_get(s, id, f);

	if (err == -ENOENT)
		reply_error(out, 404, "no finding has this id");
	else if (err == -ENOTUNIQ)
		reply_error(out, 400, "this id matches more than one finding: give more of it");
	else if (err)
		reply_error(out, 400, "not a finding id");
	return err;
}

int page_finding(struct req *r, const char *rest, struct reply *out)
{
	const char *tab = req_arg(r, "tab") ? req_arg(r, "tab") : "summary";
	size_t n = strcspn(rest, ".");
	bool download = !strcmp(rest + n, ".json");
	char id[65];
	struct cw_store *s;
	struct html h = {0};
	json_t *f = NULL;

	if (!id_ok(rest, n) || (rest[n] && !download)) {
		reply_error(out, 400, "a finding's id is its short id (hex) or a prefix of it");
		return 0;
	}
	snprintf(id, sizeof(id), "%.*s", (int)n, rest);
	if (req_store(r, false, &s, out))
		return 0;
	if (lookup(s, id, &f, out)) {
		cw_store_close(s);
		return 0;
	}
	if (download) {
		reply_json(out, 200, cw_shape_console(f));
		snprintf(out->disposition, sizeof(out->disposition),
		         "attachment; filename=\"finding-%s.json\"",
		         cw_store_short_id(html_js(f, "name")));
		cw_store_close(s);
		json_decref(f);
		return 0;
	}
	snprintf(id, sizeof(id), "%s", cw_store_short_id(html_js(f, "name")));
	html_raw(&h, "<h1>");
	html_text(&h, html_js(f, "category"));
	html_raw(&h, " <span class=\"sev-");
	html_text(&h, html_js(f, "severity"));
	html_raw(&h, "\">");
	html_text(&h, html_js(f, "severity"));
	html_raw(&h, "</span></h1><p class=\"muted\"><code>");
	html_text(&h, html_js(f, "name"));
	html_raw(&h, "</code> &middot; event time ");
	html_text(&h, html_js(f, "eventTime"));
	html_raw(&h, "</p>");
	actions(&h, r, f, id);
	tabs(&h, id, tab);
	if (!strcmp(tab, "json"))
		tab_json(&h, f, id);
	else if (!strcmp(tab, "related"))
		tab_related(&h, s, r, id);
	else if (!strcmp(tab, "logs"))
		tab_logs(&h, s, f);
	else
		tab_summary(&h, f);
	cw_store_close(s);
	reply_page(out, 200, html_js(f, "category") ? html_js(f, "category") : "Finding", &h);
	json_decref(f);
	return 0;
}

int post_finding(struct req *r, const char *rest, struct reply *out)
{
	size_t n = strcspn(rest, "/");
	const char *what = rest + n + (rest[n] == '/');
	bool state = !strcmp(what, "state"), mute = !strcmp(what, "mute");
	char id[65];
	struct cw_store *s;
	json_t *f = NULL;
	int err;

	if (!id_ok(rest, n) || (!state && !mute) ||
	    (state && strcmp(r->f_state, "ACTIVE") && strcmp(r->f_state, "INACTIVE")) ||
	    (mute && strcmp(r->f_mute, "MUTED") && strcmp(r->f_mute, "UNMUTED"))) {
		reply_error(
		    out, 400,
		    "expected state=ACTIVE|INACTIVE or mute=MUTED|UNMUTED for a finding id");
		return 0;
	}
	snprintf(id, sizeof(id), "%.*s", (int)n, rest);
	if (req_store(r, true, &s, out))
		return 0;
	err = state ? cw_store_set_state(s, id, r->f_state, &f)
	            : cw_store_set_mute(s, id, !strcmp(r->f_mute, "MUTED"), &f);
	cw_store_close(s);
	if (err < 0) {
		reply_error(out, err == -ENOENT ? 404 : 400, "cannot change this finding");
		return 0;
	}
	cw_info("console: finding %s: %s set to %s", cw_store_short_id(html_js(f, "name")),
	        state ? "state" : "mute", state ? r->f_state : r->f_mute);
	out->status = 303;
	snprintf(out->location, sizeof(out->location), "/findings/%s",
	         cw_store_short_id(html_js(f, "name")));
	json_decref(f);
	return 0;
}
