/*
 * http_get: fetch one URL over HTTP/1.0 with synack's blocking calls, and
 * print the response body to stdout.
 *
 * What it shows:
 *   - blocking mode: synack_thread_start() gives the stack a thread of its
 *     own, and synack_connect_wait / synack_send_wait / synack_recv_wait
 *     block as Linux's blocking sockets do;
 *   - the threading rule: every other call on the stack (socket,
 *     setsockopt, getsockopt, close...) goes between synack_lock() and
 *     synack_unlock(); the *_wait calls lock for themselves;
 *   - SO_SNDTIMEO bounding connect and send, SO_RCVTIMEO bounding recv;
 *   - an optional default gateway for servers off the TAP's subnet.
 *
 * usage: http_get TAP ADDR/PREFIX [GATEWAY] http://A.B.C.D[:PORT][/PATH]
 *
 * The status line and a byte count go to stderr. Exit 0 for a 2xx response
 * received in full, 1 otherwise, 2 for bad usage.
 *
 * Try it (as root):
 *   ip tuntap add dev tap0 mode tap
 *   ip addr add 10.9.0.1/24 dev tap0 && ip link set tap0 up
 *   python3 -m http.server 8000 --bind 10.9.0.1 &
 *   ./build/examples/http_get tap0 10.9.0.2/24 http://10.9.0.1:8000/ > index.html
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <synack/synack.h>

#define CONNECT_TIMEOUT_S 10    /* SO_SNDTIMEO: bounds connect and send */
#define RECV_TIMEOUT_S 30       /* SO_RCVTIMEO: bounds each recv */
#define HEAD_MAX 16384          /* the response head must fit in this */

struct url {
	struct sockaddr_in addr;
	char host[INET_ADDRSTRLEN];
	const char *path;
};

/* http://A.B.C.D[:PORT][/PATH]; numeric addresses only (no DNS here). */
static int parse_url(const char *s, struct url *u)
{
	const char *p = s + 7, *host_end;
	size_t n;

	if (strncmp(s, "http://", 7) != 0)
		return -1;
	host_end = p + strcspn(p, ":/");
	n = (size_t)(host_end - p);
	if (n == 0 || n >= sizeof(u->host))
		return -1;
	memcpy(u->host, p, n);
	u->host[n] = '\0';
	u->addr.sin_family = AF_INET;
	u->addr.sin_port = htons(80);
	if (inet_pton(AF_INET, u->host, &u->addr.sin_addr) != 1)
		return -1;
	p = host_end;
	if (*p == ':') {
		char *end;
		long port = strtol(p + 1, &end, 10);

		if (end == p + 1 || port < 1 || port > 65535 || (*end && *end != '/'))
			return -1;
		u->addr.sin_port = htons((uint16_t)port);
		p = end;
	}
	u->path = *p ? p : "/";
	return 0;
}

/* The response head: the status code and Content-Length (-1 if absent). */
static int parse_head(char *head, int *status, long long *length)
{
	char *line, *save;

	*length = -1;
	line = strtok_r(head, "\r\n", &save);
	if (!line || sscanf(line, "HTTP/%*d.%*d %d", status) != 1)
		return -1;
	fprintf(stderr, "http_get: %s\n", line);
	while ((line = strtok_r(NULL, "\r\n", &save)))
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			*length = strtoll(line + 15, NULL, 10);
	return 0;
}

/* Send the request and copy the body to stdout: 0 for a complete 2xx. */
static int fetch(struct stack *st, int fd, const struct url *u)
{
	char buf[65536], req[1024], head[HEAD_MAX + 1];
	size_t head_len = 0;
	long long length = -1, body = 0;
	int status = 0, len;
	bool in_body = false;
	long n;

	len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: synack-http_get\r\n\r\n", u->path,
		       u->host);
	if (len < 0 || (size_t)len >= sizeof(req)) {
		fprintf(stderr, "http_get: URL too long\n");
		return -1;
	}
	n = synack_send_wait(st, fd, req, (size_t)len, 0);
	if (n != len) {
		fprintf(stderr, "http_get: send: %s\n", n < 0 ? strerror((int)-n) : "timed out");
		return -1;
	}
	/* HTTP/1.0: the body runs to the end of the stream. */
	while ((n = synack_recv_wait(st, fd, buf, sizeof(buf), 0)) > 0) {
		const char *data = buf;
		size_t left = (size_t)n;

		if (!in_body) {         /* still collecting the head */
			char *end;
			size_t take = left < HEAD_MAX - head_len ? left : HEAD_MAX - head_len;

			memcpy(head + head_len, buf, take);
			head_len += take;
			head[head_len] = '\0';
			end = strstr(head, "\r\n\r\n");
			if (!end) {
				if (head_len == HEAD_MAX) {
					fprintf(stderr, "http_get: response head too long\n");
					return -1;
				}
				continue;
			}
			/* What followed the blank line is the start of the body. */
			size_t used = (size_t)(end + 4 - head) - (head_len - take);
			data = buf + used;
			left = (size_t)n - used;
			*end = '\0';
			if (parse_head(head, &status, &length) < 0) {
				fprintf(stderr, "http_get: not an HTTP response\n");
				return -1;
			}
			in_body = true;
		}
		if (left && fwrite(data, 1, left, stdout) != left) {
			perror("http_get: stdout");
			return -1;
		}
		body += (long long)left;
	}
	if (fflush(stdout) != 0) {
		perror("http_get: stdout");
		return -1;
	}
	if (n < 0) {            /* -ECONNRESET, or -EAGAIN after SO_RCVTIMEO */
		fprintf(stderr, "http_get: recv: %s\n", n == -EAGAIN ? "timed out" : strerror((int)-n));
		return -1;
	}
	if (!in_body) {
		fprintf(stderr, "http_get: the connection closed before a response\n");
		return -1;
	}
	fprintf(stderr, "http_get: %lld body bytes\n", body);
	if (length >= 0 && body != length) {
		fprintf(stderr, "http_get: short body: Content-Length was %lld\n", length);
		return -1;
	}
	return status >= 200 && status < 300 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct synack_clock *clk = NULL;
	struct synack_link *link = NULL;
	struct stack *st = NULL;
	struct synack_stack_config sc = { .name = "http_get" };
	struct synack_if_config ifc = { 0 };
	struct timeval snd = { CONNECT_TIMEOUT_S, 0 }, rcv = { RECV_TIMEOUT_S, 0 };
	struct synack_tcp_info ti;
	unsigned int ti_len = sizeof(ti);
	struct url u = { 0 };
	int fd, err, rc = 1;

	if ((argc != 4 && argc != 5) || synack_parse_cidr(argv[2], &ifc.addr, &ifc.prefix_len) < 0 ||
	    (argc == 5 && inet_pton(AF_INET, argv[3], &ifc.gateway) != 1) || parse_url(argv[argc - 1], &u) < 0) {
		fprintf(stderr, "usage: %s TAP ADDR/PREFIX [GATEWAY] http://A.B.C.D[:PORT][/PATH]\n", argv[0]);
		return 2;
	}

	clk = synack_clock_new_real();
	sc.clock = clk;
	if ((err = synack_tap_open(argv[1], 0, &link)) < 0) {
		fprintf(stderr, "http_get: opening TAP %s: %s\n", argv[1], strerror(-err));
		goto out;
	}
	if ((err = synack_stack_new(&sc, &st)) < 0 || (err = synack_if_up(st, link, &ifc)) < 0) {
		fprintf(stderr, "http_get: bringing up %s: %s\n", argv[2], strerror(-err));
		goto out;
	}
	/* From here on the stack runs on its own thread. */
	if ((err = synack_thread_start(st)) < 0) {
		fprintf(stderr, "http_get: starting the stack's thread: %s\n", strerror(-err));
		goto out;
	}

	/* Non-blocking calls: under the lock. */
	synack_lock(st);
	fd = synack_socket(st);
	if (fd >= 0) {
		synack_setsockopt(st, fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
		synack_setsockopt(st, fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	}
	synack_unlock(st);
	if (fd < 0) {
		fprintf(stderr, "http_get: socket: %s\n", strerror(-fd));
		goto out;
	}

	/* Blocking calls: no lock (they take it, and drop it while asleep). */
	err = synack_connect_wait(st, fd, &u.addr);
	if (err < 0) {
		fprintf(stderr, "http_get: connect to %s:%u: %s\n", u.host, ntohs(u.addr.sin_port),
			err == -EINPROGRESS ? "timed out" : strerror(-err));
	} else if (fetch(st, fd, &u) == 0) {
		rc = 0;
	}

	synack_lock(st);
	if (synack_getsockopt(st, fd, IPPROTO_TCP, TCP_INFO, &ti, &ti_len) == 0 && err == 0)
		fprintf(stderr, "http_get: rtt %u us, %u segments retransmitted\n", ti.tcpi_rtt, ti.tcpi_total_retrans);
	synack_close(st, fd);
	synack_unlock(st);
out:
	synack_stack_free(st); /* stops the thread first */
	if (link)
		synack_link_destroy(link);
	synack_clock_free(clk);
	return rc;
}
