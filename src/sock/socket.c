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
#include <netinet/in.h>
#include "core/stack.h"
#include "tcp/tcp.h"

/* IPPROTO_TCP option numbers (<netinet/tcp.h>, whose TCP_* state names
 * clash with enum tcp_state). */
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_SYNCNT 7
#define TCP_DEFER_ACCEPT 9
#define TCP_QUICKACK 12
#define TCP_USER_TIMEOUT 18

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

/* ------------------------------------------------------------ descriptors */

static struct sock *sockfd_lookup(const struct stack *st, int fd)
{
	if (!st || fd < 0 || fd >= st->tcp.nfds)
		return NULL;
	return st->tcp.fds[fd];
}

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
}

struct sock *sk_alloc(struct stack *st)
{
	struct sock *sk = calloc(1, sizeof(*sk));

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
	INIT_LIST_HEAD(&sk->syn_queue);
	INIT_LIST_HEAD(&sk->accept_queue);
	INIT_LIST_HEAD(&sk->accept_node);
	skb_queue_head_init(&sk->rtx_queue);
	skb_queue_head_init(&sk->receive_queue);
	tcp_init_sock_defaults(sk);
	tcp_init_xmit_timers(sk);
	return sk;
}

/* Children still queued on a dying listener must not point at it. */
static void sk_detach_accept_queue(struct sock *sk)
{
	struct sock *child, *n;

	list_for_each_entry_safe(child, n, &sk->accept_queue, accept_node) {
		list_del_init(&child->accept_node);
		child->parent = NULL;
	}
	sk->ack_backlog = 0;
}

void sk_free(struct sock *sk)
{
	struct stack *st;

	if (!sk)
		return;
	st = sk->st;
	tcp_clear_xmit_timers(sk);
	skb_queue_purge(&sk->rtx_queue);
	skb_queue_purge(&sk->receive_queue);
	if (!list_empty(&sk->accept_node)) {
		list_del_init(&sk->accept_node);
		if (sk->parent)
			sk->parent->ack_backlog--;
	}
	sk_detach_accept_queue(sk);
	inet_unhash(sk);
	inet_put_port(sk);
	if (sk->fd >= 0 && sk->fd < st->tcp.nfds && st->tcp.fds[sk->fd] == sk)
		st->tcp.fds[sk->fd] = NULL;
	free(sk);
}

/* Where readiness callbacks (sk_data_ready, sk_write_space) will go. */
void sk_state_change(struct sock *sk)
{
	(void)sk;
}

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
	sk->ack_backlog = 0;
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
		err = inet_csk_listen_start(sk);
		if (err)
			return err;
	}
	sk->max_ack_backlog = (int)max;
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
	if (list_empty(&sk->accept_queue))
		return -EAGAIN;
	child = list_first_entry(&sk->accept_queue, struct sock, accept_node);
	list_del_init(&child->accept_node);
	sk->ack_backlog--;
	child->parent = NULL;
	child->sock_state = SS_CONNECTED;
	fd_install(st, newfd, child);
	if (peer)
		fill_sockaddr(peer, child->c.raddr, child->c.rport);
	return newfd;
}

/* connect(AF_UNSPEC) dissolves an association. On a closed socket that is
 * nothing; aborting a live one needs tcp_disconnect, not written yet. */
static int inet_disconnect(struct sock *sk)
{
	if (sk->c.state != TCP_CLOSE)
		return -EOPNOTSUPP;
	sk->sock_state = SS_UNCONNECTED;
	return 0;
}

/* The pending error, once (Linux: sock_error). */
static int sock_error(struct sock *sk)
{
	int err = sk->sk_err;

	sk->sk_err = 0;
	return -err;
}

/* A fresh connect from SS_UNCONNECTED: -EINPROGRESS or an error. */
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
	return -EINPROGRESS;
}

/* __inet_stream_connect for a non-blocking socket. */
int synack_connect(struct stack *st, int fd, const struct sockaddr_in *addr)
{
	struct sock *sk = sockfd_lookup(st, fd);
	int err;

	if (!sk)
		return -EBADF;
	if (!addr)
		return -EINVAL;
	if (addr->sin_family == AF_UNSPEC)
		return inet_disconnect(sk);
	switch (sk->sock_state) {
	case SS_CONNECTED:
		return -EISCONN;
	case SS_CONNECTING:
		err = -EALREADY;
		break;
	case SS_UNCONNECTED:
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
		/* Refused, timed out or unreachable: report it once. */
		err = sock_error(sk);
		sk->sock_state = SS_UNCONNECTED;
		return err ? err : -ECONNABORTED;
	}
	sk->sock_state = SS_CONNECTED;
	return 0;
}

int synack_close(struct stack *st, int fd)
{
	struct sock *sk = sockfd_lookup(st, fd);

	if (!sk)
		return -EBADF;
	st->tcp.fds[fd] = NULL;
	sk->fd = -1;
	sk->orphan = true;
	/* tcp_close frees sk or keeps it for the protocol: hands off now. */
	tcp_close(sk);
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

static int sock_setsockopt(struct sock *sk, int name, int val)
{
	struct stack *st = sk->st;

	switch (name) {
	case SO_REUSEADDR:
		sk->reuseaddr = val != 0;
		return 0;
	case SO_SNDBUF:
		sk->sk_sndbuf = sock_buf_size(val, st->sysctl.wmem_max, SOCK_MIN_SNDBUF);
		return 0;
	case SO_RCVBUF:
		sk->sk_rcvbuf = sock_buf_size(val, st->sysctl.rmem_max, SOCK_MIN_RCVBUF);
		sk->rcvbuf_locked = true;
		return 0;
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
	case TCP_USER_TIMEOUT:
		if (val < 0)
			return -EINVAL;
		sk->icsk_user_timeout = (uint32_t)val;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int synack_setsockopt(struct stack *st, int fd, int level, int name, const void *val, unsigned int len)
{
	struct sock *sk = sockfd_lookup(st, fd);
	int v;

	if (!sk)
		return -EBADF;
	if (level != SOL_SOCKET && level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (len < sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(&v, val, sizeof(v));
	return level == SOL_SOCKET ? sock_setsockopt(sk, name, v) : tcp_setsockopt(sk, name, v);
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

static int sock_getsockopt(struct sock *sk, int name, int *v)
{
	switch (name) {
	case SO_REUSEADDR:
		*v = sk->reuseaddr;
		return 0;
	case SO_SNDBUF:
		*v = (int)sk->sk_sndbuf;
		return 0;
	case SO_RCVBUF:
		*v = (int)sk->sk_rcvbuf;
		return 0;
	case SO_ERROR:
		*v = sock_get_error(sk);
		return 0;
	case SO_TYPE:
		*v = SOCK_STREAM;
		return 0;
	case SO_ACCEPTCONN:
		*v = sk->c.state == TCP_LISTEN;
		return 0;
	case SO_DOMAIN:
		*v = AF_INET;
		return 0;
	case SO_PROTOCOL:
		*v = IPPROTO_TCP;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int tcp_getsockopt(struct sock *sk, int name, int *v)
{
	switch (name) {
	case TCP_MAXSEG:
		/* Before a connection, what the user asked for. */
		*v = sk->mss_cache;
		if (sk->rx_opt.user_mss && (sk->c.state == TCP_CLOSE || sk->c.state == TCP_LISTEN))
			*v = sk->rx_opt.user_mss;
		return 0;
	case TCP_NODELAY:
		*v = sk->nodelay;
		return 0;
	case TCP_SYNCNT:
		*v = sk->icsk_syn_retries ? sk->icsk_syn_retries : (int)sk->st->sysctl.tcp_syn_retries;
		return 0;
	case TCP_QUICKACK:
		*v = !sk->icsk_ack.pingpong;
		return 0;
	case TCP_DEFER_ACCEPT:
		*v = retrans_to_secs(sk->rskq_defer_accept, TCP_TIMEOUT_INIT_MS / 1000, TCP_RTO_MAX_MS / 1000);
		return 0;
	case TCP_USER_TIMEOUT:
		*v = (int)sk->icsk_user_timeout;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* As Linux, a short buffer gets the value's first bytes, not an error. */
int synack_getsockopt(struct stack *st, int fd, int level, int name, void *val, unsigned int *len)
{
	struct sock *sk = sockfd_lookup(st, fd);
	unsigned int n;
	int v = 0, err;

	if (!sk)
		return -EBADF;
	if (level != SOL_SOCKET && level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (!len || !val)
		return -EFAULT;
	if (*len > INT_MAX)
		return -EINVAL;
	err = level == SOL_SOCKET ? sock_getsockopt(sk, name, &v) : tcp_getsockopt(sk, name, &v);
	if (err)
		return err;
	n = *len < sizeof(v) ? *len : sizeof(v);
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/* ------------------------------------------------------------------ poll */

/* The peer has sent FIN: reads return end of file. */
static bool tcp_rcv_shutdown(int state)
{
	return state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_CLOSING ||
	       state == TCP_TIME_WAIT;
}

/* tcp_poll. As in Linux, a socket in CLOSE - never connected, or done -
 * reports POLLHUP and POLLOUT (a write would fail at once, not block). */
int synack_poll(struct stack *st, int fd)
{
	struct sock *sk = sockfd_lookup(st, fd);
	int state, mask = 0;

	if (!sk)
		return -EBADF;
	state = sk->c.state;
	if (state == TCP_LISTEN)
		return list_empty(&sk->accept_queue) ? 0 : POLLIN;
	if (state == TCP_CLOSE)
		mask |= POLLHUP;
	if (tcp_rcv_shutdown(state))
		mask |= POLLIN;
	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		if (sk->receive_queue.qlen)
			mask |= POLLIN;
		mask |= POLLOUT;
	}
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
