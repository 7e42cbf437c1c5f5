/*
 * What the TAP benches (tap_bulk.c, latency.c) share: a synack stack on a
 * TAP device, driven by busy polling on the real clock, and the Linux
 * socket ends they are measured against. The namespaces, devices and
 * addresses are made by bench/tap_bench.sh; the programs only use them.
 * Header-only (static functions): each bench is one executable.
 */
#ifndef SYNACK_BENCH_TAP_UTIL_H
#define SYNACK_BENCH_TAP_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "synack/synack.h"

static inline double tu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline uint64_t tu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int tu_die(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static inline struct sockaddr_in tu_sin(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (inet_pton(AF_INET, addr, &s.sin_addr) != 1)
		tu_die(addr, EINVAL);
	return s;
}

/* ------------------------------------------------------------ synack */

struct tu_synack {
	struct synack_clock *clk;
	struct synack_link *link;
	struct stack *st;
};

/* A stack on TAP device tap (made by the script) at cidr. */
static inline void tu_synack_up(struct tu_synack *s, const char *tap, const char *cidr, bool no_offload)
{
	struct synack_tap_config tc = { .ifname = tap, .no_offload = no_offload };
	struct synack_if_config ic = { 0 };
	struct synack_stack_config sc;
	int err;

	s->clk = synack_clock_new_real();
	if (!s->clk)
		tu_die("clock", ENOMEM);
	sc = (struct synack_stack_config){ .clock = s->clk, .name = "bench" };
	if ((err = synack_parse_cidr(cidr, &ic.addr, &ic.prefix_len)) < 0)
		tu_die(cidr, err);
	if ((err = synack_tap_open_config(&tc, &s->link)) < 0)
		tu_die(tap, err);
	if ((err = synack_stack_new(&sc, &s->st)) < 0 || (err = synack_if_up(s->st, s->link, &ic)) < 0)
		tu_die("stack", err);
}

static inline void tu_synack_down(struct tu_synack *s)
{
	synack_stack_free(s->st);
	synack_link_destroy(s->link);
	synack_clock_free(s->clk);
}

/* After a round without work, sleep until the TAP has a frame or a timer
 * is due (at most 1 ms): spinning would take the CPU the kernel's side of
 * the transfer needs on a small machine. Latency runs spin instead. */
static inline void tu_synack_idle(struct tu_synack *s)
{
	uint64_t now = synack_clock_now(s->clk), next = synack_stack_next_deadline(s->st), wait = 1000000;
	struct pollfd p = { .fd = synack_stack_wait_fd(s->st), .events = POLLIN };
	struct timespec ts;

	if (next <= now)
		return;
	if (next - now < wait)
		wait = next - now;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)wait;
	ppoll(&p, 1, &ts, NULL);
}

/* Large buffers both ways: synack does not autotune its windows yet. */
static inline void tu_synack_bufs(struct tu_synack *s, int fd, int bytes)
{
	synack_setsockopt(s->st, fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	synack_setsockopt(s->st, fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

/* Poll until fd shows one of events (or an error): busy, as the bench is. */
static inline void tu_synack_wait(struct tu_synack *s, int fd, int events, double timeout_s)
{
	double end = tu_now() + timeout_s;

	for (;;) {
		synack_stack_poll(s->st);
		int ev = synack_poll(s->st, fd);
		if (ev < 0 || (ev & (events | POLLERR | POLLHUP)))
			return;
		if (tu_now() > end)
			tu_die("waiting for the peer", ETIMEDOUT);
	}
}

/* A connected socket to peer:port (non-blocking, as every synack socket). */
static inline int tu_synack_connect(struct tu_synack *s, const char *peer, uint16_t port, int buf)
{
	struct sockaddr_in a = tu_sin(peer, port);
	int fd = synack_socket(s->st), one = 1, err;

	if (fd < 0)
		tu_die("synack_socket", fd);
	if (buf)
		tu_synack_bufs(s, fd, buf);
	synack_setsockopt(s->st, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	err = synack_connect(s->st, fd, &a);
	if (err < 0 && err != -EINPROGRESS)
		tu_die("synack_connect", err);
	tu_synack_wait(s, fd, POLLOUT, 10);
	if (synack_tcp_state(s->st, fd) != 1 /* TCP_ESTABLISHED */)
		tu_die("synack_connect", ECONNREFUSED);
	return fd;
}

/* The TAP's own counters, for the record; all of the stack's too when
 * SYNACK_BENCH_NSTAT=1 (for looking into a slow run). */
static inline void tu_synack_print_tap(struct tu_synack *s, FILE *f)
{
	const char *all = getenv("SYNACK_BENCH_NSTAT");
	struct synack_tap_stats t;

	if (all && !strcmp(all, "1"))
		synack_mib_print_nstat(s->st, f);

	if (synack_tap_get_stats(s->link, &t) < 0)
		return;
	fprintf(f, "  tap: offload %s, %" PRIu64 " GSO frames in, %" PRIu64 " TSO frames out carrying %" PRIu64
		   " segments\n", t.offload ? "on" : "off", t.rx_gso_frames, t.tx_gso_frames, t.tx_gso_segs);
}

/* ------------------------------------------------------------- Linux */

static inline int tu_linux_listen(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		tu_die("socket", errno);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0)
		tu_die("bind/listen", errno);
	return fd;
}

static inline int tu_linux_accept(int lfd)
{
	int fd = accept(lfd, NULL, NULL), one = 1;

	if (fd < 0)
		tu_die("accept", errno);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static inline int tu_linux_connect(const char *addr, uint16_t port)
{
	struct sockaddr_in a = tu_sin(addr, port);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		tu_die("socket", errno);
	double end = tu_now() + 5;

	while (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (tu_now() > end)
			tu_die("connect", errno);
		usleep(50000);      /* the listener may not be up yet */
		close(fd);
		fd = socket(AF_INET, SOCK_STREAM, 0);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int tu_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* p50 and p99 of n samples (sorted in place), printed as one line. */
static inline void tu_print_percentiles(const char *label, uint64_t *ns, size_t n)
{
	qsort(ns, n, sizeof(ns[0]), tu_cmp_u64);
	printf("%s: %zu round trips, p50 %.2f us, p99 %.2f us, min %.2f us\n", label, n, (double)ns[n / 2] / 1e3,
	       (double)ns[n * 99 / 100] / 1e3, (double)ns[0] / 1e3);
}

#endif
