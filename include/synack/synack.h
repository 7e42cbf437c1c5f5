/*
 * synack: a userspace TCP/IPv4 stack built the way Linux builds its TCP.
 *
 * The public API. Every call that can fail returns 0 (or a count) on success
 * and a negative errno on failure; no call aborts on bad input.
 *
 * Threading: a stack and the links and clock it uses belong to one thread at
 * a time. Several stacks may live in one process; they share no state.
 */
#ifndef SYNACK_SYNACK_H
#define SYNACK_SYNACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SYNACK_API __attribute__((visibility("default")))

/* "No deadline": returned by the next-deadline calls when nothing is due. */
#define SYNACK_NEVER UINT64_MAX

struct stack;               /* one TCP/IP stack instance (all of its state) */
struct synack_clock;        /* a time source; may be shared by stacks and sim wires */
struct synack_link;         /* a link driver instance (one Ethernet interface) */
struct synack_sim_wire;     /* the in-memory wire joining two links */

/* ------------------------------------------------------------------ clock */

/* Monotonic real time (CLOCK_MONOTONIC), in ns since the clock was made. */
SYNACK_API struct synack_clock *synack_clock_new_real(void);
/* Virtual time that only moves when synack_clock_set/advance is called. */
SYNACK_API struct synack_clock *synack_clock_new_virtual(uint64_t start_ns);
SYNACK_API void synack_clock_free(struct synack_clock *clk);
SYNACK_API uint64_t synack_clock_now(const struct synack_clock *clk);
SYNACK_API bool synack_clock_is_virtual(const struct synack_clock *clk);
/* Virtual clocks only: -EINVAL on a real clock or when moving backwards. */
SYNACK_API int synack_clock_set(struct synack_clock *clk, uint64_t now_ns);
SYNACK_API int synack_clock_advance(struct synack_clock *clk, uint64_t delta_ns);

/* ------------------------------------------------------------------- link */

/* What a device tells of a received frame (recv_meta). */
struct synack_rx_meta {
	uint32_t flags;     /* SYNACK_RX_* */
	uint16_t gso_size;  /* a merged TCP segment: the size of its wire segments; 0 otherwise */
};
/* The TCP checksum is known good: the device checked it, or the kernel
 * that made the frame left it for hardware to fill (CHECKSUM_PARTIAL). */
#define SYNACK_RX_CSUM_OK 1u

/*
 * A link driver. Embed struct synack_link at the start of a driver's own
 * state and fill in ops; synack calls the ops from the stack's thread.
 */
struct synack_link_ops {
	const char *kind;   /* "sim", "tap", "pcap", ... */
	/* Transmit one Ethernet frame (no FCS). The driver copies it.
	 * 0, or a negative errno (-EAGAIN when the device queue is full). */
	int (*send)(struct synack_link *l, const void *frame, size_t len);
	/* Receive one frame into buf: its length, 0 when none is ready, or a
	 * negative errno. A frame longer than cap is truncated to cap. */
	int (*recv)(struct synack_link *l, void *buf, size_t cap);
	/* A file descriptor that polls readable when recv has work, or -1. */
	int (*wait_fd)(struct synack_link *l);
	/* The time (ns, on the link's clock) at which recv will next have a
	 * frame, for drivers that deliver on a schedule; SYNACK_NEVER if none. */
	uint64_t (*next_deadline)(struct synack_link *l);
	/* Release the driver. */
	void (*destroy)(struct synack_link *l);

	/* Optional offload ops (NULL in simple drivers). */

	/* Receive one frame like recv, and say in *meta (zeroed by the caller)
	 * what the device knows of it. A device that merges segments (GRO, a
	 * TAP's GSO frames) may return a TCP/IPv4 frame longer than mtu + 14,
	 * up to max_frame, with meta->gso_size set; the stack's buffer holds
	 * max_frame bytes. */
	int (*recv_meta)(struct synack_link *l, void *buf, size_t cap, struct synack_rx_meta *meta);
	/* Transmit like send, but the driver may hold the frame to merge it
	 * with the ones that follow (Linux's xmit_more) until flush. */
	int (*send_more)(struct synack_link *l, const void *frame, size_t len);
	/* Transmit whatever send_more holds: 0 or a negative errno. */
	int (*flush)(struct synack_link *l);
	/* Transmit one TCP/IPv4 super-frame (SYNACK_LINK_F_TSO) for the device
	 * to cut into segments of gso_size payload bytes, as a TSO NIC does
	 * (Linux: an skb of gso_type SKB_GSO_TCPV4). Its IP length covers the
	 * whole frame, its TCP checksum holds only the pseudo-header sum (as
	 * with SYNACK_LINK_F_TX_CSUM), every segment but the last carries
	 * gso_size bytes, and the device gives PSH and FIN to the last and
	 * each segment its own IP ID, counting up. Sent in order with
	 * send_more's frames. 0 or a negative errno. */
	int (*send_gso)(struct synack_link *l, const void *frame, size_t len, uint16_t gso_size);
	/* send_gso for a scatter-gather device: the super-frame of len bytes
	 * in iovcnt pieces, iov[0] holding at least its Ethernet, IP and TCP
	 * headers (the payloads follow as TCP queued them, unmoved). Optional:
	 * without it the stack gathers the frame into one buffer for send_gso.
	 * The pieces are valid only until the call returns: the driver copies
	 * them (or finishes its DMA) first. Worth it where each piece is copied
	 * once anyway (a ring in memory, a NIC's DMA); the TAP leaves it out,
	 * as the kernel copies one 64 KiB buffer faster than forty-odd pieces
	 * (writev). 0 or a negative errno. */
	int (*send_gso_iov)(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len, uint16_t gso_size);
	/* send for a scatter-gather device (Linux's NETIF_F_SG): one frame of
	 * len bytes in iovcnt pieces, iov[0] holding at least its Ethernet, IP
	 * and TCP headers. Optional: without it the stack hands frames over
	 * whole, and software segmentation copies each segment's payload
	 * behind its headers first. The pieces are valid only until the call
	 * returns; sent in order with send_more's frames. 0 or a negative
	 * errno. */
	int (*send_iov)(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len);
};

struct synack_link {
	const struct synack_link_ops *ops;
	uint8_t mac[6];     /* the interface's hardware address */
	uint32_t mtu;       /* IP MTU (the frame may carry 14 more bytes) */
	uint32_t max_frame; /* the longest frame recv_meta returns; 0: mtu + 14 */
	uint32_t features;  /* SYNACK_LINK_F_* */
};

/* The device finishes TCP checksums (Linux's NETIF_F_IP_CSUM): every
 * TCP/IPv4 frame the stack hands it carries only the pseudo-header sum in
 * its checksum field, as a CHECKSUM_PARTIAL skb does. */
#define SYNACK_LINK_F_TX_CSUM 1u
/* The device segments TCP super-frames (Linux's NETIF_F_TSO): with
 * SYNACK_LINK_F_TX_CSUM and ops->send_gso, the stack sends a run of
 * full-sized segments as one frame of up to 64 KiB. */
#define SYNACK_LINK_F_TSO 2u
/* The stack merges the in-order TCP segments of a flow that arrive in one
 * poll into one frame before IP (Linux's GRO, NETIF_F_GRO, which Linux
 * turns on for every device). The TAP and pcap drivers set it; the sim
 * wire leaves it off, so scenario tests see one ACK decision per segment.
 * Set or clear it before synack_if_up. */
#define SYNACK_LINK_F_GRO 4u

/* Release a link through its ops->destroy; NULL is ignored. */
SYNACK_API void synack_link_destroy(struct synack_link *l);

/* The simulated wire: what one end sends, the other receives, after the
 * configured delay and faults. All randomness comes from seed. */
struct synack_sim_config {
	uint64_t delay_ns;          /* one-way propagation delay */
	uint64_t jitter_ns;         /* extra uniform random delay in [0, jitter] */
	double loss;                /* probability a frame is dropped (0..1) */
	double duplicate;           /* probability a frame is delivered twice */
	double reorder;             /* probability a frame is held back by reorder_ns */
	uint64_t reorder_ns;        /* hold-back for reordered frames (default 2 * delay + 1 ms) */
	double corrupt;             /* probability one random bit of the frame is flipped */
	uint64_t bandwidth_bps;     /* serialisation rate per direction; 0 = unlimited */
	uint32_t mtu;               /* IP MTU of both ends; 0 = 1500 */
	uint32_t queue_limit;       /* frames in flight per direction; 0 = 4096; excess dropped */
	uint64_t seed;
};

struct synack_sim_stats {
	uint64_t sent, delivered, lost, duplicated, reordered, corrupted, queue_drops;
};

/* Two links joined by a wire that keeps time with clk. MACs are
 * 02:00:00:00:00:01 and 02:00:00:00:00:02 unless changed in link->mac. */
SYNACK_API int synack_sim_wire_new(struct synack_clock *clk, const struct synack_sim_config *cfg,
				   struct synack_sim_wire **out);
/* End 0 or 1 of the wire; owned by the wire (do not destroy it separately). */
SYNACK_API struct synack_link *synack_sim_wire_end(struct synack_sim_wire *w, int side);
/* Direction 0 is end 0 -> end 1. */
SYNACK_API struct synack_sim_stats synack_sim_wire_stats(const struct synack_sim_wire *w, int dir);
SYNACK_API void synack_sim_wire_free(struct synack_sim_wire *w);

/* Two links joined in memory by a socketpair, for stacks on different
 * threads (real clock only; the sim wire is for one thread and virtual
 * time). Each end polls readable through its wait_fd. MACs end in :01 and
 * :02; mtu 0 means 1500. Destroy each end with synack_link_destroy. */
SYNACK_API int synack_pipe_pair_new(uint32_t mtu, struct synack_link **a, struct synack_link **b);

/* A Linux TAP device: attached if it exists, created otherwise; set to mtu
 * (0 keeps the current MTU) and brought up. The link gets a random locally
 * administered MAC (not the kernel's MAC of the TAP interface).
 * -ENOENT without /dev/net/tun, -EPERM without CAP_NET_ADMIN. */
SYNACK_API int synack_tap_open(const char *ifname, uint32_t mtu, struct synack_link **out);

/* synack_tap_open with the offloads spelled out. By default the device is
 * opened with virtio-net headers (IFF_VNET_HDR) and checksum and TSO4
 * offloads: the kernel hands up merged TCP frames of up to 64 KiB, and
 * consecutive TCP segments the stack sends in one burst leave as one
 * 64 KiB super-frame that the kernel takes as one (send_more + flush). When
 * the kernel refuses any of it the link falls back to plain frames. */
struct synack_tap_config {
	const char *ifname;
	uint32_t mtu;       /* 0 keeps the device's */
	bool no_offload;    /* plain frames only (offloads are switched off on the device) */
};
SYNACK_API int synack_tap_open_config(const struct synack_tap_config *cfg, struct synack_link **out);

/* A TAP link's own counters. */
struct synack_tap_stats {
	bool offload;               /* virtio-net headers and offloads are in use */
	uint64_t rx_gso_frames;     /* merged TCP frames from the kernel */
	uint64_t rx_gso_bytes;      /* their bytes */
	uint64_t rx_csum_done;      /* partial checksums completed in software (recv without meta) */
	uint64_t rx_bad_vnet_hdr;   /* frames dropped for a malformed or unexpected virtio-net header */
	uint64_t rx_oversize;       /* frames dropped as too long for the caller's buffer */
	uint64_t tx_gso_frames;     /* super-frames written */
	uint64_t tx_gso_segs;       /* the segments they carry */
	uint64_t tx_flushes;        /* flush calls that wrote something */
	uint64_t tx_errors;         /* held frames whose write failed (lost, as on a wire) */
};
/* -EINVAL unless l was made by synack_tap_open*. */
SYNACK_API int synack_tap_get_stats(const struct synack_link *l, struct synack_tap_stats *out);

/* Wrap any link: every frame in either direction is also written to a
 * classic pcap file (LINKTYPE_ETHERNET), timestamped by clk. The wrapper
 * owns inner and destroys it with itself. */
SYNACK_API int synack_pcap_wrap(struct synack_link *inner, struct synack_clock *clk,
				const char *path, struct synack_link **out);

/* Wrap any link with the sim wire's faults (loss, duplication, reordering,
 * corruption, delay) in both directions. Owns inner. -EINVAL for a link with
 * offloads (a TAP opened without no_offload): faults apply to wire frames. */
SYNACK_API int synack_faulty_wrap(struct synack_link *inner, struct synack_clock *clk,
				  const struct synack_sim_config *cfg, struct synack_link **out);

/* ------------------------------------------------------------------ stack */

struct synack_stack_config {
	struct synack_clock *clock; /* required; not owned */
	const char *name;           /* shown in traces; may be NULL */
	bool seeded;                /* true: secrets and RNG from seed (reproducible) */
	uint64_t seed;              /* otherwise from getrandom() */
};

/* A new stack with Linux's default sysctls and no interface: 0, -EINVAL
 * (no config or clock), -ENOMEM, or getrandom's error. */
SYNACK_API int synack_stack_new(const struct synack_stack_config *cfg, struct stack **out);
/* Frees the stack and everything it holds; not the link or the clock. */
SYNACK_API void synack_stack_free(struct stack *st);
/* The name given at creation ("stack" by default). */
SYNACK_API const char *synack_stack_name(const struct stack *st);

struct synack_if_config {
	struct in_addr addr;        /* the interface address */
	uint8_t prefix_len;         /* 0..32 */
	struct in_addr gateway;     /* default gateway, or 0.0.0.0 for none */
};

/* Attach a link as the stack's interface (not owned) and bring it up; sends
 * a gratuitous ARP. -EBUSY if already attached, -EINVAL on a bad config. */
SYNACK_API int synack_if_up(struct stack *st, struct synack_link *l, const struct synack_if_config *cfg);

/* Receive what the link has ready and run the timers that are due.
 * Returns how many frames and timers were handled, or a negative errno. */
SYNACK_API int synack_stack_poll(struct stack *st);
/* The earliest time (ns on the stack's clock) at which poll has work:
 * a timer, or a scheduled frame on the link. SYNACK_NEVER if none. */
SYNACK_API uint64_t synack_stack_next_deadline(struct stack *st);
/* A descriptor that polls readable when frames arrive, or -1. */
SYNACK_API int synack_stack_wait_fd(struct stack *st);
/*
 * The event-loop descriptor: one descriptor (owned by the stack) that polls
 * readable whenever synack_stack_poll has work - a frame on the link, or,
 * on a real clock, a timer due (it holds a timerfd the stack keeps armed at
 * its next deadline, re-armed by every poll and every socket call that sets
 * a timer). Add it to your own epoll/libuv/libevent loop and call
 * synack_stack_poll when it fires; nothing else is needed. On a virtual
 * clock it watches the link only: move time yourself to
 * synack_stack_next_deadline. A negative errno if it cannot be made.
 */
SYNACK_API int synack_stack_event_fd(struct stack *st);

/* Drive stacks that share one virtual clock until nothing is due before
 * until_ns: poll each, then move the clock to the earliest deadline.
 * Leaves the clock at until_ns. Returns the number of clock steps taken. */
SYNACK_API int synack_run_virtual(struct synack_clock *clk, struct stack *const *stacks, size_t n,
				  uint64_t until_ns);

/* Linux's sysctls by their names ("net.ipv4.icmp_ratelimit"):
 * -ENOENT for an unknown name, -EINVAL for a value out of range. */
SYNACK_API int synack_sysctl_set(struct stack *st, const char *name, long value);
SYNACK_API int synack_sysctl_get(const struct stack *st, const char *name, long *value);
/* The same by text, as `sysctl -w name=value` takes it: numbers for the
 * numeric sysctls, and net.ipv4.tcp_fastopen_key in Linux's form (one or two
 * keys "xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx", primary then backup, comma
 * separated). get writes the text (NUL-terminated) into buf: its length, or
 * -ENOSPC when cap is too small. */
SYNACK_API int synack_sysctl_set_str(struct stack *st, const char *name, const char *value);
SYNACK_API int synack_sysctl_get_str(const struct stack *st, const char *name, char *buf, size_t cap);

/* The Fast Open client's per-destination cache (Linux keeps it in
 * tcp_metrics): what lets a later connection send data in its SYN. A
 * program may save it and load it into a new stack. */
struct synack_tfo_cookie {
	struct in_addr daddr;
	uint16_t mss;               /* the peer's MSS, 0 if unknown */
	uint8_t len;                /* cookie bytes: 0 (none) or 4..16, even */
	bool exp;                   /* learnt in the experimental option (254) */
	uint8_t cookie[16];
};
/* 0, or -ENOENT when nothing is cached for daddr. */
SYNACK_API int synack_tfo_cache_get(struct stack *st, struct in_addr daddr, struct synack_tfo_cookie *out);
/* -EINVAL for a bad length or address. */
SYNACK_API int synack_tfo_cache_set(struct stack *st, const struct synack_tfo_cookie *c);

/* ------------------------------------------------------------------- ICMP */

/* Send an ICMP echo request (as ping does). */
SYNACK_API int synack_ping_send(struct stack *st, struct in_addr dst, uint16_t id, uint16_t seq,
				const void *payload, size_t len);

struct synack_echo_reply {
	struct in_addr from;
	uint16_t id, seq;
	uint8_t ttl;
	size_t len;                 /* payload bytes */
	const uint8_t *payload;
};
typedef void (*synack_echo_fn)(void *ctx, const struct synack_echo_reply *r);
/* Called for each echo reply the stack receives; NULL fn stops it. */
SYNACK_API void synack_ping_set_handler(struct stack *st, synack_echo_fn fn, void *ctx);

/* ---------------------------------------------------------------- sockets */

/*
 * TCP sockets, as in BSD sockets: descriptors are small integers private to
 * a stack. Every call is non-blocking and returns a negative errno on
 * failure, with Linux's meanings. Options use Linux's numbers
 * (<sys/socket.h>, <netinet/tcp.h>): SOL_SOCKET SO_REUSEADDR, SO_RCVBUF,
 * SO_SNDBUF, SO_ERROR; IPPROTO_TCP TCP_MAXSEG, TCP_SYNCNT, TCP_QUICKACK,
 * TCP_DEFER_ACCEPT, TCP_NODELAY, TCP_USER_TIMEOUT; and for data transfer
 * SO_LINGER, SO_KEEPALIVE, SO_RCVLOWAT, TCP_CORK, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT, TCP_LINGER2, SO_RCVTIMEO and SO_SNDTIMEO
 * (struct timeval; they bound the blocking calls), TCP_CONGESTION (a string:
 * "cubic", "reno") and TCP_INFO (struct synack_tcp_info below).
 * IPPROTO_IP IP_TRANSPARENT (int) on a listener makes it the stack's
 * catch-all: it also accepts connections to any other host's address and
 * any port (a TUN/TAP terminator's needs; Linux would need TPROXY rules),
 * and getsockname on each child gives the address and port the peer
 * dialled. Connections to the stack's own address still go to their own
 * listeners or get a RST.
 * TCP Fast Open: TCP_FASTOPEN (a listener's queue length), TCP_FASTOPEN_KEY
 * (16 bytes, or 32 with a backup key), TCP_FASTOPEN_CONNECT (connect()
 * returns 0 at once when a cookie is cached; the first send carries the SYN
 * and as much data as fits), TCP_FASTOPEN_NO_COOKIE, and MSG_FASTOPEN with
 * synack_sendto (connect and send in the SYN).
 */
struct sockaddr_in;

/* A new TCP socket: its descriptor, or -EMFILE/-ENOMEM. */
SYNACK_API int synack_socket(struct stack *st);
/* -EADDRINUSE when the port is taken (SO_REUSEADDR as Linux), -EADDRNOTAVAIL
 * for an address not ours, -EINVAL when already bound. Port 0 picks one. */
SYNACK_API int synack_bind(struct stack *st, int fd, const struct sockaddr_in *addr);
/* Backlog capped at net.core.somaxconn. */
SYNACK_API int synack_listen(struct stack *st, int fd, int backlog);
/* A connected child's descriptor; -EAGAIN while none is ready. peer may be NULL. */
SYNACK_API int synack_accept(struct stack *st, int fd, struct sockaddr_in *peer);
/* Sends the SYN: -EINPROGRESS. Again while connecting: -EALREADY; once
 * connected: -EISCONN; after a failure: that error once (-ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH...). */
SYNACK_API int synack_connect(struct stack *st, int fd, const struct sockaddr_in *addr);
/* Release the descriptor at once; the connection closes as Linux's does
 * (FIN after queued data, RST when unread data is dropped or SO_LINGER 0)
 * and the protocol finishes it in the background. -EBADF. */
SYNACK_API int synack_close(struct stack *st, int fd);
/* The local / remote address; getpeername: -ENOTCONN before a connection. */
SYNACK_API int synack_getsockname(struct stack *st, int fd, struct sockaddr_in *addr);
SYNACK_API int synack_getpeername(struct stack *st, int fd, struct sockaddr_in *addr);
/* Options as listed above, with Linux's checks: -ENOPROTOOPT for an
 * unknown option or level, -EINVAL for a short or bad value. getsockopt
 * writes at most *len bytes and sets *len to what it wrote. */
SYNACK_API int synack_setsockopt(struct stack *st, int fd, int level, int name, const void *val,
				 unsigned int len);
SYNACK_API int synack_getsockopt(struct stack *st, int fd, int level, int name, void *val, unsigned int *len);
/* Queue data for sending: bytes accepted (may be fewer than len), -EAGAIN
 * when the send buffer is full or the handshake is still running, -EPIPE
 * after SHUT_WR, a reset, or on a socket that never connected (as Linux;
 * never a signal); a pending error is reported once first. flags: MSG_DONTWAIT
 * (every call is non-blocking anyway), MSG_MORE (as TCP_CORK for this call). */
SYNACK_API long synack_send(struct stack *st, int fd, const void *buf, size_t len, int flags);
/* Read in-order data: bytes read, 0 at end of stream (the peer's FIN after
 * all data), -EAGAIN when nothing is ready, -ECONNRESET/-ETIMEDOUT once
 * after an abort, -ENOTCONN before the connection is up. flags: MSG_PEEK,
 * MSG_DONTWAIT. SO_RCVLOWAT sets how much makes the socket readable. */
SYNACK_API long synack_recv(struct stack *st, int fd, void *buf, size_t len, int flags);
/* MSG_FASTOPEN: connect to addr and send in the SYN what fits when a cookie
 * for addr is cached: bytes sent, or -EINPROGRESS when none went in the SYN
 * (the SYN then asks for a cookie; send again once connected). Without
 * MSG_FASTOPEN, addr is ignored on a connected socket, as Linux's TCP does. */
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif
SYNACK_API long synack_sendto(struct stack *st, int fd, const void *buf, size_t len, int flags,
			      const struct sockaddr_in *addr);
/* send/recv with a vector (at most 1024 entries, else -EINVAL). */
struct iovec;
SYNACK_API long synack_sendv(struct stack *st, int fd, const struct iovec *iov, int iovcnt, int flags);
SYNACK_API long synack_recvv(struct stack *st, int fd, const struct iovec *iov, int iovcnt, int flags);
/* The msghdr forms: sendmsg takes msg_name as sendto's address (for
 * MSG_FASTOPEN); control messages are refused (-EINVAL). recvmsg sets
 * msg_namelen, msg_controllen and msg_flags to 0 (TCP reports no source
 * address, as Linux). Too many iovecs: -EMSGSIZE. */
struct msghdr;
SYNACK_API long synack_sendmsg(struct stack *st, int fd, const struct msghdr *msg, int flags);
SYNACK_API long synack_recvmsg(struct stack *st, int fd, struct msghdr *msg, int flags);
/*
 * Readiness for many sockets, as Linux's epoll with its flags and event
 * bits (<sys/epoll.h>): EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR
 * (the last two always reported), EPOLLET (edge-triggered: reported once per
 * readiness change), EPOLLONESHOT (disarmed after one report until
 * EPOLL_CTL_MOD). Instances have their own descriptors, separate from the
 * sockets'. wait never blocks: it returns what is ready now (0..maxevents),
 * so call it after synack_stack_poll. A socket's registrations go when the
 * socket is closed. Errors as Linux: -EBADF, -EEXIST, -ENOENT, -EINVAL.
 */
struct epoll_event;
SYNACK_API int synack_epoll_create(struct stack *st);
SYNACK_API int synack_epoll_ctl(struct stack *st, int epfd, int op, int fd, struct epoll_event *ev);
SYNACK_API int synack_epoll_wait(struct stack *st, int epfd, struct epoll_event *events, int maxevents);
SYNACK_API int synack_epoll_close(struct stack *st, int epfd);

/*
 * Blocking mode (real clock only). Threading rules: a stack belongs to one
 * thread at a time. synack_thread_start gives it a thread of its own that
 * polls it whenever there is work; from then on every other call on that
 * stack, from any thread, must be made between synack_lock and
 * synack_unlock - except the *_wait calls below, which lock for themselves
 * and release the lock while they sleep. synack_thread_stop (or
 * synack_stack_free) joins the thread; waiting callers return.
 *
 * The *_wait calls block as Linux's blocking sockets do: accept and recv
 * until there is something (SO_RCVTIMEO bounds the wait: -EAGAIN), connect
 * until the handshake ends (0 or its error; -EINPROGRESS after
 * SO_SNDTIMEO), send until all of buf is queued (SO_SNDTIMEO: what was
 * queued, or -EAGAIN). MSG_DONTWAIT makes one call non-blocking. Without the
 * thread they drive the stack themselves on the calling thread.
 */
SYNACK_API int synack_thread_start(struct stack *st);
/* A stopped thread wakes its waiting callers with -ECANCELED. */
SYNACK_API int synack_thread_stop(struct stack *st);
SYNACK_API void synack_lock(struct stack *st);
SYNACK_API void synack_unlock(struct stack *st);
SYNACK_API int synack_accept_wait(struct stack *st, int fd, struct sockaddr_in *peer);
SYNACK_API int synack_connect_wait(struct stack *st, int fd, const struct sockaddr_in *addr);
SYNACK_API long synack_send_wait(struct stack *st, int fd, const void *buf, size_t len, int flags);
SYNACK_API long synack_recv_wait(struct stack *st, int fd, void *buf, size_t len, int flags);

/* Closed sockets still doing protocol work (sending a FIN, waiting for its
 * ACK, FIN-WAIT-2; TIME-WAIT not counted): poll until 0 before freeing a
 * stack when an orderly close matters. */
SYNACK_API unsigned int synack_stack_orphans(const struct stack *st);

/* SHUT_RD, SHUT_WR, SHUT_RDWR: -ENOTCONN when not connected. */
SYNACK_API int synack_shutdown(struct stack *st, int fd, int how);
/* TCP_INFO's answer: the layout and field meanings of Linux's struct
 * tcp_info (<linux/tcp.h>), up to tcpi_delivered. Times in microseconds
 * except the last_* fields (milliseconds). */
struct synack_tcp_info {
	uint8_t tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes, tcpi_backoff, tcpi_options;
	uint8_t tcpi_snd_wscale : 4, tcpi_rcv_wscale : 4;
	uint8_t tcpi_delivery_rate_app_limited : 1, tcpi_fastopen_client_fail : 2;
	uint32_t tcpi_rto, tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss;
	uint32_t tcpi_unacked, tcpi_sacked, tcpi_lost, tcpi_retrans, tcpi_fackets;
	uint32_t tcpi_last_data_sent, tcpi_last_ack_sent, tcpi_last_data_recv, tcpi_last_ack_recv;
	uint32_t tcpi_pmtu, tcpi_rcv_ssthresh, tcpi_rtt, tcpi_rttvar, tcpi_snd_ssthresh, tcpi_snd_cwnd;
	uint32_t tcpi_advmss, tcpi_reordering, tcpi_rcv_rtt, tcpi_rcv_space, tcpi_total_retrans;
	uint64_t tcpi_pacing_rate, tcpi_max_pacing_rate, tcpi_bytes_acked, tcpi_bytes_received;
	uint32_t tcpi_segs_out, tcpi_segs_in, tcpi_notsent_bytes, tcpi_min_rtt;
	uint32_t tcpi_data_segs_in, tcpi_data_segs_out;
	uint64_t tcpi_delivery_rate, tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited;
	uint32_t tcpi_delivered;
};
#define SYNACK_TCPI_OPT_TIMESTAMPS 1
#define SYNACK_TCPI_OPT_SACK 2
#define SYNACK_TCPI_OPT_WSCALE 4
#define SYNACK_TCPI_OPT_ECN 8

/* Readiness now, as poll(2) revents: POLLIN (accept ready / data / EOF),
 * POLLOUT (connected), POLLERR, POLLHUP. -EBADF for a bad descriptor. */
SYNACK_API int synack_poll(struct stack *st, int fd);
/* The TCP state of a socket (TCP_ESTABLISHED = 1 ... as in Linux's
 * tcp_states.h), or -EBADF. */
SYNACK_API int synack_tcp_state(struct stack *st, int fd);
/* "ESTABLISHED", "SYN_SENT", ... */
SYNACK_API const char *synack_tcp_state_name(int state);

/* ---------------------------------------------------------- MIB counters */

/* Counters are named as nstat names them: "IpInReceives", "TcpActiveOpens",
 * "TcpExtListenDrops", "IcmpInEchos". */
SYNACK_API size_t synack_mib_count(void);
/* The name of counter idx (NULL past the end), and its value in st. */
SYNACK_API const char *synack_mib_name(size_t idx);
SYNACK_API uint64_t synack_mib_get(const struct stack *st, size_t idx);
/* By name; 0 for an unknown name (check with synack_mib_index). */
SYNACK_API uint64_t synack_mib_value(const struct stack *st, const char *name);
/* The index of a counter by name, or -ENOENT. */
SYNACK_API int synack_mib_index(const char *name);
/* Write the non-zero counters in nstat's format ("#kernel" header, then
 * "Name value rate" lines). */
SYNACK_API void synack_mib_print_nstat(const struct stack *st, FILE *f);

/* ------------------------------------------------------------------ trace */

enum synack_trace_kind {
	SYNACK_TRACE_EVENT = 0,     /* a named event (Linux tracepoint or function) */
	SYNACK_TRACE_FRAME_RX,      /* a frame the stack received (before checks) */
	SYNACK_TRACE_FRAME_TX,      /* a frame the stack handed to the link */
	SYNACK_TRACE_DROP,          /* a frame or packet dropped; text says why */
};

struct synack_trace_event {
	uint64_t ts_ns;             /* stack clock */
	enum synack_trace_kind kind;
	const struct stack *stack;
	const char *name;           /* e.g. "inet_sock_set_state", "arp_rcv", "net_dev_xmit" */
	const char *text;           /* human-readable detail; never NULL */
	const uint8_t *frame;       /* FRAME_*: the Ethernet frame */
	size_t frame_len;
};

typedef void (*synack_trace_fn)(void *ctx, const struct synack_trace_event *ev);
/* NULL fn disables tracing. */
SYNACK_API void synack_trace_set_sink(struct stack *st, synack_trace_fn fn, void *ctx);

/* Format an Ethernet frame in tcpdump's style, e.g.
 * "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64" or
 * "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28". Never reads
 * past len; writes at most cap bytes (NUL-terminated). Returns strlen. */
SYNACK_API size_t synack_format_frame(char *buf, size_t cap, const uint8_t *frame, size_t len);

/* ----------------------------------------------------------------- utils */

/* Parse "A.B.C.D/N" (N defaults to 32 without a slash). */
SYNACK_API int synack_parse_cidr(const char *s, struct in_addr *addr, uint8_t *prefix_len);

#ifdef __cplusplus
}
#endif
#endif
