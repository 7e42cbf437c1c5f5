/* SipHash-2-4 against the paper's vectors, the u32 helpers, the PRNG and the
 * secrets. */
#include "core/compiler.h"
#include "core/siphash.h"
#include "test.h"

/* SipHash-2-4 of the bytes 00 01 .. (i-1) under the key 00 01 .. 0f, for
 * i = 0..63, from the reference implementation's vectors. */
static const uint64_t sip64_vectors[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

static const siphash_key_t ref_key = { { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL } };

TEST(reference_vectors)
{
	uint8_t msg[64];

	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	CHECK_EQ(siphash(msg, 0, &ref_key), 0x726fdb47dd0e0e31ULL);
	CHECK_EQ(siphash(msg, 15, &ref_key), 0xa129ca6149be45e5ULL);
	CHECK_EQ(siphash(msg, 63, &ref_key), 0x958a324ceb064572ULL);
	for (size_t len = 0; len < 64; len++) {
		if (siphash(msg, len, &ref_key) != sip64_vectors[len]) {
			fprintf(stderr, "vector %zu differs\n", len);
			CHECK(0);
		}
	}
}

TEST(unaligned_input)
{
	uint8_t buf[80];

	for (int i = 0; i < 64; i++)
		buf[i + 3] = (uint8_t)i;
	CHECK_EQ(siphash(buf + 3, 37, &ref_key), sip64_vectors[37]);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

TEST(u32_helpers_hash_little_endian_words)
{
	struct prng r;
	siphash_key_t key;
	uint8_t b[16];

	prng_seed(&r, 99);
	for (int round = 0; round < 100; round++) {
		uint32_t w[4];

		key.key[0] = prng_u64(&r);
		key.key[1] = prng_u64(&r);
		for (int i = 0; i < 4; i++) {
			w[i] = prng_u32(&r);
			put_le32(b + 4 * i, w[i]);
		}
		CHECK_EQ(siphash_1u32(w[0], &key), siphash(b, 4, &key));
		CHECK_EQ(siphash_2u32(w[0], w[1], &key), siphash(b, 8, &key));
		CHECK_EQ(siphash_3u32(w[0], w[1], w[2], &key), siphash(b, 12, &key));
		CHECK_EQ(siphash_4u32(w[0], w[1], w[2], w[3], &key), siphash(b, 16, &key));
	}
	/* The vector for 00 01 02 03 is the word 0x03020100. */
	CHECK_EQ(siphash_1u32(0x03020100u, &ref_key), sip64_vectors[4]);
	CHECK_EQ(siphash_4u32(0x03020100u, 0x07060504u, 0x0b0a0908u, 0x0f0e0d0cu, &ref_key),
		 sip64_vectors[16]);
}

TEST(splitmix_seeding)
{
	struct prng r;

	prng_seed(&r, 0);
	CHECK_EQ(r.s[0], 0xe220a8397b1dcdafULL);
	CHECK_EQ(r.s[1], 0x6e789e6aa1b965f4ULL);
	CHECK_EQ(r.s[2], 0x06c45d188009454fULL);
	CHECK_EQ(r.s[3], 0xf88bb8a8724c81ecULL);
}

TEST(xoshiro256starstar_outputs)
{
	struct prng r = { { 1, 2, 3, 4 } };

	CHECK_EQ(prng_u64(&r), 11520);
	CHECK_EQ(prng_u64(&r), 0);
	CHECK_EQ(prng_u64(&r), 1509978240);
	CHECK_EQ(prng_u64(&r), 1215971899390074240ULL);
}

TEST(prng_deterministic_by_seed)
{
	struct prng a, b, c;
	int same_as_other_seed = 0;

	prng_seed(&a, 12345);
	prng_seed(&b, 12345);
	prng_seed(&c, 12346);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = prng_u64(&a);

		CHECK_EQ(x, prng_u64(&b));
		same_as_other_seed += x == prng_u64(&c);
	}
	CHECK_EQ(same_as_other_seed, 0);
}

TEST(prng_below_range_and_spread)
{
	static const uint32_t bounds[] = { 1, 2, 3, 7, 10, 1000, 0x80000001u, UINT32_MAX };
	struct prng r;

	prng_seed(&r, 5);
	CHECK_EQ(prng_below(&r, 0), 0);
	for (size_t b = 0; b < ARRAY_SIZE(bounds); b++) {
		uint32_t maxseen = 0;
		int out = 0;

		for (int i = 0; i < 20000; i++) {
			uint32_t v = prng_below(&r, bounds[b]);

			out += v >= bounds[b];
			if (v > maxseen)
				maxseen = v;
		}
		CHECK_EQ(out, 0);
		/* The top half of the range is reached. */
		CHECK(bounds[b] == 1 ? maxseen == 0 : maxseen >= bounds[b] / 2);
	}
	/* Three buckets: each count within 5% of a third of 300000. */
	uint32_t counts[3] = { 0 };
	for (int i = 0; i < 300000; i++)
		counts[prng_below(&r, 3)]++;
	for (int i = 0; i < 3; i++)
		CHECK(counts[i] > 95000 && counts[i] < 105000);
}

TEST(prng_double_in_unit_interval)
{
	struct prng r;
	double sum = 0;
	int out = 0;

	prng_seed(&r, 8);
	for (int i = 0; i < 100000; i++) {
		double d = prng_double(&r);

		out += !(d >= 0.0 && d < 1.0);
		sum += d;
	}
	CHECK_EQ(out, 0);
	CHECK(sum / 100000 > 0.49 && sum / 100000 < 0.51);
}

TEST(prng_bytes_exact_length)
{
	struct prng a, b;
	uint8_t buf[32], ref[16];

	for (size_t len = 0; len <= 16; len++) {
		memset(buf, 0xa5, sizeof(buf));
		prng_seed(&a, 3);
		prng_seed(&b, 3);
		prng_bytes(&a, buf + 8, len);
		prng_bytes(&b, ref, sizeof(ref));
		CHECK_MEM(buf + 8, ref, len);
		/* Nothing written around it. */
		for (size_t i = 0; i < 8; i++)
			CHECK_EQ(buf[i], 0xa5);
		for (size_t i = 8 + len; i < sizeof(buf); i++)
			CHECK_EQ(buf[i], 0xa5);
	}
}

TEST(seeded_secrets)
{
	struct stack_secrets s1, s2, s3;
	struct prng r1, r2, r3, plain;

	secrets_init_seeded(&s1, &r1, 77);
	secrets_init_seeded(&s2, &r2, 77);
	secrets_init_seeded(&s3, &r3, 78);
	CHECK_MEM(&s1, &s2, sizeof(s1));
	CHECK(memcmp(&s1, &s3, sizeof(s1)) != 0);
	CHECK(s1.net_secret.key[0] != s1.ts_secret.key[0]);
	/* The RNG is plainly seeded, and its output is not the secrets. */
	prng_seed(&plain, 77);
	CHECK_MEM(&r1, &plain, sizeof(plain));
	uint64_t first = prng_u64(&r1);
	CHECK(first != s1.net_secret.key[0] && first != s1.net_secret.key[1]);
	CHECK(r1.s[0] != s1.net_secret.key[0]);
}

TEST(random_secrets)
{
	struct stack_secrets s1, s2;
	struct prng r1, r2;

	CHECK_EQ(secrets_init_random(&s1, &r1), 0);
	CHECK_EQ(secrets_init_random(&s2, &r2), 0);
	CHECK(memcmp(&s1, &s2, sizeof(s1)) != 0);
	CHECK(memcmp(&r1, &r2, sizeof(r1)) != 0);
}

int main(void)
{
	RUN(reference_vectors);
	RUN(unaligned_input);
	RUN(u32_helpers_hash_little_endian_words);
	RUN(splitmix_seeding);
	RUN(xoshiro256starstar_outputs);
	RUN(prng_deterministic_by_seed);
	RUN(prng_below_range_and_spread);
	RUN(prng_double_in_unit_interval);
	RUN(prng_bytes_exact_length);
	RUN(seeded_secrets);
	RUN(random_secrets);
	return TEST_SUMMARY();
}
