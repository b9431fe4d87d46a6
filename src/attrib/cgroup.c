/* cgroup.c - a cgroup path into what it says about its container: the id
 * (docker-<id>.scope, cri-containerd-, crio-, libpod-, /docker/<id>, a bare
 * 64-hex component), the runtime and the Kubernetes pod uid. */
#include "container.h"
#include "container_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirwatch.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* cgroup path parsing                                                       */

static bool is_hex_n(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A component (s, n) that is exactly a 64-hex container id. */
static bool is_hex_id(const char *s, size_t n)
{
	return n == HEX_ID_LEN && is_hex_n(s, n);
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n >= pl && memcmp(s, prefix, pl) == 0;
}

static bool ends(const char *s, size_t n, const char *suffix)
{
	size_t sl = strlen(suffix);

	return n >= sl && memcmp(s + n - sl, suffix, sl) == 0;
}

bool ctr_comp_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* "<prefix><64hex>" optionally followed by ".scope". */
static bool prefixed_id(const char *s, size_t n, const char *prefix, const char **id)
{
	size_t pl = strlen(prefix);

	if (!starts(s, n, prefix))
		return false;
	s += pl;
	n -= pl;
	if (ends(s, n, ".scope"))
		n -= strlen(".scope");
	if (!is_hex_id(s, n))
		return false;
	*id = s;
	return true;
}

/* Pod UID as written in a cgroup name: dashes (cgroupfs) or underscores
 * (systemd). Stored with dashes. */
static void set_pod_uid(struct cw_cgroup_ref *out, const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(out->pod_uid))
		return;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return;
	for (size_t i = 0; i < n; i++)
		out->pod_uid[i] = s[i] == '_' ? '-' : s[i];
	out->pod_uid[n] = '\0';
}

/* Kubernetes slice/directory names: kubepods, kubepods.slice,
 * kubepods-<qos>.slice, kubepods[-<qos>]-pod<uid>.slice, burstable,
 * besteffort, pod<uid> (the last three only below kubepods). */
static void parse_kube_comp(const char *s, size_t n, bool *under_kubepods,
                            struct cw_cgroup_ref *out)
{
	if (ends(s, n, ".slice"))
		n -= strlen(".slice");
	if (starts(s, n, "kubepods") && (n == 8 || s[8] == '-')) {
		*under_kubepods = true;
		out->kubernetes = true;
		s += strlen("kubepods");
		n -= strlen("kubepods");
		if (n && s[0] == '-') {
			s++;
			n--;
		}
		if (starts(s, n, "burstable")) {
			cw_strlcpy(out->qos, "burstable", sizeof(out->qos));
			s += strlen("burstable");
			n -= strlen("burstable");
		} else if (starts(s, n, "besteffort")) {
			cw_strlcpy(out->qos, "besteffort", sizeof(out->qos));
			s += strlen("besteffort");
			n -= strlen("besteffort");
		}
		if (n && s[0] == '-') {
			s++;
			n--;
		}
		if (starts(s, n, "pod"))
			set_pod_uid(out, s + 3, n - 3);
		return;
	}
	if (!*under_kubepods)
		return;
	if (ctr_comp_is(s, n, "burstable") || ctr_comp_is(s, n, "besteffort")) {
		memcpy(out->qos, s, n);
		out->qos[n] = '\0';
	} else if (starts(s, n, "pod")) {
		set_pod_uid(out, s + 3, n - 3);
	}
}

/* Runtime named by a systemd cgroupsPath prefix ("slice:prefix:name"). */
static const char *runtime_of_prefix(const char *s, size_t n)
{
	if (ctr_comp_is(s, n, "cri-containerd") || ctr_comp_is(s, n, "nerdctl"))
		return "containerd";
	if (ctr_comp_is(s, n, "crio"))
		return "cri-o";
	if (ctr_comp_is(s, n, "docker"))
		return "docker";
	if (ctr_comp_is(s, n, "libpod"))
		return "podman";
	return "";
}

enum comp_kind { COMP_NONE, COMP_CONTAINER, COMP_CONMON };

/* Classify one component. On COMP_CONTAINER, *id points at the 64-hex id and
 * *rt names the runtime. parent is the previous component (may be empty). */
static enum comp_kind classify(const char *s, size_t n, const char *parent, size_t pn,
                               const char **id, const char **rt)
{
	const char *colon;

	if (starts(s, n, "crio-conmon-") || starts(s, n, "libpod-conmon-"))
		return COMP_CONMON;
	if (prefixed_id(s, n, "docker-", id)) {
		*rt = "docker";
		return COMP_CONTAINER;
	}
	if (prefixed_id(s, n, "cri-containerd-", id) || prefixed_id(s, n, "nerdctl-", id)) {
		*rt = "containerd";
		return COMP_CONTAINER;
	}
	if (prefixed_id(s, n, "crio-", id)) {
		*rt = "cri-o";
		return COMP_CONTAINER;
	}
	if (prefixed_id(s, n, "libpod-", id)) {
		*rt = "podman";
		return COMP_CONTAINER;
	}
	/* systemd-style cgroupsPath left literal: "<slice>:<prefix>:<id>" */
	colon = memchr(s, ':', n);
	if (colon) {
		const char *p2 = colon + 1;
		const char *c2 = memchr(p2, ':', n - (size_t)(p2 - s));

		if (!c2)
			return COMP_NONE;
		if (is_hex_id(c2 + 1, n - (size_t)(c2 + 1 - s))) {
			*id = c2 + 1;
			*rt = runtime_of_prefix(p2, (size_t)(c2 - p2));
			if (ctr_comp_is(p2, (size_t)(c2 - p2), "crio-conmon"))
				return COMP_CONMON;
			return COMP_CONTAINER;
		}
		return COMP_NONE;
	}
	if (is_hex_id(s, n)) {
		*id = s;
		*rt = ctr_comp_is(parent, pn, "docker") ? "docker" : "runc";
		return COMP_CONTAINER;
	}
	return COMP_NONE;
}

/* Strip "N:controllers:" from a /proc/PID/cgroup line. */
static const char *strip_proc_line(const char *p)
{
	const char *q = p, *c;

	if (!isdigit((unsigned char)*q))
		return p;
	while (isdigit((unsigned char)*q))
		q++;
	if (*q != ':')
		return p;
	c = strchr(q + 1, ':');
	if (!c || memchr(q + 1, '/', (size_t)(c - q - 1)))
		return p;
	return c + 1;
}

int cw_cgroup_parse(const char *path, struct cw_cgroup_ref *out)
{
	const char *p, *parent = "", *best_id = NULL, *best_rt = "";
	size_t len, pn = 0;
	bool under_kubepods = false, conmon_last = false;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!path)
		return -EINVAL;
	len = strnlen(path, CGROUP_PATH_LIMIT + 1);
	if (len == 0 || len > CGROUP_PATH_LIMIT)
		return -EINVAL;
	p = strip_proc_line(path);
	if (p[0] != '/')
		return -EINVAL;
	for (const char *q = p; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return -EINVAL;

	p++;
	while (*p) {
		const char *end = strchr(p, '/'), *id = NULL, *rt = "", *colon;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		enum comp_kind k;

		if (n == 0 || ctr_comp_is(p, n, ".") || ctr_comp_is(p, n, ".."))
			return -EINVAL; /* "//", "/./", "/../" never come from the kernel */
		if (n >= 256)
			return -EINVAL; /* longer than a kernfs name can be */
		/* "<slice>:<prefix>:<id>": the slice part carries the pod */
		colon = memchr(p, ':', n);
		parse_kube_comp(p, colon ? (size_t)(colon - p) : n, &under_kubepods, out);
		k = classify(p, n, parent, pn, &id, &rt);
		if (k == COMP_CONTAINER) {
			best_id = id;
			best_rt = rt;
			conmon_last = false;
		} else if (k == COMP_CONMON) {
			/* conmon watches a container from the host; it is not one */
			conmon_last = true;
			best_id = NULL;
		}
		parent = p;
		pn = n;
		if (!end)
			break;
		p = end + 1;
		if (!*p)
			break; /* one trailing '/' is tolerated */
	}

	if (out->kubernetes && out->pod_uid[0] && !out->qos[0])
		cw_strlcpy(out->qos, "guaranteed", sizeof(out->qos));
	if (!best_id || conmon_last)
		return -ENOENT;
	memcpy(out->id, best_id, HEX_ID_LEN);
	out->id[HEX_ID_LEN] = '\0';
	/* A bare id under kubepods came from a CRI runtime whose name the
	 * cgroupfs layout does not tell. */
	if (!strcmp(best_rt, "runc") && out->kubernetes)
		best_rt = "";
	cw_strlcpy(out->runtime, best_rt, sizeof(out->runtime));
	return 0;
}
