/* test_termsafe.c - container-chosen text reaches a terminal unambiguously and
 * harmlessly (src/termsafe.c). */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "termsafe.h"

static char buf[512];

static const char *esc(const char *s, bool multiline)
{
	char *e = cw_term_escape(s, multiline);

	snprintf(buf, sizeof(buf), "%s", e ? e : "(null)");
	free(e);
	return buf;
}

TEST(test_controls)
{
	CHECK_STR(esc("plain text", false), "plain text");
	CHECK_STR(esc("red\x1b[31mX", false), "red\\x1b[31mX");
	CHECK_STR(esc("a\x7f"
	              "b\tc",
	              false),
	          "a\\x7fb\\x09c");
	CHECK_STR(esc("line1\nline2", false), "line1\\x0aline2");
	CHECK_STR(esc("line1\nline2", true), "line1\nline2");
	CHECK_STR(esc("cr\r", true), "cr\\x0d");
	CHECK_STR(esc("", false), "");
	CHECK_STR(esc(NULL, false), "");
}

TEST(test_unicode)
{
	CHECK_STR(esc("caf\xc3\xa9 \xe2\x9c\x93", false), "caf\xc3\xa9 \xe2\x9c\x93");
	/* 8-bit CSI (U+009B) and the other C1 controls */
	CHECK_STR(esc("x\xc2\x9b"
	              "31m",
	              false),
	          "x\\u{009b}31m");
	CHECK_STR(esc("\xc2\x85", false), "\\u{0085}");
	/* bidi override and isolate: "exe.txt" shown as "txt.exe" otherwise */
	CHECK_STR(esc("a\xe2\x80\xae"
	              "b",
	              false),
	          "a\\u{202e}b");
	CHECK_STR(esc("\xe2\x81\xa6", false), "\\u{2066}");
	CHECK_STR(esc("\xef\xbb\xbf"
	              "bom",
	              false),
	          "\\u{feff}bom");
}

TEST(test_invalid_and_backslash)
{
	/* an invalid byte and a typed "\xff" must not look alike */
	CHECK_STR(esc("\xff", false), "\\xff");
	CHECK_STR(esc("\\xff", false), "\\\\xff");
	/* overlong, truncated, surrogate, beyond U+10FFFF */
	CHECK_STR(esc("\xc0\xaf", false), "\\xc0\\xaf");
	CHECK_STR(esc("ab\xe2\x82", false), "ab\\xe2\\x82");
	CHECK_STR(esc("\xed\xa0\x80", false), "\\xed\\xa0\\x80");
	CHECK_STR(esc("\xf4\x90\x80\x80", false), "\\xf4\\x90\\x80\\x80");
	CHECK_STR(esc("\xf0\x9f\x98\x80", false), "\xf0\x9f\x98\x80");
}

static const struct cw_test tests[] = {
    {"controls", test_controls},
    {"unicode", test_unicode},
    {"invalid_and_backslash", test_invalid_and_backslash},
};
CW_TEST_MAIN(tests)
