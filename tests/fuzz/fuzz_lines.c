/*  fuzz_lines.c: a line job's accounting (sink/job.c, dv_job_take_lines)
    and --ordered (sink/ordered.c) against scripts of result messages.

    An input is a small line job and a script. Missing bytes read as zero:

      byte 0       task_count = 1 + (u8 % 200)
      byte 1       the --ordered budget: (1 + u8) * 32 bytes
      then up to 96 operations of 5 bytes:
      first (u8, % task_count), count (1 + u8 % 16, clipped to the job but
      for bit 1 below), failed (u8: entry i failed when bit i % 8 is set),
      flags (u8: bit 0 one entry's tag flipped, bit 1 ids past the job,
      bit 2 another job id, bit 3 skip the ordered check (taken as is),
      bits 4-7 a length seed), seed (u8: the result bytes)
    Each message is encoded as a worker would (true tags, the digests of the
    true lines), decoded (which must accept it), offered to --ordered (unless
    bit 3), then to dv_job_take_lines. A model kept here predicts: whether
    --ordered takes it (it begins at or before the next task to print, or
    its entries and 48 bytes each fit what the budget has left); whether
    the job takes it (a misfit for other ids or another job, a bad tag when
    a tag is flipped) and which tasks are new; and exactly what is printed,
    in order: task id, status and bytes. After every operation the job and
    the printer must match the model: received, failed, duplicates, the
    next task to print, the bytes held, and the printed sequence; held
    bytes never pass the budget by more than one message. Any breach
    prints the rule and aborts.

    Built as fuzz-lines with libFuzzer, or with standalone_main.c as
    fuzz-lines-replay, which replays tests/fuzz/corpus/lines.
*/
#include "fuzz_check.h"
#include "job.h"
#include "ordered.h"
#include "protocol.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_JOB       5
#define S_TASKS_MAX 200
#define S_OPS_MAX   96
#define S_BYTES_MAX 40

static const dv_tag_key_t s_key = {{9, 8, 7, 6, 5, 4, 3, 2, 1, 2, 3, 4, 5, 6, 7, 8}};

typedef struct {
    uint64_t task;
    int status;
    size_t length;
    char bytes[S_BYTES_MAX];
} s_print_t;

typedef struct {
    s_print_t printed[S_TASKS_MAX + 1];
    size_t printed_count;
} s_capture_t;

static void
s_capture (void *context, uint64_t task_id, dv_line_status_t status, const char *bytes,
           size_t length)
{
    s_capture_t *capture = context;
    FUZZ_CHECK (capture->printed_count < S_TASKS_MAX);
    FUZZ_CHECK (length < S_BYTES_MAX);
    s_print_t *print = &capture->printed[capture->printed_count++];
    print->task = task_id;
    print->status = status;
    print->length = length;
    memcpy (print->bytes, bytes, length);
}

static uint8_t
s_byte (const uint8_t *data, size_t size, size_t offset)
{
    return offset < size ? data[offset] : 0;
}

//  The model's state per task: seen, its status and bytes once seen.
typedef struct {
    bool seen;
    int status;
    size_t length;
    char bytes[S_BYTES_MAX];
} s_task_t;

static void
s_task_line (uint64_t task, char *text, size_t *length)
{
    *length = (size_t) snprintf (text, 32, "line %" PRIu64, task);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    uint64_t task_count = 1 + s_byte (data, size, 0) % S_TASKS_MAX;
    size_t budget = (1 + (size_t) s_byte (data, size, 1)) * 32;
    dv_announce_t announce = {.job_id = S_JOB,
                              .task_count = task_count,
                              .is_lines = true,
                              .credit_step = 1,
                              .tag_key = s_key};
    dv_job_t *job = dv_job_new (&announce);
    FUZZ_CHECK (job);
    s_capture_t *capture = calloc (1, sizeof *capture);
    FUZZ_CHECK (capture);
    dv_ordered_t *ordered = dv_ordered_new (s_capture, capture, budget);
    FUZZ_CHECK (ordered);

    static s_task_t model[S_TASKS_MAX];
    memset (model, 0, sizeof model);
    static s_print_t expected[S_TASKS_MAX];
    size_t expected_count = 0;
    uint64_t next = 0, received = 0, failed = 0, duplicates = 0;
    size_t held = 0;
    static uint8_t buffer[DV_LINE_RESULTS_SIZE (2, 16 * (21 + S_BYTES_MAX))];

    for (size_t op = 0; op < S_OPS_MAX && 2 + op * 5 < size; op++) {
        size_t at = 2 + op * 5;
        uint64_t first = s_byte (data, size, at) % task_count;
        uint32_t count = 1 + s_byte (data, size, at + 1) % 16;
        uint8_t failed_bits = s_byte (data, size, at + 2);
        uint8_t flags = s_byte (data, size, at + 3);
        uint8_t seed = s_byte (data, size, at + 4);
        bool past = flags & 2;
        if (!past && first + count > task_count)
            count = (uint32_t) (task_count - first);
        uint64_t job_id = flags & 4 ? S_JOB + 1 : S_JOB;
        uint32_t flipped = flags & 1 ? seed % count : UINT32_MAX;

        size_t message_size =
            dv_line_results_encode_header (job_id, first, "w", 1, buffer);
        s_task_t entries[16];
        for (uint32_t index = 0; index < count; index++) {
            uint64_t task = first + index;
            char line[32];
            size_t line_length;
            s_task_line (task, line, &line_length);
            uint64_t digest = dv_line_digest (line, line_length);
            s_task_t *entry = &entries[index];
            entry->status = failed_bits >> (index % 8) & 1 ? DV_LINE_FAILED : DV_LINE_OK;
            entry->length = ((flags >> 4) + index + seed) % (S_BYTES_MAX - 1);
            for (size_t byte = 0; byte < entry->length; byte++)
                entry->bytes[byte] = (char) ('a' + (seed + byte + task) % 26);
            dv_line_result_t result = {
                .status = (dv_line_status_t) entry->status,
                .tag = dv_tag_line (&s_key, S_JOB, task, digest) ^ (index == flipped),
                .input_digest = digest,
                .bytes = entry->bytes,
                .length = entry->length,
            };
            message_size += dv_line_results_put (buffer + message_size, &result);
        }
        dv_batch_put_count (buffer, count);
        dv_line_results_t results;
        FUZZ_CHECK (dv_line_results_decode (buffer, message_size, &results) == 0);

        //  --ordered's verdict, by the model.
        bool fits =
            first <= next || held + results.entries_size + (size_t) count * 48 <= budget;
        if (!(flags & 8)) {
            FUZZ_CHECK (dv_ordered_fits (ordered, &results) == fits);
            if (!fits)
                continue;
        }
        //  The job's verdict.
        dv_job_take_t want = DV_JOB_TAKEN;
        if (job_id != S_JOB || first + count > task_count)
            want = DV_JOB_MISFIT;
        else if (flipped != UINT32_MAX)
            want = DV_JOB_BAD_TAG;
        dv_job_take_t got = dv_job_take_lines (job, &results, dv_ordered_line, ordered);
        FUZZ_CHECK (got == want);
        if (got == DV_JOB_TAKEN) {
            for (uint32_t index = 0; index < count; index++) {
                uint64_t task = first + index;
                if (model[task].seen) {
                    duplicates++;
                    continue;
                }
                model[task] = entries[index];
                model[task].seen = true;
                received++;
                failed += entries[index].status == DV_LINE_FAILED;
                //  Printed the moment every task before it is.
                while (next < task_count && model[next].seen) {
                    s_print_t *print = &expected[expected_count++];
                    print->task = next;
                    print->status = model[next].status;
                    print->length = model[next].length;
                    memcpy (print->bytes, model[next].bytes, model[next].length);
                    next++;
                }
            }
        }
        //  Held: every task in and not printed, with its bytes.
        held = 0;
        for (uint64_t task = next; task < task_count; task++)
            if (model[task].seen)
                held += 48 + model[task].length;
        FUZZ_CHECK (job->received == received);
        FUZZ_CHECK (job->failed == failed);
        FUZZ_CHECK (job->duplicates == duplicates);
        FUZZ_CHECK (dv_ordered_next (ordered) == next);
        FUZZ_CHECK (dv_ordered_held (ordered) == held);
        FUZZ_CHECK (held <= budget + DV_LINE_RESULTS_BYTES + 16 * 48);
        FUZZ_CHECK (capture->printed_count == expected_count);
        for (size_t index = 0; index < expected_count; index++) {
            const s_print_t *a = &capture->printed[index], *b = &expected[index];
            FUZZ_CHECK (a->task == b->task && a->status == b->status &&
                        a->length == b->length);
            FUZZ_CHECK (memcmp (a->bytes, b->bytes, a->length) == 0);
        }
        FUZZ_CHECK (dv_job_complete (job) == (received == task_count));
        if (dv_job_complete (job))
            FUZZ_CHECK (next == task_count && held == 0);
    }
    dv_ordered_destroy (&ordered);
    dv_job_destroy (&job);
    free (capture);
    return 0;
}
