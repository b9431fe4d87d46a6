/* fixture_data.h - files for the tests that read them (hashing, findings with
 * hashed binaries, the content layer, `cagewatch scan`). Linked into the unit tests from the
 * test-fixture archive (Makefile). */
#ifndef CW_FIXTURE_DATA_H
#define CW_FIXTURE_DATA_H

#include <stddef.h>

/* An anonymous file (memfd) holding len bytes of pattern (plen bytes,
 * repeated), its offset at 0: a read-only-use fd the caller closes. Exits the
 * test run if the kernel refuses (the machine, not the test, is broken). */
int fx_pattern_fd(const char *pattern, size_t plen, size_t len);

/* A private temporary directory: fx_mk_tmp makes it (its path in fx_tmp; exits
 * the run if it cannot), fx_rm_tmp removes it and everything under it. */
extern char fx_tmp[64];
/* Remove p and everything under it, symlinks not followed (nftw); a failure
 * other than "not there" is printed. */
void fx_rm_rf(const char *p);
void fx_mk_tmp(void);
void fx_rm_tmp(void);

/* Build the C program src into out: static when a static libc exists.
 * system()'s status (0: built). */
int fx_build(const char *src, const char *out);
/* Copy src to dst (cp): system()'s status. */
int fx_copy_file(const char *src, const char *dst);
/* Write len bytes to path (created 0755, truncated): 0 or -errno. */
int fx_write_file(const char *path, const void *data, size_t len);

#endif
