/* firstexec.c - bench/block.sh's probe, run inside a container: the cost of
 * the first exec of a file never seen before (a new inode each time: hashed
 * and scanned under --block) and of a second exec of the same file (known
 * clean), one fork+execve+waitpid each, in microseconds; with SCRIPT, also
 * `sh SCRIPT` (an interpreter with a script operand: held under --block).
 * usage: firstexec SRC N DIR [SCRIPT]  ->  lines "new US", "again US", "script US" */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char buf[4 << 20];

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* fork + execve + waitpid of path (with one argument, or none); microseconds,
 * or -1. */
static double run(const char *path, const char *arg)
{
	double t0 = now_us();
	int st;
	pid_t p = fork();

	if (p == 0) {
		execl(path, path, arg, (char *)NULL);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return now_us() - t0;
}

int main(int argc, char **argv)
{
	ssize_t n;
	int in, n_runs;

	if (argc < 4 || argc > 5 || (n_runs = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: firstexec SRC N DIR [SCRIPT]\n");
		return 2;
	}
	in = open(argv[1], O_RDONLY);
	n = in < 0 ? -1 : read(in, buf, sizeof(buf));
	if (n <= 0) {
		perror("firstexec: read SRC");
		return 2;
	}
	for (int i = 0; i < n_runs; i++) {
		char path[4096];
		int out;

		snprintf(path, sizeof(path), "%s/fe_%d", argv[3], i);
		out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
		if (out < 0 || write(out, buf, (size_t)n) != n || close(out)) {
			perror("firstexec: write copy");
			return 2;
		}
		printf("new %.0f\n", run(path, NULL));
		printf("again %.0f\n", run(path, NULL));
		if (argc == 5)
			printf("script %.0f\n", run("/bin/sh", argv[4]));
		unlink(path);
	}
	return 0;
}
