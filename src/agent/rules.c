/* rules.c - what the agent judges with, as one reference-counted set: the
 * configuration's naming, the tool catalogue, the content rules (YARA and
 * hashes, with their verdict cache) and the technique rules with their
 * exceptions; and reload (SIGHUP, `systemctl reload`).
 *
 * A reload builds a whole new set beside the running one, from the same
 * files the agent started with. If any part fails (a JSON error, a YARA rule
 * that does not compile, an unreadable file) the new set is thrown away with
 * the loader's message and the running set stays. Otherwise the new set
 * becomes current in one pointer swap. Nothing waits for it: each thread takes
 * a reference to the current set when it starts a unit of work (the event
 * thread per batch, the --block thread per wait, each report for its whole
 * life), so a report judged after the swap is judged by the rules it was
 * queued under, and the old set is freed when its last holder lets go.
 *
 * A new set starts with an empty verdict cache; the caches outside it (the
 * kernel's known-clean map, the capture's and --block's ignore marks) are
 * emptied by the thread that fills them when it first takes the new set, so a
 * file found clean under the old rules is judged again at its next exec.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"
#include "util.h"

/* The catalogue (--catalogue or the embedded one) and the content rules. */
static int load_detection(const struct cw_rules_src *src, struct cw_rules *r)
{
	struct cw_content_opts co = {0};
	struct cw_content_stats cs;
	size_t catlen = 0;
	int err;

	if (src->catfile) {
		err = cw_read_file(src->catfile, 64 << 20, &r->cattext, &catlen);
		if (err) {
			cw_err("cannot read catalogue %s: %s", src->catfile, cw_strerror(err));
			return err;
		}
		err = cw_catalogue_load(&r->cat, r->cattext, catlen, src->catfile);
	} else {
		err = cw_catalogue_load_default(&r->cat);
	}
	if (err)
		return err;
	co.user_rules_dir = src->rules_dir;
	co.catalogue = r->cat;
	co.catalogue_text = r->cattext;
	co.catalogue_len = catlen;
	co.catalogue_origin = src->catfile;
	if ((err = cw_content_new(&r->content, &co)))
		return err;
	cw_content_get_stats(r->content, &cs);
	r->context_rules = cs.context_rules;
	return 0;
}

/* The embedded technique rules, --enable-rules and --technique-exceptions. */
static int load_techniques(const struct cw_rules_src *src, struct cw_rules *r)
{
	char *text = NULL;
	size_t len;
	int err = cw_technique_rules_load_default(&r->tq);

	if (!err && src->enable_rules)
		err = cw_technique_enable(r->tq, src->enable_rules);
	if (err || !src->exceptions)
		return err;
	err = cw_read_file(src->exceptions, 16 << 20, &text, &len);
	if (err)
		cw_err("cannot read technique exceptions %s: %s", src->exceptions,
		       cw_strerror(err));
	else
		err = cw_technique_exceptions_load(r->tq, text, len, src->exceptions);
	free(text);
	return err;
}

/* Free a set nobody holds; the content counters `cagewatch stats` shows are
 * added to the agent's retired totals so that they never go backwards. */
static void rules_free(struct cw_rules *r)
{
	struct cw_content_stats cs;

	if (r->content && r->a) {
		cw_content_get_stats(r->content, &cs);
		pthread_mutex_lock(&r->a->rules_lock);
		r->a->content_retired.hits += cs.hits;
		r->a->content_retired.misses += cs.misses;
		r->a->content_retired.bytes_scanned += cs.bytes_scanned;
		pthread_mutex_unlock(&r->a->rules_lock);
	}
	cw_technique_rules_free(r->tq);
	cw_content_free(r->content);
	cw_catalogue_free(r->cat);
	free(r->cattext);
	free(r);
}

int cw_rules_load(struct agent *a, const struct cw_rules_src *src, struct cw_rules **out)
{
	struct cw_rules *r = calloc(1, sizeof(*r));
	int err;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->refs = 1;
	cw_config_defaults(&r->cfg);
	if ((src->config && (err = cw_config_load(&r->cfg, src->config))) ||
	    (err = load_detection(src, r)) ||
	    (!src->no_techniques && (err = load_techniques(src, r)))) {
		rules_free(r); /* r->a unset: nothing was counted */
		return err;
	}
	if (src->no_args)
		r->cfg.report_args = false;
	if (src->node_name && (err = cw_config_set(&r->cfg, "host", src->node_name))) {
		cw_err("--node-name '%s' is not a usable host name", src->node_name);
		rules_free(r);
		return err;
	}
	if (src->store)
		cw_strlcpy(r->cfg.store_path, src->store, sizeof(r->cfg.store_path));
	r->a = a;
	*out = r;
	return 0;
}

struct cw_rules *cw_rules_get(struct agent *a)
{
	struct cw_rules *r;

	pthread_mutex_lock(&a->rules_lock);
	r = a->rules;
	if (r)
		r->refs++;
	pthread_mutex_unlock(&a->rules_lock);
	return r;
}

struct cw_rules *cw_rules_ref(struct cw_rules *r)
{
	if (r) {
		pthread_mutex_lock(&r->a->rules_lock);
		r->refs++;
		pthread_mutex_unlock(&r->a->rules_lock);
	}
	return r;
}

void cw_rules_put(struct cw_rules *r)
{
	int left;

	if (!r)
		return;
	pthread_mutex_lock(&r->a->rules_lock);
	left = --r->refs;
	pthread_mutex_unlock(&r->a->rules_lock);
	if (left == 0)
		rules_free(r);
}

bool cw_rules_refresh(struct agent *a, struct cw_rules **held)
{
	struct cw_rules *old = *held;

	pthread_mutex_lock(&a->rules_lock);
	if (a->rules != old) {
		*held = a->rules;
		(*held)->refs++;
	}
	pthread_mutex_unlock(&a->rules_lock);
	if (*held == old)
		return false;
	cw_rules_put(old); /* frees it if this was the last holder */
	return true;
}

/* Settings that only a restart applies: said, not silently ignored. */
static void warn_restart_only(const struct cw_config *now, const struct cw_config *next)
{
	if (strcmp(now->store_path, next->store_path))
		cw_warn("reload: store_path changed to %s; the agent keeps writing %s until it "
		        "is restarted",
		        next->store_path, now->store_path);
	if (strcmp(now->notification_config, next->notification_config))
		cw_warn("reload: notification_config changed; stdout's notification envelopes "
		        "keep the old name until the agent is restarted");
}

int cw_agent_reload(struct agent *a)
{
	struct cw_rules *next, *old;
	int err;

	cw_service_state("RELOADING=1");
	cw_info("reload: reading the configuration, catalogue, content and technique rules");
	err = cw_rules_load(a, &a->rules_src, &next);
	cw_service_state("READY=1"); /* refused or not, the agent is serving */
	if (err) {
		pthread_mutex_lock(&a->rules_lock);
		a->reload_failures++;
		pthread_mutex_unlock(&a->rules_lock);
		cw_err("reload refused (%s): the rules running since the last good load stay in "
		       "force; fix the file named above and reload again",
		       cw_strerror(err));
		return err;
	}
	warn_restart_only(&a->cfg, &next->cfg);
	pthread_mutex_lock(&a->rules_lock);
	old = a->rules;
	next->gen = old->gen + 1;
	a->rules = next;
	a->reloads++;
	pthread_mutex_unlock(&a->rules_lock);
	cw_info("reload: rules generation %u in force (%zu tools, %zu technique rules); files "
	        "are judged afresh",
	        next->gen, cw_catalogue_tool_count(next->cat),
	        next->tq ? cw_technique_rule_count(next->tq) : (size_t)0);
	cw_rules_put(old);
	return 0;
}

void *cw_reloader_main(void *arg)
{
	struct agent *a = arg;
	/* teardown wakes it with a SIGHUP of its own; the tick only bounds a
	 * stop that came some other way */
	const struct timespec tick = {.tv_sec = 1, .tv_nsec = 0};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	while (!cw_agent_stop)
		if (sigtimedwait(&set, NULL, &tick) == SIGHUP && !cw_agent_stop)
			(void)cw_agent_reload(a);
	return NULL;
}
