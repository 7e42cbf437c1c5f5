/* RFC 5961 blind in-window attacks against an established connection.
 *
 * An off-path attacker knows the 4-tuple but not the sequence numbers. It
 * sends RSTs, SYNs or data at random sequence numbers (and, for data,
 * random ACKs), or sweeps the sequence space one receive window at a time.
 * Each test counts how many attempts land where, and how many succeed: a
 * reset needs the exact rcv_nxt (probability 1 / 2^32 per attempt), a SYN
 * never resets (it is always challenged), injected data needs both an
 * in-window sequence number and an acceptable ACK (about window / 2^32 *
 * max_window / 2^32). Challenge ACKs are limited per socket
 * (tcp_invalid_ratelimit) and host-wide (tcp_challenge_ack_limit). The
 * attacker's choices come from a fixed seed, so the counts are exact and
 * printed for the record. */
#include "../test.h"
#include "harness.h"
#include "introspect.h"

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool established(struct sc *sc, struct sc_conn *c)
{
	return OPEN_ACTIVE(sc, c, SC_REMOTE_PORT) && ESTABLISH_ACTIVE(sc, c);
}

static bool seq_between(uint32_t x, uint32_t lo, uint32_t hi) { return x - lo <= hi - lo; }

struct tally {
	uint64_t attempts, in_window, exact, replies, resets, accepted;
};

static uint32_t rcv_wnd_of(struct sc *sc, int fd)
{
	struct sc_sock_usage u;

	return sc_sock_usage(sc->st, fd, &u) == 0 ? u.rcv_wnd : 0;
}

/* Replies the stack sent since the last call (all ACKs to the peer). */
static uint64_t take_replies(struct sc *sc, const struct sc_conn *c, int *bad)
{
	const struct sc_pkt *p;
	uint64_t n = 0;

	while ((p = sc_pop(sc))) {
		if (p->flags != F_ACK || p->seq != c->iss + 1 || p->ack != c->irs + 1)
			(*bad)++;
		n++;
	}
	return n;
}

/* Where a blind RST's sequence number fell against the receive window. */
static void tally_seq(struct tally *t, uint32_t seq, uint32_t rcv_nxt, uint32_t wnd)
{
	t->in_window += seq_between(seq, rcv_nxt, rcv_nxt + wnd);
	t->exact += seq == rcv_nxt;
}

/* One attempt: injects s and counts the replies it drew. False, with the
 * reset counted, once the connection has left ESTABLISHED, which ends
 * the attack. */
static bool attack_survived(struct sc *sc, const struct sc_conn *c, const struct sc_seg *s, struct tally *t,
			    int *bad)
{
	sc_inject(sc, s);
	t->replies += take_replies(sc, c, bad);
	if (sc_state(sc, c->fd) == TCP_ESTABLISHED)
		return true;
	t->resets++;
	return false;
}

/* The counts, printed for the record (the seed makes them exact). */
static void print_rst_tally(const char *how, const struct tally *t)
{
	printf("    blind RST, %s: %llu attempts, %llu in window, %llu exact, %llu resets, %llu challenge ACKs\n", how,
	       (unsigned long long)t->attempts, (unsigned long long)t->in_window, (unsigned long long)t->exact,
	       (unsigned long long)t->resets, (unsigned long long)t->replies);
}

/* N RSTs at random sequence numbers, one per millisecond. */
TEST(estab_blind_rst_random_seq_never_resets)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct tally t = { 0 };
	uint64_t seed = 0x5eed0001;
	uint32_t rcv_nxt, wnd;
	int bad = 0;

	REQUIRE(established(sc, &c));
	rcv_nxt = c.irs + 1;
	wnd = rcv_wnd_of(sc, c.fd);
	CHECK_EQ(wnd, 63u << 10);
	for (t.attempts = 0; t.attempts < 20000; t.attempts++) {
		uint32_t seq = (uint32_t)rng_next(&seed);
		struct sc_seg s = sc_seg_for(&c, F_RST, seq, 0);

		tally_seq(&t, seq, rcv_nxt, wnd);
		if (!attack_survived(sc, &c, &s, &t, &bad))
			break;
		sc_advance(sc, MS(1));
	}
	print_rst_tally("random seq", &t);
	CHECK_EQ(t.exact, 0);
	CHECK_EQ(t.resets, t.exact);
	CHECK(t.replies <= t.in_window);
	CHECK_EQ(sc_mib(sc, "TcpExtTCPChallengeACK"), t.replies);
	CHECK_EQ(bad, 0);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_MIB(sc, "TcpEstabResets", 0);
	/* The one that knows the sequence number resets the connection. */
	{
		struct sc_seg s = sc_seg_for(&c, F_RST, rcv_nxt, 0);
		sc_inject(sc, &s);
		EXPECT_NONE(sc);
		CHECK_STATE(sc, c.fd, TCP_CLOSE);
		CHECK_MIB(sc, "TcpEstabResets", 1);
	}
	SC_FREE(sc);
}

/* The classic blind reset: one RST per window-sized step covers the whole
 * sequence space (2^32 / 64512 = 66577 packets), so one or two land in
 * the window. Before RFC 5961 that reset the connection; now it earns one
 * challenge ACK (the rest of the burst is rate limited) and nothing else. */
TEST(estab_blind_rst_window_sweep_only_challenged)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct tally t = { 0 };
	uint64_t seed = 0x5eed0002;
	uint32_t rcv_nxt, wnd, start;
	int bad = 0;

	REQUIRE(established(sc, &c));
	rcv_nxt = c.irs + 1;
	wnd = rcv_wnd_of(sc, c.fd);
	start = (uint32_t)rng_next(&seed);
	for (uint64_t k = 0; k * wnd < (1ULL << 32); k++) {
		uint32_t seq = start + (uint32_t)(k * wnd);
		struct sc_seg s = sc_seg_for(&c, F_RST, seq, 0);

		t.attempts++;
		tally_seq(&t, seq, rcv_nxt, wnd);
		if (!attack_survived(sc, &c, &s, &t, &bad))
			break;
	}
	print_rst_tally("window sweep", &t);
	CHECK(t.in_window >= 1);
	CHECK_EQ(t.exact, 0);
	CHECK_EQ(t.resets, 0);
	CHECK_EQ(t.replies, 1);
	CHECK_EQ(sc_mib(sc, "TcpExtTCPChallengeACK"), 1);
	CHECK_EQ(sc_mib(sc, "TcpExtTCPACKSkippedChallenge"), t.in_window - 1);
	CHECK_EQ(bad, 0);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

/* SYNs at random sequence numbers, one per millisecond for 5 s: none
 * resets, each is challenged, and the challenge ACKs come at most once per
 * tcp_invalid_ratelimit (500 ms). */
TEST(estab_blind_syn_random_seq_challenged_rate_limited)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct tally t = { 0 };
	uint64_t seed = 0x5eed0003;
	int bad = 0;

	REQUIRE(established(sc, &c));
	for (t.attempts = 0; t.attempts < 5000; t.attempts++) {
		struct sc_seg s = sc_seg_for(&c, F_SYN, (uint32_t)rng_next(&seed), 0);

		if (!attack_survived(sc, &c, &s, &t, &bad))
			break;
		sc_advance(sc, MS(1));
	}
	printf("    blind SYN, random seq: %llu attempts, %llu resets, %llu challenge ACKs\n",
	       (unsigned long long)t.attempts, (unsigned long long)t.resets, (unsigned long long)t.replies);
	CHECK_EQ(t.resets, 0);
	CHECK_EQ(t.replies, 10);
	CHECK_MIB(sc, "TcpExtTCPSYNChallenge", 5000);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", 10);
	CHECK_MIB(sc, "TcpExtTCPACKSkippedChallenge", 4990);
	CHECK_EQ(bad, 0);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

/* Data at random sequence numbers with random ACKs: nothing reaches the
 * application or the out-of-order queue. Data that misses the window is
 * answered with a duplicate ACK every time, as Linux does (data is never
 * part of an ACK loop); an ACK older than max_window is challenged. */
TEST(estab_blind_data_random_seq_ack_never_accepted)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct tally t = { 0 };
	uint64_t seed = 0x5eed0004, both = 0;
	uint32_t rcv_nxt, wnd;
	struct sc_sock_usage u;
	int bad = 0;
	char buf[64];
	static char evil[100];

	memset(evil, 'E', sizeof(evil));

	REQUIRE(established(sc, &c));
	rcv_nxt = c.irs + 1;
	wnd = rcv_wnd_of(sc, c.fd);
	for (t.attempts = 0; t.attempts < 20000; t.attempts++) {
		uint32_t seq = (uint32_t)rng_next(&seed), ack = (uint32_t)rng_next(&seed);
		struct sc_seg s = sc_seg_for(&c, F_ACK | F_PSH, seq, ack);
		bool inw = seq_between(seq, rcv_nxt - 100, rcv_nxt + wnd);

		s.data = evil;
		s.len = sizeof(evil);
		t.in_window += inw;
		both += inw && seq_between(ack, c.iss + 1 - 65535, c.iss + 1);
		sc_inject(sc, &s);
		t.replies += take_replies(sc, &c, &bad);
		REQUIRE(sc_sock_usage(sc->st, c.fd, &u) == 0);
		if (u.rcv_nxt != rcv_nxt || u.rcv_bytes || u.ofo_bytes)
			t.accepted++;
		sc_advance(sc, MS(1));
	}
	printf("    blind data, random seq and ack: %llu attempts, %llu in window, %llu also with an acceptable ACK, "
	       "%llu accepted, %llu ACKs sent\n",
	       (unsigned long long)t.attempts, (unsigned long long)t.in_window, (unsigned long long)both,
	       (unsigned long long)t.accepted, (unsigned long long)t.replies);
	CHECK_EQ(both, 0);
	CHECK_EQ(t.accepted, 0);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), -EAGAIN);
	CHECK(t.replies >= t.attempts - t.in_window);
	CHECK(t.replies <= t.attempts);
	CHECK_EQ(bad, 0);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

/* The host-wide limit (tcp_challenge_ack_limit): in-window RSTs to 24
 * connections in the same second get between limit/2 and 3*limit/2 - 1
 * challenge ACKs; the budget is drawn again the next second. With the
 * default (INT_MAX) every one is answered. */
static uint64_t challenge_burst(struct sc *sc, struct sc_conn *conns, int n)
{
	uint64_t replies = 0;

	for (int i = 0; i < n; i++) {
		struct sc_seg s = sc_seg_for(&conns[i], F_RST, conns[i].irs + 1 + 1000, 0);
		const struct sc_pkt *p;

		sc_inject(sc, &s);
		while ((p = sc_pop(sc))) {
			CHECK(p->flags == F_ACK && p->sport == conns[i].lport && p->ack == conns[i].irs + 1);
			replies++;
		}
		CHECK_STATE(sc, conns[i].fd, TCP_ESTABLISHED);
	}
	return replies;
}

TEST(estab_challenge_ack_host_limit)
{
	enum { N = 24 };
	struct sc_conn conns[N];
	uint64_t r1, r2, r3;
	struct sc *sc = sc_new(NULL);

	REQUIRE(sc_sysctl(sc, "net.ipv4.tcp_challenge_ack_limit", 10) == 0);
	for (int i = 0; i < N; i++)
		REQUIRE(established(sc, &conns[i]));
	r1 = challenge_burst(sc, conns, N);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", r1);
	sc_advance(sc, SEC(1));
	r2 = challenge_burst(sc, conns, N);
	CHECK_MIB(sc, "TcpExtTCPChallengeACK", r1 + r2);
	printf("    host-wide challenge-ACK limit 10: %llu then %llu of %d answered\n", (unsigned long long)r1,
	       (unsigned long long)r2, N);
	CHECK(r1 >= 5 && r1 <= 14);
	CHECK(r2 >= 5 && r2 <= 14);
	/* The per-socket limit was not what held them back. */
	CHECK_MIB(sc, "TcpExtTCPACKSkippedChallenge", 0);
	SC_FREE(sc);

	sc = sc_new(&(struct sc_opts){ .seed = 2 });
	for (int i = 0; i < N; i++)
		REQUIRE(established(sc, &conns[i]));
	r3 = challenge_burst(sc, conns, N);
	CHECK_EQ(r3, N);
	SC_FREE(sc);
}

int main(void)
{
	RUN(estab_blind_rst_random_seq_never_resets);
	RUN(estab_blind_rst_window_sweep_only_challenged);
	RUN(estab_blind_syn_random_seq_challenged_rate_limited);
	RUN(estab_blind_data_random_seq_ack_never_accepted);
	RUN(estab_challenge_ack_host_limit);
	return TEST_SUMMARY();
}
