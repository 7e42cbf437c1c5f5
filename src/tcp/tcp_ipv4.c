/* TCP over IPv4: segment demux, connect, ICMP errors, setup and teardown of
 * the per-stack TCP state (Linux: net/ipv4/tcp_ipv4.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/checksum.h"
#include "net/ip.h"
#include "net/proto.h"
#include "tcp/tcp.h"

void tcp_v4_init(struct stack *st)
{
	inet_hashinfo_init(st);
	tcp_timer_handlers_init(st);
	kmem_cache_init(&st->tcp.sk_slab, sizeof(struct sock));
	kmem_cache_init(&st->tcp.tw_slab, sizeof(struct tcp_timewait_sock));
	kmem_cache_init(&st->tcp.req_slab, sizeof(struct request_sock));
	INIT_LIST_HEAD(&st->tcp.orphans);
	st->tcp.fastopen_ctx.key[0] = st->secrets.fastopen_key; /* fastopen: */
	st->tcp.fastopen_ctx.num = 1;
	ip_register_protocol(st, IPPROTO_TCP, tcp_v4_rcv);
	ip_register_err_handler(st, IPPROTO_TCP, tcp_v4_err);
}

/* Free every socket and request: listeners' queues first, then descriptors. */
void tcp_v4_destroy(struct stack *st)
{
	struct tcp_state_all *t = &st->tcp;
	struct sock *orphan, *next;

	/* teardown hook: minisocks and orphans belong to no descriptor. */
	inet_twsk_destroy_all(st);
	list_for_each_entry_safe(orphan, next, &t->orphans, orphan_node)
		sk_free(orphan);
	for (int fd = 0; fd < t->nfds; fd++) {
		struct sock *sk = t->fds[fd];
		if (!sk)
			continue;
		t->fds[fd] = NULL;
		sk->fd = -1;
		sk->orphan = true;
		tcp_clear_xmit_timers(sk);
		if (sk->c.state == TCP_LISTEN)
			inet_csk_listen_stop(sk, false);
		sk_free(sk);
	}
	free(t->fds);
	t->fds = NULL;
	t->nfds = 0;
	inet_hashinfo_destroy(st);
	kmem_cache_destroy(&st->tcp.tw_slab);
	kmem_cache_destroy(&st->tcp.sk_slab);
	kmem_cache_destroy(&st->tcp.req_slab);
	ep_destroy_all(st);
	tcp_metrics_free(t->metrics); /* fastopen: the cookie cache */
	t->metrics = NULL;
}

/* Header checks of tcp_v4_rcv; fills TCP_SKB_CB. False: drop (counted). */
static bool tcp_v4_check_header(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	const struct tcphdr *th;
	uint32_t doff;
	struct tcp_skb_cb *cb;

	if (!pskb_may_pull(skb, sizeof(struct tcphdr))) {
		MIB_INC(st, TcpInErrs);
		trace_drop(st, "tcp_v4_rcv", "segment shorter than a TCP header");
		return false;
	}
	th = (const struct tcphdr *)skb->data;
	doff = (uint32_t)(th->doff_res >> 4) * 4;
	if (doff < sizeof(struct tcphdr) || doff > skb->len) {
		MIB_INC(st, TcpInErrs);
		trace_drop(st, "tcp_v4_rcv", "bad data offset %u", doff);
		return false;
	}
	/* A device that merged segments (a TAP's GSO) vouched for the sum:
	 * the kernel that built the frame left it for hardware to fill. */
	if (skb->ip_summed != CHECKSUM_UNNECESSARY &&
	    csum_fold(csum_partial(skb->data, skb->len,
				   csum_tcpudp_nofold(iph->saddr, iph->daddr, skb->len, IPPROTO_TCP, 0))) != 0) {
		MIB_INC(st, TcpInCsumErrors);
		MIB_INC(st, TcpInErrs);
		trace_drop(st, "tcp_v4_rcv", "bad checksum");
		return false;
	}
	skb_reset_transport_header(skb);
	cb = TCP_SKB_CB(skb);
	memset(cb, 0, sizeof(*cb));
	cb->seq = ntohl(th->seq);
	cb->ack_seq = ntohl(th->ack_seq);
	cb->tcp_flags = th->flags;
	cb->end_seq = cb->seq + !!(th->flags & TCPHDR_SYN) + !!(th->flags & TCPHDR_FIN) + skb->len - doff;
	return true;
}

/* Linux's tcp_child_process: the new child takes the segment; wake the
 * listener. (syncookies: shared with the cookie path, was inline below.) */
static void tcp_child_process(struct stack *st, struct sock *listener, struct sock *child, struct sk_buff *skb)
{
	if (tcp_rcv_state_process(child, skb))
		tcp_v4_send_reset(st, skb, "tcp_child_process");
	sk_state_change(listener);
}

/* A segment for a request sock (Linux: the TCP_NEW_SYN_RECV branch). */
static void tcp_v4_rcv_req(struct stack *st, struct request_sock *req, struct sk_buff *skb)
{
	struct sock *listener = req->listener;
	struct sock *nsk = tcp_check_req(req, skb);

	if (!nsk)
		return;
	if (nsk == listener) {
		if (tcp_rcv_state_process(listener, skb))
			tcp_v4_send_reset(st, skb, "tcp_check_req: bad ACK");
		return;
	}
	tcp_child_process(st, listener, nsk, skb);
}

/* syncookies: a non-SYN segment for a listener may be a cookie's third ACK
 * (Linux: tcp_v4_cookie_check). */
static struct sock *tcp_v4_cookie_check(struct sock *sk, struct sk_buff *skb)
{
	if (!(TCP_SKB_CB(skb)->tcp_flags & TCPHDR_SYN))
		sk = cookie_v4_check(sk, skb);
	return sk;
}

void tcp_v4_rcv(struct stack *st, struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(skb);
	const struct tcphdr *th;
	struct sock_common *c;
	struct sock *sk;

	MIB_INC(st, TcpInSegs);
	if (!tcp_v4_check_header(st, skb))
		goto out;
	th = (const struct tcphdr *)skb_transport_header(skb);
	c = inet_lookup_established(st, iph->saddr, ntohs(th->source), iph->daddr, ntohs(th->dest));
	if (c && c->state == TCP_NEW_SYN_RECV) {
		tcp_v4_rcv_req(st, container_of(c, struct request_sock, c), skb);
		goto out;
	}
	/* teardown hook: a TIME-WAIT minisock answers for its tuple. */
	if (c && c->state == TCP_TIME_WAIT) {
		tcp_v4_rcv_timewait(st, container_of(c, struct tcp_timewait_sock, c), skb);
		goto out;
	}
	sk = c ? container_of(c, struct sock, c) : inet_lookup_listener(st, iph->daddr, ntohs(th->dest));
	if (!sk) {
		tcp_v4_send_reset(st, skb, "no socket");
		goto out;
	}
	if (sk->c.state == TCP_LISTEN) { /* syncookies: tcp_v4_do_rcv's listener branch */
		struct sock *nsk = tcp_v4_cookie_check(sk, skb);

		if (nsk != sk) {
			if (nsk)
				tcp_child_process(st, sk, nsk, skb);
			goto out;
		}
	}
	if (tcp_rcv_state_process(sk, skb))
		tcp_v4_send_reset(st, skb, tcp_state_name(sk->c.state));
out:
	kfree_skb(skb);
}

/* Linux's tcp_v4_connect. */
int tcp_v4_connect(struct sock *sk, uint32_t daddr, uint16_t dport)
{
	struct stack *st = sk->st;
	uint32_t nexthop, saddr;
	int err;

	if (ip_is_broadcast(st, daddr) || (ntohl(daddr) >> 28) == 0xe)
		return -ENETUNREACH;
	err = ip_route_output(st, daddr, &nexthop, &saddr);
	if (err)
		return err;
	if (!sk->c.laddr)
		sk->c.laddr = saddr;
	sk->c.raddr = daddr;
	sk->c.rport = dport;
	sk->rx_opt.mss_clamp = TCP_MSS_DEFAULT;
	tcp_set_state(sk, TCP_SYN_SENT);
	err = inet_hash_connect(sk);
	if (err)
		goto failure;
	if (!sk->write_seq)
		sk->write_seq = secure_tcp_seq(st, sk->c.laddr, daddr, sk->c.lport, dport);
	sk->tsoffset = secure_tcp_ts_off(st, sk->c.laddr, daddr);
	sk->inet_id = (uint16_t)prng_u32(&st->rng);
	trace_event(st, "tcp_v4_connect", "%u -> %u", sk->c.lport, dport);
	if (tcp_fastopen_defer_connect(sk)) /* fastopen: the SYN waits for data */
		return 0;
	err = tcp_connect(sk);
	if (err)
		goto failure;
	return 0;
failure:
	tcp_set_state(sk, TCP_CLOSE);
	sk->c.rport = 0;
	sk->c.raddr = 0;
	return err;
}

/* ICMP unreachable codes to errno (Linux: icmp_err_convert). */
static int icmp_unreach_errno(uint8_t code)
{
	static const int map[] = {
		ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED, EMSGSIZE, EOPNOTSUPP,
		ENETUNREACH, EHOSTDOWN,    ENONET,      ENETUNREACH,  EHOSTUNREACH, ENETUNREACH,
		EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH,
	};
	return code < ARRAY_SIZE(map) ? map[code] : 0;
}

static int tcp_icmp_errno(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
		/* Path MTU discovery comes with the data path. */
		return code == ICMP_FRAG_NEEDED ? 0 : icmp_unreach_errno(code);
	case ICMP_TIME_EXCEEDED:
		return EHOSTUNREACH;
	case ICMP_PARAMETERPROB:
		return EPROTO;
	default:
		return 0;
	}
}

/* Linux's tcp_v4_err: quoted is the IP header the error quotes, followed by
 * at least 8 bytes of our TCP header. */
void tcp_v4_err(struct stack *st, const uint8_t *quoted, size_t len, uint8_t type, uint8_t code, uint32_t info)
{
	const struct iphdr *iph = (const struct iphdr *)quoted;
	size_t ihl = (size_t)ip_hdr_ihl(iph) * 4;
	const struct tcphdr *th;
	struct sock_common *c;
	struct sock *sk;
	uint32_t seq;
	int err = tcp_icmp_errno(type, code);

	(void)info;
	if (len < sizeof(*iph) || ihl < sizeof(*iph) || len < ihl + 8 || !err)
		return;
	th = (const struct tcphdr *)(quoted + ihl);
	seq = ntohl(th->seq);
	c = inet_lookup_established(st, iph->daddr, ntohs(th->dest), iph->saddr, ntohs(th->source));
	if (!c)
		return;
	if (c->state == TCP_NEW_SYN_RECV) {
		struct request_sock *req = container_of(c, struct request_sock, c);
		if (seq == req->snt_isn) {
			MIB_INC(st, TcpExtListenDrops);
			inet_csk_reqsk_queue_drop(req);
		}
		return;
	}
	/* A TIME-WAIT minisock is no struct sock; Linux ignores the error too. */
	if (c->state == TCP_TIME_WAIT)
		return;
	sk = container_of(c, struct sock, c);
	/* fastopen: a child's SYN-ACK counts; once accepted it is treated as connected. */
	if (!between(seq, sk->fastopen_rsk ? sk->fastopen_rsk->snt_isn : sk->snd_una, sk->snd_nxt))
		return;
	trace_event(st, "tcp_v4_err", "icmp type %u code %u -> %s", type, code, tcp_state_name(sk->c.state));
	if ((sk->c.state == TCP_SYN_SENT || sk->c.state == TCP_SYN_RECV) &&
	    !(sk->fastopen_rsk && list_empty(&sk->accept_node))) {
		sk->sk_err = err;
		tcp_done(sk);
		return;
	}
	sk->sk_err_soft = err;
}
