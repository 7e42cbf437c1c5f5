/*
 * Scenario harness: one stack ("synack", 192.0.2.1/24) on one end of a sim
 * wire (zero delay, no faults) and a scripted peer (192.0.2.2) on the other.
 * Time is virtual and starts at SC_T0 (1,000,000 s) so timestamps are not
 * trivially small.
 *
 * The test plays the peer: sc_inject() builds an exact Ethernet+IPv4+TCP
 * frame (checksums right unless told otherwise), puts it on the wire and
 * runs the stack at the current time. Everything the stack sends is parsed
 * strictly (IP and TCP checksums verified) and queued with its send time;
 * ARP requests for the peer are answered at once and never queued, so a
 * test sees only IP. sc_expect() pops the next queued segment and compares
 * the fields the test set; sc_advance()/sc_run_until() move time and run
 * every timer that falls due, one deadline at a time, so each captured
 * segment carries its exact send time.
 *
 * No globals: all state lives in struct sc. The harness functions return
 * bool/pointers and print a readable diff; the EXPECT* macros below turn
 * those into tests/test.h failures in the calling test file.
 */
#ifndef SYNACK_TESTS_SCENARIO_HARNESS_H
#define SYNACK_TESTS_SCENARIO_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>   /* TCP_MAXSEG, TCP_SYNCNT, ... and TCP_ESTABLISHED ... TCP_CLOSING */
#include <sys/socket.h>
#include <poll.h>
#include "synack/synack.h"

#define SC_NS_PER_MS 1000000ULL
#define MS(x) ((uint64_t)(x) * SC_NS_PER_MS)
#define SEC(x) ((uint64_t)(x) * 1000ULL * SC_NS_PER_MS)
#define SC_T0 SEC(1000000)

#define SC_NEW_SYN_RECV 12

/* TCP flags (the wire's byte 13). */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_ECE 0x40
#define F_CWR 0x80

/* Addresses (dotted strings; sc_addr() converts). */
#define SC_LOCAL "192.0.2.1"
#define SC_PEER "192.0.2.2"

/* An optional expected value: leave it zeroed to skip the comparison. */
struct sc_u32 {
	bool set;
	uint32_t v;
};
struct sc_u64 {
	bool set;
	uint64_t v;
};
#define V(x) { true, (uint32_t)(x) }
#define V64(x) { true, (uint64_t)(x) }

/* Raw option bytes, for both segments we inject and segments we expect:
 *   .opt = OPT(2, 4, 0x05, 0xb4, 1, 1, 4, 2) */
#define SC_MAXOPT 60
#define OPT(...) .has_opt = true, .opt = { __VA_ARGS__ }, .optlen = sizeof((uint8_t[]){ __VA_ARGS__ })
#define NO_OPT .has_opt = true, .optlen = 0

/* Option byte helpers for OPT(...). */
#define O_MSS(m) 2, 4, (uint8_t)((m) >> 8), (uint8_t)(m)
#define O_WS(s) 3, 3, (uint8_t)(s)
#define O_SACKOK 4, 2
#define O_NOP 1
#define O_TS(val, ecr) 8, 10, (uint8_t)((uint32_t)(val) >> 24), (uint8_t)((uint32_t)(val) >> 16), \
	(uint8_t)((uint32_t)(val) >> 8), (uint8_t)(val), (uint8_t)((uint32_t)(ecr) >> 24), \
	(uint8_t)((uint32_t)(ecr) >> 16), (uint8_t)((uint32_t)(ecr) >> 8), (uint8_t)(ecr)

/* A segment for the peer to send. Ports default to the connection's when
 * built with sc_seg_for(); the IP header defaults to TTL 64, DF, tos 0. */
struct sc_seg {
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win;
	uint16_t urg;
	bool has_opt;
	uint8_t opt[SC_MAXOPT];
	size_t optlen;              /* padded with EOL to a multiple of 4 */
	const void *data;
	size_t len;
	/* Overrides. */
	bool bad_csum;              /* flip the TCP checksum */
	bool bad_ip_csum;
	struct sc_u32 doff;         /* raw data offset (words) instead of the real one */
	size_t truncate;            /* cut this many bytes off the frame's end (IP length kept) */
	struct sc_u32 saddr, daddr; /* network order; default peer -> stack */
	uint8_t ttl;                /* 0: 64 */
	uint8_t tos;
	bool no_df;
	struct sc_u32 ip_id;        /* default: a running counter */
};

/* A segment the stack sent, as parsed. */
struct sc_pkt {
	uint64_t t;                 /* send time (ns, virtual) */
	uint8_t frame[1600];
	size_t frame_len;
	/* IP */
	uint32_t saddr, daddr;      /* network order */
	uint8_t ttl, tos, protocol;
	uint16_t ip_id;
	bool df;
	/* TCP (valid when protocol == 6) */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags, doff;
	uint16_t win, urg;
	uint8_t opt[40];
	size_t optlen;
	const uint8_t *data;        /* into frame */
	size_t len;
	/* Options as Linux would read them (-1 / false when absent). */
	int mss, ws;
	bool sackok, ts;
	uint32_t tsval, tsecr;
};

/* What sc_expect() compares. flags are always compared exactly. */
struct sc_want {
	uint8_t flags;
	struct sc_u32 seq, ack, win, len;
	struct sc_u32 sport, dport;
	/* Option bytes exactly; but when the bytes hold a TS option and tsval
	 * is not set, the 4 TSval bytes are not compared. */
	bool has_opt;
	uint8_t opt[SC_MAXOPT];
	size_t optlen;
	struct sc_u32 tsval, tsecr;
	struct sc_u32 ttl, df, ip_id, tos;
	struct sc_u64 t;            /* absolute send time (ns) */
	const void *data;           /* with len: compare the payload bytes */
};

struct sc_trace_rec {
	uint64_t ts;
	int kind;
	char name[48];
	char text[256];
};

struct sc_opts {
	uint64_t seed;              /* 0: 1 */
	uint32_t mtu;               /* 0: 1500 */
	bool verbose;               /* print every frame and trace event */
	bool gro;                   /* software GRO on the stack's link (SYNACK_LINK_F_GRO) */
};

#define SC_MAXPKTS 512

struct sc {
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct synack_link *peer;   /* wire end 1 */
	struct stack *st;
	uint32_t local, remote;     /* network order */
	uint8_t local_mac[6], peer_mac[6];
	uint16_t next_ip_id;
	bool verbose;
	int errors;                 /* harness-detected failures (bad checksums...) */
	/* Captured IP packets, FIFO. */
	struct sc_pkt *pkts;
	size_t npkts, head;
	struct sc_pkt last;         /* the one sc_expect returned */
	/* Trace events. */
	struct sc_trace_rec *trace;
	size_t ntrace, trace_cap;
	uint64_t arp_replies;
	bool burst;                 /* sc_inject queues without running the stack: frames arrive in one poll */
};

/* ---- lifetime ---- */
struct sc *sc_new(const struct sc_opts *o);
/* Frees everything; returns the number of harness errors seen. */
int sc_free(struct sc *sc);
int sc_sysctl(struct sc *sc, const char *name, long val);

/* ---- time ---- */
uint64_t sc_now(const struct sc *sc);
void sc_advance(struct sc *sc, uint64_t ns);
void sc_run_until(struct sc *sc, uint64_t abs_ns);
/* Run what is due now (after socket calls that send). */
void sc_run(struct sc *sc);

/* ---- peer ---- */
void sc_inject(struct sc *sc, const struct sc_seg *seg);
/* A raw frame (Ethernet header included). */
void sc_inject_frame(struct sc *sc, const void *frame, size_t len);
/* An ICMP error from the peer quoting a segment the stack sent. */
void sc_inject_icmp(struct sc *sc, uint8_t type, uint8_t code, const struct sc_pkt *quoted);

/* ---- what the stack sent ---- */
/* Pops the next IP packet; NULL (and a message) when there is none or it
 * differs from want. The returned packet stays valid until the next pop. */
const struct sc_pkt *sc_expect_(struct sc *sc, const struct sc_want *want, const char *file, int line);
/* Pops the next packet without comparing (NULL when none). */
const struct sc_pkt *sc_pop(struct sc *sc);
/* True when nothing is queued; prints what is otherwise. Does not pop. */
bool sc_none_(struct sc *sc, const char *file, int line);
size_t sc_pending(const struct sc *sc);
void sc_drain(struct sc *sc);
void sc_pkt_format(const struct sc_pkt *p, char *buf, size_t cap);

/* ---- counters, states, traces ---- */
uint64_t sc_mib(const struct sc *sc, const char *name);
int sc_state(struct sc *sc, int fd);
/* Number of recorded events with this name whose text contains substr
 * (NULL: any). */
size_t sc_trace_count(const struct sc *sc, const char *name, const char *substr);
void sc_trace_clear(struct sc *sc);
void sc_trace_dump(const struct sc *sc);

/* ---- sockets ---- */
struct sockaddr_in sc_sin(const char *addr, uint16_t port);
int sc_socket(struct sc *sc);
/* socket + connect to the peer's rport; returns the fd (connect's result in *err). */
int sc_connect(struct sc *sc, uint16_t rport, int *err);
/* socket + bind(port) + listen(backlog); returns the fd or a negative errno. */
int sc_listen(struct sc *sc, uint16_t port, int backlog);
int sc_setsockopt_int(struct sc *sc, int fd, int level, int name, int val);
int sc_so_error(struct sc *sc, int fd);
uint32_t sc_addr(const char *dotted);

/* ---- checks in the test's translation unit ---- */
#define EXPECT(sc, ...)                                                         \
	({                                                                      \
		const struct sc_pkt *_p =                                       \
			sc_expect_((sc), &(struct sc_want){ __VA_ARGS__ }, __FILE__, __LINE__); \
		if (!_p)                                                        \
			test_failed_checks++;                                   \
		_p;                                                             \
	})
#define EXPECT_NONE(sc)                                                         \
	do {                                                                    \
		if (!sc_none_((sc), __FILE__, __LINE__))                        \
			test_failed_checks++;                                   \
	} while (0)
#define SC_FREE(sc) CHECK_EQ(sc_free(sc), 0)
#define CHECK_MIB(sc, name, val) CHECK_EQ(sc_mib((sc), (name)), (val))
#define CHECK_STATE(sc, fd, s) CHECK_EQ(sc_state((sc), (fd)), (s))
#define CHECK_TRACE(sc, name, substr) CHECK(sc_trace_count((sc), (name), (substr)) > 0)

/* ---- connection helpers (the common openings, so scenarios start where
 * they are interesting) ---- */
#define SC_PEER_ISN 0x40000000u     /* the peer's ISN */
#define SC_PEER_TS 0x01000000u      /* the peer's first TSval */
#define SC_PEER_PORT 50000          /* the peer's port in passive opens */
#define SC_SERVER_PORT 8080         /* our listener's port */
#define SC_REMOTE_PORT 80           /* the peer's port in active opens */
#define SC_PEER_WS 7
#define SC_PEER_WIN 29200           /* raw window the peer advertises */

struct sc_conn {
	int fd;                     /* our socket (the child, once accepted) */
	int listener;               /* passive opens: the listener, else -1 */
	uint16_t lport, rport;      /* our port, the peer's port */
	uint32_t iss;               /* our ISN */
	uint32_t irs;               /* the peer's ISN */
	uint32_t tsval;             /* our last TSval */
	uint32_t peer_ts;           /* the peer's next TSval */
	uint64_t syn_t;             /* when our SYN / SYN-ACK went out */
	struct sc_pkt syn;          /* our SYN or SYN-ACK */
};

/* A segment from the peer on this connection (ports, ack flag unset). */
struct sc_seg sc_seg_for(const struct sc_conn *c, uint8_t flags, uint32_t seq, uint32_t ack);
/* Append a TS option (NOP,NOP,TS) to a segment. */
void sc_seg_ts(struct sc_seg *s, uint32_t val, uint32_t ecr);
/* Active open: socket, connect to rport, expect the SYN (defaults). */
bool sc_open_active_(struct sc *sc, struct sc_conn *c, uint16_t rport, const char *file, int line);
/* ... then the SYN-ACK (mss 1460, sackOK, TS, nop, wscale 7) and our ACK. */
bool sc_establish_active_(struct sc *sc, struct sc_conn *c, const char *file, int line);
/* Passive open: listener on lport (backlog), the peer's SYN (mss 1460,
 * sackOK, TS, nop, wscale 7), expect our SYN-ACK. */
bool sc_open_passive_(struct sc *sc, struct sc_conn *c, uint16_t lport, int backlog, const char *file, int line);
/* ... then the third ACK and accept(). */
bool sc_establish_passive_(struct sc *sc, struct sc_conn *c, const char *file, int line);
#define SC_CHK_(x)                                                              \
	({                                                                      \
		bool _ok = (x);                                                 \
		if (!_ok)                                                       \
			test_failed_checks++;                                   \
		_ok;                                                            \
	})
#define OPEN_ACTIVE(sc, c, rport) SC_CHK_(sc_open_active_((sc), (c), (rport), __FILE__, __LINE__))
#define ESTABLISH_ACTIVE(sc, c) SC_CHK_(sc_establish_active_((sc), (c), __FILE__, __LINE__))
#define OPEN_PASSIVE(sc, c, port, backlog) SC_CHK_(sc_open_passive_((sc), (c), (port), (backlog), __FILE__, __LINE__))
#define ESTABLISH_PASSIVE(sc, c) SC_CHK_(sc_establish_passive_((sc), (c), __FILE__, __LINE__))


/* A chosen active handshake: the SYN-ACK arrives rtt after our SYN (so the
 * stack takes an RTT sample), with or without sackOK; our ACK is expected
 * with raw window ack_win (0: 63, the default buffer's). */
struct sc_synack_opts {
	uint64_t rtt;
	bool no_sack;
	uint16_t ack_win;
};
bool sc_establish_active_ex_(struct sc *sc, struct sc_conn *c, const struct sc_synack_opts *o, const char *file,
			     int line);
#define ESTABLISH_ACTIVE_EX(sc, c, ...)                                                             \
	SC_CHK_(sc_establish_active_ex_((sc), (c), &(struct sc_synack_opts){ __VA_ARGS__ }, __FILE__, __LINE__))

#endif
