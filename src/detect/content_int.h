/* content_int.h - the content recogniser's state, shared by its rule
 * loading (content_rules.c: the catalogue's tools and hashes, YARA rules) and
 * its cache and checks (content.c). Internal. */
#ifndef CW_CONTENT_INT_H
#define CW_CONTENT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <yara.h>

#include "content.h"

#define EMBEDDED_ORIGIN    "rules/yara/tools.yar (embedded)"
#define SCAN_TIMEOUT_S     10
#define MAX_RULE_FILE      (16u << 20)
#define DEFAULT_CONFIDENCE 50

struct tool {
	char *id;
	char *name;
	const struct cw_category *cat;
};

struct hash_ent {
	char sha256[65];
	size_t tool; /* index into ct->tools */
};

/* What a check found, as cached. Strings point into ct (tools, rule metas). */
struct verdict {
	int kind; /* 0 none, 1 hash, 2 content */
	const char *tool_id;
	const char *tool_name;
	const struct cw_category *cat;
	char rule_id[128];
	char detail[512];
	char sigs[512]; /* matched YARA rule names, '\n'-separated */
};

struct entry {
	struct cw_file_key key;
	uint64_t ctx;
	struct entry *hnext;
	struct entry *prev, *next; /* LRU: head = most recent */
	bool have_size, have_hash, partial;
	int64_t size, hashed_size;
	char sha256[65];
	struct verdict v;
};

struct cw_content {
	YR_RULES *rules;
	bool yr_inited;
	size_t nrules;
	bool context_rules;
	int64_t cap;

	struct cw_catalogue *own_cat;
	const struct cw_catalogue *cat;
	struct tool *tools;
	size_t ntools;
	struct hash_ent *hashes;
	size_t nhashes;
	char *gen_src; /* rules generated from catalogue content_markers */
	size_t gen_len;
	char *gen_origin;

	pthread_mutex_t lock;
	struct entry *entries;
	size_t cap_entries, used;
	struct entry **buckets;
	size_t nbuckets; /* power of two */
	struct entry *lru_head, *lru_tail;
	struct cw_content_stats st;
};

/* content_rules.c */
int ct_load_tools(struct cw_content *ct, const char *text, size_t len, const char *origin);
const struct tool *ct_find_tool(const struct cw_content *ct, const char *id);
int ct_compile_rules(struct cw_content *ct, const char *user_dir);
const YR_META *ct_rule_meta(const YR_RULE *rule, const char *id);
int ct_cmp_hash(const void *a, const void *b);

#endif
