/*  sink: gathers, checks and prints the results of one job, then ends it.

    The sink binds the result socket (a PULL that workers and the ventilator's
    announcement reach) and the control socket (an XPUB: it sees every new
    subscriber, and greets each with a heartbeat at once, so nobody waits for
    a timer). A job runs: idle -> announced -> every task in -> summary ->
    KILL, repeated for a linger so that late subscribers hear it -> exit 0.
*/
#include "log.h"
#include "clock.h"
#include "process.h"
#include "exit_codes.h"
#include "job.h"
#include "net.h"
#include "options.h"
#include "protocol.h"
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_HEARTBEAT_MS  200
#define S_KILL_EVERY_MS 100
#define S_CONTROL_HWM   10000

typedef struct {
    const char *tasks_endpoints; //  unused by the sink; accepted so that one
                                 //  environment can serve every program
    const char *results_endpoints;
    const char *control_endpoints;
    bool quiet;
    bool json;
    int64_t linger_ms;
    int64_t resend_after_ms;
    int64_t max_tasks;
    dv_security_options_t curve;
} s_options_t;

typedef struct {
    s_options_t options;
    dv_security_t *security;
    zsock_t *results;
    zsock_t *control;
    dv_job_t *job;
    dv_state_t state;
    uint64_t malformed;
    uint64_t credited;          //  received count at the last credit sent
    int64_t progress_ms;        //  when a new result last arrived (or the job began)
    uint64_t progress_received; //  the received count at progress_ms
    int64_t resend_ms;          //  when we last asked for missing tasks
    uint64_t resends;           //  RESEND messages published
    uint64_t tasks_requested;   //  tasks they asked for, counted each time
    int64_t heartbeat_ms;
    dv_output_t *output;
    dv_progress_t progress;
    dv_rate_limit_t malformed_limit;
    dv_rate_limit_t resend_limit;
} s_sink_t;

static int
s_parse_options (s_options_t *options, int argc, char **argv)
{
    *options = (s_options_t){
        .tasks_endpoints = dv_endpoint_default (DV_FLOW_TASKS, false),
        .results_endpoints = dv_endpoint_default (DV_FLOW_RESULTS, true),
        .control_endpoints = dv_endpoint_default (DV_FLOW_CONTROL, true),
        .linger_ms = 1000,
        .resend_after_ms = 1000,
        .max_tasks = (int64_t) 1 << 32,
    };
    const dv_option_t table[] = {
        {"tasks", DV_OPTION_TEXT, "ENDPOINTS",
         "accepted and unused: the sink has no task socket", NULL, 0, 0,
         &options->tasks_endpoints},
        {"results", DV_OPTION_TEXT, "ENDPOINTS", DV_SOCKET_HELP_RESULTS, "tcp://*:5558",
         0, 0, &options->results_endpoints},
        {"control", DV_OPTION_TEXT, "ENDPOINTS", DV_SOCKET_HELP_CONTROL, "tcp://*:5559",
         0, 0, &options->control_endpoints},
        {"quiet", DV_OPTION_FLAG, NULL, "print no result lines", "off", 0, 0,
         &options->quiet},
        {"json", DV_OPTION_FLAG, NULL, "end stdout with the summary as one JSON object",
         "off", 0, 0, &options->json},
        {"linger", DV_OPTION_INTEGER, "MS",
         "after the job, keep repeating KILL this long for late subscribers", "1000", 0,
         600000, &options->linger_ms},
        {"resend-after", DV_OPTION_INTEGER, "MS",
         "when no new result came for MS, ask the ventilator for the missing tasks",
         "1000", 10, 3600000, &options->resend_after_ms},
        {"max-tasks", DV_OPTION_INTEGER, "N",
         "refuse jobs larger than N tasks (the bitmap takes N/8 bytes)", "4294967296", 1,
         INT64_MAX, &options->max_tasks},
        DV_SECURITY_OPTIONS (&options->curve),
    };
    const dv_command_t command = {
        "sink",
        "Gather, check and print the results of a divvy job; end it with KILL.\n"
        "Stdout: one line per result, \"value square\" (not with --quiet), then with\n"
        "--json the summary object. Stderr: progress and the human summary.",
        table,
        sizeof table / sizeof table[0],
        DV_EXIT_CODES_HELP,
        false,
    };
    return dv_options_parse (&command, argc, argv);
}

static int
s_open_sockets (s_sink_t *self)
{
    s_options_t *options = &self->options;
    const dv_socket_config_t results_config = {
        .receive_hwm = DV_HWM_DEFAULT,
        .max_message_size = DV_RESULTS_SIZE_MAX,
        .security = self->security,
        .curve_server = true,
    };
    //  The last KILLs and heartbeats matter: give them time to leave.
    const dv_socket_config_t control_config = {
        .send_hwm = S_CONTROL_HWM,
        .linger_ms = DV_LINGER_MS,
        .max_message_size = DV_MESSAGE_CAP_MIN,
        .security = self->security,
        .curve_server = true,
    };
    self->results = dv_socket_new (ZMQ_PULL, DV_FLOW_RESULTS, options->results_endpoints,
                                   true, &results_config);
    if (!self->results)
        return -1;
    self->control = dv_socket_new (ZMQ_XPUB, DV_FLOW_CONTROL, options->control_endpoints,
                                   true, &control_config);
    if (!self->control)
        return -1;
    zsock_set_xpub_verbose (self->control, 1);
    return 0;
}

static void
s_close_sockets (s_sink_t *self)
{
    dv_socket_destroy (&self->results, self->options.results_endpoints, true);
    dv_socket_destroy (&self->control, self->options.control_endpoints, true);
}

static void
s_publish (s_sink_t *self, const uint8_t *data, size_t size)
{
    zmq_send (zsock_resolve (self->control), data, size, ZMQ_DONTWAIT);
}

static void
s_publish_heartbeat (s_sink_t *self)
{
    dv_heartbeat_t heartbeat = {.state = self->state};
    if (self->job) {
        heartbeat.job_id = self->job->announce.job_id;
        heartbeat.received = self->job->received;
        heartbeat.total = self->job->announce.task_count;
    }
    uint8_t buffer[DV_HEARTBEAT_SIZE];
    s_publish (self, buffer, dv_heartbeat_encode (&heartbeat, buffer));
    if (self->state == DV_STATE_DONE)
        s_publish (self, buffer, dv_kill_encode (heartbeat.job_id, buffer));
    self->heartbeat_ms = dv_now_ms ();
}

static void
s_publish_credit (s_sink_t *self)
{
    dv_credit_t credit = {self->job->announce.job_id, self->job->received,
                          self->job->first_missing};
    uint8_t buffer[DV_CREDIT_SIZE];
    s_publish (self, buffer, dv_credit_encode (&credit, buffer));
    self->credited = self->job->received;
}

static void
s_malformed (s_sink_t *self, const char *what)
{
    self->malformed++;
    dv_log_limited (&self->malformed_limit, "dropped a malformed message: %s", what);
}

static void
s_on_announce (s_sink_t *self, const uint8_t *data, size_t size)
{
    dv_announce_t announce;
    if (dv_announce_decode (data, size, &announce)) {
        s_malformed (self, "bad job announcement");
        return;
    }
    if (self->job) {
        if (announce.job_id == self->job->announce.job_id)
            s_publish_credit (self); //  a repeat: the ventilator missed our answer
        else
            dv_log_limited (&self->malformed_limit,
                            "ignoring job %" PRIu64 ": busy with job %" PRIu64,
                            announce.job_id, self->job->announce.job_id);
        return;
    }
    if (announce.task_count > (uint64_t) self->options.max_tasks) {
        dv_log_limited (&self->malformed_limit,
                        "refusing job %" PRIu64 " of %" PRIu64
                        " tasks: over --max-tasks %" PRId64,
                        announce.job_id, announce.task_count, self->options.max_tasks);
        return;
    }
    self->job = dv_job_new (&announce);
    if (!self->job) {
        dv_log ("refusing job %" PRIu64 ": no memory for %" PRIu64 " tasks",
                announce.job_id, announce.task_count);
        return;
    }
    self->state = DV_STATE_RUNNING;
    dv_log ("job %" PRIu64 ": gathering %" PRIu64 " results", announce.job_id,
            announce.task_count);
    dv_progress_init (&self->progress);
    self->progress_ms = self->resend_ms = dv_now_ms ();
    s_publish_credit (self);
    s_publish_heartbeat (self);
}

static void
s_on_results (s_sink_t *self, const uint8_t *data, size_t size)
{
    dv_results_t results;
    if (dv_results_decode (data, size, &results)) {
        s_malformed (self, "bad result batch");
        return;
    }
    if (!self->job || self->state != DV_STATE_RUNNING) {
        //  Late results of a finished job are harmless duplicates.
        if (self->job && results.job_id == self->job->announce.job_id)
            self->job->duplicates += results.count;
        else
            s_malformed (self, "results for an unknown job");
        return;
    }
    if (dv_job_take (self->job, &results, self->options.quiet ? NULL : dv_output_result,
                     self->output)) {
        s_malformed (self, "results that do not fit the job");
        return;
    }
    if (self->job->received - self->credited >= self->job->announce.credit_step)
        s_publish_credit (self);
}

static void
s_on_message (s_sink_t *self, const uint8_t *data, size_t size)
{
    switch (dv_message_kind (data, size)) {
        case DV_KIND_RESULTS:
            s_on_results (self, data, size);
            break;
        case DV_KIND_ANNOUNCE:
            s_on_announce (self, data, size);
            break;
        default:
            s_malformed (self, "not a result batch or job announcement");
    }
}

//  When no new result has come for --resend-after while some are missing, the
//  work in flight was lost (a worker died or froze): ask for it again. The
//  lowest gaps first; a RESEND holds at most DV_RESEND_RANGES_MAX ranges.
static void
s_check_stall (s_sink_t *self)
{
    int64_t now = dv_now_ms ();
    if (now - self->progress_ms < self->options.resend_after_ms ||
        now - self->resend_ms < self->options.resend_after_ms)
        return;
    dv_range_t ranges[DV_RESEND_RANGES_MAX];
    uint64_t task_total;
    uint32_t range_count =
        dv_job_missing (self->job, ranges, DV_RESEND_RANGES_MAX, &task_total);
    if (!range_count)
        return;
    uint8_t buffer[DV_RESEND_SIZE (DV_RESEND_RANGES_MAX)];
    s_publish (
        self, buffer,
        dv_resend_encode (self->job->announce.job_id, ranges, range_count, buffer));
    self->resend_ms = now;
    self->resends++;
    self->tasks_requested += task_total;
    dv_log_limited (&self->resend_limit,
                    "no new result for %" PRId64 " ms: asking again for %" PRIu64
                    " tasks in %" PRIu32 " ranges, from task %" PRIu64,
                    now - self->progress_ms, task_total, range_count,
                    ranges[0].first_task);
}

//  A subscription arrived: greet the new subscriber straight away.
static void
s_on_subscriber (s_sink_t *self)
{
    zmq_msg_t message;
    zmq_msg_init (&message);
    bool greet = false;
    while (zmq_msg_recv (&message, zsock_resolve (self->control), ZMQ_DONTWAIT) >= 0)
        greet |=
            zmq_msg_size (&message) >= 1 && ((uint8_t *) zmq_msg_data (&message))[0] == 1;
    zmq_msg_close (&message);
    if (greet)
        s_publish_heartbeat (self);
}

//  Receives and handles what arrives until the job completes. Returns -1 on
//  interrupt.
static int
s_gather (s_sink_t *self)
{
    zmq_msg_t message;
    zmq_msg_init (&message);
    void *results = zsock_resolve (self->results);
    int rc = 0;
    while (self->state != DV_STATE_DONE) {
        //  Drain results without polling while they flow.
        int taken = 0;
        while (taken < 1000 && !dv_interrupted () &&
               zmq_msg_recv (&message, results, ZMQ_DONTWAIT) >= 0) {
            s_on_message (self, zmq_msg_data (&message), zmq_msg_size (&message));
            taken++;
            if (self->job && dv_job_complete (self->job))
                break;
        }
        if (self->job && dv_job_complete (self->job)) {
            self->state = DV_STATE_DONE;
            break;
        }
        //  A flood keeps the drain busy: it must not keep us from a signal.
        if (dv_interrupted ()) {
            rc = -1;
            break;
        }
        int64_t now = dv_now_ms ();
        if (now - self->heartbeat_ms >= S_HEARTBEAT_MS) {
            s_publish_heartbeat (self);
            if (self->job)
                s_publish_credit (self);
        }
        if (self->job) {
            //  The clock once per drain, not once per batch: it showed in profiles.
            if (self->job->received != self->progress_received) {
                self->progress_received = self->job->received;
                self->progress_ms = now;
            }
            dv_progress_update (&self->progress, self->job);
            s_check_stall (self);
        }
        if (taken)
            continue;
        zmq_pollitem_t items[] = {
            {results, 0, ZMQ_POLLIN, 0},
            {zsock_resolve (self->control), 0, ZMQ_POLLIN, 0},
        };
        int64_t wait_ms = S_HEARTBEAT_MS - (dv_now_ms () - self->heartbeat_ms);
        zmq_poll (items, 2, wait_ms > 0 ? wait_ms : 0);
        if (dv_interrupted ()) {
            rc = -1;
            break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_on_subscriber (self);
    }
    zmq_msg_close (&message);
    return rc;
}

//  Publishes KILL for the linger period, at once to every new subscriber.
static void
s_linger (s_sink_t *self)
{
    int64_t end_ms = dv_now_ms () + self->options.linger_ms;
    s_publish_heartbeat (self);
    while (!dv_interrupted () && dv_now_ms () < end_ms) {
        zmq_pollitem_t items[] = {{zsock_resolve (self->control), 0, ZMQ_POLLIN, 0}};
        int64_t wait_ms = S_KILL_EVERY_MS - (dv_now_ms () - self->heartbeat_ms);
        zmq_poll (items, 1, wait_ms > 0 ? wait_ms : 0);
        if (items[0].revents & ZMQ_POLLIN)
            s_on_subscriber (self);
        if (dv_now_ms () - self->heartbeat_ms >= S_KILL_EVERY_MS)
            s_publish_heartbeat (self);
        //  Late results still arrive; drop them quietly.
        zmq_msg_t message;
        zmq_msg_init (&message);
        while (zmq_msg_recv (&message, zsock_resolve (self->results), ZMQ_DONTWAIT) >= 0)
            ;
        zmq_msg_close (&message);
    }
}

static void
s_report (s_sink_t *self, bool interrupted)
{
    dv_progress_end (&self->progress);
    if (self->output)
        dv_output_flush (self->output);
    if (!self->job)
        return;
    dv_summary_extra_t extra = {
        .malformed = self->malformed,
        .resends = self->resends,
        .tasks_requested = self->tasks_requested,
        .interrupted = interrupted,
    };
    dv_summary_print (self->job, &extra, stderr);
    if (self->options.json) {
        dv_summary_print_json (self->job, &extra, stdout);
        fflush (stdout);
    }
}

int
main (int argc, char **argv)
{
    dv_process_init ("sink");
    s_sink_t self = {0};
    int parsed = s_parse_options (&self.options, argc, argv);
    if (parsed != DV_OPTIONS_RUN)
        return parsed == DV_OPTIONS_DONE ? DV_EXIT_OK : DV_EXIT_USAGE;
    //  A CURVE server to everyone; --curve-server is not needed.
    if (dv_security_new (&self.security, &self.options.curve, false, true))
        return DV_EXIT_USAGE;
    self.output = dv_output_new (STDOUT_FILENO);
    if (!self.output) {
        dv_log ("out of memory");
        return DV_EXIT_RUNTIME;
    }
    int exit_code = DV_EXIT_RUNTIME;
    if (s_open_sockets (&self))
        exit_code = dv_socket_exit_code ();
    else {
        if (s_gather (&self) == 0) {
            s_report (&self, false);
            s_linger (&self);
            dv_u256_t expected = dv_job_expected_sum (self.job);
            exit_code =
                dv_u256_equal (&self.job->sum, &expected) ? DV_EXIT_OK : DV_EXIT_RUNTIME;
        } else {
            s_report (&self, true);
            dv_log ("interrupted: stopping");
            exit_code = dv_interrupted_exit_code ();
        }
    }
    s_close_sockets (&self);
    dv_security_destroy (&self.security);
    dv_job_destroy (&self.job);
    dv_output_destroy (&self.output);
    return exit_code;
}
