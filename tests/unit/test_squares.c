/*  test_squares.c: unit tests for worker/squares.h, a squares job's work.

    A TASKS batch as the ventilator writes it, through dv_squares_work, read
    back with the sink's decoder: every value with its exact square, the
    batch's ids and tag echoed, and the message exactly DV_RESULTS_SIZE.
*/
#include "squares.h"
#include "exact.h"
#include "protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  Encodes count values (from values) as one TASKS batch, squares it and
//  checks the results message against it.
static void
s_check_batch (const int64_t *values, uint32_t count, const char *id)
{
    uint8_t *tasks_buffer = malloc (DV_TASKS_SIZE (count));
    uint8_t *results_buffer = malloc (DV_RESULTS_SIZE (count, strlen (id)));
    assert_non_null (tasks_buffer);
    assert_non_null (results_buffer);
    size_t tasks_size = dv_tasks_encode_header (7, 1000, count, tasks_buffer);
    for (uint32_t index = 0; index < count; index++)
        dv_tasks_put_value (tasks_buffer, index, values[index]);
    dv_tasks_put_tag (tasks_buffer, 0x1122334455667788u);
    dv_tasks_t tasks;
    assert_int_equal (dv_tasks_decode (tasks_buffer, tasks_size, &tasks), 0);

    size_t size = dv_squares_work (&tasks, id, strlen (id), 0, results_buffer);
    assert_int_equal (size, DV_RESULTS_SIZE (count, strlen (id)));
    assert_true (size <= DV_RESULTS_SIZE_MAX);
    dv_results_t results;
    assert_int_equal (dv_results_decode (results_buffer, size, &results), 0);
    assert_int_equal (results.job_id, 7);
    assert_int_equal (results.first_task, 1000);
    assert_int_equal (results.count, count);
    assert_true (results.tag == 0x1122334455667788u);
    assert_int_equal (results.worker_id_length, strlen (id));
    assert_memory_equal (results.worker_id, id, strlen (id));
    for (uint32_t index = 0; index < count; index++) {
        int64_t value;
        dv_u128_t square;
        dv_results_entry (&results, index, &value, &square);
        assert_true (value == values[index]);
        assert_true (square == dv_square (values[index]));
    }
    free (tasks_buffer);
    free (results_buffer);
}

static void
test_extremes_squared_exactly (void **state)
{
    (void) state;
    const int64_t values[] = {0,          1,         -1,        3037000499,
                              3037000500, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    s_check_batch (values, sizeof values / sizeof values[0], "w1");
    //  INT64_MIN squared is 2^126: above 64 bits, exact in the 128.
    assert_true (dv_square (INT64_MIN) == (dv_u128_t) 1 << 126);
}

static void
test_largest_batch_longest_id (void **state)
{
    (void) state;
    int64_t *values = malloc (sizeof *values * DV_BATCH_MAX);
    assert_non_null (values);
    for (uint32_t index = 0; index < DV_BATCH_MAX; index++)
        values[index] = (int64_t) index * 2654435761 - INT64_MAX / 3;
    char id[DV_WORKER_ID_MAX + 1];
    memset (id, 'w', DV_WORKER_ID_MAX);
    id[DV_WORKER_ID_MAX] = '\0';
    s_check_batch (values, DV_BATCH_MAX, id);
    free (values);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_extremes_squared_exactly),
        cmocka_unit_test (test_largest_batch_longest_id),
    };
    cmocka_set_message_output (CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name ("squares", tests, NULL, NULL);
}
