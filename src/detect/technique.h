/* technique.h - escape-technique detection: a second BPF sensor (syscall
 * tracepoints) that sees the steps of container escapes rather than the tools
 * (write-open of cgroup release_agent, core_pattern and other kernel hooks,
 * cgroup v1 / procfs / block-device mounts, block mknod, setns into host
 * namespaces, kernel module loads, runtime socket connects, ptrace and
 * process_vm_writev of processes outside the container, the runc CVE-2024-21626
 * and CVE-2019-5736 footprints) and host-side kernel usermode-helper execs.
 *
 * Rules, finding categories and the runtime's own process names are data
 * (rules/techniques.json, embedded); known-benign exceptions are a separate
 * JSON document matched by container image or name.
 *
 * The module produces hits; the agent attributes the container, applies
 * exceptions (cw_technique_excepted) and builds, stores and prints findings.
 */
#ifndef CW_TECHNIQUE_H
#define CW_TECHNIQUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "catalogue.h"
#include "exec.h"
#include "technique_event.h"
#include "util.h"

/* Parsed rules + categories + exceptions. */
struct cw_technique_rules;

/* Parse rules JSON; origin names it in messages. -EINVAL (logged) when bad. */
int cw_technique_rules_load(struct cw_technique_rules **out, const char *text, size_t len,
                            const char *origin);
/* The rules embedded in the binary (rules/techniques.json). */
int cw_technique_rules_load_default(struct cw_technique_rules **out);
void cw_technique_rules_free(struct cw_technique_rules *r);
size_t cw_technique_rule_count(const struct cw_technique_rules *r);
const struct cw_category *cw_technique_category(const struct cw_technique_rules *r, const char *id);

/* Known-benign exceptions: {"exceptions": [{"rules": [...], "images": [...],
 * "names": [...], "comment": "..."}]}. Every entry names at least one rule (id or
 * glob matching a known rule; "*" alone is refused) and at least one image or
 * container-name glob that is not "*": there is no global off switch. Entries
 * add to those already loaded. -EINVAL (logged, nothing added) when bad. */
int cw_technique_exceptions_load(struct cw_technique_rules *r, const char *text, size_t len,
                                 const char *origin);
/* The exec-time rules (kind exec_from): an exec whose file path, as the
 * container sees it, starts with one of a rule's prefixes ("/memfd:",
 * "/dev/shm/"). Fills *det (its extra is the caller's; NULL: only the answer)
 * and returns 1, else 0. */
int cw_technique_exec_from(const struct cw_technique_rules *r, const char *path,
                           struct cw_detection *det);
/* What an exec-time rule of kind exec_stdio looks at. */
#define CW_STDIO_STDIN  1u /* stdin is a connected network socket */
#define CW_STDIO_STDOUT 2u /* stdout is one */
struct cw_exec_facts {
	const char *name;   /* the program's name (comm after the exec) */
	const char *parent; /* the parent's comm, NULL if unknown */
	unsigned stdio;     /* CW_STDIO_* */
	const char *peer;   /* "addr:port" of the socket, for the detail; may be NULL */
};
/* The exec-time rules of kind exec_stdio, first match in rule order: a
 * program (names, if given) whose stdin or stdout (stdio) is a connected
 * network socket, or started by one of parents. Fills *det (det->extra is an
 * empty object, the caller's; NULL: only the answer) and returns 1, else 0. */
int cw_technique_exec_stdio(const struct cw_technique_rules *r, const struct cw_exec_facts *f,
                            struct cw_detection *det);
/* The exec-time rules of kind exec_argv, first match in rule order: a
 * program (names, if given; any otherwise) with an argument (argv[1..argc))
 * matching one of a rule's argv globs (a base64 payload). The kernel sends
 * execs of named programs and those with a long argument area (CW_ARGV_LONG).
 * Fills *det (NULL: only the answer) and returns 1, else 0. */
int cw_technique_exec_argv(const struct cw_technique_rules *r, const struct cw_exec_facts *f,
                           char *const *argv, int argc, struct cw_detection *det);
/* The exec-time rules of kind exec_env, first match in rule order: a
 * program (names, if given; any otherwise) whose environment (ex->envp, what
 * the kernel sent: env.bpf.h) has a NAME=value string matching one of the
 * rule's env globs and none of its env_allowed ones, or (empty_argv) started
 * with no arguments. Fills *det (NULL: only the answer; its extra lists the
 * matching variables, credentials in URLs redacted) and returns 1, else 0. */
int cw_technique_exec_env(const struct cw_technique_rules *r, const struct cw_exec_facts *f,
                          const struct cw_exec *ex, struct cw_detection *det);
/* What the kernel must send for the exec_env rules: the program names they
 * look at (up to max into names; returns how many there are) and whether one
 * looks at any program (any_program: the in-kernel proxy scan). */
size_t cw_technique_env_names(const struct cw_technique_rules *r, const char **names, size_t max,
                              bool *any_program);
/* A variable for a finding: a URL's user and password become "***"
 * (between the scheme and the @); out gets var unchanged otherwise. */
void cw_env_redact(const char *var, char *out, size_t cap);
/* Where an executed file came from (kind exec_provenance), a bit set: the
 * image (present and unchanged when the container started), added or
 * modified since. Both of the last two: changed, which one unknown. 0: not
 * known (a memfd, a root the agent cannot tell about). */
#define CW_PROV_IMAGE    1u
#define CW_PROV_ADDED    2u
#define CW_PROV_MODIFIED 4u
/* "image", "added", "modified", "added or modified", "unknown". */
const char *cw_provenance_name(unsigned prov);
/* The exec-time rules of kind exec_provenance, first match in rule order: a
 * file of one of a rule's provenances, whose content the content layers
 * matched (malicious) or did not, as the rule says. Fills *det (NULL: only
 * the answer; det->extra is an object the caller may add to) and returns 1,
 * else 0. basis says how the provenance was known, for the detail. */
int cw_technique_exec_provenance(const struct cw_technique_rules *r, unsigned prov, bool malicious,
                                 const char *basis, struct cw_detection *det);
/* The same for a file mapped as code (kind library_provenance: Added
 * Library Loaded, Added/Modified Malicious Library Loaded). */
int cw_technique_library(const struct cw_technique_rules *r, unsigned prov, bool malicious,
                         const char *basis, struct cw_detection *det);
/* The provenance (CW_PROV_*) of a mapped file from its record's CW_TQF_OVL,
 * UPPER, LOWER and CHANGED bits, and how it was known (static text). */
unsigned cw_technique_lib_prov(uint32_t tq_flags, const char **basis);
/* Does any rule look at provenance? The agent then sends the first exec of
 * each added or modified file to the worker even when its content is known
 * clean. */
bool cw_technique_has_provenance(const struct cw_technique_rules *r);
/* Does an exec-time rule look at programs of this name whatever their
 * descriptors (a shell under a server)? Their execs must reach user space. */
bool cw_technique_name_relevant(const struct cw_technique_rules *r, const char *name);
/* Turn on the rules marked "default_off" whose ids match one of the
 * ','-separated globs of list. -EINVAL (logged) when a glob matches no rule. */
int cw_technique_enable(struct cw_technique_rules *r, const char *list);
/* Is this rule excepted for a container of this name/image (either may be NULL
 * or "")? Returns the matching entry's comment (or "") if so, NULL if not. */
const char *cw_technique_excepted(const struct cw_technique_rules *r, const char *rule_id,
                                  const char *ctr_name, const char *ctr_image);

/* What a hit is about. */
struct cw_technique_hit {
	const struct cw_tq_event *ev; /* raw record (NULL for usermode-helper hits) */
	int64_t time_ns;              /* Unix-epoch ns */
	uint32_t pid, tgid, ppid, uid;
	uint32_t ns[CW_NS_COUNT]; /* caller's namespaces (time: 0, not recorded) */
	uint64_t cgroup_id;
	char comm[17];
	char exe[4200];                /* /proc/PID/exe if still readable, else its name */
	char cgroup[CW_TQ_CGROUP + 2]; /* "/a/b/c" */
	char args[CW_TQ_ARGS + 1];     /* argv, NUL-separated, args_len bytes */
	size_t args_len;
	const char *syscall;     /* "openat", "mount", ... (static) */
	bool returned;           /* result known */
	long ret;                /* >= 0 or -errno */
	bool failed;             /* the attempt failed (it is still a finding) */
	bool host_side;          /* usermode-helper exec on the host */
	bool runtime;            /* caller looks like the container runtime's init */
	struct cw_detection det; /* rule_id, matched_on "technique", detail, cat; det.extra
	                          * (sourceProperties evidence) is owned by the hit */
	/* Evidence (empty string / 0 when not applicable). */
	char file[CW_TQ_STR + 1]; /* path as given to the syscall */
	char fs_type[32];         /* "cgroup", "proc", ... or "unknown" */
	char mount_source[CW_TQ_STR + 1];
	char mount_target[CW_TQ_STR + 1];
	char mount_fstype[CW_TQ_FSTYPE + 1];
	char mount_options[CW_TQ_DATA + 1];
	int target_pid;             /* host pid of a ptrace/vm_writev/pidfd target */
	char target_ns[48];         /* "mnt:[4026531841]" */
	char socket[CW_TQ_STR + 2]; /* socket path, "@name" for abstract ones, "ip:port" */
	char module[CW_TQ_NAME + 1];
	char signal[24];             /* "SIGKILL" for a signal sent to the agent */
	char payload[CW_TQ_STR + 1]; /* the first bytes of a first send (first_send rules) */
	unsigned prov;               /* a mapped library's CW_PROV_* (library_provenance) */
};

void cw_technique_hit_clear(struct cw_technique_hit *hit);

/* Where rule evaluation looks things up (tests point it at fakes). */
struct cw_technique_env {
	uint32_t host_ns[CW_NS_COUNT]; /* inodes of host PID 1's namespaces (0: unknown) */
	const char *proc_root;         /* default "/proc" */
	int64_t boot_offset_ns;        /* added to kernel boot-time stamps */
	bool own_ns_as_host;           /* PID 1 unreadable: this process's namespaces stand in */
	uint32_t agent_tgid;           /* the agent (0: none): the guard reports attempts on it */
};

/* Fill host_ns from <proc_root>/1/ns/, or from <proc_root>/self/ns/ when PID 1's
 * are unreadable (a sandbox; own_ns_as_host is then set and the caller says so).
 * Returns 0 or -errno. */
int cw_technique_env_init(struct cw_technique_env *env, const char *proc_root);

/* Evaluate one record. Returns 1 and fills *hit (call cw_technique_hit_clear
 * afterwards), 0 when no rule matched, -EINVAL for a malformed record. Looks at
 * /proc (env->proc_root) for what the record lacks: the filesystem of a path
 * whose open failed, a block device's type, a ptrace target's namespaces. */
int cw_technique_eval(const struct cw_technique_rules *r, const struct cw_technique_env *env,
                      const void *data, size_t len, struct cw_technique_hit *hit);

/* Evidence as a jansson object for sourceProperties (det.extra is a copy of
 * the same thing). Returns 0 and a new reference in *out, or -ENOMEM. */
int cw_technique_finding_extra(const struct cw_technique_hit *hit, json_t **out);

/* A struct cw_exec (and its cw_event header) describing the hit's process, so
 * container attribution (cw_attrib_resolve) and the finding builder
 * (cw_finding_build) take a hit like an exec. ex->ev points to *ev. */
void cw_technique_hit_exec(const struct cw_technique_hit *hit, struct cw_event *ev,
                           struct cw_exec *ex);

/* How the sensor hooks syscalls. */
enum cw_technique_attach {
	/* Per-syscall tracepoints, mounting tracefs at /sys/kernel/tracing if
	 * needed; the raw tracepoints (with a warning) when that is impossible. */
	CW_TQ_ATTACH_AUTO = 0,
	/* tp/syscalls/sys_enter_X + sys_exit_X of the watched syscalls only: BPF
	 * code runs for those alone. Needs tracefs; fails without it. */
	CW_TQ_ATTACH_SYSCALL_TP,
	/* tp_btf/sys_enter + sys_exit: no tracefs needed, but a BPF program runs
	 * on every syscall of every process. */
	CW_TQ_ATTACH_RAW,
};

/* The sensor. */
/* A piped script (technique_event.h, struct cw_tq_stdin): the interpreter and
 * the first bytes it read from its stdin. */
struct cw_technique_stdin {
	const struct cw_technique_hit *hit; /* caller fields; exe resolved */
	const char *data;                   /* not NUL-terminated */
	size_t len;
	uint32_t flags;      /* CW_TQI_* */
	uint32_t stdin_mode; /* S_IFIFO, S_IFREG or S_IFSOCK */
};

struct cw_technique_opts {
	size_t sz;           /* sizeof(struct cw_technique_opts) */
	uint32_t host_pidns; /* 0: read from <proc_root>/1/ns */
	uint32_t host_mntns;
	bool include_host;                      /* also watch host tasks (tests only) */
	bool no_stdin;                          /* no stdin capture (no read() hook) */
	const struct cw_technique_rules *rules; /* NULL: embedded rules (owned by the sensor) */
	const char *proc_root;                  /* default "/proc" */
	size_t ringbuf_bytes;                   /* 0: 1 MiB; power of two */
	uint64_t wakeup_bytes;                  /* 0: 64 KiB */
	int (*on_detection)(void *ctx, const struct cw_technique_hit *hit);
	/* What an interpreter without a script operand read from stdin (NULL: the
	 * records are dropped). hit holds the caller only (no det). */
	int (*on_stdin)(void *ctx, const struct cw_technique_stdin *in);
	void *ctx;
	enum cw_technique_attach attach; /* default CW_TQ_ATTACH_AUTO */
};

struct cw_technique;

/* Load and attach (per-syscall tracepoints or, as a fallback, tp_btf/sys_enter
 * and sys_exit; see opts->attach) and tp_btf/sched_process_exec. Returns 0
 * or a negative errno after logging what is missing and what to do. */
int cw_technique_open(struct cw_technique **out, const struct cw_technique_opts *opts);
/* Deliver pending records (each hit to on_detection); waits up to timeout_ms.
 * Returns records handled or -errno. A non-zero return of on_detection stops
 * the batch and is returned. */
int cw_technique_poll(struct cw_technique *t, int timeout_ms);
/* Evaluate one record from another source (the guard's attempts on the agent)
 * as if the sensor had sent it: same rules, counters and callbacks. */
int cw_technique_feed(struct cw_technique *t, const void *data, size_t len);
int cw_technique_fd(const struct cw_technique *t);
/* Stdin captures of interpreters that exited before their input ended: hand
 * them to on_stdin (call every ~100 ms). Returns how many, or -errno. */
int cw_technique_stdin_sweep(struct cw_technique *t);
/* Counters summed over CPUs (enum cw_tq_counter) plus records user space
 * decoded, matched and dropped as malformed. */
struct cw_technique_stats {
	uint64_t kernel[CW_TQC_MAX];
	uint64_t records, hits, malformed;
};
int cw_technique_stats(const struct cw_technique *t, struct cw_technique_stats *out);
void cw_technique_close(struct cw_technique *t);
/* Evaluate with r from now on (a reload; same thread as poll/feed). r must
 * watch the same syscalls: the attached tracepoints stay as they are. */
void cw_technique_set_rules(struct cw_technique *t, const struct cw_technique_rules *r);
/* How an open sensor is attached (CW_TQ_ATTACH_SYSCALL_TP or _RAW). */
enum cw_technique_attach cw_technique_attach_mode(const struct cw_technique *t);
/* "syscall-tracepoints", "raw-tracepoints" or "auto". */
const char *cw_technique_attach_name(enum cw_technique_attach a);
/* Is this syscall ("openat", "init_module", ...) watched by the open sensor?
 * With per-syscall tracepoints, syscalls this kernel has no tracepoint for
 * (not built in, e.g. init_module without module support) are not. */
bool cw_technique_watches(const struct cw_technique *t, const char *syscall);

/* Embedded data (rules/techniques.json), NUL-terminated. */
extern const char cw_embedded_techniques[];
extern const unsigned int cw_embedded_techniques_len;

#endif
