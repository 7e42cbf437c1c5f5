/* ICMP: echo, errors with Linux's rules, rate limits; the UDP stub. */
#include <errno.h>
#include "../test.h"
#include "net_harness.h"
#include "net/icmp.h"
#include "net/ip.h"

static const uint8_t DATA8[8] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };

static size_t echo_frame(uint8_t *f, uint32_t daddr, const uint8_t *mac, uint16_t seq)
{
	uint8_t body[64];
	size_t bl = build_echo_body(body, ICMP_ECHO, 0x1234, seq, DATA8, sizeof(DATA8));
	struct ipspec s = { .saddr = A("10.0.0.2"), .daddr = daddr, .protocol = 1, .id = 0x0100, .frag_off = IP_DF,
			    .tos = 0x10 };
	return build_ip(f, mac, &s, body, bl);
}

TEST(echo_reply_exact_bytes)
{
	struct harness h;
	uint8_t f[128];
	size_t len;
	const uint8_t *r;

	h_init(&h);
	h_learn_peer(&h);
	h_inject(&h, f, echo_frame(f, A("10.0.0.1"), H_MAC, 7));
	REQUIRE(h.cap->n == 1);
	r = nth_proto(&h, ETH_P_IP, 0, &len);
	REQUIRE(r);
	CHECK_EQ(len, 60); /* 14 + 20 + 16 = 50, padded */
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	CHECK_MEM(r, eth, 14);
	/* version/ihl, TOS copied, tot_len 36, (id), no DF, TTL 64, ICMP */
	static const uint8_t ip0[4] = { 0x45, 0x10, 0x00, 0x24 };
	static const uint8_t ip6[4] = { 0x00, 0x00, 64, 1 };
	CHECK_MEM(r + 14, ip0, 4);
	CHECK_MEM(r + 20, ip6, 4);
	CHECK_EQ(ip_compute_csum(r + 14, 20), 0);
	static const uint8_t addrs[8] = { 10, 0, 0, 1, 10, 0, 0, 2 };
	CHECK_MEM(r + 26, addrs, 8);
	/* type 0 code 0, checksum, id 0x1234, seq 7, the data */
	uint8_t icmp[16];
	build_echo_body(icmp, ICMP_ECHOREPLY, 0x1234, 7, DATA8, 8);
	CHECK_MEM(r + 34, icmp, 16);
	for (size_t i = 50; i < 60; i++)
		CHECK_EQ(r[i], 0);
	CHECK_EQ(mib(&h, "IcmpInMsgs"), 1);
	CHECK_EQ(mib(&h, "IcmpInEchos"), 1);
	CHECK_EQ(mib(&h, "IcmpMsgInType8"), 1);
	CHECK_EQ(mib(&h, "IcmpOutMsgs"), 1);
	CHECK_EQ(mib(&h, "IcmpOutEchoReps"), 1);
	CHECK_EQ(mib(&h, "IcmpMsgOutType0"), 1);
	CHECK_EQ(mib(&h, "IpInDelivers"), 1);
	h_free(&h);
}

TEST(echo_ignore_all_and_broadcasts)
{
	struct harness h;
	uint8_t f[128];

	h_init(&h);
	h_learn_peer(&h);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.icmp_echo_ignore_all", 1), 0);
	h_inject(&h, f, echo_frame(f, A("10.0.0.1"), H_MAC, 1));
	CHECK_EQ(h.cap->n, 0);
	CHECK_EQ(mib(&h, "IcmpInEchos"), 1);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.icmp_echo_ignore_all", 0), 0);
	/* Broadcast echo: ignored by default, counted as an input error. */
	h_inject(&h, f, echo_frame(f, A("10.0.0.255"), BCAST, 2));
	h_inject(&h, f, echo_frame(f, A("255.255.255.255"), BCAST, 3));
	CHECK_EQ(h.cap->n, 0);
	CHECK_EQ(mib(&h, "IcmpInErrors"), 2);
	CHECK_EQ(mib(&h, "IpExtInBcastPkts"), 2);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.icmp_echo_ignore_broadcasts", 0), 0);
	h_inject(&h, f, echo_frame(f, A("10.0.0.255"), BCAST, 4));
	REQUIRE(h.cap->n == 1);
	/* Answered from the interface address, not the broadcast. */
	static const uint8_t src[4] = { 10, 0, 0, 1 };
	CHECK_MEM(h.cap->frames[0] + 26, src, 4);
	h_free(&h);
}

TEST(icmp_bad_input_table)
{
	static const struct {
		const char *name;
		size_t len;        /* ICMP bytes to send */
		int corrupt;       /* flip the checksum */
		uint8_t type;
		const char *ctr;
	} cases[] = {
		{ "empty", 0, 0, 8, "IcmpInCsumErrors" },
		{ "short header, good csum", 4, 0, 8, "IcmpInErrors" },
		{ "bad checksum", 16, 1, 8, "IcmpInCsumErrors" },
		{ "unknown type", 16, 0, 40, "IcmpInErrors" },
		{ "unreach without quoted header", 16, 0, 3, "IcmpInErrors" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct harness h;
		uint8_t body[64] = { 0 }, f[128];
		struct ipspec s = { .saddr = A("10.0.0.2"), .daddr = A("10.0.0.1"), .protocol = 1 };

		h_init(&h);
		h_learn_peer(&h);
		build_echo_body(body, cases[i].type, 1, 1, DATA8, 8);
		if (cases[i].len == 4) {
			uint16_t c;
			body[2] = body[3] = 0;
			c = ip_compute_csum(body, 4);
			body[2] = (uint8_t)(c >> 8);
			body[3] = (uint8_t)c;
		}
		if (cases[i].corrupt)
			body[9] ^= 1;
		h_inject(&h, f, build_ip(f, H_MAC, &s, body, cases[i].len));
		if (mib(&h, cases[i].ctr) != 1 || h.cap->n != 0 || mib(&h, "IcmpInMsgs") != 1)
			fprintf(stderr, "case %s\n", cases[i].name);
		CHECK_EQ(mib(&h, cases[i].ctr), 1);
		CHECK_EQ(mib(&h, "IcmpInErrors"), 1);
		CHECK_EQ(h.cap->n, 0);
		CHECK_EQ(mib(&h, "IcmpOutMsgs"), 0);
		h_free(&h);
	}
}

static size_t udp_frame(uint8_t *f, uint32_t daddr, const uint8_t *mac, uint16_t frag_off, bool bad_csum)
{
	uint8_t u[16] = { 0x30, 0x39, 0x00, 0x35, 0x00, 0x10 }; /* 12345 -> 53, len 16 */
	struct ipspec s = { .saddr = A("10.0.0.2"), .daddr = daddr, .protocol = 17, .frag_off = frag_off };
	uint64_t sum;

	memcpy(u + 8, DATA8, 8);
	sum = csum_tcpudp_nofold(s.saddr, daddr, 16, 17, csum_partial(u, 16, 0));
	uint16_t c = csum_fold(sum);
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
	if (bad_csum)
		u[15] ^= 0xff;
	return build_ip(f, mac, &s, u, 16);
}

TEST(port_unreachable_quotes_the_datagram)
{
	struct harness h;
	uint8_t f[128];
	size_t flen, len;
	const uint8_t *r;

	h_init(&h);
	h_learn_peer(&h);
	flen = udp_frame(f, A("10.0.0.1"), H_MAC, 0, false);
	h_inject(&h, f, flen);
	CHECK_EQ(mib(&h, "UdpNoPorts"), 1);
	r = nth_proto(&h, ETH_P_IP, 0, &len);
	REQUIRE(r);
	CHECK_EQ(len, 14 + 20 + 8 + 36);
	CHECK_EQ(r[14 + 1], 0xc0);        /* precedence internetwork control */
	CHECK_EQ(r[14 + 9], 1);
	CHECK_EQ(r[34], 3);
	CHECK_EQ(r[35], 3);
	CHECK_EQ(ip_compute_csum(r + 34, 8 + 36), 0);
	CHECK_MEM(r + 34 + 8, f + 14, 36); /* the whole offending datagram */
	CHECK_EQ(mib(&h, "IcmpOutDestUnreachs"), 1);
	CHECK_EQ(mib(&h, "IcmpMsgOutType3"), 1);
	h_free(&h);
}

TEST(udp_bad_input_and_no_error_cases)
{
	struct harness h;
	uint8_t f[128];

	h_init(&h);
	h_learn_peer(&h);
	h_inject(&h, f, udp_frame(f, A("10.0.0.1"), H_MAC, 0, true));
	CHECK_EQ(mib(&h, "UdpInCsumErrors"), 1);
	CHECK_EQ(mib(&h, "UdpInErrors"), 1);
	/* Broadcast: ignored, never an ICMP error. */
	h_inject(&h, f, udp_frame(f, A("10.0.0.255"), BCAST, 0, false));
	CHECK_EQ(mib(&h, "UdpIgnoredMulti"), 1);
	/* Bad UDP length (bigger than the datagram). */
	size_t n = udp_frame(f, A("10.0.0.1"), H_MAC, 0, false);
	f[34 + 5] = 0x40;
	h_inject(&h, f, n);
	CHECK_EQ(mib(&h, "UdpInErrors"), 2);
	/* Unicast to our IP but in a link broadcast frame: no error. */
	h_inject(&h, f, udp_frame(f, A("10.0.0.1"), BCAST, 0, false));
	CHECK_EQ(mib(&h, "UdpNoPorts"), 1);
	CHECK_EQ(h.cap->n, 0);
	h_free(&h);
}

TEST(no_error_about_icmp_errors)
{
	struct harness h;
	uint8_t f[256], body[128];
	struct ipspec s = { .saddr = A("10.0.0.2"), .daddr = A("10.0.0.1"), .protocol = 1 };

	h_init(&h);
	h_learn_peer(&h);
	/* An ICMP error carried to an unknown protocol handler is impossible;
	 * instead ask for prot unreach about an ICMP error via icmp_send. */
	memset(body, 0, sizeof(body));
	body[0] = 3;
	body[8] = 0x45;
	uint16_t c = ip_compute_csum(body, 36);
	body[2] = (uint8_t)(c >> 8);
	body[3] = (uint8_t)c;
	size_t n = build_ip(f, H_MAC, &s, body, 36);
	struct sk_buff *skb = skb_alloc(&h.st->skb_pool, SKB_HEADROOM, (uint32_t)n);
	memcpy(skb_put(skb, (uint32_t)n), f, n);
	skb_reset_mac_header(skb);
	skb_pull(skb, 14);
	skb_reset_network_header(skb);
	icmp_send(h.st, skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	CHECK_EQ(h.cap->n, 0);
	/* The same skb but an echo request inside: allowed. */
	skb->data[20] = 8;
	icmp_send(h.st, skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	CHECK_EQ(h.cap->n, 1);
	/* Non-first fragment: never. */
	h_clear(&h);
	skb->data[6] = 0x00;
	skb->data[7] = 0x10;
	icmp_send(h.st, skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	CHECK_EQ(h.cap->n, 0);
	kfree_skb(skb);
	h_free(&h);
}

TEST(port_unreachable_rate_limit_per_destination)
{
	struct harness h;
	uint8_t f[128];
	size_t n;

	h_init(&h);
	h_learn_peer(&h);
	n = udp_frame(f, A("10.0.0.1"), H_MAC, 0, false);
	/* Burst: XRLIM_BURST_FACTOR (6) at once, then nothing. */
	for (int i = 0; i < 10; i++)
		h_inject(&h, f, n);
	CHECK_EQ(count_proto(&h, ETH_P_IP), 6);
	CHECK_EQ(mib(&h, "IcmpOutRateLimitHost"), 4);
	CHECK_EQ(mib(&h, "UdpNoPorts"), 10);
	/* Then one per icmp_ratelimit (1000 ms). */
	h_clear(&h);
	h_at(&h, 999 * NSEC_PER_MSEC);
	h_inject(&h, f, n);
	CHECK_EQ(count_proto(&h, ETH_P_IP), 0);
	h_at(&h, 1000 * NSEC_PER_MSEC);
	h_inject(&h, f, n);
	h_inject(&h, f, n);
	CHECK_EQ(count_proto(&h, ETH_P_IP), 1);
	h_at(&h, 2000 * NSEC_PER_MSEC);
	h_inject(&h, f, n);
	CHECK_EQ(count_proto(&h, ETH_P_IP), 2);
	CHECK_EQ(mib(&h, "IcmpOutRateLimitHost"), 6);
	/* Echo replies are outside icmp_ratemask. */
	h_clear(&h);
	for (int i = 0; i < 10; i++)
		h_inject(&h, f, echo_frame(f, A("10.0.0.1"), H_MAC, (uint16_t)i));
	CHECK_EQ(count_proto(&h, ETH_P_IP), 10);
	h_free(&h);
}

TEST(global_rate_limit)
{
	struct harness h;
	uint8_t f[128];

	h_init(&h);
	h_learn_peer(&h);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.icmp_ratelimit", 0), 0);
	CHECK_EQ(synack_sysctl_set(h.st, "net.ipv4.icmp_msgs_burst", 5), 0);
	size_t n = udp_frame(f, A("10.0.0.1"), H_MAC, 0, false);
	for (int i = 0; i < 40; i++)
		h_inject(&h, f, n);
	/* 5 credits spent 0..2 at a time: between 3 and 40 pass, and once
	 * the bucket is empty the global counter moves. */
	size_t sent = count_proto(&h, ETH_P_IP);
	CHECK(sent >= 3 && sent < 40);
	CHECK_EQ(mib(&h, "IcmpOutRateLimitGlobal"), 40 - sent);
	CHECK_EQ(mib(&h, "IcmpOutRateLimitHost"), 0);
	h_free(&h);
}

struct echo_seen {
	int n;
	struct synack_echo_reply last;
	uint8_t data[16];
};
static void on_echo(void *ctx, const struct synack_echo_reply *r)
{
	struct echo_seen *e = ctx;
	e->n++;
	e->last = *r;
	memcpy(e->data, r->payload, r->len < 16 ? r->len : 16);
}

TEST(echo_reply_to_handler_and_echo_send)
{
	struct harness h;
	struct echo_seen e = { 0 };
	uint8_t f[128], body[64];
	struct ipspec s = { .saddr = A("10.0.0.2"), .daddr = A("10.0.0.1"), .protocol = 1, .ttl = 33 };
	size_t len;

	h_init(&h);
	h_learn_peer(&h);
	synack_ping_set_handler(h.st, on_echo, &e);
	h_inject(&h, f, build_ip(f, H_MAC, &s, body, build_echo_body(body, 0, 9, 10, DATA8, 8)));
	CHECK_EQ(e.n, 1);
	CHECK_EQ(e.last.id, 9);
	CHECK_EQ(e.last.seq, 10);
	CHECK_EQ(e.last.ttl, 33);
	CHECK_EQ(e.last.len, 8);
	CHECK_EQ(e.last.from.s_addr, A("10.0.0.2"));
	CHECK_MEM(e.data, DATA8, 8);
	CHECK_EQ(mib(&h, "IcmpInEchoReps"), 1);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.2"), 5, 6, DATA8, 8), 0);
	const uint8_t *r = nth_proto(&h, ETH_P_IP, 0, &len);
	REQUIRE(r);
	build_echo_body(body, 8, 5, 6, DATA8, 8);
	CHECK_MEM(r + 34, body, 16);
	CHECK_EQ(mib(&h, "IcmpOutEchos"), 1);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.2"), 5, 6, NULL, 8), -EINVAL);
	CHECK_EQ(icmp_send_echo(h.st, A("10.0.0.2"), 5, 6, DATA8, 70000), -EMSGSIZE);
	h_free(&h);
}

int main(void)
{
	RUN(echo_reply_exact_bytes);
	RUN(echo_ignore_all_and_broadcasts);
	RUN(icmp_bad_input_table);
	RUN(port_unreachable_quotes_the_datagram);
	RUN(udp_bad_input_and_no_error_cases);
	RUN(no_error_about_icmp_errors);
	RUN(port_unreachable_rate_limit_per_destination);
	RUN(global_rate_limit);
	RUN(echo_reply_to_handler_and_echo_send);
	return TEST_SUMMARY();
}
