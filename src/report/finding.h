/* finding.h - builds Security Command Center Finding JSON (v2 shape) from an
 * exec, its container and a detection, with jansson. int64 values are JSON
 * strings and times RFC 3339 UTC, per the proto3 JSON mapping.
 */
#ifndef CW_FINDING_H
#define CW_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ancestry.h"
#include "catalogue.h"
#include "config.h"
#include "container.h"
#include "exec.h"

/* What is known of a file (binary or script). */
struct cw_file_info {
	char path[4200];
	bool have_size;
	int64_t size;
	bool have_hash;
	char sha256[65];
	int64_t hashed_size;
	bool partially_hashed;
};

/* Hash a file (SHA-256) up to max_bytes (0 = whole file): fills size, sha256,
 * hashed_size, partially_hashed. fd is read with pread from offset 0, whatever
 * its file offset. Returns 0, or a negative errno (read error; -EINVAL for
 * max_bytes < 0) with have_hash false. path, and a size the caller set, are kept
 * unless the read learns the real size. */
int cw_file_hash_fd(int fd, int64_t max_bytes, struct cw_file_info *fi);

struct cw_finding_input {
	const struct cw_exec *ex;
	const struct cw_container *ctr;
	const struct cw_detection *det;
	const struct cw_file_info *binary; /* may be NULL: path from ex */
	const struct cw_file_info *script; /* NULL unless an interpreter ran a script */
	const char *script_contents;       /* script.contents (a piped script's first
	                                    * bytes, SCC File.contents), or NULL */
	size_t script_contents_len;
	const char *finding_id;             /* NULL: generate a random 32-hex id */
	const struct cw_ancestry *ancestry; /* parent chain, or NULL */
};

/* Build the finding. Returns a new reference or NULL (errno set) on failure. */
json_t *cw_finding_build(const struct cw_config *cfg, const struct cw_finding_input *in);

/* Wrap a finding as SCC NotificationMessage {notificationConfigName, finding, resource}. */
json_t *cw_finding_notification(const struct cw_config *cfg, json_t *finding);

/* finding_context.c: the responder's context beside the detection: the
 * ancestors appended to procs (SCC Process objects with parentPid), and in
 * sp the container's Container_Settings, Risky_Settings and
 * Container_Log_Path. 0 or -ENOMEM. */
int cw_finding_add_context(json_t *procs, json_t *sp, const struct cw_finding_input *in,
                           const struct cw_container *ctr);

/* Generate a 32-char lowercase hex id. */
void cw_finding_new_id(char out[33]);

/* Any byte string as valid UTF-8: valid UTF-8 sequences are kept, every other
 * byte (and NUL) becomes the four characters \xNN. Returns a malloc'd string
 * or NULL (errno ENOMEM). */
char *cw_utf8_sanitize(const char *s, size_t len);

/* A jansson string from arbitrary bytes (via cw_utf8_sanitize); s == NULL gives "".
 * Returns a new reference or NULL on allocation failure. */
json_t *cw_json_bytes(const char *s, size_t len);
json_t *cw_json_str(const char *s);

/* Expand cfg->resource_template for a container (NULL or not in a container:
 * container placeholders are "unknown"). Placeholders: {host} {container_id}
 * {container_name} {pod_namespace} {pod_name} {project}; an empty value becomes
 * "unknown", an unknown placeholder stays as written. Returns a malloc'd string
 * (arbitrary bytes; sanitize before putting it in JSON) or NULL (ENOMEM). */
char *cw_finding_resource_name(const struct cw_config *cfg, const struct cw_container *ctr);

#endif
