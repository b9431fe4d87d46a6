/* nats_url.h - the nats:// URL both the NATS sink and `cagewatch collect`
 * take: nats://HOST[:PORT][,HOST[:PORT]...]?stream=&subject=&creds=FILE&ca=FILE
 * &tls=true&user=U&password=P (see sink_nats.c). */
#ifndef CW_NATS_URL_H
#define CW_NATS_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <nats/nats.h>

/* The query parameter key of url into out (false: absent or too long). */
bool cw_nats_param(const char *url, const char *key, char *out, size_t n);
/* Connection options for url; `name` is the client name servers show. */
natsStatus cw_nats_options(const char *url, const char *name, natsOptions **out);

/* The JetStream stream `stream`, created when missing (subjects
 * cagewatch.findings.>, file storage, the URL's replicas=N copies); `who`
 * names the caller in the log. 0, or -EIO with why set. */
int cw_nats_ensure_stream(jsCtx *js, const char *url, const char *stream, const char *who,
                          char *why, size_t whysz);

#endif
