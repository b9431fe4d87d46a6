/* enforce.h - blocking before the first instruction (`cagewatch run --block`).
 *
 * A fanotify FAN_OPEN_EXEC_PERM mark on every mount of every container's mount
 * namespace makes the kernel ask before an execve of a file there goes on. The
 * file is judged by the content layers (SHA-256 lists and YARA, through the
 * verdict cache detection uses, so a file already seen costs one lookup); a
 * known tool's exec is refused, the caller's execve fails with EPERM before the
 * tool's first instruction, and the refusal is reported. Everything else, and
 * every case where no verdict can be had, is allowed: if the agent errs, the
 * node keeps running.
 */
#ifndef CW_ENFORCE_H
#define CW_ENFORCE_H

#include <stdbool.h>
#include <stdint.h>

#include "content.h"

/* One refused exec, handed to on_block after the kernel has been answered. */
struct cw_enforce_block {
	int pid;                 /* the process whose execve was refused (still alive) */
	uint32_t mntns;          /* its mount namespace */
	char path[4096];         /* the file, as seen from that process's root */
	struct cw_file_info bin; /* size, sha256, ... */
	struct cw_detection det; /* the verdict; on_block owns det.extra */
	struct cw_file_key key;
};

typedef void (*cw_enforce_fn)(void *ctx, struct cw_enforce_block *b);

struct cw_enforce_opts {
	struct cw_content *content; /* verdicts (borrowed; thread-safe) */
	uint32_t host_mntns;        /* mounts of this namespace are never marked */
	const char *proc_root;      /* default "/proc" */
	bool hold;                  /* the exec program holds what no mark covers: */
	int marked_mnt_fd;          /* ... its marked_mnt map, kept current here */
	cw_enforce_fn on_block;     /* may be NULL */
	void *ctx;
};

struct cw_enforce_stats {
	uint64_t allowed, denied, undecided; /* undecided: allowed for want of a verdict */
	uint64_t namespaces, marks, mark_errors;
	uint64_t clean_marks; /* clean files the kernel no longer asks about */
	/* answered "allow" by the hold's guardian (desk.h): a verdict later than
	 * --block-timeout, questions waiting while the agent stalled, questions
	 * beyond the bound's slots */
	uint64_t late, stalled, unbounded;
};

struct cw_enforce;

/* fanotify_init with permission events. -EPERM without CAP_SYS_ADMIN,
 * -EINVAL/-ENOSYS when the kernel lacks CONFIG_FANOTIFY_ACCESS_PERMISSIONS
 * (logged with what to do). */
int cw_enforce_open(struct cw_enforce **out, const struct cw_enforce_opts *opts);
void cw_enforce_close(struct cw_enforce *e);
/* Judge with content from now on (a reload), on the thread that calls
 * cw_enforce_handle; what the old rules allowed is judged again. 0 or -errno. */
int cw_enforce_set_content(struct cw_enforce *e, struct cw_content *content);
/* Wait up to timeout_ms for permission events and answer them all. Returns the
 * number answered or -errno. Run it on a thread of its own: an answer may need
 * a file hashed and scanned. */
int cw_enforce_handle(struct cw_enforce *e, int timeout_ms);
/* Mark the mounts of pid's mount namespace (mntns) unless already marked and
 * unchanged. Cheap when nothing changed; safe from any thread. */
int cw_enforce_watch(struct cw_enforce *e, uint32_t mntns, int pid);
/* Mark pid's namespace again if its mounts changed since it was marked (a
 * hold for an unmarked mount). 0, marks made, or -errno. */
int cw_enforce_refresh(struct cw_enforce *e, uint32_t mntns, int pid);
/* Walk /proc: mark the mounts of every mount namespace other than the host's
 * (new containers, new mounts in known ones) and forget namespaces that are
 * gone. Returns the number of namespaces watched or -errno. */
int cw_enforce_rescan(struct cw_enforce *e);
void cw_enforce_get_stats(struct cw_enforce *e, struct cw_enforce_stats *out);
/* The bound on the kernel's questions, for the hold's guardian (NULL if none). */
struct cw_desk *cw_enforce_desk(struct cw_enforce *e);

#endif
