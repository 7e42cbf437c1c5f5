/*
 * The virtio-net header a TAP device opened with IFF_VNET_HDR puts before
 * every frame: checking the ones the kernel hands up, and merging the TCP
 * segments the stack sends into TSO super-frames. Pure functions over
 * buffers, so the unit tests can feed them anything (tests/unit/test_link_vnet.c).
 */
#ifndef SYNACK_LINK_VNET_H
#define SYNACK_LINK_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>
#include "synack/synack.h"

#define VNET_HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr))
/* The longest frame either way: a whole IPv4 datagram behind Ethernet. */
#define VNET_MAX_FRAME (14u + 65535u)

/*
 * Check a frame the kernel handed up with its header, and fill *meta:
 * 0 to deliver it; -EBADMSG for a header that is malformed, does not match
 * the frame, or asks for an offload never negotiated (the frame is to be
 * dropped and counted); -EMSGSIZE for a frame without GSO longer than
 * mtu + 14. With sw_csum, a checksum the kernel left partial is completed
 * here (for callers that cannot carry meta up) and *csum_done says so.
 */
int vnet_rx_check(const struct virtio_net_hdr *h, uint8_t *frame, size_t len, uint32_t mtu, bool sw_csum,
		  struct synack_rx_meta *meta, bool *csum_done);

/*
 * The transmit merger: consecutive TCP/IPv4 segments of one flow, whose
 * headers differ only where segmentation makes them differ (IP length, ID
 * and checksum; TCP sequence, checksum, and PSH/FIN on the last), become
 * one frame with a GSO header the kernel splits back (or takes whole, when
 * the frame is for itself).
 */
struct vnet_tso {
	uint8_t *buf;           /* VNET_HDR_LEN + VNET_MAX_FRAME bytes: header, then the frame */
	uint32_t len;           /* frame bytes held (after the header); 0: empty */
	uint32_t hlen;          /* Ethernet + IP + TCP header bytes */
	uint32_t seg_size;      /* payload of the first segment: gso_size */
	uint32_t segs;          /* segments held */
	uint32_t next_seq;      /* the sequence number that may follow (host order) */
	bool closed;            /* a short segment, PSH or FIN ended it */
	bool csum_partial;      /* the stack leaves TCP checksums to the device (SYNACK_LINK_F_TX_CSUM) */
};

/* The header of a frame that goes alone: with csum_partial, a TCP/IPv4
 * frame's checksum is marked for the kernel to finish; else nothing. */
void vnet_tx_hdr(const uint8_t *frame, size_t len, bool csum_partial, struct virtio_net_hdr *h);

/* The header of a super-frame the stack built whole (send_gso): false,
 * with *h zeroed, unless frame is TCP/IPv4 and gso_size is set. */
bool vnet_gso_hdr(const uint8_t *frame, size_t len, uint16_t gso_size, struct virtio_net_hdr *h);
/* vnet_gso_hdr for a super-frame in pieces (send_gso_iov): false unless the
 * pieces add up to len and the first holds every header. */
bool vnet_gso_hdr_iov(const struct iovec *iov, int iovcnt, size_t len, uint16_t gso_size, struct virtio_net_hdr *h);

/* Take the segment into the held frame: true, or false when it cannot
 * join (then flush, and try again: false on an empty merger means the
 * frame must go alone). */
bool vnet_tso_add(struct vnet_tso *t, const uint8_t *frame, size_t len);
/* Finish the held frame: its header and fixed-up headers in t->buf; the
 * byte count to write (header included), 0 if nothing was held. Empties t
 * for the next; *segs (may be NULL) gets the segments it carries. */
size_t vnet_tso_finish(struct vnet_tso *t, uint32_t *segs);

#endif
