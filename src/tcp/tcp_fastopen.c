/*
 * TCP Fast Open, the server side (Linux: net/ipv4/tcp_fastopen.c, the
 * fastopen parts of request_sock.c, tcp_minisocks.c's tcp_check_req with
 * fastopen = true, tcp_input.c's tcp_rcv_synrecv_state_fastopen and
 * tcp_timer.c's tcp_fastopen_synack_timer). Spec section 5.2.
 *
 * A SYN with a valid cookie (or any SYN with data when the sysctl waives
 * the cookie, 0x200) creates the child at once: it is in SYN_RECV, holds
 * the SYN's data, and sits in the accept queue before the third ACK. Its
 * request stays attached (sk->fastopen_rsk) until the third ACK; meanwhile
 * the child's own retransmit timer resends the SYN-ACK.
 *
 * The listener counts the requests of such children (fastopenq.qlen)
 * against max_qlen (TCP_FASTOPEN, or the backlog with 0x400). A request
 * whose handshake a RST ended after the child was accepted stays counted
 * for 60 s on the RST list, a defence against spoofed TFO floods.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/siphash.h"
#include "core/stack.h"
#include "core/trace.h"
#include "net/proto.h"
#include "tcp/tcp.h"

bool tcp_paws_reject(const struct tcp_options_received *rx, bool rst, uint64_t now_sec);
bool tcp_oow_rate_limited_at(struct stack *st, int mib, uint32_t *last);

#define TCP_FASTOPEN_RST_HOLD_NS (60ULL * NSEC_PER_SEC)

static const struct tcphdr *th_of(const struct sk_buff *skb)
{
	return (const struct tcphdr *)skb_transport_header(skb);
}
static uint32_t th_len(const struct sk_buff *skb) { return (uint32_t)(th_of(skb)->doff_res >> 4) * 4; }

/* ------------------------------------------------------------ the queue */

/* The caller made sk->rskq (sock_rskq). */
void fastopen_queue_tune(struct sock *sk, int backlog)
{
	unsigned int somaxconn = (unsigned int)sk->st->sysctl.somaxconn;

	sk->rskq->fastopenq.max_qlen = (unsigned int)backlog < somaxconn ? (unsigned int)backlog : somaxconn;
}

/* Linux's inet_listen: TFO without the socket option (0x400 with 0x2). */
void tcp_fastopen_listen(struct sock *sk, int backlog)
{
	long tfo = sk->st->sysctl.tcp_fastopen;

	if ((tfo & TFO_SERVER_WO_SOCKOPT1) && (tfo & TFO_SERVER_ENABLE) && !sk->rskq->fastopenq.max_qlen)
		fastopen_queue_tune(sk, backlog);
}

/* Linux's tcp_fastopen_queue_check: room for one more TFO child? When full,
 * only the oldest RST-list entry whose hold has expired makes room. */
static bool tcp_fastopen_queue_check(struct sock *sk)
{
	struct request_sock_queue *q = sk->rskq;
	struct request_sock *req1;

	if (q->fastopenq.max_qlen == 0)
		return false;
	if (q->fastopenq.qlen >= q->fastopenq.max_qlen) {
		req1 = list_empty(&q->fastopenq.rst) ? NULL
						     : list_first_entry(&q->fastopenq.rst, struct request_sock, tfo_node);
		if (!req1 || req1->tfo_rst_expires > stack_now(sk->st)) {
			MIB_INC(sk->st, TcpExtTCPFastOpenListenOverflow);
			return false;
		}
		list_del_init(&req1->tfo_node);
		q->fastopenq.qlen--;
		reqsk_free(req1);
	}
	return true;
}

/* Linux's reqsk_fastopen_remove: the child's handshake is over (third ACK,
 * RST or the child's end). After a RST on an accepted child the request is
 * held on the RST list for 60 s, still counted in qlen. */
void reqsk_fastopen_remove(struct sock *sk, struct request_sock *req, bool reset)
{
	struct sock *lsk = req->listener;
	bool accepted = list_empty(&sk->accept_node);

	sk->fastopen_rsk = NULL;
	req->tfo_child = NULL;
	req->tfo_listener = false;
	if (!lsk) { /* the listener went first */
		reqsk_free(req);
		return;
	}
	list_del_init(&req->tfo_node);
	lsk->rskq->fastopenq.qlen--;
	if (!accepted || !reset || lsk->c.state != TCP_LISTEN) {
		reqsk_free(req);
		return;
	}
	req->tfo_rst_expires = stack_now(sk->st) + TCP_FASTOPEN_RST_HOLD_NS;
	list_add_tail(&req->tfo_node, &lsk->rskq->fastopenq.rst);
	lsk->rskq->fastopenq.qlen++;
}

void tcp_fastopen_sk_free(struct sock *sk)
{
	struct request_sock *req, *n;

	tcp_fastopen_active_disable_ofo_check(sk);

	if (sk->fastopen_rsk)
		reqsk_fastopen_remove(sk, sk->fastopen_rsk, false);
	if (!sk->rskq)
		return;
	/* A listener: children in their handshake keep their requests. */
	list_for_each_entry_safe(req, n, &sk->rskq->fastopenq.active, tfo_node) {
		list_del_init(&req->tfo_node);
		req->listener = NULL;
	}
	list_for_each_entry_safe(req, n, &sk->rskq->fastopenq.rst, tfo_node) {
		list_del_init(&req->tfo_node);
		reqsk_free(req);
	}
	sk->rskq->fastopenq.qlen = 0;
}

/* ------------------------------------------------------------ cookies */

/* A 16-byte key is the SipHash key read as two little-endian words, so
 * the same bytes give the same cookies as Linux's. */
static siphash_key_t key_from_bytes(const uint8_t *b)
{
	return (siphash_key_t){ { load_le64(b), load_le64(b + 8) } };
}

void tcp_fastopen_reset_cipher(struct stack *st, struct sock *sk, const uint8_t *primary, const uint8_t *backup)
{
	struct tcp_fastopen_context *ctx = sk ? &sk->rskq->fastopen_ctx : &st->tcp.fastopen_ctx; /* sock_rskq made it */

	ctx->key[0] = key_from_bytes(primary);
	ctx->num = 1;
	if (backup) {
		ctx->key[1] = key_from_bytes(backup);
		ctx->num = 2;
	}
}

const struct tcp_fastopen_context *tcp_fastopen_get_ctx(const struct sock *sk)
{
	return sk->rskq && sk->rskq->fastopen_ctx.num ? &sk->rskq->fastopen_ctx : &sk->st->tcp.fastopen_ctx;
}

int tcp_fastopen_get_cipher(const struct stack *st, const struct sock *sk, uint8_t out[2 * TCP_FASTOPEN_KEY_LENGTH])
{
	const struct tcp_fastopen_context *ctx =
		sk && sk->rskq && sk->rskq->fastopen_ctx.num ? &sk->rskq->fastopen_ctx : &st->tcp.fastopen_ctx;

	for (int i = 0; i < ctx->num; i++) {
		store_le64(out + 16 * i, ctx->key[i].key[0]);
		store_le64(out + 16 * i + 8, ctx->key[i].key[1]);
	}
	return ctx->num;
}

/* Linux's __tcp_fastopen_cookie_gen_cipher: SipHash over saddr||daddr of
 * the SYN's IP header, stored little-endian. */
static void tcp_fastopen_cookie_gen_cipher(const struct sk_buff *syn, const siphash_key_t *key,
					   struct tcp_fastopen_cookie *foc)
{
	const struct iphdr *iph = (const struct iphdr *)skb_network_header(syn);
	uint8_t addrs[8];

	memcpy(addrs, &iph->saddr, 4);
	memcpy(addrs + 4, &iph->daddr, 4);
	store_le64(foc->val, siphash(addrs, sizeof(addrs), key));
	foc->len = TCP_FASTOPEN_COOKIE_SIZE;
}

static bool tcp_fastopen_cookie_match(const struct tcp_fastopen_cookie *foc,
				      const struct tcp_fastopen_cookie *orig)
{
	return orig->len == TCP_FASTOPEN_COOKIE_SIZE && orig->len == foc->len &&
	       !memcmp(foc->val, orig->val, (size_t)foc->len);
}

/* Linux's tcp_fastopen_cookie_gen_check: which key made orig (1 primary,
 * 2 backup, 0 none); valid_foc gets the primary key's cookie. */
static int tcp_fastopen_cookie_gen_check(const struct sock *sk, const struct sk_buff *syn,
					 const struct tcp_fastopen_cookie *orig, struct tcp_fastopen_cookie *valid_foc)
{
	const struct tcp_fastopen_context *ctx = tcp_fastopen_get_ctx(sk);
	struct tcp_fastopen_cookie search_foc = { .len = -1 };
	struct tcp_fastopen_cookie *foc = valid_foc;

	for (int i = 0; i < ctx->num; i++) {
		tcp_fastopen_cookie_gen_cipher(syn, &ctx->key[i], foc);
		if (tcp_fastopen_cookie_match(foc, orig))
			return i + 1;
		foc = &search_foc;
	}
	return 0;
}

/* ------------------------------------------------------------ the child */

/* Linux's tcp_fastopen_add_skb: the SYN's data (and FIN) on the child. */
void tcp_fastopen_add_skb(struct sock *sk, struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint8_t flags = cb->tcp_flags;
	struct sk_buff *data;

	if (cb->end_seq == sk->rcv_nxt)
		return;
	data = skb_clone(skb);
	if (!data)
		return;
	sk->segs_in = 1;
	if (skb->len > th_len(skb))
		sk->data_segs_in++;
	skb_pull(data, th_len(skb));
	TCP_SKB_CB(data)->seq = cb->seq + 1;
	TCP_SKB_CB(data)->end_seq = TCP_SKB_CB(data)->seq + data->len;
	TCP_SKB_CB(data)->tcp_flags = flags & (uint8_t)~TCPHDR_SYN;
	sk->rcv_nxt = cb->end_seq;
	sk->bytes_received = data->len;
	if (data->len) {
		skb_queue_tail(&sk->receive_queue, data);
		sk_data_ready(sk);
	} else
		kfree_skb(data);
	if (flags & TCPHDR_FIN)
		tcp_fin(sk);
}

/* Linux's tcp_fastopen_create_child. */
static struct sock *tcp_fastopen_create_child(struct sock *sk, struct sk_buff *skb, struct request_sock *req)
{
	struct sock *child = tcp_create_openreq_child(req, skb);

	if (!child)
		return NULL;
	sk->rskq->fastopenq.qlen++;
	child->fastopen_rsk = req;
	/* The request's timer (never armed) becomes its Fast Open fields. */
	req->tfo = true;
	req->tfo_listener = true;
	req->tfo_child = child;
	list_add_tail(&req->tfo_node, &sk->rskq->fastopenq.active);
	/* RFC 7323: the window of a SYN is never scaled. */
	child->snd_wnd = ntohs(th_of(skb)->window);
	child->max_window = child->snd_wnd;
	/* The child's retransmit timer resends the SYN-ACK; req is not hashed. */
	inet_csk_reset_xmit_timer(child, ICSK_TIME_RETRANS, (uint32_t)REQSK_TIMEOUT_INIT_MS);
	tcp_init_transfer(child);
	child->rcv_nxt = TCP_SKB_CB(skb)->seq + 1;
	tcp_fastopen_add_skb(child, skb);
	req->rcv_nxt = child->rcv_nxt;
	child->rcv_wup = child->rcv_nxt;
	return child;
}

/* Linux's tcp_try_fastopen. */
struct sock *tcp_try_fastopen(struct sock *sk, struct sk_buff *skb, struct request_sock *req,
			      struct tcp_fastopen_cookie *foc)
{
	struct stack *st = sk->st;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	bool syn_data = cb->end_seq != cb->seq + 1;
	long tfo = st->sysctl.tcp_fastopen;
	struct tcp_fastopen_cookie valid_foc = { .len = -1 };
	struct sock *child;
	int ret = 1;

	if (foc->len == 0) /* the client asks for a cookie */
		MIB_INC(st, TcpExtTCPFastOpenCookieReqd);
	if (!((tfo & TFO_SERVER_ENABLE) && (syn_data || foc->len >= 0) && tcp_fastopen_queue_check(sk))) {
		foc->len = -1;
		return NULL;
	}
	if (tfo & TFO_SERVER_COOKIE_NOT_REQD)
		goto fastopen;
	if (foc->len == 0) {
		tcp_fastopen_cookie_gen_cipher(skb, &tcp_fastopen_get_ctx(sk)->key[0], &valid_foc);
	} else if (foc->len > 0) {
		ret = tcp_fastopen_cookie_gen_check(sk, skb, foc, &valid_foc);

		if (!ret) {
			MIB_INC(st, TcpExtTCPFastOpenPassiveFail);
		} else {
			/* A valid cookie creates the child, data or not; one made
			 * with the backup key is answered with the primary's. */
fastopen:
			child = tcp_fastopen_create_child(sk, skb, req);
			if (child) {
				if (ret == 2) {
					valid_foc.exp = foc->exp;
					*foc = valid_foc;
					MIB_INC(st, TcpExtTCPFastOpenPassiveAltKey);
				} else {
					foc->len = -1;
				}
				MIB_INC(st, TcpExtTCPFastOpenPassive);
				trace_event(st, "tcp_fastopen", "child %u -> %u, %u bytes in the SYN", child->c.lport,
					    child->c.rport, child->rcv_nxt - (cb->seq + 1));
				return child;
			}
			MIB_INC(st, TcpExtTCPFastOpenPassiveFail);
		}
	}
	valid_foc.exp = foc->exp;
	*foc = valid_foc;
	return NULL;
}

/* The tail of tcp_conn_request for a Fast Open child: the SYN-ACK (which
 * acknowledges the data) and the accept queue (inet_csk_reqsk_queue_add). */
void tcp_fastopen_child_synack(struct sock *listener, struct request_sock *req, struct sock *child,
			       const struct tcp_fastopen_cookie *foc)
{
	tcp_v4_send_synack_foc(req, foc);
	list_add_tail(&child->accept_node, &listener->rskq->accept_queue);
	listener->rskq->ack_backlog++;
	sk_state_change(listener);
}

/* Linux's tcp_rtx_synack for a Fast Open child. */
static int tcp_fastopen_rtx_synack(struct sock *sk, struct request_sock *req)
{
	int err = tcp_v4_send_synack(req);

	if (err)
		return err;
	MIB_INC(sk->st, TcpRetransSegs);
	MIB_INC(sk->st, TcpExtTCPSynRetrans);
	sk->total_retrans++;
	req->num_retrans++;
	trace_event(sk->st, "tcp_retransmit_synack", "%u -> %u num_retrans %u", req->c.lport, req->c.rport,
		    req->num_retrans);
	return 0;
}

/* Linux's tcp_fastopen_synack_timer: one more try than a request gets. */
void tcp_fastopen_synack_timer(struct sock *sk)
{
	struct stack *st = sk->st;
	struct request_sock *req = sk->fastopen_rsk;
	unsigned int max_retries = sk->icsk_syn_retries ? sk->icsk_syn_retries
							: (unsigned int)st->sysctl.tcp_synack_retries + 1;
	uint64_t tmo;

	MIB_INC(st, TcpExtTCPTimeouts);
	if (req->num_timeout >= max_retries) {
		/* Linux's tcp_write_err. */
		sk->sk_err = sk->sk_err_soft ? sk->sk_err_soft : ETIMEDOUT;
		skb_queue_purge(&sk->write_queue);
		MIB_INC(st, TcpExtTCPAbortOnTimeout);
		tcp_done(sk);
		return;
	}
	if (sk->icsk_retransmits == 1)
		tcp_enter_loss(sk);
	/* Errors are ignored: an accepted child should not give up easily. */
	tcp_fastopen_rtx_synack(sk, req);
	req->num_timeout++;
	sk->icsk_retransmits++;
	if (!sk->retrans_stamp)
		sk->retrans_stamp = stack_jiffies(st);
	tmo = reqsk_timeout_ms(req);
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, (uint32_t)tmo);
}

/* Linux's tcp_rcv_synrecv_state_fastopen. */
void tcp_rcv_synrecv_state_fastopen(struct sock *sk)
{
	/* Still in the SYN-ACK's loss state: leave it (the cwnd part of
	 * Linux's tcp_try_undo_recovery is not done here). */
	if (sk->ca_state == TCP_CA_Loss && !sk->packets_out)
		tcp_set_ca_state(sk, TCP_CA_Open);
	sk->icsk_retransmits = 0;
	reqsk_fastopen_remove(sk, sk->fastopen_rsk, false);
	tcp_rearm_rto(sk);
}

/* ------------------------------------------------- the third ACK (check_req) */

static bool in_window(uint32_t seq, uint32_t end_seq, uint32_t s_win, uint32_t e_win)
{
	if (seq == s_win)
		return true;
	if (after(end_seq, s_win) && before(seq, e_win))
		return true;
	return seq == e_win && seq == end_seq;
}

/* Linux's tcp_check_req(fastopen = true) on the child sk: no ACK number
 * check (tcp_ack does it), no TSecr check; a RST in window ends it. */
bool tcp_fastopen_check_req(struct sock *sk, struct sk_buff *skb)
{
	struct stack *st = sk->st;
	struct request_sock *req = sk->fastopen_rsk;
	const struct tcphdr *th = th_of(skb);
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint8_t flg = cb->tcp_flags & (TCPHDR_RST | TCPHDR_SYN | TCPHDR_ACK);
	int optlen = (int)th_len(skb) - (int)sizeof(*th);
	struct tcp_options_received opt = { 0 };
	uint32_t win = min_t(uint32_t, req->rsk_rcv_wnd, 65535);
	bool paws_reject = false;

	if (optlen > 0) {
		tcp_parse_options(st, (const uint8_t *)(th + 1), optlen, false, false, &opt, NULL);
		if (opt.saw_tstamp) {
			opt.ts_recent = req->ts_recent;
			opt.ts_recent_stamp = (uint32_t)(stack_now(st) / NSEC_PER_SEC - reqsk_timeout_ms(req) / 1000);
			paws_reject = tcp_paws_reject(&opt, th->flags & TCPHDR_RST, stack_now(st) / NSEC_PER_SEC);
		}
	}
	if (cb->seq == req->rcv_isn && flg == TCPHDR_SYN && !paws_reject) {
		/* A retransmitted SYN: our SYN-ACK was lost. Its data is dropped. */
		if (!tcp_oow_rate_limited_at(st, MIB_TcpExtTCPACKSkippedSynRecv, &req->last_oow_ack_time))
			tcp_fastopen_rtx_synack(sk, req);
		return false;
	}
	if (paws_reject || !in_window(cb->seq, cb->end_seq, req->rcv_nxt, req->rcv_nxt + win)) {
		bool data = cb->seq != cb->end_seq && !(flg & TCPHDR_SYN);
		if (!(flg & TCPHDR_RST) &&
		    (data || !tcp_oow_rate_limited_at(st, MIB_TcpExtTCPACKSkippedSynRecv, &req->last_oow_ack_time)))
			tcp_v4_send_ack(st, skb, sk->snd_nxt, req->rcv_nxt, win >> req->rcv_wscale,
					stack_jiffies(st) + req->ts_off, req->ts_recent, req->tstamp_ok, req->tos);
		if (paws_reject)
			MIB_INC(st, TcpExtPAWSEstab);
		return false;
	}
	if (opt.saw_tstamp && !after(cb->seq, req->rcv_nxt))
		req->ts_recent = opt.rcv_tsval;
	if (cb->seq == req->rcv_isn)
		flg &= (uint8_t)~TCPHDR_SYN;
	if (flg & (TCPHDR_RST | TCPHDR_SYN)) {
		MIB_INC(st, TcpAttemptFails);
		if (!(flg & TCPHDR_RST)) {
			tcp_v4_send_reset(st, skb, "tcp_check_req: invalid SYN");
		} else {
			reqsk_fastopen_remove(sk, req, true);
			tcp_reset(sk);
		}
		return false;
	}
	return (flg & TCPHDR_ACK) != 0;
}

/* ------------------------------------------------- net.ipv4.tcp_fastopen_key */

/* One key as Linux's sysctl reads it: four hex words, each the little-endian
 * u32 at that offset of the key's bytes. */
static int tcp_fastopen_key_scan(const char *text, uint8_t key[TCP_FASTOPEN_KEY_LENGTH])
{
	unsigned int w[4];
	char tail;

	if (sscanf(text, "%x-%x-%x-%x%c", &w[0], &w[1], &w[2], &w[3], &tail) != 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 4; b++)
			key[4 * i + b] = (uint8_t)(w[i] >> (8 * b));
	return 0;
}

int tcp_fastopen_key_set_text(struct stack *st, const char *text)
{
	uint8_t keys[2][TCP_FASTOPEN_KEY_LENGTH];
	char buf[128];
	char *backup;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	buf[strcspn(buf, "\n")] = '\0';
	backup = strchr(buf, ',');
	if (backup)
		*backup++ = '\0';
	if (tcp_fastopen_key_scan(buf, keys[0]) || (backup && tcp_fastopen_key_scan(backup, keys[1])))
		return -EINVAL;
	tcp_fastopen_reset_cipher(st, NULL, keys[0], backup ? keys[1] : NULL);
	return 0;
}

/* The text's four words are the key's two little-endian halves, low word first. */
int tcp_fastopen_key_get_text(const struct stack *st, char *buf, size_t cap)
{
	const struct tcp_fastopen_context *ctx = &st->tcp.fastopen_ctx;
	size_t off = 0;

	for (int k = 0; k < ctx->num; k++) {
		const uint64_t *h = ctx->key[k].key;
		int len = snprintf(buf + off, cap - off, "%s%08x-%08x-%08x-%08x", k ? "," : "", (uint32_t)h[0],
				   (uint32_t)(h[0] >> 32), (uint32_t)h[1], (uint32_t)(h[1] >> 32));

		if (len < 0 || (size_t)len >= cap - off)
			return -ENOSPC;
		off += (size_t)len;
	}
	return (int)off;
}
