/* exec.c - decodes the kernel's variable-length exec record (see event.h) into a
 * struct cw_exec: joins the leaf-first path components, splits argv. */
#include "exec.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Join the NUL-terminated components stored leaf first in src[0..len) into
 * "/a/b/c". Returns 0 or -EINVAL. */
static int join_reversed(const char *src, size_t len, char *dst, size_t dstsz)
{
	const char *comp[CW_PATH_DEPTH + 1];
	size_t off = 0, o = 0;
	unsigned n = 0;

	while (off < len) {
		size_t l = strnlen(src + off, len - off);

		if (off + l >= len)
			return -EINVAL; /* unterminated */
		if (n >= CW_PATH_DEPTH + 1)
			return -EINVAL;
		comp[n++] = src + off;
		off += l + 1;
	}
	if (n == 0) {
		if (dstsz < 2)
			return -EINVAL;
		dst[0] = '/';
		dst[1] = '\0';
		return 0;
	}
	for (unsigned i = n; i-- > 0;) {
		size_t l = strlen(comp[i]);

		if (o + 1 + l + 1 > dstsz)
			return -EINVAL;
		dst[o++] = '/';
		memcpy(dst + o, comp[i], l);
		o += l;
	}
	dst[o] = '\0';
	return 0;
}

int cw_exec_decode(const void *data, size_t len, struct cw_exec *out)
{
	const struct cw_event *ev = data;
	size_t off, need;
	int err;

	if (len < offsetof(struct cw_event, data) || ev->type != CW_EV_EXEC)
		return -EINVAL;
	need = (size_t)ev->path_len + ev->cgroup_len + ev->fname_len + ev->argv_len;
	if (ev->path_len > CW_PATH_MAX || ev->cgroup_len > CW_CGROUP_MAX ||
	    ev->fname_len > CW_FNAME_MAX || ev->argv_len > CW_ARGV_MAX ||
	    offsetof(struct cw_event, data) + need > len)
		return -EINVAL;

	out->ev = ev;
	off = 0;
	err = join_reversed(ev->data, ev->path_len, out->path, sizeof(out->path));
	if (err)
		return err;
	off += ev->path_len;
	err = join_reversed(ev->data + off, ev->cgroup_len, out->cgroup, sizeof(out->cgroup));
	if (err)
		return err;
	off += ev->cgroup_len;
	memcpy(out->filename, ev->data + off, ev->fname_len);
	out->filename[ev->fname_len] = '\0';
	off += ev->fname_len;

	memcpy(out->argbuf, ev->data + off, ev->argv_len);
	out->argbuf[ev->argv_len] = '\0';
	out->argc = 0;
	for (size_t i = 0; i < ev->argv_len && out->argc < CW_MAX_ARGS;) {
		size_t l = strnlen(out->argbuf + i, ev->argv_len - i);

		out->argv[out->argc++] = out->argbuf + i;
		i += l + 1;
	}
	out->argv[out->argc] = NULL;
	out->argv_truncated = (ev->flags & CW_F_ARGV_TRUNC) || out->argc == CW_MAX_ARGS;
	return 0;
}
