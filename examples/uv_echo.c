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

#define MAX_EVENTS 64
#define BUF_SIZE 16384

struct client {
	struct client *prev, *next;
	int fd;
	uint32_t events;            /* EPOLLIN, or EPOLLOUT while bytes wait */
	bool eof;
	struct sockaddr_in peer;
	unsigned long long echoed;
	size_t off, len;
	char buf[BUF_SIZE];
};

/* Everything the callbacks need; each uv handle's data points here. */
struct app {
	uv_loop_t loop;
	uv_poll_t stack_watch;      /* on synack_stack_event_fd() */
	uv_signal_t sigint, sigterm;
	struct stack *st;
	int listen_fd;
	int sep;                    /* synack_epoll instance */
	struct client *clients;
	int rc;
};

static const char *addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s:%u", ip, ntohs(a->sin_port));
	return buf;
}

static void client_close(struct app *a, struct client *c, long err)
{
	char peer[32];

	fprintf(stderr, "uv_echo: %s closed after %llu bytes%s%s\n", addr_str(&c->peer, peer, sizeof(peer)),
		c->echoed, err ? ": " : "", err ? strerror((int)-err) : "");
	synack_close(a->st, c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		a->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

/* As in echo_server.c: echo until -EAGAIN, close after the FIN. */
static void client_serve(struct app *a, struct client *c)
{
	struct epoll_event ev;
	long n;

	for (;;) {
		if (c->len > 0) {
			n = synack_send(a->st, c->fd, c->buf + c->off, c->len, 0);
			if (n == -EAGAIN)
				break;
			if (n < 0) {
				client_close(a, c, n);
				return;
			}
			c->off += (size_t)n;
			c->len -= (size_t)n;
			c->echoed += (unsigned long long)n;
			continue;
		}
		if (c->eof) {
			client_close(a, c, 0);
			return;
		}
		n = synack_recv(a->st, c->fd, c->buf, sizeof(c->buf), 0);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			client_close(a, c, n);
			return;
		}
		if (n == 0)
			c->eof = true;
		c->off = 0;
		c->len = (size_t)n;
	}
	ev.events = c->len > 0 ? EPOLLOUT : EPOLLIN;
	ev.data.ptr = c;
	if (ev.events != c->events && synack_epoll_ctl(a->st, a->sep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = ev.events;
}

static void accept_clients(struct app *a)
{
	for (;;) {
		struct sockaddr_in peer;
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *c;
		char name[32];
		int fd = synack_accept(a->st, a->listen_fd, &peer);

		if (fd == -EAGAIN)
			return;
		if (fd < 0) {
			fprintf(stderr, "uv_echo: accept: %s\n", strerror(-fd));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			synack_close(a->st, fd);
			continue;
		}
		c->fd = fd;
		c->peer = peer;
		c->events = EPOLLIN;
		ev.data.ptr = c;
		if (synack_epoll_ctl(a->st, a->sep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			synack_close(a->st, fd);
			free(c);
			continue;
		}
		c->next = a->clients;
		if (c->next)
			c->next->prev = c;
		a->clients = c;
		fprintf(stderr, "uv_echo: accepted %s\n", addr_str(&peer, name, sizeof(name)));
		/* It may have sent data right after the handshake: serve it
		 * now rather than in the next round of events. */
		client_serve(a, c);
	}
}

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
	struct epoll_event evs[MAX_EVENTS];
	int n, err;

	(void)events;
	if (status < 0) {
		fprintf(stderr, "uv_echo: watching the stack: %s\n", uv_strerror(status));
		a->rc = 1;
		stop_all(a);
		return;
	}
	while ((err = synack_stack_poll(a->st)) > 0)
		;
	if (err < 0) {
		fprintf(stderr, "uv_echo: the stack failed: %s\n", strerror(-err));
		a->rc = 1;
		stop_all(a);
		return;
	}
	do {
		n = synack_epoll_wait(a->st, a->sep, evs, MAX_EVENTS);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				accept_clients(a);
			else
				client_serve(a, evs[i].data.ptr);
		}
	} while (n == MAX_EVENTS);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct app *a = s->data;

	fprintf(stderr, "uv_echo: %s, stopping\n", strsignal(signum));
	stop_all(a);
}

static int listen_on(struct app *a, struct in_addr addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = addr };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int one = 1, err;

	a->listen_fd = synack_socket(a->st);
	if (a->listen_fd < 0)
		return a->listen_fd;
	synack_setsockopt(a->st, a->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((err = synack_bind(a->st, a->listen_fd, &sin)) < 0 || (err = synack_listen(a->st, a->listen_fd, 64)) < 0)
		return err;
	a->sep = synack_epoll_create(a->st);
	if (a->sep < 0)
		return a->sep;
	return synack_epoll_ctl(a->st, a->sep, EPOLL_CTL_ADD, a->listen_fd, &ev);
}

int main(int argc, char **argv)
{
	struct app a = { .listen_fd = -1, .sep = -1, .rc = 1 };
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
	if ((err = synack_stack_new(&sc, &a.st)) < 0 || (err = synack_if_up(a.st, link, &ifc)) < 0) {
		fprintf(stderr, "uv_echo: bringing up %s: %s\n", argv[2], strerror(-err));
		goto out;
	}
	if ((err = listen_on(&a, ifc.addr, (uint16_t)port)) < 0) {
		fprintf(stderr, "uv_echo: listening on port %ld: %s\n", port, strerror(-err));
		goto out;
	}
	efd = synack_stack_event_fd(a.st);
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
	while (a.clients)
		client_close(&a, a.clients, 0);
	if (loop_ok)
		uv_loop_close(&a.loop);
	synack_stack_free(a.st);
	if (link)
		synack_link_destroy(link);
	synack_clock_free(clk);
	uv_library_shutdown();
	return a.rc;
}
