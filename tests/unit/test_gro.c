/*
 * Software GRO (src/net/gro.c): which received TCP segments of one poll
 * burst merge into one frame, and which end a frame or go alone, as Linux's
 * tcp_gro_receive decides. Frames are fed the way dev_rx_one feeds them
 * (dev_gro_receive, else eth_rcv) and the burst ends with dev_gro_flush.
 * What came of them is read from the stack's trace (a napi_gro_complete
 * event per merged frame) and counters (IpInReceives counts what reached
 * IP, LinkRxGroMerged the segments appended).
 */
#include <stdio.h>
#include "../test.h"
#include "net_harness.h"

#define SPORT 40000
#define DPORT 80
#define SEQ0 1000000u
#define ACK0 5000u

/* One segment of the peer's flow 10.0.0.2:SPORT > 10.0.0.1:DPORT. */
struct seg {
	uint32_t seq, ack;
	uint16_t id, window, sport;
	uint8_t flags;          /* 0: ACK */
	uint16_t len;           /* payload */
	bool no_df, bad_csum, ts;
	uint32_t tsval;
};

static size_t build_seg(uint8_t *f, const struct seg *s)
{
	uint8_t tcp[20 + 12 + 65535];
	struct tcphdr *th = (struct tcphdr *)tcp;
	struct ipspec ip = { .saddr = A("10.0.0.2"), .daddr = A("10.0.0.1"), .protocol = IPPROTO_TCP,
			     .id = s->id, .frag_off = s->no_df ? 0 : IP_DF };
	uint32_t thl = s->ts ? 32 : 20, tcp_len = thl + s->len;
	uint64_t sum;

	memset(tcp, 0, thl);
	th->source = htons(s->sport ? s->sport : SPORT);
	th->dest = htons(DPORT);
	th->seq = htonl(s->seq);
	th->ack_seq = htonl(s->ack ? s->ack : ACK0);
	th->doff_res = (uint8_t)(thl / 4 << 4);
	th->flags = s->flags ? s->flags : TCPHDR_ACK;
	th->window = htons(s->window ? s->window : 1000);
	if (s->ts) {
		uint32_t v = htonl(s->tsval), e = htonl(7);
		tcp[20] = 1;
		tcp[21] = 1;
		tcp[22] = 8;
		tcp[23] = 10;
		memcpy(tcp + 24, &v, 4);
		memcpy(tcp + 28, &e, 4);
	}
	for (uint32_t i = 0; i < s->len; i++)
		tcp[thl + i] = (uint8_t)(s->seq + i);
	sum = csum_partial(tcp, tcp_len, csum_tcpudp_nofold(ip.saddr, ip.daddr, tcp_len, IPPROTO_TCP, 0));
	th->check = htons(csum_fold(sum));
	if (s->bad_csum)
		th->check ^= 1;
	return build_ip(f, H_MAC, &ip, tcp, tcp_len);
}

struct rec {
	char ev[16][96];
	int n;
};

static void rec_sink(void *ctx, const struct synack_trace_event *ev)
{
	struct rec *r = ctx;

	if (ev->kind == SYNACK_TRACE_EVENT && !strcmp(ev->name, "napi_gro_complete") && r->n < 16)
		snprintf(r->ev[r->n++], sizeof(r->ev[0]), "%s", ev->text);
}

struct gh {
	struct harness h;
	struct rec rec;
	uint64_t ip_in0;
};

static void gh_init(struct gh *g)
{
	memset(g, 0, sizeof(*g));
	h_init(&g->h);
	h_learn_peer(&g->h);
	g->h.st->dev.gro = true;
	synack_trace_set_sink(g->h.st, rec_sink, &g->rec);
	g->ip_in0 = mib(&g->h, "IpInReceives");
}

/* One frame off the link, as dev_rx_one hands it on. */
static void gh_rx(struct gh *g, const struct seg *s)
{
	static uint8_t f[14 + 20 + 32 + 65535];
	size_t n = build_seg(f, s);
	struct sk_buff *skb = skb_alloc(&g->h.st->skb_pool, SKB_HEADROOM, (uint32_t)n);

	memcpy(skb_put(skb, (uint32_t)n), f, n);
	if (!dev_gro_receive(g->h.st, skb))
		eth_rcv(g->h.st, skb);
}

/* n back-to-back segments of len bytes from seq, IDs counting from id. */
static void gh_rx_run(struct gh *g, uint32_t seq, uint16_t id, int n, uint16_t len)
{
	for (int i = 0; i < n; i++)
		gh_rx(g, &(struct seg){ .seq = seq + (uint32_t)i * len, .id = (uint16_t)(id + i), .len = len });
}

static uint64_t ip_in(struct gh *g) { return mib(&g->h, "IpInReceives") - g->ip_in0; }

/* No socket listens, so each TCP segment that reaches TCP is answered with
 * a RST (seq = its ACK number, to its source port): their order is the
 * order TCP saw the segments in. */
static uint32_t rst_field(struct gh *g, size_t nth, int off, int size)
{
	const uint8_t *f = nth_proto(&g->h, ETH_P_IP, nth, NULL);
	uint32_t v = 0;

	if (!f)
		return 0xffffffffu;
	for (int i = 0; i < size; i++)
		v = v << 8 | f[14 + 20 + off + i];
	return v;
}
static uint32_t rst_seq(struct gh *g, size_t nth) { return rst_field(g, nth, 4, 4); }
static uint16_t rst_dport(struct gh *g, size_t nth) { return (uint16_t)rst_field(g, nth, 2, 2); }

static void gh_free(struct gh *g) { h_free(&g->h); }

TEST(gro_in_order_segments_merge_into_one_frame)
{
	struct gh g;

	gh_init(&g);
	gh_rx_run(&g, SEQ0, 1, 4, 1000);
	CHECK_EQ(ip_in(&g), 0);              /* held until the burst ends */
	CHECK_EQ(g.h.st->dev.gro_count, 1);
	dev_gro_flush(g.h.st);
	CHECK_EQ(ip_in(&g), 1);
	CHECK_EQ(mib(&g.h, "LinkRxGroMerged"), 3);
	REQUIRE(g.rec.n == 1);
	CHECK_STR(g.rec.ev[0], "seq 1000000 len 4000 segs 4 gso_size 1000");
	CHECK_EQ(mib(&g.h, "TcpInSegs"), 1);  /* Linux counts the merged skb once */
	CHECK_EQ(mib(&g.h, "TcpInCsumErrors"), 0);
	gh_free(&g);
}

TEST(gro_psh_ends_the_frame)
{
	struct gh g;

	gh_init(&g);
	gh_rx(&g, &(struct seg){ .seq = SEQ0, .id = 1, .len = 100 });
	gh_rx(&g, &(struct seg){ .seq = SEQ0 + 100, .id = 2, .len = 100, .flags = TCPHDR_ACK | TCPHDR_PSH });
	CHECK_EQ(ip_in(&g), 1);              /* handed up at once */
	CHECK_EQ(g.h.st->dev.gro_count, 0);
	gh_rx_run(&g, SEQ0 + 200, 3, 2, 100);
	dev_gro_flush(g.h.st);
	CHECK_EQ(ip_in(&g), 2);
	REQUIRE(g.rec.n == 2);
	CHECK_STR(g.rec.ev[0], "seq 1000000 len 200 segs 2 gso_size 100");
	CHECK_STR(g.rec.ev[1], "seq 1000200 len 200 segs 2 gso_size 100");
	gh_free(&g);
}

TEST(gro_short_segment_ends_the_frame_longer_one_starts_anew)
{
	struct gh g;

	gh_init(&g);
	gh_rx(&g, &(struct seg){ .seq = SEQ0, .id = 1, .len = 1000 });
	gh_rx(&g, &(struct seg){ .seq = SEQ0 + 1000, .id = 2, .len = 500 });     /* shorter: merged, last */
	CHECK_EQ(ip_in(&g), 1);
	gh_rx(&g, &(struct seg){ .seq = SEQ0 + 1500, .id = 3, .len = 500 });
	gh_rx(&g, &(struct seg){ .seq = SEQ0 + 2000, .id = 4, .len = 800 });     /* longer than the first */
	CHECK_EQ(ip_in(&g), 2);
	dev_gro_flush(g.h.st);
	CHECK_EQ(ip_in(&g), 3);
	REQUIRE(g.rec.n == 1);
	CHECK_STR(g.rec.ev[0], "seq 1000000 len 1500 segs 2 gso_size 1000");
	gh_free(&g);
}

TEST(gro_sequence_gap_is_not_merged)
{
	struct gh g;

	gh_init(&g);
	gh_rx_run(&g, SEQ0, 1, 2, 100);
	gh_rx(&g, &(struct seg){ .seq = SEQ0 + 300, .id = 3, .len = 100 });      /* 200..300 lost */
	gh_rx(&g, &(struct seg){ .seq = SEQ0 + 400, .id = 4, .len = 100 });
	dev_gro_flush(g.h.st);
	CHECK_EQ(ip_in(&g), 2);
	REQUIRE(g.rec.n == 2);
	CHECK_STR(g.rec.ev[0], "seq 1000000 len 200 segs 2 gso_size 100");
	CHECK_STR(g.rec.ev[1], "seq 1000300 len 200 segs 2 gso_size 100");
	gh_free(&g);
}

/* What must match for a segment to merge: each case changes one thing in
 * the second of two segments, which then goes up on its own. */
TEST(gro_header_differences_are_not_merged)
{
	static const struct {
		const char *name;
		struct seg s;
	} cases[] = {
		{ "ACK number", { .ack = ACK0 + 1 } },
		{ "window", { .window = 999 } },
		{ "ECE", { .flags = TCPHDR_ACK | TCPHDR_ECE } },
		{ "CWR", { .flags = TCPHDR_ACK | TCPHDR_CWR } },
		{ "URG", { .flags = TCPHDR_ACK | TCPHDR_URG } },
		{ "timestamp value", { .ts = true, .tsval = 2 } },
		{ "IP ID not next", { .id = 5 } },
		{ "DF cleared", { .no_df = true } },
		{ "bad checksum", { .bad_csum = true } },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct seg s = cases[i].s;
		struct gh g;

		gh_init(&g);
		gh_rx(&g, &(struct seg){ .seq = SEQ0, .id = 1, .len = 100, .ts = s.ts, .tsval = 1 });
		s.seq = SEQ0 + 100;
		s.id = s.id ? s.id : 2;
		s.len = 100;
		gh_rx(&g, &s);
		dev_gro_flush(g.h.st);
		if (ip_in(&g) != 2 || mib(&g.h, "LinkRxGroMerged") != 0)
			fprintf(stderr, "case %s\n", cases[i].name);
		CHECK_EQ(ip_in(&g), 2);
		CHECK_EQ(mib(&g.h, "LinkRxGroMerged"), 0);
		CHECK_EQ(mib(&g.h, "TcpInCsumErrors"), s.bad_csum ? 1 : 0);
		gh_free(&g);
	}
}

TEST(gro_equal_timestamps_and_fixed_ids_under_df_merge)
{
	struct gh g;

	gh_init(&g);
	gh_rx(&g, &(struct seg){ .seq = SEQ0, .id = 9, .len = 100, .ts = true, .tsval = 1 });
	gh_rx(&g, &(struct seg){ .seq = SEQ0 + 100, .id = 9, .len = 100, .ts = true, .tsval = 1 });
	dev_gro_flush(g.h.st);
	CHECK_EQ(ip_in(&g), 1);
	REQUIRE(g.rec.n == 1);
	CHECK_STR(g.rec.ev[0], "seq 1000000 len 200 segs 2 gso_size 100");
	gh_free(&g);
}

TEST(gro_flows_merge_apart)
{
	struct gh g;

	gh_init(&g);
	for (int i = 0; i < 3; i++) {
		gh_rx(&g, &(struct seg){ .seq = SEQ0 + (uint32_t)i * 100, .id = (uint16_t)(1 + i), .len = 100 });
		gh_rx(&g, &(struct seg){ .seq = 7 + (uint32_t)i * 50, .id = (uint16_t)(100 + i), .len = 50,
					 .sport = SPORT + 1 });
	}
	CHECK_EQ(g.h.st->dev.gro_count, 2);
	dev_gro_flush(g.h.st);
	CHECK_EQ(ip_in(&g), 2);
	REQUIRE(g.rec.n == 2);
	CHECK_STR(g.rec.ev[0], "seq 1000000 len 300 segs 3 gso_size 100");
	CHECK_STR(g.rec.ev[1], "seq 7 len 150 segs 3 gso_size 50");
	gh_free(&g);
}

/* The ninth flow pushes the oldest out, as Linux's MAX_GRO_SKBS. */
TEST(gro_holds_at_most_eight_flows)
{
	struct gh g;

	gh_init(&g);
	for (int f = 0; f < GRO_MAX_HELD + 1; f++)
		gh_rx(&g, &(struct seg){ .seq = SEQ0, .id = 1, .len = 100, .sport = (uint16_t)(SPORT + f) });
	CHECK_EQ(g.h.st->dev.gro_count, GRO_MAX_HELD);
	CHECK_EQ(ip_in(&g), 1);
	CHECK_EQ(rst_dport(&g, 0), SPORT);      /* the oldest went */
	dev_gro_flush(g.h.st);
	CHECK_EQ(ip_in(&g), GRO_MAX_HELD + 1);
	gh_free(&g);
}

/* IP's length is 16 bits: 44 segments of 1460 fit (64,280), a 45th not. */
TEST(gro_frame_stops_short_of_64k)
{
	struct gh g;

	gh_init(&g);
	gh_rx_run(&g, SEQ0, 1, 45, 1460);
	CHECK_EQ(ip_in(&g), 1);
	dev_gro_flush(g.h.st);
	CHECK_EQ(ip_in(&g), 2);
	REQUIRE(g.rec.n == 1);
	CHECK_STR(g.rec.ev[0], "seq 1000000 len 64240 segs 44 gso_size 1460");
	gh_free(&g);
}

/* A segment GRO does not take (here a pure ACK) goes up after what its
 * flow has held; another protocol's frame leaves the held one alone. */
TEST(gro_other_frames_keep_flow_order)
{
	static const uint8_t zero[6];
	struct gh g;
	uint8_t f[64];

	gh_init(&g);
	gh_rx_run(&g, SEQ0, 1, 2, 100);
	h_inject(&g.h, f, build_arp(f, BCAST, 1, P_MAC, A("10.0.0.2"), zero, A("10.0.0.1")));
	CHECK_EQ(g.h.st->dev.gro_count, 1);
	gh_rx(&g, &(struct seg){ .seq = SEQ0 + 200, .id = 3, .len = 0, .ack = ACK0 + 77 });
	CHECK_EQ(g.h.st->dev.gro_count, 0);
	CHECK_EQ(ip_in(&g), 2);
	CHECK_EQ(rst_seq(&g, 0), ACK0);         /* the merged data first */
	CHECK_EQ(rst_seq(&g, 1), ACK0 + 77);    /* then the ACK */
	REQUIRE(g.rec.n == 1);
	CHECK_STR(g.rec.ev[0], "seq 1000000 len 200 segs 2 gso_size 100");
	gh_free(&g);
}

/* A frame the device merged itself (a TAP's GSO frame, skb->gso_size set
 * by dev_rx_one) is not merged again, but it must not overtake what GRO
 * holds of its flow. */
TEST(gro_device_merged_frame_goes_after_the_held_one)
{
	static uint8_t f[14 + 20 + 20 + 3000];
	struct seg s = { .seq = SEQ0 + 200, .id = 3, .len = 3000 };
	struct sk_buff *skb;
	struct gh g;
	size_t n;

	gh_init(&g);
	gh_rx_run(&g, SEQ0, 1, 2, 100);
	n = build_seg(f, &s);
	skb = skb_alloc(&g.h.st->skb_pool, SKB_HEADROOM, (uint32_t)n);
	memcpy(skb_put(skb, (uint32_t)n), f, n);
	skb->gso_size = 1500;
	CHECK(!dev_gro_receive(g.h.st, skb));
	CHECK_EQ(g.h.st->dev.gro_count, 0);
	CHECK_EQ(ip_in(&g), 1);              /* the held frame went up first */
	eth_rcv(g.h.st, skb);
	CHECK_EQ(ip_in(&g), 2);
	gh_free(&g);
}

/* Frames held when the stack goes away are freed, not leaked (ASan). */
TEST(gro_held_frames_freed_with_the_stack)
{
	struct gh g;

	gh_init(&g);
	gh_rx_run(&g, SEQ0, 1, 3, 100);
	gh_rx(&g, &(struct seg){ .seq = 9, .id = 1, .len = 100, .sport = SPORT + 1 });
	CHECK_EQ(g.h.st->dev.gro_count, 2);
	gh_free(&g);
}

/* ------------------------------------------------- receiving in place */

/* Frames queued on the link, taken by dev_rx_one through synack_stack_poll
 * (receiving in place needs the link and no trace sink). */
struct feed {
	uint8_t f[8][H_FRAMELEN];
	size_t len[8];
	int head, tail;
};

static struct feed *feed_of;

static int feed_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct feed *q = feed_of;
	size_t n;

	(void)l;
	if (q->head == q->tail)
		return 0;
	n = q->len[q->head] < cap ? q->len[q->head] : cap;
	memcpy(buf, q->f[q->head++], n);
	return (int)n;
}

static const struct synack_link_ops feed_ops = {
	.kind = "feed", .send = cap_send, .recv = feed_recv, .wait_fd = cap_wait_fd, .next_deadline = cap_next,
	.destroy = cap_destroy,
};

static void feed_init(struct gh *g, struct feed *q)
{
	memset(g, 0, sizeof(*g));
	memset(q, 0, sizeof(*q));
	feed_of = q;
	h_init_cfg(&g->h, 1, false);
	g->h.cap->link.ops = &feed_ops;
	g->h.cap->link.features = SYNACK_LINK_F_GRO;
	synack_if_up(g->h.st, &g->h.cap->link,
		     &(struct synack_if_config){ .addr.s_addr = A("10.0.0.1"), .prefix_len = 24 });
	h_learn_peer(&g->h);
	g->ip_in0 = mib(&g->h, "IpInReceives");
}

static void feed_seg(struct feed *q, const struct seg *s)
{
	q->len[q->tail] = build_seg(q->f[q->tail], s);
	q->tail++;
}

/* A stack on a feed link with n back-to-back 1000-byte segments queued. */
static void feed_run(struct gh *g, struct feed *q, int n)
{
	feed_init(g, q);
	for (int i = 0; i < n; i++)
		feed_seg(q, &(struct seg){ .seq = SEQ0 + (uint32_t)i * 1000, .id = (uint16_t)(1 + i), .len = 1000 });
}

/* Six back-to-back segments: the first held, the next two merged into it
 * by copying, the last three received straight behind its payload. */
TEST(gro_in_place_run_of_segments)
{
	struct feed q;
	struct gh g;

	feed_run(&g, &q, 6);
	synack_stack_poll(g.h.st);
	CHECK_EQ(ip_in(&g), 1);
	CHECK_EQ(mib(&g.h, "LinkRxGroMerged"), 5);
	CHECK_EQ(mib(&g.h, "LinkRxGroInPlace"), 3);
	CHECK_EQ(mib(&g.h, "LinkRxFrames"), 6);
	gh_free(&g);
}

/* A frame received in place that does not merge (here a truncated one,
 * whose IP length is longer than the frame) is copied out and goes the
 * ordinary way, after the held frame; IP drops it. */
TEST(gro_in_place_frame_that_does_not_merge_is_copied_out)
{
	struct feed q;
	struct gh g;

	feed_run(&g, &q, 4);
	q.len[3] -= 100;
	synack_stack_poll(g.h.st);
	CHECK_EQ(mib(&g.h, "LinkRxGroMerged"), 2);
	CHECK_EQ(mib(&g.h, "LinkRxGroInPlace"), 0);
	CHECK_EQ(ip_in(&g), 2);
	CHECK_EQ(mib(&g.h, "IpExtInTruncatedPkts"), 1);
	CHECK_EQ(rst_seq(&g, 0), ACK0);  /* the merged data reached TCP */
	gh_free(&g);
}

/* Placed headers cover only held payload. With segments shorter than the
 * headers they would cover the held frame's own headers: a peer choosing
 * its ACK number, window and IDs could then make the frame match itself
 * there and have its FIN lost. Such frames are received ordinarily. */
TEST(gro_in_place_never_over_the_held_headers)
{
	struct feed q;
	struct gh g;

	feed_init(&g, &q);
	for (int i = 0; i < 5; i++)
		feed_seg(&q, &(struct seg){ .seq = SEQ0 + (uint32_t)i * 7, .id = (uint16_t)(0x500d + i), .len = 7,
					    .ack = 0x4500002f, .window = 0x4000,
					    .flags = i == 4 ? TCPHDR_ACK | TCPHDR_FIN : 0 });
	synack_stack_poll(g.h.st);
	CHECK_EQ(mib(&g.h, "LinkRxGroInPlace"), 0);
	CHECK_EQ(mib(&g.h, "LinkRxGroMerged"), 4);
	CHECK_EQ(ip_in(&g), 1);
	gh_free(&g);
}

int main(void)
{
	RUN(gro_in_order_segments_merge_into_one_frame);
	RUN(gro_psh_ends_the_frame);
	RUN(gro_short_segment_ends_the_frame_longer_one_starts_anew);
	RUN(gro_sequence_gap_is_not_merged);
	RUN(gro_header_differences_are_not_merged);
	RUN(gro_equal_timestamps_and_fixed_ids_under_df_merge);
	RUN(gro_flows_merge_apart);
	RUN(gro_holds_at_most_eight_flows);
	RUN(gro_frame_stops_short_of_64k);
	RUN(gro_other_frames_keep_flow_order);
	RUN(gro_device_merged_frame_goes_after_the_held_one);
	RUN(gro_held_frames_freed_with_the_stack);
	RUN(gro_in_place_run_of_segments);
	RUN(gro_in_place_frame_that_does_not_merge_is_copied_out);
	RUN(gro_in_place_never_over_the_held_headers);
	return TEST_SUMMARY();
}
