/* Segment arrival (Linux: net/ipv4/tcp_input.c): SYN-SENT processing, the
 * state machine for synchronized states, validation (RFC 5961), the
 * passive open's request (tcp_conn_request). The data path is the minimum
 * the handshake needs: in-order data is queued, out-of-order data dropped
 * with a duplicate ACK; full reassembly, SACK and loss recovery come with
 * data transfer. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/proto.h"
#include "tcp/tcp.h"

#define TCP_MAX_QUICKACKS 16
#define TCP_PAWS_WINDOW 1
#define TCP_PAWS_MSL_S 60

static inline const struct tcphdr *tcp_hdr(const struct sk_buff *skb)
{
	return (const struct tcphdr *)skb_transport_header(skb);
}
static inline uint32_t tcp_hdrlen(const struct sk_buff *skb) { return (uint32_t)(tcp_hdr(skb)->doff_res >> 4) * 4; }

static uint64_t now_s(const struct stack *st) { return stack_now(st) / NSEC_PER_SEC; }

/* Options of a segment for a synchronized socket. */
static void tcp_fast_parse_options(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	int optlen = (int)tcp_hdrlen(skb) - (int)sizeof(*th);

	sk->rx_opt.saw_tstamp = false;
	if (optlen > 0)
		tcp_parse_options(sk->st, (const uint8_t *)(th + 1), optlen, false, true, &sk->rx_opt);
	if (sk->rx_opt.saw_tstamp && sk->rx_opt.rcv_tsecr)
		sk->rx_opt.rcv_tsecr -= sk->tsoffset;
}

/* ---- timestamps (RFC 7323 PAWS) ---- */

static void tcp_store_ts_recent(struct sock *sk)
{
	sk->rx_opt.ts_recent = sk->rx_opt.rcv_tsval;
	sk->rx_opt.ts_recent_stamp = now_s(sk->st);
}

/* Linux's tcp_paws_check: true when the segment's TSval is acceptable. */
bool tcp_paws_check(const struct tcp_options_received *rx, int paws_win)
{
	if ((int32_t)(rx->ts_recent - rx->rcv_tsval) <= paws_win)
		return true;
	/* A zero ts_recent means the peer's SYN carried TSval 0: trust nothing. */
	return rx->ts_recent == 0;
}

bool tcp_paws_reject(const struct tcp_options_received *rx, bool rst, uint64_t now_sec)
{
	if (tcp_paws_check(rx, 0))
		return false;
	/* An old enough RST wins over timestamps (peer reboot). */
	if (rst && now_sec >= rx->ts_recent_stamp + TCP_PAWS_MSL_S)
		return false;
	return true;
}

static void tcp_replace_ts_recent(struct sock *sk, uint32_t seq)
{
	if (sk->rx_opt.saw_tstamp && !after(seq, sk->rcv_wup) && tcp_paws_check(&sk->rx_opt, 0))
		tcp_store_ts_recent(sk);
}

/* A pure duplicate ACK that only lost a race with newer segments (Linux:
 * tcp_disordered_ack) is let through PAWS. */
static bool tcp_disordered_ack(const struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	return cb->seq == cb->end_seq && cb->seq == sk->rcv_nxt && cb->ack_seq == sk->snd_una &&
	       (cb->tcp_flags & TCPHDR_ACK) &&
	       (int32_t)(sk->rx_opt.ts_recent - sk->rx_opt.rcv_tsval) <= (int32_t)(sk->icsk_rto * 1024 / 1000);
}

static bool tcp_paws_discard(const struct sock *sk, const struct sk_buff *skb)
{
	return !tcp_paws_check(&sk->rx_opt, TCP_PAWS_WINDOW) && !tcp_disordered_ack(sk, skb);
}

/* ---- rate limits for out-of-window answers ---- */

/* Linux's __tcp_oow_rate_limited: at most one answer per tcp_invalid_ratelimit. */
bool tcp_oow_rate_limited_at(struct stack *st, int mib, uint64_t *last)
{
	uint32_t now = stack_jiffies(st);

	if (*last) {
		int32_t elapsed = (int32_t)(now - (uint32_t)*last);
		if (elapsed >= 0 && elapsed < st->sysctl.tcp_invalid_ratelimit) {
			st->mib[mib]++;
			return true;
		}
	}
	*last = now ? now : 1;
	return false;
}

static bool tcp_oow_rate_limited(struct stack *st, const struct sk_buff *skb, int mib, uint64_t *last)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	/* Data without SYN cannot be part of an ACK loop. */
	if (cb->seq != cb->end_seq && !(cb->tcp_flags & TCPHDR_SYN))
		return false;
	return tcp_oow_rate_limited_at(st, mib, last);
}

void tcp_send_challenge_ack(struct sock *sk)
{
	if (tcp_oow_rate_limited_at(sk->st, MIB_TcpExtTCPACKSkippedChallenge, &sk->last_oow_ack_time))
		return;
	MIB_INC(sk->st, TcpExtTCPChallengeACK);
	tcp_send_ack(sk);
}

static void tcp_send_dupack(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (cb->end_seq != cb->seq && before(cb->seq, sk->rcv_nxt))
		tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
	tcp_send_ack(sk);
}

/* ---- validation (Linux: tcp_validate_incoming) ---- */

static uint32_t tcp_receive_window(const struct sock *sk)
{
	int32_t win = (int32_t)(sk->rcv_wup + sk->rcv_wnd - sk->rcv_nxt);

	return win < 0 ? 0 : (uint32_t)win;
}

/* 0 when the segment is in the window (Linux: tcp_sequence). */
static int tcp_sequence(const struct sock *sk, uint32_t seq, uint32_t end_seq)
{
	uint32_t right = sk->rcv_nxt + tcp_receive_window(sk);

	if (before(end_seq, sk->rcv_wup))
		return 1;
	if (after(end_seq, right)) {
		if (after(seq, right))
			return 2;
		if (sk->receive_queue.qlen)
			return 2;
	}
	return 0;
}

/* RST at rcv_nxt - 1 after a FIN (Linux: tcp_reset_check). */
static bool tcp_reset_check(const struct sock *sk, const struct sk_buff *skb)
{
	int s = sk->c.state;

	return TCP_SKB_CB(skb)->seq == sk->rcv_nxt - 1 &&
	       (s == TCP_CLOSE_WAIT || s == TCP_LAST_ACK || s == TCP_CLOSING);
}

static void tcp_syn_challenge(struct sock *sk)
{
	/* Linux's syn_inerr: tcp_rcv_established counts the SYN as an error. */
	if (sk->c.state == TCP_ESTABLISHED)
		MIB_INC(sk->st, TcpInErrs);
	MIB_INC(sk->st, TcpExtTCPSYNChallenge);
	tcp_send_challenge_ack(sk);
}

/* False when the segment was dropped or reset the connection. */
static bool tcp_validate_incoming(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	bool rst = cb->tcp_flags & TCPHDR_RST, syn = cb->tcp_flags & TCPHDR_SYN;
	int bad;

	tcp_fast_parse_options(sk, skb);
	if (sk->rx_opt.saw_tstamp && sk->rx_opt.tstamp_ok && tcp_paws_discard(sk, skb) && !rst) {
		if (syn) {
			tcp_syn_challenge(sk);
			return false;
		}
		MIB_INC(sk->st, TcpExtPAWSEstab);
		if (!tcp_oow_rate_limited(sk->st, skb, MIB_TcpExtTCPACKSkippedPAWS, &sk->last_oow_ack_time))
			tcp_send_dupack(sk, skb);
		return false;
	}
	bad = tcp_sequence(sk, cb->seq, cb->end_seq);
	if (bad) {
		if (!rst) {
			if (syn) {
				tcp_syn_challenge(sk);
				return false;
			}
			if (bad == 2)
				MIB_INC(sk->st, TcpExtBeyondWindow);
			if (!tcp_oow_rate_limited(sk->st, skb, MIB_TcpExtTCPACKSkippedSeq, &sk->last_oow_ack_time))
				tcp_send_dupack(sk, skb);
		} else if (tcp_reset_check(sk, skb)) {
			tcp_reset(sk);
		}
		return false;
	}
	if (rst) {
		/* RFC 5961 3.2: only an exact hit resets; anything else is challenged. */
		if (cb->seq == sk->rcv_nxt || tcp_reset_check(sk, skb))
			tcp_reset(sk);
		else
			tcp_send_challenge_ack(sk);
		return false;
	}
	if (syn) {
		/* The simultaneous-open SYN-ACK that completes our SYN-RECV passes. */
		if (sk->c.state == TCP_SYN_RECV && sk->fd >= 0 && (cb->tcp_flags & TCPHDR_ACK) &&
		    cb->seq + 1 == cb->end_seq && cb->seq + 1 == sk->rcv_nxt && cb->ack_seq == sk->snd_nxt)
			return true;
		tcp_syn_challenge(sk);
		return false;
	}
	return true;
}

/* ---- ACK processing ---- */

static bool tcp_may_update_window(const struct sock *sk, uint32_t ack, uint32_t ack_seq, uint32_t nwin)
{
	return after(ack, sk->snd_una) || after(ack_seq, sk->snd_wl1) || (ack_seq == sk->snd_wl1 && (nwin > sk->snd_wnd || !nwin));
}

static void tcp_ack_update_window(struct sock *sk, const struct sk_buff *skb, uint32_t ack)
{
	const struct tcphdr *th = tcp_hdr(skb);
	uint32_t nwin = ntohs(th->window);

	if (!(th->flags & TCPHDR_SYN))
		nwin <<= sk->rx_opt.snd_wscale;
	if (tcp_may_update_window(sk, ack, TCP_SKB_CB(skb)->seq, nwin)) {
		sk->snd_wl1 = TCP_SKB_CB(skb)->seq;
		sk->snd_wnd = nwin;
		if (nwin > sk->max_window)
			sk->max_window = nwin;
	}
}

/* Drop what the ACK covers from the retransmit queue. */
static void tcp_clean_rtx_queue(struct sock *sk, uint32_t ack)
{
	struct sk_buff *skb, *n;

	list_for_each_entry_safe(skb, n, &sk->rtx_queue.list, list) {
		if (after(TCP_SKB_CB(skb)->end_seq, ack))
			break;
		skb_unlink(skb, &sk->rtx_queue);
		kfree_skb(skb);
	}
	if (list_empty(&sk->rtx_queue.list)) {
		sk->icsk_pending = 0;
		del_timer(sk->st, &sk->retransmit_timer);
	}
}

/* Linux's tcp_ack, reduced to the handshake: > 0 ok, 0 old ACK,
 * < 0 an ACK that must not be accepted. */
static int tcp_ack(struct sock *sk, const struct sk_buff *skb, bool no_challenge, bool update_ts)
{
	uint32_t ack = TCP_SKB_CB(skb)->ack_seq;
	uint32_t prior_snd_una = sk->snd_una;

	if (before(ack, prior_snd_una)) {
		/* RFC 5961 5.2: an ACK older than what was ever in flight is
		 * challenged; a merely old one is ignored. */
		uint32_t max_window = min_t(uint64_t, sk->max_window, sk->bytes_acked);
		if (before(ack, prior_snd_una - max_window)) {
			if (!no_challenge)
				tcp_send_challenge_ack(sk);
			return -1;
		}
		return 0;
	}
	if (after(ack, sk->snd_nxt))
		return -2;
	tcp_ack_update_window(sk, skb, ack);
	if (after(ack, prior_snd_una)) {
		sk->bytes_acked += ack - prior_snd_una;
		sk->snd_una = ack;
		sk->icsk_retransmits = 0;
		sk->icsk_backoff = 0;
		tcp_clean_rtx_queue(sk, ack);
	}
	if (update_ts)
		tcp_replace_ts_recent(sk, TCP_SKB_CB(skb)->seq);
	return 1;
}

/* ---- receiving data (minimal until data transfer) ---- */

static bool tcp_in_quickack_mode(const struct sock *sk) { return sk->icsk_ack.quick && !sk->icsk_ack.pingpong; }

static void tcp_event_data_recv(struct sock *sk)
{
	if (!sk->icsk_ack.ato) {
		/* The first data: start with quick ACKs (Linux: tcp_event_data_recv). */
		tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
	}
}

/* Linux's __tcp_ack_snd_check: now, or after the delayed-ACK timeout. */
static void tcp_ack_snd_check(struct sock *sk)
{
	if (!sk->icsk_ack.pending)
		return;
	if (tcp_in_quickack_mode(sk) || sk->rcv_nxt - sk->rcv_wup > sk->advmss)
		tcp_send_ack(sk);
	else
		tcp_send_delayed_ack(sk);
}

/* FIN in a synchronized state: the minimum until orderly release lands. */
static void tcp_fin(struct sock *sk)
{
	sk->icsk_ack.pending = true;
	if (sk->c.state == TCP_ESTABLISHED || sk->c.state == TCP_SYN_RECV) {
		tcp_set_state(sk, TCP_CLOSE_WAIT);
		sk->icsk_ack.pingpong = true;
	}
	sk_state_change(sk);
}

/* Linux's tcp_dsack_set (sysctl tcp_dsack defaults to on). */
static void tcp_dsack_set(struct sock *sk, uint32_t seq, uint32_t end_seq)
{
	if (!sk->rx_opt.sack_ok)
		return;
	sk->dsack = true;
	sk->dsack_start = seq;
	sk->dsack_end = end_seq;
}

static void tcp_data_queue(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t hlen = tcp_hdrlen(skb);
	uint32_t len = skb->len - hlen;
	bool fin = cb->tcp_flags & TCPHDR_FIN;

	if (cb->seq == cb->end_seq)
		return;
	sk->dsack = false;
	if (!after(cb->end_seq, sk->rcv_nxt)) {
		/* A retransmission of what we have: D-SACK it, ACK at once. */
		tcp_dsack_set(sk, cb->seq, cb->end_seq);
		tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
		sk->icsk_ack.pending = true;
		return;
	}
	if (after(cb->seq, sk->rcv_nxt)) {
		/* Out of order: queued with data transfer; for now the peer
		 * learns where we are. */
		tcp_send_dupack(sk, skb);
		return;
	}
	/* Strip the header and any part we already have. */
	skb_pull(skb, hlen + (sk->rcv_nxt - cb->seq));
	len -= sk->rcv_nxt - cb->seq;
	if (len) {
		struct sk_buff *data = skb_clone(skb);
		if (!data)
			return;
		TCP_SKB_CB(data)->seq = sk->rcv_nxt;
		TCP_SKB_CB(data)->end_seq = sk->rcv_nxt + len;
		skb_queue_tail(&sk->receive_queue, data);
		sk->rcv_nxt += len;
		tcp_event_data_recv(sk);
		sk->icsk_ack.pending = true;
	}
	if (fin) {
		sk->rcv_nxt++;
		tcp_fin(sk);
	}
	sk_state_change(sk);
}

/* ---- connection setup ---- */

/* Linux's tcp_init_buffer_space: the window clamp and rcv_ssthresh once a
 * connection is synchronized (tcp_app_win = 31 reserves one segment). */
void tcp_init_buffer_space(struct sock *sk)
{
	uint32_t maxwin = (uint32_t)tcp_full_space(sk->sk_rcvbuf);

	if (sk->window_clamp >= maxwin)
		sk->window_clamp = maxwin;
	if (sk->window_clamp > 2u * sk->advmss && sk->window_clamp + sk->advmss > maxwin)
		sk->window_clamp = max_t(uint32_t, 2u * sk->advmss, maxwin - sk->advmss);
	sk->rcv_ssthresh = min_t(uint32_t, sk->rcv_ssthresh, sk->window_clamp);
}

/* Linux's tcp_init_transfer. */
static void tcp_init_transfer(struct sock *sk)
{
	sk->snd_cwnd = sk->total_retrans > 1 ? 1 : TCP_INIT_CWND;
	tcp_init_buffer_space(sk);
}

void tcp_finish_connect(struct sock *sk)
{
	tcp_set_state(sk, TCP_ESTABLISHED);
	tcp_init_transfer(sk);
	sk->retrans_stamp = 0;
}

/* A valid SYN-ACK in SYN-SENT: ESTABLISHED, then the third ACK now or
 * delayed (Linux: the SYN-ACK half of tcp_rcv_synsent_state_process). */
static int tcp_synsent_synack(struct sock *sk, struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	sk->snd_wl1 = cb->seq;
	tcp_ack(sk, skb, true, false);
	sk->rcv_nxt = cb->seq + 1;
	sk->rcv_wup = cb->seq + 1;
	/* RFC 7323: SYN and SYN-ACK windows are never scaled. */
	sk->snd_wnd = ntohs(tcp_hdr(skb)->window);
	if (!sk->rx_opt.wscale_ok) {
		sk->rx_opt.snd_wscale = 0;
		sk->rx_opt.rcv_wscale = 0;
		sk->window_clamp = min_t(uint32_t, sk->window_clamp, 65535);
	}
	if (sk->rx_opt.saw_tstamp) {
		sk->rx_opt.tstamp_ok = true;
		sk->tcp_header_len = 20 + TCPOLEN_TSTAMP_ALIGNED;
		sk->advmss -= TCPOLEN_TSTAMP_ALIGNED;
		tcp_store_ts_recent(sk);
	} else {
		sk->tcp_header_len = 20;
	}
	tcp_sync_mss(sk, sk->st->dev.mtu);
	sk->copied_seq = sk->rcv_nxt;
	tcp_finish_connect(sk);
	sk_state_change(sk);
	if (sk->rskq_defer_accept || sk->icsk_ack.pingpong) {
		/* Save an ACK: the first data will carry it. */
		sk->icsk_ack.pending = true;
		tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_DACK, TCP_DELACK_MAX_MS);
		return 0;
	}
	tcp_send_ack(sk);
	return 0;
}

/* Crossed SYNs: SYN-RECV, and our SYN goes out again as a SYN-ACK. */
static void tcp_synsent_simultaneous_open(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	tcp_set_state(sk, TCP_SYN_RECV);
	if (sk->rx_opt.saw_tstamp) {
		sk->rx_opt.tstamp_ok = true;
		tcp_store_ts_recent(sk);
		sk->tcp_header_len = 20 + TCPOLEN_TSTAMP_ALIGNED;
	} else {
		sk->tcp_header_len = 20;
	}
	sk->rcv_nxt = cb->seq + 1;
	sk->copied_seq = sk->rcv_nxt;
	sk->rcv_wup = cb->seq + 1;
	sk->snd_wnd = ntohs(tcp_hdr(skb)->window);
	sk->snd_wl1 = cb->seq;
	sk->max_window = sk->snd_wnd;
	tcp_sync_mss(sk, sk->st->dev.mtu);
	tcp_send_synack(sk);
}

/* Linux's tcp_rcv_synsent_state_process: 1 = answer with RST, 0 = done. */
static int tcp_rcv_synsent_state_process(struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct tcp_options_received saved = sk->rx_opt;
	int optlen = (int)tcp_hdrlen(skb) - (int)sizeof(*th);

	sk->rx_opt.saw_tstamp = false;
	if (optlen > 0)
		tcp_parse_options(sk->st, (const uint8_t *)(th + 1), optlen, cb->tcp_flags & TCPHDR_SYN, false,
				  &sk->rx_opt);
	if (sk->rx_opt.saw_tstamp && sk->rx_opt.rcv_tsecr)
		sk->rx_opt.rcv_tsecr -= sk->tsoffset;

	if (cb->tcp_flags & TCPHDR_ACK) {
		if (!after(cb->ack_seq, sk->snd_una) || after(cb->ack_seq, sk->snd_nxt)) {
			/* Maybe an old RST/ACK ate our SYN: resend soon. */
			if (sk->icsk_retransmits == 0)
				inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, 2);
			goto reset_and_undo;
		}
		if (sk->rx_opt.saw_tstamp && sk->rx_opt.rcv_tsecr &&
		    !between(sk->rx_opt.rcv_tsecr, (uint32_t)sk->retrans_stamp, stack_jiffies(sk->st))) {
			MIB_INC(sk->st, TcpExtPAWSActive);
			goto reset_and_undo;
		}
		if (cb->tcp_flags & TCPHDR_RST) {
			tcp_reset(sk);
			return 0;
		}
		if (!(cb->tcp_flags & TCPHDR_SYN))
			goto discard_and_undo;
		return tcp_synsent_synack(sk, skb);
	}
	if (cb->tcp_flags & TCPHDR_RST)
		goto discard_and_undo;
	if (sk->rx_opt.ts_recent_stamp && sk->rx_opt.saw_tstamp && tcp_paws_reject(&sk->rx_opt, false, now_s(sk->st)))
		goto discard_and_undo;
	if (cb->tcp_flags & TCPHDR_SYN) {
		tcp_synsent_simultaneous_open(sk, skb);
		return 0;
	}
discard_and_undo:
	sk->rx_opt = saved;
	return 0;
reset_and_undo:
	sk->rx_opt = saved;
	return 1;
}

/* SYN-RECV -> ESTABLISHED on an acceptable ACK (simultaneous open, or a
 * child created by tcp_check_req). */
static void tcp_rcv_synrecv_ack(struct sock *sk, const struct sk_buff *skb)
{
	if (sk->rx_opt.tstamp_ok)
		sk->advmss -= TCPOLEN_TSTAMP_ALIGNED;
	sk->retrans_stamp = 0;
	tcp_init_transfer(sk);
	sk->copied_seq = sk->rcv_nxt;
	tcp_set_state(sk, TCP_ESTABLISHED);
	sk_state_change(sk);
	sk->snd_una = TCP_SKB_CB(skb)->ack_seq;
	sk->snd_wnd = (uint32_t)ntohs(tcp_hdr(skb)->window) << sk->rx_opt.snd_wscale;
	sk->snd_wl1 = TCP_SKB_CB(skb)->seq;
}

/* The synchronized states (Linux: tcp_rcv_established's slow path and the
 * tail of tcp_rcv_state_process). Returns 1 when the caller must RST. */
static int tcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	int acked;

	if (!(cb->tcp_flags & (TCPHDR_ACK | TCPHDR_RST | TCPHDR_SYN)))
		return 0;
	if (!tcp_validate_incoming(sk, skb))
		return 0;
	if (!(cb->tcp_flags & TCPHDR_ACK))
		return 0;
	acked = tcp_ack(sk, skb, sk->c.state != TCP_ESTABLISHED, true);
	if (acked <= 0 && sk->c.state == TCP_SYN_RECV)
		return 1;
	if (acked < 0) {
		if (sk->c.state != TCP_ESTABLISHED)
			tcp_send_challenge_ack(sk);
		return 0;
	}
	if (sk->c.state == TCP_SYN_RECV)
		tcp_rcv_synrecv_ack(sk, skb);
	if (sk->c.state == TCP_ESTABLISHED)
		tcp_data_queue(sk, skb);
	if (sk->c.state != TCP_CLOSE)
		tcp_ack_snd_check(sk);
	return 0;
}

/* Linux's tcp_rcv_state_process: 1 = the caller answers with RST. The
 * caller keeps ownership of skb. */
int tcp_rcv_state_process(struct sock *sk, struct sk_buff *skb)
{
	uint8_t flags = TCP_SKB_CB(skb)->tcp_flags;

	switch (sk->c.state) {
	case TCP_CLOSE:
		return 0;
	case TCP_LISTEN:
		if (flags & TCPHDR_ACK)
			return 1;
		if ((flags & TCPHDR_RST) || !(flags & TCPHDR_SYN) || (flags & TCPHDR_FIN))
			return 0;
		tcp_conn_request(sk, skb);
		return 0;
	case TCP_SYN_SENT:
		return tcp_rcv_synsent_state_process(sk, skb);
	default:
		return tcp_rcv_synchronized(sk, skb);
	}
}

/* ---- passive open (Linux: tcp_conn_request) ---- */

/* SYN cookies land with their own issue: for now, when they would be
 * used, the SYN is dropped (Linux: tcp_syn_flood_action, want_cookie). */
static bool tcp_syn_flood_action(struct sock *listener)
{
	(void)listener;
	return false;
}

static bool inet_csk_reqsk_queue_is_full(const struct sock *sk) { return sk->qlen > (uint32_t)sk->max_ack_backlog; }
static bool sk_acceptq_is_full(const struct sock *sk) { return sk->ack_backlog > sk->max_ack_backlog; }

static void tcp_listendrop(struct sock *sk) { MIB_INC(sk->st, TcpExtListenDrops); }

/* Linux's tcp_openreq_init_rwin: the SYN-ACK's window and scale. */
static void tcp_openreq_init_rwin(struct request_sock *req, const struct sock *listener)
{
	struct stack *st = listener->st;
	int full_space = tcp_full_space(listener->sk_rcvbuf);
	uint16_t mss = req->mss_adv;
	uint32_t rcv_wnd = 0, clamp = listener->window_clamp;
	uint8_t ws = 0;

	if (listener->rcvbuf_locked && (clamp > (uint32_t)full_space || clamp == 0))
		clamp = (uint32_t)full_space;
	tcp_select_initial_window(st, full_space, mss - (req->tstamp_ok ? TCPOLEN_TSTAMP_ALIGNED : 0), &rcv_wnd,
				  &clamp, req->wscale_ok, &ws, 0);
	req->rsk_rcv_wnd = rcv_wnd;
	req->rsk_window_clamp = clamp;
	req->rcv_wscale = ws;
}

/* ECN is agreed when the SYN asks with ECE|CWR and is not itself ECT
 * (Linux: tcp_ecn_create_request with tcp_ecn != 0). */
static bool tcp_ecn_create_request(const struct stack *st, const struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	uint8_t f = TCP_SKB_CB(skb)->tcp_flags;

	if ((f & (TCPHDR_ECE | TCPHDR_CWR)) != (TCPHDR_ECE | TCPHDR_CWR))
		return false;
	return st->sysctl.tcp_ecn && (iph->tos & 0x3) == 0;
}

static struct request_sock *tcp_openreq_alloc(struct sock *listener, const struct sk_buff *skb,
					      const struct tcp_options_received *opt)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct request_sock *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->st = listener->st;
	req->listener = listener;
	INIT_LIST_HEAD(&req->listener_node);
	INIT_HLIST_NODE(&req->c.node);
	req->c.state = TCP_NEW_SYN_RECV;
	req->c.laddr = iph->daddr;
	req->c.raddr = iph->saddr;
	req->c.lport = ntohs(th->dest);
	req->c.rport = ntohs(th->source);
	req->rcv_isn = TCP_SKB_CB(skb)->seq;
	req->rcv_nxt = req->rcv_isn + 1;
	req->mss = opt->mss_clamp;
	req->mss_adv = tcp_mss_clamp(listener, (uint16_t)(listener->st->dev.mtu - 40));
	req->ts_recent = opt->saw_tstamp ? opt->rcv_tsval : 0;
	req->tstamp_ok = opt->saw_tstamp;
	req->sack_ok = opt->sack_ok;
	req->wscale_ok = opt->wscale_ok;
	req->snd_wscale = opt->snd_wscale;
	req->tos = listener->tos;
	req->timeout_ms = TCP_TIMEOUT_INIT_MS;
	timer_setup(&req->rsk_timer, reqsk_timer_handler);
	return req;
}

/* Hash the request and start its SYN-ACK timer (Linux: inet_csk_reqsk_queue_hash_add). */
static void inet_csk_reqsk_queue_hash_add(struct sock *listener, struct request_sock *req)
{
	inet_ehash_insert(listener->st, &req->c);
	list_add_tail(&req->listener_node, &listener->syn_queue);
	listener->qlen++;
	listener->young++;
	mod_timer(listener->st, &req->rsk_timer, stack_now(listener->st) + req->timeout_ms * NSEC_PER_MSEC);
}

/* A peer we have no history with (Linux: tcp_peer_is_proven without tcp_metrics). */
static bool tcp_peer_is_proven(void) { return false; }

void tcp_conn_request(struct sock *sk, struct sk_buff *skb)
{
	struct stack *st = sk->st;
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct tcp_options_received opt = { .mss_clamp = TCP_MSS_DEFAULT, .user_mss = sk->rx_opt.user_mss };
	int optlen = (int)tcp_hdrlen(skb) - (int)sizeof(*th);
	struct request_sock *req;
	bool want_cookie = false;

	/* Never answer a SYN sent to a broadcast (Linux: tcp_v4_conn_request). */
	if (iph->daddr != st->dev.addr)
		goto drop;
	if (st->sysctl.tcp_syncookies == 2 || inet_csk_reqsk_queue_is_full(sk)) {
		want_cookie = tcp_syn_flood_action(sk);
		if (!want_cookie) {
			MIB_INC(st, TcpExtTCPReqQFullDrop);
			goto drop;
		}
	}
	if (sk_acceptq_is_full(sk)) {
		MIB_INC(st, TcpExtListenOverflows);
		goto drop;
	}
	if (optlen > 0)
		tcp_parse_options(st, (const uint8_t *)(th + 1), optlen, true, false, &opt);
	if (!st->sysctl.tcp_syncookies &&
	    st->sysctl.tcp_max_syn_backlog - (long)sk->qlen < (st->sysctl.tcp_max_syn_backlog >> 2) &&
	    !tcp_peer_is_proven())
		goto drop;
	req = tcp_openreq_alloc(sk, skb, &opt);
	if (!req)
		goto drop;
	if (req->tstamp_ok)
		req->ts_off = secure_tcp_ts_off(st, iph->daddr, iph->saddr);
	req->ecn_ok = tcp_ecn_create_request(st, skb);
	req->snt_isn = secure_tcp_seq(st, iph->daddr, iph->saddr, ntohs(th->dest), ntohs(th->source));
	tcp_openreq_init_rwin(req, sk);
	/* Fast Open (tcp_try_fastopen) hooks in here with its own issue. */
	inet_csk_reqsk_queue_hash_add(sk, req);
	trace_event(st, "tcp_conn_request", "request sock for %u.%u.%u.%u:%u", ((uint8_t *)&req->c.raddr)[0],
		    ((uint8_t *)&req->c.raddr)[1], ((uint8_t *)&req->c.raddr)[2], ((uint8_t *)&req->c.raddr)[3],
		    req->c.rport);
	tcp_v4_send_synack(req);
	return;
drop:
	tcp_listendrop(sk);
}
