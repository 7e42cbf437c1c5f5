/* Trace events: formatted only when a sink is set. */
#include <stdarg.h>
#include <stdio.h>
#include "core/stack.h"
#include "core/trace.h"

void synack_trace_set_sink(struct stack *st, synack_trace_fn fn, void *ctx)
{
	if (!st)
		return;
	st->trace_fn = fn;
	st->trace_ctx = ctx;
}

static void trace_emit(struct stack *st, enum synack_trace_kind kind, const char *name, const char *fmt,
		       va_list ap)
{
	char text[256];
	struct synack_trace_event ev = {
		.ts_ns = stack_now(st), .kind = kind, .stack = st, .name = name, .text = text,
	};

	vsnprintf(text, sizeof(text), fmt, ap);
	st->trace_fn(st->trace_ctx, &ev);
}

void trace_event_emit(struct stack *st, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (!trace_enabled(st))
		return;
	va_start(ap, fmt);
	trace_emit(st, SYNACK_TRACE_EVENT, name, fmt, ap);
	va_end(ap);
}

void trace_drop_emit(struct stack *st, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (!trace_enabled(st))
		return;
	va_start(ap, fmt);
	trace_emit(st, SYNACK_TRACE_DROP, name, fmt, ap);
	va_end(ap);
}

void trace_frame_emit(struct stack *st, enum synack_trace_kind kind, const uint8_t *frame, size_t len)
{
	struct synack_trace_event ev = {
		.ts_ns = 0, .kind = kind, .stack = st, .text = "", .frame = frame, .frame_len = len,
	};

	if (!trace_enabled(st))
		return;
	ev.ts_ns = stack_now(st);
	ev.name = kind == SYNACK_TRACE_FRAME_TX ? "net_dev_xmit" : "netif_receive_skb";
	st->trace_fn(st->trace_ctx, &ev);
}
