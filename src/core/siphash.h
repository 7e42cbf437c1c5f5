/* SipHash-2-4 (64-bit output, 128-bit key) and the per-stack secrets and RNG. */
#ifndef SYNACK_CORE_SIPHASH_H
#define SYNACK_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint64_t key[2];
} siphash_key_t;

/* Little-endian 64-bit words, as SipHash reads its input and keys are
 * written (Fast Open's key bytes and cookies too). */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t siphash(const void *data, size_t len, const siphash_key_t *key);
/* Hash of the u32 values laid out as consecutive little-endian words,
 * as Linux's siphash_1u32 .. siphash_4u32. */
uint64_t siphash_1u32(uint32_t a, const siphash_key_t *key);
uint64_t siphash_2u32(uint32_t a, uint32_t b, const siphash_key_t *key);
uint64_t siphash_3u32(uint32_t a, uint32_t b, uint32_t c, const siphash_key_t *key);
uint64_t siphash_4u32(uint32_t a, uint32_t b, uint32_t c, uint32_t d, const siphash_key_t *key);

/* Deterministic PRNG (xoshiro256**), seeded per stack. */
struct prng {
	uint64_t s[4];
};
void prng_seed(struct prng *r, uint64_t seed);
uint64_t prng_u64(struct prng *r);
uint32_t prng_u32(struct prng *r);
/* Uniform in [0, n) (0 when n == 0). */
uint32_t prng_below(struct prng *r, uint32_t n);
/* Uniform in [0, 1). */
double prng_double(struct prng *r);
void prng_bytes(struct prng *r, void *buf, size_t len);

/* The stack's keys, as Linux keeps them (net_secret for ISNs and ports,
 * ts_secret for timestamp offsets, two syncookie keys, the IP ID key). */
struct stack_secrets {
	siphash_key_t net_secret;
	siphash_key_t ts_secret;
	siphash_key_t syncookie_secret[2];
	siphash_key_t ip_id_secret;
	siphash_key_t perturb_secret;
	siphash_key_t ehash_secret;     /* TCP ehash bucket choice (Linux: inet_ehash_secret) */
	siphash_key_t fastopen_key;     /* fastopen: the primary TFO cookie key (Linux: tcp_fastopen_key) */
};
/* Fill from getrandom(); -errno on failure. */
int secrets_init_random(struct stack_secrets *s, struct prng *rng);
/* Fill deterministically from seed (reproducible runs). */
void secrets_init_seeded(struct stack_secrets *s, struct prng *rng, uint64_t seed);

#endif
