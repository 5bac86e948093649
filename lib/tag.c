/*  tag.c: SipHash-2-4 and the batch tag (see tag.h).

    SipHash keeps four 64-bit words of state, initialised from the key and
    four constants ("somepseudorandomlygeneratedbytes"). Each 8-byte
    little-endian word m of the message is compressed with two SipRounds
    (v3 ^= m before, v0 ^= m after); the last word holds the message's
    trailing bytes and, in its top byte, the length modulo 256. Then v2 ^=
    0xff, four SipRounds, and the output is v0 ^ v1 ^ v2 ^ v3.
*/
#include "tag.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

typedef struct {
    uint64_t v0, v1, v2, v3;
} s_state_t;

static inline uint64_t
s_load (const uint8_t *bytes)
{
    uint64_t value = 0;
    for (int index = 7; index >= 0; index--)
        value = value << 8 | bytes[index];
    return value;
}

static inline uint64_t
s_rotate (uint64_t value, int bits)
{
    return value << bits | value >> (64 - bits);
}

static inline void
s_round (s_state_t *state)
{
    state->v0 += state->v1;
    state->v1 = s_rotate (state->v1, 13) ^ state->v0;
    state->v0 = s_rotate (state->v0, 32);
    state->v2 += state->v3;
    state->v3 = s_rotate (state->v3, 16) ^ state->v2;
    state->v0 += state->v3;
    state->v3 = s_rotate (state->v3, 21) ^ state->v0;
    state->v2 += state->v1;
    state->v1 = s_rotate (state->v1, 17) ^ state->v2;
    state->v2 = s_rotate (state->v2, 32);
}

static inline void
s_init (s_state_t *state, const dv_tag_key_t *key)
{
    uint64_t k0 = s_load (key->bytes);
    uint64_t k1 = s_load (key->bytes + 8);
    state->v0 = k0 ^ 0x736f6d6570736575ULL;
    state->v1 = k1 ^ 0x646f72616e646f6dULL;
    state->v2 = k0 ^ 0x6c7967656e657261ULL;
    state->v3 = k1 ^ 0x7465646279746573ULL;
}

//  Two compression rounds (the "2" of SipHash-2-4).
static inline void
s_compress (s_state_t *state, uint64_t word)
{
    state->v3 ^= word;
    s_round (state);
    s_round (state);
    state->v0 ^= word;
}

//  Four finalisation rounds (the "4").
static inline uint64_t
s_finish (s_state_t *state)
{
    state->v2 ^= 0xff;
    for (int round = 0; round < 4; round++)
        s_round (state);
    return state->v0 ^ state->v1 ^ state->v2 ^ state->v3;
}

uint64_t
dv_siphash (const dv_tag_key_t *key, const void *data, size_t length)
{
    const uint8_t *bytes = data;
    s_state_t state;
    s_init (&state, key);
    size_t whole = length - length % 8;
    for (size_t offset = 0; offset < whole; offset += 8)
        s_compress (&state, s_load (bytes + offset));
    uint64_t last = (uint64_t) (length & 0xff) << 56;
    for (size_t index = 0; index < length % 8; index++)
        last |= (uint64_t) bytes[whole + index] << (8 * index);
    s_compress (&state, last);
    return s_finish (&state);
}

uint64_t
dv_tag_batch (const dv_tag_key_t *key, uint64_t job_id, uint64_t first_task,
              const uint8_t *values, size_t stride, uint32_t count)
{
    s_state_t state;
    s_init (&state, key);
    s_compress (&state, job_id);
    s_compress (&state, first_task);
    for (uint32_t index = 0; index < count; index++)
        s_compress (&state, s_load (values + (size_t) index * stride));
    //  A message of whole words: the last word is its length alone.
    uint64_t length = ((uint64_t) count + 2) * 8;
    s_compress (&state, (length & 0xff) << 56);
    return s_finish (&state);
}

int
dv_tag_key_random (dv_tag_key_t *key)
{
    do {
        size_t filled = 0;
        while (filled < sizeof key->bytes) {
            ssize_t got = getrandom (key->bytes + filled, sizeof key->bytes - filled, 0);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                return -1;
            filled += (size_t) got;
        }
    } while (dv_tag_key_is_zero (key));
    return 0;
}

bool
dv_tag_key_is_zero (const dv_tag_key_t *key)
{
    static const dv_tag_key_t zero = {{0}};
    return dv_tag_key_equal (key, &zero);
}

bool
dv_tag_key_equal (const dv_tag_key_t *a, const dv_tag_key_t *b)
{
    return memcmp (a->bytes, b->bytes, sizeof a->bytes) == 0;
}
