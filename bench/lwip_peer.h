/*
 * lwIP as the benchmarks' comparison peer: Debian's liblwip (2.1.3) loaded
 * twice into one process, so two lwIP stacks talk to each other over the
 * in-memory wire (bench/memwire.h) exactly as two synack stacks do.
 *
 * lwIP keeps all of its state in globals, so one loaded copy is one stack.
 * Each instance is a private copy of the shared object (copied to a
 * temporary file, since dlopen of one path twice returns the same handle)
 * opened with RTLD_LOCAL|RTLD_DEEPBIND, so each copy binds to its own
 * globals. Every lwIP function goes through the instance's table of
 * pointers (lwip_peer.c); the bench binaries never link liblwip.
 *
 * How it is driven, as Debian's build requires: its installed lwipopts.h is
 * kept as it is (NO_SYS=0, which cannot be changed without breaking the
 * struct layouts its headers describe), but tcpip_init() is never called:
 * lwip_init(), then the raw (callback) API and sys_check_timeouts() from
 * one thread, as NO_SYS=1 would. Received frames go in PBUF_RAM pbufs (this
 * build's PBUF_POOL buffers are too small and overrun).
 *
 * This header names no lwIP type: lwIP's headers and synack's internal ones
 * both define struct netif, tcp_connect() and more, so no file includes
 * both. Client is 10.0.0.1 (wire end 0), server 10.0.0.2 (end 1).
 *
 * Built only when pkg-config finds lwip (SYNACK_BENCH_LWIP).
 */
#ifndef SYNACK_BENCH_LWIP_PEER_H
#define SYNACK_BENCH_LWIP_PEER_H

#include <stdbool.h>
#include <stdint.h>

struct lwip_pair;

/* The shared object the instances copy: $SYNACK_LWIP_SO, else the one
 * pkg-config named at build time; and lwIP's version string. */
const char *lwip_peer_library(void);
const char *lwip_peer_version(void);

/* Two lwIP stacks on a fresh in-memory wire, interfaces up, and a listener
 * on the server at port. NULL (with a message on stderr) on failure. lwIP
 * cannot be torn down: lwip_pair_free frees the wire, and both copies of
 * the library stay loaded until the process ends. */
struct lwip_pair *lwip_pair_new(uint16_t port);
void lwip_pair_free(struct lwip_pair *p);

/* One connection each, as bench/handshake's synack iterations:
 * close: connect, accept, 1-byte request, 1-byte response, client closes,
 *        server reads EOF and closes; the client's TIME-WAIT pcb is then
 *        freed (lwip_pair_stats: reaped);
 * rst:   connect, accept, client tcp_abort() (a RST), server sees the reset.
 * 0, or -1 with *what naming the step that failed. */
int lwip_hs_close(struct lwip_pair *p, const char **what);
int lwip_hs_rst(struct lwip_pair *p, const char **what);

/* Bulk: open one connection client -> server (0, or -1), then move `bytes`
 * from client to server: the bytes the server's application received (its
 * recv callback copies them out, as recv() would), or -1. When neither side
 * can move (the sender waits for a delayed ACK), the receiver's
 * tcp_fasttmr() is run at once instead of waiting 250 ms of real time
 * (counted as stalls). */
int lwip_bulk_open(struct lwip_pair *p);
int64_t lwip_bulk_move(struct lwip_pair *p, uint64_t bytes);

struct lwip_pair_stats {
	uint64_t frames;                    /* sent on the wire, both ways */
	uint64_t wire_drops, rx_alloc_fail;
	uint64_t reaped;                    /* TIME-WAIT pcbs freed by the bench */
	uint64_t stalls;                    /* bulk: tcp_fasttmr() run to unblock */
	uint32_t mss;                       /* bulk: the connection's send MSS */
};
void lwip_pair_stats(const struct lwip_pair *p, struct lwip_pair_stats *out);
/* Print every frame on the wire, tcpdump style, while on. */
void lwip_pair_trace(struct lwip_pair *p, bool on);

#endif
