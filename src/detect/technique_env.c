/* technique_env.c - where rule evaluation looks things up: the host's
 * namespaces and, under a /proc root (tests point it at a fake), the
 * filesystem of a path, a block device, a vpid's host pid. */
#include "technique.h"
#include "technique_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfload.h"
#include "finding.h"
#include "rulefile.h"
#include "technique.skel.h"
#include "util.h"

#define EMBEDDED_ORIGIN "rules/techniques.json (embedded)"
#define NSFS_MAGIC      0x6e736673u

/* ------------------------------------------------------------------------ */
/* Environment: host namespaces, /proc lookups */

int cw_technique_env_init(struct cw_technique_env *env, const char *proc_root)
{
	if (!env)
		return -EINVAL;
	memset(env, 0, sizeof(*env));
	env->proc_root = proc_root ? proc_root : "/proc";
	for (int t = 0; t < CW_NS_COUNT; t++)
		env->host_ns[t] = cw_proc_ns(env->proc_root, 1, cw_ns_proc_names[t]);
	if (!env->host_ns[CW_NS_MNT] || !env->host_ns[CW_NS_PID]) {
		/* PID 1 unreadable (a sandbox): take our own namespaces as the host's,
		 * as container attribution does. */
		char path[4200];

		env->own_ns_as_host = true;
		for (int t = 0; t < CW_NS_COUNT; t++) {
			snprintf(path, sizeof(path), "%s/self/ns/%s", env->proc_root,
			         cw_ns_proc_names[t]);
			env->host_ns[t] = cw_ns_inode(path);
		}
	}
	if (!env->host_ns[CW_NS_MNT] || !env->host_ns[CW_NS_PID]) {
		cw_err("cannot read the host's namespaces from %s/1/ns: run as root in the host's "
		       "pid namespace",
		       env->proc_root);
		return -ENOENT;
	}
	return 0;
}

/* A live process to look through: the caller itself if it is still in the
 * same mount namespace, else any process of that namespace (the container's
 * init), since short-lived callers are often gone by the time a record is read.
 * Returns 0 when there is none. */
struct ns_match {
	const struct cw_technique_env *env;
	uint32_t ns;
	long vpid;
};

static int in_mntns(void *ctx, int pid)
{
	const struct ns_match *m = ctx;

	return cw_proc_ns(m->env->proc_root, pid, "mnt") == m->ns ? pid : 0;
}

static uint32_t view_pid(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns)
{
	struct ns_match m = {.env = env, .ns = mntns};
	int pid;

	if (!mntns || cw_proc_ns(env->proc_root, (int)tgid, "mnt") == mntns)
		return tgid;
	pid = cw_proc_walk(env->proc_root, in_mntns, &m);
	return pid > 0 ? (uint32_t)pid : 0;
}

/* A path as the process sees it, reached from here: absolute paths through
 * /proc/PID/root, relative ones through its cwd or the dirfd (only while the
 * caller lives). Returns -ENOENT when there is no way to reach it. */
static int proc_path(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns, long dirfd,
                     const char *p, char *out, size_t outsz)
{
	uint32_t pid = view_pid(env, tgid, mntns);

	if (!pid || (p[0] != '/' && pid != tgid))
		return -ENOENT;
	if (p[0] == '/')
		snprintf(out, outsz, "%s/%u/root%s", env->proc_root, pid, p);
	else if (dirfd == -100 /* AT_FDCWD */)
		snprintf(out, outsz, "%s/%u/cwd/%s", env->proc_root, pid, p);
	else
		snprintf(out, outsz, "%s/%u/fd/%ld/%s", env->proc_root, pid, dirfd, p);
	return 0;
}

/* Filesystem magic of a path the process named, or of its directory when the
 * path does not exist. Returns 0 when neither can be learned. */
uint32_t tq_path_fs(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns, long dirfd,
                    const char *p, bool parent)
{
	char full[4200], *slash;
	struct statfs sf;

	if (!*p || proc_path(env, tgid, mntns, dirfd, p, full, sizeof(full)))
		return 0;
	if (!parent && statfs(full, &sf) == 0)
		return (uint32_t)sf.f_type;
	slash = strrchr(full, '/');
	if (!slash)
		return 0;
	*slash = 0;
	if (statfs(full, &sf) == 0)
		return (uint32_t)sf.f_type;
	return 0;
}

bool tq_path_is_block(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns, long dirfd,
                      const char *p)
{
	char full[4200];
	struct stat st;

	if (proc_path(env, tgid, mntns, dirfd, p, full, sizeof(full)))
		return false;
	return stat(full, &st) == 0 && S_ISBLK(st.st_mode);
}

/* Host disk-like device names, for when the node cannot be stat'ed. */
bool tq_looks_like_disk(const char *src)
{
	static const char *const pre[] = {"/dev/sd",      "/dev/vd",   "/dev/xvd",    "/dev/hd",
	                                  "/dev/nvme",    "/dev/dm-",  "/dev/mmcblk", "/dev/md",
	                                  "/dev/mapper/", "/dev/loop", "UUID=",       "LABEL=",
	                                  "PARTUUID=",    NULL};

	for (size_t i = 0; pre[i]; i++)
		if (!strncmp(src, pre[i], strlen(pre[i])))
			return true;
	return false;
}

/* Host pid of a pid as seen in the caller's pid namespace, or 0. */
/* pid is in the caller's pid namespace with the vpid there: returns pid. */
static int has_vpid(void *ctx, int pid)
{
	const struct ns_match *m = ctx;
	char path[4200], line[512];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/ns/pid", m->env->proc_root, pid);
	if (cw_ns_inode(path) != m->ns)
		return 0;
	snprintf(path, sizeof(path), "%s/%d/status", m->env->proc_root, pid);
	if (!(f = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *last;

		if (strncmp(line, "NSpid:", 6))
			continue;
		line[strcspn(line, "\n")] = 0;
		last = strrchr(line, '\t');
		if (!last)
			last = strrchr(line, ' ');
		if (last && strtol(last + 1, NULL, 10) == m->vpid)
			found = pid;
		break;
	}
	(void)fclose(f);
	return found;
}

int tq_resolve_vpid(const struct cw_technique_env *env, uint32_t caller_pidns, long vpid)
{
	struct ns_match m = {.env = env, .ns = caller_pidns, .vpid = vpid};
	int pid;

	if (vpid <= 0 || vpid > 0x7fffffff)
		return 0;
	if (caller_pidns && caller_pidns == env->host_ns[CW_NS_PID])
		return (int)vpid;
	pid = cw_proc_walk(env->proc_root, has_vpid, &m);
	return pid > 0 ? pid : 0;
}
