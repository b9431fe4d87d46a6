/* termsafe.c - terminal-safe rendering of untrusted text (see termsafe.h). */
#include "termsafe.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode one UTF-8 sequence at s (at most n bytes). Returns its length and the
 * code point, or 0 when the bytes are not a valid, shortest-form sequence. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points that change how a terminal shows the text around them. */
static bool invisible(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 ||
	       c == 0x2029 || c == 0xfeff;
}

char *cw_term_escape(const char *s, bool multiline)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), o = 0;
	char *out = malloc(n * 10 + 1); /* "\u{10ffff}" is the longest: 10 for <= 4 bytes */

	if (!out)
		return NULL;
	while (*p) {
		uint32_t c;
		size_t len = utf8_decode(p, n, &c);

		if (!len) {
			o += (size_t)sprintf(out + o, "\\x%02x", *p);
			len = 1;
		} else if (c == '\\') {
			o += (size_t)sprintf(out + o, "\\\\");
		} else if (c == '\n' && multiline) {
			out[o++] = '\n';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)sprintf(out + o, "\\x%02x", (unsigned)c);
		} else if (invisible(c)) {
			o += (size_t)sprintf(out + o, "\\u{%04x}", (unsigned)c);
		} else {
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
		n -= len;
	}
	out[o] = '\0';
	return out;
}
