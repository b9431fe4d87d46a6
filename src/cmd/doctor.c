/* doctor.c - `cagewatch doctor [--format text|json]`: whether this node can
 * run the agent, one line per prerequisite, each with what it enables and
 * what to do when it is missing. The checks are real: the exec sensor is
 * loaded and attached (then closed), one program of each BPF type is loaded
 * and attached (probe.bpf.c), the exec-time capture's fanotify group is
 * opened and a permission mark placed, the syscall tracepoints are looked up.
 * Exit 0 when the agent can run fully, 3 when it runs degraded (an optional
 * feature is missing), 1 when it cannot run, 2 for bad usage. The agent logs
 * the same summary at start (cw_doctor_log_summary). A table of checks:
 * adding one is a row. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "bpfload.h"
#include "doctor.h"
#include "probe.skel.h"
#include "capture.h"
#include "container.h"
#include "sensor.h"
#include "store.h"
#include "util.h"

#define BPF_FS_MAGIC_ 0xcafe4a11
#define CGROUP2_MAGIC 0x63677270

static int on_ev(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

/* Each check fills detail; returns true when it holds. */
static bool ck_root(char *d, size_t n)
{
	snprintf(d, n, "euid %d", (int)geteuid());
	return geteuid() == 0;
}

/* The capabilities the agent uses (harden.c keeps the running set). */
static bool ck_caps(char *d, size_t n)
{
	static const struct {
		cap_value_t c;
		const char *name;
		bool need;
	} caps[] = {{CAP_BPF, "CAP_BPF", true},
	            {CAP_PERFMON, "CAP_PERFMON", true},
	            {CAP_SYS_ADMIN, "CAP_SYS_ADMIN", false},
	            {CAP_SYS_PTRACE, "CAP_SYS_PTRACE", true},
	            {CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH", true},
	            {CAP_SYS_NICE, "CAP_SYS_NICE", false}};
	cap_t now = cap_get_proc();
	size_t used = 0;
	bool ok = now != NULL;

	d[0] = '\0';
	for (size_t i = 0; now && i < sizeof(caps) / sizeof(caps[0]); i++) {
		cap_flag_value_t v = CAP_CLEAR;

		if (cap_get_flag(now, caps[i].c, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
			continue;
		ok &= !caps[i].need;
		cw_appendf(d, n, &used, "%s%s", used ? " " : "missing: ", caps[i].name);
	}
	cap_free(now);
	if (!used)
		snprintf(d, n,
		         "CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH "
		         "CAP_SYS_NICE effective");
	return ok;
}

static bool ck_btf(char *d, size_t n)
{
	bool ok = access("/sys/kernel/btf/vmlinux", R_OK) == 0;

	snprintf(d, n, "%s",
	         ok ? "/sys/kernel/btf/vmlinux"
	            : "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF)");
	return ok;
}

static bool ck_exec_sensor(char *d, size_t n)
{
	struct cw_sensor_opts so = {.sz = sizeof(so), .on_event = on_ev, .ringbuf_bytes = 1 << 20};
	struct cw_sensor *s = NULL;
	int err;

	so.host_pidns = cw_proc_ns("/proc", getpid(), "pid");
	so.host_mntns = cw_proc_ns("/proc", getpid(), "mnt");
	so.containers_only = true;
	err = cw_sensor_open(&s, &so);
	snprintf(d, n, "%s",
	         err ? strerror(-err) : "loaded and attached to sched_process_exec (tp_btf)");
	cw_sensor_close(s);
	return !err;
}

static bool ck_tracefs(char *d, size_t n)
{
	static const char *const events[] = {"sys_enter_mount", "sys_enter_kill",
	                                     "sys_enter_openat"};
	char dir[256];
	const char *why = "";
	int found = 0;

	if (cw_bpf_syscall_tracefs(dir, sizeof(dir), &why)) {
		snprintf(d, n, "%s", why);
		return false;
	}
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		found += cw_bpf_tp_id(dir, events[i]) >= 0;
	snprintf(d, n, "%s: %d of %zu syscall tracepoints probed", dir, found,
	         sizeof(events) / sizeof(events[0]));
	return found == (int)(sizeof(events) / sizeof(events[0]));
}

/* Load and attach probe.bpf.c's program `name` alone. 0 or -errno. */
static int probe_prog(const char *name)
{
	struct probe_bpf *skel = probe_bpf__open();
	struct bpf_program *p, *want = NULL;
	struct bpf_link *link;
	int err;

	if (!skel)
		return -errno;
	bpf_object__for_each_program(p, skel->obj)
	{
		bool me = !strcmp(bpf_program__name(p), name);

		bpf_program__set_autoload(p, me);
		want = me ? p : want;
	}
	err = want ? probe_bpf__load(skel) : -ENOENT;
	if (!err) {
		link = bpf_program__attach(want);
		err = link ? 0 : -errno;
		bpf_link__destroy(link);
	}
	probe_bpf__destroy(skel);
	return err;
}

/* Which program types load and attach: tp_btf or raw_tp is needed (the exec
 * sensor), the rest are reported for what a kernel allows. */
static bool ck_prog_types(char *d, size_t n)
{
	static const char *const progs[][2] = {{"pr_tp_btf", "tp_btf"}, {"pr_raw_tp", "raw_tp"},
	                                       {"pr_tp", "tp"},         {"pr_fentry", "fentry"},
	                                       {"pr_lsm", "lsm"},       {"pr_kprobe", "kprobe"}};
	size_t used = 0;
	bool base = false;

	cw_bpf_log_init();
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		int err = probe_prog(progs[i][0]);

		base |= !err && i < 2;
		cw_appendf(d, n, &used, "%s%s %s", used ? ", " : "", progs[i][1],
		           err ? strerror(-err) : "ok");
	}
	return base;
}

/* Permission events (--block): a FAN_OPEN_EXEC_PERM mark on a file of our
 * own, so no other exec can wait on this check. */
static bool ck_fanotify_perm(char *d, size_t n)
{
	static const char *const dirs[] = {"/tmp", "/run/cagewatch", "/var/lib/cagewatch", "/run"};
	char path[64] = "";
	int fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY);
	int tmp = -1, err = 0;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && tmp < 0; i++) {
		snprintf(path, sizeof(path), "%s/cagewatch-doctor.XXXXXX", dirs[i]);
		tmp = mkstemp(path);
	}

	if (fd < 0 || tmp < 0)
		err = -errno;
	else if (fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, AT_FDCWD, path))
		err = -errno;
	if (tmp >= 0) {
		close(tmp);
		unlink(path);
	}
	if (fd >= 0)
		close(fd);
	snprintf(d, n, "%s",
	         err ? strerror(-err)
	             : "exec permission events (FAN_OPEN_EXEC_PERM) can be marked");
	if (err == -EINVAL)
		snprintf(d, n, "the kernel lacks CONFIG_FANOTIFY_ACCESS_PERMISSIONS");
	return !err;
}

/* Findings carry wall-clock times: a clock far in the past makes them wrong. */
static bool ck_clock(char *d, size_t n)
{
	char t[40];
	int64_t now = cw_now_ns();
	bool ok = now > 1704067200LL * 1000000000LL; /* 2024-01-01 */

	snprintf(d, n, "%s%s", cw_rfc3339(now, t, sizeof(t)),
	         ok ? "" : ": before 2024, findings' times will be wrong (sync the clock: NTP)");
	return ok;
}

/* The agent resolves container paths through /proc/PID/root whatever its
 * own mount namespace; the host's own paths (runtime state, logs) are seen
 * as mounted into it. */
static bool ck_mount_ns(char *d, size_t n)
{
	uint32_t host = cw_proc_ns("/proc", 1, "mnt"), own = cw_proc_ns("/proc", getpid(), "mnt");

	snprintf(d, n, "%s",
	         !host         ? "/proc/1/ns/mnt unreadable: cannot tell"
	         : host == own ? "the host's mount namespace"
	                       : "a mount namespace of its own (a container): runtime state and "
	                         "logs are read where they are mounted in");
	return host && host == own;
}

static bool ck_fanotify(char *d, size_t n)
{
	struct cw_capture *c = NULL;
	int err = cw_capture_open(&c, NULL);

	snprintf(d, n, "%s", err ? strerror(-err) : "fanotify exec-time capture opens");
	cw_capture_close(c);
	return !err;
}

static bool ck_bpffs(char *d, size_t n)
{
	struct statfs st;
	bool ok = statfs("/sys/fs/bpf", &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC_;

	snprintf(d, n, "%s",
	         ok ? "/sys/fs/bpf is a bpf filesystem"
	            : "/sys/fs/bpf is not mounted as bpf (the agent mounts it)");
	return ok;
}

static bool ck_cgroup(char *d, size_t n)
{
	struct statfs st;
	bool v2 = statfs("/sys/fs/cgroup", &st) == 0 && (unsigned long)st.f_type == CGROUP2_MAGIC;
	bool hybrid = !v2 && statfs("/sys/fs/cgroup/unified", &st) == 0 &&
	              (unsigned long)st.f_type == CGROUP2_MAGIC;

	snprintf(d, n, "%s",
	         v2       ? "cgroup v2"
	         : hybrid ? "hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)"
	                  : "cgroup v1 only");
	return true;
}

static bool ck_host_ns(char *d, size_t n)
{
	bool ok = cw_proc_ns("/proc", 1, "pid") != 0;

	snprintf(d, n, "%s",
	         ok ? "/proc/1/ns readable"
	            : "/proc/1/ns unreadable: run in the host's pid namespace (hostPID)");
	return ok;
}

static bool ck_runtimes(char *d, size_t n)
{
	char roots[1024], *save = NULL, *r;
	size_t used = 0;

	snprintf(roots, sizeof(roots), "%s", cw_runtime_default_roots());
	d[0] = '\0';
	for (r = strtok_r(roots, ":", &save); r; r = strtok_r(NULL, ":", &save))
		if (access(r, R_OK | X_OK) == 0)
			cw_appendf(d, n, &used, "%s%s", used ? " " : "", r);
	if (!used)
		snprintf(d, n,
		         "no runtime state root yet (none started a container): --runtime-roots "
		         "adds more");
	return true;
}

static bool ck_store(char *d, size_t n)
{
	const char *p = CW_STORE_DEFAULT_PATH;
	char dir[512];
	bool ok;

	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	ok = access(dir, W_OK) == 0 || access("/var/lib", W_OK) == 0;
	snprintf(d, n, "%s %s", p, ok ? "can be written" : "cannot be written: pass --store");
	return ok;
}

enum level { REQUIRED, OPTIONAL, INFO }; /* INFO: reported, not used by this version */

static const struct check {
	const char *name;
	enum level level;
	bool at_start; /* also in the agent's start-up summary (it loaded the rest itself) */
	const char *enables;
	bool (*fn)(char *detail, size_t n);
} checks[] = {
    {"root", REQUIRED, false, "loading BPF, reading /proc and container roots", ck_root},
    {"capabilities", REQUIRED, true, "BPF, /proc of every process, files whatever their modes",
     ck_caps},
    {"kernel BTF", REQUIRED, false, "the CO-RE BPF programs", ck_btf},
    {"BPF program types", REQUIRED, false,
     "tp_btf or raw_tp: the exec sensor; tp: syscall tracepoints; fentry, lsm, kprobe: not "
     "used by this version (reported for planning)",
     ck_prog_types},
    {"exec sensor", REQUIRED, false, "detection of tools run in containers", ck_exec_sensor},
    {"host namespaces", OPTIONAL, true, "telling containers from the host (else the agent's own)",
     ck_host_ns},
    {"mount namespace", INFO, true, "where host paths (runtime state, logs) are read", ck_mount_ns},
    {"syscall tracepoints", OPTIONAL, true, "escape-technique detection and self-protection",
     ck_tracefs},
    {"fanotify", OPTIONAL, false, "exec-time capture of short-lived tools", ck_fanotify},
    {"fanotify permission", OPTIONAL, true, "--block (refusing known tools before they run)",
     ck_fanotify_perm},
    {"bpffs", OPTIONAL, true, "pinned self-protection (a killed agent's gap seen by the next)",
     ck_bpffs},
    {"cgroup layout", OPTIONAL, true, "container attribution by cgroup", ck_cgroup},
    {"runtime state", OPTIONAL, true, "container names, images and settings", ck_runtimes},
    {"findings store", OPTIONAL, false, "the default store path", ck_store},
    {"clock", OPTIONAL, true, "the findings' event and create times", ck_clock},
};
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

static const char *status_of(const struct check *c, bool ok)
{
	return ok                     ? "ok"
	       : c->level == REQUIRED ? "FAIL"
	       : c->level == OPTIONAL ? "missing"
	                              : "info";
}

void cw_doctor_log_summary(void)
{
	char d[512], missing[2048] = "";
	size_t used = 0, nok = 0, nrun = 0;

	for (size_t i = 0; i < NCHECKS; i++) {
		if (!checks[i].at_start)
			continue;
		nrun++;
		if (checks[i].fn(d, sizeof(d)) || checks[i].level == INFO) {
			nok++;
			continue;
		}
		cw_appendf(missing, sizeof(missing), &used, "%s%s (%s: %s)", used ? "; " : "",
		           checks[i].name, d, checks[i].enables);
	}
	if (used)
		cw_warn("doctor: %zu of %zu start-up checks ok; degraded: %s (`cagewatch doctor` "
		        "explains)",
		        nok, nrun, missing);
	else
		cw_info("doctor: all %zu start-up checks ok", nrun);
}

static int usage_doctor(void)
{
	puts("usage: cagewatch doctor [--format text|json]\n"
	     "  whether this node can run the agent: every prerequisite checked for real\n"
	     "  (the exec sensor and one program of each BPF type loaded and attached,\n"
	     "  fanotify opened and a permission mark placed, tracepoints looked up)\n"
	     "  exit status: 0 the agent runs fully, 3 it runs degraded (an optional\n"
	     "  feature is missing), 1 it cannot run, 2 bad usage\n"
	     "  --format FORMAT  text (default) or json");
	return CW_EXIT_OK;
}

int cw_cmd_doctor(int argc, char **argv)
{
	bool json = false, fatal = false, degraded = false;
	json_t *arr;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage_doctor();
		if (!strcmp(argv[i], "--format") && i + 1 < argc &&
		    (!strcmp(argv[i + 1], "json") || !strcmp(argv[i + 1], "text")))
			json = !strcmp(argv[++i], "json");
		else
			return cw_usage_hint("doctor", "unknown option '%s'", argv[i]);
	}
	arr = json_array();
	cw_log_set_level(CW_LOG_ERROR); /* the checks' own failures are the report */
	for (size_t i = 0; i < NCHECKS; i++) {
		char d[512] = "";
		bool ok = checks[i].fn(d, sizeof(d));
		const char *st = status_of(&checks[i], ok);

		fatal |= !ok && checks[i].level == REQUIRED;
		degraded |= !ok && checks[i].level == OPTIONAL;
		if (json)
			json_array_append_new(
			    arr, json_pack("{s:s,s:s,s:b,s:s,s:s}", "check", checks[i].name,
			                   "status", st, "required", checks[i].level == REQUIRED,
			                   "enables", checks[i].enables, "detail", d));
		else
			printf("%-8s %-20s %s\n         %-20s (%s)\n", st, checks[i].name, d, "",
			       checks[i].enables);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		puts(fatal      ? "the agent cannot run here"
		     : degraded ? "the agent can run here, degraded (see 'missing' above)"
		                : "the agent can run here fully");
	}
	json_decref(arr);
	return fatal ? CW_EXIT_RESULT : degraded ? CW_EXIT_DEGRADED : CW_EXIT_OK;
}
