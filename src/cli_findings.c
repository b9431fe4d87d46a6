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

#include "filter.h"
#include "store.h"
#include "termsafe.h"
#include "util.h"

#define EXIT_OK       0
#define EXIT_NOTFOUND 1
#define EXIT_USAGE    2

static const char usage_text[] =
    "usage: cagewatch findings <command> [--store PATH] ...\n"
    "  list [--filter EXPR] [--order-by FIELD [desc]] [--limit N] [--format table|json]\n"
    "  show ID [--json]\n"
    "  related ID [--window 15m] [--format table|json]\n"
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
	cw_err("findings: %s", msg);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

/* ---- text output helpers ---- */

/* Print container-chosen text terminal-safe (termsafe.h). */
static void put_safe(FILE *out, const char *s)
{
	char *e = cw_term_escape(s, false);

	fputs(e ? e : "?", out);
	free(e);
}

/* The agent's own multi-line text (next steps): line breaks kept, indented. */
static void put_text(FILE *out, const char *s, const char *indent)
{
	char *e = cw_term_escape(s, true), *line, *save = NULL;

	for (line = e ? strtok_r(e, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
		fprintf(out, "%s%s\n", indent, line);
	free(e);
}

/* Escaped copy of s truncated to max bytes ("..." marks the cut); malloc'd. */
static char *safe_dup(const char *s, size_t max)
{
	char *out = cw_term_escape(s, false);
	size_t n = out ? strlen(out) : 0;

	if (out && max > 3 && n > max) {
		/* don't cut a UTF-8 sequence in half */
		size_t cut = max - 3;

		while (cut > 0 && ((unsigned char)out[cut] & 0xc0) == 0x80)
			cut--;
		strcpy(out + cut, "...");
	}
	return out;
}

static const char *js(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && v[0] ? v : NULL;
}

static json_t *first(json_t *arr)
{
	return json_array_get(arr, 0);
}

static void field(const char *label, const char *value)
{
	if (!value)
		return;
	printf("  %-24s", label);
	put_safe(stdout, value);
	putchar('\n');
}

/* A JSON scalar as text (strings bare, others as JSON). malloc'd or NULL. */
static char *scalar_text(json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (!v || json_is_null(v))
		return NULL;
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static void field_json(const char *label, json_t *v)
{
	char *t = scalar_text(v);

	if (t && t[0])
		field(label, t);
	free(t);
}

/* ---- table ---- */

enum { C_ID, C_TIME, C_SEV, C_CAT, C_STATE, C_MUTE, C_WHERE, C_BIN, C_COUNT, NCOLS };

static const char *const col_names[NCOLS] = {
    "ID",   "EVENT TIME",         "SEVERITY", "CATEGORY", "STATE",
    "MUTE", "CONTAINER/RESOURCE", "BINARY",   "COUNT",
};
static const size_t col_max[NCOLS] = {12, 20, 8, 36, 8, 9, 32, 48, 8};

static int row_cells(json_t *f, char *cells[NCOLS])
{
	json_t *sp = json_object_get(f, "sourceProperties"), *res = json_object_get(f, "resource");
	const char *where = js(first(json_object_get(f, "containers")), "name");
	const char *et = js(f, "eventTime");
	char timebuf[32] = "", *count;

	if (!where)
		where = js(sp, "Container_Name");
	if (!where)
		where = js(res, "displayName");
	if (!where)
		where = js(f, "resourceName");
	if (et) {
		/* "2026-11-29T07:00:05.123Z" shown to the second */
		cw_strlcpy(timebuf, et, 20);
		if (strlen(timebuf) == 19)
			strcat(timebuf, "Z");
		else
			cw_strlcpy(timebuf, et, sizeof(timebuf));
	}
	count = scalar_text(json_object_get(sp, "Occurrence_Count"));
	cells[C_ID] = safe_dup(cw_store_short_id(js(f, "name")), col_max[C_ID] + 3);
	if (cells[C_ID] && strlen(cells[C_ID]) > col_max[C_ID])
		cells[C_ID][col_max[C_ID]] = 0; /* a prefix is still a valid ID */
	cells[C_TIME] = safe_dup(timebuf, col_max[C_TIME]);
	cells[C_SEV] = safe_dup(js(f, "severity"), col_max[C_SEV]);
	cells[C_CAT] = safe_dup(js(f, "category"), col_max[C_CAT]);
	cells[C_STATE] = safe_dup(js(f, "state"), col_max[C_STATE]);
	cells[C_MUTE] = safe_dup(js(f, "mute"), col_max[C_MUTE]);
	cells[C_WHERE] = safe_dup(where, col_max[C_WHERE]);
	cells[C_BIN] =
	    safe_dup(js(json_object_get(first(json_object_get(f, "processes")), "binary"), "path"),
	             col_max[C_BIN]);
	cells[C_COUNT] = safe_dup(count ? count : "1", col_max[C_COUNT]);
	free(count);
	for (int c = 0; c < NCOLS; c++)
		if (!cells[c])
			return -ENOMEM;
	return 0;
}

static int print_table(json_t *arr)
{
	size_t n = json_array_size(arr), w[NCOLS];
	char *(*cells)[NCOLS] = calloc(n ? n : 1, sizeof(*cells));
	int ret = 0;

	if (!cells)
		return -ENOMEM;
	for (int c = 0; c < NCOLS; c++)
		w[c] = strlen(col_names[c]);
	for (size_t i = 0; i < n && !ret; i++) {
		ret = row_cells(json_array_get(arr, i), cells[i]);
		for (int c = 0; c < NCOLS && !ret; c++)
			if (strlen(cells[i][c]) > w[c])
				w[c] = strlen(cells[i][c]);
	}
	if (!ret) {
		for (int c = 0; c < NCOLS; c++)
			printf("%-*s%s", c == NCOLS - 1 ? 0 : (int)w[c], col_names[c],
			       c == NCOLS - 1 ? "\n" : "  ");
		for (size_t i = 0; i < n; i++)
			for (int c = 0; c < NCOLS; c++)
				printf("%-*s%s", c == NCOLS - 1 ? 0 : (int)w[c], cells[i][c],
				       c == NCOLS - 1 ? "\n" : "  ");
	}
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < NCOLS; c++)
			free(cells[i][c]);
	free(cells);
	return ret;
}

static int print_json(json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		return -EIO;
	putchar('\n');
	return 0;
}

/* ---- show ---- */

static const char *attack_id(const char *e)
{
	static const char *const map[][2] = {
	    {"RECONNAISSANCE", "TA0043"},
	    {"RESOURCE_DEVELOPMENT", "TA0042"},
	    {"INITIAL_ACCESS", "TA0001"},
	    {"EXECUTION", "TA0002"},
	    {"PERSISTENCE", "TA0003"},
	    {"PRIVILEGE_ESCALATION", "TA0004"},
	    {"DEFENSE_EVASION", "TA0005"},
	    {"CREDENTIAL_ACCESS", "TA0006"},
	    {"DISCOVERY", "TA0007"},
	    {"LATERAL_MOVEMENT", "TA0008"},
	    {"COLLECTION", "TA0009"},
	    {"COMMAND_AND_CONTROL", "TA0011"},
	    {"EXFILTRATION", "TA0010"},
	    {"IMPACT", "TA0040"},
	    {"ESCAPE_TO_HOST", "T1611"},
	    {"IMPAIR_DEFENSES", "T1562"},
	    {"DISABLE_OR_MODIFY_TOOLS", "T1562.001"},
	    {"EXPLOITATION_FOR_PRIVILEGE_ESCALATION", "T1068"},
	    {"CONTAINER_ADMINISTRATION_COMMAND", "T1609"},
	    {"CONTAINER_AND_RESOURCE_DISCOVERY", "T1613"},
	    {"PROCESS_DISCOVERY", "T1057"},
	    {"NETWORK_SERVICE_DISCOVERY", "T1046"},
	    {"COMMAND_AND_SCRIPTING_INTERPRETER", "T1059"},
	    {"UNIX_SHELL", "T1059.004"},
	    {"PYTHON", "T1059.006"},
	    {"INGRESS_TOOL_TRANSFER", "T1105"},
	    {"NATIVE_API", "T1106"},
	    {"ABUSE_ELEVATION_CONTROL_MECHANISM", "T1548"},
	    {"UNSECURED_CREDENTIALS", "T1552"},
	    {"MASQUERADING", "T1036"},
	    {"DEPLOY_CONTAINER", "T1610"},
	    {"SYSTEM_OWNER_USER_DISCOVERY", "T1033"},
	    {"FILE_AND_DIRECTORY_DISCOVERY", "T1083"},
	};

	for (size_t i = 0; e && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], e) == 0)
			return map[i][1];
	return NULL;
}

static void print_enum_list(const char *label, json_t *arr)
{
	size_t i;
	json_t *v;
	char line[1024] = "";

	if (!json_is_array(arr) || !json_array_size(arr))
		return;
	json_array_foreach(arr, i, v)
	{
		const char *e = json_string_value(v), *id = attack_id(e);
		size_t len = strlen(line);

		if (!e)
			continue;
		snprintf(line + len, sizeof(line) - len, "%s%s%s%s%s", i ? ", " : "", e,
		         id ? " (" : "", id ? id : "", id ? ")" : "");
	}
	field(label, line);
}

static void print_args(json_t *args)
{
	size_t i;
	json_t *a;

	if (!json_is_array(args) || !json_array_size(args))
		return;
	printf("  %-24s", "Arguments");
	json_array_foreach(args, i, a)
	{
		const char *s = json_string_value(a);

		if (i)
			putchar(' ');
		if (!s)
			continue;
		if (!s[0] || strpbrk(s, " \t\"'\\$`")) {
			char *q = json_dumps(a, JSON_ENCODE_ANY);

			put_safe(stdout, q ? q : s);
			free(q);
		} else {
			put_safe(stdout, s);
		}
	}
	putchar('\n');
}

static void print_file(const char *label, json_t *file)
{
	char buf[256];
	const char *sha = js(file, "sha256");
	char *size = scalar_text(json_object_get(file, "size"));
	char *hashed = scalar_text(json_object_get(file, "hashedSize"));

	field(label, js(file, "path"));
	if (sha) {
		if (json_is_true(json_object_get(file, "partiallyHashed")))
			snprintf(buf, sizeof(buf), "%s (first %s bytes)", sha,
			         hashed ? hashed : "?");
		else
			snprintf(buf, sizeof(buf), "%s", sha);
		field("  SHA-256", buf);
	}
	if (size) {
		snprintf(buf, sizeof(buf), "%s bytes", size);
		field("  Size", buf);
	}
	free(size);
	free(hashed);
}

static void print_summary(json_t *f)
{
	json_t *sp = json_object_get(f, "sourceProperties"), *res = json_object_get(f, "resource");
	json_t *gcp = json_object_get(res, "gcpMetadata");
	json_t *proc = first(json_object_get(f, "processes"));
	json_t *ctr = first(json_object_get(f, "containers"));
	json_t *pod = first(json_object_get(json_object_get(f, "kubernetes"), "pods"));
	json_t *mitre = json_object_get(f, "mitreAttack");
	const char *id = cw_store_short_id(js(f, "name")), *k;
	char buf[1024];
	json_t *v;

	printf("Finding ");
	put_safe(stdout, id);
	putchar('\n');
	field("Name", js(f, "name"));
	field("Category", js(f, "category"));
	field("Severity", js(f, "severity"));
	field("Finding class", js(f, "findingClass"));
	field("Event time", js(f, "eventTime"));
	field("Create time", js(f, "createTime"));
	field_json("Occurrences", json_object_get(sp, "Occurrence_Count"));
	field("State", js(f, "state"));
	field("  State changed", js(sp, "State_Change_Time"));
	field("Mute", js(f, "mute"));
	field("  Mute updated", js(f, "muteUpdateTime"));
	field("  Muted by", js(f, "muteInitiator"));

	printf("\nWhat was detected\n");
	field("Description", js(f, "description"));
	print_file("Program binary", json_object_get(proc, "binary"));
	print_args(json_object_get(proc, "args"));
	if (json_is_true(json_object_get(proc, "argumentsTruncated")))
		field("  (arguments truncated)", "yes");
	print_file("Script", json_object_get(proc, "script"));
	if (proc) {
		char *pid = scalar_text(json_object_get(proc, "pid"));
		char *ppid = scalar_text(json_object_get(proc, "parentPid"));
		char *uid = scalar_text(json_object_get(proc, "userId"));
		const char *comm = js(proc, "name");

		snprintf(buf, sizeof(buf), "%s%spid %s%s%s%s", comm ? comm : "", comm ? ", " : "",
		         pid ? pid : "?", uid ? ", user id " : "", uid ? uid : "", "");
		field("Process", buf);
		if (ppid) {
			snprintf(buf, sizeof(buf), "pid %s", ppid);
			field("Parent process", buf);
		}
		free(pid);
		free(ppid);
		free(uid);
	}
	if (js(sp, "Tool_Name") && js(sp, "Tool_Id")) {
		snprintf(buf, sizeof(buf), "%s (%s)", js(sp, "Tool_Name"), js(sp, "Tool_Id"));
		field("Tool", buf);
	} else {
		field("Tool", js(sp, "Tool_Name") ? js(sp, "Tool_Name") : js(sp, "Tool_Id"));
	}
	field("Rule", js(sp, "Rule_Id"));
	field("  Matched on", js(sp, "Matched_On"));
	field("  Match detail", js(sp, "Match_Detail"));
	field("Module", js(f, "moduleName"));

	printf("\nAffected resource\n");
	field("Resource full name",
	      js(f, "resourceName") ? js(f, "resourceName") : js(res, "name"));
	field("Resource display name", js(res, "displayName"));
	field("Resource type", js(res, "type"));
	field("Project", js(gcp, "projectDisplayName") ? js(gcp, "projectDisplayName")
	                                               : js(res, "projectDisplayName"));
	field("Project full name", js(gcp, "project") ? js(gcp, "project") : js(res, "project"));

	printf("\nContainer\n");
	field("Name", js(ctr, "name") ? js(ctr, "name") : js(sp, "Container_Name"));
	field("ID", js(sp, "Container_Id"));
	field("Image", js(ctr, "uri") ? js(ctr, "uri") : js(sp, "Container_Image_Uri"));
	field("Image ID", js(ctr, "imageId"));
	field("Runtime", js(sp, "Container_Runtime"));
	if (pod) {
		snprintf(buf, sizeof(buf), "%s/%s", js(pod, "ns") ? js(pod, "ns") : "",
		         js(pod, "name") ? js(pod, "name") : "");
		field("Pod", buf);
	}
	if (!ctr && !js(sp, "Container_Id") && !pod)
		printf("  (not in a container)\n");

	if (mitre) {
		const char *t = js(mitre, "primaryTactic");

		printf("\nMITRE ATT&CK\n");
		if (t) {
			snprintf(buf, sizeof(buf), "%s%s%s%s", t, attack_id(t) ? " (" : "",
			         attack_id(t) ? attack_id(t) : "", attack_id(t) ? ")" : "");
			field("Tactic", buf);
		}
		print_enum_list("Techniques", json_object_get(mitre, "primaryTechniques"));
		print_enum_list("Additional tactics", json_object_get(mitre, "additionalTactics"));
		field("ATT&CK version", js(mitre, "version"));
	}

	if (json_object_size(sp)) {
		printf("\nSource properties\n");
		json_object_foreach(sp, k, v)
		{
			char label[64];

			snprintf(label, sizeof(label), "%s", k);
			field_json(label, v);
		}
	}

	printf("\nNext steps\n");
	if (js(f, "nextSteps"))
		put_text(stdout, js(f, "nextSteps"), "  ");
	printf("  Look for other findings on the same container around the same time:\n"
	       "    cagewatch findings related ");
	put_safe(stdout, id);
	printf("\n  Review the container's settings and logs; full JSON:\n"
	       "    cagewatch findings show ");
	put_safe(stdout, id);
	printf(" --json\n");
}

/* ---- commands ---- */

struct opts {
	const char *store;
	int nargs;
	char **args; /* argv without --store */
};

static int open_store(const struct opts *o, bool write, struct cw_store **s)
{
	int ret = cw_store_open(s, o->store, write ? 0 : CW_STORE_READONLY);

	if (ret == -ENOENT)
		cw_err("no store at %s; run `cagewatch run` first or pass --store", o->store);
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

static int cmd_list(struct opts *o)
{
	const char *filter = NULL, *v;
	char order[128] = "event_time", err[1024];
	bool desc = false, json = false;
	long limit = 0;
	struct cw_filter *f = NULL;
	struct cw_store *s = NULL;
	json_t *arr = NULL;
	int ret;

	for (int i = 1; i < o->nargs; i++) {
		const char *a = o->args[i];

		if (is_opt(a, "--filter")) {
			filter = opt_value(o, &i, "--filter");
			if (!filter)
				return EXIT_USAGE;
		} else if (is_opt(a, "--order-by")) {
			char *sp;

			v = opt_value(o, &i, "--order-by");
			if (!v)
				return EXIT_USAGE;
			cw_strlcpy(order, v, sizeof(order));
			desc = false;
			sp = strchr(order, ' ');
			if (sp) {
				*sp++ = 0;
				while (*sp == ' ')
					sp++;
				if (strcasecmp(sp, "desc") == 0)
					desc = true;
				else if (strcasecmp(sp, "asc") != 0)
					return usage_err("--order-by: expected \"desc\" or \"asc\" "
					                 "after the field, not \"%s\"",
					                 sp);
			} else if (i + 1 < o->nargs && (strcasecmp(o->args[i + 1], "desc") == 0 ||
			                                strcasecmp(o->args[i + 1], "asc") == 0)) {
				desc = strcasecmp(o->args[++i], "desc") == 0;
			}
			if (!cw_filter_order_column(order))
				return usage_err(
				    "--order-by: cannot order by \"%s\": use event_time, "
				    "create_time, name, parent, category, state, "
				    "severity, mute, resource_name, occurrence_count, ...",
				    order);
		} else if (is_opt(a, "--limit")) {
			char *end;

			v = opt_value(o, &i, "--limit");
			if (!v)
				return EXIT_USAGE;
			errno = 0;
			limit = strtol(v, &end, 10);
			if (errno || *end || limit < 1)
				return usage_err("--limit must be a positive integer, not \"%s\"",
				                 v);
		} else if (is_opt(a, "--format")) {
			v = opt_value(o, &i, "--format");
			if (!v || parse_format(v, &json))
				return EXIT_USAGE;
		} else {
			return usage_err("list: unexpected argument \"%s\"", a);
		}
	}
	ret = cw_filter_compile(filter, &f, err, sizeof(err));
	if (ret) {
		cw_err("%s", err);
		if (ret == -EINVAL && filter)
			fprintf(stderr, "  %s\n  %*s^\n", filter,
			        (int)strtol(err + strlen("filter: column "), NULL, 10) - 1, "");
		return EXIT_USAGE;
	}
	ret = open_store(o, false, &s);
	if (!ret)
		ret = cw_store_list(s, f, order, desc, limit, &arr);
	if (!ret)
		ret = json ? print_json(arr) : print_table(arr);
	json_decref(arr);
	cw_store_close(s);
	cw_filter_free(f);
	return ret ? EXIT_USAGE : EXIT_OK;
}

static int cmd_show(struct opts *o)
{
	const char *id = NULL;
	bool json = false;
	struct cw_store *s;
	json_t *f;
	int ret;

	for (int i = 1; i < o->nargs; i++) {
		if (strcmp(o->args[i], "--json") == 0)
			json = true;
		else if (o->args[i][0] == '-' && o->args[i][1])
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
	if (json)
		ret = print_json(f);
	else
		print_summary(f);
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
		ret = print_json(arr);
	} else {
		json_t *sp = json_object_get(f, "sourceProperties");
		const char *ctr = js(sp, "Container_Id");

		printf("%zu other finding%s on %s ", json_array_size(arr),
		       json_array_size(arr) == 1 ? "" : "s", ctr ? "container" : "resource");
		put_safe(stdout, ctr ? ctr : js(f, "resourceName") ? js(f, "resourceName") : "?");
		printf(" within %s of ", wtext);
		put_safe(stdout, js(f, "eventTime"));
		printf(" (finding ");
		put_safe(stdout, cw_store_short_id(js(f, "name")));
		printf(")\n");
		if (json_array_size(arr))
			ret = print_table(arr);
	}
	json_decref(arr);
	json_decref(f);
	return ret ? EXIT_USAGE : EXIT_OK;
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
	put_safe(stdout, cw_store_short_id(js(f, "name")));
	printf(": %s %s%s\n", what, js(f, what) ? js(f, what) : "?",
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
		return usage_err("%s", "findings: which command?");
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
	} else if (strcmp(cmd, "set-state") == 0 || strcmp(cmd, "mute") == 0 ||
	           strcmp(cmd, "unmute") == 0) {
		ret = cmd_lifecycle(&o, cmd);
	} else {
		ret = usage_err("findings: unknown command \"%s\"", cmd);
	}
	free(o.args);
	return ret;
}
