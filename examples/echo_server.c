/*
 * echo_server: an echo service (RFC 862) on synack, driven by a plain Linux
 * epoll loop.
 *
 * What it shows:
 *   - one stack on a TAP device, on a real clock;
 *   - synack_stack_event_fd(): the one descriptor to put in your own epoll
 *     set. When it fires, synack_stack_poll() does the work (received frames
 *     and due timers both); nothing else needs a timeout;
 *   - synack_epoll_*: readiness of the stack's own sockets (the listener and
 *     each connection). synack_epoll_wait never blocks: call it after
 *     synack_stack_poll;
 *   - non-blocking synack_accept/recv/send and EPOLLIN/EPOLLOUT switching
 *     when the send buffer is full;
 *   - a signalfd for SIGINT and SIGTERM, so no global flag is needed.
 *
 * The echoing itself (accept, recv, send, EPOLLIN/EPOLLOUT switching) is
 * in echo_conn.c, shared with uv_echo.c: copy both files to start from.
 *
 * usage: echo_server TAP ADDR/PREFIX PORT
 *
 * Try it (as root; the TAP device is the Linux side of the wire):
 *   ip tuntap add dev tap0 mode tap
 *   ip addr add 10.9.0.1/24 dev tap0 && ip link set tap0 up
 *   ./build/examples/echo_server tap0 10.9.0.2/24 7
 *   echo hello | nc -N 10.9.0.2 7              # in another shell
 * Stop it with Ctrl-C.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <synack/synack.h>
#include "echo_conn.h"

/* The event descriptor fired: let the stack work, then serve every socket
 * that became ready. */
static int stack_work(struct echo_service *s)
{
	int err;

	while ((err = synack_stack_poll(s->st)) > 0)
		;
	if (err < 0)
		return err;
	echo_serve_ready(s);
	return 0;
}

int main(int argc, char **argv)
{
	struct echo_service s = { .name = "echo_server", .listen_fd = -1, .sep = -1 };
	struct synack_clock *clk = NULL;
	struct synack_link *link = NULL;
	struct synack_if_config ifc = { 0 };
	struct synack_stack_config sc = { .name = "echo" };
	struct epoll_event ev, evs[4];
	sigset_t sigs;
	int ep = -1, sigfd = -1, efd, err, rc = 1;
	bool stop = false;
	char *end;
	long port;

	if (argc != 4) {
		fprintf(stderr, "usage: %s TAP ADDR/PREFIX PORT\n", argv[0]);
		return 2;
	}
	port = strtol(argv[3], &end, 10);
	if (synack_parse_cidr(argv[2], &ifc.addr, &ifc.prefix_len) < 0 || *end || port < 1 || port > 65535) {
		fprintf(stderr, "usage: %s TAP ADDR/PREFIX PORT\n", argv[0]);
		return 2;
	}

	/* SIGINT and SIGTERM arrive through a descriptor in the same loop. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	clk = synack_clock_new_real();
	sc.clock = clk;
	if ((err = synack_tap_open(argv[1], 0, &link)) < 0) {
		fprintf(stderr, "echo_server: opening TAP %s: %s\n", argv[1], strerror(-err));
		goto out;
	}
	if ((err = synack_stack_new(&sc, &s.st)) < 0 || (err = synack_if_up(s.st, link, &ifc)) < 0) {
		fprintf(stderr, "echo_server: bringing up %s: %s\n", argv[2], strerror(-err));
		goto out;
	}
	if ((err = echo_listen(&s, ifc.addr, (uint16_t)port)) < 0) {
		fprintf(stderr, "echo_server: listening on port %ld: %s\n", port, strerror(-err));
		goto out;
	}

	/* The loop's epoll set: the stack's event descriptor and the signals. */
	efd = synack_stack_event_fd(s.st);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (efd < 0 || ep < 0 || sigfd < 0) {
		fprintf(stderr, "echo_server: cannot set up the event loop\n");
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = efd };
	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = sigfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, sigfd, &ev);

	fprintf(stderr, "echo_server: listening on %s port %ld (tap %s)\n", argv[2], port, argv[1]);
	while (!stop) {
		int n = epoll_wait(ep, evs, 4, -1);

		if (n < 0 && errno != EINTR) {
			perror("echo_server: epoll_wait");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sigfd) {
				stop = true;
			} else if ((err = stack_work(&s)) < 0) {
				fprintf(stderr, "echo_server: the stack failed: %s\n", strerror(-err));
				goto out;
			}
		}
	}
	fprintf(stderr, "echo_server: stopped\n");
	rc = 0;
out:
	echo_close_all(&s);
	if (ep >= 0)
		close(ep);
	if (sigfd >= 0)
		close(sigfd);
	synack_stack_free(s.st); /* also closes the listener and the epoll instance */
	if (link)
		synack_link_destroy(link);
	synack_clock_free(clk);
	return rc;
}
