/*  latency.c: divvy-latency, the benchmark's latency probe.

    divvy carries no timestamps, so the benchmark measures latency from
    outside, with real workers and a real sink: this probe takes the
    ventilator's place. It speaks the ventilator's side of the protocol
    (docs/protocol.md): it binds a ROUTER for tasks and hands out batches only
    to workers that granted credit (WANT), keeps at most --window batches
    ahead of the sink, announces a range job to the sink, and subscribes to
    the sink's control socket. It records when it sent each batch; the sink
    publishes CREDIT (distinct results held, first missing task) as soon as a
    result batch has been checked and counted, once every --credit-step
    tasks, and the probe timestamps each CREDIT as it arrives.

    Two figures per batch come out of that:
    - rank-matched: the j-th batch to reach the sink against the j-th batch
      sent. Exact with one worker (every hop is FIFO); with several workers
      batches can overtake each other, so a single batch's figure is an
      estimate, while the mean stays exact.
    - in-order bound: the first CREDIT whose first-missing task is past the
      batch, minus the batch's send time. Never less than the true latency.
    Both include one extra loopback hop, the sink's CREDIT on its way to the
    probe.

    At --rate R the probe sends batches on a fixed schedule of R tasks/s
    (modest load); at --rate 0 it sends as fast as credit and window allow
    (saturation), like the ventilator. It writes one JSON object to stdout.
*/
#define _GNU_SOURCE
#include "protocol.h"

#include <zmq.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#define S_PROGRAM           "divvy-latency"
#define S_ROUTING_ID_MAX    255
#define S_WORKERS_MAX       1024
#define S_ANNOUNCE_EVERY_NS 1000000000LL
#define S_WAIT_MAX_NS       100000000LL
//  The ventilator's auto window (ventilator/main.c): 65536 tasks' worth,
//  16 to 4096 batches
#define S_AUTO_WINDOW_TASKS 65536
#define S_AUTO_WINDOW_MIN   16
#define S_AUTO_WINDOW_MAX   4096
#define S_SAMPLE_EVERY      16 //  at saturation, credit every this many batches
#define S_DRAIN_EVERY       16 //  at saturation, batches between reads of control

typedef struct {
    const char *tasks_endpoint;
    const char *results_endpoint;
    const char *control_endpoint;
    uint64_t count;
    uint64_t batch;
    double rate; //  tasks/s; 0: saturate
    uint64_t window;
    uint64_t credit_step;
    int min_workers;
    int timeout_s;
} s_options_t;

typedef struct {
    uint8_t routing_id[S_ROUTING_ID_MAX];
    size_t routing_id_size;
    int64_t credit;
} s_worker_t;

//  One CREDIT as it arrived
typedef struct {
    int64_t time_ns;
    uint64_t received;
    uint64_t first_missing;
    bool arrival; //  published because a result batch arrived (not on a timer)
} s_credit_event_t;

typedef struct {
    s_options_t options;
    void *context;
    void *tasks;
    void *announce;
    void *control;
    int tasks_fd;
    int control_fd;
    uint64_t job_id;
    uint64_t batch_count;
    uint64_t window_tasks;
    s_worker_t workers[S_WORKERS_MAX];
    int worker_count;
    int next_worker;
    bool sink_heard;
    bool job_accepted;
    bool job_done;
    bool after_heartbeat; //  the last control message was a heartbeat
    int64_t done_ns;
    uint64_t received;
    int64_t *send_ns; //  per batch
    s_credit_event_t *events;
    size_t event_count;
    size_t event_capacity;
    uint64_t malformed;
} s_probe_t;

static volatile sig_atomic_t s_interrupted = 0;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_interrupted = 1;
}

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
s_usage (FILE *stream)
{
    fprintf (
        stream,
        "Usage: " S_PROGRAM " [OPTION]...\n"
        "Take the ventilator's place in a divvy job with real workers and a real\n"
        "sink, and measure the time from sending a batch of tasks to the sink's\n"
        "receipt of its results (seen through the sink's CREDIT messages).\n"
        "\n"
        "  --tasks EP          task endpoint to bind (ROUTER)\n"
        "  --results EP        the sink's result endpoint, to announce the job\n"
        "  --control EP        the sink's control endpoint, to hear its credit\n"
        "  --count N           tasks, a multiple of --batch (default 100000)\n"
        "  --batch K           tasks per batch (default 1)\n"
        "  --rate R            tasks/s on a fixed schedule; 0: as fast as credit\n"
        "                      and window allow (saturation); default 0\n"
        "  --window B          batches ahead of the sink at most (default: the\n"
        "                      ventilator's auto window: 65536 tasks' worth,\n"
        "                      16..4096 batches)\n"
        "  --credit-step C     ask the sink for CREDIT every C tasks (default: K\n"
        "                      with --rate, else %d batches or a quarter window)\n"
        "  --min-workers W     start once W workers have granted credit (default 1)\n"
        "  --timeout S         give up after S seconds (default 60)\n"
        "  -h, --help          print this help\n"
        "\n"
        "Stdout: one JSON object with the run's throughput and latency figures\n"
        "(microseconds): rank-matched p50/p99/max/mean, and the in-order bound.\n"
        "Exit status: 0 done, 1 runtime failure or timeout, 2 bad usage.\n",
        S_SAMPLE_EVERY);
}

static int
s_parse_u64 (const char *name, const char *text, uint64_t min, uint64_t max,
             uint64_t *value)
{
    char *end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (!*text || *text == '-' || *end || errno || parsed < min || parsed > max) {
        fprintf (stderr,
                 S_PROGRAM ": --%s wants a whole number from %" PRIu64 " to %" PRIu64
                           ", not '%s'\n",
                 name, min, max, text);
        return -1;
    }
    *value = parsed;
    return 0;
}

//  Returns 0, 1 after --help, -1 after saying what is wrong.
static int
s_parse_options (s_options_t *options, int argc, char **argv)
{
    static const struct option table[] = {{"tasks", required_argument, NULL, 't'},
                                          {"results", required_argument, NULL, 'r'},
                                          {"control", required_argument, NULL, 'c'},
                                          {"count", required_argument, NULL, 'n'},
                                          {"batch", required_argument, NULL, 'k'},
                                          {"rate", required_argument, NULL, 'R'},
                                          {"window", required_argument, NULL, 'w'},
                                          {"credit-step", required_argument, NULL, 's'},
                                          {"min-workers", required_argument, NULL, 'W'},
                                          {"timeout", required_argument, NULL, 'o'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    *options =
        (s_options_t){.count = 100000, .batch = 1, .min_workers = 1, .timeout_s = 60};
    opterr = 0;
    int index = 0;
    int option;
    uint64_t value;
    while ((option = getopt_long (argc, argv, ":h", table, &index)) != -1) {
        const char *name = table[index].name;
        switch (option) {
            case 't':
                options->tasks_endpoint = optarg;
                break;
            case 'r':
                options->results_endpoint = optarg;
                break;
            case 'c':
                options->control_endpoint = optarg;
                break;
            case 'n':
                if (s_parse_u64 (name, optarg, 1, UINT64_C (1) << 40, &options->count))
                    return -1;
                break;
            case 'k':
                if (s_parse_u64 (name, optarg, 1, DV_BATCH_MAX, &options->batch))
                    return -1;
                break;
            case 'R':
                if (s_parse_u64 (name, optarg, 0, UINT64_C (1) << 40, &value))
                    return -1;
                options->rate = (double) value;
                break;
            case 'w':
                if (s_parse_u64 (name, optarg, 1, 1 << 20, &options->window))
                    return -1;
                break;
            case 's':
                if (s_parse_u64 (name, optarg, 1, UINT32_MAX, &options->credit_step))
                    return -1;
                break;
            case 'W':
                if (s_parse_u64 (name, optarg, 1, S_WORKERS_MAX, &value))
                    return -1;
                options->min_workers = (int) value;
                break;
            case 'o':
                if (s_parse_u64 (name, optarg, 1, 86400, &value))
                    return -1;
                options->timeout_s = (int) value;
                break;
            case 'h':
                s_usage (stdout);
                return 1;
            case ':':
                fprintf (stderr, S_PROGRAM ": %s wants a value (try --help)\n",
                         argv[optind - 1]);
                return -1;
            default:
                fprintf (stderr, S_PROGRAM ": unknown option '%s' (try --help)\n",
                         argv[optind - 1]);
                return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, S_PROGRAM ": unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!options->tasks_endpoint || !options->results_endpoint ||
        !options->control_endpoint) {
        fprintf (stderr, S_PROGRAM ": --tasks, --results and --control are required\n");
        return -1;
    }
    if (options->count % options->batch) {
        fprintf (stderr, S_PROGRAM ": --count must be a multiple of --batch\n");
        return -1;
    }
    return 0;
}

static int
s_fail (const char *what)
{
    fprintf (stderr, S_PROGRAM ": %s: %s\n", what, zmq_strerror (zmq_errno ()));
    return -1;
}

static int
s_open (s_probe_t *self)
{
    const s_options_t *options = &self->options;
    int zero = 0;
    int one = 1;
    int linger = 1000;
    self->context = zmq_ctx_new ();
    if (!self->context)
        return s_fail ("cannot create a context");
    self->tasks = zmq_socket (self->context, ZMQ_ROUTER);
    self->announce = zmq_socket (self->context, ZMQ_PUSH);
    self->control = zmq_socket (self->context, ZMQ_SUB);
    if (!self->tasks || !self->announce || !self->control)
        return s_fail ("cannot create a socket");
    //  As the ventilator: credit bounds what each worker holds, not the HWM
    zmq_setsockopt (self->tasks, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt (self->tasks, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt (self->tasks, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->tasks, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt (self->announce, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->control, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt (self->control, ZMQ_LINGER, &zero, sizeof zero);
    const dv_kind_t kinds[] = {DV_KIND_HEARTBEAT, DV_KIND_CREDIT, DV_KIND_KILL};
    for (size_t index = 0; index < sizeof kinds / sizeof kinds[0]; index++) {
        uint8_t topic[2];
        dv_topic (kinds[index], topic);
        zmq_setsockopt (self->control, ZMQ_SUBSCRIBE, topic, 2);
    }
    if (zmq_bind (self->tasks, options->tasks_endpoint))
        return s_fail ("cannot bind --tasks");
    if (zmq_connect (self->announce, options->results_endpoint))
        return s_fail ("cannot connect --results");
    if (zmq_connect (self->control, options->control_endpoint))
        return s_fail ("cannot connect --control");
    size_t size = sizeof (int);
    if (zmq_getsockopt (self->tasks, ZMQ_FD, &self->tasks_fd, &size))
        return s_fail ("cannot get the task socket's fd");
    size = sizeof (int);
    if (zmq_getsockopt (self->control, ZMQ_FD, &self->control_fd, &size))
        return s_fail ("cannot get the control socket's fd");
    return 0;
}

static void
s_close (s_probe_t *self)
{
    if (self->tasks)
        zmq_close (self->tasks);
    if (self->announce)
        zmq_close (self->announce);
    if (self->control)
        zmq_close (self->control);
    if (self->context)
        zmq_ctx_term (self->context);
}

static void
s_record (s_probe_t *self, int64_t time_ns, const dv_credit_t *credit, bool arrival)
{
    if (self->event_count == self->event_capacity) {
        size_t capacity = self->event_capacity ? self->event_capacity * 2 : 4096;
        s_credit_event_t *grown = realloc (self->events, capacity * sizeof *grown);
        if (!grown)
            return; //  a sample lost, not a wrong one
        self->events = grown;
        self->event_capacity = capacity;
    }
    self->events[self->event_count++] =
        (s_credit_event_t){time_ns, credit->received, credit->first_missing, arrival};
}

//  Takes every control message waiting, each timestamped as it is taken.
static void
s_drain_control (s_probe_t *self)
{
    zmq_msg_t message;
    zmq_msg_init (&message);
    while (zmq_msg_recv (&message, self->control, ZMQ_DONTWAIT) >= 0) {
        int64_t now = s_now_ns ();
        const uint8_t *data = zmq_msg_data (&message);
        size_t size = zmq_msg_size (&message);
        dv_heartbeat_t heartbeat;
        dv_credit_t credit;
        dv_kill_t kill;
        self->sink_heard = true;
        if (dv_heartbeat_decode (data, size, &heartbeat) == 0) {
            //  On its timer the sink publishes a heartbeat, then a CREDIT:
            //  that CREDIT marks no arrival
            self->after_heartbeat = true;
            if (heartbeat.job_id == self->job_id && heartbeat.state == DV_STATE_DONE &&
                !self->job_done) {
                self->job_done = true;
                self->done_ns = now;
            }
            if (heartbeat.job_id == self->job_id && heartbeat.received > self->received)
                self->received = heartbeat.received;
        } else if (dv_credit_decode (data, size, &credit) == 0) {
            bool timer = self->after_heartbeat;
            self->after_heartbeat = false;
            if (credit.job_id != self->job_id)
                continue;
            self->job_accepted = true;
            if (credit.received > self->received) {
                self->received = credit.received;
                s_record (self, now, &credit, !timer);
            }
        } else if (dv_kill_decode (data, size, &kill) == 0) {
            if (kill.job_id == self->job_id && !self->job_done) {
                self->job_done = true;
                self->done_ns = now;
            }
        } else
            self->malformed++;
    }
    zmq_msg_close (&message);
}

//  Takes every WANT waiting: credit per worker.
static void
s_drain_credit (s_probe_t *self)
{
    zmq_msg_t routing_id, body;
    zmq_msg_init (&routing_id);
    zmq_msg_init (&body);
    while (zmq_msg_recv (&routing_id, self->tasks, ZMQ_DONTWAIT) >= 0) {
        if (!zmq_msg_more (&routing_id) || zmq_msg_recv (&body, self->tasks, 0) < 0 ||
            zmq_msg_more (&body) || zmq_msg_size (&routing_id) > S_ROUTING_ID_MAX) {
            self->malformed++;
            continue;
        }
        dv_want_t want;
        if (dv_want_decode (zmq_msg_data (&body), zmq_msg_size (&body), &want)) {
            self->malformed++;
            continue;
        }
        s_worker_t *worker = NULL;
        for (int index = 0; index < self->worker_count && !worker; index++)
            if (self->workers[index].routing_id_size == zmq_msg_size (&routing_id) &&
                !memcmp (self->workers[index].routing_id, zmq_msg_data (&routing_id),
                         zmq_msg_size (&routing_id)))
                worker = &self->workers[index];
        if (!worker && self->worker_count < S_WORKERS_MAX) {
            worker = &self->workers[self->worker_count++];
            memcpy (worker->routing_id, zmq_msg_data (&routing_id),
                    zmq_msg_size (&routing_id));
            worker->routing_id_size = zmq_msg_size (&routing_id);
            worker->credit = 0;
        }
        if (worker)
            worker->credit = want.is_reset ? want.batches : worker->credit + want.batches;
    }
    zmq_msg_close (&routing_id);
    zmq_msg_close (&body);
}

//  Waits until either socket may have something, or until deadline_ns.
static void
s_wait_until (s_probe_t *self, int64_t deadline_ns)
{
    //  The fds signal edges: look at the sockets' events before sleeping
    int events = 0;
    size_t size = sizeof events;
    zmq_getsockopt (self->control, ZMQ_EVENTS, &events, &size);
    if (events & ZMQ_POLLIN)
        return;
    size = sizeof events;
    zmq_getsockopt (self->tasks, ZMQ_EVENTS, &events, &size);
    if (events & ZMQ_POLLIN)
        return;
    int64_t wait_ns = deadline_ns - s_now_ns ();
    if (wait_ns <= 0)
        return;
    if (wait_ns > S_WAIT_MAX_NS)
        wait_ns = S_WAIT_MAX_NS;
    struct pollfd fds[] = {{self->control_fd, POLLIN, 0}, {self->tasks_fd, POLLIN, 0}};
    struct timespec timeout = {wait_ns / 1000000000, wait_ns % 1000000000};
    ppoll (fds, 2, &timeout, NULL);
}

static int
s_workers_with_credit (const s_probe_t *self)
{
    int count = 0;
    for (int index = 0; index < self->worker_count; index++)
        count += self->workers[index].credit > 0;
    return count;
}

//  Sends one batch to the next worker with credit. Returns 0 when sent.
static int
s_send_batch (s_probe_t *self, uint8_t *buffer, size_t size)
{
    for (int tried = 0; tried < self->worker_count; tried++) {
        if (self->next_worker >= self->worker_count)
            self->next_worker = 0;
        s_worker_t *worker = &self->workers[self->next_worker++];
        if (worker->credit <= 0)
            continue;
        if (zmq_send (self->tasks, worker->routing_id, worker->routing_id_size,
                      ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            if (errno == EHOSTUNREACH)
                worker->credit = 0;
            continue;
        }
        zmq_send (self->tasks, buffer, size, ZMQ_DONTWAIT);
        worker->credit--;
        return 0;
    }
    return -1;
}

static int
s_run (s_probe_t *self)
{
    const s_options_t *options = &self->options;
    int64_t deadline_ns = s_now_ns () + (int64_t) options->timeout_s * 1000000000;
    uint32_t batch = (uint32_t) options->batch;

    //  The gate: the sink heard, and min_workers workers with credit
    while (!self->sink_heard || s_workers_with_credit (self) < options->min_workers) {
        if (s_interrupted || s_now_ns () > deadline_ns) {
            fprintf (stderr, S_PROGRAM ": %s, %d of %d workers with credit\n",
                     self->sink_heard ? "sink heard" : "no sink heard",
                     s_workers_with_credit (self), options->min_workers);
            return -1;
        }
        s_drain_control (self);
        s_drain_credit (self);
        s_wait_until (self, s_now_ns () + S_WAIT_MAX_NS);
    }
    //  Announce until the sink answers with credit
    dv_announce_t announce = {.job_id = self->job_id,
                              .task_count = options->count,
                              .is_range = true,
                              .range_start = 1,
                              .credit_step = (uint32_t) options->credit_step};
    uint8_t announcement[DV_ANNOUNCE_SIZE];
    size_t announcement_size = dv_announce_encode (&announce, announcement);
    int64_t announced_ns = 0;
    while (!self->job_accepted) {
        if (s_interrupted || s_now_ns () > deadline_ns) {
            fprintf (stderr, S_PROGRAM ": the sink did not accept the job\n");
            return -1;
        }
        if (s_now_ns () - announced_ns >= S_ANNOUNCE_EVERY_NS) {
            zmq_send (self->announce, announcement, announcement_size, ZMQ_DONTWAIT);
            announced_ns = s_now_ns ();
        }
        s_drain_control (self);
        s_drain_credit (self);
        s_wait_until (self, announced_ns + S_ANNOUNCE_EVERY_NS);
    }

    uint8_t *buffer = malloc (DV_TASKS_SIZE (batch));
    if (!buffer) {
        fprintf (stderr, S_PROGRAM ": out of memory\n");
        return -1;
    }
    double interval_ns = options->rate > 0 ? 1e9 * (double) batch / options->rate : 0;
    int64_t start_ns = s_now_ns ();
    uint64_t sent = 0; //  batches
    //  Saturated, look at control and credit every few batches, as the
    //  ventilator does: a receive that finds nothing costs a system call. A
    //  CREDIT's timestamp is then late by at most S_DRAIN_EVERY sends.
    bool paced = options->rate > 0;
    unsigned since_drain = 0;
    while (sent < self->batch_count) {
        int64_t now = s_now_ns ();
        if (s_interrupted || now > deadline_ns) {
            fprintf (stderr,
                     S_PROGRAM ": timed out after %" PRIu64 " of %" PRIu64 " batches\n",
                     sent, self->batch_count);
            free (buffer);
            return -1;
        }
        if (paced || ++since_drain >= S_DRAIN_EVERY) {
            since_drain = 0;
            s_drain_control (self);
            if (paced || sent % (4 * S_DRAIN_EVERY) == 0)
                s_drain_credit (self);
        }
        int64_t due_ns = start_ns + (int64_t) ((double) sent * interval_ns);
        if (now < due_ns) {
            s_wait_until (self, due_ns);
            continue;
        }
        uint64_t first_task = sent * batch;
        uint64_t received = self->received < first_task ? self->received : first_task;
        if (first_task - received + batch > self->window_tasks) {
            s_drain_control (self);
            if (self->received == received)
                s_wait_until (self, now + S_WAIT_MAX_NS);
            continue;
        }
        size_t size = dv_tasks_encode_header (self->job_id, first_task, batch, buffer);
        for (uint32_t index = 0; index < batch; index++)
            dv_tasks_put_value (buffer, index, (int64_t) (1 + first_task + index));
        int64_t send_ns = s_now_ns ();
        if (s_send_batch (self, buffer, size)) {
            s_drain_credit (self);
            if (s_send_batch (self, buffer, size)) {
                s_wait_until (self, now + S_WAIT_MAX_NS);
                continue;
            }
        }
        self->send_ns[sent++] = send_ns;
    }
    free (buffer);
    while (!self->job_done) {
        if (s_interrupted || s_now_ns () > deadline_ns) {
            fprintf (stderr,
                     S_PROGRAM ": the sink has %" PRIu64 " of %" PRIu64 " results\n",
                     self->received, options->count);
            return -1;
        }
        s_drain_control (self);
        s_drain_credit (self);
        s_wait_until (self, s_now_ns () + S_WAIT_MAX_NS);
    }
    return 0;
}

static int
s_compare_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a;
    int64_t y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  Nearest-rank quantile of sorted values, in microseconds.
static double
s_quantile_us (const int64_t *sorted, size_t count, double fraction)
{
    if (!count)
        return 0;
    size_t rank = (size_t) ceil (fraction * (double) count);
    if (rank < 1)
        rank = 1;
    return (double) sorted[rank - 1] / 1e3;
}

static int
s_report (s_probe_t *self)
{
    const s_options_t *options = &self->options;
    uint64_t batch = options->batch;
    int64_t *matched = malloc ((self->event_count + 1) * sizeof (int64_t));
    int64_t *bound = malloc ((self->batch_count + 1) * sizeof (int64_t));
    if (!matched || !bound) {
        free (matched);
        free (bound);
        fprintf (stderr, S_PROGRAM ": out of memory\n");
        return -1;
    }
    size_t matched_count = 0;
    double matched_sum = 0;
    uint64_t covered = 0; //  batches with an in-order bound
    int64_t last_ns = self->send_ns[0];
    for (size_t index = 0; index < self->event_count; index++) {
        const s_credit_event_t *event = &self->events[index];
        if (event->arrival && event->received % batch == 0 && event->received >= batch) {
            uint64_t rank = event->received / batch - 1;
            if (rank < self->batch_count) {
                matched[matched_count] = event->time_ns - self->send_ns[rank];
                matched_sum += (double) matched[matched_count];
                matched_count++;
            }
        }
        uint64_t done = event->first_missing / batch;
        while (covered < done && covered < self->batch_count) {
            bound[covered] = event->time_ns - self->send_ns[covered];
            covered++;
        }
        if (event->time_ns > last_ns)
            last_ns = event->time_ns;
    }
    //  The last batches may be covered by the sink's "done" only
    while (covered < self->batch_count) {
        bound[covered] = self->done_ns - self->send_ns[covered];
        covered++;
    }
    if (self->done_ns > last_ns)
        last_ns = self->done_ns;
    qsort (matched, matched_count, sizeof (int64_t), s_compare_i64);
    qsort (bound, self->batch_count, sizeof (int64_t), s_compare_i64);
    double seconds = (double) (last_ns - self->send_ns[0]) / 1e9;
    printf ("{\"workers\":%d,\"batch\":%" PRIu64 ",\"tasks\":%" PRIu64
            ",\"rate\":%.0f,\"window\":%" PRIu64 ",\"credit_step\":%" PRIu64
            ",\"seconds\":%.6f,\"tasks_per_s\":%.1f,\"samples\":%zu,"
            "\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f,\"mean\":%.1f},"
            "\"in_order_bound_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
            "\"malformed\":%" PRIu64 "}\n",
            self->worker_count, batch, options->count, options->rate,
            self->window_tasks / batch, options->credit_step, seconds,
            seconds > 0 ? (double) options->count / seconds : 0.0, matched_count,
            s_quantile_us (matched, matched_count, 0.50),
            s_quantile_us (matched, matched_count, 0.99),
            s_quantile_us (matched, matched_count, 1.0),
            matched_count ? matched_sum / (double) matched_count / 1e3 : 0.0,
            s_quantile_us (bound, self->batch_count, 0.50),
            s_quantile_us (bound, self->batch_count, 0.99),
            s_quantile_us (bound, self->batch_count, 1.0), self->malformed);
    fflush (stdout);
    free (matched);
    free (bound);
    return matched_count ? 0 : -1;
}

int
main (int argc, char **argv)
{
    s_probe_t self;
    memset (&self, 0, sizeof self);
    int rc = s_parse_options (&self.options, argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    s_options_t *options = &self.options;
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    //  Wake-ups on time, not up to 50 us late: the schedule is the point
    prctl (PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

    uint64_t batch = options->batch;
    self.batch_count = options->count / batch;
    uint64_t window = options->window;
    if (!window)
        window = S_AUTO_WINDOW_TASKS / batch;
    window = window < S_AUTO_WINDOW_MIN   ? S_AUTO_WINDOW_MIN
             : window > S_AUTO_WINDOW_MAX ? S_AUTO_WINDOW_MAX
                                          : window;
    self.window_tasks = window * batch;
    if (!options->credit_step) {
        uint64_t step = options->rate > 0 ? batch : S_SAMPLE_EVERY * batch;
        if (!(options->rate > 0) && step > self.window_tasks / 4)
            step = self.window_tasks / 4 < batch ? batch : self.window_tasks / 4;
        options->credit_step = step > UINT32_MAX ? UINT32_MAX : step;
    }
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    self.job_id = ((uint64_t) ts.tv_sec << 20) ^ (uint64_t) ts.tv_nsec ^ 0x1a7e;
    if (!self.job_id)
        self.job_id = 1;
    self.send_ns = calloc (self.batch_count, sizeof (int64_t));
    if (!self.send_ns) {
        fprintf (stderr, S_PROGRAM ": out of memory\n");
        return 1;
    }
    int status = 1;
    if (s_open (&self) == 0 && s_run (&self) == 0 && s_report (&self) == 0)
        status = 0;
    s_close (&self);
    free (self.send_ns);
    free (self.events);
    return status;
}
