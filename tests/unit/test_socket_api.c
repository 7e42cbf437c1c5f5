/* The socket calls: every errno path that needs no peer, descriptors,
 * options, poll, and the connect/accept state machines driven by hand. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include "../test.h"
#include "core/stack.h"

/* <netinet/tcp.h> clashes with enum tcp_state. */
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_CORK 3
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_SYNCNT 7
#define TCP_LINGER2 8
#define TCP_DEFER_ACCEPT 9
#define TCP_INFO 11
#define TCP_QUICKACK 12
#define TCP_CONGESTION 13
#define TCP_USER_TIMEOUT 18
#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

struct env {
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct stack *st;
};

static void env_init(struct env *e)
{
	struct synack_sim_config wc = { .seed = 1 };
	struct synack_stack_config sc = { .name = "s", .seeded = true, .seed = 99 };
	struct synack_if_config ic = { .prefix_len = 24 };

	e->clk = synack_clock_new_virtual(1000000000ULL);
	sc.clock = e->clk;
	synack_sim_wire_new(e->clk, &wc, &e->wire);
	synack_stack_new(&sc, &e->st);
	ic.addr.s_addr = inet_addr("10.0.0.1");
	synack_if_up(e->st, synack_sim_wire_end(e->wire, 0), &ic);
}

static void env_free(struct env *e)
{
	synack_stack_free(e->st);
	synack_sim_wire_free(e->wire);
	synack_clock_free(e->clk);
}

static struct sockaddr_in sin_of(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	s.sin_addr.s_addr = inet_addr(addr);
	return s;
}

static struct sock *SK(struct env *e, int fd) { return e->st->tcp.fds[fd]; }

static int set_int(struct env *e, int fd, int level, int name, int v)
{
	return synack_setsockopt(e->st, fd, level, name, &v, sizeof(v));
}

static int get_int(struct env *e, int fd, int level, int name)
{
	int v = -12345;
	unsigned int len = sizeof(v);
	int err = synack_getsockopt(e->st, fd, level, name, &v, &len);

	return err ? err : v;
}

TEST(bad_descriptors)
{
	struct env e;
	struct sockaddr_in a = sin_of("10.0.0.1", 80);
	int v = 1, fd;
	unsigned int len = sizeof(v);

	env_init(&e);
	CHECK_EQ(synack_socket(NULL), -EINVAL);
	fd = synack_socket(e.st);
	CHECK_EQ(fd, 0);
	CHECK_EQ(synack_close(e.st, fd), 0);
	int bad[] = { -1, fd, 1, 63, 64, 1 << 20, INT_MAX };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int b = bad[i];

		CHECK_EQ(synack_bind(e.st, b, &a), -EBADF);
		CHECK_EQ(synack_listen(e.st, b, 5), -EBADF);
		CHECK_EQ(synack_accept(e.st, b, NULL), -EBADF);
		CHECK_EQ(synack_connect(e.st, b, &a), -EBADF);
		CHECK_EQ(synack_close(e.st, b), -EBADF);
		CHECK_EQ(synack_getsockname(e.st, b, &a), -EBADF);
		CHECK_EQ(synack_getpeername(e.st, b, &a), -EBADF);
		CHECK_EQ(synack_setsockopt(e.st, b, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), -EBADF);
		CHECK_EQ(synack_getsockopt(e.st, b, SOL_SOCKET, SO_REUSEADDR, &v, &len), -EBADF);
		CHECK_EQ(synack_poll(e.st, b), -EBADF);
		CHECK_EQ(synack_tcp_state(e.st, b), -EBADF);
	}
	CHECK_EQ(synack_poll(NULL, 0), -EBADF);
	env_free(&e);
}

TEST(descriptors_lowest_free_first)
{
	struct env e;
	int fds[6];

	env_init(&e);
	for (int i = 0; i < 5; i++) {
		fds[i] = synack_socket(e.st);
		CHECK_EQ(fds[i], i);
	}
	CHECK_EQ(synack_close(e.st, 3), 0);
	CHECK_EQ(synack_close(e.st, 1), 0);
	CHECK_EQ(synack_socket(e.st), 1);
	CHECK_EQ(synack_socket(e.st), 3);
	CHECK_EQ(synack_socket(e.st), 5);
	CHECK_EQ(synack_close(e.st, 0), 0);
	CHECK_EQ(synack_socket(e.st), 0);
	env_free(&e);
}

TEST(many_sockets)
{
	struct env e;
	enum { N = 3000 };
	struct sockaddr_in any = sin_of("0.0.0.0", 0), got;
	static uint16_t ports[N];

	env_init(&e);
	for (int i = 0; i < N; i++) {
		REQUIRE(synack_socket(e.st) == i);
		CHECK_EQ(synack_bind(e.st, i, &any), 0);
		CHECK_EQ(synack_getsockname(e.st, i, &got), 0);
		ports[i] = ntohs(got.sin_port);
		CHECK(ports[i] >= 32768 && ports[i] <= 60999);
	}
	/* bind(0) never hands out a port twice. */
	static bool seen[65536];
	for (int i = 0; i < N; i++) {
		CHECK(!seen[ports[i]]);
		seen[ports[i]] = true;
	}
	for (int i = 0; i < N; i += 2)
		CHECK_EQ(synack_close(e.st, i), 0);
	for (int i = 0; i < N; i += 2)
		CHECK_EQ(synack_socket(e.st), i);
	env_free(&e);
}

TEST(fresh_socket_defaults)
{
	struct env e;
	struct sockaddr_in a;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	CHECK_EQ(synack_tcp_state(e.st, fd), TCP_CLOSE);
	CHECK_STR(synack_tcp_state_name(synack_tcp_state(e.st, fd)), "CLOSE");
	CHECK_EQ(SK(&e, fd)->fd, fd);
	CHECK_EQ(SK(&e, fd)->sock_state, SS_UNCONNECTED);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 131072);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_SNDBUF), 16384);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_ERROR), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_REUSEADDR), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG), 536);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_SYNCNT), 6);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_QUICKACK), 1);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_NODELAY), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	CHECK_EQ(synack_getsockname(e.st, fd, &a), 0);
	CHECK_EQ(a.sin_family, AF_INET);
	CHECK_EQ(a.sin_addr.s_addr, 0);
	CHECK_EQ(a.sin_port, 0);
	CHECK_EQ(synack_getpeername(e.st, fd, &a), -ENOTCONN);
	CHECK_EQ(synack_getsockname(e.st, fd, NULL), -EFAULT);
	/* tcp_poll: an unconnected socket is "hung up" and writable (a write fails at once). */
	CHECK_EQ(synack_poll(e.st, fd), POLLOUT | POLLWRNORM | POLLHUP);
	env_free(&e);
}

TEST(bind_errors)
{
	struct env e;
	struct sockaddr_in a = sin_of("10.0.0.1", 8080), got;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	CHECK_EQ(synack_bind(e.st, fd, NULL), -EINVAL);
	a.sin_family = AF_INET6;
	CHECK_EQ(synack_bind(e.st, fd, &a), -EAFNOSUPPORT);
	a.sin_family = AF_UNSPEC;   /* tolerated only with INADDR_ANY */
	CHECK_EQ(synack_bind(e.st, fd, &a), -EAFNOSUPPORT);
	a = sin_of("10.0.0.7", 8080);
	CHECK_EQ(synack_bind(e.st, fd, &a), -EADDRNOTAVAIL);
	a = sin_of("127.0.0.1", 8080);
	CHECK_EQ(synack_bind(e.st, fd, &a), -EADDRNOTAVAIL);
	a = sin_of("255.255.255.255", 8080);
	CHECK_EQ(synack_bind(e.st, fd, &a), -EADDRNOTAVAIL);
	/* Nothing changed by the failures. */
	CHECK_EQ(synack_getsockname(e.st, fd, &got), 0);
	CHECK_EQ(got.sin_addr.s_addr, 0);
	CHECK_EQ(got.sin_port, 0);
	CHECK(!SK(&e, fd)->in_bhash);

	a = sin_of("10.0.0.1", 8080);
	CHECK_EQ(synack_bind(e.st, fd, &a), 0);
	CHECK(SK(&e, fd)->bound && SK(&e, fd)->addr_bound);
	CHECK_EQ(synack_getsockname(e.st, fd, &got), 0);
	CHECK_EQ(got.sin_addr.s_addr, inet_addr("10.0.0.1"));
	CHECK_EQ(ntohs(got.sin_port), 8080);
	CHECK_EQ(synack_bind(e.st, fd, &a), -EINVAL);
	a = sin_of("0.0.0.0", 0);
	CHECK_EQ(synack_bind(e.st, fd, &a), -EINVAL);

	int fd2 = synack_socket(e.st);
	a = sin_of("0.0.0.0", 0);
	a.sin_family = AF_UNSPEC;
	CHECK_EQ(synack_bind(e.st, fd2, &a), 0);
	CHECK(!SK(&e, fd2)->bound && !SK(&e, fd2)->addr_bound);
	CHECK_EQ(synack_getsockname(e.st, fd2, &got), 0);
	CHECK(ntohs(got.sin_port) >= 32768 && ntohs(got.sin_port) <= 60999);
	CHECK(ntohs(got.sin_port) & 1);   /* bind(0) leaves even ports to connect() */
	env_free(&e);
}

TEST(bind_conflicts_via_api)
{
	struct env e;
	struct sockaddr_in any = sin_of("0.0.0.0", 9000), mine = sin_of("10.0.0.1", 9000);
	int a, b, c;

	env_init(&e);
	a = synack_socket(e.st);
	b = synack_socket(e.st);
	c = synack_socket(e.st);
	CHECK_EQ(synack_bind(e.st, a, &any), 0);
	CHECK_EQ(synack_bind(e.st, b, &any), -EADDRINUSE);
	CHECK_EQ(synack_bind(e.st, b, &mine), -EADDRINUSE);
	CHECK(!SK(&e, b)->in_bhash);
	CHECK_EQ(SK(&e, b)->c.laddr, 0);   /* a failed bind leaves no address behind */
	CHECK_EQ(synack_close(e.st, a), 0);
	CHECK_EQ(synack_bind(e.st, b, &mine), 0);   /* the port went with a */

	/* SO_REUSEADDR on both: they share until one listens. */
	CHECK_EQ(set_int(&e, c, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(synack_bind(e.st, c, &any), -EADDRINUSE);   /* b has no SO_REUSEADDR */
	CHECK_EQ(set_int(&e, b, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(synack_bind(e.st, c, &any), 0);
	CHECK_EQ(synack_listen(e.st, b, 5), 0);
	CHECK_EQ(synack_listen(e.st, c, 5), -EADDRINUSE);
	CHECK_EQ(synack_tcp_state(e.st, c), TCP_CLOSE);
	CHECK_EQ(synack_tcp_state(e.st, b), TCP_LISTEN);
	/* A new socket cannot bind next to the listener even with SO_REUSEADDR. */
	a = synack_socket(e.st);
	CHECK_EQ(set_int(&e, a, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(synack_bind(e.st, a, &mine), -EADDRINUSE);
	env_free(&e);
}

TEST(listen_paths)
{
	struct env e;
	struct sockaddr_in got, a = sin_of("10.0.0.1", 7000);
	int fd, fd2;

	env_init(&e);
	fd = synack_socket(e.st);
	/* An unbound socket gets a port (inet_autobind). */
	CHECK_EQ(synack_listen(e.st, fd, -1), 0);
	CHECK_EQ(SK(&e, fd)->rskq->max_ack_backlog, 4096);   /* negative: capped at somaxconn */
	CHECK_EQ(synack_tcp_state(e.st, fd), TCP_LISTEN);
	CHECK_STR(synack_tcp_state_name(TCP_LISTEN), "LISTEN");
	CHECK_EQ(synack_getsockname(e.st, fd, &got), 0);
	CHECK(ntohs(got.sin_port) >= 32768 && ntohs(got.sin_port) <= 60999);
	CHECK(inet_lookup_listener(e.st, inet_addr("10.0.0.1"), ntohs(got.sin_port)) == SK(&e, fd));
	/* listen again: only the backlog changes. */
	CHECK_EQ(synack_listen(e.st, fd, 10), 0);
	CHECK_EQ(SK(&e, fd)->rskq->max_ack_backlog, 10);
	CHECK_EQ(synack_listen(e.st, fd, 0), 0);
	CHECK_EQ(SK(&e, fd)->rskq->max_ack_backlog, 0);
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int)), 0);
	CHECK_EQ(synack_sysctl_set(e.st, "net.core.somaxconn", 100), 0);
	CHECK_EQ(synack_listen(e.st, fd, 5000), 0);
	CHECK_EQ(SK(&e, fd)->rskq->max_ack_backlog, 100);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	/* A listener cannot be bound, accepted from empty, or polled ready. */
	CHECK_EQ(synack_bind(e.st, fd, &a), -EINVAL);
	CHECK_EQ(synack_accept(e.st, fd, NULL), -EAGAIN);
	CHECK_EQ(synack_poll(e.st, fd), 0);
	CHECK_EQ(synack_getpeername(e.st, fd, &got), -ENOTCONN);

	fd2 = synack_socket(e.st);
	CHECK_EQ(synack_bind(e.st, fd2, &a), 0);
	CHECK_EQ(synack_listen(e.st, fd2, 3), 0);
	CHECK_EQ(synack_getsockname(e.st, fd2, &got), 0);
	CHECK_EQ(ntohs(got.sin_port), 7000);
	CHECK_EQ(synack_close(e.st, fd2), 0);
	CHECK(inet_lookup_listener(e.st, inet_addr("10.0.0.1"), 7000) == NULL);
	/* Closed listener: the port is free again. */
	fd2 = synack_socket(e.st);
	CHECK_EQ(synack_bind(e.st, fd2, &a), 0);
	env_free(&e);
}

TEST(accept_paths)
{
	struct env e;
	struct sockaddr_in peer, a = sin_of("10.0.0.1", 80);
	struct sock *l, *child, *child2;
	int lfd, cfd, other;

	env_init(&e);
	other = synack_socket(e.st);
	CHECK_EQ(synack_accept(e.st, other, &peer), -EINVAL);   /* not listening */
	lfd = synack_socket(e.st);
	CHECK_EQ(synack_bind(e.st, lfd, &a), 0);
	CHECK_EQ(synack_accept(e.st, lfd, &peer), -EINVAL);
	CHECK_EQ(synack_listen(e.st, lfd, 8), 0);
	CHECK_EQ(synack_accept(e.st, lfd, &peer), -EAGAIN);
	CHECK_EQ(synack_close(e.st, other), 0);   /* frees descriptor 0 */

	/* Queue two children by hand, as the handshake would. */
	l = SK(&e, lfd);
	child = sk_alloc(e.st);
	child2 = sk_alloc(e.st);
	struct sock *kids[] = { child, child2 };
	for (int i = 0; i < 2; i++) {
		kids[i]->c.laddr = inet_addr("10.0.0.1");
		kids[i]->c.lport = 80;
		kids[i]->c.raddr = inet_addr("10.0.0.2");
		kids[i]->c.rport = (uint16_t)(5000 + i);
		kids[i]->c.state = TCP_ESTABLISHED;
		kids[i]->parent = l;
		list_add_tail(&kids[i]->accept_node, &l->rskq->accept_queue);
		l->rskq->ack_backlog++;
	}
	CHECK_EQ(synack_poll(e.st, lfd), POLLIN | POLLRDNORM);
	cfd = synack_accept(e.st, lfd, &peer);
	CHECK_EQ(cfd, 0);   /* lowest free descriptor */
	CHECK(SK(&e, cfd) == child);
	CHECK_EQ(peer.sin_family, AF_INET);
	CHECK_EQ(peer.sin_addr.s_addr, inet_addr("10.0.0.2"));
	CHECK_EQ(ntohs(peer.sin_port), 5000);
	CHECK_EQ(l->rskq->ack_backlog, 1);
	CHECK(child->parent == NULL);
	CHECK(list_empty(&child->accept_node));
	CHECK_EQ(child->sock_state, SS_CONNECTED);
	CHECK_EQ(synack_getpeername(e.st, cfd, &peer), 0);
	CHECK_EQ(ntohs(peer.sin_port), 5000);
	CHECK_EQ(synack_connect(e.st, cfd, &peer), -EISCONN);
	CHECK_EQ(synack_listen(e.st, cfd, 1), -EINVAL);
	CHECK_EQ(synack_poll(e.st, cfd), POLLOUT | POLLWRNORM);
	/* The second child stays queued; closing the listener disposes of it. */
	CHECK_EQ(synack_close(e.st, lfd), 0);
	CHECK_EQ(synack_close(e.st, cfd), 0);
	env_free(&e);
}

TEST(connect_state_machine)
{
	struct env e;
	struct sockaddr_in dst = sin_of("10.0.0.2", 80), got;
	struct sock *sk;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	sk = SK(&e, fd);
	CHECK_EQ(synack_connect(e.st, fd, NULL), -EINVAL);
	dst.sin_family = AF_INET6;
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EAFNOSUPPORT);
	CHECK_EQ(synack_tcp_state(e.st, fd), TCP_CLOSE);
	dst.sin_family = AF_UNSPEC;   /* disconnect of an idle socket: nothing to do */
	CHECK_EQ(synack_connect(e.st, fd, &dst), 0);
	dst = sin_of("10.0.0.2", 80);

	CHECK_EQ(synack_connect(e.st, fd, &dst), -EINPROGRESS);
	CHECK_EQ(synack_tcp_state(e.st, fd), TCP_SYN_SENT);
	CHECK_EQ(sk->sock_state, SS_CONNECTING);
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EALREADY);
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EALREADY);
	CHECK_EQ(synack_getpeername(e.st, fd, &got), -ENOTCONN);
	CHECK_EQ(synack_listen(e.st, fd, 5), -EINVAL);
	CHECK_EQ(synack_bind(e.st, fd, &dst), -EADDRNOTAVAIL);
	got = sin_of("0.0.0.0", 0);
	CHECK_EQ(synack_bind(e.st, fd, &got), -EINVAL);
	CHECK_EQ(synack_poll(e.st, fd), 0);
	CHECK_EQ(synack_getsockname(e.st, fd, &got), 0);
	CHECK_EQ(got.sin_addr.s_addr, inet_addr("10.0.0.1"));
	CHECK_EQ(ntohs(got.sin_port) % 2, 0);   /* connect() prefers even ports */

	/* The handshake completes (by hand here). */
	sk->c.state = TCP_ESTABLISHED;
	CHECK_EQ(synack_poll(e.st, fd), POLLOUT | POLLWRNORM);
	CHECK_EQ(synack_connect(e.st, fd, &dst), 0);
	CHECK_EQ(sk->sock_state, SS_CONNECTED);
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EISCONN);
	CHECK_EQ(synack_getpeername(e.st, fd, &got), 0);
	CHECK_EQ(got.sin_addr.s_addr, inet_addr("10.0.0.2"));
	CHECK_EQ(ntohs(got.sin_port), 80);
	CHECK_EQ(synack_close(e.st, fd), 0);
	env_free(&e);
}

TEST(connect_failure_reported_once)
{
	struct env e;
	struct sockaddr_in dst = sin_of("10.0.0.2", 80);
	struct sock *sk;
	int fd, lfd;

	env_init(&e);
	fd = synack_socket(e.st);
	sk = SK(&e, fd);
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EINPROGRESS);
	/* Refused: what tcp_reset leaves behind. */
	sk->sk_err = ECONNREFUSED;
	tcp_set_state(sk, TCP_CLOSE);
	CHECK_EQ(synack_poll(e.st, fd), POLLOUT | POLLWRNORM | POLLHUP | POLLERR);
	CHECK_EQ(synack_connect(e.st, fd, &dst), -ECONNREFUSED);
	CHECK_EQ(sk->sock_state, SS_UNCONNECTED);
	CHECK_EQ(sk->sk_err, 0);
	CHECK_EQ(synack_poll(e.st, fd), POLLOUT | POLLWRNORM | POLLHUP);
	/* A new attempt is allowed. */
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EINPROGRESS);
	tcp_set_state(sk, TCP_CLOSE);   /* gone with no error recorded */
	CHECK_EQ(synack_connect(e.st, fd, &dst), -ECONNABORTED);
	CHECK_EQ(synack_close(e.st, fd), 0);

	/* connect() on a listener: it is not CLOSE, so -EISCONN as Linux. */
	lfd = synack_socket(e.st);
	CHECK_EQ(synack_listen(e.st, lfd, 1), 0);
	CHECK_EQ(synack_connect(e.st, lfd, &dst), -EISCONN);
	CHECK_EQ(synack_tcp_state(e.st, lfd), TCP_LISTEN);
	env_free(&e);
}

TEST(connect_exhausts_ports)
{
	struct env e;
	struct sockaddr_in dst = sin_of("10.0.0.2", 80);
	int fds[4];

	env_init(&e);
	/* Three ports, but as Linux the scan covers an even count: two. */
	synack_sysctl_set(e.st, "net.ipv4.ip_local_port_range_lo", 50000);
	synack_sysctl_set(e.st, "net.ipv4.ip_local_port_range_hi", 50002);
	for (int i = 0; i < 4; i++)
		fds[i] = synack_socket(e.st);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(synack_connect(e.st, fds[i], &dst), -EINPROGRESS);
	CHECK_EQ(synack_connect(e.st, fds[2], &dst), -EADDRNOTAVAIL);
	CHECK_EQ(synack_tcp_state(e.st, fds[2]), TCP_CLOSE);
	CHECK_EQ(SK(&e, fds[2])->sock_state, SS_UNCONNECTED);
	/* A bound socket still connects: only its tuple must be free. */
	struct sockaddr_in b = sin_of("10.0.0.1", 50002);
	CHECK_EQ(synack_bind(e.st, fds[3], &b), 0);
	CHECK_EQ(synack_connect(e.st, fds[3], &dst), -EINPROGRESS);
	env_free(&e);
}

TEST(sockopt_generic_errors)
{
	struct env e;
	int fd, v = 1;
	unsigned int len;
	uint8_t small[8] = { 0 };

	env_init(&e);
	fd = synack_socket(e.st);
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_REUSEADDR, &v, 3), -EINVAL);
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, TCP_NODELAY, &v, 0), -EINVAL);
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, 9999, &v, 2), -EINVAL);   /* length first */
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_REUSEADDR, NULL, 4), -EFAULT);
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, 9999, &v, 4), -ENOPROTOOPT);
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, 9999, &v, 4), -ENOPROTOOPT);
	CHECK_EQ(synack_setsockopt(e.st, fd, 999, 1, &v, 4), -ENOPROTOOPT);
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_ERROR, &v, 4), -ENOPROTOOPT);
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_TYPE, &v, 4), -ENOPROTOOPT);
	len = 4;
	CHECK_EQ(synack_getsockopt(e.st, fd, SOL_SOCKET, 9999, &v, &len), -ENOPROTOOPT);
	CHECK_EQ(synack_getsockopt(e.st, fd, IPPROTO_TCP, 9999, &v, &len), -ENOPROTOOPT);
	CHECK_EQ(synack_getsockopt(e.st, fd, 999, 1, &v, &len), -ENOPROTOOPT);
	CHECK_EQ(synack_getsockopt(e.st, fd, SOL_SOCKET, SO_TYPE, NULL, &len), -EFAULT);
	CHECK_EQ(synack_getsockopt(e.st, fd, SOL_SOCKET, SO_TYPE, &v, NULL), -EFAULT);
	len = (unsigned int)-1;
	CHECK_EQ(synack_getsockopt(e.st, fd, SOL_SOCKET, SO_TYPE, &v, &len), -EINVAL);
	/* A short buffer gets the first bytes, a long one only sizeof(int). */
	len = 2;
	CHECK_EQ(synack_getsockopt(e.st, fd, SOL_SOCKET, SO_RCVBUF, small, &len), 0);
	CHECK_EQ(len, 2);
	CHECK_EQ(small[0] | small[1] << 8, 131072 & 0xffff);
	CHECK_EQ(small[2], 0);
	len = sizeof(small);
	CHECK_EQ(synack_getsockopt(e.st, fd, SOL_SOCKET, SO_SNDBUF, small, &len), 0);
	CHECK_EQ(len, 4);
	env_free(&e);
}

TEST(sockopt_buffers)
{
	struct env e;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVBUF, 100000), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 200000);
	CHECK(SK(&e, fd)->rcvbuf_locked);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVBUF, 0), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 2304);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVBUF, 1000), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 2304);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVBUF, INT_MAX), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 2 * 4194304);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVBUF, -1), 0);   /* as u32: huge, so capped */
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 2 * 4194304);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_SNDBUF, 0), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_SNDBUF), 4608);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_SNDBUF, 50000), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_SNDBUF), 100000);
	CHECK_EQ(synack_sysctl_set(e.st, "net.core.wmem_max", 10000), 0);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_SNDBUF, 50000), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_SNDBUF), 20000);
	CHECK_EQ(synack_sysctl_set(e.st, "net.core.rmem_max", 1L << 30), 0);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVBUF, INT_MAX), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), (INT_MAX / 2) * 2);
	env_free(&e);
}

TEST(sockopt_socket_level_round_trips)
{
	struct env e;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_REUSEADDR, 5), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_REUSEADDR), 1);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_REUSEADDR, 0), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_REUSEADDR), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_DOMAIN), AF_INET);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	/* SO_ERROR reads and clears: the hard error, then the soft one. */
	SK(&e, fd)->sk_err = ECONNRESET;
	SK(&e, fd)->sk_err_soft = EHOSTUNREACH;
	CHECK_EQ(synack_poll(e.st, fd) & POLLERR, POLLERR);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_ERROR), ECONNRESET);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_ERROR), EHOSTUNREACH);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_ERROR), 0);
	env_free(&e);
}

TEST(sockopt_tcp_ranges_and_round_trips)
{
	struct env e;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	/* TCP_MAXSEG: 0 or 88..32767. */
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG, 87), -EINVAL);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG, 32768), -EINVAL);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG, -1), -EINVAL);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG), 536);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG, 88), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG), 88);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG, 32767), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG), 32767);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG, 1000), 0);
	CHECK_EQ(SK(&e, fd)->rx_opt.user_mss, 1000);
	SK(&e, fd)->c.state = TCP_ESTABLISHED;   /* connected: the current MSS */
	SK(&e, fd)->mss_cache = 1448;
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG), 1448);
	SK(&e, fd)->c.state = TCP_CLOSE;
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG, 0), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_MAXSEG), 1448);

	/* TCP_SYNCNT: 1..127; 0 reads back as the sysctl. */
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_SYNCNT, 0), -EINVAL);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_SYNCNT, 128), -EINVAL);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_SYNCNT, 1), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_SYNCNT), 1);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_SYNCNT, 127), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_SYNCNT), 127);

	/* TCP_QUICKACK. */
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_QUICKACK, 0), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_QUICKACK), 0);
	CHECK(SK(&e, fd)->icsk_ack.pingpong && SK(&e, fd)->quickack_off);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_QUICKACK, 2), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_QUICKACK), 1);
	CHECK(!SK(&e, fd)->icsk_ack.pingpong && !SK(&e, fd)->quickack_off);

	/* TCP_NODELAY. */
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_NODELAY, 7), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_NODELAY), 1);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_NODELAY, 0), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_NODELAY), 0);

	/* TCP_USER_TIMEOUT: >= 0. */
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, -1), -EINVAL);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 5000), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 5000);
	CHECK_EQ(SK(&e, fd)->icsk_user_timeout, 5000);
	env_free(&e);
}

TEST(sockopt_defer_accept_seconds_and_retransmits)
{
	/* seconds set -> SYN-ACK retransmissions -> seconds read (1 s doubling, 120 s cap) */
	static const struct { int set, retrans, get; } cases[] = {
		{ -5, 0, 0 }, { 0, 0, 0 }, { 1, 1, 1 }, { 2, 2, 3 }, { 3, 2, 3 }, { 4, 3, 7 },
		{ 10, 4, 15 }, { 127, 7, 127 }, { 128, 8, 247 }, { 1000, 15, 1087 },
		{ INT_MAX, 255, 127 + 248 * 120 },
	};
	struct env e;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, cases[i].set), 0);
		CHECK_EQ(SK(&e, fd)->rskq_defer_accept, cases[i].retrans);
		CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT), cases[i].get);
	}
	env_free(&e);
}

TEST(close_frees_everything)
{
	struct env e;
	struct sockaddr_in a = sin_of("10.0.0.1", 4000);
	int fd;

	env_init(&e);
	for (int round = 0; round < 3; round++) {
		fd = synack_socket(e.st);
		CHECK_EQ(fd, 0);
		CHECK_EQ(synack_bind(e.st, fd, &a), 0);
		CHECK_EQ(synack_listen(e.st, fd, 1), 0);
		CHECK_EQ(synack_close(e.st, fd), 0);
		CHECK_EQ(synack_close(e.st, fd), -EBADF);
	}
	for (uint32_t b = 0; b < (1u << TCP_BHASH_BITS); b++)
		CHECK(e.st->tcp.hinfo.bhash[b].first == NULL);
	for (uint32_t b = 0; b < (1u << TCP_LHASH_BITS); b++)
		CHECK(e.st->tcp.hinfo.lhash[b].first == NULL);
	env_free(&e);
}

TEST(data_calls_bad_descriptors_and_arguments)
{
	struct env e;
	char buf[8] = "abcdefg";
	struct iovec iov[2] = { { buf, 4 }, { buf + 4, 4 } };
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	int bad[] = { -1, 1, 64, INT_MAX };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(synack_send(e.st, bad[i], buf, 1, 0), -EBADF);
		CHECK_EQ(synack_recv(e.st, bad[i], buf, 1, 0), -EBADF);
		CHECK_EQ(synack_sendv(e.st, bad[i], iov, 2, 0), -EBADF);
		CHECK_EQ(synack_recvv(e.st, bad[i], iov, 2, 0), -EBADF);
		CHECK_EQ(synack_shutdown(e.st, bad[i], SHUT_WR), -EBADF);
		CHECK_EQ(synack_shutdown(e.st, bad[i], 99), -EBADF);   /* the descriptor first */
	}
	CHECK_EQ(synack_send(NULL, 0, buf, 1, 0), -EBADF);
	CHECK_EQ(synack_recv(NULL, 0, buf, 1, 0), -EBADF);
	/* No user memory to fault on: NULL under a length is -EINVAL. */
	CHECK_EQ(synack_send(e.st, fd, NULL, 1, 0), -EINVAL);
	CHECK_EQ(synack_recv(e.st, fd, NULL, 1, 0), -EINVAL);
	CHECK_EQ(synack_sendv(e.st, fd, NULL, 1, 0), -EINVAL);
	CHECK_EQ(synack_recvv(e.st, fd, NULL, 1, 0), -EINVAL);
	CHECK_EQ(synack_sendv(e.st, fd, iov, -1, 0), -EINVAL);
	CHECK_EQ(synack_recvv(e.st, fd, iov, 1025, 0), -EINVAL);   /* UIO_MAXIOV */
	struct iovec nul = { NULL, 3 }, huge = { buf, (size_t)SSIZE_MAX + 1 };
	CHECK_EQ(synack_sendv(e.st, fd, &nul, 1, 0), -EINVAL);
	CHECK_EQ(synack_recvv(e.st, fd, &huge, 1, 0), -EINVAL);
	/* NULL with no length is fine: the state decides. */
	CHECK_EQ(synack_send(e.st, fd, NULL, 0, 0), -EPIPE);
	CHECK_EQ(synack_recv(e.st, fd, NULL, 0, 0), -ENOTCONN);
	CHECK_EQ(synack_sendv(e.st, fd, NULL, 0, 0), -EPIPE);
	/* shutdown's how: SHUT_RD..SHUT_RDWR only. */
	CHECK_EQ(synack_shutdown(e.st, fd, -1), -EINVAL);
	CHECK_EQ(synack_shutdown(e.st, fd, 3), -EINVAL);
	CHECK_EQ(synack_shutdown(e.st, fd, INT_MAX), -EINVAL);
	CHECK_EQ(SK(&e, fd)->sk_shutdown, 0);
	env_free(&e);
}

/* tcp_sendmsg_locked before the connection is up (sk_stream_wait_connect,
 * non-blocking): a pending error once, -EAGAIN during the handshake, and
 * -EPIPE (Linux's answer, not -ENOTCONN) otherwise. */
TEST(send_errors_by_state)
{
	struct env e;
	struct sockaddr_in dst = sin_of("10.0.0.2", 80);
	char buf[4] = "abc";
	struct sock *sk;
	int fd, lfd;

	env_init(&e);
	fd = synack_socket(e.st);
	sk = SK(&e, fd);
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -EPIPE);
	CHECK_EQ(synack_send(e.st, fd, buf, 3, MSG_NOSIGNAL | MSG_DONTWAIT), -EPIPE);
	CHECK_EQ(synack_send(e.st, fd, buf, 0, 0), -EPIPE);
	lfd = synack_socket(e.st);
	CHECK_EQ(synack_listen(e.st, lfd, 1), 0);
	CHECK_EQ(synack_send(e.st, lfd, buf, 3, 0), -EPIPE);

	CHECK_EQ(synack_connect(e.st, fd, &dst), -EINPROGRESS);
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -EAGAIN);
	CHECK_EQ(synack_send(e.st, fd, buf, 3, MSG_MORE), -EAGAIN);
	sk->sk_err_soft = EHOSTUNREACH;   /* soft errors do not stop a send */
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -EAGAIN);
	sk->sk_err = ETIMEDOUT;
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -ETIMEDOUT);
	CHECK_EQ(sk->sk_err, 0);
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -EAGAIN);
	/* Urgent data is not supported. */
	CHECK_EQ(synack_send(e.st, fd, buf, 3, MSG_OOB), -EOPNOTSUPP);

	/* Reset: the error once, then -EPIPE. */
	sk->sk_err = ECONNRESET;
	tcp_set_state(sk, TCP_CLOSE);
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -ECONNRESET);
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -EPIPE);

	/* Synchronized but shut for writing, or with a hard error pending:
	 * sk_stream_error's order, the error first. */
	sk->c.state = TCP_ESTABLISHED;
	sk->sk_shutdown = SEND_SHUTDOWN;
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -EPIPE);
	sk->sk_err = EPIPE;
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -EPIPE);
	CHECK_EQ(sk->sk_err, 0);
	sk->sk_shutdown = 0;
	sk->sk_err = ECONNABORTED;
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -ECONNABORTED);
	sk->c.state = TCP_CLOSE_WAIT;
	sk->sk_shutdown = SHUTDOWN_MASK;
	CHECK_EQ(synack_send(e.st, fd, buf, 3, 0), -EPIPE);
	sk->c.state = TCP_CLOSE;
	env_free(&e);
}

TEST(recv_errors_by_state)
{
	struct env e;
	struct sockaddr_in dst = sin_of("10.0.0.2", 80);
	char buf[4];
	struct iovec iov = { buf, sizeof(buf) };
	struct sock *sk;
	int fd, lfd;

	env_init(&e);
	fd = synack_socket(e.st);
	sk = SK(&e, fd);
	CHECK_EQ(synack_recv(e.st, fd, buf, sizeof(buf), 0), -ENOTCONN);
	CHECK_EQ(synack_recvv(e.st, fd, &iov, 1, MSG_PEEK), -ENOTCONN);
	CHECK_EQ(synack_recv(e.st, fd, buf, sizeof(buf), MSG_ERRQUEUE), -EAGAIN);
	CHECK_EQ(synack_recv(e.st, fd, buf, sizeof(buf), MSG_OOB), -EINVAL);
	lfd = synack_socket(e.st);
	CHECK_EQ(synack_listen(e.st, lfd, 1), 0);
	CHECK_EQ(synack_recv(e.st, lfd, buf, sizeof(buf), 0), -ENOTCONN);
	CHECK_EQ(synack_recv(e.st, lfd, buf, sizeof(buf), MSG_OOB), -ENOTCONN);
	CHECK_EQ(synack_recv(e.st, lfd, buf, sizeof(buf), MSG_ERRQUEUE), -EAGAIN);

	/* Connecting: nothing yet. */
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EINPROGRESS);
	CHECK_EQ(synack_recv(e.st, fd, buf, sizeof(buf), 0), -EAGAIN);
	CHECK_EQ(synack_recv(e.st, fd, buf, sizeof(buf), MSG_WAITALL), -EAGAIN);
	/* An abort is reported once. */
	sk->sk_err = ECONNRESET;
	CHECK_EQ(synack_recv(e.st, fd, buf, sizeof(buf), 0), -ECONNRESET);
	CHECK_EQ(synack_recv(e.st, fd, buf, sizeof(buf), 0), -EAGAIN);
	/* Synchronized, shut for reading, nothing queued: end of file. */
	sk->c.state = TCP_ESTABLISHED;
	sk->sk_shutdown = RCV_SHUTDOWN;
	CHECK_EQ(synack_recv(e.st, fd, buf, sizeof(buf), 0), 0);
	sk->sk_shutdown = 0;
	sk->c.state = TCP_SYN_SENT;
	env_free(&e);
}

TEST(shutdown_paths)
{
	struct env e;
	struct sockaddr_in dst = sin_of("10.0.0.2", 80), a = sin_of("10.0.0.1", 5000), got;
	struct sock *sk;
	int fd, lfd;

	env_init(&e);
	/* Never connected: -ENOTCONN, yet the bits are kept (inet_shutdown). */
	fd = synack_socket(e.st);
	sk = SK(&e, fd);
	CHECK_EQ(synack_shutdown(e.st, fd, SHUT_WR), -ENOTCONN);
	CHECK_EQ(sk->sk_shutdown, SEND_SHUTDOWN);
	CHECK_EQ(synack_poll(e.st, fd), POLLOUT | POLLWRNORM | POLLHUP);
	CHECK_EQ(synack_shutdown(e.st, fd, SHUT_RD), -ENOTCONN);
	CHECK_EQ(sk->sk_shutdown, SHUTDOWN_MASK);
	CHECK_EQ(synack_poll(e.st, fd), POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM | POLLHUP);
	CHECK_EQ(synack_close(e.st, fd), 0);

	/* A listener: SHUT_WR leaves it listening; SHUT_RD stops it. */
	lfd = synack_socket(e.st);
	CHECK_EQ(synack_bind(e.st, lfd, &a), 0);
	CHECK_EQ(synack_listen(e.st, lfd, 4), 0);
	CHECK_EQ(synack_shutdown(e.st, lfd, SHUT_WR), 0);
	CHECK_EQ(synack_tcp_state(e.st, lfd), TCP_LISTEN);
	CHECK_EQ(SK(&e, lfd)->sk_shutdown, 0);
	CHECK_EQ(synack_shutdown(e.st, lfd, SHUT_RD), 0);
	CHECK_EQ(synack_tcp_state(e.st, lfd), TCP_CLOSE);
	CHECK(inet_lookup_listener(e.st, inet_addr("10.0.0.1"), 5000) == NULL);
	CHECK_EQ(SK(&e, lfd)->sk_shutdown, 0);
	CHECK_EQ(SK(&e, lfd)->sk_err, 0);
	CHECK(SK(&e, lfd)->in_bhash);   /* bound by the user: the port stays */
	CHECK_EQ(synack_listen(e.st, lfd, 4), 0);   /* and it may listen again */
	CHECK_EQ(synack_shutdown(e.st, lfd, SHUT_RDWR), 0);
	CHECK_EQ(synack_tcp_state(e.st, lfd), TCP_CLOSE);
	CHECK_EQ(synack_shutdown(e.st, lfd, SHUT_RDWR), -ENOTCONN);

	/* SYN_SENT: the attempt is abandoned (tcp_disconnect) with ECONNRESET. */
	fd = synack_socket(e.st);
	sk = SK(&e, fd);
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EINPROGRESS);
	CHECK_EQ(synack_shutdown(e.st, fd, SHUT_WR), 0);
	CHECK_EQ(synack_tcp_state(e.st, fd), TCP_CLOSE);
	CHECK_EQ(sk->sock_state, SS_UNCONNECTED);
	CHECK_EQ(sk->sk_shutdown, 0);
	CHECK_EQ(sk->c.rport, 0);
	CHECK(!sk->in_bhash);   /* the automatic port went back */
	CHECK(!timer_pending(&sk->retransmit_timer));
	CHECK_EQ(synack_poll(e.st, fd), POLLOUT | POLLWRNORM | POLLHUP | POLLERR);
	CHECK_EQ(synack_getpeername(e.st, fd, &got), -ENOTCONN);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_ERROR), ECONNRESET);
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EINPROGRESS);   /* a fresh attempt */
	CHECK_EQ(synack_tcp_state(e.st, fd), TCP_SYN_SENT);

	/* connect(AF_UNSPEC) takes the same path. */
	dst.sin_family = AF_UNSPEC;
	CHECK_EQ(synack_connect(e.st, fd, &dst), 0);
	CHECK_EQ(synack_tcp_state(e.st, fd), TCP_CLOSE);
	CHECK_EQ(sk->sock_state, SS_UNCONNECTED);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_ERROR), ECONNRESET);

	/* Synchronized (by hand): SHUT_RD marks the receive side; reads see EOF. */
	dst = sin_of("10.0.0.2", 80);
	CHECK_EQ(synack_connect(e.st, fd, &dst), -EINPROGRESS);
	sk->c.state = TCP_ESTABLISHED;
	CHECK_EQ(synack_shutdown(e.st, fd, SHUT_RD), 0);
	CHECK_EQ(sk->sock_state, SS_CONNECTED);   /* inet_shutdown settles SS_CONNECTING */
	CHECK_EQ(sk->sk_shutdown, RCV_SHUTDOWN);
	CHECK_EQ(synack_tcp_state(e.st, fd), TCP_ESTABLISHED);
	char c;
	CHECK_EQ(synack_recv(e.st, fd, &c, 1, 0), 0);
	CHECK_EQ(synack_poll(e.st, fd) & (POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP),
		 POLLIN | POLLRDNORM | POLLRDHUP);
	sk->c.state = TCP_SYN_SENT;
	env_free(&e);
}

static int get_buf(struct env *e, int fd, int level, int name, void *buf, unsigned int *len)
{
	return synack_getsockopt(e->st, fd, level, name, buf, len);
}

TEST(sockopt_linger_keepalive_rcvlowat)
{
	struct env e;
	struct linger l = { 1, 30 }, got;
	unsigned int len;
	struct sock *sk;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	sk = SK(&e, fd);
	/* SO_LINGER: an int first (-EINVAL under 4), then the whole struct. */
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_LINGER, &l, 3), -EINVAL);
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_LINGER, &l, 4), -EINVAL);
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_LINGER, NULL, sizeof(l)), -EFAULT);
	len = sizeof(got);
	CHECK_EQ(get_buf(&e, fd, SOL_SOCKET, SO_LINGER, &got, &len), 0);
	CHECK_EQ(len, sizeof(got));
	CHECK_EQ(got.l_onoff, 0);
	CHECK_EQ(got.l_linger, 0);
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	CHECK(sk->linger_on);
	CHECK_EQ(sk->linger_secs, 30);
	len = sizeof(got);
	CHECK_EQ(get_buf(&e, fd, SOL_SOCKET, SO_LINGER, &got, &len), 0);
	CHECK_EQ(got.l_onoff, 1);
	CHECK_EQ(got.l_linger, 30);
	/* Off keeps the time. */
	l.l_onoff = 0;
	l.l_linger = 5;
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	len = sizeof(got);
	CHECK_EQ(get_buf(&e, fd, SOL_SOCKET, SO_LINGER, &got, &len), 0);
	CHECK_EQ(got.l_onoff, 0);
	CHECK_EQ(got.l_linger, 30);
	l.l_onoff = 7;
	l.l_linger = 0;   /* close() will abort */
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l) + 8), 0);
	CHECK(sk->linger_on);
	CHECK_EQ(sk->linger_secs, 0);
	l.l_linger = -1;  /* "forever" */
	CHECK_EQ(synack_setsockopt(e.st, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	CHECK_EQ(sk->linger_secs, INT_MAX);
	/* A short buffer gets l_onoff only. */
	len = 4;
	memset(&got, 0xff, sizeof(got));
	CHECK_EQ(get_buf(&e, fd, SOL_SOCKET, SO_LINGER, &got, &len), 0);
	CHECK_EQ(len, 4);
	CHECK_EQ(got.l_onoff, 1);
	CHECK_EQ(got.l_linger, -1);   /* untouched */

	/* SO_KEEPALIVE: a flag; the timer runs only on a connection. */
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_KEEPALIVE, 9), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	CHECK(!timer_pending(&sk->keepalive_timer));
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_KEEPALIVE, 0), 0);
	sk->c.state = TCP_ESTABLISHED;
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
	REQUIRE(timer_pending(&sk->keepalive_timer));
	uint64_t now_ms = stack_jiffies(e.st);
	CHECK_EQ(timer_expires_jiffy(&e.st->timers, &sk->keepalive_timer), now_ms + 7200ULL * 1000);
	/* TCP_KEEPIDLE restarts the wait with the new idle time. */
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_KEEPIDLE, 60), 0);
	CHECK_EQ(timer_expires_jiffy(&e.st->timers, &sk->keepalive_timer), now_ms + 60ULL * 1000);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_KEEPALIVE, 0), 0);
	CHECK(!timer_pending(&sk->keepalive_timer));
	sk->c.state = TCP_CLOSE;

	/* SO_RCVLOWAT: 0 means 1; capped at half the most the buffer may
	 * grow to; an unlocked buffer grows to twice the mark. */
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT), 1);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT, 0), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT), 1);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT, 1000), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT), 1000);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 131072);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT, 100000), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 200000);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT, -1), 0);   /* INT_MAX, capped */
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT), 33554432 / 2);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 33554432);
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVBUF, 10000), 0);   /* locked: 20000 */
	CHECK_EQ(set_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT, 50000), 0);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVLOWAT), 10000);
	CHECK_EQ(get_int(&e, fd, SOL_SOCKET, SO_RCVBUF), 20000);
	env_free(&e);
}

TEST(sockopt_tcp_data_options)
{
	struct env e;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	/* TCP_CORK / TCP_NODELAY: flags; nothing to push on a closed socket. */
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_CORK), 0);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_CORK, 5), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_CORK), 1);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_NODELAY, 1), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_NODELAY), 1);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_CORK), 1);   /* independent */
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_CORK, 0), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_CORK), 0);

	/* Keepalive tunables: the sysctls until set; 1..32767 s, 1..127 probes. */
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_KEEPINTVL), 75);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_KEEPCNT), 9);
	CHECK_EQ(synack_sysctl_set(e.st, "net.ipv4.tcp_keepalive_time", 600), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_KEEPIDLE), 600);
	static const int names[] = { TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT };
	static const int maxes[] = { 32767, 32767, 127 };
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, names[i], 0), -EINVAL);
		CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, names[i], -1), -EINVAL);
		CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, names[i], maxes[i] + 1), -EINVAL);
		CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, names[i], maxes[i]), 0);
		CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, names[i]), maxes[i]);
		CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, names[i], 1), 0);
		CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, names[i]), 1);
	}

	/* TCP_LINGER2: negative -> -1 (RST), capped at 120 s, 0 -> tcp_fin_timeout. */
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_LINGER2), 60);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_LINGER2, 30), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_LINGER2), 30);
	CHECK_EQ(SK(&e, fd)->linger2, 30);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_LINGER2, 500), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_LINGER2), 120);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_LINGER2, -7), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_LINGER2), -1);
	CHECK_EQ(SK(&e, fd)->linger2, -1);
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_LINGER2, 0), 0);
	CHECK_EQ(synack_sysctl_set(e.st, "net.ipv4.tcp_fin_timeout", 15), 0);
	CHECK_EQ(get_int(&e, fd, IPPROTO_TCP, TCP_LINGER2), 15);

	/* TCP_INFO and TCP_CONGESTION cannot be set as ints. */
	CHECK_EQ(set_int(&e, fd, IPPROTO_TCP, TCP_INFO, 1), -ENOPROTOOPT);
	env_free(&e);
}

TEST(sockopt_congestion)
{
	struct env e;
	char name[32];
	unsigned int len;
	int fd;

	env_init(&e);
	fd = synack_socket(e.st);
	len = sizeof(name);
	CHECK_EQ(get_buf(&e, fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	CHECK_EQ(len, 16);   /* TCP_CA_NAME_MAX */
	CHECK_STR(name, tcp_ca_default()->name);
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 0), -EINVAL);
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, TCP_CONGESTION, NULL, 4), -EFAULT);
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, TCP_CONGESTION, "vegas", 5), -ENOENT);
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, TCP_CONGESTION, "", 1), -ENOENT);
	/* Shorter than an int is fine for a string; the length bounds the name. */
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, TCP_CONGESTION, "renoX", 3), -ENOENT);
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	len = sizeof(name);
	memset(name, 'x', sizeof(name));
	CHECK_EQ(get_buf(&e, fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	CHECK_EQ(len, 16);
	CHECK_STR(name, "reno");
	CHECK_EQ(name[15], 0);
	CHECK_EQ(name[16], 'x');
	/* The NUL ends the name even within the length. */
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, TCP_CONGESTION, "cubic\0zzz", 9), 0);
	/* A short buffer gets a prefix (not NUL-terminated), as Linux. */
	len = 3;
	memset(name, 'x', sizeof(name));
	CHECK_EQ(get_buf(&e, fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	CHECK_EQ(len, 3);
	CHECK_MEM(name, "cubx", 4);
	env_free(&e);
}

TEST(sockopt_tcp_info)
{
	struct env e;
	struct synack_tcp_info info;
	unsigned int len;
	uint8_t one = 0xff;
	int fd, lfd;

	env_init(&e);
	fd = synack_socket(e.st);
	CHECK_EQ(synack_setsockopt(e.st, fd, IPPROTO_TCP, TCP_INFO, &info, sizeof(info)), -ENOPROTOOPT);
	len = sizeof(info) + 100;
	memset(&info, 0xaa, sizeof(info));
	CHECK_EQ(get_buf(&e, fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
	CHECK_EQ(len, sizeof(info));
	CHECK_EQ(info.tcpi_state, TCP_CLOSE);
	CHECK_EQ(info.tcpi_snd_cwnd, 10);
	len = 1;
	CHECK_EQ(get_buf(&e, fd, IPPROTO_TCP, TCP_INFO, &one, &len), 0);
	CHECK_EQ(len, 1);
	CHECK_EQ(one, TCP_CLOSE);
	/* TCP reads the length as unsigned: "negative" is just large. */
	len = (unsigned int)-1;
	CHECK_EQ(get_buf(&e, fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
	CHECK_EQ(len, sizeof(info));
	len = (unsigned int)-1;
	int v;
	CHECK_EQ(get_buf(&e, fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	CHECK_EQ(len, 4);
	lfd = synack_socket(e.st);
	CHECK_EQ(synack_listen(e.st, lfd, 1), 0);
	len = sizeof(info);
	CHECK_EQ(get_buf(&e, lfd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
	CHECK_EQ(info.tcpi_state, TCP_LISTEN);
	env_free(&e);
}

int main(void)
{
	RUN(bad_descriptors);
	RUN(descriptors_lowest_free_first);
	RUN(many_sockets);
	RUN(fresh_socket_defaults);
	RUN(bind_errors);
	RUN(bind_conflicts_via_api);
	RUN(listen_paths);
	RUN(accept_paths);
	RUN(connect_state_machine);
	RUN(connect_failure_reported_once);
	RUN(connect_exhausts_ports);
	RUN(sockopt_generic_errors);
	RUN(sockopt_buffers);
	RUN(sockopt_socket_level_round_trips);
	RUN(sockopt_tcp_ranges_and_round_trips);
	RUN(sockopt_defer_accept_seconds_and_retransmits);
	RUN(close_frees_everything);
	RUN(data_calls_bad_descriptors_and_arguments);
	RUN(send_errors_by_state);
	RUN(recv_errors_by_state);
	RUN(shutdown_paths);
	RUN(sockopt_linger_keepalive_rcvlowat);
	RUN(sockopt_tcp_data_options);
	RUN(sockopt_congestion);
	RUN(sockopt_tcp_info);
	return TEST_SUMMARY();
}
