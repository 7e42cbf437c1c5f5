/* Helpers the link drivers share. */
#ifndef SYNACK_LINK_LINK_H
#define SYNACK_LINK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "synack/synack.h"

#define ETH_HDR_LEN 14u

/* What every driver's send checks first: 0 if frame is a frame that fits
 * l's IP MTU; -EINVAL for NULL or less than an Ethernet header, -EMSGSIZE
 * above mtu + 14. */
int link_check_frame(const struct synack_link *l, const void *frame, size_t len);

/* A link a wrapper can safely drive: ops with send and recv. */
bool link_usable(const struct synack_link *l);

/* Calls that tolerate drivers leaving the optional ops NULL. */
int link_wait_fd(struct synack_link *l);
uint64_t link_next_deadline(struct synack_link *l);
/* recv_meta, or recv with nothing to say. */
int link_recv_meta(struct synack_link *l, void *buf, size_t cap, struct synack_rx_meta *meta);
/* send_more with flush, or plain send. */
int link_send_more(struct synack_link *l, const void *frame, size_t len);
int link_flush(struct synack_link *l);
/* The longest frame recv_meta may return. */
uint32_t link_max_frame(const struct synack_link *l);

#endif
