#include "link/link.h"

#include <errno.h>

void synack_link_destroy(struct synack_link *l)
{
	if (l && l->ops && l->ops->destroy)
		l->ops->destroy(l);
}

int link_check_frame(const struct synack_link *l, const void *frame, size_t len)
{
	if (!frame || len < ETH_HDR_LEN)
		return -EINVAL;
	if (len > (size_t)l->mtu + ETH_HDR_LEN)
		return -EMSGSIZE;
	return 0;
}

bool link_usable(const struct synack_link *l)
{
	return l && l->ops && l->ops->send && l->ops->recv;
}

int link_wait_fd(struct synack_link *l)
{
	return l->ops->wait_fd ? l->ops->wait_fd(l) : -1;
}

uint64_t link_next_deadline(struct synack_link *l)
{
	return l->ops->next_deadline ? l->ops->next_deadline(l) : SYNACK_NEVER;
}

int link_recv_meta(struct synack_link *l, void *buf, size_t cap, struct synack_rx_meta *meta)
{
	return l->ops->recv_meta ? l->ops->recv_meta(l, buf, cap, meta) : l->ops->recv(l, buf, cap);
}

/* Holding frames is only safe when someone will flush them. */
int link_send_more(struct synack_link *l, const void *frame, size_t len)
{
	if (l->ops->send_more && l->ops->flush)
		return l->ops->send_more(l, frame, len);
	return l->ops->send(l, frame, len);
}

int link_flush(struct synack_link *l)
{
	return l->ops->send_more && l->ops->flush ? l->ops->flush(l) : 0;
}

uint32_t link_max_frame(const struct synack_link *l)
{
	uint32_t plain = l->mtu + ETH_HDR_LEN;

	return l->ops->recv_meta && l->max_frame > plain ? l->max_frame : plain;
}
