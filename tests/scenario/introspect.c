/* See introspect.h. Reads only; never changes the stack. */
#include "introspect.h"
#include "core/stack.h"

static uint32_t list_count(const struct list_head *h)
{
	const struct list_head *p;
	uint32_t n = 0;

	for (p = h->next; p != h; p = p->next)
		n++;
	return n;
}

void sc_usage(const struct stack *st, struct sc_usage *u)
{
	const struct tcp_state_all *t = &st->tcp;

	u->live_skbs = st->skb_pool.live_skbs;
	u->live_data = st->skb_pool.live_data;
	u->timers = st->timers.pending;
	u->frag_queues = st->frags.nqueues;
	u->frag_mem = st->frags.mem;
	u->neigh_entries = st->arp.entries;
	u->ehash = t->hinfo.ehash_count;
	u->timewait = t->tw_count;
	u->orphans = list_count(&t->orphans);
	u->sockets = 0;
	for (int fd = 0; fd < t->nfds; fd++)
		u->sockets += t->fds[fd] != NULL;
}

static uint64_t queue_truesize(const struct sk_buff_head *q)
{
	const struct sk_buff *skb;
	uint64_t n = 0;

	list_for_each_entry(skb, &q->list, list)
		n += skb->shinfo->size + sizeof(*skb);
	return n;
}

static void queue_counts(const struct sk_buff_head *q, uint32_t *skbs, uint64_t *bytes)
{
	*skbs = q->qlen;
	*bytes = q->bytes;
}

int sc_sock_usage(const struct stack *st, int fd, struct sc_sock_usage *u)
{
	const struct sock *sk;

	if (fd < 0 || fd >= st->tcp.nfds || !(sk = st->tcp.fds[fd]))
		return -1;
	u->syn_queue = sk->rskq ? sk->rskq->qlen : 0;
	u->accept_queue = sk->rskq ? list_count(&sk->rskq->accept_queue) : 0;
	queue_counts(&sk->receive_queue, &u->rcv_skbs, &u->rcv_bytes);
	u->ofo_skbs = sk->ooo ? sk->ooo->queue.qlen : 0;
	u->ofo_bytes = tcp_ooo_bytes(sk);
	queue_counts(&sk->rtx_queue, &u->rtx_skbs, &u->rtx_bytes);
	queue_counts(&sk->write_queue, &u->write_skbs, &u->write_bytes);
	u->ofo_truesize = sk->ooo ? queue_truesize(&sk->ooo->queue) : 0;
	u->rcv_truesize = queue_truesize(&sk->receive_queue);
	u->rcvbuf = sk->sk_rcvbuf;
	u->sndbuf = sk->sk_sndbuf;
	u->rcv_nxt = sk->rcv_nxt;
	u->snd_nxt = sk->snd_nxt;
	u->snd_una = sk->snd_una;
	u->rcv_wnd = sk->rcv_wnd;
	u->copied_seq = sk->copied_seq;
	return 0;
}
