/*
 * soak: thousands of seeded random scenarios between two stacks.
 *
 * Each scenario (one seed) draws a sim wire with faults (delay, jitter,
 * loss, duplication, reordering, corruption, bandwidth, MTU, a small
 * queue), sysctls for both stacks (SACK, timestamps, window scaling, SYN
 * cookies, RACK), listeners, and up to 12 connections in both directions
 * with random socket options, volumes, write sizes, reading pauses
 * (zero windows), and endings: an orderly shutdown and close, an early
 * close (a RST when data is unread), an abort (SO_LINGER 0); some connect
 * to a port nobody listens on, and the wire may go dark for a while (the
 * connections then time out, TCP_USER_TIMEOUT and keepalive bound them).
 *
 * After each scenario it checks:
 *  - every byte received is the byte sent at that offset: in order,
 *    exactly once, uncorrupted (each stream is a seeded pattern);
 *  - a connection whose two applications ended it in order and saw no
 *    error delivered every byte both ways and both saw end of stream;
 *  - every connection was resolved: finished, or an error was reported to
 *    an application, before progress stopped (none hangs);
 *  - once everything is closed and the timers have run out, neither stack
 *    holds a socket, a minisock, an orphan, an skb, a data block or a
 *    timer (the pools' own accounting); LeakSanitizer checks the rest
 *    under ASan.
 *
 * Everything comes from the seed, on virtual time, so a failing seed
 * replays identically:  soak --seed N [--verbose]
 *
 * Usage: soak [--seed N] [--iterations N] [--first N] [--seconds S]
 *             [--verbose] [--trace]
 * --verbose prints what the applications do, --trace also every frame
 * each stack sends (>) and receives (<) and the trace events.
 * --seconds S runs seeds from --first on until S seconds of real time have
 * passed (the scenarios themselves never read the real clock).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "synack/synack.h"
#include "../scenario/introspect.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL
#define T0 (1000ULL * NS_PER_S)
#define MAXFLOWS 12
#define NPORTS 3
#define BASE_PORT 5000
#define CLOSED_PORT (BASE_PORT + NPORTS)

/* ------------------------------------------------------------- random */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static uint64_t below(struct rng *r, uint64_t n) { return n ? rnd(r) % n : 0; }
static uint64_t range(struct rng *r, uint64_t lo, uint64_t hi) { return lo + below(r, hi - lo + 1); }
static bool chance(struct rng *r, unsigned pct) { return below(r, 100) < pct; }
static double frac(struct rng *r) { return (double)(rnd(r) >> 11) / 9007199254740992.0; }

/* ----------------------------------------------------------- the gate */

/* A link wrapper that drops everything sent while *dark (a blackout). */
struct gate {
	struct synack_link link;
	struct synack_link *inner;
	const bool *dark;
};

static int gate_send(struct synack_link *l, const void *f, size_t n)
{
	struct gate *g = (struct gate *)l;

	return *g->dark ? 0 : g->inner->ops->send(g->inner, f, n);
}
static int gate_recv(struct synack_link *l, void *b, size_t n)
{
	struct gate *g = (struct gate *)l;

	return g->inner->ops->recv(g->inner, b, n);
}
static int gate_fd(struct synack_link *l) { (void)l; return -1; }
static uint64_t gate_next(struct synack_link *l)
{
	struct gate *g = (struct gate *)l;

	return g->inner->ops->next_deadline(g->inner);
}
static void gate_destroy(struct synack_link *l) { (void)l; }
static const struct synack_link_ops gate_ops = {
	.kind = "gate", .send = gate_send, .recv = gate_recv, .wait_fd = gate_fd, .next_deadline = gate_next,
	.destroy = gate_destroy,
};

/* ------------------------------------------------------------ the world */

enum plan { P_GRACEFUL, P_CLOSE_EARLY, P_ABORT };
static const char *const plan_names[] = { "graceful", "close-early", "abort" };

struct ep {
	int fd;
	uint64_t to_send, sent, rcvd;
	bool up;                    /* connected (client) / accepted (server) */
	bool shut_wr, eof, closed;
	int err;                    /* first error an application saw (errno) */
	enum plan plan;
	uint64_t act_at;            /* when a non-graceful plan acts */
	uint64_t pause_from, pause_until; /* the application does not read */
	size_t chunk;               /* write size */
	uint16_t port;              /* client: its local port */
	int shift;                  /* server: where its child's stream starts (see check_isn) */
};

struct flow {
	int cs;                     /* the client's stack */
	uint32_t c_isn;             /* the client's ISN */
	bool hazard;                /* the server's SYN cookie child skipped 1..3 (see check_isn) */
	uint16_t port;              /* the server's port */
	uint64_t start_at;
	bool started;
	struct ep e[2];             /* client, server */
	struct rng opt;             /* socket options for both ends */
};

struct world {
	uint64_t seed;
	bool verbose, trace;
	struct rng r;
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct synack_sim_config wc;
	struct gate gate[2];
	bool dark;
	uint64_t dark_from, dark_until;
	struct stack *st[2];
	struct in_addr addr[2];
	int listener[2][NPORTS];
	struct flow f[MAXFLOWS];
	int nflows;
	uint64_t active_end;
	uint64_t last_progress;     /* when an application last moved data or changed state */
	char why[512];              /* the first failure */
	uint64_t bytes;             /* delivered, both ways */
	bool cookies[2];            /* tcp_syncookies is on in that stack */
	unsigned ghosts, shifts;    /* Linux's SYN-cookie hazards, seen and allowed */
	uint8_t buf[65536];
};

static uint64_t now(const struct world *w) { return synack_clock_now(w->clk); }

static void note(struct world *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->verbose)
		return;
	printf("%10.6f ", (double)(now(w) - T0) / 1e9);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void fail(struct world *w, const char *fmt, ...)
{
	va_list ap;

	if (w->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
	note(w, "FAIL %s", w->why);
}

/* Byte off of the stream flow f sends in direction dir (0: client to server). */
static uint8_t pattern(uint64_t seed, int f, int dir, uint64_t off)
{
	uint64_t h = (off + 1) * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)f + 1) * 0xbf58476d1ce4e5b9ULL ^
		     ((uint64_t)dir + 7) * 0x94d049bb133111ebULL ^ seed;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (uint8_t)(h >> 56);
}

/* ------------------------------------------------------------ sockets */

static void setopt(struct world *w, int s, int fd, int level, int name, int val)
{
	int err = synack_setsockopt(w->st[s], fd, level, name, &val, sizeof(val));

	if (err && err != -EINVAL)
		fail(w, "setsockopt(%d, %d) = %d", level, name, err);
}

/* Options every socket gets (so no connection can hang forever once its
 * peer is gone) and some random ones. */
static void apply_options(struct world *w, int s, int fd, struct rng *o)
{
	setopt(w, s, fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	setopt(w, s, fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)range(o, 5, 60));
	setopt(w, s, fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)range(o, 1, 10));
	setopt(w, s, fd, IPPROTO_TCP, TCP_KEEPCNT, (int)range(o, 2, 5));
	setopt(w, s, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)range(o, 20000, 120000));
	if (chance(o, 40))
		setopt(w, s, fd, IPPROTO_TCP, TCP_NODELAY, 1);
	if (chance(o, 20))
		setopt(w, s, fd, SOL_SOCKET, SO_RCVBUF, (int)range(o, 2048, 65536));
	if (chance(o, 20))
		setopt(w, s, fd, SOL_SOCKET, SO_SNDBUF, (int)range(o, 2048, 65536));
	if (chance(o, 10))
		setopt(w, s, fd, IPPROTO_TCP, TCP_MAXSEG, (int)range(o, 200, 1460));
	if (chance(o, 30)) {
		const char *cc = chance(o, 50) ? "reno" : "cubic";
		int err = synack_setsockopt(w->st[s], fd, IPPROTO_TCP, TCP_CONGESTION, cc, (unsigned)strlen(cc));
		if (err)
			fail(w, "TCP_CONGESTION %s: %d", cc, err);
	}
}

static void ep_close(struct world *w, struct flow *f, int side, bool abort_it)
{
	struct ep *e = &f->e[side];
	int s = side ? !f->cs : f->cs, err;

	if (e->fd < 0)
		return;
	if (abort_it) {
		struct linger lg = { 1, 0 };
		if (synack_setsockopt(w->st[s], e->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			fail(w, "SO_LINGER failed");
	}
	err = synack_close(w->st[s], e->fd);
	if (err)
		fail(w, "flow %d side %d: close = %d", (int)(f - w->f), side, err);
	note(w, "flow %d %s: %s (sent %llu rcvd %llu)", (int)(f - w->f), side ? "server" : "client",
	     abort_it ? "abort" : "close", (unsigned long long)e->sent, (unsigned long long)e->rcvd);
	e->fd = -1;
	e->closed = true;
}

static void ep_error(struct world *w, struct flow *f, int side, long err)
{
	struct ep *e = &f->e[side];

	if (!e->err)
		e->err = (int)-err;
	note(w, "flow %d %s: error %ld", (int)(f - w->f), side ? "server" : "client", err);
	ep_close(w, f, side, false);
}

/* The application's turn for one end: write, read, finish. Returns true
 * if anything happened. */
static bool ep_step(struct world *w, struct flow *f, int side)
{
	struct ep *e = &f->e[side];
	int s = side ? !f->cs : f->cs, fi = (int)(f - w->f);
	struct stack *st = w->st[s];
	bool did = false;
	long r;

	if (e->fd < 0 || !e->up)
		return false;
	if (e->plan != P_GRACEFUL && now(w) >= e->act_at) {
		ep_close(w, f, side, e->plan == P_ABORT);
		return true;
	}
	while (e->sent < e->to_send) {
		size_t n = e->to_send - e->sent < e->chunk ? (size_t)(e->to_send - e->sent) : e->chunk;
		for (size_t i = 0; i < n; i++)
			w->buf[i] = pattern(w->seed, fi, side, e->sent + i);
		r = synack_send(st, e->fd, w->buf, n, 0);
		if (r == -EAGAIN)
			break;
		if (r <= 0) {
			ep_error(w, f, side, r);
			return true;
		}
		e->sent += (uint64_t)r;
		did = true;
	}
	if (e->sent == e->to_send && !e->shut_wr && e->plan == P_GRACEFUL) {
		int err = synack_shutdown(st, e->fd, SHUT_WR);
		if (err) {
			ep_error(w, f, side, err);
			return true;
		}
		e->shut_wr = true;
		did = true;
	}
	if (!(now(w) >= e->pause_from && now(w) < e->pause_until)) {
		for (;;) {
			size_t want = 1 + (size_t)below(&w->r, sizeof(w->buf));
			r = synack_recv(st, e->fd, w->buf, want, 0);
			if (r == -EAGAIN)
				break;
			if (r < 0) {
				ep_error(w, f, side, r);
				return true;
			}
			if (r == 0) {
				if (!e->eof)
					did = true;
				e->eof = true;
				break;
			}
			if (e->eof)
				fail(w, "flow %d side %d: data after end of stream", fi, side);
			for (long i = 0; i < r; i++)
				if (w->buf[i] != pattern(w->seed, fi, !side, (uint64_t)e->shift + e->rcvd + (uint64_t)i)) {
					fail(w, "flow %d side %d: byte %llu differs", fi, side,
					     (unsigned long long)((uint64_t)e->shift + e->rcvd + (uint64_t)i));
					break;
				}
			e->rcvd += (uint64_t)r;
			w->bytes += (uint64_t)r;
			did = true;
		}
	}
	if (e->plan == P_GRACEFUL && e->shut_wr && e->eof) {
		ep_close(w, f, side, false);
		did = true;
	}
	return did;
}

/* A client that has not connected yet: connected, failed, or waiting. */
static bool client_connecting(struct world *w, struct flow *f)
{
	struct ep *e = &f->e[0];
	int state;

	if (e->fd < 0 || e->up)
		return false;
	state = synack_tcp_state(w->st[f->cs], e->fd);
	if (state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT) {
		e->up = true;
		note(w, "flow %d client: connected", (int)(f - w->f));
		return true;
	}
	if (state == TCP_CLOSE) {
		int v = 0;
		unsigned len = sizeof(v);
		synack_getsockopt(w->st[f->cs], e->fd, SOL_SOCKET, SO_ERROR, &v, &len);
		ep_error(w, f, 0, v ? -v : -ECONNABORTED);
		return true;
	}
	return false;
}

static void flow_start(struct world *w, struct flow *f)
{
	struct ep *e = &f->e[0];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(f->port), .sin_addr = w->addr[!f->cs] };
	struct sockaddr_in me;
	unsigned len = sizeof(me);
	int err;

	f->started = true;
	e->fd = synack_socket(w->st[f->cs]);
	if (e->fd < 0) {
		fail(w, "socket: %d", e->fd);
		return;
	}
	apply_options(w, f->cs, e->fd, &f->opt);
	err = synack_connect(w->st[f->cs], e->fd, &to);
	if (err != -EINPROGRESS) {
		ep_error(w, f, 0, err);
		return;
	}
	memset(&me, 0, sizeof(me));
	(void)len;
	if (synack_getsockname(w->st[f->cs], e->fd, &me) == 0)
		e->port = ntohs(me.sin_port);
	{
		struct sc_sock_usage u;
		if (sc_sock_usage(w->st[f->cs], e->fd, &u) == 0)
			f->c_isn = u.snd_una; /* in SYN-SENT: the ISN */
	}
	note(w, "flow %d: %s:%u -> port %u (%llu / %llu bytes, %s / %s)", (int)(f - w->f), f->cs ? "B" : "A", e->port,
	     f->port, (unsigned long long)f->e[0].to_send, (unsigned long long)f->e[1].to_send,
	     plan_names[f->e[0].plan], plan_names[f->e[1].plan]);
}

/*
 * A hazard of SYN cookies that Linux has too: the cookie check takes the
 * client's ISN from the ACK's sequence number minus one, and a cookie that
 * encodes MSS index m also validates when that sequence number is off by
 * m - 3 .. m (at most 3 either way). When the third ACK is lost and the
 * first segment to reach the listener is a later one (data, a FIN: +1..+3)
 * or a keepalive probe (snd_una - 1: -1), the child starts at the wrong
 * place (cookie_v4_check: rcv_isn = seq - 1): the first bytes or the FIN
 * are never delivered, or the stream has a hole at its start that nothing
 * fills - and such a child can wait forever while keepalives keep the
 * client's side alive. Such a flow is counted and exempt from the checks
 * the hazard breaks; any other offset is a failure.
 */
static void check_isn(struct world *w, struct flow *f, int s)
{
	struct sc_sock_usage u;
	int32_t off;

	if (sc_sock_usage(w->st[s], f->e[1].fd, &u))
		return;
	off = (int32_t)(u.copied_seq - (f->c_isn + 1));
	if (!off)
		return;
	if (w->cookies[s] && off >= -3 && off <= 3) {
		f->e[1].shift = off;
		f->hazard = true;
		w->shifts++;
		note(w, "flow %d server: the child starts %d into the stream (a SYN-cookie hazard)", (int)(f - w->f),
		     off);
		return;
	}
	fail(w, "flow %d: the server's child starts %d into the client's stream", (int)(f - w->f), off);
}

static bool accept_all(struct world *w)
{
	bool did = false;

	for (int s = 0; s < 2; s++)
		for (int p = 0; p < NPORTS; p++) {
			struct sockaddr_in peer;
			int fd;

			while ((fd = synack_accept(w->st[s], w->listener[s][p], &peer)) >= 0) {
				struct flow *f = NULL;
				for (int i = 0; i < w->nflows; i++)
					if (w->f[i].cs == !s && w->f[i].port == BASE_PORT + p &&
					    w->f[i].e[0].port == ntohs(peer.sin_port) && w->f[i].e[1].fd < 0 &&
					    !w->f[i].e[1].up)
						f = &w->f[i];
				did = true;
				if (!f) {
					/* A delayed duplicate of a client's ACK validates as a SYN
					 * cookie again after the first connection is gone: Linux
					 * makes a second child too; the client then resets it. */
					bool known = false;
					for (int i = 0; i < w->nflows; i++)
						known |= w->f[i].cs == !s && w->f[i].port == BASE_PORT + p &&
							 w->f[i].e[0].port == ntohs(peer.sin_port) && w->f[i].e[1].up;
					if (known && w->cookies[s]) {
						w->ghosts++;
						note(w, "stack %d: a second child for port %u (a SYN-cookie hazard)", s,
						     ntohs(peer.sin_port));
					} else {
						fail(w, "stack %d accepted a connection from port %u nobody made", s,
						     ntohs(peer.sin_port));
					}
					synack_close(w->st[s], fd);
					continue;
				}
				f->e[1].fd = fd;
				f->e[1].up = true;
				check_isn(w, f, s);
				apply_options(w, s, fd, &f->opt);
				note(w, "flow %d server: accepted", (int)(f - w->f));
			}
		}
	return did;
}

/* One round of every application: until nothing more happens now. */
static void apps(struct world *w)
{
	for (int round = 0; round < 1000; round++) {
		bool did = accept_all(w);

		for (int i = 0; i < w->nflows; i++) {
			struct flow *f = &w->f[i];
			if (!f->started) {
				if (now(w) >= f->start_at) {
					flow_start(w, f);
					did = true;
				}
				continue;
			}
			did |= client_connecting(w, f);
			did |= ep_step(w, f, 0);
			did |= ep_step(w, f, 1);
		}
		if (!did)
			return;
		w->last_progress = now(w);
	}
	fail(w, "the applications never settle");
}

/* The next moment an application or the gate wants to act. */
static uint64_t next_action(const struct world *w)
{
	uint64_t t = UINT64_MAX, n = now(w);

#define CONSIDER(x)                        \
	do {                               \
		uint64_t _x = (x);         \
		if (_x > n && _x < t)      \
			t = _x;            \
	} while (0)
	CONSIDER(w->dark_from);
	CONSIDER(w->dark_until);
	for (int i = 0; i < w->nflows; i++) {
		const struct flow *f = &w->f[i];
		if (!f->started)
			CONSIDER(f->start_at);
		for (int s = 0; s < 2; s++) {
			if (f->e[s].fd < 0)
				continue;
			if (f->e[s].plan != P_GRACEFUL)
				CONSIDER(f->e[s].act_at);
			CONSIDER(f->e[s].pause_until);
		}
	}
#undef CONSIDER
	return t;
}

static bool all_resolved(const struct world *w)
{
	for (int i = 0; i < w->nflows; i++) {
		const struct flow *f = &w->f[i];
		if (!f->started)
			return false;
		for (int s = 0; s < 2; s++)
			if (f->e[s].fd >= 0 && !(s == 1 && f->hazard))
				return false;
		/* A server end that was never accepted is resolved once the
		 * client is: the listener's close frees it. */
	}
	return true;
}

/* Run the stacks and the applications until `until` - or, with settle,
 * until every connection is resolved or none has made progress for
 * SETTLE_IDLE (a connection may crawl: a receive buffer of about one
 * segment can hold the window at a few bytes, as in Linux). */
#define SETTLE_IDLE (600 * NS_PER_S)
static void run(struct world *w, uint64_t until, bool settle)
{
	uint64_t guard = 0;

	while (now(w) < until && !w->why[0]) {
		uint64_t t = until, d;

		w->dark = now(w) >= w->dark_from && now(w) < w->dark_until;
		apps(w);
		if (settle && (all_resolved(w) || now(w) - w->last_progress > SETTLE_IDLE))
			return;
		for (int s = 0; s < 2; s++) {
			d = synack_stack_next_deadline(w->st[s]);
			if (d < t)
				t = d;
		}
		d = next_action(w);
		if (d < t)
			t = d;
		if (t <= now(w))
			t = now(w) + 1;
		synack_run_virtual(w->clk, w->st, 2, t);
		if (++guard > 50000000ULL) {
			fail(w, "the event loop does not advance");
			return;
		}
	}
}

/* --trace: every frame each stack sends, and the trace events. */
static void trace_sink(void *ctx, const struct synack_trace_event *ev)
{
	struct world *w = ctx;
	char buf[512];
	const char *who = ev->stack == w->st[0] ? "A" : "B";

	if (ev->kind == SYNACK_TRACE_FRAME_RX || ev->kind == SYNACK_TRACE_FRAME_TX) {
		synack_format_frame(buf, sizeof(buf), ev->frame, ev->frame_len);
		printf("%10.6f %s %s %s%s\n", (double)(ev->ts_ns - T0) / 1e9, who,
		       ev->kind == SYNACK_TRACE_FRAME_TX ? ">" : "<", buf, w->dark ? " (dark)" : "");
	} else {
		printf("%10.6f %s   %s%s: %s\n", (double)(ev->ts_ns - T0) / 1e9, who,
		       ev->kind == SYNACK_TRACE_DROP ? "drop " : "", ev->name, ev->text);
	}
}

/* ------------------------------------------------------------ scenario */

static int setup(struct world *w)
{
	struct rng *r = &w->r;
	static const char *const ip[2] = { "10.0.0.1", "10.0.0.2" };

	w->r.s = w->seed * 0x2545f4914f6cdd1dULL + 1;
	w->clk = synack_clock_new_virtual(T0);
	memset(&w->wc, 0, sizeof(w->wc));
	w->wc.delay_ns = range(r, 50, 20000) * 1000;
	w->wc.jitter_ns = chance(r, 50) ? below(r, w->wc.delay_ns / 2 + 1) : 0;
	w->wc.loss = chance(r, 70) ? frac(r) * 0.08 : 0;
	w->wc.duplicate = chance(r, 30) ? frac(r) * 0.05 : 0;
	w->wc.reorder = chance(r, 30) ? frac(r) * 0.08 : 0;
	w->wc.corrupt = chance(r, 30) ? frac(r) * 0.02 : 0;
	w->wc.bandwidth_bps = chance(r, 60) ? range(r, 1, 1000) * 1000000ULL : 0;
	w->wc.mtu = chance(r, 20) ? (uint32_t)range(r, 576, 1500) : 1500;
	w->wc.queue_limit = chance(r, 20) ? (uint32_t)range(r, 16, 256) : 0;
	w->wc.seed = rnd(r);
	if (!w->clk || synack_sim_wire_new(w->clk, &w->wc, &w->wire))
		return -1;
	w->active_end = T0 + range(r, 10, 40) * NS_PER_S;
	if (chance(r, 20)) {
		w->dark_from = T0 + below(r, w->active_end - T0);
		w->dark_until = w->dark_from + range(r, 100, 30000) * NS_PER_MS;
	}
	for (int s = 0; s < 2; s++) {
		struct synack_stack_config sc = { .clock = w->clk, .name = s ? "B" : "A", .seeded = true, .seed = rnd(r) };
		struct synack_if_config ic = { .prefix_len = 24 };
		struct synack_link *end = synack_sim_wire_end(w->wire, s);

		w->gate[s].link.ops = &gate_ops;
		memcpy(w->gate[s].link.mac, end->mac, 6);
		w->gate[s].link.mtu = end->mtu;
		w->gate[s].inner = end;
		w->gate[s].dark = &w->dark;
		inet_pton(AF_INET, ip[s], &w->addr[s]);
		ic.addr = w->addr[s];
		if (synack_stack_new(&sc, &w->st[s]))
			return -1;
		synack_sysctl_set(w->st[s], "net.ipv4.tcp_sack", chance(r, 85));
		synack_sysctl_set(w->st[s], "net.ipv4.tcp_timestamps", (long)(chance(r, 80) ? 1 : below(r, 3)));
		synack_sysctl_set(w->st[s], "net.ipv4.tcp_window_scaling", chance(r, 85));
		w->cookies[s] = below(r, 3) != 0;
		synack_sysctl_set(w->st[s], "net.ipv4.tcp_syncookies", w->cookies[s] ? (long)range(r, 1, 2) : 0);
		synack_sysctl_set(w->st[s], "net.ipv4.tcp_recovery", chance(r, 80));
		if (chance(r, 20))
			synack_sysctl_set(w->st[s], "net.ipv4.tcp_challenge_ack_limit", (long)range(r, 1, 100));
		if (w->trace)
			synack_trace_set_sink(w->st[s], trace_sink, w);
		if (synack_if_up(w->st[s], &w->gate[s].link, &ic))
			return -1;
	}
	for (int s = 0; s < 2; s++)
		for (int p = 0; p < NPORTS; p++) {
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(BASE_PORT + p) };
			int fd = synack_socket(w->st[s]);
			if (fd < 0 || synack_bind(w->st[s], fd, &a) || synack_listen(w->st[s], fd, (int)range(r, 1, 64)))
				return -1;
			w->listener[s][p] = fd;
		}
	w->nflows = (int)range(r, 1, MAXFLOWS);
	for (int i = 0; i < w->nflows; i++) {
		struct flow *f = &w->f[i];
		uint64_t span = w->active_end - T0;

		f->cs = (int)below(r, 2);
		f->port = (uint16_t)(chance(r, 8) ? CLOSED_PORT : BASE_PORT + below(r, NPORTS));
		f->start_at = T0 + below(r, span / 2);
		f->opt.s = rnd(r);
		for (int s = 0; s < 2; s++) {
			struct ep *e = &f->e[s];
			unsigned kind = (unsigned)below(r, 100);

			e->fd = -1;
			e->to_send = chance(r, 15) ? 0 : chance(r, 70) ? below(r, 32768) : below(r, 300000);
			e->chunk = chance(r, 30) ? (size_t)range(r, 1, 200) : (size_t)range(r, 500, 65536);
			e->plan = kind < 70 ? P_GRACEFUL : kind < 85 ? P_CLOSE_EARLY : P_ABORT;
			e->act_at = f->start_at + below(r, span);
			if (chance(r, 25)) {
				e->pause_from = f->start_at + below(r, span);
				e->pause_until = e->pause_from + range(r, 10, 8000) * NS_PER_MS;
			}
		}
	}
	return 0;
}

static void teardown(struct world *w)
{
	for (int s = 0; s < 2; s++)
		synack_stack_free(w->st[s]);
	synack_sim_wire_free(w->wire);
	synack_clock_free(w->clk);
}

/* What must hold once the scenario has run. */
static void check_flows(struct world *w)
{
	for (int i = 0; i < w->nflows && !w->why[0]; i++) {
		struct flow *f = &w->f[i];
		struct ep *c = &f->e[0], *s = &f->e[1];
		bool clean = c->plan == P_GRACEFUL && s->plan == P_GRACEFUL && !c->err && !s->err && !f->hazard;

		for (int k = 0; k < 2; k++)
			if (f->e[k].fd >= 0 && !(k == 1 && f->hazard))
				fail(w, "flow %d: the %s end is unresolved (sent %llu/%llu, rcvd %llu, eof %d, state %s)", i,
				     k ? "server" : "client", (unsigned long long)f->e[k].sent,
				     (unsigned long long)f->e[k].to_send, (unsigned long long)f->e[k].rcvd, f->e[k].eof,
				     synack_tcp_state_name(synack_tcp_state(w->st[k ? !f->cs : f->cs], f->e[k].fd)));
		if (c->rcvd > s->sent || s->rcvd > c->sent)
			fail(w, "flow %d: more received than sent", i);
		if (f->port == CLOSED_PORT && (c->up || !c->err))
			fail(w, "flow %d: connected to a closed port (err %d)", i, c->err);
		if (clean && f->port != CLOSED_PORT &&
		    (s->rcvd != c->to_send || c->rcvd != s->to_send || !c->eof || !s->eof))
			fail(w, "flow %d: ended in order without error but delivered %llu/%llu and %llu/%llu (eof %d %d)",
			     i, (unsigned long long)s->rcvd, (unsigned long long)c->to_send,
			     (unsigned long long)c->rcvd, (unsigned long long)s->to_send, c->eof, s->eof);
	}
}

/* Close everything, let every timer run out, and check that nothing is
 * left in either stack. */
static void check_empty(struct world *w)
{
	for (int i = 0; i < w->nflows; i++)
		for (int k = 0; k < 2; k++)
			ep_close(w, &w->f[i], k, false);
	for (int s = 0; s < 2; s++)
		for (int p = 0; p < NPORTS; p++)
			synack_close(w->st[s], w->listener[s][p]);
	w->dark_from = w->dark_until = 0;
	run(w, now(w) + 900 * NS_PER_S, false);
	for (int s = 0; s < 2 && !w->why[0]; s++) {
		struct sc_usage u;

		sc_usage(w->st[s], &u);
		if (u.sockets || u.orphans || u.timewait || u.ehash || u.live_skbs || u.live_data || u.frag_queues ||
		    u.timers)
			fail(w, "stack %s holds %u sockets, %u orphans, %u minisocks, %u in ehash, %zu skbs, %zu blocks, "
				"%u reassembly queues, %zu timers",
			     s ? "B" : "A", u.sockets, u.orphans, u.timewait, u.ehash, u.live_skbs, u.live_data,
			     u.frag_queues, u.timers);
	}
}

static int scenario(uint64_t seed, bool verbose, bool trace, uint64_t *bytes)
{
	static struct world w;

	memset(&w, 0, sizeof(w));
	w.seed = seed;
	w.verbose = verbose || trace;
	w.trace = trace;
	if (setup(&w)) {
		fprintf(stderr, "soak: seed %llu: setup failed\n", (unsigned long long)seed);
		teardown(&w);
		return 1;
	}
	if (verbose)
		printf("seed %llu: delay %.3f ms loss %.3f dup %.3f reorder %.3f corrupt %.4f bw %llu mtu %u qlimit %u, "
		       "%d flows, dark %.3f..%.3f s\n",
		       (unsigned long long)seed, w.wc.delay_ns / 1e6, w.wc.loss, w.wc.duplicate, w.wc.reorder,
		       w.wc.corrupt, (unsigned long long)w.wc.bandwidth_bps, w.wc.mtu, w.wc.queue_limit, w.nflows,
		       w.dark_from ? (double)(w.dark_from - T0) / 1e9 : 0, w.dark_until ? (double)(w.dark_until - T0) / 1e9 : 0);
	run(&w, w.active_end, false);
	/* The settling phase: no new actions are due; every connection must
	 * finish or report an error (keepalive and TCP_USER_TIMEOUT bound it)
	 * before progress stops. */
	w.last_progress = now(&w);
	run(&w, now(&w) + 6 * 3600 * NS_PER_S, true);
	check_flows(&w);
	if (!w.why[0])
		check_empty(&w);
	*bytes += w.bytes;
	if (verbose && (w.ghosts || w.shifts))
		printf("seed %llu: %u second children and %u shifted children from SYN cookies\n",
		       (unsigned long long)seed, w.ghosts, w.shifts);
	teardown(&w);
	if (w.why[0]) {
		fprintf(stderr, "soak: seed %llu FAILED: %s\n  replay: soak --seed %llu --verbose\n",
			(unsigned long long)seed, w.why, (unsigned long long)seed);
		return 1;
	}
	return 0;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t first = 1, iterations = 100, seed = 0, bytes = 0, ran = 0;
	double seconds = 0, t0 = wall();
	bool one = false, verbose = false, trace = false;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			one = true;
		} else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
			iterations = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--first") && i + 1 < argc) {
			first = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--trace")) {
			trace = true;
		} else {
			fprintf(stderr, "usage: soak [--seed N] [--iterations N] [--first N] [--seconds S] [--verbose] [--trace]\n");
			return 2;
		}
	}
	if (one) {
		failed = scenario(seed, verbose, trace, &bytes);
		printf("soak: seed %llu %s, %llu bytes delivered\n", (unsigned long long)seed, failed ? "FAILED" : "ok",
		       (unsigned long long)bytes);
		return failed;
	}
	for (uint64_t s = first;; s++) {
		if (seconds > 0 ? wall() - t0 >= seconds : ran >= iterations)
			break;
		failed += scenario(s, verbose, trace, &bytes);
		ran++;
		if (failed >= 10)
			break;
	}
	printf("soak: %llu scenarios (seeds %llu..%llu), %d failed, %llu bytes delivered, %.1f s\n",
	       (unsigned long long)ran, (unsigned long long)first, (unsigned long long)(first + ran - 1), failed,
	       (unsigned long long)bytes, wall() - t0);
	return failed ? 1 : 0;
}
