/* sensor.c - event source: checks the host can run the sensor, loads the exec
 * program through its CO-RE skeleton, and drains the ring buffer.
 *
 * Every way this can fail ends in a message that names what is missing and what
 * to do; the agent turns any failure here into exit status 2, so there is never
 * an idle agent that silently sees nothing.
 */
#include "sensor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "exec.skel.h"
#include "util.h"

struct cw_sensor {
	struct exec_bpf *skel;
	struct ring_buffer *rb;
	cw_event_fn fn;
	void *ctx;
	int ncpu;
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[16384];

	if (level == LIBBPF_DEBUG && cw_log_get_level() < CW_LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* libbpf prefixes "libbpf: " itself; drop the trailing newline only. */
	if (buf[0] && buf[strlen(buf) - 1] == '\n')
		buf[strlen(buf) - 1] = '\0';
	if (buf[0])
		cw_log_trusted(level == LIBBPF_WARN ? CW_LOG_WARN : CW_LOG_DEBUG, buf);
	return 0;
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct cw_sensor *s = ctx;

	return s->fn(s->ctx, data, len);
}

int cw_sensor_open(struct cw_sensor **out, const struct cw_sensor_opts *opts)
{
	struct cw_sensor *s;
	struct stat st;
	int err;

	if (!opts || opts->sz < sizeof(*opts) || !opts->on_event)
		return -EINVAL;
	if (geteuid() != 0) {
		cw_err(
		    "the exec sensor needs root (CAP_BPF and CAP_PERFMON): run cagewatch as root");
		return -EPERM;
	}
	if (stat("/sys/kernel/btf/vmlinux", &st) != 0) {
		cw_err("kernel BTF is missing (/sys/kernel/btf/vmlinux): cagewatch needs a kernel "
		       "built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.8)");
		return -ENOENT;
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fn = opts->on_event;
	s->ctx = opts->ctx;
	s->ncpu = libbpf_num_possible_cpus();
	if (s->ncpu <= 0) {
		err = s->ncpu ? s->ncpu : -EINVAL;
		cw_err("cannot count possible CPUs: %s", strerror(-err));
		goto fail;
	}
	libbpf_set_print(libbpf_log);

	s->skel = exec_bpf__open();
	if (!s->skel) {
		err = -errno;
		cw_err("cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	s->skel->rodata->host_pidns = opts->host_pidns;
	s->skel->rodata->host_mntns = opts->host_mntns;
	s->skel->rodata->containers_only = opts->containers_only;
	s->skel->rodata->wakeup_bytes = opts->wakeup_bytes ? opts->wakeup_bytes : 65536;
	if (opts->ringbuf_bytes) {
		err = bpf_map__set_max_entries(s->skel->maps.events, opts->ringbuf_bytes);
		if (err) {
			cw_err("ring buffer size %zu refused (must be a power of two >= page "
			       "size): %s",
			       opts->ringbuf_bytes, strerror(-err));
			goto fail;
		}
	}
	err = exec_bpf__load(s->skel);
	if (err) {
		cw_err(
		    "the kernel refused to load the exec sensor (%s): BPF may be disabled "
		    "(kernel.unprivileged_bpf_disabled, lockdown, seccomp or a container without "
		    "CAP_BPF); run as root on the host with BPF and BTF enabled",
		    strerror(-err));
		goto fail;
	}
	err = exec_bpf__attach(s->skel);
	if (err) {
		cw_err("cannot attach to the sched_process_exec tracepoint (%s): the kernel needs "
		       "BTF-enabled tracepoints (tp_btf, Linux 5.5 or later)",
		       strerror(-err));
		goto fail;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_sample, s, NULL);
	if (!s->rb) {
		err = -errno;
		cw_err("cannot map the ring buffer: %s", strerror(-err));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	cw_sensor_close(s);
	return err < 0 ? err : -EINVAL;
}

int cw_sensor_poll(struct cw_sensor *s, int timeout_ms)
{
	int n = ring_buffer__poll(s->rb, timeout_ms), m;

	if (n == -EINTR)
		n = 0;
	if (n < 0)
		return n;
	/* The kernel side skips wake-ups for small batches: after the timeout,
	 * take whatever is pending without being told. */
	m = ring_buffer__consume(s->rb);
	if (m < 0)
		return m;
	return n + m;
}

int cw_sensor_consume(struct cw_sensor *s)
{
	return ring_buffer__consume(s->rb);
}

int cw_sensor_fd(const struct cw_sensor *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

int cw_sensor_ncpu(const struct cw_sensor *s)
{
	return s->ncpu;
}

int cw_sensor_counters(const struct cw_sensor *s, uint64_t out[CW_CNT_MAX], uint64_t *lost_per_cpu,
                       int ncpu)
{
	uint64_t *vals = calloc((size_t)s->ncpu, sizeof(*vals));
	int fd = bpf_map__fd(s->skel->maps.counters);

	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < CW_CNT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		for (int c = 0; c < s->ncpu; c++) {
			out[k] += vals[c];
			if (k == CW_CNT_LOST && lost_per_cpu && c < ncpu)
				lost_per_cpu[c] = vals[c];
		}
	}
	free(vals);
	return 0;
}

int cw_sensor_mark_clean(struct cw_sensor *s, const struct cw_event *ev)
{
	struct cw_file_id id = {.ino = ev->ino, .dev = ev->dev};
	struct cw_file_ver v = {
	    .mtime_sec = ev->mtime_sec,
	    .ctime_sec = ev->ctime_sec,
	    .mtime_nsec = ev->mtime_nsec,
	    .ctime_nsec = ev->ctime_nsec,
	    .size = ev->size,
	};

	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.known_clean), &id, &v, BPF_ANY))
		return -errno;
	return 0;
}

void cw_sensor_close(struct cw_sensor *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	exec_bpf__destroy(s->skel);
	free(s);
}
