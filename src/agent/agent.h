/* agent.h - entry points of the agent-side commands (`run`, `trace`). */
#ifndef CW_AGENT_H
#define CW_AGENT_H

int cw_cmd_run(int argc, char **argv);
int cw_cmd_trace(int argc, char **argv);
int cw_cmd_stats(int argc, char **argv);

#endif
