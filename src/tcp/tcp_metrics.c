/*
 * The per-destination cache a Fast Open client keeps (Linux: the
 * tcp_fastopen_metrics part of net/ipv4/tcp_metrics.c): the peer's MSS, its
 * cookie, SYN losses and which option form to try.
 *
 * Linux keys tcp_metrics by (saddr, daddr); a synack stack has one address,
 * so daddr alone names an entry. The cache is a fixed set-associative table
 * (TCPM_SETS sets of TCPM_WAYS entries, the least recently used way
 * replaced), so a client talking to many destinations keeps bounded memory;
 * it is allocated on first use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/jhash.h"
#include "core/stack.h"
#include "synack/synack.h"
#include "tcp/tcp.h"

#define TCPM_SETS 64
#define TCPM_WAYS 4

struct tcp_fastopen_metrics {
	uint16_t mss;
	uint16_t syn_loss;
	uint8_t try_exp;            /* 1: try the 254 form; 2: back to 34 */
	uint64_t last_syn_loss;     /* ns */
	struct tcp_fastopen_cookie cookie;
};

struct tcp_metrics_block {
	uint32_t daddr;             /* 0: free */
	uint64_t stamp;             /* last use, ns */
	struct tcp_fastopen_metrics tfo;
};

struct tcp_metrics {
	struct tcp_metrics_block set[TCPM_SETS][TCPM_WAYS];
};

struct tcp_metrics *tcp_metrics_new(void) { return calloc(1, sizeof(struct tcp_metrics)); }

void tcp_metrics_free(struct tcp_metrics *m) { free(m); }

static struct tcp_metrics_block *tcpm_set_of(struct stack *st, uint32_t daddr)
{
	return st->tcp.metrics->set[jhash_1word(daddr, (uint32_t)st->secrets.ehash_secret.key[0]) % TCPM_SETS];
}

/* The entry for daddr; with create, a fresh one in the least recently used
 * way when there is none (Linux: tcp_get_metrics). */
static struct tcp_metrics_block *tcp_get_metrics(struct stack *st, uint32_t daddr, bool create)
{
	struct tcp_metrics_block *set, *oldest;

	if (!daddr)
		return NULL;
	if (!st->tcp.metrics && !(create && (st->tcp.metrics = tcp_metrics_new())))
		return NULL;
	set = tcpm_set_of(st, daddr);
	oldest = &set[0];
	for (int i = 0; i < TCPM_WAYS; i++) {
		if (set[i].daddr == daddr) {
			set[i].stamp = stack_now(st);
			return &set[i];
		}
		/* A free way beats any used one; among used ones, the oldest. */
		if (oldest->daddr && (!set[i].daddr || set[i].stamp < oldest->stamp))
			oldest = &set[i];
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->daddr = daddr;
	oldest->stamp = stack_now(st);
	return oldest;
}

void tcp_fastopen_cache_get(struct sock *sk, uint16_t *mss, struct tcp_fastopen_cookie *cookie)
{
	struct tcp_metrics_block *tm = tcp_get_metrics(sk->st, sk->c.raddr, false);

	if (!tm)
		return;
	if (tm->tfo.mss)
		*mss = tm->tfo.mss;
	*cookie = tm->tfo.cookie;
	if (cookie->len <= 0 && tm->tfo.try_exp == 1)
		cookie->exp = true;
}

void tcp_fastopen_cache_set(struct sock *sk, uint16_t mss, const struct tcp_fastopen_cookie *cookie, bool syn_lost,
			    uint8_t try_exp)
{
	struct tcp_metrics_block *tm = tcp_get_metrics(sk->st, sk->c.raddr, true);
	struct tcp_fastopen_metrics *tfo;

	if (!tm)
		return;
	tfo = &tm->tfo;
	if (mss)
		tfo->mss = mss;
	if (cookie && cookie->len > 0)
		tfo->cookie = *cookie;
	else if (try_exp > tfo->try_exp && tfo->cookie.len <= 0 && !tfo->cookie.exp)
		tfo->try_exp = try_exp;
	if (syn_lost) {
		tfo->syn_loss++;
		tfo->last_syn_loss = stack_now(sk->st);
	} else {
		tfo->syn_loss = 0;
	}
}

int synack_tfo_cache_get(struct stack *st, struct in_addr daddr, struct synack_tfo_cookie *out)
{
	struct tcp_metrics_block *tm;

	if (!st || !out)
		return -EINVAL;
	tm = tcp_get_metrics(st, daddr.s_addr, false);
	if (!tm)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->daddr = daddr;
	out->mss = tm->tfo.mss;
	if (tm->tfo.cookie.len > 0) {
		out->len = (uint8_t)tm->tfo.cookie.len;
		out->exp = tm->tfo.cookie.exp;
		memcpy(out->cookie, tm->tfo.cookie.val, out->len);
	}
	return 0;
}

int synack_tfo_cache_set(struct stack *st, const struct synack_tfo_cookie *c)
{
	struct tcp_metrics_block *tm;

	if (!st || !c || !c->daddr.s_addr || (c->len && (c->len < 4 || c->len > 16 || (c->len & 1))))
		return -EINVAL;
	tm = tcp_get_metrics(st, c->daddr.s_addr, true);
	if (!tm)
		return -ENOMEM;
	tm->tfo.mss = c->mss;
	tm->tfo.cookie.len = (int8_t)c->len;
	tm->tfo.cookie.exp = c->exp;
	memcpy(tm->tfo.cookie.val, c->cookie, c->len);
	return 0;
}
