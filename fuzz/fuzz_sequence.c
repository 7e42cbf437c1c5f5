/*
 * fuzz_sequence: a script of frames, clock moves and socket calls, decoded
 * from the input (sequence.h gives the encoding), run against one stack on
 * a virtual clock.
 *
 * Segments are built relative to what the peer knows of each connection
 * (world.h's flows: the stack's last ACK, its snd_nxt, its TSval, its Fast
 * Open cookie), so a mutated input still lands in the window most of the
 * time and reaches deep states: every TCP state, recovery, the timers. Raw
 * frames, raw IP packets and raw TCP headers cover the rest. Sockets are
 * opened, connected, accepted, fed, drained, shut down, closed and tuned
 * with every option synack knows, with values from a table of edges.
 *
 * Besides the sanitizers, the checks are world.h's (every frame the stack
 * sends is well formed) and the API's promises: a read never returns more
 * than asked, getsockopt never writes more than the length given.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include "sequence.h"
#include "world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Linux's option numbers, for libcs that lack them. */
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif
#ifndef TCP_FASTOPEN_KEY
#define TCP_FASTOPEN_KEY 33
#endif
#ifndef TCP_FASTOPEN_NO_COOKIE
#define TCP_FASTOPEN_NO_COOKIE 34
#endif

#define MAX_OPS 1024

struct rd {
	const uint8_t *p;
	size_t n, i;
};

static uint8_t u8(struct rd *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static uint16_t u16(struct rd *r)
{
	uint16_t hi = u8(r);
	return (uint16_t)(hi << 8 | u8(r));
}
static uint32_t u32(struct rd *r)
{
	uint32_t hi = u16(r);
	return hi << 16 | u16(r);
}
/* Up to n bytes of the input itself; *got says how many. */
static const uint8_t *bytes(struct rd *r, size_t n, size_t *got)
{
	const uint8_t *p = r->p + r->i;

	if (n > r->n - r->i)
		n = r->n - r->i;
	r->i += n;
	*got = n;
	return p;
}

static const uint32_t SEQ_MTUS[8] = { 1500, 1280, 576, 296, 68, 9000, 1500, 1500 };
static const uint16_t SEQ_PORTS[] = { 0, 8080, 8081, 80, 22, 1, 65535, 32768, 60999, 61000, 50000 };
static const int SEQ_VALUES[] = { 0, 1, -1, 2, 3, 5, 7, 10, 30, 88, 536, 1000, 1460, 4096, 65535, 65536,
				  1 << 20, INT_MAX, INT_MIN, 100000, 127, 255, 256, 32767 };
static const int SEQ_BACKLOGS[] = { 16, 0, 1, 2, 128, -1, INT_MAX, 4096, 5000 };
static const uint64_t SEQ_TIMES[16] = {
	0,          1 * W_MS,   5 * W_MS,   40 * W_MS,  100 * W_MS,  200 * W_MS,  500 * W_MS,    1 * W_SEC,
	3 * W_SEC,  10 * W_SEC, 30 * W_SEC, 60 * W_SEC, 120 * W_SEC, 600 * W_SEC, 3600 * W_SEC, 7200 * W_SEC,
};
static const uint8_t SEQ_ICMP[][2] = { { 3, 0 }, { 3, 1 },  { 3, 2 },  { 3, 3 }, { 3, 4 }, { 3, 13 },
				       { 11, 0 }, { 11, 1 }, { 12, 0 }, { 4, 0 }, { 5, 1 }, { 0, 0 } };
static const struct {
	int level, name;
} SEQ_OPTS[] = {
	{ SOL_SOCKET, SO_REUSEADDR },   { SOL_SOCKET, SO_SNDBUF },        { SOL_SOCKET, SO_RCVBUF },
	{ SOL_SOCKET, SO_KEEPALIVE },   { SOL_SOCKET, SO_LINGER },        { SOL_SOCKET, SO_RCVLOWAT },
	{ SOL_SOCKET, SO_ERROR },       { IPPROTO_TCP, TCP_MAXSEG },      { IPPROTO_TCP, TCP_NODELAY },
	{ IPPROTO_TCP, TCP_CORK },      { IPPROTO_TCP, TCP_KEEPIDLE },    { IPPROTO_TCP, TCP_KEEPINTVL },
	{ IPPROTO_TCP, TCP_KEEPCNT },   { IPPROTO_TCP, TCP_LINGER2 },     { IPPROTO_TCP, TCP_SYNCNT },
	{ IPPROTO_TCP, TCP_QUICKACK },  { IPPROTO_TCP, TCP_DEFER_ACCEPT }, { IPPROTO_TCP, TCP_FASTOPEN },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT }, { IPPROTO_TCP, TCP_CONGESTION }, { IPPROTO_TCP, TCP_INFO },
	{ SOL_SOCKET, SO_TYPE },        { SOL_SOCKET, SO_ACCEPTCONN },    { SOL_SOCKET, SO_PROTOCOL },
	{ 0, 1 },                       { IPPROTO_TCP, 999 },             { SOL_SOCKET, 999 },
	{ IPPROTO_TCP, TCP_FASTOPEN_CONNECT }, { IPPROTO_TCP, TCP_FASTOPEN_KEY }, { IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE },
	{ SOL_SOCKET, SO_RCVTIMEO },    { SOL_SOCKET, SO_SNDTIMEO },
};
#define N_OPTS (sizeof(SEQ_OPTS) / sizeof(SEQ_OPTS[0]))
static const char *const SEQ_SYSCTLS[] = {
	"net.ipv4.tcp_timestamps",      "net.ipv4.tcp_sack",            "net.ipv4.tcp_window_scaling",
	"net.ipv4.tcp_syncookies",      "net.ipv4.tcp_fastopen",        "net.ipv4.tcp_ecn",
	"net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_synack_retries",  "net.ipv4.tcp_syn_retries",
	"net.ipv4.tcp_abort_on_overflow", "net.ipv4.tcp_rfc1337",       "net.ipv4.tcp_tw_reuse",
	"net.ipv4.tcp_fin_timeout",     "net.ipv4.tcp_retries2",        "net.ipv4.tcp_orphan_retries",
	"net.ipv4.tcp_max_tw_buckets",  "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_dsack",          "net.ipv4.tcp_recovery",
	"net.ipv4.tcp_early_retrans",   "net.ipv4.tcp_reordering",      "net.ipv4.tcp_slow_start_after_idle",
	"net.ipv4.tcp_rmem_default",    "net.ipv4.tcp_wmem_default",    "net.ipv4.tcp_rmem_max",
	"net.core.somaxconn",           "net.core.rmem_max",            "net.core.wmem_max",
	"net.ipv4.tcp_workaround_signed_windows", "net.ipv4.tcp_challenge_ack_limit",
	"net.ipv4.tcp_invalid_ratelimit", "net.ipv4.tcp_syn_linear_timeouts", "net.ipv4.tcp_app_win",
	"net.ipv4.ip_default_ttl",      "net.ipv4.ipfrag_time",         "net.ipv4.ipfrag_high_thresh",
	"net.ipv4.icmp_ratelimit",      "net.ipv4.icmp_echo_ignore_all", "net.ipv4.neigh.default.unres_qlen",
	"net.ipv4.neigh.default.mcast_solicit", "net.ipv4.ip_local_port_range_lo",
	"net.ipv4.ip_local_port_range_hi", "net.ipv4.tcp_retries1",     "net.ipv4.tcp_moderate_rcvbuf",
	"net.ipv4.tcp_fastopen_blackhole_timeout_sec", "net.ipv4.tcp_fastopen_key", "net.ipv4.nonexistent",
};
#define N_SYSCTLS (sizeof(SEQ_SYSCTLS) / sizeof(SEQ_SYSCTLS[0]))

#define MAX_EP 4

struct ctx {
	struct world *w;
	struct rd r;
	int epfds[MAX_EP];          /* epoll instances (-1: none) */
};

#define LOG(c, ...)                                           \
	do {                                                  \
		if ((c)->w->verbose)                          \
			fprintf(stderr, __VA_ARGS__);         \
	} while (0)

/* ------------------------------------------------------------ choices */

static int value(struct rd *r)
{
	uint8_t c = u8(r);

	if (c >= 0xf0)
		return (int)u32(r);
	return SEQ_VALUES[c % (sizeof(SEQ_VALUES) / sizeof(SEQ_VALUES[0]))];
}

static uint16_t port(struct rd *r)
{
	uint8_t c = u8(r);

	if (c >= 0xf0)
		return u16(r);
	return SEQ_PORTS[c % (sizeof(SEQ_PORTS) / sizeof(SEQ_PORTS[0]))];
}

static int backlog(struct rd *r)
{
	uint8_t c = u8(r);

	if (c >= 0xf0)
		return (int)u32(r);
	return SEQ_BACKLOGS[c % (sizeof(SEQ_BACKLOGS) / sizeof(SEQ_BACKLOGS[0]))];
}

static int slot_fd(struct ctx *c, uint8_t b)
{
	int fd = c->w->fds[b % W_MAXFDS];

	if (fd >= 0)
		return fd;
	return (b & 0x80) ? -1 : 63;
}

static void slot_clear(struct ctx *c, int fd)
{
	for (int i = 0; i < W_MAXFDS; i++)
		if (c->w->fds[i] == fd)
			c->w->fds[i] = -1;
}

static struct sockaddr_in sin_host(uint32_t host, uint16_t p)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = w_addr(host);
	a.sin_port = htons(p);
	return a;
}

static struct sockaddr_in bind_addr(struct rd *r)
{
	uint8_t c = u8(r);
	uint16_t p = port(r);
	struct sockaddr_in a;

	switch (c % 6) {
	case 1:
		return sin_host(W_LOCAL, p);
	case 2:
		return sin_host(W_PEER, p);
	case 3:
		return sin_host(0xffffffffu, p);
	case 4:
		a = sin_host(0, p);
		a.sin_family = AF_UNSPEC;
		return a;
	case 5:
		a = sin_host(0, p);
		a.sin_family = AF_INET6;
		return a;
	default:
		return sin_host(0, p);
	}
}

static struct sockaddr_in connect_addr(struct rd *r)
{
	static const uint32_t addrs[] = { W_PEER, W_OTHER, W_FAR, W_LOCAL, 0, 0xffffffffu, 0xc00002ffu, 0xe0000001u };
	uint8_t c = u8(r);
	struct sockaddr_in a = sin_host(addrs[c % 8], 0);

	a.sin_port = htons(port(r));
	if (c & 0x80)
		a.sin_family = AF_UNSPEC;
	return a;
}

/* ------------------------------------------------------------ segments */

static struct w_flow *pick_flow(struct ctx *c, uint8_t b)
{
	struct world *w = c->w;

	if (!w->nflows)
		return w_flow_get(w, W_PEER, W_LISTEN_PORT, W_PEER_PORT);
	return &w->flows[b % w->nflows];
}

static uint32_t seq_delta(struct rd *r, uint8_t mode)
{
	static const uint32_t scale[4] = { 1, 8, 1448, 65536 };

	if (!(mode & MODE_DELTA))
		return 0;
	return (uint32_t)(int32_t)(int16_t)u16(r) * scale[(mode >> 2) & 3];
}

struct segbuf {
	struct w_seg s;
	uint8_t opt[64];
};

/* The option block of segopts; returns its length (at most 40). */
static size_t seg_options(struct ctx *c, struct w_flow *fl, uint8_t mask, uint32_t ack, uint8_t *o)
{
	struct world *w = c->w;
	struct rd *r = &c->r;
	uint8_t tmp[128];
	size_t n = 0, got;

	if (mask & SEG_O_MSS) {
		uint16_t mss = u16(r);
		if (!mss)
			mss = 1460;
		tmp[n++] = 2;
		tmp[n++] = 4;
		tmp[n++] = (uint8_t)(mss >> 8);
		tmp[n++] = (uint8_t)mss;
	}
	if (mask & SEG_O_WS) {
		tmp[n++] = 1;
		tmp[n++] = 3;
		tmp[n++] = 3;
		tmp[n++] = u8(r);
	}
	if (mask & SEG_O_SACKOK) {
		tmp[n++] = 4;
		tmp[n++] = 2;
	}
	if (mask & SEG_O_TS) {
		uint8_t m = u8(r);
		uint32_t val = w_flow_peer_tsval(w, fl), ecr = fl->stack_ts ? fl->stack_tsval : 0;
		if ((m & 3) == 1)
			val -= 0x10000000u;
		else if ((m & 3) == 2)
			val = u32(r);
		else if ((m & 3) == 3)
			ecr = u32(r);
		n += w_opts_ts(tmp + n, val, ecr);
	}
	if (mask & SEG_O_SACK) {
		static const uint32_t unit[4] = { 1, 100, 536, 1448 };
		uint8_t b = u8(r);
		int nb = (b & 3) + 1;
		tmp[n++] = 1;
		tmp[n++] = 1;
		tmp[n++] = 5;
		tmp[n++] = (uint8_t)(2 + 8 * nb);
		for (int i = 0; i < nb; i++) {
			uint32_t start = ack + (uint32_t)(int32_t)(int8_t)u8(r) * unit[(b >> 2) & 3];
			uint32_t end = start + ((uint32_t)u8(r) + 1) * unit[(b >> 2) & 3];
			for (int k = 0; k < 4; k++)
				tmp[n++] = (uint8_t)(start >> (24 - 8 * k));
			for (int k = 0; k < 4; k++)
				tmp[n++] = (uint8_t)(end >> (24 - 8 * k));
		}
	}
	if (mask & SEG_O_TFO) {
		uint8_t m = u8(r);
		const uint8_t *ck = fl->cookie_len ? fl->cookie : w->cookie;
		size_t clen = fl->cookie_len ? fl->cookie_len : w->cookie_len;
		if ((m & 3) == 1)
			clen = 0;
		else if ((m & 3) == 2) {
			clen = u8(r) % 19;
			ck = bytes(r, clen, &clen);
		}
		if ((m & 3) == 3) {
			tmp[n++] = 254;
			tmp[n++] = (uint8_t)(4 + clen);
			tmp[n++] = 0xf9;
			tmp[n++] = 0x89;
		} else {
			tmp[n++] = 34;
			tmp[n++] = (uint8_t)(2 + clen);
		}
		memcpy(tmp + n, ck, clen);
		n += clen;
	}
	if (mask & SEG_O_RAW) {
		size_t len = u8(r) % 41;
		const uint8_t *p = bytes(r, len, &got);
		memcpy(tmp + n, p, got);
		n += got;
	}
	if (n > 40)
		n = 40;
	memcpy(o, tmp, n);
	return n;
}

static size_t payload_len(struct rd *r)
{
	uint8_t b = u8(r);

	if (b < 0xf0)
		return (size_t)b * 8;
	return u16(r) % 1501;
}

static void tweak(struct rd *r, struct w_seg *s)
{
	uint8_t t = u8(r);

	s->bad_csum = t & TW_BAD_CSUM;
	s->no_df = t & TW_NO_DF;
	s->ip_opt_words = (t & TW_IP_OPT) ? 2 : 0;
	s->bcast_mac = t & TW_BCAST_MAC;
	s->ttl = (t & TW_TTL1) ? 1 : 0;
	s->tos = (t & TW_ECN_CE) ? 3 : 0;
	if (t & TW_BCAST_IP)
		s->daddr = 0xc00002ffu;
}

/* SEG's arguments into sb; the flow it belongs to. */
static struct w_flow *decode_seg(struct ctx *c, struct segbuf *sb)
{
	struct rd *r = &c->r;
	struct w_flow *fl = pick_flow(c, u8(r));
	struct w_seg *s = &sb->s;
	uint8_t sm, am, mask;
	size_t plen;

	memset(sb, 0, sizeof(*sb));
	if (!fl)
		return NULL;
	s->saddr = fl->raddr;
	s->sport = fl->rport;
	s->dport = fl->lport;
	s->flags = u8(r);
	sm = u8(r);
	switch (sm & 3) {
	case SEQ_RCV_NXT:
		s->seq = w_flow_rcv_nxt(fl);
		break;
	case SEQ_PEER_NXT:
		s->seq = fl->peer_nxt;
		break;
	case SEQ_PEER_ISN:
		s->seq = fl->peer_isn;
		break;
	default:
		s->seq = u32(r);
	}
	s->seq += seq_delta(r, sm);
	am = u8(r);
	switch (am & 3) {
	case ACK_STACK_NXT:
		s->ack = fl->stack_nxt;
		break;
	case ACK_PEER_ACK:
		s->ack = fl->peer_ack;
		break;
	case ACK_STACK_ISN:
		s->ack = fl->stack_isn;
		break;
	default:
		s->ack = u32(r);
	}
	s->ack += seq_delta(r, am);
	s->win = u16(r);
	mask = u8(r);
	s->optlen = seg_options(c, fl, mask, s->ack, sb->opt);
	s->opt = sb->opt;
	if (mask & SEG_O_URG)
		s->urg = u16(r);
	plen = payload_len(r);
	s->data = c->w->txbuf + ((s->seq - fl->peer_isn) & 0x7fff);
	s->len = plen;
	tweak(r, s);
	return fl;
}

static void op_seg(struct ctx *c)
{
	struct segbuf sb;
	struct w_flow *fl = decode_seg(c, &sb);

	if (!fl)
		return;
	LOG(c, "seg %u->%u flags %02x seq %u ack %u len %zu\n", sb.s.sport, sb.s.dport, sb.s.flags, sb.s.seq,
	    sb.s.ack, sb.s.len);
	w_send_seg(c->w, fl, &sb.s);
}

/* A SYN from the peer on a (new) flow. */
static void op_syn(struct ctx *c)
{
	struct rd *r = &c->r;
	uint16_t rport = (uint16_t)(40000 + (u8(r) & 63)), dport;
	uint8_t dc = u8(r), extra, mask;
	struct w_flow *fl;
	struct segbuf sb;

	dport = (dc & 3) == 0 ? W_LISTEN_PORT : (dc & 3) == 1 ? W_LISTEN_PORT + 1 : (dc & 3) == 2 ? W_REMOTE_PORT : u16(r);
	fl = w_flow_get(c->w, W_PEER, dport, rport);
	if (!fl)
		fl = &c->w->flows[rport % W_MAXFLOWS];
	memset(&sb, 0, sizeof(sb));
	sb.s.saddr = fl->raddr;
	sb.s.sport = fl->rport;
	sb.s.dport = fl->lport;
	extra = u8(r);
	sb.s.flags = (uint8_t)(W_SYN | (extra & (W_ECE | W_CWR | W_FIN | W_PSH | W_URG)));
	/* A new connection on a used tuple takes a fresh ISN, past the old one. */
	if (fl->seen)
		fl->peer_isn = fl->peer_nxt + 0x10000;
	sb.s.seq = fl->peer_isn;
	sb.s.win = 64240;
	mask = u8(r);
	sb.s.optlen = seg_options(c, fl, mask, 0, sb.opt);
	sb.s.opt = sb.opt;
	sb.s.len = payload_len(r);
	sb.s.data = c->w->txbuf;
	LOG(c, "syn %u->%u flags %02x len %zu\n", sb.s.sport, sb.s.dport, sb.s.flags, sb.s.len);
	w_send_seg(c->w, fl, &sb.s);
}

/* A segment cut into IP fragments. */
static void op_frag(struct ctx *c)
{
	struct rd *r = &c->r;
	struct segbuf sb;
	struct w_flow *fl = decode_seg(c, &sb);
	uint8_t f[W_MAXFRAME + 64], frag[3][W_MAXFRAME + 64], split = u8(r), how = u8(r);
	size_t n, ihl, plen, cut[4], nf, flen[3];
	const uint8_t *ip;

	if (!fl)
		return;
	n = w_build_tcp(c->w, f, sizeof(f), &sb.s);
	if (!n)
		return;
	ip = f + 14;
	ihl = (size_t)(ip[0] & 15) * 4;
	plen = (size_t)(ip[2] << 8 | ip[3]) - ihl;
	if (plen < 16)
		return;
	nf = (how & FRAG_THREE) && plen >= 24 ? 3 : 2;
	cut[0] = 0;
	cut[nf] = plen;
	cut[1] = ((size_t)split % (plen / 8 - (nf - 1)) + 1) * 8;
	if (nf == 3)
		cut[2] = cut[1] + ((plen - cut[1]) / 8 > 1 ? ((plen - cut[1]) / 8 / 2) * 8 : 8);
	for (size_t i = 0; i < nf; i++) {
		size_t start = cut[i], end = cut[i + 1], len;
		struct w_seg t = sb.s;
		uint16_t off;

		if ((how & FRAG_OVERLAP) && i > 0 && start >= 8)
			start -= 8;
		len = end - start;
		t.no_df = true;
		t.ip_id = (uint16_t)(0x7000 + c->w->ip_id);
		t.ip_opt_words = 0;
		flen[i] = w_build_ip(c->w, frag[i], sizeof(frag[i]), sb.s.saddr, sb.s.daddr, 6, ip + ihl + start, len, &t);
		if (!flen[i])
			return;
		off = (uint16_t)(start / 8) | (i + 1 < nf ? 0x2000 : 0);
		frag[i][14 + 6] = (uint8_t)(off >> 8);
		frag[i][14 + 7] = (uint8_t)off;
		frag[i][14 + 10] = frag[i][14 + 11] = 0;
		{
			uint32_t sum = 0;
			for (size_t k = 0; k < 20; k += 2)
				sum += (uint32_t)(frag[i][14 + k] << 8 | frag[i][14 + k + 1]);
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			frag[i][14 + 10] = (uint8_t)(~sum >> 8);
			frag[i][14 + 11] = (uint8_t)~sum;
		}
	}
	c->w->ip_id++;
	LOG(c, "frag %zu pieces of %zu bytes, how %02x\n", nf, plen, how);
	for (size_t k = 0; k < nf; k++) {
		size_t i = (how & FRAG_REVERSE) ? nf - 1 - k : k;
		if ((how & FRAG_DROP_LAST) && k == nf - 1)
			break;
		w_inject(c->w, frag[i], flen[i]);
	}
	w_flow_note_peer(fl, &sb.s);
}

/* ------------------------------------------------------------ sockets */

static void op_socket(struct ctx *c)
{
	struct rd *r = &c->r;
	struct stack *st = c->w->st;
	uint8_t kind = u8(r) % 3;
	int fd = synack_socket(st);

	if (fd >= 0 && w_fd_add(c->w, fd) < 0) {
		synack_close(st, fd);
		fd = -1;
	}
	if (kind == SOCK_LISTEN) {
		struct sockaddr_in a = sin_host(0, port(r));
		int b = backlog(r);
		if (fd >= 0 && synack_bind(st, fd, &a) == 0)
			synack_listen(st, fd, b);
	} else if (kind == SOCK_CONNECT) {
		struct sockaddr_in a = connect_addr(r);
		if (fd >= 0)
			synack_connect(st, fd, &a);
	}
	LOG(c, "socket kind %u -> fd %d state %d\n", kind, fd, fd >= 0 ? synack_tcp_state(st, fd) : -1);
	w_pump(c->w);
}

static void op_bind(struct ctx *c)
{
	int fd = slot_fd(c, u8(&c->r));
	struct sockaddr_in a = bind_addr(&c->r);
	int err = synack_bind(c->w->st, fd, &a);

	LOG(c, "bind fd %d port %u -> %d\n", fd, ntohs(a.sin_port), err);
}

static void op_listen(struct ctx *c)
{
	int fd = slot_fd(c, u8(&c->r)), b = backlog(&c->r);
	int err = synack_listen(c->w->st, fd, b);

	LOG(c, "listen fd %d backlog %d -> %d\n", fd, b, err);
}

static void op_connect(struct ctx *c)
{
	int fd = slot_fd(c, u8(&c->r));
	struct sockaddr_in a = connect_addr(&c->r);
	int err = synack_connect(c->w->st, fd, &a);

	LOG(c, "connect fd %d -> %d\n", fd, err);
	w_pump(c->w);
}

static void op_accept(struct ctx *c)
{
	uint8_t b = u8(&c->r);
	int fd = slot_fd(c, b);
	struct sockaddr_in peer;
	int nfd = synack_accept(c->w->st, fd, (b & 0x40) ? NULL : &peer);

	if (nfd >= 0 && w_fd_add(c->w, nfd) < 0)
		synack_close(c->w->st, nfd);
	LOG(c, "accept fd %d -> %d\n", fd, nfd);
}

static int msg_flags(uint8_t f)
{
	return ((f & 1) ? MSG_MORE : 0) | ((f & 2) ? MSG_DONTWAIT : 0) | ((f & 4) ? MSG_PEEK : 0) |
	       ((f & 8) ? MSG_OOB : 0) | ((f & 16) ? MSG_WAITALL : 0) | ((f & 32) ? MSG_ERRQUEUE : 0) |
	       ((f & 64) ? MSG_NOSIGNAL : 0);
}

static void op_send(struct ctx *c)
{
	struct rd *r = &c->r;
	int fd = slot_fd(c, u8(r));
	size_t len = u16(r);
	uint8_t fl = u8(r);
	long n = synack_send(c->w->st, fd, (fl & 0x80) ? NULL : c->w->txbuf, len, msg_flags(fl & 0x7b));

	if (n > (long)len)
		w_fail(c->w, "send accepted more than it was given", NULL, 0);
	LOG(c, "send fd %d len %zu -> %ld\n", fd, len, n);
	w_pump(c->w);
}

static void op_recv(struct ctx *c)
{
	struct rd *r = &c->r;
	int fd = slot_fd(c, u8(r));
	size_t len = u16(r);
	uint8_t fl = u8(r);
	long n = synack_recv(c->w->st, fd, (fl & 0x80) ? NULL : c->w->rxbuf, len, msg_flags(fl & 0x7e));

	if (n > (long)len)
		w_fail(c->w, "recv returned more than asked", NULL, 0);
	LOG(c, "recv fd %d len %zu -> %ld\n", fd, len, n);
	w_pump(c->w);
}

static void op_iov(struct ctx *c, bool send)
{
	struct rd *r = &c->r;
	int fd = slot_fd(c, u8(r));
	uint8_t cb = u8(r);
	int cnt = (int)(cb % 7) - 1; /* -1 .. 5 */
	struct iovec iov[5];
	size_t off = 0, total = 0;
	long n;

	for (int i = 0; i < (cnt > 0 ? cnt : 0); i++) {
		size_t len = (size_t)u8(r) * 64;
		iov[i].iov_base = (send ? c->w->txbuf : c->w->rxbuf) + off;
		iov[i].iov_len = len;
		off += len;
		total += len;
	}
	cb = u8(r);
	if (send)
		n = synack_sendv(c->w->st, fd, cnt >= 0 ? iov : NULL, cnt, msg_flags(cb & 0x7b));
	else
		n = synack_recvv(c->w->st, fd, cnt >= 0 ? iov : NULL, cnt, msg_flags(cb & 0x7e));
	if (n > (long)total)
		w_fail(c->w, "sendv/recvv moved more than the iovecs hold", NULL, 0);
	LOG(c, "%s fd %d cnt %d total %zu -> %ld\n", send ? "sendv" : "recvv", fd, cnt, total, n);
	w_pump(c->w);
}

static void op_shutdown(struct ctx *c)
{
	int fd = slot_fd(c, u8(&c->r)), how = (int)(u8(&c->r) % 5) - 1;
	int err = synack_shutdown(c->w->st, fd, how);

	LOG(c, "shutdown fd %d how %d -> %d\n", fd, how, err);
	w_pump(c->w);
}

static void op_close(struct ctx *c)
{
	int fd = slot_fd(c, u8(&c->r));
	int err = synack_close(c->w->st, fd);

	if (err == 0)
		slot_clear(c, fd);
	LOG(c, "close fd %d -> %d\n", fd, err);
	w_pump(c->w);
}

static void op_setsockopt(struct ctx *c)
{
	struct rd *r = &c->r;
	int fd = slot_fd(c, u8(r));
	unsigned oi = u8(r) % N_OPTS;
	int v = value(r), err;
	uint8_t lc = u8(r);
	union {
		int i;
		struct linger l;
		struct timeval tv;
		char name[32];
	} val;
	unsigned int len;

	memset(&val, 0, sizeof(val));
	if (SEQ_OPTS[oi].level == SOL_SOCKET && SEQ_OPTS[oi].name == SO_LINGER) {
		val.l.l_onoff = v & 1;
		val.l.l_linger = v >> 1;
		len = sizeof(val.l);
	} else if (SEQ_OPTS[oi].level == IPPROTO_TCP && SEQ_OPTS[oi].name == TCP_FASTOPEN_KEY) {
		for (size_t i = 0; i < sizeof(val.name); i++)
			val.name[i] = (char)((unsigned)v * 31u + (unsigned)i);
		len = (v & 1) ? 32 : 16;
	} else if (SEQ_OPTS[oi].level == SOL_SOCKET &&
		   (SEQ_OPTS[oi].name == SO_RCVTIMEO || SEQ_OPTS[oi].name == SO_SNDTIMEO)) {
		val.tv.tv_sec = v >> 8;
		val.tv.tv_usec = (v & 0xff) * 4000;
		len = sizeof(val.tv);
	} else if (SEQ_OPTS[oi].level == IPPROTO_TCP && SEQ_OPTS[oi].name == TCP_CONGESTION) {
		static const char *const names[] = { "cubic", "reno", "bbr", "", "cubicx", "renoooooooooooooooooo" };
		snprintf(val.name, sizeof(val.name), "%s", names[(unsigned)v % 6]);
		len = (unsigned)strlen(val.name) + 1;
	} else {
		val.i = v;
		len = sizeof(int);
	}
	switch (lc % 6) {
	case 1:
		len = 0;
		break;
	case 2:
		len = 2;
		break;
	case 3:
		len = sizeof(val);
		break;
	default:
		break;
	}
	err = synack_setsockopt(c->w->st, fd, SEQ_OPTS[oi].level, SEQ_OPTS[oi].name, (lc & 0x80) ? NULL : &val, len);
	LOG(c, "setsockopt fd %d opt %u val %d len %u -> %d\n", fd, oi, v, len, err);
	w_pump(c->w);
}

static void op_getsockopt(struct ctx *c)
{
	struct rd *r = &c->r;
	int fd = slot_fd(c, u8(r));
	unsigned oi = u8(r) % N_OPTS;
	uint8_t lc = u8(r);
	static const unsigned int lens[] = { 512, 0, 1, 4, 8, 0x80000000u };
	uint8_t buf[512 + 16];
	unsigned int len = lens[lc % 6], asked;
	struct sockaddr_in a;
	int err;

	if (len > 512 && lc % 6 != 5)
		len = 512;
	asked = len;
	memset(buf, 0xa5, sizeof(buf));
	/* The huge length is only passed where the buffer is big enough for
	 * every option (it means "big", not "this big"). */
	err = synack_getsockopt(c->w->st, fd, SEQ_OPTS[oi].level, SEQ_OPTS[oi].name, buf, &len);
	if (err == 0 && (len > asked || len > 512))
		w_fail(c->w, "getsockopt wrote more than asked", NULL, 0);
	if (buf[512] != 0xa5)
		w_fail(c->w, "getsockopt overran its buffer", NULL, 0);
	synack_poll(c->w->st, fd);
	synack_getsockname(c->w->st, fd, &a);
	synack_getpeername(c->w->st, fd, &a);
	synack_tcp_state_name(synack_tcp_state(c->w->st, fd));
	LOG(c, "getsockopt fd %d opt %u -> %d (len %u) state %d poll %d\n", fd, oi, err, len,
	    synack_tcp_state(c->w->st, fd), synack_poll(c->w->st, fd));
}

static void op_sysctl(struct ctx *c)
{
	unsigned i = u8(&c->r) % N_SYSCTLS;
	int v = value(&c->r);
	int err = synack_sysctl_set(c->w->st, SEQ_SYSCTLS[i], v);

	LOG(c, "sysctl %s=%d -> %d\n", SEQ_SYSCTLS[i], v, err);
}

/* -------------------------------------------------------- other frames */

static void op_icmp(struct ctx *c)
{
	struct rd *r = &c->r;
	struct w_flow *fl = pick_flow(c, u8(r));
	uint8_t k = u8(r), type, code, f[128];
	uint32_t info;
	size_t n;

	if (k >= 0xf0) {
		type = u8(r);
		code = u8(r);
	} else {
		type = SEQ_ICMP[k % (sizeof(SEQ_ICMP) / sizeof(SEQ_ICMP[0]))][0];
		code = SEQ_ICMP[k % (sizeof(SEQ_ICMP) / sizeof(SEQ_ICMP[0]))][1];
	}
	info = u16(r);
	n = w_build_icmp_err(c->w, f, sizeof(f), fl, type, code, info);
	LOG(c, "icmp %u/%u info %u\n", type, code, info);
	if (n)
		w_inject(c->w, f, n);
}

static void op_arp(struct ctx *c)
{
	static const uint32_t ips[] = { W_PEER, W_OTHER, W_GW, W_LOCAL, 0, 0xc00002ffu, W_FAR, 0x7f000001u };
	uint8_t m = u8(&c->r), f[60], sha[6] = { 2, 0, 0xc0, 0, 2, 2 }, tha[6] = { 0 };
	uint32_t sip = ips[(m >> 1) & 7], tip = (m & 0x10) ? W_OTHER : W_LOCAL;

	switch ((m >> 5) & 3) {
	case 1:
		sha[5] = 0x77; /* a new MAC for the same address */
		break;
	case 2:
		memset(sha, 0xff, 6);
		break;
	case 3:
		sha[0] = 1; /* multicast */
		break;
	}
	if (sip == W_OTHER)
		sha[5] = 3;
	w_build_arp(c->w, f, (m & 1) ? 2 : 1, sha, sip, tha, tip, (m & 0x80) != 0);
	LOG(c, "arp mode %02x\n", m);
	w_inject(c->w, f, sizeof(f));
}

static void op_ping(struct ctx *c)
{
	struct rd *r = &c->r;
	uint8_t m = u8(r);
	uint16_t id = u16(r);
	size_t len = (size_t)u8(r) * 8;
	static const uint32_t addrs[] = { W_PEER, W_FAR, W_OTHER, W_LOCAL, 0xffffffffu, 0xc00002ffu, 0, 0xe0000001u };

	if (m & 0x80) {
		/* An echo request from the peer. */
		uint8_t msg[8 + 1500], f[W_MAXFRAME + 64];
		struct w_seg t = { 0 };
		uint32_t sum = 0;
		size_t n;

		if (len > 1400)
			len = 1400;
		memset(msg, 0, 8);
		msg[0] = 8;
		msg[4] = (uint8_t)(id >> 8);
		msg[5] = (uint8_t)id;
		memcpy(msg + 8, c->w->txbuf, len);
		for (size_t i = 0; i < 8 + len; i += 2)
			sum += (uint32_t)(msg[i] << 8 | (i + 1 < 8 + len ? msg[i + 1] : 0));
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		msg[2] = (uint8_t)(~sum >> 8);
		msg[3] = (uint8_t)~sum;
		t.bcast_mac = m & 1;
		n = w_build_ip(c->w, f, sizeof(f), 0, (m & 2) ? 0xc00002ffu : 0, 1, msg, 8 + len, &t);
		if (n)
			w_inject(c->w, f, n);
	} else {
		struct in_addr a = { w_addr(addrs[m & 7]) };
		synack_ping_send(c->w->st, a, id, (uint16_t)m, c->w->txbuf, (m & 0x40) ? 70000 : len);
		w_pump(c->w);
	}
	LOG(c, "ping mode %02x\n", m);
}

static void op_raw_frame(struct ctx *c)
{
	uint16_t v = u16(&c->r);
	size_t want = (v & 0x7fff) % (W_MAXFRAME + 1), got;
	const uint8_t *p = bytes(&c->r, want, &got);
	uint8_t f[W_MAXFRAME];

	memcpy(f, p, got);
	if (v & 0x8000)
		w_fix_checksums(f, got, true, true);
	LOG(c, "raw frame %zu bytes\n", got);
	w_inject(c->w, f, got);
}

static void op_raw_ip(struct ctx *c, bool tcp)
{
	struct rd *r = &c->r;
	uint8_t f[W_MAXFRAME + 64], proto, fix;
	struct w_flow *fl = NULL;
	size_t want, got, n;
	const uint8_t *p;
	uint8_t body[W_MAXFRAME];

	if (tcp) {
		fl = pick_flow(c, u8(r));
		proto = 6;
	} else {
		proto = u8(r);
	}
	fix = u8(r);
	want = u16(r) % (W_MAXFRAME - 60);
	p = bytes(r, want, &got);
	memcpy(body, p, got);
	if (tcp && fl && got >= 4 && (fix & 2)) {
		/* Aim it at the flow's ports. */
		body[0] = (uint8_t)(fl->rport >> 8);
		body[1] = (uint8_t)fl->rport;
		body[2] = (uint8_t)(fl->lport >> 8);
		body[3] = (uint8_t)fl->lport;
	}
	n = w_build_ip(c->w, f, sizeof(f), fl ? fl->raddr : 0, 0, proto, body, got, NULL);
	if (!n)
		return;
	if (!(fix & 1))
		w_fix_checksums(f, n, false, true);
	LOG(c, "raw ip proto %u %zu bytes\n", proto, got);
	w_inject(c->w, f, n);
}

static void op_sendto(struct ctx *c)
{
	struct rd *r = &c->r;
	int fd = slot_fd(c, u8(r));
	struct sockaddr_in a = connect_addr(r);
	size_t len = u16(r);
	uint8_t fl = u8(r);
	int flags = msg_flags(fl & 0x3b) | ((fl & 0x40) ? MSG_FASTOPEN : 0);
	long n = synack_sendto(c->w->st, fd, c->w->txbuf, len, flags, (fl & 0x80) ? NULL : &a);

	if (n > (long)len)
		w_fail(c->w, "sendto accepted more than it was given", NULL, 0);
	LOG(c, "sendto fd %d len %zu flags %x -> %ld\n", fd, len, flags, n);
	w_pump(c->w);
}

static void op_epoll(struct ctx *c)
{
	struct rd *r = &c->r;
	uint8_t kind = u8(r) % 4, e = u8(r);
	int *ep = &c->epfds[e % MAX_EP], err = 0;

	switch (kind) {
	case 0:
		if (*ep >= 0)
			synack_epoll_close(c->w->st, *ep);
		*ep = synack_epoll_create(c->w->st);
		err = *ep;
		break;
	case 1: {
		struct epoll_event ev;
		uint8_t op = u8(r), bits = u8(r);
		int fd = slot_fd(c, u8(r));
		memset(&ev, 0, sizeof(ev));
		ev.events = ((bits & 1) ? EPOLLIN : 0) | ((bits & 2) ? EPOLLOUT : 0) | ((bits & 4) ? EPOLLRDHUP : 0) |
			    ((bits & 8) ? EPOLLET : 0) | ((bits & 16) ? EPOLLONESHOT : 0) | ((bits & 32) ? EPOLLPRI : 0) |
			    ((bits & 64) ? EPOLLEXCLUSIVE : 0);
		ev.data.u64 = bits;
		err = synack_epoll_ctl(c->w->st, *ep, (int)(op % 5), fd, (bits & 0x80) ? NULL : &ev);
		break;
	}
	case 2: {
		struct epoll_event evs[8];
		int max = (int)(u8(r) % 10) - 1; /* -1 .. 8 */
		err = synack_epoll_wait(c->w->st, *ep, evs, max);
		if (err > 8 || (max >= 0 && err > max))
			w_fail(c->w, "epoll_wait returned more events than asked", NULL, 0);
		break;
	}
	default:
		err = synack_epoll_close(c->w->st, *ep);
		if (err == 0)
			*ep = -1;
		break;
	}
	LOG(c, "epoll kind %u -> %d\n", kind, err);
}

static void op_tfo_cache(struct ctx *c)
{
	static const uint32_t addrs[] = { W_PEER, W_FAR, 0, W_LOCAL };
	struct rd *r = &c->r;
	uint8_t kind = u8(r), a = u8(r);
	struct synack_tfo_cookie ck;
	size_t got;
	const uint8_t *p;
	int err;

	memset(&ck, 0, sizeof(ck));
	ck.daddr.s_addr = w_addr(addrs[a & 3]);
	ck.mss = u16(r);
	ck.len = u8(r);
	ck.exp = a & 4;
	p = bytes(r, ck.len < 16 ? ck.len : 16, &got);
	memcpy(ck.cookie, p, got);
	if (kind & 1)
		err = synack_tfo_cache_get(c->w->st, ck.daddr, &ck);
	else
		err = synack_tfo_cache_set(c->w->st, &ck);
	LOG(c, "tfo cache %s -> %d\n", (kind & 1) ? "get" : "set", err);
}

static void op_sysctl_str(struct ctx *c)
{
	struct rd *r = &c->r;
	unsigned i = u8(r) % N_SYSCTLS;
	size_t len = u8(r), got, cap;
	const uint8_t *p = bytes(r, len, &got);
	char text[256], *out;
	int err;

	memcpy(text, p, got);
	text[got] = 0;
	cap = (size_t)u8(r) % 130;
	err = synack_sysctl_set_str(c->w->st, SEQ_SYSCTLS[i], text);
	/* An exact-size buffer: a write past cap is an ASan report. */
	out = malloc(cap ? cap : 1);
	if (!out)
		abort();
	synack_sysctl_get_str(c->w->st, SEQ_SYSCTLS[i], cap ? out : NULL, cap);
	free(out);
	LOG(c, "sysctl %s = \"%s\" -> %d\n", SEQ_SYSCTLS[i], text, err);
}

/* ------------------------------------------------------------ the loop */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = { .r = { .p = data, .n = size, .i = 0 } };
	struct world_opts o = { 0 };
	uint8_t h = u8(&c.r);

	for (int i = 0; i < MAX_EP; i++)
		c.epfds[i] = -1;
	o.trace = h & HDR_TRACE;
	o.no_auto_arp = h & HDR_NO_ARP;
	o.mtu = SEQ_MTUS[(h >> 2) & 7];
	o.seed = (uint64_t)(h >> 5) + 1;
	c.w = world_new(&o);
	for (int ops = 0; ops < MAX_OPS && c.r.i < c.r.n; ops++) {
		uint8_t op = u8(&c.r) % OP_MAX;

		switch (op) {
		case OP_SEG:
			op_seg(&c);
			break;
		case OP_SYN:
			op_syn(&c);
			break;
		case OP_FRAG:
			op_frag(&c);
			break;
		case OP_ADVANCE: {
			uint8_t t = u8(&c.r);
			uint64_t ns = SEQ_TIMES[t & 15] * (1 + (t >> 6));
			LOG(&c, "advance %.3f s\n", (double)ns / 1e9);
			w_advance(c.w, ns);
			break;
		}
		case OP_RUN_NEXT:
			LOG(&c, "run next\n");
			w_run_next(c.w, 200 * W_SEC);
			break;
		case OP_SOCKET:
			op_socket(&c);
			break;
		case OP_BIND:
			op_bind(&c);
			break;
		case OP_LISTEN:
			op_listen(&c);
			break;
		case OP_CONNECT:
			op_connect(&c);
			break;
		case OP_ACCEPT:
			op_accept(&c);
			break;
		case OP_SEND:
			op_send(&c);
			break;
		case OP_RECV:
			op_recv(&c);
			break;
		case OP_SENDV:
			op_iov(&c, true);
			break;
		case OP_RECVV:
			op_iov(&c, false);
			break;
		case OP_SHUTDOWN:
			op_shutdown(&c);
			break;
		case OP_CLOSE:
			op_close(&c);
			break;
		case OP_SETSOCKOPT:
			op_setsockopt(&c);
			break;
		case OP_GETSOCKOPT:
			op_getsockopt(&c);
			break;
		case OP_SYSCTL:
			op_sysctl(&c);
			break;
		case OP_ICMP:
			op_icmp(&c);
			break;
		case OP_ARP:
			op_arp(&c);
			break;
		case OP_PING:
			op_ping(&c);
			break;
		case OP_RAW_FRAME:
			op_raw_frame(&c);
			break;
		case OP_RAW_IP:
			op_raw_ip(&c, false);
			break;
		case OP_RAW_TCP:
			op_raw_ip(&c, true);
			break;
		case OP_SENDTO:
			op_sendto(&c);
			break;
		case OP_EPOLL:
			op_epoll(&c);
			break;
		case OP_TFO_CACHE:
			op_tfo_cache(&c);
			break;
		case OP_SYSCTL_STR:
			op_sysctl_str(&c);
			break;
		default:
			break;
		}
	}
	if (c.w->verbose) {
		for (int i = 0; i < W_MAXFDS; i++)
			if (c.w->fds[i] >= 0)
				fprintf(stderr, "end: fd %d state %s\n", c.w->fds[i],
					synack_tcp_state_name(synack_tcp_state(c.w->st, c.w->fds[i])));
	}
	world_free(c.w);
	return 0;
}
