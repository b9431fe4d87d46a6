/* guard_probe.c - what a hostile container does to the agent, for
 * tests/live/test_guard.sh (built static, copied into the container):
 *   guard_probe ptrace PID        PTRACE_ATTACH (then detach if it worked)
 *   guard_probe vmread PID        process_vm_readv of one byte
 *   guard_probe tgkill PID SIG    tgkill(PID, PID, SIG)
 *   guard_probe killpg PGID SIG   kill(-PGID, SIG)
 *   guard_probe bpfprog ID        bpf(BPF_PROG_GET_FD_BY_ID, ID)
 *   guard_probe bpfmap ID         bpf(BPF_MAP_GET_FD_BY_ID, ID)
 * Prints the result; exits 0 whatever the kernel said (the attempt counts). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>

static long bpf_get_fd(int cmd, unsigned id)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id; /* the first word for every *_GET_FD_BY_ID */
	return syscall(SYS_bpf, cmd, &attr, sizeof(attr));
}

int main(int argc, char **argv)
{
	long r = -1;
	int pid;

	if (argc < 3) {
		fprintf(stderr,
		        "usage: guard_probe ptrace|vmread|tgkill|bpfprog|bpfmap ARG [SIG]\n");
		return 2;
	}
	pid = atoi(argv[2]);
	if (!strcmp(argv[1], "ptrace")) {
		r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
		if (r == 0) {
			waitpid(pid, NULL, __WALL);
			ptrace(PTRACE_DETACH, pid, NULL, NULL);
		}
	} else if (!strcmp(argv[1], "vmread")) {
		char b;
		struct iovec l = {&b, 1}, rm = {(void *)0x400000, 1};

		r = syscall(SYS_process_vm_readv, pid, &l, 1, &rm, 1, 0);
	} else if (!strcmp(argv[1], "killpg") && argc > 3) {
		r = kill(-pid, atoi(argv[3]));
	} else if (!strcmp(argv[1], "tgkill") && argc > 3) {
		r = syscall(SYS_tgkill, pid, pid, atoi(argv[3]));
	} else if (!strcmp(argv[1], "bpfprog")) {
		r = bpf_get_fd(BPF_PROG_GET_FD_BY_ID, (unsigned)pid);
	} else if (!strcmp(argv[1], "bpfmap")) {
		r = bpf_get_fd(BPF_MAP_GET_FD_BY_ID, (unsigned)pid);
	} else {
		fprintf(stderr, "guard_probe: unknown step %s\n", argv[1]);
		return 2;
	}
	printf("%s %s: %ld (%s)\n", argv[1], argv[2], r, r < 0 ? strerror(errno) : "ok");
	return 0;
}
