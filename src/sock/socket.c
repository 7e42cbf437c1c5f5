/*
 * The socket layer: descriptors, sock allocation and the synack_* socket
 * calls (Linux: net/socket.c, af_inet.c, the SOL_SOCKET half of
 * net/core/sock.c and the option half of tcp.c). Every call is
 * non-blocking; errors are Linux's negative errnos and leave state alone.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include "core/stack.h"
#include "tcp/tcp.h"

/* IPPROTO_TCP option numbers (<netinet/tcp.h>, whose TCP_* state names
 * clash with enum tcp_state). */
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_CORK 3
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_SYNCNT 7
#define TCP_LINGER2 8
#define TCP_DEFER_ACCEPT 9
#define TCP_INFO 11
#define TCP_QUICKACK 12
#define TCP_CONGESTION 13
#define TCP_USER_TIMEOUT 18
#define TCP_FASTOPEN 23 /* fastopen: */
#define TCP_FASTOPEN_CONNECT 30
#define TCP_FASTOPEN_KEY 33
#define TCP_FASTOPEN_NO_COOKIE 34
/* <poll.h> shows it only under _GNU_SOURCE. */
#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

/* From inet_hashtables.c; to be declared in tcp.h. */
void inet_unhash(struct sock *sk);

/* Linux's fs.nr_open default: the most descriptors a process may have. */
#define SOCK_MAX_FDS (1 << 20)
/* Linux's floors for SO_RCVBUF/SO_SNDBUF on x86-64: one minimal skb's
 * truesize (2048 + the 256-byte aligned sk_buff), twice that for sending. */
#define SOCK_MIN_RCVBUF 2304
#define SOCK_MIN_SNDBUF (2 * SOCK_MIN_RCVBUF)
/* TCP_MAXSEG's upper bound (Linux: MAX_TCP_WINDOW). */
#define MAX_TCP_WINDOW 32767
#define MAX_TCP_SYNCNT 127
#define MAX_TCP_KEEPIDLE 32767
#define MAX_TCP_KEEPINTVL 32767
#define MAX_TCP_KEEPCNT 127
/* TCP_LINGER2's ceiling (Linux: TCP_FIN_TIMEOUT_MAX, 120 s). */
#define TCP_FIN_TIMEOUT_MAX_S 120
/* Linux's socket->state after a disconnect that failed (SS_DISCONNECTING). */
#define SS_DISCONNECTING 4
/* Vector and length limits of read/write (Linux: UIO_MAXIOV, MAX_RW_COUNT). */
#define SOCK_IOV_MAX 1024
#define SOCK_MAX_RW ((size_t)INT_MAX & ~(size_t)4095)
#define NSEC_PER_SEC 1000000000ULL

/* ------------------------------------------------------------ descriptors */

static struct sock *sockfd_lookup(const struct stack *st, int fd)
{
	if (!st || fd < 0 || fd >= st->tcp.nfds)
		return NULL;
	return st->tcp.fds[fd];
}

struct sock *sock_lookup(const struct stack *st, int fd) { return sockfd_lookup(st, fd); }

/* The lowest free descriptor, growing the table if need be (Linux:
 * get_unused_fd_flags). Nothing is installed yet. */
static int get_unused_fd(struct stack *st)
{
	struct tcp_state_all *t = &st->tcp;
	struct sock **fds;
	int fd = t->nfds, n;

	for (int i = 0; i < t->nfds; i++) {
		if (!t->fds[i])
			return i;
	}
	if (t->nfds >= SOCK_MAX_FDS)
		return -EMFILE;
	n = t->nfds ? t->nfds * 2 : 64;
	if (n > SOCK_MAX_FDS)
		n = SOCK_MAX_FDS;
	fds = realloc(t->fds, (size_t)n * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	memset(fds + t->nfds, 0, (size_t)(n - t->nfds) * sizeof(*fds));
	t->fds = fds;
	t->nfds = n;
	return fd;
}

static void fd_install(struct stack *st, int fd, struct sock *sk)
{
	st->tcp.fds[fd] = sk;
	sk->fd = fd;
}


/* ------------------------------------------------------------------- sock */

/* The defaults Linux's tcp_init_sock gives a new socket. */
static void tcp_init_sock_defaults(struct sock *sk)
{
	sk->mss_cache = TCP_MSS_DEFAULT;
	sk->rx_opt.mss_clamp = TCP_MSS_DEFAULT;
	sk->icsk_rto = TCP_TIMEOUT_INIT_MS;
	sk->snd_cwnd = TCP_INIT_CWND;
	sk->snd_ssthresh = 0x7fffffff; /* TCP_INFINITE_SSTHRESH */
	sk->snd_cwnd_clamp = ~0u;
	sk->mdev_us = 1000000;         /* TCP_TIMEOUT_INIT in us, as tcp_init_sock */
	sk->min_rtt_us = ~0u;
	sk->rcvlowat = 1;
	sk->ca_ops = tcp_ca_default();
}

struct sock *sk_alloc(struct stack *st)
{
	struct sock *sk = kmem_cache_zalloc(&st->tcp.sk_slab);

	if (!sk)
		return NULL;
	sk->st = st;
	sk->fd = -1;
	sk->c.state = TCP_CLOSE;
	sk->sock_state = SS_UNCONNECTED;
	INIT_HLIST_NODE(&sk->c.node);
	INIT_HLIST_NODE(&sk->bind_node);
	sk->sk_rcvbuf = (uint32_t)st->sysctl.tcp_rmem_default;
	sk->sk_sndbuf = (uint32_t)st->sysctl.tcp_wmem_default;
	INIT_LIST_HEAD(&sk->accept_node);
	skb_queue_head_init(&sk->rtx_queue);
	skb_queue_head_init(&sk->receive_queue);
	skb_queue_head_init(&sk->write_queue);
	INIT_LIST_HEAD(&sk->orphan_node);
	timer_setup(&sk->keepalive_timer, TIMER_TCP_KEEPALIVE);
	tcp_init_sock_defaults(sk);
	tcp_init_xmit_timers(sk);
	return sk;
}

/* Listener state is made by the first listen() or Fast Open option, so
 * that the connections, the many, do not carry it. */
struct request_sock_queue *sock_rskq(struct sock *sk)
{
	struct request_sock_queue *q = sk->rskq;

	if (q)
		return q;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	INIT_LIST_HEAD(&q->accept_queue);
	INIT_LIST_HEAD(&q->fastopenq.active);
	INIT_LIST_HEAD(&q->fastopenq.rst);
	sk->rskq = q;
	return q;
}

/* Children still queued on a dying listener must not point at it. */
static void sk_detach_accept_queue(struct sock *sk)
{
	struct sock *child, *n;

	if (!sk->rskq)
		return;
	sk->rskq->ack_backlog = 0;
	list_for_each_entry_safe(child, n, &sk->rskq->accept_queue, accept_node) {
		list_del_init(&child->accept_node);
		child->parent = NULL;
	}
}

void sk_free(struct sock *sk)
{
	struct stack *st;

	if (!sk)
		return;
	st = sk->st;
	tcp_clear_xmit_timers(sk);
	del_timer(st, &sk->keepalive_timer);
	list_del_init(&sk->orphan_node);
	if (sk->ca_ops && sk->ca_ops->release)
		sk->ca_ops->release(sk);
	tcp_fastopen_sk_free(sk); /* fastopen: */
	ep_forget_sock(sk);
	skb_queue_purge(&sk->rtx_queue);
	skb_queue_purge(&sk->receive_queue);
	skb_queue_purge(&sk->write_queue);
	tcp_ooo_free(sk);
	if (!list_empty(&sk->accept_node)) {
		list_del_init(&sk->accept_node);
		if (sk->parent)
			sk->parent->rskq->ack_backlog--;
	}
	sk_detach_accept_queue(sk);
	inet_unhash(sk);
	inet_put_port(sk);
	if (sk->fd >= 0 && sk->fd < st->tcp.nfds && st->tcp.fds[sk->fd] == sk)
		st->tcp.fds[sk->fd] = NULL;
	free(sk->rskq);
	free(sk->fastopen_req);
	kmem_cache_free(sk);
}

/* Readiness may have changed: wake epoll and blocked callers. */
void sk_state_change(struct sock *sk) { sk_wakeup(sk); }

/* -------------------------------------------------------------- addresses */

static void fill_sockaddr(struct sockaddr_in *sin, uint32_t addr, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = addr;
	sin->sin_port = htons(port);
}

/* -------------------------------------------------------------- the calls */

int synack_socket(struct stack *st)
{
	struct sock *sk;
	int fd;

	if (!st)
		return -EINVAL;
	fd = get_unused_fd(st);
	if (fd < 0)
		return fd;
	sk = sk_alloc(st);
	if (!sk)
		return -ENOMEM;
	fd_install(st, fd, sk);
	return fd;
}

/* Linux's inet_bind checks in its order: family, address, state. */
static int inet_bind_check(const struct stack *st, const struct sock *sk, const struct sockaddr_in *addr)
{
	uint32_t saddr;

	if (!addr)
		return -EINVAL;
	/* AF_UNSPEC is tolerated for INADDR_ANY, as Linux does for old binaries. */
	if (addr->sin_family != AF_INET &&
	    (addr->sin_family != AF_UNSPEC || addr->sin_addr.s_addr != htonl(INADDR_ANY)))
		return -EAFNOSUPPORT;
	saddr = addr->sin_addr.s_addr;
	if (saddr != htonl(INADDR_ANY) && (!st->dev.up || saddr != st->dev.addr))
		return -EADDRNOTAVAIL;
	if (sk->c.state != TCP_CLOSE || sk->in_bhash)
		return -EINVAL;
	return 0;
}

int synack_bind(struct stack *st, int fd, const struct sockaddr_in *addr)
{
	struct sock *sk = sockfd_lookup(st, fd);
	uint16_t port;
	int err;

	if (!sk)
		return -EBADF;
	err = inet_bind_check(st, sk, addr);
	if (err)
		return err;
	port = ntohs(addr->sin_port);
	sk->c.laddr = addr->sin_addr.s_addr;
	err = inet_csk_get_port(sk, port);
	if (err) {
		sk->c.laddr = 0;
		return err == -ENOMEM ? err : -EADDRINUSE;
	}
	/* Linux's SOCK_BINDADDR_LOCK / SOCK_BINDPORT_LOCK: what the user chose
	 * survives the connection; an automatic choice does not. */
	sk->addr_bound = sk->c.laddr != 0;
	sk->bound = port != 0;
	sk->c.raddr = 0;
	sk->c.rport = 0;
	return 0;
}

/* inet_csk_listen_start: take (or pick) the port, then become a listener. */
static int inet_csk_listen_start(struct sock *sk)
{
	int err;

	err = inet_csk_get_port(sk, sk->in_bhash ? sk->c.lport : 0);
	if (err)
		return err == -ENOMEM ? err : -EADDRINUSE;
	sk->rskq->ack_backlog = 0;
	tcp_set_state(sk, TCP_LISTEN);
	inet_listen_hash(sk);
	return 0;
}

int synack_listen(struct stack *st, int fd, int backlog)
{
	struct sock *sk = sockfd_lookup(st, fd);
	unsigned int somaxconn, max;
	int err;

	if (!sk)
		return -EBADF;
	if (sk->sock_state != SS_UNCONNECTED)
		return -EINVAL;
	if (sk->c.state != TCP_CLOSE && sk->c.state != TCP_LISTEN)
		return -EINVAL;
	/* __sys_listen compares as unsigned: a negative backlog means "most". */
	somaxconn = (unsigned int)st->sysctl.somaxconn;
	max = (unsigned int)backlog > somaxconn ? somaxconn : (unsigned int)backlog;
	if (sk->c.state != TCP_LISTEN) {
		if (!sock_rskq(sk))
			return -ENOMEM;
		tcp_fastopen_listen(sk, (int)max); /* fastopen: sysctl 0x400 */
		err = inet_csk_listen_start(sk);
		if (err)
			return err;
	}
	sk->rskq->max_ack_backlog = (int)max;
	return 0;
}

int synack_accept(struct stack *st, int fd, struct sockaddr_in *peer)
{
	struct sock *sk = sockfd_lookup(st, fd);
	struct sock *child;
	int newfd;

	if (!sk)
		return -EBADF;
	/* As __sys_accept4: the descriptor is found before the queue is touched. */
	newfd = get_unused_fd(st);
	if (newfd < 0)
		return newfd;
	if (sk->c.state != TCP_LISTEN)
		return -EINVAL;
	if (list_empty(&sk->rskq->accept_queue))
		return -EAGAIN;
	child = list_first_entry(&sk->rskq->accept_queue, struct sock, accept_node);
	list_del_init(&child->accept_node);
	sk->rskq->ack_backlog--;
	child->parent = NULL;
	child->sock_state = SS_CONNECTED;
	fd_install(st, newfd, child);
	if (peer)
		fill_sockaddr(peer, child->c.raddr, child->c.rport);
	return newfd;
}

/* Linux's tcp_disconnect for the states the socket layer may dissolve on
 * its own: an idle socket, a listener (its queues go, children are reset)
 * and a SYN_SENT attempt (abandoned with ECONNRESET). A synchronized
 * connection must be aborted by the protocol and is refused. */
static int sock_disconnect(struct sock *sk)
{
	switch (sk->c.state) {
	case TCP_CLOSE:
		break;
	case TCP_LISTEN:
		tcp_set_state(sk, TCP_CLOSE);
		inet_csk_listen_stop(sk, true);
		break;
	case TCP_SYN_SENT:
		tcp_set_state(sk, TCP_CLOSE);
		sk->sk_err = ECONNRESET;
		break;
	default:
		return -EOPNOTSUPP;
	}
	tcp_clear_xmit_timers(sk);
	del_timer(sk->st, &sk->keepalive_timer);
	skb_queue_purge(&sk->receive_queue);
	tcp_ooo_purge(sk);
	skb_queue_purge(&sk->write_queue);
	skb_queue_purge(&sk->rtx_queue);
	sk->copied_seq = sk->rcv_nxt;
	sk->packets_out = 0;
	sk->c.raddr = 0;
	sk->c.rport = 0;
	if (!sk->addr_bound)
		sk->c.laddr = 0;
	sk->sk_shutdown = 0;
	return 0;
}

/* connect(AF_UNSPEC) dissolves an association (Linux: __inet_stream_connect). */
static int inet_disconnect(struct sock *sk)
{
	int err = sock_disconnect(sk);

	if (!err)
		sk->sock_state = SS_UNCONNECTED;
	return err;
}

/* The pending error, once (Linux: sock_error). */
static int sock_error(struct sock *sk)
{
	int err = sk->sk_err;

	sk->sk_err = 0;
	return -err;
}

/* A fresh connect from SS_UNCONNECTED: -EINPROGRESS, 0 when Fast Open
 * defers the SYN to the first write, or an error. */
static int inet_stream_connect_start(struct sock *sk, const struct sockaddr_in *addr)
{
	int err;

	if (sk->c.state != TCP_CLOSE)
		return -EISCONN;
	if (addr->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	err = tcp_v4_connect(sk, addr->sin_addr.s_addr, ntohs(addr->sin_port));
	if (err < 0)
		return err;
	sk->sock_state = SS_CONNECTING;
	return sk->defer_connect ? 0 : -EINPROGRESS;
}

/* __inet_stream_connect for a socket that never blocks; is_sendmsg when a
 * Fast Open send connects (Linux passes the same flag). */
static int inet_stream_connect(struct sock *sk, const struct sockaddr_in *addr, bool is_sendmsg)
{
	int err;

	if (addr && addr->sin_family == AF_UNSPEC)
		return inet_disconnect(sk);
	switch (sk->sock_state) {
	case SS_CONNECTED:
		return -EISCONN;
	case SS_CONNECTING:
		if (sk->defer_connect) /* fastopen: */
			err = is_sendmsg ? -EINPROGRESS : -EISCONN;
		else
			err = -EALREADY;
		break;
	case SS_UNCONNECTED:
		if (!addr)
			return -EINVAL;
		err = inet_stream_connect_start(sk, addr);
		if (err != -EINPROGRESS)
			return err;
		break;
	default:
		return -EINVAL;
	}
	if (sk->c.state == TCP_SYN_SENT || sk->c.state == TCP_SYN_RECV)
		return err;
	if (sk->c.state == TCP_CLOSE) {
		/* Refused, reset, timed out or unreachable: report it once, and
		 * disconnect as Linux does (sk_prot->disconnect), so a reconnect
		 * keeps no data or state of the old connection. */
		err = sock_error(sk);
		sk->sock_state = SS_UNCONNECTED;
		tcp_disconnect(sk, 0);
		return err ? err : -ECONNABORTED;
	}
	sk->sock_state = SS_CONNECTED;
	return 0;
}

int synack_connect(struct stack *st, int fd, const struct sockaddr_in *addr)
{
	struct sock *sk = sockfd_lookup(st, fd);
	bool held;
	int err;

	if (!sk)
		return -EBADF;
	if (!addr)
		return -EINVAL;
	held = stack_time_hold(st);
	err = inet_stream_connect(sk, addr, false);
	stack_time_release(st, held);
	return err;
}

/* Linux's tcp_sendmsg_fastopen: connect, with what fits of the data in the
 * SYN when a cookie is cached (tcp_send_syn_data). */
int tcp_sendmsg_fastopen(struct sock *sk, const struct iovec *iov, int iovcnt, size_t size,
			 const struct sockaddr_in *addr, uint32_t *copied)
{
	struct tcp_fastopen_request *fo;
	int err;

	if (!(sk->st->sysctl.tcp_fastopen & TFO_CLIENT_ENABLE) || (addr && addr->sin_family == AF_UNSPEC))
		return -EOPNOTSUPP;
	if (sk->fastopen_req)
		return -EALREADY; /* another Fast Open is under way */
	fo = calloc(1, sizeof(*fo)); /* cookie len 0: ask for one unless one is cached */
	if (!fo)
		return -ENOBUFS;
	sk->fastopen_req = fo;
	fo->iov = iov;
	fo->iovcnt = iovcnt;
	fo->size = size;
	if (sk->defer_connect) {
		err = tcp_connect(sk);
		if (err) {
			tcp_set_state(sk, TCP_CLOSE);
			sk->c.rport = 0;
		}
	}
	err = inet_stream_connect(sk, addr, true);
	fo = sk->fastopen_req; /* still ours unless the connect was torn down */
	*copied = fo ? fo->copied : 0;
	free(fo);
	sk->fastopen_req = NULL;
	sk->defer_connect = false;
	return err;
}

int synack_close(struct stack *st, int fd)
{
	struct sock *sk = sockfd_lookup(st, fd);
	bool held;

	if (!sk)
		return -EBADF;
	st->tcp.fds[fd] = NULL;
	sk->fd = -1;
	sk->orphan = true;
	ep_forget_sock(sk);
	/* tcp_close frees sk or keeps it for the protocol: hands off now. */
	held = stack_time_hold(st);
	tcp_close(sk);
	stack_time_release(st, held);
	return 0;
}

int synack_getsockname(struct stack *st, int fd, struct sockaddr_in *addr)
{
	struct sock *sk = sockfd_lookup(st, fd);

	if (!sk)
		return -EBADF;
	if (!addr)
		return -EFAULT;
	fill_sockaddr(addr, sk->c.laddr, sk->c.lport);
	return 0;
}

int synack_getpeername(struct stack *st, int fd, struct sockaddr_in *addr)
{
	struct sock *sk = sockfd_lookup(st, fd);

	if (!sk)
		return -EBADF;
	if (!addr)
		return -EFAULT;
	/* inet_getname: a peer exists once the handshake is past SYN_SENT. */
	if (!sk->c.rport || sk->c.state == TCP_CLOSE || sk->c.state == TCP_SYN_SENT)
		return -ENOTCONN;
	fill_sockaddr(addr, sk->c.raddr, sk->c.rport);
	return 0;
}

/* ------------------------------------------------------------------ data */

/* The checks Linux's import_iovec makes: a count within UIO_MAXIOV and no
 * segment longer than ssize_t allows. With no user memory to fault on, a
 * NULL base under a non-zero length is -EINVAL. Sets *total. */
static int sock_check_iov(const struct iovec *iov, int iovcnt, size_t *total)
{
	size_t sum = 0;

	if (iovcnt < 0 || iovcnt > SOCK_IOV_MAX)
		return -EINVAL;
	if (iovcnt && !iov)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX)
			return -EINVAL;
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EINVAL;
		sum += iov[i].iov_len < SOCK_MAX_RW ? iov[i].iov_len : SOCK_MAX_RW;
		if (sum > SOCK_MAX_RW)
			sum = SOCK_MAX_RW;
	}
	*total = sum;
	return 0;
}

/* Runs fn on iov, shortened as Linux shortens a transfer to MAX_RW_COUNT
 * bytes when the vector is longer than that. */
typedef long (*sock_iov_fn_t)(struct sock *, const struct iovec *, int, int);

/* fn on the clock read once for the call (stack_time_hold). */
static long sock_iov_fn(struct sock *sk, const struct iovec *iov, int iovcnt, int flags, sock_iov_fn_t fn)
{
	bool held = stack_time_hold(sk->st);
	long ret = fn(sk, iov, iovcnt, flags);

	stack_time_release(sk->st, held);
	return ret;
}

static long sock_iov_call(struct sock *sk, const struct iovec *iov, int iovcnt, int flags, sock_iov_fn_t fn)
{
	struct iovec *short_iov;
	size_t total = 0, left = SOCK_MAX_RW;
	long ret;
	int n = 0;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len < SOCK_MAX_RW ? iov[i].iov_len : SOCK_MAX_RW;
	if (total <= SOCK_MAX_RW)
		return sock_iov_fn(sk, iov, iovcnt, flags, fn);
	short_iov = malloc((size_t)iovcnt * sizeof(*short_iov));
	if (!short_iov)
		return -ENOMEM;
	for (int i = 0; i < iovcnt && left; i++, n++) {
		short_iov[i] = iov[i];
		if (short_iov[i].iov_len > left)
			short_iov[i].iov_len = left;
		left -= short_iov[i].iov_len;
	}
	ret = sock_iov_fn(sk, short_iov, n, flags, fn);
	free(short_iov);
	return ret;
}

/* inet_sendmsg -> tcp_sendmsg_locked, for a socket that never blocks.
 * Before the connection is up, sk_stream_wait_connect's answers: a pending
 * error, -EAGAIN while the handshake runs, -EPIPE otherwise (as Linux -
 * not -ENOTCONN - for a socket that was never connected or is done). After
 * SHUT_WR or a hard error, sk_stream_error's: the pending error once, then
 * -EPIPE. No signal is ever raised, so MSG_NOSIGNAL changes nothing. */
static long sock_sendmsg(struct sock *sk, const struct iovec *iov, int iovcnt, size_t total, int flags,
			 const struct sockaddr_in *addr)
{
	int state, err;
	long ret;

	/* Urgent data is not supported (Linux would send it). */
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if ((flags & MSG_FASTOPEN) || sk->defer_connect) { /* fastopen: */
		uint32_t copied = 0;

		err = tcp_sendmsg_fastopen(sk, iov, iovcnt, total, addr, &copied);
		if (err == -EINPROGRESS && copied > 0)
			return copied;
		if (err)
			return err;
	}
	state = sk->c.state;
	if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT &&
	    !(state == TCP_SYN_RECV && sk->fastopen_rsk)) { /* fastopen: tcp_passive_fastopen */
		err = sock_error(sk);
		if (err)
			return err;
		return state == TCP_SYN_SENT || state == TCP_SYN_RECV ? -EAGAIN : -EPIPE;
	}
	if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN)) {
		err = sock_error(sk);
		return err ? err : -EPIPE;
	}
	/* Nothing to queue: a connected socket accepts zero bytes. */
	if (!total)
		return 0;
	/* The segments of one send may leave as one TSO frame (dev_xmit_batch_begin). */
	dev_xmit_batch_begin(sk->st);
	ret = sock_iov_call(sk, iov, iovcnt, flags, tcp_sendmsg);
	dev_xmit_batch_end(sk->st);
	return ret;
}

/* inet_recvmsg -> tcp_recvmsg: the error queue is always empty, a listener
 * has no stream, and no urgent byte is ever held (MSG_OOB: -EINVAL, as
 * Linux without one). tcp_recvmsg answers the rest: data, a pending error
 * once, 0 at EOF, -ENOTCONN for a socket never connected, -EAGAIN. */
static long sock_recvmsg(struct sock *sk, const struct iovec *iov, int iovcnt, int flags)
{
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;
	if (sk->c.state == TCP_LISTEN)
		return -ENOTCONN;
	if (flags & MSG_OOB)
		return -EINVAL;
	return sock_iov_call(sk, iov, iovcnt, flags, tcp_recvmsg);
}

long synack_send(struct stack *st, int fd, const void *buf, size_t len, int flags)
{
	return synack_sendto(st, fd, buf, len, flags, NULL);
}

long synack_sendto(struct stack *st, int fd, const void *buf, size_t len, int flags, const struct sockaddr_in *addr)
{
	struct sock *sk = sockfd_lookup(st, fd);
	struct iovec iov;

	if (!sk)
		return -EBADF;
	if (!buf && len)
		return -EINVAL;
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len < SOCK_MAX_RW ? len : SOCK_MAX_RW;
	return sock_sendmsg(sk, &iov, 1, iov.iov_len, flags, addr);
}

long synack_sendv(struct stack *st, int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct sock *sk = sockfd_lookup(st, fd);
	size_t total;
	int err;

	if (!sk)
		return -EBADF;
	err = sock_check_iov(iov, iovcnt, &total);
	if (err)
		return err;
	return sock_sendmsg(sk, iov, iovcnt, total, flags, NULL);
}

long synack_recv(struct stack *st, int fd, void *buf, size_t len, int flags)
{
	struct sock *sk = sockfd_lookup(st, fd);
	struct iovec iov;

	if (!sk)
		return -EBADF;
	if (!buf && len)
		return -EINVAL;
	iov.iov_base = buf;
	iov.iov_len = len < SOCK_MAX_RW ? len : SOCK_MAX_RW;
	return sock_recvmsg(sk, &iov, 1, flags);
}

long synack_recvv(struct stack *st, int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct sock *sk = sockfd_lookup(st, fd);
	size_t total;
	int err;

	if (!sk)
		return -EBADF;
	err = sock_check_iov(iov, iovcnt, &total);
	if (err)
		return err;
	return sock_recvmsg(sk, iov, iovcnt, flags);
}

/* sendmsg: the vector, and msg_name as sendto's address (MSG_FASTOPEN);
 * control messages are not supported (-EINVAL when given, as Linux for an
 * unknown cmsg). */
long synack_sendmsg(struct stack *st, int fd, const struct msghdr *msg, int flags)
{
	struct sock *sk = sockfd_lookup(st, fd);
	const struct sockaddr_in *addr = NULL;
	size_t total;
	int err;

	if (!sk)
		return -EBADF;
	if (!msg)
		return -EFAULT;
	if (msg->msg_controllen)
		return -EINVAL;
	if (msg->msg_name) {
		if (msg->msg_namelen < sizeof(struct sockaddr_in))
			return -EINVAL;
		addr = msg->msg_name;
	}
	if (msg->msg_iovlen > SOCK_IOV_MAX)
		return -EMSGSIZE;
	err = sock_check_iov(msg->msg_iov, (int)msg->msg_iovlen, &total);
	if (err)
		return err;
	return sock_sendmsg(sk, msg->msg_iov, (int)msg->msg_iovlen, total, flags, addr);
}

/* recvmsg: TCP fills neither a source address nor control data (Linux's
 * tcp_recvmsg leaves msg_namelen 0); msg_flags comes back 0. */
long synack_recvmsg(struct stack *st, int fd, struct msghdr *msg, int flags)
{
	struct sock *sk = sockfd_lookup(st, fd);
	size_t total;
	long n;
	int err;

	if (!sk)
		return -EBADF;
	if (!msg)
		return -EFAULT;
	if (msg->msg_iovlen > SOCK_IOV_MAX)
		return -EMSGSIZE;
	err = sock_check_iov(msg->msg_iov, (int)msg->msg_iovlen, &total);
	if (err)
		return err;
	n = sock_recvmsg(sk, msg->msg_iov, (int)msg->msg_iovlen, flags);
	if (n >= 0) {
		msg->msg_namelen = 0;
		msg->msg_controllen = 0;
		msg->msg_flags = 0;
	}
	return n;
}

/* inet_shutdown. how + 1 is the RCV_SHUTDOWN/SEND_SHUTDOWN mask. A socket
 * in CLOSE answers -ENOTCONN but, as in Linux, still records the bits. A
 * connect in SYN_SENT is abandoned, and a listener told SHUT_RD (or RDWR)
 * stops listening; SHUT_WR alone leaves a listener as it is. */
int synack_shutdown(struct stack *st, int fd, int how)
{
	struct sock *sk = sockfd_lookup(st, fd);
	int mask, err = 0;

	if (!sk)
		return -EBADF;
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	mask = how + 1;
	if (sk->sock_state == SS_CONNECTING) {
		if (sk->c.state == TCP_SYN_SENT || sk->c.state == TCP_SYN_RECV || sk->c.state == TCP_CLOSE)
			sk->sock_state = SS_DISCONNECTING;
		else
			sk->sock_state = SS_CONNECTED;
	}
	switch (sk->c.state) {
	case TCP_CLOSE:
		err = -ENOTCONN;
		sk->sk_shutdown |= (uint8_t)mask;
		break;
	case TCP_LISTEN:
		if (!(mask & RCV_SHUTDOWN))
			break;
		/* fall through */
	case TCP_SYN_SENT:
		err = sock_disconnect(sk);
		sk->sock_state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		break;
	default:
		sk->sk_shutdown |= (uint8_t)mask;
		tcp_shutdown(sk, mask);
		break;
	}
	sk_state_change(sk);
	return err;
}

/* --------------------------------------------------------------- options */

/* TCP_DEFER_ACCEPT's seconds as a count of SYN-ACK retransmissions whose
 * backed-off timeouts (initial, doubling, capped) add up to them. */
static uint8_t secs_to_retrans(int seconds, int timeout, int rto_max)
{
	uint8_t res = 0;

	if (seconds > 0) {
		int period = timeout;

		res = 1;
		while (seconds > period && res < 255) {
			res++;
			timeout <<= 1;
			if (timeout > rto_max)
				timeout = rto_max;
			period += timeout;
		}
	}
	return res;
}

static int retrans_to_secs(uint8_t retrans, int timeout, int rto_max)
{
	int period = 0;

	if (retrans > 0) {
		period = timeout;
		while (--retrans) {
			timeout <<= 1;
			if (timeout > rto_max)
				timeout = rto_max;
			period += timeout;
		}
	}
	return period;
}

/* Buffer sizes: the request is capped by the sysctl, doubled for overhead
 * (as Linux does), and floored. */
static uint32_t sock_buf_size(int val, long max, uint32_t min)
{
	uint32_t v = (uint32_t)val;

	if (v > (uint32_t)max)
		v = (uint32_t)max;
	if (v > INT_MAX / 2)
		v = INT_MAX / 2;
	return v * 2 > min ? v * 2 : min;
}

/* The keepalive timer's first expiry after idle (Linux: keepalive_time_when). */
static uint32_t keepalive_time_s(const struct sock *sk)
{
	return sk->keepalive_time_s ? sk->keepalive_time_s : (uint32_t)sk->st->sysctl.tcp_keepalive_time;
}

static uint32_t keepalive_intvl_s(const struct sock *sk)
{
	return sk->keepalive_intvl_s ? sk->keepalive_intvl_s : (uint32_t)sk->st->sysctl.tcp_keepalive_intvl;
}

static uint32_t keepalive_probes(const struct sock *sk)
{
	return sk->keepalive_probes ? sk->keepalive_probes : (uint32_t)sk->st->sysctl.tcp_keepalive_probes;
}

static void keepalive_timer_arm(struct sock *sk)
{
	struct stack *st = sk->st;

	mod_timer(st, &sk->keepalive_timer, stack_now(st) + (uint64_t)keepalive_time_s(sk) * NSEC_PER_SEC);
}

/* Linux's tcp_set_keepalive: the timer runs only on a connection, starts
 * when the option turns on and stops when it turns off. */
static void sock_set_keepalive(struct sock *sk, bool on)
{
	if (sk->c.state != TCP_CLOSE && sk->c.state != TCP_LISTEN) {
		if (on && !sk->keepalive)
			keepalive_timer_arm(sk);
		else if (!on)
			del_timer(sk->st, &sk->keepalive_timer);
	}
	sk->keepalive = on;
}

/* Linux's tcp_set_rcvlowat: at most half of what the receive buffer may
 * grow to; 0 means 1; an unlocked buffer grows to hold twice the mark. */
static void sock_set_rcvlowat(struct sock *sk, int val)
{
	long cap = sk->rcvbuf_locked ? (long)(sk->sk_rcvbuf >> 1) : sk->st->sysctl.tcp_rmem_max >> 1;

	if (val < 0)
		val = INT_MAX;
	if (val > cap)
		val = (int)cap;
	sk->rcvlowat = val ? val : 1;
	if (sk->rcvbuf_locked)
		return;
	if ((uint32_t)val * 2 > sk->sk_rcvbuf) {
		sk->sk_rcvbuf = (uint32_t)val * 2;
		sk->window_clamp = (uint32_t)tcp_full_space(sk->sk_rcvbuf);
	}
}

/* SOL_SOCKET (Linux: sk_setsockopt). Every option reads an int first;
 * SO_LINGER then needs the whole struct linger. */
/* SO_RCVTIMEO / SO_SNDTIMEO for the blocking calls (blocking.c): a struct
 * timeval kept in ms, rounded up as Linux rounds to jiffies at HZ 1000
 * (Linux: sock_set_timeout). Zero waits forever; so does a time too long
 * for the 32-bit field, as one past MAX_SCHEDULE_TIMEOUT does in Linux. */
static int sock_set_timeout(uint32_t *to_ms, const void *optval, unsigned int optlen)
{
	struct timeval tv;

	if (optlen < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, optval, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0)
		*to_ms = SOCK_TIMEO_NOWAIT;
	else if (tv.tv_sec >= (long)(SOCK_TIMEO_NOWAIT / 1000 - 1))
		*to_ms = 0;
	else
		*to_ms = (uint32_t)tv.tv_sec * 1000 + (uint32_t)(tv.tv_usec + 999) / 1000;
	return 0;
}

/* Back to a timeval as Linux's sock_get_timeout gives it: "forever" and
 * "do not wait" both read as zero. */
static struct timeval sock_get_timeout(uint32_t ms)
{
	if (ms == SOCK_TIMEO_NOWAIT)
		ms = 0;
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (long)(ms % 1000) * 1000 };
}

static int sock_setsockopt(struct sock *sk, int name, int val, const void *optval, unsigned int optlen)
{
	struct stack *st = sk->st;
	struct linger ling;

	switch (name) {
	case SO_REUSEADDR:
		sk->reuseaddr = val != 0;
		return 0;
	case SO_SNDBUF:
		sk->sk_sndbuf = sock_buf_size(val, st->sysctl.wmem_max, SOCK_MIN_SNDBUF);
		sk->sndbuf_locked = true;
		return 0;
	case SO_RCVBUF:
		sk->sk_rcvbuf = sock_buf_size(val, st->sysctl.rmem_max, SOCK_MIN_RCVBUF);
		sk->rcvbuf_locked = true;
		return 0;
	case SO_KEEPALIVE:
		sock_set_keepalive(sk, val != 0);
		return 0;
	case SO_LINGER:
		if (optlen < sizeof(ling))
			return -EINVAL;
		memcpy(&ling, optval, sizeof(ling));
		/* Turning it off keeps the time, as Linux; a negative time is
		 * Linux's "forever" (MAX_SCHEDULE_TIMEOUT), kept as INT_MAX s. */
		if (ling.l_onoff) {
			sk->linger_secs = ling.l_linger < 0 ? INT_MAX : ling.l_linger;
			sk->linger_on = true;
		} else {
			sk->linger_on = false;
		}
		return 0;
	case SO_RCVLOWAT:
		sock_set_rcvlowat(sk, val);
		return 0;
	case SO_RCVTIMEO:
		return sock_set_timeout(&sk->rcvtimeo_ms, optval, optlen);
	case SO_SNDTIMEO:
		return sock_set_timeout(&sk->sndtimeo_ms, optval, optlen);
	default:
		return -ENOPROTOOPT;
	}
}

/* TCP_QUICKACK: 0 holds ACKs back (pingpong); non-zero sends any owed ACK now. */
static void tcp_sock_set_quickack(struct sock *sk, int val)
{
	if (!val) {
		sk->icsk_ack.pingpong = true;
		sk->quickack_off = true;
		return;
	}
	sk->icsk_ack.pingpong = false;
	sk->quickack_off = false;
	if ((sk->c.state == TCP_ESTABLISHED || sk->c.state == TCP_CLOSE_WAIT) && sk->icsk_ack.pending) {
		tcp_send_ack(sk);
		if (!(val & 1)) {
			sk->icsk_ack.pingpong = true;
			sk->quickack_off = true;
		}
	}
}

/* Queued data goes out now (TCP_NODELAY set, TCP_CORK cleared). Linux's
 * push does nothing on a closed socket; nothing is queued before the
 * connection is up either. */
static void sock_push(struct sock *sk)
{
	if (sk->c.state == TCP_CLOSE || sk->c.state == TCP_LISTEN || !sk->write_queue.qlen)
		return;
	tcp_push_pending_frames(sk);
}

/* TCP_KEEPIDLE on a live connection with keepalive on restarts the wait
 * with the new idle time (Linux subtracts the time already idle). */
static int tcp_sock_set_keepidle(struct sock *sk, int val)
{
	if (val < 1 || val > MAX_TCP_KEEPIDLE)
		return -EINVAL;
	sk->keepalive_time_s = (uint16_t)val;
	if (sk->keepalive && sk->c.state != TCP_CLOSE && sk->c.state != TCP_LISTEN)
		keepalive_timer_arm(sk);
	return 0;
}

static int tcp_setsockopt(struct sock *sk, int name, int val)
{
	switch (name) {
	case TCP_MAXSEG:
		/* 0 clears it; the interface MTU is not known yet, so only
		 * the protocol's limits are checked. */
		if (val && (val < TCP_MIN_MSS || val > MAX_TCP_WINDOW))
			return -EINVAL;
		sk->rx_opt.user_mss = (uint16_t)val;
		return 0;
	case TCP_NODELAY:
		sk->nodelay = val != 0;
		if (sk->nodelay)
			sock_push(sk);
		return 0;
	case TCP_CORK:
		sk->cork = val != 0;
		if (!sk->cork)
			sock_push(sk);
		return 0;
	case TCP_KEEPIDLE:
		return tcp_sock_set_keepidle(sk, val);
	case TCP_KEEPINTVL:
		if (val < 1 || val > MAX_TCP_KEEPINTVL)
			return -EINVAL;
		sk->keepalive_intvl_s = (uint16_t)val;
		return 0;
	case TCP_KEEPCNT:
		if (val < 1 || val > MAX_TCP_KEEPCNT)
			return -EINVAL;
		sk->keepalive_probes = (uint8_t)val;
		return 0;
	case TCP_LINGER2:
		if (val < 0)
			sk->linger2 = -1;
		else if (val > TCP_FIN_TIMEOUT_MAX_S)
			sk->linger2 = TCP_FIN_TIMEOUT_MAX_S;
		else
			sk->linger2 = (int16_t)val;
		return 0;
	case TCP_SYNCNT:
		if (val < 1 || val > MAX_TCP_SYNCNT)
			return -EINVAL;
		sk->icsk_syn_retries = (uint8_t)val;
		return 0;
	case TCP_QUICKACK:
		tcp_sock_set_quickack(sk, val);
		return 0;
	case TCP_DEFER_ACCEPT:
		sk->rskq_defer_accept = secs_to_retrans(val, TCP_TIMEOUT_INIT_MS / 1000, TCP_RTO_MAX_MS / 1000);
		return 0;
	case TCP_FASTOPEN: /* fastopen: the listener's Fast Open queue length */
		if (val < 0 || (sk->c.state != TCP_CLOSE && sk->c.state != TCP_LISTEN))
			return -EINVAL;
		if (!sock_rskq(sk))
			return -ENOMEM;
		fastopen_queue_tune(sk, val);
		return 0;
	case TCP_USER_TIMEOUT:
		if (val < 0)
			return -EINVAL;
		sk->icsk_user_timeout = (uint32_t)val;
		return 0;
	case TCP_FASTOPEN_CONNECT: /* fastopen: */
		if (val < 0 || val > 1)
			return -EINVAL;
		if (!(sk->st->sysctl.tcp_fastopen & TFO_CLIENT_ENABLE))
			return -EOPNOTSUPP;
		if (sk->c.state != TCP_CLOSE)
			return -EINVAL;
		sk->fastopen_connect = val;
		return 0;
	case TCP_FASTOPEN_NO_COOKIE: /* fastopen: */
		if (val < 0 || val > 1 || (sk->c.state != TCP_CLOSE && sk->c.state != TCP_LISTEN))
			return -EINVAL;
		sk->fastopen_no_cookie = val;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* TCP_FASTOPEN_KEY: a primary key, and optionally a backup (Linux allows
 * both so keys can be rotated without refusing cookies in flight). */
static int tcp_setsockopt_fastopen_key(struct sock *sk, const void *val, unsigned int len)
{
	const uint8_t *key = val;

	if (len != TCP_FASTOPEN_KEY_LENGTH && len != 2 * TCP_FASTOPEN_KEY_LENGTH)
		return -EINVAL;
	if (!val)
		return -EFAULT;
	if (!sock_rskq(sk))
		return -ENOMEM;
	tcp_fastopen_reset_cipher(sk->st, sk, key, len > TCP_FASTOPEN_KEY_LENGTH ? key + TCP_FASTOPEN_KEY_LENGTH : NULL);
	return 0;
}

/* TCP_CONGESTION takes a string: at most TCP_CA_NAME_MAX - 1 bytes of it,
 * up to its NUL (Linux: strncpy_from_sockptr). */
static int tcp_setsockopt_congestion(struct sock *sk, const void *val, unsigned int len)
{
	char name[TCP_CA_NAME_MAX];
	size_t n;

	if (len < 1)
		return -EINVAL;
	if (!val)
		return -EFAULT;
	n = strnlen(val, len < TCP_CA_NAME_MAX - 1 ? len : TCP_CA_NAME_MAX - 1);
	memcpy(name, val, n);
	name[n] = '\0';
	return tcp_set_congestion_control(sk, name);
}

/* IP_TRANSPARENT: a listener with it also takes connections to any other
 * address and port no socket matches, keeping the original destination as
 * its children's local address (getsockname); the stack then accepts TCP
 * for any address. Linux needs TPROXY rules for the same; here the option
 * alone makes the catch-all that TUN/TAP terminators need. */
static int ip_setsockopt(struct sock *sk, int name, const void *val, unsigned int len)
{
	int v;

	if (name != IP_TRANSPARENT)
		return -ENOPROTOOPT;
	if (len < sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(&v, val, sizeof(v));
	sk->transparent = v != 0;
	if (sk->c.state == TCP_LISTEN && sk->transparent)
		sk->st->tcp.catchall = sk;
	else if (sk->st->tcp.catchall == sk && !sk->transparent)
		sk->st->tcp.catchall = NULL;
	return 0;
}

int synack_setsockopt(struct stack *st, int fd, int level, int name, const void *val, unsigned int len)
{
	struct sock *sk = sockfd_lookup(st, fd);
	int v;

	if (!sk)
		return -EBADF;
	if (level == IPPROTO_IP)
		return ip_setsockopt(sk, name, val, len);
	if (level != SOL_SOCKET && level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (level == IPPROTO_TCP && name == TCP_CONGESTION)
		return tcp_setsockopt_congestion(sk, val, len);
	if (level == IPPROTO_TCP && name == TCP_FASTOPEN_KEY)
		return tcp_setsockopt_fastopen_key(sk, val, len);
	if (len < sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(&v, val, sizeof(v));
	return level == SOL_SOCKET ? sock_setsockopt(sk, name, v, val, len) : tcp_setsockopt(sk, name, v);
}

/* SO_ERROR: the hard error, else the soft one; either is cleared. */
static int sock_get_error(struct sock *sk)
{
	int err = -sock_error(sk);

	if (!err) {
		err = sk->sk_err_soft;
		sk->sk_err_soft = 0;
	}
	return err;
}

/* An option's value as bytes: an int, or a struct for the few that are not. */
union sockopt_val {
	int i;
	struct linger ling;
	struct synack_tcp_info info;
	char name[TCP_CA_NAME_MAX];
	uint8_t keys[2 * TCP_FASTOPEN_KEY_LENGTH];
	struct timeval tv;
};

/* Fills *v and returns its size, or a negative errno. */
static int sock_getsockopt(struct sock *sk, int name, union sockopt_val *v)
{
	switch (name) {
	case SO_REUSEADDR:
		v->i = sk->reuseaddr;
		break;
	case SO_SNDBUF:
		v->i = (int)sk->sk_sndbuf;
		break;
	case SO_RCVBUF:
		v->i = (int)sk->sk_rcvbuf;
		break;
	case SO_ERROR:
		v->i = sock_get_error(sk);
		break;
	case SO_TYPE:
		v->i = SOCK_STREAM;
		break;
	case SO_ACCEPTCONN:
		v->i = sk->c.state == TCP_LISTEN;
		break;
	case SO_DOMAIN:
		v->i = AF_INET;
		break;
	case SO_PROTOCOL:
		v->i = IPPROTO_TCP;
		break;
	case SO_KEEPALIVE:
		v->i = sk->keepalive;
		break;
	case SO_RCVLOWAT:
		v->i = sk->rcvlowat;
		break;
	case SO_LINGER:
		v->ling.l_onoff = sk->linger_on;
		v->ling.l_linger = sk->linger_secs;
		return sizeof(v->ling);
	case SO_RCVTIMEO:
		v->tv = sock_get_timeout(sk->rcvtimeo_ms);
		return sizeof(v->tv);
	case SO_SNDTIMEO:
		v->tv = sock_get_timeout(sk->sndtimeo_ms);
		return sizeof(v->tv);
	default:
		return -ENOPROTOOPT;
	}
	return sizeof(int);
}

static int tcp_getsockopt(struct sock *sk, int name, union sockopt_val *v)
{
	switch (name) {
	case TCP_MAXSEG:
		/* Before a connection, what the user asked for. */
		v->i = sk->mss_cache;
		if (sk->rx_opt.user_mss && (sk->c.state == TCP_CLOSE || sk->c.state == TCP_LISTEN))
			v->i = sk->rx_opt.user_mss;
		break;
	case TCP_NODELAY:
		v->i = sk->nodelay;
		break;
	case TCP_CORK:
		v->i = sk->cork;
		break;
	case TCP_KEEPIDLE:
		v->i = (int)keepalive_time_s(sk);
		break;
	case TCP_KEEPINTVL:
		v->i = (int)keepalive_intvl_s(sk);
		break;
	case TCP_KEEPCNT:
		v->i = (int)keepalive_probes(sk);
		break;
	case TCP_LINGER2:
		v->i = sk->linger2 < 0 ? -1 : sk->linger2 ? sk->linger2 : (int)sk->st->sysctl.tcp_fin_timeout;
		break;
	case TCP_SYNCNT:
		v->i = sk->icsk_syn_retries ? sk->icsk_syn_retries : (int)sk->st->sysctl.tcp_syn_retries;
		break;
	case TCP_QUICKACK:
		v->i = !sk->icsk_ack.pingpong;
		break;
	case TCP_DEFER_ACCEPT:
		v->i = retrans_to_secs(sk->rskq_defer_accept, TCP_TIMEOUT_INIT_MS / 1000, TCP_RTO_MAX_MS / 1000);
		break;
	case TCP_FASTOPEN: /* fastopen: */
		v->i = sk->rskq ? (int)sk->rskq->fastopenq.max_qlen : 0;
		break;
	case TCP_FASTOPEN_CONNECT:
		v->i = sk->fastopen_connect;
		break;
	case TCP_FASTOPEN_NO_COOKIE:
		v->i = sk->fastopen_no_cookie;
		break;
	case TCP_FASTOPEN_KEY:
		return tcp_fastopen_get_cipher(sk->st, sk, v->keys) * TCP_FASTOPEN_KEY_LENGTH;
	case TCP_USER_TIMEOUT:
		v->i = (int)sk->icsk_user_timeout;
		break;
	case TCP_CONGESTION:
		/* The module's name, NUL-padded to TCP_CA_NAME_MAX. */
		memset(v->name, 0, sizeof(v->name));
		memcpy(v->name, sk->ca_ops->name, sizeof(v->name));
		return sizeof(v->name);
	case TCP_INFO:
		memset(&v->info, 0, sizeof(v->info));
		tcp_get_info(sk, &v->info);
		return sizeof(v->info);
	default:
		return -ENOPROTOOPT;
	}
	return sizeof(int);
}

/* As Linux, a short buffer gets the value's first bytes, not an error, and
 * *len says how many were written. A length that is negative as an int is
 * -EINVAL at SOL_SOCKET; TCP's options read it as unsigned (Linux's
 * min_t(unsigned int, ...)), so there it only means "big". */
int synack_getsockopt(struct stack *st, int fd, int level, int name, void *val, unsigned int *len)
{
	struct sock *sk = sockfd_lookup(st, fd);
	union sockopt_val v;
	unsigned int n;
	int size;

	if (!sk)
		return -EBADF;
	if (level != SOL_SOCKET && level != IPPROTO_TCP && level != IPPROTO_IP)
		return -ENOPROTOOPT;
	if (!len || !val)
		return -EFAULT;
	if (level == SOL_SOCKET && *len > INT_MAX)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	if (level == IPPROTO_IP) {
		if (name != IP_TRANSPARENT)
			return -ENOPROTOOPT;
		v.i = sk->transparent;
		size = sizeof(int);
	} else {
		size = level == SOL_SOCKET ? sock_getsockopt(sk, name, &v) : tcp_getsockopt(sk, name, &v);
	}
	if (size < 0)
		return size;
	n = *len < (unsigned int)size ? *len : (unsigned int)size;
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/* ------------------------------------------------------------------ poll */

/* Linux's tcp_epollin_ready: at least rcvlowat bytes, or any byte once the
 * receive window has shrunk below one segment (more will not come until
 * the user reads). */
static bool tcp_stream_is_readable(const struct sock *sk)
{
	uint32_t avail = tcp_inq(sk);
	int32_t rwin;

	if (!avail)
		return false;
	if (avail >= (uint32_t)(sk->rcvlowat > 0 ? sk->rcvlowat : 1))
		return true;
	rwin = (int32_t)(sk->rcv_wup + sk->rcv_wnd - sk->rcv_nxt);
	return rwin <= 0 || (uint32_t)rwin <= sk->rcv_mss;
}

/* Linux's __sk_stream_is_writeable: room left, and at least half as much
 * free as is queued (so POLLOUT comes back once a third of sndbuf is free). */
static bool tcp_stream_is_writeable(const struct sock *sk)
{
	uint32_t free_space = tcp_wspace(sk);
	uint32_t queued = sk->sk_sndbuf > free_space ? sk->sk_sndbuf - free_space : 0;

	return free_space > 0 && free_space >= queued / 2;
}

/* tcp_poll. As in Linux, a socket in CLOSE - never connected, or done -
 * reports POLLHUP and POLLOUT (a write would fail at once, not block), and
 * a socket shut for writing reports POLLOUT for the same reason. */
int synack_poll(struct stack *st, int fd)
{
	struct sock *sk = sockfd_lookup(st, fd);
	int state, mask = 0;

	if (!sk)
		return -EBADF;
	state = sk->c.state;
	if (state == TCP_LISTEN)
		return list_empty(&sk->rskq->accept_queue) ? 0 : POLLIN | POLLRDNORM;
	if (sk->sk_shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= POLLHUP;
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		mask |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (state != TCP_SYN_SENT && (state != TCP_SYN_RECV || sk->fastopen_rsk)) { /* fastopen: */
		if (tcp_stream_is_readable(sk))
			mask |= POLLIN | POLLRDNORM;
		if ((sk->sk_shutdown & SEND_SHUTDOWN) || state == TCP_CLOSE || tcp_stream_is_writeable(sk))
			mask |= POLLOUT | POLLWRNORM;
	}
	/* fastopen: a deferred connect waits for the write that sends the SYN. */
	if (state == TCP_SYN_SENT && sk->defer_connect)
		mask |= POLLOUT | POLLWRNORM;
	if (sk->sk_err)
		mask |= POLLERR;
	return mask;
}

int synack_tcp_state(struct stack *st, int fd)
{
	struct sock *sk = sockfd_lookup(st, fd);

	return sk ? sk->c.state : -EBADF;
}

/* synack_tcp_state_name lives with tcp_state_name in tcp.c. */

unsigned int synack_stack_orphans(const struct stack *st)
{
	const struct list_head *pos;
	unsigned int n = 0;

	if (!st)
		return 0;
	for (pos = st->tcp.orphans.next; pos != &st->tcp.orphans; pos = pos->next)
		n++;
	return n;
}
