/*
 * Blocking mode. The core never blocks and has no threads (docs/
 * architecture.md); this layer, built on the public calls, lets a program
 * use synack as it would Linux's blocking sockets.
 *
 * synack_thread_start runs the stack on a thread of its own: it polls the
 * stack whenever the event descriptor says there is work, all under one
 * mutex, and wakes every waiting caller when a socket's readiness changed.
 * The *_wait calls take the mutex, try the non-blocking call, and sleep on a
 * condition variable until a wakeup or their timeout (SO_RCVTIMEO for
 * accept and recv, SO_SNDTIMEO for connect and send, as Linux).
 *
 * Without the thread, a *_wait call drives the stack itself on the calling
 * thread until it can return (real clock only): the simplest blocking
 * client needs no thread at all.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include "core/clock.h"
#include "core/stack.h"
#include "tcp/tcp.h"

struct synack_thread {
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* broadcast after polls that woke a socket */
	int kick_fd;                /* eventfd: stop, or look again */
	bool stop;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Poll until the stack has nothing more to do now. */
static void stack_poll_all(struct stack *st)
{
	while (synack_stack_poll(st) > 0)
		;
}

static void *stack_thread_main(void *arg)
{
	struct stack *st = arg;
	struct synack_thread *t = st->thr;
	struct epoll_event evs[4];
	uint64_t junk;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		uint64_t before = st->tcp.wakeups;
		int epfd = st->ev.corefd;

		stack_poll_all(st);
		if (st->tcp.wakeups != before)
			pthread_cond_broadcast(&t->cond);
		pthread_mutex_unlock(&t->lock);
		/* The timerfd inside wakes us at the next deadline. */
		epoll_wait(epfd, evs, 4, -1);
		if (read(t->kick_fd, &junk, sizeof(junk)) < 0 && errno != EAGAIN)
			break;
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static int thread_init(struct synack_thread *t)
{
	pthread_condattr_t ca;

	t->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->kick_fd < 0)
		return -errno;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

static void thread_fini(struct synack_thread *t)
{
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	close(t->kick_fd);
	free(t);
}

int synack_thread_start(struct stack *st)
{
	struct synack_thread *t;
	struct epoll_event e = { .events = EPOLLIN };
	int epfd, err;

	if (!st || st->clock->is_virtual)
		return -EINVAL;
	if (st->thr)
		return -EBUSY;
	epfd = stack_events_core_fd(st);
	if (epfd < 0)
		return epfd;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	err = thread_init(t);
	if (err) {
		free(t);
		return err;
	}
	e.data.fd = t->kick_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, t->kick_fd, &e) < 0) {
		err = -errno;
		thread_fini(t);
		return err;
	}
	st->thr = t;
	err = pthread_create(&t->tid, NULL, stack_thread_main, st);
	if (err) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, t->kick_fd, NULL);
		st->thr = NULL;
		thread_fini(t);
		return -err;
	}
	return 0;
}

static void thread_kick(struct synack_thread *t)
{
	uint64_t one = 1;

	if (write(t->kick_fd, &one, sizeof(one)) < 0) {
		/* The counter is saturated: the thread is awake anyway. */
	}
}

int synack_thread_stop(struct stack *st)
{
	struct synack_thread *t = st ? st->thr : NULL;

	if (!t)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	thread_kick(t);
	pthread_join(t->tid, NULL);
	epoll_ctl(st->ev.corefd, EPOLL_CTL_DEL, t->kick_fd, NULL);
	st->thr = NULL;
	thread_fini(t);
	return 0;
}

void synack_lock(struct stack *st)
{
	if (st && st->thr)
		pthread_mutex_lock(&st->thr->lock);
}

void synack_unlock(struct stack *st)
{
	if (st && st->thr) {
		pthread_mutex_unlock(&st->thr->lock);
		/* What the caller did may have moved the next deadline or
		 * queued work: let the loop look again. */
		thread_kick(st->thr);
	}
}

/* The socket's timeout option in ns from now; 0 = wait forever. Read from
 * the socket, not getsockopt, which shows "do not wait" as forever. */
static uint64_t sock_timeout_ns(struct stack *st, int fd, int optname)
{
	struct sock *sk = sock_lookup(st, fd);
	uint32_t ms;

	if (!sk)
		return 0;
	ms = optname == SO_RCVTIMEO ? sk->rcvtimeo_ms : sk->sndtimeo_ms;
	if (ms == SOCK_TIMEO_NOWAIT)
		return 1;      /* a deadline already past: time out at once */
	return (uint64_t)ms * 1000000;
}

/* Without the thread: run the stack here until something changes or the
 * deadline (ns on CLOCK_MONOTONIC, 0 = none) passes. */
static int drive_inline(struct stack *st, uint64_t deadline)
{
	uint64_t before = st->tcp.wakeups, now;
	int epfd = stack_events_core_fd(st);
	struct epoll_event evs[4];

	if (epfd < 0)
		return epfd;
	for (;;) {
		stack_poll_all(st);
		if (st->tcp.wakeups != before)
			return 0;
		now = mono_ns();
		if (deadline && now >= deadline)
			return -ETIMEDOUT;
		epoll_wait(epfd, evs, 4, deadline ? (int)((deadline - now + 999999) / 1000000) : -1);
	}
}

/* Sleep until a socket wakeup or the deadline: 0, or -ETIMEDOUT. Called
 * with the lock held (thread mode). */
static int wait_for_wakeup(struct stack *st, uint64_t deadline)
{
	struct synack_thread *t = st->thr;
	uint64_t before;
	struct timespec ts;

	if (!t)
		return drive_inline(st, deadline);
	before = st->tcp.wakeups;
	thread_kick(t);
	while (st->tcp.wakeups == before && !t->stop) {
		if (!deadline) {
			pthread_cond_wait(&t->cond, &t->lock);
			continue;
		}
		ts.tv_sec = (time_t)(deadline / NSEC_PER_SEC);
		ts.tv_nsec = (long)(deadline % NSEC_PER_SEC);
		if (pthread_cond_timedwait(&t->cond, &t->lock, &ts) == ETIMEDOUT)
			return -ETIMEDOUT;
	}
	return t->stop ? -ECANCELED : 0;
}

/* Sleep for the next wakeup: true to try again; false when the wait ended
 * without one, with *r set to the timeout's errno or why else
 * (-ECANCELED: the stack's thread was stopped). */
static bool keep_waiting(struct stack *st, uint64_t deadline, long *r, int timeout_errno)
{
	int w = wait_for_wakeup(st, deadline);

	if (w)
		*r = w == -ETIMEDOUT ? timeout_errno : w;
	return !w;
}

static uint64_t deadline_of(struct stack *st, int fd, int optname)
{
	uint64_t tmo = sock_timeout_ns(st, fd, optname);

	return tmo ? mono_ns() + tmo : 0;
}

static int blocking_precheck(struct stack *st)
{
	if (!st)
		return -EINVAL;
	if (!st->thr && st->clock->is_virtual)
		return -EOPNOTSUPP; /* nothing would move time */
	return 0;
}

int synack_accept_wait(struct stack *st, int fd, struct sockaddr_in *peer)
{
	uint64_t deadline;
	long r = blocking_precheck(st);

	if (r)
		return (int)r;
	synack_lock(st);
	deadline = deadline_of(st, fd, SO_RCVTIMEO);
	while ((r = synack_accept(st, fd, peer)) == -EAGAIN && keep_waiting(st, deadline, &r, -EAGAIN))
		;
	synack_unlock(st);
	return (int)r;
}

/* Linux's blocking connect: the result of the handshake, or -EINPROGRESS
 * when SO_SNDTIMEO runs out first. */
int synack_connect_wait(struct stack *st, int fd, const struct sockaddr_in *addr)
{
	uint64_t deadline;
	long r = blocking_precheck(st);

	if (r)
		return (int)r;
	synack_lock(st);
	deadline = deadline_of(st, fd, SO_SNDTIMEO);
	r = synack_connect(st, fd, addr);
	while ((r == -EINPROGRESS || r == -EALREADY) && keep_waiting(st, deadline, &r, -EINPROGRESS)) {
		if (synack_tcp_state(st, fd) == TCP_SYN_SENT)
			continue;
		r = synack_connect(st, fd, addr);
		if (r == -EISCONN)
			r = 0;
	}
	synack_unlock(st);
	return (int)r;
}

/* Everything is queued before it returns, as Linux's blocking send; after
 * a timeout, what was queued (or -EAGAIN when nothing was). */
long synack_send_wait(struct stack *st, int fd, const void *buf, size_t len, int flags)
{
	const uint8_t *p = buf;
	uint64_t deadline;
	size_t done = 0;
	long r = blocking_precheck(st);

	if (r)
		return r;
	synack_lock(st);
	deadline = deadline_of(st, fd, SO_SNDTIMEO);
	for (;;) {
		r = synack_send(st, fd, p + done, len - done, flags);
		if (r > 0)
			done += (size_t)r;
		if (done == len || (r < 0 && r != -EAGAIN) || (flags & MSG_DONTWAIT))
			break;
		if (r == -EAGAIN && !keep_waiting(st, deadline, &r, -EAGAIN))
			break;
	}
	synack_unlock(st);
	return done ? (long)done : r;
}

long synack_recv_wait(struct stack *st, int fd, void *buf, size_t len, int flags)
{
	uint64_t deadline;
	long r = blocking_precheck(st);

	if (r)
		return r;
	synack_lock(st);
	deadline = deadline_of(st, fd, SO_RCVTIMEO);
	while ((r = synack_recv(st, fd, buf, len, flags)) == -EAGAIN && !(flags & MSG_DONTWAIT) &&
	       keep_waiting(st, deadline, &r, -EAGAIN))
		;
	synack_unlock(st);
	return r;
}
