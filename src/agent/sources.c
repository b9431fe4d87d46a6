/* sources.c - where reports come from (agent_int.h): the exec sensor's
 * records (event thread), technique hits and piped-script captures (event
 * thread), execs --block refused (enforcer thread) and attempts on the agent
 * (guard, event thread). Each builds a report of its own kind and queues it;
 * only what is cheap happens here: decoding, the catalogue's name layer, a
 * cache-only content lookup, and taking the files before the process goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent_int.h"
#include "safeopen.h"
#include "util.h"

static struct cw_exec cur; /* ~14 KiB; the event thread handles one exec at a time */

static void key_from_event(const struct cw_event *ev, struct cw_file_key *k)
{
	k->dev = cw_kdev_to_udev(ev->dev);
	k->ino = ev->ino;
	k->size = (int64_t)ev->size;
	k->mtime_sec = ev->mtime_sec;
	k->mtime_nsec = ev->mtime_nsec;
	k->ctime_sec = ev->ctime_sec;
	k->ctime_nsec = ev->ctime_nsec;
}

/* Event thread: take what the worker will need before the process can go:
 * the executable as captured at exec time (else /proc/PID/exe), the `#!`
 * script likewise, and O_PATH handles of the process's root and working
 * directory so that paths are later resolved inside the container even after
 * it has exited. No container path is traversed here. */
static void grab_files(struct agent *a, struct cw_report *r, int kind, const char *operand)
{
	uint32_t pid = r->ev.tgid;

	if (!r->content_cached) {
		r->bin_fd = a->cap ? cw_capture_take(a->cap, pid, &r->key) : -ENOENT;
		r->captured = r->bin_fd >= 0;
		if (!r->captured)
			r->bin_fd = cw_proc_exe((int)pid);
	}
	r->root_fd = cw_proc_dir(NULL, (int)pid, "root");
	if (r->root_fd >= 0 && a->cap) { /* a root on a filesystem not marked yet */
		char p[64];

		snprintf(p, sizeof(p), "/proc/self/fd/%d", r->root_fd);
		cw_capture_add_fs(a->cap, p);
	}
	if (!kind)
		return;
	r->script_kind = kind;
	cw_strlcpy(r->script_path, operand, sizeof(r->script_path));
	if (a->cap && (r->ev.flags & CW_F_SCRIPT) && !strcmp(operand, r->ex.filename))
		r->script_fd = cw_capture_take_script(a->cap, pid, &r->key);
	if (operand[0] != '/')
		r->cwd_fd = cw_proc_dir(NULL, (int)pid, "cwd");
}

/* The exec judged so far on the event thread, before it becomes a report. */
struct first_look {
	struct cw_detection name_det, cdet;
	struct cw_file_info bin;
	struct cw_file_key key;
	const char *operand, *inline_text;
	int name_hit, cached, kind, inl;
};

/* Known-clean executable, no script: nothing to do. If no rule can look at
 * its name either, let the kernel drop its next execs. */
static void fast_path(struct agent *a)
{
	a->fast_path++;
	if (a->kernel_filter && !(cur.ev->flags & (CW_F_MEMFD | CW_F_DELETED | CW_F_SCRIPT)) &&
	    !strcmp(cw_basename(cur.filename), cw_basename(cur.path)) &&
	    !cw_catalogue_name_relevant(a->ev_rules->cat, cw_basename(cur.path)) &&
	    !cw_catalogue_name_relevant(a->ev_rules->cat,
	                                cw_basename(cur.argc ? cur.argv[0] : "")) &&
	    !cw_technique_name_relevant(a->ev_rules->tq, cw_basename(cur.path)) &&
	    cw_sensor_mark_clean(a->sensor, cur.ev) == 0)
		a->marked_clean++;
}

/* Does an exec-time rule want cur (a shell on a socket, a base64 payload)? */
static bool exec_rules(struct agent *a)
{
	struct cw_exec_view v;

	cw_exec_view_of(cur.ev, &v);
	return cw_technique_exec_stdio(a->ev_rules->tq, &v.f, NULL) > 0 ||
	       cw_technique_exec_argv(a->ev_rules->tq, &v.f, cur.argv, cur.argc, NULL) > 0 ||
	       ((cur.ev->flags & CW_F_ENV) &&
	        cw_technique_exec_env(a->ev_rules->tq, &v.f, &cur, NULL) > 0);
}

/* The name layer and the content cache; false when there is nothing to report. */
static bool first_look(struct agent *a, struct first_look *fl)
{
	const char *argv_c[CW_MAX_ARGS + 1];

	fl->name_hit = cw_catalogue_match(a->ev_rules->cat, &cur, &fl->name_det);
	key_from_event(cur.ev, &fl->key);
	for (int i = 0; i <= cur.argc; i++)
		argv_c[i] = cur.argv[i];
	fl->cached = cw_content_lookup(a->ev_rules->content, &fl->key, cur.path, argv_c, cur.argc,
	                               &fl->bin, &fl->cdet);
	fl->kind = cw_catalogue_operand(a->ev_rules->cat, &cur, &fl->operand);
	fl->inl = fl->kind ? 0 : cw_catalogue_inline(a->ev_rules->cat, &cur, &fl->inline_text);
	return fl->name_hit > 0 || fl->cached != 0 || fl->kind != 0 || fl->inl > 0 ||
	       cw_technique_exec_from(a->ev_rules->tq, cur.path, NULL) > 0 || exec_rules(a);
}

/* The exec report of cur, files taken. */
static void queue_exec(struct agent *a, struct first_look *fl, unsigned prov, const char *basis,
                       bool prov_new)
{
	struct cw_report *r = cw_report_new(CW_REPORT_EXEC, a->ev_rules);

	if (!r) {
		cw_detection_clear(&fl->name_det);
		cw_detection_clear(&fl->cdet);
		cw_held_let_go(a, cur.ev);
		return;
	}
	memcpy(&r->ev, cur.ev, offsetof(struct cw_event, data));
	cw_exec_copy(&r->ex, &cur, &r->ev);
	r->key = fl->key;
	r->name_hit = fl->name_hit > 0;
	r->det = fl->name_det;
	if (fl->cached >= 0) {
		r->content_cached = true;
		r->content_hit = fl->cached > 0;
		r->content_det = fl->cdet;
		r->bin = fl->bin;
	}
	grab_files(a, r, fl->kind, fl->operand);
	cw_provenance_take(a, r, prov, basis, prov_new);
	if (fl->inl > 0 && (r->inline_text = strdup(fl->inline_text))) {
		r->inline_len = strlen(fl->inline_text);
		r->inline_label = "(argv -c)";
		r->inline_source = "command line (-c)";
	}
	cw_attrib_sync(a->attrib); /* parse a new container's state while it exists */
	cw_report_queue(a, r);
}

int cw_source_exec(void *ctx, const void *data, size_t len)
{
	struct agent *a = ctx;
	struct first_look fl = {0};
	const char *basis;
	unsigned prov;
	bool worker, prov_new;

	a->execs++;
	if (cw_exec_decode(data, len, &cur)) {
		a->decode_errors++;
		cw_warn("dropped a malformed exec record (%zu bytes)", len);
		return 0;
	}
	/* Sharing the host's pid and mount namespaces: not a container. */
	if (!a->host_too && cur.ev->pidns == a->host_pidns && cur.ev->mntns == a->host_mntns)
		return 0;
	cur.time_ns = (int64_t)cur.ev->ts_ns + a->boot_offset_ns;
	if (a->enforce) /* a new container: mark its mounts from its first execs */
		cw_enforce_watch(a->enforce, cur.ev->mntns, (int)cur.ev->tgid);
	worker = cw_held_event(a, cur.ev);
	prov = cw_provenance_hint(a, cur.ev, &basis);
	prov_new = cw_provenance_new(a, cur.ev, prov);
	if (first_look(a, &fl) || worker || prov_new) {
		queue_exec(a, &fl, prov, basis, prov_new);
	} else {
		fast_path(a);
		cw_held_let_go(a, cur.ev);
	}
	return 0;
}

/* Technique sensor callback (event thread): the worker attributes the hit,
 * applies exceptions and reports it like any other detection. */
int cw_source_technique(void *ctx, const struct cw_technique_hit *hit)
{
	struct agent *a = ctx;
	struct cw_report *r = cw_report_new(CW_REPORT_TECHNIQUE, a->ev_rules);

	if (!r)
		return 0;
	cw_technique_hit_exec(hit, &r->ev, &r->ex);
	r->host_side = hit->host_side;
	r->det = hit->det;
	r->det.extra = hit->det.extra ? json_deep_copy(hit->det.extra) : NULL;
	if (cw_library_hit(hit))
		cw_library_take(r, hit);
	a->technique_hits++;
	cw_report_queue(a, r);
	return 0;
}

/* Technique sensor callback (event thread): an interpreter started without a
 * script read these bytes from its stdin. The worker judges them like a
 * script file; the interpreter itself was judged at its exec. */
int cw_source_stdin(void *ctx, const struct cw_technique_stdin *in)
{
	static const char *const source[] = {"stdin (pipe)", "stdin (file)", "stdin (socket)"};
	struct agent *a = ctx;
	struct cw_report *r = cw_report_new(CW_REPORT_EXEC, a->ev_rules);

	if (!r || !(r->inline_text = malloc(in->len ? in->len : 1))) {
		cw_err("out of memory queueing what pid %u read from stdin", in->hit->tgid);
		cw_report_free(r);
		return 0;
	}
	cw_technique_hit_exec(in->hit, &r->ev, &r->ex);
	memcpy(r->inline_text, in->data, in->len);
	r->inline_len = in->len;
	r->inline_label = "/dev/stdin";
	r->inline_source = source[in->stdin_mode == S_IFREG    ? 1
	                          : in->stdin_mode == S_IFSOCK ? 2
	                                                       : 0];
	/* no flag: sent because the buffer filled, so there may be more */
	r->stdin_flags = in->flags ? in->flags : CW_TQI_TRUNC;
	r->content_cached = true; /* the interpreter's own file is judged at its exec */
	cw_strlcpy(r->bin.path, r->ex.path, sizeof(r->bin.path));
	a->stdin_scripts++;
	cw_report_queue(a, r);
	return 0;
}

/* Enforcer thread: an exec was refused; report it like a detection. */
void cw_source_blocked(void *ctx, struct cw_enforce_block *b)
{
	struct agent *a = ctx;
	struct cw_report *r = cw_report_new(CW_REPORT_BLOCKED, a->enf_rules);
	json_t *extra;
	int err;

	if (!r)
		return;
	err = cw_exec_from_proc(NULL, b->pid, &r->ev, &r->ex);
	if (err)
		cw_debug("refused exec of %s: caller %d already gone (%s): reported without it",
		         b->path, b->pid, strerror(-err));
	if (!r->ev.mntns)
		r->ev.mntns = b->mntns;
	r->ev.dev = (uint32_t)((major(b->key.dev) << 20) | (minor(b->key.dev) & 0xfffff));
	r->ev.ino = b->key.ino;
	r->ev.size = (uint64_t)b->key.size;
	cw_strlcpy(r->ex.path, b->path, sizeof(r->ex.path));
	cw_strlcpy(r->ex.filename, b->path, sizeof(r->ex.filename));
	r->bin = b->bin;
	cw_strlcpy(r->bin.path, b->path, sizeof(r->bin.path));
	r->det = b->det;
	b->det.extra = NULL; /* moved into the report */
	extra = r->det.extra ? r->det.extra : json_object();
	r->det.extra = extra;
	json_object_set_new(extra, "Blocked", json_true());
	json_object_set_new(extra, "Block_Method",
	                    json_string("fanotify exec permission: execve failed with EPERM "
	                                "before the program's first instruction"));
	cw_warn("blocked: %s (%s) in the mount namespace %u, caller pid %d", b->path,
	        r->det.rule_id, b->mntns, b->pid);
	cw_report_queue(a, r);
}

/* An attempt on the agent (guard.c): judged by the technique rules. */
int cw_source_guard(void *ctx, const void *data, size_t len)
{
	struct agent *a = ctx;

	return cw_technique_feed(a->tq, data, len);
}
