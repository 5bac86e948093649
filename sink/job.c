/*  job.c: the sink's exactly-once accounting. */
#include "job.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

static void
s_counter_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

dv_job_t *
dv_job_new (const dv_announce_t *announce)
{
    dv_job_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->announce = *announce;
    self->shape = dv_announce_shape (announce);
    self->tag_keys[0] = announce->tag_key;
    if (dv_seen_init (&self->seen, announce->task_count, DV_WINDOW_SPAN) ||
        !(self->workers = zhashx_new ())) {
        dv_job_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->workers, s_counter_destroy);
    self->started_us = self->clock_us = dv_now_us ();
    return self;
}

void
dv_job_destroy (dv_job_t **self_p)
{
    dv_job_t *self = *self_p;
    if (!self)
        return;
    dv_seen_free (&self->seen);
    zhashx_destroy (&self->workers);
    free (self);
    *self_p = NULL;
}

void
dv_job_set_clock (dv_job_t *self, int64_t now_us)
{
    self->clock_us = now_us;
}

//  Folds one interval between a worker's batches into the latency estimate.
static void
s_measure_latency (dv_job_t *self, int64_t interval_us)
{
    if (interval_us <= 0)
        return;
    self->batch_latency_us =
        self->batch_latency_us
            ? self->batch_latency_us + (interval_us - self->batch_latency_us) / 8
            : interval_us;
}

//  Adds delivered results to the worker's count (the id is copied) and
//  measures the time since its previous batch. Past DV_WORKER_IDS_MAX ids,
//  a new id's results go to the others' entry, which measures nothing: its
//  batches come from many workers.
static void
s_count_worker (dv_job_t *self, const char *id, size_t id_length, uint64_t delivered)
{
    char key[DV_WORKER_ID_MAX + 1];
    memcpy (key, id, id_length);
    key[id_length] = '\0';
    dv_job_worker_t *worker = zhashx_lookup (self->workers, key);
    bool is_new = !worker;
    bool is_other = is_new && zhashx_size (self->workers) >= DV_WORKER_IDS_MAX;
    if (is_other) {
        memcpy (key, DV_WORKER_IDS_OTHERS, sizeof DV_WORKER_IDS_OTHERS);
        worker = zhashx_lookup (self->workers, key);
        is_new = !worker;
    }
    if (is_new) {
        worker = calloc (1, sizeof *worker);
        if (!worker)
            return;
        worker->source_fd = -1;
        zhashx_insert (self->workers, key, worker);
    }
    if (is_other)
        self->others = worker;
    if (worker == self->others)
        ; //  many workers' batches: no one worker's latency
    else if (is_new) {
        //  The job's first batch: its latency counts from the start. A later
        //  worker's first batch says nothing (it may have joined late).
        if (!self->batch_latency_us)
            s_measure_latency (self, self->clock_us - self->started_us);
    } else
        s_measure_latency (self, self->clock_us - worker->last_us);
    worker->last_us = self->clock_us;
    worker->results += delivered;
    self->last_worker = worker;
}

uint32_t
dv_job_missing (const dv_job_t *self, dv_range_t *ranges, uint32_t range_max,
                uint64_t *task_total)
{
    return dv_seen_missing (&self->seen, self->announce.task_count, ranges, range_max,
                            task_total);
}

bool
dv_job_has_all (const dv_job_t *self, const dv_range_t *ranges, uint32_t range_count)
{
    return dv_seen_has_all (&self->seen, ranges, range_count);
}

uint32_t
dv_job_missing_below (const dv_job_t *self, uint64_t below, dv_range_t *ranges,
                      uint32_t range_max, uint64_t *task_total)
{
    return dv_seen_missing (&self->seen, below, ranges, range_max, task_total);
}

bool
dv_job_rekey (dv_job_t *self, const dv_tag_key_t *key)
{
    if (self->announce.is_range || dv_tag_key_is_zero (key) ||
        dv_tag_key_equal (key, &self->tag_keys[0]))
        return false;
    self->tag_keys[1] = self->tag_keys[0];
    self->tag_keys[0] = *key;
    return true;
}

//  Whether a list job's batch carries the tag of its own values, under the
//  latest key or the one before.
static bool
s_tag_matches (const dv_job_t *self, const dv_results_t *results)
{
    for (int which = 0; which < 2; which++) {
        const dv_tag_key_t *key = &self->tag_keys[which];
        if (which && dv_tag_key_is_zero (key))
            break;
        if (dv_tag_batch (key, results->job_id, results->first_task, results->entries,
                          DV_RESULT_SIZE, results->count) == results->tag)
            return true;
    }
    return false;
}

//  After a batch's fresh results are in, of either kind: the counts, the
//  worker's share and the end of the job.
static dv_job_take_t
s_taken (dv_job_t *self, const char *worker_id, size_t worker_id_length, uint64_t fresh)
{
    dv_seen_settle (&self->seen);
    self->received = self->seen.received;
    self->first_missing = self->seen.first_missing;
    self->received_end = self->seen.received_end;
    if (fresh)
        s_count_worker (self, worker_id, worker_id_length, fresh);
    if (dv_job_complete (self) && !self->finished_us)
        self->finished_us = dv_now_us ();
    return DV_JOB_TAKEN;
}

//  The value of a batch's entry index: its own in RESULTS; in SQUARES
//  (a range's, checked) the range's start plus its task id.
static int64_t
s_result_value (const dv_job_t *self, const dv_results_t *results, uint32_t index)
{
    if (!results->has_values)
        return (int64_t) ((uint64_t) self->announce.range_start + results->first_task +
                          index);
    int64_t value;
    dv_u128_t square;
    dv_results_entry (results, index, &value, &square);
    return value;
}

dv_job_take_t
dv_job_take (dv_job_t *self, const dv_results_t *results, dv_job_result_fn *on_result,
             void *context)
{
    if (results->job_id != self->announce.job_id || self->announce.is_lines ||
        !dv_seen_in_job (&self->seen, results->first_task, results->count))
        return DV_JOB_MISFIT;
    //  SQUARES carry no values: only a range's, which the task ids give.
    if (!results->has_values && !self->announce.is_range)
        return DV_JOB_MISFIT;
    if (!dv_seen_in_window (&self->seen, results->first_task, results->count))
        return DV_JOB_BEYOND_WINDOW;
    self->last_worker = NULL;
    //  Check every square before counting any: a batch is true or malformed.
    for (uint32_t index = 0; index < results->count; index++) {
        int64_t value = s_result_value (self, results, index);
        if (dv_results_square (results, index) != dv_square (value))
            return DV_JOB_MISFIT;
        //  SQUARES' values come from the task ids: only RESULTS can differ.
        if (results->has_values && self->announce.is_range &&
            (uint64_t) value - (uint64_t) self->announce.range_start !=
                results->first_task + index)
            return DV_JOB_MISFIT;
    }
    //  A list job's values are known to the ventilator alone: its tag says
    //  whether these are they, in this order, for these tasks.
    if (!self->announce.is_range && !s_tag_matches (self, results))
        return DV_JOB_BAD_TAG;
    uint64_t fresh = 0;
    for (uint32_t index = 0; index < results->count; index++) {
        if (!dv_seen_add (&self->seen, results->first_task + index)) {
            self->duplicates++;
            continue;
        }
        dv_u128_t square = dv_results_square (results, index);
        dv_u256_add_u128 (&self->sum, square);
        fresh++;
        if (on_result)
            on_result (context, s_result_value (self, results, index), square);
    }
    return s_taken (self, results->worker_id, results->worker_id_length, fresh);
}

//  Whether a line result's tag is its task's and its line's, under the
//  latest key or the one before.
static bool
s_line_tag_matches (const dv_job_t *self, uint64_t task_id,
                    const dv_line_result_t *result)
{
    for (int which = 0; which < 2; which++) {
        const dv_tag_key_t *key = &self->tag_keys[which];
        if (which && dv_tag_key_is_zero (key))
            break;
        if (dv_tag_line (key, self->announce.job_id, task_id, result->input_digest) ==
            result->tag)
            return true;
    }
    return false;
}

static void
s_note_failed (dv_job_t *self, uint64_t task_id, const dv_line_result_t *result)
{
    self->failed++;
    if (self->failed_shown >= DV_JOB_FAILED_SHOWN)
        return;
    size_t length =
        result->length < DV_JOB_REASON_SHOWN ? result->length : DV_JOB_REASON_SHOWN;
    self->failed_tasks[self->failed_shown] = task_id;
    memcpy (self->failed_reasons[self->failed_shown], result->bytes, length);
    self->failed_reasons[self->failed_shown][length] = '\0';
    self->failed_shown++;
}

dv_job_take_t
dv_job_take_lines (dv_job_t *self, const dv_line_results_t *results,
                   dv_job_line_fn *on_line, void *context)
{
    if (results->job_id != self->announce.job_id || !self->announce.is_lines ||
        !dv_seen_in_job (&self->seen, results->first_task, results->count))
        return DV_JOB_MISFIT;
    if (!dv_seen_in_window (&self->seen, results->first_task, results->count))
        return DV_JOB_BEYOND_WINDOW;
    self->last_worker = NULL;
    //  Every tag before anything counts: a message is true or malformed.
    size_t offset = 0;
    for (uint32_t index = 0; index < results->count; index++) {
        dv_line_result_t result;
        dv_line_results_next (results, &offset, &result);
        if (!s_line_tag_matches (self, results->first_task + index, &result))
            return DV_JOB_BAD_TAG;
    }
    uint64_t fresh = 0;
    offset = 0;
    for (uint32_t index = 0; index < results->count; index++) {
        dv_line_result_t result;
        dv_line_results_next (results, &offset, &result);
        uint64_t task_id = results->first_task + index;
        if (!dv_seen_add (&self->seen, task_id)) {
            self->duplicates++;
            continue;
        }
        fresh++;
        if (result.status == DV_LINE_FAILED)
            s_note_failed (self, task_id, &result);
        if (on_line)
            on_line (context, task_id, result.status, result.bytes, result.length);
    }
    return s_taken (self, results->worker_id, results->worker_id_length, fresh);
}

bool
dv_job_complete (const dv_job_t *self)
{
    return self->received == self->announce.task_count;
}

dv_u256_t
dv_job_expected_sum (const dv_job_t *self)
{
    if (self->announce.is_range)
        return dv_range_sum_of_squares (self->announce.range_start,
                                        self->announce.task_count);
    return self->announce.expected_sum;
}
