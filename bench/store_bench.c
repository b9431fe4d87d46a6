/* store_bench.c - findings store throughput: insert rate (each record its own
 * committed transaction, the agent's path, with a dedup look-up that misses),
 * dedup-hit rate (a burst on one key), and `findings list` latency with
 * filters over the stored findings. Prints a markdown table.
 * Usage: store_bench [-n COUNT] [-d DIR]   (COUNT default 1000000)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "filter.h"
#include "store.h"
#include "util.h"

#define BASE_MS 1795935605000LL

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const categories[] = {
    "Execution: Container Escape",
    "Execution: Kubernetes Attack Tool Execution",
    "Discovery: Local Reconnaissance Tool Execution",
};
static const char *const tools[] = {"botb", "cdk", "deepce", "amicontained", "peirates"};

static json_t *template_finding(void)
{
	return json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:[s], s:s}, "
	    "s:[{s:s, s:{s:s, s:s, s:s, s:s, s:b}, s:[s, s], s:s, s:s, s:s}], "
	    "s:[{s:s, s:s, s:s}], s:{s:s, s:s, s:s, s:s, s:s, s:i}, "
	    "s:{s:s, s:s, s:s, s:{s:s, s:s}}}",
	    "name", "", "canonicalName", "projects/42/sources/cagewatch/findings/x", "parent",
	    "organizations/0/sources/cagewatch/locations/global", "resourceName",
	    "//cagewatch/hosts/node-1/containers/x", "state", "ACTIVE", "category", "",
	    "findingClass", "THREAT", "severity", "HIGH", "mute", "UNDEFINED", "eventTime", "",
	    "createTime", "", "mitreAttack", "primaryTactic", "PRIVILEGE_ESCALATION",
	    "primaryTechniques", "ESCAPE_TO_HOST", "version", "15", "processes", "name", "botb",
	    "binary", "path", "", "size", "7340032", "sha256",
	    "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12", "hashedSize",
	    "7340032", "partiallyHashed", 0, "args", "/tmp/tool", "-autopwn", "pid", "4242",
	    "parentPid", "1", "userId", "0", "containers", "name", "web", "uri", "nginx:1.25",
	    "imageId", "sha256:0123", "sourceProperties", "Rule_Id", "tool.botb.name", "Matched_On",
	    "name", "Tool_Id", "", "Container_Id", "", "Host", "node-1", "Occurrence_Count", 1,
	    "resource", "name", "//cagewatch/hosts/node-1/containers/x", "displayName", "web",
	    "type", "cagewatch.dev/Container", "gcpMetadata", "project",
	    "//cloudresourcemanager.googleapis.com/projects/42", "projectDisplayName", "my-proj");
}

static void vary(json_t *f, long i)
{
	char buf[160], et[40], ctr[32];
	json_t *sp = json_object_get(f, "sourceProperties");
	json_t *proc = json_array_get(json_object_get(f, "processes"), 0);
	const char *tool = tools[i % 5];

	snprintf(buf, sizeof(buf),
	         "organizations/0/sources/cagewatch/locations/global/findings/%032lx",
	         (unsigned long)i * 2654435761UL + 1);
	json_object_set_new(f, "name", json_string(buf));
	cw_rfc3339((BASE_MS + i * 10) * 1000000, et, sizeof(et));
	json_object_set_new(f, "eventTime", json_string(et));
	json_object_set_new(f, "createTime", json_string(et));
	json_object_set_new(f, "category", json_string(categories[i % 3]));
	json_object_set_new(f, "state", json_string(i % 10 ? "ACTIVE" : "INACTIVE"));
	snprintf(ctr, sizeof(ctr), "ctr-%04ld", i % 1000);
	json_object_set_new(sp, "Container_Id", json_string(ctr));
	json_object_set_new(sp, "Tool_Id", json_string(tool));
	snprintf(buf, sizeof(buf), "/tmp/%s-%ld", tool, i);
	json_object_set_new(json_object_get(proc, "binary"), "path", json_string(buf));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int time_list(struct cw_store *s, const char *expr, const char *order, bool desc, long limit,
                     double *median_ms, size_t *rows)
{
	double t[5];
	char err[1024];
	struct cw_filter *f;
	int ret = cw_filter_compile(expr, &f, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "%s\n", err);
		return ret;
	}
	for (int r = 0; r < 5; r++) {
		json_t *arr = NULL;
		double t0 = now_s();

		ret = cw_store_list(s, f, order, desc, limit, &arr);
		t[r] = (now_s() - t0) * 1000;
		*rows = json_array_size(arr);
		json_decref(arr);
		if (ret)
			break;
	}
	cw_filter_free(f);
	qsort(t, 5, sizeof(t[0]), cmp_double);
	*median_ms = t[2];
	return ret;
}

int main(int argc, char **argv)
{
	long n = 1000000;
	const char *base = NULL, *keep = NULL; /* -k: move the store there, keep it */
	char dir[256], path[300], key[200], cmd[300];
	struct cw_store *s;
	json_t *f, *stored;
	double t0, insert_s, dedup_s;
	struct stat st;
	int opt;

	while ((opt = getopt(argc, argv, "n:d:k:")) != -1) {
		if (opt == 'k') {
			keep = optarg;
		} else if (opt == 'n') {
			n = strtol(optarg, NULL, 10);
		} else if (opt == 'd') {
			base = optarg;
		} else {
			fprintf(stderr, "usage: %s [-n COUNT] [-d DIR] [-k KEEP_AS]\n", argv[0]);
			return 2;
		}
	}
	if (n < 1) {
		fprintf(stderr, "store_bench: -n must be a positive count\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/cw-store-bench-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "store_bench: mkdtemp %s: %s\n", dir, strerror(errno));
		return 2;
	}
	snprintf(path, sizeof(path), "%s/findings.db", dir);
	if (cw_store_open(&s, path, CW_STORE_CREATE))
		return 2;

	f = template_finding();
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		vary(f, i);
		snprintf(key, sizeof(key), "%s|ctr-%04ld|/tmp/%s-%ld", categories[i % 3], i % 1000,
		         tools[i % 5], i);
		if (cw_store_record(s, f, key, 15 * 60 * 1000, &stored)) {
			fprintf(stderr, "store_bench: record %ld failed\n", i);
			return 1;
		}
		json_decref(stored);
	}
	insert_s = now_s() - t0;

	/* dedup hits: 10,000 records of one detection */
	t0 = now_s();
	for (long i = 0; i < 10000; i++) {
		vary(f, n + i);
		if (cw_store_record(s, f, "burst-key", 15 * 60 * 1000, &stored)) {
			fprintf(stderr, "store_bench: dedup record %ld failed\n", i);
			return 1;
		}
		json_decref(stored);
	}
	dedup_s = now_s() - t0;
	json_decref(f);
	cw_store_close(s);

	if (cw_store_open(&s, path, CW_STORE_READONLY))
		return 2;
	printf("| Measurement (%ld findings stored) | Result |\n|---|---|\n", n + 1);
	printf("| insert, one committed transaction each (WAL, synchronous=NORMAL) | %.0f "
	       "findings/s (%.1f s) |\n",
	       (double)n / insert_s, insert_s);
	printf("| dedup hit (update existing finding, count += 1) | %.0f records/s |\n",
	       10000 / dedup_s);
	{
		static const struct {
			const char *label, *expr, *order;
			bool desc;
			long limit;
		} q[] = {
		    {"category + state, newest 100",
		     "category=\"Execution: Container Escape\" AND state=\"ACTIVE\"", "event_time",
		     true, 100},
		    {"one container, newest 100", "container.id = \"ctr-0042\"", "event_time", true,
		     100},
		    {"event_time window (last 10 s of events)", "event_time >= \"%s\"",
		     "event_time", false, 0},
		    {"source_properties.Tool_Id (JSON), newest 100",
		     "source_properties.Tool_Id = \"peirates\"", "event_time", true, 100},
		    {"substring on binary path, rare match (full scan)",
		     "process.binary.path : \"botb-12345\"", "event_time", true, 100},
		    {"NOT/OR mix, newest 100",
		     "-state=\"INACTIVE\" AND (severity=\"HIGH\" OR severity=\"CRITICAL\") AND "
		     "NOT category:\"Discovery\"",
		     "event_time", true, 100},
		};
		for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
			char expr[256], et[40];
			double ms;
			size_t rows = 0;

			cw_rfc3339((BASE_MS + (n - 1000) * 10) * 1000000, et, sizeof(et));
			snprintf(expr, sizeof(expr), q[i].expr, et);
			if (time_list(s, expr, q[i].order, q[i].desc, q[i].limit, &ms, &rows))
				return 1;
			printf("| list: %s (%zu rows) | %.2f ms (median of 5) |\n", q[i].label,
			       rows, ms);
		}
	}
	cw_store_close(s);
	if (stat(path, &st) == 0)
		printf("| store file size | %.1f MiB (%.0f bytes/finding) |\n",
		       (double)st.st_size / (1 << 20), (double)st.st_size / (double)(n + 1));
	if (keep && rename(path, keep) != 0)
		fprintf(stderr, "store_bench: cannot keep the store as %s: %s\n", keep,
		        strerror(errno));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "store_bench: could not remove %s\n", dir);
	return 0;
}
