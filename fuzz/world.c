/* The fuzzing world (see world.h). Written against the public API, with
 * its own checksum and option code so the stack's output is checked by an
 * independent implementation. */
#include "world.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_ARP 0x0806

/* ------------------------------------------------------------- bytes */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static bool seq_after(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Transport checksum over the pseudo header; addresses as on the wire. */
static uint16_t l4_csum(const uint8_t *saddr, const uint8_t *daddr, uint8_t proto, const uint8_t *seg, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, saddr, 4);
	memcpy(ph + 4, daddr, 4);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)len);
	return csum_fold(csum_add(csum_add(0, ph, sizeof(ph)), seg, len));
}

/* Every host of the model has MAC 02:00 followed by its IPv4 address. */
static void mac_for(uint8_t *mac, uint32_t host_ip)
{
	mac[0] = 2;
	mac[1] = 0;
	put32(mac + 2, host_ip);
}

/* ------------------------------------------------------------ failures */

void w_fail(struct world *w, const char *what, const uint8_t *frame, size_t len)
{
	char buf[512];

	buf[0] = 0;
	if (frame)
		synack_format_frame(buf, sizeof(buf), frame, len);
	fprintf(stderr, "fuzz world: %s%s%s (%zu bytes)\n", what, frame ? ": " : "", buf, len);
	if (frame) {
		for (size_t i = 0; i < len && i < 96; i++)
			fprintf(stderr, "%02x%s", frame[i], (i % 16 == 15) ? "\n" : " ");
		fprintf(stderr, "\n");
	}
	(void)w;
	abort();
}

/* --------------------------------------------------------------- flows */

struct w_flow *w_flow_find(struct world *w, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	for (unsigned i = 0; i < w->nflows; i++) {
		struct w_flow *f = &w->flows[i];
		if (f->raddr == raddr && f->lport == lport && f->rport == rport)
			return f;
	}
	return NULL;
}

struct w_flow *w_flow_get(struct world *w, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	struct w_flow *f = w_flow_find(w, raddr, lport, rport);

	if (f || w->nflows == W_MAXFLOWS)
		return f;
	f = &w->flows[w->nflows];
	memset(f, 0, sizeof(*f));
	f->raddr = raddr;
	f->lport = lport;
	f->rport = rport;
	f->peer_isn = 0x40000000u + 0x01000000u * w->nflows;
	f->peer_nxt = f->peer_isn;
	f->peer_ts_off = 0x01000000u + 0x00100000u * w->nflows;
	w->nflows++;
	return f;
}

uint32_t w_flow_rcv_nxt(const struct w_flow *fl) { return fl->acked ? fl->stack_ack : fl->peer_nxt; }

uint32_t w_flow_peer_tsval(const struct world *w, const struct w_flow *fl) { return w_now_ms(w) + fl->peer_ts_off; }

/* What a TCP segment from the stack tells the peer. */
static void flow_note_tx(struct world *w, const uint8_t *ip, size_t ihl, const uint8_t *th, size_t tlen)
{
	size_t doff = (size_t)(th[12] >> 4) * 4, i;
	uint8_t flags = th[13];
	uint32_t seq = get32(th + 4), end;
	struct w_flow *f;

	if (flags & W_RST)
		f = w_flow_find(w, get32(ip + 16), get16(th), get16(th + 2));
	else
		f = w_flow_get(w, get32(ip + 16), get16(th), get16(th + 2));
	if (!f)
		return;
	end = seq + (uint32_t)(tlen - doff) + !!(flags & W_SYN) + !!(flags & W_FIN);
	if (flags & W_SYN) {
		f->stack_isn = seq;
		f->stack_nxt = end;
		f->cookie_len = 0;
	} else if (!f->seen || seq_after(end, f->stack_nxt)) {
		f->stack_nxt = end;
	}
	f->seen = true;
	if (flags & W_ACK) {
		f->stack_ack = get32(th + 8);
		f->acked = true;
	}
	f->stack_win = get16(th + 14);
	f->stack_ts = false;
	for (i = 20; i < doff;) {
		uint8_t kind = th[i], olen;
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		olen = th[i + 1];
		if (kind == 8 && olen == 10) {
			f->stack_ts = true;
			f->stack_tsval = get32(th + i + 2);
		} else if (kind == 34 && olen >= 2 && olen - 2 <= 16) {
			f->cookie_len = (uint8_t)(olen - 2);
			memcpy(f->cookie, th + i + 2, f->cookie_len);
		} else if (kind == 254 && olen >= 4 && olen - 4 <= 16 && get16(th + i + 2) == 0xf989) {
			f->cookie_len = (uint8_t)(olen - 4);
			memcpy(f->cookie, th + i + 4, f->cookie_len);
		}
		if (f->cookie_len && (kind == 34 || kind == 254)) {
			w->cookie_len = f->cookie_len;
			memcpy(w->cookie, f->cookie, f->cookie_len);
		}
		i += olen;
	}
	memcpy(f->quote, ip, 20);
	memcpy(f->quote + 20, th, 8);
	f->has_quote = true;
	(void)ihl;
}

/* ------------------------------------------------------------- output */

static void check_tcp_options(struct world *w, const uint8_t *f, size_t flen, const uint8_t *th, size_t doff)
{
	for (size_t i = 20; i < doff;) {
		uint8_t kind = th[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= doff || th[i + 1] < 2 || i + th[i + 1] > doff)
			w_fail(w, "the stack sent malformed TCP options", f, flen);
		i += th[i + 1];
	}
}

static void queue_arp_reply(struct world *w, const uint8_t *arp)
{
	uint8_t r[60], mac[6];
	uint32_t tip = get32(arp + 24);

	if (tip == W_LOCAL)
		return;
	mac_for(mac, tip);
	w_build_arp(w, r, 2, mac, tip, arp + 8, get32(arp + 14), false);
	w_queue(w, r, sizeof(r));
}

/* Check a frame from the stack; learn from it. Aborts on a bad frame. */
static void check_tx(struct world *w, const uint8_t *f, size_t len)
{
	const uint8_t *ip;
	size_t ihl, tot;
	uint16_t type;

	w->tx_frames++;
	if (len < 60 || len > w->mtu + 14)
		w_fail(w, "the stack sent a frame of a bad length", f, len);
	if (memcmp(f + 6, w->link.l.mac, 6) != 0)
		w_fail(w, "the stack sent a frame from another MAC", f, len);
	type = get16(f + 12);
	if (type == ETHERTYPE_ARP) {
		const uint8_t *a = f + 14;
		uint16_t op = get16(a + 6);
		if (get16(a) != 1 || get16(a + 2) != ETHERTYPE_IP || a[4] != 6 || a[5] != 4 || (op != 1 && op != 2) ||
		    memcmp(a + 8, w->link.l.mac, 6) != 0 || get32(a + 14) != W_LOCAL)
			w_fail(w, "the stack sent a malformed ARP frame", f, len);
		if (op == 1 && w->auto_arp)
			queue_arp_reply(w, a);
		return;
	}
	if (type != ETHERTYPE_IP)
		w_fail(w, "the stack sent an unknown ethertype", f, len);
	ip = f + 14;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || 14 + tot > len || (len > 60 && 14 + tot != len))
		w_fail(w, "the stack sent a malformed IPv4 header", f, len);
	if (csum_fold(csum_add(0, ip, ihl)) != 0)
		w_fail(w, "the stack sent a bad IPv4 checksum", f, len);
	if (get32(ip + 12) != W_LOCAL)
		w_fail(w, "the stack sent from another address", f, len);
	if ((get16(ip + 6) & 0x3fff) != 0)
		return; /* a fragment: its transport header is checked nowhere */
	if (ip[9] == 6) {
		const uint8_t *th = ip + ihl;
		size_t tlen = tot - ihl, doff;

		if (tlen < 20)
			w_fail(w, "the stack sent a short TCP segment", f, len);
		doff = (size_t)(th[12] >> 4) * 4;
		if (doff < 20 || doff > tlen || (th[12] & 0x0f))
			w_fail(w, "the stack sent a bad TCP data offset", f, len);
		if (l4_csum(ip + 12, ip + 16, 6, th, tlen) != 0)
			w_fail(w, "the stack sent a bad TCP checksum", f, len);
		if ((th[13] & (W_SYN | W_RST)) == (W_SYN | W_RST))
			w_fail(w, "the stack sent SYN+RST", f, len);
		check_tcp_options(w, f, len, th, doff);
		w->tx_tcp++;
		flow_note_tx(w, ip, ihl, th, tlen);
	} else if (ip[9] == 1) {
		if (tot - ihl < 8 || csum_fold(csum_add(0, ip + ihl, tot - ihl)) != 0)
			w_fail(w, "the stack sent a bad ICMP message", f, len);
	}
}

/* --------------------------------------------------------------- link */

static struct world *link_world(struct synack_link *l) { return ((struct w_link *)l)->w; }

static int wl_send(struct synack_link *l, const void *frame, size_t len)
{
	check_tx(link_world(l), frame, len);
	return 0;
}

static int wl_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct world *w = link_world(l);
	size_t n;

	if (!w->rxn)
		return 0;
	n = w->rxlen[w->rxhead];
	if (n > cap)
		n = cap;
	memcpy(buf, w->rxq[w->rxhead], n);
	w->rxhead = (w->rxhead + 1) % W_RXQ;
	w->rxn--;
	w->rx_frames++;
	return (int)n;
}

static int wl_wait_fd(struct synack_link *l)
{
	(void)l;
	return -1;
}

static uint64_t wl_next_deadline(struct synack_link *l)
{
	struct world *w = link_world(l);

	return w->rxn ? w_now(w) : SYNACK_NEVER;
}

static void wl_destroy(struct synack_link *l) { (void)l; }

static const struct synack_link_ops wl_ops = {
	.kind = "fuzz", .send = wl_send, .recv = wl_recv, .wait_fd = wl_wait_fd,
	.next_deadline = wl_next_deadline, .destroy = wl_destroy,
};

bool w_queue(struct world *w, const uint8_t *frame, size_t len)
{
	unsigned slot;

	if (w->rxn == W_RXQ)
		return false;
	if (len > W_MAXFRAME)
		len = W_MAXFRAME;
	slot = (w->rxhead + w->rxn) % W_RXQ;
	memcpy(w->rxq[slot], frame, len);
	w->rxlen[slot] = (uint16_t)len;
	w->rxn++;
	return true;
}

/* -------------------------------------------------------------- trace */

static void trace_sink(void *ctx, const struct synack_trace_event *ev)
{
	struct world *w = ctx;

	if (ev->kind == SYNACK_TRACE_FRAME_RX || ev->kind == SYNACK_TRACE_FRAME_TX)
		synack_format_frame(w->fmt, sizeof(w->fmt), ev->frame, ev->frame_len);
	else
		snprintf(w->fmt, sizeof(w->fmt), "%s: %s", ev->name, ev->text);
	if (w->verbose)
		fprintf(stderr, "  +%.3f %s %s\n", (double)(ev->ts_ns - W_T0) / 1e9,
			ev->kind == SYNACK_TRACE_FRAME_RX   ? "rx"
			: ev->kind == SYNACK_TRACE_FRAME_TX ? "tx"
			: ev->kind == SYNACK_TRACE_DROP     ? "drop"
							    : "ev",
			w->fmt);
}

/* ------------------------------------------------------------ lifetime */

struct world *world_new(const struct world_opts *o)
{
	struct world_opts def = { 0 };
	struct synack_stack_config cfg = { 0 };
	struct synack_if_config ic = { 0 };
	struct world *w = calloc(1, sizeof(*w));

	if (!o)
		o = &def;
	if (!w)
		abort();
	w->txbuf = malloc(W_BUF);
	w->rxbuf = malloc(W_BUF);
	w->clk = synack_clock_new_virtual(W_T0);
	if (!w->txbuf || !w->rxbuf || !w->clk)
		abort();
	/* A pattern that does not repeat within a segment, built by doubling
	 * (a byte loop is slow under coverage instrumentation). */
	for (size_t i = 0; i < 256; i++)
		w->txbuf[i] = (uint8_t)(i * 7);
	for (size_t n = 256; n < W_BUF; n *= 2) {
		memcpy(w->txbuf + n, w->txbuf, n);
		w->txbuf[n] ^= (uint8_t)(n >> 8);
	}
	for (int i = 0; i < W_MAXFDS; i++)
		w->fds[i] = -1;
	w->verbose = getenv("SYNACK_FUZZ_VERBOSE") != NULL;
	w->auto_arp = !o->no_auto_arp;
	w->steps_left = W_MAX_STEPS;
	w->mtu = o->mtu ? o->mtu : 1500;
	w->ip_id = 0x1000;
	w->link.w = w;
	w->link.l.ops = &wl_ops;
	mac_for(w->link.l.mac, W_LOCAL);
	w->link.l.mtu = w->mtu;
	w->link.l.features = o->gro ? SYNACK_LINK_F_GRO : 0;
	cfg.clock = w->clk;
	cfg.name = "fuzz";
	cfg.seeded = true;
	cfg.seed = o->seed ? o->seed : 1;
	if (synack_stack_new(&cfg, &w->st) != 0)
		abort();
	if (o->trace || w->verbose)
		synack_trace_set_sink(w->st, trace_sink, w);
	ic.addr.s_addr = w_addr(W_LOCAL);
	ic.prefix_len = 24;
	ic.gateway.s_addr = w_addr(W_GW);
	if (synack_if_up(w->st, &w->link.l, &ic) != 0)
		abort();
	w_pump(w);
	return w;
}

void world_free(struct world *w)
{
	if (!w)
		return;
	synack_stack_free(w->st);
	synack_clock_free(w->clk);
	free(w->txbuf);
	free(w->rxbuf);
	free(w);
}

int w_fd_add(struct world *w, int fd)
{
	if (fd < 0)
		return -1;
	for (int i = 0; i < W_MAXFDS; i++)
		if (w->fds[i] < 0) {
			w->fds[i] = fd;
			return i;
		}
	return -1;
}

/* ---------------------------------------------------------------- time */

uint64_t w_now(const struct world *w) { return synack_clock_now(w->clk); }
uint32_t w_now_ms(const struct world *w) { return (uint32_t)((w_now(w) - W_T0) / W_MS); }

void w_pump(struct world *w)
{
	/* Frames can beget frames (ARP answers); the stack polls at most 256
	 * frames a call, and the queue holds W_RXQ, so this always ends. */
	for (int i = 0; i < 64; i++) {
		if (synack_stack_poll(w->st) <= 0 && !w->rxn)
			return;
	}
}

void w_advance(struct world *w, uint64_t ns)
{
	uint64_t until = w_now(w) + ns;

	w_pump(w);
	for (; w->steps_left > 0; w->steps_left--) {
		uint64_t now = w_now(w), next = synack_stack_next_deadline(w->st);

		if (next <= now)
			next = now + W_MS;
		if (next > until)
			break;
		synack_clock_set(w->clk, next);
		w_pump(w);
	}
	if (until > w_now(w)) {
		synack_clock_set(w->clk, until);
		w_pump(w);
	}
}

void w_run_next(struct world *w, uint64_t max_ns)
{
	uint64_t now = w_now(w), next = synack_stack_next_deadline(w->st);

	if (next == SYNACK_NEVER || next <= now) {
		w_pump(w);
		return;
	}
	if (next - now > max_ns)
		next = now + max_ns;
	synack_clock_set(w->clk, next);
	w_pump(w);
}

void w_inject(struct world *w, const uint8_t *frame, size_t len)
{
	if (!w_queue(w, frame, len)) {
		w_pump(w);
		w_queue(w, frame, len);
	}
	w_pump(w);
}

/* ------------------------------------------------------------ builders */

size_t w_build_eth(const struct world *w, uint8_t *f, bool bcast, uint16_t type)
{
	if (bcast)
		memset(f, 0xff, 6);
	else
		memcpy(f, w->link.l.mac, 6);
	mac_for(f + 6, W_PEER);
	put16(f + 12, type);
	return 14;
}

size_t w_build_ip(struct world *w, uint8_t *f, size_t cap, uint32_t saddr, uint32_t daddr, uint8_t proto,
		  const uint8_t *payload, size_t plen, const struct w_seg *t)
{
	size_t ihl = 20 + (t ? (size_t)(t->ip_opt_words > 10 ? 10 : t->ip_opt_words) * 4 : 0), n;
	uint8_t *ip = f + 14;

	if (14 + ihl + plen > cap || ihl + plen > 65535)
		return 0;
	w_build_eth(w, f, t && t->bcast_mac, ETHERTYPE_IP);
	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | (ihl / 4));
	ip[1] = t ? t->tos : 0;
	put16(ip + 2, (uint16_t)(ihl + plen));
	put16(ip + 4, t && t->ip_id ? t->ip_id : w->ip_id++);
	put16(ip + 6, t && t->no_df ? 0 : 0x4000);
	ip[8] = t && t->ttl ? t->ttl : 64;
	ip[9] = proto;
	put32(ip + 12, saddr ? saddr : W_PEER);
	put32(ip + 16, daddr ? daddr : W_LOCAL);
	memset(ip + 20, 1, ihl - 20); /* NOP options */
	put16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
	memmove(ip + ihl, payload, plen);
	n = 14 + ihl + plen;
	if (n < 60) {
		if (cap < 60)
			return 0;
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

size_t w_build_tcp(struct world *w, uint8_t *f, size_t cap, const struct w_seg *s)
{
	uint8_t seg[20 + 40 + W_MAXFRAME];
	size_t optlen = s->optlen > 40 ? 40 : s->optlen, hl = 20 + ((optlen + 3) & ~(size_t)3);
	size_t len = s->len > W_MAXFRAME ? W_MAXFRAME : s->len;
	uint8_t sa[4], da[4];

	memset(seg, 0, hl);
	put16(seg, s->sport);
	put16(seg + 2, s->dport);
	put32(seg + 4, s->seq);
	put32(seg + 8, s->ack);
	seg[12] = (uint8_t)((hl / 4) << 4);
	seg[13] = s->flags;
	put16(seg + 14, s->win);
	put16(seg + 18, s->urg);
	if (optlen)
		memcpy(seg + 20, s->opt, optlen);
	if (len)
		memcpy(seg + hl, s->data, len);
	put32(sa, s->saddr ? s->saddr : W_PEER);
	put32(da, s->daddr ? s->daddr : W_LOCAL);
	put16(seg + 16, l4_csum(sa, da, 6, seg, hl + len));
	if (s->bad_csum)
		seg[17] ^= 0x20;
	return w_build_ip(w, f, cap, s->saddr, s->daddr, 6, seg, hl + len, s);
}

size_t w_build_icmp_err(struct world *w, uint8_t *f, size_t cap, const struct w_flow *fl, uint8_t type,
			uint8_t code, uint32_t info)
{
	uint8_t m[8 + 28];

	memset(m, 0, sizeof(m));
	m[0] = type;
	m[1] = code;
	put32(m + 4, info);
	if (fl && fl->has_quote) {
		memcpy(m + 8, fl->quote, 28);
	} else if (fl) {
		/* Nothing sent yet: quote what the stack would have sent. */
		m[8] = 0x45;
		put16(m + 10, 40);
		m[16] = 64;
		m[17] = 6;
		put32(m + 20, W_LOCAL);
		put32(m + 24, fl->raddr);
		put16(m + 28, fl->lport);
		put16(m + 30, fl->rport);
		put32(m + 32, fl->stack_nxt);
		put16(m + 18, csum_fold(csum_add(0, m + 8, 20)));
	}
	put16(m + 2, csum_fold(csum_add(0, m, sizeof(m))));
	return w_build_ip(w, f, cap, fl ? fl->raddr : 0, 0, 1, m, sizeof(m), NULL);
}

size_t w_build_arp(const struct world *w, uint8_t *f, uint16_t op, const uint8_t *sha, uint32_t sip,
		   const uint8_t *tha, uint32_t tip, bool bcast)
{
	uint8_t *a = f + 14;

	memset(f, 0, 60);
	w_build_eth(w, f, bcast, ETHERTYPE_ARP);
	memcpy(f + 6, sha, 6);
	put16(a, 1);
	put16(a + 2, ETHERTYPE_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put32(a + 14, sip);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tip);
	return 60;
}

void w_fix_checksums(uint8_t *f, size_t len, bool fix_ip, bool fix_l4)
{
	uint8_t *ip = f + 14, *l4;
	size_t ihl, tot, n, at;
	uint8_t proto;
	uint16_t sum;

	if (len < 14 + 20 || get16(f + 12) != ETHERTYPE_IP)
		return;
	ihl = (size_t)(ip[0] & 15) * 4;
	if (ihl < 20 || 14 + ihl > len)
		return;
	if (fix_ip) {
		put16(ip + 10, 0);
		put16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
	}
	tot = get16(ip + 2);
	if (!fix_l4 || (get16(ip + 6) & 0x3fff) || tot < ihl)
		return;
	n = tot - ihl;
	if (14 + tot > len)
		n = len - 14 - ihl;
	proto = ip[9];
	l4 = ip + ihl;
	at = proto == 6 ? 16 : proto == 17 ? 6 : proto == 1 ? 2 : 0;
	if (!at || n < at + 2)
		return;
	put16(l4 + at, 0);
	sum = proto == 1 ? csum_fold(csum_add(0, l4, n)) : l4_csum(ip + 12, ip + 16, proto, l4, n);
	put16(l4 + at, sum);
}

void w_flow_note_peer(struct w_flow *fl, const struct w_seg *s)
{
	uint32_t end = s->seq + (uint32_t)s->len + !!(s->flags & W_SYN) + !!(s->flags & W_FIN);

	if (!fl)
		return;
	if (s->flags & W_SYN) {
		fl->peer_isn = s->seq;
		fl->peer_nxt = end;
	} else if (seq_after(end, fl->peer_nxt)) {
		fl->peer_nxt = end;
	}
	if (s->flags & W_ACK)
		fl->peer_ack = s->ack;
}

void w_send_seg(struct world *w, struct w_flow *fl, const struct w_seg *s)
{
	uint8_t f[W_MAXFRAME + 64];
	size_t n = w_build_tcp(w, f, sizeof(f), s);

	w_flow_note_peer(fl, s);
	if (n)
		w_inject(w, f, n);
}

size_t w_opts_syn(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	const uint8_t syn[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };

	memcpy(o, syn, sizeof(syn));
	put32(o + 8, tsval);
	put32(o + 12, tsecr);
	return sizeof(syn);
}

size_t w_opts_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, tsval);
	put32(o + 8, tsecr);
	return 12;
}

/* --------------------------------------------------------------- setup */

static struct sockaddr_in sin_of(uint32_t host_ip, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = w_addr(host_ip);
	a.sin_port = htons(port);
	return a;
}

/* The peer's SYN (standard options) on a new flow from rport. */
static struct w_flow *peer_syn(struct world *w, uint16_t rport)
{
	struct w_flow *fl = w_flow_get(w, W_PEER, W_LISTEN_PORT, rport);
	uint8_t o[40];
	struct w_seg s = { 0 };

	if (!fl)
		return NULL;
	s.sport = rport;
	s.dport = W_LISTEN_PORT;
	s.seq = fl->peer_isn;
	s.flags = W_SYN;
	s.win = 64240;
	s.opt = o;
	s.optlen = w_opts_syn(o, w_flow_peer_tsval(w, fl), 0);
	w_send_seg(w, fl, &s);
	return fl;
}

/* A segment on an established flow with TS and the peer's next seq;
 * acks everything the stack sent unless ack_all is false. */
static void peer_seg(struct world *w, struct w_flow *fl, uint8_t flags, const uint8_t *data, size_t len,
		     bool ack_all)
{
	uint8_t o[12];
	struct w_seg s = { 0 };

	s.sport = fl->rport;
	s.dport = fl->lport;
	s.seq = w_flow_rcv_nxt(fl);
	s.ack = ack_all ? fl->stack_nxt : fl->peer_ack;
	s.flags = flags;
	s.win = 229; /* 29312 bytes at scale 7 */
	s.opt = o;
	s.optlen = w_opts_ts(o, w_flow_peer_tsval(w, fl), fl->stack_tsval);
	s.data = data;
	s.len = len;
	w_send_seg(w, fl, &s);
}

static bool expect_state(struct world *w, int fd, int state, const char *what)
{
	int got = synack_tcp_state(w->st, fd);

	if (got == state)
		return true;
	fprintf(stderr, "fuzz world setup: %s: state %d, want %d\n", what, got, state);
	return false;
}

bool w_setup_frame_world(struct world *w, struct w_setup *su)
{
	struct sockaddr_in a = sin_of(0, W_LISTEN_PORT), peer;
	int fd;

	memset(su, 0, sizeof(*su));
	su->listener = su->conn = su->connecting = -1;
	a.sin_addr.s_addr = 0;
	su->listener = synack_socket(w->st);
	if (su->listener < 0 || synack_bind(w->st, su->listener, &a) || synack_listen(w->st, su->listener, 16))
		return false;
	w_fd_add(w, su->listener);

	/* TIME-WAIT: a passive connection the stack closes first. */
	su->tw = peer_syn(w, W_PEER_PORT + 2);
	if (!su->tw || !su->tw->acked)
		return false;
	peer_seg(w, su->tw, W_ACK, NULL, 0, true);
	fd = synack_accept(w->st, su->listener, &peer);
	if (fd < 0)
		return false;
	synack_close(w->st, fd);
	w_pump(w);
	peer_seg(w, su->tw, W_ACK | W_FIN, NULL, 0, true);
	w_advance(w, 10 * W_MS);

	/* A: established, data both ways, out-of-order data held. */
	su->a = peer_syn(w, W_PEER_PORT);
	if (!su->a || !su->a->acked)
		return false;
	peer_seg(w, su->a, W_ACK, NULL, 0, true);
	su->conn = synack_accept(w->st, su->listener, &peer);
	if (su->conn < 0)
		return false;
	w_fd_add(w, su->conn);
	w_advance(w, 5 * W_MS);
	if (synack_send(w->st, su->conn, w->txbuf, 3 * 1448, 0) != 3 * 1448)
		return false;
	w_pump(w);
	peer_seg(w, su->a, W_ACK | W_PSH, w->txbuf, 100, false);
	{
		struct w_seg s = { 0 };
		uint8_t o[12];
		s.sport = su->a->rport;
		s.dport = su->a->lport;
		s.seq = w_flow_rcv_nxt(su->a) + 1000;
		s.ack = su->a->peer_ack;
		s.flags = W_ACK;
		s.win = 229;
		s.opt = o;
		s.optlen = w_opts_ts(o, w_flow_peer_tsval(w, su->a), su->a->stack_tsval);
		s.data = w->txbuf;
		s.len = 200;
		w_send_seg(w, NULL, &s); /* out of order: peer_nxt stays */
	}

	/* B: a request sock waiting for the third ACK. */
	su->b = peer_syn(w, W_PEER_PORT + 1);
	if (!su->b || !su->b->acked)
		return false;

	/* C: our connect, in SYN_SENT. */
	a = sin_of(W_PEER, W_REMOTE_PORT);
	su->connecting = synack_socket(w->st);
	if (su->connecting < 0 || synack_connect(w->st, su->connecting, &a) != -EINPROGRESS)
		return false;
	w_fd_add(w, su->connecting);
	w_pump(w);
	su->c = w_flow_find(w, W_PEER, 0, W_REMOTE_PORT);
	for (unsigned i = 0; !su->c && i < w->nflows; i++)
		if (w->flows[i].rport == W_REMOTE_PORT && w->flows[i].raddr == W_PEER)
			su->c = &w->flows[i];
	if (!su->c)
		return false;
	return expect_state(w, su->listener, 10, "listener") && expect_state(w, su->conn, 1, "A") &&
	       expect_state(w, su->connecting, 2, "C");
}
