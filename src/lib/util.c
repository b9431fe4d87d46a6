/* util.c - logging, bounded strings, clocks and file reads shared by every stage. */
#include "util.h"

#include "termsafe.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static enum cw_log_level log_level = CW_LOG_INFO;

void cw_log_set_level(enum cw_log_level lvl)
{
	log_level = lvl;
}

enum cw_log_level cw_log_get_level(void)
{
	return log_level;
}

static bool log_json;
static bool log_journal; /* stderr is systemd's journal stream: "<N>" priorities */

void cw_log_detect_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	              (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void cw_log_set_json(bool json)
{
	log_json = json;
}

/* {"time": ..., "level": ..., "pid": ..., "msg": ...} for log shippers; text
 * is already terminal-safe (no control bytes): quote and backslash escaped. */
static void log_json_line(const char *level, const char *text)
{
	char t[40], *out = malloc(strlen(text) * 2 + 1), *o = out;

	if (!out)
		return;
	for (const char *p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			*o++ = '\\';
		*o++ = (unsigned char)*p < 0x20 ? ' ' : *p;
	}
	*o = '\0';
	fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"pid\":%d,\"msg\":\"%s\"}\n",
	        cw_rfc3339(cw_now_ns(), t, sizeof(t)), level, (int)getpid(), out);
	free(out);
}

/* One write per message so lines from threads don't interleave. */
static void log_line(enum cw_log_level lvl, const char *text)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};

	static const char *const prio[] = {"<3>", "<4>", "<6>", "<7>"}; /* syslog levels */

	if (log_json)
		log_json_line(names[lvl], text);
	else if (log_journal)
		fprintf(stderr, "%s%s: %s\n", prio[lvl], names[lvl], text);
	else
		fprintf(stderr, "cagewatch: %s: %s\n", names[lvl], text);
}

/* Messages carry container-chosen text (paths, names): rendered terminal-safe
 * on one line (a newline in a path cannot forge a log line). */
void cw_log(enum cw_log_level lvl, const char *fmt, ...)
{
	char buf[8192], *e;
	va_list ap;
	int n;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = (int)strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	e = cw_term_escape(buf, false);
	log_line(lvl, e ? e : buf);
	free(e);
}

void cw_log_trusted(enum cw_log_level lvl, const char *text)
{
	if (lvl <= log_level)
		log_line(lvl, text);
}

void cw_appendf(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (!n || *used >= n - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *used, n - *used, fmt, ap);
	va_end(ap);
	if (w >= 0)
		*used = (size_t)w >= n - *used ? n - 1 : *used + (size_t)w;
}

size_t cw_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t len = strlen(src);

	if (dstsz) {
		size_t n = len < dstsz - 1 ? len : dstsz - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

char *cw_rfc3339(int64_t unix_ns, char *buf, size_t bufsz)
{
	time_t secs = (time_t)(unix_ns / 1000000000);
	int ms = (int)((unix_ns % 1000000000) / 1000000);
	struct tm tm;

	if (unix_ns < 0) {
		secs = 0;
		ms = 0;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	return buf;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t cw_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t cw_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t cw_mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t cw_boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t cw_fork_count(void)
{
	char *text = NULL, *p;
	size_t len = 0;
	uint64_t n = 0;

	if (cw_read_file("/proc/stat", 1 << 20, &text, &len) != 0 || !text)
		return 0;
	p = strstr(text, "\nprocesses ");
	if (p)
		n = strtoull(p + 11, NULL, 10);
	free(text);
	return n;
}

int64_t cw_boot_to_unix_offset_ns(void)
{
	/* Bracket the boot-time read with two realtime reads to halve the error. */
	int64_t r1 = clock_ns(CLOCK_REALTIME);
	int64_t b = clock_ns(CLOCK_BOOTTIME);
	int64_t r2 = clock_ns(CLOCK_REALTIME);

	return r1 + (r2 - r1) / 2 - b;
}

int cw_read_file(const char *path, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd, err = 0;

	struct stat st;

	/* A FIFO or a device given as a file must not hang or be read: refuse
	 * anything but a regular file (procfs and sysfs files are regular). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -CW_ENOTREG;
		close(fd);
		return err;
	}
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap >= max) {
				err = -EFBIG;
				break;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

const char *cw_basename(const char *s)
{
	const char *p = strrchr(s, '/');

	return p ? p + 1 : s;
}

void cw_unescape_mountinfo(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

const char *const cw_ns_proc_names[CW_NS_COUNT] = {"mnt", "pid", "net",    "user",
                                                   "uts", "ipc", "cgroup", "time"};

uint32_t cw_ns_inode(const char *path)
{
	char buf[64], *lb;
	struct stat st;
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n > 0) {
		buf[n] = 0;
		lb = strchr(buf, '[');
		return lb ? (uint32_t)strtoul(lb + 1, NULL, 10) : 0;
	}
	return stat(path, &st) == 0 ? (uint32_t)st.st_ino : 0;
}

uint32_t cw_proc_ns(const char *proc_root, int pid, const char *type)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%d/ns/%s", proc_root, pid, type);
	return cw_ns_inode(path);
}

const char *cw_strerror(int err)
{
	if (err == -CW_ENOTREG || err == CW_ENOTREG)
		return "not a regular file (FIFOs, devices and sockets are refused)";
	return strerror(err < 0 ? -err : err);
}

FILE *cw_fopen_mode(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fchmod(fd, mode) != 0 || !(f = fdopen(fd, "w"))) {
		int e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	return f;
}

/* n decimal digits at *p into *out, advancing *p. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int expect_char(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return -EINVAL;
	(*p)++;
	return 0;
}

/* ".123456789" (any number of digits, nanoseconds kept) at *p, if there. */
static int fraction_ns(const char **p, int64_t *ns)
{
	int64_t scale = 100000000;

	*ns = 0;
	if (**p != '.')
		return 0;
	(*p)++;
	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	for (; isdigit((unsigned char)**p); (*p)++, scale /= 10)
		*ns += (**p - '0') * scale;
	return 0;
}

/* "Z" or "+hh:mm"/"-hh:mm" at *p, as seconds east of UTC. */
static int zone_offset(const char **p, int64_t *off_s)
{
	int oh, om, sign;

	*off_s = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return 0;
	}
	if (**p != '+' && **p != '-')
		return -EINVAL;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (digits(p, 2, &oh) || expect_char(p, ":") || digits(p, 2, &om) || oh > 23 || om > 59)
		return -EINVAL;
	*off_s = (int64_t)sign * (oh * 3600 + om * 60);
	return 0;
}

/* The time as Unix seconds and the fraction in ns. 0 or -EINVAL. */
static int parse_rfc3339(const char *s, int64_t *sec_out, int64_t *frac)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec;
	int64_t off;
	const char *p = s;
	struct tm tm = {0};

	if (!s || digits(&p, 4, &y) || expect_char(&p, "-") || digits(&p, 2, &mo) ||
	    expect_char(&p, "-") || digits(&p, 2, &d) || expect_char(&p, "Tt ") ||
	    digits(&p, 2, &h) || expect_char(&p, ":") || digits(&p, 2, &mi) ||
	    expect_char(&p, ":") || digits(&p, 2, &sec) || fraction_ns(&p, frac) ||
	    zone_offset(&p, &off))
		return -EINVAL;
	if (*p || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*sec_out = (int64_t)timegm(&tm) - off; /* years 0000-9999: no overflow */
	return 0;
}

int cw_parse_rfc3339_ns(const char *s, int64_t *out_ns)
{
	int64_t sec, frac;

	if (parse_rfc3339(s, &sec, &frac))
		return -EINVAL;
	/* ns since 1970 fit int64 for 1677-09-21 .. 2262-04-11 only */
	if (sec > INT64_MAX / 1000000000 - 1 || sec < INT64_MIN / 1000000000 + 1)
		return -ERANGE;
	*out_ns = sec * 1000000000 + frac;
	return 0;
}

int cw_parse_rfc3339_ms(const char *s, int64_t *out_ms)
{
	int64_t sec, frac;

	if (parse_rfc3339(s, &sec, &frac))
		return -EINVAL;
	*out_ms = sec * 1000 + frac / 1000000;
	return 0;
}

uint64_t cw_fnv1a64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= CW_FNV64_PRIME;
	}
	return h;
}

uint32_t cw_fnv1a32_str(const char *s)
{
	uint32_t h = CW_FNV32_INIT;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= CW_FNV32_PRIME;
	}
	return h;
}

int cw_proc_walk(const char *proc_root, int (*fn)(void *ctx, int pid), void *ctx)
{
	struct dirent *d;
	DIR *dir = opendir(proc_root ? proc_root : "/proc");
	int rc = 0;

	if (!dir)
		return -errno;
	while (!rc && (d = readdir(dir))) {
		char *end;
		long pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		errno = 0;
		pid = strtol(d->d_name, &end, 10);
		if (errno || *end || pid <= 0 || pid > INT_MAX)
			continue; /* not a process directory */
		rc = fn(ctx, (int)pid);
	}
	closedir(dir);
	return rc;
}

int cw_usage_hint(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "cagewatch %s: %s (see `cagewatch %s --help`)\n", cmd, msg, cmd);
	return CW_EXIT_ERROR;
}

int cw_proc_stat_start(const char *proc_root, int pid, uint64_t *start, char *comm, size_t csz)
{
	char path[PATH_MAX], *buf = NULL, *open_, *close_, *p;
	int field = 2, err;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	if ((err = cw_read_file(path, 8192, &buf, NULL)) || !buf)
		return err ? err : -EIO;
	open_ = strchr(buf, '(');
	close_ = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (!open_ || !close_ || close_ < open_) {
		free(buf);
		return -EBADMSG;
	}
	if (comm && csz)
		snprintf(comm, csz, "%.*s", (int)(close_ - open_ - 1), open_ + 1);
	for (p = close_ + 1; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	err = field == 22 ? 0 : -EBADMSG;
	if (!err)
		*start = strtoull(p, NULL, 10);
	free(buf);
	return err;
}

/* scheme://user:password@host/...?password=P#options -> scheme://host/...
 * ?password=...#...: what logs, stats and the store's position key show
 * (credentials never; rotating one keeps the sink's position). */
void cw_url_redact(const char *url, char *out, size_t n)
{
	const char *auth = strstr(url, "://"), *at = NULL, *slash;
	char tmp[1024], *pw;

	cw_strlcpy(out, url, n);
	if (auth) {
		auth += 3;
		slash = strchr(auth, '/');
		at = strchr(auth, '@');
		if (at && (!slash || at < slash) && (size_t)(auth - url) < n)
			snprintf(out + (auth - url), n - (size_t)(auth - url), "%s", at + 1);
	}
	if (strchr(out, '#')) /* options may hold secrets (headers) */
		strcpy(strchr(out, '#'), "#...");
	if ((pw = strstr(out, "password=")) != NULL) { /* nats://...&password=P */
		*pw = '\0';
		snprintf(tmp, sizeof(tmp), "%spassword=...%s", out, pw + 9 + strcspn(pw + 9, "&#"));
		cw_strlcpy(out, tmp, n);
	}
}
