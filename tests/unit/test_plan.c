/*  test_plan.c: unit tests for ventilator/plan.h, the send plan.

    Each case drives the plan through the calls the ventilator makes (next
    batch, batch sent, RESEND, CREDIT, heartbeat) and checks what it would
    send. The last case runs a random sequence against a plain model of
    "sent, received, asked again" and checks the invariants after every step.
*/
#include "plan.h"
#include "protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

//  Sends the plan's next batch; fails the test when there is none.
static void
s_send (dv_plan_t *plan, uint64_t expect_first, uint32_t expect_count)
{
    uint64_t first_task = 0;
    uint32_t count = 0;
    assert_true (dv_plan_next_batch (plan, &first_task, &count));
    assert_int_equal (first_task, expect_first);
    assert_int_equal (count, expect_count);
    dv_plan_batch_sent (plan, first_task, count);
}

static bool
s_has_batch (const dv_plan_t *plan)
{
    uint64_t first_task;
    uint32_t count;
    return dv_plan_next_batch (plan, &first_task, &count);
}

//  Feeds ranges to the plan as a decoded RESEND, as the ventilator gets it.
static uint64_t
s_resend (dv_plan_t *plan, const dv_range_t *ranges, uint32_t range_count)
{
    uint8_t buffer[DV_RESEND_SIZE (DV_RESEND_RANGES_MAX)];
    size_t size = dv_resend_encode (7, ranges, range_count, buffer);
    dv_resend_t resend;
    assert_int_equal (dv_resend_decode (buffer, size, &resend), 0);
    return dv_plan_take_resend (plan, &resend);
}

static void
test_auto_sizes (void **state)
{
    (void) state;
    assert_int_equal (dv_plan_batch_size (100, 1, 0, false), 6); //  100 / 16
    assert_int_equal (dv_plan_batch_size (100, 0, 0, false), 6); //  0 workers: 1
    assert_int_equal (dv_plan_batch_size (100, 4, 0, false), 1); //  at least 1
    assert_int_equal (dv_plan_batch_size (UINT64_MAX, 1, 0, false), 1024);
    assert_int_equal (dv_plan_batch_size (100, 1, 7, false), 7); //  given: as is
    //  A line job's batches grow further: a command starts per batch.
    assert_int_equal (dv_plan_batch_size (100, 1, 0, true), 6);
    assert_int_equal (dv_plan_batch_size (1000000, 2, 0, true), 31250);
    assert_int_equal (dv_plan_batch_size (UINT64_MAX, 1, 0, true), DV_BATCH_MAX);
    assert_int_equal (dv_plan_batch_size (100, 1, 7, true), 7);
    assert_int_equal (dv_plan_window_tasks (1, 0), 16384 * 1);
    assert_int_equal (dv_plan_window_tasks (2, 0), 16384 * 2);
    assert_int_equal (dv_plan_window_tasks (4, 0), 65536);
    assert_int_equal (dv_plan_window_tasks (16, 0), 65536);
    assert_int_equal (dv_plan_window_tasks (1024, 0), 65536);       //  64 batches
    assert_int_equal (dv_plan_window_tasks (65536, 0), 16 * 65536); //  at least 16
    assert_int_equal (dv_plan_window_tasks (10, 3), 30);
    //  Never more in flight than the sink's window holds.
    assert_int_equal (dv_plan_window_tasks (65536, 1 << 20), DV_WINDOW_SPAN);
}

//  The span: with the count window wide open, a lost task at the sink's
//  first gap stops new tasks at dv_window_end of it, a whole batch at a
//  time, and its arrival (CREDIT's first_missing) lets them go on.
static void
test_span_bound (void **state)
{
    (void) state;
    uint32_t batch = 65536;
    uint64_t task_count = 4 * DV_WINDOW_SPAN;
    dv_plan_t plan;
    dv_plan_init (&plan, task_count, batch, UINT64_MAX);
    uint64_t sent = 0;
    while (s_has_batch (&plan)) {
        s_send (&plan, sent, batch);
        sent += batch;
        //  Everything but task 0 arrives.
        dv_plan_received (&plan, sent - 1);
        dv_plan_first_missing (&plan, 0);
    }
    assert_int_equal (sent, dv_window_end (0));
    //  A batch that would cross the end waits, though part of it fits.
    dv_plan_first_missing (&plan, batch / 2);
    assert_false (s_has_batch (&plan));
    dv_plan_first_missing (&plan, batch);
    s_send (&plan, sent, batch);
    //  It never goes back, and a peer's word past the job is the job's end.
    dv_plan_first_missing (&plan, 1);
    assert_int_equal (plan.first_missing, batch);
    dv_plan_first_missing (&plan, UINT64_MAX);
    assert_int_equal (plan.first_missing, task_count);
    //  A resume starts from the sink's first gap, and so does the span.
    dv_plan_restart (&plan);
    assert_int_equal (plan.first_missing, 0);
    dv_plan_resume (&plan, 3 * DV_WINDOW_SPAN);
    assert_int_equal (plan.first_missing, 3 * DV_WINDOW_SPAN);
    s_send (&plan, 3 * DV_WINDOW_SPAN, batch);
}

static void
test_window_bound (void **state)
{
    (void) state;
    dv_plan_t plan;
    dv_plan_init (&plan, 1000, 10, 30);
    s_send (&plan, 0, 10);
    s_send (&plan, 10, 10);
    s_send (&plan, 20, 10);
    assert_false (s_has_batch (&plan)); //  30 in flight: the window is full
    //  Below the window by a task: a whole batch goes (the window bounds
    //  what is in flight before a send, so it may be passed by a batch).
    dv_plan_received (&plan, 1);
    s_send (&plan, 30, 10);
    assert_false (s_has_batch (&plan));
    dv_plan_received (&plan, 20); //  20 in flight
    s_send (&plan, 40, 10);
    assert_false (s_has_batch (&plan));
    assert_int_equal (plan.next_task, 50);
}

static void
test_last_batch_shorter (void **state)
{
    (void) state;
    dv_plan_t plan;
    dv_plan_init (&plan, 25, 10, 1000);
    s_send (&plan, 0, 10);
    s_send (&plan, 10, 10);
    s_send (&plan, 20, 5);
    assert_false (s_has_batch (&plan));
    assert_int_equal (plan.next_task, 25);
    //  One task, one batch of one.
    dv_plan_init (&plan, 1, 1024, 1024);
    s_send (&plan, 0, 1);
    assert_false (s_has_batch (&plan));
}

static void
test_resend_first_and_clipped (void **state)
{
    (void) state;
    dv_plan_t plan;
    dv_plan_init (&plan, 100, 10, 30);
    for (uint64_t first = 0; first < 30; first += 10)
        s_send (&plan, first, 10);
    assert_false (s_has_batch (&plan)); //  window full
    //  Within what was sent, across its end (clipped), and past it (dropped:
    //  it goes out in order anyway).
    const dv_range_t ranges[] = {{5, 3}, {25, 20}, {60, 5}};
    assert_int_equal (s_resend (&plan, ranges, 3), 3 + 5);
    assert_int_equal (plan.resend_count, 2);
    //  Resent tasks go first, and even with the window full.
    s_send (&plan, 5, 3);
    s_send (&plan, 25, 5);
    assert_false (s_has_batch (&plan));
    assert_int_equal (plan.tasks_resent, 8);
    assert_int_equal (plan.next_task, 30);
    dv_plan_received (&plan, 30);
    s_send (&plan, 30, 10);
    //  A range longer than a batch goes out in batches.
    const dv_range_t wide[] = {{0, 25}};
    assert_int_equal (s_resend (&plan, wide, 1), 25);
    s_send (&plan, 0, 10);
    s_send (&plan, 10, 10);
    s_send (&plan, 20, 5);
    s_send (&plan, 40, 10);
    assert_int_equal (plan.tasks_resent, 33);
    //  Nothing sent yet: nothing to send again.
    dv_plan_init (&plan, 100, 10, 30);
    const dv_range_t early[] = {{0, 10}};
    assert_int_equal (s_resend (&plan, early, 1), 0);
    s_send (&plan, 0, 10);
    assert_int_equal (plan.tasks_resent, 0);
}

static void
test_newer_resend_replaces (void **state)
{
    (void) state;
    dv_plan_t plan;
    dv_plan_init (&plan, 100, 10, 100);
    for (uint64_t first = 0; first < 50; first += 10)
        s_send (&plan, first, 10);
    const dv_range_t older[] = {{0, 20}, {30, 5}};
    assert_int_equal (s_resend (&plan, older, 2), 25);
    s_send (&plan, 0, 10); //  half of the older one is out
    const dv_range_t newer[] = {{40, 4}};
    assert_int_equal (s_resend (&plan, newer, 1), 4);
    assert_int_equal (plan.resend_count, 1);
    s_send (&plan, 40, 4);
    s_send (&plan, 50, 10); //  none of the older one left
    assert_int_equal (plan.tasks_resent, 14);
    //  A newer RESEND of only unsent tasks empties the queue.
    s_resend (&plan, older, 2);
    const dv_range_t unsent[] = {{80, 5}};
    assert_int_equal (s_resend (&plan, unsent, 1), 0);
    s_send (&plan, 60, 10);
}

static void
test_fair_share (void **state)
{
    (void) state;
    dv_plan_t plan;
    dv_plan_init (&plan, 100, 10, 1000); //  10 batches to send
    assert_int_equal (dv_plan_fair_share (&plan, 1), 10);
    assert_int_equal (dv_plan_fair_share (&plan, 3), 4); //  rounded up
    assert_int_equal (dv_plan_fair_share (&plan, 0), 10);
    assert_int_equal (dv_plan_fair_share (&plan, 100), 2); //  at least 2
    for (uint64_t first = 0; first < 100; first += 10)
        s_send (&plan, first, 10);
    assert_int_equal (dv_plan_fair_share (&plan, 1), 2); //  nothing left: 2
    //  Tasks to send again count as well.
    const dv_range_t ranges[] = {{0, 35}, {50, 5}};
    s_resend (&plan, ranges, 2);
    assert_int_equal (dv_plan_fair_share (&plan, 1), 4); //  40 tasks
    s_send (&plan, 0, 10);
    assert_int_equal (dv_plan_fair_share (&plan, 1), 3); //  30 tasks
    //  A short last batch counts as one.
    dv_plan_init (&plan, 21, 10, 1000);
    assert_int_equal (dv_plan_fair_share (&plan, 1), 3);
}

static void
test_restart (void **state)
{
    (void) state;
    dv_plan_t plan;
    dv_plan_init (&plan, 100, 10, 20);
    s_send (&plan, 0, 10);
    s_send (&plan, 10, 10);
    dv_plan_received (&plan, 20);
    const dv_range_t ranges[] = {{0, 5}};
    s_resend (&plan, ranges, 1);
    s_send (&plan, 0, 5);
    s_resend (&plan, ranges, 1);
    dv_plan_restart (&plan);
    assert_int_equal (plan.next_task, 0);
    assert_int_equal (plan.received, 0);
    assert_int_equal (plan.resend_count, 0);
    assert_int_equal (plan.tasks_resent, 5); //  a count over the run: kept
    //  From the start again, within the window again.
    s_send (&plan, 0, 10);
    s_send (&plan, 10, 10);
    assert_false (s_has_batch (&plan));
}

static void
test_resume (void **state)
{
    (void) state;
    dv_plan_t plan;
    dv_plan_init (&plan, 100, 10, 20);
    dv_plan_resume (&plan, 40);
    //  The sink holds more than we sent (later results, before its gap).
    dv_plan_received (&plan, 70);
    s_send (&plan, 40, 10);
    s_send (&plan, 50, 10);
    s_send (&plan, 60, 10);
    s_send (&plan, 70, 10); //  received counts only up to next_task
    //  A job the sink already has whole: first_missing is task_count.
    dv_plan_init (&plan, 100, 10, 20);
    dv_plan_resume (&plan, 100);
    assert_false (s_has_batch (&plan));
}

//  The issue: "first_missing from CREDIT is bounded by the task count before
//  use". Unbounded, next_task passes task_count, the fair share counts
//  below zero, and a RESEND is clipped to tasks the job does not have.
static void
test_first_missing_bounded (void **state)
{
    (void) state;
    const uint64_t peers_word[] = {101, 1000, UINT64_MAX};
    for (size_t index = 0; index < sizeof peers_word / sizeof peers_word[0]; index++) {
        dv_plan_t plan;
        dv_plan_init (&plan, 100, 10, 20);
        dv_plan_resume (&plan, peers_word[index]);
        assert_int_equal (plan.next_task, 100);
        assert_false (s_has_batch (&plan));
        assert_int_equal (dv_plan_fair_share (&plan, 1), 2);
        const dv_range_t ranges[] = {{90, 1000}};
        assert_int_equal (s_resend (&plan, ranges, 1), 10);
        s_send (&plan, 90, 10);
        assert_false (s_has_batch (&plan));
    }
}

static void
test_received_monotonic (void **state)
{
    (void) state;
    dv_plan_t plan;
    dv_plan_init (&plan, 100, 10, 20);
    dv_plan_received (&plan, 15);
    dv_plan_received (&plan, 10); //  an older heartbeat, late
    assert_int_equal (plan.received, 15);
    dv_plan_received (&plan, 16);
    assert_int_equal (plan.received, 16);
}

//  xorshift64*: the same sequence every run.
static uint64_t
s_random (uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 2685821657736338717ULL;
}

//  Against a model: every task ever sent, and what the sink has. New tasks
//  go out in order, each once, within the window; resent tasks were sent
//  before and are ones the RESEND named.
static void
test_against_model (void **state)
{
    (void) state;
    enum { TASKS = 500 };
    uint64_t seed = 12345;
    for (int run = 0; run < 200; run++) {
        uint8_t sent[TASKS] = {0};
        uint8_t asked[TASKS] = {0};
        uint64_t task_count = 1 + s_random (&seed) % TASKS;
        uint32_t batch_size = (uint32_t) (1 + s_random (&seed) % 40);
        uint64_t window_tasks = batch_size * (1 + s_random (&seed) % 8);
        dv_plan_t plan;
        dv_plan_init (&plan, task_count, batch_size, window_tasks);
        uint64_t model_next = 0, model_received = 0;
        for (int step = 0; step < 400; step++) {
            uint64_t action = s_random (&seed) % 10;
            if (action < 6) {
                uint64_t first_task;
                uint32_t count;
                bool resending = plan.resend_index < plan.resend_count;
                if (!dv_plan_next_batch (&plan, &first_task, &count)) {
                    assert_false (resending);
                    assert_true (model_next == task_count ||
                                 model_next - (model_received < model_next
                                                   ? model_received
                                                   : model_next) >=
                                     window_tasks);
                    continue;
                }
                assert_true (count >= 1 && count <= batch_size);
                assert_true (first_task + count <= task_count);
                if (resending)
                    for (uint32_t i = 0; i < count; i++) {
                        assert_true (sent[first_task + i]);
                        assert_true (asked[first_task + i]);
                    }
                else {
                    assert_int_equal (first_task, model_next);
                    assert_true (model_next - (model_received < model_next
                                                   ? model_received
                                                   : model_next) <
                                 window_tasks);
                    for (uint32_t i = 0; i < count; i++)
                        sent[first_task + i] = 1;
                    model_next += count;
                }
                dv_plan_batch_sent (&plan, first_task, count);
            } else if (action < 8) {
                uint64_t received = s_random (&seed) % (model_next + 1);
                if (received > model_received)
                    model_received = received;
                dv_plan_received (&plan, received);
            } else {
                dv_range_t ranges[3];
                uint32_t range_count = (uint32_t) (1 + s_random (&seed) % 3);
                for (uint32_t i = 0; i < range_count; i++)
                    ranges[i] = (dv_range_t){s_random (&seed) % task_count,
                                             1 + s_random (&seed) % 50};
                memset (asked, 0, sizeof asked);
                uint64_t expected = 0;
                for (uint32_t i = 0; i < range_count; i++)
                    for (uint64_t t = ranges[i].first_task;
                         t < ranges[i].first_task + ranges[i].task_count &&
                         t < model_next;
                         t++) {
                        asked[t] = 1;
                        expected++;
                    }
                assert_int_equal (s_resend (&plan, ranges, range_count), expected);
            }
            assert_int_equal (plan.next_task, model_next);
            assert_int_equal (plan.received, model_received);
            assert_true (plan.next_task <= task_count);
            assert_true (dv_plan_fair_share (&plan, 1 + s_random (&seed) % 9) >= 2);
        }
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_auto_sizes),
        cmocka_unit_test (test_window_bound),
        cmocka_unit_test (test_span_bound),
        cmocka_unit_test (test_last_batch_shorter),
        cmocka_unit_test (test_resend_first_and_clipped),
        cmocka_unit_test (test_newer_resend_replaces),
        cmocka_unit_test (test_fair_share),
        cmocka_unit_test (test_restart),
        cmocka_unit_test (test_resume),
        cmocka_unit_test (test_first_missing_bounded),
        cmocka_unit_test (test_received_monotonic),
        cmocka_unit_test (test_against_model),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
