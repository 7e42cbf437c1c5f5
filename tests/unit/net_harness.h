/*
 * Test harness for the net layer: one stack on a capture link. Frames the
 * stack sends are recorded; frames are injected straight into eth_rcv.
 * The stack is 10.0.0.1/24 (MAC 02:00:00:00:00:01, gateway 10.0.0.254);
 * the scripted peer is 10.0.0.2 (MAC 02:00:00:00:00:02).
 */
#ifndef SYNACK_TESTS_NET_HARNESS_H
#define SYNACK_TESTS_NET_HARNESS_H

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "core/stack.h"
#include "net/checksum.h"
#include "net/eth.h"
#include "net/proto.h"

#define H_MAXFRAMES 512
#define H_FRAMELEN 1600

static const uint8_t H_MAC[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t P_MAC[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct cap_link {
	struct synack_link link;
	uint8_t frames[H_MAXFRAMES][H_FRAMELEN];
	size_t lens[H_MAXFRAMES];
	uint64_t times[H_MAXFRAMES];
	size_t n;
	struct synack_clock *clk;
};

static inline int cap_send(struct synack_link *l, const void *frame, size_t len)
{
	struct cap_link *c = (struct cap_link *)l;

	if (c->n < H_MAXFRAMES && len <= H_FRAMELEN) {
		memcpy(c->frames[c->n], frame, len);
		c->lens[c->n] = len;
		c->times[c->n] = synack_clock_now(c->clk);
		c->n++;
	}
	return 0;
}
static inline int cap_recv(struct synack_link *l, void *buf, size_t cap) { (void)l; (void)buf; (void)cap; return 0; }
static inline int cap_wait_fd(struct synack_link *l) { (void)l; return -1; }
static inline uint64_t cap_next(struct synack_link *l) { (void)l; return SYNACK_NEVER; }
static inline void cap_destroy(struct synack_link *l) { (void)l; }
static const struct synack_link_ops cap_ops = {
	.kind = "cap", .send = cap_send, .recv = cap_recv, .wait_fd = cap_wait_fd, .next_deadline = cap_next,
	.destroy = cap_destroy,
};

struct harness {
	struct synack_clock *clk;
	struct stack *st;
	struct cap_link *cap;
};

static inline uint32_t A(const char *s) { return inet_addr(s); }

static inline void h_init_cfg(struct harness *h, uint64_t seed, bool up)
{
	struct synack_stack_config cfg = { .name = "net", .seeded = true, .seed = seed };
	struct synack_if_config ic = { .prefix_len = 24 };

	h->clk = synack_clock_new_virtual(0);
	cfg.clock = h->clk;
	h->st = NULL;
	synack_stack_new(&cfg, &h->st);
	h->cap = calloc(1, sizeof(*h->cap));
	h->cap->link.ops = &cap_ops;
	memcpy(h->cap->link.mac, H_MAC, 6);
	h->cap->link.mtu = 1500;
	h->cap->clk = h->clk;
	ic.addr.s_addr = A("10.0.0.1");
	ic.gateway.s_addr = A("10.0.0.254");
	if (up)
		synack_if_up(h->st, &h->cap->link, &ic);
}
static inline void h_init(struct harness *h) { h_init_cfg(h, 1, true); }

static inline void h_free(struct harness *h)
{
	synack_stack_free(h->st);
	free(h->cap);
	synack_clock_free(h->clk);
}

static inline void h_clear(struct harness *h) { h->cap->n = 0; }
static inline uint64_t mib(struct harness *h, const char *name) { return synack_mib_value(h->st, name); }

static inline void h_inject(struct harness *h, const uint8_t *frame, size_t len)
{
	struct sk_buff *skb = skb_alloc(&h->st->skb_pool, SKB_HEADROOM, (uint32_t)(len ? len : 1));

	memcpy(skb_put(skb, (uint32_t)len), frame, len);
	skb->tstamp = stack_now(h->st);
	eth_rcv(h->st, skb);
}

/* Move the clock to t and run what is due. */
static inline void h_at(struct harness *h, uint64_t t)
{
	synack_clock_set(h->clk, t);
	synack_stack_poll(h->st);
}

static inline uint16_t frame_proto(struct harness *h, size_t i) { return (uint16_t)(h->cap->frames[i][12] << 8 | h->cap->frames[i][13]); }

static inline size_t count_proto(struct harness *h, uint16_t proto)
{
	size_t n = 0;
	for (size_t i = 0; i < h->cap->n; i++)
		n += frame_proto(h, i) == proto;
	return n;
}

/* The i-th captured frame of this ethertype, or NULL. */
static inline const uint8_t *nth_proto(struct harness *h, uint16_t proto, size_t nth, size_t *len)
{
	for (size_t i = 0; i < h->cap->n; i++)
		if (frame_proto(h, i) == proto && nth-- == 0) {
			if (len)
				*len = h->cap->lens[i];
			return h->cap->frames[i];
		}
	return NULL;
}

/* ------------------------------------------------------------ builders */

static inline size_t put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t proto)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(proto >> 8);
	f[13] = (uint8_t)proto;
	return 14;
}

struct ipspec {
	uint32_t saddr, daddr;
	uint8_t protocol, ttl, tos;
	uint16_t id, frag_off; /* host order, flags included */
};

/* Ethernet + IPv4 header + payload; returns the frame length. */
static inline size_t build_ip(uint8_t *f, const uint8_t *dst_mac, const struct ipspec *s, const void *payload, size_t plen)
{
	struct iphdr ip = { 0 };

	put_eth(f, dst_mac, P_MAC, ETH_P_IP);
	ip.ver_ihl = 0x45;
	ip.tos = s->tos;
	ip.tot_len = htons((uint16_t)(20 + plen));
	ip.id = htons(s->id);
	ip.frag_off = htons(s->frag_off);
	ip.ttl = s->ttl ? s->ttl : 64;
	ip.protocol = s->protocol;
	ip.saddr = s->saddr;
	ip.daddr = s->daddr;
	ip.check = htons(ip_compute_csum(&ip, 20));
	memcpy(f + 14, &ip, 20);
	memcpy(f + 34, payload, plen);
	return 34 + plen;
}

/* An ICMP echo request body (header + data) with a valid checksum. */
static inline size_t build_echo_body(uint8_t *b, uint8_t type, uint16_t id, uint16_t seq, const void *data, size_t len)
{
	b[0] = type;
	b[1] = 0;
	b[2] = b[3] = 0;
	b[4] = (uint8_t)(id >> 8);
	b[5] = (uint8_t)id;
	b[6] = (uint8_t)(seq >> 8);
	b[7] = (uint8_t)seq;
	memcpy(b + 8, data, len);
	uint16_t c = ip_compute_csum(b, 8 + len);
	b[2] = (uint8_t)(c >> 8);
	b[3] = (uint8_t)c;
	return 8 + len;
}

static inline size_t build_arp(uint8_t *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha, uint32_t sip,
			const uint8_t *tha, uint32_t tip)
{
	struct arphdr_eth a;

	put_eth(f, eth_dst, sha, ETH_P_ARP);
	a.ar_hrd = htons(1);
	a.ar_pro = htons(ETH_P_IP);
	a.ar_hln = 6;
	a.ar_pln = 4;
	a.ar_op = htons(op);
	memcpy(a.ar_sha, sha, 6);
	a.ar_sip = sip;
	memcpy(a.ar_tha, tha, 6);
	a.ar_tip = tip;
	memcpy(f + 14, &a, sizeof(a));
	return 14 + sizeof(a);
}

/* Make the peer REACHABLE in the stack's cache (a unicast reply after a
 * request), then forget the frames that took. */
static inline void h_learn_peer(struct harness *h)
{
	static const uint8_t zero[6];
	uint8_t f[64];

	h_inject(h, f, build_arp(f, BCAST, 1, P_MAC, A("10.0.0.2"), zero, A("10.0.0.1")));
	h_inject(h, f, build_arp(f, H_MAC, 2, P_MAC, A("10.0.0.2"), H_MAC, A("10.0.0.1")));
	h_clear(h);
}

#endif
