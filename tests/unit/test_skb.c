/* Packet buffers: bounds, clone and copy, queues, the pool and its counts. */
#include <errno.h>
#include "core/compiler.h"
#include "core/skb.h"
#include "test.h"

static void fill(uint8_t *p, uint32_t n, uint8_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i);
}

TEST(alloc_reserves_headroom)
{
	static const struct { uint32_t headroom, size; } cases[] = {
		{ 0, 0 }, { SKB_HEADROOM, 0 }, { SKB_HEADROOM, 1500 }, { 14, 2034 },
		{ SKB_HEADROOM, 9000 }, { 3000, 10 },
	};
	struct skb_pool p;

	skb_pool_init(&p, 8);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sk_buff *skb = skb_alloc(&p, cases[i].headroom, cases[i].size);

		REQUIRE(skb);
		CHECK_EQ(skb_headroom(skb), cases[i].headroom);
		CHECK(skb_tailroom(skb) >= cases[i].size);
		CHECK_EQ(skb->len, 0);
		CHECK_EQ(skb->refcnt, 1);
		CHECK_EQ(skb->shinfo->refcnt, 1);
		CHECK(skb->data == skb->head + cases[i].headroom);
		CHECK(skb_tail(skb) == skb->data);
		CHECK(!skb_cloned(skb));
		CHECK(list_empty(&skb->list));
		CHECK_EQ(p.live_skbs, 1);
		CHECK_EQ(p.live_data, 1);
		/* The whole promised area is writable (ASan checks). */
		memset(skb->head, 0x5a, cases[i].headroom + cases[i].size);
		kfree_skb(skb);
		CHECK_EQ(p.live_skbs, 0);
		CHECK_EQ(p.live_data, 0);
	}
	CHECK(skb_alloc(&p, 100, UINT32_MAX - 50) == NULL);
	CHECK(skb_alloc(&p, UINT32_MAX, 1) == NULL);
	CHECK_EQ(p.live_skbs, 0);
	CHECK_EQ(p.live_data, 0);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

TEST(put_push_pull_bounds)
{
	struct skb_pool p;

	skb_pool_init(&p, 4);
	struct sk_buff *skb = skb_alloc(&p, 40, 100);
	REQUIRE(skb);
	uint32_t room = skb_tailroom(skb);

	uint8_t *tail = skb_put(skb, 60);
	CHECK(tail == skb->head + 40);
	CHECK_EQ(skb->len, 60);
	fill(tail, 60, 1);
	/* Too much: NULL and nothing changes. */
	CHECK(skb_put(skb, room - 60 + 1) == NULL);
	CHECK_EQ(skb->len, 60);
	CHECK(skb_put(skb, UINT32_MAX) == NULL);
	CHECK_EQ(skb->len, 60);
	CHECK(skb_put(skb, room - 60) != NULL);
	CHECK_EQ(skb_tailroom(skb), 0);
	CHECK(skb_put(skb, 1) == NULL);
	skb_trim(skb, 60);
	CHECK_EQ(skb->len, 60);
	skb_trim(skb, 1000);        /* longer than len: no change */
	CHECK_EQ(skb->len, 60);

	CHECK(skb_push(skb, 41) == NULL);
	CHECK_EQ(skb->len, 60);
	CHECK_EQ(skb_headroom(skb), 40);
	uint8_t *h = skb_push(skb, 20);
	CHECK(h == skb->head + 20);
	CHECK(skb->data == h);
	CHECK_EQ(skb->len, 80);
	memset(h, 0xee, 20);
	CHECK(skb_push(skb, 20) == skb->head);
	CHECK(skb_push(skb, 1) == NULL);
	CHECK(skb_push(skb, UINT32_MAX) == NULL);
	CHECK_EQ(skb_headroom(skb), 0);

	CHECK(skb_pull(skb, 101) == NULL);
	CHECK_EQ(skb->len, 100);
	uint8_t *d = skb_pull(skb, 40);
	CHECK(d == skb->head + 40);
	CHECK_EQ(skb->len, 60);
	CHECK_EQ(d[0], 1);
	CHECK_EQ(d[59], 60);
	CHECK(skb_pull(skb, 60) == skb->head + 100);
	CHECK_EQ(skb->len, 0);
	CHECK(skb_pull(skb, 1) == NULL);
	kfree_skb(skb);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

TEST(reserve_and_header_offsets)
{
	struct skb_pool p;

	skb_pool_init(&p, 4);
	struct sk_buff *skb = skb_alloc(&p, 0, 200);
	REQUIRE(skb);
	skb_reserve(skb, 54);
	CHECK_EQ(skb_headroom(skb), 54);
	skb_put(skb, 10);
	skb_reserve(skb, 10);       /* not empty any more: ignored */
	CHECK_EQ(skb_headroom(skb), 54);
	skb_reset_transport_header(skb);
	skb_push(skb, 20);
	skb_reset_network_header(skb);
	skb_push(skb, 14);
	skb_reset_mac_header(skb);
	CHECK(skb_mac_header(skb) == skb->head + 20);
	CHECK(skb_network_header(skb) == skb->head + 34);
	CHECK(skb_transport_header(skb) == skb->head + 54);
	kfree_skb(skb);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

TEST(clone_shares_data)
{
	struct skb_pool p;

	skb_pool_init(&p, 4);
	struct sk_buff *skb = skb_alloc(&p, SKB_HEADROOM, 100);
	REQUIRE(skb);
	fill(skb_put(skb, 100), 100, 7);
	skb_reset_network_header(skb);
	skb->tstamp = 123456789;
	skb->nexthop = 0x0a000001;
	skb->cb[0] = 0x42;

	struct sk_buff *c = skb_clone(skb);
	REQUIRE(c);
	CHECK(c != skb);
	CHECK(c->shinfo == skb->shinfo);
	CHECK(c->head == skb->head && c->data == skb->data);
	CHECK_EQ(c->len, 100);
	CHECK_EQ(c->refcnt, 1);
	CHECK_EQ(skb->shinfo->refcnt, 2);
	CHECK(skb_cloned(skb) && skb_cloned(c));
	CHECK_EQ(c->network_header, skb->network_header);
	CHECK_EQ(c->tstamp, 123456789);
	CHECK_EQ(c->nexthop, 0x0a000001);
	CHECK_EQ(c->cb[0], 0x42);
	CHECK(list_empty(&c->list));
	CHECK_EQ(p.live_skbs, 2);
	CHECK_EQ(p.live_data, 1);

	/* Each header moves on its own. */
	skb_pull(c, 20);
	CHECK_EQ(c->len, 80);
	CHECK_EQ(skb->len, 100);
	/* The data is one block: a write shows through. */
	c->data[0] = 0xff;
	CHECK_EQ(skb->data[20], 0xff);

	kfree_skb(skb);
	CHECK_EQ(p.live_skbs, 1);
	CHECK_EQ(p.live_data, 1);
	CHECK(!skb_cloned(c));
	CHECK_EQ(c->data[1], (uint8_t)(7 + 21));
	kfree_skb(c);
	CHECK_EQ(p.live_skbs, 0);
	CHECK_EQ(p.live_data, 0);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

TEST(skb_get_needs_two_frees)
{
	struct skb_pool p;

	skb_pool_init(&p, 4);
	struct sk_buff *skb = skb_alloc(&p, 0, 10);
	REQUIRE(skb);
	CHECK(skb_get(skb) == skb);
	CHECK_EQ(skb->refcnt, 2);
	kfree_skb(skb);
	CHECK_EQ(p.live_skbs, 1);
	CHECK_EQ(skb->refcnt, 1);
	kfree_skb(skb);
	CHECK_EQ(p.live_skbs, 0);
	kfree_skb(NULL);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

TEST(copy_is_private)
{
	struct skb_pool p;

	skb_pool_init(&p, 4);
	struct sk_buff *skb = skb_alloc(&p, 64, 300);
	REQUIRE(skb);
	fill(skb_put(skb, 300), 300, 3);
	skb_push(skb, 14);
	memset(skb->data, 0xab, 14);
	skb_reset_mac_header(skb);
	skb->tstamp = 99;
	skb->cb[47] = 9;

	struct sk_buff *c = skb_copy(skb);
	REQUIRE(c);
	CHECK(c->shinfo != skb->shinfo);
	CHECK(!skb_cloned(skb) && !skb_cloned(c));
	CHECK_EQ(skb_headroom(c), skb_headroom(skb));
	CHECK_EQ(c->len, skb->len);
	CHECK_MEM(c->data, skb->data, skb->len);
	CHECK_EQ(c->mac_header, skb->mac_header);
	CHECK_EQ(c->tstamp, 99);
	CHECK_EQ(c->cb[47], 9);
	CHECK_EQ(p.live_data, 2);
	c->data[0] = 0;
	CHECK_EQ(skb->data[0], 0xab);
	kfree_skb(skb);
	CHECK_EQ(c->data[14], 3);
	kfree_skb(c);
	CHECK_EQ(p.live_skbs, 0);
	CHECK_EQ(p.live_data, 0);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

/* A nonlinear skb: 20 header bytes in its buffer, then the data of three
 * queued skbs (as TCP hands a run to software GSO). Reading across the
 * pieces, copying and linearizing see one stream; nothing can be
 * appended to it. */
TEST(nonlinear_reads_copies_and_linearizes)
{
	struct sk_buff_head q;
	struct skb_pool p;
	struct sk_buff *big, *f, *c;
	uint8_t want[20 + 3 * 700], got[sizeof(want)];

	skb_pool_init(&p, 4);
	skb_queue_head_init(&q);
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 13 + 1);
	for (int k = 0; k < 3; k++) {
		f = skb_alloc(&p, 0, 700);
		REQUIRE(f);
		memcpy(skb_put(f, 700), want + 20 + k * 700, 700);
		skb_queue_tail(&q, f);
	}
	big = skb_alloc(&p, 64, 0);
	REQUIRE(big);
	memcpy(skb_push(big, 20), want, 20);
	big->frag_list = list_first_entry(&q.list, struct sk_buff, list);
	big->nr_frags = 3;
	big->data_len = 3 * 700;
	big->len += big->data_len;
	CHECK_EQ(skb_headlen(big), 20);
	CHECK(skb_put(big, 1) == NULL);
	CHECK_EQ(skb_copy_bits(big, 0, got, big->len), 0);
	CHECK_MEM(got, want, sizeof(want));
	/* Pieces straddling the boundaries, and past the end. */
	CHECK_EQ(skb_copy_bits(big, 15, got, 710), 0);
	CHECK_MEM(got, want + 15, 710);
	CHECK_EQ(skb_copy_bits(big, 719, got, 702), 0);
	CHECK_MEM(got, want + 719, 702);
	CHECK_EQ(skb_copy_bits(big, big->len - 1, got, 2), -EFAULT);
	CHECK_EQ(skb_copy_bits(big, big->len + 1, got, 0), -EFAULT);
	c = skb_copy(big);
	REQUIRE(c);
	CHECK_EQ(c->data_len, 0);
	CHECK_EQ(c->len, sizeof(want));
	CHECK_MEM(c->data, want, sizeof(want));
	CHECK_EQ(skb_headroom(c), 64 - 20);
	kfree_skb(c);
	CHECK_EQ(skb_linearize(big), 0);
	CHECK_EQ(big->data_len, 0);
	CHECK(big->frag_list == NULL);
	CHECK_EQ(big->len, sizeof(want));
	CHECK_MEM(big->data, want, sizeof(want));
	CHECK_EQ(skb_linearize(big), 0); /* already linear */
	kfree_skb(big);
	skb_queue_purge(&q);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

TEST(queue_fifo_and_counts)
{
	struct skb_pool p;
	struct sk_buff_head q;
	struct sk_buff *s[5];

	skb_pool_init(&p, 4);
	skb_queue_head_init(&q);
	CHECK(skb_dequeue(&q) == NULL);
	for (int i = 0; i < 5; i++) {
		s[i] = skb_alloc(&p, 0, 100);
		REQUIRE(s[i]);
		skb_put(s[i], (uint32_t)(10 * (i + 1)));
		skb_queue_tail(&q, s[i]);
	}
	CHECK_EQ(q.qlen, 5);
	CHECK_EQ(q.bytes, 150);
	skb_unlink(s[2], &q);
	CHECK(list_empty(&s[2]->list));
	CHECK_EQ(q.qlen, 4);
	CHECK_EQ(q.bytes, 120);
	kfree_skb(s[2]);
	CHECK(skb_dequeue(&q) == s[0]);
	CHECK(skb_dequeue(&q) == s[1]);
	CHECK_EQ(q.qlen, 2);
	CHECK_EQ(q.bytes, 90);
	kfree_skb(s[0]);
	kfree_skb(s[1]);
	skb_queue_purge(&q);
	CHECK_EQ(q.qlen, 0);
	CHECK_EQ(q.bytes, 0);
	CHECK(list_empty(&q.list));
	CHECK_EQ(p.live_skbs, 0);
	CHECK_EQ(p.live_data, 0);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

TEST(pool_recycles_up_to_its_cap)
{
	enum { CAP = 4, N = 10 };
	struct skb_pool p;
	struct sk_buff *s[N];

	skb_pool_init(&p, CAP);
	for (int i = 0; i < N; i++) {
		s[i] = skb_alloc(&p, SKB_HEADROOM, 1000);
		REQUIRE(s[i]);
	}
	CHECK_EQ(p.live_skbs, N);
	CHECK_EQ(p.live_data, N);
	for (int i = 0; i < N; i++)
		kfree_skb(s[i]);
	CHECK_EQ(p.live_skbs, 0);
	CHECK_EQ(p.live_data, 0);
	CHECK_EQ(p.nfree_skbs, CAP);
	CHECK_EQ(p.nfree_data, CAP);

	/* A cached header and block come back instead of fresh memory. */
	struct sk_buff *again = skb_alloc(&p, SKB_HEADROOM, 1000);
	REQUIRE(again);
	CHECK_EQ(p.nfree_skbs, CAP - 1);
	CHECK_EQ(p.nfree_data, CAP - 1);
	CHECK_EQ(again->len, 0);
	CHECK_EQ(again->refcnt, 1);
	CHECK_EQ(again->shinfo->refcnt, 1);
	CHECK(list_empty(&again->list));
	kfree_skb(again);

	/* A jumbo block is not cached. */
	struct sk_buff *big = skb_alloc(&p, 0, 9000);
	REQUIRE(big);
	kfree_skb(big);
	CHECK_EQ(p.nfree_data, CAP);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

TEST(pool_without_cache)
{
	struct skb_pool p;

	skb_pool_init(&p, 0);
	struct sk_buff *skb = skb_alloc(&p, 10, 10);
	REQUIRE(skb);
	kfree_skb(skb);
	CHECK_EQ(p.nfree_skbs, 0);
	CHECK_EQ(p.nfree_data, 0);
	CHECK_EQ(skb_pool_destroy(&p), 0);
}

TEST(destroy_reports_leaks)
{
	struct skb_pool p;

	skb_pool_init(&p, 4);
	struct sk_buff *kept = skb_alloc(&p, 0, 10);
	REQUIRE(kept);
	struct sk_buff *freed = skb_alloc(&p, 0, 10);
	REQUIRE(freed);
	kfree_skb(freed);
	CHECK(skb_pool_destroy(&p) != 0);
	/* The pool is gone, so release the leaked buffer by hand. */
	free(kept->shinfo);
	free(kept);
}

int main(void)
{
	RUN(alloc_reserves_headroom);
	RUN(put_push_pull_bounds);
	RUN(reserve_and_header_offsets);
	RUN(clone_shares_data);
	RUN(skb_get_needs_two_frees);
	RUN(copy_is_private);
	RUN(nonlinear_reads_copies_and_linearizes);
	RUN(queue_fifo_and_counts);
	RUN(pool_recycles_up_to_its_cap);
	RUN(pool_without_cache);
	RUN(destroy_reports_leaks);
	return TEST_SUMMARY();
}
