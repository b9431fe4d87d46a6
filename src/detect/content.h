/* content.h - the content and hash recognition layers: the executed file (or
 * the script an interpreter runs) is hashed (SHA-256) and scanned with YARA
 * rules (shipped rules embedded in the binary plus an optional user rules
 * directory); the hash is looked up in the catalogue's per-tool sha256 lists.
 * Verdicts are cached per file identity so each distinct executable is read
 * once. Thread-safe: one struct cw_content may be shared by several threads.
 */
#ifndef CW_CONTENT_H
#define CW_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalogue.h"
#include "finding.h"

#define CW_CONTENT_DEFAULT_CAP   (64LL << 20) /* bytes hashed and scanned per file */
#define CW_CONTENT_DEFAULT_CACHE 4096         /* cached verdicts */

/* Identity of one version of a file: a rewrite changes mtime/ctime (or size),
 * a replacement changes the inode. */
struct cw_file_key {
	uint64_t dev;
	uint64_t ino;
	int64_t size;
	int64_t mtime_sec, mtime_nsec;
	int64_t ctime_sec, ctime_nsec;
};

/* fstat(fd) into a key. Returns 0 or a negative errno. */
int cw_file_key_from_fd(int fd, struct cw_file_key *key);

struct cw_content_opts {
	const char *user_rules_dir; /* extra *.yar / *.yara files, NULL for none */
	int64_t hash_cap;           /* bytes hashed and scanned per file; 0 = default */
	const char *catalogue_text; /* catalogue JSON for the sha256 lists and tool
	                             * names; NULL = the embedded catalogue */
	size_t catalogue_len;
	const char *catalogue_origin;         /* name in messages; NULL = "catalogue" */
	const struct cw_catalogue *catalogue; /* categories for det->cat (borrowed, must
	                                       * outlive the cw_content); NULL = load
	                                       * the embedded catalogue */
	size_t cache_size;                    /* 0 = default, must otherwise be >= 1 */
};

struct cw_content;

/* Compile the rules once and load the hash lists. A malformed rule file, a
 * rule without the required meta (tool, category) or an unknown category:
 * logs file, line and problem and returns -EINVAL. */
int cw_content_new(struct cw_content **out, const struct cw_content_opts *opts);
void cw_content_free(struct cw_content *ct);

/* Check one file, opened by the caller (/proc/<pid>/exe, /proc/<pid>/root/<script>).
 * path: the name to report and to give rules as `path`/`basename`; argv/argc: the
 * exec's arguments (rules see them joined by spaces as `argv`); key: the file's
 * identity (NULL = fstat(fd)); fd < 0 means the file could not be opened.
 * fi (may be NULL) gets path, and size/sha256/hashed_size/partially_hashed
 * whenever the file is readable. det (may be NULL) is filled on a match:
 * matched_on "hash" (rule_id "hash.<tool>") or "content" (rule_id "yara.<rule>");
 * YARA matches also go into det->extra as
 * {"indicator": {"signatures": [{"yaraRuleSignature": {"yaraRule": R},
 *                                "signatureType": "SIGNATURE_TYPE_FILE"}, ...]}}.
 * (the SCC Indicator.ProcessSignature shape: yaraRuleSignature.yaraRule plus
 * signatureType). det's tool_id/tool_name/cat point into ct and the catalogue:
 * valid while both live; det->extra is owned by det (cw_detection_clear()).
 * Returns 1 on a match, 0 on none (also when the file is unreadable or
 * vanished: fi then holds what is known), a negative errno on an internal error. */
int cw_content_check_fd(struct cw_content *ct, int fd, const char *path, const char *const *argv,
                        int argc, const struct cw_file_key *key, struct cw_file_info *fi,
                        struct cw_detection *det);

/* Check bytes that are no file (what a shell read from a pipe): the same
 * hash and YARA layers over buf, never cached. label names it in fi->path and
 * is the rules' `path`. Returns like cw_content_check_fd. */
int cw_content_check_mem(struct cw_content *ct, const void *buf, size_t len, const char *label,
                         const char *const *argv, int argc, struct cw_file_info *fi,
                         struct cw_detection *det);

/* Cache-only lookup (no file access): 1 cached match (fi, det filled), 0 cached
 * clean verdict (fi filled), -ENOENT not cached. Lets the event path skip the
 * open/read for every executable already seen. */
int cw_content_lookup(struct cw_content *ct, const struct cw_file_key *key, const char *path,
                      const char *const *argv, int argc, struct cw_file_info *fi,
                      struct cw_detection *det);

struct cw_content_stats {
	uint64_t hits;          /* verdicts served from the cache */
	uint64_t misses;        /* files hashed and scanned */
	uint64_t bytes_scanned; /* bytes read for hashing+scanning (counted once per miss) */
	uint64_t matches;       /* checks that returned 1 */
	uint64_t evictions;
	size_t entries;
	size_t rules;       /* compiled YARA rules */
	size_t hashes;      /* known sha256 values */
	bool context_rules; /* some rule reads basename/path/argv: the cache key
	                     * then includes them */
};
void cw_content_get_stats(struct cw_content *ct, struct cw_content_stats *st);

/* `cagewatch scan PATH... [--format text|json] [--rules DIR]` (argv[0] is "scan").
 * Exit status: 0 clean, 1 something found, 2 error. */
int cw_cmd_scan(int argc, char **argv);

/* Embedded shipped rules (see src/embed_yara.S). */
extern const char cw_embedded_yara[];
extern const unsigned int cw_embedded_yara_len;

#endif
