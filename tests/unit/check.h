/* check.h - the unit-test harness: CHECK() records a failure with file:line and
 * keeps going; TEST() registers a case; main() runs them all and prints
 * "<binary>: N passed, N failed". Exit status 1 if any case failed.
 */
#ifndef CW_CHECK_H
#define CW_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cw_test {
	const char *name;
	void (*fn)(void);
};

static int cw_t_failed_here;
static int cw_t_checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		cw_t_checks++;                                                                     \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			cw_t_failed_here = 1;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *cw_a_ = (a), *cw_b_ = (b);                                             \
		cw_t_checks++;                                                                     \
		if (!cw_a_ || !cw_b_ || strcmp(cw_a_, cw_b_) != 0) {                               \
			fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,      \
			        __LINE__, #a, cw_a_ ? cw_a_ : "(null)", cw_b_ ? cw_b_ : "(null)"); \
			cw_t_failed_here = 1;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long cw_a_ = (long long)(a), cw_b_ = (long long)(b);                          \
		cw_t_checks++;                                                                     \
		if (cw_a_ != cw_b_) {                                                              \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__,          \
			        __LINE__, #a, cw_a_, cw_b_);                                       \
			cw_t_failed_here = 1;                                                      \
		}                                                                                  \
	} while (0)

#define TEST(name) static void name(void)

/* In the test file: static const struct cw_test tests[] = { {"name", fn}, ... };
 * CW_TEST_MAIN(tests) */
#define CW_TEST_MAIN(tests)                                                                        \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		int passed = 0, failed = 0;                                                        \
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {                    \
			if (argc > 1 && !strstr(tests[i].name, argv[1]))                           \
				continue;                                                          \
			cw_t_failed_here = 0;                                                      \
			tests[i].fn();                                                             \
			if (cw_t_failed_here) {                                                    \
				failed++;                                                          \
				printf("not ok - %s\n", tests[i].name);                            \
			} else {                                                                   \
				passed++;                                                          \
				printf("ok - %s\n", tests[i].name);                                \
			}                                                                          \
		}                                                                                  \
		printf("%s: %d passed, %d failed\n", argv[0], passed, failed);                     \
		return failed ? 1 : 0;                                                             \
	}

#endif
