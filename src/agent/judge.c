/* judge.c - the judge of exec reports (worker thread): the content layers
 * over the executed file, its script operand and program text that is no file
 * (piped stdin, `-c`). Files were captured or opened at the event where
 * possible; what is missing is opened now, always inside the container
 * (safeopen.h), never through the host's namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_int.h"
#include "safeopen.h"
#include "util.h"

/* The exec-time rules on stdio (a shell on a socket, a command run over one:
 * with the socket's ends), the parent and the arguments (a base64 payload):
 * the detection in r->exec_det. */
static bool exec_rules(struct cw_report *r)
{
	struct cw_exec_view v;

	cw_exec_view_of(&r->ev, &v);
	if (cw_technique_exec_stdio(r->rules->tq, &v.f, &r->exec_det) > 0) {
		cw_stdio_props(&r->ev, r->exec_det.extra);
		return true;
	}
	return cw_technique_exec_argv(r->rules->tq, &v.f, r->ex.argv, r->ex.argc, &r->exec_det) > 0;
}

const char *const cw_unreadable_names[4] = {"process_gone", "memfd_gone", "not_regular",
                                            "open_failed"};

/* Is the file open on fd the one the kernel executed? Same inode and device,
 * or (overlayfs reports its own device) the same inode number or size. */
static bool same_exec_file(int fd, const struct cw_exec *ex)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return false;
	if (st.st_ino == ex->ev->ino && st.st_dev == cw_kdev_to_udev(ex->ev->dev))
		return true;
	return (uint64_t)st.st_size == ex->ev->size;
}

/* Open the executed file after the fact (it was not captured at exec time):
 * /proc/PID/exe while the process lives (memfd and deleted files too), else
 * its path resolved inside the container under the root held since the event,
 * else under the container init's root. Returns an fd or a negative errno. */
static int open_binary(struct cw_report *r, int init_pid)
{
	int fd, roots[2] = {r->root_fd, -1}, err = -ENOENT;

	fd = cw_proc_exe((int)r->ev.tgid);
	if (fd >= 0)
		return fd;
	if (r->ex.path[0] != '/')
		return -ENOENT;
	roots[1] = init_pid > 0 ? cw_proc_dir(NULL, init_pid, "root") : -1;
	for (int i = 0; i < 2 && fd < 0; i++) {
		if (roots[i] < 0)
			continue;
		fd = cw_open_beneath(roots[i], r->ex.path);
		if (fd < 0) {
			err = fd;
		} else if (!same_exec_file(fd, &r->ex)) {
			close(fd);
			fd = -ENOENT;
		}
	}
	if (roots[1] >= 0)
		close(roots[1]);
	return fd >= 0 ? fd : err;
}

/* Last resort once the process and its container are gone: the container's
 * root filesystem as its runtime's state named it (held by attribution). An
 * executable must still be the file the kernel ran (ex); *fd keeps its error
 * otherwise. */
static void retry_in_rootfs(struct agent *a, const struct cw_container *ctr, const char *path,
                            int *fd, const struct cw_exec *ex)
{
	int root, f;

	if (path[0] != '/' || !ctr->id[0] || (root = cw_attrib_rootfs(a->attrib, ctr->id)) < 0)
		return;
	f = cw_open_beneath(root, path);
	close(root);
	if (f >= 0 && ex && !same_exec_file(f, ex)) {
		close(f);
		return;
	}
	if (f >= 0)
		*fd = f;
}

/* Open a script (or a program run by ld.so) named by the process: absolute
 * names inside its root (else the container init's), relative ones from its
 * working directory, both held since the event, never through the host's. */
static int open_operand(struct cw_report *r, int init_pid)
{
	const char *name = r->script_path;
	int fd, dir = name[0] == '/' ? r->root_fd : r->cwd_fd;

	fd = cw_open_beneath(dir, name);
	if (fd >= 0 || name[0] != '/' || init_pid <= 0)
		return fd;
	dir = cw_proc_dir(NULL, init_pid, "root");
	if (dir < 0)
		return fd;
	fd = cw_open_beneath(dir, name);
	close(dir);
	return fd;
}

/* Bytes the worker will read for this job (binary not yet judged, script). */
static int64_t read_size(const struct cw_report *r)
{
	struct stat st;
	int64_t n = 0;

	if (!r->content_cached)
		n += r->key.size;
	if (r->script_fd >= 0)
		n += fstat(r->script_fd, &st) == 0 ? (int64_t)st.st_size : HASH_CAP;
	return n;
}

/* Worker: the content layers over the executable itself. A file that cannot
 * be read is counted by reason and named in a warning; a file found clean
 * stops raising capture events until it is written. */
static void check_binary(struct agent *a, struct cw_report *r)
{
	const char *argv_c[CW_MAX_ARGS + 1];
	int hit, why;

	for (int i = 0; i <= r->ex.argc; i++)
		argv_c[i] = r->ex.argv[i];
	if (r->bin_fd < 0) {
		why = r->bin_fd == -CW_ENOTREG                 ? UNREAD_NOT_REGULAR
		      : r->ev.flags & CW_F_MEMFD               ? UNREAD_MEMFD
		      : r->bin_fd == -ENOENT || r->root_fd < 0 ? UNREAD_GONE
		                                               : UNREAD_OTHER;
		pthread_mutex_lock(&a->lock);
		a->unreadable[why]++;
		pthread_mutex_unlock(&a->lock);
		cw_warn("cannot read %s (pid %u) to judge it: %s (%s); its content and hash "
		        "were not checked",
		        r->ex.path, r->ev.tgid, cw_unreadable_names[why], cw_open_error(r->bin_fd));
	}
	cw_debug("content check of %s (%lld bytes, pid %u%s)", r->ex.path, (long long)r->key.size,
	         r->ev.tgid, r->captured ? ", captured at exec" : "");
	hit = cw_content_check_fd(r->rules->content, r->bin_fd, r->ex.path, argv_c, r->ex.argc,
	                          &r->key, &r->bin, &r->content_det);
	if (hit < 0)
		cw_warn("content check of %s failed: %s", r->ex.path, strerror(-hit));
	r->content_hit = hit > 0;
	pthread_mutex_lock(&a->lock);
	a->scans_done++;
	pthread_mutex_unlock(&a->lock);
	if (hit == 0 && r->bin_fd >= 0 && a->cap && !r->rules->context_rules &&
	    !(r->ev.flags & CW_F_MEMFD))
		cw_capture_ignore(a->cap, r->bin_fd);
}

/* Worker: the content layers over program text that is no file: what an
 * interpreter read from stdin (`curl | sh`) or got as `-c` (`sh -c "$(cat x)"`).
 * A match becomes the detection, with the script's source and completeness. */
static bool judge_inline(struct cw_report *r, struct cw_file_info *script)
{
	const char *argv_c[CW_MAX_ARGS + 1];
	struct cw_detection d = {0};
	json_t *extra;
	int hit;

	for (int i = 0; i <= r->ex.argc; i++)
		argv_c[i] = r->ex.argv[i];
	hit = cw_content_check_mem(r->rules->content, r->inline_text, r->inline_len,
	                           r->inline_label, argv_c, r->ex.argc, script, &d);
	if (hit < 0)
		cw_warn("content check of %s (pid %u) failed: %s", r->inline_label, r->ev.tgid,
		        strerror(-hit));
	if (hit <= 0 || r->content_hit) {
		cw_detection_clear(&d);
		return true;
	}
	cw_detection_clear(&r->content_det);
	r->content_det = d;
	r->content_hit = true;
	extra = d.extra ? d.extra : json_object();
	r->content_det.extra = extra;
	json_object_set_new(extra, "Script_Source", json_string(r->inline_source));
	if (r->stdin_flags || !strcmp(r->inline_label, "/dev/stdin"))
		json_object_set_new(
		    extra, "Script_Complete",
		    json_boolean(r->stdin_flags & CW_TQI_EOF && !(r->stdin_flags & CW_TQI_TRUNC)));
	return true;
}

/* Open what the event thread could not take; the process may have gone. */
static void reopen_files(struct agent *a, struct cw_report *r, const struct cw_container *ctr)
{
	if (!r->content_cached && r->bin_fd < 0)
		r->bin_fd = open_binary(r, ctr->init_pid);
	if (r->script_kind && r->script_fd < 0)
		r->script_fd = open_operand(r, ctr->init_pid);
	if (!r->content_cached && r->bin_fd < 0 && !(r->ev.flags & CW_F_MEMFD))
		retry_in_rootfs(a, ctr, r->ex.path, &r->bin_fd, &r->ex);
	if (r->script_kind && r->script_fd < 0)
		retry_in_rootfs(a, ctr, r->script_path, &r->script_fd, NULL);
}

/* The script operand (or inline text): judged, its detection taking over
 * when the binary itself matched nothing. Returns whether the finding
 * describes a script. */
static bool judge_script(struct cw_report *r, struct cw_judged *jd)
{
	const char *argv_c[CW_MAX_ARGS + 1];
	int hit;

	if (r->script_fd < 0) {
		if (r->script_kind) {
			cw_strlcpy(jd->script.path, r->script_path, sizeof(jd->script.path));
			return true;
		}
		return r->inline_text ? judge_inline(r, &jd->script) : false;
	}
	for (int i = 0; i <= r->ex.argc; i++)
		argv_c[i] = r->ex.argv[i];
	hit = cw_content_check_fd(r->rules->content, r->script_fd, r->script_path, argv_c,
	                          r->ex.argc, NULL, &jd->script, &jd->script_det);
	if (hit < 0)
		cw_warn("content check of %s failed: %s", r->script_path, strerror(-hit));
	if (hit > 0 && !r->content_hit) {
		cw_detection_clear(&r->content_det);
		r->content_det = jd->script_det;
		memset(&jd->script_det, 0, sizeof(jd->script_det));
		r->content_hit = true;
	}
	return true;
}

void cw_judge_binary(struct cw_report *r, struct cw_judged *jd)
{
	cw_strlcpy(r->bin.path, r->ex.path, sizeof(r->bin.path));
	if (!r->bin.have_size) {
		r->bin.have_size = true;
		r->bin.size = (int64_t)r->ev.size;
	}
	jd->in.binary = &r->bin;
}

const struct cw_detection *cw_judge_exec(struct agent *a, struct cw_report *r,
                                         const struct cw_container *ctr, struct cw_judged *jd)
{
	struct cw_detection *det = NULL;
	bool have_script, reading;

	reopen_files(a, r, ctr);
	/* Reading a large file is unbounded work: it runs at normal priority. A
	 * small one (at most RT_READ_MAX, a few ms) stays real-time, or the first
	 * exec of a new tool would wait behind every busy CPU (tens of ms). */
	reading = (!r->content_cached || r->script_fd >= 0) && read_size(r) > RT_READ_MAX;
	if (a->realtime && reading)
		cw_agent_set_realtime(false);
	if (!r->content_cached)
		check_binary(a, r);
	r->bin_hit = r->content_hit; /* before a script's verdict can take over */
	have_script = judge_script(r, jd);
	if (a->realtime && reading)
		cw_agent_set_realtime(true);
	/* Hash and content evidence outrank a name: they survive renaming. Where
	 * the program came from (a memfd, /dev/shm) is a finding of its own
	 * when neither says what it is. */
	if (r->content_hit)
		det = &r->content_det;
	else if (r->name_hit)
		det = &r->det;
	else if (cw_technique_exec_from(r->rules->tq, r->ex.path, &r->exec_det) > 0)
		det = &r->exec_det;
	else if (exec_rules(r))
		det = &r->exec_det;
	if (!det)
		return NULL;
	if (r->content_hit && r->name_hit) {
		if (!det->extra)
			det->extra = json_object();
		json_object_set_new(det->extra, "Name_Rule_Id", json_string(r->det.rule_id));
	}
	if (r->prov) {
		if (!det->extra)
			det->extra = json_object();
		json_object_set_new(det->extra, "Binary_Provenance",
		                    json_string(cw_provenance_name(r->prov)));
	}
	cw_judge_binary(r, jd);
	jd->in.script = have_script ? &jd->script : NULL;
	if (have_script && r->inline_text) {
		jd->in.script_contents = r->inline_text;
		jd->in.script_contents_len = r->inline_len;
	}
	return det;
}
