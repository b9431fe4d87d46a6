/* cli_render.h - rendering findings for `cagewatch findings` (cli_render.c). */
#ifndef CW_CLI_RENDER_H
#define CW_CLI_RENDER_H

#include <stdio.h>
#include <jansson.h>

/* s on out with control bytes, invalid UTF-8 and bidi overrides escaped. */
void cw_render_put_safe(FILE *out, const char *s);
/* Multi-line text, each line indented and escaped. */
void cw_render_put_text(FILE *out, const char *s, const char *indent);
/* "  LABEL                   value" on stdout, the value escaped; nothing
 * when value is NULL. */
void cw_render_field(const char *label, const char *value);
/* The string member key of o, or NULL. */
const char *cw_render_js(json_t *o, const char *key);
/* One row per finding (id, time, severity, category, ...). 0 or -errno. */
int cw_render_table(json_t *arr);
/* Pretty JSON, as stored. 0 or -errno. */
int cw_render_json(json_t *v);
/* The responder's Summary view of one finding, with next steps. */
void cw_render_summary(json_t *f);
/* cli_render_ctx.c: the parent chain (processes[1..]), the "Container
 * settings" section and the container log's place, for the Summary view. */
void cw_render_ancestry(json_t *procs);
void cw_render_settings(json_t *sp);
void cw_render_log_hint(json_t *sp, const char *id);
/* ATT&CK id ("TA0004", "T1611") of an SCC tactic or technique enum name. */
const char *cw_render_attack_id(const char *e);

#endif
