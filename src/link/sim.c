/*
 * The simulated wire: two links joined in memory. Each direction is a fault
 * queue (see fault.h) that keeps time with a shared synack_clock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/compiler.h"
#include "link/fault.h"
#include "link/link.h"

/* Decorrelates the two directions' RNG streams drawn from one seed. */
#define SIM_DIR_SEED_MIX 0x9e3779b97f4a7c15ULL

struct sim_end {
	struct synack_link link;    /* first: the public handle */
	struct synack_sim_wire *wire;
	int side;
};

struct synack_sim_wire {
	struct synack_clock *clk;   /* not owned */
	struct sim_end end[2];
	struct fault_queue dir[2];  /* dir[s] carries what end s sends */
};

static struct sim_end *to_end(struct synack_link *l)
{
	return container_of(l, struct sim_end, link);
}

static int sim_send(struct synack_link *l, const void *frame, size_t len)
{
	struct sim_end *e = to_end(l);
	int err;

	err = link_check_frame(l, frame, len);
	if (err < 0)
		return err;
	return fault_queue_push(&e->wire->dir[e->side], synack_clock_now(e->wire->clk), frame, len);
}

static int sim_recv(struct synack_link *l, void *buf, size_t cap)
{
	struct sim_end *e = to_end(l);

	if (!buf || cap == 0)
		return -EINVAL;
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	return (int)fault_queue_pop(&e->wire->dir[!e->side], synack_clock_now(e->wire->clk), buf, cap);
}

static int sim_wait_fd(struct synack_link *l)
{
	(void)l;
	return -1;
}

static uint64_t sim_next_deadline(struct synack_link *l)
{
	struct sim_end *e = to_end(l);

	return fault_queue_next_due(&e->wire->dir[!e->side]);
}

/* The ends belong to the wire; synack_sim_wire_free releases them. */
static void sim_destroy(struct synack_link *l)
{
	(void)l;
}

static const struct synack_link_ops sim_ops = {
	.kind = "sim",
	.send = sim_send,
	.recv = sim_recv,
	.wait_fd = sim_wait_fd,
	.next_deadline = sim_next_deadline,
	.destroy = sim_destroy,
};

static void sim_end_init(struct synack_sim_wire *w, int side, uint32_t mtu)
{
	static const uint8_t base_mac[6] = { 0x02, 0, 0, 0, 0, 0 };
	struct sim_end *e = &w->end[side];

	e->wire = w;
	e->side = side;
	e->link.ops = &sim_ops;
	e->link.mtu = mtu;
	memcpy(e->link.mac, base_mac, sizeof(base_mac));
	e->link.mac[5] = (uint8_t)(side + 1);
}

int synack_sim_wire_new(struct synack_clock *clk, const struct synack_sim_config *cfg,
			struct synack_sim_wire **out)
{
	struct synack_sim_config c;
	struct synack_sim_wire *w;
	int err;

	if (!clk || !out)
		return -EINVAL;
	err = fault_config_normalize(cfg, &c);
	if (err < 0)
		return err;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->clk = clk;
	for (int d = 0; d < 2; d++) {
		fault_queue_init(&w->dir[d], &c, c.seed ^ ((uint64_t)d * SIM_DIR_SEED_MIX));
		sim_end_init(w, d, c.mtu);
	}
	*out = w;
	return 0;
}

struct synack_link *synack_sim_wire_end(struct synack_sim_wire *w, int side)
{
	if (!w || side < 0 || side > 1)
		return NULL;
	return &w->end[side].link;
}

struct synack_sim_stats synack_sim_wire_stats(const struct synack_sim_wire *w, int dir)
{
	struct synack_sim_stats none = { 0 };

	if (!w || dir < 0 || dir > 1)
		return none;
	return w->dir[dir].stats;
}

void synack_sim_wire_free(struct synack_sim_wire *w)
{
	if (!w)
		return;
	fault_queue_destroy(&w->dir[0]);
	fault_queue_destroy(&w->dir[1]);
	free(w);
}
