/* test_dirwatch.c - the runtime state roots' inotify watch: changes under a
 * root and its container directories are reported once, a root made after
 * the watch is picked up within CW_DIRWATCH_RETRY_MS (its containers then
 * count as a change), and a drain with nothing new costs no path lookup of a
 * missing root (strace-free: the time gate is what is checked). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dirwatch.h"

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

/* A root that exists: a container directory and its state file are changes,
 * a quiet drain is not. */
static void existing_root(void)
{
	char dir[] = "/tmp/cw-dirwatch-XXXXXX", p[256];
	char *roots[1] = {dir};
	struct cw_dirwatch *w = NULL;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(cw_dirwatch_new(&w, roots, 1), 0);
	CHECK_INT(cw_dirwatch_drain(w), 0);
	snprintf(p, sizeof(p), "%s/ctr1", dir);
	CHECK_INT(mkdir(p, 0700), 0);
	CHECK_INT(cw_dirwatch_drain(w), 1);
	CHECK_INT(cw_dirwatch_drain(w), 0);
	snprintf(p, sizeof(p), "%s/ctr1/state.json", dir);
	touch(p); /* watched since its directory appeared */
	CHECK_INT(cw_dirwatch_drain(w), 1);
	CHECK_INT(cw_dirwatch_drain(w), 0);
	unlink(p);
	snprintf(p, sizeof(p), "%s/ctr1", dir);
	rmdir(p);
	cw_dirwatch_free(w);
	rmdir(dir);
}

/* A root made after the watch: not looked up again before the retry time,
 * then watched with the container directory already in it. */
static void late_root(void)
{
	char base[] = "/tmp/cw-dirwatch-XXXXXX", root[256], p[300];
	char *roots[1] = {root};
	struct cw_dirwatch *w = NULL;

	CHECK(mkdtemp(base) != NULL);
	snprintf(root, sizeof(root), "%s/runc", base);
	CHECK_INT(cw_dirwatch_new(&w, roots, 1), 0);
	CHECK_INT(mkdir(root, 0700), 0);
	snprintf(p, sizeof(p), "%s/ctr1", root);
	CHECK_INT(mkdir(p, 0700), 0);
	CHECK_INT(cw_dirwatch_drain(w), 0); /* within the retry time: not tried */
	sleep_ms(CW_DIRWATCH_RETRY_MS + 50);
	CHECK_INT(cw_dirwatch_drain(w), 1); /* the root and its container */
	CHECK_INT(cw_dirwatch_drain(w), 0);
	snprintf(p, sizeof(p), "%s/ctr1/state.json", root);
	touch(p);
	CHECK_INT(cw_dirwatch_drain(w), 1);
	unlink(p);
	snprintf(p, sizeof(p), "%s/ctr1", root);
	rmdir(p);
	rmdir(root);
	cw_dirwatch_free(w);
	rmdir(base);
}

static const struct cw_test tests[] = {
    {"existing_root", existing_root},
    {"late_root", late_root},
};
CW_TEST_MAIN(tests)
