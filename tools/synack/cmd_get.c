/*
 * synack get: a minimal HTTP/1.1 client over synack on a Linux TAP device.
 * One GET with "Connection: close"; the body goes to stdout or a file, and
 * the exit status says whether a complete 200 response arrived.
 */
#define _GNU_SOURCE     /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cli.h"

#define NS_PER_SEC UINT64_C(1000000000)
#define GET_HEAD_MAX 16384                      /* the response head must fit */
#define GET_IO_LEN 65536
#define GET_PATH_MAX 2048
#define GET_CLOSE_NS (UINT64_C(5) * NS_PER_SEC)  /* for the FIN exchange at the end */
#define TCP_STATE_CLOSE 7                       /* Linux's TCP_CLOSE */

static volatile sig_atomic_t get_stop;

struct get_opts {
	struct cli_net_opts net;
	bool seeded;
	uint64_t seed;
	bool quiet;
	bool trace;
	uint64_t timeout_s;
	const char *url;
	const char *out_path;
};

struct get_url {
	struct sockaddr_in dst;
	char host[64];              /* for the Host header: as written in the URL */
	char path[GET_PATH_MAX];
};

enum get_phase { GET_CONNECTING, GET_SENDING, GET_HEAD, GET_BODY, GET_FINISHED };

struct get {
	struct get_opts opt;
	struct get_url url;
	struct synack_clock *clk;
	struct synack_link *link;
	struct stack *st;
	int fd;
	int out_fd;
	enum get_phase phase;
	const char *error;          /* why it failed; NULL while all is well */
	int err;                    /* the errno behind error, if any */
	char req[GET_PATH_MAX + 256];
	size_t req_len, req_off;
	char head[GET_HEAD_MAX + 1];
	size_t head_len;
	int status;
	char reason[64];
	bool has_length;
	uint64_t content_length;
	uint64_t body_rx;
	bool eof;
	bool complete;
	uint64_t start_ns, connected_ns, done_ns, last_progress_ns, last_report_ns;
	uint32_t retrans;
	uint8_t io[GET_IO_LEN];
};

static void on_signal(int sig)
{
	(void)sig;
	get_stop = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);   /* a closed stdout is a write error, not a death */
}

/* "http://A.B.C.D[:PORT][/path]": 0, or a message for the usage error. */
static const char *parse_url(const char *s, struct get_url *u)
{
	static const char scheme[] = "http://";
	memset(u, 0, sizeof(*u));
	if (strncasecmp(s, scheme, sizeof(scheme) - 1) != 0)
		return "only http:// URLs are supported";
	const char *auth = s + sizeof(scheme) - 1;
	size_t alen = strcspn(auth, "/?#");
	if (alen == 0 || alen >= sizeof(u->host))
		return "no host, or a host too long";
	memcpy(u->host, auth, alen);
	u->host[alen] = '\0';
	char hostonly[sizeof(u->host)];
	memcpy(hostonly, u->host, alen + 1);
	unsigned long port = 80;
	char *colon = strchr(hostonly, ':');
	if (colon) {
		char *end;
		*colon = '\0';
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno || *end || !colon[1] || colon[1] == '-' || colon[1] == '+' || port < 1 || port > 65535)
			return "the port is not a number in 1..65535";
	}
	u->dst.sin_family = AF_INET;
	u->dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, hostonly, &u->dst.sin_addr) != 1)
		return "the host must be a numeric IPv4 address (synack get resolves no names)";
	const char *path = auth + alen;
	size_t plen = strcspn(path, "#");
	if (plen == 0) {
		strcpy(u->path, "/");
	} else {
		if (plen >= sizeof(u->path) - 1)
			return "the path is too long";
		if (path[0] == '?')
			u->path[0] = '/';
		memcpy(u->path + (path[0] == '?'), path, plen);
	}
	for (const char *p = u->path; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "the path has a space or a control character (percent-encode it)";
	return NULL;
}

static int parse_get_opts(const struct cli_command *cmd, int argc, char **argv, struct get_opts *g)
{
	struct cli_opts o;
	memset(g, 0, sizeof(*g));
	g->timeout_s = 30;
	cli_opts_init(&o, cmd, argc, argv);
	while (cli_opt_next(&o)) {
		if (cli_is_help(o.name)) {
			cli_print_usage(cmd, stdout);
			return -1;
		}
		int r = cli_net_opt(&o, &g->net);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r > 0)
			continue;
		bool ok = true;
		if (cli_opt_is(&o, "--seed")) {
			ok = cli_opt_u64(&o, 0, UINT64_MAX, &g->seed);
			g->seeded = true;
		} else if (cli_opt_is(&o, "--quiet") || cli_opt_is(&o, "-q")) {
			g->quiet = true;
		} else if (cli_opt_is(&o, "--trace")) {
			g->trace = true;
		} else if (cli_opt_is(&o, "--timeout")) {
			ok = cli_opt_u64(&o, 1, 86400, &g->timeout_s);
		} else if (cli_opt_is(&o, "-o") || cli_opt_is(&o, "--output")) {
			ok = cli_opt_value(&o, &g->out_path);
		} else if (o.name[0] != '-' && !g->url) {
			g->url = o.argv[o.i];
		} else {
			return cli_opt_unknown(&o);
		}
		if (!ok)
			return CLI_EXIT_USAGE;
	}
	int rc = cli_net_require(cmd, &g->net);
	if (rc)
		return rc;
	if (!g->url)
		return cli_usage_error(cmd, "a URL (http://A.B.C.D:PORT/path) is required");
	return 0;
}

static void fail(struct get *g, const char *why, int err)
{
	if (!g->error) {
		g->error = why;
		g->err = err;
	}
}

static double mb(uint64_t bytes)
{
	return (double)bytes / 1e6;
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* ----------------------------------------------------------- the steps */

static void start_connect(struct get *g)
{
	int one = 1;
	g->fd = synack_socket(g->st);
	if (g->fd < 0) {
		fail(g, "socket", g->fd);
		return;
	}
	/* The request goes out in one write; no reason to wait for more. */
	synack_setsockopt(g->st, g->fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	int r = synack_connect(g->st, g->fd, &g->url.dst);
	if (r == 0 || r == -EINPROGRESS)
		return;
	fail(g, "connect", r);
}

static void step_connect(struct get *g)
{
	int mask = synack_poll(g->st, g->fd);
	if (mask < 0) {
		fail(g, "connect", mask);
		return;
	}
	if (!(mask & (POLLOUT | POLLERR | POLLHUP)))
		return;
	int r = synack_connect(g->st, g->fd, &g->url.dst);
	if (r == -EALREADY || r == -EINPROGRESS)
		return;
	if (r < 0 && r != -EISCONN) {
		fail(g, "connect", r);
		return;
	}
	g->connected_ns = g->last_progress_ns = synack_clock_now(g->clk);
	g->phase = GET_SENDING;
}

static void step_send(struct get *g)
{
	while (g->req_off < g->req_len) {
		long r = synack_send(g->st, g->fd, g->req + g->req_off, g->req_len - g->req_off, 0);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			fail(g, "sending the request", (int)r);
			return;
		}
		g->req_off += (size_t)r;
	}
	g->phase = GET_HEAD;
}

static bool write_all(struct get *g, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(g->out_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fail(g, "writing the body", w < 0 ? -errno : -EIO);
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Body bytes: written when the response is a 200, dropped otherwise. */
static void take_body(struct get *g, const uint8_t *p, size_t n)
{
	if (g->has_length && n > g->content_length - g->body_rx) {
		fail(g, "more body than Content-Length announced", 0);
		n = (size_t)(g->content_length - g->body_rx);
	}
	if (g->status == 200 && !write_all(g, p, n))
		return;
	g->body_rx += n;
}

static bool header_is(const char *line, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	const char *v = line + n + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	*value = v;
	return true;
}

/* The head is in g->head[0..end), lines split at CR LF. */
static void parse_head(struct get *g, size_t end)
{
	g->head[end] = '\0';
	char *line = g->head, *eol = strstr(line, "\r\n");
	if (eol)
		*eol = '\0';
	int major, minor, status, n = 0;
	if (sscanf(line, "HTTP/%1d.%1d %3d%n", &major, &minor, &status, &n) != 3 || major != 1 ||
	    (line[n] != ' ' && line[n] != '\0') || status < 100 || status > 599) {
		fail(g, "not an HTTP/1.x status line", 0);
		return;
	}
	g->status = status;
	snprintf(g->reason, sizeof(g->reason), "%s", line[n] ? line + n + 1 : "");
	for (line = eol ? eol + 2 : g->head + end; line < g->head + end && *line; line = eol + 2) {
		eol = strstr(line, "\r\n");
		if (!eol)
			break;
		*eol = '\0';
		const char *v;
		if (header_is(line, "Content-Length", &v)) {
			char *e;
			errno = 0;
			unsigned long long cl = strtoull(v, &e, 10);
			while (*e == ' ' || *e == '\t')
				e++;
			if (errno || e == v || *e || *v == '-' || *v == '+' ||
			    (g->has_length && g->content_length != cl)) {
				fail(g, "a bad Content-Length", 0);
				return;
			}
			g->has_length = true;
			g->content_length = cl;
		} else if (header_is(line, "Transfer-Encoding", &v) && strcasecmp(v, "identity") != 0) {
			fail(g, "the server used Transfer-Encoding (not supported)", 0);
			return;
		}
	}
	if (g->status == 204 || g->status == 304 || (g->status >= 100 && g->status < 200)) {
		g->has_length = true;   /* no body */
		g->content_length = 0;
	}
	g->phase = GET_BODY;
}

static void step_head(struct get *g)
{
	while (g->phase == GET_HEAD && !g->error) {
		size_t room = GET_HEAD_MAX - g->head_len;
		if (room == 0) {
			fail(g, "the response head is larger than 16 KB", 0);
			return;
		}
		long r = synack_recv(g->st, g->fd, g->head + g->head_len, room, 0);
		if (r == -EAGAIN)
			return;
		if (r <= 0) {
			fail(g, r == 0 ? "the connection closed before a response" : "reading the response", (int)r);
			return;
		}
		g->last_progress_ns = synack_clock_now(g->clk);
		size_t from = g->head_len >= 3 ? g->head_len - 3 : 0;
		g->head_len += (size_t)r;
		g->head[g->head_len] = '\0';
		char *end = memmem(g->head + from, g->head_len - from, "\r\n\r\n", 4);
		if (!end)
			continue;
		size_t head_end = (size_t)(end - g->head) + 2, body_start = head_end + 2;
		size_t extra = g->head_len - body_start;
		uint8_t tmp[GET_HEAD_MAX];
		memcpy(tmp, g->head + body_start, extra);
		parse_head(g, head_end);
		if (!g->error && extra)
			take_body(g, tmp, extra);
	}
}

static void step_body(struct get *g)
{
	while (!g->error && !g->eof) {
		if (g->has_length && g->body_rx == g->content_length)
			break;
		long r = synack_recv(g->st, g->fd, g->io, sizeof(g->io), 0);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			fail(g, "reading the body", (int)r);
			return;
		}
		if (r == 0) {
			g->eof = true;
			break;
		}
		g->last_progress_ns = synack_clock_now(g->clk);
		take_body(g, g->io, (size_t)r);
	}
	if (g->error)
		return;
	if (g->has_length && g->body_rx < g->content_length) {
		if (g->eof)
			fail(g, "the connection closed before the whole body arrived", 0);
		return;
	}
	/* Complete: by length, or by the server's FIN without a length. */
	g->complete = true;
	g->done_ns = synack_clock_now(g->clk);
	g->phase = GET_FINISHED;
}

static void read_retrans(struct get *g)
{
	struct synack_tcp_info ti;
	unsigned int len = sizeof(ti);
	if (g->fd >= 0 && synack_getsockopt(g->st, g->fd, IPPROTO_TCP, 11 /* TCP_INFO */, &ti, &len) == 0)
		g->retrans = ti.tcpi_total_retrans;
}

static void print_progress(struct get *g, bool force)
{
	uint64_t now = synack_clock_now(g->clk);
	if (g->opt.quiet || (!force && now - g->last_report_ns < NS_PER_SEC) || g->phase < GET_BODY)
		return;
	g->last_report_ns = now;
	double t = secs(now - g->connected_ns);
	if (g->has_length && g->content_length)
		fprintf(stderr, "synack get: %" PRIu64 " of %" PRIu64 " bytes (%.0f%%), %.1f MB/s\n", g->body_rx,
			g->content_length, 100.0 * (double)g->body_rx / (double)g->content_length,
			t > 0 ? mb(g->body_rx) / t : 0.0);
	else
		fprintf(stderr, "synack get: %" PRIu64 " bytes, %.1f MB/s\n", g->body_rx, t > 0 ? mb(g->body_rx) / t : 0.0);
}

/* One pass over the socket after the stack ran. */
static void step(struct get *g)
{
	if (g->phase == GET_CONNECTING)
		step_connect(g);
	if (!g->error && g->phase == GET_SENDING)
		step_send(g);
	if (!g->error && g->phase == GET_HEAD)
		step_head(g);
	if (!g->error && g->phase == GET_BODY)
		step_body(g);
}

static bool run_stack(struct get *g, int max_ms)
{
	int err = cli_wait_stack(g->st, g->clk, max_ms);
	if (err < 0) {
		fail(g, "poll", err);
		return false;
	}
	err = synack_stack_poll(g->st);
	if (err < 0 && err != -EAGAIN && err != -EINTR) {
		fail(g, "the stack", err);
		return false;
	}
	return true;
}

static void transfer(struct get *g)
{
	uint64_t timeout_ns = g->opt.timeout_s * NS_PER_SEC;
	g->start_ns = g->last_progress_ns = synack_clock_now(g->clk);
	start_connect(g);
	while (!g->error && g->phase != GET_FINISHED) {
		if (get_stop) {
			fail(g, "interrupted", 0);
			break;
		}
		if (!run_stack(g, 100))
			break;
		step(g);
		print_progress(g, false);
		if (!g->error && synack_clock_now(g->clk) - g->last_progress_ns > timeout_ns)
			fail(g, g->phase == GET_CONNECTING ? "connect" : "the server stopped sending", -ETIMEDOUT);
	}
	read_retrans(g);
}

/*
 * The end of the connection, as a well-behaved client does it: our FIN
 * after the response (the server's usually came first), then wait, reading
 * and dropping anything more, until both FINs are acknowledged, so Linux
 * sees a normal EOF and is left with no half-closed connection.
 */
static void finish_connection(struct get *g)
{
	if (g->fd < 0)
		return;
	int state = synack_tcp_state(g->st, g->fd);
	if (state == 1 || state == 8 /* CLOSE_WAIT */) {
		synack_shutdown(g->st, g->fd, SHUT_WR);
		uint64_t until = synack_clock_now(g->clk) + GET_CLOSE_NS;
		while (!get_stop && synack_clock_now(g->clk) < until) {
			long r;
			while ((r = synack_recv(g->st, g->fd, g->io, sizeof(g->io), 0)) > 0) {
				if (g->complete && !g->error)
					fail(g, "data after the end of the body", 0);
			}
			if (r != -EAGAIN && synack_tcp_state(g->st, g->fd) == TCP_STATE_CLOSE)
				break;
			if (!run_stack(g, 100))
				break;
		}
	}
	synack_close(g->st, g->fd);
	g->fd = -1;
	synack_stack_poll(g->st);
}

static void build_request(struct get *g)
{
	int n = snprintf(g->req, sizeof(g->req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: synack-get\r\nAccept: */*\r\n"
			 "Connection: close\r\n\r\n",
			 g->url.path, g->url.host);
	g->req_len = (size_t)n;
}

static int open_output(struct get *g)
{
	if (!g->opt.out_path) {
		g->out_fd = STDOUT_FILENO;
		return 0;
	}
	g->out_fd = open(g->opt.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (g->out_fd < 0) {
		fprintf(stderr, "synack get: %s: %s\n", g->opt.out_path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int get_setup(struct get *g)
{
	int err;
	g->clk = synack_clock_new_real();
	if (!g->clk)
		return -ENOMEM;
	uint64_t seed = g->opt.seeded ? g->opt.seed : cli_random_seed();
	if ((err = cli_net_open_link("get", &g->opt.net, g->clk, seed, &g->link)) < 0)
		return err;
	struct synack_stack_config cfg = {
		.clock = g->clk, .name = g->opt.net.tap, .seeded = g->opt.seeded, .seed = g->opt.seed,
	};
	if ((err = synack_stack_new(&cfg, &g->st)) < 0) {
		fprintf(stderr, "synack get: creating the stack: %s\n", cli_errstr(err));
		return err;
	}
	if (g->opt.trace)
		synack_trace_set_sink(g->st, cli_trace_print, stderr);
	return cli_net_if_up("get", g->st, g->link, &g->opt.net);
}

static void print_summary(struct get *g)
{
	char dst[CLI_SIN_STRLEN];
	cli_format_sin(dst, &g->url.dst);
	if (g->error) {
		const char *what = g->error;
		if (g->err)
			fprintf(stderr, "synack get: %s %s: %s: %s\n", g->url.path, dst, what, cli_errstr(g->err));
		else
			fprintf(stderr, "synack get: %s %s: %s\n", g->url.path, dst, what);
	} else if (g->status != 200) {
		fprintf(stderr, "synack get: %s %s: HTTP %d %s\n", g->url.path, dst, g->status, g->reason);
	}
	if (g->opt.quiet || !g->connected_ns)
		return;
	uint64_t end = g->done_ns ? g->done_ns : synack_clock_now(g->clk);
	double t = secs(end - g->connected_ns);
	fprintf(stderr,
		"synack get: %s%d %s, %" PRIu64 " body bytes in %.3f s, %.2f MB/s, %" PRIu32
		" retransmissions (tcpi_total_retrans)%s\n",
		g->status ? "HTTP " : "status ", g->status, g->reason, g->body_rx, t, t > 0 ? mb(g->body_rx) / t : 0.0,
		g->retrans, g->complete && !g->error ? "" : ", incomplete");
}

static int run_get(const struct cli_command *cmd, int argc, char **argv)
{
	struct get *g = calloc(1, sizeof(*g));
	if (!g) {
		fprintf(stderr, "synack get: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	g->fd = g->out_fd = -1;
	int rc = parse_get_opts(cmd, argc, argv, &g->opt);
	if (rc == 0) {
		const char *why = parse_url(g->opt.url, &g->url);
		if (why)
			rc = cli_usage_error(cmd, "%s: %s", g->opt.url, why);
	}
	if (rc != 0) {
		free(g);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	install_signals();
	build_request(g);
	rc = CLI_EXIT_FAIL;
	if (get_setup(g) == 0 && open_output(g) == 0) {
		transfer(g);
		finish_connection(g);
		print_progress(g, true);
		print_summary(g);
		if (!g->error && g->complete && g->status == 200)
			rc = CLI_EXIT_OK;
	}
	if (g->out_fd > STDOUT_FILENO && close(g->out_fd) < 0 && rc == CLI_EXIT_OK) {
		fprintf(stderr, "synack get: %s: %s\n", g->opt.out_path, strerror(errno));
		rc = CLI_EXIT_FAIL;
	}
	synack_stack_free(g->st);
	synack_link_destroy(g->link);
	synack_clock_free(g->clk);
	free(g);
	return rc;
}

const struct cli_command cli_cmd_get = {
	.name = "get",
	.run = run_get,
	.summary = "fetch an http:// URL over synack on a Linux TAP device (needs root)",
	.usage =
		"usage: synack get --tap NAME --addr A.B.C.D/N [--gw G] [--mtu N] [--pcap FILE]\n"
		"                  [--loss P] [--seed N] [--timeout S] [--quiet] [--trace]\n"
		"                  [-o FILE] http://A.B.C.D[:PORT][/path]\n"
		"\n"
		"A minimal HTTP/1.1 client: bring up a stack on the TAP device NAME, connect\n"
		"to the URL's host (a numeric IPv4 address: no name is resolved), send\n"
		"\"GET /path HTTP/1.1\" with Host and \"Connection: close\", and write the\n"
		"response body to stdout or FILE. The body ends at Content-Length, or at the\n"
		"server's FIN when there is none; chunked transfer encoding is not supported.\n"
		"Then synack closes its side and waits for the FIN exchange to finish.\n"
		"Progress and a summary (bytes, seconds, MB/s, TCP_INFO retransmissions) go\n"
		"to stderr.\n"
		"\n"
		CLI_NET_USAGE
		"  --seed N      make the stack's random choices (and --loss) reproducible\n"
		"  --timeout S   give up when the connect, or the response, stalls for S\n"
		"                seconds (default 30)\n"
		"  -o FILE       write the body to FILE (--output FILE)\n"
		"  --quiet       print only errors\n"
		"  --trace       print the stack's frames and events to stderr\n"
		"  --help        show this help\n"
		"\n"
		"Exit status: 0 only when a 200 response arrived with its complete body;\n"
		"1 on any failure (connection refused, timeout, another status, a short\n"
		"body); 2 on bad usage.\n",
};
