/* container_tab.c - the attribution cache's open-addressing hash tables
 * (rebuilt after every scan, never deleted from). */
#include "container.h"
#include "container_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirwatch.h"
#include "util.h"

uint64_t ctr_hash_str(const char *s)
{
	return cw_fnv1a64(CW_FNV64_INIT, s, strlen(s));
}

static uint64_t hash_u32(uint32_t v)
{
	uint64_t h = (uint64_t)v * 0x9E3779B97F4A7C15ULL;

	return h ^ (h >> 29);
}

void tab_free(struct tab *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

static int tab_init(struct tab *t, size_t want)
{
	size_t cap = 16;

	while (cap < want * 2 + 16)
		cap <<= 1;
	t->s = malloc(cap * sizeof(*t->s));
	if (!t->s)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		t->s[i].idx = IDX_EMPTY;
	t->cap = cap;
	t->n = 0;
	return 0;
}

static int tab_grow(struct tab *t)
{
	struct tab nt;
	int err = tab_init(&nt, t->cap);

	if (err)
		return err;
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *o = &t->s[i];
		size_t j;

		if (o->idx == IDX_EMPTY)
			continue;
		for (j = o->h & (nt.cap - 1); nt.s[j].idx != IDX_EMPTY; j = (j + 1) & (nt.cap - 1))
			;
		nt.s[j] = *o;
		nt.n++;
	}
	free(t->s);
	t->s = nt.s;
	t->cap = nt.cap;
	t->n = nt.n;
	return 0;
}

static struct slot *tab_find(const struct tab *t, uint64_t h, const char *skey, uint32_t ukey)
{
	if (!t->cap)
		return NULL;
	for (size_t j = h & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
		struct slot *s = &t->s[j];

		if (s->idx == IDX_EMPTY)
			return NULL;
		if (s->h == h && (skey ? (s->skey && !strcmp(s->skey, skey)) : s->ukey == ukey))
			return s;
	}
}

/* Insert; a second, different value for the same key makes it ambiguous. */
int tab_put(struct tab *t, const char *skey, uint32_t ukey, int idx)
{
	uint64_t h = skey ? ctr_hash_str(skey) : hash_u32(ukey);
	struct slot *s;
	size_t j;
	int err;

	s = tab_find(t, h, skey, ukey);
	if (s) {
		if (s->idx != idx)
			s->idx = IDX_AMBIGUOUS;
		return 0;
	}
	if (!t->cap || (t->n + 1) * 2 > t->cap) {
		err = t->cap ? tab_grow(t) : tab_init(t, 8);
		if (err)
			return err;
	}
	for (j = h & (t->cap - 1); t->s[j].idx != IDX_EMPTY; j = (j + 1) & (t->cap - 1))
		;
	t->s[j] = (struct slot){.h = h, .skey = skey, .ukey = ukey, .idx = idx};
	t->n++;
	return 0;
}

int tab_get(const struct tab *t, const char *skey, uint32_t ukey)
{
	struct slot *s = tab_find(t, skey ? ctr_hash_str(skey) : hash_u32(ukey), skey, ukey);

	return s ? s->idx : IDX_EMPTY;
}

/* ------------------------------------------------------------------------ */
/* the cache                                                                 */
