/* util.h - small helpers every stage uses: logging to stderr, bounded string
 * copies, wall-clock conversions and whole-file reads. Errors are negative errno.
 */
#ifndef CW_UTIL_H
#define CW_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum cw_log_level { CW_LOG_ERROR = 0, CW_LOG_WARN = 1, CW_LOG_INFO = 2, CW_LOG_DEBUG = 3 };

/* Messages go to stderr prefixed with "cagewatch: "; stdout is for findings only.
 * Control bytes, C1 and bidi characters in a message are escaped (termsafe.h). */
void cw_log_set_level(enum cw_log_level lvl);
/* Under systemd (JOURNAL_STREAM names stderr) lines carry "<N>" syslog
 * priorities for the journal instead of the "cagewatch: " prefix. */
void cw_log_detect_journal(void);
enum cw_log_level cw_log_get_level(void);
void cw_log(enum cw_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Multi-line text that no container chose (libbpf's and the verifier's logs),
 * printed as is. */
void cw_log_trusted(enum cw_log_level lvl, const char *text);
#define cw_err(...)   cw_log(CW_LOG_ERROR, __VA_ARGS__)
#define cw_warn(...)  cw_log(CW_LOG_WARN, __VA_ARGS__)
#define cw_info(...)  cw_log(CW_LOG_INFO, __VA_ARGS__)
#define cw_debug(...) cw_log(CW_LOG_DEBUG, __VA_ARGS__)

/* Copy at most dstsz-1 bytes and always terminate; returns strlen(src). */
size_t cw_strlcpy(char *dst, const char *src, size_t dstsz);
/* Append printf-style text to buf (size n) at *used, never past its end; a
 * truncated append leaves *used at n - 1, so later appends add nothing. For
 * lists built up a piece at a time ("a, b, c"). */
void cw_appendf(char *buf, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Undo /proc/PID/mountinfo's escapes (\ooo for space, tab, newline, backslash)
 * in place. */
void cw_unescape_mountinfo(char *s);

/* A namespace's inode from its /proc link: "type:[N]" when path is a link,
 * else the inode of whatever file is there (fake proc roots in tests); 0 when
 * unreadable. */
/* Namespace types, index into host-namespace arrays. */
enum cw_ns_type {
	CW_NS_MNT = 0,
	CW_NS_PID,
	CW_NS_NET,
	CW_NS_USER,
	CW_NS_UTS,
	CW_NS_IPC,
	CW_NS_CGROUP,
	CW_NS_TIME,
	CW_NS_COUNT
};
/* The /proc/PID/ns/ names of enum cw_ns_type, in its order. */
extern const char *const cw_ns_proc_names[CW_NS_COUNT];

uint32_t cw_ns_inode(const char *path);
/* From <proc_root>/<pid>/stat: the start time (field 22, clock ticks since
 * boot) and, when comm is given, the name (which may hold spaces and
 * parentheses; truncated to csz). 0, or -errno / -EBADMSG. */
int cw_proc_stat_start(const char *proc_root, int pid, uint64_t *start, char *comm, size_t csz);
/* cw_ns_inode of <proc_root>/<pid>/ns/<type>. */
uint32_t cw_proc_ns(const char *proc_root, int pid, const char *type);

/* Format nanoseconds since the Unix epoch as RFC 3339 UTC with milliseconds
 * ("2026-11-29T07:00:05.123Z"). buf needs 32 bytes. Returns buf. */
char *cw_rfc3339(int64_t unix_ns, char *buf, size_t bufsz);

/* Wall-clock nanoseconds now. */
int64_t cw_now_ns(void);
/* CLOCK_MONOTONIC in ns and ms; CLOCK_BOOTTIME in ns (what BPF stamps use). */
int64_t cw_mono_ns(void);
int64_t cw_mono_ms(void);
int64_t cw_boot_ns(void);
/* The kernel's count of processes created since boot (/proc/stat
 * "processes"), 0 if unreadable. */
uint64_t cw_fork_count(void);
/* RFC 3339 ("2026-01-02T03:04:05.123456789Z", "...+02:00") to Unix time in
 * ns or ms (the fraction truncated). 0 or -EINVAL; the one parser for every
 * time a runtime or a user writes. */
int cw_parse_rfc3339_ns(const char *s, int64_t *out_ns);
int cw_parse_rfc3339_ms(const char *s, int64_t *out_ms);

/* FNV-1a, the one non-cryptographic hash: 64-bit over bytes (start from
 * CW_FNV64_INIT, chain by passing the last result), 32-bit over a string
 * (the technique sensor's kernel side hashes basenames the same way). */
#define CW_FNV64_INIT  0xcbf29ce484222325ULL
#define CW_FNV64_PRIME 0x100000001b3ULL
#define CW_FNV32_INIT  2166136261u
#define CW_FNV32_PRIME 16777619u
uint64_t cw_fnv1a64(uint64_t h, const void *p, size_t n);

/* Call fn for every process directory under proc_root (NULL: /proc), names
 * parsed strictly; fn returns non-zero to stop. Returns what fn returned last,
 * 0 after all, or -errno when the directory cannot be listed. */
int cw_proc_walk(const char *proc_root, int (*fn)(void *ctx, int pid), void *ctx);

/* Exit statuses, the same for every command (main.c, run, stats, trace,
 * scan, findings): */
enum cw_exit {
	CW_EXIT_OK = 0,
	/* the command's documented "other" answer: scan found something,
	 * findings found no such finding, run stopped on a failure after it
	 * had started watching */
	CW_EXIT_RESULT = 1,
	CW_EXIT_ERROR = 2,    /* usage or environment error: nothing was done */
	CW_EXIT_DEGRADED = 3, /* doctor: the agent runs, an optional feature is missing */
};
uint32_t cw_fnv1a32_str(const char *s);

/* Offset to add to bpf_ktime_get_boot_ns() to get Unix-epoch ns. */
int64_t cw_boot_to_unix_offset_ns(void);

/* "Not a regular file": a FIFO, device or socket where a file was expected. */
#define CW_ENOTREG EBADFD
/* strerror with cagewatch's own meanings (-CW_ENOTREG). Takes -errno or errno. */
const char *cw_strerror(int err);

/* Read a whole regular file (up to max bytes) into a NUL-terminated malloc'd
 * buffer; opened non-blocking, so a FIFO never hangs the reader. Returns 0 and
 * sets *out and *len, or a negative errno (-CW_ENOTREG for a FIFO, device or
 * socket, -EISDIR for a directory). */
int cw_read_file(const char *path, size_t max, char **out, size_t *len);

/* Create or truncate path for writing with exactly mode (the umask does not
 * widen or narrow it; a symlink is refused). NULL with errno on failure. */
FILE *cw_fopen_mode(const char *path, mode_t mode);

/* Bad usage of `cagewatch CMD`: one line on stderr, what is wrong and where
 * the options are ("cagewatch run: unknown option '--x' (see `cagewatch run
 * --help`)"). Returns CW_EXIT_ERROR, the exit status of bad usage. */
/* Log lines as JSON objects (--log-format json) instead of text. */
void cw_log_set_json(bool json);

int cw_usage_hint(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* basename without modifying the input: pointer into s after the last '/'. */
const char *cw_basename(const char *s);

/* url without credentials or #options (scheme://user:pw@host/..?password=P#o
 * -> scheme://host/..?password=...#...): what logs, stats and keys show. */
void cw_url_redact(const char *url, char *out, size_t n);

#endif
