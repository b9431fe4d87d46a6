/* desk.h - a bound on fanotify's questions (`--block`).
 *
 * The kernel stalls an exec on a marked mount until the fanotify group answers
 * it. The agent's enforcer thread answers; the hold's guardian (hold.c), a
 * process of its own, keeps a reference to the same group and a page shared
 * with the enforcer, the desk, and answers "allow" for it when it does not:
 *  - a question the enforcer has read but not answered within the limit (a
 *    very large file being scanned, a slow disk) is answered by the guardian
 *    (counted as late);
 *  - when the enforcer has not been seen for longer than the limit (the agent
 *    is stopped, hung or busy reloading), the guardian reads the questions
 *    waiting in the group itself and allows them (counted as stalled);
 *  - when the agent dies, the guardian drops its reference and the kernel
 *    allows everything still pending.
 * A question is answered once: each side claims a slot with compare-and-swap
 * before it writes, and the enforcer closes an event's descriptor only when
 * nobody can answer by its number any more.
 */
#ifndef CW_DESK_H
#define CW_DESK_H

#include <stdbool.h>
#include <stdint.h>

struct cw_desk_stats {
	uint64_t late;    /* read by the agent, answered "allow" by the guardian after the limit */
	uint64_t stalled; /* read and allowed by the guardian: the agent did not read in time */
	uint64_t unbounded; /* questions read while every slot was taken: not bounded */
};

struct cw_desk;

/* A desk over the fanotify group fan_fd (borrowed). Call before the guardian
 * is forked: the page is shared with it. 0 or -errno. */
int cw_desk_open(struct cw_desk **out, int fan_fd);
void cw_desk_close(struct cw_desk *d);
/* The group's descriptor, which the guardian keeps open. */
int cw_desk_fd(const struct cw_desk *d);

/* Enforcer side; each is a no-op with d NULL (mine: true).
 * beat: "I am alive" (call at least every limit/4, and before each verdict).
 * reading: around each read of the group and the takes that follow it (on:
 * waits while the guardian reads). take: the enforcer holds event_fd's
 * question; returns a slot or -1 when none is free (counted). mine: the
 * verdict is in; true when the caller is to write the answer (then done),
 * false when the guardian has answered already (it has finished writing when
 * this returns: the descriptor may be closed). */
void cw_desk_beat(struct cw_desk *d);
void cw_desk_reading(struct cw_desk *d, bool on);
int cw_desk_take(struct cw_desk *d, int event_fd);
bool cw_desk_mine(struct cw_desk *d, int slot);
void cw_desk_done(struct cw_desk *d, int slot);

/* Guardian side, system calls only. One pass: allow questions read longer
 * than limit_ms ago, and those waiting when the enforcer has not been seen
 * for limit_ms. */
void cw_desk_guard(struct cw_desk *d, int limit_ms);
/* The agent is gone: drop the guardian's reference to the group (the kernel
 * allows what is pending when the last one goes). */
void cw_desk_release(struct cw_desk *d);

void cw_desk_get_stats(const struct cw_desk *d, struct cw_desk_stats *out);

#endif
