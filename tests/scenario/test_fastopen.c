/* TCP Fast Open, the server side, as Linux's tcp_try_fastopen (spec 5.2):
 * sysctl bits 0x2 / 0x200 / 0x400, TCP_FASTOPEN's queue length, the cookie
 * (8 bytes of SipHash over saddr||daddr, kind 34 with NOP padding, or the
 * experimental 254 form), the child created at the SYN (SYN_RECV, in the
 * accept queue, the SYN's data readable, the SYN-ACK acknowledging it), its
 * SYN-ACK retransmission timer, the third ACK, RSTs and the RST list.
 *
 * The harness stack is seeded (seed 1): the test derives the same secrets
 * and recomputes the cookie. */
#include <arpa/inet.h>
#include <string.h>
#include "../test.h"
#include "harness.h"
#include "core/siphash.h"

#define PORT SC_SERVER_PORT
#define ISN SC_PEER_ISN
#define PEER_TS 1000u
#define ACK_WIN (SC_PEER_WIN >> SC_PEER_WS)
#ifndef TCP_FASTOPEN
#define TCP_FASTOPEN 23
#endif

static const char DATA[] = "hello, fast open";
#define DLEN (sizeof(DATA) - 1)

/* The cookie for the peer's SYNs: SipHash(saddr||daddr), little-endian. */
static void cookie_of(const struct sc *sc, uint8_t out[8])
{
	struct stack_secrets k;
	struct prng rng;
	uint8_t addrs[8];
	uint64_t h;

	secrets_init_seeded(&k, &rng, 1);
	memcpy(addrs, &sc->remote, 4);
	memcpy(addrs + 4, &sc->local, 4);
	h = siphash(addrs, 8, &k.fastopen_key);
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(h >> (8 * i));
}

enum cookie_kind { C_NONE, C_REQ, C_VALID, C_BAD, C_REQ_EXP, C_VALID_EXP };

/* The peer's SYN from sport: MSS, SACK+TS, WS, then the Fast Open option
 * (C_VALID: cookie bytes c0). */
static void send_syn_c(struct sc *sc, uint16_t sport, enum cookie_kind ck, const uint8_t c0[8], const void *data,
		       size_t len)
{
	struct sc_seg s = { .sport = sport, .dport = PORT, .flags = F_SYN, .seq = ISN, .win = SC_PEER_WIN };
	const uint8_t base[] = { O_MSS(1460), O_SACKOK, O_TS(PEER_TS, 0), O_NOP, O_WS(SC_PEER_WS) };
	uint8_t c[8];

	memcpy(s.opt, base, sizeof(base));
	s.optlen = sizeof(base);
	s.has_opt = true;
	memcpy(c, c0, 8);
	if (ck == C_BAD)
		c[0] ^= 0xff;
	switch (ck) {
	case C_NONE:
		break;
	case C_REQ:
		memcpy(s.opt + s.optlen, (uint8_t[]){ 34, 2, O_NOP, O_NOP }, 4);
		s.optlen += 4;
		break;
	case C_REQ_EXP:
		memcpy(s.opt + s.optlen, (uint8_t[]){ 254, 4, 0xf9, 0x89 }, 4);
		s.optlen += 4;
		break;
	case C_VALID:
	case C_BAD:
		s.opt[s.optlen++] = 34;
		s.opt[s.optlen++] = 10;
		memcpy(s.opt + s.optlen, c, 8);
		s.optlen += 8;
		s.opt[s.optlen++] = O_NOP;
		s.opt[s.optlen++] = O_NOP;
		break;
	case C_VALID_EXP:
		memcpy(s.opt + s.optlen, (uint8_t[]){ 254, 12, 0xf9, 0x89 }, 4);
		s.optlen += 4;
		memcpy(s.opt + s.optlen, c, 8);
		s.optlen += 8;
		break;
	}
	s.data = data;
	s.len = len;
	sc_inject(sc, &s);
}

static void send_syn(struct sc *sc, uint16_t sport, enum cookie_kind ck, const void *data, size_t len)
{
	uint8_t c[8];

	cookie_of(sc, c);
	send_syn_c(sc, sport, ck, c, data, len);
}

/* The SYN-ACK: acking ack_delta past the ISN, with a cookie option (ck:
 * C_NONE, C_VALID, C_VALID_EXP; c0: the cookie, NULL for the seeded key's). */
static const struct sc_pkt *expect_synack_c(struct sc *sc, uint16_t sport, uint32_t ack_delta, enum cookie_kind ck,
					    const uint8_t *c0, const char *file, int line)
{
	struct sc_want w = { .flags = F_SYN | F_ACK, .ack = V(ISN + 1 + ack_delta), .win = V(65160), .sport = V(PORT),
			     .dport = V(sport), .len = V(0), .has_opt = true };
	const uint8_t base[] = { O_MSS(1460), O_SACKOK, O_TS(0, PEER_TS), O_NOP, O_WS(10) };
	uint8_t c[8];

	if (c0)
		memcpy(c, c0, 8);
	else
		cookie_of(sc, c);
	memcpy(w.opt, base, sizeof(base));
	w.optlen = sizeof(base);
	if (ck == C_VALID) {
		w.opt[w.optlen++] = 34;
		w.opt[w.optlen++] = 10;
		memcpy(w.opt + w.optlen, c, 8);
		w.optlen += 8;
		w.opt[w.optlen++] = O_NOP;
		w.opt[w.optlen++] = O_NOP;
	} else if (ck == C_VALID_EXP) {
		memcpy(w.opt + w.optlen, (uint8_t[]){ 254, 12, 0xf9, 0x89 }, 4);
		w.optlen += 4;
		memcpy(w.opt + w.optlen, c, 8);
		w.optlen += 8;
	}
	return sc_expect_(sc, &w, file, line);
}
#define EXPECT_SYNACK_C(sc, sport, delta, ck, c) ({                                       \
	const struct sc_pkt *_q = expect_synack_c((sc), (sport), (delta), (ck), (c), __FILE__, __LINE__); \
	if (!_q)                                                                          \
		test_failed_checks++;                                                     \
	_q;                                                                               \
})
#define EXPECT_SYNACK(sc, sport, delta, ck) ({                                           \
	const struct sc_pkt *_q = expect_synack_c((sc), (sport), (delta), (ck), NULL, __FILE__, __LINE__); \
	if (!_q)                                                                          \
		test_failed_checks++;                                                     \
	_q;                                                                               \
})

/* The third ACK for SYN-ACK p (acking its SYN), TS echoing it. */
static void send_third_ack(struct sc *sc, const struct sc_pkt *p, uint8_t flags)
{
	struct sc_seg s = { .sport = p->dport, .dport = p->sport, .flags = flags, .seq = p->ack, .ack = p->seq + 1,
			    .win = ACK_WIN };

	sc_seg_ts(&s, PEER_TS + 1, p->tsval);
	sc_inject(sc, &s);
}

/* A listener with TFO on (sysctl value tfo, TCP_FASTOPEN qlen unless < 0). */
static int tfo_listener(struct sc *sc, long tfo, int qlen)
{
	int l;

	sc_sysctl(sc, "net.ipv4.tcp_fastopen", tfo);
	l = sc_listen(sc, PORT, 128);
	if (l >= 0 && qlen >= 0)
		CHECK_EQ(sc_setsockopt_int(sc, l, IPPROTO_TCP, TCP_FASTOPEN, qlen), 0);
	return l;
}

static int getsockopt_int(struct sc *sc, int fd, int name)
{
	int v = -1;
	unsigned int len = sizeof(v);

	CHECK_EQ(synack_getsockopt(sc->st, fd, IPPROTO_TCP, name, &v, &len), 0);
	return v;
}

/* ------------------------------------------------------------ cookies */

/* An empty cookie option asks for a cookie: a normal handshake whose
 * SYN-ACK carries it (kind 34, len 10, two NOPs). */
TEST(cookie_request_gets_cookie)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16);

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_REQ, NULL, 0);
	EXPECT_SYNACK(sc, SC_PEER_PORT, 0, C_VALID);
	CHECK_MIB(sc, "TcpExtTCPFastOpenCookieReqd", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 0);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	/* Retransmissions never carry the cookie. */
	sc_advance(sc, SEC(1));
	EXPECT_SYNACK(sc, SC_PEER_PORT, 0, C_NONE);
	SC_FREE(sc);
}

/* The experimental option (254, magic 0xF989) is answered in kind. */
TEST(cookie_request_exp_option_answered_in_kind)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16);

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_REQ_EXP, NULL, 0);
	EXPECT_SYNACK(sc, SC_PEER_PORT, 0, C_VALID_EXP);
	CHECK_MIB(sc, "TcpExtTCPFastOpenCookieReqd", 1);
	SC_FREE(sc);
}

/* The default sysctl (0x1, client only): no cookie, but the request still
 * counts (Linux counts before it checks). */
TEST(server_off_by_default)
{
	struct sc *sc = sc_new(NULL);
	int l = sc_listen(sc, PORT, 128);

	REQUIRE(l >= 0);
	CHECK_EQ(sc_setsockopt_int(sc, l, IPPROTO_TCP, TCP_FASTOPEN, 16), 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT, 0, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 0);
	send_syn(sc, SC_PEER_PORT + 1, C_REQ, NULL, 0);
	EXPECT_SYNACK(sc, SC_PEER_PORT + 1, 0, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenCookieReqd", 1);
	SC_FREE(sc);
}

/* 0x2 without TCP_FASTOPEN (max_qlen 0): nothing. */
TEST(no_sockopt_no_fastopen)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, -1);

	REQUIRE(l >= 0);
	CHECK_EQ(getsockopt_int(sc, l, TCP_FASTOPEN), 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT, 0, C_NONE);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 0);
	SC_FREE(sc);
}

/* ------------------------------------------------------------ the child */

/* A valid cookie with data: the child exists at once (SYN_RECV, accepted
 * before the third ACK, data readable); the SYN-ACK acknowledges the data
 * and carries no cookie. The third ACK makes it ESTABLISHED. */
TEST(valid_cookie_with_data_creates_child)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16), fd;
	const struct sc_pkt *p;
	struct sc_pkt a;
	char buf[64];

	REQUIRE(l >= 0);
	CHECK_EQ(getsockopt_int(sc, l, TCP_FASTOPEN), 16);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassiveFail", 0);
	CHECK_MIB(sc, "TcpPassiveOpens", 1);
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	CHECK_STATE(sc, fd, TCP_SYN_RECV);
	CHECK_EQ(synack_recv(sc->st, fd, buf, sizeof(buf), 0), (long)DLEN);
	CHECK_MEM(buf, DATA, DLEN);

	sc_advance(sc, MS(50));
	send_third_ack(sc, &a, F_ACK);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	/* No SYN-ACK retransmission follows. */
	sc_advance(sc, SEC(5));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* A valid cookie without data also creates the child. */
TEST(valid_cookie_without_data_creates_child)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16), fd;

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID_EXP, NULL, 0);
	EXPECT_SYNACK(sc, SC_PEER_PORT, 0, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 1);
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	CHECK_STATE(sc, fd, TCP_SYN_RECV);
	SC_FREE(sc);
}

/* An invalid cookie: a normal handshake; the SYN-ACK acks only the ISN and
 * carries a fresh cookie; the data is not kept. */
TEST(invalid_cookie_normal_handshake_fresh_cookie)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16);

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_BAD, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT, 0, C_VALID);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassiveFail", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 0);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	SC_FREE(sc);
}

/* 0x200: data without a cookie opens at once. */
TEST(no_cookie_mode_data_creates_child)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x203, 16), fd;
	char buf[64];

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_NONE, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 1);
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	CHECK_EQ(synack_recv(sc->st, fd, buf, sizeof(buf), 0), (long)DLEN);
	/* A SYN without data or cookie option is a normal one. */
	send_syn(sc, SC_PEER_PORT + 1, C_NONE, NULL, 0);
	EXPECT_SYNACK(sc, SC_PEER_PORT + 1, 0, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 1);
	SC_FREE(sc);
}

/* 0x400|0x2: every listener, max_qlen = the backlog. */
TEST(all_listeners_without_sockopt)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x403, -1);

	REQUIRE(l >= 0);
	CHECK_EQ(getsockopt_int(sc, l, TCP_FASTOPEN), 128);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 1);
	SC_FREE(sc);
}

/* A SYN cookie SYN-ACK never touches Fast Open: no child, no cookie. */
TEST(syncookie_syn_not_fastopen)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16);

	REQUIRE(l >= 0);
	sc_sysctl(sc, "net.ipv4.tcp_syncookies", 2);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	EXPECT(sc, .flags = F_SYN | F_ACK, .ack = V(ISN + 1),
	       OPT(O_MSS(1460), O_SACKOK, O_TS(0, PEER_TS), O_NOP, O_WS(10)));
	CHECK_MIB(sc, "TcpExtSyncookiesSent", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 0);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	SC_FREE(sc);
}

/* ------------------------------------------------- max_qlen, RST list */

/* max_qlen 1: a second TFO SYN while the first child is in its handshake
 * overflows (no cookie in its SYN-ACK, a normal request). */
TEST(max_qlen_overflow)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 1);
	const struct sc_pkt *p;
	struct sc_pkt a;

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	send_syn(sc, SC_PEER_PORT + 1, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT + 1, 0, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenListenOverflow", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 1);
	/* The third ACK frees the slot. */
	send_third_ack(sc, &a, F_ACK);
	send_syn(sc, SC_PEER_PORT + 2, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT + 2, DLEN, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 2);
	SC_FREE(sc);
}

/* A RST ends an accepted child's handshake: its request is held 60 s on
 * the RST list, still counted, so max_qlen 1 overflows until then. */
TEST(rst_list_holds_slot_60s)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 1), fd;
	const struct sc_pkt *p;
	struct sc_pkt a;

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	send_third_ack(sc, &a, F_RST);
	CHECK_STATE(sc, fd, TCP_CLOSE);
	CHECK_EQ(sc_so_error(sc, fd), ECONNRESET);
	EXPECT_NONE(sc);
	sc_advance(sc, SEC(30));
	send_syn(sc, SC_PEER_PORT + 1, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT + 1, 0, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenListenOverflow", 1);
	sc_drain(sc);
	sc_advance(sc, SEC(31));
	sc_drain(sc);
	send_syn(sc, SC_PEER_PORT + 2, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT + 2, DLEN, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 2);
	synack_close(sc->st, fd);
	SC_FREE(sc);
}

/* A RST before accept: the request is simply freed (no hold). */
TEST(rst_before_accept_no_hold)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 1);
	const struct sc_pkt *p;
	struct sc_pkt a;

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	send_third_ack(sc, &a, F_RST);
	send_syn(sc, SC_PEER_PORT + 1, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT + 1, DLEN, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenListenOverflow", 0);
	SC_FREE(sc);
}

/* ---------------------------------------------------- retransmission */

/* The child's timer resends the SYN-ACK (acking the data, no cookie) with
 * backoff, synack_retries + 1 times, then the child times out. */
TEST(child_synack_retransmits_then_times_out)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16), fd;
	const struct sc_pkt *p;
	uint64_t t0;

	REQUIRE(l >= 0);
	sc_sysctl(sc, "net.ipv4.tcp_synack_retries", 2);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	t0 = p->t;
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	sc_run_until(sc, t0 + SEC(1));
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	if (p)
		CHECK_EQ(p->t, t0 + SEC(1));
	sc_run_until(sc, t0 + SEC(3));
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	if (p)
		CHECK_EQ(p->t, t0 + SEC(3));
	sc_run_until(sc, t0 + SEC(7));
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	if (p)
		CHECK_EQ(p->t, t0 + SEC(7));
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 3);
	CHECK_STATE(sc, fd, TCP_SYN_RECV);
	sc_run_until(sc, t0 + SEC(15));
	EXPECT_NONE(sc);
	CHECK_STATE(sc, fd, TCP_CLOSE);
	CHECK_EQ(sc_so_error(sc, fd), ETIMEDOUT);
	synack_close(sc->st, fd);
	SC_FREE(sc);
}

/* A retransmitted SYN (same ISN) gets the SYN-ACK again at once. */
TEST(retransmitted_syn_resends_synack)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16);

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	sc_advance(sc, MS(600));
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPSynRetrans", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 1);
	SC_FREE(sc);
}

/* The listener closes with an accepted child still in its handshake: the
 * child lives on and its handshake completes. */
TEST(listener_closed_child_survives)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16), fd;
	const struct sc_pkt *p;
	struct sc_pkt a;

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	synack_close(sc->st, l);
	send_third_ack(sc, &a, F_ACK);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

/* The third ACK may carry more data; the child then talks normally. */
TEST(third_ack_with_data_then_reply)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16), fd;
	const struct sc_pkt *p;
	struct sc_pkt a;
	struct sc_seg s;
	char buf[64];

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	s = (struct sc_seg){ .sport = SC_PEER_PORT, .dport = PORT, .flags = F_ACK | F_PSH, .seq = a.ack,
			     .ack = a.seq + 1, .win = ACK_WIN, .data = "more", .len = 4 };
	sc_seg_ts(&s, PEER_TS + 1, a.tsval);
	sc_inject(sc, &s);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	CHECK_EQ(synack_recv(sc->st, fd, buf, sizeof(buf), 0), (long)(DLEN + 4));
	CHECK_MEM(buf + DLEN, "more", 4);
	sc_drain(sc);
	CHECK_EQ(synack_send(sc->st, fd, "reply", 5, 0), 5);
	sc_run(sc);
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(a.seq + 1), .ack = V(ISN + 1 + DLEN + 4), .len = V(5));
	SC_FREE(sc);
}

/* close() before the third ACK (FIN_WAIT1): the third ACK still ends the
 * request; the stack frees everything. */
TEST(close_before_third_ack)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 1), fd;
	const struct sc_pkt *p;
	struct sc_pkt a;
	struct sc_seg s;
	char buf[64];

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	CHECK_EQ(synack_recv(sc->st, fd, buf, sizeof(buf), 0), (long)DLEN);
	synack_close(sc->st, fd);
	sc_run(sc);
	EXPECT(sc, .flags = F_FIN | F_ACK, .seq = V(a.seq + 1), .ack = V(ISN + 1 + DLEN));
	/* Until the third ACK the timer resends only the SYN-ACK. */
	sc_run_until(sc, a.t + SEC(1));
	EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	EXPECT_NONE(sc);
	s = (struct sc_seg){ .sport = SC_PEER_PORT, .dport = PORT, .flags = F_ACK, .seq = a.ack, .ack = a.seq + 2,
			     .win = ACK_WIN };
	sc_seg_ts(&s, PEER_TS + 1, a.tsval);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	/* The slot is free again. */
	send_syn(sc, SC_PEER_PORT + 1, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT + 1, DLEN, C_NONE);
	CHECK_MIB(sc, "TcpExtTCPFastOpenListenOverflow", 0);
	SC_FREE(sc);
}

/* The listener closes with the child still unaccepted: it is reset and
 * freed with its request. */
TEST(listener_closed_unaccepted_child_reset)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16);

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	synack_close(sc->st, l);
	sc_run(sc);
	EXPECT(sc, .flags = F_RST | F_ACK, .ack = V(ISN + 1 + DLEN));
	sc_advance(sc, SEC(10));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* After two SYN-ACK timeouts (the second enters loss) the third ACK still
 * completes the handshake and the child can send. */
TEST(third_ack_after_synack_timeouts)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16), fd;
	const struct sc_pkt *p;
	struct sc_pkt a;
	uint64_t t0;

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	t0 = p->t;
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	sc_run_until(sc, t0 + SEC(3));
	EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	send_third_ack(sc, &a, F_ACK);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	CHECK_EQ(synack_send(sc->st, fd, "reply", 5, 0), 5);
	sc_run(sc);
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(a.seq + 1), .ack = V(ISN + 1 + DLEN), .len = V(5));
	/* Its retransmission timer is the ordinary one again. */
	sc_advance(sc, SEC(2));
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(a.seq + 1), .len = V(5));
	SC_FREE(sc);
}

/* An ICMP error quoting the child's SYN-ACK: fatal before accept(), only
 * a soft error once the child is accepted (Linux's tcp_v4_err). */
TEST(icmp_error_on_child)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16), fd;
	const struct sc_pkt *p;
	struct sc_pkt a;

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	sc_inject_icmp(sc, 3, 1, &a);
	CHECK_STATE(sc, fd, TCP_SYN_RECV);

	send_syn(sc, SC_PEER_PORT + 1, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT + 1, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	sc_inject_icmp(sc, 3, 1, &a);
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	CHECK_STATE(sc, fd, TCP_CLOSE);
	SC_FREE(sc);
}

/* The child may read and write before the third ACK (tcp_passive_fastopen):
 * poll says so, the reply goes out at once. */
TEST(child_sends_before_third_ack)
{
	struct sc *sc = sc_new(NULL);
	int l = tfo_listener(sc, 0x3, 16), fd;
	const struct sc_pkt *p;
	struct sc_pkt a;
	struct sc_seg s;
	char buf[64];

	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_VALID, DATA, DLEN);
	p = EXPECT_SYNACK(sc, SC_PEER_PORT, DLEN, C_NONE);
	REQUIRE(p);
	a = *p;
	fd = synack_accept(sc->st, l, NULL);
	REQUIRE(fd >= 0);
	CHECK(synack_poll(sc->st, fd) & POLLIN);
	CHECK(synack_poll(sc->st, fd) & POLLOUT);
	CHECK_EQ(synack_recv(sc->st, fd, buf, sizeof(buf), 0), (long)DLEN);
	CHECK_EQ(synack_send(sc->st, fd, "reply", 5, 0), 5);
	sc_run(sc);
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(a.seq + 1), .ack = V(ISN + 1 + DLEN), .len = V(5));
	s = (struct sc_seg){ .sport = SC_PEER_PORT, .dport = PORT, .flags = F_ACK, .seq = a.ack, .ack = a.seq + 6,
			     .win = ACK_WIN };
	sc_seg_ts(&s, PEER_TS + 1, a.tsval);
	sc_inject(sc, &s);
	CHECK_STATE(sc, fd, TCP_ESTABLISHED);
	sc_advance(sc, SEC(5));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* ------------------------------------------------------------ keys */

/* Known answers, computed outside synack (SipHash-2-4 over 192.0.2.2 then
 * 192.0.2.1, little-endian): key bytes 00..0f and 10..1f, written as
 * net.ipv4.tcp_fastopen_key takes them (each word the little-endian u32). */
#define KEY_A "03020100-07060504-0b0a0908-0f0e0d0c"
#define KEY_B "13121110-17161514-1b1a1918-1f1e1d1c"
static const uint8_t COOKIE_A[8] = { 0xdf, 0xd0, 0x79, 0x8e, 0x5a, 0x20, 0x8d, 0x57 };
static const uint8_t COOKIE_B[8] = { 0x9a, 0x3a, 0x9e, 0xe7, 0x1c, 0xd5, 0x09, 0x51 };

TEST(key_sysctl_known_answer)
{
	struct sc *sc = sc_new(NULL);
	char text[128];
	int l;

	CHECK_EQ(synack_sysctl_set_str(sc->st, "net.ipv4.tcp_fastopen_key", KEY_A), 0);
	CHECK_EQ(synack_sysctl_get_str(sc->st, "net.ipv4.tcp_fastopen_key", text, sizeof(text)), 35);
	CHECK(strcmp(text, KEY_A) == 0);
	l = tfo_listener(sc, 0x3, 16);
	REQUIRE(l >= 0);
	send_syn(sc, SC_PEER_PORT, C_REQ, NULL, 0);
	EXPECT_SYNACK_C(sc, SC_PEER_PORT, 0, C_VALID, COOKIE_A);
	send_syn_c(sc, SC_PEER_PORT + 1, C_VALID, COOKIE_A, DATA, DLEN);
	EXPECT_SYNACK_C(sc, SC_PEER_PORT + 1, DLEN, C_NONE, NULL);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 1);
	SC_FREE(sc);
}

/* A cookie made with the backup key is still good: the child is created
 * and the SYN-ACK hands out the primary key's cookie. */
TEST(backup_key_cookie_accepted)
{
	struct sc *sc = sc_new(NULL);
	char text[128];
	int l;

	CHECK_EQ(synack_sysctl_set_str(sc->st, "net.ipv4.tcp_fastopen_key", KEY_A "," KEY_B), 0);
	CHECK_EQ(synack_sysctl_get_str(sc->st, "net.ipv4.tcp_fastopen_key", text, sizeof(text)), 71);
	CHECK(strcmp(text, KEY_A "," KEY_B) == 0);
	l = tfo_listener(sc, 0x3, 16);
	REQUIRE(l >= 0);
	send_syn_c(sc, SC_PEER_PORT, C_VALID, COOKIE_B, DATA, DLEN);
	EXPECT_SYNACK_C(sc, SC_PEER_PORT, DLEN, C_VALID, COOKIE_A);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassiveAltKey", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassiveFail", 0);
	SC_FREE(sc);
}

/* Once the backup key is dropped its cookies fail. */
TEST(retired_key_cookie_fails)
{
	struct sc *sc = sc_new(NULL);
	int l;

	CHECK_EQ(synack_sysctl_set_str(sc->st, "net.ipv4.tcp_fastopen_key", KEY_A), 0);
	l = tfo_listener(sc, 0x3, 16);
	REQUIRE(l >= 0);
	send_syn_c(sc, SC_PEER_PORT, C_VALID, COOKIE_B, DATA, DLEN);
	EXPECT_SYNACK_C(sc, SC_PEER_PORT, 0, C_VALID, COOKIE_A);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassiveFail", 1);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassive", 0);
	SC_FREE(sc);
}

/* TCP_FASTOPEN_KEY on the listener overrides the stack's keys; 16 or 32
 * bytes, read back as set. */
TEST(key_sockopt_on_listener)
{
	struct sc *sc = sc_new(NULL);
	uint8_t keys[32], got[40];
	unsigned int len = sizeof(got);
	int l;

	for (int i = 0; i < 32; i++)
		keys[i] = (uint8_t)i;
	l = tfo_listener(sc, 0x3, 16);
	REQUIRE(l >= 0);
	CHECK_EQ(synack_setsockopt(sc->st, l, IPPROTO_TCP, 33, keys, 20), -EINVAL);
	CHECK_EQ(synack_setsockopt(sc->st, l, IPPROTO_TCP, 33, keys, 32), 0);
	CHECK_EQ(synack_getsockopt(sc->st, l, IPPROTO_TCP, 33, got, &len), 0);
	CHECK_EQ(len, 32);
	CHECK_MEM(got, keys, 32);
	send_syn_c(sc, SC_PEER_PORT, C_VALID, COOKIE_B, DATA, DLEN);
	EXPECT_SYNACK_C(sc, SC_PEER_PORT, DLEN, C_VALID, COOKIE_A);
	CHECK_MIB(sc, "TcpExtTCPFastOpenPassiveAltKey", 1);
	SC_FREE(sc);
}

TEST(key_sysctl_rejects_bad_text)
{
	struct sc *sc = sc_new(NULL);

	CHECK_EQ(synack_sysctl_set_str(sc->st, "net.ipv4.tcp_fastopen_key", "0123"), -EINVAL);
	CHECK_EQ(synack_sysctl_set_str(sc->st, "net.ipv4.tcp_fastopen_key", KEY_A ",zz"), -EINVAL);
	CHECK_EQ(synack_sysctl_set_str(sc->st, "net.ipv4.tcp_fastopen_key", KEY_A "x"), -EINVAL);
	CHECK_EQ(synack_sysctl_set_str(sc->st, "net.ipv4.tcp_fastopen", "0x403"), 0);
	CHECK_EQ(synack_sysctl_set_str(sc->st, "net.ipv4.tcp_fastopen", "abc"), -EINVAL);
	CHECK_EQ(synack_sysctl_set_str(sc->st, "net.ipv4.no_such", "1"), -ENOENT);
	SC_FREE(sc);
}

int main(void)
{
	RUN(cookie_request_gets_cookie);
	RUN(cookie_request_exp_option_answered_in_kind);
	RUN(server_off_by_default);
	RUN(no_sockopt_no_fastopen);
	RUN(valid_cookie_with_data_creates_child);
	RUN(valid_cookie_without_data_creates_child);
	RUN(invalid_cookie_normal_handshake_fresh_cookie);
	RUN(no_cookie_mode_data_creates_child);
	RUN(all_listeners_without_sockopt);
	RUN(syncookie_syn_not_fastopen);
	RUN(max_qlen_overflow);
	RUN(rst_list_holds_slot_60s);
	RUN(rst_before_accept_no_hold);
	RUN(child_synack_retransmits_then_times_out);
	RUN(retransmitted_syn_resends_synack);
	RUN(listener_closed_child_survives);
	RUN(third_ack_with_data_then_reply);
	RUN(close_before_third_ack);
	RUN(listener_closed_unaccepted_child_reset);
	RUN(third_ack_after_synack_timeouts);
	RUN(icmp_error_on_child);
	RUN(child_sends_before_third_ack);
	RUN(key_sysctl_known_answer);
	RUN(backup_key_cookie_accepted);
	RUN(retired_key_cookie_fails);
	RUN(key_sockopt_on_listener);
	RUN(key_sysctl_rejects_bad_text);
	return TEST_SUMMARY();
}
