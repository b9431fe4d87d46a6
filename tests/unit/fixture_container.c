/* fixture_container.c - runtime state trees for the attribution tests (see
 * fixture_container.h). */
#include "fixture_container.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "util.h"

char fx_dir[] = "/tmp/cw-test-container-XXXXXX";

static void cleanup(void)
{
	fx_rm_rf(fx_dir);
}

void fx_ensure_dir(void)
{
	static int made;

	if (made)
		return;
	if (!mkdtemp(fx_dir)) {
		perror("mkdtemp");
		exit(2);
	}
	made = 1;
	atexit(cleanup);
}

void fx_mkdirs(const char *path)
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
uint32_t fx_put_file(const char *rel, const char *text)
{
	char path[1024], parent[1024];
	struct stat st;
	FILE *f;

	fx_ensure_dir();
	snprintf(path, sizeof(path), "%s/%s", fx_dir, rel);
	snprintf(parent, sizeof(parent), "%s", path);
	*strrchr(parent, '/') = '\0';
	fx_mkdirs(parent);
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

const char *fx_at(const char *rel)
{
	static char buf[4][1024];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", fx_dir, rel);
	return buf[n];
}

/* A fake process in the fake proc root: ns/pid, ns/mnt and a stat line with
 * the given start time (field 22). Returns the pid namespace "inode". */
uint32_t fx_fake_proc(int pid, unsigned long long start, uint32_t *mntns)
{
	char rel[64], stat_line[512];
	uint32_t pidns, m;

	snprintf(rel, sizeof(rel), "proc/%d/ns/pid", pid);
	pidns = fx_put_file(rel, "");
	snprintf(rel, sizeof(rel), "proc/%d/ns/mnt", pid);
	m = fx_put_file(rel, "");
	if (mntns)
		*mntns = m;
	/* comm with a space and a parenthesis, as the kernel allows */
	snprintf(stat_line, sizeof(stat_line),
	         "%d (sle ep)) S 1 %d %d 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 %llu 2000000 "
	         "100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
	         pid, pid, pid, start);
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	fx_put_file(rel, stat_line);
	return pidns;
}

/* mkdir -p <dir>/<rel>. */
void fx_put_file_dir(const char *rel)
{
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", fx_at(rel));
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

/* Write state.json (and a bundle config.json) for f. */
void fx_put_runc(const struct runc_fixture *f)
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
	json_array_append_new(labels, json_sprintf("bundle=%s", fx_at(bundle_rel)));
	json_object_set_new(cfg, "labels", labels);
	{ /* the rootfs the runtime names: a real directory attribution holds */
		char rootfs[300];

		snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle_rel);
		fx_put_file_dir(rootfs);
		json_object_set_new(cfg, "rootfs", json_string(fx_at(rootfs)));
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
	fx_put_file(rel, text);
	free(text);
	json_decref(st);

	if (f->bundle_ann) {
		snprintf(buf, sizeof(buf),
		         "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":false,"
		         "\"args\":[\"sleep\",\"30\"]},\"root\":{\"path\":\"rootfs\"},"
		         "\"hostname\":\"runc\",\"annotations\":%s}",
		         f->bundle_ann);
		snprintf(rel, sizeof(rel), "%s/config.json", bundle_rel);
		fx_put_file(rel, buf);
	}
}

struct fake_exec *fx_mk_exec(uint32_t pidns, uint32_t mntns, const char *cgroup)
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

const char *fx_label(const struct cw_container *c, const char *k)
{
	return json_string_value(json_object_get(c->labels, k));
}

uint32_t fx_host_pidns, fx_host_mntns;
uint32_t fx_web_pidns, fx_crio_pidns, fx_rootless_pidns, fx_stale_pidns, fx_shared_pidns;

/* The fake host: proc/1, a mountinfo, and five containers in three roots. */
void fx_build_tree(void)
{
	static int built;
	char rel[256];

	if (built)
		return;
	built = 1;
	fx_host_pidns = fx_fake_proc(1, 2, &fx_host_mntns);
	fx_put_file("proc/self/mountinfo",
	            "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
	            "30 22 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n"
	            "31 22 0:27 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n"
	            "32 22 0:28 /outer /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
	            "33 22 0:29 / /sys/fs/cgroup/with\\040space rw - cgroup cgroup rw,cpu\n");

	/* containerd-managed runc container of a Kubernetes pod */
	fx_web_pidns = fx_fake_proc(5792, 64009, NULL);
	fx_put_runc(&(struct runc_fixture){
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
	fx_crio_pidns = fx_fake_proc(6100, 70000, NULL);
	fx_put_runc(&(struct runc_fixture){
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
	fx_rootless_pidns = fx_fake_proc(7000, 80000, NULL);
	fx_put_runc(&(struct runc_fixture){
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
	fx_stale_pidns = fx_fake_proc(7100, 99999, NULL);
	fx_put_runc(&(struct runc_fixture){
	    .root = "run/runc",
	    .id = "stopped-one",
	    .pid = 7100,
	    .start = 12345,
	    .created = "2026-01-02T03:04:05Z",
	    .labels = {NULL},
	    .cgroup_name = "bars/stopped-one",
	});

	/* two containers sharing one pid namespace (runc joining another's) */
	fx_shared_pidns = fx_fake_proc(7200, 5, NULL);
	fx_put_runc(&(struct runc_fixture){.root = "run/runc",
	                                   .id = "share-a",
	                                   .pid = 7200,
	                                   .start = 5,
	                                   .created = "2026-01-02T03:04:05Z",
	                                   .labels = {NULL},
	                                   .cgroup_name = "bars/share-a"});
	fx_put_runc(&(struct runc_fixture){.root = "run/runc",
	                                   .id = "share-b",
	                                   .pid = 7200,
	                                   .start = 5,
	                                   .created = "2026-01-02T03:04:05Z",
	                                   .labels = {NULL},
	                                   .cgroup_name = "bars/share-b"});

	/* junk that must be skipped: a non-container fx_dir, an unreadable state */
	fx_mkdirs(fx_at("run/runc/not-a-container"));
	fx_put_file("run/runc/broken/state.json", "{\"id\": \"broken\", \"init_process_pid\": ");
	snprintf(rel, sizeof(rel), "run/runc/%s", ".hidden/state.json");
	fx_put_file(rel, "{}");
}
