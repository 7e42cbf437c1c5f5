#include "link/link.h"

#include <errno.h>

void synack_link_destroy(struct synack_link *l)
{
	if (l && l->ops && l->ops->destroy)
		l->ops->destroy(l);
}

int link_check_frame_len(uint32_t mtu, size_t len)
{
	if (len < ETH_HDR_LEN)
		return -EINVAL;
	if (len > (size_t)mtu + ETH_HDR_LEN)
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
