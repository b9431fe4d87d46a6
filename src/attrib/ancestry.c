/* ancestry.c - parent chain of an exec (ancestry.h). The bounded reader is one
 * long-lived helper thread taking one request at a time: a caller waits for
 * it until a deadline; if the read is still stuck then, the caller goes on
 * without arguments and later callers skip argument reads until the helper
 * comes back, so at most one thread is ever held by a hostile process.
 */
#include "ancestry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started, busy, pending, done;
	char path[PATH_MAX];
	char buf[CW_ANC_ARGS_MAX + 1];
	ssize_t n;
	struct cw_ancestry_stats st;
} rd = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void *reader(void *arg)
{
	char path[PATH_MAX], buf[CW_ANC_ARGS_MAX + 1];

	(void)arg;
	pthread_mutex_lock(&rd.mu);
	for (;;) {
		ssize_t n = -1;
		int fd;

		while (!rd.pending)
			pthread_cond_wait(&rd.cv, &rd.mu);
		rd.pending = false;
		memcpy(path, rd.path, sizeof(path));
		pthread_mutex_unlock(&rd.mu);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf));
			close(fd);
		}
		pthread_mutex_lock(&rd.mu);
		rd.n = n;
		if (n > 0)
			memcpy(rd.buf, buf, (size_t)n);
		rd.done = true;
		rd.busy = false;
		pthread_cond_broadcast(&rd.cv);
	}
	return NULL;
}

/* Read up to CW_ANC_ARGS_MAX + 1 bytes of path within timeout_ms. Returns
 * the byte count, or -ETIMEDOUT / -EBUSY (the helper is still held) / -errno. */
static ssize_t bounded_read(const char *path, char *out, int timeout_ms)
{
	struct timespec dl;
	ssize_t n = -ETIMEDOUT;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&rd.mu);
	if (!rd.started) {
		pthread_t th;

		if (pthread_create(&th, NULL, reader, NULL)) {
			pthread_mutex_unlock(&rd.mu);
			return -EAGAIN;
		}
		pthread_detach(th);
		rd.started = true;
	}
	if (rd.busy) {
		rd.st.args_timed_out++;
		pthread_mutex_unlock(&rd.mu);
		return -EBUSY;
	}
	cw_strlcpy(rd.path, path, sizeof(rd.path));
	rd.busy = rd.pending = true;
	rd.done = false;
	pthread_cond_broadcast(&rd.cv);
	while (!rd.done)
		if (pthread_cond_timedwait(&rd.cv, &rd.mu, &dl) == ETIMEDOUT)
			break;
	if (rd.done) {
		n = rd.n < 0 ? -EIO : rd.n;
		if (n > 0)
			memcpy(out, rd.buf, (size_t)n);
	} else {
		rd.st.args_timed_out++;
		cw_warn("reading %s took longer than %d ms (its memory may be held on "
		        "purpose): ancestors' arguments are left out until it returns",
		        path, timeout_ms);
	}
	pthread_mutex_unlock(&rd.mu);
	return n;
}

/* Is <proc>/<pid> still the process that started at start_ns, running the
 * program it ran then (comm unchanged: an exec since changes it)? */
static bool same_process(const char *proc, uint32_t pid, uint64_t start_ns, const char *comm)
{
	long hz = sysconf(_SC_CLK_TCK);
	char now[CW_COMM_LEN + 1];
	uint64_t ticks;

	if (hz <= 0 || cw_proc_stat_start(proc, (int)pid, &ticks, now, sizeof(now)))
		return false;
	return !strncmp(now, comm, CW_COMM_LEN) &&
	       ticks == start_ns / (1000000000ULL / (unsigned long long)hz);
}

static void read_one(const char *proc, const struct cw_ancestor *k, int timeout_ms,
                     struct cw_ancestor_info *o)
{
	char path[PATH_MAX], buf[CW_ANC_ARGS_MAX + 1];
	ssize_t n;

	o->pid = k->tgid;
	memcpy(o->comm, k->comm, CW_COMM_LEN);
	o->comm[CW_COMM_LEN] = '\0';
	__atomic_fetch_add(&rd.st.read, 1, __ATOMIC_RELAXED);
	if (!same_process(proc, k->tgid, k->start_ns, o->comm)) {
		__atomic_fetch_add(&rd.st.gone, 1, __ATOMIC_RELAXED);
		return;
	}
	o->alive = true;
	snprintf(path, sizeof(path), "%s/%u/exe", proc, k->tgid);
	n = readlink(path, o->path, sizeof(o->path) - 1);
	o->path[n > 0 ? n : 0] = '\0';
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc, k->tgid);
	n = bounded_read(path, buf, timeout_ms);
	if (n > 0) {
		o->args_truncated = n > CW_ANC_ARGS_MAX;
		o->args_len = (size_t)(n > CW_ANC_ARGS_MAX ? CW_ANC_ARGS_MAX : n);
		memcpy(o->args, buf, o->args_len);
	}
	/* the process may have exited or exec'd meanwhile */
	if (!same_process(proc, k->tgid, k->start_ns, o->comm)) {
		o->alive = false;
		o->path[0] = '\0';
		o->args_len = 0;
	}
}

void cw_ancestry_read(const char *proc_root, const struct cw_event *ev, int timeout_ms,
                      struct cw_ancestry *out)
{
	const char *proc = proc_root ? proc_root : "/proc";
	int n;

	memset(out, 0, sizeof(*out));
	if (!ev)
		return;
	n = ev->n_ancestors < CW_ANCESTORS ? ev->n_ancestors : CW_ANCESTORS;
	for (int i = 0; i < n; i++) {
		read_one(proc, &ev->anc[i], timeout_ms, &out->a[i]);
		if (i > 0)
			out->a[i - 1].ppid = out->a[i].pid;
	}
	out->n = n;
}

void cw_ancestry_get_stats(struct cw_ancestry_stats *st)
{
	pthread_mutex_lock(&rd.mu);
	*st = rd.st;
	pthread_mutex_unlock(&rd.mu);
}
