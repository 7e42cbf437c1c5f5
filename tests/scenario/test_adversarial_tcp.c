/* Malformed and hostile TCP from the peer.
 *
 * 1. Every flag combination in every state: a table of 18 flag sets
 *    (none, each flag, SYN+FIN, SYN+RST, all, ...) sent at the exact
 *    sequence number with an acceptable ACK into LISTEN, SYN_SENT, SYN_RECV,
 *    ESTABLISHED, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING and
 *    TIME_WAIT. Each row gives what Linux answers (tcp_rcv_state_process,
 *    tcp_rcv_synsent_state_process, tcp_check_req, tcp_validate_incoming,
 *    tcp_timewait_state_process, tcp_v4_send_reset) and the state after,
 *    and both are checked: the reply's flags, seq and ack on the wire, then
 *    the socket's state, or for a request sock and a TIME-WAIT minisock a
 *    probe on the wire that shows whether it is still there.
 * 2. Malformed headers and options on established and half-open
 *    connections (test_bad_input.c covers them on listeners): data offsets,
 *    checksums, option lengths 0 and 1, options past the header, a window
 *    scale above 14, MSS 0, SACK blocks outside the window, an urgent
 *    pointer beyond the data. */
#include "data_helpers.h"
#include "introspect.h"

/* ---------------------------------------------------------------- rows */

enum st {
	S_LISTEN, S_SYN_SENT, S_SYN_RECV, S_ESTAB, S_FIN_WAIT1, S_FIN_WAIT2, S_CLOSE_WAIT, S_LAST_ACK, S_CLOSING,
	S_TIME_WAIT, S_NSTATES
};
static const char *const st_names[S_NSTATES] = { "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1",
						 "FIN_WAIT2", "CLOSE_WAIT", "LAST_ACK", "CLOSING", "TIME_WAIT" };

#define F_ALL 0xff
#define F_ALL_BUT_ACK (0xff & ~F_ACK)
#define F_XMAS (F_FIN | F_PSH | F_URG)

static const uint8_t flag_sets[] = {
	0, F_FIN, F_SYN, F_RST, F_PSH, F_URG, F_ACK, F_ECE | F_CWR, F_SYN | F_FIN, F_SYN | F_RST, F_SYN | F_ACK,
	F_FIN | F_ACK, F_RST | F_ACK, F_RST | F_FIN, F_XMAS, F_ALL_BUT_ACK, F_ALL, F_SYN | F_ECE | F_CWR,
};
#define NFLAGS (sizeof(flag_sets) / sizeof(flag_sets[0]))

/* What comes back. */
enum reply {
	R_NONE,
	R_CH,       /* ACK: seq snd_nxt, ack rcv_nxt (challenge or duplicate ACK) */
	R_ACK1,     /* ACK of a FIN: seq snd_nxt, ack seg.seq + 1; may be delayed */
	R_RST,      /* RST, seq = seg.ack, no ACK (the segment had ACK) */
	R_RSTACK1,  /* RST|ACK, seq 0, ack = seg.seq + 1 (a SYN without ACK) */
	R_RSTACK2,  /* RST|ACK, seq 0, ack = seg.seq + 2 (SYN+FIN without ACK) */
	R_SYNACK,   /* SYN|ACK, ack seg.seq + 1 */
	R_SYNACK_ECE,
	R_EST_ACK,  /* SYN_SENT: the third ACK, seq iss + 1, ack seg.seq + 1 */
};

/* What remains. */
enum after {
	A_SAME,     /* the state the row started in */
	A_CLOSE,    /* reset: TCP_CLOSE */
	A_CLOSE_WAIT, A_CLOSING, A_SYN_RECV, A_ESTAB, A_TW_CLOSE, /* a full socket now in that state */
	A_REQ_GONE,     /* SYN_RECV: the request sock was removed */
	A_CHILD_ESTAB,  /* SYN_RECV: a child was made, ESTABLISHED */
	A_CHILD_CW,     /* SYN_RECV: a child was made, CLOSE_WAIT */
	A_TW_GONE,      /* TIME_WAIT: the minisock was killed */
};

struct outcome {
	uint8_t reply, after;
};

#define O(r, a) { R_##r, A_##a }
#define N O(NONE, SAME)

/* Rows in flag_sets order:
 *  none  FIN  SYN  RST  PSH  URG  ACK  ECE|CWR  SYN|FIN  SYN|RST  SYN|ACK
 *  FIN|ACK  RST|ACK  RST|FIN  FIN|PSH|URG  all-but-ACK  all  SYN|ECE|CWR */
static const struct outcome table[S_NSTATES][NFLAGS] = {
	/* LISTEN: an ACK gets a RST (none for a RST), a SYN a SYN-ACK unless FIN
	 * or RST ride along; everything else is dropped. */
	[S_LISTEN] = { N, N, O(SYNACK, SAME), N, N, N, O(RST, SAME), N, N, N, O(RST, SAME), O(RST, SAME), N, N, N, N,
		       N, O(SYNACK_ECE, SAME) },
	/* SYN_SENT: only ACK-bearing segments can be acceptable; a RST with an
	 * acceptable ACK refuses, SYN+ACK establishes, a SYN without ACK is a
	 * simultaneous open (FIN ignored); the rest is dropped. */
	[S_SYN_SENT] = { N, N, O(SYNACK, SYN_RECV), N, N, N, N, N, O(SYNACK, SYN_RECV), N, O(EST_ACK, ESTAB), N,
			 O(NONE, CLOSE), N, N, N, O(NONE, CLOSE), O(SYNACK, SYN_RECV) },
	/* SYN_RECV (request sock, tcp_check_req): SYN or RST in the window
	 * kill the request (a RST answers a SYN), without ACK the rest is
	 * dropped, the ACK makes the child (which takes the FIN). */
	[S_SYN_RECV] = { N, N, O(RSTACK1, REQ_GONE), O(NONE, REQ_GONE), N, N, O(NONE, CHILD_ESTAB), N,
			 O(RSTACK2, REQ_GONE), O(NONE, REQ_GONE), O(RST, REQ_GONE), O(ACK1, CHILD_CW),
			 O(NONE, REQ_GONE), O(NONE, REQ_GONE), N, O(NONE, REQ_GONE), O(NONE, REQ_GONE),
			 O(RSTACK1, REQ_GONE) },
	/* ESTABLISHED: no ACK, RST or SYN: dropped; the exact RST resets; a SYN
	 * is challenged (RFC 5961 4.2). */
	[S_ESTAB] = { N, N, O(CH, SAME), O(NONE, CLOSE), N, N, N, N, O(CH, SAME), O(NONE, CLOSE), O(CH, SAME),
		      O(ACK1, CLOSE_WAIT), O(NONE, CLOSE), O(NONE, CLOSE), N, O(NONE, CLOSE), O(NONE, CLOSE),
		      O(CH, SAME) },
	/* FIN_WAIT1 (our FIN not acknowledged): a FIN makes it CLOSING. */
	[S_FIN_WAIT1] = { N, N, O(CH, SAME), O(NONE, CLOSE), N, N, N, N, O(CH, SAME), O(NONE, CLOSE), O(CH, SAME),
			  O(ACK1, CLOSING), O(NONE, CLOSE), O(NONE, CLOSE), N, O(NONE, CLOSE), O(NONE, CLOSE),
			  O(CH, SAME) },
	/* FIN_WAIT2: a FIN is ACKed and the socket goes to TIME-WAIT (the
	 * descriptor's socket is then CLOSE). */
	[S_FIN_WAIT2] = { N, N, O(CH, SAME), O(NONE, CLOSE), N, N, N, N, O(CH, SAME), O(NONE, CLOSE), O(CH, SAME),
			  O(ACK1, TW_CLOSE), O(NONE, CLOSE), O(NONE, CLOSE), N, O(NONE, CLOSE), O(NONE, CLOSE),
			  O(CH, SAME) },
	/* After the peer's FIN a second FIN at rcv_nxt is ignored. */
	[S_CLOSE_WAIT] = { N, N, O(CH, SAME), O(NONE, CLOSE), N, N, N, N, O(CH, SAME), O(NONE, CLOSE), O(CH, SAME), N,
			   O(NONE, CLOSE), O(NONE, CLOSE), N, O(NONE, CLOSE), O(NONE, CLOSE), O(CH, SAME) },
	[S_LAST_ACK] = { N, N, O(CH, SAME), O(NONE, CLOSE), N, N, N, N, O(CH, SAME), O(NONE, CLOSE), O(CH, SAME), N,
			 O(NONE, CLOSE), O(NONE, CLOSE), N, O(NONE, CLOSE), O(NONE, CLOSE), O(CH, SAME) },
	[S_CLOSING] = { N, N, O(CH, SAME), O(NONE, CLOSE), N, N, N, N, O(CH, SAME), O(NONE, CLOSE), O(CH, SAME), N,
			O(NONE, CLOSE), O(NONE, CLOSE), N, O(NONE, CLOSE), O(NONE, CLOSE), O(CH, SAME) },
	/* TIME_WAIT: a bare segment at rcv_nxt is silently taken, an in-window
	 * RST kills the minisock (tcp_rfc1337 0), anything carrying SYN or FIN
	 * is answered with an ACK; no reopen (the SYN is not above rcv_nxt). */
	[S_TIME_WAIT] = { N, O(CH, SAME), O(CH, SAME), O(NONE, TW_GONE), N, N, N, N, O(CH, SAME), O(NONE, TW_GONE),
			  O(CH, SAME), O(CH, SAME), O(NONE, TW_GONE), O(NONE, TW_GONE), O(CH, SAME), O(NONE, TW_GONE),
			  O(NONE, TW_GONE), O(CH, SAME) },
};

/* ------------------------------------------------------------ reaching */

struct ctx {
	struct sc *sc;
	struct sc_conn c;
	enum st state;
	uint32_t seq, ack;          /* the row's segment: exact seq, acceptable ack */
	uint32_t snd_nxt, rcv_nxt;  /* ours, for the expected replies */
	bool ts;                    /* segments carry a timestamp */
};

static void peer_send(struct ctx *x, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct sc_seg s = sc_seg_for(&x->c, flags, seq, ack);

	if (x->ts)
		sc_seg_ts(&s, x->c.peer_ts++, x->c.tsval);
	sc_inject(x->sc, &s);
}

static int tcp_state_of(struct ctx *x) { return sc_state(x->sc, x->c.fd); }

static bool fin_from_us(struct ctx *x, uint32_t seq, uint32_t ack)
{
	if (synack_shutdown(x->sc->st, x->c.fd, SHUT_WR) != 0)
		return false;
	sc_run(x->sc);
	return EXPECT(x->sc, .flags = F_FIN | F_ACK, .seq = V(seq), .ack = V(ack)) != NULL;
}

/* A fresh stack with one connection in state s. */
static bool reach(struct ctx *x, enum st s)
{
	struct sc_conn *c = &x->c;
	const struct sc_pkt *p;

	memset(x, 0, sizeof(*x));
	x->sc = sc_new(NULL);
	x->state = s;
	x->ts = true;
	switch (s) {
	case S_LISTEN:
		memset(c, 0, sizeof(*c));
		c->listener = sc_listen(x->sc, SC_SERVER_PORT, 16);
		c->fd = c->listener;
		c->lport = SC_SERVER_PORT;
		c->rport = SC_PEER_PORT;
		x->ts = false;
		x->seq = 1000;
		x->ack = 5000;
		return c->listener >= 0;
	case S_SYN_SENT:
		if (!OPEN_ACTIVE(x->sc, c, SC_REMOTE_PORT))
			return false;
		x->seq = c->irs;
		x->ack = c->iss + 1;
		x->snd_nxt = c->iss + 1;
		return true;
	case S_SYN_RECV:
		if (!OPEN_PASSIVE(x->sc, c, SC_SERVER_PORT, 16))
			return false;
		x->seq = c->irs + 1;
		x->ack = c->iss + 1;
		x->snd_nxt = c->iss + 1;
		x->rcv_nxt = c->irs + 1;
		return true;
	default:
		break;
	}
	if (!OPEN_ACTIVE(x->sc, c, SC_REMOTE_PORT) || !ESTABLISH_ACTIVE(x->sc, c))
		return false;
	x->seq = x->rcv_nxt = c->irs + 1;
	x->ack = x->snd_nxt = c->iss + 1;
	switch (s) {
	case S_ESTAB:
		return true;
	case S_FIN_WAIT1:
	case S_FIN_WAIT2:
	case S_TIME_WAIT:
	case S_CLOSING:
		if (!fin_from_us(x, c->iss + 1, c->irs + 1))
			return false;
		x->snd_nxt = c->iss + 2;
		if (s == S_FIN_WAIT1)
			return tcp_state_of(x) == TCP_FIN_WAIT1;
		if (s == S_CLOSING) {
			peer_send(x, F_FIN | F_ACK, c->irs + 1, c->iss + 1);
			x->seq = x->rcv_nxt = c->irs + 2;
			return EXPECT(x->sc, .flags = F_ACK, .seq = V(c->iss + 2), .ack = V(c->irs + 2)) &&
			       tcp_state_of(x) == TCP_CLOSING;
		}
		peer_send(x, F_ACK, c->irs + 1, c->iss + 2);
		x->ack = c->iss + 2;
		if (s == S_FIN_WAIT2)
			return tcp_state_of(x) == TCP_FIN_WAIT2;
		peer_send(x, F_FIN | F_ACK, c->irs + 1, c->iss + 2);
		x->seq = x->rcv_nxt = c->irs + 2;
		return EXPECT(x->sc, .flags = F_ACK, .seq = V(c->iss + 2), .ack = V(c->irs + 2)) &&
		       sc_trace_count(x->sc, "tcp_time_wait", NULL) == 1;
	case S_CLOSE_WAIT:
	case S_LAST_ACK:
		peer_send(x, F_FIN | F_ACK, c->irs + 1, c->iss + 1);
		sc_advance(x->sc, MS(250));
		p = EXPECT(x->sc, .flags = F_ACK, .seq = V(c->iss + 1), .ack = V(c->irs + 2));
		x->seq = x->rcv_nxt = c->irs + 2;
		if (!p || tcp_state_of(x) != TCP_CLOSE_WAIT)
			return false;
		if (s == S_CLOSE_WAIT)
			return true;
		if (!fin_from_us(x, c->iss + 1, c->irs + 2))
			return false;
		x->snd_nxt = c->iss + 2;
		return tcp_state_of(x) == TCP_LAST_ACK;
	default:
		return false;
	}
}

static int state_of(enum st s)
{
	static const int v[S_NSTATES] = { TCP_LISTEN, TCP_SYN_SENT, SC_NEW_SYN_RECV, TCP_ESTABLISHED, TCP_FIN_WAIT1,
					  TCP_FIN_WAIT2, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CLOSING, TCP_TIME_WAIT };
	return v[s];
}

/* --------------------------------------------------------------- check */

static int row_failures;

#define ROW_CHECK(cond, ...)                                                                                 \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "  %s + flags 0x%02x: ", st_names[s], flags);                        \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fprintf(stderr, "\n");                                                               \
			row_failures++;                                                                      \
		}                                                                                            \
	} while (0)

static void check_reply(struct ctx *x, enum st s, uint8_t flags, enum reply r, uint64_t t0)
{
	const struct sc_pkt *p;
	char buf[512];
	uint8_t want_flags = 0;
	uint32_t want_seq = 0, want_ack = 0;
	bool seq_known = true;

	/* A delayed ACK (R_ACK1 into CLOSE_WAIT) comes within 200 ms; every
	 * other answer comes at once. */
	if (r == R_ACK1)
		for (int i = 0; i < 200 && !sc_pending(x->sc); i++)
			sc_advance(x->sc, MS(1));
	else if (r == R_NONE) /* long enough for a delayed ACK, short of any RTO */
		sc_advance(x->sc, MS(100));
	p = sc_pop(x->sc);
	if (r == R_NONE) {
		if (p)
			sc_pkt_format(p, buf, sizeof(buf));
		ROW_CHECK(!p, "expected no reply, got %s", p ? buf : "");
		return;
	}
	if (!p) {
		ROW_CHECK(false, "expected a reply, got nothing");
		return;
	}
	switch (r) {
	case R_CH: want_flags = F_ACK; want_seq = x->snd_nxt; want_ack = x->rcv_nxt; break;
	case R_ACK1: want_flags = F_ACK; want_seq = x->snd_nxt; want_ack = x->seq + 1; break;
	case R_RST: want_flags = F_RST; want_seq = x->ack; want_ack = 0; break;
	case R_RSTACK1: want_flags = F_RST | F_ACK; want_seq = 0; want_ack = x->seq + 1; break;
	case R_RSTACK2: want_flags = F_RST | F_ACK; want_seq = 0; want_ack = x->seq + 2; break;
	case R_SYNACK: want_flags = F_SYN | F_ACK; want_ack = x->seq + 1; seq_known = s == S_SYN_SENT;
		want_seq = x->c.iss; break;
	case R_SYNACK_ECE: want_flags = F_SYN | F_ACK | F_ECE; want_ack = x->seq + 1; seq_known = false; break;
	case R_EST_ACK: want_flags = F_ACK; want_seq = x->c.iss + 1; want_ack = x->seq + 1; break;
	default: break;
	}
	sc_pkt_format(p, buf, sizeof(buf));
	ROW_CHECK(p->flags == want_flags && (!seq_known || p->seq == want_seq) && p->ack == want_ack && p->len == 0 &&
			  p->sport == x->c.lport && p->dport == x->c.rport,
		  "got %s; want flags 0x%02x seq %u ack %u", buf, want_flags, want_seq, want_ack);
	ROW_CHECK(r == R_ACK1 || p->t == t0, "answered %.3f s late", (double)(p->t - t0) / 1e9);
	if (sc_pending(x->sc)) {
		sc_pkt_format(&x->sc->pkts[x->sc->head], buf, sizeof(buf));
		ROW_CHECK(false, "a second packet: %s", buf);
		sc_drain(x->sc);
	}
}

/* Is the request sock still there? The third ACK makes a child (accepted)
 * or, without the request, gets the listener's RST. */
static int probe_request(struct ctx *x)
{
	int fd;

	sc_advance(x->sc, SEC(1));
	sc_drain(x->sc);
	peer_send(x, F_ACK, x->c.irs + 1, x->c.iss + 1);
	fd = synack_accept(x->sc->st, x->c.listener, NULL);
	if (fd >= 0)
		return sc_pending(x->sc) ? -2 : fd;
	if (sc_expect_(x->sc, &(struct sc_want){ .flags = F_RST, .seq = V(x->c.iss + 1) }, __FILE__, __LINE__))
		return -1;
	return -3;
}

/* Is the TIME-WAIT minisock still there? A bare ACK at rcv_nxt is taken
 * silently by it, and gets a RST from no socket. */
static bool probe_time_wait(struct ctx *x, bool *alive)
{
	const struct sc_pkt *p;

	sc_advance(x->sc, SEC(1));
	sc_drain(x->sc);
	peer_send(x, F_ACK, x->rcv_nxt, x->c.iss + 2);
	p = sc_pop(x->sc);
	*alive = p == NULL;
	return !p || (p->flags == F_RST && p->seq == x->c.iss + 2);
}

static void check_after(struct ctx *x, enum st s, uint8_t flags, enum after a)
{
	int got, fd;
	bool alive;

	switch (a) {
	case A_SAME:
		if (s == S_SYN_RECV) {
			fd = probe_request(x);
			ROW_CHECK(fd >= 0, "the request sock is gone (%d)", fd);
			if (fd >= 0)
				ROW_CHECK(sc_state(x->sc, fd) == TCP_ESTABLISHED, "child state %d", sc_state(x->sc, fd));
		} else if (s == S_TIME_WAIT) {
			ROW_CHECK(probe_time_wait(x, &alive) && alive, "the TIME-WAIT minisock is gone");
		} else {
			got = tcp_state_of(x);
			ROW_CHECK(got == state_of(s), "state %s, want %s", synack_tcp_state_name(got), st_names[s]);
		}
		break;
	case A_REQ_GONE:
		fd = probe_request(x);
		ROW_CHECK(fd == -1, "the request sock survived (%d)", fd);
		break;
	case A_CHILD_ESTAB:
	case A_CHILD_CW:
		fd = synack_accept(x->sc->st, x->c.listener, NULL);
		ROW_CHECK(fd >= 0, "no child to accept (%d)", fd);
		if (fd >= 0) {
			got = sc_state(x->sc, fd);
			ROW_CHECK(got == (a == A_CHILD_ESTAB ? TCP_ESTABLISHED : TCP_CLOSE_WAIT), "child state %s",
				  synack_tcp_state_name(got));
		}
		break;
	case A_TW_GONE:
		ROW_CHECK(probe_time_wait(x, &alive) && !alive, "the TIME-WAIT minisock survived");
		break;
	default: {
		static const int want[] = { [A_CLOSE] = TCP_CLOSE, [A_CLOSE_WAIT] = TCP_CLOSE_WAIT,
					    [A_CLOSING] = TCP_CLOSING, [A_SYN_RECV] = TCP_SYN_RECV,
					    [A_ESTAB] = TCP_ESTABLISHED, [A_TW_CLOSE] = TCP_CLOSE };
		got = tcp_state_of(x);
		ROW_CHECK(got == want[a], "state %s, want %s", synack_tcp_state_name(got),
			  synack_tcp_state_name(want[a]));
		if (a == A_TW_CLOSE)
			ROW_CHECK(sc_trace_count(x->sc, "tcp_time_wait", "TIME_WAIT") >= 1, "no TIME-WAIT minisock");
		break;
	}
	}
}

static void run_state(enum st s)
{
	int before = row_failures;

	for (size_t i = 0; i < NFLAGS; i++) {
		uint8_t flags = flag_sets[i];
		const struct outcome *o = &table[s][i];
		struct ctx x;
		uint64_t t0, challenges;
		bool ok = reach(&x, s);

		ROW_CHECK(ok, "could not reach the state");
		if (ok) {
			sc_trace_clear(x.sc);
			challenges = sc_mib(x.sc, "TcpExtTCPChallengeACK");
			t0 = sc_now(x.sc);
			peer_send(&x, flags, x.seq, flags & F_ACK ? x.ack : 0);
			check_reply(&x, s, flags, (enum reply)o->reply, t0);
			/* A challenge ACK is counted as one (RFC 5961); nothing else is. */
			if (s != S_TIME_WAIT && s != S_SYN_RECV)
				ROW_CHECK(sc_mib(x.sc, "TcpExtTCPChallengeACK") - challenges == (o->reply == R_CH),
					  "TCPChallengeACK moved by %llu",
					  (unsigned long long)(sc_mib(x.sc, "TcpExtTCPChallengeACK") - challenges));
			check_after(&x, s, flags, (enum after)o->after);
		}
		if (sc_free(x.sc))
			ROW_CHECK(false, "the harness saw a bad frame");
	}
	if (row_failures != before)
		test_failed_checks++;
}

TEST(listen_every_flag_combination) { run_state(S_LISTEN); }
TEST(syn_sent_every_flag_combination) { run_state(S_SYN_SENT); }
TEST(syn_recv_every_flag_combination) { run_state(S_SYN_RECV); }
TEST(established_every_flag_combination) { run_state(S_ESTAB); }
TEST(fin_wait1_every_flag_combination) { run_state(S_FIN_WAIT1); }
TEST(fin_wait2_every_flag_combination) { run_state(S_FIN_WAIT2); }
TEST(close_wait_every_flag_combination) { run_state(S_CLOSE_WAIT); }
TEST(last_ack_every_flag_combination) { run_state(S_LAST_ACK); }
TEST(closing_every_flag_combination) { run_state(S_CLOSING); }
TEST(time_wait_every_flag_combination) { run_state(S_TIME_WAIT); }

/* ------------------------------------------------ malformed on a connection */

static bool established(struct sc *sc, struct sc_conn *c)
{
	return OPEN_ACTIVE(sc, c, SC_REMOTE_PORT) && ESTABLISH_ACTIVE(sc, c);
}

/* A fresh stack with one connection established, for helpers that cannot
 * REQUIRE; NULL, the failure counted, if the handshake went wrong. */
static struct sc *new_established(struct sc_conn *c)
{
	struct sc *sc = sc_new(NULL);

	if (established(sc, c))
		return sc;
	test_failed_checks++;
	sc_free(sc);
	return NULL;
}

/* The connection still takes data in order and ACKs it with TSecr = the
 * peer's last valid TSval. */
static void still_takes_data(struct sc *sc, struct sc_conn *c, uint32_t seq, int line)
{
	struct sc_seg s = sc_seg_for(c, F_ACK | F_PSH, seq, c->iss + 1);
	uint8_t buf[16];

	sc_seg_ts(&s, c->peer_ts, c->tsval);
	s.data = "ok";
	s.len = 2;
	sc_inject(sc, &s);
	sc_advance(sc, MS(300));
	if (!sc_expect_(sc, &(struct sc_want){ .flags = F_ACK, .ack = V(seq + 2), .tsecr = V(c->peer_ts) }, __FILE__,
			line))
		test_failed_checks++;
	c->peer_ts++;
	if (synack_recv(sc->st, c->fd, buf, sizeof(buf), 0) < 2) {
		fprintf(stderr, "%s:%d: the data was not readable\n", __FILE__, line);
		test_failed_checks++;
	}
}
#define STILL_TAKES_DATA(sc, c, seq) still_takes_data((sc), (c), (seq), __LINE__)

static void estab_dropped(struct sc_seg *s, const char *ctr, int line)
{
	struct sc_conn c;
	struct sc *sc = new_established(&c);
	struct sc_usage u;

	if (!sc)
		return;
	s->sport = c.rport;
	s->dport = c.lport;
	s->seq = c.irs + 1;
	s->ack = c.iss + 1;
	sc_inject(sc, s);
	sc_advance(sc, MS(300));
	if (!sc_none_(sc, __FILE__, line))
		test_failed_checks++;
	if (sc_mib(sc, ctr) != 1) {
		fprintf(stderr, "%s:%d: %s is %llu\n", __FILE__, line, ctr, (unsigned long long)sc_mib(sc, ctr));
		test_failed_checks++;
	}
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	sc_usage(sc->st, &u);
	CHECK_EQ(u.live_skbs, 0);
	STILL_TAKES_DATA(sc, &c, c.irs + 1);
	SC_FREE(sc);
}

/* An RST, a SYN or data, each with a data offset below 5 or past the
 * segment, or a bad checksum: dropped before the socket sees it. */
TEST(estab_bad_data_offset_or_checksum_dropped)
{
	static const uint8_t flags[3] = { F_RST | F_ACK, F_SYN, F_ACK | F_PSH };

	for (int i = 0; i < 3; i++) {
		struct sc_seg s = { .flags = flags[i], .win = 100, .data = "xxxx", .len = 4 };

		s.doff = (struct sc_u32)V(4);
		estab_dropped(&s, "TcpInErrs", __LINE__);
		s.doff = (struct sc_u32)V(6); /* 24 bytes of header in a 22-byte segment */
		s.len = 2;
		estab_dropped(&s, "TcpInErrs", __LINE__);
		s.doff = (struct sc_u32)V(15);
		s.len = 4;
		estab_dropped(&s, "TcpInErrs", __LINE__);
		memset(&s.doff, 0, sizeof(s.doff));
		s.bad_csum = true;
		estab_dropped(&s, "TcpInCsumErrors", __LINE__);
	}
}

/* Data whose option list is malformed: the options after the fault are
 * not parsed (Linux's tcp_parse_options), so the TS is not taken, but the
 * segment is: its data is ACKed, echoing the last valid TSval. */
static void estab_bad_options_data(const uint8_t *opt, size_t n, int line)
{
	struct sc_conn c;
	struct sc *sc = new_established(&c);
	struct sc_seg s;
	uint8_t buf[16];

	if (!sc)
		return;
	s = sc_seg_for(&c, F_ACK | F_PSH, c.irs + 1, c.iss + 1);
	memcpy(s.opt, opt, n);
	s.optlen = n;
	s.has_opt = true;
	s.data = "abc";
	s.len = 3;
	sc_inject(sc, &s);
	sc_advance(sc, MS(300));
	if (!sc_expect_(sc, &(struct sc_want){ .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 4),
					       .tsecr = V(c.peer_ts - 1) },
			__FILE__, line))
		test_failed_checks++;
	EXPECT_NONE(sc);
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 3);
	STILL_TAKES_DATA(sc, &c, c.irs + 4);
	SC_FREE(sc);
}

TEST(estab_option_length_0_ends_parsing)
{
	const uint8_t o[] = { 1, 1, 5, 0, O_TS(0x7fffffff, 0) };
	estab_bad_options_data(o, sizeof(o), __LINE__);
}
TEST(estab_option_length_1_ends_parsing)
{
	const uint8_t o[] = { 1, 1, 99, 1, O_TS(0x7fffffff, 0) };
	estab_bad_options_data(o, sizeof(o), __LINE__);
}
/* A TS option that runs past the header is not read. */
TEST(estab_ts_option_past_header_ignored)
{
	const uint8_t o[] = { 1, 1, 1, 1, 8, 10, 0x7f, 0xff, 0xff, 0xff, 0, 0 };
	estab_bad_options_data(o, sizeof(o), __LINE__);
}
/* Truncated TS (length 6 or 9) and a kind without its length byte. */
TEST(estab_ts_option_wrong_size_ignored)
{
	const uint8_t a[] = { 1, 1, 8, 6, 0x7f, 0xff, 0xff, 0xff };
	const uint8_t b[] = { 8, 9, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1, 1, 1 };
	const uint8_t d[] = { 1, 1, 1, 8 };
	estab_bad_options_data(a, sizeof(a), __LINE__);
	estab_bad_options_data(b, sizeof(b), __LINE__);
	estab_bad_options_data(d, sizeof(d), __LINE__);
}
/* MSS, window scale and SACK-permitted outside a SYN do nothing. */
TEST(estab_handshake_options_ignored)
{
	const uint8_t o[] = { O_MSS(100), O_NOP, O_WS(14), O_SACKOK, O_NOP, O_NOP, O_TS(0x7fffffff, 0) };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	struct synack_tcp_info ti;

	REQUIRE(established(sc, &c));
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	memcpy(s.opt, o, sizeof(o));
	s.optlen = sizeof(o);
	s.has_opt = true;
	s.win = 30; /* 3840 bytes; with a new scale of 14 it would be 480 KiB */
	sc_inject(sc, &s);
	c.peer_ts = 0x7fffffff + 1u;
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_snd_mss, 1448);
	CHECK_EQ(ti.tcpi_snd_wscale, SC_PEER_WS);
	/* The window is 30 << 7: two full segments of four go out. */
	fill_payload();
	app_send(sc, &c, 0, 4 * SEG);
	CHECK(EXPECT_DATA(sc, &c, 0, SEG, .flags = F_ACK) != NULL);
	CHECK(EXPECT_DATA(sc, &c, SEG, SEG, .flags = F_ACK) != NULL);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* A SYN-ACK for our SYN with the given options after MSS: what was
 * negotiated shows in TCP_INFO. */
static struct synack_tcp_info synack_with(struct sc *sc, struct sc_conn *c, const uint8_t *opt, size_t n,
					  uint16_t win)
{
	struct sc_seg s = sc_seg_for(c, F_SYN | F_ACK, c->irs, c->iss + 1);

	memcpy(s.opt, opt, n);
	s.optlen = n;
	s.has_opt = true;
	s.win = win;
	sc_inject(sc, &s);
	return tcp_info(sc, c->fd);
}

/* RFC 7323 2.3: a shift above 14 is used as 14 (Linux logs it and clamps). */
TEST(syn_sent_synack_wscale_15_clamped_to_14)
{
	const uint8_t o[] = { O_MSS(1460), O_NOP, O_WS(15) };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct synack_tcp_info ti;
	struct sc_seg s;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	ti = synack_with(sc, &c, o, sizeof(o), 65535);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_EQ(ti.tcpi_snd_wscale, 14);
	CHECK_EQ(ti.tcpi_rcv_wscale, 10);
	CHECK(ti.tcpi_options & SYNACK_TCPI_OPT_WSCALE);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), NO_OPT);
	/* A raw window of 1 is 16384 bytes: 11 full segments fit, cwnd sends 10. */
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	s.win = 1;
	sc_inject(sc, &s);
	fill_payload();
	CHECK_EQ(synack_send(sc->st, c.fd, payload, 20 * 1460, 0), 20 * 1460);
	sc_run(sc);
	for (int i = 0; i < 10; i++)
		CHECK(EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1 + (uint32_t)i * 1460), .len = V(1460)) != NULL);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* A window-scale option cut off at the end of the header, and a
 * SACK-permitted of the wrong size: neither is negotiated. */
TEST(syn_sent_synack_truncated_ws_and_bad_sackok_not_negotiated)
{
	const uint8_t o[] = { O_MSS(1460), 4, 3, 0, 1, 1, 1, 3, 3 };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct synack_tcp_info ti;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	ti = synack_with(sc, &c, o, sizeof(o), 65535);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_EQ(ti.tcpi_options & (SYNACK_TCPI_OPT_WSCALE | SYNACK_TCPI_OPT_SACK | SYNACK_TCPI_OPT_TIMESTAMPS), 0);
	CHECK_EQ(ti.tcpi_snd_wscale, 0);
	CHECK_EQ(ti.tcpi_rcv_wscale, 0);
	/* Without scaling our ACK offers the unscaled window. */
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1), .win = V(64240), NO_OPT);
	SC_FREE(sc);
}

/* MSS 0 means no MSS: the default 536 applies (Linux: mss_clamp starts at
 * TCP_MSS_DEFAULT for an active open). */
TEST(syn_sent_synack_mss_0_uses_536)
{
	const uint8_t o[] = { O_MSS(0) };
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct synack_tcp_info ti;

	REQUIRE(OPEN_ACTIVE(sc, &c, SC_REMOTE_PORT));
	ti = synack_with(sc, &c, o, sizeof(o), 65535);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	CHECK_EQ(ti.tcpi_snd_mss, 536);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1));
	fill_payload();
	CHECK_EQ(synack_send(sc->st, c.fd, payload, 1000, 0), 1000);
	sc_run(sc);
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .len = V(536));
	EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(c.iss + 537), .len = V(464));
	SC_FREE(sc);
}

/* SACK blocks that do not describe data in flight - above snd_nxt, below
 * snd_una (not a D-SACK), empty or reversed - are discarded one by one
 * (TcpExtTCPSACKDiscard); they mark nothing, so no retransmission starts. */
TEST(estab_sack_blocks_outside_window_discarded)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	const uint32_t above[3][2] = { { 3 * SEG, 4 * SEG }, { 100000, 200000 }, { 0x80000000u, 0x80001000u } };
	/* Reversed, below snd_una, empty (the first is no D-SACK: not below
	 * the ACK, not inside the second block). */
	const uint32_t odd[3][2] = { { 2 * SEG + 100, 2 * SEG }, { 0u - 5000, 0u - 1000 }, { SEG, SEG } };
	struct synack_tcp_info ti;

	fill_payload();
	REQUIRE(established(sc, &c));
	app_send(sc, &c, 0, 3 * SEG);
	for (int i = 0; i < 3; i++)
		CHECK(EXPECT_DATA(sc, &c, (uint32_t)i * SEG, SEG, .flags = F_ACK | (i == 2 ? F_PSH : 0)) != NULL);
	peer_ack_sack(sc, &c, 0, c.tsval, 3, above);
	peer_ack_sack(sc, &c, 0, c.tsval, 3, above);
	peer_ack_sack(sc, &c, 0, c.tsval, 3, odd);
	CHECK_MIB(sc, "TcpExtTCPSACKDiscard", 9);
	CHECK_MIB(sc, "TcpExtTCPDSACKRecv", 0);
	CHECK_MIB(sc, "TcpExtTCPDSACKOfoRecv", 0);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_sacked, 0);
	CHECK_EQ(ti.tcpi_lost, 0);
	CHECK_EQ(ti.tcpi_ca_state, 0);
	EXPECT_NONE(sc); /* no fast retransmission (the loss probe comes later, at 2 ms) */
	/* A cumulative ACK still works. */
	peer_ack(sc, &c, 3 * SEG, c.tsval);
	CHECK_EQ(tcp_info(sc, c.fd).tcpi_unacked, 0);
	SC_FREE(sc);
}

/* SACK options of a wrong length or running past the header are not read. */
TEST(estab_sack_option_malformed_ignored)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	static const uint8_t bad[][12] = {
		{ 5, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1 },     /* 2 + 7 */
		{ 1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0 },    /* past the header */
		{ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 2 },     /* no blocks */
	};
	struct synack_tcp_info ti;

	fill_payload();
	REQUIRE(established(sc, &c));
	app_send(sc, &c, 0, 3 * SEG);
	sc_drain(sc);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
		memcpy(s.opt, bad[i], 12);
		s.optlen = 12;
		s.has_opt = true;
		sc_inject(sc, &s);
	}
	CHECK_MIB(sc, "TcpExtTCPSACKDiscard", 0);
	ti = tcp_info(sc, c.fd);
	CHECK_EQ(ti.tcpi_sacked, 0);
	CHECK_EQ(ti.tcpi_ca_state, 0);
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* URG with an urgent pointer far beyond the data: the segment's bytes are
 * ordinary data (the urgent byte, if any, is in a later segment) and are
 * ACKed and readable; nothing else changes. */
TEST(estab_urgent_pointer_beyond_data_accepted)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	char buf[32];

	REQUIRE(established(sc, &c));
	s = sc_seg_for(&c, F_ACK | F_PSH | F_URG, c.irs + 1, c.iss + 1);
	sc_seg_ts(&s, c.peer_ts++, c.tsval);
	s.urg = 60000;
	s.data = "0123456789";
	s.len = 10;
	sc_inject(sc, &s);
	sc_advance(sc, MS(300));
	EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 11));
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 10);
	CHECK_MEM(buf, "0123456789", 10);
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	STILL_TAKES_DATA(sc, &c, c.irs + 11);
	SC_FREE(sc);
}

/* Out-of-order data makes us SACK [irs+1001, irs+1011) and [irs+2001,
 * irs+2011). Linux's tcp_validate_incoming also accepts a RST at the right
 * edge of the highest SACK block; one at a lower block's edge is only
 * challenged. */
static void rst_at_sack_edge(uint32_t rst_off, bool resets)
{
	struct sc_conn c;
	struct sc *sc = new_established(&c);
	struct sc_seg s;

	if (!sc)
		return;
	for (int i = 0; i < 2; i++) {
		s = sc_seg_for(&c, F_ACK, c.irs + 1001 + 1000 * (uint32_t)i, c.iss + 1);
		sc_seg_ts(&s, c.peer_ts++, c.tsval);
		s.data = "0123456789";
		s.len = 10;
		sc_inject(sc, &s);
		CHECK(EXPECT(sc, .flags = F_ACK, .ack = V(c.irs + 1)) != NULL); /* with SACK blocks */
	}
	s = sc_seg_for(&c, F_RST, c.irs + 1 + rst_off, 0);
	sc_inject(sc, &s);
	if (resets) {
		EXPECT_NONE(sc);
		CHECK_STATE(sc, c.fd, TCP_CLOSE);
		CHECK_EQ(sc_so_error(sc, c.fd), ECONNRESET);
		CHECK_MIB(sc, "TcpEstabResets", 1);
	} else {
		CHECK(EXPECT(sc, .flags = F_ACK, .seq = V(c.iss + 1), .ack = V(c.irs + 1)) != NULL);
		CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
		CHECK_MIB(sc, "TcpExtTCPChallengeACK", 1);
	}
	SC_FREE(sc);
}

TEST(estab_rst_at_highest_sack_edge_resets) { rst_at_sack_edge(2010, true); }
TEST(estab_rst_at_lower_sack_edge_challenge_ack) { rst_at_sack_edge(1010, false); }
TEST(estab_rst_inside_sack_block_challenge_ack) { rst_at_sack_edge(2005, false); }

/* After the peer's FIN (CLOSE_WAIT) a RST at rcv_nxt - 1 resets
 * (tcp_reset_check); in ESTABLISHED the same offset is only challenged. */
TEST(close_wait_rst_at_rcv_nxt_minus_1_resets)
{
	struct ctx x;

	REQUIRE(reach(&x, S_CLOSE_WAIT));
	peer_send(&x, F_RST, x.rcv_nxt - 1, 0);
	EXPECT_NONE(x.sc);
	CHECK_EQ(tcp_state_of(&x), TCP_CLOSE);
	CHECK_EQ(sc_so_error(x.sc, x.c.fd), EPIPE);
	CHECK_EQ(sc_free(x.sc), 0);
	REQUIRE(reach(&x, S_ESTAB));
	sc_advance(x.sc, SEC(1));
	peer_send(&x, F_RST, x.rcv_nxt - 1, 0);
	EXPECT_NONE(x.sc); /* below the window: dropped without a word */
	CHECK_EQ(tcp_state_of(&x), TCP_ESTABLISHED);
	CHECK_EQ(sc_free(x.sc), 0);
}

/* A D-SACK reports one duplicate once (Linux clears it once written): an
 * ACK sent later for another reason - here a keepalive probe from the peer
 * - carries no SACK block. Found by the soak: the block was repeated on
 * every ACK until new data came. */
TEST(estab_dsack_reported_once)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	uint32_t s1;
	char buf[8];

	REQUIRE(established(sc, &c));
	s1 = c.irs + 1;
	for (int i = 0; i < 2; i++) {
		s = sc_seg_for(&c, F_ACK | F_PSH, s1, c.iss + 1);
		sc_seg_ts(&s, c.peer_ts++, c.tsval);
		s.data = "abcd";
		s.len = 4;
		sc_inject(sc, &s);
		sc_advance(sc, MS(300));
	}
	EXPECT(sc, .flags = F_ACK, .ack = V(s1 + 4), OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 2)));
	EXPECT(sc, .flags = F_ACK, .ack = V(s1 + 4),
	       OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 1), O_NOP, O_NOP, 5, 10, B4(s1), B4(s1 + 4)));
	CHECK_EQ(synack_recv(sc->st, c.fd, buf, sizeof(buf), 0), 4);
	s = sc_seg_for(&c, F_ACK, s1 + 3, c.iss + 1); /* a keepalive probe: rcv_nxt - 1 */
	sc_seg_ts(&s, c.peer_ts++, c.tsval);
	sc_inject(sc, &s);
	/* (The probe is outside the window: its TSval is not taken.) */
	EXPECT(sc, .flags = F_ACK, .ack = V(s1 + 4), OPT(O_NOP, O_NOP, O_TS(0, c.peer_ts - 2)));
	EXPECT_NONE(sc);
	SC_FREE(sc);
}

/* The peer's window (128 bytes: raw 1, scale 7) is smaller than a segment.
 * Sender SWS avoidance holds the full segments; the persist timer then sends
 * what fits, as Linux's tcp_write_wakeup does, and again after each ACK
 * that leaves the window small. Found by the soak: the probe timer sent
 * only zero-window probes and the connection crawled forever. */
TEST(estab_window_below_one_segment_gets_what_fits)
{
	struct sc *sc = sc_new(NULL);
	struct sc_conn c;
	struct sc_seg s;
	const struct sc_pkt *p;
	uint32_t next;

	fill_payload();
	REQUIRE(established(sc, &c));
	s = sc_seg_for(&c, F_ACK, c.irs + 1, c.iss + 1);
	s.win = 1;
	sc_seg_ts(&s, c.peer_ts++, c.tsval);
	sc_inject(sc, &s);
	app_send(sc, &c, 0, 4000);
	EXPECT_NONE(sc); /* no full segment fits */
	next = c.iss + 1;
	for (int round = 0; round < 3; round++) {
		for (int ms = 0; ms < 2000 && !sc_pending(sc); ms++)
			sc_advance(sc, MS(1));
		p = EXPECT(sc, .flags = F_ACK | F_PSH, .seq = V(next), .len = V(128), .data = payload + (next - c.iss - 1));
		if (!p)
			break;
		next += 128;
		EXPECT_NONE(sc);
		s = sc_seg_for(&c, F_ACK, c.irs + 1, next);
		s.win = 1;
		sc_seg_ts(&s, c.peer_ts++, p->tsval);
		sc_inject(sc, &s);
		EXPECT_NONE(sc);
	}
	CHECK_STATE(sc, c.fd, TCP_ESTABLISHED);
	SC_FREE(sc);
}

int main(void)
{
	RUN(listen_every_flag_combination);
	RUN(syn_sent_every_flag_combination);
	RUN(syn_recv_every_flag_combination);
	RUN(established_every_flag_combination);
	RUN(fin_wait1_every_flag_combination);
	RUN(fin_wait2_every_flag_combination);
	RUN(close_wait_every_flag_combination);
	RUN(last_ack_every_flag_combination);
	RUN(closing_every_flag_combination);
	RUN(time_wait_every_flag_combination);
	RUN(estab_bad_data_offset_or_checksum_dropped);
	RUN(estab_option_length_0_ends_parsing);
	RUN(estab_option_length_1_ends_parsing);
	RUN(estab_ts_option_past_header_ignored);
	RUN(estab_ts_option_wrong_size_ignored);
	RUN(estab_handshake_options_ignored);
	RUN(syn_sent_synack_wscale_15_clamped_to_14);
	RUN(syn_sent_synack_truncated_ws_and_bad_sackok_not_negotiated);
	RUN(syn_sent_synack_mss_0_uses_536);
	RUN(estab_sack_blocks_outside_window_discarded);
	RUN(estab_sack_option_malformed_ignored);
	RUN(estab_urgent_pointer_beyond_data_accepted);
	RUN(estab_rst_at_highest_sack_edge_resets);
	RUN(estab_rst_at_lower_sack_edge_challenge_ack);
	RUN(estab_rst_inside_sack_block_challenge_ack);
	RUN(close_wait_rst_at_rcv_nxt_minus_1_resets);
	RUN(estab_dsack_reported_once);
	RUN(estab_window_below_one_segment_gets_what_fits);
	return TEST_SUMMARY();
}
