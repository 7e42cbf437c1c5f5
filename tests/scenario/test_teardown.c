/* Orderly release, the close states and the TIME-WAIT minisock (spec 7.1,
 * 7.2, 7.4). The peer plays the other end; after close() the socket has no
 * descriptor, so what remains of it is seen on the wire (an ACK from the
 * connection or a minisock, or a RST from no socket), in the
 * inet_sock_set_state / tcp_time_wait traces and in the counters. */
#include <string.h>
#include "../test.h"
#include "harness.h"

#define TW_ISN_GAP 65537u /* a reopened tuple's ISN: the old snd_nxt + 65535 + 2 */

static bool established(struct sc *sc, struct sc_conn *c)
{
	return OPEN_ACTIVE(sc, c, SC_REMOTE_PORT) && ESTABLISH_ACTIVE(sc, c);
}

/* A segment from the peer with its next TSval, echoing ours. */
static void peer_send(struct sc *sc, struct sc_conn *c, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
		      size_t len)
{
	struct sc_seg s = sc_seg_for(c, flags, seq, ack);

	sc_seg_ts(&s, c->peer_ts++, c->tsval);
	s.data = data;
	s.len = len;
	sc_inject(sc, &s);
}

/* A segment without ACK or timestamps at an old sequence number: it never
 * restarts the TIME-WAIT timer, so it tells whether the minisock is still
 * there (an ACK) or gone (a RST from no socket). */
static void peer_probe(struct sc *sc, struct sc_conn *c, uint32_t seq)
{
	struct sc_seg s = sc_seg_for(c, 0, seq, 0);

	sc_inject(sc, &s);
}

#define EXPECT_TW_ACK(sc, c, seq_, ack_) EXPECT((sc), .flags = F_ACK, .seq = V(seq_), .ack = V(ack_), .len = V(0))
#define EXPECT_NO_SOCKET_RST(sc, end_seq) EXPECT((sc), .flags = F_RST | F_ACK, .seq = V(0), .ack = V(end_seq))

/* close() in ESTABLISHED: our FIN. */
static bool active_close_fin(struct sc *sc, struct sc_conn *c)
{
	CHECK_EQ(synack_close(sc->st, c->fd), 0);
	sc_run(sc);
	return EXPECT(sc, .flags = F_FIN | F_ACK, .seq = V(c->iss + 1), .ack = V(c->irs + 1), .len = V(0),
		      OPT(O_NOP, O_NOP, O_TS(0, c->peer_ts - 1))) != NULL;
}

/* ESTABLISHED -> close -> FIN_WAIT1 -> FIN_WAIT2 -> peer FIN -> TIME_WAIT. */
static bool to_time_wait(struct sc *sc, struct sc_conn *c)
{
	if (!established(sc, c) || !active_close_fin(sc, c))
		return false;
	peer_send(sc, c, F_ACK, c->irs + 1, c->iss + 2, NULL, 0);
	EXPECT_NONE(sc);
	peer_send(sc, c, F_FIN | F_ACK, c->irs + 1, c->iss + 2, NULL, 0);
	return EXPECT(sc, .flags = F_ACK, .seq = V(c->iss + 2), .ack = V(c->irs + 2), .len = V(0),
		      OPT(O_NOP, O_NOP, O_TS(0, c->peer_ts - 1))) != NULL;
}

TEST(active_close_time_wait_60s)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t_tw;

	REQUIRE(established(sc, &c));
	REQUIRE(active_close_fin(sc, &c));
	CHECK_TRACE(sc, "inet_sock_set_state", "ESTABLISHED -> FIN_WAIT1");
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT_NONE(sc);
	CHECK_TRACE(sc, "inet_sock_set_state", "FIN_WAIT1 -> FIN_WAIT2");
	/* An orphan with tcp_fin_timeout 60 s goes to a FIN_WAIT2 minisock at once. */
	CHECK_TRACE(sc, "tcp_time_wait", "FIN_WAIT2 60000 ms");
	CHECK_MIB(sc, "TcpExtTW", 1);
	sc_advance(sc, MS(100));
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 2), .ack = V(c.irs + 2), .len = V(0),
	       OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 1)));
	t_tw = sc_now(sc);
	CHECK_MIB(sc, "TcpExtTW", 1); /* counted once, when the minisock was made */
	sc_run_until(sc, t_tw + SEC(60) - MS(1));
	EXPECT_NONE(sc);
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	sc_run_until(sc, t_tw + SEC(60));
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_NO_SOCKET_RST(sc, c.irs + 1);
	CHECK_MIB(sc, "TcpExtTWKilled", 0);
	SC_FREE(sc);
}

/* A retransmitted FIN (our ACK was lost) is ACKed again and restarts 60 s. */
TEST(time_wait_fin_retransmit_restarts_timer)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t_fin;

	REQUIRE(to_time_wait(sc, &c));
	sc_advance(sc, SEC(30));
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 2), .ack = V(c.irs + 2), .len = V(0));
	t_fin = sc_now(sc);
	sc_run_until(sc, t_fin + SEC(59));
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	sc_run_until(sc, t_fin + SEC(60));
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_NO_SOCKET_RST(sc, c.irs + 1);
	SC_FREE(sc);
}

/* FIN and ACK crossing: FIN_WAIT1 + FIN -> CLOSING, then the ACK -> TIME_WAIT. */
TEST(simultaneous_close_closing)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c));
	REQUIRE(active_close_fin(sc, &c));
	/* The peer's FIN does not yet acknowledge ours. */
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 1, c.iss + 1, NULL, 0);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 2), .ack = V(c.irs + 2), .len = V(0),
	       OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 1)));
	CHECK_TRACE(sc, "inet_sock_set_state", "FIN_WAIT1 -> CLOSING");
	peer_send(sc, &c, F_ACK, c.irs + 2, c.iss + 2, NULL, 0);
	EXPECT_NONE(sc);
	CHECK_TRACE(sc, "tcp_time_wait", "TIME_WAIT 60000 ms");
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	sc_advance(sc, SEC(61));
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_NO_SOCKET_RST(sc, c.irs + 1);
	SC_FREE(sc);
}

/* The peer closes first: CLOSE_WAIT, EOF for the reader; our close sends
 * FIN (LAST_ACK); its ACK ends everything (no TIME-WAIT on this side). */
TEST(passive_close_last_ack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	char buf[8];

	REQUIRE(established(sc, &c));
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 1, c.iss + 1, NULL, 0);
	sc_advance(sc, MS(200)); /* the ACK of a FIN may be delayed (pingpong) */
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 2), .len = V(0));
	CHECK_STATE(sc, c.fd, TCP_CLOSE_WAIT);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 0);
	CHECK(synack_poll(sc->st, c.fd) & POLLIN);
	CHECK_EQ(synack_close(sc->st, c.fd), 0);
	sc_run(sc);
	EXPECT(sc, .flags = F_FIN | F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 2), .len = V(0));
	CHECK_TRACE(sc, "inet_sock_set_state", "CLOSE_WAIT -> LAST_ACK");
	peer_send(sc, &c, F_ACK, c.irs + 2, c.iss + 2, NULL, 0);
	EXPECT_NONE(sc);
	CHECK_TRACE(sc, "inet_sock_set_state", "LAST_ACK -> CLOSE");
	CHECK_EQ(sc_trace_count(sc, "tcp_time_wait", NULL), 0);
	peer_probe(sc, &c, c.irs + 2);
	EXPECT_NO_SOCKET_RST(sc, c.irs + 2);
	CHECK_MIB(sc, "TcpEstabResets", 0);
	SC_FREE(sc);
}

/* Data the user never read: close() resets instead of FIN (RFC 2525). */
TEST(close_with_unread_data_resets)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c));
	peer_send(sc, &c, F_ACK | F_PSH, c.irs + 1, c.iss + 1, "hello", 5);
	sc_advance(sc, MS(200));
	sc_drain(sc);
	CHECK_EQ(synack_close(sc->st, c.fd), 0);
	sc_run(sc);
	EXPECT(sc, .flags = F_RST | F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 6), .len = V(0));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPAbortOnClose", 1);
	CHECK_MIB(sc, "TcpEstabResets", 1);
	peer_probe(sc, &c, c.irs + 6);
	EXPECT_NO_SOCKET_RST(sc, c.irs + 6);
	SC_FREE(sc);
}

/* SO_LINGER {1, 0}: the abortive close (Linux counts TCPAbortOnData). */
TEST(so_linger_zero_resets)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct linger l = { 1, 0 };

	REQUIRE(established(sc, &c));
	CHECK_EQ(synack_setsockopt(sc->st, c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	CHECK_EQ(synack_close(sc->st, c.fd), 0);
	sc_run(sc);
	EXPECT(sc, .flags = F_RST | F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .len = V(0));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPAbortOnData", 1);
	CHECK_MIB(sc, "TcpExtTCPAbortOnClose", 0);
	CHECK_EQ(sc_trace_count(sc, "inet_sock_set_state", "FIN_WAIT1"), 0);
	SC_FREE(sc);
}

/* tcp_fin_timeout 10: the FIN_WAIT2 minisock lives 10 s, then the tuple is free. */
TEST(orphan_fin_wait2_timeout)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t_ack;

	CHECK_EQ(sc_sysctl(sc, "net.ipv4.tcp_fin_timeout", 10), 0);
	REQUIRE(established(sc, &c));
	REQUIRE(active_close_fin(sc, &c));
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	t_ack = sc_now(sc);
	EXPECT_NONE(sc);
	CHECK_TRACE(sc, "tcp_time_wait", "FIN_WAIT2 10000 ms");
	CHECK_MIB(sc, "TcpExtTW", 1);
	/* Out of window in FIN_WAIT2: an ACK from the minisock. */
	sc_run_until(sc, t_ack + SEC(10) - MS(1));
	peer_send(sc, &c, F_ACK, c.irs + 1 - 1000, c.iss + 2, NULL, 0);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 1);
	sc_run_until(sc, t_ack + SEC(10));
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 2), .len = V(0));
	SC_FREE(sc);
}

/* TCP_LINGER2 90 > 60 s: the full socket waits the 30 s beyond 60 on its
 * keepalive timer, then a FIN_WAIT2 minisock waits fin_time - 60 s = 30 s
 * more (Linux's tcp_keepalive_timer), 60 s in all. */
TEST(orphan_fin_wait2_linger2_long)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t_ack;

	REQUIRE(established(sc, &c));
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, IPPROTO_TCP, TCP_LINGER2, 90), 0);
	REQUIRE(active_close_fin(sc, &c));
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	t_ack = sc_now(sc);
	EXPECT_NONE(sc);
	CHECK_EQ(sc_trace_count(sc, "tcp_time_wait", NULL), 0);
	sc_run_until(sc, t_ack + SEC(30) - MS(1));
	CHECK_EQ(sc_trace_count(sc, "tcp_time_wait", NULL), 0);
	sc_run_until(sc, t_ack + SEC(30));
	CHECK_TRACE(sc, "tcp_time_wait", "FIN_WAIT2 30000 ms");
	sc_run_until(sc, t_ack + SEC(60) - MS(1));
	peer_send(sc, &c, F_ACK, c.irs + 1 - 1000, c.iss + 2, NULL, 0);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 1);
	sc_run_until(sc, t_ack + SEC(60));
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 2), .len = V(0));
	SC_FREE(sc);
}

/* TCP_LINGER2 -1: an orphan never waits in FIN_WAIT2; the ACK of its FIN
 * gets a RST. */
TEST(orphan_linger2_negative_resets)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c));
	CHECK_EQ(sc_setsockopt_int(sc, c.fd, IPPROTO_TCP, TCP_LINGER2, -1), 0);
	REQUIRE(active_close_fin(sc, &c));
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 2), .len = V(0));
	CHECK_MIB(sc, "TcpExtTCPAbortOnData", 1);
	CHECK_EQ(sc_trace_count(sc, "tcp_time_wait", NULL), 0);
	SC_FREE(sc);
}

/* Data after close() in FIN_WAIT1 (nobody can read it): RST. */
TEST(data_after_close_resets)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c));
	REQUIRE(active_close_fin(sc, &c));
	peer_send(sc, &c, F_ACK | F_PSH, c.irs + 1, c.iss + 1, "late", 4);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 1), .len = V(0));
	CHECK_MIB(sc, "TcpExtTCPAbortOnData", 1);
	peer_probe(sc, &c, c.irs + 5);
	EXPECT_NO_SOCKET_RST(sc, c.irs + 5);
	SC_FREE(sc);
}

/* In-window RST kills a TIME-WAIT minisock (Linux's default)... */
TEST(time_wait_rst_kills)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(to_time_wait(sc, &c));
	peer_send(sc, &c, F_RST, c.irs + 2, 0, NULL, 0);
	EXPECT_NONE(sc);
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_NO_SOCKET_RST(sc, c.irs + 1);
	SC_FREE(sc);
}

/* ... but not with tcp_rfc1337 = 1 (RFC 1337's TIME-WAIT assassination fix). */
TEST(time_wait_rst_rfc1337)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	CHECK_EQ(sc_sysctl(sc, "net.ipv4.tcp_rfc1337", 1), 0);
	REQUIRE(to_time_wait(sc, &c));
	peer_send(sc, &c, F_RST, c.irs + 2, 0, NULL, 0);
	EXPECT_NONE(sc);
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	SC_FREE(sc);
}

/* Our server closes first, so the TIME-WAIT is ours; a new SYN from the
 * same peer port, above the old sequence space, is given to the listener,
 * which answers with ISN = the old snd_nxt + 65537. */
TEST(time_wait_new_syn_reopens_via_listener)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 8) && ESTABLISH_PASSIVE(sc, &c));
	REQUIRE(active_close_fin(sc, &c));
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 2), .ack = V(c.irs + 2));
	sc_advance(sc, SEC(1));
	s = sc_seg_for(&c, F_SYN, c.irs + 100000, 0);
	s.win = SC_PEER_WIN;
	s.has_opt = true;
	{
		const uint8_t o[] = { O_MSS(1460), O_SACKOK, O_TS(c.peer_ts + 1000, 0), O_NOP, O_WS(SC_PEER_WS) };
		memcpy(s.opt, o, sizeof(o));
		s.optlen = sizeof(o);
	}
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c.iss + 2 + TW_ISN_GAP), .ack = V(c.irs + 100001));
	SC_FREE(sc);
}

/* Without a listener the old connection answers the SYN with its ACK. */
TEST(time_wait_new_syn_no_listener_acked)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(to_time_wait(sc, &c));
	sc_advance(sc, SEC(1));
	s = sc_seg_for(&c, F_SYN, c.irs + 100000, 0);
	sc_seg_ts(&s, c.peer_ts + 1000, 0);
	sc_inject(sc, &s);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	SC_FREE(sc);
}

/* Old duplicates (data, an old SYN, a segment failing PAWS) get an ACK,
 * rate limited to one per tcp_invalid_ratelimit except for data. */
TEST(time_wait_old_duplicates_acked)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(to_time_wait(sc, &c));
	/* An old data segment: always answered. */
	peer_send(sc, &c, F_ACK | F_PSH, c.irs - 9, c.iss + 1, "0123456789", 10);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	peer_send(sc, &c, F_ACK | F_PSH, c.irs - 9, c.iss + 1, "0123456789", 10);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	/* A TSval older than ts_recent: PAWS rejects, still an ACK. */
	sc_advance(sc, SEC(1));
	s = sc_seg_for(&c, F_ACK, c.irs + 2, c.iss + 2);
	sc_seg_ts(&s, SC_PEER_TS - 100, c.tsval);
	sc_inject(sc, &s);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	CHECK_MIB(sc, "TcpExtPAWSTimewait", 1);
	/* A second bare one within 500 ms is not answered. */
	sc_advance(sc, MS(100));
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPACKSkippedTimeWait", 1);
	/* An old SYN (below rcv_nxt, no newer TSval) is a duplicate too. */
	sc_advance(sc, SEC(1));
	s = sc_seg_for(&c, F_SYN, c.irs, 0);
	sc_inject(sc, &s);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	SC_FREE(sc);
}

/* tcp_max_tw_buckets reached: no minisock, the socket simply closes. */
TEST(time_wait_bucket_overflow)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	CHECK_EQ(sc_sysctl(sc, "net.ipv4.tcp_max_tw_buckets", 0), 0);
	REQUIRE(established(sc, &c));
	REQUIRE(active_close_fin(sc, &c));
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPTimeWaitOverflow", 1);
	CHECK_MIB(sc, "TcpExtTW", 0);
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 2), .len = V(0));
	SC_FREE(sc);
}

/* shutdown(SHUT_WR): our FIN goes out, and reading goes on until the peer's FIN. */
TEST(shutdown_wr_half_close)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	char buf[16];

	REQUIRE(established(sc, &c));
	CHECK_EQ(synack_shutdown(sc->st, c.fd, SHUT_WR), 0);
	sc_run(sc);
	EXPECT(sc, .flags = F_FIN | F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .len = V(0));
	CHECK_STATE(sc, c.fd, TCP_FIN_WAIT1);
	CHECK_EQ(synack_send(sc->st, c.fd, "x", 1, 0), -EPIPE);
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_FIN_WAIT2);
	peer_send(sc, &c, F_ACK | F_PSH, c.irs + 1, c.iss + 2, "abc", 3);
	sc_advance(sc, MS(200));
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 2), .ack = V(c.irs + 4), .len = V(0));
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 3);
	CHECK_MEM(buf, "abc", 3);
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 4, c.iss + 2, NULL, 0);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 2), .ack = V(c.irs + 5), .len = V(0));
	/* The descriptor's socket is closed; a minisock holds the TIME-WAIT. */
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 0);
	CHECK_TRACE(sc, "tcp_time_wait", "TIME_WAIT");
	CHECK_EQ(synack_close(sc->st, c.fd), 0);
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 5);
	SC_FREE(sc);
}

/* connect() from an explicitly bound port to a tuple in TIME-WAIT takes
 * it over: ISN above the old sequence space, TWRecycled. */
TEST(connect_reuses_time_wait_bound_port)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in a, peer = sc_sin(SC_PEER, SC_REMOTE_PORT);
	int fd;

	REQUIRE(to_time_wait(sc, &c));
	fd = sc_socket(sc);
	REQUIRE(fd >= 0);
	CHECK_EQ(sc_setsockopt_int(sc, fd, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	a = sc_sin(SC_LOCAL, c.lport);
	CHECK_EQ(synack_bind(sc->st, fd, &a), 0);
	CHECK_EQ(synack_connect(sc->st, fd, &peer), -EINPROGRESS);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .seq = V(c.iss + 2 + TW_ISN_GAP), .sport = V(c.lport));
	CHECK_MIB(sc, "TcpExtTWRecycled", 1);
	SC_FREE(sc);
}

/* An ephemeral connect() does not take a TIME-WAIT tuple with the default
 * tcp_tw_reuse = 2 (loopback only), but does with 1 once the minisock is
 * older than tcp_tw_reuse_delay (1 s). */
TEST(connect_ephemeral_tw_reuse)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in peer = sc_sin(SC_PEER, SC_REMOTE_PORT);
	int fd;

	REQUIRE(to_time_wait(sc, &c));
	/* The port range is the old connection's port alone. */
	CHECK_EQ(sc_sysctl(sc, "net.ipv4.ip_local_port_range_lo", c.lport), 0);
	CHECK_EQ(sc_sysctl(sc, "net.ipv4.ip_local_port_range_hi", c.lport), 0);
	sc_advance(sc, SEC(2));
	fd = sc_socket(sc);
	REQUIRE(fd >= 0);
	CHECK_EQ(synack_connect(sc->st, fd, &peer), -EADDRNOTAVAIL);
	CHECK_MIB(sc, "TcpExtTWRecycled", 0);
	EXPECT_NONE(sc);
	CHECK_EQ(synack_close(sc->st, fd), 0);
	CHECK_EQ(sc_sysctl(sc, "net.ipv4.tcp_tw_reuse", 1), 0);
	fd = sc_socket(sc);
	REQUIRE(fd >= 0);
	CHECK_EQ(synack_connect(sc->st, fd, &peer), -EINPROGRESS);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .seq = V(c.iss + 2 + TW_ISN_GAP), .sport = V(c.lport));
	CHECK_MIB(sc, "TcpExtTWRecycled", 1);
	SC_FREE(sc);
}

/* SO_KEEPALIVE with TCP_KEEPIDLE 10, TCP_KEEPINTVL 5, TCP_KEEPCNT 2: two
 * probes (ACKs one below snd_una), then RST and ETIMEDOUT. */
static bool keepalive_setup(struct sc *sc, struct sc_conn *c)
{
	if (!established(sc, c))
		return false;
	CHECK_EQ(sc_setsockopt_int(sc, c->fd, IPPROTO_TCP, TCP_KEEPIDLE, 10), 0);
	CHECK_EQ(sc_setsockopt_int(sc, c->fd, IPPROTO_TCP, TCP_KEEPINTVL, 5), 0);
	CHECK_EQ(sc_setsockopt_int(sc, c->fd, IPPROTO_TCP, TCP_KEEPCNT, 2), 0);
	CHECK_EQ(sc_setsockopt_int(sc, c->fd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
	return true;
}

TEST(keepalive_probes_then_timeout)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t0;
	char buf[4];

	REQUIRE(keepalive_setup(sc, &c));
	t0 = sc_now(sc);
	sc_run_until(sc, t0 + SEC(10) - MS(1));
	EXPECT_NONE(sc);
	sc_run_until(sc, t0 + SEC(10));
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss), .ack = V(c.irs + 1), .len = V(0), .t = V64(t0 + SEC(10)));
	sc_run_until(sc, t0 + SEC(15));
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss), .ack = V(c.irs + 1), .len = V(0), .t = V64(t0 + SEC(15)));
	CHECK_MIB(sc, "TcpExtTCPKeepAlive", 2);
	sc_run_until(sc, t0 + SEC(20));
	EXPECT(sc, .flags = F_RST | F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .t = V64(t0 + SEC(20)));
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), -ETIMEDOUT);
	CHECK_MIB(sc, "TcpExtTCPAbortOnTimeout", 1);
	SC_FREE(sc);
}

/* An answered probe restarts the idle time. */
TEST(keepalive_answered_probe_keeps_connection)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	uint64_t t0, t_ans;

	REQUIRE(keepalive_setup(sc, &c));
	t0 = sc_now(sc);
	sc_run_until(sc, t0 + SEC(10));
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss), .ack = V(c.irs + 1));
	sc_advance(sc, MS(10));
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 1, NULL, 0);
	t_ans = sc_now(sc);
	EXPECT_NONE(sc);
	/* The next probe comes keepidle after the answer, the count reset. */
	sc_run_until(sc, t_ans + SEC(10) - MS(1));
	EXPECT_NONE(sc);
	sc_run_until(sc, t_ans + SEC(10) + MS(1));
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss), .ack = V(c.irs + 1));
	sc_run_until(sc, t_ans + SEC(15) + MS(1));
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss), .ack = V(c.irs + 1));
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

/* The peer's FIN acknowledges ours in the same segment: FIN_WAIT1 ->
 * FIN_WAIT2 (the full socket must live to see the FIN) -> TIME_WAIT. */
TEST(fin_ack_in_one_segment)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c));
	REQUIRE(active_close_fin(sc, &c));
	peer_send(sc, &c, F_FIN | F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 2), .ack = V(c.irs + 2), .len = V(0),
	       OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 1)));
	EXPECT_NONE(sc);
	CHECK_TRACE(sc, "inet_sock_set_state", "FIN_WAIT1 -> FIN_WAIT2");
	CHECK_TRACE(sc, "tcp_time_wait", "TIME_WAIT 60000 ms");
	CHECK_EQ(sc_trace_count(sc, "tcp_time_wait", "FIN_WAIT2"), 0);
	sc_advance(sc, SEC(1));
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_TW_ACK(sc, &c, c.iss + 2, c.irs + 2);
	sc_advance(sc, SEC(60));
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_NO_SOCKET_RST(sc, c.irs + 1);
	SC_FREE(sc);
}

/* FIN_WAIT2 minisock: new data after our close has nobody to read it: RST. */
TEST(fin_wait2_minisock_data_resets)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(established(sc, &c));
	REQUIRE(active_close_fin(sc, &c));
	peer_send(sc, &c, F_ACK, c.irs + 1, c.iss + 2, NULL, 0);
	CHECK_TRACE(sc, "tcp_time_wait", "FIN_WAIT2");
	peer_send(sc, &c, F_ACK | F_PSH, c.irs + 1, c.iss + 2, "data", 4);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 2), .len = V(0));
	peer_probe(sc, &c, c.irs + 1);
	EXPECT_NO_SOCKET_RST(sc, c.irs + 1);
	SC_FREE(sc);
}

int main(void)
{
	RUN(active_close_time_wait_60s);
	RUN(time_wait_fin_retransmit_restarts_timer);
	RUN(simultaneous_close_closing);
	RUN(fin_ack_in_one_segment);
	RUN(fin_wait2_minisock_data_resets);
	RUN(passive_close_last_ack);
	RUN(close_with_unread_data_resets);
	RUN(so_linger_zero_resets);
	RUN(orphan_fin_wait2_timeout);
	RUN(orphan_fin_wait2_linger2_long);
	RUN(orphan_linger2_negative_resets);
	RUN(data_after_close_resets);
	RUN(time_wait_rst_kills);
	RUN(time_wait_rst_rfc1337);
	RUN(time_wait_new_syn_reopens_via_listener);
	RUN(time_wait_new_syn_no_listener_acked);
	RUN(time_wait_old_duplicates_acked);
	RUN(time_wait_bucket_overflow);
	RUN(shutdown_wr_half_close);
	RUN(connect_reuses_time_wait_bound_port);
	RUN(connect_ephemeral_tw_reuse);
	RUN(keepalive_probes_then_timeout);
	RUN(keepalive_answered_probe_keeps_connection);
	return TEST_SUMMARY();
}
