#include "link/fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/compiler.h"

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static bool probability_ok(double p)
{
	/* Written this way so NaN fails too. */
	return p >= 0.0 && p <= 1.0;
}

int fault_config_normalize(const struct synack_sim_config *cfg, struct synack_sim_config *out)
{
	struct synack_sim_config c = { 0 };

	if (cfg)
		c = *cfg;
	if (!probability_ok(c.loss) || !probability_ok(c.duplicate) ||
	    !probability_ok(c.reorder) || !probability_ok(c.corrupt))
		return -EINVAL;
	if (c.mtu == 0)
		c.mtu = FAULT_DEFAULT_MTU;
	if (c.mtu < FAULT_MIN_MTU || c.mtu > FAULT_MAX_MTU)
		return -EINVAL;
	if (c.queue_limit == 0)
		c.queue_limit = FAULT_DEFAULT_QUEUE_LIMIT;
	if (c.reorder_ns == 0)
		c.reorder_ns = add_sat(add_sat(c.delay_ns, c.delay_ns), NSEC_PER_MSEC);
	*out = c;
	return 0;
}

void fault_decide(const struct synack_sim_config *cfg, struct prng *rng, size_t len,
		  struct fault_decision *d)
{
	uint64_t bits = (uint64_t)len * 8;
	uint64_t jitter_draw, bit_draw;

	d->lose = prng_double(rng) < cfg->loss;
	d->duplicate = prng_double(rng) < cfg->duplicate;
	d->reorder = prng_double(rng) < cfg->reorder;
	d->corrupt = prng_double(rng) < cfg->corrupt && bits > 0;
	jitter_draw = prng_u64(rng);
	bit_draw = prng_u64(rng);
	d->jitter_ns = cfg->jitter_ns == UINT64_MAX ? jitter_draw : jitter_draw % (cfg->jitter_ns + 1);
	d->corrupt_bit = bits ? bit_draw % bits : 0;
}

uint64_t fault_serialisation_ns(size_t len, uint64_t bps)
{
	/* 128-bit so a slow link and a large frame cannot overflow. */
	unsigned __int128 bits_ns = (unsigned __int128)len * 8 * NSEC_PER_SEC;
	unsigned __int128 t;

	if (bps == 0)
		return 0;
	t = (bits_ns + bps - 1) / bps;
	return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

void fault_queue_init(struct fault_queue *q, const struct synack_sim_config *cfg, uint64_t seed)
{
	memset(q, 0, sizeof(*q));
	q->cfg = *cfg;
	prng_seed(&q->rng, seed);
}

void fault_queue_destroy(struct fault_queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->heap[i]);
	free(q->heap);
	q->heap = NULL;
	q->n = q->cap = 0;
}

static bool frame_before(const struct fault_frame *a, const struct fault_frame *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_swap(struct fault_queue *q, size_t i, size_t j)
{
	struct fault_frame *t = q->heap[i];

	q->heap[i] = q->heap[j];
	q->heap[j] = t;
}

static void heap_sift_up(struct fault_queue *q, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!frame_before(q->heap[i], q->heap[parent]))
			break;
		heap_swap(q, i, parent);
		i = parent;
	}
}

static void heap_sift_down(struct fault_queue *q, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;

		if (l < q->n && frame_before(q->heap[l], q->heap[min]))
			min = l;
		if (r < q->n && frame_before(q->heap[r], q->heap[min]))
			min = r;
		if (min == i)
			return;
		heap_swap(q, i, min);
		i = min;
	}
}

static int heap_reserve(struct fault_queue *q)
{
	struct fault_frame **h;
	size_t cap;

	if (q->n < q->cap)
		return 0;
	cap = q->cap ? q->cap * 2 : 16;
	h = realloc(q->heap, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	q->heap = h;
	q->cap = cap;
	return 0;
}

/* Takes ownership of f. */
static int enqueue(struct fault_queue *q, struct fault_frame *f)
{
	if (heap_reserve(q) < 0) {
		free(f);
		return -ENOMEM;
	}
	f->seq = q->next_seq++;
	q->heap[q->n] = f;
	heap_sift_up(q, q->n);
	q->n++;
	return 0;
}

static struct fault_frame *frame_new(const void *data, size_t len, uint64_t due)
{
	struct fault_frame *f = malloc(sizeof(*f) + len);

	if (!f)
		return NULL;
	f->due = due;
	f->len = len;
	memcpy(f->data, data, len);
	return f;
}

static bool queue_full(const struct fault_queue *q)
{
	return q->n >= q->cfg.queue_limit;
}

/* When a frame sent at now reaches the far end: behind earlier frames on the
 * link, then propagation, jitter and any reordering hold-back. */
static uint64_t frame_due(struct fault_queue *q, uint64_t now, size_t len,
			  const struct fault_decision *d)
{
	uint64_t start = now > q->busy_until ? now : q->busy_until;
	uint64_t due;

	q->busy_until = add_sat(start, fault_serialisation_ns(len, q->cfg.bandwidth_bps));
	due = add_sat(add_sat(q->busy_until, q->cfg.delay_ns), d->jitter_ns);
	if (d->reorder)
		due = add_sat(due, q->cfg.reorder_ns);
	return due;
}

static int enqueue_duplicate(struct fault_queue *q, const void *frame, size_t len, uint64_t due)
{
	struct fault_frame *f;

	q->stats.duplicated++;
	if (queue_full(q)) {
		q->stats.queue_drops++;
		return 0;
	}
	f = frame_new(frame, len, due);
	if (!f)
		return -ENOMEM;
	return enqueue(q, f);
}

int fault_queue_push(struct fault_queue *q, uint64_t now, const void *frame, size_t len)
{
	struct fault_decision d;
	struct fault_frame *f;
	uint64_t due;
	int err;

	q->stats.sent++;
	fault_decide(&q->cfg, &q->rng, len, &d);
	if (d.lose) {
		q->stats.lost++;
		return 0;
	}
	if (queue_full(q)) {
		q->stats.queue_drops++;
		return 0;
	}
	due = frame_due(q, now, len, &d);
	f = frame_new(frame, len, due);
	if (!f)
		return -ENOMEM;
	if (d.reorder)
		q->stats.reordered++;
	if (d.corrupt) {
		f->data[d.corrupt_bit / 8] ^= (uint8_t)(1u << (d.corrupt_bit % 8));
		q->stats.corrupted++;
	}
	err = enqueue(q, f);
	if (err < 0 || !d.duplicate)
		return err;
	/* The copy is the frame as sent; only the first copy is corrupted. */
	return enqueue_duplicate(q, frame, len, due);
}

const struct fault_frame *fault_queue_peek_due(const struct fault_queue *q, uint64_t now)
{
	if (q->n == 0 || q->heap[0]->due > now)
		return NULL;
	return q->heap[0];
}

void fault_queue_drop_head(struct fault_queue *q)
{
	if (q->n == 0)
		return;
	free(q->heap[0]);
	q->n--;
	if (q->n > 0) {
		q->heap[0] = q->heap[q->n];
		heap_sift_down(q, 0);
	}
	q->stats.delivered++;
}

size_t fault_queue_pop(struct fault_queue *q, uint64_t now, void *buf, size_t cap)
{
	const struct fault_frame *f = fault_queue_peek_due(q, now);
	size_t n;

	if (!f)
		return 0;
	n = f->len < cap ? f->len : cap;
	memcpy(buf, f->data, n);
	fault_queue_drop_head(q);
	return n;
}

uint64_t fault_queue_next_due(const struct fault_queue *q)
{
	return q->n ? q->heap[0]->due : SYNACK_NEVER;
}
