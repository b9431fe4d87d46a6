/* content.c - content (YARA) and hash (SHA-256) recognition of executed files
 * and scripts, behind a bounded verdict cache keyed by file identity.
 *
 * Rules: the shipped rules/yara/tools.yar is embedded below (.incbin) and
 * compiled together with the .yar/.yara files of an optional user directory,
 * one YARA namespace per file. Each rule names its tool and category in meta.
 * Hashes: the catalogue's per-tool "sha256" arrays, sorted for bsearch.
 * Cache: a hash table plus an LRU list under one mutex; the expensive work
 * (hashing, reading, scanning) runs outside the lock.
 */
#include "content.h"
#include "content_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yara.h>

#include "util.h"

int cw_file_key_from_fd(int fd, struct cw_file_key *key)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	memset(key, 0, sizeof(*key));
	key->dev = st.st_dev;
	key->ino = st.st_ino;
	key->size = st.st_size;
	key->mtime_sec = st.st_mtim.tv_sec;
	key->mtime_nsec = st.st_mtim.tv_nsec;
	key->ctime_sec = st.st_ctim.tv_sec;
	key->ctime_nsec = st.st_ctim.tv_nsec;
	return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

int cw_content_new(struct cw_content **out, const struct cw_content_opts *opts)
{
	static const struct cw_content_opts defaults = {0};
	struct cw_content *ct;
	size_t nb = 16;
	int err;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->hash_cap < 0) {
		cw_err("content scan cap must be >= 0 bytes (0 = default %lld)",
		       (long long)CW_CONTENT_DEFAULT_CAP);
		return -EINVAL;
	}
	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return -ENOMEM;
	ct->cap = opts->hash_cap ? opts->hash_cap : CW_CONTENT_DEFAULT_CAP;
	ct->cap_entries = opts->cache_size ? opts->cache_size : CW_CONTENT_DEFAULT_CACHE;
	pthread_mutex_init(&ct->lock, NULL);

	if (opts->catalogue) {
		ct->cat = opts->catalogue;
	} else {
		err = cw_catalogue_load_default(&ct->own_cat);
		if (err)
			goto fail;
		ct->cat = ct->own_cat;
	}
	if (opts->catalogue_text)
		err = ct_load_tools(ct, opts->catalogue_text, opts->catalogue_len,
		                    opts->catalogue_origin ? opts->catalogue_origin : "catalogue");
	else
		/* strlen, not cw_embedded_catalogue_len: the text is NUL-terminated,
		 * and the length symbol may count alignment padding. */
		err = ct_load_tools(ct, cw_embedded_catalogue, strlen(cw_embedded_catalogue),
		                    "rules/catalogue.json (embedded)");
	if (err)
		goto fail;

	if (yr_initialize() != ERROR_SUCCESS) {
		cw_err("libyara failed to initialise");
		err = -ENOMEM;
		goto fail;
	}
	ct->yr_inited = true;
	err = ct_compile_rules(ct, opts->user_rules_dir);
	if (err)
		goto fail;

	while (nb < ct->cap_entries * 2)
		nb <<= 1;
	ct->nbuckets = nb;
	ct->entries = calloc(ct->cap_entries, sizeof(*ct->entries));
	ct->buckets = calloc(nb, sizeof(struct entry *));
	if (!ct->entries || !ct->buckets) {
		err = -ENOMEM;
		goto fail;
	}
	*out = ct;
	return 0;
fail:
	cw_content_free(ct);
	return err;
}

void cw_content_free(struct cw_content *ct)
{
	if (!ct)
		return;
	if (ct->rules)
		yr_rules_destroy(ct->rules);
	if (ct->yr_inited)
		yr_finalize();
	for (size_t i = 0; i < ct->ntools; i++) {
		free(ct->tools[i].id);
		free(ct->tools[i].name);
	}
	free(ct->tools);
	free(ct->hashes);
	free(ct->gen_src);
	free(ct->gen_origin);
	free(ct->entries);
	free(ct->buckets);
	cw_catalogue_free(ct->own_cat);
	pthread_mutex_destroy(&ct->lock);
	free(ct);
}

void cw_content_get_stats(struct cw_content *ct, struct cw_content_stats *st)
{
	pthread_mutex_lock(&ct->lock);
	*st = ct->st;
	st->entries = ct->used;
	st->rules = ct->nrules;
	st->hashes = ct->nhashes;
	st->context_rules = ct->context_rules;
	pthread_mutex_unlock(&ct->lock);
}

/* ---- cache -------------------------------------------------------------- */

static uint64_t key_hash(const struct cw_file_key *k, uint64_t ctx)
{
	uint64_t h = CW_FNV64_INIT;

	h = cw_fnv1a64(h, k, sizeof(*k));
	return cw_fnv1a64(h, &ctx, sizeof(ctx));
}

static bool key_eq(const struct cw_file_key *a, const struct cw_file_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

static void lru_unlink(struct cw_content *ct, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		ct->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		ct->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct cw_content *ct, struct entry *e)
{
	e->prev = NULL;
	e->next = ct->lru_head;
	if (ct->lru_head)
		ct->lru_head->prev = e;
	ct->lru_head = e;
	if (!ct->lru_tail)
		ct->lru_tail = e;
}

static struct entry *cache_find(struct cw_content *ct, const struct cw_file_key *k, uint64_t ctx)
{
	struct entry *e = ct->buckets[key_hash(k, ctx) & (ct->nbuckets - 1)];

	for (; e; e = e->hnext)
		if (e->ctx == ctx && key_eq(&e->key, k))
			return e;
	return NULL;
}

static void bucket_remove(struct cw_content *ct, struct entry *e)
{
	struct entry **pp = &ct->buckets[key_hash(&e->key, e->ctx) & (ct->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	e->hnext = NULL;
}

/* Called with the lock held. */
static void cache_put(struct cw_content *ct, const struct cw_file_key *k, uint64_t ctx,
                      const struct cw_file_info *fi, const struct verdict *v)
{
	struct entry *e = cache_find(ct, k, ctx), **b;

	if (e) { /* another thread got there first */
		lru_unlink(ct, e);
	} else {
		if (ct->used < ct->cap_entries) {
			e = &ct->entries[ct->used++];
		} else {
			e = ct->lru_tail;
			lru_unlink(ct, e);
			bucket_remove(ct, e);
			ct->st.evictions++;
		}
		e->key = *k;
		e->ctx = ctx;
		b = &ct->buckets[key_hash(k, ctx) & (ct->nbuckets - 1)];
		e->hnext = *b;
		*b = e;
	}
	e->have_size = fi->have_size;
	e->size = fi->size;
	e->have_hash = fi->have_hash;
	e->hashed_size = fi->hashed_size;
	e->partial = fi->partially_hashed;
	memcpy(e->sha256, fi->sha256, sizeof(e->sha256));
	e->v = *v;
	lru_push(ct, e);
}

/* ---- checking ----------------------------------------------------------- */

struct scan_ctx {
	const struct cw_content *ct;
	struct verdict *v;
	int64_t best_conf;
};

static int scan_cb(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *user)
{
	struct scan_ctx *sc = user;
	const YR_RULE *rule = data;
	const YR_META *tool, *cat, *conf, *tname, *spec;
	const struct tool *tl;
	int64_t c;
	size_t l;

	(void)ctx;
	if (msg != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	tool = ct_rule_meta(rule, "tool");
	cat = ct_rule_meta(rule, "category");
	if (!tool || !cat || tool->type != META_TYPE_STRING || cat->type != META_TYPE_STRING)
		return CALLBACK_CONTINUE; /* global/private helper rule */
	l = strlen(sc->v->sigs);
	if (l + strlen(rule->identifier) + 2 < sizeof(sc->v->sigs))
		snprintf(sc->v->sigs + l, sizeof(sc->v->sigs) - l, "%s%s", l ? "\n" : "",
		         rule->identifier);
	/* The most specific tool wins: a rule's "specificity" (a tool that bundles
	 * others' markers, like linPEAS, is still itself), then its confidence. */
	conf = ct_rule_meta(rule, "confidence");
	c = conf && conf->type == META_TYPE_INTEGER ? conf->integer : DEFAULT_CONFIDENCE;
	spec = ct_rule_meta(rule, "specificity");
	c += (spec && spec->type == META_TYPE_INTEGER ? spec->integer : 0) * 1000;
	if (sc->v->kind == 2 && c <= sc->best_conf)
		return CALLBACK_CONTINUE;
	sc->best_conf = c;
	sc->v->kind = 2;
	tl = ct_find_tool(sc->ct, tool->string);
	tname = ct_rule_meta(rule, "tool_name");
	sc->v->tool_id = tool->string;
	sc->v->tool_name = tl                                         ? tl->name
	                   : tname && tname->type == META_TYPE_STRING ? tname->string
	                                                              : tool->string;
	sc->v->cat = cw_catalogue_category(sc->ct->cat, cat->string);
	snprintf(sc->v->rule_id, sizeof(sc->v->rule_id), "yara.%s", rule->identifier);
	snprintf(sc->v->detail, sizeof(sc->v->detail), "yara=%s confidence=%lld file=%s",
	         rule->identifier, (long long)(c % 1000), rule->ns ? rule->ns->name : "?");
	return CALLBACK_CONTINUE;
}

static char *join_argv(const char *const *argv, int argc)
{
	size_t len = 1;
	char *s, *p;

	for (int i = 0; i < argc && argv && argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	p = s;
	*p = '\0';
	for (int i = 0; i < argc && argv && argv[i]; i++) {
		size_t l = strlen(argv[i]);

		if (i)
			*p++ = ' ';
		memcpy(p, argv[i], l);
		p += l;
		*p = '\0';
	}
	return s;
}

/* Read up to cap bytes from offset 0. Returns bytes read or a negative errno. */
static ssize_t read_capped(int fd, int64_t cap, int64_t size_hint, unsigned char **out)
{
	size_t want = (size_t)(size_hint > 0 && size_hint < cap ? size_hint : cap);
	size_t alloc = want ? want : 1, n = 0;
	unsigned char *buf = malloc(alloc);

	*out = NULL;
	if (!buf)
		return -ENOMEM;
	while (n < want) {
		ssize_t r = pread(fd, buf + n, want - n, (off_t)n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;

			free(buf);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	return (ssize_t)n;
}

/* YARA over n bytes at buf, with the context variables; v gets the best match. */
static int scan_buf(struct cw_content *ct, const unsigned char *buf, size_t n, const char *path,
                    const char *const *argv, int argc, const struct cw_file_info *fi,
                    struct verdict *v)
{
	struct scan_ctx sc = {.ct = ct, .v = v, .best_conf = -1};
	YR_SCANNER *scanner = NULL;
	char *args = join_argv(argv, argc);
	int err = 0, yr;

	if (!args || yr_scanner_create(ct->rules, &scanner) != ERROR_SUCCESS) {
		err = -ENOMEM;
		goto out;
	}
	yr_scanner_set_callback(scanner, scan_cb, &sc);
	yr_scanner_set_flags(scanner, SCAN_FLAGS_FAST_MODE | SCAN_FLAGS_REPORT_RULES_MATCHING);
	yr_scanner_set_timeout(scanner, SCAN_TIMEOUT_S);
	if (yr_scanner_define_string_variable(scanner, "basename", path ? cw_basename(path) : "") ||
	    yr_scanner_define_string_variable(scanner, "path", path ? path : "") ||
	    yr_scanner_define_string_variable(scanner, "argv", args) ||
	    yr_scanner_define_string_variable(scanner, "sha256", fi->have_hash ? fi->sha256 : "")) {
		err = -ENOMEM;
		goto out;
	}
	yr = yr_scanner_scan_mem(scanner, buf, n);
	if (yr != ERROR_SUCCESS) {
		const YR_RULE *r = yr_scanner_last_error_rule(scanner);

		cw_warn("YARA scan of %s failed (libyara error %d%s%s); content rules skipped for "
		        "this file",
		        path ? path : "?", yr, r ? ", rule " : "", r ? r->identifier : "");
		err = yr == ERROR_SCAN_TIMEOUT ? -ETIMEDOUT : -EIO;
	}
out:
	if (scanner)
		yr_scanner_destroy(scanner);
	free(args);
	return err;
}

static int scan_file(struct cw_content *ct, int fd, const char *path, const char *const *argv,
                     int argc, const struct cw_file_info *fi, int64_t size_hint, struct verdict *v,
                     uint64_t *scanned)
{
	unsigned char *buf = NULL;
	ssize_t n;
	int err;

	n = read_capped(fd, ct->cap, size_hint, &buf);
	if (n < 0)
		return (int)n;
	*scanned = (uint64_t)n;
	err = scan_buf(ct, buf, (size_t)n, path, argv, argc, fi, v);
	free(buf);
	return err;
}

static void hash_verdict(const struct cw_content *ct, const struct cw_file_info *fi,
                         struct verdict *v)
{
	struct hash_ent k = {0}, *h;
	const struct tool *tl;

	if (!fi->have_hash || fi->partially_hashed || !ct->nhashes)
		return;
	memcpy(k.sha256, fi->sha256, sizeof(k.sha256));
	h = bsearch(&k, ct->hashes, ct->nhashes, sizeof(*h), ct_cmp_hash);
	if (!h)
		return;
	tl = &ct->tools[h->tool];
	v->kind = 1;
	v->tool_id = tl->id;
	v->tool_name = tl->name;
	v->cat = tl->cat;
	snprintf(v->rule_id, sizeof(v->rule_id), "hash.%s", tl->id);
	snprintf(v->detail, sizeof(v->detail), "sha256=%s", fi->sha256);
}

static json_t *signatures_json(const char *sigs)
{
	json_t *arr = json_array(), *root;
	const char *p = sigs;

	if (!arr)
		return NULL;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		json_t *sig = json_pack("{s:{s:s%},s:s}", "yaraRuleSignature", "yaraRule", p, l,
		                        "signatureType", "SIGNATURE_TYPE_FILE");

		if (!sig || json_array_append_new(arr, sig)) {
			json_decref(arr);
			return NULL;
		}
		p += l + (e ? 1 : 0);
	}
	root = json_pack("{s:{s:o}}", "indicator", "signatures", arr);
	return root;
}

static int fill_detection(const struct verdict *v, struct cw_detection *det)
{
	if (!det)
		return 0;
	memset(det, 0, sizeof(*det));
	det->cat = v->cat;
	det->tool_id = v->tool_id;
	det->tool_name = v->tool_name;
	cw_strlcpy(det->rule_id, v->rule_id, sizeof(det->rule_id));
	cw_strlcpy(det->matched_on, v->kind == 1 ? "hash" : "content", sizeof(det->matched_on));
	cw_strlcpy(det->detail, v->detail, sizeof(det->detail));
	if (v->sigs[0]) {
		det->extra = signatures_json(v->sigs);
		if (!det->extra)
			return -ENOMEM;
	}
	return 0;
}

/* When some rule reads basename/path/argv, the verdict depends on them too:
 * they become part of the cache key. */
static uint64_t context_hash(const struct cw_content *ct, const char *path, const char *const *argv,
                             int argc)
{
	uint64_t ctx;

	if (!ct->context_rules)
		return 0;
	ctx = cw_fnv1a64(CW_FNV64_INIT, path ? path : "", path ? strlen(path) + 1 : 0);
	for (int i = 0; i < argc && argv && argv[i]; i++)
		ctx = cw_fnv1a64(ctx, argv[i], strlen(argv[i]) + 1);
	return ctx;
}

/* 1 with det filled for a match, 0 for none, or a negative errno. */
static int verdict_result(const struct verdict *v, struct cw_detection *det)
{
	int err;

	if (!v->kind)
		return 0;
	err = fill_detection(v, det);
	return err ? err : 1;
}

/* Serve a cached verdict: refresh the entry's LRU place, copy what is known of
 * the file into fi (may be NULL) and the detection into det. Called with
 * ct->lock held; releases it. Returns 1 (match), 0 (clean) or -errno. */
static int serve_cached(struct cw_content *ct, struct entry *e, struct cw_file_info *fi,
                        struct cw_detection *det)
{
	struct verdict v;

	ct->st.hits++;
	lru_unlink(ct, e);
	lru_push(ct, e);
	if (fi) {
		fi->have_size = e->have_size;
		fi->size = e->size;
		fi->have_hash = e->have_hash;
		fi->hashed_size = e->hashed_size;
		fi->partially_hashed = e->partial;
		memcpy(fi->sha256, e->sha256, sizeof(fi->sha256));
	}
	v = e->v;
	if (v.kind)
		ct->st.matches++;
	pthread_mutex_unlock(&ct->lock);
	return verdict_result(&v, det);
}

int cw_content_lookup(struct cw_content *ct, const struct cw_file_key *key, const char *path,
                      const char *const *argv, int argc, struct cw_file_info *fi,
                      struct cw_detection *det)
{
	struct entry *e;

	if (!key || key->ino == 0)
		return -ENOENT;
	pthread_mutex_lock(&ct->lock);
	e = cache_find(ct, key, context_hash(ct, path, argv, argc));
	if (!e) {
		pthread_mutex_unlock(&ct->lock);
		return -ENOENT;
	}
	if (fi) {
		memset(fi, 0, sizeof(*fi));
		if (path)
			cw_strlcpy(fi->path, path, sizeof(fi->path));
	}
	return serve_cached(ct, e, fi, det);
}

int cw_content_check_fd(struct cw_content *ct, int fd, const char *path, const char *const *argv,
                        int argc, const struct cw_file_key *key, struct cw_file_info *fi,
                        struct cw_detection *det)
{
	struct cw_file_info local;
	struct cw_file_key k;
	struct verdict v = {0};
	struct entry *e;
	struct stat st;
	uint64_t ctx = 0, scanned = 0;
	bool cacheable;
	int err;

	if (!fi)
		fi = &local;
	memset(fi, 0, sizeof(*fi));
	if (path)
		cw_strlcpy(fi->path, path, sizeof(fi->path));
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0) {
		cw_debug("cannot stat %s: %s", path ? path : "?", strerror(errno));
		return 0;
	}
	fi->have_size = true;
	fi->size = st.st_size;
	if (!S_ISREG(st.st_mode))
		return 0; /* a pipe or device: nothing to hash or scan */
	if (key) {
		k = *key;
	} else {
		memset(&k, 0, sizeof(k));
		k.dev = st.st_dev;
		k.ino = st.st_ino;
		k.size = st.st_size;
		k.mtime_sec = st.st_mtim.tv_sec;
		k.mtime_nsec = st.st_mtim.tv_nsec;
		k.ctime_sec = st.st_ctim.tv_sec;
		k.ctime_nsec = st.st_ctim.tv_nsec;
	}
	cacheable = k.ino != 0;
	ctx = context_hash(ct, path, argv, argc);

	if (cacheable) {
		pthread_mutex_lock(&ct->lock);
		e = cache_find(ct, &k, ctx);
		if (e)
			return serve_cached(ct, e, fi, det);
		pthread_mutex_unlock(&ct->lock);
	}

	err = cw_file_hash_fd(fd, ct->cap, fi);
	if (err) {
		cw_debug("cannot hash %s: %s", path ? path : "?", strerror(-err));
		fi->have_size = true;
		fi->size = st.st_size;
		return 0; /* unreadable or vanished: report what is known */
	}
	err = scan_file(ct, fd, path, argv, argc, fi, st.st_size, &v, &scanned);
	if (err == -ENOMEM)
		return err;
	if (err)
		cacheable = false; /* don't remember a verdict we could not reach */
	{
		/* An exact hash match outranks content; YARA names stay as signatures. */
		struct verdict hv = v;

		hash_verdict(ct, fi, &hv);
		v = hv;
	}

	pthread_mutex_lock(&ct->lock);
	ct->st.misses++;
	ct->st.bytes_scanned += scanned;
	if (v.kind)
		ct->st.matches++;
	if (cacheable)
		cache_put(ct, &k, ctx, fi, &v);
	pthread_mutex_unlock(&ct->lock);
	return verdict_result(&v, det);
}

int cw_content_check_mem(struct cw_content *ct, const void *buf, size_t len, const char *label,
                         const char *const *argv, int argc, struct cw_file_info *fi,
                         struct cw_detection *det)
{
	struct cw_file_info local;
	struct verdict v = {0};
	unsigned char md[32];
	unsigned int mdlen = 0;
	int err;

	if (!ct || (!buf && len))
		return -EINVAL;
	if (!fi)
		fi = &local;
	memset(fi, 0, sizeof(*fi));
	if (label)
		cw_strlcpy(fi->path, label, sizeof(fi->path));
	fi->have_size = true;
	fi->size = (int64_t)len;
	if (EVP_Digest(buf ? buf : "", len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32) {
		for (int i = 0; i < 32; i++)
			snprintf(fi->sha256 + 2 * i, 3, "%02x", md[i]);
		fi->have_hash = true;
		fi->hashed_size = (int64_t)len;
	}
	err = scan_buf(ct, buf ? buf : (const void *)"", len, label, argv, argc, fi, &v);
	if (err == -ENOMEM)
		return err;
	hash_verdict(ct, fi, &v);
	pthread_mutex_lock(&ct->lock);
	ct->st.bytes_scanned += len;
	if (v.kind)
		ct->st.matches++;
	pthread_mutex_unlock(&ct->lock);
	return verdict_result(&v, det);
}
