/*
 * bench/ehash: the connection table (ehash) growing to two million entries
 * in one stack, one insert at a time, as connections arrive: the mean and
 * the worst time of one insert. The table doubles whenever it holds twice
 * as many entries as buckets; the entries move to the new table a few
 * buckets per insert (inet_ehash_rehash_step), so no single connect() or
 * passive open pays for moving them all. Wall time (the worst is one
 * insert, so it also catches page faults on the new table).
 *
 * usage: ehash [--entries N]
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/stack.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct synack_clock *clk = synack_clock_new_virtual(1000000000ULL);
	struct synack_stack_config sc = { .name = "ehash", .seeded = true, .seed = 1, .clock = clk };
	uint32_t n = 2000000, worst_at = 0, buckets_at_worst = 0;
	double worst = 0, total = 0;
	struct sock_common *cs;
	struct stack *st;

	if (argc == 3 && !strcmp(argv[1], "--entries"))
		n = (uint32_t)strtoul(argv[2], NULL, 10);
	cs = calloc(n, sizeof(*cs));
	if (!cs || !clk || synack_stack_new(&sc, &st) != 0)
		return 1;
	for (uint32_t i = 0; i < n; i++) {
		double t0, d;

		cs[i].laddr = inet_addr("10.0.0.1");
		cs[i].lport = 443;
		cs[i].raddr = htonl(0x0a000000u + i / 60000);
		cs[i].rport = (uint16_t)(1024 + i % 60000);
		cs[i].state = TCP_ESTABLISHED;
		INIT_HLIST_NODE(&cs[i].node);
		t0 = now_s();
		inet_ehash_insert(st, &cs[i]);
		d = now_s() - t0;
		total += d;
		if (d > worst) {
			worst = d;
			worst_at = i + 1;
			buckets_at_worst = st->tcp.hinfo.ehash_mask + 1;
		}
	}
	printf("ehash: %" PRIu32 " inserts, mean %.3f us, worst %.3f ms (insert %" PRIu32 ", %" PRIu32
	       " buckets); %" PRIu32 " buckets at the end\n",
	       n, total / n * 1e6, worst * 1e3, worst_at, buckets_at_worst, st->tcp.hinfo.ehash_mask + 1);
	for (uint32_t i = 0; i < n; i++)
		inet_ehash_remove(st, &cs[i]);
	synack_stack_free(st);
	synack_clock_free(clk);
	free(cs);
	return 0;
}
