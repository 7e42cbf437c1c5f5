/*
 * What the benchmark programs share: clocks, rounds, how a rate is
 * printed, and the seeded stacks they measure. Header-only (static
 * functions): each bench is one executable.
 */
#ifndef SYNACK_BENCH_UTIL_H
#define SYNACK_BENCH_UTIL_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "synack/synack.h"

#define BU_MAX_ROUNDS 64

static inline double bu_clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One round's time: wall, and this process's CPU time (which other work
 * on the machine does not inflate by descheduling us). */
struct bu_time {
	double wall, cpu;
};

static inline struct bu_time bu_start(void)
{
	return (struct bu_time){ -bu_clock_s(CLOCK_MONOTONIC), -bu_clock_s(CLOCK_PROCESS_CPUTIME_ID) };
}

static inline struct bu_time bu_stop(struct bu_time t)
{
	t.wall += bu_clock_s(CLOCK_MONOTONIC);
	t.cpu += bu_clock_s(CLOCK_PROCESS_CPUTIME_ID);
	return t;
}

static int bu_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The rounds of one measurement, and the rates (per second) they give for
 * `work` units per round: best (the least disturbed round) and median. */
struct bu_rounds {
	double wall[BU_MAX_ROUNDS], cpu[BU_MAX_ROUNDS];
	unsigned n;
	double work;                        /* units per round */
};

struct bu_rate {
	double best, median;                /* units per second */
};

static inline struct bu_rate bu_rate_of(const double *secs, unsigned n, double work)
{
	double s[BU_MAX_ROUNDS];
	struct bu_rate r = { 0, 0 };

	if (!n)
		return r;
	memcpy(s, secs, n * sizeof(s[0]));
	qsort(s, n, sizeof(s[0]), bu_cmp_double);
	r.best = work / s[0];
	r.median = work / s[n / 2];
	return r;
}

static inline struct bu_rate bu_wall_rate(const struct bu_rounds *r) { return bu_rate_of(r->wall, r->n, r->work); }
static inline struct bu_rate bu_cpu_rate(const struct bu_rounds *r) { return bu_rate_of(r->cpu, r->n, r->work); }

static inline int bu_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return -1;
	v = strtoull(s, &end, 10);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* A stack on virtual clock clk with its interface up on l at addr/24 (host
 * order). Seeded, so that runs compare: NULL on failure. */
static inline struct stack *bu_stack_new(struct synack_clock *clk, const char *name, uint64_t seed,
					 struct synack_link *l, uint32_t addr)
{
	struct synack_stack_config sc = { .clock = clk, .name = name, .seeded = true, .seed = seed };
	struct synack_if_config ic = { .prefix_len = 24 };
	struct stack *st;

	ic.addr.s_addr = htonl(addr);
	if (synack_stack_new(&sc, &st) < 0)
		return NULL;
	if (synack_if_up(st, l, &ic) < 0) {
		synack_stack_free(st);
		return NULL;
	}
	return st;
}

#endif
