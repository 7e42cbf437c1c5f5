/*
 * The interface a packetdrill shared object fills in: synack's own
 * declaration, written from the member list in
 * /work/shared/spec/packetdrill-so.md (docs/packetdrill.md explains it).
 *
 * packetdrill loads the object with dlopen, calls
 * packetdrill_interface_init(flags, ifc) once per script with ifc zeroed,
 * and from then on makes every system call of the script, injects every
 * inbound packet and reads every outbound one through these members, always
 * passing ifc->userdata first. At the end it calls ifc->free(ifc->userdata).
 *
 * The member order is the ABI: 33 pointer-sized members (264 bytes on
 * x86-64). Errors are libc-style: -1 with errno set.
 */
#ifndef SYNACK_PACKETDRILL_INTERFACE_H
#define SYNACK_PACKETDRILL_INTERFACE_H

#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

struct packetdrill_interface {
	void *userdata;
	void (*free)(void *userdata);
	/* Sockets, as the libc calls of the same names. */
	int (*socket)(void *userdata, int domain, int type, int protocol);
	int (*bind)(void *userdata, int fd, const struct sockaddr *addr, socklen_t addrlen);
	int (*listen)(void *userdata, int fd, int backlog);
	int (*accept)(void *userdata, int fd, struct sockaddr *addr, socklen_t *addrlen);
	int (*connect)(void *userdata, int fd, const struct sockaddr *addr, socklen_t addrlen);
	ssize_t (*read)(void *userdata, int fd, void *buf, size_t count);
	ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*recv)(void *userdata, int fd, void *buf, size_t len, int flags);
	ssize_t (*recvfrom)(void *userdata, int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			    socklen_t *addrlen);
	ssize_t (*recvmsg)(void *userdata, int fd, struct msghdr *msg, int flags);
	ssize_t (*write)(void *userdata, int fd, const void *buf, size_t count);
	ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*send)(void *userdata, int fd, const void *buf, size_t len, int flags);
	ssize_t (*sendto)(void *userdata, int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *addr, socklen_t addrlen);
	ssize_t (*sendmsg)(void *userdata, int fd, const struct msghdr *msg, int flags);
	int (*fcntl)(void *userdata, int fd, int cmd, ...);
	int (*ioctl)(void *userdata, int fd, unsigned long request, ...);
	int (*close)(void *userdata, int fd);
	int (*shutdown)(void *userdata, int fd, int how);
	int (*getsockopt)(void *userdata, int fd, int level, int optname, void *optval, socklen_t *optlen);
	int (*setsockopt)(void *userdata, int fd, int level, int optname, const void *optval, socklen_t optlen);
	int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds, int timeout_ms);
	/* One raw IP packet (no link header) arriving at the stack: 0 or -1. */
	int (*netdev_send)(void *userdata, const void *buf, size_t count);
	/* The next raw IP packet the stack sent: 0 with *count (in: the size
	 * of buf; out: the packet's length) and *time_usecs (its send time on
	 * the gettimeofday clock). *count = 0 means "nothing will come". */
	int (*netdev_receive)(void *userdata, void *buf, size_t *count, long long *time_usecs);
	/* The clock the script's timing uses. */
	int (*usleep)(void *userdata, useconds_t usec);
	int (*gettimeofday)(void *userdata, struct timeval *tv, struct timezone *tz);
	int (*epoll_create)(void *userdata, int size);
	int (*epoll_ctl)(void *userdata, int epfd, int op, int fd, struct epoll_event *event);
	int (*epoll_wait)(void *userdata, int epfd, struct epoll_event *events, int maxevents, int timeout_ms);
	int (*pipe)(void *userdata, int fds[2]);
	int (*splice)(void *userdata, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
		      unsigned int flags);
};

_Static_assert(sizeof(struct packetdrill_interface) == 33 * sizeof(void *),
	       "packetdrill_interface: 33 pointer-sized members");

typedef void (*packetdrill_interface_init_t)(const char *flags, struct packetdrill_interface *ifc);

#endif
