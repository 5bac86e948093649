/*  test_tag.c: SipHash-2-4 against the reference vectors, and the batch tag.

    The vectors are those of the SipHash paper (Aumasson and Bernstein,
    "SipHash: a fast short-input PRF", 2012, appendix A, and the reference
    implementation's table): key 00 01 .. 0f, message 00 01 .. (n-1) for n =
    0 .. 63. Entry 15 is the paper's worked example, a129ca6149be45e5. They
    were checked here against a second implementation, in Python
    (tests/hostile/test_tag.py's forger), written from the paper.
*/
#include "tag.h"
#include "protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const uint64_t s_vectors[64] = {
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

static dv_tag_key_t
s_reference_key (void)
{
    dv_tag_key_t key;
    for (int index = 0; index < DV_TAG_KEY_SIZE; index++)
        key.bytes[index] = (uint8_t) index;
    return key;
}

static void
test_reference_vectors (void **state)
{
    (void) state;
    dv_tag_key_t key = s_reference_key ();
    uint8_t message[64];
    for (int index = 0; index < 64; index++)
        message[index] = (uint8_t) index;
    for (size_t length = 0; length < 64; length++)
        if (dv_siphash (&key, message, length) != s_vectors[length])
            fail_msg ("SipHash-2-4 of %zu bytes: %016llx, not %016llx", length,
                      (unsigned long long) dv_siphash (&key, message, length),
                      (unsigned long long) s_vectors[length]);
    //  The paper's own example: 15 bytes.
    assert_true (dv_siphash (&key, message, 15) == 0xa129ca6149be45e5ULL);
}

//  The batch tag is SipHash-2-4 of job id, first task and values as 8-byte
//  little-endian words, whatever the stride they are read at.
static void
test_batch_is_siphash_of_words (void **state)
{
    (void) state;
    dv_tag_key_t key = s_reference_key ();
    const uint32_t counts[] = {0, 1, 2, 7, 64, 300};
    for (size_t which = 0; which < sizeof counts / sizeof counts[0]; which++) {
        uint32_t count = counts[which];
        uint8_t *words = malloc (8 * ((size_t) count + 2));
        uint8_t *tasks = malloc (DV_TASKS_SIZE (count));
        uint8_t *entries = malloc (DV_RESULT_SIZE * (size_t) count + 1);
        assert_non_null (words);
        assert_non_null (tasks);
        assert_non_null (entries);
        uint64_t job_id = 0x0123456789abcdefULL, first_task = 1000 + count;
        dv_put_u64 (words, job_id);
        dv_put_u64 (words + 8, first_task);
        dv_tasks_encode_header (job_id, first_task, count, tasks);
        for (uint32_t index = 0; index < count; index++) {
            int64_t value = index % 3 == 0   ? INT64_MIN + index
                            : index % 3 == 1 ? -(int64_t) index
                                             : INT64_MAX - index;
            dv_put_u64 (words + 16 + 8 * (size_t) index, (uint64_t) value);
            dv_tasks_put_value (tasks, index, value);
            dv_results_put_entry (entries, index, value, dv_square (value));
        }
        uint64_t expected = dv_siphash (&key, words, 8 * ((size_t) count + 2));
        assert_true (dv_tag_batch (&key, job_id, first_task, tasks + DV_TASKS_SIZE (0), 8,
                                   count) == expected);
        assert_true (dv_tag_batch (&key, job_id, first_task, entries, DV_RESULT_SIZE,
                                   count) == expected);
        free (words);
        free (tasks);
        free (entries);
    }
}

//  What a lying worker might do to a batch, each of which changes the tag.
static void
test_batch_tag_sees_every_change (void **state)
{
    (void) state;
    dv_tag_key_t key = s_reference_key ();
    enum { COUNT = 16 };
    uint8_t values[COUNT * 8];
    for (uint32_t index = 0; index < COUNT; index++)
        dv_put_u64 (values + 8 * index, (uint64_t) (int64_t) (index * 1000 + 7));
    uint64_t tag = dv_tag_batch (&key, 9, 100, values, 8, COUNT);

    uint8_t changed[COUNT * 8];
    //  Each value negated in turn, or off by one.
    for (uint32_t index = 0; index < COUNT; index++) {
        memcpy (changed, values, sizeof values);
        int64_t value = (int64_t) dv_get_u64 (values + 8 * index);
        dv_put_u64 (changed + 8 * index, (uint64_t) -value);
        assert_true (dv_tag_batch (&key, 9, 100, changed, 8, COUNT) != tag);
        dv_put_u64 (changed + 8 * index, (uint64_t) (value + 1));
        assert_true (dv_tag_batch (&key, 9, 100, changed, 8, COUNT) != tag);
    }
    //  Two values swapped.
    memcpy (changed, values, sizeof values);
    memcpy (changed, values + 8, 8);
    memcpy (changed + 8, values, 8);
    assert_true (dv_tag_batch (&key, 9, 100, changed, 8, COUNT) != tag);
    //  The same values for other tasks, another job, fewer of them.
    assert_true (dv_tag_batch (&key, 9, 101, values, 8, COUNT) != tag);
    assert_true (dv_tag_batch (&key, 10, 100, values, 8, COUNT) != tag);
    assert_true (dv_tag_batch (&key, 9, 100, values, 8, COUNT - 1) != tag);
    //  Another key.
    dv_tag_key_t other = key;
    other.bytes[15] ^= 0x80;
    assert_true (dv_tag_batch (&other, 9, 100, values, 8, COUNT) != tag);
    //  And the same batch again: the same tag.
    assert_true (dv_tag_batch (&key, 9, 100, values, 8, COUNT) == tag);
}

static void
test_random_keys (void **state)
{
    (void) state;
    dv_tag_key_t first, second;
    assert_int_equal (dv_tag_key_random (&first), 0);
    assert_int_equal (dv_tag_key_random (&second), 0);
    assert_false (dv_tag_key_is_zero (&first));
    assert_false (dv_tag_key_is_zero (&second));
    //  Two draws of 128 random bits differ (or getrandom is broken).
    assert_false (dv_tag_key_equal (&first, &second));
    assert_true (dv_tag_key_equal (&first, &first));
    dv_tag_key_t zero = {{0}};
    assert_true (dv_tag_key_is_zero (&zero));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reference_vectors),
        cmocka_unit_test (test_batch_is_siphash_of_words),
        cmocka_unit_test (test_batch_tag_sees_every_change),
        cmocka_unit_test (test_random_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
