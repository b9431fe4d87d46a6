/* stdio.c - what the exec-time rules (kinds exec_stdio, exec_argv and
 * exec_env, technique.h) look at, from the exec record: the program's and its
 * parent's names, whether stdin or stdout was a connected network socket at
 * the exec (decided by the kernel, stdio.bpf.h) and that socket's ends for
 * the finding; the environment the kernel sent (env.bpf.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent_int.h"

/* The socket's address (remote or local end) as text; "" if none. */
static void sock_addr(const struct cw_event *ev, bool remote, char *out, size_t cap)
{
	const void *a = remote ? ev->sock.raddr : ev->sock.laddr;
	int fam = ev->sock.family == AF_INET6 ? AF_INET6 : AF_INET;

	if (!ev->stdio_inet || !inet_ntop(fam, a, out, (socklen_t)cap))
		cw_strlcpy(out, "", cap);
}

void cw_exec_view_of(const struct cw_event *ev, struct cw_exec_view *v)
{
	char ip[INET6_ADDRSTRLEN];

	memset(v, 0, sizeof(*v));
	memcpy(v->name, ev->comm, CW_COMM_LEN);
	v->f.name = v->name;
	if (ev->n_ancestors > 0) {
		memcpy(v->parent, ev->anc[0].comm, CW_COMM_LEN);
		v->f.parent = v->parent;
	}
	v->f.stdio = ev->stdio_inet & (CW_STDIO_STDIN | CW_STDIO_STDOUT);
	if (!v->f.stdio)
		return;
	sock_addr(ev, true, ip, sizeof(ip));
	snprintf(v->peer, sizeof(v->peer), ev->sock.family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
	         (unsigned)ev->sock.rport);
	v->f.peer = v->peer;
}

void cw_stdio_props(const struct cw_event *ev, json_t *extra)
{
	const char *pre = (ev->stdio_inet & CW_STDIO_STDIN) ? "Reverse_Shell_Stdin_Redirection"
	                                                    : "Stdout_Redirection";
	char ip[INET6_ADDRSTRLEN], key[64];

	if (!extra || !ev->stdio_inet)
		return;
	sock_addr(ev, true, ip, sizeof(ip));
	snprintf(key, sizeof(key), "%s_Dst_Ip", pre);
	json_object_set_new(extra, key, json_string(ip));
	snprintf(key, sizeof(key), "%s_Dst_Port", pre);
	json_object_set_new(extra, key, json_integer(ev->sock.rport));
	sock_addr(ev, false, ip, sizeof(ip));
	snprintf(key, sizeof(key), "%s_Src_Ip", pre);
	json_object_set_new(extra, key, json_string(ip));
	snprintf(key, sizeof(key), "%s_Src_Port", pre);
	json_object_set_new(extra, key, json_integer(ev->sock.lport));
}

const struct cw_detection *cw_judge_env(struct cw_report *r, const struct cw_container *ctr)
{
	struct cw_exec_view v;

	if (r->kind != CW_REPORT_EXEC || !ctr->in_container || !(r->ev.flags & CW_F_ENV))
		return NULL;
	cw_exec_view_of(&r->ev, &v);
	if (cw_technique_exec_env(r->rules->tq, &v.f, &r->ex, &r->env_det) <= 0)
		return NULL;
	return &r->env_det;
}
