/*
 * Keyed hashes that make a connection's ISN, timestamp offset and ephemeral
 * port unpredictable to an off-path attacker (Linux: net/core/secure_seq.c).
 *
 * Linux hands siphash the raw 32-bit values of its __be32 addresses and
 * __be16 ports. synack keeps addresses in network order already, so they go
 * in as stored; ports are kept in host order, so htons() turns them back
 * into the value Linux's __be16 holds. On a little-endian host the hash
 * inputs are thus exactly Linux's.
 *
 * synack has no wall clock: the time terms run on the stack's clock
 * (stack_now), which for a virtual clock starts where the test says.
 */
#include <arpa/inet.h>
#include "core/compiler.h"
#include "core/siphash.h"
#include "core/stack.h"
#include "tcp/tcp.h"

/* How long one ephemeral-port hash stays the same (Linux:
 * EPHEMERAL_PORT_SHUFFLE_PERIOD, 10 * HZ). */
#define EPHEMERAL_PORT_SHUFFLE_PERIOD_NS (10 * NSEC_PER_SEC)

/*
 * The ISN's clock component (Linux: seq_scale). A 64 ns tick keeps ISNs of
 * successive incarnations of a 4-tuple increasing, while the 2^32 sequence
 * space still takes about 274 s (more than an MSL) to wrap.
 */
static uint32_t seq_scale(const struct stack *st, uint32_t seq)
{
	return seq + (uint32_t)(stack_now(st) >> 6);
}

uint32_t secure_tcp_seq(struct stack *st, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport)
{
	uint32_t ports = (uint32_t)htons(sport) << 16 | htons(dport);
	uint32_t hash = (uint32_t)siphash_3u32(saddr, daddr, ports, &st->secrets.net_secret);

	return seq_scale(st, hash);
}

uint32_t secure_tcp_ts_off(struct stack *st, uint32_t saddr, uint32_t daddr)
{
	/* Mode 2 (timestamps without random offsets) and off both send raw
	 * clock values, so the offset is 0. */
	if (st->sysctl.tcp_timestamps != 1)
		return 0;
	return (uint32_t)siphash_2u32(saddr, daddr, &st->secrets.ts_secret);
}

uint64_t secure_ipv4_port_ephemeral(struct stack *st, uint32_t saddr, uint32_t daddr, uint16_t dport)
{
	/* The time bucket re-keys the search start every 10 s, so what an
	 * observer learns of it from one connection soon stops applying. */
	uint32_t bucket = (uint32_t)(stack_now(st) / EPHEMERAL_PORT_SHUFFLE_PERIOD_NS);

	return siphash_4u32(saddr, daddr, htons(dport), bucket, &st->secrets.net_secret);
}
