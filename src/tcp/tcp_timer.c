/* Retransmission and delayed-ACK timers (Linux: net/ipv4/tcp_timer.c). */
#include <errno.h>
#include "core/stack.h"
#include "core/trace.h"
#include "tcp/tcp.h"

static void tcp_write_timer(struct stack *st, struct timer *t);

/* What TCP's timer kinds run, for every socket, request and minisock. */
void tcp_timer_handlers_init(struct stack *st)
{
	timer_set_handler(&st->timers, TIMER_TCP_WRITE, tcp_write_timer);
	timer_set_handler(&st->timers, TIMER_TCP_DELACK, tcp_delack_timer);
	timer_set_handler(&st->timers, TIMER_TCP_KEEPALIVE, tcp_keepalive_timer);
	timer_set_handler(&st->timers, TIMER_REQSK, reqsk_timer_handler);
	timer_set_handler(&st->timers, TIMER_TW, tw_timer_handler);
}

void tcp_init_xmit_timers(struct sock *sk)
{
	timer_setup(&sk->retransmit_timer, TIMER_TCP_WRITE);
	timer_setup(&sk->delack_timer, TIMER_TCP_DELACK);
}

void tcp_clear_xmit_timers(struct sock *sk)
{
	sk->icsk_pending = 0;
	sk->icsk_ack.scheduled = false;
	del_timer(sk->st, &sk->retransmit_timer);
	del_timer(sk->st, &sk->delack_timer);
}

void inet_csk_reset_xmit_timer(struct sock *sk, int what, uint32_t when_ms)
{
	uint64_t expires = stack_now(sk->st) + (uint64_t)when_ms * NSEC_PER_MSEC;

	if (what == ICSK_TIME_DACK) {
		sk->icsk_ack.scheduled = true;
		mod_timer(sk->st, &sk->delack_timer, expires);
		return;
	}
	sk->icsk_pending = (uint8_t)what;
	mod_timer(sk->st, &sk->retransmit_timer, expires);
}

/* Linux's tcp_model_timeout: how long `boundary` exponential retries last. */
static uint64_t tcp_model_timeout(unsigned int boundary, uint64_t rto_base)
{
	unsigned int thresh = 0;

	while ((rto_base << (thresh + 1)) <= TCP_RTO_MAX_MS)
		thresh++;
	if (boundary <= thresh)
		return ((2ULL << boundary) - 1) * rto_base;
	return ((2ULL << thresh) - 1) * rto_base + (uint64_t)(boundary - thresh) * TCP_RTO_MAX_MS;
}

static bool retransmits_timed_out(struct sock *sk, unsigned int boundary, uint32_t timeout)
{
	uint64_t rto_base = TCP_RTO_MIN_MS;
	uint32_t start;

	if (!sk->icsk_retransmits)
		return false;
	if (!timeout) {
		if (sk->c.state == TCP_SYN_SENT || sk->c.state == TCP_SYN_RECV)
			rto_base = TCP_TIMEOUT_INIT_MS;
		timeout = (uint32_t)tcp_model_timeout(boundary, rto_base);
	}
	start = (uint32_t)sk->retrans_stamp;
	if (!start && !list_empty(&sk->rtx_queue.list))
		start = (uint32_t)(TCP_SKB_CB(list_first_entry(&sk->rtx_queue.list, struct sk_buff, list))->tx_us / 1000);
	return (int32_t)(stack_jiffies(sk->st) - start - timeout) >= 0;
}

/* Linux's tcp_write_err: the connection timed out. */
static void tcp_write_err(struct sock *sk)
{
	sk->sk_err = sk->sk_err_soft ? sk->sk_err_soft : ETIMEDOUT;
	MIB_INC(sk->st, TcpExtTCPAbortOnTimeout);
	tcp_done(sk);
}

/* Linux's tcp_orphan_retries: a closed socket gives up sooner. */
static unsigned int tcp_orphan_retries(const struct sock *sk, bool alive)
{
	unsigned int retries = (unsigned int)sk->st->sysctl.tcp_orphan_retries;

	if (sk->sk_err_soft && !alive)
		retries = 0;
	if (retries == 0 && alive)
		retries = 8;
	return retries;
}

/* Linux's tcp_write_timeout: has the connection been retransmitting too
 * long? Aborts it (ETIMEDOUT) and returns true if so. */
static bool tcp_write_timeout(struct sock *sk)
{
	const struct sysctls *sc = &sk->st->sysctl;
	unsigned int retry_until;
	bool expired = false;

	if (sk->c.state == TCP_SYN_SENT || sk->c.state == TCP_SYN_RECV) {
		unsigned int max_retransmits;
		retry_until = sk->icsk_syn_retries ? sk->icsk_syn_retries : (unsigned int)sc->tcp_syn_retries;
		max_retransmits = retry_until;
		if (sk->c.state == TCP_SYN_SENT)
			max_retransmits += (unsigned int)sc->tcp_syn_linear_timeouts;
		expired = sk->icsk_retransmits >= max_retransmits;
	} else {
		retry_until = (unsigned int)sc->tcp_retries2;
		if (sk->orphan)
			retry_until = tcp_orphan_retries(sk, sk->icsk_rto < TCP_RTO_MAX_MS);
	}
	if (!expired)
		expired = retransmits_timed_out(sk, retry_until, sk->icsk_user_timeout);
	tcp_fastopen_active_detect_blackhole(sk, expired); /* fastopen: */
	if (expired)
		tcp_write_err(sk);
	return expired;
}

/* Every unSACKed segment is now presumed lost (Linux: tcp_timeout_mark_lost). */
static void tcp_timeout_mark_lost(struct sock *sk)
{
	struct sk_buff *skb;

	list_for_each_entry(skb, &sk->rtx_queue.list, list) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		if (cb->sacked & TCPCB_SACKED_ACKED)
			continue;
		if (cb->sacked & TCPCB_SACKED_RETRANS) {
			cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
			sk->retrans_out--;
		}
		if (!(cb->sacked & TCPCB_LOST)) {
			cb->sacked |= TCPCB_LOST;
			sk->lost_out++;
		}
	}
}

/* Linux's tcp_enter_loss: the RTO fired; restart from one segment. */
void tcp_enter_loss(struct sock *sk)
{
	bool new_recovery = sk->ca_state <= TCP_CA_Disorder || !before(sk->snd_una, sk->high_seq) ||
			    (sk->ca_state == TCP_CA_Loss && !sk->icsk_retransmits);

	if (new_recovery) {
		sk->prior_ssthresh = tcp_current_ssthresh(sk);
		sk->prior_cwnd = sk->snd_cwnd;
		sk->snd_ssthresh = sk->ca_ops->ssthresh(sk);
		tcp_ca_event(sk, CA_EVENT_LOSS);
		tcp_init_undo(sk);
	}
	tcp_timeout_mark_lost(sk);
	sk->snd_cwnd = tcp_packets_in_flight(sk) + 1;
	sk->snd_cwnd_cnt = 0;
	sk->snd_cwnd_stamp = stack_jiffies(sk->st);
	sk->high_seq = sk->snd_nxt;
	tcp_set_ca_state(sk, TCP_CA_Loss);
}

/* TCP_USER_TIMEOUT may cut the next RTO short (Linux: tcp_clamp_rto_to_user_timeout). */
static uint32_t tcp_clamp_rto_to_user_timeout(const struct sock *sk)
{
	int32_t remaining;

	if (!sk->icsk_user_timeout || !sk->retrans_stamp)
		return sk->icsk_rto;
	remaining = (int32_t)(sk->icsk_user_timeout - (stack_jiffies(sk->st) - (uint32_t)sk->retrans_stamp));
	if (remaining <= 0)
		return 1;
	return min_t(uint32_t, sk->icsk_rto, (uint32_t)remaining);
}

/* Linux's tcp_retransmit_timer: the oldest segment goes again, the RTO
 * backs off (linearly at first in SYN-SENT). */
void tcp_retransmit_timer_fire(struct sock *sk)
{
	struct stack *st = sk->st;

	if (sk->fastopen_rsk) { /* fastopen: only the SYN-ACK until the third ACK */
		tcp_fastopen_synack_timer(sk);
		return;
	}
	if (list_empty(&sk->rtx_queue.list))
		return;
	sk->tlp_high_seq = 0;
	MIB_INC(st, TcpExtTCPTimeouts);
	if (tcp_write_timeout(sk))
		return;
	tcp_enter_loss(sk);
	sk->icsk_retransmits++;
	sk->total_rto++;
	if (tcp_retransmit_skb(sk) != 0) {
		/* Local congestion: try again soon, without backing off. */
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, TCP_RTO_MIN_MS);
		return;
	}
	if (sk->c.state != TCP_SYN_SENT || sk->total_rto > (uint32_t)st->sysctl.tcp_syn_linear_timeouts) {
		sk->icsk_backoff++;
		sk->icsk_rto = min_t(uint32_t, sk->icsk_rto << 1, TCP_RTO_MAX_MS);
	}
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, tcp_clamp_rto_to_user_timeout(sk));
}

uint32_t tcp_probe0_when(const struct sock *sk)
{
	/* icsk_backoff can pass 63 (tcp_retries2 goes to 255): no shift by that. */
	uint64_t when = sk->icsk_backoff < 32 ? (uint64_t)sk->icsk_rto << sk->icsk_backoff : TCP_RTO_MAX_MS;

	return when < TCP_RTO_MAX_MS ? (uint32_t)when : TCP_RTO_MAX_MS;
}

/* TCP_USER_TIMEOUT bounds zero-window probing too (RFC 1122 4.2.2.17 lets
 * an answered prober go on for ever otherwise). Probing started when the
 * first probe found the send head unsent: its send time, still unused,
 * keeps that moment, as Linux keeps it in the head's timestamp. */
static bool tcp_probe_user_timeout(struct sock *sk)
{
	struct tcp_skb_cb *head = TCP_SKB_CB(list_first_entry(&sk->write_queue.list, struct sk_buff, list));
	uint64_t now_us = stack_now(sk->st) / NSEC_PER_USEC;

	if (!head->tx_us) {
		head->tx_us = now_us;
		return false;
	}
	return sk->icsk_user_timeout && now_us - head->tx_us > (uint64_t)sk->icsk_user_timeout * 1000;
}

/* Linux's tcp_probe_timer: the peer's window is zero and nothing is in
 * flight; probe it with backoff, and give up like a retransmission would. */
static void tcp_probe_timer(struct sock *sk)
{
	unsigned int max_probes = (unsigned int)sk->st->sysctl.tcp_retries2;

	if (sk->packets_out || list_empty(&sk->write_queue.list)) {
		sk->probes_out = 0;
		sk->icsk_backoff = 0;
		return;
	}
	if (tcp_probe_user_timeout(sk)) {
		tcp_write_err(sk);
		return;
	}
	if (sk->orphan) {
		/* Answered probes reset probes_out, but not the backoff: an
		 * orphan gives up once its backoff passes TCP_RTO_MAX. */
		bool alive = sk->icsk_backoff < 32 && ((uint64_t)sk->icsk_rto << sk->icsk_backoff) < TCP_RTO_MAX_MS;

		max_probes = tcp_orphan_retries(sk, alive);
		if (!alive && sk->icsk_backoff >= max_probes) {
			tcp_write_err(sk);
			return;
		}
	}
	if (sk->probes_out >= max_probes) {
		tcp_write_err(sk);
		return;
	}
	MIB_INC(sk->st, TcpExtTCPWinProbe);
	tcp_write_wakeup(sk);
	if (!sk->packets_out) {
		sk->probes_out++;
		if (sk->icsk_backoff < sk->st->sysctl.tcp_retries2)
			sk->icsk_backoff++;
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_PROBE0, tcp_probe0_when(sk));
	}
}

static void tcp_write_timer(struct stack *st, struct timer *t)
{
	struct sock *sk = container_of(t, struct sock, retransmit_timer);

	(void)st;
	int what = sk->icsk_pending;

	if (sk->c.state == TCP_CLOSE || sk->c.state == TCP_LISTEN)
		return;
	sk->icsk_pending = 0;
	if (what == ICSK_TIME_RETRANS)
		tcp_retransmit_timer_fire(sk);
	else if (what == ICSK_TIME_PROBE0)
		tcp_probe_timer(sk);
	else if (what == ICSK_TIME_LOSS_PROBE)
		tcp_send_loss_probe(sk);
	else if (what == ICSK_TIME_REO_TIMEOUT)
		tcp_rack_reo_timeout(sk);
}

void tcp_retransmit_timer(struct stack *st, struct timer *t) { tcp_write_timer(st, t); }

/* Linux's tcp_delack_timer_handler: send the ACK we held back. */
void tcp_delack_timer(struct stack *st, struct timer *t)
{
	struct sock *sk = container_of(t, struct sock, delack_timer);

	sk->icsk_ack.scheduled = false;
	if (sk->c.state == TCP_CLOSE || sk->c.state == TCP_LISTEN || !sk->icsk_ack.pending)
		return;
	if (!sk->icsk_ack.pingpong) {
		/* The ACK was due before more data came: wait longer next time. */
		sk->icsk_ack.ato = min_t(uint32_t, sk->icsk_ack.ato << 1, sk->icsk_rto);
	} else {
		/* Delayed ACKs stall the peer: leave interactive mode. */
		sk->icsk_ack.pingpong = false;
		sk->icsk_ack.ato = TCP_ATO_MIN_MS;
	}
	tcp_send_ack(sk);
	MIB_INC(st, TcpExtDelayedACKs);
}
