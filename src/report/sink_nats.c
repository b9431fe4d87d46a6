/* sink_nats.c - the NATS JetStream transport (libnats):
 *
 *   nats://HOST[:4222][,HOST[:PORT]...]?stream=NAME&subject=SUBJ
 *          [&replicas=N][&creds=FILE][&ca=FILE][&tls=true][&user=U&password=P]
 *
 * Each finding is published as SCC's NotificationMessage JSON to the subject
 * (default cagewatch.findings.<host>, the host reduced to a token) and is
 * delivered once JetStream has acknowledged it: it is then stored in the
 * stream on as many servers as the stream's replicas. The message id is the
 * finding's name and occurrence (Nats-Msg-Id), so a retry, or a resend after
 * the agent died between the ack and its position update, is de-duplicated by
 * the stream within its duplicate window. With stream= the stream is
 * checked at connect and created when missing (subjects cagewatch.findings.>,
 * file storage, `replicas` copies); every publish expects that stream.
 * Connections reconnect on their own; a publish that fails is retried by
 * sink_remote.c with backoff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nats/nats.h>

#include "finding.h"
#include "nats_url.h"
#include "sink_remote.h"
#include "util.h"

struct nats_tp {
	natsConnection *nc;
	jsCtx *js;
	int failed; /* async publishes JetStream refused (ErrHandler; delivery thread) */
	char err[200];
};

/* An asynchronous publish failed: the batch is sent again. */
static void on_pub_err(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	struct nats_tp *t = closure;

	(void)js;
	t->failed++;
	snprintf(t->err, sizeof(t->err), "%s",
	         pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
}

/* The query parameter key=value of a nats:// URL, into out. */
bool cw_nats_param(const char *url, const char *key, char *out, size_t n)
{
	const char *q = strchr(url, '?');
	size_t kl = strlen(key);

	for (q = q ? q + 1 : NULL; q && *q; q = strchr(q, '&') ? strchr(q, '&') + 1 : NULL) {
		if (!strncmp(q, key, kl) && q[kl] == '=') {
			size_t vl = strcspn(q + kl + 1, "&#");

			if (vl >= n)
				return false;
			memcpy(out, q + kl + 1, vl);
			out[vl] = '\0';
			return true;
		}
	}
	return false;
}

static bool param(const struct cw_remote *r, const char *key, char *out, size_t n)
{
	return cw_nats_param(r->path, key, out, n);
}

static int nats_parse(struct cw_remote *r, const char *url)
{
	const char *hosts;
	size_t hl;

	if (strncmp(url, "nats://", 7))
		return -EINVAL;
	hosts = url + 7;
	hl = strcspn(hosts, "/?");
	if (!hl || hl >= sizeof(r->host) || strlen(url) >= sizeof(r->path))
		return -EINVAL;
	memcpy(r->host, hosts, hl); /* "a:4222,b:4222" */
	r->host[hl] = '\0';
	cw_strlcpy(r->path, url, sizeof(r->path));
	return 0;
}

/* NATS subject token of the host name: no '.', '*', '>' or spaces. */
static void subject_of(const struct cw_remote *r, char *out, size_t n)
{
	char host[200];

	if (param(r, "subject", out, n))
		return;
	cw_strlcpy(host, r->cfg.host[0] ? r->cfg.host : "unknown", sizeof(host));
	for (char *p = host; *p; p++)
		if (*p == '.' || *p == '*' || *p == '>' || *p <= ' ' || *p > '~')
			*p = '_';
	snprintf(out, n, "cagewatch.findings.%s", host);
}

static int fail(struct cw_remote *r, const char *what, natsStatus s)
{
	snprintf(r->why, sizeof(r->why), "%s: %s (%s)", what, natsStatus_GetText(s),
	         nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
	return -EIO;
}

/* Options from a nats:// URL: every server of the list, reconnects forever,
 * credentials, TLS. */
natsStatus cw_nats_options(const char *url, const char *name, natsOptions **out)
{
	char servers[16][272], hosts[1024], creds[256], ca[256], user[128], pass[128], tls[8];
	const char *list[16];
	char *save = NULL, *h;
	int n = 0;
	size_t hl = strncmp(url, "nats://", 7) ? 0 : strcspn(url + 7, "/?#");
	natsStatus s = natsOptions_Create(out);

	if (!hl || hl >= sizeof(hosts))
		return s == NATS_OK ? NATS_INVALID_ARG : s;
	/* "a:1,b:2" -> {"nats://a:1", "nats://b:2"}: every server of the cluster */
	memcpy(hosts, url + 7, hl);
	hosts[hl] = '\0';
	for (h = strtok_r(hosts, ",", &save); h && n < 16; h = strtok_r(NULL, ",", &save)) {
		snprintf(servers[n], sizeof(servers[n]), "nats://%s", h);
		list[n] = servers[n];
		n++;
	}
	if (s == NATS_OK)
		s = n ? natsOptions_SetServers(*out, list, n) : NATS_INVALID_ARG;
	if (s == NATS_OK)
		s = natsOptions_SetName(*out, name);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(*out, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(*out, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(*out, 2000);
	if (s == NATS_OK && cw_nats_param(url, "creds", creds, sizeof(creds)))
		s = natsOptions_SetUserCredentialsFromFiles(*out, creds, NULL);
	if (s == NATS_OK && cw_nats_param(url, "user", user, sizeof(user)) &&
	    cw_nats_param(url, "password", pass, sizeof(pass)))
		s = natsOptions_SetUserInfo(*out, user, pass);
	if (s == NATS_OK && cw_nats_param(url, "tls", tls, sizeof(tls)) && !strcmp(tls, "true"))
		s = natsOptions_SetSecure(*out, true);
	if (s == NATS_OK && cw_nats_param(url, "ca", ca, sizeof(ca)))
		s = natsOptions_LoadCATrustedCertificates(*out, ca);
	return s;
}

/* The stream named `stream`, created when missing (subjects
 * cagewatch.findings.>, file storage, the URL's replicas= copies). 0, or
 * -EIO with why set. */
int cw_nats_ensure_stream(jsCtx *js, const char *url, const char *stream, const char *who,
                          char *why, size_t whysz)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	const char *subjects[] = {"cagewatch.findings.>"};
	char rep[8] = "1";
	natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);

	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (s == NATS_NOT_FOUND) {
		(void)cw_nats_param(url, "replicas", rep, sizeof(rep));
		jsStreamConfig_Init(&sc);
		sc.Name = stream;
		sc.Subjects = subjects;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.Replicas = atoi(rep) > 0 ? atoi(rep) : 1;
		s = js_AddStream(&si, js, &sc, NULL, &jerr);
		jsStreamInfo_Destroy(si);
		if (s == NATS_OK) {
			cw_info("%s: created the JetStream stream %s (%lld replica(s))", who,
			        stream, (long long)sc.Replicas);
			return 0;
		}
	}
	snprintf(why, whysz, "%s the stream %s: %s (%s)",
	         s == NATS_NOT_FOUND ? "creating" : "looking up", stream, natsStatus_GetText(s),
	         nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
	return -EIO;
}

static int connect_js(struct cw_remote *r, struct nats_tp *t)
{
	jsOptions jo;
	natsOptions *o = NULL;
	char stream[128];
	natsStatus s = cw_nats_options(r->path, "cagewatch", &o);
	int err;

	if (s == NATS_OK)
		s = natsConnection_Connect(&t->nc, o);
	natsOptions_Destroy(o);
	if (s != NATS_OK)
		return fail(r, "connecting", s);
	jsOptions_Init(&jo);
	jo.PublishAsync.ErrHandler = on_pub_err;
	jo.PublishAsync.ErrHandlerClosure = t;
	jo.PublishAsync.MaxPending = 1024;
	if ((s = natsConnection_JetStream(&t->js, t->nc, &jo)) != NATS_OK)
		return fail(r, "JetStream context", s);
	if (param(r, "stream", stream, sizeof(stream)) &&
	    (err =
	         cw_nats_ensure_stream(t->js, r->path, stream, r->display, r->why, sizeof(r->why))))
		return err;
	return 0;
}

static void drop(struct nats_tp *t)
{
	jsCtx_Destroy(t->js);
	natsConnection_Destroy(t->nc);
	t->js = NULL;
	t->nc = NULL;
}

/* The NotificationMessage text of f and its message id (name#occurrence). */
static char *message(struct cw_remote *r, json_t *f, char *id, size_t idsz)
{
	json_t *msg = cw_finding_notification(&r->cfg, f);
	json_t *occ = json_object_get(json_object_get(f, "sourceProperties"), "Occurrence_Count");
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

	json_decref(msg);
	snprintf(id, idsz, "%s#%lld", json_string_value(json_object_get(f, "name")),
	         (long long)json_integer_value(occ));
	return text;
}

static int ensure_connected(struct cw_remote *r, struct nats_tp **tp)
{
	struct nats_tp *t = r->tp ? r->tp : (r->tp = calloc(1, sizeof(struct nats_tp)));
	int err;

	*tp = t;
	if (!t)
		return -ENOMEM;
	if (!t->js && (err = connect_js(r, t))) {
		drop(t);
		return err;
	}
	return 0;
}

/* Publish every one asynchronously, then wait for all the acks: the batch is
 * delivered when JetStream acknowledged each (stored on the stream's
 * replicas). On any failure nothing is counted as delivered and the whole
 * batch is sent again; the stream drops the copies it already has by id. */
static int nats_send_batch(struct cw_remote *r, json_t **fs, size_t n, size_t *done)
{
	char subj[256], id[600], stream[128];
	bool expect = param(r, "stream", stream, sizeof(stream));
	struct nats_tp *t;
	jsPubOptions po;
	natsMsgList pend = {0};
	natsStatus s = NATS_OK;
	int err = ensure_connected(r, &t);

	*done = 0;
	if (err)
		return err;
	subject_of(r, subj, sizeof(subj));
	t->failed = 0;
	for (size_t i = 0; i < n && s == NATS_OK; i++) {
		char *text = message(r, fs[i], id, sizeof(id));

		if (!text)
			return -ENOMEM;
		jsPubOptions_Init(&po);
		po.MsgId = id;
		if (expect)
			po.ExpectStream = stream;
		s = js_PublishAsync(t->js, subj, text, (int)strlen(text), &po);
		free(text);
	}
	if (s == NATS_OK) {
		jsPubOptions_Init(&po);
		po.MaxWait = 10000;
		s = js_PublishAsyncComplete(t->js, &po);
	}
	if (s != NATS_OK || t->failed) {
		if (js_PublishAsyncGetPendingList(&pend, t->js) == NATS_OK)
			natsMsgList_Destroy(&pend);
		if (s == NATS_OK)
			snprintf(r->why, sizeof(r->why), "publishing: %d of %zu refused (%s)",
			         t->failed, n, t->err);
		return s == NATS_OK ? -EIO : fail(r, "publishing", s);
	}
	*done = n;
	return 0;
}

static int nats_send(struct cw_remote *r, json_t *f)
{
	size_t done;

	return nats_send_batch(r, &f, 1, &done);
}

static void nats_close(struct cw_remote *r)
{
	if (r->tp)
		drop(r->tp);
	free(r->tp);
	r->tp = NULL;
}

const struct cw_transport_ops cw_transport_nats = {
    .kind = "nats",
    .parse = nats_parse,
    .send = nats_send,
    .send_batch = nats_send_batch,
    .close = nats_close,
};
