/*
 * The one place the packetdrill adapter reads the stack's internals: the
 * queue sizes Linux's tcp_ioctl reports (SIOCINQ, SIOCOUTQ, SIOCOUTQNSD).
 * The public API has no call for them (docs/packetdrill.md, "API gaps").
 * Read-only.
 */
#include <errno.h>

#include "pd_queues.h"
#include "synack/synack.h"
#include "tcp/tcp.h"

int pd_sock_queue(struct stack *st, int sfd, enum pd_queue which, int *out)
{
	struct sock *sk = sock_lookup(st, sfd);
	int state;

	if (!sk)
		return -EBADF;
	state = sk->c.state;
	if (state == TCP_LISTEN)
		return -EINVAL;
	/* Nothing is queued for the user before the handshake completes. */
	if (state == TCP_SYN_SENT || state == TCP_SYN_RECV) {
		*out = 0;
		return 0;
	}
	switch (which) {
	case PD_QUEUE_IN: {
		uint32_t n = sk->rcv_nxt - sk->copied_seq;

		/* rcv_nxt counts the peer's FIN, which is not data (tcp_inq). */
		if (n && (state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_CLOSING))
			n--;
		*out = (int)n;
		return 0;
	}
	case PD_QUEUE_OUT:
		*out = (int)(sk->write_seq - sk->snd_una);
		return 0;
	case PD_QUEUE_OUT_NOTSENT:
		*out = (int)(sk->write_seq - sk->snd_nxt);
		return 0;
	}
	return -EINVAL;
}
