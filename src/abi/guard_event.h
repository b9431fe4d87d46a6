/* guard_event.h - what the self-protection programs (src/bpf/guard.bpf.c)
 * share with user space (src/guard.c): counters, the heartbeat record and the
 * kinds of BPF object the agent registers. Attempts themselves travel as
 * struct cw_tq_event (technique_event.h) with CW_TQF_AGENT. */
#ifndef CW_GUARD_EVENT_H
#define CW_GUARD_EVENT_H

#ifndef __BPF__
#include <linux/types.h>
#endif

/* Per-CPU counters, index into guard_counts. */
enum cw_guard_counter {
	CW_GC_SUBMITTED = 0,   /* attempt records sent */
	CW_GC_LOST = 1,        /* attempt records lost (ring buffer full) */
	CW_GC_FOLDED = 2,      /* container attempts folded into a recent record */
	CW_GC_FOLDED_HOST = 3, /* host attempts folded into a recent record */
	CW_GC_SHED = 4,        /* attempts that cannot stop the agent, not sent: ring half full */
	CW_GC_MAX
};

/* Signals whose delivery neither ends nor stops the agent (CHLD, CONT, URG,
 * WINCH: ignored by default, or a no-op on a running process). Every other
 * signal can stop it: the kernel keeps room for those in a crowded ring, and
 * user space logs each one. */
static inline int cw_guard_harmless_signal(__u64 sig)
{
	return sig == 17 || sig == 18 || sig == 23 || sig == 28;
}

/* Kinds of agent-owned BPF object in guard_ids (key: kind << 32 | id). */
enum cw_guard_object {
	CW_GO_PROG = 1,
	CW_GO_MAP = 2,
	CW_GO_LINK = 3,
};

/* The agent's heartbeat, written by user space about once a second. */
struct cw_guard_state {
	__u32 agent_tgid;
	__u32 clean;         /* 1: the agent stopped on its own (signal it handles) */
	__u64 start_ns;      /* CLOCK_BOOTTIME when it started */
	__u64 beat_ns;       /* CLOCK_BOOTTIME of the last beat */
	__u64 forks_at_beat; /* the kernel's fork counter (/proc/stat processes) then */
};

#endif
