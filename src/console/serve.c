/* serve.c - `cagewatch serve`: the web console and API over the findings
 * store, on libmicrohttpd (its HTTP parser, connection limits and TLS; no
 * hand-written HTTP). One routing table; every response gets the security
 * headers (a strict Content-Security-Policy: nothing from elsewhere, no inline
 * script); POSTs need this client's CSRF token and, when a token is set, the
 * token; clients are rate-limited per address. Listens on 127.0.0.1 unless
 * told otherwise, and then only with a token.
 */
#include "console.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "agent.h"
#include "finding.h"
#include "util.h"

#define FORM_MAX     4096
#define RATE_DEFAULT 100 /* requests per second per client address, burst 2x */
#define RATE_SLOTS   256

static const char csp[] = "default-src 'none'; style-src 'self'; script-src 'self'; "
                          "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'";

/* ---- per-client rate limit (a token bucket per address hash) ---------- */

static struct {
	uint32_t addr;
	double tokens;
	int64_t last_ms;
} buckets[RATE_SLOTS];
static pthread_mutex_t bucket_lock = PTHREAD_MUTEX_INITIALIZER;

static double rate_per_sec = RATE_DEFAULT; /* 0: no limit (--rate-limit 0) */

static bool rate_ok(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	uint32_t a = 0;
	int64_t now = cw_mono_ms();
	bool ok;
	size_t k;

	if (rate_per_sec <= 0)
		return true;
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		a = ((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr.s_addr;
	else if (ci && ci->client_addr)
		a = cw_fnv1a32_str("v6"); /* IPv6 clients share a bucket per family */
	k = cw_fnv1a64(CW_FNV64_INIT, &a, sizeof(a)) % RATE_SLOTS;
	pthread_mutex_lock(&bucket_lock);
	if (buckets[k].addr != a || !buckets[k].last_ms) {
		buckets[k].addr = a;
		buckets[k].tokens = 2.0 * rate_per_sec;
		buckets[k].last_ms = now;
	}
	buckets[k].tokens += (double)(now - buckets[k].last_ms) * rate_per_sec / 1000.0;
	if (buckets[k].tokens > 2.0 * rate_per_sec)
		buckets[k].tokens = 2.0 * rate_per_sec;
	buckets[k].last_ms = now;
	ok = buckets[k].tokens >= 1.0;
	if (ok)
		buckets[k].tokens -= 1.0;
	pthread_mutex_unlock(&bucket_lock);
	return ok;
}

/* ---- helpers the pages use ---------------------------------------------- */

const char *req_arg(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int req_store(struct req *r, bool write, struct cw_store **s, struct reply *out)
{
	int err = cw_store_open(s, r->cs->store_path, write ? 0 : CW_STORE_READONLY);

	if (err)
		reply_error(out, 503,
		            err == -ENOENT ? "no findings store yet: is `cagewatch run` running?"
		                           : "the findings store cannot be opened");
	return err;
}

void reply_page(struct reply *out, int status, const char *title, struct html *body)
{
	struct html h = {0};
	size_t blen;
	char *b = html_take(body, &blen);

	html_raw(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	             "<meta name=\"viewport\" content=\"width=device-width\">"
	             "<link rel=\"stylesheet\" href=\"/static/console.css\"><title>");
	html_text(&h, title);
	html_raw(&h, " - cagewatch</title><script src=\"/static/console.js\" defer></script>"
	             "</head><body><header><a class=\"brand\" href=\"/findings\">cagewatch</a>"
	             "<nav><a href=\"/findings\">Findings</a><a href=\"/metrics\">Metrics</a>"
	             "<a href=\"/healthz\">Health</a></nav></header><main>");
	if (b)
		html_raw(&h, b);
	html_raw(&h, "</main></body></html>\n");
	free(b);
	out->status = status;
	out->type = "text/html; charset=utf-8";
	out->body = html_take(&h, &out->len);
	if (!out->body)
		out->status = 500;
}

void reply_error(struct reply *out, int status, const char *msg)
{
	struct html h = {0};

	html_raw(&h, "<h1>");
	html_rawf(&h, "%d", status);
	html_raw(&h, "</h1><p class=\"error\">");
	html_text(&h, msg);
	html_raw(&h, "</p>");
	reply_page(out, status, "Error", &h);
}

void reply_json(struct reply *out, int status, json_t *j)
{
	out->status = j ? status : 500;
	out->type = "application/json";
	out->body = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	out->len = out->body ? strlen(out->body) : 0;
	if (j && !out->body)
		out->status = 500;
	json_decref(j);
}

/* ---- routing -------------------------------------------------------------- */

typedef int (*route_fn)(struct req *r, const char *rest, struct reply *out);

static int redirect_home(struct req *r, const char *rest, struct reply *out)
{
	(void)r;
	(void)rest;
	out->status = 303;
	cw_strlcpy(out->location, "/findings", sizeof(out->location));
	return 0;
}

static int page_login(struct req *r, const char *rest, struct reply *out);
static int post_login(struct req *r, const char *rest, struct reply *out);

static const struct {
	const char *method, *path;
	bool prefix;
	route_fn fn;
} routes[] = {
    {"GET", "/", false, redirect_home},
    {"GET", "/findings", false, page_findings},
    {"GET", "/findings/", true, page_finding},
    {"POST", "/findings/", true, post_finding},
    {"GET", "/v2/", true, api_v2},
    {"GET", "/healthz", false, api_healthz},
    {"GET", "/metrics", false, api_metrics},
    {"GET", "/login", false, page_login},
    {"POST", "/login", false, post_login},
    {"GET", "/static/console.css", false, asset_css},
    {"GET", "/static/console.js", false, asset_js},
};

static void route(struct req *r, const char *url, struct reply *out)
{
	bool path_known = false;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t n = strlen(routes[i].path);
		bool hit = routes[i].prefix ? !strncmp(url, routes[i].path, n) && url[n]
		                            : !strcmp(url, routes[i].path);

		if (!hit)
			continue;
		path_known = true;
		if (strcmp(routes[i].method, r->method))
			continue;
		routes[i].fn(r, url + (routes[i].prefix ? n : strlen(url)), out);
		return;
	}
	reply_error(out, path_known ? 405 : 404,
	            path_known ? "method not allowed here" : "no such page");
}

/* ---- the token: a bearer header, or the cookie the login form sets ------ */

static bool same_secret(const char *a, const char *b)
{
	size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;
	unsigned char d = la != lb;

	for (size_t i = 0; a && b && i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return a && b && !d;
}

static bool presented_token(struct req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	const char *ck = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "cw_auth");

	if (!r->cs->token)
		return true;
	if (h && !strncmp(h, "Bearer ", 7) && same_secret(h + 7, r->cs->token))
		return true;
	return ck && same_secret(ck, r->cs->token);
}

static int page_login(struct req *r, const char *rest, struct reply *out)
{
	struct html h = {0};

	(void)rest;
	html_raw(&h, "<h1>Sign in</h1><p>Changing a finding's state or mute needs the console's "
	             "token (the file given with <code>--token-file</code>).</p>"
	             "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" "
	             "value=\"");
	html_text(&h, r->csrf);
	html_raw(&h, "\"><input type=\"password\" name=\"token\" autocomplete=\"off\">"
	             "<button type=\"submit\">Sign in</button></form>");
	reply_page(out, 200, "Sign in", &h);
	return 0;
}

static int post_login(struct req *r, const char *rest, struct reply *out)
{
	(void)rest;
	if (!r->cs->token || !same_secret(r->f_token, r->cs->token)) {
		reply_error(out, 401, "wrong token");
		return 0;
	}
	out->set_auth = true;
	out->status = 303;
	cw_strlcpy(out->location, "/findings", sizeof(out->location));
	return 0;
}

/* A POST may change something: this client's CSRF token (a SameSite=Strict
 * cookie another site cannot send, repeated in the form), an Origin that is
 * this host if the browser sends one, and the token when one is set. */
static bool post_allowed(struct req *r, const char *url, struct reply *out)
{
	const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	bool bearer = auth && r->cs->token && !strncmp(auth, "Bearer ", 7) && r->authed;

	if (r->form_too_big) {
		reply_error(out, 413, "the form is too large");
		return false;
	}
	if (!bearer) {
		const char *o = origin ? strstr(origin, "://") : NULL;

		/* "null" (a privacy setting) says nothing: the cookie decides */
		if (origin && !strcmp(origin, "null"))
			origin = NULL;
		if (!r->csrf[0] || !same_secret(r->f_csrf, r->csrf) ||
		    (origin && (!o || !host || strcmp(o + 3, host)))) {
			reply_error(out, 403,
			            "the request did not come from this console's own page "
			            "(CSRF check failed): reload the page and try again");
			return false;
		}
	}
	if (!r->authed && strcmp(url, "/login")) {
		reply_error(out, 401,
		            "changing findings needs the console's token: sign in at /login");
		return false;
	}
	return true;
}

/* ---- libmicrohttpd glue -------------------------------------------------- */

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *ctype, const char *enc,
                                  const char *data, uint64_t off, size_t size)
{
	struct req *r = cls;
	char *dst = !strcmp(key, "csrf")    ? r->f_csrf
	            : !strcmp(key, "state") ? r->f_state
	            : !strcmp(key, "mute")  ? r->f_mute
	            : !strcmp(key, "token") ? r->f_token
	                                    : NULL;
	size_t cap = !strcmp(key, "token")  ? sizeof(r->f_token)
	             : !strcmp(key, "csrf") ? sizeof(r->f_csrf)
	                                    : sizeof(r->f_state);

	(void)kind;
	(void)filename;
	(void)ctype;
	(void)enc;
	if (!dst)
		return MHD_YES;
	if (off + size >= cap) {
		r->form_too_big = true;
		return MHD_NO;
	}
	memcpy(dst + off, data, size);
	dst[off + size] = '\0';
	return MHD_YES;
}

struct conn_state {
	struct req r;
	struct MHD_PostProcessor *pp;
	size_t body;
	int64_t start_us;
};

static void add_cookie(struct MHD_Response *resp, const char *name, const char *value, bool tls)
{
	char c[512];

	snprintf(c, sizeof(c), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", name, value,
	         tls ? "; Secure" : "");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, c);
}

static bool tls_on;

static enum MHD_Result send_reply(struct conn_state *st, struct reply *out)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int64_t us = (int64_t)(cw_now_ns() / 1000) - st->start_us;
	static const int64_t le[5] = {1000, 5000, 25000, 100000, 500000};

	if (!out->body && out->status != 303)
		reply_error(out, out->status ? out->status : 500, "internal error");
	resp = MHD_create_response_from_buffer(out->len, out->body ? out->body : (char *)"",
	                                       out->body ? MHD_RESPMEM_MUST_FREE
	                                                 : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(out->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        out->type ? out->type : "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	/* same-origin: a form post then carries its real Origin (no-referrer
	 * makes browsers send "Origin: null") */
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (out->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, out->location);
	if (out->disposition[0])
		MHD_add_response_header(resp, "Content-Disposition", out->disposition);
	if (!MHD_lookup_connection_value(st->r.conn, MHD_COOKIE_KIND, "cw_csrf"))
		add_cookie(resp, "cw_csrf", st->r.csrf, tls_on);
	if (out->set_auth && st->r.cs->token)
		add_cookie(resp, "cw_auth", st->r.cs->token, tls_on);
	ret = MHD_queue_response(st->r.conn, (unsigned)out->status, resp);
	MHD_destroy_response(resp);
	__atomic_fetch_add(&st->r.cs->requests[out->status / 100 % 6], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st->r.cs->latency_us_sum, (uint64_t)us, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st->r.cs->latency_count, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 5; i++)
		if (us <= le[i])
			__atomic_fetch_add(&st->r.cs->latency_le[i], 1, __ATOMIC_RELAXED);
	return ret;
}

/* The first call for a request: its state, the client's CSRF token. */
static struct conn_state *begin(struct console *cs, struct MHD_Connection *c, const char *method)
{
	struct conn_state *st = calloc(1, sizeof(*st));
	const char *ck;

	if (!st)
		return NULL;
	st->start_us = (int64_t)(cw_now_ns() / 1000);
	st->r.cs = cs;
	st->r.conn = c;
	st->r.method = method;
	ck = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "cw_csrf");
	if (ck && strlen(ck) == 32 && strspn(ck, "0123456789abcdef") == 32)
		cw_strlcpy(st->r.csrf, ck, sizeof(st->r.csrf));
	else
		cw_finding_new_id(st->r.csrf);
	st->r.authed = presented_token(&st->r);
	if (!strcmp(method, "POST"))
		st->pp = MHD_create_post_processor(c, 1024, form_field, &st->r);
	return st;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct conn_state *st = *con_cls;
	struct reply out = {0};

	(void)version;
	if (!st) {
		if (!(st = begin(cls, c, method)))
			return MHD_NO;
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_size) {
		st->body += *upload_size;
		if (st->body > FORM_MAX || !st->pp ||
		    MHD_post_process(st->pp, upload, *upload_size) != MHD_YES)
			st->r.form_too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (!rate_ok(c)) {
		__atomic_fetch_add(&st->r.cs->requests[0], 1, __ATOMIC_RELAXED);
		reply_error(&out, 429, "too many requests: slow down");
	} else if (!strcmp(method, "POST") && !post_allowed(&st->r, url, &out)) {
		/* out holds the refusal */
	} else if (strcmp(method, "GET") && strcmp(method, "POST") && strcmp(method, "HEAD")) {
		reply_error(&out, 405, "method not allowed");
	} else {
		st->r.method = !strcmp(method, "HEAD") ? "GET" : method;
		route(&st->r, url, &out);
	}
	return send_reply(st, &out);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
	struct conn_state *st = *con_cls;

	(void)cls;
	(void)c;
	(void)code;
	if (!st)
		return;
	if (st->pp)
		MHD_destroy_post_processor(st->pp);
	free(st);
	*con_cls = NULL;
}

/* ---- options and start ---------------------------------------------------- */

struct serve_opts {
	const char *listen, *token_file, *cert, *key, *config, *pidfile, *rate, *log_format;
};

static const char usage_text[] =
    "usage: cagewatch serve [--store PATH] [--listen ADDR:PORT] [--token-file F]\n"
    "                       [--tls-cert F --tls-key F] [--stats-file F] [--config F]\n"
    "                       [--pidfile F] [--rate-limit N] [--log-format text|json]\n"
    "  --listen      where to listen (default " CW_CONSOLE_DEFAULT_LISTEN "); an address other\n"
    "                than loopback needs --token-file\n"
    "  --token-file  a file holding the token (16+ characters) that changing findings\n"
    "                needs (Authorization: Bearer, or the /login form); reading needs none\n"
    "  --tls-cert, --tls-key  serve HTTPS with this PEM certificate and key\n"
    "  --stats-file  the running agent's counters, for /healthz and /metrics (default\n"
    "                " CW_STATS_DEFAULT_PATH ")\n"
    "  --rate-limit  requests per second per client address, burst twice that\n"
    "                (default 100; 0: no limit)\n";

static int usage(const char *what)
{
	return cw_usage_hint("serve", "%s", what);
}

/* "127.0.0.1:7611" -> sockaddr; loopback said. 0 or -EINVAL. */
static int parse_listen(const char *s, struct sockaddr_in *sa, bool *loopback)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		cw_strlcpy(host, "127.0.0.1", sizeof(host));
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa->sin_addr) != 1)
		return -EINVAL;
	*loopback = (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
	return 0;
}

static int read_secret(const char *path, char **out, size_t min)
{
	size_t len;
	int err = cw_read_file(path, 1 << 20, out, &len);

	if (err)
		return err;
	while (len && strchr(" \t\r\n", (*out)[len - 1]))
		(*out)[--len] = '\0';
	if (len < min) {
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct console *cs, struct serve_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = !strcmp(a, "--listen")       ? &o->listen
		                   : !strcmp(a, "--token-file") ? &o->token_file
		                   : !strcmp(a, "--tls-cert")   ? &o->cert
		                   : !strcmp(a, "--tls-key")    ? &o->key
		                   : !strcmp(a, "--store")      ? &cs->store_path
		                   : !strcmp(a, "--stats-file") ? &cs->stats_path
		                   : !strcmp(a, "--config")     ? &o->config
		                   : !strcmp(a, "--pidfile")    ? &o->pidfile
		                   : !strcmp(a, "--rate-limit") ? &o->rate
		                   : !strcmp(a, "--log-format") ? &o->log_format
		                                                : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return CW_EXIT_OK + 100;
		}
		if (!dst)
			return cw_usage_hint("serve", "unknown option '%s'", a);
		if (i + 1 >= argc)
			return usage("an option needs a value");
		*dst = argv[++i];
	}
	if (!o->cert != !o->key)
		return usage("--tls-cert and --tls-key go together");
	if (o->log_format && strcmp(o->log_format, "text") && strcmp(o->log_format, "json"))
		return usage("--log-format is text or json");
	cw_log_set_json(o->log_format && !strcmp(o->log_format, "json"));
	if (o->rate) {
		char *end;

		rate_per_sec = strtod(o->rate, &end);
		if (*end || rate_per_sec < 0 || rate_per_sec > 1e6)
			return usage("--rate-limit takes requests per second per client (0: none)");
	}
	return 0;
}

/* Token and TLS material; the daemon's options into items. 0 or exit status. */
static int load_secrets(struct console *cs, const struct serve_opts *o, bool loopback, char **cert,
                        char **key)
{
	if (o->token_file && read_secret(o->token_file, &cs->token, 16)) {
		cw_err("serve: cannot read a token of 16 or more characters from %s",
		       o->token_file);
		return CW_EXIT_ERROR;
	}
	if (!loopback && !cs->token) {
		cw_err("serve: listening on %s, beyond this machine, needs --token-file (and "
		       "--tls-cert/--tls-key to keep the token off the wire)",
		       o->listen);
		return CW_EXIT_ERROR;
	}
	if (o->cert && (!MHD_is_feature_supported(MHD_FEATURE_TLS) ||
	                cw_read_file(o->cert, 1 << 20, cert, NULL) ||
	                cw_read_file(o->key, 1 << 20, key, NULL))) {
		cw_err("serve: cannot use TLS with %s and %s (unreadable, or libmicrohttpd built "
		       "without TLS)",
		       o->cert, o->key);
		return CW_EXIT_ERROR;
	}
	return 0;
}

static struct MHD_Daemon *start(struct console *cs, struct sockaddr_in *sa, char *cert, char *key)
{
	struct MHD_OptionItem opts[] = {
	    {MHD_OPTION_SOCK_ADDR, 0, sa},
	    {MHD_OPTION_THREAD_POOL_SIZE, 4, NULL},
	    {MHD_OPTION_CONNECTION_LIMIT, 128, NULL},
	    {MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32, NULL},
	    {MHD_OPTION_CONNECTION_TIMEOUT, 15, NULL},
	    {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 65536, NULL},
	    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, NULL},
	    {cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
	    {cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key},
	    {MHD_OPTION_END, 0, NULL},
	};

	tls_on = cert != NULL;
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
	                            (cert ? MHD_USE_TLS : 0),
	                        0, NULL, NULL, handler, cs, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

int cw_cmd_serve(int argc, char **argv)
{
	struct console cs = {.stats_path = CW_STATS_DEFAULT_PATH};
	struct serve_opts o = {.listen = CW_CONSOLE_DEFAULT_LISTEN};
	struct MHD_Daemon *d;
	struct sockaddr_in sa;
	char *cert = NULL, *key = NULL, shown[512];
	bool loopback;
	sigset_t set;
	int rc, sig;

	cs.store_path = getenv(CW_STORE_ENV);
	if (!cs.store_path || !cs.store_path[0])
		cs.store_path = CW_STORE_DEFAULT_PATH;
	cw_config_defaults(&cs.cfg);
	if ((rc = parse_args(argc, argv, &cs, &o)))
		return rc == CW_EXIT_OK + 100 ? CW_EXIT_OK : rc;
	if (o.config && cw_config_load(&cs.cfg, o.config))
		return CW_EXIT_ERROR;
	if (parse_listen(o.listen, &sa, &loopback))
		return usage("--listen takes ADDR:PORT, e.g. 127.0.0.1:7611");
	if ((rc = load_secrets(&cs, &o, loopback, &cert, &key)))
		return rc;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* the server's threads inherit it */
	d = start(&cs, &sa, cert, key);
	if (!d) {
		cw_err("serve: cannot listen on %s: %s", o.listen, strerror(errno));
		free(cert);
		free(key);
		return CW_EXIT_ERROR;
	}
	if (o.pidfile) {
		FILE *pf = cw_fopen_mode(o.pidfile, 0644);

		if (pf) {
			fprintf(pf, "%d\n", (int)getpid());
			(void)fclose(pf);
		}
	}
	cw_url_redact(cs.store_path, shown, sizeof(shown));
	cw_info("console on %s://%s (store %s)%s", cert ? "https" : "http", o.listen, shown,
	        cs.token ? "; changes need the token" : "");
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	free(cert);
	free(key);
	free(cs.token);
	return CW_EXIT_OK;
}
