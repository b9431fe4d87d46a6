/* enforce.c - blocking before the first instruction (see enforce.h).
 *
 * Marks. fanotify mount marks (FAN_MARK_MOUNT) cover one mount each, so every
 * mount listed in a container's /proc/PID/mountinfo is marked, except pseudo
 * filesystems nothing is executed from. Each mount point is opened with
 * openat2(RESOLVE_IN_ROOT) below the container's root (/proc/PID/root), so a
 * symlink planted in the container cannot steer a mark onto a host mount, and
 * the mark is put on that descriptor. A namespace is remarked when its
 * mountinfo changes (new mounts); marks go away with the mounts themselves.
 *
 * Verdicts. The file of each FAN_OPEN_EXEC_PERM event is looked up in the
 * content cache by identity (dev, inode, size, times), scanned on a miss, and
 * refused only on a content or hash match. The answer is written before the
 * refusal is reported. Errors allow.
 *
 * Known-clean files stop costing anything: a file found clean gets an inode
 * ignore mark for FAN_OPEN_EXEC_PERM, so the kernel lets its later execs go
 * without asking. Writing to the file clears that mark (no
 * FAN_MARK_IGNORED_SURV_MODIFY), so a rewritten file is judged again. Ignore
 * marks pin their inodes: one per distinct clean executable run in a container.
 */
#include "enforce.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "desk.h"
#include "event.h"
#include "util.h"

#define NS_MAX 4096 /* container mount namespaces watched */

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U /* Linux 6.8 */
#endif

/* Mount ids of one namespace's marks, for the hold's marked_mnt map. */
struct mnt_ids {
	uint64_t *id;
	size_t n, cap;
};

struct watched {
	uint32_t mntns;
	uint64_t mountinfo_hash; /* of the mountinfo last marked */
	bool seen;               /* alive at the last rescan */
	struct mnt_ids ids;      /* in marked_mnt while this namespace is watched */
};

struct cw_enforce {
	int fd;
	struct cw_content *content;
	const char *proc_root;
	uint32_t host_mntns;
	cw_enforce_fn on_block;
	void *ctx;
	int marked_fd;        /* the hold's marked_mnt map, or -1 */
	pthread_mutex_t lock; /* ns[] and stats */
	struct watched *ns;
	size_t nns;
	struct cw_enforce_stats st;
	struct cw_desk *desk; /* shared with the hold's guardian */
};

/* Filesystems nothing is executed from (or that cannot carry a mount mark). */
static bool pseudo_fs(const char *type)
{
	static const char *const skip[] = {"proc",       "sysfs",       "cgroup",    "cgroup2",
	                                   "devpts",     "mqueue",      "debugfs",   "tracefs",
	                                   "securityfs", "bpf",         "pstore",    "configfs",
	                                   "fusectl",    "binfmt_misc", "hugetlbfs", "efivarfs"};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(type, skip[i]))
			return true;
	return false;
}

/* Kernel threads (kdevtmpfs has a mount namespace of its own) are no containers. */
static bool kernel_thread(const char *proc_root, int pid)
{
	char path[PATH_MAX], line[1024], *close;
	unsigned long flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return true; /* gone */
	if (fgets(line, sizeof(line), f) && (close = strrchr(line, ')')))
		(void)sscanf(close + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags);
	(void)fclose(f);
	return flags & 0x00200000; /* PF_KTHREAD */
}

/* The mount's id as the exec program reads it (hold.bpf.h): the unique one
 * where the kernel has it, else the mountinfo id; 0 if unknown. */
static uint64_t mount_id(int fd)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE | STATX_MNT_ID, &sx))
		return 0;
	if (sx.stx_mask & (STATX_MNT_ID_UNIQUE | STATX_MNT_ID))
		return sx.stx_mnt_id;
	return 0;
}

static void ids_add(struct mnt_ids *v, uint64_t id)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 32;
		uint64_t *n = realloc(v->id, cap * sizeof(*n));

		if (!n)
			return; /* its execs are held and judged each time: slower, not wrong */
		v->id = n;
		v->cap = cap;
	}
	v->id[v->n++] = id;
}

static bool ids_has(const struct mnt_ids *v, uint64_t id)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->id[i] == id)
			return true;
	return false;
}

/* Tell the exec program which mounts are marked now: add new's ids, drop
 * those of old that new lacks. Takes new's array into *old. */
static void ids_publish(struct cw_enforce *e, struct mnt_ids *old, struct mnt_ids *new)
{
	uint8_t one = 1;

	if (e->marked_fd >= 0) {
		for (size_t i = 0; i < new->n; i++) {
			struct cw_mnt_key k = {.id = new->id[i]};

			if (bpf_map_update_elem(e->marked_fd, &k, &one, BPF_ANY))
				e->st.mark_errors++;
		}
		for (size_t i = 0; i < old->n; i++) {
			struct cw_mnt_key k = {.id = old->id[i]};

			if (!ids_has(new, old->id[i]))
				(void)bpf_map_delete_elem(e->marked_fd, &k);
		}
	}
	free(old->id);
	*old = *new;
	memset(new, 0, sizeof(*new));
}

/* Mark one mount point (a path inside the root open at rootfd). fanotify
 * takes no O_PATH descriptor: directories are opened for reading, a file
 * bind-mounted on its own is reopened for reading once known to be regular
 * (never a device or a fifo). */
static int mark_one(struct cw_enforce *e, int rootfd, const char *mp, uint64_t *id)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = mp[0] == '/' && mp[1] ? mp + 1 : ".";
	int fd, err = 0;

	fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOTDIR) {
		char self[64];
		struct stat st;
		int pfd;

		how.flags = O_PATH | O_CLOEXEC;
		pfd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
		if (pfd < 0)
			return -errno;
		if (fstat(pfd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(pfd);
			return -ENOTDIR;
		}
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		fd = open(self, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		close(pfd);
	}
	if (fd < 0)
		return -errno;
	if (fanotify_mark(e->fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC_PERM, fd, NULL) != 0)
		err = -errno;
	*id = err ? 0 : mount_id(fd);
	close(fd);
	return err;
}

/* Mark every mount of pid's namespace; *hash gets the mountinfo's hash.
 * Returns marks made or -errno. */
static int mark_mounts(struct cw_enforce *e, int pid, uint64_t *hash, struct mnt_ids *ids)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rootfd, marks = 0, errs = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/mountinfo", e->proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	snprintf(path, sizeof(path), "%s/%d/root", e->proc_root, pid);
	rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		int err = -errno;

		(void)fclose(f);
		return err;
	}
	*hash = CW_FNV64_INIT;
	while ((len = getline(&line, &cap, f)) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char *fields[5], *sep, *save = NULL, *fstype;
		uint64_t id = 0;
		int n = 0, err;

		*hash = cw_fnv1a64(*hash, line, (size_t)len);
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		fstype = strtok_r(sep + 3, " \n", &save);
		*sep = 0;
		save = NULL;
		for (char *t = strtok_r(line, " ", &save); t && n < 5;
		     t = strtok_r(NULL, " ", &save))
			fields[n++] = t;
		if (n < 5 || !fstype || pseudo_fs(fstype))
			continue;
		cw_unescape_mountinfo(fields[4]);
		err = mark_one(e, rootfd, fields[4], &id);
		if (err == 0) {
			marks++;
			if (id)
				ids_add(ids, id);
		} else {
			errs++;
			cw_debug("block: cannot mark %s (%s) in the namespace of pid %d: %s",
			         fields[4], fstype, pid, strerror(-err));
		}
	}
	free(line);
	(void)fclose(f);
	close(rootfd);
	pthread_mutex_lock(&e->lock);
	e->st.marks += (uint64_t)marks;
	e->st.mark_errors += (uint64_t)errs;
	pthread_mutex_unlock(&e->lock);
	return marks;
}

static struct watched *find_ns(struct cw_enforce *e, uint32_t mntns)
{
	for (size_t i = 0; i < e->nns; i++)
		if (e->ns[i].mntns == mntns)
			return &e->ns[i];
	return NULL;
}

/* Mark pid's namespace if it is new or its mounts changed. */
static int watch(struct cw_enforce *e, uint32_t mntns, int pid)
{
	struct mnt_ids ids = {0};
	struct watched *w;
	uint64_t hash = 0;
	int n;

	if (!mntns || mntns == e->host_mntns)
		return 0;
	n = mark_mounts(e, pid, &hash, &ids);
	if (n < 0) {
		free(ids.id);
		return n; /* the process is gone: its namespace is found again by others */
	}
	pthread_mutex_lock(&e->lock);
	w = find_ns(e, mntns);
	if (!w && e->nns < NS_MAX) {
		w = &e->ns[e->nns++];
		memset(w, 0, sizeof(*w));
		w->mntns = mntns;
		e->st.namespaces++;
	}
	if (w) {
		w->mountinfo_hash = hash;
		w->seen = true;
		ids_publish(e, &w->ids, &ids);
	}
	pthread_mutex_unlock(&e->lock);
	free(ids.id);
	return n;
}

/* Hash of pid's mountinfo, 0 if unreadable. */
static uint64_t mountinfo_hash(const struct cw_enforce *e, int pid)
{
	char path[PATH_MAX], buf[8192];
	uint64_t h = CW_FNV64_INIT;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/mountinfo", e->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		h = cw_fnv1a64(h, buf, (size_t)n);
	close(fd);
	return h;
}

int cw_enforce_watch(struct cw_enforce *e, uint32_t mntns, int pid)
{
	struct watched *w;
	bool known;

	if (!e || !mntns || mntns == e->host_mntns)
		return 0;
	pthread_mutex_lock(&e->lock);
	w = find_ns(e, mntns);
	known = w != NULL;
	pthread_mutex_unlock(&e->lock);
	return known ? 0 : watch(e, mntns, pid);
}

int cw_enforce_refresh(struct cw_enforce *e, uint32_t mntns, int pid)
{
	struct watched *w;
	uint64_t have = 0;

	if (!e || !mntns || mntns == e->host_mntns)
		return 0;
	pthread_mutex_lock(&e->lock);
	w = find_ns(e, mntns);
	if (w)
		have = w->mountinfo_hash;
	pthread_mutex_unlock(&e->lock);
	if (w) {
		uint64_t want = mountinfo_hash(e, pid);

		if (!want || want == have)
			return 0;
	}
	return watch(e, mntns, pid);
}

/* One process of the rescan: its mount namespace, watched once per scan and
 * re-marked when its mounts changed. Always 0 (the walk goes on). */
static int rescan_pid(void *ctx, int pid)
{
	struct cw_enforce *e = ctx;
	struct watched *w;
	uint64_t want = 0, have = 0;
	bool seen = false;
	uint32_t ns = cw_proc_ns(e->proc_root, pid, "mnt");

	if (!ns || ns == e->host_mntns || kernel_thread(e->proc_root, pid))
		return 0; /* the stat file only for the few outside the host's namespace */
	pthread_mutex_lock(&e->lock);
	w = find_ns(e, ns);
	if (w) {
		seen = w->seen;
		have = w->mountinfo_hash;
		w->seen = true;
	}
	pthread_mutex_unlock(&e->lock);
	if (seen)
		return 0; /* one process per namespace is enough */
	if (w) {
		want = mountinfo_hash(e, pid);
		if (!want || want == have)
			return 0;
	}
	watch(e, ns, pid);
	return 0;
}

int cw_enforce_rescan(struct cw_enforce *e)
{
	size_t i, live = 0;
	int err;

	pthread_mutex_lock(&e->lock);
	for (i = 0; i < e->nns; i++)
		e->ns[i].seen = false;
	pthread_mutex_unlock(&e->lock);
	if ((err = cw_proc_walk(e->proc_root, rescan_pid, e)) < 0) {
		cw_warn("block: cannot list %s: %s", e->proc_root, strerror(-err));
		return err;
	}
	pthread_mutex_lock(&e->lock);
	for (i = 0; i < e->nns;) {
		if (!e->ns[i].seen) {
			struct mnt_ids none = {0};

			/* gone: its marks went with its mounts; its ids leave the map */
			ids_publish(e, &e->ns[i].ids, &none);
			e->ns[i] = e->ns[--e->nns];
			memset(&e->ns[e->nns], 0, sizeof(e->ns[e->nns])); /* one owner per array */
			continue;
		}
		i++;
	}
	live = e->nns;
	pthread_mutex_unlock(&e->lock);
	return (int)live;
}

/* The file's path as its caller sees it: the descriptor's path with the
 * caller's root stripped (both as this process sees them). */
static void caller_path(const struct cw_enforce *e, int fd, int pid, char *out, size_t cap)
{
	char link[PATH_MAX], root[PATH_MAX], path[PATH_MAX];
	ssize_t n, r;
	size_t rl;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0) {
		cw_strlcpy(out, "?", cap);
		return;
	}
	path[n] = 0;
	snprintf(link, sizeof(link), "%s/%d/root", e->proc_root, pid);
	r = readlink(link, root, sizeof(root) - 1);
	if (r > 1) {
		root[r] = 0;
		rl = (size_t)r;
		if (!strncmp(path, root, rl) && path[rl] == '/') {
			cw_strlcpy(out, path + rl, cap);
			return;
		}
	}
	cw_strlcpy(out, path, cap);
}

/* 1: refuse (b filled), 0: allow (clean), -1: allow for want of a verdict.
 * b comes zeroed; its det is the caller's to clear. */
static int judge(struct cw_enforce *e, int fd, int pid, struct cw_enforce_block *b)
{
	const char *argv[1] = {NULL};
	int v;

	if (cw_file_key_from_fd(fd, &b->key) != 0)
		return -1;
	caller_path(e, fd, pid, b->path, sizeof(b->path));
	v = cw_content_lookup(e->content, &b->key, b->path, argv, 0, &b->bin, &b->det);
	if (v == -ENOENT)
		v = cw_content_check_fd(e->content, fd, b->path, argv, 0, &b->key, &b->bin,
		                        &b->det);
	if (v < 0)
		return -1;
	if (v == 0)
		return 0;
	b->pid = pid;
	b->mntns = cw_proc_ns(e->proc_root, pid, "mnt");
	return 1;
}

/* Judge one question and answer it, unless the guardian answered it first
 * (the verdict took longer than the limit: then it was allowed). */
static void answer_one(struct cw_enforce *e, const struct fanotify_event_metadata *m, int slot)
{
	struct fanotify_response resp;
	struct cw_enforce_block b = {0};
	int verdict;
	bool mine;

	cw_desk_beat(e->desk);
	verdict = (m->mask & FAN_OPEN_EXEC_PERM) ? judge(e, m->fd, (int)m->pid, &b) : 0;
	if (verdict == 0 && fanotify_mark(e->fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK,
	                                  FAN_OPEN_EXEC_PERM, m->fd, NULL) == 0) {
		pthread_mutex_lock(&e->lock);
		e->st.clean_marks++;
		pthread_mutex_unlock(&e->lock);
	}
	mine = cw_desk_mine(e->desk, slot);
	if (mine) {
		resp.fd = m->fd;
		resp.response = verdict == 1 ? FAN_DENY : FAN_ALLOW;
		if (write(e->fd, &resp, sizeof(resp)) != (ssize_t)sizeof(resp))
			cw_err("block: cannot answer the kernel for pid %d: %s", (int)m->pid,
			       strerror(errno));
		cw_desk_done(e->desk, slot);
	} else if (verdict == 1) {
		cw_warn("block: the verdict on pid %d's exec of %s came after --block-timeout: "
		        "it was allowed (reported, not refused)",
		        (int)m->pid, b.path);
	}
	close(m->fd);
	if (mine) { /* else the guardian counted it */
		pthread_mutex_lock(&e->lock);
		if (verdict == 1)
			e->st.denied++;
		else if (verdict == 0)
			e->st.allowed++;
		else
			e->st.undecided++;
		pthread_mutex_unlock(&e->lock);
		if (verdict == 1 && e->on_block)
			e->on_block(e->ctx, &b);
	}
	cw_detection_clear(&b.det);
}

int cw_enforce_handle(struct cw_enforce *e, int timeout_ms)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	struct pollfd pfd = {.fd = e->fd, .events = POLLIN};
	struct fanotify_event_metadata *m;
	int slots[4096 / FAN_EVENT_METADATA_LEN], n = 0, taken, answered = 0, rc, err;
	ssize_t len, left; /* FAN_EVENT_NEXT counts left down */

	cw_desk_beat(e->desk);
	rc = poll(&pfd, 1, timeout_ms);
	if (rc <= 0)
		return rc < 0 && errno != EINTR ? -errno : 0;
	cw_desk_reading(e->desk, true);
	len = read(e->fd, buf, sizeof(buf));
	err = errno;
	left = len;
	for (m = (struct fanotify_event_metadata *)buf; left > 0 && FAN_EVENT_OK(m, left);
	     m = FAN_EVENT_NEXT(m, left))
		slots[n++] = m->fd >= 0 ? cw_desk_take(e->desk, m->fd) : -1;
	cw_desk_reading(e->desk, false);
	if (len < 0)
		return err == EAGAIN || err == EINTR ? 0 : -err;
	taken = n;
	n = 0;
	for (m = (struct fanotify_event_metadata *)buf; n < taken && FAN_EVENT_OK(m, len);
	     m = FAN_EVENT_NEXT(m, len), n++) {
		if (m->vers != FANOTIFY_METADATA_VERSION) {
			cw_err("block: fanotify metadata version %u, expected %u: stopping",
			       m->vers, FANOTIFY_METADATA_VERSION);
			return -EPROTO;
		}
		if (m->fd < 0)
			continue;
		answer_one(e, m, slots[n]);
		answered++;
	}
	return answered;
}

int cw_enforce_open(struct cw_enforce **out, const struct cw_enforce_opts *opts)
{
	struct cw_enforce *e;
	int err;

	*out = NULL;
	if (!opts || !opts->content)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ns = calloc(NS_MAX, sizeof(*e->ns));
	if (!e->ns) {
		free(e);
		return -ENOMEM;
	}
	e->content = opts->content;
	e->proc_root = opts->proc_root ? opts->proc_root : "/proc";
	e->host_mntns = opts->host_mntns;
	e->marked_fd = opts->hold ? opts->marked_mnt_fd : -1;
	e->on_block = opts->on_block;
	e->ctx = opts->ctx;
	pthread_mutex_init(&e->lock, NULL);
	e->fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
	                      O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (e->fd < 0) {
		err = -errno;
		if (err == -EPERM)
			cw_err("block: fanotify_init refused (EPERM): --block needs CAP_SYS_ADMIN");
		else
			cw_err("block: fanotify_init failed: %s: --block needs a kernel with "
			       "CONFIG_FANOTIFY_ACCESS_PERMISSIONS=y",
			       strerror(-err));
		pthread_mutex_destroy(&e->lock);
		free(e->ns);
		free(e);
		return err;
	}
	if ((err = cw_desk_open(&e->desk, e->fd)))
		cw_warn("block: no bound on the kernel's questions (%s): a hung agent stalls "
		        "execs of new files in containers",
		        strerror(-err));
	*out = e;
	return 0;
}

int cw_enforce_set_content(struct cw_enforce *e, struct cw_content *content)
{
	if (!e || !content || content == e->content)
		return 0;
	e->content = content;
	/* files allowed under the old rules are asked about again: the inode
	 * ignore marks go, the mount marks that raise the events stay */
	if (fanotify_mark(e->fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL))
		return -errno;
	return 0;
}

void cw_enforce_close(struct cw_enforce *e)
{
	if (!e)
		return;
	close(e->fd); /* pending permission events are allowed by the kernel (once the
	               * guardian has dropped its reference, too) */
	cw_desk_close(e->desk);
	for (size_t i = 0; i < e->nns; i++)
		free(e->ns[i].ids.id);
	pthread_mutex_destroy(&e->lock);
	free(e->ns);
	free(e);
}

void cw_enforce_get_stats(struct cw_enforce *e, struct cw_enforce_stats *out)
{
	struct cw_desk_stats ds;

	pthread_mutex_lock(&e->lock);
	*out = e->st;
	pthread_mutex_unlock(&e->lock);
	cw_desk_get_stats(e->desk, &ds);
	out->late = ds.late;
	out->stalled = ds.stalled;
	out->unbounded = ds.unbounded;
}

struct cw_desk *cw_enforce_desk(struct cw_enforce *e)
{
	return e ? e->desk : NULL;
}
