/* collect_cli.c - the options of `cagewatch collect`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "nats_url.h"
#include "util.h"

#define DEFAULT_STATS "/run/cagewatch/collect.json"

static void usage(void)
{
	fputs("usage: cagewatch collect --nats URL --store postgres://USER@HOST/DB [options]\n"
	      "       cagewatch collect --import FILE.db --store postgres://...\n"
	      "  Consume the findings the agents' NATS sinks publish and merge them into\n"
	      "  PostgreSQL, acknowledging each batch only after it is committed. Run several\n"
	      "  with the same --durable to share the work; each takes over from the others.\n"
	      "  --nats URL          nats://HOST[:4222][,HOST...]?stream=NAME[&subject=SUBJ]\n"
	      "                      [&creds=FILE][&ca=FILE][&tls=true][&user=U&password=P]\n"
	      "                      (stream default CAGEWATCH, subject cagewatch.findings.>)\n"
	      "  --store URL         the PostgreSQL database (libpq URI; tables created)\n"
	      "  --durable NAME      the shared consumer (default cagewatch-collect)\n"
	      "  --batch N           findings per fetch and transaction (default 256)\n"
	      "  --ack-wait SECONDS  redelivery when a collector dies mid-batch (default 30)\n"
	      "  --stats-file PATH   counters, for `cagewatch stats --stats-file PATH`\n"
	      "                      (default " DEFAULT_STATS ")\n"
	      "  --import FILE.db    merge a node's SQLite store instead (a backfill), then exit\n",
	      stdout);
}

/* Parse argv into c; *import the --import path. 0, -1 (--help shown) or
 * CW_EXIT_ERROR (the usage error reported). */
static int parse(int argc, char **argv, struct collector *c, const char **import)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			return -1;
		}
		if (!v)
			return cw_usage_hint("collect",
			                     "unknown option, or one missing its value: '%s'", a);
		i++;
		if (!strcmp(a, "--nats"))
			c->nats_url = v;
		else if (!strcmp(a, "--store"))
			c->store_url = v;
		else if (!strcmp(a, "--durable"))
			c->durable = v;
		else if (!strcmp(a, "--batch"))
			c->batch = atoi(v);
		else if (!strcmp(a, "--ack-wait"))
			c->ack_wait_ms = (int64_t)(atof(v) * 1000);
		else if (!strcmp(a, "--stats-file"))
			c->stats_path = v;
		else if (!strcmp(a, "--import"))
			*import = v;
		else
			return cw_usage_hint("collect", "unknown option '%s'", a);
	}
	return 0;
}

/* Names and checks after parsing: CW_EXIT_ERROR (reported) when wrong. */
static int settle_options(struct collector *c, const char *import)
{
	if (!c->store_url || !c->store_url[0])
		return cw_usage_hint("collect", "--store postgres://... is required");
	if (strncmp(c->store_url, "postgres://", 11) && strncmp(c->store_url, "postgresql://", 13))
		return cw_usage_hint("collect", "--store must be a postgres:// URL, not \"%s\"",
		                     c->store_url);
	cw_url_redact(c->store_url, c->store_shown, sizeof(c->store_shown));
	if (import)
		return 0;
	if (!c->nats_url || strncmp(c->nats_url, "nats://", 7))
		return cw_usage_hint("collect", "--nats nats://HOST:4222?stream=NAME is required");
	if (c->batch < 1 || c->batch > 4096)
		return cw_usage_hint("collect", "--batch must be 1..4096");
	if (c->ack_wait_ms < 1000)
		return cw_usage_hint("collect", "--ack-wait must be at least 1 second");
	cw_url_redact(c->nats_url, c->nats_shown, sizeof(c->nats_shown));
	if (!cw_nats_param(c->nats_url, "stream", c->stream, sizeof(c->stream)))
		cw_strlcpy(c->stream, "CAGEWATCH", sizeof(c->stream));
	if (!cw_nats_param(c->nats_url, "subject", c->subjects, sizeof(c->subjects)))
		cw_strlcpy(c->subjects, "cagewatch.findings.>", sizeof(c->subjects));
	return 0;
}

int cw_cmd_collect(int argc, char **argv)
{
	struct collector c = {.durable = "cagewatch-collect",
	                      .batch = 256,
	                      .ack_wait_ms = 30000,
	                      .stats_path = DEFAULT_STATS};
	const char *import = NULL;
	int ret = parse(argc, argv, &c, &import);

	if (ret < 0)
		return CW_EXIT_OK;
	if (ret == 0)
		ret = settle_options(&c, import);
	if (ret)
		return ret;
	return import ? cw_collect_import(&c, import) : cw_collect(&c);
}
