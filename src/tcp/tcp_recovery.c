/* RACK-TLP (RFC 8985), as Linux's tcp_recovery.c and the loss probe of
 * tcp_output.c: a segment is lost when one sent after it was delivered and
 * a reordering window has passed; a tail loss is probed after ~2 RTTs
 * instead of waiting for the RTO. */
#include "core/stack.h"
#include "core/trace.h"
#include "tcp/tcp.h"

#define TCP_TIMEOUT_MIN_US 2000
#define TCP_RACK_NO_DUPTHRESH 0x4

static uint64_t now_us(const struct sock *sk) { return stack_now(sk->st) / NSEC_PER_USEC; }

static bool tcp_rack_sent_after(uint64_t t1, uint64_t t2, uint32_t seq1, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && after(seq1, seq2));
}

/* A delivered segment moves RACK's clock (Linux: tcp_rack_advance). */
void tcp_rack_advance(struct sock *sk, uint8_t sacked, uint32_t end_seq, uint64_t xmit_us)
{
	uint32_t rtt_us = (uint32_t)(now_us(sk) - xmit_us);

	/* Which copy of a retransmitted segment arrived is ambiguous; only a
	 * sample longer than the minimum RTT is trusted. */
	if ((sacked & TCPCB_EVER_RETRANS) && rtt_us < sk->min_rtt_us)
		return;
	sk->rack_advanced = true;
	sk->rack.rtt_us = rtt_us;
	if (tcp_rack_sent_after(xmit_us, sk->rack.mstamp, end_seq, sk->rack.end_seq)) {
		sk->rack.mstamp = xmit_us;
		sk->rack.end_seq = end_seq;
	}
}

/* Linux's tcp_rack_reo_wnd: no settling time while the DUPACK threshold
 * already proves loss; otherwise a quarter of the minimum RTT. */
static uint32_t tcp_rack_reo_wnd(const struct sock *sk)
{
	uint32_t steps = sk->rack_reo_wnd_steps ? sk->rack_reo_wnd_steps : 1;
	uint32_t min_rtt = sk->min_rtt_us == ~0u ? 0 : sk->min_rtt_us;

	if (!sk->reord_seen) {
		if (sk->ca_state >= TCP_CA_Recovery)
			return 0;
		if (sk->sacked_out >= (uint32_t)sk->st->sysctl.tcp_reordering &&
		    !(sk->st->sysctl.tcp_recovery & TCP_RACK_NO_DUPTHRESH))
			return 0;
	}
	return min_t(uint32_t, (min_rtt >> 2) * steps, sk->srtt_us >> 3);
}

/* Linux's tcp_rack_detect_loss. The queue is in sequence order, not send
 * order, so every candidate is checked. */
static uint32_t tcp_rack_detect_loss(struct sock *sk)
{
	uint32_t reo_wnd = tcp_rack_reo_wnd(sk), reo_timeout = 0;
	uint64_t now = now_us(sk);
	struct sk_buff *skb;

	list_for_each_entry(skb, &sk->rtx_queue.list, list) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		int64_t remaining;

		if (cb->sacked & TCPCB_SACKED_ACKED)
			continue;
		if ((cb->sacked & TCPCB_LOST) && !(cb->sacked & TCPCB_SACKED_RETRANS))
			continue;
		if (!tcp_rack_sent_after(sk->rack.mstamp, cb->tx_us, sk->rack.end_seq, cb->end_seq))
			continue;
		remaining = (int64_t)sk->rack.rtt_us + reo_wnd - (int64_t)(now - cb->tx_us);
		if (remaining <= 0)
			tcp_mark_skb_lost(sk, skb);
		else if ((uint32_t)remaining > reo_timeout)
			reo_timeout = (uint32_t)remaining;
	}
	return reo_timeout;
}

bool tcp_rack_mark_lost(struct sock *sk)
{
	uint32_t timeout;

	if (!sk->rack_advanced)
		return false;
	sk->rack_advanced = false;
	timeout = tcp_rack_detect_loss(sk);
	if (timeout)
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_REO_TIMEOUT, (timeout + TCP_TIMEOUT_MIN_US + 999) / 1000);
	return true;
}

/* The reordering window ran out (Linux: tcp_rack_reo_timeout): what is now
 * lost starts recovery with one PRR step; the RTO takes over timing. */
void tcp_rack_reo_timeout(struct sock *sk)
{
	uint32_t prior_inflight = tcp_packets_in_flight(sk);

	tcp_rack_detect_loss(sk);
	if (prior_inflight != tcp_packets_in_flight(sk)) {
		if (sk->ca_state != TCP_CA_Recovery) {
			tcp_enter_recovery(sk);
			tcp_cwnd_reduction(sk, 1, false);
		}
		tcp_xmit_retransmit_queue(sk);
	}
	if (sk->icsk_pending != ICSK_TIME_RETRANS)
		tcp_rearm_rto(sk);
}

/* How far away the RTO of the oldest outstanding segment is (Linux: tcp_rto_delta_us). */
static int64_t tcp_rto_delta_us(const struct sock *sk)
{
	const struct sk_buff *head;

	if (list_empty(&sk->rtx_queue.list))
		return 0;
	head = list_first_entry(&sk->rtx_queue.list, struct sk_buff, list);
	return (int64_t)(TCP_SKB_CB(head)->tx_us + (uint64_t)sk->icsk_rto * 1000) - (int64_t)now_us(sk);
}

/* Linux's tcp_schedule_loss_probe: PTO = 2 * SRTT (+ the delayed-ACK
 * allowance for a single segment), never later than the RTO. */
bool tcp_schedule_loss_probe(struct sock *sk, bool advancing_rto)
{
	long early = sk->st->sysctl.tcp_early_retrans;
	uint64_t timeout_us;
	int64_t rto_delta_us;

	if (sk->fastopen_rsk) /* fastopen: no probe before the third ACK */
		return false;
	if ((early != 3 && early != 4) || !sk->packets_out || !sk->rx_opt.sack_ok ||
	    (sk->ca_state != TCP_CA_Open && sk->ca_state != TCP_CA_CWR))
		return false;
	if (sk->srtt_us) {
		timeout_us = sk->srtt_us >> 2;
		timeout_us += sk->packets_out == 1 ? TCP_RTO_MIN_MS * 1000 : TCP_TIMEOUT_MIN_US;
	} else {
		timeout_us = TCP_TIMEOUT_INIT_MS * 1000;
	}
	rto_delta_us = advancing_rto ? (int64_t)sk->icsk_rto * 1000 : tcp_rto_delta_us(sk);
	if (rto_delta_us > 0 && (uint64_t)rto_delta_us < timeout_us)
		timeout_us = (uint64_t)rto_delta_us;
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_LOSS_PROBE, (uint32_t)((timeout_us + 999) / 1000));
	return true;
}

/* Linux's tcp_send_loss_probe: one new segment if the peer's window allows
 * (forced past cwnd), otherwise the last segment again. */
void tcp_send_loss_probe(struct sock *sk)
{
	struct sk_buff *last;

	if (tcp_xmit_probe_new(sk))
		goto probe_sent;
	if (list_empty(&sk->rtx_queue.list) || sk->tlp_high_seq)
		goto rearm;
	last = list_entry(sk->rtx_queue.list.prev, struct sk_buff, list);
	if (tcp_retransmit_one(sk, last))
		goto rearm;
	sk->tlp_retrans = true;
probe_sent:
	sk->tlp_high_seq = sk->snd_nxt;
	MIB_INC(sk->st, TcpExtTCPLossProbes);
	trace_event(sk->st, "tcp_send_loss_probe", "snd_nxt %u", sk->snd_nxt);
	/* The RTO restarts from now. */
	sk->icsk_pending = 0;
	tcp_rearm_rto(sk);
	return;
rearm:
	/* No probe: the RTO still counts from the oldest segment. */
	sk->icsk_pending = ICSK_TIME_LOSS_PROBE;
	tcp_rearm_rto(sk);
}

/* Linux's tcp_process_tlp_ack: an ACK beyond the probe settles it; if the
 * retransmitted probe repaired a real loss, cwnd is reduced once. */
void tcp_process_tlp_ack(struct sock *sk, uint32_t ack, bool dsack)
{
	if (!sk->tlp_high_seq || before(ack, sk->tlp_high_seq))
		return;
	if (!sk->tlp_retrans || dsack) {
		sk->tlp_high_seq = 0;
		return;
	}
	if (after(ack, sk->tlp_high_seq) || ack == sk->tlp_high_seq) {
		sk->tlp_high_seq = 0;
		sk->tlp_retrans = false;
		sk->snd_ssthresh = sk->ca_ops->ssthresh(sk);
		sk->snd_cwnd = min_t(uint32_t, sk->snd_cwnd, sk->snd_ssthresh);
		tcp_ca_event(sk, CA_EVENT_COMPLETE_CWR);
		MIB_INC(sk->st, TcpExtTCPLossProbeRecovery);
	}
}
