/* TCP options: parsing (tcp_parse_options) against hostile and ordinary
 * headers, the exact bytes of every SYN/SYN-ACK layout Linux emits, and the
 * initial window and scale (tcp_select_initial_window, tcp_full_space). */
#include <limits.h>
#include "../test.h"
#include "core/siphash.h"
#include "core/stack.h"
#include "tcp/tcp.h"

static struct stack *new_stack(struct synack_clock *clk)
{
	struct stack *st = NULL;

	if (synack_stack_new(&(struct synack_stack_config){ .clock = clk, .seeded = true, .seed = 1 }, &st) != 0)
		return NULL;
	return st;
}

/* ---------------------------------------------------------------- parse */

struct parse_case {
	const char *name;
	uint8_t opt[44];
	int len;
	bool syn, estab;
	bool ws_off, sack_off, ts_off;  /* sysctls turned off */
	uint16_t user_mss;              /* caller's state before parsing */
	bool tstamp_ok;
	/* expected afterwards (mss_clamp starts at 536, snd_wscale at 0) */
	uint16_t mss_clamp;
	bool wscale_ok;
	uint8_t snd_wscale;
	bool sack_ok, saw_tstamp;
	uint32_t tsval, tsecr;
	bool saw_fastopen;          /* foc.len >= 0 */
	uint8_t fastopen_len;
	bool fastopen_exp;
	uint8_t cookie[16];
};

/* A Linux SYN with all defaults: mss 1460, sackOK, TS 1/2, nop, wscale 7. */
#define LINUX_SYN 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2, 0x01, 0x03, 0x03, 0x07
#define COOKIE8 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7
#define COOKIE16 COOKIE8, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf

static const struct parse_case parse_cases[] = {
	{ "linux syn", { LINUX_SYN }, 20, .syn = true, .mss_clamp = 1460, .wscale_ok = true, .snd_wscale = 7,
	  .sack_ok = true, .saw_tstamp = true, .tsval = 1, .tsecr = 2 },
	{ "syn: only TS when not a SYN", { LINUX_SYN }, 20, .mss_clamp = 536, .saw_tstamp = true, .tsval = 1,
	  .tsecr = 2 },
	{ "syn in estab: handshake options ignored", { LINUX_SYN }, 20, .syn = true, .estab = true,
	  .tstamp_ok = true, .mss_clamp = 536, .saw_tstamp = true, .tsval = 1, .tsecr = 2 },
	{ "estab without negotiated TS", { 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6 }, 12, .estab = true,
	  .mss_clamp = 536 },
	{ "estab aligned TS, big-endian values",
	  { 1, 1, 8, 10, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 }, 12, .estab = true, .tstamp_ok = true,
	  .mss_clamp = 536, .saw_tstamp = true, .tsval = 0x12345678, .tsecr = 0x9abcdef0 },
	{ "tcp_window_scaling=0", { LINUX_SYN }, 20, .syn = true, .ws_off = true, .mss_clamp = 1460,
	  .sack_ok = true, .saw_tstamp = true, .tsval = 1, .tsecr = 2 },
	{ "tcp_sack=0 tcp_timestamps=0", { LINUX_SYN }, 20, .syn = true, .sack_off = true, .ts_off = true,
	  .mss_clamp = 1460, .wscale_ok = true, .snd_wscale = 7 },
	{ "wscale 14 kept", { 3, 3, 14 }, 3, .syn = true, .mss_clamp = 536, .wscale_ok = true, .snd_wscale = 14 },
	{ "wscale 15 capped", { 3, 3, 15 }, 3, .syn = true, .mss_clamp = 536, .wscale_ok = true, .snd_wscale = 14 },
	{ "wscale 255 capped", { 3, 3, 255 }, 3, .syn = true, .mss_clamp = 536, .wscale_ok = true,
	  .snd_wscale = 14 },
	{ "mss 0 ignored", { 2, 4, 0, 0 }, 4, .syn = true, .mss_clamp = 536 },
	{ "user_mss clamps", { 2, 4, 0x05, 0xb4 }, 4, .syn = true, .user_mss = 1000, .mss_clamp = 1000 },
	{ "user_mss above peer", { 2, 4, 0x05, 0xb4 }, 4, .syn = true, .user_mss = 1500, .mss_clamp = 1460 },
	{ "mss with wrong length skipped", { 2, 3, 0x05, 4, 2 }, 5, .syn = true, .mss_clamp = 536, .sack_ok = true },
	{ "TS with wrong length skipped", { 8, 8, 0, 0, 0, 1, 0, 0, 4, 2 }, 10, .syn = true, .mss_clamp = 536,
	  .sack_ok = true },
	{ "sack_perm with wrong length skipped", { 4, 3, 0, 3, 3, 2 }, 6, .syn = true, .mss_clamp = 536,
	  .wscale_ok = true, .snd_wscale = 2 },
	{ "EOL ends", { 0, 2, 4, 0x05, 0xb4 }, 5, .syn = true, .mss_clamp = 536 },
	{ "NOPs then EOL", { 1, 1, 1, 0, 4, 2 }, 6, .syn = true, .mss_clamp = 536 },
	{ "opsize 1 ends", { 4, 2, 3, 1, 7, 2, 4, 0x05, 0xb4 }, 9, .syn = true, .mss_clamp = 536, .sack_ok = true },
	{ "opsize 0 ends", { 3, 0, 4, 2 }, 4, .syn = true, .mss_clamp = 536 },
	{ "opsize past the end", { 4, 2, 2, 4, 0x05 }, 5, .syn = true, .mss_clamp = 536, .sack_ok = true },
	{ "kind without length byte", { 4, 2, 3 }, 3, .syn = true, .mss_clamp = 536, .sack_ok = true },
	{ "unknown kinds skipped", { 30, 6, 2, 4, 0x05, 0xb4, 19, 2, 5, 2, 4, 2 }, 12, .syn = true,
	  .mss_clamp = 536, .sack_ok = true },
	{ "sack blocks skipped", { 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 2, 4, 0x05, 0xb4 }, 16, .syn = true,
	  .mss_clamp = 1460 },
	{ "empty", { 0 }, 0, .syn = true, .mss_clamp = 536 },
	{ "negative length", { LINUX_SYN }, -4, .syn = true, .mss_clamp = 536 },
	{ "fastopen cookie", { 34, 10, COOKIE8 }, 10, .syn = true, .mss_clamp = 536, .saw_fastopen = true,
	  .fastopen_len = 8, .cookie = { COOKIE8 } },
	{ "fastopen cookie request", { 34, 2, 1, 1 }, 4, .syn = true, .mss_clamp = 536, .saw_fastopen = true },
	{ "fastopen 16-byte cookie", { 34, 18, COOKIE16 }, 18, .syn = true, .mss_clamp = 536,
	  .saw_fastopen = true, .fastopen_len = 16, .cookie = { COOKIE16 } },
	{ "fastopen 4-byte cookie", { 34, 6, 0xc0, 0xc1, 0xc2, 0xc3 }, 6, .syn = true, .mss_clamp = 536,
	  .saw_fastopen = true, .fastopen_len = 4, .cookie = { 0xc0, 0xc1, 0xc2, 0xc3 } },
	{ "fastopen experimental", { 254, 12, 0xf9, 0x89, COOKIE8 }, 12, .syn = true, .mss_clamp = 536,
	  .saw_fastopen = true, .fastopen_len = 8, .fastopen_exp = true, .cookie = { COOKIE8 } },
	{ "fastopen experimental, then standard", { 254, 12, 0xf9, 0x89, COOKIE8, 34, 6, 0xc0, 0xc1, 0xc2, 0xc3 }, 18,
	  .syn = true, .mss_clamp = 536, .saw_fastopen = true, .fastopen_len = 4, .cookie = { 0xc0, 0xc1, 0xc2, 0xc3 } },
	{ "experimental, other magic", { 254, 12, 0xf9, 0x88, COOKIE8 }, 12, .syn = true, .mss_clamp = 536 },
	{ "experimental too short for magic", { 254, 3, 0xf9, 4, 2 }, 5, .syn = true, .mss_clamp = 536,
	  .sack_ok = true },
	{ "fastopen odd cookie", { 34, 5, 1, 2, 3 }, 5, .syn = true, .mss_clamp = 536 },
	{ "fastopen 2-byte cookie", { 34, 4, 1, 2 }, 4, .syn = true, .mss_clamp = 536 },
	{ "fastopen 18-byte cookie", { 34, 20, COOKIE16, 1, 2 }, 20, .syn = true, .mss_clamp = 536 },
	{ "fastopen not on a SYN", { 34, 10, COOKIE8 }, 10, .mss_clamp = 536 },
	{ "fastopen, then a bad one", { 34, 10, COOKIE8, 34, 4, 1, 2 }, 14, .syn = true, .mss_clamp = 536 },
};

/* Each case is parsed from a heap copy of exactly len bytes, so the
 * sanitizer build catches any read past the option area. */
static void run_parse_case(struct stack *st, const struct parse_case *c)
{
	size_t n = c->len > 0 ? (size_t)c->len : 1;
	uint8_t *buf = malloc(n);
	struct tcp_options_received rx = { .mss_clamp = 536, .user_mss = c->user_mss, .tstamp_ok = c->tstamp_ok,
					   .saw_tstamp = true };
	struct tcp_fastopen_cookie foc = { .len = 3, .exp = true }; /* stale: the parser resets it */

	if (!buf)
		abort();
	memcpy(buf, c->opt, n);
	st->sysctl.tcp_window_scaling = !c->ws_off;
	st->sysctl.tcp_sack = !c->sack_off;
	st->sysctl.tcp_timestamps = !c->ts_off;
	tcp_parse_options(st, buf, c->len, c->syn, c->estab, &rx, &foc);
	free(buf);

	int before = test_failed_checks;
	CHECK_EQ(rx.mss_clamp, c->mss_clamp);
	CHECK_EQ(rx.wscale_ok, c->wscale_ok);
	CHECK_EQ(rx.snd_wscale, c->snd_wscale);
	CHECK_EQ(rx.sack_ok, c->sack_ok);
	CHECK_EQ(rx.saw_tstamp, c->saw_tstamp);
	CHECK_EQ(rx.rcv_tsval, c->tsval);
	CHECK_EQ(rx.rcv_tsecr, c->tsecr);
	CHECK_EQ(foc.len >= 0, c->saw_fastopen);
	CHECK_EQ(foc.len < 0 ? 0 : foc.len, c->fastopen_len);
	CHECK_EQ(foc.len >= 0 && foc.exp, c->fastopen_exp);
	if (foc.len > 0)
		CHECK_MEM(foc.val, c->cookie, c->fastopen_len);
	CHECK_EQ(rx.tstamp_ok, c->tstamp_ok);   /* never negotiated here */
	CHECK_EQ(rx.user_mss, c->user_mss);
	if (test_failed_checks != before)
		fprintf(stderr, "  in parse case \"%s\"\n", c->name);
}

TEST(parse_table)
{
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct stack *st = new_stack(clk);

	REQUIRE(st);
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++)
		run_parse_case(st, &parse_cases[i]);
	synack_stack_free(st);
	synack_clock_free(clk);
}

/* Options a previous segment negotiated survive a segment without them. */
TEST(parse_keeps_negotiated_state)
{
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct stack *st = new_stack(clk);
	struct tcp_options_received rx = { .tstamp_ok = true, .wscale_ok = true, .sack_ok = true,
					   .snd_wscale = 9, .rcv_wscale = 7, .mss_clamp = 1400,
					   .ts_recent = 77, .rcv_tsval = 5, .rcv_tsecr = 6 };
	static const uint8_t nops[] = { 1, 1, 1, 1 };

	REQUIRE(st);
	tcp_parse_options(st, nops, sizeof(nops), true, false, &rx, NULL);
	CHECK(!rx.saw_tstamp);
	CHECK(rx.tstamp_ok && rx.wscale_ok && rx.sack_ok);
	CHECK_EQ(rx.snd_wscale, 9);
	CHECK_EQ(rx.rcv_wscale, 7);
	CHECK_EQ(rx.mss_clamp, 1400);
	CHECK_EQ(rx.ts_recent, 77);
	CHECK_EQ(rx.rcv_tsval, 5);  /* stale values stay; saw_tstamp says they are */
	synack_stack_free(st);
	synack_clock_free(clk);
}

/* Random headers of every length, each in an exact-size heap buffer: the
 * sanitizer build fails on any over-read; results must stay in range. */
TEST(parse_random_headers)
{
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct stack *st = new_stack(clk);
	struct prng r;

	REQUIRE(st);
	prng_seed(&r, 7);
	for (int iter = 0; iter < 20000; iter++) {
		int len = (int)prng_below(&r, 41);
		uint8_t *buf = malloc(len ? (size_t)len : 1);
		struct tcp_options_received rx = { .mss_clamp = 536 };
		struct tcp_fastopen_cookie foc;

		REQUIRE(buf);
		prng_bytes(&r, buf, (size_t)len);
		/* Bias towards real kinds and plausible lengths. */
		for (int i = 0; i + 1 < len; i += 2) {
			if (prng_below(&r, 2))
				buf[i] = (uint8_t)prng_below(&r, 9);
			if (prng_below(&r, 2))
				buf[i + 1] = (uint8_t)prng_below(&r, 20);
		}
		tcp_parse_options(st, buf, len, prng_below(&r, 2), prng_below(&r, 2), &rx, &foc);
		CHECK(rx.snd_wscale <= TCP_MAX_WSCALE);
		CHECK(foc.len >= -1 && foc.len <= 16 && !(foc.len > 0 && (foc.len & 1)));
		CHECK(foc.len != 2 && foc.len != 1);
		free(buf);
	}
	synack_stack_free(st);
	synack_clock_free(clk);
}

/* ---------------------------------------------------------------- write */

struct write_case {
	const char *name;
	struct tcp_out_options o;
	uint8_t want[40];
	int len;
};

#define TSV 0x11, 0x22, 0x33, 0x44
#define TSE 0x55, 0x66, 0x77, 0x88

/* spec 1.5's table, plus the MSS-only SYN and an established ACK */
static const struct write_case write_cases[] = {
	{ "all defaults (mss,sackOK,TS,nop,wscale)",
	  { .mss = true, .ts = true, .sack_perm = true, .ws = true, .mss_val = 1460, .ws_val = 10,
	    .tsval = 0x11223344, .tsecr = 0x55667788 },
	  { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, TSV, TSE, 0x01, 0x03, 0x03, 0x0a }, 20 },
	{ "no TS (mss,nop,nop,sackOK,nop,wscale)",
	  { .mss = true, .sack_perm = true, .ws = true, .mss_val = 1460, .ws_val = 7 },
	  { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07 }, 12 },
	{ "no SACK (mss,nop,nop,TS,nop,wscale)",
	  { .mss = true, .ts = true, .ws = true, .mss_val = 1460, .ws_val = 7, .tsval = 0x11223344,
	    .tsecr = 0x55667788 },
	  { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08, 0x0a, TSV, TSE, 0x01, 0x03, 0x03, 0x07 }, 20 },
	{ "no WS (mss,sackOK,TS)",
	  { .mss = true, .ts = true, .sack_perm = true, .mss_val = 1460, .tsval = 0x11223344, .tsecr = 0x55667788 },
	  { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, TSV, TSE }, 16 },
	{ "MSS only", { .mss = true, .mss_val = 536 }, { 0x02, 0x04, 0x02, 0x18 }, 4 },
	{ "mss,nop,wscale", { .mss = true, .ws = true, .mss_val = 0xffff, .ws_val = 14 },
	  { 0x02, 0x04, 0xff, 0xff, 0x01, 0x03, 0x03, 0x0e }, 8 },
	{ "mss,nop,nop,sackOK", { .mss = true, .sack_perm = true, .mss_val = 1448 },
	  { 0x02, 0x04, 0x05, 0xa8, 0x01, 0x01, 0x04, 0x02 }, 8 },
	{ "ACK: nop,nop,TS", { .ts = true, .tsval = 0x11223344, .tsecr = 0x55667788 },
	  { 0x01, 0x01, 0x08, 0x0a, TSV, TSE }, 12 },
	{ "nothing", { .mss = false }, { 0 }, 0 },
};

TEST(write_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(write_cases); i++) {
		const struct write_case *c = &write_cases[i];
		uint8_t buf[48];
		int before = test_failed_checks, n;

		memset(buf, 0xee, sizeof(buf));
		n = tcp_options_write(buf, &c->o);
		CHECK_EQ(n, c->len);
		CHECK_EQ(tcp_options_size(&c->o), c->len);
		CHECK_EQ(n % 4, 0);
		CHECK_MEM(buf, c->want, (size_t)c->len);
		CHECK_EQ(buf[c->len], 0xee);    /* nothing written past the size */
		if (test_failed_checks != before)
			fprintf(stderr, "  in write case \"%s\"\n", c->name);
	}
}

/* What we write, the parser reads back as offered. */
TEST(write_then_parse)
{
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct stack *st = new_stack(clk);
	struct tcp_out_options o = { .mss = true, .ts = true, .sack_perm = true, .ws = true, .mss_val = 1460,
				     .ws_val = 10, .tsval = 123456, .tsecr = 0 };
	struct tcp_options_received rx = { .mss_clamp = 536 };
	uint8_t buf[MAX_TCP_OPTION_SPACE];
	int n;

	REQUIRE(st);
	n = tcp_options_write(buf, &o);
	REQUIRE(n <= MAX_TCP_OPTION_SPACE);
	tcp_parse_options(st, buf, n, true, false, &rx, NULL);
	CHECK_EQ(rx.mss_clamp, 1460);
	CHECK(rx.wscale_ok && rx.sack_ok && rx.saw_tstamp);
	CHECK_EQ(rx.snd_wscale, 10);
	CHECK_EQ(rx.rcv_tsval, 123456);
	CHECK_EQ(rx.rcv_tsecr, 0);
	synack_stack_free(st);
	synack_clock_free(clk);
}

/* --------------------------------------------------------------- window */

TEST(full_space)
{
	static const struct { uint32_t rcvbuf; int want; } t[] = {
		{ 131072, 65536 }, { 0, 0 }, { 1, 0 }, { 3, 1 }, { 4096, 2048 },
		{ 6291456, 3145728 }, { 0xffffffffu, INT_MAX },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		CHECK_EQ(tcp_full_space(t[i].rcvbuf), t[i].want);
}

struct win_case {
	const char *name;
	int space;
	uint32_t mss, clamp_in;
	bool wscale_ok;
	long tcp_rmem_max, rmem_max;
	bool signed_windows;
	uint32_t init_rcv_wnd;
	uint32_t rcv_wnd, clamp, wscale;
};

#define MIB (1024L * 1024L)
#define FULL_128K 65536 /* tcp_full_space(tcp_rmem_default) */

static const struct win_case win_cases[] = {
	{ "client SYN, mss 1460, rmem 32M", FULL_128K, 1460, 0, true, 32 * MIB, 4 * MIB, false, 0,
	  64240, 65535u << 10, 10 },
	{ "server SYN-ACK, mss 1448", FULL_128K, 1448, 0, true, 32 * MIB, 4 * MIB, false, 0,
	  65160, 65535u << 10, 10 },
	{ "tcp_rmem max 6M", FULL_128K, 1460, 0, true, 6 * MIB, 4 * MIB, false, 0, 64240, 65535u << 7, 7 },
	{ "rmem_max above tcp_rmem", FULL_128K, 1460, 0, true, 6 * MIB, 64 * MIB, false, 0,
	  64240, 65535u << 11, 11 },
	{ "no window scaling", FULL_128K, 1460, 0, false, 32 * MIB, 4 * MIB, false, 0, 64240, 65535, 0 },
	{ "clamp 0 is 65535<<14", INT_MAX, 1460, 0, true, 1L << 30, 1L << 30, false, 0,
	  1073724880u, 65535u << 14, 14 },
	{ "signed windows workaround", FULL_128K, 1460, 0, true, 32 * MIB, 4 * MIB, true, 0,
	  32767, 65535u << 10, 10 },
	{ "signed workaround, small space", 20000, 1460, 0, true, 32 * MIB, 4 * MIB, true, 0,
	  18980, 65535u << 10, 10 },
	{ "user clamp", FULL_128K, 1460, 20000, true, 32 * MIB, 4 * MIB, false, 0, 18980, 20000, 0 },
	{ "clamp above 16 bits", FULL_128K, 1460, 300000, true, 32 * MIB, 4 * MIB, false, 0,
	  64240, 300000, 3 },
	{ "initrwnd 10", FULL_128K, 1460, 0, true, 32 * MIB, 4 * MIB, false, 10, 14600, 65535u << 10, 10 },
	{ "space below mss not rounded", 1000, 1460, 0, true, 32 * MIB, 4 * MIB, false, 0,
	  1000, 65535u << 10, 10 },
	{ "negative space", -5, 1460, 0, false, 32 * MIB, 4 * MIB, false, 0, 0, 65535, 0 },
	{ "small buffers, no scale needed", 8192, 1460, 0, true, 32768, 32768, false, 0, 7300, 65535, 0 },
};

TEST(initial_window_table)
{
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct stack *st = new_stack(clk);

	REQUIRE(st);
	for (size_t i = 0; i < ARRAY_SIZE(win_cases); i++) {
		const struct win_case *c = &win_cases[i];
		uint32_t rcv_wnd = 0xdead, clamp = c->clamp_in;
		uint8_t wscale = 0xee;
		int before = test_failed_checks;

		st->sysctl.tcp_rmem_max = c->tcp_rmem_max;
		st->sysctl.rmem_max = c->rmem_max;
		st->sysctl.tcp_workaround_signed_windows = c->signed_windows;
		tcp_select_initial_window(st, c->space, c->mss, &rcv_wnd, &clamp, c->wscale_ok, &wscale,
					  c->init_rcv_wnd);
		CHECK_EQ(rcv_wnd, c->rcv_wnd);
		CHECK_EQ(clamp, c->clamp);
		CHECK_EQ(wscale, c->wscale);
		if (test_failed_checks != before)
			fprintf(stderr, "  in window case \"%s\"\n", c->name);
	}
	synack_stack_free(st);
	synack_clock_free(clk);
}

/* The defaults the stack starts with give Linux's SYN window and scale. */
TEST(initial_window_defaults)
{
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct stack *st = new_stack(clk);
	uint32_t rcv_wnd, clamp = 0;
	uint8_t wscale;

	REQUIRE(st);
	tcp_select_initial_window(st, tcp_full_space((uint32_t)st->sysctl.tcp_rmem_default), 1460, &rcv_wnd,
				  &clamp, true, &wscale, 0);
	CHECK_EQ(rcv_wnd, 64240);
	CHECK_EQ(wscale, 10);
	synack_stack_free(st);
	synack_clock_free(clk);
}

int main(void)
{
	RUN(parse_table);
	RUN(parse_keeps_negotiated_state);
	RUN(parse_random_headers);
	RUN(write_table);
	RUN(write_then_parse);
	RUN(full_space);
	RUN(initial_window_table);
	RUN(initial_window_defaults);
	return TEST_SUMMARY();
}
