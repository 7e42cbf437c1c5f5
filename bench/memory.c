/*
 * bench/memory: what synack's connections cost in memory.
 *
 * Two stacks in one process on the in-memory wire (bench/memwire.h). This
 * program replaces malloc, calloc, realloc and free with wrappers around
 * glibc's that charge every block (malloc_usable_size + glibc's 8-byte
 * chunk header) to whichever stack the bench is calling into at the time,
 * so the client's and the server's heap are counted apart. Three
 * measurements, each the change in a stack's heap divided by the number of
 * objects made:
 *   request sock:  N SYNs reach 16 listeners whose SYN-ACKs are dropped on
 *                  the wire, so the server holds N request socks (and the
 *                  client N sockets in SYN-SENT);
 *   established:   N connections established and accepted, idle, no data
 *                  queued: bytes per connected (client) and per accepted
 *                  (server) socket;
 *   TIME-WAIT:     those N closed, client first: the client keeps N
 *                  TIME-WAIT entries (with their port's bind bucket).
 * Descriptor tables are grown to N before measuring, so their doubling is
 * not charged to the objects. Also the process's resident set (VmRSS)
 * before anything and with the N connections open (both ends live in this
 * process), less the wire's rings, per connection and extrapolated to a
 * million; it includes each stack's fixed tables and pools. The peer of the
 * issue's figures, Linux, is quoted (its struct sizes on x86-64), not
 * measured: this program does not compare.
 *
 * usage: memory [--conns N]   (default 50000)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "bench_util.h"
#include "core/skb.h"
#include "core/stack.h"
#include "memwire.h"
#include "synack/synack.h"
#include "tcp/tcp.h"

#if defined(__SANITIZE_ADDRESS__)
#define MEM_ACCOUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_ACCOUNTING 0
#endif
#endif
#ifndef MEM_ACCOUNTING
#define MEM_ACCOUNTING 1
#endif

#define NPORTS 16
#define BASE_PORT 8000
#define DEFAULT_CONNS 50000
#define BATCH 256
#define MALLOC_CHUNK_OVERHEAD 8
#define MIB_ 1048576.0
#define WIRE_KIB ((long)(2 * MW_SLOTS * MW_FRAME_CAP / 1024))

/* ---------------------------------------------------- heap accounting */

enum { CTX_NONE, CTX_CLIENT, CTX_SERVER, CTX_N };

static int cur_ctx;
static int64_t heap_bytes[CTX_N];

#if MEM_ACCOUNTING
static int64_t heap_blocks[CTX_N];
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static void charge(void *p, int sign)
{
	heap_bytes[cur_ctx] += sign * (int64_t)(malloc_usable_size(p) + MALLOC_CHUNK_OVERHEAD);
	heap_blocks[cur_ctx] += sign;
}

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);

	if (p)
		charge(p, 1);
	return p;
}

void *calloc(size_t n, size_t m)
{
	void *p = __libc_calloc(n, m);

	if (p)
		charge(p, 1);
	return p;
}

void *realloc(void *p, size_t n)
{
	void *q;

	if (p)
		charge(p, -1);
	q = __libc_realloc(p, n);
	if (q)
		charge(q, 1);
	else if (p && n)
		charge(p, 1);       /* failed: p is untouched */
	return q;
}

void free(void *p)
{
	if (p)
		charge(p, -1);
	__libc_free(p);
}
#endif

/* Run expr charged to ctx. */
#define ON(ctx, expr)                                                                                          \
	({                                                                                                     \
		int saved_ = cur_ctx;                                                                          \
		cur_ctx = (ctx);                                                                               \
		__typeof__(expr) r_ = (expr);                                                                  \
		cur_ctx = saved_;                                                                              \
		r_;                                                                                            \
	})

/* ------------------------------------------------------------ the pair */

struct pair {
	struct synack_clock *clk;
	struct mw_wire wire;
	struct stack *cli, *srv;
	int lfd[NPORTS];
	struct sockaddr_in dst[NPORTS];
	int *cfd, *sfd;                     /* the connections' descriptors */
};

static void pump(struct pair *b)
{
	for (;;) {
		bool any = false;

		if (!mw_empty(&b->wire.dir[0])) {
			ON(CTX_SERVER, synack_stack_poll(b->srv));
			any = true;
		}
		if (!mw_empty(&b->wire.dir[1])) {
			ON(CTX_CLIENT, synack_stack_poll(b->cli));
			any = true;
		}
		if (!any)
			return;
	}
}

/* A TCP segment with SYN and ACK set (IPv4 without options). */
static bool is_synack(const uint8_t *f, size_t len)
{
	return len >= 14 + 20 + 20 && f[12] == 0x08 && f[13] == 0x00 && f[23] == IPPROTO_TCP &&
	       (f[14 + 20 + 13] & 0x12) == 0x12;
}

/* Grow a stack's descriptor table to n: n sockets made, then closed. */
static int grow_fds(struct stack *st, int ctx, uint64_t n)
{
	int *fds = malloc(n * sizeof(*fds));

	if (!fds)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		if ((fds[i] = ON(ctx, synack_socket(st))) < 0)
			return -1;
	for (uint64_t i = 0; i < n; i++)
		ON(ctx, synack_close(st, fds[i]));
	free(fds);
	return 0;
}

static int pair_new(struct pair *b, uint64_t n)
{
	b->clk = synack_clock_new_virtual(1000000000);
	b->cfd = calloc(n, sizeof(int));
	b->sfd = calloc(n, sizeof(int));
	if (!b->clk || !b->cfd || !b->sfd || mw_wire_init(&b->wire) < 0)
		return -1;
	/* Make the wire's rings resident now, so they are a known constant
	 * (WIRE_KIB) of the resident set rather than growing with it. */
	memset(b->wire.dir[0].data, 0, (size_t)MW_SLOTS * MW_FRAME_CAP);
	memset(b->wire.dir[1].data, 0, (size_t)MW_SLOTS * MW_FRAME_CAP);
	b->cli = ON(CTX_CLIENT, bu_stack_new(b->clk, "client", 1, &b->wire.end[0].link, 0x0a000001u));
	b->srv = ON(CTX_SERVER, bu_stack_new(b->clk, "server", 2, &b->wire.end[1].link, 0x0a000002u));
	if (!b->cli || !b->srv)
		return -1;
	/* Every closed connection keeps its TIME-WAIT entry, however many
	 * (Linux's default cap, 131072 here too, would end the count early). */
	if (synack_sysctl_set(b->cli, "net.ipv4.tcp_max_tw_buckets", (long)n + 64) < 0 ||
	    synack_sysctl_set(b->srv, "net.core.somaxconn", 1L << 20) < 0 ||
	    synack_sysctl_set(b->srv, "net.ipv4.tcp_max_syn_backlog", 1L << 20) < 0 ||
	    synack_sysctl_set(b->srv, "net.ipv4.tcp_syncookies", 0) < 0)
		return -1;
	for (int p = 0; p < NPORTS; p++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(BASE_PORT + p)) };

		a.sin_addr.s_addr = htonl(0x0a000002u);
		b->dst[p] = a;
		b->lfd[p] = ON(CTX_SERVER, synack_socket(b->srv));
		if (b->lfd[p] < 0 || ON(CTX_SERVER, synack_bind(b->srv, b->lfd[p], &a)) < 0 ||
		    ON(CTX_SERVER, synack_listen(b->srv, b->lfd[p], 1 << 20)) < 0)
			return -1;
	}
	pump(b);
	/* One connection both ways and back, so ARP and the pools are warm. */
	int c = ON(CTX_CLIENT, synack_socket(b->cli)), s;
	if (c < 0 || ON(CTX_CLIENT, synack_connect(b->cli, c, &b->dst[0])) != -EINPROGRESS)
		return -1;
	pump(b);
	s = ON(CTX_SERVER, synack_accept(b->srv, b->lfd[0], NULL));
	if (s < 0)
		return -1;
	ON(CTX_CLIENT, synack_close(b->cli, c));
	pump(b);
	ON(CTX_SERVER, synack_close(b->srv, s));
	pump(b);
	if (grow_fds(b->cli, CTX_CLIENT, n + 64) < 0 || grow_fds(b->srv, CTX_SERVER, n + 64) < 0)
		return -1;
	return 0;
}

static void pair_free(struct pair *b)
{
	if (b->cli)
		ON(CTX_CLIENT, (synack_stack_free(b->cli), 0));
	if (b->srv)
		ON(CTX_SERVER, (synack_stack_free(b->srv), 0));
	mw_wire_free(&b->wire);
	synack_clock_free(b->clk);
	free(b->cfd);
	free(b->sfd);
}

/* Open n connections (in batches); accept them unless the SYN-ACKs are
 * being dropped. */
static int open_conns(struct pair *b, uint64_t n, bool accept)
{
	for (uint64_t i = 0; i < n; i += BATCH) {
		uint64_t end = i + BATCH < n ? i + BATCH : n;

		for (uint64_t k = i; k < end; k++) {
			b->cfd[k] = ON(CTX_CLIENT, synack_socket(b->cli));
			if (b->cfd[k] < 0 ||
			    ON(CTX_CLIENT, synack_connect(b->cli, b->cfd[k], &b->dst[k % NPORTS])) != -EINPROGRESS) {
				fprintf(stderr, "memory: connect %" PRIu64 " failed\n", k);
				return -1;
			}
		}
		pump(b);
		if (!accept)
			continue;
		for (uint64_t k = i; k < end; k++) {
			b->sfd[k] = ON(CTX_SERVER, synack_accept(b->srv, b->lfd[k % NPORTS], NULL));
			if (b->sfd[k] < 0) {
				fprintf(stderr, "memory: accept %" PRIu64 " failed (%d)\n", k, b->sfd[k]);
				return -1;
			}
		}
	}
	return 0;
}

/* Close n connections, client first, in batches (the wire holds 4096
 * frames a direction): the server reads EOF and closes. */
static int close_conns(struct pair *b, uint64_t n)
{
	char c;

	for (uint64_t i = 0; i < n; i += BATCH) {
		uint64_t end = i + BATCH < n ? i + BATCH : n;

		for (uint64_t k = i; k < end; k++)
			ON(CTX_CLIENT, synack_close(b->cli, b->cfd[k]));
		pump(b);
		for (uint64_t k = i; k < end; k++) {
			if (ON(CTX_SERVER, synack_recv(b->srv, b->sfd[k], &c, 1, 0)) != 0) {
				fprintf(stderr, "memory: connection %" PRIu64 " did not see EOF\n", k);
				return -1;
			}
			ON(CTX_SERVER, synack_close(b->srv, b->sfd[k]));
		}
		pump(b);
	}
	return 0;
}

/* ------------------------------------------------------------ figures */

static long proc_status_kib(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':')
			v = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return v;
}

struct snap {
	int64_t cli, srv;
};

/* The slab caches map their own chunks (src/core/slab.c): what they have
 * handed out is added to what malloc gave the stack. */
static int64_t slab_bytes(const struct stack *st)
{
	return (int64_t)(kmem_cache_bytes(&st->tcp.sk_slab) + kmem_cache_bytes(&st->tcp.tw_slab) +
			 kmem_cache_bytes(&st->tcp.req_slab));
}

static struct snap snap(const struct pair *b)
{
	return (struct snap){ heap_bytes[CTX_CLIENT] + slab_bytes(b->cli), heap_bytes[CTX_SERVER] + slab_bytes(b->srv) };
}

static void per_object(const char *what, int64_t delta, uint64_t n, const char *note)
{
	double b = (double)delta / (double)n;

	printf("%-37s %6.0f bytes  (x 1M = %7.1f MiB)%s%s\n", what, b, b * 1e6 / MIB_, note ? "  " : "",
	       note ? note : "");
}
static int run(uint64_t n)
{
	struct pair *b = calloc(1, sizeof(*b));
	struct snap s0, s1, s2;
	long rss0, rss1, hwm;
	char note[128];
	int rc = -1;

	if (!b)
		return 1;
	/* First, while the heap is fresh (so the resident set grows with the
	 * connections): established, then TIME-WAIT. The resident set is
	 * compared with the process's before anything was made. */
	rss0 = proc_status_kib("VmRSS");
	if (pair_new(b, n) < 0)
		goto out;
	s0 = snap(b);
	if (open_conns(b, n, true) < 0)
		goto out;
	s1 = snap(b);
	rss1 = proc_status_kib("VmRSS");
	hwm = proc_status_kib("VmHWM");
	snprintf(note, sizeof(note), "sizeof(struct sock) %zu", sizeof(struct sock));
	per_object("idle established, accepted (server)", s1.srv - s0.srv, n, note);
	per_object("idle established, connected (client)", s1.cli - s0.cli, n, NULL);
	snprintf(note, sizeof(note), "VmRSS %ld -> %ld KiB (peak %ld) with %" PRIu64 " open, less the wire's %ld",
		 rss0, rss1, hwm, n, WIRE_KIB);
	per_object("resident set per connection, both", (int64_t)(rss1 - rss0 - WIRE_KIB) * 1024, n, note);
	if (close_conns(b, n) < 0)
		goto out;
	s2 = snap(b);
	snprintf(note, sizeof(note), "sizeof(struct tcp_timewait_sock) %zu; %u in TIME-WAIT",
		 sizeof(struct tcp_timewait_sock), b->cli->tcp.tw_count);
	per_object("TIME-WAIT entry (client)", s2.cli - s0.cli, n, note);
	per_object("kept by the server after close", s2.srv - s0.srv, n, NULL);
	pair_free(b);
	memset(b, 0, sizeof(*b));

	/* Request socks: the SYN-ACKs are dropped on the wire. */
	if (pair_new(b, n) < 0)
		goto out;
	b->wire.dir[1].filter = is_synack;
	s0 = snap(b);
	if (open_conns(b, n, false) < 0)
		goto out;
	s1 = snap(b);
	snprintf(note, sizeof(note), "sizeof(struct request_sock) %zu; %u in the SYN queues",
		 sizeof(struct request_sock), b->srv->tcp.hinfo.ehash_count);
	per_object("request sock (server)", s1.srv - s0.srv, n, note);
	per_object("SYN-SENT socket (client)", s1.cli - s0.cli, n, "with its SYN kept for retransmission");
	printf("memory: skbs are %zu-byte headers over %u-byte pooled blocks; each stack's pools are bounded, "
	       "so not charged per connection\n",
	       sizeof(struct sk_buff), (unsigned)SKB_POOL_DATA);
	printf("memory: sockets, TIME-WAIT entries and request socks are slab objects of exactly their size; the figures "
	       "include the connection table, which doubles past two entries per bucket (8 bytes a bucket: "
	       "%u buckets on the server now, %.1f bytes per entry)\n",
	       b->srv->tcp.hinfo.ehash_mask + 1, 8.0 * (b->srv->tcp.hinfo.ehash_mask + 1) / (double)n);
	rc = 0;
out:
	fflush(stdout);
	if (rc < 0)
		fprintf(stderr, "memory: failed\n");
	pair_free(b);
	free(b);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t n = DEFAULT_CONNS;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--conns") == 0 && i + 1 < argc && bu_parse_u64(argv[i + 1], &n) == 0) {
			i++;
		} else {
			fprintf(stderr, "usage: memory [--conns N]\n");
			return 2;
		}
	}
	if (n == 0 || n > 400000) {
		fprintf(stderr, "memory: --conns 1..400000\n");
		return 2;
	}
	printf("memory: %" PRIu64 " of each, two stacks in one process, in memory; heap = malloc_usable_size + "
	       "%d per block, plus the bytes the slab caches have handed out,\n"
	       "memory: charged to the stack being called; x 1M = the same for a million\n",
	       n, MALLOC_CHUNK_OVERHEAD);
	if (!MEM_ACCOUNTING)
		printf("memory: SKIP heap figures: built with a sanitizer, which owns malloc\n");
	return run(n);
}
