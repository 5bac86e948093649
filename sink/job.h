/*  job.h: one job's bookkeeping at the sink, the single source of truth.

    The task ids received (seen.h: what is below the first missing task needs
    no memory, a ring of DV_WINDOW_SPAN bits holds the window above it) make
    every result count exactly once: a duplicate is dropped and counted. A
    result batch is taken whole or not at all: if any square is wrong, or any
    id is out of range or past the window, or a value is not its task's (for
    a range job, range_start + id; for a list job, the batch tag under the
    job's key does not match), the batch is malformed and nothing of it
    counts. Memory does not grow with the job's size.
*/
#ifndef DV_JOB_H_INCLUDED
#define DV_JOB_H_INCLUDED

#include "exact.h"
#include "protocol.h"
#include "seen.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

//  The most worker ids the sink names: every batch may carry a new one, and
//  each costs an entry here and a word in the summary. Results under any
//  further id are counted under DV_WORKER_IDS_OTHERS ("*"; a worker that
//  calls itself "*" is counted there too), so the counts still add up.
#define DV_WORKER_IDS_MAX    1024
#define DV_WORKER_IDS_OTHERS "*"

//  How many failed line tasks the summary names, and how much of each reason.
#define DV_JOB_FAILED_SHOWN 5
#define DV_JOB_REASON_SHOWN 200

//  What the sink knows of one worker id; results first, so that a lookup in
//  workers reads as the count.
typedef struct {
    uint64_t results; //  results delivered (new ones, not duplicates)
    int64_t last_us;  //  when its last batch was taken (dv_job_set_clock)
    int source_fd;    //  the caller's: the connection it last came on, -1 none
} dv_job_worker_t;

typedef struct {
    dv_announce_t announce;
    uint64_t shape; //  dv_announce_shape (&announce)
    dv_seen_t seen; //  the task ids received
    //  Copies of seen's, for readers, as of the last dv_job_take.
    uint64_t received;      //  distinct tasks received
    uint64_t first_missing; //  lowest task id not received (task_count when none)
    uint64_t received_end;  //  one past the highest task id received (0: none)
    uint64_t duplicates;    //  results dropped because their task was already in
    dv_u256_t sum;          //  of the squares received
    zhashx_t *workers;      //  worker id -> dv_job_worker_t, at most
                            //  DV_WORKER_IDS_MAX of them and the others
    //  The entry of the ids past DV_WORKER_IDS_MAX, NULL until one comes.
    //  Owned by workers.
    dv_job_worker_t *others;
    int64_t started_us;  //  when the job was accepted
    int64_t finished_us; //  when the last result came in
    int64_t clock_us;    //  the time batches are taken at (dv_job_set_clock)
    //  How long a worker takes between two of its batches, smoothed: the
    //  measure of a batch's latency that recovery waits by. 0 until the
    //  first batch (whose latency counts from the job's start).
    int64_t batch_latency_us;
    //  The worker credited by the last dv_job_take, NULL when it brought
    //  nothing new. Owned by workers.
    dv_job_worker_t *last_worker;
    //  A list job's tag keys: the latest announcement's, then the one before
    //  (zero: none), so that batches a restarted ventilator's predecessor
    //  sent still check. A range job has none.
    dv_tag_key_t tag_keys[2];
    //  A line job: tasks that failed (they count as received: the job
    //  completes when every task has a result, ok or failed), and the first
    //  DV_JOB_FAILED_SHOWN of them, with their reasons (cut to
    //  DV_JOB_REASON_SHOWN bytes), for the summary.
    uint64_t failed;
    uint32_t failed_shown;
    uint64_t failed_tasks[DV_JOB_FAILED_SHOWN];
    char failed_reasons[DV_JOB_FAILED_SHOWN][DV_JOB_REASON_SHOWN + 1];
} dv_job_t;

//  Starts bookkeeping for an announced job. Returns NULL when its state
//  (at most DV_WINDOW_SPAN / 8 bytes, whatever the job's size) cannot be
//  allocated. Caller owns the return value.
dv_job_t *dv_job_new (const dv_announce_t *announce);

void dv_job_destroy (dv_job_t **self_p);

//  Called for each new (not duplicate) result, in task id order within a batch.
typedef void (dv_job_result_fn) (void *context, int64_t value, dv_u128_t square);

//  What dv_job_take made of a batch: 0 taken, else malformed.
typedef enum {
    DV_JOB_TAKEN = 0,
    DV_JOB_MISFIT = -1,  //  other job id, ids out of range, a wrong square or value
    DV_JOB_BAD_TAG = -2, //  a list job's batch whose tag does not match its values
    //  Tasks past the window (dv_window_end of the first missing task): no
    //  ventilator sends them, and they would need memory.
    DV_JOB_BEYOND_WINDOW = -3,
} dv_job_take_t;

//  Takes in a result batch already decoded. Returns DV_JOB_MISFIT,
//  DV_JOB_BAD_TAG or DV_JOB_BEYOND_WINDOW when it is malformed for this job; otherwise
//  records it, calls on_result for every new result, and returns DV_JOB_TAKEN.
dv_job_take_t dv_job_take (dv_job_t *self, const dv_results_t *results,
                           dv_job_result_fn *on_result, void *context);

//  Called for each new (not duplicate) result of a line job, in task id
//  order within a message: the result line (ok) or the reason (failed),
//  length bytes (no NUL, no newline).
typedef void (dv_job_line_fn) (void *context, uint64_t task_id, dv_line_status_t status,
                               const char *bytes, size_t length);

//  Takes in a line results message already decoded, whole or not at all:
//  DV_JOB_MISFIT for another job, a job that is not a line job, or ids out
//  of range; DV_JOB_BAD_TAG when an entry's tag is not that of its task and
//  the digest of the line its worker got (dv_tag_line, under the latest key
//  or the one before); DV_JOB_BEYOND_WINDOW past the window. Otherwise
//  records it (a failed task counts as received, with its reason), calls
//  on_line for every new result, and returns DV_JOB_TAKEN. A squares
//  job's dv_job_take refuses a line job's messages (DV_JOB_MISFIT).
dv_job_take_t dv_job_take_lines (dv_job_t *self, const dv_line_results_t *results,
                                 dv_job_line_fn *on_line, void *context);

//  A repeat of the job's announcement carries key: when it is not the
//  latest key, it becomes the latest and the latest the previous one.
//  Returns true then (a ventilator restarted with a new key). A range job
//  keeps no key.
bool dv_job_rekey (dv_job_t *self, const dv_tag_key_t *key);

bool dv_job_complete (const dv_job_t *self);

//  The time the next batches are taken at: the caller reads the clock once
//  per drain of many batches rather than once per batch.
void dv_job_set_clock (dv_job_t *self, int64_t now_us);

//  Writes up to range_max ranges of missing task ids, lowest first, and
//  returns how many; their task total goes to *task_total.
uint32_t dv_job_missing (const dv_job_t *self, dv_range_t *ranges, uint32_t range_max,
                         uint64_t *task_total);

//  The same, for missing task ids below below only (ranges clipped to it).
uint32_t dv_job_missing_below (const dv_job_t *self, uint64_t below, dv_range_t *ranges,
                               uint32_t range_max, uint64_t *task_total);

//  True when every task of the range_count ranges has been received.
bool dv_job_has_all (const dv_job_t *self, const dv_range_t *ranges,
                     uint32_t range_count);

//  The sum the job must reach: the closed form for a range, the ventilator's
//  sum for a list.
dv_u256_t dv_job_expected_sum (const dv_job_t *self);

#endif
