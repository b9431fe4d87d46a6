/* guard.h - self-protection: attempts on the agent itself (signals, ptrace,
 * process_vm_readv/writev, bpf() on its programs, maps and links) recorded by
 * syscall-entry tracepoints before the kernel acts on them, and the gap an
 * agent that died leaves behind.
 *
 * The programs, their ring buffer and a heartbeat map are
 * pinned in bpffs (default /sys/fs/bpf/cagewatch): they outlive the agent, so
 * the next agent delivers the records a killed one never read and reports how
 * long no agent ran and how many processes started unwatched (the kernel's
 * fork counter against the one in the last heartbeat). Records from host
 * processes (an operator's kill) are counted and logged; the rest go to the
 * caller (the agent hands them to the technique rules).
 */
#ifndef CW_GUARD_H
#define CW_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_GUARD_PIN_DIR "/sys/fs/bpf/cagewatch"

struct cw_guard_opts {
	size_t sz;           /* sizeof(struct cw_guard_opts) */
	const char *pin_dir; /* NULL: CW_GUARD_PIN_DIR; "": nothing pinned */
	uint32_t host_pidns; /* the host's pid and mount namespaces */
	uint32_t host_mntns;
	/* An attempt from outside the host's namespaces (a struct cw_tq_event
	 * with CW_TQF_AGENT). A non-zero return stops the batch. */
	int (*on_record)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* The agent before this one, as the pins left it. */
struct cw_guard_gap {
	bool found;               /* pins of an earlier agent were there */
	bool clean;               /* it stopped on its own */
	uint32_t pid;             /* its pid */
	double down_s;            /* from its last heartbeat to this start */
	uint64_t processes;       /* processes the kernel started in that time */
	uint64_t records_waiting; /* attempt records it never read (delivered by poll) */
	uint64_t lost;            /* its records lost to a full ring buffer, in its life */
	uint64_t shed;            /* its attempts shed from a half-full ring, in its life */
};

struct cw_guard_stats {
	bool pinned;
	uint64_t submitted;     /* attempt records sent by the kernel */
	uint64_t lost;          /* lost to a full ring buffer */
	uint64_t folded;        /* container repeats within 1 s of a record, not sent */
	uint64_t host_folded;   /* host repeats within 1 s of a record, not sent */
	uint64_t shed;          /* attempts that cannot stop the agent, not sent: ring half full */
	uint64_t attempts;      /* records from containers handed on */
	uint64_t host_attempts; /* records from host processes (logged only) */
	uint64_t host_unlogged; /* of those, not logged: the caller's line is recent */
	uint64_t malformed;
	uint32_t protected_tids, protected_objects;
	struct cw_guard_gap previous;
};

struct cw_guard;

/* Load, attach and (unless opts->pin_dir is "") pin; reads what an earlier
 * agent left and logs the gap. Returns 0 or -errno after logging why. */
int cw_guard_open(struct cw_guard **out, const struct cw_guard_opts *opts);
/* Register the agent's current threads and every BPF program, map and link it
 * holds a descriptor of: call once all sensors and threads are up. Returns
 * how many objects were registered or -errno. */
int cw_guard_protect(struct cw_guard *g);
/* Epoll fd of the attempt ring buffers. */
int cw_guard_fd(const struct cw_guard *g);
/* Deliver pending attempts without waiting. Records handled or -errno. */
int cw_guard_consume(struct cw_guard *g);
/* Heartbeat: call about once a second. 0 or -errno. */
int cw_guard_beat(struct cw_guard *g);
int cw_guard_stats(const struct cw_guard *g, struct cw_guard_stats *out);
/* clean: the agent is stopping on its own; the pins stay (the exec counter
 * keeps counting until the next agent takes over or they are removed). */
void cw_guard_close(struct cw_guard *g, bool clean);

#endif
