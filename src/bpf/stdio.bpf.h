/* stdio.bpf.h - part of exec.bpf.c: is the new program's stdin or stdout a
 * connected network socket (a shell bound to a remote peer, a command run
 * over a socket)? Decided here, at the exec, so such an exec reaches user
 * space even when its file is known clean, with the socket's two ends as they
 * were then (the process may be gone by the time anyone looks). */
#ifndef CW_STDIO_BPF_H
#define CW_STDIO_BPF_H

#define CW_S_IFMT   0170000
#define CW_S_IFSOCK 0140000
#define CW_AF_INET  2
#define CW_AF_INET6 10

/* Is f a connected AF_INET/AF_INET6 socket? Its ends go into e->sock when
 * fill. Probe reads: f comes from the descriptor table, not from BTF. */
static __always_inline bool inet_peer(struct file *f, struct cw_event *e, bool fill)
{
	struct socket *sock;
	struct sock *sk;
	__u16 fam, dport;

	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & CW_S_IFMT) != CW_S_IFSOCK)
		return false;
	sock = (struct socket *)BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (fam != CW_AF_INET && fam != CW_AF_INET6)
		return false;
	dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (!dport)
		return false; /* listening or unconnected: no peer */
	if (!fill)
		return true;
	e->sock.family = fam;
	e->sock.rport = __builtin_bswap16(dport);
	e->sock.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (fam == CW_AF_INET) {
		__u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__u32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

		__builtin_memcpy(e->sock.raddr, &d, 4);
		__builtin_memcpy(e->sock.laddr, &s, 4);
	} else {
		BPF_CORE_READ_INTO(&e->sock.raddr, sk, __sk_common.skc_v6_daddr);
		BPF_CORE_READ_INTO(&e->sock.laddr, sk, __sk_common.skc_v6_rcv_saddr);
	}
	return true;
}

/* e->stdio_inet: bit 0 stdin, bit 1 stdout is a connected network socket;
 * e->sock: stdin's ends, else stdout's. Every table has at least
 * NR_OPEN_DEFAULT (64) slots, so slots 0 and 1 always exist. */
static __always_inline void put_stdio(struct cw_event *e, struct task_struct *task)
{
	struct file *fds[2] = {};
	struct files_struct *files = task->files; /* direct BTF loads: no helper call */
	struct fdtable *fdt;

	e->stdio_inet = 0;
	if (!files)
		return;
	fdt = files->fdt;
	if (!fdt || bpf_probe_read_kernel(fds, sizeof(fds), fdt->fd))
		return;
	if (inet_peer(fds[0], e, true))
		e->stdio_inet |= 1;
	if (inet_peer(fds[1], e, !(e->stdio_inet & 1)))
		e->stdio_inet |= 2;
}

#endif
