/*
 * Packet buffers, after Linux's sk_buff: a header (struct sk_buff) over a
 * reference-counted data block with headroom for the lower layers' headers.
 * Clones share the data block; a per-stack pool recycles both.
 *
 *   head          data            tail           end
 *   |  headroom   |  len bytes    |  tailroom    |
 *
 * A nonlinear skb (Linux: data_len and frags) has only its first len -
 * data_len bytes in its buffer; the rest is the data of nr_frags other
 * skbs, frag_list and those after it on its queue. Only TCP makes one: a
 * run of queued segments sent as one super-frame without gathering them
 * (software GSO reads the payloads in place). It is consumed before the
 * call that made it returns, so it holds no references; whatever would
 * keep it (the ARP queue) makes it linear first (skb_linearize).
 */
#ifndef SYNACK_CORE_SKB_H
#define SYNACK_CORE_SKB_H

#include <stdbool.h>
#include <stdint.h>
#include "core/list.h"

/* Room for Ethernet + IPv4 + TCP with options, rounded up. */
#define SKB_HEADROOM 128
/* The pooled data block size: a full 1500-byte MTU frame plus headroom. */
#define SKB_POOL_DATA 2048
/* Large receive blocks cached (skb_pool.big_size). */
#define SKB_POOL_BIG 16

struct skb_data {
	int refcnt;                 /* skbs pointing at this block */
	uint32_t size;              /* bytes in buf */
	uint8_t buf[];
};

struct skb_pool;

/* skb->ip_summed, as Linux's: nothing known, or a checksum not to check. */
#define CHECKSUM_NONE 0
#define CHECKSUM_UNNECESSARY 1

struct sk_buff {
	struct list_head list;      /* for whichever queue holds it */
	struct skb_pool *pool;
	struct skb_data *shinfo;
	uint8_t *head, *data;
	uint32_t len;               /* bytes from data */
	int refcnt;                 /* holders of this header */
	uint16_t mac_header, network_header, transport_header; /* offsets from head */
	uint8_t ip_summed;          /* CHECKSUM_UNNECESSARY: the device vouched for the TCP checksum */
	uint64_t tstamp;            /* ns: arrival, or when queued for transmit */
	uint32_t nexthop;           /* network byte order, for neighbour output */
	uint16_t gso_size;          /* a TCP super-frame for the device to cut at this payload size (TSO); 0: none */
	uint16_t nr_frags;          /* nonlinear: skbs whose data follows this buffer's */
	uint32_t data_len;          /* nonlinear: the bytes of len that are theirs */
	struct sk_buff *frag_list;  /* nonlinear: the first of them; the rest follow it on its list */
	uint8_t cb[48] __attribute__((aligned(8))); /* per-layer scratch, like Linux's skb->cb */
};

struct skb_pool {
	struct sk_buff *free_skbs;      /* cached headers, a stack linked through list.next */
	void **free_data;               /* cached SKB_POOL_DATA blocks */
	size_t nfree_skbs, nfree_data;
	size_t max_cached;              /* per kind */
	size_t live_skbs, live_data;    /* outstanding: 0 at teardown means no leak */
	struct sk_buff *kept;           /* an untouched buffer kept for the next receive */
	/* Blocks of big_size bytes (a link's 64 KiB receive buffers), cached
	 * too: malloc would hand them back to the kernel and fault them in
	 * again for every frame. big_size 0: none. */
	uint32_t big_size;
	size_t nfree_big;
	void *free_big[SKB_POOL_BIG];
};

void skb_pool_init(struct skb_pool *p, size_t max_cached);
/* Frees the cache; live buffers are a leak and are reported by the return value. */
size_t skb_pool_destroy(struct skb_pool *p);

/* A buffer with headroom bytes reserved and room for size bytes after them.
 * NULL on allocation failure. */
struct sk_buff *skb_alloc(struct skb_pool *p, uint32_t headroom, uint32_t size);
/* skb_alloc for a receive that may find nothing: the buffer that
 * skb_pool_keep kept back is reused when it is large enough. */
struct sk_buff *skb_alloc_rx(struct skb_pool *p, uint32_t headroom, uint32_t size);
/* Keep a buffer that was allocated and never used, for skb_alloc_rx: a poll
 * that finds no frame then costs no allocation. It no longer counts as live. */
void skb_pool_keep(struct skb_pool *p, struct sk_buff *skb);
/* Drop one reference (NULL is fine). */
void kfree_skb(struct sk_buff *skb);
static inline struct sk_buff *skb_get(struct sk_buff *skb) { skb->refcnt++; return skb; }
/* A new header sharing skb's data; NULL for a nonlinear skb. */
struct sk_buff *skb_clone(struct sk_buff *skb);
/* A private copy of header and data (same headroom). */
struct sk_buff *skb_copy(const struct sk_buff *skb);
/* The same in a buffer no larger than its data needs. */
struct sk_buff *skb_copy_fit(const struct sk_buff *skb);
/* The same with room for size bytes after the headroom (size >= len). */
struct sk_buff *skb_copy_room(const struct sk_buff *skb, uint32_t size);
static inline bool skb_cloned(const struct sk_buff *skb) { return skb->shinfo->refcnt > 1; }

static inline uint8_t *skb_end(const struct sk_buff *skb) { return skb->head + skb->shinfo->size; }
/* The bytes in the buffer itself (all of len unless nonlinear). */
static inline uint32_t skb_headlen(const struct sk_buff *skb) { return skb->len - skb->data_len; }
static inline uint8_t *skb_tail(const struct sk_buff *skb) { return skb->data + skb_headlen(skb); }
static inline uint32_t skb_headroom(const struct sk_buff *skb) { return (uint32_t)(skb->data - skb->head); }
static inline uint32_t skb_tailroom(const struct sk_buff *skb) { return (uint32_t)(skb_end(skb) - skb_tail(skb)); }

/* These return NULL (and change nothing) instead of overrunning. */
uint8_t *skb_push(struct sk_buff *skb, uint32_t n);   /* grow at the front */
uint8_t *skb_pull(struct sk_buff *skb, uint32_t n);   /* strip from the front (linear skbs) */
uint8_t *skb_put(struct sk_buff *skb, uint32_t n);    /* grow at the end; returns old tail */
void skb_reserve(struct sk_buff *skb, uint32_t n);    /* only on an empty buffer */
void skb_trim(struct sk_buff *skb, uint32_t len);     /* shrink to len if longer (and linear) */
/* True when at least n bytes follow data (validate before reading a header). */
static inline bool pskb_may_pull(const struct sk_buff *skb, uint32_t n) { return skb->len >= n; } /* received skbs are linear */
/* Copy len bytes from offset off of skb's data, in its buffer or its
 * frags, to `to`: 0, or -EFAULT (nothing copied) past the end. */
int skb_copy_bits(const struct sk_buff *skb, uint32_t off, void *to, uint32_t len);
/* Gather a nonlinear skb's data into one buffer: 0 or -ENOMEM. */
int skb_linearize(struct sk_buff *skb);

static inline void skb_reset_mac_header(struct sk_buff *skb) { skb->mac_header = (uint16_t)(skb->data - skb->head); }
static inline void skb_reset_network_header(struct sk_buff *skb) { skb->network_header = (uint16_t)(skb->data - skb->head); }
static inline void skb_reset_transport_header(struct sk_buff *skb) { skb->transport_header = (uint16_t)(skb->data - skb->head); }
static inline uint8_t *skb_mac_header(const struct sk_buff *skb) { return skb->head + skb->mac_header; }
static inline uint8_t *skb_network_header(const struct sk_buff *skb) { return skb->head + skb->network_header; }
static inline uint8_t *skb_transport_header(const struct sk_buff *skb) { return skb->head + skb->transport_header; }

/* A FIFO of skbs (linked through skb->list). */
struct sk_buff_head {
	struct list_head list;
	uint32_t qlen;
	uint32_t bytes;             /* sum of len: bounded by a socket buffer, so 32 bits (24 B a queue, not 32) */
};
static inline void skb_queue_head_init(struct sk_buff_head *q) { INIT_LIST_HEAD(&q->list); q->qlen = 0; q->bytes = 0; }
void skb_queue_tail(struct sk_buff_head *q, struct sk_buff *skb);
struct sk_buff *skb_dequeue(struct sk_buff_head *q);
void skb_unlink(struct sk_buff *skb, struct sk_buff_head *q);
void skb_queue_purge(struct sk_buff_head *q);

#endif
