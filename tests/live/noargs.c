/* noargs.c - starts a program the way the PwnKit exploit (CVE-2021-4034)
 * starts pkexec, for the live tests: `noargs PROGRAM [NAME=value...]` runs
 * PROGRAM with an empty argument list (argv = {NULL}) and exactly the given
 * environment. Kernels since 5.18 give it an empty argv[0]. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *none[] = {NULL};

	if (argc < 2) {
		fprintf(stderr, "usage: %s PROGRAM [NAME=value...]\n", argv[0]);
		return 2;
	}
	execve(argv[1], none, argv + 2);
	perror("execve");
	return 127;
}
