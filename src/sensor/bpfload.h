/* bpfload.h - what every BPF sensor (exec, technique, guard) needs from the
 * host and from libbpf, in one place: the root/BTF checks with their advice,
 * libbpf's log routed through cw_log, per-CPU counter sums, and the tracefs
 * that per-syscall tracepoints are attached through.
 */
#ifndef CW_BPFLOAD_H
#define CW_BPFLOAD_H

#include <stddef.h>
#include <stdint.h>

struct bpf_program;
struct bpf_link;

#define CW_TRACEFS       "/sys/kernel/tracing"
#define CW_DEBUGFS_TRACE "/sys/kernel/debug/tracing"

/* Can `what` ("the exec sensor", ...) load here? Checks root and kernel BTF;
 * logs what is missing and what to do. 0, -EPERM or -ENOENT. */
int cw_bpf_check_host(const char *what);
/* Route libbpf's messages through cw_log (debug ones only at debug level).
 * Idempotent. */
void cw_bpf_log_init(void);
/* Possible CPUs, or -errno (logged). */
int cw_bpf_ncpu(void);
/* Sum of entry `idx` of a per-CPU array over ncpu CPUs; per_cpu (optional,
 * n_per_cpu entries) gets each CPU's value. 0 or -errno. */
int cw_bpf_percpu_sum(int map_fd, uint32_t idx, int ncpu, uint64_t *sum, uint64_t *per_cpu,
                      int n_per_cpu);
/* Sums of entries 0..n-1 of a per-CPU array of u64 over ncpu CPUs, in one
 * batch lookup where the kernel has them (5.6+), else one lookup per entry;
 * per_cpu (optional, n_per_cpu entries) gets entry per_cpu_idx's values.
 * 0 or -errno. */
int cw_bpf_percpu_sums(int map_fd, uint32_t n, int ncpu, uint64_t *sums, uint32_t per_cpu_idx,
                       uint64_t *per_cpu, int n_per_cpu);
/* Tracepoint id of syscalls/<event> under a tracefs at dir, or -errno. */
long cw_bpf_tp_id(const char *dir, const char *event);
/* Find a tracefs with syscall tracepoints, mounting one at CW_TRACEFS if none
 * is; fills dir. 0 or -errno with *why saying what is missing (the caller
 * decides how loud to be). */
int cw_bpf_syscall_tracefs(char *dir, size_t sz, const char **why);
/* Attach prog to the syscall tracepoint `event` under the tracefs at dir
 * through perf_event_open. 0 and *out, or -errno. */
int cw_bpf_attach_syscall_tp(struct bpf_program *prog, const char *dir, const char *event,
                             struct bpf_link **out);

#endif
