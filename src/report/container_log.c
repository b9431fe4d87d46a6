/* container_log.c - the affected container's own log lines around a
 * finding's time (container_log.h), from where its runtime keeps them (Docker
 * json-file; CRI files, which podman's k8s-file also writes), merged in time
 * order with cagewatch's own record of that container (its other findings,
 * blocked execs among them). Log lines are the container's output: they are
 * sanitized into JSON strings, and the log is opened without following a
 * symlink and only when it is a regular file (never a FIFO).
 */
#include "container_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "finding.h"
#include "store.h"
#include "util.h"

/* The string member key of o, or NULL. */
static const char *js(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

#define LOG_READ_MAX (1ULL << 30) /* bytes read of one log file */
#define LINES_MAX    100000       /* entries printed */

struct entry {
	int64_t t;
	char *stream; /* "stdout", "stderr", "cagewatch" */
	char *text;
};

struct entries {
	struct entry *e;
	size_t n, cap;
	size_t dropped;
};

static int add(struct entries *es, int64_t t, const char *stream, const char *text, size_t len)
{
	if (es->n >= LINES_MAX) {
		es->dropped++;
		return 0;
	}
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 256;
		struct entry *ne = realloc(es->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		es->e = ne;
		es->cap = cap;
	}
	es->e[es->n].t = t;
	es->e[es->n].stream = strdup(stream);
	es->e[es->n].text = strndup(text, len);
	if (!es->e[es->n].stream || !es->e[es->n].text) {
		free(es->e[es->n].stream);
		free(es->e[es->n].text);
		return -ENOMEM;
	}
	es->n++;
	return 0;
}

/* Docker json-file: {"log":"text\n","stream":"stdout","time":"..."}. */
static int parse_docker(const char *line, int64_t *t, char *stream, size_t ssz, json_t **text)
{
	json_t *j = json_loads(line, 0, NULL);
	const char *ts = json_string_value(json_object_get(j, "time"));
	const char *st = json_string_value(json_object_get(j, "stream"));

	if (!ts || !st || !json_is_string(json_object_get(j, "log")) ||
	    cw_parse_rfc3339_ns(ts, t)) {
		json_decref(j);
		return -EINVAL;
	}
	cw_strlcpy(stream, st, ssz);
	*text = json_incref(json_object_get(j, "log"));
	json_decref(j);
	return 0;
}

/* CRI: "<RFC 3339 nano> <stream> <P|F> <text>". */
static int parse_cri(char *line, int64_t *t, char *stream, size_t ssz, const char **text)
{
	char *sp1 = strchr(line, ' '), *sp2, *sp3;

	if (!sp1 || !(sp2 = strchr(sp1 + 1, ' ')) || !(sp3 = strchr(sp2 + 1, ' ')))
		return -EINVAL;
	*sp1 = *sp2 = '\0';
	if (cw_parse_rfc3339_ns(line, t))
		return -EINVAL;
	cw_strlcpy(stream, sp1 + 1, ssz);
	*text = sp3 + 1;
	return 0;
}

/* Open a log file: no FIFO, no device, no symlink at the last component. */
static FILE *open_log(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	return fdopen(fd, "r");
}

/* Lines of one file within [from, to]. 0 or -errno. */
static int read_file_lines(const char *path, bool docker, int64_t from, int64_t to,
                           struct entries *es)
{
	FILE *f = open_log(path);
	char *line = NULL, stream[16];
	size_t cap = 0;
	unsigned long long total = 0;
	ssize_t n;
	int err = 0;

	if (!f)
		return -errno;
	while (!err && total < LOG_READ_MAX && (n = getline(&line, &cap, f)) > 0) {
		int64_t t;

		total += (unsigned long long)n;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (docker) {
			json_t *txt = NULL;

			if (!parse_docker(line, &t, stream, sizeof(stream), &txt) && t >= from &&
			    t <= to) {
				size_t l = json_string_length(txt);
				const char *s = json_string_value(txt);

				err = add(es, t, stream, s, l && s[l - 1] == '\n' ? l - 1 : l);
			}
			json_decref(txt);
		} else {
			const char *txt;

			if (!parse_cri(line, &t, stream, sizeof(stream), &txt) && t >= from &&
			    t <= to)
				err = add(es, t, stream, txt, strlen(txt));
		}
	}
	free(line);
	(void)fclose(f);
	return err;
}

/* A CRI container log directory holds 0.log, 1.log, ... (one per restart). */
static int read_log(const char *path, bool docker, int64_t from, int64_t to, struct entries *es)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int err = 0;

	if (lstat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return read_file_lines(path, docker, from, to, es);
	if (!(d = opendir(path)))
		return -errno;
	while (!err && (de = readdir(d))) {
		char p[PATH_MAX];
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".log"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		err = read_file_lines(p, docker, from, to, es);
	}
	closedir(d);
	return err;
}

static int by_time(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

/* cagewatch's own record: the findings on the container in the window. */
static int add_findings(struct cw_store *s, json_t *f, int64_t from, int64_t to, int64_t win_ms,
                        struct entries *es)
{
	const char *id = cw_store_short_id(js(f, "name"));
	json_t *arr = NULL, *v;
	size_t i;
	int err = cw_store_related(s, id, win_ms, &arr);

	if (err)
		return err;
	json_array_append(arr, f);
	json_array_foreach(arr, i, v)
	{
		json_t *p = json_array_get(json_object_get(v, "processes"), 0);
		const char *bin = js(json_object_get(p, "binary"), "path");
		const char *et = js(v, "eventTime");
		char text[1024];
		int64_t t;

		if (!et || cw_parse_rfc3339_ns(et, &t) || t < from || t > to)
			continue;
		snprintf(text, sizeof(text), "finding %s: %s, %s%s",
		         cw_store_short_id(js(v, "name")),
		         js(v, "category") ? js(v, "category") : "?", bin ? bin : "?",
		         json_object_get(json_object_get(v, "sourceProperties"), "Blocked")
		             ? " (blocked)"
		             : "");
		if ((err = add(es, t, "cagewatch", text, strlen(text))))
			break;
	}
	json_decref(arr);
	return err;
}

/* The entries as a JSON array [{time, stream, text}], freeing them. */
static json_t *to_json(struct entries *es)
{
	json_t *arr = json_array();
	char tb[40];

	for (size_t i = 0; i < es->n; i++) {
		struct entry *e = &es->e[i];

		cw_rfc3339(e->t, tb, sizeof(tb));
		if (arr && json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "time", tb,
		                                                "stream", e->stream, "text",
		                                                cw_json_str(e->text)))) {
			json_decref(arr);
			arr = NULL;
		}
	}
	for (size_t i = 0; i < es->n; i++) {
		free(es->e[i].stream);
		free(es->e[i].text);
	}
	free(es->e);
	return arr;
}

int cw_container_log(struct cw_store *s, json_t *f, int64_t before_ms, int64_t after_ms,
                     struct cw_container_log *out)
{
	json_t *sp = json_object_get(f, "sourceProperties");
	const char *path = js(sp, "Container_Log_Path");
	const char *fmt = js(sp, "Container_Log_Format");
	const char *et = js(f, "eventTime");
	struct entries es = {0};
	int64_t t0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!et || cw_parse_rfc3339_ns(et, &t0))
		return -EINVAL;
	out->from_ns = t0 - before_ms * 1000000LL;
	out->to_ns = t0 + after_ms * 1000000LL;
	out->path = path;
	if (path && (err = read_log(path, fmt && !strcmp(fmt, "docker-json"), out->from_ns,
	                            out->to_ns, &es))) {
		out->log_error = err;
		cw_warn("cannot read the container's log %s: %s (it may have been rotated or "
		        "removed with the container)",
		        path, strerror(-err));
	}
	err = add_findings(s, f, out->from_ns, out->to_ns,
	                   before_ms > after_ms ? before_ms : after_ms, &es);
	if (err)
		cw_warn("cannot read the other findings of the container: %s", strerror(-err));
	if (es.n)
		qsort(es.e, es.n, sizeof(*es.e), by_time);
	out->dropped = es.dropped;
	out->entries = to_json(&es);
	return out->entries ? 0 : -ENOMEM;
}
