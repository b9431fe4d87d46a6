/* cli_logs.h - `findings logs` (cli_logs.c). */
#ifndef CW_CLI_LOGS_H
#define CW_CLI_LOGS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "store.h"

/* Print the container's log lines from before_ms before to after_ms after
 * the finding's event time, merged with the container's findings in that
 * window (text, or a JSON array with json). 0 or -errno. */
int cw_findings_logs(struct cw_store *s, json_t *f, int64_t before_ms, int64_t after_ms, bool json);

#endif
