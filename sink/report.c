/*  report.c: progress, the summary, and what stdout lost. */
#include "report.h"
#include "log.h"
#include "clock.h"
#include "human.h"

#include <inttypes.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_PROGRESS_TTY_MS   250
#define S_PROGRESS_LOG_MS   5000
#define S_PROGRESS_AFTER_MS 1000 //  short jobs show no progress at all

void
dv_progress_init (dv_progress_t *self)
{
    self->last_ms = dv_now_ms ();
    self->terminal = isatty (STDERR_FILENO);
    self->shown = false;
}

//  The progress text for a line of at most columns - 1 characters (0: no
//  limit): the bar shrinks to fit, and goes when there is no room for one.
void
dv_progress_format (const dv_job_t *job, int64_t now_us, int columns, char *line,
                    size_t size)
{
    uint64_t total = job->announce.task_count;
    double percent = 100.0 * (double) job->received / (double) total;
    int64_t end_us = job->finished_us ? job->finished_us : now_us;
    double seconds = (double) (end_us - job->started_us) / 1e6;
    double rate = seconds > 0 ? (double) job->received / seconds : 0;
    char received[DV_HUMAN_COUNT_MAX], total_text[DV_HUMAN_COUNT_MAX];
    char rate_text[DV_HUMAN_COUNT_MAX], elapsed[DV_HUMAN_DURATION_MAX];
    char eta[DV_HUMAN_DURATION_MAX] = "?";
    if (job->received == total)
        snprintf (eta, sizeof eta, "0 s");
    else if (rate > 0)
        dv_human_duration ((double) (total - job->received) / rate, eta);
    char numbers[160];
    //  received as wide as total, so that the bar keeps its width.
    dv_human_count (total, total_text);
    snprintf (numbers, sizeof numbers, "%5.1f%% %*s/%s %s tasks/s %s ETA %s", percent,
              (int) strlen (total_text), dv_human_count (job->received, received),
              total_text, dv_human_count ((uint64_t) (rate + 0.5), rate_text),
              dv_human_duration (seconds, elapsed), eta);
    //  "program: [bar] numbers": the bar takes what is left, 10..30 wide.
    int fixed = (int) strlen (dv_program ()) + 2 + 3 + (int) strlen (numbers);
    int bar_width = columns ? columns - 1 - fixed : 30;
    if (bar_width > 30)
        bar_width = 30;
    if (bar_width >= 10) {
        char bar[31];
        int filled = (int) (percent * bar_width / 100);
        for (int index = 0; index < bar_width; index++)
            bar[index] = index < filled ? '#' : '.';
        bar[bar_width] = '\0';
        snprintf (line, size, "%s: [%s] %s", dv_program (), bar, numbers);
    } else
        snprintf (line, size, "%s: %s", dv_program (), numbers);
    if (columns > 1 && strlen (line) > (size_t) columns - 1)
        line[columns - 1] = '\0';
}

static void
s_progress_show (dv_progress_t *self, const dv_job_t *job)
{
    char line[256];
    if (self->terminal) {
        dv_progress_format (job, dv_now_us (), dv_human_columns (STDERR_FILENO), line,
                            sizeof line);
        //  Clear what a longer line before left (the terminal may have narrowed).
        fprintf (stderr, "\r%s\033[K", line);
        self->shown = true;
    } else {
        dv_progress_format (job, dv_now_us (), 0, line, sizeof line);
        //  The program name comes with dv_log: skip the one in line.
        dv_log ("progress: %s", line + strlen (dv_program ()) + 2);
    }
}

void
dv_progress_update (dv_progress_t *self, const dv_job_t *job)
{
    int64_t now = dv_now_ms ();
    if (now - job->started_us / 1000 < S_PROGRESS_AFTER_MS ||
        now - self->last_ms < (self->terminal ? S_PROGRESS_TTY_MS : S_PROGRESS_LOG_MS))
        return;
    self->last_ms = now;
    s_progress_show (self, job);
}

void
dv_progress_end (dv_progress_t *self)
{
    if (self->shown)
        fputc ('\n', stderr);
    self->shown = false;
}

void
dv_progress_finish (dv_progress_t *self, const dv_job_t *job)
{
    if (self->shown && job)
        s_progress_show (self, job);
    dv_progress_end (self);
}

static double
s_seconds (const dv_job_t *job)
{
    int64_t end = job->finished_us ? job->finished_us : dv_now_us ();
    return (double) (end - job->started_us) / 1e6;
}

//  How the job ended: "complete", "interrupted", "abandoned" or "incomplete".
static const char *
s_outcome (const dv_job_t *job, const dv_summary_extra_t *extra)
{
    return extra->abandoned        ? "abandoned"
           : extra->interrupted    ? "interrupted"
           : dv_job_complete (job) ? "complete"
                                   : "incomplete";
}

//  "true", "false", or "null" when the job did not complete.
static const char *
s_verified (const dv_job_t *job)
{
    if (!dv_job_complete (job))
        return "null";
    dv_u256_t expected = dv_job_expected_sum (job);
    return dv_u256_equal (&job->sum, &expected) ? "true" : "false";
}

//  A reason as it shows on a terminal: control characters as '?'.
static void
s_print_reason (FILE *stream, const char *reason)
{
    for (const char *at = reason; *at; at++)
        fputc ((unsigned char) *at < ' ' || *at == 0x7f ? '?' : *at, stream);
}

//  A reason as a JSON string: quote, backslash, control characters and
//  every byte past ASCII escaped as \u00XX (always valid JSON, whatever the
//  bytes; a UTF-8 reason shows as its bytes).
static void
s_print_json_string (FILE *stream, const char *text)
{
    fputc ('"', stream);
    for (const unsigned char *at = (const unsigned char *) text; *at; at++) {
        if (*at == '"' || *at == '\\')
            fprintf (stream, "\\%c", *at);
        else if (*at < ' ' || *at >= 0x7f)
            fprintf (stream, "\\u%04x", *at);
        else
            fputc (*at, stream);
    }
    fputc ('"', stream);
}

//  A line job's part of the human summary: no sum to verify, the failures.
static void
s_print_lines_summary (const dv_job_t *job, FILE *stream)
{
    char failed[DV_HUMAN_COUNT_MAX];
    fprintf (stream,
             "%s: a line job: the sink cannot check opaque results (not verified); %s "
             "task%s failed\n",
             dv_program (), dv_human_count (job->failed, failed),
             job->failed == 1 ? "" : "s");
    for (uint32_t index = 0; index < job->failed_shown; index++) {
        fprintf (stream, "%s: failed task %" PRIu64 ": ", dv_program (),
                 job->failed_tasks[index]);
        s_print_reason (stream, job->failed_reasons[index]);
        fputc ('\n', stream);
    }
    if (job->failed > job->failed_shown)
        fprintf (stream, "%s: and %" PRIu64 " more failed tasks\n", dv_program (),
                 job->failed - job->failed_shown);
}

//  Human text: the counts grouped ("1,234,567"); the job id and the sum of
//  squares plain, being values to copy (--job) and compare.
void
dv_summary_print (const dv_job_t *job, const dv_summary_extra_t *extra, FILE *stream)
{
    char sum[DV_U256_TEXT_MAX + 1];
    dv_u256_format (&job->sum, sum);
    double seconds = s_seconds (job);
    double rate = seconds > 0 ? (double) job->received / seconds : 0.0;
    const char *verified = s_verified (job);
    char received[DV_HUMAN_COUNT_MAX], total[DV_HUMAN_COUNT_MAX];
    char duplicates[DV_HUMAN_COUNT_MAX], malformed[DV_HUMAN_COUNT_MAX];
    char refused[DV_HUMAN_COUNT_MAX], resends[DV_HUMAN_COUNT_MAX];
    char requested[DV_HUMAN_COUNT_MAX], rate_text[DV_HUMAN_COUNT_MAX];
    fprintf (stream,
             "%s: job %" PRIu64 " %s: %s of %s tasks, %s duplicates, %s malformed, %s "
             "refused, %s resends (%s tasks asked again)\n"
             "%s: %.3f s, %s tasks/s\n",
             dv_program (), job->announce.job_id, s_outcome (job, extra),
             dv_human_count (job->received, received),
             dv_human_count (job->announce.task_count, total),
             dv_human_count (job->duplicates, duplicates),
             dv_human_count (extra->malformed, malformed),
             dv_human_count (extra->refused, refused),
             dv_human_count (extra->resends, resends),
             dv_human_count (extra->tasks_requested, requested), dv_program (), seconds,
             dv_human_count ((uint64_t) (rate + 0.5), rate_text));
    if (job->announce.is_lines)
        s_print_lines_summary (job, stream);
    else
        fprintf (stream, "%s: sum of squares %s (%s)\n", dv_program (), sum,
                 !strcmp (verified, "true")    ? "verified"
                 : !strcmp (verified, "false") ? "WRONG: does not match the expected sum"
                                               : "not verified: job incomplete");
    zlistx_t *ids = zhashx_keys (job->workers);
    zlistx_set_comparator (ids, (zlistx_comparator_fn *) strcmp);
    zlistx_sort (ids);
    char count[DV_HUMAN_COUNT_MAX];
    fprintf (stream, "%s: %s worker%s:", dv_program (),
             dv_human_count (zlistx_size (ids), count),
             zlistx_size (ids) == 1 ? "" : "s");
    for (const char *id = zlistx_first (ids); id; id = zlistx_next (ids))
        fprintf (stream, " %s=%s", id,
                 dv_human_count (*(uint64_t *) zhashx_lookup (job->workers, id), count));
    fprintf (stream, "\n");
    zlistx_destroy (&ids);
}

void
dv_summary_print_json (const dv_job_t *job, const dv_summary_extra_t *extra, FILE *stream)
{
    char sum[DV_U256_TEXT_MAX + 1];
    char expected_text[DV_U256_TEXT_MAX + 1];
    dv_u256_format (&job->sum, sum);
    dv_u256_t expected = dv_job_expected_sum (job);
    dv_u256_format (&expected, expected_text);
    double seconds = s_seconds (job);
    //  Worker ids hold no quote, backslash or control character (the decoder
    //  checks), so they need no escaping.
    fprintf (
        stream,
        "{\"job\":\"%" PRIu64 "\",\"outcome\":\"%s\",\"complete\":%s,\"tasks\":%" PRIu64
        ",\"results\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"malformed\":%" PRIu64
        ",\"refused\":%" PRIu64 ",\"resends\":%" PRIu64
        ",\"tasks_requested_again\":%" PRIu64 ",\"seconds\":%.6f,\"tasks_per_s\":%.1f,",
        job->announce.job_id, s_outcome (job, extra),
        dv_job_complete (job) ? "true" : "false", job->announce.task_count, job->received,
        job->duplicates, extra->malformed, extra->refused, extra->resends,
        extra->tasks_requested, seconds,
        seconds > 0 ? (double) job->received / seconds : 0.0);
    if (job->announce.is_lines) {
        //  No sum: opaque results are not verified (null), and the failures.
        fprintf (stream,
                 "\"kind\":\"lines\",\"verified\":null,\"failed\":%" PRIu64
                 ",\"failed_tasks\":[",
                 job->failed);
        for (uint32_t index = 0; index < job->failed_shown; index++) {
            fprintf (stream, "%s{\"task\":%" PRIu64 ",\"reason\":", index ? "," : "",
                     job->failed_tasks[index]);
            s_print_json_string (stream, job->failed_reasons[index]);
            fputc ('}', stream);
        }
        fprintf (stream, "],\"workers\":{");
    } else
        fprintf (stream,
                 "\"sum_of_squares\":\"%s\",\"expected_sum_of_squares\":\"%s\","
                 "\"verified\":%s,\"workers\":{",
                 sum, expected_text, s_verified (job));
    zlistx_t *ids = zhashx_keys (job->workers);
    zlistx_set_comparator (ids, (zlistx_comparator_fn *) strcmp);
    zlistx_sort (ids);
    const char *separator = "";
    for (const char *id = zlistx_first (ids); id; id = zlistx_next (ids)) {
        fprintf (stream, "%s\"%s\":%" PRIu64, separator, id,
                 *(uint64_t *) zhashx_lookup (job->workers, id));
        separator = ",";
    }
    fprintf (stream, "}}\n");
    zlistx_destroy (&ids);
}

char *
dv_summary_json (const dv_job_t *job, const dv_summary_extra_t *extra, size_t *length)
{
    char *text = NULL;
    FILE *stream = open_memstream (&text, length);
    if (!stream)
        return NULL;
    dv_summary_print_json (job, extra, stream);
    if (fclose (stream)) {
        free (text);
        return NULL;
    }
    return text;
}

bool
dv_report_output_lost (dv_output_t *output)
{
    uint64_t lines = dv_output_lost_lines (output);
    bool summary = dv_output_lost_summary (output);
    if (!lines && !summary)
        return false;
    const char *error = dv_output_error (output);
    char count[64] = "", lines_text[DV_HUMAN_COUNT_MAX];
    if (lines)
        snprintf (count, sizeof count, "%s result lines%s",
                  dv_human_count (lines, lines_text), summary ? " and " : "");
    dv_log ("cannot write to stdout: %s; %s%s lost", error ? error : "out of memory",
            count, summary ? "the JSON summary" : "");
    return true;
}
