/* Resource exhaustion: a peer (or many spoofed ones) tries to make the
 * stack hold memory it never gives back. Each scenario checks the stack's
 * own accounting (request socks, skbs, neighbour entries, queues against
 * their limits), the counters that say what was refused, and that a
 * legitimate connection or ping still gets through.
 *
 *  - SYN floods that never send the third ACK, with and without cookies,
 *    and from spoofed on-link sources (neighbour resolution);
 *  - ARP requests from thousands of senders;
 *  - peers that close their window and keep it closed, with the
 *    application holding the socket or having closed it (orphans);
 *  - tiny segments that fill the out-of-order queue or, unread, the
 *    receive queue. */
#include <arpa/inet.h>
#include "../test.h"
#include "harness.h"
#include "introspect.h"

static struct sc_usage usage(const struct sc *sc)
{
	struct sc_usage u;

	sc_usage(sc->st, &u);
	return u;
}

static struct sc_sock_usage sock_usage(const struct sc *sc, int fd)
{
	struct sc_sock_usage u;

	memset(&u, 0, sizeof(u));
	CHECK_EQ(sc_sock_usage(sc->st, fd, &u), 0);
	return u;
}

static bool established(struct sc *sc, struct sc_conn *c)
{
	return OPEN_ACTIVE(sc, c, SC_REMOTE_PORT) && ESTABLISH_ACTIVE(sc, c);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A SYN with Linux's options from sport (and saddr, 0: the peer). */
static void syn_from(struct sc *sc, uint32_t saddr, uint16_t sport, uint32_t seq, uint32_t tsval)
{
	struct sc_seg s = { .sport = sport, .dport = SC_SERVER_PORT, .flags = F_SYN, .seq = seq, .win = 64240 };
	const uint8_t o[] = { O_MSS(1460), O_SACKOK, O_TS(0, 0), O_NOP, O_WS(7) };

	memcpy(s.opt, o, sizeof(o));
	put32(s.opt + 6, tsval);
	s.optlen = sizeof(o);
	s.has_opt = true;
	if (saddr)
		s.saddr = (struct sc_u32)V(saddr);
	sc_inject(sc, &s);
}

/* A legitimate client completes a handshake (through a cookie or a
 * request sock) and the listener hands out the connection. */
static bool legit_handshake(struct sc *sc, int listener, uint16_t sport, int line)
{
	const struct sc_pkt *p;
	struct sc_seg s;
	int fd;

	sc_drain(sc);
	syn_from(sc, 0, sport, 0x12345678, 777);
	p = sc_expect_(sc, &(struct sc_want){ .flags = F_SYN | F_ACK, .ack = V(0x12345679), .dport = V(sport) }, __FILE__,
		       line);
	if (!p)
		return false;
	s = (struct sc_seg){ .sport = sport, .dport = SC_SERVER_PORT, .flags = F_ACK, .seq = 0x12345679,
			     .ack = p->seq + 1, .win = 500 };
	sc_seg_ts(&s, 778, p->tsval);
	sc_inject(sc, &s);
	fd = synack_accept(sc->st, listener, NULL);
	if (fd < 0 || sc_state(sc, fd) != TCP_ESTABLISHED) {
		fprintf(stderr, "%s:%d: the legitimate client was not accepted (%d)\n", __FILE__, line, fd);
		return false;
	}
	return true;
}
#define LEGIT_HANDSHAKE(sc, l, port) SC_CHK_(legit_handshake((sc), (l), (port), __LINE__))

/* ----------------------------------------------------------- SYN floods */

/* 5000 SYNs that never complete. The SYN queue holds at most the backlog;
 * every other SYN is answered statelessly with a cookie (tcp_syncookies
 * 1), so every SYN gets exactly one SYN-ACK and nothing else is kept. A
 * legitimate client gets in during the flood. After 63 s the requests
 * have expired and nothing remains. */
TEST(listen_syn_flood_with_cookies_bounded)
{
	struct sc *sc = sc_new(NULL);
	int l = sc_listen(sc, SC_SERVER_PORT, 64);
	uint64_t synacks = 0, seed = 99;
	uint32_t max_q = 0;
	struct sc_sock_usage lu;

	REQUIRE(l >= 0);
	for (uint32_t i = 0; i < 5000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		syn_from(sc, 0, (uint16_t)(10000 + i), (uint32_t)(seed >> 32), (uint32_t)seed);
		while (sc_pop(sc))
			synacks++;
		lu = sock_usage(sc, l);
		if (lu.syn_queue > max_q)
			max_q = lu.syn_queue;
	}
	CHECK_EQ(synacks, 5000);
	CHECK(max_q >= 60 && max_q <= 65);
	CHECK_MIB(sc, "TcpExtSyncookiesSent", 5000 - max_q);
	CHECK_MIB(sc, "TcpExtTCPReqQFullDoCookies", 5000 - max_q);
	CHECK_MIB(sc, "TcpExtListenDrops", 0);
	CHECK_EQ(usage(sc).ehash, max_q);
	CHECK_EQ(usage(sc).live_skbs, 0);
	CHECK(LEGIT_HANDSHAKE(sc, l, 40000));
	/* SYN-ACK retransmissions at 1, 3, 7, 15, 31 s; the requests expire at 63 s. */
	sc_advance(sc, SEC(64));
	sc_drain(sc);
	CHECK_EQ(sock_usage(sc, l).syn_queue, 0);
	CHECK_EQ(usage(sc).ehash, 1); /* the legitimate child */
	CHECK_EQ(usage(sc).live_skbs, 0);
	SC_FREE(sc);
}

/* Without cookies the flood fills the SYN queue and further SYNs are
 * dropped (ListenDrops, TCPReqQFullDrop) - the legitimate client too,
 * until the requests expire. Memory stays bounded all along. */
TEST(listen_syn_flood_without_cookies_drops_counted)
{
	struct sc *sc = sc_new(NULL);
	int l;
	uint64_t synacks = 0;
	uint32_t q;

	REQUIRE(sc_sysctl(sc, "net.ipv4.tcp_syncookies", 0) == 0);
	l = sc_listen(sc, SC_SERVER_PORT, 64);
	REQUIRE(l >= 0);
	for (uint32_t i = 0; i < 1000; i++) {
		syn_from(sc, 0, (uint16_t)(10000 + i), i * 7919u, i);
		while (sc_pop(sc))
			synacks++;
	}
	q = sock_usage(sc, l).syn_queue;
	CHECK(q >= 60 && q <= 65);
	CHECK_EQ(synacks, q);
	CHECK_MIB(sc, "TcpExtListenDrops", 1000 - q);
	CHECK_MIB(sc, "TcpExtTCPReqQFullDrop", 1000 - q);
	CHECK_MIB(sc, "TcpExtSyncookiesSent", 0);
	CHECK_EQ(usage(sc).live_skbs, 0);
	syn_from(sc, 0, 40000, 1, 1);
	EXPECT_NONE(sc);
	sc_advance(sc, SEC(64));
	sc_drain(sc);
	CHECK_EQ(sock_usage(sc, l).syn_queue, 0);
	CHECK(LEGIT_HANDSHAKE(sc, l, 40001));
	SC_FREE(sc);
}

/* SYNs from 200 spoofed on-link addresses: each SYN-ACK waits for an ARP
 * answer that never comes. The neighbour table holds at most gc_thresh3
 * entries (ArpTableFulls beyond), each with its one queued SYN-ACK; after
 * 3 unanswered requests the entries fail and the packets are freed
 * (ArpResFailed). Then the real peer connects. */
TEST(listen_syn_flood_spoofed_on_link_sources_bounded)
{
	struct sc *sc = sc_new(NULL);
	int l;
	uint32_t max_neigh = 0;
	size_t max_skbs = 0;

	REQUIRE(sc_sysctl(sc, "net.ipv4.neigh.default.gc_thresh3", 32) == 0);
	l = sc_listen(sc, SC_SERVER_PORT, 1024);
	REQUIRE(l >= 0);
	for (uint32_t i = 3; i < 203; i++) {
		struct sc_usage u;
		syn_from(sc, htonl(0xc0000200u + i), 5555, i, i);
		sc_usage(sc->st, &u);
		if (u.neigh_entries > max_neigh)
			max_neigh = u.neigh_entries;
		if (u.live_skbs > max_skbs)
			max_skbs = u.live_skbs;
	}
	EXPECT_NONE(sc); /* nothing reaches the wire but ARP requests */
	CHECK_EQ(max_neigh, 32);
	CHECK(max_skbs <= 32);
	CHECK_MIB(sc, "ArpTableFulls", 200 - 32);
	/* The table is full of pending resolutions: the real peer waits too. */
	syn_from(sc, 0, 40000, 1, 1);
	EXPECT_NONE(sc);
	sc_advance(sc, SEC(4));
	CHECK_MIB(sc, "ArpResFailed", 32);
	CHECK_EQ(usage(sc).live_skbs, 0);
	CHECK(LEGIT_HANDSHAKE(sc, l, 40002));
	SC_FREE(sc);
}

/* ------------------------------------------------------------ ARP flood */

static void arp_request_from(struct sc *sc, uint32_t sip, uint32_t n)
{
	uint8_t f[60] = { 0 }, *a = f + 14;
	uint8_t mac[6] = { 0x02, 0xee, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, 1 };

	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	a[1] = 1;
	a[2] = 0x08;
	a[4] = 6;
	a[5] = 4;
	a[7] = 1;
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, &sip, 4);
	memcpy(a + 24, &sc->local, 4);
	sc_inject_frame(sc, f, sizeof(f));
}

static bool peer_ping(struct sc *sc, uint16_t seq)
{
	uint8_t f[60] = { 0 }, *ip = f + 14, *ic = f + 34;
	uint32_t sum = 0;
	const struct sc_pkt *p;

	memcpy(f, sc->local_mac, 6);
	memcpy(f + 6, sc->peer_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 28;
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, &sc->remote, 4);
	memcpy(ip + 16, &sc->local, 4);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~((sum & 0xffff) + (sum >> 16));
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	ic[0] = 8;
	ic[7] = (uint8_t)seq;
	sum = 0x0800 + seq;
	sum = ~sum & 0xffff;
	ic[2] = (uint8_t)(sum >> 8);
	ic[3] = (uint8_t)sum;
	sc_inject_frame(sc, f, sizeof(f));
	p = sc_pop(sc);
	return p && p->protocol == 1 && p->frame[34] == 0;
}

/* 20000 ARP requests for our address from different senders. Each asker
 * is remembered (STALE) and answered while there is room; at gc_thresh3
 * (1024) entries nothing younger than 5 s can be evicted, so further
 * askers get no answer (ArpTableFulls) - nor does the real peer, whose
 * reply needs an entry. After 5 s the forced GC makes room again, and the
 * periodic GC empties the table of idle askers within a few minutes. */
TEST(arp_request_flood_many_senders_bounded)
{
	struct sc *sc = sc_new(NULL);
	uint32_t max_neigh = 0;
	struct sc_usage u;

	for (uint32_t i = 0; i < 20000; i++) {
		arp_request_from(sc, htonl(0x0a000000u + 1 + i), i); /* 10.0.0.1 ... */
		sc_usage(sc->st, &u);
		if (u.neigh_entries > max_neigh)
			max_neigh = u.neigh_entries;
	}
	CHECK_EQ(max_neigh, 1024);
	CHECK_MIB(sc, "ArpInRequests", 20000);
	CHECK_MIB(sc, "ArpOutReplies", 1024);
	CHECK_MIB(sc, "ArpTableFulls", 20000 - 1024);
	CHECK_EQ(usage(sc).live_skbs, 0);
	CHECK(!peer_ping(sc, 1));
	sc_advance(sc, SEC(6));
	sc_drain(sc);
	CHECK(peer_ping(sc, 2));
	sc_advance(sc, SEC(300));
	sc_drain(sc);
	CHECK(usage(sc).neigh_entries <= 2);
	CHECK(peer_ping(sc, 3));
	CHECK_EQ(usage(sc).live_skbs, 0);
	SC_FREE(sc);
}

/* ------------------------------------------------------- zero windows */

enum { NZW = 20 };

/* Open n connections; the peer then closes its window (an ACK with window
 * 0) and each application writes until its send buffer is full. */
static bool zero_window_conns(struct sc *sc, struct sc_conn *c, int n)
{
	static uint8_t junk[65536];

	for (int i = 0; i < n; i++) {
		struct sc_seg s;
		long r, total = 0;

		if (!established(sc, &c[i]))
			return false;
		s = sc_seg_for(&c[i], F_ACK, c[i].irs + 1, c[i].iss + 1);
		s.win = 0;
		sc_seg_ts(&s, c[i].peer_ts++, c[i].tsval);
		sc_inject(sc, &s);
		while ((r = synack_send(sc->st, c[i].fd, junk, sizeof(junk), 0)) > 0)
			total += r;
		if (r != -EAGAIN || total == 0)
			return false;
	}
	sc_run(sc);
	return sc_pending(sc) == 0; /* nothing may be sent into a zero window */
}

/* Run until `until`, answering every zero-window probe with window 0.
 * Returns the number of packets that were not probes. */
static unsigned answer_probes(struct sc *sc, struct sc_conn *c, int n, uint64_t until, unsigned *probes)
{
	unsigned other = 0;

	while (sc_now(sc) < until) {
		uint64_t next = synack_stack_next_deadline(sc->st);
		const struct sc_pkt *p;

		if (next > until)
			next = until;
		sc_run_until(sc, next <= sc_now(sc) ? sc_now(sc) + MS(1) : next);
		while ((p = sc_pop(sc))) {
			int i;
			for (i = 0; i < n && c[i].lport != p->sport; i++)
				;
			if (i == n || p->len || p->seq != c[i].iss || p->flags != F_ACK) {
				other++;
				continue;
			}
			probes[i]++;
			struct sc_seg s = sc_seg_for(&c[i], F_ACK, c[i].irs + 1, c[i].iss + 1);
			s.win = 0;
			sc_seg_ts(&s, c[i].peer_ts++, p->tsval);
			sc_inject(sc, &s);
		}
	}
	return other;
}

/* The peer keeps its window shut and answers every probe. RFC 1122: the
 * connection stays open; what it holds is its send buffer, no more; the
 * probes back off to one every 120 s. When the window opens, data flows. */
TEST(estab_zero_window_stall_memory_bounded)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c[NZW];
	unsigned probes[NZW] = { 0 };
	size_t held = 0;
	uint64_t sndbuf_total = 0, nprobes = 0;

	REQUIRE(zero_window_conns(sc, c, NZW));
	CHECK_EQ(answer_probes(sc, c, NZW, sc_now(sc) + SEC(1800), probes), 0);
	for (int i = 0; i < NZW; i++) {
		struct sc_sock_usage u = sock_usage(sc, c[i].fd);
		CHECK_STATE(sc, c[i].fd, TCP_ESTABLISHED);
		CHECK(u.write_bytes + u.rtx_bytes <= u.sndbuf);
		CHECK(probes[i] >= 15 && probes[i] <= 35);
		held += u.write_skbs + u.rtx_skbs;
		sndbuf_total += u.sndbuf;
		nprobes += probes[i];
		if (i == 0)
			printf("    zero window: %u probes in 30 min, %u skbs and %llu bytes queued, sndbuf %u\n",
			       probes[i], u.write_skbs + u.rtx_skbs, (unsigned long long)(u.write_bytes + u.rtx_bytes),
			       u.sndbuf);
	}
	CHECK(usage(sc).live_skbs <= held);
	CHECK(held * 1448 <= sndbuf_total + NZW * 1448);
	CHECK_MIB(sc, "TcpExtTCPWinProbe", nprobes);
	/* The window opens: the first connection sends a full flight. */
	{
		struct sc_seg s = sc_seg_for(&c[0], F_ACK, c[0].irs + 1, c[0].iss + 1);
		sc_seg_ts(&s, c[0].peer_ts++, c[0].tsval);
		sc_inject(sc, &s);
		CHECK(sc_pending(sc) >= 1);
		CHECK(EXPECT(sc, .flags = F_ACK, .seq = V(c[0].iss + 1), .len = V(1448)) != NULL);
		sc_drain(sc);
	}
	SC_FREE(sc);
}

/* The same, but the applications have closed their sockets: the orphans
 * cannot send their data or FIN. Linux gives an orphan in persist state
 * up once its backoff passes TCP_RTO_MAX (tcp_orphan_retries), answered
 * probes or not; then everything it held is freed. */
TEST(estab_zero_window_orphans_aborted)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c[NZW];
	unsigned probes[NZW] = { 0 };
	struct sc_usage u;

	REQUIRE(zero_window_conns(sc, c, NZW));
	for (int i = 0; i < NZW; i++)
		CHECK_EQ(synack_close(sc->st, c[i].fd), 0);
	sc_run(sc);
	sc_usage(sc->st, &u);
	CHECK_EQ(u.orphans, NZW);
	CHECK(u.live_skbs > 0);
	answer_probes(sc, c, NZW, sc_now(sc) + SEC(600), probes);
	sc_usage(sc->st, &u);
	CHECK_EQ(u.orphans, 0);
	CHECK_EQ(u.ehash, 0);
	CHECK_EQ(u.live_skbs, 0);
	CHECK_MIB(sc, "TcpExtTCPAbortOnTimeout", NZW);
	for (int i = 0; i < NZW; i++)
		CHECK(probes[i] >= 5);
	SC_FREE(sc);
}

/* -------------------------------------------------- tiny-segment floods */

/* One-byte segments at every other sequence number across the window: the
 * out-of-order queue would hold tens of thousands of buffers (and walk them
 * on each insertion). What it holds (as the skbs' real size) stays within
 * the receive buffer; the rest is dropped (TCPOFODrop). In-order data
 * still flows. */
TEST(estab_ooo_tiny_segments_memory_bounded)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_sock_usage su;
	uint64_t max_true = 0, acks = 0;
	size_t max_skbs = 0;
	char buf[2048];

	REQUIRE(established(sc, &c));
	for (uint32_t k = 1; k < 30000; k++) {
		struct sc_seg s = sc_seg_for(&c, F_ACK, c.irs + 1 + 2 * k, c.iss + 1);
		struct sc_usage u;

		s.data = "x";
		s.len = 1;
		sc_inject(sc, &s);
		while (sc_pop(sc))
			acks++;
		su = sock_usage(sc, c.fd);
		if (su.ofo_truesize + su.rcv_truesize > max_true)
			max_true = su.ofo_truesize + su.rcv_truesize;
		sc_usage(sc->st, &u);
		if (u.live_skbs > max_skbs)
			max_skbs = u.live_skbs;
	}
	su = sock_usage(sc, c.fd);
	CHECK(max_true <= su.rcvbuf);
	CHECK(max_skbs <= su.rcvbuf / 2048 + 2);
	CHECK(sc_mib(sc, "TcpExtTCPOFODrop") > 29000);
	CHECK_EQ(sc_mib(sc, "TcpExtTCPOFOQueue") + sc_mib(sc, "TcpExtTCPOFODrop"), 29999);
	/* Queued out-of-order data is ACKed at once (with SACK blocks); a
	 * segment dropped for memory is not (Linux schedules no ACK for it). */
	CHECK_EQ(acks, sc_mib(sc, "TcpExtTCPOFOQueue"));
	/* The hole is filled from rcv_nxt: 1000 bytes in order. */
	{
		struct sc_seg s = sc_seg_for(&c, F_ACK | F_PSH, c.irs + 1, c.iss + 1);
		static char d[1000];
		memset(d, 'y', sizeof(d));
		s.data = d;
		s.len = sizeof(d);
		sc_inject(sc, &s);
		sc_advance(sc, MS(50));
		CHECK(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0) >= 1000);
		CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	}
	SC_FREE(sc);
}

/* One-byte segments in order while the application reads nothing: each
 * would keep a whole buffer. Small segments are appended to the last
 * queued one (Linux's tcp_try_coalesce), so what the receive queue really
 * holds stays within the receive buffer; when the window closes the rest is
 * dropped. Everything accepted is then read, in order. */
TEST(estab_tiny_segments_unread_memory_bounded)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_sock_usage su;
	uint64_t max_true = 0;
	uint32_t seq;
	static char buf[70000];
	long got = 0, r;

	REQUIRE(established(sc, &c));
	seq = c.irs + 1;
	for (uint32_t k = 0; k < 70000; k++) {
		struct sc_seg s = sc_seg_for(&c, F_ACK, seq, c.iss + 1);
		char ch = (char)('a' + (seq - c.irs - 1) % 26);

		s.data = &ch;
		s.len = 1;
		sc_inject(sc, &s);
		su = sock_usage(sc, c.fd);
		if (su.rcv_nxt != seq)
			seq = su.rcv_nxt; /* accepted; else send it again later */
		if (su.rcv_truesize > max_true)
			max_true = su.rcv_truesize;
		if (k % 64 == 0)
			sc_advance(sc, MS(1));
		sc_drain(sc);
	}
	su = sock_usage(sc, c.fd);
	CHECK(max_true <= su.rcvbuf);
	CHECK(su.rcv_bytes > 30000);
	CHECK(usage(sc).live_skbs <= su.rcvbuf / 2048 + 2);
	while ((r = synack_recv(sc->st, c.fd, buf + got, sizeof(buf) - (size_t)got, 0)) > 0)
		got += r;
	CHECK_EQ((uint64_t)got, su.rcv_bytes);
	for (long i = 0; i < got; i++)
		if (buf[i] != (char)('a' + i % 26)) {
			CHECK(false);
			break;
		}
	SC_FREE(sc);
}

int main(void)
{
	RUN(listen_syn_flood_with_cookies_bounded);
	RUN(listen_syn_flood_without_cookies_drops_counted);
	RUN(listen_syn_flood_spoofed_on_link_sources_bounded);
	RUN(arp_request_flood_many_senders_bounded);
	RUN(estab_zero_window_stall_memory_bounded);
	RUN(estab_zero_window_orphans_aborted);
	RUN(estab_ooo_tiny_segments_memory_bounded);
	RUN(estab_tiny_segments_unread_memory_bounded);
	return TEST_SUMMARY();
}
