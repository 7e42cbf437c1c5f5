/* IPv4 input checks (in Linux's order), routing, output and IP IDs. */
#include <errno.h>
#include "../test.h"
#include "net_harness.h"
#include "net/ip.h"

/* A valid echo request frame from the peer (48 bytes before padding). */
static size_t valid_frame(uint8_t *f)
{
	uint8_t body[32];
	static const uint8_t d[8] = "12345678";
	struct ipspec s = { .saddr = A("10.0.0.2"), .daddr = A("10.0.0.1"), .protocol = 1, .id = 1 };
	return build_ip(f, H_MAC, &s, body, build_echo_body(body, 8, 1, 1, d, 8));
}

static void refresh_csum(uint8_t *f)
{
	f[24] = f[25] = 0;
	uint16_t c = ip_compute_csum(f + 14, (f[14] & 0xf) * 4u);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
}

enum mutation { M_NONE, M_VERSION6, M_IHL4, M_IHL6, M_CSUM, M_TOTLEN_BIG, M_TOTLEN_SMALL, M_DST_OTHER,
		M_SRC_MCAST, M_SRC_LOOP, M_SRC_ZERO, M_SRC_OURS, M_SRC_BCAST, M_PROTO_UNKNOWN, M_PAD };

TEST(ip_rcv_checks_table)
{
	static const struct {
		const char *name;
		enum mutation m;
		const char *ctr;   /* the counter that must move (1) */
		int replies;       /* IP frames sent back */
	} cases[] = {
		{ "valid", M_NONE, "IpInDelivers", 1 },
		{ "version 6", M_VERSION6, "IpInHdrErrors", 0 },
		{ "ihl 4", M_IHL4, "IpInHdrErrors", 0 },
		{ "ihl 6 past the frame", M_IHL6, "IpInHdrErrors", 0 },
		{ "bad checksum", M_CSUM, "IpExtInCsumErrors", 0 },
		{ "tot_len beyond frame", M_TOTLEN_BIG, "IpExtInTruncatedPkts", 0 },
		{ "tot_len below header", M_TOTLEN_SMALL, "IpInHdrErrors", 0 },
		{ "not for us", M_DST_OTHER, "IpInAddrErrors", 0 },
		{ "multicast source", M_SRC_MCAST, "IpInAddrErrors", 0 },
		{ "loopback source", M_SRC_LOOP, "IpInAddrErrors", 0 },
		{ "zero source to unicast", M_SRC_ZERO, "IpInAddrErrors", 0 },
		{ "our own source", M_SRC_OURS, "IpInAddrErrors", 0 },
		{ "subnet broadcast source", M_SRC_BCAST, "IpInAddrErrors", 0 },
		{ "unknown protocol", M_PROTO_UNKNOWN, "IpInUnknownProtos", 1 },
		{ "link padding trimmed", M_PAD, "IcmpInEchos", 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct harness h;
		uint8_t f[128] = { 0 };
		size_t n;

		h_init(&h);
		h_learn_peer(&h);
		n = valid_frame(f);
		switch (cases[i].m) {
		case M_NONE: break;
		case M_VERSION6: f[14] = 0x65; refresh_csum(f); break;
		case M_IHL4: f[14] = 0x44; break;
		case M_IHL6: f[14] = 0x4f; n = 14 + 40; break;
		case M_CSUM: f[24] ^= 1; break;
		case M_TOTLEN_BIG: f[17] = 37; refresh_csum(f); n = 14 + 36; break;
		case M_TOTLEN_SMALL: f[17] = 19; refresh_csum(f); break;
		case M_DST_OTHER: f[33] = 9; refresh_csum(f); break;
		case M_SRC_MCAST: f[26] = 224; refresh_csum(f); break;
		case M_SRC_LOOP: f[26] = 127; f[29] = 1; refresh_csum(f); break;
		case M_SRC_ZERO: memset(f + 26, 0, 4); refresh_csum(f); break;
		case M_SRC_OURS: f[29] = 1; refresh_csum(f); break;
		case M_SRC_BCAST: f[29] = 255; refresh_csum(f); break;
		case M_PROTO_UNKNOWN: f[23] = 99; refresh_csum(f); break;
		case M_PAD: n = 60; break;
		}
		h_inject(&h, f, n);
		if (mib(&h, cases[i].ctr) != 1 || count_proto(&h, ETH_P_IP) != (size_t)cases[i].replies)
			fprintf(stderr, "case: %s\n", cases[i].name);
		CHECK_EQ(mib(&h, cases[i].ctr), 1);
		CHECK_EQ(mib(&h, "IpInReceives"), 1);
		CHECK_EQ(count_proto(&h, ETH_P_IP), cases[i].replies);
		CHECK_EQ(mib(&h, "IpInDelivers"), cases[i].m == M_NONE || cases[i].m == M_PAD);
		if (cases[i].m == M_CSUM)
			CHECK_EQ(mib(&h, "IpInHdrErrors"), 1);
		if (cases[i].m == M_PROTO_UNKNOWN) {
			const uint8_t *r = nth_proto(&h, ETH_P_IP, 0, NULL);
			CHECK_EQ(r[34], 3);
			CHECK_EQ(r[35], 2);
		}
		if (cases[i].m == M_PAD) {
			const uint8_t *r = nth_proto(&h, ETH_P_IP, 0, NULL);
			CHECK_EQ(r[17], 36); /* reply tot_len: the padding was not echoed */
		}
		h_free(&h);
	}
}

TEST(ip_rcv_truncated_at_every_length)
{
	uint8_t f[128];
	size_t full = valid_frame(f);

	for (size_t n = 14; n < full; n++) {
		struct harness h;

		h_init(&h);
		h_clear(&h);
		h_inject(&h, f, n);
		if (n < 34)
			CHECK_EQ(mib(&h, "IpInHdrErrors"), 1);
		else
			CHECK_EQ(mib(&h, "IpExtInTruncatedPkts"), 1);
		CHECK_EQ(mib(&h, "IpInDelivers"), 0);
		CHECK_EQ(h.cap->n, 0);
		h_free(&h);
	}
}

static struct sk_buff *payload_skb(struct stack *st, size_t len)
{
	struct sk_buff *skb = skb_alloc(&st->skb_pool, SKB_HEADROOM, (uint32_t)len);
	memset(skb_put(skb, (uint32_t)len), 0xab, len);
	return skb;
}

TEST(route_output)
{
	struct harness h;
	uint32_t nh = 0, src = 0;

	h_init(&h);
	CHECK_EQ(ip_route_output(h.st, A("10.0.0.9"), &nh, &src), 0);
	CHECK_EQ(nh, A("10.0.0.9"));
	CHECK_EQ(src, A("10.0.0.1"));
	CHECK_EQ(ip_route_output(h.st, A("8.8.8.8"), &nh, &src), 0);
	CHECK_EQ(nh, A("10.0.0.254"));
	CHECK_EQ(ip_route_output(h.st, A("127.0.0.1"), &nh, &src), -ENETUNREACH);
	h.st->dev.gateway = 0;
	CHECK_EQ(ip_route_output(h.st, A("8.8.8.8"), &nh, &src), -ENETUNREACH);
	struct ip_out o = { .daddr = A("8.8.8.8"), .protocol = 17 };
	CHECK_EQ(ip_build_and_send_pkt(h.st, payload_skb(h.st, 10), &o), -ENETUNREACH);
	CHECK_EQ(mib(&h, "IpOutNoRoutes"), 1);
	CHECK(ip_is_broadcast(h.st, A("10.0.0.255")));
	CHECK(ip_is_broadcast(h.st, A("255.255.255.255")));
	CHECK(!ip_is_broadcast(h.st, A("10.0.0.254")));
	h_free(&h);
}

TEST(output_header_and_broadcast)
{
	struct harness h;
	struct ip_out o = { .daddr = A("10.0.0.255"), .protocol = 17, .df = true, .tos = 0x08, .ttl = 7 };
	size_t len;

	h_init(&h);
	h_clear(&h);
	CHECK_EQ(ip_build_and_send_pkt(h.st, payload_skb(h.st, 100), &o), 0);
	const uint8_t *r = nth_proto(&h, ETH_P_IP, 0, &len);
	REQUIRE(r);
	CHECK_EQ(h.cap->n, 1); /* no ARP for a broadcast */
	CHECK_MEM(r, BCAST, 6);
	static const uint8_t hdr[12] = { 0x45, 0x08, 0, 120, 0, 0, 0x40, 0, 7, 17 };
	CHECK_MEM(r + 14, hdr, 10); /* DF without a socket: ID 0 */
	CHECK_EQ(ip_compute_csum(r + 14, 20), 0);
	CHECK_EQ(mib(&h, "IpOutRequests"), 1);
	CHECK_EQ(mib(&h, "IpExtOutBcastPkts"), 1);
	h_free(&h);
}

TEST(ip_ident_per_destination)
{
	struct harness h;

	h_init(&h);
	/* Same jiffy, same bucket: consecutive. */
	uint16_t a = ip_select_ident(h.st, A("10.0.0.2"), A("10.0.0.1"), 17, 1);
	uint16_t b = ip_select_ident(h.st, A("10.0.0.2"), A("10.0.0.1"), 17, 3);
	uint16_t c = ip_select_ident(h.st, A("10.0.0.2"), A("10.0.0.1"), 17, 1);
	CHECK_EQ((uint16_t)(a + 1), b);
	CHECK_EQ((uint16_t)(b + 3), c);
	/* After 1000 idle jiffies the bucket jumps by 1..1000. */
	h_at(&h, NSEC_PER_SEC);
	uint16_t d = ip_select_ident(h.st, A("10.0.0.2"), A("10.0.0.1"), 17, 1);
	uint16_t gap = (uint16_t)(d - c);
	CHECK(gap >= 1 && gap <= 1000);
	h_free(&h);
}

int main(void)
{
	RUN(ip_rcv_checks_table);
	RUN(ip_rcv_truncated_at_every_length);
	RUN(route_output);
	RUN(output_header_and_broadcast);
	RUN(ip_ident_per_destination);
	return TEST_SUMMARY();
}
