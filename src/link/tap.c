/*
 * A Linux TAP device: Ethernet frames to and from the kernel through
 * /dev/net/tun, without the packet-information header (IFF_NO_PI).
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
#include <unistd.h>
#include <linux/if_tun.h>
#include "core/compiler.h"
#include "link/link.h"

struct tap_link {
	struct synack_link link;    /* first: the public handle */
	int fd;
	char ifname[IFNAMSIZ];
};

static struct tap_link *to_tap(struct synack_link *l)
{
	return container_of(l, struct tap_link, link);
}

static int tap_send(struct synack_link *l, const void *frame, size_t len)
{
	struct tap_link *t = to_tap(l);
	ssize_t n;
	int err;

	if (!frame)
		return -EINVAL;
	err = link_check_frame_len(l->mtu, len);
	if (err < 0)
		return err;
	do
		n = write(t->fd, frame, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int tap_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct tap_link *t = to_tap(l);
	ssize_t n;

	if (!buf || cap == 0)
		return -EINVAL;
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	do
		n = read(t->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	return (int)n;
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

static void tap_destroy(struct synack_link *l)
{
	struct tap_link *t = to_tap(l);

	close(t->fd);
	free(t);
}

static const struct synack_link_ops tap_ops = {
	.kind = "tap",
	.send = tap_send,
	.recv = tap_recv,
	.wait_fd = tap_wait_fd,
	.next_deadline = tap_next_deadline,
	.destroy = tap_destroy,
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

static int tap_attach(int fd, const char *name, char out_name[IFNAMSIZ])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	/* The kernel may have expanded a pattern such as "tap%d". */
	memcpy(out_name, ifr.ifr_name, IFNAMSIZ);
	out_name[IFNAMSIZ - 1] = '\0';
	return 0;
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

int synack_tap_open(const char *ifname, uint32_t mtu, struct synack_link **out)
{
	struct tap_link *t;
	int err;

	if (!out || !ifname_valid(ifname))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		err = -errno;
		free(t);
		return err;
	}
	err = tap_attach(t->fd, ifname, t->ifname);
	if (!err)
		err = tap_configure(t->ifname, mtu, &t->link.mtu);
	if (!err)
		err = random_mac(t->link.mac);
	if (err) {
		close(t->fd);
		free(t);
		return err;
	}
	t->link.ops = &tap_ops;
	*out = &t->link;
	return 0;
}
