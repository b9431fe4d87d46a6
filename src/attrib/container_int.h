/* container_int.h - what the parts of container attribution share
 * (internal):
 *   cgroup.c           cgroup paths into container ids (cw_cgroup_parse);
 *   container_tab.c    open-addressing hash tables of the cache;
 *   container_state.c  the runtimes' state files, config.json annotations,
 *                      cgroup mounts (and the runtime table);
 *   container.c        the cache, rescans and cw_attrib_resolve.
 */
#ifndef CW_CONTAINER_INT_H
#define CW_CONTAINER_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "container.h"
#include "dirwatch.h"

struct ctr;
struct cw_attrib;

/* A runtime whose state cagewatch reads: the one table every module asks
 * (container_state.c). Adding a runtime is a row here, plus a parser if its
 * state file has a format of its own. */
struct ctr_runtime {
	const char *name;       /* "runc", "crun" */
	const char *state_file; /* in <root>/<id>/ */
	const char *roots;      /* its default state roots, colon-separated */
	bool config_copy;       /* config.json is copied beside the state file */
	/* Fill c from the parsed state file. 0 or -errno. */
	int (*parse)(struct cw_attrib *a, struct ctr *c, json_t *st, const char *file);
	/* The root filesystem the state file names (NULL: not there). */
	const char *(*rootfs)(json_t *st);
};

extern const struct ctr_runtime ctr_runtimes[];
extern const size_t ctr_n_runtimes;

#define HEX_ID_LEN         64
#define CGROUP_PATH_LIMIT  4096
#define STATE_FILE_MAX     (16u << 20)
#define BUNDLE_CONFIG_MAX  (16u << 20)
#define RESCAN_INTERVAL_NS (200 * 1000000LL)
#define SEEN_SET_MAX       4096
#define LABELS_MAX         64
#define LABEL_VALUE_MAX    1024
#define ENDED_KEEP_NS      (120 * 1000000000LL) /* ended containers stay known */

/* open-addressing hash tables (rebuilt after every scan, never deleted from) */

#define IDX_EMPTY     (-1)
#define IDX_AMBIGUOUS (-2)

struct slot {
	uint64_t h;
	const char *skey; /* string key (points into an entry), or NULL */
	uint32_t ukey;
	int idx;
};

struct tab {
	size_t cap; /* power of two, 0 when unallocated */
	size_t n;
	struct slot *s;
};

struct ctr {
	int root;                     /* index into a->roots */
	bool valid;                   /* state file parsed */
	const struct ctr_runtime *rt; /* whose state file format */
	int64_t ended_ns;             /* state file gone since (monotonic), 0 while it exists */
	int rootfs_fd1;               /* O_PATH fd + 1 of its root filesystem (0: none): held while
	                               * the entry lives, so an ended container's files stay readable */
	dev_t st_dev;                 /* identity of the state file as last parsed */
	ino_t st_ino;
	off_t st_size;
	struct timespec st_mtim;
	int64_t cfg_retry_ns; /* the runtime's config copy was not there yet (crun writes it
	                       * after its status): reload until then (monotonic), 0 none */
	int init_pid;
	uint64_t init_start;   /* clock ticks since boot, 0 if unknown */
	char nspath[PATH_MAX]; /* namespace_paths.NEWPID, "" if none */
	uint32_t pidns;        /* 0 if unknown / not running */
	char **cgroups;        /* kernel hierarchy paths ("/a/b") */
	size_t ncgroups;
	struct cw_container meta; /* id, runtime, name, labels, ... */
};

struct cg_mount {
	char *mnt;  /* mount point */
	char *root; /* root of the mount inside the hierarchy */
};

struct cw_attrib {
	char *proc_root;
	char **roots;
	size_t nroots;
	uint32_t host_pidns, host_mntns;
	struct cg_mount *mounts;
	size_t nmounts;
	struct ctr *ctrs;
	size_t nctrs;
	struct tab by_pidns, by_id, by_cgroup;
	struct tab seen; /* pid ns / id hashes a rescan was already done for */
	int64_t last_scan_ns;
	bool scanned;
	bool *root_warned;
	pthread_mutex_t lock;      /* cw_attrib_sync (event thread) vs resolve (worker) */
	struct cw_dirwatch *watch; /* state roots; NULL if inotify is unavailable */
	char **cd_roots;           /* containerd root directories (metadata database) */
	size_t ncd_roots;
	struct cw_host_view host; /* host namespaces and capability bounding set */
};

/* container_tab.c */
uint64_t ctr_hash_str(const char *s);
void tab_free(struct tab *t);
/* Insert; a second, different value for the same key makes it ambiguous. */
int tab_put(struct tab *t, const char *skey, uint32_t ukey, int idx);
/* The index stored for the key, IDX_EMPTY or IDX_AMBIGUOUS. */
int tab_get(const struct tab *t, const char *skey, uint32_t ukey);

/* cgroup.c */
/* Is the path component s (n bytes) exactly word? */
bool ctr_comp_is(const char *s, size_t n, const char *word);

/* container_state.c */
void ctr_free(struct ctr *c);
void ctr_free_mounts(struct cw_attrib *a);
/* The cgroup mounts (mountinfo), to turn mount paths into hierarchy paths. */
void ctr_load_mounts(struct cw_attrib *a);
/* Whether the pid the state names is still that container's init, and its
 * pid namespace. */
void ctr_refresh_pidns(const struct cw_attrib *a, struct ctr *c);
/* Parse c's state file at path (its runtime's format, c->rt). */
void ctr_load_state(struct cw_attrib *a, struct ctr *c, const char *path);
/* A user label of the container (runtime bookkeeping keys are dropped,
 * count and length bounded). */
void ctr_add_label(struct cw_container *m, const char *k, const char *v);
/* container_meta.c: the container engine's own records (Docker's
 * config.v2.json and hostconfig.json, podman's and containerd's metadata
 * databases) for name, image, image id, labels, log and privileged flag; oci
 * is the parsed runtime config (may be NULL). */
void ctr_runtime_metadata(struct cw_attrib *a, struct ctr *c, const json_t *oci);
/* The runtime a state root belongs to, from its path components. */
const char *ctr_runtime_of_root(const char *root);

#endif
