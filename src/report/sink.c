/* sink.c - the sink set and asynchronous sinks (see sink.h). */
#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The queue of an asynchronous sink: findings (references held) in order. */
struct cw_sink_async {
	pthread_t thread;
	pthread_cond_t more;
	json_t **ring;
	char **keys;
	size_t depth, head, count;
	bool stopping;
};

struct cw_sink *cw_sink_new(const struct cw_sink_ops *ops, void *priv, const char *name)
{
	struct cw_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = ops;
	s->priv = priv;
	snprintf(s->name, sizeof(s->name), "%s", name ? name : ops->kind);
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

/* Run one emit and count its outcome. */
static void emit_one(struct cw_sink *s, struct cw_sink_item *it)
{
	int err = s->ops->emit(s, it);
	uint64_t failed = 0;

	pthread_mutex_lock(&s->lock);
	if (err)
		failed = ++s->n.failed;
	else
		s->n.emitted++;
	pthread_mutex_unlock(&s->lock);
	if (failed == 1 || (failed && failed % 100 == 0))
		cw_warn("sink %s failed (%s; %llu failures so far): the other sinks still get "
		        "the finding",
		        s->name, strerror(-err), (unsigned long long)failed);
}

static void *async_main(void *arg)
{
	struct cw_sink *s = arg;
	struct cw_sink_async *q = s->async;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct cw_sink_item it;
		char *key;

		while (!q->count && !q->stopping)
			pthread_cond_wait(&q->more, &s->lock);
		if (!q->count)
			break;
		it.finding = q->ring[q->head];
		key = q->keys[q->head];
		it.key = key;
		q->head = (q->head + 1) % q->depth;
		q->count--;
		pthread_mutex_unlock(&s->lock);
		emit_one(s, &it);
		json_decref(it.finding);
		free(key);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int cw_sink_async(struct cw_sink *s, size_t depth)
{
	struct cw_sink_async *q;
	int err;

	if (!s || s->async || !depth)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q || !(q->ring = calloc(depth, sizeof(json_t *))) ||
	    !(q->keys = calloc(depth, sizeof(*q->keys)))) {
		if (q)
			free(q->ring);
		free(q);
		return -ENOMEM;
	}
	q->depth = depth;
	pthread_cond_init(&q->more, NULL);
	s->async = q;
	if ((err = pthread_create(&q->thread, NULL, async_main, s))) {
		s->async = NULL;
		free(q->keys);
		free(q->ring);
		free(q);
		return -err;
	}
	return 0;
}

/* Queue a finding for an asynchronous sink; a full queue drops it (counted). */
static void enqueue(struct cw_sink *s, const struct cw_sink_item *it)
{
	struct cw_sink_async *q = s->async;
	uint64_t dropped = 0;

	pthread_mutex_lock(&s->lock);
	if (q->count == q->depth) {
		dropped = ++s->n.dropped;
	} else {
		size_t at = (q->head + q->count) % q->depth;

		q->ring[at] = json_incref(it->finding);
		q->keys[at] = strdup(it->key ? it->key : "");
		q->count++;
		pthread_cond_signal(&q->more);
	}
	pthread_mutex_unlock(&s->lock);
	if (dropped == 1 || (dropped && dropped % 1000 == 0))
		cw_warn("sink %s is %zu findings behind: dropping (%llu dropped so far)", s->name,
		        q->depth, (unsigned long long)dropped);
}

void cw_sink_free(struct cw_sink *s)
{
	if (!s)
		return;
	if (s->async) {
		pthread_mutex_lock(&s->lock);
		s->async->stopping = true;
		pthread_cond_signal(&s->async->more);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->async->thread, NULL);
		free(s->async->keys);
		free(s->async->ring);
		free(s->async);
	}
	if (s->ops->close)
		s->ops->close(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void cw_sink_counters(struct cw_sink *s, struct cw_sink_counters *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->n;
	pthread_mutex_unlock(&s->lock);
}

int cw_sinks_add(struct cw_sinks *set, struct cw_sink *s)
{
	if (!s)
		return -ENOMEM;
	if (set->n >= CW_SINKS_MAX) {
		cw_sink_free(s);
		return -ENOSPC;
	}
	set->v[set->n++] = s;
	return 0;
}

void cw_sinks_emit(struct cw_sinks *set, json_t *finding, const char *key)
{
	struct cw_sink_item it = {.finding = json_incref(finding), .key = key};

	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i]->async)
			enqueue(set->v[i], &it);
		else
			emit_one(set->v[i], &it);
	}
	json_decref(it.finding);
}

json_t *cw_sinks_stats(struct cw_sinks *set)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < set->n; i++) {
		struct cw_sink_counters c;

		json_t *e;

		cw_sink_counters(set->v[i], &c);
		e = json_pack("{s:s,s:I,s:I,s:I}", "kind", set->v[i]->ops->kind, "emitted",
		              (json_int_t)c.emitted, "failed", (json_int_t)c.failed, "dropped",
		              (json_int_t)c.dropped);
		if (e && set->v[i]->ops->stats) {
			json_t *more = set->v[i]->ops->stats(set->v[i]);

			if (more)
				json_object_update(e, more);
			json_decref(more);
		}
		json_object_set_new(o, set->v[i]->name, e);
	}
	return o;
}

void cw_sinks_free(struct cw_sinks *set)
{
	for (size_t i = 0; i < set->n; i++)
		cw_sink_free(set->v[i]);
	set->n = 0;
}
