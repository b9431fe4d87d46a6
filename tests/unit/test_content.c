/* test_content.c - the content (YARA) and hash layers and `cagewatch scan`:
 * look-alike programs and scripts built from tests/fixtures/lookalikes are
 * recognised under random names in temporary directories, the benign set stays
 * silent, the verdict cache hits and invalidates, and bad rules are refused
 * (test_scan.c: the scan command). Run from the repository root (the Makefile
 * and tests/run do).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "check.h"
#include "fixture_data.h"
#include "catalogue.h"
#include "content.h"
#include "finding.h"
#include "util.h"

#define FIX "tests/fixtures/lookalikes"

/* A random file name (no hint of the tool in it). */
static void rand_path(char *out, size_t n, const char *dir)
{
	unsigned char r[6];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		memset(r, 0x5a, sizeof(r));
	snprintf(out, n, "%s/p%02x%02x%02x%02x%02x%02x", dir, r[0], r[1], r[2], r[3], r[4], r[5]);
}

static struct cw_catalogue *cat;

static struct cw_content *new_ct(const struct cw_content_opts *o)
{
	struct cw_content_opts opts = {0};
	struct cw_content *ct = NULL;
	int err;

	if (o)
		opts = *o;
	if (!opts.catalogue)
		opts.catalogue = cat;
	err = cw_content_new(&ct, &opts);
	CHECK_INT(err, 0);
	return ct;
}

/* Check a path; returns the verdict, fills det/fi. */
static int check_path(struct cw_content *ct, const char *path, const char *const *argv, int argc,
                      struct cw_file_info *fi, struct cw_detection *det)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		fprintf(stderr, "  cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	r = cw_content_check_fd(ct, fd, path, argv, argc, NULL, fi, det);
	close(fd);
	return r;
}

static void sha256_of(const char *path, char out[65])
{
	unsigned char md[32], buf[65536];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int ml = 0;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	out[0] = '\0';
	if (fd < 0 || !c)
		goto out;
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(c, buf, (size_t)n);
	EVP_DigestFinal_ex(c, md, &ml);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(c);
}

static bool has_signature(const struct cw_detection *det, const char *rule)
{
	json_t *sigs = json_object_get(json_object_get(det->extra, "indicator"), "signatures"), *s;
	size_t i;

	json_array_foreach(sigs, i, s)
	{
		const char *r = json_string_value(
		    json_object_get(json_object_get(s, "yaraRuleSignature"), "yaraRule"));
		const char *t = json_string_value(json_object_get(s, "signatureType"));

		if (r && !strcmp(r, rule) && t && !strcmp(t, "SIGNATURE_TYPE_FILE"))
			return true;
	}
	return false;
}

TEST(rules_compile)
{
	struct cw_content *ct = new_ct(NULL);
	struct cw_content_stats st;

	if (!ct)
		return;
	cw_content_get_stats(ct, &st);
	CHECK(st.rules >= 15);
	CHECK(!st.context_rules); /* shipped rules are content-only: cached per file */
	CHECK(cw_embedded_yara_len > 100);
	CHECK(strstr(cw_embedded_yara, "rule upx_packed_elf") != NULL);
	cw_content_free(ct);
}

struct lookalike {
	const char *file;
	const char *tool;
	const char *category;
	const char *rule;
};

static const struct lookalike lookalikes[] = {
    {"botb_like.c", "botb", "container_escape", "botb"},
    {"cdk_like.c", "cdk", "container_escape", "cdk"},
    {"runc_overwrite_like.c", "cve-2019-5736-poc", "container_escape", "cve_2019_5736_poc"},
    {"peirates_like.c", "peirates", "kubernetes_attack_tool", "peirates"},
    {"amicontained_like.c", "amicontained", "local_recon", "amicontained"},
    {"deepce_like.sh", "deepce", "container_escape", "deepce"},
    {"linpeas_like.sh", "linpeas", "local_recon", "linpeas"},
};

TEST(lookalikes_match_under_random_names)
{
	struct cw_content *ct = new_ct(NULL);

	if (!ct)
		return;
	fx_mk_tmp();
	for (size_t i = 0; i < sizeof(lookalikes) / sizeof(lookalikes[0]); i++) {
		const struct lookalike *l = &lookalikes[i];
		char src[256], dst[128], want_rule[128], sha[65];
		struct cw_detection det = {0};
		struct cw_file_info fi;
		const char *argv[] = {"x", "--help", NULL};
		size_t sl = strlen(l->file);
		int r;

		snprintf(src, sizeof(src), FIX "/%s", l->file);
		rand_path(dst, sizeof(dst), fx_tmp);
		if (!strcmp(l->file + sl - 2, ".c"))
			CHECK_INT(fx_build(src, dst), 0);
		else
			CHECK_INT(fx_copy_file(src, dst), 0);
		r = check_path(ct, dst, argv, 2, &fi, &det);
		CHECK_INT(r, 1);
		if (r != 1) {
			fprintf(stderr, "  look-alike %s not recognised\n", l->file);
			continue;
		}
		snprintf(want_rule, sizeof(want_rule), "yara.%s", l->rule);
		CHECK_STR(det.tool_id, l->tool);
		CHECK(det.tool_name && det.tool_name[0]);
		CHECK(det.cat != NULL);
		CHECK_STR(det.cat ? det.cat->id : NULL, l->category);
		CHECK_STR(det.rule_id, want_rule);
		CHECK_STR(det.matched_on, "content");
		CHECK(has_signature(&det, l->rule));
		/* fi is filled with an honest, whole-file hash */
		sha256_of(dst, sha);
		CHECK(fi.have_hash);
		CHECK_STR(fi.sha256, sha);
		CHECK(fi.have_size && fi.size > 0);
		CHECK_INT(fi.hashed_size, fi.size);
		CHECK(!fi.partially_hashed);
		CHECK_STR(fi.path, dst);
		cw_detection_clear(&det);
	}
	cw_content_free(ct);
	fx_rm_tmp();
}

TEST(memfd_and_deleted_file)
{
	struct cw_content *ct = new_ct(NULL);
	struct cw_detection det = {0};
	char bin[128], buf[1 << 16];
	int fd, mfd, r;
	ssize_t n;

	if (!ct)
		return;
	fx_mk_tmp();
	rand_path(bin, sizeof(bin), fx_tmp);
	CHECK_INT(fx_build(FIX "/botb_like.c", bin), 0);
	/* The same bytes in a memfd (fileless exec reads through /proc/<pid>/exe). */
	mfd = memfd_create("x", MFD_CLOEXEC);
	fd = open(bin, O_RDONLY);
	CHECK(mfd >= 0 && fd >= 0);
	while (fd >= 0 && mfd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		CHECK_INT(write(mfd, buf, (size_t)n), n);
	r = cw_content_check_fd(ct, mfd, "/memfd:x (deleted)", NULL, 0, NULL, NULL, &det);
	CHECK_INT(r, 1);
	CHECK_STR(det.tool_id, "botb");
	cw_detection_clear(&det);
	/* A deleted file still open. */
	CHECK_INT(unlink(bin), 0);
	r = cw_content_check_fd(ct, fd, "/tmp/gone (deleted)", NULL, 0, NULL, NULL, &det);
	CHECK_INT(r, 1);
	CHECK_STR(det.tool_id, "botb");
	cw_detection_clear(&det);
	if (fd >= 0)
		close(fd);
	if (mfd >= 0)
		close(mfd);
	cw_content_free(ct);
	fx_rm_tmp();
}

TEST(upx_rule_lower_confidence)
{
	struct cw_content *ct = new_ct(NULL);
	struct cw_detection det = {0};
	struct cw_file_info fi;
	unsigned char elf[8192] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
	char path[128], plain[128];
	int r;

	if (!ct)
		return;
	fx_mk_tmp();
	memcpy(elf + 0xec, "UPX!", 4);
	rand_path(path, sizeof(path), fx_tmp);
	CHECK_INT(fx_write_file(path, elf, sizeof(elf)), 0);
	r = check_path(ct, path, NULL, 0, &fi, &det);
	CHECK_INT(r, 1);
	CHECK_STR(det.tool_id, "upx-packed-elf");
	CHECK_STR(det.rule_id, "yara.upx_packed_elf");
	CHECK(strstr(det.detail, "confidence=40") != NULL);
	cw_detection_clear(&det);

	/* "UPX!" in a non-ELF file or an ELF without it: silent. */
	memcpy(elf, "MZ\0\0", 4);
	rand_path(plain, sizeof(plain), fx_tmp);
	CHECK_INT(fx_write_file(plain, elf, sizeof(elf)), 0);
	CHECK_INT(check_path(ct, plain, NULL, 0, NULL, &det), 0);

	/* A real UPX-packed look-alike when upx is installed (optional). */
	if (system("command -v upx >/dev/null 2>&1") == 0) {
		char bin[128], cmd[512];

		rand_path(bin, sizeof(bin), fx_tmp);
		CHECK_INT(fx_build(FIX "/amicontained_like.c", bin), 0);
		snprintf(cmd, sizeof(cmd), "upx -q '%s' >/dev/null 2>&1", bin);
		if (system(cmd) == 0) {
			r = check_path(ct, bin, NULL, 0, NULL, &det);
			CHECK_INT(r, 1);
			CHECK_STR(det.tool_id, "upx-packed-elf");
			cw_detection_clear(&det);
		}
	}
	cw_content_free(ct);
	fx_rm_tmp();
}

/* Bugs found in the rules, each pinned: "#!/proc/self/exe" alone is not the
 * CVE-2019-5736 PoC ("$s*" used to count "$shebang"), and a tool that embeds
 * another's markers is still itself (linPEAS carries amicontained's path). */
TEST(rule_precedence_and_wildcards)
{
	static const char dirtypipe[] = "#!/bin/sh\n# echo '#!/proc/self/exe' > /bin/sh\n"
	                                "echo Waiting for runC to be executed in the container\n";
	static const char bang[] = "#!/bin/sh\necho '#!/proc/self/exe' > /bin/sh\n";
	static const char linpeas[] = "#!/bin/sh\n# Do you like PEASS?\n"
	                              "# github.com/genuinetools/amicontained\n";
	struct cw_content *ct = new_ct(NULL);
	struct cw_detection det = {0};
	char path[128];

	if (!ct)
		return;
	fx_mk_tmp();
	rand_path(path, sizeof(path), fx_tmp);
	CHECK_INT(fx_write_file(path, dirtypipe, sizeof(dirtypipe) - 1), 0);
	CHECK_INT(check_path(ct, path, NULL, 0, NULL, &det), 1);
	CHECK_STR(det.tool_id, "dirtypipe-container-breakout");
	cw_detection_clear(&det);
	rand_path(path, sizeof(path), fx_tmp);
	CHECK_INT(fx_write_file(path, bang, sizeof(bang) - 1), 0);
	CHECK_INT(check_path(ct, path, NULL, 0, NULL, &det), 0);
	rand_path(path, sizeof(path), fx_tmp);
	CHECK_INT(fx_write_file(path, linpeas, sizeof(linpeas) - 1), 0);
	CHECK_INT(check_path(ct, path, NULL, 0, NULL, &det), 1);
	CHECK_STR(det.tool_id, "linpeas");
	CHECK(has_signature(&det, "amicontained") && has_signature(&det, "linpeas"));
	CHECK(strstr(det.detail, "confidence=80") != NULL);
	cw_detection_clear(&det);
	cw_content_free(ct);
	fx_rm_tmp();
}

/* Bytes that are no file (a piped script): the same layers, never cached. */
TEST(check_mem)
{
	static const char deepce[] = "#!/bin/sh\n# (DEEPCE) by stealthcopter\n";
	struct cw_content *ct = new_ct(NULL);
	struct cw_content_stats before, after;
	struct cw_detection det = {0};
	struct cw_file_info fi;

	if (!ct)
		return;
	cw_content_get_stats(ct, &before);
	CHECK_INT(
	    cw_content_check_mem(ct, deepce, sizeof(deepce) - 1, "/dev/stdin", NULL, 0, &fi, &det),
	    1);
	CHECK_STR(det.tool_id, "deepce");
	CHECK_STR(fi.path, "/dev/stdin");
	CHECK(fi.have_hash && fi.size == (int64_t)sizeof(deepce) - 1 && strlen(fi.sha256) == 64);
	cw_detection_clear(&det);
	CHECK_INT(cw_content_check_mem(ct, "echo hi\n", 8, "/dev/stdin", NULL, 0, &fi, &det), 0);
	CHECK_INT(cw_content_check_mem(ct, NULL, 0, "/dev/stdin", NULL, 0, NULL, &det), 0);
	CHECK_INT(cw_content_check_mem(ct, NULL, 5, "x", NULL, 0, NULL, &det), -EINVAL);
	cw_content_get_stats(ct, &after);
	CHECK_INT(after.entries, before.entries);
	cw_content_free(ct);
}

TEST(benign_set_silent)
{
	static const char *const benign[] = {
	    "/bin/ls",       "/bin/sh",          "/bin/bash",       "/bin/dash",
	    "/bin/busybox",  "/usr/bin/python3", "/usr/bin/perl",   "/usr/bin/node",
	    "/usr/bin/dpkg", "/usr/bin/apt",     "/usr/bin/gcc",    "/usr/bin/env",
	    "/bin/cat",      "/usr/bin/tar",     FIX "/benign/cdk", FIX "/benign/notes.sh",
	};
	struct cw_content *ct = new_ct(NULL);
	int checked = 0;

	if (!ct)
		return;
	for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++) {
		struct cw_detection det = {0};
		const char *argv[] = {benign[i], "synth", NULL};
		int r;

		if (access(benign[i], R_OK) != 0)
			continue;
		checked++;
		r = check_path(ct, benign[i], argv, 2, NULL, &det);
		if (r != 0)
			fprintf(stderr, "  benign %s matched %s\n", benign[i], det.rule_id);
		CHECK_INT(r, 0);
		cw_detection_clear(&det);
	}
	CHECK(checked >= 6);
	cw_content_free(ct);
}

TEST(cache_hits_and_invalidates)
{
	struct cw_content *ct = new_ct(NULL);
	struct cw_content_stats st;
	struct cw_detection det = {0};
	struct cw_file_info fi;
	struct timespec ts[2];
	char path[128], sha1[65];
	const char *benign = "#!/bin/sh\necho hello\n";
	int fd;

	if (!ct)
		return;
	fx_mk_tmp();
	rand_path(path, sizeof(path), fx_tmp);
	CHECK_INT(fx_copy_file(FIX "/deepce_like.sh", path), 0);
	CHECK_INT(check_path(ct, path, NULL, 0, &fi, &det), 1);
	cw_detection_clear(&det);
	cw_strlcpy(sha1, fi.sha256, sizeof(sha1));
	cw_content_get_stats(ct, &st);
	CHECK_INT(st.misses, 1);
	CHECK_INT(st.hits, 0);
	CHECK(st.bytes_scanned > 0);

	/* Same file again: served from the cache, same answer and hash. */
	CHECK_INT(check_path(ct, path, NULL, 0, &fi, &det), 1);
	CHECK_STR(det.tool_id, "deepce");
	CHECK(has_signature(&det, "deepce"));
	CHECK_STR(fi.sha256, sha1);
	CHECK(fi.have_size && fi.size > 0);
	cw_detection_clear(&det);
	cw_content_get_stats(ct, &st);
	CHECK_INT(st.misses, 1);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.entries, 1);

	/* Rewritten (different size): a miss, and the new content decides. */
	CHECK_INT(fx_write_file(path, benign, strlen(benign)), 0);
	CHECK_INT(check_path(ct, path, NULL, 0, &fi, &det), 0);
	CHECK(strcmp(fi.sha256, sha1) != 0);
	cw_content_get_stats(ct, &st);
	CHECK_INT(st.misses, 2);

	/* Same size, only the timestamps change: still a miss. */
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	ts[0].tv_sec = ts[1].tv_sec = 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	CHECK_INT(futimens(fd, ts), 0);
	close(fd);
	CHECK_INT(check_path(ct, path, NULL, 0, &fi, &det), 0);
	cw_content_get_stats(ct, &st);
	CHECK_INT(st.misses, 3);
	CHECK_INT(st.hits, 1);
	cw_content_free(ct);
	fx_rm_tmp();
}

TEST(cache_is_bounded)
{
	struct cw_content_opts o = {.cache_size = 2};
	struct cw_content *ct = new_ct(&o);
	struct cw_content_stats st;
	char p[3][128];

	if (!ct)
		return;
	fx_mk_tmp();
	for (int i = 0; i < 3; i++) {
		char body[64];

		rand_path(p[i], sizeof(p[i]), fx_tmp);
		snprintf(body, sizeof(body), "#!/bin/sh\necho %d\n", i);
		CHECK_INT(fx_write_file(p[i], body, strlen(body)), 0);
		CHECK_INT(check_path(ct, p[i], NULL, 0, NULL, NULL), 0);
	}
	cw_content_get_stats(ct, &st);
	CHECK_INT(st.entries, 2);
	CHECK_INT(st.evictions, 1);
	CHECK_INT(st.misses, 3);
	/* p[2] is recent (hit); p[0] was evicted as least recently used (miss). */
	CHECK_INT(check_path(ct, p[2], NULL, 0, NULL, NULL), 0);
	CHECK_INT(check_path(ct, p[0], NULL, 0, NULL, NULL), 0);
	cw_content_get_stats(ct, &st);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.misses, 4);
	cw_content_free(ct);
	fx_rm_tmp();
}

struct thr_arg {
	struct cw_content *ct;
	const char *path;
	int matches;
};

static void *thr(void *p)
{
	struct thr_arg *a = p;

	for (int i = 0; i < 50; i++) {
		struct cw_detection det = {0};

		if (check_path(a->ct, a->path, NULL, 0, NULL, &det) == 1)
			a->matches++;
		cw_detection_clear(&det);
	}
	return NULL;
}

TEST(cache_thread_safe)
{
	struct cw_content *ct = new_ct(NULL);
	struct cw_content_stats st;
	struct thr_arg a[4];
	pthread_t t[4];
	char path[128];

	if (!ct)
		return;
	fx_mk_tmp();
	rand_path(path, sizeof(path), fx_tmp);
	CHECK_INT(fx_copy_file(FIX "/linpeas_like.sh", path), 0);
	for (int i = 0; i < 4; i++) {
		a[i] = (struct thr_arg){ct, path, 0};
		CHECK_INT(pthread_create(&t[i], NULL, thr, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(a[i].matches, 50);
	}
	cw_content_get_stats(ct, &st);
	CHECK_INT(st.hits + st.misses, 200);
	CHECK(st.misses >= 1 && st.misses <= 4);
	CHECK_INT(st.entries, 1);
	cw_content_free(ct);
	fx_rm_tmp();
}

static int new_with_rule(const char *rule_text, struct cw_content **out)
{
	char dir[128], f[192];
	struct cw_content_opts o = {.catalogue = cat};

	snprintf(dir, sizeof(dir), "%s/rules", fx_tmp);
	mkdir(dir, 0755);
	snprintf(f, sizeof(f), "%s/user.yar", dir);
	if (fx_write_file(f, rule_text, strlen(rule_text)))
		return -EIO;
	o.user_rules_dir = dir;
	*out = NULL;
	return cw_content_new(out, &o);
}

TEST(bad_user_rules_refused)
{
	struct cw_content *ct = NULL;
	struct cw_content_opts o = {.catalogue = cat, .user_rules_dir = "/nonexistent/cw-rules"};

	fx_mk_tmp();
	/* syntax error */
	CHECK_INT(new_with_rule("rule broken {\n condition:\n  $a and\n}\n", &ct), -EINVAL);
	CHECK(ct == NULL);
	/* missing meta */
	CHECK_INT(new_with_rule("rule nometa { strings: $a = \"zz\" condition: $a }\n", &ct),
	          -EINVAL);
	/* unknown category */
	CHECK_INT(new_with_rule("rule badcat { meta: tool = \"x\" category = \"nope\" "
	                        "strings: $a = \"zz\" condition: $a }\n",
	                        &ct),
	          -EINVAL);
	/* confidence out of range */
	CHECK_INT(new_with_rule("rule badconf { meta: tool = \"x\" category = \"local_recon\" "
	                        "confidence = 500 strings: $a = \"zz\" condition: $a }\n",
	                        &ct),
	          -EINVAL);
	/* same name as a shipped rule is fine: one namespace per file */
	CHECK_INT(new_with_rule("rule cdk { meta: tool = \"x\" category = \"local_recon\" "
	                        "strings: $a = \"zz-unique-marker\" condition: $a }\n",
	                        &ct),
	          0);
	cw_content_free(ct);
	/* a configured directory that is missing */
	CHECK_INT(cw_content_new(&ct, &o), -ENOENT);
	CHECK(ct == NULL);
	/* a negative cap */
	o.user_rules_dir = NULL;
	o.hash_cap = -1;
	CHECK_INT(cw_content_new(&ct, &o), -EINVAL);
	fx_rm_tmp();
}

TEST(user_rule_with_context)
{
	struct cw_content *ct = NULL;
	struct cw_content_stats st;
	struct cw_detection det = {0};
	char path[128];
	const char *argv_hit[] = {"x", "--escape-now", NULL};
	const char *argv_miss[] = {"x", "--version", NULL};

	fx_mk_tmp();
	CHECK_INT(
	    new_with_rule("// a rule that combines content with the exec's argv and basename\n"
	                  "rule sh_escape_flag {\n"
	                  "  meta: tool = \"sh-escape\" tool_name = \"Escape wrapper\"\n"
	                  "        category = \"container_escape\" confidence = 60\n"
	                  "  strings: $sh = \"#!/bin/sh\"\n"
	                  "  condition: $sh at 0 and argv contains \"--escape-now\" and\n"
	                  "             basename matches /^p[0-9a-f]+$/\n"
	                  "}\n",
	                  &ct),
	    0);
	if (!ct) {
		fx_rm_tmp();
		return;
	}
	cw_content_get_stats(ct, &st);
	CHECK(st.context_rules);
	rand_path(path, sizeof(path), fx_tmp);
	CHECK_INT(fx_write_file(path, "#!/bin/sh\necho hi\n", 18), 0);
	CHECK_INT(check_path(ct, path, argv_miss, 2, NULL, &det), 0);
	CHECK_INT(check_path(ct, path, argv_hit, 2, NULL, &det), 1);
	CHECK_STR(det.tool_id, "sh-escape");
	CHECK_STR(det.tool_name, "Escape wrapper");
	CHECK_STR(det.rule_id, "yara.sh_escape_flag");
	CHECK_STR(det.cat ? det.cat->id : NULL, "container_escape");
	cw_detection_clear(&det);
	/* Cached per (file, argv): the miss argv still gives 0 from the cache. */
	CHECK_INT(check_path(ct, path, argv_miss, 2, NULL, &det), 0);
	cw_content_get_stats(ct, &st);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.misses, 2);
	cw_content_free(ct);
	fx_rm_tmp();
}

TEST(hash_layer_and_cap)
{
	struct cw_content *ct = NULL;
	struct cw_content_opts o = {.catalogue = cat};
	struct cw_detection det = {0};
	struct cw_file_info fi;
	char path[128], big[128], sha[65], json[512];
	char *data;
	int r;

	fx_mk_tmp();
	rand_path(path, sizeof(path), fx_tmp);
	CHECK_INT(fx_write_file(path, "#!/bin/sh\necho 'just a script'\n", 31), 0);
	sha256_of(path, sha);
	snprintf(json, sizeof(json),
	         "{\"tools\": [{\"id\": \"container-escape-check\", \"name\": "
	         "\"container-escape-check\","
	         " \"category\": \"container_escape\", \"sha256\": [\"%s\"]}]}",
	         sha);
	o.catalogue_text = json;
	o.catalogue_len = strlen(json);
	o.catalogue_origin = "test catalogue";
	CHECK_INT(cw_content_new(&ct, &o), 0);
	if (ct) {
		r = check_path(ct, path, NULL, 0, &fi, &det);
		CHECK_INT(r, 1);
		CHECK_STR(det.matched_on, "hash");
		CHECK_STR(det.rule_id, "hash.container-escape-check");
		CHECK_STR(det.tool_id, "container-escape-check");
		CHECK_STR(det.cat ? det.cat->id : NULL, "container_escape");
		CHECK(det.extra == NULL); /* no YARA rule matched */
		cw_detection_clear(&det);
		cw_content_free(ct);
		ct = NULL;
	}
	/* A catalogue tool with content_markers but no shipped rule gets a
	 * generated one: adding a tool is a data change. */
	snprintf(json, sizeof(json),
	         "{\"tools\": [{\"id\": \"my-tool\", \"category\": \"local_recon\","
	         " \"content_markers\": [\"zz-my \\\"unique\\\" marker-42\", \"other\\\\one\"]}]}");
	o.catalogue_len = strlen(json);
	CHECK_INT(cw_content_new(&ct, &o), 0);
	if (ct) {
		static const char body[] = "#!/bin/sh\n# zz-my \"unique\" marker-42\n";

		rand_path(big, sizeof(big), fx_tmp);
		CHECK_INT(fx_write_file(big, body, strlen(body)), 0);
		CHECK_INT(check_path(ct, big, NULL, 0, &fi, &det), 1);
		CHECK_STR(det.tool_id, "my-tool");
		CHECK_STR(det.rule_id, "yara.catalogue_my_tool");
		CHECK_STR(det.cat ? det.cat->id : NULL, "local_recon");
		cw_detection_clear(&det);
		CHECK_INT(check_path(ct, path, NULL, 0, &fi, &det), 0);
		cw_content_free(ct);
		ct = NULL;
	}
	/* Malformed hash lists are refused. */
	snprintf(json, sizeof(json),
	         "{\"tools\": [{\"id\": \"a\", \"category\": \"container_escape\","
	         " \"sha256\": [\"ABC\"]}]}");
	o.catalogue_len = strlen(json);
	CHECK_INT(cw_content_new(&ct, &o), -EINVAL);
	snprintf(json, sizeof(json), "{\"tools\": [ {\"id\": 1,} ]}");
	o.catalogue_len = strlen(json);
	CHECK_INT(cw_content_new(&ct, &o), -EINVAL);

	/* A cap: the hash is partial and honest; markers past the cap are not seen. */
	o.catalogue_text = NULL;
	o.hash_cap = 4096;
	CHECK_INT(cw_content_new(&ct, &o), 0);
	data = calloc(1, 10000);
	if (ct && data) {
		memset(data, '#', 10000);
		memcpy(data + 100, "by stealthcopter", 16);
		rand_path(big, sizeof(big), fx_tmp);
		CHECK_INT(fx_write_file(big, data, 10000), 0);
		CHECK_INT(check_path(ct, big, NULL, 0, &fi, &det), 1);
		CHECK(fi.have_hash && fi.partially_hashed);
		CHECK_INT(fi.hashed_size, 4096);
		CHECK_INT(fi.size, 10000);
		cw_detection_clear(&det);
		memset(data + 100, '#', 16);
		memcpy(data + 9000, "by stealthcopter", 16);
		CHECK_INT(fx_write_file(big, data, 10000), 0);
		CHECK_INT(check_path(ct, big, NULL, 0, &fi, &det), 0);
		CHECK(fi.partially_hashed);
	}
	free(data);
	cw_content_free(ct);
	fx_rm_tmp();
}

TEST(unreadable_or_vanished)
{
	struct cw_content *ct = new_ct(NULL);
	struct cw_detection det = {0};
	struct cw_file_info fi;
	char path[128];
	int fd;

	if (!ct)
		return;
	fx_mk_tmp();
	/* Could not be opened at all: 0, the path is still known. */
	CHECK_INT(cw_content_check_fd(ct, -1, "/proc/123/exe", NULL, 0, NULL, &fi, &det), 0);
	CHECK_STR(fi.path, "/proc/123/exe");
	CHECK(!fi.have_hash);
	/* Open but unreadable (write-only descriptor): 0 with the size. */
	rand_path(path, sizeof(path), fx_tmp);
	CHECK_INT(fx_copy_file(FIX "/deepce_like.sh", path), 0);
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	CHECK_INT(cw_content_check_fd(ct, fd, path, NULL, 0, NULL, &fi, &det), 0);
	CHECK(!fi.have_hash);
	CHECK(fi.have_size && fi.size > 0);
	close(fd);
	/* A directory: 0, nothing hashed. */
	fd = open(fx_tmp, O_RDONLY | O_DIRECTORY);
	CHECK_INT(cw_content_check_fd(ct, fd, fx_tmp, NULL, 0, NULL, &fi, &det), 0);
	CHECK(!fi.have_hash);
	close(fd);
	cw_content_free(ct);
	fx_rm_tmp();
}

static const struct cw_test tests[] = {
    {"rules_compile", rules_compile},
    {"lookalikes_match_under_random_names", lookalikes_match_under_random_names},
    {"memfd_and_deleted_file", memfd_and_deleted_file},
    {"upx_rule_lower_confidence", upx_rule_lower_confidence},
    {"rule_precedence_and_wildcards", rule_precedence_and_wildcards},
    {"check_mem", check_mem},
    {"benign_set_silent", benign_set_silent},
    {"cache_hits_and_invalidates", cache_hits_and_invalidates},
    {"cache_is_bounded", cache_is_bounded},
    {"cache_thread_safe", cache_thread_safe},
    {"bad_user_rules_refused", bad_user_rules_refused},
    {"user_rule_with_context", user_rule_with_context},
    {"hash_layer_and_cap", hash_layer_and_cap},
    {"unreadable_or_vanished", unreadable_or_vanished},
};

/* CW_TEST_MAIN's main() becomes run_all() so that the shared catalogue is
 * loaded once before the cases and freed after them. */
static int run_all(int argc, char **argv);

int main(int argc, char **argv)
{
	int err = cw_catalogue_load_default(&cat), rc;

	if (err) {
		fprintf(stderr, "cannot load the embedded catalogue: %s\n", strerror(-err));
		return 1;
	}
	rc = run_all(argc, argv);
	cw_catalogue_free(cat);
	return rc;
}

#define main run_all
CW_TEST_MAIN(tests)
#undef main
