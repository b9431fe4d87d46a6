/* technique_event.h - the record shared by the technique sensor's kernel side
 * (src/bpf/technique.bpf.c) and user space (src/technique.c).
 *
 * One fixed-size record per interesting syscall made by a task outside the
 * host's namespaces: the syscall's arguments as they were at entry, its result
 * at exit, and what the kernel knows of the file involved (the fd an open
 * returned, the fd setns/fchdir/finit_module used). Records are rare (only
 * syscalls on the watch list that pass the in-kernel filters), so a fixed size
 * costs nothing and keeps both sides simple.
 */
#ifndef CW_TECHNIQUE_EVENT_H
#define CW_TECHNIQUE_EVENT_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#define CW_TQ_STR    256 /* path, mount source/target, socket path */
#define CW_TQ_FSTYPE 32
#define CW_TQ_DATA   128 /* mount options, raw inet sockaddr */
#define CW_TQ_NAME   64  /* a dentry name (fd's file, executable) */
#define CW_TQ_ARGS   256 /* the caller's argv area, NUL-separated */
#define CW_TQ_CGROUP 512 /* cgroup path, components leaf first, NUL-terminated */

/* What the syscall is, as far as the sensor is concerned (value of the
 * syscall-number map; user space fills it for the build architecture). */
enum cw_tq_sys {
	CW_TQS_NONE = 0,
	CW_TQS_OPEN = 1,    /* open(path, flags, mode) */
	CW_TQS_OPENAT = 2,  /* openat(dfd, path, flags, mode) */
	CW_TQS_OPENAT2 = 3, /* openat2(dfd, path, how, size) */
	CW_TQS_CREAT = 4,   /* creat(path, mode) */
	CW_TQS_MOUNT = 5,   /* mount(source, target, fstype, flags, data) */
	CW_TQS_FSOPEN = 6,  /* fsopen(fsname, flags) */
	CW_TQS_MKNOD = 7,   /* mknod(path, mode, dev) */
	CW_TQS_MKNODAT = 8, /* mknodat(dfd, path, mode, dev) */
	CW_TQS_SETNS = 9,   /* setns(fd, nstype) */
	CW_TQS_INIT_MODULE = 10,
	CW_TQS_FINIT_MODULE = 11,
	CW_TQS_CONNECT = 12,
	CW_TQS_PTRACE = 13,
	CW_TQS_VM_WRITEV = 14, /* process_vm_writev(pid, ...) */
	CW_TQS_CHDIR = 15,
	CW_TQS_FCHDIR = 16,
	CW_TQS_OPEN_BY_HANDLE = 17, /* open_by_handle_at(mount_fd, handle, flags) */
	/* Attempts on the agent itself (guard.bpf.c, CW_TQF_AGENT): arg[0] the
	 * signal, ptrace request or bpf command; arg[1] the pid, tid, pidfd or
	 * object id as given; arg[2] tgkill's tid or the bpf object type. */
	CW_TQS_KILL = 18,
	CW_TQS_TKILL = 19,
	CW_TQS_TGKILL = 20,
	CW_TQS_PIDFD_SIGNAL = 21,
	CW_TQS_BPF = 22,
	CW_TQS_VM_READV = 23,
	/* The first send on a TCP connection a task in scope opened (send.bpf.h):
	 * arg[0] family, arg[1] bytes offered, arg[2] peer port, arg[3] fd; s1 the
	 * first bytes; data the peer as a sockaddr (as connect's). */
	CW_TQS_WRITE = 24,
	CW_TQS_SENDTO = 25,
	CW_TQS_WRITEV = 26,
	CW_TQS_SENDMSG = 27,
	/* A code mapping (PROT_EXEC) of a file added or changed since the
	 * container started (lib.bpf.h): arg[0] prot, arg[1] flags, arg[2] the
	 * address, arg[3] fd; s1 the file's path, components leaf first, each
	 * NUL-terminated; CW_TQF_OVL/UPPER/LOWER/CHANGED say why. */
	CW_TQS_MMAP = 28,
	/* The first send on a TCP connection, seen by tp_btf/tcp_sendmsg_locked
	 * (6.8+) instead of the send syscalls: as CW_TQS_WRITE, arg[3] unused. */
	CW_TQS_TCP_SEND = 29,
	CW_TQS_MAX
};

/* cw_tq_event.flags */
#define CW_TQF_EXITED       (1u << 0) /* ret is the syscall's result */
#define CW_TQF_DEV_PATH     (1u << 1) /* open: path starts with /dev/ */
#define CW_TQF_NAME_MATCH   (1u << 2) /* open: basename is on the watch list */
#define CW_TQF_FILE         (1u << 3) /* f_* fields describe a file */
#define CW_TQF_FOREIGN_EXE  (1u << 4) /* executable outside the caller's mount ns */
#define CW_TQF_ABSTRACT     (1u << 5) /* connect: abstract AF_UNIX name (s1 without the NUL) */
#define CW_TQF_PATH_TRUNC   (1u << 6) /* s1 was longer than CW_TQ_STR */
#define CW_TQF_CGROUP_V1    (1u << 7) /* cgroup path from the v1 memory hierarchy */
#define CW_TQF_CGROUP_TRUNC (1u << 8)
#define CW_TQF_HOST_NS      (1u << 9)  /* caller shares the host pid and mount ns */
#define CW_TQF_AGENT        (1u << 10) /* guard record: the target is the agent */
#define CW_TQF_OVL          (1u << 11) /* mmap: the file is on overlayfs (UPPER/LOWER valid) */
#define CW_TQF_UPPER        (1u << 12) /* ... it has a copy in the upper layer */
#define CW_TQF_LOWER        (1u << 13) /* ... and one in a lower layer (modified) */
#define CW_TQF_CHANGED      (1u << 14) /* mmap: not overlayfs; changed after the init's start */
#define CW_TQF_EXE_TRUNC    (1u << 15) /* exe_path was deeper or longer than it holds */

struct cw_tq_event {
	__u32 sys;   /* enum cw_tq_sys */
	__u32 flags; /* CW_TQF_* */
	__u64 ts_ns; /* bpf_ktime_get_boot_ns() at entry */
	__u64 cgroup_id;
	__s64 ret;        /* result (with CW_TQF_EXITED): >= 0 or -errno */
	__u64 arg[4];     /* per sys: open flags/mode; mount flags; mknod mode/dev;
	                   * setns nstype; ptrace request/pid; vm_writev pid;
	                   * connect family/port; init_module len */
	__u64 f_ino;      /* file: inode number (nsfs: the namespace inode) */
	__u32 f_magic;    /* file: superblock magic */
	__u32 f_mode;     /* file: i_mode */
	__u32 f_dev;      /* file: kernel dev_t of the superblock */
	__u32 f_mntns;    /* file: mount namespace of its mount, 0 if none */
	__u32 f_rdev;     /* file: device number of a device node */
	__u32 target_pid; /* setns on a pidfd: the target's host tgid */
	__u32 syscall_nr;
	__u32 pid; /* thread id (host) */
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 pidns;
	__u32 mntns;
	__u32 netns;
	__u32 userns;
	__u32 cgroupns;
	__u32 utsns;
	__u32 ipcns;
	__u16 cgroup_len;
	__u16 args_len;
	__u16 s1_len;  /* mmap: bytes of s1 the path's components use */
	__u16 exe_len; /* bytes of exe_path its components use; 0: not resolved */
	char comm[16];
	char exe[CW_TQ_NAME];     /* caller's executable, dentry name */
	char exe_path[CW_TQ_STR]; /* ... its path inside the caller's root, components
	                           * leaf first, for records sent to user space */
	char fname[CW_TQ_NAME];   /* file: dentry name */
	char s1[CW_TQ_STR];       /* path / mount source / socket path / module params */
	char s2[CW_TQ_STR];       /* mount target */
	char fstype[CW_TQ_FSTYPE];
	char data[CW_TQ_DATA];
	char args[CW_TQ_ARGS];
	char cgroup[CW_TQ_CGROUP];
};

#define CW_TQ_HDR_SIZE 152
_Static_assert(__builtin_offsetof(struct cw_tq_event, comm) == CW_TQ_HDR_SIZE,
               "cw_tq_event header changed: kernel and user space must agree");
_Static_assert(sizeof(struct cw_tq_event) == CW_TQ_HDR_SIZE + 16 + 2 * CW_TQ_NAME + 3 * CW_TQ_STR +
                                                 CW_TQ_FSTYPE + CW_TQ_DATA + CW_TQ_ARGS +
                                                 CW_TQ_CGROUP,
               "cw_tq_event layout changed: kernel and user space must agree");

/* Value bits of the watched-names map (key: cw_tq_name_hash of a basename). */
#define CW_TQN_WRITE_OPEN 1u

/* FNV-1a over a basename; both sides must hash the same way. */
#define CW_TQ_FNV_INIT      2166136261u /* = CW_FNV32_INIT (util.h) */
#define CW_TQ_FNV_PRIME     16777619u   /* = CW_FNV32_PRIME */
#define CW_TQ_NAME_HASH_MAX 32          /* longest basename worth hashing */

/* Per-CPU counters, index into the tq_counters map. */
enum cw_tq_counter {
	CW_TQC_SEEN = 0,      /* watched syscalls from tasks in scope */
	CW_TQC_FILTERED = 1,  /* dropped in kernel (uninteresting arguments) */
	CW_TQC_SUBMITTED = 2, /* records sent to user space */
	CW_TQC_LOST = 3,      /* ring buffer full */
	CW_TQC_UMH = 4,       /* usermode-helper execs seen */
	CW_TQC_FOLDED = 5,    /* repeats within 1 s of the same record, not sent */
	CW_TQC_MAX
};

/* Record of a kernel usermode-helper exec (parent is a kernel thread), sent on
 * the same ring buffer; told apart by its first word. */
#define CW_TQ_UMH_MAGIC 0x554d4831u /* "UMH1" */
struct cw_tq_umh {
	__u32 magic; /* CW_TQ_UMH_MAGIC */
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u64 ts_ns;
	__u64 ino;
	__u32 dev;
	__u32 mntns;
	__u32 parent_flags;
	__u32 reserved;
	char comm[16];
	char parent_comm[16];
	char filename[CW_TQ_STR]; /* bprm->filename as the helper was started */
	char args[CW_TQ_ARGS];
	__u16 args_len;
	__u16 reserved2[3];
};
_Static_assert(sizeof(struct cw_tq_umh) == 48 + 32 + CW_TQ_STR + CW_TQ_ARGS + 8,
               "cw_tq_umh layout changed");
_Static_assert(CW_TQS_MAX < 32, "sys kinds fit the bitmap");

/* What an interpreter started in a container with no script operand (`curl |
 * sh`, `bash < x.sh`, `python3 -`) reads from its stdin: the first
 * CW_TQ_STDIN_MAX bytes, sent once (when full, at end of input or when the
 * process exits) on the same ring buffer, told apart by its first word. */
#define CW_TQ_STDIN_MAGIC 0x53544431u /* "STD1" */
#define CW_TQ_STDIN_MAX   4096
#define CW_TQI_EOF        (1u << 0) /* read returned 0: the whole input is here */
#define CW_TQI_TRUNC      (1u << 1) /* more was read than kept */
#define CW_TQI_EXITED     (1u << 2) /* sent because the process exited */
struct cw_tq_stdin {
	__u32 magic;           /* CW_TQ_STDIN_MAGIC */
	__u32 len;             /* bytes in data */
	__u32 flags;           /* CW_TQI_* */
	__u32 stdin_mode;      /* i_mode of fd 0 at exec: pipe, file or socket */
	struct cw_tq_event ev; /* the interpreter, as at its exec (sys = 0) */
	char data[CW_TQ_STDIN_MAX];
};

#endif /* CW_TECHNIQUE_EVENT_H */
