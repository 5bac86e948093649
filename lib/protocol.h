/*  protocol.h: divvy's wire protocol, version 2 (docs/protocol.md).

    Every message is one frame, little-endian, starting with a 16-byte header:
    version, kind, flags (0), count, job id. The first two bytes double as the
    PUB/SUB topic, so a subscriber picks kinds by prefix. Encoders write into a
    caller's buffer; decoders check every length, count and range against the
    frame and fill a view that points into it (no copy, no allocation): the
    view lives as long as the frame does.
*/
#ifndef DV_PROTOCOL_H_INCLUDED
#define DV_PROTOCOL_H_INCLUDED

#include "divvy.h"
#include "exact.h"
#include "tag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DV_PROTOCOL_VERSION 2

typedef enum {
    DV_KIND_ANNOUNCE = 1,      //  ventilator -> sink: a job and its size
    DV_KIND_TASKS = 2,         //  ventilator -> worker: a batch of task values
    DV_KIND_RESULTS = 3,       //  worker -> sink: a batch of values and squares
    DV_KIND_KILL = 4,          //  sink -> all (control): the job is complete
    DV_KIND_HEARTBEAT = 5,     //  sink -> all (control): alive, and its job state
    DV_KIND_CREDIT = 6,        //  sink -> ventilator (control): tasks received
    DV_KIND_RESEND = 7,        //  sink -> ventilator (control): missing task ranges
    DV_KIND_WANT = 8,          //  worker -> ventilator (tasks): credit for batches
    DV_KIND_REFUSE = 9,        //  sink -> ventilator (control): a job not taken, and why
    DV_KIND_LINES = 10,        //  ventilator -> worker: a batch of opaque task lines
    DV_KIND_LINE_RESULTS = 11, //  worker -> sink: result lines (or failures) of tasks
    DV_KIND_RANGE_TASKS = 12,  //  ventilator -> worker: a range job's batch, no values
    DV_KIND_SQUARES = 13,      //  worker -> sink: a range batch's squares, no values
} dv_kind_t;

//  Most tasks in one batch; bounds every message size below.
#define DV_BATCH_MAX 65536
//  Longest worker id, in bytes; ids are printable ASCII without space, quote,
//  backslash or '=' (the sink's summary prints id=count pairs), so they print
//  safely in text and JSON.
#define DV_WORKER_ID_MAX 64

#define DV_HEADER_SIZE    16
#define DV_ANNOUNCE_SIZE  (DV_HEADER_SIZE + 80)
#define DV_TASK_SIZE      8  //  one value
#define DV_RESULT_SIZE    24 //  one value and its square
#define DV_HEARTBEAT_SIZE (DV_HEADER_SIZE + 32)
#define DV_CREDIT_SIZE    (DV_HEADER_SIZE + 24)
#define DV_WANT_SIZE      (DV_HEADER_SIZE + 8)
#define DV_REFUSE_SIZE    (DV_HEADER_SIZE + 24)
//  Most batches one WANT may ask for.
#define DV_WANT_BATCHES_MAX 65536
//  Tasks a worker asks for ahead by default (its --prefetch). The ventilator
//  gives every worker at least that much credit, whatever the number of
//  workers: a worker granted less than it asked tops up late and runs dry.
#define DV_PREFETCH_DEFAULT 4096
//  A worker restates its credit (a reset WANT) only after this long without
//  a batch: the ventilator counts what it sent a worker within this spell
//  as still held when that worker restates.
#define DV_CREDIT_REFRESH_MS 1000
//  Most ranges in one RESEND.
#define DV_RESEND_RANGES_MAX   64
#define DV_RESEND_SIZE(ranges) (DV_HEADER_SIZE + (size_t) (ranges) *16)
#define DV_KILL_SIZE           (DV_HEADER_SIZE + 8)

//  TASKS and RESULTS: first task id and tag after the header; RESULTS then
//  the worker id's length and the id.
#define DV_TASKS_SIZE(count) (DV_HEADER_SIZE + 16 + (size_t) (count) *DV_TASK_SIZE)
#define DV_RESULTS_SIZE(count, id_length)                                                \
    (DV_HEADER_SIZE + 17 + (size_t) (id_length) + (size_t) (count) *DV_RESULT_SIZE)
#define DV_TASKS_SIZE_MAX   DV_TASKS_SIZE (DV_BATCH_MAX)
#define DV_RESULTS_SIZE_MAX DV_RESULTS_SIZE (DV_BATCH_MAX, DV_WORKER_ID_MAX)

//  A range job's batches carry no values (each is the range's start plus
//  its task id) and its results no values either: RANGE_TASKS is the first
//  task id and its value after the header; SQUARES the first task id, the
//  size of each square (8 when every square of the batch is below 2^64,
//  else 16), the worker id's length and the id, then the squares.
#define DV_RANGE_TASKS_SIZE (DV_HEADER_SIZE + 16)
#define DV_SQUARE_SIZE_MAX  16
#define DV_SQUARES_SIZE(count, id_length, square_size)                                   \
    (DV_HEADER_SIZE + 10 + (size_t) (id_length) +                                        \
     (size_t) (count) * (size_t) (square_size))
#define DV_SQUARES_SIZE_MAX                                                              \
    DV_SQUARES_SIZE (DV_BATCH_MAX, DV_WORKER_ID_MAX, DV_SQUARE_SIZE_MAX)

//  Line jobs (--lines): opaque tasks and results, one line of bytes each.
//  The longest task line and the longest result line (or failure reason),
//  in bytes, without the newline; neither holds a NUL or a newline. The
//  public header (api/divvy.h) gives it to C API workers.
#define DV_LINE_MAX DIVVY_LINE_MAX
//  The most bytes of entries in one LINES batch: the ventilator closes a
//  batch at its task count or at this budget, whichever comes first. One
//  entry of the longest line always fits.
#define DV_LINES_BATCH_BYTES ((size_t) 1 << 20)
//  The most bytes of entries in one LINE_RESULTS message: a worker sends a
//  batch's results in as many messages as this budget needs (each entry
//  checks alone, see DV_KIND_LINE_RESULTS in docs/protocol.md).
#define DV_LINE_RESULTS_BYTES ((size_t) 1 << 20)
//  A LINES entry: tag u64, length u32, the line's bytes.
#define DV_LINE_ENTRY_SIZE(length) (12 + (size_t) (length))
//  A LINE_RESULTS entry: status u8, tag u64, input digest u64, length u32,
//  the result's (or reason's) bytes.
#define DV_LINE_RESULT_ENTRY_SIZE(length) (21 + (size_t) (length))
//  LINES: first task id after the header, then the entries.
#define DV_LINES_SIZE(entry_bytes) (DV_HEADER_SIZE + 8 + (size_t) (entry_bytes))
//  LINE_RESULTS: first task id, the worker id's length and the id, entries.
#define DV_LINE_RESULTS_SIZE(id_length, entry_bytes)                                     \
    (DV_HEADER_SIZE + 9 + (size_t) (id_length) + (size_t) (entry_bytes))
#define DV_LINES_SIZE_MAX DV_LINES_SIZE (DV_LINES_BATCH_BYTES)
#define DV_LINE_RESULTS_SIZE_MAX                                                         \
    DV_LINE_RESULTS_SIZE (DV_WORKER_ID_MAX, DV_LINE_RESULTS_BYTES)
//  The status of one line result.
typedef enum {
    DV_LINE_OK = 0,     //  the bytes are the task's result line
    DV_LINE_FAILED = 1, //  the task failed --retries times; the bytes say why
} dv_line_status_t;

//  Receive caps (ZMQ_MAXMSGSIZE), one per socket that receives, each derived
//  from the largest message that socket may legally get: a frame over a cap
//  is a protocol error to libzmq, which drops the connection for good.
#define DV_MAX_OF(a, b) ((a) > (b) ? (a) : (b))
//  The least a cap may be: libzmq applies it to handshake commands too, and
//  a CURVE INITIATE with metadata runs past 256 bytes.
#define DV_MESSAGE_CAP_MIN 1024
#define DV_RECEIVE_CAP(size)                                                             \
    ((int64_t) DV_MAX_OF ((size_t) (size), (size_t) DV_MESSAGE_CAP_MIN))
//  Control, at the ventilator and the workers: the sink's messages.
#define DV_CONTROL_SIZE_MAX                                                              \
    DV_MAX_OF (DV_MAX_OF (DV_HEARTBEAT_SIZE, DV_CREDIT_SIZE),                            \
               DV_MAX_OF (DV_MAX_OF (DV_KILL_SIZE, DV_REFUSE_SIZE),                      \
                          DV_RESEND_SIZE (DV_RESEND_RANGES_MAX)))
#define DV_CONTROL_CAP DV_RECEIVE_CAP (DV_CONTROL_SIZE_MAX)
//  Control, at the sink (an XPUB): subscriptions, one byte and a topic.
#define DV_SUBSCRIPTION_CAP DV_RECEIVE_CAP (1 + 2)
//  Tasks, at the ventilator (a ROUTER): the workers' credit.
#define DV_WANT_CAP DV_RECEIVE_CAP (DV_WANT_SIZE)
//  Tasks, at a worker: batches of values or of lines.
#define DV_TASKS_CAP                                                                     \
    DV_RECEIVE_CAP (DV_MAX_OF (DV_MAX_OF (DV_TASKS_SIZE_MAX, DV_LINES_SIZE_MAX),         \
                               DV_RANGE_TASKS_SIZE))
//  Results, at the sink: result batches (of squares or of lines) and the
//  ventilator's announcements.
#define DV_RESULTS_CAP                                                                   \
    DV_RECEIVE_CAP (                                                                     \
        DV_MAX_OF (DV_MAX_OF (DV_RESULTS_SIZE_MAX, DV_LINE_RESULTS_SIZE_MAX),            \
                   DV_MAX_OF (DV_SQUARES_SIZE_MAX, DV_ANNOUNCE_SIZE)))

//  The window's span, in task ids: the one bound on how far ahead of the
//  sink's first missing task a result may be. The ventilator sends no new
//  task at or past dv_window_end of the first missing task it last heard of
//  (CREDIT; it only lags the sink's), and the sink refuses a result batch
//  that reaches past dv_window_end of its own first missing task (malformed:
//  counted, never stored). So the sink's state for a job is DV_WINDOW_SPAN
//  bits (1 MiB) at most, whatever the job's size, and what is below its first
//  missing task needs none. A power of two, at least DV_BATCH_MAX (a whole
//  batch always fits once the tasks before it are in).
#define DV_WINDOW_SPAN (UINT64_C (1) << 23)

//  One past the last task id that may be sent or taken while first_missing
//  is the sink's first missing task, for a window of span task ids
//  (DV_WINDOW_SPAN but in tests); saturating.
static inline uint64_t
dv_window_end_of (uint64_t first_missing, uint64_t span)
{
    return first_missing > UINT64_MAX - span ? UINT64_MAX : first_missing + span;
}

static inline uint64_t
dv_window_end (uint64_t first_missing)
{
    return dv_window_end_of (first_missing, DV_WINDOW_SPAN);
}

//  The sink publishes on control at least this often while it runs (a heartbeat
//  every 200 ms; KILL every 100 ms once the job is done): silence for
//  DV_SINK_GONE_MS after KILL means it has exited.
#define DV_SINK_GONE_MS 600
//  The ventilator announces its job this often while it runs: the sink's
//  sign that it lives (a repeat of an accepted job is its heartbeat).
#define DV_ANNOUNCE_EVERY_MS 1000

//  Sink job states, carried by heartbeats.
typedef enum {
    DV_STATE_IDLE = 0,      //  waiting for a job announcement
    DV_STATE_RUNNING = 1,   //  gathering results for job_id
    DV_STATE_DONE = 2,      //  job_id is complete
    DV_STATE_ABANDONED = 3, //  job_id given up: its ventilator went silent
} dv_state_t;

//  Why a sink did not take an announced job (REFUSE).
typedef enum {
    DV_REFUSE_TOO_LARGE = 1, //  over its --max-tasks (detail: the limit)
    DV_REFUSE_BUSY = 2,      //  it holds another job (detail: that job's id)
    DV_REFUSE_SHAPE = 3,     //  it holds this job id with another shape
    DV_REFUSE_NO_MEMORY = 4, //  it could not allocate the job's state
} dv_refuse_reason_t;

typedef struct {
    uint64_t job_id;        //  never 0
    uint64_t task_count;    //  N >= 1; task ids are 0..N-1
    bool is_range;          //  values are range_start + task id
    bool is_lines;          //  a line job (--lines): opaque tasks, not a range
    int64_t range_start;    //  with is_range
    dv_u256_t expected_sum; //  a list job: the ventilator's sum of squares (lines: 0)
    uint64_t input_digest;  //  without is_range: the values' (or lines') dv_digest_t
    uint32_t credit_step;   //  the sink sends credit every this many tasks
    //  Without is_range: the job's secret key for batch tags (non-zero; only
    //  the ventilator and the sink know it). Zero for a range. Not part of
    //  the shape: a restarted ventilator draws a new one.
    dv_tag_key_t tag_key;
} dv_announce_t;

//  A TASKS or a RANGE_TASKS batch (values NULL: first_value and the next).
typedef struct {
    uint64_t job_id;
    uint64_t first_task;   //  tasks first_task .. first_task + count - 1
    uint32_t count;        //  1 .. DV_BATCH_MAX
    uint64_t tag;          //  list job: dv_tag_batch of the values; range: 0
    const uint8_t *values; //  count little-endian int64s (dv_tasks_value), or NULL
    int64_t first_value;   //  RANGE_TASKS: the first task's value
} dv_tasks_t;

typedef struct {
    uint64_t job_id;
    uint64_t first_task;
    uint32_t count;          //  1 .. DV_BATCH_MAX
    uint64_t tag;            //  the TASKS message's tag, echoed
    const char *worker_id;   //  not NUL-terminated: worker_id_length bytes
    size_t worker_id_length; //  1 .. DV_WORKER_ID_MAX
    //  RESULTS: count (value, square) pairs (dv_results_entry); SQUARES:
    //  count squares of square_size bytes, no values (a range's).
    const uint8_t *entries;
    bool has_values;    //  RESULTS
    size_t square_size; //  16 (RESULTS), or SQUARES' 8 or 16
} dv_results_t;

//  A LINES batch: count entries, walked with dv_lines_next.
typedef struct {
    uint64_t job_id;
    uint64_t first_task;    //  tasks first_task .. first_task + count - 1
    uint32_t count;         //  1 .. DV_BATCH_MAX
    const uint8_t *entries; //  count entries, entries_size bytes in all
    size_t entries_size;    //  <= DV_LINES_BATCH_BYTES
} dv_lines_t;

//  One task line of a LINES batch, as dv_lines_next reads it.
typedef struct {
    uint64_t tag;      //  dv_tag_line of the line under the job's key
    const char *bytes; //  not NUL-terminated: length bytes, no NUL or newline
    size_t length;     //  0 .. DV_LINE_MAX
} dv_line_t;

//  A LINE_RESULTS message: count entries, walked with dv_line_results_next.
typedef struct {
    uint64_t job_id;
    uint64_t first_task;
    uint32_t count;          //  1 .. DV_BATCH_MAX
    const char *worker_id;   //  not NUL-terminated: worker_id_length bytes
    size_t worker_id_length; //  1 .. DV_WORKER_ID_MAX
    const uint8_t *entries;
    size_t entries_size; //  <= DV_LINE_RESULTS_BYTES
} dv_line_results_t;

//  One result of a LINE_RESULTS message.
typedef struct {
    dv_line_status_t status;
    uint64_t tag;          //  the task line's tag, echoed
    uint64_t input_digest; //  dv_line_digest of the task line the worker got
    const char *bytes;     //  the result line, or the reason (failed); no NUL
    size_t length;         //  or newline; 0 .. DV_LINE_MAX
} dv_line_result_t;

typedef struct {
    uint64_t job_id;
    uint64_t received;      //  distinct tasks received so far
    uint64_t first_missing; //  lowest task id not received (task_count when none)
    uint64_t shape;         //  dv_announce_shape of the job the sink holds
} dv_credit_t;

typedef struct {
    uint64_t first_task;
    uint64_t task_count; //  >= 1
} dv_range_t;

typedef struct {
    uint64_t job_id;
    uint32_t range_count;  //  1 .. DV_RESEND_RANGES_MAX
    const uint8_t *ranges; //  range_count (first, count) pairs: dv_resend_range
} dv_resend_t;

//  A worker's credit: how many more batches it will take. With is_reset, the
//  credit replaces what the ventilator holds for it (sent after an idle spell,
//  when earlier credit may have been lost with a restarted ventilator).
typedef struct {
    uint32_t batches;
    bool is_reset;
} dv_want_t;

typedef struct {
    uint64_t job_id; //  0 when idle
    dv_state_t state;
    uint64_t received; //  distinct tasks received so far
    uint64_t total;    //  task count of job_id, 0 when idle
    uint64_t shape;    //  dv_announce_shape of job_id, 0 when idle
    //  Done or abandoned: how long ago the job ended, in ms (saturating);
    //  0 otherwise. A worker that started before then took part in it.
    uint32_t ended_ms_ago;
} dv_heartbeat_t;

typedef struct {
    uint64_t job_id; //  the job refused
    uint64_t shape;  //  the refused announcement's dv_announce_shape
    dv_refuse_reason_t reason;
    uint64_t detail; //  per reason: the sink's --max-tasks, or the job it holds
} dv_refuse_t;

typedef struct {
    uint64_t job_id;
    uint64_t shape; //  dv_announce_shape of the completed job
} dv_kill_t;

//  Little-endian loads and stores of unaligned fields.
static inline uint64_t
dv_get_u64 (const uint8_t *source)
{
    uint64_t value;
    memcpy (&value, source, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    value = __builtin_bswap64 (value);
#endif
    return value;
}

static inline void
dv_put_u64 (uint8_t *target, uint64_t value)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    value = __builtin_bswap64 (value);
#endif
    memcpy (target, &value, 8);
}

//  True when id (length bytes) is a valid worker id.
bool dv_worker_id_valid (const char *id, size_t length);

//  True when count >= 1 consecutive values from start all fit int64.
static inline bool
dv_range_fits (int64_t start, uint64_t count)
{
    //  INT64_MAX - start, computed modulo 2^64, is exact for every start.
    return count >= 1 && count - 1 <= (uint64_t) INT64_MAX - (uint64_t) start;
}

//  What makes a job the same job: its task count, its values (a range's
//  start, or an input's digest and sum of squares). Never 0. A restarted
//  ventilator resumes a job only when the sink holds one of the same shape;
//  the sink refuses a second shape under a job id it holds.
uint64_t dv_announce_shape (const dv_announce_t *announce);

//  A 64-bit digest of count values in order (FNV-1a over their bytes): with
//  the sum of squares, it tells one input from another.
typedef struct {
    uint64_t state;
} dv_digest_t;
void dv_digest_init (dv_digest_t *digest);
void dv_digest_add (dv_digest_t *digest, int64_t value);

//  The unkeyed digest of one line's bytes (FNV-1a): what a line result says
//  of the task line its worker got. A line job's input digest is the
//  dv_digest_t of its lines' digests, in order.
uint64_t dv_line_digest (const void *bytes, size_t length);

//  The tag of task task_id's line: SipHash-2-4 under the job's key of the
//  words job_id, task_id and the line's dv_line_digest (tag.h).
uint64_t dv_tag_line (const dv_tag_key_t *key, uint64_t job_id, uint64_t task_id,
                      uint64_t line_digest);

//  The prefix a SUB socket subscribes to for one kind (2 bytes).
void dv_topic (dv_kind_t kind, uint8_t topic[2]);

//  The kind of a message after checking its version and header, or 0 when it
//  is too short, of another version, or has flags set.
int dv_message_kind (const uint8_t *data, size_t size);

//  Encoders: each writes a whole message at buffer, which must hold its size,
//  and returns that size.
size_t dv_announce_encode (const dv_announce_t *announce, uint8_t *buffer);
size_t dv_heartbeat_encode (const dv_heartbeat_t *heartbeat, uint8_t *buffer);
size_t dv_credit_encode (const dv_credit_t *credit, uint8_t *buffer);
size_t dv_want_encode (const dv_want_t *want, uint8_t *buffer);
//  ranges: range_count (1 .. DV_RESEND_RANGES_MAX) ranges.
size_t dv_resend_encode (uint64_t job_id, const dv_range_t *ranges, uint32_t range_count,
                         uint8_t *buffer);
size_t dv_kill_encode (const dv_kill_t *kill, uint8_t *buffer);
size_t dv_refuse_encode (const dv_refuse_t *refuse, uint8_t *buffer);

//  Task and result batches are written in place: the header first, then each
//  entry at its index. Returns the message size. A TASKS header has tag 0
//  until dv_tasks_put_tag.
size_t dv_tasks_encode_header (uint64_t job_id, uint64_t first_task, uint32_t count,
                               uint8_t *buffer);
//  Where value 0 of a tasks message goes.
static inline uint8_t *
dv_tasks_values (uint8_t *buffer)
{
    return buffer + DV_TASKS_SIZE (0);
}
static inline void
dv_tasks_put_value (uint8_t *buffer, uint32_t index, int64_t value)
{
    dv_put_u64 (dv_tasks_values (buffer) + (size_t) index * DV_TASK_SIZE,
                (uint64_t) value);
}
//  Sets the tag of a tasks message: for a list job, once its values are in,
//  dv_tag_batch (key, job, first task, dv_tasks_values (buffer), 8, count).
static inline void
dv_tasks_put_tag (uint8_t *buffer, uint64_t tag)
{
    dv_put_u64 (buffer + DV_HEADER_SIZE + 8, tag);
}
size_t dv_results_encode_header (uint64_t job_id, uint64_t first_task, uint32_t count,
                                 uint64_t tag, const char *worker_id,
                                 size_t worker_id_length, uint8_t *buffer);
//  A range batch: its first task id and value; returns DV_RANGE_TASKS_SIZE.
size_t dv_range_tasks_encode (uint64_t job_id, uint64_t first_task, uint32_t count,
                              int64_t first_value, uint8_t *buffer);
//  The header of a SQUARES message of count squares of square_size (8 or
//  16) bytes each; returns its whole size. The squares go in with
//  dv_squares_put.
size_t dv_squares_encode_header (uint64_t job_id, uint64_t first_task, uint32_t count,
                                 size_t square_size, const char *worker_id,
                                 size_t worker_id_length, uint8_t *buffer);
static inline uint8_t *
dv_squares_entries (uint8_t *buffer, size_t worker_id_length)
{
    return buffer + DV_SQUARES_SIZE (0, worker_id_length, 8);
}
static inline void
dv_squares_put (uint8_t *entries, uint32_t index, size_t square_size, dv_u128_t square)
{
    uint8_t *entry = entries + (size_t) index * square_size;
    dv_put_u64 (entry, (uint64_t) square);
    if (square_size > 8)
        dv_put_u64 (entry + 8, (uint64_t) (square >> 64));
}
//  Where entry 0 of a results message goes, for this worker id length.
static inline uint8_t *
dv_results_entries (uint8_t *buffer, size_t worker_id_length)
{
    return buffer + DV_RESULTS_SIZE (0, worker_id_length);
}
static inline void
dv_results_put_entry (uint8_t *entries, uint32_t index, int64_t value, dv_u128_t square)
{
    uint8_t *entry = entries + (size_t) index * DV_RESULT_SIZE;
    dv_put_u64 (entry, (uint64_t) value);
    dv_put_u64 (entry + 8, (uint64_t) square);
    dv_put_u64 (entry + 16, (uint64_t) (square >> 64));
}

//  LINES and LINE_RESULTS are written in place too: the header (count 0),
//  then each entry where the last one ended, then the count. A writer
//  checks the byte budget (DV_LINES_BATCH_BYTES, DV_LINE_RESULTS_BYTES)
//  before it adds an entry. Each returns the bytes written.
size_t dv_lines_encode_header (uint64_t job_id, uint64_t first_task, uint8_t *buffer);
size_t dv_lines_put_line (uint8_t *at, uint64_t tag, const char *bytes, size_t length);
size_t dv_line_results_encode_header (uint64_t job_id, uint64_t first_task,
                                      const char *worker_id, size_t worker_id_length,
                                      uint8_t *buffer);
size_t dv_line_results_put (uint8_t *at, const dv_line_result_t *result);
//  Sets the count of a LINES or LINE_RESULTS message.
void dv_batch_put_count (uint8_t *buffer, uint32_t count);

//  Decoders: 0 and a filled view when the message is well-formed, -1 when it
//  is not (wrong version, kind, size, count, id length or range, job id 0).
//  They check shape only: whether the job is the expected one is the caller's.
int dv_announce_decode (const uint8_t *data, size_t size, dv_announce_t *announce);
//  dv_tasks_decode takes TASKS and RANGE_TASKS (a range's last value must
//  fit int64); dv_results_decode RESULTS and SQUARES (square size 8 or 16).
int dv_tasks_decode (const uint8_t *data, size_t size, dv_tasks_t *tasks);
int dv_results_decode (const uint8_t *data, size_t size, dv_results_t *results);
int dv_heartbeat_decode (const uint8_t *data, size_t size, dv_heartbeat_t *heartbeat);
int dv_credit_decode (const uint8_t *data, size_t size, dv_credit_t *credit);
int dv_want_decode (const uint8_t *data, size_t size, dv_want_t *want);
int dv_resend_decode (const uint8_t *data, size_t size, dv_resend_t *resend);
int dv_kill_decode (const uint8_t *data, size_t size, dv_kill_t *kill);
int dv_refuse_decode (const uint8_t *data, size_t size, dv_refuse_t *refuse);
//  These two walk every entry: each length within the frame and at most
//  DV_LINE_MAX, no NUL or newline in the bytes, a known status, and the
//  entries ending exactly at the frame's end.
int dv_lines_decode (const uint8_t *data, size_t size, dv_lines_t *lines);
int dv_line_results_decode (const uint8_t *data, size_t size, dv_line_results_t *results);

//  The entry at *offset of a decoded message (start at 0), and *offset moved
//  past it. Call count times: the decoder has checked every entry.
void dv_lines_next (const dv_lines_t *lines, size_t *offset, dv_line_t *line);
void dv_line_results_next (const dv_line_results_t *results, size_t *offset,
                           dv_line_result_t *result);

static inline int64_t
dv_tasks_value (const dv_tasks_t *tasks, uint32_t index)
{
    if (!tasks->values) //  the decoder checked that the range fits
        return (int64_t) ((uint64_t) tasks->first_value + index);
    return (int64_t) dv_get_u64 (tasks->values + (size_t) index * DV_TASK_SIZE);
}

static inline dv_range_t
dv_resend_range (const dv_resend_t *resend, uint32_t index)
{
    dv_range_t range = {dv_get_u64 (resend->ranges + (size_t) index * 16),
                        dv_get_u64 (resend->ranges + (size_t) index * 16 + 8)};
    return range;
}

//  The square of entry index, of either kind.
static inline dv_u128_t
dv_results_square (const dv_results_t *results, uint32_t index)
{
    //  A RESULTS entry's square follows its value.
    const uint8_t *entry = results->has_values
                               ? results->entries + (size_t) index * DV_RESULT_SIZE + 8
                               : results->entries + (size_t) index * results->square_size;
    dv_u128_t square = dv_get_u64 (entry);
    if (results->square_size > 8)
        square |= (dv_u128_t) dv_get_u64 (entry + 8) << 64;
    return square;
}

//  Entry index of a RESULTS message (has_values): its value and square.
static inline void
dv_results_entry (const dv_results_t *results, uint32_t index, int64_t *value,
                  dv_u128_t *square)
{
    const uint8_t *entry = results->entries + (size_t) index * DV_RESULT_SIZE;
    *value = (int64_t) dv_get_u64 (entry);
    *square =
        (dv_u128_t) dv_get_u64 (entry + 8) | ((dv_u128_t) dv_get_u64 (entry + 16) << 64);
}

#endif
