/* library.c - a file mapped as code that is not part of the container's image
 * (the library_provenance rules: Added Library Loaded, Added/Modified
 * Malicious Library Loaded). The technique sensor sends each added or
 * modified file version once (lib.bpf.h); the event thread opens it inside
 * the container while the process lives, the worker runs the content layers
 * over it: a match is the malicious finding, otherwise the plain one (off by
 * default, as in GKE).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_int.h"
#include "safeopen.h"
#include "util.h"

bool cw_library_hit(const struct cw_technique_hit *hit)
{
	return hit->ev && hit->ev->sys == CW_TQS_MMAP;
}

/* The mapped file beneath the root of pid (its own, or the container init's
 * once it is gone), if it is still the inode the kernel mapped. -errno when
 * it cannot be opened. */
static int open_library(int pid, const char *path, uint64_t ino)
{
	int root = pid > 0 ? cw_proc_dir(NULL, pid, "root") : -ESRCH, fd;
	struct stat st;

	if (root < 0)
		return root;
	fd = path[0] == '/' ? cw_open_beneath(root, path) : -ENOENT;
	close(root);
	if (fd >= 0 && (fstat(fd, &st) || st.st_ino != ino)) {
		close(fd);
		fd = -ESTALE; /* replaced since */
	}
	return fd;
}

/* A live process in mount namespace mntns (its files are the container's),
 * 0 if none: the library's process and the container's init may both be gone
 * (a `docker exec` that exits at once, a runtime whose state the agent does
 * not read) while the container still runs. Walks /proc: the last resort. */
static int pid_in_mntns(uint32_t mntns)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int pid = 0;

	if (!d || !mntns) {
		if (d)
			closedir(d);
		return 0;
	}
	while (!pid && (de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]) &&
		    cw_proc_ns("/proc", atoi(de->d_name), "mnt") == mntns)
			pid = atoi(de->d_name);
	closedir(d);
	return pid;
}

void cw_library_take(struct cw_report *r, const struct cw_technique_hit *hit)
{
	r->library = true;
	r->prov = cw_technique_lib_prov(hit->ev->flags, &r->prov_basis);
	r->lib_ino = hit->ev->f_ino;
	cw_strlcpy(r->script_path, hit->file, sizeof(r->script_path));
	/* the mapping itself while the process lives (the file may be deleted
	 * or replaced already: drop, load, unlink), else by its path */
	r->bin_fd = cw_proc_map_file((int)hit->tgid, (uint64_t)hit->ev->arg[2], r->lib_ino);
	if (r->bin_fd < 0)
		r->bin_fd = open_library((int)hit->tgid, hit->file, r->lib_ino);
}

/* Worker: the content layers over the library. 1 matched (*cdet filled),
 * 0 not or unreadable (counted and warned), -errno internal error. */
static int check_library(struct agent *a, struct cw_report *r, const struct cw_container *ctr,
                         struct cw_detection *cdet)
{
	const char *argv_c[CW_MAX_ARGS + 1];
	int hit;

	if (r->bin_fd < 0) /* the process is gone: through its container's init */
		r->bin_fd = open_library(ctr->init_pid, r->script_path, r->lib_ino);
	if (r->bin_fd < 0) /* ... or any process still in its mount namespace */
		r->bin_fd = open_library(pid_in_mntns(r->ev.mntns), r->script_path, r->lib_ino);
	if (r->bin_fd < 0) {
		pthread_mutex_lock(&a->lock);
		a->unreadable[r->bin_fd == -ENOENT || r->bin_fd == -ESTALE ? UNREAD_GONE
		                                                           : UNREAD_OTHER]++;
		pthread_mutex_unlock(&a->lock);
		cw_warn("cannot read library %s (pid %u) to judge it: %s; its content and hash "
		        "were not checked",
		        r->script_path, r->ev.tgid, cw_open_error(r->bin_fd));
		return 0;
	}
	for (int i = 0; i <= r->ex.argc; i++)
		argv_c[i] = r->ex.argv[i];
	hit = cw_content_check_fd(r->rules->content, r->bin_fd, r->script_path, argv_c, r->ex.argc,
	                          NULL, &r->bin, cdet);
	if (hit < 0)
		cw_warn("content check of library %s failed: %s", r->script_path, strerror(-hit));
	pthread_mutex_lock(&a->lock);
	a->scans_done++;
	pthread_mutex_unlock(&a->lock);
	return hit;
}

const struct cw_detection *cw_judge_library(struct agent *a, struct cw_report *r,
                                            const struct cw_container *ctr, struct cw_judged *jd)
{
	struct cw_detection cdet = {0};
	bool malicious = check_library(a, r, ctr, &cdet) > 0;

	cw_detection_clear(&r->exec_det);
	if (cw_technique_library(r->rules->tq, r->prov, malicious, r->prov_basis, &r->exec_det) <=
	    0) {
		cw_detection_clear(&cdet);
		return NULL;
	}
	json_object_set_new(r->exec_det.extra, "Library_Path", json_string(r->script_path));
	if (malicious)
		json_object_set_new(r->exec_det.extra, "Content_Rule_Id",
		                    json_string(cdet.rule_id));
	if (r->bin.have_hash)
		json_object_set_new(r->exec_det.extra, "Library_Sha256",
		                    json_string(r->bin.sha256));
	cw_detection_clear(&cdet);
	(void)jd; /* the finding's binary is the process's own, not the library */
	return &r->exec_det;
}
