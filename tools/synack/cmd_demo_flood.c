/*
 * The spoofed-SYN flood of `synack demo --flood N` (see demo_flood.h).
 * Named cmd_*.c so the build picks it up with the commands; it defines no
 * command itself.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "demo_flood.h"

#define SPOOF_NET 0xc6120000u           /* 198.18.0.0/15 (RFC 2544: benchmarking) */
#define SPOOF_MASK 0xfffe0000u
#define SYN_LEN (14 + 20 + 40)          /* Ethernet, IPv4, TCP with 20 option bytes */
#define SHOWN_FRAMES 6                  /* the first 3 spoofed SYNs and their SYN-ACKs */
#define SHOWN_EVENTS 3
#define NS_PER_SEC UINT64_C(1000000000)

struct demo_flood {
	struct synack_link link;            /* first: the handle the client stack uses */
	struct synack_link *inner;
	uint32_t dst;                       /* the server, network order */
	uint16_t dport;
	uint64_t total, sent, next_ns, gap_ns;
	uint64_t rng;
	bool started;
	uint64_t reported;                  /* quarters reported by demo_flood_pump */
	const struct stack *server;
	uint8_t server_mac[6];
	int backlog;
	uint16_t client_port;
	int doc_idx;                        /* TcpExtTCPReqQFullDoCookies */
	bool overflow_noted;
	uint64_t absorbed;                  /* SYN-ACKs to spoofed sources */
	uint64_t shown_frames, shown_events, hidden_frames, hidden_events;
	uint64_t requests, expired, synack_retrans;
};

/* ---------------------------------------------------------------- link */

static struct demo_flood *flood_of(struct synack_link *l) { return (struct demo_flood *)l; }

static bool spoofed_addr(uint32_t a) { return (ntohl(a) & SPOOF_MASK) == SPOOF_NET; }

/* IPv4 frames from or to a spoofed source. */
bool demo_flood_frame(const uint8_t *f, size_t len)
{
	uint32_t s, d;
	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return false;
	memcpy(&s, f + 14 + 12, 4);
	memcpy(&d, f + 14 + 16, 4);
	return spoofed_addr(s) || spoofed_addr(d);
}

static int flood_send(struct synack_link *l, const void *frame, size_t len)
{
	struct synack_link *in = flood_of(l)->inner;
	return in->ops->send(in, frame, len);
}

/* The gateway's part: SYN-ACKs for spoofed sources go on to the
 * internet, not to the client stack. */
static int flood_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct demo_flood *f = flood_of(l);
	for (;;) {
		int r = f->inner->ops->recv(f->inner, buf, cap);
		if (r <= 0 || !demo_flood_frame(buf, (size_t)r))
			return r;
		f->absorbed++;
	}
}

static int flood_wait_fd(struct synack_link *l)
{
	struct synack_link *in = flood_of(l)->inner;
	return in->ops->wait_fd ? in->ops->wait_fd(in) : -1;
}

static uint64_t flood_next_deadline(struct synack_link *l)
{
	struct synack_link *in = flood_of(l)->inner;
	return in->ops->next_deadline ? in->ops->next_deadline(in) : SYNACK_NEVER;
}

/* demo_flood_free releases the wrapper; inner belongs to the caller. */
static void flood_destroy(struct synack_link *l) { (void)l; }

static const struct synack_link_ops flood_ops = {
	.kind = "flood",
	.send = flood_send,
	.recv = flood_recv,
	.wait_fd = flood_wait_fd,
	.next_deadline = flood_next_deadline,
	.destroy = flood_destroy,
};

struct demo_flood *demo_flood_new(uint64_t n, uint64_t seed, struct synack_link *inner, uint32_t dst,
				  uint16_t dport)
{
	struct demo_flood *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->link = *inner;                   /* its MAC and MTU */
	f->link.ops = &flood_ops;
	f->inner = inner;
	f->total = n;
	f->dst = dst;
	f->dport = dport;
	f->rng = seed ^ UINT64_C(0x5eed5eed5eed5eed);  /* apart from the wire's and the stacks' streams */
	f->next_ns = SYNACK_NEVER;
	f->doc_idx = synack_mib_index("TcpExtTCPReqQFullDoCookies");
	return f;
}

void demo_flood_free(struct demo_flood *f) { free(f); }

struct synack_link *demo_flood_link(struct demo_flood *f) { return &f->link; }

void demo_flood_set_server(struct demo_flood *f, const struct stack *server, const uint8_t mac[6], int backlog)
{
	f->server = server;
	memcpy(f->server_mac, mac, 6);
	f->backlog = backlog;
}

void demo_flood_set_client_port(struct demo_flood *f, uint16_t port) { f->client_port = port; }

/* -------------------------------------------------------------- frames */

/* splitmix64: the flood's own generator, so it changes no other stream. */
static uint64_t flood_rand(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

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

/* RFC 1071: the one's-complement sum of 16-bit big-endian words. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP checksum over the pseudo-header and the segment at th. */
static uint16_t tcp_csum(const uint8_t *ip, const uint8_t *th, size_t len)
{
	uint8_t ph[12] = { 0 };
	memcpy(ph, ip + 12, 8);
	ph[9] = 6;
	put16(ph + 10, (uint16_t)len);
	return csum_fold(csum_add(csum_add(0, ph, sizeof(ph)), th, len));
}

/* A SYN as Linux sends one (MSS 1460, SACK-permitted, timestamps, NOP,
 * window scale 7) from a random spoofed source, port and ISN. */
static void build_syn(struct demo_flood *f, uint8_t *fr)
{
	static const uint8_t opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
	uint64_t x = flood_rand(&f->rng), y = flood_rand(&f->rng);
	uint32_t src = htonl(SPOOF_NET | (uint32_t)(x & ~SPOOF_MASK));
	uint8_t *ip = fr + 14, *th = ip + 20;

	memset(fr, 0, SYN_LEN);
	memcpy(fr, f->server_mac, 6);
	memcpy(fr + 6, f->inner->mac, 6);   /* from the gateway */
	put16(fr + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 60);
	put16(ip + 6, 0x4000);              /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &f->dst, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(th, (uint16_t)(1024 + (x >> 32) % 64512));
	put16(th + 2, f->dport);
	put32(th + 4, (uint32_t)y);
	th[12] = 10 << 4;
	th[13] = 0x02;                      /* SYN */
	put16(th + 14, 64240);
	memcpy(th + 20, opts, sizeof(opts));
	put32(th + 28, (uint32_t)(y >> 32)); /* TSval */
	put16(th + 16, tcp_csum(ip, th, 40));
}

/* ---------------------------------------------------------------- pump */

void demo_flood_start(struct demo_flood *f, uint64_t now, uint64_t gap_ns)
{
	f->started = true;
	f->gap_ns = gap_ns;
	f->next_ns = f->total ? now : SYNACK_NEVER;
}

uint64_t demo_flood_sent(const struct demo_flood *f) { return f->sent; }
bool demo_flood_done(const struct demo_flood *f) { return f->sent == f->total; }
uint64_t demo_flood_next_ns(const struct demo_flood *f) { return f->next_ns; }

static uint64_t server_mib(const struct demo_flood *f, const char *name)
{
	return synack_mib_value(f->server, name);
}

static void progress_line(const struct demo_flood *f, uint64_t now, char *line, size_t cap)
{
	snprintf(line, cap,
		 "%3" PRIu64 ".%06" PRIu64 " %-6s   spoofed SYNs: %" PRIu64 " of %" PRIu64 " sent; server: %" PRIu64
		 " request socks made, %" PRIu64 " SYN cookies sent, %" PRIu64 " SYN-ACKs absorbed by the gateway",
		 now / NS_PER_SEC, now / 1000 % 1000000, "flood", f->sent, f->total, f->requests,
		 server_mib(f, "TcpExtSyncookiesSent"), f->absorbed);
}

bool demo_flood_pump(struct demo_flood *f, uint64_t now, char *line, size_t cap)
{
	uint8_t fr[SYN_LEN];
	while (f->started && f->sent < f->total && f->next_ns <= now) {
		build_syn(f, fr);
		f->inner->ops->send(f->inner, fr, sizeof(fr));
		f->sent++;
		f->next_ns = f->sent < f->total ? f->next_ns + f->gap_ns : SYNACK_NEVER;
	}
	uint64_t quarters = f->total ? f->sent * 4 / f->total : 0;
	if (quarters <= f->reported)
		return false;
	f->reported = quarters;
	progress_line(f, now, line, cap);
	return true;
}

/* --------------------------------------------------------------- trace */

/* Print the first `limit` of a kind; count the rest. */
static bool hide(uint64_t *shown, uint64_t limit, uint64_t *hidden)
{
	if (*shown < limit) {
		(*shown)++;
		return false;
	}
	(*hidden)++;
	return true;
}

/* The first cookie: the SYN queue just overflowed (Linux would log
 * "Possible SYN flooding on port 80. Sending cookies."). */
static void check_overflow(struct demo_flood *f, const struct synack_trace_event *ev, char *note, size_t cap)
{
	if (f->overflow_noted || f->doc_idx < 0 || !synack_mib_get(f->server, (size_t)f->doc_idx))
		return;
	f->overflow_noted = true;
	snprintf(note, cap,
		 "%3" PRIu64 ".%06" PRIu64 " %-6s   tcp_syn_flood_action: SYN queue of port %u full (%" PRIu64
		 " requests, backlog %d): Possible SYN flooding, sending cookies (nothing kept per SYN)",
		 ev->ts_ns / NS_PER_SEC, ev->ts_ns / 1000 % 1000000, synack_stack_name(f->server), f->dport,
		 f->requests, f->backlog);
}

/* A request sock's event ("80 -> PORT ..." or "request 80 -> PORT
 * expired") for a port other than the client's real connection. */
static bool spoofed_request_event(const struct demo_flood *f, const char *text)
{
	unsigned lport, rport;
	if (strncmp(text, "request ", 8) == 0)
		text += 8;
	return sscanf(text, "%u -> %u", &lport, &rport) == 2 && rport != f->client_port;
}

static bool filter_event(struct demo_flood *f, const struct synack_trace_event *ev)
{
	if (ev->stack != f->server || !ev->name)
		return false;
	if (strcmp(ev->name, "tcp_conn_request") == 0 && strstr(ev->text, "for 198.1")) {
		f->requests++;
		return hide(&f->shown_events, SHOWN_EVENTS, &f->hidden_events);
	}
	if (strcmp(ev->name, "tcp_retransmit_synack") == 0 && spoofed_request_event(f, ev->text)) {
		f->synack_retrans++;
		f->hidden_events++;
		return true;
	}
	if (strcmp(ev->name, "reqsk_timer_handler") == 0 && spoofed_request_event(f, ev->text)) {
		f->expired++;
		f->hidden_events++;
		return true;
	}
	return false;
}

bool demo_flood_filter(struct demo_flood *f, const struct synack_trace_event *ev, char *note, size_t cap)
{
	note[0] = '\0';
	if (ev->stack == f->server)
		check_overflow(f, ev, note, cap);
	if (ev->kind == SYNACK_TRACE_FRAME_RX || ev->kind == SYNACK_TRACE_FRAME_TX) {
		if (!demo_flood_frame(ev->frame, ev->frame_len))
			return false;
		return hide(&f->shown_frames, SHOWN_FRAMES, &f->hidden_frames);
	}
	return ev->kind == SYNACK_TRACE_EVENT && filter_event(f, ev);
}

/* ------------------------------------------------------------- summary */

void demo_flood_print_summary(const struct demo_flood *f, FILE *out)
{
	char dst[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &f->dst, dst, sizeof(dst));
	fprintf(out, "\n--- SYN flood: %" PRIu64 " spoofed SYNs from 198.18.0.0/15 to %s:%u ---\n", f->sent, dst,
		f->dport);
	fprintf(out, "SYN queue: %" PRIu64 " request socks made (full above the backlog of %d), %" PRIu64
		" expired, %" PRIu64 " SYN-ACK retransmissions for them\n",
		f->requests, f->backlog, f->expired, f->synack_retrans);
	fprintf(out, "cookies: TcpExtTCPReqQFullDoCookies %" PRIu64 ", TcpExtSyncookiesSent %" PRIu64
		", TcpExtSyncookiesRecv %" PRIu64 ", TcpExtSyncookiesFailed %" PRIu64 ", TcpExtListenDrops %" PRIu64
		"\n",
		server_mib(f, "TcpExtTCPReqQFullDoCookies"), server_mib(f, "TcpExtSyncookiesSent"),
		server_mib(f, "TcpExtSyncookiesRecv"), server_mib(f, "TcpExtSyncookiesFailed"),
		server_mib(f, "TcpExtListenDrops"));
	fprintf(out, "the gateway absorbed %" PRIu64 " SYN-ACKs sent to spoofed sources\n", f->absorbed);
	if (!server_mib(f, "TcpExtTCPReqQFullDoCookies"))
		fprintf(out, "the SYN queue never overflowed (it holds %d requests): no cookies were needed\n",
			f->backlog + 1);
	if (server_mib(f, "TcpExtSyncookiesRecv"))
		fprintf(out, "the client's connection came through a SYN cookie (cookie_v4_check above)\n");
	if (f->hidden_frames || f->hidden_events)
		fprintf(out, "(%" PRIu64 " frames and %" PRIu64 " events of the flood not shown)\n", f->hidden_frames,
			f->hidden_events);
}
