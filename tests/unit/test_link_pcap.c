/* The pcap wrapper: every frame through it is recorded, byte-exact. */
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>
#include "synack/synack.h"
#include "link/pcap.h"
#include "../test.h"

#define MS 1000000ULL

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool host_is_little_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 1;
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static int temp_path(char *path, size_t cap)
{
	int fd;

	snprintf(path, cap, "/tmp/synack_pcap_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

/* The record we expect: header (LE on this host) then the bytes. */
static size_t expect_record(uint8_t *out, uint64_t ts_ns, const uint8_t *frame, uint32_t len)
{
	put_le32(out, (uint32_t)(ts_ns / 1000000000ULL));
	put_le32(out + 4, (uint32_t)(ts_ns % 1000000000ULL / 1000));
	put_le32(out + 8, len);
	put_le32(out + 12, len);
	memcpy(out + 16, frame, len);
	return 16 + len;
}

static const uint8_t global_header[24] = {
	0xd4, 0xc3, 0xb2, 0xa1,  /* magic, microsecond timestamps */
	0x02, 0x00, 0x04, 0x00,  /* version 2.4 */
	0x00, 0x00, 0x00, 0x00,  /* thiszone */
	0x00, 0x00, 0x00, 0x00,  /* sigfigs */
	0x00, 0x00, 0x04, 0x00,  /* snaplen 262144 */
	0x01, 0x00, 0x00, 0x00,  /* LINKTYPE_ETHERNET */
};

/* Runs tshark over the file when it is installed: it must read every frame. */
static void check_with_tshark(const char *path, const char *want_lens)
{
	char cmd[256], out[256] = { 0 };
	FILE *p;
	size_t n;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		printf("note: tshark not installed, skipping its check\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e frame.len 2>/dev/null", path);
	p = popen(cmd, "r");
	REQUIRE(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	CHECK_EQ(pclose(p), 0);
	CHECK_STR(out, want_lens);
}

TEST(records_every_frame)
{
	struct synack_sim_config cfg = { .delay_ns = 1 * MS };
	struct synack_clock *clk = synack_clock_new_virtual(1234567891234ULL);
	struct synack_sim_wire *w = NULL;
	struct synack_link *p = NULL, *b;
	uint8_t f1[60], f2[100], buf[2000], want[2000], got[4000];
	char path[64];
	size_t wn = 0, gn;
	long size_before_close;

	REQUIRE(host_is_little_endian());
	REQUIRE(temp_path(path, sizeof(path)) == 0);
	REQUIRE(clk && synack_sim_wire_new(clk, &cfg, &w) == 0);
	b = synack_sim_wire_end(w, 1);
	REQUIRE(synack_pcap_wrap(synack_sim_wire_end(w, 0), clk, path, &p) == 0);
	CHECK_STR(p->ops->kind, "pcap");
	CHECK_EQ(p->mtu, 1500);
	CHECK_EQ(p->mac[5], 1);
	CHECK_EQ(p->ops->wait_fd(p), -1);
	CHECK_EQ(file_size(path), 24);

	make_frame(f1, sizeof(f1), 1);
	make_frame(f2, sizeof(f2), 50);
	memcpy(want, global_header, 24);
	wn = 24;

	/* sent at 1234.567891234 s */
	CHECK_EQ(p->ops->send(p, f1, sizeof(f1)), 0);
	wn += expect_record(want + wn, 1234567891234ULL, f1, sizeof(f1));
	/* rejected frames and empty receives leave no record */
	CHECK_EQ(p->ops->send(p, f1, 10), -EINVAL);
	CHECK_EQ(p->ops->send(p, buf, 1515), -EMSGSIZE);
	CHECK_EQ(p->ops->recv(p, buf, sizeof(buf)), 0);

	/* received 1 ms after b sent it */
	CHECK_EQ(b->ops->send(b, f2, sizeof(f2)), 0);
	CHECK(p->ops->next_deadline(p) == 1234567891234ULL + 1 * MS);
	synack_clock_advance(clk, 1 * MS);
	CHECK_EQ(p->ops->recv(p, buf, sizeof(buf)), 100);
	wn += expect_record(want + wn, 1234568891234ULL, f2, sizeof(f2));

	/* a truncated receive records what the caller got */
	CHECK_EQ(b->ops->send(b, f2, sizeof(f2)), 0);
	synack_clock_set(clk, 2000000000000ULL + 999999999ULL);
	CHECK_EQ(p->ops->recv(p, buf, 20), 20);
	wn += expect_record(want + wn, 2000999999999ULL, f2, 20);

	/* Each record is on disk before the wrapper is closed. */
	size_before_close = file_size(path);
	CHECK_EQ(size_before_close, (long)wn);
	synack_link_destroy(p);
	CHECK_EQ(file_size(path), (long)wn);

	gn = read_file(path, got, sizeof(got));
	CHECK_EQ(gn, wn);
	CHECK_MEM(got, want, wn);
	CHECK_EQ(wn, 24 + 16 + 60 + 16 + 100 + 16 + 20);
	check_with_tshark(path, "60\n100\n20\n");

	unlink(path);
	synack_sim_wire_free(w);
	synack_clock_free(clk);
}

TEST(timestamp_split)
{
	static const struct {
		uint64_t ns;
		uint32_t sec, usec;
	} cases[] = {
		{ 0, 0, 0 },
		{ 999, 0, 0 },
		{ 1000, 0, 1 },
		{ 999999999, 0, 999999 },
		{ 1000000000, 1, 0 },
		{ 4294967295999999999ULL, 4294967295u, 999999 },
	};
	static const uint8_t frame[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 8, 6 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = tmpfile();
		uint8_t got[64], want[64];
		size_t n;

		REQUIRE(f);
		CHECK_EQ(pcap_write_record(f, cases[i].ns, frame, sizeof(frame)), 0);
		rewind(f);
		n = fread(got, 1, sizeof(got), f);
		fclose(f);
		CHECK_EQ(n, 30);
		put_le32(want, cases[i].sec);
		put_le32(want + 4, cases[i].usec);
		put_le32(want + 8, 14);
		put_le32(want + 12, 14);
		memcpy(want + 16, frame, 14);
		CHECK_MEM(got, want, 30);
	}
}

TEST(bad_arguments)
{
	struct synack_clock *clk = synack_clock_new_virtual(0);
	struct synack_sim_wire *w = NULL;
	struct synack_link *a, *p = NULL;
	uint8_t frame[60] = { 0 };
	char path[64];

	REQUIRE(clk && synack_sim_wire_new(clk, NULL, &w) == 0);
	REQUIRE(temp_path(path, sizeof(path)) == 0);
	a = synack_sim_wire_end(w, 0);
	CHECK_EQ(synack_pcap_wrap(NULL, clk, path, &p), -EINVAL);
	CHECK_EQ(synack_pcap_wrap(a, NULL, path, &p), -EINVAL);
	CHECK_EQ(synack_pcap_wrap(a, clk, NULL, &p), -EINVAL);
	CHECK_EQ(synack_pcap_wrap(a, clk, "", &p), -EINVAL);
	CHECK_EQ(synack_pcap_wrap(a, clk, path, NULL), -EINVAL);
	CHECK_EQ(synack_pcap_wrap(a, clk, "/nonexistent-synack-dir/x.pcap", &p), -ENOENT);
	CHECK_EQ(synack_pcap_wrap(a, clk, "/tmp", &p), -EISDIR);
	CHECK(p == NULL);
	/* a failed wrap leaves inner with the caller, working */
	CHECK_EQ(a->ops->send(a, frame, sizeof(frame)), 0);
	unlink(path);
	synack_sim_wire_free(w);
	synack_clock_free(clk);
}

/* A link with only the scatter-gather super-frame op worth having. */
struct sg_link {
	struct synack_link link;
	const struct iovec *got_iov;
	size_t got_len;
	int got_cnt;
	bool got_gso;           /* the pieces came through send_gso_iov, not send_iov */
};

static int sg_send(struct synack_link *l, const void *frame, size_t len) { (void)l, (void)frame, (void)len; return 0; }
static int sg_recv(struct synack_link *l, void *buf, size_t cap) { (void)l, (void)buf, (void)cap; return 0; }
static int sg_send_gso(struct synack_link *l, const void *frame, size_t len, uint16_t gso_size)
{
	(void)l, (void)frame, (void)len, (void)gso_size;
	return -EIO;
}
static int sg_send_gso_iov(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len, uint16_t gso_size)
{
	struct sg_link *g = (struct sg_link *)l;

	(void)gso_size;
	g->got_iov = iov;
	g->got_len = len;
	g->got_cnt = iovcnt;
	g->got_gso = true;
	return 0;
}
static int sg_send_iov(struct synack_link *l, const struct iovec *iov, int iovcnt, size_t len)
{
	int err = sg_send_gso_iov(l, iov, iovcnt, len, 0);

	((struct sg_link *)l)->got_gso = false;
	return err;
}
static void sg_destroy(struct synack_link *l) { (void)l; }

/* A super-frame (gso) or a plain frame in pieces passes through to an
 * inner link that takes pieces, and is recorded whole; an inner link
 * without the op leaves the wrapper without it too. */
static void record_in_pieces(bool gso)
{
	static const struct synack_link_ops sg_ops = {
		.kind = "sg", .send = sg_send, .recv = sg_recv, .destroy = sg_destroy,
		.send_gso = sg_send_gso, .send_gso_iov = sg_send_gso_iov, .send_iov = sg_send_iov,
	};
	struct synack_clock *clk = synack_clock_new_virtual(5 * MS);
	struct sg_link g = { .link = { .ops = &sg_ops, .mtu = 1500 } };
	struct synack_sim_wire *w = NULL;
	struct synack_link *p = NULL;
	static uint8_t frame[3000], mem[4000], file[4096], want[4096];
	/* The pieces lie apart and out of order in memory, as queued skbs do. */
	struct iovec iov[3] = { { mem + 3800, 100 }, { mem, 1400 }, { mem + 2000, 1500 } };
	size_t n, wn, off = 0;
	char path[64];

	REQUIRE(clk);
	REQUIRE(temp_path(path, sizeof(path)) == 0);
	make_frame(frame, sizeof(frame), 9);
	for (int i = 0; i < 3; i++) {
		memcpy(iov[i].iov_base, frame + off, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	REQUIRE(synack_pcap_wrap(&g.link, clk, path, &p) == 0);
	REQUIRE(p->ops->send_gso_iov != NULL && p->ops->send_iov != NULL);
	if (gso)
		CHECK_EQ(p->ops->send_gso_iov(p, iov, 3, sizeof(frame), 1448), 0);
	else
		CHECK_EQ(p->ops->send_iov(p, iov, 3, sizeof(frame)), 0);
	CHECK(g.got_iov == iov);
	CHECK(g.got_gso == gso);
	CHECK_EQ(g.got_len, sizeof(frame));
	CHECK_EQ(g.got_cnt, 3);
	n = read_file(path, file, sizeof(file));
	wn = expect_record(want, 5 * MS, frame, sizeof(frame));
	REQUIRE(n == sizeof(global_header) + wn);
	CHECK(memcmp(file + sizeof(global_header), want, wn) == 0);
	synack_link_destroy(p);
	unlink(path);

	REQUIRE(synack_sim_wire_new(clk, NULL, &w) == 0);
	REQUIRE(synack_pcap_wrap(synack_sim_wire_end(w, 0), clk, path, &p) == 0);
	CHECK(p->ops->send_gso_iov == NULL && p->ops->send_iov == NULL);
	synack_link_destroy(p);
	unlink(path);
	synack_sim_wire_free(w);
	synack_clock_free(clk);
}

TEST(records_a_super_frame_given_in_pieces) { record_in_pieces(true); }

TEST(records_a_frame_given_in_pieces) { record_in_pieces(false); }

int main(void)
{
	RUN(records_every_frame);
	RUN(timestamp_split);
	RUN(bad_arguments);
	RUN(records_a_super_frame_given_in_pieces);
	RUN(records_a_frame_given_in_pieces);
	return TEST_SUMMARY();
}
