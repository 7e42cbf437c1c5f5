/*
 * IPv4 input, output, routing and IP IDs for a host with one interface
 * (Linux: ip_input.c, ip_output.c, route.c). No forwarding: anything not
 * addressed to us is dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/arp.h"
#include "net/checksum.h"
#include "net/eth.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/proto.h"

#define IP_HLEN ((uint32_t)sizeof(struct iphdr))

static bool ipv4_is_multicast(uint32_t a) { return (ntohl(a) & 0xf0000000u) == 0xe0000000u; }
static bool ipv4_is_loopback(uint32_t a) { return (ntohl(a) & 0xff000000u) == 0x7f000000u; }
static bool ipv4_is_zeronet(uint32_t a) { return (ntohl(a) & 0xff000000u) == 0; }

bool ip_is_local(const struct stack *st, uint32_t addr)
{
	return st->dev.up && addr == st->dev.addr;
}

bool ip_is_broadcast(const struct stack *st, uint32_t addr)
{
	if (addr == INADDR_BROADCAST)
		return true;
	/* RFC 3021: /31 and /32 have no broadcast address. */
	return st->dev.up && st->dev.prefix_len < 31 && addr == (st->dev.addr | ~st->dev.mask);
}

void ip_register_protocol(struct stack *st, uint8_t proto, ip_proto_handler fn)
{
	st->ipprot[proto] = fn;
}

void ip_register_err_handler(struct stack *st, uint8_t proto, ip_err_handler fn) { st->ipprot_err[proto] = fn; }

void ip_send_check(void *hdr)
{
	struct iphdr *iph = hdr;

	iph->check = 0;
	iph->check = htons(ip_fast_csum(iph, ip_hdr_ihl(iph)));
}

/* ------------------------------------------------------------- IP IDs */

/* Linux's ip_idents_reserve: a bucket idle for d jiffies jumps ahead by a
 * random amount below d, so its value tells an observer little. */
static uint32_t ip_idents_reserve(struct stack *st, uint32_t hash, uint32_t segs)
{
	uint32_t bucket = hash % IP_IDENTS_SZ, now = stack_jiffies(st), old = st->ident.tstamps[bucket];
	uint32_t delta = 0;

	if (old != now) {
		st->ident.tstamps[bucket] = now;
		delta = prng_below(&st->rng, now - old);
	}
	st->ident.idents[bucket] += segs + delta;
	return st->ident.idents[bucket] - segs;
}

uint16_t ip_select_ident(struct stack *st, uint32_t daddr, uint32_t saddr, uint8_t protocol, uint32_t segs)
{
	uint32_t hash = (uint32_t)siphash_3u32(daddr, saddr, protocol, &st->secrets.ip_id_secret);

	return (uint16_t)ip_idents_reserve(st, hash, segs);
}

/* -------------------------------------------------------------- input */

static void ip_drop(struct stack *st, struct sk_buff *skb, const char *why)
{
	trace_drop(st, "ip_rcv", "%s", why);
	kfree_skb(skb);
}

static void ip_hdr_error(struct stack *st, struct sk_buff *skb, const char *why)
{
	MIB_INC(st, IpInHdrErrors);
	ip_drop(st, skb, why);
}

/* Linux's ip_rcv_core: the header checks, in its order; trims link padding. */
static bool ip_rcv_core(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph;
	uint32_t ihl, len;

	skb_reset_network_header(skb);
	if (!pskb_may_pull(skb, IP_HLEN)) {
		ip_hdr_error(st, skb, "truncated header");
		return false;
	}
	iph = (const struct iphdr *)skb->data;
	ihl = ip_hdr_ihl(iph) * 4u;
	if (ihl < IP_HLEN || ip_hdr_version(iph) != 4) {
		ip_hdr_error(st, skb, "bad version or header length");
		return false;
	}
	if (!pskb_may_pull(skb, ihl)) {
		ip_hdr_error(st, skb, "options past the end of the frame");
		return false;
	}
	if (ip_fast_csum(iph, ihl / 4) != 0) {
		MIB_INC(st, IpExtInCsumErrors);
		ip_hdr_error(st, skb, "bad header checksum");
		return false;
	}
	len = ntohs(iph->tot_len);
	if (skb->len < len) {
		MIB_INC(st, IpExtInTruncatedPkts);
		ip_drop(st, skb, "frame shorter than tot_len");
		return false;
	}
	if (len < ihl) {
		ip_hdr_error(st, skb, "tot_len shorter than the header");
		return false;
	}
	skb_trim(skb, len);
	return true;
}

/* Source addresses no host may use (Linux: martian sources in
 * ip_route_input_slow and fib_validate_source). */
static bool ip_martian_source(const struct stack *st, uint32_t saddr, uint32_t daddr)
{
	if (ipv4_is_multicast(saddr) || saddr == INADDR_BROADCAST)
		return true;
	if (saddr == 0)
		return daddr != INADDR_BROADCAST; /* 0.0.0.0 only for DHCP's broadcasts */
	if (ipv4_is_zeronet(saddr) || ipv4_is_loopback(saddr))
		return true;
	return ip_is_local(st, saddr) || ip_is_broadcast(st, saddr);
}

/* The input route: ours, a broadcast we take, or nothing (no forwarding).
 * Counted as Linux's ip_error does with forwarding off (InAddrErrors);
 * synack counts martian sources there too, where Linux counts none. */
static bool ip_route_input(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;

	if (ip_martian_source(st, iph->saddr, iph->daddr)) {
		MIB_INC(st, IpInAddrErrors);
		ip_drop(st, skb, "martian source");
		return false;
	}
	if (ip_is_broadcast(st, iph->daddr)) {
		MIB_INC(st, IpExtInBcastPkts);
		return true;
	}
	if (ip_is_local(st, iph->daddr))
		return true;
	/* A transparent listener takes TCP to any unicast address (a TUN/TAP
	 * terminator); Linux gets there with TPROXY and IP_TRANSPARENT. */
	if (iph->protocol == IPPROTO_TCP && st->tcp.catchall && !ipv4_is_multicast(iph->daddr) &&
	    !ipv4_is_zeronet(iph->daddr))
		return true;
	MIB_INC(st, IpInAddrErrors);
	ip_drop(st, skb, "not addressed to us");
	return false;
}

/* IP option kinds and timestamp flags (RFC 791, Linux's IPOPT_*). */
#define IPOPT_END 0
#define IPOPT_NOOP 1
#define IPOPT_RR 7
#define IPOPT_TIMESTAMP 68
#define IPOPT_LSRR 131
#define IPOPT_SSRR 137
#define IPOPT_RA 148
#define IPOPT_TS_TSANDADDR 1
#define IPOPT_TS_PRESPEC 3

/* Where the option list of iph first breaks the rules of Linux's
 * __ip_options_compile for a received packet (an offset into the header,
 * as ICMP parameter problem reports it), or -1. *srr: a source route. */
static int ip_options_check(const uint8_t *iph, uint32_t ihl, bool *srr)
{
	const uint8_t *o = iph + IP_HLEN;
	int left = (int)ihl - (int)IP_HLEN;
	bool rr = false, ts = false;

	*srr = false;
	while (left > 0) {
		int kind = o[0], olen, bad = -1;

		if (kind == IPOPT_END)
			return -1; /* the rest is padding (Linux rewrites it to EOL) */
		if (kind == IPOPT_NOOP) {
			o++;
			left--;
			continue;
		}
		if (left < 2 || (olen = o[1]) < 2 || olen > left)
			return (int)(o - iph);
		switch (kind) {
		case IPOPT_LSRR:
		case IPOPT_SSRR:
			bad = olen < 3 ? 1 : o[2] < 4 ? 2 : *srr ? 0 : -1;
			*srr = true;
			break;
		case IPOPT_RR:
			bad = rr ? 0 : olen < 3 ? 1 : o[2] < 4 ? 2 : (o[2] <= olen && o[2] + 3 > olen) ? 2 : -1;
			rr = true;
			break;
		case IPOPT_TIMESTAMP:
			if (ts)
				bad = 0;
			else if (olen < 4)
				bad = 1;
			else if (o[2] < 5)
				bad = 2;
			else if (o[2] <= olen)
				bad = o[2] + 3 > olen ? 2 :
				      ((o[3] & 0xf) == IPOPT_TS_TSANDADDR || (o[3] & 0xf) == IPOPT_TS_PRESPEC) &&
						      o[2] + 7 > olen ? 2 : -1;
			else if ((o[3] & 0xf) != IPOPT_TS_PRESPEC && (o[3] >> 4) == 15)
				bad = 3; /* the overflow counter cannot count another hop */
			ts = true;
			break;
		case IPOPT_RA:
			bad = olen < 4 ? 1 : -1;
			break;
		default:
			break; /* other kinds are skipped by their length */
		}
		if (bad >= 0)
			return (int)(o - iph) + bad;
		o += olen;
		left -= olen;
	}
	return -1;
}

/* Linux's ip_rcv_options for a host: malformed options get IpInHdrErrors and
 * an ICMP parameter problem pointing at the bad byte; a source-routed packet
 * is dropped uncounted (accept_source_route is 0 on a host). Options are
 * only checked: synack does not forward, so it records nothing in them. */
static bool ip_rcv_options(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	uint32_t ihl = ip_hdr_ihl(iph) * 4u;
	bool srr;
	int bad;

	if (ihl == IP_HLEN)
		return true;
	bad = ip_options_check(skb->data, ihl, &srr);
	if (bad >= 0) {
		MIB_INC(st, IpInHdrErrors);
		icmp_send(st, skb, ICMP_PARAMETERPROB, 0, htonl((uint32_t)bad << 24));
		trace_drop(st, "ip_rcv", "bad IP option at byte %d", bad);
		kfree_skb(skb);
		return false;
	}
	if (srr) {
		ip_drop(st, skb, "source route option refused");
		return false;
	}
	return true;
}

static void ip_local_deliver_finish(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	ip_proto_handler handler = st->ipprot[iph->protocol];
	uint8_t protocol = iph->protocol;

	skb_reset_network_header(skb);
	skb_pull(skb, ip_hdr_ihl(iph) * 4u);
	skb_reset_transport_header(skb);
	if (!handler) {
		MIB_INC(st, IpInUnknownProtos);
		icmp_send(st, skb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
		trace_drop(st, "ip_local_deliver", "no handler for protocol %u", protocol);
		kfree_skb(skb);
		return;
	}
	MIB_INC(st, IpInDelivers);
	handler(st, skb);
}

static void ip_local_deliver(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;

	if (iph->frag_off & htons(IP_MF | IP_OFFSET)) {
		skb = ip_defrag(st, skb);
		if (!skb)
			return;
	}
	ip_local_deliver_finish(st, skb);
}

void ip_rcv(struct stack *st, struct sk_buff *skb)
{
	MIB_INC(st, IpInReceives);
	MIB_ADD(st, IpExtInOctets, skb->len);
	if (!st->dev.up) {
		MIB_INC(st, IpInDiscards);
		ip_drop(st, skb, "interface down");
		return;
	}
	if (!ip_rcv_core(st, skb) || !ip_route_input(st, skb) || !ip_rcv_options(st, skb))
		return;
	ip_local_deliver(st, skb);
}

/* ------------------------------------------------------------- output */

int ip_route_output(struct stack *st, uint32_t daddr, uint32_t *nexthop, uint32_t *saddr)
{
	const struct netif *dev = &st->dev;

	if (!dev->up)
		return -ENETUNREACH;
	/* No loopback device: our own and 127/8 addresses are unreachable. */
	if (ipv4_is_zeronet(daddr) || ipv4_is_loopback(daddr) || daddr == dev->addr)
		return -ENETUNREACH;
	*saddr = dev->addr;
	if (ip_is_broadcast(st, daddr) || ipv4_is_multicast(daddr) || ((daddr ^ dev->addr) & dev->mask) == 0) {
		*nexthop = daddr;
		return 0;
	}
	if (!dev->gateway)
		return -ENETUNREACH;
	*nexthop = dev->gateway;
	return 0;
}

int ip_finish_output2(struct stack *st, struct sk_buff *skb, uint32_t nexthop)
{
	MIB_INC(st, IpOutTransmits);
	return neigh_output(st, skb, nexthop);
}

static int ip_finish_output(struct stack *st, struct sk_buff *skb, uint32_t nexthop)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	uint32_t mtu = st->dev.mtu;

	/* A super-frame's segments each fit: the TCP sender cut it at the MSS. */
	if (skb->len <= mtu || skb->gso_size)
		return ip_finish_output2(st, skb, nexthop);
	if (iph->frag_off & htons(IP_DF)) {
		MIB_INC(st, IpFragFails);
		trace_drop(st, "ip_fragment", "%u bytes with DF over MTU %u", skb->len, mtu);
		kfree_skb(skb);
		return -EMSGSIZE;
	}
	return ip_do_fragment(st, skb, mtu, nexthop);
}

/* Linux's ip_select_ident_segs without a connected socket: DF packets
 * carry 0 (RFC 6864: the ID of an atomic datagram means nothing). */
static uint16_t ip_out_ident(struct stack *st, const struct ip_out *o, uint32_t saddr)
{
	if (o->use_id)
		return o->id;
	if (o->df)
		return 0;
	return ip_select_ident(st, o->daddr, saddr, o->protocol, 1);
}

static void ip_fill_header(struct stack *st, struct iphdr *iph, const struct ip_out *o, uint32_t saddr,
			   uint32_t tot_len)
{
	iph->ver_ihl = 0x45;
	iph->tos = o->tos;
	iph->tot_len = htons((uint16_t)tot_len);
	iph->id = htons(ip_out_ident(st, o, saddr));
	iph->frag_off = o->df ? htons(IP_DF) : 0;
	iph->ttl = o->ttl ? o->ttl : (uint8_t)st->sysctl.ip_default_ttl;
	iph->protocol = o->protocol;
	iph->saddr = saddr;
	iph->daddr = o->daddr;
	ip_send_check(iph);
}

int ip_build_and_send_pkt(struct stack *st, struct sk_buff *skb, const struct ip_out *o)
{
	uint32_t nexthop, saddr, tot_len = skb->len + IP_HLEN;
	struct iphdr *iph;
	int err;

	err = ip_route_output(st, o->daddr, &nexthop, &saddr);
	if (err) {
		MIB_INC(st, IpOutNoRoutes);
		trace_drop(st, "ip_build_and_send_pkt", "no route");
		kfree_skb(skb);
		return err;
	}
	if (o->saddr)
		saddr = o->saddr;
	if (tot_len > IP_MAX_LEN) {
		MIB_INC(st, IpOutDiscards);
		kfree_skb(skb);
		return -EMSGSIZE;
	}
	iph = (struct iphdr *)skb_push(skb, IP_HLEN);
	if (!iph) {
		MIB_INC(st, IpOutDiscards);
		kfree_skb(skb);
		return -ENOBUFS;
	}
	skb_reset_network_header(skb);
	ip_fill_header(st, iph, o, saddr, tot_len);
	MIB_INC(st, IpOutRequests);
	MIB_ADD(st, IpExtOutOctets, tot_len);
	if (ip_is_broadcast(st, o->daddr))
		MIB_INC(st, IpExtOutBcastPkts);
	return ip_finish_output(st, skb, nexthop);
}

/* --------------------------------------------------------------- init */

void ip_init(struct stack *st)
{
	/* Linux seeds the ID counters randomly at boot. */
	prng_bytes(&st->rng, st->ident.idents, sizeof(st->ident.idents));
	memset(st->ident.tstamps, 0, sizeof(st->ident.tstamps));
	ipfrag_init(st);
	ip_register_protocol(st, IPPROTO_ICMP_, icmp_rcv);
	ip_register_protocol(st, IPPROTO_UDP_, udp_rcv);
}

void ip_destroy(struct stack *st)
{
	ipfrag_destroy(st);
}
