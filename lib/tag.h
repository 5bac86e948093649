/*  tag.h: the batch tag, which ties a batch's values to its tasks.

    For a list (--input) job the sink cannot know a task's value from its id,
    so a worker could return -v for v, or swap values within a batch, and
    every square and the sum of squares would still check. So the ventilator
    draws a secret key per job (getrandom), gives it to the sink alone in its
    announcement (workers never see ANNOUNCE), and tags every TASKS batch
    with SipHash-2-4 under that key over the job id, the first task id and
    the values; workers echo the tag, and the sink recomputes it from the
    values in the RESULTS batch. A worker that alters a value cannot make a
    matching tag without the key. A range job needs none: the sink knows
    every value from its task id.

    SipHash-2-4 (Aumasson and Bernstein, 2012) is a keyed pseudorandom
    function with a 128-bit key and a 64-bit output, written here from the
    paper; tests/unit/test_tag.c checks it against the paper's test vectors.
    Pure and allocation-free (but dv_tag_key_random).
*/
#ifndef DV_TAG_H_INCLUDED
#define DV_TAG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DV_TAG_KEY_SIZE 16

//  A SipHash key as it travels: 16 bytes, k0 then k1, each little-endian.
//  All zero means no key (a range job).
typedef struct {
    uint8_t bytes[DV_TAG_KEY_SIZE];
} dv_tag_key_t;

//  SipHash-2-4 of length bytes at data under key.
uint64_t dv_siphash (const dv_tag_key_t *key, const void *data, size_t length);

//  The tag of a batch: SipHash-2-4 under key of the 8-byte little-endian
//  words job_id, first_task, then the count values, which are read as
//  little-endian int64s at values, values + stride, ... (8 for a TASKS
//  message's values, DV_RESULT_SIZE for a RESULTS message's entries).
uint64_t dv_tag_batch (const dv_tag_key_t *key, uint64_t job_id, uint64_t first_task,
                       const uint8_t *values, size_t stride, uint32_t count);

//  Draws a random, non-zero key from getrandom(2). Returns -1 (errno set)
//  when the kernel gives none.
int dv_tag_key_random (dv_tag_key_t *key);

bool dv_tag_key_is_zero (const dv_tag_key_t *key);

bool dv_tag_key_equal (const dv_tag_key_t *a, const dv_tag_key_t *b);

#endif
