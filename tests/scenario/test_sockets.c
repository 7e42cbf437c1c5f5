/* Socket calls in each state (af_inet.c __inet_stream_connect, inet_listen,
 * inet_accept), as Linux answers them. */
#include "../test.h"
#include "harness.h"

TEST(syn_sent_connect_again_ealready)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -EALREADY);
	sc_run(sc);
	EXPECT_NONE(sc); /* no second SYN */
	SC_FREE(sc);
}

TEST(estab_connect_returns_0_then_eisconn)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	REQUIRE(ESTABLISH_ACTIVE(sc, &c));
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), 0);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -EISCONN);
	CHECK_EQ(synack_connect(sc->st, c.fd, &to), -EISCONN);
	SC_FREE(sc);
}

TEST(estab_listen_einval)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	REQUIRE(ESTABLISH_ACTIVE(sc, &c));
	CHECK_EQ(synack_listen(sc->st, c.fd, 5), -EINVAL);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

TEST(syn_sent_listen_einval)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	CHECK_EQ(synack_listen(sc->st, c.fd, 5), -EINVAL);
	CHECK_STATE(sc, c.fd, TCP_SYN_SENT);
	SC_FREE(sc);
}

TEST(estab_child_listen_einval)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_PASSIVE(sc, &c, SC_SERVER_PORT, 4));
	REQUIRE(ESTABLISH_PASSIVE(sc, &c));
	CHECK_EQ(synack_listen(sc->st, c.fd, 5), -EINVAL);
	SC_FREE(sc);
}

/* connect() on a listener: not CLOSE, so EISCONN. */
TEST(listen_connect_eisconn)
{
	struct sc *sc = sc_new(NULL);
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);
	int l = sc_listen(sc, SC_SERVER_PORT, 4);

	REQUIRE(l >= 0);
	CHECK_EQ(synack_connect(sc->st, l, &to), -EISCONN);
	sc_run(sc);
	EXPECT_NONE(sc);
	CHECK_STATE(sc, l, TCP_LISTEN);
	SC_FREE(sc);
}

TEST(close_accept_einval)
{
	struct sc *sc = sc_new(NULL);
	int fd = sc_socket(sc);

	REQUIRE(fd >= 0);
	CHECK_EQ(synack_accept(sc->st, fd, NULL), -EINVAL);
	CHECK_STATE(sc, fd, TCP_CLOSE);
	SC_FREE(sc);
}

TEST(syn_sent_accept_einval)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	CHECK_EQ(synack_accept(sc->st, c.fd, NULL), -EINVAL);
	SC_FREE(sc);
}

TEST(listen_accept_eagain_when_empty)
{
	struct sc *sc = sc_new(NULL);
	int l = sc_listen(sc, SC_SERVER_PORT, 4);

	REQUIRE(l >= 0);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	CHECK_EQ(synack_poll(sc->st, l) & (POLLIN | POLLOUT | POLLERR), 0);
	SC_FREE(sc);
}

TEST(close_bind_twice_einval)
{
	struct sc *sc = sc_new(NULL);
	struct sockaddr_in a = sc_sin("0.0.0.0", 7000), b = sc_sin("0.0.0.0", 7001);
	int fd = sc_socket(sc);

	CHECK_EQ(synack_bind(sc->st, fd, &a), 0);
	CHECK_EQ(synack_bind(sc->st, fd, &b), -EINVAL);
	SC_FREE(sc);
}

TEST(close_bind_port_in_use)
{
	struct sc *sc = sc_new(NULL);
	struct sockaddr_in a = sc_sin("0.0.0.0", 7000);
	int f1 = sc_socket(sc), f2 = sc_socket(sc);

	CHECK_EQ(synack_bind(sc->st, f1, &a), 0);
	CHECK_EQ(synack_listen(sc->st, f1, 1), 0);
	CHECK_EQ(synack_bind(sc->st, f2, &a), -EADDRINUSE);
	SC_FREE(sc);
}

TEST(close_bind_foreign_address)
{
	struct sc *sc = sc_new(NULL);
	struct sockaddr_in a = sc_sin("198.51.100.1", 7000);
	int fd = sc_socket(sc);

	CHECK_EQ(synack_bind(sc->st, fd, &a), -EADDRNOTAVAIL);
	SC_FREE(sc);
}

/* A bound port is the SYN's source port. */
TEST(syn_sent_uses_bound_port)
{
	struct sc *sc = sc_new(NULL);
	struct sockaddr_in a = sc_sin(SC_LOCAL, 40000), to = sc_sin(SC_PEER, SC_REMOTE_PORT), got;
	int fd = sc_socket(sc);

	CHECK_EQ(synack_bind(sc->st, fd, &a), 0);
	CHECK_EQ(synack_connect(sc->st, fd, &to), -EINPROGRESS);
	sc_run(sc);
	EXPECT(sc, .flags = F_SYN, .sport = V(40000), .dport = V(SC_REMOTE_PORT));
	CHECK_EQ(synack_getsockname(sc->st, fd, &got), 0);
	CHECK_EQ(ntohs(got.sin_port), 40000);
	CHECK_EQ(got.sin_addr.s_addr, sc->local);
	SC_FREE(sc);
}

TEST(syn_sent_poll_not_writable)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	CHECK_EQ(synack_poll(sc->st, c.fd) & (POLLOUT | POLLIN | POLLERR | POLLHUP), 0);
	SC_FREE(sc);
}

TEST(close_bad_descriptors_ebadf)
{
	struct sc *sc = sc_new(NULL);
	struct sockaddr_in to = sc_sin(SC_PEER, SC_REMOTE_PORT);

	CHECK_EQ(synack_connect(sc->st, 999, &to), -EBADF);
	CHECK_EQ(synack_listen(sc->st, -1, 1), -EBADF);
	CHECK_EQ(synack_poll(sc->st, 12345), -EBADF);
	CHECK_EQ(synack_tcp_state(sc->st, 77), -EBADF);
	SC_FREE(sc);
}

/* After an established connection is reset: state CLOSE, ECONNRESET once
 * via connect? No: connect on SS_CONNECTED gives EISCONN; SO_ERROR has it. */
TEST(estab_reset_so_error_once)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	REQUIRE(ESTABLISH_ACTIVE(sc, &c));
	s = sc_seg_for(&c, F_RST, c.irs + 1, 0);
	sc_inject(sc, &s);
	CHECK_EQ(sc_so_error(sc, c.fd), ECONNRESET);
	CHECK_EQ(sc_so_error(sc, c.fd), 0);
	SC_FREE(sc);
}

/* A second socket to the same peer port gets a different source port. */
TEST(syn_sent_two_connects_distinct_ports)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn a, b;

	REQUIRE(OPEN_ACTIVE(sc, &a, SC_REMOTE_PORT));
	REQUIRE(OPEN_ACTIVE(sc, &b, SC_REMOTE_PORT));
	CHECK(a.lport != b.lport);
	CHECK(a.iss != b.iss);
	CHECK_MIB(sc, "TcpActiveOpens", 2);
	SC_FREE(sc);
}

int main(void)
{
	RUN(syn_sent_connect_again_ealready);
	RUN(estab_connect_returns_0_then_eisconn);
	RUN(estab_listen_einval);
	RUN(syn_sent_listen_einval);
	RUN(estab_child_listen_einval);
	RUN(listen_connect_eisconn);
	RUN(close_accept_einval);
	RUN(syn_sent_accept_einval);
	RUN(listen_accept_eagain_when_empty);
	RUN(close_bind_twice_einval);
	RUN(close_bind_port_in_use);
	RUN(close_bind_foreign_address);
	RUN(syn_sent_uses_bound_port);
	RUN(syn_sent_poll_not_writable);
	RUN(close_bad_descriptors_ebadf);
	RUN(estab_reset_so_error_once);
	RUN(syn_sent_two_connects_distinct_ports);
	return TEST_SUMMARY();
}
