/* Ethernet input filtering and output padding. */
#include <errno.h>
#include "../test.h"
#include "net_harness.h"

TEST(eth_rcv_table)
{
	static const uint8_t OTHER[6] = { 2, 0, 0, 0, 0, 9 };
	static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t ZERO[6];
	static const struct {
		const char *name;
		const uint8_t *dst;
		uint16_t proto;
		size_t len;        /* 0: the full ARP frame */
		const char *ctr;
	} cases[] = {
		{ "empty", H_MAC, ETH_P_ARP, 0xffff, "LinkRxLengthErrors" },
		{ "13 bytes", H_MAC, ETH_P_ARP, 13, "LinkRxLengthErrors" },
		{ "other host", OTHER, ETH_P_ARP, 0, "LinkRxOtherHost" },
		{ "multicast not joined", MCAST, ETH_P_ARP, 0, "LinkRxOtherHost" },
		{ "IPv6", H_MAC, 0x86dd, 0, "LinkRxUnknownProto" },
		{ "802.3 length", H_MAC, 0x0040, 0, "LinkRxUnknownProto" },
		{ "broadcast ARP", BCAST, ETH_P_ARP, 0, "ArpInRequests" },
		{ "unicast ARP", H_MAC, ETH_P_ARP, 0, "ArpInRequests" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct harness h;
		uint8_t f[64];
		size_t n;

		h_init(&h);
		h_clear(&h);
		n = build_arp(f, cases[i].dst, 1, P_MAC, A("10.0.0.2"), ZERO, A("10.0.0.9"));
		f[12] = (uint8_t)(cases[i].proto >> 8);
		f[13] = (uint8_t)cases[i].proto;
		if (cases[i].len)
			n = cases[i].len == 0xffff ? 0 : cases[i].len;
		h_inject(&h, f, n);
		if (mib(&h, cases[i].ctr) != 1)
			fprintf(stderr, "case %s\n", cases[i].name);
		CHECK_EQ(mib(&h, cases[i].ctr), 1);
		CHECK_EQ(h.cap->n, 0);
		h_free(&h);
	}
}

TEST(eth_output_pads_to_60)
{
	struct harness h;
	struct sk_buff *skb;

	h_init(&h);
	h_clear(&h);
	skb = skb_alloc(&h.st->skb_pool, SKB_HEADROOM, 3);
	memcpy(skb_put(skb, 3), "abc", 3);
	CHECK_EQ(eth_output(h.st, skb, P_MAC, 0x88b5), 0);
	REQUIRE(h.cap->n == 1);
	CHECK_EQ(h.cap->lens[0], 60);
	static const uint8_t want[17] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5, 'a', 'b', 'c' };
	CHECK_MEM(h.cap->frames[0], want, 17);
	for (size_t i = 17; i < 60; i++)
		CHECK_EQ(h.cap->frames[0][i], 0);
	/* No headroom: refused, freed, counted. */
	skb = skb_alloc(&h.st->skb_pool, 0, 3);
	CHECK_EQ(eth_output(h.st, skb, P_MAC, 0x88b5), -ENOBUFS);
	CHECK_EQ(mib(&h, "LinkTxErrors"), 1);
	h_free(&h);
}

int main(void)
{
	RUN(eth_rcv_table);
	RUN(eth_output_pads_to_60);
	return TEST_SUMMARY();
}
