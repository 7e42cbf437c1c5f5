/* IPv4 (Linux: net/ipv4/ip_input.c, ip_output.c, ip_fragment.c, route.c). */
#ifndef SYNACK_NET_IP_H
#define SYNACK_NET_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/list.h"
#include "core/timer.h"

struct stack;
struct sk_buff;

/* A reassembly queue (Linux: struct ipq). */
struct ipq {
	struct list_head list;      /* in its ipfrag_state bucket */
	uint32_t saddr, daddr;
	uint16_t id;
	uint8_t protocol;
	struct list_head frags;     /* skbs (data at the IP header) ordered by offset */
	uint32_t len;               /* highest end offset seen; final once last_in */
	uint32_t meat;              /* payload bytes received */
	uint32_t mem;               /* truesize charged */
	bool first_in, last_in;
	struct timer timer;
	struct stack *st;
};

/* Queues hash by source only, so one bucket scan finds a queue and also
 * sums what its source holds (for ipfrag_src_thresh). */
#define IPFRAG_HASH_BUCKETS 256
struct ipfrag_state {
	struct list_head buckets[IPFRAG_HASH_BUCKETS];
	uint32_t nqueues;
	uint64_t mem;               /* bytes held in all queues */
};

/* Per-destination IP ID generators (Linux: ip_idents, __ip_select_ident). */
#define IP_IDENTS_SZ 2048
struct ip_ident {
	uint32_t idents[IP_IDENTS_SZ];
	uint32_t tstamps[IP_IDENTS_SZ]; /* jiffies (ms) of the bucket's last use */
};

/* Parameters for a locally generated packet. */
struct ip_out {
	uint32_t saddr, daddr;      /* network order; saddr 0 = the interface's */
	uint8_t protocol;
	uint8_t ttl;                /* 0 = ip_default_ttl */
	uint8_t tos;
	bool df;                    /* set DF (else the packet may be fragmented) */
	uint16_t id;                /* used when use_id; otherwise chosen as Linux does */
	bool use_id;
};

void ip_init(struct stack *st);
void ip_destroy(struct stack *st);

/* An IPv4 packet from the link (skb->data at the IP header); consumes skb. */
void ip_rcv(struct stack *st, struct sk_buff *skb);
/* Route to daddr: the next hop and the source address (network order).
 * -ENETUNREACH with no route. Counts nothing. */
int ip_route_output(struct stack *st, uint32_t daddr, uint32_t *nexthop, uint32_t *saddr);
/* Push the IP header over skb->data (the transport header and payload),
 * route, fragment if needed and allowed, and transmit; consumes skb.
 * -EMSGSIZE when DF is set and the packet exceeds the MTU. */
int ip_build_and_send_pkt(struct stack *st, struct sk_buff *skb, const struct ip_out *o);
/* Is addr (network order) our address / a broadcast we accept
 * (255.255.255.255 or the subnet's, for prefixes shorter than /31)? */
bool ip_is_local(const struct stack *st, uint32_t addr);
bool ip_is_broadcast(const struct stack *st, uint32_t addr);

/* A transport protocol's receive handler: skb->data at its header,
 * skb->network_header at the IP header. Consumes skb. */
typedef void (*ip_proto_handler)(struct stack *st, struct sk_buff *skb);
/* Register a handler for an IP protocol number (TCP registers itself). */
void ip_register_protocol(struct stack *st, uint8_t proto, ip_proto_handler fn);
/* An ICMP error about one of our packets, for its transport protocol:
 * quoted points at the quoted IP header, len bytes are valid (at least the
 * quoted IP header; the protocol checks it has the 8 bytes it needs). */
typedef void (*ip_err_handler)(struct stack *st, const uint8_t *quoted, size_t len, uint8_t type, uint8_t code,
			       uint32_t info);
void ip_register_err_handler(struct stack *st, uint8_t proto, ip_err_handler fn);

/* The IP ID for a packet without a socket-owned counter: Linux's
 * __ip_select_ident (hashed per-destination buckets, perturbed by idle
 * time). segs ids are reserved; the first is returned. */
uint16_t ip_select_ident(struct stack *st, uint32_t daddr, uint32_t saddr, uint8_t protocol, uint32_t segs);
/* Store the header checksum of iph (ihl words). */
void ip_send_check(void *iph);
/* The IP and TCP header lengths of an Ethernet frame carrying TCP/IPv4
 * that holds together: IPv4, not a fragment, lengths inside the frame
 * (gso.c; the TAP's virtio-net code checks frames with it too). */
bool tcp4_frame_headers(const uint8_t *f, size_t len, uint32_t *ihl, uint32_t *thl);
/* Cut a TCP/IPv4 super-frame into segments of gso_size payload bytes and
 * send each (gso.c; Linux: skb_gso_segment for a device without TSO). */
int tcp4_gso_segment_xmit(struct stack *st, const struct sk_buff *skb);

/* Reassembly (ip_fragment.c). skb->data at the IP header of a fragment
 * (header validated, trimmed to tot_len); consumes it. Returns the whole
 * datagram (data at its IP header) once complete, else NULL. */
struct sk_buff *ip_defrag(struct stack *st, struct sk_buff *skb);
void ipfrag_init(struct stack *st);
void ipfrag_destroy(struct stack *st);
/* Split skb (data at a built IP header without options, DF clear) into
 * fragments of at most mtu bytes and send each to nexthop; consumes skb. */
int ip_do_fragment(struct stack *st, struct sk_buff *skb, uint32_t mtu, uint32_t nexthop);
/* Hand one finished packet to the neighbour layer (counts OutTransmits). */
int ip_finish_output2(struct stack *st, struct sk_buff *skb, uint32_t nexthop);

#endif
