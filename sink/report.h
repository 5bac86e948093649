/*  report.h: what the sink shows. Result lines go to stdout through
    output.h; progress, the human summary and what stdout lost go to stderr;
    the JSON summary, with --json, is the last thing on stdout (through
    output.h too).
*/
#ifndef DV_REPORT_H_INCLUDED
#define DV_REPORT_H_INCLUDED

#include "job.h"
#include "output.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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
//  The same after a last update of a live line (at 100% for a job that
//  completed), so that the summary starts on its own line. job may be NULL.
void dv_progress_finish (dv_progress_t *self, const dv_job_t *job);

//  The progress text, "sink: [####....] 42.0% 420/1,000 35 tasks/s 12.0 s
//  ETA 16.6 s", at most columns - 1 characters (0: no limit; the bar
//  shrinks, then goes). For tests.
void dv_progress_format (const dv_job_t *job, int64_t now_us, int columns, char *line,
                         size_t size);

typedef struct {
    uint64_t malformed;       //  messages dropped as malformed
    uint64_t refused;         //  CURVE: from a key not allowed now, or not of the role
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

//  The same line as text, with its length in *length. Returns NULL when no
//  memory. Caller owns the return value (free).
char *dv_summary_json (const dv_job_t *job, const dv_summary_extra_t *extra,
                       size_t *length);

//  When output lost anything, logs the one line that says what and why
//  ("cannot write to stdout: ...; N result lines and the JSON summary lost")
//  and returns true. Call after dv_output_finish returned 0 (or abandon).
bool dv_report_output_lost (dv_output_t *output);

#endif
