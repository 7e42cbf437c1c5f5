/* The Internet checksum (RFC 1071), summed 64 bits at a time. */
#ifndef SYNACK_NET_CHECKSUM_H
#define SYNACK_NET_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

/* One's-complement partial sum of buf added to sum (not folded). The bytes
 * are summed as big-endian 16-bit words (odd length: the last byte is the
 * high half of a final word); result in host order, unfolded. */
uint64_t csum_partial(const void *buf, size_t len, uint64_t sum);
/* sum plus the partial sum add of a block that starts offset bytes into
 * the summed data (Linux: csum_block_add): a block at an odd offset has the
 * halves of its words swapped, which multiplies its sum by 2^8 modulo
 * 2^16 - 1, as rotating the unfolded 64-bit sum left by 8 does (2^16 - 1
 * divides 2^64 - 1). */
static inline uint64_t csum_block_add(uint64_t sum, uint64_t add, size_t offset)
{
	uint64_t r;

	if (offset & 1)
		add = (add << 8) | (add >> 56);
	r = sum + add;
	return r + (r < add);
}
/* Fold to 16 bits and complement: the value to store (host order). Inline,
 * as the pseudo-header sum below: a call costs as much as the work. */
static inline uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffULL) + (sum >> 32);
	sum = (sum & 0xffffffffULL) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
/* Checksum of a buffer, ready to store (host order; htons before writing). */
static inline uint16_t ip_compute_csum(const void *buf, size_t len) { return csum_fold(csum_partial(buf, len, 0)); }
/* ip_compute_csum of an IPv4 header of ihl 32-bit words (Linux:
 * ip_fast_csum): at most 15 words add into 64 bits without a carry to track.
 * The usual 20-byte header is summed unrolled. */
static inline uint16_t ip_fast_csum(const void *iph, unsigned int ihl)
{
	const uint8_t *p = iph;
	uint32_t w[5];
	uint64_t sum;

	memcpy(w, p, sizeof(w));
	sum = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	for (unsigned int i = 5; i < ihl; i++) {
		uint32_t x;

		memcpy(&x, p + 4 * i, 4);
		sum += x;
	}
	/* Native-order words: swap once to network order, as csum_partial. */
	return (uint16_t)ntohs(csum_fold(sum));
}
/* The TCP/UDP pseudo-header sum (addresses in network byte order): each
 * 32-bit value may be added whole, since 2^16 is 1 modulo 2^16 - 1, and
 * their total fits 64 bits beside any folded or 16-bit-word sum. */
static inline uint64_t csum_tcpudp_nofold(uint32_t saddr, uint32_t daddr, uint32_t len, uint8_t proto, uint64_t sum)
{
	uint64_t r = sum + ((uint64_t)ntohl(saddr) + ntohl(daddr) + len + proto);

	return r + (r < sum);
}

#endif
