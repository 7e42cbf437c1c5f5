/*
 * Pluggable congestion control (Linux: net/ipv4/tcp_cong.c): the table of
 * modules, attaching a module to a socket, and Reno, whose slow start and
 * additive increase the other modules reuse.
 *
 * Linux keeps a run-time list that loadable modules join; synack links every
 * module in, so the registry is a constant table and needs no locking or
 * reference counts.
 */
#include <errno.h>
#include <string.h>
#include "core/compiler.h"
#include "core/stack.h"
#include "tcp/tcp.h"

/* Every module synack has. The default comes first, as in Linux's list. */
static const struct tcp_congestion_ops *const tcp_cong_list[] = {
	&tcp_cubic_ops,
	&tcp_reno_ops,
};

const struct tcp_congestion_ops *tcp_ca_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(tcp_cong_list); i++)
		if (strcmp(tcp_cong_list[i]->name, name) == 0)
			return tcp_cong_list[i];
	return NULL;
}

/* Linux builds with CONFIG_DEFAULT_TCP_CONG="cubic". */
const struct tcp_congestion_ops *tcp_ca_default(void) { return tcp_cong_list[0]; }

/* A socket that never had a module gets the default with clean state
 * (Linux: tcp_assign_congestion_control, run from tcp_init_sock). */
static void tcp_assign_congestion_control(struct sock *sk)
{
	sk->ca_ops = tcp_ca_default();
	memset(sk->ca_priv, 0, sizeof(sk->ca_priv));
}

/* Run when the connection is established (or the module is switched on a
 * live one). prior_ssthresh is cleared so that an undo cannot restore an
 * ssthresh that a previous module computed. */
void tcp_init_congestion_control(struct sock *sk)
{
	if (!sk->ca_ops)
		tcp_assign_congestion_control(sk);
	sk->prior_ssthresh = 0;
	if (sk->ca_ops->init)
		sk->ca_ops->init(sk);
}

/* The module lets go of whatever it holds for this socket. */
static void tcp_cleanup_congestion_control(struct sock *sk)
{
	if (sk->ca_ops && sk->ca_ops->release)
		sk->ca_ops->release(sk);
}

/* The new module must not see the old module's private state. A closed or
 * listening socket has no connection yet: its init runs at establishment. */
static void tcp_reinit_congestion_control(struct sock *sk, const struct tcp_congestion_ops *ca)
{
	tcp_cleanup_congestion_control(sk);
	sk->ca_ops = ca;
	memset(sk->ca_priv, 0, sizeof(sk->ca_priv));
	if (sk->c.state != TCP_CLOSE && sk->c.state != TCP_LISTEN)
		tcp_init_congestion_control(sk);
}

/* TCP_CONGESTION. Asking for the module already in use changes nothing, so
 * its state survives. */
int tcp_set_congestion_control(struct sock *sk, const char *name)
{
	const struct tcp_congestion_ops *ca = tcp_ca_find(name);

	if (!ca)
		return -ENOENT;
	if (ca != sk->ca_ops)
		tcp_reinit_congestion_control(sk, ca);
	return 0;
}

/* The module hears of the new state before ca_state changes, so it can
 * still see which state is being left. */
void tcp_set_ca_state(struct sock *sk, uint8_t ca_state)
{
	if (sk->ca_ops && sk->ca_ops->set_state)
		sk->ca_ops->set_state(sk, ca_state);
	sk->ca_state = ca_state;
}

void tcp_ca_event(struct sock *sk, enum tcp_ca_event ev)
{
	if (sk->ca_ops && sk->ca_ops->cwnd_event)
		sk->ca_ops->cwnd_event(sk, ev);
}

/* Growing cwnd is only justified when cwnd is what limits the sender
 * (RFC 7661); the output path records that in is_cwnd_limited. Linux also
 * lets slow start continue until cwnd is twice the most recently used
 * flight (max_packets_out), which synack's sock does not track: the output
 * path should fold that into is_cwnd_limited. */
static bool tcp_is_cwnd_limited(const struct sock *sk) { return sk->is_cwnd_limited; }

/* RFC 5681 slow start, one segment per segment acknowledged, but never past
 * ssthresh: the ACKs beyond it are returned so that the caller can spend
 * them on congestion avoidance in the same ACK. */
uint32_t tcp_slow_start(struct sock *sk, uint32_t acked)
{
	uint32_t cwnd = min_t(uint32_t, sk->snd_cwnd + acked, sk->snd_ssthresh);

	acked -= cwnd - sk->snd_cwnd;
	sk->snd_cwnd = min_t(uint32_t, cwnd, sk->snd_cwnd_clamp);
	return acked;
}

/* Additive increase: one segment per w segments acknowledged, counted in
 * snd_cwnd_cnt so that stretch ACKs and fractional progress are kept. */
void tcp_cong_avoid_ai(struct sock *sk, uint32_t w, uint32_t acked)
{
	/* Credit earned while w was larger (w shrank since): spend it now,
	 * but on one segment only, so a drop in w cannot cause a burst. */
	if (sk->snd_cwnd_cnt >= w) {
		sk->snd_cwnd_cnt = 0;
		sk->snd_cwnd++;
	}

	sk->snd_cwnd_cnt += acked;
	if (sk->snd_cwnd_cnt >= w) {
		uint32_t delta = sk->snd_cwnd_cnt / w;

		sk->snd_cwnd_cnt -= delta * w;
		sk->snd_cwnd += delta;
	}
	sk->snd_cwnd = min_t(uint32_t, sk->snd_cwnd, sk->snd_cwnd_clamp);
}

/* Jacobson's slow start and congestion avoidance (SIGCOMM '88). */
void tcp_reno_cong_avoid(struct sock *sk, uint32_t ack, uint32_t acked)
{
	(void)ack;
	if (!tcp_is_cwnd_limited(sk))
		return;

	if (tcp_in_slow_start(sk)) {
		acked = tcp_slow_start(sk, acked);
		if (!acked)
			return;
	}
	tcp_cong_avoid_ai(sk, sk->snd_cwnd, acked);
}

/* Halve on loss; two segments is the least that still lets an ACK clock run. */
uint32_t tcp_reno_ssthresh(struct sock *sk) { return max_t(uint32_t, sk->snd_cwnd >> 1, 2); }

/* A spurious loss indication: go back to the cwnd from before the reduction. */
uint32_t tcp_reno_undo_cwnd(struct sock *sk) { return max_t(uint32_t, sk->snd_cwnd, sk->prior_cwnd); }

const struct tcp_congestion_ops tcp_reno_ops = {
	.name = "reno",
	.ssthresh = tcp_reno_ssthresh,
	.cong_avoid = tcp_reno_cong_avoid,
	.undo_cwnd = tcp_reno_undo_cwnd,
};
