/*
 * tap_terminator: the heart of a tun2socks-style proxy. Every TCP
 * connection that arrives on a TAP device, whatever address and port it is
 * for, is accepted by synack and spliced to a real Linux socket.
 *
 * What it shows:
 *   - IP_TRANSPARENT on a listener: it catches connections to any address
 *     and port, not only the stack's own, and synack_getsockname() on an
 *     accepted socket gives the destination the client dialled;
 *   - one epoll loop over both worlds: the Linux sockets, and the stack's
 *     event descriptor standing in for all of the stack's sockets (whose
 *     readiness comes from synack_epoll, edge-triggered here);
 *   - splicing with half-close: a FIN from either side becomes a
 *     shutdown(SHUT_WR) on the other once the bytes before it are through,
 *     and each socket is closed when it has nothing left to read or write;
 *     a reset, or an upstream that refuses, resets the other side.
 *
 * usage: tap_terminator TAP ADDR/PREFIX [--upstream A.B.C.D:PORT] [--mark N]
 *   --upstream  send every connection there instead of to its original
 *               destination (a redirecting proxy);
 *   --mark      put SO_MARK N on the upstream sockets, so policy routing can
 *               keep them out of the TAP (needs CAP_NET_ADMIN).
 *
 * Try it (as root). Route a network that exists nowhere into the TAP with
 * the stack's address as the gateway (the kernel then ARPs only for that
 * address), and redirect everything to a local web server:
 *   ip tuntap add dev tap0 mode tap
 *   ip addr add 10.9.0.1/24 dev tap0 && ip link set tap0 up
 *   ip route add 203.0.113.0/24 via 10.9.0.2
 *   python3 -m http.server 8000 --bind 127.0.0.1 &
 *   ./build/examples/tap_terminator tap0 10.9.0.2/24 --upstream 127.0.0.1:8000 &
 *   curl http://203.0.113.80:8080/
 * Without --upstream each connection goes to its original destination; the
 * Linux route to it must then not lead back into the TAP, or every
 * connection would come straight back (use --mark and an `ip rule` for
 * that mark, as the interop test tests/interop/example_tap_terminator.sh
 * does). Connections to the stack's own address never reach the catch-all
 * (the stack answers them as any host does); an upstream that is the
 * stack's own address is reset, since it would loop.
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
#define BUF_SIZE 65536

/* Bytes on their way in one direction. */
struct pipe {
	size_t head, tail;          /* data[head .. tail) waits to be written */
	bool eof;                   /* the sender's FIN was read */
	bool shut;                  /* ... and passed on: shutdown(SHUT_WR) done */
	unsigned long long total;   /* bytes delivered */
	char data[BUF_SIZE];
};

/* One spliced connection. */
struct conn {
	struct conn *prev, *next;
	int sfd;                    /* the client's connection, in the stack; -1 once closed */
	int lfd;                    /* the Linux socket to the upstream; -1 once closed */
	bool connecting;            /* lfd's connect() is still running */
	bool dead;                  /* finished: freed at the end of this loop round */
	char name[64];              /* "client -> original destination" */
	struct pipe up;             /* client -> upstream */
	struct pipe down;           /* upstream -> client */
};

struct proxy {
	struct stack *st;
	struct in_addr own;         /* the stack's address */
	struct sockaddr_in upstream; /* --upstream; port 0: the original destination */
	unsigned int mark;          /* --mark; 0: none */
	int ep;                     /* the Linux epoll set */
	int event_fd;               /* synack_stack_event_fd(); its address tags its events */
	int signal_fd;              /* SIGINT, SIGTERM; likewise */
	int sep;                    /* the stack's epoll instance */
	int listen_fd;              /* the IP_TRANSPARENT listener */
	struct conn *conns;         /* live connections */
	struct conn *dead;          /* finished this round */
	unsigned long accepted;
};

static void addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s:%u", ip, ntohs(a->sin_port));
}

static size_t pipe_len(const struct pipe *p)
{
	return p->tail - p->head;
}

/* Free space at the end; when there is none, the waiting bytes move to
 * the front first. */
static size_t pipe_room(struct pipe *p)
{
	if (p->head == p->tail) {
		p->head = p->tail = 0;
	} else if (p->tail == sizeof(p->data) && p->head > 0) {
		memmove(p->data, p->data + p->head, pipe_len(p));
		p->tail -= p->head;
		p->head = 0;
	}
	return sizeof(p->data) - p->tail;
}

/* Both sockets are closed: log it, and free it once this round is over
 * (an event for it may still wait in the batch being handled). */
static void conn_done(struct proxy *p, struct conn *c, const char *how)
{
	fprintf(stderr, "tap_terminator: %s: %s, %llu bytes up, %llu bytes down\n", c->name, how, c->up.total,
		c->down.total);
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->dead = true;
	c->next = p->dead;
	p->dead = c;
}

/* One side failed: reset both, as a proxy must (the peer of a splice can't
 * tell a reset from an orderly end any other way). */
static void conn_reset(struct proxy *p, struct conn *c, const char *side, const char *why)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	char how[128];

	if (c->sfd >= 0) {
		synack_setsockopt(p->st, c->sfd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		synack_close(p->st, c->sfd);
		c->sfd = -1;
	}
	if (c->lfd >= 0) {
		setsockopt(c->lfd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		close(c->lfd); /* also leaves the epoll set */
		c->lfd = -1;
	}
	snprintf(how, sizeof(how), "reset (%s: %s)", side, why);
	conn_done(p, c, how);
}

/* Move bytes both ways until nothing more can move now. Everything is
 * edge-triggered, so each call goes on until the sockets say EAGAIN (or a
 * buffer is full: then the other side's next event brings us back). */
static void conn_pump(struct proxy *p, struct conn *c)
{
	struct pipe *up = &c->up, *down = &c->down;
	bool moved;
	ssize_t n;

	do {
		moved = false;
		/* client -> upstream */
		if (c->sfd >= 0 && !up->eof && pipe_room(up) > 0) {
			n = synack_recv(p->st, c->sfd, up->data + up->tail, sizeof(up->data) - up->tail, 0);
			if (n < 0 && n != -EAGAIN) {
				conn_reset(p, c, "client", strerror((int)-n));
				return;
			}
			if (n > 0)
				up->tail += (size_t)n;
			if (n == 0)
				up->eof = true;
			moved |= (n >= 0);
		}
		if (!c->connecting && !up->shut && pipe_len(up) > 0) {
			n = send(c->lfd, up->data + up->head, pipe_len(up), MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				conn_reset(p, c, "upstream", strerror(errno));
				return;
			}
			if (n > 0) {
				up->head += (size_t)n;
				up->total += (unsigned long long)n;
				moved = true;
			}
		}
		if (!c->connecting && up->eof && !up->shut && pipe_len(up) == 0) {
			shutdown(c->lfd, SHUT_WR);      /* pass the client's FIN on */
			up->shut = true;
		}
		/* upstream -> client */
		if (!c->connecting && c->lfd >= 0 && !down->eof && pipe_room(down) > 0) {
			n = recv(c->lfd, down->data + down->tail, sizeof(down->data) - down->tail, 0);
			if (n < 0 && errno != EAGAIN) {
				conn_reset(p, c, "upstream", strerror(errno));
				return;
			}
			if (n > 0)
				down->tail += (size_t)n;
			if (n == 0)
				down->eof = true;
			moved |= (n >= 0);
		}
		if (c->sfd >= 0 && pipe_len(down) > 0) {
			n = synack_send(p->st, c->sfd, down->data + down->head, pipe_len(down), 0);
			if (n < 0 && n != -EAGAIN) {
				conn_reset(p, c, "client", strerror((int)-n));
				return;
			}
			if (n > 0) {
				down->head += (size_t)n;
				down->total += (unsigned long long)n;
				moved = true;
			}
		}
		if (c->sfd >= 0 && down->eof && !down->shut && pipe_len(down) == 0) {
			synack_shutdown(p->st, c->sfd, SHUT_WR); /* the upstream's FIN */
			down->shut = true;
		}
	} while (moved);

	/* A socket with nothing left to read or to write is closed. */
	if (c->sfd >= 0 && up->eof && down->shut) {
		synack_close(p->st, c->sfd);
		c->sfd = -1;
	}
	if (c->lfd >= 0 && down->eof && up->shut) {
		close(c->lfd);
		c->lfd = -1;
	}
	if (c->sfd < 0 && c->lfd < 0)
		conn_done(p, c, "closed");
}

/* A new connection from the TAP: find where it was going and connect a
 * Linux socket there (or to --upstream). */
static void conn_start(struct proxy *p, int sfd, const struct sockaddr_in *client)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	struct sockaddr_in dst = { 0 }, to;
	char a[24], b[24], t[24];
	struct conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		synack_close(p->st, sfd);
		return;
	}
	c->sfd = sfd;
	c->lfd = -1;
	c->next = p->conns;
	if (c->next)
		c->next->prev = c;
	p->conns = c;
	p->accepted++;

	synack_getsockname(p->st, sfd, &dst); /* the original destination */
	to = p->upstream.sin_port ? p->upstream : dst;
	addr_str(client, a, sizeof(a));
	addr_str(&dst, b, sizeof(b));
	addr_str(&to, t, sizeof(t));
	snprintf(c->name, sizeof(c->name), "%s -> %s", a, b);
	fprintf(stderr, "tap_terminator: %s: connecting to %s\n", c->name, t);
	if (to.sin_addr.s_addr == p->own.s_addr) {
		conn_reset(p, c, "no upstream", "the stack's own address would loop");
		return;
	}

	c->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0) {
		conn_reset(p, c, "upstream", strerror(errno));
		return;
	}
	if (p->mark && setsockopt(c->lfd, SOL_SOCKET, SO_MARK, &p->mark, sizeof(p->mark)) < 0) {
		conn_reset(p, c, "upstream SO_MARK", strerror(errno));
		return;
	}
	r = connect(c->lfd, (struct sockaddr *)&to, sizeof(to));
	if (r < 0 && errno != EINPROGRESS) {
		conn_reset(p, c, "upstream", strerror(errno));
		return;
	}
	c->connecting = r < 0;
	/* The same events and tag in both epoll sets (edge-triggered). */
	ev.data.ptr = c;
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, c->lfd, &ev) < 0) {
		conn_reset(p, c, "epoll", strerror(errno));
		return;
	}
	if ((r = synack_epoll_ctl(p->st, p->sep, EPOLL_CTL_ADD, sfd, &ev)) < 0) {
		conn_reset(p, c, "synack_epoll", strerror(-r));
		return;
	}
	/* The client may have sent data (or even its FIN) already: take it
	 * now rather than in the next round of events. */
	conn_pump(p, c);
}

/* EPOLLERR: the socket's pending error (0 if none). */
static int linux_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

static int stack_error(struct stack *st, int fd)
{
	int err = 0;
	unsigned int len = sizeof(err);

	synack_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

/* An event on a connection's Linux socket. */
static void upstream_event(struct proxy *p, struct conn *c, uint32_t events)
{
	int err;

	if (c->lfd < 0)
		return;
	if ((events & EPOLLERR) || c->connecting) {
		err = linux_error(c->lfd);
		if (err) {
			conn_reset(p, c, "upstream", strerror(err));
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		c->connecting = false;  /* connected */
	}
	conn_pump(p, c);
}

/* An event on a connection's socket in the stack. */
static void client_event(struct proxy *p, struct conn *c, uint32_t events)
{
	int err;

	if (c->sfd < 0)
		return;
	if ((events & EPOLLERR) && (err = stack_error(p->st, c->sfd))) {
		conn_reset(p, c, "client", strerror(err));
		return;
	}
	conn_pump(p, c);
}

static void accept_all(struct proxy *p)
{
	struct sockaddr_in client;
	int sfd;

	while ((sfd = synack_accept(p->st, p->listen_fd, &client)) >= 0)
		conn_start(p, sfd, &client);
	if (sfd != -EAGAIN)
		fprintf(stderr, "tap_terminator: accept: %s\n", strerror(-sfd));
}

/* The event descriptor fired: run the stack, then serve its sockets. */
static int stack_work(struct proxy *p)
{
	struct epoll_event evs[MAX_EVENTS];
	int n, err;

	while ((err = synack_stack_poll(p->st)) > 0)
		;
	if (err < 0)
		return err;
	do {
		n = synack_epoll_wait(p->st, p->sep, evs, MAX_EVENTS);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c)
				accept_all(p);
			else if (!c->dead)
				client_event(p, c, evs[i].events);
		}
	} while (n == MAX_EVENTS);
	return 0;
}

static void free_dead(struct proxy *p)
{
	while (p->dead) {
		struct conn *c = p->dead;

		p->dead = c->next;
		free(c);
	}
}

/* The catch-all listener. Its own address and port hardly matter:
 * IP_TRANSPARENT makes it take every connection no other socket wants. */
static int listen_everywhere(struct proxy *p)
{
	struct sockaddr_in any = { .sin_family = AF_INET }; /* 0.0.0.0, port 0: any free port */
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int one = 1, err;

	p->listen_fd = synack_socket(p->st);
	if (p->listen_fd < 0)
		return p->listen_fd;
	if ((err = synack_setsockopt(p->st, p->listen_fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one))) < 0 ||
	    (err = synack_bind(p->st, p->listen_fd, &any)) < 0 || (err = synack_listen(p->st, p->listen_fd, 128)) < 0)
		return err;
	p->sep = synack_epoll_create(p->st);
	if (p->sep < 0)
		return p->sep;
	return synack_epoll_ctl(p->st, p->sep, EPOLL_CTL_ADD, p->listen_fd, &ev);
}

/* "A.B.C.D:PORT" */
static int parse_addr_port(const char *s, struct sockaddr_in *out)
{
	char ip[INET_ADDRSTRLEN], *end;
	const char *colon = strchr(s, ':');
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &out->sin_addr) == 1 && !*end && port > 0 && port < 65536 ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct proxy *p, struct synack_if_config *ifc)
{
	if (argc < 3 || synack_parse_cidr(argv[2], &ifc->addr, &ifc->prefix_len) < 0)
		return -1;
	for (int i = 3; i < argc; i += 2) {
		char *end;

		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "--upstream") == 0) {
			if (parse_addr_port(argv[i + 1], &p->upstream) < 0)
				return -1;
		} else if (strcmp(argv[i], "--mark") == 0) {
			p->mark = (unsigned int)strtoul(argv[i + 1], &end, 0);
			if (*end || !p->mark)
				return -1;
		} else {
			return -1;
		}
	}
	p->own = ifc->addr;
	return 0;
}

int main(int argc, char **argv)
{
	struct proxy p = { .ep = -1, .signal_fd = -1, .listen_fd = -1, .sep = -1 };
	struct synack_clock *clk = NULL;
	struct synack_link *link = NULL;
	struct synack_if_config ifc = { 0 };
	struct synack_stack_config sc = { .name = "terminator" };
	struct epoll_event ev, evs[MAX_EVENTS];
	char up[32] = "the original destination";
	sigset_t sigs;
	int err, rc = 1;
	bool stop = false;

	if (parse_args(argc, argv, &p, &ifc) < 0) {
		fprintf(stderr, "usage: %s TAP ADDR/PREFIX [--upstream A.B.C.D:PORT] [--mark N]\n", argv[0]);
		return 2;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	p.signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);

	clk = synack_clock_new_real();
	sc.clock = clk;
	if ((err = synack_tap_open(argv[1], 0, &link)) < 0) {
		fprintf(stderr, "tap_terminator: opening TAP %s: %s\n", argv[1], strerror(-err));
		goto out;
	}
	if ((err = synack_stack_new(&sc, &p.st)) < 0 || (err = synack_if_up(p.st, link, &ifc)) < 0) {
		fprintf(stderr, "tap_terminator: bringing up %s: %s\n", argv[2], strerror(-err));
		goto out;
	}
	if ((err = listen_everywhere(&p)) < 0) {
		fprintf(stderr, "tap_terminator: the transparent listener: %s\n", strerror(-err));
		goto out;
	}
	p.event_fd = synack_stack_event_fd(p.st);
	p.ep = epoll_create1(EPOLL_CLOEXEC);
	if (p.event_fd < 0 || p.ep < 0 || p.signal_fd < 0) {
		fprintf(stderr, "tap_terminator: cannot set up the event loop\n");
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &p.event_fd };
	epoll_ctl(p.ep, EPOLL_CTL_ADD, p.event_fd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &p.signal_fd };
	epoll_ctl(p.ep, EPOLL_CTL_ADD, p.signal_fd, &ev);

	if (p.upstream.sin_port)
		addr_str(&p.upstream, up, sizeof(up));
	fprintf(stderr, "tap_terminator: on %s as %s, taking every TCP connection; upstream: %s\n", argv[1], argv[2], up);
	while (!stop) {
		int n = epoll_wait(p.ep, evs, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR) {
			perror("tap_terminator: epoll_wait");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;

			if (tag == &p.signal_fd) {
				stop = true;
			} else if (tag == &p.event_fd) {
				if ((err = stack_work(&p)) < 0) {
					fprintf(stderr, "tap_terminator: the stack failed: %s\n", strerror(-err));
					goto out;
				}
			} else if (!((struct conn *)tag)->dead) {
				upstream_event(&p, tag, evs[i].events);
			}
		}
		free_dead(&p);
	}
	fprintf(stderr, "tap_terminator: stopped after %lu connections\n", p.accepted);
	rc = 0;
out:
	while (p.conns)
		conn_reset(&p, p.conns, "terminator", "stopping");
	free_dead(&p);
	if (p.ep >= 0)
		close(p.ep);
	if (p.signal_fd >= 0)
		close(p.signal_fd);
	synack_stack_free(p.st);
	if (link)
		synack_link_destroy(link);
	synack_clock_free(clk);
	return rc;
}
