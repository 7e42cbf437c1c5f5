/*
 * Caches of small fixed-size objects, as Linux's kmem_cache: sockets,
 * TIME-WAIT minisocks and request socks, which a busy server holds by the
 * hundred thousand, cost their own size with no allocator header or
 * rounding. Objects are carved from 256 KiB chunks mapped at an address
 * aligned to their size, so an object finds its chunk (and its cache) by
 * masking its address; a chunk's pages are touched only as its objects are
 * first used, and a chunk whose objects are all free goes back to the system
 * unless it is the cache's last one with room.
 *
 * Under AddressSanitizer every object is a malloc of its own instead, so a
 * use after free is still caught.
 */
#ifndef SYNACK_CORE_SLAB_H
#define SYNACK_CORE_SLAB_H

#include <stddef.h>
#include "core/list.h"

#define SLAB_CHUNK ((size_t)256 * 1024)

struct kmem_cache {
	size_t size;                /* object size, a multiple of 8 */
	struct list_head partial;   /* chunks with a free object */
	struct list_head full;      /* chunks without */
	size_t live;                /* objects handed out (not counted under ASan) */
	size_t chunks;              /* chunks held (not counted under ASan) */
};

void kmem_cache_init(struct kmem_cache *c, size_t size);
/* Frees every chunk; returns the objects still live (a leak when not 0). */
size_t kmem_cache_destroy(struct kmem_cache *c);
/* A zeroed object, or NULL when memory is short. */
void *kmem_cache_zalloc(struct kmem_cache *c);
/* p from kmem_cache_zalloc; NULL is ignored. The cache is found from the
 * object, as Linux's kfree finds its slab: a request sock may outlive the
 * listener it would be reached through. */
void kmem_cache_free(void *p);
/* The bytes of the cache's chunks in use so far (objects handed out at
 * least once, and the chunk headers): what it adds to the resident set. */
size_t kmem_cache_bytes(const struct kmem_cache *c);

#endif
