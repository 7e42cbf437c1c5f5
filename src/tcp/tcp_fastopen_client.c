/*
 * TCP Fast Open, the client side (Linux: the active half of
 * net/ipv4/tcp_fastopen.c, tcp_output.c's tcp_send_syn_data and tcp_input.c's
 * tcp_rcv_fastopen_synack). Spec section 5.1.
 *
 * The first connection to a server asks for a cookie with an empty option;
 * the SYN-ACK's cookie goes to the per-destination cache (tcp_metrics.c).
 * Later connections send data in the SYN with the cookie. The SYN with data
 * is sent once; what stays queued is a plain SYN followed by a data-only
 * segment, so a timeout resends the plain SYN and the data waits for the
 * handshake. Data the SYN-ACK does not acknowledge is resent at once.
 *
 * Blackhole detection: when a Fast Open connection looks eaten by a
 * middlebox (a third timeout, a FIN alone out of order, an out-of-order RST
 * before any data), active Fast Open pauses for the blackhole timeout,
 * doubling per repeat; data received on a Fast Open connection ends it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/proto.h"
#include "tcp/tcp.h"

uint32_t tcp_current_ssthresh(const struct sock *sk);

/* Linux's MAX_TCP_OPTION_SPACE: the SYN's data leaves room for the most
 * options a middlebox could add. */
#define MAX_TCP_OPTION_SPACE 40
#define TFO_BLACKHOLE_MAX_SHIFT 6
#define TCP_MIN_SND_MSS 48

static bool tcp_fastopen_no_cookie(const struct sock *sk, long flag)
{
	return (sk->st->sysctl.tcp_fastopen & flag) || sk->fastopen_no_cookie;
}

/* --------------------------------------------------------- blackhole */

/* Linux's tcp_fastopen_active_should_disable. */
static bool tcp_fastopen_active_should_disable(struct sock *sk)
{
	struct stack *st = sk->st;
	uint64_t timeout = (uint64_t)st->sysctl.tcp_fastopen_blackhole_timeout_sec * NSEC_PER_SEC;
	uint32_t times = st->tcp.tfo_active_disable_times;
	uint32_t shift;

	if (!timeout || !times)
		return false;
	shift = times - 1 < TFO_BLACKHOLE_MAX_SHIFT ? times - 1 : TFO_BLACKHOLE_MAX_SHIFT;
	if (stack_now(st) < st->tcp.tfo_active_disable_stamp + (timeout << shift))
		return true;
	/* The pause is over: data on this connection will end the count. */
	sk->syn_fastopen_ch = true;
	return false;
}

void tcp_fastopen_active_disable(struct sock *sk)
{
	struct stack *st = sk->st;

	if (!st->sysctl.tcp_fastopen_blackhole_timeout_sec)
		return;
	st->tcp.tfo_active_disable_stamp = stack_now(st);
	st->tcp.tfo_active_disable_times++;
	MIB_INC(st, TcpExtTCPFastOpenBlackhole);
	trace_event(st, "tcp_fastopen_active_disable", "times %u", st->tcp.tfo_active_disable_times);
}

void tcp_fastopen_active_disable_ofo_check(struct sock *sk)
{
	struct sk_buff *skb;

	if (!sk->syn_fastopen)
		return;
	if (!sk->data_segs_in) {
		if (!sk->ooo || sk->ooo->queue.qlen != 1)
			return;
		skb = list_first_entry(&sk->ooo->queue.list, struct sk_buff, list);
		if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)
			tcp_fastopen_active_disable(sk);
	} else if (sk->syn_fastopen_ch && sk->st->tcp.tfo_active_disable_times) {
		/* synack has no loopback device: every interface counts. */
		sk->st->tcp.tfo_active_disable_times = 0;
	}
}

void tcp_fastopen_active_detect_blackhole(struct sock *sk, bool expired)
{
	uint32_t timeouts = sk->icsk_retransmits;

	if ((sk->syn_fastopen || sk->syn_data || sk->syn_data_acked) && (timeouts == 2 || (timeouts < 2 && expired))) {
		tcp_fastopen_active_disable(sk);
		MIB_INC(sk->st, TcpExtTCPFastOpenActiveFail);
	}
}

/* ------------------------------------------------------------ the SYN */

/* Linux's tcp_fastopen_cookie_check: may the SYN carry data? cookie
 * becomes what the SYN's option carries (len -1: no option). */
static bool tcp_fastopen_cookie_check(struct sock *sk, uint16_t *mss, struct tcp_fastopen_cookie *cookie)
{
	tcp_fastopen_cache_get(sk, mss, cookie);
	if (tcp_fastopen_active_should_disable(sk)) {
		cookie->len = -1;
		return false;
	}
	if (tcp_fastopen_no_cookie(sk, TFO_CLIENT_NO_COOKIE)) {
		cookie->len = -1;
		return true;
	}
	if (cookie->len > 0)
		return true;
	sk->fastopen_client_fail = TFO_COOKIE_UNAVAILABLE;
	return false;
}

/* False when out of memory: the connection goes without Fast Open. */
static bool tcp_fastopen_req_start(struct sock *sk, const struct tcp_fastopen_cookie *cookie)
{
	struct tcp_fastopen_request *fo = sk->fastopen_req ? sk->fastopen_req : calloc(1, sizeof(*fo));

	if (!fo)
		return false;
	memset(fo, 0, sizeof(*fo));
	fo->cookie = *cookie;
	sk->fastopen_req = fo;
	return true;
}

bool tcp_fastopen_defer_connect(struct sock *sk)
{
	struct tcp_fastopen_cookie cookie = { .len = 0 };
	uint16_t mss;

	if (!sk->fastopen_connect || sk->fastopen_req)
		return false;
	if (tcp_fastopen_cookie_check(sk, &mss, &cookie)) {
		sk->defer_connect = true;
		return true;
	}
	/* No cookie: this SYN asks for one. */
	tcp_fastopen_req_start(sk, &cookie);
	return false;
}

static uint32_t copy_from_iov(uint8_t *dst, const struct iovec *iov, int iovcnt, uint32_t len)
{
	uint32_t done = 0;

	for (int i = 0; i < iovcnt && done < len; i++) {
		uint32_t n = (uint32_t)(iov[i].iov_len < len - done ? iov[i].iov_len : len - done);

		memcpy(dst + done, iov[i].iov_base, n);
		done += n;
	}
	return done;
}

/* Linux's __tcp_mtu_to_mss with no IP options. */
static uint32_t tcp_mtu_to_mss(const struct sock *sk, uint32_t pmtu)
{
	uint32_t mss = pmtu - 20 - 20;

	if (mss > sk->rx_opt.mss_clamp)
		mss = sk->rx_opt.mss_clamp;
	return mss < TCP_MIN_SND_MSS ? TCP_MIN_SND_MSS : mss;
}

/* The data that fits in the SYN, as a segment of its own. */
static struct sk_buff *tcp_syn_data_skb(struct sock *sk, const struct sk_buff *syn, uint32_t space)
{
	struct tcp_fastopen_request *fo = sk->fastopen_req;
	struct sk_buff *data = skb_alloc(&sk->st->skb_pool, SKB_HEADROOM, space);
	uint8_t *p;

	if (!data)
		return NULL;
	p = skb_put(data, space);
	if (!p || copy_from_iov(p, fo->iov, fo->iovcnt, space) != space) {
		kfree_skb(data);
		return NULL;
	}
	memcpy(TCP_SKB_CB(data), TCP_SKB_CB(syn), sizeof(struct tcp_skb_cb));
	TCP_SKB_CB(data)->end_seq = TCP_SKB_CB(syn)->end_seq + space;
	return data;
}

int tcp_send_syn_data(struct sock *sk, struct sk_buff *syn)
{
	struct tcp_fastopen_request *fo = sk->fastopen_req;
	struct sk_buff *data, *c;
	uint32_t space;
	int err;

	sk->rx_opt.mss_clamp = sk->advmss; /* unless a MSS is cached */
	if (!tcp_fastopen_cookie_check(sk, &sk->rx_opt.mss_clamp, &fo->cookie))
		goto fallback;
	sk->rx_opt.mss_clamp = tcp_mss_clamp(sk, sk->rx_opt.mss_clamp);
	tcp_sync_mss(sk, sk->st->dev.mtu);
	space = tcp_mtu_to_mss(sk, sk->st->dev.mtu) - MAX_TCP_OPTION_SPACE;
	if (space > fo->size)
		space = (uint32_t)fo->size;
	if (space > tcp_wspace(sk))
		space = tcp_wspace(sk);
	/* With nothing to carry the SYN goes alone, with the cookie. */
	if (!space)
		goto send_syn;
	data = tcp_syn_data_skb(sk, syn, space);
	if (!data)
		goto fallback;
	fo->copied = space;
	sk->write_seq += space;
	c = skb_copy(data);
	err = c ? tcp_transmit_skb(sk, c, TCPHDR_SYN, TCP_SKB_CB(syn)->seq) : -ENOBUFS;
	/* What stays queued is the data alone, after the plain SYN. */
	TCP_SKB_CB(data)->seq++;
	TCP_SKB_CB(data)->tcp_flags = TCPHDR_ACK | TCPHDR_PSH;
	TCP_SKB_CB(data)->tx_us = stack_now(sk->st) / NSEC_PER_USEC;
	if (!err) {
		sk->syn_data = true;
		skb_queue_tail(&sk->rtx_queue, data);
		sk->packets_out++;
		sk->bytes_sent += space;
		sk->data_segs_out++;
		MIB_INC(sk->st, TcpExtTCPOrigDataSent);
		goto done;
	}
	/* Not sent: the data waits for the handshake like any write. */
	skb_queue_tail(&sk->write_queue, data);
fallback:
	if (fo->cookie.len > 0)
		fo->cookie.len = 0;
send_syn:
	c = skb_copy(syn);
	err = c ? tcp_transmit_skb(sk, c, TCPHDR_SYN, TCP_SKB_CB(syn)->seq) : -ENOBUFS;
	if (err)
		sk->syn_fastopen = false;
done:
	fo->cookie.len = -1; /* SYN retransmissions carry no Fast Open option */
	return err;
}

/* ------------------------------------------------------------ the SYN-ACK */

/* The MSS the SYN-ACK offered, before TCP_MAXSEG lowered it, and its Fast
 * Open cookie into foc (the socket keeps no cookie: Linux passes its foc
 * down from tcp_rcv_synsent_state_process instead). */
static uint16_t tcp_synack_raw_mss(const struct sock *sk, const struct sk_buff *synack,
				   struct tcp_fastopen_cookie *foc)
{
	const struct tcphdr *th = (const struct tcphdr *)skb_transport_header(synack);
	struct tcp_options_received opt = { 0 };
	int optlen = (int)(th->doff_res >> 4) * 4 - (int)sizeof(*th);

	foc->len = -1;
	if (optlen > 0)
		tcp_parse_options(sk->st, (const uint8_t *)(th + 1), optlen, true, false, &opt, foc);
	return opt.mss_clamp;
}

/* Linux's tcp_non_congestion_loss_retransmit. */
static void tcp_non_congestion_loss_retransmit(struct sock *sk)
{
	if (sk->ca_state != TCP_CA_Loss) {
		sk->high_seq = sk->snd_nxt;
		sk->snd_ssthresh = tcp_current_ssthresh(sk);
		sk->prior_ssthresh = 0;
		sk->undo_marker = 0;
		tcp_set_ca_state(sk, TCP_CA_Loss);
	}
	tcp_xmit_retransmit_queue(sk);
}

bool tcp_rcv_fastopen_synack(struct sock *sk, struct sk_buff *synack)
{
	struct tcp_fastopen_cookie cookie;
	struct sk_buff *data = NULL, *skb;
	uint16_t mss = sk->rx_opt.mss_clamp, raw_mss;
	uint8_t try_exp = 0;
	bool syn_drop = false;

	if (sk->syn_data && !list_empty(&sk->rtx_queue.list))
		data = list_first_entry(&sk->rtx_queue.list, struct sk_buff, list);
	raw_mss = tcp_synack_raw_mss(sk, synack, &cookie);
	if (mss == sk->rx_opt.user_mss)
		mss = raw_mss;
	if (!sk->syn_fastopen) {
		cookie.len = -1; /* unsolicited: ignored */
	} else if (sk->total_retrans) {
		/* Only a plain SYN got through: the SYN with data, or its
		 * SYN-ACK, was lost. */
		syn_drop = cookie.len < 0 && data;
	} else if (cookie.len < 0 && !sk->syn_data) {
		/* Asked and got nothing: try the other option form next time. */
		try_exp = sk->syn_fastopen_exp ? 2 : 1;
	}
	tcp_fastopen_cache_set(sk, mss, &cookie, syn_drop, try_exp);
	if (data) {
		sk->fastopen_client_fail = sk->total_retrans ? TFO_SYN_RETRANSMITTED : TFO_DATA_NOT_ACKED;
		for (skb = data; &skb->list != &sk->rtx_queue.list;
		     skb = list_entry(skb->list.next, struct sk_buff, list))
			tcp_mark_skb_lost(sk, skb);
		tcp_non_congestion_loss_retransmit(sk);
		MIB_INC(sk->st, TcpExtTCPFastOpenActiveFail);
		trace_event(sk->st, "tcp_rcv_fastopen_synack", "SYN data not acknowledged: resent");
		return true;
	}
	sk->syn_data_acked = sk->syn_data;
	if (sk->syn_data_acked) {
		MIB_INC(sk->st, TcpExtTCPFastOpenActive);
		/* The SYN with data counted as two deliveries. */
		if (sk->delivered > 1)
			sk->delivered--;
	}
	tcp_fastopen_add_skb(sk, synack);
	return false;
}
