/* config.h - agent configuration: the SCC naming (organization, project, source,
 * location, resource-name template), reporting switches and paths. Every field
 * has an embedded default; a JSON file (--config) and flags override them.
 */
#ifndef CW_CONFIG_H
#define CW_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#define CW_CONFIG_SINKS_MAX 8

struct cw_config {
	char organization[64];       /* "organizations/{organization}" */
	char project[128];           /* project id, -> resource.gcpMetadata.projectDisplayName */
	char project_number[32];     /* -> projects/{n} in canonicalName and gcpMetadata.project */
	char source[64];             /* source id */
	char location[64];           /* "global" */
	char resource_template[512]; /* placeholders: {host} {container_id} {container_name}
	                              * {pod_namespace} {pod_name} {project} */
	char host[256];              /* hostname; default from uname */
	bool report_args;            /* like SCC REPORT_CLI_ARGUMENTS; default true */
	char store_path[512];        /* SQLite store; default /var/lib/cagewatch/findings.db */
	char notification_config[256];        /* name used for the NotificationMessage envelope */
	char sinks[CW_CONFIG_SINKS_MAX][512]; /* "sinks": remote outputs by URL (sink_remote.c) */
	unsigned n_sinks;
};

/* Fill the embedded defaults. Returns 0. */
int cw_config_defaults(struct cw_config *cfg);

/* Overlay a JSON config file ({"organization": "...", "report_args": false, ...}).
 * Unknown keys and wrong types are errors naming file, key and what was expected.
 * Returns 0 or a negative errno. */
int cw_config_load(struct cw_config *cfg, const char *path);

/* Set one key from text (a command-line flag): the same keys and checks as the
 * file; report_args takes true/false/1/0/yes/no/on/off. "{organization}" in
 * notification_config is expanded. On error cfg is unchanged and -EINVAL returned. */
int cw_config_set(struct cw_config *cfg, const char *key, const char *value);

/* The configuration file's keys, their meaning and defaults (the text of
 * `cagewatch run --help-config` and of cagewatch.conf(5)). */
void cw_config_help(FILE *out);

#endif
