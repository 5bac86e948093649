/*  test_credit.c: unit tests for worker/credit.h, the worker's credit policy.

    The worker's loop in miniature: a reset WANT at the start, then after each
    batch whatever dv_credit_policy_after_batch asks for, reported back with
    dv_credit_policy_sent as main.c does once zmq_send has succeeded.
*/
#include "credit.h"
#include "protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

//  A policy that has sent its first, reset WANT.
static void
s_start (dv_credit_policy_t *policy, uint64_t prefetch)
{
    dv_credit_policy_init (policy, prefetch);
    assert_int_equal (policy->wanted, DV_CREDIT_WANT_MIN);
    assert_int_equal (policy->outstanding, 0);
    dv_credit_policy_sent (policy, policy->wanted, true);
}

//  One batch done; sends what the policy asks for. Returns that.
static uint32_t
s_batch (dv_credit_policy_t *policy, uint32_t count, int64_t batch_us)
{
    uint32_t batches = dv_credit_policy_after_batch (policy, count, batch_us);
    if (batches)
        dv_credit_policy_sent (policy, batches, false);
    return batches;
}

static void
test_slow_worker_holds_two (void **state)
{
    (void) state;
    dv_credit_policy_t policy;
    s_start (&policy, 4096);
    //  100 ms a task: 20 ms ahead is a fraction of a batch, so 2 batches.
    for (int batch = 0; batch < 50; batch++) {
        assert_int_equal (s_batch (&policy, 10, 10 * 100000), 1);
        assert_int_equal (policy.wanted, 2);
        assert_int_equal (policy.outstanding, 2);
    }
    //  One task a batch, at 20 ms: exactly 1 batch ahead, still 2.
    s_start (&policy, 4096);
    assert_int_equal (s_batch (&policy, 1, 20000), 1);
    assert_int_equal (policy.wanted, 2);
}

static void
test_fast_worker_asks_for_prefetch (void **state)
{
    (void) state;
    dv_credit_policy_t policy;
    s_start (&policy, 4096);
    //  1 us a task: 20000 tasks ahead, capped at --prefetch 4096 = 256
    //  batches of 16; 1 of the first 2 is still to come.
    assert_int_equal (s_batch (&policy, 16, 16), 255);
    assert_int_equal (policy.wanted, 256);
    assert_int_equal (policy.outstanding, 256);
    //  Smaller prefetch, fewer batches; never under 2.
    s_start (&policy, 64);
    assert_int_equal (s_batch (&policy, 16, 16), 3);
    assert_int_equal (policy.wanted, 4);
    s_start (&policy, 1);
    assert_int_equal (s_batch (&policy, 16, 0), 1);
    assert_int_equal (policy.wanted, 2);
    //  No time measured at all, prefetch huge: at most what a WANT may say.
    s_start (&policy, 1 << 24);
    s_batch (&policy, 1, 0);
    assert_int_equal (policy.wanted, DV_WANT_BATCHES_MAX);
}

static void
test_speed_smoothed (void **state)
{
    (void) state;
    dv_credit_policy_t policy;
    s_start (&policy, 1 << 20);
    s_batch (&policy, 10, 1000); //  100 us a task: the first measure is taken as is
    assert_true (policy.us_per_task == 100.0);
    assert_int_equal (policy.wanted, 20); //  200 tasks ahead
    s_batch (&policy, 10, 6000);          //  600 us a task: 0.8 x 100 + 0.2 x 600
    assert_true (policy.us_per_task > 199.999 && policy.us_per_task < 200.001);
    assert_int_equal (policy.wanted, 10);
}

static void
test_quarter_top_up (void **state)
{
    (void) state;
    dv_credit_policy_t policy;
    s_start (&policy, 4096);
    assert_int_equal (s_batch (&policy, 16, 16), 255); //  256 wanted and asked for
    //  Nothing until a quarter of it (64 batches) is used...
    for (int batch = 1; batch < 64; batch++) {
        assert_int_equal (s_batch (&policy, 16, 16), 0);
        assert_int_equal (policy.outstanding, 256 - batch);
    }
    //  ...then the whole gap at once.
    assert_int_equal (s_batch (&policy, 16, 16), 64);
    assert_int_equal (policy.outstanding, 256);
    //  A WANT that did not go out is not counted: the gap stays, and the
    //  next batch asks for it and one more.
    for (int batch = 1; batch < 64; batch++)
        assert_int_equal (s_batch (&policy, 16, 16), 0);
    assert_int_equal (dv_credit_policy_after_batch (&policy, 16, 16), 64);
    assert_int_equal (s_batch (&policy, 16, 16), 65);
    assert_int_equal (policy.outstanding, 256);
}

static void
test_reset (void **state)
{
    (void) state;
    dv_credit_policy_t policy;
    s_start (&policy, 4096);
    s_batch (&policy, 16, 16);
    assert_int_equal (policy.outstanding, 256);
    //  Not dry long enough: nothing to restate.
    assert_int_equal (dv_credit_policy_idle (&policy, 0), 0);
    assert_int_equal (dv_credit_policy_idle (&policy, DV_CREDIT_DRY_MS - 1), 0);
    //  Dry: restate what we want, from scratch.
    uint32_t batches = dv_credit_policy_idle (&policy, DV_CREDIT_DRY_MS);
    assert_int_equal (batches, 256);
    dv_credit_policy_sent (&policy, batches, true);
    assert_int_equal (policy.outstanding, 256);
    //  No batch since: each further restate waits twice as long, up to
    //  DV_CREDIT_REFRESH_MS; a batch brings the first wait back.
    assert_int_equal (dv_credit_policy_idle (&policy, 2 * DV_CREDIT_DRY_MS - 1), 0);
    assert_int_equal (dv_credit_policy_idle (&policy, 2 * DV_CREDIT_DRY_MS), 256);
    for (int restate = 0; restate < 20; restate++)
        dv_credit_policy_sent (&policy, 256, true);
    assert_int_equal (dv_credit_policy_idle (&policy, DV_CREDIT_REFRESH_MS - 1), 0);
    assert_int_equal (dv_credit_policy_idle (&policy, DV_CREDIT_REFRESH_MS), 256);
    s_batch (&policy, 16, 16);
    assert_int_equal (dv_credit_policy_idle (&policy, DV_CREDIT_DRY_MS), 256);
    dv_credit_policy_sent (&policy, 256, true);
    dv_credit_policy_sent (&policy, 3, true); //  a reset replaces, never adds
    assert_int_equal (policy.outstanding, 3);
    dv_credit_policy_sent (&policy, 3, false);
    assert_int_equal (policy.outstanding, 6);
    //  More batches than asked for (a reset lowered the count): no wrap.
    dv_credit_policy_sent (&policy, 0, true);
    dv_credit_policy_after_batch (&policy, 16, 16);
    assert_int_equal (policy.outstanding, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_slow_worker_holds_two),
        cmocka_unit_test (test_fast_worker_asks_for_prefetch),
        cmocka_unit_test (test_speed_smoothed),
        cmocka_unit_test (test_quarter_top_up),
        cmocka_unit_test (test_reset),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
