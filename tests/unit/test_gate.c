/*  test_gate.c: the start gate counts workers that completed a handshake,
    and nothing else.

    libzmq 4.3.4 reports ZMQ_EVENT_DISCONNECTED after a failed handshake
    too: a raw TCP (or AF_UNIX) connect-and-close, a port scan. Each test
    binds a ROUTER through the gate, connects real DEALER peers and makes
    raw connect-and-close probes with plain POSIX sockets, and checks
    dv_gate_connected exactly. Waits poll the gate's monitor with a bounded
    deadline; nothing sleeps.

    The probes come first and a sentinel DEALER after them: the count must
    reach "peers + sentinel" exactly. With "handshakes minus disconnects" it
    never does (each probe takes one off), so the wait times out.
*/
#include "gate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

//  Limits, not speeds: a good run is far below them.
#define S_WAIT_MS  5000
#define S_QUIET_MS 300
#define S_PROBES   5

//  Polls the gate's monitor until it counts expected workers or S_WAIT_MS
//  pass. Returns the count it ended on.
static int64_t
s_wait_connected (dv_gate_t *gate, int64_t expected)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (dv_gate_connected (gate) != expected && zclock_mono () < deadline) {
        zmq_pollitem_t item = {zsock_resolve (dv_gate_monitor (gate)), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 50) > 0)
            dv_gate_on_event (gate);
    }
    return dv_gate_connected (gate);
}

//  Handles every event that comes within S_QUIET_MS and checks that the
//  count never moves from expected: late events change nothing.
static void
s_check_stays (dv_gate_t *gate, int64_t expected)
{
    int64_t deadline = zclock_mono () + S_QUIET_MS;
    while (zclock_mono () < deadline) {
        zmq_pollitem_t item = {zsock_resolve (dv_gate_monitor (gate)), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 20) > 0)
            dv_gate_on_event (gate);
        assert_int_equal (dv_gate_connected (gate), expected);
    }
}

//  Connects a raw socket to address and closes it at once: no ZMTP at all.
static void
s_probe (const struct sockaddr *address, socklen_t size)
{
    int fd = socket (address->sa_family, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    assert_int_equal (connect (fd, address, size), 0);
    close (fd);
}

typedef struct {
    struct sockaddr_storage address;
    socklen_t size;
} s_target_t;

static void
s_target_of (const char *endpoint, s_target_t *target)
{
    memset (target, 0, sizeof *target);
    if (!strncmp (endpoint, "tcp://", 6)) {
        struct sockaddr_in *in = (struct sockaddr_in *) &target->address;
        const char *colon = strrchr (endpoint, ':');
        assert_non_null (colon);
        in->sin_family = AF_INET;
        in->sin_port = htons ((uint16_t) atoi (colon + 1));
        in->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        target->size = sizeof *in;
    } else {
        struct sockaddr_un *un = (struct sockaddr_un *) &target->address;
        assert_true (!strncmp (endpoint, "ipc://", 6));
        assert_true (strlen (endpoint + 6) < sizeof un->sun_path);
        un->sun_family = AF_UNIX;
        strcpy (un->sun_path, endpoint + 6);
        target->size = sizeof *un;
    }
}

//  Two workers, probes before, between and after them, a sentinel, a worker
//  leaving: the count is exact at every step.
static void
s_run (const char *bind_endpoint)
{
    zsock_t *tasks = zsock_new (ZMQ_ROUTER);
    assert_non_null (tasks);
    dv_gate_t *gate = dv_gate_new (tasks, "2");
    assert_non_null (gate);
    assert_true (zsock_bind (tasks, "%s", bind_endpoint) >= 0);
    char *endpoint = zsock_last_endpoint (tasks);
    assert_non_null (endpoint);
    s_target_t target;
    s_target_of (endpoint, &target);
    const struct sockaddr *address = (const struct sockaddr *) &target.address;

    for (int probe = 0; probe < S_PROBES; probe++)
        s_probe (address, target.size);
    zsock_t *first = zsock_new_dealer (endpoint);
    assert_non_null (first);
    assert_int_equal (s_wait_connected (gate, 1), 1);
    for (int probe = 0; probe < S_PROBES; probe++)
        s_probe (address, target.size);
    zsock_t *second = zsock_new_dealer (endpoint);
    assert_non_null (second);
    assert_int_equal (s_wait_connected (gate, 2), 2);
    for (int probe = 0; probe < S_PROBES; probe++)
        s_probe (address, target.size);
    zsock_t *sentinel = zsock_new_dealer (endpoint);
    assert_non_null (sentinel);
    assert_int_equal (s_wait_connected (gate, 3), 3);
    s_check_stays (gate, 3);

    //  A real worker leaving does count.
    zsock_destroy (&sentinel);
    assert_int_equal (s_wait_connected (gate, 2), 2);
    for (int probe = 0; probe < S_PROBES; probe++)
        s_probe (address, target.size);
    s_check_stays (gate, 2);

    zsock_destroy (&first);
    zsock_destroy (&second);
    assert_int_equal (s_wait_connected (gate, 0), 0);
    dv_gate_destroy (&gate);
    assert_null (gate);
    zsock_destroy (&tasks);
    if (!strncmp (endpoint, "ipc://", 6))
        unlink (endpoint + 6);
    zstr_free (&endpoint);
}

static void
test_probes_tcp (void **state)
{
    (void) state;
    s_run ("tcp://127.0.0.1:*");
}

static void
test_probes_ipc (void **state)
{
    (void) state;
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "ipc:///tmp/dv-test-gate-%d", (int) getpid ());
    s_run (endpoint);
}

//  Many probes at once, with no worker: the count stays at 0 and never
//  wraps; then one worker counts as one.
static void
test_probe_burst (void **state)
{
    (void) state;
    zsock_t *tasks = zsock_new (ZMQ_ROUTER);
    dv_gate_t *gate = dv_gate_new (tasks, "1");
    assert_non_null (gate);
    assert_true (zsock_bind (tasks, "tcp://127.0.0.1:*") >= 0);
    char *endpoint = zsock_last_endpoint (tasks);
    s_target_t target;
    s_target_of (endpoint, &target);
    for (int probe = 0; probe < 50; probe++)
        s_probe ((const struct sockaddr *) &target.address, target.size);
    zsock_t *worker = zsock_new_dealer (endpoint);
    assert_int_equal (s_wait_connected (gate, 1), 1);
    s_check_stays (gate, 1);
    zsock_destroy (&worker);
    assert_int_equal (s_wait_connected (gate, 0), 0);
    dv_gate_destroy (&gate);
    zsock_destroy (&tasks);
    zstr_free (&endpoint);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_probes_tcp),
        cmocka_unit_test (test_probes_ipc),
        cmocka_unit_test (test_probe_burst),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
