/*
 * IPv4 reassembly and output fragmentation (Linux: ip_fragment.c,
 * inet_fragment.c, ip_output.c's ip_do_fragment).
 *
 * Reassembly follows Linux since 2018: any overlap between fragments
 * poisons the whole datagram (RFC 5722's rule, which Linux applies to IPv4
 * too), while a fragment lying wholly inside data already held is a
 * harmless duplicate and is simply dropped. Memory is bounded overall
 * (ipfrag_high_thresh: above it every fragment is refused) and per source
 * (ipfrag_src_thresh), so one sender cannot starve the others.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/checksum.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/proto.h"

/* Where a queued fragment's payload sits in the datagram. */
struct ipfrag_cb {
	uint32_t offset, end;
};

static struct ipfrag_cb *FRAG_CB(struct sk_buff *skb) { return (struct ipfrag_cb *)skb->cb; }

static uint32_t skb_truesize(const struct sk_buff *skb)
{
	return skb->shinfo->size + (uint32_t)sizeof(struct sk_buff);
}

static unsigned ipfrag_bucket(const struct stack *st, uint32_t saddr)
{
	return (unsigned)(siphash_1u32(saddr, &st->secrets.perturb_secret) % IPFRAG_HASH_BUCKETS);
}

static void ipq_kill(struct stack *st, struct ipq *q)
{
	struct sk_buff *skb, *tmp;

	del_timer(st, &q->timer);
	list_for_each_entry_safe(skb, tmp, &q->frags, list) {
		list_del_init(&skb->list);
		kfree_skb(skb);
	}
	list_del_init(&q->list);
	st->frags.mem -= q->mem;
	st->frags.nqueues--;
	free(q);
}

static void ip_frag_fail(struct stack *st, struct ipq *q, struct sk_buff *skb, const char *why)
{
	MIB_INC(st, IpReasmFails);
	trace_drop(st, "ip_defrag", "%s", why);
	if (q)
		ipq_kill(st, q);
	kfree_skb(skb);
}

/* Timer: the datagram did not complete within ipfrag_time (ip_expire). */
static void ip_expire(struct stack *st, struct timer *t)
{
	struct ipq *q = container_of(t, struct ipq, timer);

	MIB_INC(st, IpReasmFails);
	MIB_INC(st, IpReasmTimeout);
	trace_drop(st, "ip_expire", "reassembly timed out");
	/* RFC 792: tell the sender, but only if the first fragment came,
	 * since that is what the error quotes. */
	if (q->first_in && !list_empty(&q->frags))
		icmp_send(st, list_first_entry(&q->frags, struct sk_buff, list), ICMP_TIME_EXCEEDED,
			  ICMP_EXC_FRAGTIME, 0);
	ipq_kill(st, q);
}

static uint64_t ipfrag_src_mem(const struct stack *st, unsigned bucket, uint32_t saddr)
{
	const struct ipq *q;
	uint64_t mem = 0;

	list_for_each_entry(q, &st->frags.buckets[bucket], list)
		if (q->saddr == saddr)
			mem += q->mem;
	return mem;
}

static struct ipq *ip_find(struct stack *st, unsigned bucket, const struct iphdr *iph)
{
	struct ipq *q;

	list_for_each_entry(q, &st->frags.buckets[bucket], list)
		if (q->saddr == iph->saddr && q->daddr == iph->daddr && q->id == iph->id &&
		    q->protocol == iph->protocol)
			return q;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->saddr = iph->saddr;
	q->daddr = iph->daddr;
	q->id = iph->id;
	q->protocol = iph->protocol;
	q->st = st;
	q->mem = sizeof(*q);
	INIT_LIST_HEAD(&q->frags);
	timer_setup(&q->timer, TIMER_IPFRAG);
	/* Armed once: later fragments do not extend the deadline. */
	mod_timer(st, &q->timer, stack_now(st) + (uint64_t)st->sysctl.ipfrag_time * NSEC_PER_SEC);
	list_add_tail(&q->list, &st->frags.buckets[bucket]);
	st->frags.nqueues++;
	st->frags.mem += q->mem;
	return q;
}

enum frag_insert { FRAG_OK, FRAG_DUP, FRAG_OVERLAP };

static enum frag_insert frag_vs_run(uint32_t offset, uint32_t end, uint32_t rs, uint32_t re)
{
	if (end <= rs || offset >= re)
		return FRAG_OK;
	if (offset >= rs && end <= re)
		return FRAG_DUP;
	return FRAG_OVERLAP;
}

/* Compare [offset, end) with each run of contiguous fragments already held
 * (Linux: inet_frag_queue_insert): inside a run is a duplicate, touching a
 * run partially is an overlap. *before: where the new fragment goes. */
static enum frag_insert ip_frag_check(struct ipq *q, uint32_t offset, uint32_t end, struct list_head **before)
{
	struct sk_buff *f;
	uint32_t rs = 0, re = 0;
	bool have_run = false;
	enum frag_insert r;

	*before = &q->frags;
	list_for_each_entry(f, &q->frags, list) {
		struct ipfrag_cb *cb = FRAG_CB(f);

		if (*before == &q->frags && cb->offset >= end)
			*before = &f->list;
		if (have_run && cb->offset == re) {
			re = cb->end;
			continue;
		}
		if (have_run && (r = frag_vs_run(offset, end, rs, re)) != FRAG_OK)
			return r;
		rs = cb->offset;
		re = cb->end;
		have_run = true;
	}
	return have_run ? frag_vs_run(offset, end, rs, re) : FRAG_OK;
}

static struct sk_buff *ip_frag_reasm(struct stack *st, struct ipq *q);

/* Add one fragment to q (Linux: ip_frag_queue). Returns the datagram when
 * it completes, else NULL; skb is consumed either way. */
static struct sk_buff *ip_frag_queue(struct stack *st, struct ipq *q, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	uint16_t frag_off = ntohs(iph->frag_off);
	uint32_t ihl = ip_hdr_ihl(iph) * 4u;
	uint32_t offset = (uint32_t)(frag_off & IP_OFFSET) * 8u;
	uint32_t end = offset + skb->len - ihl;
	struct list_head *before;

	if (!(frag_off & IP_MF)) {
		/* The last fragment fixes the length; data beyond it, or a
		 * second different last fragment, means corruption. */
		if (end < q->len || (q->last_in && end != q->len)) {
			ip_frag_fail(st, q, skb, "inconsistent last fragment");
			return NULL;
		}
		q->last_in = true;
		q->len = end;
	} else {
		end &= ~7u; /* non-last fragments carry multiples of 8 */
		if (end > q->len) {
			if (q->last_in) {
				ip_frag_fail(st, q, skb, "fragment beyond the last one");
				return NULL;
			}
			q->len = end;
		}
	}
	if (end <= offset) {
		ip_frag_fail(st, q, skb, "empty fragment");
		return NULL;
	}
	skb_trim(skb, ihl + end - offset);
	switch (ip_frag_check(q, offset, end, &before)) {
	case FRAG_DUP:
		trace_drop(st, "ip_defrag", "duplicate fragment");
		kfree_skb(skb);
		return NULL;
	case FRAG_OVERLAP:
		MIB_INC(st, IpExtReasmOverlaps);
		ip_frag_fail(st, q, skb, "overlapping fragment");
		return NULL;
	case FRAG_OK:
		break;
	}
	FRAG_CB(skb)->offset = offset;
	FRAG_CB(skb)->end = end;
	list_add_tail(&skb->list, before);
	q->meat += end - offset;
	q->mem += skb_truesize(skb);
	st->frags.mem += skb_truesize(skb);
	if (offset == 0)
		q->first_in = true;
	if (q->first_in && q->last_in && q->meat == q->len)
		return ip_frag_reasm(st, q);
	return NULL;
}

/* Copy the first fragment's link header in front, so the datagram looks
 * received like any other (ICMP checks how it arrived). */
static void ip_frag_copy_mac(struct sk_buff *to, const struct sk_buff *head)
{
	if (head->network_header < 14 || head->network_header - head->mac_header != 14)
		return;
	if (!skb_push(to, 14))
		return;
	memcpy(to->data, skb_mac_header(head), 14);
	skb_reset_mac_header(to);
	skb_pull(to, 14);
}

/* Build the whole datagram from the fragments (Linux: ip_frag_reasm). */
static struct sk_buff *ip_frag_reasm(struct stack *st, struct ipq *q)
{
	struct sk_buff *head = list_first_entry(&q->frags, struct sk_buff, list), *f, *skb;
	uint32_t ihl = ip_hdr_ihl((const struct iphdr *)head->data) * 4u;
	uint32_t total = ihl + q->len;
	struct iphdr *iph;

	if (total > IP_MAX_LEN) {
		ip_frag_fail(st, q, NULL, "oversized datagram");
		return NULL;
	}
	skb = skb_alloc(&st->skb_pool, SKB_HEADROOM, total);
	if (!skb) {
		ip_frag_fail(st, q, NULL, "out of memory");
		return NULL;
	}
	ip_frag_copy_mac(skb, head);
	memcpy(skb_put(skb, total), head->data, ihl);
	list_for_each_entry(f, &q->frags, list)
		memcpy(skb->data + ihl + FRAG_CB(f)->offset, f->data + (f->len - (FRAG_CB(f)->end - FRAG_CB(f)->offset)),
		       FRAG_CB(f)->end - FRAG_CB(f)->offset);
	skb->tstamp = head->tstamp;
	skb_reset_network_header(skb);
	iph = (struct iphdr *)skb->data;
	iph->tot_len = htons((uint16_t)total);
	iph->frag_off = 0;
	ip_send_check(iph);
	ipq_kill(st, q);
	MIB_INC(st, IpReasmOKs);
	return skb;
}

struct sk_buff *ip_defrag(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	unsigned bucket = ipfrag_bucket(st, iph->saddr);
	long high = st->sysctl.ipfrag_high_thresh;
	struct ipq *q;

	MIB_INC(st, IpReasmReqds);
	/* Like inet_frag_find: above the high mark nothing gets in, not
	 * even fragments of datagrams already started. */
	if (high == 0 || st->frags.mem > (uint64_t)high) {
		ip_frag_fail(st, NULL, skb, "reassembly memory full");
		return NULL;
	}
	if (ipfrag_src_mem(st, bucket, iph->saddr) + skb_truesize(skb) > (uint64_t)st->sysctl.ipfrag_src_thresh) {
		ip_frag_fail(st, NULL, skb, "source over its reassembly memory");
		return NULL;
	}
	q = ip_find(st, bucket, iph);
	if (!q) {
		ip_frag_fail(st, NULL, skb, "out of memory");
		return NULL;
	}
	return ip_frag_queue(st, q, skb);
}

void ipfrag_init(struct stack *st)
{
	for (unsigned b = 0; b < IPFRAG_HASH_BUCKETS; b++)
		INIT_LIST_HEAD(&st->frags.buckets[b]);
	st->frags.nqueues = 0;
	st->frags.mem = 0;
	timer_set_handler(&st->timers, TIMER_IPFRAG, ip_expire);
}

void ipfrag_destroy(struct stack *st)
{
	for (unsigned b = 0; b < IPFRAG_HASH_BUCKETS; b++) {
		struct ipq *q, *tmp;
		list_for_each_entry_safe(q, tmp, &st->frags.buckets[b], list)
			ipq_kill(st, q);
	}
}

/* ------------------------------------------------------------- output */

static struct sk_buff *ip_frag_make(struct stack *st, const struct sk_buff *skb, uint32_t hlen, uint32_t off,
				    uint32_t len, bool more)
{
	struct sk_buff *f = skb_alloc(&st->skb_pool, SKB_HEADROOM, hlen + len);
	struct iphdr *iph;

	if (!f)
		return NULL;
	memcpy(skb_put(f, hlen + len), skb->data, hlen);
	memcpy(f->data + hlen, skb->data + hlen + off, len);
	skb_reset_network_header(f);
	iph = (struct iphdr *)f->data;
	iph->tot_len = htons((uint16_t)(hlen + len));
	iph->frag_off = htons((uint16_t)((off >> 3) | (more ? IP_MF : 0)));
	ip_send_check(iph);
	return f;
}

int ip_do_fragment(struct stack *st, struct sk_buff *skb, uint32_t mtu, uint32_t nexthop)
{
	uint32_t hlen = ip_hdr_ihl((const struct iphdr *)skb->data) * 4u;
	uint32_t payload = skb->len - hlen, chunk, off;
	int err = 0;

	chunk = mtu > hlen ? (mtu - hlen) & ~7u : 0;
	if (chunk == 0) {
		MIB_INC(st, IpFragFails);
		kfree_skb(skb);
		return -EMSGSIZE;
	}
	for (off = 0; off < payload; off += chunk) {
		uint32_t len = min_t(uint32_t, chunk, payload - off);
		struct sk_buff *f = ip_frag_make(st, skb, hlen, off, len, off + len < payload);
		int rc;

		if (!f) {
			MIB_INC(st, IpFragFails);
			kfree_skb(skb);
			return -ENOBUFS;
		}
		MIB_INC(st, IpFragCreates);
		rc = ip_finish_output2(st, f, nexthop);
		if (rc && !err)
			err = rc;
	}
	MIB_INC(st, IpFragOKs);
	kfree_skb(skb);
	return err;
}
