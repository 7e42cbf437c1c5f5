/*
 * Readiness for many sockets at once, as Linux's epoll (fs/eventpoll.c).
 *
 * Each registration (an epitem) hangs off its socket. A socket's wakeups
 * (data queued, send space freed, a state change, a new child) put its
 * items on their instance's ready list; epoll_wait re-checks each listed
 * item with the socket's poll mask. Level-triggered items stay listed while
 * ready; edge-triggered ones leave the list once reported and come back
 * only with the next wakeup; one-shot ones are disarmed until EPOLL_CTL_MOD.
 * A wait therefore costs what is ready, not what is registered.
 *
 * Instances have descriptors of their own (synack_epoll_create), separate
 * from the sockets' (Linux shares one table; synack's socket descriptors
 * are not kernel files).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include "core/stack.h"
#include "tcp/tcp.h"

#define EP_MAX_INSTANCES 1024
/* Reported whether asked for or not (Linux: EPOLLERR | EPOLLHUP). */
#define EP_ALWAYS (EPOLLERR | EPOLLHUP)
#define EP_PRIVATE (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)

struct eventpoll {
	struct list_head items;     /* every registration */
	struct list_head rdllist;   /* registrations that may be ready */
};

struct epitem {
	struct list_head eplink;    /* on ep->items */
	struct list_head rdllink;   /* on ep->rdllist while listed */
	struct list_head sklink;    /* on sk->epoll_items */
	struct eventpoll *ep;
	struct sock *sk;
	int fd;
	uint32_t events;
	uint64_t data;
	bool listed;
	bool disarmed;              /* EPOLLONESHOT after its report */
};

static struct eventpoll *ep_lookup(const struct stack *st, int epfd)
{
	if (!st || epfd < 0 || epfd >= st->tcp.neps)
		return NULL;
	return st->tcp.eps[epfd];
}

static void ep_list(struct epitem *epi)
{
	if (!epi->listed && !epi->disarmed) {
		list_add_tail(&epi->rdllink, &epi->ep->rdllist);
		epi->listed = true;
		stack_events_set_ready(epi->sk->st, true);
	}
}

/* The event descriptor is readable exactly while some instance has
 * registrations listed (Linux: ep_events_available). */
void ep_sync_ready(struct stack *st)
{
	bool ready = false;

	if (!st->ev.on)
		return;
	for (int i = 0; i < st->tcp.neps && !ready; i++)
		ready = st->tcp.eps[i] && !list_empty(&st->tcp.eps[i]->rdllist);
	stack_events_set_ready(st, ready);
}

static void ep_unlist(struct epitem *epi)
{
	if (epi->listed) {
		list_del_init(&epi->rdllink);
		epi->listed = false;
	}
}

/* Something about sk changed: its registrations may be ready (Linux:
 * ep_poll_callback). */
void sk_wakeup(struct sock *sk)
{
	struct epitem *epi;

	sk->st->tcp.wakeups++;
	if (!sk->epoll_items.next)
		return;
	list_for_each_entry(epi, &sk->epoll_items, sklink)
		ep_list(epi);
}

static void ep_remove(struct epitem *epi)
{
	ep_unlist(epi);
	list_del_init(&epi->eplink);
	list_del_init(&epi->sklink);
	free(epi);
}

/* The socket behind fd is being closed: its registrations go (Linux:
 * eventpoll_release on the file's last close). */
void ep_forget_sock(struct sock *sk)
{
	struct epitem *epi, *n;

	if (!sk->epoll_items.next)
		return;
	list_for_each_entry_safe(epi, n, &sk->epoll_items, sklink)
		ep_remove(epi);
}

/* Through the socket's own list, which holds one entry per instance
 * watching it: a lookup does not grow with the instance's size. */
static struct epitem *ep_find(struct eventpoll *ep, const struct sock *sk)
{
	struct epitem *epi;

	if (!sk->epoll_items.next)
		return NULL;
	list_for_each_entry(epi, &sk->epoll_items, sklink)
		if (epi->ep == ep)
			return epi;
	return NULL;
}

int synack_epoll_create(struct stack *st)
{
	struct tcp_state_all *t;
	struct eventpoll *ep;
	int fd;

	if (!st)
		return -EINVAL;
	t = &st->tcp;
	for (fd = 0; fd < t->neps && t->eps[fd]; fd++)
		;
	if (fd == t->neps) {
		int n = t->neps ? t->neps * 2 : 8;
		struct eventpoll **eps;

		if (t->neps >= EP_MAX_INSTANCES)
			return -EMFILE;
		eps = realloc(t->eps, (size_t)n * sizeof(*eps));
		if (!eps)
			return -ENOMEM;
		memset(eps + t->neps, 0, (size_t)(n - t->neps) * sizeof(*eps));
		t->eps = eps;
		t->neps = n;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	INIT_LIST_HEAD(&ep->items);
	INIT_LIST_HEAD(&ep->rdllist);
	t->eps[fd] = ep;
	return fd;
}

int synack_epoll_close(struct stack *st, int epfd)
{
	struct eventpoll *ep = ep_lookup(st, epfd);
	struct epitem *epi, *n;

	if (!ep)
		return -EBADF;
	list_for_each_entry_safe(epi, n, &ep->items, eplink)
		ep_remove(epi);
	free(ep);
	st->tcp.eps[epfd] = NULL;
	ep_sync_ready(st);
	return 0;
}

void ep_destroy_all(struct stack *st)
{
	for (int i = 0; i < st->tcp.neps; i++)
		if (st->tcp.eps[i])
			synack_epoll_close(st, i);
	free(st->tcp.eps);
	st->tcp.eps = NULL;
	st->tcp.neps = 0;
}

static int ep_insert(struct eventpoll *ep, struct sock *sk, int fd, const struct epoll_event *ev)
{
	struct epitem *epi = calloc(1, sizeof(*epi));

	if (!epi)
		return -ENOMEM;
	epi->ep = ep;
	epi->sk = sk;
	epi->fd = fd;
	epi->events = ev->events;
	epi->data = ev->data.u64;
	INIT_LIST_HEAD(&epi->rdllink);
	list_add_tail(&epi->eplink, &ep->items);
	if (!sk->epoll_items.next)
		INIT_LIST_HEAD(&sk->epoll_items);
	list_add_tail(&epi->sklink, &sk->epoll_items);
	ep_list(epi); /* already ready counts at once, as Linux */
	return 0;
}

int synack_epoll_ctl(struct stack *st, int epfd, int op, int fd, struct epoll_event *ev)
{
	struct eventpoll *ep = ep_lookup(st, epfd);
	struct sock *sk = ep ? sock_lookup(st, fd) : NULL;
	struct epitem *epi;

	if (!ep || !sk)
		return -EBADF;
	if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
		return -EINVAL;
	if (op != EPOLL_CTL_DEL && !ev)
		return -EFAULT;
	/* EPOLLEXCLUSIVE only on ADD (Linux), and never with ONESHOT. */
	if (ev && op != EPOLL_CTL_DEL && (ev->events & EPOLLEXCLUSIVE) &&
	    (op == EPOLL_CTL_MOD || (ev->events & EPOLLONESHOT)))
		return -EINVAL;
	epi = ep_find(ep, sk);
	switch (op) {
	case EPOLL_CTL_ADD:
		return epi ? -EEXIST : ep_insert(ep, sk, fd, ev);
	case EPOLL_CTL_MOD:
		if (!epi)
			return -ENOENT;
		epi->events = ev->events;
		epi->data = ev->data.u64;
		epi->disarmed = false;
		ep_list(epi);
		return 0;
	default:
		if (!epi)
			return -ENOENT;
		ep_remove(epi);
		return 0;
	}
}

/* Report one listed item: false when it is not ready after all. */
static bool ep_report(struct epitem *epi, struct epoll_event *out)
{
	int mask = synack_poll(epi->sk->st, epi->fd);
	uint32_t ready = mask < 0 ? 0 : ((uint32_t)mask & (epi->events | EP_ALWAYS) & ~(uint32_t)EP_PRIVATE);

	if (!ready)
		return false;
	out->events = ready;
	out->data.u64 = epi->data;
	return true;
}

int synack_epoll_wait(struct stack *st, int epfd, struct epoll_event *events, int maxevents)
{
	struct eventpoll *ep = ep_lookup(st, epfd);
	struct list_head txlist, keep;
	int n = 0;

	if (!ep)
		return -EBADF;
	if (maxevents <= 0)
		return -EINVAL;
	if (!events)
		return -EFAULT;
	INIT_LIST_HEAD(&txlist);
	INIT_LIST_HEAD(&keep);
	list_splice_tail_init(&ep->rdllist, &txlist);
	while (!list_empty(&txlist) && n < maxevents) {
		struct epitem *epi = list_first_entry(&txlist, struct epitem, rdllink);

		list_del_init(&epi->rdllink);
		epi->listed = false;
		if (!ep_report(epi, &events[n]))
			continue;
		n++;
		if (epi->events & EPOLLONESHOT)
			epi->disarmed = true;
		else if (!(epi->events & EPOLLET)) {
			/* Level-triggered: checked again next time. */
			list_add_tail(&epi->rdllink, &keep);
			epi->listed = true;
		}
	}
	/* Unexamined items stay first in line, then the level-triggered ones. */
	list_splice_tail_init(&keep, &txlist);
	list_splice_tail_init(&txlist, &ep->rdllist);
	ep_sync_ready(st);
	return n;
}
