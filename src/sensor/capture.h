/* capture.h - the executed file, captured by the kernel at the exec itself.
 *
 * A tool that is a container's PID 1 and exits at once is gone (process, mount
 * namespace, often the container's files) before the agent reads its exec
 * record. The capture is a fanotify group for FAN_OPEN_EXEC with filesystem
 * marks on the filesystems that hold container roots (the host's root
 * filesystem, the runtimes' state and image directories, every container root
 * seen): the kernel queues an open descriptor of each executed file before the
 * exec tracepoint fires, so by the time the exec record is read its file is
 * already waiting here, whatever the process did since. Overlay-backed roots
 * raise the event on the real file of the lower or upper layer.
 *
 * Cost: an exec of a file with an ignore mark raises nothing. Files judged
 * clean get one (cleared when the file is written, so a rewrite is judged
 * again), and so do files nobody asked for (host execs, which the exec sensor
 * drops in the kernel): at their next exec 100 ms on, or after 500 ms. Each
 * distinct executable costs a few events, later execs of it none.
 *
 * Threads: drain/take/expire on the event thread; cw_capture_ignore from any.
 */
#ifndef CW_CAPTURE_H
#define CW_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "content.h"

struct cw_capture;

struct cw_capture_opts {
	size_t sz;             /* sizeof(struct cw_capture_opts) */
	const char *const *fs; /* paths whose filesystems get a mark; NULL = defaults */
	unsigned max_pending;  /* captured files held at once; 0 = default */
	unsigned expire_ms;    /* unclaimed captures are closed after this; 0 = 1000 */
};

struct cw_capture_stats {
	uint64_t events;       /* exec opens the kernel reported */
	uint64_t claimed;      /* exec records that got their captured file */
	uint64_t unclaimed;    /* captures no exec record asked for (host, known clean) */
	uint64_t evicted;      /* captures closed early: too many held at once */
	uint64_t overflows;    /* the kernel's queue overflowed (events lost) */
	uint64_t ignore_marks; /* files that stopped raising events */
	uint64_t filesystems;  /* filesystems marked */
	uint64_t mark_errors;  /* filesystems that could not be marked */
	uint64_t pending;      /* captures held now */
};

/* Start the capture. -EPERM without CAP_SYS_ADMIN, -ENOSYS/-EINVAL on a kernel
 * without FAN_OPEN_EXEC (before 5.0); the caller then runs without it. */
int cw_capture_open(struct cw_capture **out, const struct cw_capture_opts *opts);
void cw_capture_close(struct cw_capture *c);
int cw_capture_fd(const struct cw_capture *c);

/* Mark the filesystem that holds path (a container root: "/proc/PID/root") if
 * it is not marked yet. Returns 1 newly marked, 0 already, negative errno. */
int cw_capture_add_fs(struct cw_capture *c, const char *path);

/* Read every queued event (non-blocking). Returns the number read or -errno. */
int cw_capture_drain(struct cw_capture *c);

/* The file tgid executed, identified by the exec record's key (dev may be an
 * overlay's): a new descriptor the caller owns, or -ENOENT. Drains first. */
int cw_capture_take(struct cw_capture *c, uint32_t tgid, const struct cw_file_key *k);

/* The `#!` script tgid's exec ran (the kernel opened it for exec before the
 * interpreter named by bin): a new descriptor, or -ENOENT. */
int cw_capture_take_script(struct cw_capture *c, uint32_t tgid, const struct cw_file_key *bin);

/* Close captures older than the expiry; unclaimed ones get an ignore mark
 * unless lost_changed (an exec record may have been lost: keep asking). */
void cw_capture_expire(struct cw_capture *c, bool lost_changed);

/* fd's file was judged clean: its later execs raise no event until it is
 * written. Returns 0 or a negative errno. */
int cw_capture_ignore(struct cw_capture *c, int fd);
/* Drop every ignore mark (the rules changed): files are captured again. */
int cw_capture_forget_ignores(struct cw_capture *c);

void cw_capture_get_stats(struct cw_capture *c, struct cw_capture_stats *st);

#endif
