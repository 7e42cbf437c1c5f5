/*
 * A wrapper that puts the sim wire's faults in front of any link: frames the
 * stack sends wait in a tx schedule until due, frames the inner link
 * delivers wait in an rx schedule. Nothing runs on its own: the schedules
 * move when send or recv is called, which a poller does at next_deadline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/compiler.h"
#include "link/fault.h"
#include "link/link.h"

#define FAULTY_RX_SEED_MIX 0x9e3779b97f4a7c15ULL
/* Bound the frames pulled from inner per recv so a flood cannot stall us. */
#define FAULTY_DRAIN_MAX 256
#define FAULTY_BUF_LEN (FAULT_MAX_MTU + ETH_HDR_LEN)

struct faulty_link {
	struct synack_link link;    /* first: the public handle */
	struct synack_link *inner;  /* owned */
	struct synack_clock *clk;   /* not owned */
	struct fault_queue tx, rx;
	uint8_t *buf;               /* FAULTY_BUF_LEN bytes, for reads from inner */
};

static struct faulty_link *to_faulty(struct synack_link *l)
{
	return container_of(l, struct faulty_link, link);
}

/* Hand inner every tx frame that is due. A frame inner refuses is dropped,
 * as a full device queue would. */
static void faulty_flush_tx(struct faulty_link *f, uint64_t now)
{
	const struct fault_frame *fr;

	while ((fr = fault_queue_peek_due(&f->tx, now)) != NULL) {
		(void)f->inner->ops->send(f->inner, fr->data, fr->len);
		fault_queue_drop_head(&f->tx);
	}
}

static int faulty_drain_inner(struct faulty_link *f, uint64_t now)
{
	for (int i = 0; i < FAULTY_DRAIN_MAX; i++) {
		int n = f->inner->ops->recv(f->inner, f->buf, FAULTY_BUF_LEN);
		int err;

		if (n <= 0)
			return n;
		err = fault_queue_push(&f->rx, now, f->buf, (size_t)n);
		if (err < 0)
			return err;
	}
	return 0;
}

static int faulty_send(struct synack_link *l, const void *frame, size_t len)
{
	struct faulty_link *f = to_faulty(l);
	uint64_t now = synack_clock_now(f->clk);
	int err;

	err = link_check_frame(l, frame, len);
	if (err < 0)
		return err;
	err = fault_queue_push(&f->tx, now, frame, len);
	if (err < 0)
		return err;
	faulty_flush_tx(f, now);
	return 0;
}

static int faulty_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct faulty_link *f = to_faulty(l);
	uint64_t now = synack_clock_now(f->clk);
	int err;

	if (!buf || cap == 0)
		return -EINVAL;
	faulty_flush_tx(f, now);
	err = faulty_drain_inner(f, now);
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	if (fault_queue_peek_due(&f->rx, now))
		return (int)fault_queue_pop(&f->rx, now, buf, cap);
	return err;
}

static int faulty_wait_fd(struct synack_link *l)
{
	return link_wait_fd(to_faulty(l)->inner);
}

static uint64_t faulty_next_deadline(struct synack_link *l)
{
	struct faulty_link *f = to_faulty(l);
	uint64_t t = link_next_deadline(f->inner);

	t = min_t(uint64_t, t, fault_queue_next_due(&f->tx));
	return min_t(uint64_t, t, fault_queue_next_due(&f->rx));
}

static void faulty_destroy(struct synack_link *l)
{
	struct faulty_link *f = to_faulty(l);

	synack_link_destroy(f->inner);
	fault_queue_destroy(&f->tx);
	fault_queue_destroy(&f->rx);
	free(f->buf);
	free(f);
}

static const struct synack_link_ops faulty_ops = {
	.kind = "faulty",
	.send = faulty_send,
	.recv = faulty_recv,
	.wait_fd = faulty_wait_fd,
	.next_deadline = faulty_next_deadline,
	.destroy = faulty_destroy,
};

/* On failure inner is left alone and still belongs to the caller. */
int synack_faulty_wrap(struct synack_link *inner, struct synack_clock *clk,
		       const struct synack_sim_config *cfg, struct synack_link **out)
{
	struct synack_sim_config c;
	struct faulty_link *f;
	int err;

	if (!link_usable(inner) || !clk || !out)
		return -EINVAL;
	/* Faults act on whole wire frames: an offloading link's merged frames
	 * and unfinished checksums would be cut and corrupted unseen. (GRO is
	 * the stack's, after the faults.) */
	if ((inner->features & ~SYNACK_LINK_F_GRO) || inner->max_frame > inner->mtu + ETH_HDR_LEN)
		return -EINVAL;
	err = fault_config_normalize(cfg, &c);
	if (err < 0)
		return err;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->buf = malloc(FAULTY_BUF_LEN);
	if (!f->buf) {
		free(f);
		return -ENOMEM;
	}
	f->inner = inner;
	f->clk = clk;
	fault_queue_init(&f->tx, &c, c.seed);
	fault_queue_init(&f->rx, &c, c.seed ^ FAULTY_RX_SEED_MIX);
	f->link.ops = &faulty_ops;
	f->link.mtu = inner->mtu;
	f->link.features = inner->features & SYNACK_LINK_F_GRO;
	memcpy(f->link.mac, inner->mac, sizeof(f->link.mac));
	*out = &f->link;
	return 0;
}
