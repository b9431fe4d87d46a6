/* test_exec.c - cw_exec_from_proc, the view of a live process that --block
 * reports refused execs with: a fake proc root (mkdtemp) holds stat, status,
 * cgroup and ns/ files for made-up pids, so comm with spaces and parentheses,
 * the cgroup2-versus-v1-memory choice, a vanished process and the real
 * /proc/self are all checked.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static void fake_pid(int pid, const char *stat, const char *cgroup)
{
	static const char *const ns[] = {"pid", "mnt", "net", "user", "cgroup"};
	char p[256];

	snprintf(p, sizeof(p), "%s/%d", root, pid);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%d/ns", root, pid);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%d/stat", pid);
	put(p, stat);
	snprintf(p, sizeof(p), "%d/status", pid);
	put(p, "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n");
	snprintf(p, sizeof(p), "%d/cgroup", pid);
	put(p, cgroup);
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		snprintf(p, sizeof(p), "%d/ns/%s", pid, ns[i]);
		put(p, ""); /* a plain file's inode stands in for the namespace's */
	}
}

static uint32_t ino_of(int pid, const char *ns)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%d/ns/%s", root, pid, ns);
	return stat(p, &st) == 0 ? (uint32_t)st.st_ino : 0;
}

TEST(v2_cgroup_and_odd_comm)
{
	struct cw_event ev;
	struct cw_exec ex;

	fake_pid(4242, "4242 (my (odd) sh) S 4200 4242 4242 0 -1 4194560 0\n",
	         "12:memory:/runc/abc\n0::/cagewatch-test/cw-blk1\n");
	CHECK_INT(cw_exec_from_proc(root, 4242, &ev, &ex), 0);
	CHECK_STR(ev.comm, "my (odd) sh");
	CHECK_INT(ev.pid, 4242);
	CHECK_INT(ev.tgid, 4242);
	CHECK_INT(ev.ppid, 4200);
	CHECK_INT(ev.uid, 1000);
	CHECK_INT(ev.gid, 100);
	CHECK_INT(ev.mntns, ino_of(4242, "mnt"));
	CHECK_INT(ev.pidns, ino_of(4242, "pid"));
	CHECK(ev.netns && ev.userns && ev.cgroupns);
	CHECK_STR(ex.cgroup, "/cagewatch-test/cw-blk1");
	CHECK(!(ev.flags & CW_F_CGROUP_V1));
	CHECK(ex.ev == &ev);
	CHECK_INT(ex.argc, 0);
	CHECK_STR(ex.path, "");
	CHECK(ex.time_ns > 0);
}

TEST(v1_memory_when_v2_is_root)
{
	struct cw_event ev;
	struct cw_exec ex;

	fake_pid(4343, "4343 (sh) S 1 4343 4343 0 -1 0\n",
	         "13:cpu,cpuacct:/x\n12:blkio,memory:/cagewatch-test/cw-blk2\n0::/\n");
	CHECK_INT(cw_exec_from_proc(root, 4343, &ev, &ex), 0);
	CHECK_STR(ex.cgroup, "/cagewatch-test/cw-blk2");
	CHECK(ev.flags & CW_F_CGROUP_V1);
	CHECK_INT(ev.ppid, 1);
}

TEST(gone_process)
{
	struct cw_event ev;
	struct cw_exec ex;

	CHECK_INT(cw_exec_from_proc(root, 999999, &ev, &ex), -ENOENT);
}

TEST(real_self)
{
	struct cw_event ev;
	struct cw_exec ex;
	struct stat st;

	CHECK_INT(cw_exec_from_proc(NULL, (int)getpid(), &ev, &ex), 0);
	CHECK_INT(ev.ppid, getppid());
	CHECK_INT(ev.uid, getuid());
	CHECK(stat("/proc/self/ns/mnt", &st) == 0);
	CHECK_INT(ev.mntns, (uint32_t)st.st_ino);
	CHECK(ex.cgroup[0] == '/');
	CHECK(ev.comm[0] != 0);
}

static const struct cw_test tests[] = {
    {"v2_cgroup_and_odd_comm", v2_cgroup_and_odd_comm},
    {"v1_memory_when_v2_is_root", v1_memory_when_v2_is_root},
    {"gone_process", gone_process},
    {"real_self", real_self},
};

static void setup(void) __attribute__((constructor));
static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/cw-exec-XXXXXX");
	if (!mkdtemp(root))
		abort();
}

static void teardown(void) __attribute__((destructor));
static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
}

CW_TEST_MAIN(tests)
