/* Request socks: the third ACK (tcp_check_req), the child it creates, and
 * the SYN-ACK retransmission timer (Linux: net/ipv4/tcp_minisocks.c and
 * inet_connection_sock.c). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/proto.h"
#include "tcp/tcp.h"

bool tcp_paws_reject(const struct tcp_options_received *rx, bool rst, uint64_t now_sec);
bool tcp_oow_rate_limited_at(struct stack *st, int mib, uint32_t *last);

void reqsk_free(struct request_sock *req)
{
	/* A Fast Open request's timer is its tfo_* fields (never armed). */
	if (!req->tfo)
		del_timer(req_st(req), &req->rsk_timer);
	kmem_cache_free(req);
}

/* Unlink a request from ehash and its listener's SYN queue and free it
 * (Linux: inet_csk_reqsk_queue_drop + reqsk_put). */
void inet_csk_reqsk_queue_drop(struct request_sock *req)
{
	struct request_sock_queue *q = req->listener->rskq;

	inet_ehash_remove(req_st(req), &req->c);
	q->qlen--;
	if (req->num_timeout == 0)
		q->young--;
	reqsk_free(req);
}


/* Linux's tcp_rtx_synack: resend and count. 0 on success. */
static int tcp_rtx_synack(struct request_sock *req)
{
	struct stack *st = req_st(req);
	int err = tcp_v4_send_synack(req);

	if (err)
		return err;
	MIB_INC(st, TcpRetransSegs);
	MIB_INC(st, TcpExtTCPSynRetrans);
	req->num_retrans++;
	trace_event(st, "tcp_retransmit_synack", "%u -> %u num_retrans %u", req->c.lport, req->c.rport,
		    req->num_retrans);
	return 0;
}

/* Linux's syn_ack_recalc: has the request run out, and is a resend due? */
static void syn_ack_recalc(const struct request_sock *req, unsigned int max_retries, unsigned int defer,
			   bool *expire, bool *resend)
{
	if (!defer) {
		*expire = req->num_timeout >= max_retries;
		*resend = true;
		return;
	}
	*expire = req->num_timeout >= max_retries && (!req->acked || req->num_timeout >= defer);
	/* While deferring, wait quietly for data until the last chance. */
	*resend = !req->acked || (unsigned int)req->num_timeout + 1 >= defer;
}

/* Linux's reqsk_timer_handler, with the young/old pruning of a crowded queue. */
void reqsk_timer_handler(struct stack *st, struct timer *t)
{
	struct request_sock *req = container_of(t, struct request_sock, rsk_timer);
	struct sock *listener = req->listener;
	struct request_sock_queue *q = listener->rskq;
	unsigned int max_retries = listener->icsk_syn_retries ? listener->icsk_syn_retries
							      : (unsigned int)st->sysctl.tcp_synack_retries;
	uint32_t qlen = q->qlen;
	bool expire, resend;

	if ((qlen << 1) > max_t(uint32_t, 8, (uint32_t)listener->rskq->max_ack_backlog)) {
		uint32_t young = q->young << 1;
		while (max_retries > 2) {
			if (qlen < young)
				break;
			max_retries--;
			young <<= 1;
		}
	}
	syn_ack_recalc(req, max_retries, listener->rskq_defer_accept, &expire, &resend);
	MIB_INC(st, TcpExtTCPTimeouts);
	if (!expire && (!resend || tcp_rtx_synack(req) == 0 || req->acked)) {
		if (req->num_timeout++ == 0)
			q->young--;
		mod_timer(st, &req->rsk_timer, stack_now(st) + reqsk_timeout_ms(req) * NSEC_PER_MSEC);
		return;
	}
	trace_event(st, "reqsk_timer_handler", "request %u -> %u expired", req->c.lport, req->c.rport);
	inet_csk_reqsk_queue_drop(req);
}

/* Linux's tcp_create_openreq_child + tcp_v4_syn_recv_sock: the full socket
 * of a completed passive open, in SYN-RECV, replacing req in ehash. */
struct sock *tcp_create_openreq_child(struct request_sock *req, const struct sk_buff *skb)
{
	struct sock *listener = req->listener;
	struct stack *st = req_st(req);
	const struct tcphdr *th = (const struct tcphdr *)skb_transport_header(skb);
	struct sock *sk = sk_alloc(st);

	if (!sk)
		return NULL;
	sk->c.laddr = req->c.laddr;
	sk->c.raddr = req->c.raddr;
	sk->c.lport = req->c.lport;
	sk->c.rport = req->c.rport;
	/* Inherited from the listener, as Linux's clone does. */
	sk->c.state = TCP_LISTEN;
	sk->sk_rcvbuf = listener->sk_rcvbuf;
	sk->sk_sndbuf = listener->sk_sndbuf;
	sk->rcvbuf_locked = listener->rcvbuf_locked;
	sk->rx_opt.user_mss = listener->rx_opt.user_mss;
	sk->nodelay = listener->nodelay;
	sk->quickack_off = listener->quickack_off;
	sk->icsk_syn_retries = listener->icsk_syn_retries;
	sk->icsk_user_timeout = listener->icsk_user_timeout;
	sk->tos = listener->tos;
	sk->linger_on = listener->linger_on;
	sk->linger_secs = listener->linger_secs;
	sk->linger2 = listener->linger2;
	sk->keepalive = listener->keepalive;
	sk->keepalive_time_s = listener->keepalive_time_s;
	sk->keepalive_intvl_s = listener->keepalive_intvl_s;
	sk->keepalive_probes = listener->keepalive_probes;
	sk->parent = listener;
	tcp_set_state(sk, TCP_SYN_RECV);
	/* The third ACK just arrived: the idle time starts now. */
	sk->rcv_tstamp = stack_jiffies(st);
	if (sk->keepalive)
		tcp_set_keepalive(sk, true);

	sk->rcv_nxt = sk->rcv_wup = sk->copied_seq = req->rcv_isn + 1;
	sk->snd_una = sk->snd_nxt = sk->write_seq = req->snt_isn + 1;
	sk->snd_wl1 = req->rcv_isn;
	sk->total_retrans = req->num_retrans;
	sk->icsk_rto = TCP_TIMEOUT_INIT_MS;
	sk->snd_cwnd = TCP_INIT_CWND;
	sk->rx_opt.tstamp_ok = req->tstamp_ok;
	sk->rx_opt.sack_ok = req->sack_ok;
	sk->window_clamp = req->rsk_window_clamp;
	sk->rcv_ssthresh = req->rsk_rcv_wnd;
	sk->rcv_wnd = req->rsk_rcv_wnd;
	sk->rx_opt.wscale_ok = req->wscale_ok;
	if (req->wscale_ok) {
		sk->rx_opt.snd_wscale = req->snd_wscale;
		sk->rx_opt.rcv_wscale = req->rcv_wscale;
	} else {
		sk->window_clamp = min_t(uint32_t, sk->window_clamp, 65535);
	}
	sk->snd_wnd = (uint32_t)ntohs(th->window) << sk->rx_opt.snd_wscale;
	sk->max_window = sk->snd_wnd;
	if (req->tstamp_ok) {
		sk->rx_opt.ts_recent = req->ts_recent;
		sk->rx_opt.ts_recent_stamp = stack_now(st) / NSEC_PER_SEC;
		sk->tcp_header_len = 20 + TCPOLEN_TSTAMP_ALIGNED;
	} else {
		sk->tcp_header_len = 20;
	}
	sk->tsoffset = req->ts_off;
	sk->rx_opt.mss_clamp = req->mss;
	MIB_INC(st, TcpPassiveOpens);

	sk->inet_id = (uint16_t)prng_u32(&st->rng);
	tcp_sync_mss(sk, st->dev.mtu);
	sk->advmss = tcp_mss_clamp(listener, (uint16_t)(st->dev.mtu - 40));
	if (__inet_inherit_port(listener, sk) < 0) {
		sk_free(sk);
		return NULL;
	}
	inet_ehash_remove(st, &req->c);
	inet_ehash_insert(st, &sk->c);
	return sk;
}

static bool tcp_in_window(uint32_t seq, uint32_t end_seq, uint32_t s_win, uint32_t e_win)
{
	if (seq == s_win)
		return true;
	if (after(end_seq, s_win) && before(seq, e_win))
		return true;
	return seq == e_win && seq == end_seq;
}

static uint32_t tcp_synack_window(const struct request_sock *req)
{
	return min_t(uint32_t, req->rsk_rcv_wnd, 65535);
}

/* The child joins the accept queue (Linux: inet_csk_complete_hashdance). */
static struct sock *inet_csk_complete_hashdance(struct request_sock *req, struct sock *child)
{
	struct sock *listener = req->listener;

	listener->rskq->qlen--;
	if (req->num_timeout == 0)
		listener->rskq->young--;
	reqsk_free(req);
	list_add_tail(&child->accept_node, &listener->rskq->accept_queue);
	listener->rskq->ack_backlog++;
	trace_event(listener->st, "tcp_check_req", "child created %u -> %u", child->c.lport, child->c.rport);
	return child;
}

/* The accept queue is full: Linux's tcp_v4_syn_recv_sock exit_overflow. */
static bool syn_recv_overflow(struct sock *listener)
{
	if (listener->rskq->ack_backlog <= listener->rskq->max_ack_backlog)
		return false;
	MIB_INC(listener->st, TcpExtListenOverflows);
	MIB_INC(listener->st, TcpExtListenDrops);
	return true;
}

/* Options of the third ACK against the request's timestamps. */
struct check_req_ts {
	bool paws_reject, tsecr_reject;
};

static struct check_req_ts tcp_check_req_ts(const struct request_sock *req, const struct sk_buff *skb)
{
	const struct tcphdr *th = (const struct tcphdr *)skb_transport_header(skb);
	int optlen = (int)((th->doff_res >> 4) * 4) - (int)sizeof(*th);
	struct tcp_options_received opt = { 0 };
	struct check_req_ts r = { false, false };

	if (optlen <= 0)
		return r;
	tcp_parse_options(req_st(req), (const uint8_t *)(th + 1), optlen, false, false, &opt, NULL);
	if (!opt.saw_tstamp)
		return r;
	opt.ts_recent = req->ts_recent;
	if (opt.rcv_tsecr && req->tstamp_ok)
		r.tsecr_reject = !between(opt.rcv_tsecr, req->snt_tsval_first, req->snt_tsval_last);
	/* The request keeps no stamp: estimate it from the current timeout. */
	opt.ts_recent_stamp = (uint32_t)(stack_now(req_st(req)) / NSEC_PER_SEC - reqsk_timeout_ms(req) / 1000);
	r.paws_reject = tcp_paws_reject(&opt, th->flags & TCPHDR_RST, stack_now(req_st(req)) / NSEC_PER_SEC);
	return r;
}

/* Linux's tcp_check_req. Returns NULL (handled or dropped; req may be
 * gone), the listener (the caller answers with RST), or the new child. */
struct sock *tcp_check_req(struct request_sock *req, struct sk_buff *skb)
{
	struct sock *listener = req->listener;
	struct stack *st = req_st(req);
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint8_t flg = cb->tcp_flags & (TCPHDR_RST | TCPHDR_SYN | TCPHDR_ACK);
	struct check_req_ts ts = tcp_check_req_ts(req, skb);
	struct sock *child;

	if (cb->seq == req->rcv_isn && flg == TCPHDR_SYN && !ts.paws_reject) {
		/* A retransmitted SYN: our SYN-ACK was lost. */
		if (!tcp_oow_rate_limited_at(st, MIB_TcpExtTCPACKSkippedSynRecv, &req->last_oow_ack_time) &&
		    tcp_rtx_synack(req) == 0)
			mod_timer(st, &req->rsk_timer, stack_now(st) + reqsk_timeout_ms(req) * NSEC_PER_MSEC);
		return NULL;
	}
	if ((flg & TCPHDR_ACK) && cb->ack_seq != req->snt_isn + 1)
		return listener;
	if (ts.paws_reject || ts.tsecr_reject ||
	    !tcp_in_window(cb->seq, cb->end_seq, req->rcv_nxt, req->rcv_nxt + tcp_synack_window(req))) {
		bool data = cb->seq != cb->end_seq && !(flg & TCPHDR_SYN);
		if (!(flg & TCPHDR_RST) &&
		    (data || !tcp_oow_rate_limited_at(st, MIB_TcpExtTCPACKSkippedSynRecv, &req->last_oow_ack_time)))
			tcp_v4_reqsk_send_ack(req, skb);
		if (ts.paws_reject)
			MIB_INC(st, TcpExtPAWSEstab);
		else if (ts.tsecr_reject)
			MIB_INC(st, TcpExtTSEcrRejected);
		return NULL;
	}
	if (cb->seq == req->rcv_isn)
		flg &= (uint8_t)~TCPHDR_SYN;
	if (flg & (TCPHDR_RST | TCPHDR_SYN)) {
		MIB_INC(st, TcpAttemptFails);
		goto embryonic_reset;
	}
	if (!(flg & TCPHDR_ACK))
		return NULL;
	if (req->num_timeout < listener->rskq_defer_accept && cb->end_seq == req->rcv_isn + 1) {
		req->acked = true;
		MIB_INC(st, TcpExtTCPDeferAcceptDrop);
		return NULL;
	}
	if (syn_recv_overflow(listener))
		goto listen_overflow;
	child = tcp_create_openreq_child(req, skb);
	if (!child) {
		MIB_INC(st, TcpExtListenDrops);
		goto listen_overflow;
	}
	return inet_csk_complete_hashdance(req, child);

listen_overflow:
	if (!st->sysctl.tcp_abort_on_overflow) {
		req->acked = true;
		return NULL;
	}
embryonic_reset:
	if (!(flg & TCPHDR_RST))
		tcp_v4_send_reset(st, skb, "tcp_check_req: invalid SYN");
	MIB_INC(st, TcpExtEmbryonicRsts);
	inet_csk_reqsk_queue_drop(req);
	return NULL;
}

/* ------------------------------------------------------------- TIME-WAIT */

/*
 * A connection that is over but must still answer for its last segments
 * (the peer may not have our final ACK, old duplicates may be in flight)
 * needs only a few words of state, so the full socket is freed and this
 * minisock takes its place in ehash (Linux: inet_timewait_sock).
 */

enum tcp_tw_status {
	TCP_TW_SUCCESS, /* consumed (the minisock may be gone) */
	TCP_TW_RST,     /* answer with RST and kill the minisock */
	TCP_TW_ACK,     /* answer with an ACK from the minisock's state */
	TCP_TW_SYN,     /* a new incarnation may start: hand the SYN to a listener */
};

/* Unhash and free (Linux: inet_twsk_deschedule_put). */
static void inet_twsk_kill(struct stack *st, struct tcp_timewait_sock *tw)
{
	del_timer(st, &tw->tw_timer);
	inet_ehash_remove(st, &tw->c);
	st->tcp.tw_count--;
	kmem_cache_free(tw);
}

void tw_timer_handler(struct stack *st, struct timer *t)
{
	struct tcp_timewait_sock *tw = container_of(t, struct tcp_timewait_sock, tw_timer);

	trace_event(st, "tw_timer_handler", "%u -> %u expired", tw->c.lport, tw->c.rport);
	inet_twsk_kill(st, tw);
}

static void inet_twsk_reschedule(struct stack *st, struct tcp_timewait_sock *tw, uint32_t ms)
{
	mod_timer(st, &tw->tw_timer, stack_now(st) + (uint64_t)ms * NSEC_PER_MSEC);
}

/* The first arming counts the minisock: a short life (PAWS lets 3.5 RTO
 * replace 2 MSL) is a "killed" one (Linux: __inet_twsk_schedule). */
static void inet_twsk_schedule(struct stack *st, struct tcp_timewait_sock *tw, uint32_t ms)
{
	if (ms <= 4000)
		MIB_INC(st, TcpExtTWKilled);
	else
		MIB_INC(st, TcpExtTW);
	inet_twsk_reschedule(st, tw, ms);
}

/* 3.5 RTO: long enough to see two retransmissions of the peer's FIN. */
static uint32_t tcp_rto_3_5(uint32_t rto) { return (rto << 2) - (rto >> 1); }

static uint32_t tw_receive_window(const struct sock *sk)
{
	int32_t win = (int32_t)(sk->rcv_wup + sk->rcv_wnd - sk->rcv_nxt);

	return win < 0 ? 0 : (uint32_t)win;
}

/* NULL when tcp_max_tw_buckets minisocks exist already (Linux: inet_twsk_alloc). */
static struct tcp_timewait_sock *inet_twsk_alloc(const struct sock *sk, int state)
{
	struct stack *st = sk->st;
	struct tcp_timewait_sock *tw;

	if (st->tcp.tw_count >= (uint64_t)st->sysctl.tcp_max_tw_buckets)
		return NULL;
	tw = kmem_cache_zalloc(&st->tcp.tw_slab);
	if (!tw)
		return NULL;
	INIT_HLIST_NODE(&tw->c.node);
	tw->c.laddr = sk->c.laddr;
	tw->c.raddr = sk->c.raddr;
	tw->c.lport = sk->c.lport;
	tw->c.rport = sk->c.rport;
	tw->c.state = TCP_TIME_WAIT;
	tw->tw_substate = (uint8_t)state;
	tw->tw_entry_stamp = stack_jiffies(st);
	timer_setup(&tw->tw_timer, TIMER_TW);
	st->tcp.tw_count++;
	return tw;
}

/* Linux's tcp_time_wait: sk is done; a minisock (if allowed) keeps what
 * answering late segments needs. sk is freed if orphaned, else left in
 * CLOSE for its user. */
void tcp_time_wait(struct sock *sk, int state, uint32_t timeo_ms)
{
	struct stack *st = sk->st;
	struct tcp_timewait_sock *tw = inet_twsk_alloc(sk, state);

	if (tw) {
		uint32_t rto = tcp_rto_3_5(sk->icsk_rto);

		tw->tw_rcv_wscale = sk->rx_opt.rcv_wscale;
		tw->tw_rcv_nxt = sk->rcv_nxt;
		tw->tw_snd_nxt = sk->snd_nxt;
		tw->tw_rcv_wnd = tw_receive_window(sk);
		tw->tw_ts_recent = sk->rx_opt.ts_recent;
		tw->tw_ts_recent_stamp = sk->rx_opt.ts_recent_stamp;
		tw->tw_ts_offset = sk->tsoffset;
		tw->tw_tstamp_ok = sk->rx_opt.tstamp_ok;
		if (timeo_ms < rto)
			timeo_ms = rto;
		if (state == TCP_TIME_WAIT)
			timeo_ms = TCP_TIMEWAIT_LEN_MS;
		inet_twsk_schedule(st, tw, timeo_ms);
		/* The hash dance: the minisock answers for the tuple from now on. */
		inet_ehash_remove(st, &sk->c);
		inet_ehash_insert(st, &tw->c);
		trace_event(st, "tcp_time_wait", "%u -> %u %s %u ms", tw->c.lport, tw->c.rport,
			    tcp_state_name(state), timeo_ms);
	} else {
		/* Too many already: close without the protection TIME-WAIT gives. */
		MIB_INC(st, TcpExtTCPTimeWaitOverflow);
	}
	tcp_done(sk);
}

/* Free every minisock: the stack is going away. They are found through
 * ehash, which saves each a list link. */
void inet_twsk_destroy_all(struct stack *st)
{
	inet_ehash_rehash_all(st);
	for (uint32_t i = 0; st->tcp.tw_count && i <= st->tcp.hinfo.ehash_mask; i++) {
		struct hlist_node *pos, *n;

		hlist_for_each_safe(pos, n, &st->tcp.hinfo.ehash[i]) {
			struct sock_common *c = hlist_entry(pos, struct sock_common, node);

			if (c->state == TCP_TIME_WAIT)
				inet_twsk_kill(st, container_of(c, struct tcp_timewait_sock, c));
		}
	}
}

/* Data is never part of an ACK loop, so it is always answered
 * (Linux: tcp_oow_rate_limited). */
static bool tw_oow_rate_limited(struct stack *st, struct tcp_timewait_sock *tw, const struct sk_buff *skb, int mib)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (cb->seq != cb->end_seq && !(cb->tcp_flags & TCPHDR_SYN))
		return false;
	return tcp_oow_rate_limited_at(st, mib, &tw->tw_last_oow_ack_time);
}

static enum tcp_tw_status tw_oow_ack(struct stack *st, struct tcp_timewait_sock *tw, const struct sk_buff *skb,
				     int mib)
{
	return tw_oow_rate_limited(st, tw, skb, mib) ? TCP_TW_SUCCESS : TCP_TW_ACK;
}

/* The segment's timestamp against the minisock's; opt->saw_tstamp tells
 * whether it had one. Returns whether PAWS rejects it. */
static bool tw_paws_reject(struct stack *st, const struct tcp_timewait_sock *tw, const struct sk_buff *skb,
			   struct tcp_options_received *opt)
{
	const struct tcphdr *th = (const struct tcphdr *)skb_transport_header(skb);
	int optlen = (int)((th->doff_res >> 4) * 4) - (int)sizeof(*th);

	opt->saw_tstamp = false;
	/* Without a stamp there is no PAWS state to check against. */
	if (optlen <= 0 || !tw->tw_ts_recent_stamp)
		return false;
	tcp_parse_options(st, (const uint8_t *)(th + 1), optlen, false, false, opt, NULL);
	if (!opt->saw_tstamp)
		return false;
	opt->ts_recent = tw->tw_ts_recent;
	opt->ts_recent_stamp = tw->tw_ts_recent_stamp;
	return tcp_paws_reject(opt, th->flags & TCPHDR_RST, stack_now(st) / NSEC_PER_SEC);
}

/* FIN-WAIT-2 without a socket: our FIN is acked, the peer may still send
 * its FIN, but any new data has nobody to read it. */
static enum tcp_tw_status tcp_tw_fin_wait2(struct stack *st, struct tcp_timewait_sock *tw, const struct sk_buff *skb,
					   const struct tcp_options_received *opt, bool paws_reject)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint8_t flags = cb->tcp_flags;
	uint32_t rcv_nxt = tw->tw_rcv_nxt;

	if (paws_reject || !tcp_in_window(cb->seq, cb->end_seq, rcv_nxt, rcv_nxt + tw->tw_rcv_wnd))
		return tw_oow_ack(st, tw, skb, MIB_TcpExtTCPACKSkippedFinWait2);
	if (flags & TCPHDR_RST) {
		inet_twsk_kill(st, tw);
		return TCP_TW_SUCCESS;
	}
	if ((flags & TCPHDR_SYN) && !before(cb->seq, rcv_nxt))
		return TCP_TW_RST;
	/* A duplicate or a bare ACK: nothing to do. */
	if (!(flags & TCPHDR_ACK) || !after(cb->end_seq, rcv_nxt) || cb->end_seq == cb->seq)
		return TCP_TW_SUCCESS;
	if (!(flags & TCPHDR_FIN) || cb->end_seq != rcv_nxt + 1)
		return TCP_TW_RST;
	/* The peer's FIN: the real TIME-WAIT starts. */
	tw->tw_substate = TCP_TIME_WAIT;
	tw->tw_rcv_nxt = cb->end_seq;
	if (opt->saw_tstamp) {
		tw->tw_entry_stamp = stack_jiffies(st);
		tw->tw_ts_recent_stamp = (uint32_t)(stack_now(st) / NSEC_PER_SEC);
		tw->tw_ts_recent = opt->rcv_tsval;
	}
	inet_twsk_reschedule(st, tw, TCP_TIMEWAIT_LEN_MS);
	return TCP_TW_ACK;
}

/* RFC 1122 lets TIME-WAIT accept a new SYN if the new connection's ISN is
 * above anything the old one used; the SYN must be newer than the old
 * connection by sequence number or (more reliably) by timestamp. */
static bool tw_new_syn(const struct tcp_timewait_sock *tw, const struct sk_buff *skb,
		       const struct tcp_options_received *opt, bool paws_reject)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if ((cb->tcp_flags & (TCPHDR_SYN | TCPHDR_RST | TCPHDR_ACK)) != TCPHDR_SYN || paws_reject)
		return false;
	return after(cb->seq, tw->tw_rcv_nxt) ||
	       (opt->saw_tstamp && (int32_t)(tw->tw_ts_recent - opt->rcv_tsval) < 0);
}

/* Linux's tcp_timewait_state_process. *isn is set for TCP_TW_SYN. */
static enum tcp_tw_status tcp_timewait_state_process(struct stack *st, struct tcp_timewait_sock *tw,
						     const struct sk_buff *skb, uint32_t *isn)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint8_t flags = cb->tcp_flags;
	struct tcp_options_received opt = { 0 };
	bool paws_reject = tw_paws_reject(st, tw, skb, &opt);

	if (tw->tw_substate == TCP_FIN_WAIT2)
		return tcp_tw_fin_wait2(st, tw, skb, &opt, paws_reject);

	if (!paws_reject && cb->seq == tw->tw_rcv_nxt && (cb->seq == cb->end_seq || (flags & TCPHDR_RST))) {
		/* In window: only a RST or a bare ACK can be here. */
		if (flags & TCPHDR_RST) {
			/* TIME-WAIT assassination (RFC 1337): Linux lets the RST
			 * kill unless told not to. */
			if (!st->sysctl.tcp_rfc1337) {
				inet_twsk_kill(st, tw);
				return TCP_TW_SUCCESS;
			}
		} else {
			inet_twsk_reschedule(st, tw, TCP_TIMEWAIT_LEN_MS);
		}
		if (opt.saw_tstamp) {
			tw->tw_ts_recent = opt.rcv_tsval;
			tw->tw_ts_recent_stamp = (uint32_t)(stack_now(st) / NSEC_PER_SEC);
		}
		return TCP_TW_SUCCESS;
	}
	if (tw_new_syn(tw, skb, &opt, paws_reject)) {
		*isn = tw->tw_snd_nxt + 65535 + 2;
		if (!*isn)
			*isn = 1;
		return TCP_TW_SYN;
	}
	if (paws_reject)
		MIB_INC(st, TcpExtPAWSTimewait);
	if (flags & TCPHDR_RST)
		return TCP_TW_SUCCESS;
	/* An ACK-less SYN below rcv_nxt may be a new connection with a random
	 * ISN: it must not keep the old one alive. */
	if (paws_reject || (flags & TCPHDR_ACK))
		inet_twsk_reschedule(st, tw, TCP_TIMEWAIT_LEN_MS);
	return tw_oow_ack(st, tw, skb, MIB_TcpExtTCPACKSkippedTimeWait);
}

/* Linux's tcp_v4_timewait_ack: the ACK the old connection would send. */
static void tcp_v4_timewait_ack(struct stack *st, struct tcp_timewait_sock *tw, const struct sk_buff *skb)
{
	tcp_v4_send_ack(st, skb, tw->tw_snd_nxt, tw->tw_rcv_nxt, tw->tw_rcv_wnd >> tw->tw_rcv_wscale,
			stack_jiffies(st) + tw->tw_ts_offset, tw->tw_ts_recent, tw->tw_tstamp_ok, 0);
}

/* The TIME_WAIT branch of Linux's tcp_v4_rcv. */
void tcp_v4_rcv_timewait(struct stack *st, struct tcp_timewait_sock *tw, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	const struct tcphdr *th = (const struct tcphdr *)skb_transport_header(skb);
	uint32_t isn = 0;
	struct sock *listener;

	switch (tcp_timewait_state_process(st, tw, skb, &isn)) {
	case TCP_TW_SYN:
		listener = inet_lookup_listener(st, iph->daddr, ntohs(th->dest));
		if (listener) {
			inet_twsk_kill(st, tw);
			TCP_SKB_CB(skb)->tcp_tw_isn = isn;
			if (tcp_rcv_state_process(listener, skb))
				tcp_v4_send_reset(st, skb, tcp_state_name(listener->c.state));
			return;
		}
		/* No listener: the old connection answers. */
		tcp_v4_timewait_ack(st, tw, skb);
		break;
	case TCP_TW_ACK:
		tcp_v4_timewait_ack(st, tw, skb);
		break;
	case TCP_TW_RST:
		tcp_v4_send_reset(st, skb, "timewait socket");
		inet_twsk_kill(st, tw);
		break;
	case TCP_TW_SUCCESS:
		break;
	}
}

static bool ipv4_is_loopback(uint32_t addr) { return (ntohl(addr) >> 24) == 127; }

/*
 * Linux's tcp_twsk_unique: may connect() take over the tuple of this
 * minisock? Only with PAWS state (the new connection's timestamps then
 * tell its segments from old ones), and, for a port connect() chose itself,
 * only when tcp_tw_reuse allows and the minisock is older than
 * tcp_tw_reuse_delay. A port bound explicitly is the user's decision. On
 * success the new connection starts above the old sequence space and
 * inherits ts_recent, and the minisock is gone.
 */
bool tcp_twsk_unique(struct sock *sk, struct tcp_timewait_sock *tw)
{
	struct stack *st = sk->st;
	long reuse = st->sysctl.tcp_tw_reuse;
	bool chosen_port = !sk->in_bhash;
	uint32_t thresh = tw->tw_entry_stamp + (uint32_t)st->sysctl.tcp_tw_reuse_delay;
	uint32_t seq;

	if (tw->tw_substate == TCP_FIN_WAIT2)
		reuse = 0;
	if (reuse == 2 && !ipv4_is_loopback(tw->c.raddr) && !ipv4_is_loopback(tw->c.laddr))
		reuse = 0;
	if (!tw->tw_ts_recent_stamp)
		return false;
	if (chosen_port && !(reuse && (int32_t)(thresh - stack_jiffies(st)) < 0))
		return false;
	seq = tw->tw_snd_nxt + 65535 + 2;
	sk->write_seq = seq ? seq : 1;
	sk->rx_opt.ts_recent = tw->tw_ts_recent;
	sk->rx_opt.ts_recent_stamp = tw->tw_ts_recent_stamp;
	MIB_INC(st, TcpExtTWRecycled);
	inet_twsk_kill(st, tw);
	return true;
}
