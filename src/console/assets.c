/* assets.c - the console's stylesheet and its one small script, served from
 * the binary (the Content-Security-Policy allows nothing else). The script
 * only adds conveniences: the pages work without it. */
#include "console.h"

#include <stdlib.h>
#include <string.h>

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#202124;background:#f8f9fa}"
    "header{background:#1a237e;color:#fff;padding:.6em "
    "1.2em;display:flex;gap:2em;align-items:center}"
    "header a{color:#fff;text-decoration:none}.brand{font-weight:700;font-size:1.15em}"
    "nav a{margin-right:1.2em;opacity:.9}main{padding:1em 1.5em;max-width:1400px}"
    "table{border-collapse:collapse;width:100%;background:#fff;margin:.5em 0 1.2em}"
    "th,td{border-bottom:1px solid #e0e0e0;padding:.35em .6em;text-align:left;vertical-align:top}"
    "th{background:#eef0f6;font-weight:600}th a{color:inherit}td.k{width:15em;color:#5f6368}"
    ".sev-CRITICAL{color:#fff;background:#b71c1c;padding:0 .4em;border-radius:3px}"
    ".sev-HIGH{color:#fff;background:#e65100;padding:0 .4em;border-radius:3px}"
    ".sev-MEDIUM{background:#ffe082;padding:0 .4em;border-radius:3px}"
    ".sev-LOW{background:#c8e6c9;padding:0 .4em;border-radius:3px}"
    ".error{color:#b71c1c;font-weight:600}.risky{color:#b71c1c;font-weight:600}"
    ".tabs{display:flex;gap:.3em;margin:1em 0 0;border-bottom:2px solid #1a237e}"
    ".tabs a{padding:.4em 1em;text-decoration:none;color:#1a237e;border-radius:4px 4px 0 0}"
    ".tabs a.on{background:#1a237e;color:#fff}"
    "pre{background:#fff;border:1px solid #e0e0e0;padding:1em;overflow:auto;max-height:70vh}"
    "input[type=text]{width:60%;padding:.35em;font:inherit}button{font:inherit;padding:.3em .9em}"
    "form.inline{display:inline;margin-right:.6em}.counts td{width:auto}.muted{color:#5f6368}"
    "h2{margin-top:1.4em;font-size:1.1em;color:#1a237e}code{word-break:break-all}";

static const char js[] =
    "document.addEventListener('DOMContentLoaded',function(){"
    "document.querySelectorAll('button[data-copy]').forEach(function(b){"
    "b.addEventListener('click',function(){var t=document.getElementById(b.dataset.copy);"
    "if(t&&navigator.clipboard){navigator.clipboard.writeText(t.textContent);"
    "b.textContent='Copied';}});});"
    "document.querySelectorAll('select[data-submit]').forEach(function(s){"
    "s.addEventListener('change',function(){s.form.submit();});});});";

static int asset(struct reply *out, const char *body, const char *type)
{
	out->status = 200;
	out->type = type;
	out->body = strdup(body);
	out->len = out->body ? strlen(out->body) : 0;
	return 0;
}

int asset_css(struct req *r, const char *rest, struct reply *out)
{
	(void)r;
	(void)rest;
	return asset(out, css, "text/css; charset=utf-8");
}

int asset_js(struct req *r, const char *rest, struct reply *out)
{
	(void)r;
	(void)rest;
	return asset(out, js, "text/javascript; charset=utf-8");
}
