/*  output.h: the sink's stdout, written by a thread of its own.

    Result lines are formatted by hand into large chunks; a full chunk goes to
    a queue that a writer thread writes with write(2). So the sink's main loop
    never blocks on a slow reader: it asks dv_output_has_room before it takes
    more results, and while the queue holds DV_OUTPUT_QUEUED_MAX bytes or more
    it stops receiving them (they wait in libzmq, the ventilator's window
    fills) but goes on heartbeating. stdout's file description is shared with
    other processes, so it stays blocking: no O_NONBLOCK.

    The first write error (EPIPE, ENOSPC, ...) marks the output broken: what
    was not written then, and everything after, is counted as lost, never
    retried. One owner: the sink's main thread; the writer thread touches only
    the queue and the counts, under the mutex.
*/
#ifndef DV_OUTPUT_H_INCLUDED
#define DV_OUTPUT_H_INCLUDED

#include "exact.h"
#include "protocol.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The bound on bytes handed to the writer and not yet written.
#define DV_OUTPUT_QUEUED_MAX ((size_t) 8 << 20)

typedef struct dv_output_t dv_output_t;

//  An output on file descriptor fd, with its writer thread running. Returns
//  NULL when memory or the thread cannot be had. Caller owns the return value.
dv_output_t *dv_output_new (int fd);

//  Stops the writer and frees. Call dv_output_finish until it returns 0, or
//  dv_output_abandon, first: otherwise this waits for a stalled reader.
void dv_output_destroy (dv_output_t **self_p);

//  Appends "value square\n". Matches dv_job_result_fn, with the output as
//  context. Never blocks; it may take the queue past its bound by one chunk.
void dv_output_result (void *self, int64_t value, dv_u128_t square);

//  Appends "TASK_ID<TAB>RESULT\n" for a line job's ok result; a failed one
//  prints nothing. Matches dv_job_line_fn, with the output as context.
//  Never blocks, like dv_output_result.
void dv_output_line (void *self, uint64_t task_id, dv_line_status_t status,
                     const char *bytes, size_t length);

//  Queues text (the JSON summary line) after every result line so far. It
//  counts as the summary: if it is not written whole, dv_output_lost_summary
//  says so. Returns -1 when no memory, or text is NULL (the caller had no
//  memory to make it): then the summary counts as lost.
int dv_output_summary (dv_output_t *self, const char *text, size_t length);

//  True while the writer's queue is under DV_OUTPUT_QUEUED_MAX bytes: the
//  caller may take more results.
bool dv_output_has_room (dv_output_t *self);

//  Hands over the partial chunk, then waits up to timeout_ms (0: not at all)
//  for the writer. Returns 0 when everything was written or lost, 1 when the
//  writer is still writing.
int dv_output_finish (dv_output_t *self, int timeout_ms);

//  Stops the writer where it is (even inside a blocked write) and counts what
//  it had not written as lost, with ECANCELED. For an interrupted sink. What
//  the cancelled write(2) had already passed on may count as lost too (a
//  pipe's worth at most).
void dv_output_abandon (dv_output_t *self);

//  Result lines not written (a partly written line counts), and whether the
//  summary was lost. Exact once dv_output_finish returned 0.
uint64_t dv_output_lost_lines (dv_output_t *self);
bool dv_output_lost_summary (dv_output_t *self);

//  The first write error, as text, or NULL when there was none.
const char *dv_output_error (dv_output_t *self);

#endif
