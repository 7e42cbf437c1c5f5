/*
 * synack up: run one stack on a Linux TAP device until SIGINT/SIGTERM,
 * answering ARP and ping from the kernel side of the TAP; optionally
 * accepting TCP connections on a port (--listen) and opening one (--connect).
 */
#include <errno.h>
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

struct up_opts {
	struct cli_net_opts net;
	bool seeded;
	uint64_t seed;
	bool quiet;
	uint16_t listen_port;           /* 0: no --listen */
	bool has_connect;
	struct sockaddr_in connect_to;
	const char *connect_text;
	const char *sysctls[UP_MAX_SYSCTLS];    /* "NAME=VALUE", applied before the interface comes up */
	size_t nsysctls;
};

/* An open connection: accepted on the listener, or the one --connect made. */
struct up_conn {
	int fd;
	bool outgoing;
	struct sockaddr_in peer;
};

struct up {
	struct up_opts opt;
	struct synack_clock *clk;
	struct synack_link *link;   /* the TAP, or the pcap wrapper that owns it */
	struct stack *st;
	int lfd;                    /* the --listen socket, or -1 */
	int cfd;                    /* the --connect socket while connecting, or -1 */
	int connect_err;            /* how --connect failed; 0 if it did not */
	struct up_conn *conns;
	size_t nconns, conns_cap;
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
	return 0;
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
		} else if (cli_opt_is(&o, "--listen")) {
			uint64_t port;
			if (!cli_opt_u64(&o, 1, 65535, &port))
				return CLI_EXIT_USAGE;
			u->listen_port = (uint16_t)port;
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
	if (!u->net.tap)
		return cli_usage_error(cmd, "--tap NAME is required");
	if (!u->net.addr_text)
		return cli_usage_error(cmd, "--addr A.B.C.D/N is required");
	return 0;
}

static int open_tap(struct up *u)
{
	const char *name = u->opt.net.tap;
	int err = synack_tap_open(name, u->opt.net.mtu, &u->link);
	if (err == -ENOENT)
		fprintf(stderr, "synack up: no /dev/net/tun: this system cannot create TAP devices\n");
	else if (err == -EPERM || err == -EACCES)
		fprintf(stderr, "synack up: opening tap %s needs root or CAP_NET_ADMIN\n", name);
	else if (err < 0)
		fprintf(stderr, "synack up: opening tap %s: %s\n", name, cli_errstr(err));
	return err;
}

static int wrap_pcap(struct up *u)
{
	if (!u->opt.net.pcap)
		return 0;
	struct synack_link *wrapped;
	int err = synack_pcap_wrap(u->link, u->clk, u->opt.net.pcap, &wrapped);
	if (err < 0) {
		fprintf(stderr, "synack up: %s: %s\n", u->opt.net.pcap, cli_errstr(err));
		return err;
	}
	u->link = wrapped;
	return 0;
}

/* Each --sysctl NAME=VALUE, as sysctl -w would set it. */
static int apply_sysctls(struct up *u)
{
	for (size_t i = 0; i < u->opt.nsysctls; i++) {
		const char *kv = u->opt.sysctls[i], *eq = strchr(kv, '=');
		char name[128], *end;
		if ((size_t)(eq - kv) >= sizeof(name)) {
			fprintf(stderr, "synack up: --sysctl %s: name too long\n", kv);
			return -EINVAL;
		}
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		errno = 0;
		long v = strtol(eq + 1, &end, 0);
		int err = (errno || end == eq + 1 || *end) ? -EINVAL : synack_sysctl_set(u->st, name, v);
		if (err < 0) {
			fprintf(stderr, "synack up: --sysctl %s: %s\n", kv,
				err == -ENOENT ? "no such sysctl" : cli_errstr(err));
			return err;
		}
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
	struct synack_if_config ifc = {
		.addr = u->opt.net.addr, .prefix_len = u->opt.net.prefix_len, .gateway = u->opt.net.gw,
	};
	err = synack_if_up(u->st, u->link, &ifc);
	if (err < 0)
		fprintf(stderr, "synack up: bringing up %s: %s\n", u->opt.net.addr_text, cli_errstr(err));
	return err;
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
	if (u->nconns == u->conns_cap) {
		size_t cap = u->conns_cap ? u->conns_cap * 2 : 8;
		struct up_conn *c = realloc(u->conns, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		u->conns = c;
		u->conns_cap = cap;
	}
	u->conns[u->nconns++] = (struct up_conn){ .fd = fd, .outgoing = outgoing, .peer = *peer };
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
	printf("synack up: listening on 0.0.0.0:%u\n", u->opt.listen_port);
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
	for (;;) {
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

/* The peer closed or reset a connection: close our end. (There is no data
 * path yet, so a peer's FIN ends our interest in the connection.) */
static void check_conns(struct up *u)
{
	for (size_t i = 0; i < u->nconns;) {
		struct up_conn *c = &u->conns[i];
		int state = synack_tcp_state(u->st, c->fd);
		if (state == 1 /* ESTABLISHED */) {
			i++;
			continue;
		}
		char p[CLI_SIN_STRLEN];
		cli_format_sin(p, &c->peer);
		printf("synack up: connection %s %s closed by the peer (%s)\n", c->outgoing ? "to" : "from", p,
		       synack_tcp_state_name(state));
		synack_close(u->st, c->fd);
		u->conns[i] = u->conns[--u->nconns];
	}
}

static void service_sockets(struct up *u)
{
	check_connect(u);
	check_accept(u);
	check_conns(u);
}

/* At exit: every connection, then the listener. */
static void close_sockets(struct up *u)
{
	if (!u->st)
		return;
	for (size_t i = 0; i < u->nconns; i++)
		synack_close(u->st, u->conns[i].fd);
	u->nconns = 0;
	if (u->cfd >= 0)
		synack_close(u->st, u->cfd);
	if (u->lfd >= 0)
		synack_close(u->st, u->lfd);
	u->cfd = u->lfd = -1;
	/* Let what the closes queued (RSTs, for now) reach the link. */
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
	if ((err = open_tap(u)) < 0)
		return err;
	char mac[18];
	cli_format_mac(mac, u->link->mac);
	if ((err = wrap_pcap(u)) < 0 || (err = start_stack(u)) < 0)
		return err;
	printf("synack up: tap %s addr %s mac %s\n", u->opt.net.tap, u->opt.net.addr_text, mac);
	if ((err = start_listen(u)) < 0 || (err = start_connect(u)) < 0)
		return err;
	fflush(stdout);
	return 0;
}

static void up_teardown(struct up *u)
{
	synack_stack_free(u->st);
	free(u->conns);
	synack_link_destroy(u->link);
	synack_clock_free(u->clk);
}

/* Milliseconds until the stack next has work, rounded up; -1 for never. */
static int poll_timeout_ms(struct up *u)
{
	uint64_t deadline = synack_stack_next_deadline(u->st);
	if (deadline == SYNACK_NEVER)
		return -1;
	uint64_t now = synack_clock_now(u->clk);
	if (deadline <= now)
		return 0;
	uint64_t ms = (deadline - now + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void print_counters(const struct up *u)
{
	fflush(stdout);
	synack_mib_print_nstat(u->st, stdout);
	fflush(stdout);
}

static int wait_for_work(struct up *u)
{
	struct pollfd pfd = { .fd = synack_stack_wait_fd(u->st), .events = POLLIN };
	int n = poll(&pfd, pfd.fd >= 0 ? 1 : 0, poll_timeout_ms(u));
	if (n < 0 && errno != EINTR) {
		fprintf(stderr, "synack up: poll: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static int run_loop(struct up *u)
{
	sig_atomic_t seen_usr1 = 0;
	while (!(up_signals & UP_STOP)) {
		if (wait_for_work(u) < 0)
			return -1;
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
	struct up u = { .lfd = -1, .cfd = -1 };
	int rc = parse_up_opts(cmd, argc, argv, &u.opt);
	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	setvbuf(stdout, NULL, _IOLBF, 0);   /* so a log file follows live */
	rc = CLI_EXIT_FAIL;
	if (up_setup(&u) == 0 && run_loop(&u) == 0 && !u.connect_err)
		rc = CLI_EXIT_OK;
	close_sockets(&u);
	if (u.st)
		print_counters(&u);
	up_teardown(&u);
	return rc;
}

const struct cli_command cli_cmd_up = {
	.name = "up",
	.run = run_up,
	.summary = "run a stack on a Linux TAP device until interrupted (needs root)",
	.usage =
		"usage: synack up --tap NAME --addr A.B.C.D/N [--gw G] [--mtu N] [--pcap FILE]\n"
		"                 [--seed N] [--quiet] [--listen PORT] [--connect A.B.C.D:PORT]\n"
		"                 [--sysctl NAME=VALUE]...\n"
		"\n"
		"Attach a stack to the TAP device NAME (created if missing) and answer ARP and\n"
		"ping until SIGINT or SIGTERM. Frames and events are printed as they happen;\n"
		"SIGUSR1 and exit print the counters in nstat format.\n"
		"\n"
		"With --listen, TCP connections to PORT are accepted (\"synack up: accepted\n"
		"A.B.C.D:P on port PORT\") and kept open until the peer closes or resets them\n"
		"or synack stops. With --connect, one connection is opened once the interface\n"
		"is up (\"synack up: connect A.B.C.D:PORT: connected from ...\" or the error,\n"
		"e.g. \"...: Connection refused\"). Open connections are closed at exit.\n"
		"\n"
		"  --tap NAME    the TAP interface to use\n"
		"  --addr A/N    the stack's address and prefix length\n"
		"  --gw G        default gateway\n"
		"  --mtu N       set the interface MTU (default: keep the device's)\n"
		"  --pcap FILE   record every frame to a pcap file\n"
		"  --seed N      make the stack's secrets and random choices reproducible\n"
		"  --quiet       do not print frames and events\n"
		"  --listen PORT accept TCP connections on PORT (any local address)\n"
		"  --connect A:P open a TCP connection to A:P\n"
		"  --sysctl N=V  set one of the stack's sysctls, by Linux's name\n"
		"                (e.g. net.ipv4.tcp_timestamps=0); may be repeated\n"
		"  --help        show this help\n"
		"\n"
		"Exit status: 0 when stopped by a signal, 1 on failure (including a failed\n"
		"--connect), 2 on bad usage.\n",
};
