/* console.h - what the parts of `cagewatch serve` share (internal). */
#ifndef CW_CONSOLE_H
#define CW_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "html.h"
#include "store.h"

#define CW_CONSOLE_DEFAULT_LISTEN "127.0.0.1:7611"

struct console {
	const char *store_path;
	const char *stats_path;
	char *token; /* bearer token, NULL when none is set */
	struct cw_config cfg;
	/* request metrics */
	uint64_t requests[6]; /* by status class: 1xx..5xx, [0] rate-limited */
	uint64_t latency_us_sum, latency_count;
	uint64_t latency_le[5]; /* <= 1, 5, 25, 100, 500 ms */
};

/* One request as the handlers see it. */
struct req {
	struct console *cs;
	void *conn; /* struct MHD_Connection */
	const char *method;
	char csrf[65]; /* this client's CSRF token (cookie) */
	bool authed;   /* the bearer token was presented (or none is set) */
	/* form fields of a POST */
	char f_csrf[65], f_state[16], f_mute[16], f_token[256];
	bool form_too_big;
};

struct reply {
	int status;
	const char *type; /* Content-Type */
	char *body;       /* malloc'd */
	size_t len;
	char location[512];    /* redirect target */
	char disposition[128]; /* Content-Disposition */
	bool set_auth;         /* set the auth cookie to the token */
};

/* A query argument, or NULL. */
const char *req_arg(struct req *r, const char *name);
/* Open the store (read-only unless write). 0 or -errno, with an error page in out. */
int req_store(struct req *r, bool write, struct cw_store **s, struct reply *out);
/* An HTML page: the frame (head, navigation) around body. Takes body's buffer. */
void reply_page(struct reply *out, int status, const char *title, struct html *body);
/* A plain error page (HTML) or JSON error for the API. */
void reply_error(struct reply *out, int status, const char *msg);
void reply_json(struct reply *out, int status, json_t *j); /* consumes j */

/* page_list.c */
int page_findings(struct req *r, const char *rest, struct reply *out);
/* page_finding.c */
int page_finding(struct req *r, const char *rest, struct reply *out);
int post_finding(struct req *r, const char *rest, struct reply *out);
/* Render a list of findings as the table of the Findings page; sort_base
 * (NULL: no sort links) is the page's link, order its current orderBy. */
void html_findings_table(struct html *h, json_t *arr, const char *sort_base, const char *order);
/* api.c */
int api_v2(struct req *r, const char *rest, struct reply *out);
int api_healthz(struct req *r, const char *rest, struct reply *out);
int api_metrics(struct req *r, const char *rest, struct reply *out);
/* assets.c */
int asset_css(struct req *r, const char *rest, struct reply *out);
int asset_js(struct req *r, const char *rest, struct reply *out);

/* serve.c: `cagewatch serve` */
int cw_cmd_serve(int argc, char **argv);

#endif
