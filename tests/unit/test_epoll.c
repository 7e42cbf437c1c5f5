/* synack_epoll_*: level- and edge-triggered readiness, one-shot, the
 * always-reported HUP/ERR, EPOLLRDHUP, registration errors, and the
 * registration going away with its socket; two stacks on a sim wire on
 * virtual time. Also the event-loop descriptor on a virtual clock. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "../test.h"
#include "synack/synack.h"

#define MS 1000000ULL

struct pair {
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct stack *st[2];
	int cfd, lfd, afd;
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

static int pair_up(struct pair *p)
{
	struct synack_sim_config wc = { .delay_ns = 1 * MS, .seed = 7 };
	const char *addr[2] = { "10.0.0.1", "10.0.0.2" };

	memset(p, 0, sizeof(*p));
	p->clk = synack_clock_new_virtual(0);
	if (synack_sim_wire_new(p->clk, &wc, &p->wire))
		return -1;
	for (int i = 0; i < 2; i++) {
		struct synack_stack_config sc = { .clock = p->clk, .seeded = true, .seed = 11 + (uint64_t)i };
		struct synack_if_config ic = { .prefix_len = 24 };

		inet_pton(AF_INET, addr[i], &ic.addr);
		if (synack_stack_new(&sc, &p->st[i]) || synack_if_up(p->st[i], synack_sim_wire_end(p->wire, i), &ic))
			return -1;
	}
	return 0;
}

static void pair_down(struct pair *p)
{
	synack_stack_free(p->st[0]);
	synack_stack_free(p->st[1]);
	synack_sim_wire_free(p->wire);
	synack_clock_free(p->clk);
}

static int wait1(struct pair *p, int side, int ep, struct epoll_event *ev)
{
	return synack_epoll_wait(p->st[side], ep, ev, 1);
}

/* The listener reports EPOLLIN once a child is ready; accept empties it. */
TEST(listener_readable_when_child_ready)
{
	struct pair p;
	struct sockaddr_in srv = sin_of("10.0.0.2", 80);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 }, out[4];
	int ep;

	REQUIRE(pair_up(&p) == 0);
	p.lfd = synack_socket(p.st[1]);
	REQUIRE(synack_bind(p.st[1], p.lfd, &srv) == 0 && synack_listen(p.st[1], p.lfd, 8) == 0);
	ep = synack_epoll_create(p.st[1]);
	REQUIRE(ep >= 0);
	CHECK_EQ(synack_epoll_ctl(p.st[1], ep, EPOLL_CTL_ADD, p.lfd, &ev), 0);
	CHECK_EQ(synack_epoll_wait(p.st[1], ep, out, 4), 0);
	p.cfd = synack_socket(p.st[0]);
	CHECK_EQ(synack_connect(p.st[0], p.cfd, &srv), -EINPROGRESS);
	run_for(&p, 10 * MS);
	CHECK_EQ(synack_epoll_wait(p.st[1], ep, out, 4), 1);
	CHECK_EQ(out[0].events, (uint32_t)EPOLLIN);
	CHECK_EQ(out[0].data.u64, 42);
	/* Level-triggered: still reported until accepted. */
	CHECK_EQ(synack_epoll_wait(p.st[1], ep, out, 4), 1);
	p.afd = synack_accept(p.st[1], p.lfd, NULL);
	CHECK(p.afd >= 0);
	CHECK_EQ(synack_epoll_wait(p.st[1], ep, out, 4), 0);
	CHECK_EQ(synack_epoll_close(p.st[1], ep), 0);
	pair_down(&p);
}

static int connect_pair(struct pair *p)
{
	struct sockaddr_in srv = sin_of("10.0.0.2", 80);

	p->lfd = synack_socket(p->st[1]);
	if (synack_bind(p->st[1], p->lfd, &srv) || synack_listen(p->st[1], p->lfd, 8))
		return -1;
	p->cfd = synack_socket(p->st[0]);
	if (synack_connect(p->st[0], p->cfd, &srv) != -EINPROGRESS)
		return -1;
	run_for(p, 10 * MS);
	p->afd = synack_accept(p->st[1], p->lfd, NULL);
	return p->afd >= 0 ? 0 : -1;
}

/* Level-triggered EPOLLIN stays until the data is read; edge-triggered is
 * reported once per arrival. */
TEST(data_level_and_edge_triggered)
{
	struct pair p;
	struct epoll_event lt = { .events = EPOLLIN, .data.u64 = 1 }, out;
	struct epoll_event et = { .events = EPOLLIN | EPOLLET, .data.u64 = 2 };
	char buf[64];
	int ep_lt, ep_et;

	REQUIRE(pair_up(&p) == 0 && connect_pair(&p) == 0);
	ep_lt = synack_epoll_create(p.st[1]);
	ep_et = synack_epoll_create(p.st[1]);
	CHECK(ep_lt >= 0 && ep_et >= 0 && ep_lt != ep_et);
	CHECK_EQ(synack_epoll_ctl(p.st[1], ep_lt, EPOLL_CTL_ADD, p.afd, &lt), 0);
	CHECK_EQ(synack_epoll_ctl(p.st[1], ep_et, EPOLL_CTL_ADD, p.afd, &et), 0);
	CHECK_EQ(wait1(&p, 1, ep_lt, &out), 0);
	CHECK_EQ(wait1(&p, 1, ep_et, &out), 0);
	CHECK_EQ(synack_send(p.st[0], p.cfd, "hello", 5, 0), 5);
	run_for(&p, 10 * MS);
	CHECK_EQ(wait1(&p, 1, ep_lt, &out), 1);
	CHECK_EQ(out.data.u64, 1);
	CHECK_EQ(wait1(&p, 1, ep_lt, &out), 1);
	CHECK_EQ(wait1(&p, 1, ep_et, &out), 1);
	CHECK_EQ(out.data.u64, 2);
	CHECK_EQ(out.events, (uint32_t)EPOLLIN);
	/* Not read, no new arrival: edge-triggered stays quiet. */
	CHECK_EQ(wait1(&p, 1, ep_et, &out), 0);
	CHECK_EQ(synack_send(p.st[0], p.cfd, "again", 5, 0), 5);
	run_for(&p, 10 * MS);
	CHECK_EQ(wait1(&p, 1, ep_et, &out), 1);
	CHECK_EQ(synack_recv(p.st[1], p.afd, buf, sizeof(buf), 0), 10);
	CHECK_EQ(wait1(&p, 1, ep_lt, &out), 0);
	pair_down(&p);
}

/* EPOLLOUT on a connected socket; one-shot reports once until MOD. */
TEST(writable_and_oneshot)
{
	struct pair p;
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLONESHOT, .data.u64 = 9 }, out;
	int ep;

	REQUIRE(pair_up(&p) == 0 && connect_pair(&p) == 0);
	ep = synack_epoll_create(p.st[0]);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, EPOLL_CTL_ADD, p.cfd, &ev), 0);
	CHECK_EQ(wait1(&p, 0, ep, &out), 1);
	CHECK_EQ(out.events, (uint32_t)EPOLLOUT);
	CHECK_EQ(wait1(&p, 0, ep, &out), 0);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, EPOLL_CTL_MOD, p.cfd, &ev), 0);
	CHECK_EQ(wait1(&p, 0, ep, &out), 1);
	pair_down(&p);
}

/* The peer's FIN: EPOLLIN | EPOLLRDHUP when asked; a reset: EPOLLERR and
 * EPOLLHUP even when not asked. */
TEST(rdhup_and_error_reported)
{
	struct pair p;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET }, out;
	struct epoll_event quiet = { .events = 0 };
	struct linger lin = { 1, 0 };
	int ep, ep2;

	REQUIRE(pair_up(&p) == 0 && connect_pair(&p) == 0);
	ep = synack_epoll_create(p.st[1]);
	ep2 = synack_epoll_create(p.st[0]);
	CHECK_EQ(synack_epoll_ctl(p.st[1], ep, EPOLL_CTL_ADD, p.afd, &ev), 0);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep2, EPOLL_CTL_ADD, p.cfd, &quiet), 0);
	CHECK_EQ(synack_shutdown(p.st[0], p.cfd, SHUT_WR), 0);
	run_for(&p, 10 * MS);
	CHECK_EQ(wait1(&p, 1, ep, &out), 1);
	CHECK_EQ(out.events, (uint32_t)(EPOLLIN | EPOLLRDHUP));
	CHECK_EQ(wait1(&p, 0, ep2, &out), 0);
	CHECK_EQ(synack_setsockopt(p.st[1], p.afd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin)), 0);
	CHECK_EQ(synack_close(p.st[1], p.afd), 0);
	run_for(&p, 10 * MS);
	CHECK_EQ(wait1(&p, 0, ep2, &out), 1);
	CHECK(out.events & EPOLLERR);
	CHECK(out.events & EPOLLHUP);
	pair_down(&p);
}

TEST(ctl_errors)
{
	struct pair p;
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep, fd;

	REQUIRE(pair_up(&p) == 0);
	ep = synack_epoll_create(p.st[0]);
	fd = synack_socket(p.st[0]);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep + 100, EPOLL_CTL_ADD, fd, &ev), -EBADF);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, EPOLL_CTL_ADD, fd + 100, &ev), -EBADF);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, 99, fd, &ev), -EINVAL);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, EPOLL_CTL_ADD, fd, NULL), -EFAULT);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, EPOLL_CTL_MOD, fd, &ev), -ENOENT);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, EPOLL_CTL_DEL, fd, NULL), -ENOENT);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, EPOLL_CTL_ADD, fd, &ev), 0);
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, EPOLL_CTL_ADD, fd, &ev), -EEXIST);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK_EQ(synack_epoll_ctl(p.st[0], ep, EPOLL_CTL_MOD, fd, &ev), -EINVAL);
	CHECK_EQ(synack_epoll_wait(p.st[0], ep, &out, 0), -EINVAL);
	CHECK_EQ(synack_epoll_wait(p.st[0], ep + 100, &out, 1), -EBADF);
	/* A socket never connected is CLOSE: POLLOUT | POLLHUP, as Linux. */
	CHECK_EQ(synack_epoll_wait(p.st[0], ep, &out, 1), 1);
	CHECK_EQ(out.events, (uint32_t)EPOLLHUP);
	/* Closing the socket takes its registration with it. */
	CHECK_EQ(synack_close(p.st[0], fd), 0);
	CHECK_EQ(synack_epoll_wait(p.st[0], ep, &out, 1), 0);
	CHECK_EQ(synack_epoll_close(p.st[0], ep), 0);
	CHECK_EQ(synack_epoll_close(p.st[0], ep), -EBADF);
	/* Instances left open are freed with the stack (LeakSanitizer checks). */
	CHECK(synack_epoll_create(p.st[0]) >= 0);
	pair_down(&p);
}

static int readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0);
}

/* On a virtual clock the event descriptor watches the link (a sim wire has
 * no descriptor) and the epoll ready lists: it polls readable while a
 * registration waits to be collected, as a Linux epoll descriptor does. */
TEST(event_fd_follows_ready_list)
{
	struct pair p;
	struct epoll_event ev = { .events = EPOLLIN }, out[1];
	int efd, ep;

	REQUIRE(pair_up(&p) == 0 && connect_pair(&p) == 0);
	efd = synack_stack_event_fd(p.st[1]);
	CHECK(efd >= 0);
	CHECK_EQ(synack_stack_event_fd(p.st[1]), efd);
	CHECK_EQ(readable(efd), 0);
	ep = synack_epoll_create(p.st[1]);
	CHECK_EQ(synack_send(p.st[0], p.cfd, "x", 1, 0), 1);
	run_for(&p, 10 * MS);
	CHECK_EQ(readable(efd), 0); /* nothing registered yet */
	/* Registered while data waits: ready at once, with no frame or timer. */
	CHECK_EQ(synack_epoll_ctl(p.st[1], ep, EPOLL_CTL_ADD, p.afd, &ev), 0);
	CHECK_EQ(readable(efd), 1);
	CHECK_EQ(synack_epoll_wait(p.st[1], ep, out, 1), 1);
	CHECK_EQ(readable(efd), 1); /* level-triggered and still unread */
	{
		char c;
		CHECK_EQ(synack_recv(p.st[1], p.afd, &c, 1, 0), 1);
	}
	CHECK_EQ(synack_epoll_wait(p.st[1], ep, out, 1), 0);
	CHECK_EQ(readable(efd), 0);
	pair_down(&p);
}

/* synack_stack_orphans counts closed sockets until their close is done. */
TEST(orphans_counted_until_closed)
{
	struct pair p;

	REQUIRE(pair_up(&p) == 0 && connect_pair(&p) == 0);
	CHECK_EQ(synack_stack_orphans(p.st[0]), 0u);
	CHECK_EQ(synack_close(p.st[0], p.cfd), 0);
	CHECK_EQ(synack_stack_orphans(p.st[0]), 1u); /* FIN-WAIT-1 */
	run_for(&p, 10 * MS);
	CHECK_EQ(synack_stack_orphans(p.st[0]), 1u); /* FIN-WAIT-2 */
	CHECK_EQ(synack_close(p.st[1], p.afd), 0);
	run_for(&p, 10 * MS);
	CHECK_EQ(synack_stack_orphans(p.st[0]), 0u); /* TIME-WAIT is a minisock */
	CHECK_EQ(synack_stack_orphans(p.st[1]), 0u);
	CHECK_EQ(synack_stack_orphans(NULL), 0u);
	pair_down(&p);
}

int main(void)
{
	RUN(listener_readable_when_child_ready);
	RUN(data_level_and_edge_triggered);
	RUN(writable_and_oneshot);
	RUN(rdhup_and_error_reported);
	RUN(ctl_errors);
	RUN(event_fd_follows_ready_list);
	RUN(orphans_counted_until_closed);
	return TEST_SUMMARY();
}
