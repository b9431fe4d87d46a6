// SPDX-License-Identifier: GPL-2.0
/* probe.bpf.c - `cagewatch doctor`'s probes: one empty program per BPF
 * program type and attach point an agent could use (tp_btf, raw_tp, tp,
 * fentry, lsm, kprobe). doctor loads and attaches each alone and reports
 * which ones the kernel accepts; nothing here records anything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pr_tp_btf)
{
	return 0;
}

SEC("raw_tp/sched_process_exec")
int pr_raw_tp(void *ctx)
{
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int pr_tp(void *ctx)
{
	return 0;
}

SEC("fentry/vfs_getattr")
int BPF_PROG(pr_fentry)
{
	return 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(pr_lsm)
{
	return 0;
}

SEC("kprobe/vfs_getattr")
int pr_kprobe(void *ctx)
{
	return 0;
}
