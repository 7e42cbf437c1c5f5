/* IP_TRANSPARENT: a listener that catches connections to any address and
 * port (a TUN/TAP terminator). The SYN-ACK comes from the address the peer
 * dialled, the child's getsockname is that original destination, data
 * flows, other listeners keep their own ports, and without the option a
 * segment for someone else is dropped as Linux drops it. */
#include <arpa/inet.h>
#include <string.h>
#include "../test.h"
#include "harness.h"

#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19
#endif
#define FAR "198.51.100.7"
#define FAR_PORT 443

/* The peer's SYN to FAR:dport; returns the SYN-ACK (NULL if none). */
static const struct sc_pkt *syn_to_far(struct sc *sc, uint16_t dport)
{
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = dport, .flags = F_SYN, .seq = SC_PEER_ISN,
			    .win = SC_PEER_WIN, .daddr = V(sc_addr(FAR)),
			    OPT(O_MSS(1460), O_SACKOK, O_TS(SC_PEER_TS, 0), O_NOP, O_WS(SC_PEER_WS)) };

	const struct sc_pkt *p;

	sc_inject(sc, &s);
	p = sc_pop(sc);
	CHECK(p != NULL);
	if (!p)
		return NULL;
	CHECK_EQ(p->flags, F_SYN | F_ACK);
	CHECK_EQ(p->ack, SC_PEER_ISN + 1);
	CHECK_EQ(p->sport, dport);
	CHECK_EQ(p->dport, SC_PEER_PORT);
	CHECK_EQ(p->saddr, sc_addr(FAR));
	return p;
}

static int transparent_listener(struct sc *sc, uint16_t port)
{
	int one = 1, l = sc_socket(sc);
	struct sockaddr_in a = sc_sin("0.0.0.0", port);

	CHECK_EQ(synack_setsockopt(sc->st, l, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one)), 0);
	CHECK_EQ(synack_bind(sc->st, l, &a), 0);
	CHECK_EQ(synack_listen(sc->st, l, 16), 0);
	return l;
}

TEST(listen_transparent_any_destination)
{
	struct sc *sc = sc_new(NULL);
	int l = transparent_listener(sc, 9999), fd, v = 0;
	unsigned int len = sizeof(v);
	const struct sc_pkt *p;
	struct sockaddr_in name, peer;
	char buf[16];

	CHECK_EQ(synack_getsockopt(sc->st, l, IPPROTO_IP, IP_TRANSPARENT, &v, &len), 0);
	CHECK_EQ(v, 1);
	p = syn_to_far(sc, FAR_PORT);
	REQUIRE(p);
	CHECK_EQ(p->saddr, sc_addr(FAR));
	CHECK_EQ(p->daddr, sc->remote);
	{
		struct sc_seg a = { .sport = SC_PEER_PORT, .dport = FAR_PORT, .flags = F_ACK | F_PSH,
				    .seq = SC_PEER_ISN + 1, .ack = p->seq + 1, .win = 229, .daddr = V(sc_addr(FAR)),
				    .data = "hi", .len = 2 };
		sc_seg_ts(&a, SC_PEER_TS + 1, p->tsval);
		sc_inject(sc, &a);
	}
	fd = synack_accept(sc->st, l, &peer);
	REQUIRE(fd >= 0);
	CHECK_EQ(peer.sin_addr.s_addr, sc->remote);
	CHECK_EQ(synack_getsockname(sc->st, fd, &name), 0);
	CHECK_EQ(name.sin_addr.s_addr, sc_addr(FAR));
	CHECK_EQ(ntohs(name.sin_port), FAR_PORT);
	CHECK_EQ(synack_recv(sc->st, fd, buf, sizeof(buf), 0), 2);
	CHECK_EQ(synack_send(sc->st, fd, "yo", 2, 0), 2);
	sc_run(sc);
	p = sc_pop(sc); /* maybe the delayed ACK first */
	while (p && p->len == 0)
		p = sc_pop(sc);
	REQUIRE(p);
	CHECK_EQ(p->saddr, sc_addr(FAR));
	CHECK_EQ(p->sport, FAR_PORT);
	CHECK_EQ(p->len, 2);
	SC_FREE(sc);
}

/* Our own address keeps its listeners; another host's address on the same
 * port goes to the catch-all, not to the wildcard listener. */
TEST(listen_transparent_own_listeners_keep_ports)
{
	struct sc *sc = sc_new(NULL);
	int l = transparent_listener(sc, 9999), fd;
	struct sc_conn c;
	struct sockaddr_in name;

	if (OPEN_PASSIVE(sc, &c, 8080, 16) && ESTABLISH_PASSIVE(sc, &c)) {
		CHECK_EQ(synack_getsockname(sc->st, c.fd, &name), 0);
		CHECK_EQ(ntohs(name.sin_port), 8080);
	}
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	syn_to_far(sc, 8080);
	{
		struct sc_seg a = { .sport = SC_PEER_PORT, .dport = 8080, .flags = F_ACK, .seq = SC_PEER_ISN + 1,
				    .win = 229, .daddr = V(sc_addr(FAR)) };
		a.ack = sc->last.seq + 1;
		if (sc->npkts)
			a.ack = sc->pkts[sc->npkts - 1].seq + 1;
		sc_seg_ts(&a, SC_PEER_TS + 1, sc->pkts[sc->npkts - 1].tsval);
		sc_inject(sc, &a);
	}
	fd = synack_accept(sc->st, l, NULL);
	CHECK(fd >= 0);
	{
		/* Our own address, a closed port: a RST, not the catch-all. */
		struct sc_seg s = { .sport = SC_PEER_PORT + 1, .dport = 7777, .flags = F_SYN, .seq = SC_PEER_ISN,
				    .win = SC_PEER_WIN };
		sc_drain(sc);
		sc_inject(sc, &s);
		EXPECT(sc, .flags = F_RST | F_ACK, .seq = V(0), .ack = V(SC_PEER_ISN + 1));
	}
	SC_FREE(sc);
}

/* Without the option, a SYN to another address is not ours. */
TEST(listen_plain_other_destination_dropped)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = FAR_PORT, .flags = F_SYN, .seq = SC_PEER_ISN,
			    .win = SC_PEER_WIN, .daddr = V(sc_addr(FAR)) };
	int l = sc_listen(sc, FAR_PORT, 16), one = 1, zero = 0;

	REQUIRE(l >= 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "IpInAddrErrors", 1);
	/* Turning it on and off again on a listener. */
	CHECK_EQ(synack_setsockopt(sc->st, l, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one)), 0);
	CHECK_EQ(synack_setsockopt(sc->st, l, IPPROTO_IP, IP_TRANSPARENT, &zero, sizeof(zero)), 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "IpInAddrErrors", 2);
	CHECK_EQ(synack_setsockopt(sc->st, l, IPPROTO_IP, 99, &one, sizeof(one)), -ENOPROTOOPT);
	SC_FREE(sc);
}

/* Closing the catch-all listener ends it. */
TEST(listen_transparent_closed)
{
	struct sc *sc = sc_new(NULL);
	int l = transparent_listener(sc, 9999);
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = FAR_PORT, .flags = F_SYN, .seq = SC_PEER_ISN,
			    .win = SC_PEER_WIN, .daddr = V(sc_addr(FAR)) };

	CHECK_EQ(synack_close(sc->st, l), 0);
	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "IpInAddrErrors", 1);
	SC_FREE(sc);
}

int main(void)
{
	RUN(listen_transparent_any_destination);
	RUN(listen_transparent_own_listeners_keep_ports);
	RUN(listen_plain_other_destination_dropped);
	RUN(listen_transparent_closed);
	return TEST_SUMMARY();
}
