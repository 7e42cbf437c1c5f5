/*
 * `synack demo --flood N`: the client's side also sends N spoofed SYNs to
 * the server's listener (private to tools/synack; cmd_demo_flood.c).
 *
 * The flood wraps the client's link: its ops forward to the wire, it puts
 * the spoofed SYNs on the wire itself, and it absorbs the SYN-ACKs the
 * server sends back to the spoofed sources (198.18.0.0/15, RFC 2544's
 * benchmark range, reached through the server's gateway: the client's
 * MAC), as a router would forward them away. Its trace filter prints the
 * first few spoofed frames and events, then only sums them up, so the
 * legitimate connection stays readable.
 */
#ifndef SYNACK_TOOLS_DEMO_FLOOD_H
#define SYNACK_TOOLS_DEMO_FLOOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "synack/synack.h"

struct demo_flood;

/* The gateway the server needs for the spoofed sources: the client. */
#define DEMO_FLOOD_GATEWAY "10.0.0.1"

/* n spoofed SYNs to dst (network order) port dport, wrapping inner (not
 * owned). NULL when out of memory. */
struct demo_flood *demo_flood_new(uint64_t n, uint64_t seed, struct synack_link *inner, uint32_t dst,
				  uint16_t dport);
void demo_flood_free(struct demo_flood *f);
/* The link the client stack is to use. */
struct synack_link *demo_flood_link(struct demo_flood *f);
/* The server (its counters, its MAC) and the listener's backlog. */
void demo_flood_set_server(struct demo_flood *f, const struct stack *server, const uint8_t mac[6], int backlog);
/* The client's real connection, whose events are never the flood's. */
void demo_flood_set_client_port(struct demo_flood *f, uint16_t port);

/* Start sending at now, one SYN every gap_ns. */
void demo_flood_start(struct demo_flood *f, uint64_t now, uint64_t gap_ns);
uint64_t demo_flood_sent(const struct demo_flood *f);
bool demo_flood_done(const struct demo_flood *f);
/* When the next SYN is due (SYNACK_NEVER when all are sent). */
uint64_t demo_flood_next_ns(const struct demo_flood *f);
/* Put every SYN due by now on the wire. True, with a progress line in
 * line, when a quarter of the flood has been sent since the last line. */
bool demo_flood_pump(struct demo_flood *f, uint64_t now, char *line, size_t cap);

/*
 * Decide on one trace event: true when it belongs to the flood and is not
 * to be printed (it is counted). When the server's SYN queue has just
 * overflowed, *note gets a line to print first (else it is set to "").
 */
bool demo_flood_filter(struct demo_flood *f, const struct synack_trace_event *ev, char *note, size_t cap);
/* A frame to or from a spoofed source (for the loss reports). */
bool demo_flood_frame(const uint8_t *frame, size_t len);

/* The closing summary: what the flood cost the server and how the client's
 * connection fared. */
void demo_flood_print_summary(const struct demo_flood *f, FILE *out);

#endif
