/*  ceiling.c: the raw libzmq ceiling divvy's benchmark compares with.

    One node of a PUSH -> W relays -> PULL pipeline that does no work; the
    bench (bench/divvy-bench) starts a sink, W relays and a source, each a
    process of its own like divvy's roles, and times the run from the
    source's first send to the sink's last receive (CLOCK_MONOTONIC, which
    every process on the host shares).

        divvy-ceiling sink   --results EP --messages M [--timeout S]
        divvy-ceiling relay  --tasks EP --results EP --values K [--shape S]
        divvy-ceiling source --tasks EP --messages M --values K --workers W
                             [--shape S]

    --shape values (the reference, the default): K 8-byte values
    per message on both hops. --shape divvy: messages the size of divvy's
    for a range job's batches of K tasks, the bench's jobs (lib/protocol.h:
    RANGE_TASKS down, SQUARES of 8 bytes up). Sockets come from
    lib/net.c (dv_socket_new: the same endpoints, options and heartbeats as
    divvy's), with divvy's high-water marks on each hop.

    The sink binds results, prints "done NS COUNT" at its last message and
    exits (1 on --timeout). The source binds tasks, waits until W relays
    have connected (a socket monitor), prints "start NS" and sends; source
    and relays then run until the bench ends them with SIGTERM.
*/
#include "log.h"
#include "net.h"
#include "protocol.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_WORKER_ID_LENGTH 8 //  bench-w1 .. bench-w8, as divvy-bench names them
#define S_MONITOR          "inproc://ceiling-monitor"

typedef struct {
    const char *tasks;
    const char *results;
    uint64_t messages;
    uint64_t values;
    int workers;
    bool divvy_shape;
    int timeout_s;
} s_options_t;

static int64_t
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

static int
s_fail (const char *what)
{
    fprintf (stderr, "divvy-ceiling: %s: %s\n", what, zmq_strerror (zmq_errno ()));
    return 1;
}

static size_t
s_task_bytes (const s_options_t *options)
{
    return options->divvy_shape ? DV_RANGE_TASKS_SIZE
                                : (size_t) options->values * DV_TASK_SIZE;
}

static size_t
s_result_bytes (const s_options_t *options)
{
    return options->divvy_shape ? DV_SQUARES_SIZE (options->values, S_WORKER_ID_LENGTH, 8)
                                : (size_t) options->values * DV_TASK_SIZE;
}

static int
s_sink (const s_options_t *options)
{
    const dv_socket_config_t config = {.receive_hwm = DV_RESULTS_HWM};
    zsock_t *results =
        dv_socket_new (ZMQ_PULL, DV_FLOW_RESULTS, options->results, true, &config);
    if (!results)
        return 1;
    zsock_set_rcvtimeo (results, options->timeout_s * 1000);
    zmq_msg_t message;
    zmq_msg_init (&message);
    uint64_t count = 0;
    while (count < options->messages &&
           zmq_msg_recv (&message, zsock_resolve (results), 0) >= 0)
        count++;
    int64_t done_ns = s_now_ns ();
    zmq_msg_close (&message);
    if (count < options->messages) {
        fprintf (stderr, "divvy-ceiling: sink: %" PRIu64 " of %" PRIu64 " messages: %s\n",
                 count, options->messages, zmq_strerror (zmq_errno ()));
        return 1;
    }
    printf ("done %" PRId64 " %" PRIu64 "\n", done_ns, count);
    fflush (stdout);
    zsock_set_linger (results, 0);
    dv_socket_destroy (&results, options->results, true);
    return 0;
}

static int
s_relay (const s_options_t *options)
{
    const dv_socket_config_t tasks_config = {.receive_hwm = DV_HWM_DEFAULT};
    const dv_socket_config_t results_config = {.send_hwm = DV_HWM_DEFAULT};
    zsock_t *tasks =
        dv_socket_new (ZMQ_PULL, DV_FLOW_TASKS, options->tasks, false, &tasks_config);
    zsock_t *results = dv_socket_new (ZMQ_PUSH, DV_FLOW_RESULTS, options->results, false,
                                      &results_config);
    char *reply = calloc (1, s_result_bytes (options));
    if (!tasks || !results || !reply)
        return 1;
    zmq_msg_t message;
    zmq_msg_init (&message);
    while (zmq_msg_recv (&message, zsock_resolve (tasks), 0) >= 0)
        if (zmq_send (zsock_resolve (results), reply, s_result_bytes (options), 0) < 0)
            break;
    return s_fail ("relay");
}

static int
s_source (const s_options_t *options)
{
    const dv_socket_config_t config = {.send_hwm = DV_HWM_DEFAULT};
    zsock_t *tasks = dv_socket_open (ZMQ_PUSH, DV_FLOW_TASKS, &config);
    //  PUSH deals only to the peers it has: start once all W are in.
    if (!tasks ||
        zmq_socket_monitor (zsock_resolve (tasks), S_MONITOR,
                            ZMQ_EVENT_HANDSHAKE_SUCCEEDED) ||
        dv_socket_attach (tasks, DV_FLOW_TASKS, options->tasks, true))
        return 1;
    void *monitor = zmq_socket (zsys_init (), ZMQ_PAIR);
    zmq_setsockopt (monitor, ZMQ_RCVTIMEO, &(int){options->timeout_s * 1000},
                    sizeof (int));
    if (zmq_connect (monitor, S_MONITOR))
        return s_fail ("monitor");
    for (int connected = 0; connected < options->workers;) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, monitor, 0) < 0)
            return s_fail ("waiting for the relays");
        if (!zmq_msg_more (&frame))
            connected++; //  the event's second (last) frame
        zmq_msg_close (&frame);
    }
    size_t size = s_task_bytes (options);
    char *batch = calloc (1, size);
    if (!batch)
        return 1;
    printf ("start %" PRId64 "\n", s_now_ns ());
    fflush (stdout);
    for (uint64_t sent = 0; sent < options->messages; sent++)
        if (zmq_send (zsock_resolve (tasks), batch, size, 0) < 0)
            return s_fail ("source");
    pause (); //  until SIGTERM: closing might drop what is queued
    return 0;
}

int
main (int argc, char **argv)
{
    s_options_t options = {.values = 1, .workers = 1, .timeout_s = 60};
    const struct option table[] = {
        {"tasks", required_argument, NULL, 't'},
        {"results", required_argument, NULL, 'r'},
        {"messages", required_argument, NULL, 'm'},
        {"values", required_argument, NULL, 'k'},
        {"workers", required_argument, NULL, 'w'},
        {"shape", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    const char *role = argc > 1 ? argv[1] : "";
    int option;
    while ((option = getopt_long (argc - 1, argv + 1, "", table, NULL)) != -1) {
        if (option == 't')
            options.tasks = optarg;
        else if (option == 'r')
            options.results = optarg;
        else if (option == 'm')
            options.messages = strtoull (optarg, NULL, 10);
        else if (option == 'k')
            options.values = strtoull (optarg, NULL, 10);
        else if (option == 'w')
            options.workers = atoi (optarg);
        else if (option == 's')
            options.divvy_shape = !strcmp (optarg, "divvy");
        else if (option == 'T')
            options.timeout_s = atoi (optarg);
        else
            return 2;
    }
    dv_log_set_program ("divvy-ceiling");
    zsys_handler_set (NULL); //  SIGTERM ends a node at once, as it should
    zsys_init ();
    zsys_set_logstream (stderr); //  stdout carries the timings
    bool ok = options.values >= 1 && options.values <= DV_BATCH_MAX &&
              options.workers >= 1 && options.timeout_s >= 1;
    if (ok && !strcmp (role, "sink") && options.results && options.messages)
        return s_sink (&options);
    if (ok && !strcmp (role, "relay") && options.tasks && options.results)
        return s_relay (&options);
    if (ok && !strcmp (role, "source") && options.tasks && options.messages)
        return s_source (&options);
    fprintf (stderr, "usage: see the top of bench/ceiling.c (sink, relay, source)\n");
    return 2;
}
