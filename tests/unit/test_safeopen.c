/* test_safeopen.c - opening container-controlled paths (src/safeopen.c): a
 * symlink to a host path resolves inside the container's root, a FIFO or a
 * device is refused without blocking, /proc magic links are not followed; a
 * mapped file is read back through map_files after it was deleted. */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safeopen.h"
#include "util.h"

static char root[PATH_MAX], host[PATH_MAX];

static void put(const char *rel, const char *text)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	f = fopen(p, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup(void)
{
	char p[PATH_MAX * 2], q[PATH_MAX * 2];

	snprintf(root, sizeof(root), "/tmp/cw-safeopen-XXXXXX");
	snprintf(host, sizeof(host), "/tmp/cw-safeopen-host-XXXXXX");
	if (!mkdtemp(root) || !mkdtemp(host))
		abort();
	snprintf(p, sizeof(p), "%s/tmp", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/deepce", host); /* a FIFO on the "host" */
	if (mkfifo(p, 0600))
		abort();
	snprintf(p, sizeof(p), "%s/secret", host);
	if (symlink("/etc/hostname", p) && errno != EEXIST)
		abort();
	snprintf(p, sizeof(p), "%s/tmp/d", root); /* the container's swapped directory */
	if (symlink(host, p))
		abort();
	snprintf(p, sizeof(p), "%s/tmp/fifo", root);
	if (mkfifo(p, 0600))
		abort();
	put("/tmp/tool", "inside");
	snprintf(p, sizeof(p), "%s/tmp/abs", root); /* absolute, inside the root */
	if (symlink("/tmp/tool", p))
		abort();
	snprintf(p, sizeof(p), "%s/tmp/up", root);
	if (symlink("../../../../../../../tmp/tool", p))
		abort();
	snprintf(p, sizeof(p), "%s/tmp/magic", root);
	snprintf(q, sizeof(q), "/proc/%d/root%s/tmp/tool", (int)getpid(), root);
	if (symlink(q, p))
		abort();
}

TEST(host_symlink_stays_inside)
{
	int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int64_t t0 = ms_now();
	int fd = cw_open_beneath(dir, "/tmp/d/deepce");

	CHECK_INT(fd, -ENOENT); /* the host's FIFO is not reachable */
	CHECK(ms_now() - t0 < 500);
	CHECK_INT(cw_open_beneath(dir, "/tmp/d/secret"), -ENOENT);
	close(dir);
}

TEST(fifo_refused_without_blocking)
{
	int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int64_t t0 = ms_now();

	CHECK_INT(cw_open_beneath(dir, "/tmp/fifo"), -CW_ENOTREG);
	CHECK(ms_now() - t0 < 500);
	CHECK_INT(cw_open_beneath(dir, "/tmp"), -CW_ENOTREG);
	CHECK_STR(cw_open_error(-CW_ENOTREG),
	          "not a regular file (FIFOs, devices and sockets are refused)");
	close(dir);
}

TEST(resolution_inside_the_root)
{
	int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
	char buf[16] = {0};

	fd = cw_open_beneath(dir, "/tmp/abs"); /* absolute symlink: the root's /tmp/tool */
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 6 && !strcmp(buf, "inside"));
	if (fd >= 0)
		close(fd);
	fd = cw_open_beneath(dir, "/tmp/up"); /* ".." cannot climb out */
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(cw_open_beneath(dir, "/tmp/magic") < 0); /* no /proc magic links */
	CHECK_INT(cw_open_beneath(dir, ""), -EINVAL);
	CHECK_INT(cw_open_beneath(-1, "/tmp/tool"), -EBADF);
	CHECK_INT(cw_proc_dir(NULL, 0, "root"), -ESRCH);
	close(dir);
}

/* A mapping read back through /proc/self/map_files after its file was
 * deleted; the wrong inode, no mapping, a device mapping: refused. */
TEST(mapped_file_after_unlink)
{
	char p[PATH_MAX + 16], buf[16] = {0};
	struct stat st;
	void *m, *z;
	int fd, zfd;

	snprintf(p, sizeof(p), "%s/mapped", host);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, "mapped", 6) == 6 && fstat(fd, &st) == 0);
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED);
	close(fd);
	unlink(p);
	fd = cw_proc_map_file(getpid(), (uint64_t)(uintptr_t)m, st.st_ino);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 6 && !strcmp(buf, "mapped"));
	if (fd >= 0)
		close(fd);
	CHECK_INT(cw_proc_map_file(getpid(), (uint64_t)(uintptr_t)m, st.st_ino + 1), -ESTALE);
	CHECK_INT(cw_proc_map_file(getpid(), 0x1000, st.st_ino), -ENOENT);
	CHECK_INT(cw_proc_map_file(0, (uint64_t)(uintptr_t)m, st.st_ino), -ESRCH);
	zfd = open("/dev/zero", O_RDONLY | O_CLOEXEC); /* a device's mapping is not a file */
	z = zfd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, zfd, 0) : MAP_FAILED;
	CHECK(z != MAP_FAILED);
	if (z != MAP_FAILED && fstat(zfd, &st) == 0)
		CHECK_INT(cw_proc_map_file(getpid(), (uint64_t)(uintptr_t)z, st.st_ino),
		          -CW_ENOTREG);
	if (zfd >= 0)
		close(zfd);
	if (z != MAP_FAILED)
		munmap(z, 4096);
	if (m != MAP_FAILED)
		munmap(m, 4096);
}

TEST(cleanup)
{
	char cmd[PATH_MAX * 3];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, host);
	CHECK(system(cmd) == 0);
}

static const struct cw_test tests[] = {
    {"host_symlink_stays_inside", host_symlink_stays_inside},
    {"fifo_refused_without_blocking", fifo_refused_without_blocking},
    {"resolution_inside_the_root", resolution_inside_the_root},
    {"mapped_file_after_unlink", mapped_file_after_unlink},
    {"cleanup", cleanup},
};

static void init(void) __attribute__((constructor));
static void init(void)
{
	setup();
}

CW_TEST_MAIN(tests)
