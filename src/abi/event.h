/* event.h - the one record shared by the kernel side (src/bpf/) and user space.
 *
 * The exec program fills a struct cw_event in a per-CPU scratch buffer and submits
 * only the used prefix (header + data[0 .. data_len)) to the ring buffer. data[]
 * holds, in this order:
 *   path     executed file, components leaf first, each NUL-terminated
 *            (user space joins them in reverse)
 *   cgroup   cgroup of the task, components leaf first, NUL-terminated
 *   filename the name given to execve (bprm->filename), NUL-terminated
 *   argv     the new program's argument area, NUL-separated, argv_len bytes
 *   env      (CW_F_ENV only) env_len bytes of its environment, NUL-separated:
 *            from its start, or from just before a proxy variable
 *            (CW_F_ENV_MID: the first string may be cut; env.bpf.h)
 * Every section is bounded; truncation is flagged, never silent.
 */
#ifndef CW_EVENT_H
#define CW_EVENT_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#define CW_COMM_LEN     16
#define CW_NAME_MAX     256  /* one path component, including NUL */
#define CW_PATH_DEPTH   48   /* path components walked before giving up */
#define CW_CGROUP_DEPTH 16   /* cgroup components walked */
#define CW_PATH_MAX     4096 /* bytes for the path section */
#define CW_CGROUP_MAX   1024 /* bytes for the cgroup section */
#define CW_FNAME_MAX    512  /* bytes for bprm->filename */
#define CW_ARGV_MAX     4096 /* bytes of argv copied */
#define CW_ENV_MAX      4096 /* bytes of the environment copied (CW_F_ENV) */
#define CW_DATA_MAX     (CW_PATH_MAX + CW_CGROUP_MAX + CW_FNAME_MAX + CW_ARGV_MAX + CW_ENV_MAX)
/* An exec whose argument area is at least this long reaches user space even
 * when its file is known clean: argument rules (kind exec_argv, a base64
 * payload) look at any program's arguments. */
#define CW_ARGV_LONG 512

/* cw_event.flags */
#define CW_F_ARGV_TRUNC   (1u << 0) /* argv longer than CW_ARGV_MAX */
#define CW_F_PATH_TRUNC   (1u << 1) /* deeper than CW_PATH_DEPTH or longer than CW_PATH_MAX */
#define CW_F_CGROUP_TRUNC (1u << 2)
#define CW_F_MEMFD        (1u << 3) /* executable is a memfd */
#define CW_F_DELETED      (1u << 4) /* executable has no links left */
#define CW_F_CGROUP_V1    (1u << 5) /* cgroup path came from a v1 hierarchy */
#define CW_F_SCRIPT       (1u << 6) /* an interpreter ran: filename is the script */
#define CW_F_FNAME_TRUNC  (1u << 7)
#define CW_F_HOST_NS      (1u << 8)  /* task shares the host pid and mount namespaces */
#define CW_F_CREDS        (1u << 9)  /* cap_*, euid/egid, seccomp, no_new_privs are valid */
#define CW_F_CREDS_LATE   (1u << 10) /* ... read from /proc after the event, not at it */
#define CW_F_OVL          (1u << 11) /* executable is on overlayfs: CW_F_UPPER/LOWER are valid */
#define CW_F_UPPER        (1u << 12) /* ... it has a copy in the writable upper layer */
#define CW_F_LOWER        (1u << 13) /* ... it has a copy in a lower (image) layer */
#define CW_F_ENV          (1u << 14) /* an env section follows argv (exec_env rules) */
#define CW_F_ENV_MID      (1u << 15) /* ... starting inside the environment, not at its start */
#define CW_F_ENV_TRUNC    (1u << 16) /* ... the environment went on past CW_ENV_MAX */

#define CW_ANCESTORS 5 /* parents recorded above the exec'ing process */

/* One ancestor of the exec'ing process, read at the exec. */
struct cw_ancestor {
	__u32 tgid;
	__u32 pad;
	__u64 start_ns; /* task start_boottime: tells a reused pid apart */
	char comm[CW_COMM_LEN];
};

/* A connected socket's two ends, network byte order addresses (IPv4 in the
 * first 4 bytes), host order ports. */
struct cw_sock_ends {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 pad;
};

enum cw_event_type {
	CW_EV_EXEC = 1,
};

struct cw_event {
	__u32 type;  /* enum cw_event_type */
	__u32 flags; /* CW_F_* */
	__u64 ts_ns; /* bpf_ktime_get_boot_ns() at the exec */
	__u64 cgroup_id;
	__u32 pid; /* thread id */
	__u32 tgid;
	__u32 ppid; /* real parent's tgid */
	__u32 uid;
	__u32 gid;
	__u32 pidns;
	__u32 mntns;
	__u32 netns;
	__u32 userns;
	__u32 cgroupns;
	__u64 ino; /* executable inode */
	__u64 size;
	__s64 mtime_sec;
	__s64 ctime_sec;
	__u32 mtime_nsec;
	__u32 ctime_nsec;
	__u32 dev; /* kernel dev_t of the executable's superblock */
	__u16 path_len;
	__u16 cgroup_len;
	__u32 hold; /* enum cw_hold_reason: --block holds this exec until judged */
	__u16 fname_len;
	__u16 argv_len;
	/* the new program's credentials and confinement, as the kernel holds them */
	__u64 cap_effective;
	__u64 cap_permitted;
	__u64 cap_bounding;
	__u32 euid;
	__u32 egid;
	__u32 ipcns;
	__u32 utsns;
	__u8 seccomp_mode; /* 0 disabled, 1 strict, 2 filter */
	__u8 no_new_privs;
	__u8 n_ancestors; /* valid entries of anc[], nearest parent first */
	__u8 stdio_inet;  /* bit 0: stdin, bit 1: stdout is a connected network socket */
	__u16 env_len;    /* bytes of the env section (CW_F_ENV) */
	__u8 pad8[2];
	__u64 ns_init_start_ns;   /* boot clock start of the pid namespace's init, 0 unknown */
	struct cw_sock_ends sock; /* stdin's socket, else stdout's (stdio_inet != 0) */
	struct cw_ancestor anc[CW_ANCESTORS];
	char comm[CW_COMM_LEN];
	char data[CW_DATA_MAX];
};

#define CW_EVENT_HDR_SIZE 392
_Static_assert(sizeof(struct cw_event) == CW_EVENT_HDR_SIZE + CW_DATA_MAX,
               "struct cw_event layout changed: kernel and user space must agree");
_Static_assert(__builtin_offsetof(struct cw_event, data) == CW_EVENT_HDR_SIZE,
               "cw_event header size changed");

/* Key and value of the known_clean map: executables user space has found
 * clean (content and hash) whose name no rule looks at. The kernel skips their
 * execs while the file is unchanged (size, mtime, ctime) and is not run under
 * another name. */
struct cw_file_id {
	__u64 ino;
	__u32 dev; /* kernel dev_t */
	__u32 pad;
};

struct cw_file_ver {
	__s64 mtime_sec;
	__s64 ctime_sec;
	__u32 mtime_nsec;
	__u32 ctime_nsec;
	__u64 size;
};

_Static_assert(sizeof(struct cw_file_id) == 16, "cw_file_id layout");
_Static_assert(sizeof(struct cw_file_ver) == 32, "cw_file_ver layout");

/* Why `--block` holds an exec in a container (cw_event.hold): the exec
 * program sends the new program SIGSTOP, delivered before its first
 * instruction, records it in the held map and the agent lets it go (SIGCONT)
 * or kills it once judged. */
enum cw_hold_reason {
	CW_HOLD_NONE = 0,
	CW_HOLD_MOUNT = 1,  /* its file is on a mount not marked yet: a new container's
	                     * entrypoint, a new mount, a memfd, another namespace's file */
	CW_HOLD_SCRIPT = 2, /* an interpreter with a script operand (`sh x.sh`) */
	CW_HOLD_STDIN = 3,  /* an interpreter reading its program from stdin (pipe or file) */
};

/* Value of the held map (key: tgid). The agent, or its guardian when the
 * agent cannot answer in time, deletes the entry and then signals: whoever
 * deletes it decides. */
struct cw_held_rec {
	__u64 start_ns; /* task start_boottime: tells a reused pid apart */
	__u64 held_ns;  /* bpf_ktime_get_boot_ns() at the hold */
	__u32 reason;   /* enum cw_hold_reason */
	__u32 mntns;
};

/* Value of the interp map (key: the program's comm, NUL-padded): option
 * letters that give the program inline (`sh -c`, `perl -e`, `python -c/-m`):
 * with one of them there is no script to hold for. */
struct cw_interp {
	char inline_opts[8];
};

/* Key of the marked_mnt map: mounts the agent has put a fanotify mark on (or
 * that need none): the mount's unique id where the kernel has one (6.8+),
 * else its mountinfo id. */
struct cw_mnt_key {
	__u64 id;
};

_Static_assert(sizeof(struct cw_held_rec) == 24, "cw_held_rec layout");

/* Per-CPU counters, index into the counters map. */
enum cw_counter {
	CW_CNT_SEEN = 0,     /* exec events the program ran for */
	CW_CNT_FILTERED = 1, /* dropped in kernel by design (filters) */
	CW_CNT_SUBMITTED = 2,
	CW_CNT_LOST = 3,        /* ring buffer full: event lost */
	CW_CNT_CLEAN = 4,       /* skipped in kernel: executable known clean (known_clean map) */
	CW_CNT_HELD = 5,        /* --block: execs held until the agent judged them */
	CW_CNT_HOLD_FAILED = 6, /* --block: would have been held, but the held map was
	                         * full or the record could not be sent: let run */
	CW_CNT_MAX
};

#endif /* CW_EVENT_H */
