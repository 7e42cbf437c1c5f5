/*
 * SipHash-2-4 (Aumasson and Bernstein), the xoshiro256** generator
 * (Blackman and Vigna) seeded through splitmix64, and the stack's secrets.
 */
#include "core/siphash.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static inline uint64_t rotl64(uint64_t x, unsigned int n) { return (x << n) | (x >> (64 - n)); }

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

/* Forced inline so the state stays in registers: ISNs, timestamp offsets,
 * ports and cookies hash on every connection. */
#define SIP_INLINE static inline __attribute__((always_inline))

SIP_INLINE void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

SIP_INLINE void sip_init(struct sip_state *s, const siphash_key_t *key)
{
	/* "somepseudorandomlygeneratedbytes", as the paper specifies. */
	s->v0 = 0x736f6d6570736575ULL ^ key->key[0];
	s->v1 = 0x646f72616e646f6dULL ^ key->key[1];
	s->v2 = 0x6c7967656e657261ULL ^ key->key[0];
	s->v3 = 0x7465646279746573ULL ^ key->key[1];
}

/* Two compression rounds per 64-bit message word. */
SIP_INLINE void sip_absorb(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

/* Four finalization rounds. */
SIP_INLINE uint64_t sip_finish(struct sip_state *s)
{
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t siphash(const void *data, size_t len, const siphash_key_t *key)
{
	const uint8_t *p = data;
	struct sip_state s;
	uint8_t tail[8] = { 0 };
	size_t whole = len - len % 8;

	sip_init(&s, key);
	for (size_t off = 0; off < whole; off += 8)
		sip_absorb(&s, load_le64(p + off));
	/* The last word carries the leftover bytes and, in its top byte, the
	 * length mod 256. */
	if (len > whole)
		memcpy(tail, p + whole, len - whole);
	tail[7] = (uint8_t)len;
	sip_absorb(&s, load_le64(tail));
	return sip_finish(&s);
}

/* The u32 forms build their little-endian words directly: the same hash
 * as siphash() over the bytes, without the byte buffer. */
SIP_INLINE uint64_t sip_words(const siphash_key_t *key, uint64_t m0, uint64_t m1, int n)
{
	struct sip_state s;

	sip_init(&s, key);
	sip_absorb(&s, m0);
	if (n > 1)
		sip_absorb(&s, m1);
	return sip_finish(&s);
}

static uint64_t len_word(size_t len) { return (uint64_t)(uint8_t)len << 56; }

uint64_t siphash_1u32(uint32_t a, const siphash_key_t *key) { return sip_words(key, a | len_word(4), 0, 1); }

uint64_t siphash_2u32(uint32_t a, uint32_t b, const siphash_key_t *key)
{
	return sip_words(key, a | (uint64_t)b << 32, len_word(8), 2);
}

uint64_t siphash_3u32(uint32_t a, uint32_t b, uint32_t c, const siphash_key_t *key)
{
	return sip_words(key, a | (uint64_t)b << 32, c | len_word(12), 2);
}

uint64_t siphash_4u32(uint32_t a, uint32_t b, uint32_t c, uint32_t d, const siphash_key_t *key)
{
	struct sip_state s;

	sip_init(&s, key);
	sip_absorb(&s, a | (uint64_t)b << 32);
	sip_absorb(&s, c | (uint64_t)d << 32);
	sip_absorb(&s, len_word(16));
	return sip_finish(&s);
}

static void store_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* splitmix64: spreads a 64-bit seed into well-mixed, never all-zero, state. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void prng_seed(struct prng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t prng_u64(struct prng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* The high half: xoshiro's best-mixed bits. */
uint32_t prng_u32(struct prng *r) { return (uint32_t)(prng_u64(r) >> 32); }

/*
 * Multiply-and-shift maps a 32-bit draw onto [0, n); the draws whose low
 * product half falls below 2^32 mod n would make some outputs more likely,
 * so they are redrawn (Lemire's method).
 */
uint32_t prng_below(struct prng *r, uint32_t n)
{
	if (n == 0)
		return 0;
	uint64_t m = (uint64_t)prng_u32(r) * n;
	uint32_t low = (uint32_t)m;

	if (low < n) {
		uint32_t threshold = (uint32_t)(-n) % n;

		while (low < threshold) {
			m = (uint64_t)prng_u32(r) * n;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

double prng_double(struct prng *r)
{
	/* 53 random bits fill a double's mantissa exactly. */
	return (double)(prng_u64(r) >> 11) * 0x1.0p-53;
}

void prng_bytes(struct prng *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t v = prng_u64(r);
		size_t n = len < sizeof(v) ? len : sizeof(v);

		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}

static int fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int secrets_init_random(struct stack_secrets *s, struct prng *rng)
{
	uint64_t seed;
	int err = fill_random(s, sizeof(*s));

	if (err == 0)
		err = fill_random(&seed, sizeof(seed));
	if (err < 0)
		return err;
	prng_seed(rng, seed);
	return 0;
}

void secrets_init_seeded(struct stack_secrets *s, struct prng *rng, uint64_t seed)
{
	/* The secrets come from their own generator, keyed by a hash of the
	 * seed, so that nothing the stack's RNG reveals relates to them. */
	static const siphash_key_t domain = { { 0x73796e61636b2d73ULL, 0x656372657473ULL } };
	struct prng keygen;
	uint8_t seed_le[8];

	store_le32(seed_le, (uint32_t)seed);
	store_le32(seed_le + 4, (uint32_t)(seed >> 32));
	prng_seed(rng, seed);
	prng_seed(&keygen, siphash(seed_le, sizeof(seed_le), &domain));
	prng_bytes(&keygen, s, sizeof(*s));
}
