/* fleet_bench.c - drives the agent's report path (the store sink, the outbox,
 * the NATS sink's delivery thread: the code `cagewatch run --sink nats://...`
 * runs, minus the sensor) at a fixed rate, so bench/fleet.sh can time
 * findings from the node to PostgreSQL through NATS and the collectors.
 *
 *   fleet_bench STORE.db NATS-URL RATE COUNT HOST
 *
 * Emits COUNT distinct findings (no two share a dedup key: each is a new row
 * at the far end), RATE per second (0: as fast as the store takes them), each
 * stamped eventTime = the moment it is handed to the sinks; prints the
 * achieved emit rate. The findings are shaped and sized like the agent's
 * (processes, arguments, container, resource: about 2.5 KB of JSON).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "config.h"
#include "sink.h"
#include "store.h"
#include "util.h"

static json_t *finding(const char *host, long i)
{
	char name[160], rn[400], et[40], id[40];
	int64_t now = cw_now_ns();

	snprintf(id, sizeof(id), "%016llx%08lx", (unsigned long long)now, i);
	snprintf(name, sizeof(name),
	         "organizations/0/sources/cagewatch/locations/global/findings/%s", id);
	snprintf(rn, sizeof(rn), "//cagewatch.local/hosts/%s/containers/bench-%ld", host, i % 50);
	cw_rfc3339(now, et, sizeof(et));
	return json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
	    "s:{s:s,s:s,s:s,s:s,s:s,s:s,s:i},"
	    "s:[{s:s,s:{s:s,s:s},s:[s,s,s],s:i,s:i}],"
	    "s:[{s:s,s:s,s:s}],"
	    "s:{s:s,s:s,s:s,s:{s:s,s:s}},"
	    "s:{s:s,s:[s],s:[s]},s:s,s:s}",
	    "name", name, "parent", "organizations/0/sources/cagewatch/locations/global",
	    "resourceName", rn, "state", "ACTIVE", "category", "Execution: Container Escape",
	    "severity", "HIGH", "findingClass", "THREAT", "mute", "UNDEFINED", "eventTime", et,
	    "createTime", et, "canonicalName", name, "sourceProperties", "Tool_Id", "botb",
	    "Tool_Name", "Break out the Box (BOtB)", "Container_Id",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Container_Name",
	    "bench", "Matched_By", "catalogue:sha256,yara:botb_strings", "Binary_Sha256",
	    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "Occurrence_Count",
	    1, "processes", "name", "botb-linux-amd64", "binary", "path", "/tmp/botb-linux-amd64",
	    "sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "args",
	    "/tmp/botb-linux-amd64", "-autopwn", "-cgroup", "pid", (int)(1000 + i % 30000),
	    "parentPid", 1, "containers", "name", "bench", "uri", "example.local/cwbench:latest",
	    "imageId", "sha256:4f1b2b0b822cd15d6c15b0f00a089f86d081884c7d659a2feaa0c55ad015a3bf",
	    "resource", "name", rn, "displayName", "bench", "type", "cagewatch.dev/Container",
	    "gcpMetadata", "project", "//cloudresourcemanager.googleapis.com/projects/0",
	    "projectDisplayName", "cagewatch-local", "mitreAttack", "primaryTactic",
	    "PRIVILEGE_ESCALATION", "primaryTechniques", "ESCAPE_TO_HOST", "additionalTactics",
	    "DEFENSE_EVASION", "description",
	    "A known container-escape tool was executed inside a container; an attacker "
	    "who can run it may gain control of the node.",
	    "nextSteps",
	    "Review the finding's binary and arguments, look for other findings on the same "
	    "container around the same time, review the container's settings and its logs.");
}

static void pace(int64_t start_ns, long i, double rate)
{
	int64_t due, now;

	if (rate <= 0)
		return;
	due = start_ns + (int64_t)((double)i * 1e9 / rate);
	now = cw_mono_ns();
	if (due > now) {
		struct timespec ts = {(time_t)((due - now) / 1000000000),
		                      (long)((due - now) % 1000000000)};

		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	struct cw_config cfg;
	struct cw_sinks sinks = {0};
	struct cw_store *st = NULL;
	struct cw_sink *remote;
	const char *key;
	double rate;
	long count;
	int64_t t0;

	if (argc != 6) {
		fprintf(stderr, "usage: fleet_bench STORE.db NATS-URL RATE COUNT HOST\n");
		return 2;
	}
	rate = atof(argv[3]);
	count = atol(argv[4]);
	if (cw_config_defaults(&cfg) || cw_config_set(&cfg, "host", argv[5]) ||
	    !cw_strlcpy(cfg.store_path, argv[1], sizeof(cfg.store_path)) ||
	    cw_store_open(&st, argv[1], CW_STORE_CREATE))
		return 1;
	remote = cw_sink_remote_new(argv[2], argv[1], &cfg);
	if (!remote)
		return 1;
	key = cw_sink_remote_key(remote);
	if (cw_sinks_add(&sinks, cw_sink_store(st, 0)) || cw_sinks_add(&sinks, remote) ||
	    cw_store_outbox_enable(st, &key, 1, 0) || cw_sink_remote_start(remote))
		return 1;
	t0 = cw_mono_ns();
	for (long i = 0; i < count; i++) {
		json_t *f = finding(cfg.host, i);

		pace(t0, i, rate);
		cw_sinks_emit(&sinks, f, NULL);
		json_decref(f);
	}
	printf("emitted %ld findings in %.3f s (%.0f/s)\n", count,
	       (double)(cw_mono_ns() - t0) / 1e9,
	       (double)count * 1e9 / (double)(cw_mono_ns() - t0));
	fflush(stdout);
	/* the remote sink delivers from the outbox; let it drain before stopping */
	for (int i = 0; i < 600; i++) {
		struct cw_outbox_state os;

		if (cw_store_outbox_state(st, key, &os) == 0 && os.position >= os.head)
			break;
		usleep(100 * 1000);
	}
	cw_sinks_free(&sinks);
	cw_store_close(st);
	return 0;
}
