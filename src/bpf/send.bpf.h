/* send.bpf.h - part of technique.bpf.c: the first bytes a container program
 * sends on a TCP connection it opened, for the first_send rules (Stratum
 * mining: a JSON-RPC "mining.subscribe" or "login" as the first message).
 *
 * connect() from a task in scope arms (tgid, fd) in tq_conn; the first write,
 * sendto, writev or sendmsg on an armed descriptor disarms it and, if its
 * payload starts with '{' (JSON-RPC: HTTP, TLS and most protocols never do),
 * is recorded with its first CW_TQ_STR - 1 bytes and the socket's peer. Every
 * other write of a task in scope costs one hash lookup; host tasks stop at the
 * scope check. Loaded only while a first_send rule is on (send_watch).
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

static __always_inline __u64 conn_key(__u64 fd)
{
	return (bpf_get_current_pid_tgid() & 0xffffffff00000000ull) | (__u32)fd;
}

/* connect(fd, inet address): look at this descriptor's first send. */
static __always_inline void send_arm(__u64 fd, __u64 family)
{
	__u64 key = conn_key(fd), now = bpf_ktime_get_boot_ns();

	if (send_watch && (family == AF_INET || family == AF_INET6))
		bpf_map_update_elem(&tq_conn, &key, &now, BPF_ANY);
}

/* Is fd armed? Disarms it: only the first send is looked at. */
static __always_inline bool send_take(__u64 fd)
{
	__u64 key = conn_key(fd);

	if (!bpf_map_lookup_elem(&tq_conn, &key))
		return false;
	bpf_map_delete_elem(&tq_conn, &key);
	return true;
}

/* The peer of a connected inet socket as a sockaddr in e->data (the
 * connect record's layout: family, port, address) and arg[0]/arg[2]. */
static __always_inline void send_peer(struct cw_tq_event *e, struct file *f)
{
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
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

/* The send's first buffer: write/sendto give it; writev and sendmsg the
 * first iovec's. Its first bytes into e->s1; true if they start with '{'. */
static __always_inline bool want_send(struct cw_tq_event *e, struct task_struct *task, __u32 kind,
                                      __u64 a0, __u64 a1, __u64 a2)
{
	struct iovec iov = {};
	const void *buf = (const void *)a1;
	__u64 len = a2, n;
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
	n = len < CW_TQ_STR - 1 ? len : CW_TQ_STR - 1;
	if (!n || bpf_probe_read_user(e->s1, n & (CW_TQ_STR - 1), buf))
		return false;
	e->s1[n & (CW_TQ_STR - 1)] = 0;
	e->arg[1] = len;
	if (e->s1[0] != '{')
		return false;
	f = fd_file(task, (long)(int)a0);
	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return false;
	put_file(e, f);
	send_peer(e, f);
	return true;
}

#endif
