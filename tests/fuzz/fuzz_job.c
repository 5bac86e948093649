/*  fuzz_job.c: the sink's accounting (sink/job.c) against scripts of batches.

    An input is a small job and a script of result batches for it. Missing
    bytes read as zero, so every input is a script:

      byte 0       bit 0: a range job; bits 1-7: job id - 1
      bytes 1-2    task_count = 1 + (u16 % 5000)
      bytes 3-10   range_start, int64 (lowered until the range fits int64)
      then up to 64 operations of 7 bytes (more for kind 7):
      op (u8)      bits 0-2: the kind (below), bits 3-4: which worker id,
                   bit 5: the tag with bit (a % 64) flipped, bit 6: for a list
                   job the tag made under the job's previous key (a zero key
                   if none), for a range job the batch sent as SQUARES,
                   bit 7: first a repeat announcement with key (b % 4)
      first (u16), count (u16), a (u8), b (u8)
        0, 1       a true batch: first % task_count, 1 .. 1024 tasks inside the job
        2          the same as SQUARES, for a list job too (which takes none)
        3          the same with bit (a % 128) of square (b % count) flipped
        4          ids past the job: 1 .. 64 tasks ending at task_count + 1, or
                   (a odd) at 2^64 - 1
        5          a true batch with another job id (job id + 1 + a)
        6          a true batch but value (b % count) is off by 1 + a with its
                   true square: wrong for a range job, a wrong tag for a list
        7          first task as given (unreduced), 1 .. 4 tasks, then per task
                   8 bytes added to the true value and 16 xored into the true
                   square: all zero gives a true entry, anything else is a
                   small, targeted lie
    Each batch is encoded as the worker would, with the tag the ventilator
    gives the batch's true values (for a list job; 0 for a range), or as
    SQUARES: no values, no tag, each square 8 bytes when every square sent
    fits them, else 16 (for kinds 0 to 2, a & 1 makes them 16 anyway and
    a & 2 cuts them to 8, a lie when a square needs more); decoded
    with dv_results_decode (which must accept it) and handed to dv_job_take.
    A model kept here (one bit per task, sums in wide arithmetic, the job's
    latest and previous key) predicts whether it is taken or why not (a
    misfit; for a list job a value not its task's, or a tag flipped or made
    under a key the job does not hold, is a bad tag), which results are new
    and in what order on_result sees them. After the
    announcement and after every batch, the job must match the model exactly:
      - received <= task_count; every id in or not as the model says (none
        past task_count); the ring's popcount == the ids in at or above
        first_missing; first_missing right;
      - duplicates counted; the sum of squares and each worker's count right;
        complete exactly when received == task_count, finished_us set then;
      - dv_job_missing: ranges ascending, disjoint, not touching, inside the
        job, each >= 1 task, the model's runs exactly, task total ==
        task_count - received; with a smaller range_max, a prefix of them;
      - for a range job, the closed-form dv_job_expected_sum equals the sum
        of the squares added one by one, and the job's sum once complete;
        for a list job, it is the announced sum.
    Any breach prints the rule and aborts.

    Built as fuzz-job with libFuzzer, or with standalone_main.c as
    fuzz-job-replay, which replays tests/fuzz/corpus/job.
*/
#include "fuzz_check.h"
#include "job.h"
#include "protocol.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TASK_COUNT_MAX 5000
#define S_OPERATIONS_MAX 64
#define S_BATCH_TASKS    1024 //  most tasks in one true batch built here

//  The model and the checks need no coverage feedback, and tracing their
//  comparisons would cost most of the time: libFuzzer steers by sink/job.c
//  and lib/ alone. noinline, or they would be traced as part of a caller.
#if defined(__clang__)
#define S_UNTRACED __attribute__ ((no_sanitize ("coverage"), noinline))
#else
#define S_UNTRACED
#endif

__extension__ typedef __int128 s_i128_t;
__extension__ typedef unsigned __int128 s_u128_t;

static const char *s_worker_ids[4] = {
    "w0", "worker-1", "x",
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", //  64 bytes
};

//  The script, read a byte at a time; past its end it reads zeros.
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
} s_script_t;

S_UNTRACED static uint64_t
s_script_read (s_script_t *script, int width)
{
    uint64_t value = 0;
    for (int index = 0; index < width; index++) {
        uint64_t byte = script->offset < script->size ? script->data[script->offset] : 0;
        script->offset++;
        value |= byte << (8 * index);
    }
    return value;
}

S_UNTRACED static uint64_t
s_load (const uint8_t *bytes, int width)
{
    uint64_t value = 0;
    for (int index = width - 1; index >= 0; index--)
        value = value << 8 | bytes[index];
    return value;
}

//  The exact square, in wider arithmetic than lib/exact.h uses.
S_UNTRACED static s_u128_t
s_square (int64_t value)
{
    s_i128_t wide = value;
    s_u128_t magnitude = (s_u128_t) (wide < 0 ? -wide : wide);
    return magnitude * magnitude;
}

//  Adds addend to a 256-bit sum, limb 0 least significant.
S_UNTRACED static void
s_sum_add (uint64_t sum[4], s_u128_t addend)
{
    s_u128_t carry = 0;
    for (int limb = 0; limb < 4; limb++) {
        uint64_t part = limb == 0   ? (uint64_t) addend
                        : limb == 1 ? (uint64_t) (addend >> 64)
                                    : 0;
        s_u128_t total = (s_u128_t) sum[limb] + part + carry;
        sum[limb] = (uint64_t) total;
        carry = total >> 64;
    }
}

typedef struct {
    uint64_t job_id;
    uint64_t task_count;
    bool is_range;
    int64_t range_start;
    uint64_t list_salt; //  list values are a hash of the task id and this
    //  A list job's keys, as dv_job_rekey keeps them: the latest, the one
    //  before (zero: none). A range job's stay zero.
    dv_tag_key_t keys[2];
    uint64_t *seen; //  bitmap of the tasks in, task_count / 64 + 1 words
    uint64_t received;
    uint64_t duplicates;
    uint64_t sum[4];
    uint64_t delivered[4]; //  new results per worker id
    //  The results on_result must see next, in order.
    int64_t *fresh_values;
    s_u128_t *fresh_squares;
    size_t fresh_count;
    size_t callback_count;
} s_model_t;

//  The true value of a task: range_start + id for a range job (wrapping past
//  the job, where no id is valid), else a hash that often hits the extremes.
S_UNTRACED static int64_t
s_true_value (const s_model_t *model, uint64_t task_id)
{
    if (model->is_range)
        return (int64_t) ((uint64_t) model->range_start + task_id);
    uint64_t mix = task_id * 0x9e3779b97f4a7c15u + model->list_salt;
    mix = (mix ^ (mix >> 30)) * 0xbf58476d1ce4e5b9u;
    mix = (mix ^ (mix >> 27)) * 0x94d049bb133111ebu;
    mix ^= mix >> 31;
    switch (mix & 7) {
        case 0:
            return INT64_MIN;
        case 1:
            return INT64_MAX;
        case 2:
            return (int64_t) (mix >> 56) - 128;
        default:
            return (int64_t) mix;
    }
}

S_UNTRACED static void
s_on_result (void *context, int64_t value, dv_u128_t square)
{
    s_model_t *model = context;
    FUZZ_CHECK (model->callback_count < model->fresh_count);
    FUZZ_CHECK (model->fresh_values[model->callback_count] == value);
    FUZZ_CHECK (model->fresh_squares[model->callback_count] == square);
    model->callback_count++;
}

S_UNTRACED static bool
s_model_seen (const s_model_t *model, uint64_t task_id)
{
    return (model->seen[task_id / 64] >> (task_id % 64)) & 1;
}

//  The lowest task id from `from` on whose bit is `value`, else task_count.
S_UNTRACED static uint64_t
s_model_next (const s_model_t *model, uint64_t from, bool value)
{
    while (from < model->task_count) {
        uint64_t word = model->seen[from / 64];
        word = (value ? word : ~word) & (UINT64_MAX << (from % 64));
        if (word) {
            uint64_t task_id = from / 64 * 64 + (uint64_t) __builtin_ctzll (word);
            return task_id < model->task_count ? task_id : model->task_count;
        }
        from = (from / 64 + 1) * 64;
    }
    return model->task_count;
}

//  What a correct sink makes of this batch: a misfit unless the job's id,
//  ids inside the job, every square exact, and for a range job every value
//  range_start + id; then for a list job a bad tag unless every value is its
//  task's and the tag was made under a key the job holds, unflipped.
S_UNTRACED static dv_job_take_t
s_model_verdict (const s_model_t *model, const dv_results_t *results, bool tag_true)
{
    if (results->job_id != model->job_id ||
        (s_u128_t) results->first_task + results->count > model->task_count)
        return DV_JOB_MISFIT;
    //  SQUARES: only a range's, each square that of range_start + its id.
    if (!results->has_values) {
        if (!model->is_range)
            return DV_JOB_MISFIT;
        for (uint32_t index = 0; index < results->count; index++) {
            const uint8_t *at = results->entries + (size_t) index * results->square_size;
            s_u128_t square = s_load (at, 8);
            if (results->square_size == 16)
                square |= (s_u128_t) s_load (at + 8, 8) << 64;
            if (square != s_square ((int64_t) ((uint64_t) model->range_start +
                                               results->first_task + index)))
                return DV_JOB_MISFIT;
        }
        return DV_JOB_TAKEN;
    }
    for (uint32_t index = 0; index < results->count; index++) {
        const uint8_t *entry = results->entries + (size_t) index * 24;
        int64_t value = (int64_t) s_load (entry, 8);
        s_u128_t square =
            (s_u128_t) s_load (entry + 8, 8) | (s_u128_t) s_load (entry + 16, 8) << 64;
        if (square != s_square (value))
            return DV_JOB_MISFIT;
        if (model->is_range &&
            (s_i128_t) model->range_start + (s_i128_t) (results->first_task + index) !=
                value)
            return DV_JOB_MISFIT;
    }
    if (model->is_range)
        return DV_JOB_TAKEN;
    for (uint32_t index = 0; index < results->count; index++)
        if ((int64_t) s_load (results->entries + (size_t) index * 24, 8) !=
            s_true_value (model, results->first_task + index))
            return DV_JOB_BAD_TAG;
    return tag_true ? DV_JOB_TAKEN : DV_JOB_BAD_TAG;
}

//  Key number id (0 .. 3), never zero.
S_UNTRACED static dv_tag_key_t
s_key (unsigned id)
{
    dv_tag_key_t key;
    for (int index = 0; index < DV_TAG_KEY_SIZE; index++)
        key.bytes[index] = (uint8_t) (id * 16 + (unsigned) index + 1);
    return key;
}

S_UNTRACED static bool
s_key_zero (const dv_tag_key_t *key)
{
    for (int index = 0; index < DV_TAG_KEY_SIZE; index++)
        if (key->bytes[index])
            return false;
    return true;
}

//  A repeat announcement with key, as job.h says dv_job_rekey keeps it.
S_UNTRACED static void
s_model_rekey (s_model_t *model, const dv_tag_key_t *key)
{
    if (model->is_range || !memcmp (key, &model->keys[0], sizeof *key))
        return;
    model->keys[1] = model->keys[0];
    model->keys[0] = *key;
}

//  Checks the job against the model; ranges holds task_count / 2 + 1.
S_UNTRACED static void
s_check_job (const dv_job_t *job, const s_model_t *model, dv_range_t *ranges,
             uint32_t selector)
{
    uint64_t task_count = model->task_count;
    FUZZ_CHECK (job->announce.task_count == task_count);
    FUZZ_CHECK (job->received == model->received);
    FUZZ_CHECK (job->received <= task_count);
    FUZZ_CHECK (job->duplicates == model->duplicates);

    //  Every id as the model says, none past the job; the ring holds the
    //  ids in at or above first_missing and nothing else.
    for (uint64_t id = 0; id < task_count + 64; id++)
        FUZZ_CHECK (dv_seen_has (&job->seen, id) ==
                    (id < task_count && s_model_seen (model, id)));
    uint64_t popcount = 0;
    for (uint64_t word = 0; word < job->seen.ring_bits / 64; word++)
        popcount += (uint64_t) __builtin_popcountll (job->seen.ring[word]);
    FUZZ_CHECK (popcount == job->received - job->first_missing);
    FUZZ_CHECK (job->seen.received == job->received);
    FUZZ_CHECK (job->first_missing == s_model_next (model, 0, false));
    FUZZ_CHECK (dv_job_complete (job) == (model->received == task_count));
    FUZZ_CHECK ((job->finished_us != 0) == (model->received == task_count));
    FUZZ_CHECK (memcmp (job->sum.limb, model->sum, sizeof model->sum) == 0);

    size_t workers = 0;
    for (int worker = 0; worker < 4; worker++) {
        const dv_job_worker_t *entry = zhashx_lookup (job->workers, s_worker_ids[worker]);
        FUZZ_CHECK (model->delivered[worker]
                        ? entry && entry->results == model->delivered[worker]
                        : !entry);
        workers += entry != NULL;
    }
    FUZZ_CHECK (zhashx_size (job->workers) == workers);

    //  Every missing range, against the invariants and the model's runs.
    uint32_t range_max = (uint32_t) (task_count / 2 + 1);
    uint64_t task_total = UINT64_MAX;
    uint32_t range_count = dv_job_missing (job, ranges, range_max, &task_total);
    FUZZ_CHECK (range_count <= range_max);
    uint64_t end = 0;
    uint64_t sum_of_counts = 0;
    for (uint32_t index = 0; index < range_count; index++) {
        dv_range_t range = ranges[index];
        FUZZ_CHECK (range.task_count >= 1);
        FUZZ_CHECK (range.first_task < task_count);
        FUZZ_CHECK (range.task_count <= task_count - range.first_task);
        FUZZ_CHECK (index == 0 || range.first_task > end); //  ascending, apart
        end = range.first_task + range.task_count;
        sum_of_counts += range.task_count;
    }
    FUZZ_CHECK (task_total == sum_of_counts);
    FUZZ_CHECK (task_total == task_count - job->received);
    FUZZ_CHECK (range_count == 0 || ranges[0].first_task == job->first_missing);
    uint32_t run = 0;
    for (uint64_t first = s_model_next (model, 0, false); first < task_count;) {
        uint64_t end = s_model_next (model, first, true);
        FUZZ_CHECK (run < range_count);
        FUZZ_CHECK (ranges[run].first_task == first);
        FUZZ_CHECK (ranges[run].task_count == end - first);
        run++;
        first = s_model_next (model, end, false);
    }
    FUZZ_CHECK (run == range_count);

    //  A smaller range_max gives a prefix; none gives nothing.
    dv_range_t prefix[3];
    uint32_t prefix_max = 1 + selector % 3;
    uint64_t prefix_total = UINT64_MAX;
    uint32_t prefix_count = dv_job_missing (job, prefix, prefix_max, &prefix_total);
    FUZZ_CHECK (prefix_count == (range_count < prefix_max ? range_count : prefix_max));
    uint64_t prefix_sum = 0;
    for (uint32_t index = 0; index < prefix_count; index++) {
        FUZZ_CHECK (prefix[index].first_task == ranges[index].first_task);
        FUZZ_CHECK (prefix[index].task_count == ranges[index].task_count);
        prefix_sum += prefix[index].task_count;
    }
    FUZZ_CHECK (prefix_total == prefix_sum);
    FUZZ_CHECK (dv_job_missing (job, prefix, 0, &prefix_total) == 0 && prefix_total == 0);

    //  Below a bound: the model's missing runs cut at it. And every task of a
    //  range is in exactly when the model has no gap there.
    uint64_t below = selector % (task_count + 2);
    uint64_t below_total = UINT64_MAX;
    uint32_t below_count =
        dv_job_missing_below (job, below, ranges, range_max, &below_total);
    uint64_t below_sum = 0;
    for (uint32_t index = 0; index < below_count; index++) {
        FUZZ_CHECK (ranges[index].first_task + ranges[index].task_count <= below);
        below_sum += ranges[index].task_count;
    }
    uint64_t model_missing = 0;
    for (uint64_t id = 0; id < below && id < task_count; id++)
        model_missing += !s_model_seen (model, id);
    FUZZ_CHECK (below_total == below_sum && below_sum == model_missing);
    if (task_count) {
        dv_range_t probe = {selector % task_count, 1 + selector / 7 % 3};
        if (probe.task_count > task_count - probe.first_task)
            probe.task_count = task_count - probe.first_task;
        bool all_in = true;
        for (uint64_t id = probe.first_task; id < probe.first_task + probe.task_count;
             id++)
            all_in &= s_model_seen (model, id);
        FUZZ_CHECK (dv_job_has_all (job, &probe, 1) == all_in);
    }

    if (model->is_range && dv_job_complete (job)) {
        dv_u256_t expected = dv_job_expected_sum (job);
        FUZZ_CHECK (memcmp (expected.limb, job->sum.limb, sizeof expected.limb) == 0);
    }
}

//  Builds one batch per the operation, as a worker would encode it, after
//  the repeat announcement it may ask for. Returns the message (caller owns
//  it) and its size; *tag_true says whether its tag is the true one under a
//  key the job holds.
S_UNTRACED static uint8_t *
s_build_batch (s_model_t *model, dv_job_t *job, s_script_t *script, size_t *size,
               bool *tag_true)
{
    uint8_t op = (uint8_t) s_script_read (script, 1);
    uint64_t first = s_script_read (script, 2);
    uint64_t count_seed = s_script_read (script, 2);
    uint8_t a = (uint8_t) s_script_read (script, 1);
    uint8_t b = (uint8_t) s_script_read (script, 1);
    int kind = op & 7;
    const char *worker_id = s_worker_ids[(op >> 3) & 3];
    uint64_t task_count = model->task_count;
    uint64_t job_id = kind == 5 ? model->job_id + 1 + a : model->job_id;

    uint32_t count;
    if (kind == 4) {
        count = (uint32_t) (1 + count_seed % 64);
        first = a & 1                     ? UINT64_MAX - count
                : task_count + 1 >= count ? task_count + 1 - count
                                          : 0;
    } else if (kind == 7)
        count = (uint32_t) (1 + count_seed % 4);
    else {
        first %= task_count;
        uint64_t room =
            task_count - first < S_BATCH_TASKS ? task_count - first : S_BATCH_TASKS;
        count = (uint32_t) (1 + count_seed % room);
    }

    size_t id_length = strlen (worker_id);
    bool as_squares = kind == 2 || (model->is_range && (op & 0x40));
    if (op & 0x80) {
        dv_tag_key_t key = s_key (b % 4);
        bool was_new = !model->is_range && memcmp (&key, &model->keys[0], sizeof key);
        FUZZ_CHECK (dv_job_rekey (job, &key) == was_new);
        s_model_rekey (model, &key);
        FUZZ_CHECK (!memcmp (job->tag_keys, model->keys, sizeof model->keys));
    }
    //  The ventilator's tag: of the true values, under the latest key (or
    //  the previous one, or none).
    uint64_t tag = 0;
    *tag_true = true;
    if (!model->is_range) {
        uint8_t *words = malloc ((size_t) count * 8);
        FUZZ_CHECK (words);
        for (uint32_t index = 0; index < count; index++)
            dv_put_u64 (words + 8 * (size_t) index,
                        (uint64_t) s_true_value (model, first + index));
        const dv_tag_key_t *key = &model->keys[(op & 0x40) ? 1 : 0];
        *tag_true = !s_key_zero (key);
        tag = dv_tag_batch (key, job_id, first, words, 8, count);
        free (words);
    }
    if (op & 0x20) {
        tag ^= UINT64_C (1) << (a % 64);
        *tag_true = false;
    }
    //  The entries first: a SQUARES batch's square size depends on them.
    int64_t values[S_BATCH_TASKS];
    s_u128_t squares[S_BATCH_TASKS];
    bool wide = false;
    for (uint32_t index = 0; index < count; index++) {
        int64_t value = s_true_value (model, first + index);
        s_u128_t square_lie = 0;
        if (kind == 3 && index == b % count)
            square_lie = (s_u128_t) 1 << (a % 128);
        if (kind == 6 && index == b % count)
            value = (int64_t) ((uint64_t) value + 1 + a);
        if (kind == 7) {
            value = (int64_t) ((uint64_t) value + s_script_read (script, 8));
            square_lie = s_script_read (script, 8);
            square_lie |= (s_u128_t) s_script_read (script, 8) << 64;
        }
        values[index] = value;
        squares[index] = s_square (value) ^ square_lie;
        wide |= squares[index] >> 64 != 0;
    }
    size_t square_size = wide ? 16 : 8;
    if (kind <= 2 && (a & 1))
        square_size = 16;
    if (kind <= 2 && (a & 2))
        square_size = 8;
    *size = as_squares ? DV_SQUARES_SIZE (count, id_length, square_size)
                       : DV_RESULTS_SIZE (count, id_length);
    uint8_t *message = malloc (*size);
    FUZZ_CHECK (message);
    if (as_squares) {
        FUZZ_CHECK (dv_squares_encode_header (job_id, first, count, square_size,
                                              worker_id, id_length, message) == *size);
        uint8_t *entries = dv_squares_entries (message, id_length);
        for (uint32_t index = 0; index < count; index++)
            dv_squares_put (entries, index, square_size, squares[index]);
        return message;
    }
    FUZZ_CHECK (dv_results_encode_header (job_id, first, count, tag, worker_id, id_length,
                                          message) == *size);
    uint8_t *entries = dv_results_entries (message, id_length);
    for (uint32_t index = 0; index < count; index++)
        dv_results_put_entry (entries, index, values[index], squares[index]);
    return message;
}

//  Lists the results on_result must see from this batch, in order.
S_UNTRACED static void
s_model_expect (s_model_t *model, const dv_results_t *results, bool takes)
{
    model->fresh_count = 0;
    model->callback_count = 0;
    for (uint32_t index = 0; takes && index < results->count; index++) {
        if (s_model_seen (model, results->first_task + index))
            continue;
        //  SQUARES: the value is the range's, from the task id.
        int64_t value =
            results->has_values
                ? (int64_t) s_load (results->entries + (size_t) index * 24, 8)
                : (int64_t) ((uint64_t) model->range_start + results->first_task + index);
        model->fresh_values[model->fresh_count] = value;
        model->fresh_squares[model->fresh_count] = s_square (value);
        model->fresh_count++;
    }
}

//  Records a batch the sink took.
S_UNTRACED static void
s_model_take (s_model_t *model, const dv_results_t *results, int worker)
{
    for (uint32_t index = 0; index < results->count; index++) {
        uint64_t task_id = results->first_task + index;
        if (s_model_seen (model, task_id))
            model->duplicates++;
        model->seen[task_id / 64] |= (uint64_t) 1 << (task_id % 64);
    }
    for (size_t index = 0; index < model->fresh_count; index++)
        s_sum_add (model->sum, model->fresh_squares[index]);
    model->received += model->fresh_count;
    model->delivered[worker] += model->fresh_count;
}

//  The sum the job must reach: for a range job the closed form, which must
//  equal its squares added one by one; for a list job the announced sum.
S_UNTRACED static void
s_check_expected_sum (const dv_job_t *job, const s_model_t *model,
                      const dv_announce_t *announce)
{
    uint64_t sum[4] = {0};
    if (model->is_range)
        for (uint64_t id = 0; id < model->task_count; id++)
            s_sum_add (sum, s_square (s_true_value (model, id)));
    else
        memcpy (sum, announce->expected_sum.limb, sizeof sum);
    dv_u256_t expected = dv_job_expected_sum (job);
    FUZZ_CHECK (memcmp (expected.limb, sum, sizeof sum) == 0);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_script_t script = {data, size, 0};
    uint8_t options = (uint8_t) s_script_read (&script, 1);
    s_model_t model = {0};
    model.is_range = options & 1;
    model.job_id = 1 + (options >> 1);
    model.task_count = 1 + s_script_read (&script, 2) % S_TASK_COUNT_MAX;
    model.range_start = (int64_t) s_script_read (&script, 8);
    if (model.is_range &&
        (s_i128_t) model.range_start + (s_i128_t) model.task_count - 1 > INT64_MAX)
        model.range_start = INT64_MAX - (int64_t) (model.task_count - 1);
    model.list_salt = (uint64_t) model.range_start;

    //  The announcement goes over the wire too.
    dv_announce_t announce = {
        .job_id = model.job_id,
        .task_count = model.task_count,
        .is_range = model.is_range,
        .range_start = model.is_range ? model.range_start : 0,
        .credit_step = 1,
    };
    //  A list job's sum and digest come from the ventilator; a range has
    //  neither (version 2 refuses a range that announces them).
    if (!model.is_range) {
        announce.expected_sum = (dv_u256_t){{model.list_salt, ~model.list_salt, 1, 0}};
        announce.input_digest = ~model.list_salt;
        announce.tag_key = model.keys[0] = s_key (0);
    }
    uint8_t *frame = malloc (DV_ANNOUNCE_SIZE);
    FUZZ_CHECK (frame);
    FUZZ_CHECK (dv_announce_encode (&announce, frame) == DV_ANNOUNCE_SIZE);
    dv_announce_t decoded;
    FUZZ_CHECK (dv_announce_decode (frame, DV_ANNOUNCE_SIZE, &decoded) == 0);
    free (frame);
    FUZZ_CHECK (decoded.job_id == announce.job_id &&
                decoded.task_count == announce.task_count &&
                decoded.is_range == announce.is_range &&
                decoded.range_start == announce.range_start &&
                memcmp (decoded.expected_sum.limb, announce.expected_sum.limb,
                        sizeof announce.expected_sum.limb) == 0 &&
                decoded.input_digest == announce.input_digest &&
                !memcmp (&decoded.tag_key, &announce.tag_key, sizeof announce.tag_key));

    dv_job_t *job = dv_job_new (&decoded);
    FUZZ_CHECK (job);
    FUZZ_CHECK (job->shape == dv_announce_shape (&announce) && job->shape != 0);
    FUZZ_CHECK (!memcmp (job->tag_keys, model.keys, sizeof model.keys));
    model.seen = calloc (model.task_count / 64 + 1, sizeof (uint64_t));
    model.fresh_values = malloc (S_BATCH_TASKS * sizeof (int64_t));
    model.fresh_squares = malloc (S_BATCH_TASKS * sizeof (s_u128_t));
    dv_range_t *ranges = malloc ((model.task_count / 2 + 1) * sizeof (dv_range_t));
    FUZZ_CHECK (model.seen && model.fresh_values && model.fresh_squares && ranges);

    s_check_expected_sum (job, &model, &announce);
    s_check_job (job, &model, ranges, 0);

    for (int operation = 0; operation < S_OPERATIONS_MAX && script.offset < script.size;
         operation++) {
        size_t message_size;
        bool tag_true;
        uint8_t *message = s_build_batch (&model, job, &script, &message_size, &tag_true);
        dv_results_t results;
        FUZZ_CHECK (dv_results_decode (message, message_size, &results) == 0);
        int worker = 0;
        while (strlen (s_worker_ids[worker]) != results.worker_id_length ||
               memcmp (s_worker_ids[worker], results.worker_id, results.worker_id_length))
            worker++;

        dv_job_take_t verdict = s_model_verdict (&model, &results, tag_true);
        bool takes = verdict == DV_JOB_TAKEN;
        s_model_expect (&model, &results, takes);
        dv_job_take_t rc = dv_job_take (job, &results, s_on_result, &model);
        FUZZ_CHECK (rc == verdict);
        FUZZ_CHECK (model.callback_count == model.fresh_count);
        if (takes)
            s_model_take (&model, &results, worker);
        free (message);
        s_check_job (job, &model, ranges, (uint32_t) operation);
    }

    free (ranges);
    free (model.fresh_squares);
    free (model.fresh_values);
    free (model.seen);
    dv_job_destroy (&job);
    FUZZ_CHECK (job == NULL);
    return 0;
}
