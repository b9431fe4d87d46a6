/* cli_scan.c - `cagewatch scan PATH... [--format text|json] [--rules DIR]`:
 * checks files, directory trees or an unpacked image rootfs against the same
 * recognition layers the agent uses (catalogue names, YARA content, hashes)
 * and prints one line per hit. Directory walks never follow symbolic links,
 * stay on the file system they start on and skip non-regular files.
 * Exit status: 0 clean, 1 something found, 2 error (also when some file
 * could not be read, so a pipeline never passes on a partial scan).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalogue.h"
#include "content.h"
#include "finding.h"
#include "util.h"

#define MAX_DEPTH 128

struct scan_state {
	struct cw_catalogue *cat;
	struct cw_content *ct;
	struct cw_exec *ex;
	bool json;
	unsigned long files, hits, errors;
	dev_t dev; /* file system of the current top-level path */
};

static void print_text_path(const char *p)
{
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static int print_hit(struct scan_state *s, const char *path, const struct cw_detection *det,
                     const struct cw_file_info *fi)
{
	const char *cat_id = det->cat ? det->cat->id : "unknown";

	s->hits++;
	if (!s->json) {
		print_text_path(path);
		printf(": %s %s %s (%s)\n", cat_id, det->tool_id ? det->tool_id : "?", det->rule_id,
		       det->matched_on);
	} else {
		json_t *o = json_object(), *sigs = NULL;
		char *txt;
		int bad = !o;

		bad = bad || json_object_set_new(o, "path", cw_json_str(path));
		bad = bad || json_object_set_new(o, "categoryId", cw_json_str(cat_id));
		bad = bad || json_object_set_new(o, "category",
		                                 cw_json_str(det->cat ? det->cat->category : ""));
		bad = bad || json_object_set_new(o, "severity",
		                                 cw_json_str(det->cat ? det->cat->severity : ""));
		bad = bad || json_object_set_new(o, "tool", cw_json_str(det->tool_id));
		bad = bad || json_object_set_new(o, "toolName", cw_json_str(det->tool_name));
		bad = bad || json_object_set_new(o, "ruleId", cw_json_str(det->rule_id));
		bad = bad || json_object_set_new(o, "matchedOn", cw_json_str(det->matched_on));
		bad = bad || json_object_set_new(o, "detail", cw_json_str(det->detail));
		if (!bad && fi && fi->have_hash) {
			bad = bad || json_object_set_new(o, "sha256", json_string(fi->sha256));
			bad = bad ||
			      json_object_set_new(o, "hashedSize", json_integer(fi->hashed_size));
			bad = bad || json_object_set_new(o, "partiallyHashed",
			                                 json_boolean(fi->partially_hashed));
		}
		if (!bad && fi && fi->have_size)
			bad = json_object_set_new(o, "size", json_integer(fi->size));
		if (!bad && det->extra)
			sigs =
			    json_object_get(json_object_get(det->extra, "indicator"), "signatures");
		if (!bad && sigs)
			bad = json_object_set(o, "signatures", sigs);
		txt = bad ? NULL : json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (!txt) {
			cw_err("out of memory formatting a scan result");
			return -ENOMEM;
		}
		puts(txt);
		free(txt);
	}
	return 0;
}

static int check_file(struct scan_state *s, int fd, const char *path)
{
	struct cw_detection det = {0};
	struct cw_file_info fi;
	const char *argv[2] = {path, NULL};
	struct cw_exec *ex = s->ex;
	int r;

	s->files++;
	/* Name layer: the file as if executed by its path with no arguments. */
	memset(ex, 0, sizeof(*ex));
	cw_strlcpy(ex->path, path, sizeof(ex->path));
	cw_strlcpy(ex->filename, path, sizeof(ex->filename));
	cw_strlcpy(ex->argbuf, path, sizeof(ex->argbuf));
	ex->argv[0] = ex->argbuf;
	ex->argc = 1;
	r = cw_catalogue_match(s->cat, ex, &det);
	if (r < 0) {
		cw_err("name check of %s failed: %s", path, strerror(-r));
		s->errors++;
	} else if (r > 0) {
		r = print_hit(s, path, &det, NULL);
		cw_detection_clear(&det);
		if (r)
			return r;
	}

	memset(&det, 0, sizeof(det));
	r = cw_content_check_fd(s->ct, fd, path, argv, 1, NULL, &fi, &det);
	if (r < 0) {
		cw_err("content check of %s failed: %s", path, strerror(-r));
		s->errors++;
		return r == -ENOMEM ? r : 0;
	}
	if (!fi.have_hash) {
		cw_warn("%s: could not be read; content and hash not checked", path);
		s->errors++;
	}
	if (r > 0) {
		r = print_hit(s, path, &det, &fi);
		cw_detection_clear(&det);
	}
	return r;
}

static int walk_dir(struct scan_state *s, int dfd, char *path, size_t plen, int depth)
{
	DIR *d;
	struct dirent *de;
	int err = 0;

	if (depth > MAX_DEPTH) {
		cw_warn("%s: deeper than %d levels, not descending", path, MAX_DEPTH);
		s->errors++;
		close(dfd);
		return 0;
	}
	d = fdopendir(dfd);
	if (!d) {
		cw_err("cannot list %s: %s", path, strerror(errno));
		s->errors++;
		close(dfd);
		return 0;
	}
	while (!err && (errno = 0, de = readdir(d))) {
		struct stat st;
		size_t nl = strlen(de->d_name);
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (plen + 1 + nl + 1 > 4096) {
			cw_warn("%s/%s: path too long, skipped", path, de->d_name);
			s->errors++;
			continue;
		}
		snprintf(path + plen, 4096 - plen, "%s%s", plen && path[plen - 1] == '/' ? "" : "/",
		         de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT) { /* vanished while walking: not an error */
				cw_warn("cannot stat %s: %s", path, strerror(errno));
				s->errors++;
			}
		} else if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != s->dev) {
				cw_info("%s: another file system, not descending", path);
			} else {
				fd = openat(dirfd(d), de->d_name,
				            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (fd < 0) {
					cw_warn("cannot open directory %s: %s", path,
					        strerror(errno));
					s->errors++;
				} else {
					err = walk_dir(s, fd, path, strlen(path), depth + 1);
				}
			}
		} else if (S_ISREG(st.st_mode)) {
			fd = openat(dirfd(d), de->d_name,
			            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			if (fd < 0) {
				cw_warn("cannot open %s: %s", path, strerror(errno));
				s->errors++;
			} else {
				err = check_file(s, fd, path);
				close(fd);
			}
		}
		path[plen] = '\0';
	}
	if (!err && errno) {
		cw_err("cannot list %s: %s", path, strerror(errno));
		s->errors++;
	}
	closedir(d);
	return err;
}

static int scan_arg(struct scan_state *s, const char *arg)
{
	char path[4096];
	struct stat st;
	int fd;

	fd = open(arg, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		cw_err("cannot open %s: %s", arg, strerror(errno));
		s->errors++;
		return 0;
	}
	if (fstat(fd, &st) < 0) {
		cw_err("cannot stat %s: %s", arg, strerror(errno));
		s->errors++;
		close(fd);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (cw_strlcpy(path, arg, sizeof(path)) >= sizeof(path)) {
			cw_err("%s: path too long", arg);
			s->errors++;
			close(fd);
			return 0;
		}
		s->dev = st.st_dev;
		return walk_dir(s, fd, path, strlen(path), 0);
	}
	if (S_ISREG(st.st_mode)) {
		int err = check_file(s, fd, arg);

		close(fd);
		return err;
	}
	cw_warn("%s: not a regular file or directory, skipped", arg);
	close(fd);
	return 0;
}

static void scan_usage(FILE *f)
{
	fputs("usage: cagewatch scan PATH... [--format text|json] [--rules DIR]\n"
	      "  options may come before or after the paths; \"--\" ends them\n"
	      "\n"
	      "Check files, directory trees or an unpacked image rootfs for known container\n"
	      "escape, Kubernetes attack and reconnaissance tools (names, YARA content rules,\n"
	      "SHA-256). One line per hit on stdout:\n"
	      "  text: PATH: <category id> <tool> <rule id> (<matched on>)\n"
	      "  json: one object per line\n"
	      "Symbolic links inside a tree are not followed; other file systems are not entered.\n"
	      "\n"
	      "  --format text|json  output format (default text)\n"
	      "  --rules DIR         extra YARA rules (*.yar, *.yara) besides the shipped ones\n"
	      "\n"
	      "exit status: 0 nothing found, 1 something found, 2 error or unreadable files\n",
	      f);
}

int cw_cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"rules", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cw_content_opts copts = {0};
	struct scan_state s = {0};
	const char *rules = NULL;
	int c, err = 0, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:r:h", longopts, NULL)) !=
	       -1) { /* options anywhere */
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "json")) {
				s.json = true;
			} else if (!strcmp(optarg, "text")) {
				s.json = false;
			} else {
				return cw_usage_hint(
				    "scan", "--format must be text or json, not '%s'", optarg);
			}
			break;
		case 'r':
			rules = optarg;
			break;
		case 'h':
			scan_usage(stdout);
			return 0;
		default:
			return cw_usage_hint("scan", "unknown or incomplete option '%s'",
			                     argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cw_usage_hint("scan", "no PATH given");

	err = cw_catalogue_load_default(&s.cat);
	if (err) {
		cw_err("scan: cannot load the embedded catalogue: %s", strerror(-err));
		return CW_EXIT_ERROR;
	}
	copts.user_rules_dir = rules;
	copts.catalogue = s.cat;
	err = cw_content_new(&s.ct, &copts);
	if (err) {
		cw_err("scan: content rules not loaded: %s", strerror(-err));
		cw_catalogue_free(s.cat);
		return CW_EXIT_ERROR;
	}
	s.ex = malloc(sizeof(*s.ex));
	if (!s.ex) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = optind; i < argc && !err; i++)
		err = scan_arg(&s, argv[i]);
	(void)fflush(stdout);
	cw_info("scan: %lu files checked, %lu hits, %lu errors", s.files, s.hits, s.errors);
out:
	free(s.ex);
	cw_content_free(s.ct);
	cw_catalogue_free(s.cat);
	if (err) {
		cw_err("scan: aborted: %s", strerror(-err));
		return CW_EXIT_ERROR;
	}
	rc = s.errors ? CW_EXIT_ERROR : s.hits ? CW_EXIT_RESULT : CW_EXIT_OK;
	return rc;
}
