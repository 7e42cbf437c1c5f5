/* Helpers the link drivers share. */
#ifndef SYNACK_LINK_LINK_H
#define SYNACK_LINK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "synack/synack.h"

#define ETH_HDR_LEN 14u

/* 0 if a frame of len bytes fits a link of this IP MTU: -EINVAL below an
 * Ethernet header, -EMSGSIZE above mtu + 14. */
int link_check_frame_len(uint32_t mtu, size_t len);

/* A link a wrapper can safely drive: ops with send and recv. */
bool link_usable(const struct synack_link *l);

/* Calls that tolerate drivers leaving the optional ops NULL. */
int link_wait_fd(struct synack_link *l);
uint64_t link_next_deadline(struct synack_link *l);

#endif
