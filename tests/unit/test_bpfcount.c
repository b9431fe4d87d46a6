/* test_bpfcount.c - reading the sensors' per-CPU counters: the batch read
 * (one bpf() call for the whole array, what the agent's stats use twice a
 * second) gives the same sums and per-CPU values as entry-by-entry reads, on
 * a real per-CPU array map (needs root: CI runs as root). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfload.h"
#include "check.h"

#define N 7

static void batch_equals_single(void)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	uint64_t *v, sums[N], one, per[64] = {0}, per1[64] = {0};

	CHECK(ncpu > 0 && ncpu <= 64);
	if (ncpu <= 0 || ncpu > 64)
		return;
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "cw_test_cnt", 4, 8, N, NULL);
	CHECK(fd >= 0); /* root and BPF needed: a failure here is loud, not a skip */
	if (fd < 0)
		return;
	v = calloc((size_t)ncpu, sizeof(*v));
	for (uint32_t k = 0; k < N; k++) {
		for (int c = 0; c < ncpu; c++)
			v[c] = 1000ull * k + 10ull * (uint64_t)c + 1;
		CHECK_INT(bpf_map_update_elem(fd, &k, v, BPF_ANY), 0);
	}
	CHECK_INT(cw_bpf_percpu_sums(fd, N, ncpu, sums, 3, per, ncpu), 0);
	for (uint32_t k = 0; k < N; k++) {
		uint64_t want = 0;

		for (int c = 0; c < ncpu; c++)
			want += 1000ull * k + 10ull * (uint64_t)c + 1;
		CHECK(sums[k] == want);
		CHECK_INT(cw_bpf_percpu_sum(fd, k, ncpu, &one, k == 3 ? per1 : NULL, ncpu), 0);
		CHECK(one == sums[k]);
	}
	for (int c = 0; c < ncpu; c++)
		CHECK(per[c] == per1[c] && per[c] == 3000ull + 10ull * (uint64_t)c + 1);
	CHECK_INT(cw_bpf_percpu_sums(fd, N, 0, sums, N, NULL, 0), -EINVAL);
	free(v);
	close(fd);
}

static const struct cw_test tests[] = {
    {"batch_equals_single", batch_equals_single},
};
CW_TEST_MAIN(tests)
