/* exec.h - one exec as user space sees it: the kernel's struct cw_event decoded
 * into ordinary C strings (path joined, argv split), ready for attribution,
 * detection and the finding builder.
 */
#ifndef CW_EXEC_H
#define CW_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "event.h"

#define CW_MAX_ARGS 256
#define CW_MAX_ENV  128
/* Prefix of an executable path whose top directories are missing (U+2026). */
#define CW_PATH_TRUNC_MARK "\xe2\x80\xa6"

struct cw_exec {
	const struct cw_event *ev;       /* raw record (valid during the callback only) */
	int64_t time_ns;                 /* Unix-epoch ns of the exec */
	char path[CW_PATH_MAX + 2];      /* executed file, resolved by the kernel, as seen
	                                  * from the process's root ("/tmp/botb") */
	char filename[CW_FNAME_MAX + 1]; /* name passed to execve ("./botb", script path) */
	char
	    cgroup[CW_CGROUP_MAX + 2]; /* cgroup path ("/kubepods/.../cri-containerd-<id>.scope") */
	char argbuf[CW_ARGV_MAX + 1];  /* argv storage */
	char *argv[CW_MAX_ARGS + 1];   /* NULL-terminated pointers into argbuf */
	int argc;
	bool argv_truncated;
	char envbuf[CW_ENV_MAX + 1]; /* env storage (CW_F_ENV: the rules asked for it) */
	char *envp[CW_MAX_ENV + 1];  /* NULL-terminated NAME=value strings, whole ones only */
	int envc;
};

/* Decode a raw record of len bytes. Returns 0 or -EINVAL for a malformed record. */
int cw_exec_decode(const void *data, size_t len, struct cw_exec *out);

/* *dst = *src with argv and envp pointing into dst's own storage and ev as
 * its record header (the caller's copy). */
void cw_exec_copy(struct cw_exec *dst, const struct cw_exec *src, const struct cw_event *ev);

/* Fill ev's header and ex from /proc/<pid> of a live process: ids, credentials,
 * namespaces, cgroup path (cgroup2, else the v1 memory hierarchy, as the kernel
 * side does), comm, time now. path, filename and argv are left empty for the
 * caller. Returns 0 or -errno (the process is gone). */
int cw_exec_from_proc(const char *proc_root, int pid, struct cw_event *ev, struct cw_exec *ex);

/* The credential and confinement fields of ev (capabilities, effective ids,
 * seccomp, no_new_privs) from /proc/<pid>/status now, for records the kernel
 * did not fill them in (CW_F_CREDS | CW_F_CREDS_LATE set). 0 or -errno. */
int cw_exec_creds_from_proc(const char *proc_root, int pid, struct cw_event *ev);

#endif
