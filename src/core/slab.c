/* Fixed-size object caches (Linux: kmem_cache); see slab.h. */
#include "core/slab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_PER_OBJECT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_PER_OBJECT 1
#endif
#endif

struct slab_chunk {
	struct list_head node;      /* on the cache's partial or full list */
	struct kmem_cache *cache;
	void *free;                 /* freed objects, linked through their first word */
	uint8_t *bump;              /* the first object never handed out */
	uint8_t *end;               /* past the last whole object */
	size_t inuse;
};

/* Objects start after the header, 8-byte aligned. */
#define SLAB_FIRST ((sizeof(struct slab_chunk) + 7) & ~(size_t)7)

void kmem_cache_init(struct kmem_cache *c, size_t size)
{
	memset(c, 0, sizeof(*c));
	c->size = size < sizeof(void *) ? sizeof(void *) : (size + 7) & ~(size_t)7;
	INIT_LIST_HEAD(&c->partial);
	INIT_LIST_HEAD(&c->full);
}

#ifdef SLAB_PER_OBJECT
void *kmem_cache_zalloc(struct kmem_cache *c) { return calloc(1, c->size); }

void kmem_cache_free(void *p) { free(p); }

size_t kmem_cache_destroy(struct kmem_cache *c) { return c->live; }

size_t kmem_cache_bytes(const struct kmem_cache *c)
{
	(void)c;
	return 0;
}
#else
/* SLAB_CHUNK bytes aligned to SLAB_CHUNK, straight from mmap: twice that
 * is mapped and the ends trimmed. (aligned_alloc would leave malloc a gap
 * as large as the alignment at each chunk.) Pages are touched only as
 * objects are first handed out. */
static void *chunk_map(void)
{
	size_t len = 2 * SLAB_CHUNK, head;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t aligned;

	if (p == MAP_FAILED)
		return NULL;
	aligned = ((uintptr_t)p + SLAB_CHUNK - 1) & ~(uintptr_t)(SLAB_CHUNK - 1);
	head = aligned - (uintptr_t)p;
	if (head)
		munmap(p, head);
	if (len - head - SLAB_CHUNK)
		munmap((uint8_t *)aligned + SLAB_CHUNK, len - head - SLAB_CHUNK);
	return (void *)aligned;
}

static void free_chunks(struct list_head *head)
{
	struct slab_chunk *ch, *n;

	list_for_each_entry_safe(ch, n, head, node) {
		list_del_init(&ch->node);
		munmap(ch, SLAB_CHUNK);
	}
}

size_t kmem_cache_destroy(struct kmem_cache *c)
{
	free_chunks(&c->partial);
	free_chunks(&c->full);
	c->chunks = 0;
	return c->live;
}

static struct slab_chunk *slab_chunk_new(struct kmem_cache *c)
{
	struct slab_chunk *ch;

	if (c->size > SLAB_CHUNK - SLAB_FIRST) /* not one object would fit */
		return NULL;
	ch = chunk_map();
	if (!ch)
		return NULL;
	ch->cache = c;
	ch->free = NULL;
	ch->inuse = 0;
	ch->bump = (uint8_t *)ch + SLAB_FIRST;
	ch->end = ch->bump + (SLAB_CHUNK - SLAB_FIRST) / c->size * c->size;
	list_add(&ch->node, &c->partial);
	c->chunks++;
	return ch;
}

static struct slab_chunk *slab_chunk_of(const void *p)
{
	return (struct slab_chunk *)((uintptr_t)p & ~(uintptr_t)(SLAB_CHUNK - 1));
}

static bool slab_chunk_full(const struct slab_chunk *ch) { return !ch->free && ch->bump == ch->end; }

void *kmem_cache_zalloc(struct kmem_cache *c)
{
	struct slab_chunk *ch;
	void *p;

	if (list_empty(&c->partial) && !slab_chunk_new(c))
		return NULL;
	ch = list_first_entry(&c->partial, struct slab_chunk, node);
	if (ch->free) {
		p = ch->free;
		ch->free = *(void **)p;
	} else {
		p = ch->bump;
		ch->bump += c->size;
	}
	ch->inuse++;
	if (slab_chunk_full(ch))
		list_move_tail(&ch->node, &c->full);
	c->live++;
	return memset(p, 0, c->size);
}

void kmem_cache_free(void *p)
{
	struct slab_chunk *ch;
	struct kmem_cache *c;

	if (!p)
		return;
	ch = slab_chunk_of(p);
	c = ch->cache;
	if (slab_chunk_full(ch))
		list_move_tail(&ch->node, &c->partial);
	*(void **)p = ch->free;
	ch->free = p;
	ch->inuse--;
	c->live--;
	/* An empty chunk is returned unless it is the only one with room:
	 * a cache that empties and refills at once keeps one chunk. */
	if (ch->inuse == 0 && !list_is_singular(&c->partial)) {
		list_del_init(&ch->node);
		c->chunks--;
		munmap(ch, SLAB_CHUNK);
	}
}

static size_t chunk_bytes(const struct list_head *head)
{
	const struct slab_chunk *ch;
	size_t n = 0;

	list_for_each_entry(ch, head, node)
		n += (size_t)(ch->bump - (const uint8_t *)ch);
	return n;
}

size_t kmem_cache_bytes(const struct kmem_cache *c) { return chunk_bytes(&c->partial) + chunk_bytes(&c->full); }
#endif
