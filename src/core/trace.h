/* Trace events to the user's sink. Nothing is formatted when no sink is set. */
#ifndef SYNACK_CORE_TRACE_H
#define SYNACK_CORE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "synack/synack.h"


/* name: the Linux tracepoint or function the step mirrors. */
void trace_event(struct stack *st, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A frame crossing the link boundary (kind FRAME_RX or FRAME_TX). */
void trace_frame(struct stack *st, enum synack_trace_kind kind, const uint8_t *frame, size_t len);
/* A drop: name is where (e.g. "ip_rcv"), fmt says why (e.g. "bad checksum"). */
void trace_drop(struct stack *st, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
