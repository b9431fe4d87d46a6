/* desk.c - a bound on fanotify's questions (see desk.h).
 *
 * The kernel matches an answer to a question by the number of the event's
 * descriptor in the reader's table, so two readers must never have questions
 * with the same number outstanding at once. The guardian therefore reads
 * questions itself only while the enforcer has none outstanding (every slot
 * free) and is not reading (its reading flag and the guardian's owner flag
 * are set and checked crosswise, sequentially consistent: at most one side
 * goes ahead). A slot holds (descriptor + 1) << 40 | the time it was read, in
 * ms of CLOCK_BOOTTIME; GUARD while the guardian writes its answer, WRITING
 * while the enforcer writes its own.
 */
#include "desk.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* A read of 4096 bytes holds at most 170 events of 24 bytes: one slot each. */
#define SLOTS   192
#define T_MASK  ((1ull << 40) - 1)
#define GUARD   (~0ull)
#define WRITING (~0ull - 1)

struct page {
	_Atomic uint64_t beat_ms;
	_Atomic int reading, owner; /* owner: 1 while the guardian reads */
	_Atomic uint64_t slot[SLOTS];
	_Atomic uint64_t late, stalled, unbounded;
};

struct cw_desk {
	int fan_fd;
	struct page *pg;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cw_desk_open(struct cw_desk **out, int fan_fd)
{
	struct cw_desk *d;

	*out = NULL;
	if (fan_fd < 0)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->pg =
	    mmap(NULL, sizeof(*d->pg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (d->pg == MAP_FAILED) {
		int err = -errno;

		free(d);
		return err;
	}
	d->fan_fd = fan_fd;
	atomic_store(&d->pg->beat_ms, now_ms());
	*out = d;
	return 0;
}

void cw_desk_close(struct cw_desk *d)
{
	if (!d)
		return;
	munmap(d->pg, sizeof(*d->pg));
	free(d);
}

int cw_desk_fd(const struct cw_desk *d)
{
	return d ? d->fan_fd : -1;
}

void cw_desk_beat(struct cw_desk *d)
{
	if (d)
		atomic_store(&d->pg->beat_ms, now_ms());
}

void cw_desk_reading(struct cw_desk *d, bool on)
{
	if (!d)
		return;
	cw_desk_beat(d);
	if (!on) {
		atomic_store(&d->pg->reading, 0);
		return;
	}
	/* The guardian's reads take microseconds; one that never ends (it was
	 * killed while reading) is waited for at most 5 s. */
	for (int i = 0; i < 5000; i++) {
		atomic_store(&d->pg->reading, 1);
		if (!atomic_load(&d->pg->owner))
			return;
		atomic_store(&d->pg->reading, 0);
		usleep(1000);
	}
	atomic_store(&d->pg->owner, 0);
	atomic_store(&d->pg->reading, 1);
}

int cw_desk_take(struct cw_desk *d, int event_fd)
{
	uint64_t v;

	if (!d || event_fd < 0)
		return -1;
	v = ((uint64_t)event_fd + 1) << 40 | (now_ms() & T_MASK);
	for (int i = 0; i < SLOTS; i++) {
		uint64_t free_slot = 0;

		if (atomic_compare_exchange_strong(&d->pg->slot[i], &free_slot, v))
			return i;
	}
	atomic_fetch_add(&d->pg->unbounded, 1);
	return -1;
}

bool cw_desk_mine(struct cw_desk *d, int slot)
{
	uint64_t v;

	if (!d || slot < 0 || slot >= SLOTS)
		return true;
	for (int i = 0; i < 1000; i++) {
		v = atomic_load(&d->pg->slot[slot]);
		if (v == 0)
			return false; /* the guardian answered */
		if (v != GUARD && atomic_compare_exchange_strong(&d->pg->slot[slot], &v, WRITING))
			return true;
		usleep(1000); /* the guardian is writing its answer */
	}
	return false;
}

void cw_desk_done(struct cw_desk *d, int slot)
{
	if (d && slot >= 0 && slot < SLOTS)
		atomic_store(&d->pg->slot[slot], 0);
}

/* Guardian: answer "allow" for the questions held longer than limit_ms.
 * Returns true when no slot is taken any more. */
static bool answer_late(struct cw_desk *d, uint64_t now, uint64_t limit)
{
	bool empty = true;

	for (int i = 0; i < SLOTS; i++) {
		uint64_t v = atomic_load(&d->pg->slot[i]);
		uint64_t age = (now - v) & T_MASK; /* "negative" (read after now): young */
		struct fanotify_response r = {.response = FAN_ALLOW};

		if (v == 0)
			continue;
		if (v == GUARD || v == WRITING || age <= limit || age > T_MASK / 2 ||
		    !atomic_compare_exchange_strong(&d->pg->slot[i], &v, GUARD)) {
			empty = false;
			continue;
		}
		r.fd = (int32_t)(v >> 40) - 1;
		(void)!write(d->fan_fd, &r, sizeof(r));
		atomic_store(&d->pg->slot[i], 0);
		atomic_fetch_add(&d->pg->late, 1);
	}
	return empty;
}

/* Guardian: read what waits in the group and allow it all. */
static void drain(struct cw_desk *d)
{
	static char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	struct fanotify_event_metadata *m;
	ssize_t len;

	while ((len = read(d->fan_fd, buf, sizeof(buf))) > 0) {
		for (m = (struct fanotify_event_metadata *)(void *)buf; FAN_EVENT_OK(m, len);
		     m = FAN_EVENT_NEXT(m, len)) {
			struct fanotify_response r = {.fd = m->fd, .response = FAN_ALLOW};

			if (m->fd < 0)
				continue;
			if (m->mask & (FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM))
				(void)!write(d->fan_fd, &r, sizeof(r));
			close(m->fd);
			atomic_fetch_add(&d->pg->stalled, 1);
		}
	}
}

void cw_desk_guard(struct cw_desk *d, int limit_ms)
{
	uint64_t now = now_ms(), limit = (uint64_t)limit_ms;
	int idle = 0;

	if (!d || d->fan_fd < 0)
		return;
	if (!answer_late(d, now, limit))
		return; /* the enforcer still has questions out: never read beside them */
	if ((int64_t)(now - atomic_load(&d->pg->beat_ms)) <= (int64_t)limit ||
	    atomic_load(&d->pg->reading))
		return;
	if (!atomic_compare_exchange_strong(&d->pg->owner, &idle, 1))
		return;
	if (!atomic_load(&d->pg->reading))
		drain(d);
	atomic_store(&d->pg->owner, 0);
}

void cw_desk_release(struct cw_desk *d)
{
	if (d && d->fan_fd >= 0) {
		close(d->fan_fd);
		d->fan_fd = -1;
	}
}

void cw_desk_get_stats(const struct cw_desk *d, struct cw_desk_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!d)
		return;
	out->late = atomic_load(&d->pg->late);
	out->stalled = atomic_load(&d->pg->stalled);
	out->unbounded = atomic_load(&d->pg->unbounded);
}
