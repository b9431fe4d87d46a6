/* service.c - the agent under a service manager: systemd's notify protocol
 * (libsystemd's sd_notify) for readiness once the sensors are attached, the
 * watchdog pinged from the event loop (a wedged loop gets the agent
 * restarted), reload and stop states, and a one-line STATUS. Without
 * NOTIFY_SOCKET (a terminal, Kubernetes) every call here is a no-op.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "agent_int.h"
#include "util.h"

static uint64_t watchdog_us; /* 0: no watchdog asked for */
static int64_t last_ping_ms;

void cw_service_ready(struct agent *a, int containers)
{
	char msg[256];
	uint64_t us = 0;

	if (sd_watchdog_enabled(0, &us) > 0)
		watchdog_us = us;
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=watching; %d container(s) known at start",
	         containers < 0 ? 0 : containers);
	(void)a;
	(void)sd_notify(0, msg);
	last_ping_ms = cw_mono_ms();
}

void cw_service_tick(struct agent *a)
{
	char msg[160];
	int64_t now;

	if (!watchdog_us)
		return;
	now = cw_mono_ms();
	/* ping at half the interval: one late tick does not get us killed */
	if (now - last_ping_ms < (int64_t)(watchdog_us / 2000))
		return;
	pthread_mutex_lock(&a->lock);
	snprintf(msg, sizeof(msg),
	         "WATCHDOG=1\nSTATUS=watching; %" PRIu64 " execs, %" PRIu64 " findings", a->execs,
	         a->findings);
	pthread_mutex_unlock(&a->lock);
	(void)sd_notify(0, msg);
	last_ping_ms = now;
}

void cw_service_state(const char *state)
{
	(void)sd_notify(0, state);
}
