/*  protocol.c: encoders and validating decoders for protocol version 2.

    Layouts (offsets in bytes; docs/protocol.md has the same tables):
      header     0 version u8, 1 kind u8, 2 flags u16 = 0, 4 count u32, 8 job u64
      ANNOUNCE  16 task_count u64, 24 options u8 (bit 0: range, bit 1: lines),
                25 zero[3],
                28 credit_step u32, 32 range_start i64, 40 expected_sum u256,
                72 input_digest u64, 80 tag_key [16]
      TASKS     16 first_task u64, 24 tag u64, 32 count x value i64
      RESULTS   16 first_task u64, 24 tag u64, 32 id_length u8, 33 worker id,
                33 + id_length: count x (value i64, square u128)
      HEARTBEAT 16 state u8, 17 zero[3], 20 ended_ms_ago u32, 24 received u64,
                32 total u64, 40 shape u64
      CREDIT    16 received u64, 24 first_missing u64, 32 shape u64
      RESEND    16 count x (first_task u64, task_count u64)
      WANT      (job id 0) 16 reset u8, 17 zero[7]; count = batches
      KILL      16 shape u64
      REFUSE    16 reason u8, 17 zero[7], 24 detail u64, 32 shape u64
      LINES     16 first_task u64, 24: count x (tag u64, length u32, bytes)
      LINE_RESULTS 16 first_task u64, 24 id_length u8, 25 worker id,
                25 + id_length: count x (status u8, tag u64, input_digest u64,
                length u32, bytes)
      RANGE_TASKS 16 first_task u64, 24 first_value i64 (no values, no tag)
      SQUARES   16 first_task u64, 24 square_size u8 (8 or 16), 25 id_length u8,
                26 worker id, 26 + id_length: count x square (u64 or u128)
    A decoder rejects anything else: no field is trusted before it is checked.
*/
#include "protocol.h"

#include <stdint.h>

#define S_RANGE_FLAG 0x01
#define S_LINES_FLAG 0x02
//  Folded into a line job's shape, so that no list job has the same one.
#define S_LINES_SHAPE_WORD 0x53454e494cULL //  "LINES"

static uint32_t
s_get_u32 (const uint8_t *source)
{
    return (uint32_t) source[0] | (uint32_t) source[1] << 8 | (uint32_t) source[2] << 16 |
           (uint32_t) source[3] << 24;
}

static void
s_put_u32 (uint8_t *target, uint32_t value)
{
    target[0] = (uint8_t) value;
    target[1] = (uint8_t) (value >> 8);
    target[2] = (uint8_t) (value >> 16);
    target[3] = (uint8_t) (value >> 24);
}

static void
s_put_header (uint8_t *buffer, dv_kind_t kind, uint32_t count, uint64_t job_id)
{
    buffer[0] = DV_PROTOCOL_VERSION;
    buffer[1] = (uint8_t) kind;
    buffer[2] = 0;
    buffer[3] = 0;
    s_put_u32 (buffer + 4, count);
    dv_put_u64 (buffer + 8, job_id);
}

static bool
s_all_zero (const uint8_t *bytes, size_t length)
{
    for (size_t index = 0; index < length; index++)
        if (bytes[index])
            return false;
    return true;
}

bool
dv_worker_id_valid (const char *id, size_t length)
{
    if (length == 0 || length > DV_WORKER_ID_MAX)
        return false;
    for (size_t index = 0; index < length; index++) {
        unsigned char c = (unsigned char) id[index];
        //  '=' would make the sink's summary (w1=12 w2=30) ambiguous.
        if (c <= ' ' || c > '~' || c == '"' || c == '\\' || c == '=')
            return false;
    }
    return true;
}

#define S_FNV_OFFSET 0xcbf29ce484222325ULL
#define S_FNV_PRIME  0x100000001b3ULL

void
dv_digest_init (dv_digest_t *digest)
{
    digest->state = S_FNV_OFFSET;
}

void
dv_digest_add (dv_digest_t *digest, int64_t value)
{
    uint64_t bits = (uint64_t) value;
    for (int byte = 0; byte < 8; byte++) {
        digest->state ^= (bits >> (8 * byte)) & 0xff;
        digest->state *= S_FNV_PRIME;
    }
}

static void
s_digest_u64 (dv_digest_t *digest, uint64_t value)
{
    dv_digest_add (digest, (int64_t) value);
}

uint64_t
dv_line_digest (const void *bytes, size_t length)
{
    const uint8_t *data = bytes;
    uint64_t state = S_FNV_OFFSET;
    for (size_t index = 0; index < length; index++) {
        state ^= data[index];
        state *= S_FNV_PRIME;
    }
    return state;
}

uint64_t
dv_tag_line (const dv_tag_key_t *key, uint64_t job_id, uint64_t task_id,
             uint64_t line_digest)
{
    uint8_t word[8];
    dv_put_u64 (word, line_digest);
    return dv_tag_batch (key, job_id, task_id, word, 8, 1);
}

uint64_t
dv_announce_shape (const dv_announce_t *announce)
{
    dv_digest_t digest;
    dv_digest_init (&digest);
    s_digest_u64 (&digest, announce->task_count);
    s_digest_u64 (&digest, announce->is_range);
    //  Only for lines: every other job keeps the shape it always had.
    if (announce->is_lines)
        s_digest_u64 (&digest, S_LINES_SHAPE_WORD);
    if (announce->is_range)
        s_digest_u64 (&digest, (uint64_t) announce->range_start);
    else {
        s_digest_u64 (&digest, announce->input_digest);
        for (int limb = 0; limb < 4; limb++)
            s_digest_u64 (&digest, announce->expected_sum.limb[limb]);
    }
    return digest.state ? digest.state : 1;
}

void
dv_topic (dv_kind_t kind, uint8_t topic[2])
{
    topic[0] = DV_PROTOCOL_VERSION;
    topic[1] = (uint8_t) kind;
}

int
dv_message_kind (const uint8_t *data, size_t size)
{
    if (size < DV_HEADER_SIZE || data[0] != DV_PROTOCOL_VERSION || data[2] || data[3])
        return 0;
    return data[1];
}

//  Checks the header for kind and returns its count and job id; -1 on mismatch
//  or job id 0.
static int
s_check_header (const uint8_t *data, size_t size, dv_kind_t kind, uint32_t *count,
                uint64_t *job_id)
{
    if (dv_message_kind (data, size) != (int) kind)
        return -1;
    *count = s_get_u32 (data + 4);
    *job_id = dv_get_u64 (data + 8);
    return *job_id ? 0 : -1;
}

size_t
dv_announce_encode (const dv_announce_t *announce, uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_ANNOUNCE, 0, announce->job_id);
    dv_put_u64 (buffer + 16, announce->task_count);
    buffer[24] =
        (announce->is_range ? S_RANGE_FLAG : 0) | (announce->is_lines ? S_LINES_FLAG : 0);
    buffer[25] = buffer[26] = buffer[27] = 0;
    s_put_u32 (buffer + 28, announce->credit_step);
    dv_put_u64 (buffer + 32, (uint64_t) announce->range_start);
    for (int limb = 0; limb < 4; limb++)
        dv_put_u64 (buffer + 40 + 8 * limb, announce->expected_sum.limb[limb]);
    dv_put_u64 (buffer + 72, announce->input_digest);
    memcpy (buffer + 80, announce->tag_key.bytes, DV_TAG_KEY_SIZE);
    return DV_ANNOUNCE_SIZE;
}

int
dv_announce_decode (const uint8_t *data, size_t size, dv_announce_t *announce)
{
    uint32_t count;
    if (size != DV_ANNOUNCE_SIZE ||
        s_check_header (data, size, DV_KIND_ANNOUNCE, &count, &announce->job_id) ||
        count != 0)
        return -1;
    announce->task_count = dv_get_u64 (data + 16);
    if ((data[24] & ~(S_RANGE_FLAG | S_LINES_FLAG)) || !s_all_zero (data + 25, 3))
        return -1;
    announce->is_range = data[24] & S_RANGE_FLAG;
    announce->is_lines = data[24] & S_LINES_FLAG;
    announce->credit_step = s_get_u32 (data + 28);
    announce->range_start = (int64_t) dv_get_u64 (data + 32);
    for (int limb = 0; limb < 4; limb++)
        announce->expected_sum.limb[limb] = dv_get_u64 (data + 40 + 8 * limb);
    announce->input_digest = dv_get_u64 (data + 72);
    memcpy (announce->tag_key.bytes, data + 80, DV_TAG_KEY_SIZE);
    if (announce->task_count == 0 || announce->credit_step == 0)
        return -1;
    //  A range has no input: its sum, digest and tag key are zero. A list
    //  job always has a key: a zero one would leave its values unchecked.
    if (announce->is_range && (announce->input_digest || !s_all_zero (data + 40, 32) ||
                               !dv_tag_key_is_zero (&announce->tag_key)))
        return -1;
    if (!announce->is_range && dv_tag_key_is_zero (&announce->tag_key))
        return -1;
    //  Lines are not a range and have no sum of squares.
    if (announce->is_lines && (announce->is_range || !s_all_zero (data + 40, 32)))
        return -1;
    //  The last value of a range must fit int64.
    if (announce->is_range &&
        !dv_range_fits (announce->range_start, announce->task_count))
        return -1;
    return 0;
}

size_t
dv_tasks_encode_header (uint64_t job_id, uint64_t first_task, uint32_t count,
                        uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_TASKS, count, job_id);
    dv_put_u64 (buffer + 16, first_task);
    dv_put_u64 (buffer + 24, 0);
    return DV_TASKS_SIZE (count);
}

//  A batch's count and first task id must describe a real, non-wrapping range.
static bool
s_batch_range_valid (uint64_t first_task, uint32_t count)
{
    return count >= 1 && count <= DV_BATCH_MAX && first_task <= UINT64_MAX - count;
}

size_t
dv_range_tasks_encode (uint64_t job_id, uint64_t first_task, uint32_t count,
                       int64_t first_value, uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_RANGE_TASKS, count, job_id);
    dv_put_u64 (buffer + 16, first_task);
    dv_put_u64 (buffer + 24, (uint64_t) first_value);
    return DV_RANGE_TASKS_SIZE;
}

static int
s_range_tasks_decode (const uint8_t *data, size_t size, dv_tasks_t *tasks)
{
    uint32_t count;
    if (size != DV_RANGE_TASKS_SIZE ||
        s_check_header (data, size, DV_KIND_RANGE_TASKS, &count, &tasks->job_id))
        return -1;
    tasks->first_task = dv_get_u64 (data + 16);
    tasks->first_value = (int64_t) dv_get_u64 (data + 24);
    if (!s_batch_range_valid (tasks->first_task, count) ||
        !dv_range_fits (tasks->first_value, count))
        return -1;
    tasks->count = count;
    tasks->tag = 0;
    tasks->values = NULL;
    return 0;
}

int
dv_tasks_decode (const uint8_t *data, size_t size, dv_tasks_t *tasks)
{
    if (dv_message_kind (data, size) == DV_KIND_RANGE_TASKS)
        return s_range_tasks_decode (data, size, tasks);
    uint32_t count;
    if (size < DV_TASKS_SIZE (0) ||
        s_check_header (data, size, DV_KIND_TASKS, &count, &tasks->job_id))
        return -1;
    tasks->first_task = dv_get_u64 (data + 16);
    if (!s_batch_range_valid (tasks->first_task, count) || size != DV_TASKS_SIZE (count))
        return -1;
    tasks->count = count;
    tasks->tag = dv_get_u64 (data + 24);
    tasks->values = data + DV_TASKS_SIZE (0);
    tasks->first_value = 0;
    return 0;
}

size_t
dv_results_encode_header (uint64_t job_id, uint64_t first_task, uint32_t count,
                          uint64_t tag, const char *worker_id, size_t worker_id_length,
                          uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_RESULTS, count, job_id);
    dv_put_u64 (buffer + 16, first_task);
    dv_put_u64 (buffer + 24, tag);
    buffer[32] = (uint8_t) worker_id_length;
    memcpy (buffer + 33, worker_id, worker_id_length);
    return DV_RESULTS_SIZE (count, worker_id_length);
}

size_t
dv_squares_encode_header (uint64_t job_id, uint64_t first_task, uint32_t count,
                          size_t square_size, const char *worker_id,
                          size_t worker_id_length, uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_SQUARES, count, job_id);
    dv_put_u64 (buffer + 16, first_task);
    buffer[24] = (uint8_t) square_size;
    buffer[25] = (uint8_t) worker_id_length;
    memcpy (buffer + 26, worker_id, worker_id_length);
    return DV_SQUARES_SIZE (count, worker_id_length, square_size);
}

static int
s_squares_decode (const uint8_t *data, size_t size, dv_results_t *results)
{
    uint32_t count;
    if (size < DV_SQUARES_SIZE (0, 0, 8) ||
        s_check_header (data, size, DV_KIND_SQUARES, &count, &results->job_id))
        return -1;
    results->first_task = dv_get_u64 (data + 16);
    results->square_size = data[24];
    results->worker_id_length = data[25];
    results->worker_id = (const char *) data + 26;
    if ((results->square_size != 8 && results->square_size != 16) ||
        !s_batch_range_valid (results->first_task, count) ||
        size !=
            DV_SQUARES_SIZE (count, results->worker_id_length, results->square_size) ||
        !dv_worker_id_valid (results->worker_id, results->worker_id_length))
        return -1;
    results->count = count;
    results->tag = 0;
    results->has_values = false;
    results->entries = data + DV_SQUARES_SIZE (0, results->worker_id_length, 8);
    return 0;
}

int
dv_results_decode (const uint8_t *data, size_t size, dv_results_t *results)
{
    if (dv_message_kind (data, size) == DV_KIND_SQUARES)
        return s_squares_decode (data, size, results);
    uint32_t count;
    if (size < DV_RESULTS_SIZE (0, 0) ||
        s_check_header (data, size, DV_KIND_RESULTS, &count, &results->job_id))
        return -1;
    results->first_task = dv_get_u64 (data + 16);
    results->tag = dv_get_u64 (data + 24);
    results->worker_id_length = data[32];
    results->worker_id = (const char *) data + 33;
    if (!s_batch_range_valid (results->first_task, count) ||
        size != DV_RESULTS_SIZE (count, results->worker_id_length) ||
        !dv_worker_id_valid (results->worker_id, results->worker_id_length))
        return -1;
    results->count = count;
    results->entries = data + DV_RESULTS_SIZE (0, results->worker_id_length);
    results->has_values = true;
    results->square_size = 16;
    return 0;
}

size_t
dv_heartbeat_encode (const dv_heartbeat_t *heartbeat, uint8_t *buffer)
{
    //  An idle sink has no job: its header carries job id 0.
    s_put_header (buffer, DV_KIND_HEARTBEAT, 0, heartbeat->job_id);
    memset (buffer + 16, 0, 8);
    buffer[16] = (uint8_t) heartbeat->state;
    s_put_u32 (buffer + 20, heartbeat->ended_ms_ago);
    dv_put_u64 (buffer + 24, heartbeat->received);
    dv_put_u64 (buffer + 32, heartbeat->total);
    dv_put_u64 (buffer + 40, heartbeat->shape);
    return DV_HEARTBEAT_SIZE;
}

int
dv_heartbeat_decode (const uint8_t *data, size_t size, dv_heartbeat_t *heartbeat)
{
    if (size != DV_HEARTBEAT_SIZE || dv_message_kind (data, size) != DV_KIND_HEARTBEAT ||
        s_get_u32 (data + 4) != 0 || !s_all_zero (data + 17, 3))
        return -1;
    heartbeat->job_id = dv_get_u64 (data + 8);
    heartbeat->received = dv_get_u64 (data + 24);
    heartbeat->total = dv_get_u64 (data + 32);
    heartbeat->shape = dv_get_u64 (data + 40);
    heartbeat->ended_ms_ago = s_get_u32 (data + 20);
    if (heartbeat->ended_ms_ago && data[16] != DV_STATE_DONE &&
        data[16] != DV_STATE_ABANDONED)
        return -1;
    switch (data[16]) {
        case DV_STATE_IDLE:
            if (heartbeat->job_id || heartbeat->received || heartbeat->total ||
                heartbeat->shape)
                return -1;
            break;
        case DV_STATE_RUNNING:
        case DV_STATE_DONE:
        case DV_STATE_ABANDONED:
            if (!heartbeat->job_id || !heartbeat->total || !heartbeat->shape ||
                heartbeat->received > heartbeat->total)
                return -1;
            break;
        default:
            return -1;
    }
    heartbeat->state = (dv_state_t) data[16];
    return 0;
}

size_t
dv_credit_encode (const dv_credit_t *credit, uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_CREDIT, 0, credit->job_id);
    dv_put_u64 (buffer + 16, credit->received);
    dv_put_u64 (buffer + 24, credit->first_missing);
    dv_put_u64 (buffer + 32, credit->shape);
    return DV_CREDIT_SIZE;
}

int
dv_credit_decode (const uint8_t *data, size_t size, dv_credit_t *credit)
{
    uint32_t count;
    if (size != DV_CREDIT_SIZE ||
        s_check_header (data, size, DV_KIND_CREDIT, &count, &credit->job_id) ||
        count != 0)
        return -1;
    credit->received = dv_get_u64 (data + 16);
    credit->first_missing = dv_get_u64 (data + 24);
    credit->shape = dv_get_u64 (data + 32);
    return credit->shape ? 0 : -1;
}

size_t
dv_want_encode (const dv_want_t *want, uint8_t *buffer)
{
    //  A worker may not know the job yet: WANT carries job id 0.
    s_put_header (buffer, DV_KIND_WANT, want->batches, 0);
    memset (buffer + 16, 0, 8);
    buffer[16] = want->is_reset ? 1 : 0;
    return DV_WANT_SIZE;
}

int
dv_want_decode (const uint8_t *data, size_t size, dv_want_t *want)
{
    if (size != DV_WANT_SIZE || dv_message_kind (data, size) != DV_KIND_WANT ||
        dv_get_u64 (data + 8) != 0 || data[16] > 1 || !s_all_zero (data + 17, 7))
        return -1;
    want->batches = s_get_u32 (data + 4);
    want->is_reset = data[16] == 1;
    //  Only a reset may grant nothing; no worker needs more than this.
    if ((!want->batches && !want->is_reset) || want->batches > DV_WANT_BATCHES_MAX)
        return -1;
    return 0;
}

size_t
dv_resend_encode (uint64_t job_id, const dv_range_t *ranges, uint32_t range_count,
                  uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_RESEND, range_count, job_id);
    for (uint32_t index = 0; index < range_count; index++) {
        dv_put_u64 (buffer + DV_HEADER_SIZE + 16 * (size_t) index,
                    ranges[index].first_task);
        dv_put_u64 (buffer + DV_HEADER_SIZE + 16 * (size_t) index + 8,
                    ranges[index].task_count);
    }
    return DV_RESEND_SIZE (range_count);
}

int
dv_resend_decode (const uint8_t *data, size_t size, dv_resend_t *resend)
{
    uint32_t count;
    if (size < DV_HEADER_SIZE ||
        s_check_header (data, size, DV_KIND_RESEND, &count, &resend->job_id) ||
        count < 1 || count > DV_RESEND_RANGES_MAX || size != DV_RESEND_SIZE (count))
        return -1;
    resend->range_count = count;
    resend->ranges = data + DV_HEADER_SIZE;
    for (uint32_t index = 0; index < count; index++) {
        dv_range_t range = dv_resend_range (resend, index);
        if (range.task_count == 0 || range.first_task > UINT64_MAX - range.task_count)
            return -1;
    }
    return 0;
}

size_t
dv_kill_encode (const dv_kill_t *kill, uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_KILL, 0, kill->job_id);
    dv_put_u64 (buffer + 16, kill->shape);
    return DV_KILL_SIZE;
}

int
dv_kill_decode (const uint8_t *data, size_t size, dv_kill_t *kill)
{
    uint32_t count;
    if (size != DV_KILL_SIZE ||
        s_check_header (data, size, DV_KIND_KILL, &count, &kill->job_id) || count != 0)
        return -1;
    kill->shape = dv_get_u64 (data + 16);
    return kill->shape ? 0 : -1;
}

size_t
dv_refuse_encode (const dv_refuse_t *refuse, uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_REFUSE, 0, refuse->job_id);
    memset (buffer + 16, 0, 8);
    buffer[16] = (uint8_t) refuse->reason;
    dv_put_u64 (buffer + 24, refuse->detail);
    dv_put_u64 (buffer + 32, refuse->shape);
    return DV_REFUSE_SIZE;
}

int
dv_refuse_decode (const uint8_t *data, size_t size, dv_refuse_t *refuse)
{
    uint32_t count;
    if (size != DV_REFUSE_SIZE ||
        s_check_header (data, size, DV_KIND_REFUSE, &count, &refuse->job_id) ||
        count != 0 || !s_all_zero (data + 17, 7) || data[16] < DV_REFUSE_TOO_LARGE ||
        data[16] > DV_REFUSE_NO_MEMORY)
        return -1;
    refuse->reason = (dv_refuse_reason_t) data[16];
    refuse->detail = dv_get_u64 (data + 24);
    refuse->shape = dv_get_u64 (data + 32);
    return refuse->shape ? 0 : -1;
}

//  The bytes of a line or a result: no NUL (C tools stop at one) and no
//  newline (one line each, in and out).
static bool
s_line_bytes_valid (const uint8_t *bytes, size_t length)
{
    return length <= DV_LINE_MAX && !memchr (bytes, '\0', length) &&
           !memchr (bytes, '\n', length);
}

void
dv_batch_put_count (uint8_t *buffer, uint32_t count)
{
    s_put_u32 (buffer + 4, count);
}

size_t
dv_lines_encode_header (uint64_t job_id, uint64_t first_task, uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_LINES, 0, job_id);
    dv_put_u64 (buffer + 16, first_task);
    return DV_LINES_SIZE (0);
}

size_t
dv_lines_put_line (uint8_t *at, uint64_t tag, const char *bytes, size_t length)
{
    dv_put_u64 (at, tag);
    s_put_u32 (at + 8, (uint32_t) length);
    memcpy (at + 12, bytes, length);
    return DV_LINE_ENTRY_SIZE (length);
}

int
dv_lines_decode (const uint8_t *data, size_t size, dv_lines_t *lines)
{
    uint32_t count;
    if (size < DV_LINES_SIZE (0) || size > DV_LINES_SIZE_MAX ||
        s_check_header (data, size, DV_KIND_LINES, &count, &lines->job_id))
        return -1;
    lines->first_task = dv_get_u64 (data + 16);
    if (!s_batch_range_valid (lines->first_task, count))
        return -1;
    lines->entries = data + DV_LINES_SIZE (0);
    lines->entries_size = size - DV_LINES_SIZE (0);
    size_t offset = 0;
    for (uint32_t index = 0; index < count; index++) {
        if (lines->entries_size - offset < DV_LINE_ENTRY_SIZE (0))
            return -1;
        size_t length = s_get_u32 (lines->entries + offset + 8);
        if (length > lines->entries_size - offset - DV_LINE_ENTRY_SIZE (0) ||
            !s_line_bytes_valid (lines->entries + offset + 12, length))
            return -1;
        offset += DV_LINE_ENTRY_SIZE (length);
    }
    if (offset != lines->entries_size)
        return -1;
    lines->count = count;
    return 0;
}

void
dv_lines_next (const dv_lines_t *lines, size_t *offset, dv_line_t *line)
{
    const uint8_t *at = lines->entries + *offset;
    line->tag = dv_get_u64 (at);
    line->length = s_get_u32 (at + 8);
    line->bytes = (const char *) at + 12;
    *offset += DV_LINE_ENTRY_SIZE (line->length);
}

size_t
dv_line_results_encode_header (uint64_t job_id, uint64_t first_task,
                               const char *worker_id, size_t worker_id_length,
                               uint8_t *buffer)
{
    s_put_header (buffer, DV_KIND_LINE_RESULTS, 0, job_id);
    dv_put_u64 (buffer + 16, first_task);
    buffer[24] = (uint8_t) worker_id_length;
    memcpy (buffer + 25, worker_id, worker_id_length);
    return DV_LINE_RESULTS_SIZE (worker_id_length, 0);
}

size_t
dv_line_results_put (uint8_t *at, const dv_line_result_t *result)
{
    at[0] = (uint8_t) result->status;
    dv_put_u64 (at + 1, result->tag);
    dv_put_u64 (at + 9, result->input_digest);
    s_put_u32 (at + 17, (uint32_t) result->length);
    memcpy (at + 21, result->bytes, result->length);
    return DV_LINE_RESULT_ENTRY_SIZE (result->length);
}

int
dv_line_results_decode (const uint8_t *data, size_t size, dv_line_results_t *results)
{
    uint32_t count;
    if (size < DV_LINE_RESULTS_SIZE (0, 0) ||
        s_check_header (data, size, DV_KIND_LINE_RESULTS, &count, &results->job_id))
        return -1;
    results->first_task = dv_get_u64 (data + 16);
    results->worker_id_length = data[24];
    results->worker_id = (const char *) data + 25;
    if (!s_batch_range_valid (results->first_task, count) ||
        size < DV_LINE_RESULTS_SIZE (results->worker_id_length, 0) ||
        !dv_worker_id_valid (results->worker_id, results->worker_id_length))
        return -1;
    results->entries = data + DV_LINE_RESULTS_SIZE (results->worker_id_length, 0);
    results->entries_size = size - DV_LINE_RESULTS_SIZE (results->worker_id_length, 0);
    if (results->entries_size > DV_LINE_RESULTS_BYTES)
        return -1;
    size_t offset = 0;
    for (uint32_t index = 0; index < count; index++) {
        const uint8_t *at = results->entries + offset;
        if (results->entries_size - offset < DV_LINE_RESULT_ENTRY_SIZE (0) ||
            at[0] > DV_LINE_FAILED)
            return -1;
        size_t length = s_get_u32 (at + 17);
        if (length > results->entries_size - offset - DV_LINE_RESULT_ENTRY_SIZE (0) ||
            !s_line_bytes_valid (at + 21, length))
            return -1;
        offset += DV_LINE_RESULT_ENTRY_SIZE (length);
    }
    if (offset != results->entries_size)
        return -1;
    results->count = count;
    return 0;
}

void
dv_line_results_next (const dv_line_results_t *results, size_t *offset,
                      dv_line_result_t *result)
{
    const uint8_t *at = results->entries + *offset;
    result->status = (dv_line_status_t) at[0];
    result->tag = dv_get_u64 (at + 1);
    result->input_digest = dv_get_u64 (at + 9);
    result->length = s_get_u32 (at + 17);
    result->bytes = (const char *) at + 21;
    *offset += DV_LINE_RESULT_ENTRY_SIZE (result->length);
}
