/* Segment arrival (Linux: net/ipv4/tcp_input.c): SYN-SENT processing, the
 * state machine for synchronized states, validation (RFC 5961), the
 * passive open's request (tcp_conn_request). The data path is the minimum
 * the handshake needs: in-order data is queued, out-of-order data dropped
 * with a duplicate ACK; full reassembly, SACK and loss recovery come with
 * data transfer. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
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

/* The wire segments a received skb stands for: more than one when GRO or
 * the device merged segments of gso_size bytes (Linux: max(1, gso_segs)). */
static inline uint32_t tcp_skb_segs_rx(const struct sk_buff *skb)
{
	uint32_t data;

	if (likely(!skb->gso_size))
		return 1;
	data = skb->len - tcp_hdrlen(skb);
	return data > skb->gso_size ? (data + skb->gso_size - 1u) / skb->gso_size : 1u;
}

static uint64_t now_s(const struct stack *st) { return stack_now(st) / NSEC_PER_SEC; }

/* Options of a segment for a synchronized socket. */
static void tcp_fast_parse_options(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	int optlen = (int)tcp_hdrlen(skb) - (int)sizeof(*th);

	sk->rx_opt.saw_tstamp = false;
	if (optlen > 0 && !tcp_parse_aligned_timestamp((const uint8_t *)(th + 1), optlen, &sk->rx_opt))
		tcp_parse_options(sk->st, (const uint8_t *)(th + 1), optlen, false, true, &sk->rx_opt, NULL);
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
bool tcp_oow_rate_limited_at(struct stack *st, int mib, uint32_t *last)
{
	uint32_t now = stack_jiffies(st);

	if (*last) {
		int32_t elapsed = (int32_t)(now - *last);
		if (elapsed >= 0 && elapsed < st->sysctl.tcp_invalid_ratelimit) {
			st->mib[mib]++;
			return true;
		}
	}
	*last = now ? now : 1;
	return false;
}

static bool tcp_oow_rate_limited(struct stack *st, const struct sk_buff *skb, int mib, uint32_t *last)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	/* Data without SYN cannot be part of an ACK loop. */
	if (cb->seq != cb->end_seq && !(cb->tcp_flags & TCPHDR_SYN))
		return false;
	return tcp_oow_rate_limited_at(st, mib, last);
}

/* RFC 5961 7, host-wide: tcp_challenge_ack_limit per second, the budget
 * drawn at random in [limit/2, limit*3/2) each second so that an observer
 * cannot count it down (Linux's tcp_challenge_ack_allowed). The default,
 * INT_MAX, means no host-wide limit. */
static bool tcp_challenge_ack_allowed(struct stack *st)
{
	long limit = st->sysctl.tcp_challenge_ack_limit;
	uint32_t second = (uint32_t)(stack_now(st) / NSEC_PER_SEC) + 1;

	if (limit >= INT32_MAX)
		return true;
	if (second != st->tcp.challenge_second) {
		uint32_t half = ((uint32_t)limit + 1) >> 1;

		st->tcp.challenge_second = second;
		st->tcp.challenge_count = limit ? half + prng_below(&st->rng, (uint32_t)limit) : 0;
	}
	if (!st->tcp.challenge_count)
		return false;
	st->tcp.challenge_count--;
	return true;
}

void tcp_send_challenge_ack(struct sock *sk)
{
	if (tcp_oow_rate_limited_at(sk->st, MIB_TcpExtTCPACKSkippedChallenge, &sk->last_oow_ack_time))
		return;
	if (!tcp_challenge_ack_allowed(sk->st))
		return;
	MIB_INC(sk->st, TcpExtTCPChallengeACK);
	tcp_send_ack(sk);
}

static void tcp_dsack_set(struct sock *sk, uint32_t seq, uint32_t end_seq);

/* Linux's tcp_send_dupack: old data is D-SACKed, so the sender learns its
 * retransmission was spurious. */
static void tcp_send_dupack(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (cb->end_seq != cb->seq && before(cb->seq, sk->rcv_nxt)) {
		MIB_INC(sk->st, TcpExtDelayedACKLost);
		tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
		tcp_dsack_set(sk, cb->seq, after(cb->end_seq, sk->rcv_nxt) ? sk->rcv_nxt : cb->end_seq);
	}
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

/* Linux extends RFC 5961 3.2: a RST at the right edge of the highest SACK
 * block we advertise (the end of what the peer sent) resets too. */
static bool tcp_reset_at_max_sack(const struct sock *sk, uint32_t seq)
{
	const struct tcp_ooo *o = sk->ooo;
	uint32_t max_sack;

	if (!sk->rx_opt.sack_ok || !o || !o->num_sacks)
		return false;
	max_sack = o->selective_acks[0][1];
	for (int i = 1; i < o->num_sacks; i++)
		if (after(o->selective_acks[i][1], max_sack))
			max_sack = o->selective_acks[i][1];
	return seq == max_sack;
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
		if (cb->seq == sk->rcv_nxt || tcp_reset_check(sk, skb) || tcp_reset_at_max_sack(sk, cb->seq)) {
			tcp_reset(sk);
			return false;
		}
		/* fastopen: an out-of-order RST before any data smells of a middlebox. */
		if (sk->syn_fastopen && !sk->data_segs_in && sk->c.state == TCP_ESTABLISHED)
			tcp_fastopen_active_disable(sk);
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

/* ---- ACK processing (Linux: tcp_ack and its helpers) ---- */

#define FLAG_DATA 0x01              /* the segment carries data */
#define FLAG_WIN_UPDATE 0x02
#define FLAG_DATA_ACKED 0x04        /* new data acknowledged */
#define FLAG_SYN_ACKED 0x10
#define FLAG_DATA_SACKED 0x20
#define FLAG_DSACKING_ACK 0x800
#define FLAG_SND_UNA_ADVANCED 0x400
#define FLAG_ACKED (FLAG_DATA_ACKED | FLAG_SYN_ACKED)
#define FLAG_NOT_DUP (FLAG_DATA | FLAG_WIN_UPDATE | FLAG_ACKED)

static bool tcp_may_update_window(const struct sock *sk, uint32_t ack, uint32_t ack_seq, uint32_t nwin)
{
	return after(ack, sk->snd_una) || after(ack_seq, sk->snd_wl1) || (ack_seq == sk->snd_wl1 && (nwin > sk->snd_wnd || !nwin));
}

static int tcp_ack_update_window(struct sock *sk, const struct sk_buff *skb, uint32_t ack)
{
	const struct tcphdr *th = tcp_hdr(skb);
	uint32_t nwin = ntohs(th->window);
	int flag = 0;

	if (!(th->flags & TCPHDR_SYN))
		nwin <<= sk->rx_opt.snd_wscale;
	if (tcp_may_update_window(sk, ack, TCP_SKB_CB(skb)->seq, nwin)) {
		sk->snd_wl1 = TCP_SKB_CB(skb)->seq;
		if (sk->snd_wnd != nwin) {
			flag = FLAG_WIN_UPDATE;
			sk->snd_wnd = nwin;
		}
		if (nwin > sk->max_window)
			sk->max_window = nwin;
	}
	return flag;
}

/* ---- RTT and RTO (Linux: tcp_rtt_estimator, tcp_set_rto; RFC 6298) ---- */

static void tcp_rtt_estimator(struct sock *sk, int64_t mrtt_us)
{
	int64_t m = mrtt_us;
	uint32_t srtt = sk->srtt_us;
	uint32_t rto_min_us = TCP_RTO_MIN_MS * 1000;

	if (srtt) {
		m -= srtt >> 3;
		srtt = (uint32_t)((int64_t)srtt + m);
		if (m < 0) {
			m = -m - (sk->mdev_us >> 2);
			if (m > 0)
				m >>= 3;
		} else {
			m -= sk->mdev_us >> 2;
		}
		sk->mdev_us = (uint32_t)((int64_t)sk->mdev_us + m);
		if (sk->mdev_us > sk->mdev_max_us) {
			sk->mdev_max_us = sk->mdev_us;
			if (sk->mdev_max_us > sk->rttvar_us)
				sk->rttvar_us = sk->mdev_max_us;
		}
		if (after(sk->snd_una, sk->rtt_seq)) {
			if (sk->mdev_max_us < sk->rttvar_us)
				sk->rttvar_us -= (sk->rttvar_us - sk->mdev_max_us) >> 2;
			sk->rtt_seq = sk->snd_nxt;
			sk->mdev_max_us = rto_min_us;
		}
	} else {
		srtt = (uint32_t)(m << 3);
		sk->mdev_us = (uint32_t)(m << 1);
		sk->rttvar_us = max_t(uint32_t, sk->mdev_us, rto_min_us);
		sk->mdev_max_us = sk->rttvar_us;
		sk->rtt_seq = sk->snd_nxt;
	}
	sk->srtt_us = srtt ? srtt : 1;
}

static void tcp_set_rto(struct sock *sk)
{
	uint32_t rto_us = (sk->srtt_us >> 3) + sk->rttvar_us;
	uint32_t rto_ms = (rto_us + 999) / 1000;

	sk->icsk_rto = min_t(uint32_t, rto_ms, TCP_RTO_MAX_MS);
}

/* Prefer a sample from a never-retransmitted segment (Karn); else the
 * echoed timestamp (Linux: tcp_ack_update_rtt). */
static void tcp_ack_update_rtt(struct sock *sk, int flag, int64_t seq_rtt_us)
{
	if (seq_rtt_us < 0 && sk->rx_opt.saw_tstamp && sk->rx_opt.rcv_tsecr && (flag & FLAG_ACKED)) {
		uint32_t delta = stack_jiffies(sk->st) - sk->rx_opt.rcv_tsecr;
		if (delta < INT32_MAX / 1000)
			seq_rtt_us = (int64_t)(delta ? delta : 1) * 1000;
	}
	if (seq_rtt_us < 0)
		return;
	if ((uint32_t)seq_rtt_us < sk->min_rtt_us)
		sk->min_rtt_us = (uint32_t)seq_rtt_us;
	tcp_rtt_estimator(sk, seq_rtt_us);
	tcp_set_rto(sk);
	sk->icsk_backoff = 0;
}

/* ---- the SACK scoreboard (Linux: tcp_sacktag_write_queue) ---- */

static void tcp_dsack_seen(struct sock *sk, uint32_t start, uint32_t end, uint32_t prior_snd_una);

/* SACK blocks of the segment, validated against what we sent. */
static int tcp_read_sack_blocks(const struct sk_buff *skb, uint32_t blocks[4][2])
{
	const struct tcphdr *th = tcp_hdr(skb);
	const uint8_t *p = (const uint8_t *)(th + 1);
	int len = (int)tcp_hdrlen(skb) - (int)sizeof(*th), n = 0;

	/* Most segments carry no SACK: no room for one, or the timestamp alone
	 * in its usual layout. */
	if (len < 10 || (len == TCPOLEN_TSTAMP_ALIGNED && p[0] == TCPOPT_NOP && p[1] == TCPOPT_NOP &&
			 p[2] == TCPOPT_TIMESTAMP && p[3] == TCPOLEN_TIMESTAMP))
		return 0;
	while (len > 0) {
		uint8_t kind = p[0], olen;
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			p++, len--;
			continue;
		}
		if (len < 2 || (olen = p[1]) < 2 || olen > len)
			break;
		if (kind == TCPOPT_SACK && olen >= 10 && (olen - 2) % 8 == 0) {
			for (int i = 0; i < (olen - 2) / 8 && n < 4; i++, n++) {
				const uint8_t *b = p + 2 + 8 * i;
				blocks[n][0] = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
				blocks[n][1] = ((uint32_t)b[4] << 24) | ((uint32_t)b[5] << 16) | ((uint32_t)b[6] << 8) | b[7];
			}
		}
		p += olen;
		len -= olen;
	}
	return n;
}

/* RFC 2883: the first block reports a duplicate (Linux: tcp_check_dsack). */
static bool tcp_check_dsack(struct sock *sk, uint32_t blocks[4][2], int n, uint32_t ack_seq, uint32_t prior_snd_una)
{
	bool dsack = false;

	if (before(blocks[0][0], ack_seq)) {
		dsack = true;
		MIB_INC(sk->st, TcpExtTCPDSACKRecv);
	} else if (n > 1 && !after(blocks[0][1], blocks[1][1]) && !before(blocks[0][0], blocks[1][0])) {
		dsack = true;
		MIB_INC(sk->st, TcpExtTCPDSACKOfoRecv);
	}
	(void)prior_snd_una;
	return dsack;
}

static bool tcp_is_sackblock_valid(const struct sock *sk, uint32_t start, uint32_t end)
{
	if (after(end, sk->snd_nxt) || !before(start, end))
		return false;
	return !before(start, sk->snd_una);
}

static void tcp_sacktag_one(struct sock *sk, struct sk_buff *skb, uint32_t *newly)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (cb->sacked & TCPCB_SACKED_ACKED)
		return;
	/* SACKed below the highest SACK without a retransmission: it was reordered. */
	if (!(cb->sacked & TCPCB_EVER_RETRANS) && sk->sacked_out && before(cb->end_seq, sk->highest_sack)) {
		sk->reord_seen = true;
		sk->reord_this_ack = true;
	}
	tcp_rack_advance(sk, cb->sacked, cb->end_seq, cb->tx_us);
	if (cb->sacked & TCPCB_SACKED_RETRANS) {
		cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
		sk->retrans_out--;
	}
	if (cb->sacked & TCPCB_LOST) {
		cb->sacked &= (uint8_t)~TCPCB_LOST;
		sk->lost_out--;
	}
	cb->sacked |= TCPCB_SACKED_ACKED;
	sk->sacked_out++;
	sk->delivered++;
	(*newly)++;
	if (after(cb->end_seq, sk->highest_sack))
		sk->highest_sack = cb->end_seq;
}

static int tcp_sacktag_write_queue(struct sock *sk, const struct sk_buff *skb, uint32_t prior_snd_una, uint32_t *newly)
{
	uint32_t blocks[4][2];
	int n, flag = 0;
	struct sk_buff *q;

	if (!sk->rx_opt.sack_ok || !(n = tcp_read_sack_blocks(skb, blocks)))
		return 0;
	if (tcp_check_dsack(sk, blocks, n, TCP_SKB_CB(skb)->ack_seq, prior_snd_una)) {
		flag |= FLAG_DSACKING_ACK;
		tcp_dsack_seen(sk, blocks[0][0], blocks[0][1], prior_snd_una);
	}
	for (int i = (flag & FLAG_DSACKING_ACK) ? 1 : 0; i < n; i++) {
		if (!tcp_is_sackblock_valid(sk, blocks[i][0], blocks[i][1])) {
			MIB_INC(sk->st, TcpExtTCPSACKDiscard);
			continue;
		}
		list_for_each_entry(q, &sk->rtx_queue.list, list) {
			struct tcp_skb_cb *cb = TCP_SKB_CB(q);
			if (!before(cb->seq, blocks[i][1]))
				break;
			if (!before(cb->seq, blocks[i][0]) && !after(cb->end_seq, blocks[i][1]) && cb->seq != cb->end_seq)
				tcp_sacktag_one(sk, q, newly);
		}
	}
	if (*newly)
		flag |= FLAG_DATA_SACKED;
	return flag;
}

/* Drop what the cumulative ACK covers (Linux: tcp_clean_rtx_queue). */
static int tcp_clean_rtx_queue(struct sock *sk, uint32_t ack, uint32_t *acked_pkts, int64_t *seq_rtt_us)
{
	uint64_t now_us = stack_now(sk->st) / NSEC_PER_USEC;
	struct sk_buff *skb, *n;
	int flag = 0;

	list_for_each_entry_safe(skb, n, &sk->rtx_queue.list, list) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (after(cb->end_seq, ack))
			break;
		if (cb->sacked & TCPCB_SACKED_RETRANS)
			sk->retrans_out--;
		if (cb->sacked & TCPCB_LOST)
			sk->lost_out--;
		if (cb->sacked & TCPCB_SACKED_ACKED) {
			sk->sacked_out--;
		} else {
			sk->delivered++;
			(*acked_pkts)++;
			if (!(cb->sacked & TCPCB_EVER_RETRANS)) {
				*seq_rtt_us = (int64_t)(now_us - cb->tx_us);
				/* A hole filled by the original transmission: reordering. */
				if (sk->sacked_out && before(cb->end_seq, sk->highest_sack)) {
					sk->reord_seen = true;
					sk->reord_this_ack = true;
				}
			}
			tcp_rack_advance(sk, cb->sacked, cb->end_seq, cb->tx_us);
		}
		flag |= (cb->tcp_flags & TCPHDR_SYN) ? FLAG_SYN_ACKED : FLAG_DATA_ACKED;
		sk->packets_out--;
		skb_unlink(skb, &sk->rtx_queue);
		kfree_skb(skb);
	}
	if (flag)
		sk_write_space(sk);
	return flag;
}

/* ---- undoing a spurious recovery (Linux: tcp_try_undo_*, RFC 3522/2883) ---- */

/* Linux's tcp_current_ssthresh: what ssthresh would be worth keeping. */
uint32_t tcp_current_ssthresh(const struct sock *sk)
{
	if (sk->ca_state == TCP_CA_CWR || sk->ca_state == TCP_CA_Recovery)
		return sk->snd_ssthresh;
	return max_t(uint32_t, sk->snd_ssthresh, (sk->snd_cwnd >> 1) + (sk->snd_cwnd >> 2));
}

void tcp_init_undo(struct sock *sk)
{
	sk->undo_marker = sk->snd_una;
	/* Retransmissions still in flight may be D-SACKed later. */
	sk->undo_retrans = sk->retrans_out ? (int32_t)sk->retrans_out : -1;
}

/* The ACK echoes a timestamp sent before the first retransmission: the
 * original arrived, nothing was lost (Eifel, RFC 3522). */
static bool tcp_packet_delayed(const struct sock *sk)
{
	return sk->retrans_stamp && sk->rx_opt.saw_tstamp && sk->rx_opt.rcv_tsecr &&
	       before(sk->rx_opt.rcv_tsecr, (uint32_t)sk->retrans_stamp);
}

static bool tcp_may_undo(const struct sock *sk)
{
	return sk->undo_marker && (!sk->undo_retrans || tcp_packet_delayed(sk));
}

static void tcp_undo_cwnd_reduction(struct sock *sk, bool unmark_loss)
{
	if (unmark_loss) {
		struct sk_buff *skb;
		list_for_each_entry(skb, &sk->rtx_queue.list, list)
			TCP_SKB_CB(skb)->sacked &= (uint8_t)~TCPCB_LOST;
		sk->lost_out = 0;
	}
	if (sk->prior_ssthresh) {
		sk->snd_cwnd = sk->ca_ops->undo_cwnd(sk);
		if (sk->prior_ssthresh > sk->snd_ssthresh)
			sk->snd_ssthresh = sk->prior_ssthresh;
	}
	sk->snd_cwnd_stamp = stack_jiffies(sk->st);
	sk->undo_marker = 0;
	sk->rack_advanced = true;
	trace_event(sk->st, "tcp_undo_cwnd_reduction", "cwnd %u ssthresh %u", sk->snd_cwnd, sk->snd_ssthresh);
}

/* A D-SACK for a retransmission of this episode (Linux: tcp_dsack_seen). */
static void tcp_dsack_seen(struct sock *sk, uint32_t start, uint32_t end, uint32_t prior_snd_una)
{
	uint32_t segs = (end - start + sk->mss_cache - 1) / (sk->mss_cache ? sk->mss_cache : 1);

	/* A D-SACK proves reordering: RACK widens its window (Linux:
	 * tcp_rack_update_reo_wnd, without its decay). */
	sk->reord_seen = true;
	if (sk->rack_reo_wnd_steps < 0xff)
		sk->rack_reo_wnd_steps = sk->rack_reo_wnd_steps ? sk->rack_reo_wnd_steps + 1 : 2;

	if (sk->undo_marker && sk->undo_retrans > 0 && !after(end, prior_snd_una) && after(end, sk->undo_marker))
		sk->undo_retrans = sk->undo_retrans > (int32_t)segs ? sk->undo_retrans - (int32_t)segs : 0;
}

static bool tcp_try_undo_dsack(struct sock *sk)
{
	if (sk->undo_marker && !sk->undo_retrans) {
		tcp_undo_cwnd_reduction(sk, false);
		MIB_INC(sk->st, TcpExtTCPDSACKUndo);
		return true;
	}
	return false;
}

/* After an RTO: the first new ACK may show the timeout was spurious
 * (Linux: tcp_try_undo_loss). */
static bool tcp_try_undo_loss(struct sock *sk)
{
	if (!tcp_may_undo(sk))
		return false;
	tcp_undo_cwnd_reduction(sk, true);
	/* TCPSpuriousRTOs counts F-RTO undos only, which synack does not do. */
	MIB_INC(sk->st, TcpExtTCPLossUndo);
	sk->icsk_retransmits = 0;
	if (sk->rx_opt.sack_ok)
		tcp_set_ca_state(sk, TCP_CA_Open);
	return true;
}

/* Recovery is over: undo it if it was spurious (Linux: tcp_try_undo_recovery). */
static bool tcp_try_undo_recovery(struct sock *sk)
{
	if (tcp_may_undo(sk)) {
		tcp_undo_cwnd_reduction(sk, false);
		sk->st->mib[sk->ca_state == TCP_CA_Loss ? MIB_TcpExtTCPLossUndo : MIB_TcpExtTCPFullUndo]++;
		return true;
	}
	return false;
}

/* ---- loss recovery (Linux: tcp_fastretrans_alert, PRR of RFC 6937) ---- */

static bool tcp_is_sack(const struct sock *sk) { return sk->rx_opt.sack_ok; }

/* Without SACK, duplicate ACKs stand in for SACKed segments (Linux:
 * tcp_add_reno_sack / tcp_remove_reno_sacks). */
static void tcp_add_reno_sack(struct sock *sk)
{
	if (sk->sacked_out + sk->lost_out + 1 < sk->packets_out) {
		sk->sacked_out++;
		sk->delivered++;
	}
}

static void tcp_remove_reno_sacks(struct sock *sk, uint32_t acked)
{
	if (!acked)
		return;
	sk->sacked_out = acked - 1 >= sk->sacked_out ? 0 : sk->sacked_out - (acked - 1);
}

void tcp_mark_skb_lost(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (cb->sacked & TCPCB_SACKED_ACKED)
		return;
	if (cb->sacked & TCPCB_LOST) {
		/* A retransmission lost again: it may go once more (Linux:
		 * tcp_mark_skb_lost accounting TCPLostRetransmit). */
		if (cb->sacked & TCPCB_SACKED_RETRANS) {
			cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
			sk->retrans_out--;
			MIB_INC(sk->st, TcpExtTCPLostRetransmit);
		}
		return;
	}
	cb->sacked |= TCPCB_LOST;
	sk->lost_out++;
}

/* RFC 6675's IsLost, simplified: with SACK every hole below the highest
 * SACKed segment is lost once the scoreboard shows reordering is ruled
 * out; without SACK the head is. */
static void tcp_mark_lost(struct sock *sk)
{
	struct sk_buff *skb;

	if (list_empty(&sk->rtx_queue.list))
		return;
	if (!tcp_is_sack(sk)) {
		skb = list_first_entry(&sk->rtx_queue.list, struct sk_buff, list);
		if (!(TCP_SKB_CB(skb)->sacked & TCPCB_SACKED_RETRANS))
			tcp_mark_skb_lost(sk, skb);
		return;
	}
	list_for_each_entry(skb, &sk->rtx_queue.list, list) {
		if (!before(TCP_SKB_CB(skb)->seq, sk->highest_sack))
			break;
		if (!(TCP_SKB_CB(skb)->sacked & TCPCB_SACKED_RETRANS))
			tcp_mark_skb_lost(sk, skb);
	}
}

static void tcp_init_cwnd_reduction(struct sock *sk)
{
	sk->high_seq = sk->snd_nxt;
	sk->prior_cwnd = sk->snd_cwnd;
	sk->prr_delivered = 0;
	sk->prr_out = 0;
	sk->snd_ssthresh = sk->ca_ops->ssthresh(sk);
}

/* PRR (RFC 6937): send in proportion to what is delivered (Linux: tcp_cwnd_reduction). */
void tcp_cwnd_reduction(struct sock *sk, uint32_t newly_acked_sacked, bool snd_una_advanced)
{
	/* 64 bits: an infinite ssthresh less a count that left_out pushed
	 * below zero would overflow an int (found by the soak under UBSan). */
	int64_t delta = (int64_t)sk->snd_ssthresh - (int32_t)tcp_packets_in_flight(sk);
	int32_t sndcnt;

	if (!newly_acked_sacked || !sk->prior_cwnd)
		return;
	sk->prr_delivered += newly_acked_sacked;
	if (delta < 0) {
		uint64_t dividend = (uint64_t)sk->snd_ssthresh * sk->prr_delivered + sk->prior_cwnd - 1;
		sndcnt = (int32_t)(dividend / sk->prior_cwnd) - (int32_t)sk->prr_out;
	} else {
		sndcnt = max_t(int32_t, (int32_t)(sk->prr_delivered - sk->prr_out), (int32_t)newly_acked_sacked);
		if (snd_una_advanced)
			sndcnt++;
		sndcnt = (int32_t)min_t(int64_t, delta, sndcnt);
	}
	sndcnt = max_t(int32_t, sndcnt, sk->prr_out ? 0 : 1);
	sk->snd_cwnd = tcp_packets_in_flight(sk) + (uint32_t)sndcnt;
}

void tcp_enter_recovery(struct sock *sk)
{
	sk->st->mib[tcp_is_sack(sk) ? MIB_TcpExtTCPSackRecovery : MIB_TcpExtTCPRenoRecovery]++;
	sk->prior_ssthresh = tcp_current_ssthresh(sk);
	tcp_init_undo(sk);
	tcp_init_cwnd_reduction(sk);
	tcp_set_ca_state(sk, TCP_CA_Recovery);
	trace_event(sk->st, "tcp_enter_recovery", "snd_una %u high_seq %u cwnd %u ssthresh %u", sk->snd_una,
		    sk->high_seq, sk->prior_cwnd, sk->snd_ssthresh);
}

static void tcp_end_recovery(struct sock *sk)
{
	bool undone = tcp_try_undo_recovery(sk);

	if (!undone && (sk->ca_state == TCP_CA_Recovery || sk->ca_state == TCP_CA_CWR))
		sk->snd_cwnd = sk->snd_ssthresh;
	/* undo_marker stays: a late D-SACK may still show this recovery
	 * spurious (tcp_try_undo_dsack in Open/Disorder, as Linux). */
	sk->retrans_stamp = 0;
	tcp_set_ca_state(sk, TCP_CA_Open);
	tcp_ca_event(sk, CA_EVENT_COMPLETE_CWR);
	sk->snd_cwnd_stamp = stack_jiffies(sk->st);
}

/* Linux's tcp_fastretrans_alert, reduced: enter recovery on three
 * duplicate ACKs (or SACKed segments), leave it at high_seq, repair holes. */
static void tcp_fastretrans_alert(struct sock *sk, int flag, uint32_t newly_acked_sacked)
{
	uint32_t reordering = (uint32_t)sk->st->sysctl.tcp_reordering;

	if (!sk->packets_out && sk->sacked_out)
		sk->sacked_out = 0;
	/* RACK decides what is lost on SACK connections (tcp_recovery = 1). */
	if (tcp_is_sack(sk) && sk->st->sysctl.tcp_recovery & 1)
		tcp_rack_mark_lost(sk);
	else if (tcp_is_sack(sk) && sk->sacked_out >= reordering)
		tcp_mark_lost(sk);
	switch (sk->ca_state) {
	case TCP_CA_Recovery:
	case TCP_CA_Loss:
		if (sk->ca_state == TCP_CA_Loss && (flag & FLAG_SND_UNA_ADVANCED) && tcp_try_undo_loss(sk))
			break;
		if (sk->ca_state == TCP_CA_Recovery && (flag & FLAG_DSACKING_ACK) && tcp_try_undo_dsack(sk)) {
			tcp_set_ca_state(sk, TCP_CA_Open);
			break;
		}
		if (!before(sk->snd_una, sk->high_seq)) {
			/* NewReno holds the state until something above high_seq
			 * is acknowledged (RFC 6582; Linux: tcp_try_undo_recovery). */
			if (!tcp_is_sack(sk)) {
				sk->sacked_out = 0;
				if (sk->snd_una == sk->high_seq && sk->ca_state == TCP_CA_Recovery)
					break;
			}
			tcp_end_recovery(sk);
			break;
		}
		if (sk->ca_state == TCP_CA_Recovery && !tcp_is_sack(sk) && (flag & FLAG_SND_UNA_ADVANCED))
			tcp_mark_lost(sk);
		break;
	default:
		if ((flag & FLAG_DSACKING_ACK) && tcp_try_undo_dsack(sk))
			break;
		if (tcp_is_sack(sk) ? sk->lost_out != 0 : sk->sacked_out >= reordering) {
			if (!tcp_is_sack(sk))
				tcp_mark_lost(sk);
			if (sk->lost_out) {
				tcp_enter_recovery(sk);
				MIB_INC(sk->st, TcpExtTCPFastRetrans);
			}
		} else if (sk->sacked_out) {
			tcp_set_ca_state(sk, TCP_CA_Disorder);
		} else if (sk->ca_state == TCP_CA_Disorder) {
			tcp_set_ca_state(sk, TCP_CA_Open);
		}
	}
	if (sk->ca_state == TCP_CA_Recovery)
		tcp_cwnd_reduction(sk, newly_acked_sacked, flag & FLAG_SND_UNA_ADVANCED);
}

/* Grow cwnd outside recovery (Linux: tcp_cong_control). */
static void tcp_cong_control(struct sock *sk, uint32_t ack, uint32_t acked_sacked, uint32_t prior_packets_out,
			     int64_t rtt_us, int flag)
{
	struct ack_sample sample = { .pkts_acked = acked_sacked, .rtt_us = (int32_t)rtt_us,
				     .in_flight = tcp_packets_in_flight(sk) };

	if (sk->ca_ops->pkts_acked && acked_sacked)
		sk->ca_ops->pkts_acked(sk, &sample);
	if (sk->ca_state == TCP_CA_Recovery || sk->ca_state == TCP_CA_CWR || !acked_sacked)
		return;
	/* RFC 5681: grow only on in-order delivery (Linux: tcp_may_raise_cwnd). */
	if (!(flag & FLAG_DATA_ACKED))
		return;
	/* In slow start, cwnd may grow to twice what was in flight. */
	if (!sk->is_cwnd_limited && tcp_in_slow_start(sk) && sk->snd_cwnd < 2 * prior_packets_out)
		sk->is_cwnd_limited = true;
	sk->ca_ops->cong_avoid(sk, ack, acked_sacked);
	sk->snd_cwnd_stamp = stack_jiffies(sk->st);
}

/* While probing a zero window: stop if it opened, else probe again from
 * now with the current backoff (Linux: tcp_ack_probe). */
static void tcp_ack_probe(struct sock *sk)
{
	struct sk_buff *head = list_first_entry(&sk->write_queue.list, struct sk_buff, list);

	if (!after(TCP_SKB_CB(head)->end_seq, sk->snd_una + sk->snd_wnd)) {
		sk->icsk_backoff = 0;
		if (sk->icsk_pending == ICSK_TIME_PROBE0) {
			sk->icsk_pending = 0;
			del_timer(sk->st, &sk->retransmit_timer);
		}
		return;
	}
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_PROBE0, tcp_probe0_when(sk));
}

/* Linux's tcp_sndbuf_expand: room for twice the larger of cwnd and the
 * initial window, at Linux's per-segment memory cost. */
void tcp_sndbuf_expand(struct sock *sk)
{
	uint32_t per_mss = 2304; /* roundup_pow_of_two(mss + headers) + skb overhead in Linux */
	uint32_t nr_segs = max_t(uint32_t, TCP_INIT_CWND, sk->snd_cwnd);
	uint64_t sndmem;

	nr_segs = max_t(uint32_t, nr_segs, (uint32_t)sk->st->sysctl.tcp_reordering + 1);
	sndmem = 2ULL * nr_segs * per_mss;
	if (sk->sk_sndbuf < sndmem)
		sk->sk_sndbuf = (uint32_t)min_t(uint64_t, sndmem, (uint64_t)sk->st->sysctl.tcp_wmem_max);
}

/* Linux's tcp_ack: > 0 ok, 0 an old ACK to ignore, < 0 one to drop. */
static int tcp_ack(struct sock *sk, const struct sk_buff *skb, bool no_challenge, bool update_ts)
{
	uint32_t ack = TCP_SKB_CB(skb)->ack_seq;
	uint32_t prior_snd_una = sk->snd_una, prior_packets_out = sk->packets_out;
	uint32_t prior_sacked = sk->sacked_out, acked_pkts = 0, newly_sacked = 0;
	int64_t seq_rtt_us = -1;
	int flag = 0;

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
	/* Any acceptable ACK shows the peer alive (keepalive idle time). */
	sk->rcv_tstamp = stack_jiffies(sk->st);
	sk->probes_out = 0;
	if (TCP_SKB_CB(skb)->seq != TCP_SKB_CB(skb)->end_seq)
		flag |= FLAG_DATA;
	flag |= tcp_ack_update_window(sk, skb, ack);
	flag |= tcp_sacktag_write_queue(sk, skb, prior_snd_una, &newly_sacked);
	if (after(ack, prior_snd_una)) {
		flag |= FLAG_SND_UNA_ADVANCED;
		sk->bytes_acked += ack - prior_snd_una;
		sk->snd_una = ack;
		sk->icsk_retransmits = 0;
	}
	flag |= tcp_clean_rtx_queue(sk, ack, &acked_pkts, &seq_rtt_us);
	if (!tcp_is_sack(sk) && (flag & FLAG_SND_UNA_ADVANCED))
		tcp_remove_reno_sacks(sk, acked_pkts);
	/* Reordering is counted once per ACK (Linux: tcp_check_sack_reordering). */
	if (sk->reord_this_ack) {
		sk->reord_this_ack = false;
		MIB_INC(sk->st, TcpExtTCPSACKReorder);
	}
	if (update_ts)
		tcp_replace_ts_recent(sk, TCP_SKB_CB(skb)->seq);
	tcp_ack_update_rtt(sk, flag, seq_rtt_us);
	if (sk->c.state == TCP_SYN_SENT) {
		/* The SYN is acknowledged: its retransmission timer stops. */
		tcp_rearm_rto(sk);
		return 1;
	}
	if (!tcp_is_sack(sk) && prior_packets_out && !(flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP)))
		tcp_add_reno_sack(sk);
	if (prior_packets_out) {
		uint32_t delivered = acked_pkts + newly_sacked +
				     (!tcp_is_sack(sk) && sk->sacked_out > prior_sacked ? sk->sacked_out - prior_sacked : 0);
		tcp_process_tlp_ack(sk, ack, flag & FLAG_DSACKING_ACK);
		tcp_fastretrans_alert(sk, flag, delivered);
		tcp_cong_control(sk, ack, delivered, prior_packets_out, seq_rtt_us, flag);
		tcp_xmit_retransmit_queue(sk);
	}
	if (!sk->packets_out && !list_empty(&sk->write_queue.list))
		tcp_ack_probe(sk);
	else if (!sk->sndbuf_locked && tcp_packets_in_flight(sk) < sk->snd_cwnd)
		tcp_sndbuf_expand(sk);
	/* Linux's tcp_set_xmit_timer: a loss probe, or the RTO - unless RACK's
	 * reordering timer is waiting. */
	if ((flag & FLAG_SND_UNA_ADVANCED || !sk->packets_out) && sk->icsk_pending != ICSK_TIME_REO_TIMEOUT) {
		if (!tcp_schedule_loss_probe(sk, true))
			tcp_rearm_rto(sk);
	}
	return 1;
}

/* ---- receiving data (Linux: tcp_data_queue, tcp_data_queue_ofo, tcp_ofo_queue) ---- */

static bool tcp_in_quickack_mode(const struct sock *sk) { return sk->icsk_ack.quick && !sk->icsk_ack.pingpong; }

/* The peer's segment size, for ACK decisions (Linux: tcp_measure_rcv_mss). */
static void tcp_measure_rcv_mss(struct sock *sk, uint32_t len)
{
	if (len >= sk->rcv_mss)
		sk->rcv_mss = (uint16_t)min_t(uint32_t, len, sk->advmss);
}

/* ---- receive-side autotuning (Linux: tcp_rcv_rtt_*, tcp_grow_window,
 * tcp_rcv_space_adjust) ---- */

/* The low 32 bits of the stack clock in us: enough for the deltas here. */
static uint32_t tcp_us32(const struct sock *sk) { return (uint32_t)(stack_now(sk->st) / NSEC_PER_USEC); }

/* A sample from a window's worth of data only ever lowers the estimate (the
 * sender may have paused within it); one from a timestamp moves it by 1/8. */
static void tcp_rcv_rtt_update(struct sock *sk, uint32_t sample_us, bool win_dep)
{
	uint32_t est = sk->rcv_rtt_est.rtt_us;

	sample_us = min_t(uint32_t, sample_us, UINT32_MAX >> 3);
	if (!est)
		est = sample_us << 3;
	else if (!win_dep)
		est = est - (est >> 3) + sample_us;
	else if (sample_us << 3 < est)
		est = sample_us << 3;
	sk->rcv_rtt_est.rtt_us = est;
}

/* Without timestamps: the time it takes the peer to fill the window we
 * offered is at least an RTT. */
static void tcp_rcv_rtt_measure(struct sock *sk)
{
	uint32_t now = tcp_us32(sk) | 1; /* 0 means no sample running */

	if (sk->rcv_rtt_est.time) {
		if (before(sk->rcv_nxt, sk->rcv_rtt_est.seq))
			return;
		tcp_rcv_rtt_update(sk, max_t(uint32_t, now - sk->rcv_rtt_est.time, 1), true);
	}
	sk->rcv_rtt_est.seq = sk->rcv_nxt + sk->rcv_wnd;
	sk->rcv_rtt_est.time = now;
}

/* With timestamps: a full segment echoing one of our TSvals for the first
 * time is an RTT sample (in our 1 ms TS units). */
static void tcp_rcv_rtt_measure_ts(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t delta;

	if (!sk->rx_opt.saw_tstamp || !sk->rx_opt.rcv_tsecr || sk->rx_opt.rcv_tsecr == sk->rcv_rtt_last_tsecr)
		return;
	sk->rcv_rtt_last_tsecr = sk->rx_opt.rcv_tsecr;
	if (cb->end_seq - cb->seq < sk->rcv_mss)
		return;
	delta = stack_jiffies(sk->st) - sk->rx_opt.rcv_tsecr; /* tcp_fast_parse_options took tsoffset off */
	if (delta < INT32_MAX / 1000)
		tcp_rcv_rtt_update(sk, max_t(uint32_t, delta, 1) * 1000, false);
}

/* Let the offered window (rcv_ssthresh) grow towards what the buffer
 * allows, as the data arriving shows the sender can use it. The receive
 * memory model charges exactly twice the payload (tcp_rmem_alloc), so
 * Linux's check of the skb's overhead always passes and the step is
 * always two segments or two of these. */
static void tcp_grow_window(struct sock *sk, uint32_t len)
{
	int64_t room = (int64_t)min_t(uint32_t, sk->window_clamp, (uint32_t)tcp_space(sk)) - sk->rcv_ssthresh;
	uint32_t incr = max_t(uint32_t, 2u * sk->advmss, 2 * len);

	if (room <= 0)
		return;
	sk->rcv_ssthresh += (uint32_t)min_t(int64_t, room, incr);
	/* Announce the larger window at once. */
	if (!sk->icsk_ack.quick)
		sk->icsk_ack.quick = 1;
}

/* Twice what the user read in an RTT rides out a loss; the growth over the
 * RTT before, doubled, keeps up with a sender still in slow start (the
 * window announced now governs the next RTT, not this one). */
static void tcp_rcvbuf_grow(struct sock *sk, uint32_t copied)
{
	uint32_t prev = max_t(uint32_t, sk->rcvq_space.space, 1);
	uint64_t rcvwin = ((uint64_t)copied << 1) + 16u * sk->advmss;
	uint64_t rcvbuf;

	rcvwin += (rcvwin * (copied - prev) / prev) << 1;
	rcvbuf = min_t(uint64_t, tcp_space_from_win(rcvwin), (uint64_t)sk->st->sysctl.tcp_rmem_max);
	if (rcvbuf > sk->sk_rcvbuf) {
		sk->sk_rcvbuf = (uint32_t)rcvbuf;
		sk->window_clamp = (uint32_t)tcp_full_space(sk->sk_rcvbuf);
	}
}

/* Linux's tcp_rcv_space_adjust, once per read: when the user drained more
 * in the last receiver RTT than the one before, grow the buffer (and with
 * it the window clamp) to twice that plus room for the sender's slow start. */
void tcp_rcv_space_adjust(struct sock *sk)
{
	uint32_t now = tcp_us32(sk), copied;

	if (!sk->rcv_rtt_est.rtt_us || now - sk->rcvq_space.time < (sk->rcv_rtt_est.rtt_us >> 3))
		return;
	copied = sk->copied_seq - sk->rcvq_space.seq;
	if (copied > sk->rcvq_space.space) {
		if (sk->st->sysctl.tcp_moderate_rcvbuf && !sk->rcvbuf_locked)
			tcp_rcvbuf_grow(sk, copied);
		sk->rcvq_space.space = copied;
	}
	sk->rcvq_space.seq = sk->copied_seq;
	sk->rcvq_space.time = now;
}

/* Linux's tcp_event_data_recv: adapt the delayed-ACK timeout to the
 * inter-arrival time; measure the receiver's RTT and grow the window. len
 * is the skb's data, seg_len the size of the wire segments it came in. */
static void tcp_event_data_recv(struct sock *sk, uint32_t len, uint32_t seg_len)
{
	uint32_t now = stack_jiffies(sk->st);

	tcp_measure_rcv_mss(sk, seg_len);
	tcp_rcv_rtt_measure(sk);
	if (!sk->icsk_ack.ato) {
		tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
	} else {
		uint32_t m = now - sk->icsk_ack.lrcvtime;
		if (m <= TCP_ATO_MIN_MS / 2) {
			sk->icsk_ack.ato = (sk->icsk_ack.ato >> 1) + TCP_ATO_MIN_MS / 2;
		} else if (m < sk->icsk_ack.ato) {
			sk->icsk_ack.ato = (sk->icsk_ack.ato >> 1) + m;
			if (sk->icsk_ack.ato > sk->icsk_rto)
				sk->icsk_ack.ato = sk->icsk_rto;
		} else if (m > sk->icsk_rto) {
			/* A long pause: restart with quick ACKs. */
			tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
		}
	}
	sk->icsk_ack.lrcvtime = now;
	/* Tiny segments say nothing about the sender's appetite. */
	if (len >= 128)
		tcp_grow_window(sk, len);
}

/* Linux's __tcp_ack_snd_check: now, or after the delayed-ACK timeout. */
static void tcp_ack_snd_check(struct sock *sk)
{
	if (sk->icsk_ack.pending) {
		if ((sk->rcv_nxt - sk->rcv_wup > sk->rcv_mss && tcp_select_window_peek(sk) >= sk->rcv_wnd) ||
		    tcp_in_quickack_mode(sk) || sk->icsk_ack.now || !tcp_ooo_empty(sk)) {
			sk->icsk_ack.now = false;
			tcp_send_ack(sk);
		} else {
			tcp_send_delayed_ack(sk);
		}
	}
	/* Nothing below here walks the out-of-order queue: a safe point to
	 * give its state back once the ACK carried the last SACK. */
	tcp_ooo_put(sk);
}

/* ---- out-of-order state (struct tcp_ooo) ---- */

struct tcp_ooo *tcp_ooo_get(struct sock *sk)
{
	if (!sk->ooo) {
		sk->ooo = calloc(1, sizeof(*sk->ooo));
		if (sk->ooo)
			skb_queue_head_init(&sk->ooo->queue);
	}
	return sk->ooo;
}

void tcp_ooo_put(struct sock *sk)
{
	struct tcp_ooo *o = sk->ooo;

	if (o && !o->queue.qlen && !o->num_sacks && !o->dsack) {
		free(o);
		sk->ooo = NULL;
	}
}

/* Drop the held segments; what is owed to the peer stays (Linux purges
 * out_of_order_queue alone too). */
void tcp_ooo_purge(struct sock *sk)
{
	if (sk->ooo)
		skb_queue_purge(&sk->ooo->queue);
}

void tcp_ooo_free(struct sock *sk)
{
	tcp_ooo_purge(sk);
	free(sk->ooo);
	sk->ooo = NULL;
}

/* Linux's tcp_dsack_set (sysctl tcp_dsack). */
static void tcp_dsack_set(struct sock *sk, uint32_t seq, uint32_t end_seq)
{
	struct tcp_ooo *o;

	if (!sk->rx_opt.sack_ok || !sk->st->sysctl.tcp_dsack)
		return;
	/* Without memory the D-SACK is not sent, and so not counted. */
	o = tcp_ooo_get(sk);
	if (!o)
		return;
	sk->st->mib[before(seq, sk->rcv_nxt) ? MIB_TcpExtTCPDSACKOldSent : MIB_TcpExtTCPDSACKOfoSent]++;
	o->dsack = true;
	o->dsack_start = seq;
	o->dsack_end = end_seq;
}

/* Linux's tcp_dsack_extend: a duplicate range that touches the pending
 * D-SACK widens it (tcp_sack_extend); with none pending it starts one. */
static void tcp_dsack_extend(struct sock *sk, uint32_t seq, uint32_t end_seq)
{
	struct tcp_ooo *o = sk->ooo;

	if (!o || !o->dsack) {
		tcp_dsack_set(sk, seq, end_seq);
		return;
	}
	if (after(seq, o->dsack_end) || after(o->dsack_start, end_seq))
		return;
	if (before(seq, o->dsack_start))
		o->dsack_start = seq;
	if (after(end_seq, o->dsack_end))
		o->dsack_end = end_seq;
}

/* The SACK blocks describe the out-of-order queue: the block holding the
 * newest segment first, then the others (RFC 2018 4). */
static void tcp_sack_rebuild(struct tcp_ooo *o, uint32_t newest_seq)
{
	struct sk_buff *skb;
	uint32_t ranges[16][2];
	int n = 0, first = -1;

	list_for_each_entry(skb, &o->queue.list, list) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		if (n && !after(cb->seq, ranges[n - 1][1])) {
			if (after(cb->end_seq, ranges[n - 1][1]))
				ranges[n - 1][1] = cb->end_seq;
		} else if (n < 16) {
			ranges[n][0] = cb->seq;
			ranges[n][1] = cb->end_seq;
			n++;
		}
	}
	for (int i = 0; i < n; i++)
		if (!before(newest_seq, ranges[i][0]) && before(newest_seq, ranges[i][1]))
			first = i;
	o->num_sacks = 0;
	if (first >= 0) {
		o->selective_acks[0][0] = ranges[first][0];
		o->selective_acks[0][1] = ranges[first][1];
		o->num_sacks = 1;
	}
	for (int i = n - 1; i >= 0 && o->num_sacks < 4; i--) {
		if (i == first)
			continue;
		o->selective_acks[o->num_sacks][0] = ranges[i][0];
		o->selective_acks[o->num_sacks][1] = ranges[i][1];
		o->num_sacks++;
	}
}

/* Keep skb's payload from seq on: a new skb for the receive queues. */
static struct sk_buff *tcp_payload_from(struct sk_buff *skb, uint32_t seq)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t hlen = tcp_hdrlen(skb), datalen = skb->len - hlen, skip = seq - cb->seq;
	struct sk_buff *data;

	if (skip > datalen)
		skip = datalen;
	data = skb_clone(skb);
	if (!data)
		return NULL;
	skb_pull(data, hlen + skip);
	TCP_SKB_CB(data)->seq = cb->seq + skip;
	TCP_SKB_CB(data)->end_seq = cb->end_seq;
	TCP_SKB_CB(data)->tcp_flags = cb->tcp_flags;
	if (cb->tcp_flags & TCPHDR_SYN && skip == 0)
		TCP_SKB_CB(data)->seq++;
	return data;
}

/* Bytes held for the user, in order or not (Linux: sk_rmem_alloc). */
static uint64_t tcp_rmem_used(const struct sock *sk) { return tcp_rmem_alloc(sk); }

/* What a queued skb really occupies: its buffer and its header (Linux's
 * truesize). A one-byte segment holds a whole receive buffer. */
static uint32_t tcp_skb_truesize(const struct sk_buff *skb)
{
	return skb->shinfo->size + (uint32_t)sizeof(*skb);
}

/* Merged segments (GRO, a TAP's GSO frames) may fill a small part of a
 * 64 KiB buffer: out of order, where each skb is charged its buffer, such
 * a one moves to a buffer of its size rather than crowd out the window's
 * worth of data it stands for (Linux charges the page fragments GRO
 * chained, which fit). */
static struct sk_buff *tcp_ofo_fit(struct sk_buff *data)
{
	struct sk_buff *c;

	if (data->shinfo->size <= SKB_POOL_DATA ||
	    data->shinfo->size <= 2 * ((uint64_t)skb_headroom(data) + data->len) || !(c = skb_copy_fit(data)))
		return data;
	kfree_skb(data);
	return c;
}

/* Linux's sk_rmem_alloc: the truesize of everything queued for the user. */
static uint64_t tcp_rmem_truesize(const struct sock *sk)
{
	const struct sk_buff *skb;
	uint64_t n = 0;

	list_for_each_entry(skb, &sk->receive_queue.list, list)
		n += tcp_skb_truesize(skb);
	if (sk->ooo)
		list_for_each_entry(skb, &sk->ooo->queue.list, list)
			n += tcp_skb_truesize(skb);
	return n;
}

/* Linux's tcp_try_coalesce: in-order data that fits behind the last queued
 * skb is copied there, so a stream of small segments does not keep one
 * buffer each. Consumes data on success. */
static bool tcp_try_coalesce(struct sock *sk, struct sk_buff *data)
{
	struct sk_buff *tail;

	if (list_empty(&sk->receive_queue.list))
		return false;
	tail = list_entry(sk->receive_queue.list.prev, struct sk_buff, list);
	if (TCP_SKB_CB(tail)->end_seq != TCP_SKB_CB(data)->seq || skb_cloned(tail) ||
	    skb_tailroom(tail) < data->len)
		return false;
	memcpy(skb_put(tail, data->len), data->data, data->len);
	TCP_SKB_CB(tail)->end_seq = TCP_SKB_CB(data)->end_seq;
	sk->receive_queue.bytes += data->len;
	kfree_skb(data);
	return true;
}

/* Append an in-order skb (data and/or FIN) to the receive queue; true if
 * it carried a FIN, which the caller then takes (tcp_fin) once it is done
 * with the data, as Linux's tcp_data_queue does. */
static bool tcp_queue_rcv(struct sock *sk, struct sk_buff *data)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(data);
	bool fin = cb->tcp_flags & TCPHDR_FIN;

	sk->rcv_nxt = cb->end_seq;
	sk->bytes_received += data->len;
	if (data->len) {
		cb->end_seq = cb->seq + data->len;
		if (!tcp_try_coalesce(sk, data))
			skb_queue_tail(&sk->receive_queue, data);
		sk_data_ready(sk);
	} else {
		kfree_skb(data);
	}
	return fin;
}

/* Move what became contiguous from the out-of-order queue (Linux: tcp_ofo_queue). */
static void tcp_ofo_queue(struct sock *sk)
{
	struct tcp_ooo *o = sk->ooo; /* only tcp_ooo_put frees it, never below here */

	/* The head is read afresh each time: a FIN queued below purges the
	 * whole queue (tcp_fin), so a saved next pointer would dangle. */
	while (!list_empty(&o->queue.list)) {
		struct sk_buff *skb = list_first_entry(&o->queue.list, struct sk_buff, list);
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (after(cb->seq, sk->rcv_nxt))
			break;
		skb_unlink(skb, &o->queue);
		if (!after(cb->end_seq, sk->rcv_nxt)) {
			tcp_dsack_set(sk, cb->seq, cb->end_seq);
			kfree_skb(skb);
			continue;
		}
		if (before(cb->seq, sk->rcv_nxt)) {
			uint32_t trim = sk->rcv_nxt - cb->seq;
			skb_pull(skb, trim);
			cb->seq = sk->rcv_nxt;
		}
		if (tcp_queue_rcv(sk, skb))
			tcp_fin(sk);
	}
}

/* Insert into the out-of-order queue by seq; exact and covered duplicates
 * are D-SACKed (Linux: tcp_data_queue_ofo, with a list for the rbtree). */
static void tcp_data_queue_ofo(struct sock *sk, struct sk_buff *data)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(data);
	struct tcp_ooo *o = tcp_ooo_get(sk);
	struct sk_buff *q, *n;
	struct list_head *pos;

	if (!o) {
		/* No memory for the queue: drop, as Linux does when it cannot
		 * charge the segment (tcp_try_rmem_schedule failing). */
		MIB_INC(sk->st, TcpExtTCPOFODrop);
		kfree_skb(data);
		return;
	}
	pos = &o->queue.list;
	MIB_INC(sk->st, TcpExtTCPOFOQueue);
	sk->icsk_ack.pending = true;
	list_for_each_entry(q, &o->queue.list, list) {
		struct tcp_skb_cb *qc = TCP_SKB_CB(q);
		if (!before(cb->seq, qc->seq) && !after(cb->end_seq, qc->end_seq)) {
			/* Entirely inside what we hold already. */
			MIB_INC(sk->st, TcpExtTCPOFOMerge);
			tcp_dsack_set(sk, cb->seq, cb->end_seq);
			kfree_skb(data);
			return;
		}
		if (after(qc->seq, cb->seq)) {
			pos = &q->list;
			break;
		}
	}
	/* The duplicate parts are D-SACKed as Linux's tcp_data_queue_ofo does:
	 * the tail of the segment before, each held segment the new one
	 * covers (dropped), and the head of the segment after. */
	if (pos->prev != &o->queue.list) {
		struct tcp_skb_cb *pc = TCP_SKB_CB(list_entry(pos->prev, struct sk_buff, list));

		if (before(pc->seq, cb->seq) && after(pc->end_seq, cb->seq))
			tcp_dsack_set(sk, cb->seq, pc->end_seq);
	}
	list_for_each_entry_safe(q, n, &o->queue.list, list) {
		struct tcp_skb_cb *qc = TCP_SKB_CB(q);
		if (!before(qc->seq, cb->seq) && !after(qc->end_seq, cb->end_seq) && q != data) {
			if (pos == &q->list)
				pos = q->list.next;
			MIB_INC(sk->st, TcpExtTCPOFOMerge);
			tcp_dsack_extend(sk, qc->seq, qc->end_seq);
			skb_unlink(q, &o->queue);
			kfree_skb(q);
		}
	}
	if (pos != &o->queue.list) {
		struct tcp_skb_cb *nc = TCP_SKB_CB(list_entry(pos, struct sk_buff, list));

		if (before(nc->seq, cb->end_seq))
			tcp_dsack_extend(sk, nc->seq, cb->end_seq);
	}
	__list_add(&data->list, pos->prev, pos);
	o->queue.qlen++;
	o->queue.bytes += data->len;
	tcp_sack_rebuild(o, cb->seq);
	/* Without SACK the sender needs duplicate ACKs, which a growing
	 * window would not be (Linux: tcp_data_queue_ofo). */
	if (sk->rx_opt.sack_ok)
		tcp_grow_window(sk, data->len);
}

static void tcp_data_queue(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t datalen = skb->len - tcp_hdrlen(skb);
	struct sk_buff *data;
	bool fin;

	if (cb->seq == cb->end_seq)
		return;
	if (sk->ooo)
		sk->ooo->dsack = false;
	if (datalen)
		sk->data_segs_in += tcp_skb_segs_rx(skb);
	if (!after(cb->end_seq, sk->rcv_nxt)) {
		/* A retransmission of what we have: D-SACK it, ACK at once. */
		MIB_INC(sk->st, TcpExtDelayedACKLost);
		tcp_dsack_set(sk, cb->seq, cb->end_seq);
		tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
		sk->icsk_ack.pending = true;
		return;
	}
	if (!before(cb->seq, sk->rcv_nxt + tcp_receive_window(sk))) {
		/* Beyond the window we offered. */
		if (!tcp_receive_window(sk))
			MIB_INC(sk->st, TcpExtTCPZeroWindowDrop);
		tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
		sk->icsk_ack.pending = true;
		return;
	}
	if (tcp_rmem_used(sk) + 2ULL * datalen > sk->sk_rcvbuf) {
		MIB_INC(sk->st, TcpExtTCPRcvQDrop);
		sk->icsk_ack.pending = true;
		sk->icsk_ack.now = true;
		return;
	}
	if (before(cb->seq, sk->rcv_nxt))
		tcp_dsack_set(sk, cb->seq, sk->rcv_nxt);
	data = tcp_payload_from(skb, after(cb->seq, sk->rcv_nxt) ? cb->seq : sk->rcv_nxt);
	if (!data)
		return;
	if (after(cb->seq, sk->rcv_nxt)) {
		/* Out-of-order data must fit the buffer as it really is, or tiny
		 * segments would hold thousands of buffers (Linux:
		 * tcp_try_rmem_schedule failing in tcp_data_queue_ofo). */
		data = tcp_ofo_fit(data);
		if (tcp_rmem_truesize(sk) + tcp_skb_truesize(data) > sk->sk_rcvbuf) {
			MIB_INC(sk->st, TcpExtTCPOFODrop);
			kfree_skb(data);
			return;
		}
		tcp_data_queue_ofo(sk, data);
		return;
	}
	sk->icsk_ack.pending = true;
	fin = tcp_queue_rcv(sk, data);
	if (datalen)
		tcp_event_data_recv(sk, datalen, skb->gso_size ? skb->gso_size : datalen);
	if (fin)
		tcp_fin(sk);
	if (!tcp_ooo_empty(sk)) {
		tcp_ofo_queue(sk);
		/* RFC 5681 4.2: ACK at once when a hole is filled. */
		if (tcp_ooo_empty(sk))
			sk->icsk_ack.now = true;
		tcp_sack_rebuild(sk->ooo, sk->rcv_nxt);
	} else if (sk->ooo) {
		sk->ooo->num_sacks = 0;
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
	sk->rcvq_space.space = min_t(uint32_t, min_t(uint32_t, sk->rcv_ssthresh, sk->rcv_wnd),
				     TCP_INIT_CWND * (uint32_t)sk->advmss);
	sk->rcvq_space.seq = sk->copied_seq;
	sk->rcvq_space.time = tcp_us32(sk);
}

/* Linux's tcp_init_transfer (fastopen: not static, tcp_fastopen.c calls it). */
void tcp_init_transfer(struct sock *sk)
{
	struct sk_buff *skb;

	/* A slow handshake says nothing about the path: ssthresh starts over
	 * (Linux: tcp_init_metrics), cwnd is 1 after repeated SYN loss. */
	sk->snd_ssthresh = 0x7fffffff;
	sk->snd_cwnd = sk->total_retrans > 1 ? 1 : TCP_INIT_CWND;
	sk->snd_cwnd_stamp = stack_jiffies(sk->st);
	sk->ca_state = TCP_CA_Open;
	sk->lost_out = sk->retrans_out = sk->sacked_out = 0;
	/* fastopen: the counts start over, so SYN data still queued loses the
	 * marks SYN timeouts gave it (tcp_enter_loss); a LOST mark left with
	 * lost_out 0 kept tcp_rcv_fastopen_synack from resending it at once. */
	list_for_each_entry(skb, &sk->rtx_queue.list, list)
		TCP_SKB_CB(skb)->sacked &= (uint8_t)~(TCPCB_SACKED_ACKED | TCPCB_SACKED_RETRANS | TCPCB_LOST);
	sk->rcv_mss = (uint16_t)max_t(uint32_t, min_t(uint32_t, min_t(uint32_t, sk->advmss, sk->mss_cache),
						      TCP_MSS_DEFAULT), TCP_MIN_MSS);
	tcp_init_congestion_control(sk);
	if (!sk->sndbuf_locked)
		tcp_sndbuf_expand(sk);
	tcp_init_buffer_space(sk);
}

void tcp_finish_connect(struct sock *sk)
{
	tcp_set_state(sk, TCP_ESTABLISHED);
	tcp_init_transfer(sk);
	sk->retrans_stamp = 0;
	if (sk->keepalive)
		tcp_set_keepalive(sk, true);
}

/* A valid SYN-ACK in SYN-SENT: ESTABLISHED, then the third ACK now or
 * delayed (Linux: the SYN-ACK half of tcp_rcv_synsent_state_process). */
static int tcp_synsent_synack(struct sock *sk, struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	bool fastopen_fail;

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
	fastopen_fail = (sk->syn_fastopen || sk->syn_data) && tcp_rcv_fastopen_synack(sk, skb); /* fastopen: */
	sk_state_change(sk);
	if (fastopen_fail) /* the resent data carries the ACK */
		return 0;
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
				  &sk->rx_opt, NULL);
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
	if (sk->fastopen_rsk) { /* fastopen: the child was set up at the SYN */
		tcp_rcv_synrecv_state_fastopen(sk);
	} else {
		sk->retrans_stamp = 0;
		tcp_init_transfer(sk);
		sk->copied_seq = sk->rcv_nxt;
	}
	tcp_set_state(sk, TCP_ESTABLISHED);
	sk_state_change(sk);
	sk->snd_una = TCP_SKB_CB(skb)->ack_seq;
	sk->snd_wnd = (uint32_t)ntohs(tcp_hdr(skb)->window) << sk->rx_opt.snd_wscale;
	sk->snd_wl1 = TCP_SKB_CB(skb)->seq;
}

static bool tcp_in_close_states(int state)
{
	return state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING || state == TCP_LAST_ACK;
}

/* Step 7 of RFC 793 in Linux's order: data is taken in ESTABLISHED and
 * FIN-WAIT-1/2; after the peer's FIN it is ignored. */
static bool tcp_rcv_data_step(struct sock *sk, struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	switch (sk->c.state) {
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		if (!before(cb->seq, sk->rcv_nxt))
			return false;
		/* fall through */
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		/* RFC 1122 4.2.2.13: new data after the peer's FIN (or SHUT_RD)
		 * resets (Linux: TCPAbortOnData). Queuing it would put bytes past
		 * the FIN in the receive queue. True: sk was reset, may be gone. */
		if ((sk->sk_shutdown & RCV_SHUTDOWN) && cb->end_seq != cb->seq &&
		    after(cb->end_seq - !!(cb->tcp_flags & TCPHDR_FIN), sk->rcv_nxt)) {
			MIB_INC(sk->st, TcpExtTCPAbortOnData);
			tcp_v4_send_reset(sk->st, skb, "tcp_rcv_state_process: data after shutdown");
			tcp_reset(sk);
			return true;
		}
		/* fall through */
	case TCP_ESTABLISHED:
		tcp_data_queue(sk, skb);
		break;
	default:
		break;
	}
	return false;
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
	else if (sk->fastopen_rsk) /* fastopen: FIN_WAIT1 (close before the third ACK) */
		tcp_rcv_synrecv_state_fastopen(sk);
	if (tcp_in_close_states(sk->c.state) && tcp_rcv_state_teardown(sk, skb))
		return 0;
	if (sk->c.state == TCP_ESTABLISHED)
		tcp_rcv_rtt_measure_ts(sk, skb);
	if (tcp_rcv_data_step(sk, skb))
		return 0;
	if (sk->c.state != TCP_CLOSE) {
		tcp_push_pending_frames(sk);
		tcp_ack_snd_check(sk);
	}
	return 0;
}

/* Linux's tcp_rcv_state_process: 1 = the caller answers with RST. The
 * caller keeps ownership of skb. */
int tcp_rcv_state_process(struct sock *sk, struct sk_buff *skb)
{
	uint8_t flags = TCP_SKB_CB(skb)->tcp_flags;

	sk->segs_in += tcp_skb_segs_rx(skb);

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
		/* fastopen: the child's request checks the segment first (tcp_check_req). */
		if (sk->fastopen_rsk && !tcp_fastopen_check_req(sk, skb))
			return 0;
		return tcp_rcv_synchronized(sk, skb);
	}
}

/* ---- passive open (Linux: tcp_conn_request) ---- */

/* syncookies: the SYN queue is full (or tcp_syncookies = 2): answer with a
 * cookie unless they are off, and count which (Linux: tcp_syn_flood_action,
 * without its one-time message). */
static bool tcp_syn_flood_action(struct sock *listener)
{
	if (listener->st->sysctl.tcp_syncookies) {
		MIB_INC(listener->st, TcpExtTCPReqQFullDoCookies);
		return true;
	}
	MIB_INC(listener->st, TcpExtTCPReqQFullDrop);
	return false;
}

static bool inet_csk_reqsk_queue_is_full(const struct sock *sk) { return sk->rskq->qlen > (uint32_t)sk->rskq->max_ack_backlog; }
static bool sk_acceptq_is_full(const struct sock *sk) { return sk->rskq->ack_backlog > sk->rskq->max_ack_backlog; }

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
	struct request_sock *req = kmem_cache_zalloc(&listener->st->tcp.req_slab);

	if (!req)
		return NULL;
	req->listener = listener;
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
	timer_setup(&req->rsk_timer, TIMER_REQSK);
	return req;
}

/* Hash the request and start its SYN-ACK timer (Linux: inet_csk_reqsk_queue_hash_add). */
static void inet_csk_reqsk_queue_hash_add(struct sock *listener, struct request_sock *req)
{
	inet_ehash_insert(listener->st, &req->c);
	listener->rskq->qlen++;
	listener->rskq->young++;
	mod_timer(listener->st, &req->rsk_timer, stack_now(listener->st) + REQSK_TIMEOUT_INIT_MS * NSEC_PER_MSEC);
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
	struct tcp_fastopen_cookie foc = { .len = -1 }; /* fastopen: */
	struct sock *fastopen_sk;
	bool want_cookie = false;
	/* A SYN that reopened a TIME-WAIT tuple brings its ISN (7.2). */
	uint32_t isn = TCP_SKB_CB(skb)->tcp_tw_isn;

	/* Never answer a SYN sent to a broadcast (Linux: tcp_v4_conn_request);
	 * a transparent listener answers for any unicast address. */
	if (iph->daddr != st->dev.addr && (!sk->transparent || ip_is_broadcast(st, iph->daddr)))
		goto drop;
	if ((st->sysctl.tcp_syncookies == 2 || inet_csk_reqsk_queue_is_full(sk)) && !isn) {
		want_cookie = tcp_syn_flood_action(sk);
		if (!want_cookie)
			goto drop;
	}
	if (sk_acceptq_is_full(sk)) {
		MIB_INC(st, TcpExtListenOverflows);
		goto drop;
	}
	if (optlen > 0)
		tcp_parse_options(st, (const uint8_t *)(th + 1), optlen, true, false, &opt, &foc);
	if (want_cookie && !opt.saw_tstamp) /* syncookies */
		tcp_clear_options(&opt);
	if (!want_cookie && !isn && !st->sysctl.tcp_syncookies &&
	    st->sysctl.tcp_max_syn_backlog - (long)sk->rskq->qlen < (st->sysctl.tcp_max_syn_backlog >> 2) &&
	    !tcp_peer_is_proven())
		goto drop;
	req = tcp_openreq_alloc(sk, skb, &opt);
	if (!req)
		goto drop;
	if (req->tstamp_ok)
		req->ts_off = secure_tcp_ts_off(st, iph->daddr, iph->saddr);
	req->ecn_ok = tcp_ecn_create_request(st, skb);
	if (want_cookie) { /* syncookies: the ISN is the cookie; ECN needs TS to survive */
		req->snt_isn = cookie_init_sequence(sk, skb, &req->mss);
		if (!req->tstamp_ok)
			req->ecn_ok = false;
	} else {
		req->snt_isn = isn ? isn
				   : secure_tcp_seq(st, iph->daddr, iph->saddr, ntohs(th->dest), ntohs(th->source));
	}
	req->syncookie = want_cookie;
	tcp_openreq_init_rwin(req, sk);
	if (want_cookie) { /* syncookies: nothing kept, nothing retransmitted */
		tcp_v4_send_synack(req);
		reqsk_free(req);
		return;
	}
	/* fastopen: tcp_try_fastopen (never for want_cookie, returned above). */
	fastopen_sk = tcp_try_fastopen(sk, skb, req, &foc);
	if (fastopen_sk) {
		tcp_fastopen_child_synack(sk, req, fastopen_sk, &foc);
		return;
	}
	inet_csk_reqsk_queue_hash_add(sk, req);
	trace_event(st, "tcp_conn_request", "request sock for %u.%u.%u.%u:%u", ((uint8_t *)&req->c.raddr)[0],
		    ((uint8_t *)&req->c.raddr)[1], ((uint8_t *)&req->c.raddr)[2], ((uint8_t *)&req->c.raddr)[3],
		    req->c.rport);
	tcp_v4_send_synack_foc(req, &foc); /* fastopen: a fresh cookie when asked or invalid */
	return;
drop:
	tcp_listendrop(sk);
}
