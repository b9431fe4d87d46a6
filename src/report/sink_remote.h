/* sink_remote.h - what sink_remote.c's delivery loop needs from a transport
 * (internal to src/report): a table per transport, in the spirit of sink.h.
 * Adding a transport is a file with one of these tables and a line in
 * sink_remote.c's list. */
#ifndef CW_SINK_REMOTE_H
#define CW_SINK_REMOTE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"

/* One remote sink: the URL, the loop's state and the transport's. */
struct cw_remote {
	const struct cw_transport_ops *ops;
	char url[512];     /* as given */
	char display[512]; /* without credentials or #options: logs, stats, the position key */
	char store_path[512];
	struct cw_config cfg; /* the agent's naming (a copy) */
	/* parsed by the transport */
	int mode; /* transport-specific: finding or Falco shape, unix/udp/tcp */
	char host[256], port[16], path[256];
	char opts[512]; /* the URL's #fragment: sink options never sent to the peer */
	void *tp;       /* transport state, opened lazily by send, freed by close */
	char why[640];  /* the last failure in the transport's words */
	/* the loop */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* the flags and counters */
	pthread_cond_t wake;
	bool stopping, kicked;
	struct {
		uint64_t delivered, retried, skipped, lag;
		int64_t position;
	} n;
};

struct cw_transport_ops {
	const char *kind; /* "webhook", "syslog": the sink's name prefix */
	/* Take url if it is this transport's (fill r->mode/host/port/path):
	 * 0, or -EINVAL when it is not (nothing logged). */
	int (*parse)(struct cw_remote *r, const char *url);
	/* Deliver one finding; 0 once the peer has it (as far as the transport
	 * can tell), -errno with r->why set otherwise. Delivery thread only. */
	int (*send)(struct cw_remote *r, json_t *finding);
	/* Optional: deliver fs[0..n) at once (a transport that can pipeline);
	 * *done how many the peer has, a prefix (all of them when 0 is
	 * returned). Without it, send is called for each. */
	int (*send_batch)(struct cw_remote *r, json_t **fs, size_t n, size_t *done);
	/* Release r->tp (delivery thread, at its end). */
	void (*close)(struct cw_remote *r);
};

extern const struct cw_transport_ops cw_transport_http;
extern const struct cw_transport_ops cw_transport_syslog;
extern const struct cw_transport_ops cw_transport_nats;

#endif
