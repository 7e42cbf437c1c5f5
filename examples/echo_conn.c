/*
 * echo_conn: the echo service shared by echo_server.c and uv_echo.c (see
 * echo_conn.h). Everything here is non-blocking and driven by readiness
 * from synack_epoll_wait(); the caller's loop decides when to look.
 */
#include "echo_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define MAX_EVENTS 64
#define BUF_SIZE 16384

/* One client connection and the bytes read but not yet echoed. */
struct echo_client {
	struct echo_client *prev, *next;
	int fd;                     /* the stack's socket descriptor */
	uint32_t events;            /* what it is registered for: EPOLLIN or EPOLLOUT */
	bool eof;                   /* the client sent its FIN */
	struct sockaddr_in peer;
	unsigned long long echoed;
	size_t off, len;            /* buf[off .. off+len) waits for synack_send */
	char buf[BUF_SIZE];
};

static const char *addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s:%u", ip, ntohs(a->sin_port));
	return buf;
}

static void client_close(struct echo_service *s, struct echo_client *c, long err)
{
	char peer[32];

	fprintf(stderr, "%s: %s closed after %llu bytes%s%s\n", s->name, addr_str(&c->peer, peer, sizeof(peer)),
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
static void client_serve(struct echo_service *s, struct echo_client *c)
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

/* A new client's entry, registered for EPOLLIN and first in the list. */
static struct echo_client *client_add(struct echo_service *s, int fd, const struct sockaddr_in *peer)
{
	struct echo_client *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!c)
		return NULL;
	c->fd = fd;
	c->peer = *peer;
	c->events = EPOLLIN;
	ev.data.ptr = c;
	if (synack_epoll_ctl(s->st, s->sep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	c->next = s->clients;
	if (c->next)
		c->next->prev = c;
	s->clients = c;
	return c;
}

static void accept_clients(struct echo_service *s)
{
	for (;;) {
		struct sockaddr_in peer;
		struct echo_client *c;
		char name[32];
		int fd = synack_accept(s->st, s->listen_fd, &peer);

		if (fd == -EAGAIN)
			return;
		if (fd < 0) {
			fprintf(stderr, "%s: accept: %s\n", s->name, strerror(-fd));
			return;
		}
		c = client_add(s, fd, &peer);
		if (!c) {
			synack_close(s->st, fd);
			continue;
		}
		fprintf(stderr, "%s: accepted %s\n", s->name, addr_str(&peer, name, sizeof(name)));
		/* It may have sent data right after the handshake: serve it
		 * now rather than in the next round of events. */
		client_serve(s, c);
	}
}

void echo_serve_ready(struct echo_service *s)
{
	struct epoll_event evs[MAX_EVENTS];
	int n;

	do {
		n = synack_epoll_wait(s->st, s->sep, evs, MAX_EVENTS);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				accept_clients(s);      /* the listener */
			else
				client_serve(s, evs[i].data.ptr);
		}
	} while (n == MAX_EVENTS);
}

int echo_listen(struct echo_service *s, struct in_addr addr, uint16_t port)
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

void echo_close_all(struct echo_service *s)
{
	while (s->clients)
		client_close(s, s->clients, 0);
}
