/* syscall_bench.c - what the escape-technique sensor costs syscalls it does not
 * watch (getppid) and the one it watches most (openat, here with close).
 *
 *   syscall_bench loop getppid|openclose N   time N iterations, print ns per one
 *   syscall_bench sensor raw|tp READY-FILE   run the sensor (cw_technique_open
 *                                            in that attach mode) until SIGTERM;
 *                                            writes READY-FILE once attached
 *
 * bench/syscall.sh alternates the loops under no sensor and each sensor mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "technique.h"

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static int on_hit(void *ctx, const struct cw_technique_hit *hit)
{
	(void)ctx;
	(void)hit;
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The loops on a descriptor: 1-byte writes to /dev/null (the first_send
 * hook sees every write), and code mappings of the program itself (the
 * library hook sees every mmap with PROT_EXEC). */
static int loop_fd(const char *what, long n, double *t0, double *t1)
{
	int fd = open(!strcmp(what, "write") ? "/dev/null" : "/proc/self/exe",
	              (!strcmp(what, "write") ? O_WRONLY : O_RDONLY) | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "syscall_bench: open: %s\n", strerror(errno));
		return 1;
	}
	*t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (!strcmp(what, "write")) {
			if (write(fd, "x", 1) != 1)
				break;
		} else {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);

			if (p == MAP_FAILED)
				break;
			munmap(p, 4096);
		}
	}
	*t1 = now_ns();
	close(fd);
	return 0;
}

static int run_loop(const char *what, long n)
{
	double t0, t1;

	if (n <= 0) {
		fprintf(stderr, "syscall_bench: iteration count must be positive\n");
		return 2;
	}
	if (!strcmp(what, "getppid")) {
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		t1 = now_ns();
	} else if (!strcmp(what, "openclose")) {
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

			if (fd < 0) {
				fprintf(stderr, "syscall_bench: open /etc/hostname: %s\n",
				        strerror(errno));
				return 1;
			}
			close(fd);
		}
		t1 = now_ns();
	} else if (!strcmp(what, "write") || !strcmp(what, "mmapx")) {
		if (loop_fd(what, n, &t0, &t1))
			return 1;
	} else {
		fprintf(stderr,
		        "syscall_bench: unknown loop %s (getppid, openclose, write or "
		        "mmapx)\n",
		        what);
		return 2;
	}
	printf("%.1f\n", (t1 - t0) / (double)n);
	return 0;
}

static int run_sensor(const char *mode, const char *ready)
{
	struct cw_technique_opts o = {.sz = sizeof(o), .on_detection = on_hit};
	struct cw_technique *t;
	struct sigaction sa = {.sa_handler = on_sig};
	FILE *f;
	int err;

	if (!strcmp(mode, "raw")) {
		o.attach = CW_TQ_ATTACH_RAW;
	} else if (!strcmp(mode, "tp")) {
		o.attach = CW_TQ_ATTACH_SYSCALL_TP;
	} else {
		fprintf(stderr, "syscall_bench: unknown sensor mode %s (raw or tp)\n", mode);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((err = cw_technique_open(&t, &o))) {
		fprintf(stderr, "syscall_bench: cannot start the sensor: %s\n", strerror(-err));
		return 1;
	}
	if (cw_technique_attach_mode(t) != o.attach) {
		fprintf(stderr, "syscall_bench: sensor attached as %s, not %s\n",
		        cw_technique_attach_name(cw_technique_attach_mode(t)), mode);
		cw_technique_close(t);
		return 1;
	}
	f = fopen(ready, "w");
	if (!f) {
		fprintf(stderr, "syscall_bench: cannot write %s: %s\n", ready, strerror(errno));
		cw_technique_close(t);
		return 1;
	}
	fprintf(f, "%d\n", getpid());
	fclose(f);
	while (!stop && cw_technique_poll(t, 100) >= 0)
		;
	cw_technique_close(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "loop"))
		return run_loop(argv[2], strtol(argv[3], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "sensor"))
		return run_sensor(argv[2], argv[3]);
	fprintf(stderr, "usage: syscall_bench loop getppid|openclose N\n"
	                "       syscall_bench sensor raw|tp READY-FILE\n");
	return 2;
}
