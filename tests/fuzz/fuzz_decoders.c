/*  fuzz_decoders.c: every wire decoder of lib/protocol.c (version 2) against any bytes.

    One input is one frame. It is copied into a heap buffer of exactly its
    size, so AddressSanitizer reports a read even one byte past the end, and
    handed to dv_message_kind and to every decoder. Each verdict is compared
    with a reference written apart from the codec (from the layout table at
    the top of lib/protocol.c, docs/protocol.md and the limits in protocol.h),
    in wider arithmetic and byte by byte, so a decoder that accepts too much
    or too little is caught, not only one that crashes. A message that is
    accepted must then:
      - be accepted by that decoder alone, the one its header names (TASKS
        and RANGE_TASKS share dv_tasks_decode, RESULTS and SQUARES
        dv_results_decode);
      - have every view (values, worker id, entries, ranges) inside the frame;
      - re-encode, through the public encoders, to exactly the same bytes;
      - be rejected by every decoder when one byte shorter or one longer.
    The small helpers dv_worker_id_valid and dv_range_fits are checked against
    the reference on the same bytes. Any breach prints the rule and aborts.

    Built as fuzz-decoders with libFuzzer, or with standalone_main.c as
    fuzz-decoders-replay, which replays tests/fuzz/corpus/decoders.
*/
#include "fuzz_check.h"
#include "protocol.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 s_i128_t;
__extension__ typedef unsigned __int128 s_u128_t;

//  The reference: little-endian reads a byte at a time, and the rules.

static uint64_t
s_load (const uint8_t *bytes, int width)
{
    uint64_t value = 0;
    for (int index = width - 1; index >= 0; index--)
        value = value << 8 | bytes[index];
    return value;
}

static bool
s_zero (const uint8_t *bytes, size_t length)
{
    uint8_t any = 0;
    for (size_t index = 0; index < length; index++)
        any |= bytes[index];
    return any == 0;
}

static bool
s_reference_id_valid (const uint8_t *id, size_t length)
{
    if (length < 1 || length > 64)
        return false;
    for (size_t index = 0; index < length; index++)
        if (id[index] < 0x21 || id[index] > 0x7e || id[index] == '"' ||
            id[index] == '\\' || id[index] == '=')
            return false;
    return true;
}

//  count >= 1 ids from first do not pass 2^64 - 1 as an exclusive end.
static bool
s_reference_span_valid (uint64_t first, uint64_t count)
{
    return count >= 1 && (s_u128_t) first + count <= UINT64_MAX;
}

static bool
s_reference_range_fits (int64_t start, uint64_t count)
{
    return count >= 1 && (s_i128_t) start + (s_i128_t) count - 1 <= INT64_MAX;
}

//  The kind a correct decoder accepts these bytes as, or 0 for none.
static int
s_reference_kind (const uint8_t *data, size_t size)
{
    if (size < 16 || data[0] != 2 || data[2] || data[3])
        return 0;
    uint64_t count = s_load (data + 4, 4);
    uint64_t job_id = s_load (data + 8, 8);
    switch (data[1]) {
        case DV_KIND_ANNOUNCE: {
            if (size != 96 || count || !job_id)
                return 0;
            uint64_t task_count = s_load (data + 16, 8);
            uint8_t options = data[24];
            //  Options: bit 0 a range, bit 1 lines, not both.
            if (!task_count || options > 2 || !s_zero (data + 25, 3) ||
                !s_load (data + 28, 4))
                return 0;
            //  A range: no sum of squares, no input digest, no tag key; its
            //  end fits int64. A list: a tag key.
            if (options == 1 &&
                (!s_zero (data + 40, 56) ||
                 !s_reference_range_fits ((int64_t) s_load (data + 32, 8), task_count)))
                return 0;
            if (options != 1 && s_zero (data + 80, 16))
                return 0;
            //  Lines: no sum of squares.
            if (options == 2 && !s_zero (data + 40, 32))
                return 0;
            return DV_KIND_ANNOUNCE;
        }
        case DV_KIND_TASKS:
            //  Any tag (at 24): the sink checks it, the decoder cannot.
            if (!job_id || count > 65536 || size < 32 ||
                !s_reference_span_valid (s_load (data + 16, 8), count) ||
                size != 32 + 8 * (size_t) count)
                return 0;
            return DV_KIND_TASKS;
        case DV_KIND_RANGE_TASKS:
            //  Two words, no values: the first task id, and its value; the
            //  batch's last value fits int64.
            if (size != 32 || !job_id || count > 65536 ||
                !s_reference_span_valid (s_load (data + 16, 8), count) ||
                !s_reference_range_fits ((int64_t) s_load (data + 24, 8), count))
                return 0;
            return DV_KIND_RANGE_TASKS;
        case DV_KIND_SQUARES: {
            //  First task id, square size (8 or 16), id length, id, squares.
            if (!job_id || count > 65536 || size < 26 ||
                !s_reference_span_valid (s_load (data + 16, 8), count))
                return 0;
            size_t square_size = data[24];
            size_t id_length = data[25];
            if ((square_size != 8 && square_size != 16) ||
                size != 26 + id_length + square_size * (size_t) count ||
                !s_reference_id_valid (data + 26, id_length))
                return 0;
            return DV_KIND_SQUARES;
        }
        case DV_KIND_RESULTS: {
            if (!job_id || count > 65536 || size < 33 ||
                !s_reference_span_valid (s_load (data + 16, 8), count))
                return 0;
            size_t id_length = data[32];
            if (size != 33 + id_length + 24 * (size_t) count ||
                !s_reference_id_valid (data + 33, id_length))
                return 0;
            return DV_KIND_RESULTS;
        }
        case DV_KIND_LINES: {
            //  Entries of (tag u64, length u32, bytes) to the end, exactly;
            //  each line at most 65536 bytes without NUL or newline; 1 MiB
            //  of entries at most.
            if (!job_id || count < 1 || count > 65536 || size < 24 ||
                size - 24 > ((size_t) 1 << 20) ||
                !s_reference_span_valid (s_load (data + 16, 8), count))
                return 0;
            size_t at = 24;
            for (uint64_t index = 0; index < count; index++) {
                if (size - at < 12)
                    return 0;
                uint64_t length = s_load (data + at + 8, 4);
                if (length > 65536 || length > size - at - 12)
                    return 0;
                for (uint64_t byte = 0; byte < length; byte++)
                    if (data[at + 12 + byte] == 0 || data[at + 12 + byte] == '\n')
                        return 0;
                at += 12 + length;
            }
            return at == size ? DV_KIND_LINES : 0;
        }
        case DV_KIND_LINE_RESULTS: {
            if (!job_id || count < 1 || count > 65536 || size < 25 ||
                !s_reference_span_valid (s_load (data + 16, 8), count))
                return 0;
            size_t id_length = data[24];
            if (size < 25 + id_length || !s_reference_id_valid (data + 25, id_length) ||
                size - 25 - id_length > ((size_t) 1 << 20))
                return 0;
            size_t at = 25 + id_length;
            for (uint64_t index = 0; index < count; index++) {
                if (size - at < 21 || data[at] > 1)
                    return 0;
                uint64_t length = s_load (data + at + 17, 4);
                if (length > 65536 || length > size - at - 21)
                    return 0;
                for (uint64_t byte = 0; byte < length; byte++)
                    if (data[at + 21 + byte] == 0 || data[at + 21 + byte] == '\n')
                        return 0;
                at += 21 + length;
            }
            return at == size ? DV_KIND_LINE_RESULTS : 0;
        }
        case DV_KIND_KILL:
            return size == 24 && !count && job_id && s_load (data + 16, 8) ? DV_KIND_KILL
                                                                           : 0;
        case DV_KIND_HEARTBEAT: {
            if (size != 48 || count || !s_zero (data + 17, 3))
                return 0;
            //  How long ago the job ended: done and abandoned only.
            if (data[16] != 2 && data[16] != 3 && !s_zero (data + 20, 4))
                return 0;
            uint64_t received = s_load (data + 24, 8);
            uint64_t total = s_load (data + 32, 8);
            uint64_t shape = s_load (data + 40, 8);
            if (data[16] == 0) //  idle
                return !job_id && !received && !total && !shape ? DV_KIND_HEARTBEAT : 0;
            if (data[16] >= 1 && data[16] <= 3) //  running, done, abandoned
                return job_id && total && shape && received <= total ? DV_KIND_HEARTBEAT
                                                                     : 0;
            return 0;
        }
        case DV_KIND_CREDIT:
            return size == 40 && !count && job_id && s_load (data + 32, 8)
                       ? DV_KIND_CREDIT
                       : 0;
        case DV_KIND_REFUSE:
            //  Reasons 1 (too large) .. 4 (no memory); any detail; a shape.
            if (size != 40 || count || !job_id || data[16] < 1 || data[16] > 4 ||
                !s_zero (data + 17, 7) || !s_load (data + 32, 8))
                return 0;
            return DV_KIND_REFUSE;
        case DV_KIND_RESEND:
            if (!job_id || count < 1 || count > 64 || size != 16 + 16 * (size_t) count)
                return 0;
            for (size_t index = 0; index < count; index++)
                if (!s_reference_span_valid (s_load (data + 16 + 16 * index, 8),
                                             s_load (data + 24 + 16 * index, 8)))
                    return 0;
            return DV_KIND_RESEND;
        case DV_KIND_WANT:
            //  No job id; count is the batches granted, 0 only with reset.
            if (size != 24 || job_id || data[16] > 1 || !s_zero (data + 17, 7) ||
                count > 65536 || (!count && data[16] != 1))
                return 0;
            return DV_KIND_WANT;
        default:
            return 0;
    }
}

//  View and re-encoding checks, one per kind.

//  True when [view, view + length) lies inside [data, data + size).
static bool
s_inside (const void *view, size_t length, const uint8_t *data, size_t size)
{
    uintptr_t start = (uintptr_t) view;
    uintptr_t base = (uintptr_t) data;
    return start >= base && start - base <= size && length <= size - (start - base);
}

//  Compares what an encoder wrote (in an exactly-sized heap buffer) with data.
static void
s_check_same (const uint8_t *encoded, size_t encoded_size, const uint8_t *data,
              size_t size)
{
    FUZZ_CHECK (encoded_size == size);
    FUZZ_CHECK (memcmp (encoded, data, size) == 0);
}

static uint8_t *
s_buffer (size_t size)
{
    //  malloc (0) gives a pointer to no bytes at all: any read is reported.
    uint8_t *buffer = malloc (size);
    FUZZ_CHECK (buffer || !size);
    return buffer;
}

static void
s_check_announce (const uint8_t *data, size_t size, const dv_announce_t *announce)
{
    FUZZ_CHECK (announce->job_id && announce->task_count >= 1 &&
                announce->credit_step >= 1);
    FUZZ_CHECK (!announce->is_range ||
                (!announce->input_digest && !announce->expected_sum.limb[0] &&
                 !announce->expected_sum.limb[1] && !announce->expected_sum.limb[2] &&
                 !announce->expected_sum.limb[3] &&
                 dv_tag_key_is_zero (&announce->tag_key)));
    FUZZ_CHECK (announce->is_range || !dv_tag_key_is_zero (&announce->tag_key));
    FUZZ_CHECK (dv_announce_shape (announce) != 0);
    FUZZ_CHECK (!announce->is_range ||
                s_reference_range_fits (announce->range_start, announce->task_count));
    uint8_t *encoded = s_buffer (DV_ANNOUNCE_SIZE);
    s_check_same (encoded, dv_announce_encode (announce, encoded), data, size);
    free (encoded);
}

static void
s_check_tasks (const uint8_t *data, size_t size, const dv_tasks_t *tasks)
{
    FUZZ_CHECK (tasks->job_id && tasks->count >= 1 && tasks->count <= DV_BATCH_MAX);
    FUZZ_CHECK (s_reference_span_valid (tasks->first_task, tasks->count));
    FUZZ_CHECK (
        s_inside (tasks->values, (size_t) tasks->count * DV_TASK_SIZE, data, size));
    uint8_t *encoded = s_buffer (DV_TASKS_SIZE (tasks->count));
    size_t encoded_size =
        dv_tasks_encode_header (tasks->job_id, tasks->first_task, tasks->count, encoded);
    FUZZ_CHECK (encoded_size == DV_TASKS_SIZE (tasks->count));
    for (uint32_t index = 0; index < tasks->count; index++)
        dv_tasks_put_value (encoded, index, dv_tasks_value (tasks, index));
    dv_tasks_put_tag (encoded, tasks->tag);
    s_check_same (encoded, encoded_size, data, size);
    free (encoded);
}

static void
s_check_range_tasks (const uint8_t *data, size_t size, const dv_tasks_t *tasks)
{
    FUZZ_CHECK (tasks->job_id && tasks->count >= 1 && tasks->count <= DV_BATCH_MAX);
    FUZZ_CHECK (s_reference_span_valid (tasks->first_task, tasks->count));
    FUZZ_CHECK (!tasks->values && !tasks->tag);
    FUZZ_CHECK (s_reference_range_fits (tasks->first_value, tasks->count));
    FUZZ_CHECK (tasks->first_value == (int64_t) s_load (data + 24, 8));
    //  The values count on from the first, to a last that fits.
    FUZZ_CHECK (dv_tasks_value (tasks, 0) == tasks->first_value);
    FUZZ_CHECK ((s_i128_t) dv_tasks_value (tasks, tasks->count - 1) ==
                (s_i128_t) tasks->first_value + tasks->count - 1);
    uint8_t *encoded = s_buffer (DV_RANGE_TASKS_SIZE);
    s_check_same (encoded,
                  dv_range_tasks_encode (tasks->job_id, tasks->first_task, tasks->count,
                                         tasks->first_value, encoded),
                  data, size);
    free (encoded);
}

static void
s_check_squares (const uint8_t *data, size_t size, const dv_results_t *results)
{
    FUZZ_CHECK (results->job_id && results->count >= 1 && results->count <= DV_BATCH_MAX);
    FUZZ_CHECK (s_reference_span_valid (results->first_task, results->count));
    FUZZ_CHECK (!results->has_values && !results->tag);
    FUZZ_CHECK (results->square_size == 8 || results->square_size == 16);
    FUZZ_CHECK (results->worker_id == (const char *) data + 26);
    FUZZ_CHECK (s_inside (results->worker_id, results->worker_id_length, data, size));
    FUZZ_CHECK (s_reference_id_valid ((const uint8_t *) results->worker_id,
                                      results->worker_id_length));
    FUZZ_CHECK (results->entries == data + 26 + results->worker_id_length);
    FUZZ_CHECK (s_inside (results->entries,
                          (size_t) results->count * results->square_size, data, size));
    size_t encoded_size =
        DV_SQUARES_SIZE (results->count, results->worker_id_length, results->square_size);
    uint8_t *encoded = s_buffer (encoded_size);
    FUZZ_CHECK (dv_squares_encode_header (results->job_id, results->first_task,
                                          results->count, results->square_size,
                                          results->worker_id, results->worker_id_length,
                                          encoded) == encoded_size);
    uint8_t *entries = dv_squares_entries (encoded, results->worker_id_length);
    for (uint32_t index = 0; index < results->count; index++) {
        //  Each square against the bytes, read here a byte at a time.
        const uint8_t *at = results->entries + (size_t) index * results->square_size;
        s_u128_t square = s_load (at, 8);
        if (results->square_size == 16)
            square |= (s_u128_t) s_load (at + 8, 8) << 64;
        FUZZ_CHECK (dv_results_square (results, index) == square);
        dv_squares_put (entries, index, results->square_size,
                        dv_results_square (results, index));
    }
    s_check_same (encoded, encoded_size, data, size);
    free (encoded);
}

static void
s_check_results (const uint8_t *data, size_t size, const dv_results_t *results)
{
    FUZZ_CHECK (results->has_values && results->square_size == 16);
    FUZZ_CHECK (results->job_id && results->count >= 1 && results->count <= DV_BATCH_MAX);
    FUZZ_CHECK (s_reference_span_valid (results->first_task, results->count));
    FUZZ_CHECK (s_inside (results->worker_id, results->worker_id_length, data, size));
    FUZZ_CHECK (s_reference_id_valid ((const uint8_t *) results->worker_id,
                                      results->worker_id_length));
    FUZZ_CHECK (s_inside (results->entries, (size_t) results->count * DV_RESULT_SIZE,
                          data, size));
    size_t encoded_size = DV_RESULTS_SIZE (results->count, results->worker_id_length);
    uint8_t *encoded = s_buffer (encoded_size);
    FUZZ_CHECK (dv_results_encode_header (results->job_id, results->first_task,
                                          results->count, results->tag,
                                          results->worker_id, results->worker_id_length,
                                          encoded) == encoded_size);
    uint8_t *entries = dv_results_entries (encoded, results->worker_id_length);
    for (uint32_t index = 0; index < results->count; index++) {
        int64_t value;
        dv_u128_t square;
        dv_results_entry (results, index, &value, &square);
        FUZZ_CHECK (dv_results_square (results, index) == square);
        dv_results_put_entry (entries, index, value, square);
    }
    s_check_same (encoded, encoded_size, data, size);
    free (encoded);
}

static void
s_check_lines (const uint8_t *data, size_t size, const dv_lines_t *lines)
{
    FUZZ_CHECK (lines->job_id && lines->count >= 1 && lines->count <= DV_BATCH_MAX);
    FUZZ_CHECK (s_inside (lines->entries, lines->entries_size, data, size));
    uint8_t *encoded = s_buffer (size);
    size_t encoded_size =
        dv_lines_encode_header (lines->job_id, lines->first_task, encoded);
    size_t offset = 0;
    for (uint32_t index = 0; index < lines->count; index++) {
        dv_line_t line;
        dv_lines_next (lines, &offset, &line);
        FUZZ_CHECK (s_inside (line.bytes, line.length, data, size));
        FUZZ_CHECK (line.length <= DV_LINE_MAX);
        FUZZ_CHECK (encoded_size + DV_LINE_ENTRY_SIZE (line.length) <= size);
        encoded_size +=
            dv_lines_put_line (encoded + encoded_size, line.tag, line.bytes, line.length);
    }
    dv_batch_put_count (encoded, lines->count);
    s_check_same (encoded, encoded_size, data, size);
    free (encoded);
}

static void
s_check_line_results (const uint8_t *data, size_t size, const dv_line_results_t *results)
{
    FUZZ_CHECK (results->job_id && results->count >= 1 && results->count <= DV_BATCH_MAX);
    FUZZ_CHECK (s_inside (results->worker_id, results->worker_id_length, data, size));
    FUZZ_CHECK (s_inside (results->entries, results->entries_size, data, size));
    uint8_t *encoded = s_buffer (size);
    size_t encoded_size = dv_line_results_encode_header (
        results->job_id, results->first_task, results->worker_id,
        results->worker_id_length, encoded);
    size_t offset = 0;
    for (uint32_t index = 0; index < results->count; index++) {
        dv_line_result_t result;
        dv_line_results_next (results, &offset, &result);
        FUZZ_CHECK (s_inside (result.bytes, result.length, data, size));
        FUZZ_CHECK (result.status == DV_LINE_OK || result.status == DV_LINE_FAILED);
        FUZZ_CHECK (encoded_size + DV_LINE_RESULT_ENTRY_SIZE (result.length) <= size);
        encoded_size += dv_line_results_put (encoded + encoded_size, &result);
    }
    dv_batch_put_count (encoded, results->count);
    s_check_same (encoded, encoded_size, data, size);
    free (encoded);
}

static void
s_check_heartbeat (const uint8_t *data, size_t size, const dv_heartbeat_t *heartbeat)
{
    FUZZ_CHECK (
        heartbeat->state == DV_STATE_IDLE || heartbeat->state == DV_STATE_RUNNING ||
        heartbeat->state == DV_STATE_DONE || heartbeat->state == DV_STATE_ABANDONED);
    FUZZ_CHECK (heartbeat->received <= heartbeat->total);
    FUZZ_CHECK ((heartbeat->state == DV_STATE_IDLE) == (heartbeat->shape == 0));
    uint8_t *encoded = s_buffer (DV_HEARTBEAT_SIZE);
    s_check_same (encoded, dv_heartbeat_encode (heartbeat, encoded), data, size);
    free (encoded);
}

static void
s_check_credit (const uint8_t *data, size_t size, const dv_credit_t *credit)
{
    FUZZ_CHECK (credit->job_id && credit->shape);
    uint8_t *encoded = s_buffer (DV_CREDIT_SIZE);
    s_check_same (encoded, dv_credit_encode (credit, encoded), data, size);
    free (encoded);
}

static void
s_check_want (const uint8_t *data, size_t size, const dv_want_t *want)
{
    FUZZ_CHECK (want->batches <= DV_WANT_BATCHES_MAX &&
                (want->batches || want->is_reset));
    uint8_t *encoded = s_buffer (DV_WANT_SIZE);
    s_check_same (encoded, dv_want_encode (want, encoded), data, size);
    free (encoded);
}

static void
s_check_resend (const uint8_t *data, size_t size, const dv_resend_t *resend)
{
    FUZZ_CHECK (resend->job_id && resend->range_count >= 1 &&
                resend->range_count <= DV_RESEND_RANGES_MAX);
    FUZZ_CHECK (s_inside (resend->ranges, (size_t) resend->range_count * 16, data, size));
    dv_range_t ranges[DV_RESEND_RANGES_MAX];
    for (uint32_t index = 0; index < resend->range_count; index++) {
        ranges[index] = dv_resend_range (resend, index);
        FUZZ_CHECK (
            s_reference_span_valid (ranges[index].first_task, ranges[index].task_count));
    }
    uint8_t *encoded = s_buffer (DV_RESEND_SIZE (resend->range_count));
    s_check_same (encoded,
                  dv_resend_encode (resend->job_id, ranges, resend->range_count, encoded),
                  data, size);
    free (encoded);
}

static void
s_check_kill (const uint8_t *data, size_t size, const dv_kill_t *kill)
{
    FUZZ_CHECK (kill->job_id && kill->shape);
    uint8_t *encoded = s_buffer (DV_KILL_SIZE);
    s_check_same (encoded, dv_kill_encode (kill, encoded), data, size);
    free (encoded);
}

static void
s_check_refuse (const uint8_t *data, size_t size, const dv_refuse_t *refuse)
{
    FUZZ_CHECK (refuse->job_id && refuse->shape);
    FUZZ_CHECK (refuse->reason >= DV_REFUSE_TOO_LARGE &&
                refuse->reason <= DV_REFUSE_NO_MEMORY);
    uint8_t *encoded = s_buffer (DV_REFUSE_SIZE);
    s_check_same (encoded, dv_refuse_encode (refuse, encoded), data, size);
    free (encoded);
}

//  Runs every decoder on data (exactly size bytes on the heap) and checks
//  each verdict against the reference. Returns the kind accepted, or 0.
static int
s_decode_all (const uint8_t *data, size_t size, bool check_views)
{
    int expected = s_reference_kind (data, size);
    int header_kind =
        size >= 16 && data[0] == 2 && !data[2] && !data[3] ? (int) data[1] : 0;
    FUZZ_CHECK (dv_message_kind (data, size) == header_kind);
    FUZZ_CHECK (!expected || expected == header_kind);

    int accepted = 0;
    int verdicts = 0;
    dv_announce_t announce;
    if (dv_announce_decode (data, size, &announce) == 0) {
        accepted = DV_KIND_ANNOUNCE;
        verdicts++;
        if (check_views)
            s_check_announce (data, size, &announce);
    }
    //  These two take two kinds each: which one, the header says (and the
    //  reference checks that it is the kind it expects).
    dv_tasks_t tasks;
    if (dv_tasks_decode (data, size, &tasks) == 0) {
        FUZZ_CHECK (header_kind == DV_KIND_TASKS || header_kind == DV_KIND_RANGE_TASKS);
        FUZZ_CHECK ((tasks.values == NULL) == (header_kind == DV_KIND_RANGE_TASKS));
        accepted = header_kind;
        verdicts++;
        if (check_views && header_kind == DV_KIND_RANGE_TASKS)
            s_check_range_tasks (data, size, &tasks);
        else if (check_views)
            s_check_tasks (data, size, &tasks);
    }
    dv_results_t results;
    if (dv_results_decode (data, size, &results) == 0) {
        FUZZ_CHECK (header_kind == DV_KIND_RESULTS || header_kind == DV_KIND_SQUARES);
        FUZZ_CHECK (results.has_values == (header_kind == DV_KIND_RESULTS));
        accepted = header_kind;
        verdicts++;
        if (check_views && header_kind == DV_KIND_SQUARES)
            s_check_squares (data, size, &results);
        else if (check_views)
            s_check_results (data, size, &results);
    }
    dv_lines_t lines;
    if (dv_lines_decode (data, size, &lines) == 0) {
        accepted = DV_KIND_LINES;
        verdicts++;
        if (check_views)
            s_check_lines (data, size, &lines);
    }
    dv_line_results_t line_results;
    if (dv_line_results_decode (data, size, &line_results) == 0) {
        accepted = DV_KIND_LINE_RESULTS;
        verdicts++;
        if (check_views)
            s_check_line_results (data, size, &line_results);
    }
    dv_heartbeat_t heartbeat;
    if (dv_heartbeat_decode (data, size, &heartbeat) == 0) {
        accepted = DV_KIND_HEARTBEAT;
        verdicts++;
        if (check_views)
            s_check_heartbeat (data, size, &heartbeat);
    }
    dv_credit_t credit;
    if (dv_credit_decode (data, size, &credit) == 0) {
        accepted = DV_KIND_CREDIT;
        verdicts++;
        if (check_views)
            s_check_credit (data, size, &credit);
    }
    dv_want_t want;
    if (dv_want_decode (data, size, &want) == 0) {
        accepted = DV_KIND_WANT;
        verdicts++;
        if (check_views)
            s_check_want (data, size, &want);
    }
    dv_resend_t resend;
    if (dv_resend_decode (data, size, &resend) == 0) {
        accepted = DV_KIND_RESEND;
        verdicts++;
        if (check_views)
            s_check_resend (data, size, &resend);
    }
    dv_kill_t kill;
    if (dv_kill_decode (data, size, &kill) == 0) {
        accepted = DV_KIND_KILL;
        verdicts++;
        if (check_views)
            s_check_kill (data, size, &kill);
    }
    dv_refuse_t refuse;
    if (dv_refuse_decode (data, size, &refuse) == 0) {
        accepted = DV_KIND_REFUSE;
        verdicts++;
        if (check_views)
            s_check_refuse (data, size, &refuse);
    }
    if (accepted != expected) {
        fprintf (stderr, "decoders accepted kind %d, the reference kind %d (%zu bytes)\n",
                 accepted, expected, size);
        abort ();
    }
    FUZZ_CHECK (verdicts <= 1);
    return accepted;
}

//  The helpers, on the first bytes of the input.
static void
s_check_helpers (const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    size_t id_length = size < DV_WORKER_ID_MAX + 2 ? size : DV_WORKER_ID_MAX + 2;
    FUZZ_CHECK (dv_worker_id_valid ((const char *) data, id_length) ==
                s_reference_id_valid (data, id_length));
    if (size >= 16) {
        int64_t start = (int64_t) s_load (data, 8);
        uint64_t count = s_load (data + 8, 8);
        FUZZ_CHECK (dv_range_fits (start, count) ==
                    s_reference_range_fits (start, count));
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    uint8_t *frame = s_buffer (size);
    if (size)
        memcpy (frame, data, size);
    s_check_helpers (frame, size);
    int kind = s_decode_all (frame, size, true);
    free (frame);

    if (kind) {
        //  One byte shorter, then one longer (a zero, then 0xff): no decoder
        //  may take either, and neither may be read past its end.
        uint8_t *shorter = s_buffer (size - 1);
        memcpy (shorter, data, size - 1);
        FUZZ_CHECK (s_decode_all (shorter, size - 1, false) == 0);
        free (shorter);
        for (int pad = 0; pad < 2; pad++) {
            uint8_t *longer = s_buffer (size + 1);
            memcpy (longer, data, size);
            longer[size] = pad ? 0xff : 0x00;
            FUZZ_CHECK (s_decode_all (longer, size + 1, false) == 0);
            free (longer);
        }
    }
    return 0;
}
