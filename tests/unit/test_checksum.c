/* The Internet checksum against a plain 16-bit reference and known headers. */
#include <arpa/inet.h>

#include "core/compiler.h"
#include "core/siphash.h"
#include "net/checksum.h"
#include "test.h"

/* RFC 1071 done the slow, obvious way: big-endian words, 32-bit sum. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static const uint8_t ip_hdr[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

TEST(known_ipv4_header)
{
	uint8_t h[20];

	memcpy(h, ip_hdr, sizeof(h));
	CHECK_EQ(ip_compute_csum(h, sizeof(h)), 0);
	h[10] = h[11] = 0;
	CHECK_EQ(ip_compute_csum(h, sizeof(h)), 0xb861);
	CHECK_EQ(csum_fold(csum_partial(h, sizeof(h), 0)), 0xb861);
}

TEST(small_cases)
{
	static const struct {
		uint8_t bytes[5];
		size_t len;
		uint16_t want;          /* ip_compute_csum */
	} cases[] = {
		{ { 0 }, 0, 0xffff },
		{ { 0x12 }, 1, 0xedff },               /* odd byte is the high half */
		{ { 0x12, 0x34 }, 2, 0xedcb },
		{ { 0x12, 0x34, 0x56 }, 3, 0x97cb },   /* 0x1234 + 0x5600 */
		{ { 0xff, 0xff }, 2, 0x0000 },
		{ { 0xff, 0xff, 0x00, 0x01 }, 4, 0xfffe }, /* end-around carry */
		{ { 0x80, 0x00, 0x80, 0x00, 0x01 }, 5, 0xfefe },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_EQ(ip_compute_csum(cases[i].bytes, cases[i].len), cases[i].want);
}

TEST(matches_reference_every_length_and_alignment)
{
	enum { MAXLEN = 2000 };
	static uint8_t buf[MAXLEN + 16];
	struct prng r;
	int bad = 0;

	prng_seed(&r, 42);
	for (size_t align = 0; align < 8; align++) {
		for (size_t len = 0; len <= MAXLEN; len++) {
			uint8_t *p = buf + align;

			prng_bytes(&r, p, len);
			if (ip_compute_csum(p, len) != ref_csum(p, len))
				bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

TEST(all_ones_data_exercises_carries)
{
	static uint8_t buf[4096];

	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 0; len <= sizeof(buf); len += 7)
		CHECK_EQ(ip_compute_csum(buf, len), ref_csum(buf, len));
	/* A large incoming sum must not lose its carry. */
	CHECK_EQ(csum_fold(csum_partial(buf, 64, UINT64_MAX)), ref_csum(buf, 64));
}

static void random_bytes(uint8_t *buf, size_t len, uint64_t seed)
{
	struct prng r;

	prng_seed(&r, seed);
	prng_bytes(&r, buf, len);
}

TEST(partial_sums_chain_on_even_boundaries)
{
	uint8_t buf[257];

	random_bytes(buf, sizeof(buf), 7);
	for (size_t split = 0; split <= sizeof(buf); split += 2) {
		uint64_t s = csum_partial(buf, split, 0);

		s = csum_partial(buf + split, sizeof(buf) - split, s);
		CHECK_EQ(csum_fold(s), ref_csum(buf, sizeof(buf)));
	}
}

/* Blocks summed apart at any boundary, odd ones too (the pieces of a
 * segment sent scatter-gather), add up to the whole: csum_block_add. */
TEST(block_sums_add_at_any_offset)
{
	uint8_t buf[301];

	random_bytes(buf, sizeof(buf), 11);
	for (size_t a = 0; a <= sizeof(buf); a += 7) {
		for (size_t b = a; b <= sizeof(buf); b += 13) {
			uint64_t s = csum_block_add(0, csum_partial(buf, a, 0), 0);

			s = csum_block_add(s, csum_partial(buf + a, b - a, 0), a);
			s = csum_block_add(s, csum_partial(buf + b, sizeof(buf) - b, 0), b);
			CHECK_EQ(csum_fold(s), ref_csum(buf, sizeof(buf)));
		}
	}
}

TEST(pseudo_header_sum)
{
	/* 192.168.0.1 -> 192.168.0.199, UDP, 8-byte header + "hi". */
	uint8_t seg[10] = { 0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0x00, 0x00, 'h', 'i' };
	uint8_t pseudo[12 + sizeof(seg)] = {
		0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7, 0x00, 17, 0x00, 0x0a,
	};
	uint32_t saddr, daddr;

	memcpy(&saddr, ip_hdr + 12, 4);
	memcpy(&daddr, ip_hdr + 16, 4);
	memcpy(pseudo + 12, seg, sizeof(seg));
	uint16_t want = ref_csum(pseudo, sizeof(pseudo));
	uint16_t got = csum_fold(csum_tcpudp_nofold(saddr, daddr, sizeof(seg), 17,
						    csum_partial(seg, sizeof(seg), 0)));
	CHECK_EQ(got, want);

	/* Storing it makes the whole thing sum to zero. */
	uint16_t be = htons(got);
	memcpy(seg + 6, &be, 2);
	CHECK_EQ(csum_fold(csum_tcpudp_nofold(saddr, daddr, sizeof(seg), 17,
					      csum_partial(seg, sizeof(seg), 0))), 0);
	/* Exact: sum of c0a8+0001+c0a8+00c7+0011+000a, plus the segment. */
	CHECK_EQ(csum_fold(csum_tcpudp_nofold(saddr, daddr, 10, 17, 0)),
		 (uint16_t)~(0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 0x0011 + 0x000a - 0xffff));
}

/* The header-only sum agrees with the reference for every IHL, on random
 * headers and on all-ones ones (the most carries). */
TEST(ip_fast_csum_matches_reference)
{
	uint8_t hdr[60];
	struct prng r;
	int bad = 0;

	prng_seed(&r, 11);
	for (int round = 0; round < 2000; round++) {
		unsigned int ihl = 5 + (unsigned int)(round % 11);

		if (round < 11)
			memset(hdr, 0xff, sizeof(hdr));
		else
			prng_bytes(&r, hdr, sizeof(hdr));
		if (ip_fast_csum(hdr, ihl) != ref_csum(hdr, ihl * 4))
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(ip_fast_csum(ip_hdr, 5), 0); /* a stored checksum sums to zero */
}

int main(void)
{
	RUN(known_ipv4_header);
	RUN(small_cases);
	RUN(matches_reference_every_length_and_alignment);
	RUN(all_ones_data_exercises_carries);
	RUN(partial_sums_chain_on_even_boundaries);
	RUN(block_sums_add_at_any_offset);
	RUN(pseudo_header_sum);
	RUN(ip_fast_csum_matches_reference);
	return TEST_SUMMARY();
}
