/*
 * echo_conn: the echo service (RFC 862) itself, shared by echo_server.c
 * (a plain epoll loop) and uv_echo.c (libuv). Those two files show how a
 * synack stack fits into an event loop; this one holds what they would
 * otherwise both spell out: the listener, non-blocking accept, recv and
 * send, and the EPOLLIN/EPOLLOUT switching when the send buffer is full.
 */
#ifndef SYNACK_EXAMPLE_ECHO_CONN_H
#define SYNACK_EXAMPLE_ECHO_CONN_H

#include <netinet/in.h>
#include <stdint.h>
#include <synack/synack.h>

struct echo_client;

struct echo_service {
	const char *name;               /* the program's, before each message */
	struct stack *st;
	int listen_fd;
	int sep;                        /* the stack's epoll instance (synack_epoll_create) */
	struct echo_client *clients;    /* every open connection */
};

/* Listen on addr:port, with the listener in a new synack epoll instance.
 * 0 or a negative errno. */
int echo_listen(struct echo_service *s, struct in_addr addr, uint16_t port);

/* Serve every socket that is ready: call it after synack_stack_poll(). */
void echo_serve_ready(struct echo_service *s);

/* Close every connection (on the way out). */
void echo_close_all(struct echo_service *s);

#endif
