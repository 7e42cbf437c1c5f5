/* Segments that find no socket, or a listener that refuses them
 * (tcp_v4_send_reset, spec 7.3 and 3.2). */
#include "../test.h"
#include "harness.h"

#define CLOSED_PORT 9

static void inject(struct sc *sc, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, size_t len)
{
	static const char data[64] = "payload payload payload payload payload payload payload payload";
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = dport, .flags = flags, .seq = seq, .ack = ack,
			    .win = 1000, .data = data, .len = len };

	sc_inject(sc, &s);
}

/* RST|ACK, seq 0, ack = seq + SYN + FIN + len; no options; DF, ID 0. */
static void rst_ack_for(uint8_t flags, size_t len, uint32_t want_ack_delta)
{
	struct sc *sc = sc_new(NULL);

	inject(sc, CLOSED_PORT, flags, 1000, 0, len);
	EXPECT(sc, .flags = F_RST | F_ACK, .seq = V(0), .ack = V(1000 + want_ack_delta), .win = V(0), NO_OPT,
	       .len = V(0), .sport = V(CLOSED_PORT), .dport = V(SC_PEER_PORT), .ttl = V(64), .df = V(1),
	       .ip_id = V(0), .tos = V(0));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpOutRsts", 1);
	CHECK_MIB(sc, "TcpInSegs", 1);
	CHECK_MIB(sc, "TcpOutSegs", 1);
	CHECK_MIB(sc, "TcpInErrs", 0);
	CHECK_TRACE(sc, "tcp_send_reset", NULL);
	SC_FREE(sc);
}

TEST(closed_syn_gets_rst_ack) { rst_ack_for(F_SYN, 0, 1); }
TEST(closed_syn_with_data_gets_rst_ack) { rst_ack_for(F_SYN, 10, 11); }
TEST(closed_syn_fin_with_data_gets_rst_ack) { rst_ack_for(F_SYN | F_FIN, 5, 7); }
TEST(closed_fin_gets_rst_ack) { rst_ack_for(F_FIN, 0, 1); }
TEST(closed_fin_with_data_gets_rst_ack) { rst_ack_for(F_FIN | F_PSH, 3, 4); }
TEST(closed_data_without_flags_gets_rst_ack) { rst_ack_for(0, 4, 4); }
TEST(closed_bare_segment_gets_rst_ack) { rst_ack_for(0, 0, 0); }

/* With ACK set: a RST whose seq is that ACK number, no ACK flag. */
static void rst_for_ack(uint8_t flags, size_t len)
{
	struct sc *sc = sc_new(NULL);

	inject(sc, CLOSED_PORT, flags, 1000, 0xdeadbeef, len);
	EXPECT(sc, .flags = F_RST, .seq = V(0xdeadbeef), .ack = V(0), .win = V(0), NO_OPT, .len = V(0),
	       .df = V(1), .ip_id = V(0));
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpOutRsts", 1);
	SC_FREE(sc);
}

TEST(closed_ack_gets_rst) { rst_for_ack(F_ACK, 0); }
TEST(closed_ack_with_data_gets_rst) { rst_for_ack(F_ACK | F_PSH, 20); }
TEST(closed_synack_gets_rst) { rst_for_ack(F_SYN | F_ACK, 0); }
TEST(closed_fin_ack_gets_rst) { rst_for_ack(F_FIN | F_ACK, 0); }

static void nothing_for(uint8_t flags)
{
	struct sc *sc = sc_new(NULL);

	inject(sc, CLOSED_PORT, flags, 1000, 5000, 0);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	SC_FREE(sc);
}

TEST(closed_rst_gets_nothing) { nothing_for(F_RST); }
TEST(closed_rst_ack_gets_nothing) { nothing_for(F_RST | F_ACK); }
TEST(closed_syn_rst_gets_nothing) { nothing_for(F_SYN | F_RST); }

/* The TOS is mirrored with the ECN bits cleared. */
TEST(closed_rst_mirrors_tos_without_ecn)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = CLOSED_PORT, .flags = F_SYN, .seq = 1, .tos = 0x2b };

	sc_inject(sc, &s);
	EXPECT(sc, .flags = F_RST | F_ACK, .ack = V(2), .tos = V(0x28));
	SC_FREE(sc);
}

/* A segment to a foreign address is not ours to answer. */
TEST(closed_other_address_gets_nothing)
{
	struct sc *sc = sc_new(NULL);
	struct sc_seg s = { .sport = SC_PEER_PORT, .dport = CLOSED_PORT, .flags = F_SYN, .seq = 1,
			    .daddr = V(sc_addr("192.0.2.77")) };

	sc_inject(sc, &s);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	SC_FREE(sc);
}

/* --------------------------------------------------------- listener */

TEST(listen_ack_gets_rst)
{
	struct sc *sc = sc_new(NULL);

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	inject(sc, SC_SERVER_PORT, F_ACK, 1000, 777777, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(777777), .ack = V(0), .win = V(0), NO_OPT, .sport = V(SC_SERVER_PORT));
	CHECK_MIB(sc, "TcpOutRsts", 1);
	SC_FREE(sc);
}

TEST(listen_ack_with_data_gets_rst)
{
	struct sc *sc = sc_new(NULL);

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	inject(sc, SC_SERVER_PORT, F_ACK | F_PSH, 1000, 4242, 10);
	EXPECT(sc, .flags = F_RST, .seq = V(4242), .ack = V(0));
	SC_FREE(sc);
}

TEST(listen_synack_gets_rst)
{
	struct sc *sc = sc_new(NULL);

	REQUIRE(sc_listen(sc, SC_SERVER_PORT, 16) >= 0);
	inject(sc, SC_SERVER_PORT, F_SYN | F_ACK, 1000, 31337, 0);
	EXPECT(sc, .flags = F_RST, .seq = V(31337), .ack = V(0));
	SC_FREE(sc);
}

static void listen_drops(uint8_t flags, size_t len)
{
	struct sc *sc = sc_new(NULL);
	int l = sc_listen(sc, SC_SERVER_PORT, 16);

	if (l < 0) {
		test_failed_checks++;
		sc_free(sc);
		return;
	}
	inject(sc, SC_SERVER_PORT, flags, 1000, 0, len);
	EXPECT_NONE(sc);
	CHECK_MIB(sc, "TcpOutRsts", 0);
	CHECK_EQ(synack_accept(sc->st, l, NULL), -EAGAIN);
	SC_FREE(sc);
}

TEST(listen_rst_dropped) { listen_drops(F_RST, 0); }
TEST(listen_syn_fin_dropped) { listen_drops(F_SYN | F_FIN, 0); }
TEST(listen_syn_rst_dropped) { listen_drops(F_SYN | F_RST, 0); }
TEST(listen_fin_dropped) { listen_drops(F_FIN, 0); }
TEST(listen_data_without_flags_dropped) { listen_drops(F_PSH, 6); }

int main(void)
{
	RUN(closed_syn_gets_rst_ack);
	RUN(closed_syn_with_data_gets_rst_ack);
	RUN(closed_syn_fin_with_data_gets_rst_ack);
	RUN(closed_fin_gets_rst_ack);
	RUN(closed_fin_with_data_gets_rst_ack);
	RUN(closed_data_without_flags_gets_rst_ack);
	RUN(closed_bare_segment_gets_rst_ack);
	RUN(closed_ack_gets_rst);
	RUN(closed_ack_with_data_gets_rst);
	RUN(closed_synack_gets_rst);
	RUN(closed_fin_ack_gets_rst);
	RUN(closed_rst_gets_nothing);
	RUN(closed_rst_ack_gets_nothing);
	RUN(closed_syn_rst_gets_nothing);
	RUN(closed_rst_mirrors_tos_without_ecn);
	RUN(closed_other_address_gets_nothing);
	RUN(listen_ack_gets_rst);
	RUN(listen_ack_with_data_gets_rst);
	RUN(listen_synack_gets_rst);
	RUN(listen_rst_dropped);
	RUN(listen_syn_fin_dropped);
	RUN(listen_syn_rst_dropped);
	RUN(listen_fin_dropped);
	RUN(listen_data_without_flags_dropped);
	return TEST_SUMMARY();
}
