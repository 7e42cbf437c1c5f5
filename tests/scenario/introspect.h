/*
 * Read-only views of a stack's internal accounting for scenario tests, which
 * cannot include the internal headers next to <netinet/tcp.h> (both define
 * TCP_ESTABLISHED...). Used to check that hostile input leaves no buffer,
 * queue or socket behind and that memory stays under its limits.
 */
#ifndef SYNACK_TESTS_SCENARIO_INTROSPECT_H
#define SYNACK_TESTS_SCENARIO_INTROSPECT_H

#include <stddef.h>
#include <stdint.h>

struct stack;

struct sc_usage {
	size_t live_skbs, live_data;    /* the skb pool's outstanding headers and data blocks */
	size_t timers;                  /* armed timers */
	uint32_t frag_queues;           /* IPv4 reassembly queues */
	uint64_t frag_mem;              /* bytes charged to reassembly */
	uint32_t neigh_entries;         /* ARP cache entries */
	uint32_t ehash;                 /* sockets, request socks and minisocks in ehash */
	uint32_t timewait;              /* TIME-WAIT minisocks */
	uint32_t orphans;               /* closed sockets still at work */
	uint32_t sockets;               /* descriptors in use */
};

void sc_usage(const struct stack *st, struct sc_usage *u);

/* The socket behind fd: its queues (counts and payload bytes). */
struct sc_sock_usage {
	uint32_t syn_queue, accept_queue;   /* listeners: request socks, children */
	uint32_t rcv_skbs, ofo_skbs, rtx_skbs, write_skbs;
	uint64_t rcv_bytes, ofo_bytes, rtx_bytes, write_bytes;
	uint64_t ofo_truesize, rcv_truesize; /* what those skbs really occupy */
	uint32_t rcvbuf, sndbuf;
	uint32_t rcv_nxt, snd_nxt, snd_una, rcv_wnd;
	uint32_t copied_seq;                /* the next byte the application reads */
};

/* 0, or -1 for a bad descriptor. */
int sc_sock_usage(const struct stack *st, int fd, struct sc_sock_usage *u);

#endif
