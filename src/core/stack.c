/* The stack object: creation, the interface, and the poll loop that moves
 * frames up from the link and runs the timers. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "link/link.h"
#include "net/arp.h"
#include "net/eth.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/proto.h"

#define SKB_POOL_CACHE 1024
/* Frames taken from the link in one poll, so timers are never starved. */
#define POLL_BUDGET 256

int synack_stack_new(const struct synack_stack_config *cfg, struct stack **out)
{
	struct stack *st;
	int err;

	if (!cfg || !cfg->clock || !out)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	snprintf(st->name, sizeof(st->name), "%s", cfg->name ? cfg->name : "stack");
	st->clock = cfg->clock;
	if (cfg->seeded) {
		secrets_init_seeded(&st->secrets, &st->rng, cfg->seed);
	} else {
		err = secrets_init_random(&st->secrets, &st->rng);
		if (err < 0) {
			free(st);
			return err;
		}
	}
	timer_wheel_init(&st->timers, stack_now(st));
	skb_pool_init(&st->skb_pool, SKB_POOL_CACHE);
	sysctls_init_defaults(&st->sysctl);
	arp_init(st);
	ip_init(st);
	icmp_init(st);
	tcp_v4_init(st);
	*out = st;
	return 0;
}

void synack_stack_free(struct stack *st)
{
	if (!st)
		return;
	synack_thread_stop(st);
	dev_gro_purge(st);
	tcp_v4_destroy(st);
	stack_events_destroy(st);
	arp_destroy(st);
	ip_destroy(st);
	timer_wheel_destroy(&st->timers);
	skb_pool_destroy(&st->skb_pool);
	free(st);
}

const char *synack_stack_name(const struct stack *st) { return st ? st->name : NULL; }

static uint32_t prefix_to_mask(uint8_t prefix_len)
{
	return prefix_len ? htonl(~0u << (32 - prefix_len)) : 0;
}

static int if_config_check(const struct synack_link *l, const struct synack_if_config *cfg)
{
	uint32_t mask;

	if (!l || !l->ops || !l->ops->send || !l->ops->recv || !cfg || cfg->prefix_len > 32)
		return -EINVAL;
	if (cfg->addr.s_addr == 0 || cfg->addr.s_addr == INADDR_BROADCAST)
		return -EINVAL;
	mask = prefix_to_mask(cfg->prefix_len);
	/* Like Linux's fib_check_nh: the gateway must be on-link. */
	if (cfg->gateway.s_addr && ((cfg->gateway.s_addr ^ cfg->addr.s_addr) & mask))
		return -ENETUNREACH;
	return 0;
}

int synack_if_up(struct stack *st, struct synack_link *l, const struct synack_if_config *cfg)
{
	char addr[INET_ADDRSTRLEN];
	int err;

	if (!st)
		return -EINVAL;
	if (st->dev.up)
		return -EBUSY;
	err = if_config_check(l, cfg);
	if (err)
		return err;
	st->dev.link = l;
	memcpy(st->dev.mac, l->mac, sizeof(st->dev.mac));
	st->dev.mtu = l->mtu ? l->mtu : 1500;
	st->dev.rx_cap = st->dev.mtu + ETH_HLEN;
	if (l->ops->recv_meta && l->max_frame > st->dev.rx_cap)
		st->dev.rx_cap = l->max_frame;
	st->dev.tx_csum = (l->features & SYNACK_LINK_F_TX_CSUM) != 0;
	st->dev.tso = st->dev.tx_csum && (l->features & SYNACK_LINK_F_TSO) && l->ops->send_gso;
	st->dev.tso_sg = st->dev.tso && l->ops->send_gso_iov;
	st->dev.sg = l->ops->send_iov != NULL;
	st->dev.gro = (l->features & SYNACK_LINK_F_GRO) != 0;
	/* Large blocks are cached: a link's 64 KiB receive buffers, and the
	 * buffers TCP gathers super-frames in (tcp_transmit_tso) on any link. */
	st->skb_pool.big_size = SKB_HEADROOM + max_t(uint32_t, st->dev.rx_cap, ETH_HLEN + 65535u);
	st->dev.addr = cfg->addr.s_addr;
	st->dev.prefix_len = cfg->prefix_len;
	st->dev.mask = prefix_to_mask(cfg->prefix_len);
	st->dev.gateway = cfg->gateway.s_addr;
	st->dev.up = true;
	stack_events_link_up(st);
	inet_ntop(AF_INET, &cfg->addr, addr, sizeof(addr));
	trace_event(st, "netdev_up", "%s %s/%u mtu %u mac %02x:%02x:%02x:%02x:%02x:%02x", l->ops->kind, addr,
		    cfg->prefix_len, st->dev.mtu, l->mac[0], l->mac[1], l->mac[2], l->mac[3], l->mac[4],
		    l->mac[5]);
	arp_send_gratuitous(st);
	return 0;
}

/* The driver's answer to a transmit, counted. */
static inline int dev_xmit_result(struct stack *st, int err)
{
	if (err < 0) {
		MIB_INC(st, LinkTxErrors);
		return err;
	}
	MIB_INC(st, LinkTxFrames);
	return 0;
}

/* The link to transmit on, or NULL (counted) while the interface is down. */
static inline struct synack_link *dev_tx_link(struct stack *st)
{
	if (st->dev.up && st->dev.link)
		return st->dev.link;
	MIB_INC(st, LinkTxErrors);
	return NULL;
}

/* One frame to the driver, a super-frame when gso_size is set (Linux:
 * dev_hard_start_xmit). Inlined into both entry points, so the plain one
 * pays no GSO branch. */
static inline __attribute__((always_inline)) int dev_hard_xmit(struct stack *st, const uint8_t *frame, size_t len,
							    uint16_t gso_size)
{
	struct synack_link *l = dev_tx_link(st);
	int err;

	if (!l)
		return -ENETDOWN;
	trace_frame(st, SYNACK_TRACE_FRAME_TX, frame, len);
	if (gso_size)
		err = l->ops->send_gso(l, frame, len, gso_size);
	else
		err = st->dev.xmit_batch ? link_send_more(l, frame, len) : l->ops->send(l, frame, len);
	return dev_xmit_result(st, err);
}

int dev_queue_xmit(struct stack *st, const uint8_t *frame, size_t len) { return dev_hard_xmit(st, frame, len, 0); }

/* A frame in pieces to a scatter-gather device (dev.sg). Untraced: a trace
 * of frames wants each whole, so callers gather while one is on. */
int dev_queue_xmit_iov(struct stack *st, const struct iovec *iov, int iovcnt, size_t len)
{
	struct synack_link *l = dev_tx_link(st);

	return l ? dev_xmit_result(st, l->ops->send_iov(l, iov, iovcnt, len)) : -ENETDOWN;
}

/* The most payload pieces handed to send_gso_iov: a run at a full-sized
 * MSS has about 45, one at an MTU of 576 about 125. Longer runs (a peer's
 * tiny MSS, TCP_MAXSEG) are gathered instead. */
#define DEV_GSO_MAX_PIECES 128

/* A nonlinear super-frame to a scatter-gather TSO device: the headers and
 * then each payload where TCP queued it, no gathering copy. */
static int dev_xmit_gso_iov(struct stack *st, struct sk_buff *skb)
{
	struct iovec iov[1 + DEV_GSO_MAX_PIECES];
	const struct sk_buff *f = skb->frag_list;
	struct synack_link *l = st->dev.link;

	iov[0] = (struct iovec){ skb->data, skb_headlen(skb) };
	for (uint16_t i = 0; i < skb->nr_frags; i++, f = list_entry(f->list.next, struct sk_buff, list))
		iov[1 + i] = (struct iovec){ f->data, f->len };
	return dev_xmit_result(st, l->ops->send_gso_iov(l, iov, 1 + skb->nr_frags, skb->len, skb->gso_size));
}

/* A device without TSO gets the super-frame cut in software, from its
 * frags where TCP left the payloads; a TSO device takes it in pieces if it
 * can (send_gso_iov), else in one buffer. A trace of frames wants the
 * frame whole. */
int dev_queue_xmit_gso(struct stack *st, struct sk_buff *skb)
{
	if (!dev_tx_link(st))
		return -ENETDOWN;
	if (!st->dev.tso)
		return tcp4_gso_segment_xmit(st, skb);
	if (skb->data_len && st->dev.tso_sg && !trace_enabled(st) && skb->nr_frags <= DEV_GSO_MAX_PIECES)
		return dev_xmit_gso_iov(st, skb);
	if (skb_linearize(skb)) {
		MIB_INC(st, LinkTxErrors);
		return -ENOBUFS;
	}
	return dev_hard_xmit(st, skb->data, skb->len, skb->gso_size);
}

void dev_xmit_batch_end(struct stack *st)
{
	if (--st->dev.xmit_batch || !st->dev.up || !st->dev.link)
		return;
	if (link_flush(st->dev.link) < 0)
		MIB_INC(st, LinkTxErrors);
}

/* The frame's n bytes into skb, or, when it filled less than half of a
 * large receive buffer (a link with max_frame), into a buffer of its own
 * size: a queued segment holds its whole buffer (truesize), and 64 KiB per
 * small segment would eat the receive window. */
static struct sk_buff *dev_rx_put(struct stack *st, struct sk_buff *skb, uint32_t n)
{
	struct sk_buff *fit;

	if (st->dev.rx_cap > st->dev.mtu + ETH_HLEN && (uint64_t)n * 2 < st->dev.rx_cap &&
	    (fit = skb_alloc(&st->skb_pool, SKB_HEADROOM, n))) {
		memcpy(skb_put(fit, n), skb->data, n);
		skb_pool_keep(&st->skb_pool, skb);
		return fit;
	}
	skb_put(skb, n);
	return skb;
}

/* With no flow held, a quick look at a received frame of len bytes: could
 * GRO hold it to merge what follows? TCP/IPv4 with a 20-byte IP header,
 * data, ACK and none of SYN, RST, URG, CWR, PSH, FIN. Other frames go
 * straight up (while flows are held they go through dev_gro_receive, to
 * keep their flow in order), so a handshake's frames cost GRO little. */
static inline bool gro_may_hold(const uint8_t *f, uint32_t len)
{
	const uint32_t tcp = 14 + 20;
	const uint8_t alone = TCPHDR_SYN | TCPHDR_RST | TCPHDR_URG | TCPHDR_CWR | TCPHDR_PSH | TCPHDR_FIN;

	/* The flags first: they turn away most frames that are not bulk data. */
	if (len <= tcp + 20 || (f[tcp + 13] & (alone | TCPHDR_ACK)) != TCPHDR_ACK)
		return false;
	return f[12] == (ETH_P_IP >> 8) && f[13] == (ETH_P_IP & 0xff) && f[14] == 0x45 && f[23] == IPPROTO_TCP &&
	       ((uint32_t)f[16] << 8 | f[17]) > 20u + (uint32_t)(f[tcp + 12] >> 4) * 4u;
}

/* Count a frame the link gave, or why not: 0 when there was none. */
static int dev_rx_none(struct stack *st, int n)
{
	if (n == 0 || n == -EAGAIN)
		return 0;
	MIB_INC(st, LinkRxErrors);
	return n;
}

/* A received frame, skb->len bytes, on its way up: its weight against the
 * poll budget (the wire segments a merged frame stands for, as NAPI counts
 * packets before GRO, so one poll cannot take in 256 x 64 KiB before the
 * application reads). Inlined, so the common path pays no call. */
static inline __attribute__((always_inline)) int dev_rx_up(struct stack *st, struct sk_buff *skb,
							   const struct synack_rx_meta *meta)
{
	int weight = 1;

	if (meta->flags & SYNACK_RX_CSUM_OK)
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	if (meta->gso_size) {
		MIB_INC(st, LinkRxGsoFrames);
		skb->gso_size = meta->gso_size;
		weight = (int)((skb->len + meta->gso_size - 1) / meta->gso_size);
	}
	skb->tstamp = stack_now(st);
	MIB_INC(st, LinkRxFrames);
	trace_frame(st, SYNACK_TRACE_FRAME_RX, skb->data, skb->len);
	if (!st->dev.gro || !(st->dev.gro_count || (!meta->gso_size && gro_may_hold(skb->data, skb->len))) ||
	    !dev_gro_receive(st, skb))
		eth_rcv(st, skb);
	return weight;
}

/* The next frame straight behind the payload GRO holds (dev_gro_place);
 * one that does not merge there is copied out to a buffer of its size.
 * If no buffer can be had it is lost, counted: it has left the link (the
 * ordinary path fails before taking one). */
static int dev_rx_in_place(struct stack *st, const struct gro_place *p)
{
	struct synack_rx_meta meta = { 0 };
	int n = link_recv_meta(st->dev.link, p->buf, p->cap, &meta);
	struct sk_buff *skb;

	if (n <= 0) {
		dev_gro_place_undo(p);
		return dev_rx_none(st, n);
	}
	if ((uint32_t)n > p->cap)
		n = (int)p->cap;
	if (dev_gro_place_merge(st, p, (uint32_t)n, &meta)) {
		MIB_INC(st, LinkRxFrames);
		return 1;
	}
	skb = skb_alloc(&st->skb_pool, SKB_HEADROOM, (uint32_t)n);
	if (skb)
		memcpy(skb_put(skb, (uint32_t)n), p->buf, (uint32_t)n);
	dev_gro_place_undo(p);
	if (!skb) {
		MIB_INC(st, LinkRxErrors);
		return -ENOMEM;
	}
	return dev_rx_up(st, skb, &meta);
}

/* Take one frame from the link: its weight against the poll budget if one
 * came, 0 if none. A trace of frames sees each received whole, so it turns
 * receiving in place off. */
static int dev_rx_one(struct stack *st)
{
	uint32_t cap = st->dev.rx_cap;
	struct synack_rx_meta meta = { 0 };
	struct gro_place place;
	struct sk_buff *skb;
	int n;

	if (st->dev.gro_run >= GRO_PLACE_RUN && !trace_enabled(st) && dev_gro_place(st, &place))
		return dev_rx_in_place(st, &place);
	skb = skb_alloc_rx(&st->skb_pool, SKB_HEADROOM, cap);
	if (!skb)
		return -ENOMEM;
	n = link_recv_meta(st->dev.link, skb->data, cap, &meta);
	if (n <= 0) {
		skb_pool_keep(&st->skb_pool, skb);
		return dev_rx_none(st, n);
	}
	if ((uint32_t)n > cap)
		n = (int)cap;
	return dev_rx_up(st, dev_rx_put(st, skb, (uint32_t)n), &meta);
}

int synack_stack_poll(struct stack *st)
{
	int done = 0, n;
	bool held;

	if (!st)
		return -EINVAL;
	dev_xmit_batch_begin(st);
	while (st->dev.up && done < POLL_BUDGET) {
		held = stack_time_hold(st);
		n = dev_rx_one(st);
		stack_time_release(st, held);
		if (n <= 0)
			break;
		done += n;
	}
	held = stack_time_hold(st);
	if (st->dev.gro_count)
		dev_gro_flush(st);
	done += timer_wheel_run(st, &st->timers, stack_now(st));
	stack_time_release(st, held);
	dev_xmit_batch_end(st);
	stack_events_rearm(st);
	ep_sync_ready(st);
	return done;
}

uint64_t synack_stack_next_deadline(struct stack *st)
{
	uint64_t next;
	struct synack_link *l;

	if (!st)
		return SYNACK_NEVER;
	next = timer_wheel_next(&st->timers);
	l = st->dev.link;
	if (st->dev.up && l->ops->next_deadline) {
		uint64_t ln = l->ops->next_deadline(l);
		if (ln < next)
			next = ln;
	}
	return next;
}

int synack_stack_wait_fd(struct stack *st)
{
	struct synack_link *l = st ? st->dev.link : NULL;

	return l && l->ops->wait_fd ? l->ops->wait_fd(l) : -1;
}

static int poll_all(struct stack *const *stacks, size_t n)
{
	int work = 0, r;

	for (size_t i = 0; i < n; i++)
		while ((r = synack_stack_poll(stacks[i])) > 0)
			work += r;
	return work;
}

static uint64_t earliest_deadline(struct stack *const *stacks, size_t n)
{
	uint64_t next = SYNACK_NEVER;

	for (size_t i = 0; i < n; i++) {
		uint64_t d = synack_stack_next_deadline(stacks[i]);
		if (d < next)
			next = d;
	}
	return next;
}

int synack_run_virtual(struct synack_clock *clk, struct stack *const *stacks, size_t n, uint64_t until_ns)
{
	int steps = 0;

	if (!clk || !clk->is_virtual || (n && !stacks))
		return -EINVAL;
	for (;;) {
		int work = poll_all(stacks, n);
		uint64_t now = clock_now(clk), next = earliest_deadline(stacks, n);

		/* A deadline that stays in the past after a round without work
		 * would spin: step one jiffy instead. */
		if (next <= now && !work)
			next = now + NSEC_PER_MSEC;
		if (next > until_ns)
			break;
		if (next > now) {
			clk->vnow = next;
			steps++;
		}
	}
	if (until_ns > clk->vnow)
		clk->vnow = until_ns;
	return steps;
}

int synack_ping_send(struct stack *st, struct in_addr dst, uint16_t id, uint16_t seq, const void *payload,
		     size_t len)
{
	if (!st || (len && !payload))
		return -EINVAL;
	if (!st->dev.up)
		return -ENETDOWN;
	if (len > 65535 - 20 - 8)
		return -EMSGSIZE;
	return icmp_send_echo(st, dst.s_addr, id, seq, payload, len);
}

void synack_ping_set_handler(struct stack *st, synack_echo_fn fn, void *ctx)
{
	if (!st)
		return;
	st->echo_fn = fn;
	st->echo_ctx = ctx;
}

int synack_parse_cidr(const char *s, struct in_addr *addr, uint8_t *prefix_len)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash;
	size_t alen;
	long plen = 32;

	if (!s || !addr || !prefix_len)
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, addr) != 1)
		return -EINVAL;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		plen = strtol(slash + 1, &end, 10);
		if (*end || plen > 32)
			return -EINVAL;
	}
	*prefix_len = (uint8_t)plen;
	return 0;
}
