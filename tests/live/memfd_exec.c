/* memfd_exec.c - live-test helper: copies a program into an anonymous memfd and
 * executes it from there (fexecve), the fileless-execution path attackers use.
 * usage: memfd_exec FILE [ARGS...] (argv[0] of the new program is FILE's name). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	char buf[65536];
	ssize_t n;
	int in, mfd;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE [ARGS...]\n", argv[0]);
		return 2;
	}
	in = open(argv[1], O_RDONLY);
	mfd = memfd_create("lookalike", MFD_CLOEXEC);
	if (in < 0 || mfd < 0) {
		perror("memfd_exec");
		return 2;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(mfd, buf, (size_t)n) != n) {
			perror("memfd_exec: write");
			return 2;
		}
	close(in);
	fexecve(mfd, argv + 1, environ);
	perror("memfd_exec: fexecve");
	return 2;
}
