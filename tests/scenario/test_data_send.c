/* The sending side of the data path, as Linux does it: segmentation to the
 * MSS, the initial window, slow start, the peer's scaled window, Nagle,
 * TCP_NODELAY and TCP_CORK, zero-window probes with backoff.
 *
 * The connection is opened actively; the peer's SYN-ACK offers MSS 1460,
 * timestamps, SACK and wscale 7, so our MSS is 1448 and the peer's window
 * field counts 128-byte units. Most tests take a 100 ms handshake RTT:
 * srtt 100 ms, rttvar max(2 * 100, 200) = 200 ms, rto 300 ms. */
#include <string.h>
#include "../test.h"
#include "harness.h"

#define SEG 1448u

static uint8_t payload[1 << 16];

static void fill_payload(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 1);
}

static struct synack_tcp_info tcp_info(struct sc *sc, int fd)
{
	struct synack_tcp_info ti;
	unsigned int len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	CHECK_EQ(synack_getsockopt(sc->st, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti;
}

/* A pure ACK from the peer: ack at offset ackoff from iss + 1, raw window
 * win, echoing ecr. */
static void peer_ack(struct sc *sc, struct sc_conn *c, uint32_t ackoff, uint16_t win, uint32_t ecr)
{
	struct sc_seg s = sc_seg_for(c, F_ACK, c->irs + 1, c->iss + 1 + ackoff);

	s.win = win;
	sc_seg_ts(&s, c->peer_ts++, ecr);
	sc_inject(sc, &s);
}

/* Send len bytes of the pattern from offset off; all must be taken. */
static void app_send(struct sc *sc, struct sc_conn *c, uint32_t off, uint32_t len, int flags)
{
	CHECK_EQ(synack_send(sc->st, c->fd, payload + off, len, flags), len);
	sc_run(sc);
}

#define PEER_WIN (SC_PEER_WIN >> SC_PEER_WS) /* 228: 29184 bytes */

/* A data segment from us at offset off, len bytes. */
#define EXPECT_DATA(sc, c, off, n, fl, ...)                                                          \
	EXPECT((sc), .flags = (fl), .seq = V((c)->iss + 1 + (off)), .ack = V((c)->irs + 1), .len = V(n), \
	       .data = payload + (off), ##__VA_ARGS__)

/* A send buffer large enough for every write here (Linux would also have
 * grown its default one, tcp_sndbuf_expand, to about 2 * 10 segments). */
static bool established(struct sc *sc, struct sc_conn *c, uint64_t rtt)
{
	if (!OPEN_ACTIVE(sc, c, SC_REMOTE_PORT) || !ESTABLISH_ACTIVE_EX(sc, c, .rtt = rtt))
		return false;
	CHECK_EQ(sc_setsockopt_int(sc, c->fd, SOL_SOCKET, SO_SNDBUF, 1 << 20), 0);
	return true;
}

/* One write of 3000 bytes: 1448 + 1448 + 104, PSH on the last only (the
 * tail skb is marked by tcp_push; GSO keeps PSH on the last segment), each
 * with NOP NOP TS. */
TEST(estab_send_segments_to_mss_1448)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t;

	REQUIRE(established(sc, &c, MS(100)));
	sc_advance(sc, MS(10));
	t = sc_now(sc);
	app_send(sc, &c, 0, 3000, 0);
	EXPECT_DATA(sc, &c, 0, SEG, F_ACK, .win = V(63), OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 1)), .t = V64(t));
	EXPECT_DATA(sc, &c, SEG, SEG, F_ACK, .win = V(63), OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 1)), .t = V64(t));
	EXPECT_DATA(sc, &c, 2 * SEG, 104, F_ACK | F_PSH, .win = V(63), OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 1)),
		    .t = V64(t));
	EXPECT_NONE(sc);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_snd_mss, SEG);
	SC_FREE(sc);
}

/* The initial window is 10 segments (RFC 6928); an ACK of two in slow
 * start raises cwnd by two (tcp_slow_start), so four more go out. */
TEST(estab_initial_window_10_then_slow_start)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct synack_tcp_info ti;
	uint32_t ecr = 0;

	REQUIRE(established(sc, &c, MS(100)));
	sc_advance(sc, MS(10));
	app_send(sc, &c, 0, 20 * SEG, 0);
	for (uint32_t i = 0; i < 10; i++) {
		const struct sc_pkt *p = EXPECT_DATA(sc, &c, i * SEG, SEG, F_ACK);
		if (!p)
			break;
		ecr = p->tsval;
	}
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_snd_cwnd, 10);
	CHECK_EQ(ti.tcpi_unacked, 10);
	sc_advance(sc, MS(100));
	peer_ack(sc, &c, 2 * SEG, PEER_WIN, ecr);
	for (uint32_t i = 10; i < 14; i++)
		EXPECT_DATA(sc, &c, i * SEG, SEG, F_ACK, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_snd_cwnd, 12);
	CHECK_EQ(ti.tcpi_unacked, 12);
	/* Every ACK in slow start adds what it acknowledges. */
	peer_ack(sc, &c, 5 * SEG, PEER_WIN, ecr);
	for (uint32_t i = 14; i < 20; i++)
		EXPECT_DATA(sc, &c, i * SEG, SEG, i == 19 ? F_ACK | F_PSH : F_ACK);
	EXPECT_NONE(sc);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_snd_cwnd, 15);
	SC_FREE(sc);
}

/* The peer's window field is scaled by its wscale (7): raw 34 is 4352
 * bytes, room for three full segments and not a fourth. A window smaller
 * than what is left is not used until more opens. */
TEST(estab_snd_wnd_scaled_by_peer_wscale)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	const struct sc_pkt *p;
	uint32_t ecr = 0;

	REQUIRE(established(sc, &c, MS(100)));
	/* A window update before any data: seq irs + 1 is after snd_wl1. */
	peer_ack(sc, &c, 0, 34, c.tsval);
	EXPECT_NONE(sc);
	app_send(sc, &c, 0, 5 * SEG, 0);
	for (uint32_t i = 0; i < 3; i++)
		if ((p = EXPECT_DATA(sc, &c, i * SEG, SEG, F_ACK)))
			ecr = p->tsval;
	EXPECT_NONE(sc);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_snd_wscale, SC_PEER_WS);
	sc_advance(sc, MS(100));
	/* One segment acknowledged, the same 4352 bytes offered: one more fits. */
	peer_ack(sc, &c, SEG, 34, ecr);
	EXPECT_DATA(sc, &c, 3 * SEG, SEG, F_ACK, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	/* raw 46 = 5888 bytes from snd_una: the last segment fits. */
	peer_ack(sc, &c, SEG, 46, ecr);
	EXPECT_DATA(sc, &c, 4 * SEG, SEG, F_ACK | F_PSH, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* Nagle (tcp_nagle_check with Minshall's rule): a small segment waits while
 * an earlier small one is unacknowledged, and goes out with the ACK. */
TEST(estab_nagle_holds_small_segment_until_ack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	const struct sc_pkt *p;
	uint32_t ecr = 0;

	REQUIRE(established(sc, &c, MS(100)));
	app_send(sc, &c, 0, 100, 0);
	p = EXPECT_DATA(sc, &c, 0, 100, F_ACK | F_PSH, .t = V64(sc_now(sc)));
	REQUIRE(p);
	ecr = p->tsval;
	app_send(sc, &c, 100, 100, 0);
	app_send(sc, &c, 200, 100, 0);
	EXPECT_NONE(sc);
	sc_advance(sc, MS(100));
	EXPECT_NONE(sc);
	peer_ack(sc, &c, 100, PEER_WIN, ecr);
	/* The two writes were merged into one skb. */
	EXPECT_DATA(sc, &c, 100, 200, F_ACK | F_PSH, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* TCP_NODELAY: every small write goes at once. */
TEST(estab_nodelay_sends_small_segments_at_once)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c, MS(100)));
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, IPPROTO_TCP, TCP_NODELAY, 1), 0);
	app_send(sc, &c, 0, 100, 0);
	EXPECT_DATA(sc, &c, 0, 100, F_ACK | F_PSH, .t = V64(sc_now(sc)));
	app_send(sc, &c, 100, 100, 0);
	EXPECT_DATA(sc, &c, 100, 100, F_ACK | F_PSH, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* Setting TCP_NODELAY pushes what Nagle holds (tcp_push_pending_frames). */
TEST(estab_nodelay_set_pushes_held_segment)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c, MS(100)));
	app_send(sc, &c, 0, 100, 0);
	EXPECT_DATA(sc, &c, 0, 100, F_ACK | F_PSH);
	app_send(sc, &c, 100, 100, 0);
	EXPECT_NONE(sc);
	sc_advance(sc, MS(10));
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, IPPROTO_TCP, TCP_NODELAY, 1), 0);
	sc_run(sc);
	EXPECT_DATA(sc, &c, 100, 100, F_ACK | F_PSH, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* TCP_CORK: full segments go, the partial tail waits; clearing the cork
 * sends it. */
TEST(estab_cork_holds_partial_until_uncork)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c, MS(100)));
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, IPPROTO_TCP, TCP_CORK, 1), 0);
	app_send(sc, &c, 0, 1500, 0);
	EXPECT_DATA(sc, &c, 0, SEG, F_ACK);
	EXPECT_NONE(sc);
	sc_advance(sc, MS(50));
	EXPECT_NONE(sc);
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, IPPROTO_TCP, TCP_CORK, 0), 0);
	sc_run(sc);
	EXPECT_DATA(sc, &c, SEG, 52, F_ACK | F_PSH, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* Corked data with nothing in flight is not held forever: tcp_write_xmit
 * arms the probe timer (tcp_check_probe0, at max(rto, 200 ms)) and the
 * probe (tcp_write_wakeup) sends the partial segment with PSH. With a
 * 100 ms RTT that is 300 ms. */
TEST(estab_cork_partial_sent_by_probe_timer_at_rto)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t;

	REQUIRE(established(sc, &c, MS(100)));
	/* A pure ACK (nothing in Linux) so the SYN's timer cannot matter. */
	peer_ack(sc, &c, 0, PEER_WIN, c.tsval);
	EXPECT_NONE(sc);
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, IPPROTO_TCP, TCP_CORK, 1), 0);
	t = sc_now(sc);
	app_send(sc, &c, 0, 100, 0);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(300) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(300));
	EXPECT_DATA(sc, &c, 0, 100, F_ACK | F_PSH, .t = V64(t + MS(300)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* MSG_MORE corks one call: the partial segment waits for the next write. */
TEST(estab_msg_more_holds_partial)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c, MS(100)));
	app_send(sc, &c, 0, 100, MSG_MORE);
	EXPECT_NONE(sc);
	app_send(sc, &c, 100, 100, 0);
	EXPECT_DATA(sc, &c, 0, 200, F_ACK | F_PSH, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/*
 * The peer's window closes (an ACK with window 0) with data waiting:
 * zero-window probes (tcp_send_probe0: seq snd_una - 1, no data) at
 * max(rto, 200 ms) << backoff. Each answer with window 0 re-arms the
 * timer from its arrival (tcp_ack_probe: probe0_when from now). Here the
 * handshake RTT is 0 (rto 200 ms) and the peer answers 50 ms after each
 * probe:
 *   probe 1 at T + 200; answer at T + 250 -> next at T + 250 + 400
 *   probe 2 at T + 650; answer at T + 700 -> next at T + 700 + 800
 *   probe 3 at T + 1500
 * A window that opens sends the data at once.
 */
TEST(estab_peer_zero_window_persist_probes_backoff)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t, probe[3] = { MS(200), MS(650), MS(1500) };

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT) && ESTABLISH_ACTIVE(sc, &c));
	peer_ack(sc, &c, 0, 0, c.tsval);
	EXPECT_NONE(sc);
	t = sc_now(sc);
	app_send(sc, &c, 0, 1000, 0);
	EXPECT_NONE(sc);
	for (int i = 0; i < 3; i++) {
		sc_run_until(sc, t + probe[i] - 1);
		EXPECT_NONE(sc);
		sc_run_until(sc, t + probe[i]);
		if (!EXPECT(sc, .flags = F_ACK, .seq = V(c.iss), .ack = V(c.irs + 1), .len = V(0),
			    OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 1)), .t = V64(t + probe[i])))
			fprintf(stderr, "  (probe %d)\n", i + 1);
		if (i < 2) {
			sc_run_until(sc, t + probe[i] + MS(50));
			peer_ack(sc, &c, 0, 0, c.tsval);
			EXPECT_NONE(sc);
		}
	}
	CHECK_MIB(sc, "TcpExtTCPWinProbe", 3);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_backoff, 3);
	sc_advance(sc, MS(20));
	peer_ack(sc, &c, 0, PEER_WIN, c.tsval);
	EXPECT_DATA(sc, &c, 0, 1000, F_ACK | F_PSH, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* TCP_USER_TIMEOUT 1000 ms ends zero-window probing even though every probe
 * is answered: probes at 200 and 650 ms, and at 1500 ms - more than 1000 ms
 * after the first - the connection fails with ETIMEDOUT instead, without a
 * segment (Linux: tcp_probe_timer, tcp_write_err). */
TEST(estab_zero_window_probing_ends_at_user_timeout)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t, probe[2] = { MS(200), MS(650) };

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT) && ESTABLISH_ACTIVE(sc, &c));
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000), 0);
	peer_ack(sc, &c, 0, 0, c.tsval);
	t = sc_now(sc);
	app_send(sc, &c, 0, 1000, 0);
	for (int i = 0; i < 2; i++) {
		sc_run_until(sc, t + probe[i]);
		EXPECT(sc, .flags = F_ACK, .seq = V(c.iss), .len = V(0), .t = V64(t + probe[i]));
		sc_run_until(sc, t + probe[i] + MS(50));
		peer_ack(sc, &c, 0, 0, c.tsval);
		EXPECT_NONE(sc);
	}
	sc_run_until(sc, t + MS(1500));
	EXPECT_NONE(sc);
	CHECK_EQ(sc_so_error(sc, c.fd), ETIMEDOUT);
	CHECK_MIB(sc, "TcpExtTCPWinProbe", 2);
	SC_FREE(sc);
}

int main(void)
{
	fill_payload();
	RUN(estab_send_segments_to_mss_1448);
	RUN(estab_initial_window_10_then_slow_start);
	RUN(estab_snd_wnd_scaled_by_peer_wscale);
	RUN(estab_nagle_holds_small_segment_until_ack);
	RUN(estab_nodelay_sends_small_segments_at_once);
	RUN(estab_nodelay_set_pushes_held_segment);
	RUN(estab_cork_holds_partial_until_uncork);
	RUN(estab_cork_partial_sent_by_probe_timer_at_rto);
	RUN(estab_msg_more_holds_partial);
	RUN(estab_peer_zero_window_persist_probes_backoff);
	RUN(estab_zero_window_probing_ends_at_user_timeout);
	return TEST_SUMMARY();
}
