/* test_cgroup.c - container attribution's first step: cgroup path parsing
 * for every runtime layout (cgroup v1 lines, v2, systemd and cgroupfs
 * drivers, Docker, containerd, CRI-O, podman, plain runc and crun, kind) and
 * malformed or hostile input (over-long, control characters, "..").
 */
#include "check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "container.h"

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

static const struct cw_test tests[] = {
    {"cgroup_layouts", test_cgroup_layouts},
    {"cgroup_bad_input", test_cgroup_bad_input},
};

CW_TEST_MAIN(tests)
