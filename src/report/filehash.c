/* filehash.c - identities of what a finding is about: the SHA-256 of a file
 * read through a descriptor (bounded, never past a cap, with the size it
 * learnt), and random finding ids. */
#include "finding.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util.h"

#define HASH_CHUNK (64 * 1024)

void cw_finding_new_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	if (got < sizeof(r)) {
		/* No kernel randomness (seccomp, ancient kernel): ids must still
		 * differ, so mix time, pid and a counter. Not secret, only unique. */
		static unsigned counter;
		uint64_t a = (uint64_t)cw_now_ns(), c = (uint64_t)getpid() << 32 | ++counter;

		cw_warn("getrandom failed (%s): finding ids fall back to time and pid",
		        strerror(errno));
		memcpy(r, &a, 8);
		memcpy(r + 8, &c, 8);
	}
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 0xf];
	}
	out[32] = '\0';
}

/* pread fd from 0 into ctx up to limit bytes; *off is how far it got. */
static int digest_range(EVP_MD_CTX *ctx, int fd, unsigned char *buf, int64_t limit, int64_t *off)
{
	while (*off < limit) {
		size_t want = HASH_CHUNK;
		ssize_t n;

		if ((int64_t)want > limit - *off)
			want = (size_t)(limit - *off);
		n = pread(fd, buf, want, *off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			return -EIO;
		*off += n;
	}
	return 0;
}

/* Is there a byte at off? 1, 0 or -errno. */
static int more_at(int fd, int64_t off)
{
	unsigned char c;

	for (;;) {
		ssize_t n = pread(fd, &c, 1, off);

		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : n > 0;
	}
}

/* The digest into fi: hash, hashed size and (when known) the file's size. A
 * whole read is the truth about the size; past a cap only fstat knows, and an
 * fstat size that contradicts what was read is not used. */
static int finish(EVP_MD_CTX *ctx, int fd, int64_t off, bool more, struct cw_file_info *fi)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct stat st;

	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		return -EIO;
	for (unsigned i = 0; i < mdlen; i++) {
		fi->sha256[2 * i] = hex[md[i] >> 4];
		fi->sha256[2 * i + 1] = hex[md[i] & 0xf];
	}
	fi->sha256[64] = '\0';
	fi->have_hash = true;
	fi->hashed_size = off;
	fi->partially_hashed = more;
	if (!more) {
		fi->have_size = true;
		fi->size = off;
	} else if (fstat(fd, &st) == 0 && st.st_size > off) {
		fi->have_size = true;
		fi->size = st.st_size;
	}
	return 0;
}

int cw_file_hash_fd(int fd, int64_t max_bytes, struct cw_file_info *fi)
{
	int64_t off = 0, limit = max_bytes > 0 ? max_bytes : INT64_MAX;
	unsigned char *buf;
	EVP_MD_CTX *ctx;
	int more = 0, err;

	/* The size the caller already knew (e.g. from the exec event) is kept
	 * unless the read learns better. */
	fi->have_hash = false;
	fi->partially_hashed = false;
	fi->hashed_size = 0;
	fi->sha256[0] = '\0';
	if (max_bytes < 0)
		return -EINVAL;
	buf = malloc(HASH_CHUNK);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx) {
		err = -ENOMEM;
	} else if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		cw_err("OpenSSL cannot initialise SHA-256: check the libcrypto installation");
		err = -EIO;
	} else if (!(err = digest_range(ctx, fd, buf, limit, &off))) {
		/* Stopped at the cap: is there anything beyond it? */
		if (off == limit && max_bytes > 0 && (more = more_at(fd, off)) < 0)
			err = more;
		else
			err = finish(ctx, fd, off, more > 0, fi);
	}
	EVP_MD_CTX_free(ctx);
	free(buf);
	return err;
}
