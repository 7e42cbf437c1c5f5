/*
 * The fuzzing world: one stack (192.0.2.1/24, gateway 192.0.2.254) on a
 * link that belongs to the harness, on a virtual clock, with a modelled peer
 * (192.0.2.2 and any other address on or off the link).
 *
 * Frames go in through the link's receive queue and synack_stack_poll, so
 * the whole receive path runs as it does for a real link. Every frame the
 * stack sends is checked (lengths, IPv4 and TCP/ICMP checksums, ARP layout)
 * and a bad one aborts: a fuzzer reports it as a crash. ARP requests are
 * answered at once (unless auto_arp is off), and every TCP segment updates
 * the peer's model of the connection it belongs to ("flows"), so the
 * targets can build segments relative to what the stack expects: its
 * rcv_nxt (the last ACK it sent), its snd_nxt, its last TSval, the Fast Open
 * cookie it handed out.
 *
 * No globals: everything hangs off struct world. Shared by fuzz_frame,
 * fuzz_sequence and the seed generator.
 */
#ifndef SYNACK_FUZZ_WORLD_H
#define SYNACK_FUZZ_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "synack/synack.h"

#define W_T0 (1000000ULL * 1000000000ULL)  /* virtual start: 1,000,000 s */
#define W_MS 1000000ULL
#define W_SEC 1000000000ULL

/* Addresses in host order (w_addr() converts). */
#define W_LOCAL 0xc0000201u   /* 192.0.2.1, the stack */
#define W_PEER 0xc0000202u    /* 192.0.2.2, the peer */
#define W_OTHER 0xc0000203u   /* 192.0.2.3, another host on the link */
#define W_GW 0xc00002feu      /* 192.0.2.254, the gateway */
#define W_FAR 0xc6336401u     /* 198.51.100.1, off the link */

#define W_LISTEN_PORT 8080
#define W_PEER_PORT 50000
#define W_REMOTE_PORT 80

#define W_MAXFRAME 1600
#define W_RXQ 16
#define W_MAXFLOWS 16
#define W_MAXFDS 16
#define W_BUF (64 * 1024)
#define W_MAX_STEPS 50000   /* timer deadlines one world stops at, one by one */

/* TCP flags (byte 13). */
#define W_FIN 0x01
#define W_SYN 0x02
#define W_RST 0x04
#define W_PSH 0x08
#define W_ACK 0x10
#define W_URG 0x20
#define W_ECE 0x40
#define W_CWR 0x80

/* One TCP connection as the peer sees it (ports in host order). */
struct w_flow {
	uint32_t raddr;             /* the peer's address (host order) */
	uint16_t lport, rport;      /* the stack's port, the peer's port */
	/* What the stack sent last. */
	bool seen;                  /* the stack sent something on this flow */
	bool acked;                 /* ... with ACK set: stack_ack is its rcv_nxt */
	uint32_t stack_isn;
	uint32_t stack_nxt;         /* the highest seq + len the stack has sent */
	uint32_t stack_ack;
	uint32_t stack_tsval;
	bool stack_ts;
	uint16_t stack_win;
	uint8_t cookie[16];         /* the Fast Open cookie of its last SYN-ACK */
	uint8_t cookie_len;
	/* The peer's side. */
	uint32_t peer_isn, peer_nxt;
	uint32_t peer_ack;          /* the last ACK the peer sent */
	uint32_t peer_ts_off;       /* peer TSval = now_ms + off */
	/* The stack's last segment on this flow (IP header + 8 bytes), for ICMP. */
	uint8_t quote[28];
	bool has_quote;
};

/* A TCP segment for the peer to send. */
struct w_seg {
	uint32_t saddr, daddr;      /* host order; 0: peer -> stack */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, urg;
	const uint8_t *opt;         /* raw option bytes, padded with EOL to 4 */
	size_t optlen;
	const uint8_t *data;
	size_t len;
	/* IP tweaks */
	uint8_t ttl, tos;           /* ttl 0: 64 */
	uint16_t ip_id;
	bool no_df, bad_csum, bcast_mac;
	uint8_t ip_opt_words;       /* IP options (NOPs), 0..10 words */
};

struct world_opts {
	uint64_t seed;              /* stack seed; 0: 1 */
	uint32_t mtu;               /* 0: 1500 */
	bool trace;                 /* install a trace sink that formats every frame */
	bool no_auto_arp;
	bool gro;                   /* the link offers SYNACK_LINK_F_GRO (software GRO) */
};

struct world;

struct w_link {
	struct synack_link l;       /* first: the stack sees only this */
	struct world *w;
};

struct world {
	struct synack_clock *clk;
	struct stack *st;
	struct w_link link;
	uint32_t mtu;
	bool auto_arp, verbose;
	/* Frames waiting for the stack. */
	uint8_t rxq[W_RXQ][W_MAXFRAME];
	uint16_t rxlen[W_RXQ];
	unsigned rxhead, rxn;
	/* The peer's view. */
	struct w_flow flows[W_MAXFLOWS];
	unsigned nflows;
	uint16_t ip_id;
	/* The last Fast Open cookie the stack handed out, on any flow. */
	uint8_t cookie[16];
	uint8_t cookie_len;
	/* Sockets the target opened (-1: empty slot). */
	int fds[W_MAXFDS];
	/* Scratch buffers for data calls. */
	uint8_t *txbuf, *rxbuf;     /* W_BUF bytes each */
	uint64_t tx_frames, tx_tcp, rx_frames;
	/* Timer deadlines w_advance may still stop at (W_MAX_STEPS per world);
	 * past that it jumps straight to the end of each advance, so no input
	 * can make a run slow by asking for hours of 1-second keepalives. */
	uint32_t steps_left;
	char fmt[512];
};

static inline uint32_t w_addr(uint32_t host) { return __builtin_bswap32(host); }

struct world *world_new(const struct world_opts *o);
void world_free(struct world *w);

uint64_t w_now(const struct world *w);
uint32_t w_now_ms(const struct world *w);
/* Let the stack take every queued frame and run what is due now. */
void w_pump(struct world *w);
/* Move the clock forward by ns, running every timer at its time. */
void w_advance(struct world *w, uint64_t ns);
/* Jump to the next deadline (if any, at most max_ns ahead) and run it. */
void w_run_next(struct world *w, uint64_t max_ns);

/* Queue a raw frame (truncated to W_MAXFRAME) and pump. */
void w_inject(struct world *w, const uint8_t *frame, size_t len);
/* Queue without pumping; false when the queue is full. */
bool w_queue(struct world *w, const uint8_t *frame, size_t len);

/* Frame builders: return the frame length (0 if it does not fit cap). */
size_t w_build_eth(const struct world *w, uint8_t *f, bool bcast, uint16_t type);
size_t w_build_ip(struct world *w, uint8_t *f, size_t cap, uint32_t saddr, uint32_t daddr, uint8_t proto,
		  const uint8_t *payload, size_t plen, const struct w_seg *tweak);
size_t w_build_tcp(struct world *w, uint8_t *f, size_t cap, const struct w_seg *s);
/* ICMP error (type, code, info) quoting the flow's last segment from the stack. */
size_t w_build_icmp_err(struct world *w, uint8_t *f, size_t cap, const struct w_flow *fl, uint8_t type,
			uint8_t code, uint32_t info);
size_t w_build_arp(const struct world *w, uint8_t *f, uint16_t op, const uint8_t *sha, uint32_t sip,
		   const uint8_t *tha, uint32_t tip, bool bcast);
/* Recompute the IPv4 header checksum (ip) and the TCP/UDP/ICMP checksum
 * (l4) of an Ethernet frame in place, as far as its bytes allow: the
 * fuzz targets' way of letting mutated headers past the checksum checks. */
void w_fix_checksums(uint8_t *frame, size_t len, bool ip, bool l4);
/* The peer sent s on fl: update its model (peer_nxt, peer_ack). */
void w_flow_note_peer(struct w_flow *fl, const struct w_seg *s);
/* Send a segment on its flow (updating the peer's model); pumps. */
void w_send_seg(struct world *w, struct w_flow *fl, const struct w_seg *s);

/* Flows. */
struct w_flow *w_flow_find(struct world *w, uint32_t raddr, uint16_t lport, uint16_t rport);
/* Find or create; NULL when the table is full. */
struct w_flow *w_flow_get(struct world *w, uint32_t raddr, uint16_t lport, uint16_t rport);
/* The seq the stack expects from the peer: its last ACK, else peer_nxt. */
uint32_t w_flow_rcv_nxt(const struct w_flow *fl);
uint32_t w_flow_peer_tsval(const struct world *w, const struct w_flow *fl);
/* Standard peer option blocks; return the length written (at most 40). */
size_t w_opts_syn(uint8_t *o, uint32_t tsval, uint32_t tsecr); /* MSS 1460, SACKOK, TS, NOP, WS 7 */
size_t w_opts_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr);  /* NOP, NOP, TS */

/* Descriptor slots. */
int w_fd_add(struct world *w, int fd);   /* the slot, or -1 when full */

/* Deterministic setups, shared with the seed generator. Each returns false
 * (and leaves the world usable) if the stack did not do what was expected. */
struct w_setup {
	int listener;               /* fd listening on W_LISTEN_PORT */
	int conn;                   /* accepted child of flow A, ESTABLISHED, 3 segments unacked */
	int connecting;             /* fd in SYN_SENT to W_PEER:W_REMOTE_PORT */
	struct w_flow *a;           /* W_PEER_PORT: established, data both ways */
	struct w_flow *b;           /* W_PEER_PORT+1: SYN sent, request sock (SYN_RECV) */
	struct w_flow *c;           /* the SYN_SENT connection */
	struct w_flow *tw;          /* W_PEER_PORT+2: closed by the stack first, TIME-WAIT */
};
bool w_setup_frame_world(struct world *w, struct w_setup *s);

/* Abort with a message (a finding). */
void w_fail(struct world *w, const char *what, const uint8_t *frame, size_t len) __attribute__((noreturn));

#endif
