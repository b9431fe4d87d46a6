/* config.c - agent configuration: embedded defaults, a JSON file overlay and
 * single key=value overrides (for command-line flags). A bad file or value is
 * reported with file, key and the expected type, and leaves the configuration
 * as it was.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

#define CONFIG_FILE_MAX (1u << 20)
#define DEFAULT_NOTIFICATION                                                                       \
	"organizations/{organization}/locations/global/notificationConfigs/cagewatch"
#define ORGANIZATION_TEMPLATE "{organization}"

enum key_type { KEY_STRING, KEY_BOOL };

/* Which strings become one segment of an SCC resource name and so must not
 * contain '/'. */
#define KEY_SEGMENT (1u << 0)

struct key_desc {
	const char *name;
	enum key_type type;
	size_t off;
	size_t size; /* buffer size for strings */
	unsigned flags;
	const char *help; /* for `cagewatch run --help-config` and cagewatch.conf(5) */
};

#define STR_KEY(f, fl, h)                                                                          \
	{                                                                                          \
#f, KEY_STRING, offsetof(struct cw_config, f), sizeof(((struct cw_config *)0)->f), \
		    fl, h                                                                          \
	}
#define BOOL_KEY(f, h)                                                                             \
	{                                                                                          \
#f, KEY_BOOL, offsetof(struct cw_config, f), sizeof(bool), 0, h                    \
	}

static const struct key_desc keys[] = {
    STR_KEY(organization, KEY_SEGMENT, "SCC organization id: organizations/{organization}"),
    STR_KEY(project, KEY_SEGMENT, "project id: resource.gcpMetadata.projectDisplayName"),
    STR_KEY(project_number, KEY_SEGMENT, "project number: projects/{n} in canonicalName"),
    STR_KEY(source, KEY_SEGMENT, "the findings' source id"),
    STR_KEY(location, KEY_SEGMENT, "the findings' location"),
    STR_KEY(resource_template, 0,
            "resource name; placeholders {host} {container_id} {container_name} "
            "{pod_namespace} {pod_name} {project}"),
    STR_KEY(host, KEY_SEGMENT, "this node's name in findings (default: the hostname)"),
    BOOL_KEY(report_args, "put process arguments in findings (like SCC's REPORT_CLI_ARGUMENTS)"),
    STR_KEY(store_path, 0, "the findings store (SQLite)"),
    STR_KEY(notification_config, 0,
            "notificationConfigName of NotificationMessage envelopes ({organization} expands)"),
};

static const struct key_desc *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Replace every "{organization}" in tmpl with org. Returns 0 or -ENAMETOOLONG. */
static int expand_organization(const char *tmpl, const char *org, char *out, size_t outsz)
{
	size_t o = 0, plen = strlen(ORGANIZATION_TEMPLATE), olen = strlen(org);

	while (*tmpl) {
		if (strncmp(tmpl, ORGANIZATION_TEMPLATE, plen) == 0) {
			if (o + olen >= outsz)
				return -ENAMETOOLONG;
			memcpy(out + o, org, olen);
			o += olen;
			tmpl += plen;
			continue;
		}
		if (o + 1 >= outsz)
			return -ENAMETOOLONG;
		out[o++] = *tmpl++;
	}
	out[o] = '\0';
	return 0;
}

/* Is cfg->notification_config still the default derived from cfg->organization? */
static bool notification_is_default(const struct cw_config *cfg)
{
	char def[sizeof(cfg->notification_config)];

	if (expand_organization(DEFAULT_NOTIFICATION, cfg->organization, def, sizeof(def)))
		return false;
	return strcmp(def, cfg->notification_config) == 0;
}

static void default_host(char *buf, size_t bufsz)
{
	struct utsname u;

	if (uname(&u) == 0 && u.nodename[0]) {
		cw_strlcpy(buf, u.nodename, bufsz);
		return;
	}
	if (gethostname(buf, bufsz) == 0 && buf[0]) {
		buf[bufsz - 1] = '\0';
		return;
	}
	cw_warn("cannot read the hostname (%s); using \"localhost\": set \"host\" in the config",
	        strerror(errno));
	cw_strlcpy(buf, "localhost", bufsz);
}

int cw_config_defaults(struct cw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cw_strlcpy(cfg->organization, "0", sizeof(cfg->organization));
	cw_strlcpy(cfg->project, "cagewatch-local", sizeof(cfg->project));
	cw_strlcpy(cfg->project_number, "0", sizeof(cfg->project_number));
	cw_strlcpy(cfg->source, "cagewatch", sizeof(cfg->source));
	cw_strlcpy(cfg->location, "global", sizeof(cfg->location));
	cw_strlcpy(cfg->resource_template,
	           "//cagewatch.local/hosts/{host}/containers/{container_id}",
	           sizeof(cfg->resource_template));
	default_host(cfg->host, sizeof(cfg->host));
	cfg->report_args = true;
	cw_strlcpy(cfg->store_path, "/var/lib/cagewatch/findings.db", sizeof(cfg->store_path));
	expand_organization(DEFAULT_NOTIFICATION, cfg->organization, cfg->notification_config,
	                    sizeof(cfg->notification_config));
	return 0;
}

/* Store one string value after checking it. origin names where it came from. */
static int set_string(struct cw_config *cfg, const struct key_desc *k, const char *val,
                      const char *origin)
{
	char *dst = (char *)cfg + k->off;
	size_t len = strlen(val);

	if (len == 0) {
		cw_err("%s: \"%s\" is empty: expected a non-empty string", origin, k->name);
		return -EINVAL;
	}
	if (len >= k->size) {
		cw_err("%s: \"%s\" is %zu bytes long: expected a string of at most %zu bytes",
		       origin, k->name, len, k->size - 1);
		return -EINVAL;
	}
	if ((k->flags & KEY_SEGMENT) && strchr(val, '/')) {
		cw_err("%s: \"%s\" contains '/': expected a single resource-name segment "
		       "(an id such as \"123456\")",
		       origin, k->name);
		return -EINVAL;
	}
	memcpy(dst, val, len + 1);
	return 0;
}

static int parse_bool_text(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* After organization or notification_config changed in tmp (relative to old):
 * expand "{organization}" in an explicit notification_config, or keep the
 * default notification name in step with the organization. */
static int fix_notification(struct cw_config *tmp, const struct cw_config *old, bool explicit_nc,
                            const char *origin)
{
	char buf[sizeof(tmp->notification_config)];
	const char *tmpl;

	if (explicit_nc)
		tmpl = tmp->notification_config;
	else if (notification_is_default(old))
		tmpl = DEFAULT_NOTIFICATION;
	else
		return 0;
	if (expand_organization(tmpl, tmp->organization, buf, sizeof(buf))) {
		cw_err("%s: \"notification_config\" is longer than %zu bytes once {organization} "
		       "is expanded: shorten it",
		       origin, sizeof(buf) - 1);
		return -EINVAL;
	}
	cw_strlcpy(tmp->notification_config, buf, sizeof(tmp->notification_config));
	return 0;
}

int cw_config_set(struct cw_config *cfg, const char *key, const char *value)
{
	const struct key_desc *k = find_key(key);
	struct cw_config tmp = *cfg;
	int err;

	if (!k) {
		cw_err("unknown configuration key \"%s\": expected one of organization, project, "
		       "project_number, source, location, resource_template, host, report_args, "
		       "store_path, notification_config",
		       key);
		return -EINVAL;
	}
	if (k->type == KEY_BOOL) {
		bool b;

		if (parse_bool_text(value, &b)) {
			cw_err(
			    "configuration key \"%s\": \"%s\" is not a boolean: expected true or "
			    "false",
			    key, value);
			return -EINVAL;
		}
		*(bool *)((char *)&tmp + k->off) = b;
	} else {
		err = set_string(&tmp, k, value, "configuration");
		if (err)
			return err;
	}
	err = fix_notification(&tmp, cfg, strcmp(key, "notification_config") == 0, "configuration");
	if (err)
		return err;
	*cfg = tmp;
	return 0;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* The file's JSON object, or NULL after saying what is wrong (*err). */
static json_t *read_config(const char *path, int *err)
{
	json_error_t jerr;
	json_t *root;
	char *text = NULL;
	size_t len = 0;

	*err = cw_read_file(path, CONFIG_FILE_MAX, &text, &len);
	if (*err == -ENOENT) {
		cw_err("config file %s does not exist: create it or drop --config", path);
		return NULL;
	}
	if (*err == -EFBIG) {
		cw_err("config file %s is larger than %u bytes: is it the right file?", path,
		       CONFIG_FILE_MAX);
		*err = -EINVAL;
		return NULL;
	}
	if (*err) {
		cw_err("cannot read config file %s: %s", path, cw_strerror(*err));
		return NULL;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	*err = -EINVAL;
	if (!root) {
		cw_err("config file %s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column,
		       jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		cw_err("config file %s: the top level is %s: expected an object "
		       "({\"organization\": \"...\", ...})",
		       path, json_type_name(root));
		json_decref(root);
		return NULL;
	}
	*err = 0;
	return root;
}

/* One key of the file into tmp. 0 or -EINVAL (said). */
static int set_key(struct cw_config *tmp, const char *key, json_t *val, const char *path)
{
	const struct key_desc *k = find_key(key);

	if (!k) {
		cw_err("config file %s: unknown key \"%s\": expected one of organization, "
		       "project, project_number, source, location, resource_template, host, "
		       "report_args, store_path, notification_config",
		       path, key);
		return -EINVAL;
	}
	if (k->type == KEY_BOOL) {
		if (!json_is_boolean(val)) {
			cw_err("config file %s: key \"%s\" is %s: expected a boolean (true or "
			       "false)",
			       path, key, json_type_name(val));
			return -EINVAL;
		}
		*(bool *)((char *)tmp + k->off) = json_is_true(val);
		return 0;
	}
	if (!json_is_string(val)) {
		cw_err("config file %s: key \"%s\" is %s: expected a string", path, key,
		       json_type_name(val));
		return -EINVAL;
	}
	if (strlen(json_string_value(val)) != json_string_length(val)) {
		cw_err("config file %s: key \"%s\" contains a NUL character: expected a plain "
		       "string",
		       path, key);
		return -EINVAL;
	}
	return set_string(tmp, k, json_string_value(val), path);
}

/* "sinks": an array of at most CW_CONFIG_SINKS_MAX URL strings; the URLs
 * themselves are checked when the sinks are made (cw_sink_remote_new). */
static int set_sinks(struct cw_config *tmp, json_t *val, const char *path)
{
	size_t i;
	json_t *v;

	if (!json_is_array(val) || json_array_size(val) > CW_CONFIG_SINKS_MAX) {
		cw_err("config file %s: key \"sinks\" must be an array of at most %d URL strings "
		       "([\"https://...\", \"syslog:///dev/log\"])",
		       path, CW_CONFIG_SINKS_MAX);
		return -EINVAL;
	}
	tmp->n_sinks = 0;
	json_array_foreach(val, i, v)
	{
		const char *u = json_string_value(v);

		if (!u || !u[0] || strlen(u) != json_string_length(v) ||
		    strlen(u) >= sizeof(tmp->sinks[0])) {
			cw_err("config file %s: sinks[%zu] is not a URL string of 1 to %zu bytes",
			       path, i, sizeof(tmp->sinks[0]) - 1);
			return -EINVAL;
		}
		cw_strlcpy(tmp->sinks[tmp->n_sinks++], u, sizeof(tmp->sinks[0]));
	}
	return 0;
}

int cw_config_load(struct cw_config *cfg, const char *path)
{
	struct cw_config tmp = *cfg;
	bool explicit_nc = false;
	const char *key;
	json_t *root, *val;
	int err;

	if (!(root = read_config(path, &err)))
		return err;
	json_object_foreach(root, key, val)
	{
		if (key[0] == '_') /* "_comment" and the like: notes for people */
			continue;
		if (!strcmp(key, "sinks")) {
			if ((err = set_sinks(&tmp, val, path)))
				break;
			continue;
		}
		if ((err = set_key(&tmp, key, val, path)))
			break;
		if (strcmp(key, "notification_config") == 0)
			explicit_nc = true;
	}
	json_decref(root);
	if (err)
		return err;
	err = fix_notification(&tmp, cfg, explicit_nc, path);
	if (err)
		return err;
	*cfg = tmp;
	return 0;
}

void cw_config_help(FILE *out)
{
	struct cw_config d;

	cw_config_defaults(&d);
	fputs("usage: cagewatch run --config FILE\n"
	      "The configuration file is one JSON object; every key is optional and the\n"
	      "embedded default applies where it is absent. An unknown key or a wrong type is\n"
	      "an error naming the file, the key and what was expected; keys starting with\n"
	      "'_' (\"_comment\") are notes and ignored. SIGHUP (systemctl reload) reads the\n"
	      "file again; store_path and notification_config need a restart.\n\nKeys:\n",
	      out);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *p = (const char *)&d + keys[i].off;

		fprintf(out, "  %-20s %s\n", keys[i].name, keys[i].help);
		if (keys[i].type == KEY_BOOL)
			fprintf(out, "  %-20s (true or false; default %s)\n", "",
			        *(const bool *)(const void *)p ? "true" : "false");
		else
			fprintf(out, "  %-20s (a string; default \"%s\")\n", "", p);
	}
	fprintf(out, "  %-20s %s\n  %-20s %s\n", "sinks",
	        "remote outputs, each a URL (as `cagewatch run --sink URL`):", "",
	        "http(s)://, falco+http(s)://, syslog:///dev/log, syslog+udp://, syslog+tcp://");
	fprintf(out, "  %-20s (an array of at most %d strings; default none)\n", "",
	        CW_CONFIG_SINKS_MAX);
	fputs("\nExample:\n  {\"organization\": \"123456789\", \"project\": \"prod-eu\", "
	      "\"report_args\": false,\n   \"sinks\": [\"https://hooks.example/cagewatch\"]}\n",
	      out);
}
