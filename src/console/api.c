/* api.c - the console's machine interfaces: SCC's REST list and get calls
 * (`GET /v2/organizations/{org}/sources/-/locations/{loc}/findings` with
 * filter, orderBy, pageSize, pageToken; `GET /v2/{finding name}`), shaped
 * like SCC's responses so a script written against SCC works with only the
 * base URL changed; `/healthz` (200 only while the agent's counters are
 * fresh) and `/metrics` (Prometheus: the agent's counters, findings by
 * category and severity, the console's own requests). docs/console-api.yaml
 * is the OpenAPI description. */
#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "filter.h"
#include "finding_shape.h"
#include "util.h"

#define API_PAGE_DEFAULT 10 /* as SCC */
#define API_PAGE_MAX     1000

/* Google's error shape: {"error": {"code", "message", "status"}}. */
static int api_error(struct reply *out, int code, const char *status, const char *msg)
{
	reply_json(out, code,
	           json_pack("{s:{s:i,s:s,s:s}}", "error", "code", code, "message", msg, "status",
	                     status));
	return 0;
}

/* "organizations/{org}/sources/{src}/locations/{loc}/findings[/{id}]": the
 * parent must be this console's (source "-" means all). *id set for a get. */
static bool parse_name(struct console *cs, const char *rest, const char **id)
{
	char org[64], src[64], loc[64];
	int n = 0;

	*id = NULL;
	if (sscanf(rest, "organizations/%63[^/]/sources/%63[^/]/locations/%63[^/]/findings%n", org,
	           src, loc, &n) != 3 ||
	    !n)
		return false;
	if (strcmp(org, cs->cfg.organization) || strcmp(loc, cs->cfg.location) ||
	    (strcmp(src, "-") && strcmp(src, cs->cfg.source)))
		return false;
	if (rest[n] == '/' && rest[n + 1]) {
		*id = rest + n + 1;
		return strspn(*id, "0123456789abcdef") == strlen(*id);
	}
	return rest[n] == '\0';
}

static long page_size(struct req *r)
{
	const char *v = req_arg(r, "pageSize");
	long n = v ? strtol(v, NULL, 10) : API_PAGE_DEFAULT;

	return n < 1 ? API_PAGE_DEFAULT : n > API_PAGE_MAX ? API_PAGE_MAX : n;
}

/* pageToken: opaque to clients; "o" and the offset here. */
static long page_offset(const char *tok)
{
	char *end;
	long o;

	if (!tok || !tok[0])
		return 0;
	if (tok[0] != 'o')
		return -1;
	o = strtol(tok + 1, &end, 10);
	return *end || o < 0 ? -1 : o;
}

static int api_list(struct req *r, struct reply *out)
{
	const char *filter = req_arg(r, "filter"), *order = req_arg(r, "orderBy");
	long size = page_size(r), off = page_offset(req_arg(r, "pageToken"));
	struct cw_filter *f = NULL;
	struct cw_store *s;
	json_t *arr = NULL;
	int64_t total = 0;
	char err[1024], next[32] = "";

	if (off < 0)
		return api_error(out, 400, "INVALID_ARGUMENT",
		                 "pageToken is not one this server gave");
	if (cw_filter_compile(filter && filter[0] ? filter : NULL, &f, err, sizeof(err)))
		return api_error(out, 400, "INVALID_ARGUMENT", err);
	if (req_store(r, false, &s, out)) {
		cw_filter_free(f);
		return 0;
	}
	if (cw_store_count(s, f, &total) ||
	    cw_store_list_page(s, f, order && order[0] ? order : "event_time desc", size, off,
	                       &arr)) {
		cw_store_close(s);
		cw_filter_free(f);
		return api_error(out, 400, "INVALID_ARGUMENT",
		                 "orderBy: use fields such as event_time, name, category, state, "
		                 "severity, resource_name, each optionally followed by desc");
	}
	cw_store_close(s);
	cw_filter_free(f);
	if (off + size < total)
		snprintf(next, sizeof(next), "o%ld", off + size);
	reply_json(out, 200, cw_shape_list_response(arr, total, next));
	json_decref(arr);
	return 0;
}

int api_v2(struct req *r, const char *rest, struct reply *out)
{
	const char *id;
	struct cw_store *s;
	json_t *f = NULL;
	int err;

	if (!parse_name(r->cs, rest, &id))
		return api_error(
		    out, 404, "NOT_FOUND",
		    "no such collection: use organizations/{organization}/sources/-/"
		    "locations/{location}/findings with this console's organization and "
		    "location");
	if (!id)
		return api_list(r, out);
	if (req_store(r, false, &s, out))
		return 0;
	err = cw_store_get(s, id, &f);
	cw_store_close(s);
	if (err)
		return api_error(out, err == -ENOENT ? 404 : 400,
		                 err == -ENOENT ? "NOT_FOUND" : "INVALID_ARGUMENT",
		                 err == -ENOENT ? "no such finding"
		                                : "ambiguous or bad finding id");
	json_object_del(f, "resource"); /* a Finding message has none: the list result does */
	reply_json(out, 200, f);
	return 0;
}

/* ---- operations ---------------------------------------------------------- */

int api_healthz(struct req *r, const char *rest, struct reply *out)
{
	json_t *o = json_load_file(r->cs->stats_path, 0, NULL);
	int64_t age = o ? cw_stats_age_ms(o, cw_now_ns() / 1000000) : INT64_MAX;
	bool ok = age <= CW_STATS_FRESH_MS;

	(void)rest;
	reply_json(out, ok ? 200 : 503,
	           json_pack("{s:s,s:s,s:I,s:I}", "status", ok ? "ok" : "unhealthy", "reason",
	                     ok  ? "the agent's sensor is attached and its counters are fresh"
	                     : o ? "the agent's counters are stale: it is stopped or stuck"
	                         : "no agent counters: is `cagewatch run` running?",
	                     "agent_pid", (json_int_t)json_integer_value(json_object_get(o, "pid")),
	                     "counters_age_ms", (json_int_t)(o ? age : -1)));
	json_decref(o);
	return 0;
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(FILE *m, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', m);
		if (*v == '\n')
			fputs("\\n", m);
		else
			fputc(*v, m);
	}
}

static void findings_metrics(struct req *r, FILE *m)
{
	struct cw_store *s;
	struct reply dummy = {0};
	json_t *c = NULL, *v;
	size_t i;

	if (cw_store_open(&s, r->cs->store_path, CW_STORE_READONLY)) {
		free(dummy.body);
		return;
	}
	if (!cw_store_counts(s, NULL, &c)) {
		fputs("# HELP cagewatch_findings findings in the store by category and severity\n"
		      "# TYPE cagewatch_findings gauge\n",
		      m);
		json_array_foreach(c, i, v)
		{
			fputs("cagewatch_findings{category=\"", m);
			label(m, html_js(v, "category"));
			fputs("\",severity=\"", m);
			label(m, html_js(v, "severity"));
			fprintf(m, "\"} %lld\n",
			        (long long)json_integer_value(json_object_get(v, "count")));
		}
	}
	json_decref(c);
	cw_store_close(s);
}

static void request_metrics(struct console *cs, FILE *m)
{
	static const char *const le[5] = {"0.001", "0.005", "0.025", "0.1", "0.5"};
	static const char *const cls[6] = {"rate_limited", "1xx", "2xx", "3xx", "4xx", "5xx"};

	fputs("# HELP cagewatch_console_requests_total console requests by status class\n"
	      "# TYPE cagewatch_console_requests_total counter\n",
	      m);
	for (int i = 0; i < 6; i++)
		fprintf(m, "cagewatch_console_requests_total{code=\"%s\"} %llu\n", cls[i],
		        (unsigned long long)__atomic_load_n(&cs->requests[i], __ATOMIC_RELAXED));
	fputs("# HELP cagewatch_console_request_duration_seconds time to answer a request\n"
	      "# TYPE cagewatch_console_request_duration_seconds histogram\n",
	      m);
	for (int i = 0; i < 5; i++)
		fprintf(m, "cagewatch_console_request_duration_seconds_bucket{le=\"%s\"} %llu\n",
		        le[i],
		        (unsigned long long)__atomic_load_n(&cs->latency_le[i], __ATOMIC_RELAXED));
	fprintf(m,
	        "cagewatch_console_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	        "cagewatch_console_request_duration_seconds_sum %.6f\n"
	        "cagewatch_console_request_duration_seconds_count %llu\n",
	        (unsigned long long)cs->latency_count, (double)cs->latency_us_sum / 1e6,
	        (unsigned long long)cs->latency_count);
}

int api_metrics(struct req *r, const char *rest, struct reply *out)
{
	json_t *o = json_load_file(r->cs->stats_path, 0, NULL);
	bool fresh = o && cw_stats_age_ms(o, cw_now_ns() / 1000000) <= CW_STATS_FRESH_MS;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	(void)rest;
	if (!m) {
		json_decref(o);
		reply_error(out, 500, "out of memory");
		return 0;
	}
	fprintf(m,
	        "# HELP cagewatch_up whether the agent's counters are fresh\n"
	        "# TYPE cagewatch_up gauge\ncagewatch_up %d\n",
	        fresh);
	if (o)
		cw_stats_prometheus(m, o);
	findings_metrics(r, m);
	request_metrics(r->cs, m);
	(void)fclose(m);
	json_decref(o);
	out->status = 200;
	out->type = "text/plain; version=0.0.4; charset=utf-8";
	out->body = buf;
	out->len = len;
	return 0;
}
