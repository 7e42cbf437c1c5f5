/*
 * Bulk throughput against the Linux kernel (issue 7, figure 3): one TCP
 * connection, one direction, as fast as it goes. Every role is a mode of
 * this one program, so synack over TAP and Linux over veth are measured
 * by the same code: the receiver counts from the first byte to EOF and
 * prints the rate.
 *
 *   tap_bulk linux-sink PORT                      Linux: accept one, read to EOF
 *   tap_bulk linux-source ADDR PORT MIB           Linux: connect, write MIB MiB, close
 *   tap_bulk synack-sink TAP A/N PORT [--no-offload]
 *   tap_bulk synack-source TAP A/N PEER PORT MIB [--no-offload]
 *
 * synack busy-polls its TAP on the real clock with 4 MiB socket buffers
 * (it does not autotune); Linux keeps its defaults (it does). Run by
 * bench/tap_bench.sh (root: network namespaces), never by the tests.
 */
#define _GNU_SOURCE /* ppoll */
#include "tap_util.h"

static double bu_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define CHUNK (256u * 1024u)
#define SYNACK_BUF (16 * 1024 * 1024)

static uint8_t buf[CHUNK];

/* The rate, and this process's CPU time over the run (a receiver that
 * waits on the sender uses less than the wall time). */
static void print_rate(const char *who, uint64_t bytes, double secs, double cpu0)
{
	double cpu = bu_cpu_s() - cpu0;

	printf("%s: %" PRIu64 " bytes in %.3f s (CPU %.0f%%): %.2f Gbit/s\n", who, bytes, secs, 100 * cpu / secs,
	       (double)bytes * 8 / secs / 1e9);
}

static int linux_sink(uint16_t port)
{
	int lfd = tu_linux_listen(port), fd;
	uint64_t got = 0;
	double t0 = 0, cpu0 = 0;
	ssize_t n;

	printf("listening\n");
	fflush(stdout);
	fd = tu_linux_accept(lfd);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!got) {
			t0 = tu_now();
			cpu0 = bu_cpu_s();
		}
		got += (uint64_t)n;
	}
	print_rate("linux sink", got, tu_now() - t0, cpu0);
	close(fd);
	close(lfd);
	return 0;
}

static int linux_source(const char *addr, uint16_t port, uint64_t mib)
{
	int fd = tu_linux_connect(addr, port);
	uint64_t left = mib << 20;

	while (left) {
		ssize_t n = write(fd, buf, left < CHUNK ? left : CHUNK);
		if (n < 0)
			tu_die("write", errno);
		left -= (uint64_t)n;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}

static int synack_sink(const char *tap, const char *cidr, uint16_t port, bool no_offload)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct tu_synack s;
	int lfd, fd = -1;
	uint64_t got = 0;
	double t0 = 0, cpu0 = 0;
	long n;

	tu_synack_up(&s, tap, cidr, no_offload);
	lfd = synack_socket(s.st);
	tu_synack_bufs(&s, lfd, SYNACK_BUF);   /* inherited, so the SYN offers the window */
	if (synack_bind(s.st, lfd, &a) < 0 || synack_listen(s.st, lfd, 4) < 0)
		tu_die("synack listen", EINVAL);
	printf("listening\n");
	fflush(stdout);
	while (fd < 0) {
		synack_stack_poll(s.st);
		fd = synack_accept(s.st, lfd, NULL);
	}
	for (;;) {
		bool work = synack_stack_poll(s.st) > 0;

		while ((n = synack_recv(s.st, fd, buf, sizeof(buf), 0)) > 0) {
			if (!got) {
				t0 = tu_now();
				cpu0 = bu_cpu_s();
			}
			got += (uint64_t)n;
			work = true;
		}
		if (n == 0 || (n < 0 && n != -EAGAIN))
			break;
		if (!work)
			tu_synack_idle(&s);
	}
	print_rate(no_offload ? "synack sink (no offload)" : "synack sink", got, tu_now() - t0, cpu0);
	tu_synack_print_tap(&s, stdout);
	synack_close(s.st, fd);
	synack_close(s.st, lfd);
	for (int i = 0; i < 1000; i++)
		synack_stack_poll(s.st);        /* let the FIN go */
	tu_synack_down(&s);
	return 0;
}

static int synack_source(const char *tap, const char *cidr, const char *peer, uint16_t port, uint64_t mib,
			 bool no_offload)
{
	struct tu_synack s;
	uint64_t sent = 0, total = mib << 20;
	long n;
	int fd;

	tu_synack_up(&s, tap, cidr, no_offload);
	fd = tu_synack_connect(&s, peer, port, SYNACK_BUF);
	while (sent < total) {
		size_t want = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;

		n = synack_send(s.st, fd, buf, want, 0);
		if (n > 0)
			sent += (uint64_t)n;
		else if (n != -EAGAIN)
			tu_die("synack_send", (int)n);
		if (synack_stack_poll(s.st) == 0 && n <= 0)
			tu_synack_idle(&s);
	}
	synack_shutdown(s.st, fd, SHUT_WR);
	/* Until the peer's FIN: everything was received. */
	while ((n = synack_recv(s.st, fd, buf, sizeof(buf), 0)) != 0 && (n > 0 || n == -EAGAIN))
		if (synack_stack_poll(s.st) == 0)
			tu_synack_idle(&s);
	tu_synack_print_tap(&s, stdout);
	synack_close(s.st, fd);
	for (int i = 0; i < 1000; i++)
		synack_stack_poll(s.st);
	tu_synack_down(&s);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: tap_bulk linux-sink PORT | linux-source ADDR PORT MIB |\n"
			"       synack-sink TAP A/N PORT [--no-offload] | synack-source TAP A/N PEER PORT MIB [--no-offload]\n");
	return 2;
}

static uint16_t port_of(const char *s) { return (uint16_t)strtoul(s, NULL, 10); }

int main(int argc, char **argv)
{
	bool no_offload = argc > 1 && !strcmp(argv[argc - 1], "--no-offload");

	if (no_offload)
		argc--;
	if (argc == 3 && !strcmp(argv[1], "linux-sink"))
		return linux_sink(port_of(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "linux-source"))
		return linux_source(argv[2], port_of(argv[3]), strtoull(argv[4], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "synack-sink"))
		return synack_sink(argv[2], argv[3], port_of(argv[4]), no_offload);
	if (argc == 7 && !strcmp(argv[1], "synack-source"))
		return synack_source(argv[2], argv[3], argv[4], port_of(argv[5]), strtoull(argv[6], NULL, 10),
				     no_offload);
	return usage();
}
