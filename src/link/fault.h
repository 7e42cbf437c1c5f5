/*
 * The fault model shared by the sim wire and the faulty wrapper: decide what
 * happens to one frame (loss, duplication, reordering, corruption, jitter)
 * and keep the frames of one direction in a schedule ordered by due time.
 */
#ifndef SYNACK_LINK_FAULT_H
#define SYNACK_LINK_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "synack/synack.h"
#include "core/siphash.h"

#define FAULT_DEFAULT_MTU 1500u
#define FAULT_DEFAULT_QUEUE_LIMIT 4096u
#define FAULT_MIN_MTU 68u
#define FAULT_MAX_MTU 65535u

/* Copy cfg (NULL: a perfect wire) into out with the defaults filled in;
 * -EINVAL for a probability outside [0, 1] (or NaN) or a bad MTU. */
int fault_config_normalize(const struct synack_sim_config *cfg, struct synack_sim_config *out);

/* What the model decided for one frame. */
struct fault_decision {
	bool lose;
	bool duplicate;
	bool reorder;
	bool corrupt;
	uint64_t jitter_ns;         /* in [0, cfg->jitter_ns] */
	uint64_t corrupt_bit;       /* bit index into the frame, when corrupt */
};

/* Every call draws the same number of values from rng whatever the
 * probabilities are, so changing one fault does not reshuffle the others. */
void fault_decide(const struct synack_sim_config *cfg, struct prng *rng, size_t len,
		  struct fault_decision *d);

/* Time to clock len bytes onto a link of bps bits/s, rounded up; 0 if bps is 0. */
uint64_t fault_serialisation_ns(size_t len, uint64_t bps);

struct fault_frame {
	uint64_t due;               /* deliverable at or after this time */
	uint64_t seq;               /* breaks ties in enqueue order */
	size_t len;
	uint8_t data[];
};

/* One direction: the model, its RNG and the frames in flight (a min-heap on
 * (due, seq)). A link transmits one frame at a time, so busy_until is when
 * the last frame finished serialising. */
struct fault_queue {
	struct synack_sim_config cfg;   /* normalized */
	struct prng rng;
	struct fault_frame **heap;
	size_t n, cap;
	uint64_t busy_until;
	uint64_t next_seq;
	struct synack_sim_stats stats;
};

/* cfg must already be normalized. */
void fault_queue_init(struct fault_queue *q, const struct synack_sim_config *cfg, uint64_t seed);
void fault_queue_destroy(struct fault_queue *q);
/* Offer a frame sent at now. Lost and queue-dropped frames are counted and
 * return 0 like delivered ones (the wire drops silently); -ENOMEM if out of
 * memory. */
int fault_queue_push(struct fault_queue *q, uint64_t now, const void *frame, size_t len);
/* The earliest frame due at or before now, or NULL. */
const struct fault_frame *fault_queue_peek_due(const struct fault_queue *q, uint64_t now);
/* Remove (and free) the earliest frame; counts it delivered. */
void fault_queue_drop_head(struct fault_queue *q);
/* Copy the earliest due frame into buf (truncated to cap) and remove it:
 * the copied length, or 0 when nothing is due. */
size_t fault_queue_pop(struct fault_queue *q, uint64_t now, void *buf, size_t cap);
/* Due time of the earliest frame, SYNACK_NEVER if empty. */
uint64_t fault_queue_next_due(const struct fault_queue *q);

#endif
