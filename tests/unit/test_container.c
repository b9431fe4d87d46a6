/* test_container.c - container attribution: cgroup path parsing for every
 * runtime layout (cgroup v1 lines, v2, systemd and cgroupfs drivers, malformed
 * input), and cw_attrib_* against runtime state trees written in a mkdtemp dir
 * (runc state.json modelled on what runc 1.1 writes, crun status, OCI bundle
 * config.json annotations). A fake proc root holds plain files for ns/pid and
 * ns/mnt, whose inodes stand in for namespace inodes. The last case starts a
 * real runc container (skipped only when not root and CI is unset).
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "util.h"

#define ID_A "4e5c9a8f1b2d3c4e5f60718293a4b5c6d7e8f90112233445566778899aabbccd"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_C "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* ---------------------------------------------------------------------- */
/* cgroup parsing                                                          */

struct cg_case {
	const char *path;
	int rc;
	const char *runtime, *id, *pod_uid, *qos;
	int kubernetes;
};

static const struct cg_case cg_cases[] = {
    /* containerd, cgroupfs driver (v1 and v2 look the same) */
    {"/kubepods/burstable/pod7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8/" ID_A, 0, "", ID_A,
     "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8", "burstable", 1},
    {"/kubepods/besteffort/pod7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8/" ID_A, 0, "", ID_A,
     "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8", "besteffort", 1},
    {"/kubepods/pod7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8/" ID_A, 0, "", ID_A,
     "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8", "guaranteed", 1},
    /* containerd, systemd driver */
    {"/kubepods.slice/kubepods-burstable.slice/"
     "kubepods-burstable-pod7f3b2c1a_9d8e_4f6a_b5c4_d3e2f1a0b9c8.slice/cri-containerd-" ID_A
     ".scope",
     0, "containerd", ID_A, "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8", "burstable", 1},
    {"/kubepods.slice/kubepods-pod7f3b2c1a_9d8e_4f6a_b5c4_d3e2f1a0b9c8.slice/cri-containerd-" ID_A
     ".scope",
     0, "containerd", ID_A, "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8", "guaranteed", 1},
    {"/kubepods.slice/kubepods-besteffort.slice/"
     "kubepods-besteffort-pod7f3b2c1a_9d8e_4f6a_b5c4_d3e2f1a0b9c8.slice/cri-containerd-" ID_A
     ".scope",
     0, "containerd", ID_A, "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8", "besteffort", 1},
    /* systemd cgroupsPath left literal under containerd.service */
    {"/system.slice/containerd.service/"
     "kubepods-burstable-pod7f3b2c1a_9d8e_4f6a_b5c4_d3e2f1a0b9c8.slice:cri-containerd:" ID_A,
     0, "containerd", ID_A, "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8", "burstable", 1},
    /* CRI-O */
    {"/kubepods.slice/kubepods-besteffort.slice/"
     "kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice/crio-" ID_B ".scope",
     0, "cri-o", ID_B, "11111111-2222-3333-4444-555555555555", "besteffort", 1},
    {"/kubepods/burstable/pod11111111-2222-3333-4444-555555555555/crio-" ID_B, 0, "cri-o", ID_B,
     "11111111-2222-3333-4444-555555555555", "burstable", 1},
    {"/kubepods.slice/kubepods-besteffort.slice/"
     "kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice/crio-conmon-" ID_B ".scope",
     -ENOENT, "", "", "11111111-2222-3333-4444-555555555555", "besteffort", 1},
    {"/system.slice/crio-" ID_B ".scope", 0, "cri-o", ID_B, "", "", 0},
    /* Docker */
    {"/docker/" ID_C, 0, "docker", ID_C, "", "", 0},
    {"/system.slice/docker-" ID_C ".scope", 0, "docker", ID_C, "", "", 0},
    {"/docker/" ID_C "/", 0, "docker", ID_C, "", "", 0},
    /* a sub-cgroup the container made for itself still names it */
    {"/system.slice/docker-" ID_C ".scope/init.scope", 0, "docker", ID_C, "", "", 0},
    /* kind: a Kubernetes node inside Docker; the innermost container wins */
    {"/docker/" ID_C "/kubepods/besteffort/pod11111111-2222-3333-4444-555555555555/" ID_A, 0, "",
     ID_A, "11111111-2222-3333-4444-555555555555", "besteffort", 1},
    /* podman */
    {"/machine.slice/libpod-" ID_B ".scope", 0, "podman", ID_B, "", "", 0},
    {"/libpod_parent/libpod-" ID_B, 0, "podman", ID_B, "", "", 0},
    {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_B ".scope", 0, "podman",
     ID_B, "", "", 0},
    {"/machine.slice/libpod-conmon-" ID_B ".scope", -ENOENT, "", "", "", "", 0},
    /* plain runc / crun with a hex id */
    {"/" ID_A, 0, "runc", ID_A, "", "", 0},
    {"/bars/" ID_A, 0, "runc", ID_A, "", "", 0},
    /* /proc/PID/cgroup lines: v1 and v2 */
    {"4:memory:/docker/" ID_C, 0, "docker", ID_C, "", "", 0},
    {"1:name=systemd:/system.slice/docker-" ID_C ".scope", 0, "docker", ID_C, "", "", 0},
    {"0::/kubepods.slice/kubepods-pod7f3b2c1a_9d8e_4f6a_b5c4_d3e2f1a0b9c8.slice/crio-" ID_B
     ".scope",
     0, "cri-o", ID_B, "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8", "guaranteed", 1},
    {"9:cpu,cpuacct:/libpod_parent/libpod-" ID_B, 0, "podman", ID_B, "", "", 0},
    /* well-formed, no container */
    {"/", -ENOENT, "", "", "", "", 0},
    {"/user.slice/user-1000.slice/session-3.scope", -ENOENT, "", "", "", "", 0},
    {"/system.slice/containerd.service", -ENOENT, "", "", "", "", 0},
    {"/bars/cwtest", -ENOENT, "", "", "", "", 0},
    {"/kubepods/burstable", -ENOENT, "", "", "", "burstable", 1},
    {"/kubepods.slice/kubepods-besteffort.slice", -ENOENT, "", "", "", "besteffort", 1},
    /* truncated ids, non-hex ids, upper case, one char too many */
    {"/docker/4e5c9a8f1b2d", -ENOENT, "", "", "", "", 0},
    {"/system.slice/docker-" ID_C "0.scope", -ENOENT, "", "", "", "", 0},
    {"/system.slice/docker-4e5c9a8f1b2d3c4e5f60718293a4b5c6d7e8f90112233445566778899aabbccg.scope",
     -ENOENT, "", "", "", "", 0},
    {"/docker/4E5C9A8F1B2D3C4E5F60718293A4B5C6D7E8F90112233445566778899AABBCCD", -ENOENT, "", "",
     "", "", 0},
    {"/system.slice/crio-" ID_B ".scopex", -ENOENT, "", "", "", "", 0},
    {"/x:y:" ID_A "z", -ENOENT, "", "", "", "", 0},
    {"/kubepods/burstable/podNOT-A-UID!/" ID_A, 0, "", ID_A, "", "burstable", 1},
    /* malformed */
    {"", -EINVAL, "", "", "", "", 0},
    {"docker/" ID_C, -EINVAL, "", "", "", "", 0},
    {"//docker/" ID_C, -EINVAL, "", "", "", "", 0},
    {"/docker//" ID_C, -EINVAL, "", "", "", "", 0},
    {"/docker/../" ID_C, -EINVAL, "", "", "", "", 0},
    {"/docker/./" ID_C, -EINVAL, "", "", "", "", 0},
    {"/docker/" ID_C "\n", -EINVAL, "", "", "", "", 0},
    {"/docker/\x01" ID_C, -EINVAL, "", "", "", "", 0},
    {"/docker/\x7f", -EINVAL, "", "", "", "", 0},
    {"4:memory:relative", -EINVAL, "", "", "", "", 0},
    {"x:memory:/docker/" ID_C, -EINVAL, "", "", "", "", 0},
};

TEST(test_cgroup_layouts)
{
	for (size_t i = 0; i < sizeof(cg_cases) / sizeof(cg_cases[0]); i++) {
		const struct cg_case *t = &cg_cases[i];
		struct cw_cgroup_ref r;
		int rc;

		memset(&r, 0xa5, sizeof(r));
		rc = cw_cgroup_parse(t->path, &r);
		if (rc != t->rc)
			fprintf(stderr, "  case %zu: %s\n", i, t->path);
		CHECK_INT(rc, t->rc);
		CHECK_STR(r.runtime, t->runtime);
		CHECK_STR(r.id, t->id);
		CHECK_STR(r.pod_uid, t->pod_uid);
		CHECK_STR(r.qos, t->qos);
		CHECK_INT(r.kubernetes, t->kubernetes);
	}
}

TEST(test_cgroup_bad_input)
{
	struct cw_cgroup_ref r;
	static char huge[70000];
	char comp[300];

	CHECK_INT(cw_cgroup_parse(NULL, &r), -EINVAL);
	CHECK_INT(cw_cgroup_parse("/docker/" ID_C, NULL), -EINVAL);

	/* absurdly long: rejected without reading past the limit */
	memset(huge, 'a', sizeof(huge) - 1);
	huge[0] = '/';
	CHECK_INT(cw_cgroup_parse(huge, &r), -EINVAL);
	CHECK_STR(r.id, "");

	/* many components, still under the limit: well-formed, no container */
	for (size_t i = 0; i < 4000; i += 2) {
		huge[i] = '/';
		huge[i + 1] = 'x';
	}
	huge[4000] = '\0';
	CHECK_INT(cw_cgroup_parse(huge, &r), -ENOENT);

	/* a deep path that ends in a container id */
	snprintf(huge, sizeof(huge), "%.3000s/docker/%s", "/a/b/c/d/e/f/g/h", ID_C);
	CHECK_INT(cw_cgroup_parse(huge, &r), 0);
	CHECK_STR(r.id, ID_C);

	/* one component longer than a kernfs name */
	memset(comp, 'b', sizeof(comp) - 1);
	comp[sizeof(comp) - 1] = '\0';
	comp[0] = '/';
	CHECK_INT(cw_cgroup_parse(comp, &r), -EINVAL);
}

/* ---------------------------------------------------------------------- */
/* fixture trees                                                           */

static char dir[] = "/tmp/cw-test-container-XXXXXX";

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void rm_rf(const char *p)
{
	if (nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		fprintf(stderr, "could not remove %s: %s\n", p, strerror(errno));
}

static void cleanup(void)
{
	rm_rf(dir);
}

static void ensure_dir(void)
{
	static int made;

	if (made)
		return;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	made = 1;
	atexit(cleanup);
}

static void mkdirs(const char *path)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
	mkdir(buf, 0755);
}

/* Write text to dir/rel (parents made). Returns the file's inode. */
static uint32_t put_file(const char *rel, const char *text)
{
	char path[1024], parent[1024];
	struct stat st;
	FILE *f;

	ensure_dir();
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(parent, sizeof(parent), "%s", path);
	*strrchr(parent, '/') = '\0';
	mkdirs(parent);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	if (stat(path, &st) != 0)
		exit(2);
	return (uint32_t)st.st_ino;
}

static const char *at(const char *rel)
{
	static char buf[4][1024];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, rel);
	return buf[n];
}

/* A fake process in the fake proc root: ns/pid, ns/mnt and a stat line with
 * the given start time (field 22). Returns the pid namespace "inode". */
static uint32_t fake_proc(int pid, unsigned long long start, uint32_t *mntns)
{
	char rel[64], stat_line[512];
	uint32_t pidns, m;

	snprintf(rel, sizeof(rel), "proc/%d/ns/pid", pid);
	pidns = put_file(rel, "");
	snprintf(rel, sizeof(rel), "proc/%d/ns/mnt", pid);
	m = put_file(rel, "");
	if (mntns)
		*mntns = m;
	/* comm with a space and a parenthesis, as the kernel allows */
	snprintf(stat_line, sizeof(stat_line),
	         "%d (sle ep)) S 1 %d %d 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 %llu 2000000 "
	         "100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
	         pid, pid, pid, start);
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	put_file(rel, stat_line);
	return pidns;
}

/* mkdir -p <dir>/<rel>. */
static void put_file_dir(const char *rel)
{
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", at(rel));
	if (system(cmd) != 0)
		abort();
}

/* What runc 1.1 writes to <root>/<id>/state.json, trimmed of mounts, devices
 * and capabilities (which attribution does not read). */
static const char runc_state_template[] =
    "{\"id\":\"cwinspect\",\"init_process_pid\":5792,\"init_process_start\":64009,"
    "\"created\":\"2026-11-29T07:09:49.88415091Z\",\"config\":{\"no_pivot_root\":false,"
    "\"parent_death_signal\":0,\"rootfs\":\"/tmp/b/rootfs\",\"umask\":null,\"readonlyfs\":true,"
    "\"rootPropagation\":0,\"mounts\":[{\"source\":\"proc\",\"destination\":\"/proc\","
    "\"device\":\"proc\",\"flags\":0,\"propagation_flags\":null,\"data\":\"\",\"relabel\":\"\","
    "\"rec_attr\":null,\"extensions\":0,\"premount_cmds\":null,\"postmount_cmds\":null}],"
    "\"mount_label\":\"\",\"hostname\":\"runc\",\"namespaces\":[{\"type\":\"NEWPID\","
    "\"path\":\"\"},{\"type\":\"NEWNET\",\"path\":\"\"},{\"type\":\"NEWIPC\",\"path\":\"\"},"
    "{\"type\":\"NEWUTS\",\"path\":\"\"},{\"type\":\"NEWNS\",\"path\":\"\"}],"
    "\"cgroups\":{\"name\":\"cwinspect\",\"path\":\"\",\"scope_prefix\":\"\",\"memory\":0,"
    "\"pids_limit\":0,\"freezer\":\"\",\"unified\":null,\"Systemd\":false,\"Rootless\":false},"
    "\"uid_mappings\":null,\"gid_mappings\":null,\"mask_paths\":[\"/proc/acpi\"],"
    "\"readonly_paths\":[\"/proc/bus\"],\"sysctl\":null,\"seccomp\":null,"
    "\"no_new_privileges\":true,\"Hooks\":{\"createContainer\":null,\"createRuntime\":null,"
    "\"poststart\":null,\"poststop\":null,\"prestart\":null,\"startContainer\":null},"
    "\"version\":\"1.0.2-dev\",\"labels\":[\"bundle=/tmp/b\"],\"no_new_keyring\":false},"
    "\"rootless\":false,\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/unified/cwinspect\","
    "\"blkio\":\"/sys/fs/cgroup/blkio/cwinspect\",\"cpu\":\"/sys/fs/cgroup/cpu/cwinspect\","
    "\"memory\":\"/sys/fs/cgroup/memory/outer/cwinspect\","
    "\"name=systemd\":\"/sys/fs/cgroup/systemd/cwinspect\","
    "\"pids\":\"/sys/fs/cgroup/pids/cwinspect\"},\"namespace_paths\":{"
    "\"NEWCGROUP\":\"/proc/5792/ns/cgroup\",\"NEWIPC\":\"/proc/5792/ns/ipc\","
    "\"NEWNET\":\"/proc/5792/ns/net\",\"NEWNS\":\"/proc/5792/ns/mnt\","
    "\"NEWPID\":\"/proc/5792/ns/pid\",\"NEWUSER\":\"/proc/5792/ns/user\","
    "\"NEWUTS\":\"/proc/5792/ns/uts\"},\"external_descriptors\":[\"/dev/null\",\"/dev/null\","
    "\"/dev/null\"],\"intel_rdt_path\":\"\"}";

struct runc_fixture {
	const char *root; /* relative to dir */
	const char *id;
	int pid;
	unsigned long long start;
	const char *created;
	const char *labels[8];   /* "k=v", NULL-terminated; "bundle=" is relative to dir */
	const char *cgroup_name; /* directory under every hierarchy, NULL: rootless */
	const char *bundle_ann;  /* JSON object text for bundle config.json, or NULL */
};

/* Write state.json (and a bundle config.json) for f. */
static void put_runc(const struct runc_fixture *f)
{
	json_error_t jerr;
	json_t *st = json_loads(runc_state_template, 0, &jerr), *cfg, *labels, *cg, *ns;
	char rel[600], bundle_rel[256], buf[1024], *text;

	if (!st) {
		fprintf(stderr, "template: %s\n", jerr.text);
		exit(2);
	}
	cfg = json_object_get(st, "config");
	json_object_set_new(st, "id", json_string(f->id));
	json_object_set_new(st, "init_process_pid", json_integer(f->pid));
	json_object_set_new(st, "init_process_start", json_integer((json_int_t)f->start));
	json_object_set_new(st, "created", json_string(f->created));
	snprintf(bundle_rel, sizeof(bundle_rel), "bundles/%s", f->id);
	labels = json_array();
	for (int i = 0; f->labels[i]; i++)
		json_array_append_new(labels, json_string(f->labels[i]));
	json_array_append_new(labels, json_sprintf("bundle=%s", at(bundle_rel)));
	json_object_set_new(cfg, "labels", labels);
	{ /* the rootfs the runtime names: a real directory attribution holds */
		char rootfs[300];

		snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle_rel);
		put_file_dir(rootfs);
		json_object_set_new(cfg, "rootfs", json_string(at(rootfs)));
	}
	cg = json_object();
	if (f->cgroup_name) {
		json_object_set_new(cg, "",
		                    json_sprintf("/sys/fs/cgroup/unified/%s", f->cgroup_name));
		json_object_set_new(cg, "memory",
		                    json_sprintf("/sys/fs/cgroup/memory/%s", f->cgroup_name));
		json_object_set_new(cg, "pids",
		                    json_sprintf("/sys/fs/cgroup/pids/%s", f->cgroup_name));
	} else {
		json_object_set_new(st, "rootless", json_true());
	}
	json_object_set_new(st, "cgroup_paths", cg);
	ns = json_object();
	snprintf(buf, sizeof(buf), "/proc/%d/ns/pid", f->pid);
	json_object_set_new(ns, "NEWPID", json_string(buf));
	snprintf(buf, sizeof(buf), "/proc/%d/ns/mnt", f->pid);
	json_object_set_new(ns, "NEWNS", json_string(buf));
	json_object_set_new(st, "namespace_paths", ns);
	text = json_dumps(st, JSON_COMPACT);
	snprintf(rel, sizeof(rel), "%s/%s/state.json", f->root, f->id);
	put_file(rel, text);
	free(text);
	json_decref(st);

	if (f->bundle_ann) {
		snprintf(buf, sizeof(buf),
		         "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":false,"
		         "\"args\":[\"sleep\",\"30\"]},\"root\":{\"path\":\"rootfs\"},"
		         "\"hostname\":\"runc\",\"annotations\":%s}",
		         f->bundle_ann);
		snprintf(rel, sizeof(rel), "%s/config.json", bundle_rel);
		put_file(rel, buf);
	}
}

/* A decoded exec built by hand. */
struct fake_exec {
	struct cw_event ev;
	struct cw_exec ex;
};

static struct fake_exec *mk_exec(uint32_t pidns, uint32_t mntns, const char *cgroup)
{
	struct fake_exec *f = calloc(1, sizeof(*f));

	if (!f)
		exit(2);
	f->ev.type = CW_EV_EXEC;
	f->ev.pidns = pidns;
	f->ev.mntns = mntns;
	f->ev.tgid = 4242;
	f->ex.ev = &f->ev;
	cw_strlcpy(f->ex.cgroup, cgroup, sizeof(f->ex.cgroup));
	cw_strlcpy(f->ex.path, "/tmp/botb-linux-amd64", sizeof(f->ex.path));
	return f;
}

static const char *label(const struct cw_container *c, const char *k)
{
	return json_string_value(json_object_get(c->labels, k));
}

static uint32_t host_pidns, host_mntns;
static uint32_t web_pidns, crio_pidns, rootless_pidns, stale_pidns, shared_pidns;

/* The fake host: proc/1, a mountinfo, and five containers in three roots. */
static void build_tree(void)
{
	static int built;
	char rel[256];

	if (built)
		return;
	built = 1;
	host_pidns = fake_proc(1, 2, &host_mntns);
	put_file("proc/self/mountinfo",
	         "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
	         "30 22 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n"
	         "31 22 0:27 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n"
	         "32 22 0:28 /outer /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
	         "33 22 0:29 / /sys/fs/cgroup/with\\040space rw - cgroup cgroup rw,cpu\n");

	/* containerd-managed runc container of a Kubernetes pod */
	web_pidns = fake_proc(5792, 64009, NULL);
	put_runc(&(struct runc_fixture){
	    .root = "run/containerd/runc/k8s.io",
	    .id = ID_A,
	    .pid = 5792,
	    .start = 64009,
	    .created = "2026-11-29T07:09:49.88415091Z",
	    .labels = {"io.kubernetes.cri.container-type=container",
	               "io.kubernetes.cri.container-name=web", NULL},
	    .cgroup_name = "kubepods/burstable/pod7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8/" ID_A,
	    .bundle_ann = "{\"io.kubernetes.cri.container-type\":\"container\","
	                  "\"io.kubernetes.cri.container-name\":\"web\","
	                  "\"io.kubernetes.cri.image-name\":\"docker.io/library/nginx:1.27\","
	                  "\"io.kubernetes.cri.sandbox-id\":\"" ID_C "\","
	                  "\"io.kubernetes.cri.sandbox-name\":\"web-7d4b9c-x2x9z\","
	                  "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
	                  "\"io.kubernetes.cri.sandbox-uid\":"
	                  "\"7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8\","
	                  "\"org.opencontainers.image.source\":\"https://example.org/web\"}",
	});

	/* CRI-O (runc under /run/runc), metadata in the Labels JSON annotation */
	crio_pidns = fake_proc(6100, 70000, NULL);
	put_runc(&(struct runc_fixture){
	    .root = "run/runc",
	    .id = ID_B,
	    .pid = 6100,
	    .start = 70000,
	    .created = "2026-11-29T08:00:00+01:00",
	    .labels = {NULL},
	    .cgroup_name = "kubepods.slice/kubepods-besteffort.slice/"
	                   "kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice/"
	                   "crio-" ID_B ".scope",
	    .bundle_ann =
	        "{\"io.container.manager\":\"cri-o\","
	        "\"io.kubernetes.cri-o.ImageName\":\"quay.io/acme/api:v2\","
	        "\"io.kubernetes.cri-o.ImageRef\":\"sha256:" ID_C "\","
	        "\"io.kubernetes.cri-o.Labels\":\"{\\\"io.kubernetes.container.name\\\":"
	        "\\\"api\\\",\\\"io.kubernetes.pod.name\\\":\\\"api-0\\\","
	        "\\\"io.kubernetes.pod.namespace\\\":\\\"backend\\\","
	        "\\\"io.kubernetes.pod.uid\\\":\\\"11111111-2222-3333-4444-555555555555\\\","
	        "\\\"app\\\":\\\"api\\\"}\","
	        "\"io.kubernetes.cri-o.MountPoint\":\"/var/lib/containers/x/merged\"}",
	});

	/* rootless runc: no cgroup at all, arbitrary name */
	rootless_pidns = fake_proc(7000, 80000, NULL);
	put_runc(&(struct runc_fixture){
	    .root = "run/runc",
	    .id = "my-rootless",
	    .pid = 7000,
	    .start = 80000,
	    .created = "2026-01-02T03:04:05Z",
	    .labels = {"team=red", NULL},
	    .cgroup_name = NULL,
	    .bundle_ann = NULL,
	});

	/* a stopped container whose init pid now belongs to someone else */
	stale_pidns = fake_proc(7100, 99999, NULL);
	put_runc(&(struct runc_fixture){
	    .root = "run/runc",
	    .id = "stopped-one",
	    .pid = 7100,
	    .start = 12345,
	    .created = "2026-01-02T03:04:05Z",
	    .labels = {NULL},
	    .cgroup_name = "bars/stopped-one",
	});

	/* two containers sharing one pid namespace (runc joining another's) */
	shared_pidns = fake_proc(7200, 5, NULL);
	put_runc(&(struct runc_fixture){.root = "run/runc",
	                                .id = "share-a",
	                                .pid = 7200,
	                                .start = 5,
	                                .created = "2026-01-02T03:04:05Z",
	                                .labels = {NULL},
	                                .cgroup_name = "bars/share-a"});
	put_runc(&(struct runc_fixture){.root = "run/runc",
	                                .id = "share-b",
	                                .pid = 7200,
	                                .start = 5,
	                                .created = "2026-01-02T03:04:05Z",
	                                .labels = {NULL},
	                                .cgroup_name = "bars/share-b"});

	/* junk that must be skipped: a non-container dir, an unreadable state */
	mkdirs(at("run/runc/not-a-container"));
	put_file("run/runc/broken/state.json", "{\"id\": \"broken\", \"init_process_pid\": ");
	snprintf(rel, sizeof(rel), "run/runc/%s", ".hidden/state.json");
	put_file(rel, "{}");
}

static struct cw_attrib *new_attrib(void)
{
	struct cw_attrib *a = NULL;
	char roots[2048];
	char proc[1024];

	build_tree();
	snprintf(proc, sizeof(proc), "%s", at("proc"));
	snprintf(roots, sizeof(roots), "%s:%s:%s", at("run/runc"), at("run/containerd/runc/k8s.io"),
	         at("run/does-not-exist"));
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){proc, roots}), 0);
	if (!a)
		exit(1);
	return a;
}

static int resolve(struct cw_attrib *a, uint32_t pidns, uint32_t mntns, const char *cg,
                   struct cw_container *out)
{
	struct fake_exec *f = mk_exec(pidns, mntns, cg);
	int rc = cw_attrib_resolve(a, &f->ex, out);

	free(f);
	return rc;
}

TEST(test_attrib_host_namespaces)
{
	struct cw_attrib *a = new_attrib();
	struct cw_container c;

	CHECK_INT(cw_attrib_host_pidns(a), host_pidns);
	CHECK_INT(cw_attrib_host_mntns(a), host_mntns);
	CHECK(host_pidns != 0 && host_pidns != host_mntns);

	/* host process */
	CHECK_INT(resolve(a, host_pidns, host_mntns, "/user.slice/session-1.scope", &c), 0);
	CHECK(!c.in_container);
	CHECK_STR(c.id, "");
	/* private mount ns (systemd PrivateTmp=) and a non-container cgroup */
	CHECK_INT(resolve(a, host_pidns, 999999, "/system.slice/cron.service", &c), 0);
	CHECK(!c.in_container);
	/* host pid ns but mount ns differs and the cgroup is Docker's: --pid=host */
	CHECK_INT(resolve(a, host_pidns, 999999, "/system.slice/docker-" ID_C ".scope", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, ID_C);
	CHECK_STR(c.runtime, "docker");
	CHECK_STR(c.name, ID_C);
	/* same mount ns as the host with a container cgroup: host process that
	 * happens to sit in a container's cgroup is still the host */
	CHECK_INT(resolve(a, host_pidns, host_mntns, "/docker/" ID_C, &c), 0);
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
	CHECK_INT(resolve(a, web_pidns, 1, "/", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, ID_A);
	CHECK_STR(c.runtime, "containerd");
	CHECK_STR(c.name, "web");
	CHECK_STR(c.image, "docker.io/library/nginx:1.27");
	CHECK_STR(c.pod_name, "web-7d4b9c-x2x9z");
	CHECK_STR(c.pod_namespace, "shop");
	CHECK_STR(c.pod_uid, "7f3b2c1a-9d8e-4f6a-b5c4-d3e2f1a0b9c8");
	CHECK_STR(c.bundle, at("bundles/" ID_A));
	CHECK_INT(c.created_ns, 1795936189884150910LL);
	CHECK_STR(cw_rfc3339(c.created_ns, ts, sizeof(ts)), "2026-11-29T07:09:49.884Z");
	CHECK_STR(label(&c, "org.opencontainers.image.source"), "https://example.org/web");
	CHECK(label(&c, "io.kubernetes.cri.container-type") == NULL);
	CHECK(label(&c, "bundle") == NULL);
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
	CHECK_INT(resolve(a, crio_pidns, 1, cg, &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, ID_B);
	CHECK_STR(c.runtime, "cri-o");
	CHECK_STR(c.name, "api");
	CHECK_STR(c.pod_name, "api-0");
	CHECK_STR(c.pod_namespace, "backend");
	CHECK_STR(c.pod_uid, "11111111-2222-3333-4444-555555555555");
	CHECK_STR(c.image, "quay.io/acme/api:v2");
	CHECK_STR(c.image_id, "sha256:" ID_C);
	CHECK_STR(label(&c, "app"), "api");
	CHECK(label(&c, "io.kubernetes.cri-o.MountPoint") == NULL);
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
	CHECK_INT(resolve(a, rootless_pidns, 77, "/user.slice/user-1000.slice/session-2.scope", &c),
	          0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "my-rootless");
	CHECK_STR(c.name, "my-rootless");
	CHECK_STR(c.runtime, "runc");
	CHECK_STR(label(&c, "team"), "red");
	CHECK_STR(c.bundle, at("bundles/my-rootless"));
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
	CHECK_INT(resolve(a, stale_pidns, 1, "/", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "");
	/* but the cgroup still identifies it */
	CHECK_INT(resolve(a, stale_pidns, 1, "/bars/stopped-one", &c), 0);
	CHECK_STR(c.id, "stopped-one");
	cw_container_clear(&c);

	/* a pid ns shared by two containers says nothing; the cgroup decides */
	CHECK_INT(resolve(a, shared_pidns, 1, "/", &c), 0);
	CHECK(c.in_container);
	CHECK_STR(c.id, "");
	CHECK_INT(resolve(a, shared_pidns, 1, "/bars/share-b", &c), 0);
	CHECK_STR(c.id, "share-b");
	cw_container_clear(&c);

	/* pid ns says container A, the cgroup names another: the cgroup wins */
	CHECK_INT(resolve(a, web_pidns, 1, "/system.slice/crio-" ID_B ".scope", &c), 0);
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
	ns = fake_proc(8100, 5, NULL);
	put_runc(&(struct runc_fixture){.root = "run/runc",
	                                .id = "seq-one",
	                                .pid = 8100,
	                                .start = 5,
	                                .created = "2026-11-29T09:00:00Z",
	                                .cgroup_name = "cw-seq/seq-one"});
	CHECK_INT(resolve(a, ns, 1, "/cw-seq/seq-one", &c), 0);
	CHECK_STR(c.id, "seq-one");
	cw_container_clear(&c);

	rm_rf(at("run/runc/seq-one"));
	fake_proc(8101, 6, NULL);
	snprintf(p1, sizeof(p1), "%s", at("proc/8100/ns/pid"));
	snprintf(p2, sizeof(p2), "%s", at("proc/8101/ns/pid"));
	CHECK(unlink(p2) == 0 && link(p1, p2) == 0); /* same inode: reused */
	put_runc(&(struct runc_fixture){.root = "run/runc",
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
	CHECK_INT(resolve(a, host_pidns, 999999, "/cw-seq/seq-two", &c), 0);
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
	late = fake_proc(8000, 1, NULL);
	put_runc(&(struct runc_fixture){.root = "run/runc",
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
	put_runc(
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
	rm_rf(at("run/runc/late-comer"));
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
	uint32_t pidns = fake_proc(9000, 42, NULL);
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
	put_file("run/crun/crunbox/status", status);
	put_file("run/crun/crunbox/config.json",
	         "{\"ociVersion\":\"1.0.0\",\"annotations\":{\"io.container.manager\":\"libpod\","
	         "\"org.opencontainers.image.ref.name\":\"alpine\",\"com.example.tier\":\"db\"}}");
	cw_attrib_free(a);
	{
		char roots[1024];

		snprintf(roots, sizeof(roots), "%s", at("run/crun"));
		CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){at("proc"), roots}), 0);
	}
	CHECK_INT(cw_attrib_scan(a), 1);
	CHECK_INT(resolve(a, pidns, 1, "/", &c), 0);
	CHECK_STR(c.id, "crunbox");
	CHECK_STR(c.runtime, "podman");
	CHECK_STR(c.bundle, "/srv/bundles/crunbox");
	CHECK_STR(c.image, "alpine");
	CHECK_STR(label(&c, "com.example.tier"), "db");
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
	uint32_t pidns = fake_proc(9100, 43, NULL);
	char roots[1024];

	cw_attrib_free(a);

	put_file("run/crun2/late/status", "{\"pid\": 9100, \"process-start-time\": 43, "
	                                  "\"cgroup-path\": \"/late\", \"bundle\": \"/b\"}");
	snprintf(roots, sizeof(roots), "%s", at("run/crun2"));
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){at("proc"), roots}), 0);
	CHECK_INT(cw_attrib_scan(a), 1);
	CHECK_INT(resolve(a, pidns, 1, "/late", &c), 0);
	CHECK_STR(c.id, "late");
	CHECK_STR(c.image, "");
	cw_container_clear(&c);
	put_file("run/crun2/late/config.json",
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
	put_file("run/crun3/slow/status", "{\"pid\": 9200, \"process-start-time\": 44, "
	                                  "\"cgroup-path\": \"/slowcg\", \"bundle\": \"/b\"}");
	put_file("run/crun3/slow/config.json",
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
	uint32_t pidns = fake_proc(9200, 44, NULL);
	struct fake_exec *f = mk_exec(pidns, 1, "/slowcg");
	struct cw_container c;
	char roots[1024];
	pthread_t th;

	cw_attrib_free(a);
	put_file_dir("run/crun3/x");
	snprintf(roots, sizeof(roots), "%s", at("run/crun3"));
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){at("proc"), roots}), 0);
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

	build_tree();
	/* no host namespaces to read: a clear error, nothing allocated */
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){at("run"), at("run/runc")}), -ENOENT);
	CHECK(a == NULL);
	CHECK_INT(cw_attrib_new(NULL, NULL), -EINVAL);

	/* pid 1 unreadable: the agent's own namespaces stand in (with a warning) */
	{
		uint32_t self_pid = put_file("proc-self-only/self/ns/pid", "");
		uint32_t self_mnt = put_file("proc-self-only/self/ns/mnt", "");

		CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){at("proc-self-only"), NULL}),
		          0);
		CHECK_INT(cw_attrib_host_pidns(a), self_pid);
		CHECK_INT(cw_attrib_host_mntns(a), self_mnt);
		cw_attrib_free(a);
	}

	a = new_attrib();
	CHECK_INT(cw_attrib_resolve(a, NULL, &c), -EINVAL);
	CHECK_INT(cw_attrib_scan(NULL), -EINVAL);
	/* an exec without a raw event: only the cgroup can say anything, and
	 * without namespaces it cannot say "container" */
	f = mk_exec(0, 0, "/docker/" ID_C);
	f->ex.ev = NULL;
	CHECK_INT(cw_attrib_resolve(a, &f->ex, &c), 0);
	CHECK(!c.in_container);
	/* a malformed cgroup path does not stop pid ns attribution */
	cw_strlcpy(f->ex.cgroup, "garbage\x01", sizeof(f->ex.cgroup));
	f->ex.ev = &f->ev;
	f->ev.pidns = web_pidns;
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

	ensure_dir();
	CHECK_INT(cw_attrib_new(&a, &(struct cw_attrib_opts){NULL, at("none")}), 0);
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
	ensure_dir();
	snprintf(bundle, sizeof(bundle), "%s/realbundle", dir);
	snprintf(state, sizeof(state), "%s/realstate", dir);
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
	         bundle, id, dir);
	if (run_cmd(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "cat '%s/runc.log' >&2", dir);
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
		CHECK_STR(label(&c, "com.example.env"), "lab");
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
    {"cgroup_layouts", test_cgroup_layouts},
    {"cgroup_bad_input", test_cgroup_bad_input},
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
