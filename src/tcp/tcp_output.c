/* Building and sending segments (Linux: net/ipv4/tcp_output.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/checksum.h"
#include "net/ip.h"
#include "net/proto.h"
#include "tcp/tcp.h"

#define TCP_MAX_QUICKACKS 16

/* The MSS the route allows (Linux: dst_metric_advmss): MTU minus IP and TCP. */
static uint16_t dst_advmss(const struct stack *st)
{
	uint32_t mss = st->dev.mtu - 40;

	return (uint16_t)(mss > 65535 - 40 ? 65535 - 40 : mss);
}

/* Linux's tcp_mss_clamp: a user MSS lowers the route's. */
uint16_t tcp_mss_clamp(const struct sock *sk, uint16_t mss)
{
	uint16_t user = sk->rx_opt.user_mss;

	return user && user < mss ? user : mss;
}

/* One segment, from any sender: push the header and options over the skb's
 * payload, checksum it and hand it to IP. Consumes skb. */
struct tcp_xmit {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint8_t tos;
	const struct tcp_out_options *opts;
	bool use_id;
	uint16_t id;
	bool rtx;               /* a retransmission: not in TcpOutSegs, as in Linux */
};

/* The wire segments skb stands for: a TSO super-frame counts as many
 * (Linux: tcp_skb_pcount); hlen: header bytes in skb->len. */
static uint32_t tcp_skb_segs(const struct sk_buff *skb, uint32_t hlen)
{
	return skb->gso_size ? (skb->len - hlen + skb->gso_size - 1) / skb->gso_size : 1;
}

static int tcp_xmit_segment(struct stack *st, struct sk_buff *skb, const struct tcp_xmit *x)
{
	int optlen = x->opts ? tcp_options_size(x->opts) : 0;
	uint32_t hlen = (uint32_t)(sizeof(struct tcphdr) + (uint32_t)optlen);
	struct tcphdr *th = (struct tcphdr *)skb_push(skb, hlen);
	struct ip_out o = {
		.saddr = x->saddr, .daddr = x->daddr, .protocol = IPPROTO_TCP, .tos = x->tos,
		.df = st->sysctl.ip_no_pmtu_disc == 0, .use_id = x->use_id, .id = x->id,
	};

	if (!th) {
		kfree_skb(skb);
		return -ENOBUFS;
	}
	memset(th, 0, sizeof(*th));
	th->source = htons(x->sport);
	th->dest = htons(x->dport);
	th->seq = htonl(x->seq);
	th->ack_seq = htonl(x->ack);
	th->doff_res = (uint8_t)((hlen / 4) << 4);
	th->flags = x->flags;
	th->window = htons(x->win);
	if (optlen)
		tcp_options_write((uint8_t *)(th + 1), x->opts);
	/* The device sums the segment (CHECKSUM_PARTIAL), or a super-frame's
	 * segments are summed one by one as they are cut (gso.c). */
	if (st->dev.tx_csum || skb->gso_size)
		th->check = htons((uint16_t)~csum_fold(csum_tcpudp_nofold(x->saddr, x->daddr, skb->len, IPPROTO_TCP, 0)));
	else
		th->check = htons(csum_fold(csum_partial(th, skb->len,
							 csum_tcpudp_nofold(x->saddr, x->daddr, skb->len, IPPROTO_TCP, 0))));
	skb_reset_transport_header(skb);
	if (!x->rtx)
		MIB_ADD(st, TcpOutSegs, tcp_skb_segs(skb, hlen));
	return ip_build_and_send_pkt(st, skb, &o);
}

static struct sk_buff *tcp_alloc_ctl_skb(struct stack *st)
{
	return skb_alloc(&st->skb_pool, SKB_HEADROOM, 0);
}

/* ---- option sets ---- */

static uint32_t tcp_tsval(const struct stack *st, uint32_t offset) { return stack_jiffies(st) + offset; }

/* Linux's tcp_syn_options: what our SYN (and a simultaneous-open SYN-ACK)
 * offers; a Fast Open cookie (or a request for one) if it still fits. */
static void tcp_syn_options(struct sock *sk, struct tcp_out_options *o)
{
	const struct sysctls *sc = &sk->st->sysctl;
	const struct tcp_fastopen_cookie *foc = sk->fastopen_req ? &sk->fastopen_req->cookie : NULL;
	int remaining = 40 - 4;

	memset(o, 0, sizeof(*o));
	o->mss = true;
	o->mss_val = sk->advmss;
	if (sc->tcp_timestamps) {
		o->ts = true;
		o->tsval = tcp_tsval(sk->st, sk->tsoffset);
		o->tsecr = sk->rx_opt.ts_recent;
		remaining -= 12;
	}
	if (sc->tcp_window_scaling) {
		o->ws = true;
		o->ws_val = sk->rx_opt.rcv_wscale;
		remaining -= 4;
	}
	o->sack_perm = sc->tcp_sack != 0;
	if (o->sack_perm && !o->ts)
		remaining -= 4;
	if (foc && foc->len >= 0) { /* fastopen: */
		int need = (foc->len + (foc->exp ? 4 : 2) + 3) & ~3;

		if (remaining >= need) {
			o->fastopen_cookie = foc;
			sk->syn_fastopen = true;
			sk->syn_fastopen_exp = foc->exp;
		}
	}
}

/* Split skb so it carries len bytes; the rest follows it in q (Linux:
 * tcp_fragment). The scoreboard counts the new piece like the old. */
static int tcp_fragment(struct sock *sk, struct sk_buff_head *q, struct sk_buff *skb, uint32_t len)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb), *ncb;
	uint32_t rest = skb->len - len;
	struct sk_buff *nskb;
	uint8_t *p;

	if (len >= skb->len)
		return 0;
	nskb = skb_alloc(&sk->st->skb_pool, SKB_HEADROOM, rest);
	if (!nskb || !(p = skb_put(nskb, rest))) {
		kfree_skb(nskb);
		return -ENOBUFS;
	}
	memcpy(p, skb->data + len, rest);
	skb_trim(skb, len);
	ncb = TCP_SKB_CB(nskb);
	*ncb = *cb;
	ncb->seq = cb->seq + len;
	cb->end_seq = ncb->seq;
	cb->tcp_flags &= (uint8_t)~(TCPHDR_FIN | TCPHDR_PSH);
	__list_add(&nskb->list, &skb->list, skb->list.next);
	q->qlen++;
	if (q == &sk->rtx_queue) {
		sk->packets_out++;
		if (cb->sacked & TCPCB_LOST)
			sk->lost_out++;
		if (cb->sacked & TCPCB_SACKED_RETRANS)
			sk->retrans_out++;
		if (cb->sacked & TCPCB_SACKED_ACKED)
			sk->sacked_out++;
	}
	return 0;
}

/* Linux's tcp_established_options: timestamps, and a pending D-SACK block
 * (the SACK scoreboard's blocks come with data transfer). */
/* The SACK blocks that fit in the option space beside the timestamp, if
 * one is sent. */
static unsigned int tcp_sack_room(bool ts)
{
	return (MAX_TCP_OPTION_SPACE - (ts ? TCPOLEN_TSTAMP_ALIGNED : 0) - 4) / 8;
}

static void tcp_established_options(const struct sock *sk, struct tcp_out_options *o)
{
	memset(o, 0, sizeof(*o));
	if (sk->rx_opt.tstamp_ok) {
		o->ts = true;
		o->tsval = tcp_tsval(sk->st, sk->tsoffset);
		o->tsecr = sk->rx_opt.ts_recent;
	}
	if (sk->rx_opt.sack_ok && sk->ooo) {
		const struct tcp_ooo *q = sk->ooo;
		unsigned int room = tcp_sack_room(o->ts);
		if (q->dsack && o->num_sack_blocks < room) {
			o->sack_blocks[0][0] = q->dsack_start;
			o->sack_blocks[0][1] = q->dsack_end;
			o->num_sack_blocks = 1;
		}
		for (unsigned int i = 0; i < q->num_sacks && o->num_sack_blocks < room; i++) {
			o->sack_blocks[o->num_sack_blocks][0] = q->selective_acks[i][0];
			o->sack_blocks[o->num_sack_blocks][1] = q->selective_acks[i][1];
			o->num_sack_blocks++;
		}
	}
}

/* ---- windows ---- */

static uint32_t tcp_receive_window(const struct sock *sk)
{
	int32_t win = (int32_t)(sk->rcv_wup + sk->rcv_wnd - sk->rcv_nxt);

	return win < 0 ? 0 : (uint32_t)win;
}

/* Receive memory as Linux charges it: each skb's truesize, modelled as
 * twice its payload (which keeps Linux's default 50% scaling ratio exact). */
uint64_t tcp_rmem_alloc(const struct sock *sk)
{
	return 2 * ((uint64_t)sk->receive_queue.bytes + tcp_ooo_bytes(sk));
}

int32_t tcp_space(const struct sock *sk)
{
	int64_t space = (int64_t)sk->sk_rcvbuf - (int64_t)tcp_rmem_alloc(sk);

	return space <= 0 ? 0 : tcp_full_space((uint32_t)space);
}

/* Linux's __tcp_select_window: the window the buffer allows, rounded so a
 * scaled window is not lost and an unscaled one stays a multiple of the
 * peer's segment size; a nearly full buffer offers a zero window rather
 * than a silly small one (SWS avoidance, RFC 1122 4.2.3.3). */
static uint32_t tcp_window_for(const struct sock *sk, bool *end_quickack)
{
	int32_t mss = sk->rcv_mss ? sk->rcv_mss : TCP_MSS_DEFAULT;
	int32_t free_space = tcp_space(sk);
	int32_t allowed_space = tcp_full_space(sk->sk_rcvbuf);
	int32_t full_space = (int32_t)min_t(uint32_t, sk->window_clamp, (uint32_t)allowed_space);
	uint8_t ws = sk->rx_opt.rcv_wscale;
	int32_t window;

	if (mss > full_space) {
		mss = full_space;
		if (mss <= 0)
			return 0;
	}
	if (free_space < (full_space >> 1)) {
		*end_quickack = true;
		free_space &= ~((1 << ws) - 1);
		if (free_space < (allowed_space >> 4) || free_space < mss)
			return 0;
	}
	if (free_space > (int32_t)sk->rcv_ssthresh)
		free_space = (int32_t)sk->rcv_ssthresh;
	if (ws) {
		uint32_t unit = 1u << ws;
		return ((uint32_t)free_space + unit - 1) & ~(unit - 1);
	}
	window = (int32_t)sk->rcv_wnd;
	if (window <= free_space - mss || window > free_space)
		window = (free_space / mss) * mss;
	else if (mss == full_space && free_space > window + (full_space >> 1))
		window = free_space;
	return (uint32_t)window;
}

/* A buffer under pressure ends quick-ACK mode, as Linux's does. */
static uint32_t __tcp_select_window(struct sock *sk)
{
	bool end_quickack = false;
	uint32_t win = tcp_window_for(sk, &end_quickack);

	if (end_quickack)
		sk->icsk_ack.quick = 0;
	return win;
}

/* The window __tcp_select_window would pick, leaving quick-ACK mode alone. */
uint32_t tcp_select_window_peek(const struct sock *sk)
{
	bool end_quickack = false;

	return tcp_window_for(sk, &end_quickack);
}

/* The window field of a non-SYN segment (Linux: tcp_select_window). */
uint32_t tcp_select_window(struct sock *sk)
{
	uint32_t old_win = sk->rcv_wnd;
	uint32_t cur_win = tcp_receive_window(sk);
	uint32_t new_win = __tcp_select_window(sk);
	uint8_t ws = sk->rx_opt.rcv_wscale;

	if (new_win < cur_win) {
		/* Never shrink an offered window. */
		if (new_win == 0)
			MIB_INC(sk->st, TcpExtTCPWantZeroWindowAdv);
		new_win = (cur_win + (1u << ws) - 1) & ~((1u << ws) - 1);
	}
	sk->rcv_wnd = new_win;
	sk->rcv_wup = sk->rcv_nxt;
	if (!ws && sk->st->sysctl.tcp_workaround_signed_windows)
		new_win = min_t(uint32_t, new_win, 32767);
	else
		new_win = min_t(uint32_t, new_win, 65535u << ws);
	new_win >>= ws;
	if (new_win == 0) {
		if (old_win)
			MIB_INC(sk->st, TcpExtTCPToZeroWindowAdv);
	} else if (old_win == 0) {
		MIB_INC(sk->st, TcpExtTCPFromZeroWindowAdv);
	}
	return new_win;
}

/* ---- full-socket output ---- */

/* The bytes tcp_established_options would fill, without filling them: the
 * timestamp, and the SACK blocks that fit beside it. */
static int tcp_established_options_size(const struct sock *sk)
{
	int size = sk->rx_opt.tstamp_ok ? TCPOLEN_TSTAMP_ALIGNED : 0;

	if (sk->rx_opt.sack_ok && sk->ooo) {
		unsigned int room = tcp_sack_room(sk->rx_opt.tstamp_ok);
		unsigned int n = sk->ooo->num_sacks + (sk->ooo->dsack ? 1 : 0);

		if (n)
			size += 4 + 8 * (int)min_t(unsigned int, n, room);
	}
	return size;
}

/* The MSS after this moment's options (SACK blocks take room; Linux:
 * tcp_current_mss). */
uint16_t tcp_current_mss(struct sock *sk)
{
	int mss = sk->mss_cache;

	if (sk->c.state == TCP_ESTABLISHED || sk->c.state == TCP_CLOSE_WAIT || sk->c.state == TCP_FIN_WAIT1 ||
	    sk->c.state == TCP_CLOSING || sk->c.state == TCP_LAST_ACK ||
	    (sk->c.state == TCP_SYN_RECV && sk->fastopen_rsk)) /* fastopen: */
		mss -= 20 + tcp_established_options_size(sk) - (int)sk->tcp_header_len;
	return (uint16_t)(mss < 48 ? 48 : mss);
}

/* Linux's tcp_sync_mss: the sending MSS for this path MTU. */
void tcp_sync_mss(struct sock *sk, uint32_t pmtu)
{
	int mss = (int)pmtu - 20 - 20;

	if (mss > sk->rx_opt.mss_clamp)
		mss = sk->rx_opt.mss_clamp;
	mss -= sk->tcp_header_len - 20;
	if (mss < 48)
		mss = 48;
	sk->mss_cache = (uint16_t)mss;
}

/* Linux's tcp_event_ack_sent and tcp_dec_quickack_mode (6.6 and later): a
 * quick ACK is spent only by an ACK of new data, one per ACK however many
 * segments carry it; leaving quick-ACK mode deflates the ATO. */
static void tcp_event_ack_sent(struct sock *sk)
{
	if (sk->icsk_ack.quick && sk->icsk_ack.pending && !--sk->icsk_ack.quick)
		sk->icsk_ack.ato = TCP_ATO_MIN_MS;
	sk->icsk_ack.pending = false;
	if (sk->icsk_ack.scheduled) {
		sk->icsk_ack.scheduled = false;
		del_timer(sk->st, &sk->delack_timer);
	}
}

/* Send skb's payload (possibly empty) from sk with these flags and seq.
 * Consumes skb (callers pass a clone for segments they keep). */
int tcp_transmit_skb(struct sock *sk, struct sk_buff *skb, uint8_t flags, uint32_t seq)
{
	struct tcp_out_options opts;
	uint32_t segs = tcp_skb_segs(skb, 0);
	struct tcp_xmit x = {
		.saddr = sk->c.laddr, .daddr = sk->c.raddr, .sport = sk->c.lport, .dport = sk->c.rport,
		.seq = seq, .ack = sk->rcv_nxt, .flags = flags, .tos = sk->tos, .opts = &opts, .use_id = true,
		.id = sk->inet_id,
	};

	uint32_t end = seq + skb->len + !!(flags & TCPHDR_SYN) + !!(flags & TCPHDR_FIN);

	/* The device numbers a super-frame's segments from x.id up. */
	sk->inet_id = (uint16_t)(sk->inet_id + segs);
	x.rtx = end != seq && !after(end, sk->snd_nxt);

	if (flags & TCPHDR_SYN) {
		tcp_syn_options(sk, &opts);
		x.win = (uint16_t)min_t(uint32_t, sk->rcv_wnd, 65535);
	} else {
		tcp_established_options(sk, &opts);
		/* A D-SACK reports one duplicate, once (Linux clears
		 * rx_opt.dsack in tcp_options_write). */
		if (opts.num_sack_blocks)
			sk->ooo->dsack = false;
		x.win = (uint16_t)tcp_select_window(sk);
	}
	if (flags & TCPHDR_ACK)
		tcp_event_ack_sent(sk);
	sk->segs_out += segs;
	return tcp_xmit_segment(sk->st, skb, &x);
}

/* What goes down the stack for a queued skb: a clone sharing its data, as
 * Linux's tcp_transmit_skb makes, so no payload is copied. The headers go
 * into the shared headroom, which the queued skb never reads; if an earlier
 * clone still holds the data (waiting on ARP), a copy keeps its headers. */
static struct sk_buff *tcp_xmit_clone(struct sk_buff *skb)
{
	return skb_cloned(skb) ? skb_copy(skb) : skb_clone(skb);
}

/* Send (a clone of) the head of the retransmit queue: the SYN or SYN-ACK. */
static int tcp_transmit_rtx_head(struct sock *sk)
{
	struct sk_buff *skb;
	struct sk_buff *c;

	if (list_empty(&sk->rtx_queue.list))
		return -EINVAL;
	skb = list_first_entry(&sk->rtx_queue.list, struct sk_buff, list);
	c = tcp_xmit_clone(skb);
	if (!c)
		return -ENOBUFS;
	TCP_SKB_CB(skb)->tx_us = stack_now(sk->st) / NSEC_PER_USEC;
	return tcp_transmit_skb(sk, c, TCP_SKB_CB(skb)->tcp_flags, TCP_SKB_CB(skb)->seq);
}

/* Retransmit the head of the retransmit queue (the SYN, a SYN-ACK, or the
 * oldest data after an RTO). */
int tcp_retransmit_skb(struct sock *sk)
{
	if (list_empty(&sk->rtx_queue.list))
		return -EINVAL;
	return tcp_retransmit_one(sk, list_first_entry(&sk->rtx_queue.list, struct sk_buff, list));
}

/* Linux's tcp_connect_init: MSS, window and scale before the SYN. */
static void tcp_connect_init(struct sock *sk)
{
	struct stack *st = sk->st;
	uint32_t rcv_wnd = 0, clamp = sk->window_clamp;
	uint8_t ws = 0;

	sk->tcp_header_len = (uint16_t)(20 + (st->sysctl.tcp_timestamps ? TCPOLEN_TSTAMP_ALIGNED : 0));
	if (sk->rx_opt.user_mss)
		sk->rx_opt.mss_clamp = sk->rx_opt.user_mss;
	sk->advmss = tcp_mss_clamp(sk, dst_advmss(st));
	tcp_sync_mss(sk, st->dev.mtu);
	if (sk->rcvbuf_locked && (clamp > (uint32_t)tcp_full_space(sk->sk_rcvbuf) || clamp == 0))
		clamp = (uint32_t)tcp_full_space(sk->sk_rcvbuf);
	tcp_select_initial_window(st, tcp_full_space(sk->sk_rcvbuf),
				  sk->advmss - (sk->rx_opt.ts_recent_stamp ? sk->tcp_header_len - 20 : 0), &rcv_wnd,
				  &clamp, st->sysctl.tcp_window_scaling != 0, &ws, 0);
	sk->rcv_wnd = rcv_wnd;
	sk->window_clamp = clamp;
	sk->rx_opt.rcv_wscale = ws;
	sk->rcv_ssthresh = rcv_wnd;
	sk->snd_una = sk->write_seq;
	sk->snd_nxt = sk->write_seq;
	sk->rcv_nxt = 0;
	sk->rcv_wup = 0;
	sk->copied_seq = 0;
	sk->icsk_rto = TCP_TIMEOUT_INIT_MS;
	sk->icsk_retransmits = 0;
	sk->icsk_backoff = 0;
	sk->total_rto = 0;
}

/* Queue a control segment (SYN) on the retransmit queue: it uses one
 * sequence number. */
static struct sk_buff *tcp_queue_syn(struct sock *sk, uint8_t flags)
{
	struct sk_buff *skb = tcp_alloc_ctl_skb(sk->st);

	if (!skb)
		return NULL;
	TCP_SKB_CB(skb)->seq = sk->write_seq;
	TCP_SKB_CB(skb)->end_seq = sk->write_seq + 1;
	TCP_SKB_CB(skb)->tcp_flags = flags;
	TCP_SKB_CB(skb)->tx_us = stack_now(sk->st) / NSEC_PER_USEC;
	skb_queue_tail(&sk->rtx_queue, skb);
	sk->write_seq++;
	sk->packets_out++;
	return skb;
}

/* Linux's tcp_connect: build the SYN, keep it for retransmission, send it
 * (with data, for Fast Open). */
int tcp_connect(struct sock *sk)
{
	struct sk_buff *syn;
	int err;

	tcp_connect_init(sk);
	syn = tcp_queue_syn(sk, TCPHDR_SYN);
	if (!syn)
		return -ENOBUFS;
	sk->retrans_stamp = stack_jiffies(sk->st);
	err = sk->fastopen_req ? tcp_send_syn_data(sk, syn) : tcp_transmit_rtx_head(sk);
	if (err == -ENOBUFS)
		return err;
	sk->snd_nxt = sk->write_seq;
	/* fastopen: SYN data that could not go waits in the write queue. */
	if (!list_empty(&sk->write_queue.list))
		sk->snd_nxt = TCP_SKB_CB(list_first_entry(&sk->write_queue.list, struct sk_buff, list))->seq;
	MIB_INC(sk->st, TcpActiveOpens);
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, sk->icsk_rto);
	return 0;
}

/* Simultaneous open: the SYN we keep becomes a SYN-ACK (Linux: tcp_send_synack). */
int tcp_send_synack(struct sock *sk)
{
	struct sk_buff *skb;

	if (list_empty(&sk->rtx_queue.list))
		return -EINVAL;
	skb = list_first_entry(&sk->rtx_queue.list, struct sk_buff, list);
	TCP_SKB_CB(skb)->tcp_flags |= TCPHDR_ACK;
	return tcp_transmit_rtx_head(sk);
}

void tcp_send_ack(struct sock *sk)
{
	struct sk_buff *skb;

	if (sk->c.state == TCP_CLOSE)
		return;
	skb = tcp_alloc_ctl_skb(sk->st);
	if (!skb)
		return;
	tcp_transmit_skb(sk, skb, TCPHDR_ACK, sk->snd_nxt);
}

/* Linux's tcp_send_delayed_ack: wait the ATO, capped at 200 ms in
 * interactive mode and at the RTT otherwise. */
void tcp_send_delayed_ack(struct sock *sk)
{
	uint32_t ato = sk->icsk_ack.ato ? sk->icsk_ack.ato : TCP_DELACK_MIN_MS;

	if (ato > TCP_DELACK_MIN_MS) {
		uint32_t max_ato = sk->icsk_ack.pingpong ? TCP_DELACK_MAX_MS : 500;
		if (sk->srtt_us) {
			uint32_t rtt = max_t(uint32_t, (sk->srtt_us >> 3) / 1000, TCP_DELACK_MIN_MS);
			if (rtt < max_ato)
				max_ato = rtt;
		}
		ato = min_t(uint32_t, ato, max_ato);
	}
	sk->icsk_ack.pending = true;
	/* An earlier deadline stands. */
	if (sk->icsk_ack.scheduled &&
	    timer_expires_jiffy(&sk->st->timers, &sk->delack_timer) <= stack_now(sk->st) / NSEC_PER_MSEC + ato)
		return;
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_DACK, ato);
}

/* The sequence number a RST must carry to be accepted: snd_nxt, unless the
 * peer shrank its window below it (Linux: tcp_acceptable_seq). */
static uint32_t tcp_acceptable_seq(const struct sock *sk)
{
	uint32_t wnd_end = sk->snd_una + sk->snd_wnd;

	if (!before(wnd_end, sk->snd_nxt) ||
	    (sk->rx_opt.wscale_ok && sk->snd_nxt - wnd_end < (1u << sk->rx_opt.rcv_wscale)))
		return sk->snd_nxt;
	return wnd_end;
}

/* RST|ACK from a socket we abort (Linux: tcp_send_active_reset); never
 * retransmitted. */
void tcp_send_active_reset(struct sock *sk)
{
	struct sk_buff *skb = tcp_alloc_ctl_skb(sk->st);

	if (!skb)
		return;
	MIB_INC(sk->st, TcpOutRsts);
	trace_event(sk->st, "tcp_send_reset", "active %s", tcp_state_name(sk->c.state));
	tcp_transmit_skb(sk, skb, TCPHDR_RST | TCPHDR_ACK, tcp_acceptable_seq(sk));
}

/* ---- segments without a full socket ---- */

struct seg_view {
	const struct iphdr *iph;
	const struct tcphdr *th;
	uint32_t seq, ack, datalen;
};

static void seg_view_of(const struct sk_buff *skb, struct seg_view *v)
{
	v->iph = (const struct iphdr *)skb_network_header(skb);
	v->th = (const struct tcphdr *)skb_transport_header(skb);
	v->seq = ntohl(v->th->seq);
	v->ack = ntohl(v->th->ack_seq);
	v->datalen = TCP_SKB_CB(skb)->end_seq - v->seq - !!(v->th->flags & TCPHDR_SYN) - !!(v->th->flags & TCPHDR_FIN);
}

/* Linux's tcp_v4_send_reset. skb is the offending segment (validated by
 * tcp_v4_rcv: TCP_SKB_CB is filled in, the headers are in place). */
void tcp_v4_send_reset(struct stack *st, const struct sk_buff *skb, const char *reason)
{
	struct seg_view v;
	struct tcp_xmit x = { 0 };
	struct sk_buff *rep;

	seg_view_of(skb, &v);
	if (v.th->flags & TCPHDR_RST)
		return;
	/* Only for segments addressed to us, never for broadcasts. */
	if (v.iph->daddr != st->dev.addr)
		return;
	rep = tcp_alloc_ctl_skb(st);
	if (!rep)
		return;
	x.saddr = v.iph->daddr;
	x.daddr = v.iph->saddr;
	x.sport = ntohs(v.th->dest);
	x.dport = ntohs(v.th->source);
	x.tos = v.iph->tos & ~0x3;
	x.use_id = true;
	if (v.th->flags & TCPHDR_ACK) {
		x.seq = v.ack;
		x.flags = TCPHDR_RST;
	} else {
		x.ack = TCP_SKB_CB(skb)->end_seq;
		x.flags = TCPHDR_RST | TCPHDR_ACK;
	}
	MIB_INC(st, TcpOutRsts);
	trace_event(st, "tcp_send_reset", "%s", reason);
	tcp_xmit_segment(st, rep, &x);
}

/* Linux's tcp_v4_send_ack: an ACK built from the incoming segment. */
void tcp_v4_send_ack(struct stack *st, const struct sk_buff *skb, uint32_t seq, uint32_t ack, uint32_t win,
		     uint32_t tsval, uint32_t tsecr, bool ts, uint8_t tos)
{
	struct seg_view v;
	struct tcp_out_options opts = { .ts = ts && tsecr, .tsval = tsval, .tsecr = tsecr };
	struct tcp_xmit x = { 0 };
	struct sk_buff *rep = tcp_alloc_ctl_skb(st);

	if (!rep)
		return;
	seg_view_of(skb, &v);
	x.saddr = v.iph->daddr;
	x.daddr = v.iph->saddr;
	x.sport = ntohs(v.th->dest);
	x.dport = ntohs(v.th->source);
	x.seq = seq;
	x.ack = ack;
	x.flags = TCPHDR_ACK;
	x.win = (uint16_t)min_t(uint32_t, win, 65535);
	x.tos = tos;
	x.opts = opts.ts ? &opts : NULL;
	x.use_id = true;
	tcp_xmit_segment(st, rep, &x);
}

static uint32_t tcp_synack_window(const struct request_sock *req)
{
	return min_t(uint32_t, req->rsk_rcv_wnd, 65535);
}

void tcp_v4_reqsk_send_ack(struct request_sock *req, const struct sk_buff *skb)
{
	tcp_v4_send_ack(req_st(req), skb, req->snt_isn + 1, req->rcv_nxt, tcp_synack_window(req) >> req->rcv_wscale,
			tcp_tsval(req_st(req), req->ts_off), req->ts_recent, req->tstamp_ok, req->tos);
}

/* Linux's tcp_make_synack + tcp_v4_send_synack for a request sock. */
int tcp_v4_send_synack(struct request_sock *req) { return tcp_v4_send_synack_foc(req, NULL); }

/* fastopen: ... with the Fast Open cookie foc when it fits (tcp_synack_options). */
int tcp_v4_send_synack_foc(struct request_sock *req, const struct tcp_fastopen_cookie *foc)
{
	struct stack *st = req_st(req);
	struct tcp_out_options opts = { .mss = true, .mss_val = req->mss_adv };
	struct tcp_xmit x = {
		.saddr = req->c.laddr, .daddr = req->c.raddr, .sport = req->c.lport, .dport = req->c.rport,
		.seq = req->snt_isn, .ack = req->rcv_nxt, .flags = TCPHDR_SYN | TCPHDR_ACK,
		.win = (uint16_t)tcp_synack_window(req), .tos = req->tos, .opts = &opts, .use_id = true,
	};
	struct sk_buff *skb = tcp_alloc_ctl_skb(st);

	if (!skb)
		return -ENOBUFS;
	if (req->ecn_ok)
		x.flags |= TCPHDR_ECE;
	if (req->wscale_ok) {
		opts.ws = true;
		opts.ws_val = req->rcv_wscale;
	}
	if (req->tstamp_ok) {
		opts.ts = true;
		opts.tsval = tcp_tsval(st, req->ts_off);
		if (req->syncookie) /* syncookies: the options ride in the TSval's low bits */
			opts.tsval = cookie_init_timestamp(req, stack_now(st) / NSEC_PER_MSEC) + req->ts_off;
		opts.tsecr = req->ts_recent;
		if (!req->snt_tsval_first)
			req->snt_tsval_first = opts.tsval ? opts.tsval : ~0u;
		req->snt_tsval_last = opts.tsval;
	}
	opts.sack_perm = req->sack_ok;
	if (foc && foc->len >= 0) { /* fastopen: */
		int need = (foc->len + (foc->exp ? 4 : 2) + 3) & ~3;
		if (MAX_TCP_OPTION_SPACE - tcp_options_size(&opts) >= need)
			opts.fastopen_cookie = foc;
	}
	return tcp_xmit_segment(st, skb, &x);
}

/* The quick-ACK budget (Linux: tcp_enter_quickack_mode). */
void tcp_enter_quickack_mode(struct sock *sk, unsigned int max_quickacks)
{
	sk->icsk_ack.quick = (uint8_t)min_t(unsigned int, max_quickacks, TCP_MAX_QUICKACKS);
	sk->icsk_ack.pingpong = false;
	sk->icsk_ack.ato = TCP_ATO_MIN_MS;
}

/* ---- the data path (Linux: tcp_write_xmit and friends) ---- */

#define TCP_NAGLE_OFF 1
#define TCP_NAGLE_CORK 2
#define TCP_NAGLE_PUSH 4

uint32_t tcp_packets_in_flight(const struct sock *sk)
{
	return sk->packets_out - (sk->sacked_out + sk->lost_out) + sk->retrans_out;
}

static uint32_t tcp_wnd_end(const struct sock *sk) { return sk->snd_una + sk->snd_wnd; }

static bool tcp_snd_wnd_test(const struct sock *sk, const struct sk_buff *skb)
{
	return !after(TCP_SKB_CB(skb)->end_seq, tcp_wnd_end(sk));
}

/* Linux's tcp_nagle_check: hold a small segment while an earlier small
 * one is unacknowledged (Minshall's variant), or while corked. */
static bool tcp_nagle_allows(struct sock *sk, const struct sk_buff *skb, int nonagle)
{
	bool partial = skb->len < tcp_current_mss(sk);

	if (nonagle & TCP_NAGLE_PUSH)
		return true;
	if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)
		return true;
	if (!partial)
		return true;
	if (nonagle & TCP_NAGLE_CORK)
		return false;
	if (nonagle & TCP_NAGLE_OFF)
		return true;
	return !(sk->packets_out && after(sk->snd_sml, sk->snd_una) && !after(sk->snd_sml, sk->snd_nxt));
}

static int tcp_nonagle(const struct sock *sk)
{
	return (sk->cork ? TCP_NAGLE_CORK : 0) | (sk->nodelay ? TCP_NAGLE_OFF : 0);
}

/* Linux's tcp_rearm_rto: the RTO runs while data is outstanding. */
void tcp_rearm_rto(struct sock *sk)
{
	uint32_t rto = sk->icsk_rto;

	if (sk->fastopen_rsk) /* fastopen: the timer resends the SYN-ACK */
		return;
	if (!sk->packets_out) {
		if (sk->icsk_pending && sk->icsk_pending != ICSK_TIME_PROBE0) {
			sk->icsk_pending = 0;
			del_timer(sk->st, &sk->retransmit_timer);
		}
		return;
	}
	/* After a probe or reordering wait, the RTO still counts from the
	 * oldest segment's transmission. */
	if (sk->icsk_pending == ICSK_TIME_REO_TIMEOUT || sk->icsk_pending == ICSK_TIME_LOSS_PROBE) {
		struct sk_buff *head = list_first_entry(&sk->rtx_queue.list, struct sk_buff, list);
		int64_t delta_us = (int64_t)(TCP_SKB_CB(head)->tx_us + (uint64_t)rto * 1000) -
				   (int64_t)(stack_now(sk->st) / NSEC_PER_USEC);
		rto = delta_us > 1000 ? (uint32_t)((delta_us + 999) / 1000) : 1;
	}
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, rto);
}

/* Slow start after idle (Linux: tcp_cwnd_restart, RFC 5681 4.1). */
static void tcp_slow_start_after_idle_check(struct sock *sk)
{
	int32_t delta = (int32_t)(stack_jiffies(sk->st) - sk->lsndtime);
	uint32_t restart = TCP_INIT_CWND, cwnd = sk->snd_cwnd;

	if (!sk->st->sysctl.tcp_slow_start_after_idle || sk->packets_out || !sk->lsndtime ||
	    delta <= (int32_t)sk->icsk_rto)
		return;
	tcp_ca_event(sk, CA_EVENT_CWND_RESTART);
	sk->snd_ssthresh = max_t(uint32_t, sk->snd_ssthresh, (cwnd >> 1) + (cwnd >> 2));
	restart = min_t(uint32_t, restart, cwnd);
	while ((delta -= (int32_t)sk->icsk_rto) > 0 && cwnd > restart)
		cwnd >>= 1;
	sk->snd_cwnd = max_t(uint32_t, cwnd, restart);
	sk->snd_cwnd_stamp = stack_jiffies(sk->st);
}

/* A write-queue skb went out for the first time: it moves to the
 * retransmit queue and counts as in flight (Linux: tcp_event_new_data_sent). */
static void tcp_event_new_data_sent(struct sock *sk, struct sk_buff *skb)
{
	skb_unlink(skb, &sk->write_queue);
	skb_queue_tail(&sk->rtx_queue, skb);
	TCP_SKB_CB(skb)->tx_us = stack_now(sk->st) / NSEC_PER_USEC;
	sk->snd_nxt = TCP_SKB_CB(skb)->end_seq;
	if (skb->len < sk->mss_cache)
		sk->snd_sml = TCP_SKB_CB(skb)->end_seq;
	sk->packets_out++;
	sk->prr_out++;
	sk->lsndtime = stack_jiffies(sk->st);
	/* A reply within the ATO of the last data received: interactive
	 * traffic, so ACKs wait to ride on replies (Linux: tcp_event_data_sent). */
	if (sk->icsk_ack.lrcvtime && sk->lsndtime - sk->icsk_ack.lrcvtime < sk->icsk_ack.ato)
		sk->icsk_ack.pingpong = true;
	sk->bytes_sent += skb->len;
	sk->data_segs_out += skb->len ? 1 : 0;
	if (skb->len)
		MIB_INC(sk->st, TcpExtTCPOrigDataSent);
	if (sk->icsk_pending != ICSK_TIME_RETRANS)
		tcp_rearm_rto(sk);
}

/* Data leaves with nothing in flight: the CA module may restart its epoch. */
static void tcp_ca_tx_start(struct sock *sk)
{
	if (tcp_packets_in_flight(sk) == 0)
		tcp_ca_event(sk, CA_EVENT_TX_START);
}

/* First transmission of a write-queue skb. */
static int tcp_transmit_new(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff *c;
	int err;

	tcp_ca_tx_start(sk);
	c = tcp_xmit_clone(skb);
	if (!c)
		return -ENOBUFS;
	err = tcp_transmit_skb(sk, c, TCP_SKB_CB(skb)->tcp_flags, TCP_SKB_CB(skb)->seq);
	tcp_event_new_data_sent(sk, skb);
	return err;
}

/* The largest super-frame: an IP datagram with room for full TCP options. */
#define TCP_TSO_MAX_PAYLOAD (IP_MAX_LEN - 20u - 60u)

/* How many skbs from the head of the write queue may leave now as one
 * super-frame, for the device to segment (TSO) or for gso.c to cut in
 * software (GSO, on every other link, as Linux): full-sized segments
 * within cwnd and the peer's window. The queue keeps one skb per segment,
 * so the scoreboard (SACK, RACK, loss) is untouched; Linux instead builds
 * 64 KiB skbs and splits them later. */
static uint32_t tcp_tso_segs(const struct sock *sk, uint32_t mss_now)
{
	uint32_t in_flight = tcp_packets_in_flight(sk), max, n = 0;
	const struct sk_buff *skb;

	/* Below IPv4's 576-byte minimum MTU the MSS floor (48) can make a
	 * segment too long for the link: those go one by one. A pending
	 * D-SACK is for one segment, not for every segment of a run. */
	if (sk->st->dev.mtu < 576 || (sk->ooo && sk->ooo->dsack))
		return 0;
	max = min_t(uint32_t, sk->snd_cwnd - min_t(uint32_t, in_flight, sk->snd_cwnd), TCP_TSO_MAX_PAYLOAD / mss_now);

	list_for_each_entry(skb, &sk->write_queue.list, list) {
		if (n == max || skb->len != mss_now || !tcp_snd_wnd_test(sk, skb) ||
		    (TCP_SKB_CB(skb)->tcp_flags & (TCPHDR_SYN | TCPHDR_FIN | TCPHDR_URG)))
			break;
		n++;
		/* Segmentation leaves PSH on the last segment only: a pushed
		 * skb ends the run, so every segment keeps its own flags. */
		if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_PSH)
			break;
	}
	return n;
}

/* Send the first n skbs of the write queue as one super-frame, for the
 * device or gso.c to segment: TCP, IP, ARP and Ethernet do their work once
 * for all of them. A TSO device that cannot take the frame in pieces gets
 * the payloads gathered into one buffer; gso.c and a scatter-gather device
 * read them in place (the queued skbs stay whole for retransmission either
 * way). */
static int tcp_transmit_tso(struct sock *sk, uint32_t n, uint32_t mss_now)
{
	struct skb_pool *pool = &sk->st->skb_pool;
	uint32_t need = n * mss_now, cap = need;
	struct sk_buff *skb, *big;
	bool gather = sk->st->dev.tso && !sk->st->dev.tso_sg;
	uint32_t seq;
	uint8_t flags = 0;
	int err;

	/* A block of the pool's large size is recycled, not malloc'd.
	 * Otherwise the payloads stay where they are: the software GSO that
	 * cuts the frame, or the device, reads them from the queue (a
	 * nonlinear skb). */
	if (!gather)
		cap = 0;
	else if (pool->big_size >= SKB_HEADROOM + need)
		cap = pool->big_size - SKB_HEADROOM;
	big = skb_alloc(pool, SKB_HEADROOM, cap);
	if (!big)
		return -ENOBUFS;
	tcp_ca_tx_start(sk);
	skb = list_first_entry(&sk->write_queue.list, struct sk_buff, list);
	seq = TCP_SKB_CB(skb)->seq;
	if (!gather) {
		big->frag_list = skb;
		big->nr_frags = (uint16_t)n;
		big->data_len = need;   /* every skb of the run is mss_now long */
		big->len = need;
	}
	for (uint32_t i = 0; i < n; i++, skb = list_entry(skb->list.next, struct sk_buff, list)) {
		if (gather)
			memcpy(skb_put(big, skb->len), skb->data, skb->len);
		flags |= TCP_SKB_CB(skb)->tcp_flags;
	}
	big->gso_size = (uint16_t)mss_now;
	err = tcp_transmit_skb(sk, big, flags, seq);
	for (uint32_t i = 0; i < n; i++)
		tcp_event_new_data_sent(sk, list_first_entry(&sk->write_queue.list, struct sk_buff, list));
	return err;
}

/* A zero window with data waiting and nothing in flight: probe it. */
static void tcp_check_probe_timer(struct sock *sk)
{
	if (!sk->packets_out && !list_empty(&sk->write_queue.list) && !timer_pending(&sk->retransmit_timer))
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_PROBE0, sk->icsk_rto);
}

static void tcp_write_xmit(struct sock *sk, int nonagle)
{
	struct sk_buff *skb;
	uint32_t segs;
	int sent = 0;

	if (sk->c.state != TCP_ESTABLISHED && sk->c.state != TCP_CLOSE_WAIT && sk->c.state != TCP_FIN_WAIT1 &&
	    sk->c.state != TCP_CLOSING && sk->c.state != TCP_LAST_ACK &&
	    !(sk->c.state == TCP_SYN_RECV && sk->fastopen_rsk)) /* fastopen: tcp_passive_fastopen */
		return;
	tcp_slow_start_after_idle_check(sk);
	sk->is_cwnd_limited = false;
	while (!list_empty(&sk->write_queue.list)) {
		uint32_t mss_now = tcp_current_mss(sk);

		skb = list_first_entry(&sk->write_queue.list, struct sk_buff, list);
		if (skb->len > mss_now && tcp_fragment(sk, &sk->write_queue, skb, mss_now))
			break;
		if (tcp_packets_in_flight(sk) >= sk->snd_cwnd) {
			sk->is_cwnd_limited = true;
			break;
		}
		if (!tcp_snd_wnd_test(sk, skb))
			break;
		if (!tcp_nagle_allows(sk, skb, nonagle | (list_is_singular(&sk->write_queue.list) ? 0 : TCP_NAGLE_PUSH)))
			break;
		/* A full segment with more behind it: worth looking for a run. */
		if (skb->len == mss_now && !list_is_singular(&sk->write_queue.list) &&
		    (segs = tcp_tso_segs(sk, mss_now)) > 1) {
			if (tcp_transmit_tso(sk, segs, mss_now) == -ENOBUFS)
				break;
			sent += (int)segs;
			continue;
		}
		if (tcp_transmit_new(sk, skb) == -ENOBUFS)
			break;
		sent++;
	}
	/* One loss probe per tail-loss episode (Linux: tcp_write_xmit). */
	if (sent)
		tcp_schedule_loss_probe(sk, false);
	tcp_check_probe_timer(sk);
}

void tcp_push_pending_frames(struct sock *sk) { tcp_write_xmit(sk, tcp_nonagle(sk)); }

/* A loss probe may carry one new segment past cwnd, if the peer's window
 * takes it (Linux: tcp_write_xmit with push_one = 2). Returns 1 if sent. */
int tcp_xmit_probe_new(struct sock *sk)
{
	struct sk_buff *skb;
	uint32_t mss_now = tcp_current_mss(sk);

	if (list_empty(&sk->write_queue.list))
		return 0;
	skb = list_first_entry(&sk->write_queue.list, struct sk_buff, list);
	if (skb->len > mss_now && tcp_fragment(sk, &sk->write_queue, skb, mss_now))
		return 0;
	if (!tcp_snd_wnd_test(sk, skb))
		return 0;
	return tcp_transmit_new(sk, skb) == -ENOBUFS ? 0 : 1;
}

/* Linux's tcp_send_fin: the FIN rides on the last unsent skb, or on a new
 * empty one; it always leaves at once (Nagle does not hold a FIN). */
void tcp_send_fin(struct sock *sk)
{
	struct sk_buff *tail = NULL;

	if (!list_empty(&sk->write_queue.list))
		tail = list_entry(sk->write_queue.list.prev, struct sk_buff, list);
	if (!tail) {
		tail = skb_alloc(&sk->st->skb_pool, SKB_HEADROOM, 0);
		if (!tail)
			return;
		TCP_SKB_CB(tail)->seq = TCP_SKB_CB(tail)->end_seq = sk->write_seq;
		skb_queue_tail(&sk->write_queue, tail);
	}
	TCP_SKB_CB(tail)->tcp_flags |= TCPHDR_FIN | TCPHDR_ACK;
	TCP_SKB_CB(tail)->end_seq++;
	sk->write_seq++;
	tcp_write_xmit(sk, TCP_NAGLE_OFF);
}

/* Linux's tcp_write_wakeup: send new data if the window allows some,
 * otherwise a zero-window probe (an old sequence number the peer must ACK). */
int tcp_write_wakeup(struct sock *sk)
{
	struct sk_buff *skb;

	if (sk->c.state == TCP_CLOSE)
		return -1;
	if (!list_empty(&sk->write_queue.list)) {
		skb = list_first_entry(&sk->write_queue.list, struct sk_buff, list);
		if (before(TCP_SKB_CB(skb)->seq, tcp_wnd_end(sk))) {
			/* A window smaller than this segment (or the MSS) opened:
			 * send what fits, as Linux's tcp_write_wakeup does, or a
			 * peer that never opens a full segment's worth stalls us. */
			uint32_t room = min_t(uint32_t, tcp_wnd_end(sk) - TCP_SKB_CB(skb)->seq, tcp_current_mss(sk));

			if (tcp_fragment(sk, &sk->write_queue, skb, room))
				return -1;
			TCP_SKB_CB(skb)->tcp_flags |= TCPHDR_PSH;
			return tcp_transmit_new(sk, skb);
		}
	}
	skb = tcp_alloc_ctl_skb(sk->st);
	if (!skb)
		return -1;
	/* seq = snd_una - 1: outside the window, so the peer answers with an ACK. */
	return tcp_transmit_skb(sk, skb, TCPHDR_ACK, sk->snd_una - 1);
}

/* Retransmit one skb of the retransmit queue (Linux: __tcp_retransmit_skb). */
int tcp_retransmit_one(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct sk_buff *c;

	/* Part of it may already be acknowledged: send only the rest. */
	if (before(cb->seq, sk->snd_una) && cb->seq != cb->end_seq && skb->len) {
		uint32_t trim = sk->snd_una - cb->seq;
		if (trim < skb->len) {
			skb_pull(skb, trim);
			sk->rtx_queue.bytes -= trim;
			cb->seq = sk->snd_una;
		}
	}
	if (skb->len > tcp_current_mss(sk) && tcp_fragment(sk, &sk->rtx_queue, skb, tcp_current_mss(sk)))
		return -ENOBUFS;
	c = tcp_xmit_clone(skb);
	if (!c)
		return -ENOBUFS;
	if (sk->undo_retrans < 0)
		sk->undo_retrans = 0;
	sk->undo_retrans++;
	cb->tx_us = stack_now(sk->st) / NSEC_PER_USEC;
	/* The episode starts at the first retransmission (Linux: retrans_stamp
	 * takes the skb's send time after it is resent). */
	if (!sk->retrans_stamp)
		sk->retrans_stamp = cb->tx_us / 1000;
	if (!(cb->sacked & TCPCB_SACKED_RETRANS)) {
		cb->sacked |= TCPCB_SACKED_RETRANS;
		sk->retrans_out++;
	}
	cb->sacked |= TCPCB_EVER_RETRANS;
	MIB_INC(sk->st, TcpRetransSegs);
	if (cb->tcp_flags & TCPHDR_SYN)
		MIB_INC(sk->st, TcpExtTCPSynRetrans);
	sk->total_retrans++;
	sk->prr_out++;
	sk->bytes_retrans += skb->len;
	trace_event(sk->st, "tcp_retransmit_skb", "seq %u:%u %s", cb->seq, cb->end_seq, tcp_state_name(sk->c.state));
	return tcp_transmit_skb(sk, c, cb->tcp_flags, cb->seq);
}

/* Retransmit what is marked lost, as the congestion window allows (Linux:
 * tcp_xmit_retransmit_queue). */
void tcp_xmit_retransmit_queue(struct sock *sk)
{
	struct sk_buff *skb;

	list_for_each_entry(skb, &sk->rtx_queue.list, list) {
		uint8_t sacked = TCP_SKB_CB(skb)->sacked;

		if (tcp_packets_in_flight(sk) >= sk->snd_cwnd)
			break;
		if (!(sacked & TCPCB_LOST) || (sacked & (TCPCB_SACKED_ACKED | TCPCB_SACKED_RETRANS)))
			continue;
		if (tcp_retransmit_one(sk, skb) == -ENOBUFS)
			break;
		if (skb == list_first_entry(&sk->rtx_queue.list, struct sk_buff, list))
			tcp_rearm_rto(sk);
	}
}
