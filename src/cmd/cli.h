/* cli.h - entry points of the `cagewatch findings ...` review commands. */
#ifndef CW_CLI_H
#define CW_CLI_H

/* argv[0] is "findings". Returns the exit status: 0 ok, 1 not found,
 * 2 usage or environment error. */
int cw_cmd_findings(int argc, char **argv);

/* `cagewatch doctor`: the node's prerequisites (doctor.c). */
int cw_cmd_doctor(int argc, char **argv);

#endif
