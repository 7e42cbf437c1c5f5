/*
 * ARP and the neighbour cache: Linux's NUD state machine reduced to one
 * table on one interface (net/ipv4/arp.c, net/core/neighbour.c).
 *
 *   NONE/FAILED --output--> INCOMPLETE --reply--> REACHABLE --timeout--> STALE
 *   STALE --output--> DELAY --5 s--> PROBE --unicast probes--> FAILED
 *   any valid state --reply--> REACHABLE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/jhash.h"
#include "core/stack.h"
#include "core/trace.h"
#include "net/arp.h"
#include "net/eth.h"
#include "net/ip.h"
#include "net/proto.h"

#define ARP_HLEN ((uint32_t)sizeof(struct arphdr_eth))

static const uint8_t zero_ha[ETH_ALEN];

static uint64_t ms_to_ns(long ms) { return (uint64_t)ms * NSEC_PER_MSEC; }

static bool ipv4_is_multicast(uint32_t a) { return (ntohl(a) & 0xf0000000u) == 0xe0000000u; }
static bool ipv4_is_loopback(uint32_t a) { return (ntohl(a) & 0xff000000u) == 0x7f000000u; }

static unsigned neigh_hash(const struct stack *st, uint32_t ip)
{
	/* Keyed so a peer cannot pile its addresses into one bucket; jhash
	 * because this runs for every frame sent (Linux: arp_hashfn's random
	 * multiplier). */
	return jhash_1word(ip, (uint32_t)st->secrets.perturb_secret.key[0]) % NEIGH_HASH_BUCKETS;
}

/* Linux's neigh_rand_reach_time: uniform in [base/2, 3*base/2). */
static void neigh_rand_reach_time(struct stack *st)
{
	uint32_t base = (uint32_t)st->sysctl.arp_base_reachable_time_ms;

	st->arp.reachable_time = ms_to_ns((long)(prng_below(&st->rng, base) + base / 2));
	st->arp.last_rand = stack_now(st);
}

struct neighbour *neigh_lookup(struct stack *st, uint32_t ip)
{
	/* Hashed once here: list_for_each_entry re-reads its head argument
	 * on every step, which would cost a SipHash per entry visited. */
	struct list_head *bucket;
	struct neighbour *n = st->arp.last;

	if (n && n->ip == ip)
		return n;
	bucket = &st->arp.buckets[neigh_hash(st, ip)];
	list_for_each_entry(n, bucket, hash)
		if (n->ip == ip)
			return st->arp.last = n;
	return NULL;
}

static const char *nud_name(enum neigh_state s)
{
	switch (s) {
	case NUD_NONE: return "NONE";
	case NUD_INCOMPLETE: return "INCOMPLETE";
	case NUD_REACHABLE: return "REACHABLE";
	case NUD_STALE: return "STALE";
	case NUD_DELAY: return "DELAY";
	case NUD_PROBE: return "PROBE";
	case NUD_FAILED: return "FAILED";
	}
	return "?";
}

static void neigh_set_state(struct stack *st, struct neighbour *n, enum neigh_state s)
{
	if (trace_enabled(st)) {
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &n->ip, ip, sizeof(ip));
		trace_event(st, "neigh_update", "%s %s -> %s", ip, nud_name(n->nud_state), nud_name(s));
	}
	n->nud_state = s;
	n->updated = stack_now(st);
}

/* Build and send one ARP packet; dest_hw NULL means broadcast. */
static int arp_send(struct stack *st, uint16_t op, const uint8_t *dest_hw, uint32_t sip, uint32_t tip,
		    const uint8_t *tha)
{
	struct sk_buff *skb = skb_alloc(&st->skb_pool, SKB_HEADROOM, ARP_HLEN);
	struct arphdr_eth *arp;

	if (!skb)
		return -ENOMEM;
	arp = (struct arphdr_eth *)skb_put(skb, ARP_HLEN);
	arp->ar_hrd = htons(ARPHRD_ETHER);
	arp->ar_pro = htons(ETH_P_IP);
	arp->ar_hln = ETH_ALEN;
	arp->ar_pln = 4;
	arp->ar_op = htons(op);
	memcpy(arp->ar_sha, st->dev.mac, ETH_ALEN);
	arp->ar_sip = sip;
	memcpy(arp->ar_tha, tha ? tha : zero_ha, ETH_ALEN);
	arp->ar_tip = tip;
	skb_reset_network_header(skb);
	return eth_output(st, skb, dest_hw ? dest_hw : eth_broadcast_addr, ETH_P_ARP);
}

/* A request for n: broadcast while resolving, unicast to the cached
 * address when re-confirming (PROBE), as Linux's arp_solicit. */
static void arp_solicit(struct stack *st, struct neighbour *n)
{
	const uint8_t *dest = n->nud_state == NUD_PROBE ? n->ha : NULL;

	MIB_INC(st, ArpOutRequests);
	n->probes++;
	arp_send(st, ARPOP_REQUEST, dest, st->dev.addr, n->ip, NULL);
}

void arp_send_gratuitous(struct stack *st)
{
	if (!st->dev.up)
		return;
	/* Linux's announce on NETDEV_UP: a request for our own address. */
	MIB_INC(st, ArpOutGratuitous);
	arp_send(st, ARPOP_REQUEST, NULL, st->dev.addr, st->dev.addr, NULL);
}

static void neigh_flush_queue(struct stack *st, struct neighbour *n)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&n->arp_queue)) != NULL)
		eth_output(st, skb, n->ha, ETH_P_IP);
}

/* Resolution failed: drop what waited for it (Linux: neigh_invalidate). */
static void neigh_invalidate(struct stack *st, struct neighbour *n)
{
	MIB_INC(st, ArpResFailed);
	neigh_set_state(st, n, NUD_FAILED);
	if (n->arp_queue.qlen)
		trace_drop(st, "neigh_invalidate", "%u packets for an unresolved neighbour", n->arp_queue.qlen);
	skb_queue_purge(&n->arp_queue);
}

static void neigh_arm(struct stack *st, struct neighbour *n, uint64_t when)
{
	mod_timer(st, &n->timer, when);
}

static void neigh_retrans(struct stack *st, struct neighbour *n, uint8_t max_probes)
{
	if (n->probes >= max_probes) {
		neigh_invalidate(st, n);
		return;
	}
	arp_solicit(st, n);
	neigh_arm(st, n, stack_now(st) + ms_to_ns(st->sysctl.arp_retrans_time_ms));
}

static void neigh_timer_handler(struct stack *st, struct timer *t)
{
	struct neighbour *n = container_of(t, struct neighbour, timer);
	uint64_t now = stack_now(st);

	switch (n->nud_state) {
	case NUD_INCOMPLETE:
		neigh_retrans(st, n, (uint8_t)st->sysctl.arp_mcast_solicit);
		break;
	case NUD_REACHABLE:
		if (now < n->confirmed + st->arp.reachable_time)
			neigh_arm(st, n, n->confirmed + st->arp.reachable_time);
		else
			neigh_set_state(st, n, NUD_STALE);
		break;
	case NUD_DELAY:
		if (now < n->confirmed + NEIGH_DELAY_PROBE_NS) {
			neigh_set_state(st, n, NUD_REACHABLE);
			neigh_arm(st, n, n->confirmed + st->arp.reachable_time);
			break;
		}
		neigh_set_state(st, n, NUD_PROBE);
		n->probes = 0;
		neigh_retrans(st, n, (uint8_t)st->sysctl.arp_ucast_solicit);
		break;
	case NUD_PROBE:
		neigh_retrans(st, n, (uint8_t)st->sysctl.arp_ucast_solicit);
		break;
	default:
		break;
	}
}

static void neigh_destroy(struct stack *st, struct neighbour *n)
{
	del_timer(st, &n->timer);
	skb_queue_purge(&n->arp_queue);
	list_del_init(&n->hash);
	st->arp.entries--;
	if (st->arp.last == n)
		st->arp.last = NULL;
	free(n);
}

/* Entries nothing depends on: no timer running, nothing queued. */
static bool neigh_idle(const struct neighbour *n)
{
	return !timer_pending(&n->timer) && n->arp_queue.qlen == 0;
}

/* Table full: drop failed entries and idle ones not touched for 5 s. */
static bool neigh_forced_gc(struct stack *st)
{
	uint64_t now = stack_now(st);
	bool freed = false;

	for (unsigned b = 0; b < NEIGH_HASH_BUCKETS; b++) {
		struct neighbour *n, *tmp;
		list_for_each_entry_safe(n, tmp, &st->arp.buckets[b], hash) {
			if (!neigh_idle(n))
				continue;
			if (n->nud_state == NUD_FAILED || n->updated + NEIGH_FORCED_GC_AGE_NS < now) {
				neigh_destroy(st, n);
				freed = true;
			}
		}
	}
	return freed;
}

/* Gc runs every base_reachable_time / 2 while the table holds anything,
 * so an idle stack has no timer pending. */
static void neigh_gc_arm(struct stack *st)
{
	mod_timer(st, &st->arp.gc_timer, stack_now(st) + ms_to_ns(st->sysctl.arp_base_reachable_time_ms) / 2);
}

static struct neighbour *neigh_create(struct stack *st, uint32_t ip)
{
	struct neighbour *n;

	if (st->arp.entries >= (uint32_t)st->sysctl.arp_gc_thresh3 && !neigh_forced_gc(st)) {
		MIB_INC(st, ArpTableFulls);
		trace_drop(st, "neigh_create", "neighbour table overflow");
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->ip = ip;
	n->st = st;
	n->nud_state = NUD_NONE;
	n->updated = n->used = stack_now(st);
	skb_queue_head_init(&n->arp_queue);
	timer_setup(&n->timer, TIMER_NEIGH);
	list_add(&n->hash, &st->arp.buckets[neigh_hash(st, ip)]);
	st->arp.entries++;
	if (!timer_pending(&st->arp.gc_timer))
		neigh_gc_arm(st);
	return n;
}

/*
 * New information about n (Linux: neigh_update). Without override a valid
 * entry keeps its address: the first answer wins for locktime.
 */
static void neigh_update(struct stack *st, struct neighbour *n, const uint8_t *lladdr, enum neigh_state new,
			 bool override)
{
	enum neigh_state old = n->nud_state;
	bool same = memcmp(lladdr, n->ha, ETH_ALEN) == 0;

	if (old & NUD_VALID) {
		if (!same && !override)
			return;
		if (same && new == NUD_STALE)
			new = old;
	}
	if (new == NUD_REACHABLE)
		n->confirmed = stack_now(st);
	if (!same) {
		memcpy(n->ha, lladdr, ETH_ALEN);
		n->updated = stack_now(st);
	}
	if (new != old) {
		del_timer(st, &n->timer);
		neigh_set_state(st, n, new);
		if (new == NUD_REACHABLE)
			neigh_arm(st, n, n->confirmed + st->arp.reachable_time);
	}
	if (!(old & NUD_VALID) && (new & NUD_VALID))
		neigh_flush_queue(st, n);
}

/* Queue skb on an unresolved entry; the oldest go when it is full, in
 * packets (unres_qlen) or in bytes (unres_qlen_bytes: a TSO super-frame
 * is 64 KiB; Linux counts truesize). A datagram larger than the byte
 * budget empties the queue and waits alone, as in Linux. */
static void neigh_queue(struct stack *st, struct neighbour *n, struct sk_buff *skb)
{
	uint32_t limit = (uint32_t)st->sysctl.arp_unres_qlen;
	uint64_t limit_bytes = (uint64_t)st->sysctl.arp_unres_qlen_bytes;

	if (limit == 0 || skb_linearize(skb)) { /* a queued frame must not point into TCP's queue */
		MIB_INC(st, ArpUnresolvedDiscards);
		trace_drop(st, "neigh_queue", limit ? "no memory to gather a super-frame" : "unres_qlen is 0");
		kfree_skb(skb);
		return;
	}
	while (n->arp_queue.qlen &&
	       (n->arp_queue.qlen >= limit || (uint64_t)n->arp_queue.bytes + skb->len > limit_bytes)) {
		MIB_INC(st, ArpUnresolvedDiscards);
		trace_drop(st, "neigh_queue", "unresolved queue full, dropping the oldest");
		kfree_skb(skb_dequeue(&n->arp_queue));
	}
	skb_queue_tail(&n->arp_queue, skb);
}

/* Start resolving n from scratch (from NONE or FAILED). */
static void neigh_start_resolve(struct stack *st, struct neighbour *n)
{
	n->probes = 0;
	neigh_set_state(st, n, NUD_INCOMPLETE);
	neigh_retrans(st, n, (uint8_t)st->sysctl.arp_mcast_solicit);
}

/* Linux's __neigh_event_send: true when skb may go out now with n->ha;
 * otherwise skb was queued or dropped. */
static bool neigh_event_send(struct stack *st, struct neighbour *n, struct sk_buff *skb)
{
	n->used = stack_now(st);
	switch (n->nud_state) {
	case NUD_REACHABLE:
	case NUD_DELAY:
	case NUD_PROBE:
		return true;
	case NUD_STALE:
		neigh_set_state(st, n, NUD_DELAY);
		neigh_arm(st, n, stack_now(st) + NEIGH_DELAY_PROBE_NS);
		return true;
	case NUD_INCOMPLETE:
		neigh_queue(st, n, skb);
		return false;
	case NUD_NONE:
	case NUD_FAILED:
		if (st->sysctl.arp_mcast_solicit == 0) {
			MIB_INC(st, ArpResFailed);
			trace_drop(st, "neigh_event_send", "mcast_solicit is 0");
			kfree_skb(skb);
			return false;
		}
		neigh_queue(st, n, skb);
		neigh_start_resolve(st, n);
		return false;
	}
	kfree_skb(skb);
	return false;
}

/* RFC 1112 mapping of an IP multicast group to its Ethernet address. */
static void ip_eth_mc_map(uint32_t group, uint8_t *ha)
{
	uint32_t g = ntohl(group);

	ha[0] = 0x01;
	ha[1] = 0x00;
	ha[2] = 0x5e;
	ha[3] = (uint8_t)((g >> 16) & 0x7f);
	ha[4] = (uint8_t)(g >> 8);
	ha[5] = (uint8_t)g;
}

int neigh_output(struct stack *st, struct sk_buff *skb, uint32_t nexthop)
{
	struct neighbour *n;
	uint8_t mc[ETH_ALEN];

	if (!st->dev.up) {
		kfree_skb(skb);
		return -ENETDOWN;
	}
	skb->nexthop = nexthop;
	if (ip_is_broadcast(st, nexthop))
		return eth_output(st, skb, eth_broadcast_addr, ETH_P_IP);
	if (ipv4_is_multicast(nexthop)) {
		ip_eth_mc_map(nexthop, mc);
		return eth_output(st, skb, mc, ETH_P_IP);
	}
	n = neigh_lookup(st, nexthop);
	if (!n)
		n = neigh_create(st, nexthop);
	if (!n) {
		kfree_skb(skb);
		return -ENOBUFS;
	}
	if (!neigh_event_send(st, n, skb))
		return 0;
	return eth_output(st, skb, n->ha, ETH_P_IP);
}

/* A request names sip as its sender: learn it as STALE (neigh_event_ns). */
static struct neighbour *neigh_event_ns(struct stack *st, uint32_t sip, const uint8_t *sha)
{
	struct neighbour *n = neigh_lookup(st, sip);

	if (!n)
		n = neigh_create(st, sip);
	if (n)
		neigh_update(st, n, sha, NUD_STALE, true);
	return n;
}

static bool arp_hdr_valid(const struct arphdr_eth *arp)
{
	uint16_t op = ntohs(arp->ar_op);

	return ntohs(arp->ar_hrd) == ARPHRD_ETHER && ntohs(arp->ar_pro) == ETH_P_IP && arp->ar_hln == ETH_ALEN &&
	       arp->ar_pln == 4 && (op == ARPOP_REQUEST || op == ARPOP_REPLY);
}

/* Addresses no ARP packet may carry (Linux drops these in arp_process);
 * a multicast sender hardware address would poison the cache. */
static bool arp_addrs_valid(const struct arphdr_eth *arp)
{
	uint32_t sip = arp->ar_sip, tip = arp->ar_tip;

	if (ipv4_is_multicast(tip) || ipv4_is_loopback(tip))
		return false;
	if (ipv4_is_multicast(sip) || ipv4_is_loopback(sip) || sip == INADDR_BROADCAST)
		return false;
	return !is_multicast_ether_addr(arp->ar_sha);
}

/* Linux's arp_is_garp: an announcement of sip by its owner. */
static bool arp_is_garp(const struct stack *st, const struct arphdr_eth *arp)
{
	if (arp->ar_sip != arp->ar_tip)
		return false;
	if (ntohs(arp->ar_op) == ARPOP_REPLY && memcmp(arp->ar_tha, arp->ar_sha, ETH_ALEN) != 0)
		return false;
	return !ip_is_local(st, arp->ar_sip) && !ip_is_broadcast(st, arp->ar_sip);
}

static void arp_process(struct stack *st, struct sk_buff *skb, const struct arphdr_eth *arp)
{
	uint16_t op = ntohs(arp->ar_op);
	uint32_t sip = arp->ar_sip, tip = arp->ar_tip;
	struct neighbour *n;

	if (sip == st->dev.addr) {
		trace_drop(st, "arp_process", "another host claims our address");
		return;
	}
	if (sip == 0) {
		/* Duplicate address detection (RFC 5227): answer if it is ours. */
		if (op == ARPOP_REQUEST && tip == st->dev.addr) {
			MIB_INC(st, ArpOutReplies);
			arp_send(st, ARPOP_REPLY, arp->ar_sha, tip, sip, arp->ar_sha);
		}
		return;
	}
	if (op == ARPOP_REQUEST && tip == st->dev.addr) {
		/* Like Linux: no room to remember the asker, no reply. */
		if (neigh_event_ns(st, sip, arp->ar_sha)) {
			MIB_INC(st, ArpOutReplies);
			arp_send(st, ARPOP_REPLY, arp->ar_sha, tip, sip, arp->ar_sha);
		}
		return;
	}
	/* Unsolicited ARP never creates entries (arp_accept = 0). */
	n = neigh_lookup(st, sip);
	if (n) {
		bool garp = arp_is_garp(st, arp);
		bool override = stack_now(st) > n->updated + NEIGH_LOCKTIME_NS || garp;
		/* Broadcast replies and requests do not prove reachability. */
		enum neigh_state state =
			op == ARPOP_REPLY && eth_skb_pkt_host(skb) ? NUD_REACHABLE : NUD_STALE;

		neigh_update(st, n, arp->ar_sha, state, override);
	}
}

void arp_rcv(struct stack *st, struct sk_buff *skb)
{
	const struct arphdr_eth *arp;

	if (!pskb_may_pull(skb, ARP_HLEN)) {
		MIB_INC(st, ArpInErrors);
		trace_drop(st, "arp_rcv", "truncated: %u bytes", skb->len);
		goto out;
	}
	arp = (const struct arphdr_eth *)skb->data;
	if (!arp_hdr_valid(arp)) {
		MIB_INC(st, ArpInErrors);
		trace_drop(st, "arp_rcv", "bad header (hrd %u pro 0x%04x hln %u pln %u op %u)", ntohs(arp->ar_hrd),
			   ntohs(arp->ar_pro), arp->ar_hln, arp->ar_pln, ntohs(arp->ar_op));
		goto out;
	}
	if (!arp_addrs_valid(arp)) {
		MIB_INC(st, ArpInErrors);
		trace_drop(st, "arp_rcv", "multicast, loopback or broadcast address");
		goto out;
	}
	if (ntohs(arp->ar_op) == ARPOP_REQUEST)
		MIB_INC(st, ArpInRequests);
	else
		MIB_INC(st, ArpInReplies);
	if (st->dev.up)
		arp_process(st, skb, arp);
out:
	kfree_skb(skb);
}

/* Periodic gc (Linux: neigh_periodic_work): forget entries unused for
 * gc_stale_time, and failed ones. */
static void neigh_periodic_gc(struct stack *st, struct timer *t)
{
	uint64_t now = stack_now(st), stale = (uint64_t)st->sysctl.arp_gc_stale_time * NSEC_PER_SEC;

	(void)t;
	if (now - st->arp.last_rand >= NEIGH_REACHABLE_RANDOMIZE_NS)
		neigh_rand_reach_time(st);
	for (unsigned b = 0; b < NEIGH_HASH_BUCKETS; b++) {
		struct neighbour *n, *tmp;
		list_for_each_entry_safe(n, tmp, &st->arp.buckets[b], hash) {
			if (!neigh_idle(n) || !(n->nud_state & (NUD_STALE | NUD_FAILED | NUD_NONE)))
				continue;
			if (n->nud_state == NUD_FAILED || n->used + stale <= now)
				neigh_destroy(st, n);
		}
	}
	if (st->arp.entries)
		neigh_gc_arm(st);
}

void arp_init(struct stack *st)
{
	for (unsigned b = 0; b < NEIGH_HASH_BUCKETS; b++)
		INIT_LIST_HEAD(&st->arp.buckets[b]);
	st->arp.entries = 0;
	st->arp.last = NULL;
	neigh_rand_reach_time(st);
	timer_set_handler(&st->timers, TIMER_NEIGH, neigh_timer_handler);
	timer_set_handler(&st->timers, TIMER_NEIGH_GC, neigh_periodic_gc);
	timer_setup(&st->arp.gc_timer, TIMER_NEIGH_GC);
}

void arp_destroy(struct stack *st)
{
	del_timer(st, &st->arp.gc_timer);
	for (unsigned b = 0; b < NEIGH_HASH_BUCKETS; b++) {
		struct neighbour *n, *tmp;
		list_for_each_entry_safe(n, tmp, &st->arp.buckets[b], hash)
			neigh_destroy(st, n);
	}
}
