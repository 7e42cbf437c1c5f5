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
#include <sys/time.h>
#include "core/list.h"
#include "core/slab.h"
#include "core/skb.h"
#include "core/siphash.h"
#include "core/timer.h"

struct iovec;
struct sockaddr_in;

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
	uint32_t ts_recent_stamp;   /* s: when ts_recent was taken (Linux: u32 seconds too) */
	uint32_t rcv_tsval, rcv_tsecr;
	uint16_t user_mss;          /* TCP_MAXSEG */
	uint16_t mss_clamp;         /* the peer's MSS (or 536) */
	bool saw_tstamp;            /* this segment had TS */
	bool tstamp_ok, wscale_ok, sack_ok; /* negotiated (or: offered, in a SYN) */
	uint8_t snd_wscale;         /* the peer's shift */
	uint8_t rcv_wscale;         /* ours */
	/* A Fast Open cookie is parsed into a struct tcp_fastopen_cookie of
	 * the caller's (as Linux's foc), not kept in every socket. */
};

/* fastopen: a Fast Open cookie (Linux: struct tcp_fastopen_cookie); len -1: none. */
#define TCP_FASTOPEN_COOKIE_SIZE 8
struct tcp_fastopen_cookie {
	uint8_t val[16];
	int8_t len;
	bool exp;
};

/* fastopen: the cookie keys (Linux: struct tcp_fastopen_context): key[0] is
 * the primary, key[1] the backup that is still accepted; num 0 = unset. */
#define TCP_FASTOPEN_KEY_LENGTH 16
struct tcp_fastopen_context {
	siphash_key_t key[2];
	uint8_t num;
};

/* fastopen: a client's Fast Open in progress (Linux: struct
 * tcp_fastopen_request), allocated while one is under way (sk->fastopen_req
 * non-NULL); the data is only borrowed during one send call. */
struct tcp_fastopen_request {
	struct tcp_fastopen_cookie cookie;
	const struct iovec *iov;
	int iovcnt;
	size_t size;
	uint32_t copied;            /* bytes that went out in the SYN */
};

/* Forget the negotiable options (Linux: tcp_clear_options); syncookies use
 * it for a SYN without TS, whose cookie cannot carry them. */
static inline void tcp_clear_options(struct tcp_options_received *rx)
{
	rx->tstamp_ok = rx->sack_ok = rx->wscale_ok = false;
	rx->snd_wscale = 0;
}

/* The part every hashed object starts with (Linux: sock_common). */
struct sock_common {
	struct hlist_node node;     /* ehash chain (lhash chain for listeners) */
	uint32_t laddr, raddr;      /* network order */
	uint16_t lport, rport;      /* host order */
	uint8_t state;              /* enum tcp_state */
};

/* sock_common is 29 bytes padded to 32: request socks and minisocks keep
 * three small fields of their own in that tail (SKC_TAIL), as Linux packs
 * its minisocks' flags next to skc_state. */
#define SKC_TAIL 29
_Static_assert(__builtin_offsetof(struct sock_common, state) == SKC_TAIL - 1 && sizeof(struct sock_common) == 32,
	       "the objects' tail fields overlay sock_common's padding");

struct sock;
struct tcp_congestion_ops;

/* A pending passive open (Linux: tcp_request_sock), in ehash as NEW_SYN_RECV.
 * 120 bytes, one 128-byte heap block: a SYN flood's cost. Its stack is its
 * listener's (req_st). Requests are found through ehash, not a list on the
 * listener (as Linux); a Fast Open request is never hashed and has no timer
 * (its child's retransmit timer resends the SYN-ACK), so it keeps its list
 * link and its child where a hashed request keeps its timer. */
struct request_sock {
	union {
		struct sock_common c;
		struct {
			uint8_t skc_[SKC_TAIL];
			uint8_t num_retrans, num_timeout;
			uint8_t tos;
		};
	};
	struct sock *listener;      /* NULL only for a Fast Open request whose listener closed first */
	union {
		struct timer rsk_timer; /* hashed: the SYN-ACK timer */
		struct {                /* fastopen (req->tfo): Linux's tfo_listener, req->sk, dl_next */
			struct list_head tfo_node;  /* on the listener's fastopenq.active or .rst */
			union {                     /* a request has a child, or sits on the RST list */
				struct sock *tfo_child;     /* the child until its handshake ends */
				uint64_t tfo_rst_expires;   /* ns: end of the 60 s hold on the RST list */
			};
		};
	};
	uint32_t rcv_isn, snt_isn;
	uint32_t rcv_nxt;
	uint32_t ts_recent, ts_off;
	uint32_t snt_tsval_first, snt_tsval_last;
	uint32_t rsk_rcv_wnd, rsk_window_clamp;
	uint32_t last_oow_ack_time; /* jiffies (Linux: u32 jiffies) */
	uint16_t mss;               /* the peer's MSS (mss_clamp of the SYN) */
	uint16_t mss_adv;           /* the MSS our SYN-ACK advertises */
	uint8_t snd_wscale, rcv_wscale;
	bool tstamp_ok : 1, sack_ok : 1, wscale_ok : 1, ecn_ok : 1;
	bool acked : 1;             /* TCP_DEFER_ACCEPT / overflow: the ACK came */
	bool syncookie : 1;
	bool tfo : 1;               /* fastopen: the request of a Fast Open child (the union holds tfo_*) */
	bool tfo_listener : 1;      /* ...still counted in its listener's fastopenq */
};

/* The base SYN-ACK timeout (Linux: tcp_timeout_init without BPF). */
#define REQSK_TIMEOUT_INIT_MS ((uint64_t)TCP_TIMEOUT_INIT_MS)

static inline struct stack *req_st(const struct request_sock *req);

/* A listener's state (Linux: inet_connection_sock's icsk_accept_queue),
 * allocated by listen(), TCP_FASTOPEN or TCP_FASTOPEN_KEY: a connected
 * socket carries only the pointer. */
struct request_sock_queue {
	uint32_t qlen, young;       /* SYN queue: requests in ehash, those not yet timed out */
	int max_ack_backlog, ack_backlog; /* Linux: sk_max_ack_backlog, sk_ack_backlog */
	struct list_head accept_queue;  /* children ready for accept */
	uint64_t synq_overflow_ms;      /* last SYN queue overflow (cookies) */
	/* fastopen: the listener's Fast Open queue (Linux: fastopen_queue). */
	struct {
		uint32_t max_qlen, qlen;
		struct list_head active;    /* requests of children still in the handshake */
		struct list_head rst;       /* reset requests held 60 s (rskq_rst_head) */
	} fastopenq;
	struct tcp_fastopen_context fastopen_ctx; /* TCP_FASTOPEN_KEY on this socket */
};

/* Receive-side state that only out-of-order or duplicate data needs (Linux
 * keeps it in tcp_sock). It is allocated when such a segment first arrives
 * and freed once the queue is empty and nothing is left to SACK, so an idle
 * socket does not carry it (tcp_ooo_get, tcp_ooo_put). */
struct tcp_ooo {
	struct sk_buff_head queue;      /* by seq (Linux: out_of_order_queue, an rbtree) */
	uint32_t selective_acks[4][2];  /* SACK blocks we send, most recent first */
	uint32_t dsack_start, dsack_end;
	uint8_t num_sacks;
	bool dsack;                     /* a D-SACK block is owed (RFC 2883) */
};

/* A full TCP socket. Laid out by size (pointers and lists, then 64-, 32-,
 * 16- and 8-bit fields) so that it has almost no padding; the comments name
 * the Linux structure each field belongs to. Listener state is apart
 * (rskq), as is a client's Fast Open request (fastopen_req), and so is
 * out-of-order state (ooo). */
struct sock {
	struct sock_common c;
	struct stack *st;
	struct hlist_node bind_node;    /* in the bind hash by lport */
	struct request_sock_queue *rskq; /* listener (sock_rskq): NULL until listen() or a Fast Open option */
	struct list_head accept_node;   /* child: on the listener's accept_queue */
	struct sock *parent;            /* child: its listener, until accepted */
	struct request_sock *fastopen_rsk; /* fastopen: a child's pending request (Linux: tcp_sock.fastopen_rsk) */
	struct tcp_fastopen_request *fastopen_req; /* fastopen: the client's, while under way */
	const struct tcp_congestion_ops *ca_ops;
	struct list_head orphan_node;   /* on st->tcp.orphans while orphaned and alive */
	struct list_head epoll_items;   /* epoll registrations (epoll.c); lazily set up */
	struct tcp_ooo *ooo;            /* NULL while all data arrived in order */

	/* Timers (Linux: inet_connection_sock, and sk_timer for keepalive). */
	struct timer retransmit_timer;
	struct timer delack_timer;
	struct timer keepalive_timer;       /* keepalive, and FIN-WAIT-2 (as Linux) */

	/* Queues (Linux: sk_write_queue, tcp_rtx_queue, sk_receive_queue; out_of_order_queue is in ooo). */
	struct sk_buff_head rtx_queue;      /* sent, unacknowledged */
	struct sk_buff_head receive_queue;  /* in-order data for the user */
	struct sk_buff_head write_queue;    /* accepted from the user, not yet sent */


	/* 64-bit (tcp_sock). */
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint64_t ca_priv[8] __attribute__((aligned(8))); /* the CA module's state (Linux: icsk_ca_priv; CUBIC needs 60) */
	struct {                            /* RACK (RFC 8985; Linux: tcp_recovery.c) */
		uint64_t mstamp;            /* send time (us) of the most recently delivered segment */
		uint32_t rtt_us;            /* its RTT */
		uint32_t end_seq;
	} rack;                             /* (its steps and flag are with the 8-bit fields) */

	/* User and socket state (Linux: sock, socket). */
	int fd;                     /* index in the stack's descriptor table, -1 if none (unaccepted child) */
	int sk_err;                 /* reported once by connect/SO_ERROR */
	int sk_err_soft;
	uint32_t sk_rcvbuf, sk_sndbuf;
	int rcvlowat;                       /* SO_RCVLOWAT */
	int linger_secs;                    /* SO_LINGER */
	/* SO_RCVTIMEO / SO_SNDTIMEO (blocking.c) in ms, Linux's jiffies at HZ
	 * 1000, so get/setsockopt round as Linux does; 0: forever, as
	 * MAX_SCHEDULE_TIMEOUT; SOCK_TIMEO_NOWAIT: a negative time, Linux's 0. */
	uint32_t rcvtimeo_ms, sndtimeo_ms;

	/* Connection socket (Linux: inet_connection_sock). */
	uint32_t icsk_rto;              /* ms */
	uint32_t icsk_user_timeout;     /* ms */
	struct {
		uint32_t ato;           /* ms */
		uint32_t lrcvtime;      /* jiffies: last data received */
		bool pending : 1;       /* an ACK is owed */
		bool scheduled : 1;     /* the delayed-ACK timer runs */
		uint8_t quick;          /* quick ACKs left */
		bool pingpong : 1;
		bool now : 1;           /* one immediate ACK is due (Linux: ICSK_ACK_NOW) */
	} icsk_ack;

	/* TCP (Linux: tcp_sock). */
	uint32_t rcv_nxt, rcv_wup, copied_seq;
	uint32_t snd_una, snd_nxt, write_seq, snd_wl1;
	uint32_t snd_wnd, rcv_wnd, window_clamp, rcv_ssthresh, max_window;
	uint32_t tsoffset;
	struct tcp_options_received rx_opt;
	uint32_t total_retrans, total_rto;
	uint32_t snd_cwnd;
	uint32_t last_oow_ack_time;     /* jiffies (Linux: u32 jiffies) */

	/* Sending. */
	uint32_t retrans_stamp;             /* ms (stack_jiffies) of the first (re)transmission, 0 if none */
	uint32_t snd_sml;                   /* end of the last small segment sent (Nagle) */
	uint32_t lsndtime;                  /* jiffies: last data sent */
	uint32_t packets_out, sacked_out, lost_out, retrans_out;
	uint32_t high_seq;                  /* snd_nxt when recovery began */
	uint32_t snd_ssthresh, snd_cwnd_cnt, snd_cwnd_clamp, prior_cwnd, prior_ssthresh;
	uint32_t snd_cwnd_stamp;            /* jiffies */
	uint32_t delivered;                 /* segments delivered (acked or sacked) */
	uint32_t bytes_sent, bytes_retrans;
	uint32_t segs_in, segs_out, data_segs_in, data_segs_out;
	uint32_t highest_sack;              /* end of the highest SACKed segment */
	uint32_t prr_delivered, prr_out;    /* PRR (RFC 6937) */
	uint32_t undo_marker;               /* snd_una when recovery began (0: nothing to undo) */
	int32_t undo_retrans;               /* retransmissions not yet shown spurious by D-SACK */
	uint32_t tlp_high_seq;              /* snd_nxt when a loss probe went out, 0 if none */

	/* RTT (Linux: tcp_rtt_estimator; all in microseconds, srtt << 3). */
	uint32_t srtt_us, mdev_us, mdev_max_us, rttvar_us, rtt_seq;
	uint32_t min_rtt_us;

	/* Receiving: the receive buffer's autotuning (Linux's DRS:
	 * tcp_rcv_space_adjust) and the receiver's RTT it paces itself by. */
	struct {
		uint32_t space;             /* bytes the user read in the last measured RTT */
		uint32_t seq;               /* copied_seq at the start of the measurement */
		uint32_t time;              /* us (low 32 bits) at its start */
	} rcvq_space;
	struct {
		uint32_t rtt_us;            /* << 3, 0 until the first sample */
		uint32_t seq;               /* a window's end: its arrival ends a sample (no timestamps) */
		uint32_t time;              /* us (low 32 bits) the sample began; 0: none running */
	} rcv_rtt_est;
	uint32_t rcv_rtt_last_tsecr;        /* the echo last sampled: one sample per echoed value */
	uint32_t rcv_tstamp;                /* jiffies: last ACK processed (tcp_ack sets it; keepalive idle time) */

	/* 16-bit. */
	uint16_t advmss, mss_cache, tcp_header_len;
	uint16_t rcv_mss;                   /* icsk_ack.rcv_mss: the peer's segment size estimate */
	/* Options narrowed to what Linux accepts: MAX_TCP_KEEPIDLE and
	 * MAX_TCP_KEEPINTVL are 32767 s, TCP_LINGER2 at most 120 s. */
	uint16_t keepalive_time_s, keepalive_intvl_s;
	int16_t linger2;                    /* TCP_LINGER2 (s; -1: RST), 0 = tcp_fin_timeout */
	uint16_t inet_id;                   /* IP ID of the next segment (Linux: u16 too) */

	/* 8-bit: states, counters and flags. */
	uint8_t sock_state;         /* SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED (Linux: socket->state) */
	uint8_t sk_shutdown;                /* RCV_SHUTDOWN | SEND_SHUTDOWN */
	uint8_t tos;
	uint8_t icsk_pending;           /* ICSK_TIME_* */
	uint8_t icsk_retransmits;
	uint8_t icsk_backoff;
	uint8_t icsk_syn_retries;       /* TCP_SYNCNT; 0 = the sysctl */
	uint8_t rskq_defer_accept;      /* TCP_DEFER_ACCEPT, in SYN-ACK retransmissions */
	uint8_t ca_state;                   /* TCP_CA_* */
	uint8_t ca_dupacks;                 /* duplicate ACKs without SACK (NewReno) */
	uint8_t keepalive_probes;
	uint8_t probes_out;                 /* keepalive / zero-window probes sent */
	uint8_t fastopen_client_fail; /* TFO_* reason (tcpi_fastopen_client_fail) */
	uint8_t rack_reo_wnd_steps;         /* RACK: reordering window, in min_rtt/4 steps */
	/* Flags as one-bit fields: a million idle sockets pay for every byte. */
	bool reuseaddr : 1;
	bool bound : 1;                 /* explicit bind() (Linux: SOCK_BINDPORT_LOCK) */
	bool addr_bound : 1;            /* bind() to a specific address */
	bool in_bhash : 1;
	bool orphan : 1;                /* closed by the user; no descriptor */
	bool rcvbuf_locked : 1;         /* SO_RCVBUF set */
	bool sndbuf_locked : 1;         /* SO_SNDBUF set: no automatic growth */
	bool transparent : 1;                   /* IP_TRANSPARENT (a listener catching every destination) */
	bool linger_on : 1;
	bool cork : 1;                          /* TCP_CORK */
	bool keepalive : 1;                     /* SO_KEEPALIVE */
	bool nodelay : 1, quickack_off : 1;     /* TCP_QUICKACK=0 sets pingpong */
	bool is_cwnd_limited : 1;
	bool reord_seen : 1;                    /* reordering was observed */
	bool reord_this_ack : 1;                /* ...by the ACK being processed */
	bool tlp_retrans : 1;                   /* the probe was a retransmission */
	bool rack_advanced : 1;                 /* RACK: rack.mstamp moved on this ACK */
	/* fastopen: the client side (Linux: tcp_sock's fastopen_* and syn_* bits). */
	bool fastopen_connect : 1;      /* TCP_FASTOPEN_CONNECT */
	bool fastopen_no_cookie : 1;    /* TCP_FASTOPEN_NO_COOKIE */
	bool defer_connect : 1;         /* connect() returned; the SYN waits for data */
	bool syn_fastopen : 1;          /* our SYN carried the Fast Open option */
	bool syn_fastopen_exp : 1;      /* ...in the experimental (254) form */
	bool syn_fastopen_ch : 1;       /* the blackhole pause was checked and over */
	bool syn_data : 1;              /* our SYN carried data */
	bool syn_data_acked : 1;        /* ...and the SYN-ACK acknowledged it */
};

/* The listener state, made on first use; NULL when out of memory. */
struct request_sock_queue *sock_rskq(struct sock *sk);

static inline struct stack *req_st(const struct request_sock *req)
{
	return req->listener ? req->listener->st : req->tfo_child->st;
}

/* The SYN-ACK timeout after num_timeout retransmissions: 1 s doubled, at
 * most TCP_RTO_MAX. num_timeout can pass 63 (tcp_synack_retries goes to
 * 255): no shift by that. */
static inline uint64_t reqsk_timeout_ms(const struct request_sock *req)
{
	uint64_t t = req->num_timeout < 32 ? REQSK_TIMEOUT_INIT_MS << req->num_timeout : TCP_RTO_MAX_MS;

	return t < TCP_RTO_MAX_MS ? t : TCP_RTO_MAX_MS;
}

#define SOCK_TIMEO_NOWAIT UINT32_MAX
#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2
#define SHUTDOWN_MASK 3

/* Congestion states (Linux: enum tcp_ca_state). */
enum tcp_ca_state { TCP_CA_Open = 0, TCP_CA_Disorder, TCP_CA_CWR, TCP_CA_Recovery, TCP_CA_Loss };

/* Events for cwnd_event (Linux: enum tcp_ca_event). */
enum tcp_ca_event {
	CA_EVENT_TX_START,          /* first transmit when no packets in flight */
	CA_EVENT_CWND_RESTART,      /* congestion window restart (after idle) */
	CA_EVENT_COMPLETE_CWR,      /* end of congestion recovery */
	CA_EVENT_LOSS,              /* loss timeout */
};

struct ack_sample {
	uint32_t pkts_acked;
	int32_t rtt_us;             /* -1 when no sample */
	uint32_t in_flight;
};

#define TCP_CA_NAME_MAX 16
/* A congestion control module (Linux: struct tcp_congestion_ops), selected
 * per socket with TCP_CONGESTION. State lives in sk->ca_priv. */
struct tcp_congestion_ops {
	char name[TCP_CA_NAME_MAX];
	void (*init)(struct sock *sk);
	void (*release)(struct sock *sk);
	/* The slow start threshold after a loss. */
	uint32_t (*ssthresh)(struct sock *sk);
	/* Grow cwnd on an ACK of `acked` segments (ack: the new snd_una). */
	void (*cong_avoid)(struct sock *sk, uint32_t ack, uint32_t acked);
	void (*set_state)(struct sock *sk, uint8_t new_state);
	void (*cwnd_event)(struct sock *sk, enum tcp_ca_event ev);
	void (*pkts_acked)(struct sock *sk, const struct ack_sample *sample);
	/* cwnd to restore after a spurious loss indication. */
	uint32_t (*undo_cwnd)(struct sock *sk);
};

/* ---- tcp_cong.c, tcp_cubic.c ---- */
const struct tcp_congestion_ops *tcp_ca_find(const char *name);
/* The default is "cubic", as in Linux. */
const struct tcp_congestion_ops *tcp_ca_default(void);
void tcp_init_congestion_control(struct sock *sk);
int tcp_set_congestion_control(struct sock *sk, const char *name); /* -ENOENT */
void tcp_set_ca_state(struct sock *sk, uint8_t ca_state);
void tcp_ca_event(struct sock *sk, enum tcp_ca_event ev);
/* Helpers the modules share (Linux: tcp_slow_start, tcp_cong_avoid_ai, tcp_reno_*). */
uint32_t tcp_slow_start(struct sock *sk, uint32_t acked);
void tcp_cong_avoid_ai(struct sock *sk, uint32_t w, uint32_t acked);
void tcp_reno_cong_avoid(struct sock *sk, uint32_t ack, uint32_t acked);
uint32_t tcp_reno_ssthresh(struct sock *sk);
uint32_t tcp_reno_undo_cwnd(struct sock *sk);
static inline bool tcp_in_slow_start(const struct sock *sk) { return sk->snd_cwnd < sk->snd_ssthresh; }
extern const struct tcp_congestion_ops tcp_reno_ops;
extern const struct tcp_congestion_ops tcp_cubic_ops;

/* The TIME-WAIT minisock (Linux: tcp_timewait_sock), in ehash as
 * TCP_TIME_WAIT: only what answering the old connection's segments needs.
 * Its stack is passed in; it is found through ehash (teardown walks it). */
struct tcp_timewait_sock {
	union {
		struct sock_common c;   /* state TCP_TIME_WAIT; tw_substate below */
		struct {
			uint8_t skc_[SKC_TAIL];
			uint8_t tw_substate;    /* TCP_FIN_WAIT2 or TCP_TIME_WAIT */
			uint8_t tw_rcv_wscale;
			bool tw_tstamp_ok;
		};
	};
	uint32_t tw_rcv_nxt, tw_snd_nxt, tw_rcv_wnd;
	uint32_t tw_ts_recent, tw_ts_offset;
	uint32_t tw_ts_recent_stamp;    /* s */
	uint32_t tw_entry_stamp;        /* jiffies */
	uint32_t tw_last_oow_ack_time;  /* jiffies */
	struct timer tw_timer;
};

#define ICSK_TIME_RETRANS 1
#define ICSK_TIME_DACK 2

/* The skb's control block while TCP owns it (Linux: tcp_skb_cb). */
struct tcp_skb_cb {
	uint32_t seq, end_seq;      /* end_seq = seq + SYN + FIN + data length */
	uint32_t ack_seq;
	uint8_t tcp_flags;
	uint8_t sacked;             /* TCPCB_* scoreboard bits */
	uint64_t tx_us;             /* last (re)transmission (us) */
	/* teardown: a SYN that reopens a TIME-WAIT tuple carries the ISN
	 * tcp_conn_request must use (0: choose one; Linux: tcp_tw_isn). */
	uint32_t tcp_tw_isn;
};
#define TCPCB_SACKED_ACKED 0x01     /* the peer SACKed it */
#define TCPCB_SACKED_RETRANS 0x02   /* retransmitted and not yet (s)acked */
#define TCPCB_LOST 0x04             /* marked lost: to be retransmitted */
#define TCPCB_EVER_RETRANS 0x80     /* retransmitted at least once (Karn) */
#define ICSK_TIME_PROBE0 3
#define ICSK_TIME_LOSS_PROBE 5
#define ICSK_TIME_REO_TIMEOUT 6
#define TCP_SKB_CB(skb) ((struct tcp_skb_cb *)(skb)->cb)

/* The lookup tables (Linux: inet_hashinfo), per stack. */
#define TCP_EHASH_MIN_BITS 12     /* the embedded table ehash starts in */
#define TCP_EHASH_MAX_BITS 24     /* growth stops here: 16M buckets */
#define TCP_LHASH_BITS 8
#define TCP_BHASH_BITS 12
struct tcp_hashinfo {
	/* established and request socks; ehash doubles (leaving ehash_small)
	 * whenever it holds twice as many entries as buckets, so chains stay short
	 * at a million connections. Linux sizes its table once, at boot, from
	 * the memory size (thash_entries); a library cannot know its load.
	 * The entries move over a few buckets per insert, not all at once
	 * (at a million connections that would stall one connect() for
	 * milliseconds): until they have, the old table is searched too. */
	struct hlist_head *ehash;
	uint32_t ehash_mask;
	struct hlist_head *ehash_old;   /* being emptied into ehash; NULL: none */
	uint32_t ehash_old_mask;
	uint32_t ehash_old_next;        /* its first bucket not yet moved */
	struct hlist_head ehash_small[1u << TCP_EHASH_MIN_BITS];
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
	uint32_t tw_count;
	uint64_t last_synack_rl;        /* ns, rate limiting of reqsk ACKs */
	/* RFC 5961 7: the host-wide challenge-ACK budget of this second
	 * (Linux: the netns's tcp_challenge_timestamp/_count). */
	uint32_t challenge_second;      /* 1 + the second it was drawn for; 0: never */
	uint32_t challenge_count;
	struct tcp_fastopen_context fastopen_ctx; /* the stack's cookie keys */
	/* fastopen: active Fast Open paused after a blackhole (Linux: the
	 * netns's tfo_active_disable_stamp/_times). */
	uint64_t tfo_active_disable_stamp;  /* ns */
	uint32_t tfo_active_disable_times;
	struct tcp_metrics *metrics;        /* per-destination cache (tcp_metrics.c) */
	struct sock *catchall;              /* an IP_TRANSPARENT listener: takes any destination */
	struct eventpoll **eps;             /* epoll instances by descriptor (epoll.c) */
	int neps;
	uint64_t wakeups;                   /* socket wakeups so far (blocking mode waits on it) */
	struct kmem_cache sk_slab;          /* sockets (Linux: the tcp_prot slab) */
	struct kmem_cache tw_slab;          /* TIME-WAIT minisocks (Linux: tw_sock_slab) */
	struct kmem_cache req_slab;         /* request socks (Linux: the request_sock slab) */
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
/* Drop every request of this listener (listener->rskq set). */
void inet_ehash_drop_requests(struct sock *listener);
/* Finish moving entries into the grown table: before a walk over ehash. */
void inet_ehash_rehash_all(struct stack *st);
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
void inet_hashinfo_init(struct stack *st);
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
		       struct tcp_options_received *rx, struct tcp_fastopen_cookie *foc);
bool tcp_parse_aligned_timestamp(const uint8_t *opt, int len, struct tcp_options_received *rx);
int tcp_rcv_state_process(struct sock *sk, struct sk_buff *skb);
void tcp_conn_request(struct sock *listener, struct sk_buff *skb);
void tcp_set_state(struct sock *sk, int state);
void tcp_done(struct sock *sk);
void tcp_reset(struct sock *sk);
void tcp_finish_connect(struct sock *sk);
void tcp_init_transfer(struct sock *sk); /* fastopen: shared with tcp_fastopen.c */

/* ---- tcp_output.c ---- */
/* The initial receive window and scale (Linux: tcp_select_initial_window). */
void tcp_select_initial_window(const struct stack *st, int space, uint32_t mss, uint32_t *rcv_wnd,
			       uint32_t *window_clamp, bool wscale_ok, uint8_t *rcv_wscale, uint32_t init_rcv_wnd);
/* The window a receive buffer allows (Linux: tcp_full_space with the default scaling_ratio 128/256). */
int tcp_full_space(uint32_t rcvbuf);
/* Its inverse: the buffer a window needs (Linux: tcp_space_from_win). */
uint64_t tcp_space_from_win(uint64_t win);
/* Option layouts (Linux: tcp_syn_options / tcp_synack_options / tcp_options_write). */
struct tcp_out_options {
	const struct tcp_fastopen_cookie *fastopen_cookie; /* fastopen: written last, NOP padded */
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
/* fastopen: a SYN-ACK carrying foc (NULL or len < 0: none) if it fits. */
int tcp_v4_send_synack_foc(struct request_sock *req, const struct tcp_fastopen_cookie *foc);
void tcp_send_ack(struct sock *sk);
void tcp_send_delayed_ack(struct sock *sk);
void tcp_send_active_reset(struct sock *sk);
/* Queue a FIN after the data (Linux: tcp_send_fin) and push. */
void tcp_send_fin(struct sock *sk);
/* Send what the window and cwnd allow (Linux: tcp_push_pending_frames). */
void tcp_push_pending_frames(struct sock *sk);
/* Probe a zero window or a keepalive: a segment the peer must ACK (Linux: tcp_write_wakeup). */
int tcp_write_wakeup(struct sock *sk);
void tcp_send_challenge_ack(struct sock *sk);
/* Build and send one segment from sk with the given flags. */
int tcp_transmit_skb(struct sock *sk, struct sk_buff *skb, uint8_t flags, uint32_t seq);
uint16_t tcp_current_mss(struct sock *sk);
uint16_t tcp_mss_clamp(const struct sock *sk, uint16_t mss);
void tcp_sync_mss(struct sock *sk, uint32_t pmtu);
void tcp_enter_quickack_mode(struct sock *sk, unsigned int max_quickacks);
int tcp_retransmit_skb(struct sock *sk);
int tcp_retransmit_one(struct sock *sk, struct sk_buff *skb);
void tcp_xmit_retransmit_queue(struct sock *sk);
uint32_t tcp_packets_in_flight(const struct sock *sk);
void tcp_rearm_rto(struct sock *sk);
void tcp_init_buffer_space(struct sock *sk);
void tcp_sndbuf_expand(struct sock *sk);
uint32_t tcp_select_window(struct sock *sk);
/* The window tcp_select_window would offer now, without committing to it. */
uint32_t tcp_select_window_peek(const struct sock *sk);
uint64_t tcp_rmem_alloc(const struct sock *sk);
/* The window the free part of the receive buffer allows (Linux: tcp_space). */
int32_t tcp_space(const struct sock *sk);
/* Receive-buffer autotuning after the user read (tcp_input.c). */
void tcp_rcv_space_adjust(struct sock *sk);
/* The out-of-order state (struct tcp_ooo): NULL-safe readers; tcp_ooo_get
 * allocates it (NULL when memory is short), tcp_ooo_put frees it if idle,
 * tcp_ooo_free always (with its queue). */
static inline bool tcp_ooo_empty(const struct sock *sk) { return !sk->ooo || !sk->ooo->queue.qlen; }
static inline uint32_t tcp_ooo_bytes(const struct sock *sk) { return sk->ooo ? sk->ooo->queue.bytes : 0; }
struct tcp_ooo *tcp_ooo_get(struct sock *sk);
void tcp_ooo_put(struct sock *sk);
void tcp_ooo_purge(struct sock *sk);
void tcp_ooo_free(struct sock *sk);

/* ---- ICMP errors (tcp_v4_err) ---- */
void tcp_v4_err(struct stack *st, const uint8_t *quoted, size_t len, uint8_t type, uint8_t code, uint32_t info);

/* ---- tcp_minisocks.c ---- */
struct sock *tcp_check_req(struct request_sock *req, struct sk_buff *skb);
struct sock *tcp_create_openreq_child(struct request_sock *req, const struct sk_buff *skb);
void reqsk_free(struct request_sock *req);
void inet_csk_reqsk_queue_drop(struct request_sock *req);
void reqsk_timer_handler(struct stack *st, struct timer *t);
void tw_timer_handler(struct stack *st, struct timer *t);
/* Register TCP's timer kinds with the stack's wheel (tcp_timer.c). */
void tcp_timer_handlers_init(struct stack *st);

/* ---- tcp_syncookies.c: SYN cookies (Linux: syncookies.c, tcp.h helpers) ---- */
/* Record a SYN-queue overflow on the listener (at most once a second). */
void tcp_synq_overflow(struct sock *sk);
/* True unless the listener sent cookies within the last two minutes. */
bool tcp_synq_no_recent_overflow(const struct sock *sk);
/* The cookie ISN for a SYN: records the overflow, counts SyncookiesSent and
 * rounds *mss down to the value the cookie encodes. */
uint32_t cookie_init_sequence(struct sock *listener, const struct sk_buff *skb, uint16_t *mss);
/* A cookie SYN-ACK's TSval before ts_off: the options in its low 6 bits. */
uint32_t cookie_init_timestamp(const struct request_sock *req, uint64_t now_ms);
/* The MSS a cookie ACK encodes, 0 if its cookie is invalid or too old. */
int __cookie_v4_check(const struct stack *st, const struct sk_buff *skb);
/* A non-SYN segment for a listener: the listener (go on with LISTEN), NULL
 * (drop), or the child a valid cookie created (already in the accept queue). */
struct sock *cookie_v4_check(struct sock *sk, struct sk_buff *skb);

/* ---- tcp_timer.c ---- */
void tcp_init_xmit_timers(struct sock *sk);
void tcp_clear_xmit_timers(struct sock *sk);
void inet_csk_reset_xmit_timer(struct sock *sk, int what, uint32_t when_ms);
void tcp_retransmit_timer(struct stack *st, struct timer *t);
void tcp_enter_loss(struct sock *sk);
uint32_t tcp_probe0_when(const struct sock *sk);
uint32_t tcp_current_ssthresh(const struct sock *sk);
void tcp_init_undo(struct sock *sk);
/* Fast recovery begins: undo state, PRR and ssthresh (Linux: tcp_enter_recovery). */
void tcp_enter_recovery(struct sock *sk);

/* ---- tcp_recovery.c: RACK-TLP (RFC 8985) ---- */
void tcp_rack_advance(struct sock *sk, uint8_t sacked, uint32_t end_seq, uint64_t xmit_us);
/* Mark what RACK deems lost; arms the reordering timer. Returns whether it ran. */
bool tcp_rack_mark_lost(struct sock *sk);
void tcp_rack_reo_timeout(struct sock *sk);
bool tcp_schedule_loss_probe(struct sock *sk, bool advancing_rto);
void tcp_send_loss_probe(struct sock *sk);
int tcp_xmit_probe_new(struct sock *sk);
void tcp_cwnd_reduction(struct sock *sk, uint32_t newly_acked_sacked, bool snd_una_advanced);
/* An ACK at or beyond the probe's snd_nxt settles it (Linux: tcp_process_tlp_ack). */
void tcp_process_tlp_ack(struct sock *sk, uint32_t ack, bool dsack);
void tcp_mark_skb_lost(struct sock *sk, struct sk_buff *skb);
void tcp_delack_timer(struct stack *st, struct timer *t);

#define SS_UNCONNECTED 1
#define SS_CONNECTING 2
#define SS_CONNECTED 3

/* ---- tcp.c: the user's data (lead) ---- */
struct iovec;
/* Linux's tcp_sendmsg: copy into the write queue in MSS-sized skbs and
 * push. Bytes accepted, or -EAGAIN/-EPIPE/-ENOTCONN. MSG_MORE corks. */
long tcp_sendmsg(struct sock *sk, const struct iovec *iov, int iovcnt, int flags);
/* Linux's tcp_recvmsg: bytes copied, 0 at EOF, -EAGAIN, -ENOTCONN, or a
 * pending error once (sk_err). MSG_PEEK leaves the data queued. */
long tcp_recvmsg(struct sock *sk, const struct iovec *iov, int iovcnt, int flags);
/* Bytes the user may read now / may still queue for sending. */
uint32_t tcp_inq(const struct sock *sk);
uint32_t tcp_wspace(const struct sock *sk);
void tcp_get_info(const struct sock *sk, struct synack_tcp_info *info);

/* ---- tcp_teardown.c: orderly release and TIME-WAIT (Linux: parts of tcp.c,
 * tcp_input.c and tcp_minisocks.c, kept together here) ---- */
/* close(): the caller has released the descriptor (sk->orphan is set).
 * Stops a listener, aborts on unread data or SO_LINGER 0, otherwise sends
 * FIN through the close states; the socket lives on as an orphan. */
void tcp_close(struct sock *sk);
/* shutdown(): SEND_SHUTDOWN sends a FIN after queued data. */
void tcp_shutdown(struct sock *sk, int how);
/* A FIN arrived in order (Linux: tcp_fin). rcv_nxt already covers it. */
void tcp_fin(struct sock *sk);
/* An acceptable ACK in FIN_WAIT1/CLOSING/LAST_ACK moved snd_una: the state
 * changes it causes (Linux: the tail of tcp_rcv_state_process). Returns
 * true when sk was destroyed or handed to TIME-WAIT (stop processing). */
bool tcp_rcv_state_teardown(struct sock *sk, struct sk_buff *skb);
/* Enter TIME-WAIT or FIN-WAIT-2 as a minisock (Linux: tcp_time_wait). */
void tcp_time_wait(struct sock *sk, int state, uint32_t timeo_ms);
/* A segment for a TIME-WAIT minisock (Linux: tcp_v4_timewait + tcp_timewait_state_process). */
void tcp_v4_rcv_timewait(struct stack *st, struct tcp_timewait_sock *tw, struct sk_buff *skb);
/* connect(): may the 4-tuple of a TIME-WAIT minisock be taken over? (tcp_twsk_unique) */
bool tcp_twsk_unique(struct sock *sk, struct tcp_timewait_sock *tw);
void tcp_keepalive_timer(struct stack *st, struct timer *t);
/* Arm (or re-arm) the keepalive timer, which is also the orphaned
 * FIN-WAIT-2 timer (Linux: inet_csk_reset_keepalive_timer). */
void inet_csk_reset_keepalive_timer(struct sock *sk, uint32_t ms);
/* SO_KEEPALIVE changed (Linux: tcp_set_keepalive; sk->keepalive already set). */
void tcp_set_keepalive(struct sock *sk, bool on);
/* Abort the connection and make sk reusable (Linux: tcp_disconnect):
 * RST where the peer has state, CLOSE, queues purged, write_seq moved on. */
int tcp_disconnect(struct sock *sk, int flags);
void inet_twsk_destroy_all(struct stack *st);
/* Drop a listener's requests and unaccepted children (Linux: inet_csk_listen_stop). */
void inet_csk_listen_stop(struct sock *sk, bool reset_children);

/* ---- tcp_fastopen.c: the server side of TCP Fast Open (spec 5.2) ---- */
#define TFO_CLIENT_ENABLE 0x1
#define TFO_SERVER_ENABLE 0x2
#define TFO_CLIENT_NO_COOKIE 0x4
#define TFO_SERVER_COOKIE_NOT_REQD 0x200
#define TFO_SERVER_WO_SOCKOPT1 0x400
/* TCP_FASTOPEN / listen() with 0x400 (Linux: fastopen_queue_tune). */
void fastopen_queue_tune(struct sock *sk, int backlog);
/* listen(): enable Fast Open without the option when the sysctl says so. */
void tcp_fastopen_listen(struct sock *sk, int backlog);
/* The child of a Fast Open SYN (NULL: normal handshake); *foc becomes the
 * cookie the SYN-ACK carries (len -1: none). */
struct sock *tcp_try_fastopen(struct sock *sk, struct sk_buff *skb, struct request_sock *req,
			      struct tcp_fastopen_cookie *foc);
/* tcp_conn_request's Fast Open half: SYN-ACK and accept queue for child. */
void tcp_fastopen_child_synack(struct sock *listener, struct request_sock *req, struct sock *child,
			       const struct tcp_fastopen_cookie *foc);
/* tcp_check_req(fastopen = true) on the child: false = discard the segment. */
bool tcp_fastopen_check_req(struct sock *sk, struct sk_buff *skb);
/* The third ACK came (Linux: tcp_rcv_synrecv_state_fastopen). */
void tcp_rcv_synrecv_state_fastopen(struct sock *sk);
void reqsk_fastopen_remove(struct sock *sk, struct request_sock *req, bool reset);
/* The child's retransmit timer while fastopen_rsk is set. */
void tcp_fastopen_synack_timer(struct sock *sk);
/* sk is going away: its request (child) or its queues (listener). */
void tcp_fastopen_sk_free(struct sock *sk);
/* Queue a SYN's (or SYN-ACK's) payload and FIN on sk (Linux: tcp_fastopen_add_skb). */
void tcp_fastopen_add_skb(struct sock *sk, struct sk_buff *skb);
/* The cookie keys a listener uses: its own, else the stack's. */
const struct tcp_fastopen_context *tcp_fastopen_get_ctx(const struct sock *sk);
/* Install keys (16 bytes each; backup may be NULL) on sk, or on the stack
 * when sk is NULL (Linux: tcp_fastopen_reset_cipher). */
void tcp_fastopen_reset_cipher(struct stack *st, struct sock *sk, const uint8_t *primary, const uint8_t *backup);
/* The keys as bytes (16 per key); returns how many keys. */
int tcp_fastopen_get_cipher(const struct stack *st, const struct sock *sk, uint8_t out[2 * TCP_FASTOPEN_KEY_LENGTH]);
/* net.ipv4.tcp_fastopen_key in Linux's text form. */
int tcp_fastopen_key_set_text(struct stack *st, const char *text);
int tcp_fastopen_key_get_text(const struct stack *st, char *buf, size_t cap);

/* ---- tcp_fastopen_client.c: the client side of Fast Open (spec 5.1) ---- */
/* tcpi_fastopen_client_fail values (Linux: enum tfo_client_fail). */
enum { TFO_STATUS_UNSPEC, TFO_COOKIE_UNAVAILABLE, TFO_DATA_NOT_ACKED, TFO_SYN_RETRANSMITTED };
/* TCP_FASTOPEN_CONNECT: true = connect() returns now, the SYN waits for data. */
bool tcp_fastopen_defer_connect(struct sock *sk);
/* tcp_connect's SYN with data (and the cookie) when a cookie is cached. */
int tcp_send_syn_data(struct sock *sk, struct sk_buff *syn);
/* The SYN-ACK of a Fast Open: cache the cookie; true = the SYN's data was
 * not all acknowledged and is being resent (no bare ACK needed). */
bool tcp_rcv_fastopen_synack(struct sock *sk, struct sk_buff *synack);
/* The third timeout of a Fast Open connection pauses active Fast Open. */
void tcp_fastopen_active_detect_blackhole(struct sock *sk, bool expired);
void tcp_fastopen_active_disable(struct sock *sk);
/* sk is going away: a FIN alone in its out-of-order queue says blackhole. */
void tcp_fastopen_active_disable_ofo_check(struct sock *sk);
/* sendmsg with MSG_FASTOPEN or on a deferred connect: connects, putting
 * what fits in the SYN; *copied = those bytes. */
int tcp_sendmsg_fastopen(struct sock *sk, const struct iovec *iov, int iovcnt, size_t size,
			 const struct sockaddr_in *addr, uint32_t *copied);

/* ---- tcp_metrics.c: the per-destination Fast Open cache ---- */
struct tcp_metrics *tcp_metrics_new(void);
void tcp_metrics_free(struct tcp_metrics *m);
void tcp_fastopen_cache_get(struct sock *sk, uint16_t *mss, struct tcp_fastopen_cookie *cookie);
void tcp_fastopen_cache_set(struct sock *sk, uint16_t mss, const struct tcp_fastopen_cookie *cookie, bool syn_lost,
			    uint8_t try_exp);

/* ---- sock/socket.c ---- */
struct sock *sk_alloc(struct stack *st);
void sk_free(struct sock *sk);
/* Called when the listener has a new child or a socket changes readiness. */
void sk_state_change(struct sock *sk);
/* Data arrived / send space was freed (Linux: sk_data_ready, sk_write_space). */
#define sk_data_ready(sk) sk_wakeup(sk)
#define sk_write_space(sk) sk_wakeup(sk)
struct sock *sock_lookup(const struct stack *st, int fd);

/* ---- sock/epoll.c ---- */
/* A readiness change on sk: its epoll registrations may be ready. */
void sk_wakeup(struct sock *sk);
void ep_forget_sock(struct sock *sk);
void ep_sync_ready(struct stack *st);
void ep_destroy_all(struct stack *st);

#endif
