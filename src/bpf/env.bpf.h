/* env.bpf.h - part of exec.bpf.c: the new program's environment, for the
 * exec_env rules (Polkit CVE-2021-4034, Program Run with Disallowed HTTP
 * Proxy Env). Two ways an exec's environment reaches user space, both off
 * until a rule asks:
 *  - programs named in env_names (pkexec): their first CW_ENV_MAX bytes;
 *  - with env_scan_proxy set (a rule on any program): every container exec's
 *    environment (its first CW_ENV_SCAN bytes) is scanned here for a variable
 *    whose name ends in "_proxy" in any case; only an exec with one is sent,
 *    with CW_ENV_MAX bytes from just before that variable.
 * User space matches the rules' globs on whole NAME=value strings and reports
 * the matching ones only: the rest of the environment is never stored.
 */
#ifndef CW_ENV_BPF_H
#define CW_ENV_BPF_H

/* Written by user space (bss) when the rules change. */
__u32 env_scan_proxy = 0;

/** @brief Programs (comm, NUL-padded) whose environment the rules look at. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[CW_COMM_LEN]);
	__type(value, __u8);
} env_names SEC(".maps");

#define CW_ENV_SCAN  16384 /* environment bytes scanned for a proxy variable */
#define CW_ENV_CHUNK 4096  /* read and scanned at a time */
#define CW_ENV_BACK  256   /* sent from this far before the variable's '=' */

/* The 8 bytes ending at a '=' read "?_proxy=" in any case? (little-endian:
 * byte 7 is the '=', byte 0 is ignored, bytes 2..6 folded to lower case) */
static __always_inline bool proxy_name(__u64 v)
{
	const __u64 want = ((__u64)'=' << 56) | ((__u64)'y' << 48) | ((__u64)'x' << 40) |
	                   ((__u64)'o' << 32) | ((__u64)'r' << 24) | ((__u64)'p' << 16) |
	                   ((__u64)'_' << 8);

	return ((v | 0x0020202020200000ull) & 0xffffffffffffff00ull) == want;
}

/* One chunk's scan state, one 8-byte word per bpf_loop step. The chunk is in
 * the tail of the scratch record's data (unused until the sections are
 * written). */
struct envscan {
	__u32 base; /* offset of the chunk in e->data */
	__u32 len;  /* bytes read */
	__s32 hit;  /* offset of the '=' within the chunk, -1 none */
};

static long envscan_step(__u64 i, void *ctx)
{
	struct envscan *st = ctx;
	__u32 zero = 0, at = (__u32)i * 8;
	struct cw_event *e = bpf_map_lookup_elem(&scratch, &zero);
	__u64 w, x, v;

	if (!e || at >= st->len)
		return 1;
	w = *(__u64 *)&e->data[(st->base + at) & 16383];
	x = w ^ 0x3d3d3d3d3d3d3d3dull; /* a zero byte where w has a '=' */
	if (!((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull))
		return 0;
	for (__u32 j = 0; j < 8; j++) {
		__u32 p = at + j;

		if (((w >> (j * 8)) & 0xff) != '=' || p < 7 || p >= st->len)
			continue;
		v = *(__u64 *)&e->data[(st->base + p - 7) & 16383];
		if (proxy_name(v)) {
			st->hit = (__s32)p;
			return 1;
		}
	}
	return 0;
}

/* User address of the '=' of the first "*_proxy=" variable in the
 * environment's first CW_ENV_SCAN bytes, 0 if none. Chunks overlap by 8 bytes
 * so a name across a boundary is still seen. Needs bpf_loop (5.17+): without
 * it nothing is found (the rule's documented limit). */
static __always_inline unsigned long env_proxy_at(struct cw_event *e, struct mm_struct *mm)
{
	unsigned long es = mm->env_start, ee = mm->env_end;
	struct envscan st = {.base = CW_DATA_MAX - CW_ENV_CHUNK};

	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop))
		return 0;
	for (int c = 0; c < CW_ENV_SCAN / CW_ENV_CHUNK; c++) {
		unsigned long at = es + (unsigned long)c * (CW_ENV_CHUNK - 8), n;

		if (at >= ee)
			break;
		n = ee - at;
		if (n > CW_ENV_CHUNK)
			n = CW_ENV_CHUNK;
		if (bpf_probe_read_user(&e->data[CW_DATA_MAX - CW_ENV_CHUNK], n, (void *)at))
			return 0;
		st.len = n;
		st.hit = -1;
		bpf_loop(CW_ENV_CHUNK / 8, envscan_step, &st, 0);
		if (st.hit >= 0)
			return at + st.hit;
	}
	return 0;
}

/* Where the env section starts, kept in map memory beside the record: a
 * value the verifier does not track keeps the rest of the program's states
 * comparable (see forget()). */
static __always_inline void env_from_set(struct cw_event *e, unsigned long at)
{
	((struct scratch_buf *)e)->env_from = at;
}

/* Before the known-clean shortcut, with a rule on any program on: does this
 * container exec's environment have a proxy variable? Sets CW_F_ENV (the exec
 * then goes to user space) and where to copy from. Costs one load otherwise. */
static __always_inline void env_scan(struct cw_event *e, struct task_struct *task)
{
	struct mm_struct *mm;
	unsigned long at;

	if (!env_scan_proxy || e->mntns == host_mntns || !(mm = task->mm))
		return;
	at = env_proxy_at(e, mm);
	if (!at)
		return;
	e->flags |= CW_F_ENV;
	if (at - mm->env_start <= CW_ENV_BACK) {
		env_from_set(e, mm->env_start);
		return;
	}
	e->flags |= CW_F_ENV_MID;
	env_from_set(e, at - CW_ENV_BACK);
}

/* For an exec already going to user space: is it of a program whose
 * environment a rule looks at (pkexec)? Such names never enter the
 * known-clean map (cw_technique_name_relevant), so their execs get here. */
static __always_inline void env_named(struct cw_event *e, struct task_struct *task)
{
	struct mm_struct *mm = task->mm;

	if ((e->flags & CW_F_ENV) || !mm || e->mntns == host_mntns ||
	    !bpf_map_lookup_elem(&env_names, e->comm))
		return;
	e->flags |= CW_F_ENV;
	env_from_set(e, mm->env_start);
}

/* The env section at data[off]: CW_ENV_MAX bytes at most from where
 * env_wanted() said. Returns its length. */
static __always_inline __u32 put_env(struct cw_event *e, struct task_struct *task, __u32 off)
{
	unsigned long from = ((struct scratch_buf *)e)->env_from, ee, n;
	struct mm_struct *mm = task->mm;

	if (!mm || off > CW_DATA_MAX - CW_ENV_MAX)
		return 0;
	ee = mm->env_end;
	if (from >= ee)
		return 0;
	n = ee - from;
	if (n > CW_ENV_MAX) {
		n = CW_ENV_MAX;
		e->flags |= CW_F_ENV_TRUNC;
	}
	if (bpf_probe_read_user(&e->data[off], n, (void *)from))
		return 0;
	return n;
}

#endif
