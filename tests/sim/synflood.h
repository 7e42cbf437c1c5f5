/*
 * A spoofed-SYN flood on the sim wire, shared by tests/sim/test_synflood.c
 * (which asserts on the outcome) and bench/syn_flood.c (which prints it).
 *
 * Two stacks: client 10.0.0.1 and server 10.0.0.2. The client's end of the
 * wire is wrapped in a flood link: its ops forward to the real end, and the
 * scenario also pushes raw spoofed SYNs onto the wire through it. The
 * spoofed sources are drawn from a PRNG with a fixed seed, either
 *  - off-subnet (198.18.0.0/15, the range RFC 2544 sets aside for
 *    benchmarks): the server routes its SYN-ACKs to them through its
 *    gateway, the client's MAC, and the flood link absorbs them there, as a
 *    router would forward them away; or
 *  - in-subnet (both stacks on a /16): the server must ARP for every source
 *    and nobody answers, which tests the neighbour table's bound.
 * Meanwhile the client opens `legit` real connections, each of which moves
 * `legit_bytes` both ways (every byte checked) and closes.
 *
 * Everything runs on virtual time in ticks of SF_TICK_NS, so a seed gives
 * the same run. The run samples what the server holds at every tick (SYN
 * queue, ehash, skbs, neighbours, timers) so a caller can check that none of
 * it grows with the number of spoofed SYNs.
 *
 * Header-only (static functions) because the test build makes one
 * executable per test file.
 */
#ifndef SYNACK_TESTS_SIM_SYNFLOOD_H
#define SYNACK_TESTS_SIM_SYNFLOOD_H

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "core/stack.h"
#include "net/checksum.h"
#include "net/proto.h"
#include "synack/synack.h"

#define SF_NS_PER_MS UINT64_C(1000000)
#define SF_TICK_NS (100 * UINT64_C(1000))   /* 100 us: the flood is spread over each ms */
#define SF_PORT 80
#define SF_MAX_LEGIT 1024
#define SF_SYN_LEN (14 + 20 + 40)           /* Ethernet, IPv4, TCP with Linux's 20 option bytes */
#define SF_FNV_OFFSET UINT64_C(14695981039346656037)
#define SF_FNV_PRIME UINT64_C(1099511628211)
#define SF_NEVER UINT64_MAX

/* ------------------------------------------------------------ sources */

/* splitmix64: a local PRNG, so the flood does not draw from (and perturb)
 * either stack's generator. */
static inline uint64_t sf_rand(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A spoofed source (network order): 198.18.0.0/15, or 10.0.x.y on the
 * /16 avoiding the two stacks, the network and the broadcast address. */
static inline uint32_t sf_spoofed_addr(uint64_t *rng, bool in_subnet)
{
	uint32_t r = (uint32_t)sf_rand(rng);

	if (!in_subnet)
		return htonl(0xc6120000u | (r & 0x1ffffu));
	uint32_t host = 3 + r % (0xffffu - 3);      /* 10.0.0.3 .. 10.0.255.254 */
	return htonl(0x0a000000u | host);
}

/* ------------------------------------------------------------ frames */

static inline void sf_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void sf_put32(uint8_t *p, uint32_t v)
{
	sf_put16(p, (uint16_t)(v >> 16));
	sf_put16(p + 2, (uint16_t)v);
}

struct sf_syn {
	const uint8_t *dmac, *smac;
	uint32_t saddr, daddr;              /* network order */
	uint16_t sport, dport;
	uint32_t isn, tsval;
};

/*
 * A SYN as Linux sends one (window 64240; MSS 1460, SACK-permitted,
 * timestamps, NOP, window scale 7), so a cookie has to carry the options in
 * its TSval as it would for a real client. Writes SF_SYN_LEN bytes.
 */
static inline size_t sf_build_syn(uint8_t *f, const struct sf_syn *s)
{
	static const uint8_t opts_head[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10 };
	uint8_t *ip = f + 14, *th = ip + 20, *o = th + 20;

	memset(f, 0, SF_SYN_LEN);
	memcpy(f, s->dmac, 6);
	memcpy(f + 6, s->smac, 6);
	sf_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	sf_put16(ip + 2, 20 + 40);
	sf_put16(ip + 6, 0x4000);           /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &s->saddr, 4);
	memcpy(ip + 16, &s->daddr, 4);
	sf_put16(ip + 10, ip_compute_csum(ip, 20));
	sf_put16(th, s->sport);
	sf_put16(th + 2, s->dport);
	sf_put32(th + 4, s->isn);
	th[12] = 10 << 4;
	th[13] = TCPHDR_SYN;
	sf_put16(th + 14, 64240);
	memcpy(o, opts_head, sizeof(opts_head));
	sf_put32(o + 8, s->tsval);          /* TSecr (o + 12) stays 0 */
	o[16] = 1;
	o[17] = 3;
	o[18] = 3;
	o[19] = 7;
	sf_put16(th + 16, csum_fold(csum_partial(th, 40, csum_tcpudp_nofold(s->saddr, s->daddr, 40, 6, 0))));
	return SF_SYN_LEN;
}

/* ------------------------------------------------------- flood link */

/*
 * Wraps the client's end of the wire. Frames the client sends and receives
 * pass through; IPv4 frames for any address but own_addr (the SYN-ACKs
 * the server sends to spoofed sources through its gateway) are absorbed and
 * counted instead of being handed to the client stack.
 */
struct sf_link {
	struct synack_link link;            /* first: the handle the stack uses */
	struct synack_link *inner;
	uint32_t own_addr;                  /* network order */
	uint64_t absorbed;
	uint64_t rx_hash;                   /* FNV-1a of every frame from the server, in order */
};

static inline struct sf_link *sf_link_of(struct synack_link *l) { return (struct sf_link *)l; }

static inline int sf_link_send(struct synack_link *l, const void *frame, size_t len)
{
	struct synack_link *in = sf_link_of(l)->inner;

	return in->ops->send(in, frame, len);
}

/* IPv4 to someone other than own_addr: the gateway's business, not ours. */
static inline bool sf_link_not_ours(const struct sf_link *fl, const uint8_t *f, int len)
{
	uint32_t daddr;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return false;
	memcpy(&daddr, f + 14 + 16, 4);
	return daddr != fl->own_addr;
}

static inline int sf_link_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct sf_link *fl = sf_link_of(l);

	for (;;) {
		int r = fl->inner->ops->recv(fl->inner, buf, cap);
		if (r <= 0)
			return r;
		for (int i = 0; i < r; i++)
			fl->rx_hash = (fl->rx_hash ^ ((const uint8_t *)buf)[i]) * SF_FNV_PRIME;
		if (!sf_link_not_ours(fl, buf, r))
			return r;
		fl->absorbed++;
	}
}

static inline int sf_link_wait_fd(struct synack_link *l)
{
	(void)l;
	return -1;
}

static inline uint64_t sf_link_next_deadline(struct synack_link *l)
{
	struct synack_link *in = sf_link_of(l)->inner;

	return in->ops->next_deadline(in);
}

/* The wrapper is part of struct sf_run and the wire owns the inner end. */
static inline void sf_link_destroy(struct synack_link *l) { (void)l; }

static const struct synack_link_ops sf_link_ops = {
	.kind = "flood",
	.send = sf_link_send,
	.recv = sf_link_recv,
	.wait_fd = sf_link_wait_fd,
	.next_deadline = sf_link_next_deadline,
	.destroy = sf_link_destroy,
};

/* Put a raw frame on the wire as if the client's end had sent it. */
static inline int sf_link_inject(struct sf_link *fl, const uint8_t *frame, size_t len)
{
	return fl->inner->ops->send(fl->inner, frame, len);
}

/* --------------------------------------------------------- scenario */

struct sf_config {
	uint64_t seed;
	long syncookies;                    /* the server's net.ipv4.tcp_syncookies */
	int backlog;                        /* the server's listen() backlog */
	bool in_subnet;                     /* spoofed sources on the /16 (ARP) */
	uint64_t flood_rate;                /* spoofed SYNs per second of virtual time */
	uint64_t flood_start_ms, flood_ms;
	uint32_t legit;                     /* real connections, <= SF_MAX_LEGIT */
	uint64_t legit_start_ms, legit_every_ms;
	uint64_t legit_bytes;               /* each way */
	uint64_t delay_ns;                  /* one-way wire delay */
	uint64_t budget_ms;                 /* the run stops here at the latest */
};

/* One real connection and what became of it. */
struct sf_conn {
	int cfd, sfd;
	uint16_t cport;
	uint64_t start_ns, est_ns;          /* est_ns: SF_NEVER until the client is connected */
	uint64_t c_sent, c_rcvd, s_sent, s_rcvd;
	uint64_t h_c_sent, h_c_rcvd, h_s_sent, h_s_rcvd;
	uint64_t bad;                       /* bytes that differ from the pattern */
	bool c_shut, s_shut, c_eof, s_eof, c_closed, s_closed, failed;
};

/* What the server held, at its largest over every tick. */
struct sf_peak {
	uint32_t synq;                      /* the listener's request socks */
	uint32_t ehash;                     /* established + request socks */
	size_t skbs;                        /* live skbs */
	uint32_t neigh;                     /* neighbour entries */
	size_t timers;                      /* pending timers */
};

struct sf_run {
	struct sf_config cfg;
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct sf_link fl;
	struct stack *st[2];                /* client, server */
	int lfd;
	uint64_t rng;
	uint64_t start_ns, flood_acc;
	uint64_t spoofed;                   /* spoofed SYNs put on the wire */
	uint64_t spoof_drops;               /* refused by the wire (queue full) */
	uint32_t started;
	struct sf_conn conn[SF_MAX_LEGIT];
	struct sf_peak peak;
};

static inline int sf_stack_new(struct sf_run *r, int i, struct synack_link *l)
{
	static const char *const name[2] = { "client", "server" };
	struct synack_stack_config sc = { .clock = r->clk, .name = name[i], .seeded = true,
					  .seed = r->cfg.seed * 2 + (uint64_t)i };
	struct synack_if_config ic = { .prefix_len = r->cfg.in_subnet ? 16 : 24 };

	ic.addr.s_addr = htonl(0x0a000001u + (uint32_t)i);
	if (i == 1 && !r->cfg.in_subnet)
		ic.gateway.s_addr = htonl(0x0a000001u);     /* the client's MAC routes the backscatter */
	if (synack_stack_new(&sc, &r->st[i]) < 0)
		return -1;
	if (i == 1 && synack_sysctl_set(r->st[1], "net.ipv4.tcp_syncookies", r->cfg.syncookies) < 0)
		return -1;
	return synack_if_up(r->st[i], l, &ic);
}

static inline int sf_listen(struct sf_run *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SF_PORT) };

	a.sin_addr.s_addr = htonl(0x0a000002u);
	r->lfd = synack_socket(r->st[1]);
	if (r->lfd < 0 || synack_bind(r->st[1], r->lfd, &a) < 0)
		return -1;
	return synack_listen(r->st[1], r->lfd, r->cfg.backlog);
}

/* Build the pair and the listener, and let the stacks learn each other's
 * MAC (a ping) before anything else happens. 0, or -1 (call sf_free). */
static inline int sf_setup(struct sf_run *r, const struct sf_config *cfg)
{
	struct synack_sim_config wc = { .delay_ns = cfg->delay_ns, .seed = cfg->seed };
	struct in_addr dst = { .s_addr = htonl(0x0a000002u) };

	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	r->lfd = -1;
	r->rng = cfg->seed ^ UINT64_C(0x5eed5eed5eed5eed);
	r->clk = synack_clock_new_virtual(0);
	if (!r->clk || synack_sim_wire_new(r->clk, &wc, &r->wire) < 0)
		return -1;
	r->fl.inner = synack_sim_wire_end(r->wire, 0);
	r->fl.link = *r->fl.inner;
	r->fl.link.ops = &sf_link_ops;
	r->fl.own_addr = htonl(0x0a000001u);
	r->fl.rx_hash = SF_FNV_OFFSET;
	if (sf_stack_new(r, 0, &r->fl.link) < 0 || sf_stack_new(r, 1, synack_sim_wire_end(r->wire, 1)) < 0 ||
	    sf_listen(r) < 0)
		return -1;
	synack_ping_send(r->st[0], dst, 1, 1, "x", 1);
	synack_run_virtual(r->clk, r->st, 2, 100 * SF_NS_PER_MS);
	r->start_ns = synack_clock_now(r->clk);
	return 0;
}

/* Free everything; the clock last, as the stacks read it until then. */
static inline void sf_free(struct sf_run *r)
{
	synack_stack_free(r->st[0]);
	synack_stack_free(r->st[1]);
	synack_sim_wire_free(r->wire);
	synack_clock_free(r->clk);
	memset(r, 0, sizeof(*r));
}

static inline uint64_t sf_elapsed_ms(const struct sf_run *r)
{
	return (synack_clock_now(r->clk) - r->start_ns) / SF_NS_PER_MS;
}

static inline bool sf_flooding(const struct sf_run *r)
{
	uint64_t ms = sf_elapsed_ms(r);

	return ms >= r->cfg.flood_start_ms && ms < r->cfg.flood_start_ms + r->cfg.flood_ms;
}

static inline void sf_send_spoofed(struct sf_run *r)
{
	uint8_t f[SF_SYN_LEN];
	uint8_t smac[6] = { 0x02, 0x5f, 0, 0, 0, 0 };
	uint64_t x = sf_rand(&r->rng);
	struct sf_syn s = {
		.dmac = synack_sim_wire_end(r->wire, 1)->mac, .smac = r->fl.inner->mac,
		.saddr = sf_spoofed_addr(&r->rng, r->cfg.in_subnet), .daddr = htonl(0x0a000002u),
		.sport = (uint16_t)(1024 + x % 64512), .dport = SF_PORT,
		.isn = (uint32_t)(x >> 32), .tsval = (uint32_t)sf_rand(&r->rng),
	};

	/* On the /16 the spoofed hosts are neighbours with MACs of their own. */
	if (r->cfg.in_subnet) {
		memcpy(smac + 2, &s.saddr, 4);
		s.smac = smac;
	}
	sf_build_syn(f, &s);
	if (sf_link_inject(&r->fl, f, sizeof(f)) < 0)
		r->spoof_drops++;
	else
		r->spoofed++;
}

/* This tick's share of flood_rate, carrying the fraction over. */
static inline void sf_flood_tick(struct sf_run *r)
{
	if (!sf_flooding(r))
		return;
	r->flood_acc += r->cfg.flood_rate * SF_TICK_NS;
	for (; r->flood_acc >= UINT64_C(1000000000); r->flood_acc -= UINT64_C(1000000000))
		sf_send_spoofed(r);
}

/* ------------------------------------------------------ connections */

/* Byte i of connection id's stream in direction dir: no short period, and
 * different for every connection and direction, so a misdelivered segment
 * shows. */
static inline uint8_t sf_byte(uint32_t id, int dir, uint64_t i)
{
	uint64_t x = (i >> 3) * UINT64_C(0x9e3779b97f4a7c15) + id * UINT64_C(0x100000001b3) + (uint64_t)dir;

	return (uint8_t)((x >> 56) ^ i);
}

static inline void sf_start_conn(struct sf_run *r)
{
	struct sf_conn *c = &r->conn[r->started];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SF_PORT) }, me;

	a.sin_addr.s_addr = htonl(0x0a000002u);
	memset(c, 0, sizeof(*c));
	c->sfd = -1;
	c->est_ns = SF_NEVER;
	c->h_c_sent = c->h_c_rcvd = c->h_s_sent = c->h_s_rcvd = SF_FNV_OFFSET;
	c->start_ns = synack_clock_now(r->clk);
	c->cfd = synack_socket(r->st[0]);
	if (c->cfd < 0 || synack_connect(r->st[0], c->cfd, &a) != -EINPROGRESS ||
	    synack_getsockname(r->st[0], c->cfd, &me) < 0)
		c->failed = true;
	else
		c->cport = ntohs(me.sin_port);
	r->started++;
}

static inline void sf_start_conns(struct sf_run *r)
{
	while (r->started < r->cfg.legit &&
	       sf_elapsed_ms(r) >= r->cfg.legit_start_ms + r->started * r->cfg.legit_every_ms)
		sf_start_conn(r);
}

/* Accept everything ready and pair each child with its client by port. */
static inline void sf_accept(struct sf_run *r)
{
	struct sockaddr_in peer;
	int fd;

	while ((fd = synack_accept(r->st[1], r->lfd, &peer)) >= 0) {
		bool found = false;
		for (uint32_t i = 0; i < r->started && !found; i++)
			if (r->conn[i].sfd < 0 && r->conn[i].cport == ntohs(peer.sin_port)) {
				r->conn[i].sfd = fd;
				found = true;
			}
		if (!found)
			synack_close(r->st[1], fd);     /* not ours: cannot happen with a working stack */
	}
}

/* Send what the stream has left, as far as the socket takes it. */
static inline void sf_push(struct stack *st, int fd, uint32_t id, int dir, uint64_t total, uint64_t *sent,
			   uint64_t *hash)
{
	uint8_t buf[4096];

	while (*sent < total) {
		size_t n = total - *sent < sizeof(buf) ? (size_t)(total - *sent) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = sf_byte(id, dir, *sent + i);
		long k = synack_send(st, fd, buf, n, 0);
		if (k <= 0)
			return;
		for (long i = 0; i < k; i++)
			*hash = (*hash ^ buf[i]) * SF_FNV_PRIME;
		*sent += (uint64_t)k;
	}
}

/* Read what has arrived; *eof at the end of the stream, *err on an error. */
static inline void sf_pull(struct stack *st, int fd, uint32_t id, int dir, uint64_t *rcvd, uint64_t *hash,
			   uint64_t *bad, bool *eof, bool *err)
{
	uint8_t buf[4096];
	long k;

	while ((k = synack_recv(st, fd, buf, sizeof(buf), 0)) > 0) {
		for (long i = 0; i < k; i++) {
			*bad += buf[i] != sf_byte(id, dir, *rcvd + (uint64_t)i);
			*hash = (*hash ^ buf[i]) * SF_FNV_PRIME;
		}
		*rcvd += (uint64_t)k;
	}
	if (k == 0)
		*eof = true;
	else if (k != -EAGAIN)
		*err = true;
}

static inline void sf_client_step(struct sf_run *r, uint32_t id, struct sf_conn *c)
{
	uint64_t total = r->cfg.legit_bytes;

	if (c->c_closed)
		return;
	if (c->est_ns == SF_NEVER) {
		int mask = synack_poll(r->st[0], c->cfd);
		if (mask < 0 || (mask & (POLLERR | POLLHUP)))
			c->failed = true;
		if (mask < 0 || !(mask & POLLOUT))
			return;
		c->est_ns = synack_clock_now(r->clk);
	}
	sf_push(r->st[0], c->cfd, id, 0, total, &c->c_sent, &c->h_c_sent);
	if (c->c_sent == total && !c->c_shut && synack_shutdown(r->st[0], c->cfd, SHUT_WR) == 0)
		c->c_shut = true;
	sf_pull(r->st[0], c->cfd, id, 1, &c->c_rcvd, &c->h_c_rcvd, &c->bad, &c->c_eof, &c->failed);
	if (c->c_shut && (c->c_eof || c->failed)) {
		synack_close(r->st[0], c->cfd);
		c->c_closed = true;
	}
}

static inline void sf_server_step(struct sf_run *r, uint32_t id, struct sf_conn *c)
{
	uint64_t total = r->cfg.legit_bytes;

	if (c->sfd < 0 || c->s_closed)
		return;
	sf_push(r->st[1], c->sfd, id, 1, total, &c->s_sent, &c->h_s_sent);
	if (c->s_sent == total && !c->s_shut && synack_shutdown(r->st[1], c->sfd, SHUT_WR) == 0)
		c->s_shut = true;
	sf_pull(r->st[1], c->sfd, id, 0, &c->s_rcvd, &c->h_s_rcvd, &c->bad, &c->s_eof, &c->failed);
	if (c->s_shut && (c->s_eof || c->failed)) {
		synack_close(r->st[1], c->sfd);
		c->s_closed = true;
	}
}

/* Both directions complete, every byte as sent, both sides closed. */
static inline bool sf_conn_ok(const struct sf_run *r, const struct sf_conn *c)
{
	uint64_t n = r->cfg.legit_bytes;

	return !c->failed && c->c_closed && c->s_closed && c->bad == 0 && c->c_rcvd == n && c->s_rcvd == n &&
	       c->h_c_sent == c->h_s_rcvd && c->h_s_sent == c->h_c_rcvd;
}

static inline bool sf_conn_over(const struct sf_conn *c)
{
	return c->failed || (c->c_closed && c->s_closed);
}

/* ---------------------------------------------------------- running */

static inline struct sock *sf_listener(const struct sf_run *r)
{
	return r->lfd >= 0 ? r->st[1]->tcp.fds[r->lfd] : NULL;
}

static inline void sf_sample(struct sf_run *r)
{
	const struct stack *s = r->st[1];
	const struct sock *l = sf_listener(r);
	struct sf_peak *p = &r->peak;

	if (l && l->rskq && l->rskq->qlen > p->synq)
		p->synq = l->rskq->qlen;
	if (s->tcp.hinfo.ehash_count > p->ehash)
		p->ehash = s->tcp.hinfo.ehash_count;
	if (s->skb_pool.live_skbs > p->skbs)
		p->skbs = s->skb_pool.live_skbs;
	if (s->arp.entries > p->neigh)
		p->neigh = s->arp.entries;
	if (s->timers.pending > p->timers)
		p->timers = s->timers.pending;
}

static inline bool sf_all_over(const struct sf_run *r)
{
	if (r->started < r->cfg.legit)
		return false;
	for (uint32_t i = 0; i < r->started; i++)
		if (!sf_conn_over(&r->conn[i]))
			return false;
	return true;
}

/* One tick: flood, new connections, the stacks, the sockets, a sample. */
static inline void sf_tick(struct sf_run *r)
{
	sf_flood_tick(r);
	sf_start_conns(r);
	synack_run_virtual(r->clk, r->st, 2, synack_clock_now(r->clk) + SF_TICK_NS);
	sf_accept(r);
	for (uint32_t i = 0; i < r->started; i++) {
		sf_client_step(r, i, &r->conn[i]);
		sf_server_step(r, i, &r->conn[i]);
	}
	sf_sample(r);
}

/* Past the flood's last SYN: long enough for it and its SYN-ACK to land. */
#define SF_DRAIN_MS 10

/* Run until the flood is over (and has landed) and every connection
 * finished, or until until_ms (from the start) at the latest. */
static inline void sf_run_until(struct sf_run *r, uint64_t until_ms)
{
	while (sf_elapsed_ms(r) < until_ms) {
		bool flood_over = sf_elapsed_ms(r) >= r->cfg.flood_start_ms + r->cfg.flood_ms + SF_DRAIN_MS;
		if (flood_over && sf_all_over(r))
			break;
		sf_tick(r);
	}
}

/* ---------------------------------------------------------- results */

struct sf_result {
	uint64_t spoofed, spoof_drops, absorbed;
	uint64_t rx_hash;                   /* of everything the server sent the client's end */
	uint32_t ok;                        /* connections complete and intact */
	uint32_t fast;                      /* of those started, connected within fast_ms */
	uint64_t hs_ns[SF_MAX_LEGIT];       /* handshake times of connected ones, sorted */
	uint32_t connected;
	uint64_t bad;
	struct sf_peak peak;
	uint64_t cookies_sent, cookies_recv, cookies_failed, reqq_cookies, reqq_drop, listen_drops;
	uint64_t client_syn_retrans, client_retrans, server_synack_retrans, server_data_retrans;
};

static inline int sf_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100) of the sorted handshake times, nearest rank. */
static inline uint64_t sf_percentile(const struct sf_result *res, unsigned p)
{
	if (!res->connected)
		return SF_NEVER;
	size_t rank = ((size_t)res->connected * p + 99) / 100;
	return res->hs_ns[rank ? rank - 1 : 0];
}

static inline void sf_collect(const struct sf_run *r, uint64_t fast_ms, struct sf_result *res)
{
	const struct stack *c = r->st[0], *s = r->st[1];

	memset(res, 0, sizeof(*res));
	res->spoofed = r->spoofed;
	res->spoof_drops = r->spoof_drops;
	res->absorbed = r->fl.absorbed;
	res->rx_hash = r->fl.rx_hash;
	res->peak = r->peak;
	for (uint32_t i = 0; i < r->started; i++) {
		const struct sf_conn *k = &r->conn[i];
		res->ok += sf_conn_ok(r, k);
		res->bad += k->bad;
		if (k->est_ns == SF_NEVER)
			continue;
		res->hs_ns[res->connected++] = k->est_ns - k->start_ns;
		res->fast += k->est_ns - k->start_ns <= fast_ms * SF_NS_PER_MS;
	}
	qsort(res->hs_ns, res->connected, sizeof(res->hs_ns[0]), sf_cmp_u64);
	res->cookies_sent = synack_mib_value(s, "TcpExtSyncookiesSent");
	res->cookies_recv = synack_mib_value(s, "TcpExtSyncookiesRecv");
	res->cookies_failed = synack_mib_value(s, "TcpExtSyncookiesFailed");
	res->reqq_cookies = synack_mib_value(s, "TcpExtTCPReqQFullDoCookies");
	res->reqq_drop = synack_mib_value(s, "TcpExtTCPReqQFullDrop");
	res->listen_drops = synack_mib_value(s, "TcpExtListenDrops");
	res->client_syn_retrans = synack_mib_value(c, "TcpExtTCPSynRetrans");
	res->client_retrans = synack_mib_value(c, "TcpRetransSegs");
	res->server_synack_retrans = synack_mib_value(s, "TcpExtTCPSynRetrans");
	res->server_data_retrans = synack_mib_value(s, "TcpRetransSegs") - res->server_synack_retrans;
}

#endif
