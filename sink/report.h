/*  report.h: what the sink shows. Result lines go to stdout through one large
    buffer written with write(2), formatted by hand: this is the per-result
    path when the sink is not quiet. Progress and the human summary go to
    stderr; the JSON summary, with --json, is the last thing on stdout.
*/
#ifndef DV_REPORT_H_INCLUDED
#define DV_REPORT_H_INCLUDED

#include "job.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct dv_output_t dv_output_t;

//  A buffered writer on file descriptor fd. Caller owns the return value.
dv_output_t *dv_output_new (int fd);

//  Flushes and frees.
void dv_output_destroy (dv_output_t **self_p);

//  Appends "value square\n". Matches dv_job_result_fn, with the output as context.
void dv_output_result (void *self, int64_t value, dv_u128_t square);

//  Writes out what is buffered. Returns -1 when stdout is gone (logged once;
//  further lines are dropped).
int dv_output_flush (dv_output_t *self);

//  Shows progress on stderr: a live line on a terminal, else a line every few
//  seconds. Call often; it decides when to print.
typedef struct {
    int64_t last_ms;
    bool terminal;
    bool shown;
} dv_progress_t;

void dv_progress_init (dv_progress_t *self);
void dv_progress_update (dv_progress_t *self, const dv_job_t *job);
//  Ends a live line, if one is showing.
void dv_progress_end (dv_progress_t *self);

typedef struct {
    uint64_t malformed;       //  messages dropped as malformed
    uint64_t resends;         //  RESEND messages published
    uint64_t tasks_requested; //  tasks those asked for, counted each time
    bool interrupted;         //  stopped by a signal before the job completed
    bool abandoned;           //  given up: the ventilator went silent
} dv_summary_extra_t;

//  The human summary, several lines, to stream.
void dv_summary_print (const dv_job_t *job, const dv_summary_extra_t *extra,
                       FILE *stream);

//  The summary as one JSON object on one line, to stream.
void dv_summary_print_json (const dv_job_t *job, const dv_summary_extra_t *extra,
                            FILE *stream);

#endif
