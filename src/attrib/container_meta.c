/* container_meta.c - the container engines' own records of a container, read
 * when its runtime state is: what runc's state cannot say (the name the user
 * gave, image, image id, labels, where its log is, whether it was started
 * privileged). One table of engines; each finds its records from what the
 * runtime config names, so custom data roots need no configuration:
 *   docker      <container dir>/config.v2.json and hostconfig.json, the
 *               directory being where /etc/hostname is bound from;
 *   podman      <graph root>/libpod/bolt_state.db (bucket ctr/<id>/config),
 *               the graph root being above the bundle (overlay-containers);
 *   containerd  <root>/io.containerd.metadata.v1.bolt/meta.db (v1/<namespace>/
 *               containers/<id>), the namespace from the bundle path, the
 *               roots from cw_attrib_opts.containerd_roots.
 * These files are the host's, but the strings in them (names, labels) are
 * whoever created the container's: bounded and sanitized like annotations.
 */
#include "container.h"
#include "container_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bolt.h"
#include "settings.h"
#include "util.h"

#define ENGINE_FILE_MAX (16u << 20)
#define BOLT_FILE_MAX   (256u << 20)

static uint64_t meta_errors; /* engine records that could not be read */

uint64_t cw_attrib_metadata_errors(void)
{
	return __atomic_load_n(&meta_errors, __ATOMIC_RELAXED);
}

/* Count an engine record that exists but cannot be read; the first one of
 * each engine is a warning, the rest debug (one per container would flood). */
static void meta_failed(const char *engine, const char *id, const char *what, int err)
{
	static bool warned[3];
	int k = !strcmp(engine, "docker") ? 0 : !strcmp(engine, "podman") ? 1 : 2;

	__atomic_fetch_add(&meta_errors, 1, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&warned[k], true, __ATOMIC_RELAXED))
		cw_warn("container %s: cannot read %s's record %s: %s; its name, image and labels "
		        "may be missing (counted in stats: context.metadata_errors)",
		        id, engine, what, strerror(-err));
	else
		cw_debug("container %s: cannot read %s: %s", id, what, strerror(-err));
}

/* A Docker record of container id. NULL (counted) if unreadable. */
static json_t *load_json(const char *path, const char *id)
{
	char *buf = NULL;
	size_t len;
	json_t *j;
	int err = cw_read_file(path, ENGINE_FILE_MAX, &buf, &len);

	if (err) {
		meta_failed("docker", id, path, err);
		return NULL;
	}
	j = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (!json_is_object(j)) {
		meta_failed("docker", id, path, -EBADMSG);
		json_decref(j);
		return NULL;
	}
	return j;
}

static void set_str(char *dst, size_t size, const json_t *v)
{
	if (json_is_string(v) && json_string_length(v))
		cw_strlcpy(dst, json_string_value(v), size);
}

/* An image id as a digest: a bare 64-hex id gets its "sha256:". */
static void set_image_id(struct cw_container *m, const char *id)
{
	if (!id || !id[0])
		return;
	if (strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64)
		snprintf(m->image_id, sizeof(m->image_id), "sha256:%s", id);
	else
		cw_strlcpy(m->image_id, id, sizeof(m->image_id));
}

static void labels_from(struct cw_container *m, const json_t *labels)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)labels, k, v)
	{
		if (json_is_string(v))
			ctr_add_label(m, k, json_string_value(v));
	}
}

/* The source of the bind mount at dest in the runtime config, or NULL. */
static const char *mount_source(const json_t *oci, const char *dest)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(oci, "mounts"), i, m)
	{
		const char *d = json_string_value(json_object_get(m, "destination"));

		if (d && !strcmp(d, dest))
			return json_string_value(json_object_get(m, "source"));
	}
	return NULL;
}

/* ---- Docker --------------------------------------------------------------- */

static void docker_hostconfig(struct cw_container *m, const char *dir)
{
	char path[PATH_MAX + 32];
	json_t *hc, *lc;

	snprintf(path, sizeof(path), "%s/hostconfig.json", dir);
	if (!(hc = load_json(path, m->id)))
		return;
	if (!m->settings)
		m->settings = json_object();
	cw_settings_mark_privileged(m->settings, json_is_true(json_object_get(hc, "Privileged")),
	                            "docker");
	/* journald, syslog, none, local (binary): no lines on disk to read */
	lc = json_object_get(json_object_get(hc, "LogConfig"), "Type");
	if (json_is_string(lc) && strcmp(json_string_value(lc), "json-file")) {
		m->log_path[0] = '\0';
		m->log_format[0] = '\0';
	}
	json_decref(hc);
}

static void docker_meta(struct cw_attrib *a, struct ctr *c, const json_t *oci)
{
	struct cw_container *m = &c->meta;
	const char *hn = mount_source(oci, "/etc/hostname");
	char dir[PATH_MAX], path[PATH_MAX + 32], *slash;
	json_t *cfg, *conf, *name;

	(void)a;
	if (!hn || hn[0] != '/' || strlen(hn) >= sizeof(dir))
		return;
	cw_strlcpy(dir, hn, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	/* the container directory is named by the container's id */
	slash = strrchr(dir, '/');
	if (!slash || strcmp(slash + 1, m->id))
		return;
	snprintf(path, sizeof(path), "%s/config.v2.json", dir);
	if (!(cfg = load_json(path, m->id)))
		return;
	conf = json_object_get(cfg, "Config");
	name = json_object_get(cfg, "Name");
	if (json_is_string(name))
		cw_strlcpy(m->name, json_string_value(name) + (json_string_value(name)[0] == '/'),
		           sizeof(m->name));
	set_str(m->image, sizeof(m->image), json_object_get(conf, "Image"));
	set_image_id(m, json_string_value(json_object_get(cfg, "Image")));
	labels_from(m, json_object_get(conf, "Labels"));
	/* LogPath is filled in once the container started: the json-file
	 * driver's file is always <container dir>/<id>-json.log */
	set_str(m->log_path, sizeof(m->log_path), json_object_get(cfg, "LogPath"));
	if (!m->log_path[0] && snprintf(m->log_path, sizeof(m->log_path), "%s/%s-json.log", dir,
	                                m->id) >= (int)sizeof(m->log_path))
		m->log_path[0] = '\0';
	cw_strlcpy(m->log_format, "docker-json", sizeof(m->log_format));
	json_decref(cfg);
	docker_hostconfig(m, dir);
}

/* ---- podman ---------------------------------------------------------------- */

static void podman_config(struct cw_container *m, const json_t *cfg)
{
	const char *drv = json_string_value(json_object_get(cfg, "logDriver"));

	set_str(m->name, sizeof(m->name), json_object_get(cfg, "name"));
	set_str(m->image, sizeof(m->image), json_object_get(cfg, "rootfsImageName"));
	set_image_id(m, json_string_value(json_object_get(cfg, "rootfsImageID")));
	labels_from(m, json_object_get(cfg, "labels"));
	if (!drv || !strcmp(drv, "k8s-file")) {
		set_str(m->log_path, sizeof(m->log_path), json_object_get(cfg, "logPath"));
		if (m->log_path[0])
			cw_strlcpy(m->log_format, "cri", sizeof(m->log_format));
	}
	if (!m->settings)
		m->settings = json_object();
	cw_settings_mark_privileged(m->settings, json_is_true(json_object_get(cfg, "privileged")),
	                            "podman");
}

static void podman_meta(struct cw_attrib *a, struct ctr *c, const json_t *oci)
{
	struct cw_container *m = &c->meta;
	char graph[PATH_MAX], tail[PATH_MAX], db[PATH_MAX + 32];
	const char *const path[] = {"ctr", m->id};
	struct cw_bolt_bucket b;
	struct cw_bolt *bolt;
	const uint8_t *v;
	size_t vl, gl;
	json_t *cfg;
	int err;

	(void)a;
	(void)oci;
	snprintf(tail, sizeof(tail), "/overlay-containers/%s/userdata", m->id);
	gl = strlen(m->bundle);
	if (gl <= strlen(tail) || strcmp(m->bundle + gl - strlen(tail), tail))
		return;
	snprintf(graph, sizeof(graph), "%.*s", (int)(gl - strlen(tail)), m->bundle);
	snprintf(db, sizeof(db), "%s/libpod/bolt_state.db", graph);
	if ((err = cw_bolt_open(db, BOLT_FILE_MAX, &bolt))) {
		meta_failed("podman", m->id, db, err);
		return;
	}
	if (!(err = cw_bolt_bucket(bolt, path, 2, &b)) &&
	    !(err = cw_bolt_get(&b, "config", &v, &vl))) {
		cfg = json_loadb((const char *)v, vl, 0, NULL);
		if (json_is_object(cfg))
			podman_config(m, cfg);
		json_decref(cfg);
	}
	if (err == -EBADMSG)
		meta_failed("podman", m->id, db, err);
	else if (err)
		cw_debug("container %s: not in podman's database %s: %s", m->id, db,
		         strerror(-err));
	cw_bolt_close(bolt);
}

/* ---- containerd ------------------------------------------------------------ */

static int cd_label(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	char key[256], val[1025];

	if (kl >= sizeof(key) || vl >= sizeof(val))
		return 0;
	memcpy(key, k, kl);
	key[kl] = '\0';
	memcpy(val, v, vl);
	val[vl] = '\0';
	ctr_add_label(arg, key, val);
	return 0;
}

static void bolt_str(const struct cw_bolt_bucket *b, const char *key, char *dst, size_t size)
{
	const uint8_t *v;
	size_t vl;

	if (!cw_bolt_get(b, key, &v, &vl) && vl && vl < size) {
		memcpy(dst, v, vl);
		dst[vl] = '\0';
	}
}

/* Image and labels from one containerd metadata database. 0 if found. */
static int cd_lookup(struct cw_container *m, const char *db, const char *ns)
{
	const char *const cpath[] = {"v1", ns, "containers", m->id};
	struct cw_bolt_bucket b, lb;
	struct cw_bolt *bolt;
	char image[512] = "", digest[256] = "";
	int err;

	if ((err = cw_bolt_open(db, BOLT_FILE_MAX, &bolt)))
		return err;
	if (!(err = cw_bolt_bucket(bolt, cpath, 4, &b))) {
		bolt_str(&b, "image", image, sizeof(image));
		if (!cw_bolt_sub(&b, "labels", &lb))
			cw_bolt_each(&lb, cd_label, m);
		if (image[0]) {
			const char *const ipath[] = {"v1", ns, "images", image, "target"};

			if (!cw_bolt_bucket(bolt, ipath, 5, &b))
				bolt_str(&b, "digest", digest, sizeof(digest));
		}
		if (!m->image[0])
			cw_strlcpy(m->image, image, sizeof(m->image));
		if (!m->image_id[0])
			set_image_id(m, digest);
	}
	cw_bolt_close(bolt);
	return err;
}

static void containerd_meta(struct cw_attrib *a, struct ctr *c, const json_t *oci)
{
	struct cw_container *m = &c->meta;
	const char *marker = "/io.containerd.runtime.v2.task/", *p = strstr(m->bundle, marker);
	char ns[256], db[PATH_MAX + 64];
	size_t n;

	(void)oci;
	if (!p)
		return;
	p += strlen(marker);
	n = strcspn(p, "/");
	if (!n || n >= sizeof(ns) || strcmp(p + n + (p[n] == '/'), m->id))
		return;
	memcpy(ns, p, n);
	ns[n] = '\0';
	for (size_t i = 0; i < a->ncd_roots; i++) {
		int err;

		snprintf(db, sizeof(db), "%s/io.containerd.metadata.v1.bolt/meta.db",
		         a->cd_roots[i]);
		if (!(err = cd_lookup(m, db, ns)))
			return;
		if (err != -ENOENT)
			meta_failed("containerd", m->id, db, err);
	}
	cw_debug("container %s: not in containerd's metadata under the configured roots", m->id);
}

/* CRI (kubelet through containerd or CRI-O): the pod's log directory. */
static void cri_log(struct cw_container *m, const json_t *oci)
{
	const json_t *ann = json_object_get(oci, "annotations");
	const char *dir =
	    json_string_value(json_object_get(ann, "io.kubernetes.cri.sandbox-log-directory"));
	const char *path = json_string_value(json_object_get(ann, "io.kubernetes.cri-o.LogPath"));

	if (path && path[0] == '/')
		cw_strlcpy(m->log_path, path, sizeof(m->log_path));
	else if (dir && dir[0] == '/' && m->name[0] && !strchr(m->name, '/'))
		snprintf(m->log_path, sizeof(m->log_path), "%s/%s", dir, m->name);
	else
		return;
	cw_strlcpy(m->log_format, "cri", sizeof(m->log_format));
}

static const struct {
	const char *runtime;
	void (*read)(struct cw_attrib *a, struct ctr *c, const json_t *oci);
} engines[] = {
    {"docker", docker_meta},
    {"podman", podman_meta},
    {"containerd", containerd_meta},
};

void ctr_runtime_metadata(struct cw_attrib *a, struct ctr *c, const json_t *oci)
{
	c->meta.host = a->host;
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (!strcmp(c->meta.runtime, engines[i].runtime))
			engines[i].read(a, c, oci);
	if (!c->meta.log_path[0] && oci)
		cri_log(&c->meta, oci);
}
