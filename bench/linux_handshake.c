/*
 * bench/linux_handshake: the Linux kernel's own connections per second over
 * loopback, one process, one core: the kernel peer of bench/handshake
 * (issue 7, figure 1). Each iteration is one whole connection, as there:
 *   close: socket + bind + connect, accept, a 1-byte request, a 1-byte
 *          response, then close, client first (the client keeps the
 *          TIME-WAIT), server second;
 *   rst:   socket + bind + connect, accept, the client closes with
 *          SO_LINGER 0 (a RST), the server closes its reset socket.
 * Blocking sockets: over loopback the kernel runs the peer's side of each
 * step in the same call, so the process's CPU time (user + system) is the
 * cost of both ends. Clients bind round-robin to 127.0.0.2-127.0.0.251, so
 * an ephemeral port is always free despite TIME-WAIT (no tw_reuse).
 *
 * Run it in a network namespace of its own (bench/run.sh uses `unshare -n`,
 * root): the TIME-WAIT entries and loopback traffic stay there.
 *
 * usage: linux_handshake [--variant close|rst|both] [--count N] [--rounds R]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PORT 5300
#define CLIENT_ADDRS 250
#define MAX_ROUNDS 32

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "linux_handshake: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listener(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(0x7f000001) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0)
		die("listen");
	return fd;
}

/* One connection; false on an error. */
static bool one_conn(int lfd, unsigned long i, bool rst)
{
	struct sockaddr_in src = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i % CLIENT_ADDRS)) };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(0x7f000001) };
	int c = socket(AF_INET, SOCK_STREAM, 0), s;
	char b = 'q';

	if (c < 0 || bind(c, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(c, (struct sockaddr *)&dst, sizeof(dst)) < 0 || (s = accept(lfd, NULL, NULL)) < 0) {
		if (c >= 0)
			close(c);
		return false;
	}
	if (rst) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	} else if (write(c, &b, 1) != 1 || read(s, &b, 1) != 1 || write(s, &b, 1) != 1 || read(c, &b, 1) != 1) {
		close(c);
		close(s);
		return false;
	}
	close(c);
	close(s);
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void run(int lfd, bool rst, unsigned long count, int rounds, unsigned long *next)
{
	double cpu[MAX_ROUNDS], wall[MAX_ROUNDS];

	for (unsigned long k = 0; k < count / 4; k++)  /* warm-up */
		if (!one_conn(lfd, (*next)++, rst))
			die("warm-up connection");
	for (int r = 0; r < rounds; r++) {
		double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);

		for (unsigned long k = 0; k < count; k++)
			if (!one_conn(lfd, (*next)++, rst))
				die("connection");
		cpu[r] = (now_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)count;
		wall[r] = (now_s(CLOCK_MONOTONIC) - w0) / (double)count;
	}
	qsort(cpu, (size_t)rounds, sizeof(cpu[0]), cmp_double);
	qsort(wall, (size_t)rounds, sizeof(wall[0]), cmp_double);
	printf("linux   %-5s  cpu best %9.0f conn/s (%6.2f us), median %9.0f conn/s (%6.2f us); wall best %9.0f, median %9.0f\n",
	       rst ? "rst" : "close", 1 / cpu[0], cpu[0] * 1e6, 1 / cpu[rounds / 2], cpu[rounds / 2] * 1e6, 1 / wall[0],
	       1 / wall[rounds / 2]);
}

static int usage(void)
{
	fprintf(stderr, "usage: linux_handshake [--variant close|rst|both] [--count N] [--rounds R]\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool close_v = true, rst_v = true;
	unsigned long count = 20000, next = 0;
	int rounds = 5, lfd;

	for (int i = 1; i < argc; i += 2) {        /* each option takes a value */
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return usage();
		if (!strcmp(a, "--variant")) {
			if (strcmp(v, "close") && strcmp(v, "rst") && strcmp(v, "both"))
				return usage();
			close_v = strcmp(v, "rst") != 0;
			rst_v = strcmp(v, "close") != 0;
		} else if (!strcmp(a, "--count")) {
			count = strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--rounds")) {
			rounds = atoi(v);
		} else {
			return usage();
		}
	}
	if (!count || rounds < 1 || rounds > MAX_ROUNDS)
		return usage();
	lfd = listener();
	printf("linux_handshake: the Linux kernel over loopback, one process, blocking sockets, %d rounds of %lu "
	       "connections\n", rounds, count);
	if (close_v)
		run(lfd, false, count, rounds, &next);
	if (rst_v)
		run(lfd, true, count, rounds, &next);
	close(lfd);
	return 0;
}
