/*
 * synack demo: two stacks on one simulated wire, on virtual time: a ping,
 * then a TCP connection (client 10.0.0.1 connects to a listener on
 * 10.0.0.2:80), a transfer from server to client (--bytes), and the
 * orderly close through TIME-WAIT, with the segments, state changes and the
 * Linux function each step mirrors. No root and no devices; the same seed
 * gives the same output.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "cli.h"
#include "demo_flood.h"

#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_SEC UINT64_C(1000000000)
#define PING_PAYLOAD 56     /* ping's default: 64 bytes of ICMP */
#define PING_ID 1
#define TCP_PORT 80
#define TCP_BACKLOG 16
/* The client's SYN gives up at 131 s (Linux's default schedule); stop
 * waiting a little after that. */
#define TCP_BUDGET_NS (UINT64_C(140) * NS_PER_SEC)
/* The transfer and the close must be done within this much virtual time. */
#define XFER_BUDGET_NS (UINT64_C(1800) * NS_PER_SEC)
/* Past the close: longer than TIME-WAIT (60 s) and FIN-WAIT-2 (60 s). */
#define LINGER_NS (UINT64_C(65) * NS_PER_SEC)
#define XFER_DEFAULT_BYTES (UINT64_C(1) << 20)
#define XFER_CHUNK 16384
/* The trace of a transfer: every frame among the first and the last
 * TRACE_EDGE, and TRACE_CONTEXT frames either side of each event. */
#define TRACE_EDGE 30
#define TRACE_CONTEXT 3
#define TRACE_LINE 768
/* --flood: one spoofed SYN every FLOOD_GAP_NS (20,000 a second). */
#define FLOOD_GAP_NS UINT64_C(50000)
#define FLOOD_MAX UINT64_C(10000000)
#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

struct demo_opts {
	double loss;
	double delay_ms;
	uint64_t seed;
	const char *pcap;
	uint64_t count;
	bool stats;
	uint64_t bytes;
	bool verbose;
	uint64_t flood;             /* spoofed SYNs to send with the handshake; 0: none */
	bool fastopen;              /* --fastopen: two request/response exchanges with TFO */
};

/* What the client's echo handler needs to print ping's lines. */
struct demo_pings {
	struct synack_clock *clk;
	uint64_t *sent_at;      /* by seq - 1 */
	bool *answered;
	uint64_t count;
	uint64_t received;
	uint64_t rtt_min, rtt_max, rtt_sum;
};

/* The handshake's sockets and what became of them. */
struct demo_tcp {
	int lfd, cfd, afd;          /* listener (server), client, accepted child */
	struct sockaddr_in srv;     /* 10.0.0.2:80 */
	struct sockaddr_in local;   /* the client's address and port */
	int err;                    /* connect's error; 0 while none */
	bool connected;
	uint64_t start_ns, connected_ns, accepted_ns, failed_ns;
};

/* The transfer: the server writes bytes, the client reads them. */
struct demo_xfer {
	uint64_t sent, received;
	uint64_t hash_sent, hash_recv;
	bool server_shut, client_eof, client_closed, server_closed;
	uint64_t start_ns, eof_ns, closed_ns;
	int err;                    /* a read or write error; 0 while none */
};

/*
 * The demo's trace sink. Outside a transfer it prints every line. During
 * one (unless --verbose) it prints the first TRACE_EDGE frames, then keeps
 * the most recent TRACE_EDGE in a ring: an event (retransmission, recovery,
 * state change, drop, a frame lost on the wire) prints with the
 * TRACE_CONTEXT frames before and after it, and the first FIN or RST ends
 * the quiet part, printing the ring. Skipped frames are counted.
 */
struct demo_trace {
	FILE *f;
	bool verbose;
	bool quiet_part;            /* inside the transfer, filtering */
	uint64_t shown;             /* frames printed since the transfer began */
	int after;                  /* frames still to print after an event */
	char ring[TRACE_EDGE][TRACE_LINE];
	size_t ring_head, ring_n;
	uint64_t skipped, skipped_total;
	struct synack_sim_wire *wire;
	const struct stack *stacks[2];
	uint64_t lost_seen[2];
	char last_tx[2][TRACE_LINE];
	uint64_t tw_entered, tw_expired;
	struct demo_flood *flood;   /* --flood: its filter decides on each line first */
	bool last_tx_flood[2];      /* the last frame each side sent was the flood's */
	uint64_t flood_lost;        /* the flood's frames the wire dropped (not reported one by one) */
};

struct demo {
	struct demo_opts opt;
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct synack_link *client_link;    /* the wire's end, or the pcap wrapper around it */
	struct demo_flood *flood;           /* --flood: wraps client_link; NULL without */
	struct stack *stacks[2];            /* client, server */
	struct demo_pings pings;
	struct demo_tcp tcp;
	struct demo_xfer xfer;
	struct demo_trace trace;
};

static int parse_demo_opts(const struct cli_command *cmd, int argc, char **argv, struct demo_opts *d)
{
	struct cli_opts o;
	uint64_t v;
	*d = (struct demo_opts){ .delay_ms = 1.0, .seed = 1, .count = 1, .bytes = XFER_DEFAULT_BYTES };
	cli_opts_init(&o, cmd, argc, argv);
	while (cli_opt_next(&o)) {
		bool ok = true;
		if (cli_is_help(o.name)) {
			cli_print_usage(cmd, stdout);
			return -1;
		} else if (cli_opt_is(&o, "--loss")) {
			ok = cli_opt_double(&o, 0.0, 1.0, &d->loss);
		} else if (cli_opt_is(&o, "--delay")) {
			ok = cli_opt_double(&o, 0.0, 60000.0, &d->delay_ms);
		} else if (cli_opt_is(&o, "--seed")) {
			ok = cli_opt_u64(&o, 0, UINT64_MAX, &d->seed);
		} else if (cli_opt_is(&o, "--count")) {
			ok = cli_opt_u64(&o, 1, 65535, &v);
			d->count = v;
		} else if (cli_opt_is(&o, "--pcap")) {
			ok = cli_opt_value(&o, &d->pcap);
		} else if (cli_opt_is(&o, "--stats")) {
			d->stats = true;
		} else if (cli_opt_is(&o, "--bytes")) {
			ok = cli_opt_u64(&o, 0, UINT64_C(1) << 40, &d->bytes);
		} else if (cli_opt_is(&o, "--verbose") || cli_opt_is(&o, "-v")) {
			d->verbose = true;
		} else if (cli_opt_is(&o, "--fastopen")) {
			d->fastopen = true;
		} else if (cli_opt_is(&o, "--flood")) {
			ok = cli_opt_u64(&o, 1, FLOOD_MAX, &d->flood);
		} else {
			return cli_opt_unknown(&o);
		}
		if (!ok)
			return CLI_EXIT_USAGE;
	}
	return 0;
}

static void on_echo_reply(void *ctx, const struct synack_echo_reply *r)
{
	struct demo_pings *p = ctx;
	if (r->id != PING_ID || r->seq == 0 || r->seq > p->count)
		return;
	uint64_t rtt = synack_clock_now(p->clk) - p->sent_at[r->seq - 1];
	bool dup = p->answered[r->seq - 1];
	char from[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &r->from, from, sizeof(from));
	printf("%zu bytes from %s: icmp_seq=%u ttl=%u time=%" PRIu64 ".%03" PRIu64 " ms%s\n",
	       r->len + 8, from, r->seq, r->ttl, rtt / NS_PER_MS, rtt / 1000 % 1000, dup ? " (DUP!)" : "");
	if (dup)
		return;
	p->answered[r->seq - 1] = true;
	if (p->received == 0 || rtt < p->rtt_min)
		p->rtt_min = rtt;
	if (rtt > p->rtt_max)
		p->rtt_max = rtt;
	p->rtt_sum += rtt;
	p->received++;
}

/* ------------------------------------------------------------- trace */

static void trace_out(struct demo_trace *t, const char *line)
{
	fputs(line, t->f);
	fputc('\n', t->f);
}

static void trace_flush_skipped(struct demo_trace *t)
{
	if (!t->skipped)
		return;
	fprintf(t->f, "           ... %" PRIu64 " frame%s not shown (--verbose shows every frame) ...\n", t->skipped,
		t->skipped == 1 ? "" : "s");
	t->skipped_total += t->skipped;
	t->skipped = 0;
}

/* Print the newest keep frames of the ring (counting the rest as skipped)
 * and empty it. */
static void trace_flush_ring(struct demo_trace *t, size_t keep)
{
	if (keep > t->ring_n)
		keep = t->ring_n;
	t->skipped += t->ring_n - keep;
	trace_flush_skipped(t);
	for (size_t i = t->ring_n - keep; i < t->ring_n; i++)
		trace_out(t, t->ring[(t->ring_head + i) % TRACE_EDGE]);
	t->ring_n = 0;
	t->ring_head = 0;
}

static void trace_keep(struct demo_trace *t, const char *line)
{
	if (t->ring_n == TRACE_EDGE) {
		t->ring_head = (t->ring_head + 1) % TRACE_EDGE;
		t->ring_n--;
		t->skipped++;
	}
	snprintf(t->ring[(t->ring_head + t->ring_n) % TRACE_EDGE], TRACE_LINE, "%s", line);
	t->ring_n++;
}

/* End the quiet part: what the ring holds is the transfer's last frames. */
static void trace_end_quiet(struct demo_trace *t)
{
	if (!t->quiet_part)
		return;
	trace_flush_ring(t, TRACE_EDGE);
	t->quiet_part = false;
}

static void trace_emit_event(struct demo_trace *t, const char *line)
{
	if (t->quiet_part) {
		trace_flush_ring(t, TRACE_CONTEXT);
		t->after = TRACE_CONTEXT;
	}
	trace_out(t, line);
}

static void trace_emit_frame(struct demo_trace *t, const char *line)
{
	if (!t->quiet_part) {
		trace_out(t, line);
	} else if (t->shown < TRACE_EDGE || t->after > 0) {
		if (t->shown >= TRACE_EDGE)
			t->after--;
		t->shown++;
		trace_out(t, line);
	} else {
		trace_keep(t, line);
	}
}

/* TCP flags of an Ethernet/IPv4/TCP frame, or 0. */
static uint8_t frame_tcp_flags(const uint8_t *f, size_t len)
{
	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6)
		return 0;
	size_t ihl = (size_t)(f[14] & 0x0f) * 4;
	if (len < 14 + ihl + 14)
		return 0;
	return f[14 + ihl + 13];
}

/* The wire drops frames silently: a frame its counters say was lost is
 * the last one that side sent. */
static void trace_check_losses(struct demo_trace *t, uint64_t ts_ns)
{
	static const char *const who[2] = { "client", "server" };
	for (int dir = 0; dir < 2; dir++) {
		struct synack_sim_stats s = synack_sim_wire_stats(t->wire, dir);
		uint64_t lost = s.lost + s.queue_drops;
		while (t->lost_seen[dir] < lost) {
			char line[TRACE_LINE + 64];
			t->lost_seen[dir]++;
			if (t->last_tx_flood[dir]) {
				t->flood_lost++;
				continue;
			}
			snprintf(line, sizeof(line), "%3" PRIu64 ".%06" PRIu64 " wire   ! lost %s's frame: %s",
				 ts_ns / NS_PER_SEC, ts_ns / 1000 % 1000000, who[dir], t->last_tx[dir]);
			trace_emit_event(t, line);
		}
	}
}

/* --flood: the flood's filter sees each line first. True when the line
 * is the flood's and is only counted. */
static bool trace_flood(struct demo_trace *t, const struct synack_trace_event *ev)
{
	char note[TRACE_LINE];
	if (!t->flood)
		return false;
	bool hidden = demo_flood_filter(t->flood, ev, note, sizeof(note));
	if (note[0])
		trace_emit_event(t, note);
	if (ev->kind == SYNACK_TRACE_FRAME_TX)
		t->last_tx_flood[ev->stack == t->stacks[1]] = demo_flood_frame(ev->frame, ev->frame_len);
	return hidden;
}

static void demo_trace_sink(void *ctx, const struct synack_trace_event *ev)
{
	struct demo_trace *t = ctx;
	char line[TRACE_LINE];
	trace_check_losses(t, ev->ts_ns);
	if (trace_flood(t, ev))
		return;
	cli_trace_format(line, sizeof(line), ev);
	if (ev->kind == SYNACK_TRACE_FRAME_TX || ev->kind == SYNACK_TRACE_FRAME_RX) {
		if (ev->kind == SYNACK_TRACE_FRAME_TX) {
			int side = ev->stack == t->stacks[1];
			synack_format_frame(t->last_tx[side], sizeof(t->last_tx[side]), ev->frame, ev->frame_len);
		}
		if (frame_tcp_flags(ev->frame, ev->frame_len) & 0x05)   /* FIN or RST */
			trace_end_quiet(t);
		trace_emit_frame(t, line);
		return;
	}
	if (ev->name && strcmp(ev->name, "tcp_time_wait") == 0)
		t->tw_entered++;
	if (ev->name && strcmp(ev->name, "tw_timer_handler") == 0)
		t->tw_expired++;
	trace_emit_event(t, line);
}

/* An event the CLI itself causes (it calls close, shutdown, accept), in
 * the trace's layout and order. */
static void demo_note(struct demo *d, int side, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void demo_note(struct demo *d, int side, const char *name, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	struct synack_trace_event ev = {
		.ts_ns = synack_clock_now(d->clk), .kind = SYNACK_TRACE_EVENT, .stack = d->stacks[side],
		.name = name, .text = text,
	};
	demo_trace_sink(&d->trace, &ev);
}

static int new_named_stack(struct demo *d, const char *name, uint64_t seed, struct stack **out)
{
	struct synack_stack_config cfg = { .clock = d->clk, .name = name, .seeded = true, .seed = seed };
	int err = synack_stack_new(&cfg, out);
	if (err < 0) {
		fprintf(stderr, "synack demo: creating stack %s: %s\n", name, cli_errstr(err));
		return err;
	}
	synack_trace_set_sink(*out, demo_trace_sink, &d->trace);
	return 0;
}

/* gw: a default gateway, or NULL for none. */
static int bring_up(struct stack *st, struct synack_link *l, const char *cidr, const char *gw)
{
	struct synack_if_config cfg = { 0 };
	int err = synack_parse_cidr(cidr, &cfg.addr, &cfg.prefix_len);
	if (err == 0 && gw && inet_pton(AF_INET, gw, &cfg.gateway) != 1)
		err = -EINVAL;
	if (err == 0)
		err = synack_if_up(st, l, &cfg);
	if (err < 0)
		fprintf(stderr, "synack demo: bringing up %s as %s: %s\n", synack_stack_name(st), cidr,
			cli_errstr(err));
	return err;
}

static int build_wire(struct demo *d)
{
	struct synack_sim_config cfg = {
		.delay_ns = (uint64_t)(d->opt.delay_ms * (double)NS_PER_MS),
		.loss = d->opt.loss,
		.seed = d->opt.seed,
	};
	int err = synack_sim_wire_new(d->clk, &cfg, &d->wire);
	if (err < 0) {
		fprintf(stderr, "synack demo: creating the sim wire: %s\n", cli_errstr(err));
		return err;
	}
	d->client_link = synack_sim_wire_end(d->wire, 0);
	if (d->opt.pcap) {
		err = synack_pcap_wrap(d->client_link, d->clk, d->opt.pcap, &d->client_link);
		if (err < 0) {
			fprintf(stderr, "synack demo: %s: %s\n", d->opt.pcap, cli_errstr(err));
			return err;
		}
	}
	if (d->opt.flood) {
		/* Outside the pcap wrapper, so the capture has the flood too. */
		d->flood = demo_flood_new(d->opt.flood, d->opt.seed, d->client_link, d->tcp.srv.sin_addr.s_addr, TCP_PORT);
		if (!d->flood) {
			fprintf(stderr, "synack demo: out of memory\n");
			return -ENOMEM;
		}
	}
	return 0;
}

static int demo_setup(struct demo *d)
{
	d->clk = synack_clock_new_virtual(0);
	d->pings.sent_at = calloc(d->opt.count, sizeof(*d->pings.sent_at));
	d->pings.answered = calloc(d->opt.count, sizeof(*d->pings.answered));
	if (!d->clk || !d->pings.sent_at || !d->pings.answered) {
		fprintf(stderr, "synack demo: out of memory\n");
		return -1;
	}
	d->pings.clk = d->clk;
	d->tcp.srv = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(TCP_PORT) };
	inet_pton(AF_INET, "10.0.0.2", &d->tcp.srv.sin_addr);
	d->pings.count = d->opt.count;
	if (build_wire(d) < 0)
		return -1;
	d->trace.f = stdout;
	d->trace.verbose = d->opt.verbose;
	d->trace.wire = d->wire;
	/* Distinct seeds: the two stacks must not pick the same ISNs and ids. */
	if (new_named_stack(d, "client", d->opt.seed * 2 + 1, &d->stacks[0]) < 0 ||
	    new_named_stack(d, "server", d->opt.seed * 2 + 2, &d->stacks[1]) < 0)
		return -1;
	d->trace.stacks[0] = d->stacks[0];
	d->trace.stacks[1] = d->stacks[1];
	synack_ping_set_handler(d->stacks[0], on_echo_reply, &d->pings);
	struct synack_link *server_link = synack_sim_wire_end(d->wire, 1);
	if (d->flood) {
		demo_flood_set_server(d->flood, d->stacks[1], server_link->mac, TCP_BACKLOG);
		d->trace.flood = d->flood;
	}
	/* With --flood the server routes the spoofed sources through the client. */
	if (bring_up(d->stacks[0], d->flood ? demo_flood_link(d->flood) : d->client_link, "10.0.0.1/24", NULL) < 0 ||
	    bring_up(d->stacks[1], server_link, "10.0.0.2/24", d->flood ? DEMO_FLOOD_GATEWAY : NULL) < 0)
		return -1;
	return 0;
}

static void demo_teardown(struct demo *d)
{
	for (size_t i = 0; i < 2; i++)
		synack_stack_free(d->stacks[i]);
	/* The pcap wrapper owns the wire end, whose destroy leaves it to the wire. */
	if (d->client_link && d->opt.pcap)
		synack_link_destroy(d->client_link);
	synack_sim_wire_free(d->wire);
	demo_flood_free(d->flood);
	synack_clock_free(d->clk);
	free(d->pings.sent_at);
	free(d->pings.answered);
}

static void send_one_ping(struct demo *d, uint16_t seq, uint64_t *transmitted)
{
	uint8_t payload[PING_PAYLOAD];
	struct in_addr dst;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	inet_pton(AF_INET, "10.0.0.2", &dst);
	d->pings.sent_at[seq - 1] = synack_clock_now(d->clk);
	int err = synack_ping_send(d->stacks[0], dst, PING_ID, seq, payload, sizeof(payload));
	if (err < 0) {
		printf("ping: icmp_seq=%u: %s\n", seq, cli_errstr(err));
		return;
	}
	(*transmitted)++;
}

static uint64_t run_pings(struct demo *d)
{
	uint64_t transmitted = 0;
	uint64_t delay_ns = (uint64_t)(d->opt.delay_ms * (double)NS_PER_MS);
	for (uint64_t i = 0; i < d->opt.count; i++) {
		synack_run_virtual(d->clk, d->stacks, 2, i * NS_PER_SEC);
		send_one_ping(d, (uint16_t)(i + 1), &transmitted);
	}
	/* Like ping's final wait: one more second, plus time for a slow wire. */
	uint64_t end = (d->opt.count - 1) * NS_PER_SEC + NS_PER_SEC + 4 * delay_ns;
	synack_run_virtual(d->clk, d->stacks, 2, end);
	return transmitted;
}

static void print_ping_summary(const struct demo *d, uint64_t transmitted)
{
	const struct demo_pings *p = &d->pings;
	uint64_t lost_pct = transmitted ? (transmitted - p->received) * 100 / transmitted : 0;
	printf("\n--- 10.0.0.2 ping statistics ---\n");
	printf("%" PRIu64 " packets transmitted, %" PRIu64 " received, %" PRIu64 "%% packet loss\n",
	       transmitted, p->received, lost_pct);
	if (p->received == 0)
		return;
	uint64_t avg = p->rtt_sum / p->received;
	printf("rtt min/avg/max = %" PRIu64 ".%03" PRIu64 "/%" PRIu64 ".%03" PRIu64 "/%" PRIu64 ".%03" PRIu64 " ms\n",
	       p->rtt_min / NS_PER_MS, p->rtt_min / 1000 % 1000, avg / NS_PER_MS, avg / 1000 % 1000,
	       p->rtt_max / NS_PER_MS, p->rtt_max / 1000 % 1000);
}

/* --------------------------------------------------------------- TCP */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* --flood: put the spoofed SYNs that are due on the wire. The wire drops
 * some when lossy; those are counted, not reported one by one. */
static void flood_tick(struct demo *d)
{
	char line[TRACE_LINE];
	if (!d->flood)
		return;
	struct synack_sim_stats s0 = synack_sim_wire_stats(d->wire, 0);
	bool progress = demo_flood_pump(d->flood, synack_clock_now(d->clk), line, sizeof(line));
	struct synack_sim_stats s1 = synack_sim_wire_stats(d->wire, 0);
	uint64_t lost = s1.lost + s1.queue_drops - s0.lost - s0.queue_drops;
	d->trace.lost_seen[0] += lost;
	d->trace.flood_lost += lost;
	if (progress)
		trace_emit_event(&d->trace, line);
}

/* Run both stacks to their next event (a frame or a timer), but not past
 * limit, so the caller can look at the sockets between any two events. */
static void tcp_step(struct demo *d, uint64_t limit)
{
	flood_tick(d);
	uint64_t now = synack_clock_now(d->clk);
	uint64_t next = min_u64(synack_stack_next_deadline(d->stacks[0]), synack_stack_next_deadline(d->stacks[1]));
	if (d->flood)
		next = min_u64(next, demo_flood_next_ns(d->flood));
	next = min_u64(next, limit);
	if (next <= now)
		next = now + 1000;  /* always make progress */
	synack_run_virtual(d->clk, d->stacks, 2, next);
}

static int tcp_listen(struct demo *d)
{
	struct demo_tcp *t = &d->tcp;
	int one = 1, err;
	t->lfd = synack_socket(d->stacks[1]);
	if (t->lfd < 0) {
		fprintf(stderr, "synack demo: server socket: %s\n", cli_errstr(t->lfd));
		return t->lfd;
	}
	if ((err = synack_setsockopt(d->stacks[1], t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) < 0 ||
	    (err = synack_bind(d->stacks[1], t->lfd, &t->srv)) < 0 ||
	    (err = synack_listen(d->stacks[1], t->lfd, TCP_BACKLOG)) < 0) {
		fprintf(stderr, "synack demo: server listen on 10.0.0.2:%d: %s\n", TCP_PORT, cli_errstr(err));
		return err;
	}
	demo_note(d, 1, "inet_listen", "10.0.0.2:%d backlog %d",
		       TCP_PORT, TCP_BACKLOG);
	return 0;
}

static int tcp_start_connect(struct demo *d)
{
	struct demo_tcp *t = &d->tcp;
	t->cfd = synack_socket(d->stacks[0]);
	if (t->cfd < 0) {
		fprintf(stderr, "synack demo: client socket: %s\n", cli_errstr(t->cfd));
		return t->cfd;
	}
	t->start_ns = synack_clock_now(d->clk);
	int r = synack_connect(d->stacks[0], t->cfd, &t->srv);
	synack_getsockname(d->stacks[0], t->cfd, &t->local);    /* the port connect chose */
	if (d->flood)
		demo_flood_set_client_port(d->flood, ntohs(t->local.sin_port));
	if (r == 0) {
		t->connected = true;
		t->connected_ns = t->start_ns;
	} else if (r != -EINPROGRESS) {
		t->err = r;
	}
	return 0;
}

/* What a non-blocking client does when poll() wakes it: connect() again
 * tells whether the handshake finished or failed. */
static void tcp_check_connect(struct demo *d)
{
	struct demo_tcp *t = &d->tcp;
	if (t->connected || t->err)
		return;
	int mask = synack_poll(d->stacks[0], t->cfd);
	if (mask < 0) {
		t->err = mask;
		return;
	}
	if (!(mask & (POLLOUT | POLLERR | POLLHUP)))
		return;
	int r = synack_connect(d->stacks[0], t->cfd, &t->srv);
	if (r == 0) {
		t->connected = true;
		t->connected_ns = synack_clock_now(d->clk);
	} else if (r != -EALREADY && r != -EINPROGRESS) {
		t->err = r;
		t->failed_ns = synack_clock_now(d->clk);
	}
}

/* The CLI is accept()'s caller: it reports what inet_csk_accept returns. */
static void tcp_check_accept(struct demo *d)
{
	struct demo_tcp *t = &d->tcp;
	if (t->afd >= 0)
		return;
	struct sockaddr_in peer;
	int fd = synack_accept(d->stacks[1], t->lfd, &peer);
	if (fd < 0)
		return;
	char p[CLI_SIN_STRLEN];
	t->afd = fd;
	t->accepted_ns = synack_clock_now(d->clk);
	cli_format_sin(p, &peer);
	demo_note(d, 1, "inet_csk_accept", "%s", p);
}

/* --flood: start it, and run until half of it is out, so the SYN queue
 * has overflowed before the client's SYN arrives. */
static void flood_first_half(struct demo *d)
{
	if (!d->flood)
		return;
	uint64_t now = synack_clock_now(d->clk);
	demo_flood_start(d->flood, now, FLOOD_GAP_NS);
	printf("\nThe client's side sends %" PRIu64 " spoofed SYNs (one every %" PRIu64 " us, from 198.18.0.0/15);\n"
	       "the client connects once half of them are out.\n",
	       d->opt.flood, FLOOD_GAP_NS / 1000);
	uint64_t limit = now + FLOOD_MAX * FLOOD_GAP_NS;
	while (demo_flood_sent(d->flood) < (d->opt.flood + 1) / 2 && synack_clock_now(d->clk) < limit)
		tcp_step(d, limit);
}

/* --flood: the rest of it, before the transfer starts. */
static void flood_rest(struct demo *d)
{
	if (!d->flood)
		return;
	uint64_t limit = synack_clock_now(d->clk) + FLOOD_MAX * FLOOD_GAP_NS;
	while (!demo_flood_done(d->flood) && synack_clock_now(d->clk) < limit)
		tcp_step(d, limit);
}

/* Listen, connect, and drive virtual time until the server accepted and
 * the client is connected, the connect failed, or the budget ran out.
 * With --flood, the flood starts first and is all sent before returning. */
static void tcp_handshake(struct demo *d)
{
	struct demo_tcp *t = &d->tcp;
	if (tcp_listen(d) < 0) {
		t->err = -EIO;
		return;
	}
	flood_first_half(d);
	if (tcp_start_connect(d) < 0) {
		t->err = t->err ? t->err : -EIO;
		return;
	}
	uint64_t limit = t->start_ns + TCP_BUDGET_NS;
	while (!t->err && !(t->connected && t->afd >= 0) && synack_clock_now(d->clk) < limit) {
		tcp_step(d, limit);
		tcp_check_connect(d);
		tcp_check_accept(d);
	}
	flood_rest(d);
	if (!t->connected && !t->err) {
		/* Out of budget while still connecting: what SO_ERROR holds. */
		int soerr = 0;
		unsigned int len = sizeof(soerr);
		if (synack_getsockopt(d->stacks[0], t->cfd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr)
			t->err = -soerr;
		else
			t->err = -ETIMEDOUT;
		t->failed_ns = synack_clock_now(d->clk);
	}
}

static void tcp_close_fd(struct demo *d, int side, int *fd)
{
	if (*fd < 0)
		return;
	int state = synack_tcp_state(d->stacks[side], *fd);
	demo_note(d, side, "tcp_close", "%s", synack_tcp_state_name(state));
	synack_close(d->stacks[side], *fd);
	*fd = -1;
}

/* Close whatever is still open (after a failed handshake or transfer) and
 * let the wire drain. */
static void tcp_close_all(struct demo *d)
{
	struct demo_tcp *t = &d->tcp;
	uint64_t delay_ns = (uint64_t)(d->opt.delay_ms * (double)NS_PER_MS);
	tcp_close_fd(d, 0, &t->cfd);
	synack_run_virtual(d->clk, d->stacks, 2, synack_clock_now(d->clk) + 2 * delay_ns + NS_PER_MS);
	tcp_close_fd(d, 1, &t->afd);
	tcp_close_fd(d, 1, &t->lfd);
	synack_run_virtual(d->clk, d->stacks, 2, synack_clock_now(d->clk) + 4 * delay_ns + 10 * NS_PER_MS);
}

/* --------------------------------------------------------- transfer */

/* Byte i of the transfer: a pattern with no short period. */
static uint8_t xfer_byte(uint64_t i)
{
	uint64_t x = (i >> 4) * UINT64_C(0x9e3779b97f4a7c15);
	return (uint8_t)((x >> 56) ^ i);
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

/* The server writes as long as send() takes bytes. */
static void xfer_send(struct demo *d)
{
	struct demo_xfer *x = &d->xfer;
	uint8_t buf[XFER_CHUNK];
	while (x->sent < d->opt.bytes && !x->err) {
		uint64_t left = d->opt.bytes - x->sent;
		size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = xfer_byte(x->sent + i);
		long r = synack_send(d->stacks[1], d->tcp.afd, buf, n, 0);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			x->err = (int)r;
			return;
		}
		x->hash_sent = fnv1a(x->hash_sent, buf, (size_t)r);
		x->sent += (uint64_t)r;
	}
}

/* The client reads what has arrived, to the end of the stream. */
static void xfer_recv(struct demo *d)
{
	struct demo_xfer *x = &d->xfer;
	uint8_t buf[XFER_CHUNK];
	while (!x->client_eof && !x->err) {
		long r = synack_recv(d->stacks[0], d->tcp.cfd, buf, sizeof(buf), 0);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			x->err = (int)r;
			return;
		}
		if (r == 0) {
			x->client_eof = true;
			x->eof_ns = synack_clock_now(d->clk);
			return;
		}
		x->hash_recv = fnv1a(x->hash_recv, buf, (size_t)r);
		x->received += (uint64_t)r;
	}
}

/*
 * After the handshake: the server sends --bytes and shuts down its sending
 * side (its FIN follows the data); the client reads to the end of the
 * stream and closes (its FIN); the server, in TIME-WAIT by then, closes its
 * descriptor and the listener. Then virtual time runs past TIME-WAIT.
 */
static void tcp_transfer(struct demo *d)
{
	struct demo_tcp *t = &d->tcp;
	struct demo_xfer *x = &d->xfer;
	x->hash_sent = x->hash_recv = FNV_OFFSET;
	x->start_ns = synack_clock_now(d->clk);
	printf("\nThe server sends %" PRIu64 " bytes; then both close.\n", d->opt.bytes);
	d->trace.quiet_part = !d->opt.verbose;
	uint64_t limit = x->start_ns + XFER_BUDGET_NS;
	while (!x->err && !(x->client_closed && x->server_closed) && synack_clock_now(d->clk) < limit) {
		xfer_send(d);
		if (!x->server_shut && x->sent == d->opt.bytes && !x->err) {
			/* The rest is the tail of the transfer: print it all. */
			trace_end_quiet(&d->trace);
			demo_note(d, 1, "inet_shutdown", "SHUT_WR after %" PRIu64 " bytes", x->sent);
			synack_shutdown(d->stacks[1], t->afd, SHUT_WR);
			x->server_shut = true;
		}
		xfer_recv(d);
		if (x->client_eof && !x->client_closed) {
			tcp_close_fd(d, 0, &t->cfd);
			x->client_closed = true;
		}
		if (x->server_shut && !x->server_closed) {
			int st = synack_tcp_state(d->stacks[1], t->afd);
			if (st == 7 /* CLOSE: the connection went to TIME-WAIT or failed */) {
				tcp_close_fd(d, 1, &t->afd);
				tcp_close_fd(d, 1, &t->lfd);
				x->server_closed = true;
				x->closed_ns = synack_clock_now(d->clk);
			}
		}
		if (!(x->client_closed && x->server_closed))
			tcp_step(d, limit);
	}
	trace_end_quiet(&d->trace);
	if (x->err)
		printf("synack demo: transfer: %s\n", cli_errstr(x->err));
	/* TIME-WAIT (60 s) runs out on virtual time. */
	synack_run_virtual(d->clk, d->stacks, 2, synack_clock_now(d->clk) + LINGER_NS);
	trace_check_losses(&d->trace, synack_clock_now(d->clk));
}

static bool xfer_ok(const struct demo *d)
{
	const struct demo_xfer *x = &d->xfer;
	return !x->err && x->client_eof && x->received == d->opt.bytes && x->sent == d->opt.bytes &&
	       x->hash_recv == x->hash_sent;
}

static void print_xfer_summary(const struct demo *d)
{
	const struct demo_xfer *x = &d->xfer;
	uint64_t end = x->eof_ns ? x->eof_ns : synack_clock_now(d->clk);
	uint64_t ns = end - x->start_ns;
	uint64_t retrans = synack_mib_value(d->stacks[0], "TcpRetransSegs") +
			   synack_mib_value(d->stacks[1], "TcpRetransSegs");
	double secs = (double)ns / 1e9;
	double goodput = secs > 0 ? (double)x->received * 8 / secs / 1e6 : 0.0;
	const struct demo_trace *t = &d->trace;
	char local[CLI_SIN_STRLEN];
	cli_format_sin(local, &d->tcp.local);
	printf("\n--- 10.0.0.2:%d -> %s transfer ---\n", TCP_PORT, local);
	printf("%" PRIu64 " of %" PRIu64 " bytes %s in %" PRIu64 ".%06" PRIu64 " s of virtual time, %" PRIu64
	       " retransmission%s, goodput %.2f Mbit/s; sockets %s\n",
	       x->received, d->opt.bytes, xfer_ok(d) ? "intact (FNV-1a matches)" : "NOT intact", ns / NS_PER_SEC,
	       ns / 1000 % 1000000, retrans, retrans == 1 ? "" : "s", goodput,
	       x->client_closed && x->server_closed && t->tw_expired >= t->tw_entered
		       ? "closed and TIME-WAIT over"
		       : "NOT all closed");
	if (t->skipped_total)
		printf("(%" PRIu64 " frames of the transfer not shown; --verbose shows them)\n", t->skipped_total);
}

static void print_ms(const char *what, uint64_t ns)
{
	printf("%s %" PRIu64 ".%03" PRIu64 " ms", what, ns / NS_PER_MS, ns / 1000 % 1000);
}

static void print_tcp_summary(const struct demo *d)
{
	const struct demo_tcp *t = &d->tcp;
	char local[CLI_SIN_STRLEN] = "10.0.0.1", srv[CLI_SIN_STRLEN];
	if (t->local.sin_port)
		cli_format_sin(local, &t->local);
	cli_format_sin(srv, &t->srv);
	printf("\n--- %s -> %s TCP handshake ---\n", local, srv);
	if (t->connected) {
		print_ms("connect: connected in", t->connected_ns - t->start_ns);
		printf("\n");
	} else {
		printf("connect: %s after", cli_errstr(t->err));
		print_ms("", t->failed_ns - t->start_ns);
		printf("\n");
	}
	if (t->accepted_ns)
		print_ms("accept: accepted after", t->accepted_ns - t->start_ns);
	else if (t->connected)
		printf("accept: nothing accepted (the client is half-open: no third ACK reached the server)");
	else
		printf("accept: nothing accepted");
	printf("\n");
	printf("SYN retransmissions %" PRIu64 ", SYN-ACK retransmissions %" PRIu64 "\n",
	       synack_mib_value(d->stacks[0], "TcpExtTCPSynRetrans"),
	       synack_mib_value(d->stacks[1], "TcpExtTCPSynRetrans"));
}

static void print_flood_summary(const struct demo *d)
{
	demo_flood_print_summary(d->flood, stdout);
	if (d->trace.flood_lost)
		printf("(the wire dropped %" PRIu64 " frames of the flood)\n", d->trace.flood_lost);
}

static void print_wire_stats(const struct demo *d)
{
	static const char *const dirs[] = { "client -> server", "server -> client" };
	for (int dir = 0; dir < 2; dir++) {
		struct synack_sim_stats s = synack_sim_wire_stats(d->wire, dir);
		printf("wire %s: sent %" PRIu64 ", delivered %" PRIu64 ", lost %" PRIu64 "\n", dirs[dir], s.sent,
		       s.delivered, s.lost);
	}
}

static void print_stats(const struct demo *d)
{
	for (size_t i = 0; i < 2; i++) {
		printf("\n%s counters:\n", synack_stack_name(d->stacks[i]));
		fflush(stdout);
		synack_mib_print_nstat(d->stacks[i], stdout);
	}
	printf("\n");
	print_wire_stats(d);
}

/* ------------------------------------------------------------ --fastopen */

#define TFO_PORT 8080
#define TFO_REQUEST "GET / HTTP/1.0\r\n\r\n"
#define TFO_REPLY "HTTP/1.0 200 OK\r\n\r\nhello over Fast Open\n"
#ifndef TCP_FASTOPEN
#define TCP_FASTOPEN 23
#endif
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

/* One request/response over a TCP_FASTOPEN_CONNECT socket, as a browser
 * would do it: connect(), write the request, read the reply. Returns the
 * time from connect() to the whole reply, or 0 on failure. */
static uint64_t tfo_exchange(struct demo *d, int lfd, int round)
{
	struct sockaddr_in srv = d->tcp.srv;
	int one = 1, cfd = synack_socket(d->stacks[0]), afd = -1;
	bool sent_req = false, replied = false;
	size_t got = 0;
	char buf[256];
	uint64_t start = synack_clock_now(d->clk), limit = start + TCP_BUDGET_NS, done = 0;

	srv.sin_port = htons(TFO_PORT);
	synack_setsockopt(d->stacks[0], cfd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one));
	int r = synack_connect(d->stacks[0], cfd, &srv);
	demo_note(d, 0, "tcp_fastopen_defer_connect", "connection %d: connect() = %s (%s)", round,
		  r == 0 ? "0" : cli_errstr(r),
		  r == 0 ? "a cookie is cached: the SYN waits for the request" : "no cookie: the SYN asks for one");
	while (!done && synack_clock_now(d->clk) < limit) {
		if (!sent_req && synack_send(d->stacks[0], cfd, TFO_REQUEST, strlen(TFO_REQUEST), 0) > 0)
			sent_req = true;
		if (afd < 0)
			afd = synack_accept(d->stacks[1], lfd, NULL);
		if (afd >= 0 && !replied && synack_recv(d->stacks[1], afd, buf, sizeof(buf), 0) > 0) {
			demo_note(d, 1, "tcp_recvmsg", "the request arrived (state %s); the server replies",
				  synack_tcp_state_name(synack_tcp_state(d->stacks[1], afd)));
			synack_send(d->stacks[1], afd, TFO_REPLY, strlen(TFO_REPLY), 0);
			replied = true;
		}
		long n = synack_recv(d->stacks[0], cfd, buf, sizeof(buf), 0);
		if (n > 0 && (got += (size_t)n) >= strlen(TFO_REPLY))
			done = synack_clock_now(d->clk);
		if (!done)
			tcp_step(d, limit);
	}
	synack_close(d->stacks[0], cfd);
	if (afd >= 0)
		synack_close(d->stacks[1], afd);
	synack_run_virtual(d->clk, d->stacks, 2, synack_clock_now(d->clk) + 10 * NS_PER_MS);
	return done ? done - start : 0;
}

/* Two exchanges: the first learns a cookie, the second sends its request
 * in the SYN and has its reply one round trip sooner. */
static bool demo_fastopen(struct demo *d)
{
	int one = 16, lfd = synack_socket(d->stacks[1]);
	struct sockaddr_in srv = d->tcp.srv;
	uint64_t t[2];

	printf("\nTCP Fast Open: the server listens on 10.0.0.2:%d with TCP_FASTOPEN; the client\n"
	       "makes two requests with TCP_FASTOPEN_CONNECT (net.ipv4.tcp_fastopen = 3 on both).\n", TFO_PORT);
	synack_sysctl_set(d->stacks[0], "net.ipv4.tcp_fastopen", 3);
	synack_sysctl_set(d->stacks[1], "net.ipv4.tcp_fastopen", 3);
	srv.sin_port = htons(TFO_PORT);
	if (synack_bind(d->stacks[1], lfd, &srv) < 0 || synack_listen(d->stacks[1], lfd, TCP_BACKLOG) < 0 ||
	    synack_setsockopt(d->stacks[1], lfd, IPPROTO_TCP, TCP_FASTOPEN, &one, sizeof(one)) < 0) {
		fprintf(stderr, "synack demo: Fast Open listener failed\n");
		return false;
	}
	for (int i = 0; i < 2; i++)
		t[i] = tfo_exchange(d, lfd, i + 1);
	synack_close(d->stacks[1], lfd);
	printf("\n--- TCP Fast Open ---\n");
	printf("first request (cookie requested): reply after %" PRIu64 ".%03" PRIu64 " ms\n", t[0] / NS_PER_MS,
	       t[0] / 1000 % 1000);
	printf("second request (in the SYN):      reply after %" PRIu64 ".%03" PRIu64 " ms\n", t[1] / NS_PER_MS,
	       t[1] / 1000 % 1000);
	printf("client TCPFastOpenActive %" PRIu64 ", server TCPFastOpenPassive %" PRIu64
	       ", TCPFastOpenCookieReqd %" PRIu64 "\n",
	       synack_mib_value(d->stacks[0], "TcpExtTCPFastOpenActive"),
	       synack_mib_value(d->stacks[1], "TcpExtTCPFastOpenPassive"),
	       synack_mib_value(d->stacks[1], "TcpExtTCPFastOpenCookieReqd"));
	return t[0] && t[1] && t[1] < t[0] && synack_mib_value(d->stacks[1], "TcpExtTCPFastOpenPassive") == 1;
}

static int run_demo(const struct cli_command *cmd, int argc, char **argv)
{
	struct demo d = { .tcp = { .lfd = -1, .cfd = -1, .afd = -1 } };
	int rc = parse_demo_opts(cmd, argc, argv, &d.opt);
	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	printf("PING 10.0.0.2 (10.0.0.2) %d(%d) bytes of data.\n", PING_PAYLOAD, PING_PAYLOAD + 28);
	if (demo_setup(&d) < 0) {
		demo_teardown(&d);
		return CLI_EXIT_FAIL;
	}
	uint64_t transmitted = run_pings(&d);
	print_ping_summary(&d, transmitted);

	printf("\nTCP 10.0.0.1 -> 10.0.0.2:%d: the server listens, the client connects.\n", TCP_PORT);
	tcp_handshake(&d);
	bool ok = d.tcp.connected && d.tcp.afd >= 0;
	if (ok)
		tcp_transfer(&d);
	tcp_close_all(&d);
	print_tcp_summary(&d);
	if (d.flood)
		print_flood_summary(&d);
	if (ok) {
		print_xfer_summary(&d);
		ok = xfer_ok(&d);
	}
	if (ok && d.opt.fastopen) {
		ok = demo_fastopen(&d);
		synack_run_virtual(d.clk, d.stacks, 2, synack_clock_now(d.clk) + LINGER_NS);
	}
	if (d.opt.stats)
		print_stats(&d);
	rc = ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	demo_teardown(&d);
	return rc;
}

const struct cli_command cli_cmd_demo = {
	.name = "demo",
	.run = run_demo,
	.summary = "ping, TCP handshake, transfer and close between two stacks on a simulated wire (no root)",
	.usage =
		"usage: synack demo [--bytes N] [--loss P] [--delay MS] [--seed N] [--pcap FILE]\n"
		"                   [--count N] [--verbose] [--stats] [--flood N] [--fastopen]\n"
		"\n"
		"Two stacks, client 10.0.0.1/24 and server 10.0.0.2/24, joined by a simulated\n"
		"wire on virtual time. The client pings the server (once a second), then\n"
		"connects to a TCP listener on 10.0.0.2:80; the server accepts and sends N\n"
		"bytes, then shuts down its side; the client reads to the end and closes; the\n"
		"server's connection goes through TIME-WAIT, and virtual time runs on until\n"
		"TIME-WAIT is over. Frames are printed in tcpdump's style, interleaved with the\n"
		"state changes and the Linux function each step mirrors (tcp_v4_connect,\n"
		"tcp_conn_request, inet_csk_accept, tcp_retransmit_skb, tcp_enter_recovery,\n"
		"tcp_fin, tcp_time_wait, tw_timer_handler...); a frame the wire drops shows\n"
		"as \"wire ! lost\". Of the transfer, the first and last 30 frames are shown,\n"
		"and each event with the 3 frames either side; the rest are counted (--verbose\n"
		"prints every frame). A last line sums up: bytes, virtual time, retransmissions\n"
		"and goodput. With loss, SYNs are retransmitted on Linux's schedule (the client\n"
		"gives up after 131 s of virtual time) and data is recovered by fast\n"
		"retransmit, RACK, tail loss probes or the retransmission timer. The same seed\n"
		"gives the same output.\n"
		"\n"
		"  --loss P      probability that the wire drops a frame (0..1, default 0)\n"
		"  --delay MS    one-way wire delay in milliseconds (default 1)\n"
		"  --seed N      seed for the wire's faults and the stacks (default 1)\n"
		"  --pcap FILE   record the client's frames to a pcap file\n"
		"  --count N     echo requests to send first (default 1)\n"
		"  --bytes N     bytes the server sends (default 1048576; 0: none)\n"
		"  --verbose     print every frame of the transfer\n"
		"  --stats       print both stacks' counters (nstat format) at the end\n"
		"  --flood N     a SYN flood: once the server listens, the client's side also\n"
		"                sends N spoofed SYNs (one every 50 us, from 198.18.0.0/15, which\n"
		"                the server routes through the client) and connects when half\n"
		"                are out. The SYN queue overflows, SYN cookies take over and the\n"
		"                connection completes through one; the first spoofed frames are\n"
		"                shown, then progress lines and a summary with the counts\n"
		"  --fastopen    then two request/response exchanges with TCP Fast Open: the\n"
		"                first asks for a cookie, the second carries its request in\n"
		"                the SYN and gets its reply one round trip sooner\n"
		"  --help        show this help\n"
		"\n"
		"Exit status: 0 when the handshake completed and every byte arrived intact\n"
		"(an FNV-1a hash of the stream matches), 1 otherwise, 2 on bad usage.\n",
};
