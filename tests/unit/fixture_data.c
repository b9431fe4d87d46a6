/* fixture_data.c - file contents for tests (see fixture_data.h). */
#include "fixture_data.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int fx_pattern_fd(const char *pattern, size_t plen, size_t len)
{
	char buf[4096];
	size_t done = 0;
	int fd = memfd_create("cw-test-data", MFD_CLOEXEC);

	if (fd < 0 || plen == 0) {
		perror("memfd_create");
		exit(2);
	}
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern[(done + i) % plen];
		if (write(fd, buf, n) != (ssize_t)n) {
			perror("write to memfd");
			exit(2);
		}
		done += n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		perror("lseek");
		exit(2);
	}
	return fd;
}

char fx_tmp[64];

void fx_mk_tmp(void)
{
	strcpy(fx_tmp, "/tmp/cw-test-data-XXXXXX");
	if (!mkdtemp(fx_tmp)) {
		perror("mkdtemp");
		exit(2);
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

void fx_rm_rf(const char *p)
{
	if (nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		fprintf(stderr, "could not remove %s: %s\n", p, strerror(errno));
}

void fx_rm_tmp(void)
{
	fx_rm_rf(fx_tmp);
}

int fx_build(const char *src, const char *out)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "cc -static -O1 -o '%s' '%s' 2>/dev/null || cc -O1 -o '%s' '%s'",
	         out, src, out, src);
	return system(cmd);
}

int fx_copy_file(const char *src, const char *dst)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
	return system(cmd);
}

int fx_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}
