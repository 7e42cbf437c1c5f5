/* Software GRO for TCP/IPv4 (gro.c; Linux: dev_gro_receive, napi_gro_flush). */
#ifndef SYNACK_NET_GRO_H
#define SYNACK_NET_GRO_H

#include <stdbool.h>
#include <stdint.h>

struct stack;
struct sk_buff;

/* Flows held at once within a poll burst (Linux: MAX_GRO_SKBS). */
#define GRO_MAX_HELD 8

/* A frame being merged: the first segment's frame, the payload appended. */
struct gro_flow {
	struct sk_buff *skb;
	uint32_t next_seq;          /* the sequence number the next segment must have */
	uint16_t mss;               /* the first segment's payload: gso_size */
	uint16_t segs;
	uint16_t last_id;           /* the IP ID of the last segment merged */
};

/* Frames a flow must have merged in a row before the next is received in
 * place: two flows taking turns never are. */
#define GRO_PLACE_RUN 2
/* The most header bytes a frame received in place has: Ethernet, a 20-byte
 * IP header, TCP with options. */
#define GRO_PLACE_HDR_MAX (14 + 20 + 60)

/* Where the next frame is to be received in place (dev_gro_place). */
struct gro_place {
	uint8_t *buf;               /* for the link's recv: cap bytes */
	uint32_t cap;
	uint32_t hdr;               /* the flow's header bytes, over the held frame's end */
	uint8_t saved[GRO_PLACE_HDR_MAX]; /* what they cover */
};

/* A received frame (data at its Ethernet header): true if GRO took it (held
 * or merged, or handed up with what it completed); false: the caller hands
 * it up itself, after the frames of its flow GRO held. */
bool dev_gro_receive(struct stack *st, struct sk_buff *skb);
/* Receiving in place (gro.c). dev_gro_place, once dev.gro_run has reached
 * GRO_PLACE_RUN (dev_rx_one looks first, inline): true, with *p set, when
 * the next frame should be received at p->buf. dev_gro_place_merge: the n-byte
 * frame the link put there merged (and the held frame's bytes are back);
 * false: nothing changed but the frame, which the caller copies out before
 * dev_gro_place_undo puts the held bytes back. */
struct synack_rx_meta;
bool dev_gro_place(struct stack *st, struct gro_place *p);
bool dev_gro_place_merge(struct stack *st, const struct gro_place *p, uint32_t n, const struct synack_rx_meta *meta);
void dev_gro_place_undo(const struct gro_place *p);
/* Hand up every held frame: at the end of a poll burst. */
void dev_gro_flush(struct stack *st);
/* Free the held frames without handing them up (teardown). */
void dev_gro_purge(struct stack *st);

#endif
