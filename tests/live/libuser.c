/* libuser.c - a dynamically linked stand-in for the live tests: loads each
 * library named on its command line with dlopen (the dynamic loader maps its
 * code with mmap(PROT_EXEC), as for any shared library) and calls its
 * cw_lib() if it has one. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		void *h = dlopen(argv[i], RTLD_NOW);
		int (*fn)(void);

		if (!h) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		fn = (int (*)(void))dlsym(h, "cw_lib");
		if (fn)
			fn();
	}
	return 0;
}
