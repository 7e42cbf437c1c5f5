/*
 * fuzz_frame: one Ethernet frame into a stack in a known state.
 *
 * The world (world.h) is set up the same way for every input, on a virtual
 * clock with a seeded stack, so the sequence numbers, timestamps and ports
 * the seeds carry (fuzz/gen_seeds.c) are right:
 *   - a listener on 8080 with one request sock in SYN_RECV (peer port 50001);
 *   - an accepted connection from 192.0.2.2:50000, ESTABLISHED, with three
 *     unacknowledged segments in flight and out-of-order data queued;
 *   - a TIME-WAIT minisock for 192.0.2.2:50002;
 *   - a connect() to 192.0.2.2:80 in SYN_SENT.
 * The input is one control byte and the frame. Control bit 0 recomputes the
 * IPv4 header checksum and bit 1 the TCP/UDP/ICMP checksum before the frame
 * goes in (a mutated header would otherwise almost never get past the
 * checksum checks); with both clear the frame goes in exactly as given.
 * Bit 2 turns software GRO on and sends the frame four times in one burst,
 * each copy's TCP sequence number advanced by the frame's payload and its
 * IP ID by one over the one before (checksums fixed as for the first), so
 * GRO gets to merge, and the fourth is received in place behind the run.
 * After it the clock runs 2 s so the timers the frame armed or changed fire.
 * The frame must never crash, leak or read out of bounds, and everything the
 * stack sends in reply must be well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The copy GRO may append to f: the next segment, if f looks like TCP/IPv4. */
static void next_segment(uint8_t *f, size_t len)
{
	uint32_t ihl, tot, thl, seq, id;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return;
	ihl = (f[14] & 0x0fu) * 4u;
	tot = (uint32_t)f[16] << 8 | f[17];
	if (ihl < 20 || len < 14 + ihl + 20 || f[23] != 6)
		return;
	thl = (uint32_t)(f[14 + ihl + 12] >> 4) * 4u;
	id = ((uint32_t)f[18] << 8 | f[19]) + 1;
	f[18] = (uint8_t)(id >> 8);
	f[19] = (uint8_t)id;
	if (tot < ihl + thl)
		return;
	seq = ((uint32_t)f[14 + ihl + 4] << 24 | (uint32_t)f[14 + ihl + 5] << 16 | (uint32_t)f[14 + ihl + 6] << 8 |
	       f[14 + ihl + 7]) + (tot - ihl - thl);
	for (int i = 0; i < 4; i++)
		f[14 + ihl + 4 + i] = (uint8_t)(seq >> (24 - 8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world_opts o = { .seed = 1 };
	struct w_setup su;
	uint8_t frame[W_MAXFRAME], copy[W_MAXFRAME], next[W_MAXFRAME], ctl = size ? data[0] : 0;
	size_t len = size ? size - 1 : 0;
	struct world *w;

	if (len > sizeof(frame))
		len = sizeof(frame);
	memcpy(frame, data + 1, len);
	memcpy(copy, frame, len);
	w_fix_checksums(frame, len, ctl & 1, ctl & 2);
	o.gro = (ctl & 4) != 0;
	w = world_new(&o);
	if (!w_setup_frame_world(w, &su))
		w_fail(w, "fuzz_frame: the setup did not reach its states", NULL, 0);
	if (o.gro) {
		w_queue(w, frame, len);
		for (int i = 0; i < 3; i++) {
			next_segment(copy, len);
			memcpy(next, copy, len);
			w_fix_checksums(next, len, ctl & 1, ctl & 2);
			w_queue(w, next, len);
		}
		w_pump(w);
	} else {
		w_inject(w, frame, len);
	}
	w_advance(w, 2 * W_SEC);
	world_free(w);
	return 0;
}
