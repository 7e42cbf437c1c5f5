/*
 * Hierarchical timing wheel.
 *
 * A pending timer lives in exactly one list, chosen from its expiry X and the
 * wheel's current jiffy "now":
 *   X <= now                      the due list (fires on the current run)
 *   X and now differ first in     slot [L][bits of X in group L]
 *     bit group L < TW_LEVELS
 *   otherwise                     the far list
 * Placement depends only on X and now, so every timer due in a given jiffy is
 * always in the same list, and because lists are only ever appended to or
 * moved whole in order, they stay in arming order: same-jiffy FIFO for free.
 * A slot only ever holds expiries whose group-L bits exceed now's; when now
 * reaches the start of a slot's range the slot is refiled into lower levels.
 */
#include "core/timer.h"

#include "core/compiler.h"
#include "core/stack.h"

#define TW_WHERE_DUE 0xfffeu
#define TW_WHERE_FAR 0xfffdu
#define TW_REACH_BITS (TW_LEVELS * TW_BITS)
#define TW_EPOCH_BACK (1ULL << 40)
#define TW_NO_SLOT (-1)

_Static_assert(TW_LEVELS * TW_SLOTS < TW_WHERE_FAR, "slot ids must fit in timer.where");
_Static_assert(TW_REACH_BITS < 64, "the wheel must not span all 64 bits");
_Static_assert(TW_SLOTS % 64 == 0, "occupancy bitmap words must be full");

static uint64_t jiffy_of_ns(uint64_t ns)
{
	/* Rounding up keeps a timer from ever firing early. */
	return ns / NSEC_PER_MSEC + (ns % NSEC_PER_MSEC != 0);
}

static uint64_t jiffy_to_ns(uint64_t j)
{
	/* A jiffy past what u64 ns can express: report the last ns before it,
	 * which is still no later than the expiry. */
	if (j > UINT64_MAX / NSEC_PER_MSEC)
		return (j - 1) * NSEC_PER_MSEC + 1;
	return j * NSEC_PER_MSEC;
}

/* The wheel counts jiffies from an epoch 2^40 ms (35 years) before its
 * creation, or the clock's zero if that is nearer, so a timer's 44 bits
 * reach 520 years past the creation whatever the clock's origin (a
 * virtual clock may start anywhere), and expiries up to 35 years in the
 * past stay exact; an earlier time is the epoch. */
static uint64_t wheel_jiffy(const struct timer_wheel *w, uint64_t j)
{
	return j > w->epoch ? j - w->epoch : 0;
}

uint64_t timer_expires_jiffy(const struct timer_wheel *w, const struct timer *t)
{
	return t->expires + w->epoch;
}

static unsigned int level_shift(unsigned int level) { return level * TW_BITS; }

static unsigned int slot_of(uint64_t j, unsigned int level)
{
	return (unsigned int)(j >> level_shift(level)) & (TW_SLOTS - 1);
}

/* The jiffies below a level's granularity: zero at the start of its slots. */
static uint64_t below_level_mask(unsigned int level)
{
	return (1ULL << level_shift(level)) - 1;
}

static struct list_head *where_list(struct timer_wheel *w, uint16_t where)
{
	if (where == TW_WHERE_DUE)
		return &w->due;
	if (where == TW_WHERE_FAR)
		return &w->far;
	return &w->slots[where / TW_SLOTS][where % TW_SLOTS];
}

static void occupy(struct timer_wheel *w, unsigned int level, unsigned int slot)
{
	w->occupied[level][slot / 64] |= 1ULL << (slot % 64);
}

static void vacate(struct timer_wheel *w, unsigned int level, unsigned int slot)
{
	w->occupied[level][slot / 64] &= ~(1ULL << (slot % 64));
	w->slot_min[level][slot] = UINT64_MAX;
}

/* First occupied slot at or after from, or TW_NO_SLOT. */
static int next_occupied(const uint64_t *bitmap, unsigned int from)
{
	for (unsigned int i = from / 64; i < TW_SLOTS / 64; i++) {
		uint64_t bits = bitmap[i];

		if (i == from / 64)
			bits &= ~0ULL << (from % 64);
		if (bits)
			return (int)(i * 64 + (unsigned int)__builtin_ctzll(bits));
	}
	return TW_NO_SLOT;
}

static void enqueue_timer(struct timer_wheel *w, struct timer *t)
{
	uint64_t x = t->expires;

	if (x <= w->now) {
		t->where = TW_WHERE_DUE;
		if (x < w->due_min)
			w->due_min = x;
		list_add_tail(&t->entry, &w->due);
		return;
	}
	unsigned int level = (unsigned int)(63 - __builtin_clzll(x ^ w->now)) / TW_BITS;
	if (level >= TW_LEVELS) {
		t->where = TW_WHERE_FAR;
		if (x < w->far_min)
			w->far_min = x;
		list_add_tail(&t->entry, &w->far);
		return;
	}
	unsigned int slot = slot_of(x, level);
	t->where = (uint16_t)(level * TW_SLOTS + slot);
	if (x < w->slot_min[level][slot])
		w->slot_min[level][slot] = x;
	list_add_tail(&t->entry, &w->slots[level][slot]);
	occupy(w, level, slot);
}

static void detach_timer(struct timer_wheel *w, struct timer *t)
{
	struct list_head *head = where_list(w, t->where);

	list_del_init(&t->entry);
	w->pending--;
	if (!list_empty(head))
		return;
	/* The minima are only lower bounds; reset them once nothing is left. */
	if (t->where == TW_WHERE_DUE)
		w->due_min = UINT64_MAX;
	else if (t->where == TW_WHERE_FAR)
		w->far_min = UINT64_MAX;
	else
		vacate(w, t->where / TW_SLOTS, t->where % TW_SLOTS);
}

/* Re-place every timer of list (taken whole first, since placing may put a
 * timer back on a list of the same kind). */
static void refile_list(struct timer_wheel *w, struct list_head *list)
{
	struct list_head batch;

	INIT_LIST_HEAD(&batch);
	list_splice_tail_init(list, &batch);
	while (!list_empty(&batch)) {
		struct timer *t = list_first_entry(&batch, struct timer, entry);

		list_del_init(&t->entry);
		enqueue_timer(w, t);
	}
}

static void cascade_slot(struct timer_wheel *w, unsigned int level, unsigned int slot)
{
	vacate(w, level, slot);
	refile_list(w, &w->slots[level][slot]);
}

static void refile_far(struct timer_wheel *w)
{
	w->far_min = UINT64_MAX;
	refile_list(w, &w->far);
}

/*
 * The first non-empty slot after now's position, on the lowest level that has
 * one: it holds the earliest timers outside the due list, since every slot of
 * a level starts before any slot of the levels above it.
 */
static bool first_slot(const struct timer_wheel *w, unsigned int *level, unsigned int *slot)
{
	for (unsigned int l = 0; l < TW_LEVELS; l++) {
		int s = next_occupied(w->occupied[l], slot_of(w->now, l) + 1);

		if (s != TW_NO_SLOT) {
			*level = l;
			*slot = (unsigned int)s;
			return true;
		}
	}
	return false;
}

/* The next jiffy after now at which a slot's range starts (a cascade, or on
 * level 0 an expiry) or at which far timers may come into reach. */
static uint64_t next_event(const struct timer_wheel *w)
{
	unsigned int level, slot;

	if (first_slot(w, &level, &slot)) {
		uint64_t block = w->now & ~below_level_mask(level + 1);
		return block | ((uint64_t)slot << level_shift(level));
	}
	if (!list_empty(&w->far))
		return w->far_min & ~((1ULL << TW_REACH_BITS) - 1);
	return UINT64_MAX;
}

/* Move now to j, which must not skip past next_event(). Highest levels
 * first, so timers fall level by level into place before level 0 empties
 * into the due list. */
static void advance_to(struct timer_wheel *w, uint64_t j)
{
	w->now = j;
	if ((j & ((1ULL << TW_REACH_BITS) - 1)) == 0 && !list_empty(&w->far))
		refile_far(w);
	for (int level = TW_LEVELS - 1; level >= 0; level--) {
		if ((j & below_level_mask((unsigned int)level)) == 0)
			cascade_slot(w, (unsigned int)level, slot_of(j, (unsigned int)level));
	}
}

/* Fire the due list, including whatever the callbacks add to it. */
static int fire_due(struct stack *st, struct timer_wheel *w)
{
	int fired = 0;

	while (!list_empty(&w->due)) {
		struct timer *t = list_first_entry(&w->due, struct timer, entry);

		detach_timer(w, t);
		fired++;
		if (w->handlers[t->kind])
			w->handlers[t->kind](st, t);
	}
	return fired;
}

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ns)
{
	uint64_t j = now_ns / NSEC_PER_MSEC;

	w->epoch = j > TW_EPOCH_BACK ? j - TW_EPOCH_BACK : 0;
	w->now = j - w->epoch;
	w->pending = 0;
	for (unsigned int level = 0; level < TW_LEVELS; level++) {
		for (unsigned int slot = 0; slot < TW_SLOTS; slot++) {
			INIT_LIST_HEAD(&w->slots[level][slot]);
			w->slot_min[level][slot] = UINT64_MAX;
		}
		for (unsigned int i = 0; i < TW_SLOTS / 64; i++)
			w->occupied[level][i] = 0;
	}
	INIT_LIST_HEAD(&w->due);
	INIT_LIST_HEAD(&w->far);
	w->due_min = UINT64_MAX;
	w->far_min = UINT64_MAX;
	for (unsigned int k = 0; k < ARRAY_SIZE(w->handlers); k++)
		w->handlers[k] = NULL;
}

static void forget_list(struct list_head *list)
{
	while (!list_empty(list))
		list_del_init(list->next);
}

void timer_wheel_destroy(struct timer_wheel *w)
{
	for (unsigned int level = 0; level < TW_LEVELS; level++) {
		for (unsigned int slot = 0; slot < TW_SLOTS; slot++) {
			forget_list(&w->slots[level][slot]);
			w->slot_min[level][slot] = UINT64_MAX;
		}
		for (unsigned int i = 0; i < TW_SLOTS / 64; i++)
			w->occupied[level][i] = 0;
	}
	forget_list(&w->due);
	forget_list(&w->far);
	w->pending = 0;
	w->due_min = UINT64_MAX;
	w->far_min = UINT64_MAX;
}

void timer_set_handler(struct timer_wheel *w, enum timer_kind kind, timer_fn fn)
{
	if ((unsigned int)kind < TIMER_KINDS)
		w->handlers[kind] = fn;
}

void timer_setup(struct timer *t, enum timer_kind kind)
{
	INIT_LIST_HEAD(&t->entry);
	t->expires = 0;
	t->kind = (unsigned int)kind < TIMER_KINDS ? kind : TIMER_NONE;
	t->where = 0;
}

void mod_timer(struct stack *st, struct timer *t, uint64_t expires_ns)
{
	struct timer_wheel *w = &st->timers;
	uint64_t expires = min_t(uint64_t, wheel_jiffy(w, jiffy_of_ns(expires_ns)), TIMER_MAX_JIFFY);

	/* Re-arming for the same jiffy is common (an RTO pushed back within
	 * one millisecond): nothing moves, as in Linux's mod_timer. */
	if (timer_pending(t) && t->expires == expires)
		return;
	if (timer_pending(t))
		detach_timer(w, t);
	t->expires = expires;
	enqueue_timer(w, t);
	w->pending++;
	stack_events_timer_set(st, expires_ns);
}

bool del_timer(struct stack *st, struct timer *t)
{
	if (!timer_pending(t))
		return false;
	detach_timer(&st->timers, t);
	return true;
}

int timer_wheel_run(struct stack *st, struct timer_wheel *w, uint64_t now_ns)
{
	uint64_t target = wheel_jiffy(w, now_ns / NSEC_PER_MSEC);
	int fired = 0;

	for (;;) {
		fired += fire_due(st, w);
		if (w->now >= target)
			break;
		uint64_t next = next_event(w);
		if (next > target) {
			/* Nothing is due or changes level before target. */
			w->now = target;
			break;
		}
		advance_to(w, next);
	}
	return fired;
}

/*
 * The bounds kept per list are exact until the timer that set one is
 * cancelled; after that they are merely early, which costs the caller one
 * spare wake-up and never a late timer.
 */
uint64_t timer_wheel_next(const struct timer_wheel *w)
{
	unsigned int level, slot;

	if (!list_empty(&w->due))
		return jiffy_to_ns(w->due_min + w->epoch);
	if (first_slot(w, &level, &slot))
		return jiffy_to_ns(w->slot_min[level][slot] + w->epoch);
	if (!list_empty(&w->far))
		return jiffy_to_ns(w->far_min + w->epoch);
	return UINT64_MAX;
}
