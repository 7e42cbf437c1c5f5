/*
 * A minimal test harness: each test file defines TEST(name) functions and a
 * main() that lists them with RUN(name). A failed CHECK prints where and
 * why, marks the test failed and goes on; REQUIRE returns from the test.
 * The program prints "N passed, N failed" and exits non-zero on failure.
 */
#ifndef SYNACK_TEST_H
#define SYNACK_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_checks;
static int tests_passed, tests_failed;

#define TEST(name) static void test_##name(void)

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			test_failed_checks++;                                          \
		}                                                                      \
	} while (0)

#define REQUIRE(cond)                                                                  \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
			test_failed_checks++;                                          \
			return;                                                        \
		}                                                                      \
	} while (0)

#define CHECK_EQ(a, b)                                                                 \
	do {                                                                           \
		long long _a = (long long)(a), _b = (long long)(b);                    \
		if (_a != _b) {                                                        \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, _a, _b);                   \
			test_failed_checks++;                                          \
		}                                                                      \
	} while (0)

#define CHECK_MEM(a, b, n)                                                             \
	do {                                                                           \
		if (memcmp((a), (b), (n)) != 0) {                                      \
			fprintf(stderr, "%s:%d: CHECK_MEM failed: %s vs %s\n", __FILE__, __LINE__, #a, #b); \
			test_failed_checks++;                                          \
		}                                                                      \
	} while (0)

#define CHECK_STR(a, b)                                                                \
	do {                                                                           \
		const char *_a = (a), *_b = (b);                                       \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                               \
			fprintf(stderr, "%s:%d: CHECK_STR failed:\n  got:  %s\n  want: %s\n", \
				__FILE__, __LINE__, _a ? _a : "(null)", _b ? _b : "(null)"); \
			test_failed_checks++;                                          \
		}                                                                      \
	} while (0)

#define RUN(name)                                                                      \
	do {                                                                           \
		int _before = test_failed_checks;                                      \
		test_##name();                                                         \
		if (test_failed_checks == _before) {                                   \
			tests_passed++;                                                \
			printf("ok   %s\n", #name);                                    \
		} else {                                                               \
			tests_failed++;                                                \
			printf("FAIL %s\n", #name);                                    \
		}                                                                      \
	} while (0)

#define TEST_SUMMARY()                                                                 \
	(printf("%d passed, %d failed\n", tests_passed, tests_failed), tests_failed ? 1 : 0)

#endif
