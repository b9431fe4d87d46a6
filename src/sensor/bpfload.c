/* bpfload.c - host checks, libbpf logging, counters and tracefs shared by the
 * BPF sensors (see bpfload.h). */
#include "bpfload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"

#define TRACEFS_MAGIC 0x74726163u

int cw_bpf_check_host(const char *what)
{
	struct stat st;

	if (geteuid() != 0) {
		cw_err("%s needs root (CAP_BPF and CAP_PERFMON): run cagewatch as root", what);
		return -EPERM;
	}
	if (stat("/sys/kernel/btf/vmlinux", &st) != 0) {
		cw_err("kernel BTF is missing (/sys/kernel/btf/vmlinux): %s needs a kernel built "
		       "with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.8)",
		       what);
		return -ENOENT;
	}
	return 0;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[16384];
	size_t n;

	if (level == LIBBPF_DEBUG && cw_log_get_level() < CW_LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* libbpf prefixes "libbpf: " itself; drop the trailing newline only. */
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	if (buf[0])
		cw_log_trusted(level == LIBBPF_WARN ? CW_LOG_WARN : CW_LOG_DEBUG, buf);
	return 0;
}

void cw_bpf_log_init(void)
{
	libbpf_set_print(libbpf_log);
}

int cw_bpf_ncpu(void)
{
	int n = libbpf_num_possible_cpus();

	if (n <= 0) {
		n = n ? n : -EINVAL;
		cw_err("cannot count possible CPUs: %s", strerror(-n));
	}
	return n;
}

int cw_bpf_percpu_sum(int map_fd, uint32_t idx, int ncpu, uint64_t *sum, uint64_t *per_cpu,
                      int n_per_cpu)
{
	uint64_t *vals;

	if (ncpu <= 0 || !sum)
		return -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &idx, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	*sum = 0;
	for (int c = 0; c < ncpu; c++) {
		*sum += vals[c];
		if (per_cpu && c < n_per_cpu)
			per_cpu[c] = vals[c];
	}
	free(vals);
	return 0;
}

/* The whole array (n entries) in one BPF_MAP_LOOKUP_BATCH into vals, entry
 * by entry, each entry's per-CPU values together. 0, or -errno
 * (-EINVAL/-ENOTSUP where the kernel lacks batches). */
static int percpu_batch(int map_fd, uint32_t n, uint64_t *vals)
{
	uint32_t *keys = calloc(n, sizeof(*keys)), out_batch = 0, count = n;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	if (bpf_map_lookup_batch(map_fd, NULL, &out_batch, keys, vals, &count, NULL) &&
	    errno != ENOENT) /* ENOENT: the last batch, all of it read */
		err = -errno;
	else if (count != n)
		err = -EIO;
	for (uint32_t i = 0; !err && i < n; i++)
		if (keys[i] != i)
			err = -EIO;
	free(keys);
	return err;
}

int cw_bpf_percpu_sums(int map_fd, uint32_t n, int ncpu, uint64_t *sums, uint32_t per_cpu_idx,
                       uint64_t *per_cpu, int n_per_cpu)
{
	uint64_t *vals;
	int err;

	if (ncpu <= 0 || !sums || !n)
		return -EINVAL;
	vals = calloc((size_t)n * (size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (percpu_batch(map_fd, n, vals) != 0) {
		free(vals);
		for (uint32_t k = 0; k < n; k++) /* no batches here: entry by entry */
			if ((err = cw_bpf_percpu_sum(map_fd, k, ncpu, &sums[k],
			                             k == per_cpu_idx ? per_cpu : NULL, n_per_cpu)))
				return err;
		return 0;
	}
	for (uint32_t k = 0; k < n; k++) {
		sums[k] = 0;
		for (int c = 0; c < ncpu; c++) {
			sums[k] += vals[(size_t)k * (size_t)ncpu + (size_t)c];
			if (k == per_cpu_idx && per_cpu && c < n_per_cpu)
				per_cpu[c] = vals[(size_t)k * (size_t)ncpu + (size_t)c];
		}
	}
	free(vals);
	return 0;
}

long cw_bpf_tp_id(const char *dir, const char *event)
{
	char p[512], buf[32];
	long id;
	FILE *f;

	snprintf(p, sizeof(p), "%s/events/syscalls/%s/id", dir, event);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f) || (id = strtol(buf, NULL, 10)) <= 0) {
		(void)fclose(f);
		return -EINVAL;
	}
	(void)fclose(f);
	return id;
}

int cw_bpf_syscall_tracefs(char *dir, size_t sz, const char **why)
{
	static const char *const dirs[] = {CW_TRACEFS, CW_DEBUGFS_TRACE};
	static const char *const no_events =
	    "tracefs has no syscall events (kernel without CONFIG_FTRACE_SYSCALLS)";
	struct statfs sf;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (cw_bpf_tp_id(dirs[i], "sys_enter_openat") > 0) {
			snprintf(dir, sz, "%s", dirs[i]);
			return 0;
		}
	if (statfs(CW_TRACEFS, &sf) != 0) {
		*why = CW_TRACEFS " does not exist";
		return -ENOENT;
	}
	if ((uint32_t)sf.f_type == TRACEFS_MAGIC) {
		*why = no_events;
		return -ENOENT;
	}
	if (mount("nodev", CW_TRACEFS, "tracefs", 0, NULL) != 0) {
		int err = -errno;

		*why = "cannot mount tracefs at " CW_TRACEFS;
		cw_warn("cannot mount tracefs at %s: %s", CW_TRACEFS, strerror(-err));
		return err;
	}
	cw_info("mounted tracefs at %s for per-syscall tracepoints", CW_TRACEFS);
	if (cw_bpf_tp_id(CW_TRACEFS, "sys_enter_openat") <= 0) {
		*why = no_events;
		return -ENOENT;
	}
	snprintf(dir, sz, "%s", CW_TRACEFS);
	return 0;
}

int cw_bpf_attach_syscall_tp(struct bpf_program *prog, const char *dir, const char *event,
                             struct bpf_link **out)
{
	struct perf_event_attr attr = {.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr)};
	long id = cw_bpf_tp_id(dir, event);
	int pfd, err;

	if (id < 0)
		return (int)id;
	attr.config = (uint64_t)id;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	pfd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	*out = bpf_program__attach_perf_event(prog, pfd);
	if (!*out) {
		err = -errno;
		close(pfd);
		return err;
	}
	return 0;
}
