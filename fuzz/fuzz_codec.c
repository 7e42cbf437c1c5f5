/*
 * fuzz_codec: the wire codecs one at a time. The first byte picks one:
 *
 *   0  TCP options, parse -> write -> parse: what tcp_parse_options reads
 *      from arbitrary option bytes, written back by tcp_options_write, must
 *      read back the same (MSS, window scale, SACK-permitted, timestamps,
 *      Fast Open cookie), and tcp_options_write must write exactly
 *      tcp_options_size bytes. Also parsed as an established segment and
 *      with the sysctls off.
 *   1  TCP options, write -> parse: option sets built from the input (the
 *      combinations the stack sends, SACK blocks included) read back as
 *      written.
 *   2  synack_format_frame on arbitrary bytes and buffer sizes: never past
 *      len or cap, always a string of the length it returns, and a smaller
 *      buffer gets a prefix of the larger one's line.
 *   3  The Internet checksum: csum_partial at every alignment against a
 *      byte-wise reference, and split sums agree with whole ones.
 *   4  Headers through the receive path of a stack with a listener: the
 *      input after a fixed Ethernet header as ARP, as IPv4 (checksum and
 *      length fixed up or not), or as ICMP, UDP or TCP after a fixed IPv4
 *      header (transport checksum fixed up or not).
 *   5  synack_parse_cidr on a string.
 *   6  Sysctls by text (synack_sysctl_set_str/get_str), above all the Fast
 *      Open key's "xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx[,backup]": what is
 *      accepted reads back as text that is accepted again and reads back
 *      the same, and get_str never writes past its buffer.
 *   7  The TAP's virtio-net header (link/vnet.c): a header and a frame as
 *      the kernel would hand them up, checked with and without software
 *      checksums (only 0, -EBADMSG or -EMSGSIZE; what is taken holds
 *      together); then the frame and the segments that would follow it
 *      through the TSO merger, whose super-frame must have a whole IP
 *      length and a valid IP checksum.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/stack.h"
#include "link/vnet.h"
#include "net/checksum.h"
#include "tcp/tcp.h"
#include "world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz_codec: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                           \
			fprintf(stderr, "\n");                                  \
			abort();                                                \
		}                                                               \
	} while (0)

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/*
 * The stack whose sysctls the option parser reads and mode 6 sets. The
 * option code reads only the three sysctls each of its inputs sets first,
 * and mode 6 always sets before it reads, so one stack made on first use
 * serves every input without making a run depend on the inputs before it.
 * (A stack costs ~0.5 ms under ASan: its hash tables are one large
 * allocation, mapped and faulted in anew each time.)
 */
static struct stack *options_stack(void)
{
	static struct stack *st;
	struct synack_stack_config cfg = { 0 };
	struct synack_clock *clk;

	if (st)
		return st;
	clk = synack_clock_new_virtual(W_T0);
	cfg.clock = clk;
	cfg.seeded = true;
	cfg.seed = 1;
	if (!clk || synack_stack_new(&cfg, &st) != 0)
		abort();
	return st;
}

/* ---------------------------------------------------------- options */

/* The options a parse found, as the stack would send them back. */
/* What was parsed, as options to write back; the cookie (foc, len -1 for
 * none) is sent as parsed. */
static void rx_to_out(const struct tcp_options_received *rx, struct tcp_fastopen_cookie *foc,
		      struct tcp_out_options *o)
{
	memset(o, 0, sizeof(*o));
	o->mss = rx->mss_clamp != 0;
	o->mss_val = rx->mss_clamp;
	o->ws = rx->wscale_ok;
	o->ws_val = rx->snd_wscale;
	o->sack_perm = rx->sack_ok;
	o->ts = rx->saw_tstamp;
	o->tsval = rx->rcv_tsval;
	o->tsecr = rx->rcv_tsecr;
	if (foc->len >= 0)
		o->fastopen_cookie = foc;
}

static void same_rx(const struct tcp_options_received *a, const struct tcp_fastopen_cookie *fa,
		    const struct tcp_options_received *b, const struct tcp_fastopen_cookie *fb)
{
	CHECK(a->mss_clamp == b->mss_clamp, "mss %u vs %u", a->mss_clamp, b->mss_clamp);
	CHECK(a->wscale_ok == b->wscale_ok && (!a->wscale_ok || a->snd_wscale == b->snd_wscale), "wscale %d/%u vs %d/%u",
	      a->wscale_ok, a->snd_wscale, b->wscale_ok, b->snd_wscale);
	CHECK(a->sack_ok == b->sack_ok, "sackOK");
	CHECK(a->saw_tstamp == b->saw_tstamp, "TS seen");
	CHECK(!a->saw_tstamp || (a->rcv_tsval == b->rcv_tsval && a->rcv_tsecr == b->rcv_tsecr), "TS values");
	CHECK(fa->len == fb->len, "Fast Open cookie of %d bytes vs %d", fa->len, fb->len);
	CHECK(fa->len <= 0 || (fa->exp == fb->exp && !memcmp(fa->val, fb->val, (size_t)fa->len)), "Fast Open cookie");
	CHECK(fa->len != 0 || fa->exp == fb->exp, "Fast Open cookie request form");
}

static int write_checked(const struct tcp_out_options *o, uint8_t *buf, size_t cap)
{
	int size = tcp_options_size(o), n;

	CHECK(size >= 0 && (size_t)size <= cap - 8, "option size %d", size);
	memset(buf, 0xee, cap);
	n = tcp_options_write(buf, o);
	CHECK(n == size, "wrote %d bytes, size said %d", n, size);
	CHECK(n % 4 == 0, "unaligned options (%d bytes)", n);
	for (size_t i = (size_t)n; i < cap; i++)
		CHECK(buf[i] == 0xee, "wrote past its size at %zu", i);
	return n;
}

static void codec_options_roundtrip(const uint8_t *d, size_t n)
{
	struct stack *st = options_stack();
	struct tcp_options_received rx1, rx2, rx3;
	struct tcp_out_options o;
	struct tcp_fastopen_cookie foc, foc2;
	uint8_t cfg = n ? d[0] : 0, *opt, buf[80];
	size_t len;
	int w;

	if (n)
		d++, n--;
	/* An exact-size copy: reading one byte past the options is caught. */
	len = n > 60 ? 60 : n;
	opt = malloc(len ? len : 1);
	if (!opt)
		abort();
	memcpy(opt, d, len);
	st->sysctl.tcp_timestamps = !(cfg & 1);
	st->sysctl.tcp_sack = !(cfg & 2);
	st->sysctl.tcp_window_scaling = !(cfg & 4);

	memset(&rx1, 0, sizeof(rx1));
	if (cfg & 8)
		rx1.user_mss = 536;
	tcp_parse_options(st, opt, (int)len, true, false, &rx1, &foc);
	rx_to_out(&rx1, &foc, &o);
	if (o.fastopen_cookie && tcp_options_size(&o) > MAX_TCP_OPTION_SPACE)
		o.fastopen_cookie = NULL, foc.len = -1; /* too big to send back: the stack drops it too */
	w = write_checked(&o, buf, sizeof(buf));
	memset(&rx2, 0, sizeof(rx2));
	rx2.user_mss = rx1.user_mss;
	tcp_parse_options(st, buf, w, true, false, &rx2, &foc2);
	same_rx(&rx1, &foc, &rx2, &foc2);

	/* Established: only TS counts, and only once negotiated. */
	memset(&rx3, 0, sizeof(rx3));
	rx3.tstamp_ok = cfg & 16;
	tcp_parse_options(st, opt, (int)len, (cfg & 32) != 0, true, &rx3, NULL);
	CHECK(rx3.mss_clamp == 0 && !rx3.wscale_ok && !rx3.sack_ok, "negotiation outside the handshake");
	CHECK(!rx3.saw_tstamp || rx3.tstamp_ok, "TS accepted without tstamp_ok");
	free(opt);
}

static void codec_options_write(const uint8_t *d, size_t n)
{
	struct stack *st = options_stack();
	struct tcp_options_received rx;
	struct tcp_out_options o;
	struct tcp_fastopen_cookie foc, rfoc;
	uint8_t in[64], buf[80];
	int w;

	st->sysctl.tcp_timestamps = st->sysctl.tcp_sack = st->sysctl.tcp_window_scaling = 1;
	memset(in, 0, sizeof(in));
	memcpy(in, d, n > sizeof(in) ? sizeof(in) : n);
	memset(&o, 0, sizeof(o));
	o.ts = in[0] & 1;
	o.tsval = rd32(in + 4);
	o.tsecr = rd32(in + 8);
	if (in[0] & 0x80) {
		/* An established segment: TS and SACK blocks. */
		o.num_sack_blocks = (uint8_t)(in[1] % (o.ts ? 4 : 5));
		for (int i = 0; i < o.num_sack_blocks; i++) {
			o.sack_blocks[i][0] = rd32(in + 12 + 8 * i);
			o.sack_blocks[i][1] = rd32(in + 16 + 8 * i);
		}
	} else {
		/* A SYN or SYN-ACK. */
		o.mss = in[0] & 2;
		o.mss_val = (uint16_t)(in[2] << 8 | in[3]);
		o.sack_perm = in[0] & 4;
		o.ws = in[0] & 8;
		o.ws_val = in[1];
		if (in[0] & 0x10) {
			memset(&foc, 0, sizeof(foc));
			foc.len = (int8_t)(in[12] % 17);
			foc.exp = in[0] & 0x20;
			memcpy(foc.val, in + 13, 16);
			o.fastopen_cookie = &foc;
			if (tcp_options_size(&o) > MAX_TCP_OPTION_SPACE)
				o.fastopen_cookie = NULL;
		}
	}
	w = write_checked(&o, buf, sizeof(buf));
	CHECK(w <= MAX_TCP_OPTION_SPACE, "%d option bytes", w);
	memset(&rx, 0, sizeof(rx));
	tcp_parse_options(st, buf, w, !(in[0] & 0x80), false, &rx, &rfoc);
	CHECK(rx.mss_clamp == (o.mss ? o.mss_val : 0), "mss %u, wrote %u", rx.mss_clamp, o.mss_val);
	CHECK(rx.wscale_ok == o.ws, "wscale_ok");
	CHECK(!o.ws || rx.snd_wscale == (o.ws_val > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o.ws_val), "wscale %u for %u",
	      rx.snd_wscale, o.ws_val);
	CHECK(rx.sack_ok == o.sack_perm, "sackOK");
	CHECK(rx.saw_tstamp == o.ts && (!o.ts || (rx.rcv_tsval == o.tsval && rx.rcv_tsecr == o.tsecr)), "TS");
	if (o.fastopen_cookie) {
		int l = o.fastopen_cookie->len;
		bool usable = l == 0 || (l >= 4 && l <= 16 && !(l & 1));
		bool syn = !(in[0] & 0x80);

		CHECK((rfoc.len >= 0) == (usable && syn), "Fast Open cookie of %d bytes seen as %d", l, rfoc.len);
		CHECK(rfoc.len < 0 || (rfoc.len == l && !memcmp(rfoc.val, o.fastopen_cookie->val, (size_t)l) &&
				       rfoc.exp == o.fastopen_cookie->exp),
		      "Fast Open cookie bytes");
	} else {
		CHECK(rfoc.len < 0, "a Fast Open cookie from nowhere");
	}
}

/* ----------------------------------------------------------- format */

static void codec_format(const uint8_t *d, size_t n)
{
	size_t cap = n >= 2 ? (size_t)(d[0] << 8 | d[1]) % 700 : 0, len, rl, sl;
	uint8_t *frame;
	char *big, *small;

	if (n >= 2)
		d += 2, n -= 2;
	frame = malloc(n ? n : 1);
	big = malloc(4096);
	small = malloc(cap ? cap : 1);
	if (!frame || !big || !small)
		abort();
	memcpy(frame, d, n);
	len = synack_format_frame(big, 4096, frame, n);
	CHECK(len < 4096 && strlen(big) == len, "returned %zu for a %zu-byte line", len, strlen(big));
	rl = synack_format_frame(cap ? small : NULL, cap, frame, n);
	if (cap) {
		sl = strlen(small);
		CHECK(sl == rl && sl < cap, "cap %zu: returned %zu, line %zu", cap, rl, sl);
		CHECK(sl == (len < cap - 1 ? len : cap - 1) && !memcmp(small, big, sl), "cap %zu: not a prefix", cap);
	} else {
		CHECK(rl == 0, "cap 0 returned %zu", rl);
	}
	free(frame);
	free(big);
	free(small);
}

/* --------------------------------------------------------- checksum */

static uint64_t ref_sum(const uint8_t *p, size_t len, uint64_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void codec_checksum(const uint8_t *d, size_t n)
{
	uint8_t *buf = malloc(n + 8);
	uint32_t init = n >= 4 ? rd32(d) : 0;
	size_t split;

	if (!buf)
		abort();
	for (size_t off = 0; off < 8; off++) {
		memcpy(buf + off, d, n);
		CHECK(csum_fold(csum_partial(buf + off, n, init)) == ref_fold(ref_sum(d, n, init)),
		      "csum_partial at offset %zu, %zu bytes", off, n);
	}
	/* Summing in two even-length pieces is summing the whole. */
	split = n ? (d[0] % (n + 1)) & ~(size_t)1 : 0;
	CHECK(csum_fold(csum_partial(d + split, n - split, csum_partial(d, split, 0))) ==
		      csum_fold(csum_partial(d, n, 0)),
	      "split at %zu of %zu", split, n);
	if (n >= 8) {
		uint32_t s = rd32(d), da = rd32(d + 4);
		uint64_t ph = csum_tcpudp_nofold(htonl(s), htonl(da), (uint32_t)n, 6, 0);
		uint8_t p[12] = { d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], 0, 6, (uint8_t)(n >> 8), (uint8_t)n };
		CHECK(csum_fold(ph) == ref_fold(ref_sum(p, 12, 0)) || n > 0xffff, "pseudo header");
	}
	free(buf);
}

/* ------------------------------------------------------- the stack */

static void fix_ip(uint8_t *ip, size_t ihl)
{
	uint64_t s;

	ip[10] = ip[11] = 0;
	s = ref_sum(ip, ihl, 0);
	ip[10] = (uint8_t)(ref_fold(s) >> 8);
	ip[11] = (uint8_t)ref_fold(s);
}

static void codec_stack(const uint8_t *d, size_t n)
{
	struct world_opts wo = { .seed = 1 };
	struct world *w;
	uint8_t f[W_MAXFRAME], mode = n ? d[0] : 0, fix;
	struct sockaddr_in a;
	size_t len;
	int fd;

	if (n)
		d++, n--;
	fix = n ? d[0] : 0;
	if (n)
		d++, n--;
	if (n > W_MAXFRAME - 14 - 20)
		n = W_MAXFRAME - 14 - 20;
	wo.trace = mode & 0x80;
	w = world_new(&wo);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(W_LISTEN_PORT);
	fd = synack_socket(w->st);
	synack_bind(w->st, fd, &a);
	synack_listen(w->st, fd, 4);
	memset(f, 0, sizeof(f));
	w_build_eth(w, f, fix & 0x80, 0);
	switch (mode % 5) {
	case 0: /* ARP */
		f[12] = 0x08, f[13] = 0x06;
		memcpy(f + 14, d, n);
		len = 14 + n;
		break;
	case 1: { /* IPv4 header from the input */
		uint8_t *ip = f + 14;
		size_t ihl;
		f[12] = 0x08, f[13] = 0x00;
		memcpy(ip, d, n);
		len = 14 + n;
		ihl = (size_t)(ip[0] & 15) * 4;
		if ((fix & 1) && n >= 20) {
			ip[0] = (uint8_t)(0x40 | (ip[0] & 15));
			if (ihl < 20 || ihl > n)
				ihl = 20, ip[0] = 0x45;
			ip[2] = (uint8_t)(n >> 8);
			ip[3] = (uint8_t)n;
			if (fix & 2)
				memcpy(ip + 16, (uint8_t[]){ 192, 0, 2, 1 }, 4);
			fix_ip(ip, ihl);
		}
		break;
	}
	default: { /* ICMP, UDP, TCP after a good IPv4 header */
		static const uint8_t protos[3] = { 1, 17, 6 };
		uint8_t proto = protos[mode % 5 - 2];
		size_t hl = 0;
		len = w_build_ip(w, f, sizeof(f), 0, 0, proto, d, n, NULL);
		if (!len)
			break;
		if (!(fix & 1)) {
			uint8_t *ip = f + 14, *l4 = ip + 20;
			size_t at = proto == 1 ? 2 : proto == 17 ? 6 : 16;
			uint64_t s = 0;
			hl = at + 2;
			if (n >= hl) {
				l4[at] = l4[at + 1] = 0;
				if (proto != 1) {
					s = ref_sum(ip + 12, 8, 0) + proto + n;
				}
				s = ref_sum(l4, n, s);
				l4[at] = (uint8_t)(ref_fold(s) >> 8);
				l4[at + 1] = (uint8_t)ref_fold(s);
			}
		}
		break;
	}
	}
	if (len)
		w_inject(w, f, len);
	w_advance(w, (fix & 4) ? 31 * W_SEC : 0); /* reassembly and request timers */
	world_free(w);
}

/* ------------------------------------------------------------ cidr */

static void codec_cidr(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);
	struct in_addr a;
	uint8_t plen = 0xff;

	if (!s)
		abort();
	memcpy(s, d, n);
	s[n] = 0;
	if (synack_parse_cidr(s, &a, &plen) == 0)
		CHECK(plen <= 32, "prefix %u", plen);
	free(s);
}

/* ----------------------------------------------------------- sysctls */

static void codec_sysctl_text(const uint8_t *d, size_t n)
{
	static const char *const names[] = { "net.ipv4.tcp_fastopen_key", "net.ipv4.tcp_fin_timeout",
					     "net.ipv4.icmp_ratemask", "net.core.somaxconn", "net.ipv4.no_such_thing" };
	struct stack *st = options_stack();
	const char *name = names[n ? d[0] % 5 : 0];
	size_t cap = n >= 2 ? d[1] % 160 : 0;
	char *text, first[256], again[256], *small;
	int err, l1, l2;

	if (n >= 2)
		d += 2, n -= 2;
	text = malloc(n + 1);
	small = malloc(cap ? cap : 1);
	if (!text || !small)
		abort();
	memcpy(text, d, n);
	text[n] = 0;
	err = synack_sysctl_set_str(st, name, text);
	if (err == 0) {
		l1 = synack_sysctl_get_str(st, name, first, sizeof(first));
		CHECK(l1 >= 0 && (size_t)l1 == strlen(first), "%s: get_str %d", name, l1);
		CHECK(synack_sysctl_set_str(st, name, first) == 0, "%s: its own text \"%s\" is refused", name, first);
		l2 = synack_sysctl_get_str(st, name, again, sizeof(again));
		CHECK(l2 == l1 && !strcmp(first, again), "%s: \"%s\" reads back as \"%s\"", name, first, again);
		if (cap) {
			int l3 = synack_sysctl_get_str(st, name, small, cap);
			CHECK(l3 < 0 || ((size_t)l3 < cap && !strcmp(small, first)), "%s: cap %zu gave %d", name, cap, l3);
		}
	}
	free(text);
	free(small);
}

/* ------------------------------------------------------ virtio-net */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void codec_vnet_rx(const struct virtio_net_hdr *h, const uint8_t *d, size_t n, bool sw)
{
	uint8_t *f = malloc(n ? n : 1);  /* exact size: a read past the frame is caught */
	struct synack_rx_meta m;
	bool done;
	int err;

	if (!f)
		abort();
	memcpy(f, d, n);
	memset(&m, 0, sizeof(m));
	err = vnet_rx_check(h, f, n, 1500, sw, &m, &done);
	CHECK(err == 0 || err == -EBADMSG || err == -EMSGSIZE, "vnet_rx_check %d", err);
	if (err == 0 && m.gso_size)
		CHECK(n >= 14 + 40 && be16(f + 16) == n - 14 && f[23] == 6, "a GSO frame that does not hold together");
	if (err == 0 && !m.gso_size)
		CHECK(n <= 1514, "%zu bytes without GSO", n);
	/* Without meta a partial sum must have been completed, not vouched for. */
	CHECK(!(sw && (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && (m.flags & SYNACK_RX_CSUM_OK)), "CSUM_OK without meta");
	free(f);
}

static void codec_vnet_tso(uint8_t flags, const uint8_t *d, size_t n)
{
	static uint8_t tso_buf[VNET_HDR_LEN + VNET_MAX_FRAME], seg[VNET_MAX_FRAME];
	struct vnet_tso t = { .buf = tso_buf, .csum_partial = flags & 2 };
	struct virtio_net_hdr h;
	uint32_t segs = 0;
	size_t out;

	memcpy(seg, d, n);
	if (vnet_tso_add(&t, seg, n)) {
		/* The segments that follow on: the same headers, the sequence
		 * moved on by the payload, some of them shorter. */
		uint32_t ihl = (seg[14] & 15) * 4u, hlen = 14 + ihl + (seg[14 + ihl + 12] >> 4) * 4u;
		uint32_t pay = (uint32_t)n - hlen, seq = rd32(seg + 14 + ihl + 4);

		for (unsigned i = 0; i < (flags >> 4); i++) {
			uint32_t len = i == 3 ? pay / 2 : pay, next = seq + pay * (i + 1);

			seg[14 + ihl + 4] = (uint8_t)(next >> 24);
			seg[14 + ihl + 5] = (uint8_t)(next >> 16);
			seg[14 + ihl + 6] = (uint8_t)(next >> 8);
			seg[14 + ihl + 7] = (uint8_t)next;
			seg[16] = (uint8_t)((hlen - 14 + len) >> 8);
			seg[17] = (uint8_t)(hlen - 14 + len);
			if (!vnet_tso_add(&t, seg, hlen + len))
				break;
		}
	}
	out = vnet_tso_finish(&t, &segs);
	CHECK(out <= sizeof(tso_buf), "%zu bytes", out);
	if (out && segs > 1) {
		const uint8_t *f = tso_buf + VNET_HDR_LEN;

		memcpy(&h, tso_buf, sizeof(h));
		CHECK(be16(f + 16) == out - VNET_HDR_LEN - 14, "IP length %u of %zu", be16(f + 16), out);
		CHECK(ip_compute_csum(f + 14, (f[14] & 15) * 4u) == 0, "IP checksum");
		CHECK(h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && h.gso_size && h.hdr_len < out - VNET_HDR_LEN, "header");
	}
}

static void codec_vnet(const uint8_t *d, size_t n)
{
	struct virtio_net_hdr h;
	uint8_t flags;

	if (n < 1 + sizeof(h))
		return;
	flags = d[0];
	memcpy(&h, d + 1, sizeof(h));
	d += 1 + sizeof(h);
	n -= 1 + sizeof(h);
	if (n > VNET_MAX_FRAME)
		n = VNET_MAX_FRAME;
	codec_vnet_rx(&h, d, n, flags & 1);
	codec_vnet_tso(flags, d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0] % 8) {
	case 0:
		codec_options_roundtrip(data + 1, size - 1);
		break;
	case 1:
		codec_options_write(data + 1, size - 1);
		break;
	case 2:
		codec_format(data + 1, size - 1);
		break;
	case 3:
		codec_checksum(data + 1, size - 1);
		break;
	case 4:
		codec_stack(data + 1, size - 1);
		break;
	case 5:
		codec_cidr(data + 1, size - 1);
		break;
	case 7:
		codec_vnet(data + 1, size - 1);
		break;
	default:
		codec_sysctl_text(data + 1, size - 1);
		break;
	}
	return 0;
}
