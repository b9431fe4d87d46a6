/* main.c - the `cagewatch` command line: dispatches to the agent (`run`), the
 * review commands (`findings ...`), the offline scanner (`scan`) and `trace`.
 * Exit status: 0 ok, 1 something found / not found, 2 usage or environment error.
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "cli.h"
#include "content.h"
#include "util.h"

#ifndef CW_VERSION
#define CW_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fputs("usage: cagewatch <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  run                 run the agent: report known escape tools executed in "
	      "containers\n"
	      "                      as SCC findings, one JSON line each on stdout\n"
	      "  findings list|show|related|set-state|mute|unmute\n"
	      "                      review stored findings\n"
	      "  scan PATH...        check files, directories or an image rootfs for known tools\n"
	      "  stats               counters of the running agent (seen, filtered, lost, ...)\n"
	      "  trace               print every exec the sensor sees (debugging)\n"
	      "  version             print the version\n"
	      "\n"
	      "`cagewatch <command> --help` describes a command's options.\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "run"))
		return cw_cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "stats"))
		return cw_cmd_stats(argc - 1, argv + 1);
	if (!strcmp(cmd, "trace"))
		return cw_cmd_trace(argc - 1, argv + 1);
	if (!strcmp(cmd, "findings"))
		return cw_cmd_findings(argc - 1, argv + 1);
	if (!strcmp(cmd, "scan"))
		return cw_cmd_scan(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("cagewatch %s\n", CW_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	cw_err("unknown command '%s'", cmd);
	usage(stderr);
	return 2;
}
