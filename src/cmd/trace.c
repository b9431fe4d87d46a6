/* trace.c - `cagewatch trace`: prints every exec the sensor delivers as one JSON
 * line (decoded, before any detection). A debugging aid and a way to see what
 * the kernel side records. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent.h"
#include "container.h"
#include "exec.h"
#include "sensor.h"
#include "util.h"

static volatile sig_atomic_t trace_stop;
static struct cw_exec tex;

static void on_sig(int s)
{
	(void)s;
	trace_stop = 1;
}

static int on_ev(void *ctx, const void *data, size_t len)
{
	json_t *o, *args;
	char *line;

	(void)ctx;
	if (cw_exec_decode(data, len, &tex)) {
		cw_warn("malformed exec record (%zu bytes)", len);
		return 0;
	}
	args = json_array();
	for (int i = 0; i < tex.argc; i++)
		json_array_append_new(args, json_stringn_nocheck(tex.argv[i], strlen(tex.argv[i])));
	o = json_pack("{s:i,s:i,s:i,s:s%,s:s%,s:s%,s:s%,s:o,s:i,s:i,s:I,s:I,s:i}", "pid",
	              (int)tex.ev->tgid, "ppid", (int)tex.ev->ppid, "uid", (int)tex.ev->uid, "comm",
	              tex.ev->comm, strnlen(tex.ev->comm, CW_COMM_LEN), "path", tex.path,
	              strlen(tex.path), "filename", tex.filename, strlen(tex.filename), "cgroup",
	              tex.cgroup, strlen(tex.cgroup), "argv", args, "pidns", (int)tex.ev->pidns,
	              "mntns", (int)tex.ev->mntns, "ino", (json_int_t)tex.ev->ino, "size",
	              (json_int_t)tex.ev->size, "flags", (int)tex.ev->flags);
	if (!o)
		return 0;
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line) {
		puts(line);
		(void)fflush(stdout);
	}
	free(line);
	json_decref(o);
	return 0;
}

int cw_cmd_trace(int argc, char **argv)
{
	struct cw_sensor_opts so = {.sz = sizeof(so), .on_event = on_ev};
	struct cw_sensor *s = NULL;
	struct cw_attrib *at = NULL;
	int err;

	if (argc > 1 && strcmp(argv[1], "--containers") && strcmp(argv[1], "--help"))
		return cw_usage_hint("trace", "unknown option '%s'", argv[1]);
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		puts("usage: cagewatch trace [--containers]\n"
		     "  print every exec the sensor sees as a JSON line (debugging)\n"
		     "  --containers  only execs in containers");
		return 0;
	}
	err = cw_attrib_new(&at, NULL);
	if (err)
		return CW_EXIT_ERROR;
	so.containers_only = argc > 1;
	so.host_pidns = cw_attrib_host_pidns(at);
	so.host_mntns = cw_attrib_host_mntns(at);
	err = cw_sensor_open(&s, &so);
	cw_attrib_free(at);
	if (err)
		return CW_EXIT_ERROR;
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	while (!trace_stop)
		if (cw_sensor_poll(s, 100) < 0)
			break;
	cw_sensor_close(s);
	return 0;
}
