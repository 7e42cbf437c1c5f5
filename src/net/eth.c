/* Ethernet II input and output (Linux: eth_type_trans, eth_header). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/arp.h"
#include "net/eth.h"
#include "net/ip.h"
#include "net/proto.h"

const uint8_t eth_broadcast_addr[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static bool ether_addr_equal(const uint8_t *a, const uint8_t *b) { return memcmp(a, b, ETH_ALEN) == 0; }

static const struct ethhdr *eth_hdr_rx(const struct sk_buff *skb)
{
	/* Only trust mac_header when eth_rcv set it right before the IP/ARP header. */
	if (skb->network_header < ETH_HLEN || skb->network_header - skb->mac_header != ETH_HLEN)
		return NULL;
	return (const struct ethhdr *)skb_mac_header(skb);
}

bool eth_skb_pkt_host(const struct sk_buff *skb)
{
	const struct ethhdr *eth = eth_hdr_rx(skb);

	return eth && !is_multicast_ether_addr(eth->h_dest);
}

bool eth_skb_pkt_multicast(const struct sk_buff *skb)
{
	const struct ethhdr *eth = eth_hdr_rx(skb);

	return eth && is_multicast_ether_addr(eth->h_dest);
}

/* Multicast groups are never joined, so only our MAC and broadcast get in. */
static bool eth_frame_for_us(const struct stack *st, const struct ethhdr *eth)
{
	return ether_addr_equal(eth->h_dest, st->dev.mac) || ether_addr_equal(eth->h_dest, eth_broadcast_addr);
}

void eth_rcv(struct stack *st, struct sk_buff *skb)
{
	const struct ethhdr *eth;
	uint16_t proto;

	if (!pskb_may_pull(skb, ETH_HLEN)) {
		MIB_INC(st, LinkRxLengthErrors);
		trace_drop(st, "eth_rcv", "frame of %u bytes shorter than the Ethernet header", skb->len);
		goto drop;
	}
	skb_reset_mac_header(skb);
	eth = (const struct ethhdr *)skb->data;
	if (!eth_frame_for_us(st, eth)) {
		MIB_INC(st, LinkRxOtherHost);
		trace_drop(st, "eth_rcv", "frame for another host");
		goto drop;
	}
	proto = ntohs(eth->h_proto);
	skb_pull(skb, ETH_HLEN);
	skb_reset_network_header(skb);
	switch (proto) {
	case ETH_P_IP:
		ip_rcv(st, skb);
		return;
	case ETH_P_ARP:
		arp_rcv(st, skb);
		return;
	default:
		MIB_INC(st, LinkRxUnknownProto);
		trace_drop(st, "eth_rcv", "unknown ethertype 0x%04x", proto);
		goto drop;
	}
drop:
	kfree_skb(skb);
}

int eth_output(struct stack *st, struct sk_buff *skb, const uint8_t dest[6], uint16_t proto)
{
	uint8_t padded[ETH_ZLEN];
	struct ethhdr *eth;
	int err;

	eth = (struct ethhdr *)skb_push(skb, ETH_HLEN);
	if (!eth) {
		MIB_INC(st, LinkTxErrors);
		trace_drop(st, "eth_output", "no headroom for the Ethernet header");
		kfree_skb(skb);
		return -ENOBUFS;
	}
	memcpy(eth->h_dest, dest, ETH_ALEN);
	memcpy(eth->h_source, st->dev.mac, ETH_ALEN);
	eth->h_proto = htons(proto);
	skb_reset_mac_header(skb);
	if (skb->len < ETH_ZLEN) {
		/* Pad in a copy: the buffer may have no tailroom, or be shared. */
		memset(padded, 0, sizeof(padded));
		memcpy(padded, skb->data, skb->len);
		err = dev_queue_xmit(st, padded, ETH_ZLEN);
	} else if (skb->gso_size) {
		err = dev_queue_xmit_gso(st, skb);
	} else {
		err = dev_queue_xmit(st, skb->data, skb->len);
	}
	kfree_skb(skb);
	return err;
}
