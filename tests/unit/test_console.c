/* test_console.c - unit tests of the console's escaper (src/console/html.c):
 * what a finding carries (markup, quotes, control bytes, bidi overrides,
 * zero-width characters) comes out as inert, visible text. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "html.h"

static char *esc(const char *s)
{
	struct html h = {0};
	size_t n;

	html_text(&h, s);
	return html_take(&h, &n);
}

TEST(markup_and_quotes_are_entities)
{
	char *o = esc("<script>alert(\"1\")</script> & 'x'");

	CHECK_STR(o, "&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt; &amp; &#39;x&#39;");
	free(o);
	o = esc("\" onmouseover=\"alert(1)");
	CHECK(o && !strchr(o, '"'));
	free(o);
	o = esc(NULL);
	CHECK_STR(o, "");
	free(o);
}

TEST(invisible_characters_are_shown)
{
	/* U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH SPACE, ESC, BEL */
	char *o = esc("evil\xe2\x80\xaetxt.exe\xe2\x80\x8b\x1b[31m\x07");

	CHECK_STR(o, "evil\\u202etxt.exe\\u200b\\x1b[31m\\x07");
	free(o);
	o = esc("caf\xc3\xa9 \xe2\x82\xac\ttab\nline"); /* ordinary UTF-8, tab, newline kept */
	CHECK_STR(o, "caf\xc3\xa9 \xe2\x82\xac\ttab\nline");
	free(o);
}

TEST(urls_are_percent_encoded)
{
	struct html h = {0};
	size_t n;
	char *o;

	html_url(&h, "a b&c=\"d\"/é");
	o = html_take(&h, &n);
	CHECK_STR(o, "a%20b%26c%3D%22d%22%2F%C3%A9");
	free(o);
}

TEST(raw_and_formatted_output)
{
	struct html h = {0};
	size_t n;
	char *o;

	html_raw(&h, "<p>");
	html_rawf(&h, "%d-%s", 42, "x");
	html_text(&h, "<b>");
	html_raw(&h, "</p>");
	o = html_take(&h, &n);
	CHECK_STR(o, "<p>42-x&lt;b&gt;</p>");
	CHECK_INT(n, strlen("<p>42-x&lt;b&gt;</p>"));
	free(o);
}

static const struct cw_test tests[] = {
    {"markup_and_quotes_are_entities", markup_and_quotes_are_entities},
    {"invisible_characters_are_shown", invisible_characters_are_shown},
    {"urls_are_percent_encoded", urls_are_percent_encoded},
    {"raw_and_formatted_output", raw_and_formatted_output},
};

CW_TEST_MAIN(tests)
