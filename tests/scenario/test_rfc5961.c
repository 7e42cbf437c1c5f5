/* RFC 5961 in ESTABLISHED and in SYN_RECV (tcp_validate_incoming, spec 6). */
#include "../test.h"
#include "harness.h"

#define SET_OPT(s, ...)                                                         \
	do {                                                                    \
		const uint8_t _o[] = { __VA_ARGS__ };                           \
		memcpy((s).opt, _o, sizeof(_o));                                \
		(s).optlen = sizeof(_o);                                        \
		(s).has_opt = true;                                             \
	} while (0)

static bool established(struct sc *sc, struct sc_conn *c)
{
	return OPEN_ACTIVE(sc, c, SC_REMOTE_PORT) && ESTABLISH_ACTIVE(sc, c);
}

/* The challenge ACK: seq snd_nxt, ack rcv_nxt, our window, TS echoing
 * ts_recent, still the SYN-ACK's TSval (a challenged segment never
 * updates it). */
static const struct sc_pkt *expect_challenge(struct sc *sc, const struct sc_conn *c, int line)
{
	const struct sc_pkt *p = sc_expect_(sc,
					    &(struct sc_want){ .flags = F_ACK, .seq = V(c->iss + 1), .ack = V(c->irs + 1),
							       .win = V(63), .len = V(0),
							       OPT(O_NOP, O_NOP, O_TS(0, SC_PEER_TS)) },
					    __FILE__, line);
	if (!p)
		test_failed_checks++;
	return p;
}

static void syn_in_estab(uint32_t off)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	if (!established(sc, &c)) {
		sc_free(sc);
		return;
	}
	s = sc_seg_for(&c, F_SYN, c.irs + 1 + off, 0);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, 0), O_NOP, O_WS(7));
	c.peer_ts++;
	sc_inject(sc, &s);
	expect_challenge(sc, &c, __LINE__);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_MIB(sc, "TcpExtTCPSYNChallenge", 1);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", 1);
	CHECK_MIB(sc, "TcpInErrs", 1); /* syn_inerr from tcp_rcv_established */
	CHECK_MIB(sc, "TcpEstabResets", 0);
	SC_FREE(sc);
}

TEST(estab_syn_in_window_challenge_ack) { syn_in_estab(100); }
TEST(estab_syn_at_rcv_nxt_challenge_ack) { syn_in_estab(0); }
TEST(estab_syn_out_of_window_challenge_ack) { syn_in_estab(50000000); }

/* The original SYN replayed (seq = irs, below the window). */
TEST(estab_old_syn_challenge_ack) { syn_in_estab((uint32_t)-1); }

/* SYN|ACK in ESTABLISHED is challenged the same way. */
TEST(estab_synack_challenge_ack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(established(sc, &c));
	s = sc_seg_for(&c, F_SYN | F_ACK, c.irs, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts++, c.tsval);
	sc_inject(sc, &s);
	expect_challenge(sc, &c, __LINE__);
	CHECK_MIB(sc, "TcpExtTCPSYNChallenge", 1);
	CHECK_MIB(sc, "TcpInErrs", 1);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

/* One challenge ACK per tcp_invalid_ratelimit per socket. */
TEST(estab_challenge_ack_rate_limited)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(established(sc, &c));
	s = sc_seg_for(&c, F_SYN, c.irs + 100, 0);
	sc_seg_ts(&s, c.peer_ts++, 0);
	sc_inject(sc, &s);
	expect_challenge(sc, &c, __LINE__);
	sc_advance(sc, MS(100));
	s.optlen = 0;
	sc_seg_ts(&s, c.peer_ts++, 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPACKSkippedChallenge", 1);
	CHECK_MIB(sc, "TcpExtTCPSYNChallenge", 2);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", 1);
	sc_advance(sc, MS(400));
	s.optlen = 0;
	sc_seg_ts(&s, c.peer_ts++, 0);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1));
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", 2);
	SC_FREE(sc);
}

static void rst_exact(uint8_t extra)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	if (!established(sc, &c)) {
		sc_free(sc);
		return;
	}
	s = sc_seg_for(&c, F_RST | extra, c.irs + 1, extra & F_ACK ? c.iss + 1 : 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK(synack_poll(sc->st, c.fd) & POLLERR);
	CHECK_EQ(sc_so_error(sc, c.fd), ECONNRESET);
	CHECK_MIB(sc, "TcpEstabResets", 1);
	CHECK_MIB(sc, "TcpCurrEstab", 0);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", 0);
	CHECK_TRACE(sc, "tcp_receive_reset", NULL);
	CHECK_TRACE(sc, "inet_sock_set_state", "ESTABLISHED -> CLOSE");
	SC_FREE(sc);
}

TEST(estab_rst_exact_resets) { rst_exact(0); }
TEST(estab_rst_ack_exact_resets) { rst_exact(F_ACK); }

/* RST skips PAWS: an exact RST with an old TSval still resets. */
TEST(estab_rst_old_tsval_still_resets)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(established(sc, &c));
	s = sc_seg_for(&c, F_RST, c.irs + 1, 0);
	sc_seg_ts(&s, c.peer_ts - 100000, c.tsval);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK_EQ(sc_so_error(sc, c.fd), ECONNRESET);
	SC_FREE(sc);
}

static void rst_in_window(uint32_t off)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	if (!established(sc, &c)) {
		sc_free(sc);
		return;
	}
	s = sc_seg_for(&c, F_RST, c.irs + 1 + off, 0);
	sc_inject(sc, &s);
	expect_challenge(sc, &c, __LINE__);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", 1);
	CHECK_MIB(sc, "TcpExtTCPSYNChallenge", 0);
	CHECK_MIB(sc, "TcpEstabResets", 0);
	SC_FREE(sc);
}

TEST(estab_rst_in_window_challenge_ack) { rst_in_window(1); }
TEST(estab_rst_in_window_far_challenge_ack) { rst_in_window(60000); }

static void rst_out_of_window(uint32_t seq_off)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	if (!established(sc, &c)) {
		sc_free(sc);
		return;
	}
	s = sc_seg_for(&c, F_RST, c.irs + 1 + seq_off, 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", 0);
	SC_FREE(sc);
}

TEST(estab_rst_out_of_window_dropped) { rst_out_of_window(10000000); }
TEST(estab_rst_just_below_window_dropped) { rst_out_of_window((uint32_t)-1); }

/* ------------------------------------- SYN_RECV (simultaneous open) */

static bool syn_recv(struct sc *sc, struct sc_conn *c)
{
	struct sc_seg s;

	if (!OPEN_ACTIVE(sc, c, SC_REMOTE_PORT))
		return false;
	s = sc_seg_for(c, F_SYN, c->irs, 0);
	s.win = SC_PEER_WIN;
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c->peer_ts, 0), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	c->peer_ts++;
	if (!EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c->iss), .ack = V(c->irs + 1)))
		return false;
	return sc_state(sc, c->fd) == TCP_SYN_RECV;
}

TEST(syn_recv_rst_exact_resets)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);

	REQUIRE(syn_recv(sc, &c));
	s = sc_seg_for(&c, F_RST, c.irs + 1, 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -ECONNRESET);
	CHECK_MIB(sc, "TcpAttemptFails", 1);
	CHECK_MIB(sc, "TcpEstabResets", 0);
	SC_FREE(sc);
}

TEST(syn_recv_rst_in_window_challenge_ack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(syn_recv(sc, &c));
	s = sc_seg_for(&c, F_RST, c.irs + 1 + 10, 0);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .len = V(0));
	CHECK_STATE(sc, c.fd, TCP_SYN_RECV);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", 1);
	SC_FREE(sc);
}

TEST(syn_recv_rst_out_of_window_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(syn_recv(sc, &c));
	s = sc_seg_for(&c, F_RST, c.irs + 1 + 10000000, 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_SYN_RECV);
	SC_FREE(sc);
}

/* A SYN (not the simultaneous-open SYN-ACK) in SYN_RECV: challenged,
 * without InErrs (tcp_rcv_state_process passes syn_inerr = 0). */
TEST(syn_recv_syn_in_window_challenge_ack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(syn_recv(sc, &c));
	s = sc_seg_for(&c, F_SYN, c.irs + 1 + 10, 0);
	sc_seg_ts(&s, c.peer_ts++, 0);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .len = V(0));
	CHECK_STATE(sc, c.fd, TCP_SYN_RECV);
	CHECK_MIB(sc, "TcpExtTCPSYNChallenge", 1);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", 1);
	CHECK_MIB(sc, "TcpInErrs", 0);
	SC_FREE(sc);
}

/* A SYN-ACK acknowledging something else in SYN_RECV is no
 * simultaneous-open completion: challenged too. */
TEST(syn_recv_synack_wrong_ack_challenge_ack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(syn_recv(sc, &c));
	s = sc_seg_for(&c, F_SYN | F_ACK, c.irs, c.iss + 7);
	sc_seg_ts(&s, c.peer_ts++, c.tsval);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1));
	CHECK_STATE(sc, c.fd, TCP_SYN_RECV);
	CHECK_MIB(sc, "TcpExtTCPSYNChallenge", 1);
	SC_FREE(sc);
}

/* An ACK above snd_nxt in SYN_RECV gets a RST (tcp_ack < 0 there). */
TEST(syn_recv_ack_above_snd_nxt_rst)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(syn_recv(sc, &c));
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 100);
	sc_seg_ts(&s, c.peer_ts++, c.tsval);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 100), .ack = V(0));
	CHECK_STATE(sc, c.fd, TCP_SYN_RECV);
	SC_FREE(sc);
}

int main(void)
{
	RUN(estab_syn_in_window_challenge_ack);
	RUN(estab_syn_at_rcv_nxt_challenge_ack);
	RUN(estab_syn_out_of_window_challenge_ack);
	RUN(estab_old_syn_challenge_ack);
	RUN(estab_synack_challenge_ack);
	RUN(estab_challenge_ack_rate_limited);
	RUN(estab_rst_exact_resets);
	RUN(estab_rst_ack_exact_resets);
	RUN(estab_rst_old_tsval_still_resets);
	RUN(estab_rst_in_window_challenge_ack);
	RUN(estab_rst_in_window_far_challenge_ack);
	RUN(estab_rst_out_of_window_dropped);
	RUN(estab_rst_just_below_window_dropped);
	RUN(syn_recv_rst_exact_resets);
	RUN(syn_recv_rst_in_window_challenge_ack);
	RUN(syn_recv_rst_out_of_window_dropped);
	RUN(syn_recv_syn_in_window_challenge_ack);
	RUN(syn_recv_synack_wrong_ack_challenge_ack);
	RUN(syn_recv_ack_above_snd_nxt_rst);
	return TEST_SUMMARY();
}
