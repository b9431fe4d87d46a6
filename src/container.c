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

#define HEX_ID_LEN         64
#define CGROUP_PATH_LIMIT  4096
#define STATE_FILE_MAX     (16u << 20)
#define BUNDLE_CONFIG_MAX  (16u << 20)
#define RESCAN_INTERVAL_NS (200 * 1000000LL)
#define SEEN_SET_MAX       4096
#define LABELS_MAX         64
#define LABEL_VALUE_MAX    1024
#define ENDED_KEEP_NS      (120 * 1000000000LL) /* ended containers stay known */

static const char default_roots[] = "/run/runc:/run/crun:/run/containerd/runc/k8s.io:"
                                    "/run/containerd/runc/default:/run/docker/runtime-runc/moby";

/* ------------------------------------------------------------------------ */
/* cgroup path parsing                                                       */

static bool is_hex_n(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A component (s, n) that is exactly a 64-hex container id. */
static bool is_hex_id(const char *s, size_t n)
{
	return n == HEX_ID_LEN && is_hex_n(s, n);
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n >= pl && memcmp(s, prefix, pl) == 0;
}

static bool ends(const char *s, size_t n, const char *suffix)
{
	size_t sl = strlen(suffix);

	return n >= sl && memcmp(s + n - sl, suffix, sl) == 0;
}

static bool comp_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* "<prefix><64hex>" optionally followed by ".scope". */
static bool prefixed_id(const char *s, size_t n, const char *prefix, const char **id)
{
	size_t pl = strlen(prefix);

	if (!starts(s, n, prefix))
		return false;
	s += pl;
	n -= pl;
	if (ends(s, n, ".scope"))
		n -= strlen(".scope");
	if (!is_hex_id(s, n))
		return false;
	*id = s;
	return true;
}

/* Pod UID as written in a cgroup name: dashes (cgroupfs) or underscores
 * (systemd). Stored with dashes. */
static void set_pod_uid(struct cw_cgroup_ref *out, const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(out->pod_uid))
		return;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return;
	for (size_t i = 0; i < n; i++)
		out->pod_uid[i] = s[i] == '_' ? '-' : s[i];
	out->pod_uid[n] = '\0';
}

/* Kubernetes slice/directory names: kubepods, kubepods.slice,
 * kubepods-<qos>.slice, kubepods[-<qos>]-pod<uid>.slice, burstable,
 * besteffort, pod<uid> (the last three only below kubepods). */
static void parse_kube_comp(const char *s, size_t n, bool *under_kubepods,
                            struct cw_cgroup_ref *out)
{
	if (ends(s, n, ".slice"))
		n -= strlen(".slice");
	if (starts(s, n, "kubepods") && (n == 8 || s[8] == '-')) {
		*under_kubepods = true;
		out->kubernetes = true;
		s += strlen("kubepods");
		n -= strlen("kubepods");
		if (n && s[0] == '-') {
			s++;
			n--;
		}
		if (starts(s, n, "burstable")) {
			cw_strlcpy(out->qos, "burstable", sizeof(out->qos));
			s += strlen("burstable");
			n -= strlen("burstable");
		} else if (starts(s, n, "besteffort")) {
			cw_strlcpy(out->qos, "besteffort", sizeof(out->qos));
			s += strlen("besteffort");
			n -= strlen("besteffort");
		}
		if (n && s[0] == '-') {
			s++;
			n--;
		}
		if (starts(s, n, "pod"))
			set_pod_uid(out, s + 3, n - 3);
		return;
	}
	if (!*under_kubepods)
		return;
	if (comp_is(s, n, "burstable") || comp_is(s, n, "besteffort")) {
		memcpy(out->qos, s, n);
		out->qos[n] = '\0';
	} else if (starts(s, n, "pod")) {
		set_pod_uid(out, s + 3, n - 3);
	}
}

/* Runtime named by a systemd cgroupsPath prefix ("slice:prefix:name"). */
static const char *runtime_of_prefix(const char *s, size_t n)
{
	if (comp_is(s, n, "cri-containerd") || comp_is(s, n, "nerdctl"))
		return "containerd";
	if (comp_is(s, n, "crio"))
		return "cri-o";
	if (comp_is(s, n, "docker"))
		return "docker";
	if (comp_is(s, n, "libpod"))
		return "podman";
	return "";
}

enum comp_kind { COMP_NONE, COMP_CONTAINER, COMP_CONMON };

/* Classify one component. On COMP_CONTAINER, *id points at the 64-hex id and
 * *rt names the runtime. parent is the previous component (may be empty). */
static enum comp_kind classify(const char *s, size_t n, const char *parent, size_t pn,
                               const char **id, const char **rt)
{
	const char *colon;

	if (starts(s, n, "crio-conmon-") || starts(s, n, "libpod-conmon-"))
		return COMP_CONMON;
	if (prefixed_id(s, n, "docker-", id)) {
		*rt = "docker";
		return COMP_CONTAINER;
	}
	if (prefixed_id(s, n, "cri-containerd-", id) || prefixed_id(s, n, "nerdctl-", id)) {
		*rt = "containerd";
		return COMP_CONTAINER;
	}
	if (prefixed_id(s, n, "crio-", id)) {
		*rt = "cri-o";
		return COMP_CONTAINER;
	}
	if (prefixed_id(s, n, "libpod-", id)) {
		*rt = "podman";
		return COMP_CONTAINER;
	}
	/* systemd-style cgroupsPath left literal: "<slice>:<prefix>:<id>" */
	colon = memchr(s, ':', n);
	if (colon) {
		const char *p2 = colon + 1;
		const char *c2 = memchr(p2, ':', n - (size_t)(p2 - s));

		if (!c2)
			return COMP_NONE;
		if (is_hex_id(c2 + 1, n - (size_t)(c2 + 1 - s))) {
			*id = c2 + 1;
			*rt = runtime_of_prefix(p2, (size_t)(c2 - p2));
			if (comp_is(p2, (size_t)(c2 - p2), "crio-conmon"))
				return COMP_CONMON;
			return COMP_CONTAINER;
		}
		return COMP_NONE;
	}
	if (is_hex_id(s, n)) {
		*id = s;
		*rt = comp_is(parent, pn, "docker") ? "docker" : "runc";
		return COMP_CONTAINER;
	}
	return COMP_NONE;
}

/* Strip "N:controllers:" from a /proc/PID/cgroup line. */
static const char *strip_proc_line(const char *p)
{
	const char *q = p, *c;

	if (!isdigit((unsigned char)*q))
		return p;
	while (isdigit((unsigned char)*q))
		q++;
	if (*q != ':')
		return p;
	c = strchr(q + 1, ':');
	if (!c || memchr(q + 1, '/', (size_t)(c - q - 1)))
		return p;
	return c + 1;
}

int cw_cgroup_parse(const char *path, struct cw_cgroup_ref *out)
{
	const char *p, *parent = "", *best_id = NULL, *best_rt = "";
	size_t len, pn = 0;
	bool under_kubepods = false, conmon_last = false;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!path)
		return -EINVAL;
	len = strnlen(path, CGROUP_PATH_LIMIT + 1);
	if (len == 0 || len > CGROUP_PATH_LIMIT)
		return -EINVAL;
	p = strip_proc_line(path);
	if (p[0] != '/')
		return -EINVAL;
	for (const char *q = p; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return -EINVAL;

	p++;
	while (*p) {
		const char *end = strchr(p, '/'), *id = NULL, *rt = "", *colon;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		enum comp_kind k;

		if (n == 0 || comp_is(p, n, ".") || comp_is(p, n, ".."))
			return -EINVAL; /* "//", "/./", "/../" never come from the kernel */
		if (n >= 256)
			return -EINVAL; /* longer than a kernfs name can be */
		/* "<slice>:<prefix>:<id>": the slice part carries the pod */
		colon = memchr(p, ':', n);
		parse_kube_comp(p, colon ? (size_t)(colon - p) : n, &under_kubepods, out);
		k = classify(p, n, parent, pn, &id, &rt);
		if (k == COMP_CONTAINER) {
			best_id = id;
			best_rt = rt;
			conmon_last = false;
		} else if (k == COMP_CONMON) {
			/* conmon watches a container from the host; it is not one */
			conmon_last = true;
			best_id = NULL;
		}
		parent = p;
		pn = n;
		if (!end)
			break;
		p = end + 1;
		if (!*p)
			break; /* one trailing '/' is tolerated */
	}

	if (out->kubernetes && out->pod_uid[0] && !out->qos[0])
		cw_strlcpy(out->qos, "guaranteed", sizeof(out->qos));
	if (!best_id || conmon_last)
		return -ENOENT;
	memcpy(out->id, best_id, HEX_ID_LEN);
	out->id[HEX_ID_LEN] = '\0';
	/* A bare id under kubepods came from a CRI runtime whose name the
	 * cgroupfs layout does not tell. */
	if (!strcmp(best_rt, "runc") && out->kubernetes)
		best_rt = "";
	cw_strlcpy(out->runtime, best_rt, sizeof(out->runtime));
	return 0;
}

/* ------------------------------------------------------------------------ */
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

static uint64_t hash_str(const char *s)
{
	return cw_fnv1a64(CW_FNV64_INIT, s, strlen(s));
}

static uint64_t hash_u32(uint32_t v)
{
	uint64_t h = (uint64_t)v * 0x9E3779B97F4A7C15ULL;

	return h ^ (h >> 29);
}

static void tab_free(struct tab *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

static int tab_init(struct tab *t, size_t want)
{
	size_t cap = 16;

	while (cap < want * 2 + 16)
		cap <<= 1;
	t->s = malloc(cap * sizeof(*t->s));
	if (!t->s)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		t->s[i].idx = IDX_EMPTY;
	t->cap = cap;
	t->n = 0;
	return 0;
}

static int tab_grow(struct tab *t)
{
	struct tab nt;
	int err = tab_init(&nt, t->cap);

	if (err)
		return err;
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *o = &t->s[i];
		size_t j;

		if (o->idx == IDX_EMPTY)
			continue;
		for (j = o->h & (nt.cap - 1); nt.s[j].idx != IDX_EMPTY; j = (j + 1) & (nt.cap - 1))
			;
		nt.s[j] = *o;
		nt.n++;
	}
	free(t->s);
	*t = nt;
	return 0;
}

static struct slot *tab_find(const struct tab *t, uint64_t h, const char *skey, uint32_t ukey)
{
	if (!t->cap)
		return NULL;
	for (size_t j = h & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
		struct slot *s = &t->s[j];

		if (s->idx == IDX_EMPTY)
			return NULL;
		if (s->h == h && (skey ? (s->skey && !strcmp(s->skey, skey)) : s->ukey == ukey))
			return s;
	}
}

/* Insert; a second, different value for the same key makes it ambiguous. */
static int tab_put(struct tab *t, const char *skey, uint32_t ukey, int idx)
{
	uint64_t h = skey ? hash_str(skey) : hash_u32(ukey);
	struct slot *s;
	size_t j;
	int err;

	s = tab_find(t, h, skey, ukey);
	if (s) {
		if (s->idx != idx)
			s->idx = IDX_AMBIGUOUS;
		return 0;
	}
	if (!t->cap || (t->n + 1) * 2 > t->cap) {
		err = t->cap ? tab_grow(t) : tab_init(t, 8);
		if (err)
			return err;
	}
	for (j = h & (t->cap - 1); t->s[j].idx != IDX_EMPTY; j = (j + 1) & (t->cap - 1))
		;
	t->s[j] = (struct slot){.h = h, .skey = skey, .ukey = ukey, .idx = idx};
	t->n++;
	return 0;
}

static int tab_get(const struct tab *t, const char *skey, uint32_t ukey)
{
	struct slot *s = tab_find(t, skey ? hash_str(skey) : hash_u32(ukey), skey, ukey);

	return s ? s->idx : IDX_EMPTY;
}

/* ------------------------------------------------------------------------ */
/* the cache                                                                 */

struct ctr {
	int root;         /* index into a->roots */
	bool valid;       /* state file parsed */
	bool crun;        /* state file is crun's "status" (else runc's state.json) */
	int64_t ended_ns; /* state file gone since (monotonic), 0 while it exists */
	int rootfs_fd1;   /* O_PATH fd + 1 of its root filesystem (0: none): held while
	                   * the entry lives, so an ended container's files stay readable */
	dev_t st_dev;     /* identity of the state file as last parsed */
	ino_t st_ino;
	off_t st_size;
	struct timespec st_mtim;
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
};

void cw_container_clear(struct cw_container *c)
{
	if (!c)
		return;
	json_decref(c->labels);
	memset(c, 0, sizeof(*c));
}

static void ctr_free(struct ctr *c)
{
	if (c->rootfs_fd1 > 0)
		close(c->rootfs_fd1 - 1);
	c->rootfs_fd1 = 0;
	for (size_t i = 0; i < c->ncgroups; i++)
		free(c->cgroups[i]);
	free(c->cgroups);
	c->cgroups = NULL;
	c->ncgroups = 0;
	cw_container_clear(&c->meta);
}

static void free_mounts(struct cw_attrib *a)
{
	for (size_t i = 0; i < a->nmounts; i++) {
		free(a->mounts[i].mnt);
		free(a->mounts[i].root);
	}
	free(a->mounts);
	a->mounts = NULL;
	a->nmounts = 0;
}

/* Learn where the cgroup hierarchies are mounted so that state.json's
 * /sys/fs/cgroup/... paths can be turned into the kernel's cgroup paths. */
static void load_mounts(struct cw_attrib *a)
{
	char path[PATH_MAX], *buf = NULL, *line, *save = NULL;
	int err;

	free_mounts(a);
	snprintf(path, sizeof(path), "%s/self/mountinfo", a->proc_root);
	err = cw_read_file(path, 4u << 20, &buf, NULL);
	if (err) {
		cw_debug("cannot read %s: %s; assuming cgroups are mounted under /sys/fs/cgroup",
		         path, strerror(-err));
		return;
	}
	/* fields: id parent maj:min root mountpoint opts ... - fstype src */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[5], *dash, *fstype, *tok, *s2 = NULL;
		struct cg_mount *nm;
		int i = 0;

		dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = '\0';
		fstype = dash + 3;
		tok = strchr(fstype, ' ');
		if (tok)
			*tok = '\0';
		if (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2"))
			continue;
		for (tok = strtok_r(line, " ", &s2); tok && i < 5; tok = strtok_r(NULL, " ", &s2))
			f[i++] = tok;
		if (i < 5)
			continue;
		nm = realloc(a->mounts, (a->nmounts + 1) * sizeof(*nm));
		if (!nm)
			break;
		a->mounts = nm;
		cw_unescape_mountinfo(f[3]);
		cw_unescape_mountinfo(f[4]);
		nm[a->nmounts].root = strdup(f[3]);
		nm[a->nmounts].mnt = strdup(f[4]);
		if (!nm[a->nmounts].root || !nm[a->nmounts].mnt) {
			free(nm[a->nmounts].root);
			free(nm[a->nmounts].mnt);
			break;
		}
		a->nmounts++;
	}
	free(buf);
}

/* Turn a cgroup directory path from a state file into the path the kernel
 * reports for tasks in it. Returns a malloc'd string or NULL. */
static char *kernel_cgroup_path(const struct cw_attrib *a, const char *key, const char *fs)
{
	const struct cg_mount *best = NULL;
	size_t best_len = 0;
	const char *rest;
	char *out;

	if (fs[0] != '/')
		return NULL;
	for (size_t i = 0; i < a->nmounts; i++) {
		size_t l = strlen(a->mounts[i].mnt);

		if (l > best_len && !strncmp(fs, a->mounts[i].mnt, l) &&
		    (fs[l] == '/' || fs[l] == '\0')) {
			best = &a->mounts[i];
			best_len = l;
		}
	}
	if (best) {
		const char *root = strcmp(best->root, "/") ? best->root : "";

		rest = fs + best_len;
		if (asprintf(&out, "%s%s", root, rest[0] ? rest : (root[0] ? "" : "/")) < 0)
			return NULL;
		return out;
	}
	if (!strncmp(fs, "/sys/fs/cgroup/", 15)) {
		rest = fs + 15;
		if (key[0] == '\0') {
			/* cgroup2: hybrid at .../unified, pure v2 at /sys/fs/cgroup */
			if (!strncmp(rest, "unified/", 8) || !strcmp(rest, "unified"))
				rest += 7;
			else
				rest--;
		} else {
			rest = strchr(rest, '/'); /* skip the controller directory */
			if (!rest)
				rest = "/";
		}
		return strdup(rest[0] ? rest : "/");
	}
	if (!strcmp(fs, "/sys/fs/cgroup"))
		return strdup("/");
	return strdup(fs); /* already a hierarchy path (crun's "cgroup-path") */
}

static int ctr_add_cgroup(struct ctr *c, char *kpath)
{
	char **n;
	size_t l = strlen(kpath);

	while (l > 1 && kpath[l - 1] == '/')
		kpath[--l] = '\0';
	if (!strcmp(kpath, "/")) {
		free(kpath); /* the root would match every task */
		return 0;
	}
	for (size_t i = 0; i < c->ncgroups; i++) {
		if (!strcmp(c->cgroups[i], kpath)) {
			free(kpath);
			return 0;
		}
	}
	n = realloc(c->cgroups, (c->ncgroups + 1) * sizeof(*n));
	if (!n) {
		free(kpath);
		return -ENOMEM;
	}
	c->cgroups = n;
	c->cgroups[c->ncgroups++] = kpath;
	return 0;
}

/* Start time (field 22, clock ticks since boot) of a process, 0 if unknown. */
static uint64_t proc_start_time(const char *proc_root, int pid)
{
	char path[PATH_MAX], *buf = NULL, *p;
	unsigned long long v = 0;
	int field = 2;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	if (cw_read_file(path, 8192, &buf, NULL))
		return 0;
	p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (p) {
		for (p++; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		if (field == 22)
			v = strtoull(p, NULL, 10);
	}
	free(buf);
	return v;
}

/* Find the container's pid namespace now (its init may have gone). */
static void ctr_refresh_pidns(const struct cw_attrib *a, struct ctr *c)
{
	char path[PATH_MAX + 64];

	c->pidns = 0;
	if (c->init_pid > 0) {
		if (c->init_start) {
			uint64_t now = proc_start_time(a->proc_root, c->init_pid);

			/* pid gone, or reused by another process: not running */
			if (now && now != c->init_start)
				return;
		}
		snprintf(path, sizeof(path), "%s/%d/ns/pid", a->proc_root, c->init_pid);
		c->pidns = cw_ns_inode(path);
	} else if (c->nspath[0]) {
		if (!strncmp(c->nspath, "/proc/", 6))
			snprintf(path, sizeof(path), "%s/%s", a->proc_root, c->nspath + 6);
		else
			snprintf(path, sizeof(path), "%s", c->nspath);
		c->pidns = cw_ns_inode(path);
	}
	if (c->pidns == a->host_pidns)
		c->pidns = 0; /* shares the host's pid namespace: not a key */
}

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* Annotation/label keys that are runtime bookkeeping, not user labels. */
static bool internal_key(const char *k)
{
	static const char *const pfx[] = {
	    "io.kubernetes.cri.",    "io.kubernetes.cri-o.",   "io.kubernetes.container.",
	    "io.kubernetes.pod.",    "io.container.manager",   "run.oci.",
	    "org.systemd.property.", "io.podman.annotations.",
	};

	if (!strcmp(k, "bundle"))
		return true;
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (has_prefix(k, pfx[i]))
			return true;
	return false;
}

static void add_label(struct cw_container *m, const char *k, const char *v)
{
	if (internal_key(k))
		return;
	if (!m->labels)
		m->labels = json_object();
	if (!m->labels)
		return;
	if (json_object_size(m->labels) >= LABELS_MAX && !json_object_get(m->labels, k)) {
		cw_debug("container %s: more than %d labels, dropping \"%s\"", m->id, LABELS_MAX,
		         k);
		return;
	}
	if (strlen(v) > LABEL_VALUE_MAX) {
		cw_debug("container %s: label \"%s\" longer than %d bytes, dropped", m->id, k,
		         LABEL_VALUE_MAX);
		return;
	}
	json_object_set_new(m->labels, k, json_string(v));
}

static void apply_annotation(struct cw_container *m, const char *k, const char *v);

/* CRI-O's io.kubernetes.cri-o.Labels: the pod's labels as a JSON string. */
static void apply_crio_labels(struct cw_container *m, const char *v)
{
	json_error_t jerr;
	json_t *o = json_loads(v, 0, &jerr), *val;
	const char *k;

	if (!json_is_object(o)) {
		cw_debug("container %s: io.kubernetes.cri-o.Labels is not a JSON object", m->id);
		json_decref(o);
		return;
	}
	json_object_foreach(o, k, val)
	{
		if (json_is_string(val) && strcmp(k, "io.kubernetes.cri-o.Labels"))
			apply_annotation(m, k, json_string_value(val));
	}
	json_decref(o);
}

static void apply_annotation(struct cw_container *m, const char *k, const char *v)
{
	static const struct {
		const char *key;
		size_t off, size;
	} map[] = {
#define F(key, field)                                                                              \
	{key, offsetof(struct cw_container, field), sizeof(((struct cw_container *)0)->field)}
	    F("io.kubernetes.cri.container-name", name),
	    F("io.kubernetes.container.name", name),
	    F("io.kubernetes.cri.sandbox-name", pod_name),
	    F("io.kubernetes.pod.name", pod_name),
	    F("io.kubernetes.cri.sandbox-namespace", pod_namespace),
	    F("io.kubernetes.pod.namespace", pod_namespace),
	    F("io.kubernetes.cri.sandbox-uid", pod_uid),
	    F("io.kubernetes.pod.uid", pod_uid),
	    F("io.kubernetes.cri.image-name", image),
	    F("io.kubernetes.cri-o.ImageName", image),
	    F("io.kubernetes.cri-o.ImageRef", image_id),
	    F("bundle", bundle),
#undef F
	};

	if (!*v)
		return;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!strcmp(k, map[i].key)) {
			cw_strlcpy((char *)m + map[i].off, v, map[i].size);
			return;
		}
	}
	if (!strcmp(k, "io.container.manager")) {
		if (!strcmp(v, "libpod"))
			v = "podman";
		cw_strlcpy(m->runtime, v, sizeof(m->runtime));
		return;
	}
	if (!strcmp(k, "io.kubernetes.cri-o.Labels")) {
		apply_crio_labels(m, v);
		return;
	}
	if (!strcmp(k, "org.opencontainers.image.ref.name") && !m->image[0])
		cw_strlcpy(m->image, v, sizeof(m->image));
	add_label(m, k, v);
}

/* An OCI config.json: apply its annotations. Missing file is fine. */
static void apply_oci_config(struct cw_container *m, const char *path)
{
	json_error_t jerr;
	json_t *cfg, *ann, *v;
	const char *k;
	char *buf = NULL;
	size_t len;
	int err;

	err = cw_read_file(path, BUNDLE_CONFIG_MAX, &buf, &len);
	if (err) {
		if (err != -ENOENT)
			cw_debug("container %s: cannot read %s: %s", m->id, path, strerror(-err));
		return;
	}
	cfg = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!cfg) {
		cw_warn("container %s: %s is not valid JSON (line %d: %s); annotations ignored",
		        m->id, path, jerr.line, jerr.text);
		return;
	}
	ann = json_object_get(cfg, "annotations");
	json_object_foreach(ann, k, v)
	{
		if (json_is_string(v))
			apply_annotation(m, k, json_string_value(v));
	}
	json_decref(cfg);
}

/* Runtime that owns a state root, from its path components
 * (/run/docker/runtime-runc/moby, /run/containerd/runc/k8s.io, /run/crun). */
static const char *runtime_of_root(const char *root)
{
	const char *rt = "runc";

	while (*root) {
		size_t n = strcspn(root, "/");

		if (comp_is(root, n, "docker") || comp_is(root, n, "moby"))
			return "docker";
		if (comp_is(root, n, "containerd"))
			rt = "containerd";
		else if (comp_is(root, n, "crun") && strcmp(rt, "containerd"))
			rt = "crun";
		root += n;
		root += strspn(root, "/");
	}
	return rt;
}

static void set_created(struct ctr *c, json_t *v, const char *file)
{
	if (!json_is_string(v))
		return;
	if (cw_parse_rfc3339_ns(json_string_value(v), &c->meta.created_ns))
		cw_debug("%s: cannot parse created time \"%s\"", file, json_string_value(v));
}

/* Hold the container's root filesystem (a host path the runtime wrote). */
static void hold_rootfs(struct ctr *c, const char *path)
{
	int fd;

	if (c->rootfs_fd1 > 0 || !path || path[0] != '/')
		return;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		c->rootfs_fd1 = fd + 1;
}

/* crun: root.path of the config copy, relative to the bundle unless absolute. */
static void rootfs_from_config(struct ctr *c, const char *cfgpath)
{
	char *buf = NULL, full[PATH_MAX * 2];
	json_t *cfg;
	const char *rp;
	size_t len;

	if (cw_read_file(cfgpath, BUNDLE_CONFIG_MAX, &buf, &len))
		return;
	cfg = json_loadb(buf, len, 0, NULL);
	free(buf);
	rp = json_string_value(json_object_get(json_object_get(cfg, "root"), "path"));
	if (rp && rp[0] == '/')
		hold_rootfs(c, rp);
	else if (rp && c->meta.bundle[0] &&
	         snprintf(full, sizeof(full), "%s/%s", c->meta.bundle, rp) < (int)sizeof(full))
		hold_rootfs(c, full);
	json_decref(cfg);
}

/* runc's state.json. */
static int parse_runc_state(struct cw_attrib *a, struct ctr *c, json_t *st, const char *file)
{
	json_t *cfg = json_object_get(st, "config"), *labels, *cg, *ns, *v;
	const char *k, *sid = json_string_value(json_object_get(st, "id"));
	size_t i;
	int err;

	if (sid && strcmp(sid, c->meta.id))
		cw_debug("%s: id \"%s\" differs from its directory name; using the directory", file,
		         sid);
	c->init_pid = (int)json_integer_value(json_object_get(st, "init_process_pid"));
	hold_rootfs(c, json_string_value(json_object_get(cfg, "rootfs")));
	v = json_object_get(st, "init_process_start");
	c->init_start = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
	set_created(c, json_object_get(st, "created"), file);

	labels = json_object_get(cfg, "labels");
	json_array_foreach(labels, i, v)
	{
		const char *s = json_string_value(v), *eq;
		char key[256];

		if (!s || !(eq = strchr(s, '=')) || (size_t)(eq - s) >= sizeof(key))
			continue;
		memcpy(key, s, (size_t)(eq - s));
		key[eq - s] = '\0';
		apply_annotation(&c->meta, key, eq + 1);
	}

	ns = json_object_get(st, "namespace_paths");
	v = json_object_get(ns, "NEWPID");
	if (json_is_string(v))
		cw_strlcpy(c->nspath, json_string_value(v), sizeof(c->nspath));

	cg = json_object_get(st, "cgroup_paths");
	json_object_foreach(cg, k, v)
	{
		char *kp;

		if (!json_is_string(v))
			continue;
		kp = kernel_cgroup_path(a, k, json_string_value(v));
		if (!kp)
			continue;
		err = ctr_add_cgroup(c, kp);
		if (err)
			return err;
	}
	return 0;
}

/* crun's status file (its own format; the spec is copied next to it). */
static int parse_crun_status(struct cw_attrib *a, struct ctr *c, json_t *st, const char *file)
{
	json_t *v;
	char *kp;

	c->init_pid = (int)json_integer_value(json_object_get(st, "pid"));
	v = json_object_get(st, "process-start-time");
	c->init_start = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
	set_created(c, json_object_get(st, "created"), file);
	v = json_object_get(st, "bundle");
	if (json_is_string(v))
		cw_strlcpy(c->meta.bundle, json_string_value(v), sizeof(c->meta.bundle));
	v = json_object_get(st, "cgroup-path");
	if (json_is_string(v) && json_string_length(v)) {
		const char *s = json_string_value(v);

		if (s[0] != '/') {
			if (asprintf(&kp, "/%s", s) < 0)
				return -ENOMEM;
		} else {
			kp = kernel_cgroup_path(a, "", s);
			if (!kp)
				return -ENOMEM;
		}
		return ctr_add_cgroup(c, kp);
	}
	return 0;
}

/* Parse <root>/<id>/<file> into c (c->meta.id and c->root set by the caller). */
static void load_state(struct cw_attrib *a, struct ctr *c, const char *path, bool crun)
{
	json_error_t jerr;
	json_t *st;
	char *buf = NULL, cfgpath[PATH_MAX + 32];
	size_t len;
	int err;

	c->valid = false;
	err = cw_read_file(path, STATE_FILE_MAX, &buf, &len);
	if (err) {
		cw_warn("cannot read container state %s: %s; container %s has no metadata", path,
		        strerror(-err), c->meta.id);
		return;
	}
	st = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!json_is_object(st)) {
		/* runc rewrites state.json via rename, so this is not a torn write */
		cw_warn("container state %s is not a JSON object (line %d: %s); ignoring it", path,
		        jerr.line, jerr.text);
		json_decref(st);
		return;
	}
	err = crun ? parse_crun_status(a, c, st, path) : parse_runc_state(a, c, st, path);
	json_decref(st);
	if (err) {
		cw_warn("cannot load container state %s: %s", path, strerror(-err));
		return;
	}
	if (crun) {
		snprintf(cfgpath, sizeof(cfgpath), "%s", path);
		snprintf(strrchr(cfgpath, '/') + 1, 16, "config.json");
		apply_oci_config(&c->meta, cfgpath);
		rootfs_from_config(c, cfgpath);
	} else if (c->meta.bundle[0]) {
		snprintf(cfgpath, sizeof(cfgpath), "%s/config.json", c->meta.bundle);
		apply_oci_config(&c->meta, cfgpath);
	}
	if (!c->meta.runtime[0])
		cw_strlcpy(c->meta.runtime, runtime_of_root(a->roots[c->root]),
		           sizeof(c->meta.runtime));
	if (!c->meta.name[0])
		cw_strlcpy(c->meta.name, c->meta.id, sizeof(c->meta.name));
	c->valid = true;
}

/* Index one entry. An ended container never claims a pid namespace (the
 * kernel reuses its inode at once) nor a key a live container holds. */
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

static struct ctr *old_entry(struct cw_attrib *a, int root, const char *id)
{
	int idx = tab_get(&a->by_id, id, 0);

	if (idx >= 0)
		return a->ctrs[idx].root == root ? &a->ctrs[idx] : NULL;
	if (idx == IDX_AMBIGUOUS) /* the same id under several roots */
		for (size_t i = 0; i < a->nctrs; i++)
			if (a->ctrs[i].root == root && !strcmp(a->ctrs[i].meta.id, id))
				return &a->ctrs[i];
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
		bool crun = false;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(c->meta.id))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		snprintf(path, sizeof(path), "%s/%s/state.json", root, de->d_name);
		if (stat(path, &st) != 0) {
			snprintf(path, sizeof(path), "%s/%s/status", root, de->d_name);
			if (stat(path, &st) != 0)
				continue; /* not a container dir, or being created/deleted */
			crun = true;
		}
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
		if (old && same_file(old, &st)) {
			*c = *old; /* take ownership; old is marked moved */
			c->ended_ns = 0;
			memset(old, 0, sizeof(*old));
			old->root = -1;
		} else {
			memset(c, 0, sizeof(*c));
			c->root = ri;
			c->crun = crun;
			cw_strlcpy(c->meta.id, de->d_name, sizeof(c->meta.id));
			c->st_dev = st.st_dev;
			c->st_ino = st.st_ino;
			c->st_size = st.st_size;
			c->st_mtim = st.st_mtim;
			load_state(a, c, path, crun);
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
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/ns/pid", a->proc_root, who);
	a->host_pidns = cw_ns_inode(path);
	if (!a->host_pidns)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s/ns/mnt", a->proc_root, who);
	a->host_mntns = cw_ns_inode(path);
	if (!a->host_mntns)
		return -errno;
	return 0;
}

int cw_attrib_new(struct cw_attrib **out, const struct cw_attrib_opts *opts)
{
	const char *proc = opts && opts->proc_root ? opts->proc_root : "/proc";
	const char *roots = opts && opts->runtime_roots ? opts->runtime_roots : default_roots;
	struct cw_attrib *a;
	char *copy, *tok, *save = NULL;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->proc_root = strdup(proc);
	copy = strdup(roots);
	if (!a->proc_root || !copy) {
		free(copy);
		cw_attrib_free(a);
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		char **nr = realloc(a->roots, (a->nroots + 1) * sizeof(*nr));

		if (!nr || !(nr[a->nroots] = strdup(tok))) {
			if (nr)
				a->roots = nr;
			free(copy);
			cw_attrib_free(a);
			return -ENOMEM;
		}
		a->roots = nr;
		a->nroots++;
	}
	free(copy);
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
	load_mounts(a);
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
	free_mounts(a);
	for (size_t i = 0; i < a->nroots; i++)
		free(a->roots[i]);
	free(a->roots);
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
	load_mounts(a);
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
	snprintf(path, sizeof(path), "%s/%s/%s", a->roots[c->root], c->meta.id,
	         c->crun ? "status" : "state.json");
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
	key = q->ref_ok      ? (uint32_t)hash_str(ref->id) | 1u
	      : q->cgroup[0] ? (uint32_t)hash_str(q->cgroup) | 1u
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
	if (m->labels && !out->labels)
		cw_warn("container %s: out of memory copying labels", m->id);
	/* the cgroup layout is more specific than the state root's name */
	if (q->ref_ok && q->ref->runtime[0] && strcmp(q->ref->runtime, "runc") &&
	    !strcmp(m->runtime, runtime_of_root(a->roots[a->ctrs[idx].root])))
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
	idx = find(a, &q, &ref);
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
	if (out->in_container && ref.pod_uid[0] && !out->pod_uid[0])
		cw_strlcpy(out->pod_uid, ref.pod_uid, sizeof(out->pod_uid));
	return 0;
}
