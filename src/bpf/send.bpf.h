/* send.bpf.h - part of technique.bpf.c: the first bytes a container program
 * sends on a TCP connection it opened, for the first_send rules (Stratum
 * mining: a JSON-RPC "mining.subscribe" or "login" as the first message).
 *
 * connect() from a task in scope arms the socket (its struct sock) in
 * tq_conn; the first send on an armed socket disarms it and, if its payload
 * starts with '{' (JSON-RPC: HTTP, TLS and most protocols never do), is
 * recorded with its first CW_TQ_STR - 1 bytes and the socket's peer. The send
 * is seen where the kernel allows it most cheaply:
 *  - tp_btf/tcp_sendmsg_locked (6.8+): only TCP sends run the program;
 *  - else the write, sendto, writev and sendmsg syscall tracepoints: every
 *    write of every process runs it (host tasks stop at the scope check, a
 *    task in scope pays the descriptor's lookup).
 * A socket destroyed unsent is forgotten (tcp_destroy_sock, where the kernel
 * has it; else the LRU map ages it out). Loaded only while a first_send rule
 * is on (send_watch).
 */
#ifndef CW_SEND_BPF_H
#define CW_SEND_BPF_H

const volatile bool send_watch = false; /* a first_send rule is on */

/** @brief Connections whose first send is still to be looked at:
 * (tgid << 32 | fd) -> connect time. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} tq_conn SEC(".maps");

/* The struct sock behind descriptor fd of task, 0 if it is no socket. */
static __always_inline __u64 fd_sock(struct task_struct *task, __u64 fd)
{
	struct file *f = fd_file(task, (long)(int)fd);
	struct socket *sock;

	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	return (__u64)BPF_CORE_READ(sock, sk);
}

/* connect(fd, inet address): look at this socket's first send. */
static __always_inline void send_arm(struct task_struct *task, __u64 fd, __u64 family)
{
	__u64 key, now = bpf_ktime_get_boot_ns();

	if (!send_watch || (family != AF_INET && family != AF_INET6))
		return;
	key = fd_sock(task, fd);
	if (key)
		bpf_map_update_elem(&tq_conn, &key, &now, BPF_ANY);
}

/* Is the socket armed? Disarms it: only the first send is looked at. */
static __always_inline bool send_take(__u64 key)
{
	if (!key || !bpf_map_lookup_elem(&tq_conn, &key))
		return false;
	bpf_map_delete_elem(&tq_conn, &key);
	return true;
}

/* The peer of a connected inet socket as a sockaddr in e->data (the
 * connect record's layout: family, port, address) and arg[0]/arg[2]. */
static __always_inline void send_peer(struct cw_tq_event *e, struct sock *sk)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 port = BPF_CORE_READ(sk, __sk_common.skc_dport);

	e->arg[0] = fam;
	e->arg[2] = __builtin_bswap16(port);
	__builtin_memcpy(e->data, &fam, 2);
	__builtin_memcpy(e->data + 2, &port, 2);
	if (fam == AF_INET)
		BPF_CORE_READ_INTO((__u32 *)(e->data + 4), sk, __sk_common.skc_daddr);
	else
		BPF_CORE_READ_INTO((struct in6_addr *)(e->data + 8), sk, __sk_common.skc_v6_daddr);
}

/* The first n bytes at buf into e->s1; true if they start with '{'. */
static __always_inline bool send_bytes(struct cw_tq_event *e, const void *buf, __u64 len)
{
	__u64 n = len < CW_TQ_STR - 1 ? len : CW_TQ_STR - 1;

	if (!n || bpf_probe_read_user(e->s1, n & (CW_TQ_STR - 1), buf))
		return false;
	e->s1[n & (CW_TQ_STR - 1)] = 0;
	e->arg[1] = len;
	return e->s1[0] == '{';
}

/* A send syscall's first buffer: write/sendto give it; writev and sendmsg
 * the first iovec's. */
static __always_inline bool want_send(struct cw_tq_event *e, struct task_struct *task, __u32 kind,
                                      __u64 a0, __u64 a1, __u64 a2)
{
	struct iovec iov = {};
	const void *buf = (const void *)a1;
	__u64 len = a2;
	struct socket *sock;
	struct file *f;

	e->arg[3] = a0;
	if (kind == CW_TQS_SENDMSG &&
	    bpf_probe_read_user(&a1, sizeof(a1),
	                        (void *)a1 + offsetof(struct user_msghdr, msg_iov)))
		return false;
	if (kind == CW_TQS_WRITEV || kind == CW_TQS_SENDMSG) {
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)a1))
			return false;
		buf = iov.iov_base;
		len = iov.iov_len;
	}
	if (!send_bytes(e, buf, len))
		return false;
	f = fd_file(task, (long)(int)a0);
	put_file(e, f);
	sock = BPF_CORE_READ(f, private_data);
	send_peer(e, BPF_CORE_READ(sock, sk));
	return true;
}

/* Kernels before 6.4 call the iovec pointer `iov`. */
struct iov_iter___old {
	const struct iovec *iov;
} __attribute__((preserve_access_index));

/* tcp_sendmsg_locked(sk, msg): the first segment of msg's user memory. */
static __always_inline bool want_tcp_send(struct cw_tq_event *e, struct sock *sk,
                                          struct msghdr *msg)
{
	struct iov_iter *it = &msg->msg_iter;
	__u8 type = BPF_CORE_READ(it, iter_type);
	__u64 off = BPF_CORE_READ(it, iov_offset), len = BPF_CORE_READ(it, count);
	const struct iovec *iovp;
	struct iovec iov = {};
	const void *buf;

	if (bpf_core_enum_value_exists(enum iter_type, ITER_UBUF) &&
	    type == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
		buf = BPF_CORE_READ(it, ubuf);
	} else if (type == bpf_core_enum_value(enum iter_type, ITER_IOVEC)) {
		if (bpf_core_field_exists(it->__iov))
			iovp = BPF_CORE_READ(it, __iov);
		else
			iovp = BPF_CORE_READ((struct iov_iter___old *)it, iov);
		if (bpf_probe_read_kernel(&iov, sizeof(iov), iovp))
			return false;
		buf = iov.iov_base;
		len = iov.iov_len > off ? iov.iov_len - off : 0;
	} else {
		return false; /* kernel memory (splice, sendfile): not a program's message */
	}
	if (!send_bytes(e, buf + off, len))
		return false;
	send_peer(e, sk);
	return true;
}

#endif
