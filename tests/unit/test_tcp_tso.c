/*
 * TSO on the sending side (tcp_write_xmit -> tcp_transmit_tso): over a link
 * that offers SYNACK_LINK_F_TSO, a run of full-sized segments leaves as one
 * super-frame with gso_size set, its headers built once (sequence of the
 * first segment, IP length of the whole, the pseudo-header checksum over
 * the whole, IP IDs advancing by the segments it carries), and the receiver
 * (fed whole, as GRO would) gets every byte. Without the feature nothing
 * changes: one frame per segment. Software GRO (SYNACK_LINK_F_GRO) merges
 * them again on the receiving side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../test.h"
#include "core/stack.h"
#include "net/checksum.h"

#define MAX_FRAME (14u + 65535u)
#define QCAP 4096u
#define LOGCAP 4096u

struct qframe {
	uint8_t *data;
	uint32_t len;
	uint16_t gso_size;
};

/* What one end sent, in order: its length, gso_size and headers. */
struct sent {
	uint32_t len;
	uint16_t gso_size;
	uint8_t hdr[80];
};

struct tlink {
	struct synack_link link;        /* first: the stack's handle */
	struct synack_clock *clk;
	struct tlink *peer;
	struct qframe q[QCAP];          /* frames for this end to receive */
	uint32_t head, tail;
	struct sent log[LOGCAP];        /* what this end sent */
	uint32_t nlog;
	uint32_t drop_gso;              /* lose this end's n-th super-frame (1-based); 0: none */
	uint32_t gso_sent;
	uint32_t drop_frame;            /* lose this end's n-th frame of any kind (1-based); 0: none */
	uint32_t frames_sent;
	uint32_t iov_frames;            /* super-frames given in pieces (send_gso_iov) */
	int iov_first_cnt;              /* the first one's pieces */
	size_t iov_first_head;          /* and the length of its first piece */
	uint32_t plain_iov_frames;      /* frames given in pieces (send_iov) */
	int plain_iov_max_cnt;          /* the most pieces one had */
	size_t plain_iov_head;          /* the first piece of the last one */
};

static struct tlink *to_t(struct synack_link *l) { return (struct tlink *)l; }

static int t_push(struct synack_link *l, const void *frame, size_t len, uint16_t gso_size)
{
	struct tlink *t = to_t(l), *p = t->peer;
	struct qframe *f;

	if (!frame || len < 14 || len > MAX_FRAME || p->tail - p->head == QCAP)
		return -EINVAL;
	if (t->nlog < LOGCAP) {
		struct sent *s = &t->log[t->nlog++];
		s->len = (uint32_t)len;
		s->gso_size = gso_size;
		memcpy(s->hdr, frame, len < sizeof(s->hdr) ? len : sizeof(s->hdr));
	}
	if ((gso_size && ++t->gso_sent == t->drop_gso) || ++t->frames_sent == t->drop_frame)
		return 0; /* lost on the wire */
	f = &p->q[p->tail++ % QCAP];
	f->data = malloc(len);
	if (!f->data)
		return -ENOMEM;
	memcpy(f->data, frame, len);
	f->len = (uint32_t)len;
	f->gso_size = gso_size;
	return 0;
}

static int t_send(struct synack_link *l, const void *frame, size_t len)
{
	if (len > 14 + l->mtu)
		return -EMSGSIZE;
	return t_push(l, frame, len, 0);
}

static int t_send_gso(struct synack_link *l, const void *frame, size_t len, uint16_t gso_size)
{
	return t_push(l, frame, len, gso_size);
}

/* A scatter-gather device: the pieces are checked against the length
 * given, then go on the wire whole. */
static int t_push_iov(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len, uint16_t gso_size)
{
	uint8_t *buf = malloc(len ? len : 1), *p = buf;
	int err;

	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > len - (size_t)(p - buf)) {
			free(buf);
			return -EINVAL;
		}
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	err = (size_t)(p - buf) == len ? t_push(l, buf, len, gso_size) : -EINVAL;
	free(buf);
	return err;
}

static int t_send_gso_iov(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len, uint16_t gso_size)
{
	struct tlink *t = to_t(l);

	if (!t->iov_frames++) {
		t->iov_first_cnt = iovcnt;
		t->iov_first_head = iov[0].iov_len;
	}
	return t_push_iov(l, iov, iovcnt, len, gso_size);
}

static int t_send_iov(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len)
{
	struct tlink *t = to_t(l);

	if (len > 14 + l->mtu)
		return -EMSGSIZE;
	t->plain_iov_frames++;
	if (iovcnt > t->plain_iov_max_cnt)
		t->plain_iov_max_cnt = iovcnt;
	t->plain_iov_head = iov[0].iov_len;
	return t_push_iov(l, iov, iovcnt, len, 0);
}

/* Frames come up whole; their checksums are vouched for when the sender
 * left them partial (TX_CSUM), as over a veth pair, and checked otherwise. */
static int t_recv_meta(struct synack_link *l, void *buf, size_t cap, struct synack_rx_meta *meta)
{
	struct tlink *t = to_t(l);
	struct qframe *f;
	uint32_t n;

	if (t->head == t->tail)
		return 0;
	f = &t->q[t->head++ % QCAP];
	n = f->len < cap ? f->len : (uint32_t)cap;
	memcpy(buf, f->data, n);
	free(f->data);
	meta->flags = (t->peer->link.features & SYNACK_LINK_F_TX_CSUM) ? SYNACK_RX_CSUM_OK : 0;
	meta->gso_size = f->gso_size;
	return (int)n;
}

static int t_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct synack_rx_meta m = { 0 };

	return t_recv_meta(l, buf, cap, &m);
}

static uint64_t t_next_deadline(struct synack_link *l)
{
	struct tlink *t = to_t(l);

	return t->head == t->tail ? SYNACK_NEVER : synack_clock_now(t->clk);
}

static void t_destroy(struct synack_link *l)
{
	struct tlink *t = to_t(l);

	while (t->head != t->tail)
		free(t->q[t->head++ % QCAP].data);
}

static const struct synack_link_ops t_ops = {
	.kind = "tso-test", .send = t_send, .recv = t_recv, .next_deadline = t_next_deadline,
	.destroy = t_destroy, .recv_meta = t_recv_meta, .send_gso = t_send_gso,
};

static const struct synack_link_ops t_ops_sg = {
	.kind = "tso-sg-test", .send = t_send, .recv = t_recv, .next_deadline = t_next_deadline,
	.destroy = t_destroy, .recv_meta = t_recv_meta, .send_gso = t_send_gso, .send_gso_iov = t_send_gso_iov,
	.send_iov = t_send_iov,
};

struct env {
	struct synack_clock *clk;
	struct tlink *end[2];
	struct stack *st[2];
	int cfd, sfd;
};

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return ntohs(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return ntohl(v); }

static uint32_t env_mtu = 1500;    /* of both links, for env_up */
static bool env_sg;                /* links with send_gso_iov and send_iov, for env_up */
static uint32_t env_max_frame = MAX_FRAME; /* 0: frames of the MTU only, for env_up */

static bool env_up(struct env *e, uint32_t features)
{
	static const char *addr[2] = { "10.9.0.1", "10.9.0.2" };

	memset(e, 0, sizeof(*e));
	e->clk = synack_clock_new_virtual(1000000000ULL);
	for (int i = 0; i < 2; i++) {
		e->end[i] = calloc(1, sizeof(struct tlink));
		if (!e->end[i])
			return false;
	}
	for (int i = 0; i < 2; i++) {
		struct tlink *t = e->end[i];
		struct synack_stack_config sc = { .clock = e->clk, .name = i ? "server" : "client", .seeded = true,
						  .seed = 77 + (uint64_t)i };
		struct synack_if_config ic = { .prefix_len = 24 };

		t->link.ops = env_sg ? &t_ops_sg : &t_ops;
		t->link.mtu = env_mtu;
		t->link.max_frame = env_max_frame;
		t->link.features = features;
		t->link.mac[0] = 2;
		t->link.mac[5] = (uint8_t)(i + 1);
		t->clk = e->clk;
		t->peer = e->end[!i];
		inet_pton(AF_INET, addr[i], &ic.addr);
		if (synack_stack_new(&sc, &e->st[i]) || synack_if_up(e->st[i], &t->link, &ic))
			return false;
	}
	return true;
}

/* env_up with links that take frames in pieces (send_gso_iov, send_iov). */
static bool env_up_sg(struct env *e, uint32_t features)
{
	bool ok;

	env_sg = true;
	ok = env_up(e, features);
	env_sg = false;
	return ok;
}

static void env_down(struct env *e)
{
	for (int i = 0; i < 2; i++) {
		synack_stack_free(e->st[i]);
		t_destroy(&e->end[i]->link);
		free(e->end[i]);
	}
	synack_clock_free(e->clk);
}

static void run(struct env *e, uint64_t ms)
{
	synack_run_virtual(e->clk, e->st, 2, synack_clock_now(e->clk) + ms * 1000000ULL);
}

/* Connect, run after_connect (if any), then the client writes `total`
 * bytes of a known pattern and the server reads them all back. True if
 * every byte arrived intact. */
static bool transfer_with(struct env *e, size_t total, void (*after_connect)(struct env *))
{
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(9) };
	static uint8_t out[1 << 20], in[1 << 16];
	size_t sent = 0, got = 0;
	bool ok = true;
	int lfd;

	for (size_t i = 0; i < total && i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + (i >> 11));
	inet_pton(AF_INET, "10.9.0.2", &srv.sin_addr);
	lfd = synack_socket(e->st[1]);
	synack_bind(e->st[1], lfd, &srv);
	synack_listen(e->st[1], lfd, 4);
	e->cfd = synack_socket(e->st[0]);
	synack_connect(e->st[0], e->cfd, &srv);
	run(e, 1);
	e->sfd = synack_accept(e->st[1], lfd, NULL);
	if (after_connect)
		after_connect(e);
	for (int step = 0; step < 100000 && got < total; step++) {
		long r;

		if (sent < total && (r = synack_send(e->st[0], e->cfd, out + sent, total - sent, 0)) > 0)
			sent += (size_t)r;
		run(e, 1);
		while ((r = synack_recv(e->st[1], e->sfd, in, sizeof(in), 0)) > 0) {
			for (long i = 0; i < r; i++)
				ok &= in[i] == out[got + (size_t)i];
			got += (size_t)r;
		}
	}
	return ok && got == total;
}

static bool transfer(struct env *e, size_t total) { return transfer_with(e, total, NULL); }

/* The segments a frame the client sent carries (0 if it is not TCP data). */
static uint32_t frame_segs(const struct sent *s)
{
	const uint8_t *ip = s->hdr + 14, *th = ip + 20;
	uint32_t payload = s->len - 14 - 20 - (uint32_t)(th[12] >> 4) * 4;

	if (get16(s->hdr + 12) != 0x0800 || ip[9] != 6 || !payload)
		return 0;
	return s->gso_size ? (payload + s->gso_size - 1) / s->gso_size : 1;
}

TEST(estab_tso_initial_window_leaves_as_one_super_frame)
{
	struct env e;
	const struct sent *first = NULL, *prev = NULL;
	uint64_t segs = 0;
	uint32_t isn = 0, data_frames = 0, gso_frames = 0;

	REQUIRE(env_up(&e, SYNACK_LINK_F_TX_CSUM | SYNACK_LINK_F_TSO));
	CHECK(transfer(&e, 512 * 1024));
	for (uint32_t i = 0; i < e.end[0]->nlog; i++) {
		const struct sent *s = &e.end[0]->log[i];
		const uint8_t *ip = s->hdr + 14, *th = ip + 20;
		uint32_t n = frame_segs(s);

		if (get16(s->hdr + 12) == 0x0800 && ip[9] == 6 && (th[13] & 0x02))
			isn = get32(th + 4);
		if (!n)
			continue;
		data_frames++;
		segs += n;
		gso_frames += s->gso_size != 0;
		/* IP length covers the whole frame; IDs count the segments. */
		CHECK_EQ(get16(ip + 2), s->len - 14);
		if (prev)
			CHECK_EQ(get16(ip + 4), (uint16_t)(get16(prev->hdr + 18) + frame_segs(prev)));
		prev = s;
		if (!first)
			first = s;
	}
	REQUIRE(first);
	/* The initial window: ten 1448-byte segments (timestamps on) in one
	 * frame, starting right after the SYN, with the pseudo-header sum over
	 * all of it for the device to finish. */
	CHECK_EQ(first->gso_size, 1448);
	CHECK_EQ(first->len, 14 + 20 + 32 + 10 * 1448);
	CHECK_EQ(get32(first->hdr + 34 + 4), isn + 1);
	{
		uint32_t s, d;
		memcpy(&s, first->hdr + 26, 4);
		memcpy(&d, first->hdr + 30, 4);
		CHECK_EQ(get16(first->hdr + 34 + 16),
			 (uint16_t)~csum_fold(csum_tcpudp_nofold(s, d, first->len - 34, 6, 0)));
	}
	/* Most data went merged, and the MIB counts wire segments. */
	CHECK(gso_frames * 4 > data_frames);
	CHECK(segs >= 512 * 1024 / 1448);
	CHECK(synack_mib_value(e.st[0], "TcpOutSegs") >= segs);
	CHECK_EQ(synack_mib_value(e.st[0], "TcpRetransSegs"), 0);
	env_down(&e);
}

/* A device that takes super-frames in pieces gets the headers, then each
 * queued payload where it lies: no gathering copy. The first is the
 * initial window again, ten segments behind one header piece. */
TEST(estab_tso_scatter_gather_device_gets_payloads_in_place)
{
	struct env e;
	uint32_t gso_frames = 0;

	REQUIRE(env_up_sg(&e, SYNACK_LINK_F_TX_CSUM | SYNACK_LINK_F_TSO));
	CHECK(transfer(&e, 512 * 1024));
	for (uint32_t i = 0; i < e.end[0]->nlog; i++)
		gso_frames += e.end[0]->log[i].gso_size != 0;
	CHECK(gso_frames > 10);
	CHECK_EQ(e.end[0]->iov_frames, gso_frames);
	CHECK_EQ(e.end[0]->iov_first_cnt, 1 + 10);
	CHECK_EQ(e.end[0]->iov_first_head, 14 + 20 + 32);
	CHECK_EQ(synack_mib_value(e.st[0], "TcpRetransSegs"), 0);
	CHECK_EQ(synack_mib_value(e.st[0], "LinkTxErrors"), 0);
	env_down(&e);
}

static void count_events(void *ctx, const struct synack_trace_event *ev)
{
	(void)ev;
	++*(uint32_t *)ctx;
}

/* A trace of frames shows each whole: with a sink set, the same device
 * gets its super-frames gathered (send_gso). */
TEST(estab_tso_scatter_gather_traced_frames_are_gathered)
{
	struct env e;
	uint32_t gso_frames = 0, events = 0;

	REQUIRE(env_up_sg(&e, SYNACK_LINK_F_TX_CSUM | SYNACK_LINK_F_TSO));
	synack_trace_set_sink(e.st[0], count_events, &events);
	CHECK(transfer(&e, 256 * 1024));
	for (uint32_t i = 0; i < e.end[0]->nlog; i++)
		gso_frames += e.end[0]->log[i].gso_size != 0;
	CHECK(gso_frames > 4);
	CHECK_EQ(e.end[0]->iov_frames, 0);
	CHECK(events > gso_frames);
	env_down(&e);
}

/* Without TSO, a scatter-gather device gets each segment software GSO
 * cut as its headers and then the payload where TCP queued it, summed
 * there: the receiver checks every checksum and gets every byte. */
TEST(estab_gso_scatter_gather_device_gets_segment_payloads_in_place)
{
	struct env e;

	REQUIRE(env_up_sg(&e, 0));
	CHECK(transfer(&e, 512 * 1024));
	CHECK(e.end[0]->plain_iov_frames * 10 > 512 * 1024 / 1448 * 9); /* lone segments go whole */
	CHECK_EQ(e.end[0]->plain_iov_max_cnt, 2);
	CHECK_EQ(e.end[0]->plain_iov_head, 14 + 20 + 32);
	CHECK_EQ(e.end[0]->iov_frames, 0);
	CHECK_EQ(synack_mib_value(e.st[1], "TcpInCsumErrors"), 0);
	CHECK_EQ(synack_mib_value(e.st[0], "TcpRetransSegs"), 0);
	CHECK_EQ(synack_mib_value(e.st[0], "LinkTxErrors"), 0);
	env_down(&e);
}

/* Software GSO straight from a super-frame whose payload lies in frags of
 * odd sizes: a segment in two pieces, the second at an odd offset, is
 * summed across them (csum_block_add); one in five pieces, over
 * GSO_SEG_MAX_PIECES, is copied together instead. Every segment leaves
 * with a whole checksum and its own bytes. */
TEST(gso_scatter_gather_pieces_at_odd_offsets)
{
	static const uint32_t frag_len[] = { 1001, 7, 13, 3, 2001, 1501, 999 };
	const uint32_t hlen = 14 + 20 + 20, seq0 = 70000;
	struct sk_buff_head q;
	struct sk_buff *big, *f;
	uint32_t total = 0, segs = 0;
	struct env e;
	uint8_t *h;

	REQUIRE(env_up_sg(&e, 0));
	skb_queue_head_init(&q);
	for (size_t k = 0; k < sizeof(frag_len) / sizeof(frag_len[0]); k++) {
		f = skb_alloc(&e.st[0]->skb_pool, 0, frag_len[k]);
		REQUIRE(f);
		h = skb_put(f, frag_len[k]);
		for (uint32_t i = 0; i < frag_len[k]; i++)
			h[i] = (uint8_t)((total + i) * 7 + 3);
		total += frag_len[k];
		skb_queue_tail(&q, f);
	}
	big = skb_alloc(&e.st[0]->skb_pool, 64, hlen);
	REQUIRE(big);
	h = skb_put(big, hlen);
	memset(h, 0, hlen);
	memcpy(h, e.end[1]->link.mac, 6);
	memcpy(h + 6, e.end[0]->link.mac, 6);
	h[12] = 0x08;
	h[14] = 0x45;
	h[16] = (uint8_t)((20 + 20 + total) >> 8);
	h[17] = (uint8_t)(20 + 20 + total);
	h[20] = 0x40;                           /* DF */
	h[22] = 64;
	h[23] = 6;
	inet_pton(AF_INET, "10.9.0.1", h + 26);
	inet_pton(AF_INET, "10.9.0.2", h + 30);
	h[34 + 4] = (uint8_t)(seq0 >> 24);
	h[34 + 5] = (uint8_t)(seq0 >> 16);
	h[34 + 6] = (uint8_t)(seq0 >> 8);
	h[34 + 7] = (uint8_t)seq0;
	h[34 + 12] = 5 << 4;
	h[34 + 13] = 0x18;                      /* ACK, PSH */
	big->frag_list = list_first_entry(&q.list, struct sk_buff, list);
	big->nr_frags = (uint16_t)(sizeof(frag_len) / sizeof(frag_len[0]));
	big->data_len = total;
	big->len += total;
	big->gso_size = 1448;
	CHECK_EQ(tcp4_gso_segment_xmit(e.st[0], big), 0);
	for (uint32_t k = e.end[1]->head; k != e.end[1]->tail; k++) {
		const struct qframe *fr = &e.end[1]->q[k % QCAP];
		const uint8_t *ip = fr->data + 14, *th = ip + 20;
		uint32_t tcp_len = fr->len - 34, saddr, daddr, off = get32(th + 4) - seq0;

		if (get16(fr->data + 12) != 0x0800)
			continue;               /* the gratuitous ARP of synack_if_up */
		segs++;
		memcpy(&saddr, ip + 12, 4);
		memcpy(&daddr, ip + 16, 4);
		CHECK_EQ(csum_fold(csum_partial(th, tcp_len, csum_tcpudp_nofold(saddr, daddr, tcp_len, 6, 0))), 0);
		for (uint32_t i = 0; i < tcp_len - 20; i++)
			if (th[20 + i] != (uint8_t)((off + i) * 7 + 3)) {
				CHECK(!"payload byte");
				break;
			}
	}
	CHECK_EQ(segs, 4);
	CHECK_EQ(e.end[0]->plain_iov_frames, 3);        /* the first went copied */
	CHECK_EQ(e.end[0]->plain_iov_max_cnt, 3);
	kfree_skb(big);
	while ((f = skb_dequeue(&q)))
		kfree_skb(f);
	env_down(&e);
}

/* Traced, the same device gets each segment whole (send). */
TEST(estab_gso_scatter_gather_traced_segments_are_whole)
{
	struct env e;
	uint32_t events = 0;

	REQUIRE(env_up_sg(&e, 0));
	synack_trace_set_sink(e.st[0], count_events, &events);
	CHECK(transfer(&e, 256 * 1024));
	CHECK_EQ(e.end[0]->plain_iov_frames, 0);
	CHECK(events > 256 * 1024 / 1448);
	CHECK_EQ(synack_mib_value(e.st[1], "TcpInCsumErrors"), 0);
	env_down(&e);
}

/* Without TSO the stack cuts its super-frames itself (gso.c, Linux's GSO):
 * only wire-sized segments leave, numbered as if sent one by one, and
 * with no checksum offload their checksums are whole (the receiver checks
 * them). IP saw fewer datagrams than went on the wire. */
static void check_software_gso(uint32_t features)
{
	struct env e;
	uint32_t big = 0, data = 0, next_seq = 0, bad_seq = 0, bad_id = 0;
	uint16_t next_id = 0;

	REQUIRE(env_up(&e, features));
	CHECK(transfer(&e, 256 * 1024));
	for (uint32_t i = 0; i < e.end[0]->nlog; i++) {
		const struct sent *s = &e.end[0]->log[i];
		const uint8_t *ip = s->hdr + 14, *th = ip + 20;
		uint32_t payload = s->len - 14 - 20 - (uint32_t)(th[12] >> 4) * 4;

		big += s->gso_size != 0 || s->len > 1514;
		if (get16(s->hdr + 12) != 0x0800 || ip[9] != 6 || !payload)
			continue;
		if (data++) {
			bad_seq += get32(th + 4) != next_seq;
			bad_id += get16(ip + 4) != next_id;
		}
		next_seq = get32(th + 4) + payload;
		next_id = (uint16_t)(get16(ip + 4) + 1);
	}
	CHECK_EQ(big, 0);
	CHECK_EQ(bad_seq, 0);
	CHECK_EQ(bad_id, 0);
	CHECK(data >= 256 * 1024 / 1448);
	CHECK(synack_mib_value(e.st[0], "IpOutRequests") * 4 < data);
	CHECK_EQ(synack_mib_value(e.st[1], "TcpInCsumErrors"), 0);
	env_down(&e);
}

TEST(estab_no_tso_without_the_link_feature) { check_software_gso(SYNACK_LINK_F_TX_CSUM); }
TEST(estab_gso_without_any_offload_sums_each_segment) { check_software_gso(0); }

/* The server's ACK frames and the client's data segments of one transfer. */
static void count_gro_run(uint32_t features, uint32_t *acks, uint32_t *data, struct synack_tcp_info *srv)
{
	struct env e;
	unsigned int len = sizeof(*srv);

	REQUIRE(env_up(&e, features));
	CHECK(transfer(&e, 256 * 1024));
	*acks = *data = 0;
	for (uint32_t i = 0; i < e.end[1]->nlog; i++)
		*acks += e.end[1]->log[i].len <= 14 + 20 + 32 + 12;
	for (uint32_t i = 0; i < e.end[0]->nlog; i++)
		*data += frame_segs(&e.end[0]->log[i]) != 0;
	CHECK_EQ(synack_getsockopt(e.st[1], e.sfd, IPPROTO_TCP, 11 /* TCP_INFO */, srv, &len), 0);
	CHECK_EQ(synack_mib_value(e.st[1], "TcpInCsumErrors"), 0);
	if (features & SYNACK_LINK_F_GRO) {
		/* Merged before IP; TCP still counts the wire segments. */
		CHECK(synack_mib_value(e.st[1], "LinkRxGroMerged") * 2 > *data);
		CHECK(synack_mib_value(e.st[1], "TcpInSegs") * 2 < *data);
	} else {
		CHECK_EQ(synack_mib_value(e.st[1], "LinkRxGroMerged"), 0);
	}
	env_down(&e);
}

/* GRO puts back together what software GSO cut: the receiver takes a
 * burst as one skb, acknowledges it once, and counts every wire segment
 * in tcpi_segs_in as Linux does. */
TEST(estab_gro_merges_each_burst)
{
	struct synack_tcp_info with, without;
	uint32_t acks_gro, acks_plain, data_gro, data_plain;

	count_gro_run(SYNACK_LINK_F_GRO, &acks_gro, &data_gro, &with);
	count_gro_run(0, &acks_plain, &data_plain, &without);
	CHECK(acks_gro < acks_plain);
	CHECK(with.tcpi_segs_in >= data_gro);
	CHECK(without.tcpi_segs_in >= data_plain);
	CHECK_EQ(with.tcpi_rcv_mss, 1448);
}

/* On a link of MTU-sized frames, a run of one flow's segments is received
 * straight behind the payload GRO holds (its headers over the held frame's
 * end, put back after): most merges are made there, none copies, and every
 * byte arrives. The client loses its 40th frame, so a retransmission meets
 * a held run it cannot join and is copied out, the held bytes restored. */
static void gro_in_place_run(uint32_t drop_frame, uint64_t *in_place, uint64_t *merged)
{
	struct env e;

	env_max_frame = 0;
	REQUIRE(env_up(&e, SYNACK_LINK_F_GRO));
	env_max_frame = MAX_FRAME;
	e.end[0]->drop_frame = drop_frame;
	CHECK(transfer(&e, 512 * 1024));
	CHECK_EQ(synack_mib_value(e.st[1], "TcpInCsumErrors"), 0);
	CHECK_EQ(e.st[1]->dev.rx_cap, 14u + 1500u);
	*in_place = synack_mib_value(e.st[1], "LinkRxGroInPlace");
	*merged = synack_mib_value(e.st[1], "LinkRxGroMerged");
	if (drop_frame)
		CHECK(synack_mib_value(e.st[0], "TcpRetransSegs") > 0);
	env_down(&e);
}

TEST(estab_gro_receives_a_run_in_place)
{
	uint64_t in_place, merged;

	gro_in_place_run(0, &in_place, &merged);
	CHECK(merged > 200);
	CHECK(in_place * 10 > merged * 8);     /* all but the first two of each burst */
	CHECK(in_place <= merged);
}

TEST(estab_gro_in_place_after_a_loss_every_byte_arrives)
{
	uint64_t in_place, merged;

	gro_in_place_run(40, &in_place, &merged);
	CHECK(in_place > 0);
}

static void ignore_events(void *ctx, const struct synack_trace_event *ev)
{
	(void)ctx;
	(void)ev;
}

/* A 256 KiB transfer that GRO merges but never receives in place. */
static void gro_never_in_place(uint32_t max_frame, bool traced)
{
	struct env e;

	env_max_frame = max_frame;
	REQUIRE(env_up(&e, SYNACK_LINK_F_GRO));
	env_max_frame = MAX_FRAME;
	if (traced)
		synack_trace_set_sink(e.st[1], ignore_events, NULL);
	CHECK(transfer(&e, 256 * 1024));
	CHECK(synack_mib_value(e.st[1], "LinkRxGroMerged") > 100);
	CHECK_EQ(synack_mib_value(e.st[1], "LinkRxGroInPlace"), 0);
	env_down(&e);
}

/* Tracing frames turns receiving in place off: each frame is seen whole. */
TEST(estab_gro_traced_frames_are_not_received_in_place) { gro_never_in_place(0, true); }

/* A link that may hand up 64 KiB frames never receives in place: a
 * whole frame would not fit behind the held payload. */
TEST(estab_gro_large_frame_link_not_received_in_place) { gro_never_in_place(MAX_FRAME, false); }

/* With a jumbo MTU software GSO cuts 8,948-byte segments (its scratch
 * buffer a cached large block) and everything arrives. */
TEST(estab_gso_jumbo_mtu)
{
	struct env e;
	uint32_t jumbo = 0, over = 0;

	env_mtu = 9000;
	REQUIRE(env_up(&e, 0));
	CHECK(transfer(&e, 1024 * 1024));
	for (uint32_t i = 0; i < e.end[0]->nlog; i++) {
		jumbo += e.end[0]->log[i].len == 14 + 9000;
		over += e.end[0]->log[i].len > 14 + 9000 || e.end[0]->log[i].gso_size;
	}
	CHECK(jumbo > 100);
	CHECK_EQ(over, 0);
	CHECK_EQ(synack_mib_value(e.st[1], "TcpInCsumErrors"), 0);
	CHECK_EQ(synack_mib_value(e.st[0], "LinkTxErrors"), 0);
	env_down(&e);
	env_mtu = 1500;
}

/* The client forgets the server's MAC (as if its entry had failed). */
static void forget_neighbour(struct env *e)
{
	struct neighbour *n = neigh_lookup(e->st[0], inet_addr("10.9.0.2"));

	REQUIRE(n);
	n->nud_state = NUD_FAILED;
	e->end[0]->nlog = 0;
}

/* A run for a neighbour being resolved waits in the ARP queue gathered
 * into one piece (the segments it points at in TCP's queue may be gone by
 * the reply), then leaves cut into segments like any other. */
TEST(estab_gso_run_waiting_for_arp_is_gathered)
{
	struct env e;
	uint32_t arp = 0, data_before_arp = 0, big = 0;

	REQUIRE(env_up(&e, 0));
	CHECK(transfer_with(&e, 256 * 1024, forget_neighbour));
	for (uint32_t i = 0; i < e.end[0]->nlog; i++) {
		const struct sent *s = &e.end[0]->log[i];

		arp += get16(s->hdr + 12) == 0x0806;
		data_before_arp += !arp && frame_segs(s);
		big += s->gso_size != 0 || s->len > 1514;
	}
	CHECK_EQ(arp, 1);
	CHECK_EQ(data_before_arp, 0);   /* the first run waited */
	CHECK_EQ(big, 0);
	CHECK_EQ(synack_mib_value(e.st[0], "ArpUnresolvedDiscards"), 0);
	CHECK_EQ(synack_mib_value(e.st[0], "TcpRetransSegs"), 0);
	env_down(&e);
}

/* A lost super-frame is a burst of lost segments: SACK and RACK find
 * them one by one (the queue keeps one skb per segment), and the
 * retransmissions go out as the holes allow. */
TEST(estab_tso_lost_super_frame_is_repaired)
{
	struct env e;

	REQUIRE(env_up(&e, SYNACK_LINK_F_TX_CSUM | SYNACK_LINK_F_TSO));
	e.end[0]->drop_gso = 3;
	CHECK(transfer(&e, 1024 * 1024));
	CHECK(e.end[0]->gso_sent > 3);
	CHECK(synack_mib_value(e.st[0], "TcpRetransSegs") >= 2);
	env_down(&e);
}

int main(void)
{
	RUN(estab_tso_initial_window_leaves_as_one_super_frame);
	RUN(estab_tso_scatter_gather_device_gets_payloads_in_place);
	RUN(estab_tso_scatter_gather_traced_frames_are_gathered);
	RUN(estab_no_tso_without_the_link_feature);
	RUN(estab_gso_scatter_gather_device_gets_segment_payloads_in_place);
	RUN(estab_gso_scatter_gather_traced_segments_are_whole);
	RUN(gso_scatter_gather_pieces_at_odd_offsets);
	RUN(estab_gso_without_any_offload_sums_each_segment);
	RUN(estab_tso_lost_super_frame_is_repaired);
	RUN(estab_gro_merges_each_burst);
	RUN(estab_gro_receives_a_run_in_place);
	RUN(estab_gro_in_place_after_a_loss_every_byte_arrives);
	RUN(estab_gro_traced_frames_are_not_received_in_place);
	RUN(estab_gro_large_frame_link_not_received_in_place);
	RUN(estab_gso_run_waiting_for_arp_is_gathered);
	RUN(estab_gso_jumbo_mtu);
	return TEST_SUMMARY();
}
