/*
 * SYN cookies (Linux: net/ipv4/syncookies.c and the cookie helpers of
 * include/net/tcp.h).
 *
 * When the SYN queue is full (tcp_syncookies = 1) or always (= 2), a
 * listener answers a SYN without keeping anything: the SYN-ACK's ISN is a
 * keyed hash of the 4-tuple, the client's ISN and a minute counter, with
 * the index of the client's MSS (rounded down to a 4-entry table) folded
 * into its low 24 bits. If the SYN had timestamps, the low 6 bits of our
 * TSval also carry the client's window scale and its SACK and ECN wishes.
 * The third ACK then returns ISN + 1 and the echoed TSval, from which the
 * request is rebuilt and the child created as a normal third ACK would.
 *
 * Inputs to the hash are Linux's: addresses as the SYN carries them
 * (network order), ports as the raw big-endian 16-bit values (htons of our
 * host-order ports), so on a little-endian host the words are the same.
 * Time is the stack's clock in ms (Linux's HZ is taken as 1000).
 */
#include <arpa/inet.h>
#include <string.h>
#include "core/stack.h"
#include "core/trace.h"
#include "net/proto.h"
#include "tcp/tcp.h"

#define COOKIEBITS 24                           /* low bits: hash + MSS index */
#define COOKIEMASK ((1u << COOKIEBITS) - 1)
#define TCP_SYNCOOKIE_PERIOD_MS (60u * 1000u)   /* the counter's tick: one minute */
#define MAX_SYNCOOKIE_AGE 2                     /* ticks a cookie stays good */
#define TCP_SYNCOOKIE_VALID_MS (MAX_SYNCOOKIE_AGE * TCP_SYNCOOKIE_PERIOD_MS)
#define SYNQ_OVERFLOW_HZ_MS 1000u               /* one second of jiffies */

/* Option bits in the low TSBITS of a cookie SYN-ACK's TSval. */
#define TS_OPT_WSCALE_MASK 0xfu                 /* the peer's shift; 0xf: no WS option */
#define TS_OPT_SACK (1u << 4)
#define TS_OPT_ECN (1u << 5)
#define TSBITS 6

/* The MSS values a cookie can express, ascending. */
static const uint16_t msstab[] = { 536, 1300, 1440, 1460 };

static inline const struct tcphdr *tcp_hdr(const struct sk_buff *skb)
{
	return (const struct tcphdr *)skb_transport_header(skb);
}

static inline const struct iphdr *ip_hdr(const struct sk_buff *skb)
{
	return (const struct iphdr *)skb_network_header(skb);
}

/* The stack's clock in ms, 64 bits (Linux: jiffies_64). */
static uint64_t tcp_jiffies64(const struct stack *st) { return stack_now(st) / NSEC_PER_MSEC; }

/* The minute counter that dates a cookie (Linux: tcp_cookie_time). */
static uint32_t tcp_cookie_time(const struct stack *st)
{
	return (uint32_t)(tcp_jiffies64(st) / TCP_SYNCOOKIE_PERIOD_MS);
}

/* ----------------------------------------------------- overflow stamp */

/*
 * Remember that the SYN queue overflowed (cookies are being sent), at most
 * once a second. 0 means "never", so a stamp that would be 0 is stored as
 * 1 ms: a cookie ACK is then still accepted, and a listener that never sent
 * cookies never checks one, whatever the clock's origin.
 */
void tcp_synq_overflow(struct sock *sk)
{
	uint64_t now = tcp_jiffies64(sk->st);
	uint64_t last = sk->rskq->synq_overflow_ms;

	if (last && now >= last && now <= last + SYNQ_OVERFLOW_HZ_MS)
		return;
	sk->rskq->synq_overflow_ms = now ? now : 1;
}

/* No cookie sent within the last two minutes (one second of slack before
 * the stamp, as Linux allows for a racing update). */
bool tcp_synq_no_recent_overflow(const struct sock *sk)
{
	uint64_t now = tcp_jiffies64(sk->st);
	uint64_t last = sk->rskq->synq_overflow_ms;

	if (!last)
		return true;
	return !(now + SYNQ_OVERFLOW_HZ_MS >= last && now <= last + TCP_SYNCOOKIE_VALID_MS);
}

/* ------------------------------------------------------------ encoding */

struct cookie_tuple {
	uint32_t saddr, daddr;      /* network order, as in the segment */
	uint16_t sport, dport;      /* host order */
};

static struct cookie_tuple cookie_tuple_of(const struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct cookie_tuple t = { ip_hdr(skb)->saddr, ip_hdr(skb)->daddr, ntohs(th->source), ntohs(th->dest) };

	return t;
}

/* Keyed hash c (0 or 1) of the tuple and a counter (Linux: cookie_hash). */
static uint32_t cookie_hash(const struct stack *st, const struct cookie_tuple *t, uint32_t count, int c)
{
	uint32_t ports = (uint32_t)htons(t->sport) << 16 | htons(t->dport);

	return (uint32_t)siphash_4u32(t->saddr, t->daddr, ports, count, &st->secrets.syncookie_secret[c]);
}

/* Counter in the top 8 bits; the keyed hash plus data (the MSS index) in
 * the low 24; all offset by a time-independent hash and the peer's ISN. */
static uint32_t secure_tcp_syn_cookie(const struct stack *st, const struct cookie_tuple *t, uint32_t sseq,
				      uint32_t data)
{
	uint32_t count = tcp_cookie_time(st);

	return cookie_hash(st, t, 0, 0) + sseq + (count << COOKIEBITS) +
	       ((cookie_hash(st, t, count, 1) + data) & COOKIEMASK);
}

/* The data a cookie carries, or a value >= ARRAY_SIZE(msstab) when it is
 * not ours or older than MAX_SYNCOOKIE_AGE counter ticks. */
static uint32_t check_tcp_syn_cookie(const struct stack *st, uint32_t cookie, const struct cookie_tuple *t,
				     uint32_t sseq)
{
	uint32_t count = tcp_cookie_time(st);
	uint32_t diff;

	cookie -= cookie_hash(st, t, 0, 0) + sseq;
	diff = (count - (cookie >> COOKIEBITS)) & (0xffffffffu >> COOKIEBITS);
	if (diff >= MAX_SYNCOOKIE_AGE)
		return 0xffffffffu;
	return (cookie - cookie_hash(st, t, count - diff, 1)) & COOKIEMASK;
}

/* The largest table entry not above the peer's MSS; index 0 when even
 * 536 is too big. */
static uint32_t cookie_mss_index(uint16_t mss)
{
	uint32_t i = ARRAY_SIZE(msstab) - 1;

	while (i > 0 && mss < msstab[i])
		i--;
	return i;
}

/* The cookie ISN for a SYN; *mssp becomes the table value it encodes
 * (Linux: cookie_v4_init_sequence). */
static uint32_t cookie_v4_init_sequence(const struct stack *st, const struct sk_buff *skb, uint16_t *mssp)
{
	struct cookie_tuple t = cookie_tuple_of(skb);
	uint32_t idx = cookie_mss_index(*mssp);

	*mssp = msstab[idx];
	return secure_tcp_syn_cookie(st, &t, TCP_SKB_CB(skb)->seq, idx);
}

/* Linux's cookie_init_sequence: a cookie is being sent. */
uint32_t cookie_init_sequence(struct sock *listener, const struct sk_buff *skb, uint16_t *mssp)
{
	tcp_synq_overflow(listener);
	MIB_INC(listener->st, TcpExtSyncookiesSent);
	return cookie_v4_init_sequence(listener->st, skb, mssp);
}

/*
 * The TSval (before ts_off) of a cookie SYN-ACK: the clock with its low
 * TSBITS replaced by the options, never later than the clock, so that the
 * connection's later TSvals do not go backwards.
 */
uint32_t cookie_init_timestamp(const struct request_sock *req, uint64_t now_ms)
{
	uint64_t ts;
	uint32_t options = req->wscale_ok ? req->snd_wscale : TS_OPT_WSCALE_MASK;

	if (req->sack_ok)
		options |= TS_OPT_SACK;
	if (req->ecn_ok)
		options |= TS_OPT_ECN;
	ts = (now_ms >> TSBITS) << TSBITS | options;
	if (ts > now_ms)
		ts -= 1u << TSBITS;
	return (uint32_t)ts;
}

/* ------------------------------------------------------------ checking */

/* The MSS a cookie ACK's ack_seq - 1 encodes, or 0 if it is not a valid
 * cookie (Linux: __cookie_v4_check). */
int __cookie_v4_check(const struct stack *st, const struct sk_buff *skb)
{
	struct cookie_tuple t = cookie_tuple_of(skb);
	uint32_t cookie = TCP_SKB_CB(skb)->ack_seq - 1;
	uint32_t idx = check_tcp_syn_cookie(st, cookie, &t, TCP_SKB_CB(skb)->seq - 1);

	return idx < ARRAY_SIZE(msstab) ? msstab[idx] : 0;
}

/*
 * The options the SYN had, from the echoed TSval's low bits (rcv_tsecr,
 * our ts_off already removed). False when they name an option the sysctls
 * now forbid; without TS the connection has none of them.
 */
static bool cookie_timestamp_decode(const struct stack *st, struct tcp_options_received *rx)
{
	uint32_t options = rx->rcv_tsecr;

	if (!rx->saw_tstamp) {
		tcp_clear_options(rx);
		return true;
	}
	if (!st->sysctl.tcp_timestamps)
		return false;
	rx->sack_ok = (options & TS_OPT_SACK) != 0;
	if (rx->sack_ok && !st->sysctl.tcp_sack)
		return false;
	if ((options & TS_OPT_WSCALE_MASK) == TS_OPT_WSCALE_MASK)
		return true;
	rx->wscale_ok = true;
	rx->snd_wscale = (uint8_t)(options & TS_OPT_WSCALE_MASK);
	return st->sysctl.tcp_window_scaling != 0;
}

/* The ACK's options; TSecr with our timestamp offset taken off. */
static void cookie_parse_ack_options(struct stack *st, const struct sk_buff *skb,
				     struct tcp_options_received *rx, uint32_t *tsoff)
{
	const struct tcphdr *th = tcp_hdr(skb);
	int optlen = (int)((th->doff_res >> 4) * 4) - (int)sizeof(*th);

	memset(rx, 0, sizeof(*rx));
	*tsoff = 0;
	if (optlen > 0)
		tcp_parse_options(st, (const uint8_t *)(th + 1), optlen, false, false, rx, NULL);
	if (rx->saw_tstamp && rx->rcv_tsecr) {
		*tsoff = secure_tcp_ts_off(st, ip_hdr(skb)->daddr, ip_hdr(skb)->saddr);
		rx->rcv_tsecr -= *tsoff;
	}
}

/* The request the SYN would have made, rebuilt from the ACK (Linux:
 * cookie_tcp_reqsk_alloc + cookie_tcp_reqsk_init). Kept off every queue. */
static void cookie_tcp_reqsk_init(struct request_sock *req, struct sock *listener, const struct sk_buff *skb,
				  const struct tcp_options_received *rx, int mss, uint32_t tsoff)
{
	struct cookie_tuple t = cookie_tuple_of(skb);

	memset(req, 0, sizeof(*req));
	req->listener = listener;
	INIT_HLIST_NODE(&req->c.node);
	req->c.state = TCP_NEW_SYN_RECV;
	req->c.laddr = t.daddr;
	req->c.raddr = t.saddr;
	req->c.lport = t.dport;
	req->c.rport = t.sport;
	req->rcv_isn = TCP_SKB_CB(skb)->seq - 1;
	req->rcv_nxt = req->rcv_isn + 1;
	req->snt_isn = TCP_SKB_CB(skb)->ack_seq - 1;
	req->mss = (uint16_t)mss;
	req->ts_recent = rx->saw_tstamp ? rx->rcv_tsval : 0;
	req->tstamp_ok = rx->saw_tstamp;
	req->sack_ok = rx->sack_ok;
	req->wscale_ok = rx->wscale_ok;
	req->snd_wscale = rx->snd_wscale;
	req->ecn_ok = (rx->rcv_tsecr & TS_OPT_ECN) && listener->st->sysctl.tcp_ecn;
	req->ts_off = tsoff;
	req->tos = listener->tos;
}

/* Redo the SYN-ACK's window choice; Linux passes the cookie's MSS here
 * (not our advertised MSS less TS, as the SYN-ACK did). */
static void cookie_init_rwin(struct request_sock *req, const struct sock *listener)
{
	int full_space = tcp_full_space(listener->sk_rcvbuf);
	uint32_t clamp = listener->window_clamp;

	if (listener->rcvbuf_locked && (clamp > (uint32_t)full_space || clamp == 0))
		clamp = (uint32_t)full_space;
	req->rsk_window_clamp = clamp;
	tcp_select_initial_window(listener->st, full_space, req->mss, &req->rsk_rcv_wnd, &req->rsk_window_clamp,
				  req->wscale_ok, &req->rcv_wscale, 0);
}

/* Linux's tcp_get_cookie_sock: the child (tcp_v4_syn_recv_sock) straight
 * into the accept queue. NULL when the queue is full. */
static struct sock *tcp_get_cookie_sock(struct request_sock *req, const struct sk_buff *skb)
{
	struct sock *listener = req->listener;
	struct stack *st = listener->st;
	struct sock *child;

	if (listener->rskq->ack_backlog > listener->rskq->max_ack_backlog) {
		MIB_INC(st, TcpExtListenOverflows);
		MIB_INC(st, TcpExtListenDrops);
		return NULL;
	}
	child = tcp_create_openreq_child(req, skb);
	if (!child) {
		MIB_INC(st, TcpExtListenDrops);
		return NULL;
	}
	list_add_tail(&child->accept_node, &listener->rskq->accept_queue);
	listener->rskq->ack_backlog++;
	trace_event(st, "cookie_v4_check", "child created %u -> %u", child->c.lport, child->c.rport);
	return child;
}

/*
 * Linux's cookie_v4_check, for a non-SYN segment that reached a listener.
 * Returns the listener (not a cookie ACK: LISTEN processing follows), NULL
 * (consumed: drop it), or the child the cookie rebuilt.
 */
struct sock *cookie_v4_check(struct sock *sk, struct sk_buff *skb)
{
	struct stack *st = sk->st;
	uint8_t flags = TCP_SKB_CB(skb)->tcp_flags;
	struct tcp_options_received rx;
	struct request_sock req;
	uint32_t tsoff;
	int mss;

	if (!st->sysctl.tcp_syncookies || !(flags & TCPHDR_ACK) || (flags & TCPHDR_RST))
		return sk;
	if (tcp_synq_no_recent_overflow(sk))
		return sk;
	mss = __cookie_v4_check(st, skb);
	if (!mss) {
		MIB_INC(st, TcpExtSyncookiesFailed);
		trace_event(st, "cookie_v4_check", "bad cookie from port %u", ntohs(tcp_hdr(skb)->source));
		return sk;
	}
	MIB_INC(st, TcpExtSyncookiesRecv);
	cookie_parse_ack_options(st, skb, &rx, &tsoff);
	if (!cookie_timestamp_decode(st, &rx))
		return sk;
	cookie_tcp_reqsk_init(&req, sk, skb, &rx, mss, tsoff);
	cookie_init_rwin(&req, sk);
	return tcp_get_cookie_sock(&req, skb);
}
