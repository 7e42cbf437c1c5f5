/* Socket-facing TCP: state changes and their bookkeeping, reset, close
 * (Linux: net/ipv4/tcp.c). */
#include <errno.h>
#include "core/stack.h"
#include "core/trace.h"
#include "tcp/tcp.h"

static const char *const tcp_state_names[TCP_MAX_STATES] = {
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",     [TCP_SYN_RECV] = "SYN_RECV",
	[TCP_FIN_WAIT1] = "FIN_WAIT1",     [TCP_FIN_WAIT2] = "FIN_WAIT2",   [TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE",             [TCP_CLOSE_WAIT] = "CLOSE_WAIT", [TCP_LAST_ACK] = "LAST_ACK",
	[TCP_LISTEN] = "LISTEN",           [TCP_CLOSING] = "CLOSING",       [TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

const char *tcp_state_name(int state)
{
	if (state <= 0 || state >= TCP_MAX_STATES)
		return "UNKNOWN";
	return tcp_state_names[state];
}

const char *synack_tcp_state_name(int state) { return tcp_state_name(state); }

/* Counts CurrEstab/EstabResets and unhashes on CLOSE, as Linux's tcp_set_state. */
void tcp_set_state(struct sock *sk, int state)
{
	struct stack *st = sk->st;
	int old = sk->c.state;
	bool was_estab = old == TCP_ESTABLISHED || old == TCP_CLOSE_WAIT;

	if (old == state)
		return;
	if (state == TCP_ESTABLISHED && old != TCP_ESTABLISHED)
		MIB_INC(st, TcpCurrEstab);
	if (state == TCP_CLOSE) {
		if (was_estab)
			MIB_INC(st, TcpEstabResets);
		inet_ehash_remove(st, &sk->c);
		if (old == TCP_LISTEN)
			inet_listen_unhash(sk);
		if (!sk->bound)
			inet_put_port(sk);
	}
	if (was_estab && state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT)
		MIB_DEC(st, TcpCurrEstab);
	sk->c.state = (uint8_t)state;
	trace_event(st, "inet_sock_set_state", "%s -> %s", tcp_state_name(old), tcp_state_name(state));
}

/* The connection is over: count a failed attempt, stop timers, and free the
 * socket if nobody holds a descriptor for it. */
void tcp_done(struct sock *sk)
{
	if (sk->c.state == TCP_SYN_SENT || sk->c.state == TCP_SYN_RECV)
		MIB_INC(sk->st, TcpAttemptFails);
	tcp_set_state(sk, TCP_CLOSE);
	tcp_clear_xmit_timers(sk);
	skb_queue_purge(&sk->rtx_queue);
	if (sk->orphan)
		sk_free(sk);
	else
		sk_state_change(sk);
}

/* A valid RST arrived (Linux: tcp_reset). */
void tcp_reset(struct sock *sk)
{
	int err;

	trace_event(sk->st, "tcp_receive_reset", "%s", tcp_state_name(sk->c.state));
	switch (sk->c.state) {
	case TCP_SYN_SENT:
		err = ECONNREFUSED;
		break;
	case TCP_CLOSE_WAIT:
		err = EPIPE;
		break;
	case TCP_CLOSE:
		return;
	default:
		err = ECONNRESET;
	}
	sk->sk_err = err;
	tcp_done(sk);
}

/* Linux's inet_csk_listen_stop: pending handshakes vanish, unaccepted
 * children are freed - reset first when the stack is still running. */
void inet_csk_listen_stop(struct sock *sk, bool reset_children)
{
	struct request_sock *req, *rn;
	struct sock *child, *cn;

	list_for_each_entry_safe(req, rn, &sk->syn_queue, listener_node)
		inet_csk_reqsk_queue_drop(req);
	list_for_each_entry_safe(child, cn, &sk->accept_queue, accept_node) {
		list_del_init(&child->accept_node);
		sk->ack_backlog--;
		child->parent = NULL;
		child->orphan = true;
		if (reset_children && (child->c.state == TCP_ESTABLISHED || child->c.state == TCP_CLOSE_WAIT ||
				       child->c.state == TCP_SYN_RECV))
			tcp_send_active_reset(child);
		tcp_set_state(child, TCP_CLOSE);
		sk_free(child);
	}
}

/* close(): the caller has released the descriptor (sk->orphan is set).
 * Orderly release (FIN) arrives with teardown; until then a synchronized
 * connection is aborted with RST, as with SO_LINGER 0. */
void tcp_close(struct sock *sk)
{
	switch (sk->c.state) {
	case TCP_LISTEN:
		tcp_set_state(sk, TCP_CLOSE);
		inet_csk_listen_stop(sk, true);
		break;
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		tcp_send_active_reset(sk);
		tcp_set_state(sk, TCP_CLOSE);
		break;
	default:
		tcp_set_state(sk, TCP_CLOSE);
	}
	tcp_clear_xmit_timers(sk);
	sk_free(sk);
}
