/* The data calls between two stacks on a sim wire: send/recv, vectors,
 * MSG_PEEK, half-close and EOF, -EPIPE after SHUT_WR, poll in each phase,
 * and options on a live connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "../test.h"
#include "core/stack.h"

#define TCP_NODELAY 1
#define TCP_CORK 3
#define TCP_INFO 11
#define TCP_CONGESTION 13
#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

#define MS 1000000ULL

struct pair {
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct stack *st[2];
	int cfd, lfd, afd;   /* client, listener, accepted */
};

static struct sockaddr_in sin_of(const char *a, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static void run_for(struct pair *p, uint64_t ns)
{
	synack_run_virtual(p->clk, p->st, 2, synack_clock_now(p->clk) + ns);
}

static int pair_up(struct pair *p, uint64_t seed)
{
	struct synack_sim_config wc = { .delay_ns = 1 * MS, .seed = seed };
	const char *addr[2] = { "10.0.0.1", "10.0.0.2" };

	memset(p, 0, sizeof(*p));
	p->clk = synack_clock_new_virtual(0);
	if (synack_sim_wire_new(p->clk, &wc, &p->wire))
		return -1;
	for (int i = 0; i < 2; i++) {
		struct synack_stack_config sc = { .clock = p->clk, .name = i ? "server" : "client", .seeded = true,
						  .seed = seed * 2 + (uint64_t)i };
		struct synack_if_config ic = { .prefix_len = 24 };

		inet_pton(AF_INET, addr[i], &ic.addr);
		if (synack_stack_new(&sc, &p->st[i]) || synack_if_up(p->st[i], synack_sim_wire_end(p->wire, i), &ic))
			return -1;
	}
	return 0;
}

/* Listen, connect, run until accepted. 0 when both ends are ESTABLISHED. */
static int connect_pair(struct pair *p)
{
	struct sockaddr_in srv = sin_of("10.0.0.2", 80);

	p->afd = -EAGAIN;
	p->lfd = synack_socket(p->st[1]);
	if (p->lfd < 0 || synack_bind(p->st[1], p->lfd, &srv) || synack_listen(p->st[1], p->lfd, 16))
		return -1;
	p->cfd = synack_socket(p->st[0]);
	if (synack_connect(p->st[0], p->cfd, &srv) != -EINPROGRESS)
		return -2;
	for (int i = 0; i < 100 && p->afd == -EAGAIN; i++) {
		run_for(p, 10 * MS);
		p->afd = synack_accept(p->st[1], p->lfd, NULL);
	}
	if (p->afd < 0)
		return -3;
	if (synack_connect(p->st[0], p->cfd, &srv) != 0)
		return -4;
	return 0;
}

static void pair_down(struct pair *p)
{
	for (int i = 0; i < 2; i++)
		synack_stack_free(p->st[i]);
	synack_sim_wire_free(p->wire);
	synack_clock_free(p->clk);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

/* Read until want bytes or nothing more comes; returns bytes read. */
static size_t drain(struct pair *p, int side, int fd, uint8_t *buf, size_t want)
{
	size_t got = 0;

	for (int i = 0; i < 200 && got < want; i++) {
		long n = synack_recv(p->st[side], fd, buf + got, want - got, 0);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n != -EAGAIN)
			break;
		run_for(p, 10 * MS);
	}
	return got;
}

TEST(send_recv_a_few_kilobytes)
{
	struct pair p;
	static uint8_t out[6000], in[6000];
	size_t sent = 0;

	REQUIRE(pair_up(&p, 1) == 0);
	REQUIRE(connect_pair(&p) == 0);
	fill(out, sizeof(out), 1);
	for (int i = 0; i < 100 && sent < sizeof(out); i++) {
		long n = synack_send(p.st[0], p.cfd, out + sent, sizeof(out) - sent, 0);

		if (n > 0)
			sent += (size_t)n;
		else
			CHECK_EQ(n, -EAGAIN);
		run_for(&p, 5 * MS);
	}
	CHECK_EQ(sent, sizeof(out));
	CHECK_EQ(drain(&p, 1, p.afd, in, sizeof(in)), sizeof(in));
	CHECK_MEM(in, out, sizeof(out));
	/* Nothing more: -EAGAIN, and the other direction works too. */
	CHECK_EQ(synack_recv(p.st[1], p.afd, in, 1, 0), -EAGAIN);
	CHECK_EQ(synack_send(p.st[1], p.afd, "pong", 4, 0), 4);
	run_for(&p, 20 * MS);
	CHECK_EQ(synack_recv(p.st[0], p.cfd, in, sizeof(in), MSG_DONTWAIT), 4);
	CHECK_MEM(in, "pong", 4);
	pair_down(&p);
}

TEST(vectors_and_peek)
{
	struct pair p;
	char a[] = "hello, ", b[] = "vectored ", c[] = "world";
	struct iovec out[3] = { { a, 7 }, { b, 9 }, { c, 5 } };
	char x[4], y[8], z[32];
	struct iovec in[3] = { { x, sizeof(x) }, { y, sizeof(y) }, { z, sizeof(z) } };
	char peek[32];

	REQUIRE(pair_up(&p, 2) == 0);
	REQUIRE(connect_pair(&p) == 0);
	CHECK_EQ(synack_sendv(p.st[0], p.cfd, out, 3, 0), 21);
	CHECK_EQ(synack_sendv(p.st[0], p.cfd, out, 0, 0), 0);
	run_for(&p, 20 * MS);
	/* MSG_PEEK leaves the bytes queued, however often. */
	CHECK_EQ(synack_recv(p.st[1], p.afd, peek, 5, MSG_PEEK), 5);
	CHECK_MEM(peek, "hello", 5);
	CHECK_EQ(synack_recv(p.st[1], p.afd, peek, sizeof(peek), MSG_PEEK), 21);
	CHECK_MEM(peek, "hello, vectored world", 21);
	CHECK(synack_poll(p.st[1], p.afd) & POLLIN);
	CHECK_EQ(synack_recvv(p.st[1], p.afd, in, 3, 0), 21);
	CHECK_MEM(x, "hell", 4);
	CHECK_MEM(y, "o, vecto", 8);
	CHECK_MEM(z, "red world", 9);
	CHECK_EQ(synack_recv(p.st[1], p.afd, peek, sizeof(peek), MSG_PEEK), -EAGAIN);
	CHECK_EQ(synack_poll(p.st[1], p.afd) & POLLIN, 0);
	pair_down(&p);
}

/* The msghdr forms: vectors in and out, no source address or control
 * data from TCP, bad headers refused with Linux's errnos. */
TEST(sendmsg_recvmsg)
{
	struct pair p;
	char a[] = "msg", b[] = "hdr";
	struct iovec out[2] = { { a, 3 }, { b, 3 } };
	char x[2], y[16];
	struct iovec in[2] = { { x, sizeof(x) }, { y, sizeof(y) } };
	struct sockaddr_in from;
	char cbuf[8];
	struct msghdr m = { .msg_iov = out, .msg_iovlen = 2 };
	struct msghdr r = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = in, .msg_iovlen = 2,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf), .msg_flags = -1 };

	REQUIRE(pair_up(&p, 3) == 0);
	REQUIRE(connect_pair(&p) == 0);
	CHECK_EQ(synack_sendmsg(p.st[0], p.cfd, &m, 0), 6);
	run_for(&p, 20 * MS);
	CHECK_EQ(synack_recvmsg(p.st[1], p.afd, &r, 0), 6);
	CHECK_MEM(x, "ms", 2);
	CHECK_MEM(y, "ghdr", 4);
	CHECK_EQ(r.msg_namelen, 0);
	CHECK_EQ(r.msg_controllen, 0);
	CHECK_EQ(r.msg_flags, 0);
	CHECK_EQ(synack_recvmsg(p.st[1], p.afd, &r, 0), -EAGAIN);
	CHECK_EQ(synack_sendmsg(p.st[0], p.cfd, NULL, 0), -EFAULT);
	CHECK_EQ(synack_recvmsg(p.st[1], p.afd, NULL, 0), -EFAULT);
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	CHECK_EQ(synack_sendmsg(p.st[0], p.cfd, &m, 0), -EINVAL);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	m.msg_iovlen = 1025;
	CHECK_EQ(synack_sendmsg(p.st[0], p.cfd, &m, 0), -EMSGSIZE);
	r.msg_iovlen = 1025;
	CHECK_EQ(synack_recvmsg(p.st[1], p.afd, &r, 0), -EMSGSIZE);
	m.msg_iovlen = 2;
	m.msg_name = &from;
	m.msg_namelen = 2;
	CHECK_EQ(synack_sendmsg(p.st[0], p.cfd, &m, 0), -EINVAL);
	CHECK_EQ(synack_sendmsg(p.st[0], 999, &m, 0), -EBADF);
	pair_down(&p);
}

TEST(poll_in_each_phase)
{
	struct pair p;
	struct sockaddr_in srv = sin_of("10.0.0.2", 80);
	char buf[64];

	REQUIRE(pair_up(&p, 3) == 0);
	p.lfd = synack_socket(p.st[1]);
	REQUIRE(synack_bind(p.st[1], p.lfd, &srv) == 0);
	REQUIRE(synack_listen(p.st[1], p.lfd, 4) == 0);
	CHECK_EQ(synack_poll(p.st[1], p.lfd), 0);
	p.cfd = synack_socket(p.st[0]);
	CHECK_EQ(synack_poll(p.st[0], p.cfd), POLLOUT | POLLWRNORM | POLLHUP);   /* fresh */
	CHECK_EQ(synack_connect(p.st[0], p.cfd, &srv), -EINPROGRESS);
	CHECK_EQ(synack_poll(p.st[0], p.cfd), 0);   /* SYN_SENT */
	run_for(&p, 50 * MS);
	CHECK_EQ(synack_poll(p.st[1], p.lfd), POLLIN | POLLRDNORM);   /* accept ready */
	p.afd = synack_accept(p.st[1], p.lfd, NULL);
	REQUIRE(p.afd >= 0);
	CHECK_EQ(synack_poll(p.st[1], p.lfd), 0);
	/* Established, idle: writable only. */
	CHECK_EQ(synack_poll(p.st[0], p.cfd), POLLOUT | POLLWRNORM);
	CHECK_EQ(synack_poll(p.st[1], p.afd), POLLOUT | POLLWRNORM);
	/* Data waiting: readable. */
	CHECK_EQ(synack_send(p.st[0], p.cfd, "0123456789", 10, 0), 10);
	run_for(&p, 20 * MS);
	CHECK_EQ(synack_poll(p.st[1], p.afd), POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
	/* SO_RCVLOWAT: readable only from that many bytes. */
	CHECK_EQ(synack_setsockopt(p.st[1], p.afd, SOL_SOCKET, SO_RCVLOWAT, &(int){ 15 }, sizeof(int)), 0);
	CHECK_EQ(synack_poll(p.st[1], p.afd) & POLLIN, 0);
	CHECK_EQ(synack_send(p.st[0], p.cfd, "abcde", 5, 0), 5);
	run_for(&p, 20 * MS);
	CHECK_EQ(synack_poll(p.st[1], p.afd) & POLLIN, POLLIN);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), 0), 15);
	/* A full send buffer: no POLLOUT, -EAGAIN. */
	int small = 4608;
	CHECK_EQ(synack_setsockopt(p.st[0], p.cfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	static uint8_t big[65536];
	long n, total = 0;
	while ((n = synack_send(p.st[0], p.cfd, big, sizeof(big), 0)) > 0)
		total += n;
	CHECK_EQ(n, -EAGAIN);
	CHECK(total > 0);
	CHECK_EQ(synack_poll(p.st[0], p.cfd) & POLLOUT, 0);
	/* Once acknowledged, writable again. */
	for (int i = 0; i < 50 && !(synack_poll(p.st[0], p.cfd) & POLLOUT); i++) {
		run_for(&p, 10 * MS);
		while (synack_recv(p.st[1], p.afd, big, sizeof(big), 0) > 0)
			;
	}
	CHECK(synack_poll(p.st[0], p.cfd) & POLLOUT);
	pair_down(&p);
}

/* The client shuts its sending side: the server reads the data, then EOF
 * (0, again and again); the client may still read; its sends fail -EPIPE. */
TEST(half_close_eof_and_epipe)
{
	struct pair p;
	char buf[64];

	REQUIRE(pair_up(&p, 4) == 0);
	REQUIRE(connect_pair(&p) == 0);
	CHECK_EQ(synack_send(p.st[0], p.cfd, "last words", 10, 0), 10);
	CHECK_EQ(synack_shutdown(p.st[0], p.cfd, SHUT_WR), 0);
	CHECK_EQ(synack_send(p.st[0], p.cfd, "more", 4, 0), -EPIPE);
	CHECK_EQ(synack_send(p.st[0], p.cfd, "more", 4, MSG_NOSIGNAL), -EPIPE);
	CHECK(synack_poll(p.st[0], p.cfd) & POLLOUT);   /* a write fails at once */
	run_for(&p, 50 * MS);
	CHECK_EQ(synack_tcp_state(p.st[1], p.afd), 8 /* CLOSE_WAIT */);
	CHECK_EQ(synack_tcp_state(p.st[0], p.cfd), 5 /* FIN_WAIT2 */);
	CHECK_EQ(synack_poll(p.st[1], p.afd) & (POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), 0), 10);
	CHECK_MEM(buf, "last words", 10);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), 0), 0);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), MSG_PEEK), 0);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), 0), 0);
	/* Half-open the other way: the server still sends, the client reads. */
	CHECK_EQ(synack_send(p.st[1], p.afd, "reply", 5, 0), 5);
	run_for(&p, 20 * MS);
	CHECK_EQ(synack_recv(p.st[0], p.cfd, buf, sizeof(buf), 0), 5);
	CHECK_MEM(buf, "reply", 5);
	/* The server shuts too: both ends see the whole shutdown. */
	CHECK_EQ(synack_shutdown(p.st[1], p.afd, SHUT_WR), 0);
	CHECK_EQ(synack_poll(p.st[1], p.afd) & POLLHUP, POLLHUP);
	run_for(&p, 50 * MS);
	CHECK_EQ(synack_recv(p.st[0], p.cfd, buf, sizeof(buf), 0), 0);
	CHECK_EQ(synack_close(p.st[0], p.cfd), 0);
	CHECK_EQ(synack_close(p.st[1], p.afd), 0);
	pair_down(&p);
}

TEST(options_on_a_live_connection)
{
	struct pair p;
	struct synack_tcp_info info;
	unsigned int len = sizeof(info);
	char name[16], buf[64];

	REQUIRE(pair_up(&p, 5) == 0);
	REQUIRE(connect_pair(&p) == 0);
	CHECK_EQ(synack_getsockopt(p.st[0], p.cfd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
	CHECK_EQ(len, sizeof(info));
	CHECK_EQ(info.tcpi_state, 1 /* ESTABLISHED */);
	CHECK_EQ(info.tcpi_snd_mss, 1448);   /* 1500 MTU with timestamps */
	CHECK(info.tcpi_options & SYNACK_TCPI_OPT_TIMESTAMPS);
	/* Congestion control switches on a live connection. */
	CHECK_EQ(synack_setsockopt(p.st[0], p.cfd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	len = sizeof(name);
	CHECK_EQ(synack_getsockopt(p.st[0], p.cfd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	CHECK_STR(name, "reno");
	/* TCP_CORK holds a small write back; clearing it sends it. */
	CHECK_EQ(synack_setsockopt(p.st[0], p.cfd, IPPROTO_TCP, TCP_CORK, &(int){ 1 }, sizeof(int)), 0);
	CHECK_EQ(synack_send(p.st[0], p.cfd, "corked", 6, 0), 6);
	run_for(&p, 20 * MS);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), 0), -EAGAIN);
	CHECK_EQ(synack_setsockopt(p.st[0], p.cfd, IPPROTO_TCP, TCP_CORK, &(int){ 0 }, sizeof(int)), 0);
	run_for(&p, 20 * MS);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), 0), 6);
	/* MSG_MORE likewise for one call; TCP_NODELAY pushes what is held. */
	CHECK_EQ(synack_send(p.st[0], p.cfd, "more", 4, MSG_MORE), 4);
	run_for(&p, 20 * MS);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), 0), -EAGAIN);
	CHECK_EQ(synack_setsockopt(p.st[0], p.cfd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)), 0);
	run_for(&p, 20 * MS);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), 0), 4);
	/* SO_KEEPALIVE on a connection starts the keepalive timer. */
	CHECK_EQ(synack_setsockopt(p.st[1], p.afd, SOL_SOCKET, SO_KEEPALIVE, &(int){ 1 }, sizeof(int)), 0);
	CHECK(timer_pending(&p.st[1]->tcp.fds[p.afd]->keepalive_timer));
	pair_down(&p);
}

int main(void)
{
	RUN(send_recv_a_few_kilobytes);
	RUN(vectors_and_peek);
	RUN(sendmsg_recvmsg);
	RUN(poll_in_each_phase);
	RUN(half_close_eof_and_epipe);
	RUN(options_on_a_live_connection);
	return TEST_SUMMARY();
}
