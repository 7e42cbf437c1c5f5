/* Queue sizes for ioctl (pd_queues.c): the adapter's only internal read. */
#ifndef SYNACK_PACKETDRILL_PD_QUEUES_H
#define SYNACK_PACKETDRILL_PD_QUEUES_H

struct stack;

enum pd_queue {
	PD_QUEUE_IN,            /* SIOCINQ / FIONREAD: unread bytes */
	PD_QUEUE_OUT,           /* SIOCOUTQ: bytes not yet acknowledged */
	PD_QUEUE_OUT_NOTSENT,   /* SIOCOUTQNSD: bytes not yet sent */
};

/* 0 and *out, -EBADF for a bad descriptor, -EINVAL for a listener. */
int pd_sock_queue(struct stack *st, int sfd, enum pd_queue which, int *out);

#endif
