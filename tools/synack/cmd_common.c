/*
 * Helpers every command shares: option walking, the interface options,
 * usage errors and the trace printer. (Named cmd_*.c so the build picks it
 * up with the commands; it defines no command itself.)
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

void cli_print_usage(const struct cli_command *cmd, FILE *f)
{
	fputs(cmd->usage, f);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "synack %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_print_usage(cmd, stderr);
	return CLI_EXIT_USAGE;
}

bool cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

const char *cli_errstr(int neg_errno)
{
	return strerror(neg_errno < 0 ? -neg_errno : neg_errno);
}

void cli_format_mac(char out[18], const uint8_t mac[6])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void cli_format_sin(char out[CLI_SIN_STRLEN], const struct sockaddr_in *sin)
{
	const uint8_t *a = (const uint8_t *)&sin->sin_addr.s_addr;
	snprintf(out, CLI_SIN_STRLEN, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], ntohs(sin->sin_port));
}

int cli_parse_sin(const char *s, struct sockaddr_in *out)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host) || !colon[1])
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '-' || colon[1] == '+' || port < 1 || port > 65535)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

/* ------------------------------------------------------------ options */

void cli_opts_init(struct cli_opts *o, const struct cli_command *cmd, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->argc = argc;
	o->argv = argv;
	o->i = 0;   /* argv[0] is the command name */
}

bool cli_opt_next(struct cli_opts *o)
{
	if (++o->i >= o->argc)
		return false;
	const char *arg = o->argv[o->i];
	const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	if (n >= sizeof(o->namebuf))
		n = sizeof(o->namebuf) - 1;
	memcpy(o->namebuf, arg, n);
	o->namebuf[n] = '\0';
	o->name = o->namebuf;
	o->inline_val = eq ? eq + 1 : NULL;
	return true;
}

bool cli_opt_is(const struct cli_opts *o, const char *name)
{
	return strcmp(o->name, name) == 0;
}

bool cli_opt_value(struct cli_opts *o, const char **val)
{
	if (o->inline_val) {
		*val = o->inline_val;
		return true;
	}
	if (o->i + 1 >= o->argc) {
		cli_usage_error(o->cmd, "option %s needs a value", o->name);
		return false;
	}
	*val = o->argv[++o->i];
	return true;
}

bool cli_opt_u64(struct cli_opts *o, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s;
	if (!cli_opt_value(o, &s))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		cli_usage_error(o->cmd, "%s: '%s' is not a number in %" PRIu64 "..%" PRIu64, o->name, s, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool cli_opt_double(struct cli_opts *o, double min, double max, double *out)
{
	const char *s;
	if (!cli_opt_value(o, &s))
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max)) {
		cli_usage_error(o->cmd, "%s: '%s' is not a number in %g..%g", o->name, s, min, max);
		return false;
	}
	*out = v;
	return true;
}

int cli_opt_unknown(const struct cli_opts *o)
{
	const char *arg = o->argv[o->i];
	if (arg[0] == '-')
		return cli_usage_error(o->cmd, "unknown option '%s'", o->name);
	return cli_usage_error(o->cmd, "unexpected argument '%s'", arg);
}

static bool parse_addr_opt(struct cli_opts *o, struct cli_net_opts *net)
{
	const char *s;
	if (!cli_opt_value(o, &s))
		return false;
	if (synack_parse_cidr(s, &net->addr, &net->prefix_len) < 0) {
		cli_usage_error(o->cmd, "--addr: '%s' is not A.B.C.D/N", s);
		return false;
	}
	net->addr_text = s;
	return true;
}

static bool parse_gw_opt(struct cli_opts *o, struct cli_net_opts *net)
{
	const char *s;
	if (!cli_opt_value(o, &s))
		return false;
	if (inet_pton(AF_INET, s, &net->gw) != 1) {
		cli_usage_error(o->cmd, "--gw: '%s' is not an IPv4 address", s);
		return false;
	}
	return true;
}

int cli_net_opt(struct cli_opts *o, struct cli_net_opts *net)
{
	bool ok;
	uint64_t v;
	if (cli_opt_is(o, "--tap"))
		ok = cli_opt_value(o, &net->tap);
	else if (cli_opt_is(o, "--addr"))
		ok = parse_addr_opt(o, net);
	else if (cli_opt_is(o, "--gw"))
		ok = parse_gw_opt(o, net);
	else if (cli_opt_is(o, "--pcap"))
		ok = cli_opt_value(o, &net->pcap);
	else if (cli_opt_is(o, "--loss"))
		ok = cli_opt_double(o, 0.0, 1.0, &net->loss);
	else if (cli_opt_is(o, "--no-offload")) {
		net->no_offload = true;
		ok = true;
	}
	else if (cli_opt_is(o, "--mtu")) {
		ok = cli_opt_u64(o, 68, 65521, &v);
		net->mtu = (uint32_t)v;
	} else
		return 0;
	return ok ? 1 : -1;
}

int cli_net_require(const struct cli_command *cmd, const struct cli_net_opts *net)
{
	if (!net->tap)
		return cli_usage_error(cmd, "--tap NAME is required");
	if (!net->addr_text)
		return cli_usage_error(cmd, "--addr A.B.C.D/N is required");
	return 0;
}

int cli_sysctl_opt(struct cli_opts *o, struct cli_sysctls *s)
{
	const char *kv;

	if (!cli_opt_is(o, "--sysctl"))
		return 0;
	if (!cli_opt_value(o, &kv))
		return -1;
	if (s->n == CLI_MAX_SYSCTLS) {
		cli_usage_error(o->cmd, "at most %d --sysctl options", CLI_MAX_SYSCTLS);
		return -1;
	}
	if (!strchr(kv, '=') || kv[0] == '=') {
		cli_usage_error(o->cmd, "--sysctl: '%s' is not NAME=VALUE", kv);
		return -1;
	}
	s->kv[s->n++] = kv;
	return 1;
}

int cli_sysctl_set(const char *prog, struct stack *st, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char name[128];

	if (!eq || (size_t)(eq - kv) >= sizeof(name)) {
		fprintf(stderr, "synack %s: --sysctl %s: %s\n", prog, kv, eq ? "name too long" : "not NAME=VALUE");
		return -EINVAL;
	}
	memcpy(name, kv, (size_t)(eq - kv));
	name[eq - kv] = '\0';
	int err = synack_sysctl_set_str(st, name, eq + 1);
	if (err < 0)
		fprintf(stderr, "synack %s: --sysctl %s: %s\n", prog, kv,
			err == -ENOENT ? "no such sysctl" : cli_errstr(err));
	return err;
}

int cli_sysctl_apply(const char *prog, struct stack *st, const struct cli_sysctls *s)
{
	for (size_t i = 0; i < s->n; i++) {
		int err = cli_sysctl_set(prog, st, s->kv[i]);
		if (err < 0)
			return err;
	}
	return 0;
}

uint64_t cli_random_seed(void)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
}

int cli_net_open_link(const char *prog, const struct cli_net_opts *net, struct synack_clock *clk, uint64_t seed,
		      struct synack_link **out, struct synack_link **tap)
{
	/* The fault injector reads frames through plain recv, which cannot
	 * take the kernel's 64 KiB GSO frames: plain frames under it. */
	struct synack_tap_config cfg = { .ifname = net->tap, .mtu = net->mtu,
					 .no_offload = net->no_offload || net->loss > 0 };
	struct synack_link *l, *w;
	int err = synack_tap_open_config(&cfg, &l);
	if (err == -ENOENT)
		fprintf(stderr, "synack %s: no /dev/net/tun: this system cannot create TAP devices\n", prog);
	else if (err == -EPERM || err == -EACCES)
		fprintf(stderr, "synack %s: opening tap %s needs root or CAP_NET_ADMIN\n", prog, net->tap);
	else if (err < 0)
		fprintf(stderr, "synack %s: opening tap %s: %s\n", prog, net->tap, cli_errstr(err));
	if (err < 0)
		return err;
	if (tap)
		*tap = l;
	if (net->pcap) {
		if ((err = synack_pcap_wrap(l, clk, net->pcap, &w)) < 0) {
			fprintf(stderr, "synack %s: %s: %s\n", prog, net->pcap, cli_errstr(err));
			synack_link_destroy(l);
			return err;
		}
		l = w;
	}
	if (net->loss > 0) {
		struct synack_sim_config cfg = { .loss = net->loss, .seed = seed };
		if ((err = synack_faulty_wrap(l, clk, &cfg, &w)) < 0) {
			fprintf(stderr, "synack %s: --loss %g: %s\n", prog, net->loss, cli_errstr(err));
			synack_link_destroy(l);
			return err;
		}
		l = w;
	}
	*out = l;
	return 0;
}

int cli_net_if_up(const char *prog, struct stack *st, struct synack_link *l, const struct cli_net_opts *net)
{
	struct synack_if_config ifc = { .addr = net->addr, .prefix_len = net->prefix_len, .gateway = net->gw };
	int err = synack_if_up(st, l, &ifc);
	if (err < 0)
		fprintf(stderr, "synack %s: bringing up %s: %s\n", prog, net->addr_text, cli_errstr(err));
	return err;
}

int cli_wait_stack(struct stack *st, struct synack_clock *clk, int max_ms)
{
	int timeout = max_ms;
	uint64_t deadline = synack_stack_next_deadline(st);
	if (deadline != SYNACK_NEVER) {
		uint64_t now = synack_clock_now(clk);
		uint64_t ms = deadline <= now ? 0 : (deadline - now + 999999) / 1000000;
		if (ms > INT_MAX)
			ms = INT_MAX;
		if (timeout < 0 || (int)ms < timeout)
			timeout = (int)ms;
	}
	struct pollfd pfd = { .fd = synack_stack_wait_fd(st), .events = POLLIN };
	int n = poll(&pfd, pfd.fd >= 0 ? 1 : 0, timeout);
	if (n < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* -------------------------------------------------------------- trace */

static void print_ts(FILE *f, uint64_t ns)
{
	fprintf(f, "%3" PRIu64 ".%06" PRIu64 " ", ns / 1000000000u, ns / 1000u % 1000000u);
}

void cli_trace_line(FILE *f, uint64_t ts_ns, const char *who, const char *name, const char *fmt, ...)
{
	va_list ap;
	print_ts(f, ts_ns);
	fprintf(f, "%-6s   %s: ", who ? who : "?", name);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

size_t cli_trace_format(char *buf, size_t cap, const struct synack_trace_event *ev)
{
	const char *who = synack_stack_name(ev->stack);
	char line[512];
	int n;

	switch (ev->kind) {
	case SYNACK_TRACE_FRAME_TX:
	case SYNACK_TRACE_FRAME_RX:
		synack_format_frame(line, sizeof(line), ev->frame, ev->frame_len);
		n = snprintf(buf, cap, "%3" PRIu64 ".%06" PRIu64 " %-6s %c %s", ev->ts_ns / 1000000000u,
			     ev->ts_ns / 1000u % 1000000u, who ? who : "?", ev->kind == SYNACK_TRACE_FRAME_TX ? '>' : '<',
			     line);
		break;
	case SYNACK_TRACE_DROP:
		n = snprintf(buf, cap, "%3" PRIu64 ".%06" PRIu64 " %-6s ! drop %s: %s", ev->ts_ns / 1000000000u,
			     ev->ts_ns / 1000u % 1000000u, who ? who : "?", ev->name ? ev->name : "?",
			     ev->text ? ev->text : "");
		break;
	default:
		n = snprintf(buf, cap, "%3" PRIu64 ".%06" PRIu64 " %-6s   %s: %s", ev->ts_ns / 1000000000u,
			     ev->ts_ns / 1000u % 1000000u, who ? who : "?", ev->name ? ev->name : "?",
			     ev->text ? ev->text : "");
		break;
	}
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

void cli_trace_print(void *ctx, const struct synack_trace_event *ev)
{
	char line[768];
	cli_trace_format(line, sizeof(line), ev);
	fprintf(ctx, "%s\n", line);
}

void cli_print_tap_stats(const struct synack_link *tap, bool zeros, FILE *f)
{
	struct synack_tap_stats s;

	if (synack_tap_get_stats(tap, &s) < 0)
		return;
	const struct {
		const char *name;
		uint64_t v;
	} rows[] = {
		{ "TapOffload", s.offload },
		{ "TapRxGsoFrames", s.rx_gso_frames },
		{ "TapRxGsoBytes", s.rx_gso_bytes },
		{ "TapRxCsumDone", s.rx_csum_done },
		{ "TapRxBadVnetHdr", s.rx_bad_vnet_hdr },
		{ "TapRxOversize", s.rx_oversize },
		{ "TapTxGsoFrames", s.tx_gso_frames },
		{ "TapTxGsoSegs", s.tx_gso_segs },
		{ "TapTxFlushes", s.tx_flushes },
		{ "TapTxErrors", s.tx_errors },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (zeros || rows[i].v)
			fprintf(f, "%-32s%-16" PRIu64 "%6.1f\n", rows[i].name, rows[i].v, 0.0);
}
