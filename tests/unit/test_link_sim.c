/* The simulated wire: timing, order and the seeded fault model. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include "synack/synack.h"
#include "core/compiler.h"
#include "link/fault.h"
#include "../test.h"

#define MS 1000000ULL
#define US 1000ULL
#define MAX_FRAMES 12000

/* What one end received while the clock was driven from deadline to deadline. */
struct rx_log {
	size_t n;
	uint32_t id[MAX_FRAMES];
	uint64_t at[MAX_FRAMES];
	uint8_t data[MAX_FRAMES > 600 ? 600 : MAX_FRAMES][128]; /* first 600 frames' bytes */
	size_t len[MAX_FRAMES];
};

struct rig {
	struct synack_clock *clk;
	struct synack_sim_wire *w;
	struct synack_link *a, *b;
};

static int rig_open(struct rig *r, const struct synack_sim_config *cfg)
{
	int err;

	r->clk = synack_clock_new_virtual(0);
	if (!r->clk)
		return -ENOMEM;
	err = synack_sim_wire_new(r->clk, cfg, &r->w);
	if (err < 0) {
		synack_clock_free(r->clk);
		return err;
	}
	r->a = synack_sim_wire_end(r->w, 0);
	r->b = synack_sim_wire_end(r->w, 1);
	return 0;
}

static void rig_close(struct rig *r)
{
	synack_sim_wire_free(r->w);
	synack_clock_free(r->clk);
}

/* A frame whose bytes 14..17 carry id and the rest a pattern derived from it. */
static void make_frame(uint8_t *f, size_t len, uint32_t id)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 7 + id * 13);
	f[12] = 0x08;
	f[13] = 0x00;
	if (len >= 18)
		memcpy(f + 14, &id, 4);
}

static uint32_t frame_id(const uint8_t *f)
{
	uint32_t id;

	memcpy(&id, f + 14, 4);
	return id;
}

static int send_id(struct synack_link *l, size_t len, uint32_t id)
{
	uint8_t f[1514];

	make_frame(f, len, id);
	return l->ops->send(l, f, len);
}

static void log_frame(struct rx_log *log, const uint8_t *buf, int n, uint64_t now)
{
	if (log->n >= MAX_FRAMES)
		return;
	log->id[log->n] = frame_id(buf);
	log->at[log->n] = now;
	log->len[log->n] = (size_t)n;
	if (log->n < 600)
		memcpy(log->data[log->n], buf, (size_t)n < 128 ? (size_t)n : 128);
	log->n++;
}

/* Receive everything due now on l. */
static void recv_now(struct rig *r, struct synack_link *l, struct rx_log *log)
{
	uint8_t buf[1514];
	int n;

	while ((n = l->ops->recv(l, buf, sizeof(buf))) > 0)
		log_frame(log, buf, n, synack_clock_now(r->clk));
}

/* Deliver every frame due up to until, each at exactly its due time, then
 * leave the clock at until. */
static void run_until(struct rig *r, struct synack_link *l, struct rx_log *log, uint64_t until)
{
	uint64_t t;

	recv_now(r, l, log);
	while ((t = l->ops->next_deadline(l)) != SYNACK_NEVER && t <= until) {
		if (t > synack_clock_now(r->clk))
			synack_clock_set(r->clk, t);
		recv_now(r, l, log);
	}
	if (until != SYNACK_NEVER && until > synack_clock_now(r->clk))
		synack_clock_set(r->clk, until);
}

static void drain(struct rig *r, struct synack_link *l, struct rx_log *log)
{
	run_until(r, l, log, SYNACK_NEVER);
}

static struct rx_log *log_new(void)
{
	return calloc(1, sizeof(struct rx_log));
}

TEST(defaults)
{
	struct rig r;
	static const uint8_t mac0[6] = { 2, 0, 0, 0, 0, 1 }, mac1[6] = { 2, 0, 0, 0, 0, 2 };

	REQUIRE(rig_open(&r, NULL) == 0);
	CHECK_MEM(r.a->mac, mac0, 6);
	CHECK_MEM(r.b->mac, mac1, 6);
	CHECK_EQ(r.a->mtu, 1500);
	CHECK_EQ(r.b->mtu, 1500);
	CHECK_STR(r.a->ops->kind, "sim");
	CHECK_EQ(r.a->ops->wait_fd(r.a), -1);
	CHECK(r.a->ops->next_deadline(r.a) == SYNACK_NEVER);
	CHECK(r.b->ops->next_deadline(r.b) == SYNACK_NEVER);
	CHECK(synack_sim_wire_end(r.w, 2) == NULL);
	CHECK(synack_sim_wire_end(r.w, -1) == NULL);
	CHECK(synack_sim_wire_end(NULL, 0) == NULL);
	struct synack_sim_stats s = synack_sim_wire_stats(r.w, 2);
	CHECK_EQ(s.sent + s.delivered + s.lost, 0);
	/* Destroying an end is a no-op: the wire owns it. */
	synack_link_destroy(r.a);
	synack_link_destroy(NULL);
	CHECK_EQ(send_id(r.a, 60, 1), 0);
	rig_close(&r);
	synack_sim_wire_free(NULL);
}

TEST(bad_config)
{
	static const struct {
		double loss, dup, reorder, corrupt;
		uint32_t mtu;
		int want;
	} cases[] = {
		{ 0, 0, 0, 0, 0, 0 },
		{ 1, 1, 1, 1, 9000, 0 },
		{ 0, 0, 0, 0, 68, 0 },
		{ 0, 0, 0, 0, 65535, 0 },
		{ -0.1, 0, 0, 0, 0, -EINVAL },
		{ 1.1, 0, 0, 0, 0, -EINVAL },
		{ 0, 2, 0, 0, 0, -EINVAL },
		{ 0, 0, -1e-9, 0, 0, -EINVAL },
		{ 0, 0, 0, 1.0000001, 0, -EINVAL },
		{ NAN, 0, 0, 0, 0, -EINVAL },
		{ 0, 0, 0, NAN, 0, -EINVAL },
		{ 0, 0, 0, 0, 67, -EINVAL },
		{ 0, 0, 0, 0, 65536, -EINVAL },
	};
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct synack_sim_wire *w;

	REQUIRE(clk);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct synack_sim_config c = { .loss = cases[i].loss, .duplicate = cases[i].dup,
					       .reorder = cases[i].reorder, .corrupt = cases[i].corrupt,
					       .mtu = cases[i].mtu };
		int got;

		w = NULL;
		got = synack_sim_wire_new(clk, &c, &w);
		if (got != cases[i].want)
			fprintf(stderr, "case %zu\n", i);
		CHECK_EQ(got, cases[i].want);
		CHECK(got == 0 ? w != NULL : w == NULL);
		synack_sim_wire_free(w);
	}
	struct synack_sim_config ok = { 0 };
	CHECK_EQ(synack_sim_wire_new(NULL, &ok, &w), -EINVAL);
	CHECK_EQ(synack_sim_wire_new(clk, &ok, NULL), -EINVAL);
	synack_clock_free(clk);
}

TEST(frame_length_limits)
{
	static const struct {
		uint32_t mtu;
		size_t len;
		int want;
	} cases[] = {
		{ 0, 0, -EINVAL },     { 0, 13, -EINVAL },     { 0, 14, 0 },
		{ 0, 1514, 0 },        { 0, 1515, -EMSGSIZE }, { 9000, 9014, 0 },
		{ 9000, 9015, -EMSGSIZE }, { 68, 82, 0 },      { 68, 83, -EMSGSIZE },
	};
	uint8_t frame[9100] = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct synack_sim_config c = { .mtu = cases[i].mtu };
		struct rig r;

		REQUIRE(rig_open(&r, &c) == 0);
		CHECK_EQ(r.a->ops->send(r.a, frame, cases[i].len), cases[i].want);
		CHECK_EQ(synack_sim_wire_stats(r.w, 0).sent, cases[i].want == 0 ? 1 : 0);
		rig_close(&r);
	}
	struct rig r;
	uint8_t buf[64];
	REQUIRE(rig_open(&r, NULL) == 0);
	CHECK_EQ(r.a->ops->send(r.a, NULL, 60), -EINVAL);
	CHECK_EQ(r.a->ops->recv(r.a, NULL, 60), -EINVAL);
	CHECK_EQ(r.a->ops->recv(r.a, buf, 0), -EINVAL);
	CHECK_EQ(r.a->ops->recv(r.a, buf, sizeof(buf)), 0);
	rig_close(&r);
}

TEST(delay_is_exact)
{
	struct synack_sim_config c = { .delay_ns = 5 * MS };
	struct rig r;
	uint8_t sent[100], buf[200];

	REQUIRE(rig_open(&r, &c) == 0);
	synack_clock_set(r.clk, 1000);
	make_frame(sent, sizeof(sent), 9);
	CHECK_EQ(r.a->ops->send(r.a, sent, sizeof(sent)), 0);
	CHECK(r.b->ops->next_deadline(r.b) == 1000 + 5 * MS);
	CHECK(r.a->ops->next_deadline(r.a) == SYNACK_NEVER);
	synack_clock_set(r.clk, 1000 + 5 * MS - 1);
	CHECK_EQ(r.b->ops->recv(r.b, buf, sizeof(buf)), 0);
	synack_clock_set(r.clk, 1000 + 5 * MS);
	CHECK_EQ(r.a->ops->recv(r.a, buf, sizeof(buf)), 0);
	CHECK_EQ(r.b->ops->recv(r.b, buf, sizeof(buf)), 100);
	CHECK_MEM(buf, sent, sizeof(sent));
	CHECK(r.b->ops->next_deadline(r.b) == SYNACK_NEVER);
	CHECK_EQ(r.b->ops->recv(r.b, buf, sizeof(buf)), 0);

	/* The other direction, and truncation to cap. */
	CHECK_EQ(r.b->ops->send(r.b, sent, sizeof(sent)), 0);
	CHECK(r.a->ops->next_deadline(r.a) == 1000 + 10 * MS);
	synack_clock_advance(r.clk, 5 * MS);
	CHECK_EQ(r.a->ops->recv(r.a, buf, 20), 20);
	CHECK_MEM(buf, sent, 20);
	CHECK_EQ(synack_sim_wire_stats(r.w, 0).delivered, 1);
	CHECK_EQ(synack_sim_wire_stats(r.w, 1).delivered, 1);
	CHECK_EQ(synack_sim_wire_stats(r.w, 1).sent, 1);
	rig_close(&r);
}

TEST(serialisation_rounding)
{
	static const struct {
		size_t len;
		uint64_t bps, want;
	} cases[] = {
		{ 1000, 0, 0 },
		{ 1000, 8000000, 1000000 },          /* 1 us per byte */
		{ 1500, 1000000000, 12000 },         /* 1 Gbit/s */
		{ 14, 3, 37333333334ULL },           /* 112e9 / 3, rounded up */
		{ 1, 1, 8000000000ULL },
		{ 65549, 1, 524392000000000ULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK(fault_serialisation_ns(cases[i].len, cases[i].bps) == cases[i].want);
}

TEST(bandwidth_queues_frames)
{
	struct rx_log *log = log_new();

	REQUIRE(log);
	/* 8 Mbit/s: a 1000-byte frame takes exactly 1 ms to clock out. */
	struct synack_sim_config c = { .delay_ns = 2 * MS, .bandwidth_bps = 8000000 };
	static const uint64_t want[] = { 3 * MS, 4 * MS, 5 * MS, 13 * MS, 13 * MS + 500 * US };
	struct rig r;

	REQUIRE(rig_open(&r, &c) == 0);
	for (uint32_t i = 0; i < 3; i++)
		CHECK_EQ(send_id(r.a, 1000, i), 0);
	CHECK(r.b->ops->next_deadline(r.b) == 3 * MS);
	/* Once the link is idle, a new frame starts at once. */
	synack_clock_set(r.clk, 10 * MS);
	CHECK_EQ(send_id(r.a, 1000, 3), 0);
	synack_clock_set(r.clk, 10 * MS + 500 * US);
	CHECK_EQ(send_id(r.a, 500, 4), 0); /* waits 500 us for frame 3, then 500 us */
	/* Frames 0-2 are already overdue at 10.5 ms: all three come now. */
	memset(log, 0, sizeof(*log));
	drain(&r, r.b, log);
	REQUIRE(log->n == 5);
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ(log->id[i], i);
	CHECK(log->at[3] == want[3]);
	CHECK(log->at[4] == want[4]);

	/* Frame by frame: each arrives at exactly its due time. */
	rig_close(&r);
	REQUIRE(rig_open(&r, &c) == 0);
	for (uint32_t i = 0; i < 3; i++)
		CHECK_EQ(send_id(r.a, 1000, i), 0);
	memset(log, 0, sizeof(*log));
	drain(&r, r.b, log);
	REQUIRE(log->n == 3);
	for (size_t i = 0; i < 3; i++)
		CHECK(log->at[i] == want[i]);
	rig_close(&r);
	free(log);
}

TEST(jitter_stays_in_range)
{
	struct rx_log *log = log_new();

	REQUIRE(log);
	struct synack_sim_config c = { .delay_ns = 1 * MS, .jitter_ns = 100 * US, .seed = 7 };
	struct rig r;
	uint64_t lo = UINT64_MAX, hi = 0, t = 0;
	bool inverted = false;

	REQUIRE(rig_open(&r, &c) == 0);
	memset(log, 0, sizeof(*log));
	/* One at a time, every 10 us: jitter may reorder neighbours. */
	for (uint32_t i = 0; i < 500; i++) {
		run_until(&r, r.b, log, t);
		CHECK_EQ(send_id(r.a, 60, i), 0);
		t += 10 * US;
	}
	drain(&r, r.b, log);
	REQUIRE(log->n == 500);
	for (size_t i = 0; i < log->n; i++) {
		uint64_t d = log->at[i] - log->id[i] * 10 * US;

		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		if (i > 0 && log->id[i] < log->id[i - 1])
			inverted = true;
		if (i > 0)
			CHECK(log->at[i] >= log->at[i - 1]);
	}
	CHECK(lo >= 1 * MS);
	CHECK(hi <= 1 * MS + 100 * US);
	CHECK(hi - lo > 80 * US); /* 500 uniform draws spread over the range */
	CHECK(inverted);
	rig_close(&r);
	free(log);
}

TEST(fifo_order_and_ties)
{
	struct rx_log *log = log_new();

	REQUIRE(log);
	struct synack_sim_config c = { .delay_ns = 3 * MS };
	struct rig r;

	REQUIRE(rig_open(&r, &c) == 0);
	memset(log, 0, sizeof(*log));
	/* 300 frames at the same instant: equal due times, delivered in send order. */
	for (uint32_t i = 0; i < 300; i++)
		CHECK_EQ(send_id(r.a, 64 + i % 50, i), 0);
	synack_clock_set(r.clk, 3 * MS);
	recv_now(&r, r.b, log);
	REQUIRE(log->n == 300);
	for (size_t i = 0; i < 300; i++) {
		CHECK_EQ(log->id[i], i);
		CHECK_EQ(log->len[i], 64 + i % 50);
	}
	CHECK(r.b->ops->next_deadline(r.b) == SYNACK_NEVER);
	rig_close(&r);
	free(log);
}

/* Send n frames one by one and record which arrived (bitmap by id). */
static void run_lossy(uint64_t seed, double loss, uint32_t n, uint8_t *got,
		      struct synack_sim_stats *st)
{
	struct synack_sim_config c = { .loss = loss, .seed = seed };
	struct rig r;
	uint8_t buf[128];

	memset(got, 0, n);
	if (rig_open(&r, &c) < 0)
		return;
	for (uint32_t i = 0; i < n; i++) {
		int len;

		send_id(r.a, 64, i);
		len = r.b->ops->recv(r.b, buf, sizeof(buf));
		if (len == 64 && frame_id(buf) == i)
			got[i] = 1;
	}
	*st = synack_sim_wire_stats(r.w, 0);
	rig_close(&r);
}

TEST(loss_rate_and_seed)
{
	enum { N = 10000 };
	uint8_t a[N], b[N], c[N];
	struct synack_sim_stats sa = { 0 }, sb = { 0 }, sc = { 0 };
	size_t received = 0;

	run_lossy(42, 0.25, N, a, &sa);
	run_lossy(42, 0.25, N, b, &sb);
	run_lossy(43, 0.25, N, c, &sc);
	for (size_t i = 0; i < N; i++)
		received += a[i];
	CHECK_EQ(sa.sent, N);
	CHECK_EQ(sa.lost + sa.delivered, N);
	CHECK_EQ(sa.delivered, received);
	CHECK(sa.lost > 2300 && sa.lost < 2700); /* 25% +- 4 sigma */
	CHECK_MEM(a, b, N);
	CHECK_EQ(sb.lost, sa.lost);
	CHECK(memcmp(a, c, N) != 0);

	run_lossy(1, 1.0, N, a, &sa);
	CHECK_EQ(sa.lost, N);
	CHECK_EQ(sa.delivered, 0);
	run_lossy(1, 0.0, N, a, &sa);
	CHECK_EQ(sa.lost, 0);
	CHECK_EQ(sa.delivered, N);
}

TEST(duplicate_comes_right_after)
{
	struct rx_log *log = log_new();

	REQUIRE(log);
	struct synack_sim_config c = { .delay_ns = 1 * MS, .duplicate = 1.0, .seed = 3 };
	struct rig r;

	REQUIRE(rig_open(&r, &c) == 0);
	memset(log, 0, sizeof(*log));
	for (uint32_t i = 0; i < 50; i++)
		CHECK_EQ(send_id(r.a, 80, i), 0);
	drain(&r, r.b, log);
	REQUIRE(log->n == 100);
	for (size_t i = 0; i < 100; i++) {
		CHECK_EQ(log->id[i], i / 2);
		CHECK(log->at[i] == 1 * MS);
	}
	for (size_t i = 0; i < 100; i += 2)
		CHECK_MEM(log->data[i], log->data[i + 1], 80);
	struct synack_sim_stats s = synack_sim_wire_stats(r.w, 0);
	CHECK_EQ(s.sent, 50);
	CHECK_EQ(s.duplicated, 50);
	CHECK_EQ(s.delivered, 100);
	rig_close(&r);

	/* Half the time: the count matches the stats. */
	c.duplicate = 0.5;
	REQUIRE(rig_open(&r, &c) == 0);
	memset(log, 0, sizeof(*log));
	for (uint32_t i = 0; i < 1000; i++)
		send_id(r.a, 64, i);
	drain(&r, r.b, log);
	s = synack_sim_wire_stats(r.w, 0);
	CHECK_EQ(log->n, 1000 + s.duplicated);
	CHECK(s.duplicated > 400 && s.duplicated < 600);
	rig_close(&r);
	free(log);
}

TEST(reorder_holds_back)
{
	struct rx_log *log = log_new();

	REQUIRE(log);
	struct synack_sim_config c = { .delay_ns = 1 * MS, .reorder = 1.0 };
	struct rig r;
	size_t held = 0;
	bool inverted = false;

	/* Default hold-back: 2 * delay + 1 ms. */
	REQUIRE(rig_open(&r, &c) == 0);
	CHECK_EQ(send_id(r.a, 64, 0), 0);
	CHECK(r.b->ops->next_deadline(r.b) == 4 * MS);
	CHECK_EQ(synack_sim_wire_stats(r.w, 0).reordered, 1);
	rig_close(&r);

	c.reorder = 0.3;
	c.reorder_ns = 10 * MS;
	c.seed = 11;
	REQUIRE(rig_open(&r, &c) == 0);
	memset(log, 0, sizeof(*log));
	for (uint32_t i = 0; i < 200; i++) {
		run_until(&r, r.b, log, i * 100 * US);
		send_id(r.a, 64, i);
	}
	drain(&r, r.b, log);
	REQUIRE(log->n == 200);
	for (size_t i = 0; i < log->n; i++) {
		uint64_t d = log->at[i] - log->id[i] * 100 * US;

		CHECK(d == 1 * MS || d == 11 * MS);
		held += d == 11 * MS;
		if (i > 0 && log->id[i] < log->id[i - 1])
			inverted = true;
	}
	CHECK_EQ(held, synack_sim_wire_stats(r.w, 0).reordered);
	CHECK(held > 30 && held < 90);
	CHECK(inverted);
	rig_close(&r);
	free(log);
}

static int popcount_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	int bits = 0;

	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount((unsigned)(a[i] ^ b[i]));
	return bits;
}

TEST(corrupt_flips_exactly_one_bit)
{
	struct synack_sim_config c = { .corrupt = 1.0, .seed = 5 };
	struct rig r;
	uint8_t sent[120], buf[200];
	uint8_t seen_byte[120] = { 0 };
	size_t distinct = 0;

	REQUIRE(rig_open(&r, &c) == 0);
	make_frame(sent, sizeof(sent), 77);
	for (int i = 0; i < 500; i++) {
		CHECK_EQ(r.a->ops->send(r.a, sent, sizeof(sent)), 0);
		REQUIRE(r.b->ops->recv(r.b, buf, sizeof(buf)) == (int)sizeof(sent));
		CHECK_EQ(popcount_diff(sent, buf, sizeof(sent)), 1);
		for (size_t k = 0; k < sizeof(sent); k++)
			if (sent[k] != buf[k] && !seen_byte[k]++)
				distinct++;
	}
	CHECK(distinct > 90); /* the bit is drawn over the whole frame */
	CHECK_EQ(synack_sim_wire_stats(r.w, 0).corrupted, 500);
	rig_close(&r);

	/* With duplication too: the first copy is corrupted, the second is not. */
	c.duplicate = 1.0;
	REQUIRE(rig_open(&r, &c) == 0);
	CHECK_EQ(r.a->ops->send(r.a, sent, sizeof(sent)), 0);
	CHECK_EQ(r.b->ops->recv(r.b, buf, sizeof(buf)), (int)sizeof(sent));
	CHECK_EQ(popcount_diff(sent, buf, sizeof(sent)), 1);
	CHECK_EQ(r.b->ops->recv(r.b, buf, sizeof(buf)), (int)sizeof(sent));
	CHECK_MEM(sent, buf, sizeof(sent));
	rig_close(&r);
}

TEST(queue_limit_drops_excess)
{
	struct rx_log *log = log_new();

	REQUIRE(log);
	struct synack_sim_config c = { .delay_ns = 1 * MS, .queue_limit = 5 };
	struct rig r;

	REQUIRE(rig_open(&r, &c) == 0);
	for (uint32_t i = 0; i < 8; i++)
		CHECK_EQ(send_id(r.a, 64, i), 0);
	/* The other direction has its own queue. */
	for (uint32_t i = 0; i < 5; i++)
		CHECK_EQ(send_id(r.b, 64, 100 + i), 0);
	memset(log, 0, sizeof(*log));
	drain(&r, r.b, log);
	REQUIRE(log->n == 5);
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ(log->id[i], i);
	struct synack_sim_stats s = synack_sim_wire_stats(r.w, 0);
	CHECK_EQ(s.sent, 8);
	CHECK_EQ(s.queue_drops, 3);
	CHECK_EQ(s.delivered, 5);
	CHECK_EQ(synack_sim_wire_stats(r.w, 1).queue_drops, 0);
	/* Room again once drained. */
	CHECK_EQ(send_id(r.a, 64, 8), 0);
	CHECK_EQ(synack_sim_wire_stats(r.w, 0).queue_drops, 3);
	rig_close(&r);
	free(log);
}

TEST(next_deadline_is_earliest)
{
	struct synack_sim_config c = { .delay_ns = 10 * MS, .reorder = 0 };
	struct rig r;
	uint8_t buf[100];

	REQUIRE(rig_open(&r, &c) == 0);
	CHECK_EQ(send_id(r.a, 64, 0), 0);          /* due 10 ms */
	synack_clock_set(r.clk, 2 * MS);
	CHECK_EQ(send_id(r.a, 64, 1), 0);          /* due 12 ms */
	CHECK(r.b->ops->next_deadline(r.b) == 10 * MS);
	synack_clock_set(r.clk, 11 * MS);
	CHECK_EQ(r.b->ops->recv(r.b, buf, sizeof(buf)), 64);
	CHECK_EQ(frame_id(buf), 0);
	CHECK(r.b->ops->next_deadline(r.b) == 12 * MS);
	CHECK_EQ(r.b->ops->recv(r.b, buf, sizeof(buf)), 0);
	rig_close(&r);
}

TEST(decisions_are_seeded)
{
	struct synack_sim_config c;
	struct synack_sim_config in = { .loss = 0.5, .duplicate = 0.5, .reorder = 0.5,
					.corrupt = 0.5, .jitter_ns = 1000 };
	struct prng r1, r2;
	int unchanged = 0;

	REQUIRE(fault_config_normalize(&in, &c) == 0);
	CHECK_EQ(c.mtu, 1500);
	CHECK_EQ(c.queue_limit, 4096);
	CHECK_EQ(c.reorder_ns, 1 * MS);
	prng_seed(&r1, 99);
	prng_seed(&r2, 99);
	for (int i = 0; i < 1000; i++) {
		struct fault_decision d1, d2;

		fault_decide(&c, &r1, 100, &d1);
		fault_decide(&c, &r2, 100, &d2);
		CHECK(d1.lose == d2.lose && d1.duplicate == d2.duplicate &&
		      d1.reorder == d2.reorder && d1.corrupt == d2.corrupt);
		CHECK(d1.jitter_ns == d2.jitter_ns);
		CHECK(d1.jitter_ns <= 1000);
		CHECK(d1.corrupt_bit == d2.corrupt_bit);
		CHECK(d1.corrupt_bit < 800);
	}
	/* Changing one probability leaves the other draws where they were. */
	struct synack_sim_config c2 = c;
	c2.loss = 0;
	prng_seed(&r1, 99);
	prng_seed(&r2, 99);
	for (int i = 0; i < 100; i++) {
		struct fault_decision d1, d2;

		fault_decide(&c, &r1, 100, &d1);
		fault_decide(&c2, &r2, 100, &d2);
		CHECK(!d2.lose);
		unchanged += d1.duplicate == d2.duplicate && d1.jitter_ns == d2.jitter_ns;
	}
	CHECK_EQ(unchanged, 100);
}

int main(void)
{
	RUN(defaults);
	RUN(bad_config);
	RUN(frame_length_limits);
	RUN(delay_is_exact);
	RUN(serialisation_rounding);
	RUN(bandwidth_queues_frames);
	RUN(jitter_stays_in_range);
	RUN(fifo_order_and_ties);
	RUN(loss_rate_and_seed);
	RUN(duplicate_comes_right_after);
	RUN(reorder_holds_back);
	RUN(corrupt_flips_exactly_one_bit);
	RUN(queue_limit_drops_excess);
	RUN(next_deadline_is_earliest);
	RUN(decisions_are_seeded);
	return TEST_SUMMARY();
}
