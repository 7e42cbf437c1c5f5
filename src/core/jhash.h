/*
 * Bob Jenkins' lookup3 final mix over three words (public domain), keyed by
 * a random initial value: the cheap hash Linux uses for its connection
 * table (inet_ehashfn's jhash_3words with inet_ehash_secret). SipHash stays
 * where an attacker reads the output (ISNs, cookies, IP IDs); a table index
 * only needs to be unpredictable enough that chains cannot be aimed at.
 */
#ifndef SYNACK_CORE_JHASH_H
#define SYNACK_CORE_JHASH_H

#include <stdint.h>

/* lookup3's arbitrary starting value. */
#define JHASH_GOLDEN 0xdeadbeefu

static inline uint32_t jhash_rol32(uint32_t w, unsigned int s) { return (w << s) | (w >> (32 - s)); }

/* lookup3's final(): every input bit reaches every output bit of c. */
static inline uint32_t jhash_final(uint32_t a, uint32_t b, uint32_t c)
{
	c ^= b;
	c -= jhash_rol32(b, 14);
	a ^= c;
	a -= jhash_rol32(c, 11);
	b ^= a;
	b -= jhash_rol32(a, 25);
	c ^= b;
	c -= jhash_rol32(b, 16);
	a ^= c;
	a -= jhash_rol32(c, 4);
	b ^= a;
	b -= jhash_rol32(a, 14);
	c ^= b;
	c -= jhash_rol32(b, 24);
	return c;
}

/* Three words (12 bytes of key material), as lookup3 hashes them. */
static inline uint32_t jhash_3words(uint32_t a, uint32_t b, uint32_t c, uint32_t initval)
{
	uint32_t iv = initval + JHASH_GOLDEN + (3u << 2);

	return jhash_final(a + iv, b + iv, c + iv);
}

static inline uint32_t jhash_1word(uint32_t a, uint32_t initval)
{
	uint32_t iv = initval + JHASH_GOLDEN + (1u << 2);

	return jhash_final(a + iv, iv, iv);
}

#endif
