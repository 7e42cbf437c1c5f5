/*
 * Timers on a hierarchical timing wheel: O(1) arm and cancel, a million
 * pending timers are fine. Resolution is one jiffy = 1 ms (Linux HZ=1000);
 * an expiry is rounded up to the next whole millisecond. Timers due in the
 * same jiffy fire in the order they were armed; earlier jiffies fire first.
 * A callback may arm or cancel any timer, itself included.
 */
#ifndef SYNACK_CORE_TIMER_H
#define SYNACK_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>
#include "core/list.h"

struct stack;
struct timer;
typedef void (*timer_fn)(struct stack *st, struct timer *t);

/* What a timer does when it fires: an index into the wheel's handler
 * table rather than a function pointer in every timer, which keeps struct
 * timer at 24 bytes (every socket, request sock and minisock embeds one or
 * more; Linux's timer_list carries its function). */
enum timer_kind {
	TIMER_NONE,             /* fires nothing */
	TIMER_TCP_WRITE,        /* retransmission, probes (tcp_write_timer) */
	TIMER_TCP_DELACK,
	TIMER_TCP_KEEPALIVE,    /* keepalive and orphaned FIN-WAIT-2 */
	TIMER_REQSK,            /* SYN-ACK retransmission */
	TIMER_TW,               /* TIME-WAIT and FIN-WAIT-2 minisocks */
	TIMER_IPFRAG,           /* reassembly timeout */
	TIMER_NEIGH,            /* ARP entry */
	TIMER_NEIGH_GC,
	TIMER_AUX0,             /* free for code outside the stack (tests, tools) */
	TIMER_AUX1,
	TIMER_KINDS
};

/* Expiry, kind and list share one word: 44 bits of jiffies from the
 * wheel's epoch (35 years before it was made) reach 520 years past its
 * making (later expiries are clamped to the last one), and
 * the list id keeps the top 16 bits to itself so the wheel's frequent
 * moves store it whole. */
#define TIMER_MAX_JIFFY ((1ULL << 44) - 1)
struct timer {
	struct list_head entry;     /* self-linked when not pending */
	uint64_t expires : 44;      /* jiffy at which it fires, from the wheel's epoch (timer_expires_jiffy) */
	uint64_t kind : 4;          /* enum timer_kind */
	uint64_t where : 16;        /* list holding it: a slot, the due or far list */
};
_Static_assert(TIMER_KINDS <= 16, "timer kinds must fit in timer.kind");

/*
 * Level L holds timers whose expiry first differs from the wheel's "now" in
 * the L-th group of TW_BITS bits, in the slot named by that group. As now
 * advances, a slot is re-sorted into lower levels when now enters its range,
 * so every timer due in one jiffy sits in a single list in arming order.
 */
#define TW_LEVELS 4
#define TW_BITS 8
#define TW_SLOTS (1u << TW_BITS)

struct timer_wheel {
	uint64_t epoch;             /* the clock's jiffy (ms) the wheel counts from */
	uint64_t now;               /* the jiffy processed last, from epoch */
	size_t pending;             /* armed timers */
	struct list_head slots[TW_LEVELS][TW_SLOTS];
	uint64_t occupied[TW_LEVELS][TW_SLOTS / 64]; /* bitmap of non-empty slots */
	uint64_t slot_min[TW_LEVELS][TW_SLOTS]; /* lower bound of each slot's expiries */
	struct list_head due;       /* expiry <= now: fire on this run */
	uint64_t due_min;           /* lower bound of the due timers' expiries */
	struct list_head far;       /* beyond the top level's reach */
	uint64_t far_min;           /* lower bound of the far timers' expiries */
	timer_fn handlers[16];      /* by kind (all that timer.kind can hold) */
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ns);
/* Forget every pending timer (they are left self-linked). */
void timer_wheel_destroy(struct timer_wheel *w);

/* What timers of a kind call (NULL: nothing); each layer sets its own at init. */
void timer_set_handler(struct timer_wheel *w, enum timer_kind kind, timer_fn fn);
void timer_setup(struct timer *t, enum timer_kind kind);
/* When t fires (or last fired), in jiffies (ms) of the stack clock. */
uint64_t timer_expires_jiffy(const struct timer_wheel *w, const struct timer *t);
/* Arm, or re-arm, t to fire at expires_ns (stack clock). */
void mod_timer(struct stack *st, struct timer *t, uint64_t expires_ns);
/* Disarm; returns whether t was pending. */
bool del_timer(struct stack *st, struct timer *t);
static inline bool timer_pending(const struct timer *t) { return !list_empty(&t->entry); }

/* Fire every timer due at or before now_ns; returns how many fired. */
int timer_wheel_run(struct stack *st, struct timer_wheel *w, uint64_t now_ns);
/* The earliest time (ns) any pending timer may be due, or UINT64_MAX. Never
 * later than the real earliest expiry; exact unless timers were cancelled,
 * when it may be earlier (the caller then simply runs the wheel and asks
 * again). */
uint64_t timer_wheel_next(const struct timer_wheel *w);

#endif
