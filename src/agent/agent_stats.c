/* agent_stats.c - the agent's counters: the stats file it rewrites every
 * half second (JSON, 0644), and `cagewatch stats` which reads it back as text,
 * JSON or Prometheus exposition. Every drop, unreadable file and failed sink
 * has a counter here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_int.h"
#include "ancestry.h"
#include "util.h"

/* Findings the store sink could not record (it is always named "store"). */
static uint64_t store_failed(struct agent *a)
{
	for (size_t i = 0; i < a->sinks.n; i++)
		if (!strcmp(a->sinks.v[i]->ops->kind, "store")) {
			struct cw_sink_counters c;

			cw_sink_counters(a->sinks.v[i], &c);
			return c.failed;
		}
	return 0;
}

/* Content scans of never-judged executables (called under a->lock):
 * queued = done + waiting; unreadable ones are counted by reason too. */
static json_t *scan_stats(struct agent *a)
{
	json_t *why = json_object();
	uint64_t total = 0;

	for (size_t i = 0; i < sizeof(a->unreadable) / sizeof(a->unreadable[0]); i++) {
		json_object_set_new(why, cw_unreadable_names[i],
		                    json_integer((json_int_t)a->unreadable[i]));
		total += a->unreadable[i];
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "queued", (json_int_t)a->scans_queued, "done",
	                 (json_int_t)a->scans_done, "unreadable", (json_int_t)total,
	                 "backpressure_waits", (json_int_t)a->backpressure, "stdin_scripts",
	                 (json_int_t)a->stdin_scripts, "unreadable_by_reason", why);
}

/* Self-protection counters and the gap the agent before this one left. */
static json_t *guard_stats(struct cw_guard *g)
{
	struct cw_guard_stats gs;
	json_t *o;

	if (cw_guard_stats(g, &gs))
		return NULL;
	o = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i}", "pinned", gs.pinned,
	              "delivered", (json_int_t)gs.submitted, "lost", (json_int_t)gs.lost,
	              "attempts", (json_int_t)gs.attempts, "attempts_folded", (json_int_t)gs.folded,
	              "host_attempts", (json_int_t)gs.host_attempts, "host_attempts_folded",
	              (json_int_t)gs.host_folded, "host_attempts_unlogged",
	              (json_int_t)gs.host_unlogged, "shed", (json_int_t)gs.shed, "malformed",
	              (json_int_t)gs.malformed, "protected_threads", (int)gs.protected_tids,
	              "protected_objects", (int)gs.protected_objects);
	if (o && gs.previous.found)
		json_object_set_new(
		    o, "previous",
		    json_pack("{s:i,s:b,s:f,s:I,s:I,s:I}", "pid", (int)gs.previous.pid, "clean",
		              gs.previous.clean, "down_seconds", gs.previous.down_s,
		              "processes_started", (json_int_t)gs.previous.processes, "lost",
		              (json_int_t)gs.previous.lost, "shed", (json_int_t)gs.previous.shed));
	return o;
}

static json_t *capture_stats(struct cw_capture *cap)
{
	struct cw_capture_stats cs;

	cw_capture_get_stats(cap, &cs);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "events", (json_int_t)cs.events,
	                 "claimed", (json_int_t)cs.claimed, "unclaimed", (json_int_t)cs.unclaimed,
	                 "evicted", (json_int_t)cs.evicted, "overflows", (json_int_t)cs.overflows,
	                 "ignore_marks", (json_int_t)cs.ignore_marks, "filesystems",
	                 (json_int_t)cs.filesystems, "mark_errors", (json_int_t)cs.mark_errors,
	                 "pending", (json_int_t)cs.pending);
}

/* Counters for `cagewatch stats`, written atomically as JSON. */
/* The content layer's counters over every rules generation so far (event
 * thread: a->ev_rules is its own reference). */
static void content_totals(struct agent *a, struct cw_content_stats *cs)
{
	cw_content_get_stats(a->ev_rules->content, cs);
	pthread_mutex_lock(&a->rules_lock);
	cs->hits += a->content_retired.hits;
	cs->misses += a->content_retired.misses;
	cs->bytes_scanned += a->content_retired.bytes_scanned;
	pthread_mutex_unlock(&a->rules_lock);
}

/* Which rules are in force and how reloads went. */
static json_t *rules_stats(struct agent *a)
{
	json_t *o;

	pthread_mutex_lock(&a->rules_lock);
	o = json_pack("{s:I,s:I,s:I}", "generation", (json_int_t)a->rules->gen, "reloads",
	              (json_int_t)a->reloads, "reload_failures", (json_int_t)a->reload_failures);
	pthread_mutex_unlock(&a->rules_lock);
	return o;
}

/* The exec sensor's and the agent's own counters (the stats file's core). */
static json_t *core_stats(struct agent *a)
{
	uint64_t c[CW_CNT_MAX], lost[1024] = {0};
	struct cw_content_stats cs;
	int ncpu = cw_sensor_ncpu(a->sensor);
	json_t *o, *per;

	if (cw_sensor_counters(a->sensor, c, lost, 1024))
		return NULL;
	content_totals(a, &cs);
	per = json_array();
	for (int i = 0; i < ncpu && i < 1024; i++)
		json_array_append_new(per, json_integer((json_int_t)lost[i]));
	pthread_mutex_lock(&a->lock);
	o = json_pack(
	    "{s:i,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:o},s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},"
	    "s:{s:I,s:I,s:I,s:I}}",
	    "pid", (int)getpid(), "time_ms", (json_int_t)(cw_now_ns() / 1000000), "kernel", "seen",
	    (json_int_t)c[CW_CNT_SEEN], "filtered", (json_int_t)c[CW_CNT_FILTERED], "known_clean",
	    (json_int_t)c[CW_CNT_CLEAN], "delivered", (json_int_t)c[CW_CNT_SUBMITTED], "lost",
	    (json_int_t)c[CW_CNT_LOST], "lost_per_cpu", per, "agent", "processed",
	    (json_int_t)a->execs, "fast_path", (json_int_t)a->fast_path, "marked_clean",
	    (json_int_t)a->marked_clean, "jobs", (json_int_t)a->jobs, "jobs_dropped",
	    (json_int_t)a->jobs_dropped, "queued", (json_int_t)a->queued, "findings",
	    (json_int_t)a->findings, "store_errors", (json_int_t)store_failed(a), "decode_errors",
	    (json_int_t)a->decode_errors, "cache", "hits", (json_int_t)cs.hits, "misses",
	    (json_int_t)cs.misses, "entries", (json_int_t)cs.entries, "bytes_scanned",
	    (json_int_t)cs.bytes_scanned);
	if (o)
		json_object_set_new(o, "scans", scan_stats(a));
	pthread_mutex_unlock(&a->lock);
	return o;
}

static json_t *technique_stats(struct cw_technique *tq)
{
	struct cw_technique_stats ts;

	if (cw_technique_stats(tq, &ts))
		return NULL;
	return json_pack(
	    "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "syscalls_seen",
	    (json_int_t)ts.kernel[CW_TQC_SEEN], "filtered", (json_int_t)ts.kernel[CW_TQC_FILTERED],
	    "delivered", (json_int_t)ts.kernel[CW_TQC_SUBMITTED], "folded",
	    (json_int_t)ts.kernel[CW_TQC_FOLDED], "lost", (json_int_t)ts.kernel[CW_TQC_LOST],
	    "helper_execs", (json_int_t)ts.kernel[CW_TQC_UMH], "hits", (json_int_t)ts.hits,
	    "malformed", (json_int_t)ts.malformed);
}

/* --block's holds: the kernel's counts and what became of them. */
static json_t *hold_stats(struct agent *a)
{
	struct cw_hold_stats hs;
	uint64_t c[CW_CNT_MAX] = {0};

	cw_hold_get_stats(a->hold, &hs);
	(void)cw_sensor_counters(a->sensor, c, NULL, 0);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i}", "held", (json_int_t)c[CW_CNT_HELD],
	                 "hold_failed", (json_int_t)c[CW_CNT_HOLD_FAILED], "released",
	                 (json_int_t)hs.released, "killed", (json_int_t)hs.killed, "expired",
	                 (json_int_t)hs.expired, "orphaned", (json_int_t)hs.orphaned, "gone",
	                 (json_int_t)hs.gone, "limit_ms", cw_hold_limit_ms(a->hold));
}

static json_t *block_stats(struct agent *a)
{
	struct cw_enforce_stats es;

	cw_enforce_get_stats(a->enforce, &es);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "clean_marks",
	                 (json_int_t)es.clean_marks, "allowed", (json_int_t)es.allowed, "denied",
	                 (json_int_t)es.denied, "undecided", (json_int_t)es.undecided, "namespaces",
	                 (json_int_t)es.namespaces, "marks", (json_int_t)es.marks, "mark_errors",
	                 (json_int_t)es.mark_errors, "late", (json_int_t)es.late, "stalled",
	                 (json_int_t)es.stalled, "unbounded", (json_int_t)es.unbounded);
}

/* Replace path with o's JSON, atomically (write a .tmp, rename). */
static void write_json_file(const char *path, json_t *o)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = cw_fopen_mode(tmp, 0644); /* whatever the umask: nobody forges it */
	if (!f)
		return;
	if (json_dumpf(o, f, JSON_COMPACT) != 0) {
		(void)fclose(f);
		unlink(tmp);
	} else if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
	}
}

/* The finding's context: ancestry reads and engine metadata. */
static json_t *context_stats(void)
{
	struct cw_ancestry_stats st;

	cw_ancestry_get_stats(&st);
	return json_pack("{s:I,s:I,s:I,s:I}", "ancestors_read", (json_int_t)st.read,
	                 "ancestors_gone", (json_int_t)st.gone, "ancestor_args_timed_out",
	                 (json_int_t)st.args_timed_out, "metadata_errors",
	                 (json_int_t)cw_attrib_metadata_errors());
}

void cw_agent_write_stats(struct agent *a)
{
	json_t *o;

	if (!a->stats_path || !(o = core_stats(a)))
		return;
	if (a->cap)
		json_object_set_new(o, "capture", capture_stats(a->cap));
	if (a->guard)
		json_object_set_new(o, "guard", guard_stats(a->guard));
	if (a->tq)
		json_object_set_new(o, "techniques", technique_stats(a->tq));
	if (a->enforce)
		json_object_set_new(o, "block", block_stats(a));
	if (a->hold)
		json_object_set_new(o, "hold", hold_stats(a));
	json_object_set_new(o, "sinks", cw_sinks_stats(&a->sinks));
	json_object_set_new(o, "context", context_stats());
	json_object_set_new(o, "rules", rules_stats(a));
	write_json_file(a->stats_path, o);
	json_decref(o);
}

/* Prometheus text exposition of the stats file: one metric per counter, the
 * JSON's sections as name parts ("kernel"."lost" -> cagewatch_kernel_lost_total),
 * per-CPU losses labelled by cpu. Only counters are exported; pid and time
 * become cagewatch_agent_pid and cagewatch_stats_time_seconds. */
static const struct {
	const char *section, *key, *metric, *help;
	bool gauge;
} prom[] = {
    {"kernel", "seen", "kernel_execs_seen_total", "execs the exec sensor saw", false},
    {"kernel", "filtered", "kernel_execs_filtered_total", "host execs dropped in the kernel",
     false},
    {"kernel", "known_clean", "kernel_execs_known_clean_total",
     "execs of known-clean files dropped in the kernel", false},
    {"kernel", "delivered", "kernel_execs_delivered_total", "exec records sent to the agent",
     false},
    {"kernel", "lost", "kernel_execs_lost_total", "exec records lost (ring buffer full)", false},
    {"agent", "processed", "agent_execs_processed_total", "exec records the agent handled", false},
    {"collector", "received", "collector_messages_received_total",
     "messages the collector fetched from JetStream", false},
    {"collector", "stored", "collector_findings_stored_total",
     "findings committed to the fleet store (then acknowledged)", false},
    {"collector", "rejected", "collector_messages_rejected_total",
     "messages that were not findings (kept in table rejected)", false},
    {"collector", "redelivered", "collector_messages_redelivered_total",
     "messages JetStream delivered more than once", false},
    {"collector", "store_errors", "collector_store_errors_total",
     "batches the fleet store could not commit (redelivered)", false},
    {"collector", "nats_errors", "collector_nats_errors_total", "failed connects and fetches",
     false},
    {"collector", "pending", "collector_pending", "messages the consumer has not delivered yet",
     true},
    {"agent", "jobs_dropped", "agent_jobs_dropped_total",
     "unmatched execs not content-checked (queue full)", false},
    {"agent", "queued", "agent_queue_length", "jobs waiting for the worker", true},
    {"scans", "queued", "scans_queued_total", "never-judged executables queued for a scan", false},
    {"scans", "done", "scans_done_total", "never-judged executables scanned", false},
    {"scans", "unreadable", "scans_unreadable_total",
     "executables that could not be read to judge them", false},
    {"scans", "backpressure_waits", "scans_backpressure_waits_total",
     "times event intake waited for the worker", false},
    {"capture", "events", "capture_events_total", "exec opens captured at exec time", false},
    {"capture", "claimed", "capture_claimed_total", "exec records given their captured file",
     false},
    {"capture", "unclaimed", "capture_unclaimed_total", "captured files no exec record asked for",
     false},
    {"capture", "evicted", "capture_evicted_total", "captured files closed early (table full)",
     false},
    {"capture", "overflows", "capture_overflows_total", "capture queue overflows", false},
    {"capture", "ignore_marks", "capture_ignore_marks_total",
     "files that stopped raising capture events", false},
    {"agent", "findings", "agent_findings_total", "findings reported", false},
    {"agent", "store_errors", "agent_store_errors_total", "findings the store refused", false},
    {"agent", "decode_errors", "agent_decode_errors_total", "malformed exec records", false},
    {"cache", "hits", "content_cache_hits_total", "content verdicts served from the cache", false},
    {"cache", "misses", "content_cache_misses_total", "files hashed and scanned", false},
    {"cache", "entries", "content_cache_entries", "cached verdicts", true},
    {"cache", "bytes_scanned", "content_scanned_bytes_total", "bytes hashed and scanned", false},
    {"techniques", "syscalls_seen", "technique_syscalls_seen_total",
     "watched syscalls seen by the technique sensor", false},
    {"techniques", "delivered", "technique_records_delivered_total",
     "technique records sent to the agent", false},
    {"techniques", "folded", "technique_records_folded_total",
     "technique records not sent: a container's repeat within 1 s of the same record", false},
    {"techniques", "lost", "technique_records_lost_total",
     "technique records lost (ring buffer full)", false},
    {"techniques", "hits", "technique_hits_total", "technique rule matches", false},
    {"block", "denied", "block_execs_denied_total", "container execs refused (--block)", false},
    {"block", "allowed", "block_execs_allowed_total", "container execs allowed (--block)", false},
    {"block", "undecided", "block_execs_undecided_total",
     "container execs allowed for want of a verdict (--block)", false},
    {"block", "marks", "block_mount_marks_total", "container mounts marked (--block)", false},
    {"block", "clean_marks", "block_clean_files_total",
     "clean files the kernel no longer asks about (--block)", false},
    {"block", "late", "block_answers_late_total",
     "container execs allowed by the guardian: no verdict within --block-timeout", false},
    {"block", "stalled", "block_answers_stalled_total",
     "container execs allowed by the guardian while the agent did not read (hung, stopped)", false},
    {"block", "unbounded", "block_answers_unbounded_total",
     "kernel questions read beyond the guardian's slots (not bounded)", false},
    {"hold", "held", "block_holds_total",
     "container execs held before their first instruction until judged (--block)", false},
    {"hold", "killed", "block_holds_killed_total", "held execs killed before they ran", false},
    {"hold", "released", "block_holds_released_total", "held execs let go after a verdict", false},
    {"hold", "expired", "block_holds_expired_total",
     "held execs let go without a verdict (--block-timeout)", false},
    {"hold", "orphaned", "block_holds_orphaned_total",
     "held execs let go by the guardian after the agent died", false},
    {"hold", "gone", "block_holds_gone_total", "held execs that went before a verdict", false},
    {"hold", "hold_failed", "block_holds_failed_total",
     "execs that could not be held (held map full, record lost): let run", false},
    {"guard", "attempts", "guard_attempts_total",
     "attempts on the agent from containers (signals, ptrace, bpf)", false},
    {"guard", "host_attempts", "guard_host_attempts_total",
     "attempts on the agent from host processes (logged only)", false},
    {"guard", "host_attempts_unlogged", "guard_host_attempts_unlogged_total",
     "host attempts not logged: the caller was logged less than 10 s before", false},
    {"guard", "attempts_folded", "guard_attempts_folded_total",
     "container attempts not sent: a repeat within 1 s of the same attempt's record", false},
    {"guard", "host_attempts_folded", "guard_host_attempts_folded_total",
     "host attempts not sent: a repeat within 1 s of the same attempt's record", false},
    {"guard", "shed", "guard_attempts_shed_total",
     "attempts that cannot stop the agent, not sent: its ring buffer was half full", false},
    {"guard", "lost", "guard_records_lost_total",
     "records of attempts on the agent lost (ring buffer full)", false},
    {"context", "ancestors_read", "context_ancestors_read_total",
     "ancestors of reported processes looked up", false},
    {"context", "ancestors_gone", "context_ancestors_gone_total",
     "ancestors gone or running another program when looked up", false},
    {"context", "ancestor_args_timed_out", "context_ancestor_args_timed_out_total",
     "ancestor argument reads that missed their deadline", false},
    {"context", "metadata_errors", "context_metadata_errors_total",
     "container engine records that could not be read", false},
    {"rules", "generation", "rules_generation", "rules in force: 0 at start, +1 per reload", true},
    {"rules", "reloads", "rules_reloads_total", "reloads that took effect", false},
    {"rules", "reload_failures", "rules_reload_failures_total",
     "reloads refused (a new file was broken; the running rules stayed)", false},
};

/* Per-sink counters: cagewatch_sink_<name>_<counter>_total, the name reduced
 * to [a-z_] (the stats file's sink names are ours, but keep the exposition
 * well formed whatever they become). */
static void print_sinks(FILE *out, json_t *sinks)
{
	static const char *const what[][3] = {
	    {"emitted", "findings the sink delivered", "counter"},
	    {"failed", "findings the sink failed to deliver", "counter"},
	    {"dropped", "findings the slow sink had no room for", "counter"},
	    /* remote sinks (sink_remote.c) */
	    {"delivered", "findings the peer took from the outbox", "counter"},
	    {"retried", "delivery attempts the peer refused or missed", "counter"},
	    {"skipped", "findings that left the bounded outbox undelivered", "counter"},
	    {"lag", "findings stored but not yet delivered", "gauge"}};
	const char *name;
	json_t *v;

	json_object_foreach(sinks, name, v)
	{
		char m[64];
		size_t i;

		for (i = 0; i < sizeof(m) - 1 && name[i]; i++)
			m[i] = ((name[i] >= 'a' && name[i] <= 'z') ||
			        (name[i] >= '0' && name[i] <= '9'))
			           ? name[i]
			           : '_';
		m[i] = 0;
		for (size_t k = 0; k < sizeof(what) / sizeof(what[0]); k++) {
			bool gauge = !strcmp(what[k][2], "gauge");

			if (!json_object_get(v, what[k][0]))
				continue;
			fprintf(out,
			        "# HELP cagewatch_sink_%s_%s%s %s (%s)\n"
			        "# TYPE cagewatch_sink_%s_%s%s %s\n"
			        "cagewatch_sink_%s_%s%s %lld\n",
			        m, what[k][0], gauge ? "" : "_total", what[k][1], m, m, what[k][0],
			        gauge ? "" : "_total", what[k][2], m, what[k][0],
			        gauge ? "" : "_total",
			        (long long)json_integer_value(json_object_get(v, what[k][0])));
		}
	}
}

void cw_stats_prometheus(FILE *out, json_t *o)
{
	json_t *per = json_object_get(json_object_get(o, "kernel"), "lost_per_cpu"), *v;
	size_t i;

	fprintf(out,
	        "# HELP cagewatch_stats_time_seconds when the agent wrote these counters\n"
	        "# TYPE cagewatch_stats_time_seconds gauge\n"
	        "cagewatch_stats_time_seconds %.3f\n",
	        (double)json_integer_value(json_object_get(o, "time_ms")) / 1000.0);
	fprintf(out,
	        "# HELP cagewatch_agent_pid process id of the running agent\n"
	        "# TYPE cagewatch_agent_pid gauge\ncagewatch_agent_pid %lld\n",
	        (long long)json_integer_value(json_object_get(o, "pid")));
	for (i = 0; i < sizeof(prom) / sizeof(prom[0]); i++) {
		v = json_object_get(json_object_get(o, prom[i].section), prom[i].key);
		if (!json_is_integer(v))
			continue; /* e.g. no technique sensor */
		fprintf(out, "# HELP cagewatch_%s %s\n# TYPE cagewatch_%s %s\ncagewatch_%s %lld\n",
		        prom[i].metric, prom[i].help, prom[i].metric,
		        prom[i].gauge ? "gauge" : "counter", prom[i].metric,
		        (long long)json_integer_value(v));
	}
	v = json_object_get(json_object_get(o, "guard"), "previous");
	if (v)
		fprintf(
		    out,
		    "# HELP cagewatch_guard_previous_down_seconds how long no agent ran before "
		    "this one\n# TYPE cagewatch_guard_previous_down_seconds gauge\n"
		    "cagewatch_guard_previous_down_seconds %.3f\n"
		    "# HELP cagewatch_guard_previous_processes_started processes started while no "
		    "agent ran\n# TYPE cagewatch_guard_previous_processes_started gauge\n"
		    "cagewatch_guard_previous_processes_started %lld\n"
		    "# HELP cagewatch_guard_previous_records_lost the previous agent's attempt "
		    "records lost (ring buffer full)\n"
		    "# TYPE cagewatch_guard_previous_records_lost gauge\n"
		    "cagewatch_guard_previous_records_lost %lld\n",
		    json_real_value(json_object_get(v, "down_seconds")),
		    (long long)json_integer_value(json_object_get(v, "processes_started")),
		    (long long)json_integer_value(json_object_get(v, "lost")));
	print_sinks(out, json_object_get(o, "sinks"));
	if (json_array_size(per)) {
		fprintf(
		    out,
		    "# HELP cagewatch_kernel_execs_lost_per_cpu_total exec records lost, by CPU\n"
		    "# TYPE cagewatch_kernel_execs_lost_per_cpu_total counter\n");
		json_array_foreach(per, i, v)
		{
			fprintf(out,
			        "cagewatch_kernel_execs_lost_per_cpu_total{cpu=\"%zu\"} %lld\n", i,
			        (long long)json_integer_value(v));
		}
	}
}

/* The human-readable form of the stats file. */
/* A collector's stats file (`cagewatch collect --stats-file`). */
static void print_collector(json_t *o)
{
	json_t *c = json_object_get(o, "collector");

#define I(key) ((long long)json_integer_value(json_object_get(c, key)))
	printf("collector pid %lld  store %s (%s)  NATS %s  durable %s\n",
	       (long long)json_integer_value(json_object_get(o, "pid")),
	       json_string_value(json_object_get(c, "store")),
	       json_is_true(json_object_get(c, "store_up")) ? "up" : "DOWN",
	       json_is_true(json_object_get(c, "nats_up")) ? "up" : "DOWN",
	       json_string_value(json_object_get(c, "durable")));
	printf("collector: received %lld  stored %lld in %lld batches  rejected %lld  redelivered "
	       "%lld  store errors %lld  NATS errors %lld  ack errors %lld  pending %lld\n",
	       I("received"), I("stored"), I("batches"), I("rejected"), I("redelivered"),
	       I("store_errors"), I("nats_errors"), I("ack_errors"), I("pending"));
#undef I
}

static void print_text(json_t *o)
{
	json_t *k, *ag, *c, *t, *bl, *gd, *pv, *hd;

	if (json_object_get(o, "collector")) {
		print_collector(o);
		return;
	}
	k = json_object_get(o, "kernel");
	ag = json_object_get(o, "agent");
	c = json_object_get(o, "cache");
	t = json_object_get(o, "techniques");
	bl = json_object_get(o, "block");
	gd = json_object_get(o, "guard");
	pv = json_object_get(gd, "previous");
#define I(obj, key) ((long long)json_integer_value(json_object_get(obj, key)))
	printf("agent pid %lld\n", I(o, "pid"));
	printf(
	    "kernel:  seen %lld  filtered (host) %lld  skipped (known clean) %lld  delivered %lld  "
	    "lost %lld\n",
	    I(k, "seen"), I(k, "filtered"), I(k, "known_clean"), I(k, "delivered"), I(k, "lost"));
	printf("agent:   processed %lld  known-clean fast path %lld  marked clean in kernel %lld  "
	       "jobs %lld  dropped %lld  "
	       "findings %lld  store errors %lld\n",
	       I(ag, "processed"), I(ag, "fast_path"), I(ag, "marked_clean"), I(ag, "jobs"),
	       I(ag, "jobs_dropped"), I(ag, "findings"), I(ag, "store_errors"));
	printf("cache:   hits %lld  misses %lld  entries %lld  bytes scanned %lld\n", I(c, "hits"),
	       I(c, "misses"), I(c, "entries"), I(c, "bytes_scanned"));
	if (t)
		printf("techniques: syscalls seen %lld  delivered %lld  repeats folded %lld  "
		       "lost %lld  hits %lld  helper execs %lld\n",
		       I(t, "syscalls_seen"), I(t, "delivered"), I(t, "folded"), I(t, "lost"),
		       I(t, "hits"), I(t, "helper_execs"));
	if (bl)
		printf(
		    "block:   refused %lld  allowed %lld  undecided %lld  namespaces %lld  mount "
		    "marks %lld (errors %lld)  clean files no longer asked about %lld\n",
		    I(bl, "denied"), I(bl, "allowed"), I(bl, "undecided"), I(bl, "namespaces"),
		    I(bl, "marks"), I(bl, "mark_errors"), I(bl, "clean_marks"));
	if (bl)
		printf("block:   allowed by the guardian: no verdict in time %lld  while the agent "
		       "stalled %lld  unbounded %lld\n",
		       I(bl, "late"), I(bl, "stalled"), I(bl, "unbounded"));
	if ((hd = json_object_get(o, "hold")))
		printf(
		    "hold:    held %lld  let go %lld  killed %lld  expired (no verdict in %lld ms) "
		    "%lld  let go after the agent died %lld  gone %lld  could not hold %lld\n",
		    I(hd, "held"), I(hd, "released"), I(hd, "killed"), I(hd, "limit_ms"),
		    I(hd, "expired"), I(hd, "orphaned"), I(hd, "gone"), I(hd, "hold_failed"));
	if (gd)
		printf(
		    "guard:   %s  attempts from containers %lld (+%lld repeats folded)  from the "
		    "host %lld (+%lld folded)  shed %lld  lost %lld\n",
		    json_is_true(json_object_get(gd, "pinned")) ? "pinned" : "not pinned",
		    I(gd, "attempts"), I(gd, "attempts_folded"), I(gd, "host_attempts"),
		    I(gd, "host_attempts_folded"), I(gd, "shed"), I(gd, "lost"));
	if (pv)
		printf("gap:     agent pid %lld stopped %s; no agent for %.1f s; %lld processes "
		       "started meanwhile; its attempt records lost %lld, shed %lld\n",
		       I(pv, "pid"),
		       json_is_true(json_object_get(pv, "clean")) ? "on its own"
		                                                  : "without shutting down",
		       json_real_value(json_object_get(pv, "down_seconds")),
		       I(pv, "processes_started"), I(pv, "lost"), I(pv, "shed"));
#undef I
}

/* `cagewatch stats [--stats-file PATH] [--format text|json|prometheus]`: the
 * running agent's counters (--json is --format json). */
int cw_cmd_stats(int argc, char **argv)
{
	const char *path = CW_STATS_DEFAULT_PATH, *format = "text";
	json_error_t jerr;
	bool stale;
	json_t *o;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			format = "json";
		else if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strcmp(argv[i], "--stats-file") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs("usage: cagewatch stats [--stats-file PATH] [--format "
			      "text|json|prometheus] "
			      "[--json]\n"
			      "  the running agent's counters (it rewrites them every 0.5 s); "
			      "exits 1 when\n"
			      "  they are stale (the agent is stopped or stuck)\n"
			      "  --stats-file PATH  where the agent writes them "
			      "(default " CW_STATS_DEFAULT_PATH ")\n"
			      "  --format FORMAT    text (default), json, or prometheus (text "
			      "exposition)\n"
			      "  --json             the same as --format json\n",
			      stdout);
			return CW_EXIT_OK;
		} else {
			return cw_usage_hint(
			    "stats", "unknown option, or one missing its value: '%s'", argv[i]);
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "prometheus"))
		return cw_usage_hint(
		    "stats", "unknown --format \"%s\": use text, json or prometheus", format);
	o = json_load_file(path, 0, &jerr);
	if (!o) {
		cw_err(
		    "no agent statistics at %s (%s): is `cagewatch run` running? (it writes them "
		    "every half second; --stats-file names another place)",
		    path, jerr.text);
		return CW_EXIT_ERROR;
	}
	stale = cw_stats_age_ms(o, cw_now_ns() / 1000000) > CW_STATS_FRESH_MS;
	if (stale)
		cw_warn(
		    "the counters in %s are %.1f s old: the agent that wrote them (pid %lld) is "
		    "stopped or stuck (it rewrites them every 0.5 s)",
		    path, (double)cw_stats_age_ms(o, cw_now_ns() / 1000000) / 1000.0,
		    (long long)json_integer_value(json_object_get(o, "pid")));
	if (!strcmp(format, "json")) {
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (!strcmp(format, "prometheus")) {
		cw_stats_prometheus(stdout, o);
	} else {
		print_text(o);
	}
	json_decref(o);
	return stale ? CW_EXIT_RESULT : CW_EXIT_OK;
}

int64_t cw_stats_age_ms(json_t *o, int64_t now_ms)
{
	json_t *t = json_object_get(o, "time_ms");

	return json_is_integer(t) ? now_ms - (int64_t)json_integer_value(t) : INT64_MAX;
}
