/* Helpers shared by the sending-side data tests (test_data_loss.c,
 * test_data_rack.c): the payload, TCP_INFO, the peer's ACKs with SACK
 * blocks, application writes and the EXPECT_DATA check. Everything is
 * static, so each test gets its own copy. */
#ifndef SYNACK_SCENARIO_DATA_HELPERS_H
#define SYNACK_SCENARIO_DATA_HELPERS_H

#include <string.h>
#include "../test.h"
#include "harness.h"

#define SEG 1448u
#define PEER_WIN (SC_PEER_WIN >> SC_PEER_WS)

static uint8_t payload[1 << 16];

static inline void fill_payload(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 29 + 5);
}

static inline struct synack_tcp_info tcp_info(struct sc *sc, int fd)
{
	struct synack_tcp_info ti;
	unsigned int len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	CHECK_EQ(synack_getsockopt(sc->st, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti;
}

#define B4(x) (uint8_t)((x) >> 24), (uint8_t)((x) >> 16), (uint8_t)((x) >> 8), (uint8_t)(x)

/* A pure ACK from the peer (ack at offset ackoff from iss + 1), with up to
 * three SACK blocks given as offsets [start, end) from iss + 1. */
static inline void peer_ack_sack(struct sc *sc, struct sc_conn *c, uint32_t ackoff, uint32_t ecr, int nblocks,
				 const uint32_t (*blocks)[2])
{
	struct sc_seg s = sc_seg_for(c, F_ACK, c->irs + 1, c->iss + 1 + ackoff);

	s.win = PEER_WIN;
	sc_seg_ts(&s, c->peer_ts++, ecr);
	if (nblocks) {
		uint8_t *o = s.opt + s.optlen;
		o[0] = 1;
		o[1] = 1;
		o[2] = 5;
		o[3] = (uint8_t)(2 + 8 * nblocks);
		for (int i = 0; i < nblocks; i++) {
			uint32_t a = c->iss + 1 + blocks[i][0], b = c->iss + 1 + blocks[i][1];
			const uint8_t v[8] = { B4(a), B4(b) };
			memcpy(o + 4 + 8 * i, v, 8);
		}
		s.optlen += 4 + 8 * (size_t)nblocks;
	}
	sc_inject(sc, &s);
}

static inline void peer_ack(struct sc *sc, struct sc_conn *c, uint32_t ackoff, uint32_t ecr)
{
	peer_ack_sack(sc, c, ackoff, ecr, 0, NULL);
}

static inline void app_send(struct sc *sc, struct sc_conn *c, uint32_t off, uint32_t len)
{
	CHECK_EQ(synack_send(sc->st, c->fd, payload + off, len, 0), len);
	sc_run(sc);
}

#define EXPECT_DATA(sc, c, off, n, ...)                                                                     \
	EXPECT((sc), .seq = V((c)->iss + 1 + (off)), .ack = V((c)->irs + 1), .len = V(n), .data = payload + (off), \
	       ##__VA_ARGS__)

#endif
