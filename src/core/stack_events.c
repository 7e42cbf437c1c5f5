/*
 * One descriptor for the application's own event loop: it polls readable
 * when the stack has work - a frame on the link, or a timer due. It is an
 * epoll descriptor holding the link's descriptor and, on a real clock, a
 * timerfd kept armed at the stack's next deadline (re-armed after each poll
 * and whenever a timer is set earlier), so a loop built on epoll, libuv or
 * libevent needs nothing else. On a virtual clock time only moves when the
 * program moves it, so only the link is watched; use the next deadline.
 * An eventfd inside keeps it readable while a synack_epoll instance has
 * registrations listed as ready, as a Linux epoll descriptor is readable
 * while its ready list is not empty.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include "core/clock.h"
#include "core/stack.h"

static int ev_add(int epfd, int fd)
{
	struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

void stack_events_rearm(struct stack *st)
{
	struct itimerspec its = { 0 };
	uint64_t next, abs_ns, now;

	if (!st->ev.on || st->ev.tfd < 0)
		return;
	next = synack_stack_next_deadline(st);
	now = stack_now(st);
	/* Already set for it, and not yet expired: nothing to clear or move. */
	if (next == st->ev.armed && next > now)
		return;
	st->ev.armed = next;
	if (next != SYNACK_NEVER) {
		if (next <= now)
			next = now + 1;
		abs_ns = (uint64_t)st->clock->base.tv_sec * NSEC_PER_SEC + (uint64_t)st->clock->base.tv_nsec + next;
		its.it_value.tv_sec = (time_t)(abs_ns / NSEC_PER_SEC);
		its.it_value.tv_nsec = (long)(abs_ns % NSEC_PER_SEC);
	}
	/* Setting the timer also clears an expiry not yet read. */
	timerfd_settime(st->ev.tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* The ready lists are not empty (ready) or are: make the descriptor say so. */
void stack_events_set_ready(struct stack *st, bool ready)
{
	uint64_t v = 1;

	if (!st->ev.on || ready == st->ev.ready)
		return;
	if (ready ? write(st->ev.rfd, &v, sizeof(v)) < 0 : read(st->ev.rfd, &v, sizeof(v)) < 0)
		return;
	st->ev.ready = ready;
}

/* The interface came up after the descriptor was made: watch its link. */
void stack_events_link_up(struct stack *st)
{
	int fd = synack_stack_wait_fd(st);

	if (st->ev.on && fd >= 0)
		ev_add(st->ev.corefd, fd);
}

static void ev_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The core set: the link and, on a real clock, the timer. */
static int ev_make_core(struct stack *st)
{
	int lfd = synack_stack_wait_fd(st), err;

	st->ev.corefd = epoll_create1(EPOLL_CLOEXEC);
	if (st->ev.corefd < 0)
		return -errno;
	if (lfd >= 0 && (err = ev_add(st->ev.corefd, lfd)) < 0)
		return err;
	if (st->clock->is_virtual)
		return 0;
	st->ev.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (st->ev.tfd < 0)
		return -errno;
	return ev_add(st->ev.corefd, st->ev.tfd);
}

/*
 * Two epoll sets: the core one (link, timer), which blocking mode sleeps on,
 * and the public one, which holds the core set and the ready-list eventfd:
 * a thread that polls the stack must not spin on registrations the
 * application has yet to collect.
 */
static int ev_make(struct stack *st)
{
	int err;

	st->ev.epfd = st->ev.corefd = st->ev.tfd = st->ev.rfd = -1;
	st->ev.ready = false;
	if ((err = ev_make_core(st)) < 0)
		return err;
	st->ev.rfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	st->ev.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->ev.rfd < 0 || st->ev.epfd < 0)
		return -errno;
	if ((err = ev_add(st->ev.epfd, st->ev.corefd)) < 0 || (err = ev_add(st->ev.epfd, st->ev.rfd)) < 0)
		return err;
	return 0;
}

static void ev_close_all(struct stack *st)
{
	ev_close(&st->ev.tfd);
	ev_close(&st->ev.rfd);
	ev_close(&st->ev.corefd);
	ev_close(&st->ev.epfd);
}

int stack_events_core_fd(struct stack *st)
{
	int err = synack_stack_event_fd(st);

	return err < 0 ? err : st->ev.corefd;
}

int synack_stack_event_fd(struct stack *st)
{
	int err;

	if (!st)
		return -EINVAL;
	if (st->ev.on)
		return st->ev.epfd;
	err = ev_make(st);
	if (err < 0) {
		ev_close_all(st);
		return err;
	}
	st->ev.on = true;
	stack_events_rearm(st);
	ep_sync_ready(st);
	return st->ev.epfd;
}

void stack_events_destroy(struct stack *st)
{
	if (!st->ev.on)
		return;
	ev_close_all(st);
	st->ev.on = false;
}
