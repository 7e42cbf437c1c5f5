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

/* A received frame (data at its Ethernet header): true if GRO took it (held
 * or merged, or handed up with what it completed); false: the caller hands
 * it up itself, after the frames of its flow GRO held. */
bool dev_gro_receive(struct stack *st, struct sk_buff *skb);
/* Hand up every held frame: at the end of a poll burst. */
void dev_gro_flush(struct stack *st);
/* Free the held frames without handing them up (teardown). */
void dev_gro_purge(struct stack *st);

#endif
