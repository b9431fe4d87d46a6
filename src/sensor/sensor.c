/* sensor.c - event source: checks the host can run the sensor, loads the exec
 * program through its CO-RE skeleton, and drains the ring buffer.
 *
 * Every way this can fail ends in a message that names what is missing and what
 * to do; the agent turns any failure here into exit status 2, so there is never
 * an idle agent that silently sees nothing.
 */
#include "sensor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfload.h"
#include "exec.skel.h"
#include "util.h"

struct cw_sensor {
	struct exec_bpf *skel;
	struct ring_buffer *rb;
	struct ring_buffer *wake; /* held_wake: a hold is waiting */
	cw_event_fn fn;
	void *ctx;
	int ncpu;
};

static int on_wake(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
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
	int err;

	if (!opts || opts->sz < sizeof(*opts) || !opts->on_event)
		return -EINVAL;
	if ((err = cw_bpf_check_host("the exec sensor")))
		return err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fn = opts->on_event;
	s->ctx = opts->ctx;
	s->ncpu = cw_bpf_ncpu();
	if (s->ncpu <= 0) {
		err = s->ncpu;
		goto fail;
	}
	cw_bpf_log_init();

	s->skel = exec_bpf__open();
	if (!s->skel) {
		err = -errno;
		cw_err("cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	s->skel->rodata->host_pidns = opts->host_pidns;
	s->skel->rodata->host_mntns = opts->host_mntns;
	s->skel->rodata->containers_only = opts->containers_only;
	s->skel->rodata->hold_enabled = opts->hold;
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
	s->wake = ring_buffer__new(bpf_map__fd(s->skel->maps.held_wake), on_wake, s, NULL);
	if (!s->wake) {
		err = -errno;
		cw_err("cannot map the hold ring buffer: %s", strerror(-err));
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

void cw_sensor_hold_maps(const struct cw_sensor *s, struct cw_sensor_hold_maps *out)
{
	out->marked_mnt = bpf_map__fd(s->skel->maps.marked_mnt);
	out->held = bpf_map__fd(s->skel->maps.held);
	out->interp = bpf_map__fd(s->skel->maps.interp);
}

int cw_sensor_wake_fd(const struct cw_sensor *s)
{
	return ring_buffer__epoll_fd(s->wake);
}

int cw_sensor_wake_consume(struct cw_sensor *s)
{
	return ring_buffer__consume(s->wake);
}

int cw_sensor_ncpu(const struct cw_sensor *s)
{
	return s->ncpu;
}

int cw_sensor_counters(const struct cw_sensor *s, uint64_t out[CW_CNT_MAX], uint64_t *lost_per_cpu,
                       int ncpu)
{
	return cw_bpf_percpu_sums(bpf_map__fd(s->skel->maps.counters), CW_CNT_MAX, s->ncpu, out,
	                          CW_CNT_LOST, lost_per_cpu, ncpu);
}

int cw_sensor_lost(const struct cw_sensor *s, uint64_t *lost)
{
	return cw_bpf_percpu_sum(bpf_map__fd(s->skel->maps.counters), CW_CNT_LOST, s->ncpu, lost,
	                         NULL, 0);
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

int cw_sensor_forget_clean(struct cw_sensor *s)
{
	int fd = bpf_map__fd(s->skel->maps.known_clean), n = 0;
	struct cw_file_id cur, next;
	bool have = false;

	/* delete each key once its successor is known: deleting first would
	 * restart the walk at the map's first bucket */
	while (bpf_map_get_next_key(fd, have ? &cur : NULL, &next) == 0) {
		if (have && bpf_map_delete_elem(fd, &cur) == 0)
			n++;
		cur = next;
		have = true;
	}
	if (have && bpf_map_delete_elem(fd, &cur) == 0)
		n++;
	return n;
}

int cw_sensor_env_watch(struct cw_sensor *s, const char *const *names, size_t n, bool any)
{
	int fd = bpf_map__fd(s->skel->maps.env_names), err = 0;
	char key[CW_COMM_LEN], next[CW_COMM_LEN];
	__u8 one = 1;

	while (bpf_map_get_next_key(fd, NULL, next) == 0)
		if (bpf_map_delete_elem(fd, next))
			return -errno;
	for (size_t i = 0; i < n; i++) {
		memset(key, 0, sizeof(key));
		memcpy(key, names[i], strnlen(names[i], sizeof(key) - 1)); /* comm: 15 bytes */
		if (bpf_map_update_elem(fd, key, &one, BPF_ANY))
			err = -errno;
	}
	s->skel->bss->env_scan_proxy = any;
	return err;
}

void cw_sensor_close(struct cw_sensor *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	ring_buffer__free(s->wake);
	exec_bpf__destroy(s->skel);
	free(s);
}
