/* The stack object and its small services: clock, sysctls, MIB names,
 * CIDR parsing, interface validation, the virtual run loop. */
#include <errno.h>
#include <arpa/inet.h>
#include "../test.h"
#include "core/stack.h"
#include "core/trace.h"

static struct stack *new_stack(struct synack_clock *clk, const char *name)
{
	struct synack_stack_config cfg = { .clock = clk, .name = name, .seeded = true, .seed = 42 };
	struct stack *st = NULL;

	if (synack_stack_new(&cfg, &st) != 0)
		return NULL;
	return st;
}

TEST(clock_virtual_moves_only_forward)
{
	struct synack_clock *c = synack_clock_new_virtual(5);

	CHECK(synack_clock_is_virtual(c));
	CHECK_EQ(synack_clock_now(c), 5);
	CHECK_EQ(synack_clock_advance(c, 10), 0);
	CHECK_EQ(synack_clock_now(c), 15);
	CHECK_EQ(synack_clock_set(c, 14), -EINVAL);
	CHECK_EQ(synack_clock_set(c, 100), 0);
	CHECK_EQ(synack_clock_now(c), 100);
	CHECK_EQ(synack_clock_advance(c, UINT64_MAX), -EINVAL);
	synack_clock_free(c);
}

TEST(clock_real_refuses_set)
{
	struct synack_clock *c = synack_clock_new_real();
	uint64_t a = synack_clock_now(c), b = synack_clock_now(c);

	CHECK(!synack_clock_is_virtual(c));
	CHECK(b >= a);
	CHECK_EQ(synack_clock_set(c, a + 1000), -EINVAL);
	CHECK_EQ(synack_clock_advance(c, 1), -EINVAL);
	synack_clock_free(c);
}

TEST(stack_new_rejects_bad_config)
{
	struct stack *st = NULL;
	struct synack_stack_config cfg = { 0 };

	CHECK_EQ(synack_stack_new(NULL, &st), -EINVAL);
	CHECK_EQ(synack_stack_new(&cfg, &st), -EINVAL);
	CHECK(st == NULL);
}

TEST(two_stacks_share_nothing)
{
	struct synack_clock *c = synack_clock_new_virtual(0);
	struct stack *a = new_stack(c, "a"), *b = new_stack(c, "b");

	REQUIRE(a && b);
	CHECK_STR(synack_stack_name(a), "a");
	CHECK_STR(synack_stack_name(b), "b");
	CHECK_EQ(synack_sysctl_set(a, "net.ipv4.ip_default_ttl", 5), 0);
	long v = 0;
	CHECK_EQ(synack_sysctl_get(b, "net.ipv4.ip_default_ttl", &v), 0);
	CHECK_EQ(v, 64);
	a->mib[MIB_IpInReceives] = 3;
	CHECK_EQ(synack_mib_value(b, "IpInReceives"), 0);
	CHECK_EQ(synack_mib_value(a, "IpInReceives"), 3);
	synack_stack_free(a);
	synack_stack_free(b);
	synack_clock_free(c);
}

TEST(seeded_stacks_have_equal_secrets_random_ones_differ)
{
	struct synack_clock *c = synack_clock_new_virtual(0);
	struct stack *a = new_stack(c, "a"), *b = new_stack(c, "b"), *r = NULL;
	struct synack_stack_config rc = { .clock = c };

	REQUIRE(a && b);
	REQUIRE(synack_stack_new(&rc, &r) == 0);
	CHECK_MEM(&a->secrets, &b->secrets, sizeof(a->secrets));
	CHECK(memcmp(&a->secrets, &r->secrets, sizeof(a->secrets)) != 0);
	synack_stack_free(a);
	synack_stack_free(b);
	synack_stack_free(r);
	synack_clock_free(c);
}

TEST(sysctl_names_ranges_and_defaults)
{
	static const struct {
		const char *name;
		long def;
	} defaults[] = {
		{ "net.ipv4.ip_default_ttl", 64 },
		{ "net.ipv4.ipfrag_time", 30 },
		{ "net.ipv4.ipfrag_high_thresh", 4194304 },
		{ "net.ipv4.icmp_ratelimit", 1000 },
		{ "net.ipv4.icmp_ratemask", 6168 },
		{ "net.ipv4.icmp_echo_ignore_broadcasts", 1 },
	};
	struct synack_clock *c = synack_clock_new_virtual(0);
	struct stack *st = new_stack(c, "s");
	long v;

	REQUIRE(st);
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		CHECK_EQ(synack_sysctl_get(st, defaults[i].name, &v), 0);
		CHECK_EQ(v, defaults[i].def);
	}
	CHECK_EQ(synack_sysctl_get(st, "net.ipv4.no_such_knob", &v), -ENOENT);
	CHECK_EQ(synack_sysctl_set(st, "net.ipv4.no_such_knob", 1), -ENOENT);
	CHECK_EQ(synack_sysctl_set(st, "net.ipv4.ip_default_ttl", 0), -EINVAL);
	CHECK_EQ(synack_sysctl_set(st, "net.ipv4.ip_default_ttl", 256), -EINVAL);
	CHECK_EQ(synack_sysctl_set(st, NULL, 1), -ENOENT);
	CHECK_EQ(synack_sysctl_get(st, "net.ipv4.ip_default_ttl", NULL), -EINVAL);
	CHECK_EQ(st->sysctl.ip_default_ttl, 64);
	synack_stack_free(st);
	synack_clock_free(c);
}

TEST(mib_names_are_nstat_names)
{
	CHECK_STR(synack_mib_name(MIB_IpInReceives), "IpInReceives");
	CHECK_STR(synack_mib_name(MIB_IpExtInCsumErrors), "IpExtInCsumErrors");
	CHECK_STR(synack_mib_name(MIB_TcpActiveOpens), "TcpActiveOpens");
	CHECK_STR(synack_mib_name(MIB_IcmpMsgOutType0), "IcmpMsgOutType0");
	CHECK(synack_mib_name(MIB_MAX) == NULL);
	CHECK_EQ(synack_mib_count(), MIB_MAX);
	CHECK_EQ(synack_mib_index("UdpNoPorts"), MIB_UdpNoPorts);
	CHECK_EQ(synack_mib_index("NoSuchCounter"), -ENOENT);
	CHECK_EQ(synack_mib_index(NULL), -ENOENT);
	/* Every name is unique. */
	for (size_t i = 0; i < MIB_MAX; i++)
		CHECK_EQ(synack_mib_index(synack_mib_name(i)), (long long)i);
}

TEST(mib_print_nstat_lists_nonzero_counters)
{
	struct synack_clock *c = synack_clock_new_virtual(0);
	struct stack *st = new_stack(c, "s");
	char *buf = NULL;
	size_t len = 0;

	REQUIRE(st);
	st->mib[MIB_IpInReceives] = 12;
	st->mib[MIB_IcmpInEchos] = 3;
	FILE *f = open_memstream(&buf, &len);
	synack_mib_print_nstat(st, f);
	fclose(f);
	CHECK_STR(buf, "#kernel\n"
		       "IpInReceives                    12                 0.0\n"
		       "IcmpInEchos                     3                  0.0\n");
	free(buf);
	synack_stack_free(st);
	synack_clock_free(c);
}

TEST(parse_cidr_table)
{
	static const struct {
		const char *in;
		int ret;
		const char *addr;
		uint8_t plen;
	} cases[] = {
		{ "10.0.0.1/24", 0, "10.0.0.1", 24 },
		{ "10.0.0.1", 0, "10.0.0.1", 32 },
		{ "0.0.0.0/0", 0, "0.0.0.0", 0 },
		{ "192.168.1.2/32", 0, "192.168.1.2", 32 },
		{ "10.0.0.1/33", -EINVAL, NULL, 0 },
		{ "10.0.0.1/", -EINVAL, NULL, 0 },
		{ "10.0.0.1/-1", -EINVAL, NULL, 0 },
		{ "10.0.0.1/24x", -EINVAL, NULL, 0 },
		{ "10.0.0/24", -EINVAL, NULL, 0 },
		{ "/24", -EINVAL, NULL, 0 },
		{ "", -EINVAL, NULL, 0 },
		{ "300.0.0.1/8", -EINVAL, NULL, 0 },
		{ "10.0.0.1.5/8", -EINVAL, NULL, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct in_addr a = { 0 };
		uint8_t p = 99;
		char s[INET_ADDRSTRLEN];

		CHECK_EQ(synack_parse_cidr(cases[i].in, &a, &p), cases[i].ret);
		if (cases[i].ret == 0) {
			inet_ntop(AF_INET, &a, s, sizeof(s));
			CHECK_STR(s, cases[i].addr);
			CHECK_EQ(p, cases[i].plen);
		}
	}
	CHECK_EQ(synack_parse_cidr(NULL, NULL, NULL), -EINVAL);
}

/* A link that records what the stack sends and never receives. */
struct sink_link {
	struct synack_link l;
	int sent;
};
static int sink_send(struct synack_link *l, const void *f, size_t n)
{
	(void)f;
	(void)n;
	((struct sink_link *)l)->sent++;
	return 0;
}
static int sink_recv(struct synack_link *l, void *b, size_t c)
{
	(void)l;
	(void)b;
	(void)c;
	return 0;
}
static const struct synack_link_ops sink_ops = { .kind = "sink", .send = sink_send, .recv = sink_recv };

TEST(if_up_validates_and_announces)
{
	struct synack_clock *c = synack_clock_new_virtual(0);
	struct stack *st = new_stack(c, "s");
	struct sink_link sl = { .l = { .ops = &sink_ops, .mac = { 2, 0, 0, 0, 0, 9 }, .mtu = 1500 } };
	struct synack_if_config cfg = { .prefix_len = 24 };

	REQUIRE(st);
	inet_pton(AF_INET, "10.0.0.1", &cfg.addr);
	inet_pton(AF_INET, "10.0.1.1", &cfg.gateway);
	CHECK_EQ(synack_if_up(st, &sl.l, &cfg), -ENETUNREACH); /* gateway off-link */
	cfg.gateway.s_addr = 0;
	cfg.prefix_len = 33;
	CHECK_EQ(synack_if_up(st, &sl.l, &cfg), -EINVAL);
	cfg.prefix_len = 24;
	CHECK_EQ(synack_if_up(st, NULL, &cfg), -EINVAL);
	CHECK_EQ(synack_if_up(st, &sl.l, NULL), -EINVAL);
	CHECK_EQ(sl.sent, 0);
	CHECK_EQ(synack_if_up(st, &sl.l, &cfg), 0);
	CHECK_EQ(sl.sent, 1); /* the gratuitous ARP */
	CHECK_EQ(st->dev.mask, htonl(0xffffff00));
	CHECK_EQ(synack_if_up(st, &sl.l, &cfg), -EBUSY);
	synack_stack_free(st);
	synack_clock_free(c);
}

struct fire_log {
	struct timer t;
	uint64_t fired_at[4];
	int n;
};
static void log_fire(struct stack *st, struct timer *t)
{
	struct fire_log *fl = container_of(t, struct fire_log, t);

	fl->fired_at[fl->n++] = stack_now(st);
	if (fl->n < 3)
		mod_timer(st, t, stack_now(st) + 250 * NSEC_PER_MSEC);
}

TEST(run_virtual_lands_on_timer_deadlines)
{
	struct synack_clock *c = synack_clock_new_virtual(0);
	struct stack *st = new_stack(c, "s");
	struct fire_log fl = { 0 };

	REQUIRE(st);
	timer_set_handler(&st->timers, TIMER_AUX0, log_fire);
	timer_setup(&fl.t, TIMER_AUX0);
	mod_timer(st, &fl.t, 100 * NSEC_PER_MSEC);
	CHECK_EQ(synack_stack_next_deadline(st), 100 * NSEC_PER_MSEC);
	CHECK_EQ(synack_run_virtual(c, &st, 1, 2 * NSEC_PER_SEC), 3);
	CHECK_EQ(fl.n, 3);
	CHECK_EQ(fl.fired_at[0], 100 * NSEC_PER_MSEC);
	CHECK_EQ(fl.fired_at[1], 350 * NSEC_PER_MSEC);
	CHECK_EQ(fl.fired_at[2], 600 * NSEC_PER_MSEC);
	CHECK_EQ(synack_clock_now(c), 2 * NSEC_PER_SEC);
	CHECK_EQ(synack_stack_next_deadline(st), SYNACK_NEVER);
	struct synack_clock *real = synack_clock_new_real();
	CHECK_EQ(synack_run_virtual(real, &st, 1, 0), -EINVAL);
	CHECK_EQ(synack_run_virtual(NULL, &st, 1, 0), -EINVAL);
	synack_clock_free(real);
	synack_stack_free(st);
	synack_clock_free(c);
}

struct trace_rec {
	int n;
	char last[300];
	enum synack_trace_kind kind;
};
static void rec_sink(void *ctx, const struct synack_trace_event *ev)
{
	struct trace_rec *r = ctx;

	r->n++;
	r->kind = ev->kind;
	snprintf(r->last, sizeof(r->last), "%s: %s", ev->name, ev->text);
}

TEST(trace_sink_receives_events_only_when_set)
{
	struct synack_clock *c = synack_clock_new_virtual(0);
	struct stack *st = new_stack(c, "s");
	struct trace_rec r = { 0 };

	REQUIRE(st);
	trace_event(st, "nobody", "listens %d", 1);
	synack_trace_set_sink(st, rec_sink, &r);
	trace_event(st, "inet_sock_set_state", "%s -> %s", "CLOSE", "SYN_SENT");
	CHECK_EQ(r.n, 1);
	CHECK_STR(r.last, "inet_sock_set_state: CLOSE -> SYN_SENT");
	trace_drop(st, "ip_rcv", "bad checksum");
	CHECK_EQ(r.kind, SYNACK_TRACE_DROP);
	synack_trace_set_sink(st, NULL, NULL);
	trace_event(st, "x", "y");
	CHECK_EQ(r.n, 2);
	synack_stack_free(st);
	synack_clock_free(c);
}

int main(void)
{
	RUN(clock_virtual_moves_only_forward);
	RUN(clock_real_refuses_set);
	RUN(stack_new_rejects_bad_config);
	RUN(two_stacks_share_nothing);
	RUN(seeded_stacks_have_equal_secrets_random_ones_differ);
	RUN(sysctl_names_ranges_and_defaults);
	RUN(mib_names_are_nstat_names);
	RUN(mib_print_nstat_lists_nonzero_counters);
	RUN(parse_cidr_table);
	RUN(if_up_validates_and_announces);
	RUN(run_virtual_lands_on_timer_deadlines);
	RUN(trace_sink_receives_events_only_when_set);
	return TEST_SUMMARY();
}
