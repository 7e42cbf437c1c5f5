/* lwIP as the comparison peer: see lwip_peer.h. */
#define _GNU_SOURCE
#include "lwip_peer.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "memwire.h"
#include "netif/ethernet.h"

#ifndef SYNACK_LWIP_SO
#define SYNACK_LWIP_SO "liblwip.so.0"
#endif

#define BULK_CHUNK 65536u                   /* what the bulk sender offers per tcp_write */

/* One loaded copy of lwIP: one stack. */
struct lwip_inst {
	void *dl;
	char path[64];                      /* the private copy (removed once loaded) */
	struct mw_wire *wire;
	int side;                           /* this stack's end of the wire */
	struct netif netif;

	/* lwIP's functions and globals, resolved in this copy */
	void (*lwip_init)(void);
	struct netif *(*netif_add)(struct netif *, const ip4_addr_t *, const ip4_addr_t *, const ip4_addr_t *,
				   void *, netif_init_fn, netif_input_fn);
	void (*netif_set_default)(struct netif *);
	void (*netif_set_up)(struct netif *);
	void (*netif_set_link_up)(struct netif *);
	err_t (*ethernet_input)(struct pbuf *, struct netif *);
	err_t (*etharp_output)(struct netif *, struct pbuf *, const ip4_addr_t *);
	err_t (*ethip6_output)(struct netif *, struct pbuf *, const ip6_addr_t *);
	struct pbuf *(*pbuf_alloc)(pbuf_layer, u16_t, pbuf_type);
	u8_t (*pbuf_free)(struct pbuf *);
	u16_t (*pbuf_copy_partial)(const struct pbuf *, void *, u16_t, u16_t);
	struct tcp_pcb *(*tcp_new)(void);
	err_t (*tcp_bind)(struct tcp_pcb *, const ip_addr_t *, u16_t);
	struct tcp_pcb *(*tcp_listen_with_backlog)(struct tcp_pcb *, u8_t);
	void (*tcp_accept)(struct tcp_pcb *, tcp_accept_fn);
	void (*tcp_arg)(struct tcp_pcb *, void *);
	void (*tcp_recv)(struct tcp_pcb *, tcp_recv_fn);
	void (*tcp_err)(struct tcp_pcb *, tcp_err_fn);
	err_t (*tcp_connect)(struct tcp_pcb *, const ip_addr_t *, u16_t, tcp_connected_fn);
	err_t (*tcp_write)(struct tcp_pcb *, const void *, u16_t, u8_t);
	err_t (*tcp_output)(struct tcp_pcb *);
	void (*tcp_recved)(struct tcp_pcb *, u16_t);
	err_t (*tcp_close)(struct tcp_pcb *);
	void (*tcp_abort)(struct tcp_pcb *);
	void (*tcp_fasttmr)(void);
	void (*sys_check_timeouts)(void);
	struct tcp_pcb **tcp_tw_pcbs;       /* lwIP's TIME-WAIT list */

	uint64_t rx_alloc_fail;
};

struct lwip_pair {
	struct mw_wire wire;
	struct lwip_inst c, s;              /* client (end 0), server (end 1) */
	ip_addr_t srv_ip;
	uint16_t port;
	struct tcp_pcb *listen, *spcb, *cpcb;
	bool connected, got_req, got_resp, eof, reset;
	uint64_t reaped, stalls;
	/* bulk */
	uint8_t *app_buf;                   /* where the server's application copies data */
	uint8_t *src;                       /* what the client's application sends */
	uint64_t delivered;
};

const char *lwip_peer_library(void)
{
	const char *env = getenv("SYNACK_LWIP_SO");

	return env && *env ? env : SYNACK_LWIP_SO;
}

const char *lwip_peer_version(void) { return LWIP_VERSION_STRING; }

/* ------------------------------------------------------------ loading */

/* Copy the library to a private file, so that dlopen loads a copy of its own. */
static int copy_library(const char *from, char *to, size_t cap)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	snprintf(to, cap, "/tmp/synack-bench-lwip-XXXXXX");
	out = mkstemp(to);
	if (out < 0)
		return -1;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		close(out);
		unlink(to);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	}
	close(in);
	if (close(out) < 0 || n < 0) {
		unlink(to);
		return -1;
	}
	return 0;
}

/* The interface's transmit: copy the frame onto the wire. */
static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
	struct lwip_inst *li = netif->state;
	struct mw_ring *r = &li->wire->dir[li->side];
	uint8_t *dst = mw_reserve(r, p->tot_len);

	if (!dst)
		return ERR_OK;              /* a full device queue drops the frame */
	if (p->len == p->tot_len)
		memcpy(dst, p->payload, p->len);
	else
		li->pbuf_copy_partial(p, dst, p->tot_len, 0);
	mw_commit(r, p->tot_len);
	return ERR_OK;
}

static err_t netif_setup(struct netif *netif)
{
	struct lwip_inst *li = netif->state;

	netif->name[0] = 'm';
	netif->name[1] = 'w';
	netif->output = li->etharp_output;
	netif->output_ip6 = li->ethip6_output;
	netif->linkoutput = linkoutput;
	netif->mtu = 1500;
	netif->hwaddr_len = 6;
	memcpy(netif->hwaddr, li->wire->end[li->side].link.mac, 6);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

#define RESOLVE(li, name)                                                                                      \
	do {                                                                                                   \
		void *sym_ = dlsym((li)->dl, #name);                                                           \
		if (!sym_) {                                                                                   \
			fprintf(stderr, "lwip: %s: no symbol %s\n", lwip_peer_library(), #name);               \
			return -1;                                                                             \
		}                                                                                              \
		memcpy(&(li)->name, &sym_, sizeof(sym_));                                                      \
	} while (0)

static int resolve_all(struct lwip_inst *li)
{
	RESOLVE(li, lwip_init);
	RESOLVE(li, netif_add);
	RESOLVE(li, netif_set_default);
	RESOLVE(li, netif_set_up);
	RESOLVE(li, netif_set_link_up);
	RESOLVE(li, ethernet_input);
	RESOLVE(li, etharp_output);
	RESOLVE(li, ethip6_output);
	RESOLVE(li, pbuf_alloc);
	RESOLVE(li, pbuf_free);
	RESOLVE(li, pbuf_copy_partial);
	RESOLVE(li, tcp_new);
	RESOLVE(li, tcp_bind);
	RESOLVE(li, tcp_listen_with_backlog);
	RESOLVE(li, tcp_accept);
	RESOLVE(li, tcp_arg);
	RESOLVE(li, tcp_recv);
	RESOLVE(li, tcp_err);
	RESOLVE(li, tcp_connect);
	RESOLVE(li, tcp_write);
	RESOLVE(li, tcp_output);
	RESOLVE(li, tcp_recved);
	RESOLVE(li, tcp_close);
	RESOLVE(li, tcp_abort);
	RESOLVE(li, tcp_fasttmr);
	RESOLVE(li, sys_check_timeouts);
	RESOLVE(li, tcp_tw_pcbs);
	return 0;
}

static int inst_open(struct lwip_inst *li, struct mw_wire *w, int side)
{
	const char *lib = lwip_peer_library();
	ip4_addr_t addr, mask, gw;

	li->wire = w;
	li->side = side;
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer aborts on RTLD_DEEPBIND, which two copies need. */
	fprintf(stderr, "lwip: not loaded under AddressSanitizer (it refuses RTLD_DEEPBIND)\n");
	return -1;
#endif
	if (copy_library(lib, li->path, sizeof(li->path)) < 0) {
		fprintf(stderr, "lwip: cannot copy %s: %s (apt-get install liblwip-dev, or set SYNACK_LWIP_SO)\n",
			lib, strerror(errno));
		return -1;
	}
	li->dl = dlopen(li->path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
	unlink(li->path);                   /* the mapping stays; the file is not needed */
	if (!li->dl) {
		fprintf(stderr, "lwip: dlopen: %s\n", dlerror());
		return -1;
	}
	if (resolve_all(li) < 0)
		return -1;
	li->lwip_init();
	IP4_ADDR(&addr, 10, 0, 0, side + 1);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 0, 0, 0, 0);
	if (!li->netif_add(&li->netif, &addr, &mask, &gw, li, netif_setup, li->ethernet_input)) {
		fprintf(stderr, "lwip: netif_add failed\n");
		return -1;
	}
	li->netif_set_default(&li->netif);
	li->netif_set_up(&li->netif);
	li->netif_set_link_up(&li->netif);
	return 0;
}

/* Hand this instance every frame queued for it, each in a fresh PBUF_RAM
 * pbuf through ethernet_input: how many. */
static unsigned inst_rx(struct lwip_inst *li)
{
	struct mw_ring *r = &li->wire->dir[!li->side];
	unsigned n = 0;
	const uint8_t *f;
	size_t len;

	while ((f = mw_peek(r, &len))) {
		struct pbuf *p = li->pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);

		if (p) {
			memcpy(p->payload, f, len);
			mw_drop_head(r);
			if (li->netif.input(p, &li->netif) != ERR_OK)
				li->pbuf_free(p);
		} else {
			mw_drop_head(r);
			li->rx_alloc_fail++;
		}
		n++;
	}
	return n;
}

/* Free every pcb on lwIP's TIME-WAIT list, newest (the head) first, so
 * each removal is O(1): how many. */
static unsigned inst_reap_time_wait(struct lwip_inst *li)
{
	unsigned n = 0;

	while (*li->tcp_tw_pcbs) {
		li->tcp_abort(*li->tcp_tw_pcbs);
		n++;
	}
	return n;
}

/* Deliver frames until both directions are empty. */
static void pump(struct lwip_pair *p)
{
	while (inst_rx(&p->s) + inst_rx(&p->c))
		;
}

/* --------------------------------------------------------- callbacks */

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct lwip_pair *p = arg;

	(void)pcb;
	p->connected = err == ERR_OK;
	return ERR_OK;
}

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *pb, err_t err)
{
	struct lwip_pair *p = arg;
	char buf[16];

	(void)err;
	if (!pb)
		return ERR_OK;
	p->c.pbuf_copy_partial(pb, buf, pb->tot_len < sizeof(buf) ? pb->tot_len : sizeof(buf), 0);
	p->c.tcp_recved(pcb, pb->tot_len);
	p->c.pbuf_free(pb);
	p->got_resp = true;
	return ERR_OK;
}

static err_t srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *pb, err_t err)
{
	struct lwip_pair *p = arg;
	char buf[16];

	(void)err;
	if (!pb) {
		p->eof = true;
		return ERR_OK;
	}
	p->s.pbuf_copy_partial(pb, buf, pb->tot_len < sizeof(buf) ? pb->tot_len : sizeof(buf), 0);
	p->s.tcp_recved(pcb, pb->tot_len);
	p->s.pbuf_free(pb);
	p->got_req = true;
	return ERR_OK;
}

/* The bulk receiver: the application copies every byte out, as recv() does. */
static err_t srv_recv_bulk(void *arg, struct tcp_pcb *pcb, struct pbuf *pb, err_t err)
{
	struct lwip_pair *p = arg;
	u16_t len;

	(void)err;
	if (!pb) {
		p->eof = true;
		return ERR_OK;
	}
	len = pb->tot_len;
	p->s.pbuf_copy_partial(pb, p->app_buf, len, 0);
	p->delivered += len;
	p->s.tcp_recved(pcb, len);
	p->s.pbuf_free(pb);
	return ERR_OK;
}

static void srv_err(void *arg, err_t err)
{
	struct lwip_pair *p = arg;

	p->reset = err == ERR_RST;
	p->spcb = NULL;                     /* lwIP has freed it */
}

static err_t srv_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct lwip_pair *p = arg;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	p->spcb = pcb;
	p->s.tcp_arg(pcb, p);
	p->s.tcp_recv(pcb, p->app_buf ? srv_recv_bulk : srv_recv);
	p->s.tcp_err(pcb, srv_err);
	return ERR_OK;
}

/* ------------------------------------------------------------- pairs */

struct lwip_pair *lwip_pair_new(uint16_t port)
{
	struct lwip_pair *p = calloc(1, sizeof(*p));
	struct tcp_pcb *pcb;

	if (!p)
		return NULL;
	if (mw_wire_init(&p->wire) < 0 || inst_open(&p->c, &p->wire, 0) < 0 || inst_open(&p->s, &p->wire, 1) < 0)
		goto fail;
	IP_ADDR4(&p->srv_ip, 10, 0, 0, 2);
	p->port = port;
	pcb = p->s.tcp_new();
	if (!pcb || p->s.tcp_bind(pcb, &p->srv_ip, port) != ERR_OK)
		goto fail;
	p->listen = p->s.tcp_listen_with_backlog(pcb, 255);
	if (!p->listen)
		goto fail;
	p->s.tcp_arg(p->listen, p);
	p->s.tcp_accept(p->listen, srv_accept);
	pump(p);
	return p;
fail:
	fprintf(stderr, "lwip: setting up the pair failed\n");
	lwip_pair_free(p);
	return NULL;
}

void lwip_pair_free(struct lwip_pair *p)
{
	if (!p)
		return;
	mw_wire_free(&p->wire);
	free(p->app_buf);
	free(p->src);
	free(p);
}

void lwip_pair_stats(const struct lwip_pair *p, struct lwip_pair_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->frames = mw_frames(&p->wire);
	out->wire_drops = mw_drops(&p->wire);
	out->rx_alloc_fail = p->c.rx_alloc_fail + p->s.rx_alloc_fail;
	out->reaped = p->reaped;
	out->stalls = p->stalls;
	if (p->cpcb)
		out->mss = p->cpcb->mss;
}

void lwip_pair_trace(struct lwip_pair *p, bool on) { mw_trace(&p->wire, on); }

/* socket + connect: the client pcb once the server has accepted, or NULL. */
static struct tcp_pcb *connect_one(struct lwip_pair *p, const char **what)
{
	struct tcp_pcb *pcb = p->c.tcp_new();

	p->connected = p->got_req = p->got_resp = p->eof = p->reset = false;
	p->spcb = NULL;
	if (!pcb) {
		*what = "tcp_new";
		return NULL;
	}
	p->c.tcp_arg(pcb, p);
	p->c.tcp_recv(pcb, cli_recv);
	if (p->c.tcp_connect(pcb, &p->srv_ip, p->port, cli_connected) != ERR_OK) {
		*what = "tcp_connect";
		return NULL;
	}
	pump(p);
	if (!p->connected || !p->spcb) {
		*what = "handshake";
		return NULL;
	}
	return pcb;
}

int lwip_hs_close(struct lwip_pair *p, const char **what)
{
	struct tcp_pcb *pcb = connect_one(p, what), *spcb;

	if (!pcb)
		return -1;
	spcb = p->spcb;
	if (p->c.tcp_write(pcb, "q", 1, TCP_WRITE_FLAG_COPY) != ERR_OK || p->c.tcp_output(pcb) != ERR_OK) {
		*what = "client tcp_write";
		return -1;
	}
	pump(p);
	if (!p->got_req) {
		*what = "server recv";
		return -1;
	}
	if (p->s.tcp_write(spcb, "r", 1, TCP_WRITE_FLAG_COPY) != ERR_OK || p->s.tcp_output(spcb) != ERR_OK) {
		*what = "server tcp_write";
		return -1;
	}
	pump(p);
	if (!p->got_resp) {
		*what = "client recv";
		return -1;
	}
	p->c.tcp_recv(pcb, NULL);
	if (p->c.tcp_close(pcb) != ERR_OK) {
		*what = "client tcp_close";
		return -1;
	}
	pump(p);
	if (!p->eof) {
		*what = "server recv EOF";
		return -1;
	}
	p->s.tcp_recv(spcb, NULL);
	p->s.tcp_err(spcb, NULL);
	if (p->s.tcp_close(spcb) != ERR_OK) {
		*what = "server tcp_close";
		return -1;
	}
	pump(p);
	p->reaped += inst_reap_time_wait(&p->c);
	p->c.sys_check_timeouts();
	p->s.sys_check_timeouts();
	return 0;
}

int lwip_hs_rst(struct lwip_pair *p, const char **what)
{
	struct tcp_pcb *pcb = connect_one(p, what);

	if (!pcb)
		return -1;
	p->c.tcp_abort(pcb);                /* a RST, as close() with SO_LINGER 0 */
	pump(p);
	if (!p->reset) {
		*what = "server reset";
		return -1;
	}
	p->c.sys_check_timeouts();
	p->s.sys_check_timeouts();
	return 0;
}

/* -------------------------------------------------------------- bulk */

int lwip_bulk_open(struct lwip_pair *p)
{
	const char *what = NULL;

	p->app_buf = malloc(BULK_CHUNK);
	p->src = malloc(BULK_CHUNK);
	if (!p->app_buf || !p->src)
		return -1;
	for (size_t i = 0; i < BULK_CHUNK; i++)
		p->src[i] = (uint8_t)(i * 7 + 1);
	p->cpcb = connect_one(p, &what);
	if (!p->cpcb) {
		fprintf(stderr, "lwip: bulk connection: %s failed\n", what);
		return -1;
	}
	return 0;
}

int64_t lwip_bulk_move(struct lwip_pair *p, uint64_t bytes)
{
	struct tcp_pcb *pcb = p->cpcb;
	uint64_t sent = 0, start = p->delivered;

	while (p->delivered - start < bytes) {
		bool moved = false;

		/* The sender queues what its buffer takes. */
		while (sent < bytes) {
			uint64_t want = bytes - sent;
			u16_t room = tcp_sndbuf(pcb);

			if (want > room)
				want = room;
			if (want > 0xffff)
				want = 0xffff;
			if (want == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN)
				break;
			if (p->c.tcp_write(pcb, p->src, (u16_t)want, TCP_WRITE_FLAG_COPY) != ERR_OK)
				break;
			sent += want;
			moved = true;
		}
		p->c.tcp_output(pcb);
		if (!mw_empty(&p->wire.dir[0]) || !mw_empty(&p->wire.dir[1])) {
			pump(p);
			moved = true;
		}
		if (!moved) {
			/* Waiting on a delayed ACK: run the fast timers now. */
			p->s.tcp_fasttmr();
			p->c.tcp_fasttmr();
			p->stalls++;
			if (mw_empty(&p->wire.dir[0]) && mw_empty(&p->wire.dir[1]))
				return -1;  /* still stuck */
		}
	}
	return (int64_t)(p->delivered - start);
}
