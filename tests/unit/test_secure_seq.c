/* ISNs, timestamp offsets and ephemeral-port offsets (secure_seq.c): the
 * exact hash inputs Linux uses, the 64 ns clock, the 10 s port bucket. */
#include <arpa/inet.h>
#include "../test.h"
#include "core/siphash.h"
#include "core/stack.h"
#include "tcp/tcp.h"

#define NS_PER_S 1000000000ULL

struct env {
	struct synack_clock *clk;
	struct stack *st;
};

static bool env_new(struct env *e, uint64_t seed)
{
	e->clk = synack_clock_new_virtual(0);
	e->st = NULL;
	return e->clk &&
	       synack_stack_new(&(struct synack_stack_config){ .clock = e->clk, .seeded = true, .seed = seed },
				&e->st) == 0;
}

static void env_free(struct env *e)
{
	synack_stack_free(e->st);
	synack_clock_free(e->clk);
}

/* 10.0.0.1 and 10.0.0.2 as stored: network byte order. */
static uint32_t addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t bytes[4] = { a, b, c, d };
	uint32_t v;

	memcpy(&v, bytes, 4);
	return v;
}

static const siphash_key_t ref_key = { { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL } };

/*
 * With a known key, the ISN hash is SipHash over the 12 bytes Linux feeds
 * it on a little-endian machine: saddr and daddr as on the wire, then the
 * u32 (sport_be16 << 16 | dport_be16) in memory order, which is dport's
 * wire bytes followed by sport's.
 */
TEST(isn_hash_input_layout)
{
	struct env e;
	const uint8_t msg[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 0x56, 0x78, 0x12, 0x34 };
	uint32_t hash = (uint32_t)siphash(msg, sizeof(msg), &ref_key);

	REQUIRE(env_new(&e, 1));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	e.st->secrets.net_secret = ref_key;
	CHECK_EQ(secure_tcp_seq(e.st, addr(10, 0, 0, 1), addr(10, 0, 0, 2), 0x1234, 0x5678), hash);
	/* 1 s in: 10^9 / 64 = 15625000 ticks on top. */
	synack_clock_set(e.clk, NS_PER_S);
	CHECK_EQ(secure_tcp_seq(e.st, addr(10, 0, 0, 1), addr(10, 0, 0, 2), 0x1234, 0x5678),
		 (uint32_t)(hash + 15625000u));
#else
	(void)hash;
#endif
	env_free(&e);
}

TEST(isn_deterministic_for_a_seed)
{
	struct env a, b, c;
	uint32_t s = addr(192, 168, 1, 10), d = addr(192, 168, 1, 20);

	REQUIRE(env_new(&a, 1));
	REQUIRE(env_new(&b, 1));
	REQUIRE(env_new(&c, 2));
	CHECK_EQ(secure_tcp_seq(a.st, s, d, 40000, 80), secure_tcp_seq(b.st, s, d, 40000, 80));
	CHECK_EQ(secure_tcp_seq(a.st, s, d, 40000, 80), secure_tcp_seq(a.st, s, d, 40000, 80));
	CHECK(secure_tcp_seq(a.st, s, d, 40000, 80) != secure_tcp_seq(c.st, s, d, 40000, 80));
	CHECK_EQ(secure_tcp_ts_off(a.st, s, d), secure_tcp_ts_off(b.st, s, d));
	CHECK(secure_tcp_ts_off(a.st, s, d) != secure_tcp_ts_off(c.st, s, d));
	CHECK_EQ(secure_ipv4_port_ephemeral(a.st, s, d, 80), secure_ipv4_port_ephemeral(b.st, s, d, 80));
	CHECK(secure_ipv4_port_ephemeral(a.st, s, d, 80) != secure_ipv4_port_ephemeral(c.st, s, d, 80));
	env_free(&a);
	env_free(&b);
	env_free(&c);
}

/* The clock term: t >> 6 of the stack's ns clock. */
TEST(isn_64ns_clock)
{
	static const struct { uint64_t dt_ns; uint32_t ticks; } t[] = {
		{ 0, 0 }, { 63, 0 }, { 64, 1 }, { 127, 1 }, { 128, 2 }, { 6400, 100 },
		{ NS_PER_S, 15625000 },
		/* 2^38 ns (about 275 s) is 2^32 ticks: the ISN space wraps. */
		{ 1ULL << 38, 0 }, { (1ULL << 38) + 64, 1 },
	};
	struct env e;
	uint32_t s = addr(10, 0, 0, 1), d = addr(10, 0, 0, 2);

	REQUIRE(env_new(&e, 1));
	uint32_t base = secure_tcp_seq(e.st, s, d, 33000, 443);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		synack_clock_set(e.clk, t[i].dt_ns);
		CHECK_EQ((uint32_t)(secure_tcp_seq(e.st, s, d, 33000, 443) - base), t[i].ticks);
	}
	env_free(&e);
}

TEST(isn_differs_per_tuple)
{
	static const struct { uint8_t s4, d4; uint16_t sport, dport; } t[] = {
		{ 1, 2, 40000, 80 },    /* the base */
		{ 3, 2, 40000, 80 },    /* saddr */
		{ 1, 3, 40000, 80 },    /* daddr */
		{ 1, 2, 40001, 80 },    /* sport */
		{ 1, 2, 40000, 81 },    /* dport */
		{ 2, 1, 40000, 80 },    /* addresses swapped */
		{ 1, 2, 80, 40000 },    /* ports swapped */
	};
	uint32_t isn[ARRAY_SIZE(t)];
	struct env e;

	REQUIRE(env_new(&e, 1));
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		isn[i] = secure_tcp_seq(e.st, addr(10, 0, 0, t[i].s4), addr(10, 0, 0, t[i].d4), t[i].sport,
					t[i].dport);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		for (size_t j = i + 1; j < ARRAY_SIZE(t); j++)
			if (isn[i] == isn[j]) {
				fprintf(stderr, "tuples %zu and %zu share ISN %u\n", i, j, isn[i]);
				CHECK(0);
			}
	env_free(&e);
}

TEST(ts_off)
{
	static const struct { long tcp_timestamps; bool hashed; } t[] = { { 1, true }, { 0, false }, { 2, false } };
	struct env e;
	uint32_t s = addr(10, 0, 0, 1), d = addr(10, 0, 0, 2);

	REQUIRE(env_new(&e, 1));
	e.st->secrets.ts_secret = ref_key;
	uint32_t want = (uint32_t)siphash((const uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8, &ref_key);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		e.st->sysctl.tcp_timestamps = t[i].tcp_timestamps;
		CHECK_EQ(secure_tcp_ts_off(e.st, s, d), t[i].hashed ? want : 0);
	}
	/* It depends on the addresses only, not on time. */
	e.st->sysctl.tcp_timestamps = 1;
	synack_clock_set(e.clk, 123 * NS_PER_S);
	CHECK_EQ(secure_tcp_ts_off(e.st, s, d), want);
	CHECK(secure_tcp_ts_off(e.st, d, s) != want);
	env_free(&e);
}

/* Linux: siphash_4u32(saddr, daddr, dport as __be16, jiffies / (10 * HZ)). */
TEST(port_offset_inputs)
{
	struct env e;
	uint32_t s = addr(10, 0, 0, 1), d = addr(10, 0, 0, 2);

	REQUIRE(env_new(&e, 1));
	synack_clock_set(e.clk, 25 * NS_PER_S);
	CHECK_EQ(secure_ipv4_port_ephemeral(e.st, s, d, 0x1234),
		 siphash_4u32(s, d, htons(0x1234), 2, &e.st->secrets.net_secret));
	CHECK(secure_ipv4_port_ephemeral(e.st, s, d, 80) != secure_ipv4_port_ephemeral(e.st, s, d, 81));
	CHECK(secure_ipv4_port_ephemeral(e.st, s, d, 80) != secure_ipv4_port_ephemeral(e.st, d, s, 80));
	env_free(&e);
}

TEST(port_offset_changes_every_10s)
{
	static const struct { uint64_t t_ns; int bucket; } t[] = {
		{ 0, 0 }, { 1, 0 }, { 10 * NS_PER_S - 1, 0 }, { 10 * NS_PER_S, 1 }, { 15 * NS_PER_S, 1 },
		{ 20 * NS_PER_S - 1, 1 }, { 20 * NS_PER_S, 2 }, { 30 * NS_PER_S, 3 },
	};
	uint64_t first[4] = { 0 };
	bool seen[4] = { false };
	struct env e;
	uint32_t s = addr(10, 0, 0, 1), d = addr(10, 0, 0, 2);

	REQUIRE(env_new(&e, 1));
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int b = t[i].bucket;

		synack_clock_set(e.clk, t[i].t_ns);
		uint64_t off = secure_ipv4_port_ephemeral(e.st, s, d, 80);
		if (!seen[b]) {
			seen[b] = true;
			first[b] = off;
		}
		CHECK_EQ(off, first[b]);
	}
	CHECK(first[0] != first[1]);
	CHECK(first[1] != first[2]);
	CHECK(first[2] != first[3]);
	env_free(&e);
}

int main(void)
{
	RUN(isn_hash_input_layout);
	RUN(isn_deterministic_for_a_seed);
	RUN(isn_64ns_clock);
	RUN(isn_differs_per_tuple);
	RUN(ts_off);
	RUN(port_offset_inputs);
	RUN(port_offset_changes_every_10s);
	return TEST_SUMMARY();
}
