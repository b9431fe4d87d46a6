/* technique_eval.c - a technique record (or a usermode-helper exec) into a
 * hit: the caller's identity, the first matching rule, and the evidence as
 * sourceProperties JSON. */
#include "technique.h"
#include "technique_int.h"
#include "container.h"

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

void cw_technique_hit_clear(struct cw_technique_hit *hit)
{
	if (!hit)
		return;
	cw_detection_clear(&hit->det);
	memset(hit, 0, sizeof(*hit));
}

/* Join leaf-first NUL-separated components into "/a/b/c". */
static void join_cgroup(const char *data, size_t len, char *out, size_t outsz)
{
	const char *comp[32] = {0};
	size_t n = 0, off = 0, o = 0;

	while (off < len && n < 32) {
		size_t l = strnlen(data + off, len - off);

		if (!l)
			break;
		comp[n++] = data + off;
		off += l + 1;
	}
	out[0] = 0;
	for (size_t i = n; i-- > 0;) {
		int w = snprintf(out + o, outsz - o, "/%s", comp[i]);

		if (w < 0 || (size_t)w >= outsz - o)
			break;
		o += (size_t)w;
	}
	if (!n)
		snprintf(out, outsz, "/");
}

/* The caller's executable: the path the kernel resolved when it sent the
 * record, so the answer does not depend on how late it is read. Without one
 * (a guard record, a path too deep), /proc/PID/exe if that process still runs
 * the same program, else the kernel's dentry name. */
void tq_hit_exe(const struct cw_technique_env *env, struct cw_technique_hit *h,
                const struct cw_tq_event *ev)
{
	char path[4200];
	char kname[sizeof(ev->exe) + 1];
	ssize_t n;

	if (ev->exe_len && !(ev->flags & CW_TQF_EXE_TRUNC)) {
		join_cgroup(ev->exe_path,
		            ev->exe_len < sizeof(ev->exe_path) ? ev->exe_len : sizeof(ev->exe_path),
		            h->exe, sizeof(h->exe));
		return;
	}
	snprintf(kname, sizeof(kname), "%.*s", (int)sizeof(ev->exe), ev->exe);
	snprintf(path, sizeof(path), "%s/%u/exe", env->proc_root, h->tgid);
	n = readlink(path, h->exe, sizeof(h->exe) - 1);
	if (n > 0) {
		h->exe[n] = 0;
		if (!strcmp(cw_basename(h->exe), kname))
			return;
	}
	/* gone, or exec'ed since: the kernel's name is the truth */
	snprintf(h->exe, sizeof(h->exe), "%s", kname);
}

static bool runtime_caller(const struct cw_technique_rules *r, const struct cw_tq_event *ev,
                           const char *comm)
{
	return (ev->flags & CW_TQF_FOREIGN_EXE) && tq_in_strs(r->runtime_comms, comm);
}

static int eval_umh(const struct cw_technique_rules *r, const struct cw_technique_env *env,
                    const struct cw_tq_umh *u, struct cw_technique_hit *h);

/* The caller's identity from a record (shared by technique hits and stdin
 * captures). */
void tq_hit_caller(const struct cw_technique_env *env, const struct cw_tq_event *ev,
                   struct cw_technique_hit *h)
{
	h->ev = ev;
	h->time_ns = (int64_t)ev->ts_ns + env->boot_offset_ns;
	h->pid = ev->pid;
	h->tgid = ev->tgid;
	h->ppid = ev->ppid;
	h->uid = ev->uid;
	h->ns[CW_NS_MNT] = ev->mntns;
	h->ns[CW_NS_PID] = ev->pidns;
	h->ns[CW_NS_NET] = ev->netns;
	h->ns[CW_NS_USER] = ev->userns;
	h->ns[CW_NS_UTS] = ev->utsns;
	h->ns[CW_NS_IPC] = ev->ipcns;
	h->ns[CW_NS_CGROUP] = ev->cgroupns;
	h->cgroup_id = ev->cgroup_id;
	tq_copy_str(h->comm, sizeof(h->comm), ev->comm, sizeof(ev->comm));
	join_cgroup(ev->cgroup, ev->cgroup_len, h->cgroup, sizeof(h->cgroup));
	memcpy(h->args, ev->args, ev->args_len);
	h->args_len = ev->args_len;
	h->args[h->args_len] = 0;
}

/* An inet peer (connect's sockaddr in ev->data, port in arg[2]) as "ip:port". */
static void peer_text(const struct cw_tq_event *ev, struct cw_technique_hit *h)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ev->arg[0] == AF_INET)
		inet_ntop(AF_INET, ev->data + 4, ip, sizeof(ip));
	else
		inet_ntop(AF_INET6, ev->data + 8, ip, sizeof(ip));
	snprintf(h->socket, sizeof(h->socket), ev->arg[0] == AF_INET6 ? "[%s]:%llu" : "%s:%llu", ip,
	         (unsigned long long)ev->arg[2]);
}

/* The record's strings as evidence fields of the hit, by syscall. */
static void hit_strings(const struct cw_tq_event *ev, struct cw_technique_hit *h)
{
	switch (ev->sys) {
	case CW_TQS_MOUNT:
		tq_copy_str(h->mount_source, sizeof(h->mount_source), ev->s1, sizeof(ev->s1));
		tq_copy_str(h->mount_target, sizeof(h->mount_target), ev->s2, sizeof(ev->s2));
		tq_copy_str(h->mount_options, sizeof(h->mount_options), ev->data, sizeof(ev->data));
		/* fall through */
	case CW_TQS_FSOPEN:
		tq_copy_str(h->mount_fstype, sizeof(h->mount_fstype), ev->fstype,
		            sizeof(ev->fstype));
		break;
	case CW_TQS_CONNECT:
		if (ev->arg[0] == AF_UNIX) {
			if (ev->flags & CW_TQF_ABSTRACT)
				snprintf(h->socket, sizeof(h->socket), "@%.*s", CW_TQ_STR, ev->s1);
			else
				tq_copy_str(h->socket, sizeof(h->socket), ev->s1, sizeof(ev->s1));
		} else {
			peer_text(ev, h);
		}
		break;
	case CW_TQS_WRITE:
	case CW_TQS_SENDTO:
	case CW_TQS_WRITEV:
	case CW_TQS_SENDMSG:
	case CW_TQS_TCP_SEND:
		peer_text(ev, h);
		tq_copy_str(h->payload, sizeof(h->payload), ev->s1, sizeof(ev->s1));
		break;
	case CW_TQS_MMAP: /* components leaf first, as a cgroup path */
		join_cgroup(ev->s1, ev->s1_len < sizeof(ev->s1) ? ev->s1_len : sizeof(ev->s1),
		            h->file + 3 * !!(ev->flags & CW_TQF_PATH_TRUNC), sizeof(h->file) - 3);
		if (ev->flags & CW_TQF_PATH_TRUNC)
			memcpy(h->file, CW_PATH_TRUNC_MARK, 3);
		break;
	case CW_TQS_SETNS:
		break; /* the nsfs file's name says nothing: Target_Namespace does */
	case CW_TQS_FCHDIR:
	case CW_TQS_FINIT_MODULE:
		tq_copy_str(h->file, sizeof(h->file), ev->fname, sizeof(ev->fname));
		break;
	default:
		tq_copy_str(h->file, sizeof(h->file), ev->s1, sizeof(ev->s1));
		break;
	}
}

/* The first rule that matches, as the hit's detection. 1, 0 or -errno. */
static int first_match(const struct cw_technique_rules *r, const struct cw_technique_env *env,
                       const struct cw_tq_event *ev, struct cw_technique_hit *h)
{
	char detail[sizeof(h->det.detail)];
	json_t *extra;
	int err;

	for (size_t i = 0; i < r->n_rules; i++) {
		const struct rule *ru = &r->rules[i];

		detail[0] = 0;
		if (ru->off || !tq_rule_matches(env, ru, ev, h, detail, sizeof(detail)))
			continue;
		tq_hit_exe(env, h, ev);
		h->det.cat = ru->cat;
		h->det.tool_id = ru->id;
		h->det.tool_name = ru->title;
		snprintf(h->det.rule_id, sizeof(h->det.rule_id), "%s", ru->id);
		snprintf(h->det.matched_on, sizeof(h->det.matched_on), "technique");
		snprintf(h->det.detail, sizeof(h->det.detail), "%s %s", h->syscall, detail);
		err = cw_technique_finding_extra(h, &extra);
		if (err)
			return err;
		h->det.extra = extra;
		return 1;
	}
	return 0;
}

int cw_technique_eval(const struct cw_technique_rules *r, const struct cw_technique_env *env,
                      const void *data, size_t len, struct cw_technique_hit *h)
{
	const struct cw_tq_event *ev = data;

	if (!r || !env || !data || !h)
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	if (len >= sizeof(uint32_t) && *(const uint32_t *)data == CW_TQ_UMH_MAGIC) {
		if (len != sizeof(struct cw_tq_umh))
			return -EINVAL;
		return eval_umh(r, env, data, h);
	}
	/* a syscall fails with -1..-4095 (MAX_ERRNO): anything lower is no kernel's */
	if (len != sizeof(*ev) || ev->sys == 0 || ev->sys >= CW_TQS_MAX ||
	    ev->cgroup_len > CW_TQ_CGROUP || ev->args_len > CW_TQ_ARGS ||
	    ((ev->flags & CW_TQF_EXITED) && ev->ret < -4095))
		return -EINVAL;
	tq_hit_caller(env, ev, h);
	h->syscall = tq_sys_name(ev->sys);
	h->returned = ev->flags & CW_TQF_EXITED;
	h->ret = h->returned ? (long)ev->ret : 0;
	h->failed = h->returned && ev->ret < 0;
	h->runtime = runtime_caller(r, ev, h->comm);

	hit_strings(ev, h);
	return first_match(r, env, ev, h);
}

/* Does the file live in a container's root filesystem (the runtime table of
 * container attribution says where)? Fills id with the container id. */
static bool in_container_rootfs(const char *path, char *id, size_t idsz, char *rootfs, size_t rsz)
{
	if (cw_runtime_rootfs_of(path, id, idsz, rootfs, rsz))
		return true;
	/* Container storage of the common engines, when no state matched. */
	return strstr(path, "/overlay2/") || strstr(path, "/overlayfs/snapshots/") ||
	       strstr(path, "/containers/storage/overlay/");
}

static int eval_umh(const struct cw_technique_rules *r, const struct cw_technique_env *env,
                    const struct cw_tq_umh *u, struct cw_technique_hit *h)
{
	const struct rule *ru = NULL;
	char id[256] = "", rootfs[512] = "";
	bool in_ctr;
	json_t *extra;
	int err;

	for (size_t i = 0; i < r->n_rules; i++)
		if (r->rules[i].kind == RK_UMH)
			ru = &r->rules[i];
	if (!ru || u->args_len > CW_TQ_ARGS)
		return ru ? -EINVAL : 0;
	h->host_side = true;
	h->time_ns = (int64_t)u->ts_ns + env->boot_offset_ns;
	h->pid = h->tgid = u->pid;
	h->ppid = u->ppid;
	h->uid = u->uid;
	h->ns[CW_NS_MNT] = u->mntns;
	tq_copy_str(h->comm, sizeof(h->comm), u->comm, sizeof(u->comm));
	tq_copy_str(h->file, sizeof(h->file), u->filename, sizeof(u->filename));
	snprintf(h->exe, sizeof(h->exe), "%s", h->file);
	snprintf(h->cgroup, sizeof(h->cgroup), "/");
	memcpy(h->args, u->args, u->args_len);
	h->args_len = u->args_len;
	h->args[h->args_len] = 0;
	h->syscall = "execve";
	h->returned = true;
	if (tq_in_strs(r->helpers, h->file))
		return 0;
	in_ctr = in_container_rootfs(h->file, id, sizeof(id), rootfs, sizeof(rootfs));
	h->det.cat = ru->cat;
	h->det.tool_id = ru->id;
	h->det.tool_name = ru->title;
	snprintf(h->det.rule_id, sizeof(h->det.rule_id), "%s", ru->id);
	snprintf(h->det.matched_on, sizeof(h->det.matched_on), "technique");
	snprintf(h->det.detail, sizeof(h->det.detail), "helper=%s parent=%.16s%s%s", h->file,
	         u->parent_comm, in_ctr ? " in_container_rootfs" : "", id[0] ? " container=" : "");
	if (id[0])
		strncat(h->det.detail, id, sizeof(h->det.detail) - strlen(h->det.detail) - 1);
	err = cw_technique_finding_extra(h, &extra);
	if (err)
		return err;
	if (in_ctr && json_object_set_new(extra, "Helper_In_Container_Rootfs", json_true()))
		goto nomem;
	if (id[0] && json_object_set_new(extra, "Helper_Container_Id", json_string(id)))
		goto nomem;
	if (rootfs[0] && json_object_set_new(extra, "Helper_Container_Rootfs", json_string(rootfs)))
		goto nomem;
	if (json_object_set_new(extra, "Helper_Parent",
	                        cw_json_bytes(u->parent_comm, strnlen(u->parent_comm, 16))))
		goto nomem;
	h->det.extra = extra;
	return 1;
nomem:
	json_decref(extra);
	return -ENOMEM;
}

/* ------------------------------------------------------------------------ */
/* Evidence */

static int put(json_t *o, const char *k, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, k, v) ? -ENOMEM : 0;
}

static int put_s(json_t *o, const char *k, const char *s)
{
	if (!s || !*s)
		return 0;
	return put(o, k, cw_json_str(s));
}

int cw_technique_finding_extra(const struct cw_technique_hit *h, json_t **out)
{
	json_t *o = json_object(), *files;
	int err = 0;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	err |= put_s(o, "Technique_Id", h->det.rule_id);
	err |= put_s(o, "Technique", h->det.tool_name);
	err |= put_s(o, "Syscall", h->syscall);
	if (h->returned) {
		if (h->failed) {
			const char *en = h->ret >= -4095 ? strerrorname_np((int)-h->ret) : NULL;

			err |= put_s(o, "Syscall_Result", en ? en : "error");
		} else {
			err |= put_s(o, "Syscall_Result", "success");
		}
		err |= put(o, "Attempt_Failed", json_boolean(h->failed));
	}
	err |= put_s(o, "File_Path", h->file);
	err |= put_s(o, "Filesystem_Type", h->fs_type);
	err |= put_s(o, "Mount_Source", h->mount_source);
	err |= put_s(o, "Mount_Target", h->mount_target);
	err |= put_s(o, "Mount_Fstype", h->mount_fstype);
	err |= put_s(o, "Mount_Options", h->mount_options);
	if (h->target_pid)
		err |= put(o, "Target_Pid", json_integer(h->target_pid));
	err |= put_s(o, "Target_Namespace", h->target_ns);
	err |= put_s(o, "Socket", h->socket);
	err |= put_s(o, "Payload", h->payload);
	err |= put_s(o, "Module", h->module);
	err |= put_s(o, "Signal", h->signal);
	if (h->ev && (h->ev->flags & CW_TQF_AGENT))
		err |= put(o, "Target_Is_Agent", json_true());
	err |= put_s(o, "Process_Comm", h->comm);
	if (h->runtime)
		err |= put(o, "Runtime_Process", json_true());
	if (h->host_side)
		err |= put(o, "Host_Side", json_true());
	if (h->file[0] && !h->mount_source[0] && !h->socket[0] && !h->module[0]) {
		json_t *f = json_object();

		files = json_array();
		if (!f || !files || json_object_set_new(f, "path", cw_json_str(h->file)) ||
		    json_array_append_new(files, f)) {
			json_decref(f);
			json_decref(files);
			err = -ENOMEM;
		} else {
			err |= put(o, "files", files); /* the finding's top-level files[] */
		}
	}
	if (err) {
		json_decref(o);
		return -ENOMEM;
	}
	*out = o;
	return 0;
}

void cw_technique_hit_exec(const struct cw_technique_hit *h, struct cw_event *ev,
                           struct cw_exec *ex)
{
	size_t n;
	int argc = 0;

	memset(ev, 0, offsetof(struct cw_event, data));
	memset(ex, 0, sizeof(*ex));
	ev->type = CW_EV_EXEC;
	ev->cgroup_id = h->cgroup_id;
	ev->pid = h->pid;
	ev->tgid = h->tgid;
	ev->ppid = h->ppid;
	ev->uid = h->uid;
	ev->pidns = h->ns[CW_NS_PID];
	ev->mntns = h->ns[CW_NS_MNT];
	ev->netns = h->ns[CW_NS_NET];
	ev->userns = h->ns[CW_NS_USER];
	ev->cgroupns = h->ns[CW_NS_CGROUP];
	ev->utsns = h->ns[CW_NS_UTS];
	ev->ipcns = h->ns[CW_NS_IPC];
	if (h->host_side)
		ev->flags |= CW_F_HOST_NS;
	if (h->ev && (h->ev->flags & CW_TQF_CGROUP_V1))
		ev->flags |= CW_F_CGROUP_V1;
	memcpy(ev->comm, h->comm, sizeof(ev->comm));
	ex->ev = ev;
	ex->time_ns = h->time_ns;
	cw_strlcpy(ex->path, h->exe, sizeof(ex->path));
	cw_strlcpy(ex->filename, h->exe, sizeof(ex->filename));
	cw_strlcpy(ex->cgroup, h->cgroup, sizeof(ex->cgroup));
	n = h->args_len < sizeof(ex->argbuf) - 1 ? h->args_len : sizeof(ex->argbuf) - 1;
	memcpy(ex->argbuf, h->args, n);
	ex->argbuf[n] = 0;
	for (size_t off = 0; off < n && argc < CW_MAX_ARGS;) {
		ex->argv[argc++] = ex->argbuf + off;
		off += strnlen(ex->argbuf + off, n - off) + 1;
	}
	ex->argv[argc] = NULL;
	ex->argc = argc;
	ex->argv_truncated = h->args_len >= CW_TQ_ARGS;
}
