/*  trace.h: --trace and --rate, how the bench measures latency from the
    real programs.

    A trace is a text file of one line per batch, "FIRST_TASK COUNT NS": the
    ventilator writes one when it sends a batch (again on a resend), the sink
    when it has taken a batch's results in (again for a repeat). NS is CLOCK_MONOTONIC in
    nanoseconds, one clock for every process on a host, so the two files
    joined on FIRST_TASK give each batch's latency. Lines are buffered and
    written at the end (or when the buffer fills): tracing costs a clock read
    and a few bytes per batch.

    The pace spreads a job's tasks evenly over time at a given rate.
*/
#ifndef DV_TRACE_H_INCLUDED
#define DV_TRACE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define DV_TRACE_HELP "write one line per batch to FILE: FIRST_TASK COUNT MONOTONIC_NS"
#define DV_RATE_HELP  "send at most R tasks per second, evenly spaced"

typedef struct {
    FILE *file; //  NULL: not tracing
    const char *path;
    bool failed; //  said already
} dv_trace_t;

//  Opens path for writing (truncating it); path NULL: tracing off. Returns
//  -1 after logging when it cannot.
int dv_trace_open (dv_trace_t *self, const char *path);

//  The clock for a stamp (dv_now_ns), or 0 when tracing is off. A sender
//  reads it before it sends: a batch's stamp must never be later than the
//  sink's, though the sender may lose the core just after sending.
int64_t dv_trace_clock (const dv_trace_t *self);

//  Adds the batch's line, stamped ns. Does nothing when tracing is off.
void dv_trace_batch (dv_trace_t *self, uint64_t first_task, uint32_t count, int64_t ns);

//  Writes out and closes; logs a write error once.
void dv_trace_close (dv_trace_t *self);

typedef struct {
    double tasks_per_ns; //  0: no pacing
    int64_t start_ns;    //  when the first task went, 0 before
} dv_pace_t;

//  A pace of rate tasks per second; 0: none.
void dv_pace_init (dv_pace_t *self, int64_t rate);

//  Nanoseconds until the task after the first sent ones may go (0: now).
//  The first call starts the clock.
int64_t dv_pace_wait_ns (dv_pace_t *self, uint64_t sent);

//  CLOCK_MONOTONIC in nanoseconds.
int64_t dv_now_ns (void);

#endif
