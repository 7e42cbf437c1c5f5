/* Blocking mode: two stacks on real time, each on its own thread, joined by
 * a pipe pair. A server thread blocks in accept/recv/send while the client
 * blocks in connect/send/recv; SO_RCVTIMEO and SO_SNDTIMEO bound the waits;
 * a refused connect reports its error; without the thread a *_wait call
 * drives the stack itself; the event descriptor fires for timers. No
 * timing is asserted beyond "the timeout happened, not much later". */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <netinet/tcp.h>
#include "../test.h"
#include "synack/synack.h"

#define PORT 7000
#define BYTES (256 * 1024)

struct duo {
	struct synack_clock *clk;
	struct synack_link *link[2];
	struct stack *st[2];
};

static struct sockaddr_in sin_of(const char *a, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int duo_up(struct duo *d, bool threads)
{
	const char *addr[2] = { "10.1.0.1", "10.1.0.2" };

	memset(d, 0, sizeof(*d));
	d->clk = synack_clock_new_real();
	if (!d->clk || synack_pipe_pair_new(0, &d->link[0], &d->link[1]))
		return -1;
	for (int i = 0; i < 2; i++) {
		struct synack_stack_config sc = { .clock = d->clk, .name = i ? "server" : "client" };
		struct synack_if_config ic = { .prefix_len = 24 };

		inet_pton(AF_INET, addr[i], &ic.addr);
		if (synack_stack_new(&sc, &d->st[i]) || synack_if_up(d->st[i], d->link[i], &ic))
			return -1;
		if (threads && synack_thread_start(d->st[i]))
			return -1;
	}
	return 0;
}

static void duo_down(struct duo *d)
{
	for (int i = 0; i < 2; i++) {
		synack_stack_free(d->st[i]); /* joins the thread */
		synack_link_destroy(d->link[i]);
	}
	synack_clock_free(d->clk);
}

struct server {
	struct stack *st;
	int lfd;
	long got;
	int err;
};

/* Echo everything back until EOF, then close. */
static void *server_main(void *arg)
{
	struct server *s = arg;
	static char buf[16384];
	struct sockaddr_in peer;
	int fd = synack_accept_wait(s->st, s->lfd, &peer);
	long n;

	if (fd < 0) {
		s->err = fd;
		return NULL;
	}
	while ((n = synack_recv_wait(s->st, fd, buf, sizeof(buf), 0)) > 0) {
		s->got += n;
		if (synack_send_wait(s->st, fd, buf, (size_t)n, 0) != n) {
			s->err = -EIO;
			break;
		}
	}
	if (n < 0)
		s->err = (int)n;
	synack_lock(s->st);
	synack_close(s->st, fd);
	synack_unlock(s->st);
	return NULL;
}

static int listen_on(struct stack *st)
{
	struct sockaddr_in a = sin_of("10.1.0.2", PORT);
	int fd;

	synack_lock(st);
	fd = synack_socket(st);
	if (fd >= 0 && (synack_bind(st, fd, &a) || synack_listen(st, fd, 8)))
		fd = -1;
	synack_unlock(st);
	return fd;
}

/* Receive exactly len bytes (or fail). */
static long recv_all(struct stack *st, int fd, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n = synack_recv_wait(st, fd, buf + done, len - done, 0);
		if (n <= 0)
			return n;
		done += (size_t)n;
	}
	return (long)done;
}

TEST(echo_between_threads)
{
	static char out[BYTES], in[BYTES];
	struct duo d;
	struct server s = { 0 };
	struct sockaddr_in srv = sin_of("10.1.0.2", PORT);
	pthread_t tid;
	int fd;

	REQUIRE(duo_up(&d, true) == 0);
	s.st = d.st[1];
	s.lfd = listen_on(d.st[1]);
	REQUIRE(s.lfd >= 0);
	REQUIRE(pthread_create(&tid, NULL, server_main, &s) == 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + (i >> 9));
	synack_lock(d.st[0]);
	fd = synack_socket(d.st[0]);
	synack_unlock(d.st[0]);
	CHECK_EQ(synack_connect_wait(d.st[0], fd, &srv), 0);
	synack_lock(d.st[0]);
	CHECK_EQ(synack_tcp_state(d.st[0], fd), TCP_ESTABLISHED);
	synack_unlock(d.st[0]);
	CHECK_EQ(synack_send_wait(d.st[0], fd, out, sizeof(out), 0), (long)sizeof(out));
	CHECK_EQ(recv_all(d.st[0], fd, in, sizeof(in)), (long)sizeof(in));
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	synack_lock(d.st[0]);
	CHECK_EQ(synack_shutdown(d.st[0], fd, SHUT_WR), 0);
	synack_unlock(d.st[0]);
	CHECK_EQ(synack_recv_wait(d.st[0], fd, in, sizeof(in), 0), 0); /* EOF */
	pthread_join(tid, NULL);
	CHECK_EQ(s.err, 0);
	CHECK_EQ(s.got, (long)BYTES);
	duo_down(&d);
}

/* SO_RCVTIMEO: a recv with nothing coming returns -EAGAIN after about
 * the timeout; accept likewise. */
TEST(recv_and_accept_time_out)
{
	struct duo d;
	struct timeval tv = { 0, 200000 };
	struct server s = { 0 };
	struct sockaddr_in srv = sin_of("10.1.0.2", PORT);
	char buf[8];
	uint64_t t0;
	int fd, afd;

	REQUIRE(duo_up(&d, true) == 0);
	s.lfd = listen_on(d.st[1]);
	synack_lock(d.st[1]);
	CHECK_EQ(synack_setsockopt(d.st[1], s.lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	synack_unlock(d.st[1]);
	t0 = mono_ms();
	CHECK_EQ(synack_accept_wait(d.st[1], s.lfd, NULL), -EAGAIN);
	CHECK(mono_ms() - t0 >= 190);
	CHECK(mono_ms() - t0 < 5000);

	synack_lock(d.st[0]);
	fd = synack_socket(d.st[0]);
	CHECK_EQ(synack_setsockopt(d.st[0], fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	synack_unlock(d.st[0]);
	CHECK_EQ(synack_connect_wait(d.st[0], fd, &srv), 0);
	afd = synack_accept_wait(d.st[1], s.lfd, NULL);
	CHECK(afd >= 0);
	t0 = mono_ms();
	CHECK_EQ(synack_recv_wait(d.st[0], fd, buf, sizeof(buf), 0), -EAGAIN);
	CHECK(mono_ms() - t0 >= 190);
	{
		struct timeval got;
		unsigned int len = sizeof(got);
		synack_lock(d.st[0]);
		CHECK_EQ(synack_getsockopt(d.st[0], fd, SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
		synack_unlock(d.st[0]);
		CHECK_EQ(got.tv_usec, 200000);
		tv.tv_usec = 1000000;
		synack_lock(d.st[0]);
		CHECK_EQ(synack_setsockopt(d.st[0], fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), -EDOM);
		synack_unlock(d.st[0]);
	}
	duo_down(&d);
}

/* Nobody listens: the blocking connect returns the RST's error. */
TEST(connect_refused)
{
	struct duo d;
	struct sockaddr_in srv = sin_of("10.1.0.2", PORT + 1);
	int fd;

	REQUIRE(duo_up(&d, true) == 0);
	synack_lock(d.st[0]);
	fd = synack_socket(d.st[0]);
	synack_unlock(d.st[0]);
	CHECK_EQ(synack_connect_wait(d.st[0], fd, &srv), -ECONNREFUSED);
	duo_down(&d);
}

/* No threads: the waiting call runs the stack itself. The server stack is
 * driven by its own thread; the client only by its blocking calls. */
TEST(inline_driving_without_thread)
{
	struct duo d;
	struct server s = { 0 };
	struct sockaddr_in srv = sin_of("10.1.0.2", PORT);
	pthread_t tid;
	char buf[16];
	int fd;

	REQUIRE(duo_up(&d, false) == 0);
	REQUIRE(synack_thread_start(d.st[1]) == 0);
	CHECK_EQ(synack_thread_start(d.st[1]), -EBUSY);
	s.st = d.st[1];
	s.lfd = listen_on(d.st[1]);
	REQUIRE(pthread_create(&tid, NULL, server_main, &s) == 0);
	fd = synack_socket(d.st[0]);
	CHECK_EQ(synack_connect_wait(d.st[0], fd, &srv), 0);
	CHECK_EQ(synack_send_wait(d.st[0], fd, "ping", 4, 0), 4);
	CHECK_EQ(recv_all(d.st[0], fd, buf, 4), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_EQ(synack_close(d.st[0], fd), 0);
	pthread_join(tid, NULL);
	duo_down(&d);
}

/* The event descriptor polls readable when a timer falls due: a SYN to
 * a silent peer is retransmitted at 1 s without anything else waking us. */
TEST(event_fd_fires_for_timers)
{
	struct synack_clock *clk = synack_clock_new_real();
	struct synack_link *a, *b;
	struct stack *st;
	struct synack_stack_config sc = { .clock = clk };
	struct synack_if_config ic = { .prefix_len = 24 };
	struct sockaddr_in dst = sin_of("10.1.0.9", 80);
	struct pollfd pfd;
	uint64_t t0;
	int efd, fd;

	REQUIRE(clk && synack_pipe_pair_new(0, &a, &b) == 0);
	inet_pton(AF_INET, "10.1.0.1", &ic.addr);
	REQUIRE(synack_stack_new(&sc, &st) == 0 && synack_if_up(st, a, &ic) == 0);
	efd = synack_stack_event_fd(st);
	REQUIRE(efd >= 0);
	while (synack_stack_poll(st) > 0)
		;
	fd = synack_socket(st);
	/* ARP for 10.1.0.9 goes unanswered: its retry timer must fire. */
	CHECK_EQ(synack_connect(st, fd, &dst), -EINPROGRESS);
	t0 = mono_ms();
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	CHECK(mono_ms() - t0 < 3000);
	CHECK(synack_stack_poll(st) > 0);
	CHECK_EQ(synack_thread_stop(st), -EINVAL);
	synack_stack_free(st);
	synack_link_destroy(a);
	synack_link_destroy(b);
	synack_clock_free(clk);
}

TEST(virtual_clock_refused)
{
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct synack_stack_config sc = { .clock = clk, .seeded = true, .seed = 1 };
	struct stack *st;

	REQUIRE(synack_stack_new(&sc, &st) == 0);
	CHECK_EQ(synack_thread_start(st), -EINVAL);
	CHECK_EQ(synack_recv_wait(st, 0, NULL, 0, 0), -EOPNOTSUPP);
	synack_stack_free(st);
	synack_clock_free(clk);
}

int main(void)
{
	RUN(echo_between_threads);
	RUN(recv_and_accept_time_out);
	RUN(connect_refused);
	RUN(inline_driving_without_thread);
	RUN(event_fd_fires_for_timers);
	RUN(virtual_clock_refused);
	return TEST_SUMMARY();
}
