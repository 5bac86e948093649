/*  plan.c: the ventilator's send plan (see plan.h). Pure: no sockets, no
    clock, no logging.
*/
#include "plan.h"

#define S_AUTO_BATCH_MAX    1024
#define S_AUTO_WINDOW_TASKS 65536 //  in flight at most, for batches of 16 and up
#define S_AUTO_WINDOW_MIN   16    //  batches
#define S_AUTO_WINDOW_MAX   16384 //  batches

//  A line job's --exec starts a command per batch, which costs far more
//  than moving its lines: its batches grow up to DV_BATCH_MAX (and the byte
//  budget, DV_LINES_BATCH_BYTES), as `parallel --pipe` takes 1 MB blocks.
uint32_t
dv_plan_batch_size (uint64_t task_count, uint64_t workers, uint64_t batch, bool is_lines)
{
    if (!batch) {
        uint64_t most = is_lines ? DV_BATCH_MAX : S_AUTO_BATCH_MAX;
        batch = task_count / (16 * (workers ? workers : 1));
        batch = batch < 1 ? 1 : batch > most ? most : batch;
    }
    return (uint32_t) batch;
}

uint64_t
dv_plan_window_tasks (uint32_t batch_size, uint64_t window_batches)
{
    //  Measured: throughput needs many thousand tiny batches (a round trip
    //  through four busy processes on two cores takes milliseconds), or a
    //  few hundred mid-sized ones, in flight; more only costs memory
    //  (results queue up at the workers: 256 batches of 4096 held 21 MiB per
    //  worker) and delays recovery. So 65536 tasks, within 16 .. 16384
    //  batches.
    uint64_t window = window_batches;
    if (!window) {
        window = S_AUTO_WINDOW_TASKS / batch_size;
        window = window < S_AUTO_WINDOW_MIN   ? S_AUTO_WINDOW_MIN
                 : window > S_AUTO_WINDOW_MAX ? S_AUTO_WINDOW_MAX
                                              : window;
    }
    window *= batch_size;
    //  Tasks in flight lie between the first missing one and the span's end.
    return window < DV_WINDOW_SPAN ? window : DV_WINDOW_SPAN;
}

void
dv_plan_init (dv_plan_t *self, uint64_t task_count, uint32_t batch_size,
              uint64_t window_tasks)
{
    *self = (dv_plan_t){
        .task_count = task_count,
        .batch_size = batch_size,
        .window_tasks = window_tasks,
    };
}

bool
dv_plan_next_batch (const dv_plan_t *self, uint64_t *first_task, uint32_t *count)
{
    uint64_t available;
    if (self->resend_index < self->resend_count) {
        const dv_range_t *range = &self->resend[self->resend_index];
        *first_task = range->first_task;
        available = range->task_count;
    } else {
        //  After a resume the sink may hold more than we have sent.
        uint64_t received =
            self->received < self->next_task ? self->received : self->next_task;
        if (self->next_task >= self->task_count ||
            self->next_task - received >= self->window_tasks)
            return false;
        *first_task = self->next_task;
        available = self->task_count - self->next_task;
        //  The whole batch inside the sink's window, or wait until it is
        //  (DV_WINDOW_SPAN >= DV_BATCH_MAX: once the tasks before it are in).
        uint64_t whole = available < self->batch_size ? available : self->batch_size;
        if (self->next_task + whole > dv_window_end (self->first_missing))
            return false;
    }
    *count = available < self->batch_size ? (uint32_t) available : self->batch_size;
    return true;
}

void
dv_plan_batch_sent (dv_plan_t *self, uint64_t first_task, uint32_t count)
{
    if (self->resend_index < self->resend_count &&
        first_task == self->resend[self->resend_index].first_task) {
        dv_range_t *range = &self->resend[self->resend_index];
        range->first_task += count;
        range->task_count -= count;
        if (!range->task_count)
            self->resend_index++;
        self->tasks_resent += count;
    } else
        self->next_task += count;
}

uint32_t
dv_plan_worker_cap (const dv_plan_t *self)
{
    uint64_t batches = self->window_tasks / self->batch_size;
    return (uint32_t) (batches < 2                        ? 2
                       : batches > DV_PLAN_WORKER_CAP_MAX ? DV_PLAN_WORKER_CAP_MAX
                                                          : batches);
}

uint32_t
dv_plan_worker_share_min (const dv_plan_t *self)
{
    uint32_t asked = DV_PREFETCH_DEFAULT / self->batch_size;
    uint32_t cap = dv_plan_worker_cap (self);
    asked = asked < 2 ? 2 : asked;
    return asked < cap ? asked : cap;
}

uint64_t
dv_plan_fair_share (const dv_plan_t *self, uint64_t worker_count)
{
    uint64_t tasks = self->task_count - self->next_task;
    for (uint32_t index = self->resend_index; index < self->resend_count; index++)
        tasks += self->resend[index].task_count;
    uint64_t batches = (tasks + self->batch_size - 1) / self->batch_size;
    uint64_t workers = worker_count ? worker_count : 1;
    uint64_t share = (batches + workers - 1) / workers;
    return share < 2 ? 2 : share;
}

uint64_t
dv_plan_take_resend (dv_plan_t *self, const dv_resend_t *resend)
{
    uint64_t tasks = 0;
    self->resend_count = self->resend_index = 0;
    for (uint32_t index = 0; index < resend->range_count; index++) {
        dv_range_t range = dv_resend_range (resend, index);
        if (range.first_task >= self->next_task)
            continue; //  not sent yet: it goes out in order anyway
        if (range.task_count > self->next_task - range.first_task)
            range.task_count = self->next_task - range.first_task;
        self->resend[self->resend_count++] = range;
        tasks += range.task_count;
    }
    return tasks;
}

void
dv_plan_restart (dv_plan_t *self)
{
    self->received = 0;
    self->first_missing = 0;
    self->next_task = 0;
    self->resend_count = self->resend_index = 0;
}

void
dv_plan_resume (dv_plan_t *self, uint64_t first_missing)
{
    self->next_task = first_missing < self->task_count ? first_missing : self->task_count;
    dv_plan_first_missing (self, first_missing);
}

void
dv_plan_received (dv_plan_t *self, uint64_t received)
{
    if (received > self->received)
        self->received = received;
}

void
dv_plan_first_missing (dv_plan_t *self, uint64_t first_missing)
{
    if (first_missing > self->task_count)
        first_missing = self->task_count;
    if (first_missing > self->first_missing)
        self->first_missing = first_missing;
}
