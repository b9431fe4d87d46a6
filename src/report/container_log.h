/* container_log.h - a finding's container log lines around its time, merged
 * with the container's findings (container_log.c): for `findings logs` and the
 * console's Logs tab. */
#ifndef CW_CONTAINER_LOG_H
#define CW_CONTAINER_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "store.h"

struct cw_container_log {
	json_t *entries;  /* [{time, stream ("stdout", "stderr", "cagewatch"), text}], owned */
	const char *path; /* the log (points into the finding), NULL: the runtime keeps none */
	int log_error;    /* reading it failed (-errno), 0 if fine */
	int64_t from_ns, to_ns;
	size_t dropped; /* entries past the limit, not included */
};

/* From before_ms before to after_ms after f's event time. 0, or -EINVAL (no
 * event time) / -ENOMEM. The caller json_decref()s out->entries. */
int cw_container_log(struct cw_store *s, json_t *f, int64_t before_ms, int64_t after_ms,
                     struct cw_container_log *out);

#endif
