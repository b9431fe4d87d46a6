/* collect.h - the fleet collector (`cagewatch collect`, collect.c): a durable
 * JetStream consumer writing every node's findings into PostgreSQL. */
#ifndef CW_COLLECT_H
#define CW_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include <nats/nats.h>

struct cw_store;

struct collector {
	/* options */
	const char *nats_url, *store_url, *stats_path;
	char nats_shown[512], store_shown[512]; /* without credentials */
	char stream[128], subjects[256];
	const char *durable;
	int batch;
	int64_t ack_wait_ms;
	/* state */
	struct cw_store *store;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	bool store_down, nats_down;
	struct {
		uint64_t received, stored, batches, rejected, redelivered;
		uint64_t store_errors, nats_errors, ack_errors;
		int64_t pending, last_commit_ms;
	} n;
};

/* Consume until SIGINT/SIGTERM; every outage is waited out. Exit status. */
int cw_collect(struct collector *c);
/* Merge every finding of the SQLite store at path into c->store_url. */
int cw_collect_import(struct collector *c, const char *path);
/* `cagewatch collect ...` (collect_cli.c). */
int cw_cmd_collect(int argc, char **argv);

#endif
