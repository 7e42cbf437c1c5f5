/* Pluggable congestion control (tcp_cong.c): the registry, attaching and
 * switching modules, and Reno's slow start, additive increase, ssthresh
 * and undo, with Linux's exact counts. */
#include <errno.h>
#include "../test.h"
#include "core/stack.h"

struct env {
	struct synack_clock *clk;
	struct stack *st;
	struct sock *sk;
};

static void env_init(struct env *e, const char *ca)
{
	struct synack_stack_config sc = { .name = "cc", .seeded = true, .seed = 7 };

	e->clk = synack_clock_new_virtual(1000000000ULL);
	sc.clock = e->clk;
	synack_stack_new(&sc, &e->st);
	e->sk = sk_alloc(e->st);
	e->sk->ca_ops = tcp_ca_find(ca);
	e->sk->snd_cwnd = 10;
	e->sk->snd_ssthresh = 0x7fffffff;
	e->sk->snd_cwnd_clamp = ~0u;
	e->sk->is_cwnd_limited = true;
}

static void env_free(struct env *e)
{
	sk_free(e->sk);
	synack_stack_free(e->st);
	synack_clock_free(e->clk);
}

static bool priv_is(const struct sock *sk, uint8_t byte)
{
	const uint8_t *p = (const uint8_t *)sk->ca_priv;

	for (size_t i = 0; i < sizeof(sk->ca_priv); i++)
		if (p[i] != byte)
			return false;
	return true;
}

/* A module that records, in fields of the socket, which hooks ran. */
static void rec_init(struct sock *sk) { sk->total_retrans += 1; }
static void rec_release(struct sock *sk) { sk->total_rto += 1; }
static uint32_t rec_ssthresh(struct sock *sk) { return sk->snd_cwnd; }
static void rec_cong_avoid(struct sock *sk, uint32_t ack, uint32_t acked) { (void)sk, (void)ack, (void)acked; }
static void rec_set_state(struct sock *sk, uint8_t st) { sk->prior_cwnd = (uint32_t)sk->ca_state << 8 | st; }
static void rec_cwnd_event(struct sock *sk, enum tcp_ca_event ev) { sk->bytes_retrans = 100 + ev; }
static const struct tcp_congestion_ops rec_ops = {
	.name = "rec", .init = rec_init, .release = rec_release, .ssthresh = rec_ssthresh,
	.cong_avoid = rec_cong_avoid, .set_state = rec_set_state, .cwnd_event = rec_cwnd_event,
};

TEST(registry_lookups)
{
	CHECK(tcp_ca_find("reno") == &tcp_reno_ops);
	CHECK(tcp_ca_find("cubic") == &tcp_cubic_ops);
	CHECK(tcp_ca_find("bbr") == NULL);
	CHECK(tcp_ca_find("CUBIC") == NULL); /* names are exact, as strcmp in Linux */
	CHECK(tcp_ca_find("") == NULL);
	CHECK(tcp_ca_find(NULL) == NULL);
	CHECK(tcp_ca_default() == &tcp_cubic_ops);
	CHECK_STR(tcp_reno_ops.name, "reno");
	CHECK_STR(tcp_cubic_ops.name, "cubic");
	/* Linux refuses modules without these two. */
	CHECK(tcp_reno_ops.ssthresh && tcp_reno_ops.cong_avoid && tcp_reno_ops.undo_cwnd);
	CHECK(tcp_cubic_ops.ssthresh && tcp_cubic_ops.cong_avoid && tcp_cubic_ops.undo_cwnd);
}

TEST(new_socket_gets_default)
{
	struct env e;

	env_init(&e, "reno");
	sk_free(e.sk);
	e.sk = sk_alloc(e.st);
	CHECK(e.sk->ca_ops == &tcp_cubic_ops);
	/* A socket without a module is given the default on init. */
	e.sk->ca_ops = NULL;
	e.sk->prior_ssthresh = 9;
	tcp_init_congestion_control(e.sk);
	CHECK(e.sk->ca_ops == &tcp_cubic_ops);
	CHECK_EQ(e.sk->prior_ssthresh, 0);
	env_free(&e);
}

TEST(init_runs_module_init)
{
	struct env e;

	env_init(&e, "reno");
	e.sk->ca_ops = &rec_ops;
	e.sk->prior_ssthresh = 30;
	tcp_init_congestion_control(e.sk);
	CHECK_EQ(e.sk->total_retrans, 1);
	CHECK_EQ(e.sk->prior_ssthresh, 0);
	e.sk->ca_ops = &tcp_reno_ops; /* reno has no init: nothing to call */
	tcp_init_congestion_control(e.sk);
	CHECK_EQ(e.sk->total_retrans, 1);
	env_free(&e);
}

TEST(set_unknown_is_enoent)
{
	struct env e;

	env_init(&e, "cubic");
	memset(e.sk->ca_priv, 0xAA, sizeof(e.sk->ca_priv));
	CHECK_EQ(tcp_set_congestion_control(e.sk, "vegas"), -ENOENT);
	CHECK_EQ(tcp_set_congestion_control(e.sk, NULL), -ENOENT);
	CHECK(e.sk->ca_ops == &tcp_cubic_ops);
	CHECK(priv_is(e.sk, 0xAA));
	env_free(&e);
}

TEST(set_same_keeps_state)
{
	struct env e;

	env_init(&e, "cubic");
	e.sk->c.state = TCP_ESTABLISHED;
	memset(e.sk->ca_priv, 0xAA, sizeof(e.sk->ca_priv));
	e.sk->prior_ssthresh = 77;
	CHECK_EQ(tcp_set_congestion_control(e.sk, "cubic"), 0);
	CHECK(priv_is(e.sk, 0xAA));
	CHECK_EQ(e.sk->prior_ssthresh, 77);
	env_free(&e);
}

TEST(switch_closed_defers_init)
{
	struct env e;

	env_init(&e, "cubic");
	e.sk->ca_ops = &rec_ops;
	memset(e.sk->ca_priv, 0xAA, sizeof(e.sk->ca_priv));
	e.sk->prior_ssthresh = 77;
	CHECK_EQ(tcp_set_congestion_control(e.sk, "cubic"), 0);
	CHECK(e.sk->ca_ops == &tcp_cubic_ops);
	CHECK_EQ(e.sk->total_rto, 1);        /* the old module was released */
	CHECK(priv_is(e.sk, 0));             /* its state is gone */
	CHECK_EQ(e.sk->prior_ssthresh, 77);  /* no init before the connection */

	e.sk->c.state = TCP_LISTEN;
	CHECK_EQ(tcp_set_congestion_control(e.sk, "reno"), 0);
	CHECK(e.sk->ca_ops == &tcp_reno_ops);
	CHECK_EQ(e.sk->prior_ssthresh, 77);
	env_free(&e);
}

TEST(switch_established_reinits)
{
	struct env e;

	env_init(&e, "reno");
	e.sk->c.state = TCP_ESTABLISHED;
	e.sk->ca_ops = &rec_ops;
	memset(e.sk->ca_priv, 0xAA, sizeof(e.sk->ca_priv));
	e.sk->prior_ssthresh = 77;
	CHECK_EQ(tcp_set_congestion_control(e.sk, "reno"), 0);
	CHECK(e.sk->ca_ops == &tcp_reno_ops);
	CHECK_EQ(e.sk->total_rto, 1);
	CHECK(priv_is(e.sk, 0));
	CHECK_EQ(e.sk->prior_ssthresh, 0); /* tcp_init_congestion_control ran */

	/* To cubic: its init leaves a fresh HyStart round in ca_priv. */
	memset(e.sk->ca_priv, 0xAA, sizeof(e.sk->ca_priv));
	e.sk->prior_ssthresh = 5;
	CHECK_EQ(tcp_set_congestion_control(e.sk, "cubic"), 0);
	CHECK(e.sk->ca_ops == &tcp_cubic_ops);
	CHECK(!priv_is(e.sk, 0xAA));
	CHECK(!priv_is(e.sk, 0));
	CHECK_EQ(e.sk->prior_ssthresh, 0);
	env_free(&e);
}

TEST(ca_state_and_events)
{
	struct env e;

	env_init(&e, "reno");
	e.sk->ca_ops = &rec_ops;
	e.sk->ca_state = TCP_CA_Open;
	tcp_set_ca_state(e.sk, TCP_CA_Recovery);
	/* The module saw the old state still in place. */
	CHECK_EQ(e.sk->prior_cwnd, TCP_CA_Open << 8 | TCP_CA_Recovery);
	CHECK_EQ(e.sk->ca_state, TCP_CA_Recovery);
	tcp_ca_event(e.sk, CA_EVENT_COMPLETE_CWR);
	CHECK_EQ(e.sk->bytes_retrans, 100 + CA_EVENT_COMPLETE_CWR);

	/* Reno has neither hook. */
	e.sk->ca_ops = &tcp_reno_ops;
	tcp_set_ca_state(e.sk, TCP_CA_Loss);
	CHECK_EQ(e.sk->ca_state, TCP_CA_Loss);
	tcp_ca_event(e.sk, CA_EVENT_TX_START);
	env_free(&e);
}

TEST(reno_slow_start)
{
	struct env e;
	struct sock *sk;
	int i;

	env_init(&e, "reno");
	sk = e.sk;
	/* One segment per segment ACKed: a window of ACKs doubles cwnd. */
	for (i = 0; i < 10; i++)
		tcp_reno_cong_avoid(sk, 0, 1);
	CHECK_EQ(sk->snd_cwnd, 20);
	CHECK_EQ(sk->snd_cwnd_cnt, 0);
	tcp_reno_cong_avoid(sk, 0, 20); /* a stretch ACK counts in full */
	CHECK_EQ(sk->snd_cwnd, 40);

	/* Not limited by cwnd: no growth at all. */
	sk->is_cwnd_limited = false;
	tcp_reno_cong_avoid(sk, 0, 10);
	CHECK_EQ(sk->snd_cwnd, 40);
	env_free(&e);
}

TEST(slow_start_caps_at_ssthresh)
{
	struct env e;
	struct sock *sk;

	env_init(&e, "reno");
	sk = e.sk;
	sk->snd_ssthresh = 16;
	CHECK_EQ(tcp_slow_start(sk, 10), 4);    /* 6 used, 4 left over */
	CHECK_EQ(sk->snd_cwnd, 16);
	CHECK_EQ(tcp_slow_start(sk, 3), 3);     /* at ssthresh: all left over */
	CHECK_EQ(sk->snd_cwnd, 16);

	/* Reno spends the leftover on additive increase in the same ACK. */
	sk->snd_cwnd = 10;
	tcp_reno_cong_avoid(sk, 0, 10);
	CHECK_EQ(sk->snd_cwnd, 16);
	CHECK_EQ(sk->snd_cwnd_cnt, 4);

	/* The clamp limits cwnd; the leftover is counted before the clamp. */
	sk->snd_cwnd = 10;
	sk->snd_ssthresh = 0x7fffffff;
	sk->snd_cwnd_clamp = 12;
	CHECK_EQ(tcp_slow_start(sk, 5), 0);
	CHECK_EQ(sk->snd_cwnd, 12);
	env_free(&e);
}

TEST(reno_congestion_avoidance)
{
	struct env e;
	struct sock *sk;
	int acks = 0;

	env_init(&e, "reno");
	sk = e.sk;
	sk->snd_ssthresh = 10; /* cwnd == ssthresh: not slow start */
	while (sk->snd_cwnd < 11) {
		tcp_reno_cong_avoid(sk, 0, 1);
		acks++;
	}
	CHECK_EQ(acks, 10);
	CHECK_EQ(sk->snd_cwnd_cnt, 0);
	/* One segment per window: 10 + 11 + ... + 19 ACKs to reach 20. */
	while (sk->snd_cwnd < 20) {
		tcp_reno_cong_avoid(sk, 0, 1);
		acks++;
	}
	CHECK_EQ(acks, 145);
	CHECK_EQ(sk->snd_cwnd_cnt, 0);
	env_free(&e);
}

TEST(cong_avoid_ai_accounting)
{
	struct env e;
	struct sock *sk;

	env_init(&e, "reno");
	sk = e.sk;
	/* A stretch ACK of 25 at w = 10: two increments, 5 carried. */
	tcp_cong_avoid_ai(sk, 10, 25);
	CHECK_EQ(sk->snd_cwnd, 12);
	CHECK_EQ(sk->snd_cwnd_cnt, 5);

	/* Credit from a larger w is spent as a single increment first. */
	sk->snd_cwnd = 10;
	sk->snd_cwnd_cnt = 35;
	tcp_cong_avoid_ai(sk, 10, 1);
	CHECK_EQ(sk->snd_cwnd, 11);
	CHECK_EQ(sk->snd_cwnd_cnt, 1);

	/* The clamp wins, the counter still resets. */
	sk->snd_cwnd = 10;
	sk->snd_cwnd_cnt = 9;
	sk->snd_cwnd_clamp = 10;
	tcp_cong_avoid_ai(sk, 10, 1);
	CHECK_EQ(sk->snd_cwnd, 10);
	CHECK_EQ(sk->snd_cwnd_cnt, 0);
	env_free(&e);
}

TEST(reno_ssthresh_halves_with_floor)
{
	static const uint32_t cases[][2] = {
		{ 100, 50 }, { 101, 50 }, { 10, 5 }, { 5, 2 }, { 4, 2 }, { 3, 2 }, { 2, 2 }, { 1, 2 }, { 0, 2 },
		{ 0xffffffffu, 0x7fffffffu },
	};
	struct env e;

	env_init(&e, "reno");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		e.sk->snd_cwnd = cases[i][0];
		CHECK_EQ(tcp_reno_ssthresh(e.sk), cases[i][1]);
		CHECK_EQ(tcp_reno_ops.ssthresh(e.sk), cases[i][1]);
	}
	env_free(&e);
}

TEST(reno_undo)
{
	struct env e;

	env_init(&e, "reno");
	e.sk->snd_cwnd = 7;
	e.sk->prior_cwnd = 20;
	CHECK_EQ(tcp_reno_undo_cwnd(e.sk), 20);
	e.sk->snd_cwnd = 30;
	CHECK_EQ(tcp_reno_ops.undo_cwnd(e.sk), 30);
	env_free(&e);
}

int main(void)
{
	RUN(registry_lookups);
	RUN(new_socket_gets_default);
	RUN(init_runs_module_init);
	RUN(set_unknown_is_enoent);
	RUN(set_same_keeps_state);
	RUN(switch_closed_defers_init);
	RUN(switch_established_reinits);
	RUN(ca_state_and_events);
	RUN(reno_slow_start);
	RUN(slow_start_caps_at_ssthresh);
	RUN(reno_congestion_avoidance);
	RUN(cong_avoid_ai_accounting);
	RUN(reno_ssthresh_halves_with_floor);
	RUN(reno_undo);
	return TEST_SUMMARY();
}
