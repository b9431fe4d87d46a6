/* ancestry.h - the exec's parent chain for the finding (processes[] after the
 * process itself): pids and names exactly as the kernel had them at the exec
 * (struct cw_event.anc), binary path and arguments read from /proc while the
 * ancestor still lives and runs the same program (start time and name match:
 * a shell that has since exec'd its last command shows no arguments, rather
 * than the command's).
 * Arguments are read by a helper thread with a deadline: a process can make
 * its argument pages slow to read (FUSE-backed or userfaultfd memory), and
 * that must not hold the report worker; a read past the deadline is counted.
 */
#ifndef CW_ANCESTRY_H
#define CW_ANCESTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define CW_ANC_ARGS_MAX 1024

struct cw_ancestor_info {
	uint32_t pid;
	uint32_t ppid; /* the next ancestor's pid, 0 for the last one */
	char comm[CW_COMM_LEN + 1];
	bool alive;                 /* still the same process, same program, when read */
	char path[4096];            /* its executable ("" if gone or unreadable) */
	char args[CW_ANC_ARGS_MAX]; /* NUL-separated argv */
	size_t args_len;
	bool args_truncated;
};

struct cw_ancestry {
	int n;
	struct cw_ancestor_info a[CW_ANCESTORS];
};

struct cw_ancestry_stats {
	uint64_t read;           /* ancestors looked up */
	uint64_t gone;           /* had exited (or the pid was reused) by then */
	uint64_t args_timed_out; /* argument reads that missed the deadline */
};

/* Fill out from ev's ancestors. proc_root NULL: "/proc". timeout_ms bounds
 * each argument read. Never fails: what cannot be read stays empty. */
void cw_ancestry_read(const char *proc_root, const struct cw_event *ev, int timeout_ms,
                      struct cw_ancestry *out);

void cw_ancestry_get_stats(struct cw_ancestry_stats *st);

#endif
