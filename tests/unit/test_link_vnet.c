/*
 * The TAP's virtio-net header code (src/link/vnet.c): which headers the
 * kernel may hand up are taken and which dropped, and the TSO merger's
 * super-frames - checked by cutting them up again as the kernel does and
 * comparing with the segments that went in. Then the stack's side of
 * send_more/flush: over a link that holds every frame until flush, a
 * transfer still completes, and nothing is held when a call returns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "../test.h"
#include "link/link.h"
#include "link/vnet.h"
#include "net/checksum.h"

#define MSS 1448u
#define HLEN (14u + 20u + 32u)  /* Ethernet, IPv4, TCP with timestamps */
#define SEQ0 1000000u

static uint8_t tso_buf[VNET_HDR_LEN + VNET_MAX_FRAME];

static void put16(uint8_t *p, uint16_t v) { v = htons(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htonl(v); memcpy(p, &v, 4); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return ntohs(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return ntohl(v); }

static uint16_t tcp_csum(const uint8_t *f, size_t len)
{
	uint32_t s, d;

	memcpy(&s, f + 26, 4);
	memcpy(&d, f + 30, 4);
	return csum_fold(csum_partial(f + 34, len - 34, csum_tcpudp_nofold(s, d, (uint32_t)len - 34, 6, 0)));
}

/* A TCP/IPv4 segment as synack sends one: DF, ID 0, timestamps, whole
 * checksums. Payload byte i is (seq + i) & 0xff, so merged data can be
 * told apart. Returns the frame length. */
static size_t make_seg(uint8_t *f, uint32_t seq, uint32_t payload, uint8_t flags)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	size_t len = HLEN + payload;

	memset(f, 0, HLEN);
	memcpy(f, eth, 14);
	f[14] = 0x45;
	put16(f + 16, (uint16_t)(len - 14));
	put16(f + 20, 0x4000);
	f[22] = 64;
	f[23] = 6;
	put32(f + 26, 0x0a000001);
	put32(f + 30, 0x0a000002);
	put16(f + 24, ip_compute_csum(f + 14, 20));
	put16(f + 34, 40000);
	put16(f + 36, 5201);
	put32(f + 38, seq);
	put32(f + 42, 777);
	f[46] = 8 << 4;
	f[47] = flags;
	put16(f + 48, 512);
	f[54] = 1; f[55] = 1; f[56] = 8; f[57] = 10;   /* NOP NOP TS */
	put32(f + 58, 12345);
	put32(f + 62, 678);
	for (uint32_t i = 0; i < payload; i++)
		f[HLEN + i] = (uint8_t)(seq + i);
	put16(f + 50, tcp_csum(f, len));
	return len;
}

/* What the kernel does with a super-frame (tcp_gso_segment): segment i
 * gets the headers with seq + i * gso_size, its own length, PSH and FIN
 * only on the last, and its checksums computed whole. IP IDs are left as
 * they are (DF: the kernel's increments mean nothing). */
static size_t reseg(const uint8_t *super, size_t len, const struct virtio_net_hdr *h, uint32_t i, uint8_t *out)
{
	uint32_t hl = h->hdr_len, data = (uint32_t)len - hl, off = i * h->gso_size;
	uint32_t n = data - off < h->gso_size ? data - off : h->gso_size;
	bool last = off + n == data;

	memcpy(out, super, hl);
	memcpy(out + hl, super + hl + off, n);
	put16(out + 16, (uint16_t)(hl + n - 14));
	put16(out + 24, 0);
	put16(out + 24, ip_compute_csum(out + 14, 20));
	put32(out + 38, get32(super + 38) + off);
	if (!last)
		out[47] &= (uint8_t)~(0x08 | 0x01);
	put16(out + 50, 0);
	put16(out + 50, tcp_csum(out, hl + n));
	return hl + n;
}

static struct vnet_tso new_tso(void)
{
	return (struct vnet_tso){ .buf = tso_buf };
}

TEST(tso_merges_segments_the_kernel_cuts_back_into_the_same)
{
	static uint8_t seg[4][2048], out[2048];
	size_t len[4], n;
	struct vnet_tso t = new_tso();
	struct virtio_net_hdr h;
	uint32_t segs = 0, psum, s, d;
	const uint8_t *f = tso_buf + VNET_HDR_LEN;

	for (uint32_t i = 0; i < 4; i++) {
		len[i] = make_seg(seg[i], SEQ0 + i * MSS, i < 3 ? MSS : 100, i < 3 ? 0x10 : 0x18);
		CHECK(vnet_tso_add(&t, seg[i], len[i]));
	}
	n = vnet_tso_finish(&t, &segs);
	CHECK_EQ(segs, 4);
	REQUIRE(n == VNET_HDR_LEN + HLEN + 3 * MSS + 100);
	memcpy(&h, tso_buf, sizeof(h));
	CHECK_EQ(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	CHECK_EQ(h.gso_size, MSS);
	CHECK_EQ(h.hdr_len, HLEN);
	CHECK_EQ(h.csum_start, 34);
	CHECK_EQ(h.csum_offset, 16);
	/* The merged headers: the whole length, a valid IP checksum, the last
	 * segment's PSH, and the pseudo-header sum where the TCP checksum goes. */
	CHECK_EQ(get16(f + 16), n - VNET_HDR_LEN - 14);
	CHECK_EQ(ip_compute_csum(f + 14, 20), 0);
	CHECK_EQ(f[47], 0x18);
	CHECK_EQ(get32(f + 38), SEQ0);
	memcpy(&s, f + 26, 4);
	memcpy(&d, f + 30, 4);
	psum = (uint16_t)~csum_fold(csum_tcpudp_nofold(s, d, (uint32_t)(n - VNET_HDR_LEN - 34), 6, 0));
	CHECK_EQ(get16(f + 50), psum);
	/* Cut up again, it is the four segments, byte for byte. */
	for (uint32_t i = 0; i < 4; i++) {
		size_t m = reseg(f, n - VNET_HDR_LEN, &h, i, out);

		CHECK_EQ(m, len[i]);
		CHECK_MEM(out, seg[i], len[i]);
	}
	CHECK_EQ(vnet_tso_finish(&t, NULL), 0);   /* emptied */
}

TEST(tso_sends_a_lone_segment_as_it_is)
{
	static uint8_t seg[2048];
	struct vnet_tso t = new_tso();
	struct virtio_net_hdr h, zero;
	size_t len = make_seg(seg, SEQ0, MSS, 0x18), n;

	CHECK(vnet_tso_add(&t, seg, len));
	n = vnet_tso_finish(&t, NULL);
	CHECK_EQ(n, VNET_HDR_LEN + len);
	memcpy(&h, tso_buf, sizeof(h));
	memset(&zero, 0, sizeof(zero));
	CHECK_MEM(&h, &zero, sizeof(h));
	CHECK_MEM(tso_buf + VNET_HDR_LEN, seg, len);
}

/* With the stack leaving TCP checksums to the device, a frame that goes
 * alone is marked for the kernel to finish; anything but TCP never is. */
TEST(tx_marks_partial_tcp_checksums_only)
{
	static uint8_t seg[2048];
	struct vnet_tso t = new_tso();
	struct virtio_net_hdr h;
	size_t len = make_seg(seg, SEQ0, 100, 0x18);

	vnet_tx_hdr(seg, len, true, &h);
	CHECK_EQ(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	CHECK_EQ(h.csum_start, 34);
	CHECK_EQ(h.csum_offset, 16);
	vnet_tx_hdr(seg, len, false, &h);
	CHECK_EQ(h.flags, 0);
	seg[12] = 0x08;
	seg[13] = 0x06;                                 /* ARP */
	vnet_tx_hdr(seg, len, true, &h);
	CHECK_EQ(h.flags, 0);
	len = make_seg(seg, SEQ0, 100, 0x18);
	t.csum_partial = true;
	REQUIRE(vnet_tso_add(&t, seg, len));
	CHECK_EQ(vnet_tso_finish(&t, NULL), VNET_HDR_LEN + len);
	memcpy(&h, tso_buf, sizeof(h));
	CHECK_EQ(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(h.csum_start, 34);
	CHECK_MEM(tso_buf + VNET_HDR_LEN, seg, len);
}

TEST(tso_refuses_what_segmentation_cannot_rebuild)
{
	static uint8_t a[2048], b[2048];
	struct vnet_tso t = new_tso();
	size_t la = make_seg(a, SEQ0, MSS, 0x10), lb;

	/* Frames that cannot start a merge. */
	lb = make_seg(b, SEQ0, 0, 0x10);                /* a pure ACK */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0, 100, 0x12);              /* SYN */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0, 100, 0x14);              /* RST */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0, 100, 0x90);              /* CWR */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0, 100, 0x10);
	b[12] = 0x86;                                   /* not IPv4 */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0, 100, 0x10);
	CHECK(!vnet_tso_add(&t, b, lb + 4));            /* padded past tot_len */
	CHECK_EQ(vnet_tso_finish(&t, NULL), 0);

	/* Frames that cannot follow a held one. */
	REQUIRE(vnet_tso_add(&t, a, la));
	lb = make_seg(b, SEQ0 + MSS + 1, MSS, 0x10);    /* a gap */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0 + MSS, MSS + 1, 0x10);    /* longer than the first */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0 + MSS, MSS, 0x10);
	put32(b + 42, 778);                             /* another ACK number */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0 + MSS, MSS, 0x10);
	put32(b + 58, 12346);                           /* another timestamp */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0 + MSS, MSS, 0x10);
	put16(b + 48, 513);                             /* another window */
	CHECK(!vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0 + MSS, MSS, 0x10);
	b[5] = 9;                                       /* another destination MAC */
	CHECK(!vnet_tso_add(&t, b, lb));

	/* A short segment, PSH or FIN ends the merge. */
	lb = make_seg(b, SEQ0 + MSS, 10, 0x10);
	CHECK(vnet_tso_add(&t, b, lb));
	lb = make_seg(b, SEQ0 + MSS + 10, 10, 0x10);
	CHECK(!vnet_tso_add(&t, b, lb));
	vnet_tso_finish(&t, NULL);
	REQUIRE(vnet_tso_add(&t, a, make_seg(a, SEQ0, MSS, 0x11)));   /* FIN */
	lb = make_seg(b, SEQ0 + MSS, MSS, 0x10);
	CHECK(!vnet_tso_add(&t, b, lb));
	vnet_tso_finish(&t, NULL);
}

TEST(tso_stops_at_a_whole_ip_datagram)
{
	static uint8_t seg[2048];
	struct vnet_tso t = new_tso();
	uint32_t i = 0, segs = 0;

	while (vnet_tso_add(&t, seg, make_seg(seg, SEQ0 + i * MSS, MSS, 0x10)))
		i++;
	CHECK_EQ(i, (65535u - 20 - 32) / MSS);
	CHECK_EQ(vnet_tso_finish(&t, &segs), VNET_HDR_LEN + HLEN + i * MSS);
	CHECK_EQ(segs, i);
	CHECK(VNET_HDR_LEN + HLEN + i * MSS - VNET_HDR_LEN - 14 <= 65535);
}

/* ------------------------------------------------------------ receive */

static struct virtio_net_hdr gso_hdr(void)
{
	return (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
					 .hdr_len = HLEN, .gso_size = MSS, .csum_start = 34, .csum_offset = 16 };
}

/* A frame as the kernel hands a GSO one up: IP length over it all, the
 * TCP checksum field holding the pseudo-header sum. */
static size_t make_gso(uint8_t *f, uint32_t payload)
{
	size_t len = make_seg(f, SEQ0, payload, 0x18);
	uint32_t s, d;

	memcpy(&s, f + 26, 4);
	memcpy(&d, f + 30, 4);
	put16(f + 50, (uint16_t)~csum_fold(csum_tcpudp_nofold(s, d, (uint32_t)len - 34, 6, 0)));
	return len;
}

static int check(struct virtio_net_hdr h, uint8_t *f, size_t len, bool sw, struct synack_rx_meta *m, bool *done)
{
	memset(m, 0, sizeof(*m));
	return vnet_rx_check(&h, f, len, 1500, sw, m, done);
}

TEST(rx_takes_gso_frames_with_the_checksum_vouched_for)
{
	static uint8_t f[VNET_MAX_FRAME];
	size_t len = make_gso(f, 20 * MSS);
	struct synack_rx_meta m;
	bool done;

	CHECK_EQ(check(gso_hdr(), f, len, false, &m, &done), 0);
	CHECK_EQ(m.flags, SYNACK_RX_CSUM_OK);
	CHECK_EQ(m.gso_size, MSS);
	CHECK(!done);
	/* Without meta to carry it, the sum is completed: then it checks. */
	CHECK_EQ(check(gso_hdr(), f, len, true, &m, &done), 0);
	CHECK(done);
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(tcp_csum(f, len), 0);
}

TEST(rx_drops_malformed_or_unasked_for_headers)
{
	static uint8_t f[VNET_MAX_FRAME];
	size_t len = make_gso(f, 20 * MSS);
	struct synack_rx_meta m;
	struct virtio_net_hdr h;
	bool done;

	h = gso_hdr(); h.csum_start = 30;                       /* not at TCP */
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	h = gso_hdr(); h.csum_offset = 6;
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	h = gso_hdr(); h.flags = 0;                             /* GSO without a partial sum */
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	h = gso_hdr(); h.gso_size = 0;
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	h = gso_hdr(); h.gso_type = VIRTIO_NET_HDR_GSO_UDP;     /* never offered */
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	h = gso_hdr(); h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	h = gso_hdr(); h.flags |= 0x80;                         /* an unknown flag */
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	CHECK_EQ(check(gso_hdr(), f, len - 1, false, &m, &done), -EBADMSG);  /* IP length past the frame */
	CHECK_EQ(check(gso_hdr(), f, 40, false, &m, &done), -EBADMSG);       /* cut short */
	f[12] = 0x86;                                           /* not IPv4 */
	CHECK_EQ(check(gso_hdr(), f, len, false, &m, &done), -EBADMSG);
	f[12] = 0x08;
	put16(f + 20, 0x2000);                                  /* a fragment */
	CHECK_EQ(check(gso_hdr(), f, len, false, &m, &done), -EBADMSG);
	put16(f + 20, 0x4000);
	CHECK_EQ(check(gso_hdr(), f, len, false, &m, &done), 0);
	len = make_gso(f, 10);
	f[46] = 15 << 4;                                        /* TCP header past the datagram */
	CHECK_EQ(check(gso_hdr(), f, len, false, &m, &done), -EBADMSG);
}

TEST(rx_plain_frames_and_partial_checksums)
{
	static uint8_t f[4096];
	struct virtio_net_hdr h = { 0 };
	struct synack_rx_meta m;
	size_t len = make_seg(f, SEQ0, 1000, 0x18);
	bool done;

	CHECK_EQ(check(h, f, len, false, &m, &done), 0);
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(m.gso_size, 0);
	/* Without GSO, nothing longer than the MTU. */
	len = make_seg(f, SEQ0, 1500, 0x18);
	CHECK_EQ(check(h, f, len, false, &m, &done), -EMSGSIZE);
	h.gso_type = VIRTIO_NET_HDR_GSO_ECN;                    /* ECN without GSO */
	len = make_seg(f, SEQ0, 1000, 0x18);
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	/* The kernel checked it. */
	h = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	CHECK_EQ(check(h, f, len, false, &m, &done), 0);
	CHECK_EQ(m.flags, SYNACK_RX_CSUM_OK);
	/* A partial TCP sum: vouched for, or completed on request. */
	len = make_gso(f, 1000);
	h = gso_hdr();
	h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	h.gso_size = 0;
	CHECK_EQ(check(h, f, len, false, &m, &done), 0);
	CHECK_EQ(m.flags, SYNACK_RX_CSUM_OK);
	CHECK(!done);
	CHECK_EQ(check(h, f, len, true, &m, &done), 0);
	CHECK(done);
	CHECK_EQ(tcp_csum(f, len), 0);
	/* A partial sum elsewhere (not TCP's place) is completed in software. */
	len = make_gso(f, 1000);
	h.csum_start = 34 + 32;
	h.csum_offset = 0;
	CHECK_EQ(check(h, f, len, false, &m, &done), 0);
	CHECK(done);
	CHECK_EQ(m.flags, 0);
	/* Offsets past the frame. */
	h.csum_start = (uint16_t)len;
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	h.csum_start = 34;
	h.csum_offset = (uint16_t)(len - 35);
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
	h.csum_start = 4;
	h.csum_offset = 0;
	CHECK_EQ(check(h, f, len, false, &m, &done), -EBADMSG);
}

/* ------------------------------------------- the stack's send_more/flush */

/* A link over one end of the sim wire that holds every frame given to
 * send_more until flush, and records whether any was still held whenever
 * the test looks (after each public call returns). */
struct holding {
	struct synack_link link;
	struct synack_link *inner;
	uint8_t frames[512][1600];
	size_t len[512], n;
	uint64_t held_total, flushes, plain;
};

static struct holding *to_holding(struct synack_link *l) { return (struct holding *)l; }

static int h_send(struct synack_link *l, const void *f, size_t len)
{
	to_holding(l)->plain++;
	return to_holding(l)->inner->ops->send(to_holding(l)->inner, f, len);
}

static int h_flush(struct synack_link *l)
{
	struct holding *h = to_holding(l);

	for (size_t i = 0; i < h->n; i++)
		h->inner->ops->send(h->inner, h->frames[i], h->len[i]);
	if (h->n)
		h->flushes++;
	h->n = 0;
	return 0;
}

static int h_send_more(struct synack_link *l, const void *f, size_t len)
{
	struct holding *h = to_holding(l);

	if (h->n == 512)
		h_flush(l);
	memcpy(h->frames[h->n], f, len);
	h->len[h->n++] = len;
	h->held_total++;
	return 0;
}

static int h_recv(struct synack_link *l, void *buf, size_t cap)
{
	return to_holding(l)->inner->ops->recv(to_holding(l)->inner, buf, cap);
}

static uint64_t h_next(struct synack_link *l) { return link_next_deadline(to_holding(l)->inner); }
static int h_wait_fd(struct synack_link *l) { (void)l; return -1; }
static void h_destroy(struct synack_link *l) { (void)l; }

static const struct synack_link_ops holding_ops = {
	.kind = "holding", .send = h_send, .recv = h_recv, .wait_fd = h_wait_fd, .next_deadline = h_next,
	.destroy = h_destroy, .send_more = h_send_more, .flush = h_flush,
};

static struct holding hold;

TEST(stack_flushes_held_frames_before_every_return)
{
	struct synack_sim_config wc = { .delay_ns = 100000, .seed = 3 };
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct synack_sim_wire *w;
	struct stack *st[2];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	static uint8_t src[300000], dst[300000];
	size_t sent = 0, got = 0;
	int lfd, cfd, afd = -1;

	REQUIRE(clk && synack_sim_wire_new(clk, &wc, &w) == 0);
	hold.inner = synack_sim_wire_end(w, 0);
	hold.link.ops = &holding_ops;
	hold.link.mtu = hold.inner->mtu;
	memcpy(hold.link.mac, hold.inner->mac, 6);
	for (int i = 0; i < 2; i++) {
		struct synack_stack_config sc = { .clock = clk, .seeded = true, .seed = 5u + (unsigned)i };
		struct synack_if_config ic = { .prefix_len = 24 };

		inet_pton(AF_INET, i ? "10.0.0.2" : "10.0.0.1", &ic.addr);
		REQUIRE(synack_stack_new(&sc, &st[i]) == 0);
		REQUIRE(synack_if_up(st[i], i ? synack_sim_wire_end(w, 1) : &hold.link, &ic) == 0);
	}
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + i / 251);
	inet_pton(AF_INET, "10.0.0.2", &a.sin_addr);
	lfd = synack_socket(st[1]);
	REQUIRE(synack_bind(st[1], lfd, &a) == 0 && synack_listen(st[1], lfd, 4) == 0);
	cfd = synack_socket(st[0]);
	CHECK_EQ(synack_connect(st[0], cfd, &a), -EINPROGRESS);
	CHECK_EQ(hold.n, 0);
	for (int round = 0; round < 5000 && got < sizeof(src); round++) {
		long n;

		if (sent < sizeof(src) && (n = synack_send(st[0], cfd, src + sent, sizeof(src) - sent, 0)) > 0)
			sent += (size_t)n;
		CHECK_EQ(hold.n, 0);
		synack_run_virtual(clk, st, 2, synack_clock_now(clk) + 200000);
		CHECK_EQ(hold.n, 0);
		if (afd < 0)
			afd = synack_accept(st[1], lfd, NULL);
		while (afd >= 0 && (n = synack_recv(st[1], afd, dst + got, sizeof(dst) - got, 0)) > 0)
			got += (size_t)n;
	}
	CHECK_EQ(got, sizeof(src));
	CHECK_MEM(dst, src, sizeof(src));
	/* Data went through send_more (in bursts), the handshake through send. */
	CHECK(hold.held_total > sizeof(src) / 1460);
	CHECK(hold.flushes > 0);
	CHECK(hold.plain > 0);
	CHECK_EQ(synack_close(st[0], cfd), 0);
	CHECK_EQ(hold.n, 0);
	for (int i = 0; i < 2; i++)
		synack_stack_free(st[i]);
	synack_sim_wire_free(w);
	synack_clock_free(clk);
}

/* A super-frame in pieces (send_gso_iov) gets the header the whole frame
 * would; pieces that do not add up, or a first piece short of the TCP
 * header, get none. */
TEST(gso_hdr_of_a_frame_in_pieces)
{
	static uint8_t f[HLEN + 3 * MSS];
	struct virtio_net_hdr whole, h;
	size_t len = make_seg(f, SEQ0, 3 * MSS, 0x10);
	struct iovec iov[4] = {
		{ f, HLEN }, { f + HLEN, MSS }, { f + HLEN + MSS, MSS }, { f + HLEN + 2 * MSS, MSS },
	};

	REQUIRE(vnet_gso_hdr(f, len, MSS, &whole));
	CHECK(vnet_gso_hdr_iov(iov, 4, len, MSS, &h));
	CHECK(memcmp(&h, &whole, sizeof(h)) == 0);
	CHECK_EQ(h.hdr_len, HLEN);
	CHECK_EQ(h.gso_size, MSS);
	/* The pieces must add up to len, no more and no less. */
	CHECK(!vnet_gso_hdr_iov(iov, 4, len + 1, MSS, &h));
	CHECK(!vnet_gso_hdr_iov(iov, 4, len - 1, MSS, &h));
	CHECK(!vnet_gso_hdr_iov(iov, 0, len, MSS, &h));
	/* The first piece ends inside the TCP options. */
	iov[0].iov_len = HLEN - 4;
	iov[1].iov_base = f + HLEN - 4;
	iov[1].iov_len = MSS + 4;
	CHECK(!vnet_gso_hdr_iov(iov, 4, len, MSS, &h));
	/* ... or inside the IP header. */
	iov[0].iov_len = 20;
	iov[1].iov_base = f + 20;
	iov[1].iov_len = HLEN - 20 + MSS;
	CHECK(!vnet_gso_hdr_iov(iov, 4, len, MSS, &h));
}

int main(void)
{
	RUN(tso_merges_segments_the_kernel_cuts_back_into_the_same);
	RUN(tso_sends_a_lone_segment_as_it_is);
	RUN(tx_marks_partial_tcp_checksums_only);
	RUN(tso_refuses_what_segmentation_cannot_rebuild);
	RUN(tso_stops_at_a_whole_ip_datagram);
	RUN(gso_hdr_of_a_frame_in_pieces);
	RUN(rx_takes_gso_frames_with_the_checksum_vouched_for);
	RUN(rx_drops_malformed_or_unasked_for_headers);
	RUN(rx_plain_frames_and_partial_checksums);
	RUN(stack_flushes_held_frames_before_every_return);
	return TEST_SUMMARY();
}
