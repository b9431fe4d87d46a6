/* agent_int.h - the agent's parts and what they share (internal to
 * `cagewatch run`).
 *
 * The pipeline, one file per stage:
 *   sources.c   event thread (and the --block thread): each source builds a
 *               report of its own kind (an exec, a technique hit, a refused
 *               exec, a piped script) and queues it;
 *   report.c    the queue and the worker: attribution, then the report kind's
 *               judge, then the finding, then every sink (sink.h);
 *   judge.c     the judge of exec reports (content layers over the files);
 *   agent_stats.c  the stats file, `cagewatch stats` and its Prometheus form;
 *   rules.c     the rules as one reference-counted set, and reload (SIGHUP);
 *   service.c   systemd's notify protocol: ready, watchdog, reload, stop;
 *   agent.c     options, set-up, the event loop and tear-down.
 */
#ifndef CW_AGENT_INT_H
#define CW_AGENT_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/sysmacros.h>

#include "capture.h"
#include "catalogue.h"
#include "config.h"
#include "container.h"
#include "content.h"
#include "enforce.h"
#include "hold.h"
#include "exec.h"
#include "finding.h"
#include "guard.h"
#include "sensor.h"
#include "sink.h"
#include "store.h"
#include "technique.h"

#define DEDUP_WINDOW_MS (60 * 1000)
#define HASH_CAP        (64ll << 20)
#define REPORTS_MAX     256 /* queued reports; ~24 KiB each: past this the event thread waits */
#define ENQUEUE_WAIT_S  2   /* longest wait for queue space before a report is dropped */
#define RT_READ_MAX     (2 << 20) /* bytes hashed and scanned at real-time priority */

/* What a report is about; each kind has its judge (report.c). */
enum cw_report_kind {
	CW_REPORT_EXEC = 0,  /* an exec to judge by name, content and script */
	CW_REPORT_TECHNIQUE, /* a technique rule matched: det holds it */
	CW_REPORT_BLOCKED,   /* --block refused an exec: det holds the verdict */
	CW_REPORT_KINDS
};

struct agent;

/* Where the rules come from: what `cagewatch run` was given. Read again on
 * every reload. */
struct cw_rules_src {
	const char *config, *catfile, *rules_dir, *exceptions, *store, *node_name;
	const char *enable_rules; /* --enable-rules: ids/globs of rules off by default */
	bool no_args, no_techniques;
};

/* One generation of everything the agent judges with (rules.c). Immutable
 * once current, except the content verdict cache (locked inside content). */
struct cw_rules {
	int refs; /* under agent.rules_lock */
	unsigned gen;
	struct agent *a;
	struct cw_config cfg; /* naming for findings; store_path is the startup one's */
	struct cw_catalogue *cat;
	struct cw_content *content;
	struct cw_technique_rules *tq; /* NULL with --no-techniques */
	char *cattext;                 /* --catalogue's text, kept for content rules */
	bool context_rules;            /* some content rule reads name/argv */
};

/* One report handed from a source to the worker. The exec fields describe the
 * process for every kind; the files and content fields are the exec kind's. */
struct cw_report {
	struct cw_report *next;
	enum cw_report_kind kind;
	struct cw_rules *rules; /* the set it was made under: a reference */
	bool host_side;         /* about a host usermode-helper exec */
	struct cw_event ev;     /* header used; data[] already decoded into ex */
	struct cw_exec ex;
	struct cw_detection det; /* technique/blocked: the detection; exec: name match */
	struct cw_file_info bin;
	/* exec reports */
	struct cw_file_key key;
	int bin_fd;        /* < 0: verdict cached (bin/content_det valid) or unopenable */
	int script_fd;     /* < 0: no script, or unopenable */
	int root_fd;       /* O_PATH of the process's root (< 0 if not needed/gone) */
	int cwd_fd;        /* O_PATH of its working directory, for relative operands */
	bool captured;     /* bin_fd came from the exec-time capture */
	char *inline_text; /* program text not in a file (stdin, `-c`), owned */
	size_t inline_len;
	const char *inline_label;  /* its script.path: "/dev/stdin" or "(argv -c)" */
	const char *inline_source; /* sourceProperties.Script_Source */
	uint32_t stdin_flags;      /* CW_TQI_* of a stdin capture */
	int script_kind;           /* cw_catalogue_operand(): 1 script, 2 loaded program */
	char script_path[CW_PATH_MAX + 2];
	bool name_hit, content_cached, content_hit;
	struct cw_detection content_det;
	struct cw_detection exec_det; /* an exec-time technique rule (fileless exec) */
	unsigned prov;                /* CW_PROV_* of the executable, 0 unknown */
	const char *prov_basis;       /* how prov was known (static text) */
	bool prov_first;              /* the first exec of this file version to be reported */
	bool bin_hit;                 /* the content layers matched the executable itself */
	struct cw_detection prov_det; /* an exec_provenance rule's detection */
	struct cw_detection env_det;  /* an exec_env rule's detection */
	bool library;                 /* a technique report of a library mapped as code:
	                               * script_path names it, bin_fd holds it (library.c) */
	uint64_t lib_ino;             /* ... the inode the kernel mapped */
};

/* What a judge leaves for the finding besides the detection. */
struct cw_judged {
	struct cw_finding_input in;
	struct cw_file_info script;
	struct cw_detection script_det;
};

struct agent {
	struct cw_config cfg; /* as started: store path, stdout's envelope */
	struct cw_rules_src rules_src;
	pthread_mutex_t rules_lock; /* rules, refs, reload counters, content_retired */
	struct cw_rules *rules;     /* current set */
	struct cw_rules *ev_rules;  /* the event thread's reference */
	struct cw_rules *enf_rules; /* the --block thread's reference */
	uint64_t reloads, reload_failures;
	struct cw_content_stats content_retired; /* counters of freed sets */
	pthread_t reloader;
	bool reloader_up;
	int containers_at_start;     /* running containers found by the start-up scan */
	struct cw_attrib *attrib;    /* resolve on the worker, sync on the event thread */
	struct cw_store *store;      /* behind the store sink */
	struct cw_sinks sinks;       /* worker thread only */
	struct cw_sink *stdout_sink; /* in sinks; made asynchronous once hardened */
	struct cw_sink *remote[2 * CW_CONFIG_SINKS_MAX]; /* in sinks; started once hardened */
	size_t n_remote;
	struct cw_sensor *sensor;
	struct cw_technique *tq;    /* NULL when technique detection is off */
	struct cw_enforce *enforce; /* --block; NULL otherwise */
	struct cw_hold *hold;       /* --block's hold of what fanotify cannot judge */
	struct cw_capture *cap;     /* exec-time file capture; NULL if unavailable */
	struct cw_guard *guard;     /* self-protection; NULL with --no-guard */
	pthread_t enforcer;
	bool host_too; /* also report execs outside containers */
	uint32_t host_pidns, host_mntns;
	int64_t boot_offset_ns;
	const char *stats_path;

	pthread_t worker;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t space; /* signalled when the worker takes a report */
	struct cw_report *head, *tail;
	unsigned queued;
	bool stopping;

	/* event thread */
	uint64_t execs, decode_errors, jobs, jobs_dropped, fast_path, marked_clean;
	uint64_t backpressure;  /* times the event thread waited for queue space */
	uint64_t stdin_scripts; /* interpreters' stdin captures judged */
	/* content scans of executables never judged (worker, under lock) */
	uint64_t scans_queued, scans_done, unreadable[4];
	bool kernel_filter; /* known-clean executables dropped in the kernel */
	bool no_capture;    /* --no-capture: files are opened after the exec only */
	bool realtime;      /* event thread and worker at SCHED_FIFO 1 */
	/* worker thread (read under lock for stats) */
	uint64_t findings, not_in_container, excepted, technique_hits;
	uint64_t last_lost;
};

/* Why an executable could not be read (counted in scans.unreadable_by_reason). */
enum unreadable_reason { UNREAD_GONE, UNREAD_MEMFD, UNREAD_NOT_REGULAR, UNREAD_OTHER };
extern const char *const cw_unreadable_names[4];

extern volatile sig_atomic_t cw_agent_stop;

/* Kernel dev_t (major << 20 | minor) to user space's encoding. */
static inline uint64_t cw_kdev_to_udev(uint32_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

/* report.c */
/* A zeroed report of this kind with every fd -1, holding a reference to
 * rules (the set its source judged with), or NULL (logged). */
struct cw_report *cw_report_new(enum cw_report_kind kind, struct cw_rules *rules);
void cw_report_free(struct cw_report *r);
/* Hand a report to the worker (waits for room up to ENQUEUE_WAIT_S, then
 * drops it, counted and warned about). */
void cw_report_queue(struct agent *a, struct cw_report *r);
void *cw_report_worker(void *agent);
/* SCHED_FIFO 1 on (or back to SCHED_OTHER) for the calling thread; warns once
 * if not allowed and stops trying. */
void cw_agent_set_realtime(bool on);

/* judge.c: the exec report's judge. Returns the detection or NULL. */
const struct cw_detection *cw_judge_exec(struct agent *a, struct cw_report *r,
                                         const struct cw_container *ctr, struct cw_judged *jd);

/* run_usage.c: `cagewatch run --help` on f. */
void cw_run_usage(FILE *f);

/* judge.c: the finding's binary (path, size) from the exec. */
void cw_judge_binary(struct cw_report *r, struct cw_judged *jd);

/* provenance.c (event thread, then worker). The provenance the record alone
 * gives (CW_PROV_*; both ADDED and MODIFIED: changed, which not yet known; 0
 * unknown); *basis says how (static text). */
unsigned cw_provenance_hint(const struct agent *a, const struct cw_event *ev, const char **basis);
/* Should this exec be sent to the worker for its provenance alone: changed,
 * a rule looks at it, and the first exec of the file version (marked). */
bool cw_provenance_new(struct agent *a, const struct cw_event *ev, unsigned hint);
/* Record the provenance in r, refined by the file's birth time where the
 * record alone cannot tell added from modified. Before the process goes. */
void cw_provenance_take(struct agent *a, struct cw_report *r, unsigned hint, const char *basis,
                        bool first);
/* Worker: the exec_provenance rules' detection for r's first exec of a
 * changed file (once per file version), or NULL. */
const struct cw_detection *cw_judge_provenance(struct cw_report *r, const struct cw_container *ctr,
                                               struct cw_judged *jd);

/* sources.c: callbacks of the sensors, the enforcer and the guard. */
int cw_source_exec(void *agent, const void *data, size_t len);
int cw_source_technique(void *agent, const struct cw_technique_hit *hit);
int cw_source_stdin(void *agent, const struct cw_technique_stdin *in);
void cw_source_blocked(void *agent, struct cw_enforce_block *b);
int cw_source_guard(void *agent, const void *data, size_t len);

/* held.c: --block's holds (execs stopped before their first instruction) */
/* Start the hold's user side (guardian included). 0 or -errno (logged). */
int cw_held_open(struct agent *a, int limit_ms);
/* Event thread, a held exec: mark the mounts it was held for. Returns whether
 * the worker must see it even with nothing else to judge (stdin). */
bool cw_held_event(struct agent *a, const struct cw_event *ev);
/* Let a held exec go (nothing to judge). */
void cw_held_let_go(struct agent *a, const struct cw_event *ev);
/* Worker, before the judge: what a held interpreter is about to read. */
void cw_held_prepare(struct cw_report *r);
/* Worker, after the judge: kill on content or hash evidence (det gets
 * Blocked and Block_Method), else let go. Clears r->ev.hold. */
void cw_held_decide(struct agent *a, struct cw_report *r, struct cw_detection *det);

/* rules.c */
/* Build a whole set from src (logged errors name file and line); *out holds
 * one reference. 0 or -errno, *out NULL. */
int cw_rules_load(struct agent *a, const struct cw_rules_src *src, struct cw_rules **out);
/* A reference to the current set (NULL before start). */
struct cw_rules *cw_rules_get(struct agent *a);
struct cw_rules *cw_rules_ref(struct cw_rules *r); /* one more reference to r */
void cw_rules_put(struct cw_rules *r);             /* NULL is fine */
/* Swap *held for the current set if it changed; true when it did (the caller
 * then empties the caches it keeps outside the set). */
bool cw_rules_refresh(struct agent *a, struct cw_rules **held);
/* Load a new set from a->rules_src and make it current, or keep the running
 * one (logged, counted in reload_failures). 0 or -errno. */
int cw_agent_reload(struct agent *a);
/* Thread: SIGHUP (blocked in every thread) becomes cw_agent_reload(). */
void *cw_reloader_main(void *agent);

/* service.c: no-ops without a service manager's NOTIFY_SOCKET */
void cw_service_ready(struct agent *a, int containers); /* READY=1, starts the watchdog */
void cw_service_tick(struct agent *a);                  /* event loop: WATCHDOG=1 when due */
void cw_service_state(const char *state);               /* "RELOADING=1", "STOPPING=1", ... */

/* agent_stats.c */
void cw_agent_write_stats(struct agent *a);

/* stdio.c: what the exec-time rules (technique.h) look at in one exec
 * record, with the storage the facts point into; and the socket's ends as
 * sourceProperties. */
struct cw_exec_view {
	struct cw_exec_facts f;
	char name[CW_COMM_LEN + 1], parent[CW_COMM_LEN + 1];
	char peer[64]; /* "addr:port" or "[addr]:port" of the socket */
};
void cw_exec_view_of(const struct cw_event *ev, struct cw_exec_view *v);
void cw_stdio_props(const struct cw_event *ev, json_t *extra);
/* library.c: a file mapped as code that is not part of the image. */
bool cw_library_hit(const struct cw_technique_hit *hit);
/* Event thread: what the worker needs of a library hit (opens the file). */
void cw_library_take(struct cw_report *r, const struct cw_technique_hit *hit);
/* Worker: the content layers over it; the library_provenance detection
 * (r->exec_det), NULL if none. */
const struct cw_detection *cw_judge_library(struct agent *a, struct cw_report *r,
                                            const struct cw_container *ctr, struct cw_judged *jd);
/* The exec_env rules over an exec report's environment: a finding of its own
 * beside whatever else the exec is (r->env_det), NULL if none. */
const struct cw_detection *cw_judge_env(struct cw_report *r, const struct cw_container *ctr);

#endif
