/*
 * A wrapper that records every frame crossing a link into a classic pcap
 * file (microsecond timestamps, LINKTYPE_ETHERNET) that tcpdump, tshark and
 * Wireshark read. Each record is flushed at once so a crashed run still
 * leaves a readable capture.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/compiler.h"
#include "link/link.h"
#include "link/pcap.h"

struct pcap_link {
	struct synack_link link;    /* first: the public handle */
	struct synack_link *inner;  /* owned */
	struct synack_clock *clk;   /* not owned */
	FILE *f;
	struct synack_link_ops ops; /* pcap_ops, with what inner offers */
};

static struct pcap_link *to_pcap(struct synack_link *l)
{
	return container_of(l, struct pcap_link, link);
}

static int write_u32s(FILE *f, const uint32_t *v, size_t n)
{
	return fwrite(v, sizeof(*v), n, f) == n ? 0 : -EIO;
}

static int pcap_write_header(FILE *f)
{
	/* Written in host order: readers detect the byte order from the magic.
	 * Fields: magic, version 2.4 (two u16), thiszone, sigfigs, snaplen, linktype. */
	const uint16_t version[2] = { PCAP_VERSION_MAJOR, PCAP_VERSION_MINOR };
	const uint32_t magic = PCAP_MAGIC_USEC;
	const uint32_t rest[4] = { 0, 0, PCAP_SNAPLEN, PCAP_LINKTYPE_ETHERNET };

	if (write_u32s(f, &magic, 1) < 0 || fwrite(version, sizeof(version), 1, f) != 1 ||
	    write_u32s(f, rest, 4) < 0 || fflush(f) != 0)
		return -EIO;
	return 0;
}

/* A record's header for a frame of len bytes; *caplen: the bytes to follow. */
static int pcap_write_record_header(FILE *f, uint64_t ts_ns, size_t len, uint32_t *caplen)
{
	uint32_t hdr[4];

	*caplen = len > PCAP_SNAPLEN ? PCAP_SNAPLEN : (uint32_t)len;
	hdr[0] = (uint32_t)(ts_ns / NSEC_PER_SEC);
	hdr[1] = (uint32_t)(ts_ns % NSEC_PER_SEC / NSEC_PER_USEC);
	hdr[2] = *caplen;
	hdr[3] = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	return write_u32s(f, hdr, 4);
}

int pcap_write_record(FILE *f, uint64_t ts_ns, const void *frame, size_t len)
{
	uint32_t caplen;

	if (pcap_write_record_header(f, ts_ns, len, &caplen) < 0 || fwrite(frame, 1, caplen, f) != caplen ||
	    fflush(f) != 0)
		return -EIO;
	return 0;
}

/* A capture that cannot be written must not break the link, so write
 * errors are dropped here. */
static void pcap_record(struct pcap_link *p, const void *frame, size_t len)
{
	(void)pcap_write_record(p->f, synack_clock_now(p->clk), frame, len);
}

static int pcap_send(struct synack_link *l, const void *frame, size_t len)
{
	struct pcap_link *p = to_pcap(l);
	int err = p->inner->ops->send(p->inner, frame, len);

	if (err == 0)
		pcap_record(p, frame, len);
	return err;
}

static int pcap_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct pcap_link *p = to_pcap(l);
	int n = p->inner->ops->recv(p->inner, buf, cap);

	if (n > 0)
		pcap_record(p, buf, (size_t)n);
	return n;
}

/* The offload ops pass through, so a capture shows the frames as the
 * stack sent them (before merging) and as the device handed them up. */
static int pcap_send_more(struct synack_link *l, const void *frame, size_t len)
{
	struct pcap_link *p = to_pcap(l);
	int err = link_send_more(p->inner, frame, len);

	if (err == 0)
		pcap_record(p, frame, len);
	return err;
}

static int pcap_flush(struct synack_link *l)
{
	return link_flush(to_pcap(l)->inner);
}

/* A super-frame is captured whole, as tcpdump shows a TSO skb. */
static int pcap_send_gso(struct synack_link *l, const void *frame, size_t len, uint16_t gso_size)
{
	struct pcap_link *p = to_pcap(l);
	int err;

	if (!p->inner->ops->send_gso)
		return -EOPNOTSUPP;
	err = p->inner->ops->send_gso(p->inner, frame, len, gso_size);
	if (err == 0)
		pcap_record(p, frame, len);
	return err;
}

/* A record of a frame in pieces, as pcap_write_record of the whole. */
static void pcap_record_iov(struct pcap_link *p, const struct iovec *iov, int iovcnt, size_t len)
{
	uint32_t left;

	if (pcap_write_record_header(p->f, synack_clock_now(p->clk), len, &left) < 0)
		return;
	for (int i = 0; i < iovcnt && left; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

		if (fwrite(iov[i].iov_base, 1, n, p->f) != n)
			return;
		left -= n;
	}
	(void)fflush(p->f);
}

/* Only in the ops of a wrapper whose inner link has it. */
static int pcap_send_gso_iov(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len, uint16_t gso_size)
{
	struct pcap_link *p = to_pcap(l);
	int err = p->inner->ops->send_gso_iov(p->inner, iov, iovcnt, len, gso_size);

	if (err == 0)
		pcap_record_iov(p, iov, iovcnt, len);
	return err;
}

/* The same for a plain frame in pieces. */
static int pcap_send_iov(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len)
{
	struct pcap_link *p = to_pcap(l);
	int err = p->inner->ops->send_iov(p->inner, iov, iovcnt, len);

	if (err == 0)
		pcap_record_iov(p, iov, iovcnt, len);
	return err;
}

static int pcap_recv_meta(struct synack_link *l, void *buf, size_t cap, struct synack_rx_meta *meta)
{
	struct pcap_link *p = to_pcap(l);
	int n = link_recv_meta(p->inner, buf, cap, meta);

	if (n > 0)
		pcap_record(p, buf, (size_t)n);
	return n;
}

static int pcap_wait_fd(struct synack_link *l)
{
	return link_wait_fd(to_pcap(l)->inner);
}

static uint64_t pcap_next_deadline(struct synack_link *l)
{
	return link_next_deadline(to_pcap(l)->inner);
}

static void pcap_destroy(struct synack_link *l)
{
	struct pcap_link *p = to_pcap(l);

	synack_link_destroy(p->inner);
	fclose(p->f);
	free(p);
}

static const struct synack_link_ops pcap_ops = {
	.kind = "pcap",
	.send = pcap_send,
	.recv = pcap_recv,
	.wait_fd = pcap_wait_fd,
	.next_deadline = pcap_next_deadline,
	.destroy = pcap_destroy,
	.recv_meta = pcap_recv_meta,
	.send_more = pcap_send_more,
	.flush = pcap_flush,
	.send_gso = pcap_send_gso,
};

/* On failure inner is left alone and still belongs to the caller. */
int synack_pcap_wrap(struct synack_link *inner, struct synack_clock *clk, const char *path,
		     struct synack_link **out)
{
	struct pcap_link *p;
	int err;

	if (!link_usable(inner) || !clk || !path || !*path || !out)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->f = fopen(path, "wbe");
	if (!p->f) {
		err = errno ? -errno : -EIO;
		free(p);
		return err;
	}
	err = pcap_write_header(p->f);
	if (err < 0) {
		fclose(p->f);
		free(p);
		return err;
	}
	p->inner = inner;
	p->clk = clk;
	/* Pieces pass through only to a link that takes them. */
	p->ops = pcap_ops;
	if (inner->ops->send_gso_iov)
		p->ops.send_gso_iov = pcap_send_gso_iov;
	if (inner->ops->send_iov)
		p->ops.send_iov = pcap_send_iov;
	p->link.ops = &p->ops;
	p->link.mtu = inner->mtu;
	p->link.max_frame = link_max_frame(inner);
	p->link.features = inner->features;
	if (!inner->ops->send_gso)
		p->link.features &= ~SYNACK_LINK_F_TSO;
	memcpy(p->link.mac, inner->mac, sizeof(p->link.mac));
	*out = &p->link;
	return 0;
}
