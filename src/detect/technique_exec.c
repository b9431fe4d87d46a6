/* technique_exec.c - the technique rules judged at an exec rather than from
 * a syscall record (technique.h): where the program was run from (exec_from),
 * its stdio and parent (exec_stdio), its arguments (exec_argv) and where its
 * file came from: the image, or added or modified since the container
 * started (exec_provenance). Each is a first-match walk over the rules. */
#include "technique.h"
#include "technique_int.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "util.h"

/* A detection of an exec-time rule, its detail and extra left to the caller. */
static void det_start(struct cw_detection *det, const struct rule *ru, const char *matched_on)
{
	memset(det, 0, sizeof(*det));
	det->cat = ru->cat;
	cw_strlcpy(det->rule_id, ru->id, sizeof(det->rule_id));
	cw_strlcpy(det->matched_on, matched_on, sizeof(det->matched_on));
}

int cw_technique_exec_from(const struct cw_technique_rules *r, const char *path,
                           struct cw_detection *det)
{
	for (size_t i = 0; r && path && i < r->n_rules; i++) {
		const struct rule *ru = &r->rules[i];
		size_t j;
		json_t *v;

		if (ru->kind != RK_EXEC_FROM || ru->off)
			continue;
		json_array_foreach(ru->prefixes, j, v)
		{
			const char *pre = json_string_value(v);

			if (strncmp(path, pre, strlen(pre)))
				continue;
			if (!det)
				return 1;
			det_start(det, ru, "exec path");
			snprintf(det->detail, sizeof(det->detail), "%s: path starts with %s",
			         ru->title, pre);
			det->extra = json_pack("{s:s}", "Exec_From", pre);
			return 1;
		}
	}
	return 0;
}

static void stdio_detail(const struct rule *ru, const struct cw_exec_facts *f,
                         struct cw_detection *det)
{
	const char *on = (f->stdio & CW_STDIO_STDIN) ? "stdin" : "stdout";

	det_start(det, ru, ru->stdio ? "stdio" : "parent");
	if (ru->stdio) {
		snprintf(det->detail, sizeof(det->detail),
		         "%s: %s (%s) is a socket connected to %s", ru->title, f->name, on,
		         f->peer ? f->peer : "?");
	} else {
		snprintf(det->detail, sizeof(det->detail), "%s: %s started by %s", ru->title,
		         f->name, f->parent);
	}
	det->extra = json_object();
}

int cw_technique_exec_stdio(const struct cw_technique_rules *r, const struct cw_exec_facts *f,
                            struct cw_detection *det)
{
	for (size_t i = 0; r && f && f->name && i < r->n_rules; i++) {
		const struct rule *ru = &r->rules[i];

		if (ru->kind != RK_EXEC_STDIO || ru->off || (ru->stdio && !(ru->stdio & f->stdio)))
			continue;
		if (ru->names && !tq_in_strs(ru->names, f->name))
			continue;
		if (ru->parents && (!f->parent || !tq_in_strs(ru->parents, f->parent)))
			continue;
		if (det)
			stdio_detail(ru, f, det);
		return 1;
	}
	return 0;
}

/* The first argument (from 1) matching one of the globs, or NULL. */
static const char *argv_match(json_t *globs, char *const *argv, int argc, const char **glob)
{
	for (int i = 1; i < argc; i++)
		if ((*glob = tq_glob_in(globs, argv[i])))
			return argv[i];
	return NULL;
}

int cw_technique_exec_argv(const struct cw_technique_rules *r, const struct cw_exec_facts *f,
                           char *const *argv, int argc, struct cw_detection *det)
{
	for (size_t i = 0; r && f && f->name && argv && i < r->n_rules; i++) {
		const struct rule *ru = &r->rules[i];
		const char *arg, *glob = NULL;

		if (ru->kind != RK_EXEC_ARGV || ru->off ||
		    (ru->names && !tq_in_strs(ru->names, f->name)))
			continue;
		arg = argv_match(ru->argv, argv, argc, &glob);
		if (!arg)
			continue;
		if (!det)
			return 1;
		det_start(det, ru, "argv");
		snprintf(det->detail, sizeof(det->detail), "%s: %s argument matches %s", ru->title,
		         f->name, glob);
		det->extra = json_pack("{s:s}", "Argument_Pattern", glob);
		return 1;
	}
	return 0;
}

bool cw_technique_name_relevant(const struct cw_technique_rules *r, const char *name)
{
	for (size_t i = 0; r && name && i < r->n_rules; i++) {
		const struct rule *ru = &r->rules[i];

		if (!ru->off &&
		    (ru->kind == RK_EXEC_ARGV || ru->kind == RK_EXEC_ENV ||
		     (ru->kind == RK_EXEC_STDIO && !ru->stdio)) &&
		    tq_in_strs(ru->names, name))
			return true;
	}
	return false;
}

void cw_env_redact(const char *var, char *out, size_t cap)
{
	const char *at, *scheme = strstr(var, "://");
	size_t n;

	at = scheme ? strchr(scheme + 3, '@') : NULL;
	if (!at || strcspn(scheme + 3, "/") < (size_t)(at - (scheme + 3))) {
		cw_strlcpy(out, var, cap);
		return;
	}
	n = (size_t)(scheme + 3 - var);
	snprintf(out, cap, "%.*s***%s", (int)n, var, at);
}

/* The matched variables (redacted) into an array; how many. */
static size_t env_matches(const struct rule *ru, char *const *envp, int envc, json_t *out,
                          const char **glob)
{
	char red[512];
	size_t n = 0;

	for (int i = 0; i < envc; i++) {
		const char *g = tq_glob_in(ru->env, envp[i]);

		if (!g || (ru->env_ok && tq_glob_in(ru->env_ok, envp[i])))
			continue;
		*glob = g;
		n++;
		if (out) {
			cw_env_redact(envp[i], red, sizeof(red));
			json_array_append_new(out, json_string(red));
		}
	}
	return n;
}

int cw_technique_exec_env(const struct cw_technique_rules *r, const struct cw_exec_facts *f,
                          const struct cw_exec *ex, struct cw_detection *det)
{
	for (size_t i = 0; r && f && f->name && ex && i < r->n_rules; i++) {
		const struct rule *ru = &r->rules[i];
		bool empty = ex->argc == 0 || (ex->argc == 1 && !ex->argv[0][0]);
		const char *glob = "";
		json_t *vars;

		if (ru->kind != RK_EXEC_ENV || ru->off ||
		    (ru->names && !tq_in_strs(ru->names, f->name)))
			continue;
		if (!env_matches(ru, ex->envp, ex->envc, NULL, &glob) && !(ru->empty_argv && empty))
			continue;
		if (!det)
			return 1;
		det_start(det, ru, "environment");
		vars = json_array();
		env_matches(ru, ex->envp, ex->envc, vars, &glob);
		snprintf(
		    det->detail, sizeof(det->detail), "%s: %s %s%s%s", ru->title, f->name,
		    json_array_size(vars) ? "environment matches " : "",
		    json_array_size(vars) ? glob : "",
		    ru->empty_argv && empty
		        ? (json_array_size(vars) ? ", no arguments" : "started with no arguments")
		        : "");
		det->extra = json_pack("{s:o,s:i}", "Environment_Variables", vars, "Argument_Count",
		                       ex->argc);
		return 1;
	}
	return 0;
}

size_t cw_technique_env_names(const struct cw_technique_rules *r, const char **names, size_t max,
                              bool *any_program)
{
	size_t n = 0, j;
	json_t *v;

	*any_program = false;
	for (size_t i = 0; r && i < r->n_rules; i++) {
		const struct rule *ru = &r->rules[i];

		if (ru->kind != RK_EXEC_ENV || ru->off)
			continue;
		if (!ru->names || !json_array_size(ru->names))
			*any_program = true;
		json_array_foreach(ru->names, j, v)
		{
			if (n < max)
				names[n] = json_string_value(v);
			n++;
		}
	}
	return n;
}

const char *cw_provenance_name(unsigned prov)
{
	switch (prov & (CW_PROV_IMAGE | CW_PROV_ADDED | CW_PROV_MODIFIED)) {
	case CW_PROV_IMAGE:
		return "image";
	case CW_PROV_ADDED:
		return "added";
	case CW_PROV_MODIFIED:
		return "modified";
	case CW_PROV_ADDED | CW_PROV_MODIFIED:
		return "added or modified";
	default:
		return "unknown";
	}
}

/* The first rule of kind (exec or library provenance) for prov and malicious. */
static int provenance_rule(const struct cw_technique_rules *r, enum rule_kind kind, unsigned prov,
                           bool malicious, const char *basis, struct cw_detection *det)
{
	for (size_t i = 0; r && prov && i < r->n_rules; i++) {
		const struct rule *ru = &r->rules[i];

		if (ru->kind != kind || ru->off || !(ru->prov & prov) || ru->malicious != malicious)
			continue;
		if (!det)
			return 1;
		det_start(det, ru, "file provenance");
		snprintf(det->detail, sizeof(det->detail), "%s: the file is %s (%s)%s", ru->title,
		         cw_provenance_name(prov), basis ? basis : "?",
		         malicious ? " and the content layers matched it" : "");
		det->extra = json_pack("{s:s,s:s}", "Binary_Provenance", cw_provenance_name(prov),
		                       "Provenance_Basis", basis ? basis : "");
		return 1;
	}
	return 0;
}

int cw_technique_exec_provenance(const struct cw_technique_rules *r, unsigned prov, bool malicious,
                                 const char *basis, struct cw_detection *det)
{
	return provenance_rule(r, RK_EXEC_PROV, prov, malicious, basis, det);
}

int cw_technique_library(const struct cw_technique_rules *r, unsigned prov, bool malicious,
                         const char *basis, struct cw_detection *det)
{
	return provenance_rule(r, RK_LIB_PROV, prov, malicious, basis, det);
}

unsigned cw_technique_lib_prov(uint32_t tq_flags, const char **basis)
{
	if (tq_flags & CW_TQF_OVL) {
		*basis = "overlayfs: upper and lower layers";
		if (!(tq_flags & CW_TQF_UPPER))
			return CW_PROV_IMAGE;
		return tq_flags & CW_TQF_LOWER ? CW_PROV_MODIFIED : CW_PROV_ADDED;
	}
	*basis = "change time after the container's start";
	return tq_flags & CW_TQF_CHANGED ? CW_PROV_ADDED | CW_PROV_MODIFIED : 0;
}

bool cw_technique_has_provenance(const struct cw_technique_rules *r)
{
	return tq_rules_have(r, RK_EXEC_PROV);
}
