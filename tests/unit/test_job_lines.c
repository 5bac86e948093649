/*  test_job_lines.c: the sink's accounting of a line job (sink/job.c) and
    its ordered output (sink/ordered.c).

    A LINE_RESULTS message is taken whole or not at all: a wrong tag, a
    wrong digest, another job, a squares job, ids past the job: nothing of
    it counts. Failed tasks count as received, with the first few reasons
    kept; duplicates are dropped and counted; the job completes when every
    task has a result. --ordered prints in task order whatever the arrival
    order, holds what comes early within its budget, and always takes the
    message holding the next task.
*/
#include "job.h"
#include "ordered.h"
#include "output.h"
#include "protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <unistd.h>

#include <cmocka.h>

#define S_JOB 77

static dv_tag_key_t s_key = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};

static dv_job_t *
s_job (uint64_t task_count, bool lines)
{
    dv_announce_t announce = {.job_id = S_JOB,
                              .task_count = task_count,
                              .is_lines = lines,
                              .credit_step = 1,
                              .tag_key = s_key};
    dv_job_t *job = dv_job_new (&announce);
    assert_non_null (job);
    return job;
}

//  The task line of task i: "in<i>"; its result "out<i>".
static size_t
s_line (uint64_t task, char *text, const char *prefix)
{
    return (size_t) snprintf (text, 32, "%s%" PRIu64, prefix, task);
}

//  A LINE_RESULTS message for tasks first .. first+count-1, decoded. Task
//  failed_task (if in range) failed; tag_flip flips the tag of that task.
static void
s_results (uint8_t *buffer, uint64_t first, uint32_t count, uint64_t failed_task,
           uint64_t bad_tag_task, dv_line_results_t *results)
{
    size_t size = dv_line_results_encode_header (S_JOB, first, "w1", 2, buffer);
    for (uint32_t index = 0; index < count; index++) {
        uint64_t task = first + index;
        char input[32], output[32];
        size_t input_length = s_line (task, input, "in");
        size_t output_length =
            s_line (task, output, task == failed_task ? "reason " : "out");
        uint64_t digest = dv_line_digest (input, input_length);
        dv_line_result_t result = {
            .status = task == failed_task ? DV_LINE_FAILED : DV_LINE_OK,
            .tag = dv_tag_line (&s_key, S_JOB, task, digest) ^ (task == bad_tag_task),
            .input_digest = digest,
            .bytes = output,
            .length = output_length,
        };
        size += dv_line_results_put (buffer + size, &result);
    }
    dv_batch_put_count (buffer, count);
    assert_int_equal (dv_line_results_decode (buffer, size, results), 0);
}

typedef struct {
    uint64_t tasks[64];
    int count;
} s_seen_t;

static void
s_on_line (void *context, uint64_t task_id, dv_line_status_t status, const char *bytes,
           size_t length)
{
    s_seen_t *seen = context;
    (void) status;
    (void) bytes;
    (void) length;
    seen->tasks[seen->count++] = task_id;
}

static void
test_take_lines (void **state)
{
    (void) state;
    dv_job_t *job = s_job (10, true);
    uint8_t buffer[2048];
    dv_line_results_t results;
    s_seen_t seen = {0};
    //  A wrong tag anywhere: nothing counts.
    s_results (buffer, 0, 4, UINT64_MAX, 2, &results);
    assert_int_equal (dv_job_take_lines (job, &results, s_on_line, &seen),
                      DV_JOB_BAD_TAG);
    assert_int_equal (job->received, 0);
    assert_int_equal (seen.count, 0);
    //  True, with task 1 failed.
    s_results (buffer, 0, 4, 1, UINT64_MAX, &results);
    assert_int_equal (dv_job_take_lines (job, &results, s_on_line, &seen), DV_JOB_TAKEN);
    assert_int_equal (job->received, 4);
    assert_int_equal (job->failed, 1);
    assert_int_equal (job->failed_shown, 1);
    assert_int_equal (job->failed_tasks[0], 1);
    assert_string_equal (job->failed_reasons[0], "reason 1");
    assert_int_equal (seen.count, 4);
    //  Overlapping: 2 and 3 are duplicates.
    s_results (buffer, 2, 4, UINT64_MAX, UINT64_MAX, &results);
    assert_int_equal (dv_job_take_lines (job, &results, s_on_line, &seen), DV_JOB_TAKEN);
    assert_int_equal (job->received, 6);
    assert_int_equal (job->duplicates, 2);
    assert_int_equal (seen.count, 6);
    //  Past the job.
    s_results (buffer, 8, 3, UINT64_MAX, UINT64_MAX, &results);
    assert_int_equal (dv_job_take_lines (job, &results, s_on_line, &seen), DV_JOB_MISFIT);
    //  Another job's results under this job's key do not check.
    s_results (buffer, 6, 4, UINT64_MAX, UINT64_MAX, &results);
    results.job_id = S_JOB + 1;
    assert_int_equal (dv_job_take_lines (job, &results, s_on_line, &seen), DV_JOB_MISFIT);
    assert_false (dv_job_complete (job));
    s_results (buffer, 6, 4, 9, UINT64_MAX, &results);
    assert_int_equal (dv_job_take_lines (job, &results, s_on_line, &seen), DV_JOB_TAKEN);
    assert_true (dv_job_complete (job));
    assert_int_equal (job->failed, 2);
    //  Squares results are no line job's.
    dv_results_t squares = {.job_id = S_JOB, .first_task = 0, .count = 1};
    assert_int_equal (dv_job_take (job, &squares, NULL, NULL), DV_JOB_MISFIT);
    dv_job_destroy (&job);
    //  And line results are no squares job's.
    job = s_job (10, false);
    s_results (buffer, 0, 2, UINT64_MAX, UINT64_MAX, &results);
    assert_int_equal (dv_job_take_lines (job, &results, NULL, NULL), DV_JOB_MISFIT);
    dv_job_destroy (&job);
}

//  A digest that is not the task's line: the tag does not check.
static void
test_wrong_digest (void **state)
{
    (void) state;
    dv_job_t *job = s_job (4, true);
    uint8_t buffer[512];
    size_t size = dv_line_results_encode_header (S_JOB, 0, "w1", 2, buffer);
    uint64_t digest = dv_line_digest ("in0", 3);
    dv_line_result_t result = {DV_LINE_OK, dv_tag_line (&s_key, S_JOB, 0, digest),
                               digest ^ 1, "out0", 4};
    size += dv_line_results_put (buffer + size, &result);
    dv_batch_put_count (buffer, 1);
    dv_line_results_t results;
    assert_int_equal (dv_line_results_decode (buffer, size, &results), 0);
    assert_int_equal (dv_job_take_lines (job, &results, NULL, NULL), DV_JOB_BAD_TAG);
    //  The tag of task 0 does not fit task 1.
    size = dv_line_results_encode_header (S_JOB, 1, "w1", 2, buffer);
    result.input_digest = digest;
    size += dv_line_results_put (buffer + size, &result);
    dv_batch_put_count (buffer, 1);
    assert_int_equal (dv_line_results_decode (buffer, size, &results), 0);
    assert_int_equal (dv_job_take_lines (job, &results, NULL, NULL), DV_JOB_BAD_TAG);
    assert_int_equal (job->received, 0);
    dv_job_destroy (&job);
}

//  --ordered: any arrival order prints in task order; early results held
//  within the budget; the next task's message always taken.
static void
test_ordered (void **state)
{
    (void) state;
    FILE *file = tmpfile ();
    assert_non_null (file);
    dv_output_t *output = dv_output_new (fileno (file));
    assert_non_null (output);
    dv_ordered_t *ordered = dv_ordered_new (dv_output_line, output, 200);
    assert_non_null (ordered);
    dv_job_t *job = s_job (12, true);
    uint8_t buffer[2048];
    dv_line_results_t results;
    //  8..11 first: held (their cost fits 200 bytes? 4 x (5 + 48) > 200: no).
    s_results (buffer, 8, 4, UINT64_MAX, UINT64_MAX, &results);
    assert_false (dv_ordered_fits (ordered, &results));
    s_results (buffer, 8, 2, 9, UINT64_MAX, &results);
    assert_true (dv_ordered_fits (ordered, &results));
    assert_int_equal (dv_job_take_lines (job, &results, dv_ordered_line, ordered),
                      DV_JOB_TAKEN);
    assert_int_equal (dv_ordered_next (ordered), 0);
    assert_true (dv_ordered_held (ordered) > 0);
    s_results (buffer, 4, 4, UINT64_MAX, UINT64_MAX, &results);
    assert_false (dv_ordered_fits (ordered, &results)); //  over the budget
    //  The next task's message: always taken, and what follows drains.
    s_results (buffer, 0, 4, 2, UINT64_MAX, &results);
    assert_true (dv_ordered_fits (ordered, &results));
    dv_job_take_lines (job, &results, dv_ordered_line, ordered);
    assert_int_equal (dv_ordered_next (ordered), 4);
    s_results (buffer, 4, 4, UINT64_MAX, UINT64_MAX, &results);
    assert_true (dv_ordered_fits (ordered, &results));
    dv_job_take_lines (job, &results, dv_ordered_line, ordered);
    assert_int_equal (dv_ordered_next (ordered), 10);
    assert_int_equal (dv_ordered_held (ordered), 0);
    s_results (buffer, 10, 2, UINT64_MAX, UINT64_MAX, &results);
    dv_job_take_lines (job, &results, dv_ordered_line, ordered);
    assert_true (dv_job_complete (job));
    assert_int_equal (dv_ordered_next (ordered), 12);
    while (dv_output_finish (output, 100))
        ;
    char text[512] = "";
    rewind (file);
    size_t size = fread (text, 1, sizeof text - 1, file);
    text[size] = '\0';
    assert_string_equal (text, "0\tout0\n1\tout1\n3\tout3\n4\tout4\n5\tout5\n6\tout6\n"
                               "7\tout7\n8\tout8\n10\tout10\n11\tout11\n");
    dv_job_destroy (&job);
    dv_ordered_destroy (&ordered);
    dv_output_destroy (&output);
    fclose (file);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_take_lines),
        cmocka_unit_test (test_wrong_digest),
        cmocka_unit_test (test_ordered),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
