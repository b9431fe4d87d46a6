/* fixture_container.h - runtime state trees for the attribution tests
 * (tests/unit/test_container.c): a fake proc root and runc/CRI-O/rootless
 * state written under a mkdtemp directory, removed at exit. Linked into the
 * unit tests from the test-fixture archive (Makefile). */
#ifndef CW_FIXTURE_CONTAINER_H
#define CW_FIXTURE_CONTAINER_H

#include <stdint.h>

#include "container.h"
#include "exec.h"
#include "fixture_data.h"

#define ID_A "4e5c9a8f1b2d3c4e5f60718293a4b5c6d7e8f90112233445566778899aabbccd"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_C "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

struct runc_fixture {
	const char *root; /* relative to fx_dir */
	const char *id;
	int pid;
	unsigned long long start;
	const char *created;
	const char *labels[8];   /* "k=v", NULL-terminated; "bundle=" is relative to fx_dir */
	const char *cgroup_name; /* directory under every hierarchy, NULL: rootless */
	const char *bundle_ann;  /* JSON object text for bundle config.json, or NULL */
};

/* A decoded exec built by hand. */
struct fake_exec {
	struct cw_event ev;
	struct cw_exec ex;
};

/* The tree's directory (made by fx_ensure_dir, removed at exit). */
extern char fx_dir[];
/* Namespace "inodes" of the fake host and of the containers fx_build_tree makes. */
extern uint32_t fx_host_pidns, fx_host_mntns;
extern uint32_t fx_web_pidns, fx_crio_pidns, fx_rootless_pidns, fx_stale_pidns, fx_shared_pidns;

void fx_ensure_dir(void);
/* mkdir -p path. */
void fx_mkdirs(const char *path);
/* Write text to fx_dir/rel (parents made). Returns the file's inode. */
uint32_t fx_put_file(const char *rel, const char *text);
/* fx_dir/rel in one of four rotating buffers. */
const char *fx_at(const char *rel);
/* A fake process in the fake proc root: ns/pid, ns/mnt and a stat line with
 * the given start time (field 22). Returns the pid namespace "inode". */
uint32_t fx_fake_proc(int pid, unsigned long long start, uint32_t *mntns);
/* mkdir -p fx_dir/rel. */
void fx_put_file_dir(const char *rel);
/* Write state.json (and a bundle config.json) for f. */
void fx_put_runc(const struct runc_fixture *f);
/* A decoded exec (freed by the caller). */
struct fake_exec *fx_mk_exec(uint32_t pidns, uint32_t mntns, const char *cgroup);
/* The container's label k, or NULL. */
const char *fx_label(const struct cw_container *c, const char *k);
/* The fake host: proc/1, a mountinfo, and five containers in three roots (once). */
void fx_build_tree(void);

#endif
