/* Socket-facing TCP: state changes and their bookkeeping, reset, close
 * (Linux: net/ipv4/tcp.c). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/proto.h"
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
	if (sk->fastopen_rsk) /* fastopen: */
		reqsk_fastopen_remove(sk, sk->fastopen_rsk, false);
	if (sk->c.state == TCP_SYN_SENT || sk->c.state == TCP_SYN_RECV)
		MIB_INC(sk->st, TcpAttemptFails);
	tcp_set_state(sk, TCP_CLOSE);
	tcp_clear_xmit_timers(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;
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


/* ---- the user's data (Linux: tcp_sendmsg_locked, tcp_recvmsg_locked) ---- */

uint32_t tcp_inq(const struct sock *sk) { return sk->rcv_nxt - sk->copied_seq; }

/* Bytes still accepted by send(): the send buffer less what is queued or in
 * flight (Linux: sk_stream_wspace with sk_wmem_queued). */
uint32_t tcp_wspace(const struct sock *sk)
{
	uint64_t queued = (uint64_t)sk->write_queue.bytes + sk->rtx_queue.bytes;

	return queued >= sk->sk_sndbuf ? 0 : (uint32_t)(sk->sk_sndbuf - queued);
}

static bool tcp_can_send(const struct sock *sk)
{
	return sk->c.state == TCP_ESTABLISHED || sk->c.state == TCP_CLOSE_WAIT ||
	       (sk->c.state == TCP_SYN_RECV && sk->fastopen_rsk); /* fastopen: tcp_passive_fastopen */
}

/* The unsent tail skb, if more bytes fit in it. */
static struct sk_buff *tcp_write_tail_with_room(struct sock *sk, uint32_t mss)
{
	struct sk_buff *tail;

	if (list_empty(&sk->write_queue.list))
		return NULL;
	tail = list_entry(sk->write_queue.list.prev, struct sk_buff, list);
	if (TCP_SKB_CB(tail)->tcp_flags & TCPHDR_FIN || tail->len >= mss)
		return NULL;
	return tail;
}

static struct sk_buff *tcp_stream_alloc_skb(struct sock *sk, uint32_t mss)
{
	struct sk_buff *skb = skb_alloc(&sk->st->skb_pool, SKB_HEADROOM, mss);

	if (!skb)
		return NULL;
	TCP_SKB_CB(skb)->seq = TCP_SKB_CB(skb)->end_seq = sk->write_seq;
	TCP_SKB_CB(skb)->tcp_flags = TCPHDR_ACK;
	skb_queue_tail(&sk->write_queue, skb);
	return skb;
}

/* Append up to len bytes from buf; returns how many fitted. */
static uint32_t tcp_append(struct sock *sk, const uint8_t *buf, uint32_t len, uint32_t mss)
{
	uint32_t done = 0;

	while (done < len && tcp_wspace(sk) > 0) {
		struct sk_buff *skb = tcp_write_tail_with_room(sk, mss);
		uint32_t n;
		uint8_t *p;

		if (!skb && !(skb = tcp_stream_alloc_skb(sk, mss)))
			break;
		n = min_t(uint32_t, len - done, mss - skb->len);
		n = min_t(uint32_t, n, tcp_wspace(sk));
		p = skb_put(skb, n);
		if (!p)
			break;
		memcpy(p, buf + done, n);
		sk->write_queue.bytes += n;
		TCP_SKB_CB(skb)->end_seq += n;
		sk->write_seq += n;
		done += n;
	}
	return done;
}

long tcp_sendmsg(struct sock *sk, const struct iovec *iov, int iovcnt, int flags)
{
	uint32_t mss = tcp_current_mss(sk);
	long copied = 0;

	if (sk->sk_err)
		return -sk->sk_err;
	if (sk->sk_shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	if (!tcp_can_send(sk))
		return sk->c.state == TCP_SYN_SENT || sk->c.state == TCP_SYN_RECV ? -EAGAIN : -ENOTCONN;
	for (int i = 0; i < iovcnt; i++) {
		uint32_t want = (uint32_t)min_t(size_t, iov[i].iov_len, UINT32_MAX);
		uint32_t got = tcp_append(sk, iov[i].iov_base, want, mss);

		copied += got;
		if (got < want)
			break;
	}
	if (!copied)
		return -EAGAIN;
	/* The end of a write is pushed unless the user says more follows. */
	if (!(flags & MSG_MORE) && !list_empty(&sk->write_queue.list)) {
		struct sk_buff *tail = list_entry(sk->write_queue.list.prev, struct sk_buff, list);
		TCP_SKB_CB(tail)->tcp_flags |= TCPHDR_PSH;
	}
	if (!(flags & MSG_MORE))
		tcp_push_pending_frames(sk);
	return copied;
}

/* After the user read, a larger window may be worth announcing (Linux:
 * tcp_cleanup_rbuf). */
static void tcp_cleanup_rbuf(struct sock *sk, uint32_t copied)
{
	uint32_t rcv_window_now = sk->rcv_wup + sk->rcv_wnd - sk->rcv_nxt;

	if (!copied || sk->c.state == TCP_CLOSE)
		return;
	if (sk->icsk_ack.pending && (sk->rcv_nxt - sk->rcv_wup > sk->rcv_mss))
		goto send;
	if (2 * rcv_window_now <= sk->window_clamp) {
		uint32_t new_window = tcp_select_window_peek(sk);
		if (new_window && new_window >= 2 * rcv_window_now)
			goto send;
	}
	return;
send:
	tcp_send_ack(sk);
}

long tcp_recvmsg(struct sock *sk, const struct iovec *iov, int iovcnt, int flags)
{
	struct sk_buff *skb, *n;
	uint32_t seq = sk->copied_seq;
	long copied = 0;
	int i = 0;
	size_t off_in_iov = 0;

	size_t want = 0;

	if (sk->c.state == TCP_LISTEN)
		return -ENOTCONN;
	for (int k = 0; k < iovcnt; k++)
		want += iov[k].iov_len;
	/* Linux's loop runs once even for len 0: with data queued that reads 0. */
	if (!want && !list_empty(&sk->receive_queue.list))
		return 0;
	list_for_each_entry_safe(skb, n, &sk->receive_queue.list, list) {
		uint32_t offset = seq - TCP_SKB_CB(skb)->seq;
		uint32_t avail = skb->len - offset;

		while (avail && i < iovcnt) {
			size_t room = iov[i].iov_len - off_in_iov;
			uint32_t take = (uint32_t)min_t(size_t, room, avail);

			memcpy((uint8_t *)iov[i].iov_base + off_in_iov, skb->data + offset, take);
			copied += take;
			seq += take;
			offset += take;
			avail -= take;
			off_in_iov += take;
			if (off_in_iov == iov[i].iov_len) {
				i++;
				off_in_iov = 0;
			}
		}
		if (avail)
			break;
		if (!(flags & MSG_PEEK)) {
			skb_unlink(skb, &sk->receive_queue);
			kfree_skb(skb);
		}
	}
	if (copied) {
		if (!(flags & MSG_PEEK)) {
			sk->copied_seq = seq;
			tcp_rcv_space_adjust(sk);
			tcp_cleanup_rbuf(sk, (uint32_t)copied);
		}
		return copied;
	}
	if (sk->sk_err) {
		int err = sk->sk_err;
		sk->sk_err = 0;
		return -err;
	}
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		return 0;
	if (sk->c.state == TCP_CLOSE)
		return sk->sock_state == SS_CONNECTED ? 0 : -ENOTCONN;
	return -EAGAIN;
}

/* TCP_INFO (Linux: tcp_get_info): the fields with Linux's meanings. */
void tcp_get_info(const struct sock *sk, struct synack_tcp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->tcpi_state = sk->c.state;
	info->tcpi_ca_state = sk->ca_state;
	info->tcpi_retransmits = sk->icsk_retransmits;
	info->tcpi_probes = sk->probes_out;
	info->tcpi_backoff = sk->icsk_backoff;
	if (sk->rx_opt.tstamp_ok)
		info->tcpi_options |= SYNACK_TCPI_OPT_TIMESTAMPS;
	if (sk->rx_opt.sack_ok)
		info->tcpi_options |= SYNACK_TCPI_OPT_SACK;
	if (sk->rx_opt.wscale_ok) {
		info->tcpi_options |= SYNACK_TCPI_OPT_WSCALE;
		info->tcpi_snd_wscale = sk->rx_opt.snd_wscale;
		info->tcpi_rcv_wscale = sk->rx_opt.rcv_wscale;
	}
	info->tcpi_rto = sk->icsk_rto * 1000;
	info->tcpi_ato = sk->icsk_ack.ato * 1000;
	info->tcpi_snd_mss = sk->mss_cache;
	info->tcpi_rcv_mss = sk->rcv_mss;
	info->tcpi_unacked = sk->packets_out;
	info->tcpi_sacked = sk->sacked_out;
	info->tcpi_lost = sk->lost_out;
	info->tcpi_retrans = sk->retrans_out;
	info->tcpi_last_data_sent = stack_jiffies(sk->st) - sk->lsndtime;
	info->tcpi_pmtu = sk->st->dev.mtu;
	info->tcpi_rcv_ssthresh = sk->rcv_ssthresh;
	info->tcpi_rtt = sk->srtt_us >> 3;
	info->tcpi_rttvar = sk->mdev_us >> 2;
	info->tcpi_snd_ssthresh = sk->snd_ssthresh;
	info->tcpi_snd_cwnd = sk->snd_cwnd;
	info->tcpi_advmss = sk->advmss;
	info->tcpi_reordering = 3;
	info->tcpi_rcv_space = sk->rcvq_space.space;
	info->tcpi_rcv_rtt = sk->rcv_rtt_est.rtt_us >> 3;
	info->tcpi_total_retrans = sk->total_retrans;
	info->tcpi_fastopen_client_fail = sk->fastopen_client_fail & 3; /* fastopen: */
	info->tcpi_bytes_acked = sk->bytes_acked;
	info->tcpi_bytes_received = sk->bytes_received;
	info->tcpi_segs_out = sk->segs_out;
	info->tcpi_segs_in = sk->segs_in;
	info->tcpi_notsent_bytes = (uint32_t)sk->write_queue.bytes;
	info->tcpi_min_rtt = sk->min_rtt_us;
	info->tcpi_data_segs_in = sk->data_segs_in;
	info->tcpi_data_segs_out = sk->data_segs_out;
	info->tcpi_delivered = sk->delivered;
}
