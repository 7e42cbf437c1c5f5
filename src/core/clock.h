#ifndef SYNACK_CORE_CLOCK_H
#define SYNACK_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct synack_clock {
	bool is_virtual;
	uint64_t vnow;              /* virtual: the current time */
	struct timespec base;       /* real: CLOCK_MONOTONIC at creation */
};

#endif
