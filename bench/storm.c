/* storm.c - the bench's exec storm: W worker processes each run their share of
 * N fork+execve+waitpid cycles of a tiny static program, and the storm prints
 * the throughput. Static itself so it runs unchanged inside a busybox rootfs.
 *
 *   storm [-n EXECS] [-w WORKERS] [-k EVERY -l LOOKALIKE -t TIMESFILE [-s TAG]] TARGET
 *     Every EVERY-th exec of each worker runs LOOKALIKE (a copy of the target
 *     under a known tool's name) as `NAME -autopwn bench-seq=TAG.WORKER.I`; the
 *     child records CLOCK_REALTIME just before its execve, and TIMESFILE gets
 *     one "TAG.WORKER.I NS" line per look-alike once the storm is over.
 *     Prints: "storm: execs=N workers=W seconds=S rate=R lookalikes=L failed=F"
 *     and exits non-zero if any exec failed.
 *
 *   storm --stamp
 *     Copies stdin to stdout, each line prefixed with the CLOCK_REALTIME ns at
 *     which it was read: put it behind the agent's stdout to time findings.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct lk_slot {
	uint64_t worker;
	uint64_t i;
	uint64_t ns; /* 0: the look-alike did not get to execve */
};

struct shared {
	uint64_t failed[64]; /* per worker */
	struct lk_slot slots[];
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int stamp(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		uint64_t t = now_ns(CLOCK_REALTIME);

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (printf("%" PRIu64 " %s\n", t, line) < 0 || fflush(stdout) != 0) {
			fprintf(stderr, "storm --stamp: cannot write: %s\n", strerror(errno));
			free(line);
			return 1;
		}
	}
	free(line);
	return 0;
}

static void usage(void)
{
	fputs("usage: storm [-n EXECS] [-w WORKERS] [-k EVERY -l LOOKALIKE -t TIMESFILE [-s TAG]] "
	      "[-e] "
	      "TARGET\n"
	      "       -e: the target gets storm's environment (else an empty one)\n"
	      "       storm --stamp\n",
	      stderr);
}

/* One worker: n cycles; look-alike slots start at *slot. */
extern char **environ;
static char *const no_env[] = {NULL};
static char *const *envp = no_env; /* -e: environ */

static void worker(int idx, long n, long every, const char *target, const char *lookalike,
                   const char *tag, struct shared *sh, size_t slot)
{
	char seqarg[128];
	const char *base = lookalike ? strrchr(lookalike, '/') : NULL;
	char *targv[] = {(char *)"tiny", NULL};
	char *largv[] = {(char *)(base ? base + 1 : lookalike), (char *)"-autopwn", seqarg, NULL};

	for (long i = 0; i < n; i++) {
		int lk = every > 0 && i % every == every - 1;
		int st;
		pid_t pid;

		if (lk) {
			sh->slots[slot].worker = (uint64_t)idx;
			sh->slots[slot].i = (uint64_t)i;
			snprintf(seqarg, sizeof(seqarg), "bench-seq=%s.%d.%ld", tag, idx, i);
		}
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "storm: worker %d: fork: %s\n", idx, strerror(errno));
			sh->failed[idx] += (uint64_t)(n - i);
			return;
		}
		if (pid == 0) {
			if (lk) {
				sh->slots[slot].ns = now_ns(CLOCK_REALTIME);
				execve(lookalike, largv, envp);
			} else {
				execve(target, targv, envp);
			}
			_exit(127);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			sh->failed[idx]++;
		if (lk)
			slot++;
	}
}

int main(int argc, char **argv)
{
	long n = 20000, workers = 1, every = 0;
	const char *lookalike = NULL, *timesfile = NULL, *tag = "0", *target;
	int barrier[2], opt;
	size_t nslots = 0;
	struct shared *sh;
	pid_t pids[64];
	uint64_t t0, t1, failed = 0;
	char c;

	if (argc == 2 && !strcmp(argv[1], "--stamp"))
		return stamp();
	while ((opt = getopt(argc, argv, "n:w:k:l:t:s:e")) != -1) {
		switch (opt) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'w':
			workers = strtol(optarg, NULL, 10);
			break;
		case 'k':
			every = strtol(optarg, NULL, 10);
			break;
		case 'l':
			lookalike = optarg;
			break;
		case 't':
			timesfile = optarg;
			break;
		case 'e':
			envp = environ;
			break;
		case 's':
			tag = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc - 1 || n < 1 || workers < 1 || workers > 64 || every < 0 ||
	    (every > 0 && (!lookalike || !timesfile)) || strlen(tag) > 32) {
		usage();
		return 2;
	}
	target = argv[optind];
	if (access(target, X_OK) != 0 || (lookalike && access(lookalike, X_OK) != 0)) {
		fprintf(stderr, "storm: %s is not executable: %s\n",
		        access(target, X_OK) ? target : lookalike, strerror(errno));
		return 2;
	}
	if (every > 0)
		nslots = (size_t)(n / workers + 1) / (size_t)every + 1;
	sh = mmap(NULL, sizeof(*sh) + nslots * (size_t)workers * sizeof(struct lk_slot),
	          PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fprintf(stderr, "storm: mmap: %s\n", strerror(errno));
		return 2;
	}
	if (pipe(barrier) != 0) {
		fprintf(stderr, "storm: pipe: %s\n", strerror(errno));
		return 2;
	}
	for (long w = 0; w < workers; w++) {
		long share = n / workers + (w < n % workers ? 1 : 0);

		pids[w] = fork();
		if (pids[w] < 0) {
			fprintf(stderr, "storm: fork worker: %s\n", strerror(errno));
			return 2;
		}
		if (pids[w] == 0) {
			close(barrier[1]);
			if (read(barrier[0], &c, 1) < 0)
				_exit(2);
			worker((int)w, share, every, target, lookalike, tag, sh,
			       (size_t)w * nslots);
			_exit(0);
		}
	}
	close(barrier[0]);
	t0 = now_ns(CLOCK_MONOTONIC);
	close(barrier[1]); /* start */
	for (long w = 0; w < workers; w++) {
		int st;

		if (waitpid(pids[w], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	t1 = now_ns(CLOCK_MONOTONIC);
	for (long w = 0; w < workers; w++)
		failed += sh->failed[w];

	size_t nlk = 0;
	if (timesfile) {
		FILE *f = fopen(timesfile, "w");

		if (!f) {
			fprintf(stderr, "storm: cannot write %s: %s\n", timesfile, strerror(errno));
			return 2;
		}
		for (size_t i = 0; i < nslots * (size_t)workers; i++) {
			if (!sh->slots[i].ns)
				continue;
			fprintf(f, "%s.%" PRIu64 ".%" PRIu64 " %" PRIu64 "\n", tag,
			        sh->slots[i].worker, sh->slots[i].i, sh->slots[i].ns);
			nlk++;
		}
		if (fclose(f) != 0) {
			fprintf(stderr, "storm: cannot write %s: %s\n", timesfile, strerror(errno));
			return 2;
		}
	}
	double secs = (double)(t1 - t0) / 1e9;
	printf("storm: execs=%ld workers=%ld seconds=%.4f rate=%.1f lookalikes=%zu failed=%" PRIu64
	       "\n",
	       n, workers, secs, (double)n / secs, nlk, failed);
	return failed ? 1 : 0;
}
