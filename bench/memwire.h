/*
 * The benchmarks' in-memory Ethernet wire: two rings of frames, one per
 * direction, and nothing else - no clock, no faults, no allocation per
 * frame. A frame is copied in when one end sends it and copied out when the
 * other end receives it, as a NIC driver would; both stacks under test (synack
 * and lwIP) pay exactly these two copies per frame.
 *
 * It replaces the sim wire (src/link/sim.c) where the sim wire's own cost
 * would blur the figure: the sim wire draws six random numbers, mallocs,
 * heap-sorts and frees every frame (`handshake --link sim` measures it).
 *
 * End 0 is 02:00:00:00:00:01, end 1 02:00:00:00:00:02, as on the sim wire.
 * Header-only (static functions): each bench is one executable.
 */
#ifndef SYNACK_BENCH_MEMWIRE_H
#define SYNACK_BENCH_MEMWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "synack/synack.h"

#define MW_SLOTS 4096u                      /* frames in flight per direction */
#define MW_FRAME_CAP 1536u                  /* 1500-byte MTU + Ethernet header, rounded */

struct mw_ring {
	uint32_t head, tail;                /* tail - head frames queued (free-running) */
	bool trace;                         /* print each frame as it is sent (tcpdump style) */
	/* synack's ends only: frames for which this returns true are dropped
	 * as they are sent (counted in filtered). */
	bool (*filter)(const uint8_t *frame, size_t len);
	uint64_t filtered;
	uint16_t len[MW_SLOTS];
	uint8_t (*data)[MW_FRAME_CAP];
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

	if (r->filter && r->filter(frame, len)) {
		r->filtered++;
		return 0;
	}
	return mw_push(r, frame, len);
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
	.next_deadline = mw_link_next_deadline, .destroy = mw_link_destroy,
};

static inline int mw_wire_init(struct mw_wire *w)
{
	memset(w, 0, sizeof(*w));
	for (int s = 0; s < 2; s++) {
		w->dir[s].data = calloc(MW_SLOTS, MW_FRAME_CAP);
		if (!w->dir[s].data)
			return -1;
		w->end[s].wire = w;
		w->end[s].side = s;
		w->end[s].link.ops = &mw_link_ops;
		w->end[s].link.mtu = 1500;
		memcpy(w->end[s].link.mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, (uint8_t)(s + 1) }, 6);
	}
	return 0;
}

static inline void mw_wire_free(struct mw_wire *w)
{
	free(w->dir[0].data);
	free(w->dir[1].data);
	w->dir[0].data = w->dir[1].data = NULL;
}

static inline void mw_trace(struct mw_wire *w, bool on) { w->dir[0].trace = w->dir[1].trace = on; }

static inline uint64_t mw_frames(const struct mw_wire *w) { return w->dir[0].frames + w->dir[1].frames; }
static inline uint64_t mw_drops(const struct mw_wire *w) { return w->dir[0].drops + w->dir[1].drops; }

#endif
