/*  test_ledger.c: unit tests for ventilator/ledger.h, what one worker holds
    and how far it is trusted.

    Pure code: each case sends batches into a ledger, then plays the sink's
    CREDIT (first_missing) and RESEND (ranges) at it with a clock the test
    sets, and checks the cap, what it keeps, suspicion, what was taken back and
    what counts as lost. The cap itself comes from the plan
    (dv_plan_worker_cap), checked at the end.
*/
#include "ledger.h"
#include "plan.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define S_CAP 8

//  Sends count batches of batch tasks from first.
static void
s_fill (dv_ledger_t *ledger, uint64_t first, uint32_t batch, uint32_t count)
{
    for (uint32_t sent = 0; sent < count; sent++)
        dv_ledger_sent (ledger, first + (uint64_t) sent * batch, batch, 0);
}

static void
test_keeps_latest_cap (void **state)
{
    (void) state;
    dv_ledger_t ledger;
    assert_int_equal (dv_ledger_init (&ledger, S_CAP), 0);
    assert_int_equal (dv_ledger_cap (&ledger), S_CAP);
    assert_false (dv_ledger_suspect (&ledger, 0));
    s_fill (&ledger, 0, 10, S_CAP);
    assert_int_equal (ledger.held_count, S_CAP);
    //  Confirmed batches are forgotten: those wholly below first_missing.
    assert_int_equal (dv_ledger_confirm (&ledger, 25), 2);
    assert_int_equal (ledger.held_count, S_CAP - 2);
    assert_int_equal (ledger.held[ledger.held_start].first_task, 20);
    //  Nothing below: nothing confirmed.
    assert_int_equal (dv_ledger_confirm (&ledger, 25), 0);
    //  Past the cap, the oldest go: the latest S_CAP are kept, in order.
    s_fill (&ledger, 1000, 10, S_CAP);
    assert_int_equal (ledger.held_count, S_CAP);
    for (uint32_t index = 0; index < S_CAP; index++)
        assert_int_equal (ledger.held[(ledger.held_start + index) % S_CAP].first_task,
                          1000 + 10 * index);
    //  Confirming half of them keeps the rest, in order.
    assert_int_equal (dv_ledger_confirm (&ledger, 1000 + 10 * (S_CAP / 2)), S_CAP / 2);
    for (uint32_t index = 0; index < S_CAP / 2; index++)
        assert_int_equal (ledger.held[(ledger.held_start + index) % S_CAP].first_task,
                          1000 + 10 * (S_CAP / 2 + index));
    s_fill (&ledger, 1000 + 10 * S_CAP, 10, S_CAP / 2);
    //  A RESEND of a forgotten batch is not laid at its door.
    dv_range_t forgotten[] = {{20, 10}};
    assert_int_equal (dv_ledger_take_back (&ledger, forgotten, 1, 0), 0);
    assert_int_equal (ledger.failures, 0);
    dv_ledger_free (&ledger);
}

static void
test_failure_halves_cap_and_suspects (void **state)
{
    (void) state;
    dv_ledger_t ledger;
    assert_int_equal (dv_ledger_init (&ledger, S_CAP), 0);
    s_fill (&ledger, 0, 10, S_CAP); //  tasks 0 .. 79
    //  The sink lacks tasks 15 .. 34: batches 10, 20 and 30 are taken back.
    dv_range_t missing[] = {{15, 20}};
    int64_t now = 1000;
    assert_int_equal (dv_ledger_take_back (&ledger, missing, 1, now), 3);
    assert_int_equal (ledger.held_count, S_CAP - 3);
    assert_int_equal (ledger.failures, 1);
    assert_int_equal (dv_ledger_cap (&ledger), S_CAP / 2);
    assert_true (dv_ledger_suspect (&ledger, now));
    assert_true (dv_ledger_suspect (&ledger, now + DV_LEDGER_SUSPECT_MS - 1));
    assert_false (dv_ledger_suspect (&ledger, now + DV_LEDGER_SUSPECT_MS));
    //  What it lost is remembered, batch by batch, and nothing else.
    assert_true (dv_ledger_lost (&ledger, 10, 10));
    assert_true (dv_ledger_lost (&ledger, 39, 1));
    assert_false (dv_ledger_lost (&ledger, 0, 10));
    assert_false (dv_ledger_lost (&ledger, 40, 10));

    //  A second failure: cap a quarter, suspect twice as long.
    dv_range_t later[] = {{40, 10}};
    now = 5000;
    assert_int_equal (dv_ledger_take_back (&ledger, later, 1, now), 1);
    assert_int_equal (dv_ledger_cap (&ledger), S_CAP / 4);
    assert_true (dv_ledger_suspect (&ledger, now + 2 * DV_LEDGER_SUSPECT_MS - 1));
    assert_false (dv_ledger_suspect (&ledger, now + 2 * DV_LEDGER_SUSPECT_MS));

    //  A RESEND of nothing it holds is no failure.
    dv_range_t elsewhere[] = {{5000, 100}};
    assert_int_equal (dv_ledger_take_back (&ledger, elsewhere, 1, now), 0);
    assert_int_equal (ledger.failures, 2);

    //  Confirmed results take one failure back each time; confirmed lost
    //  ranges are forgotten.
    assert_int_equal (dv_ledger_confirm (&ledger, 10), 1); //  batch 0
    assert_int_equal (ledger.failures, 1);
    assert_int_equal (dv_ledger_confirm (&ledger, 60), 1); //  batch 50
    assert_int_equal (ledger.failures, 0);
    assert_int_equal (dv_ledger_cap (&ledger), S_CAP);
    assert_false (dv_ledger_suspect (&ledger, now));
    assert_false (dv_ledger_lost (&ledger, 10, 10));
    assert_false (dv_ledger_lost (&ledger, 40, 10));
    dv_ledger_free (&ledger);
}

static void
test_cap_never_below_one (void **state)
{
    (void) state;
    dv_ledger_t ledger;
    assert_int_equal (dv_ledger_init (&ledger, S_CAP), 0);
    int64_t now = 0;
    for (int failure = 0; failure < 2 * DV_RESEND_RANGES_MAX; failure++) {
        dv_ledger_sent (&ledger, (uint64_t) failure, 1, 0);
        dv_range_t missing[] = {{(uint64_t) failure, 1}};
        assert_int_equal (dv_ledger_take_back (&ledger, missing, 1, now), 1);
    }
    assert_int_equal (ledger.failures, DV_LEDGER_FAILURES_MAX);
    assert_int_equal (dv_ledger_cap (&ledger), 1);
    //  Suspicion grows with failures, but is bounded.
    assert_true (dv_ledger_suspect (&ledger, DV_LEDGER_SUSPECT_MAX_MS - 1));
    assert_false (dv_ledger_suspect (&ledger, DV_LEDGER_SUSPECT_MAX_MS));
    //  Lost ranges are bounded too: the latest DV_RESEND_RANGES_MAX.
    assert_int_equal (ledger.lost_count, DV_RESEND_RANGES_MAX);
    assert_true (dv_ledger_lost (&ledger, 2 * DV_RESEND_RANGES_MAX - 1, 1));
    assert_false (dv_ledger_lost (&ledger, 0, 1));
    dv_ledger_free (&ledger);
}

static void
test_forget (void **state)
{
    (void) state;
    dv_ledger_t ledger;
    assert_int_equal (dv_ledger_init (&ledger, S_CAP), 0);
    s_fill (&ledger, 0, 1, S_CAP);
    dv_range_t missing[] = {{0, 1}};
    dv_ledger_take_back (&ledger, missing, 1, 0);
    dv_ledger_forget (&ledger);
    assert_int_equal (ledger.held_count, 0);
    assert_false (dv_ledger_lost (&ledger, 0, 1));
    assert_int_equal (ledger.failures, 1); //  trust is not forgotten
    dv_ledger_free (&ledger);
}

//  The index-th batch held, oldest first, wherever the ring is now.
static uint64_t
s_held_first (const dv_ledger_t *ledger, uint32_t index)
{
    return ledger->held[(ledger->held_start + index) % ledger->capacity].first_task;
}

//  The ring grows with what a worker holds, keeping order across a wrap,
//  and stops at the cap: memory follows what workers hold, not the cap.
static void
test_ring_grows_to_cap (void **state)
{
    (void) state;
    const uint32_t cap = 1000;
    dv_ledger_t ledger;
    assert_int_equal (dv_ledger_init (&ledger, cap), 0);
    assert_true (ledger.capacity < cap);
    uint32_t small = ledger.capacity;
    s_fill (&ledger, 0, 1, small);
    assert_int_equal (ledger.capacity, small);
    //  Wrap the ring (confirm some, send as many), then grow it.
    assert_int_equal (dv_ledger_confirm (&ledger, small / 2), small / 2);
    s_fill (&ledger, small, 1, small / 2);
    assert_int_equal (ledger.capacity, small);
    assert_true (ledger.held_start != 0);
    s_fill (&ledger, small + small / 2, 1, 3 * small);
    assert_true (ledger.capacity > small);
    assert_int_equal (ledger.held_count, small + 3 * small);
    for (uint32_t index = 0; index < ledger.held_count; index++)
        assert_int_equal (s_held_first (&ledger, index), small / 2 + index);
    //  Past the cap the oldest go, as before.
    s_fill (&ledger, 4 * small + small / 2, 1, 2 * cap);
    assert_int_equal (ledger.capacity, cap);
    assert_int_equal (ledger.held_count, cap);
    uint64_t end = 4 * small + small / 2 + 2 * cap;
    for (uint32_t index = 0; index < cap; index++)
        assert_int_equal (s_held_first (&ledger, index), end - cap + index);
    assert_int_equal (dv_ledger_held_since (&ledger, 0), cap);
    dv_ledger_free (&ledger);
}

static void
test_worker_cap_from_window (void **state)
{
    (void) state;
    dv_plan_t plan;
    //  The cap is the window in batches: 65536 tasks in batches of 1024.
    dv_plan_init (&plan, 2000000, 1024, dv_plan_window_tasks (1024, 0));
    assert_int_equal (dv_plan_worker_cap (&plan), 64);
    //  At least two batches; at most DV_PLAN_WORKER_CAP_MAX.
    dv_plan_init (&plan, 100, 10, 10);
    assert_int_equal (dv_plan_worker_cap (&plan), 2);
    dv_plan_init (&plan, 1 << 24, 1, dv_plan_window_tasks (1, 1 << 20));
    assert_int_equal (dv_plan_worker_cap (&plan), DV_PLAN_WORKER_CAP_MAX);
    //  And what a real worker asks for by default (DV_PREFETCH_DEFAULT
    //  tasks, at least two batches) is the least credit each worker gets,
    //  however many share the cap, at every batch size with the automatic
    //  window; the cap holds it. (It was the cap over the workers: 2048 each
    //  of two workers at batch 1, below the 4096 they asked for.)
    for (uint32_t batch = 1; batch <= DV_BATCH_MAX; batch *= 2) {
        dv_plan_init (&plan, 1 << 30, batch, dv_plan_window_tasks (batch, 0));
        uint32_t prefetch =
            DV_PREFETCH_DEFAULT / batch < 2 ? 2 : DV_PREFETCH_DEFAULT / batch;
        assert_int_equal (dv_plan_worker_share_min (&plan), prefetch);
        assert_true (prefetch <= dv_plan_worker_cap (&plan));
    }
    //  Within a small cap (a --window of 3 batches).
    dv_plan_init (&plan, 1000, 1, dv_plan_window_tasks (1, 3));
    assert_int_equal (dv_plan_worker_share_min (&plan), 3);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_keeps_latest_cap),
        cmocka_unit_test (test_failure_halves_cap_and_suspects),
        cmocka_unit_test (test_cap_never_below_one),
        cmocka_unit_test (test_forget),
        cmocka_unit_test (test_ring_grows_to_cap),
        cmocka_unit_test (test_worker_cap_from_window),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
