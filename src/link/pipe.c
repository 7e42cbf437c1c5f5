/*
 * Two links joined by a socketpair: a wire between stacks that may run on
 * different threads (the sim wire is single-threaded), with real time only.
 * Each end has a descriptor to wait on, so stacks in blocking mode and
 * event loops use it like a TAP device. A full socket buffer drops the
 * frame, as a full device queue would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "core/compiler.h"
#include "link/link.h"

#define PIPE_SOCKBUF (4 << 20)

struct pipe_link {
	struct synack_link link;    /* first: the public handle */
	int fd;
};

static struct pipe_link *to_pipe(struct synack_link *l) { return container_of(l, struct pipe_link, link); }

static int pipe_send(struct synack_link *l, const void *frame, size_t len)
{
	ssize_t n;
	int err;

	err = link_check_frame(l, frame, len);
	if (err < 0)
		return err;
	do
		n = send(to_pipe(l)->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? -EAGAIN : -errno;
	return 0;
}

static int pipe_recv(struct synack_link *l, void *buf, size_t cap)
{
	ssize_t n;

	if (!buf || cap == 0)
		return -EINVAL;
	do
		n = recv(to_pipe(l)->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	return (int)((size_t)n < cap ? (size_t)n : cap);
}

static int pipe_wait_fd(struct synack_link *l) { return to_pipe(l)->fd; }

static uint64_t pipe_next_deadline(struct synack_link *l)
{
	(void)l;
	return SYNACK_NEVER;
}

static void pipe_destroy(struct synack_link *l)
{
	close(to_pipe(l)->fd);
	free(to_pipe(l));
}

static const struct synack_link_ops pipe_ops = {
	.kind = "pipe",
	.send = pipe_send,
	.recv = pipe_recv,
	.wait_fd = pipe_wait_fd,
	.next_deadline = pipe_next_deadline,
	.destroy = pipe_destroy,
};

static struct synack_link *pipe_end(int fd, uint8_t last_mac_byte, uint32_t mtu)
{
	struct pipe_link *p = calloc(1, sizeof(*p));
	int sz = PIPE_SOCKBUF;

	if (!p)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	p->fd = fd;
	p->link.ops = &pipe_ops;
	p->link.mtu = mtu ? mtu : 1500;
	memcpy(p->link.mac, (uint8_t[]){ 0x02, 0, 0, 0, 0, last_mac_byte }, 6);
	return &p->link;
}

int synack_pipe_pair_new(uint32_t mtu, struct synack_link **a, struct synack_link **b)
{
	int fds[2];

	if (!a || !b || (mtu && (mtu < 68 || mtu > 65535)))
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	*a = pipe_end(fds[0], 1, mtu);
	*b = *a ? pipe_end(fds[1], 2, mtu) : NULL;
	if (!*a || !*b) {
		if (*a)
			pipe_destroy(*a);
		else
			close(fds[0]);
		close(fds[1]);
		return -ENOMEM;
	}
	return 0;
}
