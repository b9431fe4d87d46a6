/* sink_builtin.c - the sinks every agent has: the findings store and stdout
 * (see sink.h). New outputs are new files beside this one, each an ops table
 * and a constructor. */
#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "finding.h"
#include "store.h"
#include "util.h"

/* The built-in sinks own only their small state struct. */
static void free_priv(struct cw_sink *s)
{
	free(s->priv);
}

struct store_sink {
	struct cw_store *st; /* not owned */
	int64_t window_ms;
};

static int store_emit(struct cw_sink *s, struct cw_sink_item *it)
{
	struct store_sink *ss = s->priv;
	json_t *stored = NULL;
	int err = cw_store_record(ss->st, it->finding, it->key, ss->window_ms, &stored);

	if (err)
		return err;
	if (stored) {
		json_decref(it->finding);
		it->finding = stored;
	}
	return 0;
}

static const struct cw_sink_ops store_ops = {
    .kind = "store",
    .emit = store_emit,
    .close = free_priv,
};

struct cw_sink *cw_sink_store(struct cw_store *st, int64_t window_ms)
{
	struct store_sink *ss = calloc(1, sizeof(*ss));
	struct cw_sink *s;

	if (!ss)
		return NULL;
	ss->st = st;
	ss->window_ms = window_ms;
	if (!(s = cw_sink_new(&store_ops, ss, "store")))
		free(ss);
	return s;
}

struct stdout_sink {
	const struct cw_config *cfg; /* not owned */
	bool notification;
};

static int stdout_emit(struct cw_sink *s, struct cw_sink_item *it)
{
	struct stdout_sink *so = s->priv;
	json_t *env = so->notification ? cw_finding_notification(so->cfg, it->finding) : NULL;
	char *line = json_dumps(env ? env : it->finding, JSON_COMPACT | JSON_ENSURE_ASCII);
	int err = 0;

	json_decref(env);
	if (!line)
		return -ENOMEM;
	if (fputs(line, stdout) < 0 || fputc('\n', stdout) < 0 || fflush(stdout) != 0)
		err = -errno;
	free(line);
	return err ? err : 0;
}

static const struct cw_sink_ops stdout_ops = {
    .kind = "stdout",
    .emit = stdout_emit,
    .close = free_priv,
};

struct cw_sink *cw_sink_stdout(const struct cw_config *cfg, bool notification)
{
	struct stdout_sink *so = calloc(1, sizeof(*so));
	struct cw_sink *s;

	if (!so)
		return NULL;
	so->cfg = cfg;
	so->notification = notification;
	if (!(s = cw_sink_new(&stdout_ops, so, "stdout")))
		free(so);
	return s;
}
