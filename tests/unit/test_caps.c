/*  test_caps.c: every message fits the receive cap of every socket that gets it.

    A frame over a socket's ZMQ_MAXMSGSIZE is a protocol error to libzmq,
    which drops the connection for good: a cap that is one byte too small
    loses a peer the first time the largest message is sent. Protocol
    version 1 capped control at 1024 bytes while a RESEND of 64 ranges is
    1040; this test is what would have caught it.

    Each kind is encoded at its largest legal size through the public
    encoders (RESEND with DV_RESEND_RANGES_MAX ranges, TASKS with
    DV_BATCH_MAX values, RESULTS with DV_BATCH_MAX entries and a
    DV_WORKER_ID_MAX id, every fixed-size kind), checked to decode (so it
    is legal, not merely large), and compared with the cap of each socket
    that receives it:
      control at the ventilator and workers (SUB):  HEARTBEAT, CREDIT,
                                                    RESEND, KILL, REFUSE
      control at the sink (XPUB):                   subscriptions, 3 bytes
      tasks at the ventilator (ROUTER):             WANT
      tasks at a worker:                            TASKS, RANGE_TASKS
      results at the sink (PULL):                   RESULTS, SQUARES, ANNOUNCE
    Every cap must also be at least DV_MESSAGE_CAP_MIN (CURVE handshakes).

    The bounds on what a peer may make a program hold, derived from the
    same sizes: the result socket's high-water mark is the most messages of
    DV_RESULTS_SIZE_MAX that fit DV_RESULTS_QUEUED_MAX with one more being
    read; the sink takes a subscription only to the topic of a kind it
    publishes on control (each checked against a message of that kind), so
    what libzmq keeps for a connection is bounded.
*/
#include "net.h"
#include "protocol.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  Asserts size <= cap, naming the message and the socket when it is not.
static void
s_check_fits (const char *what, size_t size, const char *socket, int64_t cap)
{
    if (cap < 0 || size > (uint64_t) cap)
        fail_msg ("%s is %zu bytes, over the %" PRId64 "-byte cap of %s", what, size, cap,
                  socket);
}

static void
test_caps_at_least_the_minimum (void **state)
{
    (void) state;
    const int64_t caps[] = {DV_CONTROL_CAP, DV_SUBSCRIPTION_CAP, DV_WANT_CAP,
                            DV_TASKS_CAP, DV_RESULTS_CAP};
    for (size_t index = 0; index < sizeof caps / sizeof caps[0]; index++)
        assert_true (caps[index] >= DV_MESSAGE_CAP_MIN);
}

//  Everything the sink publishes on control, at its largest.
static void
test_control_messages_fit (void **state)
{
    (void) state;
    uint8_t buffer[DV_RESEND_SIZE (DV_RESEND_RANGES_MAX)];

    dv_heartbeat_t heartbeat = {UINT64_MAX, DV_STATE_ABANDONED, UINT64_MAX,
                                UINT64_MAX, UINT64_MAX,         UINT32_MAX};
    size_t size = dv_heartbeat_encode (&heartbeat, buffer);
    assert_int_equal (dv_heartbeat_decode (buffer, size, &heartbeat), 0);
    s_check_fits ("HEARTBEAT", size, "control (ventilator, worker)", DV_CONTROL_CAP);

    dv_credit_t credit = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
    size = dv_credit_encode (&credit, buffer);
    assert_int_equal (dv_credit_decode (buffer, size, &credit), 0);
    s_check_fits ("CREDIT", size, "control (ventilator, worker)", DV_CONTROL_CAP);

    dv_range_t ranges[DV_RESEND_RANGES_MAX];
    for (uint32_t index = 0; index < DV_RESEND_RANGES_MAX; index++)
        ranges[index] = (dv_range_t){(uint64_t) index * 1000, 10};
    size = dv_resend_encode (UINT64_MAX, ranges, DV_RESEND_RANGES_MAX, buffer);
    assert_int_equal (size, DV_RESEND_SIZE (DV_RESEND_RANGES_MAX));
    dv_resend_t resend;
    assert_int_equal (dv_resend_decode (buffer, size, &resend), 0);
    assert_int_equal (resend.range_count, DV_RESEND_RANGES_MAX);
    s_check_fits ("RESEND of DV_RESEND_RANGES_MAX ranges", size,
                  "control (ventilator, worker)", DV_CONTROL_CAP);

    dv_kill_t kill = {UINT64_MAX, UINT64_MAX};
    size = dv_kill_encode (&kill, buffer);
    assert_int_equal (dv_kill_decode (buffer, size, &kill), 0);
    s_check_fits ("KILL", size, "control (ventilator, worker)", DV_CONTROL_CAP);

    dv_refuse_t refuse = {UINT64_MAX, UINT64_MAX, DV_REFUSE_NO_MEMORY, UINT64_MAX};
    size = dv_refuse_encode (&refuse, buffer);
    assert_int_equal (dv_refuse_decode (buffer, size, &refuse), 0);
    s_check_fits ("REFUSE", size, "control (ventilator, worker)", DV_CONTROL_CAP);
}

//  What the sink's XPUB receives: a subscription, 1 byte and a 2-byte topic.
static void
test_subscription_fits (void **state)
{
    (void) state;
    const dv_kind_t kinds[] = {DV_KIND_HEARTBEAT, DV_KIND_CREDIT, DV_KIND_RESEND,
                               DV_KIND_KILL, DV_KIND_REFUSE};
    for (size_t index = 0; index < sizeof kinds / sizeof kinds[0]; index++) {
        uint8_t subscription[3] = {1};
        dv_topic (kinds[index], subscription + 1);
        s_check_fits ("a subscription", sizeof subscription, "control (sink)",
                      DV_SUBSCRIPTION_CAP);
    }
}

static void
test_want_fits (void **state)
{
    (void) state;
    uint8_t buffer[DV_WANT_SIZE];
    dv_want_t want = {.batches = DV_WANT_BATCHES_MAX, .is_reset = true};
    size_t size = dv_want_encode (&want, buffer);
    assert_int_equal (dv_want_decode (buffer, size, &want), 0);
    s_check_fits ("WANT", size, "tasks (ventilator)", DV_WANT_CAP);
}

static void
test_tasks_fit (void **state)
{
    (void) state;
    uint8_t *buffer = malloc (DV_TASKS_SIZE_MAX);
    assert_non_null (buffer);
    size_t size = dv_tasks_encode_header (UINT64_MAX, 0, DV_BATCH_MAX, buffer);
    for (uint32_t index = 0; index < DV_BATCH_MAX; index++)
        dv_tasks_put_value (buffer, index, INT64_MIN);
    dv_tasks_put_tag (buffer, UINT64_MAX);
    assert_int_equal (size, DV_TASKS_SIZE_MAX);
    dv_tasks_t tasks;
    assert_int_equal (dv_tasks_decode (buffer, size, &tasks), 0);
    assert_int_equal (tasks.count, DV_BATCH_MAX);
    s_check_fits ("TASKS of DV_BATCH_MAX values", size, "tasks (worker)", DV_TASKS_CAP);

    //  A range batch is one size, whatever its count.
    size = dv_range_tasks_encode (UINT64_MAX, 0, DV_BATCH_MAX, INT64_MIN, buffer);
    assert_int_equal (size, DV_RANGE_TASKS_SIZE);
    assert_int_equal (dv_tasks_decode (buffer, size, &tasks), 0);
    assert_int_equal (tasks.count, DV_BATCH_MAX);
    s_check_fits ("RANGE_TASKS", size, "tasks (worker)", DV_TASKS_CAP);
    free (buffer);
}

static void
test_results_and_announce_fit (void **state)
{
    (void) state;
    uint8_t *buffer = malloc (DV_RESULTS_SIZE_MAX);
    assert_non_null (buffer);
    char worker_id[DV_WORKER_ID_MAX];
    memset (worker_id, 'w', sizeof worker_id);
    size_t size = dv_results_encode_header (UINT64_MAX, 0, DV_BATCH_MAX, UINT64_MAX,
                                            worker_id, sizeof worker_id, buffer);
    uint8_t *entries = dv_results_entries (buffer, sizeof worker_id);
    for (uint32_t index = 0; index < DV_BATCH_MAX; index++)
        dv_results_put_entry (entries, index, INT64_MIN, dv_square (INT64_MIN));
    assert_int_equal (size, DV_RESULTS_SIZE_MAX);
    dv_results_t results;
    assert_int_equal (dv_results_decode (buffer, size, &results), 0);
    assert_int_equal (results.count, DV_BATCH_MAX);
    assert_int_equal (results.worker_id_length, DV_WORKER_ID_MAX);
    s_check_fits ("RESULTS of DV_BATCH_MAX entries, DV_WORKER_ID_MAX id", size,
                  "results (sink)", DV_RESULTS_CAP);

    //  Both forms of announcement are the same size; a list carries the most.
    dv_announce_t announce = {
        .job_id = UINT64_MAX,
        .task_count = UINT64_MAX,
        .expected_sum = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}},
        .input_digest = UINT64_MAX,
        .credit_step = UINT32_MAX};
    memset (announce.tag_key.bytes, 0xff, DV_TAG_KEY_SIZE);
    size = dv_announce_encode (&announce, buffer);
    assert_int_equal (dv_announce_decode (buffer, size, &announce), 0);
    s_check_fits ("ANNOUNCE", size, "results (sink)", DV_RESULTS_CAP);
    free (buffer);
}

//  SQUARES at their largest: 16-byte squares, the longest id.
static void
test_squares_fit (void **state)
{
    (void) state;
    uint8_t *buffer = malloc (DV_SQUARES_SIZE_MAX);
    assert_non_null (buffer);
    char worker_id[DV_WORKER_ID_MAX];
    memset (worker_id, 'w', sizeof worker_id);
    size_t size =
        dv_squares_encode_header (UINT64_MAX, 0, DV_BATCH_MAX, DV_SQUARE_SIZE_MAX,
                                  worker_id, sizeof worker_id, buffer);
    assert_int_equal (size, DV_SQUARES_SIZE_MAX);
    uint8_t *entries = dv_squares_entries (buffer, sizeof worker_id);
    for (uint32_t index = 0; index < DV_BATCH_MAX; index++)
        dv_squares_put (entries, index, DV_SQUARE_SIZE_MAX, dv_square (INT64_MIN));
    dv_results_t results;
    assert_int_equal (dv_results_decode (buffer, size, &results), 0);
    assert_int_equal (results.count, DV_BATCH_MAX);
    assert_int_equal (results.square_size, DV_SQUARE_SIZE_MAX);
    assert_int_equal (results.worker_id_length, DV_WORKER_ID_MAX);
    s_check_fits ("SQUARES of DV_BATCH_MAX 16-byte squares, DV_WORKER_ID_MAX id", size,
                  "results (sink)", DV_RESULTS_CAP);
    free (buffer);
}

//  The result socket's mark: as many of the largest messages as fit the
//  byte budget beside one being read, and not one more.
static void
test_results_hwm_fits_the_budget (void **state)
{
    (void) state;
    assert_true (DV_RESULTS_HWM >= 1);
    //  The mark counts messages of DV_RESULTS_SIZE_MAX: none may be larger.
    assert_true (DV_SQUARES_SIZE_MAX <= DV_RESULTS_SIZE_MAX);
    uint64_t held = (uint64_t) DV_RESULTS_HWM * DV_RESULTS_SIZE_MAX + DV_RESULTS_CAP;
    assert_true (held <= DV_RESULTS_QUEUED_MAX);
    assert_true (held + DV_RESULTS_SIZE_MAX > DV_RESULTS_QUEUED_MAX);
    assert_true (DV_RESULTS_CAP >= (int64_t) DV_RESULTS_SIZE_MAX);
}

//  Every kind the sink publishes on control: its topic is a subscription
//  the sink takes (and a cancellation of it too), within the cap.
static void
test_control_topics_taken (void **state)
{
    (void) state;
    size_t sizes[5];
    dv_heartbeat_t heartbeat = {1, DV_STATE_RUNNING, 0, 1, 1, 0};
    dv_credit_t credit = {1, 0, 0, 1};
    dv_range_t range = {0, 1};
    dv_kill_t kill = {1, 1};
    dv_refuse_t refuse = {1, 1, DV_REFUSE_BUSY, 2};
    uint8_t messages[5][DV_RESEND_SIZE (DV_RESEND_RANGES_MAX)];
    sizes[0] = dv_heartbeat_encode (&heartbeat, messages[0]);
    sizes[1] = dv_credit_encode (&credit, messages[1]);
    sizes[2] = dv_resend_encode (1, &range, 1, messages[2]);
    sizes[3] = dv_kill_encode (&kill, messages[3]);
    sizes[4] = dv_refuse_encode (&refuse, messages[4]);
    for (size_t index = 0; index < 5; index++) {
        assert_true (dv_message_kind (messages[index], sizes[index]) > 0);
        for (uint8_t verb = 0; verb <= 1; verb++) {
            uint8_t subscription[3] = {verb, messages[index][0], messages[index][1]};
            assert_true (dv_subscription_is_control (subscription, sizeof subscription));
            s_check_fits ("a subscription", sizeof subscription, "control (sink)",
                          DV_SUBSCRIPTION_CAP);
        }
    }
}

//  Anything else is refused: the kinds the sink does not publish on control,
//  another version, other lengths (the empty topic too), other first bytes.
static void
test_other_subscriptions_refused (void **state)
{
    (void) state;
    const dv_kind_t others[] = {
        DV_KIND_ANNOUNCE,    DV_KIND_TASKS,  DV_KIND_RESULTS, DV_KIND_WANT, 0, 10, 255,
        DV_KIND_RANGE_TASKS, DV_KIND_SQUARES};
    for (size_t index = 0; index < sizeof others / sizeof others[0]; index++) {
        uint8_t subscription[3] = {1, DV_PROTOCOL_VERSION, (uint8_t) others[index]};
        assert_false (dv_subscription_is_control (subscription, sizeof subscription));
    }
    uint8_t topic[2];
    dv_topic (DV_KIND_HEARTBEAT, topic);
    const uint8_t v1[3] = {1, 1, DV_KIND_HEARTBEAT};
    const uint8_t verb[3] = {2, topic[0], topic[1]};
    const uint8_t empty[1] = {1};
    const uint8_t short_topic[2] = {1, topic[0]};
    const uint8_t long_topic[4] = {1, topic[0], topic[1], 0};
    assert_false (dv_subscription_is_control (v1, sizeof v1));
    assert_false (dv_subscription_is_control (verb, sizeof verb));
    assert_false (dv_subscription_is_control (empty, sizeof empty));
    assert_false (dv_subscription_is_control (empty, 0));
    assert_false (dv_subscription_is_control (short_topic, sizeof short_topic));
    assert_false (dv_subscription_is_control (long_topic, sizeof long_topic));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_caps_at_least_the_minimum),
        cmocka_unit_test (test_control_messages_fit),
        cmocka_unit_test (test_subscription_fits),
        cmocka_unit_test (test_want_fits),
        cmocka_unit_test (test_tasks_fit),
        cmocka_unit_test (test_results_and_announce_fit),
        cmocka_unit_test (test_squares_fit),
        cmocka_unit_test (test_results_hwm_fits_the_budget),
        cmocka_unit_test (test_control_topics_taken),
        cmocka_unit_test (test_other_subscriptions_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
