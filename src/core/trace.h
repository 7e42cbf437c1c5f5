/* Trace events to the user's sink. Nothing is formatted when no sink is set. */
#ifndef SYNACK_CORE_TRACE_H
#define SYNACK_CORE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "synack/synack.h"


/* The calls are macros that test for a sink first (trace_enabled, in
 * core/stack.h), so without one no argument is evaluated: a state name or
 * an address to format would cost more than the step it describes. */

/* name: the Linux tracepoint or function the step mirrors. */
#define trace_event(st, ...)                            \
	do {                                            \
		if (trace_enabled(st))                  \
			trace_event_emit((st), __VA_ARGS__); \
	} while (0)
/* A frame crossing the link boundary (kind FRAME_RX or FRAME_TX). */
#define trace_frame(st, kind, frame, len)                         \
	do {                                                      \
		if (trace_enabled(st))                            \
			trace_frame_emit((st), (kind), (frame), (len)); \
	} while (0)
/* A drop: name is where (e.g. "ip_rcv"), fmt says why (e.g. "bad checksum"). */
#define trace_drop(st, ...)                            \
	do {                                           \
		if (trace_enabled(st))                 \
			trace_drop_emit((st), __VA_ARGS__); \
	} while (0)

void trace_event_emit(struct stack *st, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void trace_frame_emit(struct stack *st, enum synack_trace_kind kind, const uint8_t *frame, size_t len);
void trace_drop_emit(struct stack *st, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
