/*  test_report.c: unit tests for sink/output.h (stdout through a writer
    thread) and sink/report.h (the summaries).

    The output is checked against what a pipe's reader gets, byte for byte;
    /dev/full checks the lost counts; a pipe nobody reads checks that
    has_room goes false at the bound and true again once the test drains it.
    The last test times the result-line fast path into /dev/null and prints
    the figure (lines/s) as a TAP comment.
*/
#include "output.h"
#include "report.h"
#include "clock.h"
#include "human.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define S_WAIT_MS 10000 //  bounds every wait; a good run is far below

typedef struct {
    int fds[2];
    char *text;
    size_t length;
} s_pipe_t;

//  Reads what is there (up to timeout_ms for the first byte); returns the
//  bytes read, 0 at end of file or timeout.
static size_t
s_pipe_read (s_pipe_t *self, int timeout_ms)
{
    struct pollfd item = {self->fds[0], POLLIN, 0};
    if (poll (&item, 1, timeout_ms) <= 0)
        return 0;
    char buffer[65536];
    ssize_t rc = read (self->fds[0], buffer, sizeof buffer);
    if (rc <= 0)
        return 0;
    self->text = realloc (self->text, self->length + (size_t) rc + 1);
    assert_non_null (self->text);
    memcpy (self->text + self->length, buffer, (size_t) rc);
    self->length += (size_t) rc;
    self->text[self->length] = '\0';
    return (size_t) rc;
}

static void
test_pipe_gets_every_line (void **state)
{
    (void) state;
    s_pipe_t reader = {{-1, -1}, NULL, 0};
    assert_int_equal (pipe (reader.fds), 0);
    dv_output_t *output = dv_output_new (reader.fds[1]);
    assert_non_null (output);
    //  Enough for several chunks, negative values and the extremes too.
    const int64_t count = 300000;
    for (int64_t value = -count / 2; value < count / 2; value++) {
        dv_output_result (output, value, dv_square (value));
        if (!dv_output_has_room (output))
            s_pipe_read (&reader, 0);
    }
    dv_output_result (output, INT64_MIN, dv_square (INT64_MIN));
    const char summary[] = "{\"job\":\"1\"}\n";
    assert_int_equal (dv_output_summary (output, summary, strlen (summary)), 0);
    int64_t deadline = dv_now_ms () + S_WAIT_MS;
    while (dv_output_finish (output, 0) && dv_now_ms () < deadline)
        s_pipe_read (&reader, 10);
    assert_int_equal (dv_output_finish (output, 0), 0);
    dv_output_destroy (&output);
    assert_null (output);
    close (reader.fds[1]);
    while (s_pipe_read (&reader, 1000))
        ;
    close (reader.fds[0]);

    //  Check line by line against snprintf of the same values.
    const char *at = reader.text;
    char expected[128];
    for (int64_t value = -count / 2; value < count / 2; value++) {
        snprintf (expected, sizeof expected, "%" PRId64 " %" PRIu64 "\n", value,
                  (uint64_t) (value * value));
        size_t length = strlen (expected);
        assert_memory_equal (at, expected, length);
        at += length;
    }
    assert_string_equal (at, "-9223372036854775808 "
                             "85070591730234615865843651857942052864\n"
                             "{\"job\":\"1\"}\n");
    free (reader.text);
}

static void
test_dev_full_counts_lost (void **state)
{
    (void) state;
    int fd = open ("/dev/full", O_WRONLY);
    if (fd < 0)
        skip ();
    dv_output_t *output = dv_output_new (fd);
    assert_non_null (output);
    assert_null (dv_output_error (output));
    const uint64_t count = 123457; //  more than a chunk
    for (uint64_t value = 1; value <= count; value++) {
        dv_output_result (output, (int64_t) value, dv_square ((int64_t) value));
    }
    const char summary[] = "{}\n";
    dv_output_summary (output, summary, strlen (summary));
    assert_int_equal (dv_output_finish (output, S_WAIT_MS), 0);
    assert_int_equal (dv_output_lost_lines (output), count);
    assert_true (dv_output_lost_summary (output));
    assert_string_equal (dv_output_error (output), strerror (ENOSPC));
    dv_output_destroy (&output);
    close (fd);
}

static void
test_nothing_lost (void **state)
{
    (void) state;
    int fd = open ("/dev/null", O_WRONLY);
    assert_true (fd >= 0);
    dv_output_t *output = dv_output_new (fd);
    assert_non_null (output);
    dv_output_result (output, 3, dv_square (3));
    assert_int_equal (dv_output_finish (output, S_WAIT_MS), 0);
    assert_int_equal (dv_output_lost_lines (output), 0);
    assert_false (dv_output_lost_summary (output));
    assert_false (dv_report_output_lost (output));
    assert_null (dv_output_error (output));
    dv_output_destroy (&output);
    dv_output_destroy (&output); //  a NULL pointer is fine
    close (fd);
}

static void
test_room_follows_the_reader (void **state)
{
    (void) state;
    s_pipe_t reader = {{-1, -1}, NULL, 0};
    assert_int_equal (pipe (reader.fds), 0);
    dv_output_t *output = dv_output_new (reader.fds[1]);
    assert_non_null (output);
    //  The reader stalls: the queue fills to the bound, then has_room is
    //  false; it cannot be false before a bound's worth was handed over.
    uint64_t lines = 0;
    size_t bytes = 0;
    while (dv_output_has_room (output)) {
        int64_t value = (int64_t) lines + 1000000000; //  "v v^2\n" is 31 bytes
        dv_output_result (output, value, dv_square (value));
        lines++;
        bytes += 31;
        assert_true (bytes < 4 * DV_OUTPUT_QUEUED_MAX);
    }
    assert_true (bytes >= DV_OUTPUT_QUEUED_MAX);
    assert_int_equal (dv_output_finish (output, 0), 1);
    //  It stays false while nobody reads.
    assert_int_equal (dv_output_finish (output, 50), 1);
    assert_false (dv_output_has_room (output));
    //  Reading makes room again, and everything arrives.
    int64_t deadline = dv_now_ms () + S_WAIT_MS;
    while (!dv_output_has_room (output) && dv_now_ms () < deadline)
        s_pipe_read (&reader, 10);
    assert_true (dv_output_has_room (output));
    while (dv_output_finish (output, 0) && dv_now_ms () < deadline)
        s_pipe_read (&reader, 10);
    assert_int_equal (dv_output_finish (output, 0), 0);
    assert_int_equal (dv_output_lost_lines (output), 0);
    dv_output_destroy (&output);
    close (reader.fds[1]);
    while (s_pipe_read (&reader, 1000))
        ;
    close (reader.fds[0]);
    assert_int_equal (reader.length, bytes);
    free (reader.text);
}

static void
test_abandon_a_stalled_reader (void **state)
{
    (void) state;
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    dv_output_t *output = dv_output_new (fds[1]);
    assert_non_null (output);
    const uint64_t count = 100000; //  3 MB: far more than the pipe holds
    for (uint64_t index = 0; index < count; index++) {
        int64_t value = (int64_t) index + 1000000000;
        dv_output_result (output, value, dv_square (value));
    }
    assert_int_equal (dv_output_finish (output, 20), 1);
    dv_output_abandon (output); //  the writer is blocked in write(): cancelled
    assert_int_equal (dv_output_finish (output, 0), 0);
    uint64_t lost = dv_output_lost_lines (output);
    //  The pipe holds 64 KiB at most (2114 lines): the rest is lost. What
    //  the cancelled write() had put in the pipe may count as lost too.
    assert_true (lost <= count);
    assert_true (lost >= count - 65536 / 31 - 1);
    assert_string_equal (dv_output_error (output), strerror (ECANCELED));
    dv_output_destroy (&output);
    close (fds[0]);
    close (fds[1]);
}

//  Not a check: prints the fast path's speed into /dev/null.
static void
test_speed (void **state)
{
    (void) state;
    int fd = open ("/dev/null", O_WRONLY);
    assert_true (fd >= 0);
    dv_output_t *output = dv_output_new (fd);
    assert_non_null (output);
    const int64_t count = 20000000;
    int64_t started = dv_now_us ();
    for (int64_t value = 1; value <= count; value++)
        dv_output_result (output, value, dv_square (value));
    assert_int_equal (dv_output_finish (output, S_WAIT_MS), 0);
    double seconds = (double) (dv_now_us () - started) / 1e6;
    printf ("# output: %.1f M lines/s into /dev/null\n", (double) count / seconds / 1e6);
    dv_output_destroy (&output);
    close (fd);
}

static dv_job_t *
s_job_done (uint64_t count)
{
    dv_announce_t announce = {0};
    announce.job_id = 42;
    announce.task_count = count;
    announce.is_range = true;
    announce.range_start = 1;
    announce.credit_step = 1;
    dv_job_t *job = dv_job_new (&announce);
    assert_non_null (job);
    return job;
}

static void
test_summary_json (void **state)
{
    (void) state;
    dv_job_t *job = s_job_done (3);
    dv_summary_extra_t extra = {
        .malformed = 2, .refused = 7, .resends = 1, .tasks_requested = 5};
    size_t length = 0;
    char *text = dv_summary_json (job, &extra, &length);
    assert_non_null (text);
    assert_int_equal (strlen (text), length);
    assert_true (length > 2 && text[0] == '{' && !strcmp (text + length - 3, "}}\n"));
    assert_non_null (strstr (
        text, "\"job\":\"42\",\"outcome\":\"incomplete\",\"complete\":false,\"tasks\":3,"
              "\"results\":0,\"duplicates\":0,\"malformed\":2,\"refused\":7,"
              "\"resends\":1,\"tasks_requested_again\":5,"));
    //  1 + 4 + 9 = 14, and not verified while incomplete.
    assert_non_null (strstr (text, "\"expected_sum_of_squares\":\"14\","
                                   "\"verified\":null,\"workers\":{}}"));
    free (text);
    dv_job_destroy (&job);
}

static void
test_summary_human (void **state)
{
    (void) state;
    dv_job_t *job = s_job_done (3);
    dv_summary_extra_t extra = {.interrupted = true};
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream (&text, &length);
    assert_non_null (stream);
    dv_summary_print (job, &extra, stream);
    fclose (stream);
    assert_non_null (
        strstr (text, ": job 42 interrupted: 0 of 3 tasks, 0 duplicates, "
                      "0 malformed, 0 refused, 0 resends (0 tasks asked again)\n"));
    assert_non_null (
        strstr (text, ": sum of squares 0 (not verified: job incomplete)\n"));
    assert_non_null (strstr (text, ": 0 workers:\n"));
    free (text);
    dv_job_destroy (&job);
}

//  The human summary groups its counts (received, total, duplicates, the
//  rest, the rate, each worker's): "1,234,567 of 3,000,000 tasks". The job
//  id and the sum of squares stay plain digits: values to copy and compare.
static void
test_summary_human_grouped (void **state)
{
    (void) state;
    dv_job_t *job = s_job_done (3000000);
    job->announce.job_id = 17319731041701933273u;
    job->received = 1234567;
    job->duplicates = 12345;
    job->started_us = 0;
    job->finished_us = 2000000;
    dv_job_worker_t *worker = zmalloc (sizeof *worker);
    assert_non_null (worker);
    worker->results = 1234567;
    worker->source_fd = -1;
    zhashx_insert (job->workers, "w1", worker); //  the job owns it now
    job->sum.limb[0] = 1234567890123u;
    dv_summary_extra_t extra = {
        .malformed = 1000, .refused = 2000, .resends = 3000, .tasks_requested = 4000000};
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream (&text, &length);
    assert_non_null (stream);
    dv_summary_print (job, &extra, stream);
    fclose (stream);
    assert_non_null (strstr (
        text, ": job 17319731041701933273 incomplete: 1,234,567 of 3,000,000 tasks, "
              "12,345 duplicates, 1,000 malformed, 2,000 refused, 3,000 resends "
              "(4,000,000 tasks asked again)\n"));
    assert_non_null (strstr (text, ": 2.000 s, 617,284 tasks/s\n"));
    assert_non_null (strstr (text, ": sum of squares 1234567890123 (not verified"));
    assert_non_null (strstr (text, ": 1 worker: w1=1,234,567\n"));
    free (text);
    dv_job_destroy (&job);
}

//  The progress line at every width from 20 to 200 columns (and 50, where
//  the old one wrapped): never longer than the width minus one; the
//  numbers grouped; elapsed and ETA shown; a completed job at 100%.
static void
test_progress_fits (void **state)
{
    (void) state;
    dv_job_t *job = s_job_done (3000000);
    job->received = 1234567;
    int64_t now_us = job->started_us + 10 * 1000000;
    char line[256];
    for (int columns = 20; columns <= 200; columns++) {
        dv_progress_format (job, now_us, columns, line, sizeof line);
        assert_true (strlen (line) <= (size_t) columns - 1);
    }
    dv_progress_format (job, now_us, 50, line, sizeof line);
    assert_true (strlen (line) <= 49);
    dv_progress_format (job, now_us, 0, line, sizeof line);
    assert_non_null (
        strstr (line, " 41.2% 1,234,567/3,000,000 123,457 tasks/s 10.0 s ETA 14.3 s"));
    dv_progress_format (job, now_us, 120, line, sizeof line);
    assert_non_null (strstr (line, "[############......"));
    job->received = 3000000;
    job->finished_us = now_us;
    dv_progress_format (job, now_us + 5000000, 0, line, sizeof line);
    assert_non_null (
        strstr (line, "100.0% 3,000,000/3,000,000 300,000 tasks/s 10.0 s ETA 0 s"));
    dv_job_destroy (&job);
}

//  One-task batches under more ids than DV_WORKER_IDS_MAX: the first ids are
//  named, the rest counted under DV_WORKER_IDS_OTHERS, every count exact,
//  and the human summary's workers line bounded.
static void
test_worker_ids_capped (void **state)
{
    (void) state;
    const uint64_t count = DV_WORKER_IDS_MAX + 1000;
    dv_job_t *job = s_job_done (count);
    uint8_t buffer[DV_RESULTS_SIZE (1, DV_WORKER_ID_MAX)];
    for (uint64_t task = 0; task < count; task++) {
        char id[DV_WORKER_ID_MAX + 1];
        int length = snprintf (id, sizeof id, "id%" PRIu64, task);
        size_t size =
            dv_results_encode_header (42, task, 1, 0, id, (size_t) length, buffer);
        int64_t value = (int64_t) task + 1;
        dv_results_put_entry (dv_results_entries (buffer, (size_t) length), 0, value,
                              dv_square (value));
        dv_results_t results;
        assert_int_equal (dv_results_decode (buffer, size, &results), 0);
        assert_int_equal (dv_job_take (job, &results, NULL, NULL), 0);
        assert_true ((job->others != NULL) == (task >= DV_WORKER_IDS_MAX));
    }
    assert_true (dv_job_complete (job));
    assert_int_equal (zhashx_size (job->workers), DV_WORKER_IDS_MAX + 1);
    dv_job_worker_t *others = zhashx_lookup (job->workers, DV_WORKER_IDS_OTHERS);
    assert_ptr_equal (others, job->others);
    assert_int_equal (others->results, count - DV_WORKER_IDS_MAX);
    dv_job_worker_t *first = zhashx_lookup (job->workers, "id0");
    assert_non_null (first);
    assert_int_equal (first->results, 1);
    assert_null (zhashx_lookup (job->workers, "id1024"));

    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream (&text, &length);
    assert_non_null (stream);
    dv_summary_extra_t extra = {0};
    dv_summary_print (job, &extra, stream);
    fclose (stream);
    //  '*' sorts first.
    const char *line = strstr (text, ": 1,025 workers: *=1,000 id0=1 ");
    assert_non_null (line);
    //  Each named id and the bucket: "id=count", an id of at most 64 bytes.
    assert_true (strlen (line) <=
                 (DV_WORKER_IDS_MAX + 1) * (DV_WORKER_ID_MAX + 1 + DV_HUMAN_COUNT_MAX) +
                     32);
    free (text);
    dv_job_destroy (&job);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_pipe_gets_every_line),
        cmocka_unit_test (test_dev_full_counts_lost),
        cmocka_unit_test (test_nothing_lost),
        cmocka_unit_test (test_room_follows_the_reader),
        cmocka_unit_test (test_abandon_a_stalled_reader),
        cmocka_unit_test (test_summary_json),
        cmocka_unit_test (test_summary_human),
        cmocka_unit_test (test_summary_human_grouped),
        cmocka_unit_test (test_progress_fits),
        cmocka_unit_test (test_worker_ids_capped),
        cmocka_unit_test (test_speed),
    };
    return cmocka_run_group_tests_name ("report", tests, NULL, NULL);
}
