/* dirwatch.h - "did anything change under these directories?" via inotify.
 *
 * Watches each root directory and its immediate subdirectories (a runtime's
 * state root holds one directory per container with the state file inside),
 * adding watches for subdirectories as they appear. Roots that do not exist
 * yet are retried by drains at most every CW_DIRWATCH_RETRY_MS, so a runtime
 * installed or started after the agent is picked up (the containers it
 * already started then count as a change). Not thread-safe.
 */
#ifndef CW_DIRWATCH_H
#define CW_DIRWATCH_H

#include <stdbool.h>
#include <stddef.h>

#define CW_DIRWATCH_RETRY_MS 1000

struct cw_dirwatch;

/* Returns 0 or a negative errno (-EMFILE, -ENOMEM, ...). */
int cw_dirwatch_new(struct cw_dirwatch **out, char *const *roots, size_t nroots);
void cw_dirwatch_free(struct cw_dirwatch *w);
int cw_dirwatch_fd(const struct cw_dirwatch *w);

/* Read pending events without blocking. Returns 1 when something under the
 * roots changed (or events were lost) since the last call, else 0. */
int cw_dirwatch_drain(struct cw_dirwatch *w);

#endif
