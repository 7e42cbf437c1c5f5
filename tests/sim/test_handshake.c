/* Two stacks on the sim wire: connect() meets listen()/accept(), over a
 * clean link and over lossy ones, for many seeds. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include "test.h"
#include "synack/synack.h"

struct pair {
	struct synack_clock *clk;
	struct synack_sim_wire *wire;
	struct stack *st[2];
};

static int pair_up(struct pair *p, double loss, uint64_t seed)
{
	struct synack_sim_config wc = { .delay_ns = 1000000, .loss = loss, .seed = seed };
	const char *addr[2] = { "10.0.0.1", "10.0.0.2" };

	p->clk = synack_clock_new_virtual(0);
	if (synack_sim_wire_new(p->clk, &wc, &p->wire))
		return -1;
	for (int i = 0; i < 2; i++) {
		struct synack_stack_config sc = { .clock = p->clk, .name = i ? "server" : "client", .seeded = true,
						  .seed = seed * 2 + (uint64_t)i };
		struct synack_if_config ic = { .prefix_len = 24 };
		inet_pton(AF_INET, addr[i], &ic.addr);
		if (synack_stack_new(&sc, &p->st[i]) || synack_if_up(p->st[i], synack_sim_wire_end(p->wire, i), &ic))
			return -1;
	}
	return 0;
}

static void pair_down(struct pair *p)
{
	for (int i = 0; i < 2; i++)
		synack_stack_free(p->st[i]);
	synack_sim_wire_free(p->wire);
	synack_clock_free(p->clk);
}

static struct sockaddr_in sin_of(const char *a, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static void run_for(struct pair *p, uint64_t ns)
{
	synack_run_virtual(p->clk, p->st, 2, synack_clock_now(p->clk) + ns);
}

/* Connect, wait up to `budget`, accept. Returns the accepted descriptor. */
static int handshake(struct pair *p, int *cfd, int *lfd, uint64_t budget)
{
	struct sockaddr_in srv = sin_of("10.0.0.2", 80), peer;
	int afd = -EAGAIN;

	*lfd = synack_socket(p->st[1]);
	if (*lfd < 0 || synack_bind(p->st[1], *lfd, &srv) || synack_listen(p->st[1], *lfd, 16))
		return -1;
	*cfd = synack_socket(p->st[0]);
	if (synack_connect(p->st[0], *cfd, &srv) != -EINPROGRESS)
		return -2;
	for (uint64_t t = 0; t < budget && afd == -EAGAIN; t += 10000000) {
		run_for(p, 10000000);
		afd = synack_accept(p->st[1], *lfd, &peer);
	}
	return afd;
}

TEST(handshake_clean_link)
{
	struct pair p;
	int cfd, lfd, afd;
	struct sockaddr_in a;

	REQUIRE(pair_up(&p, 0, 1) == 0);
	afd = handshake(&p, &cfd, &lfd, 1000000000ULL);
	REQUIRE(afd >= 0);
	CHECK_EQ(synack_tcp_state(p.st[0], cfd), 1 /* ESTABLISHED */);
	CHECK_EQ(synack_tcp_state(p.st[1], afd), 1);
	a = sin_of("10.0.0.2", 80);
	CHECK_EQ(synack_connect(p.st[0], cfd, &a), 0);
	CHECK_EQ(synack_connect(p.st[0], cfd, &a), -EISCONN);
	CHECK(synack_poll(p.st[0], cfd) & POLLOUT);
	CHECK_EQ(synack_getpeername(p.st[1], afd, &a), 0);
	CHECK_EQ(a.sin_addr.s_addr, sin_of("10.0.0.1", 0).sin_addr.s_addr);
	CHECK_EQ(synack_mib_value(p.st[0], "TcpActiveOpens"), 1);
	CHECK_EQ(synack_mib_value(p.st[1], "TcpPassiveOpens"), 1);
	CHECK_EQ(synack_mib_value(p.st[0], "TcpCurrEstab"), 1);
	CHECK_EQ(synack_mib_value(p.st[1], "TcpCurrEstab"), 1);
	CHECK_EQ(synack_mib_value(p.st[0], "TcpRetransSegs"), 0);
	CHECK_EQ(synack_close(p.st[0], cfd), 0);
	CHECK_EQ(synack_close(p.st[1], afd), 0);
	CHECK_EQ(synack_close(p.st[1], lfd), 0);
	run_for(&p, 1000000000ULL);
	pair_down(&p);
}

/* 20% loss each way: SYN and SYN-ACK retransmissions still complete
 * every handshake well before the SYN gives up. */
TEST(handshake_lossy_link_many_seeds)
{
	int ok = 0, half_open = 0, retrans = 0;

	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct pair p;
		int cfd, lfd, afd;

		REQUIRE(pair_up(&p, 0.2, seed) == 0);
		afd = handshake(&p, &cfd, &lfd, 60ULL * 1000000000ULL);
		if (afd >= 0 && synack_tcp_state(p.st[0], cfd) == 1) {
			ok++;
		} else {
			/* The only other outcome Linux allows: every SYN-ACK or third
			 * ACK was lost, the server gave up after its 5 retransmissions,
			 * and the client is left half-open in ESTABLISHED. */
			half_open++;
			CHECK_EQ(synack_tcp_state(p.st[0], cfd), 1);
			CHECK_EQ(synack_mib_value(p.st[1], "TcpExtTCPSynRetrans"), 5);
			CHECK_EQ(synack_mib_value(p.st[1], "TcpPassiveOpens"), 0);
		}
		retrans += (int)(synack_mib_value(p.st[0], "TcpRetransSegs") + synack_mib_value(p.st[1], "TcpRetransSegs"));
		pair_down(&p);
	}
	CHECK_EQ(ok + half_open, 40);
	CHECK(ok >= 35);
	CHECK(retrans > 0);
}

TEST(connect_to_closed_port_is_refused)
{
	struct pair p;
	struct sockaddr_in srv = sin_of("10.0.0.2", 81);
	int cfd;

	REQUIRE(pair_up(&p, 0, 3) == 0);
	cfd = synack_socket(p.st[0]);
	CHECK_EQ(synack_connect(p.st[0], cfd, &srv), -EINPROGRESS);
	run_for(&p, 100000000ULL);
	CHECK_EQ(synack_tcp_state(p.st[0], cfd), 7 /* CLOSE */);
	CHECK_EQ(synack_connect(p.st[0], cfd, &srv), -ECONNREFUSED);
	CHECK_EQ(synack_mib_value(p.st[1], "TcpOutRsts"), 1);
	CHECK_EQ(synack_mib_value(p.st[0], "TcpAttemptFails"), 1);
	pair_down(&p);
}

int main(void)
{
	RUN(handshake_clean_link);
	RUN(handshake_lossy_link_many_seeds);
	RUN(connect_to_closed_port_is_refused);
	return TEST_SUMMARY();
}
