/*
 * virtio-net headers on a TAP device (see vnet.h). The kernel is the other
 * end of the header, but what it describes is a frame from the wire, so
 * every offset it gives is checked against the frame before it is used.
 */
#include "link/vnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "link/link.h"
#include "net/checksum.h"
#include "net/ip.h"

#define TCP_CSUM_OFFSET 16u     /* of the checksum in the TCP header */
#define TCP_FLAGS_OFFSET 13u
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define PROTO_TCP 6

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

static void put16(uint8_t *p, uint16_t host)
{
	uint16_t v = htons(host);

	memcpy(p, &v, sizeof(v));
}

/* Fill in a checksum the kernel left partial: the field already holds the
 * pseudo-header sum, so summing from csum_start over it gives the whole. */
static void csum_complete(uint8_t *frame, size_t len, uint32_t start, uint32_t off)
{
	put16(frame + start + off, csum_fold(csum_partial(frame + start, len - start, 0)));
}

/* A partial checksum for TCP at the one place it can be. */
static bool csum_is_tcp4(const struct virtio_net_hdr *h, const uint8_t *frame, size_t len)
{
	uint32_t ihl, thl;

	return tcp4_frame_headers(frame, len, &ihl, &thl) && get16(frame + ETH_HDR_LEN + 2) == len - ETH_HDR_LEN &&
	       h->csum_start == ETH_HDR_LEN + ihl && h->csum_offset == TCP_CSUM_OFFSET;
}

/* The checksum flags of a frame without GSO. */
static int rx_csum(const struct virtio_net_hdr *h, uint8_t *frame, size_t len, bool sw_csum,
		   struct synack_rx_meta *meta, bool *csum_done)
{
	uint32_t ihl, thl, start = h->csum_start, off = h->csum_offset;

	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (start < ETH_HDR_LEN || start > len || off > len - start || len - start - off < 2)
			return -EBADMSG;
		if (!sw_csum && csum_is_tcp4(h, frame, len)) {
			meta->flags |= SYNACK_RX_CSUM_OK;
		} else {
			csum_complete(frame, len, start, off);
			*csum_done = true;
		}
		return 0;
	}
	if ((h->flags & VIRTIO_NET_HDR_F_DATA_VALID) && tcp4_frame_headers(frame, len, &ihl, &thl))
		meta->flags |= SYNACK_RX_CSUM_OK;
	return 0;
}

int vnet_rx_check(const struct virtio_net_hdr *h, uint8_t *frame, size_t len, uint32_t mtu, bool sw_csum,
		  struct synack_rx_meta *meta, bool *csum_done)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	*csum_done = false;
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return -EBADMSG;
	if (gso == VIRTIO_NET_HDR_GSO_NONE) {
		if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return -EBADMSG;
		if (len > (size_t)mtu + ETH_HDR_LEN)
			return -EMSGSIZE;
		return rx_csum(h, frame, len, sw_csum, meta, csum_done);
	}
	/* Only TCPV4 was offered (TUNSETOFFLOAD); GSO always leaves the
	 * checksum partial, at the TCP header, over a frame whose IP length
	 * covers it all. */
	if (gso != VIRTIO_NET_HDR_GSO_TCPV4 || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !h->gso_size ||
	    !csum_is_tcp4(h, frame, len))
		return -EBADMSG;
	if (sw_csum) {
		csum_complete(frame, len, h->csum_start, h->csum_offset);
		*csum_done = true;
	} else {
		meta->flags |= SYNACK_RX_CSUM_OK;
	}
	meta->gso_size = h->gso_size;
	return 0;
}

/* ------------------------------------------------------------ transmit */

/* A segment that may be merged: TCP/IPv4 with data, no link padding, and
 * only ACK, PSH and FIN set (the flags segmentation knows how to split). */
static bool tso_segment(const uint8_t *f, size_t len, uint32_t *ihl, uint32_t *hlen, uint32_t *payload)
{
	uint32_t thl;
	uint8_t flags;

	if (!tcp4_frame_headers(f, len, ihl, &thl) || get16(f + ETH_HDR_LEN + 2) != len - ETH_HDR_LEN)
		return false;
	flags = f[ETH_HDR_LEN + *ihl + TCP_FLAGS_OFFSET];
	if (!(flags & TCP_ACK) || (flags & ~(TCP_ACK | TCP_PSH | TCP_FIN)))
		return false;
	*hlen = ETH_HDR_LEN + *ihl + thl;
	*payload = (uint32_t)len - *hlen;
	return *payload > 0;
}

static bool same_range(const uint8_t *a, const uint8_t *b, uint32_t from, uint32_t to)
{
	return memcmp(a + from, b + from, to - from) == 0;
}

/* Headers equal but for what segmentation rewrites: IP length, ID and
 * checksum; TCP sequence, flags and checksum. */
static bool tso_same_flow(const uint8_t *a, const uint8_t *b, uint32_t ihl, uint32_t hlen)
{
	uint32_t ip = ETH_HDR_LEN, tcp = ETH_HDR_LEN + ihl;

	return same_range(a, b, 0, ip + 2) &&                    /* Ethernet, version, TOS */
	       same_range(a, b, ip + 6, ip + 10) &&              /* fragment bits, TTL, protocol */
	       same_range(a, b, ip + 12, tcp + 4) &&             /* addresses, options, ports */
	       same_range(a, b, tcp + 8, tcp + TCP_FLAGS_OFFSET) && /* ACK number, data offset */
	       same_range(a, b, tcp + 14, tcp + TCP_CSUM_OFFSET) && /* window */
	       same_range(a, b, tcp + TCP_CSUM_OFFSET + 2, hlen);  /* urgent pointer, options */
}

static void tso_start(struct vnet_tso *t, const uint8_t *f, size_t len, uint32_t ihl, uint32_t hlen,
		      uint32_t payload)
{
	const uint8_t *th = f + ETH_HDR_LEN + ihl;

	memcpy(t->buf + VNET_HDR_LEN, f, len);
	t->len = (uint32_t)len;
	t->hlen = hlen;
	t->seg_size = payload;
	t->segs = 1;
	t->next_seq = get32(th + 4) + payload;
	t->closed = (th[TCP_FLAGS_OFFSET] & (TCP_PSH | TCP_FIN)) != 0;
}

bool vnet_tso_add(struct vnet_tso *t, const uint8_t *f, size_t len)
{
	uint8_t *held = t->buf + VNET_HDR_LEN;
	uint32_t ihl, hlen, payload;
	const uint8_t *th;

	if (!tso_segment(f, len, &ihl, &hlen, &payload))
		return false;
	if (!t->len) {
		tso_start(t, f, len, ihl, hlen, payload);
		return true;
	}
	th = f + ETH_HDR_LEN + ihl;
	/* Every segment but the last must be seg_size long: that is how the
	 * kernel cuts the frame up again. */
	if (t->closed || hlen != t->hlen || get32(th + 4) != t->next_seq || payload > t->seg_size ||
	    t->len + payload > VNET_MAX_FRAME || !tso_same_flow(held, f, ihl, hlen))
		return false;
	memcpy(held + t->len, f + hlen, payload);
	t->len += payload;
	t->segs++;
	t->next_seq += payload;
	/* Segmentation puts PSH and FIN on the last segment only: the merged
	 * header carries the last one's flags. */
	held[ETH_HDR_LEN + ihl + TCP_FLAGS_OFFSET] = th[TCP_FLAGS_OFFSET];
	t->closed = payload < t->seg_size || (th[TCP_FLAGS_OFFSET] & (TCP_PSH | TCP_FIN));
	return true;
}

/* The header of a TCPv4 super-frame: the kernel finishes the checksum
 * from csum_start and cuts the payload after hdr_len into gso_size pieces. */
static void gso_hdr_fill(struct virtio_net_hdr *h, uint32_t ihl, uint32_t hdr_len, uint16_t gso_size)
{
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->hdr_len = (uint16_t)hdr_len;
	h->gso_size = gso_size;
	h->csum_start = (uint16_t)(ETH_HDR_LEN + ihl);
	h->csum_offset = TCP_CSUM_OFFSET;
}

/* Rewrite the first segment's headers for the whole frame. The TCP
 * checksum becomes the pseudo-header sum alone (not complemented), as
 * CHECKSUM_PARTIAL wants it: the kernel finishes it per segment. */
static void tso_fix_headers(struct vnet_tso *t, struct virtio_net_hdr *h)
{
	uint8_t *f = t->buf + VNET_HDR_LEN, *ip = f + ETH_HDR_LEN;
	uint32_t ihl = (ip[0] & 0x0fu) * 4u, tcp_len = t->len - ETH_HDR_LEN - ihl;
	uint32_t saddr, daddr;

	put16(ip + 2, (uint16_t)(t->len - ETH_HDR_LEN));
	put16(ip + 10, 0);
	put16(ip + 10, ip_compute_csum(ip, ihl));
	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	put16(ip + ihl + TCP_CSUM_OFFSET, (uint16_t)~csum_fold(csum_tcpudp_nofold(saddr, daddr, tcp_len, PROTO_TCP, 0)));
	gso_hdr_fill(h, ihl, t->hlen, (uint16_t)t->seg_size);
}

void vnet_tx_hdr(const uint8_t *frame, size_t len, bool csum_partial, struct virtio_net_hdr *h)
{
	uint32_t ihl, thl;

	memset(h, 0, sizeof(*h));
	if (!csum_partial || !tcp4_frame_headers(frame, len, &ihl, &thl))
		return;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)(ETH_HDR_LEN + ihl);
	h->csum_offset = TCP_CSUM_OFFSET;
}

bool vnet_gso_hdr(const uint8_t *frame, size_t len, uint16_t gso_size, struct virtio_net_hdr *h)
{
	uint32_t ihl, thl;

	memset(h, 0, sizeof(*h));
	if (!gso_size || !tcp4_frame_headers(frame, len, &ihl, &thl))
		return false;
	gso_hdr_fill(h, ihl, ETH_HDR_LEN + ihl + thl, gso_size);
	return true;
}

bool vnet_gso_hdr_iov(const struct iovec *iov, int iovcnt, size_t len, uint16_t gso_size, struct virtio_net_hdr *h)
{
	const uint8_t *f;
	size_t total = 0, first;
	uint32_t ihl;

	memset(h, 0, sizeof(*h));
	if (!iov || iovcnt < 1)
		return false;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > len - total || (iov[i].iov_len && !iov[i].iov_base))
			return false;
		total += iov[i].iov_len;
	}
	f = iov[0].iov_base;
	first = iov[0].iov_len;
	/* The header lengths are read before vnet_gso_hdr reads past them. */
	if (total != len || first < ETH_HDR_LEN + 20)
		return false;
	ihl = (uint32_t)(f[ETH_HDR_LEN] & 0x0f) * 4u;
	if (ihl < 20 || first < ETH_HDR_LEN + ihl + 20 ||
	    first < ETH_HDR_LEN + ihl + (uint32_t)(f[ETH_HDR_LEN + ihl + 12] >> 4) * 4u)
		return false;
	return vnet_gso_hdr(f, len, gso_size, h);
}

size_t vnet_tso_finish(struct vnet_tso *t, uint32_t *segs)
{
	struct virtio_net_hdr h;
	size_t n;

	if (!t->len)
		return 0;
	/* One segment goes as it is, its checksum whole or left to the device. */
	if (t->segs > 1)
		tso_fix_headers(t, &h);
	else
		vnet_tx_hdr(t->buf + VNET_HDR_LEN, t->len, t->csum_partial, &h);
	memcpy(t->buf, &h, sizeof(h));
	n = VNET_HDR_LEN + t->len;
	if (segs)
		*segs = t->segs;
	t->len = 0;
	t->segs = 0;
	t->closed = false;
	return n;
}
