/* Two stacks move data over the sim wire, clean and faulty, for many
 * seeds: every byte arrives once and in order (hash compared), and the
 * connection closes cleanly. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "test.h"
#include "core/siphash.h"
#include "core/stack.h"
#include "synack/synack.h"

struct pair {
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct stack *st[2];
};

/* SYNACK_TRACE=1 prints every frame and event, for debugging one seed. */
static void print_sink(void *ctx, const struct synack_trace_event *ev)
{
	char buf[512];

	if (ev->kind == SYNACK_TRACE_FRAME_TX) {
		synack_format_frame(buf, sizeof(buf), ev->frame, ev->frame_len);
		printf("%11.6f %s > %s\n", (double)ev->ts_ns / 1e9, (const char *)ctx, buf);
	} else if (ev->kind == SYNACK_TRACE_FRAME_RX && getenv("SYNACK_TRACE_RX")) {
		synack_format_frame(buf, sizeof(buf), ev->frame, ev->frame_len);
		printf("%11.6f %s < %s\n", (double)ev->ts_ns / 1e9, (const char *)ctx, buf);
	} else if (ev->kind != SYNACK_TRACE_FRAME_RX) {
		printf("%11.6f %s   %s: %s\n", (double)ev->ts_ns / 1e9, (const char *)ctx, ev->name, ev->text);
	}
}

static int pair_up(struct pair *p, const struct synack_sim_config *wc)
{
	const char *addr[2] = { "10.0.0.1", "10.0.0.2" };

	p->clk = synack_clock_new_virtual(0);
	if (synack_sim_wire_new(p->clk, wc, &p->wire))
		return -1;
	for (int i = 0; i < 2; i++) {
		struct synack_stack_config sc = { .clock = p->clk, .name = i ? "server" : "client", .seeded = true,
						  .seed = wc->seed * 2 + (uint64_t)i };
		struct synack_if_config ic = { .prefix_len = 24 };
		inet_pton(AF_INET, addr[i], &ic.addr);
		if (synack_stack_new(&sc, &p->st[i]))
			return -1;
		if (getenv("SYNACK_TRACE"))
			synack_trace_set_sink(p->st[i], print_sink, (void *)(i ? "server" : "client"));
		if (synack_if_up(p->st[i], synack_sim_wire_end(p->wire, i), &ic))
			return -1;
	}
	return 0;
}

static size_t pair_down(struct pair *p)
{
	size_t live = 0;

	for (int i = 0; i < 2; i++) {
		live += p->st[i]->skb_pool.live_skbs;
		synack_stack_free(p->st[i]);
	}
	synack_sim_wire_free(p->wire);
	synack_clock_free(p->clk);
	return live;
}

/* The server (10.0.0.2:80) listens, with SO_RCVBUF if rcvbuf > 0, and
 * the client connects to it: returns the listener. */
static int listen_and_connect(struct pair *p, int rcvbuf, int *cfd)
{
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(80) };
	int lfd = synack_socket(p->st[1]);

	inet_pton(AF_INET, "10.0.0.2", &srv.sin_addr);
	if (rcvbuf > 0)
		synack_setsockopt(p->st[1], lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	synack_bind(p->st[1], lfd, &srv);
	synack_listen(p->st[1], lfd, 8);
	*cfd = synack_socket(p->st[0]);
	synack_connect(p->st[0], *cfd, &srv);
	return lfd;
}

/* A deterministic byte stream: byte i of stream `id`. */
static uint8_t stream_byte(uint64_t id, uint64_t i) { return (uint8_t)((i * 2654435761u) ^ (id * 97) ^ (i >> 8)); }

struct flow {
	int fd;
	uint64_t id, total, sent, received;
	uint64_t hash_sent, hash_recv;
	bool eof;
};

static uint64_t mix(uint64_t h, uint8_t b) { return (h ^ b) * 1099511628211ULL; }

static void flow_send(struct stack *st, struct flow *f)
{
	uint8_t buf[4096];

	while (f->sent < f->total) {
		size_t n = (size_t)min_t(uint64_t, sizeof(buf), f->total - f->sent);
		long r;
		for (size_t i = 0; i < n; i++)
			buf[i] = stream_byte(f->id, f->sent + i);
		r = synack_send(st, f->fd, buf, n, 0);
		if (r <= 0)
			break;
		for (long i = 0; i < r; i++)
			f->hash_sent = mix(f->hash_sent, buf[i]);
		f->sent += (uint64_t)r;
	}
}

static void flow_recv(struct stack *st, struct flow *f, uint64_t expect_id, uint64_t *bad)
{
	uint8_t buf[4096];
	long r;

	while ((r = synack_recv(st, f->fd, buf, sizeof(buf), 0)) > 0) {
		for (long i = 0; i < r; i++) {
			if (buf[i] != stream_byte(expect_id, f->received + (uint64_t)i))
				(*bad)++;
			f->hash_recv = mix(f->hash_recv, buf[i]);
		}
		f->received += (uint64_t)r;
	}
	if (r == 0)
		f->eof = true;
}

struct result {
	bool ok;
	uint64_t bad, retrans, undos;
	uint64_t ns;
};

/* Client sends `up` bytes, server sends `down` bytes; both shut down
 * their sending side when done and close at EOF. */
static struct result transfer(const struct synack_sim_config *wc, uint64_t up, uint64_t down, uint64_t budget_ns)
{
	struct result res = { 0 };
	struct pair p;
	struct flow c = { .id = 1, .total = up, .hash_sent = 14695981039346656037ULL, .hash_recv = 14695981039346656037ULL };
	struct flow s = { .id = 2, .total = down, .hash_sent = 14695981039346656037ULL, .hash_recv = 14695981039346656037ULL, .fd = -1 };
	bool c_shut = false, s_shut = false, c_closed = false, s_closed = false;
	int lfd;
	uint64_t t0;

	if (pair_up(&p, wc))
		return res;
	lfd = listen_and_connect(&p, 0, &c.fd);
	t0 = synack_clock_now(p.clk);
	while (synack_clock_now(p.clk) - t0 < budget_ns && !(c_closed && s_closed)) {
		synack_run_virtual(p.clk, p.st, 2, synack_clock_now(p.clk) + 1000000);
		if (s.fd < 0)
			s.fd = synack_accept(p.st[1], lfd, NULL);
		if (synack_tcp_state(p.st[0], c.fd) == 1 || c.sent) {
			if (!c_closed) {
				flow_send(p.st[0], &c);
				flow_recv(p.st[0], &c, 2, &res.bad);
			}
			if (!c_shut && c.sent == c.total && synack_shutdown(p.st[0], c.fd, SHUT_WR) == 0)
				c_shut = true;
		}
		if (s.fd >= 0 && !s_closed) {
			flow_send(p.st[1], &s);
			flow_recv(p.st[1], &s, 1, &res.bad);
			if (!s_shut && s.sent == s.total && synack_shutdown(p.st[1], s.fd, SHUT_WR) == 0)
				s_shut = true;
		}
		if (c_shut && c.eof && !c_closed) {
			synack_close(p.st[0], c.fd);
			c_closed = true;
		}
		if (s_shut && s.eof && !s_closed) {
			synack_close(p.st[1], s.fd);
			s_closed = true;
		}
	}
	res.ns = synack_clock_now(p.clk) - t0;
	res.retrans = synack_mib_value(p.st[0], "TcpRetransSegs") + synack_mib_value(p.st[1], "TcpRetransSegs");
	for (int i = 0; i < 2; i++)
		res.undos += synack_mib_value(p.st[i], "TcpExtTCPDSACKUndo") + synack_mib_value(p.st[i], "TcpExtTCPFullUndo") +
			     synack_mib_value(p.st[i], "TcpExtTCPLossUndo");
	res.ok = c_closed && s_closed && c.received == down && s.received == up && c.hash_recv == s.hash_sent &&
		 s.hash_recv == c.hash_sent && res.bad == 0;
	if (!res.ok)
		fprintf(stderr, "seed %llu: up %llu/%llu down %llu/%llu closed %d/%d bad %llu\n",
			(unsigned long long)wc->seed, (unsigned long long)s.received, (unsigned long long)up,
			(unsigned long long)c.received, (unsigned long long)down, c_closed, s_closed,
			(unsigned long long)res.bad);
	synack_close(p.st[1], lfd);
	/* TIME-WAIT and the close states run out; nothing may be left behind. */
	synack_run_virtual(p.clk, p.st, 2, synack_clock_now(p.clk) + 200ULL * 1000000000ULL);
	if (p.st[0]->skb_pool.live_skbs || p.st[1]->skb_pool.live_skbs) {
		fprintf(stderr, "seed %llu: skbs still live: %zu/%zu\n", (unsigned long long)wc->seed,
			p.st[0]->skb_pool.live_skbs, p.st[1]->skb_pool.live_skbs);
		res.ok = false;
	}
	pair_down(&p);
	return res;
}

TEST(transfer_clean_link_both_directions)
{
	struct synack_sim_config wc = { .delay_ns = 1000000, .seed = 1, .bandwidth_bps = 1000000000ULL };
	struct result r = transfer(&wc, 300000, 1000000, 60ULL * 1000000000ULL);

	CHECK(r.ok);
	CHECK_EQ(r.retrans, 0);
}

TEST(transfer_small_writes_both_directions)
{
	struct synack_sim_config wc = { .delay_ns = 5000000, .seed = 2 };
	struct result r = transfer(&wc, 1, 7, 30ULL * 1000000000ULL);

	CHECK(r.ok);
}

static void faulty_seeds(double loss, double reorder, double dup, double corrupt, int seeds, uint64_t bytes)
{
	int ok = 0;

	for (int i = 1; i <= seeds; i++) {
		struct synack_sim_config wc = { .delay_ns = 2000000, .jitter_ns = 500000, .loss = loss, .reorder = reorder,
						.duplicate = dup, .corrupt = corrupt, .seed = (uint64_t)i * 7919,
						.bandwidth_bps = 100000000ULL };
		struct result r = transfer(&wc, bytes, bytes, 600ULL * 1000000000ULL);
		ok += r.ok;
	}
	CHECK_EQ(ok, seeds);
}

TEST(transfer_loss_2pct_many_seeds) { faulty_seeds(0.02, 0, 0, 0, 20, 200000); }
TEST(transfer_loss_10pct_many_seeds) { faulty_seeds(0.10, 0, 0, 0, 20, 100000); }
TEST(transfer_reorder_dup_corrupt_many_seeds) { faulty_seeds(0.02, 0.05, 0.02, 0.01, 20, 150000); }

/* Reordering without loss: what looked lost arrives late, D-SACKs and
 * timestamps show it, and the cwnd reduction is undone. */
TEST(transfer_reordering_undoes_spurious_recovery)
{
	uint64_t undos = 0, retrans = 0;
	int ok = 0;

	for (int i = 1; i <= 10; i++) {
		struct synack_sim_config wc = { .delay_ns = 2000000, .reorder = 0.005, .reorder_ns = 15000000,
						.seed = (uint64_t)i * 104729, .bandwidth_bps = 100000000ULL };
		struct result r = transfer(&wc, 300000, 300000, 600ULL * 1000000000ULL);
		ok += r.ok;
		undos += r.undos;
		retrans += r.retrans;
	}
	CHECK_EQ(ok, 10);
	CHECK(retrans > 0);
	CHECK(undos > 0);
}

#ifndef TCP_INFO
#define TCP_INFO 11 /* <netinet/tcp.h> clashes with the stack's own TCP names */
#endif

/* ---- receive-buffer autotuning (tcp_rcv_space_adjust, tcp_grow_window) ---- */

struct autotune {
	bool ok;
	uint64_t ns;                    /* until the server read the last byte */
	int rcvbuf;                     /* the server's SO_RCVBUF then */
	struct synack_tcp_info info;    /* the server's TCP_INFO then */
};

/* The client sends `bytes` to a server that reads everything at once, on
 * a path with a large bandwidth-delay product. lock_rcvbuf > 0: the
 * listener's SO_RCVBUF; moderate: net.ipv4.tcp_moderate_rcvbuf. */
static struct autotune autotune_run(uint64_t bytes, int lock_rcvbuf, bool moderate)
{
	struct synack_sim_config wc = { .delay_ns = 10000000, .bandwidth_bps = 1000000000ULL, .seed = 5 };
	struct flow c = { .id = 1, .total = bytes }, s = { .id = 2, .fd = -1 };
	struct autotune res = { 0 };
	unsigned int len;
	struct pair p;
	uint64_t bad = 0, t0;
	int lfd;

	if (pair_up(&p, &wc))
		return res;
	synack_sysctl_set(p.st[1], "net.ipv4.tcp_moderate_rcvbuf", moderate);
	lfd = listen_and_connect(&p, lock_rcvbuf, &c.fd);
	t0 = synack_clock_now(p.clk);
	while (s.received < bytes && synack_clock_now(p.clk) - t0 < 60ULL * 1000000000ULL) {
		synack_run_virtual(p.clk, p.st, 2, synack_clock_now(p.clk) + 1000000);
		if (s.fd < 0)
			s.fd = synack_accept(p.st[1], lfd, NULL);
		flow_send(p.st[0], &c);
		if (s.fd >= 0)
			flow_recv(p.st[1], &s, 1, &bad);
	}
	res.ns = synack_clock_now(p.clk) - t0;
	len = sizeof(res.rcvbuf);
	synack_getsockopt(p.st[1], s.fd, SOL_SOCKET, SO_RCVBUF, &res.rcvbuf, &len);
	len = sizeof(res.info);
	synack_getsockopt(p.st[1], s.fd, IPPROTO_TCP, TCP_INFO, &res.info, &len);
	res.ok = s.received == bytes && bad == 0;
	pair_down(&p);
	return res;
}

/* 20 ms RTT at 1 Gbit/s: the buffer follows what the reader drains per
 * RTT, the offered window (rcv_ssthresh) follows the buffer past 64 KiB,
 * and the transfer runs far faster than 64 KiB per RTT would allow. */
TEST(estab_rcvbuf_autotunes_to_the_path)
{
	struct autotune a = autotune_run(16u << 20, 0, true);

	CHECK(a.ok);
	CHECK(a.rcvbuf > 4 * 131072);
	CHECK(a.rcvbuf <= 33554432);
	CHECK(a.info.tcpi_rcv_ssthresh > 65535);
	/* The receiver's RTT estimate: 20 ms plus queueing, never below. */
	CHECK(a.info.tcpi_rcv_rtt >= 20000 && a.info.tcpi_rcv_rtt < 60000);
	CHECK(a.info.tcpi_rcv_space > 65535);
	/* 64 KiB per 20 ms would take 5 s for 16 MiB. */
	CHECK(a.ns < 2000000000ULL);
}

/* SO_RCVBUF pins the buffer (Linux: SOCK_RCVBUF_LOCK) and so the window. */
TEST(estab_rcvbuf_locked_keeps_its_window)
{
	struct autotune a = autotune_run(4u << 20, 65536, true);

	CHECK(a.ok);
	CHECK_EQ(a.rcvbuf, 131072);
	CHECK(a.info.tcpi_rcv_ssthresh <= 65536);
	CHECK(a.ns > 1000000000ULL); /* 4 MiB at <= 64 KiB per 20 ms: >= 1.28 s */
}

/* net.ipv4.tcp_moderate_rcvbuf = 0 turns the autotuning off. */
TEST(estab_rcvbuf_not_moderated_when_disabled)
{
	struct autotune a = autotune_run(4u << 20, 0, false);

	CHECK(a.ok);
	CHECK_EQ(a.rcvbuf, 131072);
	CHECK(a.info.tcpi_rcv_ssthresh <= 65536);
	CHECK(a.ns > 1000000000ULL);
}

/* A sender that writes ten segments every 50 ms never fills the 64 KiB
 * window within an RTT, so the window-based samples span several bursts;
 * the timestamp echoes give the receiver its RTT (here 50 ms: the peer
 * echoes our last ACK's TSval with its next burst). */
TEST(estab_rcv_rtt_from_timestamp_echoes)
{
	struct synack_sim_config wc = { .delay_ns = 10000000, .seed = 9 };
	struct flow c = { .id = 1, .total = 40 * 14480 }, s = { .id = 2, .fd = -1 };
	struct synack_tcp_info info = { 0 };
	unsigned int len = sizeof(info);
	uint64_t bad = 0;
	struct pair p;
	int lfd;

	REQUIRE(pair_up(&p, &wc) == 0);
	lfd = listen_and_connect(&p, 0, &c.fd);
	for (int ms = 0; ms < 3000 && s.received < c.total; ms++) {
		synack_run_virtual(p.clk, p.st, 2, synack_clock_now(p.clk) + 1000000);
		if (s.fd < 0)
			s.fd = synack_accept(p.st[1], lfd, NULL);
		if (ms >= 100 && ms % 50 == 0 && c.sent < c.total) {
			uint64_t keep = c.total;
			c.total = c.sent + 14480;
			flow_send(p.st[0], &c);
			c.total = keep;
		}
		if (s.fd >= 0)
			flow_recv(p.st[1], &s, 1, &bad);
	}
	CHECK_EQ(s.received, c.total);
	CHECK_EQ(bad, 0);
	synack_getsockopt(p.st[1], s.fd, IPPROTO_TCP, TCP_INFO, &info, &len);
	CHECK(info.tcpi_rcv_rtt >= 20000 && info.tcpi_rcv_rtt <= 80000);
	pair_down(&p);
}

int main(int argc, char **argv)
{
	if (argc >= 3) {
		/* One run: test_transfer SEED LOSS [REORDER] */
		struct synack_sim_config wc = { .delay_ns = 2000000, .jitter_ns = 500000, .loss = atof(argv[2]),
						.reorder = argc > 3 ? atof(argv[3]) : 0, .reorder_ns = 15000000,
						.seed = strtoull(argv[1], NULL, 10), .bandwidth_bps = 100000000ULL };
		return transfer(&wc, 150000, 150000, 600ULL * 1000000000ULL).ok ? 0 : 1;
	}
	RUN(transfer_clean_link_both_directions);
	RUN(transfer_small_writes_both_directions);
	RUN(transfer_loss_2pct_many_seeds);
	RUN(transfer_loss_10pct_many_seeds);
	RUN(transfer_reorder_dup_corrupt_many_seeds);
	RUN(transfer_reordering_undoes_spurious_recovery);
	RUN(estab_rcvbuf_autotunes_to_the_path);
	RUN(estab_rcvbuf_locked_keeps_its_window);
	RUN(estab_rcvbuf_not_moderated_when_disabled);
	RUN(estab_rcv_rtt_from_timestamp_echoes);
	return TEST_SUMMARY();
}
