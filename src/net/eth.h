/* Ethernet II framing (Linux: net/ethernet/eth.c). */
#ifndef SYNACK_NET_ETH_H
#define SYNACK_NET_ETH_H

#include <stdbool.h>
#include <stdint.h>

struct stack;
struct sk_buff;

/* ff:ff:ff:ff:ff:ff */
extern const uint8_t eth_broadcast_addr[6];

static inline bool is_multicast_ether_addr(const uint8_t *a) { return a[0] & 0x01; }

/* A received frame (skb->data at the Ethernet header); consumes skb. */
void eth_rcv(struct stack *st, struct sk_buff *skb);
/* Push the Ethernet header (dest, our MAC, proto), pad to ETH_ZLEN, hand
 * the frame to the link; consumes skb. Returns 0 or -errno. */
int eth_output(struct stack *st, struct sk_buff *skb, const uint8_t dest[6], uint16_t proto);
/* Linux's PACKET_HOST: the frame carrying skb was addressed to our MAC.
 * False for link broadcast/multicast, and for locally built buffers that
 * carry no Ethernet header (skb->mac_header not just before the network
 * header). */
bool eth_skb_pkt_host(const struct sk_buff *skb);
/* The opposite case that matters for ICMP: received as link broadcast or
 * multicast. */
bool eth_skb_pkt_multicast(const struct sk_buff *skb);

#endif
