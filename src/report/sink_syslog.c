/* sink_syslog.c - the syslog transport: each finding as one RFC 5424 message
 * with structured data, to the local socket (syslog:///dev/log, datagrams),
 * over UDP (syslog+udp://host[:514]) or TCP (syslog+tcp://host[:601], RFC
 * 6587 octet counting, the connection kept and remade after an error).
 *
 *   <PRI>1 TIME HOST cagewatch PID FINDING [cagewatch@32473 category="..."
 *   severity="..." container="..." rule="..." finding="..."] BOM{finding JSON}
 *
 * PRI is facility auth (4) with the SCC severity as syslog severity
 * (CRITICAL crit, HIGH err, MEDIUM warning, LOW notice). Structured-data
 * values come from containers (names): '"', '\' and ']' are escaped and
 * control bytes replaced, so a value cannot end its element. 32473 is the
 * enterprise number RFC 5612 sets aside for examples. "Delivered" is what
 * the transport can tell: written to the socket (UDP and the local socket
 * have no acknowledgement).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sink_remote.h"
#include "util.h"

enum { SYSLOG_UNIX = 0, SYSLOG_UDP = 1, SYSLOG_TCP = 2 };

struct syslog_tp {
	int fd;
};

/* host[:port] after the scheme; [v6]:port too. */
static int parse_hostport(struct cw_remote *r, const char *p, const char *defport)
{
	const char *end = p + strcspn(p, "/?#"), *colon;
	size_t hl;

	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (!rb)
			return -EINVAL;
		hl = (size_t)(rb - p - 1);
		colon = rb[1] == ':' ? rb + 1 : NULL;
		p++;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		hl = (size_t)((colon ? colon : end) - p);
	}
	if (!hl || hl >= sizeof(r->host))
		return -EINVAL;
	memcpy(r->host, p, hl);
	r->host[hl] = '\0';
	if (colon && (size_t)(end - colon - 1) < sizeof(r->port) && end - colon > 1) {
		memcpy(r->port, colon + 1, (size_t)(end - colon - 1));
		r->port[end - colon - 1] = '\0';
	} else if (colon) {
		return -EINVAL;
	} else {
		cw_strlcpy(r->port, defport, sizeof(r->port));
	}
	return strspn(r->port, "0123456789") == strlen(r->port) ? 0 : -EINVAL;
}

static int syslog_parse(struct cw_remote *r, const char *url)
{
	if (!strncmp(url, "syslog://", 9)) {
		r->mode = SYSLOG_UNIX;
		if (url[9] != '/' || strlen(url + 9) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return -EINVAL;
		cw_strlcpy(r->path, url + 9, sizeof(r->path));
		return 0;
	}
	if (!strncmp(url, "syslog+udp://", 13)) {
		r->mode = SYSLOG_UDP;
		return parse_hostport(r, url + 13, "514");
	}
	if (!strncmp(url, "syslog+tcp://", 13)) {
		r->mode = SYSLOG_TCP;
		return parse_hostport(r, url + 13, "601");
	}
	return -EINVAL;
}

/* An SD-PARAM value: escaped, control bytes replaced, bounded. */
static void sd_value(char *out, size_t n, const char *v)
{
	size_t o = 0;

	for (; v && *v && o + 3 < n; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '"' || c == '\\' || c == ']')
			out[o++] = '\\';
		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
}

static const char *jget(json_t *o, const char *path)
{
	const char *v = json_string_value(json_object_get(o, path));

	return v ? v : "-";
}

static int severity_of(const char *sev)
{
	return !strcmp(sev, "CRITICAL") ? 2
	       : !strcmp(sev, "HIGH")   ? 3
	       : !strcmp(sev, "MEDIUM") ? 4
	                                : 5;
}

/* The message (malloc'd) or NULL. */
static char *format(struct cw_remote *r, json_t *f)
{
	json_t *sp = json_object_get(f, "sourceProperties");
	char cat[256], sev[32], ctr[256], rule[256], name[512], host[256], *body, *msg = NULL;
	size_t i;

	sd_value(cat, sizeof(cat), jget(f, "category"));
	sd_value(sev, sizeof(sev), jget(f, "severity"));
	sd_value(ctr, sizeof(ctr), jget(sp, "Container_Name"));
	sd_value(rule, sizeof(rule), jget(sp, "Rule_Id"));
	sd_value(name, sizeof(name), jget(f, "name"));
	/* HOSTNAME: printable US-ASCII without spaces (RFC 5424 6.2.4) */
	cw_strlcpy(host, r->cfg.host[0] ? r->cfg.host : "-", sizeof(host));
	for (i = 0; host[i]; i++)
		if (host[i] <= ' ' || host[i] > '~')
			host[i] = '_';
	if (!(body = json_dumps(f, JSON_COMPACT)))
		return NULL;
	if (asprintf(&msg,
	             "<%d>1 %s %s cagewatch %d FINDING [cagewatch@32473 category=\"%s\" "
	             "severity=\"%s\" container=\"%s\" rule=\"%s\" finding=\"%s\"] \xef\xbb\xbf%s",
	             4 * 8 + severity_of(jget(f, "severity")), jget(f, "eventTime"), host,
	             (int)getpid(), cat, sev, ctr, rule, name, body) < 0)
		msg = NULL;
	free(body);
	return msg;
}

/* A connected socket for the URL, or -errno with r->why. */
static int connect_to(struct cw_remote *r)
{
	struct addrinfo hints = {.ai_socktype = r->mode == SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM};
	struct addrinfo *ai = NULL, *p;
	int fd = -1, err;

	if (r->mode == SYSLOG_UNIX) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		cw_strlcpy(sa.sun_path, r->path, sizeof(sa.sun_path));
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = -errno;
		snprintf(r->why, sizeof(r->why), "%s: %s", r->path, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if ((err = getaddrinfo(r->host, r->port, &hints, &ai))) {
		snprintf(r->why, sizeof(r->why), "%s: %s", r->host, gai_strerror(err));
		return -EHOSTUNREACH;
	}
	for (p = ai, err = -ECONNREFUSED; p; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
		if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		err = -errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		snprintf(r->why, sizeof(r->why), "%s:%s: %s", r->host, r->port, strerror(-err));
	return fd >= 0 ? fd : err;
}

/* All of buf, or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int syslog_send(struct cw_remote *r, json_t *f)
{
	struct syslog_tp *t = r->tp;
	char *msg = format(r, f), frame[24];
	int err;

	if (!msg)
		return -ENOMEM;
	if (!t && (t = r->tp = calloc(1, sizeof(*t))))
		t->fd = -1;
	if (!t || (t->fd < 0 && (t->fd = connect_to(r)) < 0)) {
		err = t ? t->fd : -ENOMEM;
		if (t)
			t->fd = -1;
		free(msg);
		return err;
	}
	if (r->mode == SYSLOG_TCP) {
		snprintf(frame, sizeof(frame), "%zu ", strlen(msg));
		err = write_all(t->fd, frame, strlen(frame));
		if (!err)
			err = write_all(t->fd, msg, strlen(msg));
	} else {
		err = send(t->fd, msg, strlen(msg), MSG_NOSIGNAL) < 0 ? -errno : 0;
	}
	free(msg);
	if (err) { /* remade on the next attempt */
		snprintf(r->why, sizeof(r->why), "sending: %s", strerror(-err));
		close(t->fd);
		t->fd = -1;
	}
	return err;
}

static void syslog_close(struct cw_remote *r)
{
	struct syslog_tp *t = r->tp;

	if (t && t->fd >= 0)
		close(t->fd);
	free(t);
	r->tp = NULL;
}

const struct cw_transport_ops cw_transport_syslog = {
    .kind = "syslog",
    .parse = syslog_parse,
    .send = syslog_send,
    .close = syslog_close,
};
