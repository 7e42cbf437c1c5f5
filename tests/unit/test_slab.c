/* Fixed-size object caches: zeroed, distinct objects across chunks, frees
 * in any order, empty chunks returned, one kept. Under AddressSanitizer the
 * cache is plain calloc/free, and only what holds for both is checked. */
#include <stdint.h>
#include <string.h>
#include "core/siphash.h"
#include "core/slab.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__)
#define PER_OBJECT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PER_OBJECT 1
#endif
#endif

enum { N = 6000, SIZE = 96 }; /* three 256 KiB chunks of 96-byte objects */

static uint8_t *objs[N];

TEST(objects_are_zeroed_distinct_and_aligned)
{
	struct kmem_cache c;

	kmem_cache_init(&c, SIZE);
	for (int i = 0; i < N; i++) {
		objs[i] = kmem_cache_zalloc(&c);
		REQUIRE(objs[i]);
		CHECK_EQ((uintptr_t)objs[i] % 8, 0);
		for (int k = 0; k < SIZE; k++)
			CHECK_EQ(objs[i][k], 0);
		memset(objs[i], 0xa5, SIZE); /* dirty it for the next owner */
	}
	for (int i = 1; i < N; i++) /* address order within a chunk: no overlap */
		CHECK(objs[i] >= objs[i - 1] + SIZE || objs[i] + SIZE <= objs[i - 1]);
#ifndef PER_OBJECT
	CHECK_EQ(c.live, N);
	CHECK_EQ(c.chunks, 3);
	CHECK(kmem_cache_bytes(&c) >= (size_t)N * SIZE && kmem_cache_bytes(&c) < (size_t)N * SIZE + 3 * 128);
#endif
	for (int i = 0; i < N; i++)
		kmem_cache_free(objs[i]);
	/* A reused object comes back zeroed. */
	objs[0] = kmem_cache_zalloc(&c);
	REQUIRE(objs[0]);
	for (int k = 0; k < SIZE; k++)
		CHECK_EQ(objs[0][k], 0);
	kmem_cache_free(objs[0]);
	CHECK_EQ(kmem_cache_destroy(&c), 0);
}

/* Frees in random order return every emptied chunk but the last with room. */
TEST(random_frees_return_empty_chunks)
{
	struct kmem_cache c;
	struct prng r;

	prng_seed(&r, 5);
	kmem_cache_init(&c, 120);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++)
			REQUIRE(objs[i] = kmem_cache_zalloc(&c));
		for (int i = N - 1; i > 0; i--) {
			uint32_t j = prng_below(&r, (uint32_t)i + 1);
			uint8_t *t = objs[i];

			objs[i] = objs[j];
			objs[j] = t;
		}
		for (int i = 0; i < N; i++)
			kmem_cache_free(objs[i]);
#ifndef PER_OBJECT
		CHECK_EQ(c.live, 0);
		CHECK_EQ(c.chunks, 1);
#endif
	}
	kmem_cache_free(NULL);
	CHECK_EQ(kmem_cache_destroy(&c), 0);
}

/* Objects still out at destroy are reported (a leak), not freed twice. */
TEST(destroy_reports_live_objects)
{
	struct kmem_cache c;
	void *p;

	kmem_cache_init(&c, 40);
	p = kmem_cache_zalloc(&c);
	REQUIRE(p);
#ifndef PER_OBJECT
	CHECK_EQ(kmem_cache_destroy(&c), 1);
#else
	kmem_cache_free(p);
	CHECK_EQ(kmem_cache_destroy(&c), 0);
#endif
}

int main(void)
{
	RUN(objects_are_zeroed_distinct_and_aligned);
	RUN(random_frees_return_empty_chunks);
	RUN(destroy_reports_live_objects);
	return TEST_SUMMARY();
}
