/*
 * A packetdrill stand-in for libsynack_packetdrill.so: it loads the object
 * the way packetdrill does (dlopen with RTLD_NOW | RTLD_LOCAL |
 * RTLD_NODELETE | RTLD_DEEPBIND, then dlsym("packetdrill_interface_init")),
 * and plays scripted exchanges through the interface only: raw IPv4
 * packets in through netdev_send, out through netdev_receive, time through
 * usleep/gettimeofday, blocking calls on a second thread while this one
 * injects packets, as packetdrill's syscall thread does. Every segment is
 * checked exactly: flags, sequence and ACK numbers, option bytes, payload,
 * IP and TCP checksums, send times.
 *
 * Usage: pd_driver path/to/libsynack_packetdrill.so
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "packetdrill_interface.h"

/* The ABI as the spec lists it: 33 members, in this order. */
_Static_assert(sizeof(struct packetdrill_interface) == 264, "264 bytes on x86-64");
_Static_assert(offsetof(struct packetdrill_interface, socket) == 2 * sizeof(void *), "socket");
_Static_assert(offsetof(struct packetdrill_interface, fcntl) == 17 * sizeof(void *), "fcntl");
_Static_assert(offsetof(struct packetdrill_interface, poll) == 23 * sizeof(void *), "poll");
_Static_assert(offsetof(struct packetdrill_interface, netdev_send) == 24 * sizeof(void *), "netdev_send");
_Static_assert(offsetof(struct packetdrill_interface, gettimeofday) == 27 * sizeof(void *), "gettimeofday");
_Static_assert(offsetof(struct packetdrill_interface, splice) == 32 * sizeof(void *), "splice");

#if defined(__SANITIZE_ADDRESS__)
#define PD_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PD_UNDER_ASAN 1
#endif
#endif

#define LOCAL "192.168.0.1"
#define REMOTE "192.0.2.1"
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* Option bytes. */
#define O_MSS(m) 2, 4, (uint8_t)((m) >> 8), (uint8_t)(m)
#define O_WS(s) 3, 3, (uint8_t)(s)
#define O_SACKOK 4, 2
#define O_NOP 1
#define O_TS(val, ecr) 8, 10, (uint8_t)((uint32_t)(val) >> 24), (uint8_t)((uint32_t)(val) >> 16), \
	(uint8_t)((uint32_t)(val) >> 8), (uint8_t)(val), (uint8_t)((uint32_t)(ecr) >> 24),        \
	(uint8_t)((uint32_t)(ecr) >> 16), (uint8_t)((uint32_t)(ecr) >> 8), (uint8_t)(ecr)
#define OPTS(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define NOOPTS NULL, 0
#define ANY UINT64_MAX /* a sequence number not known in advance */

/* The test's only global: the loaded object (set once by main). */
static packetdrill_interface_init_t pd_init;

/* ------------------------------------------------------------- packets */

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)(p[0] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t tcp_sum(const uint8_t *ip, const uint8_t *seg, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return fold(sum16(sum16(0, ph, 12), seg, len));
}

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p) { return (uint32_t)g16(p) << 16 | g16(p + 2); }
static void p16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void p32(uint8_t *p, uint32_t v) { p16(p, (uint16_t)(v >> 16)), p16(p + 2, (uint16_t)v); }

static uint32_t addr(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* One connection as the script's peer sees it. */
struct conn {
	struct packetdrill_interface ifc;
	uint32_t local;             /* the stack's address */
	uint16_t lport, rport;      /* the stack's port, the peer's */
	uint32_t iss, irs;          /* the stack's ISN, the peer's */
	uint32_t peer_ts;           /* the peer's TSval */
};

/* An outbound packet as received and parsed. */
struct pkt {
	long long t;                /* send time, µs on the gettimeofday clock */
	uint8_t buf[65536];
	size_t len;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt, *data;
	size_t optlen, dlen;
	bool has_ts;
	uint32_t tsval, tsecr;
};

/* Inject a segment from the peer (REMOTE:rport -> local:lport). */
static int inject(struct conn *c, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, const uint8_t *opt,
		  size_t optlen, const void *data, size_t dlen)
{
	size_t ol = (optlen + 3) & ~(size_t)3, hl = 20 + ol, tot = 20 + hl + dlen;
	uint8_t *p = calloc(1, tot), *ip = p, *th = p + 20;
	uint32_t src = addr(REMOTE);
	int r;

	if (!p || tot > 65535) {
		free(p);
		return -1;
	}
	ip[0] = 0x45;
	p16(ip + 2, (uint16_t)tot);
	p16(ip + 4, 0x1234);
	p16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &c->local, 4);
	p16(ip + 10, fold(sum16(0, ip, 20)));
	p16(th, c->rport);
	p16(th + 2, c->lport);
	p32(th + 4, seq);
	p32(th + 8, ack);
	th[12] = (uint8_t)((hl / 4) << 4);
	th[13] = flags;
	p16(th + 14, win);
	if (optlen)
		memcpy(th + 20, opt, optlen);
	if (dlen)
		memcpy(th + hl, data, dlen);
	p16(th + 16, tcp_sum(ip, th, hl + dlen));
	r = c->ifc.netdev_send(c->ifc.userdata, p, tot);
	free(p);
	return r;
}

/* Receive the next outbound packet and check it is well formed IPv4/TCP
 * from the stack to the peer. */
static bool recv_pkt(struct conn *c, struct pkt *p)
{
	size_t ihl, tot, doff;
	const uint8_t *th;
	int r;

	memset(p, 0, offsetof(struct pkt, buf));
	p->len = sizeof(p->buf);
	r = c->ifc.netdev_receive(c->ifc.userdata, p->buf, &p->len, &p->t);
	if (r != 0 || p->len == 0) {
		fprintf(stderr, "  netdev_receive: %d, count %zu: no packet\n", r, p->len);
		return false;
	}
	ihl = (size_t)(p->buf[0] & 15) * 4;
	tot = g16(p->buf + 2);
	if (p->len < 40 || p->buf[0] >> 4 != 4 || ihl < 20 || tot != p->len || p->buf[9] != 6 ||
	    fold(sum16(0, p->buf, ihl)) != 0) {
		fprintf(stderr, "  bad IPv4 header (len %zu tot %zu proto %u)\n", p->len, tot, p->buf[9]);
		return false;
	}
	th = p->buf + ihl;
	doff = (size_t)(th[12] >> 4) * 4;
	if (doff < 20 || ihl + doff > tot || tcp_sum(p->buf, th, tot - ihl) != 0) {
		fprintf(stderr, "  bad TCP header or checksum\n");
		return false;
	}
	memcpy(&p->saddr, p->buf + 12, 4);
	memcpy(&p->daddr, p->buf + 16, 4);
	p->sport = g16(th);
	p->dport = g16(th + 2);
	p->seq = g32(th + 4);
	p->ack = g32(th + 8);
	p->flags = th[13];
	p->win = g16(th + 14);
	p->opt = th + 20;
	p->optlen = doff - 20;
	p->data = th + doff;
	p->dlen = tot - ihl - doff;
	for (size_t i = 0; i < p->optlen;) {
		uint8_t k = p->opt[i];

		if (k == 0)
			break;
		if (k == 1 || i + 1 >= p->optlen) {
			i++;
			continue;
		}
		if (k == 8 && p->opt[i + 1] == 10 && i + 10 <= p->optlen) {
			p->has_ts = true;
			p->tsval = g32(p->opt + i + 2);
			p->tsecr = g32(p->opt + i + 6);
		}
		i += p->opt[i + 1] ? p->opt[i + 1] : 1;
	}
	if (p->saddr != c->local || p->daddr != addr(REMOTE)) {
		fprintf(stderr, "  wrong addresses\n");
		return false;
	}
	return true;
}

static void dump_opts(const char *what, const uint8_t *o, size_t n)
{
	fprintf(stderr, "  %s options:", what);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", o[i]);
	fputc('\n', stderr);
}

/*
 * Receive a packet and compare: flags, seq (unless ANY), ack exactly; the option bytes
 * exactly except a TS option's TSval (the caller checks it: p->tsval);
 * the payload length. The ports must be the connection's once known.
 */
static bool expect_(struct conn *c, struct pkt *p, uint8_t flags, uint64_t seq, uint32_t ack, const uint8_t *opt,
		    size_t optlen, size_t dlen, int line)
{
	bool ok = true;

	if (!recv_pkt(c, p)) {
		fprintf(stderr, "%s:%d: expected a packet\n", __FILE__, line);
		return false;
	}
	if (p->flags != flags || (seq != ANY && p->seq != seq) || p->ack != ack || p->dlen != dlen) {
		fprintf(stderr, "%s:%d: got flags %02x seq %u ack %u len %zu, want flags %02x seq %lld ack %u len %zu\n",
			__FILE__, line, p->flags, p->seq, p->ack, p->dlen, flags, seq == ANY ? -1LL : (long long)seq, ack,
			dlen);
		ok = false;
	}
	if (c->lport && (p->sport != c->lport || p->dport != c->rport)) {
		fprintf(stderr, "%s:%d: ports %u > %u, want %u > %u\n", __FILE__, line, p->sport, p->dport, c->lport,
			c->rport);
		ok = false;
	}
	if (p->optlen != optlen) {
		ok = false;
	} else {
		for (size_t i = 0; i < optlen;) {
			if (opt[i] == 8 && i + 10 <= optlen && opt[i + 1] == 10) {
				if (memcmp(opt + i, p->opt + i, 2) || memcmp(opt + i + 6, p->opt + i + 6, 4))
					ok = false;
				i += 10;
				continue;
			}
			if (opt[i] != p->opt[i])
				ok = false;
			i++;
		}
	}
	if (!ok) {
		fprintf(stderr, "%s:%d: segment mismatch\n", __FILE__, line);
		dump_opts("got ", p->opt, p->optlen);
		dump_opts("want", opt, optlen);
	}
	return ok;
}
#define EXPECT(c, p, ...) expect_((c), (p), __VA_ARGS__, __LINE__)

/* ----------------------------------------------------------- instances */

static bool open_instance(struct conn *c, const char *flags)
{
	memset(c, 0, sizeof(*c));
	pd_init(flags, &c->ifc);
	c->local = addr(LOCAL);
	c->peer_ts = 700;
	return c->ifc.userdata && c->ifc.free && c->ifc.splice;
}

static void close_instance(struct conn *c) { c->ifc.free(c->ifc.userdata); }

static long long now_us(struct conn *c)
{
	struct timeval tv;

	c->ifc.gettimeofday(c->ifc.userdata, &tv, NULL);
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static struct sockaddr_in sin_of(const char *a, uint16_t port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	s.sin_addr.s_addr = addr(a);
	return s;
}

/* socket + SO_REUSEADDR + bind(LOCAL:port) + listen. */
static int listener(struct conn *c, uint16_t port)
{
	struct sockaddr_in a = sin_of(LOCAL, port);
	int one = 1, fd = c->ifc.socket(c->ifc.userdata, AF_INET, SOCK_STREAM, IPPROTO_TCP);

	if (fd < 0 || c->ifc.setsockopt(c->ifc.userdata, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    c->ifc.bind(c->ifc.userdata, fd, (struct sockaddr *)&a, sizeof(a)) ||
	    c->ifc.listen(c->ifc.userdata, fd, 1))
		return -1;
	return fd;
}

/* ----------------------------------------------------------- threads */

/* As packetdrill: a blocking call runs on another thread; this one goes on
 * once that thread sleeps in the kernel (state 'S'). */
struct call {
	pthread_t th;
	struct conn *c;
	pid_t tid;
	int op;                     /* CALL_* */
	int fd;
	struct sockaddr_in addr;
	socklen_t addrlen;
	char buf[256];
	const char *wbuf;           /* CALL_WRITE */
	long len;
	long ret;
	int err;
	long long end_us;           /* gettimeofday right after the call */
};

enum { CALL_ACCEPT, CALL_CONNECT, CALL_READ, CALL_WRITE };

static void *call_thread(void *arg)
{
	struct call *k = arg;
	void *ud = k->c->ifc.userdata;

	__atomic_store_n(&k->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	switch (k->op) {
	case CALL_ACCEPT:
		k->addrlen = sizeof(k->addr) + 8; /* more than needed, as packetdrill */
		k->ret = k->c->ifc.accept(ud, k->fd, (struct sockaddr *)&k->addr, &k->addrlen);
		break;
	case CALL_CONNECT:
		k->ret = k->c->ifc.connect(ud, k->fd, (struct sockaddr *)&k->addr, sizeof(k->addr));
		break;
	case CALL_READ:
		k->ret = k->c->ifc.read(ud, k->fd, k->buf, (size_t)k->len);
		break;
	case CALL_WRITE:
		k->ret = k->c->ifc.write(ud, k->fd, k->wbuf, (size_t)k->len);
		break;
	}
	k->err = errno;
	/* packetdrill's end_syscall reads the time at once. */
	k->end_us = now_us(k->c);
	return NULL;
}

static bool thread_sleeping(pid_t tid)
{
	char path[64], st[512];
	const char *f;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	n = fread(st, 1, sizeof(st) - 1, fp);
	fclose(fp);
	st[n] = 0;
	f = strrchr(st, ')'); /* the command name may hold spaces */
	return f && f[1] == ' ' && f[2] == 'S';
}

static bool start_call(struct call *k)
{
	struct timespec t0, t;

	k->tid = 0;
	if (pthread_create(&k->th, NULL, call_thread, k))
		return false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t tid = __atomic_load_n(&k->tid, __ATOMIC_ACQUIRE);

		if (tid && thread_sleeping(tid))
			return true;
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10) {
			fprintf(stderr, "  the blocking call never slept\n");
			return false;
		}
	}
}

/* ------------------------------------------------------------- scenarios */

#define SYN_OPTS_TS(val, ecr, ws) OPTS(O_MSS(1460), O_SACKOK, O_TS(val, ecr), O_NOP, O_WS(ws))

/* A new socket's blocking connect to REMOTE:8080, on a second thread (k);
 * c then expects the SYN from it. False when it could not start. */
static bool start_blocking_connect(struct conn *c, struct call *k)
{
	memset(k, 0, sizeof(*k));
	k->c = c;
	k->op = CALL_CONNECT;
	k->fd = c->ifc.socket(c->ifc.userdata, AF_INET, SOCK_STREAM, 0);
	k->addr = sin_of(REMOTE, 8080);
	if (k->fd < 0 || !start_call(k))
		return false;
	c->rport = 8080;
	return true;
}

/* The passive handshake without timestamps several tests open with: a
 * listener (*lfd) on c->lport, the peer's SYN with syn_opt answered by a
 * SYN-ACK with synack_opt, the ACK, then a non-blocking accept. The
 * accepted descriptor, or -1 (a failed check says where). */
static int accept_untimed(struct conn *c, struct pkt *p, int *lfd, const uint8_t *syn_opt, size_t syn_n,
			  const uint8_t *synack_opt, size_t synack_n)
{
	*lfd = listener(c, c->lport);
	if (*lfd < 0)
		return -1;
	CHECK_EQ(inject(c, F_SYN, c->irs, 0, 65535, syn_opt, syn_n, NULL, 0), 0);
	if (!EXPECT(c, p, F_SYN | F_ACK, ANY, c->irs + 1, synack_opt, synack_n, 0))
		return -1;
	c->iss = p->seq;
	CHECK_EQ(inject(c, F_ACK, c->irs + 1, c->iss + 1, 65535, NOOPTS, NULL, 0), 0);
	return c->ifc.accept(c->ifc.userdata, *lfd, NULL, NULL);
}

/* The passive handshake with a blocking accept on a second thread. Leaves
 * c with the accepted descriptor in *afd and the listener in *lfd. */
static bool passive_open(struct conn *c, int *lfd, int *afd)
{
	struct call k;
	struct pkt *p = malloc(sizeof(*p));
	long long t_syn, t_ack;
	bool ok = false;

	if (!p)
		return false;
	c->lport = 8080;
	c->rport = 41000;
	c->irs = 1000000;
	*lfd = listener(c, c->lport);
	if (*lfd < 0) {
		fprintf(stderr, "  listener: %s\n", strerror(errno));
		goto out;
	}
	memset(&k, 0, sizeof(k));
	k.c = c;
	k.op = CALL_ACCEPT;
	k.fd = *lfd;
	if (!start_call(&k))
		goto out;
	/* 0 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 700 ecr 0,nop,wscale 7> */
	t_syn = now_us(c);
	if (inject(c, F_SYN, c->irs, 0, 65535, SYN_OPTS_TS(c->peer_ts, 0, 7), NULL, 0))
		goto out;
	/* 0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val X ecr 700,nop,wscale 8> */
	if (!EXPECT(c, p, F_SYN | F_ACK, ANY, c->irs + 1, SYN_OPTS_TS(0, c->peer_ts, 8), 0))
		goto join;
	CHECK(p->t >= t_syn && p->t - t_syn < 10);
	c->iss = p->seq;
	/* +.1 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 701 ecr X> */
	c->ifc.usleep(c->ifc.userdata, 100000);
	c->peer_ts++;
	t_ack = now_us(c);
	CHECK(t_ack - t_syn >= 100000 && t_ack - t_syn < 100100);
	if (inject(c, F_ACK, c->irs + 1, c->iss + 1, 257, OPTS(O_NOP, O_NOP, O_TS(c->peer_ts, p->tsval)), NULL, 0))
		goto join;
	ok = true;
join:
	pthread_join(k.th, NULL);
	if (ok) {
		struct sockaddr_in want = sin_of(REMOTE, c->rport);

		*afd = (int)k.ret;
		CHECK(k.ret >= 0);
		CHECK_EQ(k.addrlen, sizeof(struct sockaddr_in));
		CHECK_EQ(k.addr.sin_family, AF_INET);
		CHECK_EQ(k.addr.sin_addr.s_addr, want.sin_addr.s_addr);
		CHECK_EQ(ntohs(k.addr.sin_port), c->rport);
		/* The call returned when the ACK came, not later. */
		CHECK(k.end_us >= t_ack && k.end_us - t_ack < 20);
		ok = k.ret >= 0;
	}
out:
	free(p);
	return ok;
}

TEST(abi_and_exports)
{
	struct conn c;

	REQUIRE(open_instance(&c, NULL));
	CHECK(c.ifc.socket && c.ifc.bind && c.ifc.listen && c.ifc.accept && c.ifc.connect && c.ifc.read &&
	      c.ifc.readv && c.ifc.recv && c.ifc.recvfrom && c.ifc.recvmsg && c.ifc.write && c.ifc.writev &&
	      c.ifc.send && c.ifc.sendto && c.ifc.sendmsg && c.ifc.fcntl && c.ifc.ioctl && c.ifc.close &&
	      c.ifc.shutdown && c.ifc.getsockopt && c.ifc.setsockopt && c.ifc.poll && c.ifc.netdev_send &&
	      c.ifc.netdev_receive && c.ifc.usleep && c.ifc.gettimeofday && c.ifc.epoll_create &&
	      c.ifc.epoll_ctl && c.ifc.epoll_wait && c.ifc.pipe && c.ifc.splice);
	close_instance(&c);
}

TEST(passive_handshake_blocking_accept)
{
	struct conn c;
	int lfd = -1, afd = -1;

	REQUIRE(open_instance(&c, "seed=1"));
	CHECK(passive_open(&c, &lfd, &afd));
	/* Real descriptors: libc knows them. */
	CHECK(fcntl(lfd, F_GETFD) >= 0);
	CHECK(fcntl(afd, F_GETFD) >= 0);
	CHECK(lfd != afd);
	close_instance(&c);
}

/* Data both ways and the close, on a passively opened connection. */
TEST(data_exchange_and_close)
{
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	char out[1000], in[100], got[200];
	int lfd, afd;
	long long t;
	uint32_t ts;

	REQUIRE(p);
	REQUIRE(open_instance(&c, "seed=2"));
	REQUIRE(passive_open(&c, &lfd, &afd));
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)('A' + i % 26);

	/* +0 write(4, ..., 1000) = 1000 ; +0 > P. 1:1001(1000) ack 1 <nop,nop,TS val X ecr 701> */
	t = now_us(&c);
	CHECK_EQ(c.ifc.write(c.ifc.userdata, afd, out, sizeof(out)), 1000);
	if (EXPECT(&c, p, F_PSH | F_ACK, c.iss + 1, c.irs + 1, OPTS(O_NOP, O_NOP, O_TS(0, c.peer_ts)), 1000)) {
		CHECK_MEM(p->data, out, 1000);
		CHECK(p->t >= t && p->t - t < 10);
	}
	ts = p->tsval;
	/* +.05 < . 1:1(0) ack 1001 win 257 */
	c.ifc.usleep(c.ifc.userdata, 50000);
	c.peer_ts++;
	CHECK_EQ(inject(&c, F_ACK, c.irs + 1, c.iss + 1001, 257, OPTS(O_NOP, O_NOP, O_TS(c.peer_ts, ts)), NULL, 0), 0);

	/* A blocking read on the other thread, woken by the peer's data:
	 * +0...0.01 read(4, ..., 100) = 100 ; +.01 < P. 1:101(100) ack 1001 */
	{
		struct call k;

		memset(&k, 0, sizeof(k));
		k.c = &c;
		k.op = CALL_READ;
		k.fd = afd;
		k.len = sizeof(k.buf);
		REQUIRE(start_call(&k));
		c.ifc.usleep(c.ifc.userdata, 10000);
		c.peer_ts++;
		t = now_us(&c);
		CHECK_EQ(inject(&c, F_PSH | F_ACK, c.irs + 1, c.iss + 1001, 257,
				OPTS(O_NOP, O_NOP, O_TS(c.peer_ts, ts)), in, sizeof(in)), 0);
		pthread_join(k.th, NULL);
		CHECK_EQ(k.ret, 100);
		CHECK_MEM(k.buf, in, 100);
		CHECK(k.end_us >= t && k.end_us - t < 20);
	}
	/* +0 > . 1001:1001(0) ack 101 (quick ACK) */
	if (EXPECT(&c, p, F_ACK, c.iss + 1001, c.irs + 101, OPTS(O_NOP, O_NOP, O_TS(0, c.peer_ts)), 0))
		CHECK(p->t >= t && p->t - t < 20);

	/* Non-blocking now: nothing more to read. */
	CHECK_EQ(c.ifc.fcntl(c.ifc.userdata, afd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
	CHECK_EQ(c.ifc.fcntl(c.ifc.userdata, afd, F_GETFL), O_RDWR | O_NONBLOCK);
	errno = 0;
	CHECK_EQ(c.ifc.read(c.ifc.userdata, afd, got, sizeof(got)), -1);
	CHECK_EQ(errno, EAGAIN);

	/* +0 close(4) = 0 ; +0 > F. 1001:1001(0) ack 101 */
	CHECK_EQ(c.ifc.close(c.ifc.userdata, afd), 0);
	CHECK_EQ(fcntl(afd, F_GETFD), -1); /* the real descriptor went too */
	EXPECT(&c, p, F_FIN | F_ACK, c.iss + 1001, c.irs + 101, OPTS(O_NOP, O_NOP, O_TS(0, c.peer_ts)), 0);
	ts = p->tsval;
	/* +.05 < F. 101:101(0) ack 1002 ; +0 > . 1002:1002(0) ack 102 */
	c.ifc.usleep(c.ifc.userdata, 50000);
	c.peer_ts++;
	CHECK_EQ(inject(&c, F_FIN | F_ACK, c.irs + 101, c.iss + 1002, 257, OPTS(O_NOP, O_NOP, O_TS(c.peer_ts, ts)),
			NULL, 0),
		 0);
	if (EXPECT(&c, p, F_ACK, c.iss + 1002, c.irs + 102, OPTS(O_NOP, O_NOP, O_TS(0, c.peer_ts)), 0))
		CHECK(p->tsval - ts >= 50 && p->tsval - ts <= 51);
	errno = 0;
	CHECK_EQ(c.ifc.close(c.ifc.userdata, afd), -1);
	CHECK_EQ(errno, EBADF);
	close_instance(&c);
	free(p);
}

/* connect() non-blocking -> SYN; SYN-ACK in -> ACK out. */
TEST(active_handshake)
{
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	struct sockaddr_in to = sin_of(REMOTE, 8080);
	int fd, v = -1;
	socklen_t vl = sizeof(v);
	struct pollfd pfd;
	uint32_t x;

	REQUIRE(p);
	REQUIRE(open_instance(&c, "seed=3"));
	fd = c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	REQUIRE(fd >= 0);
	CHECK_EQ(c.ifc.fcntl(c.ifc.userdata, fd, F_GETFL), O_RDWR);
	CHECK_EQ(c.ifc.fcntl(c.ifc.userdata, fd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
	errno = 0;
	CHECK_EQ(c.ifc.connect(c.ifc.userdata, fd, (struct sockaddr *)&to, sizeof(to)), -1);
	CHECK_EQ(errno, EINPROGRESS);
	c.rport = 8080;
	/* +0 > S 0:0(0) <mss 1460,sackOK,TS val X ecr 0,nop,wscale 8> */
	REQUIRE(recv_pkt(&c, p));
	CHECK_EQ(p->flags, F_SYN);
	CHECK_EQ(p->ack, 0);
	CHECK_EQ(p->dport, 8080);
	CHECK_EQ(p->dlen, 0);
	CHECK_EQ(p->optlen, 20);
	CHECK_MEM(p->opt, ((const uint8_t[]){ O_MSS(1460), O_SACKOK, 8, 10 }), 6);
	CHECK_MEM(p->opt + 12, ((const uint8_t[]){ 0, 0, 0, 0, O_NOP, O_WS(8) }), 8);
	CHECK(p->sport >= 32768 && p->sport <= 60999);
	c.lport = p->sport;
	c.iss = p->seq;
	x = p->tsval;
	/* +.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,TS val 700 ecr X,nop,wscale 7> */
	c.ifc.usleep(c.ifc.userdata, 100000);
	c.irs = 5000;
	CHECK_EQ(inject(&c, F_SYN | F_ACK, c.irs, c.iss + 1, 5792, SYN_OPTS_TS(c.peer_ts, x, 7), NULL, 0), 0);
	/* +0 > . 1:1(0) ack 1 <nop,nop,TS val X+100 ecr 700> */
	if (EXPECT(&c, p, F_ACK, c.iss + 1, c.irs + 1, OPTS(O_NOP, O_NOP, O_TS(0, c.peer_ts)), 0))
		CHECK(p->tsval - x >= 100 && p->tsval - x <= 101);
	/* +0 poll: writable; SO_ERROR 0. */
	pfd.fd = fd;
	pfd.events = POLLOUT;
	CHECK_EQ(c.ifc.poll(c.ifc.userdata, &pfd, 1, 0), 1);
	CHECK_EQ(pfd.revents, POLLOUT);
	CHECK_EQ(c.ifc.getsockopt(c.ifc.userdata, fd, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
	CHECK_EQ(v, 0);
	/* As Linux: the first connect() after the handshake reports success,
	 * the next one EISCONN. */
	CHECK_EQ(c.ifc.connect(c.ifc.userdata, fd, (struct sockaddr *)&to, sizeof(to)), 0);
	CHECK_EQ(c.ifc.connect(c.ifc.userdata, fd, (struct sockaddr *)&to, sizeof(to)), -1);
	CHECK_EQ(errno, EISCONN);
	close_instance(&c);
	free(p);
}

/* A blocking connect on the other thread returns 0 when the SYN-ACK comes. */
TEST(blocking_connect)
{
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	struct call k;
	long long t;

	REQUIRE(p);
	REQUIRE(open_instance(&c, "seed=4"));
	REQUIRE(start_blocking_connect(&c, &k));
	if (recv_pkt(&c, p)) {
		CHECK_EQ(p->flags, F_SYN);
		c.lport = p->sport;
		c.iss = p->seq;
		c.irs = 9000;
		c.ifc.usleep(c.ifc.userdata, 30000);
		t = now_us(&c);
		CHECK_EQ(inject(&c, F_SYN | F_ACK, c.irs, c.iss + 1, 5792, SYN_OPTS_TS(c.peer_ts, p->tsval, 7), NULL, 0),
			 0);
		EXPECT(&c, p, F_ACK, c.iss + 1, c.irs + 1, OPTS(O_NOP, O_NOP, O_TS(0, c.peer_ts)), 0);
	} else {
		t = 0;
	}
	pthread_join(k.th, NULL);
	CHECK_EQ(k.ret, 0);
	CHECK(k.end_us >= t && k.end_us - t < 20);
	close_instance(&c);
	free(p);
}

/* ... and returns -1 ECONNREFUSED when a RST answers the SYN. */
TEST(blocking_connect_refused)
{
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	struct call k;

	REQUIRE(p);
	REQUIRE(open_instance(&c, "seed=11"));
	REQUIRE(start_blocking_connect(&c, &k));
	if (recv_pkt(&c, p)) {
		c.lport = p->sport;
		CHECK_EQ(inject(&c, F_RST | F_ACK, 0, p->seq + 1, 0, NOOPTS, NULL, 0), 0);
	}
	pthread_join(k.th, NULL);
	CHECK_EQ(k.ret, -1);
	CHECK_EQ(k.err, ECONNREFUSED);
	close_instance(&c);
	free(p);
}

/* The SYN again after the initial RTO, on virtual time, both ways of
 * waiting for it: usleep then read, or read straight away. */
TEST(syn_retransmit_on_virtual_time)
{
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	struct sockaddr_in to = sin_of(REMOTE, 8080);
	long long t0;
	uint32_t x, iss;
	int fd;

	REQUIRE(p);
	REQUIRE(open_instance(&c, "seed=5"));
	fd = c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
	REQUIRE(fd >= 0);
	CHECK_EQ(c.ifc.connect(c.ifc.userdata, fd, (struct sockaddr *)&to, sizeof(to)), -1);
	CHECK_EQ(errno, EINPROGRESS);
	REQUIRE(recv_pkt(&c, p));
	CHECK_EQ(p->flags, F_SYN);
	t0 = p->t;
	x = p->tsval;
	iss = p->seq;
	c.lport = p->sport;
	c.rport = 8080;
	/* +1 > S 0:0(0) <...,TS val X+1000 ecr 0,...>, after usleep(1 s). */
	c.ifc.usleep(c.ifc.userdata, 1000000);
	if (EXPECT(&c, p, F_SYN, iss, 0, SYN_OPTS_TS(0, 0, 8), 0)) {
		CHECK(p->t - t0 >= 1000000 && p->t - t0 <= 1001000);
		CHECK(p->tsval - x >= 1000 && p->tsval - x <= 1001);
	}
	/* +2 > S again, read without sleeping first: netdev_receive moves
	 * time itself. (1 s again, not 2: Linux 6.16's
	 * tcp_syn_linear_timeouts = 4 keeps the first four SYN timeouts at
	 * the initial RTO.) */
	if (EXPECT(&c, p, F_SYN, iss, 0, SYN_OPTS_TS(0, 0, 8), 0)) {
		CHECK(p->t - t0 >= 2000000 && p->t - t0 <= 2002000);
		CHECK(p->tsval - x >= 2000 && p->tsval - x <= 2002);
	}
	CHECK(now_us(&c) - p->t < 10);
	close_instance(&c);
	free(p);
}

/* gettimeofday moves on a microsecond per call; usleep moves exactly. */
TEST(clock)
{
	struct conn c;
	long long a, b;

	REQUIRE(open_instance(&c, "start=1000"));
	a = now_us(&c);
	b = now_us(&c);
	CHECK_EQ(b - a, 1);
	CHECK(a >= 1000000000LL && a < 1000001000LL);
	c.ifc.usleep(c.ifc.userdata, 2500000);
	CHECK_EQ(now_us(&c) - b, 2500001);
	close_instance(&c);
}

/* --so_flags: sysctls by short and long names change the SYN's options. */
static bool syn_options(const char *flags, const uint8_t *want, size_t n)
{
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	struct sockaddr_in to = sin_of(REMOTE, 8080);
	bool ok = false;
	int fd;

	if (!p || !open_instance(&c, flags)) {
		free(p);
		return false;
	}
	fd = c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd >= 0 && c.ifc.connect(c.ifc.userdata, fd, (struct sockaddr *)&to, sizeof(to)) == -1 &&
	    errno == EINPROGRESS) {
		c.rport = 8080;
		ok = expect_(&c, p, F_SYN, ANY, 0, want, n, 0, __LINE__);
	}
	close_instance(&c);
	free(p);
	return ok;
}

TEST(so_flags_sysctls)
{
	CHECK(syn_options("tcp_timestamps=0", OPTS(O_MSS(1460), O_NOP, O_NOP, O_SACKOK, O_NOP, O_WS(8))));
	CHECK(syn_options("net.ipv4.tcp_timestamps=0,tcp_sack=0", OPTS(O_MSS(1460), O_NOP, O_WS(8))));
	CHECK(syn_options("tcp_timestamps=0 net.ipv4.tcp_rmem=4096 87380 6291456",
			  OPTS(O_MSS(1460), O_NOP, O_NOP, O_SACKOK, O_NOP, O_WS(7))));
	CHECK(syn_options("tcp_timestamps=0,tcp_window_scaling=0,mtu=1000", OPTS(O_MSS(960), O_NOP, O_NOP, O_SACKOK)));
	/* packetdrill's own default gateway equals the local address: still
	 * reachable. */
	CHECK(syn_options("local=192.168.0.1,gw=192.168.0.1,mask=255.255.0.0", SYN_OPTS_TS(0, 0, 8)));
}

/* Every kind of setting parses: numbers in hex, vectors, keys, names. */
TEST(so_flags_kinds)
{
	struct conn c;
	char cc[16] = "";
	socklen_t len = sizeof(cc);
	int fd;

	REQUIRE(open_instance(&c, "tcp_fastopen=0x3, tcp_syncookies=2 tcp_wmem=4096 16384 4194304,"
				  "net.core.somaxconn=128,ip_local_port_range=40000 40010,"
				  "tcp_fastopen_key=00000000-00000000-00000000-00000001,00000000-00000000-00000000-00000002,"
				  "tcp_congestion_control=reno,trace=0,netdev_timeout=30,start=12345.5"));
	fd = c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	CHECK_EQ(c.ifc.getsockopt(c.ifc.userdata, fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len), 0);
	CHECK_STR(cc, "reno");
	CHECK(now_us(&c) >= 12345500000LL && now_us(&c) < 12345500100LL);
	close_instance(&c);
}

/* Addresses from --so_flags; a bad flag makes socket() fail with EINVAL. */
TEST(so_flags_addresses)
{
	struct conn c;
	struct sockaddr_in a = sin_of("10.1.2.3", 80);
	int fd;

	REQUIRE(open_instance(&c, "local=10.1.2.3,mask=255.255.255.0,gw=10.1.2.254"));
	fd = c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	CHECK_EQ(c.ifc.bind(c.ifc.userdata, fd, (struct sockaddr *)&a, sizeof(a)), 0);
	a = sin_of(LOCAL, 81);
	fd = c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(c.ifc.bind(c.ifc.userdata, fd, (struct sockaddr *)&a, sizeof(a)), -1);
	CHECK_EQ(errno, EADDRNOTAVAIL);
	close_instance(&c);

	fprintf(stderr, "  (an error message about 'no_such_sysctl' is expected next)\n");
	REQUIRE(open_instance(&c, "no_such_sysctl=1"));
	CHECK_EQ(c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM, 0), -1);
	CHECK_EQ(errno, EINVAL);
	close_instance(&c);
}

/* Linux's errnos for the usual mistakes. */
TEST(errors_as_linux)
{
	struct conn c;
	struct sockaddr_in a = sin_of(LOCAL, 8080);
	uint8_t v6[40] = { 0x60 };
	char b[8];
	int fd, lfd, n = -1;

	REQUIRE(open_instance(&c, NULL));
	errno = 0;
	CHECK_EQ(c.ifc.socket(c.ifc.userdata, AF_INET6, SOCK_STREAM, 0), -1);
	CHECK_EQ(errno, EAFNOSUPPORT);
	CHECK_EQ(c.ifc.bind(c.ifc.userdata, 999, (struct sockaddr *)&a, sizeof(a)), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(c.ifc.netdev_send(c.ifc.userdata, v6, sizeof(v6)), -1);
	CHECK_EQ(errno, EAFNOSUPPORT);
	CHECK_EQ(c.ifc.netdev_send(c.ifc.userdata, NULL, 40), -1);
	CHECK_EQ(errno, EINVAL);
	lfd = listener(&c, 8080);
	REQUIRE(lfd >= 0);
	CHECK_EQ(c.ifc.fcntl(c.ifc.userdata, lfd, F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ(c.ifc.accept(c.ifc.userdata, lfd, NULL, NULL), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(c.ifc.read(c.ifc.userdata, lfd, b, sizeof(b)), -1);
	CHECK_EQ(errno, ENOTCONN);
	CHECK_EQ(c.ifc.ioctl(c.ifc.userdata, lfd, SIOCINQ, &n), -1);
	CHECK_EQ(errno, EINVAL);
	fd = c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(c.ifc.bind(c.ifc.userdata, fd, (struct sockaddr *)&a, sizeof(a)), -1);
	CHECK_EQ(errno, EADDRINUSE);
	CHECK_EQ(c.ifc.bind(c.ifc.userdata, fd, (struct sockaddr *)&a, 8), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(c.ifc.write(c.ifc.userdata, fd, b, sizeof(b)), -1);
	CHECK_EQ(errno, EPIPE);
	CHECK_EQ(c.ifc.shutdown(c.ifc.userdata, fd, SHUT_WR), -1);
	CHECK_EQ(errno, ENOTCONN);
	CHECK_EQ(c.ifc.fcntl(c.ifc.userdata, fd, F_DUPFD, 0), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(c.ifc.ioctl(c.ifc.userdata, fd, 0x12345678UL, &n), -1);
	CHECK_EQ(errno, ENOTTY);
	CHECK_EQ(c.ifc.close(c.ifc.userdata, fd), 0);
	close_instance(&c);
}

/* Bad arguments: -1 and errno from every member, never a crash. */
TEST(bad_input)
{
	struct conn c;
	struct sockaddr_in a = sin_of(LOCAL, 1);
	struct epoll_event ev = { .events = EPOLLIN };
	struct msghdr msg;
	socklen_t len = 4;
	size_t n = 0;
	long long t;
	int fd, v, lfd, ep;
	char b[4];

#define FAILS(call, e)                                 \
	do {                                           \
		errno = 0;                             \
		CHECK_EQ((call), -1);                  \
		CHECK_EQ(errno, (e));                  \
	} while (0)
	REQUIRE(open_instance(&c, NULL));
	fd = c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM, 0);
	lfd = listener(&c, 9000);
	ep = c.ifc.epoll_create(c.ifc.userdata, 1);
	REQUIRE(fd >= 0 && lfd >= 0 && ep >= 0);
	FAILS(c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_DGRAM, 0), ESOCKTNOSUPPORT);
	FAILS(c.ifc.socket(c.ifc.userdata, AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	FAILS(c.ifc.bind(c.ifc.userdata, fd, NULL, sizeof(a)), EFAULT);
	FAILS(c.ifc.bind(c.ifc.userdata, ep, (struct sockaddr *)&a, sizeof(a)), ENOTSOCK);
	FAILS(c.ifc.accept(c.ifc.userdata, lfd, (struct sockaddr *)&a, NULL), EFAULT);
	FAILS(c.ifc.accept(c.ifc.userdata, fd, NULL, NULL), EINVAL);
	FAILS(c.ifc.connect(c.ifc.userdata, fd, NULL, sizeof(a)), EFAULT);
	FAILS(c.ifc.connect(c.ifc.userdata, fd, (struct sockaddr *)&a, 1), EINVAL);
	FAILS(c.ifc.read(c.ifc.userdata, -1, b, sizeof(b)), EBADF);
	FAILS(c.ifc.readv(c.ifc.userdata, fd, NULL, 2), EFAULT);
	FAILS(c.ifc.readv(c.ifc.userdata, fd, NULL, -1), EINVAL);
	FAILS(c.ifc.recvmsg(c.ifc.userdata, fd, NULL, 0), EFAULT);
	FAILS(c.ifc.sendmsg(c.ifc.userdata, fd, NULL, 0), EFAULT);
	memset(&msg, 0, sizeof(msg));
	FAILS(c.ifc.sendmsg(c.ifc.userdata, fd, &msg, 0), EPIPE); /* never connected */
	FAILS(c.ifc.writev(c.ifc.userdata, fd, NULL, 0), EPIPE);
	FAILS(c.ifc.fcntl(c.ifc.userdata, 12345, F_GETFL), EBADF);
	FAILS(c.ifc.ioctl(c.ifc.userdata, fd, FIONBIO, NULL), EFAULT);
	FAILS(c.ifc.getsockopt(c.ifc.userdata, fd, SOL_SOCKET, SO_ERROR, &v, NULL), EFAULT);
	FAILS(c.ifc.getsockopt(c.ifc.userdata, fd, SOL_SOCKET, SO_ERROR, NULL, &len), EFAULT);
	FAILS(c.ifc.setsockopt(c.ifc.userdata, fd, SOL_SOCKET, SO_RCVTIMEO, &v, sizeof(v)), EINVAL);
	FAILS(c.ifc.poll(c.ifc.userdata, NULL, 1, 0), EFAULT);
	FAILS(c.ifc.epoll_create(c.ifc.userdata, 0), EINVAL);
	FAILS(c.ifc.epoll_ctl(c.ifc.userdata, ep, 99, fd, &ev), EINVAL);
	FAILS(c.ifc.epoll_ctl(c.ifc.userdata, ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	FAILS(c.ifc.epoll_ctl(c.ifc.userdata, fd, EPOLL_CTL_ADD, lfd, &ev), EINVAL);
	FAILS(c.ifc.epoll_ctl(c.ifc.userdata, ep, EPOLL_CTL_MOD, lfd, &ev), ENOENT);
	FAILS(c.ifc.epoll_ctl(c.ifc.userdata, ep, EPOLL_CTL_ADD, lfd, NULL), EFAULT);
	FAILS(c.ifc.epoll_wait(c.ifc.userdata, ep, &ev, 0, 0), EINVAL);
	FAILS(c.ifc.epoll_wait(c.ifc.userdata, fd, &ev, 1, 0), EINVAL);
	FAILS(c.ifc.pipe(c.ifc.userdata, NULL), EFAULT);
	FAILS(c.ifc.splice(c.ifc.userdata, 4321, NULL, fd, NULL, 10, 0), EBADF);
	FAILS(c.ifc.splice(c.ifc.userdata, fd, NULL, lfd, NULL, 10, 0), EINVAL);
	FAILS(c.ifc.netdev_send(c.ifc.userdata, b, 0), EINVAL);
	FAILS(c.ifc.netdev_receive(c.ifc.userdata, NULL, &n, &t), EINVAL);
	/* A blocking accept on this (the init) thread with nothing to come. */
	FAILS(c.ifc.accept(c.ifc.userdata, lfd, NULL, NULL), EDEADLK);
	/* No instance at all (init could not make one): EINVAL, no crash. */
	FAILS(c.ifc.socket(NULL, AF_INET, SOCK_STREAM, 0), EINVAL);
	FAILS(c.ifc.usleep(NULL, 1), EINVAL);
	n = 10;
	CHECK_EQ(c.ifc.netdev_receive(NULL, b, &n, &t), 0);
	CHECK_EQ(n, 0);
	c.ifc.free(NULL);
	CHECK_EQ(c.ifc.gettimeofday(c.ifc.userdata, NULL, NULL), 0);
	close_instance(&c);
#undef FAILS
}

/* poll and epoll; a timed poll on this (the init) thread moves time. */
TEST(poll_epoll)
{
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	struct epoll_event ev, out[4];
	struct pollfd pfd;
	long long t;
	int lfd, ep, afd;

	REQUIRE(p);
	REQUIRE(open_instance(&c, "seed=7"));
	c.lport = 8080;
	c.rport = 41001;
	c.irs = 77;
	lfd = listener(&c, 8080);
	REQUIRE(lfd >= 0);
	ep = c.ifc.epoll_create(c.ifc.userdata, 1);
	REQUIRE(ep >= 0);
	CHECK(fcntl(ep, F_GETFD) >= 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	CHECK_EQ(c.ifc.epoll_ctl(c.ifc.userdata, ep, EPOLL_CTL_ADD, lfd, &ev), 0);
	CHECK_EQ(c.ifc.epoll_ctl(c.ifc.userdata, ep, EPOLL_CTL_ADD, lfd, &ev), -1);
	CHECK_EQ(errno, EEXIST);
	CHECK_EQ(c.ifc.epoll_wait(c.ifc.userdata, ep, out, 4, 0), 0);
	/* +0 poll([{fd=3, events=POLLIN}], 1, 50) = 0, taking 50 ms. */
	pfd.fd = lfd;
	pfd.events = POLLIN;
	t = now_us(&c);
	CHECK_EQ(c.ifc.poll(c.ifc.userdata, &pfd, 1, 50), 0);
	CHECK(now_us(&c) - t >= 50000 && now_us(&c) - t < 50010);
	/* The handshake, without TS this time. */
	CHECK_EQ(inject(&c, F_SYN, c.irs, 0, 65535, OPTS(O_MSS(1460), O_NOP, O_NOP, O_SACKOK, O_NOP, O_WS(7)), NULL, 0),
		 0);
	REQUIRE(EXPECT(&c, p, F_SYN | F_ACK, ANY, c.irs + 1, OPTS(O_MSS(1460), O_NOP, O_NOP, O_SACKOK, O_NOP, O_WS(8)),
		       0));
	c.iss = p->seq;
	CHECK_EQ(c.ifc.epoll_wait(c.ifc.userdata, ep, out, 4, 0), 0);
	CHECK_EQ(inject(&c, F_ACK, c.irs + 1, c.iss + 1, 257, NOOPTS, NULL, 0), 0);
	CHECK_EQ(c.ifc.epoll_wait(c.ifc.userdata, ep, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK_EQ(out[0].data.fd, lfd);
	CHECK_EQ(c.ifc.poll(c.ifc.userdata, &pfd, 1, 0), 1);
	CHECK_EQ(pfd.revents, POLLIN);
	afd = c.ifc.accept(c.ifc.userdata, lfd, NULL, NULL);
	CHECK(afd >= 0);
	/* Edge-triggered: reported once per new arrival. */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u32 = 42;
	CHECK_EQ(c.ifc.epoll_ctl(c.ifc.userdata, ep, EPOLL_CTL_ADD, afd, &ev), 0);
	CHECK_EQ(c.ifc.epoll_ctl(c.ifc.userdata, ep, EPOLL_CTL_DEL, lfd, NULL), 0);
	CHECK_EQ(c.ifc.epoll_wait(c.ifc.userdata, ep, out, 4, 0), 0);
	CHECK_EQ(inject(&c, F_PSH | F_ACK, c.irs + 1, c.iss + 1, 257, NOOPTS, "hello", 5), 0);
	CHECK_EQ(c.ifc.epoll_wait(c.ifc.userdata, ep, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u32, 42);
	CHECK_EQ(c.ifc.epoll_wait(c.ifc.userdata, ep, out, 4, 0), 0);
	CHECK_EQ(inject(&c, F_PSH | F_ACK, c.irs + 6, c.iss + 1, 257, NOOPTS, "world", 5), 0);
	CHECK_EQ(c.ifc.epoll_wait(c.ifc.userdata, ep, out, 4, 0), 1);
	{
		int n = -1;

		CHECK_EQ(c.ifc.ioctl(c.ifc.userdata, afd, SIOCINQ, &n), 0);
		CHECK_EQ(n, 10);
		CHECK_EQ(c.ifc.ioctl(c.ifc.userdata, afd, SIOCOUTQ, &n), 0);
		CHECK_EQ(n, 0);
	}
	CHECK_EQ(c.ifc.close(c.ifc.userdata, ep), 0);
	close_instance(&c);
	free(p);
}

/* A pipe is a pair of real descriptors; splice moves a socket's data into it. */
TEST(pipe_and_splice)
{
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	int lfd, afd, pf[2];
	loff_t zero = 0;
	char buf[16];

	REQUIRE(p);
	REQUIRE(open_instance(&c, "seed=8,tcp_timestamps=0"));
	c.lport = 8080;
	c.rport = 41002;
	c.irs = 1;
	afd = accept_untimed(&c, p, &lfd, OPTS(O_MSS(1460)), OPTS(O_MSS(1460)));
	REQUIRE(afd >= 0);
	CHECK_EQ(inject(&c, F_PSH | F_ACK, c.irs + 1, c.iss + 1, 65535, NOOPTS, "spliced!", 8), 0);
	REQUIRE(c.ifc.pipe(c.ifc.userdata, pf) == 0);
	CHECK_EQ(c.ifc.splice(c.ifc.userdata, afd, &zero, pf[1], &zero, 100, 0), 8);
	CHECK_EQ(read(pf[0], buf, sizeof(buf)), 8); /* libc reads it: a real pipe */
	CHECK_MEM(buf, "spliced!", 8);
	CHECK_EQ(c.ifc.write(c.ifc.userdata, pf[1], "back", 4), 4);
	CHECK_EQ(c.ifc.splice(c.ifc.userdata, pf[0], NULL, afd, NULL, 100, 0), 4);
	/* The ACK for the data, then the data: "back". */
	REQUIRE(recv_pkt(&c, p));
	if (p->dlen == 0)
		REQUIRE(recv_pkt(&c, p));
	CHECK_EQ(p->dlen, 4);
	CHECK_MEM(p->data, "back", 4);
	CHECK_EQ(c.ifc.close(c.ifc.userdata, pf[0]), 0);
	CHECK_EQ(c.ifc.close(c.ifc.userdata, pf[1]), 0);
	close_instance(&c);
	free(p);
}

/* A blocking write of more than the send buffer holds, on the other
 * thread: it queues part, sleeps, and queues more as ACKs free room. Every
 * segment is ACKed at once; if the writer did not run before time moved,
 * the sender would stall and retransmit on its RTO. */
TEST(blocking_write_larger_than_sndbuf)
{
	enum { TOTAL = 600000 };
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	char *data = malloc(TOTAL);
	struct call k;
	uint32_t acked = 0;
	long long t0;
	int lfd, afd, segs = 0;
	bool ok = true;

	REQUIRE(p && data);
	REQUIRE(open_instance(&c, "seed=10,tcp_timestamps=0"));
	for (int i = 0; i < TOTAL; i++)
		data[i] = (char)(i % 251);
	c.lport = 8080;
	c.rport = 41004;
	c.irs = 500;
	afd = accept_untimed(&c, p, &lfd, OPTS(O_MSS(1460), O_NOP, O_WS(7)), OPTS(O_MSS(1460), O_NOP, O_WS(8)));
	REQUIRE(afd >= 0);
	memset(&k, 0, sizeof(k));
	k.c = &c;
	k.op = CALL_WRITE;
	k.fd = afd;
	k.wbuf = data;
	k.len = TOTAL;
	REQUIRE(start_call(&k));
	t0 = now_us(&c);
	while (acked < TOTAL && ok) {
		uint32_t off;

		if (!recv_pkt(&c, p)) {
			ok = false;
			break;
		}
		off = p->seq - (c.iss + 1);
		if (!p->dlen || off != acked || off + p->dlen > TOTAL || memcmp(p->data, data + off, p->dlen)) {
			fprintf(stderr, "  unexpected segment: seq +%u len %zu (acked %u)\n", off, p->dlen, acked);
			ok = false;
			break;
		}
		acked += (uint32_t)p->dlen;
		segs++;
		ok = inject(&c, F_ACK, c.irs + 1, c.iss + 1 + acked, 65535, NOOPTS, NULL, 0) == 0;
	}
	CHECK(ok);
	pthread_join(k.th, NULL);
	CHECK_EQ(k.ret, TOTAL);
	CHECK_EQ(acked, TOTAL);
	CHECK(segs >= TOTAL / 1460);
	/* No retransmission timeout: the transfer took no virtual time. */
	CHECK(now_us(&c) - t0 < 1000);
	close_instance(&c);
	free(data);
	free(p);
}

/* A segment larger than the MTU (as GRO hands them to Linux) is taken. */
TEST(segment_larger_than_mtu)
{
	struct conn c;
	struct pkt *p = malloc(sizeof(*p));
	static char big[4000], got[4000];
	int lfd, afd;

	REQUIRE(p);
	REQUIRE(open_instance(&c, "seed=9,tcp_timestamps=0"));
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	c.lport = 8080;
	c.rport = 41003;
	c.irs = 100;
	afd = accept_untimed(&c, p, &lfd, OPTS(O_MSS(1460), O_NOP, O_NOP, O_SACKOK),
			     OPTS(O_MSS(1460), O_NOP, O_NOP, O_SACKOK));
	REQUIRE(afd >= 0);
	/* +0 < P. 1:4001(4000) ack 1 ; +0 > . 1:1(0) ack 4001 */
	CHECK_EQ(inject(&c, F_PSH | F_ACK, c.irs + 1, c.iss + 1, 65535, NOOPTS, big, sizeof(big)), 0);
	EXPECT(&c, p, F_ACK, c.iss + 1, c.irs + 4001, NOOPTS, 0);
	CHECK_EQ(c.ifc.read(c.ifc.userdata, afd, got, sizeof(got)), 4000);
	CHECK_MEM(got, big, sizeof(big));
	close_instance(&c);
	free(p);
}

/* netdev_receive gives up after the horizon instead of spinning. */
TEST(netdev_receive_gives_up)
{
	struct conn c;
	uint8_t buf[2048];
	size_t n = sizeof(buf);
	long long t;

	REQUIRE(open_instance(&c, "netdev_timeout=5"));
	t = now_us(&c);
	CHECK_EQ(c.ifc.netdev_receive(c.ifc.userdata, buf, &n, &t), 0);
	CHECK_EQ(n, 0);
	CHECK(now_us(&c) - t <= 5000010);
	close_instance(&c);
}

/* Instances share nothing; packetdrill's final libc close() of a socket and
 * the reuse of its number do not confuse free(). */
TEST(instances_and_final_close)
{
	struct conn a, b;
	int fa, fb, dn;

	REQUIRE(open_instance(&a, NULL));
	REQUIRE(open_instance(&b, "local=10.0.0.1/24"));
	fa = a.ifc.socket(a.ifc.userdata, AF_INET, SOCK_STREAM, 0);
	fb = b.ifc.socket(b.ifc.userdata, AF_INET, SOCK_STREAM, 0);
	CHECK(fa >= 0 && fb >= 0 && fa != fb);
	CHECK_EQ(b.ifc.listen(b.ifc.userdata, fa, 1), -1);
	CHECK_EQ(errno, EBADF);
	/* As packetdrill at the end of a script: libc close on what is open. */
	CHECK_EQ(close(fa), 0);
	dn = open("/dev/null", O_RDONLY);
	CHECK(dn >= 0);
	close_instance(&a);
	CHECK(fcntl(dn, F_GETFD) >= 0); /* not closed by the instance */
	close(dn);
	close_instance(&b);
	CHECK_EQ(fcntl(fb, F_GETFD), -1); /* closed by free() */
}

int main(int argc, char **argv)
{
	int mode = RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | RTLD_DEEPBIND;
	void *h;

	if (argc != 2) {
		fprintf(stderr, "usage: %s libsynack_packetdrill.so\n", argv[0]);
		return 2;
	}
	/* A blocking call that is never woken must fail the run, not hang it. */
	alarm(120);
#ifdef PD_UNDER_ASAN
	/* AddressSanitizer refuses RTLD_DEEPBIND; everything else as packetdrill. */
	mode &= ~RTLD_DEEPBIND;
#endif
	h = dlopen(argv[1], mode);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	dlerror();
	pd_init = (packetdrill_interface_init_t)dlsym(h, "packetdrill_interface_init");
	if (!pd_init) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 1;
	}
	/* Only the entry point is exported. */
	if (dlsym(h, "synack_stack_new") || dlsym(h, "synack_socket") || dlsym(h, "tcp_v4_rcv")) {
		fprintf(stderr, "the object exports synack's symbols\n");
		return 1;
	}
	RUN(abi_and_exports);
	RUN(passive_handshake_blocking_accept);
	RUN(data_exchange_and_close);
	RUN(active_handshake);
	RUN(blocking_connect);
	RUN(blocking_connect_refused);
	RUN(syn_retransmit_on_virtual_time);
	RUN(clock);
	RUN(so_flags_sysctls);
	RUN(so_flags_kinds);
	RUN(so_flags_addresses);
	RUN(errors_as_linux);
	RUN(bad_input);
	RUN(poll_epoll);
	RUN(pipe_and_splice);
	RUN(blocking_write_larger_than_sndbuf);
	RUN(segment_larger_than_mtu);
	RUN(netdev_receive_gives_up);
	RUN(instances_and_final_close);
	dlclose(h);
	return TEST_SUMMARY();
}
