/*
 * synack get: a minimal HTTP/1.1 client over synack on a Linux TAP device.
 * One GET with "Connection: close"; the body goes to stdout or a file, and
 * the exit status says whether a complete 200 response arrived. With
 * --fastopen the request goes in the SYN (TCP_FASTOPEN_CONNECT) when a
 * cookie for the server is in the cache file, which each run loads into
 * the stack first and updates at the end.
 */
#define _GNU_SOURCE     /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

#define NS_PER_SEC UINT64_C(1000000000)
#define GET_HEAD_MAX 16384                      /* the response head must fit */
#define GET_IO_LEN 65536
#define GET_PATH_MAX 2048
#define GET_CLOSE_NS (UINT64_C(5) * NS_PER_SEC)  /* for the FIN exchange at the end */
#define TCP_STATE_SYN_SENT 2                    /* Linux's TCP_SYN_SENT */
#define TCP_STATE_CLOSE 7                       /* Linux's TCP_CLOSE */
#define TCP_FASTOPEN_CONNECT 30                 /* <netinet/tcp.h> */
#define GET_TFO_MAX_ENTRIES 65536               /* cache file lines kept */

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
	struct cli_sysctls sysctls;
	bool fastopen;
	const char *tfo_cache;      /* --tfo-cache FILE; NULL: the default path */
};

/* The Fast Open state of one run. */
struct get_tfo {
	char path[4096];            /* the cache file */
	bool default_path;          /* ours to create, with its directory */
	struct synack_tfo_cookie *entries;      /* the file's valid lines */
	size_t n, cap;
	bool had_cookie;            /* a cookie for the server was cached */
	bool deferred;              /* connect() returned 0: the first send sends the SYN */
	bool sent_first;
	long syn_bytes;             /* request bytes that went in the SYN */
	uint8_t client_fail;        /* tcpi_fastopen_client_fail */
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
	struct get_tfo tfo;
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
		} else if (cli_opt_is(&o, "--fastopen")) {
			g->fastopen = true;
		} else if (cli_opt_is(&o, "--tfo-cache")) {
			ok = cli_opt_value(&o, &g->tfo_cache);
			if (ok && !g->tfo_cache[0])
				return cli_usage_error(cmd, "--tfo-cache: an empty file name");
		} else if ((r = cli_sysctl_opt(&o, &g->sysctls)) != 0) {
			ok = r > 0;
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
	if (g->tfo_cache && !g->fastopen)
		return cli_usage_error(cmd, "--tfo-cache needs --fastopen");
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

/* ------------------------------------------------- the Fast Open cache */

/*
 * The cookie cache file (--tfo-cache FILE; by default
 * $XDG_CACHE_HOME/synack/tfo-cache, else ~/.cache/synack/tfo-cache). Text,
 * one destination a line, the fields of struct synack_tfo_cookie:
 *
 *   ADDRESS MSS COOKIE EXP        e.g.  10.0.0.1 1460 5f3e0a2b9c4d1e77 0
 *
 * the server's IPv4 address, the MSS it announced (0: unknown), its cookie
 * in hex, 4 to 16 bytes ("-": none yet), and 1 when it came in the
 * experimental option (kind 254), else 0. Lines starting with '#' and blank
 * lines are ignored; a line that does not parse is reported and dropped.
 * A run rewrites the file (through a temporary file and rename) with its
 * destination's entry updated and the other lines kept.
 */

static void tfo_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tfo_warn(const char *fmt, ...)
{
	va_list ap;
	fputs("synack get: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int tfo_default_path(struct get_tfo *t)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;
	if (xdg && xdg[0] == '/')
		n = snprintf(t->path, sizeof(t->path), "%s/synack/tfo-cache", xdg);
	else if (home && home[0])
		n = snprintf(t->path, sizeof(t->path), "%s/.cache/synack/tfo-cache", home);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= sizeof(t->path)) {
		t->path[0] = '\0';
		return -ENAMETOOLONG;
	}
	t->default_path = true;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One line ("ADDRESS MSS COOKIE EXP"): 0, or -EINVAL. */
static int tfo_parse_line(const char *line, struct synack_tfo_cookie *c)
{
	char addr[32], cookie[40], extra;
	unsigned int mss, exp;
	memset(c, 0, sizeof(*c));
	if (sscanf(line, "%31s %u %39s %u %c", addr, &mss, cookie, &exp, &extra) != 4 || mss > 65535 || exp > 1 ||
	    inet_pton(AF_INET, addr, &c->daddr) != 1 || !c->daddr.s_addr)
		return -EINVAL;
	c->mss = (uint16_t)mss;
	c->exp = exp;
	if (strcmp(cookie, "-") == 0)
		return 0;
	size_t len = strlen(cookie);
	if (len % 4 || len < 8 || len > 32)     /* 4..16 bytes, an even number */
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_digit(cookie[i]), lo = hex_digit(cookie[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		c->cookie[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	c->len = (uint8_t)(len / 2);
	return 0;
}

/* The entry for daddr in t, or NULL. */
static struct synack_tfo_cookie *tfo_find(struct get_tfo *t, struct in_addr daddr)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->entries[i].daddr.s_addr == daddr.s_addr)
			return &t->entries[i];
	return NULL;
}

/* Add or replace c's destination. */
static void tfo_put(struct get_tfo *t, const struct synack_tfo_cookie *c)
{
	struct synack_tfo_cookie *e = tfo_find(t, c->daddr);
	if (e) {
		*e = *c;
		return;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct synack_tfo_cookie *p = cap <= GET_TFO_MAX_ENTRIES ? realloc(t->entries, cap * sizeof(*p)) : NULL;
		if (!p)
			return;
		t->entries = p;
		t->cap = cap;
	}
	t->entries[t->n++] = *c;
}

static void format_cookie(char out[33], const struct synack_tfo_cookie *c)
{
	if (!c->len) {
		strcpy(out, "-");
		return;
	}
	for (size_t i = 0; i < c->len; i++)
		snprintf(out + 2 * i, 3, "%02x", c->cookie[i]);
}

/* Read the cache file into the stack. A missing file is an empty cache; an
 * unreadable or corrupt one is reported and the run goes on. */
static void tfo_load(struct get *g)
{
	struct get_tfo *t = &g->tfo;
	if (g->opt.tfo_cache) {
		if (strlen(g->opt.tfo_cache) >= sizeof(t->path)) {
			tfo_warn("--tfo-cache: the file name is too long; no cookie cache");
			return;
		}
		strcpy(t->path, g->opt.tfo_cache);
	} else if (tfo_default_path(t) < 0) {
		tfo_warn("no default cache path (XDG_CACHE_HOME and HOME unset, or too long); no cookie cache"
			 " (use --tfo-cache FILE)");
		return;
	}
	FILE *f = fopen(t->path, "r");
	if (!f) {
		if (errno != ENOENT)
			tfo_warn("%s: %s; starting with an empty cookie cache", t->path, strerror(errno));
		return;
	}
	char line[256];
	unsigned int lineno = 0, bad = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		bool whole = (len && line[len - 1] == '\n') || feof(f);
		if (!whole) {   /* too long: skip the rest of it */
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		}
		const char *p = line + strspn(line, " \t\r\n");
		if (whole && (*p == '#' || *p == '\0'))
			continue;
		struct synack_tfo_cookie c;
		if (!whole || tfo_parse_line(p, &c) < 0 || synack_tfo_cache_set(g->st, &c) < 0) {
			if (bad++ < 3)
				tfo_warn("%s:%u: not \"ADDRESS MSS COOKIE EXP\"; line ignored", t->path, lineno);
			continue;
		}
		tfo_put(t, &c);
	}
	if (ferror(f))
		tfo_warn("%s: %s; using what was read", t->path, strerror(errno));
	if (bad > 3)
		tfo_warn("%s: %u lines ignored in all", t->path, bad);
	fclose(f);
}

/* mkdir -p for the default path's directory. */
static void make_parent_dirs(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0700);
		*p = '/';
	}
	mkdir(dir, 0700);
}

/* Write the server's entry, as the stack has it now, to the cache file. */
static bool tfo_save(struct get *g, struct synack_tfo_cookie *now)
{
	struct get_tfo *t = &g->tfo;
	if (!t->path[0] || synack_tfo_cache_get(g->st, g->url.dst.sin_addr, now) < 0)
		return false;
	tfo_put(t, now);
	if (t->default_path)
		make_parent_dirs(t->path);
	char tmp[sizeof(t->path) + 32];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", t->path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		tfo_warn("%s: %s; the cookie cache was not saved", tmp, strerror(errno));
		return false;
	}
	fputs("# synack get --fastopen cookie cache: ADDRESS MSS COOKIE(hex, - for none) EXP(1: option 254)\n", f);
	for (size_t i = 0; i < t->n; i++) {
		char addr[INET_ADDRSTRLEN], hex[33];
		inet_ntop(AF_INET, &t->entries[i].daddr, addr, sizeof(addr));
		format_cookie(hex, &t->entries[i]);
		fprintf(f, "%s %u %s %d\n", addr, t->entries[i].mss, hex, t->entries[i].exp ? 1 : 0);
	}
	bool ok = fflush(f) == 0 && !ferror(f);
	int err = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		err = errno;
	}
	if (ok && rename(tmp, t->path) < 0) {
		ok = false;
		err = errno;
	}
	if (!ok) {
		tfo_warn("%s: %s; the cookie cache was not saved", t->path, strerror(err));
		unlink(tmp);
	}
	return ok;
}

/* After the connection: say whether the request went in the SYN, and
 * save what the stack learnt about the server. */
static void tfo_finish(struct get *g)
{
	struct get_tfo *t = &g->tfo;
	struct synack_tfo_cookie now;
	char addr[INET_ADDRSTRLEN];
	uint64_t active = synack_mib_value(g->st, "TcpExtTCPFastOpenActive");
	uint64_t active_fail = synack_mib_value(g->st, "TcpExtTCPFastOpenActiveFail");
	bool saved = tfo_save(g, &now);
	bool learnt = saved && now.len > 0;

	if (g->opt.quiet)
		return;
	inet_ntop(AF_INET, &g->url.dst.sin_addr, addr, sizeof(addr));
	if (!g->connected_ns)
		fprintf(stderr, "synack get: fastopen: the connection was not established%s\n",
			t->syn_bytes > 0 ? " (the request went in the SYN)" : "");
	else if (t->syn_bytes > 0 && active)
		fprintf(stderr,
			"synack get: fastopen: the request went in the SYN (%ld bytes) and the server acknowledged it"
			" (TcpExtTCPFastOpenActive %" PRIu64 ")\n",
			t->syn_bytes, active);
	else if (t->syn_bytes > 0)
		fprintf(stderr,
			"synack get: fastopen: the request went in the SYN (%ld bytes) but the server did not acknowledge"
			" it; it was sent again after the handshake (TcpExtTCPFastOpenActiveFail %" PRIu64
			", tcpi_fastopen_client_fail %u)\n",
			t->syn_bytes, active_fail, t->client_fail);
	else if (!t->had_cookie)
		fprintf(stderr,
			"synack get: fastopen: no cookie cached for %s: the request did not go in the SYN; the SYN asked for a"
			" cookie and the server %s\n",
			addr, learnt ? "sent one" : "sent none");
	else
		fprintf(stderr,
			"synack get: fastopen: the request did not go in the SYN although a cookie was cached"
			" (tcpi_fastopen_client_fail %u)\n",
			t->client_fail);
	if (saved) {
		char hex[33];
		format_cookie(hex, &now);
		fprintf(stderr, "synack get: fastopen: cache %s: %s mss %u cookie %s\n", t->path, addr, now.mss, hex);
	}
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
	if (g->opt.fastopen) {
		struct synack_tfo_cookie c;
		g->tfo.had_cookie = synack_tfo_cache_get(g->st, g->url.dst.sin_addr, &c) == 0 && c.len > 0;
		int err = synack_setsockopt(g->st, g->fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one));
		if (err < 0 && !g->opt.quiet)
			tfo_warn("TCP_FASTOPEN_CONNECT: %s (is bit 0x1 of net.ipv4.tcp_fastopen off?)", cli_errstr(err));
	}
	int r = synack_connect(g->st, g->fd, &g->url.dst);
	if (r == 0 && g->opt.fastopen) {
		/* A cookie is cached: the SYN leaves with the request. */
		g->tfo.deferred = true;
		g->phase = GET_SENDING;
		return;
	}
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
		if (g->tfo.deferred && !g->tfo.sent_first) {
			/* This call sent the SYN: what it took went in the SYN. */
			g->tfo.sent_first = true;
			g->tfo.syn_bytes = r > 0 ? r : 0;
		}
		/* -EINPROGRESS: a deferred SYN left without data. */
		if (r == -EAGAIN || r == -EINPROGRESS)
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
	if (g->fd >= 0 && synack_getsockopt(g->st, g->fd, IPPROTO_TCP, 11 /* TCP_INFO */, &ti, &len) == 0) {
		g->retrans = ti.tcpi_total_retrans;
		g->tfo.client_fail = ti.tcpi_fastopen_client_fail;
	}
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
	/* A deferred (Fast Open) connect is up once the SYN is answered. */
	if (!g->connected_ns && g->phase != GET_CONNECTING) {
		int state = synack_tcp_state(g->st, g->fd);
		if (state != TCP_STATE_SYN_SENT && state != TCP_STATE_CLOSE)
			g->connected_ns = g->last_progress_ns = synack_clock_now(g->clk);
	}
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
			fail(g, !g->connected_ns ? "connect" : "the server stopped sending", -ETIMEDOUT);
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
	if ((err = cli_net_open_link("get", &g->opt.net, g->clk, seed, &g->link, NULL)) < 0)
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
	if ((err = cli_sysctl_apply("get", g->st, &g->opt.sysctls)) < 0)
		return err;
	if (g->opt.fastopen)
		tfo_load(g);
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
	double t = end > g->connected_ns ? secs(end - g->connected_ns) : 0.0;
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
		if (g->opt.fastopen)
			tfo_finish(g);
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
	free(g->tfo.entries);
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
		"                  [--sysctl N=V]... [--fastopen [--tfo-cache FILE]]\n"
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
		"With --fastopen the socket uses TCP Fast Open (TCP_FASTOPEN_CONNECT): the\n"
		"cookie cache file is loaded into the stack first; with a cookie for the\n"
		"server the request goes in the SYN, without one the SYN asks for a cookie.\n"
		"A line on stderr says which happened; then the server's entry, as the\n"
		"stack now has it, is written back to the file. The file is text, one\n"
		"server a line: \"ADDRESS MSS COOKIE EXP\", e.g.\n"
		"\"10.0.0.1 1460 5f3e0a2b9c4d1e77 0\" (the MSS the server announced, 0 if\n"
		"unknown; the cookie in hex, \"-\" for none; EXP 1 when the cookie came in\n"
		"the experimental option 254). '#' lines are comments; a missing file is an\n"
		"empty cache; bad lines are reported and dropped.\n"
		"\n"
		CLI_NET_USAGE
		"  --seed N      make the stack's random choices (and --loss) reproducible\n"
		"  --timeout S   give up when the connect, or the response, stalls for S\n"
		"                seconds (default 30)\n"
		"  -o FILE       write the body to FILE (--output FILE)\n"
		"  --quiet       print only errors\n"
		"  --trace       print the stack's frames and events to stderr\n"
		CLI_SYSCTL_USAGE
		"  --fastopen    use TCP Fast Open: send the request in the SYN when a cookie\n"
		"                for the server is cached\n"
		"  --tfo-cache FILE  the cookie cache file (default\n"
		"                $XDG_CACHE_HOME/synack/tfo-cache, else\n"
		"                ~/.cache/synack/tfo-cache, created with its directory)\n"
		"  --help        show this help\n"
		"\n"
		"Exit status: 0 only when a 200 response arrived with its complete body;\n"
		"1 on any failure (connection refused, timeout, another status, a short\n"
		"body); 2 on bad usage.\n",
};
