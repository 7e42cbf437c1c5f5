/* Time sources: the only place synack reads the system clock. */
#include <errno.h>
#include <stdlib.h>
#include "core/clock.h"
#include "core/stack.h"

struct synack_clock *synack_clock_new_real(void)
{
	struct synack_clock *c = calloc(1, sizeof(*c));

	if (c)
		clock_gettime(CLOCK_MONOTONIC, &c->base);
	return c;
}

struct synack_clock *synack_clock_new_virtual(uint64_t start_ns)
{
	struct synack_clock *c = calloc(1, sizeof(*c));

	if (c) {
		c->is_virtual = true;
		c->vnow = start_ns;
	}
	return c;
}

void synack_clock_free(struct synack_clock *clk) { free(clk); }

uint64_t clock_now(const struct synack_clock *clk)
{
	struct timespec ts;

	if (clk->is_virtual)
		return clk->vnow;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)(ts.tv_sec - clk->base.tv_sec) * 1000000000ULL + (uint64_t)ts.tv_nsec -
	       (uint64_t)clk->base.tv_nsec;
}

uint64_t synack_clock_now(const struct synack_clock *clk) { return clk ? clock_now(clk) : 0; }
bool synack_clock_is_virtual(const struct synack_clock *clk) { return clk && clk->is_virtual; }

int synack_clock_set(struct synack_clock *clk, uint64_t now_ns)
{
	if (!clk || !clk->is_virtual || now_ns < clk->vnow)
		return -EINVAL;
	clk->vnow = now_ns;
	return 0;
}

int synack_clock_advance(struct synack_clock *clk, uint64_t delta_ns)
{
	if (!clk || !clk->is_virtual || clk->vnow + delta_ns < clk->vnow)
		return -EINVAL;
	clk->vnow += delta_ns;
	return 0;
}
