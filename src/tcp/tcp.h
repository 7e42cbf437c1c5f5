/*
 * TCP: the three kinds of object Linux keeps (full socket, request sock,
 * and - with teardown - the TIME-WAIT minisock), the hash tables that find
 * them, and the functions of tcp_ipv4.c, tcp_input.c, tcp_output.c,
 * tcp_minisocks.c and tcp_timer.c. Names follow Linux where the role is the
 * same; struct sock folds Linux's sock/inet_sock/inet_connection_sock/
 * tcp_sock into one object because synack has only TCP.
 *
 * Conventions: addresses in network byte order, ports in host order,
 * sequence numbers in host order. Time: ns from stack_now(); TCP's own
 * millisecond clock (TSval, jiffies) is stack_jiffies(st).
 */
#ifndef SYNACK_TCP_TCP_H
#define SYNACK_TCP_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include "core/list.h"
#include "core/skb.h"
#include "core/timer.h"

struct stack;

enum tcp_state {
	TCP_ESTABLISHED = 1,
	TCP_SYN_SENT,
	TCP_SYN_RECV,
	TCP_FIN_WAIT1,
	TCP_FIN_WAIT2,
	TCP_TIME_WAIT,
	TCP_CLOSE,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_LISTEN,
	TCP_CLOSING,
	TCP_NEW_SYN_RECV,
	TCP_MAX_STATES
};

const char *tcp_state_name(int state); /* "SYN_SENT" ... as ss and the tracepoint print them */

/* Sequence-space comparisons (RFC 793 modular arithmetic). */
static inline bool before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
#define after(a, b) before(b, a)
static inline bool between(uint32_t seq, uint32_t lo, uint32_t hi) { return hi - lo >= seq - lo; }

/* Linux's constants (include/net/tcp.h). */
#define TCP_MSS_DEFAULT 536
#define TCP_MAX_WSCALE 14
#define TCP_TIMEOUT_INIT_MS 1000
#define TCP_RTO_MIN_MS 200
#define TCP_RTO_MAX_MS 120000
#define TCP_DELACK_MAX_MS 200
#define TCP_DELACK_MIN_MS 40
#define TCP_ATO_MIN_MS 40
#define TCP_INIT_CWND 10
#define TCP_SYNQ_INTERVAL_MS 200
#define TCP_TIMEWAIT_LEN_MS 60000
#define MAX_TCP_OPTION_SPACE 40
#define TCPOLEN_TSTAMP_ALIGNED 12
#define TCP_MIN_MSS 88

/* Option kinds and lengths. */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8
#define TCPOPT_MD5SIG 19
#define TCPOPT_FASTOPEN 34
#define TCPOPT_EXP 254
#define TCPOPT_FASTOPEN_MAGIC 0xF989
#define TCPOLEN_MSS 4
#define TCPOLEN_WINDOW 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10

/* What a segment's options said (Linux: tcp_options_received). */
struct tcp_options_received {
	uint32_t ts_recent;         /* the peer's TSval to echo */
	uint64_t ts_recent_stamp;   /* ns: when ts_recent was taken */
	uint32_t rcv_tsval, rcv_tsecr;
	bool saw_tstamp;            /* this segment had TS */
	bool tstamp_ok, wscale_ok, sack_ok; /* negotiated (or: offered, in a SYN) */
	uint8_t snd_wscale;         /* the peer's shift */
	uint8_t rcv_wscale;         /* ours */
	uint16_t user_mss;          /* TCP_MAXSEG */
	uint16_t mss_clamp;         /* the peer's MSS (or 536) */
	/* Fast Open (issue 5 fills this in): cookie option seen, its bytes. */
	bool saw_fastopen;
	uint8_t fastopen_len;
	uint8_t fastopen_cookie[16];
};

/* The part every hashed object starts with (Linux: sock_common). */
struct sock_common {
	struct hlist_node node;     /* ehash chain (lhash chain for listeners) */
	uint32_t laddr, raddr;      /* network order */
	uint16_t lport, rport;      /* host order */
	uint8_t state;              /* enum tcp_state */
};

struct sock;

/* A pending passive open (Linux: tcp_request_sock), in ehash as NEW_SYN_RECV. */
struct request_sock {
	struct sock_common c;
	struct stack *st;
	struct sock *listener;
	struct list_head listener_node; /* on listener->syn_queue */
	struct timer rsk_timer;
	uint32_t rcv_isn, snt_isn;
	uint32_t rcv_nxt;
	uint32_t ts_recent, ts_off;
	uint32_t snt_tsval_first, snt_tsval_last;
	uint32_t rsk_rcv_wnd, rsk_window_clamp;
	uint16_t mss;               /* the peer's MSS (mss_clamp of the SYN) */
	uint16_t mss_adv;           /* the MSS our SYN-ACK advertises */
	uint8_t snd_wscale, rcv_wscale;
	bool tstamp_ok, sack_ok, wscale_ok, ecn_ok;
	bool acked;                 /* TCP_DEFER_ACCEPT / overflow: the ACK came */
	bool syncookie;
	uint8_t num_retrans, num_timeout;
	uint64_t timeout_ms;        /* base SYN-ACK timeout (1 s) */
	uint64_t last_oow_ack_time; /* ns */
	uint8_t tos;
};

/* A full TCP socket. */
struct sock {
	struct sock_common c;
	struct stack *st;
	uint8_t sock_state;         /* SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED (Linux: socket->state) */
	int fd;                     /* index in the stack's descriptor table, -1 if none (unaccepted child) */
	int sk_err;                 /* reported once by connect/SO_ERROR */
	int sk_err_soft;
	bool reuseaddr;
	bool bound;                 /* explicit bind() (Linux: SOCK_BINDPORT_LOCK) */
	bool addr_bound;            /* bind() to a specific address */
	bool in_bhash;
	bool orphan;                /* closed by the user; no descriptor */
	struct hlist_node bind_node; /* in the bind hash by lport */
	uint32_t sk_rcvbuf, sk_sndbuf;
	bool rcvbuf_locked;         /* SO_RCVBUF set */

	/* Listener (Linux: request_sock_queue). */
	int max_ack_backlog, ack_backlog;
	uint32_t qlen, young;       /* SYN queue */
	struct list_head syn_queue;     /* request socks */
	struct list_head accept_queue;  /* children ready for accept */
	struct list_head accept_node;   /* child: on the listener's accept_queue */
	struct sock *parent;            /* child: its listener, until accepted */
	uint8_t rskq_defer_accept;      /* in SYN-ACK retransmissions */
	uint64_t synq_overflow_ms;      /* last SYN queue overflow (cookies) */

	/* Connection socket (Linux: inet_connection_sock). */
	struct timer retransmit_timer;
	struct timer delack_timer;
	uint8_t icsk_pending;           /* ICSK_TIME_* */
	uint32_t icsk_rto;              /* ms */
	uint8_t icsk_retransmits;
	uint8_t icsk_backoff;
	uint8_t icsk_syn_retries;       /* TCP_SYNCNT; 0 = the sysctl */
	uint32_t icsk_user_timeout;     /* ms */
	struct {
		bool pending;           /* an ACK is owed */
		bool scheduled;         /* the delayed-ACK timer runs */
		uint8_t quick;          /* quick ACKs left */
		bool pingpong;
		uint32_t ato;           /* ms */
	} icsk_ack;

	/* TCP (Linux: tcp_sock). */
	uint32_t rcv_nxt, rcv_wup, copied_seq;
	uint32_t snd_una, snd_nxt, write_seq, snd_wl1;
	uint32_t snd_wnd, rcv_wnd, window_clamp, rcv_ssthresh, max_window;
	uint16_t advmss, mss_cache, tcp_header_len;
	uint32_t tsoffset;
	struct tcp_options_received rx_opt;
	uint64_t retrans_stamp;         /* ms (stack_jiffies) of the first (re)transmission, 0 if none */
	uint32_t total_retrans, total_rto;
	uint64_t bytes_acked;
	bool dsack;                     /* a D-SACK block is owed (RFC 2883) */
	uint32_t dsack_start, dsack_end;
	uint32_t snd_cwnd;
	uint32_t inet_id;
	bool nodelay, quickack_off;     /* TCP_QUICKACK=0 sets pingpong */
	uint64_t last_oow_ack_time;     /* ns */
	uint8_t tos;
	struct sk_buff_head rtx_queue;      /* sent, unacknowledged (the SYN) */
	struct sk_buff_head receive_queue;  /* in-order data for the user */
};

#define ICSK_TIME_RETRANS 1
#define ICSK_TIME_DACK 2

/* The skb's control block while TCP owns it (Linux: tcp_skb_cb). */
struct tcp_skb_cb {
	uint32_t seq, end_seq;      /* end_seq = seq + SYN + FIN + data length */
	uint32_t ack_seq;
	uint8_t tcp_flags;
	uint64_t when_ms;           /* sent at (ms) */
};
#define TCP_SKB_CB(skb) ((struct tcp_skb_cb *)(skb)->cb)

/* The lookup tables (Linux: inet_hashinfo), per stack. */
#define TCP_EHASH_BITS 14
#define TCP_LHASH_BITS 8
#define TCP_BHASH_BITS 12
struct tcp_hashinfo {
	struct hlist_head ehash[1u << TCP_EHASH_BITS];  /* established, request socks */
	struct hlist_head lhash[1u << TCP_LHASH_BITS];  /* listeners by port */
	struct hlist_head bhash[1u << TCP_BHASH_BITS];  /* bound sockets by port */
	uint32_t ehash_count;
	uint32_t table_perturb[256];    /* ephemeral port choice (Linux: table_perturb) */
};

/* The socket descriptor table and the TCP state of one stack. */
struct tcp_state_all {
	struct tcp_hashinfo hinfo;
	struct sock **fds;
	int nfds;                       /* capacity */
	struct list_head orphans;       /* closed sockets still doing protocol work */
	uint64_t last_synack_rl;        /* ns, rate limiting of reqsk ACKs */
};

/* ---- tcp_ipv4.c ---- */
void tcp_v4_init(struct stack *st);
void tcp_v4_destroy(struct stack *st);
void tcp_v4_rcv(struct stack *st, struct sk_buff *skb);
int tcp_v4_connect(struct sock *sk, uint32_t daddr, uint16_t dport);
/* RST for a segment that found no socket, or that a socket refuses. */
void tcp_v4_send_reset(struct stack *st, const struct sk_buff *skb, const char *reason);
/* A bare ACK built from the incoming segment (request socks, TIME-WAIT). */
void tcp_v4_send_ack(struct stack *st, const struct sk_buff *skb, uint32_t seq, uint32_t ack, uint32_t win,
		     uint32_t tsval, uint32_t tsecr, bool ts, uint8_t tos);
void tcp_v4_reqsk_send_ack(struct request_sock *req, const struct sk_buff *skb);
/* Hash tables. */
void inet_ehash_insert(struct stack *st, struct sock_common *c);
void inet_ehash_remove(struct stack *st, struct sock_common *c);
struct sock_common *inet_lookup_established(struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
					    uint16_t dport);
struct sock *inet_lookup_listener(struct stack *st, uint32_t daddr, uint16_t dport);
void inet_listen_hash(struct sock *sk);
void inet_listen_unhash(struct sock *sk);
int inet_csk_get_port(struct sock *sk, uint16_t port); /* bind; 0 = pick one */
void inet_put_port(struct sock *sk);
int inet_hash_connect(struct sock *sk);                 /* ephemeral port + ehash */
void inet_unhash(struct sock *sk);
/* The child of a passive open shares its listener's port (bind bucket). */
int __inet_inherit_port(const struct sock *listener, struct sock *child);
void inet_hashinfo_destroy(struct stack *st);

/* ---- secure_seq.c ---- */
uint32_t secure_tcp_seq(struct stack *st, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport);
uint32_t secure_tcp_ts_off(struct stack *st, uint32_t saddr, uint32_t daddr);
uint64_t secure_ipv4_port_ephemeral(struct stack *st, uint32_t saddr, uint32_t daddr, uint16_t dport);

/* ---- tcp_input.c ---- */
/* Parse options within [opt, opt+len) as Linux's tcp_parse_options: never
 * reads past it; unknown kinds are skipped; a malformed option (length < 2
 * or past the end) ends parsing silently. MSS, WS and SACK_PERM count only
 * when syn && !estab; WS/SACK/TS only when the sysctl allows; in estab, TS
 * only when rx->tstamp_ok. Sets rx->saw_tstamp (cleared first). */
void tcp_parse_options(const struct stack *st, const uint8_t *opt, int len, bool syn, bool estab,
		       struct tcp_options_received *rx);
int tcp_rcv_state_process(struct sock *sk, struct sk_buff *skb);
void tcp_conn_request(struct sock *listener, struct sk_buff *skb);
void tcp_set_state(struct sock *sk, int state);
void tcp_done(struct sock *sk);
void tcp_reset(struct sock *sk);
void tcp_finish_connect(struct sock *sk);

/* ---- tcp_output.c ---- */
/* The initial receive window and scale (Linux: tcp_select_initial_window). */
void tcp_select_initial_window(const struct stack *st, int space, uint32_t mss, uint32_t *rcv_wnd,
			       uint32_t *window_clamp, bool wscale_ok, uint8_t *rcv_wscale, uint32_t init_rcv_wnd);
/* The window a receive buffer allows (Linux: tcp_full_space with the default scaling_ratio 128/256). */
int tcp_full_space(uint32_t rcvbuf);
/* Option layouts (Linux: tcp_syn_options / tcp_synack_options / tcp_options_write). */
struct tcp_out_options {
	bool mss, ts, sack_perm, ws;
	uint16_t mss_val;
	uint8_t ws_val;
	uint32_t tsval, tsecr;
	uint8_t num_sack_blocks;    /* SACK/D-SACK blocks (at most 4; 3 with TS) */
	uint32_t sack_blocks[4][2];
};
int tcp_options_size(const struct tcp_out_options *o);
/* Writes the options (a multiple of 4 bytes) and returns their size. */
int tcp_options_write(uint8_t *p, const struct tcp_out_options *o);
int tcp_connect(struct sock *sk);
int tcp_send_synack(struct sock *sk);       /* simultaneous open */
int tcp_v4_send_synack(struct request_sock *req);
void tcp_send_ack(struct sock *sk);
void tcp_send_delayed_ack(struct sock *sk);
void tcp_send_active_reset(struct sock *sk);
void tcp_send_challenge_ack(struct sock *sk);
/* Build and send one segment from sk with the given flags. */
int tcp_transmit_skb(struct sock *sk, struct sk_buff *skb, uint8_t flags, uint32_t seq);
uint16_t tcp_current_mss(struct sock *sk);
uint16_t tcp_mss_clamp(const struct sock *sk, uint16_t mss);
void tcp_sync_mss(struct sock *sk, uint32_t pmtu);
void tcp_enter_quickack_mode(struct sock *sk, unsigned int max_quickacks);
int tcp_retransmit_skb(struct sock *sk);
void tcp_init_buffer_space(struct sock *sk);
uint32_t tcp_select_window(struct sock *sk);

/* ---- ICMP errors (tcp_v4_err) ---- */
void tcp_v4_err(struct stack *st, const uint8_t *quoted, size_t len, uint8_t type, uint8_t code, uint32_t info);

/* ---- tcp_minisocks.c ---- */
struct sock *tcp_check_req(struct request_sock *req, struct sk_buff *skb);
struct sock *tcp_create_openreq_child(struct request_sock *req, const struct sk_buff *skb);
void reqsk_free(struct request_sock *req);
void inet_csk_reqsk_queue_drop(struct request_sock *req);
void reqsk_timer_handler(struct stack *st, struct timer *t);

/* ---- tcp_timer.c ---- */
void tcp_init_xmit_timers(struct sock *sk);
void tcp_clear_xmit_timers(struct sock *sk);
void inet_csk_reset_xmit_timer(struct sock *sk, int what, uint32_t when_ms);
void tcp_retransmit_timer(struct stack *st, struct timer *t);
void tcp_delack_timer(struct stack *st, struct timer *t);

#define SS_UNCONNECTED 1
#define SS_CONNECTING 2
#define SS_CONNECTED 3

/* ---- tcp.c (socket-facing TCP: close, options) ---- */
/* close() on a TCP socket: stops a listener, aborts a connect, and (until
 * orderly release lands with teardown) resets a connection. */
void tcp_close(struct sock *sk);
/* Drop a listener's requests and unaccepted children (Linux: inet_csk_listen_stop). */
void inet_csk_listen_stop(struct sock *sk, bool reset_children);

/* ---- sock/socket.c ---- */
struct sock *sk_alloc(struct stack *st);
void sk_free(struct sock *sk);
/* Called when the listener has a new child or a socket changes readiness. */
void sk_state_change(struct sock *sk);

#endif
