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
 * After it the clock runs 2 s so the timers the frame armed or changed fire.
 * The frame must never crash, leak or read out of bounds, and everything the
 * stack sends in reply must be well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world_opts o = { .seed = 1 };
	struct w_setup su;
	uint8_t frame[W_MAXFRAME], ctl = size ? data[0] : 0;
	size_t len = size ? size - 1 : 0;
	struct world *w;

	if (len > sizeof(frame))
		len = sizeof(frame);
	memcpy(frame, data + 1, len);
	w_fix_checksums(frame, len, ctl & 1, ctl & 2);
	w = world_new(&o);
	if (!w_setup_frame_world(w, &su))
		w_fail(w, "fuzz_frame: the setup did not reach its states", NULL, 0);
	w_inject(w, frame, len);
	w_advance(w, 2 * W_SEC);
	world_free(w);
	return 0;
}
