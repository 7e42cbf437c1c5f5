/* ARP: replies, learning, validation, resolution retries, queue and table bounds. */
#include <errno.h>
#include "../test.h"
#include "net_harness.h"
#include "net/arp.h"
#include "net/icmp.h"

static const uint8_t ZERO[6];

TEST(gratuitous_on_up_exact_bytes)
{
	struct harness h;
	static const uint8_t want[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06,
		0, 1, 0x08, 0x00, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 10, 0, 0, 1, /* padding follows */
	};

	h_init(&h);
	REQUIRE(h.cap->n == 1);
	CHECK_EQ(h.cap->lens[0], 60);
	CHECK_MEM(h.cap->frames[0], want, 60);
	CHECK_EQ(mib(&h, "ArpOutGratuitous"), 1);
	h_free(&h);
}

TEST(reply_to_request_and_learn)
{
	struct harness h;
	uint8_t f[64];
	static const uint8_t want[42] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06,
		0, 1, 0x08, 0x00, 6, 4, 0, 2, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1,
		2, 0, 0, 0, 0, 2, 10, 0, 0, 2,
	};

	h_init(&h);
	h_clear(&h);
	h_inject(&h, f, build_arp(f, BCAST, 1, P_MAC, A("10.0.0.2"), ZERO, A("10.0.0.1")));
	REQUIRE(h.cap->n == 1);
	CHECK_MEM(h.cap->frames[0], want, 42);
	struct neighbour *n = neigh_lookup(h.st, A("10.0.0.2"));
	REQUIRE(n);
	CHECK_EQ(n->nud_state, NUD_STALE);
	CHECK_MEM(n->ha, P_MAC, 6);
	CHECK_EQ(mib(&h, "ArpInRequests"), 1);
	CHECK_EQ(mib(&h, "ArpOutReplies"), 1);
	/* A request for someone else: counted, not answered, not learned. */
	h_inject(&h, f, build_arp(f, BCAST, 1, P_MAC, A("10.0.0.3"), ZERO, A("10.0.0.9")));
	CHECK_EQ(h.cap->n, 1);
	CHECK(neigh_lookup(h.st, A("10.0.0.3")) == NULL);
	/* Unsolicited reply: no entry created (arp_accept = 0). */
	h_inject(&h, f, build_arp(f, H_MAC, 2, P_MAC, A("10.0.0.4"), H_MAC, A("10.0.0.1")));
	CHECK(neigh_lookup(h.st, A("10.0.0.4")) == NULL);
	/* A unicast reply confirms the STALE entry. */
	h_inject(&h, f, build_arp(f, H_MAC, 2, P_MAC, A("10.0.0.2"), H_MAC, A("10.0.0.1")));
	CHECK_EQ(n->nud_state, NUD_REACHABLE);
	h_free(&h);
}

TEST(bad_arp_table)
{
	static const struct {
		const char *name;
		int off;       /* byte in the ARP header to set, -1: truncate */
		uint8_t val;
	} cases[] = {
		{ "truncated", -1, 0 },   { "hrd 6", 1, 6 },       { "pro 0x86dd", 2, 0x86 },
		{ "hln 8", 4, 8 },        { "pln 16", 5, 16 },     { "op 3", 7, 3 },
		{ "op 0", 7, 0 },         { "multicast sha", 8, 1 }, { "multicast tip", 24, 224 },
		{ "loopback sip", 14, 127 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct harness h;
		uint8_t f[64];
		size_t n;

		h_init(&h);
		h_clear(&h);
		n = build_arp(f, BCAST, 1, P_MAC, A("10.0.0.2"), ZERO, A("10.0.0.1"));
		if (cases[i].off < 0)
			n = 14 + 27;
		else
			f[14 + cases[i].off] = cases[i].val;
		h_inject(&h, f, n);
		if (mib(&h, "ArpInErrors") != 1)
			fprintf(stderr, "case %s\n", cases[i].name);
		CHECK_EQ(mib(&h, "ArpInErrors"), 1);
		CHECK_EQ(mib(&h, "ArpInRequests"), 0);
		CHECK_EQ(h.cap->n, 0);
		CHECK(neigh_lookup(h.st, A("10.0.0.2")) == NULL);
		h_free(&h);
	}
}

TEST(resolution_retries_then_fails)
{
	struct harness h;

	h_init(&h);
	h_clear(&h);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.3"), 1, 1, "x", 1), 0);
	for (uint64_t ms = 0; ms <= 4000; ms += 1)
		h_at(&h, ms * NSEC_PER_MSEC);
	REQUIRE(h.cap->n == 3);
	for (size_t i = 0; i < 3; i++) {
		CHECK_EQ(h.cap->times[i], i * NSEC_PER_SEC);
		CHECK_MEM(h.cap->frames[i], BCAST, 6);
		CHECK_EQ(h.cap->frames[i][21], 1);
		CHECK_EQ(h.cap->frames[i][41], 3); /* who-has 10.0.0.3 */
	}
	struct neighbour *n = neigh_lookup(h.st, A("10.0.0.3"));
	REQUIRE(n);
	CHECK_EQ(n->nud_state, NUD_FAILED);
	CHECK_EQ(n->arp_queue.qlen, 0);
	CHECK_EQ(mib(&h, "ArpResFailed"), 1);
	CHECK_EQ(mib(&h, "ArpOutRequests"), 3);
	/* Gc forgets the failed entry. */
	h_at(&h, 16 * NSEC_PER_SEC);
	CHECK(neigh_lookup(h.st, A("10.0.0.3")) == NULL);
	h_free(&h);
}

TEST(unresolved_queue_drops_oldest)
{
	struct harness h;
	uint8_t f[64];

	h_init(&h);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.neigh.default.unres_qlen", 3), 0);
	h_clear(&h);
	for (uint16_t seq = 1; seq <= 5; seq++)
		CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.2"), 1, seq, "x", 1), 0);
	CHECK_EQ(mib(&h, "ArpUnresolvedDiscards"), 2);
	CHECK_EQ(count_proto(&h, ETH_P_IP), 0);
	h_inject(&h, f, build_arp(f, H_MAC, 2, P_MAC, A("10.0.0.2"), H_MAC, A("10.0.0.1")));
	REQUIRE(count_proto(&h, ETH_P_IP) == 3);
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *r = nth_proto(&h, ETH_P_IP, i, NULL);
		CHECK_MEM(r, P_MAC, 6);
		CHECK_EQ(r[41], 3 + i); /* seq 3, 4, 5: the oldest went */
	}
	CHECK_EQ(neigh_lookup(h.st, A("10.0.0.2"))->nud_state, NUD_REACHABLE);
	h_free(&h);
}

/* The queue is bounded in bytes too (a TSO super-frame is 64 KiB): with
 * room for two 128-byte datagrams, five leave two, the newest. */
TEST(unresolved_queue_bytes_drop_oldest)
{
	struct harness h;
	uint8_t f[64], data[100];

	memset(data, 'x', sizeof(data));
	h_init(&h);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.neigh.default.unres_qlen_bytes", 300), 0);
	h_clear(&h);
	for (uint16_t seq = 1; seq <= 5; seq++)
		CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.2"), 1, seq, data, sizeof(data)), 0);
	CHECK_EQ(mib(&h, "ArpUnresolvedDiscards"), 3);
	h_inject(&h, f, build_arp(f, H_MAC, 2, P_MAC, A("10.0.0.2"), H_MAC, A("10.0.0.1")));
	REQUIRE(count_proto(&h, ETH_P_IP) == 2);
	for (size_t i = 0; i < 2; i++)
		CHECK_EQ(nth_proto(&h, ETH_P_IP, i, NULL)[41], 4 + i); /* seq 4, 5 */
	/* A datagram larger than the whole budget empties the queue and
	 * waits alone (Linux's __neigh_event_send). */
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.neigh.default.unres_qlen_bytes", 100), 0);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.9"), 1, 9, data, sizeof(data)), 0);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.9"), 1, 10, data, sizeof(data)), 0);
	CHECK_EQ(mib(&h, "ArpUnresolvedDiscards"), 4);
	CHECK_EQ(neigh_lookup(h.st, A("10.0.0.9"))->arp_queue.qlen, 1);
	h_free(&h);
}

/* A nonlinear frame (TCP's run for software GSO: headers here, payloads
 * in TCP's queue) is gathered before it waits: the payloads it pointed at
 * may be freed before the reply comes, and what leaves is still whole. */
TEST(unresolved_queue_gathers_a_nonlinear_frame)
{
	struct sk_buff_head frags;
	struct sk_buff *big, *f;
	struct harness h;
	uint8_t a[64], want[20 + 2 * 300];
	struct ipspec ip = { .saddr = A("10.0.0.1"), .daddr = A("10.0.0.2"), .protocol = 253 };
	const uint8_t *out;
	size_t len;

	h_init(&h);
	h_clear(&h);
	skb_queue_head_init(&frags);
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 7);
	build_ip(a, H_MAC, &ip, want, 0);   /* an IPv4 header to start from */
	memcpy(want, a + 14, 20);
	want[2] = (uint8_t)(sizeof(want) >> 8);
	want[3] = (uint8_t)sizeof(want);
	for (int k = 0; k < 2; k++) {
		f = skb_alloc(&h.st->skb_pool, 0, 300);
		memcpy(skb_put(f, 300), want + 20 + k * 300, 300);
		skb_queue_tail(&frags, f);
	}
	big = skb_alloc(&h.st->skb_pool, SKB_HEADROOM, 0);
	memcpy(skb_push(big, 20), want, 20);
	big->frag_list = list_first_entry(&frags.list, struct sk_buff, list);
	big->nr_frags = 2;
	big->data_len = 600;
	big->len += 600;
	CHECK_EQ(neigh_output(h.st, big, A("10.0.0.2")), 0);
	REQUIRE(neigh_lookup(h.st, A("10.0.0.2")) && neigh_lookup(h.st, A("10.0.0.2"))->arp_queue.qlen == 1);
	CHECK_EQ(list_first_entry(&neigh_lookup(h.st, A("10.0.0.2"))->arp_queue.list, struct sk_buff, list)->data_len, 0);
	skb_queue_purge(&frags);            /* TCP's queue moves on */
	h_inject(&h, a, build_arp(a, H_MAC, 2, P_MAC, A("10.0.0.2"), H_MAC, A("10.0.0.1")));
	out = nth_proto(&h, ETH_P_IP, 0, &len);
	REQUIRE(out);
	CHECK_EQ(len, 14 + sizeof(want));
	CHECK_MEM(out + 14, want, sizeof(want));
	CHECK_EQ(mib(&h, "ArpUnresolvedDiscards"), 0);
	h_free(&h);
}

TEST(reachable_stale_delay_probe)
{
	struct harness h;

	h_init(&h);
	h_learn_peer(&h);
	struct neighbour *n = neigh_lookup(h.st, A("10.0.0.2"));
	REQUIRE(n && n->nud_state == NUD_REACHABLE);
	uint64_t rt = h.st->arp.reachable_time;
	CHECK(rt >= 15 * NSEC_PER_SEC && rt < 45 * NSEC_PER_SEC);
	h_at(&h, rt - NSEC_PER_MSEC);
	CHECK_EQ(n->nud_state, NUD_REACHABLE);
	h_at(&h, rt + NSEC_PER_MSEC);
	CHECK_EQ(n->nud_state, NUD_STALE);
	/* Used while STALE: sent at once, then re-confirmed after 5 s by
	 * unicast probes. */
	uint64_t t0 = rt + NSEC_PER_MSEC;
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.2"), 1, 1, "x", 1), 0);
	CHECK_EQ(count_proto(&h, ETH_P_IP), 1);
	CHECK_EQ(n->nud_state, NUD_DELAY);
	h_at(&h, t0 + 5 * NSEC_PER_SEC);
	CHECK_EQ(n->nud_state, NUD_PROBE);
	REQUIRE(count_proto(&h, ETH_P_ARP) == 1);
	CHECK_MEM(nth_proto(&h, ETH_P_ARP, 0, NULL), P_MAC, 6);
	for (int s = 6; s <= 9; s++)
		h_at(&h, t0 + (uint64_t)s * NSEC_PER_SEC);
	CHECK_EQ(count_proto(&h, ETH_P_ARP), 3);
	CHECK_EQ(n->nud_state, NUD_FAILED);
	h_free(&h);
}

TEST(table_full)
{
	struct harness h;

	h_init(&h);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.neigh.default.gc_thresh3", 2), 0);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.3"), 1, 1, "x", 1), 0);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.4"), 1, 1, "x", 1), 0);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.5"), 1, 1, "x", 1), -ENOBUFS);
	CHECK_EQ(mib(&h, "ArpTableFulls"), 1);
	CHECK_EQ(h.st->arp.entries, 2);
	h_free(&h);
}

int main(void)
{
	RUN(gratuitous_on_up_exact_bytes);
	RUN(reply_to_request_and_learn);
	RUN(bad_arp_table);
	RUN(resolution_retries_then_fails);
	RUN(unresolved_queue_drops_oldest);
	RUN(unresolved_queue_bytes_drop_oldest);
	RUN(unresolved_queue_gathers_a_nonlinear_frame);
	RUN(reachable_stale_delay_probe);
	RUN(table_full);
	return TEST_SUMMARY();
}
