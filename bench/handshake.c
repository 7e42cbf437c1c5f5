/*
 * bench/handshake: TCP connections per second in memory, synack against
 * lwIP, one core.
 *
 * A client stack and a server stack in one process joined by an in-memory
 * wire (bench/memwire.h; `--link sim` uses synack's sim wire instead, zero
 * delay, to show what the sim wire itself costs). Two variants, each
 * iteration one whole connection:
 *   close: socket + connect, accept, a 1-byte request, a 1-byte response,
 *          then a graceful close, client first (the client keeps the
 *          TIME-WAIT), server second;
 *   rst:   socket + connect, accept, then the client aborts (SO_LINGER 0:
 *          a RST) and the server closes its reset socket.
 * The peer is lwIP (Debian's liblwip, two copies in the process: see
 * lwip_peer.h), doing the same through its raw API over the same wire.
 *
 * TIME-WAIT. synack runs on a virtual clock that moves 60 s / --tw per
 * connection (default 4096), so TIME-WAIT entries expire as on Linux and
 * about that many are alive at any time (their expiry is part of the cost);
 * the client connects round-robin to 16 listening ports, so an ephemeral
 * port is always free (as Linux would allow: no tw_reuse needed). lwIP keeps
 * TIME-WAIT pcbs on a linear list, scanned by every connect() for a free
 * port, and its timers run on the real clock (2 minutes of TIME-WAIT): the
 * bench frees its TIME-WAIT pcbs after every connection instead, which
 * favours lwIP. lwIP has one listener.
 *
 * Figures: connections per second of CPU time and of wall time, best and
 * median of --rounds rounds of --count connections, and the ratio
 * synack/lwIP of the CPU medians. For instruction counts,
 *   valgrind --tool=callgrind --toggle-collect=hs_measured \
 *       ./handshake --callgrind 2000 --peer synack --variant close
 * counts only the 2000 measured connections (bench/run.sh divides).
 *
 * usage: handshake [--peer synack|lwip|both] [--variant close|rst|both]
 *                  [--count N] [--rounds R] [--tw N] [--link mem|sim]
 *                  [--clock virtual|real] [--callgrind N] [--trace]
 * --trace prints the frames of one connection (after the warm-up) instead.
 * --clock real runs synack on the real clock (CLOCK_MONOTONIC, read on each
 * clock_now): TIME-WAIT then lasts 60 real seconds, so in the close variant
 * every connection of the run stays in TIME-WAIT (past tcp_max_tw_buckets,
 * 131072, they would overflow as on Linux).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "bench_util.h"
#include "core/stack.h"
#include "memwire.h"
#include "synack/synack.h"
#include "tcp/tcp.h"
#ifdef SYNACK_BENCH_LWIP
#include "lwip_peer.h"
#endif

#define NPORTS 16
#define BASE_PORT 8000
#define TW_LIFETIME_NS (60 * UINT64_C(1000000000))
#define DEFAULT_COUNT 20000
#define DEFAULT_ROUNDS 5
#define DEFAULT_TW 4096
#define WARMUP 1000

enum variant { V_CLOSE, V_RST };
static const char *const variant_name[] = { "close", "rst" };

/* One stack pair under test: what an iteration does, and its counters. */
struct subject {
	const char *name;
	int (*iter)(struct subject *s, uint64_t i);
	void (*trace)(void *ctx, bool on);  /* print the frames on the wire */
	void *ctx;                          /* struct sy, or struct lwip_pair */
	const char *fail;                   /* the first step that failed */
	int fail_err;
	uint64_t fail_iter;
};

static int failed(struct subject *s, const char *what, long err, uint64_t i)
{
	if (!s->fail) {
		s->fail = what;
		s->fail_err = (int)err;
		s->fail_iter = i;
	}
	return -1;
}

/* ---------------------------------------------------------------- synack */

struct sy {
	struct synack_clock *clk;
	bool sim;
	struct mw_wire wire;
	struct synack_sim_wire *simw;
	struct stack *cli, *srv;
	int lfd[NPORTS];
	struct sockaddr_in dst[NPORTS];
	uint64_t step_ns;
};

/* Deliver frames until both directions are empty. */
static void sy_pump(struct sy *b)
{
	if (b->sim) {
		while (synack_stack_poll(b->srv) + synack_stack_poll(b->cli) > 0)
			;
		return;
	}
	for (;;) {
		bool any = false;

		if (!mw_empty(&b->wire.dir[0])) {
			synack_stack_poll(b->srv);
			any = true;
		}
		if (!mw_empty(&b->wire.dir[1])) {
			synack_stack_poll(b->cli);
			any = true;
		}
		if (!any)
			return;
	}
}

/* Between connections: time moves on, and a stack whose next deadline has
 * come is polled for its timers (as an event loop's timerfd would wake it). */
static void sy_tick(struct sy *b)
{
	uint64_t now;

	if (b->step_ns)
		synack_clock_advance(b->clk, b->step_ns);
	now = synack_clock_now(b->clk);
	if (synack_stack_next_deadline(b->srv) <= now)
		synack_stack_poll(b->srv);
	if (synack_stack_next_deadline(b->cli) <= now)
		synack_stack_poll(b->cli);
	sy_pump(b);
}

/* Iteration i's handshake: client socket cfd connects to the port i
 * picks, and the server accepts. The accepted descriptor, or failed()'s. */
static int sy_connect_accept(struct subject *s, uint64_t i, int cfd)
{
	struct sy *b = s->ctx;
	int p = (int)(i % NPORTS), sfd, err;

	err = synack_connect(b->cli, cfd, &b->dst[p]);
	if (err != -EINPROGRESS)
		return failed(s, "connect", err, i);
	sy_pump(b);
	sfd = synack_accept(b->srv, b->lfd[p], NULL);
	if (sfd < 0)
		return failed(s, "accept", sfd, i);
	return sfd;
}

static int sy_iter_close(struct subject *s, uint64_t i)
{
	struct sy *b = s->ctx;
	int cfd, sfd, err;
	char c;
	long n;

	cfd = synack_socket(b->cli);
	if (cfd < 0)
		return failed(s, "socket", cfd, i);
	sfd = sy_connect_accept(s, i, cfd);
	if (sfd < 0)
		return sfd;
	if ((n = synack_send(b->cli, cfd, "q", 1, 0)) != 1)
		return failed(s, "client send", n, i);
	sy_pump(b);
	if ((n = synack_recv(b->srv, sfd, &c, 1, 0)) != 1)
		return failed(s, "server recv", n, i);
	if ((n = synack_send(b->srv, sfd, "r", 1, 0)) != 1)
		return failed(s, "server send", n, i);
	sy_pump(b);
	if ((n = synack_recv(b->cli, cfd, &c, 1, 0)) != 1)
		return failed(s, "client recv", n, i);
	if ((err = synack_close(b->cli, cfd)) < 0)
		return failed(s, "client close", err, i);
	sy_pump(b);
	if ((n = synack_recv(b->srv, sfd, &c, 1, 0)) != 0)
		return failed(s, "server recv EOF", n, i);
	if ((err = synack_close(b->srv, sfd)) < 0)
		return failed(s, "server close", err, i);
	sy_pump(b);
	sy_tick(b);
	return 0;
}

static int sy_iter_rst(struct subject *s, uint64_t i)
{
	static const struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sy *b = s->ctx;
	int cfd, sfd, err;
	char c;
	long n;

	cfd = synack_socket(b->cli);
	if (cfd < 0)
		return failed(s, "socket", cfd, i);
	if ((err = synack_setsockopt(b->cli, cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg))) < 0)
		return failed(s, "SO_LINGER", err, i);
	sfd = sy_connect_accept(s, i, cfd);
	if (sfd < 0)
		return sfd;
	if ((err = synack_close(b->cli, cfd)) < 0)
		return failed(s, "client close", err, i);
	sy_pump(b);
	if ((n = synack_recv(b->srv, sfd, &c, 1, 0)) != -ECONNRESET)
		return failed(s, "server recv ECONNRESET", n, i);
	if ((err = synack_close(b->srv, sfd)) < 0)
		return failed(s, "server close", err, i);
	sy_tick(b);
	return 0;
}

static int sy_setup(struct sy *b, bool sim, uint64_t tw, bool real_clock)
{
	struct synack_link *le[2];

	b->sim = sim;
	b->step_ns = real_clock ? 0 : TW_LIFETIME_NS / tw;
	b->clk = real_clock ? synack_clock_new_real() : synack_clock_new_virtual(1000000000);
	if (!b->clk)
		return -1;
	if (sim) {
		struct synack_sim_config c = { .seed = 1 };
		if (synack_sim_wire_new(b->clk, &c, &b->simw) < 0)
			return -1;
		le[0] = synack_sim_wire_end(b->simw, 0);
		le[1] = synack_sim_wire_end(b->simw, 1);
	} else {
		if (mw_wire_init(&b->wire) < 0)
			return -1;
		le[0] = &b->wire.end[0].link;
		le[1] = &b->wire.end[1].link;
	}
	b->cli = bu_stack_new(b->clk, "client", 1, le[0], 0x0a000001u);
	b->srv = bu_stack_new(b->clk, "server", 2, le[1], 0x0a000002u);
	if (!b->cli || !b->srv)
		return -1;
	for (int p = 0; p < NPORTS; p++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(BASE_PORT + p)) };

		a.sin_addr.s_addr = htonl(0x0a000002u);
		b->dst[p] = a;
		b->lfd[p] = synack_socket(b->srv);
		if (b->lfd[p] < 0 || synack_bind(b->srv, b->lfd[p], &a) < 0 ||
		    synack_listen(b->srv, b->lfd[p], 128) < 0)
			return -1;
	}
	sy_pump(b);                         /* the gratuitous ARPs */
	return 0;
}

static void sy_free(struct sy *b)
{
	synack_stack_free(b->cli);
	synack_stack_free(b->srv);
	if (b->simw)
		synack_sim_wire_free(b->simw);
	else
		mw_wire_free(&b->wire);
	synack_clock_free(b->clk);
}

static uint64_t sy_frames(const struct sy *b)
{
	if (b->sim)
		return synack_sim_wire_stats(b->simw, 0).sent + synack_sim_wire_stats(b->simw, 1).sent;
	return mw_frames(&b->wire);
}

static void sy_report(const struct sy *b)
{
	const char *const names[] = { "TcpActiveOpens", "TcpPassiveOpens", "TcpOutRsts", "TcpRetransSegs",
				      "TcpExtTW", "TcpExtTCPTimeWaitOverflow", "TcpExtListenDrops" };

	printf("  synack counters:");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *n = names[i];
		uint64_t v = synack_mib_value(b->cli, n) + synack_mib_value(b->srv, n);
		printf(" %s %" PRIu64, n, v);
	}
	printf("; TIME-WAIT now %u; wire drops %" PRIu64 "\n", b->cli->tcp.tw_count + b->srv->tcp.tw_count,
	       b->sim ? 0 : mw_drops(&b->wire));
}

/* ------------------------------------------------------------------ lwIP */

#ifdef SYNACK_BENCH_LWIP
static int lw_iter_close(struct subject *s, uint64_t i)
{
	const char *what = NULL;

	if (lwip_hs_close(s->ctx, &what) < 0)
		return failed(s, what, 0, i);
	return 0;
}

static int lw_iter_rst(struct subject *s, uint64_t i)
{
	const char *what = NULL;

	if (lwip_hs_rst(s->ctx, &what) < 0)
		return failed(s, what, 0, i);
	return 0;
}
#endif

/* ----------------------------------------------------------- measuring */

/* Two functions callgrind can tell apart (--toggle-collect=hs_measured):
 * only the measured connections count. The warm-up counts its connections
 * so that the two bodies differ and the compiler cannot fold them into one. */
static volatile uint64_t warmed_up;

__attribute__((noinline)) static int hs_warmup(struct subject *s, uint64_t from, uint64_t n)
{
	for (uint64_t i = from; i < from + n; i++) {
		if (s->iter(s, i) < 0)
			return -1;
		warmed_up = warmed_up + 1;
	}
	return 0;
}

__attribute__((noinline)) static int hs_measured(struct subject *s, uint64_t from, uint64_t n)
{
	for (uint64_t i = from; i < from + n; i++)
		if (s->iter(s, i) < 0)
			return -1;
	return 0;
}

struct options {
	bool peer[2];                       /* synack, lwip */
	bool variant[2];
	uint64_t count, rounds, tw, callgrind;
	bool sim, trace, real_clock;
};

struct result {
	bool ok;
	struct bu_rounds r;
	double frames_per_conn;
};

static void print_result(const char *peer, enum variant v, const struct result *res)
{
	struct bu_rate cpu = bu_cpu_rate(&res->r), wall = bu_wall_rate(&res->r);

	printf("%-7s %-6s cpu best %9.0f conn/s (%6.2f us), median %9.0f conn/s (%6.2f us); wall best %9.0f, "
	       "median %9.0f; %.1f frames/conn\n",
	       peer, variant_name[v], cpu.best, 1e6 / cpu.best, cpu.median, 1e6 / cpu.median, wall.best, wall.median,
	       res->frames_per_conn);
}

/* Warm up, then either time --rounds rounds or run --callgrind connections. */
static int measure(struct subject *s, const struct options *o, uint64_t warmup, uint64_t (*frames)(void *),
		   struct result *res)
{
	uint64_t i = 0, f0;

	if (hs_warmup(s, i, warmup) < 0)
		return -1;
	i += warmup;
	if (o->trace) {
		printf("%s: the frames of connection %" PRIu64 "\n", s->name, i);
		s->trace(s->ctx, true);
		if (s->iter(s, i) < 0)
			return -1;
		s->trace(s->ctx, false);
		return 1;
	}
	f0 = frames(s->ctx);
	if (o->callgrind) {
		if (hs_measured(s, i, o->callgrind) < 0)
			return -1;
		res->r.n = 0;
		res->frames_per_conn = (double)(frames(s->ctx) - f0) / (double)o->callgrind;
		res->ok = true;
		return 0;
	}
	res->r.work = (double)o->count;
	for (unsigned k = 0; k < o->rounds; k++) {
		struct bu_time t = bu_start();

		if (hs_measured(s, i, o->count) < 0)
			return -1;
		t = bu_stop(t);
		res->r.wall[k] = t.wall;
		res->r.cpu[k] = t.cpu;
		res->r.n++;
		i += o->count;
	}
	res->frames_per_conn = (double)(frames(s->ctx) - f0) / (double)(o->count * o->rounds);
	res->ok = true;
	return 0;
}

static void report_failure(const struct subject *s)
{
	fprintf(stderr, "handshake: %s: %s failed at connection %" PRIu64 " (%d%s%s)\n", s->name,
		s->fail ? s->fail : "setup", s->fail_iter, s->fail_err, s->fail_err < 0 ? ": " : "",
		s->fail_err < 0 ? strerror(-s->fail_err) : "");
}

static uint64_t sy_frames_cb(void *ctx) { return sy_frames(ctx); }

static void sy_trace(void *ctx, bool on)
{
	struct sy *b = ctx;

	if (!b->sim)
		mw_trace(&b->wire, on);
}

static int run_synack(const struct options *o, enum variant v, struct result *res)
{
	struct sy *b = calloc(1, sizeof(*b));
	struct subject s = { .name = "synack", .iter = v == V_CLOSE ? sy_iter_close : sy_iter_rst, .trace = sy_trace };
	int rc;

	if (!b)
		return -1;
	s.ctx = b;
	rc = sy_setup(b, o->sim, o->tw, o->real_clock);
	if (rc == 0)
		rc = measure(&s, o, v == V_CLOSE ? o->tw + WARMUP : WARMUP, sy_frames_cb, res);
	if (rc < 0)
		report_failure(&s);
	else if (rc == 0 && !o->callgrind) {
		print_result("synack", v, res);
		sy_report(b);
	}
	sy_free(b);
	free(b);
	return rc < 0 ? rc : 0;
}

#ifdef SYNACK_BENCH_LWIP
static uint64_t lw_frames_cb(void *ctx)
{
	struct lwip_pair_stats st;

	lwip_pair_stats(ctx, &st);
	return st.frames;
}

static void lw_trace(void *ctx, bool on) { lwip_pair_trace(ctx, on); }

static int run_lwip(const struct options *o, enum variant v, struct result *res)
{
	struct subject s = { .name = "lwip", .iter = v == V_CLOSE ? lw_iter_close : lw_iter_rst,
			     .trace = lw_trace };
	struct lwip_pair_stats st;
	int rc;

	s.ctx = lwip_pair_new(BASE_PORT);
	if (!s.ctx)
		return -1;
	rc = measure(&s, o, WARMUP, lw_frames_cb, res);
	if (rc < 0)
		report_failure(&s);
	else if (rc == 0 && !o->callgrind) {
		print_result("lwip", v, res);
		lwip_pair_stats(s.ctx, &st);
		printf("  lwip: %" PRIu64 " TIME-WAIT pcbs freed by the bench; wire drops %" PRIu64
		       ", pbuf allocations failed %" PRIu64 "\n",
		       st.reaped, st.wire_drops, st.rx_alloc_fail);
	}
	lwip_pair_free(s.ctx);
	return rc < 0 ? rc : 0;
}
#endif

static int usage(void)
{
	fprintf(stderr, "usage: handshake [--peer synack|lwip|both] [--variant close|rst|both] [--count N] "
			"[--rounds R] [--tw N] [--link mem|sim] [--clock virtual|real]\n"
			"                 [--callgrind N] [--trace]\n");
	return 2;
}

static int parse(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .peer = { true, true }, .variant = { true, true }, .count = DEFAULT_COUNT,
			       .rounds = DEFAULT_ROUNDS, .tw = DEFAULT_TW };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--peer") == 0 && v) {
			o->peer[0] = strcmp(v, "lwip") != 0;
			o->peer[1] = strcmp(v, "synack") != 0;
			if (strcmp(v, "synack") && strcmp(v, "lwip") && strcmp(v, "both"))
				return -1;
		} else if (strcmp(a, "--variant") == 0 && v) {
			o->variant[V_CLOSE] = strcmp(v, "rst") != 0;
			o->variant[V_RST] = strcmp(v, "close") != 0;
			if (strcmp(v, "close") && strcmp(v, "rst") && strcmp(v, "both"))
				return -1;
		} else if (strcmp(a, "--link") == 0 && v) {
			if (strcmp(v, "mem") && strcmp(v, "sim"))
				return -1;
			o->sim = strcmp(v, "sim") == 0;
		} else if (strcmp(a, "--count") == 0 && v) {
			if (bu_parse_u64(v, &o->count) < 0)
				return -1;
		} else if (strcmp(a, "--rounds") == 0 && v) {
			if (bu_parse_u64(v, &o->rounds) < 0)
				return -1;
		} else if (strcmp(a, "--tw") == 0 && v) {
			if (bu_parse_u64(v, &o->tw) < 0)
				return -1;
		} else if (strcmp(a, "--clock") == 0 && v) {
			if (strcmp(v, "real") && strcmp(v, "virtual"))
				return -1;
			o->real_clock = strcmp(v, "real") == 0;
		} else if (strcmp(a, "--trace") == 0) {
			o->trace = true;
			continue;
		} else if (strcmp(a, "--callgrind") == 0 && v) {
			if (bu_parse_u64(v, &o->callgrind) < 0)
				return -1;
		} else {
			return -1;
		}
		i++;
	}
	if (!o->count || !o->rounds || o->rounds > BU_MAX_ROUNDS || !o->tw || o->tw > 100000)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = 0;

	if (parse(argc, argv, &o) < 0)
		return usage();
#ifndef SYNACK_BENCH_LWIP
	if (o.peer[1]) {
		printf("lwip: SKIP: built without lwIP (pkg-config lwip not found; apt-get install liblwip-dev)\n");
		o.peer[1] = false;
	}
#endif
	if (!o.callgrind && !o.trace) {
		printf("handshake: in memory, one core, %" PRIu64 " rounds of %" PRIu64 " connections; close = connect, "
		       "accept,\n"
		       "handshake: 1-byte request, 1-byte response, close (client first); rst = connect, accept, "
		       "SO_LINGER 0 close\n",
		       o.rounds, o.count);
		if (o.real_clock)
			printf("handshake: synack on the %s, real clock, %d listening ports\n",
			       o.sim ? "sim wire (zero delay)" : "in-memory wire", NPORTS);
		else
			printf("handshake: synack on the %s, virtual clock +%.2f ms per connection (about %" PRIu64
			       " in TIME-WAIT), %d listening ports\n",
			       o.sim ? "sim wire (zero delay)" : "in-memory wire",
			       (double)TW_LIFETIME_NS / (double)o.tw / 1e6, o.tw, NPORTS);
#ifdef SYNACK_BENCH_LWIP
		if (o.peer[1])
			printf("handshake: lwIP %s (%s), two copies, raw API, one listening port; its TIME-WAIT "
			       "pcbs are freed after every connection\n",
			       lwip_peer_version(), lwip_peer_library());
#endif
	}
	for (int v = 0; v < 2; v++) {
		struct result sy = { 0 }, lw = { 0 };

		if (!o.variant[v])
			continue;
		if (o.peer[0] && run_synack(&o, (enum variant)v, &sy) < 0)
			rc = 1;
#ifdef SYNACK_BENCH_LWIP
		if (o.peer[1] && run_lwip(&o, (enum variant)v, &lw) < 0)
			rc = 1;
#endif
		if (o.trace) {
		} else if (o.callgrind) {
			printf("callgrind: %" PRIu64 " connections measured (%s, %s), %.1f frames/conn\n", o.callgrind,
			       o.peer[0] ? "synack" : "lwip", variant_name[v],
			       o.peer[0] ? sy.frames_per_conn : lw.frames_per_conn);
		} else if (sy.ok && lw.ok) {
			double a = bu_cpu_rate(&sy.r).median, b = bu_cpu_rate(&lw.r).median;
			printf("ratio   %-6s synack/lwip = %.2f (CPU-time medians)\n", variant_name[v], a / b);
		}
	}
	return rc;
}
