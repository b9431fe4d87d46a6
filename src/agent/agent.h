/* agent.h - entry points of the agent-side commands (`run`, `trace`, `stats`)
 * and the stats file's readers the console shares. */
#ifndef CW_AGENT_H
#define CW_AGENT_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#define CW_STATS_DEFAULT_PATH "/run/cagewatch/stats.json"
/* The agent rewrites its counters every 0.5 s: older than this, it is
 * stopped or stuck. */
#define CW_STATS_FRESH_MS 3000

int cw_cmd_run(int argc, char **argv);
int cw_cmd_trace(int argc, char **argv);
int cw_cmd_stats(int argc, char **argv);

/* The stats file's counters in Prometheus' text exposition format. */
void cw_stats_prometheus(FILE *out, json_t *o);
/* How old the counters are (INT64_MAX without a time). */
int64_t cw_stats_age_ms(json_t *o, int64_t now_ms);

#endif
