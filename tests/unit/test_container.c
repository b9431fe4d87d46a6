/* test_container.c - container attribution: cw_attrib_* against runtime
 * state trees written in a mkdtemp dir
 * (runc state.json modelled on what runc 1.1 writes, crun status, OCI bundle
 * config.json annotations; the trees are tests/unit/fixture_container.c). A
 * fake proc root holds plain files for ns/pid and ns/mnt, whose inodes stand
 * in for namespace inodes. The last case starts a
 * real runc container (skipped only when not root and CI is unset). Cgroup
 * path parsing is tests/unit/test_cgroup.c.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "fixture_container.h"
#include "util.h"

static struct cw_attrib *new_attrib(void)
{
	struct cw_attrib *a = NULL;
	char roots[2048];
	char proc[1024];

	fx_build_tree();
	snprintf(proc, sizeof(proc), "%s", fx_at("proc"));
	snprintf(roots, sizeof(roots), "%s:%s:%s", fx_at("run/runc"),
	         fx_at("run/containerd/runc/k8s.io"), fx_at("run/does-not-exist"));
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){proc, roots}), 0);
	if (!a)
		exit(1);
	return a;
}

static int resolve(struct cw_attrib *a, uint32_t pidns, uint32_t mntns, const char *cg,
                   struct cw_container *out)
{
	struct fake_exec *f = fx_mk_exec(pidns, mntns, cg);
	int rc = cw_attrib_resolve(a, &f->ex, out);

	free(f);
	return rc;
}

TEST(test_attrib_host_namespaces)
{
	struct cw_attrib *a = new_attrib();
	struct cw_container c;

	CHECK_INT(cw_attrib_host_pidns(a), fx_host_pidns);
	CHECK_INT(cw_attrib_host_mntns(a), fx_host_mntns);
	CHECK(fx_host_pidns != 0 && fx_host_pidns != fx_host_mntns);

	/* host process */
	CHECK_INT(resolve(a, fx_host_pidns, fx_host_mntns, "/user.slice/session-1.scope", &c), 0);
	CHECK(!c.in_container);
	CHECK_STR(c.id, "");
	/* private mount ns (systemd PrivateTmp=) and a non-container cgroup */
	CHECK_INT(resolve(a, fx_host_pidns, 999999, "/system.slice/cron.service", &c), 0);
	CHECK(!c.in_container);
	/* host pid ns but mount ns differs and the cgroup is Docker's: --pid=host */
	CHECK_INT(resolve(a, fx_host_pidns, 999999, "/system.slice/docker-" ID_C ".scope", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, ID_C);
	CHECK_STR(c.runtime, "docker");
	CHECK_STR(c.name, ID_C);
	/* same mount ns as the host with a container cgroup: host process that
	 * happens to sit in a container's cgroup is still the host */
	CHECK_INT(resolve(a, fx_host_pidns, fx_host_mntns, "/docker/" ID_C, &c), 0);
	CHECK(!c.in_container);
	cw_container_clear(&c);
	cw_attrib_free(a);
}

TEST(test_attrib_containerd_pod)
{
	struct cw_attrib *a = new_attrib();
	struct cw_container c;
	char ts[32];

	CHECK_INT(cw_attrib_scan(a), 6);
	/* by pid namespace alone (cgroup says nothing) */
	CHECK_INT(resolve(a, fx_web_pidns, 1, "/", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, ID_A);
	CHECK_STR(c.runtime, "containerd");
	CHECK_STR(c.name, "web");
	CHECK_STR(c.image, "docker.io/library/nginx:1.27");
	CHECK_STR(c.pod_name, "web-7d4b9c-x2x9z");
	CHECK_STR(c.pod_namespace, "shop");
	CHECK_STR(c.pod_uid, "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8");
	CHECK_STR(c.bundle, fx_at("bundles/" ID_A));
	CHECK_INT(c.created_ns, 1795936189884150910LL);
	CHECK_STR(cw_rfc3339(c.created_ns, ts, sizeof(ts)), "2026-11-29T07:09:49.884Z");
	CHECK_STR(fx_label(&c, "org.opencontainers.image.source"), "https://example.org/web");
	CHECK(fx_label(&c, "io.kubernetes.cri.container-type") == NULL);
	CHECK(fx_label(&c, "bundle") == NULL);
	CHECK_INT(json_object_size(c.labels), 1);
	cw_container_clear(&c);
	CHECK(c.labels == NULL);

	/* by the cgroup path: unknown pid ns, kernel path of the cgroup2 dir */
	CHECK_INT(resolve(a, 424242, 1,
	                  "/kubepods/burstable/pod7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8/" ID_A, &c),
	          0);
	CHECK_STR(c.id, ID_A);
	CHECK_STR(c.name, "web");
	cw_container_clear(&c);
	cw_attrib_free(a);
}

TEST(test_attrib_crio)
{
	struct cw_attrib *a = new_attrib();
	struct cw_container c;
	char cg[512];

	CHECK_INT(cw_attrib_scan(a), 6);
	snprintf(cg, sizeof(cg),
	         "/kubepods.slice/kubepods-besteffort.slice/"
	         "kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice/crio-%s.scope",
	         ID_B);
	CHECK_INT(resolve(a, fx_crio_pidns, 1, cg, &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, ID_B);
	CHECK_STR(c.runtime, "cri-o");
	CHECK_STR(c.name, "api");
	CHECK_STR(c.pod_name, "api-0");
	CHECK_STR(c.pod_namespace, "backend");
	CHECK_STR(c.pod_uid, "11111111-2222-3333-4444-555555555555");
	CHECK_STR(c.image, "quay.io/acme/api:v2");
	CHECK_STR(c.image_id, "sha256:" ID_C);
	CHECK_STR(fx_label(&c, "app"), "api");
	CHECK(fx_label(&c, "io.kubernetes.cri-o.MountPoint") == NULL);
	CHECK_INT(c.created_ns, 1795935600LL * 1000000000LL); /* 08:00+01:00 = 07:00Z */
	cw_container_clear(&c);

	/* by its cgroup id alone, pid ns unknown */
	CHECK_INT(resolve(a, 434343, 1, cg, &c), 0);
	CHECK_STR(c.id, ID_B);
	CHECK_STR(c.name, "api");
	cw_container_clear(&c);
	cw_attrib_free(a);
}

TEST(test_attrib_rootless_and_arbitrary_names)
{
	struct cw_attrib *a = new_attrib();
	struct cw_container c;

	/* no cw_attrib_scan(): the first unknown pid ns triggers one */
	CHECK_INT(
	    resolve(a, fx_rootless_pidns, 77, "/user.slice/user-1000.slice/session-2.scope", &c),
	    0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "my-rootless");
	CHECK_STR(c.name, "my-rootless");
	CHECK_STR(c.runtime, "runc");
	CHECK_STR(fx_label(&c, "team"), "red");
	CHECK_STR(c.bundle, fx_at("bundles/my-rootless"));
	CHECK_INT(c.created_ns, 1767323045LL * 1000000000LL);
	cw_container_clear(&c);

	/* a runc container with an arbitrary name found by its cgroup (and a
	 * sub-cgroup of it); the pid ns is one we know nothing of */
	CHECK_INT(resolve(a, 515151, 1, "/bars/share-a/child", &c), 0);
	CHECK_STR(c.id, "share-a");
	cw_container_clear(&c);
	/* the v1 memory hierarchy is mounted with root "/outer" (mountinfo):
	 * state.json's /sys/fs/cgroup/memory/bars/share-a is /outer/bars/share-a */
	CHECK_INT(resolve(a, 515151, 1, "/outer/bars/share-a", &c), 0);
	CHECK_STR(c.id, "share-a");
	cw_container_clear(&c);
	/* no state names these: the cgroup's last component is the best id (runc
	 * and crun name a container's cgroup after it), never another container */
	CHECK_INT(resolve(a, 515151, 1, "/outer/bars", &c), 0);
	CHECK_STR(c.id, "bars");
	/* "/bars/share-aa" is not below "/bars/share-a" */
	CHECK_INT(resolve(a, 515151, 1, "/bars/share-aa", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "share-aa");
	cw_container_clear(&c);
	cw_attrib_free(a);
}

TEST(test_attrib_stale_and_shared)
{
	struct cw_attrib *a = new_attrib();
	struct cw_container c;

	CHECK_INT(cw_attrib_scan(a), 6);
	/* the pid now runs something else: its pid ns is not the container's */
	CHECK_INT(resolve(a, fx_stale_pidns, 1, "/", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "");
	/* but the cgroup still identifies it */
	CHECK_INT(resolve(a, fx_stale_pidns, 1, "/bars/stopped-one", &c), 0);
	CHECK_STR(c.id, "stopped-one");
	cw_container_clear(&c);

	/* a pid ns shared by two containers says nothing; the cgroup decides */
	CHECK_INT(resolve(a, fx_shared_pidns, 1, "/", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "");
	CHECK_INT(resolve(a, fx_shared_pidns, 1, "/bars/share-b", &c), 0);
	CHECK_STR(c.id, "share-b");
	cw_container_clear(&c);

	/* pid ns says container A, the cgroup names another: the cgroup wins */
	CHECK_INT(resolve(a, fx_web_pidns, 1, "/system.slice/crio-" ID_B ".scope", &c), 0);
	CHECK_STR(c.id, ID_B);
	CHECK_STR(c.name, "api");
	cw_container_clear(&c);
	cw_attrib_free(a);
}

/* The kernel hands a freed namespace's inode to the next container at once:
 * containers started one after another share a pid namespace inode. Each exec
 * must still name its own container, a late exec of an ended one too, and a
 * hostPID container (host pid ns, own mount ns) is a container. */
TEST(test_attrib_reused_namespace)
{
	struct cw_attrib *a = new_attrib();
	struct cw_container c;
	char p1[PATH_MAX], p2[PATH_MAX];
	uint32_t ns;

	CHECK_INT(cw_attrib_scan(a), 6);
	ns = fx_fake_proc(8100, 5, NULL);
	fx_put_runc(&(struct runc_fixture){.root = "run/runc",
	                                   .id = "seq-one",
	                                   .pid = 8100,
	                                   .start = 5,
	                                   .created = "2026-11-29T09:00:00Z",
	                                   .cgroup_name = "cw-seq/seq-one"});
	CHECK_INT(resolve(a, ns, 1, "/cw-seq/seq-one", &c), 0);
	CHECK_STR(c.id, "seq-one");
	cw_container_clear(&c);

	fx_rm_rf(fx_at("run/runc/seq-one"));
	fx_fake_proc(8101, 6, NULL);
	snprintf(p1, sizeof(p1), "%s", fx_at("proc/8100/ns/pid"));
	snprintf(p2, sizeof(p2), "%s", fx_at("proc/8101/ns/pid"));
	CHECK(unlink(p2) == 0 && link(p1, p2) == 0); /* same inode: reused */
	fx_put_runc(&(struct runc_fixture){.root = "run/runc",
	                                   .id = "seq-two",
	                                   .pid = 8101,
	                                   .start = 6,
	                                   .created = "2026-11-29T09:00:01Z",
	                                   .cgroup_name = "cw-seq/seq-two"});
	CHECK_INT(resolve(a, ns, 1, "/cw-seq/seq-two", &c), 0);
	CHECK_STR(c.id, "seq-two");
	cw_container_clear(&c);
	/* the pid namespace alone, with a cgroup that is not the container's */
	CHECK_INT(resolve(a, ns, 1, "/cw-seq/other", &c), 0);
	CHECK_STR(c.id, "other");
	cw_container_clear(&c);
	/* an exec of seq-one read after its state file went away */
	CHECK_INT(resolve(a, ns, 1, "/cw-seq/seq-one", &c), 0);
	CHECK_STR(c.id, "seq-one");
	CHECK_INT(c.init_pid, 0);
	cw_container_clear(&c);
	/* ...and its root filesystem is still held, to read its scripts */
	{
		int fd = cw_attrib_rootfs(a, "seq-one");

		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
		CHECK_INT(cw_attrib_rootfs(a, "no-such"), -ENOENT);
	}
	/* hostPID: the host's pid namespace, its own mount namespace */
	CHECK_INT(resolve(a, fx_host_pidns, 999999, "/cw-seq/seq-two", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "seq-two");
	cw_container_clear(&c);
	cw_attrib_free(a);
}

TEST(test_attrib_new_container_and_changes)
{
	struct cw_attrib *a = new_attrib();
	struct cw_container c;
	uint32_t late;

	CHECK_INT(cw_attrib_scan(a), 6);
	/* a container started after the scan is found on its first exec */
	late = fx_fake_proc(8000, 1, NULL);
	fx_put_runc(&(struct runc_fixture){.root = "run/runc",
	                                   .id = "late-comer",
	                                   .pid = 8000,
	                                   .start = 1,
	                                   .created = "2026-11-29T09:00:00.5Z",
	                                   .labels = {"io.kubernetes.container.name=late", NULL},
	                                   .cgroup_name = "bars/late-comer"});
	CHECK_INT(resolve(a, late, 1, "/", &c), 0);
	CHECK_STR(c.id, "late-comer");
	CHECK_STR(c.name, "late");
	CHECK_INT(c.created_ns, 1795942800LL * 1000000000LL + 500000000LL);
	cw_container_clear(&c);

	/* its state changes (metadata rewritten): a rescan picks that up */
	fx_put_runc(
	    &(struct runc_fixture){.root = "run/runc",
	                           .id = "late-comer",
	                           .pid = 8000,
	                           .start = 1,
	                           .created = "2026-11-29T09:00:00.5Z",
	                           .labels = {"io.kubernetes.container.name=renamed-later", NULL},
	                           .cgroup_name = "bars/late-comer"});
	CHECK_INT(cw_attrib_scan(a), 7);
	CHECK_INT(resolve(a, late, 1, "/", &c), 0);
	CHECK_STR(c.name, "renamed-later");
	cw_container_clear(&c);

	/* it goes away: the next scan forgets it */
	fx_rm_rf(fx_at("run/runc/late-comer"));
	CHECK_INT(cw_attrib_scan(a), 6);
	CHECK_INT(resolve(a, late, 1, "/", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "");
	cw_container_clear(&c);
	cw_attrib_free(a);
}

TEST(test_attrib_crun_status)
{
	struct cw_attrib *a = new_attrib();
	struct cw_container c;
	uint32_t pidns = fx_fake_proc(9000, 42, NULL);
	char status[1024];

	/* crun keeps its own status file and a copy of the spec */
	snprintf(status, sizeof(status),
	         "{\n    \"pid\": 9000,\n    \"process-start-time\": 42,\n"
	         "    \"cgroup-path\": \"/crunbox\",\n    \"scope\": \"\",\n"
	         "    \"rootfs\": \"rootfs\",\n    \"systemd-cgroup\": false,\n"
	         "    \"bundle\": \"/srv/bundles/crunbox\",\n"
	         "    \"created\": \"2026-11-29T07:00:05.000293421Z\",\n"
	         "    \"owner\": \"root\",\n    \"detached\": true,\n"
	         "    \"external_descriptors\": \"[\\\"/dev/null\\\"]\"\n}\n");
	fx_put_file("run/crun/crunbox/status", status);
	fx_put_file(
	    "run/crun/crunbox/config.json",
	    "{\"ociVersion\":\"1.0.0\",\"annotations\":{\"io.container.manager\":\"libpod\","
	    "\"org.opencontainers.image.ref.name\":\"alpine\",\"com.example.tier\":\"db\"}}");
	cw_attrib_free(a);
	{
		char roots[1024];

		snprintf(roots, sizeof(roots), "%s", fx_at("run/crun"));
		CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){fx_at("proc"), roots}), 0);
	}
	CHECK_INT(cw_attrib_scan(a), 1);
	CHECK_INT(resolve(a, pidns, 1, "/", &c), 0);
	CHECK_STR(c.id, "crunbox");
	CHECK_STR(c.runtime, "podman");
	CHECK_STR(c.bundle, "/srv/bundles/crunbox");
	CHECK_STR(c.image, "alpine");
	CHECK_STR(fx_label(&c, "com.example.tier"), "db");
	CHECK_INT(c.created_ns, 1795935605000293421LL);
	cw_container_clear(&c);
	CHECK_INT(resolve(a, 616161, 1, "/crunbox", &c), 0);
	CHECK_STR(c.id, "crunbox");
	cw_container_clear(&c);
	cw_attrib_free(a);
}

/* crun writes its status before its copy of the spec: a container seen in
 * between gets its metadata once the copy is there (a bug: name only, for
 * good, when the first exec came first). */
TEST(test_attrib_crun_config_late)
{
	struct cw_attrib *a = new_attrib(); /* the fake /proc's host */
	struct cw_container c;
	uint32_t pidns = fx_fake_proc(9100, 43, NULL);
	char roots[1024];

	cw_attrib_free(a);

	fx_put_file("run/crun2/late/status", "{\"pid\": 9100, \"process-start-time\": 43, "
	                                     "\"cgroup-path\": \"/late\", \"bundle\": \"/b\"}");
	snprintf(roots, sizeof(roots), "%s", fx_at("run/crun2"));
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){fx_at("proc"), roots}), 0);
	CHECK_INT(cw_attrib_scan(a), 1);
	CHECK_INT(resolve(a, pidns, 1, "/late", &c), 0);
	CHECK_STR(c.id, "late");
	CHECK_STR(c.image, "");
	cw_container_clear(&c);
	fx_put_file("run/crun2/late/config.json",
	            "{\"annotations\":{\"org.opencontainers.image.ref.name\":\"example/late:1\"}}");
	CHECK_INT(resolve(a, pidns, 1, "/late", &c), 0);
	CHECK_STR(c.image, "example/late:1");
	cw_container_clear(&c);
	cw_attrib_free(a);
}

static void *late_status(void *arg)
{
	(void)arg;
	usleep(100000);
	fx_put_file("run/crun3/slow/status", "{\"pid\": 9200, \"process-start-time\": 44, "
	                                     "\"cgroup-path\": \"/slowcg\", \"bundle\": \"/b\"}");
	fx_put_file("run/crun3/slow/config.json",
	            "{\"annotations\":{\"org.opencontainers.image.ref.name\":\"example/slow:1\"}}");
	return NULL;
}

/* crun writes its status after starting the container's process: an exec of
 * that process attributed before it is there waits for it (up to 300 ms
 * after the exec) instead of reporting the container by its cgroup alone (a
 * bug: test_context's ctx-crun-priv had its name only). */
TEST(test_attrib_state_after_exec)
{
	struct cw_attrib *a = new_attrib(); /* the fake /proc's host */
	uint32_t pidns = fx_fake_proc(9200, 44, NULL);
	struct fake_exec *f = fx_mk_exec(pidns, 1, "/slowcg");
	struct cw_container c;
	char roots[1024];
	pthread_t th;

	cw_attrib_free(a);
	fx_put_file_dir("run/crun3/x");
	snprintf(roots, sizeof(roots), "%s", fx_at("run/crun3"));
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){fx_at("proc"), roots}), 0);
	CHECK_INT(cw_attrib_scan(a), 0);
	f->ex.time_ns = cw_now_ns();
	CHECK_INT(pthread_create(&th, NULL, late_status, NULL), 0);
	CHECK_INT(cw_attrib_resolve(a, &f->ex, &c), 0);
	pthread_join(th, NULL);
	CHECK_STR(c.id, "slow");
	CHECK_STR(c.image, "example/slow:1");
	cw_container_clear(&c);
	cw_attrib_free(a);
	free(f);
}

TEST(test_attrib_errors)
{
	struct cw_attrib *a = NULL;
	struct cw_container c;
	struct fake_exec *f;

	fx_build_tree();
	/* no host namespaces to read: a clear error, nothing allocated */
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){fx_at("run"), fx_at("run/runc")}),
	          -ENOENT);
	CHECK(a == NULL);
	CHECK_INT(cw_attrib_new(NULL, NULL), -EINVAL);

	/* pid 1 unreadable: the agent's own namespaces stand in (with a warning) */
	{
		uint32_t self_pid = fx_put_file("proc-self-only/self/ns/pid", "");
		uint32_t self_mnt = fx_put_file("proc-self-only/self/ns/mnt", "");

		CHECK_INT(
		    cw_attrib_new(&a, &(struct cw_attrib_opts){fx_at("proc-self-only"), NULL}), 0);
		CHECK_INT(cw_attrib_host_pidns(a), self_pid);
		CHECK_INT(cw_attrib_host_mntns(a), self_mnt);
		cw_attrib_free(a);
	}

	a = new_attrib();
	CHECK_INT(cw_attrib_resolve(a, NULL, &c), -EINVAL);
	CHECK_INT(cw_attrib_scan(NULL), -EINVAL);
	/* an exec without a raw event: only the cgroup can say anything, and
	 * without namespaces it cannot say "container" */
	f = fx_mk_exec(0, 0, "/docker/" ID_C);
	f->ex.ev = NULL;
	CHECK_INT(cw_attrib_resolve(a, &f->ex, &c), 0);
	CHECK(!c.in_container);
	/* a malformed cgroup path does not stop pid ns attribution */
	cw_strlcpy(f->ex.cgroup, "garbage\x01", sizeof(f->ex.cgroup));
	f->ex.ev = &f->ev;
	f->ev.pidns = fx_web_pidns;
	CHECK_INT(cw_attrib_resolve(a, &f->ex, &c), 0);
	CHECK_STR(c.id, ID_A);
	cw_container_clear(&c);
	free(f);
	cw_container_clear(NULL);
	cw_attrib_free(NULL);
	cw_attrib_free(a);
}

TEST(test_attrib_real_proc)
{
	struct cw_attrib *a = NULL;
	struct cw_container c;
	struct stat st;
	const char *who;
	char p[64];

	fx_ensure_dir();
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){NULL, fx_at("none")}), 0);
	if (!a)
		return;
	/* pid 1's namespaces, or (where pid 1 is shielded) the agent's own */
	who = stat("/proc/1/ns/pid", &st) == 0 ? "1" : "self";
	snprintf(p, sizeof(p), "/proc/%s/ns/pid", who);
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(cw_attrib_host_pidns(a), (uint32_t)st.st_ino);
	snprintf(p, sizeof(p), "/proc/%s/ns/mnt", who);
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(cw_attrib_host_mntns(a), (uint32_t)st.st_ino);
	CHECK_INT(cw_attrib_scan(a), 0);
	CHECK_INT(resolve(a, cw_attrib_host_pidns(a), cw_attrib_host_mntns(a), "/", &c), 0);
	CHECK(!c.in_container);
	CHECK_INT(resolve(a, cw_attrib_host_pidns(a) + 1, cw_attrib_host_mntns(a), "/", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "");
	cw_attrib_free(a);
}

/* ---------------------------------------------------------------------- */
/* a real runc container                                                   */

static int run_cmd(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int read_cmd_json(const char *cmd, json_t **out)
{
	char *buf = NULL;
	size_t cap = 0, len = 0, n;
	char chunk[4096];
	FILE *p = popen(cmd, "r");
	json_error_t jerr;

	if (!p)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
			if (!buf)
				exit(2);
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	pclose(p);
	*out = buf ? json_loadb(buf, len, 0, &jerr) : NULL;
	free(buf);
	return *out ? 0 : -1;
}

TEST(test_attrib_real_runc)
{
	const char *ci = getenv("CI");
	bool must = ci && !strcmp(ci, "true");
	char bundle[256], state[256], cmd[8192], id[64], path[512], line[1024];
	char cg2[1024] = "", ts[32];
	struct cw_attrib *a = NULL;
	struct cw_container c;
	json_t *js = NULL, *spec, *proc;
	json_error_t jerr;
	struct stat st;
	uint32_t pidns;
	FILE *f;
	int pid;

	if (geteuid() != 0 && !must) {
		printf("# skip test_attrib_real_runc: needs root (set CI=true to require it)\n");
		return;
	}
	if (run_cmd("command -v runc >/dev/null 2>&1") != 0 || access("/bin/busybox", X_OK) != 0) {
		printf("# test_attrib_real_runc: runc and busybox-static are needed\n");
		CHECK(!must);
		return;
	}
	fx_ensure_dir();
	snprintf(bundle, sizeof(bundle), "%s/realbundle", fx_dir);
	snprintf(state, sizeof(state), "%s/realstate", fx_dir);
	snprintf(id, sizeof(id), "cwtest-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd),
	         "set -e; mkdir -p '%s/rootfs/bin' '%s'; cp /bin/busybox '%s/rootfs/bin/'; "
	         "cd '%s'; runc spec",
	         bundle, state, bundle, bundle);
	CHECK_INT(run_cmd(cmd), 0);
	/* the spec runc wrote, made non-interactive and annotated */
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	spec = json_load_file(path, 0, &jerr);
	CHECK(spec != NULL);
	if (!spec)
		return;
	proc = json_object_get(spec, "process");
	json_object_set_new(proc, "terminal", json_false());
	json_object_set_new(proc, "args", json_pack("[sss]", "/bin/busybox", "sleep", "60"));
	json_object_set_new(spec, "annotations",
	                    json_pack("{ssss}", "io.kubernetes.cri.container-name", "real-web",
	                              "com.example.env", "lab"));
	CHECK_INT(json_dump_file(spec, path, JSON_INDENT(2)), 0);
	json_decref(spec);
	snprintf(cmd, sizeof(cmd),
	         "runc --root '%s' run -d --bundle '%s' '%s' </dev/null >'%s/runc.log' 2>&1", state,
	         bundle, id, fx_dir);
	if (run_cmd(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "cat '%s/runc.log' >&2", fx_dir);
		run_cmd(cmd);
		CHECK(!"runc run -d failed");
		return;
	}
	snprintf(cmd, sizeof(cmd), "runc --root '%s' state '%s'", state, id);
	CHECK_INT(read_cmd_json(cmd, &js), 0);
	pid = (int)json_integer_value(json_object_get(js, "pid"));
	CHECK(pid > 0);
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	CHECK_INT(stat(path, &st), 0);
	pidns = (uint32_t)st.st_ino;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "0::", 3))
			cw_strlcpy(cg2, line + 3, sizeof(cg2));
	}
	if (f)
		fclose(f);

	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){NULL, state}), 0);
	if (a) {
		CHECK_INT(cw_attrib_scan(a), 1);
		CHECK(pidns != cw_attrib_host_pidns(a));
		/* by pid ns, with a cgroup path that names nothing */
		CHECK_INT(resolve(a, pidns, 1, "/", &c), 0);
		CHECK(c.in_container);
		CHECK_STR(c.id, id);
		CHECK_STR(c.name, "real-web");
		CHECK_STR(c.runtime, "runc");
		CHECK_STR(c.bundle, bundle);
		CHECK_STR(fx_label(&c, "com.example.env"), "lab");
		CHECK(c.created_ns > 0);
		cw_rfc3339(c.created_ns, ts, sizeof(ts));
		CHECK(!strncmp(ts, json_string_value(json_object_get(js, "created")), 23));
		cw_container_clear(&c);
		/* by the real cgroup2 path (converted through the real mountinfo) */
		if (cg2[0] && strcmp(cg2, "/")) {
			CHECK_INT(resolve(a, 717171, 1, cg2, &c), 0);
			CHECK_STR(c.id, id);
			cw_container_clear(&c);
		}
		cw_attrib_free(a);
	}
	json_decref(js);
	snprintf(cmd, sizeof(cmd), "runc --root '%s' delete -f '%s' >/dev/null 2>&1", state, id);
	CHECK_INT(run_cmd(cmd), 0);
}

static const struct cw_test tests[] = {
    {"attrib_host_namespaces", test_attrib_host_namespaces},
    {"attrib_containerd_pod", test_attrib_containerd_pod},
    {"attrib_crio", test_attrib_crio},
    {"attrib_rootless_and_arbitrary_names", test_attrib_rootless_and_arbitrary_names},
    {"attrib_stale_and_shared", test_attrib_stale_and_shared},
    {"attrib_new_container_and_changes", test_attrib_new_container_and_changes},
    {"attrib_reused_namespace", test_attrib_reused_namespace},
    {"attrib_crun_status", test_attrib_crun_status},
    {"attrib_crun_config_late", test_attrib_crun_config_late},
    {"attrib_state_after_exec", test_attrib_state_after_exec},
    {"attrib_errors", test_attrib_errors},
    {"attrib_real_proc", test_attrib_real_proc},
    {"attrib_real_runc", test_attrib_real_runc},
};

CW_TEST_MAIN(tests)
