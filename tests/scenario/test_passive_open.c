/* Passive open: the listener, the request sock and its SYN-ACK schedule,
 * every branch of tcp_check_req, the accept queue (spec section 3). */
#include "../test.h"
#include "harness.h"

#define SET_OPT(s, ...)                                                         \
	do {                                                                    \
		const uint8_t _o[] = { __VA_ARGS__ };                           \
		memcpy((s).opt, _o, sizeof(_o));                                \
		(s).optlen = sizeof(_o);                                        \
		(s).has_opt = true;                                             \
	} while (0)

/* The peer's default SYN from port sport. */
static void send_syn(struct sc *sc, uint16_t sport, uint16_t dport, uint32_t isn, uint32_t tsval)
{
	struct sc_seg s = { .sport = sport, .dport = dport, .flags = F_SYN, .seq = isn, .win = SC_PEER_WIN };

	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(tsval, 0), O_NOP, O_WS(7));
	sc_inject(sc, &s);
}

/* The third ACK for a request whose SYN-ACK was p. */
static void send_ack(struct sc *sc, const struct sc_pkt *p, uint32_t tsval)
{
	struct sc_seg s = { .sport = p->dport, .dport = p->sport, .flags = F_ACK, .seq = p->ack, .ack = p->seq + 1,
			    .win = SC_PEER_WIN >> SC_PEER_WS };

	sc_seg_ts(&s, tsval, p->tsval);
	sc_inject(sc, &s);
}

static uint32_t ts_at(const struct sc_conn *c, uint64_t t) { return c->tsval + (uint32_t)((t - c->syn_t) / SC_NS_PER_MS); }

TEST(listen_syn_gets_synack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	/* From the listener's context: DF, and IP ID 0 (no connected socket). */
	CHECK(c.syn.df);
	CHECK_EQ(c.syn.ip_id, 0);
	CHECK_EQ(c.syn.ttl, 64);
	CHECK_STATE(sc, c.listener, TCP_LISTEN);
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	CHECK_EQ(synack_poll(sc->st, c.listener) & POLLIN, 0);
	CHECK_MIB(sc, "TcpPassiveOpens", 0);
	CHECK_MIB(sc, "TcpCurrEstab", 0);
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 0);
	/* Request socks change state without inet_sock_set_state. */
	CHECK_EQ(sc_trace_count(sc, "inet_sock_set_state", "SYN_RECV"), 0);
	SC_FREE(sc);
}

/* A SYN without options: the SYN-ACK offers only MSS; the window is a
 * multiple of 1460 (no TS bytes to subtract). */
TEST(listen_syn_without_options_synack_mss_only)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = SC_SERVER_PORT, .flags = F_SYN, .seq = SC_PEER_ISN,
			    .win = 8192 };

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_SYN | F_ACK, .ack = V(SC_PEER_ISN + 1), .win = V(64240), OPT(O_MSS(1460)), .df = V(1));
	SC_FREE(sc);
}

TEST(listen_syn_ts_only_mirrored)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = SC_SERVER_PORT, .flags = F_SYN, .seq = SC_PEER_ISN,
			    .win = 8192 };

	SET_OPT(s, O_MSS(1460), O_NOP, O_NOP, O_TS(777, 0));
	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_SYN | F_ACK, .ack = V(SC_PEER_ISN + 1), .win = V(65160),
	       OPT(O_MSS(1460), O_NOP, O_NOP, O_TS(0, 777)), .tsecr = V(777));
	SC_FREE(sc);
}

TEST(listen_syn_sack_ws_no_ts_mirrored)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = SC_SERVER_PORT, .flags = F_SYN, .seq = SC_PEER_ISN,
			    .win = 8192 };

	SET_OPT(s, O_MSS(1460), O_NOP, O_NOP, O_SACKOK, O_NOP, O_WS(2));
	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_SYN | F_ACK, .ack = V(SC_PEER_ISN + 1), .win = V(64240),
	       OPT(O_MSS(1460), O_NOP, O_NOP, O_SACKOK, O_NOP, O_WS(10)));
	SC_FREE(sc);
}

/* Options the SYN offers but our sysctls refuse are not echoed. */
TEST(listen_syn_sysctls_off_not_echoed)
{
	struct sc *sc = sc_new(NULL);

	sc_sysctl(sc, "net.ipv4.tcp_sack", 0);
	sc_sysctl(sc, "net.ipv4.tcp_window_scaling", 0);
	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	send_syn(sc, SC_PEER_PORT, SC_SERVER_PORT, SC_PEER_ISN, 1000);
	EXPECT(sc, .flags = F_SYN | F_ACK, .ack = V(SC_PEER_ISN + 1), .win = V(65160),
	       OPT(O_MSS(1460), O_NOP, O_NOP, O_TS(0, 1000)));
	SC_FREE(sc);
}

/* Our MSS comes from our MTU, not from the peer's. */
TEST(listen_synack_mss_from_our_mtu)
{
	struct sc *sc = sc_new(&(struct sc_opts){ .mtu = 1000 });

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	send_syn(sc, SC_PEER_PORT, SC_SERVER_PORT, SC_PEER_ISN, 1000);
	/* 65536 rounded down to a multiple of 960 - 12. */
	EXPECT(sc, .flags = F_SYN | F_ACK, .win = V(65412), OPT(O_MSS(960), O_SACKOK, O_TS(0, 1000), O_NOP, O_WS(10)));
	SC_FREE(sc);
}

/* --------------------------------------------------- SYN-ACK schedule */

TEST(syn_recv_synack_retransmit_default_schedule)
{
	static const unsigned at[] = { 1, 3, 7, 15, 31 };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	for (size_t i = 0; i < 5; i++) {
		uint64_t t = c.syn_t + SEC(at[i]);

		sc_run_until(sc, t - 1);
		EXPECT_NONE(sc);
		sc_run_until(sc, t);
		EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c.iss), .ack = V(c.irs + 1), .win = V(65160),
		       OPT(O_MSS(1460), O_SACKOK, O_TS(ts_at(&c, t), c.peer_ts - 1), O_NOP, O_WS(10)),
		       .tsval = V(ts_at(&c, t)), .t = V64(t), .ip_id = V(0), .df = V(1));
	}
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 5);
	CHECK_MIB(sc, "TcpRetransSegs", 5);
	CHECK_EQ(sc_trace_count(sc, "tcp_retransmit_synack", NULL), 5);
	/* Dropped at 63 s without a RST. */
	sc_run_until(sc, c.syn_t + SEC(63) - 1);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 5);
	sc_run_until(sc, c.syn_t + SEC(63));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 6);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	sc_advance(sc, SEC(200));
	EXPECT_NONE(sc);
	/* The request is gone: the third ACK reaches the listener. */
	send_ack(sc, &c.syn, c.peer_ts);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 1), .ack = V(0));
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	SC_FREE(sc);
}

/* The third ACK just before the drop still makes a connection. */
TEST(syn_recv_third_ack_before_expiry_establishes)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	sc_run_until(sc, c.syn_t + SEC(62));
	sc_drain(sc);
	send_ack(sc, &c.syn, c.peer_ts);
	EXPECT_NONE(sc);
	CHECK(synack_accept(sc->st, c.listener, NULL) >= 0);
	SC_FREE(sc);
}

TEST(syn_recv_synack_retries_sysctl_2)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	sc_sysctl(sc, "net.ipv4.tcp_synack_retries", 2);
	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	sc_run_until(sc, c.syn_t + SEC(1));
	EXPECT(sc, .flags = F_SYN | F_ACK, .t = V64(c.syn_t + SEC(1)));
	sc_run_until(sc, c.syn_t + SEC(3));
	EXPECT(sc, .flags = F_SYN | F_ACK, .t = V64(c.syn_t + SEC(3)));
	sc_run_until(sc, c.syn_t + SEC(7));
	EXPECT_NONE(sc);
	send_ack(sc, &c.syn, c.peer_ts);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 1));
	SC_FREE(sc);
}

/* TCP_SYNCNT on the listener overrides tcp_synack_retries. */
TEST(syn_recv_synack_retries_syncnt_1)
{
	struct sc *sc = sc_new(NULL);
	int l = sc_listen(sc, SC_SERVER_PORT, 16);

	REQUIRE(l >= 0);
	CHECK_EQ(sc_setsockopt_int(sc, l, IPPROTO_TCP, TCP_SYNCNT, 1), 0);
	send_syn(sc, SC_PEER_PORT, SC_SERVER_PORT, SC_PEER_ISN, 1000);
	const struct sc_pkt *p = EXPECT(sc, .flags = F_SYN | F_ACK);
	REQUIRE(p);
	uint64_t t0 = p->t;
	sc_run_until(sc, t0 + SEC(1));
	EXPECT(sc, .flags = F_SYN | F_ACK, .t = V64(t0 + SEC(1)));
	sc_run_until(sc, t0 + SEC(10));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 1);
	SC_FREE(sc);
}

/* More than half the queue full (2*qlen > max(8, backlog)): old requests
 * get fewer retransmissions (syn_ack_recalc). Five requests, backlog 8:
 * all resend at 1 s and 3 s; at 7 s the first has used its reduced budget
 * of 2 and is dropped, after which qlen is 4 and the rest resend. */
TEST(syn_recv_young_old_pruning)
{
	struct sc *sc = sc_new(NULL);
	struct sc_pkt sa[5];
	uint64_t t0;
	int l = sc_listen(sc, SC_SERVER_PORT, 8);

	REQUIRE(l >= 0);
	for (int i = 0; i < 5; i++) {
		send_syn(sc, (uint16_t)(SC_PEER_PORT + i), SC_SERVER_PORT, SC_PEER_ISN + (uint32_t)i * 1000, 1000);
		const struct sc_pkt *p = EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT + i));
		REQUIRE(p);
		sa[i] = *p;
	}
	t0 = sa[0].t;
	sc_run_until(sc, t0 + SEC(1));
	for (int i = 0; i < 5; i++)
		EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT + i), .t = V64(t0 + SEC(1)));
	sc_run_until(sc, t0 + SEC(3));
	for (int i = 0; i < 5; i++)
		EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT + i), .t = V64(t0 + SEC(3)));
	sc_run_until(sc, t0 + SEC(7));
	for (int i = 1; i < 5; i++)
		EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT + i), .t = V64(t0 + SEC(7)));
	EXPECT_NONE(sc);
	send_ack(sc, &sa[0], 1001);
	EXPECT(sc, .flags = F_RST, .seq = V(sa[0].seq + 1), .dport = V(SC_PEER_PORT));
	send_ack(sc, &sa[1], 1001);
	EXPECT_NONE(sc);
	CHECK(synack_accept(sc->st, l, NULL) >= 0);
	SC_FREE(sc);
}

/* Four requests with backlog 8 (2*4 = 8, not more): no pruning. */
TEST(syn_recv_half_full_no_pruning)
{
	struct sc *sc = sc_new(NULL);
	uint64_t t0 = 0;

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 8) >= 0);
	for (int i = 0; i < 4; i++) {
		send_syn(sc, (uint16_t)(SC_PEER_PORT + i), SC_SERVER_PORT, SC_PEER_ISN, 1000);
		const struct sc_pkt *p = EXPECT(sc, .flags = F_SYN | F_ACK);
		if (p && i == 0)
			t0 = p->t;
	}
	for (unsigned s = 1; s <= 31; s = s * 2 + 1) {
		sc_run_until(sc, t0 + SEC(s));
		for (int i = 0; i < 4; i++)
			EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT + i), .t = V64(t0 + SEC(s)));
	}
	SC_FREE(sc);
}

/* ------------------------------------------------------- third ACK */

TEST(syn_recv_third_ack_establishes_child)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in a;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	REQUIRE(ESTABLISH_PASSIVE(sc, &c));
	CHECK_MIB(sc, "TcpPassiveOpens", 1);
	CHECK_MIB(sc, "TcpCurrEstab", 1);
	CHECK_MIB(sc, "TcpActiveOpens", 0);
	CHECK_TRACE(sc, "inet_sock_set_state", "SYN_RECV -> ESTABLISHED");
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	CHECK_EQ(synack_getsockname(sc->st, c.fd, &a), 0);
	CHECK_EQ(a.sin_addr.s_addr, sc->local);
	CHECK_EQ(ntohs(a.sin_port), SC_SERVER_PORT);
	CHECK_EQ(synack_getpeername(sc->st, c.fd, &a), 0);
	CHECK_EQ(a.sin_addr.s_addr, sc->remote);
	CHECK_EQ(ntohs(a.sin_port), SC_PEER_PORT);
	CHECK(synack_poll(sc->st, c.fd) & POLLOUT);
	/* No more SYN-ACKs. */
	sc_advance(sc, SEC(70));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

TEST(listen_poll_in_when_child_ready)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	CHECK_EQ(synack_poll(sc->st, c.listener) & POLLIN, 0);
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	sc_inject(sc, &s);
	CHECK(synack_poll(sc->st, c.listener) & POLLIN);
	CHECK(synack_accept(sc->st, c.listener, NULL) >= 0);
	CHECK_EQ(synack_poll(sc->st, c.listener) & POLLIN, 0);
	SC_FREE(sc);
}

/* Data on the third ACK goes to the child, which ACKs it at once
 * (the first data segment starts quick-ACK mode). */
TEST(syn_recv_third_ack_with_data_kept)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	int fd;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	s = sc_seg_for(&c, F_ACK | F_PSH, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	s.data = "0123456789";
	s.len = 10;
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 11), .len = V(0));
	fd = synack_accept(sc->st, c.listener, NULL);
	REQUIRE(fd >= 0);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	CHECK(synack_poll(sc->st, fd) & POLLIN);
	SC_FREE(sc);
}

/* The same SYN again: the SYN-ACK is resent (a retransmission), and the
 * timer is pushed back to 1 s from now. */
TEST(syn_recv_repeated_syn_resends_synack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	sc_advance(sc, MS(300));
	send_syn(sc, SC_PEER_PORT, SC_SERVER_PORT, c.irs, c.peer_ts - 1);
	t = sc_now(sc);
	EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c.iss), .ack = V(c.irs + 1), .win = V(65160),
	       OPT(O_MSS(1460), O_SACKOK, O_TS(ts_at(&c, t), c.peer_ts - 1), O_NOP, O_WS(10)), .t = V64(t));
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 1);
	CHECK_MIB(sc, "TcpRetransSegs", 1);
	CHECK_TRACE(sc, "tcp_retransmit_synack", NULL);
	sc_run_until(sc, t + SEC(1) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + SEC(1));
	EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c.iss), .t = V64(t + SEC(1)));
	SC_FREE(sc);
}

/* ... rate-limited by tcp_invalid_ratelimit (500 ms). */
TEST(syn_recv_repeated_syn_rate_limited)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	sc_advance(sc, MS(100));
	send_syn(sc, SC_PEER_PORT, SC_SERVER_PORT, c.irs, c.peer_ts - 1);
	EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c.iss));
	sc_advance(sc, MS(100));
	send_syn(sc, SC_PEER_PORT, SC_SERVER_PORT, c.irs, c.peer_ts - 1);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPACKSkippedSynRecv", 1);
	sc_advance(sc, MS(400));
	send_syn(sc, SC_PEER_PORT, SC_SERVER_PORT, c.irs, c.peer_ts - 1);
	EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c.iss));
	SC_FREE(sc);
}

/* ACK != snt_isn + 1: the listener answers with a RST (seq = that ACK);
 * the request survives. */
static void third_ack_bad_ackseq(uint32_t delta)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	if (!OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16)) {
		sc_free(sc);
		return;
	}
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + delta);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + delta), .ack = V(0), .win = V(0), NO_OPT, .ip_id = V(0),
	       .df = V(1));
	CHECK_MIB(sc, "TcpOutRsts", 1);
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	if (!ESTABLISH_PASSIVE(sc, &c))
		fprintf(stderr, "  (the request should have survived)\n");
	SC_FREE(sc);
}

TEST(syn_recv_ack_too_high_rst) { third_ack_bad_ackseq(2); }
TEST(syn_recv_ack_too_low_rst) { third_ack_bad_ackseq(0); }

/* seq below rcv_nxt: out of window, answered by an ACK (from the request:
 * seq snt_isn+1, window 65160 >> 10, TS) and dropped. */
TEST(syn_recv_ack_seq_out_of_window_acked)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	sc_advance(sc, MS(20));
	s = sc_seg_for(&c, F_ACK, c.irs, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(63),
	       OPT(O_NOP, O_NOP, O_TS(c.tsval + 20, c.peer_ts - 1)), .tsval = V(c.tsval + 20), .ip_id = V(0),
	       .df = V(1));
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	REQUIRE(ESTABLISH_PASSIVE(sc, &c));
	SC_FREE(sc);
}

/* seq beyond the right edge (rcv_nxt + 65160). */
TEST(syn_recv_ack_seq_beyond_window_acked)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	s = sc_seg_for(&c, F_ACK, c.irs + 1 + 65161, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(63));
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	SC_FREE(sc);
}

/* Out-of-window ACKs are rate-limited too. */
TEST(syn_recv_out_of_window_ack_rate_limited)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	s = sc_seg_for(&c, F_ACK, c.irs, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1));
	sc_advance(sc, MS(10));
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPACKSkippedSynRecv", 1);
	SC_FREE(sc);
}

/* PAWS: a TSval older than the SYN's. */
TEST(syn_recv_ack_paws_reject_acked)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts - 1000, c.tsval);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1),
	       OPT(O_NOP, O_NOP, O_TS(c.tsval, c.peer_ts - 1)));
	CHECK_MIB(sc, "TcpExtPAWSEstab", 1);
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	SC_FREE(sc);
}

/* TSecr outside [snt_tsval_first, snt_tsval_last]: rejected. */
static void third_ack_tsecr(int32_t delta)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	if (!OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16)) {
		sc_free(sc);
		return;
	}
	sc_advance(sc, MS(100));
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval + (uint32_t)delta);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1));
	CHECK_MIB(sc, "TcpExtTSEcrRejected", 1);
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	SC_FREE(sc);
}

TEST(syn_recv_ack_tsecr_after_last_rejected) { third_ack_tsecr(50); }
TEST(syn_recv_ack_tsecr_before_first_rejected) { third_ack_tsecr(-1); }

/* After a retransmission the range covers both SYN-ACKs. */
TEST(syn_recv_ack_tsecr_of_first_synack_after_retransmit)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	sc_run_until(sc, c.syn_t + SEC(1));
	EXPECT(sc, .flags = F_SYN | F_ACK);
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK(synack_accept(sc->st, c.listener, NULL) >= 0);
	CHECK_MIB(sc, "TcpExtTSEcrRejected", 0);
	SC_FREE(sc);
}

/* An in-window RST removes the request silently. */
static void rst_in_window(uint32_t off, uint8_t extra)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	if (!OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16)) {
		sc_free(sc);
		return;
	}
	s = sc_seg_for(&c, F_RST | extra, c.irs + 1 + off, extra & F_ACK ? c.iss + 1 : 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtEmbryonicRsts", 1);
	CHECK_MIB(sc, "TcpAttemptFails", 1);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	sc_advance(sc, SEC(2));
	EXPECT_NONE(sc); /* no SYN-ACK retransmission */
	send_ack(sc, &c.syn, c.peer_ts);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 1));
	SC_FREE(sc);
}

TEST(syn_recv_rst_in_window_removes_request) { rst_in_window(0, 0); }
TEST(syn_recv_rst_ack_in_window_removes_request) { rst_in_window(0, F_ACK); }
TEST(syn_recv_rst_in_window_not_exact_removes_request) { rst_in_window(1000, 0); }

TEST(syn_recv_rst_out_of_window_ignored)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	s = sc_seg_for(&c, F_RST, c.irs, 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc); /* no ACK for a RST */
	CHECK_MIB(sc, "TcpExtEmbryonicRsts", 0);
	REQUIRE(ESTABLISH_PASSIVE(sc, &c));
	SC_FREE(sc);
}

/* An in-window SYN (not the original) kills the request with a RST. */
TEST(syn_recv_syn_in_window_rst)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	send_syn(sc, SC_PEER_PORT, SC_SERVER_PORT, c.irs + 11, c.peer_ts);
	EXPECT(sc, .flags = F_RST | F_ACK, .seq = V(0), .ack = V(c.irs + 12), .win = V(0), NO_OPT);
	CHECK_MIB(sc, "TcpExtEmbryonicRsts", 1);
	CHECK_MIB(sc, "TcpAttemptFails", 1);
	CHECK_MIB(sc, "TcpOutRsts", 1);
	sc_advance(sc, SEC(2));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* No ACK flag at all (data only, in window): dropped, request kept. */
TEST(syn_recv_no_ack_flag_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	s = sc_seg_for(&c, F_PSH, c.irs + 1, 0);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	s.data = "xy";
	s.len = 2;
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	REQUIRE(ESTABLISH_PASSIVE(sc, &c));
	SC_FREE(sc);
}

/* ------------------------------------------------------ defer accept */

TEST(syn_recv_defer_accept_bare_ack_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	int fd;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	CHECK_EQ(sc_setsockopt_int(sc, c.listener, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5), 0);
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPDeferAcceptDrop", 1);
	CHECK_EQ(synack_accept(sc->st, c.listener, NULL), -EAGAIN);
	/* Data creates the child. */
	s = sc_seg_for(&c, F_ACK | F_PSH, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts + 1, c.tsval);
	s.data = "GET /";
	s.len = 5;
	sc_inject(sc, &s);
	fd = synack_accept(sc->st, c.listener, NULL);
	REQUIRE(fd >= 0);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	CHECK(synack_poll(sc->st, fd) & POLLIN);
	CHECK_MIB(sc, "TcpPassiveOpens", 1);
	SC_FREE(sc);
}

/* TCP_DEFER_ACCEPT=1 s is one retransmission: an acked request still
 * gets its SYN-ACK resent at 1 s, and a bare ACK after that is accepted. */
TEST(syn_recv_defer_accept_bare_ack_after_deadline_accepted)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	CHECK_EQ(sc_setsockopt_int(sc, c.listener, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1), 0);
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPDeferAcceptDrop", 1);
	sc_run_until(sc, c.syn_t + SEC(1));
	EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c.iss), .t = V64(c.syn_t + SEC(1)));
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts + 1, c.tsval);
	sc_inject(sc, &s);
	CHECK(synack_accept(sc->st, c.listener, NULL) >= 0);
	CHECK_MIB(sc, "TcpExtTCPDeferAcceptDrop", 1);
	SC_FREE(sc);
}

/* -------------------------------------------------------- accept queue */

/* backlog 1: each queue holds 2. Requests A and B, A completes, request
 * C, B completes: the accept queue is now full when C's third ACK comes.
 * b gets C's SYN-ACK. */
static bool overflow_setup(struct sc *sc, int *l, struct sc_pkt *b)
{
	const struct sc_pkt *p;
	struct sc_pkt a, pb;

	*l = sc_listen(sc, SC_SERVER_PORT, 1);
	if (*l < 0)
		return false;
	send_syn(sc, SC_PEER_PORT, SC_SERVER_PORT, SC_PEER_ISN, 1000);
	if (!(p = EXPECT(sc, .flags = F_SYN | F_ACK)))
		return false;
	a = *p;
	send_syn(sc, SC_PEER_PORT + 1, SC_SERVER_PORT, SC_PEER_ISN + 5000, 1000);
	if (!(p = EXPECT(sc, .flags = F_SYN | F_ACK)))
		return false;
	pb = *p;
	send_ack(sc, &a, 1001);
	send_syn(sc, SC_PEER_PORT + 2, SC_SERVER_PORT, SC_PEER_ISN + 9000, 1000);
	if (!(p = EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT + 2))))
		return false;
	*b = *p;
	send_ack(sc, &pb, 1001);
	EXPECT_NONE(sc);
	return sc_mib(sc, "TcpPassiveOpens") == 2;
}

TEST(syn_recv_accept_queue_full_ack_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_pkt b;
	int l;

	REQUIRE(overflow_setup(sc, &l, &b));
	send_ack(sc, &b, 1001);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtListenOverflows", 1);
	CHECK_MIB(sc, "TcpExtListenDrops", 1);
	CHECK_MIB(sc, "TcpPassiveOpens", 2);
	/* The request is kept (acked); its SYN-ACK is resent at 1 s. */
	sc_run_until(sc, b.t + SEC(1));
	EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(b.seq), .dport = V(SC_PEER_PORT + 2), .t = V64(b.t + SEC(1)));
	/* Room again: the next ACK makes the child. */
	CHECK(synack_accept(sc->st, l, NULL) >= 0);
	send_ack(sc, &b, 1002);
	EXPECT_NONE(sc);
	CHECK(synack_accept(sc->st, l, NULL) >= 0);
	CHECK(synack_accept(sc->st, l, NULL) >= 0);
	CHECK_MIB(sc, "TcpPassiveOpens", 3);
	SC_FREE(sc);
}

TEST(syn_recv_accept_queue_full_abort_on_overflow_rst)
{
	struct sc *sc = sc_new(NULL);
	struct sc_pkt b;
	int l;

	sc_sysctl(sc, "net.ipv4.tcp_abort_on_overflow", 1);
	REQUIRE(overflow_setup(sc, &l, &b));
	send_ack(sc, &b, 1001);
	EXPECT(sc, .flags = F_RST, .seq = V(b.seq + 1), .ack = V(0), .dport = V(SC_PEER_PORT + 2));
	CHECK_MIB(sc, "TcpExtListenOverflows", 1);
	CHECK_MIB(sc, "TcpExtEmbryonicRsts", 1);
	sc_advance(sc, SEC(2));
	EXPECT_NONE(sc); /* the request is gone */
	SC_FREE(sc);
}

/* A SYN while the accept queue is full is dropped. */
TEST(listen_syn_accept_queue_full_dropped)
{
	struct sc *sc = sc_new(NULL);
	const struct sc_pkt *p;
	struct sc_pkt a;
	int l = sc_listen(sc, SC_SERVER_PORT, 1);

	REQUIRE(l >= 0);
	for (int i = 0; i < 2; i++) {
		send_syn(sc, (uint16_t)(SC_PEER_PORT + i), SC_SERVER_PORT, SC_PEER_ISN, 1000);
		p = EXPECT(sc, .flags = F_SYN | F_ACK);
		REQUIRE(p);
		a = *p;
		send_ack(sc, &a, 1001);
		EXPECT_NONE(sc);
	}
	send_syn(sc, SC_PEER_PORT + 2, SC_SERVER_PORT, SC_PEER_ISN, 1000);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtListenOverflows", 1);
	CHECK_MIB(sc, "TcpExtListenDrops", 1);
	SC_FREE(sc);
}

/* -------------------------------------------------------- SYN queue */

/* Without cookies the SYN queue holds backlog + 1 requests. */
TEST(listen_syn_queue_full_dropped_without_cookies)
{
	struct sc *sc = sc_new(NULL);

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 0);
	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 2) >= 0);
	for (int i = 0; i < 3; i++) {
		send_syn(sc, (uint16_t)(SC_PEER_PORT + i), SC_SERVER_PORT, SC_PEER_ISN, 1000);
		EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT + i));
	}
	send_syn(sc, SC_PEER_PORT + 3, SC_SERVER_PORT, SC_PEER_ISN, 1000);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPReqQFullDrop", 1);
	CHECK_MIB(sc, "TcpExtListenDrops", 1);
	CHECK_MIB(sc, "TcpExtListenOverflows", 0);
	SC_FREE(sc);
}

TEST(listen_backlog_capped_by_somaxconn)
{
	struct sc *sc = sc_new(NULL);

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 0);
	sc_sysctl(sc, "net.core.somaxconn", 1);
	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 100) >= 0);
	for (int i = 0; i < 2; i++) {
		send_syn(sc, (uint16_t)(SC_PEER_PORT + i), SC_SERVER_PORT, SC_PEER_ISN, 1000);
		EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT + i));
	}
	send_syn(sc, SC_PEER_PORT + 2, SC_SERVER_PORT, SC_PEER_ISN, 1000);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPReqQFullDrop", 1);
	SC_FREE(sc);
}

/* listen() again only changes the backlog. */
TEST(listen_again_changes_backlog)
{
	struct sc *sc = sc_new(NULL);
	int l;

	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 0);
	l = sc_listen(sc, SC_SERVER_PORT, 0);
	REQUIRE(l >= 0);
	CHECK_EQ(synack_listen(sc->st, l, 2), 0);
	for (int i = 0; i < 3; i++) {
		send_syn(sc, (uint16_t)(SC_PEER_PORT + i), SC_SERVER_PORT, SC_PEER_ISN, 1000);
		EXPECT(sc, .flags = F_SYN | F_ACK, .dport = V(SC_PEER_PORT + i));
	}
	send_syn(sc, SC_PEER_PORT + 3, SC_SERVER_PORT, SC_PEER_ISN, 1000);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* Closing the listener drops its requests: no more SYN-ACKs; the third
 * ACK then finds no socket. */
TEST(listen_close_drops_requests)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 16));
	CHECK_EQ(synack_close(sc->st, c.listener), 0);
	sc_advance(sc, SEC(5));
	EXPECT_NONE(sc);
	send_ack(sc, &c.syn, c.peer_ts);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 1));
	SC_FREE(sc);
}

int main(void)
{
	RUN(listen_syn_gets_synack);
	RUN(listen_syn_without_options_synack_mss_only);
	RUN(listen_syn_ts_only_mirrored);
	RUN(listen_syn_sack_ws_no_ts_mirrored);
	RUN(listen_syn_sysctls_off_not_echoed);
	RUN(listen_synack_mss_from_our_mtu);
	RUN(syn_recv_synack_retransmit_default_schedule);
	RUN(syn_recv_third_ack_before_expiry_establishes);
	RUN(syn_recv_synack_retries_sysctl_2);
	RUN(syn_recv_synack_retries_syncnt_1);
	RUN(syn_recv_young_old_pruning);
	RUN(syn_recv_half_full_no_pruning);
	RUN(syn_recv_third_ack_establishes_child);
	RUN(listen_poll_in_when_child_ready);
	RUN(syn_recv_third_ack_with_data_kept);
	RUN(syn_recv_repeated_syn_resends_synack);
	RUN(syn_recv_repeated_syn_rate_limited);
	RUN(syn_recv_ack_too_high_rst);
	RUN(syn_recv_ack_too_low_rst);
	RUN(syn_recv_ack_seq_out_of_window_acked);
	RUN(syn_recv_ack_seq_beyond_window_acked);
	RUN(syn_recv_out_of_window_ack_rate_limited);
	RUN(syn_recv_ack_paws_reject_acked);
	RUN(syn_recv_ack_tsecr_after_last_rejected);
	RUN(syn_recv_ack_tsecr_before_first_rejected);
	RUN(syn_recv_ack_tsecr_of_first_synack_after_retransmit);
	RUN(syn_recv_rst_in_window_removes_request);
	RUN(syn_recv_rst_ack_in_window_removes_request);
	RUN(syn_recv_rst_in_window_not_exact_removes_request);
	RUN(syn_recv_rst_out_of_window_ignored);
	RUN(syn_recv_syn_in_window_rst);
	RUN(syn_recv_no_ack_flag_dropped);
	RUN(syn_recv_defer_accept_bare_ack_dropped);
	RUN(syn_recv_defer_accept_bare_ack_after_deadline_accepted);
	RUN(syn_recv_accept_queue_full_ack_dropped);
	RUN(syn_recv_accept_queue_full_abort_on_overflow_rst);
	RUN(listen_syn_accept_queue_full_dropped);
	RUN(listen_syn_queue_full_dropped_without_cookies);
	RUN(listen_backlog_capped_by_somaxconn);
	RUN(listen_again_changes_backlog);
	RUN(listen_close_drops_requests);
	return TEST_SUMMARY();
}
