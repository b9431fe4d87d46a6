/* guard.c - self-protection (see guard.h): loads src/bpf/guard.bpf.c, pins
 * it, reads what an earlier agent's pins say, registers what to protect and
 * delivers the attempt records.
 *
 * Pin layout under the pin directory: `state` (heartbeat), `counts`
 * (per-CPU counters), `events` (ring buffer) and `link_<program>` per program.
 * A new agent attaches its own programs first, reads the old state and
 * counters, keeps the old ring buffer open to drain it, and only then replaces
 * the pins, so no exec goes uncounted across the hand-over.
 */
#include "guard.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfload.h"
#include "guard_event.h"
#include "guard.skel.h"
#include "technique_event.h"
#include "util.h"

#define BPF_FS_MAGIC  0xcafe4a11u
#define MAX_LINKS     16
#define HOST_SLOTS    8
#define HOST_QUIET_NS (10ull * 1000000000ull) /* one line per caller and kind per 10 s */

/* A host process's attempts of one kind: logged once per HOST_QUIET_NS (a
 * debugger's ptrace calls come by the thousand a second), the rest counted
 * and summed up in the next line. */
struct host_line {
	uint32_t tgid;
	uint32_t kind; /* 0 bpf, 1 trace or memory, 2 signal; + 3: on an earlier agent */
	uint64_t last_ns;
	uint64_t quiet;
};

struct cw_guard {
	struct guard_bpf *skel;
	struct bpf_link *links[MAX_LINKS];
	const char *link_names[MAX_LINKS]; /* their programs' names */
	size_t n_links;
	struct ring_buffer *rb;
	int old_events_fd; /* an earlier agent's ring buffer, -1 if none */
	int ncpu;
	char pin_dir[256]; /* "" when nothing is pinned */
	int (*on_record)(void *ctx, const void *data, size_t len);
	void *ctx;
	uint64_t start_ns;
	uint32_t self; /* this agent's pid: records naming another are an earlier agent's */
	struct cw_guard_stats st;
	struct host_line recent[HOST_SLOTS]; /* the last host callers logged */
};

static int counter(int map_fd, int ncpu, uint32_t idx, uint64_t *out)
{
	return cw_bpf_percpu_sum(map_fd, idx, ncpu, out, NULL, 0);
}

static uint32_t host_kind(const struct cw_tq_event *ev)
{
	if (ev->sys == CW_TQS_BPF)
		return 0;
	if (ev->sys == CW_TQS_PTRACE || ev->sys >= CW_TQS_VM_READV || ev->sys == CW_TQS_VM_WRITEV)
		return 1;
	return 2;
}

/* Should this host attempt be logged? Sets *quiet to the attempts of the same
 * caller and kind left unlogged since its last line. */
static bool host_should_log(struct cw_guard *g, uint32_t tgid, uint32_t kind, uint64_t *quiet)
{
	uint64_t now = cw_mono_ns();
	struct host_line *slot = &g->recent[0];

	for (size_t i = 0; i < HOST_SLOTS; i++) {
		struct host_line *h = &g->recent[i];

		if (h->last_ns && h->tgid == tgid && h->kind == kind) {
			if (now - h->last_ns < HOST_QUIET_NS) {
				h->quiet++;
				g->st.host_unlogged++;
				return false;
			}
			slot = h;
			break;
		}
		if (h->last_ns < slot->last_ns) /* else the oldest line's slot */
			slot = h;
	}
	*quiet = slot->tgid == tgid && slot->kind == kind ? slot->quiet : 0;
	*slot = (struct host_line){.tgid = tgid, .kind = kind, .last_ns = now};
	return true;
}

/* A host process's attempt: logged (within host_should_log's limit) and
 * counted, never a finding. A signal that can end or stop the agent is logged
 * every time (the kernel already folds repeats within a second), so the line
 * saying who stopped it is never held back; records an earlier agent left in
 * the pinned ring name that agent, within the same limit. */
static void host_attempt(struct cw_guard *g, const struct cw_tq_event *ev)
{
	char comm[sizeof(ev->comm) + 1], more[64] = "", whom[64] = "the agent";
	uint32_t kind = host_kind(ev);
	bool earlier = ev->target_pid != g->self;
	bool stopping = kind == 2 && !cw_guard_harmless_signal(ev->arg[0]);
	uint64_t quiet = 0;

	g->st.host_attempts++;
	/* an earlier agent's records have log slots of their own (kind + 3) */
	if (!stopping && !host_should_log(g, ev->tgid, kind + (earlier ? 3 : 0), &quiet))
		return;
	if (earlier)
		snprintf(whom, sizeof(whom), "the agent before this one (pid %u)", ev->target_pid);
	memcpy(comm, ev->comm, sizeof(ev->comm));
	comm[sizeof(ev->comm)] = 0;
	if (quiet)
		snprintf(more, sizeof(more), " (and %llu more times since its last line)",
		         (unsigned long long)quiet);
	if (kind == 0)
		cw_info("host process %u (%s) took a descriptor of one of %s's BPF objects (bpf "
		        "command %llu)%s",
		        ev->tgid, comm, whom, (unsigned long long)ev->arg[0], more);
	else if (kind == 1)
		cw_info("host process %u (%s) traced %s or accessed its memory%s", ev->tgid, comm,
		        whom, more);
	else
		cw_info("host process %u (%s) sent %s signal %llu (%s)%s", ev->tgid, comm, whom,
		        (unsigned long long)ev->arg[0],
		        ev->arg[0] < 65 && sigabbrev_np((int)ev->arg[0])
		            ? sigabbrev_np((int)ev->arg[0])
		            : "?",
		        more);
}

/* One attempt record: host callers are logged, the rest handed on. */
static int on_sample(void *ctx, void *data, size_t len)
{
	struct cw_guard *g = ctx;
	const struct cw_tq_event *ev = data;

	if (len != sizeof(*ev) || !(ev->flags & CW_TQF_AGENT)) {
		g->st.malformed++;
		return 0;
	}
	if (ev->flags & CW_TQF_HOST_NS) {
		host_attempt(g, ev);
		return 0;
	}
	g->st.attempts++;
	return g->on_record ? g->on_record(g->ctx, data, len) : 0;
}

/* Make sure dir's parent is a bpffs (mounting one at /sys/fs/bpf if that is
 * the parent and nothing is there) and dir exists, mode 0700. */
static int prepare_pin_dir(const char *dir)
{
	char parent[256];
	struct statfs sf;
	char *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -EINVAL;
	*slash = 0;
	if (statfs(parent, &sf) != 0)
		return -errno;
	if ((uint32_t)sf.f_type != BPF_FS_MAGIC) {
		if (strcmp(parent, "/sys/fs/bpf") != 0)
			return -ENOTSUP;
		if (mount("bpf", parent, "bpf", 0, "mode=0700") != 0)
			return -errno;
		cw_info("mounted bpffs at %s to pin the self-protection programs", parent);
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Is pid a live (not zombie) cagewatch other than this one? */
static bool pid_is_agent(uint32_t pid)
{
	char p[64], *st = NULL, *close_paren;
	size_t len = 0;
	bool yes;

	snprintf(p, sizeof(p), "/proc/%u/stat", pid);
	if (pid == (uint32_t)getpid() || cw_read_file(p, 4096, &st, &len) != 0)
		return false;
	close_paren = strrchr(st, ')');
	yes = !strncmp(st + strcspn(st, "("), "(cagewatch)", 11) && close_paren &&
	      close_paren[1] == ' ' && close_paren[2] != 'Z' && close_paren[2] != 'X';
	free(st);
	return yes;
}

static int pin_fd(const struct cw_guard *g, const char *name)
{
	char p[320];

	snprintf(p, sizeof(p), "%s/%s", g->pin_dir, name);
	return bpf_obj_get(p);
}

/* The earlier agent's drop counters, from its pinned counts (an agent older
 * than the shed counter has fewer entries: those read as 0). */
static void read_previous_counts(struct cw_guard *g)
{
	struct cw_guard_gap *gap = &g->st.previous;
	int fd = pin_fd(g, "counts");

	if (fd < 0)
		return;
	if (counter(fd, g->ncpu, CW_GC_LOST, &gap->lost))
		gap->lost = 0;
	if (counter(fd, g->ncpu, CW_GC_SHED, &gap->shed))
		gap->shed = 0;
	close(fd);
}

/* What the pins of an earlier agent say. Returns 1 when another agent is
 * alive and holds them (this one then pins nothing), else 0. */
static int read_previous(struct cw_guard *g)
{
	struct cw_guard_state s = {0};
	struct cw_guard_gap *gap = &g->st.previous;
	uint32_t zero = 0;
	uint64_t forks = cw_fork_count();
	int fd = pin_fd(g, "state");

	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &zero, &s) != 0 || !s.agent_tgid) {
		close(fd);
		return 0;
	}
	close(fd);
	if (!s.clean && pid_is_agent(s.agent_tgid)) {
		cw_warn("another cagewatch agent (pid %u) holds the pins in %s: this one runs "
		        "with self-protection but pins nothing (give it its own --pin-dir)",
		        s.agent_tgid, g->pin_dir);
		return 1;
	}
	gap->found = true;
	gap->clean = s.clean;
	gap->pid = s.agent_tgid;
	gap->down_s = g->start_ns > s.beat_ns ? (double)(g->start_ns - s.beat_ns) / 1e9 : 0;
	gap->processes = forks > s.forks_at_beat ? forks - s.forks_at_beat : 0;
	g->old_events_fd = pin_fd(g, "events");
	read_previous_counts(g);
	return 0;
}

static void log_previous(const struct cw_guard *g)
{
	const struct cw_guard_gap *gap = &g->st.previous;

	if (!gap->found)
		return;
	if (gap->clean)
		cw_info("the agent before this one (pid %u) stopped on its own %.1f s ago; %llu "
		        "processes started unwatched since",
		        gap->pid, gap->down_s, (unsigned long long)gap->processes);
	else
		cw_warn("the agent before this one (pid %u) stopped without shutting down "
		        "(killed or crashed) %.1f s ago; %llu processes started unwatched since; "
		        "attempts on it that were recorded follow as findings",
		        gap->pid, gap->down_s, (unsigned long long)gap->processes);
	if (gap->lost)
		cw_warn("%llu records of attempts on the agent before this one were lost (its "
		        "ring buffer was full): those attempts are not reported",
		        (unsigned long long)gap->lost);
	if (gap->shed)
		cw_info("%llu attempts on the agent before this one that could not stop it were "
		        "counted but not recorded (its ring buffer was half full)",
		        (unsigned long long)gap->shed);
}

/* Remove every pin in the directory (an earlier agent's), then pin ours. */
static int replace_pins(struct cw_guard *g)
{
	struct {
		struct bpf_map *map;
		const char *name;
	} maps[] = {
	    {g->skel->maps.guard_state, "state"},
	    {g->skel->maps.guard_counts, "counts"},
	    {g->skel->maps.guard_events, "events"},
	};
	char p[320];
	DIR *d = opendir(g->pin_dir);
	struct dirent *de;
	int err;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) != 0)
			cw_warn("cannot remove the old pin %s/%s: %s", g->pin_dir, de->d_name,
			        strerror(errno));
	closedir(d);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", g->pin_dir, maps[i].name);
		if ((err = bpf_map__pin(maps[i].map, p)))
			return err;
	}
	for (size_t i = 0; i < g->n_links; i++) {
		snprintf(p, sizeof(p), "%s/link_%s", g->pin_dir, g->link_names[i]);
		if ((err = bpf_link__pin(g->links[i], p)))
			return err;
	}
	return 0;
}

/* Attach every program; a syscall this kernel has no tracepoint for (not
 * built in) is skipped with a note, anything else fails. */
static int attach_all(struct cw_guard *g)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, g->skel->obj)
	{
		struct bpf_link *l;

		if (g->n_links >= MAX_LINKS)
			return -E2BIG;
		l = bpf_program__attach(prog);
		if (!l) {
			int err = -errno;

			if (err == -ENOENT) {
				cw_info("self-protection: no tracepoint for %s on this kernel",
				        bpf_program__section_name(prog));
				continue;
			}
			cw_warn("cannot attach the self-protection program %s (%s): %s",
			        bpf_program__name(prog), bpf_program__section_name(prog),
			        strerror(-err));
			return err;
		}
		g->link_names[g->n_links] = bpf_program__name(prog);
		g->links[g->n_links++] = l;
	}
	return 0;
}

static int load(struct cw_guard *g, const struct cw_guard_opts *opts)
{
	const char *why = "";
	char dir[64];
	int err;

	/* per-syscall tracepoints (tracefs mounted if it is not) */
	if ((err = cw_bpf_syscall_tracefs(dir, sizeof(dir), &why))) {
		cw_warn("self-protection needs per-syscall tracepoints (%s)", why);
		return err;
	}
	g->skel = guard_bpf__open();
	if (!g->skel) {
		err = -errno;
		cw_warn("cannot open the self-protection BPF object: %s", strerror(-err));
		return err;
	}
	g->skel->rodata->agent_tgid = (uint32_t)getpid();
	g->skel->rodata->agent_pidns = cw_proc_ns("/proc", getpid(), "pid");
	g->skel->rodata->agent_pgid = (uint32_t)getpgid(0);
	g->skel->rodata->host_pidns = opts->host_pidns;
	g->skel->rodata->host_mntns = opts->host_mntns;
	if ((err = guard_bpf__load(g->skel))) {
		cw_warn("the kernel refused to load the self-protection programs (%s)",
		        strerror(-err));
		return err;
	}
	return attach_all(g);
}

/* Pins: read what an earlier agent left, then take them over. */
static void take_pins(struct cw_guard *g, const char *dir)
{
	int err = prepare_pin_dir(dir);

	if (err) {
		cw_warn("cannot pin the self-protection programs in %s (%s): a killed agent "
		        "will not be noticed by the next one",
		        dir, err == -ENOTSUP ? "its parent is not a bpffs" : strerror(-err));
		return;
	}
	snprintf(g->pin_dir, sizeof(g->pin_dir), "%s", dir);
	if (read_previous(g)) {
		g->pin_dir[0] = 0;
		return;
	}
	log_previous(g);
	if ((err = replace_pins(g))) {
		cw_warn("cannot pin the self-protection programs in %s: %s", dir, strerror(-err));
		return;
	}
	g->st.pinned = true;
}

int cw_guard_open(struct cw_guard **out, const struct cw_guard_opts *opts)
{
	const char *dir;
	struct cw_guard *g;
	int err;

	if (!out || !opts || opts->sz < sizeof(*opts))
		return -EINVAL;
	*out = NULL;
	if ((err = cw_bpf_check_host("self-protection")))
		return err;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->old_events_fd = -1;
	g->on_record = opts->on_record;
	g->ctx = opts->ctx;
	g->start_ns = (uint64_t)cw_boot_ns();
	g->self = (uint32_t)getpid();
	if ((g->ncpu = cw_bpf_ncpu()) <= 0) {
		err = g->ncpu;
		goto fail;
	}
	cw_bpf_log_init();
	if ((err = load(g, opts)))
		goto fail;
	dir = opts->pin_dir ? opts->pin_dir : CW_GUARD_PIN_DIR;
	if (dir[0])
		take_pins(g, dir);
	g->rb = ring_buffer__new(bpf_map__fd(g->skel->maps.guard_events), on_sample, g, NULL);
	if (!g->rb) {
		err = -errno;
		cw_warn("cannot map the self-protection ring buffer: %s", strerror(-err));
		goto fail;
	}
	if (g->old_events_fd >= 0 &&
	    (err = ring_buffer__add(g->rb, g->old_events_fd, on_sample, g)))
		cw_warn("cannot read the attempts the previous agent left: %s", strerror(-err));
	if ((err = cw_guard_beat(g)))
		cw_warn("cannot write the self-protection heartbeat: %s", strerror(-err));
	*out = g;
	return 0;
fail:
	cw_guard_close(g, false);
	return err < 0 ? err : -EINVAL;
}

static int add_id(struct cw_guard *g, uint32_t type, uint32_t id)
{
	uint64_t k = ((uint64_t)type << 32) | id;
	uint8_t one = 1;

	if (bpf_map_update_elem(bpf_map__fd(g->skel->maps.guard_ids), &k, &one, BPF_ANY))
		return -errno;
	g->st.protected_objects++;
	return 0;
}

/* The kind and id of the BPF object behind one of our descriptors (0: not one). */
static uint32_t object_of(int fd, uint32_t *id)
{
	char p[64], link[64];
	union {
		struct bpf_prog_info prog;
		struct bpf_map_info map;
		struct bpf_link_info link;
	} info;
	uint32_t len = sizeof(info), type;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = 0;
	if (!strcmp(link, "anon_inode:bpf-prog"))
		type = CW_GO_PROG;
	else if (!strcmp(link, "anon_inode:bpf-map"))
		type = CW_GO_MAP;
	else if (!strcmp(link, "anon_inode:bpf_link"))
		type = CW_GO_LINK;
	else
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	*id = type == CW_GO_PROG ? info.prog.id : type == CW_GO_MAP ? info.map.id : info.link.id;
	return *id ? type : 0;
}

int cw_guard_protect(struct cw_guard *g)
{
	uint8_t one = 1;
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (!g)
		return -EINVAL;
	if (!(d = opendir("/proc/self/task")))
		return -errno;
	while ((de = readdir(d))) {
		uint32_t tid = (uint32_t)strtoul(de->d_name, NULL, 10);

		if (tid && !bpf_map_update_elem(bpf_map__fd(g->skel->maps.guard_tids), &tid, &one,
		                                BPF_ANY))
			g->st.protected_tids++;
	}
	closedir(d);
	if (!(d = opendir("/proc/self/fd")))
		return -errno;
	while ((de = readdir(d)) && !err) {
		uint32_t id = 0, type = object_of(atoi(de->d_name), &id);

		if (type)
			err = add_id(g, type, id);
	}
	closedir(d);
	return err ? err : (int)g->st.protected_objects;
}

int cw_guard_fd(const struct cw_guard *g)
{
	return g ? ring_buffer__epoll_fd(g->rb) : -EINVAL;
}

int cw_guard_consume(struct cw_guard *g)
{
	return g ? ring_buffer__consume(g->rb) : -EINVAL;
}

static int write_state(struct cw_guard *g, bool clean)
{
	struct cw_guard_state s = {
	    .agent_tgid = (uint32_t)getpid(),
	    .clean = clean,
	    .start_ns = g->start_ns,
	    .beat_ns = (uint64_t)cw_boot_ns(),
	};
	uint32_t zero = 0;

	s.forks_at_beat = cw_fork_count();
	if (bpf_map_update_elem(bpf_map__fd(g->skel->maps.guard_state), &zero, &s, BPF_ANY))
		return -errno;
	return 0;
}

int cw_guard_beat(struct cw_guard *g)
{
	return g ? write_state(g, false) : -EINVAL;
}

int cw_guard_stats(const struct cw_guard *g, struct cw_guard_stats *out)
{
	uint64_t c[CW_GC_MAX];
	int fd, err;

	if (!g || !out)
		return -EINVAL;
	*out = g->st;
	fd = bpf_map__fd(g->skel->maps.guard_counts);
	if ((err = cw_bpf_percpu_sums(fd, CW_GC_MAX, g->ncpu, c, CW_GC_MAX, NULL, 0)))
		return err;
	out->submitted = c[CW_GC_SUBMITTED];
	out->lost = c[CW_GC_LOST];
	out->folded = c[CW_GC_FOLDED];
	out->host_folded = c[CW_GC_FOLDED_HOST];
	out->shed = c[CW_GC_SHED];
	return 0;
}

void cw_guard_close(struct cw_guard *g, bool clean)
{
	if (!g)
		return;
	if (g->skel && g->rb) {
		if (write_state(g, clean))
			cw_warn("cannot write the self-protection state at exit");
	}
	ring_buffer__free(g->rb);
	if (g->old_events_fd >= 0)
		close(g->old_events_fd);
	for (size_t i = 0; i < g->n_links; i++)
		bpf_link__destroy(g->links[i]); /* a pinned link stays attached */
	guard_bpf__destroy(g->skel);
	free(g);
}
