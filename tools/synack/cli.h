/* Shared pieces of the synack command-line tool (private to tools/synack). */
#ifndef SYNACK_TOOLS_CLI_H
#define SYNACK_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "synack/synack.h"

/* Exit codes: 0 success, 1 runtime failure, 2 bad usage (as getopt tools do). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli_command {
	const char *name;
	int (*run)(const struct cli_command *cmd, int argc, char **argv); /* argv[0] is the name */
	const char *summary;    /* one line for `synack --help` */
	const char *usage;      /* the full help text for `synack NAME --help` */
};

/* Each command defines one of these in its cmd_NAME.c; main.c lists them. */
extern const struct cli_command cli_cmd_demo;
extern const struct cli_command cli_cmd_up;
extern const struct cli_command cli_cmd_get;

/* Print "synack NAME: <msg>" and the command's usage to stderr; returns 2. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_print_usage(const struct cli_command *cmd, FILE *f);
bool cli_is_help(const char *arg);

/*
 * Walks argv one option at a time. Accepts "--name value" and "--name=value".
 * cli_opt_next() returns false at the end; cli_opt_value() fetches the value
 * of the current option (false, with a usage error printed, when missing).
 */
struct cli_opts {
	const struct cli_command *cmd;
	int argc;
	char **argv;
	int i;
	const char *name;       /* the current option, without any "=value" */
	const char *inline_val; /* the part after '=', or NULL */
	char namebuf[64];
};

void cli_opts_init(struct cli_opts *o, const struct cli_command *cmd, int argc, char **argv);
bool cli_opt_next(struct cli_opts *o);
bool cli_opt_is(const struct cli_opts *o, const char *name);
bool cli_opt_value(struct cli_opts *o, const char **val);
/* Typed values; each prints a usage error and returns false when invalid. */
bool cli_opt_u64(struct cli_opts *o, uint64_t min, uint64_t max, uint64_t *out);
bool cli_opt_double(struct cli_opts *o, double min, double max, double *out);
/* Print "unknown option" (or "unexpected argument") and return 2. */
int cli_opt_unknown(const struct cli_opts *o);

/* The interface options several commands share. */
struct cli_net_opts {
	const char *tap;
	const char *addr_text;
	struct in_addr addr;
	uint8_t prefix_len;
	struct in_addr gw;
	uint32_t mtu;
	const char *pcap;
	double loss;            /* --loss: frames dropped by synack_faulty_wrap, 0 = no wrapper */
	bool no_offload;        /* --no-offload: plain frames on the TAP (no virtio-net header, GSO or TSO) */
};

/* 1: the current option was one of --tap/--addr/--gw/--mtu/--pcap/--loss/--no-offload
 * and was consumed; 0: not one of them; -1: invalid (usage error printed). */
int cli_net_opt(struct cli_opts *o, struct cli_net_opts *net);
/* The usage lines every TAP command prints for those options. */
#define CLI_NET_USAGE \
	"  --tap NAME    the TAP interface to use (attached if it exists, created if not)\n" \
	"  --addr A/N    the stack's address and prefix length\n" \
	"  --gw G        default gateway\n" \
	"  --mtu N       set the interface MTU (default: keep the device's)\n" \
	"  --pcap FILE   record every frame on the TAP to a pcap file\n" \
	"  --no-offload  plain frames on the TAP: no checksum offload, no 64 KiB GSO/TSO\n" \
	"                frames (the default uses them when the kernel agrees)\n" \
	"  --loss P      drop each frame with probability P (0..1) in both directions,\n" \
	"                with synack's fault-injecting link wrapper (seeded by --seed)\n"
/* --sysctl NAME=VALUE, as `sysctl -w` takes it: numbers, and text for the
 * string sysctls (net.ipv4.tcp_fastopen_key), through synack_sysctl_set_str. */
#define CLI_MAX_SYSCTLS 32
struct cli_sysctls {
	const char *kv[CLI_MAX_SYSCTLS];        /* "NAME=VALUE", applied in order */
	size_t n;
};
/* 1: the current option was --sysctl and was consumed; 0: not it; -1:
 * invalid (usage error printed). */
int cli_sysctl_opt(struct cli_opts *o, struct cli_sysctls *s);
/* Set one "NAME=VALUE": 0, or -errno with the reason on stderr as
 * "synack PROG: --sysctl NAME=VALUE: ...". */
int cli_sysctl_set(const char *prog, struct stack *st, const char *kv);
/* Each of s in order; stops at the first failure. */
int cli_sysctl_apply(const char *prog, struct stack *st, const struct cli_sysctls *s);
#define CLI_SYSCTL_USAGE \
	"  --sysctl N=V  set one of the stack's sysctls by Linux's name, as sysctl -w\n" \
	"                takes it (net.ipv4.tcp_fastopen_key=xxxxxxxx-xxxxxxxx-...);\n" \
	"                may repeat\n"

/* Require --tap and --addr: 0, or a usage error's exit code. */
int cli_net_require(const struct cli_command *cmd, const struct cli_net_opts *net);
/* Open the TAP device net->tap and wrap it: the pcap recorder next to the
 * device (--pcap) and the fault injector around that (--loss, seeded by
 * seed). *tap (when tap is not NULL) gets the device itself, for
 * synack_tap_get_stats. Errors are explained on stderr as "synack PROG: ...". */
int cli_net_open_link(const char *prog, const struct cli_net_opts *net, struct synack_clock *clk, uint64_t seed,
		      struct synack_link **out, struct synack_link **tap);
/* The TAP's own counters in nstat's format, after the stack's (all of
 * them with zeros, else the non-zero ones). */
void cli_print_tap_stats(const struct synack_link *tap, bool zeros, FILE *f);
/* synack_if_up with the --addr/--gw options; errors explained on stderr. */
int cli_net_if_up(const char *prog, struct stack *st, struct synack_link *l, const struct cli_net_opts *net);
/* Block until the stack has work (a frame on its wait fd or its next
 * deadline) or max_ms passes (-1: no cap). A signal returns early. 0 or -errno. */
int cli_wait_stack(struct stack *st, struct synack_clock *clk, int max_ms);
/* A seed for the fault wrapper when none was given: differs per run. */
uint64_t cli_random_seed(void);

/* Trace sink printing events as timestamped, tcpdump-like lines to ctx (a FILE *). */
void cli_trace_print(void *ctx, const struct synack_trace_event *ev);
/* The same line, without the newline, into buf (NUL-terminated): its length. */
size_t cli_trace_format(char *buf, size_t cap, const struct synack_trace_event *ev);
/* One event line in the trace printer's layout, for events the CLI itself
 * causes (it is the caller of accept() and close()), e.g.
 * "  0.004000 server   inet_csk_accept: 10.0.0.1:33000". */
void cli_trace_line(FILE *f, uint64_t ts_ns, const char *who, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void cli_format_mac(char out[18], const uint8_t mac[6]);
/* "A.B.C.D:PORT" (at most 21 characters and the NUL). */
#define CLI_SIN_STRLEN 22
void cli_format_sin(char out[CLI_SIN_STRLEN], const struct sockaddr_in *sin);
/* Parse "A.B.C.D:PORT" (port 1..65535): 0, or -EINVAL. */
int cli_parse_sin(const char *s, struct sockaddr_in *out);
const char *cli_errstr(int neg_errno);

#endif
