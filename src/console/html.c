/* html.c - escaped HTML output (html.h). */
#include "html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(struct html *h, const char *s, size_t n)
{
	if (h->oom)
		return;
	if (h->len + n + 1 > h->cap) {
		size_t cap = h->cap ? h->cap : 4096;
		char *np;

		while (cap < h->len + n + 1)
			cap *= 2;
		np = realloc(h->p, cap);
		if (!np) {
			h->oom = true;
			return;
		}
		h->p = np;
		h->cap = cap;
	}
	if (!h->p)
		return;
	memcpy(h->p + h->len, s, n);
	h->len += n;
	h->p[h->len] = '\0';
}

void html_raw(struct html *h, const char *s)
{
	add(h, s, strlen(s));
}

void html_rawf(struct html *h, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->oom = true;
		return;
	}
	add(h, s, (size_t)n);
	free(s);
}

/* U+202A..U+202E, U+2066..U+2069 (bidi), U+200B..U+200F, U+2028/9, U+FEFF. */
static bool invisible(const unsigned char *u, size_t left, size_t *seq, unsigned *cp)
{
	if (left < 3 || (u[0] != 0xe2 && u[0] != 0xef))
		return false;
	*cp = ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu);
	*seq = 3;
	return (*cp >= 0x200b && *cp <= 0x200f) || (*cp >= 0x2028 && *cp <= 0x202e) ||
	       (*cp >= 0x2066 && *cp <= 0x2069) || *cp == 0xfeff;
}

void html_text(struct html *h, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)u), i = 0, start = 0;

	while (i < n) {
		const char *rep = NULL;
		char buf[16];
		size_t seq = 1;
		unsigned cp;

		switch (u[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			if (u[i] < 0x20 && u[i] != '\n' && u[i] != '\t') {
				snprintf(buf, sizeof(buf), "\\x%02x", u[i]);
				rep = buf;
			} else if (invisible(u + i, n - i, &seq, &cp)) {
				snprintf(buf, sizeof(buf), "\\u%04x", cp);
				rep = buf;
			}
		}
		if (!rep) {
			i++;
			continue;
		}
		add(h, (const char *)u + start, i - start);
		html_raw(h, rep);
		i += seq;
		start = i;
	}
	add(h, (const char *)u + start, n - start);
}

void html_url(struct html *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)(s ? s : "");

	for (; *u; u++) {
		char enc[4] = {'%', hex[*u >> 4], hex[*u & 15], 0};

		if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		    (*u >= '0' && *u <= '9') || strchr("-_.~", *u))
			add(h, (const char *)u, 1);
		else
			html_raw(h, enc);
	}
}

const char *html_js(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void html_scalar(struct html *h, json_t *v)
{
	char *t;

	if (json_is_string(v)) {
		html_text(h, json_string_value(v));
		return;
	}
	if (!v)
		return;
	t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	html_text(h, t);
	free(t);
}

char *html_take(struct html *h, size_t *len)
{
	char *p;

	if (!h->p && !h->oom)
		add(h, "", 0);
	if (h->oom) {
		free(h->p);
		h->p = NULL;
		return NULL;
	}
	p = h->p;
	*len = h->len;
	h->p = NULL;
	h->len = h->cap = 0;
	return p;
}
