/* Loss and abort on the sending side, as Linux does it: the RTO from the
 * handshake RTT and its backoff, cwnd 1 in Loss, ETIMEDOUT after
 * tcp_retries2 or TCP_USER_TIMEOUT, fast retransmit on three duplicate ACKs
 * (no SACK) and on SACK, PRR during recovery and its end at high_seq, and a
 * RST with data in flight.
 *
 * The handshake RTT is 100 ms: srtt 100 ms, rttvar max(2 * 100, 200) =
 * 200 ms, rto = srtt + rttvar = 300 ms (tcp_rtt_estimator, tcp_set_rto).
 * Tail loss probes are RACK-TLP's (not implemented): the RTO tests turn
 * them off as a Linux user would (net.ipv4.tcp_early_retrans = 0). */
#include "data_helpers.h"

#define CA_OPEN 0
#define CA_RECOVERY 3
#define CA_LOSS 4

/* A send buffer large enough for every write here (Linux would also have
 * grown its default one, tcp_sndbuf_expand, to about 2 * 10 segments). */
static bool established(struct sc *sc, struct sc_conn *c, bool sack)
{
	if (!OPEN_ACTIVE(sc, c, SC_REMOTE_PORT) || !ESTABLISH_ACTIVE_EX(sc, c, .rtt = MS(100), .no_sack = !sack))
		return false;
	CHECK_EQ(sc_setsockopt_int(sc, c->fd, SOL_SOCKET, SO_SNDBUF, 1 << 20), 0);
	return true;
}

/* A pure ACK from the peer with nothing in flight: changes nothing in
 * Linux; it keeps the RTO tests below independent of how the SYN's timer
 * was left (see estab_rto_first_retransmit_then_backoff_doubles). */
static void peer_idle_ack(struct sc *sc, struct sc_conn *c)
{
	peer_ack(sc, c, 0, c->tsval);
	EXPECT_NONE(sc);
}

/* Two segments, never acknowledged. The first retransmission (of the first
 * segment only: tcp_enter_loss sets cwnd to 1) comes at rto = 300 ms, then
 * the RTO doubles: 600, 1200 ms (tcp_retransmit_timer). ssthresh is CUBIC's
 * 10 * 717 / 1024 = 7. */
TEST(estab_rto_first_retransmit_then_backoff_doubles)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct synack_tcp_info ti;
	uint64_t t;

	REQUIRE(established(sc, &c, true));
	sc_sysctl(sc, "net.ipv4.tcp_early_retrans", 0);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_rto, 300000);
	CHECK_EQ(ti.tcpi_rtt, 100000);
	CHECK_EQ(ti.tcpi_rttvar, 50000); /* mdev_us >> 2 */
	sc_advance(sc, MS(10));
	t = sc_now(sc);
	app_send(sc, &c, 0, 2 * SEG);
	EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK, .t = V64(t));
	EXPECT_DATA(sc, &c, SEG, SEG, .flags = F_ACK | F_PSH, .t = V64(t));
	sc_run_until(sc, t + MS(300) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(300));
	EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK, .t = V64(t + MS(300)), .tsval = V(c.tsval + 310));
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_snd_cwnd, 1);
	CHECK_EQ(ti.tcpi_snd_ssthresh, 7);
	CHECK_EQ(ti.tcpi_ca_state, CA_LOSS);
	CHECK_EQ(ti.tcpi_retransmits, 1);
	CHECK_EQ(ti.tcpi_backoff, 1);
	CHECK_EQ(ti.tcpi_rto, 600000);
	CHECK_EQ(ti.tcpi_lost, 2);
	sc_run_until(sc, t + MS(900) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(900));
	EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK, .t = V64(t + MS(900)));
	sc_run_until(sc, t + MS(2100) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(2100));
	EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK, .t = V64(t + MS(2100)));
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_backoff, 3);
	CHECK_EQ(ti.tcpi_rto, 2400000);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 3);
	CHECK_MIB(sc, "TcpRetransSegs", 3);
	SC_FREE(sc);
}

/* tcp_retries2 = 3: the limit is the time 3 doubling RTOs from 200 ms
 * take, (2^4 - 1) * 200 = 3000 ms, counted from the first retransmission
 * (retrans_stamp). Retransmissions at +300, +900, +2100; the timer at
 * +4500 finds 4200 ms elapsed and aborts: ETIMEDOUT, no RST. */
TEST(estab_rto_retries2_etimedout)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t;
	uint8_t buf[16];

	REQUIRE(established(sc, &c, true));
	sc_sysctl(sc, "net.ipv4.tcp_early_retrans", 0);
	sc_sysctl(sc, "net.ipv4.tcp_retries2", 3);
	peer_idle_ack(sc, &c);
	t = sc_now(sc);
	app_send(sc, &c, 0, 100);
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t));
	sc_run_until(sc, t + MS(4500) - 1);
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t + MS(300)));
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t + MS(900)));
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t + MS(2100)));
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	sc_run_until(sc, t + MS(4500));
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), -ETIMEDOUT);
	CHECK_EQ(synack_send(sc->st, c.fd, buf, sizeof(buf), 0), -EPIPE);
	CHECK_MIB(sc, "TcpExtTCPAbortOnTimeout", 1);
	sc_advance(sc, SEC(10));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* TCP_USER_TIMEOUT 1000 ms: the RTO timer is clamped to what is left of it
 * counted from the first retransmission (tcp_clamp_rto_to_user_timeout).
 * Retransmissions at +300 and +900 (elapsed 600); the timer then runs
 * min(1200, 1000 - 600) = 400 ms and at +1300 the connection is aborted. */
TEST(estab_user_timeout_etimedout)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t;
	uint8_t buf[16];

	REQUIRE(established(sc, &c, true));
	sc_sysctl(sc, "net.ipv4.tcp_early_retrans", 0);
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000), 0);
	peer_idle_ack(sc, &c);
	t = sc_now(sc);
	app_send(sc, &c, 0, 100);
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t));
	sc_run_until(sc, t + MS(1300) - 1);
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t + MS(300)));
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t + MS(900)));
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	sc_run_until(sc, t + MS(1300));
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), -ETIMEDOUT);
	SC_FREE(sc);
}

/*
 * Fast retransmit without SACK (NewReno). 12 segments are written: 10 go
 * (IW10); the ACK of segment 1 grows cwnd to 11 and sends 11 and 12.
 * Segment 2 is lost; three duplicate ACKs (same window, no data): the third
 * makes sacked_out 3 = tcp_reordering, the head is marked lost
 * (tcp_newreno_mark_lost) and recovery starts: ssthresh = 11 * 717 / 1024 =
 * 7, PRR gives in_flight (11 - 3 - 1 = 7) + 1 = 8 (the forced fast
 * retransmit), and segment 2 goes again, alone.
 * The ACK of everything (snd_una = high_seq): NewReno holds the Recovery
 * state until something above high_seq is acknowledged
 * (tcp_try_undo_recovery), PRR sets cwnd to min(ssthresh - 0, ...) = 7.
 */
TEST(estab_fast_retransmit_three_dupacks_no_sack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	const struct sc_pkt *p;
	struct synack_tcp_info ti;
	uint32_t ecr = 0, rtx_ts;
	uint64_t t;

	REQUIRE(established(sc, &c, false));
	sc_advance(sc, MS(10));
	app_send(sc, &c, 0, 12 * SEG);
	for (uint32_t i = 0; i < 10; i++)
		if ((p = EXPECT_DATA(sc, &c, i * SEG, SEG, .flags = F_ACK)))
			ecr = p->tsval;
	EXPECT_NONE(sc);
	sc_advance(sc, MS(100));
	peer_ack(sc, &c, SEG, ecr);
	EXPECT_DATA(sc, &c, 10 * SEG, SEG, .flags = F_ACK);
	EXPECT_DATA(sc, &c, 11 * SEG, SEG, .flags = F_ACK | F_PSH);
	EXPECT_NONE(sc);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_snd_cwnd, 11);
	sc_advance(sc, MS(1));
	peer_ack(sc, &c, SEG, ecr);
	EXPECT_NONE(sc);
	peer_ack(sc, &c, SEG, ecr);
	EXPECT_NONE(sc);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_ca_state, 1 /* Disorder */);
	t = sc_now(sc);
	peer_ack(sc, &c, SEG, ecr);
	p = EXPECT_DATA(sc, &c, SEG, SEG, .flags = F_ACK, .t = V64(t));
	rtx_ts = p ? p->tsval : 0;
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_RECOVERY);
	CHECK_EQ(ti.tcpi_snd_ssthresh, 7);
	CHECK_EQ(ti.tcpi_snd_cwnd, 8);
	CHECK_MIB(sc, "TcpExtTCPRenoRecovery", 1);
	CHECK_MIB(sc, "TcpExtTCPFastRetrans", 1);
	/* Everything acknowledged: high_seq reached exactly. */
	sc_advance(sc, MS(100));
	peer_ack(sc, &c, 12 * SEG, rtx_ts);
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_RECOVERY);
	CHECK_EQ(ti.tcpi_snd_cwnd, 7);
	CHECK_EQ(ti.tcpi_unacked, 0);
	SC_FREE(sc);
}

/*
 * Fast retransmit with SACK, PRR (RFC 6937) and the end of recovery. 20
 * segments are written, 10 go (IW10). Segment 1 is lost; the peer SACKs 2,
 * 2-3, 2-4, ... 2-10 one ACK at a time, 100 ms later.
 *  A1, A2 (1, 2 SACKed; Disorder): in_flight 9 < cwnd 10: 11, then 12 go.
 *  A3 (3 SACKed): segment 1 is lost (RACK with a zero reordering window
 *     once three are SACKed, or the dupthresh rule: the same here);
 *     recovery: ssthresh 7, prior_cwnd 10, high_seq = end of 12. PRR:
 *     in_flight 12 - 3 - 1 = 8 > 7: sndcnt = ceil(7 * 1 / 10) - 0 = 1,
 *     cwnd 9: segment 1 is retransmitted, nothing else.
 *  A4: in_flight 8, prr_delivered 2: ceil(14/10) - 1 = 1: 13 goes.
 *  A5: in_flight 8, prr_delivered 3: ceil(21/10) - 2 = 1: 14 goes.
 *  A6: in_flight 8, prr_delivered 4: ceil(28/10) - 3 = 0: nothing.
 *  A7: in_flight 7 = ssthresh: min(0, ...) = 0: nothing.
 *  A8: in_flight 6: min(ssthresh - 6 = 1, max(6 - 3, 1)) = 1: 15 goes.
 *  A9: in_flight 6: 1: 16 goes.
 *  A10 acknowledges up to high_seq (echoing the retransmission's TSval, so
 *     no undo): recovery ends, cwnd = ssthresh = 7 (CUBIC does not raise
 *     it on this ACK); 13-16 in flight, so 17, 18, 19 go.
 */
TEST(estab_sack_fast_retransmit_prr_and_recovery_exit)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	const struct sc_pkt *p;
	struct synack_tcp_info ti;
	uint32_t ecr = 0, rtx_ts = 0, blk[1][2];
	/* New segments each ACK A1..A9 releases (-1: the retransmission). */
	const int sends[9] = { 11, 12, -1, 13, 14, 0, 0, 15, 16 };

	REQUIRE(established(sc, &c, true));
	sc_advance(sc, MS(10));
	app_send(sc, &c, 0, 20 * SEG);
	for (uint32_t i = 0; i < 10; i++)
		if ((p = EXPECT_DATA(sc, &c, i * SEG, SEG, .flags = F_ACK)))
			ecr = p->tsval;
	EXPECT_NONE(sc);
	sc_advance(sc, MS(100));
	for (int k = 0; k < 9; k++) {
		blk[0][0] = SEG;
		blk[0][1] = (uint32_t)(k + 2) * SEG;
		peer_ack_sack(sc, &c, 0, ecr, 1, blk);
		if (sends[k] > 0) {
			if (!EXPECT_DATA(sc, &c, (uint32_t)(sends[k] - 1) * SEG, SEG, .flags = F_ACK))
				fprintf(stderr, "  (after SACK ACK A%d)\n", k + 1);
		} else if (sends[k] < 0) {
			p = EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK, .t = V64(sc_now(sc)));
			if (p)
				rtx_ts = p->tsval;
		}
		if (!sc_none_(sc, __FILE__, __LINE__)) {
			test_failed_checks++;
			fprintf(stderr, "  (after SACK ACK A%d)\n", k + 1);
		}
		if (k == 2) {
			ti = tcp_info(sc, c.fd);
			CHECK_EQ(ti.tcpi_ca_state, CA_RECOVERY);
			CHECK_EQ(ti.tcpi_snd_ssthresh, 7);
			CHECK_EQ(ti.tcpi_snd_cwnd, 9);
			CHECK_EQ(ti.tcpi_sacked, 3);
			CHECK_EQ(ti.tcpi_lost, 1);
			CHECK_EQ(ti.tcpi_retrans, 1);
		}
	}
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_snd_cwnd, 7);
	CHECK_MIB(sc, "TcpExtTCPSackRecovery", 1);
	sc_advance(sc, MS(1));
	peer_ack(sc, &c, 12 * SEG, rtx_ts);
	for (uint32_t i = 16; i < 19; i++)
		EXPECT_DATA(sc, &c, i * SEG, SEG, .flags = F_ACK, .t = V64(sc_now(sc)));
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_OPEN);
	CHECK_EQ(ti.tcpi_snd_cwnd, 7);
	CHECK_EQ(ti.tcpi_unacked, 7);
	SC_FREE(sc);
}

/* A RST in ESTABLISHED with data in flight: the connection is gone at
 * once; the error is reported once (here to recv: -ECONNRESET), then send
 * fails with EPIPE and recv sees the end of the stream. No retransmission
 * follows. */
TEST(estab_rst_data_in_flight_recv_econnreset)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	uint8_t buf[16];

	REQUIRE(established(sc, &c, true));
	app_send(sc, &c, 0, 3 * SEG);
	sc_drain(sc);
	sc_advance(sc, MS(50));
	s = sc_seg_for(&c, F_RST, c.irs + 1, 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), -ECONNRESET);
	CHECK_EQ(synack_send(sc->st, c.fd, buf, sizeof(buf), 0), -EPIPE);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 0);
	CHECK_MIB(sc, "TcpEstabResets", 1);
	sc_advance(sc, SEC(5));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* The same, the error seen first by send: -ECONNRESET once, then -EPIPE. */
TEST(estab_rst_data_in_flight_send_econnreset)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	uint8_t buf[16];

	REQUIRE(established(sc, &c, true));
	app_send(sc, &c, 0, 3 * SEG);
	sc_drain(sc);
	s = sc_seg_for(&c, F_RST | F_ACK, c.irs + 1, c.iss + 1);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_EQ(synack_send(sc->st, c.fd, buf, sizeof(buf), 0), -ECONNRESET);
	CHECK_EQ(synack_send(sc->st, c.fd, buf, sizeof(buf), 0), -EPIPE);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 0);
	CHECK_EQ(sc_so_error(sc, c.fd), 0);
	sc_advance(sc, SEC(5));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

int main(void)
{
	fill_payload();
	RUN(estab_rto_first_retransmit_then_backoff_doubles);
	RUN(estab_rto_retries2_etimedout);
	RUN(estab_user_timeout_etimedout);
	RUN(estab_fast_retransmit_three_dupacks_no_sack);
	RUN(estab_sack_fast_retransmit_prr_and_recovery_exit);
	RUN(estab_rst_data_in_flight_recv_econnreset);
	RUN(estab_rst_data_in_flight_send_econnreset);
	return TEST_SUMMARY();
}
