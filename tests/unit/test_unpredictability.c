/* ISNs, ephemeral ports and timestamp offsets as an off-path attacker sees
 * them: statistical checks over thousands of SYNs captured from the wire.
 *
 * The exact hash inputs are tested in test_secure_seq.c; here the question
 * is whether what goes out can be guessed. Each property is measured by a
 * scoring function that is first shown to reject a guessable generator (a
 * counter, a clock) - so the checks can fail - and then applied to the
 * stack's output for several seeds.
 *
 * Thresholds are at least 5 standard deviations from the expected value
 * for a uniform 32-bit source, and the seeds are fixed, so the outcome is
 * deterministic. */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include "../test.h"
#include "net_harness.h"

#define NSAMPLES 4096

/* ------------------------------------------------------------- capture */

static void learn(struct harness *h, const char *ip)
{
	static const uint8_t zero[6];
	uint8_t f[64];

	h_inject(h, f, build_arp(f, BCAST, 1, P_MAC, A(ip), zero, A("10.0.0.1")));
	h_inject(h, f, build_arp(f, H_MAC, 2, P_MAC, A(ip), H_MAC, A("10.0.0.1")));
	h_clear(h);
}

static void env_up(struct harness *h, uint64_t seed)
{
	h_init_cfg(h, seed, true);
	synack_clock_set(h->clk, 1000ULL * NSEC_PER_SEC);
	learn(h, "10.0.0.2");
	learn(h, "10.0.0.254");
}

struct syn {
	uint16_t sport;
	uint32_t seq, tsval;
};

/* connect() from lport (0: ephemeral) to daddr:dport; the SYN it sent. */
static bool syn_to(struct harness *h, uint32_t daddr, uint16_t dport, uint16_t lport, struct syn *out)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(dport), .sin_addr.s_addr = daddr };
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(lport) };
	int fd = synack_socket(h->st), one = 1;
	bool ok = false;

	h_clear(h);
	if (fd < 0)
		return false;
	if (lport) {
		synack_setsockopt(h->st, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (synack_bind(h->st, fd, &from) != 0)
			goto out;
	}
	if (synack_connect(h->st, fd, &to) != -EINPROGRESS)
		goto out;
	for (size_t i = 0; i < h->cap->n; i++) {
		const uint8_t *f = h->cap->frames[i], *th = f + 34;

		if (frame_proto(h, i) != ETH_P_IP || f[23] != 6 || th[13] != 0x02)
			continue;
		out->sport = (uint16_t)(th[0] << 8 | th[1]);
		out->seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7];
		/* MSS, then SACK_PERM + TS: TSval at option byte 8. */
		out->tsval = (uint32_t)th[28] << 24 | (uint32_t)th[29] << 16 | (uint32_t)th[30] << 8 | th[31];
		ok = th[26] == 8 && th[27] == 10;
	}
out:
	synack_close(h->st, fd);
	return ok;
}

/* An off-link destination (via the gateway), one per index. */
static uint32_t far_addr(uint32_t i) { return htonl(0xc6120000u + i); } /* 198.18.0.0/15 */

/* ------------------------------------------------------------- scoring */

static double dabs(double x) { return x < 0 ? -x : x; }

static double dsqrt(double x)
{
	double r = x > 1 ? x : 1;

	for (int i = 0; i < 60; i++)
		r = (r + x / r) / 2;
	return r;
}

/* How a sequence of 32-bit values fails to look uniform and independent:
 * a bit mask of the failed checks (0 = passes all). */
enum {
	BAD_DUPLICATES = 1,     /* repeated values */
	BAD_DELTAS = 2,         /* successive differences repeat or are small */
	BAD_BITS = 4,           /* some bit is set far from half the time */
	BAD_TOPBYTE = 8,        /* the top byte is not uniform (chi-square) */
	BAD_SERIAL = 16,        /* successive values are correlated */
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static size_t distinct(uint32_t *v, size_t n)
{
	size_t d = n ? 1 : 0;

	qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 1; i < n; i++)
		d += v[i] != v[i - 1];
	return d;
}

static int score32(const uint32_t *v, size_t n)
{
	static uint32_t tmp[NSAMPLES];
	int bad = 0;
	size_t small = 0;
	double sigma = dsqrt((double)n) / 2, chi = 0, mean = 0, num = 0, den = 0;
	unsigned top[256] = { 0 };

	/* Collisions: expected n^2 / 2^33 (0.002 for 4096). */
	memcpy(tmp, v, n * sizeof(*v));
	if (distinct(tmp, n) < n)
		bad |= BAD_DUPLICATES;
	/* Differences: hardly ever within 2^20 of each other, and nearly all
	 * distinct. A uniform source repeats a difference with probability
	 * n^2 / 2^33; ISNs repeat one when a port comes round again with the
	 * same step to the next (ISN = hash of the tuple + clock, RFC 6528),
	 * so up to n / 64 repeats are allowed. */
	for (size_t i = 0; i + 1 < n; i++) {
		tmp[i] = v[i + 1] - v[i];
		small += (uint32_t)(tmp[i] + (1u << 20)) < (2u << 20);
	}
	if (distinct(tmp, n - 1) + n / 64 < n - 1 || small > 4)
		bad |= BAD_DELTAS;

	/* Each bit set n/2 +- 5 sigma times. */
	for (int b = 0; b < 32; b++) {
		size_t ones = 0;
		for (size_t i = 0; i < n; i++)
			ones += (v[i] >> b) & 1;
		if (dabs((double)ones - (double)n / 2) > 5 * sigma)
			bad |= BAD_BITS;
	}
	/* Top byte: chi-square with 255 degrees of freedom; 400 is p < 1e-8. */
	for (size_t i = 0; i < n; i++)
		top[v[i] >> 24]++;
	for (int i = 0; i < 256; i++) {
		double e = (double)n / 256, d = top[i] - e;
		chi += d * d / e;
	}
	if (chi > 400)
		bad |= BAD_TOPBYTE;
	/* Lag-1 correlation of the values (as fractions of 2^32): |r| < 6/sqrt(n). */
	for (size_t i = 0; i < n; i++)
		mean += v[i] / 4294967296.0;
	mean /= (double)n;
	for (size_t i = 0; i < n; i++) {
		double a = v[i] / 4294967296.0 - mean;
		den += a * a;
		if (i + 1 < n)
			num += a * (v[i + 1] / 4294967296.0 - mean);
	}
	if (den == 0 || dabs(num / den) > 6 / dsqrt((double)n))
		bad |= BAD_SERIAL;
	return bad;
}

/* The scorer rejects guessable sequences: a counter, a 64 ns clock sampled
 * every millisecond, a weak LCG's low bits, a constant. */
TEST(scorer_rejects_guessable_sequences)
{
	static uint32_t v[NSAMPLES];
	uint32_t x = 12345;

	for (size_t i = 0; i < NSAMPLES; i++)
		v[i] = 0x10000000u + (uint32_t)i * 64000u;
	CHECK(score32(v, NSAMPLES) & BAD_DELTAS);
	for (size_t i = 0; i < NSAMPLES; i++)
		v[i] = (uint32_t)((1000ULL * NSEC_PER_SEC + i * NSEC_PER_MSEC) >> 6);
	CHECK(score32(v, NSAMPLES) != 0);
	for (size_t i = 0; i < NSAMPLES; i++) {
		x = x * 1103515245u + 12345u; /* RFC 793's clock plus a little noise */
		v[i] = (uint32_t)((1000ULL * NSEC_PER_SEC + i * NSEC_PER_MSEC) >> 6) + (x >> 16) % 4096;
	}
	CHECK(score32(v, NSAMPLES) & BAD_DELTAS);
	for (size_t i = 0; i < NSAMPLES; i++)
		v[i] = 0xdeadbeef;
	CHECK(score32(v, NSAMPLES) & BAD_DUPLICATES);
	/* ...and accepts a good source. */
	for (size_t i = 0; i < NSAMPLES; i++) {
		uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ULL;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		v[i] = (uint32_t)(z ^ (z >> 31));
	}
	CHECK_EQ(score32(v, NSAMPLES), 0);
}

/* --------------------------------------------------------------- ISNs */

/* Successive connections to one peer (a new ephemeral port each, one per
 * millisecond): their ISNs pass every check, for several secrets. */
TEST(isn_successive_connections_same_peer)
{
	static uint32_t isn[NSAMPLES];

	for (uint64_t seed = 1; seed <= 3; seed++) {
		struct harness h;
		size_t n = 0;

		env_up(&h, seed);
		for (; n < NSAMPLES; n++) {
			struct syn s;
			if (!syn_to(&h, A("10.0.0.2"), 80, 0, &s))
				break;
			isn[n] = s.seq;
			h_at(&h, synack_clock_now(h.clk) + NSEC_PER_MSEC);
		}
		CHECK_EQ(n, NSAMPLES);
		CHECK_EQ(score32(isn, n), 0);
		h_free(&h);
	}
}

/* One connection to each of 4096 different peers at the same instant. */
TEST(isn_different_peers_same_instant)
{
	static uint32_t isn[NSAMPLES];
	struct harness h;
	size_t n = 0;

	env_up(&h, 7);
	for (; n < NSAMPLES; n++) {
		struct syn s;
		if (!syn_to(&h, far_addr((uint32_t)n), 443, 0, &s))
			break;
		isn[n] = s.seq;
	}
	CHECK_EQ(n, NSAMPLES);
	CHECK_EQ(score32(isn, n), 0);
	h_free(&h);
}

/* The same tuples (bound ports) from stacks with different secrets: the
 * ISNs differ, and their differences are as random as the ISNs. */
TEST(isn_different_secrets_differ)
{
	static uint32_t a[1024], d[1024];
	struct harness h1, h2;
	size_t equal = 0, n;

	env_up(&h1, 11);
	env_up(&h2, 12);
	for (n = 0; n < 1024; n++) {
		struct syn s1, s2;
		if (!syn_to(&h1, A("10.0.0.2"), 80, (uint16_t)(20000 + n), &s1) ||
		    !syn_to(&h2, A("10.0.0.2"), 80, (uint16_t)(20000 + n), &s2))
			break;
		a[n] = s1.seq;
		d[n] = s2.seq - s1.seq;
		equal += s1.seq == s2.seq;
	}
	CHECK_EQ(n, 1024);
	CHECK_EQ(equal, 0);
	CHECK_EQ(score32(a, n) & ~BAD_TOPBYTE, 0); /* 1024 samples: the chi-square needs more */
	CHECK_EQ(score32(d, n) & ~BAD_TOPBYTE, 0);
	h_free(&h1);
	h_free(&h2);
}

/* ------------------------------------------------------- ephemeral ports */

/* The first port towards each of 2048 destinations: in the range, spread
 * evenly over it (chi-square over 16 bins), almost all different. */
TEST(ports_different_peers_spread_over_range)
{
	static uint32_t port[2048];
	unsigned bins[16] = { 0 };
	struct harness h;
	double chi = 0;
	size_t n = 0, inrange = 0;

	env_up(&h, 21);
	for (; n < 2048; n++) {
		struct syn s;
		if (!syn_to(&h, far_addr((uint32_t)n), 443, 0, &s))
			break;
		port[n] = s.sport;
		inrange += s.sport >= 32768 && s.sport <= 60999;
		bins[(s.sport - 32768) * 16 / (60999 - 32768 + 1)]++;
	}
	CHECK_EQ(n, 2048);
	CHECK_EQ(inrange, n);
	for (int i = 0; i < 16; i++) {
		double e = 2048.0 / 16, dd = bins[i] - e;
		chi += dd * dd / e;
	}
	CHECK(chi < 60); /* 15 degrees of freedom; p < 1e-6 */
	/* 2048 of 14116 even ports: about 140 collisions expected. */
	CHECK(distinct(port, n) > 1800);
	h_free(&h);
}

/* Successive connections to one peer: RFC 6056 algorithm 4 walks the range
 * from a per-destination start, but the step is randomised, so the next
 * port is not the last one plus the last step. */
TEST(ports_same_peer_steps_not_guessable)
{
	struct harness h;
	uint16_t prev = 0, prev2 = 0;
	size_t guessed = 0, n;
	unsigned steps[32] = { 0 }, kinds = 0;

	env_up(&h, 31);
	for (n = 0; n < 1000; n++) {
		struct syn s;
		REQUIRE(syn_to(&h, A("10.0.0.2"), 80, 0, &s));
		if (n >= 2 && (uint16_t)(prev + (uint16_t)(prev - prev2)) == s.sport)
			guessed++;
		if (n >= 1) {
			uint16_t st = (uint16_t)(s.sport - prev);
			steps[st < 32 ? st : 31]++;
		}
		prev2 = prev;
		prev = s.sport;
	}
	for (int i = 0; i < 32; i++)
		kinds += steps[i] > 0;
	CHECK(kinds >= 6);
	CHECK(guessed < 250);
	h_free(&h);
}

/* The search start is re-keyed every 10 s and depends on the secret. */
TEST(ports_rekeyed_and_secret_dependent)
{
	struct harness h1, h2;
	size_t same_secret = 0, same_time = 0;

	env_up(&h1, 41);
	env_up(&h2, 42);
	for (uint32_t i = 0; i < 256; i++) {
		struct syn a, b, c;
		REQUIRE(syn_to(&h1, far_addr(i), 80, 0, &a));
		REQUIRE(syn_to(&h2, far_addr(i), 80, 0, &b));
		same_secret += a.sport == b.sport;
		h_at(&h1, synack_clock_now(h1.clk) + 10 * NSEC_PER_SEC);
		learn(&h1, "10.0.0.254");
		REQUIRE(syn_to(&h1, far_addr(i), 80, 0, &c));
		same_time += (uint16_t)(c.sport - a.sport) < 64;
	}
	/* Chance alone: 256 / 14116 and 256 * 32 / 14116. */
	CHECK(same_secret <= 3);
	CHECK(same_time <= 8);
	h_free(&h1);
	h_free(&h2);
}

/* ------------------------------------------------------- timestamp offsets */

/* TSval = ms clock + a per-destination offset: at one instant, the TSvals
 * sent to 4096 destinations tell nothing about each other. */
TEST(ts_offsets_per_destination_unpredictable)
{
	static uint32_t ts[NSAMPLES];
	struct harness h;
	size_t n = 0;

	env_up(&h, 51);
	for (; n < NSAMPLES; n++) {
		struct syn s;
		if (!syn_to(&h, far_addr((uint32_t)n), 443, 0, &s))
			break;
		ts[n] = s.tsval;
	}
	CHECK_EQ(n, NSAMPLES);
	CHECK_EQ(score32(ts, n), 0);
	h_free(&h);
}

int main(void)
{
	RUN(scorer_rejects_guessable_sequences);
	RUN(isn_successive_connections_same_peer);
	RUN(isn_different_peers_same_instant);
	RUN(isn_different_secrets_differ);
	RUN(ports_different_peers_spread_over_range);
	RUN(ports_same_peer_steps_not_guessable);
	RUN(ports_rekeyed_and_secret_dependent);
	RUN(ts_offsets_per_destination_unpredictable);
	return TEST_SUMMARY();
}
