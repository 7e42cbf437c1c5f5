/* The Internet checksum (RFC 1071), summed 64 bits at a time. */
#ifndef SYNACK_NET_CHECKSUM_H
#define SYNACK_NET_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's-complement partial sum of buf added to sum (not folded). The bytes
 * are summed as big-endian 16-bit words (odd length: the last byte is the
 * high half of a final word); result in host order, unfolded. */
uint64_t csum_partial(const void *buf, size_t len, uint64_t sum);
/* Fold to 16 bits and complement: the value to store (host order). */
uint16_t csum_fold(uint64_t sum);
/* Checksum of a buffer, ready to store (host order; htons before writing). */
static inline uint16_t ip_compute_csum(const void *buf, size_t len) { return csum_fold(csum_partial(buf, len, 0)); }
/* The TCP/UDP pseudo-header sum (addresses in network byte order). */
uint64_t csum_tcpudp_nofold(uint32_t saddr, uint32_t daddr, uint32_t len, uint8_t proto, uint64_t sum);

#endif
