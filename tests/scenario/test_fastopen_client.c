/* TCP Fast Open, the client side, as Linux's (spec 5.1): the cookie request
 * on a first SYN, the per-destination cache, TCP_FASTOPEN_CONNECT's deferred
 * connect, MSG_FASTOPEN, the SYN carrying data, the plain SYN that a timeout
 * resends, data the SYN-ACK leaves unacknowledged, the experimental option
 * fallback, the no-cookie mode (0x4) and blackhole detection.
 *
 * The stack is the client; the scripted peer plays the server at port 80. */
#include <arpa/inet.h>
#include <string.h>
#include "../test.h"
#include "harness.h"

#define RPORT SC_REMOTE_PORT
#define IRS SC_PEER_ISN
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif
#ifndef TCP_FASTOPEN_NO_COOKIE
#define TCP_FASTOPEN_NO_COOKIE 34
#endif

static const char REQ[] = "GET / HTTP/1.0\r\n\r\n";
#define RLEN (sizeof(REQ) - 1)
static const uint8_t COOKIE[8] = { 0xc0, 0x0c, 0x1e, 0x5a, 0x11, 0x22, 0x33, 0x44 };

/* The SYN's options up to WS, then the Fast Open option. */
#define SYN_BASE O_MSS(1460), O_SACKOK, O_TS(0, 0), O_NOP, O_WS(10)
#define OPT_REQ 34, 2, O_NOP, O_NOP
#define OPT_REQ_EXP 254, 4, 0xf9, 0x89
#define OPT_COOKIE 34, 10, 0xc0, 0x0c, 0x1e, 0x5a, 0x11, 0x22, 0x33, 0x44, O_NOP, O_NOP

static struct sockaddr_in peer_sin(void) { return sc_sin(SC_PEER, RPORT); }

static void seed_cookie(struct sc *sc, uint16_t mss)
{
	struct synack_tfo_cookie c = { .daddr.s_addr = sc->remote, .mss = mss, .len = 8 };

	memcpy(c.cookie, COOKIE, 8);
	CHECK_EQ(synack_tfo_cache_set(sc->st, &c), 0);
}

static int tfo_socket(struct sc *sc)
{
	int fd = sc_socket(sc);

	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1), 0);
	return fd;
}

enum synack_cookie { SA_NONE, SA_COOKIE, SA_COOKIE_EXP, SA_EMPTY };

/* The server's SYN-ACK acknowledging ack, echoing the SYN p's TSval. */
static void peer_synack(struct sc *sc, const struct sc_pkt *syn, uint32_t ack, enum synack_cookie ck)
{
	struct sc_seg s = { .sport = RPORT, .dport = syn->sport, .flags = F_SYN | F_ACK, .seq = IRS, .ack = ack,
			    .win = SC_PEER_WIN };
	const uint8_t base[] = { O_MSS(1460), O_SACKOK, O_TS(SC_PEER_TS, syn->tsval), O_NOP, O_WS(SC_PEER_WS) };
	const uint8_t cookie[] = { OPT_COOKIE }, cookie_exp[] = { 254, 12, 0xf9, 0x89, 0xc0, 0x0c, 0x1e, 0x5a,
								  0x11, 0x22, 0x33, 0x44 };
	const uint8_t empty[] = { OPT_REQ };

	memcpy(s.opt, base, sizeof(base));
	s.optlen = sizeof(base);
	s.has_opt = true;
	if (ck == SA_COOKIE)
		memcpy(s.opt + s.optlen, cookie, sizeof(cookie)), s.optlen += sizeof(cookie);
	else if (ck == SA_COOKIE_EXP)
		memcpy(s.opt + s.optlen, cookie_exp, sizeof(cookie_exp)), s.optlen += sizeof(cookie_exp);
	else if (ck == SA_EMPTY)
		memcpy(s.opt + s.optlen, empty, sizeof(empty)), s.optlen += sizeof(empty);
	sc_inject(sc, &s);
}

static struct sc *new_sc(void)
{
	struct sc *sc = sc_new(NULL);

	return sc;
}

/* With a cookie cached, a TCP_FASTOPEN_CONNECT socket connects and sends REQ:
 * returns the SYN carrying it (NULL, already counted as a failure, if none
 * went out), the socket in *fd. The data-in-SYN tests all start here. */
static const struct sc_pkt *syn_with_data(struct sc *sc, int *fd)
{
	struct sockaddr_in sin = peer_sin();

	seed_cookie(sc, 1460);
	*fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, *fd, &sin), 0);
	CHECK_EQ(synack_send(sc->st, *fd, REQ, RLEN, 0), (long)RLEN);
	sc_run(sc);
	return EXPECT(sc, .flags = F_SYN, .len = V(RLEN));
}

/* ------------------------------------------------------------ cookie request */

/* No cookie cached: connect() sends the SYN at once with an empty option. */
TEST(syn_sent_cookie_request)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	struct synack_tfo_cookie got;
	int fd = tfo_socket(sc);
	const struct sc_pkt *p;

	CHECK_EQ(synack_connect(sc->st, fd, &sin), -EINPROGRESS);
	sc_run(sc);
	p = EXPECT(sc, .flags = F_SYN, .len = V(0), OPT(SYN_BASE, OPT_REQ));
	if (!p)
		goto out;
	peer_synack(sc, p, p->seq + 1, SA_COOKIE);
	EXPECT(sc, .flags = F_ACK, .seq = V(p->seq + 1), .ack = V(IRS + 1), .len = V(0));
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	CHECK_EQ(synack_tfo_cache_get(sc->st, (struct in_addr){ sc->remote }, &got), 0);
	CHECK_EQ(got.len, 8);
	CHECK_EQ(got.mss, 1460);
	CHECK(memcmp(got.cookie, COOKIE, 8) == 0);
	CHECK_MIB(sc, "TcpExtTCPFastOpenActive", 0);
	{
		struct synack_tcp_info ti;
		unsigned int len = sizeof(ti);
		CHECK_EQ(synack_getsockopt(sc->st, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
		CHECK_EQ(ti.tcpi_fastopen_client_fail, 1); /* TFO_COOKIE_UNAVAILABLE */
	}
out:
	SC_FREE(sc);
}

/* A cookie learnt on one connection puts the next one's data in its SYN. */
TEST(syn_sent_second_connection_sends_data)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	int fd = tfo_socket(sc), fd2;
	const struct sc_pkt *p;

	CHECK_EQ(synack_connect(sc->st, fd, &sin), -EINPROGRESS);
	sc_run(sc);
	p = EXPECT(sc, .flags = F_SYN, OPT(SYN_BASE, OPT_REQ));
	if (!p)
		goto out;
	peer_synack(sc, p, p->seq + 1, SA_COOKIE);
	sc_drain(sc);
	fd2 = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd2, &sin), 0);
	sc_run(sc);
	EXPECT_NONE(sc);
	CHECK_EQ(synack_send(sc->st, fd2, REQ, RLEN, 0), (long)RLEN);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .len = V(RLEN), .data = REQ, OPT(SYN_BASE, OPT_COOKIE));
out:
	SC_FREE(sc);
}

/* ------------------------------------------------------------ data in the SYN */

/* TCP_FASTOPEN_CONNECT with a cookie: connect() returns 0 and sends
 * nothing, the socket polls writable, and the first send carries the SYN
 * with the data and the cookie. The SYN-ACK acknowledging it all counts
 * TCPFastOpenActive. */
TEST(syn_sent_deferred_connect_data_acked)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	int fd;
	const struct sc_pkt *p;
	uint32_t iss;

	seed_cookie(sc, 1460);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), 0);
	sc_run(sc);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, fd, TCP_SYN_SENT);
	CHECK(synack_poll(sc->st, fd) & POLLOUT);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), -EISCONN);
	CHECK_EQ(synack_send(sc->st, fd, REQ, RLEN, 0), (long)RLEN);
	sc_run(sc);
	p = EXPECT(sc, .flags = F_SYN, .ack = V(0), .len = V(RLEN), .data = REQ, OPT(SYN_BASE, OPT_COOKIE));
	if (!p)
		goto out;
	iss = p->seq;
	CHECK_EQ(synack_send(sc->st, fd, REQ, RLEN, 0), -EAGAIN);
	peer_synack(sc, p, iss + 1 + RLEN, SA_NONE);
	EXPECT(sc, .flags = F_ACK, .seq = V(iss + 1 + RLEN), .ack = V(IRS + 1), .len = V(0));
	EXPECT_NONE(sc);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	CHECK_MIB(sc, "TcpExtTCPFastOpenActive", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenActiveFail", 0);
	CHECK_MIB(sc, "TcpExtTCPOrigDataSent", 1);
	/* Nothing is left to resend. */
	sc_advance(sc, SEC(10));
	EXPECT_NONE(sc);
out:
	SC_FREE(sc);
}

/* The SYN's data is what fits: the cached MSS less 40 bytes of option room. */
TEST(syn_sent_data_limited_by_cached_mss)
{
	struct sc *sc = new_sc();
	static char big[3000];
	int fd;

	memset(big, 'x', sizeof(big));
	seed_cookie(sc, 1000);
	fd = tfo_socket(sc);
	{
		struct sockaddr_in sin = peer_sin();
		CHECK_EQ(synack_connect(sc->st, fd, &sin), 0);
	}
	CHECK_EQ(synack_send(sc->st, fd, big, sizeof(big), 0), 960);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .len = V(960), OPT(SYN_BASE, OPT_COOKIE));
	SC_FREE(sc);
}

/* The SYN-ACK acknowledges only the SYN: the data goes again at once, as
 * a plain segment that also carries the handshake's ACK. */
TEST(syn_sent_synack_acks_syn_only)
{
	struct sc *sc = new_sc();
	struct synack_tcp_info ti;
	unsigned int len = sizeof(ti);
	const struct sc_pkt *p;
	uint32_t iss;
	int fd;

	p = syn_with_data(sc, &fd);
	if (!p)
		goto out;
	iss = p->seq;
	peer_synack(sc, p, iss + 1, SA_COOKIE);
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(iss + 1), .ack = V(IRS + 1), .len = V(RLEN), .data = REQ);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpExtTCPFastOpenActiveFail", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenActive", 0);
	CHECK_EQ(synack_getsockopt(sc->st, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	CHECK_EQ(ti.tcpi_fastopen_client_fail, 2); /* TFO_DATA_NOT_ACKED */
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	{
		struct sc_seg a = { .sport = RPORT, .dport = p->sport, .flags = F_ACK, .seq = IRS + 1,
				    .ack = iss + 1 + RLEN, .win = 229 };
		sc_inject(sc, &a);
		sc_advance(sc, SEC(5));
		EXPECT_NONE(sc);
	}
out:
	SC_FREE(sc);
}

/* Part of the data acknowledged: only the rest is resent. */
TEST(syn_sent_synack_acks_part_of_data)
{
	struct sc *sc = new_sc();
	const struct sc_pkt *p;
	uint32_t iss;
	int fd;

	p = syn_with_data(sc, &fd);
	if (!p)
		goto out;
	iss = p->seq;
	peer_synack(sc, p, iss + 1 + 5, SA_NONE);
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(iss + 1 + 5), .ack = V(IRS + 1), .len = V(RLEN - 5),
	       .data = REQ + 5);
	CHECK_MIB(sc, "TcpExtTCPFastOpenActiveFail", 1);
out:
	SC_FREE(sc);
}

/* The SYN with data times out: the retransmission is the plain SYN, with
 * neither data nor the Fast Open option; the data follows the handshake. */
TEST(syn_sent_timeout_resends_plain_syn)
{
	struct sc *sc = new_sc();
	struct synack_tcp_info ti;
	unsigned int len = sizeof(ti);
	const struct sc_pkt *p;
	uint32_t iss;
	int fd;

	p = syn_with_data(sc, &fd);
	if (!p)
		goto out;
	iss = p->seq;
	sc_advance(sc, SEC(1));
	p = EXPECT(sc, .flags = F_SYN, .seq = V(iss), .len = V(0), OPT(O_MSS(1460), O_SACKOK, O_TS(0, 0), O_NOP,
									   O_WS(10)));
	if (!p)
		goto out;
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 1);
	peer_synack(sc, p, iss + 1, SA_NONE);
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(iss + 1), .ack = V(IRS + 1), .len = V(RLEN), .data = REQ);
	CHECK_EQ(synack_getsockopt(sc->st, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	CHECK_EQ(ti.tcpi_fastopen_client_fail, 3); /* TFO_SYN_RETRANSMITTED */
	CHECK_MIB(sc, "TcpExtTCPFastOpenActiveFail", 1);
out:
	SC_FREE(sc);
}

/* After several SYN timeouts (the first ones linear, net.ipv4.tcp_syn_linear_timeouts),
 * a SYN-ACK for the plain SYN still sends the data at once, with the
 * handshake's ACK, however many timeouts came before. */
static void synack_after_timeouts(int timeouts)
{
	struct sc *sc = new_sc();
	const struct sc_pkt *p;
	uint32_t iss;
	int fd;

	p = syn_with_data(sc, &fd);
	if (!p)
		goto out;
	iss = p->seq;
	for (int i = 0; i < timeouts; i++) {
		sc_advance(sc, SEC(1));
		p = EXPECT(sc, .flags = F_SYN, .seq = V(iss), .len = V(0));
		if (!p)
			goto out;
	}
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", (uint64_t)timeouts);
	peer_synack(sc, p, iss + 1, SA_NONE);
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(iss + 1), .ack = V(IRS + 1), .len = V(RLEN), .data = REQ);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
out:
	SC_FREE(sc);
}

TEST(syn_sent_synack_after_two_timeouts_resends_data)
{
	synack_after_timeouts(2);
}

TEST(syn_sent_synack_after_three_timeouts_resends_data)
{
	synack_after_timeouts(3);
}

TEST(syn_sent_synack_after_four_timeouts_resends_data)
{
	synack_after_timeouts(4);
}

/* ------------------------------------------------------------ MSG_FASTOPEN */

TEST(sendto_msg_fastopen_with_cookie)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	const struct sc_pkt *p;
	int fd = sc_socket(sc);

	seed_cookie(sc, 1460);
	CHECK_EQ(synack_sendto(sc->st, fd, REQ, RLEN, MSG_FASTOPEN, &sin), (long)RLEN);
	sc_run(sc);
	p = EXPECT(sc, .flags = F_SYN, .len = V(RLEN), .data = REQ, OPT(SYN_BASE, OPT_COOKIE));
	CHECK_STATE(sc, fd, TCP_SYN_SENT);
	/* Only one Fast Open at a time; connect() now is already under way. */
	CHECK_EQ(synack_connect(sc->st, fd, &sin), -EALREADY);
	if (p) {
		peer_synack(sc, p, p->seq + 1 + RLEN, SA_NONE);
		EXPECT(sc, .flags = F_ACK, .seq = V(p->seq + 1 + RLEN), .len = V(0));
	}
	CHECK_MIB(sc, "TcpExtTCPFastOpenActive", 1);
	SC_FREE(sc);
}

/* No cookie: the SYN asks for one and carries nothing; the caller is told
 * -EINPROGRESS and sends again once connected. */
TEST(sendto_msg_fastopen_without_cookie)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	int fd = sc_socket(sc);

	CHECK_EQ(synack_sendto(sc->st, fd, REQ, RLEN, MSG_FASTOPEN, &sin), -EINPROGRESS);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .len = V(0), OPT(SYN_BASE, OPT_REQ));
	CHECK_EQ(synack_sendto(sc->st, fd, REQ, RLEN, MSG_FASTOPEN, NULL), -EALREADY);
	SC_FREE(sc);
}

TEST(fastopen_client_disabled)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	int fd = sc_socket(sc);

	sc_sysctl(sc, "net.ipv4.tcp_fastopen", 2);
	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1), -EOPNOTSUPP);
	CHECK_EQ(synack_sendto(sc->st, fd, REQ, RLEN, MSG_FASTOPEN, &sin), -EOPNOTSUPP);
	sc_run(sc);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* Without an address an unconnected socket has nowhere to go. */
TEST(sendto_msg_fastopen_no_address)
{
	struct sc *sc = new_sc();
	int fd = sc_socket(sc);

	CHECK_EQ(synack_sendto(sc->st, fd, REQ, RLEN, MSG_FASTOPEN, NULL), -EINVAL);
	sc_run(sc);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* ------------------------------------------------------------ option forms */

/* A request answered with no cookie: the next request uses the
 * experimental option; unanswered again, back to kind 34. */
TEST(syn_sent_no_cookie_tries_exp_option)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	const struct sc_pkt *p;
	int fd;

	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), -EINPROGRESS);
	sc_run(sc);
	p = EXPECT(sc, .flags = F_SYN, OPT(SYN_BASE, OPT_REQ));
	if (!p)
		goto out;
	peer_synack(sc, p, p->seq + 1, SA_NONE);
	sc_drain(sc);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), -EINPROGRESS);
	sc_run(sc);
	p = EXPECT(sc, .flags = F_SYN, OPT(SYN_BASE, OPT_REQ_EXP));
	if (!p)
		goto out;
	peer_synack(sc, p, p->seq + 1, SA_NONE);
	sc_drain(sc);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), -EINPROGRESS);
	sc_run(sc);
	p = EXPECT(sc, .flags = F_SYN, OPT(SYN_BASE, OPT_REQ));
	if (!p)
		goto out;
	/* A cookie in the experimental form is kept and used in that form. */
	peer_synack(sc, p, p->seq + 1, SA_COOKIE_EXP);
	sc_drain(sc);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), 0);
	CHECK_EQ(synack_send(sc->st, fd, REQ, RLEN, 0), (long)RLEN);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .len = V(RLEN),
	       OPT(SYN_BASE, 254, 12, 0xf9, 0x89, 0xc0, 0x0c, 0x1e, 0x5a, 0x11, 0x22, 0x33, 0x44));
out:
	SC_FREE(sc);
}

/* A cookie the client never asked for is ignored. */
TEST(syn_sent_unsolicited_cookie_ignored)
{
	struct sc *sc = new_sc();
	struct sc_conn c;
	struct synack_tfo_cookie got;

	if (OPEN_ACTIVE(sc, &c, RPORT)) {
		peer_synack(sc, &c.syn, c.iss + 1, SA_COOKIE);
		EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1));
	}
	CHECK_EQ(synack_tfo_cache_get(sc->st, (struct in_addr){ sc->remote }, &got), -ENOENT);
	SC_FREE(sc);
}

/* 0x4: data in the SYN with no cookie at all, and no option. */
TEST(syn_sent_no_cookie_mode)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	int fd;

	sc_sysctl(sc, "net.ipv4.tcp_fastopen", 0x5);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), 0);
	CHECK_EQ(synack_send(sc->st, fd, REQ, RLEN, 0), (long)RLEN);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .len = V(RLEN), OPT(SYN_BASE));
	SC_FREE(sc);
}

/* TCP_FASTOPEN_NO_COOKIE does the same for one socket. */
TEST(syn_sent_no_cookie_sockopt)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	int fd = tfo_socket(sc);

	CHECK_EQ(sc_setsockopt_int(sc, fd, IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 1), 0);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), 0);
	CHECK_EQ(synack_send(sc->st, fd, REQ, RLEN, 0), (long)RLEN);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .len = V(RLEN), OPT(SYN_BASE));
	SC_FREE(sc);
}

/* ------------------------------------------------------------ blackhole */

/* Three timeouts on a Fast Open connection pause active Fast Open for
 * the blackhole timeout: the next connection neither sends data in its SYN
 * nor asks for a cookie; after the pause it does again. */
TEST(syn_sent_blackhole_pauses_fastopen)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	int fd;

	sc_sysctl(sc, "net.ipv4.tcp_fastopen_blackhole_timeout_sec", 3600);
	seed_cookie(sc, 1460);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), 0);
	CHECK_EQ(synack_send(sc->st, fd, REQ, RLEN, 0), (long)RLEN);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .len = V(RLEN));
	sc_advance(sc, SEC(1) + SEC(1) + SEC(1) + 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenBlackhole", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenActiveFail", 1);
	synack_close(sc->st, fd);
	sc_drain(sc);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), -EINPROGRESS);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .len = V(0), OPT(SYN_BASE));
	synack_close(sc->st, fd);
	sc_drain(sc);
	sc_advance(sc, SEC(3600));
	sc_drain(sc);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), 0);
	CHECK_EQ(synack_send(sc->st, fd, REQ, RLEN, 0), (long)RLEN);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .len = V(RLEN), OPT(SYN_BASE, OPT_COOKIE));
	SC_FREE(sc);
}

/* The blackhole timeout is 0 by default: timeouts count a failure only. */
TEST(syn_sent_timeouts_without_blackhole_timeout)
{
	struct sc *sc = new_sc();
	struct sockaddr_in sin = peer_sin();
	int fd;

	seed_cookie(sc, 1460);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), 0);
	CHECK_EQ(synack_send(sc->st, fd, REQ, RLEN, 0), (long)RLEN);
	sc_advance(sc, SEC(3) + 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenBlackhole", 0);
	CHECK_MIB(sc, "TcpExtTCPFastOpenActiveFail", 1);
	sc_drain(sc);
	synack_close(sc->st, fd);
	fd = tfo_socket(sc);
	CHECK_EQ(synack_connect(sc->st, fd, &sin), 0);
	SC_FREE(sc);
}

/* ------------------------------------------------------------ the cache API */

TEST(tfo_cache_api_rejects_bad_input)
{
	struct sc *sc = new_sc();
	struct synack_tfo_cookie c = { .daddr.s_addr = sc->remote, .len = 3 };

	CHECK_EQ(synack_tfo_cache_set(sc->st, &c), -EINVAL);
	c.len = 18;
	CHECK_EQ(synack_tfo_cache_set(sc->st, &c), -EINVAL);
	c.len = 8;
	c.daddr.s_addr = 0;
	CHECK_EQ(synack_tfo_cache_set(sc->st, &c), -EINVAL);
	CHECK_EQ(synack_tfo_cache_set(NULL, &c), -EINVAL);
	CHECK_EQ(synack_tfo_cache_get(sc->st, (struct in_addr){ sc->remote }, NULL), -EINVAL);
	CHECK_EQ(synack_tfo_cache_get(sc->st, (struct in_addr){ sc->remote }, &c), -ENOENT);
	SC_FREE(sc);
}

/* Many destinations: the cache stays bounded and keeps the recent ones. */
TEST(tfo_cache_bounded)
{
	struct sc *sc = new_sc();
	struct synack_tfo_cookie c = { .len = 8 }, got;
	int found = 0;

	for (uint32_t i = 1; i <= 5000; i++) {
		c.daddr.s_addr = htonl(0x0a000000u + i);
		c.cookie[0] = (uint8_t)i;
		CHECK_EQ(synack_tfo_cache_set(sc->st, &c), 0);
	}
	for (uint32_t i = 1; i <= 5000; i++)
		found += synack_tfo_cache_get(sc->st, (struct in_addr){ htonl(0x0a000000u + i) }, &got) == 0;
	CHECK(found > 0 && found <= 256);
	CHECK_EQ(synack_tfo_cache_get(sc->st, (struct in_addr){ htonl(0x0a000000u + 5000) }, &got), 0);
	CHECK_EQ(got.cookie[0], (uint8_t)5000);
	SC_FREE(sc);
}

int main(void)
{
	RUN(syn_sent_cookie_request);
	RUN(syn_sent_second_connection_sends_data);
	RUN(syn_sent_deferred_connect_data_acked);
	RUN(syn_sent_data_limited_by_cached_mss);
	RUN(syn_sent_synack_acks_syn_only);
	RUN(syn_sent_synack_acks_part_of_data);
	RUN(syn_sent_timeout_resends_plain_syn);
	RUN(syn_sent_synack_after_two_timeouts_resends_data);
	RUN(syn_sent_synack_after_three_timeouts_resends_data);
	RUN(syn_sent_synack_after_four_timeouts_resends_data);
	RUN(sendto_msg_fastopen_with_cookie);
	RUN(sendto_msg_fastopen_without_cookie);
	RUN(fastopen_client_disabled);
	RUN(sendto_msg_fastopen_no_address);
	RUN(syn_sent_no_cookie_tries_exp_option);
	RUN(syn_sent_unsolicited_cookie_ignored);
	RUN(syn_sent_no_cookie_mode);
	RUN(syn_sent_no_cookie_sockopt);
	RUN(syn_sent_blackhole_pauses_fastopen);
	RUN(syn_sent_timeouts_without_blackhole_timeout);
	RUN(tfo_cache_api_rejects_bad_input);
	RUN(tfo_cache_bounded);
	return TEST_SUMMARY();
}
