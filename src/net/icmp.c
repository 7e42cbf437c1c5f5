/*
 * ICMP (Linux: net/ipv4/icmp.c, inet_peer_xrlim_allow) and the UDP stub.
 *
 * Rate limiting is Linux's (v6.12+): types in icmp_ratemask pass a global
 * token bucket (icmp_msgs_per_sec, icmp_msgs_burst) first, then a
 * per-destination bucket that refills one token per jiffy and allows one
 * message per icmp_ratelimit ms with a burst of XRLIM_BURST_FACTOR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/checksum.h"
#include "net/eth.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/proto.h"

#define ICMP_HLEN ((uint32_t)sizeof(struct icmphdr))
#define IP_HLEN ((uint32_t)sizeof(struct iphdr))
/* RFC 1812 4.3.2.3: an error may carry as much as fits in 576 bytes. */
#define ICMP_ERR_MAXLEN 576u
#define ICMP_ADDRESS 17
#define ICMP_ADDRESSREPLY 18

/* Types Linux's icmp_pointers[] mark as errors (never answered with an
 * error): 1-7, 9-12. Types above NR_ICMP_TYPES count as errors too. */
#define ICMP_ERROR_TYPES 0x1efeu

static bool icmp_is_error(uint8_t type)
{
	return type > NR_ICMP_TYPES || ((ICMP_ERROR_TYPES >> type) & 1u);
}

static bool ipv4_is_multicast(uint32_t a) { return (ntohl(a) & 0xf0000000u) == 0xe0000000u; }

/* ------------------------------------------------------------ counters */

static void icmp_in_count(struct stack *st, uint8_t type)
{
	switch (type) {
	case ICMP_ECHOREPLY: MIB_INC(st, IcmpMsgInType0); MIB_INC(st, IcmpInEchoReps); break;
	case ICMP_DEST_UNREACH: MIB_INC(st, IcmpMsgInType3); MIB_INC(st, IcmpInDestUnreachs); break;
	case ICMP_REDIRECT: MIB_INC(st, IcmpInRedirects); break;
	case ICMP_ECHO: MIB_INC(st, IcmpMsgInType8); MIB_INC(st, IcmpInEchos); break;
	case ICMP_TIME_EXCEEDED: MIB_INC(st, IcmpMsgInType11); MIB_INC(st, IcmpInTimeExcds); break;
	case ICMP_PARAMETERPROB: MIB_INC(st, IcmpInParmProbs); break;
	default: break;
	}
}

/* Linux's icmp_out_count. */
static void icmp_out_count(struct stack *st, uint8_t type)
{
	MIB_INC(st, IcmpOutMsgs);
	switch (type) {
	case ICMP_ECHOREPLY: MIB_INC(st, IcmpMsgOutType0); MIB_INC(st, IcmpOutEchoReps); break;
	case ICMP_DEST_UNREACH: MIB_INC(st, IcmpMsgOutType3); MIB_INC(st, IcmpOutDestUnreachs); break;
	case ICMP_ECHO: MIB_INC(st, IcmpMsgOutType8); MIB_INC(st, IcmpOutEchos); break;
	case ICMP_TIME_EXCEEDED: MIB_INC(st, IcmpMsgOutType11); MIB_INC(st, IcmpOutTimeExcds); break;
	case ICMP_PARAMETERPROB: MIB_INC(st, IcmpMsgOutType12); MIB_INC(st, IcmpOutParmProbs); break;
	default: break;
	}
}

/* ------------------------------------------------------- rate limiting */

/* Exempt from both limits: types outside the mask, and PMTU discovery. */
static bool icmpv4_mask_allow(const struct stack *st, uint8_t type, uint8_t code)
{
	if (type > NR_ICMP_TYPES)
		return true;
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)
		return true;
	return !((1ul << type) & (unsigned long)st->sysctl.icmp_ratemask);
}

/* Linux's icmp_global_allow: refill at most every 20 ms (HZ/50). */
static bool icmp_global_allow(struct stack *st)
{
	struct icmp_state *ic = &st->icmp;
	uint32_t now = stack_jiffies(st), delta, incr;
	int64_t credit;

	if (ic->global_credit > 0)
		return true;
	delta = min_t(uint32_t, now - ic->global_stamp, 1000u);
	if (delta < 1000u / 50)
		return false;
	incr = (uint32_t)((uint64_t)st->sysctl.icmp_msgs_per_sec * delta / 1000u);
	if (!incr)
		return false;
	ic->global_stamp = now;
	credit = (int64_t)ic->global_credit + incr;
	if (credit > st->sysctl.icmp_msgs_burst)
		credit = st->sysctl.icmp_msgs_burst;
	ic->global_credit = (int32_t)credit;
	return true;
}

/* One credit on average, randomised so the bucket cannot be used as a
 * side channel (Linux's icmp_global_consume). */
static void icmp_global_consume(struct stack *st)
{
	st->icmp.global_credit -= (int32_t)prng_below(&st->rng, 3);
}

static struct icmp_peer *icmp_peer_get(struct stack *st, uint32_t daddr)
{
	struct icmp_peer *p, *victim = &st->icmp.peers[0];
	uint32_t now = stack_jiffies(st);

	for (p = st->icmp.peers; p < st->icmp.peers + ICMP_PEERS; p++) {
		if (p->daddr == daddr)
			goto found;
		if (p->daddr == 0) {
			if (victim->daddr != 0)
				victim = p;
		} else if (victim->daddr != 0 && now - p->last_use > now - victim->last_use) {
			victim = p;
		}
	}
	p = victim;
	p->daddr = daddr;
	p->rate_tokens = 0;
	/* As inet_getpeer: far enough back that the first check starts full. */
	p->rate_last = now - 60u * 1000u;
found:
	p->last_use = now;
	return p;
}

/* Linux's inet_peer_xrlim_allow: one token per jiffy, timeout tokens per
 * message, at most XRLIM_BURST_FACTOR messages saved up. */
static bool inet_peer_xrlim_allow(struct icmp_peer *p, uint32_t now, uint32_t timeout)
{
	uint64_t token = p->rate_tokens, delta = (uint32_t)(now - p->rate_last);
	bool rc = false;

	if (delta) {
		p->rate_last = now;
		token += delta;
		if (token > (uint64_t)XRLIM_BURST_FACTOR * timeout)
			token = (uint64_t)XRLIM_BURST_FACTOR * timeout;
	}
	if (token >= timeout) {
		token -= timeout;
		rc = true;
	}
	p->rate_tokens = (uint32_t)token;
	return rc;
}

/* Global stage, checked before routing; *apply says the host stage runs. */
static bool icmpv4_global_allow(struct stack *st, uint8_t type, uint8_t code, bool *apply)
{
	*apply = false;
	if (icmpv4_mask_allow(st, type, code))
		return true;
	if (icmp_global_allow(st)) {
		*apply = true;
		return true;
	}
	MIB_INC(st, IcmpOutRateLimitGlobal);
	trace_drop(st, "icmp_global_allow", "global ICMP rate limit");
	return false;
}

static bool icmpv4_xrlim_allow(struct stack *st, uint32_t daddr, bool apply)
{
	struct icmp_peer *p;

	if (!apply)
		return true;
	p = icmp_peer_get(st, daddr);
	if (!inet_peer_xrlim_allow(p, stack_jiffies(st), (uint32_t)st->sysctl.icmp_ratelimit)) {
		MIB_INC(st, IcmpOutRateLimitHost);
		trace_drop(st, "icmpv4_xrlim_allow", "per-destination ICMP rate limit");
		return false;
	}
	icmp_global_consume(st);
	return true;
}

/* -------------------------------------------------------------- output */

/* Build an ICMP message (header + data), checksum it and send it. */
static int icmp_push_reply(struct stack *st, const struct icmphdr *h, const void *data, uint32_t len,
			   uint32_t saddr, uint32_t daddr, uint8_t tos)
{
	struct sk_buff *skb = skb_alloc(&st->skb_pool, SKB_HEADROOM, ICMP_HLEN + len);
	struct ip_out o = { .saddr = saddr, .daddr = daddr, .protocol = IPPROTO_ICMP_, .tos = tos };
	struct icmphdr *icmph;
	int err;

	if (!skb) {
		MIB_INC(st, IcmpOutErrors);
		return -ENOMEM;
	}
	icmph = (struct icmphdr *)skb_put(skb, ICMP_HLEN + len);
	memcpy(icmph, h, ICMP_HLEN);
	if (len)
		memcpy(skb->data + ICMP_HLEN, data, len);
	icmph->checksum = 0;
	icmph->checksum = htons(ip_compute_csum(skb->data, skb->len));
	skb_reset_transport_header(skb);
	/* The ICMP socket uses IP_PMTUDISC_DONT: no DF, so big replies fragment. */
	icmp_out_count(st, h->type);
	err = ip_build_and_send_pkt(st, skb, &o);
	if (err == -EMSGSIZE || err == -ENOBUFS || err == -ENOMEM)
		MIB_INC(st, IcmpOutErrors);
	return err;
}

static bool icmp_reply_routable(struct stack *st, uint32_t daddr)
{
	uint32_t nh, src;

	return ip_route_output(st, daddr, &nh, &src) == 0;
}

/* The inner ICMP type of a quoted ICMP packet, or -1 if not present. */
static int icmp_inner_type(const struct sk_buff *skb, const struct iphdr *iph)
{
	const uint8_t *p = (const uint8_t *)iph + ip_hdr_ihl(iph) * 4u;

	return p < skb_tail(skb) ? *p : -1;
}

/* Linux's checks at the top of __icmp_send: whom we never answer. */
static bool icmp_may_send(const struct stack *st, const struct sk_buff *skb_in, const struct iphdr *iph,
			  uint8_t type)
{
	if (eth_skb_pkt_multicast(skb_in))
		return false;
	if (ip_is_broadcast(st, iph->daddr) || ipv4_is_multicast(iph->daddr))
		return false;
	/* No route back to these (Linux's lookup would not find one either). */
	if (iph->saddr == 0 || ip_is_broadcast(st, iph->saddr) || ipv4_is_multicast(iph->saddr))
		return false;
	if (iph->frag_off & htons(IP_OFFSET))
		return false;
	if (icmp_is_error(type) && iph->protocol == IPPROTO_ICMP_) {
		int inner = icmp_inner_type(skb_in, iph);
		if (inner < 0 || icmp_is_error((uint8_t)inner))
			return false;
	}
	return true;
}

void icmp_send(struct stack *st, const struct sk_buff *skb_in, uint8_t type, uint8_t code, uint32_t info)
{
	const uint8_t *nh = skb_network_header(skb_in);
	const struct iphdr *iph = (const struct iphdr *)nh;
	struct icmphdr h = { .type = type, .code = code };
	uint32_t room, data_len, saddr;
	bool apply;
	uint8_t tos;

	if (nh < skb_in->head || nh + IP_HLEN > skb_tail(skb_in) || nh + ip_hdr_ihl(iph) * 4u > skb_tail(skb_in))
		return;
	if (!st->dev.up || !icmp_may_send(st, skb_in, iph, type))
		return;
	saddr = ip_is_local(st, iph->daddr) ? iph->daddr : 0;
	tos = icmp_is_error(type) ? (uint8_t)((iph->tos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL) : iph->tos;
	if (!icmpv4_global_allow(st, type, code, &apply))
		return;
	if (!icmp_reply_routable(st, iph->saddr))
		return;
	if (!icmpv4_xrlim_allow(st, iph->saddr, apply))
		return;
	room = min_t(uint32_t, st->dev.mtu, ICMP_ERR_MAXLEN) - IP_HLEN - ICMP_HLEN;
	data_len = min_t(uint32_t, (uint32_t)(skb_tail(skb_in) - nh), room);
	h.un.gateway = info;
	icmp_push_reply(st, &h, nh, data_len, saddr, iph->saddr, tos);
}

int icmp_send_echo(struct stack *st, uint32_t daddr, uint16_t id, uint16_t seq, const void *data, size_t len)
{
	struct icmphdr h = { .type = ICMP_ECHO };

	if (len && !data)
		return -EINVAL;
	if (len > IP_MAX_LEN - IP_HLEN - ICMP_HLEN)
		return -EMSGSIZE;
	if (!icmp_reply_routable(st, daddr)) {
		MIB_INC(st, IpOutNoRoutes);
		return -ENETUNREACH;
	}
	h.un.echo.id = htons(id);
	h.un.echo.sequence = htons(seq);
	return icmp_push_reply(st, &h, data, (uint32_t)len, 0, daddr, 0);
}

/* --------------------------------------------------------------- input */

/* RFC 1122 3.2.2.6: the reply carries the request's data unchanged.
 * Linux keeps the code and TOS and answers from the address asked. */
static void icmp_echo(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	struct icmphdr h;
	bool apply;

	if (st->sysctl.icmp_echo_ignore_all)
		return;
	memcpy(&h, skb->data, ICMP_HLEN);
	h.type = ICMP_ECHOREPLY;
	if (!icmpv4_global_allow(st, h.type, h.code, &apply) || !icmp_reply_routable(st, iph->saddr) ||
	    !icmpv4_xrlim_allow(st, iph->saddr, apply))
		return;
	icmp_push_reply(st, &h, skb->data + ICMP_HLEN, skb->len - ICMP_HLEN,
			ip_is_local(st, iph->daddr) ? iph->daddr : 0, iph->saddr, iph->tos);
}

static void icmp_echo_reply(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	const struct icmphdr *icmph = (const struct icmphdr *)skb->data;
	struct synack_echo_reply r;

	if (!st->echo_fn)
		return;
	r.from.s_addr = iph->saddr;
	r.id = ntohs(icmph->un.echo.id);
	r.seq = ntohs(icmph->un.echo.sequence);
	r.ttl = iph->ttl;
	r.len = skb->len - ICMP_HLEN;
	r.payload = skb->data + ICMP_HLEN;
	st->echo_fn(st->echo_ctx, &r);
}

/* Errors about our packets (Linux: icmp_unreach + icmp_socket_deliver):
 * the quoted header must be there; its protocol's error handler decides. */
static bool icmp_unreach(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *inner;
	const struct icmphdr *h = (const struct icmphdr *)skb->data;
	ip_err_handler fn;

	if (!pskb_may_pull(skb, ICMP_HLEN + IP_HLEN))
		return false;
	inner = (const struct iphdr *)(skb->data + ICMP_HLEN);
	if (ip_hdr_ihl(inner) < 5 || skb->len < ICMP_HLEN + ip_hdr_ihl(inner) * 4u + 8)
		return false;
	trace_event(st, "icmp_unreach", "type %u code %u", h->type, h->code);
	fn = st->ipprot_err[inner->protocol];
	if (fn)
		fn(st, skb->data + ICMP_HLEN, skb->len - ICMP_HLEN, h->type, h->code, ntohl(h->un.gateway));
	return true;
}

/* RFC 1122 3.2.2.6/3.2.2.8: to a broadcast, only queries are answered. */
static bool icmp_bcast_allowed(const struct stack *st, uint8_t type)
{
	if ((type == ICMP_ECHO || type == ICMP_TIMESTAMP) && st->sysctl.icmp_echo_ignore_broadcasts)
		return false;
	return type == ICMP_ECHO || type == ICMP_TIMESTAMP || type == ICMP_ADDRESS || type == ICMP_ADDRESSREPLY;
}

static void icmp_rcv_error(struct stack *st, struct sk_buff *skb, const char *why)
{
	MIB_INC(st, IcmpInErrors);
	trace_drop(st, "icmp_rcv", "%s", why);
	kfree_skb(skb);
}

void icmp_rcv(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	uint8_t type;

	MIB_INC(st, IcmpInMsgs);
	if (ip_compute_csum(skb->data, skb->len) != 0) {
		MIB_INC(st, IcmpInCsumErrors);
		icmp_rcv_error(st, skb, "bad checksum");
		return;
	}
	if (!pskb_may_pull(skb, ICMP_HLEN)) {
		icmp_rcv_error(st, skb, "truncated header");
		return;
	}
	type = skb->data[0];
	icmp_in_count(st, type);
	if (type > NR_ICMP_TYPES) {
		icmp_rcv_error(st, skb, "unknown type");
		return;
	}
	if ((ip_is_broadcast(st, iph->daddr) || ipv4_is_multicast(iph->daddr)) && !icmp_bcast_allowed(st, type)) {
		icmp_rcv_error(st, skb, "broadcast not answered");
		return;
	}
	switch (type) {
	case ICMP_ECHO:
		icmp_echo(st, skb);
		break;
	case ICMP_ECHOREPLY:
		icmp_echo_reply(st, skb);
		break;
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		if (!icmp_unreach(st, skb)) {
			icmp_rcv_error(st, skb, "bad quoted header");
			return;
		}
		break;
	default:
		break;
	}
	kfree_skb(skb);
}

/* ----------------------------------------------------------------- UDP */

static bool udp_csum_ok(const struct sk_buff *skb, const struct iphdr *iph, const struct udphdr *uh,
			uint32_t ulen)
{
	if (uh->check == 0)
		return true; /* sender did not checksum (allowed over IPv4) */
	return csum_fold(csum_tcpudp_nofold(iph->saddr, iph->daddr, ulen, IPPROTO_UDP_,
					    csum_partial(skb->data, ulen, 0))) == 0;
}

static void udp_drop(struct stack *st, struct sk_buff *skb, const char *why)
{
	MIB_INC(st, UdpInErrors);
	trace_drop(st, "udp_rcv", "%s", why);
	kfree_skb(skb);
}

/* Linux's __udp4_lib_rcv with no socket bound anywhere. */
void udp_rcv(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	const struct udphdr *uh;
	uint32_t ulen;

	if (!pskb_may_pull(skb, sizeof(struct udphdr))) {
		udp_drop(st, skb, "truncated header");
		return;
	}
	uh = (const struct udphdr *)skb->data;
	ulen = ntohs(uh->len);
	if (ulen > skb->len || ulen < sizeof(struct udphdr)) {
		udp_drop(st, skb, "bad length");
		return;
	}
	skb_trim(skb, ulen);
	if (ip_is_broadcast(st, iph->daddr) || ipv4_is_multicast(iph->daddr)) {
		MIB_INC(st, UdpIgnoredMulti);
		kfree_skb(skb);
		return;
	}
	if (!udp_csum_ok(skb, iph, uh, ulen)) {
		MIB_INC(st, UdpInCsumErrors);
		udp_drop(st, skb, "bad checksum");
		return;
	}
	MIB_INC(st, UdpNoPorts);
	icmp_send(st, skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	kfree_skb(skb);
}

void icmp_init(struct stack *st)
{
	memset(&st->icmp, 0, sizeof(st->icmp));
	/* An empty bucket last refilled long ago: the first check fills it. */
	st->icmp.global_stamp = stack_jiffies(st) - 1000u;
}
