/* test_technique.c - unit tests of the technique module's user-space side:
 * rules and exceptions parsing, rule evaluation of hand-built kernel records
 * (filesystem type from the fd or through a fake /proc tree in a temp dir),
 * evidence JSON and the exec view of a hit; as root, the real sensor in both
 * attach modes (per-syscall and raw tracepoints).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "technique.h"

#define HOST_MNT  4026531840u
#define HOST_PID  4026531836u
#define HOST_NET  4026531992u
#define CTR_MNT   777u
#define CTR_PID   778u
#define CGROUP_V1 0x27e0ebu
#define PROC_FS   0x9fa0u
#define TMPFS     0x01021994u

static char proc_dir[256];

/* A fake /proc: 4242 is a live container process (mnt ns 777) whose root is
 * the real "/" and cwd the real /proc/sys/kernel; 5000 is a process outside
 * (host mnt ns); 6000 is in the container's pid ns with NSpid 1 -> vpid 1. */
static void make_proc(void)
{
	char p[512];

	snprintf(proc_dir, sizeof(proc_dir), "/tmp/cw-tq-test.XXXXXX");
	if (!mkdtemp(proc_dir))
		abort();
	const char *dirs[] = {"4242", "4242/ns", "5000", "5000/ns", "6000", "6000/ns", "1", "1/ns"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", proc_dir, dirs[i]);
		mkdir(p, 0755);
	}
	struct {
		const char *target, *link;
	} links[] = {
	    {"mnt:[777]", "4242/ns/mnt"},
	    {"pid:[778]", "4242/ns/pid"},
	    {"/", "4242/root"},
	    {"/proc/sys/kernel", "4242/cwd"},
	    {"mnt:[4026531840]", "5000/ns/mnt"},
	    {"pid:[4026531836]", "5000/ns/pid"},
	    {"mnt:[4026531840]", "6000/ns/mnt"},
	    {"pid:[778]", "6000/ns/pid"},
	    {"mnt:[4026531840]", "1/ns/mnt"},
	    {"pid:[4026531836]", "1/ns/pid"},
	    {"net:[4026531992]", "1/ns/net"},
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", proc_dir, links[i].link);
		if (symlink(links[i].target, p))
			abort();
	}
	snprintf(p, sizeof(p), "%s/6000/status", proc_dir);
	FILE *f = fopen(p, "w");
	fprintf(f, "Name:\tsleep\nNSpid:\t6000\t1\n");
	fclose(f);
}

static void rm_proc(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", proc_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", proc_dir);
}

static struct cw_technique_rules *rules(void)
{
	struct cw_technique_rules *r = NULL;

	if (cw_technique_rules_load_default(&r))
		abort();
	return r;
}

static void env_of(struct cw_technique_env *env)
{
	CHECK_INT(cw_technique_env_init(env, proc_dir), 0);
}

/* A record from a container task (pid 4242, mnt ns 777). */
static struct cw_tq_event rec(uint32_t sys, const char *s1)
{
	struct cw_tq_event e;

	memset(&e, 0, sizeof(e));
	e.sys = sys;
	e.flags = CW_TQF_EXITED;
	e.pid = e.tgid = 4242;
	e.ppid = 4200;
	e.mntns = CTR_MNT;
	e.pidns = CTR_PID;
	e.netns = 900;
	e.arg[2] = (uint64_t)-100;
	snprintf(e.comm, sizeof(e.comm), "sh");
	snprintf(e.exe, sizeof(e.exe), "busybox");
	if (s1)
		snprintf(e.s1, sizeof(e.s1), "%s", s1);
	/* cgroup leaf first */
	memcpy(e.cgroup, "ctr1\0pods\0", 10);
	e.cgroup_len = 10;
	memcpy(e.args, "sh\0-c\0x\0", 8);
	e.args_len = 8;
	return e;
}

static int eval(const struct cw_technique_rules *r, const struct cw_tq_event *e,
                struct cw_technique_hit *h)
{
	struct cw_technique_env env;

	env_of(&env);
	return cw_technique_eval(r, &env, e, sizeof(*e), h);
}

static const char *extra_str(const struct cw_technique_hit *h, const char *k)
{
	return json_string_value(json_object_get(h->det.extra, k));
}

TEST(default_rules_load)
{
	struct cw_technique_rules *r = rules();

	CHECK(cw_technique_rule_count(r) >= 20);
	CHECK(cw_technique_category(r, "escape_cgroup_release_agent") != NULL);
	CHECK_STR(cw_technique_category(r, "escape_kernel_module")->severity, "CRITICAL");
	CHECK(cw_technique_category(r, "nope") == NULL);
	cw_technique_rules_free(r);
}

TEST(bad_rules_rejected)
{
	struct cw_technique_rules *r = NULL;
	const char *cat = "\"categories\":{\"c\":{\"category\":\"C\",\"module\":\"M\","
	                  "\"severity\":\"HIGH\",\"primaryTactic\":\"EXECUTION\","
	                  "\"primaryTechniques\":[\"ESCAPE_TO_HOST\"],\"description\":\"d\","
	                  "\"nextSteps\":\"n\"}}";
	char buf[1024];
	const char *bad_rules[] = {
	    "[{\"id\":\"a\",\"category\":\"c\",\"kind\":\"teleport\",\"title\":\"t\"}]",
	    "[{\"id\":\"a\",\"category\":\"c\",\"kind\":\"write_open\",\"title\":\"t\"}]",
	    "[{\"id\":\"a\",\"category\":\"zz\",\"kind\":\"module_load\",\"title\":\"t\"}]",
	    "[{\"id\":\"a\",\"category\":\"c\",\"kind\":\"module_load\",\"title\":\"t\"},"
	    "{\"id\":\"a\",\"category\":\"c\",\"kind\":\"module_load\",\"title\":\"t\"}]",
	    "[{\"id\":\"a\",\"category\":\"c\",\"kind\":\"write_open\",\"title\":\"t\","
	    "\"names\":[\"x\"],\"fs_types\":[\"zfs-nope\"]}]",
	    "[{\"id\":\"a\",\"category\":\"c\",\"kind\":\"write_open\",\"title\":\"t\","
	    "\"names\":[\"a/b\"],\"fs_types\":[\"proc\"]}]",
	    "[{\"id\":\"a\",\"category\":\"c\",\"kind\":\"connect_tcp\",\"title\":\"t\","
	    "\"ports\":[70000]}]",
	};

	for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"schema\":1,%s,\"rules\":%s}", cat, bad_rules[i]);
		CHECK_INT(cw_technique_rules_load(&r, buf, strlen(buf), "test"), -EINVAL);
		CHECK(r == NULL);
	}
	snprintf(buf, sizeof(buf), "{\"schema\":1,%s,\"rules\":%s}", cat,
	         "[{\"id\":\"a\",\"category\":\"c\",\"kind\":\"module_load\",\"title\":\"t\"}]");
	CHECK_INT(cw_technique_rules_load(&r, buf, strlen(buf), "test"), 0);
	CHECK_INT(cw_technique_rule_count(r), 1);
	cw_technique_rules_free(r);
	CHECK_INT(cw_technique_rules_load(&r, "{", 1, "test"), -EINVAL);
}

TEST(exceptions)
{
	struct cw_technique_rules *r = rules();
	const char *good =
	    "{\"exceptions\":[{\"rules\":[\"technique.device.*\"],"
	    "\"images\":[\"registry.k8s.io/sig-storage/*\"],\"comment\":\"CSI\"},"
	    "{\"rules\":[\"technique.socket.runtime_unix\"],\"names\":[\"dind-*\"]},"
	    "{\"rules\":[\"tool.compiler.*\"],\"images\":[\"*/builder:*\"],\"comment\":\"b\"}]}";
	const char *bad[] = {
	    "{\"exceptions\":[{\"rules\":[\"*\"],\"images\":[\"x\"]}]}",
	    "{\"exceptions\":[{\"rules\":[\"technique.module.load\"]}]}",
	    "{\"exceptions\":[{\"rules\":[\"technique.module.load\"],\"images\":[\"*\"]}]}",
	    "{\"exceptions\":[{\"rules\":[\"technique.nope\"],\"images\":[\"x\"]}]}",
	    "{\"exceptions\":[{\"rules\":[],\"images\":[\"x\"]}]}",
	    "{\"exceptions\":[{\"rules\":[\"technique.module.load\"],\"images\":[\"x\"],\"off\":1}]"
	    "}",
	    "{\"exceptions\":{}}",
	    "{\"exceptions\":[{\"rules\":[\"tool.*\"],\"images\":[\"x\"]}]}",
	    "{\"exceptions\":[{\"rules\":[\"tool.\"],\"images\":[\"x\"]}]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(cw_technique_exceptions_load(r, bad[i], strlen(bad[i]), "exc"), -EINVAL);
	/* nothing was added by the bad documents */
	CHECK(cw_technique_excepted(r, "technique.module.load", "x", "x") == NULL);
	CHECK_INT(cw_technique_exceptions_load(r, good, strlen(good), "exc"), 0);
	CHECK_STR(cw_technique_excepted(r, "technique.device.block_mount", "csi-node",
	                                "registry.k8s.io/sig-storage/csi-node-driver:v2"),
	          "CSI");
	CHECK(cw_technique_excepted(r, "technique.device.block_mount", "csi-node",
	                            "docker.io/evil/csi") == NULL);
	CHECK(cw_technique_excepted(r, "technique.cgroup.release_agent", "x",
	                            "registry.k8s.io/sig-storage/csi") == NULL);
	CHECK_STR(cw_technique_excepted(r, "technique.socket.runtime_unix", "dind-1", NULL), "");
	CHECK(cw_technique_excepted(r, "technique.socket.runtime_unix", "app", "") == NULL);
	/* tool rules (the catalogue's) are excepted per tool, never all at once */
	CHECK_STR(cw_technique_excepted(r, "tool.compiler.name", "b", "ci/builder:1"), "b");
	CHECK(cw_technique_excepted(r, "tool.compiler.name", "b", "ci/app:1") == NULL);
	CHECK(cw_technique_excepted(r, "tool.botb.yara", "b", "ci/builder:1") == NULL);
	cw_technique_rules_free(r);
}

TEST(release_agent_by_name_and_fs)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_hit h;
	struct cw_tq_event e = rec(CW_TQS_OPENAT, "/etc/anywhere/release_agent");

	e.flags |= CW_TQF_NAME_MATCH | CW_TQF_FILE;
	e.f_magic = CGROUP_V1;
	e.arg[0] = 01 | 0100;
	e.ret = 3;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.det.rule_id, "technique.cgroup.release_agent");
	CHECK_STR(h.det.cat->severity, "CRITICAL");
	CHECK_STR(h.fs_type, "cgroup");
	CHECK_STR(extra_str(&h, "Syscall_Result"), "success");
	CHECK_STR(extra_str(&h, "Filesystem_Type"), "cgroup");
	CHECK_STR(extra_str(&h, "Syscall"), "openat");
	CHECK_STR(h.cgroup, "/pods/ctr1");
	CHECK(!h.failed);
	cw_technique_hit_clear(&h);

	/* the same name on tmpfs is not an escape */
	e.f_magic = TMPFS;
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);
	cw_technique_rules_free(r);
}

TEST(failed_open_fs_from_proc)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_hit h;
	struct cw_tq_event e = rec(CW_TQS_OPENAT, "/proc/sys/kernel/core_pattern");

	/* EROFS: no fd; the filesystem is learned through 4242/root -> "/" */
	e.flags |= CW_TQF_NAME_MATCH;
	e.ret = -EROFS;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.det.rule_id, "technique.kernel.core_pattern");
	CHECK_STR(h.fs_type, "proc");
	CHECK(h.failed);
	CHECK_STR(extra_str(&h, "Syscall_Result"), "EROFS");
	CHECK(json_is_true(json_object_get(h.det.extra, "Attempt_Failed")));
	cw_technique_hit_clear(&h);

	/* relative path through the cwd link */
	snprintf(e.s1, sizeof(e.s1), "core_pattern");
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.fs_type, "proc");
	cw_technique_hit_clear(&h);

	/* a name that is ambiguous (modprobe) on a non-proc filesystem: nothing */
	snprintf(e.s1, sizeof(e.s1), "/tmp/modprobe");
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);

	/* caller gone and no process in its mount ns: release_agent still
	 * counts (fs unknown), modprobe does not */
	e.mntns = 999;
	snprintf(e.s1, sizeof(e.s1), "/x/release_agent");
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.fs_type, "unknown");
	cw_technique_hit_clear(&h);
	snprintf(e.s1, sizeof(e.s1), "/proc/sys/kernel/modprobe");
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);
	cw_technique_rules_free(r);
}

TEST(mounts_and_runtime)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_hit h;
	struct cw_tq_event e = rec(CW_TQS_MOUNT, "cgroup");

	snprintf(e.s2, sizeof(e.s2), "/tmp/cgrp");
	snprintf(e.fstype, sizeof(e.fstype), "cgroup");
	snprintf(e.data, sizeof(e.data), "rdma");
	e.ret = -EPERM;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.det.rule_id, "technique.cgroup.v1_mount");
	CHECK_STR(extra_str(&h, "Mount_Options"), "rdma");
	CHECK_STR(extra_str(&h, "Syscall_Result"), "EPERM");
	cw_technique_hit_clear(&h);

	/* runc init mounting the container's cgroups: not a finding... */
	snprintf(e.comm, sizeof(e.comm), "runc:[2:INIT]");
	e.flags |= CW_TQF_FOREIGN_EXE;
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);
	/* ...but a process in the container that only took runc's name is */
	e.flags &= ~CW_TQF_FOREIGN_EXE;
	CHECK_INT(eval(r, &e, &h), 1);
	cw_technique_hit_clear(&h);

	e = rec(CW_TQS_MOUNT, "/dev/sda1");
	snprintf(e.s2, sizeof(e.s2), "/mnt");
	snprintf(e.fstype, sizeof(e.fstype), "ext4");
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.det.rule_id, "technique.device.block_mount");
	CHECK_STR(h.mount_source, "/dev/sda1");
	cw_technique_hit_clear(&h);

	e = rec(CW_TQS_MOUNT, "tmpfs");
	snprintf(e.fstype, sizeof(e.fstype), "tmpfs");
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);

	e = rec(CW_TQS_MKNODAT, "/dev/sdz");
	e.arg[0] = 0060000 | 0600;
	e.arg[1] = (8 << 8) | 1;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.det.rule_id, "technique.device.mknod_block");
	CHECK(strstr(h.det.detail, "dev=8:1") != NULL);
	cw_technique_hit_clear(&h);
	cw_technique_rules_free(r);
}

TEST(setns_ptrace_outside)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_hit h;
	struct cw_tq_event e = rec(CW_TQS_SETNS, NULL);

	e.flags |= CW_TQF_FILE;
	e.f_magic = 0x6e736673;
	e.f_ino = HOST_MNT;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.target_ns, "mnt:[4026531840]");
	cw_technique_hit_clear(&h);
	/* joining the container's own namespace: nothing */
	e.f_ino = CTR_MNT;
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);
	/* host net ns while already in it (hostNetwork): a no-op, nothing */
	e.f_ino = HOST_NET;
	e.netns = HOST_NET;
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);

	/* ptrace from a host-pid container: vpid == host pid; 5000 is outside */
	e = rec(CW_TQS_PTRACE, NULL);
	e.pidns = HOST_PID;
	e.arg[0] = 16;
	e.arg[1] = 5000;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.det.rule_id, "technique.inject.ptrace");
	CHECK_INT(h.target_pid, 5000);
	cw_technique_hit_clear(&h);
	/* a target in the caller's own mount ns: nothing */
	e.arg[1] = 4242;
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);
	/* from the container's own pid ns: vpid 1 resolves to host pid 6000 */
	e = rec(CW_TQS_VM_WRITEV, NULL);
	e.arg[1] = 1;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_INT(h.target_pid, 6000);
	cw_technique_hit_clear(&h);
	cw_technique_rules_free(r);
}

TEST(attempts_on_the_agent)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_env env;
	struct cw_technique_hit h;
	struct cw_tq_event e = rec(CW_TQS_KILL, NULL);

	env_of(&env);
	env.agent_tgid = 5000;
	/* the guard's record of kill -9 from a host-pid container */
	e.flags = CW_TQF_AGENT;
	e.pidns = HOST_PID;
	e.arg[0] = 9;
	e.arg[1] = 5000;
	e.target_pid = 5000;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), 1);
	CHECK_STR(h.det.rule_id, "technique.agent.signal");
	CHECK_STR(h.det.cat->severity, "HIGH");
	CHECK_STR(extra_str(&h, "Signal"), "SIGKILL");
	CHECK_STR(h.syscall, "kill");
	CHECK(json_is_true(json_object_get(h.det.extra, "Target_Is_Agent")));
	CHECK_INT(h.target_pid, 5000);
	cw_technique_hit_clear(&h);
	/* kill(-1): every process, the agent among them */
	e.arg[1] = (uint64_t)-1;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), 1);
	CHECK(strstr(h.det.detail, "every process") != NULL);
	cw_technique_hit_clear(&h);
	/* kill(-pgid): the agent's process group */
	e.arg[1] = (uint64_t)-4321;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), 1);
	CHECK(strstr(h.det.detail, "to process group 4321") != NULL);
	cw_technique_hit_clear(&h);
	/* the same kinds without the guard's flag are no attempt on the agent */
	e.flags = CW_TQF_EXITED;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), 0);
	cw_technique_hit_clear(&h);
	/* ptrace of the agent: the guard's record is technique.agent.trace ... */
	e = rec(CW_TQS_PTRACE, NULL);
	e.flags = CW_TQF_AGENT;
	e.pidns = HOST_PID;
	e.arg[0] = 16;
	e.arg[1] = 5000;
	e.target_pid = 5000;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), 1);
	CHECK_STR(h.det.rule_id, "technique.agent.trace");
	cw_technique_hit_clear(&h);
	/* ... and the technique sensor's record of the same call is left to it */
	e.flags = CW_TQF_EXITED;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), 0);
	cw_technique_hit_clear(&h);
	/* bpf(LINK_DETACH) of one of the agent's links */
	e = rec(CW_TQS_BPF, NULL);
	e.flags = CW_TQF_AGENT;
	e.arg[0] = 34;
	e.arg[1] = 77;
	e.arg[2] = 3;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), 1);
	CHECK_STR(h.det.rule_id, "technique.agent.bpf");
	CHECK(strstr(h.det.detail, "BPF_LINK_DETACH on the agent's link id 77") != NULL);
	cw_technique_hit_clear(&h);
	/* an object type out of range is not read past the table */
	e.arg[2] = 1000;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), 1);
	CHECK(strstr(h.det.detail, "object id 77") != NULL);
	cw_technique_hit_clear(&h);
	cw_technique_rules_free(r);
}

TEST(sockets_modules_runc)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_hit h;
	struct cw_tq_event e = rec(CW_TQS_CONNECT, "/var/run/docker.sock");

	e.arg[0] = 1;
	e.ret = -ENOENT;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(extra_str(&h, "Socket"), "/var/run/docker.sock");
	cw_technique_hit_clear(&h);
	snprintf(e.s1, sizeof(e.s1), "/run/app/app.sock");
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);
	snprintf(e.s1, sizeof(e.s1), "/containerd-shim/k8s.io/abc/shim.sock");
	e.flags |= CW_TQF_ABSTRACT;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.socket, "@/containerd-shim/k8s.io/abc/shim.sock");
	cw_technique_hit_clear(&h);

	e = rec(CW_TQS_CONNECT, NULL);
	e.arg[0] = 2;
	e.arg[2] = 2375;
	e.data[0] = 2;
	e.data[4] = 10, e.data[7] = 1;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.socket, "10.0.0.1:2375");
	cw_technique_hit_clear(&h);
	e.arg[2] = 8080;
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);

	e = rec(CW_TQS_FINIT_MODULE, NULL);
	snprintf(e.fname, sizeof(e.fname), "rootkit.ko");
	e.ret = -EPERM;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.module, "rootkit.ko");
	CHECK_STR(h.det.cat->id, "escape_kernel_module");
	cw_technique_hit_clear(&h);

	e = rec(CW_TQS_CHDIR, "/proc/self/fd/7");
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.det.rule_id, "technique.runc.cve_2024_21626_chdir");
	cw_technique_hit_clear(&h);
	snprintf(e.s1, sizeof(e.s1), "/proc/self/cwd");
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);

	e = rec(CW_TQS_OPEN, "/proc/1234/exe");
	e.flags |= CW_TQF_NAME_MATCH;
	e.ret = -ETXTBSY;
	e.mntns = 999; /* nothing to statfs: the path's shape decides */
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.det.rule_id, "technique.runc.cve_2019_5736");
	cw_technique_hit_clear(&h);
	snprintf(e.s1, sizeof(e.s1), "/usr/lib/app/exe");
	CHECK_INT(eval(r, &e, &h), 0);
	cw_technique_hit_clear(&h);
	cw_technique_rules_free(r);
}

TEST(usermode_helper_and_malformed)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_env env;
	struct cw_technique_hit h;
	struct cw_tq_umh u;
	struct cw_tq_event e = rec(CW_TQS_OPEN, "/x");

	env_of(&env);
	memset(&u, 0, sizeof(u));
	u.magic = CW_TQ_UMH_MAGIC;
	u.pid = 99;
	u.ppid = 2;
	snprintf(u.filename, sizeof(u.filename), "/sbin/modprobe");
	snprintf(u.parent_comm, sizeof(u.parent_comm), "kworker/u4:1");
	CHECK_INT(cw_technique_eval(r, &env, &u, sizeof(u), &h), 0);
	cw_technique_hit_clear(&h);
	snprintf(u.filename, sizeof(u.filename), "/var/lib/docker/overlay2/ab/diff/cmd");
	CHECK_INT(cw_technique_eval(r, &env, &u, sizeof(u), &h), 1);
	CHECK(h.host_side);
	CHECK(json_is_true(json_object_get(h.det.extra, "Helper_In_Container_Rootfs")));
	CHECK_STR(extra_str(&h, "Helper_Parent"), "kworker/u4:1");
	cw_technique_hit_clear(&h);

	CHECK_INT(cw_technique_eval(r, &env, &u, sizeof(u) - 1, &h), -EINVAL);
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e) - 8, &h), -EINVAL);
	e.sys = 99;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), -EINVAL);
	e.sys = CW_TQS_OPEN;
	e.cgroup_len = 60000;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), -EINVAL);
	/* found by the records fuzzer: a result below -4095 (here LLONG_MIN) is no
	 * kernel's, and negating it for its errno name overflowed */
	e.cgroup_len = 0;
	e.flags |= CW_TQF_EXITED;
	e.ret = INT64_MIN;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), -EINVAL);
	e.ret = -4096;
	CHECK_INT(cw_technique_eval(r, &env, &e, sizeof(e), &h), -EINVAL);
	cw_technique_rules_free(r);
}

TEST(hit_as_exec)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_hit h;
	struct cw_tq_event e = rec(CW_TQS_INIT_MODULE, NULL);
	static struct cw_exec ex;
	struct cw_event ev;

	e.arg[0] = 4096;
	CHECK_INT(eval(r, &e, &h), 1);
	cw_technique_hit_exec(&h, &ev, &ex);
	CHECK(ex.ev == &ev);
	CHECK_INT(ex.argc, 3);
	CHECK_STR(ex.argv[0], "sh");
	CHECK_STR(ex.argv[2], "x");
	CHECK(ex.argv[3] == NULL);
	CHECK_STR(ex.cgroup, "/pods/ctr1");
	CHECK_INT(ev.pidns, CTR_PID);
	CHECK_INT(ev.mntns, CTR_MNT);
	CHECK_INT(ev.pid, 4242);
	CHECK_STR(ex.path, "busybox"); /* 4242/exe does not exist: the kernel's name */
	CHECK_STR(h.module, "(image of 4096 bytes)");
	cw_technique_hit_clear(&h);
	cw_technique_rules_free(r);
}

/* The finding names the caller's program by the path the kernel resolved
 * when it sent the record, whether or not the process still runs when the
 * record is read (the bug: a lagging reader said "busybox", not its path). */
TEST(executable_path_from_the_kernel)
{
	struct cw_technique_rules *r = rules();
	struct cw_technique_hit h;
	struct cw_tq_event e = rec(CW_TQS_INIT_MODULE, NULL);
	char link[600];

	e.arg[0] = 4096;
	memcpy(e.exe_path, "busybox\0bin\0", 12);
	e.exe_len = 12;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.exe, "/bin/busybox"); /* 4242/exe does not exist */
	cw_technique_hit_clear(&h);

	/* a path too deep for the record: /proc/PID/exe while it runs the same
	 * program, else the kernel's name */
	e.flags |= CW_TQF_EXE_TRUNC;
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.exe, "busybox");
	cw_technique_hit_clear(&h);
	snprintf(link, sizeof(link), "%s/4242/exe", proc_dir);
	CHECK_INT(symlink("/very/deep/busybox", link), 0);
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.exe, "/very/deep/busybox");
	cw_technique_hit_clear(&h);
	snprintf(e.exe, sizeof(e.exe), "other"); /* exec'ed since: not that program */
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK_STR(h.exe, "other");
	cw_technique_hit_clear(&h);
	unlink(link);

	/* hostile lengths: no NUL anywhere, a length past the field */
	e.flags &= ~CW_TQF_EXE_TRUNC;
	memset(e.exe_path, 'a', sizeof(e.exe_path));
	e.exe_len = 60000;
	memset(e.exe, 'b', sizeof(e.exe));
	CHECK_INT(eval(r, &e, &h), 1);
	CHECK(h.exe[0] == '/' && strlen(h.exe) == 1 + sizeof(e.exe_path));
	cw_technique_hit_clear(&h);
	cw_technique_rules_free(r);
}

static int count_hit(void *ctx, const struct cw_technique_hit *hit)
{
	(void)hit;
	++*(int *)ctx;
	return 0;
}

/* The real sensor in each attach mode sees a host write-open of a watched
 * name (include_host), with the path read at the right moment; a read-only
 * open of the same file is dropped in the kernel. Needs root and BPF. */
TEST(sensor_attach_modes)
{
	static const enum cw_technique_attach modes[] = {CW_TQ_ATTACH_SYSCALL_TP, CW_TQ_ATTACH_RAW};
	char dir[] = "/tmp/cw-tq-sensor.XXXXXX", path[64];

	CHECK_STR(cw_technique_attach_name(CW_TQ_ATTACH_RAW), "raw-tracepoints");
	CHECK(!cw_technique_watches(NULL, "openat"));
	if (geteuid() != 0) {
		printf("# sensor_attach_modes: not root, BPF part skipped\n");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/release_agent", dir);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct cw_technique_opts o = {.sz = sizeof(o),
		                              .include_host = true,
		                              .attach = modes[m],
		                              .on_detection = count_hit};
		struct cw_technique_stats st;
		struct cw_technique *t = NULL;
		int hits = 0, fd, i, rc;

		o.ctx = &hits;
		rc = cw_technique_open(&t, &o);
		CHECK_INT(rc, 0);
		if (rc)
			continue;
		CHECK_INT(cw_technique_attach_mode(t), modes[m]);
		CHECK(cw_technique_watches(t, "openat"));
		CHECK(cw_technique_watches(t, "setns"));
		CHECK(!cw_technique_watches(t, "getppid"));
		fd = open(path, O_RDONLY | O_CREAT, 0600); /* O_CREAT: a write-open */
		CHECK(fd >= 0);
		close(fd);
		fd = open(path, O_RDONLY);
		CHECK(fd >= 0);
		close(fd);
		for (i = 0; i < 50; i++) {
			CHECK(cw_technique_poll(t, 100) >= 0);
			CHECK_INT(cw_technique_stats(t, &st), 0);
			if (st.records >= 1 && st.kernel[CW_TQC_FILTERED] >= 1)
				break;
		}
		CHECK(st.records >= 1);
		CHECK(st.kernel[CW_TQC_SUBMITTED] >= 1);
		CHECK(st.kernel[CW_TQC_FILTERED] >= 1);
		CHECK_INT(st.malformed, 0);
		cw_technique_close(t);
	}
	unlink(path);
	rmdir(dir);
}

static const struct cw_test tests[] = {
    {"default_rules_load", default_rules_load},
    {"bad_rules_rejected", bad_rules_rejected},
    {"exceptions", exceptions},
    {"release_agent_by_name_and_fs", release_agent_by_name_and_fs},
    {"failed_open_fs_from_proc", failed_open_fs_from_proc},
    {"mounts_and_runtime", mounts_and_runtime},
    {"setns_ptrace_outside", setns_ptrace_outside},
    {"attempts_on_the_agent", attempts_on_the_agent},
    {"sockets_modules_runc", sockets_modules_runc},
    {"usermode_helper_and_malformed", usermode_helper_and_malformed},
    {"hit_as_exec", hit_as_exec},
    {"executable_path_from_the_kernel", executable_path_from_the_kernel},
    {"sensor_attach_modes", sensor_attach_modes},
};

static int run_all(int argc, char **argv);
int main(int argc, char **argv)
{
	int rc;

	make_proc();
	rc = run_all(argc, argv);
	rm_proc();
	return rc;
}
#define main run_all_main
CW_TEST_MAIN(tests)
#undef main
static int run_all(int argc, char **argv)
{
	return run_all_main(argc, argv);
}
