/* Reassembly (order, overlaps, duplicates, memory bounds, timeout) and
 * output fragmentation. */
#include <errno.h>
#include "../test.h"
#include "net_harness.h"
#include "net/ip.h"

/* An echo request of 100 data bytes (108 ICMP bytes) cut by the test. */
static uint8_t body[2048];
static size_t body_len;

static void make_body(size_t data)
{
	uint8_t d[2048];
	for (size_t i = 0; i < data; i++)
		d[i] = (uint8_t)(i * 7);
	body_len = build_echo_body(body, 8, 1, 1, d, data);
}

static void frag(struct harness *h, uint32_t saddr, uint16_t id, size_t off, size_t len, bool more)
{
	uint8_t f[1600];
	struct ipspec s = { .saddr = saddr, .daddr = A("10.0.0.1"), .protocol = 1, .id = id,
			    .frag_off = (uint16_t)((off / 8) | (more ? IP_MF : 0)) };
	h_inject(h, f, build_ip(f, H_MAC, &s, body + off, len));
}

static void peer(struct harness *h, uint16_t id, size_t off, size_t len, bool more)
{
	frag(h, A("10.0.0.2"), id, off, len, more);
}

static bool replied_with_body(struct harness *h)
{
	size_t len;
	const uint8_t *r = nth_proto(h, ETH_P_IP, 0, &len);
	return r && len >= 34 + body_len && r[34] == 0 && memcmp(r + 42, body + 8, body_len - 8) == 0;
}

TEST(in_order_and_reverse)
{
	for (int rev = 0; rev < 2; rev++) {
		struct harness h;

		h_init(&h);
		h_learn_peer(&h);
		make_body(100);
		if (!rev) {
			peer(&h, 5, 0, 40, true);
			peer(&h, 5, 40, 40, true);
			CHECK_EQ(h.cap->n, 0);
			peer(&h, 5, 80, 28, false);
		} else {
			peer(&h, 5, 80, 28, false);
			peer(&h, 5, 40, 40, true);
			CHECK_EQ(h.cap->n, 0);
			peer(&h, 5, 0, 40, true);
		}
		CHECK(replied_with_body(&h));
		CHECK_EQ(mib(&h, "IpReasmReqds"), 3);
		CHECK_EQ(mib(&h, "IpReasmOKs"), 1);
		CHECK_EQ(mib(&h, "IpReasmFails"), 0);
		CHECK_EQ(mib(&h, "IpInDelivers"), 1);
		CHECK_EQ(h.st->frags.nqueues, 0);
		CHECK_EQ(h.st->frags.mem, 0);
		h_free(&h);
	}
}

TEST(overlap_kills_the_datagram)
{
	struct harness h;

	h_init(&h);
	h_learn_peer(&h);
	make_body(100);
	peer(&h, 5, 0, 40, true);
	peer(&h, 5, 32, 40, true);
	CHECK_EQ(mib(&h, "IpExtReasmOverlaps"), 1);
	CHECK_EQ(mib(&h, "IpReasmFails"), 1);
	CHECK_EQ(h.st->frags.nqueues, 0);
	/* The rest starts a fresh queue that never completes. */
	peer(&h, 5, 40, 40, true);
	peer(&h, 5, 80, 28, false);
	CHECK_EQ(h.cap->n, 0);
	CHECK_EQ(mib(&h, "IpReasmOKs"), 0);
	h_free(&h);
}

TEST(duplicates_are_dropped_quietly)
{
	struct harness h;

	h_init(&h);
	h_learn_peer(&h);
	make_body(100);
	peer(&h, 5, 0, 40, true);
	peer(&h, 5, 0, 40, true);   /* exact duplicate */
	peer(&h, 5, 40, 40, true);
	peer(&h, 5, 8, 48, true);   /* inside the run [0, 80) */
	CHECK_EQ(mib(&h, "IpReasmFails"), 0);
	CHECK_EQ(mib(&h, "IpExtReasmOverlaps"), 0);
	peer(&h, 5, 80, 28, false);
	CHECK(replied_with_body(&h));
	CHECK_EQ(mib(&h, "IpReasmOKs"), 1);
	h_free(&h);
}

TEST(timeout_sends_time_exceeded)
{
	struct harness h;
	size_t len = 0;

	h_init(&h);
	h_learn_peer(&h);
	make_body(100);
	peer(&h, 5, 0, 40, true);          /* first fragment only */
	frag(&h, A("10.0.0.3"), 6, 40, 40, true); /* no first fragment */
	h_at(&h, 30 * NSEC_PER_SEC - NSEC_PER_MSEC);
	CHECK_EQ(mib(&h, "IpReasmTimeout"), 0);
	h_at(&h, 30 * NSEC_PER_SEC);
	CHECK_EQ(mib(&h, "IpReasmTimeout"), 2);
	CHECK_EQ(mib(&h, "IpReasmFails"), 2);
	CHECK_EQ(h.st->frags.mem, 0);
	const uint8_t *r = nth_proto(&h, ETH_P_IP, 0, &len);
	REQUIRE(r);
	CHECK_EQ(count_proto(&h, ETH_P_IP), 1);
	CHECK_EQ(r[30], 10); /* to 10.0.0.2 only */
	CHECK_EQ(r[33], 2);
	CHECK_EQ(r[34], 11); /* time exceeded */
	CHECK_EQ(r[35], 1);  /* fragment reassembly */
	CHECK_EQ(len, 34 + 8 + 20 + 40);
	CHECK_EQ(r[42 + 6], 0x20); /* the quoted header: MF, offset 0 */
	CHECK_EQ(mib(&h, "IcmpOutTimeExcds"), 1);
	h_free(&h);
}

TEST(total_memory_bound)
{
	struct harness h;
	int i;

	h_init(&h);
	make_body(100);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.ipfrag_high_thresh", 10000), 0);
	for (i = 0; i < 100 && mib(&h, "IpReasmFails") == 0; i++)
		frag(&h, htonl(0x0a000100u + (uint32_t)i), 1, 0, 40, true);
	CHECK(i > 2 && i < 100);
	CHECK(h.st->frags.mem > 10000);
	uint64_t mem = h.st->frags.mem;
	/* Above the mark even fragments of started datagrams are refused. */
	frag(&h, htonl(0x0a000100u), 1, 40, 40, true);
	CHECK_EQ(mib(&h, "IpReasmFails"), 2);
	CHECK_EQ(h.st->frags.mem, mem);
	h_at(&h, 31 * NSEC_PER_SEC);
	CHECK_EQ(h.st->frags.mem, 0);
	CHECK_EQ(h.st->frags.nqueues, 0);
	h_free(&h);
}

TEST(per_source_memory_bound)
{
	struct harness h;
	int i;

	h_init(&h);
	make_body(100);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.ipfrag_src_thresh", 10000), 0);
	for (i = 0; i < 100 && mib(&h, "IpReasmFails") == 0; i++)
		frag(&h, A("10.0.0.7"), (uint16_t)i, 0, 40, true);
	CHECK(i > 2 && i < 100);
	uint32_t q = h.st->frags.nqueues;
	/* Another source still gets in. */
	frag(&h, A("10.0.0.8"), 1, 0, 40, true);
	CHECK_EQ(h.st->frags.nqueues, q + 1);
	CHECK_EQ(mib(&h, "IpReasmFails"), 1);
	h_free(&h);
}

TEST(oversized_datagram_fails)
{
	struct harness h;
	uint8_t f[1600], pay[1480] = { 0 };
	size_t off;

	h_init(&h);
	h_learn_peer(&h);
	for (off = 0; off + 1480 <= 65520; off += 1480) {
		struct ipspec s = { .saddr = A("10.0.0.2"), .daddr = A("10.0.0.1"), .protocol = 1, .id = 9,
				    .frag_off = (uint16_t)((off / 8) | IP_MF) };
		h_inject(&h, f, build_ip(f, H_MAC, &s, pay, 1480));
	}
	struct ipspec s = { .saddr = A("10.0.0.2"), .daddr = A("10.0.0.1"), .protocol = 1, .id = 9,
			    .frag_off = (uint16_t)(off / 8) };
	h_inject(&h, f, build_ip(f, H_MAC, &s, pay, 600)); /* ends at 65720 */
	CHECK_EQ(mib(&h, "IpReasmFails"), 1);
	CHECK_EQ(mib(&h, "IpReasmOKs"), 0);
	CHECK_EQ(h.st->frags.nqueues, 0);
	CHECK_EQ(h.cap->n, 0);
	h_free(&h);
}

TEST(output_fragmentation)
{
	struct harness h;
	uint8_t d[4000];
	static const size_t want_len[3] = { 1514, 1514, 14 + 20 + 1048 };
	static const uint16_t want_off[3] = { IP_MF | 0, IP_MF | 185, 370 };

	memset(d, 0x5a, sizeof(d));
	h_init(&h);
	h_learn_peer(&h);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.2"), 1, 1, d, sizeof(d)), 0);
	REQUIRE(count_proto(&h, ETH_P_IP) == 3);
	for (size_t i = 0; i < 3; i++) {
		size_t len = 0;
		const uint8_t *r = nth_proto(&h, ETH_P_IP, i, &len);
		REQUIRE(r);
		CHECK_EQ(len, want_len[i]);
		CHECK_EQ((r[20] << 8) | r[21], want_off[i]);
		CHECK_EQ((r[16] << 8 | r[17]), len - 14);
		CHECK_MEM(r + 18, nth_proto(&h, ETH_P_IP, 0, NULL) + 18, 2); /* one ID */
		CHECK_EQ(ip_compute_csum(r + 14, 20), 0);
	}
	CHECK_EQ(mib(&h, "IpFragCreates"), 3);
	CHECK_EQ(mib(&h, "IpFragOKs"), 1);
	CHECK_EQ(mib(&h, "IpOutRequests"), 1);
	CHECK_EQ(mib(&h, "IpOutTransmits"), 3);
	/* DF and too big: refused. */
	struct sk_buff *skb = skb_alloc(&h.st->skb_pool, SKB_HEADROOM, 2000);
	memset(skb_put(skb, 2000), 0, 2000);
	struct ip_out o = { .daddr = A("10.0.0.2"), .protocol = 17, .df = true };
	CHECK_EQ(ip_build_and_send_pkt(h.st, skb, &o), -EMSGSIZE);
	CHECK_EQ(mib(&h, "IpFragFails"), 1);
	CHECK_EQ(count_proto(&h, ETH_P_IP), 3);
	h_free(&h);
}

int main(void)
{
	RUN(in_order_and_reverse);
	RUN(overlap_kills_the_datagram);
	RUN(duplicates_are_dropped_quietly);
	RUN(timeout_sends_time_exceeded);
	RUN(total_memory_bound);
	RUN(per_source_memory_bound);
	RUN(oversized_datagram_fails);
	RUN(output_fragmentation);
	return TEST_SUMMARY();
}
