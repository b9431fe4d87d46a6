/* libuser.c - a dynamically linked stand-in for the live tests: loads each
 * library named on its command line with dlopen (the dynamic loader maps its
 * code with mmap(PROT_EXEC), as for any shared library) and calls its
 * cw_lib() if it has one. "-u" before a library unlinks its file right after
 * loading it (drop, load, delete); "-s" sleeps 3 s before exiting. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int unlink_next = 0, linger = 0;

	for (int i = 1; i < argc; i++) {
		void *h;
		int (*fn)(void);

		if (!strcmp(argv[i], "-u") || !strcmp(argv[i], "-s")) {
			unlink_next |= argv[i][1] == 'u';
			linger |= argv[i][1] == 's';
			continue;
		}
		h = dlopen(argv[i], RTLD_NOW);
		if (!h) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		if (unlink_next && unlink(argv[i]) != 0) {
			perror(argv[i]);
			return 1;
		}
		unlink_next = 0;
		fn = (int (*)(void))dlsym(h, "cw_lib");
		if (fn)
			fn();
	}
	if (linger)
		sleep(3);
	return 0;
}
