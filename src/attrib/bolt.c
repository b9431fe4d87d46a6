/* bolt.c - read-only bbolt reader (bolt.h): meta pages, branch and leaf
 * pages, nested and inline buckets. Layout (little-endian, as bbolt writes it
 * on x86 and arm64): a page is a 16-byte header {id u64, flags u16, count u16,
 * overflow u32} and count 16-byte elements; branch elements are {pos u32,
 * ksize u32, pgid u64}, leaf elements {flags u32, pos u32, ksize u32, vsize
 * u32}, pos counted from the element itself. A bucket value is {root u64,
 * sequence u64}, followed by an inline page when root is 0.
 */
#include "bolt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PAGE_HDR     16
#define ELEM_SIZE    16
#define F_BRANCH     0x01
#define F_LEAF       0x02
#define LEAF_BUCKET  0x01
#define BOLT_MAGIC   0xED0CDAEDu
#define META_SUM_LEN 56 /* bytes of the meta covered by its checksum */
#define MAX_DEPTH    32 /* a deeper tree is damaged */
#define BUCKET_HDR   16

struct cw_bolt {
	uint8_t *buf;
	size_t len;
	uint32_t page_size;
	uint64_t root; /* root bucket's page */
};

struct page {
	const uint8_t *p;
	size_t len;
};

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A valid meta page at off: its txid, or -1. */
static int64_t meta_at(struct cw_bolt *db, size_t off, uint32_t *psz, uint64_t *root)
{
	const uint8_t *m;

	if (off + PAGE_HDR + 64 > db->len)
		return -1;
	m = db->buf + off + PAGE_HDR;
	if (rd32(m) != BOLT_MAGIC || rd32(m + 4) != 2)
		return -1;
	if (cw_fnv1a64(CW_FNV64_INIT, m, META_SUM_LEN) != rd64(m + META_SUM_LEN))
		return -1;
	*psz = rd32(m + 8);
	*root = rd64(m + 16);
	return (int64_t)(rd64(m + 48) & INT64_MAX);
}

/* Take buf (malloc'd, len bytes): choose the meta page, or free it. */
static int bolt_adopt(uint8_t *buf, size_t len, struct cw_bolt **out)
{
	struct cw_bolt *db = calloc(1, sizeof(*db));
	uint32_t ps0 = 0, ps1 = 0;
	uint64_t r0 = 0, r1 = 0;
	int64_t t0, t1 = -1;

	*out = NULL;
	if (!db) {
		free(buf);
		return -ENOMEM;
	}
	db->buf = buf;
	db->len = len;
	t0 = meta_at(db, 0, &ps0, &r0);
	if (t0 < 0 || ps0 < 512 || ps0 > (1u << 16)) {
		/* meta 0 torn: find meta 1 at a usual page size */
		static const uint32_t sizes[] = {4096, 8192, 16384, 65536};

		t0 = -1;
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && t1 < 0; i++)
			if ((t1 = meta_at(db, sizes[i], &ps1, &r1)) >= 0 && ps1 != sizes[i])
				t1 = -1;
		ps0 = ps1;
	} else {
		t1 = meta_at(db, ps0, &ps1, &r1);
	}
	if ((t0 < 0 && t1 < 0) || ps0 < 512 || ps0 > (1u << 16)) {
		cw_bolt_close(db);
		return -EBADMSG;
	}
	db->page_size = ps0;
	db->root = t1 > t0 && ps1 == ps0 ? r1 : r0;
	*out = db;
	return 0;
}

int cw_bolt_open(const char *path, size_t max_bytes, struct cw_bolt **out)
{
	char *buf = NULL;
	size_t len;
	int err = cw_read_file(path, max_bytes, &buf, &len);

	*out = NULL;
	return err ? err : bolt_adopt((uint8_t *)buf, len, out);
}

int cw_bolt_open_mem(const void *data, size_t len, struct cw_bolt **out)
{
	uint8_t *buf = malloc(len ? len : 1);

	*out = NULL;
	if (!buf)
		return -ENOMEM;
	memcpy(buf, data, len);
	return bolt_adopt(buf, len, out);
}

void cw_bolt_close(struct cw_bolt *db)
{
	if (!db)
		return;
	free(db->buf);
	free(db);
}

/* Page id as a bounded view (its overflow pages included). */
static int page_get(const struct cw_bolt *db, uint64_t id, struct page *pg)
{
	uint64_t off, n;

	if (id < 2 || id > db->len / db->page_size)
		return -EBADMSG;
	off = id * db->page_size;
	if (off + PAGE_HDR > db->len)
		return -EBADMSG;
	n = ((uint64_t)rd32(db->buf + off + 12) + 1) * db->page_size;
	if (n > db->len - off)
		n = db->len - off;
	pg->p = db->buf + off;
	pg->len = (size_t)n;
	return 0;
}

/* Element i of a page: its key and (leaf) value, checked against the page. */
static int elem(const struct page *pg, unsigned i, bool leaf, const uint8_t **k, size_t *kl,
                const uint8_t **v, size_t *vl, uint32_t *flags, uint64_t *child)
{
	size_t eo = PAGE_HDR + (size_t)i * ELEM_SIZE, ko, vlen;
	const uint8_t *e;

	if (eo + ELEM_SIZE > pg->len)
		return -EBADMSG;
	e = pg->p + eo;
	ko = eo + (leaf ? rd32(e + 4) : rd32(e));
	*kl = leaf ? rd32(e + 8) : rd32(e + 4);
	vlen = leaf ? rd32(e + 12) : 0;
	if (ko > pg->len || *kl > pg->len - ko || vlen > pg->len - ko - *kl)
		return -EBADMSG;
	*k = pg->p + ko;
	if (leaf) {
		*v = *k + *kl;
		*vl = vlen;
		*flags = rd32(e);
	} else {
		*child = rd64(e + 8);
	}
	return 0;
}

static int keycmp(const uint8_t *a, size_t al, const char *b)
{
	size_t bl = strlen(b), n = al < bl ? al : bl;
	int c = memcmp(a, b, n);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* The root page of bucket b as a view. */
static int bucket_page(const struct cw_bolt_bucket *b, struct page *pg)
{
	if (b->inline_page) {
		pg->p = b->inline_page;
		pg->len = b->inline_len;
		return 0;
	}
	return page_get(b->db, b->root, pg);
}

/* Descend from pg to the leaf that would hold key. */
static int find_leaf(const struct cw_bolt *db, struct page *pg, const char *key)
{
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		uint16_t flags = rd16(pg->p + 8), count = rd16(pg->p + 10);
		uint64_t child = 0;
		int err;

		if (flags & F_LEAF)
			return 0;
		if (!(flags & F_BRANCH) || !count)
			return -EBADMSG;
		for (unsigned i = 0; i < count; i++) {
			const uint8_t *k, *v;
			size_t kl, vl;
			uint32_t fl;
			uint64_t c;

			if ((err = elem(pg, i, false, &k, &kl, &v, &vl, &fl, &c)))
				return err;
			if (i > 0 && keycmp(k, kl, key) > 0)
				break;
			child = c;
		}
		if ((err = page_get(db, child, pg)))
			return err;
	}
	return -EBADMSG;
}

/* The leaf entry for key in bucket b. */
static int lookup(const struct cw_bolt_bucket *b, const char *key, const uint8_t **v, size_t *vl,
                  uint32_t *flags)
{
	struct page pg;
	int err;

	if ((err = bucket_page(b, &pg)) || pg.len < PAGE_HDR || (err = find_leaf(b->db, &pg, key)))
		return err ? err : -EBADMSG;
	for (unsigned i = 0, n = rd16(pg.p + 10); i < n; i++) {
		const uint8_t *k;
		size_t kl;
		uint64_t c;

		if ((err = elem(&pg, i, true, &k, &kl, v, vl, flags, &c)))
			return err;
		if (!keycmp(k, kl, key))
			return 0;
	}
	return -ENOENT;
}

int cw_bolt_sub(const struct cw_bolt_bucket *b, const char *name, struct cw_bolt_bucket *out)
{
	const uint8_t *v;
	size_t vl;
	uint32_t flags;
	int err = lookup(b, name, &v, &vl, &flags);

	if (err)
		return err;
	if (!(flags & LEAF_BUCKET) || vl < BUCKET_HDR)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->db = b->db;
	out->root = rd64(v);
	if (!out->root) {
		out->inline_page = v + BUCKET_HDR;
		out->inline_len = vl - BUCKET_HDR;
		if (out->inline_len < PAGE_HDR)
			return -EBADMSG;
	}
	return 0;
}

int cw_bolt_bucket(const struct cw_bolt *db, const char *const *path, size_t nplen,
                   struct cw_bolt_bucket *bucket)
{
	struct cw_bolt_bucket cur = {.db = db, .root = db->root};
	int err;

	for (size_t i = 0; i < nplen; i++) {
		struct cw_bolt_bucket next;

		if ((err = cw_bolt_sub(&cur, path[i], &next)))
			return err;
		cur = next;
	}
	*bucket = cur;
	return 0;
}

int cw_bolt_get(const struct cw_bolt_bucket *b, const char *key, const uint8_t **val, size_t *vlen)
{
	uint32_t flags;
	int err = lookup(b, key, val, vlen, &flags);

	if (!err && (flags & LEAF_BUCKET))
		return -ENOENT;
	return err;
}

/* Walk every leaf under pg in order. */
static int each_page(const struct cw_bolt *db, const struct page *pg, int depth, cw_bolt_fn fn,
                     void *arg)
{
	uint16_t flags, count;
	int err;

	if (depth > MAX_DEPTH || pg->len < PAGE_HDR)
		return -EBADMSG;
	flags = rd16(pg->p + 8);
	count = rd16(pg->p + 10);
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *k, *v = NULL;
		size_t kl, vl = 0;
		uint32_t fl = 0;
		uint64_t c = 0;
		struct page child;

		if ((err = elem(pg, i, flags & F_LEAF, &k, &kl, &v, &vl, &fl, &c)))
			return err;
		if (flags & F_LEAF) {
			if (!(fl & LEAF_BUCKET) && (err = fn(arg, k, kl, v, vl)))
				return err;
			continue;
		}
		if ((err = page_get(db, c, &child)) ||
		    (err = each_page(db, &child, depth + 1, fn, arg)))
			return err;
	}
	return 0;
}

int cw_bolt_each(const struct cw_bolt_bucket *b, cw_bolt_fn fn, void *arg)
{
	struct page pg;
	int err = bucket_page(b, &pg);

	return err ? err : each_page(b->db, &pg, 0, fn, arg);
}
