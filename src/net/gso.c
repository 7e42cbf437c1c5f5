/*
 * Software segmentation of TCP super-frames (Linux: skb_gso_segment and
 * tcp_gso_segment, at dev_queue_xmit for a device without TSO). TCP hands
 * the device one frame for a run of full-sized segments with its headers
 * built once (tcp_transmit_tso); here it is cut back into wire segments,
 * each with its own IP length, ID and checksum and TCP sequence number and
 * checksum, PSH and FIN on the last only, CWR on the first only. The
 * payloads are read where they lie: after the headers, or in the queued
 * skbs of a nonlinear super-frame (TCP does not gather them for this). A
 * scatter-gather device (send_iov) takes each segment as its headers and
 * the payload in place, summed there; others get it copied behind them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include "core/skb.h"
#include "core/stack.h"
#include "net/checksum.h"
#include "net/ip.h"
#include "net/proto.h"

#define GSO_ETH_HLEN 14u

bool tcp4_frame_headers(const uint8_t *f, size_t len, uint32_t *ihl_out, uint32_t *thl_out)
{
	const struct iphdr *iph = (const struct iphdr *)(f + GSO_ETH_HLEN);
	uint32_t ihl, thl, tot;

	if (len < GSO_ETH_HLEN + sizeof(*iph) || f[12] != (ETH_P_IP >> 8) || f[13] != (ETH_P_IP & 0xff))
		return false;
	ihl = ip_hdr_ihl(iph) * 4u;
	tot = ntohs(iph->tot_len);
	if (ip_hdr_version(iph) != 4 || ihl < sizeof(*iph) || iph->protocol != IPPROTO_TCP ||
	    (ntohs(iph->frag_off) & 0x3fff))
		return false;
	if (tot < ihl + sizeof(struct tcphdr) || tot > len - GSO_ETH_HLEN)
		return false;
	thl = (uint32_t)(f[GSO_ETH_HLEN + ihl + 12] >> 4) * 4u;
	if (thl < sizeof(struct tcphdr) || ihl + thl > tot)
		return false;
	*ihl_out = ihl;
	*thl_out = thl;
	return true;
}

/* The header bytes every segment repeats (Ethernet, IP, TCP with its
 * options), *ihl the IP header's: 0 unless f is a TCP/IPv4 frame whose IP
 * length is the frame's. */
static uint32_t gso_header_len(const uint8_t *f, size_t len, uint32_t *ihl)
{
	const struct iphdr *iph = (const struct iphdr *)(f + GSO_ETH_HLEN);
	uint32_t thl;

	if (!tcp4_frame_headers(f, len, ihl, &thl) || ntohs(iph->tot_len) != len - GSO_ETH_HLEN)
		return 0;
	return GSO_ETH_HLEN + *ihl + thl;
}

/* The headers of segment k (plen payload bytes, last or not) over the
 * template's copy at seg; the payload follows them in seg, or, when
 * payload_sum is given, lies elsewhere with that partial sum. Inlined:
 * the call would cost a tenth of the work. */
static inline __attribute__((always_inline)) void gso_fix_headers(struct stack *st, uint8_t *seg, uint32_t ihl,
								  uint32_t hlen, uint32_t k, uint32_t gso_size,
								  uint32_t plen, bool last, const uint64_t *payload_sum)
{
	struct iphdr *iph = (struct iphdr *)(seg + GSO_ETH_HLEN);
	struct tcphdr *th = (struct tcphdr *)(seg + GSO_ETH_HLEN + ihl);
	uint32_t tcp_len = hlen - GSO_ETH_HLEN - ihl + plen;
	uint64_t pseudo = csum_tcpudp_nofold(iph->saddr, iph->daddr, tcp_len, IPPROTO_TCP, 0);

	iph->tot_len = htons((uint16_t)(ihl + tcp_len));
	iph->id = htons((uint16_t)(ntohs(iph->id) + k));
	ip_send_check(iph);
	th->seq = htonl(ntohl(th->seq) + k * gso_size);
	if (!last)
		th->flags &= (uint8_t)~(TCPHDR_PSH | TCPHDR_FIN);
	if (k)
		th->flags &= (uint8_t)~TCPHDR_CWR;
	th->check = 0;
	if (st->dev.tx_csum) /* the device sums each segment (CHECKSUM_PARTIAL) */
		th->check = htons((uint16_t)~csum_fold(pseudo));
	else if (payload_sum) /* the TCP header's length is a multiple of 4: the payload starts even */
		th->check = htons(csum_fold(csum_partial(th, tcp_len - plen, csum_block_add(pseudo, *payload_sum, 0))));
	else
		th->check = htons(csum_fold(csum_partial(th, tcp_len, pseudo)));
}

/* Where the payload is read from: the buffer after the headers, then
 * each frag in turn. */
struct gso_src {
	const uint8_t *p;           /* the current piece */
	uint32_t left;              /* its bytes not yet taken */
	const struct sk_buff *next; /* the next frag */
	uint32_t frags_left;
};

static void gso_src_init(struct gso_src *s, const struct sk_buff *skb, uint32_t hlen)
{
	s->p = skb->data + hlen;
	s->left = skb_headlen(skb) - hlen;
	s->next = skb->frag_list;
	s->frags_left = skb->nr_frags;
}

/* The next n payload bytes to `to`: false if the frags run out first. */
static bool gso_src_copy(struct gso_src *s, uint8_t *to, uint32_t n)
{
	while (n) {
		uint32_t c;

		if (!s->left) {
			if (!s->frags_left--)
				return false;
			s->p = s->next->data;
			s->left = s->next->len;
			s->next = list_entry(s->next->list.next, struct sk_buff, list);
			continue;
		}
		c = n < s->left ? n : s->left;
		memcpy(to, s->p, c);
		to += c;
		s->p += c;
		s->left -= c;
		n -= c;
	}
	return true;
}

/* The most payload pieces one segment is sent in (dev.sg): a segment lies
 * in one queued skb unless runs of short ones were gathered; more pieces
 * than this are copied together instead. */
#define GSO_SEG_MAX_PIECES 4

/* The next n payload bytes as pieces where they lie, into iov (at most
 * GSO_SEG_MAX_PIECES) with their partial sum (0 unless summing: a device
 * with TX_CSUM sums them itself): the count, or 0 if the frags run out or
 * the pieces are too many (s is then left as it was). */
static int gso_src_take(struct gso_src *s, uint32_t n, struct iovec *iov, bool summing, uint64_t *sum)
{
	struct gso_src at = *s;
	uint32_t off = 0;
	int cnt = 0;

	*sum = 0;
	while (off < n) {
		uint32_t c;

		if (!at.left) {
			if (!at.frags_left--)
				return 0;
			at.p = at.next->data;
			at.left = at.next->len;
			at.next = list_entry(at.next->list.next, struct sk_buff, list);
			continue;
		}
		if (cnt == GSO_SEG_MAX_PIECES)
			return 0;
		c = n - off < at.left ? n - off : at.left;
		iov[cnt++] = (struct iovec){ (void *)at.p, c };
		if (summing)
			*sum = csum_block_add(*sum, csum_partial(at.p, c, 0), off);
		at.p += c;
		at.left -= c;
		off += c;
	}
	*s = at;
	return cnt;
}

/* Segment k to a scatter-gather device: its headers from seg, then its
 * payload where it lies. False (nothing sent, src unmoved) if the payload
 * is in too many pieces. */
static bool gso_xmit_pieces(struct stack *st, struct gso_src *src, uint8_t *seg, uint32_t ihl, uint32_t hlen,
			    uint32_t k, uint32_t gso_size, uint32_t plen, bool last, int *err)
{
	struct iovec iov[1 + GSO_SEG_MAX_PIECES];
	uint64_t sum;
	int cnt = gso_src_take(src, plen, iov + 1, !st->dev.tx_csum, &sum);

	if (!cnt)
		return false;
	gso_fix_headers(st, seg, ihl, hlen, k, gso_size, plen, last, &sum);
	iov[0] = (struct iovec){ seg, hlen };
	*err = dev_queue_xmit_iov(st, iov, 1 + cnt, hlen + plen);
	return true;
}

int tcp4_gso_segment_xmit(struct stack *st, const struct sk_buff *skb)
{
	uint32_t ihl = 0, hlen, payload, segs, gso_size = skb->gso_size, head = skb_headlen(skb), seg_cap;
	struct gso_src src;
	struct sk_buff *seg;
	bool pieces;
	int err = 0;

	/* The headers must all be in the buffer (tcp4_frame_headers reads
	 * only them, up to the TCP data offset after the IP header; len is
	 * the whole frame's). */
	hlen = 0;
	if (head > GSO_ETH_HLEN && head >= GSO_ETH_HLEN + (skb->data[GSO_ETH_HLEN] & 0x0fu) * 4u + 20u)
		hlen = gso_header_len(skb->data, skb->len, &ihl);
	if (!hlen || hlen > head || !gso_size || skb->len == hlen ||
	    hlen + gso_size > GSO_ETH_HLEN + st->dev.mtu) {
		MIB_INC(st, LinkTxErrors);
		return -EINVAL;
	}
	payload = skb->len - hlen;
	segs = (payload + gso_size - 1) / gso_size;
	/* A segment over the pool's small blocks (a jumbo MTU) takes one of
	 * its cached large ones rather than a malloc per run. */
	seg_cap = hlen + gso_size;
	if (seg_cap > SKB_POOL_DATA && seg_cap <= st->skb_pool.big_size)
		seg_cap = st->skb_pool.big_size;
	seg = skb_alloc(&st->skb_pool, 0, seg_cap);
	if (!seg) {
		MIB_INC(st, LinkTxErrors);
		return -ENOBUFS;
	}
	gso_src_init(&src, skb, hlen);
	pieces = st->dev.sg && !trace_enabled(st);
	for (uint32_t k = 0; k < segs; k++) {
		uint32_t off = k * gso_size, plen = payload - off < gso_size ? payload - off : gso_size;
		bool last = k + 1 == segs;
		int e = 0;

		memcpy(seg->data, skb->data, hlen);
		if (!pieces || !gso_xmit_pieces(st, &src, seg->data, ihl, hlen, k, gso_size, plen, last, &e)) {
			if (!gso_src_copy(&src, seg->data + hlen, plen)) {
				MIB_INC(st, LinkTxErrors);
				err = err ? err : -EINVAL;
				break;
			}
			gso_fix_headers(st, seg->data, ihl, hlen, k, gso_size, plen, last, NULL);
			e = dev_queue_xmit(st, seg->data, hlen + plen);
		}
		if (e < 0 && !err)
			err = e;
	}
	kfree_skb(seg);
	return err;
}
