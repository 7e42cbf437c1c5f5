/*
 * A Linux TAP device: Ethernet frames to and from the kernel through
 * /dev/net/tun, without the packet-information header (IFF_NO_PI).
 *
 * With offloads (the default) every frame carries a virtio-net header
 * (IFF_VNET_HDR), as a virtual machine's NIC does: the kernel hands up
 * merged TCP frames of up to 64 KiB with their checksum left partial
 * (TUN_F_TSO4 | TUN_F_CSUM), which go up the stack whole, and the TCP
 * segments the stack sends in one burst (send_more) are merged into one
 * super-frame (link/vnet.c) that the kernel takes as one - where Linux
 * would have built one large skb in tcp_write_xmit to begin with. When the
 * kernel refuses the header or the offloads, plain frames are used.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include "core/compiler.h"
#include "link/link.h"
#include "link/vnet.h"

/* Malformed frames skipped in one recv before it reports none, so a
 * stream of them cannot hold the poll loop. */
#define TAP_RX_SKIP_MAX 8

struct tap_link {
	struct synack_link link;    /* first: the public handle */
	int fd;
	char ifname[IFNAMSIZ];
	bool vnet;                  /* frames carry a virtio-net header */
	struct vnet_tso tso;        /* vnet: the super-frame being built */
	uint8_t *rx_spill;          /* vnet: where a frame longer than the caller's buffer lands */
	struct synack_tap_stats stats;
};

static const struct synack_link_ops tap_ops;

static struct tap_link *to_tap(struct synack_link *l)
{
	return container_of(l, struct tap_link, link);
}

/* One frame (with its header, on a vnet device) in one writev. */
static int tap_write(struct tap_link *t, const struct iovec *iov, int iovcnt, size_t len)
{
	ssize_t n;

	do
		n = writev(t->fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* A frame on its own, behind its header on a vnet device: the stack left
 * a TCP frame's checksum for the kernel to finish (SYNACK_LINK_F_TX_CSUM). */
static int tap_write_frame(struct tap_link *t, const void *frame, size_t len)
{
	struct virtio_net_hdr h;
	struct iovec iov[2];

	if (!t->vnet) {
		iov[0] = (struct iovec){ (void *)(uintptr_t)frame, len };
		return tap_write(t, iov, 1, len);
	}
	vnet_tx_hdr(frame, len, t->tso.csum_partial, &h);
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ (void *)(uintptr_t)frame, len };
	return tap_write(t, iov, 2, sizeof(h) + len);
}

static int tap_flush(struct synack_link *l)
{
	struct tap_link *t = to_tap(l);
	struct iovec iov;
	uint32_t segs;
	size_t n;

	if (!t->vnet || !(n = vnet_tso_finish(&t->tso, &segs)))
		return 0;
	t->stats.tx_flushes++;
	if (segs > 1) {
		t->stats.tx_gso_frames++;
		t->stats.tx_gso_segs += segs;
	}
	iov = (struct iovec){ t->tso.buf, n };
	return tap_write(t, &iov, 1, n);
}

/* What was held goes before anything sent after it; a failed write of it
 * is a frame lost on the wire, which TCP repairs, so it is only counted. */
static void tap_flush_held(struct tap_link *t)
{
	if (tap_flush(&t->link) < 0)
		t->stats.tx_errors++;
}

static int tap_send(struct synack_link *l, const void *frame, size_t len)
{
	struct tap_link *t = to_tap(l);
	int err;

	err = link_check_frame(l, frame, len);
	if (err < 0)
		return err;
	tap_flush_held(t);
	return tap_write_frame(t, frame, len);
}

static int tap_send_more(struct synack_link *l, const void *frame, size_t len)
{
	struct tap_link *t = to_tap(l);
	int err;

	err = link_check_frame(l, frame, len);
	if (err < 0)
		return err;
	if (!t->vnet)
		return tap_write_frame(t, frame, len);
	if (vnet_tso_add(&t->tso, frame, len))
		return 0;
	tap_flush_held(t);
	if (vnet_tso_add(&t->tso, frame, len))
		return 0;
	return tap_write_frame(t, frame, len);
}

/* A super-frame the stack built (SYNACK_LINK_F_TSO): after what is held,
 * behind a GSO header the kernel segments by. */
static int tap_send_gso(struct synack_link *l, const void *frame, size_t len, uint16_t gso_size)
{
	struct tap_link *t = to_tap(l);
	struct virtio_net_hdr h;
	struct iovec iov[2];

	if (!frame || len < ETH_HDR_LEN || len > VNET_MAX_FRAME)
		return -EINVAL;
	if (!t->vnet || !vnet_gso_hdr(frame, len, gso_size, &h))
		return -EOPNOTSUPP;
	tap_flush_held(t);
	t->stats.tx_gso_frames++;
	t->stats.tx_gso_segs += (len - h.hdr_len + gso_size - 1) / gso_size;
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ (void *)(uintptr_t)frame, len };
	return tap_write(t, iov, 2, sizeof(h) + len);
}

static ssize_t tap_readv(struct tap_link *t, const struct iovec *iov, int iovcnt)
{
	ssize_t n;

	do
		n = readv(t->fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	return n;
}

/* Read one frame with its header into buf; what does not fit cap spills
 * past it, so the length read tells a frame that was too long. */
static ssize_t tap_read_vnet(struct tap_link *t, struct virtio_net_hdr *h, void *buf, size_t cap)
{
	struct iovec iov[3] = { { h, sizeof(*h) }, { buf, cap } };
	int iovcnt = 2;

	if (cap < VNET_MAX_FRAME) {
		if (!t->rx_spill && !(t->rx_spill = malloc(VNET_MAX_FRAME)))
			return -ENOMEM;
		iov[2] = (struct iovec){ t->rx_spill, VNET_MAX_FRAME - cap };
		iovcnt = 3;
	}
	return tap_readv(t, iov, iovcnt);
}

/* A frame from a vnet device whose header holds up: its length, or 0 when
 * none is ready. Frames with a bad header, or too long for buf, are
 * dropped and counted. sw_csum: for callers that cannot carry meta up. */
static int tap_recv_vnet(struct tap_link *t, void *buf, size_t cap, bool sw_csum, struct synack_rx_meta *meta)
{
	for (int i = 0; i < TAP_RX_SKIP_MAX; i++) {
		struct virtio_net_hdr h;
		bool csum_done;
		ssize_t n = tap_read_vnet(t, &h, buf, cap);
		size_t len;
		int err;

		if (n <= 0)
			return (int)n;
		if ((size_t)n < sizeof(h)) {
			t->stats.rx_bad_vnet_hdr++;
			continue;
		}
		len = (size_t)n - sizeof(h);
		if (len > cap) {
			t->stats.rx_oversize++;
			continue;
		}
		memset(meta, 0, sizeof(*meta));
		err = vnet_rx_check(&h, buf, len, t->link.mtu, sw_csum, meta, &csum_done);
		if (err < 0) {
			if (err == -EMSGSIZE)
				t->stats.rx_oversize++;
			else
				t->stats.rx_bad_vnet_hdr++;
			continue;
		}
		t->stats.rx_csum_done += csum_done;
		if (meta->gso_size) {
			t->stats.rx_gso_frames++;
			t->stats.rx_gso_bytes += len;
		}
		return (int)len;
	}
	return 0;
}

static int tap_recv_plain(struct tap_link *t, void *buf, size_t cap)
{
	struct iovec iov = { buf, cap };

	return (int)tap_readv(t, &iov, 1);
}

/* recv and recv_meta: sw_csum completes partial checksums for a caller
 * that cannot be told the checksum is still to be finished. */
static int tap_recv_checked(struct synack_link *l, void *buf, size_t cap, bool sw_csum, struct synack_rx_meta *meta)
{
	struct tap_link *t = to_tap(l);

	if (!buf || cap == 0)
		return -EINVAL;
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	return t->vnet ? tap_recv_vnet(t, buf, cap, sw_csum, meta) : tap_recv_plain(t, buf, cap);
}

static int tap_recv_meta(struct synack_link *l, void *buf, size_t cap, struct synack_rx_meta *meta)
{
	return meta ? tap_recv_checked(l, buf, cap, false, meta) : -EINVAL;
}

/* Without meta the stack would take a partial checksum for a bad one:
 * complete it here. */
static int tap_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct synack_rx_meta meta;

	return tap_recv_checked(l, buf, cap, true, &meta);
}

static int tap_wait_fd(struct synack_link *l)
{
	return to_tap(l)->fd;
}

/* Frames arrive when the kernel sends them; only wait_fd tells. */
static uint64_t tap_next_deadline(struct synack_link *l)
{
	(void)l;
	return SYNACK_NEVER;
}

static void tap_free(struct tap_link *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->tso.buf);
	free(t->rx_spill);
	free(t);
}

static void tap_destroy(struct synack_link *l)
{
	tap_free(to_tap(l));
}

static const struct synack_link_ops tap_ops = {
	.kind = "tap",
	.send = tap_send,
	.recv = tap_recv,
	.wait_fd = tap_wait_fd,
	.next_deadline = tap_next_deadline,
	.destroy = tap_destroy,
	.recv_meta = tap_recv_meta,
	.send_more = tap_send_more,
	.flush = tap_flush,
	.send_gso = tap_send_gso,
};

/* The kernel's own rules for interface names, checked up front so a bad
 * name is -EINVAL whatever the kernel would say. */
static bool ifname_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, IFNAMSIZ);
	if (len == 0 || len >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r'))
			return false;
	}
	return true;
}

static int tap_attach(int fd, const char *name, short flags, char out_name[IFNAMSIZ])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	/* The kernel may have expanded a pattern such as "tap%d". */
	memcpy(out_name, ifr.ifr_name, IFNAMSIZ);
	out_name[IFNAMSIZ - 1] = '\0';
	return 0;
}

static int tun_open(void)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Headers and offloads on an attached vnet descriptor: false if the
 * kernel refuses any of it. */
static bool tap_offload_on(int fd)
{
	int hdr_len = (int)VNET_HDR_LEN;

	return ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) == 0 &&
	       ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) == 0;
}

/* Attach with virtio-net headers and offloads when asked and granted,
 * plain otherwise. A refused step starts over on a fresh descriptor: an
 * attached one keeps the flags it was attached with. */
static int tap_attach_offload(struct tap_link *t, const char *name, bool offload)
{
	int err;

	if (offload) {
		err = tap_attach(t->fd, name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, t->ifname);
		if (!err && tap_offload_on(t->fd)) {
			t->tso.buf = malloc(VNET_HDR_LEN + VNET_MAX_FRAME);
			if (!t->tso.buf)
				return -ENOMEM;
			t->vnet = true;
			t->tso.csum_partial = true;
			t->link.max_frame = VNET_MAX_FRAME;
			t->link.features = SYNACK_LINK_F_TX_CSUM | SYNACK_LINK_F_TSO | SYNACK_LINK_F_GRO;
			t->stats.offload = true;
			return 0;
		}
		close(t->fd);
		t->fd = tun_open();
		if (t->fd < 0)
			return t->fd;
	}
	err = tap_attach(t->fd, name, IFF_TAP | IFF_NO_PI, t->ifname);
	if (err)
		return err;
	t->link.features = SYNACK_LINK_F_GRO;
	/* A persistent device keeps the offloads its last user set; with them
	 * on, the kernel would hand this descriptor frames it cannot take. */
	return ioctl(t->fd, TUNSETOFFLOAD, 0UL) < 0 ? -errno : 0;
}

static void ifreq_for(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, name, strnlen(name, IFNAMSIZ - 1));
}

static int tap_set_mtu(int s, const char *name, uint32_t mtu)
{
	struct ifreq ifr;

	if (mtu > INT32_MAX)
		return -EINVAL;
	ifreq_for(&ifr, name);
	ifr.ifr_mtu = (int)mtu;
	return ioctl(s, SIOCSIFMTU, &ifr) < 0 ? -errno : 0;
}

static int tap_get_mtu(int s, const char *name, uint32_t *mtu)
{
	struct ifreq ifr;

	ifreq_for(&ifr, name);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0)
		return -errno;
	if (ifr.ifr_mtu <= 0)
		return -EIO;
	*mtu = (uint32_t)ifr.ifr_mtu;
	return 0;
}

static int tap_bring_up(int s, const char *name)
{
	struct ifreq ifr;

	ifreq_for(&ifr, name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

/* Set the MTU when asked, read back what the kernel has, and bring it up. */
static int tap_configure(const char *name, uint32_t mtu, uint32_t *mtu_out)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (s < 0)
		return -errno;
	if (mtu != 0)
		err = tap_set_mtu(s, name, mtu);
	if (!err)
		err = tap_get_mtu(s, name, mtu_out);
	if (!err)
		err = tap_bring_up(s, name);
	close(s);
	return err;
}

/* A random locally administered unicast address. */
static int random_mac(uint8_t mac[6])
{
	ssize_t n;

	do
		n = getrandom(mac, 6, 0);
	while (n < 0 && errno == EINTR);
	if (n != 6)
		return n < 0 ? -errno : -EIO;
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	return 0;
}

int synack_tap_open_config(const struct synack_tap_config *cfg, struct synack_link **out)
{
	struct tap_link *t;
	int err;

	if (!cfg || !out || !ifname_valid(cfg->ifname))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = tun_open();
	if (t->fd < 0) {
		err = t->fd;
		free(t);
		return err;
	}
	err = tap_attach_offload(t, cfg->ifname, !cfg->no_offload);
	if (!err)
		err = tap_configure(t->ifname, cfg->mtu, &t->link.mtu);
	if (!err)
		err = random_mac(t->link.mac);
	if (err) {
		tap_free(t);
		return err;
	}
	t->link.ops = &tap_ops;
	*out = &t->link;
	return 0;
}

int synack_tap_open(const char *ifname, uint32_t mtu, struct synack_link **out)
{
	struct synack_tap_config cfg = { .ifname = ifname, .mtu = mtu };

	return synack_tap_open_config(&cfg, out);
}

int synack_tap_get_stats(const struct synack_link *l, struct synack_tap_stats *out)
{
	if (!l || l->ops != &tap_ops || !out)
		return -EINVAL;
	*out = container_of(l, const struct tap_link, link)->stats;
	return 0;
}
