/* html.h - building an HTML page (or any text body) in memory, with every
 * value that came from a finding escaped: findings carry attacker-chosen
 * paths, arguments, names and labels. */
#ifndef CW_HTML_H
#define CW_HTML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct html {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Literal markup (never a value from a finding). */
void html_raw(struct html *h, const char *s);
/* printf of literal markup; %s arguments are NOT escaped: use html_text. */
void html_rawf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text, escaped for element content and quoted attribute values: & < > " '
 * become entities, bidi overrides and other invisible controls a visible
 * \uXXXX, so a value cannot reorder what the reader sees. NULL prints "". */
void html_text(struct html *h, const char *s);
/* Text for a URL's query value (percent-encoded), then escaped. */
void html_url(struct html *h, const char *s);
/* The string member key of o, or NULL. */
const char *html_js(json_t *o, const char *key);
/* A JSON scalar as text: strings bare, others as JSON. */
void html_scalar(struct html *h, json_t *v);
/* The finished body (caller frees), or NULL when out of memory. */
char *html_take(struct html *h, size_t *len);

#endif
