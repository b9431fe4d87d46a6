/* test_capture.c - executed files captured at exec time (src/capture.c): the
 * file of an exec that already exited, and deleted, is still there to read;
 * a file nobody asks for stops raising events. Needs root (fanotify). */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "util.h"

static char dir[64] = "/tmp/cw-capture-XXXXXX";

static void copy_true(const char *to)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "cp /bin/true '%s'", to);
	if (system(cmd) != 0)
		abort();
}

static pid_t run(const char *path)
{
	pid_t p = fork();
	int st;

	if (p == 0) {
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	waitpid(p, &st, 0);
	return p;
}

static void key_of(const char *path, struct cw_file_key *k)
{
	struct stat st;

	memset(k, 0, sizeof(*k));
	if (stat(path, &st))
		abort();
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->size = st.st_size;
	k->mtime_sec = st.st_mtim.tv_sec;
	k->mtime_nsec = st.st_mtim.tv_nsec;
}

static bool root_or_skip(void)
{
	if (geteuid() == 0)
		return true;
	if (getenv("CI") && !strcmp(getenv("CI"), "true")) {
		CHECK(!"test_capture needs root (CI=true: refusing to skip)");
		return false;
	}
	printf("# skip: needs root\n");
	return false;
}

/* A capture of the filesystem holding /tmp, or NULL (skipped, or a failed check). */
static struct cw_capture *open_tmp(void)
{
	const char *const fs[] = {"/tmp", NULL};
	struct cw_capture *c = NULL;

	if (!root_or_skip())
		return NULL;
	CHECK_INT(
	    cw_capture_open(
	        &c, &(struct cw_capture_opts){.sz = sizeof(struct cw_capture_opts), .fs = fs}),
	    0);
	return c;
}

TEST(exited_and_deleted)
{
	struct cw_capture *c = open_tmp();
	struct cw_file_key k;
	char path[128], buf[4];
	pid_t p;
	int fd;

	if (!c)
		return;
	snprintf(path, sizeof(path), "%s/tool", dir);
	copy_true(path);
	key_of(path, &k);
	p = run(path); /* exited... */
	unlink(path);  /* ...and deleted */
	fd = cw_capture_take(c, (uint32_t)p, &k);
	CHECK(fd >= 0);
	if (fd >= 0) {
		struct stat st;

		CHECK(fstat(fd, &st) == 0 && st.st_ino == k.ino && st.st_nlink == 0);
		CHECK(pread(fd, buf, 4, 0) == 4 && !memcmp(buf,
		                                           "\x7f"
		                                           "ELF",
		                                           4));
		close(fd);
	}
	CHECK_INT(cw_capture_take(c, 999999, &(struct cw_file_key){.ino = 1, .size = 1}), -ENOENT);
	cw_capture_close(c);
}

TEST(unclaimed_stops_raising_events)
{
	struct cw_capture *c = open_tmp();
	struct cw_capture_stats a, b;
	struct cw_file_key k;
	struct timespec pause = {.tv_nsec = 150 * 1000000};
	char path[128];

	if (!c)
		return;
	snprintf(path, sizeof(path), "%s/host-tool", dir);
	copy_true(path);
	run(path);
	cw_capture_drain(c);
	nanosleep(&pause, NULL);
	run(path); /* again, 150 ms later, unclaimed: ignored from now on */
	cw_capture_drain(c);
	cw_capture_get_stats(c, &a);
	CHECK(a.ignore_marks >= 1);
	key_of(path, &k);
	/* this file's execs raise nothing now (the whole group's count could
	 * move: any new program run on the host meanwhile raises an event) */
	for (int i = 0; i < 2; i++)
		CHECK_INT(cw_capture_take(c, (uint32_t)run(path), &k), -ENOENT);
	cw_capture_get_stats(c, &b);
	CHECK(b.claimed == a.claimed);
	cw_capture_close(c);
	unlink(path);
}

static const struct cw_test tests[] = {
    {"exited_and_deleted", exited_and_deleted},
    {"unclaimed_stops_raising_events", unclaimed_stops_raising_events},
};

static void init(void) __attribute__((constructor));
static void init(void)
{
	if (!mkdtemp(dir))
		abort();
}

static void fini(void) __attribute__((destructor));
static void fini(void)
{
	rmdir(dir);
}

CW_TEST_MAIN(tests)
