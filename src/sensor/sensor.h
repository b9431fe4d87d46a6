/* sensor.h - the event source: loads the exec BPF program (CO-RE skeleton),
 * attaches it, drains its ring buffer into a callback and reads the kernel's
 * per-CPU counters (seen, filtered, submitted, lost).
 */
#ifndef CW_SENSOR_H
#define CW_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef int (*cw_event_fn)(void *ctx, const void *data, size_t len);

struct cw_sensor_opts {
	size_t sz;            /* sizeof(struct cw_sensor_opts) */
	bool containers_only; /* drop host execs in the kernel */
	uint32_t host_pidns;  /* inodes of the host's pid and mount namespaces */
	uint32_t host_mntns;
	size_t ringbuf_bytes;  /* 0: 4 MiB; power of two */
	uint64_t wakeup_bytes; /* 0: 64 KiB */
	bool hold;             /* --block: hold the execs fanotify cannot judge (hold.bpf.h) */
	cw_event_fn on_event;
	void *ctx;
};

struct cw_sensor;

/* Check prerequisites, load and attach. On failure returns a negative errno and
 * has logged what is missing (root, BTF, BPF refused) and what to do. */
int cw_sensor_open(struct cw_sensor **out, const struct cw_sensor_opts *opts);
/* Deliver pending events; waits up to timeout_ms. Returns events handled or -errno. */
int cw_sensor_poll(struct cw_sensor *s, int timeout_ms);
/* Deliver what is pending without waiting. Returns events handled or -errno. */
int cw_sensor_consume(struct cw_sensor *s);
/* Epoll fd that becomes readable when the kernel wakes the reader. */
int cw_sensor_fd(const struct cw_sensor *s);
/* Counters summed over CPUs; lost_per_cpu (optional, ncpu entries) gets the per-CPU losses. */
int cw_sensor_counters(const struct cw_sensor *s, uint64_t out[CW_CNT_MAX], uint64_t *lost_per_cpu,
                       int ncpu);
/* Only the lost counter (the agent checks it every 100 ms). 0 or -errno. */
int cw_sensor_lost(const struct cw_sensor *s, uint64_t *lost);
int cw_sensor_ncpu(const struct cw_sensor *s);
/* Epoll fd readable when --block holds an exec: its record is in the ring
 * buffer already; drain now rather than after the batching wait. */
int cw_sensor_wake_fd(const struct cw_sensor *s);
/* Empty the hold wake-ups. Returns how many or -errno. */
int cw_sensor_wake_consume(struct cw_sensor *s);
/* Tell the kernel side that this exec's file is clean and name-neutral: its
 * later execs (unchanged file, same name) are dropped in the kernel. */
int cw_sensor_mark_clean(struct cw_sensor *s, const struct cw_event *ev);
/* Forget every known-clean mark (the rules changed): each file is judged
 * again at its next exec. Returns the number of marks removed. */
int cw_sensor_forget_clean(struct cw_sensor *s);
/* What the exec_env rules look at (cw_technique_env_names): the
 * environment of programs with these names (comm, cut to 15 bytes), and of
 * any container program with a *_proxy variable when any is set. Replaces
 * what was set before. 0 or -errno (the names that fit are set). */
int cw_sensor_env_watch(struct cw_sensor *s, const char *const *names, size_t n, bool any);
/* The maps of --block's hold: mounts marked, processes held, interpreters. */
struct cw_sensor_hold_maps {
	int marked_mnt, held, interp;
};
void cw_sensor_hold_maps(const struct cw_sensor *s, struct cw_sensor_hold_maps *out);
void cw_sensor_close(struct cw_sensor *s);

#endif
