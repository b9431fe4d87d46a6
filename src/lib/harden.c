/* harden.c - the agent gives up what it does not need once it is set up (see
 * harden.h): capabilities beyond its working set (effective, permitted,
 * inheritable, ambient and the bounding set), the ability to gain privileges
 * (no_new_privs), and every syscall outside an allowlist (seccomp, libseccomp,
 * synchronised to all threads). A syscall outside the list fails with EPERM
 * rather than killing the agent: a code path nobody measured degrades into an
 * error message instead of a dead detector, and still cannot do anything new.
 */
#include "harden.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "util.h"

/* What the running agent needs, and why. */
static const cap_value_t keep[] = {
    CAP_SYS_ADMIN,       /* fanotify marks: capture (new filesystems), --block */
    CAP_SYS_PTRACE,      /* /proc/PID/{exe,root,cwd,ns} of every process */
    CAP_DAC_READ_SEARCH, /* read executables and scripts whatever their modes */
    CAP_FOWNER,          /* O_NOATIME on captured files: the agent leaves no atime */
    CAP_SYS_NICE,        /* the worker switches between real-time and normal */
    CAP_KILL,            /* --block only (the last): let go or kill a held exec of any user */
};
static size_t nkeep = sizeof(keep) / sizeof(keep[0]); /* without CAP_KILL: one less */
#define NKEEP nkeep

static bool kept(cap_value_t c)
{
	for (size_t i = 0; i < NKEEP; i++)
		if (keep[i] == c)
			return true;
	return false;
}

/* Is c in this process's permitted set? */
static bool have_cap(cap_value_t c)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (!caps)
		return false;
	if (cap_get_flag(caps, c, CAP_PERMITTED, &v) != 0)
		v = CAP_CLEAR;
	cap_free(caps);
	return v == CAP_SET;
}

/* The bounding set first (dropping from it needs CAP_SETPCAP, which goes next). */
static int drop_caps(void)
{
	cap_t caps;
	int err = 0;

	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (!kept(c) && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) != 0 && errno != EINVAL)
			return -errno;
	if (cap_reset_ambient() != 0 && errno != EINVAL)
		return -errno;
	caps = cap_init(); /* all clear */
	if (!caps)
		return -errno;
	if (cap_set_flag(caps, CAP_EFFECTIVE, NKEEP, keep, CAP_SET) != 0 ||
	    cap_set_flag(caps, CAP_PERMITTED, NKEEP, keep, CAP_SET) != 0 || cap_set_proc(caps) != 0)
		err = -errno;
	cap_free(caps);
	return err;
}

/* The syscalls the agent and its libraries (libbpf, SQLite, YARA, jansson,
 * OpenSSL, glibc) make after start-up: detection, capture, --block, store,
 * stdin capture, stats. Every live test suite runs against the hardened agent;
 * a syscall missing here fails with EPERM and surfaces as an error message. */
static const char *const allowed[] = {
    "read",
    "write",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "close",
    "close_range",
    "openat",
    "openat2",
    "open",
    "newfstatat",
    "fstat",
    "stat",
    "lstat",
    "statx",
    "fstatfs",
    "statfs",
    "readlink",
    "readlinkat",
    "getdents64",
    "lseek",
    "fcntl",
    "dup",
    "dup3",
    "ioctl",
    "access",
    "faccessat",
    "faccessat2",
    "fsync",
    "fdatasync",
    "ftruncate",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "mkdir",
    "mkdirat",
    "fchmod",
    "fchown",
    "chmod",
    "link",
    "memfd_create",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "brk",
    "poll",
    "ppoll",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "select",
    "pselect6",
    "futex",
    "futex_waitv",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "clone",
    "clone3",
    "exit",
    "exit_group",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigtimedwait",
    "sigaltstack",
    "tgkill",
    "kill",
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getrandom",
    "clock_gettime",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "uname",
    "sched_yield",
    "sched_getaffinity",
    "sched_setscheduler",
    "sched_getscheduler",
    "sched_setparam",
    "sched_getparam",
    "getrlimit",
    "prlimit64",
    "getrusage",
    "sysinfo",
    "prctl",
    "capget",
    "bpf",
    "perf_event_open",
    "fanotify_mark",
    "inotify_add_watch",
    "inotify_rm_watch",
    "inotify_init1",
    "pipe2",
    "tee",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "socket",
    "connect",
    "sendto",
    "recvfrom",
    "sendmsg",
    "sendmmsg",
    "getpeername",
    "bind",
    "socketpair",
    "recvmsg",
    "getsockname",
    "getsockopt",
    "setsockopt",
    "shutdown",
    "restart_syscall",
    "flock",
    "fallocate",
    "getcwd",
    "chdir",
    "fchdir",
    "umask",
    "pidfd_open",
    "pidfd_send_signal",
    "waitid",
    "wait4",
    "membarrier",
    "mlock",
    "munlock",
};

#if defined(__SANITIZE_ADDRESS__)
#define CW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CW_ASAN 1
#endif
#endif

#ifdef CW_ASAN
/* LeakSanitizer stops the process's threads with ptrace at exit to look for
 * leaks: an ASan build (tests only) allows what it needs. */
static const char *const asan_extra[] = {"ptrace", "getdents", "wait4", "sched_getaffinity"};
#endif

static int allow(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (nr != __NR_SCMP_ERROR) /* else: not on this architecture */
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	return rc;
}

static int install_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc = 0;

	if (!ctx)
		return -ENOMEM;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!rc)
		rc = allow(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]));
#ifdef CW_ASAN
	if (!rc)
		rc = allow(ctx, asan_extra, sizeof(asan_extra) / sizeof(asan_extra[0]));
#endif
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

int cw_harden(bool may_signal)
{
	int err;

	nkeep = sizeof(keep) / sizeof(keep[0]) - (may_signal ? 0 : 1);
	if (may_signal && !have_cap(CAP_KILL)) {
		cw_warn(
		    "--block: CAP_KILL was not granted: held execs of other users than the "
		    "agent's cannot be killed (the guardian lets them go after the limit); grant "
		    "CAP_KILL");
		nkeep--;
	}
	err = drop_caps();

	if (err) {
		cw_err("cannot drop capabilities: %s", strerror(-err));
		return err;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		err = -errno;
		cw_err("cannot set no_new_privs: %s", strerror(-err));
		return err;
	}
	err = install_seccomp();
	if (err) {
		cw_err("cannot install the seccomp filter: %s", strerror(-err));
		return err;
	}
	cw_debug("hardened: %zu capabilities kept, no_new_privs set, seccomp allowlist of %zu "
	         "syscalls",
	         NKEEP, sizeof(allowed) / sizeof(allowed[0]));
	return 0;
}

const char *cw_harden_caps_text(void)
{
	return "cap_sys_admin,cap_sys_ptrace,cap_dac_read_search,cap_fowner,cap_sys_nice";
}
