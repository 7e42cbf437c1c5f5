/*
 * libsynack_packetdrill.so: synack behind packetdrill's shared-object
 * interface (packetdrill_interface.h; docs/packetdrill.md for the user's
 * side).
 *
 * One instance per packetdrill_interface_init call; all of its state lives
 * in struct pd (the userdata), none in globals. An instance holds:
 *   - a synack stack on a virtual clock. usleep moves the clock, running the
 *     stack's timers one deadline at a time; gettimeofday reads it and nudges
 *     it by a microsecond (packetdrill spins on gettimeofday for the last
 *     microseconds of every wait);
 *   - its own link (struct pd_link). What the stack transmits is captured:
 *     IPv4 packets lose their Ethernet header and queue for netdev_receive
 *     with their send time; ARP requests for any address but the stack's
 *     own are answered at once by a made-up peer MAC. netdev_send wraps the
 *     injected IP packet in an Ethernet header and hands it to the stack;
 *   - a descriptor table: every socket, epoll instance and pipe is a real
 *     descriptor (a memfd for sockets and epoll instances, so that
 *     packetdrill's final libc close() works), mapped to synack's descriptor.
 *
 * Threads: one mutex (pd->mu) guards everything. A blocking call (accept,
 * connect, read, write... on a socket without O_NONBLOCK, poll/epoll_wait
 * with a timeout) made on another thread than the one that called init
 * sleeps on pd->changed and lets the init thread (packetdrill's main
 * thread) inject packets and move time. Whenever the stack may have changed,
 * settle() wakes the sleepers and waits until each has looked again, and
 * until a thread whose blocking call just returned has read the clock (its
 * next call here, normally packetdrill's gettimeofday for the call's end
 * time), so time never moves under a call that is finishing. A blocking
 * call on the init thread itself has nobody to wait for: it moves time
 * itself until it can return.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "synack/synack.h"
#include "packetdrill_interface.h"
#include "pd_queues.h"

#define PD_EXPORT __attribute__((visibility("default")))

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_SEC 1000000000ULL

#define ETH_HLEN 14
#define ETH_ZLEN 60
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806

/* Packets waiting for netdev_receive beyond this are dropped (counted). */
#define PD_TX_MAX 65536
/* How long settle() waits for other threads, in real seconds. */
#define PD_SETTLE_SECS 2
/* Threads whose blocking call returned and who have not read the clock yet. */
#define PD_MAX_OWED 8
/* Default bound on how far netdev_receive moves time looking for a packet. */
#define PD_DEFAULT_HORIZON_SEC 600
/* Linux's UIO_MAXIOV. */
#define PD_IOV_MAX 1024

static const uint8_t pd_stack_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t pd_peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

/* ------------------------------------------------------------ structures */

struct pd_frame {
	struct pd_frame *next;
	uint64_t t_ns;              /* when the stack sent it (tx) */
	size_t len;
	uint8_t data[];
};

struct pd_fifo {
	struct pd_frame *head, *tail;
	size_t n;
};

struct pd;

struct pd_link {
	struct synack_link l;       /* first: the stack sees only this */
	struct pd *pd;
};

enum pd_kind { PD_SOCKET = 1, PD_EPOLL, PD_PIPE };

/* One epoll registration. */
struct pd_epitem {
	int fd;
	uint32_t events;
	uint64_t data;
	bool armed;                 /* EPOLLONESHOT: false after a report until MOD */
	/* EPOLLET: what the last report saw. */
	uint32_t last_mask;
	uint64_t last_rx, last_acked;
};

/* A real descriptor this instance made. */
struct pd_file {
	enum pd_kind kind;
	int sfd;                    /* synack's descriptor (sockets) */
	bool nonblock;              /* O_NONBLOCK (sockets) */
	dev_t dev;                  /* identity of the real descriptor, so that */
	ino_t ino;                  /* free() closes only what is still ours */
	struct timeval rcvtimeo, sndtimeo; /* SO_RCVTIMEO / SO_SNDTIMEO */
	struct pd_epitem *items;    /* epoll instances */
	size_t nitems, cap;
};

struct pd_waiter {
	struct pd_waiter *next;
	uint64_t seen_gen;          /* the last settle generation it looked at */
	uint64_t deadline;          /* virtual ns, or SYNACK_NEVER */
};

struct pd_setting {
	char *name, *value;
};

struct pd {
	pthread_mutex_t mu;
	pthread_cond_t changed;     /* blocked callers sleep here */
	pthread_cond_t settled;     /* settle() sleeps here (CLOCK_MONOTONIC) */
	pthread_t driver;           /* the thread that called init */

	struct synack_clock *clk;
	struct stack *st;
	struct pd_link link;
	struct pd_fifo rx, tx;
	uint64_t tx_drops;

	struct pd_file **files;     /* by real descriptor */
	int nfiles;

	struct pd_waiter *waiters;
	uint64_t gen;
	pthread_t owed[PD_MAX_OWED];
	int nowed;
	bool dying;

	/* Configuration (--so_flags). */
	bool bad_config;
	struct in_addr local, gateway;
	bool gateway_set;
	uint8_t prefix;
	uint32_t mtu;
	uint64_t start_ns;
	uint64_t horizon_ns;
	bool seeded;
	uint64_t seed;
	bool trace;
	bool pd_defaults;
	char cc[16];                /* tcp_congestion_control, "" = the stack's */
	struct pd_setting *settings;
	size_t nsettings;
};

/* ------------------------------------------------------------------ misc */

static int pd_fail(int err)
{
	errno = err;
	return -1;
}

/* A synack result (count or -errno) as libc returns it. */
static long pd_ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static uint64_t pd_now(const struct pd *pd) { return synack_clock_now(pd->clk); }

static void pd_lock(struct pd *pd) { pthread_mutex_lock(&pd->mu); }

/* This thread no longer owes a clock reading (see pd_settle). */
static void pd_unowe(struct pd *pd)
{
	pthread_t self = pthread_self();

	for (int i = 0; i < pd->nowed; i++) {
		if (pthread_equal(pd->owed[i], self)) {
			pd->owed[i] = pd->owed[--pd->nowed];
			pthread_cond_broadcast(&pd->settled);
			return;
		}
	}
}

/* Every call enters here: a thread that calls again has read the clock
 * after its last blocking call (or no longer cares). */
static void pd_enter(struct pd *pd)
{
	pd_lock(pd);
	pd_unowe(pd);
}

static void pd_leave(struct pd *pd) { pthread_mutex_unlock(&pd->mu); }

/* ----------------------------------------------------------------- fifos */

static int fifo_push(struct pd_fifo *q, const void *data, size_t len, uint64_t t)
{
	struct pd_frame *f = malloc(sizeof(*f) + len);

	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->t_ns = t;
	f->len = len;
	memcpy(f->data, data, len);
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->n++;
	return 0;
}

static struct pd_frame *fifo_pop(struct pd_fifo *q)
{
	struct pd_frame *f = q->head;

	if (!f)
		return NULL;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	return f;
}

static void fifo_clear(struct pd_fifo *q)
{
	struct pd_frame *f;

	while ((f = fifo_pop(q)))
		free(f);
}

/* ------------------------------------------------------------------ link */

static struct pd *link_pd(struct synack_link *l) { return ((struct pd_link *)l)->pd; }

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The peer answers an ARP request for any address but the stack's own. */
static void pd_answer_arp(struct pd *pd, const uint8_t *f, size_t len)
{
	const uint8_t *a = f + ETH_HLEN;
	uint8_t r[ETH_ZLEN];

	if (len < ETH_HLEN + 28 || get16(a) != 1 || get16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 ||
	    get16(a + 6) != 1)
		return;
	if (!memcmp(a + 24, &pd->local.s_addr, 4))
		return; /* the stack's own address: a gratuitous ARP or a probe */
	memset(r, 0, sizeof(r));
	memcpy(r, a + 8, 6);                    /* to the asker's MAC */
	memcpy(r + 6, pd_peer_mac, 6);
	put16(r + 12, ETHERTYPE_ARP);
	put16(r + 14, 1);                       /* Ethernet */
	put16(r + 16, ETHERTYPE_IPV4);
	r[18] = 6;
	r[19] = 4;
	put16(r + 20, 2);                       /* reply */
	memcpy(r + 22, pd_peer_mac, 6);         /* sender: the peer */
	memcpy(r + 28, a + 24, 4);              /* ... owning the asked address */
	memcpy(r + 32, a + 8, 6);               /* target: the asker */
	memcpy(r + 38, a + 14, 4);
	fifo_push(&pd->rx, r, sizeof(r), 0);
}

static int pd_link_send(struct synack_link *l, const void *frame, size_t len)
{
	struct pd *pd = link_pd(l);
	const uint8_t *f = frame;
	uint16_t type;

	if (len < ETH_HLEN)
		return 0;
	type = get16(f + 12);
	if (type == ETHERTYPE_ARP) {
		pd_answer_arp(pd, f, len);
	} else if (type == ETHERTYPE_IPV4 && len >= ETH_HLEN + 20) {
		const uint8_t *ip = f + ETH_HLEN;
		size_t iplen = len - ETH_HLEN, tot = get16(ip + 2);

		if (tot >= 20 && tot < iplen)
			iplen = tot; /* drop the Ethernet padding */
		if (pd->tx.n >= PD_TX_MAX)
			pd->tx_drops++;
		else if (fifo_push(&pd->tx, ip, iplen, pd_now(pd)))
			pd->tx_drops++;
	}
	return 0;
}

static int pd_link_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct pd_frame *f = fifo_pop(&link_pd(l)->rx);
	size_t n;

	if (!f)
		return 0;
	n = f->len < cap ? f->len : cap;
	memcpy(buf, f->data, n);
	free(f);
	return (int)n;
}

static int pd_link_wait_fd(struct synack_link *l)
{
	(void)l;
	return -1;
}

static uint64_t pd_link_next_deadline(struct synack_link *l)
{
	struct pd *pd = link_pd(l);

	return pd->rx.head ? pd_now(pd) : SYNACK_NEVER;
}

static void pd_link_destroy(struct synack_link *l) { (void)l; }

static const struct synack_link_ops pd_link_ops = {
	.kind = "packetdrill",
	.send = pd_link_send,
	.recv = pd_link_recv,
	.wait_fd = pd_link_wait_fd,
	.next_deadline = pd_link_next_deadline,
	.destroy = pd_link_destroy,
};

/* ------------------------------------------------------- time and waiting */

static bool pd_waiters_unsettled(const struct pd *pd)
{
	for (const struct pd_waiter *w = pd->waiters; w; w = w->next)
		if (w->seen_gen != pd->gen)
			return true;
	return false;
}

static bool pd_owed_by_others(const struct pd *pd)
{
	pthread_t self = pthread_self();

	for (int i = 0; i < pd->nowed; i++)
		if (!pthread_equal(pd->owed[i], self))
			return true;
	return false;
}

/* The stack may have changed: let every blocked caller look, and let a call
 * that is returning read the clock, before anything else happens. */
static void pd_settle(struct pd *pd)
{
	struct timespec until;

	if (!pd->waiters && !pd->nowed)
		return;
	pd->gen++;
	pthread_cond_broadcast(&pd->changed);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += PD_SETTLE_SECS;
	while (pd_waiters_unsettled(pd) || pd_owed_by_others(pd)) {
		if (pthread_cond_timedwait(&pd->settled, &pd->mu, &until) == ETIMEDOUT) {
			pd->nowed = 0; /* a thread that never came back for the time */
			break;
		}
	}
}

/* The earliest time something is due: a stack timer, a frame on the link,
 * or a blocked caller's timeout. */
static uint64_t pd_next_event(const struct pd *pd)
{
	uint64_t now = pd_now(pd), next = synack_stack_next_deadline(pd->st);

	for (const struct pd_waiter *w = pd->waiters; w; w = w->next)
		if (w->deadline > now && w->deadline < next)
			next = w->deadline;
	return next;
}

/* Run what is due now (frames queued by the link included). */
static void pd_pump(struct pd *pd)
{
	synack_run_virtual(pd->clk, &pd->st, 1, pd_now(pd));
}

/*
 * How every entry point ends, by what its call may have changed. Each
 * leaves the lock and turns a synack result (count or -errno) into libc's
 * -1 and errno: plain for a call that changes nothing others wait on;
 * _settled when blocked callers must look again (a listen, an accept);
 * _sent when segments may also be due (data, a close, a connect), so they
 * go out before the script reads the link.
 */
static long pd_return(struct pd *pd, long r)
{
	pd_leave(pd);
	return pd_ret(r);
}

static long pd_return_settled(struct pd *pd, long r)
{
	pd_settle(pd);
	return pd_return(pd, r);
}

static long pd_return_sent(struct pd *pd, long r)
{
	pd_pump(pd);
	return pd_return_settled(pd, r);
}

/* Move the clock to target, one deadline at a time, settling after each. */
static void pd_advance_to(struct pd *pd, uint64_t target)
{
	pd_pump(pd);
	pd_settle(pd);
	for (;;) {
		uint64_t now = pd_now(pd), next;

		if (now >= target)
			break;
		next = pd_next_event(pd);
		if (next <= now)
			next = now + NS_PER_US; /* due but not yet run: step a little */
		if (next > target)
			next = target;
		synack_run_virtual(pd->clk, &pd->st, 1, next);
		pd_settle(pd);
	}
}

static void pd_owe(struct pd *pd)
{
	pthread_t self = pthread_self();

	for (int i = 0; i < pd->nowed; i++)
		if (pthread_equal(pd->owed[i], self))
			return;
	if (pd->nowed < PD_MAX_OWED)
		pd->owed[pd->nowed++] = self;
}

typedef bool (*pd_ready_fn)(struct pd *pd, const void *arg);

/*
 * Block until ready(arg) holds or the virtual clock reaches deadline
 * (SYNACK_NEVER: no timeout). 0 when ready, -ETIMEDOUT at the deadline,
 * -EBADF when the instance is being freed, -EDEADLK when the init thread
 * itself would wait for something that can never happen.
 */
static int pd_wait(struct pd *pd, pd_ready_fn ready, const void *arg, uint64_t deadline)
{
	struct pd_waiter w, **pp;
	int err;

	if (pthread_equal(pthread_self(), pd->driver)) {
		/* Nobody else moves time: move it ourselves. */
		for (;;) {
			uint64_t now, next;

			if (ready(pd, arg))
				return 0;
			now = pd_now(pd);
			if (now >= deadline)
				return -ETIMEDOUT;
			next = pd_next_event(pd);
			if (deadline < next)
				next = deadline;
			if (next == SYNACK_NEVER || next - now > pd->horizon_ns)
				return -EDEADLK;
			pd_advance_to(pd, next > now ? next : now + NS_PER_US);
		}
	}
	/* Waiting again within the same call (a blocking send that queued
	 * part and needs room for more): nothing is owed until it returns. */
	pd_unowe(pd);
	w.seen_gen = 0;
	w.deadline = deadline;
	w.next = pd->waiters;
	pd->waiters = &w;
	for (;;) {
		if (pd->dying) {
			err = -EBADF;
			break;
		}
		if (ready(pd, arg)) {
			err = 0;
			break;
		}
		if (pd_now(pd) >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		w.seen_gen = pd->gen;
		pthread_cond_broadcast(&pd->settled);
		pthread_cond_wait(&pd->changed, &pd->mu);
	}
	for (pp = &pd->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == &w) {
			*pp = w.next;
			break;
		}
	}
	if (!pd->dying)
		pd_owe(pd);
	pthread_cond_broadcast(&pd->settled);
	return err;
}

/* A blocking call's deadline from SO_RCVTIMEO/SO_SNDTIMEO: 0 means none. */
static uint64_t pd_timeo_deadline(const struct pd *pd, const struct timeval *tv)
{
	uint64_t ns;

	if (tv->tv_sec < 0)
		return pd_now(pd); /* Linux: a negative timeout does not wait */
	if (tv->tv_sec == 0 && tv->tv_usec == 0)
		return SYNACK_NEVER;
	ns = (uint64_t)tv->tv_sec * NS_PER_SEC + (uint64_t)tv->tv_usec * NS_PER_US;
	return pd_now(pd) + ns;
}

/* ----------------------------------------------------------- descriptors */

static struct pd_file *pd_file(const struct pd *pd, int fd)
{
	if (fd < 0 || fd >= pd->nfiles)
		return NULL;
	return pd->files[fd];
}

/* A socket's entry: -EBADF for an unknown descriptor, -ENOTSOCK for ours
 * that is not a socket. */
static int pd_sock(const struct pd *pd, int fd, struct pd_file **out)
{
	struct pd_file *f = pd_file(pd, fd);

	if (!f)
		return -EBADF;
	if (f->kind != PD_SOCKET)
		return -ENOTSOCK;
	*out = f;
	return 0;
}

static int pd_file_install(struct pd *pd, int fd, struct pd_file *f)
{
	struct stat sb;

	if (fd >= pd->nfiles) {
		int n = pd->nfiles ? pd->nfiles : 64;
		struct pd_file **files;

		while (n <= fd)
			n *= 2;
		files = realloc(pd->files, (size_t)n * sizeof(*files));
		if (!files)
			return -ENOMEM;
		memset(files + pd->nfiles, 0, (size_t)(n - pd->nfiles) * sizeof(*files));
		pd->files = files;
		pd->nfiles = n;
	}
	if (fstat(fd, &sb) == 0) {
		f->dev = sb.st_dev;
		f->ino = sb.st_ino;
	}
	pd->files[fd] = f;
	return 0;
}

/* A real descriptor standing for one of ours: a memfd has an inode of its
 * own, so free() can tell whether the number is still ours. */
static int pd_real_fd(const char *name, bool cloexec)
{
	int fd = memfd_create(name, cloexec ? MFD_CLOEXEC : 0);

	if (fd < 0 && errno == ENOSYS)
		fd = eventfd(0, cloexec ? EFD_CLOEXEC : 0);
	return fd < 0 ? -errno : fd;
}

/* A new entry of this kind behind a real descriptor (see pd_real_fd):
 * the descriptor, or a negative errno. *out is the zeroed entry. */
static int pd_file_new(struct pd *pd, const char *name, enum pd_kind kind, bool cloexec, struct pd_file **out)
{
	struct pd_file *f = calloc(1, sizeof(*f));
	int fd, err;

	if (!f)
		return -ENOMEM;
	fd = pd_real_fd(name, cloexec);
	if (fd < 0) {
		free(f);
		return fd;
	}
	f->kind = kind;
	err = pd_file_install(pd, fd, f);
	if (err) {
		close(fd);
		free(f);
		return err;
	}
	*out = f;
	return fd;
}

/* Give synack descriptor sfd a real descriptor: it, or a negative errno. */
static int pd_socket_install(struct pd *pd, int sfd, bool nonblock, bool cloexec)
{
	struct pd_file *f;
	int fd = pd_file_new(pd, "synack-socket", PD_SOCKET, cloexec, &f);

	if (fd >= 0) {
		f->sfd = sfd;
		f->nonblock = nonblock;
	}
	return fd;
}

static void pd_file_free(struct pd_file *f)
{
	if (f) {
		free(f->items);
		free(f);
	}
}

/* Forget fd in every epoll instance (Linux drops a registration when its
 * file goes). */
static void pd_epoll_forget(struct pd *pd, int fd)
{
	for (int i = 0; i < pd->nfiles; i++) {
		struct pd_file *e = pd->files[i];

		if (!e || e->kind != PD_EPOLL)
			continue;
		for (size_t j = 0; j < e->nitems; j++) {
			if (e->items[j].fd == fd) {
				e->items[j] = e->items[--e->nitems];
				break;
			}
		}
	}
}

/* ------------------------------------------------------------ readiness */

/* The poll(2) mask of one of our descriptors, or POLLNVAL. */
static int pd_revents(struct pd *pd, int fd, int events);

static bool ready_sock_mask(struct pd *pd, int fd, int bits)
{
	struct pd_file *f = pd_file(pd, fd);
	int m;

	if (!f || f->kind != PD_SOCKET)
		return true; /* closed meanwhile: the call will say so */
	m = synack_poll(pd->st, f->sfd);
	return m < 0 || (m & bits);
}

static bool ready_accept(struct pd *pd, const void *arg)
{
	return ready_sock_mask(pd, *(const int *)arg, POLLIN | POLLERR | POLLHUP);
}

static bool ready_recv(struct pd *pd, const void *arg)
{
	return ready_sock_mask(pd, *(const int *)arg, POLLIN | POLLERR | POLLHUP | POLLRDHUP);
}

static bool ready_send(struct pd *pd, const void *arg)
{
	return ready_sock_mask(pd, *(const int *)arg, POLLOUT | POLLERR | POLLHUP);
}

static bool ready_connected(struct pd *pd, const void *arg)
{
	struct pd_file *f = pd_file(pd, *(const int *)arg);
	int s;

	if (!f || f->kind != PD_SOCKET)
		return true;
	s = synack_tcp_state(pd->st, f->sfd);
	return s < 0 || (s != TCP_SYN_SENT && s != TCP_SYN_RECV);
}

/* ------------------------------------------------------------- sockets */

static int do_socket(struct pd *pd, int domain, int type, int protocol)
{
	int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), sfd, fd;

	if (pd->bad_config)
		return -EINVAL;
	if (domain != AF_INET)
		return -EAFNOSUPPORT; /* no IPv6 (nor anything else) */
	if (kind != SOCK_STREAM)
		return -ESOCKTNOSUPPORT; /* TCP only */
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	sfd = synack_socket(pd->st);
	if (sfd < 0)
		return sfd;
	if (pd->cc[0])
		synack_setsockopt(pd->st, sfd, IPPROTO_TCP, TCP_CONGESTION, pd->cc, (unsigned int)strlen(pd->cc));
	fd = pd_socket_install(pd, sfd, type & SOCK_NONBLOCK, type & SOCK_CLOEXEC);
	if (fd < 0)
		synack_close(pd->st, sfd);
	return fd;
}

static int pd_socket_fn(void *ud, int domain, int type, int protocol)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return(pd, do_socket(pd, domain, type, protocol));
}

static int do_bind(struct pd *pd, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in sin;
	struct pd_file *f;
	int err = pd_sock(pd, fd, &f);

	if (err)
		return err;
	if (!addr)
		return -EFAULT;
	if (len < sizeof(sin))
		return -EINVAL;
	memcpy(&sin, addr, sizeof(sin));
	return synack_bind(pd->st, f->sfd, &sin);
}

static int pd_bind_fn(void *ud, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return(pd, do_bind(pd, fd, addr, len));
}

static int pd_listen_fn(void *ud, int fd, int backlog)
{
	struct pd *pd = ud;
	struct pd_file *f;
	int r;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	r = pd_sock(pd, fd, &f);
	if (!r)
		r = synack_listen(pd->st, f->sfd, backlog);
	return (int)pd_return_settled(pd, r);
}

static int do_accept(struct pd *pd, int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_in peer;
	struct pd_file *f;
	int r = pd_sock(pd, fd, &f), nfd;

	if (r)
		return r;
	if (addr && !len)
		return -EFAULT;
	if (addr && (int)*len < 0)
		return -EINVAL;
	for (;;) {
		int w;

		r = synack_accept(pd->st, f->sfd, &peer);
		if (r != -EAGAIN || f->nonblock)
			break;
		w = pd_wait(pd, ready_accept, &fd, pd_timeo_deadline(pd, &f->rcvtimeo));
		if (w)
			return w == -ETIMEDOUT ? -EAGAIN : w;
		r = pd_sock(pd, fd, &f);
		if (r)
			return r;
	}
	if (r < 0)
		return r;
	nfd = pd_socket_install(pd, r, false, false);
	if (nfd < 0) {
		synack_close(pd->st, r);
		return nfd;
	}
	if (addr) {
		/* As move_addr_to_user: truncate, report the full length. */
		memcpy(addr, &peer, *len < sizeof(peer) ? *len : sizeof(peer));
		*len = sizeof(peer);
	}
	return nfd;
}

static int pd_accept_fn(void *ud, int fd, struct sockaddr *addr, socklen_t *len)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return_settled(pd, do_accept(pd, fd, addr, len));
}

static int do_connect(struct pd *pd, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in sin;
	struct pd_file *f;
	int r = pd_sock(pd, fd, &f), w;

	if (r)
		return r;
	if (!addr)
		return -EFAULT;
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	memset(&sin, 0, sizeof(sin));
	memcpy(&sin, addr, len < sizeof(sin) ? len : sizeof(sin));
	if (sin.sin_family != AF_UNSPEC && len < sizeof(sin))
		return -EINVAL; /* tcp_v4_connect */
	r = synack_connect(pd->st, f->sfd, &sin);
	pd_pump(pd); /* the SYN (and its ARP) go out now */
	if ((r != -EINPROGRESS && r != -EALREADY) || f->nonblock)
		return r;
	/* A blocking connect waits for the handshake's end (inet_wait_for_connect). */
	w = pd_wait(pd, ready_connected, &fd, pd_timeo_deadline(pd, &f->sndtimeo));
	if (w)
		return w == -ETIMEDOUT ? -EINPROGRESS : w;
	r = pd_sock(pd, fd, &f);
	if (r)
		return r;
	return synack_connect(pd->st, f->sfd, &sin);
}

static int pd_connect_fn(void *ud, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return_sent(pd, do_connect(pd, fd, addr, len));
}

/* ---------------------------------------------------------------- data */

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;

	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Drop done bytes from the front of a private copy of an iovec array. */
static void iov_advance(struct iovec **iov, int *n, size_t done)
{
	while (*n > 0 && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n > 0 && done) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
}

/* A private copy of the caller's iovec array, for iov_advance to move
 * through: in stackv when it fits, else in *heap (the caller frees it).
 * NULL when memory runs out. */
static struct iovec *iov_dup(const struct iovec *iov_in, int iovcnt, struct iovec *stackv, int nstack,
			     struct iovec **heap)
{
	struct iovec *iov = stackv;

	*heap = NULL;
	if (iovcnt > nstack) {
		*heap = malloc((size_t)iovcnt * sizeof(**heap));
		if (!*heap)
			return NULL;
		iov = *heap;
	}
	if (iovcnt)
		memcpy(iov, iov_in, (size_t)iovcnt * sizeof(*iov));
	return iov;
}

/* What recv and send check once pipes (handed to the kernel) are out of
 * the way: only sockets carry data here, and the vector must be sane. */
static int pd_check_stream_args(const struct pd_file *f, const struct iovec *iov, int iovcnt)
{
	if (f->kind != PD_SOCKET)
		return -EINVAL; /* reading or writing an epoll instance */
	if (iovcnt < 0 || iovcnt > PD_IOV_MAX)
		return -EINVAL;
	if (iovcnt && !iov)
		return -EFAULT;
	return 0;
}

/* A blocking transfer that could not move anything waits for readiness,
 * then looks its descriptor up again: another thread may have closed it.
 * 0 to try again, else the call's error (-EAGAIN once SO_RCVTIMEO or
 * SO_SNDTIMEO has passed, as Linux). */
static int pd_wait_stream(struct pd *pd, pd_ready_fn ready, const int *fd, const struct timeval *timeo,
			  struct pd_file **f)
{
	int w = pd_wait(pd, ready, fd, pd_timeo_deadline(pd, timeo));

	if (w)
		return w == -ETIMEDOUT ? -EAGAIN : w;
	*f = pd_file(pd, *fd);
	if (!*f || (*f)->kind != PD_SOCKET)
		return -EBADF;
	return 0;
}

/* recvmsg on one of our descriptors, blocking as Linux's tcp_recvmsg does
 * (MSG_WAITALL: until all of it, the end of the stream or an error). */
static long do_recv(struct pd *pd, int fd, const struct iovec *iov_in, int iovcnt, int flags)
{
	struct pd_file *f = pd_file(pd, fd);
	struct iovec stackv[8], *copy, *iov;
	bool waitall = flags & MSG_WAITALL;
	size_t total, done = 0;
	long r;

	if (!f)
		return -EBADF;
	if (f->kind == PD_PIPE) {
		r = readv(fd, iov_in, iovcnt);
		return r < 0 ? -errno : r;
	}
	r = pd_check_stream_args(f, iov_in, iovcnt);
	if (r)
		return r;
	flags &= ~MSG_WAITALL;
	iov = iov_dup(iov_in, iovcnt, stackv, 8, &copy);
	if (!iov)
		return -ENOMEM;
	total = iov_total(iov, iovcnt);
	for (;;) {
		bool block = !f->nonblock && !(flags & MSG_DONTWAIT);

		r = synack_recvv(pd->st, f->sfd, iov, iovcnt, flags);
		if (r > 0) {
			done += (size_t)r;
			if (!waitall || !block || (flags & MSG_PEEK) || done >= total)
				break;
			iov_advance(&iov, &iovcnt, (size_t)r);
			continue;
		}
		if (r != -EAGAIN || !block)
			break;
		r = pd_wait_stream(pd, ready_recv, &fd, &f->rcvtimeo, &f);
		if (r)
			break;
	}
	free(copy);
	return done ? (long)done : r;
}

/* sendto with an address and a vector (MSG_FASTOPEN): synack_sendto takes
 * one buffer, so the vector is flattened into one. */
static long send_flat_to(struct pd *pd, int sfd, const struct iovec *iov, int iovcnt, size_t len, int flags,
			 const struct sockaddr_in *to)
{
	char *buf = malloc(len ? len : 1);
	size_t off = 0;
	long r;

	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len)
			memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	r = synack_sendto(pd->st, sfd, buf, off, flags, to);
	free(buf);
	return r;
}

/* One try at queueing iov: by address (Fast Open) or on the connection. */
static long send_once(struct pd *pd, int sfd, const struct iovec *iov, int iovcnt, size_t left, int flags,
		      const struct sockaddr_in *to)
{
	if (to && iovcnt <= 1)
		return synack_sendto(pd->st, sfd, iovcnt ? iov[0].iov_base : NULL, iovcnt ? iov[0].iov_len : 0,
				     flags, to);
	if (to)
		return send_flat_to(pd, sfd, iov, iovcnt, left, flags, to);
	return synack_sendv(pd->st, sfd, iov, iovcnt, flags);
}

/* sendmsg on one of ours; a blocking one returns when all is queued (or
 * with what was, at an error or timeout), as Linux's tcp_sendmsg. */
static long do_send(struct pd *pd, int fd, const struct iovec *iov_in, int iovcnt, int flags,
		    const struct sockaddr_in *to)
{
	struct pd_file *f = pd_file(pd, fd);
	struct iovec stackv[8], *copy, *iov;
	size_t total, done = 0;
	long r;

	if (!f)
		return -EBADF;
	if (f->kind == PD_PIPE) {
		r = writev(fd, iov_in, iovcnt);
		return r < 0 ? -errno : r;
	}
	r = pd_check_stream_args(f, iov_in, iovcnt);
	if (r)
		return r;
	iov = iov_dup(iov_in, iovcnt, stackv, 8, &copy);
	if (!iov)
		return -ENOMEM;
	total = iov_total(iov, iovcnt);
	for (;;) {
		bool block = !f->nonblock && !(flags & MSG_DONTWAIT);

		r = send_once(pd, f->sfd, iov, iovcnt, total - done, flags, to);
		pd_pump(pd);
		if (r > 0) {
			done += (size_t)r;
			to = NULL; /* connected now (Fast Open) */
			flags &= ~MSG_FASTOPEN;
			if (done >= total || !block)
				break;
			iov_advance(&iov, &iovcnt, (size_t)r);
			continue;
		}
		if (r != -EAGAIN || !block)
			break;
		r = pd_wait_stream(pd, ready_send, &fd, &f->sndtimeo, &f);
		if (r)
			break;
	}
	free(copy);
	return done ? (long)done : r;
}

static ssize_t pd_recv_common(struct pd *pd, int fd, const struct iovec *iov, int iovcnt, int flags)
{
	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	/* _sent: reading may open the window, and the update goes out now. */
	return pd_return_sent(pd, do_recv(pd, fd, iov, iovcnt, flags));
}

static ssize_t pd_send_common(struct pd *pd, int fd, const struct iovec *iov, int iovcnt, int flags,
			      const struct sockaddr *to, socklen_t tolen)
{
	struct sockaddr_in sin, *sinp = NULL;

	if (!pd)
		return pd_fail(EINVAL);
	if (to) {
		if (tolen < sizeof(sa_family_t))
			return pd_fail(EINVAL);
		memset(&sin, 0, sizeof(sin));
		memcpy(&sin, to, tolen < sizeof(sin) ? tolen : sizeof(sin));
		sinp = &sin;
	}
	pd_enter(pd);
	return pd_return_sent(pd, do_send(pd, fd, iov, iovcnt, flags, sinp));
}

static ssize_t pd_read_fn(void *ud, int fd, void *buf, size_t count)
{
	struct iovec v = { buf, count };

	return pd_recv_common(ud, fd, &v, 1, 0);
}

static ssize_t pd_readv_fn(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
	return pd_recv_common(ud, fd, iov, iovcnt, 0);
}

static ssize_t pd_recv_fn(void *ud, int fd, void *buf, size_t len, int flags)
{
	struct iovec v = { buf, len };

	return pd_recv_common(ud, fd, &v, 1, flags);
}

static ssize_t pd_recvfrom_fn(void *ud, int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			      socklen_t *addrlen)
{
	struct iovec v = { buf, len };
	ssize_t r = pd_recv_common(ud, fd, &v, 1, flags);

	/* TCP names no source: Linux reports a zero-length address. */
	if (r >= 0 && addr && addrlen)
		*addrlen = 0;
	return r;
}

static ssize_t pd_recvmsg_fn(void *ud, int fd, struct msghdr *msg, int flags)
{
	ssize_t r;

	if (!msg)
		return pd_fail(EFAULT);
	if (msg->msg_iovlen > PD_IOV_MAX)
		return pd_fail(EMSGSIZE);
	r = pd_recv_common(ud, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
	if (r >= 0) {
		msg->msg_namelen = 0;
		msg->msg_controllen = 0; /* no control messages */
		msg->msg_flags = 0;
	}
	return r;
}

static ssize_t pd_write_fn(void *ud, int fd, const void *buf, size_t count)
{
	struct iovec v = { (void *)(uintptr_t)buf, count };

	return pd_send_common(ud, fd, &v, 1, 0, NULL, 0);
}

static ssize_t pd_writev_fn(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
	return pd_send_common(ud, fd, iov, iovcnt, 0, NULL, 0);
}

static ssize_t pd_send_fn(void *ud, int fd, const void *buf, size_t len, int flags)
{
	struct iovec v = { (void *)(uintptr_t)buf, len };

	return pd_send_common(ud, fd, &v, 1, flags, NULL, 0);
}

static ssize_t pd_sendto_fn(void *ud, int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
			    socklen_t addrlen)
{
	struct iovec v = { (void *)(uintptr_t)buf, len };

	return pd_send_common(ud, fd, &v, 1, flags, addr, addr ? addrlen : 0);
}

static ssize_t pd_sendmsg_fn(void *ud, int fd, const struct msghdr *msg, int flags)
{
	const struct sockaddr *to = NULL;

	if (!msg)
		return pd_fail(EFAULT);
	if (msg->msg_iovlen > PD_IOV_MAX)
		return pd_fail(EMSGSIZE);
	/* TCP ignores the address except to connect with MSG_FASTOPEN. */
	if (msg->msg_name && (flags & MSG_FASTOPEN))
		to = msg->msg_name;
	return pd_send_common(ud, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, to, to ? msg->msg_namelen : 0);
}

/* -------------------------------------------------------- fcntl, ioctl */

static int do_fcntl(struct pd *pd, int fd, int cmd, int arg, bool has_arg)
{
	struct pd_file *f = pd_file(pd, fd);
	int r;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_GETFD:
		r = fcntl(fd, F_GETFD);
		return r < 0 ? -errno : r;
	case F_SETFD:
		r = fcntl(fd, F_SETFD, arg);
		return r < 0 ? -errno : r;
	case F_GETFL:
		if (f->kind == PD_PIPE) {
			r = fcntl(fd, F_GETFL);
			return r < 0 ? -errno : r;
		}
		return O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		if (!has_arg)
			return -EINVAL;
		if (f->kind == PD_PIPE) {
			r = fcntl(fd, F_SETFL, arg);
			return r < 0 ? -errno : r;
		}
		f->nonblock = (arg & O_NONBLOCK) != 0;
		return 0;
	default:
		return -EINVAL; /* F_DUPFD and the rest: not supported */
	}
}

static int pd_fcntl_fn(void *ud, int fd, int cmd, ...)
{
	struct pd *pd = ud;
	bool has_arg = cmd == F_SETFD || cmd == F_SETFL;
	int arg = 0;

	if (!pd)
		return pd_fail(EINVAL);
	if (has_arg) {
		va_list ap;

		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
	}
	pd_enter(pd);
	return (int)pd_return(pd, do_fcntl(pd, fd, cmd, arg, has_arg));
}

static int do_ioctl(struct pd *pd, int fd, unsigned long req, int *p)
{
	struct pd_file *f = pd_file(pd, fd);

	if (!f)
		return -EBADF;
	if (f->kind == PD_PIPE) {
		if (req != FIONREAD && req != FIONBIO)
			return -ENOTTY;
		if (!p)
			return -EFAULT;
		return ioctl(fd, req, p) < 0 ? -errno : 0;
	}
	if (f->kind != PD_SOCKET)
		return -ENOTTY;
	switch (req) {
	case FIONBIO:
		if (!p)
			return -EFAULT;
		f->nonblock = *p != 0;
		return 0;
	case SIOCINQ: /* = FIONREAD */
		return p ? pd_sock_queue(pd->st, f->sfd, PD_QUEUE_IN, p) : -EFAULT;
	case SIOCOUTQ:
		return p ? pd_sock_queue(pd->st, f->sfd, PD_QUEUE_OUT, p) : -EFAULT;
	case SIOCOUTQNSD:
		return p ? pd_sock_queue(pd->st, f->sfd, PD_QUEUE_OUT_NOTSENT, p) : -EFAULT;
	case SIOCATMARK:
		if (!p)
			return -EFAULT;
		*p = 0; /* no urgent data, ever */
		return 0;
	default:
		return -ENOTTY;
	}
}

static int pd_ioctl_fn(void *ud, int fd, unsigned long request, ...)
{
	struct pd *pd = ud;
	int *p = NULL;
	va_list ap;

	if (!pd)
		return pd_fail(EINVAL);
	/* Every request we know takes an int pointer. */
	if (request == FIONBIO || request == SIOCINQ || request == SIOCOUTQ || request == SIOCOUTQNSD ||
	    request == SIOCATMARK) {
		va_start(ap, request);
		p = va_arg(ap, int *);
		va_end(ap);
	}
	pd_enter(pd);
	return (int)pd_return(pd, do_ioctl(pd, fd, request, p));
}

/* ---------------------------------------------------- close, shutdown... */

static int do_close(struct pd *pd, int fd)
{
	struct pd_file *f = pd_file(pd, fd);
	int r = 0;

	if (!f)
		return -EBADF;
	if (f->kind == PD_SOCKET)
		r = synack_close(pd->st, f->sfd);
	pd_epoll_forget(pd, fd);
	pd->files[fd] = NULL;
	pd_file_free(f);
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

static int pd_close_fn(void *ud, int fd)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return_sent(pd, do_close(pd, fd));
}

static int pd_shutdown_fn(void *ud, int fd, int how)
{
	struct pd *pd = ud;
	struct pd_file *f;
	int r;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	r = pd_sock(pd, fd, &f);
	if (!r)
		r = synack_shutdown(pd->st, f->sfd, how);
	return (int)pd_return_sent(pd, r);
}

static bool is_timeo_opt(int level, int name)
{
	return level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO);
}

static int do_getsockopt(struct pd *pd, int fd, int level, int name, void *val, socklen_t *len)
{
	struct pd_file *f;
	int r = pd_sock(pd, fd, &f);

	if (r)
		return r;
	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	if (!val && *len)
		return -EFAULT;
	if (is_timeo_opt(level, name)) {
		const struct timeval *tv = name == SO_RCVTIMEO ? &f->rcvtimeo : &f->sndtimeo;
		socklen_t n = *len < sizeof(*tv) ? *len : sizeof(*tv);

		memcpy(val, tv, n);
		*len = n;
		return 0;
	}
	return synack_getsockopt(pd->st, f->sfd, level, name, val, len);
}

static int pd_getsockopt_fn(void *ud, int fd, int level, int name, void *val, socklen_t *len)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return(pd, do_getsockopt(pd, fd, level, name, val, len));
}

static int do_setsockopt(struct pd *pd, int fd, int level, int name, const void *val, socklen_t len)
{
	struct pd_file *f;
	int r = pd_sock(pd, fd, &f);

	if (r)
		return r;
	if (!val && len)
		return -EFAULT;
	if (is_timeo_opt(level, name)) {
		/* Blocking lives here, so do its timeouts (sock_set_timeout). */
		struct timeval tv;

		if (len < sizeof(tv))
			return -EINVAL;
		memcpy(&tv, val, sizeof(tv));
		if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return -EDOM;
		if (name == SO_RCVTIMEO)
			f->rcvtimeo = tv;
		else
			f->sndtimeo = tv;
		return 0;
	}
	r = synack_setsockopt(pd->st, f->sfd, level, name, val, len);
	pd_pump(pd); /* TCP_NODELAY, TCP_CORK... may send */
	return r;
}

static int pd_setsockopt_fn(void *ud, int fd, int level, int name, const void *val, socklen_t len)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return_settled(pd, do_setsockopt(pd, fd, level, name, val, len));
}

/* ------------------------------------------------------------------ poll */

/* EPOLLET: what counts as a new event - a readiness bit that was not there,
 * or more data / more acknowledged data since the last report (Linux
 * reports each wakeup). */
static void sock_progress(struct pd *pd, int sfd, uint64_t *rx, uint64_t *acked)
{
	struct synack_tcp_info ti;
	unsigned int len = sizeof(ti);

	*rx = *acked = 0;
	if (synack_getsockopt(pd->st, sfd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
		*rx = ti.tcpi_bytes_received;
		*acked = ti.tcpi_bytes_acked;
	}
}

/* Scan an epoll instance: how many events are ready (up to max, written to
 * out when non-NULL). commit: record ET/ONESHOT state for what is reported. */
static int epoll_scan(struct pd *pd, struct pd_file *ep, struct epoll_event *out, int max, bool commit)
{
	int n = 0;

	for (size_t i = 0; i < ep->nitems && n < max; i++) {
		struct pd_epitem *it = &ep->items[i];
		struct pd_file *t = pd_file(pd, it->fd);
		uint64_t rx = 0, acked = 0;
		uint32_t mask;
		int m;

		if (!it->armed || !t)
			continue;
		m = pd_revents(pd, it->fd, (int)(it->events & ~(EPOLLET | EPOLLONESHOT)));
		if (m <= 0 || (m & POLLNVAL))
			continue;
		mask = (uint32_t)m;
		if (it->events & EPOLLET) {
			bool fresh = mask & ~it->last_mask;

			if (t->kind == PD_SOCKET) {
				sock_progress(pd, t->sfd, &rx, &acked);
				fresh = fresh || ((mask & EPOLLIN) && rx != it->last_rx) ||
					((mask & EPOLLOUT) && acked != it->last_acked);
			}
			if (commit) {
				it->last_mask = mask;
				it->last_rx = rx;
				it->last_acked = acked;
			}
			if (!fresh)
				continue;
		}
		if (out) {
			out[n].events = mask;
			out[n].data.u64 = it->data;
		}
		if (commit && (it->events & EPOLLONESHOT))
			it->armed = false;
		n++;
	}
	return n;
}

static int pd_revents(struct pd *pd, int fd, int events)
{
	struct pd_file *f = pd_file(pd, fd);
	int always = POLLERR | POLLHUP | POLLNVAL, m;

	if (!f)
		return POLLNVAL;
	switch (f->kind) {
	case PD_SOCKET:
		m = synack_poll(pd->st, f->sfd);
		if (m < 0)
			return POLLNVAL;
		return m & (events | always);
	case PD_PIPE: {
		struct pollfd p = { .fd = fd, .events = (short)events };

		if (poll(&p, 1, 0) < 0)
			return POLLERR;
		return p.revents;
	}
	case PD_EPOLL:
		return epoll_scan(pd, f, NULL, INT_MAX, false) > 0 ? (events & POLLIN) : 0;
	}
	return POLLNVAL;
}

struct poll_req {
	struct pollfd *fds;
	nfds_t n;
};

static int poll_scan(struct pd *pd, struct pollfd *fds, nfds_t n)
{
	int ready = 0;

	for (nfds_t i = 0; i < n; i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		fds[i].revents = (short)pd_revents(pd, fds[i].fd, fds[i].events);
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

static bool ready_poll(struct pd *pd, const void *arg)
{
	const struct poll_req *q = arg;

	return poll_scan(pd, q->fds, q->n) > 0;
}

static uint64_t timeout_deadline(const struct pd *pd, int timeout_ms)
{
	if (timeout_ms < 0)
		return SYNACK_NEVER;
	return pd_now(pd) + (uint64_t)timeout_ms * NS_PER_MS;
}

static int do_poll(struct pd *pd, struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct poll_req q = { fds, n };
	int r, w;

	if (n && !fds)
		return -EFAULT;
	if (n > (nfds_t)PD_IOV_MAX * 1024)
		return -EINVAL;
	r = poll_scan(pd, fds, n);
	if (r || !timeout_ms)
		return r;
	w = pd_wait(pd, ready_poll, &q, timeout_deadline(pd, timeout_ms));
	if (w && w != -ETIMEDOUT)
		return w;
	return poll_scan(pd, fds, n);
}

static int pd_poll_fn(void *ud, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return(pd, do_poll(pd, fds, nfds, timeout_ms));
}

/* ----------------------------------------------------------------- epoll */

static int do_epoll_create(struct pd *pd, int size)
{
	struct pd_file *f;

	if (pd->bad_config)
		return -EINVAL;
	if (size <= 0)
		return -EINVAL;
	return pd_file_new(pd, "synack-epoll", PD_EPOLL, false, &f);
}

static int pd_epoll_create_fn(void *ud, int size)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return(pd, do_epoll_create(pd, size));
}

static int do_epoll_ctl(struct pd *pd, int epfd, int op, int fd, const struct epoll_event *ev)
{
	struct pd_file *ep = pd_file(pd, epfd), *t = pd_file(pd, fd);
	struct pd_epitem *it = NULL;

	if (!ep || !t)
		return -EBADF;
	if (ep->kind != PD_EPOLL || fd == epfd || t->kind == PD_EPOLL)
		return -EINVAL; /* nested instances are not supported */
	if (op != EPOLL_CTL_DEL && !ev)
		return -EFAULT;
	for (size_t i = 0; i < ep->nitems; i++)
		if (ep->items[i].fd == fd)
			it = &ep->items[i];
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		if (ep->nitems == ep->cap) {
			size_t cap = ep->cap ? ep->cap * 2 : 8;
			struct pd_epitem *items = realloc(ep->items, cap * sizeof(*items));

			if (!items)
				return -ENOMEM;
			ep->items = items;
			ep->cap = cap;
		}
		it = &ep->items[ep->nitems++];
		memset(it, 0, sizeof(*it));
		it->fd = fd;
		/* fallthrough */
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		it->events = ev->events;
		it->data = ev->data.u64;
		it->armed = true;
		it->last_mask = 0;
		it->last_rx = it->last_acked = 0;
		return 0;
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		*it = ep->items[--ep->nitems];
		return 0;
	default:
		return -EINVAL;
	}
}

static int pd_epoll_ctl_fn(void *ud, int epfd, int op, int fd, struct epoll_event *ev)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return(pd, do_epoll_ctl(pd, epfd, op, fd, ev));
}

struct epoll_req {
	int epfd;
};

static bool ready_epoll(struct pd *pd, const void *arg)
{
	struct pd_file *ep = pd_file(pd, ((const struct epoll_req *)arg)->epfd);

	return !ep || ep->kind != PD_EPOLL || epoll_scan(pd, ep, NULL, INT_MAX, false) > 0;
}

static int do_epoll_wait(struct pd *pd, int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
	struct epoll_req q = { epfd };
	struct pd_file *ep = pd_file(pd, epfd);
	int r, w;

	if (!ep)
		return -EBADF;
	if (ep->kind != PD_EPOLL || max <= 0)
		return -EINVAL;
	if (!evs)
		return -EFAULT;
	r = epoll_scan(pd, ep, evs, max, true);
	if (r || !timeout_ms)
		return r;
	w = pd_wait(pd, ready_epoll, &q, timeout_deadline(pd, timeout_ms));
	if (w && w != -ETIMEDOUT)
		return w;
	ep = pd_file(pd, epfd);
	if (!ep || ep->kind != PD_EPOLL)
		return -EBADF;
	return epoll_scan(pd, ep, evs, max, true);
}

static int pd_epoll_wait_fn(void *ud, int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return(pd, do_epoll_wait(pd, epfd, evs, max, timeout_ms));
}

/* ---------------------------------------------------------- pipe, splice */

static int do_pipe(struct pd *pd, int fds[2])
{
	struct pd_file *f[2];
	int p[2];

	if (pd->bad_config)
		return -EINVAL;
	if (!fds)
		return -EFAULT;
	if (pipe(p) < 0)
		return -errno;
	f[0] = calloc(1, sizeof(*f[0]));
	f[1] = calloc(1, sizeof(*f[1]));
	if (!f[0] || !f[1] || pd_file_install(pd, p[0], f[0]) || pd_file_install(pd, p[1], f[1])) {
		if (pd_file(pd, p[0]) == f[0])
			pd->files[p[0]] = NULL;
		if (pd_file(pd, p[1]) == f[1])
			pd->files[p[1]] = NULL;
		free(f[0]);
		free(f[1]);
		close(p[0]);
		close(p[1]);
		return -ENOMEM;
	}
	f[0]->kind = f[1]->kind = PD_PIPE;
	fds[0] = p[0];
	fds[1] = p[1];
	return 0;
}

static int pd_pipe_fn(void *ud, int fds[2])
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return(pd, do_pipe(pd, fds));
}

#define PD_SPLICE_MAX 65536

/*
 * splice between one of our sockets and one of our pipes, by copying. The
 * offsets must be absent: packetdrill passes pointers to the script's values,
 * so a pointer to 0 counts as absent. Socket -> pipe takes at most what the
 * pipe has room for; pipe -> socket queues all it read (waiting for room if
 * it must).
 */
static long do_splice(struct pd *pd, int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
		      unsigned int flags)
{
	struct pd_file *fi = pd_file(pd, in), *fo = pd_file(pd, out);
	char *buf;
	long r;

	if (!fi || !fo)
		return -EBADF;
	if ((off_in && *off_in) || (off_out && *off_out))
		return -ESPIPE;
	if (!len)
		return 0;
	if (len > PD_SPLICE_MAX)
		len = PD_SPLICE_MAX;
	if (fi->kind == PD_SOCKET && fo->kind == PD_PIPE) {
		int cap = fcntl(out, F_GETPIPE_SZ), used = 0;
		struct iovec v;

		if (cap < 0 || ioctl(out, FIONREAD, &used) < 0)
			return -errno;
		if (cap - used <= 0)
			return -EAGAIN;
		if ((size_t)(cap - used) < len)
			len = (size_t)(cap - used);
		buf = malloc(len);
		if (!buf)
			return -ENOMEM;
		v.iov_base = buf;
		v.iov_len = len;
		r = do_recv(pd, in, &v, 1, (flags & SPLICE_F_NONBLOCK) ? MSG_DONTWAIT : 0);
		if (r > 0 && write(out, buf, (size_t)r) != r)
			r = -EIO;
		free(buf);
		return r;
	}
	if (fi->kind == PD_PIPE && fo->kind == PD_SOCKET) {
		struct iovec v;

		buf = malloc(len);
		if (!buf)
			return -ENOMEM;
		r = read(in, buf, len);
		if (r < 0) {
			r = -errno;
		} else if (r > 0) {
			v.iov_base = buf;
			v.iov_len = (size_t)r;
			r = do_send(pd, out, &v, 1, 0, NULL);
		}
		free(buf);
		return r;
	}
	return -EINVAL;
}

static int pd_splice_fn(void *ud, int in, loff_t *off_in, int out, loff_t *off_out, size_t len, unsigned int flags)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	return (int)pd_return_sent(pd, do_splice(pd, in, off_in, out, off_out, len, flags));
}

/* ------------------------------------------------------- packets and time */

/* Queue one IPv4 packet for the stack, in an Ethernet frame. */
static int pd_queue_ip(struct pd *pd, const uint8_t *ip, size_t len)
{
	size_t flen = ETH_HLEN + len < ETH_ZLEN ? ETH_ZLEN : ETH_HLEN + len;
	uint8_t *frame = calloc(1, flen);
	int err;

	if (!frame)
		return -ENOMEM;
	memcpy(frame, pd_stack_mac, 6);
	memcpy(frame + 6, pd_peer_mac, 6);
	put16(frame + 12, ETHERTYPE_IPV4);
	memcpy(frame + ETH_HLEN, ip, len);
	err = fifo_push(&pd->rx, frame, flen, 0);
	free(frame);
	return err;
}

static uint16_t ip_header_csum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * A packet longer than the MTU (packetdrill may inject segments bigger
 * than an MSS, as GRO would hand them to Linux; tun takes them) goes to
 * the stack as IPv4 fragments, which it reassembles: synack's link takes
 * frames of at most mtu + 14 bytes.
 */
static int pd_queue_fragments(struct pd *pd, const uint8_t *ip, size_t len)
{
	size_t ihl = (size_t)(ip[0] & 15) * 4, payload, chunk, off = 0;
	uint16_t frag = get16(ip + 6);
	uint8_t *f;
	int err = 0;

	if (ihl != 20 || (frag & 0x3fff) || pd->mtu < 28)
		return -EMSGSIZE; /* options, or already a fragment */
	payload = len - ihl;
	chunk = (pd->mtu - ihl) & ~(size_t)7;
	f = malloc(ihl + chunk);
	if (!f)
		return -ENOMEM;
	while (off < payload && !err) {
		size_t n = payload - off < chunk ? payload - off : chunk;
		bool more = off + n < payload;

		memcpy(f, ip, ihl);
		memcpy(f + ihl, ip + ihl + off, n);
		put16(f + 2, (uint16_t)(ihl + n));
		put16(f + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
		put16(f + 10, 0);
		put16(f + 10, ip_header_csum(f, ihl));
		err = pd_queue_ip(pd, f, ihl + n);
		off += n;
	}
	free(f);
	return err;
}

static int pd_netdev_send_fn(void *ud, const void *buf, size_t count)
{
	const uint8_t *ip = buf;
	struct pd *pd = ud;
	int err;

	if (!pd)
		return pd_fail(EINVAL);
	if (!buf || count < 1)
		return pd_fail(EINVAL);
	if ((ip[0] >> 4) == 6)
		return pd_fail(EAFNOSUPPORT); /* no IPv6 */
	if ((ip[0] >> 4) != 4 || count < 20 || count > 65535)
		return pd_fail(EINVAL);
	pd_enter(pd);
	if (count <= pd->mtu)
		err = pd_queue_ip(pd, ip, count);
	else
		err = pd_queue_fragments(pd, ip, count);
	return (int)pd_return_sent(pd, err);
}

static int pd_netdev_receive_fn(void *ud, void *buf, size_t *count, long long *time_usecs)
{
	struct pd *pd = ud;
	struct pd_frame *f;

	if (!pd || !buf || !count) {
		if (count)
			*count = 0;
		return pd ? pd_fail(EINVAL) : 0;
	}
	pd_enter(pd);
	for (;;) {
		uint64_t now, next;

		if (pd->tx.head)
			break;
		pd_pump(pd);
		pd_settle(pd);
		if (pd->tx.head)
			break;
		/* Nothing yet: move time to the next thing due, if anything
		 * is due within the horizon. */
		now = pd_now(pd);
		next = pd_next_event(pd);
		if (next == SYNACK_NEVER || (next > now && next - now > pd->horizon_ns)) {
			*count = 0;
			if (time_usecs)
				*time_usecs = (long long)(now / NS_PER_US);
			pd_leave(pd);
			return 0;
		}
		pd_advance_to(pd, next > now ? next : now + NS_PER_US);
	}
	f = fifo_pop(&pd->tx);
	*count = f->len < *count ? f->len : *count;
	memcpy(buf, f->data, *count);
	if (time_usecs)
		*time_usecs = (long long)(f->t_ns / NS_PER_US);
	free(f);
	pd_leave(pd);
	return 0;
}

static int pd_usleep_fn(void *ud, useconds_t usec)
{
	struct pd *pd = ud;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	pd_advance_to(pd, pd_now(pd) + (uint64_t)usec * NS_PER_US);
	pd_leave(pd);
	return 0;
}

static int pd_gettimeofday_fn(void *ud, struct timeval *tv, struct timezone *tz)
{
	struct pd *pd = ud;
	uint64_t now;

	if (!pd)
		return pd_fail(EINVAL);
	pd_enter(pd);
	/* Each reading moves time on by a microsecond, so that a caller
	 * spinning until a moment arrives gets there. */
	pd_advance_to(pd, pd_now(pd) + NS_PER_US);
	now = pd_now(pd);
	pd_leave(pd);
	if (tv) {
		tv->tv_sec = (time_t)(now / NS_PER_SEC);
		tv->tv_usec = (suseconds_t)((now % NS_PER_SEC) / NS_PER_US);
	}
	if (tz)
		memset(tz, 0, sizeof(*tz));
	return 0;
}

/* ----------------------------------------------------------- --so_flags */

static void pd_config_error(struct pd *pd, const char *fmt, const char *what)
{
	fprintf(stderr, "libsynack_packetdrill: --so_flags: ");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	pd->bad_config = true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > 1e9)
		return false;
	*ns = (uint64_t)(v * (double)NS_PER_SEC);
	return true;
}

static bool mask_to_prefix(struct in_addr m, uint8_t *prefix)
{
	uint32_t v = ntohl(m.s_addr);
	uint8_t n = 0;

	while (n < 32 && (v & (0x80000000u >> n)))
		n++;
	if (n < 32 && (v << n))
		return false; /* not contiguous */
	*prefix = n;
	return true;
}

static bool is_key(const char *k, const char *a, const char *b, const char *c)
{
	return !strcmp(k, a) || (b && !strcmp(k, b)) || (c && !strcmp(k, c));
}

static void pd_add_setting(struct pd *pd, const char *name, const char *value)
{
	struct pd_setting *s = realloc(pd->settings, (pd->nsettings + 1) * sizeof(*s));

	if (!s) {
		pd->bad_config = true;
		return;
	}
	pd->settings = s;
	s[pd->nsettings].name = strdup(name);
	s[pd->nsettings].value = strdup(value);
	if (!s[pd->nsettings].name || !s[pd->nsettings].value) {
		free(s[pd->nsettings].name);
		free(s[pd->nsettings].value);
		pd->bad_config = true;
		return;
	}
	pd->nsettings++;
}

#define BAD(...)                                       \
	do {                                           \
		pd_config_error(pd, __VA_ARGS__);      \
		return;                                \
	} while (0)

/* One key=value of --so_flags. */
static void pd_flag(struct pd *pd, const char *key, const char *val)
{
	struct in_addr a;
	uint64_t v;

	if (is_key(key, "local", "local_ip", "addr")) {
		char ip[64];
		const char *slash = strchr(val, '/');
		size_t n = slash ? (size_t)(slash - val) : strlen(val);

		if (n >= sizeof(ip))
			BAD("bad local address '%s'", val);
		memcpy(ip, val, n);
		ip[n] = 0;
		if (inet_pton(AF_INET, ip, &pd->local) != 1)
			BAD("bad local address '%s' (IPv4 only)", val);
		if (slash && (!parse_u64(slash + 1, &v) || v > 32))
			BAD("bad prefix in '%s'", val);
		if (slash)
			pd->prefix = (uint8_t)v;
	} else if (is_key(key, "gw", "gateway", "gateway_ip")) {
		if (inet_pton(AF_INET, val, &pd->gateway) != 1)
			BAD("bad gateway '%s'", val);
		pd->gateway_set = true;
	} else if (is_key(key, "mask", "netmask", "netmask_ip")) {
		if (inet_pton(AF_INET, val, &a) != 1 || !mask_to_prefix(a, &pd->prefix))
			BAD("bad netmask '%s'", val);
	} else if (is_key(key, "prefix", "prefix_len", NULL)) {
		if (!parse_u64(val, &v) || v > 32)
			BAD("bad prefix '%s'", val);
		pd->prefix = (uint8_t)v;
	} else if (is_key(key, "mtu", NULL, NULL)) {
		if (!parse_u64(val, &v) || v < 576 || v > 65535)
			BAD("bad mtu '%s'", val);
		pd->mtu = (uint32_t)v;
	} else if (is_key(key, "seed", NULL, NULL)) {
		if (!parse_u64(val, &pd->seed))
			BAD("bad seed '%s'", val);
		pd->seeded = true;
	} else if (is_key(key, "start", "clock_start", NULL)) {
		if (!parse_seconds(val, &pd->start_ns))
			BAD("bad start time '%s' (seconds)", val);
	} else if (is_key(key, "netdev_timeout", NULL, NULL)) {
		if (!parse_seconds(val, &pd->horizon_ns) || !pd->horizon_ns)
			BAD("bad netdev_timeout '%s' (seconds)", val);
	} else if (is_key(key, "trace", "verbose", NULL)) {
		pd->trace = strcmp(val, "0") != 0;
	} else if (is_key(key, "packetdrill_defaults", NULL, NULL)) {
		pd->pd_defaults = strcmp(val, "0") != 0;
	} else {
		pd_add_setting(pd, key, val); /* a sysctl, applied once the stack exists */
	}
}

#undef BAD

/* Split --so_flags into key=value items. Items are separated by commas or
 * white space; a piece without '=' continues the previous value with the
 * separator that preceded it, so "tcp_rmem=4096 87380 6291456" and
 * "tcp_fastopen_key=K1,K2" keep their inner separators. */
static void pd_parse_flags(struct pd *pd, const char *flags)
{
	char *item = NULL, *val = NULL;
	const char *p = flags;
	size_t cap;

	if (!flags)
		return;
	cap = strlen(flags) + 1; /* an item never outgrows the whole string */
	while (*p) {
		const char *start;
		char sep = 0;
		size_t n;

		while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n') {
			if (!sep || *p == ',')
				sep = *p == ',' ? ',' : ' ';
			p++;
		}
		if (!*p)
			break;
		start = p;
		while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		n = (size_t)(p - start);
		if (!memchr(start, '=', n)) {
			if (item) { /* continue the previous value */
				size_t len = strlen(val);

				val[len] = sep;
				memcpy(val + len + 1, start, n);
				val[len + 1 + n] = 0;
			} else {
				char word[128];

				snprintf(word, sizeof(word), "%.*s", (int)(n < 100 ? n : 100), start);
				pd_config_error(pd, "'%s' is not name=value", word);
			}
			continue;
		}
		if (item)
			pd_flag(pd, item, val);
		free(item);
		item = calloc(1, cap);
		if (!item) {
			pd->bad_config = true;
			return;
		}
		memcpy(item, start, n);
		val = strchr(item, '=');
		*val++ = 0;
	}
	if (item)
		pd_flag(pd, item, val);
	free(item);
}

/* Linux's packetdrill test defaults (gtests/net/common/defaults.sh) that
 * synack has: what upstream scripts assume. */
static const struct pd_setting_const {
	const char *name, *value;
} pd_default_settings[] = {
	{ "net.ipv4.tcp_rmem", "4096 540000 15728640" },
	{ "net.ipv4.tcp_wmem", "4096 262144 4194304" },
	{ "net.ipv4.tcp_timestamps", "1" },
	{ "net.ipv4.tcp_syn_retries", "5" },
	{ "net.ipv4.tcp_synack_retries", "5" },
	{ "net.ipv4.tcp_frto", "2" },
	{ "net.ipv4.tcp_sack", "1" },
	{ "net.ipv4.tcp_dsack", "1" },
	{ "net.ipv4.tcp_reordering", "3" },
	{ "net.ipv4.tcp_slow_start_after_idle", "0" },
	{ "net.ipv4.tcp_early_retrans", "4" },
	{ "net.ipv4.tcp_recovery", "1" },
	{ "net.ipv4.tcp_ecn", "0" },
	{ "net.ipv4.tcp_fastopen", "0x403" },
	{ "net.ipv4.tcp_fastopen_key", "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4" },
	{ "net.ipv4.tcp_syncookies", "1" },
};

/* The sysctls Linux writes as several numbers, and synack keeps apart. */
static const struct {
	const char *name;
	const char *parts[3];
} pd_vector_sysctls[] = {
	{ "net.ipv4.tcp_rmem", { "net.ipv4.tcp_rmem_min", "net.ipv4.tcp_rmem_default", "net.ipv4.tcp_rmem_max" } },
	{ "net.ipv4.tcp_wmem", { "net.ipv4.tcp_wmem_min", "net.ipv4.tcp_wmem_default", "net.ipv4.tcp_wmem_max" } },
	{ "net.ipv4.ip_local_port_range",
	  { "net.ipv4.ip_local_port_range_lo", "net.ipv4.ip_local_port_range_hi", NULL } },
};

static int pd_set_vector(struct pd *pd, const char *const parts[3], const char *value)
{
	char buf[256], *save = NULL, *tok;
	int i = 0, err;

	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, " \t,:", &save); tok; tok = strtok_r(NULL, " \t,:", &save)) {
		if (i >= 3 || !parts[i])
			return -EINVAL;
		err = synack_sysctl_set_str(pd->st, parts[i++], tok);
		if (err)
			return err;
	}
	return i == 3 || (i == 2 && !parts[2]) ? 0 : -EINVAL;
}

/* Set one sysctl by a short ("tcp_sack") or full ("net.ipv4.tcp_sack")
 * name. 0 or a negative errno. */
static int pd_sysctl(struct pd *pd, const char *name, const char *value)
{
	static const char *const prefixes[] = { "", "net.ipv4.", "net.core.", "net." };
	char full[128];

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		int err;

		if (*prefixes[i] && !strncmp(name, "net.", 4))
			break;
		snprintf(full, sizeof(full), "%s%s", prefixes[i], name);
		if (!strcmp(full, "net.ipv4.tcp_congestion_control")) {
			if (strlen(value) >= sizeof(pd->cc))
				return -EINVAL;
			snprintf(pd->cc, sizeof(pd->cc), "%s", value);
			return 0;
		}
		for (size_t j = 0; j < sizeof(pd_vector_sysctls) / sizeof(pd_vector_sysctls[0]); j++)
			if (!strcmp(full, pd_vector_sysctls[j].name))
				return pd_set_vector(pd, pd_vector_sysctls[j].parts, value);
		err = synack_sysctl_set_str(pd->st, full, value);
		if (err != -ENOENT)
			return err;
	}
	return -ENOENT;
}

static void pd_trace_sink(void *ctx, const struct synack_trace_event *ev)
{
	const struct pd *pd = ctx;
	double t = (double)(ev->ts_ns - pd->start_ns) / 1e9;
	char buf[512];

	if (ev->kind == SYNACK_TRACE_FRAME_RX || ev->kind == SYNACK_TRACE_FRAME_TX) {
		synack_format_frame(buf, sizeof(buf), ev->frame, ev->frame_len);
		fprintf(stderr, "synack %.6f %s %s\n", t, ev->kind == SYNACK_TRACE_FRAME_RX ? "in " : "out", buf);
	} else {
		fprintf(stderr, "synack %.6f %s%s: %s\n", t, ev->kind == SYNACK_TRACE_DROP ? "drop " : "", ev->name,
			ev->text);
	}
}

/* ------------------------------------------------------------- lifetime */

static void pd_destroy(struct pd *pd)
{
	if (pd->st)
		synack_stack_free(pd->st);
	if (pd->clk)
		synack_clock_free(pd->clk);
	fifo_clear(&pd->rx);
	fifo_clear(&pd->tx);
	for (int fd = 0; fd < pd->nfiles; fd++) {
		struct pd_file *f = pd->files[fd];
		struct stat sb;

		if (!f)
			continue;
		/* Close only what is still ours: packetdrill may have closed
		 * the number with libc's close() and the number reused. */
		if (fstat(fd, &sb) == 0 && sb.st_dev == f->dev && sb.st_ino == f->ino)
			close(fd);
		pd_file_free(f);
	}
	free(pd->files);
	for (size_t i = 0; i < pd->nsettings; i++) {
		free(pd->settings[i].name);
		free(pd->settings[i].value);
	}
	free(pd->settings);
	pthread_cond_destroy(&pd->changed);
	pthread_cond_destroy(&pd->settled);
	pthread_mutex_destroy(&pd->mu);
	free(pd);
}

static void pd_free_fn(void *ud)
{
	struct pd *pd = ud;
	struct timespec until;

	if (!pd)
		return;
	pd_lock(pd);
	/* Wake any caller still blocked and let it leave. */
	pd->dying = true;
	pthread_cond_broadcast(&pd->changed);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += PD_SETTLE_SECS;
	while (pd->waiters) {
		if (pthread_cond_timedwait(&pd->settled, &pd->mu, &until) == ETIMEDOUT) {
			pd_leave(pd);
			return; /* still in use: leak rather than free under it */
		}
	}
	pd_leave(pd);
	pd_destroy(pd);
}

static struct pd *pd_new(const char *flags)
{
	struct synack_stack_config sc = { 0 };
	struct synack_if_config ic = { 0 };
	pthread_condattr_t ca;
	struct timespec ts;
	struct pd *pd = calloc(1, sizeof(*pd));
	int err;

	if (!pd)
		return NULL;
	pthread_mutex_init(&pd->mu, NULL);
	pthread_cond_init(&pd->changed, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pd->settled, &ca);
	pthread_condattr_destroy(&ca);
	pd->driver = pthread_self();

	/* Defaults: packetdrill's addresses (--local_ip 192.168.0.1, remote
	 * 192.0.2.1 behind a gateway), its tun device's MTU. */
	inet_pton(AF_INET, "192.168.0.1", &pd->local);
	pd->prefix = 16;
	pd->mtu = 1500;
	pd->horizon_ns = (uint64_t)PD_DEFAULT_HORIZON_SEC * NS_PER_SEC;
	pd->pd_defaults = true;
	clock_gettime(CLOCK_REALTIME, &ts);
	pd->start_ns = (uint64_t)ts.tv_sec * NS_PER_SEC; /* now, to the second */
	pd_parse_flags(pd, flags);

	pd->clk = synack_clock_new_virtual(pd->start_ns);
	sc.clock = pd->clk;
	sc.name = "synack";
	sc.seeded = pd->seeded;
	sc.seed = pd->seed;
	if (!pd->clk || synack_stack_new(&sc, &pd->st)) {
		pd_destroy(pd);
		return NULL;
	}
	if (pd->trace)
		synack_trace_set_sink(pd->st, pd_trace_sink, pd);
	if (pd->pd_defaults) {
		for (size_t i = 0; i < sizeof(pd_default_settings) / sizeof(pd_default_settings[0]); i++)
			pd_sysctl(pd, pd_default_settings[i].name, pd_default_settings[i].value);
	}
	for (size_t i = 0; i < pd->nsettings; i++) {
		err = pd_sysctl(pd, pd->settings[i].name, pd->settings[i].value);
		if (err == -ENOENT)
			pd_config_error(pd, "unknown setting '%s'", pd->settings[i].name);
		else if (err)
			pd_config_error(pd, "bad value for '%s'", pd->settings[i].name);
	}

	/* No gateway given, or one equal to our own address (packetdrill's
	 * default gateway string is 192.168.0.1): use another host of the
	 * subnet. The peer answers ARP for every address anyway. */
	if (!pd->gateway_set || pd->gateway.s_addr == pd->local.s_addr) {
		uint32_t mask = pd->prefix ? ~0u << (32 - pd->prefix) : 0, h = ntohl(pd->local.s_addr);
		uint32_t g = (h & mask) | 1;

		if (g == h)
			g = (h & mask) | 2;
		pd->gateway.s_addr = pd->prefix < 31 ? htonl(g) : 0;
	}
	pd->link.l.ops = &pd_link_ops;
	memcpy(pd->link.l.mac, pd_stack_mac, 6);
	pd->link.l.mtu = pd->mtu;
	pd->link.pd = pd;
	ic.addr = pd->local;
	ic.prefix_len = pd->prefix;
	ic.gateway = pd->gateway;
	err = synack_if_up(pd->st, &pd->link.l, &ic);
	if (err) {
		char a[64];

		snprintf(a, sizeof(a), "%s", strerror(-err));
		pd_config_error(pd, "the interface refused the addresses: %s", a);
	}
	pd_pump(pd);
	fifo_clear(&pd->tx); /* nothing IP has gone out yet, but be sure */
	return pd;
}

/* ---------------------------------------------------------- the export */

PD_EXPORT void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc);

PD_EXPORT void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
	if (!ifc)
		return;
	/* Every member is set even if the instance could not be made: the
	 * calls then fail with EINVAL instead of jumping to NULL. */
	ifc->userdata = pd_new(flags);
	ifc->free = pd_free_fn;
	ifc->socket = pd_socket_fn;
	ifc->bind = pd_bind_fn;
	ifc->listen = pd_listen_fn;
	ifc->accept = pd_accept_fn;
	ifc->connect = pd_connect_fn;
	ifc->read = pd_read_fn;
	ifc->readv = pd_readv_fn;
	ifc->recv = pd_recv_fn;
	ifc->recvfrom = pd_recvfrom_fn;
	ifc->recvmsg = pd_recvmsg_fn;
	ifc->write = pd_write_fn;
	ifc->writev = pd_writev_fn;
	ifc->send = pd_send_fn;
	ifc->sendto = pd_sendto_fn;
	ifc->sendmsg = pd_sendmsg_fn;
	ifc->fcntl = pd_fcntl_fn;
	ifc->ioctl = pd_ioctl_fn;
	ifc->close = pd_close_fn;
	ifc->shutdown = pd_shutdown_fn;
	ifc->getsockopt = pd_getsockopt_fn;
	ifc->setsockopt = pd_setsockopt_fn;
	ifc->poll = pd_poll_fn;
	ifc->netdev_send = pd_netdev_send_fn;
	ifc->netdev_receive = pd_netdev_receive_fn;
	ifc->usleep = pd_usleep_fn;
	ifc->gettimeofday = pd_gettimeofday_fn;
	ifc->epoll_create = pd_epoll_create_fn;
	ifc->epoll_ctl = pd_epoll_ctl_fn;
	ifc->epoll_wait = pd_epoll_wait_fn;
	ifc->pipe = pd_pipe_fn;
	ifc->splice = pd_splice_fn;
}
