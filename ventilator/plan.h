/*  plan.h: the ventilator's send plan, a pure decision of what to send next.

    Tasks 0 .. task_count-1 go out in batches of batch_size, in order, never
    more than window_tasks ahead of what the sink has received, and never a
    batch past dv_window_end of the sink's first missing task (the span the
    sink keeps memory for, lib/protocol.h); tasks the sink asks for again
    (RESEND) go first. The plan holds no socket, reads no
    clock and logs nothing: the caller sends, waits and says what happened.

    A value type (dv_plan_init, no _destroy): it owns no memory, its resend
    queue is fixed-size (DV_RESEND_RANGES_MAX), and it lives inside the
    ventilator's own state. Its fields are public for reading (logs, tests);
    change them only through the functions below.
*/
#ifndef DV_PLAN_H_INCLUDED
#define DV_PLAN_H_INCLUDED

#include "protocol.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t task_count;    //  N >= 1
    uint32_t batch_size;    //  1 .. DV_BATCH_MAX
    uint64_t window_tasks;  //  >= 1: sent and not yet received, at most
    uint64_t next_task;     //  the first task never sent yet, <= task_count
    uint64_t received;      //  the sink's count of distinct results, monotonic
    uint64_t first_missing; //  the sink's first missing task, as last heard, monotonic
    //  Tasks the sink asked for again, still to send: the latest RESEND's
    //  ranges below next_task (a newer RESEND replaces them).
    dv_range_t resend[DV_RESEND_RANGES_MAX];
    uint32_t resend_count;
    uint32_t resend_index; //  the range going out now
    uint64_t tasks_resent; //  over the whole run, restarts included
} dv_plan_t;

//  The batch size to use for batch (0: auto, N / (16 x workers) within
//  1 .. 1024, or 1 .. DV_BATCH_MAX for a line job; workers 0 counts as 1);
//  a non-zero batch is returned as is.
uint32_t dv_plan_batch_size (uint64_t task_count, uint64_t workers, uint64_t batch,
                             bool is_lines);

//  The window in tasks for window_batches batches of batch_size (0: auto,
//  65536 tasks' worth within 16 .. 16384 batches), at most DV_WINDOW_SPAN.
uint64_t dv_plan_window_tasks (uint32_t batch_size, uint64_t window_batches);

//  The per-worker cap: one window's worth of batches, the most the sink can
//  lack at once, within 2 (a worker asks for at least two) ..
//  DV_PLAN_WORKER_CAP_MAX (what the ventilator keeps per worker stays
//  small). The ventilator remembers a worker's latest this many batches, to
//  know who held what the sink asks for again, and gives no worker more
//  credit than its part of it (dispatch.c), halved per failure.
#define DV_PLAN_WORKER_CAP_MAX 16384
uint32_t dv_plan_worker_cap (const dv_plan_t *self);

//  The least credit a trusted worker may have, however many share the cap:
//  what a worker asks for by default (DV_PREFETCH_DEFAULT tasks, at least 2
//  batches), within the cap. Less, and every real worker at small batches
//  would run dry between its top-ups. The window still bounds them all.
uint32_t dv_plan_worker_share_min (const dv_plan_t *self);

//  A plan at the start of a job: nothing sent, nothing received.
void dv_plan_init (dv_plan_t *self, uint64_t task_count, uint32_t batch_size,
                   uint64_t window_tasks);

//  The next batch to send, if any: tasks asked for again first, then new
//  ones while the window allows; the last batch of the job or of a range may
//  be shorter than batch_size. Returns false when there is none now. Call
//  dv_plan_batch_sent once it has gone out.
bool dv_plan_next_batch (const dv_plan_t *self, uint64_t *first_task, uint32_t *count);

//  Records that the batch from dv_plan_next_batch went out.
void dv_plan_batch_sent (dv_plan_t *self, uint64_t first_task, uint32_t count);

//  What one worker may take between two of its credit messages: an equal
//  part of the batches still to send over worker_count workers (0 counts as
//  1), at least two.
uint64_t dv_plan_fair_share (const dv_plan_t *self, uint64_t worker_count);

//  Takes the sink's RESEND (decoded): its ranges replace any still queued,
//  clipped to the tasks sent already (the rest goes out in order anyway).
//  Returns how many tasks will go out again (0: none).
uint64_t dv_plan_take_resend (dv_plan_t *self, const dv_resend_t *resend);

//  Forgets the job's progress (the sink lost the job): nothing sent, nothing
//  received, no resend queued. tasks_resent is kept.
void dv_plan_restart (dv_plan_t *self);

//  Resumes a job the sink holds from its first gap (later gaps come back as
//  RESEND). first_missing is a peer's word: above task_count it counts as
//  task_count (nothing new left to send).
void dv_plan_resume (dv_plan_t *self, uint64_t first_missing);

//  The sink reports received distinct results; the count never goes back.
void dv_plan_received (dv_plan_t *self, uint64_t received);

//  The sink reports its first missing task (CREDIT); it never goes back.
//  A peer's word: above task_count it counts as task_count.
void dv_plan_first_missing (dv_plan_t *self, uint64_t first_missing);

#endif
