/* hold.h - user side of `--block`'s hold (src/bpf/hold.bpf.h).
 *
 * The exec program stops, before its first instruction, a container exec
 * that fanotify cannot judge (a file on a mount not marked yet, an
 * interpreter about to read a script) and records it in the held map. This
 * module lets it go or kills it, and runs the guardian: a small process of
 * its own that lets go every hold older than the time limit (the agent is
 * busy or hung) and, when the agent dies (kill -9 included), every hold left.
 * Whoever deletes a held entry decides: the agent and the guardian never both
 * act on one hold.
 */
#ifndef CW_HOLD_H
#define CW_HOLD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What became of holds; the guardian's counters live in memory it shares
 * with the agent. */
struct cw_hold_stats {
	uint64_t released; /* let go by the agent: judged clean (or not a tool) */
	uint64_t killed;   /* killed by the agent before the first instruction */
	uint64_t expired;  /* let go by the guardian: no verdict within the limit */
	uint64_t orphaned; /* let go by the guardian after the agent died */
	uint64_t gone;     /* the process had gone before a verdict (killed by others) */
};

struct cw_hold;
struct cw_desk;

/* Set up the hold's user side over the exec program's held and interp maps:
 * fills interp with the interpreters the kernel looks at and starts the
 * guardian (limit_ms: the longest hold, e.g. 2000), which bounds fanotify's
 * questions on desk too (may be NULL; desk.h). Call before any thread
 * exists. 0 or -errno (logged). */
int cw_hold_open(struct cw_hold **out, int held_fd, int interp_fd, int limit_ms,
                 struct cw_desk *desk);
/* Stops the guardian, which first lets go every hold left. */
void cw_hold_close(struct cw_hold *h);
/* Decide the hold of tgid: SIGKILL when kill, else SIGCONT. Returns 1 when
 * this call decided, 0 when there was no hold to decide (the guardian let it
 * go first, or it was never held), -errno on failure. */
int cw_hold_decide(struct cw_hold *h, uint32_t tgid, bool kill);
void cw_hold_get_stats(const struct cw_hold *h, struct cw_hold_stats *out);
/* The longest hold, in ms. */
int cw_hold_limit_ms(const struct cw_hold *h);

#endif
