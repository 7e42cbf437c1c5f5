/*
 * synack up: run one stack on a Linux TAP device until SIGINT/SIGTERM,
 * answering ARP and ping from the kernel side of the TAP; optionally
 * accepting TCP connections on a port (--listen) and serving them
 * (--service echo|discard|source|http), and opening one (--connect).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "cli.h"

/*
 * The only global: written by the signal handler, read by the loop. Bit 0
 * asks the loop to stop; the bits above count SIGUSR1s, so the loop can
 * notice a new one by comparing and never has to clear anything.
 */
static volatile sig_atomic_t up_signals;

#define UP_STOP 1
#define UP_USR1_STEP 2

#define UP_BACKLOG 128
#define UP_MAX_SYSCTLS 32
#define UP_MAX_CONNS 64                 /* more wait in the accept queue */
#define UP_BUF_LEN 16384                /* per connection: echo data, or the HTTP request */
#define UP_IO_LEN 65536                 /* the shared scratch buffer for reads and writes */
#define UP_HTTP_MAX_BODY (UINT64_C(10) << 30)  /* GET /bytes/N: N up to 10 GiB */
#define UP_LINGER_NS (UINT64_C(30) * 1000000000u)  /* after our FIN: wait this long for the peer's */

enum up_service { SVC_NONE, SVC_ECHO, SVC_DISCARD, SVC_SOURCE, SVC_HTTP };
static const char *const service_names[] = { "none", "echo", "discard", "source", "http" };

struct up_opts {
	struct cli_net_opts net;
	bool seeded;
	uint64_t seed;
	bool quiet;
	bool zeros;                     /* --zeros: print every counter, as nstat -z does */
	uint16_t listen_port;           /* 0: no --listen */
	enum up_service service;
	bool has_connect;
	struct sockaddr_in connect_to;
	const char *connect_text;
	const char *sysctls[UP_MAX_SYSCTLS];    /* "NAME=VALUE", applied before the interface comes up */
	size_t nsysctls;
};

enum http_phase { HTTP_REQUEST, HTTP_RESPOND, HTTP_DONE };

/* An open connection: accepted on the listener, or the one --connect made. */
struct up_conn {
	int fd;
	bool outgoing;
	struct sockaddr_in peer;
	uint64_t rx, tx;                /* bytes read and sent */
	bool eof;                       /* read the peer's FIN */
	bool shut;                      /* our SHUT_WR is done */
	uint64_t shut_ns;
	size_t buf_off, buf_len;        /* echo: bytes waiting in buf; http: the request */
	enum http_phase phase;
	int status;
	bool head;                      /* HEAD: headers only */
	char hdr[512];                  /* the response head and any error body */
	size_t hdr_len, hdr_off;
	uint64_t body_len, body_off;
	char request[96];               /* the request line, for the log */
	uint8_t buf[UP_BUF_LEN];
};

struct up {
	struct up_opts opt;
	struct synack_clock *clk;
	struct synack_link *link;   /* the TAP, or the wrappers that own it */
	struct synack_link *tap;    /* the TAP itself (owned through link) */
	struct stack *st;
	int lfd;                    /* the --listen socket, or -1 */
	int cfd;                    /* the --connect socket while connecting, or -1 */
	int connect_err;            /* how --connect failed; 0 if it did not */
	struct up_conn *conns[UP_MAX_CONNS];
	size_t nconns;
	uint8_t io[UP_IO_LEN];
};

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		up_signals += UP_USR1_STEP;
	else
		up_signals |= UP_STOP;
}

static int install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = 0;    /* no SA_RESTART: poll() must return on a signal */
	/* Block the others while one runs, so the handler's update is not torn. */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGUSR1);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGUSR1, &sa, NULL) < 0)
		return -errno;
	/* A peer that goes away must not kill us through a pipe (stdout). */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static bool parse_service(const char *s, enum up_service *out)
{
	for (size_t i = 1; i < sizeof(service_names) / sizeof(service_names[0]); i++)
		if (strcmp(s, service_names[i]) == 0) {
			*out = (enum up_service)i;
			return true;
		}
	return false;
}

static int parse_up_opts(const struct cli_command *cmd, int argc, char **argv, struct up_opts *u)
{
	struct cli_opts o;
	memset(u, 0, sizeof(*u));
	cli_opts_init(&o, cmd, argc, argv);
	while (cli_opt_next(&o)) {
		if (cli_is_help(o.name)) {
			cli_print_usage(cmd, stdout);
			return -1;
		}
		int r = cli_net_opt(&o, &u->net);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r > 0)
			continue;
		if (cli_opt_is(&o, "--seed")) {
			if (!cli_opt_u64(&o, 0, UINT64_MAX, &u->seed))
				return CLI_EXIT_USAGE;
			u->seeded = true;
		} else if (cli_opt_is(&o, "--quiet")) {
			u->quiet = true;
		} else if (cli_opt_is(&o, "--zeros")) {
			u->zeros = true;
		} else if (cli_opt_is(&o, "--listen")) {
			uint64_t port;
			if (!cli_opt_u64(&o, 1, 65535, &port))
				return CLI_EXIT_USAGE;
			u->listen_port = (uint16_t)port;
		} else if (cli_opt_is(&o, "--service")) {
			const char *sv;
			if (!cli_opt_value(&o, &sv))
				return CLI_EXIT_USAGE;
			if (!parse_service(sv, &u->service))
				return cli_usage_error(cmd, "--service: '%s' is not echo, discard, source or http", sv);
		} else if (cli_opt_is(&o, "--connect")) {
			if (!cli_opt_value(&o, &u->connect_text))
				return CLI_EXIT_USAGE;
			if (cli_parse_sin(u->connect_text, &u->connect_to) < 0)
				return cli_usage_error(cmd, "--connect: '%s' is not A.B.C.D:PORT", u->connect_text);
			u->has_connect = true;
		} else if (cli_opt_is(&o, "--sysctl")) {
			const char *kv;
			if (!cli_opt_value(&o, &kv))
				return CLI_EXIT_USAGE;
			if (u->nsysctls == UP_MAX_SYSCTLS)
				return cli_usage_error(cmd, "at most %d --sysctl options", UP_MAX_SYSCTLS);
			if (!strchr(kv, '='))
				return cli_usage_error(cmd, "--sysctl: '%s' is not NAME=VALUE", kv);
			u->sysctls[u->nsysctls++] = kv;
		} else {
			return cli_opt_unknown(&o);
		}
	}
	if (u->service != SVC_NONE && !u->listen_port)
		return cli_usage_error(cmd, "--service needs --listen PORT");
	return cli_net_require(cmd, &u->net);
}

/* Each --sysctl NAME=VALUE, as sysctl -w would set it (text for the string
 * sysctls, such as net.ipv4.tcp_fastopen_key). */
static int apply_sysctls(struct up *u)
{
	for (size_t i = 0; i < u->opt.nsysctls; i++) {
		int err = cli_sysctl_set("up", u->st, u->opt.sysctls[i]);
		if (err < 0)
			return err;
	}
	return 0;
}

static int start_stack(struct up *u)
{
	struct synack_stack_config cfg = {
		.clock = u->clk, .name = u->opt.net.tap, .seeded = u->opt.seeded, .seed = u->opt.seed,
	};
	int err = synack_stack_new(&cfg, &u->st);
	if (err < 0) {
		fprintf(stderr, "synack up: creating the stack: %s\n", cli_errstr(err));
		return err;
	}
	if (!u->opt.quiet)
		synack_trace_set_sink(u->st, cli_trace_print, stdout);
	if ((err = apply_sysctls(u)) < 0)
		return err;
	return cli_net_if_up("up", u->st, u->link, &u->opt.net);
}

/* ------------------------------------------------------------ patterns */

/*
 * The http service's body: 16-byte lines, each the line's own byte offset
 * as 15 zero-padded decimal digits and a newline ("000000000000000\n",
 * "000000000000016\n", ...), cut at N bytes. Python reproduces it with
 * b"".join(b"%015d\n" % (16 * i) for i in range(...))[:N]. Every line
 * differs, so a misplaced segment changes the hash, and a reader of the
 * body can see where a byte came from.
 */
static void fill_http_pattern(uint8_t *buf, size_t len, uint64_t off)
{
	char line[16];
	uint64_t cur = UINT64_MAX;
	for (size_t i = 0; i < len; i++, off++) {
		uint64_t start = off & ~UINT64_C(15);
		if (start != cur) {
			uint64_t v = start;
			for (int d = 14; d >= 0; d--, v /= 10)
				line[d] = (char)('0' + v % 10);
			line[15] = '\n';
			cur = start;
		}
		buf[i] = (uint8_t)line[off & 15];
	}
}

/* RFC 864's character generator: lines of 72 printable characters, each
 * starting one character further along the 95 printable ones, and CR LF. */
static void fill_chargen(uint8_t *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++, off++) {
		uint64_t line = off / 74, col = off % 74;
		if (col == 72)
			buf[i] = '\r';
		else if (col == 73)
			buf[i] = '\n';
		else
			buf[i] = (uint8_t)(' ' + (line + col) % 95);
	}
}

/* ------------------------------------------------------------ sockets */

/* The CLI is accept()'s caller: when tracing, it reports what
 * inet_csk_accept returned, in the trace's layout. */
static void trace_accept(struct up *u, const char *peer)
{
	if (!u->opt.quiet)
		cli_trace_line(stdout, synack_clock_now(u->clk), u->opt.net.tap, "inet_csk_accept", "%s", peer);
}

static int add_conn(struct up *u, int fd, bool outgoing, const struct sockaddr_in *peer)
{
	if (u->nconns == UP_MAX_CONNS)
		return -EMFILE;
	struct up_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = fd;
	c->outgoing = outgoing;
	c->peer = *peer;
	u->conns[u->nconns++] = c;
	return 0;
}

static int start_listen(struct up *u)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(u->opt.listen_port) };
	int one = 1, err;
	if (!u->opt.listen_port)
		return 0;
	u->lfd = synack_socket(u->st);
	if (u->lfd < 0) {
		fprintf(stderr, "synack up: socket: %s\n", cli_errstr(u->lfd));
		return u->lfd;
	}
	if ((err = synack_setsockopt(u->st, u->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) < 0 ||
	    (err = synack_bind(u->st, u->lfd, &sin)) < 0 || (err = synack_listen(u->st, u->lfd, UP_BACKLOG)) < 0) {
		fprintf(stderr, "synack up: listen on port %u: %s\n", u->opt.listen_port, cli_errstr(err));
		return err;
	}
	printf("synack up: listening on 0.0.0.0:%u", u->opt.listen_port);
	if (u->opt.service != SVC_NONE)
		printf(" (service %s)", service_names[u->opt.service]);
	printf("\n");
	return 0;
}

static void connect_failed(struct up *u, int err)
{
	u->connect_err = err;
	printf("synack up: connect %s: %s\n", u->opt.connect_text, cli_errstr(err));
	if (u->cfd >= 0)
		synack_close(u->st, u->cfd);
	u->cfd = -1;
}

static void connect_succeeded(struct up *u)
{
	struct sockaddr_in local = { 0 };
	char l[CLI_SIN_STRLEN];
	synack_getsockname(u->st, u->cfd, &local);
	cli_format_sin(l, &local);
	if (add_conn(u, u->cfd, true, &u->opt.connect_to) < 0) {
		connect_failed(u, -ENOMEM);
		return;
	}
	printf("synack up: connect %s: connected from %s\n", u->opt.connect_text, l);
	u->cfd = -1;
}

static int start_connect(struct up *u)
{
	if (!u->opt.has_connect)
		return 0;
	u->cfd = synack_socket(u->st);
	if (u->cfd < 0) {
		fprintf(stderr, "synack up: socket: %s\n", cli_errstr(u->cfd));
		return u->cfd;
	}
	int r = synack_connect(u->st, u->cfd, &u->opt.connect_to);
	if (r == 0)
		connect_succeeded(u);
	else if (r != -EINPROGRESS)
		connect_failed(u, r);
	return 0;
}

/* A non-blocking connect: when poll says writable (or an error), connect()
 * again gives the outcome. */
static void check_connect(struct up *u)
{
	if (u->cfd < 0)
		return;
	int mask = synack_poll(u->st, u->cfd);
	if (mask >= 0 && !(mask & (POLLOUT | POLLERR | POLLHUP)))
		return;
	int r = mask < 0 ? mask : synack_connect(u->st, u->cfd, &u->opt.connect_to);
	if (r == 0)
		connect_succeeded(u);
	else if (r != -EALREADY && r != -EINPROGRESS)
		connect_failed(u, r);
}

static void check_accept(struct up *u)
{
	if (u->lfd < 0)
		return;
	while (u->nconns < UP_MAX_CONNS) {
		struct sockaddr_in peer;
		char p[CLI_SIN_STRLEN];
		int fd = synack_accept(u->st, u->lfd, &peer);
		if (fd == -EAGAIN)
			return;
		if (fd < 0) {
			/* Out of descriptors: leave the rest queued until one closes. */
			fprintf(stderr, "synack up: accept: %s\n", cli_errstr(fd));
			return;
		}
		cli_format_sin(p, &peer);
		trace_accept(u, p);
		if (add_conn(u, fd, false, &peer) < 0) {
			fprintf(stderr, "synack up: accept %s: out of memory\n", p);
			synack_close(u->st, fd);
			continue;
		}
		printf("synack up: accepted %s on port %u\n", p, u->opt.listen_port);
	}
}

/* What a connection step decided. */
enum conn_verdict { CONN_KEEP, CONN_CLOSE };

/* Read what is there into buf: bytes, 0 at EOF (c->eof set), -EAGAIN, or
 * an error (reset, timeout). */
static long conn_read(struct up *u, struct up_conn *c, void *buf, size_t cap)
{
	long r = synack_recv(u->st, c->fd, buf, cap, 0);
	if (r > 0)
		c->rx += (uint64_t)r;
	else if (r == 0)
		c->eof = true;
	return r;
}

/* Read and drop everything: CONN_CLOSE once the peer has closed or failed. */
static enum conn_verdict drain(struct up *u, struct up_conn *c)
{
	for (;;) {
		long r = conn_read(u, c, u->io, sizeof(u->io));
		if (r == -EAGAIN)
			return CONN_KEEP;
		if (r <= 0)
			return CONN_CLOSE;
	}
}

static long conn_send(struct up *u, struct up_conn *c, const void *buf, size_t len)
{
	long r = synack_send(u->st, c->fd, buf, len, 0);
	if (r > 0)
		c->tx += (uint64_t)r;
	return r;
}

static enum conn_verdict step_echo(struct up *u, struct up_conn *c)
{
	for (;;) {
		while (c->buf_len) {
			long r = conn_send(u, c, c->buf + c->buf_off, c->buf_len);
			if (r == -EAGAIN)
				return CONN_KEEP;
			if (r < 0)
				return CONN_CLOSE;
			c->buf_off += (size_t)r;
			c->buf_len -= (size_t)r;
		}
		if (c->eof)
			return CONN_CLOSE;  /* all echoed: close sends our FIN */
		long r = conn_read(u, c, c->buf, sizeof(c->buf));
		if (r == -EAGAIN)
			return CONN_KEEP;
		if (r < 0)
			return CONN_CLOSE;
		c->buf_off = 0;
		c->buf_len = (size_t)r;
	}
}

static enum conn_verdict step_source(struct up *u, struct up_conn *c)
{
	if (drain(u, c) == CONN_CLOSE)
		return CONN_CLOSE;
	for (;;) {
		fill_chargen(u->io, sizeof(u->io), c->tx);
		long r = conn_send(u, c, u->io, sizeof(u->io));
		if (r == -EAGAIN)
			return CONN_KEEP;
		if (r < 0)
			return CONN_CLOSE;
	}
}

/* --------------------------------------------------------------- http */

static void http_respond(struct up_conn *c, int status, const char *reason, const char *body)
{
	c->status = status;
	c->body_len = 0;
	int n = snprintf(c->hdr, sizeof(c->hdr),
			 "HTTP/1.1 %d %s\r\nServer: synack\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 status, reason, c->head ? (size_t)0 : strlen(body), c->head ? "" : body);
	c->hdr_len = n < 0 ? 0 : (size_t)n >= sizeof(c->hdr) ? sizeof(c->hdr) - 1 : (size_t)n;
	c->phase = HTTP_RESPOND;
}

static void http_bad_request(struct up_conn *c)
{
	http_respond(c, 400, "Bad Request", "bad request\n");
}

/* "/bytes/N" with N decimal digits only: true and N. */
static bool parse_bytes_path(const char *path, uint64_t *n)
{
	static const char prefix[] = "/bytes/";
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return false;
	const char *p = path + sizeof(prefix) - 1;
	uint64_t v = 0;
	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UP_HTTP_MAX_BODY)
			return false;
	}
	*n = v;
	return true;
}

/* The request line and headers are in c->buf[0..end) (NUL-terminated at
 * end). Decide the response. */
static void http_parse(struct up_conn *c, size_t end)
{
	char *req = (char *)c->buf;
	char *eol = strstr(req, "\r\n");
	if (!eol || (size_t)(eol - req) > end) {
		http_bad_request(c);
		return;
	}
	*eol = '\0';
	size_t rl = strlen(req) < sizeof(c->request) - 1 ? strlen(req) : sizeof(c->request) - 1;
	memcpy(c->request, req, rl);
	c->request[rl] = '\0';
	/* Every byte of the head must be printable ASCII, SP, HTAB, CR or LF. */
	for (size_t i = 0; i < end; i++) {
		unsigned char ch = c->buf[i];
		if (ch && ch != '\r' && ch != '\n' && ch != '\t' && (ch < 0x20 || ch > 0x7e)) {
			http_bad_request(c);
			return;
		}
	}
	char *method = req, *sp1 = strchr(req, ' ');
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp2 == sp1 + 1) {
		http_bad_request(c);
		return;
	}
	*sp1 = *sp2 = '\0';
	const char *path = sp1 + 1, *version = sp2 + 1;
	if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0) {
		http_bad_request(c);
		return;
	}
	/* Each header line needs a name and a colon. */
	for (char *line = eol + 2; line < req + end && *line && *line != '\r';) {
		char *next = strstr(line, "\r\n");
		char *colon = strchr(line, ':');
		if (!next || !colon || colon > next || colon == line) {
			http_bad_request(c);
			return;
		}
		line = next + 2;
	}
	c->head = strcmp(method, "HEAD") == 0;
	if (!c->head && strcmp(method, "GET") != 0) {
		http_respond(c, 405, "Method Not Allowed", "only GET and HEAD\n");
		return;
	}
	uint64_t n;
	if (strcmp(path, "/") == 0) {
		http_respond(c, 200, "OK", "synack http service: GET /bytes/N for N bytes (N up to 10737418240)\n");
	} else if (parse_bytes_path(path, &n)) {
		int len = snprintf(c->hdr, sizeof(c->hdr),
				   "HTTP/1.1 200 OK\r\nServer: synack\r\nContent-Type: application/octet-stream\r\n"
				   "Content-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n",
				   n);
		c->hdr_len = (size_t)len;
		c->status = 200;
		c->body_len = c->head ? 0 : n;
		c->phase = HTTP_RESPOND;
	} else {
		http_respond(c, 404, "Not Found", "not found: try GET /bytes/N\n");
	}
}

/* Collect the request head; parse it when complete. */
static enum conn_verdict http_read_request(struct up *u, struct up_conn *c)
{
	while (c->phase == HTTP_REQUEST) {
		size_t room = sizeof(c->buf) - 1 - c->buf_len;
		if (room == 0) {
			http_bad_request(c);    /* a head larger than the buffer */
			return CONN_KEEP;
		}
		long r = conn_read(u, c, c->buf + c->buf_len, room);
		if (r == -EAGAIN)
			return CONN_KEEP;
		if (r <= 0)
			return CONN_CLOSE;  /* closed or reset before a whole request */
		size_t from = c->buf_len >= 3 ? c->buf_len - 3 : 0;
		c->buf_len += (size_t)r;
		c->buf[c->buf_len] = '\0';
		if (memchr(c->buf + from, '\0', c->buf_len - from)) {
			http_bad_request(c);
			return CONN_KEEP;
		}
		char *end = strstr((char *)c->buf + from, "\r\n\r\n");
		if (end)
			http_parse(c, (size_t)(end - (char *)c->buf) + 2);
	}
	return CONN_KEEP;
}

static enum conn_verdict step_http(struct up *u, struct up_conn *c)
{
	if (c->phase == HTTP_REQUEST && http_read_request(u, c) == CONN_CLOSE)
		return CONN_CLOSE;
	if (c->phase == HTTP_RESPOND) {
		while (c->hdr_off < c->hdr_len) {
			long r = conn_send(u, c, c->hdr + c->hdr_off, c->hdr_len - c->hdr_off);
			if (r == -EAGAIN)
				return CONN_KEEP;
			if (r < 0)
				return CONN_CLOSE;
			c->hdr_off += (size_t)r;
		}
		while (c->body_off < c->body_len) {
			uint64_t left = c->body_len - c->body_off;
			size_t n = left < sizeof(u->io) ? (size_t)left : sizeof(u->io);
			fill_http_pattern(u->io, n, c->body_off);
			long r = conn_send(u, c, u->io, n);
			if (r == -EAGAIN)
				return CONN_KEEP;
			if (r < 0)
				return CONN_CLOSE;
			c->body_off += (uint64_t)r;
		}
		c->phase = HTTP_DONE;
	}
	if (c->phase == HTTP_DONE) {
		/* Connection: close: our FIN after the response, then wait for
		 * the client's (reading and dropping anything more it sends). */
		if (!c->shut) {
			synack_shutdown(u->st, c->fd, SHUT_WR);
			c->shut = true;
			c->shut_ns = synack_clock_now(u->clk);
		}
		if (drain(u, c) == CONN_CLOSE)
			return CONN_CLOSE;
		if (synack_clock_now(u->clk) - c->shut_ns > UP_LINGER_NS)
			return CONN_CLOSE;
	}
	return CONN_KEEP;
}

static enum conn_verdict step_conn(struct up *u, struct up_conn *c)
{
	if (c->outgoing)
		return drain(u, c);
	switch (u->opt.service) {
	case SVC_ECHO:
		return step_echo(u, c);
	case SVC_SOURCE:
		return step_source(u, c);
	case SVC_HTTP:
		return step_http(u, c);
	case SVC_DISCARD:
	case SVC_NONE:
		break;
	}
	return drain(u, c);
}

static void report_close(struct up *u, const struct up_conn *c)
{
	char p[CLI_SIN_STRLEN];
	int state = synack_tcp_state(u->st, c->fd);
	cli_format_sin(p, &c->peer);
	if (c->outgoing || u->opt.service == SVC_NONE) {
		printf("synack up: connection %s %s closed by the peer (%s)\n", c->outgoing ? "to" : "from", p,
		       synack_tcp_state_name(state));
		return;
	}
	const char *how = c->eof ? "closed" : "aborted";
	if (u->opt.service == SVC_HTTP && c->status)
		printf("synack up: http %s \"%s\" %d, %" PRIu64 " of %" PRIu64 " body bytes sent, %s (%s)\n", p,
		       c->request, c->status, c->body_off, c->body_len, how, synack_tcp_state_name(state));
	else
		printf("synack up: %s %s: %" PRIu64 " bytes in, %" PRIu64 " bytes out, %s (%s)\n",
		       service_names[u->opt.service], p, c->rx, c->tx, how, synack_tcp_state_name(state));
}

static void check_conns(struct up *u)
{
	for (size_t i = 0; i < u->nconns;) {
		struct up_conn *c = u->conns[i];
		if (step_conn(u, c) == CONN_KEEP) {
			i++;
			continue;
		}
		report_close(u, c);
		synack_close(u->st, c->fd);
		free(c);
		u->conns[i] = u->conns[--u->nconns];
	}
}

static void service_sockets(struct up *u)
{
	check_connect(u);
	check_accept(u);
	check_conns(u);
	/* A slot may have freed up for a connection still queued. */
	check_accept(u);
}

/* At exit: every connection, then the listener. */
static void close_sockets(struct up *u)
{
	if (!u->st)
		return;
	for (size_t i = 0; i < u->nconns; i++) {
		synack_close(u->st, u->conns[i]->fd);
		free(u->conns[i]);
	}
	u->nconns = 0;
	if (u->cfd >= 0)
		synack_close(u->st, u->cfd);
	if (u->lfd >= 0)
		synack_close(u->st, u->lfd);
	u->cfd = u->lfd = -1;
	/* Let what the closes queued reach the link. */
	synack_stack_poll(u->st);
}

static int up_setup(struct up *u)
{
	int err = install_signals();
	if (err < 0) {
		fprintf(stderr, "synack up: sigaction: %s\n", cli_errstr(err));
		return err;
	}
	u->clk = synack_clock_new_real();
	if (!u->clk) {
		fprintf(stderr, "synack up: out of memory\n");
		return -ENOMEM;
	}
	uint64_t fault_seed = u->opt.seeded ? u->opt.seed : cli_random_seed();
	if ((err = cli_net_open_link("up", &u->opt.net, u->clk, fault_seed, &u->link, &u->tap)) < 0)
		return err;
	char mac[18];
	cli_format_mac(mac, u->link->mac);
	if ((err = start_stack(u)) < 0)
		return err;
	printf("synack up: tap %s addr %s mac %s", u->opt.net.tap, u->opt.net.addr_text, mac);
	if (u->opt.net.loss > 0)
		printf(" loss %g seed %" PRIu64, u->opt.net.loss, fault_seed);
	printf("\n");
	if ((err = start_listen(u)) < 0 || (err = start_connect(u)) < 0)
		return err;
	fflush(stdout);
	return 0;
}

static void up_teardown(struct up *u)
{
	synack_stack_free(u->st);
	synack_link_destroy(u->link);
	synack_clock_free(u->clk);
}

/* The counters as `nstat -a` prints them: "#kernel", then one line per
 * counter, its name in 32 columns, its value in 16 and its rate (always
 * 0.0: synack keeps no history) in 6. Only the non-zero ones unless
 * --zeros (nstat -z). */
static void print_counters(const struct up *u)
{
	fflush(stdout);
	if (!u->opt.zeros) {
		synack_mib_print_nstat(u->st, stdout);
	} else {
		printf("#kernel\n");
		for (size_t i = 0; i < synack_mib_count(); i++)
			printf("%-32s%-16" PRIu64 "%6.1f\n", synack_mib_name(i), synack_mib_get(u->st, i), 0.0);
	}
	cli_print_tap_stats(u->tap, u->opt.zeros, stdout);
	fflush(stdout);
}

static int run_loop(struct up *u)
{
	sig_atomic_t seen_usr1 = 0;
	while (!(up_signals & UP_STOP)) {
		int err = cli_wait_stack(u->st, u->clk, -1);
		if (err < 0) {
			fprintf(stderr, "synack up: poll: %s\n", cli_errstr(err));
			return -1;
		}
		sig_atomic_t usr1 = up_signals & ~UP_STOP;
		if (usr1 != seen_usr1) {
			seen_usr1 = usr1;
			print_counters(u);
		}
		int r = synack_stack_poll(u->st);
		if (r < 0 && r != -EAGAIN && r != -EINTR) {
			fprintf(stderr, "synack up: %s\n", cli_errstr(r));
			return -1;
		}
		service_sockets(u);
	}
	return 0;
}

static int run_up(const struct cli_command *cmd, int argc, char **argv)
{
	struct up *u = calloc(1, sizeof(*u));
	if (!u) {
		fprintf(stderr, "synack up: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	u->lfd = u->cfd = -1;
	int rc = parse_up_opts(cmd, argc, argv, &u->opt);
	if (rc != 0) {
		free(u);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);   /* so a log file follows live */
	rc = CLI_EXIT_FAIL;
	if (up_setup(u) == 0 && run_loop(u) == 0 && !u->connect_err)
		rc = CLI_EXIT_OK;
	close_sockets(u);
	if (u->st)
		print_counters(u);
	up_teardown(u);
	free(u);
	return rc;
}

const struct cli_command cli_cmd_up = {
	.name = "up",
	.run = run_up,
	.summary = "run a stack on a Linux TAP device until interrupted, optionally serving TCP (needs root)",
	.usage =
		"usage: synack up --tap NAME --addr A.B.C.D/N [--gw G] [--mtu N] [--pcap FILE]\n"
		"                 [--loss P] [--seed N] [--quiet] [--zeros] [--listen PORT\n"
		"                 [--service echo|discard|source|http]] [--connect A.B.C.D:PORT]\n"
		"                 [--sysctl NAME=VALUE]...\n"
		"\n"
		"Attach a stack to the TAP device NAME (created if missing) and answer ARP and\n"
		"ping until SIGINT or SIGTERM. Frames and events are printed as they happen;\n"
		"SIGUSR1 and exit print the counters in nstat format (as `nstat -a` prints\n"
		"them: a \"#kernel\" line, then \"Name value 0.0\" lines; only the non-zero\n"
		"ones unless --zeros).\n"
		"\n"
		"With --listen, TCP connections to PORT are accepted (\"synack up: accepted\n"
		"A.B.C.D:P on port PORT\", up to 64 at a time) and served by --service:\n"
		"  echo     send back what arrives (RFC 862); close after the peer does\n"
		"  discard  read and drop what arrives (RFC 863)\n"
		"  source   send RFC 864's character pattern until the peer closes\n"
		"  http     a minimal HTTP/1.1 server, one request per connection\n"
		"           (Connection: close): GET /bytes/N answers 200 with N bytes\n"
		"           (N up to 10737418240) of 16-byte lines, each the line's byte\n"
		"           offset as 15 zero-padded digits and '\\n' (\"000000000000000\\n\",\n"
		"           \"000000000000016\\n\", ...), cut at N; python3 makes the same with\n"
		"           b\"\".join(b\"%015d\\n\" % (16 * i) for i in range(N // 16 + 1))[:N].\n"
		"           GET / says so; other paths get 404, methods other than GET and\n"
		"           HEAD 405, a malformed or oversized (16 KB) head 400. After the\n"
		"           response synack shuts down its sending side and closes once the\n"
		"           client has closed (or 30 s later).\n"
		"Without --service, a connection stays open (what arrives is dropped) until\n"
		"the peer closes or resets it or synack stops. With --connect, one connection\n"
		"is opened once the interface is up (\"synack up: connect A.B.C.D:PORT:\n"
		"connected from ...\" or the error, e.g. \"...: Connection refused\"). Open\n"
		"connections are closed at exit.\n"
		"\n"
		CLI_NET_USAGE
		"  --seed N      make the stack's secrets and random choices (and --loss) reproducible\n"
		"  --quiet       do not print frames and events\n"
		"  --zeros       print the zero counters too (as nstat -z)\n"
		"  --listen PORT accept TCP connections on PORT (any local address)\n"
		"  --service S   serve accepted connections: echo, discard, source or http\n"
		"  --connect A:P open a TCP connection to A:P\n"
		"  --sysctl N=V  set one of the stack's sysctls, by Linux's name\n"
		"                (e.g. net.ipv4.tcp_timestamps=0); may be repeated\n"
		"  --help        show this help\n"
		"\n"
		"Exit status: 0 when stopped by a signal, 1 on failure (including a failed\n"
		"--connect), 2 on bad usage.\n",
};
