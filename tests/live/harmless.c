/* harmless.c - the look-alike used by the live tests: a harmless program that
 * is copied under a known tool's name and run with the tool's usual arguments,
 * as Google's own detector test does. It prints its argv and exits 0. */
#include <stdio.h>

int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		printf("%s%s", i ? " " : "", argv[i]);
	printf("\n");
	return 0;
}
