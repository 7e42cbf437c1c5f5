/*
 * uv_echo: the echo service of echo_server.c, driven by libuv instead of a
 * hand-written epoll loop.
 *
 * What it shows: a synack stack needs exactly one watcher in someone else's
 * event loop. A uv_poll_t on synack_stack_event_fd() fires when frames
 * arrive or a timer of the stack is due; its callback runs
 * synack_stack_poll() and then serves the sockets synack_epoll_wait()
 * reports. No uv_timer_t is needed: the stack's timers are inside the event
 * descriptor. uv_signal_t handles SIGINT and SIGTERM.
 *
 * The echoing itself (accept, recv, send, EPOLLIN/EPOLLOUT switching) is
 * in echo_conn.c, shared with echo_server.c: copy both files to start from.
 *
 * usage: uv_echo TAP ADDR/PREFIX PORT
 *
 * Built only when pkg-config finds libuv (Debian: apt-get install libuv1-dev).
 * Try it (as root):
 *   ip tuntap add dev tap0 mode tap
 *   ip addr add 10.9.0.1/24 dev tap0 && ip link set tap0 up
 *   ./build/examples/uv_echo tap0 10.9.0.2/24 7
 *   echo hello | nc -N 10.9.0.2 7              # in another shell
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <synack/synack.h>
#include <uv.h>
#include "echo_conn.h"

/* Everything the callbacks need; each uv handle's data points here. */
struct app {
	uv_loop_t loop;
	uv_poll_t stack_watch;      /* on synack_stack_event_fd() */
	uv_signal_t sigint, sigterm;
	struct echo_service echo;   /* the stack and its sockets (echo_conn.h) */
	int rc;
};

static void on_close(uv_handle_t *h)
{
	(void)h; /* the handles live in struct app: nothing to free */
}

static void stop_all(struct app *a)
{
	uv_close((uv_handle_t *)&a->stack_watch, on_close);
	uv_close((uv_handle_t *)&a->sigint, on_close);
	uv_close((uv_handle_t *)&a->sigterm, on_close);
}

/* The event descriptor is readable: the stack has frames or timers. */
static void on_stack(uv_poll_t *w, int status, int events)
{
	struct app *a = w->data;
	int err;

	(void)events;
	if (status < 0) {
		fprintf(stderr, "uv_echo: watching the stack: %s\n", uv_strerror(status));
		a->rc = 1;
		stop_all(a);
		return;
	}
	while ((err = synack_stack_poll(a->echo.st)) > 0)
		;
	if (err < 0) {
		fprintf(stderr, "uv_echo: the stack failed: %s\n", strerror(-err));
		a->rc = 1;
		stop_all(a);
		return;
	}
	echo_serve_ready(&a->echo);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct app *a = s->data;

	fprintf(stderr, "uv_echo: %s, stopping\n", strsignal(signum));
	stop_all(a);
}

int main(int argc, char **argv)
{
	struct app a = { .echo = { .name = "uv_echo", .listen_fd = -1, .sep = -1 }, .rc = 1 };
	struct synack_clock *clk = NULL;
	struct synack_link *link = NULL;
	struct synack_if_config ifc = { 0 };
	struct synack_stack_config sc = { .name = "uv_echo" };
	bool loop_ok = false;
	int efd, err;
	char *end;
	long port;

	if (argc != 4 || synack_parse_cidr(argv[2], &ifc.addr, &ifc.prefix_len) < 0 ||
	    (port = strtol(argv[3], &end, 10)) < 1 || port > 65535 || *end) {
		fprintf(stderr, "usage: %s TAP ADDR/PREFIX PORT\n", argv[0]);
		return 2;
	}
	clk = synack_clock_new_real();
	sc.clock = clk;
	if ((err = synack_tap_open(argv[1], 0, &link)) < 0) {
		fprintf(stderr, "uv_echo: opening TAP %s: %s\n", argv[1], strerror(-err));
		goto out;
	}
	if ((err = synack_stack_new(&sc, &a.echo.st)) < 0 || (err = synack_if_up(a.echo.st, link, &ifc)) < 0) {
		fprintf(stderr, "uv_echo: bringing up %s: %s\n", argv[2], strerror(-err));
		goto out;
	}
	if ((err = echo_listen(&a.echo, ifc.addr, (uint16_t)port)) < 0) {
		fprintf(stderr, "uv_echo: listening on port %ld: %s\n", port, strerror(-err));
		goto out;
	}
	efd = synack_stack_event_fd(a.echo.st);
	if (efd < 0 || uv_loop_init(&a.loop) < 0) {
		fprintf(stderr, "uv_echo: cannot set up the event loop\n");
		goto out;
	}
	loop_ok = true;

	/* One poll watcher for the whole stack, plus the two signals. */
	uv_poll_init(&a.loop, &a.stack_watch, efd);
	a.stack_watch.data = &a;
	uv_poll_start(&a.stack_watch, UV_READABLE, on_stack);
	uv_signal_init(&a.loop, &a.sigint);
	uv_signal_init(&a.loop, &a.sigterm);
	a.sigint.data = a.sigterm.data = &a;
	uv_signal_start(&a.sigint, on_signal, SIGINT);
	uv_signal_start(&a.sigterm, on_signal, SIGTERM);

	fprintf(stderr, "uv_echo: listening on %s port %ld (tap %s, libuv %s)\n", argv[2], port, argv[1],
		uv_version_string());
	a.rc = 0;
	uv_run(&a.loop, UV_RUN_DEFAULT); /* returns once every handle is closed */
	fprintf(stderr, "uv_echo: stopped\n");
out:
	echo_close_all(&a.echo);
	if (loop_ok)
		uv_loop_close(&a.loop);
	synack_stack_free(a.echo.st);
	if (link)
		synack_link_destroy(link);
	synack_clock_free(clk);
	uv_library_shutdown();
	return a.rc;
}
