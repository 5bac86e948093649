/*  sink: gathers, checks and prints the results of one job, then ends it.

    The sink binds the result socket (a PULL that workers and the ventilator's
    announcement reach) and the control socket (an XPUB: it sees every new
    subscriber, and greets each with a heartbeat at once, so nobody waits for
    a timer; it takes only the protocol's own topics, see s_on_subscriber). A job runs:
    idle -> announced -> every task in -> summary -> KILL, repeated for a linger so that
    late subscribers hear it -> exit 0. The ventilator repeats its announcement every
    second while it runs: a job whose ventilator has been silent past --peer-timeout is
    abandoned (summary, then ABANDONED on control for the linger, exit 1); one that no
    result ever came for is forgotten instead, and the sink is idle again (a stray
    announcement must not end it). Under CURVE each message's key must be allowed now
    and fit its role (roles.h): announcements from the ventilator's key, results from
    worker keys, under ids their key owns; others are refused and counted.
*/
#include "sink.h"
#include "log.h"
#include "clock.h"
#include "process.h"
#include "exit_codes.h"
#include "job.h"
#include "net.h"
#include "options.h"
#include "peers.h"
#include "protocol.h"
#include "output.h"
#include "ordered.h"
#include "observe.h"
#include "report.h"
#include "trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_HEARTBEAT_MS  200
#define S_KILL_EVERY_MS 100
#define S_CONTROL_HWM   10000
//  Subscriptions queued per control connection (more wait in the kernel): a
//  divvy program sends five at most, and each one libzmq takes in before the
//  sink has closed a hostile connection costs a trie node per byte.
#define S_SUBSCRIPTIONS_HWM 4
//  The topic of connections being closed: no divvy message starts with it.
#define S_CLOSING_TOPIC  "\0\0"
#define S_OUTPUT_WAIT_MS 10  //  while stdout is full: how often to look again
#define S_ABANDON_MS     500 //  after a signal: how long stdout may take still

typedef struct {
    const char *tasks_endpoints; //  unused by the sink; accepted so that one
                                 //  environment can serve every program
    const char *results_endpoints;
    const char *control_endpoints;
    bool quiet;
    bool json;
    bool ordered;
    int64_t ordered_budget;
    int64_t linger_ms;
    int64_t resend_after_ms;
    int64_t max_tasks;
    int64_t peer_timeout_s;
    const char *metrics; //  [ADDRESS:]PORT, or NULL
    dv_security_options_t curve;
    const char *trace; //  FILE, or NULL
} s_options_t;

typedef struct {
    s_options_t options;
    dv_security_t *security;
    dv_roles_t *roles; //  per-message checks under CURVE, or NULL
    zsock_t *results;
    zsock_t *control;
    dv_peers_t *workers; //  who is connected to the result socket
    uint64_t departed;   //  dv_peers_departed when last looked at
    dv_job_t *job;
    dv_state_t state;
    uint64_t malformed;
    uint64_t credited; //  received count at the last credit sent
    bool worker_left;  //  a worker left since the last RESEND
    //  A recovery: once a RESEND's tasks are all in, the next one goes at
    //  once, for the gaps below where results had reached when it began.
    dv_range_t asked[DV_RESEND_RANGES_MAX];
    uint32_t asked_count;
    uint64_t recovery_end;
    int64_t progress_ms;        //  when a new result last arrived (or the job began)
    uint64_t progress_received; //  the received count at progress_ms
    //  The gap at first_missing: when it last moved (or results first came
    //  past it), and where results had reached then. Tasks below gap_end
    //  still missing a stall timeout later were lost, even while others
    //  keep coming.
    uint64_t gap_first;
    uint64_t gap_end;
    int64_t gap_ms;
    int64_t resend_ms;        //  when we last asked for missing tasks
    uint64_t resends;         //  RESEND messages published
    uint64_t tasks_requested; //  tasks they asked for, counted each time
    int64_t heartbeat_ms;
    int64_t ventilator_heard_ms; //  the job's last announcement
    int64_t ended_ms;            //  when the job completed or was abandoned
    dv_output_t *output;
    dv_ordered_t *ordered; //  --ordered, or NULL
    uint64_t deferred;     //  line result messages over --ordered-budget, dropped
    uint64_t dropped_end;  //  one past the last task of those (known lost)
    dv_progress_t progress;
    dv_rate_limit_t malformed_limit;
    dv_rate_limit_t resend_limit;
    dv_rate_limit_t refused_limit;
    dv_rate_limit_t twin_limit;
    dv_rate_limit_t rekey_limit;
    dv_rate_limit_t subscriber_limit;
    uint64_t subscribers_closed; //  control connections closed for their subscriptions
    bool others_said;            //  the warning about worker ids past the cap
    dv_metrics_t *metrics;       //  --metrics, or NULL
    dv_trace_t trace;            //  --trace
} s_sink_t;

//  The sink's command over options, set to their defaults, handed to use:
//  the one definition of its options, for parsing and for dv_sink_describe.
static int
s_command (s_options_t *options, dv_command_use_fn *use, void *context)
{
    *options = (s_options_t){
        .tasks_endpoints = dv_endpoint_default (DV_FLOW_TASKS, false),
        .results_endpoints = dv_endpoint_default (DV_FLOW_RESULTS, true),
        .control_endpoints = dv_endpoint_default (DV_FLOW_CONTROL, true),
        .linger_ms = 1000,
        .resend_after_ms = 1000,
        .max_tasks = INT64_MAX,
        .peer_timeout_s = 30,
        .ordered_budget = (int64_t) DV_ORDERED_BUDGET_DEFAULT,
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
        {"ordered", DV_OPTION_FLAG, NULL,
         "a line job's results in task order (held within --ordered-budget)", "off", 0, 0,
         &options->ordered},
        {"ordered-budget", DV_OPTION_INTEGER, "BYTES",
         "--ordered: result bytes held at most; more are asked for again", "67108864", 1,
         INT64_MAX, &options->ordered_budget},
        {"linger", DV_OPTION_INTEGER, "MS",
         "after the job, keep repeating KILL this long for late subscribers", "1000", 0,
         600000, &options->linger_ms},
        {"resend-after", DV_OPTION_INTEGER, "MS",
         "ask again for lost tasks once no result came, or a gap stayed, for MS", "1000",
         10, 3600000, &options->resend_after_ms},
        {"max-tasks", DV_OPTION_INTEGER, "N",
         "refuse jobs larger than N tasks (memory does not grow with N)",
         "9223372036854775807", 1, INT64_MAX, &options->max_tasks},
        {"peer-timeout", DV_OPTION_INTEGER, "SECONDS",
         "abandon a job whose ventilator has been silent this long", "30", 1, 86400,
         &options->peer_timeout_s},
        DV_METRICS_OPTION (&options->metrics),
        DV_SECURITY_OPTIONS (&options->curve),
        {"trace", DV_OPTION_TEXT, "FILE", DV_TRACE_HELP, NULL, 0, 0, &options->trace},
    };
    const dv_command_t command = {
        "sink",
        "Gather, check and print the results of a divvy job; end it with KILL.\n"
        "Stdout: one line per result, \"value square\" (not with --quiet); for a line\n"
        "job (ventilator --lines) \"TASK_ID<TAB>RESULT\" per task that did not fail,\n"
        "in arrival order; then with --json the summary object. Stderr: progress\n"
        "and the human summary (a line job's failed tasks, with reasons, too).",
        table,
        sizeof table / sizeof table[0],
        DV_EXIT_CODES_HELP,
        false,
        NULL,
        NULL,
    };
    return use (&command, context);
}

int
dv_sink_describe (dv_command_use_fn *use, void *context)
{
    s_options_t options;
    return s_command (&options, use, context);
}

static int
s_parse_options (s_options_t *options, int argc, char **argv)
{
    dv_arguments_t arguments = {argc, argv};
    return s_command (options, dv_options_parse_use, &arguments);
}

static int
s_open_sockets (s_sink_t *self)
{
    s_options_t *options = &self->options;
    //  What each connection may queue is a byte budget (net.h).
    const dv_socket_config_t results_config = {
        .receive_hwm = DV_RESULTS_HWM,
        .max_message_size = DV_RESULTS_CAP,
        .security = self->security,
        .curve_server = true,
    };
    //  The last KILLs and heartbeats matter: give them time to leave.
    const dv_socket_config_t control_config = {
        .send_hwm = S_CONTROL_HWM,
        .receive_hwm = S_SUBSCRIPTIONS_HWM,
        .linger_ms = DV_LINGER_MS,
        .max_message_size = DV_SUBSCRIPTION_CAP,
        .security = self->security,
        .curve_server = true,
    };
    //  The monitor watches before the bind, or it misses the first workers.
    self->results = dv_socket_open (ZMQ_PULL, DV_FLOW_RESULTS, &results_config);
    if (!self->results || !(self->workers = dv_peers_new (self->results, "result")) ||
        dv_socket_attach (self->results, DV_FLOW_RESULTS, options->results_endpoints,
                          true))
        return -1;
    //  Manual before the bind: no subscription may be taken for us.
    self->control = dv_socket_open (ZMQ_XPUB, DV_FLOW_CONTROL, &control_config);
    if (!self->control)
        return -1;
    zsock_set_xpub_manual (self->control, 1);
    return dv_socket_attach (self->control, DV_FLOW_CONTROL, options->control_endpoints,
                             true);
}

static void
s_close_sockets (s_sink_t *self)
{
    dv_peers_destroy (&self->workers);
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
        heartbeat.shape = self->job->shape;
    }
    if (self->ended_ms) {
        int64_t ago = dv_now_ms () - self->ended_ms;
        heartbeat.ended_ms_ago = ago < UINT32_MAX ? (uint32_t) ago : UINT32_MAX;
    }
    uint8_t buffer[DV_HEARTBEAT_SIZE];
    s_publish (self, buffer, dv_heartbeat_encode (&heartbeat, buffer));
    dv_sink_counts_t counts = {
        self->state,   self->malformed,       dv_roles_refused (self->roles),
        self->resends, self->tasks_requested, dv_peers_connected (self->workers)};
    dv_sink_observe_update (self->metrics, self->job, &counts);
    if (self->state == DV_STATE_DONE) {
        dv_kill_t kill = {heartbeat.job_id, heartbeat.shape};
        s_publish (self, buffer, dv_kill_encode (&kill, buffer));
    }
    self->heartbeat_ms = dv_now_ms ();
}

static void
s_publish_credit (s_sink_t *self)
{
    dv_credit_t credit = {self->job->announce.job_id, self->job->received,
                          self->job->first_missing, self->job->shape};
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

//  Tells the ventilator of announce why its job is not taken (REFUSE).
static void
s_refuse (s_sink_t *self, const dv_announce_t *announce, dv_refuse_reason_t reason,
          uint64_t detail)
{
    dv_refuse_t refuse = {announce->job_id, dv_announce_shape (announce), reason, detail};
    uint8_t buffer[DV_REFUSE_SIZE];
    s_publish (self, buffer, dv_refuse_encode (&refuse, buffer));
}

static void
s_on_announce (s_sink_t *self, const uint8_t *data, size_t size, const char *key)
{
    dv_announce_t announce;
    if (dv_announce_decode (data, size, &announce)) {
        s_malformed (self, "bad job announcement");
        return;
    }
    //  Not even a REFUSE: it would reach the real ventilator, whose job id
    //  and shape a forger may know.
    dv_roles_verdict_t verdict = dv_roles_check (self->roles, key, DV_ROLE_VENTILATOR);
    if (verdict != DV_ROLES_OK) {
        dv_roles_refuse (self->roles, verdict, key, DV_ROLE_VENTILATOR,
                         "refused a job announcement from", "");
        return;
    }
    if (self->job) {
        uint64_t job_id = self->job->announce.job_id;
        if (announce.job_id != job_id) {
            dv_log_limited (&self->refused_limit,
                            "refusing job %" PRIu64 ": busy with job %" PRIu64,
                            announce.job_id, job_id);
            s_refuse (self, &announce, DV_REFUSE_BUSY, job_id);
        } else if (dv_announce_shape (&announce) != self->job->shape) {
            dv_log_limited (&self->refused_limit,
                            "refusing an announcement of job %" PRIu64
                            " with another shape (%" PRIu64 " tasks, not %" PRIu64 ")",
                            job_id, announce.task_count, self->job->announce.task_count);
            s_refuse (self, &announce, DV_REFUSE_SHAPE, 0);
        } else {
            //  Its ventilator lives (and may have missed our answer).
            if (dv_job_rekey (self->job, &announce.tag_key))
                dv_log_limited (&self->rekey_limit,
                                "job %" PRIu64 ": announced with a new tag key (its "
                                "ventilator restarted?): taking it",
                                job_id);
            self->ventilator_heard_ms = dv_now_ms ();
            s_publish_credit (self);
        }
        return;
    }
    if (announce.task_count > (uint64_t) self->options.max_tasks) {
        dv_log_limited (&self->refused_limit,
                        "refusing job %" PRIu64 " of %" PRIu64
                        " tasks: over --max-tasks %" PRId64,
                        announce.job_id, announce.task_count, self->options.max_tasks);
        s_refuse (self, &announce, DV_REFUSE_TOO_LARGE,
                  (uint64_t) self->options.max_tasks);
        return;
    }
    self->job = dv_job_new (&announce);
    if (!self->job) {
        dv_log_limited (&self->refused_limit,
                        "refusing job %" PRIu64 ": no memory for %" PRIu64 " tasks",
                        announce.job_id, announce.task_count);
        s_refuse (self, &announce, DV_REFUSE_NO_MEMORY, 0);
        return;
    }
    self->ventilator_heard_ms = dv_now_ms ();
    self->state = DV_STATE_RUNNING;
    dv_log ("job %" PRIu64 ": gathering %" PRIu64 " results", announce.job_id,
            announce.task_count);
    dv_progress_init (&self->progress);
    self->progress_ms = self->resend_ms = self->gap_ms = dv_now_ms ();
    self->gap_first = self->gap_end = 0;
    s_publish_credit (self);
    s_publish_heartbeat (self);
}

//  A peer of the result socket that completed its handshake has left: the
//  work it held is lost for sure, whatever the measured latency says.
static void
s_on_peer_events (s_sink_t *self)
{
    dv_peers_on_events (self->workers);
    uint64_t departed = dv_peers_departed (self->workers);
    if (departed != self->departed && self->job)
        self->worker_left = true;
    self->departed = departed;
}

//  Results under one worker id from two live connections at once: two
//  workers share the id, and their counts merge. Said once per id change.
static void
s_check_source (s_sink_t *self, dv_job_worker_t *worker, const dv_results_t *results,
                int source_fd)
{
    if (worker->source_fd == source_fd)
        return;
    if (worker->source_fd >= 0) {
        //  A reconnected worker's old connection may not be counted gone yet.
        dv_peers_on_events (self->workers);
        if (dv_peers_is_connected (self->workers, worker->source_fd))
            dv_log_limited (&self->twin_limit,
                            "two workers deliver results as '%.*s' at once: their "
                            "counts are merged; give each its own --id",
                            (int) results->worker_id_length, results->worker_id);
    }
    worker->source_fd = source_fd;
}

//  Whether results may count, by their key's role and the key that owns
//  their worker id; a refusal is counted and said once per kind and key.
static bool
s_results_refused (s_sink_t *self, const dv_results_t *results, const char *key)
{
    dv_roles_verdict_t verdict = dv_roles_check (self->roles, key, DV_ROLE_WORKER);
    if (verdict == DV_ROLES_OK)
        verdict = dv_roles_check_id (self->roles, key, results->worker_id,
                                     results->worker_id_length);
    if (verdict == DV_ROLES_OK)
        return false;
    char id[DV_WORKER_ID_MAX + 1];
    snprintf (id, sizeof id, "%.*s", (int) results->worker_id_length, results->worker_id);
    uint64_t *counted = self->job ? zhashx_lookup (self->job->workers, id) : NULL;
    char what[DV_WORKER_ID_MAX + 64], detail[DV_WORKER_ID_MAX + 64];
    snprintf (what, sizeof what, "refused results as '%s' from", id);
    snprintf (detail, sizeof detail, "; '%s' has %" PRIu64 " results counted", id,
              counted ? *counted : 0);
    dv_roles_refuse (self->roles, verdict, key, DV_ROLE_WORKER, what, detail);
    return true;
}

//  Whether a decoded batch of either kind may be taken: refused under CURVE
//  roles, or late for a finished job (harmless duplicates), or for an
//  unknown one, it may not.
static bool
s_results_takeable (s_sink_t *self, const dv_results_t *common, const char *key)
{
    if (s_results_refused (self, common, key))
        return false;
    if (!self->job || self->state != DV_STATE_RUNNING) {
        if (self->job && common->job_id == self->job->announce.job_id)
            self->job->duplicates += common->count;
        else
            s_malformed (self, "results for an unknown job");
        return false;
    }
    return true;
}

//  What follows a batch's take, whatever its kind: why it was not taken, or
//  the trace, the worker's id and the credit.
static void
s_on_taken (s_sink_t *self, dv_job_take_t taken, const char *bad_tag,
            const dv_results_t *common, int source_fd, const char *key)
{
    if (taken == DV_JOB_BAD_TAG) {
        s_malformed (self, bad_tag);
        return;
    }
    if (taken == DV_JOB_BEYOND_WINDOW) {
        s_malformed (self, "results past the window (DV_WINDOW_SPAN tasks beyond the "
                           "first missing one)");
        return;
    }
    if (taken != DV_JOB_TAKEN) {
        s_malformed (self, "results that do not fit the job");
        return;
    }
    dv_trace_batch (&self->trace, common->first_task, common->count,
                    dv_trace_clock (&self->trace));
    if (self->job->others && !self->others_said) {
        dv_log ("more than %d worker ids: the results of the others are counted "
                "under '" DV_WORKER_IDS_OTHERS "'",
                DV_WORKER_IDS_MAX);
        self->others_said = true;
    }
    if (self->job->last_worker && self->job->last_worker != self->job->others) {
        s_check_source (self, self->job->last_worker, common, source_fd);
        dv_roles_bind_id (self->roles, key, common->worker_id, common->worker_id_length);
    }
    if (self->job->received - self->credited >= self->job->announce.credit_step)
        s_publish_credit (self);
}

static void
s_on_results (s_sink_t *self, const uint8_t *data, size_t size, int source_fd,
              const char *key)
{
    dv_results_t results;
    if (dv_results_decode (data, size, &results)) {
        s_malformed (self, "bad result batch");
        return;
    }
    if (!s_results_takeable (self, &results, key))
        return;
    dv_job_take_t taken = dv_job_take (
        self->job, &results, self->options.quiet ? NULL : dv_output_result, self->output);
    s_on_taken (self, taken, "results whose values are not their tasks' (wrong tag)",
                &results, source_fd, key);
}

static void
s_on_line_results (s_sink_t *self, const uint8_t *data, size_t size, int source_fd,
                   const char *key)
{
    dv_line_results_t results;
    if (dv_line_results_decode (data, size, &results)) {
        s_malformed (self, "bad line result batch");
        return;
    }
    //  The checks of roles and ids take the common fields of a batch.
    dv_results_t common = {.job_id = results.job_id,
                           .first_task = results.first_task,
                           .count = results.count,
                           .worker_id = results.worker_id,
                           .worker_id_length = results.worker_id_length};
    if (!s_results_takeable (self, &common, key))
        return;
    //  Over --ordered's budget: not taken, not counted; RESEND brings it again.
    if (self->ordered && !dv_ordered_fits (self->ordered, &results)) {
        self->deferred++;
        if (results.first_task + results.count > self->dropped_end)
            self->dropped_end = results.first_task + results.count;
        return;
    }
    dv_job_take_t taken = dv_job_take_lines (self->job, &results,
                                             self->options.quiet ? NULL
                                             : self->ordered     ? dv_ordered_line
                                                                 : dv_output_line,
                                             self->ordered ? (void *) self->ordered
                                                           : (void *) self->output);
    s_on_taken (self, taken, "line results whose tags are not their tasks' lines'",
                &common, source_fd, key);
}

//  Takes more results only while stdout keeps up (--quiet writes none).
static bool
s_output_room (s_sink_t *self)
{
    return self->options.quiet || dv_output_has_room (self->output);
}

//  key: the sender's CURVE key (the ZAP User-Id), NULL without CURVE.
static void
s_on_message (s_sink_t *self, const uint8_t *data, size_t size, int source_fd,
              const char *key)
{
    switch (dv_message_kind (data, size)) {
        case DV_KIND_RESULTS:
        case DV_KIND_SQUARES:
            s_on_results (self, data, size, source_fd, key);
            break;
        case DV_KIND_LINE_RESULTS:
            s_on_line_results (self, data, size, source_fd, key);
            break;
        case DV_KIND_ANNOUNCE:
            s_on_announce (self, data, size, key);
            break;
        default:
            s_malformed (self, "not a result batch or job announcement");
    }
}

//  How long the job may go without a new result before the work in flight
//  counts as lost: a few batch latencies as measured, never less than
//  --resend-after. Before any batch has come no latency is known, and slow
//  tasks are no sign of loss: then only a worker seen to leave is.
#define S_STALL_LATENCIES 4
static int64_t
s_stall_timeout_ms (s_sink_t *self)
{
    if (!self->job->batch_latency_us && !self->worker_left)
        return INT64_MAX;
    int64_t measured_ms = self->job->batch_latency_us * S_STALL_LATENCIES / 1000;
    return measured_ms > self->options.resend_after_ms ? measured_ms
                                                       : self->options.resend_after_ms;
}

//  Cuts ranges to their first tasks_max tasks; returns how many ranges are
//  left and sets *task_total to their tasks.
static uint32_t
s_within (dv_range_t *ranges, uint32_t range_count, uint64_t tasks_max,
          uint64_t *task_total)
{
    uint64_t total = 0;
    uint32_t index = 0;
    for (; index < range_count && total < tasks_max; index++) {
        if (ranges[index].task_count > tasks_max - total)
            ranges[index].task_count = tasks_max - total;
        total += ranges[index].task_count;
    }
    *task_total = total;
    return index;
}

//  Notes when the gap at first_missing moved, or first had results past it.
//  While stdout is full the results that would fill it wait in libzmq:
//  no loss, so the clock starts again.
static void
s_track_gap (s_sink_t *self, int64_t now, bool room)
{
    dv_job_t *job = self->job;
    bool moved = job->first_missing != self->gap_first;
    bool passed =
        self->gap_end <= self->gap_first && job->received_end > job->first_missing;
    if (moved || passed || !room) {
        self->gap_first = job->first_missing;
        self->gap_end = job->received_end;
        self->gap_ms = now;
    }
}

//  When no new result has come for the stall timeout while some are missing,
//  the work in flight was lost (a worker died or froze): ask for it again.
//  So was a gap below where results had reached a stall timeout ago, even
//  while other results keep coming: ask for the gaps below that point.
//  The lowest gaps first; a RESEND holds at most DV_RESEND_RANGES_MAX ranges.
static void
s_check_stall (s_sink_t *self)
{
    int64_t now = dv_now_ms ();
    dv_range_t ranges[DV_RESEND_RANGES_MAX];
    uint64_t task_total;
    uint32_t range_count = 0;
    bool stalled = true;
    int64_t timeout_ms = s_stall_timeout_ms (self);
    //  A worker that died holding thousands of scattered tasks leaves more
    //  gaps than one RESEND holds: go on as soon as the last one is answered.
    bool continuing =
        self->asked_count && dv_job_has_all (self->job, self->asked, self->asked_count);
    if (continuing)
        range_count = dv_job_missing_below (self->job, self->recovery_end, ranges,
                                            DV_RESEND_RANGES_MAX, &task_total);
    if (continuing && !range_count)
        self->asked_count = 0; //  the recovery is over
    //  What --ordered dropped past its budget is lost for sure: ask for it
    //  at once, from the first missing task on, a budget's worth at a time.
    if (!range_count && !self->asked_count &&
        self->job->first_missing < self->dropped_end) {
        self->recovery_end = self->dropped_end;
        range_count = dv_job_missing_below (self->job, self->recovery_end, ranges,
                                            DV_RESEND_RANGES_MAX, &task_total);
        continuing = range_count != 0; //  the summary counts them: no log
    }
    if (!range_count) {
        if (now - self->resend_ms < timeout_ms)
            return;
        stalled = now - self->progress_ms >= timeout_ms;
        bool gap_lost =
            self->gap_end > self->gap_first && now - self->gap_ms >= timeout_ms;
        if (!stalled && !gap_lost)
            return;
        continuing = false;
        self->worker_left = false;
        self->recovery_end = stalled ? self->job->received_end : self->gap_end;
        range_count =
            stalled
                ? dv_job_missing (self->job, ranges, DV_RESEND_RANGES_MAX, &task_total)
                : dv_job_missing_below (self->job, self->recovery_end, ranges,
                                        DV_RESEND_RANGES_MAX, &task_total);
        //  The gap's clock starts again: what is missing below where results
        //  reach now is the next gap.
        self->gap_ms = now;
        self->gap_end = self->job->received_end;
        if (!range_count)
            return;
    }
    if (self->ordered)
        range_count = s_within (ranges, range_count,
                                dv_ordered_resend_tasks (self->ordered), &task_total);
    //  What must come back before the next one: the ranges below where
    //  results had reached (the ventilator sends none it never sent).
    self->asked_count = 0;
    for (uint32_t index = 0; index < range_count; index++) {
        dv_range_t range = ranges[index];
        if (range.first_task >= self->recovery_end)
            break;
        if (range.first_task + range.task_count > self->recovery_end)
            range.task_count = self->recovery_end - range.first_task;
        self->asked[self->asked_count++] = range;
    }
    uint8_t buffer[DV_RESEND_SIZE (DV_RESEND_RANGES_MAX)];
    s_publish (
        self, buffer,
        dv_resend_encode (self->job->announce.job_id, ranges, range_count, buffer));
    self->resend_ms = now;
    self->resends++;
    self->tasks_requested += task_total;
    if (continuing)
        return; //  the recovery's first RESEND said it
    if (stalled)
        dv_log_limited (&self->resend_limit,
                        "no new result for %" PRId64 " ms: asking again for %" PRIu64
                        " tasks in %" PRIu32 " ranges, from task %" PRIu64,
                        now - self->progress_ms, task_total, range_count,
                        ranges[0].first_task);
    else
        dv_log_limited (&self->resend_limit,
                        "task %" PRIu64 " still missing after %" PRId64
                        " ms while others came: asking again for %" PRIu64
                        " tasks in %" PRIu32 " ranges",
                        ranges[0].first_task, timeout_ms, task_total, range_count);
}

//  Closes the control connection on fd, which sent what the sink does not
//  take. shutdown, not close: the descriptor stays libzmq's, which sees the
//  connection end and frees what it held for it. fd comes from the
//  message's metadata; a listening socket or anything but a connected
//  socket is left alone (the number may have been reused since).
static void
s_close_subscriber (s_sink_t *self, int fd)
{
    int listening = 0;
    socklen_t size = sizeof listening;
    struct sockaddr_storage peer;
    socklen_t peer_size = sizeof peer;
    if (fd < 0 || getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) ||
        listening || getpeername (fd, (struct sockaddr *) &peer, &peer_size) ||
        shutdown (fd, SHUT_RDWR))
        return;
    self->subscribers_closed++;
    dv_log_limited (&self->subscriber_limit,
                    "closed a control connection that subscribed to what the sink "
                    "does not publish (%" PRIu64 " so far)",
                    self->subscribers_closed);
}

//  Subscriptions, one message each (ZMQ_XPUB_MANUAL). libzmq 4.3.4 keeps
//  every subscription a connection sends, manual mode or not, until that
//  connection closes: 30,000 random 1000-byte ones took a GiB. So the sink
//  takes only the protocol's own topics (ZMQ_SUBSCRIBE applies to the
//  connection of the message just read) and closes any connection that
//  sends anything else, which frees it all. libzmq pairs each message with
//  its connection through a queue that a message which is no subscription
//  (an XSUB may send one) does not join: after one, until the queue is
//  empty, the connection of what is read is unknown, so those subscribers
//  are closed too (they connect again and subscribe anew). Greets new
//  subscribers straight away.
static void
s_on_subscriber (s_sink_t *self)
{
    void *control = zsock_resolve (self->control);
    zmq_msg_t message;
    zmq_msg_init (&message);
    bool greet = false;
    bool paired = true; //  the queue pairs messages with their connections
    int closed_fd = -1; //  the connection closed last (its messages still come)
    while (zmq_msg_recv (&message, control, ZMQ_DONTWAIT) >= 0) {
        const uint8_t *data = zmq_msg_data (&message);
        size_t size = zmq_msg_size (&message);
        //  -1 for the cancellations libzmq makes when a connection closes.
        int fd = zmq_msg_get (&message, ZMQ_SRCFD);
        if (size == 0 || data[0] > 1)
            paired = false;
        if (dv_subscription_is_control (data, size)) {
            zmq_setsockopt (control, data[0] ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE, data + 1,
                            size - 1);
            greet |= data[0] == 1;
            if (paired)
                continue;
        }
        if (fd < 0)
            continue;
        //  libzmq reads on what the kernel holds after a shutdown, and keeps
        //  each subscription until the connection ends: a message to it
        //  alone fails to send, which ends it at once.
        if (fd == closed_fd)
            continue;
        s_close_subscriber (self, fd);
        closed_fd = fd;
        if (paired) {
            zmq_setsockopt (control, ZMQ_SUBSCRIBE, S_CLOSING_TOPIC,
                            sizeof S_CLOSING_TOPIC - 1);
            s_publish (self, (const uint8_t *) S_CLOSING_TOPIC,
                       sizeof S_CLOSING_TOPIC - 1);
        }
    }
    zmq_msg_close (&message);
    if (greet)
        s_publish_heartbeat (self);
}

//  An abandoned job that no result ever came for was an announcement and no
//  more (a stray peer's, or a ventilator's that died at once): nothing was
//  gathered, so nothing is reported, and the sink is idle again for the
//  next announcement rather than ended by it. Workers hear it idle.
static void
s_forget_job (s_sink_t *self)
{
    dv_log ("no result came for job %" PRIu64 ": forgetting it; idle again",
            self->job->announce.job_id);
    dv_progress_end (&self->progress);
    dv_job_destroy (&self->job);
    self->state = DV_STATE_IDLE;
    self->ended_ms = 0;
    self->credited = 0;
    self->worker_left = false;
    self->asked_count = 0;
    self->recovery_end = 0;
    self->dropped_end = 0;
    self->progress_received = 0;
    self->resends = 0;
    self->tasks_requested = 0;
    s_publish_heartbeat (self);
}

//  Receives and handles what arrives until the job completes. Returns 0 when
//  it did, 1 when it was abandoned, -1 on interrupt.
static int
s_gather (s_sink_t *self)
{
    zmq_msg_t message;
    zmq_msg_init (&message);
    void *results = zsock_resolve (self->results);
    int rc = 0;
    while (self->state != DV_STATE_DONE) {
        //  Drain results without polling while they flow.
        //  While stdout is full, results wait in libzmq (the ventilator's
        //  window fills) and control goes on as usual.
        bool room = s_output_room (self);
        int taken = 0;
        if (self->job)
            dv_job_set_clock (self->job, dv_now_us ());
        dv_roles_refresh (self->roles, dv_now_ms ());
        while (room && taken < 1000 && !dv_interrupted () &&
               zmq_msg_recv (&message, results, ZMQ_DONTWAIT) >= 0) {
            s_on_message (self, zmq_msg_data (&message), zmq_msg_size (&message),
                          zmq_msg_get (&message, ZMQ_SRCFD),
                          self->roles ? zmq_msg_gets (&message, "User-Id") : NULL);
            taken++;
            room = s_output_room (self);
            if (self->job && dv_job_complete (self->job))
                break;
        }
        //  A flood keeps the drain busy: it must not keep us from a signal.
        if (dv_interrupted ()) {
            rc = -1;
            break;
        }
        if (self->job && dv_job_complete (self->job)) {
            self->state = DV_STATE_DONE;
            self->ended_ms = dv_now_ms ();
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
            //  A slow stdout is no lost work: no RESEND for it. Nor is it a
            //  silent ventilator: its announcements wait unread with the results.
            if (self->job->received != self->progress_received || !room) {
                self->progress_received = self->job->received;
                self->progress_ms = now;
            }
            s_track_gap (self, now, room);
            if (!room)
                self->ventilator_heard_ms = now;
            dv_progress_update (&self->progress, self->job);
            s_check_stall (self);
            if (now - self->ventilator_heard_ms > self->options.peer_timeout_s * 1000) {
                dv_log ("the ventilator has been silent for %" PRId64
                        " s: abandoning job %" PRIu64 " (%" PRIu64 " of %" PRIu64
                        " results in)",
                        self->options.peer_timeout_s, self->job->announce.job_id,
                        self->job->received, self->job->announce.task_count);
                if (!self->job->received) {
                    s_forget_job (self);
                    continue;
                }
                self->state = DV_STATE_ABANDONED;
                self->ended_ms = now;
                rc = 1;
                break;
            }
        }
        if (taken) {
            //  Subscriptions are read while results flow too: libzmq
            //  queues them as they come, whether we look or not.
            s_on_subscriber (self);
            continue;
        }
        zmq_pollitem_t items[] = {
            {zsock_resolve (self->control), 0, ZMQ_POLLIN, 0},
            {zsock_resolve (dv_peers_monitor (self->workers)), 0, ZMQ_POLLIN, 0},
            {results, 0, ZMQ_POLLIN, 0},
        };
        int64_t wait_ms = S_HEARTBEAT_MS - (dv_now_ms () - self->heartbeat_ms);
        if (!room && wait_ms > S_OUTPUT_WAIT_MS)
            wait_ms = S_OUTPUT_WAIT_MS;
        zmq_poll (items, room ? 3 : 2, wait_ms > 0 ? wait_ms : 0);
        if (dv_interrupted ()) {
            rc = -1;
            break;
        }
        if (items[0].revents & ZMQ_POLLIN)
            s_on_subscriber (self);
        if (items[1].revents & ZMQ_POLLIN)
            s_on_peer_events (self);
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
        for (int dropped = 0;
             dropped < 1000 &&
             zmq_msg_recv (&message, zsock_resolve (self->results), ZMQ_DONTWAIT) >= 0;
             dropped++)
            ;
        zmq_msg_close (&message);
    }
}

//  Waits for stdout to take everything (or fail) while heartbeating at the
//  usual cadence: a slow reader is not a dead sink. After a signal, waits
//  S_ABANDON_MS at most, then counts what is left as lost.
static void
s_flush_output (s_sink_t *self)
{
    int64_t interrupted_ms = 0;
    while (dv_output_finish (self->output, S_OUTPUT_WAIT_MS)) {
        int64_t now = dv_now_ms ();
        if (dv_interrupted () && !interrupted_ms)
            interrupted_ms = now;
        if (interrupted_ms && now - interrupted_ms >= S_ABANDON_MS) {
            dv_output_abandon (self->output);
            break;
        }
        zmq_pollitem_t items[] = {{zsock_resolve (self->control), 0, ZMQ_POLLIN, 0}};
        zmq_poll (items, 1, 0);
        if (items[0].revents & ZMQ_POLLIN)
            s_on_subscriber (self);
        if (now - self->heartbeat_ms >= S_HEARTBEAT_MS)
            s_publish_heartbeat (self);
    }
}

//  The summaries, then stdout flushed. Returns true when stdout lost result
//  lines or the JSON summary (said in one line on stderr).
static bool
s_report (s_sink_t *self, bool interrupted, bool abandoned)
{
    dv_progress_finish (&self->progress, self->job);
    if (self->ordered && self->job && self->job->announce.is_lines)
        dv_log ("--ordered: held %zu bytes at most (budget %" PRId64 "); %" PRIu64
                " result messages over it asked for again%s",
                dv_ordered_held_max (self->ordered), self->options.ordered_budget,
                self->deferred,
                dv_ordered_unordered (self->ordered) ? "; out of memory, some printed "
                                                       "out of order"
                                                     : "");
    else if (self->ordered && self->job)
        dv_log ("--ordered applies to line jobs: a squares job prints as results "
                "arrive");
    if (self->job) {
        dv_summary_extra_t extra = {
            .malformed = self->malformed,
            .refused = dv_roles_refused (self->roles),
            .resends = self->resends,
            .tasks_requested = self->tasks_requested,
            .interrupted = interrupted,
            .abandoned = abandoned,
        };
        dv_summary_print (self->job, &extra, stderr);
        if (self->options.json) {
            size_t length = 0;
            char *text = dv_summary_json (self->job, &extra, &length);
            dv_output_summary (self->output, text, length);
            free (text);
        }
    }
    s_flush_output (self);
    return dv_report_output_lost (self->output);
}

int
dv_sink_main (int argc, char **argv)
{
    dv_process_init ("sink");
    s_sink_t self = {0};
    int parsed = s_parse_options (&self.options, argc, argv);
    if (parsed != DV_OPTIONS_RUN)
        return parsed == DV_OPTIONS_DONE ? DV_EXIT_OK : DV_EXIT_USAGE;
    //  A CURVE server to everyone; --curve-server is not needed.
    if (dv_security_new (&self.security, &self.options.curve, false, true) ||
        dv_trace_open (&self.trace, self.options.trace))
        return DV_EXIT_USAGE;
    self.roles = dv_security_roles (self.security);
    self.output = dv_output_new (STDOUT_FILENO);
    if (self.output && self.options.ordered && !self.options.quiet)
        self.ordered = dv_ordered_new (dv_output_line, self.output,
                                       (size_t) self.options.ordered_budget);
    if (!self.output || (self.options.ordered && !self.options.quiet && !self.ordered)) {
        dv_log ("out of memory");
        return DV_EXIT_RUNTIME;
    }
    int exit_code = DV_EXIT_RUNTIME;
    self.metrics = dv_sink_observe_new (self.options.metrics, &exit_code);
    if (self.options.metrics && !self.metrics)
        ; //  said why; exit_code says how
    else if (s_open_sockets (&self))
        exit_code = dv_socket_exit_code ();
    else {
        int gathered = s_gather (&self);
        if (gathered >= 0) {
            bool abandoned = gathered == 1;
            bool lost = s_report (&self, false, abandoned);
            s_linger (&self);
            dv_u256_t expected = dv_job_expected_sum (self.job);
            //  A line job has no sum to check: complete, or complete with
            //  failed tasks.
            bool wrong = !self.job->announce.is_lines &&
                         !dv_u256_equal (&self.job->sum, &expected);
            exit_code = abandoned || wrong ? DV_EXIT_RUNTIME
                        : lost             ? DV_EXIT_OUTPUT
                        : self.job->failed ? DV_EXIT_FAILED_TASKS
                                           : DV_EXIT_OK;
        } else {
            s_report (&self, true, false);
            dv_log ("interrupted: stopping");
            exit_code = dv_interrupted_exit_code ();
        }
    }
    s_close_sockets (&self);
    dv_security_destroy (&self.security);
    dv_job_destroy (&self.job);
    dv_ordered_destroy (&self.ordered);
    dv_output_destroy (&self.output);
    dv_metrics_destroy (&self.metrics);
    dv_trace_close (&self.trace);
    return exit_code;
}
