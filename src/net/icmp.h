/* ICMP (Linux: net/ipv4/icmp.c), and the UDP stub. */
#ifndef SYNACK_NET_ICMP_H
#define SYNACK_NET_ICMP_H

#include <stddef.h>
#include <stdint.h>

struct stack;
struct sk_buff;

/* Per-destination token bucket (Linux: inet_peer rate_tokens/rate_last).
 * Times and tokens are in jiffies (ms), as Linux keeps them. */
#define ICMP_PEERS 64
struct icmp_peer {
	uint32_t daddr;             /* 0: slot free */
	uint32_t rate_last;
	uint32_t rate_tokens;
	uint32_t last_use;          /* jiffies; the least recently used slot is reused */
};

/* Linux's inet_peer_xrlim_allow lets a peer save up this many intervals. */
#define XRLIM_BURST_FACTOR 6

struct icmp_state {
	struct icmp_peer peers[ICMP_PEERS];
	int32_t global_credit;      /* Linux: icmp_global_credit (may dip below 0) */
	uint32_t global_stamp;      /* jiffies of the last refill */
};

void icmp_init(struct stack *st);
/* skb->data at the ICMP header; consumes skb. */
void icmp_rcv(struct stack *st, struct sk_buff *skb);
/* Send an ICMP error about skb_in (skb_in->network_header at its IP header),
 * subject to Linux's rules (never about ICMP errors, fragments other than the
 * first, broadcasts) and rate limits. Does not consume skb_in. */
void icmp_send(struct stack *st, const struct sk_buff *skb_in, uint8_t type, uint8_t code, uint32_t info);
/* Echo request from the API. */
int icmp_send_echo(struct stack *st, uint32_t daddr, uint16_t id, uint16_t seq, const void *data, size_t len);
/* UDP input: no UDP sockets yet, so every datagram gets port unreachable. */
void udp_rcv(struct stack *st, struct sk_buff *skb);

#endif
