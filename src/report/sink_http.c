/* sink_http.c - the webhook transport (libcurl): each finding POSTed as JSON
 * to http(s)://..., or with falco+http(s)://... in the shape of a Falco
 * alert ({output, priority, rule, time, output_fields, source, tags,
 * hostname}) so that falcosidekick and its outputs take it unchanged. TLS
 * peers are verified (libcurl's default, kept). Delivered means a 2xx
 * answer; anything else is retried by sink_remote.c. Each request carries
 * Idempotency-Key: the finding's name and occurrence, the same on a retry.
 * Extra headers come from the URL's fragment, which is never sent:
 *   https://hooks.example/x#header=Authorization:%20Bearer%20TOKEN&header=X-A:%201
 * (percent-decoded; logs and stats show the URL without it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "sink_remote.h"
#include "util.h"

enum { HTTP_FINDING = 0, HTTP_FALCO = 1 };

static int http_parse(struct cw_remote *r, const char *url)
{
	static bool curl_ready;

	if (strncmp(url, "falco+http", 10) && strncmp(url, "http", 4))
		return -EINVAL;
	if (!curl_ready) { /* set-up, on the main thread, before any delivery thread */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EINVAL;
		curl_ready = true;
	}
	if (!strncmp(url, "falco+http://", 13) || !strncmp(url, "falco+https://", 14)) {
		r->mode = HTTP_FALCO;
		url += 6; /* the URL curl gets */
	} else if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
		r->mode = HTTP_FINDING;
	} else {
		return -EINVAL;
	}
	if (strlen(url) >= sizeof(r->path))
		return -EINVAL;
	cw_strlcpy(r->path, url, sizeof(r->path));
	if (strchr(r->path, '#')) {
		cw_strlcpy(r->opts, strchr(r->path, '#') + 1, sizeof(r->opts));
		*strchr(r->path, '#') = '\0';
	}
	return 0;
}

/* %XX-decode in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		unsigned v;

		if (*s == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &v) == 1 && v >= 0x20) {
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* The fragment's header=NAME:VALUE options, appended to h. */
static struct curl_slist *extra_headers(const struct cw_remote *r, struct curl_slist *h)
{
	char opts[sizeof(r->opts)], *save = NULL, *kv;

	cw_strlcpy(opts, r->opts, sizeof(opts));
	for (kv = strtok_r(opts, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		if (strncmp(kv, "header=", 7) || !strchr(kv + 7, ':'))
			continue;
		unescape(kv + 7);
		h = curl_slist_append(h, kv + 7);
	}
	return h;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* SCC severity -> Falco priority. */
static const char *falco_priority(const char *sev)
{
	return !strcmp(sev, "CRITICAL") ? "Critical"
	       : !strcmp(sev, "HIGH")   ? "Error"
	       : !strcmp(sev, "MEDIUM") ? "Warning"
	                                : "Notice";
}

/* The Falco alert for a finding (new reference, or NULL). */
static json_t *falco_alert(json_t *f, const char *host)
{
	json_t *p0 = json_array_get(json_object_get(f, "processes"), 0);
	json_t *c0 = json_array_get(json_object_get(f, "containers"), 0);
	json_t *sp = json_object_get(f, "sourceProperties");
	json_t *mitre = json_object_get(f, "mitreAttack"), *tags = json_array(), *t;
	json_t *args = json_object_get(p0, "args");
	char *cmdline = args ? json_dumps(args, JSON_COMPACT) : NULL, *out = NULL;
	size_t i;
	json_t *a;

	json_array_append_new(tags, json_string("cagewatch"));
	json_array_append_new(tags, json_string(jstr(f, "moduleName")));
	if (json_string_value(json_object_get(mitre, "primaryTactic")))
		json_array_append_new(tags, json_string(jstr(mitre, "primaryTactic")));
	json_array_foreach(json_object_get(mitre, "primaryTechniques"), i, t)
	{
		json_array_append(tags, t);
	}
	if (asprintf(&out, "%s: %s %s (container=%s image=%s proc=%s args=%s finding=%s)",
	             jstr(f, "eventTime"), falco_priority(jstr(f, "severity")), jstr(f, "category"),
	             jstr(c0, "name"), jstr(c0, "uri"), jstr(json_object_get(p0, "binary"), "path"),
	             cmdline ? cmdline : "[]", jstr(f, "name")) < 0)
		out = NULL;
	a = json_pack("{s:s?,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:O?,s:s,s:s,s:s,s:s},s:s,s:o,s:s}",
	              "output", out, "priority", falco_priority(jstr(f, "severity")), "rule",
	              jstr(f, "category"), "time", jstr(f, "eventTime"), "output_fields",
	              "container.id", jstr(sp, "Container_Id"), "container.name", jstr(c0, "name"),
	              "container.image.repository", jstr(c0, "uri"), "proc.exepath",
	              jstr(json_object_get(p0, "binary"), "path"), "proc.args", args, "k8s.ns.name",
	              jstr(sp, "Pod_Namespace"), "k8s.pod.name", jstr(sp, "Pod_Name"),
	              "cagewatch.finding", jstr(f, "name"), "cagewatch.rule_id",
	              jstr(sp, "Rule_Id"), "source", "cagewatch", "tags", tags, "hostname", host);
	free(out);
	free(cmdline);
	return a;
}

static int post(struct cw_remote *r, CURL *c, const char *body, const char *idem)
{
	struct curl_slist *h = NULL;
	char hdr[600];
	long code = 0;
	CURLcode rc;

	h = curl_slist_append(h, "Content-Type: application/json");
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", idem);
	h = curl_slist_append(h, hdr);
	h = extra_headers(r, h);
	curl_easy_setopt(c, CURLOPT_URL, r->path);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(r->why, sizeof(r->why), "%s", curl_easy_strerror(rc));
		return -EIO;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		snprintf(r->why, sizeof(r->why), "HTTP status %ld", code);
		return -EIO;
	}
	return 0;
}

/* A handle per sink, made on first use, kept (connections are reused). */
static CURL *handle(struct cw_remote *r)
{
	CURL *c = r->tp;

	if (c)
		return c;
	if (!(c = curl_easy_init()))
		return NULL;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cagewatch");
	/* a redirect could send findings elsewhere: not followed */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	r->tp = c;
	return c;
}

static int http_send(struct cw_remote *r, json_t *f)
{
	CURL *c = handle(r);
	json_t *body = r->mode == HTTP_FALCO ? falco_alert(f, r->cfg.host) : json_incref(f);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL, idem[512];
	json_t *occ = json_object_get(json_object_get(f, "sourceProperties"), "Occurrence_Count");
	int err;

	json_decref(body);
	if (!c || !text) {
		free(text);
		snprintf(r->why, sizeof(r->why), "out of memory");
		return -ENOMEM;
	}
	snprintf(idem, sizeof(idem), "%s#%lld", jstr(f, "name"),
	         (long long)json_integer_value(occ));
	err = post(r, c, text, idem);
	free(text);
	return err;
}

static void http_close(struct cw_remote *r)
{
	curl_easy_cleanup(r->tp);
	r->tp = NULL;
}

const struct cw_transport_ops cw_transport_http = {
    .kind = "webhook",
    .parse = http_parse,
    .send = http_send,
    .close = http_close,
};
