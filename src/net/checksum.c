/*
 * The Internet checksum. One's-complement addition does not care about byte
 * order as long as both halves of every word are swapped alike, so the
 * buffer is summed in native-order 64-bit chunks and, on a little-endian
 * host, the sum is turned to big-endian word order once at the end (RFC
 * 1071, section 2).
 */
#include "net/checksum.h"

#include <arpa/inet.h>
#include <string.h>

/* a + b with the carry out of bit 63 added back in (end-around carry). */
static uint64_t add_carry64(uint64_t a, uint64_t b)
{
	uint64_t r = a + b;

	return r + (r < b);
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* Whole 128-byte blocks in one add-with-carry chain: the carry flag does
 * the end-around work the portable loop below counts by hand, at about
 * half its instructions per byte. lea and dec leave the carry flag alone,
 * so the chain runs across iterations. */
static uint64_t sum_blocks64(const uint8_t **pp, size_t *lenp)
{
	size_t blocks = *lenp / 128;
	const uint8_t *p = *pp;
	uint64_t sum = 0;

	if (blocks == 0)
		return 0;
	__asm__("clc\n\t"
		"1:\n\t"
		"adcq 0(%[p]), %[s]\n\t"
		"adcq 8(%[p]), %[s]\n\t"
		"adcq 16(%[p]), %[s]\n\t"
		"adcq 24(%[p]), %[s]\n\t"
		"adcq 32(%[p]), %[s]\n\t"
		"adcq 40(%[p]), %[s]\n\t"
		"adcq 48(%[p]), %[s]\n\t"
		"adcq 56(%[p]), %[s]\n\t"
		"adcq 64(%[p]), %[s]\n\t"
		"adcq 72(%[p]), %[s]\n\t"
		"adcq 80(%[p]), %[s]\n\t"
		"adcq 88(%[p]), %[s]\n\t"
		"adcq 96(%[p]), %[s]\n\t"
		"adcq 104(%[p]), %[s]\n\t"
		"adcq 112(%[p]), %[s]\n\t"
		"adcq 120(%[p]), %[s]\n\t"
		"leaq 128(%[p]), %[p]\n\t"
		"decq %[n]\n\t"
		"jnz 1b\n\t"
		"adcq $0, %[s]"
		: [s] "+r"(sum), [p] "+r"(p), [n] "+r"(blocks)
		:
		: "cc", "memory"); /* reads the buffer: no stale store may be left */
	*lenp -= (size_t)(p - *pp);
	*pp = p;
	return sum;
}
#else
static uint64_t sum_blocks64(const uint8_t **pp, size_t *lenp)
{
	(void)pp;
	(void)lenp;
	return 0;
}
#endif

/* Sum of the buffer's 16-bit words in native byte order, unfolded. */
static uint64_t sum_native(const uint8_t *p, size_t len)
{
	uint64_t sum = sum_blocks64(&p, &len);
	uint64_t carries = 0;
	uint64_t v;

	/* Four independent adds per iteration; carries are counted rather
	 * than folded in at once so the additions do not chain. */
	while (len >= 32) {
		uint64_t a = load64(p), b = load64(p + 8), c = load64(p + 16), d = load64(p + 24);

		sum += a;
		carries += sum < a;
		sum += b;
		carries += sum < b;
		sum += c;
		carries += sum < c;
		sum += d;
		carries += sum < d;
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		v = load64(p);
		sum += v;
		carries += sum < v;
		p += 8;
		len -= 8;
	}
	/* The tail in fixed-size loads (no variable-length copy): at most
	 * 4 + 2 + 1 bytes, whose sum cannot carry out of 64 bits with sum's. */
	v = 0;
	if (len & 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		v += w;
		p += 4;
	}
	if (len & 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		v += h;
		p += 2;
	}
	if (len & 1) {
		/* Zero padding puts an odd last byte at an even offset: the
		 * first (high, in network order) byte of its word. */
		uint16_t h = 0;

		memcpy(&h, p, 1);
		v += h;
	}
	sum += v;
	carries += sum < v;
	return add_carry64(sum, carries);
}

uint64_t csum_partial(const void *buf, size_t len, uint64_t sum)
{
	uint64_t native = sum_native(buf, len);

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Swapping the bytes of every 16-bit word multiplies the sum by 2^8
	 * modulo 2^16 - 1, and so does rotating the whole 64-bit sum left by
	 * 8 (2^16 - 1 divides 2^64 - 1): one rotate turns the native-order
	 * sum into a network-order one, with no fold. */
	native = (native << 8) | (native >> 56);
#endif
	return add_carry64(sum, native);
}
