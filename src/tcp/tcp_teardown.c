/* Orderly release: close, shutdown, the FIN, the close states, orphans and
 * keepalive. Linux spreads these over tcp.c, tcp_input.c and tcp_timer.c;
 * they are kept together here. The TIME-WAIT minisock is in
 * tcp_minisocks.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/proto.h"
#include "tcp/tcp.h"

/* Linux's TCP_RESOURCE_PROBE_INTERVAL: retry soon when a probe could not be sent. */
#define TCP_RESOURCE_PROBE_INTERVAL_MS 500

/* ------------------------------------------------------------ helpers */

/* 3.5 RTO: long enough to see two retransmissions of the peer's FIN. */
static uint32_t tcp_rto_3_5(uint32_t rto) { return (rto << 2) - (rto >> 1); }

/* ms an orphan in FIN-WAIT-2 waits for the peer's FIN (Linux: tcp_fin_time). */
static uint32_t tcp_fin_time(const struct sock *sk)
{
	long secs = sk->linger2 > 0 ? sk->linger2 : sk->st->sysctl.tcp_fin_timeout;
	uint32_t tmo = (uint32_t)secs * 1000;

	return max_t(uint32_t, tmo, tcp_rto_3_5(sk->icsk_rto));
}

/* States in which the peer holds a connection an abort must tell it about. */
static bool tcp_need_reset(int state)
{
	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT || state == TCP_FIN_WAIT1 ||
	       state == TCP_FIN_WAIT2 || state == TCP_SYN_RECV;
}

#define TCP_STATE_MASK 0x0f
#define TCP_ACTION_FIN 0x80

/* Where close()/shutdown() take each state, and whether a FIN goes out
 * (Linux: tcp_close_state's new_state table). */
static const uint8_t tcp_new_state[TCP_MAX_STATES] = {
	[0] = TCP_CLOSE,
	[TCP_ESTABLISHED] = TCP_FIN_WAIT1 | TCP_ACTION_FIN,
	[TCP_SYN_SENT] = TCP_CLOSE,
	[TCP_SYN_RECV] = TCP_FIN_WAIT1 | TCP_ACTION_FIN,
	[TCP_FIN_WAIT1] = TCP_FIN_WAIT1,
	[TCP_FIN_WAIT2] = TCP_FIN_WAIT2,
	[TCP_TIME_WAIT] = TCP_CLOSE,
	[TCP_CLOSE] = TCP_CLOSE,
	[TCP_CLOSE_WAIT] = TCP_LAST_ACK | TCP_ACTION_FIN,
	[TCP_LAST_ACK] = TCP_LAST_ACK,
	[TCP_LISTEN] = TCP_CLOSE,
	[TCP_CLOSING] = TCP_CLOSING,
	[TCP_NEW_SYN_RECV] = TCP_CLOSE,
};

/* True when a FIN must be sent. */
static bool tcp_close_state(struct sock *sk)
{
	uint8_t next = tcp_new_state[sk->c.state];

	tcp_set_state(sk, next & TCP_STATE_MASK);
	return next & TCP_ACTION_FIN;
}

/* ---------------------------------------------------------- keepalive */

static uint32_t keepalive_time_when(const struct sock *sk)
{
	long s = sk->keepalive_time_s ? (long)sk->keepalive_time_s : sk->st->sysctl.tcp_keepalive_time;

	return (uint32_t)s * 1000;
}

static uint32_t keepalive_intvl_when(const struct sock *sk)
{
	long s = sk->keepalive_intvl_s ? (long)sk->keepalive_intvl_s : sk->st->sysctl.tcp_keepalive_intvl;

	return (uint32_t)s * 1000;
}

static unsigned int keepalive_probes(const struct sock *sk)
{
	return sk->keepalive_probes ? sk->keepalive_probes : (unsigned int)sk->st->sysctl.tcp_keepalive_probes;
}

void inet_csk_reset_keepalive_timer(struct sock *sk, uint32_t ms)
{
	mod_timer(sk->st, &sk->keepalive_timer, stack_now(sk->st) + (uint64_t)ms * NSEC_PER_MSEC);
}

/* Call on a change of SO_KEEPALIVE. A listener or a closed socket has no
 * peer to probe; connect()/accept() arm it when the connection comes up. */
void tcp_set_keepalive(struct sock *sk, bool on)
{
	if (sk->c.state == TCP_CLOSE || sk->c.state == TCP_LISTEN)
		return;
	if (on)
		inet_csk_reset_keepalive_timer(sk, keepalive_time_when(sk));
	else
		del_timer(sk->st, &sk->keepalive_timer);
}

/* The connection timed out (Linux: tcp_write_err). */
static void tcp_keepalive_abort(struct sock *sk)
{
	tcp_send_active_reset(sk);
	sk->sk_err = sk->sk_err_soft ? sk->sk_err_soft : ETIMEDOUT;
	MIB_INC(sk->st, TcpExtTCPAbortOnTimeout);
	tcp_done(sk);
}

/* SO_KEEPALIVE: after keepalive_time of silence, probe every intvl; give
 * up after keepalive_probes unanswered ones (or TCP_USER_TIMEOUT). */
static void tcp_keepalive_probe(struct sock *sk)
{
	uint32_t when = keepalive_time_when(sk);
	uint32_t elapsed, user_timeout = sk->icsk_user_timeout;

	/* Data in flight is probe enough: the retransmission timer watches it. */
	if (sk->packets_out || !list_empty(&sk->write_queue.list)) {
		inet_csk_reset_keepalive_timer(sk, when);
		return;
	}
	elapsed = stack_jiffies(sk->st) - sk->rcv_tstamp;
	if (elapsed < when) {
		inet_csk_reset_keepalive_timer(sk, when - elapsed);
		return;
	}
	if ((user_timeout && elapsed >= user_timeout && sk->probes_out > 0) ||
	    (!user_timeout && sk->probes_out >= keepalive_probes(sk))) {
		tcp_keepalive_abort(sk);
		return;
	}
	MIB_INC(sk->st, TcpExtTCPKeepAlive);
	if (tcp_write_wakeup(sk) <= 0) {
		sk->probes_out++;
		inet_csk_reset_keepalive_timer(sk, keepalive_intvl_when(sk));
	} else {
		/* Local congestion ate the probe: try again soon. */
		inet_csk_reset_keepalive_timer(sk, TCP_RESOURCE_PROBE_INTERVAL_MS);
	}
}

/* The orphan's FIN-WAIT-2 time ran past 60 s on the full socket: the rest
 * goes to a minisock, or, with nothing left, the connection is reset. */
static void tcp_keepalive_fin_wait2(struct sock *sk)
{
	if (sk->linger2 >= 0) {
		int32_t tmo = (int32_t)tcp_fin_time(sk) - TCP_TIMEWAIT_LEN_MS;

		if (tmo > 0) {
			tcp_time_wait(sk, TCP_FIN_WAIT2, (uint32_t)tmo);
			return;
		}
	}
	tcp_send_active_reset(sk);
	tcp_done(sk);
}

/* Linux's tcp_keepalive_timer: keepalive probes and the orphaned
 * FIN-WAIT-2 timeout. It also reaps an orphan whose end came while the
 * receive path still held it (see tcp_fin). */
void tcp_keepalive_timer(struct stack *st, struct timer *t)
{
	struct sock *sk = container_of(t, struct sock, keepalive_timer);

	(void)st;
	if (sk->c.state == TCP_CLOSE && sk->orphan) {
		sk_free(sk);
		return;
	}
	if (sk->c.state == TCP_LISTEN)
		return;
	if (sk->c.state == TCP_FIN_WAIT2 && sk->orphan) {
		tcp_keepalive_fin_wait2(sk);
		return;
	}
	if (!sk->keepalive || sk->c.state == TCP_CLOSE || sk->c.state == TCP_SYN_SENT)
		return;
	tcp_keepalive_probe(sk);
}

/* ------------------------------------------------------------- listen */

/* Linux's inet_csk_listen_stop: pending handshakes vanish, unaccepted
 * children are freed - reset first when the stack is still running. */
void inet_csk_listen_stop(struct sock *sk, bool reset_children)
{
	struct sock *child, *cn;

	if (!sk->rskq)
		return;
	inet_ehash_drop_requests(sk);
	list_for_each_entry_safe(child, cn, &sk->rskq->accept_queue, accept_node) {
		list_del_init(&child->accept_node);
		sk->rskq->ack_backlog--;
		child->parent = NULL;
		child->orphan = true;
		if (reset_children && (child->c.state == TCP_ESTABLISHED || child->c.state == TCP_CLOSE_WAIT ||
				       child->c.state == TCP_SYN_RECV))
			tcp_send_active_reset(child);
		tcp_set_state(child, TCP_CLOSE);
		sk_free(child);
	}
}

/* --------------------------------------------------------- disconnect */

/* Forget the connection's sequence and timing state so sk can connect again. */
static void tcp_disconnect_reset_vars(struct sock *sk)
{
	uint32_t seq = sk->write_seq + sk->max_window + 2;

	/* Above anything the old connection used, so its segments cannot
	 * be mistaken for the new one's. */
	sk->write_seq = seq ? seq : 1;
	sk->copied_seq = sk->rcv_nxt;
	sk->sk_shutdown = 0;
	sk->srtt_us = 0;
	sk->mdev_us = TCP_TIMEOUT_INIT_MS * 1000;
	sk->icsk_rto = TCP_TIMEOUT_INIT_MS;
	sk->icsk_backoff = 0;
	sk->icsk_retransmits = 0;
	sk->probes_out = 0;
	sk->snd_cwnd = TCP_INIT_CWND;
	sk->snd_cwnd_cnt = 0;
	sk->packets_out = sk->sacked_out = sk->lost_out = sk->retrans_out = 0;
	sk->retrans_stamp = 0;
	sk->max_window = 0;
	sk->rx_opt.ts_recent = 0;
	sk->rx_opt.ts_recent_stamp = 0;
	sk->rx_opt.saw_tstamp = false;
	/* The receiver's measurements and the clamp autotuning moved (Linux
	 * zeroes window_clamp and rcv_rtt_last_tsecr here too). */
	sk->window_clamp = 0;
	memset(&sk->rcv_rtt_est, 0, sizeof(sk->rcv_rtt_est));
	sk->rcv_rtt_last_tsecr = 0;
	sk->c.rport = 0;
	sk->c.raddr = 0;
}

/* Linux's tcp_disconnect. */
int tcp_disconnect(struct sock *sk, int flags)
{
	int old = sk->c.state;

	(void)flags;
	if (old != TCP_CLOSE)
		tcp_set_state(sk, TCP_CLOSE);
	if (old == TCP_LISTEN) {
		inet_csk_listen_stop(sk, true);
	} else if (tcp_need_reset(old) ||
		   (sk->snd_nxt != sk->write_seq && (old == TCP_CLOSING || old == TCP_LAST_ACK))) {
		/* The peer still thinks the connection is up, or waits for
		 * data we will never send. */
		tcp_send_active_reset(sk);
		sk->sk_err = ECONNRESET;
	} else if (old == TCP_SYN_SENT) {
		sk->sk_err = ECONNRESET;
	}
	tcp_clear_xmit_timers(sk);
	del_timer(sk->st, &sk->keepalive_timer);
	skb_queue_purge(&sk->receive_queue);
	skb_queue_purge(&sk->write_queue);
	skb_queue_purge(&sk->rtx_queue);
	tcp_fastopen_active_disable_ofo_check(sk); /* fastopen: */
	tcp_ooo_free(sk); /* and the SACK state with it: the next connection starts clean */
	tcp_disconnect_reset_vars(sk);
	/* fastopen: the next connect starts afresh. */
	free(sk->fastopen_req);
	sk->fastopen_req = NULL;
	sk->defer_connect = false;
	sk->syn_fastopen = sk->syn_fastopen_exp = sk->syn_fastopen_ch = false;
	sk->syn_data = sk->syn_data_acked = false;
	sk->fastopen_client_fail = 0;
	sk_state_change(sk);
	return 0;
}

/* -------------------------------------------------------------- close */

/* Drop what the user never read; returns how many bytes that was. */
static uint32_t tcp_purge_unread(struct sock *sk)
{
	uint32_t unread = 0;
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&sk->receive_queue)) != NULL) {
		const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		unread += cb->end_seq - cb->seq - !!(cb->tcp_flags & TCPHDR_FIN);
		kfree_skb(skb);
	}
	return unread;
}

/* The user's half of __tcp_close: abort, or begin orderly release. */
static void tcp_close_release(struct sock *sk)
{
	uint32_t unread = tcp_purge_unread(sk);

	if (sk->c.state == TCP_CLOSE)
		return; /* already reset */
	if (unread) {
		/* RFC 2525 2.17: data the user never saw must not be
		 * acknowledged by an orderly close. */
		MIB_INC(sk->st, TcpExtTCPAbortOnClose);
		tcp_set_state(sk, TCP_CLOSE);
		tcp_send_active_reset(sk);
	} else if (sk->linger_on && !sk->linger_secs) {
		/* SO_LINGER 0: the abortive close. Linux counts it as
		 * TCPAbortOnData. */
		tcp_disconnect(sk, 0);
		MIB_INC(sk->st, TcpExtTCPAbortOnData);
	} else if (tcp_close_state(sk)) {
		tcp_send_fin(sk);
	}
}

/* An orphan in FIN-WAIT-2 has nobody to read the peer's FIN: wait at most
 * tcp_fin_time for it. Returns true when sk is gone. */
static bool tcp_orphan_fin_wait2(struct sock *sk, const struct sk_buff *skb)
{
	uint32_t tmo;

	if (sk->linger2 < 0)
		return false; /* the caller resets */
	tmo = tcp_fin_time(sk);
	if (tmo > TCP_TIMEWAIT_LEN_MS) {
		/* The full socket waits the part beyond 60 s, a minisock the rest. */
		inet_csk_reset_keepalive_timer(sk, tmo - TCP_TIMEWAIT_LEN_MS);
		return false;
	}
	if (skb && (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)) {
		/* This segment's FIN is still to be processed on sk: a
		 * minisock now would lose it. */
		inet_csk_reset_keepalive_timer(sk, tmo);
		return false;
	}
	tcp_time_wait(sk, TCP_FIN_WAIT2, tmo);
	return true;
}

/* What becomes of the socket once the user let go (Linux: the
 * adjudge_to_death part of __tcp_close). */
static void tcp_adjudge_to_death(struct sock *sk)
{
	list_add_tail(&sk->orphan_node, &sk->st->tcp.orphans);
	if (sk->c.state == TCP_FIN_WAIT2) {
		if (sk->linger2 < 0) {
			tcp_set_state(sk, TCP_CLOSE);
			tcp_send_active_reset(sk);
			MIB_INC(sk->st, TcpExtTCPAbortOnLinger);
		} else if (tcp_orphan_fin_wait2(sk, NULL)) {
			return;
		}
	}
	if (sk->c.state == TCP_CLOSE)
		sk_free(sk);
}

/* Linux's __tcp_close. SO_LINGER with a time does not block: close() in
 * synack never waits. */
void tcp_close(struct sock *sk)
{
	sk->sk_shutdown = SHUTDOWN_MASK;
	if (sk->c.state == TCP_LISTEN) {
		tcp_set_state(sk, TCP_CLOSE);
		inet_csk_listen_stop(sk, true);
	} else {
		tcp_close_release(sk);
	}
	tcp_adjudge_to_death(sk);
}

/* Linux's tcp_shutdown. how is a mask of RCV_SHUTDOWN and SEND_SHUTDOWN
 * (shutdown(2)'s how + 1); only SEND_SHUTDOWN has protocol work. */
void tcp_shutdown(struct sock *sk, int how)
{
	int state = sk->c.state;

	sk->sk_shutdown |= (uint8_t)(how & SHUTDOWN_MASK);
	if (!(how & SEND_SHUTDOWN))
		return;
	if (state == TCP_ESTABLISHED || state == TCP_SYN_SENT || state == TCP_SYN_RECV || state == TCP_CLOSE_WAIT) {
		if (tcp_close_state(sk))
			tcp_send_fin(sk);
	}
}

/* ---------------------------------------------------------- the FIN */

/*
 * FIN-WAIT-2 + FIN: TIME-WAIT. tcp_time_wait frees an orphan, but the
 * receive path that called tcp_fin still uses sk; so the orphan survives,
 * closed and unhashed, until its keepalive timer reaps it at once.
 */
static void tcp_fin_time_wait(struct sock *sk)
{
	bool orphan = sk->orphan;

	sk->orphan = false;
	tcp_time_wait(sk, TCP_TIME_WAIT, 0);
	sk->orphan = orphan;
	if (orphan)
		inet_csk_reset_keepalive_timer(sk, 0);
}

/* Linux's tcp_fin. */
void tcp_fin(struct sock *sk)
{
	sk->icsk_ack.pending = true;
	sk->sk_shutdown |= RCV_SHUTDOWN;
	switch (sk->c.state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		tcp_set_state(sk, TCP_CLOSE_WAIT);
		/* The peer is done talking: our answer is all that is left,
		 * so do not delay ACKs waiting for more. */
		sk->icsk_ack.pingpong = true;
		break;
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		/* A retransmitted FIN: the ACK scheduled above answers it. */
		break;
	case TCP_FIN_WAIT1:
		/* Simultaneous close. */
		tcp_send_ack(sk);
		tcp_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		tcp_send_ack(sk);
		tcp_fin_time_wait(sk);
		break;
	default:
		trace_event(sk->st, "tcp_fin", "FIN in %s ignored", tcp_state_name(sk->c.state));
		break;
	}
	/* Nothing can follow the FIN: out-of-order data is moot. */
	tcp_ooo_purge(sk);
	if (sk->ooo)
		sk->ooo->num_sacks = 0;
	if (!sk->orphan)
		sk_state_change(sk);
}

/* ------------------------------------------- ACKs in the closing states */

/* Linux's tcp_reset after data the user can no longer read (RFC 1122
 * 4.2.2.13): tell the peer with a RST in reply. */
static bool tcp_abort_on_data(struct sock *sk, const struct sk_buff *skb, bool reset)
{
	struct stack *st = sk->st;

	MIB_INC(st, TcpExtTCPAbortOnData);
	tcp_v4_send_reset(st, skb, "data after close");
	if (reset)
		tcp_reset(sk);
	else
		tcp_done(sk);
	return true;
}

/* New data beyond rcv_nxt (a FIN does not count). */
static bool tcp_new_data(const struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	return cb->end_seq != cb->seq && after(cb->end_seq - !!(cb->tcp_flags & TCPHDR_FIN), sk->rcv_nxt);
}

/* Our FIN is acked in FIN-WAIT-1. Returns true when sk is gone. */
static bool tcp_fin_wait1_acked(struct sock *sk, const struct sk_buff *skb)
{
	tcp_set_state(sk, TCP_FIN_WAIT2);
	sk->sk_shutdown |= SEND_SHUTDOWN;
	if (!sk->orphan) {
		sk_state_change(sk);
		return false;
	}
	if (sk->linger2 < 0 || tcp_new_data(sk, skb))
		return tcp_abort_on_data(sk, skb, false);
	return tcp_orphan_fin_wait2(sk, skb);
}

/* Data for a receiver that shut down (close() or SHUT_RD): RST. In
 * CLOSE_WAIT/CLOSING/LAST_ACK only a segment reaching below rcv_nxt gets
 * this far (Linux: step 7 of tcp_rcv_state_process). */
static bool tcp_data_after_shutdown(struct sock *sk, const struct sk_buff *skb)
{
	switch (sk->c.state) {
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		if (!before(TCP_SKB_CB(skb)->seq, sk->rcv_nxt))
			return false;
		/* fallthrough */
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		if ((sk->sk_shutdown & RCV_SHUTDOWN) && tcp_new_data(sk, skb))
			return tcp_abort_on_data(sk, skb, true);
		return false;
	default:
		return false;
	}
}

/* The tail of Linux's tcp_rcv_state_process for the closing states, after
 * tcp_ack: the ACK of our FIN moves the state on; then data nobody can read
 * any more is refused. Where Linux's function returns 1 (the caller sends
 * a RST), this sends it itself and returns true. */
bool tcp_rcv_state_teardown(struct sock *sk, struct sk_buff *skb)
{
	bool fin_acked = sk->snd_una == sk->write_seq;

	switch (sk->c.state) {
	case TCP_FIN_WAIT1:
		if (fin_acked && tcp_fin_wait1_acked(sk, skb))
			return true;
		break;
	case TCP_CLOSING:
		if (fin_acked) {
			tcp_time_wait(sk, TCP_TIME_WAIT, 0);
			return true;
		}
		break;
	case TCP_LAST_ACK:
		if (fin_acked) {
			tcp_done(sk);
			return true;
		}
		break;
	default:
		break;
	}
	return tcp_data_after_shutdown(sk, skb);
}
