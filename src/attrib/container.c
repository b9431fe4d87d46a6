/* container.c - container attribution: cgroup path parsing and the runtime
 * state cache that turns an exec into "container X (name, image, pod, ...)".
 *
 * How attribution decides (cw_attrib_resolve):
 *  1. In a container or not. The host's pid and mount namespace inodes are read
 *     once from <proc_root>/1/ns/{pid,mnt}. An exec is in a container when its
 *     pid namespace differs from the host's, or when its mount namespace differs
 *     AND its cgroup path parses as a container (cw_cgroup_parse() == 0). A
 *     mount namespace alone is not enough: systemd services (PrivateTmp=...)
 *     and sandboxed desktop apps have private mount namespaces too. Host
 *     processes get in_container=false and nothing else.
 *  2. Which container. Candidates, in order:
 *     a. the pid namespace inode, looked up in a cache built from runtime
 *        state roots (runc/crun). Each <root>/<id>/state.json (runc) or
 *        <root>/<id>/status (crun) names the container's init pid; the inode
 *        of <proc_root>/<pid>/ns/pid (after checking the pid still belongs to
 *        that init by its start time) maps to the id. Works for rootless
 *        containers that have no cgroup of their own. A pid namespace shared
 *        by several known containers is ambiguous and skipped;
 *     b. the id the cgroup path names (docker-<id>.scope, cri-containerd-,
 *        crio-, libpod-, /docker/<id>, a bare 64-hex component). If it names a
 *        different container than (a) found, the cgroup wins: it is the more
 *        specific fact (containers may share a pid namespace);
 *     c. the cgroup path itself: the container whose state lists a cgroup
 *        path (converted from the /sys/fs/cgroup/... mount path to the
 *        kernel's hierarchy path via mountinfo) equal to, or a parent of, the
 *        exec's cgroup; the longest such path wins. This finds runc/crun
 *        containers with arbitrary names.
 *     When nothing matches, the state roots are rescanned and the lookup is
 *     repeated: always once for a pid namespace (or cgroup id) not seen
 *     before, so a container started a moment ago is found; otherwise at most
 *     once per 200 ms. A rescan re-reads only state files whose inode, size
 *     or mtime changed. All lookups are open-addressing hash tables.
 *  3. Metadata. From the state file: created time, the runc config labels
 *     (which carry the OCI annotations and "bundle=<dir>"), then the bundle's
 *     config.json annotations (crun: the config.json copy in its state dir).
 *     Kubernetes CRI annotations (containerd io.kubernetes.cri.*, CRI-O
 *     io.kubernetes.{container,pod}.* and its io.kubernetes.cri-o.Labels JSON)
 *     give container name, pod name/namespace/uid and image; other
 *     annotations become labels. The name falls back to the container id.
 *     The runtime name prefers io.container.manager, then the cgroup layout,
 *     then the state root it was found in. Missing metadata is not an error.
 *
 * Host namespaces: where pid 1's ns links cannot be read (some sandboxes
 * shield pid 1), the agent's own namespaces stand in, with a warning.
 * Not thread-safe: one struct cw_attrib per thread.
 */
#include "container.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirwatch.h"
#include "util.h"

#include "container_int.h"

static int index_entry(struct cw_attrib *a, size_t i)
{
	struct ctr *c = &a->ctrs[i];
	bool ended = c->ended_ns != 0;
	int err = 0;

	if (!ended || tab_get(&a->by_id, c->meta.id, 0) == IDX_EMPTY)
		err = tab_put(&a->by_id, c->meta.id, 0, (int)i);
	if (!c->valid) /* invalid entries are indexed by id only, to skip re-parsing */
		return err;
	if (!err && c->pidns && !ended)
		err = tab_put(&a->by_pidns, NULL, c->pidns, (int)i);
	for (size_t j = 0; j < c->ncgroups && !err; j++)
		if (!ended || tab_get(&a->by_cgroup, c->cgroups[j], 0) == IDX_EMPTY)
			err = tab_put(&a->by_cgroup, c->cgroups[j], 0, (int)i);
	return err;
}

static int rebuild_tables(struct cw_attrib *a)
{
	int err = 0;

	tab_free(&a->by_pidns);
	tab_free(&a->by_id);
	tab_free(&a->by_cgroup);
	for (int pass = 0; pass < 2; pass++) /* live containers first */
		for (size_t i = 0; i < a->nctrs && !err; i++)
			if ((a->ctrs[i].ended_ns != 0) == (pass == 1))
				err = index_entry(a, i);
	return err;
}

/* Containers whose state file went away since the last scan stay known (as
 * ended) for ENDED_KEEP_NS: a short-lived container's exec is often read after
 * its runtime has deleted it. Moves them from the old cache into nc. */
static int keep_ended(struct cw_attrib *a, struct ctr **nc, size_t *nn, size_t *ncap)
{
	int64_t now = cw_mono_ns();

	for (size_t i = 0; a->ctrs && i < a->nctrs; i++) {
		struct ctr *o = &a->ctrs[i];

		if (o->root < 0 || !o->valid)
			continue; /* moved into the new cache, or nothing worth keeping */
		if (o->ended_ns && now - o->ended_ns > ENDED_KEEP_NS)
			continue;
		if (*nn == *ncap) {
			size_t cap = *ncap ? *ncap * 2 : 16;
			struct ctr *g = realloc(*nc, cap * sizeof(**nc));

			if (!g)
				return -ENOMEM;
			*nc = g;
			*ncap = cap;
		}
		(*nc)[*nn] = *o;
		if (!o->ended_ns)
			(*nc)[*nn].ended_ns = now;
		(*nc)[*nn].pidns = 0;
		(*nn)++;
		memset(o, 0, sizeof(*o));
		o->root = -1;
	}
	return 0;
}

/* Same state file as the one c was built from? */
static bool same_file(const struct ctr *c, const struct stat *st)
{
	return c->st_dev == st->st_dev && c->st_ino == st->st_ino && c->st_size == st->st_size &&
	       c->st_mtim.tv_sec == st->st_mtim.tv_sec && c->st_mtim.tv_nsec == st->st_mtim.tv_nsec;
}

/* Is c's metadata incomplete for a while yet (its config copy missing)? */
static bool cfg_retry(const struct ctr *c)
{
	return c->cfg_retry_ns && !c->ended_ns && cw_mono_ns() < c->cfg_retry_ns;
}

static struct ctr *old_entry(struct cw_attrib *a, int root, const char *id)
{
	int idx = tab_get(&a->by_id, id, 0);

	if (!a->ctrs)
		return NULL;
	if (idx >= 0)
		return a->ctrs[idx].root == root ? &a->ctrs[idx] : NULL;
	if (idx == IDX_AMBIGUOUS) /* the same id under several roots */
		for (size_t i = 0; i < a->nctrs; i++)
			if (a->ctrs[i].root == root && !strcmp(a->ctrs[i].meta.id, id))
				return &a->ctrs[i];
	return NULL;
}

/* The runtime whose state file <root>/<id>/ holds (path and st filled). */
static const struct ctr_runtime *state_of(const char *root, const char *id, char *path, size_t psz,
                                          struct stat *st)
{
	for (size_t i = 0; i < ctr_n_runtimes; i++) {
		snprintf(path, psz, "%s/%s/%s", root, id, ctr_runtimes[i].state_file);
		if (stat(path, st) == 0)
			return &ctr_runtimes[i];
	}
	return NULL;
}

static int scan_root(struct cw_attrib *a, int ri, struct ctr **nc, size_t *nn, size_t *ncap)
{
	const char *root = a->roots[ri];
	DIR *d = opendir(root);
	struct dirent *de;

	if (!d) {
		int err = -errno;

		if (err != -ENOENT && !a->root_warned[ri]) {
			cw_warn("cannot list container state root %s: %s; its containers get no "
			        "metadata",
			        root, strerror(-err));
			a->root_warned[ri] = true;
		}
		return 0;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		struct ctr *old, *c;
		const struct ctr_runtime *rt = NULL;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(c->meta.id))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (!(rt = state_of(root, de->d_name, path, sizeof(path), &st)))
			continue; /* not a container dir, or being created/deleted */
		if (*nn == *ncap) {
			size_t cap = *ncap ? *ncap * 2 : 16;
			struct ctr *g = realloc(*nc, cap * sizeof(**nc));

			if (!g) {
				closedir(d);
				return -ENOMEM;
			}
			*nc = g;
			*ncap = cap;
		}
		c = &(*nc)[*nn];
		old = old_entry(a, ri, de->d_name);
		if (old && same_file(old, &st) && !cfg_retry(old)) {
			*c = *old; /* take ownership; old is marked moved */
			c->ended_ns = 0;
			memset(old, 0, sizeof(*old));
			old->root = -1;
		} else {
			memset(c, 0, sizeof(*c));
			c->root = ri;
			c->rt = rt;
			cw_strlcpy(c->meta.id, de->d_name, sizeof(c->meta.id));
			c->st_dev = st.st_dev;
			c->st_ino = st.st_ino;
			c->st_size = st.st_size;
			c->st_mtim = st.st_mtim;
			ctr_load_state(a, c, path);
		}
		ctr_refresh_pidns(a, c);
		(*nn)++;
	}
	closedir(d);
	return 0;
}

static int rescan(struct cw_attrib *a)
{
	struct ctr *nc = NULL;
	size_t nn = 0, ncap = 0;
	int err = 0, rerr, count = 0;

	a->last_scan_ns = cw_mono_ns();
	a->scanned = true;
	for (size_t r = 0; r < a->nroots && !err; r++)
		err = scan_root(a, (int)r, &nc, &nn, &ncap);
	if (!err)
		err = keep_ended(a, &nc, &nn, &ncap);
	if (err) /* keep what was scanned: entries already moved out of the old cache */
		cw_err("scanning container state roots failed: %s; the container cache is "
		       "incomplete",
		       strerror(-err));
	for (size_t i = 0; i < a->nctrs; i++)
		ctr_free(&a->ctrs[i]);
	free(a->ctrs);
	a->ctrs = nc;
	a->nctrs = nn;
	rerr = rebuild_tables(a);
	if (rerr) {
		cw_err("cannot index containers: %s", strerror(-rerr));
		return rerr;
	}
	if (err)
		return err;
	for (size_t i = 0; i < nn; i++)
		count += nc[i].valid && !nc[i].ended_ns;
	return count;
}

/* ------------------------------------------------------------------------ */
/* public API                                                                */

/* Host namespaces as those of <proc_root>/<who>. */
static int read_host_ns(struct cw_attrib *a, const char *who)
{
	char path[PATH_MAX], *st = NULL, *cb;
	int err = 0;

	for (int k = 0; k < CW_NS_COUNT; k++) {
		snprintf(path, sizeof(path), "%s/%s/ns/%s", a->proc_root, who, cw_ns_proc_names[k]);
		a->host.ns[k] = cw_ns_inode(path);
		if (!a->host.ns[k] && (k == CW_NS_PID || k == CW_NS_MNT) && !err)
			err = -errno;
	}
	a->host_pidns = a->host.ns[CW_NS_PID];
	a->host_mntns = a->host.ns[CW_NS_MNT];
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s/status", a->proc_root, who);
	if (!cw_read_file(path, 1 << 16, &st, NULL) && (cb = strstr(st, "\nCapBnd:")))
		a->host.cap_bounding = strtoull(cb + 9, NULL, 16);
	free(st);
	return 0;
}

/* A ':'-separated list into strings. 0 or -ENOMEM. */
static int split_list(const char *list, char ***out, size_t *n)
{
	char *copy = strdup(list), *tok, *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		char **nv = realloc(*out, (*n + 1) * sizeof(*nv));

		if (!nv || !(nv[*n] = strdup(tok))) {
			if (nv)
				*out = nv;
			free(copy);
			return -ENOMEM;
		}
		*out = nv;
		(*n)++;
	}
	free(copy);
	return 0;
}

int cw_attrib_new(struct cw_attrib **out, const struct cw_attrib_opts *opts)
{
	const char *proc = opts && opts->proc_root ? opts->proc_root : "/proc";
	const char *roots =
	    opts && opts->runtime_roots ? opts->runtime_roots : cw_runtime_default_roots();
	struct cw_attrib *a;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->proc_root = strdup(proc);
	if (split_list(opts && opts->containerd_roots ? opts->containerd_roots
	                                              : "/var/lib/containerd",
	               &a->cd_roots, &a->ncd_roots)) {
		cw_attrib_free(a);
		return -ENOMEM;
	}
	if (!a->proc_root || split_list(roots, &a->roots, &a->nroots)) {
		cw_attrib_free(a);
		return -ENOMEM;
	}
	a->root_warned = calloc(a->nroots + 1, sizeof(*a->root_warned));
	if (!a->root_warned) {
		cw_attrib_free(a);
		return -ENOMEM;
	}

	err = read_host_ns(a, "1");
	if (err) {
		int err2 = read_host_ns(a, "self");

		if (err2) {
			cw_err("cannot read the host namespaces from %s/1/ns: %s; run as root with "
			       "the host's /proc mounted",
			       a->proc_root, strerror(-err));
			cw_attrib_free(a);
			return err;
		}
		cw_warn("cannot read %s/1/ns (%s); taking the agent's own namespaces as the "
		        "host's: run the agent in the host's pid and mount namespaces",
		        a->proc_root, strerror(-err));
	}
	ctr_load_mounts(a);
	pthread_mutex_init(&a->lock, NULL);
	err = cw_dirwatch_new(&a->watch, a->roots, a->nroots);
	if (err)
		cw_warn("cannot watch the container state roots (%s): containers that start and "
		        "end between two rescans may be attributed by cgroup path only",
		        strerror(-err));
	*out = a;
	return 0;
}

void cw_attrib_free(struct cw_attrib *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nctrs; i++)
		ctr_free(&a->ctrs[i]);
	free(a->ctrs);
	tab_free(&a->by_pidns);
	tab_free(&a->by_id);
	tab_free(&a->by_cgroup);
	tab_free(&a->seen);
	cw_dirwatch_free(a->watch);
	ctr_free_mounts(a);
	for (size_t i = 0; i < a->nroots; i++)
		free(a->roots[i]);
	free(a->roots);
	for (size_t i = 0; i < a->ncd_roots; i++)
		free(a->cd_roots[i]);
	free(a->cd_roots);
	free(a->root_warned);
	free(a->proc_root);
	free(a);
}

uint32_t cw_attrib_host_pidns(const struct cw_attrib *a)
{
	return a ? a->host_pidns : 0;
}

uint32_t cw_attrib_host_mntns(const struct cw_attrib *a)
{
	return a ? a->host_mntns : 0;
}

int cw_attrib_scan(struct cw_attrib *a)
{
	if (!a)
		return -EINVAL;
	ctr_load_mounts(a);
	return rescan(a);
}

/* Longest state cgroup path equal to, or a parent of, cg. */
static int lookup_cgroup(const struct cw_attrib *a, const char *cg)
{
	char buf[CGROUP_PATH_LIMIT + 1];
	size_t l = cw_strlcpy(buf, cg, sizeof(buf));

	if (l >= sizeof(buf) || !a->by_cgroup.n)
		return IDX_EMPTY;
	while (l > 1 && buf[l - 1] == '/')
		buf[--l] = '\0';
	while (l > 1) {
		int idx = tab_get(&a->by_cgroup, buf, 0);
		char *slash;

		if (idx != IDX_EMPTY)
			return idx; /* ambiguous stops here too: the parent is no better */
		slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			break;
		*slash = '\0';
		l = (size_t)(slash - buf);
	}
	return IDX_EMPTY;
}

struct lookup {
	uint32_t pidns; /* exec's pid ns if not the host's, else 0 */
	const struct cw_cgroup_ref *ref;
	bool ref_ok;
	const char *cgroup;
};

/* Is the exec's cgroup c's (equal to or below one of its cgroup paths)? A
 * container without cgroups (rootless) and an exec without one (or in the root
 * cgroup) fit. */
static bool cgroup_fits(const struct ctr *c, const char *cg)
{
	if (!cg || cg[0] != '/' || !cg[1] || !c->ncgroups)
		return true; /* the root cgroup (or garbage) says nothing */
	for (size_t i = 0; i < c->ncgroups; i++) {
		size_t l = strlen(c->cgroups[i]);

		if (!strncmp(cg, c->cgroups[i], l) && (cg[l] == '/' || cg[l] == '\0'))
			return true;
	}
	return false;
}

/* The container of an exec. The cgroup decides when it says anything: an id
 * in the path, else the longest state cgroup path containing it (cgroups are
 * not reused while they exist). A pid namespace inode alone (rootless runc,
 * no cgroup of its own) counts only for a live container whose cgroups fit:
 * the kernel hands a freed namespace's inode to the next container at once. */
static int lookup(const struct cw_attrib *a, const struct lookup *q)
{
	int idx;

	if (q->ref_ok) {
		idx = tab_get(&a->by_id, q->ref->id, 0);
		return idx >= 0 && a->ctrs[idx].valid ? idx : IDX_EMPTY;
	}
	if (q->cgroup[0]) {
		idx = lookup_cgroup(a, q->cgroup);
		if (idx >= 0)
			return idx;
	}
	if (q->pidns) {
		idx = tab_get(&a->by_pidns, NULL, q->pidns);
		if (idx >= 0 && cgroup_fits(&a->ctrs[idx], q->cgroup))
			return idx;
	}
	return IDX_EMPTY;
}

/* Is entry c still what its state file says (live containers), or ended? */
static bool entry_current(const struct cw_attrib *a, const struct ctr *c)
{
	char path[PATH_MAX];
	struct stat st;

	if (c->ended_ns)
		return true;
	if (cfg_retry(c))
		return false; /* read again: its config copy may be there now */
	snprintf(path, sizeof(path), "%s/%s/%s", a->roots[c->root], c->meta.id,
	         c->rt ? c->rt->state_file : "state.json");
	return stat(path, &st) == 0 && same_file(c, &st);
}

/* Rescan now? Always once per new unknown key, else at most every 200 ms. */
static bool should_rescan(struct cw_attrib *a, uint32_t key)
{
	if (key && tab_get(&a->seen, NULL, key) == IDX_EMPTY) {
		if (a->seen.n >= SEEN_SET_MAX)
			tab_free(&a->seen);
		if (tab_put(&a->seen, NULL, key, 1) == 0)
			return true;
	}
	return !a->scanned || cw_mono_ns() - a->last_scan_ns >= RESCAN_INTERVAL_NS;
}

/* Pick up state roots' changes now (called with a->lock held). */
static void sync_locked(struct cw_attrib *a)
{
	if (a->watch && cw_dirwatch_drain(a->watch)) {
		int err = rescan(a);

		if (err < 0)
			cw_warn("container rescan failed: %s", strerror(-err));
	}
}

int cw_attrib_sync(struct cw_attrib *a)
{
	if (!a)
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	sync_locked(a);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

int cw_attrib_rootfs(struct cw_attrib *a, const char *id)
{
	int idx, fd = -ENOENT;

	if (!a || !id || !id[0])
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	idx = tab_get(&a->by_id, id, 0);
	if (idx >= 0 && a->ctrs[idx].rootfs_fd1 > 0) {
		fd = fcntl(a->ctrs[idx].rootfs_fd1 - 1, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			fd = -errno;
	}
	pthread_mutex_unlock(&a->lock);
	return fd;
}

int cw_attrib_fd(const struct cw_attrib *a)
{
	return a ? cw_dirwatch_fd(a->watch) : -1;
}

/* lookup(), rescanning on a miss (rate-limited) or when the entry found no
 * longer matches its state file. Called with a->lock held. */
static int find(struct cw_attrib *a, const struct lookup *q, const struct cw_cgroup_ref *ref)
{
	int idx = lookup(a, q);
	uint32_t key;

	if (idx >= 0 && a->ctrs && entry_current(a, &a->ctrs[idx]))
		return idx;
	key = q->ref_ok      ? (uint32_t)ctr_hash_str(ref->id) | 1u
	      : q->cgroup[0] ? (uint32_t)ctr_hash_str(q->cgroup) | 1u
	                     : q->pidns;
	if (idx >= 0 || should_rescan(a, key)) {
		int err = rescan(a);

		if (err < 0) {
			cw_warn(
			    "container rescan failed: %s; attributing from the cgroup path only",
			    strerror(-err));
			return IDX_EMPTY;
		}
		idx = lookup(a, q);
	}
	return idx;
}

static void fill(struct cw_attrib *a, int idx, const struct lookup *q, struct cw_container *out)
{
	const struct cw_container *m = &a->ctrs[idx].meta;

	*out = *m;
	out->in_container = true;
	out->init_pid = a->ctrs[idx].ended_ns ? 0 : a->ctrs[idx].init_pid;
	out->labels = m->labels ? json_deep_copy(m->labels) : NULL;
	out->settings = m->settings ? json_deep_copy(m->settings) : NULL;
	if ((m->labels && !out->labels) || (m->settings && !out->settings))
		cw_warn("container %s: out of memory copying labels and settings", m->id);
	/* the cgroup layout is more specific than the state root's name */
	if (q->ref_ok && q->ref->runtime[0] && strcmp(q->ref->runtime, "runc") &&
	    !strcmp(m->runtime, ctr_runtime_of_root(a->roots[a->ctrs[idx].root])))
		cw_strlcpy(out->runtime, q->ref->runtime, sizeof(out->runtime));
}

/* No state file was ever seen for this container (it came and went between
 * two looks): runc and crun name a container's cgroup after its id unless told
 * otherwise, so the cgroup's last component is the best id there is. */
static void cgroup_leaf_id(const char *cg, struct cw_container *out)
{
	const char *leaf = cg ? strrchr(cg, '/') : NULL;

	if (!leaf || !leaf[1])
		return;
	cw_strlcpy(out->id, leaf + 1, sizeof(out->id));
	cw_strlcpy(out->name, leaf + 1, sizeof(out->name));
}

/* How long after an exec its container's state may still be on its way:
 * crun writes its status after starting the container's process, whose
 * first execs can come before it. */
#define STATE_WAIT_NS (300 * 1000000LL)
#define STATE_POLL_US 30000

/* find(), then, for a recent exec whose container is new to the cache (a key
 * never looked up before), rescans until STATE_WAIT_NS after the exec while
 * its state, or the copy of its spec, is missing.
 * Called with a->lock held; drops it while it sleeps. */
static int find_waiting(struct cw_attrib *a, const struct lookup *q,
                        const struct cw_cgroup_ref *ref, int64_t exec_ns)
{
	uint32_t key = q->ref_ok      ? (uint32_t)ctr_hash_str(ref->id) | 1u
	               : q->cgroup[0] ? (uint32_t)ctr_hash_str(q->cgroup) | 1u
	                              : q->pidns;
	bool fresh = key && tab_get(&a->seen, NULL, key) == IDX_EMPTY;
	int idx = find(a, q, ref), tries = 0;

	while ((idx < 0 || cfg_retry(&a->ctrs[idx])) && fresh && exec_ns &&
	       cw_now_ns() < exec_ns + STATE_WAIT_NS &&
	       tries++ < STATE_WAIT_NS / 1000 / STATE_POLL_US) {
		pthread_mutex_unlock(&a->lock);
		usleep(STATE_POLL_US);
		pthread_mutex_lock(&a->lock);
		if (rescan(a) < 0)
			break;
		idx = lookup(a, q);
	}
	return idx;
}

/* In a container: its own pid namespace, or its own mount namespace with a
 * cgroup that names or belongs to a container (hostPID containers share the
 * host's pid namespace; a private mount namespace alone is also systemd's
 * PrivateTmp). */
int cw_attrib_resolve(struct cw_attrib *a, const struct cw_exec *ex, struct cw_container *out)
{
	struct cw_cgroup_ref ref;
	struct lookup q = {0};
	uint32_t pidns = 0, mntns = 0;
	bool own_pid, own_mnt;
	int idx, rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!a || !ex)
		return -EINVAL;
	if (ex->ev) {
		pidns = ex->ev->pidns;
		mntns = ex->ev->mntns;
	}
	own_pid = pidns && pidns != a->host_pidns;
	own_mnt = mntns && mntns != a->host_mntns;
	if (!own_pid && !own_mnt)
		return 0;
	rc = cw_cgroup_parse(ex->cgroup, &ref);
	q.pidns = own_pid ? pidns : 0;
	q.ref = &ref;
	q.ref_ok = rc == 0;
	q.cgroup = ex->cgroup;
	pthread_mutex_lock(&a->lock);
	sync_locked(a);
	idx = find_waiting(a, &q, &ref, own_pid || q.ref_ok ? ex->time_ns : 0);
	out->in_container = own_pid || q.ref_ok || idx >= 0;
	if (idx >= 0 && a->ctrs && out->in_container) {
		fill(a, idx, &q, out);
	} else if (q.ref_ok) {
		cw_strlcpy(out->id, ref.id, sizeof(out->id));
		cw_strlcpy(out->name, ref.id, sizeof(out->name));
		cw_strlcpy(out->runtime, ref.runtime, sizeof(out->runtime));
	} else if (out->in_container) {
		cgroup_leaf_id(ex->cgroup, out);
	}
	pthread_mutex_unlock(&a->lock);
	out->host = a->host;
	if (out->in_container && ref.pod_uid[0] && !out->pod_uid[0])
		cw_strlcpy(out->pod_uid, ref.pod_uid, sizeof(out->pod_uid));
	return 0;
}
