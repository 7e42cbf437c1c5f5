/* The TCP lookup tables: ehash, lhash, the bind hash with Linux's conflict
 * rules, bind(0)'s and connect()'s port choice. */
#include <errno.h>
#include <arpa/inet.h>
#include "../test.h"
#include "core/stack.h"

/* Not in tcp.h yet (inet_hashtables.c). */
int __inet_inherit_port(const struct sock *listener, struct sock *child);

struct env {
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct stack *st;
};

static void env_init(struct env *e, uint64_t seed)
{
	struct synack_sim_config wc = { .seed = 1 };
	struct synack_stack_config sc = { .name = "h", .seeded = true, .seed = seed };
	struct synack_if_config ic = { .prefix_len = 24 };

	e->clk = synack_clock_new_virtual(1000000000ULL);
	sc.clock = e->clk;
	synack_sim_wire_new(e->clk, &wc, &e->wire);
	synack_stack_new(&sc, &e->st);
	ic.addr.s_addr = inet_addr("10.0.0.1");
	synack_if_up(e->st, synack_sim_wire_end(e->wire, 0), &ic);
}

static void env_free(struct env *e)
{
	synack_stack_free(e->st);
	synack_sim_wire_free(e->wire);
	synack_clock_free(e->clk);
}

static uint32_t A(const char *s) { return inet_addr(s); }

static struct sock *mk(struct stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	struct sock *sk = sk_alloc(st);

	sk->c.laddr = laddr;
	sk->c.lport = lport;
	sk->c.raddr = raddr;
	sk->c.rport = rport;
	return sk;
}

static void set_range(struct stack *st, long lo, long hi)
{
	synack_sysctl_set(st, "net.ipv4.ip_local_port_range_lo", lo);
	synack_sysctl_set(st, "net.ipv4.ip_local_port_range_hi", hi);
}

#define NTUPLES 5000

TEST(ehash_insert_lookup_remove_many)
{
	struct env e;
	static struct sock *sks[NTUPLES];
	uint32_t laddr = A("10.0.0.1");

	env_init(&e, 7);
	for (int i = 0; i < NTUPLES; i++) {
		uint32_t raddr = htonl(ntohl(A("10.0.1.0")) + (uint32_t)(i % 97));

		sks[i] = mk(e.st, laddr, (uint16_t)(1000 + i / 97), raddr, (uint16_t)(80 + i % 3));
		inet_ehash_insert(e.st, &sks[i]->c);
	}
	CHECK_EQ(e.st->tcp.hinfo.ehash_count, NTUPLES);
	for (int i = 0; i < NTUPLES; i++) {
		struct sock_common *c = &sks[i]->c;

		CHECK(inet_lookup_established(e.st, c->raddr, c->rport, c->laddr, c->lport) == c);
		/* The reverse direction is another tuple. */
		CHECK(inet_lookup_established(e.st, c->laddr, c->lport, c->raddr, c->rport) == NULL);
	}
	/* Inserting again does not double-link. */
	inet_ehash_insert(e.st, &sks[0]->c);
	CHECK_EQ(e.st->tcp.hinfo.ehash_count, NTUPLES);
	for (int i = 0; i < NTUPLES; i += 2)
		inet_ehash_remove(e.st, &sks[i]->c);
	CHECK_EQ(e.st->tcp.hinfo.ehash_count, NTUPLES / 2);
	for (int i = 0; i < NTUPLES; i++) {
		struct sock_common *c = &sks[i]->c;
		struct sock_common *got = inet_lookup_established(e.st, c->raddr, c->rport, c->laddr, c->lport);

		CHECK(got == (i % 2 ? c : NULL));
	}
	/* Removing twice is harmless. */
	inet_ehash_remove(e.st, &sks[0]->c);
	CHECK_EQ(e.st->tcp.hinfo.ehash_count, NTUPLES / 2);
	for (int i = 0; i < NTUPLES; i++)
		sk_free(sks[i]);
	CHECK_EQ(e.st->tcp.hinfo.ehash_count, 0);
	env_free(&e);
}

/* Past two entries per bucket the table doubles, every entry stays findable,
 * the chains stay short, and emptying it keeps the grown table. */
TEST(ehash_grows_with_its_entries)
{
	enum { N = 40000 };
	struct env e;
	static struct sock *sks[N];
	uint32_t laddr = A("10.0.0.1"), longest = 0;

	env_init(&e, 9);
	for (int i = 0; i < N; i++) {
		uint32_t raddr = htonl(ntohl(A("10.1.0.0")) + (uint32_t)(i / 1000));

		sks[i] = mk(e.st, laddr, 8080, raddr, (uint16_t)(10000 + i % 1000));
		inet_ehash_insert(e.st, &sks[i]->c);
		CHECK(e.st->tcp.hinfo.ehash_count <= 2 * (e.st->tcp.hinfo.ehash_mask + 1));
	}
	CHECK_EQ(e.st->tcp.hinfo.ehash_mask + 1, 32768u); /* 4096 doubled three times */
	for (uint32_t b = 0; b <= e.st->tcp.hinfo.ehash_mask; b++) {
		uint32_t len = 0;

		for (struct hlist_node *p = e.st->tcp.hinfo.ehash[b].first; p; p = p->next)
			len++;
		longest = len > longest ? len : longest;
	}
	CHECK(longest <= 12);
	for (int i = 0; i < N; i++)
		CHECK(inet_lookup_established(e.st, sks[i]->c.raddr, sks[i]->c.rport, laddr, 8080) == &sks[i]->c);
	for (int i = 0; i < N; i++) {
		inet_ehash_remove(e.st, &sks[i]->c);
		sk_free(sks[i]);
	}
	CHECK_EQ(e.st->tcp.hinfo.ehash_count, 0);
	env_free(&e);
}

/* The entries move to the doubled table a few buckets per insert: while
 * they do, every entry is found in whichever table holds it, one still in
 * the old table can be removed, and the old table goes once it is empty
 * (4096 buckets at 8 per insert: 512 inserts). */
TEST(ehash_grows_a_few_buckets_per_insert)
{
	enum { N = 8192 + 600 };
	struct env e;
	static struct sock *sks[N];
	uint32_t laddr = A("10.0.0.1");
	int i, removed = 0;

	env_init(&e, 5);
	for (i = 0; i < 8192; i++) {
		sks[i] = mk(e.st, laddr, 443, htonl(ntohl(A("10.2.0.0")) + (uint32_t)i), 7000);
		inet_ehash_insert(e.st, &sks[i]->c);
	}
	CHECK(e.st->tcp.hinfo.ehash_old == NULL);
	sks[i] = mk(e.st, laddr, 443, htonl(ntohl(A("10.2.0.0")) + (uint32_t)i), 7000);
	inet_ehash_insert(e.st, &sks[i]->c);          /* the 8193rd: the table doubles */
	i++;
	REQUIRE(e.st->tcp.hinfo.ehash_old != NULL);
	CHECK_EQ(e.st->tcp.hinfo.ehash_mask + 1, 8192u);
	CHECK_EQ(e.st->tcp.hinfo.ehash_old_next, 0u);
	for (int k = 0; k < i; k++)
		CHECK(inet_lookup_established(e.st, sks[k]->c.raddr, 7000, laddr, 443) == &sks[k]->c);
	/* Entries still in the old table leave it as any other. */
	for (int k = 0; k < 100; k++) {
		inet_ehash_remove(e.st, &sks[k]->c);
		CHECK(inet_lookup_established(e.st, sks[k]->c.raddr, 7000, laddr, 443) == NULL);
		removed++;
	}
	for (; i < N && e.st->tcp.hinfo.ehash_old; i++) {
		sks[i] = mk(e.st, laddr, 443, htonl(ntohl(A("10.2.0.0")) + (uint32_t)i), 7000);
		inet_ehash_insert(e.st, &sks[i]->c);
		CHECK(e.st->tcp.hinfo.ehash_old == NULL || e.st->tcp.hinfo.ehash_old_next == 8u * (uint32_t)(i - 8192));
	}
	CHECK(e.st->tcp.hinfo.ehash_old == NULL);
	CHECK_EQ(i, 8193 + 512);
	for (int k = removed; k < i; k++)
		CHECK(inet_lookup_established(e.st, sks[k]->c.raddr, 7000, laddr, 443) == &sks[k]->c);
	CHECK_EQ(e.st->tcp.hinfo.ehash_count, (uint32_t)(i - removed));
	for (int k = 0; k < i; k++) {
		inet_ehash_remove(e.st, &sks[k]->c);
		sk_free(sks[k]);
	}
	env_free(&e);
}

TEST(ehash_spreads_and_holds_request_socks)
{
	struct env e;
	struct request_sock *req = calloc(1, sizeof(*req));
	static struct sock *sks[512];
	int used = 0;

	env_init(&e, 8);
	for (int i = 0; i < 512; i++) {
		sks[i] = mk(e.st, A("10.0.0.1"), 80, A("10.0.0.2"), (uint16_t)(40000 + i));
		inet_ehash_insert(e.st, &sks[i]->c);
	}
	for (uint32_t b = 0; b <= e.st->tcp.hinfo.ehash_mask; b++)
		used += e.st->tcp.hinfo.ehash[b].first != NULL;
	CHECK(used > 400);       /* a keyed hash, not one long chain */

	req->c.laddr = A("10.0.0.1");
	req->c.lport = 80;
	req->c.raddr = A("10.0.0.3");
	req->c.rport = 5555;
	req->c.state = TCP_NEW_SYN_RECV;
	inet_ehash_insert(e.st, &req->c);
	struct sock_common *c = inet_lookup_established(e.st, A("10.0.0.3"), 5555, A("10.0.0.1"), 80);
	CHECK(c == &req->c);
	CHECK_EQ(c->state, TCP_NEW_SYN_RECV);
	CHECK(inet_lookup_established(e.st, A("10.0.0.3"), 5556, A("10.0.0.1"), 80) == NULL);
	inet_ehash_remove(e.st, &req->c);
	CHECK(inet_lookup_established(e.st, A("10.0.0.3"), 5555, A("10.0.0.1"), 80) == NULL);
	free(req);
	for (int i = 0; i < 512; i++)
		sk_free(sks[i]);
	env_free(&e);
}

TEST(ehash_key_differs_per_seed)
{
	struct env a, b;
	struct sock *sa, *sb;
	int same = 0;

	env_init(&a, 1);
	env_init(&b, 2);
	for (int i = 0; i < 64; i++) {
		sa = mk(a.st, A("10.0.0.1"), 80, A("10.0.0.2"), (uint16_t)(1000 + i));
		sb = mk(b.st, A("10.0.0.1"), 80, A("10.0.0.2"), (uint16_t)(1000 + i));
		inet_ehash_insert(a.st, &sa->c);
		inet_ehash_insert(b.st, &sb->c);
		same += sa->c.node.pprev - (struct hlist_node **)a.st->tcp.hinfo.ehash ==
			sb->c.node.pprev - (struct hlist_node **)b.st->tcp.hinfo.ehash;
		sk_free(sa);
		sk_free(sb);
	}
	CHECK(same < 8);
	env_free(&a);
	env_free(&b);
}

TEST(listener_exact_beats_wildcard)
{
	struct env e;
	struct sock *any, *exact, *other;

	env_init(&e, 3);
	any = mk(e.st, 0, 80, 0, 0);
	exact = mk(e.st, A("10.0.0.1"), 80, 0, 0);
	other = mk(e.st, 0, 80 + (1 << TCP_LHASH_BITS), 0, 0);   /* same chain, other port */
	any->c.state = exact->c.state = other->c.state = TCP_LISTEN;
	CHECK(inet_lookup_listener(e.st, A("10.0.0.1"), 80) == NULL);
	inet_listen_hash(any);
	inet_listen_hash(other);
	CHECK(inet_lookup_listener(e.st, A("10.0.0.1"), 80) == any);
	inet_listen_hash(exact);
	CHECK(inet_lookup_listener(e.st, A("10.0.0.1"), 80) == exact);
	CHECK(inet_lookup_listener(e.st, A("10.0.0.9"), 80) == any);
	CHECK(inet_lookup_listener(e.st, A("10.0.0.1"), 81) == NULL);
	CHECK(inet_lookup_listener(e.st, A("10.0.0.1"), 80 + (1 << TCP_LHASH_BITS)) == other);
	inet_listen_unhash(exact);
	CHECK(inet_lookup_listener(e.st, A("10.0.0.1"), 80) == any);
	/* The ehash removal a CLOSE transition does leaves a listener alone. */
	inet_ehash_remove(e.st, &any->c);
	CHECK(inet_lookup_listener(e.st, A("10.0.0.1"), 80) == any);
	inet_listen_unhash(any);
	CHECK(inet_lookup_listener(e.st, A("10.0.0.1"), 80) == NULL);
	any->c.state = exact->c.state = TCP_CLOSE;
	sk_free(any);
	sk_free(exact);
	sk_free(other);   /* still hashed: sk_free unhashes */
	CHECK(inet_lookup_listener(e.st, A("10.0.0.1"), 80 + (1 << TCP_LHASH_BITS)) == NULL);
	env_free(&e);
}

struct bind_case {
	const char *a1, *a2;
	bool reuse1, reuse2;
	uint8_t state1;             /* the first owner's state */
	int want;
};

/* inet_csk_bind_conflict without SO_REUSEPORT. */
static const struct bind_case bind_cases[] = {
	{ "0.0.0.0", "0.0.0.0", false, false, TCP_CLOSE, -EADDRINUSE },
	{ "0.0.0.0", "0.0.0.0", true, true, TCP_CLOSE, 0 },
	{ "0.0.0.0", "0.0.0.0", true, true, TCP_LISTEN, -EADDRINUSE },
	{ "0.0.0.0", "0.0.0.0", true, true, TCP_ESTABLISHED, 0 },
	{ "0.0.0.0", "0.0.0.0", true, false, TCP_CLOSE, -EADDRINUSE },
	{ "0.0.0.0", "0.0.0.0", false, true, TCP_CLOSE, -EADDRINUSE },
	{ "10.0.0.1", "10.0.0.2", false, false, TCP_CLOSE, 0 },
	{ "10.0.0.1", "10.0.0.2", false, false, TCP_LISTEN, 0 },
	{ "10.0.0.1", "0.0.0.0", false, false, TCP_CLOSE, -EADDRINUSE },
	{ "0.0.0.0", "10.0.0.1", false, false, TCP_CLOSE, -EADDRINUSE },
	{ "10.0.0.1", "10.0.0.1", false, false, TCP_CLOSE, -EADDRINUSE },
	{ "10.0.0.1", "10.0.0.1", true, true, TCP_CLOSE, 0 },
	{ "10.0.0.1", "0.0.0.0", true, true, TCP_CLOSE, 0 },
	{ "10.0.0.1", "0.0.0.0", true, true, TCP_LISTEN, -EADDRINUSE },
};

TEST(bind_conflict_table)
{
	struct env e;

	env_init(&e, 4);
	for (size_t i = 0; i < sizeof(bind_cases) / sizeof(bind_cases[0]); i++) {
		const struct bind_case *bc = &bind_cases[i];
		struct sock *s1 = mk(e.st, A(bc->a1), 0, 0, 0), *s2 = mk(e.st, A(bc->a2), 0, 0, 0);
		int got;

		s1->reuseaddr = bc->reuse1;
		s2->reuseaddr = bc->reuse2;
		CHECK_EQ(inet_csk_get_port(s1, 5000), 0);
		s1->c.state = bc->state1;
		got = inet_csk_get_port(s2, 5000);
		if (got != bc->want)
			fprintf(stderr, "bind case %zu: got %d want %d\n", i, got, bc->want);
		CHECK_EQ(got, bc->want);
		CHECK_EQ(s2->in_bhash, got == 0);
		s1->c.state = TCP_CLOSE;
		sk_free(s1);
		sk_free(s2);
	}
	/* Everything released: the port is free again. */
	for (uint32_t b = 0; b < (1u << TCP_BHASH_BITS); b++)
		CHECK(e.st->tcp.hinfo.bhash[b].first == NULL);
	env_free(&e);
}

TEST(bind_put_port_and_relisten_check)
{
	struct env e;
	struct sock *s1, *s2;

	env_init(&e, 5);
	s1 = mk(e.st, 0, 0, 0, 0);
	s2 = mk(e.st, 0, 0, 0, 0);
	s1->reuseaddr = s2->reuseaddr = true;
	CHECK_EQ(inet_csk_get_port(s1, 6000), 0);
	CHECK_EQ(inet_csk_get_port(s2, 6000), 0);
	CHECK_EQ(s1->c.lport, 6000);
	/* s1 may listen (s2 is not listening); then s2 may not. */
	CHECK_EQ(inet_csk_get_port(s1, 6000), 0);
	s1->c.state = TCP_LISTEN;
	CHECK_EQ(inet_csk_get_port(s2, 6000), -EADDRINUSE);
	s1->c.state = TCP_CLOSE;
	inet_put_port(s1);
	CHECK(!s1->in_bhash);
	CHECK_EQ(s1->c.lport, 6000);   /* kept for getsockname, as inet_sport */
	inet_put_port(s1);             /* twice is harmless */
	s2->reuseaddr = false;
	inet_put_port(s2);
	s1->reuseaddr = false;
	CHECK_EQ(inet_csk_get_port(s1, 6000), 0);
	CHECK_EQ(inet_csk_get_port(s2, 6000), -EADDRINUSE);
	/* A child takes its listener's port without a conflict check. */
	CHECK_EQ(__inet_inherit_port(s1, s2), 0);
	CHECK(s2->in_bhash);
	CHECK_EQ(s2->c.lport, 6000);
	sk_free(s1);
	sk_free(s2);
	env_free(&e);
}

TEST(bind0_prefers_odd_ports_in_range)
{
	struct env e;
	static struct sock *sks[101];
	bool seen[100] = { false };

	env_init(&e, 6);
	set_range(e.st, 40000, 40099);
	for (int i = 0; i < 100; i++) {
		sks[i] = mk(e.st, 0, 0, 0, 0);
		REQUIRE(inet_csk_get_port(sks[i], 0) == 0);
		uint16_t p = sks[i]->c.lport;

		CHECK(p >= 40000 && p <= 40099);
		CHECK(!seen[p - 40000]);
		seen[p - 40000] = true;
		/* all 50 odd ports go before any even one */
		CHECK_EQ(p & 1, i < 50);
	}
	sks[100] = mk(e.st, 0, 0, 0, 0);
	CHECK_EQ(inet_csk_get_port(sks[100], 0), -EADDRINUSE);
	CHECK(!sks[100]->in_bhash);
	for (int i = 0; i <= 100; i++)
		sk_free(sks[i]);
	env_free(&e);
}

TEST(bind0_reuseaddr_tries_lower_half_first_and_never_shares)
{
	struct env e;
	static struct sock *sks[100];

	env_init(&e, 9);
	set_range(e.st, 40000, 40099);
	for (int i = 0; i < 100; i++) {
		sks[i] = mk(e.st, 0, 0, 0, 0);
		sks[i]->reuseaddr = true;
		REQUIRE(inet_csk_get_port(sks[i], 0) == 0);
		uint16_t p = sks[i]->c.lport;

		/* [40000, 40050) first (odd, then even), then the rest. */
		CHECK_EQ(p < 40050, i < 50);
		if (i < 25)
			CHECK(p & 1);
	}
	for (int i = 0; i < 100; i++) {
		for (int j = 0; j < i; j++)
			CHECK(sks[i]->c.lport != sks[j]->c.lport);
	}
	for (int i = 0; i < 100; i++)
		sk_free(sks[i]);
	env_free(&e);
}

TEST(bind0_random_start_depends_on_seed)
{
	struct env a, b, c;
	struct sock *sa, *sb, *sc;

	env_init(&a, 11);
	env_init(&b, 11);
	env_init(&c, 12);
	sa = mk(a.st, 0, 0, 0, 0);
	sb = mk(b.st, 0, 0, 0, 0);
	sc = mk(c.st, 0, 0, 0, 0);
	CHECK_EQ(inet_csk_get_port(sa, 0), 0);
	CHECK_EQ(inet_csk_get_port(sb, 0), 0);
	CHECK_EQ(inet_csk_get_port(sc, 0), 0);
	CHECK_EQ(sa->c.lport, sb->c.lport);
	CHECK(sa->c.lport >= 32768 && sa->c.lport <= 60999 && (sa->c.lport & 1));
	CHECK(sc->c.lport & 1);
	sk_free(sa);
	sk_free(sb);
	sk_free(sc);
	env_free(&a);
	env_free(&b);
	env_free(&c);
}

/* A socket about to connect from 10.0.0.1 to daddr:dport, unbound. */
static struct sock *mk_conn(struct stack *st, const char *daddr, uint16_t dport)
{
	return mk(st, A("10.0.0.1"), 0, A(daddr), dport);
}

/* What __inet_hash_connect's first probe is for this destination. */
static uint16_t first_probe(struct stack *st, uint32_t daddr, uint16_t dport, int low, int high)
{
	uint64_t off = secure_ipv4_port_ephemeral(st, A("10.0.0.1"), daddr, dport);
	uint32_t remaining = (uint32_t)(high + 1 - low) & ~1u;
	uint32_t o = (st->tcp.hinfo.table_perturb[off & 255] + (uint32_t)(off >> 32)) % remaining;

	return (uint16_t)(low + (int)(o & ~1u));
}

TEST(connect_port_choice_follows_rfc6056_and_is_deterministic)
{
	struct env a, b;
	struct sock *sa[4], *sb[4];

	env_init(&a, 21);
	env_init(&b, 21);
	for (int i = 0; i < 4; i++) {
		uint16_t want = first_probe(a.st, A("10.0.0.2"), 80, 32768, 60999);

		sa[i] = mk_conn(a.st, "10.0.0.2", 80);
		sb[i] = mk_conn(b.st, "10.0.0.2", 80);
		CHECK_EQ(inet_hash_connect(sa[i]), 0);
		CHECK_EQ(inet_hash_connect(sb[i]), 0);
		/* The start is free, so it is taken; the slot's perturbation
		 * moves on, so the next connection starts elsewhere. */
		CHECK_EQ(sa[i]->c.lport, want);
		CHECK_EQ(sa[i]->c.lport % 2, 0);
		CHECK_EQ(sa[i]->c.lport, sb[i]->c.lport);
		CHECK(sa[i]->in_bhash);
		CHECK(inet_lookup_established(a.st, A("10.0.0.2"), 80, A("10.0.0.1"), sa[i]->c.lport) == &sa[i]->c);
	}
	CHECK(sa[0]->c.lport != sa[1]->c.lport);
	for (int i = 0; i < 4; i++) {
		sk_free(sa[i]);
		sk_free(sb[i]);
	}
	env_free(&a);
	env_free(&b);
}

TEST(connect_even_first_then_odd_then_exhausted)
{
	struct env e;
	struct sock *sks[11], *other;

	env_init(&e, 22);
	set_range(e.st, 40000, 40009);
	for (int i = 0; i < 10; i++) {
		sks[i] = mk_conn(e.st, "10.0.0.2", 80);
		REQUIRE(inet_hash_connect(sks[i]) == 0);
		CHECK(sks[i]->c.lport >= 40000 && sks[i]->c.lport <= 40009);
		CHECK_EQ(sks[i]->c.lport % 2, i < 5 ? 0 : 1);
	}
	sks[10] = mk_conn(e.st, "10.0.0.2", 80);
	CHECK_EQ(inet_hash_connect(sks[10]), -EADDRNOTAVAIL);
	CHECK(!sks[10]->in_bhash);
	CHECK(hlist_unhashed(&sks[10]->c.node));
	/* Another destination may reuse connect()'s ports: the tuples differ. */
	other = mk_conn(e.st, "10.0.0.2", 81);
	CHECK_EQ(inet_hash_connect(other), 0);
	sk_free(other);
	for (int i = 0; i <= 10; i++)
		sk_free(sks[i]);
	env_free(&e);
}

TEST(connect_skips_ports_bind_made)
{
	struct env e;
	struct sock *bound, *sks[4];

	env_init(&e, 23);
	set_range(e.st, 40000, 40003);
	bound = mk(e.st, 0, 0, 0, 0);
	CHECK_EQ(inet_csk_get_port(bound, 40002), 0);
	for (int i = 0; i < 3; i++) {
		sks[i] = mk_conn(e.st, "10.0.0.2", 80);
		REQUIRE(inet_hash_connect(sks[i]) == 0);
		CHECK(sks[i]->c.lport != 40002);
	}
	sks[3] = mk_conn(e.st, "10.0.0.3", 80);
	CHECK_EQ(inet_hash_connect(sks[3]), 0);   /* other destination: connect's ports */
	CHECK(sks[3]->c.lport != 40002);
	sk_free(bound);
	for (int i = 0; i < 4; i++)
		sk_free(sks[i]);
	env_free(&e);
}

TEST(connect_from_bound_port_checks_only_the_tuple)
{
	struct env e;
	struct sock *s1, *s2;

	env_init(&e, 24);
	s1 = mk(e.st, A("10.0.0.1"), 0, 0, 0);
	s2 = mk(e.st, A("10.0.0.1"), 0, 0, 0);
	s1->reuseaddr = s2->reuseaddr = true;
	CHECK_EQ(inet_csk_get_port(s1, 7000), 0);
	CHECK_EQ(inet_csk_get_port(s2, 7000), 0);
	s1->c.raddr = s2->c.raddr = A("10.0.0.2");
	s1->c.rport = s2->c.rport = 80;
	CHECK_EQ(inet_hash_connect(s1), 0);
	CHECK_EQ(s1->c.lport, 7000);
	CHECK_EQ(inet_hash_connect(s2), -EADDRNOTAVAIL);
	CHECK(hlist_unhashed(&s2->c.node));
	s2->c.rport = 81;
	CHECK_EQ(inet_hash_connect(s2), 0);
	CHECK_EQ(e.st->tcp.hinfo.ehash_count, 2);
	sk_free(s1);
	sk_free(s2);
	CHECK_EQ(e.st->tcp.hinfo.ehash_count, 0);
	env_free(&e);
}

int main(void)
{
	RUN(ehash_insert_lookup_remove_many);
	RUN(ehash_grows_with_its_entries);
	RUN(ehash_grows_a_few_buckets_per_insert);
	RUN(ehash_spreads_and_holds_request_socks);
	RUN(ehash_key_differs_per_seed);
	RUN(listener_exact_beats_wildcard);
	RUN(bind_conflict_table);
	RUN(bind_put_port_and_relisten_check);
	RUN(bind0_prefers_odd_ports_in_range);
	RUN(bind0_reuseaddr_tries_lower_half_first_and_never_shares);
	RUN(bind0_random_start_depends_on_seed);
	RUN(connect_port_choice_follows_rfc6056_and_is_deterministic);
	RUN(connect_even_first_then_odd_then_exhausted);
	RUN(connect_skips_ports_bind_made);
	RUN(connect_from_bound_port_checks_only_the_tuple);
	return TEST_SUMMARY();
}
