/* Packet buffers and the per-stack pool that recycles them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/skb.h"

void skb_pool_init(struct skb_pool *p, size_t max_cached)
{
	memset(p, 0, sizeof(*p));
	p->max_cached = max_cached;
	p->free_data = calloc(max_cached ? max_cached : 1, sizeof(void *));
	if (!p->free_data)
		p->max_cached = 0;
}

size_t skb_pool_destroy(struct skb_pool *p)
{
	while (p->free_skbs) {
		struct sk_buff *skb = p->free_skbs;

		p->free_skbs = (struct sk_buff *)skb->list.next;
		free(skb);
	}
	if (p->kept) {
		free(p->kept->shinfo);
		free(p->kept);
		p->kept = NULL;
	}
	for (size_t i = 0; i < p->nfree_data; i++)
		free(p->free_data[i]);
	for (size_t i = 0; i < p->nfree_big; i++)
		free(p->free_big[i]);
	p->nfree_big = 0;
	p->big_size = 0;
	free(p->free_data);
	p->free_data = NULL;
	p->nfree_skbs = p->nfree_data = 0;
	p->max_cached = 0; /* buffers freed later go straight back to malloc */
	return p->live_skbs + p->live_data;
}

/* A header with nothing set: the caller fills every field. */
static struct sk_buff *skb_header_take(struct skb_pool *p)
{
	struct sk_buff *skb = p->free_skbs;

	if (skb) {
		p->free_skbs = (struct sk_buff *)skb->list.next;
		p->nfree_skbs--;
	} else {
		skb = malloc(sizeof(*skb));
		if (!skb)
			return NULL;
	}
	p->live_skbs++;
	return skb;
}

static struct sk_buff *skb_header_alloc(struct skb_pool *p)
{
	struct sk_buff *skb = skb_header_take(p);

	if (!skb)
		return NULL;
	memset(skb, 0, sizeof(*skb));
	INIT_LIST_HEAD(&skb->list);
	skb->pool = p;
	skb->refcnt = 1;
	return skb;
}

static void skb_header_free(struct sk_buff *skb)
{
	struct skb_pool *p = skb->pool;

	p->live_skbs--;
	if (p->nfree_skbs < p->max_cached) {
		skb->list.next = (struct list_head *)p->free_skbs;
		p->free_skbs = skb;
		p->nfree_skbs++;
	} else {
		free(skb);
	}
}

static struct skb_data *skb_data_alloc(struct skb_pool *p, uint32_t size)
{
	struct skb_data *d;

	if (size <= SKB_POOL_DATA && p->nfree_data) {
		d = p->free_data[--p->nfree_data];
	} else if (size == p->big_size && p->nfree_big) {
		d = p->free_big[--p->nfree_big];
	} else {
		uint32_t cap = size <= SKB_POOL_DATA ? SKB_POOL_DATA : size;
		d = malloc(sizeof(*d) + cap);
		if (!d)
			return NULL;
		d->size = cap;
	}
	d->refcnt = 1;
	p->live_data++;
	return d;
}

static void skb_data_put(struct skb_pool *p, struct skb_data *d)
{
	if (--d->refcnt > 0)
		return;
	p->live_data--;
	if (d->size == SKB_POOL_DATA && p->nfree_data < p->max_cached)
		p->free_data[p->nfree_data++] = d;
	else if (d->size == p->big_size && p->nfree_big < SKB_POOL_BIG && p->max_cached)
		p->free_big[p->nfree_big++] = d;
	else
		free(d);
}

struct sk_buff *skb_alloc(struct skb_pool *p, uint32_t headroom, uint32_t size)
{
	struct sk_buff *skb;

	if (size > UINT32_MAX - headroom)
		return NULL;
	skb = skb_header_alloc(p);
	if (!skb)
		return NULL;
	skb->shinfo = skb_data_alloc(p, headroom + size);
	if (!skb->shinfo) {
		skb_header_free(skb);
		return NULL;
	}
	skb->head = skb->shinfo->buf;
	skb->data = skb->head + headroom;
	return skb;
}

struct sk_buff *skb_alloc_rx(struct skb_pool *p, uint32_t headroom, uint32_t size)
{
	struct sk_buff *skb = p->kept;

	if (!skb || skb_headroom(skb) != headroom || skb_tailroom(skb) < size)
		return skb_alloc(p, headroom, size);
	p->kept = NULL;
	p->live_skbs++;
	p->live_data++;
	return skb;
}

void skb_pool_keep(struct skb_pool *p, struct sk_buff *skb)
{
	if (p->kept || p->max_cached == 0 || skb->refcnt != 1 || skb->shinfo->refcnt != 1 || skb->len) {
		kfree_skb(skb);
		return;
	}
	p->kept = skb;
	p->live_skbs--;
	p->live_data--;
}

void kfree_skb(struct sk_buff *skb)
{
	if (!skb || --skb->refcnt > 0)
		return;
	skb_data_put(skb->pool, skb->shinfo);
	skb_header_free(skb);
}

struct sk_buff *skb_clone(struct sk_buff *skb)
{
	struct sk_buff *n;

	if (skb->data_len)  /* its frags hold no references to share */
		return NULL;
	n = skb_header_take(skb->pool);
	if (!n)
		return NULL;
	memcpy(n, skb, sizeof(*n));
	INIT_LIST_HEAD(&n->list);
	n->refcnt = 1;
	n->shinfo->refcnt++;
	return n;
}

struct sk_buff *skb_copy_room(const struct sk_buff *skb, uint32_t size)
{
	uint32_t headroom = skb_headroom(skb);
	struct sk_buff *n = skb_alloc(skb->pool, headroom, size);

	if (!n)
		return NULL;
	memcpy(n->head, skb->head, headroom + skb_headlen(skb));
	if (skb->data_len && skb_copy_bits(skb, skb_headlen(skb), n->data + skb_headlen(skb), skb->data_len)) {
		kfree_skb(n);   /* frags shorter than data_len says */
		return NULL;
	}
	n->len = skb->len;
	n->ip_summed = skb->ip_summed;
	n->mac_header = skb->mac_header;
	n->network_header = skb->network_header;
	n->transport_header = skb->transport_header;
	n->tstamp = skb->tstamp;
	n->nexthop = skb->nexthop;
	n->gso_size = skb->gso_size;
	memcpy(n->cb, skb->cb, sizeof(n->cb));
	return n;
}

struct sk_buff *skb_copy(const struct sk_buff *skb)
{
	uint32_t size = skb->shinfo->size - skb_headroom(skb);

	return skb_copy_room(skb, skb->len > size ? skb->len : size); /* nonlinear: room for its frags */
}

struct sk_buff *skb_copy_fit(const struct sk_buff *skb) { return skb_copy_room(skb, skb->len); }

int skb_copy_bits(const struct sk_buff *skb, uint32_t off, void *to, uint32_t len)
{
	const struct sk_buff *f = skb->frag_list;
	uint32_t head = skb_headlen(skb), n;
	uint8_t *out = to;

	if (off > skb->len || len > skb->len - off)
		return -EFAULT;
	if (off < head) {
		n = len < head - off ? len : head - off;
		memcpy(out, skb->data + off, n);
		out += n;
		len -= n;
		off = 0;
	} else {
		off -= head;
	}
	for (uint16_t i = 0; len && i < skb->nr_frags; i++, f = list_entry(f->list.next, struct sk_buff, list)) {
		if (off >= f->len) {
			off -= f->len;
			continue;
		}
		n = len < f->len - off ? len : f->len - off;
		memcpy(out, f->data + off, n);
		out += n;
		len -= n;
		off = 0;
	}
	return len ? -EFAULT : 0;
}

int skb_linearize(struct sk_buff *skb)
{
	struct skb_data *old = skb->shinfo;
	uint8_t *old_head = skb->head;
	uint32_t room = skb->len, headroom = skb_headroom(skb);
	struct sk_buff *n;

	if (!skb->data_len)
		return 0;
	/* A super-frame's worth takes the pool's cached large block, not a
	 * malloc of its own. */
	if (headroom + room > SKB_POOL_DATA && skb->pool->big_size >= headroom + room)
		room = skb->pool->big_size - headroom;
	n = skb_copy_room(skb, room);
	if (!n)
		return -ENOMEM;
	/* skb takes the copy's buffer; the copy's header goes with the old one. */
	skb->shinfo = n->shinfo;
	skb->head = n->head;
	skb->data = n->data;
	skb->data_len = 0;
	skb->nr_frags = 0;
	skb->frag_list = NULL;
	n->shinfo = old;
	n->head = n->data = old_head;
	n->len = 0;
	kfree_skb(n);
	return 0;
}

uint8_t *skb_push(struct sk_buff *skb, uint32_t n)
{
	if (n > skb_headroom(skb))
		return NULL;
	skb->data -= n;
	skb->len += n;
	return skb->data;
}

uint8_t *skb_pull(struct sk_buff *skb, uint32_t n)
{
	if (n > skb->len)   /* linear skbs only, as every received one is */
		return NULL;
	skb->data += n;
	skb->len -= n;
	return skb->data;
}

uint8_t *skb_put(struct sk_buff *skb, uint32_t n)
{
	/* In integers: a nonlinear skb's len runs past its buffer, so it
	 * never has room. */
	if ((uint64_t)skb->len + n > (uint64_t)(skb_end(skb) - skb->data))
		return NULL;
	skb->len += n;
	return skb->data + skb->len - n;
}

void skb_reserve(struct sk_buff *skb, uint32_t n)
{
	if (skb->len == 0 && n <= skb_tailroom(skb))
		skb->data += n;
}

void skb_trim(struct sk_buff *skb, uint32_t len)
{
	if (skb->len > len && !skb->data_len)
		skb->len = len;
}

void skb_queue_tail(struct sk_buff_head *q, struct sk_buff *skb)
{
	list_add_tail(&skb->list, &q->list);
	q->qlen++;
	q->bytes += skb->len;
}

void skb_unlink(struct sk_buff *skb, struct sk_buff_head *q)
{
	list_del_init(&skb->list);
	q->qlen--;
	q->bytes -= skb->len;
}

struct sk_buff *skb_dequeue(struct sk_buff_head *q)
{
	struct sk_buff *skb;

	if (list_empty(&q->list))
		return NULL;
	skb = list_first_entry(&q->list, struct sk_buff, list);
	skb_unlink(skb, q);
	return skb;
}

void skb_queue_purge(struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(q)) != NULL)
		kfree_skb(skb);
}
