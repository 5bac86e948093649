/*  test_protocol.c: unit tests for lib/protocol.h, the wire codec.

    Protocol version 2. Three kinds of test. Round trips: every message kind is encoded,
   decoded and compared field by field, and one of each is compared byte by byte to the
   layout documented in protocol.c. Rejects: every malformed shape we can name, fed to
   every decoder, must be refused by all of them. Fuzz: random buffers and random
   mutations of valid messages, from a fixed seed, must never crash a decoder, and
   whatever a decoder accepts must re-encode to exactly the same bytes with its view
   inside the buffer.

    Every buffer handed to a decoder is a heap copy of exactly the message's
    size, so AddressSanitizer reports a read even one byte past the end.
*/
#include "protocol.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  One bit per decoder, for "which decoders accepted these bytes".
#define S_ANNOUNCE  0x01u
#define S_TASKS     0x02u
#define S_RESULTS   0x04u
#define S_HEARTBEAT 0x08u
#define S_CREDIT    0x10u
#define S_KILL      0x20u
#define S_REFUSE    0x40u
//  dv_tasks_decode and dv_results_decode each take two kinds: one bit each.
#define S_RANGE_TASKS 0x80u
#define S_SQUARES     0x100u

//  Large enough for any message, including a full results batch.
#define S_BUFFER_SIZE (DV_RESULTS_SIZE_MAX + 64)

//  Where tests build messages, and where s_decode_all re-encodes what it
//  decoded: never the same buffer.
static uint8_t s_scratch[S_BUFFER_SIZE];
static uint8_t s_reencoded[S_BUFFER_SIZE];

//  xorshift64*: a fixed sequence, so every run fuzzes the same inputs.
static uint64_t
s_random (uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 2685821657736338717ULL;
}

//  A heap copy of exactly size bytes (size may be 0). Caller owns it.
static uint8_t *
s_copy (const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc (size ? size : 1);
    assert_non_null (copy);
    if (size)
        memcpy (copy, data, size);
    return copy;
}

static void
s_put_u32 (uint8_t *target, uint32_t value)
{
    for (int index = 0; index < 4; index++)
        target[index] = (uint8_t) (value >> (8 * index));
}

//  Runs every decoder over data and returns the set that accepted it. For each
//  accepting decoder, checks that the view lies inside data and that encoding
//  the decoded fields gives back exactly data: nothing was accepted that the
//  encoders could not have written.
static unsigned
s_decode_all (const uint8_t *data, size_t size)
{
    unsigned accepted = 0;
    int kind = dv_message_kind (data, size);

    dv_announce_t announce;
    if (dv_announce_decode (data, size, &announce) == 0) {
        accepted |= S_ANNOUNCE;
        assert_int_equal (kind, DV_KIND_ANNOUNCE);
        assert_int_equal (dv_announce_encode (&announce, s_reencoded), size);
        assert_memory_equal (s_reencoded, data, size);
    }
    //  dv_tasks_decode and dv_results_decode take two kinds each: the header
    //  says which, and each has its own bit.
    dv_tasks_t tasks;
    int tasks_rc = dv_tasks_decode (data, size, &tasks);
    if (tasks_rc == 0 && kind == DV_KIND_RANGE_TASKS) {
        accepted |= S_RANGE_TASKS;
        assert_int_equal (size, DV_RANGE_TASKS_SIZE);
        assert_true (tasks.count >= 1 && tasks.count <= DV_BATCH_MAX);
        assert_null (tasks.values);
        assert_int_equal (tasks.tag, 0);
        assert_true (dv_range_fits (tasks.first_value, tasks.count));
        //  The values are the range's: the first, and the last (which fits).
        assert_int_equal (dv_tasks_value (&tasks, 0), tasks.first_value);
        assert_true (dv_tasks_value (&tasks, tasks.count - 1) ==
                     (__int128) tasks.first_value + tasks.count - 1);
        assert_int_equal (dv_range_tasks_encode (tasks.job_id, tasks.first_task,
                                                 tasks.count, tasks.first_value,
                                                 s_reencoded),
                          size);
        assert_memory_equal (s_reencoded, data, size);
    } else if (tasks_rc == 0) {
        accepted |= S_TASKS;
        assert_int_equal (kind, DV_KIND_TASKS);
        assert_true (tasks.count >= 1 && tasks.count <= DV_BATCH_MAX);
        assert_ptr_equal (tasks.values, data + DV_TASKS_SIZE (0));
        assert_ptr_equal (tasks.values + (size_t) tasks.count * DV_TASK_SIZE,
                          data + size);
        size_t encoded = dv_tasks_encode_header (tasks.job_id, tasks.first_task,
                                                 tasks.count, s_reencoded);
        assert_int_equal (encoded, size);
        for (uint32_t index = 0; index < tasks.count; index++)
            dv_tasks_put_value (s_reencoded, index, dv_tasks_value (&tasks, index));
        dv_tasks_put_tag (s_reencoded, tasks.tag);
        assert_memory_equal (s_reencoded, data, size);
    }
    dv_results_t results;
    int results_rc = dv_results_decode (data, size, &results);
    if (results_rc == 0 && kind == DV_KIND_SQUARES) {
        accepted |= S_SQUARES;
        assert_true (results.count >= 1 && results.count <= DV_BATCH_MAX);
        assert_false (results.has_values);
        assert_true (results.square_size == 8 || results.square_size == 16);
        assert_int_equal (results.tag, 0);
        assert_true (results.worker_id_length >= 1 &&
                     results.worker_id_length <= DV_WORKER_ID_MAX);
        assert_ptr_equal (results.worker_id,
                          (const char *) data + DV_SQUARES_SIZE (0, 0, 8));
        assert_ptr_equal (results.entries,
                          data + DV_SQUARES_SIZE (0, results.worker_id_length, 8));
        assert_ptr_equal (results.entries + (size_t) results.count * results.square_size,
                          data + size);
        size_t encoded = dv_squares_encode_header (
            results.job_id, results.first_task, results.count, results.square_size,
            results.worker_id, results.worker_id_length, s_reencoded);
        assert_int_equal (encoded, size);
        uint8_t *entries = dv_squares_entries (s_reencoded, results.worker_id_length);
        for (uint32_t index = 0; index < results.count; index++)
            dv_squares_put (entries, index, results.square_size,
                            dv_results_square (&results, index));
        assert_memory_equal (s_reencoded, data, size);
    } else if (results_rc == 0) {
        accepted |= S_RESULTS;
        assert_int_equal (kind, DV_KIND_RESULTS);
        assert_true (results.has_values);
        assert_int_equal (results.square_size, 16);
        assert_true (results.count >= 1 && results.count <= DV_BATCH_MAX);
        assert_true (results.worker_id_length >= 1 &&
                     results.worker_id_length <= DV_WORKER_ID_MAX);
        assert_ptr_equal (results.worker_id,
                          (const char *) data + DV_RESULTS_SIZE (0, 0));
        assert_ptr_equal (results.entries,
                          data + DV_RESULTS_SIZE (0, results.worker_id_length));
        assert_ptr_equal (results.entries + (size_t) results.count * DV_RESULT_SIZE,
                          data + size);
        size_t encoded = dv_results_encode_header (
            results.job_id, results.first_task, results.count, results.tag,
            results.worker_id, results.worker_id_length, s_reencoded);
        assert_int_equal (encoded, size);
        uint8_t *entries = dv_results_entries (s_reencoded, results.worker_id_length);
        for (uint32_t index = 0; index < results.count; index++) {
            int64_t value;
            dv_u128_t square;
            dv_results_entry (&results, index, &value, &square);
            //  Either reader gives the same square.
            assert_true (dv_results_square (&results, index) == square);
            dv_results_put_entry (entries, index, value, square);
        }
        assert_memory_equal (s_reencoded, data, size);
    }
    dv_heartbeat_t heartbeat;
    if (dv_heartbeat_decode (data, size, &heartbeat) == 0) {
        accepted |= S_HEARTBEAT;
        assert_int_equal (kind, DV_KIND_HEARTBEAT);
        assert_int_equal (dv_heartbeat_encode (&heartbeat, s_reencoded), size);
        assert_memory_equal (s_reencoded, data, size);
    }
    dv_credit_t credit;
    if (dv_credit_decode (data, size, &credit) == 0) {
        accepted |= S_CREDIT;
        assert_int_equal (kind, DV_KIND_CREDIT);
        assert_int_equal (dv_credit_encode (&credit, s_reencoded), size);
        assert_memory_equal (s_reencoded, data, size);
    }
    dv_kill_t kill;
    if (dv_kill_decode (data, size, &kill) == 0) {
        accepted |= S_KILL;
        assert_int_equal (kind, DV_KIND_KILL);
        assert_true (kill.shape != 0);
        assert_int_equal (dv_kill_encode (&kill, s_reencoded), size);
        assert_memory_equal (s_reencoded, data, size);
    }
    dv_refuse_t refuse;
    if (dv_refuse_decode (data, size, &refuse) == 0) {
        accepted |= S_REFUSE;
        assert_int_equal (kind, DV_KIND_REFUSE);
        assert_true (refuse.shape != 0);
        assert_true (refuse.reason >= DV_REFUSE_TOO_LARGE &&
                     refuse.reason <= DV_REFUSE_NO_MEMORY);
        assert_int_equal (dv_refuse_encode (&refuse, s_reencoded), size);
        assert_memory_equal (s_reencoded, data, size);
    }
    return accepted;
}

//  s_decode_all on an exact-size heap copy.
static unsigned
s_decode_copy (const uint8_t *data, size_t size)
{
    uint8_t *copy = s_copy (data, size);
    unsigned accepted = s_decode_all (copy, size);
    free (copy);
    return accepted;
}

//  Asserts that no decoder accepts data, saying which one did.
#define s_assert_rejected(data, size)                                                    \
    do {                                                                                 \
        unsigned accepted_ = s_decode_copy ((data), (size));                             \
        if (accepted_)                                                                   \
            fail_msg ("accepted by decoder set 0x%x, size %zu", accepted_,               \
                      (size_t) (size));                                                  \
    } while (0)

//  Valid messages of every kind, as a pool for the reject and fuzz tests.
typedef struct {
    uint8_t *data;
    size_t size;
    unsigned decoder; //  the one decoder that accepts it
} s_sample_t;

#define S_SAMPLE_MAX 24

static size_t
s_make_samples (s_sample_t *samples)
{
    size_t count = 0;
    uint8_t *buffer = s_scratch;

    dv_announce_t announce = {.job_id = 7,
                              .task_count = 1000,
                              .is_range = true,
                              .range_start = -500,
                              .credit_step = 64};
    samples[count++] =
        (s_sample_t){NULL, dv_announce_encode (&announce, buffer), S_ANNOUNCE};
    samples[count - 1].data = s_copy (buffer, samples[count - 1].size);

    announce = (dv_announce_t){
        .job_id = UINT64_MAX,
        .task_count = 3,
        .expected_sum = {{14, 0, 0, 0}},
        .input_digest = 0xda2bfb225e0d1f05ULL,
        .credit_step = 1,
        .tag_key = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}};
    samples[count++] =
        (s_sample_t){NULL, dv_announce_encode (&announce, buffer), S_ANNOUNCE};
    samples[count - 1].data = s_copy (buffer, samples[count - 1].size);

    size_t size = dv_tasks_encode_header (3, 0, 1, buffer);
    dv_tasks_put_value (buffer, 0, INT64_MIN);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_TASKS};

    size = dv_tasks_encode_header (3, 100, 4, buffer);
    for (uint32_t index = 0; index < 4; index++)
        dv_tasks_put_value (buffer, index, (int64_t) index - 2);
    dv_tasks_put_tag (buffer, 0xfedcba9876543210ULL);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_TASKS};

    size = dv_results_encode_header (3, 100, 2, UINT64_MAX, "w", 1, buffer);
    uint8_t *entries = dv_results_entries (buffer, 1);
    dv_results_put_entry (entries, 0, -2, dv_square (-2));
    dv_results_put_entry (entries, 1, INT64_MIN, dv_square (INT64_MIN));
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_RESULTS};

    size = dv_results_encode_header (3, 0, 1, 0, "host-1:4242", 11, buffer);
    dv_results_put_entry (dv_results_entries (buffer, 11), 0, 9, 81);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_RESULTS};

    size = dv_range_tasks_encode (3, 100, 4, -2, buffer);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_RANGE_TASKS};
    size = dv_range_tasks_encode (UINT64_MAX, UINT64_MAX - 1, 1, INT64_MAX, buffer);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_RANGE_TASKS};

    size = dv_squares_encode_header (3, 100, 2, 8, "w", 1, buffer);
    dv_squares_put (dv_squares_entries (buffer, 1), 0, 8, 4);
    dv_squares_put (dv_squares_entries (buffer, 1), 1, 8, UINT64_MAX);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_SQUARES};
    size = dv_squares_encode_header (3, 0, 3, 16, "host-1:4242", 11, buffer);
    for (uint32_t index = 0; index < 3; index++)
        dv_squares_put (dv_squares_entries (buffer, 11), index, 16,
                        dv_square (INT64_MIN + index));
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_SQUARES};

    dv_heartbeat_t heartbeats[] = {
        {0, DV_STATE_IDLE, 0, 0, 0, 0},
        {3, DV_STATE_RUNNING, 10, 1000, 0x5a, 0},
        {3, DV_STATE_DONE, 1000, 1000, 0x5a, 250},
        {3, DV_STATE_ABANDONED, 10, 1000, UINT64_MAX, 0},
    };
    for (size_t index = 0; index < sizeof heartbeats / sizeof heartbeats[0]; index++) {
        size = dv_heartbeat_encode (&heartbeats[index], buffer);
        samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_HEARTBEAT};
    }

    size = dv_credit_encode (&(dv_credit_t){3, 512, 100, 0x5a}, buffer);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_CREDIT};

    size = dv_kill_encode (&(dv_kill_t){3, 0x5a}, buffer);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_KILL};

    size = dv_refuse_encode (&(dv_refuse_t){4, 0x5b, DV_REFUSE_BUSY, 3}, buffer);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_REFUSE};
    size =
        dv_refuse_encode (&(dv_refuse_t){5, 1, DV_REFUSE_TOO_LARGE, UINT64_MAX}, buffer);
    samples[count++] = (s_sample_t){s_copy (buffer, size), size, S_REFUSE};

    assert_true (count <= S_SAMPLE_MAX);
    return count;
}

static void
s_free_samples (s_sample_t *samples, size_t count)
{
    for (size_t index = 0; index < count; index++)
        free (samples[index].data);
}

//  ---------------------------------------------------------------------------
//  Round trips

static void
test_announce_round_trip (void **state)
{
    (void) state;
    dv_announce_t cases[] = {
        {.job_id = 1,
         .task_count = 1,
         .is_range = true,
         .range_start = 0,
         .credit_step = 1},
        {.job_id = 42,
         .task_count = 1000000,
         .is_range = true,
         .range_start = -500000,
         .credit_step = 4096},
        {.job_id = UINT64_MAX,
         .task_count = UINT64_MAX,
         .is_range = true,
         .range_start = INT64_MIN,
         .credit_step = UINT32_MAX},
        {.job_id = 9,
         .task_count = 1,
         .is_range = true,
         .range_start = INT64_MAX,
         .credit_step = 7},
        //  Not a range: the sum of squares travels instead, all 256 bits,
        //  and the input's digest, all 64.
        {.job_id = 5,
         .task_count = 3,
         .is_range = false,
         .expected_sum = {{UINT64_MAX, 0x0123456789abcdefULL, 1, UINT64_MAX}},
         .input_digest = UINT64_MAX,
         .credit_step = 2,
         .tag_key = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                      0xff, 0xff, 0xff, 0xff, 0xff}}},
        //  Any non-zero key, even one bit of it.
        {.job_id = 6,
         .task_count = 1,
         .is_range = false,
         .input_digest = 0x8000000000000001ULL,
         .credit_step = 1,
         .tag_key = {{[15] = 0x80}}},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        uint8_t buffer[DV_ANNOUNCE_SIZE];
        assert_int_equal (dv_announce_encode (&cases[index], buffer), DV_ANNOUNCE_SIZE);
        assert_int_equal (dv_message_kind (buffer, sizeof buffer), DV_KIND_ANNOUNCE);
        assert_int_equal (s_decode_copy (buffer, sizeof buffer), S_ANNOUNCE);

        dv_announce_t decoded;
        memset (&decoded, 0xa5, sizeof decoded);
        assert_int_equal (dv_announce_decode (buffer, sizeof buffer, &decoded), 0);
        assert_int_equal (decoded.job_id, cases[index].job_id);
        assert_int_equal (decoded.task_count, cases[index].task_count);
        assert_int_equal (decoded.is_range, cases[index].is_range);
        assert_int_equal (decoded.range_start, cases[index].range_start);
        assert_int_equal (decoded.credit_step, cases[index].credit_step);
        assert_true (dv_u256_equal (&decoded.expected_sum, &cases[index].expected_sum));
        assert_int_equal (decoded.input_digest, cases[index].input_digest);
        assert_memory_equal (decoded.tag_key.bytes, cases[index].tag_key.bytes,
                             DV_TAG_KEY_SIZE);
        assert_int_equal (dv_announce_shape (&decoded),
                          dv_announce_shape (&cases[index]));
    }
}

static void
test_tasks_round_trip (void **state)
{
    (void) state;
    const int64_t values[] = {INT64_MIN, INT64_MIN + 1, -1,       0,
                              1,         INT64_MAX - 1, INT64_MAX};
    const uint32_t count = sizeof values / sizeof values[0];
    uint8_t buffer[DV_TASKS_SIZE (7)];
    size_t size = dv_tasks_encode_header (UINT64_MAX, 1234567, count, buffer);
    assert_int_equal (size, sizeof buffer);
    for (uint32_t index = 0; index < count; index++)
        dv_tasks_put_value (buffer, index, values[index]);
    dv_tasks_t tasks;
    //  A header alone says tag 0 (a range job's); the tag is set afterwards.
    assert_int_equal (dv_tasks_decode (buffer, size, &tasks), 0);
    assert_int_equal (tasks.tag, 0);
    dv_tasks_put_tag (buffer, 0x8000000000000001ULL);
    assert_int_equal (s_decode_copy (buffer, size), S_TASKS);

    assert_int_equal (dv_tasks_decode (buffer, size, &tasks), 0);
    assert_int_equal (tasks.job_id, UINT64_MAX);
    assert_int_equal (tasks.first_task, 1234567);
    assert_int_equal (tasks.count, count);
    assert_true (tasks.tag == 0x8000000000000001ULL);
    for (uint32_t index = 0; index < count; index++)
        assert_int_equal (dv_tasks_value (&tasks, index), values[index]);
}

static void
test_tasks_full_batch (void **state)
{
    (void) state;
    size_t size = dv_tasks_encode_header (2, 0, DV_BATCH_MAX, s_scratch);
    assert_int_equal (size, DV_TASKS_SIZE_MAX);
    for (uint32_t index = 0; index < DV_BATCH_MAX; index++)
        dv_tasks_put_value (s_scratch, index, (int64_t) index * -3);
    uint8_t *copy = s_copy (s_scratch, size);
    dv_tasks_t tasks;
    assert_int_equal (dv_tasks_decode (copy, size, &tasks), 0);
    assert_int_equal (tasks.count, DV_BATCH_MAX);
    for (uint32_t index = 0; index < DV_BATCH_MAX; index++)
        assert_int_equal (dv_tasks_value (&tasks, index), (int64_t) index * -3);
    free (copy);
}

static void
test_results_round_trip (void **state)
{
    (void) state;
    const char *worker_ids[] = {
        "w",
        "worker-7@host.example:5558",
        //  Exactly DV_WORKER_ID_MAX bytes.
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    const int64_t values[] = {INT64_MIN, -1, 0, 1, 3037000500, INT64_MAX};
    const uint32_t count = sizeof values / sizeof values[0];
    for (size_t id = 0; id < 3; id++) {
        size_t id_length = strlen (worker_ids[id]);
        uint64_t tag = id == 0 ? 0 : id == 1 ? UINT64_MAX : 0x0123456789abcdefULL;
        size_t size = dv_results_encode_header (8, UINT64_MAX - count, count, tag,
                                                worker_ids[id], id_length, s_scratch);
        assert_int_equal (size, DV_RESULTS_SIZE (count, id_length));
        uint8_t *entries = dv_results_entries (s_scratch, id_length);
        for (uint32_t index = 0; index < count; index++)
            dv_results_put_entry (entries, index, values[index],
                                  dv_square (values[index]));
        uint8_t *copy = s_copy (s_scratch, size);
        assert_int_equal (s_decode_all (copy, size), S_RESULTS);

        dv_results_t results;
        assert_int_equal (dv_results_decode (copy, size, &results), 0);
        assert_int_equal (results.job_id, 8);
        assert_int_equal (results.first_task, UINT64_MAX - count);
        assert_int_equal (results.count, count);
        assert_true (results.tag == tag);
        assert_int_equal (results.worker_id_length, id_length);
        assert_memory_equal (results.worker_id, worker_ids[id], id_length);
        for (uint32_t index = 0; index < count; index++) {
            int64_t value;
            dv_u128_t square;
            dv_results_entry (&results, index, &value, &square);
            assert_int_equal (value, values[index]);
            assert_true (square == dv_square (values[index]));
        }
        free (copy);
    }
    //  A square needs all 128 bits on the wire, even one no worker computes.
    size_t size = dv_results_encode_header (8, 0, 1, 0, "w", 1, s_scratch);
    dv_u128_t all_ones = ~(dv_u128_t) 0;
    dv_results_put_entry (dv_results_entries (s_scratch, 1), 0, -5, all_ones);
    dv_results_t results;
    assert_int_equal (dv_results_decode (s_scratch, size, &results), 0);
    int64_t value;
    dv_u128_t square;
    dv_results_entry (&results, 0, &value, &square);
    assert_int_equal (value, -5);
    assert_true (square == all_ones);
}

static void
test_results_full_batch (void **state)
{
    (void) state;
    const char *worker_id =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    size_t size = dv_results_encode_header (2, 0, DV_BATCH_MAX, 0, worker_id,
                                            DV_WORKER_ID_MAX, s_scratch);
    assert_int_equal (size, DV_RESULTS_SIZE_MAX);
    uint8_t *entries = dv_results_entries (s_scratch, DV_WORKER_ID_MAX);
    for (uint32_t index = 0; index < DV_BATCH_MAX; index++)
        dv_results_put_entry (entries, index, -(int64_t) index, dv_square (index));
    uint8_t *copy = s_copy (s_scratch, size);
    assert_int_equal (s_decode_all (copy, size), S_RESULTS);
    free (copy);
}

//  A range batch carries its first value; dv_tasks_value counts on from it.
static void
test_range_tasks_round_trip (void **state)
{
    (void) state;
    struct {
        uint64_t job_id, first_task;
        uint32_t count;
        int64_t first_value;
    } cases[] = {
        {1, 0, 1, 0},
        {UINT64_MAX, UINT64_MAX - 1, 1, INT64_MAX}, //  the last value there is
        {7, 1234567, 3, -1},
        {8, 0, DV_BATCH_MAX, INT64_MIN},
        {9, UINT64_MAX - DV_BATCH_MAX, DV_BATCH_MAX, INT64_MAX - (DV_BATCH_MAX - 1)},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t buffer[DV_RANGE_TASKS_SIZE];
        assert_int_equal (dv_range_tasks_encode (cases[c].job_id, cases[c].first_task,
                                                 cases[c].count, cases[c].first_value,
                                                 buffer),
                          DV_RANGE_TASKS_SIZE);
        assert_int_equal (dv_message_kind (buffer, sizeof buffer), DV_KIND_RANGE_TASKS);
        assert_int_equal (s_decode_copy (buffer, sizeof buffer), S_RANGE_TASKS);

        dv_tasks_t tasks;
        memset (&tasks, 0xa5, sizeof tasks);
        assert_int_equal (dv_tasks_decode (buffer, sizeof buffer, &tasks), 0);
        assert_int_equal (tasks.job_id, cases[c].job_id);
        assert_int_equal (tasks.first_task, cases[c].first_task);
        assert_int_equal (tasks.count, cases[c].count);
        assert_int_equal (tasks.first_value, cases[c].first_value);
        assert_int_equal (tasks.tag, 0);
        assert_null (tasks.values);
        for (uint32_t index = 0; index < tasks.count; index++)
            assert_int_equal (dv_tasks_value (&tasks, index),
                              (int64_t) ((uint64_t) cases[c].first_value + index));
    }
    //  A TASKS batch says first_value 0 and keeps its values.
    uint8_t buffer[DV_TASKS_SIZE (1)];
    dv_tasks_encode_header (1, 0, 1, buffer);
    dv_tasks_put_value (buffer, 0, 5);
    dv_tasks_t tasks;
    memset (&tasks, 0xa5, sizeof tasks);
    assert_int_equal (dv_tasks_decode (buffer, sizeof buffer, &tasks), 0);
    assert_ptr_equal (tasks.values, buffer + DV_TASKS_SIZE (0));
    assert_int_equal (tasks.first_value, 0);
    assert_int_equal (dv_tasks_value (&tasks, 0), 5);
}

//  SQUARES of both sizes, ids of 1 and DV_WORKER_ID_MAX bytes, 1 and
//  DV_BATCH_MAX squares.
static void
test_squares_round_trip (void **state)
{
    (void) state;
    const char *worker_ids[] = {
        "w",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    const size_t square_sizes[] = {8, 16};
    const uint32_t counts[] = {1, 2, DV_BATCH_MAX};
    for (size_t id = 0; id < 2; id++)
        for (size_t ss = 0; ss < 2; ss++)
            for (size_t c = 0; c < 3; c++) {
                size_t id_length = strlen (worker_ids[id]);
                size_t square_size = square_sizes[ss];
                uint32_t count = counts[c];
                uint64_t first_task = c == 1 ? UINT64_MAX - count : 10 * c;
                size_t size =
                    dv_squares_encode_header (5, first_task, count, square_size,
                                              worker_ids[id], id_length, s_scratch);
                assert_int_equal (size, DV_SQUARES_SIZE (count, id_length, square_size));
                uint8_t *entries = dv_squares_entries (s_scratch, id_length);
                //  8 bytes hold squares below 2^64, 16 any square at all.
                for (uint32_t index = 0; index < count; index++) {
                    dv_u128_t square = square_size == 8
                                           ? (dv_u128_t) (UINT64_MAX - index)
                                           : dv_square (INT64_MIN + (int64_t) index);
                    dv_squares_put (entries, index, square_size, square);
                }
                uint8_t *copy = s_copy (s_scratch, size);
                assert_int_equal (s_decode_all (copy, size), S_SQUARES);

                dv_results_t results;
                memset (&results, 0xa5, sizeof results);
                assert_int_equal (dv_results_decode (copy, size, &results), 0);
                assert_int_equal (results.job_id, 5);
                assert_int_equal (results.first_task, first_task);
                assert_int_equal (results.count, count);
                assert_int_equal (results.tag, 0);
                assert_false (results.has_values);
                assert_int_equal (results.square_size, square_size);
                assert_int_equal (results.worker_id_length, id_length);
                assert_memory_equal (results.worker_id, worker_ids[id], id_length);
                for (uint32_t index = 0; index < count; index++) {
                    dv_u128_t square = square_size == 8
                                           ? (dv_u128_t) (UINT64_MAX - index)
                                           : dv_square (INT64_MIN + (int64_t) index);
                    assert_true (dv_results_square (&results, index) == square);
                }
                free (copy);
            }
    //  A 16-byte square needs all 128 bits, low 8 bytes first.
    size_t size = dv_squares_encode_header (8, 0, 1, 16, "w", 1, s_scratch);
    dv_squares_put (dv_squares_entries (s_scratch, 1), 0, 16, ~(dv_u128_t) 0);
    dv_results_t results;
    assert_int_equal (dv_results_decode (s_scratch, size, &results), 0);
    assert_true (dv_results_square (&results, 0) == ~(dv_u128_t) 0);
    dv_squares_put (dv_squares_entries (s_scratch, 1), 0, 16, (dv_u128_t) 1 << 64);
    assert_true (dv_results_square (&results, 0) == (dv_u128_t) 1 << 64);
    //  An 8-byte square is its 8 bytes only: the next byte is not read.
    size = dv_squares_encode_header (8, 0, 2, 8, "w", 1, s_scratch);
    dv_squares_put (dv_squares_entries (s_scratch, 1), 0, 8, 3);
    dv_squares_put (dv_squares_entries (s_scratch, 1), 1, 8, 0xff);
    assert_int_equal (dv_results_decode (s_scratch, size, &results), 0);
    assert_true (dv_results_square (&results, 0) == 3);
    assert_true (dv_results_square (&results, 1) == 0xff);
}

static void
test_heartbeat_round_trip (void **state)
{
    (void) state;
    dv_heartbeat_t cases[] = {
        {0, DV_STATE_IDLE, 0, 0, 0, 0},
        {1, DV_STATE_RUNNING, 0, 1, 1, 0},
        {UINT64_MAX, DV_STATE_RUNNING, UINT64_MAX - 1, UINT64_MAX, UINT64_MAX, 0},
        {4, DV_STATE_DONE, 10, 10, 0x0123456789abcdefULL, 0},
        //  Done with fewer received than total: allowed (layout only).
        {4, DV_STATE_DONE, 3, 10, 2, 1},
        //  Abandoned: the ventilator went silent, at any count received.
        {4, DV_STATE_ABANDONED, 0, 10, 3, 0},
        {4, DV_STATE_ABANDONED, 10, 10, 3, UINT32_MAX},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        uint8_t buffer[DV_HEARTBEAT_SIZE];
        assert_int_equal (dv_heartbeat_encode (&cases[index], buffer), DV_HEARTBEAT_SIZE);
        assert_int_equal (s_decode_copy (buffer, sizeof buffer), S_HEARTBEAT);
        dv_heartbeat_t decoded;
        assert_int_equal (dv_heartbeat_decode (buffer, sizeof buffer, &decoded), 0);
        assert_int_equal (decoded.job_id, cases[index].job_id);
        assert_int_equal (decoded.state, cases[index].state);
        assert_int_equal (decoded.received, cases[index].received);
        assert_int_equal (decoded.total, cases[index].total);
        assert_int_equal (decoded.shape, cases[index].shape);
    }
}

static void
test_credit_and_kill_round_trip (void **state)
{
    (void) state;
    const uint64_t job_ids[] = {1, 0x8000000000000000ULL, UINT64_MAX};
    const uint64_t received_counts[] = {0, 1, UINT64_MAX};
    const uint64_t shapes[] = {1, 0x8000000000000000ULL, UINT64_MAX};
    for (size_t index = 0; index < 3; index++) {
        uint8_t buffer[DV_CREDIT_SIZE];
        dv_credit_t credit = {job_ids[index], received_counts[index],
                              received_counts[index] / 2, shapes[index]};
        assert_int_equal (dv_credit_encode (&credit, buffer), DV_CREDIT_SIZE);
        assert_int_equal (s_decode_copy (buffer, DV_CREDIT_SIZE), S_CREDIT);
        dv_credit_t decoded;
        assert_int_equal (dv_credit_decode (buffer, DV_CREDIT_SIZE, &decoded), 0);
        assert_int_equal (decoded.job_id, job_ids[index]);
        assert_int_equal (decoded.received, received_counts[index]);
        assert_int_equal (decoded.first_missing, received_counts[index] / 2);
        assert_int_equal (decoded.shape, shapes[index]);

        dv_kill_t kill = {job_ids[index], shapes[index]};
        assert_int_equal (dv_kill_encode (&kill, buffer), DV_KILL_SIZE);
        assert_int_equal (s_decode_copy (buffer, DV_KILL_SIZE), S_KILL);
        dv_kill_t kill_decoded;
        assert_int_equal (dv_kill_decode (buffer, DV_KILL_SIZE, &kill_decoded), 0);
        assert_int_equal (kill_decoded.job_id, job_ids[index]);
        assert_int_equal (kill_decoded.shape, shapes[index]);
    }
}

static void
test_refuse_round_trip (void **state)
{
    (void) state;
    dv_refuse_t cases[] = {
        {1, 1, DV_REFUSE_TOO_LARGE, 4294967296},
        {2, UINT64_MAX, DV_REFUSE_BUSY, 1},
        {UINT64_MAX, 0x0123456789abcdefULL, DV_REFUSE_SHAPE, 0},
        {7, 9, DV_REFUSE_NO_MEMORY, UINT64_MAX},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        uint8_t buffer[DV_REFUSE_SIZE];
        assert_int_equal (dv_refuse_encode (&cases[index], buffer), DV_REFUSE_SIZE);
        assert_int_equal (dv_message_kind (buffer, sizeof buffer), DV_KIND_REFUSE);
        assert_int_equal (s_decode_copy (buffer, sizeof buffer), S_REFUSE);
        dv_refuse_t decoded;
        memset (&decoded, 0xa5, sizeof decoded);
        assert_int_equal (dv_refuse_decode (buffer, sizeof buffer, &decoded), 0);
        assert_int_equal (decoded.job_id, cases[index].job_id);
        assert_int_equal (decoded.shape, cases[index].shape);
        assert_int_equal (decoded.reason, cases[index].reason);
        assert_int_equal (decoded.detail, cases[index].detail);
    }
}

//  One message of each kind against the byte layout in protocol.c's header
//  comment, written out by hand: catches a change of wire format.
static void
test_wire_layout (void **state)
{
    (void) state;
    uint8_t buffer[128];
    memset (buffer, 0xee, sizeof buffer); //  so that a byte left unwritten shows

    dv_announce_t announce = {.job_id = 0x0102030405060708ULL,
                              .task_count = 1000,
                              .is_range = true,
                              .range_start = -2,
                              .credit_step = 256};
    const uint8_t announce_bytes[DV_ANNOUNCE_SIZE] = {
        2,    1,    0,    0,    0,    0,    0,    0,    8, 7, 6, 5, 4, 3, 2, 1, //  header
        0xe8, 0x03, 0,    0,    0,    0,    0,    0,    //  task_count
        1,    0,    0,    0,                            //  options
        0,    1,    0,    0,                            //  credit_step
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //  range_start
        //  expected_sum (32 bytes), input_digest (8) and tag_key (16): zero
        //  for a range
    };
    assert_int_equal (dv_announce_encode (&announce, buffer), sizeof announce_bytes);
    assert_memory_equal (buffer, announce_bytes, sizeof announce_bytes);

    dv_announce_t list = {.job_id = 3,
                          .task_count = 3,
                          .expected_sum = {{14, 0, 0, 0x8000000000000000ULL}},
                          .input_digest = 0x0807060504030201ULL,
                          .credit_step = 1,
                          .tag_key = {{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                       0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf}}};
    const uint8_t
        list_bytes[DV_ANNOUNCE_SIZE] =
            {
                2,    1,    0,    0,    0,    0,    0,    0,    3, 0, 0, 0, 0,
                0,    0,    0,                               //  header
                3,    0,    0,    0,    0,    0,    0,    0, //  task_count
                0,    0,    0,    0,                         //  options: a list
                1,    0,    0,    0,                         //  credit_step
                0,    0,    0,    0,    0,    0,    0,    0, //  range_start
                14,   0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0,
                0,    0,    0, //  expected_sum
                0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0,
                0,    0,    0x80, 1,    2,    3,    4,    5,    6, 7, 8, //  input_digest
                0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,          //  tag_key: k0
                0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,          //  k1
            };
    assert_int_equal (dv_announce_encode (&list, buffer), sizeof list_bytes);
    assert_memory_equal (buffer, list_bytes, sizeof list_bytes);

    const uint8_t tasks_bytes[] = {
        2,    2,    0,    0,    2,    0,    0,    0,    5, 0, 0, 0, 0, 0, 0, 0, //  header
        10,   0,    0,    0,    0,    0,    0,    0,    //  first_task
        0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, //  tag
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //  -1
        2,    0,    0,    0,    0,    0,    0,    0,    //  2
    };
    assert_int_equal (dv_tasks_encode_header (5, 10, 2, buffer), sizeof tasks_bytes);
    dv_tasks_put_value (buffer, 0, -1);
    dv_tasks_put_value (buffer, 1, 2);
    dv_tasks_put_tag (buffer, 0xfedcba9876543210ULL);
    assert_memory_equal (buffer, tasks_bytes, sizeof tasks_bytes);

    const uint8_t results_bytes[] = {
        2,    3,    0,    0,    1,    0,    0,    0,    5, 0, 0, 0, 0, 0, 0, 0, //  header
        0,    0,    0,    0,    0,    0,    0,    0,    //  first_task
        0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, //  tag
        2,    'w',  '1',                                //  worker id
        0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //  -3
        9,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, //  9
    };
    assert_int_equal (
        dv_results_encode_header (5, 0, 1, 0xfedcba9876543210ULL, "w1", 2, buffer),
        sizeof results_bytes);
    dv_results_put_entry (dv_results_entries (buffer, 2), 0, -3, 9);
    assert_memory_equal (buffer, results_bytes, sizeof results_bytes);

    const uint8_t heartbeat_bytes[] = {
        2, 5, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, //  header
        3, 0, 0, 0, 0, 0, 0, 0,                         //  abandoned
        3, 0, 0, 0, 0, 0, 0, 0,                         //  received
        4, 0, 0, 0, 0, 0, 0, 0,                         //  total
        8, 7, 6, 5, 4, 3, 2, 1,                         //  shape
    };
    dv_heartbeat_t heartbeat = {9, DV_STATE_ABANDONED, 3, 4, 0x0102030405060708ULL, 0};
    assert_int_equal (dv_heartbeat_encode (&heartbeat, buffer), sizeof heartbeat_bytes);
    assert_memory_equal (buffer, heartbeat_bytes, sizeof heartbeat_bytes);

    const uint8_t credit_bytes[] = {
        2,    6, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, //  header
        0x10, 0, 0, 0, 0, 0, 0, 0,                         //  received
        7,    0, 0, 0, 0, 0, 0, 0,                         //  first_missing
        0xaa, 0, 0, 0, 0, 0, 0, 0,                         //  shape
    };
    assert_int_equal (dv_credit_encode (&(dv_credit_t){9, 16, 7, 0xaa}, buffer),
                      sizeof credit_bytes);
    assert_memory_equal (buffer, credit_bytes, sizeof credit_bytes);

    const uint8_t kill_bytes[] = {
        2,    4, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, //  header
        0xbb, 0, 0, 0, 0, 0, 0, 0,                         //  shape
    };
    assert_int_equal (dv_kill_encode (&(dv_kill_t){9, 0xbb}, buffer), sizeof kill_bytes);
    assert_memory_equal (buffer, kill_bytes, sizeof kill_bytes);

    const uint8_t refuse_bytes[] = {
        2,    9, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, //  header
        2,    0, 0, 0, 0, 0, 0, 0,                         //  reason: busy
        0x2a, 0, 0, 0, 0, 0, 0, 0,                         //  detail
        0xcc, 0, 0, 0, 0, 0, 0, 0,                         //  shape
    };
    memset (buffer, 0xee, sizeof buffer);
    assert_int_equal (
        dv_refuse_encode (&(dv_refuse_t){9, 0xcc, DV_REFUSE_BUSY, 42}, buffer),
        sizeof refuse_bytes);
    assert_memory_equal (buffer, refuse_bytes, sizeof refuse_bytes);
    const uint8_t range_tasks_bytes[] = {
        2,    12,   0,    0,    3,    0,    0,    0,    5, 0, 0, 0, 0, 0, 0, 0, //  header
        10,   0,    0,    0,    0,    0,    0,    0,    //  first_task
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //  first_value: -2
    };
    memset (buffer, 0xee, sizeof buffer);
    assert_int_equal (dv_range_tasks_encode (5, 10, 3, -2, buffer),
                      sizeof range_tasks_bytes);
    assert_memory_equal (buffer, range_tasks_bytes, sizeof range_tasks_bytes);

    const uint8_t squares_bytes[] = {
        2,    13, 0,   0,   2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, //  header
        7,    0,  0,   0,   0, 0, 0, 0,                         //  first_task
        16,   2,  'w', '1',                                     //  square size, worker id
        9,    0,  0,   0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //  9
        0xaa, 0,  0,   0,   0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, //  2^64 + 0xaa
    };
    memset (buffer, 0xee, sizeof buffer);
    assert_int_equal (dv_squares_encode_header (5, 7, 2, 16, "w1", 2, buffer),
                      sizeof squares_bytes);
    dv_squares_put (dv_squares_entries (buffer, 2), 0, 16, 9);
    dv_squares_put (dv_squares_entries (buffer, 2), 1, 16, ((dv_u128_t) 1 << 64) + 0xaa);
    assert_memory_equal (buffer, squares_bytes, sizeof squares_bytes);

    const uint8_t squares_8_bytes[] = {
        2,    13,   0,    0,    1,    0,    0,    0,    5, 0, 0, 0, 0, 0, 0, 0, //  header
        0,    0,    0,    0,    0,    0,    0,    0,    //  first_task
        8,    1,    'x',                                //  square size, worker id
        0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, //  a square
    };
    memset (buffer, 0xee, sizeof buffer);
    assert_int_equal (dv_squares_encode_header (5, 0, 1, 8, "x", 1, buffer),
                      sizeof squares_8_bytes);
    dv_squares_put (dv_squares_entries (buffer, 1), 0, 8, 0xfedcba9876543210ULL);
    assert_memory_equal (buffer, squares_8_bytes, sizeof squares_8_bytes);
}

static void
test_topic_and_message_kind (void **state)
{
    (void) state;
    for (int kind = DV_KIND_ANNOUNCE; kind <= DV_KIND_SQUARES; kind++) {
        uint8_t topic[2];
        dv_topic ((dv_kind_t) kind, topic);
        assert_int_equal (topic[0], DV_PROTOCOL_VERSION);
        assert_int_equal (topic[1], kind);
    }
    s_sample_t samples[S_SAMPLE_MAX];
    size_t sample_count = s_make_samples (samples);
    for (size_t index = 0; index < sample_count; index++) {
        //  Every message starts with its kind's topic.
        uint8_t topic[2];
        int kind = dv_message_kind (samples[index].data, samples[index].size);
        assert_true (kind >= DV_KIND_ANNOUNCE && kind <= DV_KIND_SQUARES);
        dv_topic ((dv_kind_t) kind, topic);
        assert_memory_equal (samples[index].data, topic, 2);
        assert_int_equal (s_decode_all (samples[index].data, samples[index].size),
                          samples[index].decoder);
    }
    s_free_samples (samples, sample_count);
}

//  ---------------------------------------------------------------------------
//  Rejects

static void
test_message_kind_rejects (void **state)
{
    (void) state;
    uint8_t header[DV_KILL_SIZE];
    dv_kill_encode (&(dv_kill_t){1, 1}, header);
    //  Too short, at every length (exact-size copies: no read past the end).
    for (size_t size = 0; size < DV_HEADER_SIZE; size++) {
        uint8_t *copy = s_copy (header, size);
        assert_int_equal (dv_message_kind (copy, size), 0);
        free (copy);
    }
    assert_int_equal (dv_message_kind (header, sizeof header), DV_KIND_KILL);
    //  Other versions.
    //  Version 1 is the old protocol: its messages are not read as version 2.
    const uint8_t versions[] = {0, 1, 3, 0x7f, 0x80, 0xff};
    for (size_t index = 0; index < sizeof versions; index++) {
        header[0] = versions[index];
        assert_int_equal (dv_message_kind (header, sizeof header), 0);
    }
    header[0] = DV_PROTOCOL_VERSION;
    //  Any flag bit.
    for (int bit = 0; bit < 16; bit++) {
        header[2 + bit / 8] = (uint8_t) (1u << (bit % 8));
        assert_int_equal (dv_message_kind (header, sizeof header), 0);
        header[2] = header[3] = 0;
    }
    //  Kinds it does not know are the callers' to drop: the header is fine.
    header[1] = 0;
    assert_int_equal (dv_message_kind (header, sizeof header), 0);
    header[1] = 200;
    assert_int_equal (dv_message_kind (header, sizeof header), 200);
    s_assert_rejected (header, sizeof header);
    //  Garbage.
    memset (header, 0xff, sizeof header);
    assert_int_equal (dv_message_kind (header, sizeof header), 0);
    memset (header, 0, sizeof header);
    assert_int_equal (dv_message_kind (header, sizeof header), 0);
}

static void
test_truncated_and_extended (void **state)
{
    (void) state;
    s_sample_t samples[S_SAMPLE_MAX];
    size_t sample_count = s_make_samples (samples);
    for (size_t index = 0; index < sample_count; index++) {
        const s_sample_t *sample = &samples[index];
        for (size_t size = 0; size < sample->size; size++)
            s_assert_rejected (sample->data, size);
        //  One byte too long (0 and 0xff), and a whole extra entry too long.
        memcpy (s_scratch, sample->data, sample->size);
        for (size_t extra = 1; extra <= DV_RESULT_SIZE; extra++) {
            memset (s_scratch + sample->size, 0, extra);
            s_assert_rejected (s_scratch, sample->size + extra);
            memset (s_scratch + sample->size, 0xff, extra);
            s_assert_rejected (s_scratch, sample->size + extra);
        }
    }
    s_free_samples (samples, sample_count);
}

static void
test_header_rejects (void **state)
{
    (void) state;
    s_sample_t samples[S_SAMPLE_MAX];
    size_t sample_count = s_make_samples (samples);
    for (size_t index = 0; index < sample_count; index++) {
        const s_sample_t *sample = &samples[index];
        uint8_t *message = s_copy (sample->data, sample->size);
        //  Wrong version.
        for (unsigned version = 0; version < 256; version++) {
            if (version == DV_PROTOCOL_VERSION)
                continue;
            message[0] = (uint8_t) version;
            s_assert_rejected (message, sample->size);
        }
        message[0] = DV_PROTOCOL_VERSION;
        //  Wrong kind: its own decoder no longer takes it. Another may, when
        //  the bytes happen to fit that kind's layout (a REFUSE relabelled
        //  CREDIT is a valid CREDIT: both are 40 bytes), but only the one the
        //  header names (s_decode_all checks that).
        for (unsigned kind = 0; kind < 256; kind++) {
            if (kind == sample->data[1])
                continue;
            message[1] = (uint8_t) kind;
            unsigned accepted = s_decode_copy (message, sample->size);
            if (accepted & sample->decoder)
                fail_msg ("kind %u accepted by decoder set 0x%x", kind, accepted);
        }
        message[1] = sample->data[1];
        //  Any flag bit set.
        for (int bit = 0; bit < 16; bit++) {
            message[2 + bit / 8] = (uint8_t) (1u << (bit % 8));
            s_assert_rejected (message, sample->size);
            message[2] = message[3] = 0;
        }
        assert_int_equal (s_decode_all (message, sample->size), sample->decoder);
        free (message);
    }
    s_free_samples (samples, sample_count);
}

//  Job id 0 means "no job": only an idle heartbeat may carry it.
static void
test_job_id_zero_rejected (void **state)
{
    (void) state;
    s_sample_t samples[S_SAMPLE_MAX];
    size_t sample_count = s_make_samples (samples);
    for (size_t index = 0; index < sample_count; index++) {
        const s_sample_t *sample = &samples[index];
        if (dv_get_u64 (sample->data + 8) == 0)
            continue; //  the idle heartbeat
        uint8_t *message = s_copy (sample->data, sample->size);
        dv_put_u64 (message + 8, 0);
        s_assert_rejected (message, sample->size);
        //  Each byte of the job id counts.
        for (int byte = 0; byte < 8; byte++) {
            dv_put_u64 (message + 8, UINT64_C (0x80) << (8 * byte));
            assert_int_equal (s_decode_all (message, sample->size), sample->decoder);
        }
        free (message);
    }
    s_free_samples (samples, sample_count);
}

//  The header's count field: non-zero where a kind has no count, and for
//  batches 0, too big, or not what the size says.
static void
test_count_rejects (void **state)
{
    (void) state;
    s_sample_t samples[S_SAMPLE_MAX];
    size_t sample_count = s_make_samples (samples);
    for (size_t index = 0; index < sample_count; index++) {
        const s_sample_t *sample = &samples[index];
        if (sample->decoder & (S_TASKS | S_RESULTS | S_RANGE_TASKS | S_SQUARES))
            continue;
        uint8_t *message = s_copy (sample->data, sample->size);
        const uint32_t counts[] = {1, 2, 256, DV_BATCH_MAX, UINT32_MAX};
        for (size_t count = 0; count < 5; count++) {
            s_put_u32 (message + 4, counts[count]);
            s_assert_rejected (message, sample->size);
        }
        free (message);
    }
    s_free_samples (samples, sample_count);

    //  Batches whose size matches their count, but the count is out of range.
    const uint32_t bad_counts[] = {0, DV_BATCH_MAX + 1};
    for (size_t index = 0; index < 2; index++) {
        uint32_t count = bad_counts[index];
        size_t size = dv_tasks_encode_header (1, 0, count, s_scratch);
        memset (s_scratch + DV_TASKS_SIZE (0), 0, size - DV_TASKS_SIZE (0));
        s_assert_rejected (s_scratch, size);
        size = dv_results_encode_header (1, 0, count, 0, "w", 1, s_scratch);
        memset (s_scratch + DV_RESULTS_SIZE (0, 1), 0, size - DV_RESULTS_SIZE (0, 1));
        s_assert_rejected (s_scratch, size);
    }
    //  ... and at the top of the range, accepted.
    size_t size = dv_tasks_encode_header (1, 0, DV_BATCH_MAX, s_scratch);
    memset (s_scratch + DV_TASKS_SIZE (0), 0, size - DV_TASKS_SIZE (0));
    assert_int_equal (s_decode_copy (s_scratch, size), S_TASKS);

    //  A count the size does not match, either way.
    for (uint32_t count = 1; count <= 5; count++) {
        size = dv_tasks_encode_header (1, 0, count, s_scratch);
        memset (s_scratch + DV_TASKS_SIZE (0), 0x11, size - DV_TASKS_SIZE (0));
        assert_int_equal (s_decode_copy (s_scratch, size), S_TASKS);
        s_put_u32 (s_scratch + 4, count + 1);
        s_assert_rejected (s_scratch, size);
        s_put_u32 (s_scratch + 4, count - 1);
        s_assert_rejected (s_scratch, size);
        s_put_u32 (s_scratch + 4, count + (UINT32_C (1) << 31));
        s_assert_rejected (s_scratch, size);

        size = dv_results_encode_header (1, 0, count, 0, "id", 2, s_scratch);
        memset (s_scratch + DV_RESULTS_SIZE (0, 2), 0x22, size - DV_RESULTS_SIZE (0, 2));
        assert_int_equal (s_decode_copy (s_scratch, size), S_RESULTS);
        s_put_u32 (s_scratch + 4, count + 1);
        s_assert_rejected (s_scratch, size);
        s_put_u32 (s_scratch + 4, count - 1);
        s_assert_rejected (s_scratch, size);
    }
}

//  first_task .. first_task + count - 1 must not wrap past UINT64_MAX (task
//  ids are below the job's task count, itself at most UINT64_MAX).
static void
test_first_task_overflow (void **state)
{
    (void) state;
    const uint32_t counts[] = {1, 3, DV_BATCH_MAX};
    for (size_t index = 0; index < 3; index++) {
        uint32_t count = counts[index];
        struct {
            uint64_t first_task;
            bool valid;
        } cases[] = {
            {0, true},
            {UINT64_MAX - count, true},
            {UINT64_MAX - count + 1, false},
            {UINT64_MAX - 1, count == 1},
            {UINT64_MAX, false},
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            size_t size =
                dv_tasks_encode_header (1, cases[c].first_task, count, s_scratch);
            memset (s_scratch + DV_TASKS_SIZE (0), 0, size - DV_TASKS_SIZE (0));
            assert_int_equal (s_decode_copy (s_scratch, size),
                              cases[c].valid ? S_TASKS : 0);
            size = dv_results_encode_header (1, cases[c].first_task, count, 0, "w", 1,
                                             s_scratch);
            memset (s_scratch + DV_RESULTS_SIZE (0, 1), 0, size - DV_RESULTS_SIZE (0, 1));
            assert_int_equal (s_decode_copy (s_scratch, size),
                              cases[c].valid ? S_RESULTS : 0);
            size = dv_range_tasks_encode (1, cases[c].first_task, count, 0, s_scratch);
            assert_int_equal (s_decode_copy (s_scratch, size),
                              cases[c].valid ? S_RANGE_TASKS : 0);
            size = dv_squares_encode_header (1, cases[c].first_task, count, 8, "w", 1,
                                             s_scratch);
            memset (dv_squares_entries (s_scratch, 1), 0, (size_t) count * 8);
            assert_int_equal (s_decode_copy (s_scratch, size),
                              cases[c].valid ? S_SQUARES : 0);
        }
    }
}

static void
test_worker_id_valid (void **state)
{
    (void) state;
    assert_true (dv_worker_id_valid ("a", 1));
    assert_true (dv_worker_id_valid ("!~", 2));
    assert_true (dv_worker_id_valid ("worker-1@host:5558/x_y.z", 24));
    assert_false (dv_worker_id_valid ("", 0));
    assert_false (dv_worker_id_valid ("a", 0));
    assert_false (dv_worker_id_valid ("a=b", 3));
    assert_false (dv_worker_id_valid ("=", 1));
    //  Every printable ASCII character but space, quote, backslash and '='.
    for (int c = 0; c < 256; c++) {
        char id[3] = {'a', (char) c, 'b'};
        bool expected = c > ' ' && c <= '~' && c != '"' && c != '\\' && c != '=';
        assert_int_equal (dv_worker_id_valid (id, 3), expected);
        assert_int_equal (dv_worker_id_valid (id + 1, 1), expected);
        assert_int_equal (dv_worker_id_valid (id + 1, 2), expected);
    }
    char long_id[DV_WORKER_ID_MAX + 2];
    memset (long_id, 'x', sizeof long_id);
    assert_true (dv_worker_id_valid (long_id, DV_WORKER_ID_MAX));
    assert_false (dv_worker_id_valid (long_id, DV_WORKER_ID_MAX + 1));
    assert_false (dv_worker_id_valid (long_id, 255));
}

static void
test_results_worker_id_rejects (void **state)
{
    (void) state;
    char id[256];
    memset (id, 'w', sizeof id);
    //  Length 0, and just over the maximum, with sizes that match.
    size_t lengths[] = {0, DV_WORKER_ID_MAX + 1, 200, 255};
    for (size_t index = 0; index < 4; index++) {
        size_t size =
            dv_results_encode_header (1, 0, 1, 0, id, lengths[index], s_scratch);
        memset (dv_results_entries (s_scratch, lengths[index]), 0, DV_RESULT_SIZE);
        s_assert_rejected (s_scratch, size);
    }
    size_t size = dv_results_encode_header (1, 0, 1, 0, id, DV_WORKER_ID_MAX, s_scratch);
    memset (dv_results_entries (s_scratch, DV_WORKER_ID_MAX), 0, DV_RESULT_SIZE);
    assert_int_equal (s_decode_copy (s_scratch, size), S_RESULTS);

    //  One bad byte at the start, middle or end of an id.
    const unsigned char bad_bytes[] = {' ',  '"',  '\\', 0,    '\t',
                                       '\n', 0x7f, 0x80, 0xc3, 0xff};
    for (size_t bad = 0; bad < sizeof bad_bytes; bad++) {
        const size_t positions[] = {0, 3, 7};
        for (size_t at = 0; at < 3; at++) {
            char text[8];
            memcpy (text, "worker-1", 8);
            text[positions[at]] = (char) bad_bytes[bad];
            size = dv_results_encode_header (1, 0, 1, 0, text, 8, s_scratch);
            memset (dv_results_entries (s_scratch, 8), 0, DV_RESULT_SIZE);
            s_assert_rejected (s_scratch, size);
        }
    }

    //  An id length that runs past the end of the message, or falls short.
    size = dv_results_encode_header (1, 0, 1, 0, "abc", 3, s_scratch);
    memset (dv_results_entries (s_scratch, 3), 'z', DV_RESULT_SIZE);
    const uint8_t wrong_lengths[] = {0, 1, 2, 4, 3 + DV_RESULT_SIZE, 255};
    for (size_t index = 0; index < sizeof wrong_lengths; index++) {
        s_scratch[32] = wrong_lengths[index];
        s_assert_rejected (s_scratch, size);
    }
}

//  A range batch: count 1 .. DV_BATCH_MAX, no wrap of its task ids, and its
//  last value within int64; exactly DV_RANGE_TASKS_SIZE bytes.
static void
test_range_tasks_rejects (void **state)
{
    (void) state;
    struct {
        uint64_t first_task;
        uint32_t count;
        int64_t first_value;
        bool valid;
    } cases[] = {
        {0, 0, 0, false},
        {0, DV_BATCH_MAX + 1, 0, false},
        {0, UINT32_MAX, 0, false},
        {0, DV_BATCH_MAX, 0, true},
        {UINT64_MAX - 1, 1, 0, true},
        {UINT64_MAX, 1, 0, false},
        {UINT64_MAX - 3, 3, 0, true},
        {UINT64_MAX - 2, 3, 0, false},
        {UINT64_MAX - DV_BATCH_MAX, DV_BATCH_MAX, 0, true},
        {UINT64_MAX - DV_BATCH_MAX + 1, DV_BATCH_MAX, 0, false},
        {0, 1, INT64_MAX, true},
        {0, 2, INT64_MAX, false},
        {0, 2, INT64_MAX - 1, true},
        {0, DV_BATCH_MAX, INT64_MAX - (DV_BATCH_MAX - 1), true},
        {0, DV_BATCH_MAX, INT64_MAX - (DV_BATCH_MAX - 2), false},
        {0, DV_BATCH_MAX, INT64_MIN, true},
        {0, DV_BATCH_MAX, -1, true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t buffer[DV_RANGE_TASKS_SIZE];
        dv_range_tasks_encode (1, cases[c].first_task, cases[c].count,
                               cases[c].first_value, buffer);
        unsigned accepted = s_decode_copy (buffer, sizeof buffer);
        if (accepted != (cases[c].valid ? S_RANGE_TASKS : 0))
            fail_msg ("range tasks first %" PRIu64 " count %u value %" PRId64
                      ": accepted by 0x%x",
                      cases[c].first_task, cases[c].count, cases[c].first_value,
                      accepted);
    }
    //  Any other size, even with the right count: a range batch is its header
    //  and two words, never values (a TASKS of one value is 40 bytes).
    dv_range_tasks_encode (1, 0, 1, 7, s_scratch);
    memset (s_scratch + DV_RANGE_TASKS_SIZE, 0, 64);
    for (size_t size = 0; size <= DV_RANGE_TASKS_SIZE + 40; size++)
        if (size != DV_RANGE_TASKS_SIZE)
            s_assert_rejected (s_scratch, size);
    //  ... and a TASKS header relabelled, or a RANGE_TASKS as TASKS.
    size_t size = dv_tasks_encode_header (1, 0, 1, s_scratch);
    dv_tasks_put_value (s_scratch, 0, 7);
    s_scratch[1] = DV_KIND_RANGE_TASKS;
    s_assert_rejected (s_scratch, size);
    dv_range_tasks_encode (1, 0, 2, 7, s_scratch);
    s_scratch[1] = DV_KIND_TASKS;
    s_assert_rejected (s_scratch, DV_RANGE_TASKS_SIZE);
}

//  SQUARES: a square size of 8 or 16 and nothing else, a count and size that
//  agree, no wrap, a valid worker id.
static void
test_squares_rejects (void **state)
{
    (void) state;
    //  Every square size, with a message size that matches it.
    for (unsigned square_size = 0; square_size < 256; square_size++) {
        size_t size = dv_squares_encode_header (1, 0, 2, square_size, "w", 1, s_scratch);
        memset (dv_squares_entries (s_scratch, 1), 0, 2 * (size_t) square_size);
        unsigned accepted = s_decode_copy (s_scratch, size);
        bool valid = square_size == 8 || square_size == 16;
        if (accepted != (valid ? S_SQUARES : 0))
            fail_msg ("square size %u: accepted by 0x%x", square_size, accepted);
    }
    //  The named near misses, one square each, and the two sizes swapped.
    const unsigned bad_sizes[] = {0, 1, 15, 17, 24};
    for (size_t index = 0; index < sizeof bad_sizes / sizeof bad_sizes[0]; index++) {
        size_t size =
            dv_squares_encode_header (1, 0, 1, bad_sizes[index], "w", 1, s_scratch);
        memset (dv_squares_entries (s_scratch, 1), 0, bad_sizes[index]);
        s_assert_rejected (s_scratch, size);
    }
    size_t size = dv_squares_encode_header (1, 0, 1, 16, "w", 1, s_scratch);
    memset (dv_squares_entries (s_scratch, 1), 0, 16);
    s_scratch[24] = 8;
    s_assert_rejected (s_scratch, size);
    size = dv_squares_encode_header (1, 0, 3, 8, "w", 1, s_scratch);
    memset (dv_squares_entries (s_scratch, 1), 0, 24);
    s_scratch[24] = 16;
    s_assert_rejected (s_scratch, size);

    //  Counts out of range, with sizes that match; and counts the size does
    //  not match.
    const uint32_t bad_counts[] = {0, DV_BATCH_MAX + 1};
    for (size_t index = 0; index < 2; index++)
        for (size_t square_size = 8; square_size <= 16; square_size += 8) {
            size = dv_squares_encode_header (1, 0, bad_counts[index], square_size, "w", 1,
                                             s_scratch);
            memset (dv_squares_entries (s_scratch, 1), 0,
                    size - DV_SQUARES_SIZE (0, 1, 8));
            s_assert_rejected (s_scratch, size);
        }
    for (uint32_t count = 1; count <= 5; count++)
        for (size_t square_size = 8; square_size <= 16; square_size += 8) {
            size =
                dv_squares_encode_header (1, 0, count, square_size, "id", 2, s_scratch);
            memset (dv_squares_entries (s_scratch, 2), 0x22, count * square_size);
            assert_int_equal (s_decode_copy (s_scratch, size), S_SQUARES);
            s_put_u32 (s_scratch + 4, count + 1);
            s_assert_rejected (s_scratch, size);
            s_put_u32 (s_scratch + 4, count - 1);
            s_assert_rejected (s_scratch, size);
            s_put_u32 (s_scratch + 4, count + (UINT32_C (1) << 31));
            s_assert_rejected (s_scratch, size);
        }
    //  A SQUARES is no RESULTS, nor the other way round.
    size = dv_squares_encode_header (1, 0, 1, 16, "w", 1, s_scratch);
    memset (dv_squares_entries (s_scratch, 1), 0, 16);
    s_scratch[1] = DV_KIND_RESULTS;
    s_assert_rejected (s_scratch, size);
    size = dv_results_encode_header (1, 0, 1, 0, "w", 1, s_scratch);
    dv_results_put_entry (dv_results_entries (s_scratch, 1), 0, 3, 9);
    s_scratch[1] = DV_KIND_SQUARES;
    s_assert_rejected (s_scratch, size);

    //  Worker ids: length 0 and over the maximum, with sizes that match.
    char id[256];
    memset (id, 'w', sizeof id);
    const size_t lengths[] = {0, DV_WORKER_ID_MAX + 1, 200, 255};
    for (size_t index = 0; index < 4; index++) {
        size = dv_squares_encode_header (1, 0, 1, 8, id, lengths[index], s_scratch);
        memset (dv_squares_entries (s_scratch, lengths[index]), 0, 8);
        s_assert_rejected (s_scratch, size);
    }
    size = dv_squares_encode_header (1, 0, 1, 8, id, DV_WORKER_ID_MAX, s_scratch);
    memset (dv_squares_entries (s_scratch, DV_WORKER_ID_MAX), 0, 8);
    assert_int_equal (s_decode_copy (s_scratch, size), S_SQUARES);
    //  One bad byte at the start, middle or end of an id.
    const unsigned char bad_bytes[] = {' ', '"', '\\', '=', 0, '\n', 0x7f, 0x80, 0xff};
    for (size_t bad = 0; bad < sizeof bad_bytes; bad++) {
        const size_t positions[] = {0, 3, 7};
        for (size_t at = 0; at < 3; at++) {
            char text[8];
            memcpy (text, "worker-1", 8);
            text[positions[at]] = (char) bad_bytes[bad];
            size = dv_squares_encode_header (1, 0, 1, 16, text, 8, s_scratch);
            memset (dv_squares_entries (s_scratch, 8), 0, 16);
            s_assert_rejected (s_scratch, size);
        }
    }
    //  An id length that runs past the end of the message, or falls short.
    size = dv_squares_encode_header (1, 0, 1, 8, "abc", 3, s_scratch);
    memset (dv_squares_entries (s_scratch, 3), 'z', 8);
    const uint8_t wrong_lengths[] = {0, 1, 2, 4, 3 + 8, 255};
    for (size_t index = 0; index < sizeof wrong_lengths; index++) {
        s_scratch[25] = wrong_lengths[index];
        s_assert_rejected (s_scratch, size);
    }
}

static void
s_check_announce (const dv_announce_t *announce, bool valid)
{
    uint8_t buffer[DV_ANNOUNCE_SIZE];
    dv_announce_encode (announce, buffer);
    unsigned accepted = s_decode_copy (buffer, sizeof buffer);
    if (accepted != (valid ? S_ANNOUNCE : 0))
        fail_msg ("announce range %d start %" PRId64 " count %" PRIu64
                  " step %u: expected %s",
                  announce->is_range, announce->range_start, announce->task_count,
                  announce->credit_step, valid ? "accept" : "reject");
}

static void
test_announce_rejects (void **state)
{
    (void) state;
    dv_announce_t announce = {.job_id = 1,
                              .task_count = 10,
                              .is_range = true,
                              .range_start = 0,
                              .credit_step = 1};
    s_check_announce (&announce, true);
    announce.task_count = 0;
    s_check_announce (&announce, false);
    announce.is_range = false;
    s_check_announce (&announce, false);
    announce.task_count = 10;
    announce.credit_step = 0;
    s_check_announce (&announce, false);
    announce.is_range = true;
    s_check_announce (&announce, false);
    announce.credit_step = 1;

    uint8_t buffer[DV_ANNOUNCE_SIZE];
    dv_announce_encode (&announce, buffer);
    //  Unknown option bits.
    for (int bit = 1; bit < 8; bit++) {
        buffer[24] = (uint8_t) (1u << bit);
        s_assert_rejected (buffer, sizeof buffer);
        buffer[24] = (uint8_t) (1u << bit | 1);
        s_assert_rejected (buffer, sizeof buffer);
    }
    buffer[24] = 1;
    //  Reserved bytes.
    for (int byte = 25; byte < 28; byte++) {
        buffer[byte] = 1;
        s_assert_rejected (buffer, sizeof buffer);
        buffer[byte] = 0x80;
        s_assert_rejected (buffer, sizeof buffer);
        buffer[byte] = 0;
    }
    assert_int_equal (s_decode_copy (buffer, sizeof buffer), S_ANNOUNCE);

    //  A range has no input: any bit of a sum, a digest or a tag key is refused.
    for (int byte = 40; byte < DV_ANNOUNCE_SIZE; byte++) {
        buffer[byte] = 0x01;
        s_assert_rejected (buffer, sizeof buffer);
        buffer[byte] = 0x80;
        s_assert_rejected (buffer, sizeof buffer);
        buffer[byte] = 0;
    }
    assert_int_equal (s_decode_copy (buffer, sizeof buffer), S_ANNOUNCE);
    //  ... while a list takes any sum and digest, zero included, but needs a
    //  tag key: without one its values would go unchecked.
    announce.is_range = false;
    announce.input_digest = 1;
    s_check_announce (&announce, false);
    for (int byte = 0; byte < DV_TAG_KEY_SIZE; byte++) {
        announce.tag_key = (dv_tag_key_t){{0}};
        announce.tag_key.bytes[byte] = 0x01;
        s_check_announce (&announce, true);
        announce.tag_key.bytes[byte] = 0x80;
        s_check_announce (&announce, true);
    }
    announce.input_digest = 0;
    announce.expected_sum.limb[3] = 1;
    s_check_announce (&announce, true);
}

//  Ranges whose last value start + count - 1 does or does not fit int64.
static void
test_announce_range_fits (void **state)
{
    (void) state;
    const uint64_t two_pow_63 = UINT64_C (1) << 63;
    struct {
        int64_t start;
        uint64_t count;
        bool fits;
    } cases[] = {
        {0, 1, true},
        {INT64_MAX, 1, true},
        {INT64_MAX, 2, false},
        {INT64_MAX, UINT64_MAX, false},
        {INT64_MAX - 9, 10, true},
        {INT64_MAX - 9, 11, false},
        {0, two_pow_63, true}, //  0 .. INT64_MAX
        {0, two_pow_63 + 1, false},
        {1, two_pow_63 - 1, true},
        {1, two_pow_63, false},
        {-1, two_pow_63 + 1, true}, //  -1 .. INT64_MAX
        {-1, two_pow_63 + 2, false},
        {INT64_MIN, 1, true},
        {INT64_MIN, two_pow_63, true},     //  INT64_MIN .. -1
        {INT64_MIN, UINT64_MAX, true},     //  INT64_MIN .. INT64_MAX - 1
        {INT64_MIN + 1, UINT64_MAX, true}, //  INT64_MIN + 1 .. INT64_MAX
        {INT64_MIN + 2, UINT64_MAX, false},
        {INT64_MIN + 2, UINT64_MAX - 1, true},
        {-5, UINT64_MAX, false},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        if (dv_range_fits (cases[index].start, cases[index].count) != cases[index].fits)
            fail_msg ("dv_range_fits (%" PRId64 ", %" PRIu64 ") should be %d",
                      cases[index].start, cases[index].count, cases[index].fits);
        dv_announce_t announce = {.job_id = 1,
                                  .task_count = cases[index].count,
                                  .is_range = true,
                                  .range_start = cases[index].start,
                                  .credit_step = 1};
        s_check_announce (&announce, cases[index].fits);
        //  Without the range flag the start is not a range: always accepted
        //  (with the tag key every list job has).
        announce.is_range = false;
        announce.tag_key.bytes[0] = 1;
        s_check_announce (&announce, true);
    }
    //  No count is a range.
    assert_false (dv_range_fits (0, 0));
    assert_false (dv_range_fits (INT64_MIN, 0));
    assert_false (dv_range_fits (INT64_MAX, 0));

    //  Against 128-bit arithmetic, for random pairs near the edges.
    uint64_t random_state = 0x2545f4914f6cdd1dULL;
    for (int round = 0; round < 100000; round++) {
        uint64_t pick = s_random (&random_state);
        int64_t start = (int64_t) s_random (&random_state);
        uint64_t count = s_random (&random_state);
        if (pick % 3 == 0)
            count = (uint64_t) INT64_MAX - (uint64_t) start + (pick >> 8) % 5 - 1;
        else if (pick % 3 == 1)
            count %= 1000;
        bool expected = count >= 1 && (__int128) start + count - 1 <= INT64_MAX;
        assert_int_equal (dv_range_fits (start, count), expected);
    }
}

static void
s_check_heartbeat (uint64_t job_id, unsigned state, uint64_t received, uint64_t total,
                   uint64_t shape, bool valid)
{
    dv_heartbeat_t heartbeat = {job_id, DV_STATE_IDLE, received, total, shape, 0};
    uint8_t buffer[DV_HEARTBEAT_SIZE];
    dv_heartbeat_encode (&heartbeat, buffer);
    buffer[16] = (uint8_t) state;
    unsigned accepted = s_decode_copy (buffer, sizeof buffer);
    if (accepted != (valid ? S_HEARTBEAT : 0))
        fail_msg ("heartbeat job %" PRIu64 " state %u received %" PRIu64 " total %" PRIu64
                  " shape %" PRIu64 ": expected %s",
                  job_id, state, received, total, shape, valid ? "accept" : "reject");
}

static void
test_heartbeat_rejects (void **state)
{
    (void) state;
    s_check_heartbeat (0, DV_STATE_IDLE, 0, 0, 0, true);
    //  Idle means no job at all, and so no shape.
    s_check_heartbeat (1, DV_STATE_IDLE, 0, 0, 0, false);
    s_check_heartbeat (0, DV_STATE_IDLE, 1, 0, 0, false);
    s_check_heartbeat (0, DV_STATE_IDLE, 0, 1, 0, false);
    s_check_heartbeat (0, DV_STATE_IDLE, 1, 1, 0, false);
    s_check_heartbeat (0, DV_STATE_IDLE, 0, 0, 1, false);
    s_check_heartbeat (0, DV_STATE_IDLE, 0, 0, UINT64_MAX, false);
    //  Running, done and abandoned: a job, its total, and its shape.
    for (unsigned with_job = DV_STATE_RUNNING; with_job <= DV_STATE_ABANDONED;
         with_job++) {
        s_check_heartbeat (1, with_job, 0, 1, 1, true);
        s_check_heartbeat (1, with_job, 5, 5, UINT64_MAX, true);
        s_check_heartbeat (1, with_job, 5, 5, 0, false);
        s_check_heartbeat (0, with_job, 0, 1, 1, false);
        s_check_heartbeat (1, with_job, 0, 0, 1, false);
        s_check_heartbeat (1, with_job, 6, 5, 1, false);
        s_check_heartbeat (1, with_job, UINT64_MAX, UINT64_MAX - 1, 1, false);
    }
    //  Unknown states.
    for (unsigned state = DV_STATE_ABANDONED + 1; state < 256; state++) {
        s_check_heartbeat (0, state, 0, 0, 0, false);
        s_check_heartbeat (1, state, 1, 2, 3, false);
    }
    //  Reserved bytes after the state.
    dv_heartbeat_t heartbeat = {1, DV_STATE_RUNNING, 1, 2, 3, 0};
    uint8_t buffer[DV_HEARTBEAT_SIZE];
    dv_heartbeat_encode (&heartbeat, buffer);
    for (int byte = 17; byte < 24; byte++) {
        buffer[byte] = 1;
        s_assert_rejected (buffer, sizeof buffer);
        buffer[byte] = 0;
    }
    assert_int_equal (s_decode_copy (buffer, sizeof buffer), S_HEARTBEAT);
}

//  CREDIT and KILL name the shape of the sink's job: never 0.
static void
test_credit_and_kill_shape_zero_rejected (void **state)
{
    (void) state;
    uint8_t buffer[DV_CREDIT_SIZE];
    dv_credit_encode (&(dv_credit_t){1, 2, 3, 0}, buffer);
    s_assert_rejected (buffer, DV_CREDIT_SIZE);
    for (int byte = 32; byte < 40; byte++) {
        buffer[byte] = 1;
        assert_int_equal (s_decode_copy (buffer, DV_CREDIT_SIZE), S_CREDIT);
        buffer[byte] = 0;
    }
    dv_kill_encode (&(dv_kill_t){1, 0}, buffer);
    s_assert_rejected (buffer, DV_KILL_SIZE);
    for (int byte = 16; byte < 24; byte++) {
        buffer[byte] = 0x80;
        assert_int_equal (s_decode_copy (buffer, DV_KILL_SIZE), S_KILL);
        buffer[byte] = 0;
    }
    //  A version 1 KILL (the header alone) is no KILL at all.
    dv_kill_encode (&(dv_kill_t){1, 1}, buffer);
    s_assert_rejected (buffer, DV_HEADER_SIZE);
}

static void
test_refuse_rejects (void **state)
{
    (void) state;
    uint8_t buffer[DV_REFUSE_SIZE];
    dv_refuse_encode (&(dv_refuse_t){1, 1, DV_REFUSE_SHAPE, 0}, buffer);
    assert_int_equal (s_decode_copy (buffer, sizeof buffer), S_REFUSE);
    //  Reasons 1 .. 4 only.
    for (unsigned reason = 0; reason < 256; reason++) {
        buffer[16] = (uint8_t) reason;
        bool known = reason >= DV_REFUSE_TOO_LARGE && reason <= DV_REFUSE_NO_MEMORY;
        assert_int_equal (s_decode_copy (buffer, sizeof buffer), known ? S_REFUSE : 0);
    }
    buffer[16] = DV_REFUSE_SHAPE;
    //  Reserved bytes after the reason.
    for (int byte = 17; byte < 24; byte++) {
        buffer[byte] = 1;
        s_assert_rejected (buffer, sizeof buffer);
        buffer[byte] = 0;
    }
    //  Shape 0: no announcement has it.
    dv_put_u64 (buffer + 32, 0);
    s_assert_rejected (buffer, sizeof buffer);
    dv_put_u64 (buffer + 32, 1);
    //  Any detail is fine.
    dv_put_u64 (buffer + 24, UINT64_MAX);
    assert_int_equal (s_decode_copy (buffer, sizeof buffer), S_REFUSE);
}

//  The digest is FNV-1a 64 over each value's 8 little-endian bytes; the
//  expected values are Python's, computed apart from the library.
static void
test_digest (void **state)
{
    (void) state;
    dv_digest_t digest;
    dv_digest_init (&digest);
    assert_int_equal (digest.state, 0xcbf29ce484222325ULL);
    dv_digest_add (&digest, 0);
    assert_int_equal (digest.state, 0xa8c7f832281a39c5ULL);
    dv_digest_init (&digest);
    dv_digest_add (&digest, -1);
    assert_int_equal (digest.state, 0x8cf51a8bfca3883dULL);
    dv_digest_init (&digest);
    for (int64_t value = 1; value <= 3; value++)
        dv_digest_add (&digest, value);
    assert_int_equal (digest.state, 0xda2bfb225e0d1f05ULL);
    //  Order matters: the same values the other way round differ.
    dv_digest_t reversed;
    dv_digest_init (&reversed);
    for (int64_t value = 3; value >= 1; value--)
        dv_digest_add (&reversed, value);
    assert_true (reversed.state != digest.state);
}

//  What makes two announcements the same job.
static void
test_announce_shape (void **state)
{
    (void) state;
    dv_announce_t range = {.job_id = 1,
                           .task_count = 1000,
                           .is_range = true,
                           .range_start = -2,
                           .credit_step = 256};
    //  Python: FNV-1a over task_count, 1, range_start as u64 each.
    assert_int_equal (dv_announce_shape (&range), 0x698e4b9b8e75d474ULL);
    //  Neither the job id nor the credit step is part of the shape.
    dv_announce_t other = range;
    other.job_id = 2;
    other.credit_step = 1;
    assert_int_equal (dv_announce_shape (&other), dv_announce_shape (&range));
    other = range;
    other.task_count++;
    assert_true (dv_announce_shape (&other) != dv_announce_shape (&range));
    other = range;
    other.range_start++;
    assert_true (dv_announce_shape (&other) != dv_announce_shape (&range));
    other = range;
    other.is_range = false;
    assert_true (dv_announce_shape (&other) != dv_announce_shape (&range));

    dv_announce_t list = {.job_id = 1,
                          .task_count = 3,
                          .expected_sum = {{14, 0, 0, 0}},
                          .input_digest = 0xda2bfb225e0d1f05ULL,
                          .credit_step = 1};
    //  Python: FNV-1a over task_count, 0, input_digest, the sum's four limbs.
    assert_int_equal (dv_announce_shape (&list), 0x310e23df7b453ec1ULL);
    other = list;
    other.range_start = 99; //  not part of a list's shape
    assert_int_equal (dv_announce_shape (&other), dv_announce_shape (&list));
    //  Nor the tag key: a restarted ventilator draws a new one.
    other = list;
    other.tag_key.bytes[0] ^= 1;
    other.tag_key.bytes[15] ^= 0x80;
    assert_int_equal (dv_announce_shape (&other), dv_announce_shape (&list));
    other = list;
    other.input_digest ^= 1;
    assert_true (dv_announce_shape (&other) != dv_announce_shape (&list));
    for (int limb = 0; limb < 4; limb++) {
        other = list;
        other.expected_sum.limb[limb] ^= UINT64_C (1) << 63;
        assert_true (dv_announce_shape (&other) != dv_announce_shape (&list));
    }
    //  Never 0, over many announcements.
    uint64_t random_state = 0x853c49e6748fea9bULL;
    for (int round = 0; round < 10000; round++) {
        dv_announce_t random = {.task_count = s_random (&random_state),
                                .is_range = round & 1,
                                .range_start = (int64_t) s_random (&random_state),
                                .input_digest = s_random (&random_state)};
        assert_true (dv_announce_shape (&random) != 0);
    }
}

//  ---------------------------------------------------------------------------
//  Fuzz

#define S_FUZZ_ROUNDS 100000

static const size_t s_message_sizes[] = {
    DV_HEADER_SIZE,
    DV_KILL_SIZE,
    DV_CREDIT_SIZE,
    DV_REFUSE_SIZE,
    DV_HEARTBEAT_SIZE,
    DV_ANNOUNCE_SIZE,
    DV_TASKS_SIZE (0),
    DV_TASKS_SIZE (1),
    DV_TASKS_SIZE (3),
    DV_RESULTS_SIZE (0, 0),
    DV_RESULTS_SIZE (1, 1),
    DV_RESULTS_SIZE (2, 5),
    DV_RANGE_TASKS_SIZE,
    DV_SQUARES_SIZE (0, 0, 8),
    DV_SQUARES_SIZE (1, 1, 8),
    DV_SQUARES_SIZE (2, 5, 8),
    DV_SQUARES_SIZE (1, 1, 16),
    DV_SQUARES_SIZE (3, 2, 16),
};

//  Random bytes, biased towards plausible headers so that the fuzz gets past
//  the first check and into every decoder's body.
static void
test_fuzz_random_buffers (void **state)
{
    (void) state;
    uint64_t random_state = 0x9e3779b97f4a7c15ULL;
    uint8_t buffer[256];
    for (int round = 0; round < S_FUZZ_ROUNDS; round++) {
        for (size_t index = 0; index < sizeof buffer; index += 8)
            dv_put_u64 (buffer + index, s_random (&random_state));
        uint64_t pick = s_random (&random_state);
        size_t size;
        if (pick % 4 == 0)
            size = (size_t) (pick >> 8) % sizeof buffer;
        else {
            size =
                s_message_sizes[(pick >> 8) % (sizeof s_message_sizes / sizeof (size_t))];
            size += (size_t) ((pick >> 16) % 5) - 2 + ((pick >> 24) % 3 == 0) * 24;
            if (size > sizeof buffer)
                size = sizeof buffer;
            buffer[0] = DV_PROTOCOL_VERSION;
            buffer[1] = (uint8_t) (1 + (pick >> 32) % DV_KIND_SQUARES);
            buffer[2] = buffer[3] = (pick >> 40) % 16 ? 0 : buffer[3];
            s_put_u32 (buffer + 4, (uint32_t) ((pick >> 44) % 4));
            //  Small, plausible fields: ids, states, worker id lengths (32).
            for (int byte = 16; byte < 33; byte++)
                if ((pick >> (byte + 30)) & 1)
                    buffer[byte] = (uint8_t) (buffer[byte] % 6);
            if ((pick >> 56) & 1) {
                memset (buffer + 17, 0, 7);
                memset (buffer + 25, 0, 3);
            }
            //  SQUARES: a square size it takes, and a short worker id.
            if (buffer[1] == DV_KIND_SQUARES && (pick >> 57) & 1) {
                buffer[24] = (pick >> 58) & 1 ? 16 : 8;
                buffer[25] = (uint8_t) (buffer[25] % 6);
            }
        }
        s_decode_copy (buffer, size);
    }
}

//  Valid messages with a few random changes: flipped bits, overwritten bytes,
//  cut short or lengthened.
static void
test_fuzz_mutations (void **state)
{
    (void) state;
    s_sample_t samples[S_SAMPLE_MAX];
    size_t sample_count = s_make_samples (samples);
    uint64_t random_state = 0xdeadbeefcafef00dULL;
    uint8_t buffer[512];
    unsigned long accepted_count = 0;
    for (int round = 0; round < S_FUZZ_ROUNDS; round++) {
        const s_sample_t *sample = &samples[s_random (&random_state) % sample_count];
        memcpy (buffer, sample->data, sample->size);
        size_t size = sample->size;
        int mutations = 1 + (int) (s_random (&random_state) % 4);
        for (int mutation = 0; mutation < mutations; mutation++) {
            uint64_t pick = s_random (&random_state);
            size_t at = size ? (size_t) (pick >> 8) % size : 0;
            switch (pick % 6) {
                case 0:
                    if (size)
                        buffer[at] ^= (uint8_t) (1u << ((pick >> 40) % 8));
                    break;
                case 1:
                    if (size)
                        buffer[at] = (uint8_t) (pick >> 40);
                    break;
                case 2:
                    if (size)
                        buffer[at] = (pick >> 40) & 1 ? 0 : 0xff;
                    break;
                case 3:
                    size = size ? (size_t) (pick >> 8) % size : 0;
                    break;
                case 4: {
                    size_t extra = 1 + (size_t) (pick >> 8) % 32;
                    if (size + extra <= sizeof buffer) {
                        for (size_t index = 0; index < extra; index++)
                            buffer[size + index] = (uint8_t) (pick >> (index % 56));
                        size += extra;
                    }
                    break;
                }
                default:
                    //  A new count field: the decoders must not believe it.
                    if (size >= DV_HEADER_SIZE)
                        s_put_u32 (buffer + 4, (uint32_t) (pick >> 16));
                    break;
            }
        }
        if (s_decode_copy (buffer, size))
            accepted_count++;
    }
    //  The mutations are not all fatal: some survive (in values, ids, job ids).
    assert_true (accepted_count > S_FUZZ_ROUNDS / 100);
    s_free_samples (samples, sample_count);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_announce_round_trip),
        cmocka_unit_test (test_tasks_round_trip),
        cmocka_unit_test (test_tasks_full_batch),
        cmocka_unit_test (test_results_round_trip),
        cmocka_unit_test (test_results_full_batch),
        cmocka_unit_test (test_range_tasks_round_trip),
        cmocka_unit_test (test_squares_round_trip),
        cmocka_unit_test (test_heartbeat_round_trip),
        cmocka_unit_test (test_credit_and_kill_round_trip),
        cmocka_unit_test (test_refuse_round_trip),
        cmocka_unit_test (test_wire_layout),
        cmocka_unit_test (test_topic_and_message_kind),
        cmocka_unit_test (test_message_kind_rejects),
        cmocka_unit_test (test_truncated_and_extended),
        cmocka_unit_test (test_header_rejects),
        cmocka_unit_test (test_job_id_zero_rejected),
        cmocka_unit_test (test_count_rejects),
        cmocka_unit_test (test_first_task_overflow),
        cmocka_unit_test (test_worker_id_valid),
        cmocka_unit_test (test_results_worker_id_rejects),
        cmocka_unit_test (test_range_tasks_rejects),
        cmocka_unit_test (test_squares_rejects),
        cmocka_unit_test (test_announce_rejects),
        cmocka_unit_test (test_announce_range_fits),
        cmocka_unit_test (test_heartbeat_rejects),
        cmocka_unit_test (test_credit_and_kill_shape_zero_rejected),
        cmocka_unit_test (test_refuse_rejects),
        cmocka_unit_test (test_digest),
        cmocka_unit_test (test_announce_shape),
        cmocka_unit_test (test_fuzz_random_buffers),
        cmocka_unit_test (test_fuzz_mutations),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
