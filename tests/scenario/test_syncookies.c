/* SYN cookies as Linux sends and checks them (spec section 4 and 3.3):
 * when the SYN queue is full (tcp_syncookies = 1) or always (= 2) the
 * SYN-ACK's ISN is a cookie and no request is kept; a valid third ACK
 * rebuilds the request and creates the child.
 *
 * The harness stack is seeded (seed 1), so the test derives the same
 * secrets and recomputes every cookie ISN and cookie TSval exactly:
 *   ISN   = H(0, key0) + peer ISN + (count << 24) + ((H(count, key1) + mss index) & 0xffffff),
 *           count = ms / 60000, H over (saddr, daddr, sport << 16 | dport, count);
 *   TSval = (ms with its low 6 bits replaced by wscale | sack << 4 | ecn << 5,
 *           minus 64 if that is later than ms) + ts_off. */
#include <arpa/inet.h>
#include <string.h>
#include "../test.h"
#include "harness.h"
#include "core/siphash.h"

#define PORT SC_SERVER_PORT
#define ISN SC_PEER_ISN
#define PEER_TS 1000u
#define ACK_WIN (SC_PEER_WIN >> SC_PEER_WS)

/* ------------------------------------------------------------ the keys */

static struct stack_secrets harness_secrets(void)
{
	struct stack_secrets s;
	struct prng rng;

	secrets_init_seeded(&s, &rng, 1);
	return s;
}

static uint64_t now_ms(const struct sc *sc) { return sc_now(sc) / SC_NS_PER_MS; }

/* The cookie for a SYN from the peer's sport with ISN isn, sent now. */
static uint32_t cookie_for(const struct sc *sc, uint16_t sport, uint32_t isn, uint32_t mss_idx)
{
	struct stack_secrets k = harness_secrets();
	uint32_t count = (uint32_t)(now_ms(sc) / 60000);
	uint32_t ports = (uint32_t)htons(sport) << 16 | htons(PORT);
	uint32_t h0 = (uint32_t)siphash_4u32(sc->remote, sc->local, ports, 0, &k.syncookie_secret[0]);
	uint32_t h1 = (uint32_t)siphash_4u32(sc->remote, sc->local, ports, count, &k.syncookie_secret[1]);

	return h0 + isn + (count << 24) + ((h1 + mss_idx) & 0xffffff);
}

static uint32_t ts_off(const struct sc *sc)
{
	struct stack_secrets k = harness_secrets();

	return (uint32_t)siphash_2u32(sc->local, sc->remote, &k.ts_secret);
}

/* A cookie SYN-ACK's TSval now, for these option bits. */
static uint32_t cookie_tsval(const struct sc *sc, uint32_t opts)
{
	uint64_t now = now_ms(sc), ts = (now >> 6) << 6 | opts;

	if (ts > now)
		ts -= 64;
	return (uint32_t)ts + ts_off(sc);
}

/* ---------------------------------------------------------- the peer */

struct syn_opts {
	uint16_t mss;               /* 0: 1460 */
	bool no_ts, no_sack, no_ws;
	bool ecn;                   /* ECE|CWR */
};

static void put_opts(struct sc_seg *s, const uint8_t *o, size_t n)
{
	memcpy(s->opt + s->optlen, o, n);
	s->optlen += n;
	s->has_opt = true;
}

/* The peer's SYN from sport, options in Linux's order. */
static void send_syn(struct sc *sc, uint16_t sport, uint32_t isn, const struct syn_opts *o)
{
	struct sc_seg s = { .sport = sport, .dport = PORT, .flags = F_SYN, .seq = isn, .win = SC_PEER_WIN };
	uint16_t mss = o && o->mss ? o->mss : 1460;
	const uint8_t m[] = { O_MSS(mss) }, sack_ts[] = { O_SACKOK, O_TS(PEER_TS, 0) },
		      ts[] = { O_NOP, O_NOP, O_TS(PEER_TS, 0) }, sack[] = { O_NOP, O_NOP, O_SACKOK },
		      ws[] = { O_NOP, O_WS(SC_PEER_WS) };
	bool want_ts = !(o && o->no_ts), want_sack = !(o && o->no_sack), want_ws = !(o && o->no_ws);

	if (o && o->ecn)
		s.flags |= F_ECE | F_CWR;
	put_opts(&s, m, sizeof(m));
	if (want_ts)
		put_opts(&s, want_sack ? sack_ts : ts, want_sack ? sizeof(sack_ts) : sizeof(ts));
	else if (want_sack)
		put_opts(&s, sack, sizeof(sack));
	if (want_ws)
		put_opts(&s, ws, sizeof(ws));
	sc_inject(sc, &s);
}

static void send_default_syn(struct sc *sc, uint16_t sport) { send_syn(sc, sport, ISN, NULL); }

/* The third ACK for a SYN-ACK (p), with ack = p->seq + 1 + ack_delta;
 * TS (echoing p's TSval) when p had it. */
static void send_third_ack(struct sc *sc, const struct sc_pkt *p, int32_t ack_delta)
{
	struct sc_seg s = { .sport = p->dport, .dport = p->sport, .flags = F_ACK, .seq = p->ack,
			    .ack = p->seq + 1 + (uint32_t)ack_delta, .win = ACK_WIN };

	if (p->ts)
		sc_seg_ts(&s, PEER_TS + 1, p->tsval);
	sc_inject(sc, &s);
}

/* The default cookie SYN-ACK (the SYN had MSS 1460, SACK, TS, WS 7): the
 * window and options of a normal one, the ISN and TSval of a cookie. */
static const struct sc_pkt *expect_cookie_synack(struct sc *sc, uint16_t sport, const char *file, int line)
{
	uint32_t tsval = cookie_tsval(sc, SC_PEER_WS | 0x10);

	return sc_expect_(sc,
			  &(struct sc_want){ .flags = F_SYN | F_ACK, .seq = V(cookie_for(sc, sport, ISN, 3)),
					     .ack = V(ISN + 1), .win = V(65160), .sport = V(PORT), .dport = V(sport),
					     OPT(O_MSS(1460), O_SACKOK, O_TS(tsval, PEER_TS), O_NOP, O_WS(10)),
					     .tsval = V(tsval), .len = V(0), .df = V(1), .ip_id = V(0) },
			  file, line);
}
#define EXPECT_COOKIE_SYNACK(sc, sport) ({                                         \
	const struct sc_pkt *_q = expect_cookie_synack((sc), (sport), __FILE__, __LINE__); \
	if (!_q)                                                                    \
		test_failed_checks++;                                               \
	_q;                                                                         \
})

/* The connection a cookie SYN-ACK (p) opened, for sc_seg_for. */
static struct sc_conn conn_of(const struct sc_pkt *p, int listener)
{
	struct sc_conn c;

	memset(&c, 0, sizeof(c));
	c.listener = listener;
	c.lport = p->sport;
	c.rport = p->dport;
	c.iss = p->seq;
	c.irs = p->ack - 1;
	c.tsval = p->tsval;
	c.peer_ts = PEER_TS + 2;
	c.syn = *p;
	return c;
}

/* Peer data at irs + 1 + off, with TS when ts. */
static void peer_data(struct sc *sc, struct sc_conn *c, uint32_t off, uint32_t len, bool ts)
{
	static const uint8_t payload[2000];
	struct sc_seg s = sc_seg_for(c, F_ACK, c->irs + 1 + off, c->iss + 1);

	if (ts)
		sc_seg_ts(&s, c->peer_ts++, c->tsval);
	s.data = payload;
	s.len = len;
	sc_inject(sc, &s);
}

/* ------------------------------------------------- tcp_syncookies = 1 */

/* Backlog 0: the first SYN fills the SYN queue (it holds backlog + 1);
 * the second gets a cookie. Its right third ACK creates the child
 * straight into the accept queue; the cookie SYN-ACK is never resent. */
TEST(queue_full_syn_gets_cookie_and_ack_creates_child)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	struct sockaddr_in peer;
	int l = sc_listen(sc, PORT, 0), fd;

	REQUIRE(l >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT));
	CHECK_MIB(sc, "TcpExtSyncookiesSent", 0);
	send_default_syn(sc, SC_PEER_PORT + 1);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT + 1);
	REQUIRE(p);
	a = *p;
	CHECK_MIB(sc, "TcpExtTCPReqQFullDoCookies", 1);
	CHECK_MIB(sc, "TcpExtSyncookiesSent", 1);
	CHECK_MIB(sc, "TcpExtTCPReqQFullDrop", 0);
	CHECK_MIB(sc, "TcpExtListenDrops", 0);

	sc_advance(sc, MS(100));
	send_third_ack(sc, &a, 0);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 1);
	CHECK_MIB(sc, "TcpExtSyncookiesFailed", 0);
	CHECK_MIB(sc, "TcpPassiveOpens", 1);
	CHECK(synack_poll(sc->st, l) & POLLIN);
	fd = synack_accept(sc->st, l, &peer);
	REQUIRE(fd >= 0);
	CHECK_EQ(ntohs(peer.sin_port), SC_PEER_PORT + 1);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);

	/* Only the real request's SYN-ACK is retransmitted. */
	sc_advance(sc, MS(900));
	EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT));
	sc_advance(sc, SEC(10));
	while (sc_pending(sc))
		EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT));
	SC_FREE(sc);
}

/* A third ACK whose cookie does not check: SyncookiesFailed, then LISTEN
 * answers the ACK with a RST (seq = its ack). */
TEST(wrong_cookie_ack_gets_rst)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	int l = sc_listen(sc, PORT, 0);

	REQUIRE(l >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT));
	send_default_syn(sc, SC_PEER_PORT + 1);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT + 1);
	REQUIRE(p);
	a = *p;
	send_third_ack(sc, &a, 1);
	EXPECT(sc, .flags = F_RST, .seq = V(a.seq + 2), .dport = V(SC_PEER_PORT + 1), .len = V(0));
	CHECK_MIB(sc, "TcpExtSyncookiesFailed", 1);
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 0);
	CHECK_MIB(sc, "TcpPassiveOpens", 0);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	/* The right one still works. */
	send_third_ack(sc, &a, 0);
	EXPECT_NONE(sc);
	CHECK(synack_accept(sc->st, l, NULL) >= 0);
	SC_FREE(sc);
}

/* A listener that never sent a cookie does not look at ACKs: RST, no
 * cookie counter moves. */
TEST(no_overflow_ack_gets_rst_without_cookie_check)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = PORT, .flags = F_ACK, .seq = ISN + 1,
			    .ack = cookie_for(sc, SC_PEER_PORT, ISN, 3) + 1, .win = ACK_WIN };

	REQUIRE(sc_listen(sc, PORT, 16) >= 0);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_RST, .seq = V(s.ack), .len = V(0));
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 0);
	CHECK_MIB(sc, "TcpExtSyncookiesFailed", 0);
	CHECK_MIB(sc, "TcpPassiveOpens", 0);
	SC_FREE(sc);
}

/* tcp_syncookies = 0 after cookies went out: ACKs are not checked. */
TEST(syncookies_off_later_ack_not_checked)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;

	REQUIRE(sc_listen(sc, PORT, 0) >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT));
	send_default_syn(sc, SC_PEER_PORT + 1);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT + 1);
	REQUIRE(p);
	a = *p;
	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 0);
	send_third_ack(sc, &a, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(a.seq + 1));
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 0);
	/* And a full queue now drops. */
	send_default_syn(sc, SC_PEER_PORT + 2);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPReqQFullDrop", 1);
	CHECK_MIB(sc, "TcpExtTCPReqQFullDoCookies", 1);
	SC_FREE(sc);
}

/* ------------------------------------------------- tcp_syncookies = 2 */

/* Every SYN gets a cookie, nothing is kept: no request, no
 * retransmission; the same SYN again gets the same cookie afresh. The
 * third ACK creates the child and accept() returns it. */
TEST(always_every_syn_cookie_no_request_kept)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	int l, fd;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	l = sc_listen(sc, PORT, 16);
	REQUIRE(l >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT);
	REQUIRE(p);
	CHECK_EQ(sc_trace_count(sc, "tcp_conn_request", NULL), 0);
	sc_advance(sc, SEC(10));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 0);
	/* A repeated SYN is a new SYN: a new cookie SYN-ACK, not a retransmission. */
	send_default_syn(sc, SC_PEER_PORT);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT);
	REQUIRE(p);
	a = *p;
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 0);
	CHECK_MIB(sc, "TcpRetransSegs", 0);
	CHECK_MIB(sc, "TcpExtTCPReqQFullDoCookies", 2);
	CHECK_MIB(sc, "TcpExtSyncookiesSent", 2);
	/* Other peers too. */
	send_default_syn(sc, SC_PEER_PORT + 1);
	CHECK(EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT + 1) != NULL);
	CHECK_MIB(sc, "TcpExtSyncookiesSent", 3);

	send_third_ack(sc, &a, 0);
	EXPECT_NONE(sc);
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 1);
	CHECK_MIB(sc, "TcpCurrEstab", 1);
	CHECK_TRACE(sc, "inet_sock_set_state", "SYN_RECV -> ESTABLISHED");
	SC_FREE(sc);
}

/* The option bits: WS 7 and SACK give 0x17 in the TSval's low bits, and
 * an ECN-setup SYN adds 0x20 (and ECE on the SYN-ACK). The child gets them
 * back: it scales its window by our shift, reads the peer's window with
 * the peer's, and SACKs out-of-order data. */
TEST(always_option_bits_in_tsval_restored_on_child)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	struct sc_conn c;
	static const uint8_t buf[1000];
	uint32_t tsval;
	int l, fd;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	l = sc_listen(sc, PORT, 16);
	REQUIRE(l >= 0);
	sc_advance(sc, MS(37)); /* low bits of the clock not 0 */
	send_syn(sc, SC_PEER_PORT, ISN, &(struct syn_opts){ .ecn = true });
	tsval = cookie_tsval(sc, SC_PEER_WS | 0x10 | 0x20);
	p = EXPECT(sc, .flags = F_SYN | F_ACK | F_ECE, .seq = V(cookie_for(sc, SC_PEER_PORT, ISN, 3)),
		   .ack = V(ISN + 1), .win = V(65160),
		   OPT(O_MSS(1460), O_SACKOK, O_TS(tsval, PEER_TS), O_NOP, O_WS(10)), .tsval = V(tsval));
	REQUIRE(p);
	CHECK_EQ((p->tsval - ts_off(sc)) & 0x3f, 0x37);
	CHECK((uint64_t)(p->tsval - ts_off(sc)) <= now_ms(sc) % (1ULL << 32));
	a = *p;
	c = conn_of(&a, l);
	sc_advance(sc, MS(5));
	send_third_ack(sc, &a, 0);
	EXPECT_NONE(sc);
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	c.fd = fd;

	/* Out-of-order data: an immediate duplicate ACK with a SACK block,
	 * echoing the third ACK's TSval, its window scaled by 10: the cookie
	 * child's rcv_wnd is 44 * 1460 = 64240 (Linux passes the cookie's MSS,
	 * not 1460 - 12), advertised rounded up to 63 << 10. A normal child
	 * (65160) says 64. */
	peer_data(sc, &c, 1000, 100, true);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(63),
	       OPT(O_NOP, O_NOP, O_TS(0, PEER_TS + 1), O_NOP, O_NOP, 5, 10, (uint8_t)((c.irs + 1001) >> 24),
		   (uint8_t)((c.irs + 1001) >> 16), (uint8_t)((c.irs + 1001) >> 8), (uint8_t)(c.irs + 1001),
		   (uint8_t)((c.irs + 1101) >> 24), (uint8_t)((c.irs + 1101) >> 16), (uint8_t)((c.irs + 1101) >> 8),
		   (uint8_t)(c.irs + 1101)));
	/* The peer's window (228 << 7 = 29184) lets 1000 bytes go in one segment. */
	CHECK_EQ(synack_send(sc->st, fd, buf, sizeof(buf), 0), (long)sizeof(buf));
	sc_run(sc);
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(c.iss + 1), .len = V(1000));
	SC_FREE(sc);
}

/* A SYN without TS: the cookie SYN-ACK offers MSS only (no WS, SACK or
 * ECN survive), its window the unscaled 44 * 1460. The child has no
 * window scaling and no SACK. */
TEST(always_syn_without_ts_mss_only_child_without_options)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	struct sc_conn c;
	int l, fd;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	l = sc_listen(sc, PORT, 16);
	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, ISN, &(struct syn_opts){ .no_ts = true, .ecn = true });
	p = EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(cookie_for(sc, SC_PEER_PORT, ISN, 3)), .ack = V(ISN + 1),
		   .win = V(64240), OPT(O_MSS(1460)), .len = V(0));
	REQUIRE(p);
	a = *p;
	c = conn_of(&a, l);
	send_third_ack(sc, &a, 0);
	EXPECT_NONE(sc);
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	c.fd = fd;
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	/* Out-of-order data: a duplicate ACK without options, window unscaled. */
	peer_data(sc, &c, 1000, 100, false);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(64240), NO_OPT);
	SC_FREE(sc);
}

/* The MSS table {536, 1300, 1440, 1460}: the largest entry not above the
 * client's MSS, or 536. The child sends segments of that size (less 12 for
 * TS). */
static void mss_case(uint16_t client_mss, uint32_t idx, uint32_t seg)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	static const uint8_t buf[3000];
	uint32_t tsval;
	int l, fd;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	l = sc_listen(sc, PORT, 16);
	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, ISN, &(struct syn_opts){ .mss = client_mss });
	tsval = cookie_tsval(sc, SC_PEER_WS | 0x10);
	p = EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(cookie_for(sc, SC_PEER_PORT, ISN, idx)),
		   OPT(O_MSS(1460), O_SACKOK, O_TS(tsval, PEER_TS), O_NOP, O_WS(10)), .tsval = V(tsval));
	REQUIRE(p);
	a = *p;
	send_third_ack(sc, &a, 0);
	EXPECT_NONE(sc);
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	CHECK_EQ(synack_send(sc->st, fd, buf, sizeof(buf), 0), (long)sizeof(buf));
	sc_run(sc);
	EXPECT(sc, .flags = F_ACK, .seq = V(a.seq + 1), .len = V(seg));
	SC_FREE(sc);
}

TEST(mss_table_1460) { mss_case(1460, 3, 1448); }
TEST(mss_table_1400) { mss_case(1400, 1, 1288); }
TEST(mss_table_536) { mss_case(536, 0, 524); }
TEST(mss_table_100) { mss_case(100, 0, 524); }

/* ---------------------------------------------------------------- age */

/* A cookie is good while the minute counter has moved by less than 2: at
 * T0 (1,000,000 s = minute 16666 + 40 s) it lasts until minute 16668
 * begins, 80 s later. */
TEST(cookie_valid_within_two_counter_ticks)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	int l;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	l = sc_listen(sc, PORT, 16);
	REQUIRE(l >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT);
	REQUIRE(p);
	a = *p;
	sc_advance(sc, SEC(79));
	send_third_ack(sc, &a, 0);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 1);
	CHECK(synack_accept(sc->st, l, NULL) >= 0);
	SC_FREE(sc);
}

/* Older than that, while cookies are still being sent: SyncookiesFailed
 * and a RST. A newer cookie still works. */
TEST(old_cookie_ack_fails_rst)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a, b;
	int l;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	l = sc_listen(sc, PORT, 16);
	REQUIRE(l >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT);
	REQUIRE(p);
	a = *p;
	sc_advance(sc, SEC(121));
	send_default_syn(sc, SC_PEER_PORT + 1);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT + 1);
	REQUIRE(p);
	b = *p;
	send_third_ack(sc, &a, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(a.seq + 1), .dport = V(SC_PEER_PORT), .len = V(0));
	CHECK_MIB(sc, "TcpExtSyncookiesFailed", 1);
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 0);
	send_third_ack(sc, &b, 0);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 1);
	CHECK(synack_accept(sc->st, l, NULL) >= 0);
	SC_FREE(sc);
}

/* Two minutes after the last cookie the listener stops checking: even a
 * fresh-looking ACK is a plain ACK to LISTEN (RST, no counter). */
TEST(no_recent_overflow_after_two_minutes_no_check)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	REQUIRE(sc_listen(sc, PORT, 16) >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT);
	REQUIRE(p);
	a = *p;
	sc_advance(sc, SEC(120) + MS(1));
	send_third_ack(sc, &a, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(a.seq + 1));
	CHECK_MIB(sc, "TcpExtSyncookiesFailed", 0);
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 0);
	SC_FREE(sc);
}

/* ------------------------------------------------- refusals, overflow */

/* The cookie says SACK, but tcp_sack is off by the time the ACK comes:
 * the cookie is counted as received, yet refused (RST from LISTEN). */
TEST(option_now_off_by_sysctl_refused)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	int l;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	l = sc_listen(sc, PORT, 16);
	REQUIRE(l >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT);
	REQUIRE(p);
	a = *p;
	sc_sysctl(sc, "net.ipv4.tcp_sack", 0);
	send_third_ack(sc, &a, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(a.seq + 1));
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 1);
	CHECK_MIB(sc, "TcpPassiveOpens", 0);
	/* Window scaling off likewise (a SYN without SACK this time). */
	sc_sysctl(sc, "net.ipv4.tcp_sack", 1);
	send_syn(sc, SC_PEER_PORT + 1, ISN, &(struct syn_opts){ .no_sack = true });
	p = EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(cookie_for(sc, SC_PEER_PORT + 1, ISN, 3)));
	REQUIRE(p);
	a = *p;
	CHECK_EQ((a.tsval - ts_off(sc)) & 0x3f, SC_PEER_WS);
	sc_sysctl(sc, "net.ipv4.tcp_window_scaling", 0);
	send_third_ack(sc, &a, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(a.seq + 1));
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 2);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	SC_FREE(sc);
}

/* The accept queue is full when a cookie ACK comes: dropped silently,
 * counted as a listen overflow; no RST. */
TEST(accept_queue_full_cookie_ack_dropped)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a, b;
	int l;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	l = sc_listen(sc, PORT, 0);
	REQUIRE(l >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT);
	REQUIRE(p);
	a = *p;
	send_default_syn(sc, SC_PEER_PORT + 1);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT + 1);
	REQUIRE(p);
	b = *p;
	send_third_ack(sc, &a, 0);
	EXPECT_NONE(sc);
	send_third_ack(sc, &b, 0);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtSyncookiesRecv", 2);
	CHECK_MIB(sc, "TcpExtListenOverflows", 1);
	CHECK_MIB(sc, "TcpExtListenDrops", 1);
	CHECK_MIB(sc, "TcpPassiveOpens", 1);
	CHECK(synack_accept(sc->st, l, NULL) >= 0);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	SC_FREE(sc);
}

/* A cookie ACK that carries data: the child takes it and ACKs it. */
TEST(cookie_ack_with_data_kept)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	struct sc_seg s;
	char buf[16];
	int l, fd;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	l = sc_listen(sc, PORT, 16);
	REQUIRE(l >= 0);
	send_default_syn(sc, SC_PEER_PORT);
	p = EXPECT_COOKIE_SYNACK(sc, SC_PEER_PORT);
	REQUIRE(p);
	a = *p;
	s = (struct sc_seg){ .sport = SC_PEER_PORT, .dport = PORT, .flags = F_ACK | F_PSH, .seq = ISN + 1,
			     .ack = a.seq + 1, .win = ACK_WIN, .data = "0123456789", .len = 10 };
	sc_seg_ts(&s, PEER_TS + 1, a.tsval);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(a.seq + 1), .ack = V(ISN + 11), .len = V(0), .tsecr = V(PEER_TS + 1));
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	CHECK_EQ(synack_recv(sc->st, fd, buf, sizeof(buf), 0), 10);
	SC_FREE(sc);
}

int main(void)
{
	RUN(queue_full_syn_gets_cookie_and_ack_creates_child);
	RUN(wrong_cookie_ack_gets_rst);
	RUN(no_overflow_ack_gets_rst_without_cookie_check);
	RUN(syncookies_off_later_ack_not_checked);
	RUN(always_every_syn_cookie_no_request_kept);
	RUN(always_option_bits_in_tsval_restored_on_child);
	RUN(always_syn_without_ts_mss_only_child_without_options);
	RUN(mss_table_1460);
	RUN(mss_table_1400);
	RUN(mss_table_536);
	RUN(mss_table_100);
	RUN(cookie_valid_within_two_counter_ticks);
	RUN(old_cookie_ack_fails_rst);
	RUN(no_recent_overflow_after_two_minutes_no_check);
	RUN(option_now_off_by_sysctl_refused);
	RUN(accept_queue_full_cookie_ack_dropped);
	RUN(cookie_ack_with_data_kept);
	return TEST_SUMMARY();
}
