/* test_hold.c - --block's hold, user side (src/enforce/hold.c), on real BPF
 * maps and real stopped processes: a decision is made once (the agent or the
 * guardian), a reused or gone pid is never signalled, the guardian lets go
 * holds past the limit and every hold when the agent's side closes. Needs
 * root (BPF maps); skipped off CI without it. */
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "event.h"
#include "hold.h"

static int held_fd = -1, interp_fd = -1;

static bool maps(void)
{
	if (held_fd >= 0)
		return true;
	held_fd =
	    bpf_map_create(BPF_MAP_TYPE_HASH, "held", 4, sizeof(struct cw_held_rec), 64, NULL);
	interp_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "interp", CW_COMM_LEN,
	                           sizeof(struct cw_interp), 128, NULL);
	if (held_fd < 0 || interp_fd < 0) {
		if (getenv("CI") && !strcmp(getenv("CI"), "true")) {
			fprintf(stderr, "  BPF maps refused (%s): CI=true needs root\n",
			        strerror(errno));
			CHECK(!"BPF maps");
		} else {
			fprintf(stderr, "  skipped: BPF maps need root\n");
		}
		return false;
	}
	return true;
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A child stopped as the exec program would stop it, and its held entry
 * (start time from /proc unless bad_start). */
static pid_t held_child(uint64_t held_ns, bool bad_start)
{
	unsigned long long ticks = 0;
	struct cw_held_rec v = {0};
	char path[64], buf[1024], *p;
	pid_t pid = fork();
	int st, field = 2;
	FILE *f;

	if (pid == 0) {
		raise(SIGSTOP);
		_exit(7);
	}
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	if (f)
		fclose(f);
	for (p = strrchr(buf, ')'); p && *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (p)
		ticks = strtoull(p, NULL, 10);
	v.start_ns = (ticks + (bad_start ? 5 : 0)) * 10000000ull;
	v.held_ns = held_ns;
	v.reason = CW_HOLD_MOUNT;
	CHECK(bpf_map_update_elem(held_fd, &(uint32_t){(uint32_t)pid}, &v, BPF_ANY) == 0);
	return pid;
}

/* How the child ended: its exit status, or 100 + the signal that killed it,
 * -1 if it is still stopped after timeout_ms. */
static int ended(pid_t pid, int timeout_ms)
{
	int st;

	for (int i = 0; i < timeout_ms / 10; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
		usleep(10000);
	}
	return -1;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

TEST(decide_once)
{
	struct cw_hold *h = NULL;
	struct cw_hold_stats s;
	pid_t a, b;

	if (!maps())
		return;
	CHECK_INT(cw_hold_open(&h, held_fd, interp_fd, 60000, NULL), 0);
	a = held_child(boot_ns(), false);
	b = held_child(boot_ns(), false);
	CHECK_INT(cw_hold_decide(h, (uint32_t)a, false), 1);
	CHECK_INT(ended(a, 2000), 7);                        /* let go: it ran on */
	CHECK_INT(cw_hold_decide(h, (uint32_t)a, false), 0); /* decided already */
	CHECK_INT(cw_hold_decide(h, (uint32_t)b, true), 1);
	CHECK_INT(ended(b, 2000), 100 + SIGKILL);
	cw_hold_get_stats(h, &s);
	CHECK_INT(s.released, 1);
	CHECK_INT(s.killed, 1);
	cw_hold_close(h);
}

TEST(reused_pid_untouched)
{
	struct cw_hold *h = NULL;
	struct cw_hold_stats s;
	pid_t a;

	if (!maps())
		return;
	CHECK_INT(cw_hold_open(&h, held_fd, interp_fd, 60000, NULL), 0);
	a = held_child(boot_ns(), true); /* its entry names another start time */
	CHECK_INT(cw_hold_decide(h, (uint32_t)a, true), 0);
	CHECK_INT(ended(a, 200), -1); /* neither killed nor let go */
	cw_hold_get_stats(h, &s);
	CHECK_INT(s.gone, 1);
	CHECK_INT(s.killed, 0);
	reap(a); /* still ours: stopped, not reaped */
	cw_hold_close(h);
}

TEST(guardian_limit_and_close)
{
	struct cw_hold *h = NULL;
	struct cw_hold_stats s;
	pid_t old, fresh;
	uint32_t k;
	int rc;

	if (!maps())
		return;
	CHECK_INT(cw_hold_open(&h, held_fd, interp_fd, 2000, NULL), 0);
	old = held_child(boot_ns() - 10000000000ull, false); /* held 10 s ago */
	fresh = held_child(boot_ns(), false);
	CHECK_INT(ended(old, 2000), 7); /* the guardian let it go */
	CHECK_INT(ended(fresh, 300), -1);
	CHECK_INT(cw_hold_decide(h, (uint32_t)old, true), 0); /* too late to kill */
	cw_hold_get_stats(h, &s);
	CHECK_INT(s.expired, 1);
	cw_hold_close(h); /* the agent's side goes: every hold is let go */
	rc = ended(fresh, 3000);
	CHECK_INT(rc, 7);
	CHECK(bpf_map_get_next_key(held_fd, NULL, &k) != 0); /* nothing left held */
	if (rc < 0)
		reap(fresh);
}

TEST(interpreters_loaded)
{
	struct cw_hold *h = NULL;
	struct cw_interp v;
	char key[CW_COMM_LEN] = "python3";

	if (!maps())
		return;
	CHECK_INT(cw_hold_open(&h, held_fd, interp_fd, 1000, NULL), 0);
	CHECK(bpf_map_lookup_elem(interp_fd, key, &v) == 0);
	CHECK(v.inline_opts[0] == 'c' && v.inline_opts[1] == 'm');
	memset(key, 0, sizeof(key));
	strcpy(key, "sh");
	CHECK(bpf_map_lookup_elem(interp_fd, key, &v) == 0 && v.inline_opts[0] == 'c');
	cw_hold_close(h);
	CHECK_INT(cw_hold_open(&h, held_fd, interp_fd, 0, NULL), -EINVAL);
}

static const struct cw_test tests[] = {
    {"decide_once", decide_once},
    {"reused_pid_untouched", reused_pid_untouched},
    {"guardian_limit_and_close", guardian_limit_and_close},
    {"interpreters_loaded", interpreters_loaded},
};
CW_TEST_MAIN(tests)
