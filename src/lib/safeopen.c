/* safeopen.c - opening container-controlled paths (see safeopen.h). */
#include "safeopen.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
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

int cw_proc_exe(int pid)
{
	char p[64];
	int fd;

	if (pid <= 0)
		return -ESRCH;
	snprintf(p, sizeof(p), "/proc/%d/exe", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

/* The entry of map_files (a directory fd) whose name starts with addr's
 * mapping, as an O_PATH descriptor; -ENOENT if there is none. */
static int map_entry(int dfd, uint64_t addr)
{
	char prefix[32];
	struct dirent *de;
	int fd = -ENOENT, dup_fd = dup(dfd);
	size_t n;
	DIR *d;

	if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
		int err = -errno;

		if (dup_fd >= 0)
			close(dup_fd);
		return err;
	}
	n = (size_t)snprintf(prefix, sizeof(prefix), "%" PRIx64 "-", addr);
	while (fd == -ENOENT && (de = readdir(d)))
		if (!strncmp(de->d_name, prefix, n)) {
			fd = openat(dfd, de->d_name, O_PATH | O_CLOEXEC);
			fd = fd < 0 ? -errno : fd;
		}
	closedir(d);
	return fd;
}

/* O_PATH first (opening a device or a FIFO could act on it), checked, then
 * opened for reading through that descriptor. */
int cw_proc_map_file(int pid, uint64_t addr, uint64_t ino)
{
	char p[64];
	struct stat st;
	int dfd, path_fd, fd;

	if (pid <= 0)
		return -ESRCH;
	snprintf(p, sizeof(p), "/proc/%d/map_files", pid);
	if ((dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	path_fd = map_entry(dfd, addr);
	close(dfd);
	if (path_fd < 0)
		return path_fd;
	if (fstat(path_fd, &st))
		fd = -errno;
	else if (!S_ISREG(st.st_mode))
		fd = -CW_ENOTREG;
	else if (st.st_ino != ino)
		fd = -ESTALE; /* mapped over since */
	else {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", path_fd);
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		fd = fd < 0 ? -errno : fd;
	}
	close(path_fd);
	return fd;
}

#define LINKS_MAX 40 /* symlinks followed in one resolution, as the kernel does */

/* One component step of the fallback resolver: *cur (an O_PATH fd) moves to
 * name below it, or back to root for "..", staying inside root. Symlinks are
 * expanded into rest (LINKS_MAX at most). Returns 0 or a negative errno. */
static int step(int root, int *cur, const char *name, char *rest, size_t restsz, int *links)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (!strcmp(name, "."))
		return 0;
	if (!strcmp(name, "..")) { /* above the root is the root */
		struct stat rs;

		if (fstat(*cur, &st) || fstat(root, &rs))
			return -errno;
		if (rs.st_dev == st.st_dev && rs.st_ino == st.st_ino) {
			if (*cur != root)
				close(*cur);
			*cur = root;
			return 0;
		}
	}
	fd = openat(*cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
		n = readlinkat(fd, "", target, sizeof(target) - 1);
		close(fd);
		if (n < 0 || ++*links > LINKS_MAX)
			return n < 0 ? -errno : -ELOOP;
		target[n] = 0;
		if (strlen(target) + strlen(rest) + 2 > restsz)
			return -ENAMETOOLONG;
		memmove(rest + n + 1, rest, strlen(rest) + 1);
		memcpy(rest, target, (size_t)n);
		rest[n] = rest[n + 1] ? '/' : 0;
		if (target[0] == '/') { /* absolute: from the container's root */
			if (*cur != root)
				close(*cur);
			*cur = root;
		}
		return 0;
	}
	if (*cur != root)
		close(*cur);
	*cur = fd;
	return 0;
}

/* RESOLVE_IN_ROOT done in user space, for kernels without openat2 (before
 * 5.6) and for valgrind, which does not know it. Same contract. */
static int open_beneath_fallback(int root, const char *path)
{
	char rest[PATH_MAX * 2], name[NAME_MAX + 1];
	int cur = root, links = 0, err = 0, fd;

	if (strlen(path) >= sizeof(rest) / 2)
		return -ENAMETOOLONG;
	snprintf(rest, sizeof(rest), "%s", path);
	while (rest[0] && !err) {
		char *p = rest + strspn(rest, "/"), *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);

		if (!l) {
			rest[0] = 0;
			break;
		}
		if (l > NAME_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(name, p, l);
		name[l] = 0;
		memmove(rest, p + l, strlen(p + l) + 1);
		err = step(root, &cur, name, rest, sizeof(rest), &links);
	}
	if (err) {
		if (cur != root)
			close(cur);
		return err;
	}
	fd = openat(cur, ".", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOTDIR) { /* cur is the file itself (an O_PATH fd) */
		char self[64];

		snprintf(self, sizeof(self), "/proc/self/fd/%d", cur);
		fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	}
	err = fd < 0 ? -errno : 0;
	if (cur != root)
		close(cur);
	return fd < 0 ? err : fd;
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
	if (fd < 0 && errno == ENOSYS)
		fd = open_beneath_fallback(dirfd, path);
	else if (fd < 0)
		fd = -errno;
	if (fd < 0)
		return (int)fd;
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
