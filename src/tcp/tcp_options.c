/*
 * TCP options: parsing what a segment carries (Linux: tcp_parse_options in
 * tcp_input.c), writing ours (tcp_options_write in tcp_output.c), and the
 * initial receive window and scale we advertise (tcp_select_initial_window).
 */
#include <string.h>
#include "core/compiler.h"
#include "core/stack.h"
#include "tcp/tcp.h"

/* Fast Open option framing (Linux: TCPOLEN_{EXP_,}FASTOPEN_BASE and the
 * cookie bounds TCP_FASTOPEN_COOKIE_{MIN,MAX}). */
#define TCPOLEN_FASTOPEN_BASE 2
#define TCPOLEN_EXP_FASTOPEN_BASE 4
#define TCP_FASTOPEN_COOKIE_MIN 4
#define TCP_FASTOPEN_COOKIE_MAX 16

/* Aligned sizes of what tcp_options_write emits. */
#define TCPOLEN_MSS_ALIGNED 4
#define TCPOLEN_SACKPERM_ALIGNED 4
#define TCPOLEN_WSCALE_ALIGNED 4

/* The largest window an unscaled peer may misread as negative. */
#define MAX_TCP_WINDOW 32767U

/* Linux's default receive-buffer to window ratio: 128/256 of the buffer. */
#define TCP_RMEM_TO_WIN_SCALE 8
#define TCP_DEFAULT_SCALING_RATIO (1 << (TCP_RMEM_TO_WIN_SCALE - 1))

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint8_t *put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *put_4(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

/* ------------------------------------------------------------ parsing */

/*
 * A Fast Open cookie of len bytes at cookie, into foc when the caller wants
 * one (Linux: tcp_parse_fastopen_option). Only a SYN or SYN-ACK carries one,
 * and only an even length counts: 0 is a cookie request, 4..16 a cookie, and
 * any other length "no usable cookie" (foc->len -1, clearing what an earlier
 * option in the same header recorded). exp: it came in option 254.
 */
static void tcp_parse_fastopen_option(int len, const uint8_t *cookie, bool syn, bool exp,
				      struct tcp_fastopen_cookie *foc)
{
	if (!foc || !syn || len < 0 || (len & 1))
		return;
	if (len >= TCP_FASTOPEN_COOKIE_MIN && len <= TCP_FASTOPEN_COOKIE_MAX)
		memcpy(foc->val, cookie, (size_t)len);
	else if (len != 0)
		len = -1;
	foc->len = (int8_t)len;
	foc->exp = exp;
}

static void tcp_parse_mss(const uint8_t *val, struct tcp_options_received *rx)
{
	uint16_t in_mss = get_be16(val);

	/* Zero is no MSS at all; the peer's value is capped by TCP_MAXSEG. */
	if (!in_mss)
		return;
	if (rx->user_mss && rx->user_mss < in_mss)
		in_mss = rx->user_mss;
	rx->mss_clamp = in_mss;
}

static void tcp_parse_wscale(uint8_t shift, struct tcp_options_received *rx)
{
	rx->wscale_ok = true;
	/* RFC 7323 2.3: a shift above 14 is treated as 14. */
	rx->snd_wscale = shift > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : shift;
}

/*
 * One option of kind `kind` whose value (opsize - 2 bytes, all within the
 * buffer) starts at val. Options that do not fit their rule are ignored.
 */
static void tcp_parse_one(const struct stack *st, int kind, const uint8_t *val, int opsize, bool syn,
			  bool estab, struct tcp_options_received *rx, struct tcp_fastopen_cookie *foc)
{
	/* What may only be negotiated does so on the SYN of an unsynchronised socket. */
	bool handshake = syn && !estab;

	switch (kind) {
	case TCPOPT_MSS:
		if (opsize == TCPOLEN_MSS && handshake)
			tcp_parse_mss(val, rx);
		break;
	case TCPOPT_WINDOW:
		if (opsize == TCPOLEN_WINDOW && handshake && st->sysctl.tcp_window_scaling)
			tcp_parse_wscale(val[0], rx);
		break;
	case TCPOPT_TIMESTAMP:
		/* Once synchronised, TS counts only if it was negotiated. */
		if (opsize == TCPOLEN_TIMESTAMP &&
		    ((estab && rx->tstamp_ok) || (!estab && st->sysctl.tcp_timestamps))) {
			rx->saw_tstamp = true;
			rx->rcv_tsval = get_be32(val);
			rx->rcv_tsecr = get_be32(val + 4);
		}
		break;
	case TCPOPT_SACK_PERM:
		if (opsize == TCPOLEN_SACK_PERM && handshake && st->sysctl.tcp_sack)
			rx->sack_ok = true;
		break;
	case TCPOPT_FASTOPEN:
		tcp_parse_fastopen_option(opsize - TCPOLEN_FASTOPEN_BASE, val, syn, false, foc);
		break;
	case TCPOPT_EXP:
		/* Kind 254 is shared; Fast Open's is the one with its magic. */
		if (opsize >= TCPOLEN_EXP_FASTOPEN_BASE && get_be16(val) == TCPOPT_FASTOPEN_MAGIC)
			tcp_parse_fastopen_option(opsize - TCPOLEN_EXP_FASTOPEN_BASE, val + 2, syn, true, foc);
		break;
	default:
		/* SACK blocks (not yet used), MD5 and unknown kinds: skipped. */
		break;
	}
}

void tcp_parse_options(const struct stack *st, const uint8_t *opt, int len, bool syn, bool estab,
		       struct tcp_options_received *rx, struct tcp_fastopen_cookie *foc)
{
	rx->saw_tstamp = false;
	if (foc) {
		foc->len = -1;
		foc->exp = false;
	}

	while (len > 0) {
		int kind = opt[0], opsize;

		if (kind == TCPOPT_EOL)
			return;
		if (kind == TCPOPT_NOP) {
			opt++;
			len--;
			continue;
		}
		if (len < 2)
			return;
		opsize = opt[1];
		/* A "silly" length, or one running past the header, ends parsing:
		 * nothing after it can be trusted to be aligned to an option. */
		if (opsize < 2 || opsize > len)
			return;
		tcp_parse_one(st, kind, opt + 2, opsize, syn, estab, rx, foc);
		opt += opsize;
		len -= opsize;
	}
}

/* The usual options of a synchronised segment, timestamps alone behind two
 * NOPs as Linux and synack send them: read without walking the options
 * (Linux: tcp_parse_aligned_timestamp). False for any other layout. */
bool tcp_parse_aligned_timestamp(const uint8_t *opt, int len, struct tcp_options_received *rx)
{
	if (len != TCPOLEN_TSTAMP_ALIGNED || !rx->tstamp_ok || opt[0] != TCPOPT_NOP || opt[1] != TCPOPT_NOP ||
	    opt[2] != TCPOPT_TIMESTAMP || opt[3] != TCPOLEN_TIMESTAMP)
		return false;
	rx->saw_tstamp = true;
	rx->rcv_tsval = get_be32(opt + 4);
	rx->rcv_tsecr = get_be32(opt + 8);
	return true;
}

/* ------------------------------------------------------------ writing */

int tcp_options_size(const struct tcp_out_options *o)
{
	int size = 0;

	if (o->mss)
		size += TCPOLEN_MSS_ALIGNED;
	if (o->ts)
		size += TCPOLEN_TSTAMP_ALIGNED;  /* SACK_PERM rides in its NOPs */
	else if (o->sack_perm)
		size += TCPOLEN_SACKPERM_ALIGNED;
	if (o->ws)
		size += TCPOLEN_WSCALE_ALIGNED;
	if (o->num_sack_blocks)
		size += 4 + 8 * o->num_sack_blocks;
	if (o->fastopen_cookie) /* fastopen: */
		size += (o->fastopen_cookie->len + (o->fastopen_cookie->exp ? TCPOLEN_EXP_FASTOPEN_BASE
									      : TCPOLEN_FASTOPEN_BASE) + 3) & ~3;
	return size;
}

/*
 * Linux's order, which middleboxes have come to expect: MSS, then TS (with
 * SACK_PERM in the two bytes that would otherwise be NOPs), SACK_PERM alone
 * when there is no TS, and WS last. Every option is padded to 32 bits.
 */
int tcp_options_write(uint8_t *p, const struct tcp_out_options *o)
{
	uint8_t *start = p;

	if (o->mss)
		p = put_4(p, TCPOPT_MSS, TCPOLEN_MSS, (uint8_t)(o->mss_val >> 8), (uint8_t)o->mss_val);
	if (o->ts) {
		if (o->sack_perm)
			p = put_4(p, TCPOPT_SACK_PERM, TCPOLEN_SACK_PERM, TCPOPT_TIMESTAMP, TCPOLEN_TIMESTAMP);
		else
			p = put_4(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, TCPOLEN_TIMESTAMP);
		p = put_be32(p, o->tsval);
		p = put_be32(p, o->tsecr);
	} else if (o->sack_perm) {
		p = put_4(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERM, TCPOLEN_SACK_PERM);
	}
	if (o->ws)
		p = put_4(p, TCPOPT_NOP, TCPOPT_WINDOW, TCPOLEN_WINDOW, o->ws_val);
	if (o->num_sack_blocks) {
		p = put_4(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, (uint8_t)(2 + 8 * o->num_sack_blocks));
		for (unsigned int i = 0; i < o->num_sack_blocks; i++) {
			p = put_be32(p, o->sack_blocks[i][0]);
			p = put_be32(p, o->sack_blocks[i][1]);
		}
	}
	if (o->fastopen_cookie) { /* fastopen: Linux's layout, NOP-padded when len % 4 == 2 */
		const struct tcp_fastopen_cookie *foc = o->fastopen_cookie;
		int len = foc->len + (foc->exp ? TCPOLEN_EXP_FASTOPEN_BASE : TCPOLEN_FASTOPEN_BASE);
		uint8_t *q = p;

		if (foc->exp) {
			q = put_4(q, TCPOPT_EXP, (uint8_t)len, TCPOPT_FASTOPEN_MAGIC >> 8, TCPOPT_FASTOPEN_MAGIC & 0xff);
		} else {
			*q++ = TCPOPT_FASTOPEN;
			*q++ = (uint8_t)len;
		}
		memcpy(q, foc->val, (size_t)foc->len);
		if ((len & 3) == 2) {
			q[foc->len] = TCPOPT_NOP;
			q[foc->len + 1] = TCPOPT_NOP;
		}
		p += ((len + 3) >> 2) * 4;
	}
	return (int)(p - start);
}

/* ------------------------------------------------------------ windows */

int tcp_full_space(uint32_t rcvbuf)
{
	/* 64-bit so a large SO_RCVBUF cannot overflow before the shift. */
	return (int)(((int64_t)rcvbuf * TCP_DEFAULT_SCALING_RATIO) >> TCP_RMEM_TO_WIN_SCALE);
}

uint64_t tcp_space_from_win(uint64_t win)
{
	return (win << TCP_RMEM_TO_WIN_SCALE) / TCP_DEFAULT_SCALING_RATIO;
}

static int ilog2_u32(uint32_t v)
{
	return 31 - __builtin_clz(v | 1);
}

/* The shift that lets the largest buffer this socket could ever grow to
 * (tcp_rmem[2], rmem_max, or what it has now) fit in 16 bits, capped by the
 * clamp and RFC 7323's 14. */
static uint8_t tcp_initial_wscale(const struct stack *st, uint32_t space, uint32_t clamp)
{
	int shift;

	space = max_t(uint32_t, space, (uint32_t)st->sysctl.tcp_rmem_max);
	space = max_t(uint32_t, space, (uint32_t)st->sysctl.rmem_max);
	space = min_t(uint32_t, space, clamp);
	shift = ilog2_u32(space) - 15;
	if (shift < 0)
		shift = 0;
	return (uint8_t)(shift > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : shift);
}

void tcp_select_initial_window(const struct stack *st, int space_in, uint32_t mss, uint32_t *rcv_wnd,
			       uint32_t *window_clamp, bool wscale_ok, uint8_t *rcv_wscale, uint32_t init_rcv_wnd)
{
	uint32_t space = space_in < 0 ? 0 : (uint32_t)space_in;
	uint32_t clamp = *window_clamp;

	/* No clamp: the largest window scaling can express. */
	if (clamp == 0)
		clamp = 65535U << TCP_MAX_WSCALE;
	space = min_t(uint32_t, clamp, space);

	/* Offer whole segments so the sender is not left with a runt. */
	if (space > mss)
		space = (space / mss) * mss;

	/* Some old stacks read the window as signed; the admin may ask us to
	 * stay below 32 KiB for them. */
	if (st->sysctl.tcp_workaround_signed_windows)
		*rcv_wnd = min_t(uint32_t, space, MAX_TCP_WINDOW);
	else
		*rcv_wnd = space; /* no 64 KiB cap since Linux 6.10 */
	if (init_rcv_wnd)
		*rcv_wnd = min_t(uint32_t, *rcv_wnd, init_rcv_wnd * mss);

	*rcv_wscale = wscale_ok ? tcp_initial_wscale(st, space, clamp) : 0;

	/* Never promise more than the chosen scale can advertise. */
	*window_clamp = min_t(uint32_t, 65535U << *rcv_wscale, clamp);
}
