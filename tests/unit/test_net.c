/*  test_net.c: unit tests for dv_endpoint_check in lib/net.h.

    A table of endpoints libzmq takes and should (they must pass) and of
    endpoints it takes wrongly or blames on the network (they must fail, with
    a reason). Each row says whether it binds or connects; the "both" rows are
    checked both ways. Pure: no socket is opened.
*/
#include "net.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

typedef enum { S_BIND, S_CONNECT, S_BOTH } s_side_t;

typedef struct {
    const char *endpoint;
    s_side_t side;
} s_row_t;

static const s_row_t s_good[] = {
    {"tcp://127.0.0.1:5558", S_BOTH},
    {"tcp://127.0.0.1:1", S_BOTH},
    {"tcp://127.0.0.1:65535", S_BOTH},
    {"tcp://127.0.0.1:05558", S_BOTH}, //  atoi-style leading zeros: still 5558
    {"tcp://127.0.0.1:*", S_BIND},     //  an ephemeral port
    {"tcp://*:5557", S_BIND},
    {"tcp://*:*", S_BIND},
    {"tcp://0.0.0.0:5557", S_BOTH},
    {"tcp://255.255.255.255:5557", S_BOTH},
    {"tcp://localhost:5558", S_BOTH},
    {"tcp://sink:5558", S_BOTH},
    {"tcp://divvy-sink.default.svc.cluster.local:5558", S_BOTH},
    {"tcp://eth0:5557", S_BIND}, //  an interface name
    {"tcp://lo:*", S_BIND},
    {"tcp://[::1]:5558", S_BOTH},
    {"tcp://[::]:5558", S_BOTH},
    {"tcp://[fe80::1%eth0]:5558", S_BOTH},
    {"tcp://[fe80::1%2]:5558", S_BOTH},
    {"tcp://[::ffff:127.0.0.1]:5558", S_BOTH},
    {"tcp://[127.0.0.1]:5558", S_BOTH}, //  libzmq strips the brackets
    {"tcp://::1:5558", S_BOTH},         //  unbracketed: libzmq splits at the last ':'
    {"tcp://127.0.0.1:0;127.0.0.1:5558", S_CONNECT}, //  a source address
    {"tcp://127.0.0.1:*;localhost:5558", S_CONNECT},
    {"tcp://eth0:40000;sink:5558", S_CONNECT},
    {"tcp://[::1]:0;[::1]:5558", S_CONNECT},
    {"ipc:///tmp/divvy/results", S_BOTH}, //  other transports: libzmq's to check
    {"ipc://@divvy", S_BOTH},
    {"inproc://x", S_BOTH},
    {"ws://127.0.0.1:5558/path", S_BOTH},
};

static const s_row_t s_bad[] = {
    {"tcp://127.0.0.1:87093", S_BOTH}, //  libzmq binds 21557
    {"tcp://127.0.0.1:65536", S_BOTH}, //  libzmq binds 0: an ephemeral port
    {"tcp://127.0.0.1:99999999999999999999", S_BOTH},
    {"tcp://127.0.0.1:0", S_BOTH}, //  write '*' for any port
    {"tcp://127.0.0.1:00", S_BOTH},
    {"tcp://127.0.0.1:-1", S_BOTH}, //  libzmq binds 65535
    {"tcp://127.0.0.1:+5558", S_BOTH},
    {"tcp://127.0.0.1:5558x", S_BOTH}, //  libzmq reads 5558
    {"tcp://127.0.0.1:5558/path", S_BOTH},
    {"tcp://127.0.0.1: 5558", S_BOTH},
    {"tcp://127.0.0.1:", S_BOTH},
    {"tcp://127.0.0.1", S_BOTH},
    {"tcp://", S_BOTH},
    {"tcp://127.0.0.1:*", S_CONNECT},
    {"tcp://*:5558", S_CONNECT},
    {"tcp://:5558", S_BOTH},
    {"tcp://256.1.1.1:5558", S_BOTH},
    {"tcp://1.2.3.256:5558", S_BOTH},
    {"tcp://1.2.3:5558", S_BOTH}, //  libc would read 1.2.0.3
    {"tcp://127.1:5558", S_BOTH},
    {"tcp://2130706433:5558", S_BOTH},
    {"tcp://1.2.3.4.5:5558", S_BOTH},
    {"tcp://1..3.4:5558", S_BOTH},
    {"tcp://1.2.3.4.:5558", S_BOTH},
    {"tcp://.1.2.3:5558", S_BOTH},
    {"tcp://1.2.3.0004:5558", S_BOTH},
    {"tcp://[::1:5558", S_BOTH},
    {"tcp://::1]:5558", S_BOTH},
    {"tcp://[]:5558", S_BOTH},
    {"tcp://[1::2::3]:5558", S_BOTH},
    {"tcp://[::g]:5558", S_BOTH},
    {"tcp://[fe80::1%]:5558", S_BOTH},
    {"tcp://[::1]x:5558", S_BOTH},
    {"tcp://256.0.0.1:0;127.0.0.1:5558", S_CONNECT},
    {"tcp://127.0.0.1:70000;127.0.0.1:5558", S_CONNECT},
    {"tcp://127.0.0.1:0;127.0.0.1:0", S_CONNECT},
    {"tcp://;127.0.0.1:5558", S_CONNECT},
};

static void
s_check_rows (const s_row_t *rows, size_t count, bool good)
{
    for (size_t index = 0; index < count; index++)
        for (int binds = 0; binds < 2; binds++) {
            if (rows[index].side != S_BOTH && (rows[index].side == S_BIND) != binds)
                continue;
            const char *reason = dv_endpoint_check (rows[index].endpoint, binds);
            if ((reason == NULL) != good)
                fail_msg ("%s '%s' (%s): %s", good ? "refused" : "accepted",
                          rows[index].endpoint, binds ? "bind" : "connect",
                          reason ? reason : "no reason");
            if (reason)
                assert_true (strlen (reason) > 0);
        }
}

static void
test_good_endpoints_pass (void **state)
{
    (void) state;
    s_check_rows (s_good, sizeof s_good / sizeof s_good[0], true);
}

static void
test_bad_endpoints_fail (void **state)
{
    (void) state;
    s_check_rows (s_bad, sizeof s_bad / sizeof s_bad[0], false);
}

//  Every port from 0 to 70000 against the rule, bind and connect.
static void
test_every_port (void **state)
{
    (void) state;
    char endpoint[64];
    for (int port = 0; port <= 70000; port++) {
        snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
        bool expected = port >= 1 && port <= 65535;
        assert_int_equal (dv_endpoint_check (endpoint, true) == NULL, expected);
        assert_int_equal (dv_endpoint_check (endpoint, false) == NULL, expected);
    }
}

//  Every octet value in each position of a dotted quad.
static void
test_every_octet (void **state)
{
    (void) state;
    char endpoint[64];
    for (int position = 0; position < 4; position++)
        for (int value = 0; value <= 999; value++) {
            int octets[4] = {10, 20, 30, 40};
            octets[position] = value;
            snprintf (endpoint, sizeof endpoint, "tcp://%d.%d.%d.%d:5558", octets[0],
                      octets[1], octets[2], octets[3]);
            assert_int_equal (dv_endpoint_check (endpoint, false) == NULL, value <= 255);
        }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_good_endpoints_pass),
        cmocka_unit_test (test_bad_endpoints_fail),
        cmocka_unit_test (test_every_port),
        cmocka_unit_test (test_every_octet),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
