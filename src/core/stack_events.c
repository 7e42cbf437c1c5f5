/*
 * One descriptor for the application's own event loop: it polls readable
 * when the stack has work - a frame on the link, or a timer due. It is an
 * epoll descriptor holding the link's descriptor and, on a real clock, a
 * timerfd kept armed at the stack's next deadline (re-armed after each poll
 * and whenever a timer is set earlier), so a loop built on epoll, libuv or
 * libevent needs nothing else. On a virtual clock time only moves when the
 * program moves it, so only the link is watched; use the next deadline.
 */
#include <errno.h>
#include <unistd.h>
#include <sys/epoll.h>
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
	st->ev.armed = next;
	if (next != SYNACK_NEVER) {
		now = stack_now(st);
		if (next <= now)
			next = now + 1;
		abs_ns = (uint64_t)st->clock->base.tv_sec * NSEC_PER_SEC + (uint64_t)st->clock->base.tv_nsec + next;
		its.it_value.tv_sec = (time_t)(abs_ns / NSEC_PER_SEC);
		its.it_value.tv_nsec = (long)(abs_ns % NSEC_PER_SEC);
	}
	/* Setting the timer also clears an expiry not yet read. */
	timerfd_settime(st->ev.tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* The interface came up after the descriptor was made: watch its link. */
void stack_events_link_up(struct stack *st)
{
	int fd = synack_stack_wait_fd(st);

	if (st->ev.on && fd >= 0)
		ev_add(st->ev.epfd, fd);
}

int synack_stack_event_fd(struct stack *st)
{
	int epfd, lfd, err;

	if (!st)
		return -EINVAL;
	if (st->ev.on)
		return st->ev.epfd;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	st->ev.tfd = -1;
	lfd = synack_stack_wait_fd(st);
	if (lfd >= 0 && (err = ev_add(epfd, lfd)) < 0)
		goto fail;
	if (!st->clock->is_virtual) {
		st->ev.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (st->ev.tfd < 0 || (err = ev_add(epfd, st->ev.tfd)) < 0) {
			err = st->ev.tfd < 0 ? -errno : err;
			goto fail;
		}
	}
	st->ev.epfd = epfd;
	st->ev.on = true;
	stack_events_rearm(st);
	return epfd;
fail:
	if (st->ev.tfd >= 0)
		close(st->ev.tfd);
	st->ev.tfd = -1;
	close(epfd);
	return err;
}

void stack_events_destroy(struct stack *st)
{
	if (!st->ev.on)
		return;
	if (st->ev.tfd >= 0)
		close(st->ev.tfd);
	close(st->ev.epfd);
	st->ev.on = false;
}
