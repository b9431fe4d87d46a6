/* safeopen.c - opening container-controlled paths (see safeopen.h). */
#include "safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

int cw_proc_dir(const char *proc_root, int pid, const char *what)
{
	char p[PATH_MAX];
	int fd;

	if (pid <= 0)
		return -ESRCH;
	snprintf(p, sizeof(p), "%s/%d/%s", proc_root ? proc_root : "/proc", pid, what);
	fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cw_open_beneath(int dirfd, const char *path)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	long fd;

	if (dirfd < 0)
		return -EBADF;
	if (!path || !path[0])
		return -EINVAL;
	fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstat((int)fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close((int)fd);
		return -CW_ENOTREG;
	}
	return (int)fd;
}

const char *cw_open_error(int err)
{
	if (err == -EXDEV)
		return "path leaves the container's root";
	return cw_strerror(err);
}
