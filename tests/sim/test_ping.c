/* Two stacks on the sim wire: ARP, echo, loss, and fragmented pings. */
#include <arpa/inet.h>
#include <string.h>
#include "../test.h"
#include "core/stack.h"

struct pair {
	struct synack_clock *clk;
	struct synack_sim_wire *w;
	struct stack *st[2];
	int replies;
	size_t last_len;
	uint16_t last_seq;
	uint8_t last[8192];
};

static void on_reply(void *ctx, const struct synack_echo_reply *r)
{
	struct pair *p = ctx;

	p->replies++;
	p->last_seq = r->seq;
	p->last_len = r->len;
	memcpy(p->last, r->payload, r->len < sizeof(p->last) ? r->len : sizeof(p->last));
}

static int pair_init(struct pair *p, double loss, uint64_t seed)
{
	struct synack_sim_config sc = { .delay_ns = NSEC_PER_MSEC, .loss = loss, .seed = seed };
	static const char *addr[2] = { "10.0.0.1", "10.0.0.2" };

	memset(p, 0, sizeof(*p));
	p->clk = synack_clock_new_virtual(0);
	if (synack_sim_wire_new(p->clk, &sc, &p->w) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		struct synack_stack_config cfg = { .clock = p->clk, .name = addr[i], .seeded = true, .seed = seed + (uint64_t)i };
		struct synack_if_config ic = { .prefix_len = 24 };

		if (synack_stack_new(&cfg, &p->st[i]) != 0)
			return -1;
		inet_pton(AF_INET, addr[i], &ic.addr);
		if (synack_if_up(p->st[i], synack_sim_wire_end(p->w, i), &ic) != 0)
			return -1;
	}
	synack_ping_set_handler(p->st[0], on_reply, p);
	return 0;
}

static void pair_free(struct pair *p)
{
	synack_stack_free(p->st[0]);
	synack_stack_free(p->st[1]);
	synack_sim_wire_free(p->w);
	synack_clock_free(p->clk);
}

static void run_for(struct pair *p, uint64_t ns)
{
	synack_run_virtual(p->clk, p->st, 2, synack_clock_now(p->clk) + ns);
}

static int ping(struct pair *p, uint16_t seq, const void *data, size_t len)
{
	struct in_addr dst;

	inet_pton(AF_INET, "10.0.0.2", &dst);
	return synack_ping_send(p->st[0], dst, 77, seq, data, len);
}

static uint64_t mib(struct stack *st, const char *n) { return synack_mib_value(st, n); }

TEST(arp_then_echo_round_trip)
{
	struct pair p;

	REQUIRE(pair_init(&p, 0, 1) == 0);
	CHECK_EQ(ping(&p, 1, "hello", 5), 0);
	run_for(&p, 100 * NSEC_PER_MSEC);
	CHECK_EQ(p.replies, 1);
	CHECK_EQ(p.last_seq, 1);
	CHECK_EQ(p.last_len, 5);
	CHECK_MEM(p.last, "hello", 5);
	CHECK_EQ(mib(p.st[0], "ArpOutRequests"), 1);
	CHECK_EQ(mib(p.st[1], "ArpOutReplies"), 1);
	/* The responder learnt us from the request: no ARP of its own. */
	CHECK_EQ(mib(p.st[1], "ArpOutRequests"), 0);
	CHECK_EQ(mib(p.st[1], "IcmpInEchos"), 1);
	CHECK_EQ(mib(p.st[1], "IcmpOutEchoReps"), 1);
	pair_free(&p);
}

TEST(lossy_wire_pings_eventually_succeed)
{
	uint64_t lost = 0;

	for (uint64_t seed = 1; seed <= 30; seed++) {
		struct pair p;
		uint16_t seq;

		REQUIRE(pair_init(&p, 0.2, seed) == 0);
		for (seq = 1; seq <= 40 && p.replies == 0; seq++) {
			CHECK_EQ(ping(&p, seq, "x", 1), 0);
			run_for(&p, NSEC_PER_SEC);
		}
		if (p.replies == 0)
			fprintf(stderr, "seed %llu: no reply\n", (unsigned long long)seed);
		CHECK(p.replies >= 1);
		/* Every request that arrived was answered; every reply counted. */
		CHECK_EQ(mib(p.st[1], "IcmpInEchos"), mib(p.st[1], "IcmpOutEchoReps"));
		CHECK_EQ(mib(p.st[0], "IcmpInEchoReps"), (uint64_t)p.replies);
		CHECK(mib(p.st[0], "IcmpOutEchos") >= (uint64_t)p.replies);
		CHECK(mib(p.st[1], "IcmpInEchos") >= (uint64_t)p.replies);
		CHECK(mib(p.st[1], "IcmpInEchos") <= mib(p.st[0], "IcmpOutEchos"));
		lost += synack_sim_wire_stats(p.w, 0).lost + synack_sim_wire_stats(p.w, 1).lost;
		pair_free(&p);
	}
	CHECK(lost > 0); /* the wire really dropped frames */
}

TEST(large_ping_fragments_both_ways)
{
	struct pair p;
	static uint8_t data[4000];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 5);
	REQUIRE(pair_init(&p, 0, 3) == 0);
	CHECK_EQ(ping(&p, 9, data, sizeof(data)), 0);
	run_for(&p, 100 * NSEC_PER_MSEC);
	REQUIRE(p.replies == 1);
	CHECK_EQ(p.last_len, sizeof(data));
	CHECK_MEM(p.last, data, sizeof(data));
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(mib(p.st[i], "IpFragOKs"), 1);
		CHECK_EQ(mib(p.st[i], "IpFragCreates"), 3);
		CHECK_EQ(mib(p.st[i], "IpReasmReqds"), 3);
		CHECK_EQ(mib(p.st[i], "IpReasmOKs"), 1);
	}
	pair_free(&p);
}

int main(void)
{
	RUN(arp_then_echo_round_trip);
	RUN(lossy_wire_pings_eventually_succeed);
	RUN(large_ping_fragments_both_ways);
	return TEST_SUMMARY();
}
