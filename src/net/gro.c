/*
 * Software receive offload for TCP/IPv4 (Linux: dev_gro_receive,
 * inet_gro_receive, tcp_gro_receive, napi_gro_flush). Within one poll
 * burst, in-order segments of one flow are merged into a single frame of
 * up to 64 KiB before IP sees them, so IP and TCP run once for the lot and
 * the receiver ACKs the merged frame once. What may merge follows Linux:
 * the same Ethernet header, IP TOS and TTL and DF, the same ACK number,
 * window, flags and TCP options; the next sequence number; no more payload
 * than the first segment (whose size becomes gso_size); IP IDs counting up
 * or, with DF, all equal. A segment with PSH or FIN, or a short one, is
 * the last of its frame. Every checksum is checked here, so the merged
 * frame goes up CHECKSUM_UNNECESSARY; a frame that fails a check is not
 * merged and takes the ordinary path, which drops and counts it.
 */
#include "net/gro.h"

#include <arpa/inet.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/checksum.h"
#include "net/eth.h"
#include "net/ip.h"
#include "net/proto.h"

#define GRO_IP_OFF ETH_HLEN
#define GRO_TCP_OFF (ETH_HLEN + 20u)    /* only 20-byte IP headers merge, as in Linux */
#define GRO_MAX_IP_LEN 65535u
/* Flags a merging segment may not carry (Linux flushes on them; CWR as
 * before AccECN). */
#define GRO_FLAGS_ALONE (TCPHDR_SYN | TCPHDR_RST | TCPHDR_URG | TCPHDR_CWR)
#define GRO_FLAGS_LAST (TCPHDR_PSH | TCPHDR_FIN)

static const struct iphdr *gro_iph(const uint8_t *f) { return (const struct iphdr *)(f + GRO_IP_OFF); }
static const struct tcphdr *gro_th(const uint8_t *f) { return (const struct tcphdr *)(f + GRO_TCP_OFF); }

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Unequal bits of two runs of n bytes, n a multiple of 4 (TCP options),
 * compared in words as Linux does rather than through a memcmp call. */
static uint32_t diff_words(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	uint32_t d = 0;

	for (uint32_t i = 0; i < n; i += 4)
		d |= load32(a + i) ^ load32(b + i);
	return d;
}

/* A frame GRO may hold or append: TCP/IPv4 without IP options or
 * fragmentation, an IP length that is the frame's, valid checksums (or
 * *csum_ok: already known good), data, ACK set and none of
 * GRO_FLAGS_ALONE. *thl and *payload describe it; *csum_ok is set once
 * the checksum was checked here. */
static bool gro_frame_candidate(const uint8_t *f, uint32_t len, bool *csum_ok, uint32_t *thl, uint32_t *payload)
{
	const struct iphdr *iph = gro_iph(f);
	const struct tcphdr *th;
	uint32_t tot, tcp_len;

	if (len < GRO_TCP_OFF + sizeof(*th) || f[12] != (ETH_P_IP >> 8) || f[13] != (ETH_P_IP & 0xff) ||
	    iph->ver_ihl != 0x45 || iph->protocol != IPPROTO_TCP || (ntohs(iph->frag_off) & ~IP_DF))
		return false;
	tot = ntohs(iph->tot_len);
	if (tot != len - ETH_HLEN || tot < 20u + sizeof(*th))
		return false;
	th = gro_th(f);
	*thl = (uint32_t)(th->doff_res >> 4) * 4u;
	tcp_len = tot - 20u;
	if (*thl < sizeof(*th) || *thl >= tcp_len)
		return false;
	if (!(th->flags & TCPHDR_ACK) || (th->flags & GRO_FLAGS_ALONE) || ip_fast_csum(iph, 5) != 0)
		return false;
	if (!*csum_ok) {
		if (csum_fold(csum_partial(th, tcp_len, csum_tcpudp_nofold(iph->saddr, iph->daddr, tcp_len,
									   IPPROTO_TCP, 0))) != 0)
			return false;
		*csum_ok = true;  /* checked once, here */
	}
	*payload = tcp_len - *thl;
	return true;
}

static bool gro_candidate(struct sk_buff *skb, uint32_t *thl, uint32_t *payload)
{
	bool csum_ok = skb->ip_summed == CHECKSUM_UNNECESSARY;

	if (!gro_frame_candidate(skb->data, skb->len, &csum_ok, thl, payload))
		return false;
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	return true;
}

/* A flow: its addresses and ports. */
struct gro_key {
	uint64_t addrs;
	uint32_t ports;
};

/* The key of a TCP/IPv4 frame with an IP header of ihl bytes. */
static struct gro_key gro_key_at(const uint8_t *f, uint32_t ihl)
{
	return (struct gro_key){ load64(f + GRO_IP_OFF + 12), load32(f + GRO_IP_OFF + ihl) };
}

/* The key of any TCP/IPv4 frame long enough to have one. */
static bool gro_flow_key(const uint8_t *f, uint32_t len, struct gro_key *key)
{
	const struct iphdr *iph = gro_iph(f);
	uint32_t ihl;

	if (len < GRO_IP_OFF + sizeof(*iph) || f[12] != (ETH_P_IP >> 8) || f[13] != (ETH_P_IP & 0xff) ||
	    iph->protocol != IPPROTO_TCP)
		return false;
	ihl = ip_hdr_ihl(iph) * 4u;
	if (ihl < sizeof(*iph) || len < GRO_IP_OFF + ihl + 4u)
		return false;
	*key = gro_key_at(f, ihl);
	return true;
}

/* Held flows have 20-byte IP headers. */
static struct gro_flow *gro_find(struct stack *st, struct gro_key key)
{
	for (unsigned int i = 0; i < st->dev.gro_count; i++) {
		const uint8_t *h = st->dev.gro_held[i].skb->data;

		if (load64(h + GRO_IP_OFF + 12) == key.addrs && load32(h + GRO_TCP_OFF) == key.ports)
			return &st->dev.gro_held[i];
	}
	return NULL;
}

/* Everything but what merging changes (IP length, ID, checksum; TCP
 * sequence, PSH, FIN and checksum) is equal; the IDs count up, or are
 * equal under DF. */
static bool gro_headers_match(const struct gro_flow *g, const uint8_t *f, uint32_t thl)
{
	const uint8_t *h = g->skb->data;
	const struct iphdr *a = gro_iph(h), *b = gro_iph(f);
	const struct tcphdr *ta = gro_th(h), *tb = gro_th(f);
	uint16_t id = ntohs(b->id);

	/* Ethernet header: two overlapping 8-byte words. */
	if (((load64(h) ^ load64(f)) | (load64(h + 6) ^ load64(f + 6))) || a->tos != b->tos || a->ttl != b->ttl ||
	    a->frag_off != b->frag_off)
		return false;
	if (id != (uint16_t)(g->last_id + 1) && !(id == g->last_id && (ntohs(b->frag_off) & IP_DF)))
		return false;
	if (ta->doff_res != tb->doff_res || ta->ack_seq != tb->ack_seq || ta->window != tb->window ||
	    ((ta->flags ^ tb->flags) & (uint8_t)~GRO_FLAGS_LAST))
		return false;
	return diff_words((const uint8_t *)(ta + 1), (const uint8_t *)(tb + 1), thl - (uint32_t)sizeof(*ta)) == 0;
}

/* The held frame moves to a buffer that can take 64 KiB. */
static bool gro_grow(struct gro_flow *g)
{
	struct sk_buff *old = g->skb, *big;

	if (skb_tailroom(old) >= GRO_MAX_IP_LEN + ETH_HLEN - old->len)
		return true;
	big = skb_copy_room(old, GRO_MAX_IP_LEN + ETH_HLEN);
	if (!big)
		return false;
	kfree_skb(old);
	g->skb = big;
	return true;
}

/* May frame f (TCP header thl bytes, payload bytes of data) follow what
 * flow g holds? */
static bool gro_may_append(const struct gro_flow *g, const uint8_t *f, uint32_t thl, uint32_t payload)
{
	return ntohl(gro_th(f)->seq) == g->next_seq && payload <= g->mss &&
	       g->skb->len - ETH_HLEN + payload <= GRO_MAX_IP_LEN && gro_headers_match(g, f, thl);
}

/* Frame f's payload now ends the held frame: what it changes. */
static void gro_appended(struct stack *st, struct gro_flow *g, const uint8_t *f, uint32_t payload)
{
	struct tcphdr *held = (struct tcphdr *)gro_th(g->skb->data);

	held->flags |= gro_th(f)->flags & GRO_FLAGS_LAST;
	g->next_seq += payload;
	g->last_id = ntohs(gro_iph(f)->id);
	g->segs++;
	MIB_INC(st, LinkRxGroMerged);
}

/* Append skb's payload to the held frame: false (nothing changed) if it
 * may not be merged there. */
static bool gro_merge(struct stack *st, struct gro_flow *g, struct sk_buff *skb, uint32_t thl, uint32_t payload)
{
	if (!gro_may_append(g, skb->data, thl, payload) || !gro_grow(g))
		return false;
	memcpy(skb_put(g->skb, payload), skb->data + GRO_TCP_OFF + thl, payload);
	gro_appended(st, g, skb->data, payload);
	kfree_skb(skb);
	return true;
}

/* The merged frame's IP length and checksum; its segment size for TCP. */
static void gro_complete(struct stack *st, struct gro_flow *g)
{
	struct iphdr *iph = (struct iphdr *)(g->skb->data + GRO_IP_OFF);

	if (g->segs < 2)
		return;
	iph->tot_len = htons((uint16_t)(g->skb->len - ETH_HLEN));
	ip_send_check(iph);
	g->skb->gso_size = g->mss;
	trace_event(st, "napi_gro_complete", "seq %u len %u segs %u gso_size %u", ntohl(gro_th(g->skb->data)->seq),
		    g->next_seq - ntohl(gro_th(g->skb->data)->seq), g->segs, g->mss);
}

/* A merged frame that fills less than a quarter of its 64 KiB buffer
 * moves to one of its size: out-of-order data is charged its whole buffer
 * (truesize), and a few segments should not hold 64 KiB each. Larger ones
 * stay: the copy would cost more than the slack. */
static struct sk_buff *gro_fit(struct sk_buff *skb)
{
	struct sk_buff *fit;

	if ((uint64_t)skb->len * 4 >= skb->shinfo->size || skb->shinfo->size <= SKB_POOL_DATA ||
	    !(fit = skb_copy_fit(skb)))
		return skb;
	kfree_skb(skb);
	return fit;
}

/* Take flow i off the list and hand its frame up. */
static void gro_flush_one(struct stack *st, unsigned int i)
{
	struct gro_flow g = st->dev.gro_held[i];

	memmove(&st->dev.gro_held[i], &st->dev.gro_held[i + 1],
		(st->dev.gro_count - i - 1) * sizeof(st->dev.gro_held[0]));
	st->dev.gro_count--;
	st->dev.gro_run = 0;    /* the flows moved */
	gro_complete(st, &g);
	eth_rcv(st, gro_fit(g.skb));
}

static unsigned int gro_index(const struct stack *st, const struct gro_flow *g)
{
	return (unsigned int)(g - st->dev.gro_held);
}

/* Hold skb as the start of a new merged frame (the oldest held flow goes
 * up if the list is full). */
static void gro_hold(struct stack *st, struct sk_buff *skb, uint32_t payload)
{
	struct gro_flow *g;

	if (st->dev.gro_count == GRO_MAX_HELD)
		gro_flush_one(st, 0);
	st->dev.gro_run = 0;
	g = &st->dev.gro_held[st->dev.gro_count++];
	g->skb = skb;
	g->next_seq = ntohl(gro_th(skb->data)->seq) + payload;
	g->mss = (uint16_t)payload;
	g->segs = 1;
	g->last_id = ntohs(gro_iph(skb->data)->id);
}

/* Flow i took the frame just received: one more in a row, or the first. */
static void gro_count_run(struct stack *st, unsigned int i)
{
	if (st->dev.gro_run && st->dev.gro_run_flow == i) {
		if (st->dev.gro_run < UINT8_MAX)
			st->dev.gro_run++;
		return;
	}
	st->dev.gro_run_flow = (uint8_t)i;
	st->dev.gro_run = 1;
}

bool dev_gro_receive(struct stack *st, struct sk_buff *skb)
{
	uint32_t thl, payload;
	struct gro_flow *g;
	struct gro_key key;
	bool last;

	/* A frame the device merged itself goes up as it is (after its flow). */
	if (skb->gso_size || !gro_candidate(skb, &thl, &payload)) {
		st->dev.gro_run = 0;
		/* Its flow's held frame goes first, to keep the flow in order. */
		if (st->dev.gro_count && gro_flow_key(skb->data, skb->len, &key) && (g = gro_find(st, key)))
			gro_flush_one(st, gro_index(st, g));
		return false;
	}
	last = (gro_th(skb->data)->flags & GRO_FLAGS_LAST) != 0;
	g = gro_find(st, gro_key_at(skb->data, 20));
	if (g) {
		if (gro_merge(st, g, skb, thl, payload)) {
			gro_count_run(st, gro_index(st, g));
			if (last || payload < g->mss)
				gro_flush_one(st, gro_index(st, g));
			return true;
		}
		gro_flush_one(st, gro_index(st, g));
	}
	st->dev.gro_run = 0;
	if (last)
		return false;
	gro_hold(st, skb, payload);
	return true;
}

void dev_gro_flush(struct stack *st)
{
	while (st->dev.gro_count)
		gro_flush_one(st, 0);
}

void dev_gro_purge(struct stack *st)
{
	st->dev.gro_run = 0;
	while (st->dev.gro_count)
		kfree_skb(st->dev.gro_held[--st->dev.gro_count].skb);
}

/*
 * Receiving in place. While one flow's segments arrive back to back, the
 * next frame is received straight behind the payload the flow holds, its
 * headers over the held frame's last bytes (kept aside meanwhile): the
 * payload is then where merging would have copied it, and the frame needs
 * no buffer of its own. Linux gets the same from page fragments (GRO
 * chains the pages); synack's frames are linear, so it places them.
 */
bool dev_gro_place(struct stack *st, struct gro_place *p)
{
	const struct gro_flow *g;
	uint32_t room;

	if (st->dev.gro_run_flow >= st->dev.gro_count)
		return false;
	g = &st->dev.gro_held[st->dev.gro_run_flow];
	p->hdr = GRO_TCP_OFF + (uint32_t)(gro_th(g->skb->data)->doff_res >> 4) * 4u;
	room = skb_tailroom(g->skb);
	/* A whole frame must fit (a shorter buffer would truncate one the
	 * ordinary path takes whole), one more segment must be allowed, and
	 * the placed headers must cover payload only: over the held headers
	 * they would be compared with themselves, and flags set on them lost. */
	if (room + p->hdr < st->dev.rx_cap || g->skb->len - ETH_HLEN + g->mss > GRO_MAX_IP_LEN ||
	    g->skb->len < 2 * p->hdr)
		return false;
	p->buf = skb_tail(g->skb) - p->hdr;
	p->cap = st->dev.rx_cap;
	memcpy(p->saved, p->buf, p->hdr);
	return true;
}

void dev_gro_place_undo(const struct gro_place *p) { memcpy(p->buf, p->saved, p->hdr); }

bool dev_gro_place_merge(struct stack *st, const struct gro_place *p, uint32_t n, const struct synack_rx_meta *meta)
{
	struct gro_flow *g = &st->dev.gro_held[st->dev.gro_run_flow];
	bool csum_ok = (meta->flags & SYNACK_RX_CSUM_OK) != 0, last;
	uint32_t thl, payload;

	if (meta->gso_size || !gro_frame_candidate(p->buf, n, &csum_ok, &thl, &payload) ||
	    GRO_TCP_OFF + thl != p->hdr || !gro_may_append(g, p->buf, thl, payload))
		return false;
	last = (gro_th(p->buf)->flags & GRO_FLAGS_LAST) != 0;
	gro_appended(st, g, p->buf, payload);
	skb_put(g->skb, payload);   /* already there */
	MIB_INC(st, LinkRxGroInPlace);
	dev_gro_place_undo(p);
	gro_count_run(st, st->dev.gro_run_flow);
	if (last || payload < g->mss)
		gro_flush_one(st, gro_index(st, g));
	return true;
}
