/* ARP and the neighbour cache (Linux: net/ipv4/arp.c, net/core/neighbour.c). */
#ifndef SYNACK_NET_ARP_H
#define SYNACK_NET_ARP_H

#include <stdbool.h>
#include <stdint.h>
#include "core/list.h"
#include "core/skb.h"
#include "core/timer.h"

struct stack;

/* Linux's NUD states (same values). DELAY and PROBE re-confirm a STALE
 * entry that is in use: wait, then unicast probes, then FAILED. */
enum neigh_state {
	NUD_NONE = 0x00,           /* just created, nothing sent yet */
	NUD_INCOMPLETE = 0x01,
	NUD_REACHABLE = 0x02,
	NUD_STALE = 0x04,
	NUD_DELAY = 0x08,
	NUD_PROBE = 0x10,
	NUD_FAILED = 0x20,
};
/* States with a usable hardware address. */
#define NUD_VALID (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE)

/* Linux's arp_tbl defaults that have no sysctl here. */
#define NEIGH_LOCKTIME_NS (1000ULL * 1000000ULL)          /* locktime: 1 s */
#define NEIGH_DELAY_PROBE_NS (5000ULL * 1000000ULL)       /* delay_first_probe_time: 5 s */
#define NEIGH_REACHABLE_RANDOMIZE_NS (300000ULL * 1000000ULL) /* re-randomised every 300 s */
#define NEIGH_FORCED_GC_AGE_NS (5000ULL * 1000000ULL)     /* forced gc spares younger entries */

struct neighbour {
	struct list_head hash;      /* in neigh_table.buckets */
	uint32_t ip;                /* network byte order */
	uint8_t ha[6];
	enum neigh_state nud_state;
	uint8_t probes;             /* requests sent in INCOMPLETE/PROBE */
	uint64_t updated;           /* ns: last state or address change */
	uint64_t confirmed;         /* ns: last proof of reachability */
	uint64_t used;              /* ns: last output through it */
	struct sk_buff_head arp_queue; /* packets waiting for resolution */
	struct timer timer;
	struct stack *st;
};

#define NEIGH_HASH_BUCKETS 256

struct neigh_table {
	struct list_head buckets[NEIGH_HASH_BUCKETS];
	/* The entry found last: most frames go to one next hop (the peer or
	 * the gateway), which then costs no hash (Linux finds it through the
	 * route's cached neighbour instead). Cleared when freed. */
	struct neighbour *last;
	uint32_t entries;
	uint64_t reachable_time;    /* ns: base_reachable_time randomised to 0.5..1.5x */
	uint64_t last_rand;         /* ns: when reachable_time was drawn */
	struct timer gc_timer;
};

void arp_init(struct stack *st);
void arp_destroy(struct stack *st);
/* An ARP frame (skb->data at the ARP header); consumes skb. */
void arp_rcv(struct stack *st, struct sk_buff *skb);
/* Send an IP packet (skb->data at the IP header) to nexthop (network order),
 * resolving its MAC first if needed; consumes skb. */
int neigh_output(struct stack *st, struct sk_buff *skb, uint32_t nexthop);
/* Announce our address (sent when the interface comes up). */
void arp_send_gratuitous(struct stack *st);
/* Cache lookup for tests and tools: the entry or NULL. */
struct neighbour *neigh_lookup(struct stack *st, uint32_t ip);

#endif
