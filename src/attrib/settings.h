/* settings.h - a container's security settings at the moment of an exec, for
 * the responder's "review the settings of the affected container": what the
 * kernel says about the process (capabilities, ids, seccomp, no_new_privs,
 * namespaces shared with the host: exact, read at the exec) merged with what
 * the runtime was told (the OCI config: mounts, devices, read-only rootfs,
 * profiles; Docker's and podman's privileged flag), and the short list of the
 * settings that make an escape possible (Risky_Settings).
 */
#ifndef CW_SETTINGS_H
#define CW_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "event.h"
#include "util.h"

/* What the host's namespaces and capability bounding set are. */
struct cw_host_view {
	uint32_t ns[CW_NS_COUNT]; /* enum cw_ns_type */
	uint64_t cap_bounding;
};

/* The settings an OCI runtime config (config.json) asks for, as a new JSON
 * object (see docs/finding.md, Container_Settings): privileged (derived),
 * namespaces, mounts from the host with the sensitive ones flagged, devices,
 * read-only rootfs, seccomp profile, AppArmor/SELinux, user and id mappings.
 * Every string is sanitized. NULL on allocation failure or a non-object. */
json_t *cw_settings_from_oci(const json_t *oci);

/* Merge a runtime's own flag into configured settings (e.g. Docker's
 * HostConfig.Privileged). */
void cw_settings_mark_privileged(json_t *configured, bool privileged, const char *source);

/* The finding's Container_Settings: the kernel's view of the process (ev)
 * over the configured settings (may be NULL), host namespaces compared with
 * host. *risky receives the Risky_Settings array (new reference). Returns a
 * new object or NULL on allocation failure. */
json_t *cw_settings_build(const struct cw_event *ev, const json_t *configured,
                          const struct cw_host_view *host, json_t **risky);

/* "CAP_SYS_ADMIN" for bit 21; NULL past the last known capability. */
const char *cw_cap_name(unsigned bit);

/* Is dest a path whose host mount lets a container reach the host? */
bool cw_settings_sensitive_path(const char *path);

#endif
