/* cli_render.c - how findings look on a terminal: the table of `findings
 * list`, the Summary view of `findings show`, JSON as stored. Every string a
 * finding carries may be attacker-chosen: text goes through termsafe.
 */
#include "cli_render.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "mitre.h"
#include "store.h"
#include "termsafe.h"
#include "util.h"

/* Print container-chosen text terminal-safe (termsafe.h). */
void cw_render_put_safe(FILE *out, const char *s)
{
	char *e = cw_term_escape(s, false);

	fputs(e ? e : "?", out);
	free(e);
}

/* The agent's own multi-line text (next steps): line breaks kept, indented. */
void cw_render_put_text(FILE *out, const char *s, const char *indent)
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
		memcpy(out + cut, "...", 4); /* out holds n + 1 > cut + 4 bytes */
	}
	return out;
}

const char *cw_render_js(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && v[0] ? v : NULL;
}

static json_t *first(json_t *arr)
{
	return json_array_get(arr, 0);
}

void cw_render_field(const char *label, const char *value)
{
	if (!value)
		return;
	printf("  %-24s", label);
	cw_render_put_safe(stdout, value);
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
		cw_render_field(label, t);
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
	const char *where = cw_render_js(first(json_object_get(f, "containers")), "name");
	const char *et = cw_render_js(f, "eventTime");
	char timebuf[32] = "", *count;

	if (!where)
		where = cw_render_js(sp, "Container_Name");
	if (!where)
		where = cw_render_js(res, "displayName");
	if (!where)
		where = cw_render_js(f, "resourceName");
	if (et) {
		/* "2026-11-29T07:00:05.123Z" shown to the second */
		cw_strlcpy(timebuf, et, 20);
		if (strlen(timebuf) == 19)
			cw_strlcpy(timebuf + 19, "Z", sizeof(timebuf) - 19);
		else
			cw_strlcpy(timebuf, et, sizeof(timebuf));
	}
	count = scalar_text(json_object_get(sp, "Occurrence_Count"));
	cells[C_ID] = safe_dup(cw_store_short_id(cw_render_js(f, "name")), col_max[C_ID] + 3);
	if (cells[C_ID] && strlen(cells[C_ID]) > col_max[C_ID])
		cells[C_ID][col_max[C_ID]] = 0; /* a prefix is still a valid ID */
	cells[C_TIME] = safe_dup(timebuf, col_max[C_TIME]);
	cells[C_SEV] = safe_dup(cw_render_js(f, "severity"), col_max[C_SEV]);
	cells[C_CAT] = safe_dup(cw_render_js(f, "category"), col_max[C_CAT]);
	cells[C_STATE] = safe_dup(cw_render_js(f, "state"), col_max[C_STATE]);
	cells[C_MUTE] = safe_dup(cw_render_js(f, "mute"), col_max[C_MUTE]);
	cells[C_WHERE] = safe_dup(where, col_max[C_WHERE]);
	cells[C_BIN] = safe_dup(
	    cw_render_js(json_object_get(first(json_object_get(f, "processes")), "binary"), "path"),
	    col_max[C_BIN]);
	cells[C_COUNT] = safe_dup(count ? count : "1", col_max[C_COUNT]);
	free(count);
	for (int c = 0; c < NCOLS; c++)
		if (!cells[c])
			return -ENOMEM;
	return 0;
}

int cw_render_table(json_t *arr)
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

int cw_render_json(json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		return -EIO;
	putchar('\n');
	return 0;
}

/* ---- show ---- */

const char *cw_render_attack_id(const char *e)
{
	return cw_mitre_attack_id(e);
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
		const char *e = json_string_value(v), *id = cw_render_attack_id(e);
		size_t len = strlen(line);

		if (!e)
			continue;
		snprintf(line + len, sizeof(line) - len, "%s%s%s%s%s", i ? ", " : "", e,
		         id ? " (" : "", id ? id : "", id ? ")" : "");
	}
	cw_render_field(label, line);
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

			cw_render_put_safe(stdout, q ? q : s);
			free(q);
		} else {
			cw_render_put_safe(stdout, s);
		}
	}
	putchar('\n');
}

static void print_file(const char *label, json_t *file)
{
	char buf[256];
	const char *sha = cw_render_js(file, "sha256");
	char *size = scalar_text(json_object_get(file, "size"));
	char *hashed = scalar_text(json_object_get(file, "hashedSize"));

	cw_render_field(label, cw_render_js(file, "path"));
	if (sha) {
		if (json_is_true(json_object_get(file, "partiallyHashed")))
			snprintf(buf, sizeof(buf), "%s (first %s bytes)", sha,
			         hashed ? hashed : "?");
		else
			snprintf(buf, sizeof(buf), "%s", sha);
		cw_render_field("  SHA-256", buf);
	}
	if (size) {
		snprintf(buf, sizeof(buf), "%s bytes", size);
		cw_render_field("  Size", buf);
	}
	free(size);
	free(hashed);
}

/* Summary: the finding itself. */
static void summary_header(json_t *f, json_t *sp, const char *id)
{
	printf("Finding ");
	cw_render_put_safe(stdout, id);
	putchar('\n');
	cw_render_field("Name", cw_render_js(f, "name"));
	cw_render_field("Category", cw_render_js(f, "category"));
	cw_render_field("Severity", cw_render_js(f, "severity"));
	cw_render_field("Finding class", cw_render_js(f, "findingClass"));
	cw_render_field("Event time", cw_render_js(f, "eventTime"));
	cw_render_field("Create time", cw_render_js(f, "createTime"));
	field_json("Occurrences", json_object_get(sp, "Occurrence_Count"));
	cw_render_field("State", cw_render_js(f, "state"));
	cw_render_field("  State changed", cw_render_js(sp, "State_Change_Time"));
	cw_render_field("Mute", cw_render_js(f, "mute"));
	cw_render_field("  Mute updated", cw_render_js(f, "muteUpdateTime"));
	cw_render_field("  Muted by", cw_render_js(f, "muteInitiator"));
}

/* Summary: the process (pid, parent, user). */
static void summary_process(json_t *proc)
{
	char *pid = scalar_text(json_object_get(proc, "pid"));
	char *ppid = scalar_text(json_object_get(proc, "parentPid"));
	char *uid = scalar_text(json_object_get(proc, "userId"));
	const char *comm = cw_render_js(proc, "name");
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s%spid %s%s%s", comm ? comm : "", comm ? ", " : "",
	         pid ? pid : "?", uid ? ", user id " : "", uid ? uid : "");
	cw_render_field("Process", buf);
	if (ppid) {
		snprintf(buf, sizeof(buf), "pid %s", ppid);
		cw_render_field("Parent process", buf);
	}
	free(pid);
	free(ppid);
	free(uid);
}

/* Summary: what was detected (binary, args, script, tool, rule). */
static void summary_detected(json_t *f, json_t *sp)
{
	json_t *proc = first(json_object_get(f, "processes"));
	char buf[1024];

	printf("\nWhat was detected\n");
	cw_render_field("Description", cw_render_js(f, "description"));
	print_file("Program binary", json_object_get(proc, "binary"));
	print_args(json_object_get(proc, "args"));
	if (json_is_true(json_object_get(proc, "argumentsTruncated")))
		cw_render_field("  (arguments truncated)", "yes");
	print_file("Script", json_object_get(proc, "script"));
	if (proc)
		summary_process(proc);
	if (cw_render_js(sp, "Tool_Name") && cw_render_js(sp, "Tool_Id")) {
		snprintf(buf, sizeof(buf), "%s (%s)", cw_render_js(sp, "Tool_Name"),
		         cw_render_js(sp, "Tool_Id"));
		cw_render_field("Tool", buf);
	} else {
		cw_render_field("Tool", cw_render_js(sp, "Tool_Name")
		                            ? cw_render_js(sp, "Tool_Name")
		                            : cw_render_js(sp, "Tool_Id"));
	}
	cw_render_field("Rule", cw_render_js(sp, "Rule_Id"));
	cw_render_field("  Matched on", cw_render_js(sp, "Matched_On"));
	cw_render_field("  Match detail", cw_render_js(sp, "Match_Detail"));
	cw_render_field("Module", cw_render_js(f, "moduleName"));
}

/* Summary: the resource and the container (or pod) it is about. */
static void summary_resource(json_t *f, json_t *sp)
{
	json_t *res = json_object_get(f, "resource"), *gcp = json_object_get(res, "gcpMetadata");
	json_t *ctr = first(json_object_get(f, "containers"));
	json_t *pod = first(json_object_get(json_object_get(f, "kubernetes"), "pods"));
	char buf[1024];

	printf("\nAffected resource\n");
	cw_render_field("Resource full name", cw_render_js(f, "resourceName")
	                                          ? cw_render_js(f, "resourceName")
	                                          : cw_render_js(res, "name"));
	cw_render_field("Resource display name", cw_render_js(res, "displayName"));
	cw_render_field("Resource type", cw_render_js(res, "type"));
	cw_render_field("Project", cw_render_js(gcp, "projectDisplayName")
	                               ? cw_render_js(gcp, "projectDisplayName")
	                               : cw_render_js(res, "projectDisplayName"));
	cw_render_field("Project full name", cw_render_js(gcp, "project")
	                                         ? cw_render_js(gcp, "project")
	                                         : cw_render_js(res, "project"));
	printf("\nContainer\n");
	cw_render_field("Name", cw_render_js(ctr, "name") ? cw_render_js(ctr, "name")
	                                                  : cw_render_js(sp, "Container_Name"));
	cw_render_field("ID", cw_render_js(sp, "Container_Id"));
	cw_render_field("Image", cw_render_js(ctr, "uri")
	                             ? cw_render_js(ctr, "uri")
	                             : cw_render_js(sp, "Container_Image_Uri"));
	cw_render_field("Image ID", cw_render_js(ctr, "imageId"));
	cw_render_field("Runtime", cw_render_js(sp, "Container_Runtime"));
	if (pod) {
		snprintf(buf, sizeof(buf), "%s/%s",
		         cw_render_js(pod, "ns") ? cw_render_js(pod, "ns") : "",
		         cw_render_js(pod, "name") ? cw_render_js(pod, "name") : "");
		cw_render_field("Pod", buf);
	}
	if (!ctr && !cw_render_js(sp, "Container_Id") && !pod)
		printf("  (not in a container)\n");
}

/* Summary: MITRE ATT&CK and every source property. */
static void summary_mitre_props(json_t *f, json_t *sp)
{
	json_t *mitre = json_object_get(f, "mitreAttack"), *v;
	const char *k;
	char buf[1024];

	if (mitre) {
		const char *t = cw_render_js(mitre, "primaryTactic");

		printf("\nMITRE ATT&CK\n");
		if (t) {
			snprintf(buf, sizeof(buf), "%s%s%s%s", t,
			         cw_render_attack_id(t) ? " (" : "",
			         cw_render_attack_id(t) ? cw_render_attack_id(t) : "",
			         cw_render_attack_id(t) ? ")" : "");
			cw_render_field("Tactic", buf);
		}
		print_enum_list("Techniques", json_object_get(mitre, "primaryTechniques"));
		print_enum_list("Additional tactics", json_object_get(mitre, "additionalTactics"));
		cw_render_field("ATT&CK version", cw_render_js(mitre, "version"));
	}
	if (json_object_size(sp)) {
		printf("\nSource properties\n");
		json_object_foreach(sp, k, v)
		{
			char label[64];

			if (!strcmp(k, "Container_Settings"))
				continue; /* shown as its own section */
			snprintf(label, sizeof(label), "%s", k);
			field_json(label, v);
		}
	}
}

/* The responder's Summary view of one finding, then its next steps. */
void cw_render_summary(json_t *f)
{
	json_t *sp = json_object_get(f, "sourceProperties");
	const char *id = cw_store_short_id(cw_render_js(f, "name"));

	summary_header(f, sp, id);
	summary_detected(f, sp);
	cw_render_ancestry(json_object_get(f, "processes"));
	summary_resource(f, sp);
	cw_render_settings(sp);
	cw_render_log_hint(sp, id);
	summary_mitre_props(f, sp);
	printf("\nNext steps\n");
	if (cw_render_js(f, "nextSteps"))
		cw_render_put_text(stdout, cw_render_js(f, "nextSteps"), "  ");
	printf("  Look for other findings on the same container around the same time:\n"
	       "    cagewatch findings related ");
	cw_render_put_safe(stdout, id);
	printf("\n  Review the container's settings and logs; full JSON:\n"
	       "    cagewatch findings show ");
	cw_render_put_safe(stdout, id);
	printf(" --json\n");
}
