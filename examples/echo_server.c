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

#define MAX_EVENTS 64
#define BUF_SIZE 16384

/* One client connection and the bytes read but not yet echoed. */
struct client {
	struct client *prev, *next;
	int fd;                     /* the stack's socket descriptor */
	uint32_t events;            /* what it is registered for: EPOLLIN or EPOLLOUT */
	bool eof;                   /* the client sent its FIN */
	struct sockaddr_in peer;
	unsigned long long echoed;
	size_t off, len;            /* buf[off .. off+len) waits for synack_send */
	char buf[BUF_SIZE];
};

struct server {
	struct stack *st;
	int listen_fd;
	int sep;                    /* the stack's epoll instance (synack_epoll_create) */
	struct client *clients;     /* every open connection */
};

static const char *addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s:%u", ip, ntohs(a->sin_port));
	return buf;
}

static void client_close(struct server *s, struct client *c, long err)
{
	char peer[32];

	fprintf(stderr, "echo_server: %s closed after %llu bytes%s%s\n", addr_str(&c->peer, peer, sizeof(peer)),
		c->echoed, err ? ": " : "", err ? strerror((int)-err) : "");
	/* Closing also removes the socket from the epoll instance. Data still
	 * in the send buffer is sent before the FIN, as on Linux. */
	synack_close(s->st, c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

/* Echo what can be echoed now: send what is pending, read more, until the
 * stack says -EAGAIN. Closes the client after its FIN once everything is
 * handed to the stack. */
static void client_serve(struct server *s, struct client *c)
{
	struct epoll_event ev;
	long n;

	for (;;) {
		if (c->len > 0) {
			n = synack_send(s->st, c->fd, c->buf + c->off, c->len, 0);
			if (n == -EAGAIN)
				break;          /* send buffer full: wait for EPOLLOUT */
			if (n < 0) {
				client_close(s, c, n);
				return;
			}
			c->off += (size_t)n;
			c->len -= (size_t)n;
			c->echoed += (unsigned long long)n;
			continue;
		}
		if (c->eof) {
			client_close(s, c, 0);
			return;
		}
		n = synack_recv(s->st, c->fd, c->buf, sizeof(c->buf), 0);
		if (n == -EAGAIN)
			break;              /* nothing more yet: wait for EPOLLIN */
		if (n < 0) {            /* -ECONNRESET, -ETIMEDOUT, ... */
			client_close(s, c, n);
			return;
		}
		if (n == 0)
			c->eof = true;
		c->off = 0;
		c->len = (size_t)n;
	}
	/* Level-triggered: ask for EPOLLOUT only while something waits to be
	 * sent (otherwise it would be reported on every wait). */
	ev.events = c->len > 0 ? EPOLLOUT : EPOLLIN;
	ev.data.ptr = c;
	if (ev.events != c->events && synack_epoll_ctl(s->st, s->sep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = ev.events;
}

static void accept_clients(struct server *s)
{
	for (;;) {
		struct sockaddr_in peer;
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *c;
		char name[32];
		int fd = synack_accept(s->st, s->listen_fd, &peer);

		if (fd == -EAGAIN)
			return;
		if (fd < 0) {
			fprintf(stderr, "echo_server: accept: %s\n", strerror(-fd));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			synack_close(s->st, fd);
			continue;
		}
		c->fd = fd;
		c->peer = peer;
		c->events = EPOLLIN;
		ev.data.ptr = c;
		if (synack_epoll_ctl(s->st, s->sep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			synack_close(s->st, fd);
			free(c);
			continue;
		}
		c->next = s->clients;
		if (c->next)
			c->next->prev = c;
		s->clients = c;
		fprintf(stderr, "echo_server: accepted %s\n", addr_str(&peer, name, sizeof(name)));
		/* It may have sent data right after the handshake: serve it
		 * now rather than in the next round of events. */
		client_serve(s, c);
	}
}

/* The event descriptor fired: let the stack work, then serve every socket
 * that became ready. */
static int stack_work(struct server *s)
{
	struct epoll_event evs[MAX_EVENTS];
	int n, err;

	while ((err = synack_stack_poll(s->st)) > 0)
		;
	if (err < 0)
		return err;
	do {
		n = synack_epoll_wait(s->st, s->sep, evs, MAX_EVENTS);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				accept_clients(s);      /* the listener */
			else
				client_serve(s, evs[i].data.ptr);
		}
	} while (n == MAX_EVENTS);
	return 0;
}

static int listen_on(struct server *s, struct in_addr addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = addr };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int one = 1, err;

	s->listen_fd = synack_socket(s->st);
	if (s->listen_fd < 0)
		return s->listen_fd;
	synack_setsockopt(s->st, s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((err = synack_bind(s->st, s->listen_fd, &sin)) < 0 || (err = synack_listen(s->st, s->listen_fd, 64)) < 0)
		return err;
	s->sep = synack_epoll_create(s->st);
	if (s->sep < 0)
		return s->sep;
	return synack_epoll_ctl(s->st, s->sep, EPOLL_CTL_ADD, s->listen_fd, &ev);
}

int main(int argc, char **argv)
{
	struct server s = { .listen_fd = -1, .sep = -1 };
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
	if ((err = listen_on(&s, ifc.addr, (uint16_t)port)) < 0) {
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
	while (s.clients)
		client_close(&s, s.clients, 0);
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
