/* cli_findings.c - `cagewatch findings list|show|related|set-state|mute|unmute`:
 * the responder's view of the node-local findings store (store.h). Text views
 * escape control characters (finding fields carry attacker-chosen strings);
 * JSON views print the findings exactly as stored.
 * Exit status: 0 ok, 1 finding not found, 2 usage or environment error.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli_logs.h"
#include "cli_render.h"
#include "finding_shape.h"
#include "filter.h"
#include "store.h"
#include "termsafe.h"
#include "util.h"

#define EXIT_OK       CW_EXIT_OK
#define EXIT_NOTFOUND CW_EXIT_RESULT
#define EXIT_USAGE    CW_EXIT_ERROR

static const char usage_text[] =
    "usage: cagewatch findings <command> [--store PATH] ...\n"
    "  list [--filter EXPR] [--order-by FIELD [desc]] [--limit N]\n"
    "       [--format table|json|scc|scc-console]\n"
    "  show ID [--json] [--format summary|json|scc|scc-console]\n"
    "  related ID [--window 15m] [--format table|json]\n"
    "  logs ID [--before 5m] [--after 5m] [--format text|json]\n"
    "  set-state ID ACTIVE|INACTIVE\n"
    "  mute ID\n"
    "  unmute ID\n"
    "ID is a finding's full name, its short id or a unique prefix of it.\n"
    "--store defaults to $" CW_STORE_ENV ", else " CW_STORE_DEFAULT_PATH ".\n"
    "Filter example: category=\"Execution: Container Escape\" AND state=\"ACTIVE\"\n";

static int usage_err(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	return cw_usage_hint("findings", "%s", msg);
}

/* ---- text output helpers ---- */

/* ---- commands ---- */

struct opts {
	const char *store;
	int nargs;
	char **args; /* argv without --store */
};

static int open_store(const struct opts *o, bool write, struct cw_store **s)
{
	int ret = cw_store_open(s, o->store, write ? 0 : CW_STORE_READONLY);
	char shown[512];

	cw_url_redact(o->store, shown, sizeof(shown));
	if (ret == -ENOENT)
		cw_err("no store at %s; %s", shown,
		       strstr(o->store, "://") ? "has `cagewatch collect` written to it yet?"
		                               : "run `cagewatch run` first or pass --store");
	return ret;
}

/* Map a look-up error to a message and exit status. */
static int lookup_status(int ret, const char *id)
{
	if (ret == -ENOENT) {
		cw_err("no finding matches \"%s\"", id);
		return EXIT_NOTFOUND;
	}
	if (ret == -ENOTUNIQ) {
		cw_err("\"%s\" matches more than one finding: give more of the id", id);
		return EXIT_USAGE;
	}
	if (ret == -EINVAL)
		cw_err("\"%s\" is not a finding id", id);
	return EXIT_USAGE;
}

static const char *opt_value(struct opts *o, int *i, const char *name)
{
	const char *a = o->args[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) == 0 && a[n] == '=')
		return a + n + 1;
	if (*i + 1 >= o->nargs) {
		usage_err("%s needs a value", name);
		return NULL;
	}
	return o->args[++*i];
}

static bool is_opt(const char *a, const char *name)
{
	size_t n = strlen(name);

	return strcmp(a, name) == 0 || (strncmp(a, name, n) == 0 && a[n] == '=');
}

static int parse_format(const char *v, bool *json)
{
	if (strcmp(v, "json") == 0)
		*json = true;
	else if (strcmp(v, "table") == 0)
		*json = false;
	else
		return usage_err("--format must be table or json, not \"%s\"", v);
	return 0;
}

/* Output shapes of list and show: the text view (table or summary), the
 * findings as stored, SCC's API response shapes, the console's JSON tab. */
enum shape { SHAPE_TEXT, SHAPE_JSON, SHAPE_SCC, SHAPE_CONSOLE };

static int parse_shape(const char *v, const char *text_name, enum shape *out)
{
	static const char *const names[] = {"", "json", "scc", "scc-console"};

	for (int i = 1; i < 4; i++)
		if (!strcmp(v, names[i])) {
			*out = (enum shape)i;
			return 0;
		}
	if (!strcmp(v, text_name)) {
		*out = SHAPE_TEXT;
		return 0;
	}
	return cw_usage_hint(
	    "findings", "--format must be %s, json, scc or scc-console, not \"%s\"", text_name, v);
}

/* Print json (a new reference, consumed) or fail with ENOMEM. */
static int print_owned(json_t *j)
{
	int ret = j ? cw_render_json(j) : -ENOMEM;

	json_decref(j);
	return ret;
}

/* `findings list`'s options. */
struct list_opts {
	const char *filter;
	char order[128];
	bool desc;
	enum shape shape;
	long limit;
};

/* --order-by FIELD [desc|asc] (or "FIELD desc" in one argument). 0 or an exit status. */
static int parse_order(struct opts *o, int *i, struct list_opts *lo)
{
	const char *v = opt_value(o, i, "--order-by");
	char *sp;

	if (!v)
		return EXIT_USAGE;
	cw_strlcpy(lo->order, v, sizeof(lo->order));
	lo->desc = false;
	sp = strchr(lo->order, ' ');
	if (sp) {
		*sp++ = 0;
		while (*sp == ' ')
			sp++;
		if (strcasecmp(sp, "desc") == 0)
			lo->desc = true;
		else if (strcasecmp(sp, "asc") != 0)
			return usage_err(
			    "--order-by: expected \"desc\" or \"asc\" after the field, "
			    "not \"%s\"",
			    sp);
	} else if (*i + 1 < o->nargs && (strcasecmp(o->args[*i + 1], "desc") == 0 ||
	                                 strcasecmp(o->args[*i + 1], "asc") == 0)) {
		lo->desc = strcasecmp(o->args[++*i], "desc") == 0;
	}
	if (!cw_filter_order_column(lo->order))
		return usage_err("--order-by: cannot order by \"%s\": use event_time, "
		                 "create_time, name, parent, category, state, "
		                 "severity, mute, resource_name, occurrence_count, ...",
		                 lo->order);
	return 0;
}

static int parse_list_opts(struct opts *o, struct list_opts *lo)
{
	const char *v;
	int rc;

	for (int i = 1; i < o->nargs; i++) {
		const char *a = o->args[i];

		if (is_opt(a, "--filter")) {
			if (!(lo->filter = opt_value(o, &i, "--filter")))
				return EXIT_USAGE;
		} else if (is_opt(a, "--order-by")) {
			if ((rc = parse_order(o, &i, lo)))
				return rc;
		} else if (is_opt(a, "--limit")) {
			char *end;

			if (!(v = opt_value(o, &i, "--limit")))
				return EXIT_USAGE;
			errno = 0;
			lo->limit = strtol(v, &end, 10);
			if (errno || *end || lo->limit < 1)
				return usage_err("--limit must be a positive integer, not \"%s\"",
				                 v);
		} else if (is_opt(a, "--format")) {
			v = opt_value(o, &i, "--format");
			if (!v || parse_shape(v, "table", &lo->shape))
				return EXIT_USAGE;
		} else {
			return usage_err("list: unexpected argument \"%s\"", a);
		}
	}
	return 0;
}

/* totalSize counts every match, also past --limit. */
static int render_list(struct cw_store *s, const struct cw_filter *f, const struct list_opts *lo,
                       json_t *arr)
{
	long long total = (long long)json_array_size(arr);
	json_t *all = NULL;

	switch (lo->shape) {
	case SHAPE_TEXT:
		return cw_render_table(arr);
	case SHAPE_JSON:
		return cw_render_json(arr);
	case SHAPE_CONSOLE: {
		json_t *out = json_array(), *v;
		size_t i;

		json_array_foreach(arr, i, v)
		{
			json_array_append_new(out, cw_shape_console(v));
		}
		return print_owned(out);
	}
	case SHAPE_SCC:
		break;
	}
	if (lo->limit && (long long)lo->limit == total &&
	    !cw_store_list(s, f, lo->order, lo->desc, 0, &all))
		total = (long long)json_array_size(all);
	json_decref(all);
	return print_owned(cw_shape_list_response(arr, total, NULL));
}

static int cmd_list(struct opts *o)
{
	struct list_opts lo = {.order = "event_time"};
	char err[1024];
	struct cw_filter *f = NULL;
	struct cw_store *s = NULL;
	json_t *arr = NULL;
	int ret = parse_list_opts(o, &lo);

	if (ret)
		return ret;
	ret = cw_filter_compile(lo.filter, &f, err, sizeof(err));
	if (ret) {
		cw_err("%s", err);
		if (ret == -EINVAL && lo.filter)
			fprintf(stderr, "  %s\n  %*s^\n", lo.filter,
			        (int)strtol(err + strlen("filter: column "), NULL, 10) - 1, "");
		return EXIT_USAGE;
	}
	ret = open_store(o, false, &s);
	if (!ret)
		ret = cw_store_list(s, f, lo.order, lo.desc, lo.limit, &arr);
	if (!ret)
		ret = render_list(s, f, &lo, arr);
	json_decref(arr);
	cw_store_close(s);
	cw_filter_free(f);
	return ret ? EXIT_USAGE : EXIT_OK;
}

static int cmd_show(struct opts *o)
{
	const char *id = NULL, *v;
	enum shape shape = SHAPE_TEXT;
	struct cw_store *s;
	json_t *f;
	int ret;

	for (int i = 1; i < o->nargs; i++) {
		if (strcmp(o->args[i], "--json") == 0) {
			shape = SHAPE_JSON;
		} else if (is_opt(o->args[i], "--format")) {
			v = opt_value(o, &i, "--format");
			if (!v || parse_shape(v, "summary", &shape))
				return EXIT_USAGE;
		} else if (o->args[i][0] == '-' && o->args[i][1])
			return usage_err("show: unknown option \"%s\"", o->args[i]);
		else if (!id)
			id = o->args[i];
		else
			return usage_err("show: unexpected argument \"%s\"", o->args[i]);
	}

	if (!id)
		return usage_err("%s", "show: which finding? give an ID");
	if (open_store(o, false, &s))
		return EXIT_USAGE;
	ret = cw_store_get(s, id, &f);
	cw_store_close(s);
	if (ret)
		return lookup_status(ret, id);
	if (shape == SHAPE_JSON)
		ret = cw_render_json(f);
	else if (shape == SHAPE_SCC)
		ret = print_owned(cw_shape_list_result(f));
	else if (shape == SHAPE_CONSOLE)
		ret = print_owned(cw_shape_console(f));
	else
		cw_render_summary(f);
	json_decref(f);
	return ret ? EXIT_USAGE : EXIT_OK;
}

/* "15m", "90s", "2h", "30" (seconds). Returns ms or -1. */
static int64_t parse_window(const char *v)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0 || n > 10LL * 365 * 24 * 3600)
		return -1;
	if (!*end || strcmp(end, "s") == 0)
		return n * 1000;
	if (strcmp(end, "m") == 0)
		return n * 60 * 1000;
	if (strcmp(end, "h") == 0)
		return n * 3600 * 1000;
	return -1;
}

static int cmd_related(struct opts *o)
{
	const char *id = NULL, *v, *wtext = "15m";
	int64_t window = 15 * 60 * 1000;
	bool json = false;
	struct cw_store *s;
	json_t *arr = NULL, *f = NULL;
	int ret;

	for (int i = 1; i < o->nargs; i++) {
		const char *a = o->args[i];

		if (is_opt(a, "--window")) {
			v = opt_value(o, &i, "--window");
			if (!v)
				return EXIT_USAGE;
			window = parse_window(v);
			if (window < 0)
				return usage_err(
				    "--window: expected a duration such as 90s, 15m or "
				    "2h, not \"%s\"",
				    v);
			wtext = v;
		} else if (is_opt(a, "--format")) {
			v = opt_value(o, &i, "--format");
			if (!v || parse_format(v, &json))
				return EXIT_USAGE;
		} else if (a[0] == '-' && a[1]) {
			return usage_err("related: unknown option \"%s\"", a);
		} else if (!id) {
			id = a;
		} else {
			return usage_err("related: unexpected argument \"%s\"", a);
		}
	}
	if (!id)
		return usage_err("%s", "related: which finding? give an ID");
	if (open_store(o, false, &s))
		return EXIT_USAGE;
	ret = cw_store_get(s, id, &f);
	if (!ret)
		ret = cw_store_related(s, id, window, &arr);
	cw_store_close(s);
	if (ret) {
		json_decref(f);
		return lookup_status(ret, id);
	}
	if (json) {
		ret = cw_render_json(arr);
	} else {
		json_t *sp = json_object_get(f, "sourceProperties");
		const char *ctr = cw_render_js(sp, "Container_Id");

		printf("%zu other finding%s on %s ", json_array_size(arr),
		       json_array_size(arr) == 1 ? "" : "s", ctr ? "container" : "resource");
		cw_render_put_safe(stdout, ctr ? ctr
		                           : cw_render_js(f, "resourceName")
		                               ? cw_render_js(f, "resourceName")
		                               : "?");
		printf(" within %s of ", wtext);
		cw_render_put_safe(stdout, cw_render_js(f, "eventTime"));
		printf(" (finding ");
		cw_render_put_safe(stdout, cw_store_short_id(cw_render_js(f, "name")));
		printf(")\n");
		if (json_array_size(arr))
			ret = cw_render_table(arr);
	}
	json_decref(arr);
	json_decref(f);
	return ret ? EXIT_USAGE : EXIT_OK;
}

/* `logs ID [--before 5m] [--after 5m] [--format text|json]`. */
static int cmd_logs(struct opts *o)
{
	const char *id = NULL, *v;
	int64_t win[2] = {5 * 60 * 1000, 5 * 60 * 1000};
	static const char *const names[2] = {"--before", "--after"};
	bool json = false;
	struct cw_store *s;
	json_t *f = NULL;
	int ret;

	for (int i = 1; i < o->nargs; i++) {
		const char *a = o->args[i];
		int w = is_opt(a, names[0]) ? 0 : is_opt(a, names[1]) ? 1 : -1;

		if (w >= 0) {
			if (!(v = opt_value(o, &i, names[w])))
				return EXIT_USAGE;
			if ((win[w] = parse_window(v)) < 0)
				return usage_err(
				    "expected a duration such as 90s, 5m or 2h, not \"%s\"", v);
		} else if (is_opt(a, "--format")) {
			if (!(v = opt_value(o, &i, "--format")))
				return EXIT_USAGE;
			if (strcmp(v, "text") && strcmp(v, "json"))
				return usage_err("--format must be text or json, not \"%s\"", v);
			json = !strcmp(v, "json");
		} else if (a[0] == '-' && a[1]) {
			return usage_err("logs: unknown option \"%s\"", a);
		} else if (!id) {
			id = a;
		} else {
			return usage_err("logs: unexpected argument \"%s\"", a);
		}
	}
	if (!id)
		return usage_err("%s", "logs: which finding? give an ID");
	if (open_store(o, false, &s))
		return EXIT_USAGE;
	ret = cw_store_get(s, id, &f);
	if (!ret)
		ret = cw_findings_logs(s, f, win[0], win[1], json) ? EXIT_USAGE : EXIT_OK;
	else
		ret = lookup_status(ret, id);
	cw_store_close(s);
	json_decref(f);
	return ret;
}

static int cmd_lifecycle(struct opts *o, const char *cmd)
{
	bool is_state = strcmp(cmd, "set-state") == 0;
	int want = is_state ? 3 : 2, ret;
	char state[16] = "";
	const char *id, *what;
	struct cw_store *s;
	json_t *f = NULL;

	if (o->nargs != want)
		return usage_err(is_state ? "%s: expected ID and ACTIVE or INACTIVE"
		                          : "%s: expected exactly one ID",
		                 cmd);
	id = o->args[1];
	if (is_state) {
		cw_strlcpy(state, o->args[2], sizeof(state));
		for (char *p = state; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (strcmp(state, "ACTIVE") != 0 && strcmp(state, "INACTIVE") != 0)
			return usage_err("set-state: the state is ACTIVE or INACTIVE, not \"%s\"",
			                 o->args[2]);
	}
	if (open_store(o, true, &s))
		return EXIT_USAGE;
	if (is_state)
		ret = cw_store_set_state(s, id, state, &f);
	else
		ret = cw_store_set_mute(s, id, strcmp(cmd, "mute") == 0, &f);
	cw_store_close(s);
	if (ret < 0)
		return lookup_status(ret, id);
	what = is_state ? "state" : "mute";
	printf("finding ");
	cw_render_put_safe(stdout, cw_store_short_id(cw_render_js(f, "name")));
	printf(": %s %s%s\n", what, cw_render_js(f, what) ? cw_render_js(f, what) : "?",
	       ret ? "" : " (unchanged: it already was)");
	json_decref(f);
	return EXIT_OK;
}

int cw_cmd_findings(int argc, char **argv)
{
	struct opts o = {0};
	const char *cmd;
	int ret;

	o.store = getenv(CW_STORE_ENV);
	if (!o.store || !o.store[0])
		o.store = CW_STORE_DEFAULT_PATH;
	o.args = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
	if (!o.args) {
		cw_err("findings: out of memory");
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--store") == 0) {
			if (i + 1 >= argc) {
				free(o.args);
				return usage_err("%s needs a path", "--store");
			}
			o.store = argv[++i];
		} else if (strncmp(argv[i], "--store=", 8) == 0) {
			o.store = argv[i] + 8;
		} else {
			o.args[o.nargs++] = argv[i];
		}
	}
	if (o.nargs == 0) {
		free(o.args);
		return usage_err(
		    "%s", "which command? list, show, related, logs, set-state, mute or unmute");
	}
	cmd = o.args[0];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		ret = EXIT_OK;
	} else if (!o.store[0]) {
		ret = usage_err("%s", "--store needs a path");
	} else if (strcmp(cmd, "list") == 0) {
		ret = cmd_list(&o);
	} else if (strcmp(cmd, "show") == 0) {
		ret = cmd_show(&o);
	} else if (strcmp(cmd, "related") == 0) {
		ret = cmd_related(&o);
	} else if (strcmp(cmd, "logs") == 0) {
		ret = cmd_logs(&o);
	} else if (strcmp(cmd, "set-state") == 0 || strcmp(cmd, "mute") == 0 ||
	           strcmp(cmd, "unmute") == 0) {
		ret = cmd_lifecycle(&o, cmd);
	} else {
		ret = usage_err("unknown command \"%s\"", cmd);
	}
	free(o.args);
	return ret;
}
