/* The receiving side of the data path, as Linux does it: quick ACKs for the
 * first segments, then an ACK for every second full-sized segment or the
 * delayed-ACK timer at the ATO; immediate ACKs with SACK blocks for
 * out-of-order data, D-SACK for duplicates, drops beyond the window, and
 * the zero window of a full receive buffer.
 *
 * The peer sends full-sized segments of 1448 bytes (MSS 1460 less the
 * timestamp option); the application reads after each one unless a test
 * says otherwise, so the receive window stays where it is. */
#include <string.h>
#include "../test.h"
#include "harness.h"
#include "introspect.h"

#define SEG 1448u
#define ATO_MIN_MS 40 /* Linux: TCP_ATO_MIN = HZ / 25 */

static uint8_t payload[65536];

static void fill_payload(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
}

/* A data segment from the peer at offset off (from irs + 1) with its next
 * TSval; returns that TSval. */
static uint32_t peer_data(struct sc *sc, struct sc_conn *c, uint32_t off, uint32_t len)
{
	struct sc_seg s = sc_seg_for(c, F_ACK, c->irs + 1 + off, c->iss + 1);
	uint32_t ts = c->peer_ts++;

	sc_seg_ts(&s, ts, c->tsval);
	s.data = payload + (off % 4096);
	s.len = len;
	sc_inject(sc, &s);
	return ts;
}

/* Read exactly len bytes (and check them). */
static void read_exact(struct sc *sc, struct sc_conn *c, uint32_t off, uint32_t len)
{
	static uint8_t buf[65536];
	long n = synack_recv(sc->st, c->fd, buf, len, 0);

	CHECK_EQ(n, len);
	if (n == (long)len)
		CHECK_MEM(buf, payload + (off % 4096), len);
	sc_run(sc);
}

#define EXPECT_ACK(sc, c, ackoff, ecr, ...)                                                         \
	EXPECT((sc), .flags = F_ACK, .seq = V((c)->iss + 1), .ack = V((c)->irs + 1 + (ackoff)), .len = V(0), \
	       .tsecr = V(ecr), ##__VA_ARGS__)

static bool established(struct sc *sc, struct sc_conn *c)
{
	return OPEN_ACTIVE(sc, c, SC_REMOTE_PORT) && ESTABLISH_ACTIVE(sc, c);
}

/* Linux (tcp_event_data_recv, tcp_incr_quickack): the first data segment
 * starts quick-ACK mode with min(rcv_wnd / (2 * rcv_mss), 16) = 16 ACKs,
 * each sent at once. Then (__tcp_ack_snd_check) an ACK goes out when more
 * than one full segment (rcv_mss = 1448) is unacknowledged and the window
 * does not shrink, otherwise the delayed-ACK timer runs: ato = 40 ms. */
TEST(estab_data_in_order_quickack_then_every_second_segment)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t off = 0, ts;
	uint64_t t;

	REQUIRE(established(sc, &c));
	sc_advance(sc, MS(10));
	for (int i = 0; i < 16; i++) {
		ts = peer_data(sc, &c, off, SEG);
		off += SEG;
		if (!EXPECT_ACK(sc, &c, off, ts, .win = V(63), OPT(O_NOP, O_NOP, O_TS(0, ts)), .t = V64(sc_now(sc))))
			fprintf(stderr, "  (quick ACK %d of 16)\n", i + 1);
		read_exact(sc, &c, off - SEG, SEG);
		EXPECT_NONE(sc);
	}
	/* Quick-ACK mode is over: the 17th segment waits for a second one. The
	 * ACK echoes the 17th's TSval: the 18th starts above rcv_wup, so it
	 * does not replace ts_recent (RFC 7323 3.4). */
	ts = peer_data(sc, &c, off, SEG);
	read_exact(sc, &c, off, SEG);
	off += SEG;
	EXPECT_NONE(sc);
	peer_data(sc, &c, off, SEG);
	off += SEG;
	EXPECT_ACK(sc, &c, off, ts, .win = V(63), OPT(O_NOP, O_NOP, O_TS(0, ts)), .t = V64(sc_now(sc)));
	read_exact(sc, &c, off - SEG, SEG);
	EXPECT_NONE(sc);
	/* A single segment: the delayed-ACK timer, ato 40 ms. */
	t = sc_now(sc);
	ts = peer_data(sc, &c, off, SEG);
	off += SEG;
	read_exact(sc, &c, off - SEG, SEG);
	sc_run_until(sc, t + MS(ATO_MIN_MS) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(ATO_MIN_MS));
	EXPECT_ACK(sc, &c, off, ts, .win = V(63), OPT(O_NOP, O_NOP, O_TS(0, ts)), .t = V64(t + MS(ATO_MIN_MS)));
	CHECK_MIB(sc, "TcpExtDelayedACKs", 1);
	SC_FREE(sc);
}

/* Linux 6.6 and later (tcp_dec_quickack_mode): a quick ACK is spent only
 * by an ACK of new data, one per ACK. 24 segments sent after the peer's
 * data was acknowledged owe no ACK, so they spend none: the peer's next
 * segment is still acknowledged at once. (Before 6.6 every segment sent
 * with ACK spent one, and that segment waited 40 ms.) */
TEST(estab_quickack_spent_only_by_acks_of_new_data)
{
	struct sc *sc = sc_new(NULL);
	static uint8_t reply[24 * SEG];
	struct sc_sock_usage u;
	struct sc_conn c;
	uint32_t off = 0, ts;

	REQUIRE(established(sc, &c));
	sc_advance(sc, MS(10));
	ts = peer_data(sc, &c, off, SEG);
	off += SEG;
	EXPECT_ACK(sc, &c, off, ts, .win = V(63), OPT(O_NOP, O_NOP, O_TS(0, ts)), .t = V64(sc_now(sc)));
	read_exact(sc, &c, 0, SEG);
	/* Later than the ATO after the request, so not an interactive reply
	 * (tcp_event_data_sent would count a pingpong, which delays ACKs),
	 * and sooner than the RTO (a pause that long refills quick ACKs). */
	sc_advance(sc, MS(100));
	CHECK_EQ(synack_send(sc->st, c.fd, reply, sizeof(reply), 0), (long)sizeof(reply));
	for (int round = 0; round < 10; round++) {
		struct sc_seg s;

		sc_run(sc);
		REQUIRE(sc_sock_usage(sc->st, c.fd, &u) == 0);
		if (u.snd_una == u.snd_nxt && !u.write_skbs)
			break;
		sc_drain(sc);
		s = sc_seg_for(&c, F_ACK, c.irs + 1 + off, u.snd_nxt);
		sc_seg_ts(&s, c.peer_ts++, c.tsval);
		sc_inject(sc, &s);
	}
	CHECK_EQ(u.snd_nxt - c.iss - 1, sizeof(reply));
	sc_drain(sc);
	{
		struct sc_seg s = sc_seg_for(&c, F_ACK, c.irs + 1 + off, u.snd_nxt);

		ts = c.peer_ts++;
		sc_seg_ts(&s, ts, c.tsval);
		s.data = payload;
		s.len = SEG;
		sc_inject(sc, &s);
		off += SEG;
	}
	EXPECT(sc, .flags = F_ACK, .ack = V(c.irs + 1 + off), .len = V(0), .tsecr = V(ts), .t = V64(sc_now(sc)));
	CHECK_MIB(sc, "TcpExtDelayedACKs", 0);
	SC_FREE(sc);
}

/* The same on a passively opened connection. */
TEST(estab_passive_data_quickack_16_then_delayed)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t off = 0, ts = 0;
	uint64_t t;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 8) && ESTABLISH_PASSIVE(sc, &c));
	for (int i = 0; i < 16; i++) {
		ts = peer_data(sc, &c, off, SEG);
		off += SEG;
		EXPECT_ACK(sc, &c, off, ts, OPT(O_NOP, O_NOP, O_TS(0, ts)));
		read_exact(sc, &c, off - SEG, SEG);
	}
	EXPECT_NONE(sc);
	t = sc_now(sc);
	ts = peer_data(sc, &c, off, SEG);
	off += SEG;
	read_exact(sc, &c, off - SEG, SEG);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(ATO_MIN_MS));
	EXPECT_ACK(sc, &c, off, ts, OPT(O_NOP, O_NOP, O_TS(0, ts)), .t = V64(t + MS(ATO_MIN_MS)));
	SC_FREE(sc);
}

/* Linux's tcp_delack_timer_handler: a delayed ACK that had to be sent by
 * the timer (not in interactive mode) inflates the ATO: ato = min(ato << 1,
 * rto). With a 100 ms handshake RTT (srtt 100 ms, rto 300 ms) the next
 * delayed ACK waits min(ato 80, srtt 100) = 80 ms (tcp_send_delayed_ack). */
TEST(estab_delack_timer_inflates_ato)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t off = 0, ts = 0;
	uint64_t t0;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT) && ESTABLISH_ACTIVE_EX(sc, &c, .rtt = MS(100)));
	sc_advance(sc, MS(10));
	for (int i = 0; i < 16; i++) {
		ts = peer_data(sc, &c, off, SEG);
		off += SEG;
		EXPECT_ACK(sc, &c, off, ts);
		read_exact(sc, &c, off - SEG, SEG);
	}
	t0 = sc_now(sc);
	ts = peer_data(sc, &c, off, SEG);
	off += SEG;
	read_exact(sc, &c, off - SEG, SEG);
	sc_run_until(sc, t0 + MS(100));
	EXPECT_ACK(sc, &c, off, ts, .t = V64(t0 + MS(40)));
	/* 100 ms after the last: ato stays 80 (m = 100 is neither < ato nor > rto). */
	ts = peer_data(sc, &c, off, SEG);
	off += SEG;
	read_exact(sc, &c, off - SEG, SEG);
	sc_run_until(sc, t0 + MS(300));
	EXPECT_ACK(sc, &c, off, ts, .t = V64(t0 + MS(100) + MS(80)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* An out-of-order segment: an immediate duplicate ACK with one SACK block,
 * the options NOP NOP TS NOP NOP SACK. The TSecr stays the last in-order
 * segment's TSval (tcp_replace_ts_recent: only when seq <= rcv_wup). */
TEST(estab_ooo_segment_sack_block)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t recent, ts, a, b;

	REQUIRE(established(sc, &c));
	recent = c.peer_ts - 1;
	sc_advance(sc, MS(10));
	peer_data(sc, &c, SEG, SEG);
	a = c.irs + 1 + SEG;
	b = a + SEG;
	EXPECT_ACK(sc, &c, 0, recent, .win = V(63),
		   OPT(O_NOP, O_NOP, O_TS(0, recent), O_NOP, O_NOP, 5, 10, (uint8_t)(a >> 24), (uint8_t)(a >> 16),
		       (uint8_t)(a >> 8), (uint8_t)a, (uint8_t)(b >> 24), (uint8_t)(b >> 16), (uint8_t)(b >> 8),
		       (uint8_t)b),
		   .t = V64(sc_now(sc)));
	CHECK_MIB(sc, "TcpExtTCPOFOQueue", 1);
	EXPECT_NONE(sc);
	/* Filling the hole: an immediate ACK of both, the SACK block gone, the
	 * TSecr now the filling segment's. Two unread segments are charged at
	 * synack's truesize model (twice the payload, the model of
	 * estab_zero_window_rcvbuf_full_then_update_after_read): free space
	 * (131072 - 4 * 1448) / 2 = 62640, aligned up to 63488 = 62 << 10. */
	ts = peer_data(sc, &c, 0, SEG);
	EXPECT_ACK(sc, &c, 2 * SEG, ts, .win = V(62), OPT(O_NOP, O_NOP, O_TS(0, ts)), .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	read_exact(sc, &c, 0, SEG);
	read_exact(sc, &c, SEG, SEG);
	SC_FREE(sc);
}

/* Filling the hole after quick-ACK mode is over still ACKs at once
 * (tcp_data_queue: ICSK_ACK_NOW when the out-of-order queue empties). */
TEST(estab_ooo_hole_filled_acks_now_after_quickack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t off = 0, ts = 0;

	REQUIRE(established(sc, &c));
	sc_advance(sc, MS(10));
	for (int i = 0; i < 16; i++) {
		ts = peer_data(sc, &c, off, SEG);
		off += SEG;
		EXPECT_ACK(sc, &c, off, ts);
		read_exact(sc, &c, off - SEG, SEG);
	}
	/* Out of order: ACKed at once with a SACK block. */
	peer_data(sc, &c, off + SEG, SEG);
	EXPECT_ACK(sc, &c, off, ts);
	/* The hole, a single segment outside quick-ACK mode: at once anyway. */
	ts = peer_data(sc, &c, off, SEG);
	EXPECT_ACK(sc, &c, off + 2 * SEG, ts, OPT(O_NOP, O_NOP, O_TS(0, ts)), .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

#define B4(x) (uint8_t)((x) >> 24), (uint8_t)((x) >> 16), (uint8_t)((x) >> 8), (uint8_t)(x)

/* Several holes: each new block goes first (tcp_sack_new_ofo_skb), so the
 * blocks read newest first; with timestamps three blocks fit. */
TEST(estab_ooo_several_holes_newest_first)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t recent, s2, s4, s6;

	REQUIRE(established(sc, &c));
	recent = c.peer_ts - 1;
	s2 = c.irs + 1 + SEG;
	s4 = c.irs + 1 + 3 * SEG;
	s6 = c.irs + 1 + 5 * SEG;
	peer_data(sc, &c, SEG, SEG);
	EXPECT_ACK(sc, &c, 0, recent, OPT(O_NOP, O_NOP, O_TS(0, recent), O_NOP, O_NOP, 5, 10, B4(s2), B4(s2 + SEG)));
	peer_data(sc, &c, 3 * SEG, SEG);
	EXPECT_ACK(sc, &c, 0, recent,
		   OPT(O_NOP, O_NOP, O_TS(0, recent), O_NOP, O_NOP, 5, 18, B4(s4), B4(s4 + SEG), B4(s2), B4(s2 + SEG)));
	peer_data(sc, &c, 5 * SEG, SEG);
	EXPECT_ACK(sc, &c, 0, recent,
		   OPT(O_NOP, O_NOP, O_TS(0, recent), O_NOP, O_NOP, 5, 26, B4(s6), B4(s6 + SEG), B4(s4), B4(s4 + SEG),
		       B4(s2), B4(s2 + SEG)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* A duplicate of data already received: an immediate ACK carrying a D-SACK
 * block for it (RFC 2883; tcp_data_queue -> tcp_dsack_set), TSecr the
 * duplicate's TSval (its seq is below rcv_wup). */
TEST(estab_duplicate_segment_dsack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t ts, s1;

	REQUIRE(established(sc, &c));
	s1 = c.irs + 1;
	ts = peer_data(sc, &c, 0, SEG);
	EXPECT_ACK(sc, &c, SEG, ts, OPT(O_NOP, O_NOP, O_TS(0, ts)));
	read_exact(sc, &c, 0, SEG);
	sc_advance(sc, MS(5));
	ts = peer_data(sc, &c, 0, SEG);
	EXPECT_ACK(sc, &c, SEG, ts, OPT(O_NOP, O_NOP, O_TS(0, ts), O_NOP, O_NOP, 5, 10, B4(s1), B4(s1 + SEG)),
		   .t = V64(sc_now(sc)));
	CHECK_MIB(sc, "TcpExtTCPDSACKOldSent", 1);
	CHECK_MIB(sc, "TcpExtDelayedACKLost", 1);
	/* The D-SACK is reported once. */
	ts = peer_data(sc, &c, SEG, SEG);
	EXPECT_ACK(sc, &c, 2 * SEG, ts, OPT(O_NOP, O_NOP, O_TS(0, ts)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* A duplicate of out-of-order data: D-SACK first, then the SACK block that
 * holds it (tcp_data_queue_ofo: "all the bits are present"). */
TEST(estab_ooo_duplicate_dsack_then_sack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t recent, s2;

	REQUIRE(established(sc, &c));
	recent = c.peer_ts - 1;
	s2 = c.irs + 1 + SEG;
	peer_data(sc, &c, SEG, SEG);
	EXPECT_ACK(sc, &c, 0, recent, OPT(O_NOP, O_NOP, O_TS(0, recent), O_NOP, O_NOP, 5, 10, B4(s2), B4(s2 + SEG)));
	peer_data(sc, &c, SEG, SEG);
	EXPECT_ACK(sc, &c, 0, recent,
		   OPT(O_NOP, O_NOP, O_TS(0, recent), O_NOP, O_NOP, 5, 18, B4(s2), B4(s2 + SEG), B4(s2), B4(s2 + SEG)));
	CHECK_MIB(sc, "TcpExtTCPDSACKOfoSent", 1);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* Out-of-order data that repeats what is held is D-SACKed as Linux's
 * tcp_data_queue_ofo does (RFC 2883), then the SACK block of the whole:
 * (a) the overlap with the tail of the held segment before it;
 * (b) held segments it covers, dropped (TCPOFOMerge); the first starts the
 *     D-SACK, and one not touching it is not added (tcp_dsack_extend);
 * (c) the overlap with the head of the held segment after it.
 * Each case holds [from, to) (offsets past the first, lost, segment) and
 * then sends [seq, end). */
static void ooo_overlap_dsack(uint32_t n_held, const uint32_t (*held)[2], uint32_t seq, uint32_t end,
			      uint32_t d0, uint32_t d1, uint32_t s0, uint32_t s1, uint64_t merges)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t recent, b;

	REQUIRE(established(sc, &c));
	recent = c.peer_ts - 1;
	b = c.irs + 1;
	for (uint32_t i = 0; i < n_held; i++)
		peer_data(sc, &c, held[i][0], held[i][1] - held[i][0]);
	sc_drain(sc);
	peer_data(sc, &c, seq, end - seq);
	EXPECT_ACK(sc, &c, 0, recent,
		   OPT(O_NOP, O_NOP, O_TS(0, recent), O_NOP, O_NOP, 5, 18, B4(b + d0), B4(b + d1), B4(b + s0),
		       B4(b + s1)));
	CHECK_MIB(sc, "TcpExtTCPDSACKOfoSent", 1);
	CHECK_MIB(sc, "TcpExtTCPOFOMerge", merges);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

TEST(estab_ooo_overlap_with_segment_before_dsacked)
{
	static const uint32_t held[][2] = { { 1448, 1648 } };

	ooo_overlap_dsack(1, held, 1548, 1748, 1548, 1648, 1448, 1748, 0);
}

TEST(estab_ooo_covered_segments_dropped_dsacked)
{
	static const uint32_t held[][2] = { { 1548, 1648 }, { 1748, 1848 } };

	ooo_overlap_dsack(2, held, 1448, 1948, 1548, 1648, 1448, 1948, 2);
}

TEST(estab_ooo_overlap_with_segment_after_dsacked)
{
	static const uint32_t held[][2] = { { 1648, 1848 } };

	ooo_overlap_dsack(1, held, 1448, 1748, 1648, 1748, 1448, 1848, 0);
}

/* Data at or beyond the right edge of the offered window (rcv_nxt +
 * 64512): dropped, and an ACK of rcv_nxt goes out at once. */
TEST(estab_data_beyond_window_dropped_acked)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t recent;
	uint8_t buf[64];

	REQUIRE(established(sc, &c));
	recent = c.peer_ts - 1;
	sc_advance(sc, MS(10));
	/* Starting exactly at the right edge. */
	peer_data(sc, &c, 64512, 100);
	EXPECT_ACK(sc, &c, 0, recent, .win = V(63), OPT(O_NOP, O_NOP, O_TS(0, recent)), .t = V64(sc_now(sc)));
	/* Well beyond it. */
	peer_data(sc, &c, 64512 + 5000, 100);
	EXPECT_ACK(sc, &c, 0, recent, .win = V(63), OPT(O_NOP, O_NOP, O_TS(0, recent)), .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), -EAGAIN);
	/* Nothing of it was kept: the in-order segment fills no hole. */
	peer_data(sc, &c, 0, 100);
	EXPECT_ACK(sc, &c, 100, c.peer_ts - 1, OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 1)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/*
 * The zero window of a receiver that does not read. SO_RCVBUF 4096 before
 * connect: sk_rcvbuf 8192 (doubled), tcp_full_space 4096 at Linux's default
 * scaling ratio (50%; truesize taken as twice the payload, which keeps the
 * ratio there), window_clamp 4096, so the SYN offers rounddown(4096, 1460) =
 * 2920 with wscale 0. tcp_init_buffer_space reserves one segment: clamp =
 * rcv_ssthresh = 2896; the third ACK keeps 2920 (never shrink).
 *
 * The peer sends 1000-byte segments (rcv_mss 1000). Free space after n of
 * them (unread) is (8192 - 2000 n) / 2: 3096, 2096, 1096, 96.
 *  1: quick ACK, window rounddown(2896, 1000) = 2000
 *  2: quick ACK, 2000 kept (within one mss of the free space)
 *  3: quick ACK, free 1096 < half the clamp: quick mode ends, 1000
 *  4: free 96 < 4096 / 16: window 0; not quick, only one segment: the
 *     delayed ACK at 40 ms carries window 0
 *  5: beyond the zero window with data queued (tcp_sequence): dropped,
 *     ACKed at once with window 0
 * Reading it all frees the buffer; the new window (rounddown(2896, 1000) =
 * 2000) is at least twice the current one (0), so tcp_cleanup_rbuf sends a
 * window update at once.
 */
TEST(estab_zero_window_rcvbuf_full_then_update_after_read)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);
	const struct sc_pkt *p;
	uint32_t ts;
	uint64_t t;
	uint8_t buf[8192];

	memset(&c, 0, sizeof(c));
	c.listener = -1;
	c.rport = SC_REMOTE_PORT;
	c.irs = SC_PEER_ISN;
	c.peer_ts = SC_PEER_TS;
	c.fd = sc_socket(sc);
	REQUIRE(c.fd >= 0);
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, SOL_SOCKET, SO_RCVBUF, 4096), 0);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -EINPROGRESS);
	sc_run(sc);
	p = EXPECT(sc, .flags = F_SYN, .win = V(2920), OPT(O_MSS(1460), O_SACKOK, O_TS(0, 0), O_NOP, O_WS(0)));
	REQUIRE(p);
	c.syn = *p;
	c.lport = p->sport;
	c.iss = p->seq;
	c.tsval = p->tsval;
	c.syn_t = p->t;
	REQUIRE(ESTABLISH_ACTIVE_EX(sc, &c, .ack_win = 2920));
	sc_advance(sc, MS(10));

	ts = peer_data(sc, &c, 0, 1000);
	EXPECT_ACK(sc, &c, 1000, ts, .win = V(2000), .t = V64(sc_now(sc)));
	ts = peer_data(sc, &c, 1000, 1000);
	EXPECT_ACK(sc, &c, 2000, ts, .win = V(2000), .t = V64(sc_now(sc)));
	ts = peer_data(sc, &c, 2000, 1000);
	EXPECT_ACK(sc, &c, 3000, ts, .win = V(1000), .t = V64(sc_now(sc)));
	t = sc_now(sc);
	ts = peer_data(sc, &c, 3000, 1000);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(ATO_MIN_MS));
	EXPECT_ACK(sc, &c, 4000, ts, .win = V(0), .t = V64(t + MS(ATO_MIN_MS)));
	CHECK_MIB(sc, "TcpExtTCPToZeroWindowAdv", 1);
	/* Data into the zero window. */
	sc_advance(sc, MS(10));
	peer_data(sc, &c, 4000, 1000);
	EXPECT_ACK(sc, &c, 4000, ts, .win = V(0), .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	/* The application reads everything: a window update at once. */
	sc_advance(sc, MS(10));
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 4000);
	sc_run(sc);
	EXPECT_ACK(sc, &c, 4000, ts, .win = V(2000), .t = V64(sc_now(sc)));
	CHECK_MIB(sc, "TcpExtTCPFromZeroWindowAdv", 1);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* The hole fills under an out-of-order FIN with more out-of-order data
 * past it: queuing the FIN purges the out-of-order queue, so the queue walk
 * must not keep a pointer into it (Linux: tcp_ofo_queue re-reads the head).
 * Everything up to the FIN is read, the FIN is ACKed, and the data beyond
 * it is dropped; ASan catches a walk into freed buffers. */
TEST(estab_ooo_fin_then_data_past_it_hole_filled)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	uint8_t after_eof[16];

	REQUIRE(established(sc, &c));
	s = sc_seg_for(&c, F_ACK | F_FIN, c.irs + 1 + 100, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts++, c.tsval);
	s.data = payload + 100;
	s.len = 10;
	sc_inject(sc, &s);
	peer_data(sc, &c, 105, 15);
	peer_data(sc, &c, 0, 100);
	sc_drain(sc);
	CHECK_STATE(sc, c.fd, TCP_CLOSE_WAIT);
	read_exact(sc, &c, 0, 110);
	CHECK_EQ(synack_recv(sc->st, c.fd, after_eof, sizeof(after_eof), 0), 0); /* EOF */
	SC_FREE(sc);
}

/* With software GRO (Linux's default; the sim wire's is off), segments
 * that arrive in one poll go up merged. After a loss the bursts that follow
 * are out of order, and each merged frame is charged the buffer it sits in:
 * one filling little of its 64 KiB buffer moves to a buffer of its size
 * (tcp_ofo_fit), so a window's worth of out-of-order data is queued, not
 * dropped, and fills in once the hole is. */
TEST(estab_gro_merged_ooo_bursts_after_loss_all_queued)
{
	static const int bursts[] = { 12, 12, 12, 6 };
	struct sc_opts o = { .gro = true };
	struct sc *sc = sc_new(&o);
	struct sc_conn c;
	uint32_t off = SEG;        /* the first segment is lost */
	static uint8_t buf[43 * SEG];

	REQUIRE(established(sc, &c));
	for (size_t b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++) {
		uint32_t ts = c.peer_ts++;  /* a burst sent within one tick: one TSval */

		sc->burst = true;
		for (int i = 0; i < bursts[b]; i++, off += SEG) {
			struct sc_seg s = sc_seg_for(&c, F_ACK, c.irs + 1 + off, c.iss + 1);

			sc_seg_ts(&s, ts, c.tsval);
			s.data = payload + (off % 4096);
			s.len = SEG;
			sc_inject(sc, &s);
		}
		sc->burst = false;
		sc_run(sc);
	}
	CHECK_MIB(sc, "LinkRxGroMerged", 42 - 4);
	CHECK_MIB(sc, "TcpExtTCPOFODrop", 0);
	CHECK_MIB(sc, "TcpExtTCPOFOQueue", 4);
	peer_data(sc, &c, 0, SEG);
	sc_drain(sc);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 43 * SEG);
	for (uint32_t i = 0; i < 43 * SEG; i++)
		if (buf[i] != payload[i % 4096]) {
			CHECK_EQ(buf[i], payload[i % 4096]);
			break;
		}
	SC_FREE(sc);
}

int main(void)
{
	fill_payload();
	RUN(estab_data_in_order_quickack_then_every_second_segment);
	RUN(estab_passive_data_quickack_16_then_delayed);
	RUN(estab_delack_timer_inflates_ato);
	RUN(estab_ooo_segment_sack_block);
	RUN(estab_ooo_hole_filled_acks_now_after_quickack);
	RUN(estab_ooo_several_holes_newest_first);
	RUN(estab_duplicate_segment_dsack);
	RUN(estab_ooo_duplicate_dsack_then_sack);
	RUN(estab_data_beyond_window_dropped_acked);
	RUN(estab_zero_window_rcvbuf_full_then_update_after_read);
	RUN(estab_ooo_fin_then_data_past_it_hole_filled);
	RUN(estab_gro_merged_ooo_bursts_after_loss_all_queued);
	RUN(estab_quickack_spent_only_by_acks_of_new_data);
	RUN(estab_ooo_overlap_with_segment_before_dsacked);
	RUN(estab_ooo_covered_segments_dropped_dsacked);
	RUN(estab_ooo_overlap_with_segment_after_dsacked);
	return TEST_SUMMARY();
}
