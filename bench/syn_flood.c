/*
 * bench/syn_flood: how synack stands a flood of spoofed SYNs.
 *
 * (a) rate: one server stack alone on one core, real clock, fed pre-built
 *     frames from memory as fast as it takes them: spoofed SYNs from
 *     198.18.0.0/15 (RFC 2544's benchmark range) to a listener whose SYN
 *     queue is full, so each is answered with a SYN cookie. Reports SYNs
 *     handled per second of wall time (and of CPU time), best and median of
 *     several rounds. Under callgrind,
 *       valgrind --tool=callgrind --toggle-collect=feed_measured \
 *           ./syn_flood --rate-only --count 20000 --rounds 1
 *     counts only the measured SYNs: instructions per SYN = Ir / 20000.
 * (b) sim: two stacks on the sim wire, virtual time (tests/sim/synflood.h):
 *     a spoofed flood at several rates while a client opens real
 *     connections; reports their success rate and handshake latency
 *     (p50/p99, virtual time) with cookies on and off.
 *
 * usage: syn_flood [--rate-only | --sim-only] [--count N] [--rounds R]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sim/synflood.h"

#define RING 65536                  /* distinct pre-built frames, cycled */
#define WARMUP 4096                 /* fills the SYN queue before measuring */
#define DEFAULT_COUNT 1000000        /* SYNs per round */
#define DEFAULT_ROUNDS 5
#define RATE_BACKLOG 128
#define ARP_LEN 42

static const uint8_t server_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* --------------------------------------------------------- feed link */

/*
 * A link that hands out frames from a ring and drops what is sent, so the
 * stack does nothing but receive and answer. Slot 0 of the ring is an ARP
 * request from the gateway (which makes the stack create its neighbour
 * entry), slot 1 a unicast ARP reply (which keeps it REACHABLE); the rest
 * are SYNs.
 */
struct feed_link {
	struct synack_link link;
	uint8_t (*frames)[SF_SYN_LEN];
	size_t lens[RING];
	size_t next;
	uint64_t left;                  /* frames still to hand out */
	uint64_t sent, sent_bytes;
};

static int feed_send(struct synack_link *l, const void *frame, size_t len)
{
	struct feed_link *f = (struct feed_link *)l;

	(void)frame;
	f->sent++;
	f->sent_bytes += len;
	return 0;
}

static int feed_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct feed_link *f = (struct feed_link *)l;
	size_t len = f->lens[f->next];

	if (!f->left)
		return 0;
	if (len > cap)
		len = cap;
	memcpy(buf, f->frames[f->next], len);     /* as a driver copies into its buffer */
	f->next = (f->next + 1) % RING;
	f->left--;
	return (int)len;
}

static int feed_wait_fd(struct synack_link *l)
{
	(void)l;
	return -1;
}

static uint64_t feed_next_deadline(struct synack_link *l)
{
	(void)l;
	return SYNACK_NEVER;
}

static void feed_destroy(struct synack_link *l) { (void)l; }

static const struct synack_link_ops feed_ops = {
	.kind = "feed", .send = feed_send, .recv = feed_recv, .wait_fd = feed_wait_fd,
	.next_deadline = feed_next_deadline, .destroy = feed_destroy,
};

/* An ARP frame from the gateway 10.0.0.1 about 10.0.0.2 (op 1 request,
 * broadcast; op 2 reply, to the server's MAC). */
static size_t build_arp(uint8_t *f, int op)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t gw = htonl(0x0a000001u), srv = htonl(0x0a000002u);
	uint8_t *a = f + 14;

	memset(f, 0, ARP_LEN);
	memcpy(f, op == 1 ? bcast : server_mac, 6);
	memcpy(f + 6, gw_mac, 6);
	sf_put16(f + 12, 0x0806);
	sf_put16(a, 1);
	sf_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	sf_put16(a + 6, (uint16_t)op);
	memcpy(a + 8, gw_mac, 6);
	memcpy(a + 14, &gw, 4);
	if (op == 2)
		memcpy(a + 18, server_mac, 6);
	memcpy(a + 24, &srv, 4);
	return ARP_LEN;
}

static void fill_ring(struct feed_link *f)
{
	uint64_t rng = 42;

	f->lens[0] = build_arp(f->frames[0], 1);
	f->lens[1] = build_arp(f->frames[1], 2);
	for (size_t i = 2; i < RING; i++) {
		uint64_t x = sf_rand(&rng);
		struct sf_syn s = {
			.dmac = server_mac, .smac = gw_mac, .saddr = sf_spoofed_addr(&rng, false),
			.daddr = htonl(0x0a000002u), .sport = (uint16_t)(1024 + x % 64512), .dport = SF_PORT,
			.isn = (uint32_t)(x >> 32), .tsval = (uint32_t)sf_rand(&rng),
		};
		f->lens[i] = sf_build_syn(f->frames[i], &s);
	}
}

/* ------------------------------------------------------------- rate */

struct rate_bench {
	struct synack_clock *clk;
	struct feed_link feed;
	struct stack *st;
	int lfd;
};

static int rate_setup(struct rate_bench *b)
{
	struct synack_stack_config sc = { .name = "server", .seeded = true, .seed = 1 };
	struct synack_if_config ic = { .prefix_len = 24 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SF_PORT) };

	b->clk = synack_clock_new_real();
	b->feed.frames = calloc(RING, sizeof(*b->feed.frames));
	if (!b->clk || !b->feed.frames)
		return -1;
	fill_ring(&b->feed);
	b->feed.link.ops = &feed_ops;
	b->feed.link.mtu = 1500;
	memcpy(b->feed.link.mac, server_mac, 6);
	sc.clock = b->clk;
	ic.addr.s_addr = htonl(0x0a000002u);
	ic.gateway.s_addr = htonl(0x0a000001u);
	a.sin_addr = ic.addr;
	if (synack_stack_new(&sc, &b->st) < 0 || synack_sysctl_set(b->st, "net.ipv4.tcp_syncookies", 1) < 0 ||
	    synack_if_up(b->st, &b->feed.link, &ic) < 0)
		return -1;
	b->lfd = synack_socket(b->st);
	if (b->lfd < 0 || synack_bind(b->st, b->lfd, &a) < 0 || synack_listen(b->st, b->lfd, RATE_BACKLOG) < 0)
		return -1;
	return 0;
}

static void rate_free(struct rate_bench *b)
{
	synack_stack_free(b->st);
	synack_clock_free(b->clk);
	free(b->feed.frames);
}

/* Poll until the link has handed out every frame it was given. */
static void feed_all(struct rate_bench *b, uint64_t n)
{
	b->feed.left = n;
	while (b->feed.left)
		synack_stack_poll(b->st);
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void) { return clock_s(CLOCK_MONOTONIC); }

/* Two functions callgrind can tell apart (--toggle-collect=feed_measured):
 * only the measured SYNs count. Their bodies differ, so the compiler cannot
 * fold them into one. */
__attribute__((noinline)) static void feed_warmup(struct rate_bench *b, uint64_t n) { feed_all(b, n); }

struct round_time {
	double wall, cpu;               /* seconds */
};

/* The time n frames took: wall, and this process's CPU time (which a
 * busy machine does not inflate by descheduling us). */
__attribute__((noinline)) static struct round_time feed_measured(struct rate_bench *b, uint64_t n)
{
	struct round_time t = { -wall_s(), -clock_s(CLOCK_PROCESS_CPUTIME_ID) };

	feed_all(b, n);
	t.wall += wall_s();
	t.cpu += clock_s(CLOCK_PROCESS_CPUTIME_ID);
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define MAX_ROUNDS 64

/* Rates (SYNs/s) of each round, sorted: best and median are reported,
 * since other work on the machine only ever slows a round down. */
static void print_rates(const char *what, double *secs, unsigned rounds, uint64_t count)
{
	qsort(secs, rounds, sizeof(secs[0]), cmp_double);
	printf("rate: %-5s best %9.0f SYNs/s (%5.0f ns per SYN), median %9.0f SYNs/s (%5.0f ns per SYN)\n", what,
	       (double)count / secs[0], secs[0] * 1e9 / (double)count, (double)count / secs[rounds / 2],
	       secs[rounds / 2] * 1e9 / (double)count);
}

static int run_rate(uint64_t count, unsigned rounds)
{
	struct rate_bench b = { 0 };
	double wall[MAX_ROUNDS], cpu[MAX_ROUNDS];
	uint64_t cookies0, sent0;

	if (rate_setup(&b) < 0) {
		fprintf(stderr, "syn_flood: setting up the rate bench failed\n");
		rate_free(&b);
		return 1;
	}
	feed_warmup(&b, WARMUP);
	cookies0 = synack_mib_value(b.st, "TcpExtSyncookiesSent");
	sent0 = b.feed.sent;
	for (unsigned i = 0; i < rounds; i++) {
		struct round_time t = feed_measured(&b, count);
		wall[i] = t.wall;
		cpu[i] = t.cpu;
	}
	uint64_t total = count * rounds, cookies = synack_mib_value(b.st, "TcpExtSyncookiesSent") - cookies0;
	printf("rate: %u rounds of %" PRIu64 " spoofed SYNs, one core, cookies on (SYN queue full)\n", rounds, count);
	print_rates("wall", wall, rounds, count);
	print_rates("cpu", cpu, rounds, count);
	printf("rate: %" PRIu64 " of %" PRIu64 " answered with a cookie, %" PRIu64 " frames sent; SYN queue %u "
	       "(backlog %d), live skbs %zu, neighbours %u, ArpTableFulls %" PRIu64 "\n",
	       cookies, total, b.feed.sent - sent0, b.st->tcp.fds[b.lfd]->rskq->qlen, RATE_BACKLOG,
	       b.st->skb_pool.live_skbs, b.st->arp.entries, synack_mib_value(b.st, "ArpTableFulls"));
	rate_free(&b);
	/* Nearly every measured SYN must have been a cookie (not those whose
	 * tuple already has a request in the queue, 129 per turn of the ring),
	 * or the figure is not the cookie path's. */
	return cookies >= total - total / 100 ? 0 : 1;
}

/* -------------------------------------------------------------- sim */

struct sim_case {
	const char *name;
	long syncookies;
	uint64_t rate;
};

static void print_ms(uint64_t ns)
{
	if (ns == SF_NEVER)
		printf("%10s", "-");
	else
		printf("%10.3f", (double)ns / 1e6);
}

static int run_sim_case(const struct sim_case *k)
{
	struct sf_config c = {
		.seed = 1, .syncookies = k->syncookies, .backlog = RATE_BACKLOG, .flood_rate = k->rate,
		.flood_start_ms = 0, .flood_ms = 2000, .legit = 200, .legit_start_ms = 100, .legit_every_ms = 9,
		.legit_bytes = 16384, .delay_ns = SF_NS_PER_MS, .budget_ms = 60000,
	};
	struct sf_run *r = calloc(1, sizeof(*r));
	struct sf_result *res = calloc(1, sizeof(*res));
	double t0 = wall_s();

	if (!r || !res || sf_setup(r, &c) < 0) {
		fprintf(stderr, "syn_flood: setting up the sim case failed\n");
		return 1;
	}
	sf_run_until(r, c.budget_ms);
	sf_collect(r, 1000, res);
	printf("%-12s %9" PRIu64 " %9" PRIu64 " %6.1f%% %6.1f%%", k->name, k->rate, res->spoofed,
	       100.0 * res->ok / c.legit, 100.0 * res->fast / c.legit);
	print_ms(sf_percentile(res, 50));
	print_ms(sf_percentile(res, 99));
	printf(" %9" PRIu64 " %5u %5zu %6.2f\n", res->cookies_sent, res->peak.synq, res->peak.skbs, wall_s() - t0);
	sf_free(r);
	free(r);
	free(res);
	return 0;
}

static int run_sim(void)
{
	static const struct sim_case cases[] = {
		{ "cookies on", 1, 10000 },  { "cookies on", 1, 100000 },  { "cookies on", 1, 1000000 },
		{ "cookies off", 0, 10000 }, { "cookies off", 0, 100000 },
	};
	int rc = 0;

	printf("sim: 2 s flood, 200 real connections (one every 9 ms from 0.1 s, 16 KiB each way), backlog %d,\n"
	       "sim: one-way delay 1 ms, virtual time (the stacks' CPU time does not count); latency = connect() to\n"
	       "sim: connected; ok = handshake done and every byte intact both ways; <1s = connected within 1 s\n",
	       RATE_BACKLOG);
	printf("%-12s %9s %9s %7s %7s %10s %10s %9s %5s %5s %6s\n", "case", "SYN/s", "spoofed", "ok", "<1s",
	       "p50 ms", "p99 ms", "cookies", "synq", "skbs", "wall s");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		rc |= run_sim_case(&cases[i]);
	return rc;
}

int main(int argc, char **argv)
{
	bool rate = true, sim = true;
	uint64_t count = DEFAULT_COUNT, rounds = DEFAULT_ROUNDS;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rate-only") == 0) {
			sim = false;
		} else if (strcmp(argv[i], "--sim-only") == 0) {
			rate = false;
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			count = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			rounds = strtoull(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: syn_flood [--rate-only | --sim-only] [--count N] [--rounds R]\n");
			return 2;
		}
	}
	if (count == 0 || rounds == 0 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "syn_flood: --count must be > 0, --rounds 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	int rc = rate ? run_rate(count, (unsigned)rounds) : 0;
	if (sim)
		rc |= run_sim();
	return rc;
}
