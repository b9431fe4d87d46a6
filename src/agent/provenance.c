/* provenance.c - where an executed file came from: the container's image, or
 * added or modified since the container started (the exec_provenance rules:
 * Added Binary Executed, Added/Modified Malicious Binary Executed). The exec
 * program says it for overlayfs (upper and lower layers, layer.bpf.h); for
 * any other root the file's change time, then its birth time, are compared
 * with the start of the container's init. Decided on the event thread while
 * the process lives; each added file version is reported once.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_int.h"
#include "safeopen.h"
#include "util.h"

#define NS_PER_S 1000000000LL

/* Files whose provenance finding has been queued: direct-mapped, event
 * thread only. An evicted entry is reported again, never lost. */
#define SEEN_SLOTS 4096
static struct seen {
	uint64_t ino;
	int64_t ctime_ns;
	uint32_t dev, mntns;
} seen[SEEN_SLOTS];

static int64_t ctime_ns(const struct cw_event *ev)
{
	return ev->ctime_sec * NS_PER_S + ev->ctime_nsec;
}

/* The start of the exec'ing process's container init, Unix ns; 0 unknown. */
static int64_t init_start(const struct agent *a, const struct cw_event *ev)
{
	if (!ev->ns_init_start_ns || ev->pidns == a->host_pidns)
		return 0; /* the host's pid namespace: its init started at boot */
	return (int64_t)ev->ns_init_start_ns + a->boot_offset_ns;
}

unsigned cw_provenance_hint(const struct agent *a, const struct cw_event *ev, const char **basis)
{
	int64_t start;

	*basis = NULL;
	if (ev->flags & CW_F_MEMFD)
		return 0; /* no file: the fileless rules' case */
	if (ev->flags & CW_F_OVL) {
		*basis = "overlayfs: upper and lower layers";
		if (!(ev->flags & CW_F_UPPER))
			return CW_PROV_IMAGE;
		return ev->flags & CW_F_LOWER ? CW_PROV_MODIFIED : CW_PROV_ADDED;
	}
	start = init_start(a, ev);
	if (!start || !ev->ctime_sec)
		return 0;
	*basis = "change time before the container's start";
	if (ctime_ns(ev) <= start)
		return CW_PROV_IMAGE;
	*basis = "change time after the container's start (no birth time)";
	return CW_PROV_ADDED | CW_PROV_MODIFIED;
}

/* Is this the first provenance report of the file version (marks it)? */
static bool first_report(const struct cw_event *ev)
{
	uint64_t h = ev->ino * 0x9e3779b97f4a7c15ull ^ ev->dev ^ (uint64_t)ctime_ns(ev) ^ ev->mntns;
	struct seen *s = &seen[(h >> 20) % SEEN_SLOTS];

	if (s->ino == ev->ino && s->dev == ev->dev && s->ctime_ns == ctime_ns(ev) &&
	    s->mntns == ev->mntns)
		return false;
	*s = (struct seen){
	    .ino = ev->ino, .ctime_ns = ctime_ns(ev), .dev = ev->dev, .mntns = ev->mntns};
	return true;
}

bool cw_provenance_new(struct agent *a, const struct cw_event *ev, unsigned hint)
{
	return (hint & (CW_PROV_ADDED | CW_PROV_MODIFIED)) &&
	       cw_technique_has_provenance(a->ev_rules->tq) && first_report(ev);
}

/* A changed file on a root without layers: born after the container's init
 * started (added) or before it (modified), when the filesystem keeps birth
 * times. fd is the executable, else it is opened through /proc. */
static unsigned by_birth(struct agent *a, struct cw_report *r, unsigned hint)
{
	struct statx stx;
	int fd = r->bin_fd >= 0 ? r->bin_fd : cw_proc_exe((int)r->ev.tgid), err;

	err = fd >= 0 ? statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_BTIME, &stx) : -1;
	if (fd >= 0 && fd != r->bin_fd)
		close(fd);
	if (err || !(stx.stx_mask & STATX_BTIME))
		return hint;
	if (stx.stx_btime.tv_sec * NS_PER_S + stx.stx_btime.tv_nsec > init_start(a, &r->ev)) {
		r->prov_basis = "birth time after the container's start";
		return CW_PROV_ADDED;
	}
	r->prov_basis = "born before the container's start, changed after";
	return CW_PROV_MODIFIED;
}

void cw_provenance_take(struct agent *a, struct cw_report *r, unsigned hint, const char *basis,
                        bool first)
{
	r->prov_basis = basis;
	r->prov_first = first;
	r->prov = hint == (CW_PROV_ADDED | CW_PROV_MODIFIED) ? by_birth(a, r, hint) : hint;
	cw_debug("provenance of %s (pid %u): %s (%s; init start %lld, ctime %lld)", r->ex.path,
	         r->ev.tgid, cw_provenance_name(r->prov), basis ? basis : "-",
	         (long long)init_start(a, &r->ev), (long long)ctime_ns(&r->ev));
}

const struct cw_detection *cw_judge_provenance(struct cw_report *r, const struct cw_container *ctr,
                                               struct cw_judged *jd)
{
	if (r->kind != CW_REPORT_EXEC || !r->prov_first || !ctr->in_container ||
	    cw_technique_exec_provenance(r->rules->tq, r->prov, r->bin_hit, r->prov_basis,
	                                 &r->prov_det) <= 0)
		return NULL;
	if (r->bin_hit && r->prov_det.extra)
		json_object_set_new(r->prov_det.extra, "Content_Rule_Id",
		                    json_string(r->content_det.rule_id));
	cw_judge_binary(r, jd);
	jd->in.script = NULL;
	jd->in.script_contents = NULL;
	jd->in.script_contents_len = 0;
	return &r->prov_det;
}
