/* scan_bench.c - measures the content layer: scan throughput (MB/s hashed and
 * YARA-scanned, cache cold) over a set of files, and the verdict cache's hit
 * rate and check rate on a repeated exec-like storm of check calls. Prints a
 * markdown table. Usage: scan_bench [FILE|DIR...] (default: /usr/bin).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalogue.h"
#include "content.h"
#include "util.h"

#define MAX_FILES 4096

static char *files[MAX_FILES];
static size_t nfiles;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_path(const char *p)
{
	struct stat st;

	if (nfiles >= MAX_FILES || stat(p, &st) < 0)
		return;
	if (S_ISREG(st.st_mode)) {
		files[nfiles] = strdup(p);
		if (files[nfiles])
			nfiles++;
	} else if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(p);
		struct dirent *de;

		while (d && (de = readdir(d)) && nfiles < MAX_FILES) {
			char sub[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", p, de->d_name);
			if (lstat(sub, &st) == 0 && S_ISREG(st.st_mode))
				add_path(sub);
		}
		if (d)
			closedir(d);
	}
}

static int check(struct cw_content *ct, const char *path, int *hit)
{
	struct cw_detection det = {0};
	const char *argv[] = {path, NULL};
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = cw_content_check_fd(ct, fd, path, argv, 1, NULL, NULL, &det);
	close(fd);
	if (r == 1) {
		(*hit)++;
		cw_detection_clear(&det);
	}
	return r < 0 ? r : 0;
}

/* A storm of `calls` checks over the first `set` files, round robin, with a
 * cache of `cache` entries. */
static int storm(struct cw_catalogue *cat, size_t set, size_t cache, size_t calls)
{
	struct cw_content_opts o = {.catalogue = cat, .cache_size = cache};
	struct cw_content_stats st;
	struct cw_content *ct;
	double t0, t;
	int found = 0, err;

	if (set > nfiles)
		set = nfiles;
	err = cw_content_new(&ct, &o);
	if (err)
		return err;
	t0 = now_s();
	for (size_t i = 0; i < calls; i++)
		check(ct, files[i % set], &found);
	t = now_s() - t0;
	cw_content_get_stats(ct, &st);
	printf("| storm: %zu checks over %zu files, cache %zu | %.1f%% | %.0f checks/s | %llu "
	       "misses, %llu evictions |\n",
	       calls, set, cache, 100.0 * (double)st.hits / (double)(st.hits + st.misses),
	       (double)calls / t, (unsigned long long)st.misses, (unsigned long long)st.evictions);
	cw_content_free(ct);
	return 0;
}

int main(int argc, char **argv)
{
	struct cw_content_opts o = {0};
	struct cw_content_stats st;
	struct cw_catalogue *cat;
	struct cw_content *ct;
	uint64_t hits0;
	double t0, t;
	int found = 0, err;

	cw_log_set_level(CW_LOG_ERROR);
	for (int i = 1; i < argc; i++)
		add_path(argv[i]);
	if (argc < 2)
		add_path("/usr/bin");
	if (!nfiles) {
		fprintf(stderr, "scan_bench: no regular files to scan\n");
		return 2;
	}
	err = cw_catalogue_load_default(&cat);
	if (err) {
		fprintf(stderr, "scan_bench: catalogue: %s\n", strerror(-err));
		return 2;
	}
	o.catalogue = cat;
	o.cache_size = MAX_FILES;
	err = cw_content_new(&ct, &o);
	if (err) {
		fprintf(stderr, "scan_bench: rules: %s\n", strerror(-err));
		return 2;
	}
	/* Cold: every file hashed and scanned once. */
	t0 = now_s();
	for (size_t i = 0; i < nfiles; i++)
		check(ct, files[i], &found);
	t = now_s() - t0;
	cw_content_get_stats(ct, &st);
	printf("| measurement | result | rate | notes |\n|---|---|---|---|\n");
	printf("| cold scan: %zu files, %.1f MB (%zu rules) | %.1f MB/s | %.0f files/s | %d hits "
	       "(hard links: %llu cache hits) |\n",
	       nfiles, (double)st.bytes_scanned / 1e6, st.rules, (double)st.bytes_scanned / 1e6 / t,
	       (double)nfiles / t, found, (unsigned long long)st.hits);
	/* Warm: the same files again, all from the cache. */
	hits0 = st.hits;
	t0 = now_s();
	for (size_t i = 0; i < nfiles; i++)
		check(ct, files[i], &found);
	t = now_s() - t0;
	cw_content_get_stats(ct, &st);
	printf(
	    "| warm re-check of the same files | %.1f%% hits | %.0f files/s | fstat + lookup |\n",
	    100.0 * (double)(st.hits - hits0) / (double)nfiles, (double)nfiles / t);
	cw_content_free(ct);

	storm(cat, 50, 4096, 100000);
	storm(cat, 500, 4096, 100000);
	storm(cat, 500, 256, 20000); /* working set larger than the cache: LRU thrash */
	cw_catalogue_free(cat);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	return 0;
}
