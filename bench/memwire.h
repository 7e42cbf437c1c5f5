/*
 * The benchmarks' in-memory Ethernet wire: two rings of frames, one per
 * direction, and nothing else - no clock, no faults, no allocation per
 * frame. A frame is copied in when one end sends it and copied out when the
 * other end receives it, as a NIC driver would; both stacks under test (synack
 * and lwIP) pay exactly these two copies per frame. synack may hand a frame
 * over in pieces (send_iov: its headers, then the payload where TCP queued
 * it), each copied in once, as a scatter-gather NIC's DMA reads them.
 *
 * It replaces the sim wire (src/link/sim.c) where the sim wire's own cost
 * would blur the figure: the sim wire draws six random numbers, mallocs,
 * heap-sorts and frees every frame (`handshake --link sim` measures it).
 *
 * End 0 is 02:00:00:00:00:01, end 1 02:00:00:00:00:02, as on the sim wire.
 * Header-only (static functions): each bench is one executable.
 *
 * The offloading wire (mw_wire_init_offload; synack's ends only) is instead
 * a Linux veth pair with its default offloads: the stack leaves TCP
 * checksums to the device, and the receiver trusts them, as veth's peer
 * trusts a CHECKSUM_PARTIAL skb; it offers TSO, so the stack hands it
 * super-frames it built itself (send_gso), and what else one burst sends
 * (send_more) is merged into super-frames too (link/vnet.c, as on a TAP);
 * the other end takes each whole, as Linux's GRO/GSO hands one large skb up
 * the stack. Each frame goes behind a virtio-net header, which says what the
 * sender's device left undone; frames are built in the ring itself, so a
 * byte is still copied twice on the wire. Frames of up to 64 KiB are packed
 * one after the other into as many bytes as the plain wire's slots hold:
 * 4096 slots of 64 KiB would spread a bulk transfer over 256 MiB, and the
 * misses in the cache, not the stack, would make the figure.
 */
#ifndef SYNACK_BENCH_MEMWIRE_H
#define SYNACK_BENCH_MEMWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "link/vnet.h"
#include "synack/synack.h"

#define MW_SLOTS 4096u                      /* frames in flight per direction */
#define MW_FRAME_CAP 1536u                  /* 1500-byte MTU + Ethernet header, rounded */
/* The offloading wire's bytes per direction: the plain wire's. */
#define MW_TSO_BYTES (MW_SLOTS * MW_FRAME_CAP)

/* One direction of the offloading wire: its frames, each behind its header,
 * packed in the order sent (MW_SLOTS at most, as on the plain wire), and
 * its sending end's merger, which builds each super-frame in place. */
struct mw_tso_ring {
	struct vnet_tso tso;
	uint32_t held_at;                   /* where the merger builds */
	uint32_t next;                      /* where the next frame may start */
	uint64_t segs;                      /* the wire segments the frames stand for */
	uint32_t at[MW_SLOTS], len[MW_SLOTS]; /* each queued frame's place and bytes, header included */
	uint8_t bytes[MW_TSO_BYTES];
};

struct mw_ring {
	uint32_t head, tail;                /* tail - head frames queued (free-running) */
	bool trace;                         /* print each frame as it is sent (tcpdump style) */
	/* synack's ends only: frames for which this returns true are dropped
	 * as they are sent (counted in filtered). */
	bool (*filter)(const uint8_t *frame, size_t len);
	uint64_t filtered;
	uint16_t len[MW_SLOTS];
	/* One or the other: a union, so the plain wire's layout, and with it
	 * the heap's and its instruction counts, stay as they were. */
	union {
		uint8_t (*data)[MW_FRAME_CAP];
		struct mw_tso_ring *off;    /* the offloading wire (len unused) */
	};
	uint64_t frames, bytes, drops;
};

struct mw_end {
	struct synack_link link;            /* first: synack's handle on this end */
	struct mw_wire *wire;
	int side;
};

struct mw_wire {
	struct mw_ring dir[2];              /* dir[s] carries what end s sends */
	struct mw_end end[2];
};

static inline bool mw_empty(const struct mw_ring *r) { return r->head == r->tail; }

/* Space for the next frame in r, or NULL when the ring is full (a drop). */
static inline uint8_t *mw_reserve(struct mw_ring *r, size_t len)
{
	if (r->tail - r->head == MW_SLOTS || len > MW_FRAME_CAP) {
		r->drops++;
		return NULL;
	}
	r->len[r->tail % MW_SLOTS] = (uint16_t)len;
	return r->data[r->tail % MW_SLOTS];
}

static inline void mw_commit(struct mw_ring *r, size_t len)
{
	if (r->trace) {
		char line[256];

		synack_format_frame(line, sizeof(line), r->data[r->tail % MW_SLOTS], len);
		printf("  wire: %s\n", line);
	}
	r->tail++;
	r->frames++;
	r->bytes += len;
}

/* Does the bench's filter drop this frame (hdr: at least its headers)?
 * Counted if so. */
static inline bool mw_filtered(struct mw_ring *r, const void *hdr, size_t len)
{
	if (!r->filter || !r->filter(hdr, len))
		return false;
	r->filtered++;
	return true;
}

static inline int mw_push(struct mw_ring *r, const void *frame, size_t len)
{
	uint8_t *p = mw_reserve(r, len);

	if (!p)
		return 0;                   /* dropped, as a full device queue does */
	memcpy(p, frame, len);
	mw_commit(r, len);
	return 0;
}

/* The next frame's bytes and length, without taking it (NULL if none). */
static inline const uint8_t *mw_peek(const struct mw_ring *r, size_t *len)
{
	if (mw_empty(r))
		return NULL;
	*len = r->len[r->head % MW_SLOTS];
	return r->data[r->head % MW_SLOTS];
}

static inline void mw_drop_head(struct mw_ring *r) { r->head++; }

/* ------------------------------------------------- synack's link ops */

static int mw_link_send(struct synack_link *l, const void *frame, size_t len)
{
	struct mw_end *e = (struct mw_end *)l;
	struct mw_ring *r = &e->wire->dir[e->side];

	if (mw_filtered(r, frame, len))
		return 0;
	return mw_push(r, frame, len);
}

/* A frame in pieces (a scatter-gather NIC's DMA reads each where it lies):
 * each copied once onto the wire. */
static int mw_link_send_iov(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len)
{
	struct mw_end *e = (struct mw_end *)l;
	struct mw_ring *r = &e->wire->dir[e->side];
	uint8_t *p;

	if (mw_filtered(r, iov[0].iov_base, iov[0].iov_len))
		return 0;
	p = mw_reserve(r, len);
	if (!p)
		return 0;                   /* dropped, as a full device queue does */
	for (int i = 0; i < iovcnt; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	mw_commit(r, len);
	return 0;
}

static int mw_link_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct mw_end *e = (struct mw_end *)l;
	struct mw_ring *r = &e->wire->dir[!e->side];
	size_t len;
	const uint8_t *f = mw_peek(r, &len);

	if (!f)
		return 0;
	if (len > cap)
		len = cap;
	memcpy(buf, f, len);
	mw_drop_head(r);
	return (int)len;
}

static int mw_link_wait_fd(struct synack_link *l)
{
	(void)l;
	return -1;
}

static uint64_t mw_link_next_deadline(struct synack_link *l)
{
	(void)l;
	return SYNACK_NEVER;
}

static void mw_link_destroy(struct synack_link *l) { (void)l; }

static const struct synack_link_ops mw_link_ops = {
	.kind = "memwire", .send = mw_link_send, .recv = mw_link_recv, .wait_fd = mw_link_wait_fd,
	.next_deadline = mw_link_next_deadline, .destroy = mw_link_destroy, .send_iov = mw_link_send_iov,
};

/* --------------------------------------------- the offloading wire */

static inline struct mw_ring *mw_tx_ring(struct mw_end *e) { return &e->wire->dir[e->side]; }

static inline uint32_t mw_tso_round(size_t n) { return (uint32_t)(n + 15) & ~15u; }

/* Where need bytes may go: after the newest frame, or at 0 when they do
 * not fit before the end; -1 when they would reach the oldest, or every
 * descriptor is taken. The free bytes are [next, end) and [0, oldest)
 * while the newest frame lies after the oldest, [next, oldest) once it
 * has wrapped. */
static inline int64_t mw_tso_place(const struct mw_ring *r, uint32_t need)
{
	const struct mw_tso_ring *o = r->off;
	uint32_t next = o->next, oldest = o->at[r->head % MW_SLOTS];

	if (r->tail - r->head == MW_SLOTS)
		return -1;
	if (mw_empty(r) || next > oldest) {
		if (next + need <= MW_TSO_BYTES)
			return next;
		return mw_empty(r) || need < oldest ? 0 : -1;
	}
	return next + need < oldest ? (int64_t)next : -1;
}

/* The n bytes of header and frame at `at` go on the wire. */
static inline void mw_tso_commit(struct mw_end *e, uint32_t at, size_t n, uint32_t segs)
{
	struct mw_ring *r = mw_tx_ring(e);
	struct mw_tso_ring *o = r->off;

	o->at[r->tail % MW_SLOTS] = at;
	o->len[r->tail % MW_SLOTS] = (uint32_t)n;
	o->next = at + mw_tso_round(n);
	if (r->trace) {
		char line[256];

		synack_format_frame(line, sizeof(line), o->bytes + at + VNET_HDR_LEN, n - VNET_HDR_LEN);
		if (segs > 1)
			printf("  wire: %s (TSO, %u segments)\n", line, segs);
		else
			printf("  wire: %s\n", line);
	}
	r->tail++;
	r->frames++;
	r->bytes += n - VNET_HDR_LEN;
	o->segs += segs;
}

/* A frame behind its header at `at`, standing for segs wire segments. */
static inline void mw_tso_write(struct mw_end *e, uint32_t at, const struct virtio_net_hdr *h, const void *frame,
				size_t len, uint32_t segs)
{
	uint8_t *p = mw_tx_ring(e)->off->bytes + at;

	memcpy(p, h, sizeof(*h));
	memcpy(p + VNET_HDR_LEN, frame, len);
	mw_tso_commit(e, at, VNET_HDR_LEN + len, segs);
}

/* A frame that is not merged, at `at`: behind a header that leaves a TCP
 * checksum for the device, as the stack did. */
static inline void mw_tso_put(struct mw_end *e, uint32_t at, const void *frame, size_t len)
{
	struct virtio_net_hdr h;

	vnet_tx_hdr(frame, len, true, &h);
	mw_tso_write(e, at, &h, frame, len, 1);
}

/* A frame that goes whole behind header h, or is dropped when the ring has
 * no room for it, as a full device queue drops. */
static inline void mw_tso_alone_hdr(struct mw_end *e, const struct virtio_net_hdr *h, const void *frame, size_t len,
				    uint32_t segs)
{
	struct mw_ring *r = mw_tx_ring(e);
	int64_t at = mw_tso_place(r, mw_tso_round(VNET_HDR_LEN + len));

	if (at < 0)
		r->drops++;
	else
		mw_tso_write(e, (uint32_t)at, h, frame, len, segs);
}

/* A frame that is not merged, alone. */
static inline void mw_tso_alone(struct mw_end *e, const void *frame, size_t len)
{
	struct virtio_net_hdr h;

	vnet_tx_hdr(frame, len, true, &h);
	mw_tso_alone_hdr(e, &h, frame, len, 1);
}

static int mw_tso_flush(struct synack_link *l)
{
	struct mw_end *e = (struct mw_end *)l;
	struct mw_tso_ring *o = mw_tx_ring(e)->off;
	uint32_t segs;
	size_t n = vnet_tso_finish(&o->tso, &segs);

	if (n)
		mw_tso_commit(e, o->held_at, n, segs);
	return 0;
}

/* Frames the bench filters out, and frames longer than the MTU allows
 * (the merger's buffer could not hold them), go no further. */
static inline bool mw_tso_refused(struct mw_end *e, const void *frame, size_t len)
{
	struct mw_ring *r = mw_tx_ring(e);

	if (len > (size_t)e->link.mtu + 14) {
		r->drops++;
		return true;
	}
	return mw_filtered(r, frame, len);
}

static int mw_tso_send(struct synack_link *l, const void *frame, size_t len)
{
	struct mw_end *e = (struct mw_end *)l;

	if (mw_tso_refused(e, frame, len))
		return 0;
	mw_tso_flush(l);                    /* what was held goes first */
	mw_tso_alone(e, frame, len);
	return 0;
}

/* The held super-frame takes the segment, or it starts the next one where
 * the largest could grow (else it goes alone), or, not mergeable (no data,
 * SYN, RST), it goes alone there. */
static int mw_tso_send_more(struct synack_link *l, const void *frame, size_t len)
{
	struct mw_end *e = (struct mw_end *)l;
	struct mw_tso_ring *o = mw_tx_ring(e)->off;
	int64_t at;

	if (mw_tso_refused(e, frame, len))
		return 0;
	if (o->tso.len && vnet_tso_add(&o->tso, frame, len))
		return 0;
	mw_tso_flush(l);
	at = mw_tso_place(mw_tx_ring(e), mw_tso_round(VNET_HDR_LEN + VNET_MAX_FRAME));
	if (at < 0) {
		mw_tso_alone(e, frame, len);
		return 0;
	}
	o->held_at = (uint32_t)at;
	o->tso.buf = o->bytes + at;
	if (!vnet_tso_add(&o->tso, frame, len))
		mw_tso_put(e, (uint32_t)at, frame, len);
	return 0;
}

/* A super-frame the stack built itself (SYNACK_LINK_F_TSO), in pieces as
 * a scatter-gather TSO device takes it: after what is held, behind the GSO
 * header a TSO device is given, each piece copied once onto the wire. */
static int mw_tso_send_gso_iov(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len,
			       uint16_t gso_size)
{
	struct mw_end *e = (struct mw_end *)l;
	struct mw_ring *r = mw_tx_ring(e);
	struct virtio_net_hdr h;
	int64_t at;
	uint8_t *p;

	if (len > VNET_MAX_FRAME || !vnet_gso_hdr_iov(iov, iovcnt, len, gso_size, &h)) {
		r->drops++;
		return 0;
	}
	if (mw_filtered(r, iov[0].iov_base, iov[0].iov_len))
		return 0;
	mw_tso_flush(l);
	at = mw_tso_place(r, mw_tso_round(VNET_HDR_LEN + len));
	if (at < 0) {
		r->drops++;
		return 0;
	}
	p = r->off->bytes + at;
	memcpy(p, &h, sizeof(h));
	p += VNET_HDR_LEN;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	mw_tso_commit(e, (uint32_t)at, VNET_HDR_LEN + len, (uint32_t)((len - h.hdr_len + gso_size - 1) / gso_size));
	return 0;
}

/* The same in one piece. */
static int mw_tso_send_gso(struct synack_link *l, const void *frame, size_t len, uint16_t gso_size)
{
	struct iovec iov = { (void *)(uintptr_t)frame, len };

	return mw_tso_send_gso_iov(l, &iov, 1, len, gso_size);
}

/* The next frame whole, as GRO hands a merged skb up, and what its header
 * tells (a checksum left partial is one to trust, as veth's peer does);
 * sw_csum completes such a checksum instead, for a caller without meta. A
 * header that does not hold up drops its frame: this wire's sender is
 * vnet.c's merger, so that would be a bug there. */
static int mw_tso_take(struct mw_end *e, void *buf, size_t cap, bool sw_csum, struct synack_rx_meta *meta)
{
	struct mw_ring *r = &e->wire->dir[!e->side];
	struct mw_tso_ring *o = r->off;

	while (!mw_empty(r)) {
		uint32_t i = r->head++ % MW_SLOTS;
		uint8_t *frame = o->bytes + o->at[i] + VNET_HDR_LEN;
		size_t len = o->len[i] - VNET_HDR_LEN;
		struct virtio_net_hdr h;
		bool csum_done;

		memcpy(&h, o->bytes + o->at[i], sizeof(h));
		memset(meta, 0, sizeof(*meta));
		if (vnet_rx_check(&h, frame, len, e->link.mtu, sw_csum, meta, &csum_done) < 0) {
			r->drops++;
			continue;
		}
		if (len > cap)
			len = cap;
		memcpy(buf, frame, len);
		return (int)len;
	}
	return 0;
}

static int mw_tso_recv_meta(struct synack_link *l, void *buf, size_t cap, struct synack_rx_meta *meta)
{
	return mw_tso_take((struct mw_end *)l, buf, cap, false, meta);
}

static int mw_tso_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct synack_rx_meta meta;

	return mw_tso_take((struct mw_end *)l, buf, cap, true, &meta);
}

static const struct synack_link_ops mw_tso_link_ops = {
	.kind = "memwire-offload", .send = mw_tso_send, .recv = mw_tso_recv, .wait_fd = mw_link_wait_fd,
	.next_deadline = mw_link_next_deadline, .destroy = mw_link_destroy, .recv_meta = mw_tso_recv_meta,
	.send_more = mw_tso_send_more, .flush = mw_tso_flush, .send_gso = mw_tso_send_gso,
	.send_gso_iov = mw_tso_send_gso_iov,
};

/* ------------------------------------------------------------ setup */

static inline void mw_end_init(struct mw_wire *w, int s, const struct synack_link_ops *ops)
{
	w->end[s].wire = w;
	w->end[s].side = s;
	w->end[s].link.ops = ops;
	w->end[s].link.mtu = 1500;
	w->end[s].link.features = SYNACK_LINK_F_GRO;    /* software GRO, as Linux runs on every NIC */
	memcpy(w->end[s].link.mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, (uint8_t)(s + 1) }, 6);
}

static inline int mw_wire_init(struct mw_wire *w)
{
	memset(w, 0, sizeof(*w));
	for (int s = 0; s < 2; s++) {
		w->dir[s].data = calloc(MW_SLOTS, MW_FRAME_CAP);
		if (!w->dir[s].data)
			return -1;
		mw_end_init(w, s, &mw_link_ops);
	}
	return 0;
}

/* The offloading wire, for two synack ends (lwIP's ring functions above
 * know only the plain slots). */
static inline int mw_wire_init_offload(struct mw_wire *w)
{
	memset(w, 0, sizeof(*w));
	for (int s = 0; s < 2; s++) {
		w->dir[s].off = calloc(1, sizeof(struct mw_tso_ring));
		if (!w->dir[s].off)
			return -1;
		w->dir[s].off->tso.csum_partial = true;
		mw_end_init(w, s, &mw_tso_link_ops);
		w->end[s].link.max_frame = VNET_MAX_FRAME;
		w->end[s].link.features = SYNACK_LINK_F_TX_CSUM | SYNACK_LINK_F_TSO | SYNACK_LINK_F_GRO;
	}
	return 0;
}

static inline void mw_wire_free(struct mw_wire *w)
{
	for (int s = 0; s < 2; s++) {
		free(w->dir[s].data);       /* or off: the same pointer */
		w->dir[s].data = NULL;
	}
}

static inline void mw_trace(struct mw_wire *w, bool on) { w->dir[0].trace = w->dir[1].trace = on; }

static inline uint64_t mw_frames(const struct mw_wire *w) { return w->dir[0].frames + w->dir[1].frames; }
static inline uint64_t mw_drops(const struct mw_wire *w) { return w->dir[0].drops + w->dir[1].drops; }

#endif
