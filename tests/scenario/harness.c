/* The scenario harness (see harness.h). Written against the public API
 * only; its own checksum and option code, so the stack's are checked by an
 * independent implementation. */
#include "harness.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_ARP 0x0806

/* ------------------------------------------------------------ checksums */

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

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

/* The TCP checksum over the pseudo header (addresses in network order). */
static uint16_t tcp_csum(uint32_t saddr, uint32_t daddr, const uint8_t *seg, size_t len)
{
	uint8_t ph[12];
	uint32_t sum;

	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	sum = csum_add(0, ph, sizeof(ph));
	sum = csum_add(sum, seg, len);
	return csum_fold(sum);
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
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

uint32_t sc_addr(const char *dotted)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, dotted, &a);
	return a.s_addr;
}

/* ---------------------------------------------------------------- trace */

static void sc_trace_sink(void *ctx, const struct synack_trace_event *ev)
{
	struct sc *sc = ctx;
	struct sc_trace_rec *r;

	if (ev->kind == SYNACK_TRACE_FRAME_RX || ev->kind == SYNACK_TRACE_FRAME_TX)
		return;
	if (sc->ntrace == sc->trace_cap) {
		size_t cap = sc->trace_cap ? sc->trace_cap * 2 : 256;
		struct sc_trace_rec *n = realloc(sc->trace, cap * sizeof(*n));
		if (!n)
			return;
		sc->trace = n;
		sc->trace_cap = cap;
	}
	r = &sc->trace[sc->ntrace++];
	r->ts = ev->ts_ns;
	r->kind = ev->kind;
	snprintf(r->name, sizeof(r->name), "%s", ev->name ? ev->name : "");
	snprintf(r->text, sizeof(r->text), "%s", ev->text ? ev->text : "");
	if (sc->verbose)
		printf("    trace +%.3fs %s%s: %s\n", (double)(ev->ts_ns - SC_T0) / 1e9,
		       ev->kind == SYNACK_TRACE_DROP ? "DROP " : "", r->name, r->text);
}

size_t sc_trace_count(const struct sc *sc, const char *name, const char *substr)
{
	size_t n = 0;

	for (size_t i = 0; i < sc->ntrace; i++)
		if (!strcmp(sc->trace[i].name, name) && (!substr || strstr(sc->trace[i].text, substr)))
			n++;
	return n;
}

void sc_trace_clear(struct sc *sc) { sc->ntrace = 0; }

void sc_trace_dump(const struct sc *sc)
{
	for (size_t i = 0; i < sc->ntrace; i++)
		fprintf(stderr, "    trace +%.3fs %s: %s\n", (double)(sc->trace[i].ts - SC_T0) / 1e9, sc->trace[i].name,
			sc->trace[i].text);
}

/* ------------------------------------------------------------- lifetime */

struct sc *sc_new(const struct sc_opts *o)
{
	struct sc_opts def = { 0 };
	struct sc *sc = calloc(1, sizeof(*sc));
	struct synack_sim_config wc = { 0 };
	struct synack_stack_config cfg = { 0 };
	struct synack_if_config ic = { 0 };
	struct synack_link *l;

	if (!o)
		o = &def;
	if (!sc)
		abort();
	sc->verbose = o->verbose || getenv("SC_VERBOSE");
	sc->pkts = calloc(SC_MAXPKTS, sizeof(*sc->pkts));
	if (!sc->pkts)
		abort();
	sc->clk = synack_clock_new_virtual(SC_T0);
	wc.mtu = o->mtu;
	wc.seed = 7;
	if (!sc->clk || synack_sim_wire_new(sc->clk, &wc, &sc->wire) != 0)
		abort();
	cfg.clock = sc->clk;
	cfg.name = "synack";
	cfg.seeded = true;
	cfg.seed = o->seed ? o->seed : 1;
	if (synack_stack_new(&cfg, &sc->st) != 0)
		abort();
	synack_trace_set_sink(sc->st, sc_trace_sink, sc);
	l = synack_sim_wire_end(sc->wire, 0);
	sc->peer = synack_sim_wire_end(sc->wire, 1);
	memcpy(sc->local_mac, l->mac, 6);
	memcpy(sc->peer_mac, sc->peer->mac, 6);
	sc->local = sc_addr(SC_LOCAL);
	sc->remote = sc_addr(SC_PEER);
	sc->next_ip_id = 0x1000;
	ic.addr.s_addr = sc->local;
	ic.prefix_len = 24;
	if (o->gro)
		l->features |= SYNACK_LINK_F_GRO;
	if (synack_if_up(sc->st, l, &ic) != 0)
		abort();
	sc_run(sc);
	sc->npkts = sc->head = 0; /* the gratuitous ARP is not a test's business */
	return sc;
}

int sc_free(struct sc *sc)
{
	int errors;

	if (!sc)
		return 0;
	errors = sc->errors;
	synack_stack_free(sc->st);
	synack_sim_wire_free(sc->wire);
	synack_clock_free(sc->clk);
	free(sc->pkts);
	free(sc->trace);
	free(sc);
	return errors;
}

int sc_sysctl(struct sc *sc, const char *name, long val)
{
	int err = synack_sysctl_set(sc->st, name, val);

	if (err) {
		fprintf(stderr, "harness: sysctl %s=%ld: %d\n", name, val, err);
		sc->errors++;
	}
	return err;
}

uint64_t sc_mib(const struct sc *sc, const char *name)
{
	if (synack_mib_index(name) < 0) {
		fprintf(stderr, "harness: unknown counter %s\n", name);
		((struct sc *)sc)->errors++;
	}
	return synack_mib_value(sc->st, name);
}

int sc_state(struct sc *sc, int fd) { return synack_tcp_state(sc->st, fd); }

/* ------------------------------------------------------ parsing output */

static void parse_options(struct sc_pkt *p)
{
	size_t i = 0;

	p->mss = p->ws = -1;
	p->sackok = p->ts = false;
	while (i < p->optlen) {
		uint8_t kind = p->opt[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= p->optlen)
			break;
		len = p->opt[i + 1];
		if (len < 2 || i + len > p->optlen)
			break;
		if (kind == 2 && len == 4)
			p->mss = get16(&p->opt[i + 2]);
		else if (kind == 3 && len == 3)
			p->ws = p->opt[i + 2];
		else if (kind == 4 && len == 2)
			p->sackok = true;
		else if (kind == 8 && len == 10) {
			p->ts = true;
			p->tsval = get32(&p->opt[i + 2]);
			p->tsecr = get32(&p->opt[i + 6]);
		}
		i += len;
	}
}

static void opts_format(const uint8_t *o, size_t n, char *buf, size_t cap)
{
	size_t i = 0, w = 0;

	buf[0] = 0;
	while (i < n && w < cap) {
		uint8_t kind = o[i], len;
		const char *sep = w ? "," : "";

		if (kind == 0) {
			w += (size_t)snprintf(buf + w, cap - w, "%seol", sep);
			i++;
			continue;
		}
		if (kind == 1) {
			w += (size_t)snprintf(buf + w, cap - w, "%snop", sep);
			i++;
			continue;
		}
		len = i + 1 < n ? o[i + 1] : 0;
		if (len < 2 || i + len > n) {
			w += (size_t)snprintf(buf + w, cap - w, "%sbad[kind %u len %u]", sep, kind, len);
			break;
		}
		if (kind == 2 && len == 4)
			w += (size_t)snprintf(buf + w, cap - w, "%smss %u", sep, get16(o + i + 2));
		else if (kind == 3 && len == 3)
			w += (size_t)snprintf(buf + w, cap - w, "%swscale %u", sep, o[i + 2]);
		else if (kind == 4 && len == 2)
			w += (size_t)snprintf(buf + w, cap - w, "%ssackOK", sep);
		else if (kind == 8 && len == 10)
			w += (size_t)snprintf(buf + w, cap - w, "%sTS val %u ecr %u", sep, get32(o + i + 2),
					      get32(o + i + 6));
		else
			w += (size_t)snprintf(buf + w, cap - w, "%sopt-%u[%u]", sep, kind, len);
		i += len;
	}
}

static void flags_format(uint8_t f, char *b)
{
	static const char names[] = "FSRP.UEW";
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (f & (1u << i))
			b[n++] = names[i];
	if (!n)
		b[n++] = '-';
	b[n] = 0;
}

void sc_pkt_format(const struct sc_pkt *p, char *buf, size_t cap)
{
	char fl[10], opts[256], a[16], b[16];

	inet_ntop(AF_INET, &p->saddr, a, sizeof(a));
	inet_ntop(AF_INET, &p->daddr, b, sizeof(b));
	if (p->protocol != 6) {
		snprintf(buf, cap, "+%.3fs IP %s > %s proto %u ttl %u id %u%s", (double)(p->t - SC_T0) / 1e9, a, b,
			 p->protocol, p->ttl, p->ip_id, p->df ? " DF" : "");
		return;
	}
	flags_format(p->flags, fl);
	opts_format(p->opt, p->optlen, opts, sizeof(opts));
	snprintf(buf, cap, "+%.3fs %s:%u > %s:%u [%s] seq %u ack %u win %u len %zu <%s> ttl %u id %u%s",
		 (double)(p->t - SC_T0) / 1e9, a, p->sport, b, p->dport, fl, p->seq, p->ack, p->win, p->len, opts,
		 p->ttl, p->ip_id, p->df ? " DF" : "");
}

static void harness_error(struct sc *sc, const char *what, const uint8_t *f, size_t len)
{
	char buf[256];

	synack_format_frame(buf, sizeof(buf), f, len);
	fprintf(stderr, "harness: the stack sent a bad frame (%s): %s\n", what, buf);
	sc->errors++;
}

/* Parse an IPv4 frame from the stack strictly; queue it. */
static void capture_ip(struct sc *sc, const uint8_t *f, size_t len)
{
	struct sc_pkt *p;
	const uint8_t *ip = f + 14;
	size_t ihl, tot;

	if (len < 14 + 20)
		return harness_error(sc, "short IP", f, len);
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || 14 + tot > len)
		return harness_error(sc, "IP header", f, len);
	if (14 + tot != len && len != 60)
		return harness_error(sc, "frame longer than the IP packet", f, len);
	if (csum_fold(csum_add(0, ip, ihl)) != 0)
		return harness_error(sc, "IP checksum", f, len);
	if (memcmp(f, sc->peer_mac, 6) || memcmp(f + 6, sc->local_mac, 6))
		return harness_error(sc, "Ethernet addresses", f, len);
	if (sc->npkts == SC_MAXPKTS) {
		if (sc->head == 0)
			return harness_error(sc, "capture queue full", f, len);
		memmove(sc->pkts, sc->pkts + sc->head, (sc->npkts - sc->head) * sizeof(*sc->pkts));
		sc->npkts -= sc->head;
		sc->head = 0;
	}
	p = &sc->pkts[sc->npkts];
	memset(p, 0, sizeof(*p));
	p->t = sc_now(sc);
	memcpy(p->frame, f, len < sizeof(p->frame) ? len : sizeof(p->frame));
	p->frame_len = len;
	p->tos = ip[1];
	p->ip_id = get16(ip + 4);
	p->df = (get16(ip + 6) & 0x4000) != 0;
	p->ttl = ip[8];
	p->protocol = ip[9];
	memcpy(&p->saddr, ip + 12, 4);
	memcpy(&p->daddr, ip + 16, 4);
	p->mss = p->ws = -1;
	if (p->protocol == 6) {
		const uint8_t *th = ip + ihl;
		size_t tlen = tot - ihl, doff;

		if (tlen < 20)
			return harness_error(sc, "short TCP", f, len);
		doff = (size_t)(th[12] >> 4) * 4;
		if (doff < 20 || doff > tlen)
			return harness_error(sc, "TCP data offset", f, len);
		if (tcp_csum(p->saddr, p->daddr, th, tlen) != 0)
			return harness_error(sc, "TCP checksum", f, len);
		if (th[12] & 0x0f)
			return harness_error(sc, "TCP reserved bits", f, len);
		p->sport = get16(th);
		p->dport = get16(th + 2);
		p->seq = get32(th + 4);
		p->ack = get32(th + 8);
		p->doff = (uint8_t)(doff / 4);
		p->flags = th[13];
		p->win = get16(th + 14);
		p->urg = get16(th + 18);
		p->optlen = doff - 20;
		memcpy(p->opt, th + 20, p->optlen);
		p->data = p->frame + 14 + ihl + doff;
		p->len = tlen - doff;
		parse_options(p);
	}
	sc->npkts++;
	if (sc->verbose) {
		char buf[512];
		sc_pkt_format(p, buf, sizeof(buf));
		printf("    stack> %s\n", buf);
	}
}

/* Answer an ARP request for the peer; true if we sent something. */
static bool handle_arp(struct sc *sc, const uint8_t *f, size_t len)
{
	uint8_t r[60] = { 0 };
	const uint8_t *a = f + 14;

	if (len < 14 + 28 || get16(a + 6) != 1 || memcmp(a + 24, &sc->remote, 4) != 0)
		return false;
	memcpy(r, f + 6, 6);
	memcpy(r + 6, sc->peer_mac, 6);
	put16(r + 12, ETHERTYPE_ARP);
	put16(r + 14, 1);
	put16(r + 16, ETHERTYPE_IP);
	r[18] = 6;
	r[19] = 4;
	put16(r + 20, 2);
	memcpy(r + 22, sc->peer_mac, 6);
	memcpy(r + 28, &sc->remote, 4);
	memcpy(r + 32, a + 8, 6);
	memcpy(r + 38, a + 14, 4);
	sc->peer->ops->send(sc->peer, r, sizeof(r));
	sc->arp_replies++;
	return true;
}

/* Take what the stack sent; true if the peer answered something (ARP). */
static bool drain_wire(struct sc *sc)
{
	uint8_t f[2048];
	bool sent = false;
	int n;

	while ((n = sc->peer->ops->recv(sc->peer, f, sizeof(f))) > 0) {
		size_t len = (size_t)n;
		uint16_t type;

		if (len < 14)
			continue;
		type = get16(f + 12);
		if (type == ETHERTYPE_ARP)
			sent |= handle_arp(sc, f, len);
		else if (type == ETHERTYPE_IP)
			capture_ip(sc, f, len);
	}
	return sent;
}

/* ---------------------------------------------------------------- time */

uint64_t sc_now(const struct sc *sc) { return synack_clock_now(sc->clk); }

/* Run everything due at the current time, answering ARP as it comes. */
static void pump(struct sc *sc)
{
	struct stack *sts[1] = { sc->st };

	for (int i = 0; i < 100; i++) {
		synack_run_virtual(sc->clk, sts, 1, sc_now(sc));
		if (!drain_wire(sc))
			return;
	}
	fprintf(stderr, "harness: the stack keeps asking ARP\n");
	sc->errors++;
}

void sc_run(struct sc *sc) { pump(sc); }

void sc_run_until(struct sc *sc, uint64_t until)
{
	pump(sc);
	for (;;) {
		uint64_t now = sc_now(sc), next = synack_stack_next_deadline(sc->st);

		if (next <= now)
			next = now + SC_NS_PER_MS;
		if (next > until)
			break;
		synack_clock_set(sc->clk, next);
		pump(sc);
	}
	if (until > sc_now(sc)) {
		synack_clock_set(sc->clk, until);
		pump(sc);
	}
}

void sc_advance(struct sc *sc, uint64_t ns) { sc_run_until(sc, sc_now(sc) + ns); }

/* ---------------------------------------------------------------- peer */

void sc_inject_frame(struct sc *sc, const void *frame, size_t len)
{
	int err = sc->peer->ops->send(sc->peer, frame, len);

	if (err) {
		fprintf(stderr, "harness: the wire refused a frame: %d\n", err);
		sc->errors++;
	}
	if (!sc->burst)
		pump(sc);
}

static size_t build_ip(struct sc *sc, uint8_t *f, uint8_t proto, const uint8_t *payload, size_t plen,
		       const struct sc_seg *s)
{
	uint8_t *ip = f + 14;
	uint32_t saddr = s && s->saddr.set ? s->saddr.v : sc->remote;
	uint32_t daddr = s && s->daddr.set ? s->daddr.v : sc->local;
	uint16_t id = s && s->ip_id.set ? (uint16_t)s->ip_id.v : sc->next_ip_id++;

	memcpy(f, sc->local_mac, 6);
	memcpy(f + 6, sc->peer_mac, 6);
	put16(f + 12, ETHERTYPE_IP);
	ip[0] = 0x45;
	ip[1] = s ? s->tos : 0;
	put16(ip + 2, (uint16_t)(20 + plen));
	put16(ip + 4, id);
	put16(ip + 6, s && s->no_df ? 0 : 0x4000);
	ip[8] = s && s->ttl ? s->ttl : 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	if (s && s->bad_ip_csum)
		ip[11] ^= 0x5a;
	memcpy(ip + 20, payload, plen);
	return 14 + 20 + plen;
}

void sc_inject(struct sc *sc, const struct sc_seg *s)
{
	uint8_t seg[1600], f[1700];
	size_t optlen = (s->optlen + 3) & ~(size_t)3, hl = 20 + optlen, len, flen;
	uint32_t saddr = s->saddr.set ? s->saddr.v : sc->remote;
	uint32_t daddr = s->daddr.set ? s->daddr.v : sc->local;

	if (optlen > 40 || hl + s->len > 1480) {
		fprintf(stderr, "harness: segment too large\n");
		sc->errors++;
		return;
	}
	memset(seg, 0, hl);
	put16(seg, s->sport);
	put16(seg + 2, s->dport);
	put32(seg + 4, s->seq);
	put32(seg + 8, s->ack);
	seg[12] = (uint8_t)((s->doff.set ? s->doff.v : hl / 4) << 4);
	seg[13] = s->flags;
	put16(seg + 14, s->win);
	put16(seg + 18, s->urg);
	memcpy(seg + 20, s->opt, s->optlen);
	if (s->len)
		memcpy(seg + hl, s->data, s->len);
	len = hl + s->len;
	put16(seg + 16, tcp_csum(saddr, daddr, seg, len));
	if (s->bad_csum)
		seg[17] ^= 0x01;
	memset(f, 0, sizeof(f));
	flen = build_ip(sc, f, 6, seg, len, s);
	if (s->truncate)
		flen = s->truncate + 14 < flen ? flen - s->truncate : 14;
	else if (flen < 60)
		flen = 60; /* Ethernet padding, as a NIC adds */
	sc_inject_frame(sc, f, flen);
}

void sc_inject_icmp(struct sc *sc, uint8_t type, uint8_t code, const struct sc_pkt *q)
{
	uint8_t body[8 + 60 + 8], f[200];
	size_t ihl = (size_t)(q->frame[14] & 0x0f) * 4, n = 8 + ihl + 8;

	memset(body, 0, sizeof(body));
	body[0] = type;
	body[1] = code;
	memcpy(body + 8, q->frame + 14, ihl + 8);
	put16(body + 2, csum_fold(csum_add(0, body, n)));
	memset(f, 0, sizeof(f));
	sc_inject_frame(sc, f, build_ip(sc, f, 1, body, n, NULL));
}

/* --------------------------------------------------------------- expect */

size_t sc_pending(const struct sc *sc) { return sc->npkts - sc->head; }

void sc_drain(struct sc *sc) { sc->head = sc->npkts; }

const struct sc_pkt *sc_pop(struct sc *sc)
{
	if (sc->head == sc->npkts)
		return NULL;
	sc->last = sc->pkts[sc->head++];
	if (sc->last.data) /* only TCP segments have one */
		sc->last.data = sc->last.frame + (sc->pkts[sc->head - 1].data - sc->pkts[sc->head - 1].frame);
	return &sc->last;
}

static void want_format(const struct sc_want *w, char *buf, size_t cap)
{
	char fl[10], opts[256] = "";
	size_t n = 0;

	flags_format(w->flags, fl);
	n += (size_t)snprintf(buf + n, cap - n, "[%s]", fl);
#define WF(field, fmt)                                                                  \
	if (w->field.set && n < cap)                                                    \
		n += (size_t)snprintf(buf + n, cap - n, " " #field " " fmt, w->field.v);
	WF(seq, "%u")
	WF(ack, "%u")
	WF(win, "%u")
	WF(len, "%u")
	WF(sport, "%u")
	WF(dport, "%u")
	WF(tsval, "%u")
	WF(tsecr, "%u")
	WF(ttl, "%u")
	WF(df, "%u")
	WF(ip_id, "%u")
	WF(tos, "%u")
#undef WF
	if (w->t.set && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, " at +%.3fs", (double)(w->t.v - SC_T0) / 1e9);
	if (w->has_opt && n < cap) {
		opts_format(w->opt, w->optlen, opts, sizeof(opts));
		snprintf(buf + n, cap - n, " <%s>", opts);
	}
}

/* The option bytes match, with a TS option's TSval a wildcard unless asked. */
static bool opts_match(const struct sc_want *w, const struct sc_pkt *p)
{
	size_t i = 0;

	if (w->optlen != p->optlen)
		return false;
	while (i < w->optlen) {
		uint8_t kind = w->opt[i];

		if (kind == 8 && i + 10 <= w->optlen && w->opt[i + 1] == 10) {
			if (memcmp(w->opt + i, p->opt + i, 2) || memcmp(w->opt + i + 6, p->opt + i + 6, 4))
				return false;
			if (w->tsval.set && memcmp(w->opt + i + 2, p->opt + i + 2, 4))
				return false;
			i += 10;
			continue;
		}
		if (w->opt[i] != p->opt[i])
			return false;
		i++;
	}
	return true;
}

const struct sc_pkt *sc_expect_(struct sc *sc, const struct sc_want *w, const char *file, int line)
{
	const struct sc_pkt *p = sc_pop(sc);
	char diff[512] = "", a[512], b[512];
	size_t n = 0;

	if (!p) {
		want_format(w, a, sizeof(a));
		fprintf(stderr, "%s:%d: expected a segment, the stack sent nothing\n  want: %s\n", file, line, a);
		return NULL;
	}
#define D(...) (n += n < sizeof(diff) ? (size_t)snprintf(diff + n, sizeof(diff) - n, __VA_ARGS__) : 0)
	if (p->protocol != 6) {
		D(" not TCP");
	} else {
		if (p->flags != w->flags)
			D(" flags");
#define CMP(field, got)                                                                  \
	if (w->field.set && (uint32_t)(got) != w->field.v)                                 \
		D(" " #field "(%u != %u)", (unsigned)(got), (unsigned)w->field.v);
		CMP(seq, p->seq)
		CMP(ack, p->ack)
		CMP(win, p->win)
		CMP(len, p->len)
		CMP(sport, p->sport)
		CMP(dport, p->dport)
		CMP(ttl, p->ttl)
		CMP(df, p->df)
		CMP(ip_id, p->ip_id)
		CMP(tos, p->tos)
		if (w->tsval.set && (!p->ts || p->tsval != w->tsval.v))
			D(" tsval");
		if (w->tsecr.set && (!p->ts || p->tsecr != w->tsecr.v))
			D(" tsecr");
#undef CMP
		if (w->has_opt && !opts_match(w, p))
			D(" options");
		if (w->t.set && p->t != w->t.v)
			D(" time(+%.3fs != +%.3fs)", (double)(p->t - SC_T0) / 1e9, (double)(w->t.v - SC_T0) / 1e9);
		if (w->data && w->len.set && (p->len != w->len.v || memcmp(p->data, w->data, p->len)))
			D(" payload");
		if (!p->saddr || p->saddr != sc->local || p->daddr != sc->remote)
			D(" addresses");
	}
#undef D
	if (!n)
		return p;
	sc_pkt_format(p, a, sizeof(a));
	want_format(w, b, sizeof(b));
	fprintf(stderr, "%s:%d: segment mismatch:%s\n  got:  %s\n  want: %s\n", file, line, diff, a, b);
	return NULL;
}

bool sc_none_(struct sc *sc, const char *file, int line)
{
	char a[512];

	if (sc_pending(sc) == 0)
		return true;
	fprintf(stderr, "%s:%d: expected no segment, the stack sent %zu:\n", file, line, sc_pending(sc));
	for (size_t i = sc->head; i < sc->npkts; i++) {
		sc_pkt_format(&sc->pkts[i], a, sizeof(a));
		fprintf(stderr, "  got:  %s\n", a);
	}
	sc->head = sc->npkts;
	return false;
}

/* -------------------------------------------------------------- sockets */

struct sockaddr_in sc_sin(const char *addr, uint16_t port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	s.sin_addr.s_addr = sc_addr(addr);
	return s;
}

int sc_socket(struct sc *sc) { return synack_socket(sc->st); }

int sc_connect(struct sc *sc, uint16_t rport, int *err)
{
	struct sockaddr_in to = sc_sin(SC_PEER, rport);
	int fd = synack_socket(sc->st), e;

	if (fd < 0) {
		if (err)
			*err = fd;
		return fd;
	}
	e = synack_connect(sc->st, fd, &to);
	if (err)
		*err = e;
	sc_run(sc);
	return fd;
}

int sc_listen(struct sc *sc, uint16_t port, int backlog)
{
	struct sockaddr_in a = sc_sin("0.0.0.0", port);
	int fd = synack_socket(sc->st), err;

	if (fd < 0)
		return fd;
	err = synack_bind(sc->st, fd, &a);
	if (!err)
		err = synack_listen(sc->st, fd, backlog);
	return err ? err : fd;
}

int sc_setsockopt_int(struct sc *sc, int fd, int level, int name, int val)
{
	return synack_setsockopt(sc->st, fd, level, name, &val, sizeof(val));
}

int sc_so_error(struct sc *sc, int fd)
{
	int v = -1;
	unsigned int len = sizeof(v);
	int err = synack_getsockopt(sc->st, fd, SOL_SOCKET, SO_ERROR, &v, &len);

	return err ? err : v;
}

/* ----------------------------------------------------- connection helpers */

struct sc_seg sc_seg_for(const struct sc_conn *c, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct sc_seg s;

	memset(&s, 0, sizeof(s));
	s.sport = c->rport;
	s.dport = c->lport;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = SC_PEER_WIN >> SC_PEER_WS;
	return s;
}

void sc_seg_ts(struct sc_seg *s, uint32_t val, uint32_t ecr)
{
	uint8_t *o = s->opt + s->optlen;

	if (s->optlen + 12 > SC_MAXOPT)
		return;
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, val);
	put32(o + 8, ecr);
	s->optlen += 12;
	s->has_opt = true;
}

static uint32_t ms_since(const struct sc *sc, uint64_t t) { return (uint32_t)((sc_now(sc) - t) / SC_NS_PER_MS); }

bool sc_open_active_(struct sc *sc, struct sc_conn *c, uint16_t rport, const char *file, int line)
{
	const struct sc_pkt *p;
	int err = 0;

	memset(c, 0, sizeof(*c));
	c->listener = -1;
	c->rport = rport;
	c->irs = SC_PEER_ISN;
	c->peer_ts = SC_PEER_TS;
	c->fd = sc_connect(sc, rport, &err);
	if (c->fd < 0 || err != -EINPROGRESS) {
		fprintf(stderr, "%s:%d: socket/connect: fd %d err %d (want -EINPROGRESS)\n", file, line, c->fd, err);
		return false;
	}
	p = sc_expect_(sc,
		       &(struct sc_want){ .flags = F_SYN, .ack = V(0), .win = V(64240), .dport = V(rport),
					  OPT(O_MSS(1460), O_SACKOK, O_TS(0, 0), O_NOP, O_WS(10)), .len = V(0) },
		       file, line);
	if (!p)
		return false;
	c->syn = *p;
	c->lport = p->sport;
	c->iss = p->seq;
	c->tsval = p->tsval;
	c->syn_t = p->t;
	return true;
}

bool sc_establish_active_(struct sc *sc, struct sc_conn *c, const char *file, int line)
{
	struct sc_seg s = sc_seg_for(c, F_SYN | F_ACK, c->irs, c->iss + 1);
	const struct sc_pkt *p;
	uint32_t tsval = c->tsval + ms_since(sc, c->syn_t);

	s.win = SC_PEER_WIN;
	s.has_opt = true;
	{
		const uint8_t o[] = { O_MSS(1460), O_SACKOK, O_TS(c->peer_ts, c->tsval), O_NOP, O_WS(SC_PEER_WS) };
		memcpy(s.opt, o, sizeof(o));
		s.optlen = sizeof(o);
	}
	sc_inject(sc, &s);
	p = sc_expect_(sc,
		       &(struct sc_want){ .flags = F_ACK, .seq = V(c->iss + 1), .ack = V(c->irs + 1), .win = V(63),
					  OPT(O_NOP, O_NOP, O_TS(tsval, c->peer_ts)), .tsval = V(tsval), .len = V(0) },
		       file, line);
	if (!p)
		return false;
	c->tsval = p->tsval;
	c->peer_ts++;
	if (synack_tcp_state(sc->st, c->fd) != TCP_ESTABLISHED) {
		fprintf(stderr, "%s:%d: state %d after the handshake, want ESTABLISHED\n", file, line,
			synack_tcp_state(sc->st, c->fd));
		return false;
	}
	return true;
}

bool sc_open_passive_(struct sc *sc, struct sc_conn *c, uint16_t lport, int backlog, const char *file, int line)
{
	struct sc_seg s;
	const struct sc_pkt *p;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->lport = lport;
	c->rport = SC_PEER_PORT;
	c->irs = SC_PEER_ISN;
	c->peer_ts = SC_PEER_TS;
	c->listener = sc_listen(sc, lport, backlog);
	if (c->listener < 0) {
		fprintf(stderr, "%s:%d: listen: %d\n", file, line, c->listener);
		return false;
	}
	s = sc_seg_for(c, F_SYN, c->irs, 0);
	s.win = SC_PEER_WIN;
	s.has_opt = true;
	{
		const uint8_t o[] = { O_MSS(1460), O_SACKOK, O_TS(c->peer_ts, 0), O_NOP, O_WS(SC_PEER_WS) };
		memcpy(s.opt, o, sizeof(o));
		s.optlen = sizeof(o);
	}
	sc_inject(sc, &s);
	p = sc_expect_(sc,
		       &(struct sc_want){ .flags = F_SYN | F_ACK, .ack = V(c->irs + 1), .win = V(65160),
					  .sport = V(lport), .dport = V(c->rport),
					  OPT(O_MSS(1460), O_SACKOK, O_TS(0, c->peer_ts), O_NOP, O_WS(10)),
					  .len = V(0) },
		       file, line);
	if (!p)
		return false;
	c->syn = *p;
	c->iss = p->seq;
	c->tsval = p->tsval;
	c->syn_t = p->t;
	c->peer_ts++;
	return true;
}

bool sc_establish_passive_(struct sc *sc, struct sc_conn *c, const char *file, int line)
{
	struct sc_seg s = sc_seg_for(c, F_ACK, c->irs + 1, c->iss + 1);
	struct sockaddr_in peer;

	sc_seg_ts(&s, c->peer_ts++, c->tsval);
	sc_inject(sc, &s);
	if (!sc_none_(sc, file, line))
		return false;
	memset(&peer, 0, sizeof(peer));
	c->fd = synack_accept(sc->st, c->listener, &peer);
	if (c->fd < 0) {
		fprintf(stderr, "%s:%d: accept: %d\n", file, line, c->fd);
		return false;
	}
	if (peer.sin_addr.s_addr != sc->remote || ntohs(peer.sin_port) != c->rport) {
		fprintf(stderr, "%s:%d: accept: wrong peer\n", file, line);
		return false;
	}
	if (synack_tcp_state(sc->st, c->fd) != TCP_ESTABLISHED) {
		fprintf(stderr, "%s:%d: child state %d, want ESTABLISHED\n", file, line, synack_tcp_state(sc->st, c->fd));
		return false;
	}
	return true;
}

bool sc_establish_active_ex_(struct sc *sc, struct sc_conn *c, const struct sc_synack_opts *o, const char *file,
			     int line)
{
	struct sc_seg s = sc_seg_for(c, F_SYN | F_ACK, c->irs, c->iss + 1);
	const struct sc_pkt *p;
	uint32_t tsval;
	size_t n = 0;

	if (o->rtt)
		sc_advance(sc, o->rtt);
	tsval = c->tsval + ms_since(sc, c->syn_t);
	s.win = SC_PEER_WIN;
	s.has_opt = true;
	{
		const uint8_t mss[] = { O_MSS(1460) }, sack[] = { O_SACKOK }, nops[] = { O_NOP, O_NOP },
			      ts[] = { O_TS(c->peer_ts, c->tsval) }, ws[] = { O_NOP, O_WS(SC_PEER_WS) };
		memcpy(s.opt + n, mss, sizeof(mss));
		n += sizeof(mss);
		memcpy(s.opt + n, o->no_sack ? nops : sack, 2);
		n += 2;
		memcpy(s.opt + n, ts, sizeof(ts));
		n += sizeof(ts);
		memcpy(s.opt + n, ws, sizeof(ws));
		n += sizeof(ws);
		s.optlen = n;
	}
	sc_inject(sc, &s);
	p = sc_expect_(sc,
		       &(struct sc_want){ .flags = F_ACK, .seq = V(c->iss + 1), .ack = V(c->irs + 1),
					  .win = V(o->ack_win ? o->ack_win : 63),
					  OPT(O_NOP, O_NOP, O_TS(tsval, c->peer_ts)), .tsval = V(tsval), .len = V(0) },
		       file, line);
	if (!p)
		return false;
	c->tsval = p->tsval;
	c->peer_ts++;
	if (synack_tcp_state(sc->st, c->fd) != TCP_ESTABLISHED) {
		fprintf(stderr, "%s:%d: state %d after the handshake, want ESTABLISHED\n", file, line,
			synack_tcp_state(sc->st, c->fd));
		return false;
	}
	return true;
}
