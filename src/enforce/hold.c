/* hold.c - user side of `--block`'s hold (see hold.h): deciding holds, and
 * the guardian process that makes sure none is left behind.
 *
 * Identity. A held process is stopped, so it neither exits nor execs by
 * itself; another party could still kill it and its pid be reused. A pidfd
 * is taken first and the task's start time (from /proc, in clock ticks)
 * compared with the one the kernel recorded at the hold, so a signal never
 * reaches another process.
 *
 * The guardian is forked before any thread exists and keeps only the held
 * map and the read end of a pipe whose write end only the agent holds: when
 * the agent dies, however it dies, the pipe reads end of file and the
 * guardian lets every hold go before it exits. Between, it lets go holds
 * older than the limit. It uses nothing but system calls.
 */
#include "hold.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "desk.h"
#include "event.h"
#include "util.h"

#define HELD_MAX 4096 /* the held map's size (hold.bpf.h) */

/* Counters the guardian shares with the agent (a MAP_SHARED page). */
struct shared {
	_Atomic uint64_t released, killed, expired, orphaned, gone;
};

struct cw_hold {
	int held_fd, pipe_wr, limit_ms;
	pid_t guardian;
	struct shared *sh;
	struct cw_desk *desk; /* fanotify's questions, bounded too (or NULL) */
};

/* The interpreters the kernel looks at (by the name execve was given) and
 * the options that give them their program inline. What a script operand is
 * exactly is the catalogue's business: this only decides what is held. */
static const struct {
	const char *name, *inline_opts;
} interps[] = {
    {"sh", "c"},          {"bash", "c"},        {"dash", "c"},        {"ash", "c"},
    {"ksh", "c"},         {"mksh", "c"},        {"zsh", "c"},         {"yash", "c"},
    {"rbash", "c"},       {"python", "cm"},     {"python2", "cm"},    {"python3", "cm"},
    {"python2.7", "cm"},  {"python3.6", "cm"},  {"python3.7", "cm"},  {"python3.8", "cm"},
    {"python3.9", "cm"},  {"python3.10", "cm"}, {"python3.11", "cm"}, {"python3.12", "cm"},
    {"python3.13", "cm"}, {"python3.14", "cm"}, {"pypy", "cm"},       {"pypy3", "cm"},
    {"perl", "eE"},       {"perl5", "eE"},      {"ruby", "e"},        {"node", "epi"},
    {"nodejs", "epi"},    {"php", "r"},         {"lua", "e"},         {"tclsh", ""},
};

static int fill_interps(int fd)
{
	for (size_t i = 0; i < sizeof(interps) / sizeof(interps[0]); i++) {
		char key[CW_COMM_LEN] = {0};
		struct cw_interp v = {{0}};

		strncpy(key, interps[i].name, sizeof(key) - 1);
		memcpy(v.inline_opts, interps[i].inline_opts,
		       strnlen(interps[i].inline_opts, sizeof(v.inline_opts)));
		if (bpf_map_update_elem(fd, key, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Is pid still the task that was held (start time as the kernel recorded it)?
 * System calls only: the guardian runs this. */
static bool same_task(uint32_t pid, uint64_t start_ns)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	if (!p)
		return false;
	/* after ")": field 3 (state) onwards; starttime is field 22 */
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	ticks = strtoull(p, NULL, 10);
	return ticks == start_ns / (1000000000ull / 100); /* USER_HZ */
}

/* Delete tgid's entry (deciding it) and signal it. 1 decided, 0 not ours. */
static int decide(int held_fd, uint32_t tgid, int sig, _Atomic uint64_t *ok, _Atomic uint64_t *gone)
{
	struct cw_held_rec v;
	int pfd, rc = 0;

	if (bpf_map_lookup_elem(held_fd, &tgid, &v))
		return 0;
	pfd = (int)syscall(SYS_pidfd_open, (pid_t)tgid, 0);
	if (bpf_map_delete_elem(held_fd, &tgid)) {
		if (pfd >= 0)
			close(pfd);
		return 0; /* the other side decided first */
	}
	if (pfd < 0 && errno == ENOSYS) { /* before Linux 5.3 (or under valgrind) */
		if (same_task(tgid, v.start_ns) && kill((pid_t)tgid, sig) == 0) {
			atomic_fetch_add(ok, 1);
			return 1;
		}
		atomic_fetch_add(gone, 1);
		return 0;
	}
	if (pfd < 0 || !same_task(tgid, v.start_ns)) {
		atomic_fetch_add(gone, 1);
	} else if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) == 0) {
		atomic_fetch_add(ok, 1);
		rc = 1;
	} else {
		atomic_fetch_add(gone, 1);
	}
	if (pfd >= 0)
		close(pfd);
	return rc;
}

/* Guardian: one pass over the held map; every hold when all, else those
 * older than the limit. Keys are listed first, then decided. */
static void guard_pass(struct cw_hold *h, bool all)
{
	static uint32_t keys[HELD_MAX];
	uint64_t now = boot_ns(), limit = (uint64_t)h->limit_ms * 1000000ull;
	size_t n = 0;

	while (n < HELD_MAX && !bpf_map_get_next_key(h->held_fd, n ? &keys[n - 1] : NULL, &keys[n]))
		n++;
	for (size_t i = 0; i < n; i++) {
		struct cw_held_rec v;

		if (bpf_map_lookup_elem(h->held_fd, &keys[i], &v))
			continue;
		if (!all && (now <= v.held_ns || now - v.held_ns <= limit))
			continue;
		(void)decide(h->held_fd, keys[i], SIGCONT, all ? &h->sh->orphaned : &h->sh->expired,
		             &h->sh->gone);
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Close every descriptor but stdio and the n in keep (negative ones are
 * ignored), up to the soft limit (a tool such as valgrind keeps its own above
 * it). */
static void close_all_but(int *keep, size_t n)
{
	struct rlimit rl = {.rlim_cur = RLIM_INFINITY};
	unsigned int top = ~0U, from = 3;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 0)
		top = (unsigned int)rl.rlim_cur - 1;
	qsort(keep, n, sizeof(*keep), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned int)keep[i] > from)
			syscall(SYS_close_range, from, keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	if (from <= top)
		syscall(SYS_close_range, from, top, 0);
}

static struct cw_hold *guard_self; /* the guardian's own, for its whole life */

static void __attribute__((noreturn)) guard_main(struct cw_hold *h, int pipe_rd)
{
	int keep[] = {h->held_fd, pipe_rd, cw_desk_fd(h->desk)};

	guard_self = h;
	close_all_but(keep, sizeof(keep) / sizeof(keep[0]));
	(void)prctl(PR_SET_NAME, "cagewatch-hold", 0, 0, 0);
	signal(SIGTERM, SIG_IGN); /* it ends when the agent does, not before */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	for (;;) {
		struct pollfd p = {.fd = pipe_rd, .events = POLLIN};
		int rc = poll(&p, 1, 100);

		if (rc > 0) {
			/* The agent closed its end or died: the kernel allows its
			 * questions once nobody holds the group. Its exec program may
			 * still run for a moment while the kernel releases it:
			 * keep letting go for a second. */
			cw_desk_release(h->desk);
			for (int i = 0; i < 10; i++) {
				guard_pass(h, true);
				usleep(100000);
			}
			guard_pass(h, true);
			_exit(0);
		}
		guard_pass(h, false);
		cw_desk_guard(h->desk, h->limit_ms);
	}
}

int cw_hold_open(struct cw_hold **out, int held_fd, int interp_fd, int limit_ms,
                 struct cw_desk *desk)
{
	struct cw_hold *h;
	int p[2], err;

	*out = NULL;
	if (held_fd < 0 || interp_fd < 0 || limit_ms <= 0)
		return -EINVAL;
	if ((err = fill_interps(interp_fd))) {
		cw_err("--block: cannot load the interpreter list into the kernel: %s",
		       strerror(-err));
		return err;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->held_fd = held_fd;
	h->limit_ms = limit_ms;
	h->desk = desk;
	h->sh =
	    mmap(NULL, sizeof(*h->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (h->sh == MAP_FAILED || pipe2(p, O_CLOEXEC)) {
		err = -errno;
		cw_err("--block: cannot set up the hold guardian: %s", strerror(-err));
		if (h->sh != MAP_FAILED)
			munmap(h->sh, sizeof(*h->sh));
		free(h);
		return err;
	}
	(void)fflush(NULL); /* nothing buffered is written twice */
	h->guardian = fork();
	if (h->guardian == 0) {
		close(p[1]);
		guard_main(h, p[0]);
	}
	err = -errno;
	close(p[0]);
	if (h->guardian < 0) {
		cw_err("--block: cannot start the hold guardian: %s", strerror(-err));
		close(p[1]);
		munmap(h->sh, sizeof(*h->sh));
		free(h);
		return err;
	}
	h->pipe_wr = p[1];
	*out = h;
	return 0;
}

void cw_hold_close(struct cw_hold *h)
{
	if (!h)
		return;
	close(h->pipe_wr); /* the guardian lets every hold go, then exits */
	for (int i = 0; i < 200; i++) {
		if (waitpid(h->guardian, NULL, WNOHANG) != 0)
			break;
		usleep(10000);
	}
	munmap(h->sh, sizeof(*h->sh));
	free(h);
}

int cw_hold_decide(struct cw_hold *h, uint32_t tgid, bool kill)
{
	if (!h)
		return 0;
	return decide(h->held_fd, tgid, kill ? SIGKILL : SIGCONT,
	              kill ? &h->sh->killed : &h->sh->released, &h->sh->gone);
}

void cw_hold_get_stats(const struct cw_hold *h, struct cw_hold_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!h)
		return;
	out->released = atomic_load(&h->sh->released);
	out->killed = atomic_load(&h->sh->killed);
	out->expired = atomic_load(&h->sh->expired);
	out->orphaned = atomic_load(&h->sh->orphaned);
	out->gone = atomic_load(&h->sh->gone);
}

int cw_hold_limit_ms(const struct cw_hold *h)
{
	return h ? h->limit_ms : 0;
}
