/* Malformed segments: checksums, data offsets, truncation, and options
 * parsed as Linux's tcp_parse_options does. */
#include "../test.h"
#include "harness.h"

#define SET_OPT(s, ...)                                                         \
	do {                                                                    \
		const uint8_t _o[] = { __VA_ARGS__ };                           \
		memcpy((s).opt, _o, sizeof(_o));                                \
		(s).optlen = sizeof(_o);                                        \
		(s).has_opt = true;                                             \
	} while (0)

static struct sc_seg syn_to(uint16_t dport)
{
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = dport, .flags = F_SYN, .seq = 1000, .win = 8192 };
	return s;
}

TEST(closed_bad_checksum_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = syn_to(9);

	s.bad_csum = true;
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpInCsumErrors", 1);
	CHECK_MIB(sc, "TcpInErrs", 1);
	CHECK_MIB(sc, "TcpInSegs", 1);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	SC_FREE(sc);
}

TEST(listen_bad_checksum_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = syn_to(SC_SERVER_PORT);

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	s.bad_csum = true;
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpInCsumErrors", 1);
	CHECK_MIB(sc, "TcpInErrs", 1);
	SC_FREE(sc);
}

/* doff < 5: bad_packet (InErrs), checked before the checksum. */
TEST(closed_doff_below_5_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = syn_to(9);

	s.doff = (struct sc_u32)V(4);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpInErrs", 1);
	CHECK_MIB(sc, "TcpInCsumErrors", 0);
	SC_FREE(sc);
}

TEST(closed_doff_zero_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = syn_to(9);

	s.doff = (struct sc_u32)V(0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpInErrs", 1);
	SC_FREE(sc);
}

/* doff past the segment: dropped without a reply. Linux discards it
 * uncounted (discard_it, not bad_packet); synack deliberately counts it
 * in TcpInErrs, because every malformed segment it drops is counted. */
TEST(closed_doff_beyond_segment_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = syn_to(9);

	s.doff = (struct sc_u32)V(15);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	CHECK_MIB(sc, "TcpInErrs", 1);
	SC_FREE(sc);
}

/* doff 6 with 20 bytes of header and 2 of data: still past the end. */
TEST(listen_doff_beyond_segment_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = syn_to(SC_SERVER_PORT);

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	s.doff = (struct sc_u32)V(6);
	s.data = "ab";
	s.len = 2;
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* A frame shorter than its IP length: IP drops it. */
TEST(closed_truncated_frame_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = syn_to(9);

	s.truncate = 8;
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "IpExtInTruncatedPkts", 1);
	CHECK_MIB(sc, "TcpInSegs", 0);
	SC_FREE(sc);
}

/* A bad IP header checksum never reaches TCP. */
TEST(closed_bad_ip_checksum_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = syn_to(9);

	s.bad_ip_csum = true;
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpInSegs", 0);
	SC_FREE(sc);
}

/* ----------------------------------------------------------- options */

/* A SYN to the listener with these option bytes; the SYN-ACK shows what
 * was understood. */
static void syn_options(const uint8_t *opt, size_t n, const struct sc_want *want, int line)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = syn_to(SC_SERVER_PORT);

	if (sc_listen(sc, SC_SERVER_PORT, 16) < 0)
		test_failed_checks++;
	memcpy(s.opt, opt, n);
	s.optlen = n;
	s.has_opt = true;
	sc_inject(sc, &s);
	if (!sc_expect_(sc, want, __FILE__, line))
		test_failed_checks++;
	SC_FREE(sc);
}
#define SYN_OPTS(want, ...)                                                     \
	do {                                                                    \
		const uint8_t _o[] = { __VA_ARGS__ };                           \
		syn_options(_o, sizeof(_o), want, __LINE__);                    \
	} while (0)

static const struct sc_want mss_only = { .flags = F_SYN | F_ACK, .ack = V(1001), .win = V(64240), OPT(O_MSS(1460)) };

/* Length 0 or 1 ("silly options") ends parsing. */
TEST(listen_syn_option_len_0_stops_parsing)
{
	SYN_OPTS(&mss_only, O_MSS(1000), 3, 0, 7, 0, O_SACKOK, O_TS(5, 0), O_NOP, O_NOP);
}
TEST(listen_syn_option_len_1_stops_parsing)
{
	SYN_OPTS(&mss_only, O_MSS(1000), 99, 1, 0, 0, O_SACKOK, O_TS(5, 0), O_NOP, O_NOP);
}
/* An option longer than what is left is not parsed. */
TEST(listen_syn_option_past_header_ignored)
{
	SYN_OPTS(&mss_only, O_MSS(1460), O_NOP, O_NOP, 8, 10, 0, 0, 0, 5);
}
/* EOL ends the list. */
TEST(listen_syn_eol_ends_options)
{
	SYN_OPTS(&mss_only, O_MSS(1460), 0, O_SACKOK, O_TS(5, 0), O_NOP, O_NOP, O_NOP);
}
/* Only NOPs. */
TEST(listen_syn_all_nops)
{
	SYN_OPTS(&mss_only, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP,
		 O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP,
		 O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP);
}
/* A wrong-sized MSS is skipped; the rest still counts. */
TEST(listen_syn_mss_wrong_size_skipped)
{
	SYN_OPTS(&((struct sc_want){ .flags = F_SYN | F_ACK, .win = V(65160),
				     OPT(O_MSS(1460), O_SACKOK, O_TS(0, 5), O_NOP, O_WS(10)) }),
		 2, 3, 5, O_SACKOK, O_TS(5, 0), O_NOP, O_WS(7));
}
/* A wrong-sized WS is skipped: no scaling offered back. */
TEST(listen_syn_ws_wrong_size_skipped)
{
	SYN_OPTS(&((struct sc_want){ .flags = F_SYN | F_ACK, .win = V(65160),
				     OPT(O_MSS(1460), O_SACKOK, O_TS(0, 5)) }),
		 O_MSS(1460), O_SACKOK, O_TS(5, 0), 3, 4, 7, 0);
}
/* A wrong-sized TS is skipped: no TS back, the window is 1460-based. */
TEST(listen_syn_ts_wrong_size_skipped)
{
	SYN_OPTS(&((struct sc_want){ .flags = F_SYN | F_ACK, .win = V(64240),
				     OPT(O_MSS(1460), O_NOP, O_NOP, O_SACKOK, O_NOP, O_WS(10)) }),
		 O_MSS(1460), O_SACKOK, 8, 8, 0, 0, 0, 5, 0, 0, O_NOP, O_WS(7));
}
/* A wrong-sized SACK_PERM is skipped. */
TEST(listen_syn_sackok_wrong_size_skipped)
{
	SYN_OPTS(&((struct sc_want){ .flags = F_SYN | F_ACK, .win = V(65160),
				     OPT(O_MSS(1460), O_NOP, O_NOP, O_TS(0, 5), O_NOP, O_WS(10)) }),
		 O_MSS(1460), 4, 3, 0, O_NOP, O_TS(5, 0), O_NOP, O_WS(7));
}
/* Unknown kinds are skipped by their length. */
TEST(listen_syn_unknown_option_skipped)
{
	SYN_OPTS(&((struct sc_want){ .flags = F_SYN | F_ACK, .win = V(65160),
				     OPT(O_MSS(1460), O_SACKOK, O_TS(0, 5), O_NOP, O_WS(10)) }),
		 99, 6, 1, 2, 3, 4, O_MSS(1460), O_SACKOK, O_TS(5, 0), O_NOP, O_WS(7));
}
/* A shift above 14 is clamped, not refused. */
TEST(listen_syn_wscale_15_accepted)
{
	SYN_OPTS(&((struct sc_want){ .flags = F_SYN | F_ACK, .win = V(65160),
				     OPT(O_MSS(1460), O_SACKOK, O_TS(0, 5), O_NOP, O_WS(10)) }),
		 O_MSS(1460), O_SACKOK, O_TS(5, 0), O_NOP, O_WS(15));
}
/* MSS 0 is ignored (536 assumed); the SYN-ACK still offers ours. */
TEST(listen_syn_mss_zero_ignored)
{
	SYN_OPTS(&((struct sc_want){ .flags = F_SYN | F_ACK, .win = V(64240), OPT(O_MSS(1460)) }), O_MSS(0));
}
/* A TS option with TSecr set on a SYN is still accepted and echoed. */
TEST(listen_syn_ts_with_nonzero_ecr)
{
	SYN_OPTS(&((struct sc_want){ .flags = F_SYN | F_ACK, .win = V(65160),
				     OPT(O_MSS(1460), O_NOP, O_NOP, O_TS(0, 5)) }),
		 O_MSS(1460), O_NOP, O_NOP, O_TS(5, 99));
}
/* A malformed option in an established connection's segment: no crash,
 * the segment is processed (here: in-window data is ACKed). */
TEST(estab_malformed_option_segment_processed)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	REQUIRE(ESTABLISH_ACTIVE(sc, &c));
	s = sc_seg_for(&c, F_ACK | F_PSH, c.irs + 1, c.iss + 1);
	SET_OPT(s, 8, 1, 0, 0);
	s.data = "hi";
	s.len = 2;
	sc_inject(sc, &s);
	sc_advance(sc, MS(300));
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 3));
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

int main(void)
{
	RUN(closed_bad_checksum_dropped);
	RUN(listen_bad_checksum_dropped);
	RUN(closed_doff_below_5_dropped);
	RUN(closed_doff_zero_dropped);
	RUN(closed_doff_beyond_segment_dropped);
	RUN(listen_doff_beyond_segment_dropped);
	RUN(closed_truncated_frame_dropped);
	RUN(closed_bad_ip_checksum_dropped);
	RUN(listen_syn_option_len_0_stops_parsing);
	RUN(listen_syn_option_len_1_stops_parsing);
	RUN(listen_syn_option_past_header_ignored);
	RUN(listen_syn_eol_ends_options);
	RUN(listen_syn_all_nops);
	RUN(listen_syn_mss_wrong_size_skipped);
	RUN(listen_syn_ws_wrong_size_skipped);
	RUN(listen_syn_ts_wrong_size_skipped);
	RUN(listen_syn_sackok_wrong_size_skipped);
	RUN(listen_syn_unknown_option_skipped);
	RUN(listen_syn_wscale_15_accepted);
	RUN(listen_syn_mss_zero_ignored);
	RUN(listen_syn_ts_with_nonzero_ecr);
	RUN(estab_malformed_option_segment_processed);
	return TEST_SUMMARY();
}
