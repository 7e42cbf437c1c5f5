/*
 * Request/response latency (issue 7, figure 6): on an established
 * connection, the client sends one byte and waits for the server's one
 * byte back; the wall time of each round trip, p50 and p99. The client
 * spins (synack: poll + recv; Linux: recv with MSG_DONTWAIT) rather than
 * sleeping, as a busy-polling userspace stack does; the Linux echo server
 * blocks in read as usual.
 *
 *   latency mem [ROUNDS]                          two synack stacks in memory (bench/memwire.h), real clock
 *   latency linux-echo PORT                       Linux: accept one, echo until EOF
 *   latency linux-client ADDR PORT ROUNDS         Linux client
 *   latency synack-client TAP A/N PEER PORT ROUNDS [--no-offload]
 *
 * The TAP and veth modes are run by bench/tap_bench.sh (root).
 */
#define _GNU_SOURCE /* ppoll */
#include "memwire.h"
#include "tap_util.h"

#define WARMUP 2000

static uint64_t *samples(size_t rounds)
{
	uint64_t *ns = calloc(rounds, sizeof(*ns));

	if (!ns)
		tu_die("calloc", ENOMEM);
	return ns;
}

/* ---------------------------------------------------------- in memory */

struct mem_pair {
	struct synack_clock *clk;
	struct mw_wire wire;
	struct stack *st[2];
	int cfd, sfd;
};

static void mem_poll(struct mem_pair *p)
{
	synack_stack_poll(p->st[0]);
	synack_stack_poll(p->st[1]);
}

static void mem_setup(struct mem_pair *p)
{
	struct sockaddr_in a = tu_sin("10.0.0.2", 7);
	int lfd, one = 1;

	if (mw_wire_init(&p->wire) < 0 || !(p->clk = synack_clock_new_real()))
		tu_die("setup", ENOMEM);
	for (int i = 0; i < 2; i++) {
		struct synack_stack_config sc = { .clock = p->clk, .name = i ? "server" : "client" };
		struct synack_if_config ic = { .prefix_len = 24 };

		inet_pton(AF_INET, i ? "10.0.0.2" : "10.0.0.1", &ic.addr);
		if (synack_stack_new(&sc, &p->st[i]) < 0 || synack_if_up(p->st[i], &p->wire.end[i].link, &ic) < 0)
			tu_die("stack", EINVAL);
	}
	lfd = synack_socket(p->st[1]);
	if (synack_bind(p->st[1], lfd, &a) < 0 || synack_listen(p->st[1], lfd, 4) < 0)
		tu_die("listen", EINVAL);
	p->cfd = synack_socket(p->st[0]);
	synack_setsockopt(p->st[0], p->cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	synack_connect(p->st[0], p->cfd, &a);
	for (p->sfd = -1; p->sfd < 0;) {
		mem_poll(p);
		p->sfd = synack_accept(p->st[1], lfd, NULL);
	}
	synack_setsockopt(p->st[1], p->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	synack_close(p->st[1], lfd);
}

/* One round trip: the request crosses, the server answers, the answer
 * crosses back; each stack polls only when it has something to take. */
static void mem_round(struct mem_pair *p)
{
	uint8_t b = 'x';

	if (synack_send(p->st[0], p->cfd, &b, 1, 0) != 1)
		tu_die("send", EIO);
	while (synack_recv(p->st[1], p->sfd, &b, 1, 0) != 1)
		synack_stack_poll(p->st[1]);
	if (synack_send(p->st[1], p->sfd, &b, 1, 0) != 1)
		tu_die("send", EIO);
	while (synack_recv(p->st[0], p->cfd, &b, 1, 0) != 1)
		synack_stack_poll(p->st[0]);
}

static int run_mem(size_t rounds)
{
	struct mem_pair p;
	uint64_t *ns = samples(rounds);

	memset(&p, 0, sizeof(p));
	mem_setup(&p);
	for (int i = 0; i < WARMUP; i++)
		mem_round(&p);
	for (size_t i = 0; i < rounds; i++) {
		uint64_t t0 = tu_now_ns();

		mem_round(&p);
		ns[i] = tu_now_ns() - t0;
	}
	tu_print_percentiles("synack in memory", ns, rounds);
	for (int i = 0; i < 2; i++)
		synack_stack_free(p.st[i]);
	mw_wire_free(&p.wire);
	synack_clock_free(p.clk);
	free(ns);
	return 0;
}

/* -------------------------------------------------------------- Linux */

static int linux_echo(uint16_t port)
{
	int lfd = tu_linux_listen(port), fd;
	uint8_t buf[4096];
	ssize_t n;

	printf("listening\n");
	fflush(stdout);
	fd = tu_linux_accept(lfd);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
	close(lfd);
	return 0;
}

static void linux_round(int fd)
{
	uint8_t b = 'x';

	if (write(fd, &b, 1) != 1)
		tu_die("write", errno);
	while (recv(fd, &b, 1, MSG_DONTWAIT) != 1)
		if (errno != EAGAIN)
			tu_die("recv", errno);
}

static int linux_client(const char *addr, uint16_t port, size_t rounds)
{
	int fd = tu_linux_connect(addr, port);
	uint64_t *ns = samples(rounds);

	for (int i = 0; i < WARMUP; i++)
		linux_round(fd);
	for (size_t i = 0; i < rounds; i++) {
		uint64_t t0 = tu_now_ns();

		linux_round(fd);
		ns[i] = tu_now_ns() - t0;
	}
	tu_print_percentiles("linux client", ns, rounds);
	close(fd);
	free(ns);
	return 0;
}

/* ---------------------------------------------------------- synack/TAP */

static void synack_round(struct tu_synack *s, int fd)
{
	uint8_t b = 'x';
	long n;

	if (synack_send(s->st, fd, &b, 1, 0) != 1)
		tu_die("synack_send", EIO);
	while ((n = synack_recv(s->st, fd, &b, 1, 0)) != 1) {
		if (n != -EAGAIN)
			tu_die("synack_recv", n < 0 ? (int)n : EPIPE);
		synack_stack_poll(s->st);
	}
}

static int synack_client(const char *tap, const char *cidr, const char *peer, uint16_t port, size_t rounds,
			 bool no_offload)
{
	struct tu_synack s;
	uint64_t *ns = samples(rounds);
	int fd;

	tu_synack_up(&s, tap, cidr, no_offload);
	fd = tu_synack_connect(&s, peer, port, 0);
	for (int i = 0; i < WARMUP; i++)
		synack_round(&s, fd);
	for (size_t i = 0; i < rounds; i++) {
		uint64_t t0 = tu_now_ns();

		synack_round(&s, fd);
		ns[i] = tu_now_ns() - t0;
	}
	tu_print_percentiles(no_offload ? "synack client (no offload)" : "synack client", ns, rounds);
	synack_close(s.st, fd);
	for (int i = 0; i < 1000; i++)
		synack_stack_poll(s.st);
	tu_synack_down(&s);
	free(ns);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: latency mem [ROUNDS] | linux-echo PORT | linux-client ADDR PORT ROUNDS |\n"
			"       synack-client TAP A/N PEER PORT ROUNDS [--no-offload]\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool no_offload = argc > 1 && !strcmp(argv[argc - 1], "--no-offload");

	if (no_offload)
		argc--;
	if (argc >= 2 && argc <= 3 && !strcmp(argv[1], "mem"))
		return run_mem(argc == 3 ? strtoul(argv[2], NULL, 10) : 100000);
	if (argc == 3 && !strcmp(argv[1], "linux-echo"))
		return linux_echo((uint16_t)strtoul(argv[2], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "linux-client"))
		return linux_client(argv[2], (uint16_t)strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
	if (argc == 7 && !strcmp(argv[1], "synack-client"))
		return synack_client(argv[2], argv[3], argv[4], (uint16_t)strtoul(argv[5], NULL, 10),
				     strtoul(argv[6], NULL, 10), no_offload);
	return usage();
}
