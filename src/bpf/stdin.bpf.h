/* stdin.bpf.h - part of technique.bpf.c, included where its maps are in
 * scope (tq_stdin, tq_stdin_scratch, tq_events, the counters): the piped-
 * script capture. An interpreter started in a container without a script
 * operand (`curl | sh`, `bash < x.sh`, `python3 -`) is armed at exec; its
 * reads from fd 0 are kept (the first CW_TQ_STDIN_MAX bytes) and sent once,
 * when full, at end of input or (swept by user space) when it exits. */
#ifndef CW_STDIN_BPF_H
#define CW_STDIN_BPF_H

/* Interpreters by the comm an exec gives them (the file's basename). */
static __always_inline bool interpreter(const char *c)
{
	if (c[0] == 's' && c[1] == 'h' && !c[2])
		return true;
	if ((c[0] == 'b' || c[0] == 'd') && c[1] == 'a' && c[2] == 's' && c[3] == 'h' && !c[4])
		return true; /* bash, dash */
	if ((c[0] == 'a' || c[0] == 'z' || c[0] == 'k') && c[1] == 's' && c[2] == 'h' && !c[3])
		return true; /* ash, zsh, ksh */
	if (c[0] == 'p' && c[1] == 'y' && c[2] == 't' && c[3] == 'h' && c[4] == 'o' && c[5] == 'n')
		return true; /* python, python3, python3.11 */
	if (c[0] == 'p' && c[1] == 'e' && c[2] == 'r' && c[3] == 'l')
		return true;
	if (c[0] == 'r' && c[1] == 'u' && c[2] == 'b' && c[3] == 'y' && !c[4])
		return true;
	return c[0] == 'p' && c[1] == 'h' && c[2] == 'p' && !c[3];
}

#define ARGS_PEEK 32 /* bytes of the argv area read to see through busybox */

static __always_inline bool lit_at(const char *a, int off, const char *lit, int n)
{
	for (int i = 0; i < n; i++) /* n and off are constants: unrolled */
		if (a[off + i] != lit[i])
			return false;
	return true;
}

/* Length (with the NUL) of a shell name busybox runs as at a[off], else 0. */
static __always_inline int shell_at(const char *a, int off)
{
	if (lit_at(a, off, "sh", 3))
		return 3;
	if (lit_at(a, off, "ash", 4))
		return 4;
	if (lit_at(a, off, "bash", 5))
		return 5;
	if (lit_at(a, off, "/bin/sh", 8))
		return 8;
	if (lit_at(a, off, "/bin/ash", 9))
		return 9;
	return 0;
}

/* "-", "-s" or nothing more at a[off] (off < ARGS_PEEK - 2)? */
static __always_inline bool stdin_opt(const char *a, int off, int rest)
{
	if (rest == 0)
		return true;
	if (rest != 1 || a[off & (ARGS_PEEK - 1)] != '-')
		return false;
	return !a[(off + 1) & (ARGS_PEEK - 1)] ||
	       (a[(off + 1) & (ARGS_PEEK - 1)] == 's' && !a[(off + 2) & (ARGS_PEEK - 1)]);
}

/* Is this exec an interpreter that will read its program from stdin? No
 * arguments, or only "-" / "-s" ("-c" scripts are in argv and judged there).
 * busybox shells run as "sh" (comm "sh"), as "/proc/self/exe sh" (comm "exe",
 * argv[0] "sh") or as "busybox sh": the shell's name is then in argv. */
static __always_inline bool reads_script_from_stdin(struct linux_binprm *bprm,
                                                    struct task_struct *task)
{
	char comm[16], a[ARGS_PEEK] = {};
	int argc = bprm->argc, l;
	bool multi;

	bpf_get_current_comm(comm, sizeof(comm));
	multi = lit_at(comm, 0, "exe", 4) || lit_at(comm, 0, "busybox", 8);
	if (!multi && !interpreter(comm))
		return false;
	if (!multi && argc == 1)
		return true;
	if (bpf_probe_read_user(a, sizeof(a), (void *)BPF_CORE_READ(task, mm, arg_start)) < 0)
		return false;
	if (!multi) {
		l = 0;
		for (int i = 0; i < 16; i++) { /* argv[0] of a shell: "sh", "/bin/bash" */
			if (!a[i]) {
				l = i + 1;
				break;
			}
		}
		return l && stdin_opt(a, l, argc - 1);
	}
	if (lit_at(a, 0, "busybox", 8) || lit_at(a, 0, "/bin/busybox", 13)) {
		int o = a[0] == '/' ? 13 : 8;

		l = o == 8 ? shell_at(a, 8) : shell_at(a, 13);
		return l && stdin_opt(a, o + l, argc - 2);
	}
	l = shell_at(a, 0);
	return l && stdin_opt(a, l, argc - 1);
}

/* Arm the stdin capture when an interpreter starts in a container with a
 * pipe, a file or a socket (not a terminal) as stdin and no script operand. */
static __noinline void stdin_arm(struct task_struct *task, struct linux_binprm *bprm)
{
	struct stdin_state *st;
	struct file *f;
	__u32 pidns, mntns, mode, zero = 0, tgid;

	if (!stdin_capture || !reads_script_from_stdin(bprm, task) ||
	    !in_scope(task, &pidns, &mntns))
		return;
	f = fd_file(task, 0);
	mode = f ? BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT : 0;
	if (mode != S_IFIFO && mode != S_IFREG && mode != S_IFSOCK)
		return;
	st = bpf_map_lookup_elem(&tq_stdin_scratch, &zero);
	if (!st)
		return;
	st->rec.magic = CW_TQ_STDIN_MAGIC;
	st->rec.len = 0;
	st->rec.flags = 0;
	st->rec.stdin_mode = mode;
	st->rec.ev.sys = 0;
	st->rec.ev.flags = 0;
	st->rec.ev.pidns = pidns;
	st->rec.ev.mntns = mntns;
	put_caller(&st->rec.ev, task);
	put_exe_path(&st->rec.ev, task);
	tgid = st->rec.ev.tgid;
	if (bpf_map_update_elem(&tq_stdin, &tgid, st, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&stdin_armed, 1);
}

static __always_inline void stdin_flush(__u32 tgid, struct stdin_state *st, __u32 why)
{
	st->rec.flags |= why;
	if (bpf_ringbuf_output(&tq_events, &st->rec, sizeof(st->rec), BPF_RB_FORCE_WAKEUP))
		count(CW_TQC_LOST);
	else
		count(CW_TQC_SUBMITTED);
	if (bpf_map_delete_elem(&tq_stdin, &tgid) == 0 && stdin_armed)
		__sync_fetch_and_add(&stdin_armed, -1);
}

/* A read by an armed task: keep what it read from fd 0. */
static __always_inline void stdin_read(struct task_struct *task, long ret)
{
	__u32 tgid, off, n;
	struct stdin_state *st;
	struct pt_regs *regs;

	if (!stdin_armed)
		return;
	tgid = bpf_get_current_pid_tgid() >> 32;
	st = bpf_map_lookup_elem(&tq_stdin, &tgid);
	if (!st)
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (PT_REGS_PARM1_CORE_SYSCALL(regs) != 0)
		return; /* not stdin */
	if (ret <= 0) {
		stdin_flush(tgid, st, ret == 0 ? CW_TQI_EOF : 0);
		return;
	}
	off = st->rec.len;
	if (off >= CW_TQ_STDIN_MAX)
		return;
	n = (__u32)ret;
	if (n > CW_TQ_STDIN_MAX - off) {
		n = CW_TQ_STDIN_MAX - off;
		st->rec.flags |= CW_TQI_TRUNC;
	}
	off &= CW_TQ_STDIN_MAX - 1;
	n &= 2 * CW_TQ_STDIN_MAX - 1; /* a no-op the verifier can see */
	if (bpf_probe_read_user(st->rec.data + off, n, (void *)PT_REGS_PARM2_CORE_SYSCALL(regs)))
		return;
	st->rec.len = off + n;
	if (st->rec.len >= CW_TQ_STDIN_MAX)
		stdin_flush(tgid, st, 0);
}

#endif
