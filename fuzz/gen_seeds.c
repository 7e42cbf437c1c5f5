/*
 * The seed generator: writes fuzz/corpus/<target>/seed-* (`make fuzz-seeds`).
 *
 *   fuzz_frame     frames that are valid for each object of the frame world
 *                  (world.h's w_setup_frame_world): the established flow A,
 *                  the request sock B, the SYN_SENT connection C, the
 *                  TIME-WAIT minisock, the listener; plus ARP, ICMP, UDP,
 *                  fragments and a few malformed frames. Sequence numbers
 *                  and timestamps come from running the same setup, so they
 *                  are exact as long as the stack's choices do not change;
 *                  rerun this after such a change.
 *   fuzz_sequence  scripts (sequence.h) that reach every TCP state and timer:
 *                  passive and active opens, bulk data with SACK recovery
 *                  and RTO, every close path, keepalive, zero-window probes,
 *                  SYN cookies, Fast Open, ICMP errors, fragments, options.
 *   fuzz_codec     option blocks, frames to format, checksum buffers,
 *                  headers for the receive path, CIDR strings.
 *
 * Old seed-* files are removed first; other files (fuzzer finds someone
 * chose to keep) are left alone.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sequence.h"
#include "world.h"

static const char *root;
static int written;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void clean_dir(const char *target)
{
	char path[1024];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	mkdir(path, 0755);
	d = opendir(path);
	if (!d) {
		perror(path);
		exit(1);
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "seed-", 5) == 0) {
			char f[2048];
			snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
			unlink(f);
		}
	}
	closedir(d);
}

static void save(const char *target, const char *name, const uint8_t *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/seed-%s", root, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	written++;
}

/* ============================================================ fuzz_frame */

struct fctx {
	struct world *w;
	struct w_setup su;
	uint8_t f[W_MAXFRAME + 64];
};

/* A segment on flow fl with TS (val now, ecr the stack's last). */
static struct w_seg fseg(struct fctx *c, struct w_flow *fl, uint8_t flags, uint32_t seq, uint32_t ack, uint8_t *o)
{
	struct w_seg s = { 0 };

	s.saddr = fl->raddr;
	s.sport = fl->rport;
	s.dport = fl->lport;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = 229;
	s.opt = o;
	s.optlen = w_opts_ts(o, w_flow_peer_tsval(c->w, fl), fl->stack_tsval);
	return s;
}

/* A fuzz_frame input: the control byte (1: fix the IPv4 checksum, 2: fix
 * the transport checksum, 4: GRO and the frame twice), then the frame. */
static void frame_save(const char *name, uint8_t ctl, const uint8_t *f, size_t n)
{
	uint8_t buf[W_MAXFRAME + 1];

	buf[0] = ctl;
	memcpy(buf + 1, f, n);
	save("fuzz_frame", name, buf, n + 1);
}

static void fsave(struct fctx *c, const char *name, const struct w_seg *s)
{
	size_t n = w_build_tcp(c->w, c->f, sizeof(c->f), s);

	frame_save(name, s->bad_csum ? 0 : 3, c->f, n);
}

/* Append a SACK block list to a TS option block of 12 bytes. */
static size_t add_sack(uint8_t *o, size_t n, int nb, const uint32_t (*b)[2])
{
	o[n++] = 1;
	o[n++] = 1;
	o[n++] = 5;
	o[n++] = (uint8_t)(2 + 8 * nb);
	for (int i = 0; i < nb; i++) {
		put32(o + n, b[i][0]);
		put32(o + n + 4, b[i][1]);
		n += 8;
	}
	return n;
}

static void gen_frame(void)
{
	struct fctx c;
	struct w_flow *a, *b, *cc, *tw;
	uint8_t o[40], data[1500];
	struct w_seg s;
	uint32_t una, rn;
	size_t n;

	memset(&c, 0, sizeof(c));
	c.w = world_new(NULL);
	if (!w_setup_frame_world(c.w, &c.su)) {
		fprintf(stderr, "gen_seeds: the frame world's setup failed\n");
		exit(1);
	}
	memcpy(data, c.w->txbuf, sizeof(data));
	clean_dir("fuzz_frame");
	a = c.su.a;
	b = c.su.b;
	cc = c.su.c;
	tw = c.su.tw;
	una = a->stack_isn + 1;
	rn = w_flow_rcv_nxt(a);

	/* A: established, three segments of 1448 unacked, 200 bytes held out of order at rn + 1000. */
	s = fseg(&c, a, W_ACK, rn, a->stack_nxt, o);
	fsave(&c, "a-ack-all", &s);
	s = fseg(&c, a, W_ACK, rn, una + 1448, o);
	fsave(&c, "a-ack-partial", &s);
	s = fseg(&c, a, W_ACK, rn, una, o);
	{
		const uint32_t bl[2][2] = { { una + 1448, una + 2896 }, { una + 2896, una + 4344 } };
		s.optlen = add_sack(o, 12, 2, bl);
	}
	fsave(&c, "a-dupack-sack", &s);
	s = fseg(&c, a, W_ACK, rn, una + 1448, o);
	{
		const uint32_t bl[1][2] = { { una, una + 1448 } };
		s.optlen = add_sack(o, 12, 1, bl);
	}
	fsave(&c, "a-dsack", &s);
	s = fseg(&c, a, W_ACK | W_PSH, rn, una, o);
	s.data = data;
	s.len = 500;
	fsave(&c, "a-data", &s);
	s.len = 1000;
	fsave(&c, "a-data-fill-hole", &s);
	s.seq = rn + 3000;
	s.len = 700;
	fsave(&c, "a-data-ooo", &s);
	s = fseg(&c, a, W_ACK | W_FIN, rn, a->stack_nxt, o);
	fsave(&c, "a-fin", &s);
	s = fseg(&c, a, W_ACK | W_FIN | W_PSH, rn, a->stack_nxt, o);
	s.data = data;
	s.len = 300;
	fsave(&c, "a-data-fin", &s);
	s = fseg(&c, a, W_RST, rn, 0, o);
	s.optlen = 0;
	fsave(&c, "a-rst", &s);
	s.seq = rn + 100;
	fsave(&c, "a-rst-in-window", &s);
	s = fseg(&c, a, W_SYN, rn, 0, o);
	fsave(&c, "a-syn", &s);
	s = fseg(&c, a, W_ACK, rn, a->stack_nxt, o);
	put32(o + 4, w_flow_peer_tsval(c.w, a) - 0x10000000u);
	fsave(&c, "a-paws-old-ts", &s);
	s = fseg(&c, a, W_ACK, rn, una + 1448, o);
	s.win = 0;
	fsave(&c, "a-zero-window", &s);
	s = fseg(&c, a, W_ACK | W_URG | W_PSH, rn, una, o);
	s.urg = 10;
	s.data = data;
	s.len = 20;
	fsave(&c, "a-urg", &s);
	s = fseg(&c, a, W_ACK, rn, a->stack_nxt + 5000, o);
	fsave(&c, "a-ack-future", &s);
	s = fseg(&c, a, W_ACK | W_ECE | W_CWR, rn, a->stack_nxt, o);
	fsave(&c, "a-ece-cwr", &s);
	s = fseg(&c, a, W_ACK, rn, a->stack_nxt, o);
	s.optlen = 0;
	fsave(&c, "a-ack-no-ts", &s);

	/* B: a request sock. */
	s = fseg(&c, b, W_ACK, b->peer_nxt, b->stack_isn + 1, o);
	fsave(&c, "b-third-ack", &s);
	s.flags |= W_PSH;
	s.data = data;
	s.len = 100;
	fsave(&c, "b-third-ack-data", &s);
	s = fseg(&c, b, W_ACK, b->peer_nxt, b->stack_isn + 7, o);
	fsave(&c, "b-bad-ack", &s);
	s = fseg(&c, b, W_RST, b->peer_nxt, 0, o);
	s.optlen = 0;
	fsave(&c, "b-rst", &s);
	s = fseg(&c, b, W_SYN, b->peer_isn, 0, o);
	s.optlen = w_opts_syn(o, w_flow_peer_tsval(c.w, b), 0);
	s.win = 64240;
	fsave(&c, "b-syn-again", &s);

	/* C: our SYN is out. */
	s = fseg(&c, cc, W_SYN | W_ACK, cc->peer_isn, cc->stack_isn + 1, o);
	s.optlen = w_opts_syn(o, w_flow_peer_tsval(c.w, cc), cc->stack_tsval);
	s.win = 65160;
	fsave(&c, "c-synack", &s);
	s.ack += 10;
	fsave(&c, "c-synack-bad-ack", &s);
	s.ack -= 10;
	s.optlen = 0;
	fsave(&c, "c-synack-no-options", &s);
	s = fseg(&c, cc, W_SYN, cc->peer_isn, 0, o);
	s.optlen = w_opts_syn(o, w_flow_peer_tsval(c.w, cc), 0);
	fsave(&c, "c-simultaneous-syn", &s);
	s = fseg(&c, cc, W_RST | W_ACK, 0, cc->stack_isn + 1, o);
	s.optlen = 0;
	fsave(&c, "c-rst", &s);

	/* TIME-WAIT. */
	s = fseg(&c, tw, W_ACK | W_FIN, tw->peer_nxt - 1, tw->stack_nxt, o);
	fsave(&c, "tw-fin-again", &s);
	s = fseg(&c, tw, W_SYN, tw->peer_nxt + 100000, 0, o);
	s.optlen = w_opts_syn(o, w_flow_peer_tsval(c.w, tw) + 1000, 0);
	s.win = 64240;
	fsave(&c, "tw-syn-reopen", &s);
	s = fseg(&c, tw, W_RST, tw->peer_nxt, 0, o);
	s.optlen = 0;
	fsave(&c, "tw-rst", &s);

	/* The listener. */
	{
		struct w_flow nf = *a;
		nf.rport = W_PEER_PORT + 3;
		nf.stack_tsval = 0;
		s = fseg(&c, &nf, W_SYN, 0x12345678, 0, o);
		s.optlen = w_opts_syn(o, 0x01000000, 0);
		s.win = 64240;
		fsave(&c, "l-syn", &s);
		s.optlen = 0;
		fsave(&c, "l-syn-no-options", &s);
		n = w_opts_syn(o, 0x01000000, 0);
		o[n++] = 34; /* Fast Open cookie request, then data */
		o[n++] = 2;
		s.optlen = n;
		s.data = data;
		s.len = 64;
		fsave(&c, "l-syn-tfo", &s);
		s = fseg(&c, &nf, W_ACK, 0x12345679, 0x55555555, o);
		fsave(&c, "l-ack-no-request", &s);
		nf.lport = 9;
		s = fseg(&c, &nf, W_SYN, 0x12345678, 0, o);
		s.optlen = 0;
		fsave(&c, "l-syn-closed-port", &s);
	}

	/* Other protocols. */
	{
		uint8_t peer_mac[6] = { 2, 0, 0xc0, 0, 2, 2 }, new_mac[6] = { 2, 0, 0xc0, 0, 2, 0x42 }, zero[6] = { 0 };
		n = w_build_arp(c.w, c.f, 1, peer_mac, W_PEER, zero, W_LOCAL, true);
		frame_save("arp-request", 3, c.f, n);
		n = w_build_arp(c.w, c.f, 2, new_mac, W_PEER, zero, W_PEER, true);
		frame_save("arp-gratuitous-new-mac", 3, c.f, n);
	}
	{
		uint8_t m[8 + 56] = { 8, 0, 0, 0, 0, 1, 0, 1 };
		uint32_t sum = 0;
		memcpy(m + 8, data, 56);
		for (size_t i = 0; i < sizeof(m); i += 2)
			sum += (uint32_t)(m[i] << 8 | m[i + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(m + 2, (uint16_t)~sum);
		n = w_build_ip(c.w, c.f, sizeof(c.f), 0, 0, 1, m, sizeof(m), NULL);
		frame_save("icmp-echo", 3, c.f, n);
		{
			struct w_seg t = { .bcast_mac = true };
			n = w_build_ip(c.w, c.f, sizeof(c.f), 0, 0xc00002ffu, 1, m, sizeof(m), &t);
			frame_save("icmp-echo-broadcast", 3, c.f, n);
		}
	}
	{
		/* One ICMP error per kind the stack acts on, each about a flow in
		 * a different state. */
		const struct {
			const char *name;
			const struct w_flow *fl;
			uint8_t type, code;
			uint32_t info; /* the next-hop MTU of a frag-needed */
		} errs[] = {
			{ "icmp-frag-needed-a", a, 3, 4, 1000 },     { "icmp-port-unreach-c", cc, 3, 3, 0 },
			{ "icmp-host-unreach-c", cc, 3, 1, 0 },      { "icmp-time-exceeded-a", a, 11, 0, 0 },
			{ "icmp-host-unreach-time-wait", tw, 3, 1, 0 }, { "icmp-host-unreach-request", b, 3, 1, 0 },
		};
		for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
			n = w_build_icmp_err(c.w, c.f, sizeof(c.f), errs[i].fl, errs[i].type, errs[i].code, errs[i].info);
			frame_save(errs[i].name, 3, c.f, n);
		}
	}
	{
		uint8_t u[8 + 16] = { 0xc3, 0x50, 0, 53, 0, 24, 0, 0 };
		n = w_build_ip(c.w, c.f, sizeof(c.f), 0, 0, 17, u, sizeof(u), NULL);
		frame_save("udp", 3, c.f, n);
		n = w_build_ip(c.w, c.f, sizeof(c.f), 0, 0, 47, u, sizeof(u), NULL);
		frame_save("ip-proto-47", 3, c.f, n);
	}
	/* The first fragment of a data segment on A. */
	s = fseg(&c, a, W_ACK | W_PSH, rn, una, o);
	s.data = data;
	s.len = 400;
	s.no_df = true;
	n = w_build_tcp(c.w, c.f, sizeof(c.f), &s);
	c.f[14 + 6] = 0x20; /* MF, offset 0 */
	c.f[14 + 10] = c.f[14 + 11] = 0;
	{
		uint32_t sum = 0;
		for (int i = 0; i < 20; i += 2)
			sum += (uint32_t)(c.f[14 + i] << 8 | c.f[15 + i]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(c.f + 14 + 10, (uint16_t)~sum);
	}
	frame_save("ip-first-fragment", 3, c.f, n);
	s = fseg(&c, a, W_ACK, rn, a->stack_nxt, o);
	s.ip_opt_words = 3;
	fsave(&c, "ip-options", &s);
	s.ip_opt_words = 0;
	s.bad_csum = true;
	fsave(&c, "tcp-bad-checksum", &s);
	n = w_build_tcp(c.w, c.f, sizeof(c.f), &(struct w_seg){ .sport = 1, .dport = 2, .flags = W_ACK });
	c.f[14 + 10] ^= 0xff;
	frame_save("ip-bad-checksum", 0, c.f, n);
	frame_save("short", 0, c.f, 10);
	c.f[12] = 0x86;
	c.f[13] = 0xdd;
	frame_save("ipv6-ethertype", 0, c.f, 60);
	/* Control bit 2: GRO on, this segment and the next in one burst. */
	s = fseg(&c, a, W_ACK, rn, una, o);
	s.data = data;
	s.len = 500;
	frame_save("a-data-gro", 7, c.f, w_build_tcp(c.w, c.f, sizeof(c.f), &s));
	world_free(c.w);
}

/* ========================================================= fuzz_sequence */

struct sq {
	uint8_t b[4096];
	size_t n;
};

static void b8(struct sq *q, unsigned v) { q->b[q->n++] = (uint8_t)v; }
static void b16(struct sq *q, unsigned v)
{
	b8(q, v >> 8);
	b8(q, v);
}
static void b32(struct sq *q, uint32_t v)
{
	b16(q, v >> 16);
	b16(q, v & 0xffff);
}

/* Standard peer SYN options: MSS 1460, WS 7, SACK-permitted, TS. */
#define SYN_OPTS (SEG_O_MSS | SEG_O_WS | SEG_O_SACKOK | SEG_O_TS)
static void syn_opt_args(struct sq *q)
{
	b16(q, 0); /* MSS: 1460 */
	b8(q, 7);  /* WS */
	b8(q, 0);  /* TS now, echo */
}

/* SYN from peer port 40000 + port to dport code (0: 8080), with the
 * standard options (SYN_OPTS) or none (0). */
static void q_syn(struct sq *q, unsigned port, unsigned dcode, unsigned extra, unsigned mask, unsigned payload)
{
	b8(q, OP_SYN);
	b8(q, port);
	b8(q, dcode);
	b8(q, extra);
	b8(q, mask);
	if (mask)
		syn_opt_args(q);
	b8(q, payload);
}

/* A segment with TS: seq what the stack expects, ack by mode. */
static void q_seg(struct sq *q, unsigned flow, unsigned flags, unsigned ackmode, unsigned win, unsigned payload)
{
	b8(q, OP_SEG);
	b8(q, flow);
	b8(q, flags);
	b8(q, SEQ_RCV_NXT);
	b8(q, ackmode);
	b16(q, win);
	b8(q, SEG_O_TS);
	b8(q, 0);
	b8(q, payload);
	b8(q, 0);
}

/* An ACK of the first ack_mss segments of 1448 bytes, with SACK blocks
 * {start, len} in segments from that ACK. */
static void q_sack(struct sq *q, unsigned flow, int ack_mss, int nblocks, const int (*blk)[2])
{
	b8(q, OP_SEG);
	b8(q, flow);
	b8(q, W_ACK);
	b8(q, SEQ_RCV_NXT);
	b8(q, ACK_STACK_ISN | MODE_DELTA);
	b16(q, (unsigned)(1 + 1448 * ack_mss));
	b16(q, 256);
	b8(q, SEG_O_TS | (nblocks ? SEG_O_SACK : 0));
	b8(q, 0);
	if (nblocks) {
		b8(q, (unsigned)(nblocks - 1) | (3 << 2));
		for (int i = 0; i < nblocks; i++) {
			b8(q, (unsigned)(uint8_t)(int8_t)blk[i][0]);
			b8(q, (unsigned)(blk[i][1] - 1));
		}
	}
	b8(q, 0);
	b8(q, 0);
}

static void q_adv(struct sq *q, unsigned code) { b8(q, OP_ADVANCE), b8(q, code); }
static void q_listen(struct sq *q) { b8(q, OP_SOCKET), b8(q, SOCK_LISTEN), b8(q, PORT_LISTEN), b8(q, 0); }
static void q_connect(struct sq *q) { b8(q, OP_SOCKET), b8(q, SOCK_CONNECT), b8(q, CADDR_PEER), b8(q, PORT_REMOTE); }
static void q_accept(struct sq *q, unsigned slot) { b8(q, OP_ACCEPT), b8(q, slot); }
static void q_send(struct sq *q, unsigned slot, unsigned len, unsigned flags)
{
	b8(q, OP_SEND), b8(q, slot), b16(q, len), b8(q, flags);
}
static void q_recv(struct sq *q, unsigned slot, unsigned len, unsigned flags)
{
	b8(q, OP_RECV), b8(q, slot), b16(q, len), b8(q, flags);
}
static void q_close(struct sq *q, unsigned slot) { b8(q, OP_CLOSE), b8(q, slot); }
static void q_shutdown(struct sq *q, unsigned slot, int how) { b8(q, OP_SHUTDOWN), b8(q, slot), b8(q, (unsigned)(how + 1)); }
/* setsockopt: opt index in SEQ_OPTS, value index in SEQ_VALUES (or raw). */
static void q_sockopt(struct sq *q, unsigned slot, unsigned opt, unsigned vcode)
{
	b8(q, OP_SETSOCKOPT), b8(q, slot), b8(q, opt), b8(q, vcode), b8(q, 0);
}
static void q_sockopt_raw(struct sq *q, unsigned slot, unsigned opt, uint32_t v)
{
	b8(q, OP_SETSOCKOPT), b8(q, slot), b8(q, opt), b8(q, 0xf0), b32(q, v), b8(q, 0);
}
static void q_getopt(struct sq *q, unsigned slot, unsigned opt) { b8(q, OP_GETSOCKOPT), b8(q, slot), b8(q, opt), b8(q, 0); }
static void q_sysctl_raw(struct sq *q, unsigned idx, uint32_t v) { b8(q, OP_SYSCTL), b8(q, idx), b8(q, 0xf0), b32(q, v); }

/* SEQ_OPTS indices (fuzz_sequence.c) */
enum { O_REUSEADDR, O_SNDBUF, O_RCVBUF, O_KEEPALIVE, O_LINGER, O_RCVLOWAT, O_ERROR, O_MAXSEG, O_NODELAY, O_CORK,
       O_KEEPIDLE, O_KEEPINTVL, O_KEEPCNT, O_LINGER2, O_SYNCNT, O_QUICKACK, O_DEFER_ACCEPT, O_FASTOPEN,
       O_USER_TIMEOUT, O_CONGESTION, O_INFO, O_FASTOPEN_CONNECT = 27, O_NOPTS = 32 };
/* SEQ_VALUES indices */
enum { V0, V1, VM1, V2, V3, V5, V7, V10, V30 };
/* SEQ_SYSCTLS indices */
enum { S_TIMESTAMPS, S_SACK, S_WSCALE, S_SYNCOOKIES, S_FASTOPEN, S_ECN, S_MAX_SYN_BACKLOG, S_SYNACK_RETRIES,
       S_SYN_RETRIES, S_ABORT_ON_OVERFLOW, S_RFC1337, S_TW_REUSE, S_FIN_TIMEOUT, S_RETRIES2, S_ORPHAN_RETRIES,
       S_FASTOPEN_KEY = 47 };
/* SEQ_TIMES indices */
enum { T0, T1MS, T5MS, T40MS, T100MS, T200MS, T500MS, T1S, T3S, T10S, T30S, T60S, T120S, T600S, T3600S, T7200S };

/* A passive open from peer port 40000 to the listener in slot 0, accepted into slot 1. Flow 0. */
static void q_passive(struct sq *q)
{
	q_listen(q);
	q_syn(q, 0, 0, 0, SYN_OPTS, 0);
	q_seg(q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_accept(q, 0);
}

/* An active open in slot 0, answered with a SYN-ACK. Flow 0. */
static void q_active(struct sq *q)
{
	q_connect(q);
	b8(q, OP_SEG);
	b8(q, 0);
	b8(q, W_SYN | W_ACK);
	b8(q, SEQ_PEER_ISN);
	b8(q, ACK_STACK_NXT);
	b16(q, 65160);
	b8(q, SYN_OPTS);
	syn_opt_args(q);
	b8(q, 0);
	b8(q, 0);
}

static void qsave(const char *name, const struct sq *q) { save("fuzz_sequence", name, q->b, q->n); }

static void gen_sequence(void)
{
	struct sq q;
	const int two[2][2] = { { 1, 1 }, { 3, 2 } };
	const int one[1][2] = { { 2, 1 } };

	clean_dir("fuzz_sequence");

	/* Passive open, data both ways, the peer closes first: CLOSE_WAIT, LAST_ACK. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	q_send(&q, 1, 5000, 0);
	q_adv(&q, T40MS);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_seg(&q, 0, W_ACK | W_PSH, ACK_STACK_NXT, 256, 100);
	q_recv(&q, 1, 4096, 0);
	q_seg(&q, 0, W_ACK | W_FIN, ACK_STACK_NXT, 256, 0);
	q_recv(&q, 1, 4096, 0);
	q_close(&q, 1);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T1S);
	qsave("passive-close-wait-last-ack", &q);

	/* The same with the trace sink on, at MTU 576. */
	q.b[0] = HDR_TRACE | HDR_MTU(2);
	qsave("passive-trace-mtu576", &q);
	q.b[0] = HDR_MTU(4);
	qsave("passive-mtu68", &q);

	/* Active open, bulk data, SACK recovery, RTO, then we close first:
	 * FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE. */
	q.n = 0;
	b8(&q, 0);
	q_active(&q);
	q_send(&q, 0, 30000, 0);
	q_sack(&q, 0, 0, 1, one);
	q_sack(&q, 0, 0, 2, two);
	q_sack(&q, 0, 0, 2, two);
	q_sack(&q, 0, 0, 2, two);
	q_adv(&q, T5MS);
	q_sack(&q, 0, 4, 0, NULL);
	q_adv(&q, T1S);
	q_adv(&q, T1S);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_send(&q, 0, 3000, 0);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_shutdown(&q, 0, SHUT_WR);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_seg(&q, 0, W_ACK | W_FIN, ACK_STACK_NXT, 256, 0);
	q_recv(&q, 0, 100, 0);
	q_adv(&q, T60S);
	q_adv(&q, T1S);
	qsave("active-bulk-sack-rto-time-wait", &q);

	/* Simultaneous close: CLOSING. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	q_close(&q, 1);
	q_seg(&q, 0, W_ACK | W_FIN, ACK_PEER_ACK, 256, 0);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T120S);
	qsave("simultaneous-close", &q);

	/* Orphaned FIN_WAIT2 times out; TCP_LINGER2. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	q_sockopt(&q, 1, O_LINGER2, V5);
	q_close(&q, 1);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T10S);
	q_seg(&q, 0, W_ACK | W_FIN, ACK_STACK_NXT, 256, 0);
	qsave("orphan-fin-wait2-timeout", &q);

	/* Keepalive probes until the peer is declared dead. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	q_sockopt(&q, 1, O_KEEPALIVE, V1);
	q_sockopt(&q, 1, O_KEEPIDLE, V1);
	q_sockopt(&q, 1, O_KEEPINTVL, V1);
	q_sockopt(&q, 1, O_KEEPCNT, V3);
	q_adv(&q, T3S);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T10S);
	q_recv(&q, 1, 10, 0);
	qsave("keepalive-timeout", &q);

	/* Zero window: probes, then the window opens. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 0, 0);
	q_send(&q, 1, 4000, 0);
	q_adv(&q, T1S);
	q_adv(&q, T3S);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T200MS);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	qsave("zero-window-probe", &q);

	/* Retransmissions until TCP_USER_TIMEOUT aborts; a RST then. */
	q.n = 0;
	b8(&q, 0);
	q_active(&q);
	q_sockopt_raw(&q, 0, O_USER_TIMEOUT, 5000);
	q_send(&q, 0, 2000, 0);
	q_adv(&q, T3S);
	q_adv(&q, T3S);
	q_recv(&q, 0, 10, 0);
	q_getopt(&q, 0, O_ERROR);
	qsave("user-timeout", &q);

	/* A connect that is never answered: SYN retries, ETIMEDOUT. */
	q.n = 0;
	b8(&q, 0);
	b8(&q, OP_SOCKET), b8(&q, SOCK_PLAIN);
	q_sockopt(&q, 0, O_SYNCNT, V2);
	b8(&q, OP_CONNECT), b8(&q, 0), b8(&q, CADDR_PEER), b8(&q, PORT_REMOTE);
	q_adv(&q, T10S);
	b8(&q, OP_CONNECT), b8(&q, 0), b8(&q, CADDR_PEER), b8(&q, PORT_REMOTE);
	qsave("connect-timeout", &q);

	/* Connect refused by RST; then by ICMP port unreachable; off-link via the gateway. */
	q.n = 0;
	b8(&q, 0);
	q_connect(&q);
	b8(&q, OP_SEG), b8(&q, 0), b8(&q, W_RST | W_ACK), b8(&q, SEQ_PEER_ISN), b8(&q, ACK_STACK_NXT), b16(&q, 0);
	b8(&q, 0), b8(&q, 0), b8(&q, 0);
	q_connect(&q);
	b8(&q, OP_ICMP), b8(&q, 1), b8(&q, ICMP_K_PORT_UNREACH), b16(&q, 0);
	b8(&q, OP_SOCKET), b8(&q, SOCK_CONNECT), b8(&q, CADDR_FAR), b8(&q, PORT_REMOTE);
	b8(&q, OP_ICMP), b8(&q, 2), b8(&q, 1), b16(&q, 0);
	q_adv(&q, T3S);
	qsave("connect-refused-icmp", &q);

	/* No ARP answers: the neighbour fails, the connect with it. */
	q.n = 0;
	b8(&q, HDR_NO_ARP);
	q_connect(&q);
	q_adv(&q, T10S);
	b8(&q, OP_ARP), b8(&q, 1); /* a reply from the peer after all */
	q_adv(&q, T3S);
	qsave("no-arp", &q);

	/* Path MTU: frag needed on an established connection with data in flight. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	q_send(&q, 1, 6000, 0);
	b8(&q, OP_ICMP), b8(&q, 0), b8(&q, ICMP_K_FRAG_NEEDED), b16(&q, 1000);
	q_adv(&q, T1S);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	qsave("icmp-frag-needed", &q);

	/* SYN cookies always on; the third ACK makes the child. */
	q.n = 0;
	b8(&q, 0);
	q_sysctl_raw(&q, S_SYNCOOKIES, 2);
	q_passive(&q);
	q_recv(&q, 1, 100, 0);
	qsave("syncookies", &q);

	/* Backlog overflow: backlog 1, three SYNs, abort_on_overflow. */
	q.n = 0;
	b8(&q, 0);
	q_sysctl_raw(&q, S_SYNCOOKIES, 0);
	b8(&q, OP_SOCKET), b8(&q, SOCK_LISTEN), b8(&q, PORT_LISTEN), b8(&q, 2); /* backlog 1 */
	for (unsigned i = 0; i < 3; i++)
		q_syn(&q, i, 0, 0, SYN_OPTS, 0);
	for (unsigned i = 0; i < 3; i++)
		q_seg(&q, i, W_ACK, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T3S);
	q_sysctl_raw(&q, S_ABORT_ON_OVERFLOW, 1);
	q_syn(&q, 5, 0, 0, SYN_OPTS, 0);
	q_seg(&q, 3, W_ACK, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T60S);
	qsave("backlog-overflow", &q);

	/* Fast Open: a cookie request, then SYN + cookie + data on a new port. */
	q.n = 0;
	b8(&q, 0);
	q_sysctl_raw(&q, S_FASTOPEN, 3);
	q_listen(&q);
	q_sockopt(&q, 0, O_FASTOPEN, V10);
	b8(&q, OP_SYN), b8(&q, 0), b8(&q, 0), b8(&q, 0), b8(&q, SYN_OPTS | SEG_O_TFO);
	syn_opt_args(&q);
	b8(&q, 1); /* empty cookie */
	b8(&q, 0);
	b8(&q, OP_SYN), b8(&q, 1), b8(&q, 0), b8(&q, 0), b8(&q, SYN_OPTS | SEG_O_TFO);
	syn_opt_args(&q);
	b8(&q, 0);  /* the cookie */
	b8(&q, 20); /* 160 bytes */
	q_accept(&q, 0);
	q_recv(&q, 1, 1000, 0);
	q_send(&q, 1, 500, 0);
	q_seg(&q, 1, W_ACK, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T3S);
	qsave("fastopen", &q);
	q.n = 0;
	b8(&q, 0);
	q_sysctl_raw(&q, S_FASTOPEN, 0x602);
	q_listen(&q);
	q_syn(&q, 0, 0, 0, SYN_OPTS, 30);
	q_adv(&q, T1S);
	q_adv(&q, T3S);
	q_seg(&q, 0, W_RST, ACK_STACK_NXT, 0, 0);
	qsave("fastopen-no-cookie-synack-timeout", &q);

	/* Out-of-order data, SACK blocks, a hole filled; PEEK, RCVLOWAT, recvv. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	q_sockopt(&q, 1, O_RCVLOWAT, V10);
	for (int i = 3; i >= 1; i--) {
		b8(&q, OP_SEG), b8(&q, 0), b8(&q, W_ACK), b8(&q, SEQ_RCV_NXT | MODE_DELTA | MODE_SCALE(1));
		b16(&q, (unsigned)(100 * i)), b8(&q, ACK_STACK_NXT), b16(&q, 256), b8(&q, SEG_O_TS), b8(&q, 0), b8(&q, 50);
		b8(&q, 0);
	}
	q_seg(&q, 0, W_ACK | W_PSH, ACK_STACK_NXT, 256, 100);
	q_recv(&q, 1, 300, 4); /* MSG_PEEK */
	b8(&q, OP_RECVV), b8(&q, 1), b8(&q, 4), b8(&q, 1), b8(&q, 2), b8(&q, 0), b8(&q, 0);
	q_adv(&q, T200MS);
	qsave("ooo-sack-recv", &q);

	/* Fragments: a data segment in three pieces, reversed and overlapping. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	b8(&q, OP_FRAG), b8(&q, 0), b8(&q, W_ACK | W_PSH), b8(&q, SEQ_RCV_NXT), b8(&q, ACK_STACK_NXT), b16(&q, 256);
	b8(&q, SEG_O_TS), b8(&q, 0), b8(&q, 100), b8(&q, 0);
	b8(&q, 3), b8(&q, FRAG_THREE | FRAG_REVERSE | FRAG_OVERLAP);
	b8(&q, OP_FRAG), b8(&q, 0), b8(&q, W_ACK | W_PSH), b8(&q, SEQ_RCV_NXT), b8(&q, ACK_STACK_NXT), b16(&q, 256);
	b8(&q, SEG_O_TS), b8(&q, 0), b8(&q, 100), b8(&q, 0);
	b8(&q, 1), b8(&q, FRAG_DROP_LAST);
	q_adv(&q, T60S);
	q_recv(&q, 1, 4096, 0);
	qsave("fragments", &q);

	/* RFC 5961: RST and SYN in window, old ACKs; then a RST that counts. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	b8(&q, OP_SEG), b8(&q, 0), b8(&q, W_RST), b8(&q, SEQ_RCV_NXT | MODE_DELTA), b16(&q, 10), b8(&q, ACK_STACK_NXT);
	b16(&q, 0), b8(&q, 0), b8(&q, 0), b8(&q, 0);
	b8(&q, OP_SEG), b8(&q, 0), b8(&q, W_SYN), b8(&q, SEQ_RCV_NXT), b8(&q, ACK_STACK_NXT), b16(&q, 0);
	b8(&q, 0), b8(&q, 0), b8(&q, 0);
	b8(&q, OP_SEG), b8(&q, 0), b8(&q, W_ACK), b8(&q, SEQ_RCV_NXT), b8(&q, ACK_STACK_ISN | MODE_DELTA | MODE_SCALE(3));
	b16(&q, 0xc000), b16(&q, 256), b8(&q, SEG_O_TS), b8(&q, 0), b8(&q, 0), b8(&q, 0);
	b8(&q, OP_SEG), b8(&q, 0), b8(&q, W_RST), b8(&q, SEQ_RCV_NXT), b8(&q, ACK_STACK_NXT), b16(&q, 0);
	b8(&q, 0), b8(&q, 0), b8(&q, 0);
	q_recv(&q, 1, 10, 0);
	qsave("rfc5961-rst", &q);

	/* Every option set and read on a connected socket, and on a listener. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	for (unsigned o = 0; o < O_NOPTS; o++) {
		q_sockopt(&q, 1, o, o % 9);
		q_getopt(&q, 1, o);
		q_sockopt(&q, 0, o, V1);
		q_getopt(&q, 0, o);
	}
	q_send(&q, 1, 3000, 1); /* MSG_MORE */
	q_sockopt(&q, 1, O_CORK, V0);
	q_sockopt(&q, 1, O_CONGESTION, V1); /* reno */
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	qsave("sockopts", &q);

	/* SO_LINGER 0: close aborts with RST; shutdown(SHUT_RD); unread data on close. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	q_seg(&q, 0, W_ACK | W_PSH, ACK_STACK_NXT, 256, 10);
	q_shutdown(&q, 1, SHUT_RD);
	q_close(&q, 1);
	q_syn(&q, 1, 0, 0, SYN_OPTS, 0);
	q_seg(&q, 1, W_ACK, ACK_STACK_NXT, 256, 0);
	q_accept(&q, 0);
	b8(&q, OP_SETSOCKOPT), b8(&q, 1), b8(&q, O_LINGER), b8(&q, V1), b8(&q, 0); /* on, 0 s */
	q_close(&q, 1);
	q_close(&q, 0);
	qsave("linger-abort", &q);

	/* TIME-WAIT reused by a new SYN; the old connection's data after. */
	q.n = 0;
	b8(&q, 0);
	q_passive(&q);
	q_close(&q, 1);
	q_seg(&q, 0, W_ACK | W_FIN, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T1S);
	q_syn(&q, 0, 0, 0, SYN_OPTS, 0);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_accept(&q, 0);
	qsave("time-wait-reuse", &q);

	/* SYN-ACK retransmissions until the request dies; TCP_DEFER_ACCEPT. */
	q.n = 0;
	b8(&q, 0);
	q_listen(&q);
	q_sockopt(&q, 0, O_DEFER_ACCEPT, V3);
	q_syn(&q, 0, 0, 0, SYN_OPTS, 0);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	q_adv(&q, T3S);
	q_syn(&q, 1, 0, 0, SYN_OPTS, 0);
	q_adv(&q, T120S);
	q_accept(&q, 0);
	qsave("synack-timeout-defer-accept", &q);

	/* Timestamps, SACK and window scaling off; no options from the peer either. */
	q.n = 0;
	b8(&q, HDR_SEED(3));
	q_sysctl_raw(&q, S_TIMESTAMPS, 0);
	q_sysctl_raw(&q, S_SACK, 0);
	q_sysctl_raw(&q, S_WSCALE, 0);
	q_listen(&q);
	b8(&q, OP_SYN), b8(&q, 0), b8(&q, 0), b8(&q, 0), b8(&q, SEG_O_MSS), b16(&q, 536), b8(&q, 0);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 8192, 0);
	q_accept(&q, 0);
	q_send(&q, 1, 5000, 0);
	q_seg(&q, 0, W_ACK, ACK_PEER_ACK, 8192, 0);
	q_seg(&q, 0, W_ACK, ACK_PEER_ACK, 8192, 0);
	q_seg(&q, 0, W_ACK, ACK_PEER_ACK, 8192, 0);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 8192, 0);
	qsave("no-options-reno-dupacks", &q);

	/* Fast Open client: TCP_FASTOPEN_CONNECT asks for a cookie, the SYN-ACK
	 * brings one; then MSG_FASTOPEN sends data in the SYN. */
	q.n = 0;
	b8(&q, 0);
	b8(&q, OP_SOCKET), b8(&q, SOCK_PLAIN);
	q_sockopt(&q, 0, O_FASTOPEN_CONNECT, V1);
	b8(&q, OP_CONNECT), b8(&q, 0), b8(&q, CADDR_PEER), b8(&q, PORT_REMOTE);
	q_send(&q, 0, 100, 0);
	b8(&q, OP_SEG), b8(&q, 0), b8(&q, W_SYN | W_ACK), b8(&q, SEQ_PEER_ISN), b8(&q, ACK_STACK_NXT);
	b16(&q, 65160), b8(&q, SYN_OPTS | SEG_O_TFO);
	syn_opt_args(&q);
	b8(&q, 2), b8(&q, 8);
	for (int i = 0; i < 8; i++)
		b8(&q, 0xc0 + i);
	b8(&q, 0), b8(&q, 0);
	q_send(&q, 0, 100, 0);
	q_seg(&q, 0, W_ACK | W_FIN, ACK_STACK_NXT, 256, 0);
	q_close(&q, 0);
	b8(&q, OP_SOCKET), b8(&q, SOCK_PLAIN);
	b8(&q, OP_SENDTO), b8(&q, 0), b8(&q, CADDR_PEER), b8(&q, PORT_REMOTE), b16(&q, 500), b8(&q, 0x40);
	b8(&q, OP_SEG), b8(&q, 1), b8(&q, W_SYN | W_ACK), b8(&q, SEQ_PEER_ISN), b8(&q, ACK_STACK_NXT);
	b16(&q, 65160), b8(&q, SYN_OPTS), b16(&q, 0), b8(&q, 7), b8(&q, 0), b8(&q, 0), b8(&q, 0);
	q_seg(&q, 1, W_ACK | W_PSH, ACK_STACK_NXT, 256, 10);
	q_recv(&q, 0, 1000, 0);
	b8(&q, OP_TFO_CACHE), b8(&q, 1), b8(&q, 0), b16(&q, 0), b8(&q, 0);
	q_adv(&q, T3S);
	qsave("fastopen-client", &q);

	/* epoll: a listener and its child, level- and edge-triggered. */
	q.n = 0;
	b8(&q, 0);
	q_listen(&q);
	b8(&q, OP_EPOLL), b8(&q, 0), b8(&q, 0);
	b8(&q, OP_EPOLL), b8(&q, 1), b8(&q, 0), b8(&q, EPOLL_CTL_ADD), b8(&q, 1), b8(&q, 0);
	q_syn(&q, 0, 0, 0, SYN_OPTS, 0);
	q_seg(&q, 0, W_ACK, ACK_STACK_NXT, 256, 0);
	b8(&q, OP_EPOLL), b8(&q, 2), b8(&q, 0), b8(&q, 9);
	q_accept(&q, 0);
	b8(&q, OP_EPOLL), b8(&q, 1), b8(&q, 0), b8(&q, EPOLL_CTL_ADD), b8(&q, 1 | 2 | 4 | 8), b8(&q, 1);
	q_seg(&q, 0, W_ACK | W_PSH, ACK_STACK_NXT, 256, 10);
	b8(&q, OP_EPOLL), b8(&q, 2), b8(&q, 0), b8(&q, 9);
	b8(&q, OP_EPOLL), b8(&q, 2), b8(&q, 0), b8(&q, 9);
	q_seg(&q, 0, W_ACK | W_FIN, ACK_STACK_NXT, 256, 0);
	b8(&q, OP_EPOLL), b8(&q, 1), b8(&q, 0), b8(&q, EPOLL_CTL_MOD), b8(&q, 1 | 16), b8(&q, 1);
	b8(&q, OP_EPOLL), b8(&q, 2), b8(&q, 0), b8(&q, 9);
	q_close(&q, 1);
	b8(&q, OP_EPOLL), b8(&q, 2), b8(&q, 0), b8(&q, 9);
	b8(&q, OP_EPOLL), b8(&q, 3), b8(&q, 0);
	qsave("epoll", &q);

	/* The Fast Open key by text, then a cookie request. */
	q.n = 0;
	b8(&q, 0);
	{
		const char *key = "00112233-44556677-8899aabb-ccddeeff,01234567-89abcdef-01234567-89abcdef";
		b8(&q, OP_SYSCTL_STR), b8(&q, S_FASTOPEN_KEY), b8(&q, (unsigned)strlen(key));
		for (const char *k = key; *k; k++)
			b8(&q, (unsigned char)*k);
		b8(&q, 100);
	}
	q_sysctl_raw(&q, S_FASTOPEN, 3);
	q_listen(&q);
	q_sockopt(&q, 0, O_FASTOPEN, V10);
	b8(&q, OP_SYN), b8(&q, 0), b8(&q, 0), b8(&q, 0), b8(&q, SYN_OPTS | SEG_O_TFO);
	syn_opt_args(&q);
	b8(&q, 1), b8(&q, 0);
	qsave("fastopen-key", &q);

	/* Raw frames and packets, ping, ARP. */
	q.n = 0;
	b8(&q, HDR_TRACE);
	b8(&q, OP_PING), b8(&q, 0), b16(&q, 1), b8(&q, 7);
	b8(&q, OP_PING), b8(&q, 0x80), b16(&q, 2), b8(&q, 7);
	b8(&q, OP_ARP), b8(&q, 0);
	b8(&q, OP_ARP), b8(&q, 0x21);
	b8(&q, OP_RAW_IP), b8(&q, 17), b8(&q, 0), b16(&q, 12);
	for (int i = 0; i < 12; i++)
		b8(&q, i == 5 ? 12 : 1);
	b8(&q, OP_RAW_TCP), b8(&q, 0), b8(&q, 2), b16(&q, 20);
	{
		const uint8_t th[20] = { 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, W_SYN, 0xff, 0xff, 0, 0, 0, 0 };
		for (int i = 0; i < 20; i++)
			b8(&q, th[i]);
	}
	b8(&q, OP_RAW_FRAME), b16(&q, 14);
	for (int i = 0; i < 14; i++)
		b8(&q, 0xff);
	q_adv(&q, T10S);
	qsave("raw-ping-arp", &q);
}

/* ============================================================ fuzz_codec */

static void csave(const char *name, uint8_t mode, const uint8_t *d, size_t n)
{
	uint8_t buf[2048];

	buf[0] = mode;
	memcpy(buf + 1, d, n);
	save("fuzz_codec", name, buf, n + 1);
}

static void gen_codec(void)
{
	struct world *w = world_new(NULL);
	uint8_t f[W_MAXFRAME + 64], b[2048], o[40];
	size_t n;
	struct w_seg s = { 0 };

	clean_dir("fuzz_codec");
	/* 0: parse -> write -> parse (cfg byte, then the options). */
	{
		const uint8_t syn[] = { 0, 2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
		const uint8_t tfo[] = { 0, 2, 4, 5, 0xb4, 1, 1, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8 };
		const uint8_t exp[] = { 0, 254, 8, 0xf9, 0x89, 9, 8, 7, 6, 1, 3, 3, 14 };
		const uint8_t sack[] = { 16, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 18,
					 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4 };
		const uint8_t bad[] = { 0, 2, 4, 5, 0xb4, 3, 0, 7, 4, 2 };
		const uint8_t odd[] = { 8, 2, 4, 0x7f, 0xff, 3, 3, 200, 34, 5, 1, 2, 3, 0, 4, 2 };
		const uint8_t eol[] = { 7, 1, 1, 0, 2, 4, 5, 0xb4 };
		const uint8_t mss0[] = { 0, 2, 4, 0, 0, 34, 2, 254, 4, 0xf9, 0x89, 8, 9 };
		csave("opt-syn", 0, syn, sizeof(syn));
		csave("opt-tfo", 0, tfo, sizeof(tfo));
		csave("opt-tfo-exp", 0, exp, sizeof(exp));
		csave("opt-ts-sack", 0, sack, sizeof(sack));
		csave("opt-bad-length", 0, bad, sizeof(bad));
		csave("opt-odd-sysctls-off", 0, odd, sizeof(odd));
		csave("opt-eol", 0, eol, sizeof(eol));
		csave("opt-mss0-tfo-short", 0, mss0, sizeof(mss0));
	}
	/* 1: write -> parse (flags, ws, mss, ts, then SACK blocks or a cookie). */
	{
		uint8_t in[64];
		memset(in, 0, sizeof(in));
		in[0] = 0x01 | 0x02 | 0x04 | 0x08;
		in[1] = 7;
		in[2] = 0x05, in[3] = 0xb4;
		put32(in + 4, 0x11223344);
		put32(in + 8, 0x55667788);
		csave("write-syn", 1, in, 12);
		in[0] |= 0x10 | 0x20;
		in[12] = 8;
		memcpy(in + 13, "cookie!!", 8);
		csave("write-syn-tfo-exp", 1, in, 32);
		in[0] = 0x80 | 1;
		in[1] = 3;
		for (int i = 0; i < 8; i++)
			put32(in + 12 + 4 * i, 1000u * (uint32_t)(i + 1));
		csave("write-ts-3-sacks", 1, in, 44);
		in[0] = 0x80;
		in[1] = 4;
		csave("write-4-sacks", 1, in, 48);
	}
	/* 2: format (2-byte cap, then a frame). */
	s.sport = 50000;
	s.dport = 8080;
	s.flags = W_SYN;
	s.seq = 1;
	s.win = 64240;
	s.opt = o;
	s.optlen = w_opts_syn(o, 1, 0);
	n = w_build_tcp(w, f, sizeof(f), &s);
	b[0] = 0x01, b[1] = 0x00;
	memcpy(b + 2, f, n);
	csave("format-tcp-syn", 2, b, n + 2);
	b[0] = 0, b[1] = 30;
	csave("format-tcp-syn-cap30", 2, b, n + 2);
	b[0] = 0x01, b[1] = 0x00;
	csave("format-tcp-truncated", 2, b, 2 + 14 + 20 + 10);
	{
		uint8_t mac[6] = { 2, 0, 0xc0, 0, 2, 2 }, zero[6] = { 0 };
		n = w_build_arp(w, f, 1, mac, W_PEER, zero, W_LOCAL, true);
		memcpy(b + 2, f, n);
		csave("format-arp", 2, b, n + 2);
		n = w_build_icmp_err(w, f, sizeof(f), NULL, 3, 4, 1400);
		memcpy(b + 2, f, n);
		csave("format-icmp", 2, b, n + 2);
		f[12] = 0x81, f[13] = 0;
		memcpy(b + 2, f, n);
		csave("format-vlan", 2, b, n + 2);
	}
	/* 3: checksum. */
	for (int i = 0; i < 64; i++)
		b[i] = (uint8_t)(i * 37 + 11);
	csave("csum-63", 3, b, 63);
	memset(b, 0xff, 64);
	csave("csum-ones", 3, b, 64);
	/* 4: the receive path (mode, fix, bytes after the fixed headers). */
	{
		uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0xc0, 0, 2, 2, 0xc0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0xc0, 0, 2, 1 };
		b[0] = 0, b[1] = 0x80;
		memcpy(b + 2, arp, sizeof(arp));
		csave("rx-arp", 4, b, 2 + sizeof(arp));
		n = w_build_tcp(w, f, sizeof(f), &s);
		b[0] = 1, b[1] = 1;
		memcpy(b + 2, f + 14, n - 14);
		csave("rx-ipv4", 4, b, 2 + n - 14);
		b[0] = 4, b[1] = 0;
		memcpy(b + 2, f + 34, n - 34);
		csave("rx-tcp-syn", 4, b, 2 + n - 34);
		b[0] = 2, b[1] = 0;
		{
			uint8_t echo[16] = { 8, 0, 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g' };
			memcpy(b + 2, echo, sizeof(echo));
			csave("rx-icmp-echo", 4, b, 2 + sizeof(echo));
		}
		b[0] = 3, b[1] = 4;
		{
			uint8_t udp[12] = { 0x30, 0x39, 0, 53, 0, 12, 0, 0, 'd', 'n', 's', '?' };
			memcpy(b + 2, udp, sizeof(udp));
			csave("rx-udp", 4, b, 2 + sizeof(udp));
		}
		/* A first fragment, then the reassembly timer. */
		memcpy(b + 2, f + 14, n - 14);
		b[2 + 6] = 0x20;
		b[0] = 1, b[1] = 1 | 4;
		csave("rx-fragment-timeout", 4, b, 2 + n - 14);
	}
	/* 5: CIDR. */
	{
		const char *cidrs[] = { "192.0.2.1/24", "10.0.0.1", "1.2.3.4/33", "/8", "1.2.3.4/", "255.255.255.255/0x1" };
		for (unsigned i = 0; i < sizeof(cidrs) / sizeof(cidrs[0]); i++) {
			char name[32];
			snprintf(name, sizeof(name), "cidr-%u", i);
			csave(name, 5, (const uint8_t *)cidrs[i], strlen(cidrs[i]));
		}
	}
	/* 6: sysctls by text (name index, cap, text). */
	{
		const char *texts[] = { "00112233-44556677-8899aabb-ccddeeff",
					"00112233-44556677-8899aabb-ccddeeff,ffeeddcc-bbaa9988-77665544-33221100",
					"0011223344556677-8899aabbccddeeff", "\x00", "zz" };
		for (unsigned i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
			char name[32];
			b[0] = 0;
			b[1] = (uint8_t)(20 + i * 30);
			memcpy(b + 2, texts[i], strlen(texts[i]));
			snprintf(name, sizeof(name), "sysctl-key-%u", i);
			csave(name, 6, b, 2 + strlen(texts[i]));
		}
		memcpy(b, "\x01\x08 42\n", 6);
		csave("sysctl-fin-timeout", 6, b, 6);
		memcpy(b, "\x02\x03" "0xffffffff", 12);
		csave("sysctl-ratemask", 6, b, 12);
	}
	/* 7: virtio-net header (flags, the 10-byte header in host order, a
	 * TCP/IPv4 frame): plain, and GSO checked with meta and in software. */
	{
		uint8_t v[1 + 10 + 154], *hd = v + 1, *fr = v + 11;
		const size_t fl = 154;
		memset(v, 0, sizeof(v));
		fr[12] = 0x08;
		fr[14] = 0x45;
		put16(fr + 16, (uint16_t)(fl - 14));
		put16(fr + 20, 0x4000);
		fr[22] = 64;
		fr[23] = 6;
		put32(fr + 26, 0x0a000001);
		put32(fr + 30, 0x0a000002);
		put32(fr + 38, 1000);
		fr[46] = 5 << 4;
		fr[47] = 0x10;
		v[0] = 0x40;
		csave("vnet-plain-then-4-segments", 7, v, sizeof(v));
		hd[0] = 1;                      /* NEEDS_CSUM */
		hd[1] = 1;                      /* GSO_TCPV4 */
		hd[2] = 54;                     /* hdr_len, little-endian */
		hd[4] = 1448 & 0xff;            /* gso_size */
		hd[5] = 1448 >> 8;
		hd[6] = 34;                     /* csum_start */
		hd[8] = 16;                     /* csum_offset */
		csave("vnet-gso", 7, v, sizeof(v));
		v[0] = 0x23;
		csave("vnet-gso-sw-csum", 7, v, sizeof(v));
	}
	world_free(w);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_ROOT (fuzz/corpus)\n", argv[0]);
		return 2;
	}
	root = argv[1];
	mkdir(root, 0755);
	gen_frame();
	gen_sequence();
	gen_codec();
	printf("gen_seeds: wrote %d seeds under %s\n", written, root);
	return 0;
}
