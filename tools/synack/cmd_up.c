/*
 * synack up: run one stack on a Linux TAP device until SIGINT/SIGTERM,
 * answering ARP and ping from the kernel side of the TAP.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/*
 * The only global: written by the signal handler, read by the loop. Bit 0
 * asks the loop to stop; the bits above count SIGUSR1s, so the loop can
 * notice a new one by comparing and never has to clear anything.
 */
static volatile sig_atomic_t up_signals;

#define UP_STOP 1
#define UP_USR1_STEP 2

struct up_opts {
	struct cli_net_opts net;
	bool seeded;
	uint64_t seed;
	bool quiet;
};

struct up {
	struct up_opts opt;
	struct synack_clock *clk;
	struct synack_link *link;   /* the TAP, or the pcap wrapper that owns it */
	struct stack *st;
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
	struct synack_if_config ifc = {
		.addr = u->opt.net.addr, .prefix_len = u->opt.net.prefix_len, .gateway = u->opt.net.gw,
	};
	err = synack_if_up(u->st, u->link, &ifc);
	if (err < 0)
		fprintf(stderr, "synack up: bringing up %s: %s\n", u->opt.net.addr_text, cli_errstr(err));
	return err;
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
	fflush(stdout);
	return 0;
}

static void up_teardown(struct up *u)
{
	synack_stack_free(u->st);
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
	}
	return 0;
}

static int run_up(const struct cli_command *cmd, int argc, char **argv)
{
	struct up u = { 0 };
	int rc = parse_up_opts(cmd, argc, argv, &u.opt);
	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (!u.opt.quiet)
		setvbuf(stdout, NULL, _IOLBF, 0);   /* so a log file follows live */
	rc = CLI_EXIT_FAIL;
	if (up_setup(&u) == 0 && run_loop(&u) == 0)
		rc = CLI_EXIT_OK;
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
		"                 [--seed N] [--quiet]\n"
		"\n"
		"Attach a stack to the TAP device NAME (created if missing) and answer ARP and\n"
		"ping until SIGINT or SIGTERM. Frames and events are printed as they happen;\n"
		"SIGUSR1 and exit print the counters in nstat format.\n"
		"\n"
		"  --tap NAME    the TAP interface to use\n"
		"  --addr A/N    the stack's address and prefix length\n"
		"  --gw G        default gateway\n"
		"  --mtu N       set the interface MTU (default: keep the device's)\n"
		"  --pcap FILE   record every frame to a pcap file\n"
		"  --seed N      make the stack's secrets and random choices reproducible\n"
		"  --quiet       do not print frames and events\n"
		"  --help        show this help\n"
		"\n"
		"Exit status: 0 when stopped by a signal, 1 on failure, 2 on bad usage.\n",
};
