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
bool tcp_oow_rate_limited_at(struct stack *st, int mib, uint64_t *last);

void reqsk_free(struct request_sock *req)
{
	del_timer(req->st, &req->rsk_timer);
	free(req);
}

/* Unlink a request from ehash and its listener's SYN queue and free it
 * (Linux: inet_csk_reqsk_queue_drop + reqsk_put). */
void inet_csk_reqsk_queue_drop(struct request_sock *req)
{
	struct sock *listener = req->listener;

	inet_ehash_remove(req->st, &req->c);
	list_del_init(&req->listener_node);
	listener->qlen--;
	if (req->num_timeout == 0)
		listener->young--;
	reqsk_free(req);
}

static uint64_t reqsk_timeout_ms(const struct request_sock *req)
{
	uint64_t t = req->timeout_ms << req->num_timeout;

	return t < TCP_RTO_MAX_MS ? t : TCP_RTO_MAX_MS;
}

/* Linux's tcp_rtx_synack: resend and count. 0 on success. */
static int tcp_rtx_synack(struct request_sock *req)
{
	int err = tcp_v4_send_synack(req);

	if (err)
		return err;
	MIB_INC(req->st, TcpRetransSegs);
	MIB_INC(req->st, TcpExtTCPSynRetrans);
	req->num_retrans++;
	trace_event(req->st, "tcp_retransmit_synack", "%u -> %u num_retrans %u", req->c.lport, req->c.rport,
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
	unsigned int max_retries = listener->icsk_syn_retries ? listener->icsk_syn_retries
							      : (unsigned int)st->sysctl.tcp_synack_retries;
	uint32_t qlen = listener->qlen;
	bool expire, resend;

	if ((qlen << 1) > max_t(uint32_t, 8, (uint32_t)listener->max_ack_backlog)) {
		uint32_t young = listener->young << 1;
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
			listener->young--;
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
	struct stack *st = req->st;
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
	sk->parent = listener;
	tcp_set_state(sk, TCP_SYN_RECV);

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

	sk->inet_id = prng_u32(&st->rng) & 0xffff;
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

	list_del_init(&req->listener_node);
	listener->qlen--;
	if (req->num_timeout == 0)
		listener->young--;
	reqsk_free(req);
	list_add_tail(&child->accept_node, &listener->accept_queue);
	listener->ack_backlog++;
	trace_event(listener->st, "tcp_check_req", "child created %u -> %u", child->c.lport, child->c.rport);
	return child;
}

/* The accept queue is full: Linux's tcp_v4_syn_recv_sock exit_overflow. */
static bool syn_recv_overflow(struct sock *listener)
{
	if (listener->ack_backlog <= listener->max_ack_backlog)
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
	tcp_parse_options(req->st, (const uint8_t *)(th + 1), optlen, false, false, &opt);
	if (!opt.saw_tstamp)
		return r;
	opt.ts_recent = req->ts_recent;
	if (opt.rcv_tsecr && req->tstamp_ok)
		r.tsecr_reject = !between(opt.rcv_tsecr, req->snt_tsval_first, req->snt_tsval_last);
	/* The request keeps no stamp: estimate it from the current timeout. */
	opt.ts_recent_stamp = stack_now(req->st) / NSEC_PER_SEC - reqsk_timeout_ms(req) / 1000;
	r.paws_reject = tcp_paws_reject(&opt, th->flags & TCPHDR_RST, stack_now(req->st) / NSEC_PER_SEC);
	return r;
}

/* Linux's tcp_check_req. Returns NULL (handled or dropped; req may be
 * gone), the listener (the caller answers with RST), or the new child. */
struct sock *tcp_check_req(struct request_sock *req, struct sk_buff *skb)
{
	struct sock *listener = req->listener;
	struct stack *st = req->st;
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
