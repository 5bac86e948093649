/*  test_human.c: unit tests for lib/human.h (digit groups, durations). */
#include "human.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void
test_count (void **state)
{
    (void) state;
    char text[DV_HUMAN_COUNT_MAX];
    assert_string_equal (dv_human_count (0, text), "0");
    assert_string_equal (dv_human_count (999, text), "999");
    assert_string_equal (dv_human_count (1000, text), "1,000");
    assert_string_equal (dv_human_count (123456, text), "123,456");
    assert_string_equal (dv_human_count (1234567, text), "1,234,567");
    assert_string_equal (dv_human_count (UINT64_MAX, text), "18,446,744,073,709,551,615");
    assert_int_equal (strlen (text) + 1, DV_HUMAN_COUNT_MAX);
}

static void
test_duration (void **state)
{
    (void) state;
    char text[DV_HUMAN_DURATION_MAX];
    assert_string_equal (dv_human_duration (0.25, text), "250 ms");
    assert_string_equal (dv_human_duration (4.25, text), "4.2 s");
    assert_string_equal (dv_human_duration (187, text), "3m07s");
    assert_string_equal (dv_human_duration (7500, text), "2h05m");
    assert_string_equal (dv_human_duration (-1, text), "?");
    assert_string_equal (dv_human_duration (NAN, text), "?");
    assert_string_equal (dv_human_duration (1e300, text), "forever");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_count),
        cmocka_unit_test (test_duration),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
