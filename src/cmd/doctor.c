/* doctor.c - `cagewatch doctor [--format text|json]`: whether this node can
 * run the agent, one line per prerequisite, each with what it enables and
 * what to do when it is missing. The checks are real: the exec sensor is
 * loaded and attached (then closed), the exec-time capture's fanotify group
 * is opened, the syscall tracepoints are looked up. Exit 0 when everything
 * the agent needs is there (optional features may be missing), 1 when the
 * agent cannot run, 2 for bad usage. A table of checks: adding one is a row. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <jansson.h>

#include "bpfload.h"
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
		if (access(r, R_OK | X_OK) == 0 && used < n)
			used += (size_t)snprintf(d + used, n - used, "%s%s", used ? " " : "", r);
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

static const struct check {
	const char *name;
	bool required; /* the agent cannot run without it */
	const char *enables;
	bool (*fn)(char *detail, size_t n);
} checks[] = {
    {"root", true, "loading BPF, reading /proc and container roots", ck_root},
    {"kernel BTF", true, "the CO-RE BPF programs", ck_btf},
    {"exec sensor", true, "detection of tools run in containers", ck_exec_sensor},
    {"host namespaces", false, "telling containers from the host (else the agent's own)",
     ck_host_ns},
    {"syscall tracepoints", false, "escape-technique detection and self-protection", ck_tracefs},
    {"fanotify", false, "exec-time capture of short-lived tools and --block", ck_fanotify},
    {"bpffs", false, "pinned self-protection (a killed agent's gap seen by the next)", ck_bpffs},
    {"cgroup layout", false, "container attribution by cgroup", ck_cgroup},
    {"runtime state", false, "container names, images and settings", ck_runtimes},
    {"findings store", false, "the default store path", ck_store},
};

int cw_cmd_doctor(int argc, char **argv)
{
	bool json = false, fatal = false;
	json_t *arr = json_array();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts("usage: cagewatch doctor [--format text|json]\n"
			     "  whether this node can run the agent: every prerequisite checked "
			     "for real\n"
			     "  (the exec sensor is loaded and attached, fanotify opened, "
			     "tracepoints looked\n"
			     "  up); exits 0 when the agent can run, 1 when it cannot\n"
			     "  --format FORMAT  text (default) or json");
			json_decref(arr);
			return CW_EXIT_OK;
		}
		if (!strcmp(argv[i], "--format") && i + 1 < argc && !strcmp(argv[i + 1], "json"))
			json = true, i++;
		else if (!strcmp(argv[i], "--format") && i + 1 < argc &&
		         !strcmp(argv[i + 1], "text"))
			i++;
		else {
			json_decref(arr);
			return cw_usage_hint("doctor", "unknown option '%s'", argv[i]);
		}
	}
	cw_log_set_level(CW_LOG_ERROR); /* the checks' own failures are the report */
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		char d[512] = "";
		bool ok = checks[i].fn(d, sizeof(d));
		const char *st = ok ? "ok" : checks[i].required ? "FAIL" : "missing";

		fatal |= !ok && checks[i].required;
		if (json)
			json_array_append_new(
			    arr, json_pack("{s:s,s:s,s:b,s:s,s:s}", "check", checks[i].name,
			                   "status", st, "required", checks[i].required, "enables",
			                   checks[i].enables, "detail", d));
		else
			printf("%-8s %-20s %s\n         %-20s (%s)\n", st, checks[i].name, d, "",
			       checks[i].enables);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		puts(fatal ? "the agent cannot run here" : "the agent can run here");
	}
	json_decref(arr);
	return fatal ? CW_EXIT_RESULT : CW_EXIT_OK;
}
