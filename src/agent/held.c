/* held.c - the agent's side of `--block`'s hold (hold.h, hold.bpf.h): an exec
 * the kernel stopped before its first instruction is judged like any other
 * exec, on the worker, then let go or killed here. The event thread marks
 * the mounts a hold was for first, so the next exec there is fanotify's.
 * What an interpreter is about to read from stdin is peeked without being
 * consumed (tee(2) of the pipe, pread of a file). Every path of a held exec
 * ends in a decision; what none of them reaches in time the guardian lets go.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_int.h"
#include "util.h"

#define PEEK_MAX     (64 << 10) /* bytes of a stdin script judged */
#define PEEK_WAIT_MS 250        /* longest wait for a pipe's writer to write */

static const char *const hold_why[] = {
    [CW_HOLD_MOUNT] = "a file on a mount not marked yet (a new container's first exec, a new "
                      "mount, a memfd or another namespace's file)",
    [CW_HOLD_SCRIPT] = "an interpreter with a script operand",
    [CW_HOLD_STDIN] = "an interpreter reading its program from stdin",
};

int cw_held_open(struct agent *a, int limit_ms)
{
	struct cw_sensor_hold_maps m;

	cw_sensor_hold_maps(a->sensor, &m);
	return cw_hold_open(&a->hold, m.held, m.interp, limit_ms, cw_enforce_desk(a->enforce));
}

bool cw_held_event(struct agent *a, const struct cw_event *ev)
{
	if (!ev->hold || !a->hold)
		return false;
	if (ev->hold == CW_HOLD_MOUNT)
		(void)cw_enforce_refresh(a->enforce, ev->mntns, (int)ev->tgid);
	return ev->hold == CW_HOLD_STDIN;
}

void cw_held_let_go(struct agent *a, const struct cw_event *ev)
{
	if (ev->hold && a->hold)
		(void)cw_hold_decide(a->hold, ev->tgid, false);
}

/* A pipe's content, left in place: wait for the writer (bounded), then tee
 * what is there into a pipe of our own and read that. */
static ssize_t peek_pipe(int fd, char *buf, size_t cap, bool *eof)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int mine[2];
	ssize_t n, got = 0;

	*eof = false;
	if (poll(&p, 1, PEEK_WAIT_MS) <= 0)
		return 0;
	if (pipe2(mine, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	(void)fcntl(mine[1], F_SETPIPE_SZ, (int)cap);
	n = tee(fd, mine[1], cap, SPLICE_F_NONBLOCK);
	if (n > 0)
		got = read(mine[0], buf, (size_t)n);
	*eof = (p.revents & POLLHUP) && n >= 0 && (size_t)n < cap;
	close(mine[0]);
	close(mine[1]);
	return got < 0 ? -errno : got;
}

/* What the held interpreter will read from stdin, into r->inline_text. Only
 * a pipe or a regular file is read (opened through the process's own fd,
 * non-blocking, after an O_PATH look at what it is). */
static void peek_stdin(struct cw_report *r)
{
	char path[64], *buf;
	struct stat st;
	ssize_t n = 0;
	bool eof = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/fd/0", r->ev.tgid);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !(S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || !(buf = malloc(PEEK_MAX))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (S_ISREG(st.st_mode)) {
		n = pread(fd, buf, PEEK_MAX, 0);
		eof = n >= 0 && n < PEEK_MAX;
	} else {
		n = peek_pipe(fd, buf, PEEK_MAX, &eof);
	}
	close(fd);
	if (n <= 0) {
		free(buf);
		return;
	}
	r->inline_text = buf;
	r->inline_len = (size_t)n;
	r->inline_label = "/dev/stdin";
	r->inline_source = S_ISREG(st.st_mode) ? "stdin (file)" : "stdin (pipe)";
	r->stdin_flags = eof ? CW_TQI_EOF : CW_TQI_TRUNC;
}

void cw_held_prepare(struct cw_report *r)
{
	if (r->kind == CW_REPORT_EXEC && r->ev.hold == CW_HOLD_STDIN && !r->inline_text &&
	    !r->script_kind)
		peek_stdin(r);
}

void cw_held_decide(struct agent *a, struct cw_report *r, struct cw_detection *det)
{
	bool kill = det && r->content_hit && det == &r->content_det;
	uint32_t why = r->ev.hold;
	int rc;

	if (!why || !a->hold || r->kind != CW_REPORT_EXEC)
		return;
	r->ev.hold = CW_HOLD_NONE;
	rc = cw_hold_decide(a->hold, r->ev.tgid, kill);
	if (!kill)
		return;
	if (!det->extra)
		det->extra = json_object();
	if (rc != 1) {
		cw_warn("%s (pid %u) was held but let go before its verdict (limit %d ms, or it "
		        "had gone): it ran",
		        r->ex.path, r->ev.tgid, cw_hold_limit_ms(a->hold));
		json_object_set_new(det->extra, "Block_Missed",
		                    json_string("held, but let go before the verdict"));
		return;
	}
	json_object_set_new(det->extra, "Blocked", json_true());
	json_object_set_new(
	    det->extra, "Block_Method",
	    json_sprintf("exec held (SIGSTOP from the exec tracepoint) and killed before the "
	                 "program's first instruction: %s",
	                 why < sizeof(hold_why) / sizeof(hold_why[0]) ? hold_why[why] : "?"));
	cw_warn("blocked: %s (%s) in the mount namespace %u, pid %u killed before it ran",
	        r->ex.path, det->rule_id, r->ev.mntns, r->ev.tgid);
}
