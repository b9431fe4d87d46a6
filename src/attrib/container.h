/* container.h - container attribution: is this exec inside a container, which one,
 * and what do the runtimes' on-disk states say about it (name, image, labels,
 * create time, Kubernetes pod)?
 *
 * "In a container" is decided from namespaces against the host's (works for any
 * runtime, rootless too); the container's identity comes from the cgroup path
 * (runc/crun, containerd, CRI-O, Docker, podman, Kubernetes; cgroup v1, v2 and
 * hybrid); metadata from runc/crun state.json and the OCI bundle config.json.
 * Metadata may be late or missing: attribution then returns what is known.
 * Containers stay known for two minutes after their state file goes away, so a
 * short-lived container's execs still name it.
 */
#ifndef CW_CONTAINER_H
#define CW_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "exec.h"
#include "settings.h"

/* What a cgroup path alone says. */
struct cw_cgroup_ref {
	char runtime[16]; /* "docker", "containerd", "cri-o", "podman", "runc", "" */
	char id[129];     /* container id as found in the path ("" if none) */
	char pod_uid[64]; /* Kubernetes pod UID if the path is under kubepods */
	char qos[16];     /* "guaranteed", "burstable", "besteffort" or "" */
	bool kubernetes;
};

/* Parse one cgroup path (as in /proc/PID/cgroup after the second ':', or as the
 * kernel reports it). Returns 0 when a container was recognised, -ENOENT when
 * the path is well-formed but names no container, -EINVAL when malformed. */
int cw_cgroup_parse(const char *path, struct cw_cgroup_ref *out);

struct cw_container {
	bool in_container; /* namespaces differ from the host's */
	char id[129];      /* full id ("" if unknown) */
	char runtime[16];
	char name[256];
	char image[512];    /* image reference as configured (Container.uri) */
	char image_id[256]; /* digest if known */
	json_t *labels;     /* object name -> string value, owned; may be NULL */
	int64_t created_ns; /* Unix ns, 0 if unknown */
	char pod_name[256];
	char pod_namespace[256];
	char pod_uid[64];
	char bundle[512];         /* OCI bundle dir if known */
	int init_pid;             /* host pid of the container's init (0 if unknown): a
	                           * live process whose /proc/PID/root is the container's root */
	json_t *settings;         /* what its runtime config asks for (settings.h), owned;
	                           * NULL if no config was readable */
	char log_path[512];       /* where the runtime keeps its stdout/stderr ("" none) */
	char log_format[16];      /* "docker-json", "cri" (also podman's k8s-file), "" */
	struct cw_host_view host; /* the host's namespaces, for comparison */
};

void cw_container_clear(struct cw_container *c); /* frees labels, zeroes */

struct cw_attrib_opts {
	const char *proc_root; /* default "/proc" */
	const char *
	    runtime_roots;            /* ':'-separated runc/crun state roots;
	                               * default
	                               * "/run/runc:/run/crun:/run/containerd/runc/k8s.io:/run/containerd/runc/default:/run/docker/runtime-runc/moby"
	                               */
	const char *containerd_roots; /* ':'-separated containerd root dirs (metadata
	                               * database); default "/var/lib/containerd" */
};

struct cw_attrib;

int cw_attrib_new(struct cw_attrib **out, const struct cw_attrib_opts *opts);
void cw_attrib_free(struct cw_attrib *a);

/* Host namespace inodes (from /proc/1/ns) as the attribution sees them. */
uint32_t cw_attrib_host_pidns(const struct cw_attrib *a);
uint32_t cw_attrib_host_mntns(const struct cw_attrib *a);

/* Scan runtime state roots so that containers started before the agent are known.
 * Returns the number of containers found or a negative errno. */
int cw_attrib_scan(struct cw_attrib *a);

/* Re-read the runtime state roots if inotify saw them change (a container
 * created or deleted). Call when cw_attrib_fd() is readable and before handing
 * an exec on, so a container that lives a millisecond is still parsed while its
 * state file exists. Thread-safe against cw_attrib_resolve. */
int cw_attrib_sync(struct cw_attrib *a);
/* An O_PATH descriptor (the caller's) of the root filesystem of container id,
 * held since its state was first read, also after it ended; -ENOENT if none. */
int cw_attrib_rootfs(struct cw_attrib *a, const char *id);
/* The inotify descriptor to poll (-1 if unavailable). */
int cw_attrib_fd(const struct cw_attrib *a);

/* Attribute one exec. Never fails because metadata is missing: out is filled
 * with what is known. Returns 0, or a negative errno on a real error. */
int cw_attrib_resolve(struct cw_attrib *a, const struct cw_exec *ex, struct cw_container *out);

/* Engine records (Docker's, podman's, containerd's) that existed but could
 * not be read, since start. */
uint64_t cw_attrib_metadata_errors(void);

/* The runtimes' state roots cagewatch reads by default, colon-separated
 * (from the runtime table in container_state.c). */
const char *cw_runtime_default_roots(void);
/* The container (id) whose runtime state names a root filesystem holding
 * path, and that root; 1 if found, 0 if not. */
int cw_runtime_rootfs_of(const char *path, char *id, size_t idsz, char *rootfs, size_t rsz);

#endif
