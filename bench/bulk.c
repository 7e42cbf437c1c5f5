/*
 * bench/bulk: bulk throughput in memory, synack against lwIP, one core.
 *
 * One connection between a client stack and a server stack in one process,
 * on the in-memory wire (bench/memwire.h, MTU 1500); the client's
 * application sends as fast as its send buffer takes data, the server's
 * reads everything into its own buffer (synack_recv, or lwIP's recv
 * callback copying the pbufs out). The figure is the bytes the server's
 * application received per second, of CPU time and of wall time, best and
 * median of --rounds rounds of --mib MiB; and the ratio synack/lwIP of the
 * CPU medians.
 *
 * synack runs on a virtual clock that only moves when nothing else can
 * (both sides wait on a timer, e.g. a delayed ACK: counted as clock
 * moves), so the round-trip time is zero. Its socket buffers are --buf
 * bytes, default 256 KiB (SO_SNDBUF on the client, SO_RCVBUF on the
 * listener, before the window scale is chosen; Linux doubles both); 0
 * keeps the stack's defaults (Linux's: 16 KiB to send, growing, and 128 KiB
 * to receive, which synack does not autotune yet). lwIP's are fixed by its
 * build: a 64 KiB window (window scale 1) and send buffer; no timestamps or
 * SACK, so its segments carry 12 bytes more data (MSS 1460, synack 1448).
 *
 * For instruction counts,
 *   valgrind --tool=callgrind --toggle-collect=bulk_measured \
 *       ./bulk --callgrind 16 --peer synack
 * counts only 16 MiB moved after a warm-up (bench/run.sh divides by the bytes).
 *
 * --offload puts synack's two stacks on the offloading wire instead
 * (bench/memwire.h: checksum offload and TSO/GRO, as a veth pair with
 * Linux's default offloads); lwIP has no such offloads and never uses it.
 *
 * usage: bulk [--peer synack|lwip|both] [--mib N] [--rounds R] [--buf BYTES]
 *             [--callgrind MIB] [--nstat] [--offload]
 * --nstat also prints synack's counters (nstat format) after the rounds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "bench_util.h"
#include "memwire.h"
#include "synack/synack.h"
#ifdef SYNACK_BENCH_LWIP
#include "lwip_peer.h"
#endif

#define PORT 5001
#define CHUNK 65536                         /* bytes per send/recv call */
#define MIB (UINT64_C(1) << 20)
#define DEFAULT_MIB 128
#define DEFAULT_ROUNDS 5
#define DEFAULT_BUF (256 << 10)
#define WARMUP_MIB 4
/* The offloading wire's check: round its ring (MW_TSO_BYTES) twice, so it
 * sees frames packed across the end, in sends large enough for 64 KiB
 * super-frames. */
#define CHECK_OFFLOAD_MIB 16
#define CHECK_OFFLOAD_SEND (CHUNK - 4096)

struct subject {
	const char *name;
	int64_t (*move)(struct subject *s, uint64_t bytes);
	void *ctx;
};

/* ---------------------------------------------------------------- synack */

struct sy {
	struct synack_clock *clk;
	struct mw_wire wire;
	struct stack *cli, *srv;
	int cfd, sfd;
	uint8_t *src, *dst;
	uint64_t stalls;
};

/* Deliver frames until both directions are empty. */
static bool sy_pump(struct sy *b)
{
	bool moved = false;

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
			return moved;
		moved = true;
	}
}

/* Both sides wait on a timer (a delayed ACK, say): move time to it. */
static int sy_unstall(struct sy *b)
{
	uint64_t d = synack_stack_next_deadline(b->cli), e = synack_stack_next_deadline(b->srv);

	if (e < d)
		d = e;
	if (d == SYNACK_NEVER)
		return -1;
	if (d > synack_clock_now(b->clk))
		synack_clock_set(b->clk, d);
	synack_stack_poll(b->cli);
	synack_stack_poll(b->srv);
	b->stalls++;
	return 0;
}

/*
 * The event loop of both applications: the client sends what its buffer
 * takes; the server's stack takes the frames that have arrived (up to 256
 * a poll) and its application reads all it can; the client's stack takes
 * the ACKs. Each stack is polled only when it has frames.
 */
static int64_t sy_move(struct subject *s, uint64_t bytes)
{
	struct sy *b = s->ctx;
	uint64_t sent = 0, got = 0;

	while (got < bytes) {
		bool moved = false;
		long n;

		while (sent < bytes) {
			uint64_t want = bytes - sent < CHUNK ? bytes - sent : CHUNK;

			n = synack_send(b->cli, b->cfd, b->src, want, 0);
			if (n <= 0)
				break;
			sent += (uint64_t)n;
		}
		if (!mw_empty(&b->wire.dir[0])) {
			synack_stack_poll(b->srv);
			moved = true;
		}
		while ((n = synack_recv(b->srv, b->sfd, b->dst, CHUNK, 0)) > 0)
			got += (uint64_t)n;
		if (n == 0 || (n < 0 && n != -EAGAIN))
			return -1;
		if (!mw_empty(&b->wire.dir[1])) {
			synack_stack_poll(b->cli);
			moved = true;
		}
		if (!moved && sy_unstall(b) < 0)
			return -1;
	}
	return (int64_t)got;
}

static int sy_setup(struct sy *b, int buf, bool offload)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int lfd;

	b->clk = synack_clock_new_virtual(1000000000);
	b->src = malloc(CHUNK);
	b->dst = malloc(CHUNK);
	if (!b->clk || !b->src || !b->dst || (offload ? mw_wire_init_offload(&b->wire) : mw_wire_init(&b->wire)) < 0)
		return -1;
	for (size_t i = 0; i < CHUNK; i++)
		b->src[i] = (uint8_t)(i * 7 + 1);
	b->cli = bu_stack_new(b->clk, "client", 1, &b->wire.end[0].link, 0x0a000001u);
	b->srv = bu_stack_new(b->clk, "server", 2, &b->wire.end[1].link, 0x0a000002u);
	if (!b->cli || !b->srv)
		return -1;
	a.sin_addr.s_addr = htonl(0x0a000002u);
	lfd = synack_socket(b->srv);
	b->cfd = synack_socket(b->cli);
	if (lfd < 0 || b->cfd < 0)
		return -1;
	if (buf && (synack_setsockopt(b->srv, lfd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) < 0 ||
		    synack_setsockopt(b->cli, b->cfd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) < 0))
		return -1;
	if (synack_bind(b->srv, lfd, &a) < 0 || synack_listen(b->srv, lfd, 16) < 0 ||
	    synack_connect(b->cli, b->cfd, &a) != -EINPROGRESS)
		return -1;
	sy_pump(b);
	b->sfd = synack_accept(b->srv, lfd, NULL);
	return b->sfd < 0 ? -1 : 0;
}

static void sy_free(struct sy *b)
{
	synack_stack_free(b->cli);
	synack_stack_free(b->srv);
	mw_wire_free(&b->wire);
	synack_clock_free(b->clk);
	free(b->src);
	free(b->dst);
}

/* Every byte arrives intact (checked once, before measuring): the stream
 * is src repeated with period 4096 (src[i] itself has period 256, so any
 * span of src from a multiple of 4096 continues it). Sends of `each` bytes. */
static int sy_check(struct sy *b, uint64_t bytes, size_t each)
{
	uint64_t sent = 0, got = 0;
	int rc = 0;

	while (got < bytes && rc == 0) {
		bool moved = false;
		long n;

		while (sent < bytes && (n = synack_send(b->cli, b->cfd, b->src + sent % 4096, each, 0)) > 0) {
			sent += (uint64_t)n;
			moved = true;
		}
		moved |= sy_pump(b);
		while ((n = synack_recv(b->srv, b->sfd, b->dst, 4096, 0)) > 0) {
			for (long i = 0; i < n; i++)
				if (b->dst[i] != b->src[(got + (uint64_t)i) % 4096])
					rc = -1;
			got += (uint64_t)n;
			moved = true;
		}
		moved |= sy_pump(b);
		if (!moved && sy_unstall(b) < 0)
			rc = -1;
	}
	return rc;
}

/* ------------------------------------------------------------------ lwIP */

#ifdef SYNACK_BENCH_LWIP
static int64_t lw_move(struct subject *s, uint64_t bytes) { return lwip_bulk_move(s->ctx, bytes); }
#endif

/* ----------------------------------------------------------- measuring */

/* Two functions callgrind can tell apart (--toggle-collect=bulk_measured);
 * the warm-up counts its calls so the compiler cannot fold the two. */
static volatile uint64_t warmed_up;

__attribute__((noinline)) static int64_t bulk_warmup(struct subject *s, uint64_t bytes)
{
	warmed_up = warmed_up + 1;
	return s->move(s, bytes);
}

__attribute__((noinline)) static int64_t bulk_measured(struct subject *s, uint64_t bytes)
{
	return s->move(s, bytes);
}

struct options {
	bool peer[2];
	uint64_t mib, rounds, buf, callgrind;
	bool nstat;
	bool offload;                       /* synack on the offloading wire */
};

struct result {
	bool ok;
	struct bu_rounds r;
};

static int measure(struct subject *s, const struct options *o, struct result *res)
{
	uint64_t bytes = o->callgrind ? o->callgrind * MIB : o->mib * MIB;

	if (bulk_warmup(s, WARMUP_MIB * MIB) != (int64_t)(WARMUP_MIB * MIB))
		return -1;
	if (o->callgrind) {
		if (bulk_measured(s, bytes) != (int64_t)bytes)
			return -1;
		res->ok = true;
		return 0;
	}
	res->r.work = (double)bytes;
	for (unsigned k = 0; k < o->rounds; k++) {
		struct bu_time t = bu_start();

		if (bulk_measured(s, bytes) != (int64_t)bytes)
			return -1;
		t = bu_stop(t);
		res->r.wall[k] = t.wall;
		res->r.cpu[k] = t.cpu;
		res->r.n++;
	}
	res->ok = true;
	return 0;
}

static void print_result(const char *peer, const struct result *res, uint64_t frames, uint64_t bytes)
{
	struct bu_rate cpu = bu_cpu_rate(&res->r), wall = bu_wall_rate(&res->r);

	printf("%-7s cpu best %7.3f GB/s, median %7.3f GB/s; wall best %7.3f, median %7.3f GB/s; %.1f frames/MiB\n",
	       peer, cpu.best / 1e9, cpu.median / 1e9, wall.best / 1e9, wall.median / 1e9,
	       (double)frames * (double)MIB / (double)bytes);
}

/* How much the merger merged: frames counts each super-frame once. */
static void print_offload(const struct mw_wire *w)
{
	const struct mw_ring *d = &w->dir[0];
	double frames = d->frames ? (double)d->frames : 1;

	printf("  synack: offloading wire: client to server %" PRIu64 " frames for %" PRIu64
	       " segments (%.1f a frame), %.0f bytes a frame\n",
	       d->frames, d->off->segs, (double)d->off->segs / frames, (double)d->bytes / frames);
}

static int run_synack(const struct options *o, struct result *res)
{
	struct sy *b = calloc(1, sizeof(*b));
	struct subject s = { .name = "synack", .move = sy_move, .ctx = b };
	uint64_t f0;
	int rc;

	if (!b)
		return -1;
	rc = sy_setup(b, (int)o->buf, o->offload);
	if (rc == 0 && !o->callgrind &&
	    (o->offload ? sy_check(b, CHECK_OFFLOAD_MIB * MIB, CHECK_OFFLOAD_SEND) : sy_check(b, 4 * MIB, 4096)) < 0) {
		fprintf(stderr, "bulk: synack: the data arrived damaged\n");
		rc = -1;
	}
	f0 = mw_frames(&b->wire);
	if (rc == 0)
		rc = measure(&s, o, res);
	if (rc < 0) {
		fprintf(stderr, "bulk: synack failed\n");
	} else if (!o->callgrind) {
		struct synack_tcp_info ti;
		unsigned len = sizeof(ti);
		int sb = 0, rb = 0;
		unsigned il = sizeof(int);

		synack_getsockopt(b->cli, b->cfd, IPPROTO_TCP, TCP_INFO, &ti, &len);
		synack_getsockopt(b->cli, b->cfd, SOL_SOCKET, SO_SNDBUF, &sb, &il);
		il = sizeof(int);
		synack_getsockopt(b->srv, b->sfd, SOL_SOCKET, SO_RCVBUF, &rb, &il);
		print_result("synack", res, mw_frames(&b->wire) - f0, (WARMUP_MIB + o->mib * o->rounds) * MIB);
		printf("  synack: MSS %u, cwnd %u, SO_SNDBUF %d, SO_RCVBUF %d, retransmits %u, clock moves %" PRIu64
		       ", wire drops %" PRIu64 "\n",
		       ti.tcpi_snd_mss, ti.tcpi_snd_cwnd, sb, rb, ti.tcpi_total_retrans, b->stalls,
		       mw_drops(&b->wire));
		if (o->offload)
			print_offload(&b->wire);
		if (o->nstat) {
			printf("  synack client counters:\n");
			synack_mib_print_nstat(b->cli, stdout);
			printf("  synack server counters:\n");
			synack_mib_print_nstat(b->srv, stdout);
		}
	}
	sy_free(b);
	free(b);
	return rc;
}

#ifdef SYNACK_BENCH_LWIP
static int run_lwip(const struct options *o, struct result *res)
{
	struct lwip_pair *p = lwip_pair_new(PORT);
	struct subject s = { .name = "lwip", .move = lw_move, .ctx = p };
	struct lwip_pair_stats st0, st;
	int rc;

	if (!p)
		return -1;
	rc = lwip_bulk_open(p);
	lwip_pair_stats(p, &st0);
	if (rc == 0)
		rc = measure(&s, o, res);
	if (rc < 0) {
		fprintf(stderr, "bulk: lwip failed\n");
	} else if (!o->callgrind) {
		lwip_pair_stats(p, &st);
		print_result("lwip", res, st.frames - st0.frames, (WARMUP_MIB + o->mib * o->rounds) * MIB);
		printf("  lwip: MSS %u, 64 KiB window and send buffer (its build), fast-timer runs %" PRIu64
		       ", wire drops %" PRIu64 "\n",
		       st.mss, st.stalls, st.wire_drops);
	}
	lwip_pair_free(p);
	return rc;
}
#endif

static int usage(void)
{
	fprintf(stderr, "usage: bulk [--peer synack|lwip|both] [--mib N] [--rounds R] [--buf BYTES] [--callgrind MIB]\n"
			"            [--nstat] [--offload]\n"
			"--offload: synack on the offloading wire (checksum offload, TSO/GRO, as veth)\n");
	return 2;
}

static int parse(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .peer = { true, true }, .mib = DEFAULT_MIB, .rounds = DEFAULT_ROUNDS,
			       .buf = DEFAULT_BUF };
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--nstat") == 0 || strcmp(a, "--offload") == 0) {
			o->nstat |= strcmp(a, "--nstat") == 0;
			o->offload |= strcmp(a, "--offload") == 0;
			i--;
			continue;
		}
		if (!v)
			return -1;
		if (strcmp(a, "--peer") == 0) {
			if (strcmp(v, "synack") && strcmp(v, "lwip") && strcmp(v, "both"))
				return -1;
			o->peer[0] = strcmp(v, "lwip") != 0;
			o->peer[1] = strcmp(v, "synack") != 0;
		} else if (strcmp(a, "--mib") == 0) {
			if (bu_parse_u64(v, &o->mib) < 0)
				return -1;
		} else if (strcmp(a, "--rounds") == 0) {
			if (bu_parse_u64(v, &o->rounds) < 0)
				return -1;
		} else if (strcmp(a, "--buf") == 0) {
			if (bu_parse_u64(v, &o->buf) < 0)
				return -1;
		} else if (strcmp(a, "--callgrind") == 0) {
			if (bu_parse_u64(v, &o->callgrind) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	if (!o->mib || !o->rounds || o->rounds > BU_MAX_ROUNDS || o->buf > (1u << 30))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct result sy = { 0 }, lw = { 0 };
	int rc = 0;

	if (parse(argc, argv, &o) < 0)
		return usage();
#ifndef SYNACK_BENCH_LWIP
	if (o.peer[1]) {
		printf("lwip: SKIP: built without lwIP (pkg-config lwip not found; apt-get install liblwip-dev)\n");
		o.peer[1] = false;
	}
#endif
	if (!o.callgrind)
		printf("bulk: one connection, client to server, MTU 1500, in memory, one core; %" PRIu64
		       " rounds of %" PRIu64 " MiB\n"
		       "bulk: GB/s = 10^9 bytes received by the server's application per second\n%s",
		       o.rounds, o.mib,
		       o.offload ? "bulk: synack on the offloading wire (checksum offload, TSO/GRO, as veth)\n" : "");
	if (o.peer[0] && run_synack(&o, &sy) < 0)
		rc = 1;
#ifdef SYNACK_BENCH_LWIP
	if (o.peer[1] && run_lwip(&o, &lw) < 0)
		rc = 1;
#endif
	if (o.callgrind)
		printf("callgrind: %" PRIu64 " MiB measured (%s)\n", o.callgrind, o.peer[0] ? "synack" : "lwip");
	else if (sy.ok && lw.ok && !o.offload) /* lwIP has no offloads: no like-for-like ratio */
		printf("ratio   synack/lwip = %.2f (CPU-time medians)\n",
		       bu_cpu_rate(&sy.r).median / bu_cpu_rate(&lw.r).median);
	return rc;
}
