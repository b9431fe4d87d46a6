/* test_scan.c - `cagewatch scan` over real files: a tree with look-alike tools
 * (content and name layers), a benign program sharing a tool's name, a symlink
 * out of the tree and a FIFO (neither followed nor read), JSON output, and the
 * exit status for hits (1), a clean scan (0) and usage or input errors (2).
 * Run from the repository root (the Makefile and tests/run do).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "content.h"
#include "fixture_data.h"
#include "util.h"

#define FIX "tests/fixtures/lookalikes"

/* Run cw_cmd_scan with stdout captured into *out (malloc'd). */
static int run_scan(char **args, int n, char **out)
{
	char cap[160];
	int saved, fd, rc;
	size_t len;

	snprintf(cap, sizeof(cap), "%s.out", fx_tmp);
	fflush(stdout);
	saved = dup(1);
	fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved < 0 || fd < 0)
		return -1;
	dup2(fd, 1);
	close(fd);
	rc = cw_cmd_scan(n, args);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	*out = NULL;
	if (cw_read_file(cap, 1 << 20, out, &len))
		*out = strdup("");
	unlink(cap);
	return rc;
}

TEST(scan_command)
{
	char d1[128], d2[128], out_dir[128], a[512], b[512], c[512], e[512], lnk[512];
	char *out = NULL;
	int rc;

	fx_mk_tmp();
	snprintf(d1, sizeof(d1), "%s/tree", fx_tmp);
	snprintf(d2, sizeof(d2), "%s/tree/usr/local/bin", fx_tmp);
	snprintf(out_dir, sizeof(out_dir), "%s/outside", fx_tmp);
	snprintf(a, sizeof(a), "mkdir -p '%s' '%s'", d2, out_dir);
	CHECK_INT(system(a), 0);
	snprintf(a, sizeof(a), "%s/helper", d2);
	CHECK_INT(fx_build(FIX "/peirates_like.c", a), 0);
	snprintf(b, sizeof(b), "%s/tree/opt-setup.sh", fx_tmp);
	CHECK_INT(fx_copy_file(FIX "/deepce_like.sh", b), 0);
	snprintf(c, sizeof(c), "%s/cdk", d2);
	CHECK_INT(fx_copy_file(FIX "/benign/cdk", c), 0);
	snprintf(e, sizeof(e), "%s/tree/README", fx_tmp);
	CHECK_INT(fx_write_file(e, "nothing here\n", 13), 0);
	/* A tool by name only (benign content): the name layer reports it. */
	snprintf(lnk, sizeof(lnk), "%s/botb-linux-amd64", d2);
	CHECK_INT(fx_write_file(lnk, "#!/bin/sh\nexit 0\n", 17), 0);
	/* A symlink out of the tree to a hit and a FIFO: neither is followed/read. */
	snprintf(lnk, sizeof(lnk), "%s/x", out_dir);
	CHECK_INT(fx_copy_file(FIX "/linpeas_like.sh", lnk), 0);
	snprintf(lnk, sizeof(lnk), "%s/tree/link", fx_tmp);
	CHECK_INT(symlink("../outside/x", lnk), 0);
	snprintf(lnk, sizeof(lnk), "%s/tree/fifo", fx_tmp);
	CHECK_INT(mkfifo(lnk, 0600), 0);

	{
		char *args[] = {"scan", d1, NULL};

		rc = run_scan(args, 2, &out);
		CHECK_INT(rc, 1);
		CHECK(out && strstr(out, "/usr/local/bin/helper: kubernetes_attack_tool peirates "
		                         "yara.peirates (content)"));
		CHECK(out && strstr(out, "/tree/opt-setup.sh: container_escape deepce yara.deepce "
		                         "(content)"));
		CHECK(out &&
		      strstr(out, "/usr/local/bin/botb-linux-amd64: container_escape botb "));
		CHECK(out && strstr(out, "(name)\n"));
		CHECK(out && !strstr(out, "linpeas"));
		CHECK(out && !strstr(out, "README"));
		CHECK(out && !strstr(out, "/cdk:")); /* the Node.js cdk stays silent */
		if (out && rc != 1)
			fprintf(stderr, "  scan output:\n%s", out);
		free(out);
	}
	{
		char *args[] = {"scan", "--format", "json", b, NULL};
		json_error_t jerr;
		json_t *j;

		rc = run_scan(args, 4, &out);
		CHECK_INT(rc, 1);
		j = out ? json_loads(out, JSON_DISABLE_EOF_CHECK, &jerr) : NULL;
		CHECK(j != NULL);
		CHECK_STR(json_string_value(json_object_get(j, "tool")), "deepce");
		CHECK_STR(json_string_value(json_object_get(j, "categoryId")), "container_escape");
		CHECK_STR(json_string_value(json_object_get(j, "matchedOn")), "content");
		CHECK_INT(json_string_length(json_object_get(j, "sha256")), 64);
		CHECK(json_array_size(json_object_get(j, "signatures")) >= 1);
		json_decref(j);
		free(out);
	}
	{
		char *args[] = {"scan", e, c, NULL};

		rc = run_scan(args, 3, &out);
		CHECK_INT(rc, 0);
		CHECK(out && out[0] == '\0');
		free(out);
	}
	{
		char *args[] = {"scan", "/nonexistent/cw-scan", NULL};

		rc = run_scan(args, 2, &out);
		CHECK_INT(rc, 2);
		free(out);
	}
	{
		char *args[] = {"scan", "--format", "xml", d1, NULL};

		CHECK_INT(run_scan(args, 4, &out), 2);
		free(out);
	}
	{
		char *args[] = {"scan", "--rules", "/nonexistent/cw-rules", d1, NULL};

		CHECK_INT(run_scan(args, 4, &out), 2);
		free(out);
	}
	{
		char *args[] = {"scan", NULL};

		CHECK_INT(run_scan(args, 1, &out), 2);
		free(out);
	}
	fx_rm_tmp();
}

static const struct cw_test tests[] = {
    {"scan_command", scan_command},
};

CW_TEST_MAIN(tests)
