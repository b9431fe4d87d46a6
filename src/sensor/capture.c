/* capture.c - executed files captured by the kernel at exec time (see capture.h).
 *
 * Each FAN_OPEN_EXEC event carries a descriptor the kernel opened for the file
 * being executed. Descriptors are held in a small table, one entry per distinct
 * file (identity: device, inode, size, mtime), with the tgid of its latest
 * exec, until an exec record claims them or they expire. Claiming hands out a
 * duplicate, so several execs of one file share one entry.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define PENDING_DEFAULT 4096
#define REPEAT_MS       100 /* an unclaimed file executed again after this is ignored */
#define FS_MAX          64

struct pending {
	int fd;
	uint32_t tgid;
	bool claimed;
	int64_t t_ms; /* first exec seen */
	struct stat st;
};

struct cw_capture {
	int fd;
	unsigned max_pending, expire_ms;
	struct pending *p;
	size_t np;
	dev_t fs[FS_MAX];
	size_t nfs;
	struct cw_capture_stats st; /* updated with __atomic where shared */
};

static const char *const default_fs[] = {"/",
                                         "/var/lib",
                                         "/var/lib/docker",
                                         "/var/lib/containerd",
                                         "/var/lib/containers",
                                         "/run",
                                         "/tmp",
                                         "/var/tmp",
                                         NULL};

static void count(uint64_t *v, uint64_t n)
{
	__atomic_add_fetch(v, n, __ATOMIC_RELAXED);
}

int cw_capture_add_fs(struct cw_capture *c, const char *path)
{
	struct stat st;

	if (!c || !path)
		return -EINVAL;
	if (stat(path, &st) != 0)
		return -errno;
	for (size_t i = 0; i < c->nfs; i++)
		if (c->fs[i] == st.st_dev)
			return 0;
	if (c->nfs == FS_MAX)
		return -ENOSPC;
	c->fs[c->nfs++] = st.st_dev; /* tried once, whatever the outcome */
	if (fanotify_mark(c->fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC, AT_FDCWD,
	                  path) != 0) {
		int err = -errno;

		count(&c->st.mark_errors, 1);
		cw_debug("capture: cannot mark the filesystem of %s: %s", path, strerror(-err));
		return err;
	}
	count(&c->st.filesystems, 1);
	cw_debug("capture: exec opens on the filesystem of %s are captured", path);
	return 1;
}

int cw_capture_open(struct cw_capture **out, const struct cw_capture_opts *opts)
{
	const char *const *fs = opts && opts->fs ? opts->fs : default_fs;
	struct cw_capture *c;

	if (!out)
		return -EINVAL;
	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->max_pending = opts && opts->max_pending ? opts->max_pending : PENDING_DEFAULT;
	c->expire_ms = opts && opts->expire_ms ? opts->expire_ms : 500;
	c->p = calloc(c->max_pending, sizeof(*c->p));
	c->fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE |
	                          FAN_UNLIMITED_MARKS,
	                      O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
	if (!c->p || c->fd < 0) {
		int err = c->p ? -errno : -ENOMEM;

		free(c->p);
		free(c);
		return err;
	}
	for (size_t i = 0; fs[i]; i++)
		cw_capture_add_fs(c, fs[i]);
	if (!c->st.filesystems) {
		cw_capture_close(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

void cw_capture_close(struct cw_capture *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->np; i++)
		close(c->p[i].fd);
	if (c->fd >= 0)
		close(c->fd);
	free(c->p);
	free(c);
}

int cw_capture_fd(const struct cw_capture *c)
{
	return c ? c->fd : -1;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void drop(struct cw_capture *c, size_t i)
{
	close(c->p[i].fd);
	c->p[i] = c->p[--c->np];
}

/* One event's descriptor into the table (or onto the entry of the same file). */
static void hold(struct cw_capture *c, int fd, uint32_t tgid)
{
	struct pending e = {.fd = fd, .tgid = tgid, .t_ms = cw_mono_ms()};
	size_t oldest = 0;

	if (fstat(fd, &e.st) != 0 || !S_ISREG(e.st.st_mode)) {
		close(fd);
		return;
	}
	for (size_t i = 0; i < c->np; i++) {
		if (same_file(&c->p[i].st, &e.st)) {
			/* Executed again and nobody asked for it meanwhile: a host exec
			 * (dropped in the kernel) or a known-clean one. Stop its events
			 * now rather than at expiry: an exec storm of a new host binary
			 * would otherwise pay an event per exec until then. */
			if (!c->p[i].claimed && e.t_ms - c->p[i].t_ms >= REPEAT_MS) {
				count(&c->st.unclaimed, 1);
				cw_capture_ignore(c, fd);
				drop(c, i);
			} else {
				c->p[i].tgid = tgid;
			}
			close(fd);
			return;
		}
		if (c->p[i].t_ms < c->p[oldest].t_ms)
			oldest = i;
	}
	if (c->np == c->max_pending) {
		count(&c->st.evicted, 1);
		drop(c, oldest);
	}
	c->p[c->np++] = e;
}

int cw_capture_drain(struct cw_capture *c)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	int total = 0;

	if (!c)
		return -EINVAL;
	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		struct fanotify_event_metadata *m = (void *)buf;

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? total : -errno;
		if (n == 0)
			return total;
		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			total++;
			if (m->mask & FAN_Q_OVERFLOW)
				count(&c->st.overflows, 1);
			if (m->fd < 0)
				continue;
			count(&c->st.events, 1);
			hold(c, m->fd, (uint32_t)m->pid);
		}
	}
}

/* Does entry e hold the file of this exec record? The record's device is the
 * overlay's for overlay roots, the capture's the layer's: inode, size and mtime
 * then decide (overlayfs keeps the layer's inode number on one filesystem), else
 * the exec's own tgid with the same size. */
static bool matches(const struct pending *e, uint32_t tgid, const struct cw_file_key *k)
{
	if ((int64_t)e->st.st_size != k->size)
		return false;
	if (e->st.st_ino == k->ino && e->st.st_mtim.tv_sec == k->mtime_sec &&
	    e->st.st_mtim.tv_nsec == k->mtime_nsec)
		return true;
	return e->tgid == tgid;
}

static int claim(struct cw_capture *c, size_t i)
{
	int fd = fcntl(c->p[i].fd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return -errno;
	c->p[i].claimed = true;
	count(&c->st.claimed, 1);
	return fd;
}

int cw_capture_take(struct cw_capture *c, uint32_t tgid, const struct cw_file_key *k)
{
	if (!c || !k)
		return -EINVAL;
	cw_capture_drain(c);
	for (size_t i = 0; i < c->np; i++)
		if (matches(&c->p[i], tgid, k))
			return claim(c, i);
	return -ENOENT;
}

void cw_capture_expire(struct cw_capture *c, bool lost_changed)
{
	int64_t now = cw_mono_ms();

	if (!c)
		return;
	cw_capture_drain(c);
	for (size_t i = 0; i < c->np;) {
		if (now - c->p[i].t_ms < (int64_t)c->expire_ms) {
			i++;
			continue;
		}
		if (!c->p[i].claimed) {
			count(&c->st.unclaimed, 1);
			if (!lost_changed)
				cw_capture_ignore(c, c->p[i].fd);
		}
		drop(c, i);
	}
}

int cw_capture_forget_ignores(struct cw_capture *c)
{
	/* without FAN_MARK_MOUNT/FILESYSTEM: the inode marks, i.e. the ignores */
	if (c && fanotify_mark(c->fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL))
		return -errno;
	return 0;
}

int cw_capture_ignore(struct cw_capture *c, int fd)
{
	if (!c || fd < 0)
		return -EINVAL;
	if (fanotify_mark(c->fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC, fd, NULL))
		return -errno;
	count(&c->st.ignore_marks, 1);
	return 0;
}

void cw_capture_get_stats(struct cw_capture *c, struct cw_capture_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!c)
		return;
	st->events = __atomic_load_n(&c->st.events, __ATOMIC_RELAXED);
	st->claimed = __atomic_load_n(&c->st.claimed, __ATOMIC_RELAXED);
	st->unclaimed = __atomic_load_n(&c->st.unclaimed, __ATOMIC_RELAXED);
	st->evicted = __atomic_load_n(&c->st.evicted, __ATOMIC_RELAXED);
	st->overflows = __atomic_load_n(&c->st.overflows, __ATOMIC_RELAXED);
	st->ignore_marks = __atomic_load_n(&c->st.ignore_marks, __ATOMIC_RELAXED);
	st->filesystems = __atomic_load_n(&c->st.filesystems, __ATOMIC_RELAXED);
	st->mark_errors = __atomic_load_n(&c->st.mark_errors, __ATOMIC_RELAXED);
	st->pending = __atomic_load_n(&c->np, __ATOMIC_RELAXED);
}

int cw_capture_take_script(struct cw_capture *c, uint32_t tgid, const struct cw_file_key *bin)
{
	char magic[2];

	if (!c || !bin)
		return -EINVAL;
	cw_capture_drain(c);
	for (size_t i = 0; i < c->np; i++) {
		const struct pending *e = &c->p[i];

		if (e->tgid != tgid || (e->st.st_ino == bin->ino && e->st.st_size == bin->size))
			continue;
		if (pread(e->fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!')
			return claim(c, i);
	}
	return -ENOENT;
}
