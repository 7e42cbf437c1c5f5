/* The faulty wrapper: the sim wire's fault model in front of any link. */
#include <errno.h>
#include <stdbool.h>
#include "synack/synack.h"
#include "../test.h"

#define MS 1000000ULL

struct rig {
	struct synack_clock *clk;
	struct synack_sim_wire *w;
	struct synack_link *f;      /* the wrapper around end 0 */
	struct synack_link *b;      /* end 1, bare */
};

static int rig_open(struct rig *r, const struct synack_sim_config *wire,
		    const struct synack_sim_config *faults)
{
	int err;

	r->clk = synack_clock_new_virtual(0);
	if (!r->clk)
		return -ENOMEM;
	err = synack_sim_wire_new(r->clk, wire, &r->w);
	if (err < 0)
		return err;
	r->b = synack_sim_wire_end(r->w, 1);
	return synack_faulty_wrap(synack_sim_wire_end(r->w, 0), r->clk, faults, &r->f);
}

static void rig_close(struct rig *r)
{
	synack_link_destroy(r->f);
	synack_sim_wire_free(r->w);
	synack_clock_free(r->clk);
}

static void make_frame(uint8_t *f, size_t len, uint32_t id)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 3 + id);
	memcpy(f + 14, &id, 4);
}

static int send_id(struct synack_link *l, uint32_t id)
{
	uint8_t f[64];

	make_frame(f, sizeof(f), id);
	return l->ops->send(l, f, sizeof(f));
}

/* Step the clock from deadline to deadline on l until nothing is left, and
 * count what l receives. Both sides' schedules move only when called. */
static int drain_count(struct rig *r, struct synack_link *l)
{
	uint8_t buf[128];
	uint64_t t;
	int count = 0;

	for (;;) {
		while (l->ops->recv(l, buf, sizeof(buf)) > 0)
			count++;
		t = l->ops->next_deadline(l);
		if (t == SYNACK_NEVER)
			return count;
		if (t > synack_clock_now(r->clk))
			synack_clock_set(r->clk, t);
	}
}

TEST(transparent_without_faults)
{
	struct rig r;
	uint8_t sent[64], buf[128];

	REQUIRE(rig_open(&r, NULL, NULL) == 0);
	CHECK_STR(r.f->ops->kind, "faulty");
	CHECK_EQ(r.f->mtu, 1500);
	CHECK_EQ(r.f->mac[5], 1);
	CHECK_EQ(r.f->mac[0], 2);
	CHECK_EQ(r.f->ops->wait_fd(r.f), -1);
	CHECK(r.f->ops->next_deadline(r.f) == SYNACK_NEVER);
	make_frame(sent, sizeof(sent), 5);
	CHECK_EQ(r.f->ops->send(r.f, sent, sizeof(sent)), 0);
	CHECK_EQ(r.b->ops->recv(r.b, buf, sizeof(buf)), 64);
	CHECK_MEM(buf, sent, 64);
	CHECK_EQ(r.b->ops->send(r.b, sent, sizeof(sent)), 0);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 64);
	CHECK_MEM(buf, sent, 64);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 0);
	rig_close(&r);
}

TEST(bad_arguments)
{
	static const uint8_t frame[1600];
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct synack_sim_wire *w = NULL;
	struct synack_link *out = NULL, *a;
	struct synack_sim_config bad = { .corrupt = 1.5 };
	uint8_t buf[16];

	REQUIRE(clk && synack_sim_wire_new(clk, NULL, &w) == 0);
	a = synack_sim_wire_end(w, 0);
	CHECK_EQ(synack_faulty_wrap(NULL, clk, NULL, &out), -EINVAL);
	CHECK_EQ(synack_faulty_wrap(a, NULL, NULL, &out), -EINVAL);
	CHECK_EQ(synack_faulty_wrap(a, clk, NULL, NULL), -EINVAL);
	CHECK_EQ(synack_faulty_wrap(a, clk, &bad, &out), -EINVAL);
	/* Offloads (merged frames, checksums left to the device) are refused. */
	a->features = SYNACK_LINK_F_TX_CSUM;
	CHECK_EQ(synack_faulty_wrap(a, clk, NULL, &out), -EINVAL);
	a->features = 0;
	a->max_frame = 65535;
	CHECK_EQ(synack_faulty_wrap(a, clk, NULL, &out), -EINVAL);
	a->max_frame = 0;
	CHECK(out == NULL);
	/* inner still works after a failed wrap */
	CHECK_EQ(a->ops->send(a, frame, 60), 0);

	REQUIRE(synack_faulty_wrap(a, clk, NULL, &out) == 0);
	CHECK_EQ(out->ops->send(out, frame, 13), -EINVAL);
	CHECK_EQ(out->ops->send(out, frame, 1515), -EMSGSIZE);
	CHECK_EQ(out->ops->send(out, NULL, 60), -EINVAL);
	CHECK_EQ(out->ops->send(out, frame, 1514), 0);
	CHECK_EQ(out->ops->recv(out, NULL, 16), -EINVAL);
	CHECK_EQ(out->ops->recv(out, buf, 0), -EINVAL);
	CHECK_EQ(synack_sim_wire_stats(w, 0).sent, 2);
	synack_link_destroy(out);
	synack_sim_wire_free(w);
	synack_clock_free(clk);
}

TEST(total_loss_passes_nothing)
{
	struct synack_sim_config faults = { .loss = 1.0, .seed = 1 };
	struct synack_sim_config wire = { .delay_ns = 1 * MS };
	struct rig r;

	REQUIRE(rig_open(&r, &wire, &faults) == 0);
	for (uint32_t i = 0; i < 100; i++) {
		CHECK_EQ(send_id(r.f, i), 0);
		CHECK_EQ(send_id(r.b, i), 0);
	}
	CHECK_EQ(drain_count(&r, r.f), 0);
	CHECK_EQ(drain_count(&r, r.b), 0);
	/* Nothing reached the wire from the wrapper; the wire delivered all
	 * of b's frames to the wrapper, which dropped them. */
	CHECK_EQ(synack_sim_wire_stats(r.w, 0).sent, 0);
	CHECK_EQ(synack_sim_wire_stats(r.w, 1).delivered, 100);
	rig_close(&r);
}

TEST(delay_in_both_directions)
{
	struct synack_sim_config faults = { .delay_ns = 3 * MS };
	struct synack_sim_config wire = { .delay_ns = 2 * MS };
	struct rig r;
	uint8_t sent[64], buf[128];

	REQUIRE(rig_open(&r, &wire, &faults) == 0);
	make_frame(sent, sizeof(sent), 1);

	/* tx: held 3 ms by the wrapper, then 2 ms on the wire. */
	CHECK_EQ(r.f->ops->send(r.f, sent, sizeof(sent)), 0);
	CHECK(r.f->ops->next_deadline(r.f) == 3 * MS);
	CHECK(r.b->ops->next_deadline(r.b) == SYNACK_NEVER);
	synack_clock_set(r.clk, 3 * MS - 1);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 0);
	CHECK(r.b->ops->next_deadline(r.b) == SYNACK_NEVER);
	synack_clock_set(r.clk, 3 * MS);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 0);  /* flushes tx */
	CHECK(r.b->ops->next_deadline(r.b) == 5 * MS);
	CHECK(r.f->ops->next_deadline(r.f) == SYNACK_NEVER);
	synack_clock_set(r.clk, 5 * MS);
	CHECK_EQ(r.b->ops->recv(r.b, buf, sizeof(buf)), 64);
	CHECK_MEM(buf, sent, 64);

	/* rx: 2 ms on the wire, then held 3 ms by the wrapper. */
	synack_clock_set(r.clk, 10 * MS);
	CHECK_EQ(r.b->ops->send(r.b, sent, sizeof(sent)), 0);
	CHECK(r.f->ops->next_deadline(r.f) == 12 * MS);
	synack_clock_set(r.clk, 12 * MS);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 0);
	CHECK(r.f->ops->next_deadline(r.f) == 15 * MS);
	synack_clock_set(r.clk, 15 * MS - 1);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 0);
	synack_clock_set(r.clk, 15 * MS);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 64);
	CHECK_MEM(buf, sent, 64);
	CHECK(r.f->ops->next_deadline(r.f) == SYNACK_NEVER);

	/* A later send also flushes what is due. */
	CHECK_EQ(send_id(r.f, 2), 0);
	synack_clock_set(r.clk, 18 * MS);
	CHECK_EQ(send_id(r.f, 3), 0);
	CHECK(r.b->ops->next_deadline(r.b) == 20 * MS);
	rig_close(&r);
}

TEST(duplicate_on_receive)
{
	struct synack_sim_config faults = { .duplicate = 1.0 };
	struct rig r;
	uint8_t buf[128];

	REQUIRE(rig_open(&r, NULL, &faults) == 0);
	CHECK_EQ(send_id(r.b, 9), 0);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 64);
	CHECK_EQ(buf[14], 9);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 64);
	CHECK_EQ(buf[14], 9);
	CHECK_EQ(r.f->ops->recv(r.f, buf, sizeof(buf)), 0);
	/* and on send */
	CHECK_EQ(send_id(r.f, 4), 0);
	CHECK_EQ(drain_count(&r, r.b), 2);
	rig_close(&r);
}

static void lossy_pattern(uint64_t seed, uint8_t *got, size_t n)
{
	struct synack_sim_config faults = { .loss = 0.5, .seed = seed };
	struct rig r;
	uint8_t buf[128];

	memset(got, 0, n);
	if (rig_open(&r, NULL, &faults) < 0)
		return;
	for (uint32_t i = 0; i < n; i++) {
		send_id(r.f, i);
		got[i] = r.b->ops->recv(r.b, buf, sizeof(buf)) == 64;
	}
	rig_close(&r);
}

TEST(seeded_outcome)
{
	uint8_t a[2000], b[2000], c[2000];
	int passed = 0;

	lossy_pattern(17, a, sizeof(a));
	lossy_pattern(17, b, sizeof(b));
	lossy_pattern(18, c, sizeof(c));
	for (size_t i = 0; i < sizeof(a); i++)
		passed += a[i];
	CHECK_MEM(a, b, sizeof(a));
	CHECK(memcmp(a, c, sizeof(a)) != 0);
	CHECK(passed > 900 && passed < 1100);
}

/* A stand-in inner link that records what the wrapper does with it. */
struct fake {
	struct synack_link link;
	int destroyed;
	int sends;
};

static int fake_send(struct synack_link *l, const void *f, size_t len)
{
	(void)f;
	(void)len;
	((struct fake *)l)->sends++;
	return -EAGAIN;
}
static int fake_recv(struct synack_link *l, void *buf, size_t cap)
{
	(void)l;
	(void)buf;
	(void)cap;
	return -EIO;
}
static int fake_wait_fd(struct synack_link *l) { (void)l; return 7; }
static uint64_t fake_deadline(struct synack_link *l) { (void)l; return 42 * MS; }
static void fake_destroy(struct synack_link *l) { ((struct fake *)l)->destroyed++; }

static const struct synack_link_ops fake_ops = {
	.kind = "fake", .send = fake_send, .recv = fake_recv, .wait_fd = fake_wait_fd,
	.next_deadline = fake_deadline, .destroy = fake_destroy,
};

TEST(forwards_and_owns_inner)
{
	struct fake fk = { .link = { .ops = &fake_ops, .mac = { 1, 2, 3, 4, 5, 6 }, .mtu = 9000 } };
	struct synack_sim_config faults = { .delay_ns = 50 * MS };
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct synack_link *f = NULL;
	uint8_t buf[64];

	REQUIRE(clk && synack_faulty_wrap(&fk.link, clk, &faults, &f) == 0);
	CHECK_EQ(f->mtu, 9000);
	CHECK_MEM(f->mac, fk.link.mac, 6);
	CHECK_EQ(f->ops->wait_fd(f), 7);
	CHECK(f->ops->next_deadline(f) == 42 * MS);
	CHECK_EQ(send_id(f, 1), 0);
	CHECK(f->ops->next_deadline(f) == 42 * MS); /* min(inner 42, tx 50) */
	CHECK_EQ(fk.sends, 0);
	/* Inner errors come through when nothing is due; a refused tx frame is dropped. */
	CHECK_EQ(f->ops->recv(f, buf, sizeof(buf)), -EIO);
	synack_clock_set(clk, 50 * MS);
	CHECK_EQ(f->ops->recv(f, buf, sizeof(buf)), -EIO);
	CHECK_EQ(fk.sends, 1);
	CHECK_EQ(f->ops->recv(f, buf, sizeof(buf)), -EIO);
	CHECK_EQ(fk.sends, 1);
	CHECK_EQ(fk.destroyed, 0);
	synack_link_destroy(f);
	CHECK_EQ(fk.destroyed, 1);
	synack_clock_free(clk);
}

int main(void)
{
	RUN(transparent_without_faults);
	RUN(bad_arguments);
	RUN(total_loss_passes_nothing);
	RUN(delay_in_both_directions);
	RUN(duplicate_on_receive);
	RUN(seeded_outcome);
	RUN(forwards_and_owns_inner);
	return TEST_SUMMARY();
}
