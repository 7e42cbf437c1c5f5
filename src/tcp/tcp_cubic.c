/*
 * CUBIC congestion control with HyStart (Linux: net/ipv4/tcp_cubic.c, v6.x;
 * RFC 9438 describes the algorithm). After a loss at W_max the window
 * follows W(t) = C (t - K)^3 + W_max, K = cbrt(W_max (1 - beta) / C), so it
 * comes back quickly, lingers near the last loss point, then probes beyond
 * it; a Reno estimate keeps it at least as fast as Reno where Reno would
 * win (small windows, short RTTs). HyStart ends slow start before the first
 * loss when ACK trains stretch or delay grows.
 *
 * Parameters are Linux's defaults, fixed at compile time: beta 717/1024,
 * C = 41/1024 * 10 (0.4), fast convergence and TCP friendliness on, no
 * initial ssthresh, HyStart on with both detectors.
 *
 * Clocks: Linux runs the cubic curve on jiffies and HyStart on the per-ACK
 * microsecond stamp. synack drives both from the stack's clock, which is
 * held for the frame, timer run or socket call being processed (Linux's
 * tcp_mstamp), so the curve is a pure function of the ACK sequence and of
 * virtual time: "jiffies" here are that clock's milliseconds, i.e. HZ =
 * 1000, which matches sk->lsndtime (stack_jiffies).
 */
#include <string.h>
#include "core/compiler.h"
#include "core/stack.h"
#include "tcp/tcp.h"

#define BICTCP_BETA_SCALE 1024  /* beta is in 1/1024 */
#define BICTCP_HZ 10            /* the curve's time unit is 2^-10 s */
#define CUBIC_HZ 1000           /* our jiffies are the stack clock's milliseconds */

#define CUBIC_BETA 717          /* multiplicative decrease to 0.7 */
#define CUBIC_BIC_SCALE 41      /* C = 41 * 10 / 1024 = 0.4 */

/* HyStart: the two detectors, how many delay samples make a round's
 * minimum, and the bounds on how much that minimum may grow. */
#define HYSTART_ACK_TRAIN 0x1
#define HYSTART_DELAY 0x2
#define HYSTART_DETECT (HYSTART_ACK_TRAIN | HYSTART_DELAY)
#define HYSTART_MIN_SAMPLES 8
#define HYSTART_DELAY_MIN 4000U     /* us */
#define HYSTART_DELAY_MAX 16000U    /* us */
#define HYSTART_LOW_WINDOW 16       /* no exit below this cwnd */
#define HYSTART_ACK_DELTA_US 2000   /* ACKs this close belong to one train */

/* 8 (1 + beta) / 3 / (1 - beta), in the units the Reno estimate counts
 * ACKs in: Reno-equivalent growth of 3 (1 - beta) / (1 + beta) per RTT. */
#define CUBIC_BETA_SCALE (8 * (BICTCP_BETA_SCALE + CUBIC_BETA) / 3 / (BICTCP_BETA_SCALE - CUBIC_BETA))
/* C / RTT scaled by 2^10, with Linux's nominal RTT of 100 ms. */
#define CUBE_RTT_SCALE (CUBIC_BIC_SCALE * 10)
/* 2^(10 + 3 * BICTCP_HZ) / (C * 1024 / RTT): turns W_max - cwnd into K^3 in
 * the curve's time unit. */
#define CUBE_FACTOR ((1ULL << (10 + 3 * BICTCP_HZ)) / (CUBIC_BIC_SCALE * 10))

/* Linux's struct bictcp, in sk->ca_priv. */
struct bictcp {
	uint32_t cnt;               /* ACKed segments per cwnd increment */
	uint32_t last_max_cwnd;     /* W_max: cwnd at the last loss (lowered by fast convergence) */
	uint32_t last_cwnd;         /* cwnd when cnt was last computed */
	uint32_t last_time;         /* jiffies of that computation */
	uint32_t bic_origin_point;  /* the plateau of the curve */
	uint32_t bic_K;             /* 2^-10 s from epoch_start to the plateau */
	uint32_t delay_min;         /* us: least RTT seen */
	uint32_t epoch_start;       /* jiffies the curve started; 0 = none */
	uint32_t ack_cnt;           /* segments ACKed, for the Reno estimate */
	uint32_t tcp_cwnd;          /* the Reno estimate */
	uint16_t unused;            /* bictcp_reset clears everything before this */
	uint8_t sample_cnt;         /* delay samples in this HyStart round */
	uint8_t found;              /* HyStart has ended slow start */
	uint32_t round_start;       /* us: start of this HyStart round */
	uint32_t end_seq;           /* the round ends when this is ACKed */
	uint32_t last_ack;          /* us: last ACK of the current train */
	uint32_t curr_rtt;          /* us: least RTT of this round */
};

_Static_assert(sizeof(struct bictcp) <= sizeof(((struct sock *)0)->ca_priv), "struct bictcp must fit in ca_priv");

uint32_t cubic_root(uint64_t a); /* not static: the unit test checks it */

static struct bictcp *cubic_ca(struct sock *sk) { return (struct bictcp *)sk->ca_priv; }

static uint32_t bictcp_clock_us(const struct sock *sk) { return (uint32_t)(stack_now(sk->st) / NSEC_PER_USEC); }
static uint32_t cubic_jiffies(const struct sock *sk) { return stack_jiffies(sk->st); }

/* See tcp_cong.c: the output path decides whether cwnd is the limit. */
static bool tcp_is_cwnd_limited(const struct sock *sk) { return sk->is_cwnd_limited; }

/* Forget the curve and the loss history; HyStart's round is kept, as
 * bictcp_hystart_reset starts a new one anyway. */
static void bictcp_reset(struct bictcp *ca)
{
	memset(ca, 0, offsetof(struct bictcp, unused));
	ca->found = 0;
}

/* A HyStart round lasts until what is in flight now has been ACKed. */
static void bictcp_hystart_reset(struct sock *sk)
{
	struct bictcp *ca = cubic_ca(sk);

	ca->round_start = ca->last_ack = bictcp_clock_us(sk);
	ca->end_seq = sk->snd_nxt;
	ca->curr_rtt = ~0U;
	ca->sample_cnt = 0;
}

static void cubictcp_init(struct sock *sk)
{
	bictcp_reset(cubic_ca(sk));
	bictcp_hystart_reset(sk);
}

/* After an idle period (the application sent nothing), the epoch moves on
 * by the idle time: otherwise the curve would treat the idle time as time
 * spent growing and the first ACKs would push cwnd far past W_max. */
static void cubictcp_cwnd_event(struct sock *sk, enum tcp_ca_event event)
{
	struct bictcp *ca = cubic_ca(sk);
	uint32_t now;
	int32_t delta;

	if (event != CA_EVENT_TX_START)
		return;
	now = cubic_jiffies(sk);
	delta = (int32_t)(now - sk->lsndtime);
	if (ca->epoch_start && delta > 0) {
		ca->epoch_start += (uint32_t)delta;
		if (after(ca->epoch_start, now))
			ca->epoch_start = now;
	}
}

static unsigned int fls64(uint64_t x) { return x ? 64 - (unsigned int)__builtin_clzll(x) : 0; }

/* Integer cube root by table and one Newton-Raphson step (average error
 * about 0.2%): K needs a cube root per loss, and a bisection or float math
 * per loss would cost more for no useful precision. For x < 64,
 * cbrt(x) = (tab[x] + 10) >> 6: tab holds cbrt(x * 2^18) - 1, refined by
 * hand in Linux, and the values must match it for the same curve. */
uint32_t cubic_root(uint64_t a)
{
	static const uint8_t tab[64] = {
		0,   54,  54,  54,  118, 118, 118, 118, 123, 129, 134, 138, 143, 147, 151, 156,
		157, 161, 164, 168, 170, 173, 176, 179, 181, 185, 187, 190, 192, 194, 197, 199,
		200, 202, 204, 206, 209, 211, 213, 215, 217, 219, 221, 222, 224, 225, 227, 229,
		231, 232, 234, 236, 237, 239, 240, 242, 244, 245, 246, 248, 250, 251, 252, 254,
	};
	uint32_t x, b, top;

	b = fls64(a);
	if (b < 7) /* a < 64: the table alone, rounded to nearest */
		return ((uint32_t)tab[(uint32_t)a] + 35) >> 6;

	/* b * 84 / 256 is about b / 3: scale a's top six bits into the table
	 * and the table's answer back up by the same third of the shift. */
	b = ((b * 84) >> 8) - 1;
	top = (uint32_t)(a >> (b * 3));
	x = ((uint32_t)(((uint32_t)tab[top] + 10) << b)) >> 6;

	/* x' = (2x + a / x^2) / 3, with x (x - 1) for x^2 to offset the
	 * rounding down of the estimate, and * 341 / 1024 for / 3. */
	x = 2 * x + (uint32_t)(a / ((uint64_t)x * (uint64_t)(x - 1)));
	x = (x * 341) >> 10;
	return x;
}

/* A new epoch starts at the first increase after a reduction: the curve
 * is anchored at now and, below W_max, placed so that it reaches W_max
 * after K. */
static void bictcp_start_epoch(struct bictcp *ca, uint32_t now, uint32_t cwnd, uint32_t acked)
{
	ca->epoch_start = now;
	ca->ack_cnt = acked;
	ca->tcp_cwnd = cwnd;

	if (ca->last_max_cwnd <= cwnd) {
		ca->bic_K = 0;
		ca->bic_origin_point = cwnd;
	} else {
		ca->bic_K = cubic_root(CUBE_FACTOR * (ca->last_max_cwnd - cwnd));
		ca->bic_origin_point = ca->last_max_cwnd;
	}
}

/* The curve's value one delay_min ahead, so that cwnd reaches the target
 * by the time this flight is acknowledged. */
static uint32_t bictcp_target(const struct bictcp *ca, uint32_t now)
{
	uint64_t t, offs;
	uint32_t delta;

	/* Sign-extended as in Linux, though the epoch never lies ahead. */
	t = (uint64_t)(int64_t)(int32_t)(now - ca->epoch_start);
	t += (ca->delay_min + (1000000 / CUBIC_HZ) - 1) / (1000000 / CUBIC_HZ);
	t <<= BICTCP_HZ;
	t /= CUBIC_HZ;

	offs = t < ca->bic_K ? ca->bic_K - t : t - ca->bic_K;
	/* C / RTT * (t - K)^3, in segments; exact for cwnd < 2^20. */
	delta = (uint32_t)((CUBE_RTT_SCALE * offs * offs * offs) >> (10 + 3 * BICTCP_HZ));
	return t < ca->bic_K ? ca->bic_origin_point - delta : ca->bic_origin_point + delta;
}

/* The Reno estimate grows by one for every CUBIC_BETA_SCALE / 8 windows of
 * ACKs; when Reno would be ahead of the curve, catch up with it within
 * about one RTT. */
static void bictcp_tcp_friendliness(struct bictcp *ca, uint32_t cwnd)
{
	uint32_t delta = (cwnd * CUBIC_BETA_SCALE) >> 3;

	while (ca->ack_cnt > delta) {
		ca->ack_cnt -= delta;
		ca->tcp_cwnd++;
	}
	if (ca->tcp_cwnd > cwnd) {
		uint32_t max_cnt = cwnd / (ca->tcp_cwnd - cwnd);

		if (ca->cnt > max_cnt)
			ca->cnt = max_cnt;
	}
}

/* Set ca->cnt, the ACKs per cwnd increment, so that cwnd tracks the curve. */
static void bictcp_update(struct sock *sk, uint32_t cwnd, uint32_t acked)
{
	struct bictcp *ca = cubic_ca(sk);
	uint32_t now = cubic_jiffies(sk);
	uint32_t bic_target;

	ca->ack_cnt += acked;

	/* The curve changes slowly: while cwnd stands still, recomputing it
	 * 32 times a second is enough. */
	if (ca->last_cwnd == cwnd && (int32_t)(now - ca->last_time) <= CUBIC_HZ / 32)
		return;

	/* At most once per jiffy; a reduction clears epoch_start, which
	 * forces a recomputation. */
	if (ca->epoch_start && now == ca->last_time)
		goto tcp_friendliness;

	ca->last_cwnd = cwnd;
	ca->last_time = now;

	if (ca->epoch_start == 0)
		bictcp_start_epoch(ca, now, cwnd, acked);

	bic_target = bictcp_target(ca, now);
	if (bic_target > cwnd)
		ca->cnt = cwnd / (bic_target - cwnd);
	else
		ca->cnt = 100 * cwnd; /* at or past the target: barely grow */

	/* Before the first loss there is no W_max and the curve would start
	 * flat: grow at least 5% per RTT while the bandwidth is unknown. */
	if (ca->last_max_cwnd == 0 && ca->cnt > 20)
		ca->cnt = 20;

tcp_friendliness:
	bictcp_tcp_friendliness(ca, cwnd);

	/* Never more than one segment per two ACKed: 1.5x per RTT at most. */
	ca->cnt = max_t(uint32_t, ca->cnt, 2U);
}

static void cubictcp_cong_avoid(struct sock *sk, uint32_t ack, uint32_t acked)
{
	struct bictcp *ca = cubic_ca(sk);

	(void)ack;
	if (!tcp_is_cwnd_limited(sk))
		return;

	if (tcp_in_slow_start(sk)) {
		acked = tcp_slow_start(sk, acked);
		if (!acked)
			return;
	}
	bictcp_update(sk, sk->snd_cwnd, acked);
	tcp_cong_avoid_ai(sk, ca->cnt, acked);
}

/* On loss: remember W_max and shrink to beta * cwnd. A loss below the
 * previous W_max means a new flow is taking bandwidth: fast convergence
 * sets W_max lower still, (1 + beta) / 2 of cwnd, to release some of it. */
static uint32_t cubictcp_recalc_ssthresh(struct sock *sk)
{
	struct bictcp *ca = cubic_ca(sk);
	uint32_t cwnd = sk->snd_cwnd;

	ca->epoch_start = 0;

	if (cwnd < ca->last_max_cwnd)
		ca->last_max_cwnd = (cwnd * (BICTCP_BETA_SCALE + CUBIC_BETA)) / (2 * BICTCP_BETA_SCALE);
	else
		ca->last_max_cwnd = cwnd;

	return max_t(uint32_t, (cwnd * CUBIC_BETA) / BICTCP_BETA_SCALE, 2U);
}

/* An RTO says the path may have changed altogether: start afresh. */
static void cubictcp_state(struct sock *sk, uint8_t new_state)
{
	if (new_state == TCP_CA_Loss) {
		bictcp_reset(cubic_ca(sk));
		bictcp_hystart_reset(sk);
	}
}

/* Linux adds a cushion for TSO/GRO aggregation when the socket is paced;
 * synack neither paces nor aggregates. */
static uint32_t hystart_ack_delay(const struct sock *sk)
{
	(void)sk;
	return 0;
}

static void hystart_exit(struct sock *sk)
{
	cubic_ca(sk)->found = 1;
	sk->snd_ssthresh = sk->snd_cwnd;
}

/* ACK train: the ACKs of one round arrive back to back, so when a train
 * has lasted longer than half the least RTT, the pipe is full (without
 * pacing, a train is at most half the round). */
static void hystart_ack_train(struct sock *sk)
{
	struct bictcp *ca = cubic_ca(sk);
	uint32_t now = bictcp_clock_us(sk);
	uint32_t threshold;

	if ((int32_t)(now - ca->last_ack) > HYSTART_ACK_DELTA_US)
		return;
	ca->last_ack = now;

	threshold = (ca->delay_min + hystart_ack_delay(sk)) >> 1;
	if (now - ca->round_start > threshold)
		hystart_exit(sk);
}

/* Delay increase: once a round has enough samples, a least RTT well above
 * delay_min (by delay_min / 8, kept within 4..16 ms) means a queue builds. */
static void hystart_delay(struct sock *sk, uint32_t delay)
{
	struct bictcp *ca = cubic_ca(sk);
	uint32_t thresh;

	if (ca->curr_rtt > delay)
		ca->curr_rtt = delay;
	if (ca->sample_cnt < HYSTART_MIN_SAMPLES) {
		ca->sample_cnt++;
		return;
	}
	thresh = ca->delay_min >> 3;
	thresh = thresh < HYSTART_DELAY_MIN ? HYSTART_DELAY_MIN : thresh > HYSTART_DELAY_MAX ? HYSTART_DELAY_MAX : thresh;
	if (ca->curr_rtt > ca->delay_min + thresh)
		hystart_exit(sk);
}

static void hystart_update(struct sock *sk, uint32_t delay)
{
	struct bictcp *ca = cubic_ca(sk);

	if (after(sk->snd_una, ca->end_seq))
		bictcp_hystart_reset(sk);
	if (HYSTART_DETECT & HYSTART_ACK_TRAIN)
		hystart_ack_train(sk);
	if (HYSTART_DETECT & HYSTART_DELAY)
		hystart_delay(sk, delay);
}

static void cubictcp_acked(struct sock *sk, const struct ack_sample *sample)
{
	struct bictcp *ca = cubic_ca(sk);
	uint32_t delay;

	/* Duplicate ACKs carry no RTT sample. */
	if (sample->rtt_us < 0)
		return;

	/* Just after a reduction the queue is draining: its RTTs say little
	 * about the path, so skip them for a second. */
	if (ca->epoch_start && (int32_t)(cubic_jiffies(sk) - ca->epoch_start) < CUBIC_HZ)
		return;

	delay = sample->rtt_us ? (uint32_t)sample->rtt_us : 1;
	if (ca->delay_min == 0 || ca->delay_min > delay)
		ca->delay_min = delay;

	if (!ca->found && tcp_in_slow_start(sk) && sk->snd_cwnd >= HYSTART_LOW_WINDOW)
		hystart_update(sk, delay);
}

const struct tcp_congestion_ops tcp_cubic_ops = {
	.name = "cubic",
	.init = cubictcp_init,
	.ssthresh = cubictcp_recalc_ssthresh,
	.cong_avoid = cubictcp_cong_avoid,
	.set_state = cubictcp_state,
	.undo_cwnd = tcp_reno_undo_cwnd,
	.cwnd_event = cubictcp_cwnd_event,
	.pkts_acked = cubictcp_acked,
};
