/*  divvy-greedy: a greedy fake worker for the hostile tests.

    It connects to the ventilator's task socket like a worker, asks for the
    most credit a WANT may carry (a reset WANT, restated every --every-ms),
    and never does the work: it drops every batch it gets, or, with
    --results, answers each one with RESULTS whose squares are all off by one
    (the sink drops them as malformed). It listens to the sink's control
    socket and exits 0 on the job's KILL (or a done heartbeat); it gives up
    after --seconds and exits 1, so it always stops by itself.

      divvy-greedy --tasks EP --control EP [--results EP] [--id NAME]
                   [--want BATCHES] [--every-ms MS] [--seconds S]

    On exit it prints one line on stdout:
      "greedy NAME batches B tasks T wants W results R ended kill|time"
    (results: RESULTS messages that left its socket; the sink counts each
    one that arrived before the job's end as malformed).
*/
#include "protocol.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "clock.h"

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int number)
{
    (void) number;
    s_stop = 1;
}

typedef struct {
    const char *id;
    void *tasks;   //  DEALER to the ventilator
    void *control; //  SUB to the sink
    void *results; //  PUSH to the sink, or NULL: drop every batch
    uint8_t *result_buffer;
    uint64_t batches, tasks_taken, wants, results_sent;
} s_greedy_t;

static void
s_want (s_greedy_t *self, uint32_t batches)
{
    dv_want_t want = {.batches = batches, .is_reset = true};
    uint8_t buffer[DV_WANT_SIZE];
    if (zmq_send (self->tasks, buffer, dv_want_encode (&want, buffer), ZMQ_DONTWAIT) >= 0)
        self->wants++;
}

//  Takes one batch: drops it, or answers it with wrong squares.
static void
s_on_tasks (s_greedy_t *self, const uint8_t *data, size_t size)
{
    dv_tasks_t tasks;
    if (dv_tasks_decode (data, size, &tasks))
        return;
    self->batches++;
    self->tasks_taken += tasks.count;
    if (!self->results)
        return;
    size_t id_length = strlen (self->id);
    size_t message_size =
        dv_results_encode_header (tasks.job_id, tasks.first_task, tasks.count, tasks.tag,
                                  self->id, id_length, self->result_buffer);
    uint8_t *entries = dv_results_entries (self->result_buffer, id_length);
    for (uint32_t index = 0; index < tasks.count; index++) {
        int64_t value = dv_tasks_value (&tasks, index);
        dv_results_put_entry (entries, index, value, dv_square (value) + 1);
    }
    if (zmq_send (self->results, self->result_buffer, message_size, ZMQ_DONTWAIT) >= 0)
        self->results_sent++;
}

//  True once the sink says the job is over.
static bool
s_on_control (const uint8_t *data, size_t size)
{
    dv_kill_t kill;
    dv_heartbeat_t heartbeat;
    switch (dv_message_kind (data, size)) {
        case DV_KIND_KILL:
            return dv_kill_decode (data, size, &kill) == 0;
        case DV_KIND_HEARTBEAT:
            return dv_heartbeat_decode (data, size, &heartbeat) == 0 &&
                   (heartbeat.state == DV_STATE_DONE ||
                    heartbeat.state == DV_STATE_ABANDONED);
        default:
            return false;
    }
}

static void *
s_socket (void *context, int type, const char *endpoint)
{
    void *socket = zmq_socket (context, type);
    int linger = 1000;
    zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger);
    if (type == ZMQ_SUB) {
        uint8_t topic[2];
        dv_topic (DV_KIND_KILL, topic);
        zmq_setsockopt (socket, ZMQ_SUBSCRIBE, topic, 2);
        dv_topic (DV_KIND_HEARTBEAT, topic);
        zmq_setsockopt (socket, ZMQ_SUBSCRIBE, topic, 2);
    }
    if (zmq_connect (socket, endpoint)) {
        fprintf (stderr, "divvy-greedy: cannot connect to %s: %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        zmq_close (socket);
        return NULL;
    }
    return socket;
}

int
main (int argc, char **argv)
{
    const char *tasks_endpoint = NULL, *control_endpoint = NULL, *results_endpoint = NULL;
    s_greedy_t self = {.id = "greedy"};
    long want = DV_WANT_BATCHES_MAX, every_ms = 500, seconds = 60;
    const struct option options[] = {
        {"tasks", required_argument, NULL, 't'},
        {"control", required_argument, NULL, 'c'},
        {"results", required_argument, NULL, 'r'},
        {"id", required_argument, NULL, 'i'},
        {"want", required_argument, NULL, 'w'},
        {"every-ms", required_argument, NULL, 'e'},
        {"seconds", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    for (int option; (option = getopt_long (argc, argv, "", options, NULL)) != -1;) {
        switch (option) {
            case 't':
                tasks_endpoint = optarg;
                break;
            case 'c':
                control_endpoint = optarg;
                break;
            case 'r':
                results_endpoint = optarg;
                break;
            case 'i':
                self.id = optarg;
                break;
            case 'w':
                want = atol (optarg);
                break;
            case 'e':
                every_ms = atol (optarg);
                break;
            case 's':
                seconds = atol (optarg);
                break;
            default:
                return 2;
        }
    }
    if (!tasks_endpoint || !control_endpoint || optind != argc || want < 1 ||
        want > DV_WANT_BATCHES_MAX || every_ms < 1 || seconds < 1 ||
        !dv_worker_id_valid (self.id, strlen (self.id))) {
        fprintf (stderr, "usage: divvy-greedy --tasks EP --control EP [--results EP] "
                         "[--id NAME] [--want 1..65536] [--every-ms MS] [--seconds S]\n");
        return 2;
    }
    struct sigaction action = {.sa_handler = s_on_signal};
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);

    void *context = zmq_ctx_new ();
    self.tasks = s_socket (context, ZMQ_DEALER, tasks_endpoint);
    self.control = s_socket (context, ZMQ_SUB, control_endpoint);
    if (results_endpoint) {
        self.results = s_socket (context, ZMQ_PUSH, results_endpoint);
        self.result_buffer = malloc (DV_RESULTS_SIZE (DV_BATCH_MAX, strlen (self.id)));
    }
    int exit_code = 1;
    if (self.tasks && self.control && (!results_endpoint || self.result_buffer)) {
        int64_t deadline = dv_now_ms () + seconds * 1000;
        int64_t next_want = 0;
        zmq_msg_t message;
        zmq_msg_init (&message);
        while (!s_stop && exit_code && dv_now_ms () < deadline) {
            int64_t now = dv_now_ms ();
            if (now >= next_want) {
                s_want (&self, (uint32_t) want);
                next_want = now + every_ms;
            }
            zmq_pollitem_t items[] = {{self.tasks, 0, ZMQ_POLLIN, 0},
                                      {self.control, 0, ZMQ_POLLIN, 0}};
            zmq_poll (items, 2, (long) (next_want - now));
            while (zmq_msg_recv (&message, self.tasks, ZMQ_DONTWAIT) >= 0)
                s_on_tasks (&self, zmq_msg_data (&message), zmq_msg_size (&message));
            while (exit_code && zmq_msg_recv (&message, self.control, ZMQ_DONTWAIT) >= 0)
                if (s_on_control (zmq_msg_data (&message), zmq_msg_size (&message)))
                    exit_code = 0;
        }
        zmq_msg_close (&message);
    }
    printf ("greedy %s batches %" PRIu64 " tasks %" PRIu64 " wants %" PRIu64
            " results %" PRIu64 " ended %s\n",
            self.id, self.batches, self.tasks_taken, self.wants, self.results_sent,
            exit_code ? "time" : "kill");
    if (self.tasks)
        zmq_close (self.tasks);
    if (self.control)
        zmq_close (self.control);
    if (self.results)
        zmq_close (self.results);
    free (self.result_buffer);
    zmq_ctx_term (context);
    return exit_code;
}
