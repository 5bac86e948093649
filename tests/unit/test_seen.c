/*  test_seen.c: unit tests for sink/seen.h, the task ids received in a ring
    over the window.

    Small windows (64 .. 256 ids) over jobs many times their size, so that
    the ring wraps many times; the last case runs random batches against a
    plain model (one flag per task) and checks every id, the first gap, the
    missing ranges and the refusals after every batch.
*/
#include "seen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
s_add_batch (dv_seen_t *seen, uint64_t first, uint64_t count)
{
    assert_true (dv_seen_in_job (seen, first, count));
    assert_true (dv_seen_in_window (seen, first, count));
    for (uint64_t id = first; id < first + count; id++)
        dv_seen_add (seen, id);
    dv_seen_settle (seen);
}

static void
test_ring_size (void **state)
{
    (void) state;
    dv_seen_t seen;
    assert_int_equal (dv_seen_init (&seen, 1, DV_WINDOW_SPAN), 0);
    assert_int_equal (seen.ring_bits, 64);
    dv_seen_free (&seen);
    assert_int_equal (dv_seen_init (&seen, 1000000, DV_WINDOW_SPAN), 0);
    assert_int_equal (seen.ring_bits, 1 << 20);
    dv_seen_free (&seen);
    //  The largest job costs the window, no more.
    assert_int_equal (dv_seen_init (&seen, INT64_MAX, DV_WINDOW_SPAN), 0);
    assert_int_equal (seen.ring_bits, DV_WINDOW_SPAN);
    dv_seen_free (&seen);
    assert_int_equal (dv_seen_init (&seen, 10, 100), -1); //  not a power of two
    assert_int_equal (dv_seen_init (&seen, 10, 32), -1);  //  under a word
    dv_seen_free (&seen);
}

//  In order, a million ids through a window of 128: every one new once, a
//  duplicate anywhere below is known, nothing past the window is taken.
static void
test_in_order_wraps (void **state)
{
    (void) state;
    dv_seen_t seen;
    uint64_t task_count = 1000003;
    assert_int_equal (dv_seen_init (&seen, task_count, 128), 0);
    for (uint64_t first = 0; first < task_count; first += 7) {
        uint64_t count = task_count - first < 7 ? task_count - first : 7;
        for (uint64_t id = first; id < first + count; id++)
            assert_true (dv_seen_add (&seen, id));
        dv_seen_settle (&seen);
        assert_int_equal (seen.first_missing, first + count);
        assert_false (dv_seen_add (&seen, first));
        assert_true (dv_seen_has (&seen, first + count - 1));
    }
    assert_int_equal (seen.received, task_count);
    assert_int_equal (seen.first_missing, task_count);
    dv_range_t ranges[4];
    uint64_t total = 1;
    assert_int_equal (dv_seen_missing (&seen, task_count, ranges, 4, &total), 0);
    assert_int_equal (total, 0);
    dv_seen_free (&seen);
}

//  A hole at 0 holds the window at 0 .. span-1: a batch reaching past it is
//  refused, one inside is taken; once the hole fills the window moves on and
//  the ring's bits for the ids it passed are clear for the ids ahead.
static void
test_hole_holds_window (void **state)
{
    (void) state;
    dv_seen_t seen;
    assert_int_equal (dv_seen_init (&seen, 10000, 64), 0);
    s_add_batch (&seen, 1, 63);
    assert_int_equal (seen.first_missing, 0);
    assert_false (dv_seen_in_window (&seen, 63, 2));
    assert_false (dv_seen_in_window (&seen, 64, 1));
    assert_true (dv_seen_in_window (&seen, 63, 1));
    dv_range_t ranges[4];
    uint64_t total;
    assert_int_equal (dv_seen_missing (&seen, 10000, ranges, 4, &total), 2);
    assert_int_equal (ranges[0].first_task, 0);
    assert_int_equal (ranges[0].task_count, 1);
    assert_int_equal (ranges[1].first_task, 64);
    assert_int_equal (ranges[1].task_count, 10000 - 64);
    assert_int_equal (total, 1 + 10000 - 64);
    s_add_batch (&seen, 0, 1);
    assert_int_equal (seen.first_missing, 64);
    //  Ids 64 .. 127 share the ring's bits with 0 .. 63: none is in.
    for (uint64_t id = 64; id < 128; id++)
        assert_false (dv_seen_has (&seen, id));
    assert_true (dv_seen_in_window (&seen, 64, 64));
    s_add_batch (&seen, 100, 5);
    assert_int_equal (dv_seen_missing (&seen, 10000, ranges, 4, &total), 2);
    assert_int_equal (ranges[0].first_task, 64);
    assert_int_equal (ranges[0].task_count, 36);
    assert_int_equal (ranges[1].first_task, 105);
    //  Below a bound: clipped to it.
    assert_int_equal (dv_seen_missing (&seen, 80, ranges, 4, &total), 1);
    assert_int_equal (ranges[0].task_count, 16);
    assert_int_equal (total, 16);
    dv_range_t asked[2] = {{0, 64}, {100, 5}};
    assert_true (dv_seen_has_all (&seen, asked, 2));
    asked[1].task_count = 6;
    assert_false (dv_seen_has_all (&seen, asked, 2));
    dv_range_t outside = {9999, 2};
    assert_false (dv_seen_has_all (&seen, &outside, 1));
    assert_false (dv_seen_in_job (&seen, 9999, 2));
    assert_false (dv_seen_in_job (&seen, UINT64_MAX, 2));
    dv_seen_free (&seen);
}

static uint64_t
s_random (uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return *state >> 33;
}

static void
test_against_model (void **state)
{
    (void) state;
    enum { TASKS = 3000 };
    uint64_t seed = 4242;
    static uint8_t model[TASKS];
    for (int run = 0; run < 60; run++) {
        uint64_t task_count = 1 + s_random (&seed) % TASKS;
        uint64_t span = (uint64_t) 64 << (s_random (&seed) % 3);
        memset (model, 0, sizeof model);
        uint64_t model_received = 0, model_first = 0, model_end = 0;
        dv_seen_t seen;
        assert_int_equal (dv_seen_init (&seen, task_count, span), 0);
        for (int step = 0; step < 600 && model_first < task_count; step++) {
            //  Mostly near the first gap, sometimes anywhere (and past it).
            uint64_t first = s_random (&seed) % 4
                                 ? model_first + s_random (&seed) % (span + 8)
                                 : s_random (&seed) % (task_count + 4);
            if (first > model_first && s_random (&seed) % 3 == 0)
                first -= s_random (&seed) % (first - model_first + 1);
            uint64_t count = 1 + s_random (&seed) % 20;
            bool in_job = first + count <= task_count;
            bool in_window = first + count <= model_first + span;
            assert_int_equal (dv_seen_in_job (&seen, first, count), in_job);
            if (!in_job)
                continue;
            assert_int_equal (dv_seen_in_window (&seen, first, count), in_window);
            if (!in_window)
                continue;
            for (uint64_t id = first; id < first + count; id++) {
                assert_int_equal (dv_seen_add (&seen, id), !model[id]);
                if (!model[id]) {
                    model[id] = 1;
                    model_received++;
                    if (id + 1 > model_end)
                        model_end = id + 1;
                }
            }
            dv_seen_settle (&seen);
            while (model_first < task_count && model[model_first])
                model_first++;
            assert_int_equal (seen.first_missing, model_first);
            assert_int_equal (seen.received, model_received);
            assert_int_equal (seen.received_end, model_end);
            for (uint64_t id = 0; id < task_count + 70; id++)
                assert_int_equal (dv_seen_has (&seen, id), id < task_count && model[id]);
            //  Missing ranges: the model's runs, below a random bound.
            uint64_t below = s_random (&seed) % (task_count + 10);
            dv_range_t ranges[8];
            uint64_t total;
            uint32_t found = dv_seen_missing (&seen, below, ranges, 8, &total);
            uint32_t run_index = 0;
            uint64_t run_total = 0;
            uint64_t end = below < task_count ? below : task_count;
            for (uint64_t id = 0; id < end && run_index < 8;) {
                if (model[id]) {
                    id++;
                    continue;
                }
                uint64_t run_first = id;
                while (id < end && !model[id])
                    id++;
                assert_true (run_index < found);
                assert_int_equal (ranges[run_index].first_task, run_first);
                assert_int_equal (ranges[run_index].task_count, id - run_first);
                run_total += id - run_first;
                run_index++;
            }
            assert_int_equal (found, run_index);
            assert_int_equal (total, run_total);
            //  has_all of a random range.
            dv_range_t probe = {s_random (&seed) % task_count, 1 + s_random (&seed) % 30};
            bool all = probe.first_task + probe.task_count <= task_count;
            for (uint64_t id = probe.first_task;
                 all && id < probe.first_task + probe.task_count; id++)
                all = model[id];
            assert_int_equal (dv_seen_has_all (&seen, &probe, 1), all);
        }
        dv_seen_free (&seen);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ring_size),
        cmocka_unit_test (test_in_order_wraps),
        cmocka_unit_test (test_hole_holds_window),
        cmocka_unit_test (test_against_model),
    };
    return cmocka_run_group_tests_name ("seen", tests, NULL, NULL);
}
