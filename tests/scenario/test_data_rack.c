/* RACK-TLP loss detection and spurious-recovery undo, as Linux does it
 * (net/ipv4/tcp_recovery.c, tcp_output.c tcp_schedule_loss_probe and
 * tcp_send_loss_probe, tcp_input.c tcp_try_undo_*).
 *
 * The handshake RTT is 100 ms unless a test says otherwise: srtt 100 ms,
 * min_rtt 100 ms, rto = srtt + max(2 * srtt, 200 ms) = 300 ms. RACK's
 * reordering window is min(min_rtt / 4 * steps, srtt) = 25 ms, or 0 while
 * sacked_out >= tcp_reordering (3) and no reordering was ever seen; its
 * timer adds TCP_TIMEOUT_MIN (2 ms). The loss probe timeout is
 * 2 * srtt + 2 ms, or 2 * srtt + TCP_RTO_MIN (200 ms) with one segment in
 * flight, never beyond the RTO of the oldest segment. */
#include "data_helpers.h"

#define CA_OPEN 0
#define CA_DISORDER 1
#define CA_RECOVERY 3
#define CA_LOSS 4
#define INFINITE_SSTHRESH 0x7fffffffu

static void peer_sack1(struct sc *sc, struct sc_conn *c, uint32_t ackoff, uint32_t ecr, uint32_t a, uint32_t b)
{
	const uint32_t blk[1][2] = { { a, b } };

	peer_ack_sack(sc, c, ackoff, ecr, 1, blk);
}

static bool established_rtt(struct sc *sc, struct sc_conn *c, uint64_t rtt)
{
	if (!OPEN_ACTIVE(sc, c, SC_REMOTE_PORT) || !ESTABLISH_ACTIVE_EX(sc, c, .rtt = rtt))
		return false;
	CHECK_EQ(sc_setsockopt_int(sc, c->fd, SOL_SOCKET, SO_SNDBUF, 1 << 20), 0);
	/* A pure ACK with nothing in flight (changes nothing in Linux), so the
	 * timers do not depend on how the SYN's was left. */
	peer_ack(sc, c, 0, c->tsval);
	EXPECT_NONE(sc);
	return true;
}

static bool established(struct sc *sc, struct sc_conn *c)
{
	return established_rtt(sc, c, MS(100));
}

/* n full segments from offset 0 at the current time; returns the last TSval. */
static uint32_t send_flight(struct sc *sc, struct sc_conn *c, uint32_t base, uint32_t n)
{
	const struct sc_pkt *p;
	uint32_t ts = 0;
	uint64_t t = sc_now(sc);

	app_send(sc, c, base, n * SEG);
	for (uint32_t i = 0; i < n; i++)
		if ((p = EXPECT_DATA(sc, c, base + i * SEG, SEG, .flags = F_ACK | (i == n - 1 ? F_PSH : 0),
				     .t = V64(t))))
			ts = p->tsval;
	EXPECT_NONE(sc);
	return ts;
}

/*
 * (1) Reordering was seen once: 3 segments go, the peer SACKs 3, then 2
 * (a hole below the highest SACK filled by an original transmission:
 * tcp_check_sack_reordering, reord_seen), then ACKs everything. The next
 * flight of 10: the peer SACKs 3-5 (sacked_out 3 = tcp_reordering), but
 * with reordering seen the window is not zero: 25 ms. Segments 1 and 2 are
 * lost when the REO timer fires, 25 + 2 ms after the SACK; recovery
 * starts (ssthresh 7, PRR: in_flight 10 - 3 - 2 = 5, sndcnt max(1, 1) =
 * 1, cwnd 6): only segment 1 is retransmitted.
 */
TEST(estab_rack_sack_of_later_segment_marks_earlier_lost_after_reo_wnd)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct synack_tcp_info ti;
	uint32_t ecr;
	uint64_t t;
	const uint32_t B = 3 * SEG; /* the second flight's base */

	REQUIRE(established(sc, &c));
	sc_advance(sc, MS(10));
	ecr = send_flight(sc, &c, 0, 3);
	sc_advance(sc, MS(100));
	peer_sack1(sc, &c, 0, ecr, 2 * SEG, 3 * SEG);
	EXPECT_NONE(sc);
	sc_advance(sc, MS(1));
	peer_sack1(sc, &c, 0, ecr, SEG, 3 * SEG);
	EXPECT_NONE(sc);
	sc_advance(sc, MS(1));
	peer_ack(sc, &c, 3 * SEG, ecr);
	EXPECT_NONE(sc);
	/* Two reordering events, as Linux counts them: the SACK of segment 2
	 * below the highest SACK (tcp_sacktag_write_queue) and the cumulative
	 * ACK filling segment 1's hole with its original transmission
	 * (tcp_clean_rtx_queue: "non-retransmitted hole got filled"). */
	CHECK_MIB(sc, "TcpExtTCPSACKReorder", 2);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_OPEN);
	CHECK_EQ(ti.tcpi_reordering, 3);
	CHECK_EQ(ti.tcpi_snd_cwnd, 10);

	sc_advance(sc, MS(10));
	ecr = send_flight(sc, &c, B, 10);
	sc_advance(sc, MS(100));
	t = sc_now(sc);
	peer_sack1(sc, &c, B, ecr, B + 2 * SEG, B + 5 * SEG);
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_DISORDER);
	CHECK_EQ(ti.tcpi_lost, 0);
	sc_run_until(sc, t + MS(27) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(27));
	EXPECT_DATA(sc, &c, B, SEG, .flags = F_ACK, .t = V64(t + MS(27)));
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_RECOVERY);
	CHECK_EQ(ti.tcpi_lost, 2);
	CHECK_EQ(ti.tcpi_sacked, 3);
	CHECK_EQ(ti.tcpi_retrans, 1);
	CHECK_EQ(ti.tcpi_snd_ssthresh, 7);
	CHECK_EQ(ti.tcpi_snd_cwnd, 6);
	SC_FREE(sc);
}

/*
 * (2) No reordering history: 10 segments, one ACK SACKs 2-4 (three
 * segments after the hole): sacked_out 3 >= tcp_reordering, the window is
 * zero and segment 1 is lost at once. Recovery: ssthresh 7, PRR: in_flight
 * 10 - 3 - 1 = 6, delta 1, sndcnt min(1, max(3, 3)) = 1, cwnd 7: segment
 * 1 is retransmitted with the ACK, nothing else.
 */
TEST(estab_rack_three_sacked_marks_lost_immediately)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct synack_tcp_info ti;
	uint32_t ecr;
	uint64_t t;

	REQUIRE(established(sc, &c));
	sc_advance(sc, MS(10));
	ecr = send_flight(sc, &c, 0, 10);
	sc_advance(sc, MS(100));
	t = sc_now(sc);
	peer_sack1(sc, &c, 0, ecr, SEG, 4 * SEG);
	EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK, .t = V64(t));
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_RECOVERY);
	CHECK_EQ(ti.tcpi_lost, 1);
	CHECK_EQ(ti.tcpi_sacked, 3);
	CHECK_EQ(ti.tcpi_snd_ssthresh, 7);
	CHECK_EQ(ti.tcpi_snd_cwnd, 7);
	CHECK_MIB(sc, "TcpExtTCPSackRecovery", 1);
	/* Segments 5-10 are not lost yet: no REO timer retransmits them. */
	sc_run_until(sc, t + MS(200));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/*
 * (3) The tail of a flight is not ACKed. 3 segments at t: the loss probe
 * is due at 2 * 100 + 2 = 202 ms and retransmits the last segment
 * (nothing new to send); TCPLossProbes 1. The probe restarts the RTO from
 * now (tcp_send_loss_probe clears icsk_pending): the RTO fires at
 * t + 202 + 300 and retransmits segment 1 (cwnd 1).
 */
TEST(estab_tlp_probe_after_2srtt)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct synack_tcp_info ti;
	uint64_t t;

	REQUIRE(established(sc, &c));
	sc_advance(sc, MS(10));
	t = sc_now(sc);
	send_flight(sc, &c, 0, 3);
	sc_run_until(sc, t + MS(202) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(202));
	EXPECT_DATA(sc, &c, 2 * SEG, SEG, .flags = F_ACK | F_PSH, .t = V64(t + MS(202)));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPLossProbes", 1);
	CHECK_MIB(sc, "TcpRetransSegs", 1);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_OPEN);
	sc_run_until(sc, t + MS(502) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(502));
	EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK, .t = V64(t + MS(502)));
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_LOSS);
	CHECK_EQ(ti.tcpi_snd_cwnd, 1);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 1);
	CHECK_MIB(sc, "TcpExtTCPLossProbes", 1);
	SC_FREE(sc);
}

/*
 * (3b) The same with new data waiting: 12 segments written, 10 go (IW10,
 * cwnd-limited). The probe at 202 ms sends new data, segment 11, even
 * though cwnd is full (tcp_write_xmit with push_one = 2 forces one
 * segment out); TCPLossProbes 1.
 */
TEST(estab_tlp_probe_sends_new_data)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t;

	REQUIRE(established(sc, &c));
	sc_advance(sc, MS(10));
	t = sc_now(sc);
	app_send(sc, &c, 0, 12 * SEG);
	for (uint32_t i = 0; i < 10; i++)
		EXPECT_DATA(sc, &c, i * SEG, SEG, .flags = F_ACK, .t = V64(t));
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(202) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(202));
	EXPECT_DATA(sc, &c, 10 * SEG, SEG, .flags = F_ACK, .t = V64(t + MS(202)));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPLossProbes", 1);
	CHECK_MIB(sc, "TcpRetransSegs", 0);
	SC_FREE(sc);
}

/*
 * (3c) An ACK re-arms the probe (tcp_set_xmit_timer ->
 * tcp_schedule_loss_probe(sk, true)): the cap is then the whole RTO,
 * icsk_rto (300 ms), not the time left of the head's RTO. 5 segments at t;
 * the ACK of segment 1 at t + 100 (RTT 100 ms: srtt stays 100 ms): PTO
 * min(2 * 100 + 2, 300) = 202 ms: the probe (segment 5 again) at
 * t + 302.
 */
TEST(estab_tlp_rearmed_by_ack_capped_by_icsk_rto)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint32_t ecr;
	uint64_t t;

	REQUIRE(established(sc, &c));
	sc_advance(sc, MS(10));
	t = sc_now(sc);
	ecr = send_flight(sc, &c, 0, 5);
	sc_run_until(sc, t + MS(100));
	peer_ack(sc, &c, SEG, ecr);
	EXPECT_NONE(sc);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_rtt, 100000);
	sc_run_until(sc, t + MS(302) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(302));
	EXPECT_DATA(sc, &c, 4 * SEG, SEG, .flags = F_ACK | F_PSH, .t = V64(t + MS(302)));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPLossProbes", 1);
	SC_FREE(sc);
}

/*
 * (4) One segment in flight: PTO = 2 * srtt + 200 ms (the delayed-ACK
 * allowance), capped by the RTO of the segment.
 *  RTT 300 ms: rto 900 ms, PTO 800 ms: the probe (the segment again) at
 *  t + 800, then the RTO at t + 800 + 900.
 *  RTT 100 ms: rto 300 ms, PTO min(400, 300) = 300 ms: the loss probe, not
 *  an RTO, at t + 300 (TCPLossProbes 1, TCPTimeouts 0), then the RTO at
 *  t + 600.
 */
TEST(estab_tlp_single_segment_adds_delack_allowance)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t;

	REQUIRE(established_rtt(sc, &c, MS(300)));
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_rto, 900000);
	sc_advance(sc, MS(10));
	t = sc_now(sc);
	app_send(sc, &c, 0, 100);
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t));
	sc_run_until(sc, t + MS(800) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(800));
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t + MS(800)));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPLossProbes", 1);
	sc_run_until(sc, t + MS(1700) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(1700));
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t + MS(1700)));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 1);
	SC_FREE(sc);

	sc = sc_new(NULL);
	REQUIRE(established_rtt(sc, &c, MS(100)));
	sc_advance(sc, MS(10));
	t = sc_now(sc);
	app_send(sc, &c, 0, 100);
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t));
	sc_run_until(sc, t + MS(300) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(300));
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t + MS(300)));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPLossProbes", 1);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 0);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_ca_state, CA_OPEN);
	sc_run_until(sc, t + MS(600) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(600));
	EXPECT_DATA(sc, &c, 0, 100, .flags = F_ACK | F_PSH, .t = V64(t + MS(600)));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 1);
	SC_FREE(sc);
}

/*
 * (5) A spurious fast retransmit undone by D-SACK. 10 segments; the SACK
 * of 2-4 retransmits segment 1 (recovery, ssthresh 7, undo_retrans 1).
 * The retransmission reaches the peer first: it ACKs up to segment 4,
 * echoing the retransmission's TSval (no timestamp undo: not delayed).
 * Then the delayed original arrives and the peer D-SACKs it (a block
 * below the ACK): undo_retrans 0, and in Recovery tcp_try_undo_dsack
 * restores cwnd (max(cwnd, prior_cwnd) = 10) and ssthresh (prior_ssthresh,
 * the initial infinite one); TCPDSACKUndo 1; back to Open (nothing left
 * out).
 */
TEST(estab_dsack_undoes_spurious_fast_retransmit)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	const struct sc_pkt *p;
	struct synack_tcp_info ti;
	uint32_t ecr, rtx_ts = 0;
	const uint32_t dsack[1][2] = { { 0, SEG } };

	REQUIRE(established(sc, &c));
	sc_advance(sc, MS(10));
	ecr = send_flight(sc, &c, 0, 10);
	sc_advance(sc, MS(100));
	peer_sack1(sc, &c, 0, ecr, SEG, 4 * SEG);
	if ((p = EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK)))
		rtx_ts = p->tsval;
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_RECOVERY);
	CHECK_EQ(ti.tcpi_snd_ssthresh, 7);
	sc_advance(sc, MS(1));
	peer_ack(sc, &c, 4 * SEG, rtx_ts);
	EXPECT_NONE(sc);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_ca_state, CA_RECOVERY);
	CHECK_MIB(sc, "TcpExtTCPDSACKUndo", 0);
	CHECK_MIB(sc, "TcpExtTCPPartialUndo", 0);
	sc_advance(sc, MS(1));
	peer_ack_sack(sc, &c, 4 * SEG, ecr, 1, dsack);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPDSACKRecv", 1);
	CHECK_MIB(sc, "TcpExtTCPDSACKUndo", 1);
	CHECK_MIB(sc, "TcpExtTCPFullUndo", 0);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_snd_cwnd, 10);
	CHECK_EQ(ti.tcpi_snd_ssthresh, INFINITE_SSTHRESH);
	CHECK_EQ(ti.tcpi_ca_state, CA_OPEN);
	SC_FREE(sc);
}

/*
 * (6) A spurious RTO undone by the timestamp test. TLP off
 * (tcp_early_retrans 0). 2 segments at t; the RTO at t + 300 retransmits
 * segment 1 (Loss, cwnd 1, ssthresh 7). The ACK of both arrives 10 ms
 * later echoing the original TSval, older than retrans_stamp:
 * tcp_packet_delayed, tcp_process_loss -> tcp_try_undo_loss(sk, false):
 * cwnd max(1, prior_cwnd) = 10, ssthresh back to infinite, Open,
 * TCPLossUndo 1. TCPSpuriousRTOs counts only F-RTO undos (frto_undo), so
 * it stays 0 on this path.
 */
TEST(estab_spurious_rto_undone_by_timestamp)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct synack_tcp_info ti;
	uint32_t ecr;
	uint64_t t;

	REQUIRE(established(sc, &c));
	sc_sysctl(sc, "net.ipv4.tcp_early_retrans", 0);
	sc_advance(sc, MS(10));
	t = sc_now(sc);
	ecr = send_flight(sc, &c, 0, 2);
	sc_run_until(sc, t + MS(300));
	EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK, .t = V64(t + MS(300)));
	EXPECT_NONE(sc);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_LOSS);
	CHECK_EQ(ti.tcpi_snd_cwnd, 1);
	CHECK_EQ(ti.tcpi_snd_ssthresh, 7);
	sc_advance(sc, MS(10));
	peer_ack(sc, &c, 2 * SEG, ecr);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPLossUndo", 1);
	CHECK_MIB(sc, "TcpExtTCPSpuriousRTOs", 0);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_ca_state, CA_OPEN);
	CHECK_EQ(ti.tcpi_snd_cwnd, 10);
	CHECK_EQ(ti.tcpi_snd_ssthresh, INFINITE_SSTHRESH);
	CHECK_EQ(ti.tcpi_unacked, 0);
	SC_FREE(sc);
}

int main(void)
{
	fill_payload();
	RUN(estab_rack_sack_of_later_segment_marks_earlier_lost_after_reo_wnd);
	RUN(estab_rack_three_sacked_marks_lost_immediately);
	RUN(estab_tlp_probe_after_2srtt);
	RUN(estab_tlp_probe_sends_new_data);
	RUN(estab_tlp_rearmed_by_ack_capped_by_icsk_rto);
	RUN(estab_tlp_single_segment_adds_delack_allowance);
	RUN(estab_dsack_undoes_spurious_fast_retransmit);
	RUN(estab_spurious_rto_undone_by_timestamp);
	return TEST_SUMMARY();
}
