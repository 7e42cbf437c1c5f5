/* Malformed and hostile IPv4 from the peer: header fields, options and
 * fragments. Each frame is dropped (or handled) as Linux's ip_rcv_core,
 * ip_options_compile and ip_defrag do, counted under Linux's name, answered
 * only where Linux answers, and leaves no buffer behind; a ping from the
 * peer still gets its reply afterwards. */
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
#define LIVE_SKBS(sc) (usage(sc).live_skbs)
#define FRAG_QUEUES(sc) (usage(sc).frag_queues)
#define FRAG_MEM(sc) (usage(sc).frag_mem)

/* ------------------------------------------------------------ builders */

static uint16_t csum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One IPv4 packet from the peer, with every header field under control. */
struct ipf {
	uint8_t version;            /* 4-bit field; 0: 4 */
	bool version_set;           /* use version even when 0 */
	int ihl;                    /* words; 0: 5 + optlen / 4 */
	const uint8_t *opt;         /* raw option bytes (a multiple of 4) */
	size_t optlen;
	int tot_len;                /* with tot_set (TOT()): the raw field, else computed */
	bool tot_set;
	uint16_t frag;              /* flags and offset in 8-byte units */
	uint16_t id;
	uint8_t proto;              /* 0: ICMP */
	bool bad_csum;
	const uint8_t *payload;
	size_t plen;
	size_t extra;               /* garbage after the packet, inside the frame */
	size_t cut;                 /* bytes cut off the frame's end */
	uint32_t saddr;             /* 0: the peer */
};
#define TOT(v) .tot_len = (v), .tot_set = true

static size_t build(struct sc *sc, uint8_t *f, const struct ipf *p)
{
	uint8_t *ip = f + 14;
	int ihl = p->ihl ? p->ihl : 5 + (int)(p->optlen / 4);
	size_t hl = 20 + p->optlen, len = hl + p->plen, flen;

	memcpy(f, sc->local_mac, 6);
	memcpy(f + 6, sc->peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = (uint8_t)(((p->version_set || p->version ? p->version : 4) & 0xf) << 4 | (ihl & 0xf));
	put16(ip + 2, (uint16_t)(p->tot_set ? p->tot_len : (int)len));
	put16(ip + 4, p->id);
	put16(ip + 6, p->frag);
	ip[8] = 64;
	ip[9] = p->proto ? p->proto : 1;
	memcpy(ip + 12, p->saddr ? &p->saddr : &sc->remote, 4);
	memcpy(ip + 16, &sc->local, 4);
	if (p->optlen)
		memcpy(ip + 20, p->opt, p->optlen);
	if (p->plen)
		memcpy(ip + hl, p->payload, p->plen);
	/* The checksum covers what the header length claims, as far as the
	 * buffer holds it (garbage past a short frame is zero). */
	memset(ip + len, 0xa5, p->extra);
	{
		size_t ck = (size_t)(ihl & 0xf) * 4;
		uint16_t c;
		if (ck > 60)
			ck = 60;
		c = csum16(ip, ck < 20 ? 20 : ck);
		put16(ip + 10, c);
		if (p->bad_csum)
			ip[11] ^= 0x40;
	}
	flen = 14 + len + p->extra;
	if (flen < 60 && !p->cut)
		flen = 60;
	return p->cut < flen ? flen - p->cut : 14;
}

static void inject(struct sc *sc, const struct ipf *p)
{
	uint8_t f[1600];

	memset(f, 0, sizeof(f));
	sc_inject_frame(sc, f, build(sc, f, p));
}

/* An ICMP echo request (header + data) in b; its length. */
static size_t echo_body(uint8_t *b, uint16_t id, uint16_t seq, size_t datalen)
{
	b[0] = 8;
	b[1] = 0;
	b[2] = b[3] = 0;
	put16(b + 4, id);
	put16(b + 6, seq);
	for (size_t i = 0; i < datalen; i++)
		b[8 + i] = (uint8_t)(i * 13 + seq);
	put16(b + 2, csum16(b, 8 + datalen));
	return 8 + datalen;
}

/* The next packet is an echo reply to (id, seq) with datalen bytes of the
 * request's data, and no IP options. */
static bool expect_echo_reply(struct sc *sc, uint16_t id, uint16_t seq, size_t datalen, int line)
{
	const struct sc_pkt *p = sc_pop(sc);
	const uint8_t *ic;
	uint8_t want[2048];

	if (!p || p->protocol != 1) {
		fprintf(stderr, "%s:%d: expected an echo reply, got %s\n", __FILE__, line, p ? "another packet" : "nothing");
		return false;
	}
	ic = p->frame + 14 + 20;
	echo_body(want, id, seq, datalen);
	if ((p->frame[14] & 0xf) != 5 || p->frame_len < 14 + 20 + 8 + datalen || ic[0] != 0 ||
	    memcmp(ic + 4, want + 4, 4 + datalen) != 0 || ((size_t)(p->frame[16] << 8 | p->frame[17]) != 28 + datalen)) {
		fprintf(stderr, "%s:%d: echo reply differs (ihl %u type %u len %zu)\n", __FILE__, line,
			p->frame[14] & 0xf, ic[0], p->frame_len);
		return false;
	}
	return true;
}
#define EXPECT_ECHO_REPLY(sc, id, seq, n) SC_CHK_(expect_echo_reply((sc), (id), (seq), (n), __LINE__))

/* The stack still answers a plain ping and (idle) holds no buffer and no
 * reassembly queue afterwards. */
static void still_works(struct sc *sc, bool idle, int line)
{
	uint8_t b[64];
	size_t n = echo_body(b, 0x77, 0x99, 16);

	inject(sc, &(struct ipf){ .payload = b, .plen = n, .id = 0x4242 });
	if (!expect_echo_reply(sc, 0x77, 0x99, 16, line))
		test_failed_checks++;
	if (sc_pending(sc)) {
		fprintf(stderr, "%s:%d: more packets than the reply\n", __FILE__, line);
		test_failed_checks++;
		sc_drain(sc);
	}
	if (idle && (LIVE_SKBS(sc) || FRAG_QUEUES(sc))) {
		fprintf(stderr, "%s:%d: %zu skbs and %u reassembly queues held\n", __FILE__, line,
			LIVE_SKBS(sc), FRAG_QUEUES(sc));
		test_failed_checks++;
	}
}
#define STILL_WORKS(sc) still_works((sc), true, __LINE__)
#define STILL_ANSWERS(sc) still_works((sc), false, __LINE__)

/* ------------------------------------------------------ header checks */

/* One malformed packet: exactly `ctr` moves (and IpInReceives), nothing is
 * delivered or sent, nothing is held, and a ping works afterwards. */
static void header_case(const char *name, const struct ipf *p, const char *ctr, const char *ctr2)
{
	struct sc *sc = sc_new(NULL);

	inject(sc, p);
	if (sc_mib(sc, ctr) != 1 || sc_pending(sc))
		fprintf(stderr, "case: %s\n", name);
	CHECK_MIB(sc, ctr, 1);
	if (ctr2)
		CHECK_MIB(sc, ctr2, 1);
	CHECK_MIB(sc, "IpInReceives", 1);
	CHECK_MIB(sc, "IpInDelivers", 0);
	CHECK_MIB(sc, "IcmpInMsgs", 0);
	EXPECT_NONE(sc);
	CHECK_EQ(LIVE_SKBS(sc), 0);
	STILL_WORKS(sc);
	CHECK_MIB(sc, "IpInDelivers", 1);
	SC_FREE(sc);
}

static uint8_t echo16[24];
static size_t echo16_len;

TEST(ip_version_6_dropped)
{
	header_case("version 6", &(struct ipf){ .version = 6, .payload = echo16, .plen = echo16_len }, "IpInHdrErrors",
		    NULL);
}
TEST(ip_version_0_dropped)
{
	header_case("version 0", &(struct ipf){ .version_set = true, .payload = echo16, .plen = echo16_len },
		    "IpInHdrErrors", NULL);
}
TEST(ip_ihl_below_5_dropped)
{
	for (int ihl = 0; ihl < 5; ihl++) {
		char name[32];
		snprintf(name, sizeof(name), "ihl %d", ihl);
		/* 0x10 puts 0 in the 4-bit field (0 means "computed"). */
		header_case(name, &(struct ipf){ .ihl = ihl ? ihl : 0x10, .payload = echo16, .plen = echo16_len },
			    "IpInHdrErrors", NULL);
	}
}
/* ihl 15 claims 60 header bytes; the frame holds 46 bytes of IP. */
TEST(ip_ihl_beyond_frame_dropped)
{
	uint8_t opt[4] = { 1, 1, 1, 1 };
	header_case("ihl past the frame",
		    &(struct ipf){ .ihl = 15, .opt = opt, .optlen = 4, .payload = echo16, .plen = 16, TOT(60) },
		    "IpInHdrErrors", NULL);
}
/* ihl 6 with tot_len 20: the header is longer than the packet. */
TEST(ip_ihl_beyond_tot_len_dropped)
{
	uint8_t opt[4] = { 1, 1, 1, 1 };
	header_case("ihl past tot_len", &(struct ipf){ .opt = opt, .optlen = 4, TOT(20), .payload = echo16, .plen = 8 },
		    "IpInHdrErrors", NULL);
}
TEST(ip_bad_checksum_dropped)
{
	header_case("checksum", &(struct ipf){ .bad_csum = true, .payload = echo16, .plen = echo16_len },
		    "IpExtInCsumErrors", "IpInHdrErrors");
}
/* tot_len larger than what arrived: truncated, not a header error. */
TEST(ip_tot_len_beyond_frame_truncated)
{
	header_case("tot_len past frame", &(struct ipf){ TOT(1000), .payload = echo16, .plen = echo16_len },
		    "IpExtInTruncatedPkts", NULL);
}
TEST(ip_tot_len_below_header_dropped)
{
	for (int tot = 0; tot < 20; tot += 19) {
		header_case("tot_len below 20", &(struct ipf){ TOT(tot), .payload = echo16, .plen = echo16_len },
			    "IpInHdrErrors", NULL);
	}
}
/* An Ethernet frame with the IPv4 type and 0..19 bytes of IP. */
TEST(ip_header_truncated_dropped)
{
	for (size_t n = 0; n < 20; n += 7) {
		struct sc *sc = sc_new(NULL);
		uint8_t f[128] = { 0 };

		build(sc, f, &(struct ipf){ .payload = echo16, .plen = echo16_len });
		sc_inject_frame(sc, f, 14 + n);
		CHECK_MIB(sc, "IpInHdrErrors", 1);
		CHECK_MIB(sc, "IpInReceives", 1);
		EXPECT_NONE(sc);
		STILL_WORKS(sc);
		SC_FREE(sc);
	}
}

/* tot_len shorter than the frame: the rest is link padding or garbage and
 * is trimmed; the packet itself is delivered and answered. */
TEST(ip_tot_len_shorter_than_frame_trimmed)
{
	struct sc *sc = sc_new(NULL);
	uint8_t b[64];
	size_t n = echo_body(b, 5, 6, 16);

	inject(sc, &(struct ipf){ .payload = b, .plen = n, .extra = 200 });
	EXPECT_ECHO_REPLY(sc, 5, 6, 16);
	CHECK_MIB(sc, "IpInHdrErrors", 0);
	CHECK_MIB(sc, "IcmpInCsumErrors", 0);
	CHECK_MIB(sc, "IpInDelivers", 1);
	STILL_WORKS(sc);
	SC_FREE(sc);
}

/* -------------------------------------------------------------- options */

/* Well-formed options are accepted and the packet answered (Linux echoes
 * RR/TS options in its reply; synack's reply carries none, which is what
 * Linux sends for NOP, EOL and router-alert options). */
static void options_ok(const char *name, const uint8_t *opt, size_t optlen)
{
	struct sc *sc = sc_new(NULL);
	uint8_t b[64];
	size_t n = echo_body(b, 9, (uint16_t)optlen, 16);

	inject(sc, &(struct ipf){ .opt = opt, .optlen = optlen, .payload = b, .plen = n });
	if (!EXPECT_ECHO_REPLY(sc, 9, (uint16_t)optlen, 16))
		fprintf(stderr, "case: %s\n", name);
	CHECK_MIB(sc, "IpInHdrErrors", 0);
	EXPECT_NONE(sc);
	STILL_WORKS(sc);
	SC_FREE(sc);
}

TEST(ip_options_nop_and_eol_accepted)
{
	static const uint8_t nops[4] = { 1, 1, 1, 0 };
	uint8_t full[40];

	memset(full, 1, sizeof(full));
	full[39] = 0;
	options_ok("nop nop nop eol", nops, sizeof(nops));
	options_ok("40 bytes of options", full, sizeof(full));
}
TEST(ip_options_router_alert_accepted)
{
	static const uint8_t ra[4] = { 148, 4, 0, 0 };
	options_ok("router alert", ra, sizeof(ra));
}
/* EOL ends the list; what follows it is not parsed (Linux overwrites it). */
TEST(ip_options_garbage_after_eol_accepted)
{
	static const uint8_t o[8] = { 0, 7, 0, 99, 3, 0, 0, 1 };
	options_ok("eol then garbage", o, sizeof(o));
}
/* An empty record-route and a timestamp option with room left are fine. */
TEST(ip_options_record_route_and_timestamp_accepted)
{
	static const uint8_t rr[8] = { 7, 7, 4, 0, 0, 0, 0, 1 };
	static const uint8_t ts[12] = { 68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	options_ok("record route", rr, sizeof(rr));
	options_ok("timestamp", ts, sizeof(ts));
}

/* A malformed option: Linux's ip_options_compile counts IpInHdrErrors,
 * drops the packet and answers ICMP parameter problem pointing at the bad
 * byte (its offset in the IP header). */
static void options_bad(const char *name, const uint8_t *opt, size_t optlen, uint8_t pointer)
{
	struct sc *sc = sc_new(NULL);
	uint8_t b[64];
	size_t n = echo_body(b, 9, 9, 16);
	const struct sc_pkt *p;

	inject(sc, &(struct ipf){ .opt = opt, .optlen = optlen, .payload = b, .plen = n });
	p = sc_pop(sc);
	if (!p || p->protocol != 1 || p->frame[34] != 12 || p->frame[35] != 0 || p->frame[38] != pointer) {
		fprintf(stderr, "case: %s: want parameter problem, pointer %u; got %s type %u ptr %u\n", name, pointer,
			p ? "a packet" : "nothing", p ? p->frame[34] : 0, p ? p->frame[38] : 0);
		test_failed_checks++;
	} else {
		/* It quotes the offending header, options included. */
		CHECK_EQ(p->frame[42], 0x45 + optlen / 4);
		CHECK_MEM(p->frame + 42 + 20, opt, optlen);
		CHECK_EQ(csum16(p->frame + 34, p->frame_len - 34), 0);
	}
	CHECK_MIB(sc, "IpInHdrErrors", 1);
	CHECK_MIB(sc, "IpInDelivers", 0);
	CHECK_MIB(sc, "IcmpInEchos", 0);
	CHECK_MIB(sc, "IcmpOutParmProbs", 1);
	EXPECT_NONE(sc);
	STILL_WORKS(sc);
	SC_FREE(sc);
}

/* One named test per malformed option, so each shows up on its own in the
 * results: the ICMP error's expected pointer, then the option bytes. */
#define PARAMETER_PROBLEM_TEST(test, what, pointer, ...)        \
	TEST(test)                                              \
	{                                                       \
		static const uint8_t o[] = { __VA_ARGS__ };     \
		options_bad(what, o, sizeof(o), pointer);       \
	}

PARAMETER_PROBLEM_TEST(ip_options_length_0_parameter_problem, "option length 0", 21, 1, 130, 0, 0)
PARAMETER_PROBLEM_TEST(ip_options_length_1_parameter_problem, "option length 1", 20, 130, 1, 0, 0)
PARAMETER_PROBLEM_TEST(ip_options_length_past_header_parameter_problem, "option past the header", 22, 1, 1, 130, 3)
/* The kind byte is the last one: no room for a length. */
PARAMETER_PROBLEM_TEST(ip_options_kind_without_length_parameter_problem, "kind without length", 23, 1, 1, 1, 7)
PARAMETER_PROBLEM_TEST(ip_options_record_route_bad_pointer_parameter_problem, "record route pointer 3", 22, 7, 7, 3, 0, 0, 0, 0, 1)
PARAMETER_PROBLEM_TEST(ip_options_record_route_twice_parameter_problem, "two record routes", 24, 7, 3, 4, 1, 7, 3, 4, 1)
PARAMETER_PROBLEM_TEST(ip_options_timestamp_too_short_parameter_problem, "timestamp length 3", 21, 68, 3, 5, 1)
/* Overflow counter already 15: the option cannot count another hop. */
PARAMETER_PROBLEM_TEST(ip_options_timestamp_overflow_parameter_problem, "timestamp overflow 15", 23, 68, 8, 9, 0xf0, 0, 0, 0, 0)
PARAMETER_PROBLEM_TEST(ip_options_router_alert_short_parameter_problem, "router alert length 2", 21, 148, 2, 1, 1)

/* Source routing: well formed, but hosts refuse it (accept_source_route
 * is 0 for a host): dropped without an answer and without a counter. */
TEST(ip_options_source_route_dropped)
{
	static const uint8_t lsrr[8] = { 131, 7, 4, 192, 0, 2, 9, 1 };
	static const uint8_t ssrr[8] = { 137, 7, 4, 192, 0, 2, 9, 1 };
	const uint8_t *o[2] = { lsrr, ssrr };

	for (int i = 0; i < 2; i++) {
		struct sc *sc = sc_new(NULL);
		uint8_t b[64];
		size_t n = echo_body(b, 9, 9, 16);

		inject(sc, &(struct ipf){ .opt = o[i], .optlen = 8, .payload = b, .plen = n });
		EXPECT_NONE(sc);
		CHECK_MIB(sc, "IpInDelivers", 0);
		CHECK_MIB(sc, "IcmpInEchos", 0);
		CHECK_MIB(sc, "IpInHdrErrors", 0);
		CHECK_TRACE(sc, "ip_rcv", "source route");
		STILL_WORKS(sc);
		SC_FREE(sc);
	}
}

/* ------------------------------------------------------------ fragments */

/* A datagram's payload (ICMP echo or TCP) cut at byte offsets. */
struct dgram {
	uint8_t data[70000];
	size_t len;
	uint8_t proto;
	uint16_t id;
};

static void frag(struct sc *sc, const struct dgram *d, size_t off, size_t len, bool more)
{
	inject(sc, &(struct ipf){ .proto = d->proto, .id = d->id, .frag = (uint16_t)((off / 8) | (more ? 0x2000 : 0)),
				  .payload = d->data + off, .plen = len });
}

static struct dgram *echo_dgram(uint16_t id, uint16_t seq, size_t datalen)
{
	struct dgram *d = calloc(1, sizeof(*d));

	d->len = echo_body(d->data, id, seq, datalen);
	d->proto = 1;
	d->id = id;
	return d;
}

/* A TCP segment from the peer to the listener's port, as a datagram to
 * fragment: hlen bytes of header (options zeroed, for the caller to fill),
 * sequence and ack numbers 0, checksum left to the caller. */
static struct dgram *tcp_dgram(uint16_t id, size_t hlen, uint8_t flags, uint16_t win)
{
	struct dgram *d = calloc(1, sizeof(*d));
	uint8_t *th = d->data;

	d->proto = 6;
	d->id = id;
	d->len = hlen;
	put16(th, SC_PEER_PORT);
	put16(th + 2, SC_SERVER_PORT);
	th[12] = (uint8_t)(hlen / 4 << 4);
	th[13] = flags;
	put16(th + 14, win);
	return d;
}

TEST(frag_out_of_order_reassembled)
{
	struct sc *sc = sc_new(NULL);
	struct dgram *d = echo_dgram(11, 1, 1200); /* 1208 bytes */

	frag(sc, d, 800, 408, false);
	frag(sc, d, 400, 400, true);
	EXPECT_NONE(sc);
	CHECK_EQ(FRAG_QUEUES(sc), 1);
	frag(sc, d, 0, 400, true);
	EXPECT_ECHO_REPLY(sc, 11, 1, 1200);
	CHECK_MIB(sc, "IpReasmReqds", 3);
	CHECK_MIB(sc, "IpReasmOKs", 1);
	CHECK_MIB(sc, "IpReasmFails", 0);
	STILL_WORKS(sc);
	free(d);
	SC_FREE(sc);
}

/* Exact and contained duplicates are dropped without a counter. */
TEST(frag_duplicates_dropped_quietly)
{
	struct sc *sc = sc_new(NULL);
	struct dgram *d = echo_dgram(12, 1, 1200);

	frag(sc, d, 0, 400, true);
	frag(sc, d, 0, 400, true);
	frag(sc, d, 400, 400, true);
	frag(sc, d, 400, 400, true);
	frag(sc, d, 200, 200, true); /* inside [0, 800) */
	frag(sc, d, 800, 408, false);
	frag(sc, d, 800, 408, false); /* after completion: a new queue */
	EXPECT_ECHO_REPLY(sc, 12, 1, 1200);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "IpReasmOKs", 1);
	CHECK_MIB(sc, "IpExtReasmOverlaps", 0);
	CHECK_MIB(sc, "IpReasmFails", 0);
	CHECK_EQ(FRAG_QUEUES(sc), 1);
	sc_advance(sc, SEC(31)); /* the orphan last fragment times out quietly */
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "IpReasmTimeout", 1);
	STILL_WORKS(sc);
	free(d);
	SC_FREE(sc);
}

/* A partial overlap poisons the datagram (RFC 5722's rule, which Linux
 * applies to IPv4): ReasmOverlaps + ReasmFails, nothing delivered. */
TEST(frag_overlap_drops_datagram)
{
	struct sc *sc = sc_new(NULL);
	struct dgram *d = echo_dgram(13, 1, 1200);

	frag(sc, d, 0, 400, true);
	frag(sc, d, 392, 400, true);
	CHECK_MIB(sc, "IpExtReasmOverlaps", 1);
	CHECK_MIB(sc, "IpReasmFails", 1);
	CHECK_EQ(FRAG_QUEUES(sc), 0);
	frag(sc, d, 800, 408, false);
	frag(sc, d, 400, 400, true);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "IpReasmOKs", 0);
	sc_advance(sc, SEC(31));
	EXPECT_NONE(sc); /* no first fragment in the new queue: no time exceeded */
	STILL_WORKS(sc);
	free(d);
	SC_FREE(sc);
}

/* RFC 1858's overlapping-fragment attack: a second fragment rewrites the
 * TCP flags of the first (ACK -> SYN) to slip a SYN past a filter. The
 * overlap kills the datagram; the listener never sees the SYN. */
TEST(frag_tcp_header_rewrite_overlap_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct dgram *d = tcp_dgram(77, 20, F_ACK, 1000);
	uint8_t *th = d->data;

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 8) >= 0);
	th[7] = 1;
	frag(sc, d, 0, 16, true);
	th[13] = F_SYN; /* the rewrite (checksum left to the attacker: irrelevant) */
	frag(sc, d, 8, 12, false);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "IpExtReasmOverlaps", 1);
	CHECK_MIB(sc, "TcpInSegs", 0);
	CHECK_MIB(sc, "TcpPassiveOpens", 0);
	STILL_WORKS(sc);
	free(d);
	SC_FREE(sc);
}

/* TCP checksum over the pseudo header, for the fragmented SYN below. */
static void tcp_fill_csum(struct sc *sc, uint8_t *seg, size_t len)
{
	uint8_t buf[200];

	memcpy(buf, &sc->remote, 4);
	memcpy(buf + 4, &sc->local, 4);
	buf[8] = 0;
	buf[9] = 6;
	put16(buf + 10, (uint16_t)len);
	memcpy(buf + 12, seg, len);
	seg[16] = seg[17] = 0;
	buf[12 + 16] = buf[12 + 17] = 0;
	put16(seg + 16, csum16(buf, 12 + len));
}

/* A tiny first fragment (8 bytes: only the ports and the sequence number)
 * is not refused by Linux; the reassembled SYN opens a connection. */
TEST(frag_tiny_first_fragment_reassembled)
{
	struct sc *sc = sc_new(NULL);
	struct dgram *d = tcp_dgram(78, 24, F_SYN, 8192);
	uint8_t *th = d->data;
	static const uint8_t mss[4] = { O_MSS(1460) };

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 8) >= 0);
	th[4] = 0x10; /* seq 0x10000000 */
	memcpy(th + 20, mss, 4);
	tcp_fill_csum(sc, th, 24);
	frag(sc, d, 0, 8, true);
	EXPECT_NONE(sc);
	frag(sc, d, 8, 16, false);
	EXPECT(sc, .flags = F_SYN | F_ACK, .ack = V(0x10000001), .sport = V(SC_SERVER_PORT), .dport = V(SC_PEER_PORT),
	       OPT(O_MSS(1460)));
	CHECK_MIB(sc, "IpReasmOKs", 1);
	free(d);
	SC_FREE(sc);
}

/* A non-final fragment with no data, and two final fragments that
 * disagree: the datagram fails (Linux's discard_qp: ReasmFails). */
TEST(frag_empty_and_inconsistent_fragments_fail)
{
	struct sc *sc = sc_new(NULL);
	struct dgram *d = echo_dgram(14, 1, 1200);

	frag(sc, d, 0, 400, true);
	frag(sc, d, 400, 0, true);
	CHECK_MIB(sc, "IpReasmFails", 1);
	CHECK_EQ(FRAG_QUEUES(sc), 0);
	frag(sc, d, 800, 408, false);
	frag(sc, d, 800, 400, false);
	CHECK_MIB(sc, "IpReasmFails", 2);
	CHECK_EQ(FRAG_QUEUES(sc), 0);
	/* Data beyond a final fragment already seen. */
	frag(sc, d, 400, 400, false);
	frag(sc, d, 800, 400, true);
	CHECK_MIB(sc, "IpReasmFails", 3);
	CHECK_MIB(sc, "IpExtReasmOverlaps", 0);
	EXPECT_NONE(sc);
	STILL_WORKS(sc);
	free(d);
	SC_FREE(sc);
}

/* A datagram that would pass 65535 bytes fails when it completes, with
 * the final fragment sent first. */
TEST(frag_oversize_reassembly_fails)
{
	struct sc *sc = sc_new(NULL);
	struct dgram *d = calloc(1, sizeof(*d));
	size_t off;

	d->proto = 1;
	d->id = 15;
	frag(sc, d, 65520, 100, false); /* ends at 65620 */
	for (off = 0; off < 65520; off += 1480)
		frag(sc, d, off, off + 1480 <= 65520 ? 1480 : 65520 - off, true);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "IpReasmFails", 1);
	CHECK_MIB(sc, "IpReasmOKs", 0);
	CHECK_EQ(FRAG_QUEUES(sc), 0);
	CHECK_EQ(FRAG_MEM(sc), 0);
	STILL_WORKS(sc);
	free(d);
	SC_FREE(sc);
}

/* Thousands of 8-byte fragments of one datagram: reassembly memory for
 * the source stays under ipfrag_src_thresh, the excess is refused
 * (ReasmFails), the queue times out with an ICMP time exceeded (its first
 * fragment came), and everything is freed. */
TEST(frag_too_many_fragments_bounded)
{
	struct sc *sc = sc_new(NULL);
	struct dgram *d = calloc(1, sizeof(*d));
	uint64_t max_mem = 0;
	size_t sent = 0;
	const struct sc_pkt *p;

	d->proto = 1;
	d->id = 16;
	for (size_t off = 0; off < 65000; off += 16, sent++) {
		frag(sc, d, off, 8, true);
		if (FRAG_MEM(sc) > max_mem)
			max_mem = FRAG_MEM(sc);
	}
	CHECK(max_mem <= 1048576);
	CHECK(max_mem > 1048576 / 2);
	CHECK_EQ(FRAG_QUEUES(sc), 1);
	CHECK(sc_mib(sc, "IpReasmFails") > sent / 2);
	CHECK_EQ(sc_mib(sc, "IpReasmReqds"), sent);
	CHECK(LIVE_SKBS(sc) < 1048576 / 2048);
	EXPECT_NONE(sc);
	/* Unfragmented traffic from the same source is not affected. */
	STILL_ANSWERS(sc);
	sc_advance(sc, SEC(30));
	p = sc_pop(sc);
	CHECK(p && p->protocol == 1 && p->frame[34] == 11 && p->frame[35] == 1);
	CHECK_MIB(sc, "IpReasmTimeout", 1);
	CHECK_EQ(FRAG_MEM(sc), 0);
	CHECK_EQ(LIVE_SKBS(sc), 0);
	STILL_WORKS(sc);
	free(d);
	SC_FREE(sc);
}

/* Memory pressure: many sources fill reassembly memory up to
 * ipfrag_high_thresh; then every fragment is refused, the peer's fragmented
 * ping included, while unfragmented traffic still flows. When the queues
 * time out, memory is back to 0 and the fragmented ping works. */
TEST(frag_timeout_under_memory_pressure)
{
	struct sc *sc = sc_new(NULL);
	struct dgram *d = echo_dgram(17, 3, 1200);
	uint32_t queues;
	uint64_t fails;
	int i;

	REQUIRE(sc_sysctl(sc, "net.ipv4.ipfrag_high_thresh", 65536) == 0);
	for (i = 0; i < 200 && sc_mib(sc, "IpReasmFails") == 0; i++) {
		uint32_t src = htonl(0xc6336400u + (uint32_t)i); /* 198.51.100.i: off link, no answers */
		uint8_t pay[64] = { 0 };
		inject(sc, &(struct ipf){ .saddr = src, .id = (uint16_t)i, .frag = 0x2000 | 4, .payload = pay,
					  .plen = 64 });
	}
	CHECK(i > 5 && i < 200);
	queues = FRAG_QUEUES(sc);
	CHECK(FRAG_MEM(sc) > 65536);
	CHECK(FRAG_MEM(sc) < 65536 + 4096);
	fails = sc_mib(sc, "IpReasmFails");
	frag(sc, d, 0, 400, true);
	frag(sc, d, 400, 400, true);
	frag(sc, d, 800, 408, false);
	EXPECT_NONE(sc);
	CHECK_EQ(sc_mib(sc, "IpReasmFails"), fails + 3);
	CHECK_EQ(FRAG_QUEUES(sc), queues);
	STILL_ANSWERS(sc);
	sc_advance(sc, SEC(30));
	EXPECT_NONE(sc); /* no first fragments: no time exceeded */
	CHECK_EQ(sc_mib(sc, "IpReasmTimeout"), queues);
	CHECK_EQ(FRAG_MEM(sc), 0);
	CHECK_EQ(FRAG_QUEUES(sc), 0);
	frag(sc, d, 800, 408, false);
	frag(sc, d, 0, 400, true);
	frag(sc, d, 400, 400, true);
	EXPECT_ECHO_REPLY(sc, 17, 3, 1200);
	STILL_WORKS(sc);
	free(d);
	SC_FREE(sc);
}

int main(void)
{
	echo16_len = echo_body(echo16, 1, 1, 16);
	RUN(ip_version_6_dropped);
	RUN(ip_version_0_dropped);
	RUN(ip_ihl_below_5_dropped);
	RUN(ip_ihl_beyond_frame_dropped);
	RUN(ip_ihl_beyond_tot_len_dropped);
	RUN(ip_bad_checksum_dropped);
	RUN(ip_tot_len_beyond_frame_truncated);
	RUN(ip_tot_len_below_header_dropped);
	RUN(ip_header_truncated_dropped);
	RUN(ip_tot_len_shorter_than_frame_trimmed);
	RUN(ip_options_nop_and_eol_accepted);
	RUN(ip_options_router_alert_accepted);
	RUN(ip_options_garbage_after_eol_accepted);
	RUN(ip_options_record_route_and_timestamp_accepted);
	RUN(ip_options_length_0_parameter_problem);
	RUN(ip_options_length_1_parameter_problem);
	RUN(ip_options_length_past_header_parameter_problem);
	RUN(ip_options_kind_without_length_parameter_problem);
	RUN(ip_options_record_route_bad_pointer_parameter_problem);
	RUN(ip_options_record_route_twice_parameter_problem);
	RUN(ip_options_timestamp_too_short_parameter_problem);
	RUN(ip_options_timestamp_overflow_parameter_problem);
	RUN(ip_options_router_alert_short_parameter_problem);
	RUN(ip_options_source_route_dropped);
	RUN(frag_out_of_order_reassembled);
	RUN(frag_duplicates_dropped_quietly);
	RUN(frag_overlap_drops_datagram);
	RUN(frag_tcp_header_rewrite_overlap_dropped);
	RUN(frag_tiny_first_fragment_reassembled);
	RUN(frag_empty_and_inconsistent_fragments_fail);
	RUN(frag_oversize_reassembly_fails);
	RUN(frag_too_many_fragments_bounded);
	RUN(frag_timeout_under_memory_pressure);
	return TEST_SUMMARY();
}
