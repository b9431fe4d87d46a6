/* catalogue.h - the data-driven catalogue of known tools and of the finding
 * categories they map to. The catalogue is JSON (rules/catalogue.json, embedded
 * in the binary; users may load their own). Code only interprets it: adding a
 * tool is a data change.
 *
 * This is the first recognition layer: executable names, script names and argv
 * vocabulary. Content (YARA) and hash layers plug in behind cw_catalogue_match()
 * through the same struct cw_detection.
 */
#ifndef CW_CATALOGUE_H
#define CW_CATALOGUE_H

#include <stdbool.h>
#include <jansson.h>

#include "exec.h"

/* A finding category ("Execution: Container Escape") with everything a finding
 * of it carries besides the evidence. */
struct cw_category {
	char *id;                   /* catalogue key, e.g. "container_escape" */
	char *category;             /* SCC category string */
	char *module;               /* SCC module/API name, e.g. "CONTAINER_ESCAPE" */
	char *severity;             /* "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" */
	char *tactic;               /* MITRE primaryTactic enum name */
	json_t *techniques;         /* array of MITRE technique enum names */
	json_t *additional_tactics; /* array, may be empty */
	char *description;
	char *next_steps;
};

/* Parse one category object (the "categories" entries of rules/catalogue.json
 * and rules/techniques.json) with every check: MITRE enum names, severity,
 * module name. Errors are logged naming origin and id; -EINVAL, or -ENOMEM.
 * On error *out holds nothing to free. */
int cw_category_parse(const char *origin, const char *id, json_t *obj, struct cw_category *out);
void cw_category_clear(struct cw_category *k); /* frees and zeroes */

/* One recognition: which rule fired, on what. */
struct cw_detection {
	const struct cw_category *cat;
	const char *tool_id;   /* "botb" */
	const char *tool_name; /* "BOtB" */
	char rule_id[128];     /* "tool.botb.name" */
	char matched_on[32];   /* "name", "name+argv", "script", "argv", "content", "hash" */
	char detail[512]; /* the matched value(s), e.g. "basename=botb-linux-amd64 arg=-autopwn" */
	json_t *extra;    /* extra sourceProperties (owned, may be NULL) */
};

void cw_detection_clear(struct cw_detection *d);

struct cw_catalogue;

/* Parse a catalogue from JSON text. origin names it in error messages
 * ("rules/catalogue.json"). On a bad catalogue returns -EINVAL and logs
 * origin, line and the problem. */
int cw_catalogue_load(struct cw_catalogue **out, const char *text, size_t len, const char *origin);
/* The catalogue embedded in the binary. */
int cw_catalogue_load_default(struct cw_catalogue **out);
void cw_catalogue_free(struct cw_catalogue *c);

const struct cw_category *cw_catalogue_category(const struct cw_catalogue *c, const char *id);
size_t cw_catalogue_tool_count(const struct cw_catalogue *c);

/* Name/argv layer. Returns 1 and fills *out on a recognition, 0 when nothing
 * matched, negative errno on error. out->extra is set to NULL on a match (call
 * cw_detection_clear() on a reused detection first); out is untouched except
 * for detail scratch when nothing matched. Allocates nothing.
 *
 * Layers, strongest first (within a layer the first tool in file order wins):
 *   name    basename of the executed file, seen through ld.so ("ld.so ./tool")
 *           and busybox (the applet, i.e. argv[0]); then the basename of the
 *           name given to execve when it differs (symlink, "#!" script).
 *           "ambiguous_names" count only with an argv token of the tool's
 *           vocabulary (matched_on "name+argv"); for plain names the vocabulary
 *           found is evidence ("name+argv" if any, else "name").
 *   script  the script operand of an interpreter (sh, bash, python -m MOD, ...).
 *   argv    basename of argv[0] against the tool's "argv0" globs (re-executions).
 * rule_id is "tool.<id>.<name|script|argv0>". */
int cw_catalogue_match(const struct cw_catalogue *c, const struct cw_exec *ex,
                       struct cw_detection *out);

/* Tools by index (file order) or id, for other layers that report the same
 * tools (content/hash). Pointers stay valid while the catalogue lives. */
struct cw_tool_ref {
	const char *id;
	const char *name;
	const struct cw_category *cat;
};
int cw_catalogue_tool(const struct cw_catalogue *c, size_t i, struct cw_tool_ref *out);
/* Returns 0, -ENOENT for an unknown id, -EINVAL for bad arguments. */
int cw_catalogue_find_tool(const struct cw_catalogue *c, const char *id, struct cw_tool_ref *out);

/* The validated catalogue document (read-only): tools[i] is tool i, with its
 * "content_markers" (array of strings) and "sha256" (array of lowercase hex). */
const json_t *cw_catalogue_json(const struct cw_catalogue *c);

/* The file an interpreter or loader runs: "x.sh" of `sh x.sh`, the script of a
 * "#!" exec, "./tool" of `ld.so ./tool`. Returns 1 (script), 2 (program run
 * by a loader) and sets *path (into ex), or 0 when there is none. */
int cw_catalogue_operand(const struct cw_catalogue *c, const struct cw_exec *ex, const char **path);
/* The program text an interpreter got in argv (`sh -c "$(cat x)"`, `sh -ec`,
 * `perl -e`, `python3 -c`): 1 and *text (into ex), 0 when there is none. */
int cw_catalogue_inline(const struct cw_catalogue *c, const struct cw_exec *ex, const char **text);

/* Could any rule look at an executable of this basename beyond its content:
 * a tool name or script glob, an interpreter, a loader or a multi-call binary?
 * Executables for which this is false, and whose content is clean, can be
 * filtered in the kernel. */
bool cw_catalogue_name_relevant(const struct cw_catalogue *c, const char *name);

/* Embedded data (see src/embed.S). */
extern const char cw_embedded_catalogue[];
extern const unsigned int cw_embedded_catalogue_len;

#endif
