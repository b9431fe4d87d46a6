/* exec.c - decodes the kernel's variable-length exec record (see event.h) into a
 * struct cw_exec: joins the leaf-first path components, splits argv. Also builds
 * the same view of a live process from /proc, for execs the kernel never ran
 * (refused by --block). */
#include "exec.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Join the NUL-terminated components stored leaf first in src[0..len) into
 * "/a/b/c". Returns 0 or -EINVAL. */
static int join_reversed(const char *src, size_t len, char *dst, size_t dstsz)
{
	const char *comp[CW_PATH_DEPTH + 1];
	size_t off = 0, o = 0;
	unsigned n = 0;

	while (off < len) {
		size_t l = strnlen(src + off, len - off);

		if (off + l >= len)
			return -EINVAL; /* unterminated */
		if (n >= CW_PATH_DEPTH + 1)
			return -EINVAL;
		comp[n++] = src + off;
		off += l + 1;
	}
	if (n == 0) {
		if (dstsz < 2)
			return -EINVAL;
		dst[0] = '/';
		dst[1] = '\0';
		return 0;
	}
	for (unsigned i = n; i-- > 0;) {
		size_t l = strlen(comp[i]);

		if (o + 1 + l + 1 > dstsz)
			return -EINVAL;
		dst[o++] = '/';
		memcpy(dst + o, comp[i], l);
		o += l;
	}
	dst[o] = '\0';
	return 0;
}

/* A path whose top directories the kernel walk could not reach must not look
 * absolute: "/a/b/x" becomes "\u2026/a/b/x" (the known part stays searchable).
 * The cut happens at the end when there is no room. */
static void mark_truncated(char *path, size_t size)
{
	static const char mark[] = CW_PATH_TRUNC_MARK;
	size_t m = sizeof(mark) - 1, l = strlen(path);

	if (size <= m + 1)
		return;
	if (l + m + 1 > size)
		l = size - m - 1;
	memmove(path + m, path, l);
	memcpy(path, mark, m);
	path[l + m] = '\0';
}

/* Split len bytes of NUL-separated strings, copied into buf (len + 1 bytes),
 * into vec (at most max, NULL-terminated). Returns the count. */
static int split_strings(const char *src, size_t len, char *buf, char **vec, int max)
{
	int n = 0;

	memcpy(buf, src, len);
	buf[len] = '\0';
	for (size_t i = 0; i < len && n < max;) {
		size_t l = strnlen(buf + i, len - i);

		vec[n++] = buf + i;
		i += l + 1;
	}
	vec[n] = NULL;
	return n;
}

/* The env section (CW_F_ENV): whole NAME=value strings only. A section that
 * starts inside the environment (CW_F_ENV_MID) loses its first, cut string;
 * one cut at CW_ENV_MAX loses its last. */
static void decode_env(const struct cw_event *ev, const char *src, struct cw_exec *out)
{
	size_t len = ev->env_len, skip = 0;

	out->envc = 0;
	out->envp[0] = NULL;
	if (!(ev->flags & CW_F_ENV) || !len)
		return;
	if (ev->flags & CW_F_ENV_MID) {
		skip = strnlen(src, len);
		skip = skip < len ? skip + 1 : len;
	}
	if (ev->flags & CW_F_ENV_TRUNC)
		while (len > skip && src[len - 1] != '\0')
			len--;
	out->envc = split_strings(src + skip, len - skip, out->envbuf, out->envp, CW_MAX_ENV);
}

int cw_exec_decode(const void *data, size_t len, struct cw_exec *out)
{
	const struct cw_event *ev = data;
	size_t off, need;
	int err;

	if (len < offsetof(struct cw_event, data) || ev->type != CW_EV_EXEC)
		return -EINVAL;
	need = (size_t)ev->path_len + ev->cgroup_len + ev->fname_len + ev->argv_len +
	       (ev->flags & CW_F_ENV ? ev->env_len : 0);
	if (ev->path_len > CW_PATH_MAX || ev->cgroup_len > CW_CGROUP_MAX ||
	    ev->fname_len > CW_FNAME_MAX || ev->argv_len > CW_ARGV_MAX ||
	    ((ev->flags & CW_F_ENV) && ev->env_len > CW_ENV_MAX) ||
	    offsetof(struct cw_event, data) + need > len)
		return -EINVAL;

	out->ev = ev;
	off = 0;
	err = join_reversed(ev->data, ev->path_len, out->path, sizeof(out->path));
	if (err)
		return err;
	if (ev->flags & CW_F_PATH_TRUNC)
		mark_truncated(out->path, sizeof(out->path));
	off += ev->path_len;
	err = join_reversed(ev->data + off, ev->cgroup_len, out->cgroup, sizeof(out->cgroup));
	if (err)
		return err;
	off += ev->cgroup_len;
	memcpy(out->filename, ev->data + off, ev->fname_len);
	out->filename[ev->fname_len] = '\0';
	off += ev->fname_len;

	out->argc =
	    split_strings(ev->data + off, ev->argv_len, out->argbuf, out->argv, CW_MAX_ARGS);
	off += ev->argv_len;
	decode_env(ev, ev->data + off, out);
	out->argv_truncated = (ev->flags & CW_F_ARGV_TRUNC) || out->argc == CW_MAX_ARGS;
	return 0;
}

void cw_exec_copy(struct cw_exec *dst, const struct cw_exec *src, const struct cw_event *ev)
{
	*dst = *src;
	dst->ev = ev;
	for (int i = 0; i < src->argc; i++)
		dst->argv[i] = dst->argbuf + (src->argv[i] - src->argbuf);
	for (int i = 0; i < src->envc; i++)
		dst->envp[i] = dst->envbuf + (src->envp[i] - src->envbuf);
}

/* comm and ppid from /proc/PID/stat. 0 or -errno. */
static int proc_stat(const char *proc_root, int pid, struct cw_event *ev)
{
	char path[PATH_MAX], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f)) {
		/* "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses */
		char *open = strchr(line, '('), *close = strrchr(line, ')');
		unsigned ppid;

		if (open && close > open) {
			size_t n = (size_t)(close - open - 1);

			if (n >= sizeof(ev->comm))
				n = sizeof(ev->comm) - 1;
			memcpy(ev->comm, open + 1, n);
			if (sscanf(close + 1, " %*c %u", &ppid) == 1)
				ev->ppid = ppid;
		}
	}
	(void)fclose(f);
	return 0;
}

/* ids, capabilities, seccomp mode and no_new_privs from /proc/PID/status.
 * 0 or -errno. */
static int proc_ids(const char *proc_root, int pid, struct cw_event *ev)
{
	char path[PATH_MAX], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/status", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned v, e;
		unsigned long long c;

		if (sscanf(line, "Uid: %u %u", &v, &e) == 2)
			ev->uid = v, ev->euid = e;
		else if (sscanf(line, "Gid: %u %u", &v, &e) == 2)
			ev->gid = v, ev->egid = e;
		else if (sscanf(line, "CapEff: %llx", &c) == 1)
			ev->cap_effective = c;
		else if (sscanf(line, "CapPrm: %llx", &c) == 1)
			ev->cap_permitted = c;
		else if (sscanf(line, "CapBnd: %llx", &c) == 1)
			ev->cap_bounding = c;
		else if (sscanf(line, "Seccomp: %u", &v) == 1)
			ev->seccomp_mode = (uint8_t)v;
		else if (sscanf(line, "NoNewPrivs: %u", &v) == 1)
			ev->no_new_privs = (uint8_t) !!v;
	}
	(void)fclose(f);
	return 0;
}

/* As the kernel side does: the cgroup2 path when the process is below the
 * cgroup2 root, else the v1 memory hierarchy's. 0 or -errno. */
static int proc_cgroup(const char *proc_root, int pid, struct cw_event *ev, struct cw_exec *ex)
{
	char path[PATH_MAX], line[4096], v1_memory[CW_CGROUP_MAX + 2] = "";
	bool have_v2 = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		c2[strcspn(c2, "\n")] = 0;
		if (!strncmp(line, "0::", 3) && strcmp(c2 + 1, "/") != 0) {
			cw_strlcpy(ex->cgroup, c2 + 1, sizeof(ex->cgroup));
			have_v2 = true;
		} else if (!strncmp(c1 + 1, "memory:", 7) || strstr(c1, ",memory:")) {
			cw_strlcpy(v1_memory, c2 + 1, sizeof(v1_memory));
		}
	}
	(void)fclose(f);
	if (!have_v2 && v1_memory[0]) {
		cw_strlcpy(ex->cgroup, v1_memory, sizeof(ex->cgroup));
		ev->flags |= CW_F_CGROUP_V1;
	}
	if (!ex->cgroup[0])
		cw_strlcpy(ex->cgroup, "/", sizeof(ex->cgroup));
	return 0;
}

int cw_exec_creds_from_proc(const char *proc_root, int pid, struct cw_event *ev)
{
	struct cw_event tmp;
	int err;

	memset(&tmp, 0, offsetof(struct cw_event, data));
	err = proc_ids(proc_root ? proc_root : "/proc", pid, &tmp);
	if (err)
		return err;
	ev->cap_effective = tmp.cap_effective;
	ev->cap_permitted = tmp.cap_permitted;
	ev->cap_bounding = tmp.cap_bounding;
	ev->euid = tmp.euid;
	ev->egid = tmp.egid;
	ev->seccomp_mode = tmp.seccomp_mode;
	ev->no_new_privs = tmp.no_new_privs;
	ev->flags |= CW_F_CREDS | CW_F_CREDS_LATE;
	return 0;
}

int cw_exec_from_proc(const char *proc_root, int pid, struct cw_event *ev, struct cw_exec *ex)
{
	int err;

	if (!proc_root)
		proc_root = "/proc";
	memset(ev, 0, offsetof(struct cw_event, data));
	memset(ex, 0, sizeof(*ex));
	ev->type = CW_EV_EXEC;
	ex->ev = ev;
	ev->pid = ev->tgid = (uint32_t)pid;
	if ((err = proc_stat(proc_root, pid, ev)) || (err = proc_ids(proc_root, pid, ev)))
		return err;
	ev->flags |= CW_F_CREDS;
	ev->pidns = cw_proc_ns(proc_root, pid, "pid");
	ev->mntns = cw_proc_ns(proc_root, pid, "mnt");
	ev->netns = cw_proc_ns(proc_root, pid, "net");
	ev->ipcns = cw_proc_ns(proc_root, pid, "ipc");
	ev->utsns = cw_proc_ns(proc_root, pid, "uts");
	ev->userns = cw_proc_ns(proc_root, pid, "user");
	ev->cgroupns = cw_proc_ns(proc_root, pid, "cgroup");
	if ((err = proc_cgroup(proc_root, pid, ev, ex)))
		return err;
	ex->time_ns = (int64_t)cw_now_ns();
	ex->argv[0] = NULL;
	return 0;
}
