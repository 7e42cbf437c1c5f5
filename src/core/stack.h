/*
 * struct stack: all of one stack's state. Nothing in synack is global; two
 * stacks in one process share nothing (the sim wire joins them for tests).
 */
#ifndef SYNACK_CORE_STACK_H
#define SYNACK_CORE_STACK_H

#include <stdbool.h>
#include <stdint.h>
#include "synack/synack.h"
#include "core/clock.h"
#include "core/mib.h"
#include "core/siphash.h"
#include "core/skb.h"
#include "core/sysctl.h"
#include "core/timer.h"
#include "net/arp.h"
#include "net/gro.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "tcp/tcp.h"

/* The one interface (Linux: net_device + in_device). */
struct netif {
	struct synack_link *link;   /* not owned */
	bool up;
	uint8_t mac[6];
	uint32_t mtu;
	uint32_t addr;              /* network byte order */
	uint32_t mask;
	uint32_t gateway;           /* 0: none */
	uint8_t prefix_len;
	uint32_t rx_cap;            /* receive buffer size: link_max_frame */
	bool tx_csum;               /* the link finishes TCP checksums (SYNACK_LINK_F_TX_CSUM) */
	bool tso;                   /* the link segments super-frames (SYNACK_LINK_F_TSO) */
	bool tso_sg;                /* ... and takes them in pieces (send_gso_iov) */
	bool sg;                    /* the link takes plain frames in pieces (send_iov) */
	unsigned int xmit_batch;    /* open dev_xmit_batch_begin calls */
	bool gro;                   /* merge received TCP segments (SYNACK_LINK_F_GRO) */
	uint8_t gro_count;
	uint8_t gro_run;            /* frames merged in a row into flow gro_run_flow */
	uint8_t gro_run_flow;
	struct gro_flow gro_held[GRO_MAX_HELD]; /* oldest first */
};

struct stack {
	char name[32];
	struct synack_clock *clock;
	struct timer_wheel timers;
	struct skb_pool skb_pool;
	struct prng rng;
	struct stack_secrets secrets;
	struct sysctls sysctl;
	uint64_t mib[MIB_MAX];

	synack_trace_fn trace_fn;
	void *trace_ctx;

	struct netif dev;
	struct neigh_table arp;
	struct ipfrag_state frags;
	struct ip_ident ident;
	struct icmp_state icmp;
	ip_proto_handler ipprot[256];
	ip_err_handler ipprot_err[256];
	struct tcp_state_all tcp;

	synack_echo_fn echo_fn;
	void *echo_ctx;

	/* The event-loop descriptor (stack_events.c). */
	struct {
		bool on;
		int epfd;               /* the public descriptor: corefd + rfd */
		int corefd;             /* the link and the timer */
		int tfd;                /* -1 on a virtual clock */
		int rfd;                /* eventfd: an epoll ready list is not empty */
		bool ready;             /* rfd is signalled */
		uint64_t armed;         /* the deadline tfd is set for */
	} ev;
	struct synack_thread *thr;  /* blocking mode (sock/blocking.c), or NULL */
	/* The clock read once for a frame or a call (stack_time_hold). */
	bool time_held;
	uint64_t held_now;
};

uint64_t clock_now(const struct synack_clock *clk);
/* The stack's time in ns. */
static inline uint64_t stack_now(const struct stack *st)
{
	return st->time_held ? st->held_now : clock_now(st->clock);
}

/* Read the clock once for a frame, a timer run or a socket call, as Linux
 * reads it once per packet (tcp_mstamp_refresh) rather than at each use: a
 * real clock is a system-clock read, a dozen per segment otherwise. Returns
 * what stack_time_release restores, so holds nest. */
static inline bool stack_time_hold(struct stack *st)
{
	bool was = st->time_held;

	if (!was) {
		st->held_now = clock_now(st->clock);
		st->time_held = true;
	}
	return was;
}

static inline void stack_time_release(struct stack *st, bool was) { st->time_held = was; }
/* The stack's time in jiffies (ms), as Linux's tcp_jiffies32/tcp_time_stamp. */
static inline uint32_t stack_jiffies(const struct stack *st) { return (uint32_t)(stack_now(st) / 1000000ULL); }
static inline bool trace_enabled(const struct stack *st) { return st->trace_fn != NULL; }

/* The event-loop descriptor: re-arm its timer at the next deadline. */
void stack_events_rearm(struct stack *st);
void stack_events_link_up(struct stack *st);
void stack_events_destroy(struct stack *st);
void stack_events_set_ready(struct stack *st, bool ready);
/* The link-and-timer set alone (what a thread polling the stack sleeps on). */
int stack_events_core_fd(struct stack *st);
/* A timer was set for expires_ns: re-arm if it is earlier than planned. */
static inline void stack_events_timer_set(struct stack *st, uint64_t expires_ns)
{
	if (st->ev.on && expires_ns < st->ev.armed)
		stack_events_rearm(st);
}

/* Hand a frame to the link (traces it and counts it). Does not consume. */
int dev_queue_xmit(struct stack *st, const uint8_t *frame, size_t len);
/* A frame in iovcnt pieces for a scatter-gather device (dev.sg); not traced. */
struct iovec;
int dev_queue_xmit_iov(struct stack *st, const struct iovec *iov, int iovcnt, size_t len);
/* A TCP super-frame for the device to segment at gso_size (dev.tso). */
int dev_queue_xmit_gso(struct stack *st, struct sk_buff *skb);
/* A transmit burst (Linux's xmit_more): frames sent until the matching
 * end may be held by the link to be merged (TSO on a TAP), and end flushes
 * them. Bursts nest; none may stay open across a return to the application. */
static inline void dev_xmit_batch_begin(struct stack *st) { st->dev.xmit_batch++; }
void dev_xmit_batch_end(struct stack *st);

#endif
