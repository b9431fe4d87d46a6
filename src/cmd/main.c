/* main.c - the `cagewatch` command line: dispatches to the agent (`run`), the
 * review commands (`findings ...`), the offline scanner (`scan`), the fleet
 * collector (`collect`) and `trace`.
 * Exit status: 0 ok, 1 something found / not found, 2 usage or environment error.
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "cli.h"
#include "collect.h"
#include "console.h"
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
	      "  findings list|show|related|logs|set-state|mute|unmute\n"
	      "                      review stored findings\n"
	      "  serve               the web console and SCC-shaped API over the findings\n"
	      "                      (default http://127.0.0.1:7611)\n"
	      "  scan PATH...        check files, directories or an image rootfs for known tools\n"
	      "  collect             the fleet's collector: findings from NATS JetStream into\n"
	      "                      PostgreSQL (`findings --store postgres://...` reads them)\n"
	      "  stats               counters of the running agent (seen, filtered, lost, ...)\n"
	      "  doctor              whether this node can run the agent, and what is missing\n"
	      "  trace               print every exec the sensor sees (debugging)\n"
	      "  version             print the version\n"
	      "\n"
	      "`cagewatch <command> --help` describes a command's options.\n",
	      f);
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("cagewatch %s\n", CW_VERSION);
	return CW_EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return CW_EXIT_OK;
}

/* The commands: a new one is a row. */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
    {"run", cw_cmd_run},
    {"stats", cw_cmd_stats},
    {"trace", cw_cmd_trace},
    {"findings", cw_cmd_findings},
    {"scan", cw_cmd_scan},
    {"serve", cw_cmd_serve},
    {"doctor", cw_cmd_doctor},
    {"version", cmd_version},
    {"collect", cw_cmd_collect},
    {"--version", cmd_version},
    {"help", cmd_help},
    {"--help", cmd_help},
    {"-h", cmd_help},
};

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	cw_log_detect_journal();
	if (!cmd) {
		usage(stderr);
		return CW_EXIT_ERROR;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "cagewatch: unknown command '%s' (see `cagewatch --help`)\n", cmd);
	return CW_EXIT_ERROR;
}
