/* Active open: the SYN, its retransmission schedule, and every branch of
 * tcp_rcv_synsent_state_process (spec sections 1.4-1.7 and 2). */
#include "../test.h"
#include "harness.h"

/* A SYN-ACK from the peer for connection c with the given option bytes. */
static struct sc_seg synack(const struct sc_conn *c, uint32_t ack)
{
	struct sc_seg s = sc_seg_for(c, F_SYN | F_ACK, c->irs, ack);

	s.win = SC_PEER_WIN;
	return s;
}
#define SET_OPT(s, ...)                                                         \
	do {                                                                    \
		const uint8_t _o[] = { __VA_ARGS__ };                           \
		memcpy((s).opt, _o, sizeof(_o));                                \
		(s).optlen = sizeof(_o);                                        \
		(s).has_opt = true;                                             \
	} while (0)

static uint32_t ts_at(const struct sc_conn *c, uint64_t t) { return c->tsval + (uint32_t)((t - c->syn_t) / SC_NS_PER_MS); }

/* ------------------------------------------------------------ layouts */

TEST(syn_sent_syn_layout_defaults)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	CHECK_EQ(c.syn.ttl, 64);
	CHECK(c.syn.df);
	CHECK_EQ(c.syn.tos, 0);
	CHECK_EQ(c.syn.urg, 0);
	CHECK(c.lport >= 32768 && c.lport <= 60999);
	CHECK(c.syn.ts && c.syn.tsecr == 0);
	CHECK_MIB(sc, "TcpActiveOpens", 1);
	CHECK_MIB(sc, "TcpCurrEstab", 0);
	CHECK_MIB(sc, "TcpOutSegs", 1);
	CHECK_TRACE(sc, "inet_sock_set_state", "CLOSE -> SYN_SENT");
	CHECK_EQ(synack_poll(sc->st, c.fd) & POLLOUT, 0);
	sc_advance(sc, MS(999));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* One SYN layout under a sysctl. */
static void syn_layout(const char *sysctl, long val, const struct sc_want *want, int line)
{
	struct sc *sc = sc_new(NULL);
	int err = 0;

	if (sysctl)
		sc_sysctl(sc, sysctl, val);
	sc_connect(sc, SC_REMOTE_PORT, &err);
	CHECK_EQ(err, -EINPROGRESS);
	if (!sc_expect_(sc, want, __FILE__, line))
		test_failed_checks++;
	SC_FREE(sc);
}

TEST(syn_sent_syn_layout_no_timestamps)
{
	syn_layout("net.ipv4.tcp_timestamps", 0,
		   &(struct sc_want){ .flags = F_SYN, .ack = V(0), .win = V(64240),
				      OPT(O_MSS(1460), O_NOP, O_NOP, O_SACKOK, O_NOP, O_WS(10)) },
		   __LINE__);
}

TEST(syn_sent_syn_layout_no_sack)
{
	syn_layout("net.ipv4.tcp_sack", 0,
		   &(struct sc_want){ .flags = F_SYN, .ack = V(0), .win = V(64240),
				      OPT(O_MSS(1460), O_NOP, O_NOP, O_TS(0, 0), O_NOP, O_WS(10)) },
		   __LINE__);
}

TEST(syn_sent_syn_layout_no_window_scaling)
{
	syn_layout("net.ipv4.tcp_window_scaling", 0,
		   &(struct sc_want){ .flags = F_SYN, .ack = V(0), .win = V(64240),
				      OPT(O_MSS(1460), O_SACKOK, O_TS(0, 0)) },
		   __LINE__);
}

TEST(syn_sent_syn_layout_mss_only)
{
	struct sc *sc = sc_new(NULL);
	int err = 0;

	sc_sysctl(sc, "net.ipv4.tcp_timestamps", 0);
	sc_sysctl(sc, "net.ipv4.tcp_sack", 0);
	sc_sysctl(sc, "net.ipv4.tcp_window_scaling", 0);
	sc_connect(sc, SC_REMOTE_PORT, &err);
	CHECK_EQ(err, -EINPROGRESS);
	EXPECT(sc, .flags = F_SYN, .ack = V(0), .win = V(64240), OPT(O_MSS(1460)));
	SC_FREE(sc);
}

TEST(syn_sent_syn_layout_maxseg_lowers_mss)
{
	struct sc *sc = sc_new(NULL);
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);
	int fd = sc_socket(sc);

	REQUIRE(fd >= 0);
	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_MAXSEG, 1000), 0);
	CHECK_EQ(synack_connect(sc->st, fd, &to), -EINPROGRESS);
	sc_run(sc);
	/* advmss 1000; the window is 65536 rounded down to a multiple of it. */
	EXPECT(sc, .flags = F_SYN, .ack = V(0), .win = V(65000), OPT(O_MSS(1000), O_SACKOK, O_TS(0, 0), O_NOP, O_WS(10)));
	SC_FREE(sc);
}

TEST(syn_sent_syn_layout_mtu_1000)
{
	struct sc *sc = sc_new(&(struct sc_opts){ .mtu = 1000 });
	int err = 0;

	sc_connect(sc, SC_REMOTE_PORT, &err);
	CHECK_EQ(err, -EINPROGRESS);
	EXPECT(sc, .flags = F_SYN, .ack = V(0), .win = V(65280), OPT(O_MSS(960), O_SACKOK, O_TS(0, 0), O_NOP, O_WS(10)));
	SC_FREE(sc);
}

/* ------------------------------------------------------- retransmission */

/* The SYN is resent at each of at[] seconds after the first (same seq and
 * options, fresh TSval, the next IP ID), then connect fails with ETIMEDOUT
 * at abort_s without sending anything. */
static void syn_schedule(struct sc *sc, struct sc_conn *c, const unsigned *at, size_t n, unsigned abort_s)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t = c->syn_t + SEC(at[i]);

		sc_run_until(sc, t - 1);
		EXPECT_NONE(sc);
		sc_run_until(sc, t);
		const struct sc_pkt *p = EXPECT(sc, .flags = F_SYN, .seq = V(c->iss), .ack = V(0), .win = V(64240),
					       OPT(O_MSS(1460), O_SACKOK, O_TS(ts_at(c, t), 0), O_NOP, O_WS(10)),
					       .tsval = V(ts_at(c, t)), .t = V64(t), .sport = V(c->lport), .df = V(1),
					       .ip_id = V((uint16_t)(c->syn.ip_id + i + 1)));
		if (!p)
			fprintf(stderr, "  (retransmission %zu, due at +%us)\n", i + 1, at[i]);
	}
	sc_run_until(sc, c->syn_t + SEC(abort_s) - 1);
	CHECK_STATE(sc, c->fd, TCP_SYN_SENT);
	EXPECT_NONE(sc);
	sc_run_until(sc, c->syn_t + SEC(abort_s));
	CHECK_STATE(sc, c->fd, TCP_CLOSE);
	EXPECT_NONE(sc);
	sc_advance(sc, SEC(300));
	EXPECT_NONE(sc);
}

TEST(syn_sent_retransmit_default_schedule)
{
	static const unsigned at[] = { 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	syn_schedule(sc, &c, at, 10, 131);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -ETIMEDOUT);
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 10);
	CHECK_MIB(sc, "TcpRetransSegs", 10);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 11);   /* counted before tcp_write_timeout */
	CHECK_MIB(sc, "TcpExtTCPAbortOnTimeout", 1);
	CHECK_MIB(sc, "TcpAttemptFails", 1);       /* tcp_done from SYN_SENT */
	CHECK_MIB(sc, "TcpActiveOpens", 1);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	CHECK_MIB(sc, "TcpOutSegs", 1);           /* retransmissions are not OutSegs (__tcp_transmit_skb) */
	CHECK_TRACE(sc, "inet_sock_set_state", "SYN_SENT -> CLOSE");
	SC_FREE(sc);
}

TEST(syn_sent_retransmit_so_error_etimedout)
{
	static const unsigned at[] = { 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	syn_schedule(sc, &c, at, 10, 131);
	CHECK(synack_poll(sc->st, c.fd) & POLLERR);
	CHECK_EQ(sc_so_error(sc, c.fd), ETIMEDOUT);
	CHECK_EQ(sc_so_error(sc, c.fd), 0); /* reported once */
	SC_FREE(sc);
}

/* tcp_syn_retries=2: at most 2+4 retransmissions, but the modelled time
 * ((2<<2)-1) * 1 s = 7 s since the first SYN runs out first. */
TEST(syn_sent_retransmit_syn_retries_2)
{
	static const unsigned at[] = { 1, 2, 3, 4, 5 };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);

	sc_sysctl(sc, "net.ipv4.tcp_syn_retries", 2);
	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	syn_schedule(sc, &c, at, 5, 7);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -ETIMEDOUT);
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 5);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 6);
	SC_FREE(sc);
}

/* tcp_syn_linear_timeouts=0: the old exponential schedule, abort at 127 s. */
TEST(syn_sent_retransmit_no_linear_timeouts)
{
	static const unsigned at[] = { 1, 3, 7, 15, 31, 63 };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);

	sc_sysctl(sc, "net.ipv4.tcp_syn_linear_timeouts", 0);
	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	syn_schedule(sc, &c, at, 6, 127);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -ETIMEDOUT);
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 6);
	CHECK_MIB(sc, "TcpRetransSegs", 6);
	CHECK_MIB(sc, "TcpExtTCPTimeouts", 7);
	SC_FREE(sc);
}

/* TCP_SYNCNT overrides the sysctl for one socket. */
TEST(syn_sent_retransmit_syncnt_3_no_linear)
{
	static const unsigned at[] = { 1, 3, 7 };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);
	int fd;

	sc_sysctl(sc, "net.ipv4.tcp_syn_linear_timeouts", 0);
	fd = sc_socket(sc);
	REQUIRE(fd >= 0);
	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_SYNCNT, 3), 0);
	CHECK_EQ(synack_connect(sc->st, fd, &to), -EINPROGRESS);
	sc_run(sc);
	const struct sc_pkt *p = EXPECT(sc, .flags = F_SYN);
	REQUIRE(p);
	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.syn = *p;
	c.iss = p->seq;
	c.lport = p->sport;
	c.tsval = p->tsval;
	c.syn_t = p->t;
	syn_schedule(sc, &c, at, 3, 15);
	CHECK_EQ(synack_connect(sc->st, fd, &to), -ETIMEDOUT);
	SC_FREE(sc);
}

/* TCP_SYNCNT=1 with the default linear timeouts: the time model
 * ((2<<1)-1) * 1 s = 3 s ends it after two resends. */
TEST(syn_sent_retransmit_syncnt_1)
{
	static const unsigned at[] = { 1, 2 };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);
	int fd = sc_socket(sc);

	REQUIRE(fd >= 0);
	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_SYNCNT, 1), 0);
	CHECK_EQ(synack_connect(sc->st, fd, &to), -EINPROGRESS);
	sc_run(sc);
	const struct sc_pkt *p = EXPECT(sc, .flags = F_SYN);
	REQUIRE(p);
	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.syn = *p;
	c.iss = p->seq;
	c.lport = p->sport;
	c.tsval = p->tsval;
	c.syn_t = p->t;
	syn_schedule(sc, &c, at, 2, 3);
	CHECK_EQ(synack_connect(sc->st, fd, &to), -ETIMEDOUT);
	SC_FREE(sc);
}

TEST(syn_sent_syncnt_out_of_range_einval)
{
	struct sc *sc = sc_new(NULL);
	int fd = sc_socket(sc);

	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_SYNCNT, 0), -EINVAL);
	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_SYNCNT, 128), -EINVAL);
	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_SYNCNT, 127), 0);
	SC_FREE(sc);
}

/* ----------------------------------------------------------- SYN-ACK */

TEST(syn_sent_synack_valid_establishes)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT), peer;
	unsigned int len = sizeof(int);
	int mss = 0;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	REQUIRE(ESTABLISH_ACTIVE(sc, &c));
	CHECK_MIB(sc, "TcpActiveOpens", 1);
	CHECK_MIB(sc, "TcpCurrEstab", 1);
	CHECK_MIB(sc, "TcpAttemptFails", 0);
	CHECK_TRACE(sc, "inet_sock_set_state", "SYN_SENT -> ESTABLISHED");
	CHECK(synack_poll(sc->st, c.fd) & POLLOUT);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), 0);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -EISCONN);
	CHECK_EQ(synack_getpeername(sc->st, c.fd, &peer), 0);
	CHECK_EQ(peer.sin_addr.s_addr, sc->remote);
	CHECK_EQ(ntohs(peer.sin_port), SC_REMOTE_PORT);
	/* mss_cache: the peer's 1460 less the 12 bytes of timestamps. */
	CHECK_EQ(synack_getsockopt(sc->st, c.fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len), 0);
	CHECK_EQ(mss, 1448);
	/* Nothing more: the SYN's timer is gone. */
	sc_advance(sc, SEC(10));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 0);
	SC_FREE(sc);
}

/* A bad ACK gets a RST carrying the ACK number, and (nothing having been
 * retransmitted yet) the SYN is resent 2 ms later (TCP_TIMEOUT_MIN). */
static void synack_bad_ack(uint32_t delta_from_iss)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	uint64_t t;

	if (!OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT)) {
		sc_free(sc);
		return;
	}
	sc_advance(sc, MS(100));
	s = synack(&c, c.iss + delta_from_iss);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	t = sc_now(sc);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + delta_from_iss), .ack = V(0), .win = V(0), NO_OPT, .len = V(0),
	       .df = V(1), .ip_id = V(0), .ttl = V(64), .t = V64(t));
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	CHECK_MIB(sc, "TcpOutRsts", 1);
	CHECK_TRACE(sc, "tcp_send_reset", NULL);
	sc_run_until(sc, t + MS(2));
	EXPECT(sc, .flags = F_SYN, .seq = V(c.iss), .t = V64(t + MS(2)),
	       OPT(O_MSS(1460), O_SACKOK, O_TS(0, 0), O_NOP, O_WS(10)));
	SC_FREE(sc);
}

TEST(syn_sent_synack_ack_too_low_rst) { synack_bad_ack(0); }
TEST(syn_sent_synack_ack_too_high_rst) { synack_bad_ack(2); }
TEST(syn_sent_synack_ack_far_off_rst) { synack_bad_ack(0x80000000u); }

/* TSecr before the first SYN went out: PAWSActive and a RST. */
TEST(syn_sent_synack_tsecr_too_old_rst)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval - 1), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 1), .ack = V(0), NO_OPT);
	CHECK_MIB(sc, "TcpExtPAWSActive", 1);
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	SC_FREE(sc);
}

/* TSecr from the future (after now): PAWSActive and a RST. */
TEST(syn_sent_synack_tsecr_in_future_rst)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	sc_advance(sc, MS(50));
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval + 51), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 1), .ack = V(0), NO_OPT);
	CHECK_MIB(sc, "TcpExtPAWSActive", 1);
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	SC_FREE(sc);
}

/* TSecr == now is the upper edge and is accepted. */
TEST(syn_sent_synack_tsecr_now_accepted)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	sc_advance(sc, MS(50));
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval + 50), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1),
	       OPT(O_NOP, O_NOP, O_TS(c.tsval + 50, c.peer_ts)), .tsval = V(c.tsval + 50));
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_MIB(sc, "TcpExtPAWSActive", 0);
	SC_FREE(sc);
}

/* TSecr 0 is not checked. */
TEST(syn_sent_synack_tsecr_zero_accepted)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, 0), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), OPT(O_NOP, O_NOP, O_TS(c.tsval, c.peer_ts)));
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

/* A SYN-ACK echoing the first SYN's TSval after a retransmission is fine:
 * the range starts at retrans_stamp, the first transmission. */
TEST(syn_sent_synack_echoing_first_syn_after_retransmit)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	sc_run_until(sc, c.syn_t + SEC(1));
	EXPECT(sc, .flags = F_SYN, .seq = V(c.iss));
	sc_advance(sc, MS(10));
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1));
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_MIB(sc, "TcpExtPAWSActive", 0);
	SC_FREE(sc);
}

TEST(syn_sent_rst_acceptable_econnrefused)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = sc_seg_for(&c, F_RST | F_ACK, 0, c.iss + 1);
	s.win = 0;
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -ECONNREFUSED);
	CHECK_MIB(sc, "TcpAttemptFails", 1);
	CHECK_MIB(sc, "TcpEstabResets", 0);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	CHECK_TRACE(sc, "tcp_receive_reset", NULL);
	CHECK_TRACE(sc, "inet_sock_set_state", "SYN_SENT -> CLOSE");
	sc_advance(sc, SEC(5));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

TEST(syn_sent_rst_acceptable_so_error)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = sc_seg_for(&c, F_RST | F_ACK, 12345, c.iss + 1);
	sc_inject(sc, &s);
	CHECK(synack_poll(sc->st, c.fd) & POLLERR);
	CHECK_EQ(sc_so_error(sc, c.fd), ECONNREFUSED);
	CHECK_EQ(sc_so_error(sc, c.fd), 0);
	SC_FREE(sc);
}

/* RST with an unacceptable ACK: never answered, but the SYN is resent soon. */
TEST(syn_sent_rst_unacceptable_ack_ignored)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	uint64_t t;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	sc_advance(sc, MS(100));
	s = sc_seg_for(&c, F_RST | F_ACK, 0, c.iss + 5);
	sc_inject(sc, &s);
	t = sc_now(sc);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	sc_run_until(sc, t + MS(2));
	EXPECT(sc, .flags = F_SYN, .seq = V(c.iss), .t = V64(t + MS(2)));
	SC_FREE(sc);
}

TEST(syn_sent_rst_without_ack_ignored)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = sc_seg_for(&c, F_RST, c.irs, 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	/* The timer is untouched: the SYN is resent at 1 s. */
	sc_run_until(sc, c.syn_t + SEC(1) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, c.syn_t + SEC(1));
	EXPECT(sc, .flags = F_SYN, .seq = V(c.iss), .t = V64(c.syn_t + SEC(1)));
	SC_FREE(sc);
}

/* An acceptable ACK without SYN (or RST) is dropped silently. */
TEST(syn_sent_ack_without_syn_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = sc_seg_for(&c, F_ACK, c.irs, c.iss + 1);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	SC_FREE(sc);
}

/* A FIN|ACK with an acceptable ACK and no SYN: same. */
TEST(syn_sent_fin_ack_without_syn_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = sc_seg_for(&c, F_FIN | F_ACK, c.irs, c.iss + 1);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	SC_FREE(sc);
}

/* A bare segment with neither ACK, SYN nor RST: dropped. */
TEST(syn_sent_no_flags_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = sc_seg_for(&c, 0, c.irs, 0);
	s.data = "abc";
	s.len = 3;
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	SC_FREE(sc);
}

/* Without WS in the SYN-ACK neither side scales: the third ACK shows the
 * whole receive window. */
TEST(syn_sent_synack_without_wscale)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(64240),
	       OPT(O_NOP, O_NOP, O_TS(c.tsval, c.peer_ts)));
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

/* Without TS the third ACK carries no options (and mss_cache is 1460). */
TEST(syn_sent_synack_without_timestamps)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	int mss = 0;
	unsigned int len = sizeof(mss);

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(1460), O_NOP, O_NOP, O_SACKOK, O_NOP, O_WS(7));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(63), NO_OPT);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_EQ(synack_getsockopt(sc->st, c.fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len), 0);
	CHECK_EQ(mss, 1460);
	SC_FREE(sc);
}

/* A SYN-ACK with no options at all: mss 536, no scaling, no TS. */
TEST(syn_sent_synack_without_options)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	int mss = 0;
	unsigned int len = sizeof(mss);

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = synack(&c, c.iss + 1);
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(64240), NO_OPT);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_EQ(synack_getsockopt(sc->st, c.fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len), 0);
	CHECK_EQ(mss, 536);
	SC_FREE(sc);
}

/* The peer's MSS 536 clamps ours: mss_cache = 536 - 12 (timestamps). */
TEST(syn_sent_synack_peer_mss_536)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	int mss = 0;
	unsigned int len = sizeof(mss);

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(536), O_SACKOK, O_TS(c.peer_ts, c.tsval), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(63));
	CHECK_EQ(synack_getsockopt(sc->st, c.fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len), 0);
	CHECK_EQ(mss, 524);
	SC_FREE(sc);
}

/* TCP_QUICKACK=0 (pingpong): the third ACK waits for the delayed-ACK
 * timer, TCP_DELACK_MAX = 200 ms; the socket is established at once. */
TEST(syn_sent_synack_quickack_off_delays_ack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);
	uint64_t t;
	int fd = sc_socket(sc);

	REQUIRE(fd >= 0);
	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_QUICKACK, 0), 0);
	CHECK_EQ(synack_connect(sc->st, fd, &to), -EINPROGRESS);
	sc_run(sc);
	const struct sc_pkt *p = EXPECT(sc, .flags = F_SYN);
	REQUIRE(p);
	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.rport = SC_REMOTE_PORT;
	c.lport = p->sport;
	c.iss = p->seq;
	c.irs = SC_PEER_ISN;
	c.peer_ts = SC_PEER_TS;
	c.tsval = p->tsval;
	c.syn_t = p->t;
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	t = sc_now(sc);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(200) - 1);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(200));
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(63),
	       OPT(O_NOP, O_NOP, O_TS(c.tsval + 200, c.peer_ts)), .tsval = V(c.tsval + 200), .t = V64(t + MS(200)));
	CHECK_MIB(sc, "TcpExtDelayedACKs", 1);
	SC_FREE(sc);
}

/* TCP_DEFER_ACCEPT on a connecting socket also delays the third ACK. */
TEST(syn_sent_synack_defer_accept_delays_ack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);
	uint64_t t;
	int fd = sc_socket(sc);

	REQUIRE(fd >= 0);
	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5), 0);
	CHECK_EQ(synack_connect(sc->st, fd, &to), -EINPROGRESS);
	sc_run(sc);
	const struct sc_pkt *p = EXPECT(sc, .flags = F_SYN);
	REQUIRE(p);
	uint32_t iss = p->seq, tsval = p->tsval;
	memset(&s, 0, sizeof(s));
	s.sport = SC_REMOTE_PORT;
	s.dport = p->sport;
	s.flags = F_SYN | F_ACK;
	s.seq = SC_PEER_ISN;
	s.ack = iss + 1;
	s.win = SC_PEER_WIN;
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(SC_PEER_TS, tsval), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	t = sc_now(sc);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	EXPECT_NONE(sc);
	sc_run_until(sc, t + MS(200));
	EXPECT(sc, .flags = F_ACK, .seq = V(iss + 1), .ack = V(SC_PEER_ISN + 1), .t = V64(t + MS(200)));
	SC_FREE(sc);
}

/* ---------------------------------------------------- simultaneous open */

static bool simultaneous_open(struct sc *sc, struct sc_conn *c)
{
	struct sc_seg s;

	if (!OPEN_ACTIVE(sc, c, SC_REMOTE_PORT))
		return false;
	sc_advance(sc, MS(10));
	s = sc_seg_for(c, F_SYN, c->irs, 0);
	s.win = SC_PEER_WIN;
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c->peer_ts, 0), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	/* The original SYN again, now with ACK: same ISN, SYN options, an
	 * unscaled window, TSecr = the peer's TSval. */
	const struct sc_pkt *p = EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c->iss), .ack = V(c->irs + 1),
				       .win = V(64240),
				       OPT(O_MSS(1460), O_SACKOK, O_TS(c->tsval + 10, c->peer_ts), O_NOP, O_WS(10)),
				       .tsval = V(c->tsval + 10));
	if (!p)
		return false;
	CHECK_STATE(sc, c->fd, TCP_SYN_RECV);
	CHECK_TRACE(sc, "inet_sock_set_state", "SYN_SENT -> SYN_RECV");
	c->peer_ts++;
	return true;
}

TEST(syn_sent_syn_simultaneous_open)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(simultaneous_open(sc, &c));
	/* The peer's SYN-ACK (its answer to our SYN) completes the handshake. */
	s = sc_seg_for(&c, F_SYN | F_ACK, c.irs, c.iss + 1);
	s.win = SC_PEER_WIN;
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_TRACE(sc, "inet_sock_set_state", "SYN_RECV -> ESTABLISHED");
	CHECK_MIB(sc, "TcpCurrEstab", 1);
	CHECK_MIB(sc, "TcpExtTCPSYNChallenge", 0);
	/* The SYN-ACK is old data (end_seq == rcv_nxt): an immediate ACK. */
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1));
	SC_FREE(sc);
}

/* ... and that ACK carries a D-SACK for the duplicate SYN [irs, irs+1). */
TEST(syn_sent_syn_simultaneous_open_ack_has_dsack)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(simultaneous_open(sc, &c));
	s = sc_seg_for(&c, F_SYN | F_ACK, c.irs, c.iss + 1);
	s.win = SC_PEER_WIN;
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1),
	       OPT(O_NOP, O_NOP, O_TS(c.tsval + 10, c.peer_ts), O_NOP, O_NOP, 5, 10,
		   (uint8_t)(SC_PEER_ISN >> 24), (uint8_t)(SC_PEER_ISN >> 16), (uint8_t)(SC_PEER_ISN >> 8),
		   (uint8_t)SC_PEER_ISN, (uint8_t)((SC_PEER_ISN + 1) >> 24), (uint8_t)((SC_PEER_ISN + 1) >> 16),
		   (uint8_t)((SC_PEER_ISN + 1) >> 8), (uint8_t)(SC_PEER_ISN + 1)));
	SC_FREE(sc);
}

/* A bare ACK of our SYN also completes it. */
TEST(syn_recv_simultaneous_ack_establishes)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(simultaneous_open(sc, &c));
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts, c.tsval);
	sc_inject(sc, &s);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* Unanswered, the SYN-ACK is what the retransmit timer resends at 1 s. */
TEST(syn_recv_simultaneous_synack_retransmitted)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(simultaneous_open(sc, &c));
	sc_run_until(sc, c.syn_t + SEC(1));
	EXPECT(sc, .flags = F_SYN | F_ACK, .seq = V(c.iss), .ack = V(c.irs + 1), .t = V64(c.syn_t + SEC(1)),
	       OPT(O_MSS(1460), O_SACKOK, O_TS(c.tsval + 1000, c.peer_ts - 1), O_NOP, O_WS(10)));
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 1);
	SC_FREE(sc);
}

/* ---------------------------------------------------------------- ICMP */

static void icmp_during_syn_sent(uint8_t type, uint8_t code, int err)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);

	if (!OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT)) {
		sc_free(sc);
		return;
	}
	sc_inject_icmp(sc, type, code, &c.syn);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, c.fd, TCP_CLOSE);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -err);
	CHECK_MIB(sc, "TcpAttemptFails", 1);
	sc_advance(sc, SEC(5));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

TEST(syn_sent_icmp_port_unreach_econnrefused) { icmp_during_syn_sent(3, 3, ECONNREFUSED); }
TEST(syn_sent_icmp_host_unreach_ehostunreach) { icmp_during_syn_sent(3, 1, EHOSTUNREACH); }
TEST(syn_sent_icmp_net_unreach_enetunreach) { icmp_during_syn_sent(3, 0, ENETUNREACH); }
TEST(syn_sent_icmp_time_exceeded_ehostunreach) { icmp_during_syn_sent(11, 0, EHOSTUNREACH); }

/* An ICMP error quoting a sequence number outside [snd_una, snd_nxt] is
 * ignored. */
TEST(syn_sent_icmp_bad_seq_ignored)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_pkt q;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	q = c.syn;
	q.frame[14 + 20 + 4] ^= 0x40; /* the quoted TCP sequence number */
	sc_inject_icmp(sc, 3, 3, &q);
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	SC_FREE(sc);
}

/* close() in SYN_SENT: no RST; a late SYN-ACK then finds no socket. */
TEST(syn_sent_close_sends_nothing)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	CHECK_EQ(synack_close(sc->st, c.fd), 0);
	sc_run(sc);
	EXPECT_NONE(sc);
	sc_advance(sc, SEC(3));
	EXPECT_NONE(sc);
	s = synack(&c, c.iss + 1);
	SET_OPT(s, O_MSS(1460), O_SACKOK, O_TS(c.peer_ts, c.tsval), O_NOP, O_WS(7));
	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_RST, .seq = V(c.iss + 1), .ack = V(0));
	SC_FREE(sc);
}

int main(void)
{
	RUN(syn_sent_syn_layout_defaults);
	RUN(syn_sent_syn_layout_no_timestamps);
	RUN(syn_sent_syn_layout_no_sack);
	RUN(syn_sent_syn_layout_no_window_scaling);
	RUN(syn_sent_syn_layout_mss_only);
	RUN(syn_sent_syn_layout_maxseg_lowers_mss);
	RUN(syn_sent_syn_layout_mtu_1000);
	RUN(syn_sent_retransmit_default_schedule);
	RUN(syn_sent_retransmit_so_error_etimedout);
	RUN(syn_sent_retransmit_syn_retries_2);
	RUN(syn_sent_retransmit_no_linear_timeouts);
	RUN(syn_sent_retransmit_syncnt_3_no_linear);
	RUN(syn_sent_retransmit_syncnt_1);
	RUN(syn_sent_syncnt_out_of_range_einval);
	RUN(syn_sent_synack_valid_establishes);
	RUN(syn_sent_synack_ack_too_low_rst);
	RUN(syn_sent_synack_ack_too_high_rst);
	RUN(syn_sent_synack_ack_far_off_rst);
	RUN(syn_sent_synack_tsecr_too_old_rst);
	RUN(syn_sent_synack_tsecr_in_future_rst);
	RUN(syn_sent_synack_tsecr_now_accepted);
	RUN(syn_sent_synack_tsecr_zero_accepted);
	RUN(syn_sent_synack_echoing_first_syn_after_retransmit);
	RUN(syn_sent_rst_acceptable_econnrefused);
	RUN(syn_sent_rst_acceptable_so_error);
	RUN(syn_sent_rst_unacceptable_ack_ignored);
	RUN(syn_sent_rst_without_ack_ignored);
	RUN(syn_sent_ack_without_syn_dropped);
	RUN(syn_sent_fin_ack_without_syn_dropped);
	RUN(syn_sent_no_flags_dropped);
	RUN(syn_sent_synack_without_wscale);
	RUN(syn_sent_synack_without_timestamps);
	RUN(syn_sent_synack_without_options);
	RUN(syn_sent_synack_peer_mss_536);
	RUN(syn_sent_synack_quickack_off_delays_ack);
	RUN(syn_sent_synack_defer_accept_delays_ack);
	RUN(syn_sent_syn_simultaneous_open);
	RUN(syn_sent_syn_simultaneous_open_ack_has_dsack);
	RUN(syn_recv_simultaneous_ack_establishes);
	RUN(syn_recv_simultaneous_synack_retransmitted);
	RUN(syn_sent_icmp_port_unreach_econnrefused);
	RUN(syn_sent_icmp_host_unreach_ehostunreach);
	RUN(syn_sent_icmp_net_unreach_enetunreach);
	RUN(syn_sent_icmp_time_exceeded_ehostunreach);
	RUN(syn_sent_icmp_bad_seq_ignored);
	RUN(syn_sent_close_sends_nothing);
	return TEST_SUMMARY();
}
