/* page_list.c - the Findings page: the SCC filter language in a box (its
 * errors beside the box, with a 400, never a 500), counts by category and
 * severity, a table like `findings list` sorted by any column, and pages. */
#include "console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX     1000

static const struct {
	const char *title, *field; /* field: the orderBy name, NULL if not sortable */
} cols[] = {
    {"Event time", "event_time"},
    {"Severity", "severity"},
    {"Category", "category"},
    {"State", "state"},
    {"Mute", "mute"},
    {"Container / resource", "resource_name"},
    {"Binary", NULL},
    {"Occurrences", "occurrence_count"},
};

/* Column headers; a sortable one links to its own order, newest/largest
 * first, or the other way round when the table is already sorted by it. */
static void header_row(struct html *h, const char *sort_base, const char *order)
{
	html_raw(h, "<table class=\"findings\"><thead><tr>");
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		html_raw(h, "<th>");
		if (cols[i].field && sort_base) {
			size_t n = strlen(cols[i].field);
			bool by = order && !strncmp(order, cols[i].field, n) &&
			          (order[n] == '\0' || order[n] == ' ');
			bool desc = by && strstr(order + n, "desc");

			html_rawf(h, "<a href=\"%s&amp;orderBy=%s%%20%s\">", sort_base,
			          cols[i].field, by && desc ? "asc" : "desc");
			html_text(h, cols[i].title);
			html_raw(h, by ? (desc ? " &#9660;" : " &#9650;") : "");
			html_raw(h, "</a>");
		} else {
			html_text(h, cols[i].title);
		}
		html_raw(h, "</th>");
	}
	html_raw(h, "</tr></thead><tbody>");
}

static void cell(struct html *h, const char *s)
{
	html_raw(h, "<td>");
	html_text(h, s ? s : "");
	html_raw(h, "</td>");
}

static void row(struct html *h, json_t *f)
{
	json_t *sp = json_object_get(f, "sourceProperties");
	json_t *ctr = json_array_get(json_object_get(f, "containers"), 0);
	json_t *proc = json_array_get(json_object_get(f, "processes"), 0);
	const char *name = html_js(f, "name"), *sev = html_js(f, "severity");
	const char *where =
	    html_js(ctr, "name") ? html_js(ctr, "name") : html_js(f, "resourceName");
	const char *id = cw_store_short_id(name);

	html_raw(h, "<tr><td><a href=\"/findings/");
	html_url(h, id);
	html_raw(h, "\">");
	html_text(h, html_js(f, "eventTime"));
	html_raw(h, "</a></td><td><span class=\"sev-");
	html_text(h, sev);
	html_raw(h, "\">");
	html_text(h, sev);
	html_raw(h, "</span></td>");
	cell(h, html_js(f, "category"));
	cell(h, html_js(f, "state"));
	cell(h, html_js(f, "mute"));
	cell(h, where);
	cell(h, html_js(json_object_get(proc, "binary"), "path"));
	html_raw(h, "<td>");
	html_scalar(h, json_object_get(sp, "Occurrence_Count"));
	html_raw(h, "</td></tr>");
}

void html_findings_table(struct html *h, json_t *arr, const char *sort_base, const char *order)
{
	json_t *f;
	size_t i;

	header_row(h, sort_base, order);
	json_array_foreach(arr, i, f)
	{
		row(h, f);
	}
	html_raw(h, "</tbody></table>");
}

static void counts(struct html *h, json_t *c)
{
	json_t *v;
	size_t i;

	if (!json_array_size(c))
		return;
	html_raw(h, "<table class=\"counts\"><thead><tr><th>Category</th><th>Severity</th>"
	            "<th>Findings</th></tr></thead><tbody>");
	json_array_foreach(c, i, v)
	{
		html_raw(h, "<tr>");
		cell(h, html_js(v, "category"));
		cell(h, html_js(v, "severity"));
		html_rawf(h, "<td>%lld</td></tr>",
		          (long long)json_integer_value(json_object_get(v, "count")));
	}
	html_raw(h, "</tbody></table>");
}

static void filter_box(struct html *h, const char *filter, const char *err)
{
	html_raw(h,
	         "<form method=\"get\" action=\"/findings\"><label for=\"filter\">Filter</label> "
	         "<input type=\"text\" id=\"filter\" name=\"filter\" value=\"");
	html_text(h, filter);
	html_raw(h, "\" placeholder=\"category=&quot;Execution: Container Escape&quot; AND "
	            "state=&quot;ACTIVE&quot;\"> <button type=\"submit\">Apply</button>");
	if (err) {
		html_raw(h, " <span class=\"error\" id=\"filter-error\">");
		html_text(h, err);
		html_raw(h, "</span>");
	}
	html_raw(h, "</form>");
}

/* The query string that keeps filter and order (for sort and page links). */
static void base_link(struct html *tmp, const char *filter, const char *order, bool with_order)
{
	html_raw(tmp, "/findings?filter=");
	html_url(tmp, filter);
	if (with_order) {
		html_raw(tmp, "&amp;orderBy=");
		html_url(tmp, order);
	}
}

static void pager(struct html *h, const char *filter, const char *order, long page, long size,
                  int64_t total)
{
	struct html b = {0};
	size_t bl;
	char *base;
	long pages = (long)((total + size - 1) / size);

	base_link(&b, filter, order, true);
	base = html_take(&b, &bl);
	html_rawf(h, "<p class=\"pager\">%lld finding%s; page %ld of %ld ", (long long)total,
	          total == 1 ? "" : "s", page, pages ? pages : 1);
	if (base && page > 1)
		html_rawf(h, "<a rel=\"prev\" href=\"%s&amp;page=%ld\">previous</a> ", base,
		          page - 1);
	if (base && page < pages)
		html_rawf(h, "<a rel=\"next\" href=\"%s&amp;page=%ld\">next</a>", base, page + 1);
	html_raw(h, "</p>");
	free(base);
}

static long num_arg(struct req *r, const char *name, long def, long max)
{
	const char *v = req_arg(r, name);
	char *end;
	long n = v ? strtol(v, &end, 10) : def;

	if (!v || *end || n < 1)
		return def;
	return n > max ? max : n;
}

int page_findings(struct req *r, const char *rest, struct reply *out)
{
	const char *filter = req_arg(r, "filter") ? req_arg(r, "filter") : "";
	const char *order = req_arg(r, "orderBy") ? req_arg(r, "orderBy") : "event_time desc";
	long size = num_arg(r, "pageSize", PAGE_DEFAULT, PAGE_MAX),
	     page = num_arg(r, "page", 1, 1000000);
	struct cw_filter *f = NULL;
	struct cw_store *s;
	struct html h = {0}, sb = {0};
	json_t *arr = NULL, *c = NULL;
	int64_t total = 0;
	char err[1024] = "";
	char *sort_base;
	size_t sl;
	int status = 200;

	(void)rest;
	if (cw_filter_compile(filter[0] ? filter : NULL, &f, err, sizeof(err)))
		status = 400;
	if (req_store(r, false, &s, out))
		return 0;
	if (status == 200 && (cw_store_count(s, f, &total) || cw_store_counts(s, f, &c) ||
	                      cw_store_list_page(s, f, order, size, (page - 1) * size, &arr))) {
		snprintf(err, sizeof(err),
		         "cannot order by \"%s\": use event_time, create_time, "
		         "category, state, severity, name, resource_name",
		         order);
		status = 400;
	}
	cw_store_close(s);
	html_raw(&h, "<h1>Findings</h1>");
	filter_box(&h, filter, status == 200 ? NULL : err);
	counts(&h, c);
	base_link(&sb, filter, order, false);
	sort_base = html_take(&sb, &sl);
	html_findings_table(&h, arr, sort_base, order);
	free(sort_base);
	pager(&h, filter, order, page, size, total);
	json_decref(arr);
	json_decref(c);
	cw_filter_free(f);
	reply_page(out, status, "Findings", &h);
	return 0;
}
