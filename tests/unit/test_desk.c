/* test_desk.c - the bound on fanotify's questions (src/enforce/desk.c): a
 * question the enforcer holds past the limit is answered "allow" once, by the
 * guardian; one the enforcer has started answering never is; questions
 * waiting in the group are read and allowed only when the enforcer has been
 * silent for the limit, has none outstanding and is not reading. A socket
 * pair stands in for the group: the test writes the kernel's events into one
 * end and reads the answers back from it. */
#include <errno.h>
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "desk.h"

static int group[2]; /* [0]: the desk's "group", [1]: the kernel's side */

static struct cw_desk *desk(void)
{
	struct cw_desk *d = NULL;

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, group), 0);
	CHECK_INT(cw_desk_open(&d, group[0]), 0);
	return d;
}

static void done(struct cw_desk *d)
{
	cw_desk_close(d);
	close(group[0]);
	close(group[1]);
}

/* The guardian's counts are late and stalled; then the desk goes. */
static void counted(struct cw_desk *d, int late, int stalled)
{
	struct cw_desk_stats s;

	cw_desk_get_stats(d, &s);
	CHECK_INT(s.late, late);
	CHECK_INT(s.stalled, stalled);
	done(d);
}

/* The next answer the "kernel" got: its fd, or -1 when none is waiting. */
static int answer(void)
{
	struct fanotify_response r;

	if (read(group[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
		return -1;
	CHECK_INT(r.response, FAN_ALLOW);
	return r.fd;
}

/* A question waiting in the group, for a descriptor of ours; returns it. */
static int question(void)
{
	struct fanotify_event_metadata m = {.event_len = FAN_EVENT_METADATA_LEN,
	                                    .vers = FANOTIFY_METADATA_VERSION,
	                                    .metadata_len = FAN_EVENT_METADATA_LEN,
	                                    .mask = FAN_OPEN_EXEC_PERM,
	                                    .pid = 1};

	m.fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK_INT(write(group[1], &m, sizeof(m)), sizeof(m));
	return m.fd;
}

TEST(late_answered_once)
{
	struct cw_desk *d = desk();
	int slot = cw_desk_take(d, 42);

	CHECK(slot >= 0);
	cw_desk_guard(d, 50);
	CHECK_INT(answer(), -1); /* young: left to the enforcer */
	usleep(80000);
	cw_desk_beat(d);
	cw_desk_guard(d, 50);
	CHECK_INT(answer(), 42);
	CHECK(!cw_desk_mine(d, slot)); /* the enforcer must not answer again */
	cw_desk_guard(d, 50);
	CHECK_INT(answer(), -1);
	counted(d, 1, 0);
}

TEST(enforcer_first)
{
	struct cw_desk *d = desk();
	int slot = cw_desk_take(d, 7);

	CHECK(cw_desk_mine(d, slot));
	usleep(80000);
	cw_desk_beat(d);
	cw_desk_guard(d, 50); /* the enforcer is writing: hands off */
	CHECK_INT(answer(), -1);
	cw_desk_done(d, slot);
	cw_desk_guard(d, 50);
	CHECK_INT(answer(), -1);
	CHECK(cw_desk_mine(NULL, -1)); /* no desk: the enforcer answers */
	done(d);
}

TEST(stalled_read_only_when_safe)
{
	struct cw_desk *d = desk();
	int fd = question(), slot;

	cw_desk_guard(d, 50);
	CHECK_INT(answer(), -1); /* the enforcer was seen just now */
	usleep(80000);
	cw_desk_reading(d, true);
	usleep(80000);
	cw_desk_guard(d, 50); /* silent, but in the middle of a read */
	CHECK_INT(answer(), -1);
	cw_desk_reading(d, false);
	slot = cw_desk_take(d, 99);
	usleep(80000);
	cw_desk_take(d, 98); /* young: the group is not read beside it */
	cw_desk_guard(d, 50);
	CHECK_INT(answer(), 99);
	CHECK_INT(answer(), -1);
	CHECK(!cw_desk_mine(d, slot));
	usleep(80000);
	cw_desk_guard(d, 50); /* 98 is late now; then nothing is out: read */
	CHECK_INT(answer(), 98);
	CHECK_INT(answer(), fd);
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF); /* the guardian closed it */
	counted(d, 2, 1);
}

TEST(slots_run_out)
{
	struct cw_desk *d = desk();
	struct cw_desk_stats s;
	int n = 0;

	while (cw_desk_take(d, 5) >= 0 && n < 1000)
		n++;
	CHECK(n >= (int)(4096 / FAN_EVENT_METADATA_LEN)); /* a whole read fits */
	cw_desk_get_stats(d, &s);
	CHECK_INT(s.unbounded, 1);
	CHECK_INT(cw_desk_take(d, -1), -1);
	done(d);
}

static const struct cw_test tests[] = {
    {"late_answered_once", late_answered_once},
    {"enforcer_first", enforcer_first},
    {"stalled_read_only_when_safe", stalled_read_only_when_safe},
    {"slots_run_out", slots_run_out},
};
CW_TEST_MAIN(tests)
