/* container_state.c - what the runtimes' state says about a container: the
 * state file (runc state.json, crun status), the bundle's or the copied
 * config.json annotations (CRI names, image, pod), cgroup paths converted to
 * hierarchy paths through the cgroup mounts, the held root filesystem. */
#include "container.h"
#include "container_int.h"

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

void cw_container_clear(struct cw_container *c)
{
	if (!c)
		return;
	json_decref(c->labels);
	json_decref(c->settings);
	memset(c, 0, sizeof(*c));
}

void ctr_free(struct ctr *c)
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

void ctr_free_mounts(struct cw_attrib *a)
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
void ctr_load_mounts(struct cw_attrib *a)
{
	char path[PATH_MAX], *buf = NULL, *line, *save = NULL;
	int err;

	ctr_free_mounts(a);
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

/* Start time (clock ticks since boot) of a process, 0 if unknown. */
static uint64_t proc_start_time(const char *proc_root, int pid)
{
	uint64_t v = 0;

	return cw_proc_stat_start(proc_root, pid, &v, NULL, 0) ? 0 : v;
}

/* Find the container's pid namespace now (its init may have gone). */
void ctr_refresh_pidns(const struct cw_attrib *a, struct ctr *c)
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
	    "org.systemd.property.", "io.podman.annotations.", "io.containerd.",
	};

	/* the stop signal every image has: set by the engines, not the user */
	if (!strcmp(k, "bundle") || !strcmp(k, "org.opencontainers.image.stopSignal"))
		return true;
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (has_prefix(k, pfx[i]))
			return true;
	return false;
}

void ctr_add_label(struct cw_container *m, const char *k, const char *v)
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
	if (!strcmp(k, "org.opencontainers.image.ref.name")) { /* the image, not a label */
		if (!m->image[0])
			cw_strlcpy(m->image, v, sizeof(m->image));
		return;
	}
	ctr_add_label(m, k, v);
}

/* An OCI config.json: apply its annotations and keep its settings. Returns
 * the parsed config (the caller's reference) or NULL; a missing file is fine. */
static json_t *apply_oci_config(struct cw_container *m, const char *path)
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
		return NULL;
	}
	cfg = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!json_is_object(cfg)) {
		cw_warn("container %s: %s is not a JSON object (line %d: %s); annotations ignored",
		        m->id, path, jerr.line, jerr.text);
		json_decref(cfg);
		return NULL;
	}
	ann = json_object_get(cfg, "annotations");
	json_object_foreach(ann, k, v)
	{
		if (json_is_string(v))
			apply_annotation(m, k, json_string_value(v));
	}
	json_decref(m->settings);
	m->settings = cw_settings_from_oci(cfg);
	return cfg;
}

/* Runtime that owns a state root, from its path components
 * (/run/docker/runtime-runc/moby, /run/containerd/runc/k8s.io, /run/crun). */
const char *ctr_runtime_of_root(const char *root)
{
	const char *rt = "runc";

	while (*root) {
		size_t n = strcspn(root, "/");

		if (ctr_comp_is(root, n, "docker") || ctr_comp_is(root, n, "moby"))
			return "docker";
		if (ctr_comp_is(root, n, "containerd"))
			rt = "containerd";
		else if (ctr_comp_is(root, n, "crun") && strcmp(rt, "containerd"))
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

/* Hold the container's root filesystem. Through its init's /proc/PID/root
 * when the init is known: that is the root mount in the container's own
 * mount namespace, and holding it never keeps the host's mount of it busy
 * (containerd unmounts a task's overlay rootfs without MNT_DETACH, and a
 * held descriptor on the host's mount would make the task's deletion fail).
 * Else the host path the runtime wrote, unless it is a mount point. */
static void hold_rootfs(const struct cw_attrib *a, struct ctr *c, const char *path)
{
	char p[PATH_MAX + 16];
	struct stat st, up;
	int fd;

	if (c->rootfs_fd1 > 0)
		return;
	if (c->init_pid > 0) {
		snprintf(p, sizeof(p), "%s/%d/root", a->proc_root, c->init_pid);
		fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && (!c->init_start ||
		                proc_start_time(a->proc_root, c->init_pid) == c->init_start)) {
			c->rootfs_fd1 = fd + 1;
			return;
		}
		if (fd >= 0)
			close(fd);
	}
	if (!path || path[0] != '/' || snprintf(p, sizeof(p), "%s/..", path) >= (int)sizeof(p) ||
	    stat(path, &st) || stat(p, &up) || st.st_dev != up.st_dev)
		return; /* a mount of its own (overlay): not held from the host side */
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		c->rootfs_fd1 = fd + 1;
}

/* crun: root.path of the config copy, relative to the bundle unless absolute. */
static void rootfs_from_config(const struct cw_attrib *a, struct ctr *c, const json_t *cfg)
{
	const char *rp = json_string_value(json_object_get(json_object_get(cfg, "root"), "path"));
	char full[PATH_MAX * 2];

	if (rp && rp[0] == '/')
		hold_rootfs(a, c, rp);
	else if (rp && c->meta.bundle[0] &&
	         snprintf(full, sizeof(full), "%s/%s", c->meta.bundle, rp) < (int)sizeof(full))
		hold_rootfs(a, c, full);
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
	v = json_object_get(st, "init_process_start");
	c->init_start = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
	hold_rootfs(a, c, json_string_value(json_object_get(cfg, "rootfs")));
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

#define CFG_RETRY_NS (5 * 1000000000LL)

/* Parse <root>/<id>/<file> into c (c->meta.id and c->root set by the caller). */
void ctr_load_state(struct cw_attrib *a, struct ctr *c, const char *path)
{
	json_error_t jerr;
	json_t *st, *oci = NULL;
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
	err = c->rt->parse(a, c, st, path);
	json_decref(st);
	if (err) {
		cw_warn("cannot load container state %s: %s", path, strerror(-err));
		return;
	}
	if (c->rt->config_copy) {
		snprintf(cfgpath, sizeof(cfgpath), "%s", path);
		snprintf(strrchr(cfgpath, '/') + 1, 16, "config.json");
		oci = apply_oci_config(&c->meta, cfgpath);
		rootfs_from_config(a, c, oci);
		/* a container being created: its config copy may follow its status */
		c->cfg_retry_ns = oci ? 0 : cw_mono_ns() + CFG_RETRY_NS;
	} else if (c->meta.bundle[0]) {
		snprintf(cfgpath, sizeof(cfgpath), "%s/config.json", c->meta.bundle);
		oci = apply_oci_config(&c->meta, cfgpath);
	}
	if (!c->meta.runtime[0])
		cw_strlcpy(c->meta.runtime, ctr_runtime_of_root(a->roots[c->root]),
		           sizeof(c->meta.runtime));
	ctr_runtime_metadata(a, c, oci);
	json_decref(oci);
	if (!c->meta.name[0])
		cw_strlcpy(c->meta.name, c->meta.id, sizeof(c->meta.name));
	c->valid = true;
}

/* Index one entry. An ended container never claims a pid namespace (the
 * kernel reuses its inode at once) nor a key a live container holds. */

static const char *runc_rootfs(json_t *st)
{
	return json_string_value(json_object_get(json_object_get(st, "config"), "rootfs"));
}

static const char *crun_rootfs(json_t *st)
{
	(void)st;
	return NULL; /* in the config.json copy beside it: read at load time */
}

const struct ctr_runtime ctr_runtimes[] = {
    {"runc", "state.json",
     "/run/runc:/run/containerd/runc/k8s.io:/run/containerd/runc/default:"
     "/run/docker/runtime-runc/moby",
     false, parse_runc_state, runc_rootfs},
    {"crun", "status", "/run/crun", true, parse_crun_status, crun_rootfs},
};
const size_t ctr_n_runtimes = sizeof(ctr_runtimes) / sizeof(ctr_runtimes[0]);

const char *cw_runtime_default_roots(void)
{
	static char roots[1024];

	if (!roots[0])
		for (size_t i = 0; i < ctr_n_runtimes; i++)
			snprintf(roots + strlen(roots), sizeof(roots) - strlen(roots), "%s%s",
			         roots[0] ? ":" : "", ctr_runtimes[i].roots);
	return roots;
}

/* Does the state file at sp name a root filesystem holding path? */
static bool state_holds(const struct ctr_runtime *rt, const char *sp, const char *path,
                        char *rootfs, size_t rsz)
{
	json_t *st = json_load_file(sp, 0, NULL);
	const char *rf = st ? rt->rootfs(st) : NULL;
	size_t rl = rf ? strlen(rf) : 0;
	bool yes = rl > 1 && !strncmp(path, rf, rl) && (path[rl] == '/' || !path[rl]);

	if (yes)
		snprintf(rootfs, rsz, "%s", rf);
	json_decref(st);
	return yes;
}

/* One state root: the container whose root filesystem holds path. */
static bool root_holds(const struct ctr_runtime *rt, const char *root, const char *path, char *id,
                       size_t idsz, char *rootfs, size_t rsz)
{
	DIR *d = opendir(root);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char sp[4200];

		if (de->d_name[0] == '.')
			continue;
		snprintf(sp, sizeof(sp), "%s/%s/%s", root, de->d_name, rt->state_file);
		if ((found = state_holds(rt, sp, path, rootfs, rsz)))
			snprintf(id, idsz, "%s", de->d_name);
	}
	closedir(d);
	return found;
}

int cw_runtime_rootfs_of(const char *path, char *id, size_t idsz, char *rootfs, size_t rsz)
{
	for (size_t i = 0; i < ctr_n_runtimes; i++) {
		char roots[1024], *save = NULL;

		snprintf(roots, sizeof(roots), "%s", ctr_runtimes[i].roots);
		for (char *r = strtok_r(roots, ":", &save); r; r = strtok_r(NULL, ":", &save))
			if (root_holds(&ctr_runtimes[i], r, path, id, idsz, rootfs, rsz))
				return 1;
	}
	return 0;
}
