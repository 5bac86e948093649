/*  test_dispatch_mode.c: unit tests for lib/dispatch_mode.h: --dispatch,
    the task sockets' types and limits, and the refusal watch, first on
    event sequences, then against libzmq itself over loopback tcp (what the
    watch relies on: a socket-type refusal closes the connection with no
    HANDSHAKE_FAILED_* event, and libzmq does not try again).
*/
#include "dispatch_mode.h"
#include "clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void
test_parse (void **state)
{
    (void) state;
    dv_dispatch_mode_t mode = DV_DISPATCH_PUSH;
    assert_int_equal (dv_dispatch_mode_parse ("credit", &mode), 0);
    assert_int_equal (mode, DV_DISPATCH_CREDIT);
    assert_int_equal (dv_dispatch_mode_parse ("push", &mode), 0);
    assert_int_equal (mode, DV_DISPATCH_PUSH);
    assert_int_equal (dv_dispatch_mode_parse ("PUSH", &mode), -1);
    assert_int_equal (dv_dispatch_mode_parse ("", &mode), -1);
    assert_int_equal (dv_dispatch_mode_parse ("pushy", &mode), -1);
    assert_string_equal (dv_dispatch_mode_name (DV_DISPATCH_CREDIT), "credit");
    assert_string_equal (dv_dispatch_mode_name (DV_DISPATCH_PUSH), "push");
    assert_string_equal (dv_dispatch_mode_name (DV_DISPATCH_DEFAULT),
                         DV_DISPATCH_DEFAULT_TEXT);
    assert_int_equal (dv_dispatch_mode_other (DV_DISPATCH_PUSH), DV_DISPATCH_CREDIT);
    assert_int_equal (dv_dispatch_mode_other (DV_DISPATCH_CREDIT), DV_DISPATCH_PUSH);
}

static void
test_sockets (void **state)
{
    (void) state;
    assert_int_equal (dv_dispatch_socket_type (DV_DISPATCH_CREDIT, true), ZMQ_ROUTER);
    assert_int_equal (dv_dispatch_socket_type (DV_DISPATCH_CREDIT, false), ZMQ_DEALER);
    assert_int_equal (dv_dispatch_socket_type (DV_DISPATCH_PUSH, true), ZMQ_PUSH);
    assert_int_equal (dv_dispatch_socket_type (DV_DISPATCH_PUSH, false), ZMQ_PULL);
    dv_socket_config_t config = {0};
    dv_dispatch_socket_limits (DV_DISPATCH_CREDIT, true, &config);
    dv_dispatch_socket_limits (DV_DISPATCH_CREDIT, false, &config);
    assert_int_equal (config.send_hwm, 0); //  credit: no mark binds first
    assert_int_equal (config.receive_hwm, 0);
    assert_int_equal (config.send_buffer, 0);
    assert_int_equal (config.receive_buffer, 0);
    dv_dispatch_socket_limits (DV_DISPATCH_PUSH, true, &config);
    assert_int_equal (config.send_hwm, DV_PUSH_HWM);
    assert_int_equal (config.send_buffer, DV_PUSH_KERNEL_BUFFER);
    assert_int_equal (config.receive_hwm, 0);
    config = (dv_socket_config_t){0};
    dv_dispatch_socket_limits (DV_DISPATCH_PUSH, false, &config);
    assert_int_equal (config.receive_hwm, DV_PUSH_HWM);
    assert_int_equal (config.receive_buffer, 0); //  the system's: see net.h
    assert_int_equal (config.send_hwm, 0);
}

//  Feeds events, all at now_ms.
static void
s_feed (dv_tasks_watch_t *watch, const uint16_t *events, size_t count, int64_t now_ms)
{
    for (size_t index = 0; index < count; index++)
        dv_tasks_watch_event (watch, events[index], now_ms);
}

static void
test_watch_refusal (void **state)
{
    (void) state;
    //  As measured: a PULL against a ROUTER (or DEALER against PUSH).
    const uint16_t refused[] = {ZMQ_EVENT_CONNECT_DELAYED, ZMQ_EVENT_CONNECTED,
                                ZMQ_EVENT_DISCONNECTED};
    dv_tasks_watch_t watch = {0};
    assert_false (dv_tasks_watch_refused (&watch, 5000));
    s_feed (&watch, refused, 3, 1000);
    assert_false (dv_tasks_watch_refused (&watch, 1000));
    assert_false (dv_tasks_watch_refused (&watch, 1000 + DV_TASKS_REFUSED_AFTER_MS - 1));
    assert_true (dv_tasks_watch_refused (&watch, 1000 + DV_TASKS_REFUSED_AFTER_MS));
    //  At time 0 too (a clock that starts there).
    watch = (dv_tasks_watch_t){0};
    s_feed (&watch, refused, 3, 0);
    assert_true (dv_tasks_watch_refused (&watch, DV_TASKS_REFUSED_AFTER_MS));
}

static void
test_watch_not_refused (void **state)
{
    (void) state;
    dv_tasks_watch_t watch = {0};
    //  A retry after the close: the peer went away, libzmq has not given up.
    const uint16_t retried[] = {ZMQ_EVENT_CONNECTED, ZMQ_EVENT_DISCONNECTED,
                                ZMQ_EVENT_CONNECT_RETRIED};
    s_feed (&watch, retried, 3, 1000);
    assert_false (dv_tasks_watch_refused (&watch, 100000));
    //  A reason given (CURVE): not a socket type.
    const uint16_t failed[] = {ZMQ_EVENT_CONNECTED, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
                               ZMQ_EVENT_DISCONNECTED};
    watch = (dv_tasks_watch_t){0};
    s_feed (&watch, failed, 3, 1000);
    assert_false (dv_tasks_watch_refused (&watch, 100000));
    const uint16_t protocol[] = {ZMQ_EVENT_CONNECTED, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                 ZMQ_EVENT_DISCONNECTED};
    watch = (dv_tasks_watch_t){0};
    s_feed (&watch, protocol, 3, 1000);
    assert_false (dv_tasks_watch_refused (&watch, 100000));
    //  A handshaken connection that closes: the ventilator stopped.
    const uint16_t closed[] = {ZMQ_EVENT_CONNECTED, ZMQ_EVENT_HANDSHAKE_SUCCEEDED,
                               ZMQ_EVENT_DISCONNECTED};
    watch = (dv_tasks_watch_t){0};
    s_feed (&watch, closed, 3, 1000);
    assert_false (dv_tasks_watch_refused (&watch, 100000));
    //  Once the modes agreed, a later silent close is no refusal either.
    const uint16_t later[] = {ZMQ_EVENT_CONNECT_RETRIED, ZMQ_EVENT_CONNECTED,
                              ZMQ_EVENT_DISCONNECTED};
    s_feed (&watch, later, 3, 2000);
    assert_false (dv_tasks_watch_refused (&watch, 100000));
    //  Two connections: the handshaken one stays, the other closes silently.
    const uint16_t two[] = {ZMQ_EVENT_CONNECTED, ZMQ_EVENT_CONNECTED,
                            ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ZMQ_EVENT_DISCONNECTED};
    watch = (dv_tasks_watch_t){0};
    s_feed (&watch, two, 4, 1000);
    assert_false (dv_tasks_watch_refused (&watch, 100000));
}

//  Connects a socket of worker_type to a binder of ventilator_type over
//  loopback tcp and feeds the watch the connector's monitor events for up to
//  3 s, or until refused or handshaken. Returns whether the watch said refused.
static bool
s_watch_real (int ventilator_type, int worker_type)
{
    zsock_t *binder = zsock_new (ventilator_type);
    zsock_t *connector = zsock_new (worker_type);
    assert_non_null (binder);
    assert_non_null (connector);
    static int calls;
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://test-watch-%d", calls++);
    assert_int_equal (
        zmq_socket_monitor (zsock_resolve (connector), endpoint, ZMQ_EVENT_ALL), 0);
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    assert_non_null (monitor);
    assert_int_equal (zsock_connect (monitor, "%s", endpoint), 0);
    assert_non_null (monitor);
    int port = zsock_bind (binder, "tcp://127.0.0.1:*");
    assert_true (port > 0);
    assert_int_equal (zsock_connect (connector, "tcp://127.0.0.1:%d", port), 0);
    dv_tasks_watch_t watch = {0};
    int64_t until = dv_now_ms () + 3000;
    bool refused = false;
    while (!refused && !watch.ever_handshaken && dv_now_ms () < until) {
        zmq_pollitem_t item = {zsock_resolve (monitor), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 50) > 0) {
            zmsg_t *event = zmsg_recv (monitor);
            assert_non_null (event);
            uint16_t number;
            memcpy (&number, zframe_data (zmsg_first (event)), 2);
            dv_tasks_watch_event (&watch, number, dv_now_ms ());
            zmsg_destroy (&event);
        }
        refused = dv_tasks_watch_refused (&watch, dv_now_ms ());
    }
    zmq_socket_monitor (zsock_resolve (connector), NULL, 0);
    zsock_destroy (&monitor);
    zsock_destroy (&connector);
    zsock_destroy (&binder);
    return refused;
}

static void
test_watch_libzmq (void **state)
{
    (void) state;
    assert_true (s_watch_real (ZMQ_ROUTER, ZMQ_PULL)); //  credit ventilator, push worker
    assert_true (s_watch_real (ZMQ_PUSH, ZMQ_DEALER)); //  push ventilator, credit worker
    assert_false (s_watch_real (ZMQ_PUSH, ZMQ_PULL));
    assert_false (s_watch_real (ZMQ_ROUTER, ZMQ_DEALER));
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse),         cmocka_unit_test (test_sockets),
        cmocka_unit_test (test_watch_refusal), cmocka_unit_test (test_watch_not_refused),
        cmocka_unit_test (test_watch_libzmq),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
