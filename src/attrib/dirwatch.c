/* dirwatch.c - inotify over runtime state roots (see dirwatch.h). */
#include "dirwatch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "util.h"

#define ROOT_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR)
#define SUB_MASK  (IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_ONLYDIR)

struct cw_dirwatch {
	int fd;
	char *const *roots;
	size_t nroots;
	int *wd;          /* per root, -1 while it does not exist */
	int64_t tried_ns; /* when missing roots were last tried */
};

static void watch_subdirs(struct cw_dirwatch *w, size_t r)
{
	DIR *d = opendir(w->roots[r]);
	struct dirent *de;
	char p[PATH_MAX];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		snprintf(p, sizeof(p), "%s/%s", w->roots[r], de->d_name);
		inotify_add_watch(w->fd, p, SUB_MASK);
	}
	closedir(d);
}

/* Watch roots that exist now; returns 1 if one was added. Missing roots are
 * tried at most every CW_DIRWATCH_RETRY_MS (a path lookup each: drains come
 * with every batch of events). */
static int watch_roots(struct cw_dirwatch *w)
{
	int64_t now = cw_mono_ns();
	int added = 0;

	if (w->tried_ns && now - w->tried_ns < (int64_t)CW_DIRWATCH_RETRY_MS * 1000000)
		return 0;
	w->tried_ns = now;
	for (size_t r = 0; r < w->nroots; r++) {
		if (w->wd[r] >= 0)
			continue;
		w->wd[r] = inotify_add_watch(w->fd, w->roots[r], ROOT_MASK);
		if (w->wd[r] >= 0) {
			watch_subdirs(w, r);
			added = 1;
		}
	}
	return added;
}

int cw_dirwatch_new(struct cw_dirwatch **out, char *const *roots, size_t nroots)
{
	struct cw_dirwatch *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->wd = malloc((nroots ? nroots : 1) * sizeof(*w->wd));
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!w->wd || w->fd < 0) {
		int err = w->wd ? -errno : -ENOMEM;

		cw_dirwatch_free(w);
		return err;
	}
	for (size_t r = 0; r < nroots; r++)
		w->wd[r] = -1;
	w->roots = roots;
	w->nroots = nroots;
	watch_roots(w);
	*out = w;
	return 0;
}

void cw_dirwatch_free(struct cw_dirwatch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->wd);
	free(w);
}

int cw_dirwatch_fd(const struct cw_dirwatch *w)
{
	return w ? w->fd : -1;
}

/* A new directory in a root: watch it (its state file comes next). */
static void on_root_event(struct cw_dirwatch *w, const struct inotify_event *ev)
{
	char p[PATH_MAX];

	if (!(ev->mask & (IN_CREATE | IN_MOVED_TO)) || !(ev->mask & IN_ISDIR) || !ev->len)
		return;
	for (size_t r = 0; r < w->nroots; r++) {
		if (w->wd[r] != ev->wd)
			continue;
		snprintf(p, sizeof(p), "%s/%s", w->roots[r], ev->name);
		inotify_add_watch(w->fd, p, SUB_MASK);
	}
}

int cw_dirwatch_drain(struct cw_dirwatch *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed;

	if (!w)
		return 0;
	changed = watch_roots(w);
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n <= 0)
			return changed;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				changed = 1;
			else if (ev->mask & IN_IGNORED)
				for (size_t r = 0; r < w->nroots; r++)
					w->wd[r] = w->wd[r] == ev->wd ? -1 : w->wd[r];
			else
				changed = 1;
			on_root_event(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}
