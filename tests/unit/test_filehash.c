/* test_filehash.c - SHA-256 of an open file (cw_file_hash_fd): known vectors
 * whatever the fd's offset, a cap below, at and above the size (a capped hash
 * equals the hash of the prefix, honestly flagged partial), an empty file, a
 * file of many read chunks, and read errors that claim no hash.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "finding.h"
#include "fixture_data.h"

TEST(whole_capped_and_errors)
{
	struct cw_file_info fi, prefix;
	int fd, fd2;

	memset(&fi, 0, sizeof(fi));
	fd = fx_pattern_fd("abc", 3, 3);
	CHECK(fd >= 0);
	/* The offset of fd must not matter. */
	CHECK(lseek(fd, 2, SEEK_SET) == 2);
	CHECK_INT(cw_file_hash_fd(fd, 0, &fi), 0);
	CHECK_STR(fi.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(fi.have_hash && fi.have_size);
	CHECK_INT(fi.size, 3);
	CHECK_INT(fi.hashed_size, 3);
	CHECK(!fi.partially_hashed);

	/* Cap below the size: only "ab" hashed, honestly reported. */
	CHECK_INT(cw_file_hash_fd(fd, 2, &fi), 0);
	CHECK_STR(fi.sha256, "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603");
	CHECK_INT(fi.hashed_size, 2);
	CHECK(fi.partially_hashed);
	CHECK(fi.have_size);
	CHECK_INT(fi.size, 3);

	/* Cap equal to / above the size: the whole file. */
	CHECK_INT(cw_file_hash_fd(fd, 3, &fi), 0);
	CHECK(!fi.partially_hashed);
	CHECK_INT(fi.hashed_size, 3);
	CHECK_INT(cw_file_hash_fd(fd, 1000, &fi), 0);
	CHECK(!fi.partially_hashed);
	CHECK_STR(fi.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	close(fd);

	/* Empty file. */
	fd = fx_pattern_fd("x", 1, 0);
	CHECK_INT(cw_file_hash_fd(fd, 0, &fi), 0);
	CHECK_STR(fi.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_INT(fi.size, 0);
	close(fd);

	/* A million 'a' (FIPS 180-2 vector) spans many 64 KiB chunks. */
	fd = fx_pattern_fd("a", 1, 1000000);
	CHECK_INT(cw_file_hash_fd(fd, 0, &fi), 0);
	CHECK_STR(fi.sha256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	CHECK_INT(fi.size, 1000000);
	CHECK_INT(fi.hashed_size, 1000000);
	CHECK(!fi.partially_hashed);

	/* Capped at a non-chunk boundary: equals the hash of a file holding the prefix. */
	CHECK_INT(cw_file_hash_fd(fd, 100000, &fi), 0);
	CHECK(fi.partially_hashed);
	CHECK_INT(fi.hashed_size, 100000);
	CHECK_INT(fi.size, 1000000);
	fd2 = fx_pattern_fd("a", 1, 100000);
	memset(&prefix, 0, sizeof(prefix));
	CHECK_INT(cw_file_hash_fd(fd2, 0, &prefix), 0);
	CHECK_STR(fi.sha256, prefix.sha256);
	close(fd2);
	close(fd);

	/* Read errors are negative errno and leave no hash claimed. */
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	fi.have_size = true; /* what the caller knew survives the failure */
	fi.size = 55;
	CHECK_INT(cw_file_hash_fd(fd, 0, &fi), -EISDIR);
	CHECK(!fi.have_hash);
	CHECK(fi.have_size);
	CHECK_INT(fi.size, 55);
	close(fd);
	CHECK_INT(cw_file_hash_fd(-1, 0, &fi), -EBADF);
	CHECK_INT(cw_file_hash_fd(0, -5, &fi), -EINVAL);
}

static const struct cw_test tests[] = {
    {"whole_capped_and_errors", whole_capped_and_errors},
};

CW_TEST_MAIN(tests)
