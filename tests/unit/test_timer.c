/* The timing wheel: order, rounding, cancel, callbacks, far timers, scale. */
#include "core/compiler.h"
#include "core/stack.h"
#include "core/timer.h"
#include "test.h"

#define MS NSEC_PER_MSEC

/* A timer that logs where and when it fired. */
struct ttimer {
	struct timer t;
	int id;
	struct fire_log *log;
	uint64_t fired_at;          /* the run's now_ns; 0: not fired */
	int fired;
	/* What the callback does. */
	uint64_t rearm_ns;          /* non-zero: re-arm itself this far on */
	int rearm_left;
	struct ttimer *cancel;      /* cancel this one */
	struct ttimer *arm;         /* arm this one at arm_at_ns */
	uint64_t arm_at_ns;
};

struct fire_log {
	int ids[4096];
	int n;
	uint64_t run_now;           /* now_ns of the run in progress */
};

/* The two kinds of test timer, registered by new_stack. */
static void ttimer_fire(struct stack *st, struct timer *t);
static void count_fire(struct stack *st, struct timer *t);

static struct stack *new_stack(uint64_t start_ns)
{
	struct stack *st = calloc(1, sizeof(*st));

	if (st) {
		timer_wheel_init(&st->timers, start_ns);
		timer_set_handler(&st->timers, TIMER_AUX0, ttimer_fire);
		timer_set_handler(&st->timers, TIMER_AUX1, count_fire);
	}
	return st;
}

static void free_stack(struct stack *st)
{
	timer_wheel_destroy(&st->timers);
	free(st);
}

static void ttimer_fire(struct stack *st, struct timer *t)
{
	struct ttimer *tt = container_of(t, struct ttimer, t);
	struct fire_log *log = tt->log;

	tt->fired++;
	tt->fired_at = log->run_now;
	if (log->n < (int)ARRAY_SIZE(log->ids))
		log->ids[log->n++] = tt->id;
	if (tt->cancel)
		del_timer(st, &tt->cancel->t);
	if (tt->arm)
		mod_timer(st, &tt->arm->t, tt->arm_at_ns);
	if (tt->rearm_ns && tt->rearm_left-- > 0)
		mod_timer(st, &tt->t, log->run_now + tt->rearm_ns);
}

static void ttimer_init(struct ttimer *tt, int id, struct fire_log *log)
{
	memset(tt, 0, sizeof(*tt));
	timer_setup(&tt->t, TIMER_AUX0);
	tt->id = id;
	tt->log = log;
}

static int run_at(struct stack *st, struct fire_log *log, uint64_t now_ns)
{
	log->run_now = now_ns;
	return timer_wheel_run(st, &st->timers, now_ns);
}

static void check_log(const struct fire_log *log, const int *want, int n)
{
	CHECK_EQ(log->n, n);
	for (int i = 0; i < n && i < log->n; i++) {
		if (log->ids[i] != want[i]) {
			fprintf(stderr, "  fire %d: got id %d, want %d\n", i, log->ids[i], want[i]);
			CHECK(0);
		}
	}
}

TEST(fires_in_expiry_order_fifo_within_jiffy)
{
	static const struct { int id; uint64_t at_ms; } arms[] = {
		{ 1, 300 }, { 2, 5 }, { 3, 70000 }, { 4, 5 }, { 5, 256 },
		{ 6, 300 }, { 7, 1 }, { 8, 255 }, { 9, 70000 }, { 10, 65536 },
	};
	static const int want[] = { 7, 2, 4, 8, 5, 1, 6, 10, 3, 9 };
	struct fire_log log = { 0 };
	struct ttimer t[ARRAY_SIZE(arms)];
	struct stack *st = new_stack(0);

	REQUIRE(st);
	for (size_t i = 0; i < ARRAY_SIZE(arms); i++) {
		ttimer_init(&t[i], arms[i].id, &log);
		mod_timer(st, &t[i].t, arms[i].at_ms * MS);
	}
	CHECK_EQ(st->timers.pending, ARRAY_SIZE(arms));
	CHECK_EQ(run_at(st, &log, 100000 * MS), (int)ARRAY_SIZE(arms));
	check_log(&log, want, ARRAY_SIZE(want));
	CHECK_EQ(st->timers.pending, 0);
	free_stack(st);
}

/* One jiffy's timers armed at different distances (so first filed on
 * different levels) still fire in arming order. */
TEST(fifo_across_levels)
{
	static const uint64_t starts_ms[] = { 0, 1, 255, 256, 65535, 123456789 };

	for (size_t s = 0; s < ARRAY_SIZE(starts_ms); s++) {
		uint64_t start = starts_ms[s] * MS;
		uint64_t x = start + 70000 * MS;
		struct fire_log log = { 0 };
		struct ttimer t[4];
		struct stack *st = new_stack(start);

		REQUIRE(st);
		for (int i = 0; i < 4; i++)
			ttimer_init(&t[i], i, &log);
		mod_timer(st, &t[0].t, x);                   /* ~70 s away */
		run_at(st, &log, x - 60000 * MS);
		mod_timer(st, &t[1].t, x);                   /* 60 s away */
		run_at(st, &log, x - 200 * MS);
		mod_timer(st, &t[2].t, x);                   /* 200 ms away */
		run_at(st, &log, x);
		mod_timer(st, &t[3].t, x);                   /* due now */
		run_at(st, &log, x);
		static const int want[] = { 0, 1, 2, 3 };
		check_log(&log, want, 4);
		for (int i = 0; i < 4; i++)
			CHECK_EQ(t[i].fired_at, x);
		free_stack(st);
	}
}

TEST(expiry_rounds_up_to_whole_ms)
{
	static const struct {
		uint64_t start, expires, quiet_until, fires_at;
	} cases[] = {
		{ 0, 1, 999999, 1000000 },
		{ 0, 1000000, 999999, 1000000 },           /* on a boundary: that ms */
		{ 0, 1000001, 1999999, 2000000 },
		{ 5 * MS + 3, 5 * MS + 4, 5 * MS + 999999, 6 * MS },
		{ 5 * MS + 3, 7 * MS, 7 * MS - 1, 7 * MS },
		{ 5 * MS, 5 * MS, 5 * MS - 1, 5 * MS },     /* due at once */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fire_log log = { 0 };
		struct ttimer t;
		struct stack *st = new_stack(cases[i].start);

		REQUIRE(st);
		ttimer_init(&t, 1, &log);
		mod_timer(st, &t.t, cases[i].expires);
		if (cases[i].quiet_until >= cases[i].start)
			CHECK_EQ(run_at(st, &log, cases[i].quiet_until), 0);
		CHECK_EQ(run_at(st, &log, cases[i].fires_at), 1);
		CHECK_EQ(t.fired, 1);
		free_stack(st);
	}
}

TEST(cancel_and_rearm)
{
	struct fire_log log = { 0 };
	struct ttimer a, b, c;
	struct stack *st = new_stack(0);

	REQUIRE(st);
	ttimer_init(&a, 1, &log);
	ttimer_init(&b, 2, &log);
	ttimer_init(&c, 3, &log);
	CHECK(!timer_pending(&a.t));
	CHECK(!del_timer(st, &a.t));
	mod_timer(st, &a.t, 10 * MS);
	mod_timer(st, &b.t, 10 * MS);
	mod_timer(st, &c.t, 500 * MS);
	CHECK(timer_pending(&a.t));
	CHECK(del_timer(st, &a.t));
	CHECK(!timer_pending(&a.t));
	CHECK(!del_timer(st, &a.t));
	/* Re-arming a pending timer moves it: later, then earlier. */
	mod_timer(st, &b.t, 600 * MS);
	mod_timer(st, &c.t, 20 * MS);
	CHECK_EQ(st->timers.pending, 2);
	CHECK_EQ(run_at(st, &log, 19 * MS), 0);
	CHECK_EQ(run_at(st, &log, 20 * MS), 1);
	CHECK_EQ(run_at(st, &log, 599 * MS), 0);
	CHECK_EQ(run_at(st, &log, 600 * MS), 1);
	static const int want[] = { 3, 2 };
	check_log(&log, want, 2);
	CHECK_EQ(a.fired, 0);
	CHECK_EQ(st->timers.pending, 0);
	CHECK_EQ(timer_wheel_next(&st->timers), UINT64_MAX);
	free_stack(st);
}

TEST(callback_rearms_itself)
{
	struct fire_log log = { 0 };
	struct ttimer t;
	struct stack *st = new_stack(0);

	REQUIRE(st);
	ttimer_init(&t, 1, &log);
	t.rearm_ns = 10 * MS;
	t.rearm_left = 3;
	mod_timer(st, &t.t, 10 * MS);
	/* One run over a long span fires it once: the re-arm is relative to
	 * the run's time, so it lands in the future. */
	CHECK_EQ(run_at(st, &log, 10 * MS), 1);
	CHECK_EQ(run_at(st, &log, 19 * MS), 0);
	CHECK_EQ(run_at(st, &log, 20 * MS), 1);
	CHECK_EQ(run_at(st, &log, 30 * MS), 1);
	CHECK_EQ(run_at(st, &log, 40 * MS), 1);
	CHECK_EQ(run_at(st, &log, 1000 * MS), 0);
	CHECK_EQ(t.fired, 4);
	CHECK(!timer_pending(&t.t));
	free_stack(st);
}

TEST(callback_cancels_others)
{
	struct fire_log log = { 0 };
	struct ttimer a, b, c, d;
	struct stack *st = new_stack(0);

	REQUIRE(st);
	ttimer_init(&a, 1, &log);
	ttimer_init(&b, 2, &log);
	ttimer_init(&c, 3, &log);
	ttimer_init(&d, 4, &log);
	a.cancel = &b;              /* same jiffy, queued behind a */
	b.cancel = &d;              /* never runs, so d survives */
	c.cancel = &c;              /* cancelling itself while firing: no-op */
	mod_timer(st, &a.t, 5 * MS);
	mod_timer(st, &b.t, 5 * MS);
	mod_timer(st, &c.t, 5 * MS);
	mod_timer(st, &d.t, 900 * MS);
	CHECK_EQ(run_at(st, &log, 1000 * MS), 3);
	static const int want[] = { 1, 3, 4 };
	check_log(&log, want, 3);
	CHECK_EQ(b.fired, 0);

	/* A later timer cancelled by an earlier one in the same long run. */
	struct ttimer e, f;
	ttimer_init(&e, 5, &log);
	ttimer_init(&f, 6, &log);
	e.cancel = &f;
	mod_timer(st, &e.t, 1100 * MS);
	mod_timer(st, &f.t, 100000 * MS);
	CHECK_EQ(run_at(st, &log, 200000 * MS), 1);
	CHECK_EQ(f.fired, 0);
	CHECK_EQ(st->timers.pending, 0);
	free_stack(st);
}

TEST(callback_arms_due_and_past_timers_same_run)
{
	struct fire_log log = { 0 };
	struct ttimer a, b, c, later;
	struct stack *st = new_stack(1000 * MS);

	REQUIRE(st);
	ttimer_init(&a, 1, &log);
	ttimer_init(&b, 2, &log);
	ttimer_init(&c, 3, &log);
	ttimer_init(&later, 4, &log);
	mod_timer(st, &a.t, 1010 * MS);
	a.arm = &b;
	a.arm_at_ns = 1010 * MS;    /* the jiffy being run */
	b.arm = &c;
	b.arm_at_ns = 3 * MS;       /* long past */
	c.arm = &later;
	c.arm_at_ns = 1011 * MS;
	CHECK_EQ(run_at(st, &log, 1010 * MS), 3);
	static const int want[] = { 1, 2, 3 };
	check_log(&log, want, 3);
	CHECK(timer_pending(&later.t));
	CHECK_EQ(timer_wheel_next(&st->timers), 1011 * MS);
	CHECK_EQ(run_at(st, &log, 1011 * MS), 1);
	free_stack(st);
}

TEST(far_future_timers)
{
	static const uint64_t day = 86400ULL * NSEC_PER_SEC;
	static const uint64_t starts[] = { 0, 987654321 * MS + 17, 1ULL << 62 };
	static const uint64_t delays[] = { 10 * day, 49 * day + 12345 * MS, 100 * day, 3650 * day };

	for (size_t s = 0; s < ARRAY_SIZE(starts); s++) {
		for (size_t d = 0; d < ARRAY_SIZE(delays); d++) {
			struct fire_log log = { 0 };
			struct ttimer t, near;
			uint64_t start = starts[s], x = (start + delays[d]) / MS * MS;
			struct stack *st = new_stack(start);
			int steps = 0;

			REQUIRE(st);
			ttimer_init(&t, 1, &log);
			ttimer_init(&near, 2, &log);
			mod_timer(st, &t.t, x);
			mod_timer(st, &near.t, start + 3 * MS);
			/* Drive it as a stack would: run at the next deadline. */
			for (uint64_t next; (next = timer_wheel_next(&st->timers)) != UINT64_MAX; steps++) {
				CHECK(next <= x);
				if (next > x || steps > 200)
					break;
				run_at(st, &log, next);
			}
			CHECK_EQ(t.fired, 1);
			CHECK_EQ(t.fired_at, x);
			CHECK_EQ(near.fired, 1);
			CHECK_EQ(steps, 2);

			/* And with one jump straight past it. */
			timer_wheel_destroy(&st->timers);
			timer_wheel_init(&st->timers, start);
			t.fired = 0;
			mod_timer(st, &t.t, x);
			CHECK_EQ(run_at(st, &log, x - 1), 0);
			CHECK_EQ(run_at(st, &log, x + 5 * day), 1);
			free_stack(st);
		}
	}
}

/* A timer's expiry in the test is ground truth: jiffy, rounded up. */
static uint64_t jiffy_ns(uint64_t ns) { return (ns + MS - 1) / MS * MS; }

struct counting_timer {
	struct timer t;
	uint64_t expires_ns;        /* rounded up */
	uint64_t *fired;
	uint64_t *late;             /* fired in a later run than its own */
	uint64_t *early;
	const uint64_t *window;     /* [previous run, this run] */
};

static void count_fire(struct stack *st, struct timer *t)
{
	struct counting_timer *ct = container_of(t, struct counting_timer, t);

	(void)st;
	(*ct->fired)++;
	if (ct->expires_ns > ct->window[1])
		(*ct->early)++;
	else if (ct->expires_ns <= ct->window[0])
		(*ct->late)++;
}

/* An expiry past what struct timer holds (2^44 ms from the wheel's epoch,
 * here the clock's zero) is clamped to the last jiffy it holds, never cut
 * down to an early one. */
TEST(expiry_beyond_44_bits_clamped_not_wrapped)
{
	struct fire_log log = { 0 };
	struct ttimer t;
	struct stack *st = new_stack(5 * MS);

	REQUIRE(st);
	ttimer_init(&t, 1, &log);
	mod_timer(st, &t.t, UINT64_MAX - 5);
	CHECK_EQ(timer_expires_jiffy(&st->timers, &t.t), TIMER_MAX_JIFFY);
	CHECK_EQ(run_at(st, &log, 100000ULL * 86400 * NSEC_PER_SEC), 0);
	CHECK(timer_pending(&t.t));
	CHECK_EQ(run_at(st, &log, TIMER_MAX_JIFFY * MS), 1);
	free_stack(st);
}

/* A clock that starts near the end of its range (a virtual clock may):
 * timers still fire when due, not at once, since the wheel counts from an
 * epoch near its creation. */
TEST(clock_near_its_end_fires_on_time)
{
	struct fire_log log = { 0 };
	struct ttimer t;
	uint64_t start = UINT64_MAX - 86400ULL * NSEC_PER_SEC;
	struct stack *st = new_stack(start);

	REQUIRE(st);
	ttimer_init(&t, 1, &log);
	mod_timer(st, &t.t, start + 10 * MS);
	CHECK_EQ(run_at(st, &log, start + 9 * MS), 0);
	CHECK_EQ(run_at(st, &log, start + 11 * MS), 1);
	CHECK(timer_wheel_next(&st->timers) == UINT64_MAX);
	free_stack(st);
}

TEST(million_timers)
{
	enum { N = 1000000 };
	struct counting_timer *ct = calloc(N, sizeof(*ct));
	struct stack *st = new_stack(5 * NSEC_PER_SEC);
	uint64_t fired = 0, late = 0, early = 0, window[2] = { 0, 0 };
	struct prng r;

	REQUIRE(ct && st);
	prng_seed(&r, 1);
	for (size_t i = 0; i < N; i++) {
		timer_setup(&ct[i].t, TIMER_AUX1);
		/* Spans from 200 ms to 60 days, so every level and the far list
		 * are used; microsecond resolution exercises the rounding. */
		static const uint64_t span_us[] = { 200000ULL, 60000000ULL, 10800000000ULL,
						    5184000000000ULL };
		uint64_t at = 5 * NSEC_PER_SEC + prng_u64(&r) % span_us[i % 4] * 1000;
		ct[i].expires_ns = jiffy_ns(at);
		ct[i].fired = &fired;
		ct[i].late = &late;
		ct[i].early = &early;
		ct[i].window = window;
		mod_timer(st, &ct[i].t, at);
	}
	CHECK_EQ(st->timers.pending, N);
	size_t cancelled = 0;
	for (size_t i = 0; i < N; i += 2)
		cancelled += del_timer(st, &ct[i].t);
	CHECK_EQ(cancelled, N / 2);
	CHECK_EQ(st->timers.pending, N / 2);

	/* Run in uneven steps; every timer must fire in the run covering it. */
	uint64_t now = 5 * NSEC_PER_SEC;
	int total = 0;
	/* Bounded, so a timer that never fires fails rather than hangs. */
	while (st->timers.pending > 0 && now < 70ULL * 86400 * NSEC_PER_SEC) {
		window[0] = now;
		/* Mostly short steps, some of hours. */
		now += ((uint64_t)prng_below(&r, 1000000) + 1) << prng_below(&r, 24);
		window[1] = now;
		total += timer_wheel_run(st, &st->timers, now);
	}
	CHECK_EQ(fired, N / 2);
	CHECK_EQ(total, N / 2);
	CHECK_EQ(late, 0);
	CHECK_EQ(early, 0);
	size_t still_pending = 0;
	for (size_t i = 0; i < N; i++)
		still_pending += timer_pending(&ct[i].t);
	CHECK_EQ(still_pending, 0);
	free_stack(st);
	free(ct);
}

TEST(next_is_exact)
{
	static const struct { uint64_t start, expires, want; } cases[] = {
		{ 0, 5 * MS + 300, 6 * MS },
		{ 0, 255 * MS, 255 * MS },
		{ 100 * MS + 5, 101 * MS, 101 * MS },
		{ 1000 * MS, 1020 * MS, 1020 * MS },
		{ 1000 * MS, 500 * MS, 500 * MS },          /* already due */
		/* Beyond level 0 too, while nothing was cancelled. */
		{ 1000 * MS, 1200 * MS, 1200 * MS },
		{ 0, 86400 * NSEC_PER_SEC, 86400 * NSEC_PER_SEC },
		{ 7, 400ULL * 86400 * NSEC_PER_SEC + 1, 400ULL * 86400 * NSEC_PER_SEC + MS },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fire_log log = { 0 };
		struct ttimer t, later;
		struct stack *st = new_stack(cases[i].start);

		REQUIRE(st);
		CHECK_EQ(timer_wheel_next(&st->timers), UINT64_MAX);
		ttimer_init(&t, 1, &log);
		ttimer_init(&later, 2, &log);
		mod_timer(st, &later.t, cases[i].expires + 100000 * MS);
		mod_timer(st, &t.t, cases[i].expires);
		CHECK_EQ(timer_wheel_next(&st->timers), cases[i].want);
		free_stack(st);
	}
}

TEST(next_after_cancel_is_early_not_late)
{
	struct fire_log log = { 0 };
	struct ttimer a, b;
	struct stack *st = new_stack(0);

	REQUIRE(st);
	ttimer_init(&a, 1, &log);
	ttimer_init(&b, 2, &log);
	mod_timer(st, &a.t, 70000 * MS);
	mod_timer(st, &b.t, 70500 * MS);            /* same level-1 slot as a */
	del_timer(st, &a.t);
	uint64_t next = timer_wheel_next(&st->timers);
	CHECK(next <= 70500 * MS);
	/* Running there fires nothing, and then the answer is exact. */
	CHECK_EQ(run_at(st, &log, next), 0);
	CHECK_EQ(timer_wheel_next(&st->timers), 70500 * MS);
	CHECK_EQ(run_at(st, &log, 70500 * MS), 1);
	free_stack(st);
}

/* Random arming, cancelling and running, driven only by timer_wheel_next:
 * it must never be later than the true earliest expiry, so every timer fires
 * in a run at exactly its own jiffy. */
TEST(next_never_late_on_random_timers)
{
	enum { N = 2000 };
	struct ttimer *t = calloc(N, sizeof(*t));
	struct fire_log log = { 0 };
	struct stack *st = new_stack(777777777);
	struct prng r;
	uint64_t now = 777777777;
	int exact_fires = 0, fires = 0, bad_next = 0;

	REQUIRE(t && st);
	prng_seed(&r, 2024);
	for (int i = 0; i < N; i++)
		ttimer_init(&t[i], i, &log);
	for (int step = 0; step < 20000; step++) {
		struct ttimer *x = &t[prng_below(&r, N)];
		uint32_t op = prng_below(&r, 4);

		if (op == 0) {
			del_timer(st, &x->t);
		} else if (op == 1) {
			/* Scales from sub-ms to hours. */
			uint64_t span = 1000ULL << prng_below(&r, 34);
			mod_timer(st, &x->t, now + prng_u64(&r) % span);
			x->fired_at = 0;
		} else {
			uint64_t truth = UINT64_MAX;

			for (int i = 0; i < N; i++) {
				if (timer_pending(&t[i].t) && timer_expires_jiffy(&st->timers, &t[i].t) * MS < truth)
					truth = timer_expires_jiffy(&st->timers, &t[i].t) * MS;
			}
			uint64_t next = timer_wheel_next(&st->timers);
			bad_next += next > truth;
			if (next == UINT64_MAX)
				continue;
			if (next > now)
				now = next;
			log.n = 0;
			fires += run_at(st, &log, now);
			for (int i = 0; i < log.n; i++)
				exact_fires += t[log.ids[i]].fired_at == timer_expires_jiffy(&st->timers, &t[log.ids[i]].t) * MS;
		}
	}
	CHECK_EQ(bad_next, 0);
	CHECK(fires > 1000);
	CHECK_EQ(exact_fires, fires);
	free_stack(st);
	free(t);
}

TEST(destroy_leaves_timers_idle)
{
	struct fire_log log = { 0 };
	struct ttimer a, b, c;
	struct stack *st = new_stack(0);

	REQUIRE(st);
	ttimer_init(&a, 1, &log);
	ttimer_init(&b, 2, &log);
	ttimer_init(&c, 3, &log);
	mod_timer(st, &a.t, 0);
	mod_timer(st, &b.t, 300 * MS);
	mod_timer(st, &c.t, 200ULL * 86400 * NSEC_PER_SEC);
	timer_wheel_destroy(&st->timers);
	CHECK(!timer_pending(&a.t) && !timer_pending(&b.t) && !timer_pending(&c.t));
	CHECK_EQ(st->timers.pending, 0);
	CHECK_EQ(timer_wheel_next(&st->timers), UINT64_MAX);
	CHECK_EQ(run_at(st, &log, UINT64_MAX), 0);
	free(st);
}

TEST(clock_going_backwards_fires_nothing_early)
{
	struct fire_log log = { 0 };
	struct ttimer a;
	struct stack *st = new_stack(50 * MS);

	REQUIRE(st);
	ttimer_init(&a, 1, &log);
	mod_timer(st, &a.t, 60 * MS);
	CHECK_EQ(run_at(st, &log, 10 * MS), 0);
	CHECK_EQ(run_at(st, &log, 59 * MS), 0);
	CHECK_EQ(run_at(st, &log, 60 * MS), 1);
	free_stack(st);
}

int main(void)
{
	RUN(fires_in_expiry_order_fifo_within_jiffy);
	RUN(fifo_across_levels);
	RUN(expiry_rounds_up_to_whole_ms);
	RUN(cancel_and_rearm);
	RUN(callback_rearms_itself);
	RUN(callback_cancels_others);
	RUN(callback_arms_due_and_past_timers_same_run);
	RUN(far_future_timers);
	RUN(expiry_beyond_44_bits_clamped_not_wrapped);
	RUN(clock_near_its_end_fires_on_time);
	RUN(million_timers);
	RUN(next_is_exact);
	RUN(next_after_cancel_is_early_not_late);
	RUN(next_never_late_on_random_timers);
	RUN(destroy_leaves_timers_idle);
	RUN(clock_going_backwards_fires_nothing_early);
	return TEST_SUMMARY();
}
