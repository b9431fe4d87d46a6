/* bolt.h - a read-only reader of bbolt database files, the key/value store
 * containerd (io.containerd.metadata.v1.bolt/meta.db) and podman
 * (libpod/bolt_state.db) keep their container metadata in.
 *
 * The file is read whole into memory (bounded), the newer valid meta page is
 * chosen by its checksum, and every page, element and length is bounds-checked:
 * a torn or hostile file gives -EBADMSG, never a read outside the buffer.
 * Buckets are nested by path: {"v1", "default", "containers", id}.
 */
#ifndef CW_BOLT_H
#define CW_BOLT_H

#include <stddef.h>
#include <stdint.h>

struct cw_bolt;

/* Read the database at path (at most max_bytes). 0 or -errno (-EBADMSG: not a
 * bolt file, or no valid meta page). */
int cw_bolt_open(const char *path, size_t max_bytes, struct cw_bolt **out);
/* The same over a copy of len bytes at data (tests, fuzzing). */
int cw_bolt_open_mem(const void *data, size_t len, struct cw_bolt **out);
void cw_bolt_close(struct cw_bolt *db);

/* A bucket, found from the root by a path of nplen names (nplen 0: the root).
 * Returns 0 with *bucket filled, -ENOENT, or -EBADMSG. */
struct cw_bolt_bucket {
	const struct cw_bolt *db;
	uint64_t root; /* page id; 0 with inline set for an inline bucket */
	const uint8_t *inline_page;
	size_t inline_len;
};
int cw_bolt_bucket(const struct cw_bolt *db, const char *const *path, size_t nplen,
                   struct cw_bolt_bucket *bucket);
/* A sub-bucket of b by name. 0, -ENOENT or -EBADMSG. */
int cw_bolt_sub(const struct cw_bolt_bucket *b, const char *name, struct cw_bolt_bucket *out);

/* The value of key in bucket b (not a sub-bucket): *val points into the
 * database's buffer, valid until cw_bolt_close. 0, -ENOENT or -EBADMSG. */
int cw_bolt_get(const struct cw_bolt_bucket *b, const char *key, const uint8_t **val, size_t *vlen);

/* Call fn for every plain key/value in b, in key order, until it returns
 * non-zero (which is returned). Sub-buckets are skipped. -EBADMSG on a
 * damaged page. */
typedef int (*cw_bolt_fn)(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen);
int cw_bolt_each(const struct cw_bolt_bucket *b, cw_bolt_fn fn, void *arg);

#endif
