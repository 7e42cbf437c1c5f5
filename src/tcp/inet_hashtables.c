/*
 * The TCP lookup tables (Linux: inet_hashtables.c and the port half of
 * inet_connection_sock.c).
 *
 *   ehash  4-tuple -> established sockets and request socks (NEW_SYN_RECV)
 *   lhash  local port -> listeners
 *   bhash  local port -> bind bucket -> the sockets holding that port
 *
 * A bind bucket remembers how it was made: by bind()/listen() (fastreuse
 * >= 0) or by connect()'s ephemeral choice (fastreuse = -1). connect() skips
 * ports whose bucket bind() made, so servers' ports are never borrowed.
 */
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include "core/jhash.h"
#include "core/stack.h"
#include "tcp/tcp.h"

/* Also used by the TCP core; to be declared in tcp.h. */
void inet_unhash(struct sock *sk);
int __inet_inherit_port(const struct sock *listener, struct sock *child);
void inet_hashinfo_destroy(struct stack *st);

#define LHASH_MASK ((1u << TCP_LHASH_BITS) - 1)
#define BHASH_MASK ((1u << TCP_BHASH_BITS) - 1)
#define PERTURB_MASK (sizeof(((struct tcp_hashinfo *)0)->table_perturb) / sizeof(uint32_t) - 1)

struct inet_bind_bucket {
	struct hlist_node node;     /* in hinfo.bhash */
	struct hlist_head owners;   /* sockets, through sk->bind_node */
	uint16_t port;
	int8_t fastreuse;           /* -1: made by connect(); 0/1: by bind() */
};

/* ------------------------------------------------------------------ ehash */

/* Keyed so that a peer cannot aim many tuples at one chain. */
static uint32_t inet_ehashfn(const struct stack *st, uint32_t laddr, uint16_t lport, uint32_t faddr,
			     uint16_t fport)
{
	return jhash_3words(laddr, faddr, (uint32_t)lport << 16 | fport, (uint32_t)st->secrets.ehash_secret.key[0]);
}

static struct hlist_head *ehash_bucket(struct stack *st, const struct sock_common *c)
{
	struct tcp_hashinfo *h = &st->tcp.hinfo;

	return &h->ehash[inet_ehashfn(st, c->laddr, c->lport, c->raddr, c->rport) & h->ehash_mask];
}

/* ehash starts in its embedded buckets. */
void inet_hashinfo_init(struct stack *st)
{
	st->tcp.hinfo.ehash = st->tcp.hinfo.ehash_small;
	st->tcp.hinfo.ehash_mask = (1u << TCP_EHASH_MIN_BITS) - 1;
}

/* Buckets of the old table moved per insert while the table grows: the
 * old one empties within an eighth of its size in inserts, long before the
 * next doubling (which needs twice as many entries again). */
#define EHASH_REHASH_STEP 8

/* Move up to n buckets of the old table into the new; free the old when
 * it is empty. */
static void inet_ehash_rehash_step(struct stack *st, uint32_t n)
{
	struct tcp_hashinfo *h = &st->tcp.hinfo;

	for (; n && h->ehash_old; n--) {
		struct hlist_node *pos, *next;

		hlist_for_each_safe(pos, next, &h->ehash_old[h->ehash_old_next]) {
			struct sock_common *c = hlist_entry(pos, struct sock_common, node);

			hlist_del_init(&c->node);
			hlist_add_head(&c->node, ehash_bucket(st, c));
		}
		if (h->ehash_old_next++ == h->ehash_old_mask) {
			if (h->ehash_old != h->ehash_small)
				free(h->ehash_old);
			h->ehash_old = NULL;
		}
	}
}

void inet_ehash_rehash_all(struct stack *st) { inet_ehash_rehash_step(st, UINT32_MAX); }

/* Start moving into a table twice the size. Amortised O(1) per insert;
 * when memory is short the old table simply stays (longer chains). */
static void inet_ehash_grow(struct stack *st)
{
	struct tcp_hashinfo *h = &st->tcp.hinfo;
	uint32_t old_n = h->ehash_mask + 1;
	struct hlist_head *table;

	inet_ehash_rehash_all(st);  /* a move still under way (not reached in practice) */
	table = calloc(2 * (size_t)old_n, sizeof(*table));
	if (!table)
		return;
	h->ehash_old = h->ehash;
	h->ehash_old_mask = h->ehash_mask;
	h->ehash_old_next = 0;
	h->ehash = table;
	h->ehash_mask = 2 * old_n - 1;
}

/* c must not be hashed yet; a hashed entry is left alone rather than linked twice. */
void inet_ehash_insert(struct stack *st, struct sock_common *c)
{
	struct tcp_hashinfo *h = &st->tcp.hinfo;

	if (!hlist_unhashed(&c->node))
		return;
	/* Two entries a bucket on average before it doubles: chains stay
	 * short, and the table costs 4 to 8 bytes an entry. */
	if (h->ehash_old)
		inet_ehash_rehash_step(st, EHASH_REHASH_STEP);
	else if (h->ehash_count >= 2 * (h->ehash_mask + 1) && h->ehash_mask < (1u << TCP_EHASH_MAX_BITS) - 1)
		inet_ehash_grow(st);
	hlist_add_head(&c->node, ehash_bucket(st, c));
	h->ehash_count++;
}

/* A listener's node is on lhash, never ehash: leave it to inet_listen_unhash. */
void inet_ehash_remove(struct stack *st, struct sock_common *c)
{
	if (hlist_unhashed(&c->node) || c->state == TCP_LISTEN)
		return;
	hlist_del_init(&c->node);
	st->tcp.hinfo.ehash_count--;
}

/* The entry of this 4-tuple on one chain, or NULL. */
static struct sock_common *ehash_chain_find(struct hlist_head *chain, uint32_t saddr, uint16_t sport, uint32_t daddr,
					    uint16_t dport)
{
	struct hlist_node *pos;

	for (pos = chain->first; pos; pos = pos->next) {
		struct sock_common *c = hlist_entry(pos, struct sock_common, node);

		if (c->raddr == saddr && c->rport == sport && c->laddr == daddr && c->lport == dport)
			return c;
	}
	return NULL;
}

/* saddr/sport are the segment's source: our entry's remote end. */
struct sock_common *inet_lookup_established(struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
					    uint16_t dport)
{
	struct tcp_hashinfo *hi = &st->tcp.hinfo;
	uint32_t hash = inet_ehashfn(st, daddr, dport, saddr, sport);
	struct sock_common *c = ehash_chain_find(&hi->ehash[hash & hi->ehash_mask], saddr, sport, daddr, dport);

	if (!c && unlikely(hi->ehash_old)) /* not moved yet: an empty bucket if it was */
		c = ehash_chain_find(&hi->ehash_old[hash & hi->ehash_old_mask], saddr, sport, daddr, dport);
	return c;
}

/* A closing listener's pending requests, found through ehash: a request
 * carries no link to its listener's queue (Linux walks none either; its
 * requests die as their timers see the listener gone). */
void inet_ehash_drop_requests(struct sock *listener)
{
	struct stack *st = listener->st;

	inet_ehash_rehash_all(st);
	for (uint32_t i = 0; listener->rskq->qlen && i <= st->tcp.hinfo.ehash_mask; i++) {
		struct hlist_node *pos, *n;

		hlist_for_each_safe(pos, n, &st->tcp.hinfo.ehash[i]) {
			struct sock_common *c = hlist_entry(pos, struct sock_common, node);
			struct request_sock *req = container_of(c, struct request_sock, c);

			if (c->state == TCP_NEW_SYN_RECV && req->listener == listener)
				inet_csk_reqsk_queue_drop(req);
		}
	}
}

/* ------------------------------------------------------------------ lhash */

static struct hlist_head *lhash_bucket(struct stack *st, uint16_t port)
{
	return &st->tcp.hinfo.lhash[port & LHASH_MASK];
}

void inet_listen_hash(struct sock *sk)
{
	if (hlist_unhashed(&sk->c.node))
		hlist_add_head(&sk->c.node, lhash_bucket(sk->st, sk->c.lport));
	if (sk->transparent) /* the catch-all for every other destination */
		sk->st->tcp.catchall = sk;
}

void inet_listen_unhash(struct sock *sk)
{
	hlist_del_init(&sk->c.node);
	if (sk->st->tcp.catchall == sk)
		sk->st->tcp.catchall = NULL;
}

/* Like the two lhash2 probes of __inet_lookup_listener: a listener bound to
 * daddr wins over one bound to INADDR_ANY. */
struct sock *inet_lookup_listener(struct stack *st, uint32_t daddr, uint16_t dport)
{
	struct sock *wild = NULL;
	struct hlist_node *pos, *n;

	/* Another host's address: only a transparent listener answers. */
	if (st->tcp.catchall && !ip_is_local(st, daddr))
		return st->tcp.catchall;
	hlist_for_each_safe(pos, n, lhash_bucket(st, dport)) {
		struct sock *sk = hlist_entry(pos, struct sock, c.node);

		if (sk->c.state != TCP_LISTEN || sk->c.lport != dport)
			continue;
		if (sk->c.laddr == daddr)
			return sk;
		if (sk->c.laddr == INADDR_ANY && !wild)
			wild = sk;
	}
	/* Our own address keeps its RSTs for closed ports, as Linux's
	 * TPROXY leaves local traffic alone. */
	return wild;
}

static bool in_lhash(struct sock *sk)
{
	struct hlist_node *pos, *n;

	hlist_for_each_safe(pos, n, lhash_bucket(sk->st, sk->c.lport)) {
		if (pos == &sk->c.node)
			return true;
	}
	return false;
}

/* Out of whichever table holds it (Linux: inet_unhash). */
void inet_unhash(struct sock *sk)
{
	if (hlist_unhashed(&sk->c.node))
		return;
	if (in_lhash(sk))
		inet_listen_unhash(sk);
	else
		inet_ehash_remove(sk->st, &sk->c);
}

/* ------------------------------------------------------------------ bhash */

static struct hlist_head *bhash_bucket(struct stack *st, uint16_t port)
{
	return &st->tcp.hinfo.bhash[port & BHASH_MASK];
}

static struct inet_bind_bucket *inet_bind_bucket_find(struct stack *st, uint16_t port)
{
	struct hlist_node *pos, *n;

	hlist_for_each_safe(pos, n, bhash_bucket(st, port)) {
		struct inet_bind_bucket *tb = hlist_entry(pos, struct inet_bind_bucket, node);

		if (tb->port == port)
			return tb;
	}
	return NULL;
}

static struct inet_bind_bucket *inet_bind_bucket_create(struct stack *st, uint16_t port)
{
	struct inet_bind_bucket *tb = calloc(1, sizeof(*tb));

	if (!tb)
		return NULL;
	tb->port = port;
	hlist_add_head(&tb->node, bhash_bucket(st, port));
	return tb;
}

static void inet_bind_bucket_destroy(struct inet_bind_bucket *tb)
{
	if (tb->owners.first)
		return;
	hlist_del_init(&tb->node);
	free(tb);
}

static void inet_bind_hash(struct sock *sk, struct inet_bind_bucket *tb, uint16_t port)
{
	sk->c.lport = port;
	hlist_add_head(&sk->bind_node, &tb->owners);
	sk->in_bhash = true;
}

/* Wildcard-aware address equality (ipv4_rcv_saddr_equal with match_wildcard). */
static bool rcv_saddr_equal(uint32_t a, uint32_t b)
{
	return a == b || a == INADDR_ANY || b == INADDR_ANY;
}

/*
 * Does sk clash with an owner of tb (inet_csk_bind_conflict without
 * SO_REUSEPORT)? Two SO_REUSEADDR sockets may share when the other is not
 * listening - unless !relax, as when bind(0) looks for a free port.
 * Otherwise they clash unless their addresses differ and neither is the
 * wildcard.
 */
static bool inet_csk_bind_conflict(const struct sock *sk, const struct inet_bind_bucket *tb, bool relax)
{
	struct hlist_node *pos, *n;

	hlist_for_each_safe(pos, n, (struct hlist_head *)&tb->owners) {
		const struct sock *sk2 = hlist_entry(pos, struct sock, bind_node);

		if (sk2 == sk || !rcv_saddr_equal(sk->c.laddr, sk2->c.laddr))
			continue;
		if (sk->reuseaddr && sk2->reuseaddr && sk2->c.state != TCP_LISTEN) {
			if (!relax)
				return true;
		} else {
			return true;
		}
	}
	return false;
}

/* A bucket made by bind() stays so; bind() joining a connect() bucket
 * without SO_REUSEADDR claims it (inet_csk_update_fastreuse). */
static void inet_csk_update_fastreuse(struct inet_bind_bucket *tb, const struct sock *sk)
{
	bool reuse = sk->reuseaddr && sk->c.state != TCP_LISTEN;

	if (!tb->owners.first)
		tb->fastreuse = reuse;
	else if (!reuse)
		tb->fastreuse = 0;
}

static bool local_port_range(const struct stack *st, int *low, int *high)
{
	*low = (int)st->sysctl.ip_local_port_range_lo;
	*high = (int)st->sysctl.ip_local_port_range_hi;
	return *low <= *high;
}

/* One parity pass of inet_csk_find_open_port: the port, or 0. */
static uint16_t find_open_port_scan(struct sock *sk, int low, int high, uint32_t remaining, uint32_t offset,
				    struct inet_bind_bucket **tb_ret)
{
	int port = low + (int)offset;

	for (uint32_t i = 0; i < remaining; i += 2, port += 2) {
		struct inet_bind_bucket *tb;

		if (port >= high)
			port -= (int)remaining;
		tb = inet_bind_bucket_find(sk->st, (uint16_t)port);
		if (!tb || !inet_csk_bind_conflict(sk, tb, false)) {
			*tb_ret = tb;
			return (uint16_t)port;
		}
	}
	return 0;
}

/*
 * bind(0): a random start, odd offsets first (connect() starts with even
 * ones), then even. With SO_REUSEADDR the lower half of the range is tried
 * before the upper half, as Linux leaves the upper half to connect().
 */
static uint16_t inet_csk_find_open_port(struct sock *sk, struct inet_bind_bucket **tb_ret)
{
	int attempt_half = sk->reuseaddr ? 1 : 0;
	int lo, hi;

	if (!local_port_range(sk->st, &lo, &hi))
		return 0;
	for (;;) {
		int low = lo, high = hi + 1;   /* [low, high) */
		uint32_t remaining, offset;
		uint16_t port;

		if (high - low < 4)
			attempt_half = 0;
		if (attempt_half) {
			int half = low + (((high - low) >> 2) << 1);

			if (attempt_half == 1)
				high = half;
			else
				low = half;
		}
		remaining = (uint32_t)(high - low);
		if (remaining > 1)
			remaining &= ~1u;
		offset = prng_below(&sk->st->rng, remaining) | 1u;
		port = find_open_port_scan(sk, low, high, remaining, offset, tb_ret);
		if (!port)
			port = find_open_port_scan(sk, low, high, remaining, offset - 1, tb_ret);
		if (port)
			return port;
		if (attempt_half != 1)
			return 0;
		attempt_half = 2;
	}
}

/* bind()/listen(): take port (0: pick one). 0, -EADDRINUSE or -ENOMEM. */
int inet_csk_get_port(struct sock *sk, uint16_t port)
{
	struct inet_bind_bucket *tb;

	if (!port) {
		port = inet_csk_find_open_port(sk, &tb);
		if (!port)
			return -EADDRINUSE;
	} else {
		tb = inet_bind_bucket_find(sk->st, port);
		if (tb && inet_csk_bind_conflict(sk, tb, true))
			return -EADDRINUSE;
	}
	if (!tb) {
		tb = inet_bind_bucket_create(sk->st, port);
		if (!tb)
			return -ENOMEM;
	}
	inet_csk_update_fastreuse(tb, sk);
	if (!sk->in_bhash)
		inet_bind_hash(sk, tb, port);
	return 0;
}

/* Give up the port. c.lport is kept (Linux keeps inet_sport too), so
 * getsockname() still reports it; in_bhash says whether it is held. */
void inet_put_port(struct sock *sk)
{
	struct inet_bind_bucket *tb;

	if (!sk->in_bhash)
		return;
	tb = inet_bind_bucket_find(sk->st, sk->c.lport);
	hlist_del_init(&sk->bind_node);
	sk->in_bhash = false;
	if (tb)
		inet_bind_bucket_destroy(tb);
}

/* A passive child shares its listener's port with no conflict check; a
 * transparent listener's child keeps the port it was reached on, in that
 * port's bucket (as Linux's __inet_inherit_port for TPROXY). */
int __inet_inherit_port(const struct sock *listener, struct sock *child)
{
	uint16_t port = listener->transparent ? child->c.lport : listener->c.lport;
	struct inet_bind_bucket *tb = inet_bind_bucket_find(listener->st, port);

	if (child->in_bhash)
		return 0;
	if (!tb && port != listener->c.lport)
		tb = inet_bind_bucket_create(listener->st, port);
	if (!tb)
		return -ENOENT;
	inet_bind_hash(child, tb, port);
	return 0;
}

/* Free the buckets left at stack teardown (their sockets are gone). */
void inet_hashinfo_destroy(struct stack *st)
{
	if (st->tcp.hinfo.ehash_old && st->tcp.hinfo.ehash_old != st->tcp.hinfo.ehash_small)
		free(st->tcp.hinfo.ehash_old);
	st->tcp.hinfo.ehash_old = NULL;
	if (st->tcp.hinfo.ehash != st->tcp.hinfo.ehash_small)
		free(st->tcp.hinfo.ehash);
	st->tcp.hinfo.ehash = NULL;
	for (uint32_t i = 0; i <= BHASH_MASK; i++) {
		struct hlist_node *pos, *n;

		hlist_for_each_safe(pos, n, &st->tcp.hinfo.bhash[i]) {
			struct inet_bind_bucket *tb = hlist_entry(pos, struct inet_bind_bucket, node);

			hlist_del_init(&tb->node);
			free(tb);
		}
	}
}

/* ---------------------------------------------------------- connect ports */

/* Is sk's 4-tuple with this local port free? */
static bool inet_tuple_free(struct sock *sk, uint16_t lport)
{
	struct sock_common *c = inet_lookup_established(sk->st, sk->c.raddr, sk->c.rport, sk->c.laddr, lport);

	/* teardown hook: a TIME-WAIT minisock may hand its tuple over
	 * (tcp_twsk_unique counts TWRecycled and frees it). */
	if (c && c->state == TCP_TIME_WAIT)
		return tcp_twsk_unique(sk, container_of(c, struct tcp_timewait_sock, c));
	return !c;
}

/* The port is held already: only the 4-tuple must be unique
 * (__inet_check_established). */
static int inet_check_established(struct sock *sk)
{
	if (!inet_tuple_free(sk, sk->c.lport))
		return -EADDRNOTAVAIL;
	inet_ehash_insert(sk->st, &sk->c);
	return 0;
}

/* May connect() use port? Sets *tb to its bucket (NULL: none yet). */
static bool hash_connect_port_ok(struct sock *sk, uint16_t port, struct inet_bind_bucket **tb)
{
	*tb = inet_bind_bucket_find(sk->st, port);
	/* teardown hook: a minisock holds no bucket, so a port without one
	 * may still have a tuple in TIME-WAIT. */
	if (!*tb)
		return inet_tuple_free(sk, port);
	if ((*tb)->fastreuse >= 0)
		return false;
	return inet_tuple_free(sk, port);
}

static int hash_connect_take(struct sock *sk, struct inet_bind_bucket *tb, uint16_t port)
{
	if (!tb) {
		tb = inet_bind_bucket_create(sk->st, port);
		if (!tb)
			return -ENOMEM;
		tb->fastreuse = -1;
	}
	inet_bind_hash(sk, tb, port);
	inet_ehash_insert(sk->st, &sk->c);
	return 0;
}

/*
 * RFC 6056 algorithm 4 as __inet_hash_connect: the start comes from a
 * keyed hash of the destination plus a per-slot perturbation that grows with
 * each use, so successive connections to one place get fresh ports while
 * others cannot predict them. Even offsets (low's parity) are tried first.
 */
int inet_hash_connect(struct sock *sk)
{
	struct stack *st = sk->st;
	uint64_t port_offset;
	uint32_t remaining, offset, index;
	int low, high;

	if (sk->in_bhash)
		return inet_check_established(sk);
	if (!local_port_range(st, &low, &high))
		return -EADDRNOTAVAIL;
	high++;
	remaining = (uint32_t)(high - low);
	if (remaining > 1)
		remaining &= ~1u;
	port_offset = secure_ipv4_port_ephemeral(st, sk->c.laddr, sk->c.raddr, sk->c.rport);
	index = (uint32_t)(port_offset & PERTURB_MASK);
	offset = (st->tcp.hinfo.table_perturb[index] + (uint32_t)(port_offset >> 32)) % remaining;
	offset &= ~1u;
	for (;;) {
		int port = low + (int)offset;

		for (uint32_t i = 0; i < remaining; i += 2, port += 2) {
			struct inet_bind_bucket *tb;
			uint32_t bump;
			int err;

			if (port >= high)
				port -= (int)remaining;
			if (!hash_connect_port_ok(sk, (uint16_t)port, &tb))
				continue;
			err = hash_connect_take(sk, tb, (uint16_t)port);
			if (err)
				return err;
			/* A little randomness in the next start, most when
			 * ports are easy to find. */
			bump = prng_below(&st->rng, 8) * 2;
			if (bump < i)
				bump = i;
			st->tcp.hinfo.table_perturb[index] += bump + 2;
			return 0;
		}
		offset++;
		if (!(offset & 1) || remaining <= 1)
			return -EADDRNOTAVAIL;
	}
}
