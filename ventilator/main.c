/*  ventilator: hands out a job's tasks in batches.

    The story of a job, from here: wait until the sink is heard on control and
    enough workers are connected (the gate); announce the job to the sink and
    wait for its credit; stream batches of consecutive tasks, never more than
    the window ahead of what the sink has received; then wait for the sink's
    KILL and exit 0. Nothing is sent before the options and the input are
    known to be good.
*/
#include "ventilator.h"
#include "log.h"
#include "clock.h"
#include "process.h"
#include "exit_codes.h"
#include "dispatch.h"
#include "dispatch_mode.h"
#include "gate.h"
#include "net.h"
#include "observe.h"
#include "options.h"
#include "plan.h"
#include "protocol.h"
#include "session.h"
#include "source.h"
#include "trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define S_POLL_MS           100
#define S_ACCEPT_TIMEOUT_MS 10000
#define S_DRAIN_EVERY       64 //  batches between reads of credit and control

typedef struct {
    const char *tasks_endpoints;
    const char *results_endpoints;
    const char *control_endpoints;
    int64_t count;
    bool count_given; //  by a flag or a variable: not with --input
    int64_t start;
    bool start_given; //  likewise
    const char *input;
    bool lines;    //  --lines: each input line is an opaque task
    int64_t batch; //  0: auto
    const char *min_workers;
    const char *job; //  NULL: random
    int64_t window;  //  batches in flight; 0: auto
    int64_t peer_timeout_s;
    bool quiet;
    const char *metrics; //  [ADDRESS:]PORT, or NULL
    const char *dispatch_text;
    dv_dispatch_mode_t dispatch;
    dv_security_options_t curve;
    int64_t rate;      //  tasks/s at most; 0: as fast as credit allows
    const char *trace; //  FILE, or NULL
} s_options_t;

typedef struct {
    s_options_t options;
    dv_source_t source;
    uint64_t job_id;
    dv_plan_t plan; //  what to send next: batches, window, resend queue
    uint32_t credit_step;
    zsock_t *tasks;        //  ROUTER: batches out, workers' credit in; or PUSH
    zsock_t *announce;     //  PUSH to the sink's result socket
    dv_session_t *session; //  the sink's control socket
    dv_security_t *security;
    dv_roles_t *roles; //  per-message checks under CURVE, or NULL
    dv_gate_t *gate;
    dv_dispatch_t *dispatch;
    dv_announce_t announcement; //  our job, as the sink hears it
    uint64_t shape;             //  dv_announce_shape of it
    bool job_accepted;
    int64_t announced_ms;
    int64_t first_announced_ms;
    bool failed; //  the job cannot go on (said already)
    uint64_t malformed;
    uint64_t tasks_sent;             //  first time or again
    dv_ventilator_observe_t observe; //  metrics and the status line
    uint8_t *batch_buffer;
    //  The batch batch_buffer holds (count 0: none): one that waits for a
    //  worker is not read from the input again. A line batch may hold fewer
    //  tasks than asked for (its byte budget): encoded_taken of them, in
    //  encoded_size bytes.
    uint64_t encoded_first;
    uint32_t encoded_count;
    uint32_t encoded_taken;
    size_t encoded_size;
    dv_rate_limit_t resend_limit;
    dv_rate_limit_t holders_limit;
    dv_trace_t trace; //  --trace
    dv_pace_t pace;   //  --rate
} s_ventilator_t;

//  The ventilator's command over options, set to their defaults, handed to
//  use: the one definition of its options, for parsing and for
//  dv_ventilator_describe.
static int
s_command (s_options_t *options, dv_command_use_fn *use, void *context)
{
    *options = (s_options_t){
        .tasks_endpoints = dv_endpoint_default (DV_FLOW_TASKS, true),
        .results_endpoints = dv_endpoint_default (DV_FLOW_RESULTS, false),
        .control_endpoints = dv_endpoint_default (DV_FLOW_CONTROL, false),
        .count = 100,
        .start = 1,
        .min_workers = "1",
        .peer_timeout_s = 30,
        .dispatch_text = DV_DISPATCH_DEFAULT_TEXT,
    };
    const dv_option_t table[] = {
        {"tasks", DV_OPTION_TEXT, "ENDPOINTS", DV_SOCKET_HELP_TASKS, "tcp://*:5557", 0, 0,
         &options->tasks_endpoints},
        {"dispatch", DV_OPTION_TEXT, "MODE", DV_DISPATCH_HELP, DV_DISPATCH_DEFAULT_TEXT,
         0, 0, &options->dispatch_text},
        {"results", DV_OPTION_TEXT, "ENDPOINTS", DV_SOCKET_HELP_RESULTS,
         "tcp://localhost:5558", 0, 0, &options->results_endpoints},
        {"control", DV_OPTION_TEXT, "ENDPOINTS", DV_SOCKET_HELP_CONTROL,
         "tcp://localhost:5559", 0, 0, &options->control_endpoints},
        {"count", DV_OPTION_INTEGER, "N", "number of tasks in a range job", "100", 1,
         INT64_MAX, &options->count},
        {"start", DV_OPTION_INTEGER, "S", "first value of a range job", "1", INT64_MIN,
         INT64_MAX, &options->start},
        {"input", DV_OPTION_TEXT, "FILE",
         "read one integer per line from FILE ('-' for stdin) instead of a range", NULL,
         0, 0, &options->input},
        {"lines", DV_OPTION_FLAG, NULL,
         "a line job: each --input line (<= 65536 bytes) is a task for --exec", "off", 0,
         0, &options->lines},
        {"batch", DV_OPTION_INTEGER, "K",
         "tasks per message (--lines: also 1 MiB at most)",
         "auto: N/(16 x workers), 1..1024 (--lines: ..65536)", 1, DV_BATCH_MAX,
         &options->batch},
        {"min-workers", DV_OPTION_TEXT, "W",
         "start once W workers are connected; dns:NAME counts NAME's addresses", "1", 0,
         0, &options->min_workers},
        {"job", DV_OPTION_TEXT, "ID", "job id, a non-zero 64-bit number", "random", 0, 0,
         &options->job},
        {"window", DV_OPTION_INTEGER, "B",
         "batches in flight at most (sent, not yet at the sink)",
         "auto: 65536 tasks' worth, 16..16384 batches", 1, 1 << 20, &options->window},
        {"peer-timeout", DV_OPTION_INTEGER, "SECONDS",
         "give up when the sink, once heard, is silent this long", "30", 1, 86400,
         &options->peer_timeout_s},
        {"quiet", DV_OPTION_FLAG, NULL, "no status line every 5 s during the job", "off",
         0, 0, &options->quiet},
        DV_METRICS_OPTION (&options->metrics),
        DV_SECURITY_OPTIONS (&options->curve),
        {"rate", DV_OPTION_INTEGER, "R", DV_RATE_HELP, "0: as fast as credit allows", 0,
         1000000000, &options->rate},
        {"trace", DV_OPTION_TEXT, "FILE", DV_TRACE_HELP, NULL, 0, 0, &options->trace},
    };
    bool given[sizeof table / sizeof table[0]] = {false};
    const dv_command_t command = {
        "ventilator",
        "Hand out a job's tasks to divvy workers, in batches: integers to square\n"
        "(a range or --input), or with --lines the lines of --input, for workers\n"
        "that run --exec.",
        table,
        sizeof table / sizeof table[0],
        DV_EXIT_CODES_HELP,
        false,
        given,
        NULL,
    };
    return use (&command, context);
}

int
dv_ventilator_describe (dv_command_use_fn *use, void *context)
{
    s_options_t options;
    return s_command (&options, use, context);
}

typedef struct {
    dv_arguments_t arguments;
    s_options_t *options;
} s_parsing_t;

static int
s_parse (const dv_command_t *command, void *context)
{
    s_parsing_t *parsing = context;
    int parsed = dv_options_parse_use (command, &parsing->arguments);
    parsing->options->count_given = dv_options_given (command, "count");
    parsing->options->start_given = dv_options_given (command, "start");
    return parsed;
}

static int
s_parse_options (s_options_t *options, int argc, char **argv)
{
    s_parsing_t parsing = {{argc, argv}, options};
    return s_command (options, s_parse, &parsing);
}

//  Checks options and input and fills in the job; -1 after logging.
static int
s_prepare (s_ventilator_t *self)
{
    s_options_t *options = &self->options;
    int64_t fixed_workers;
    if (dv_gate_check (options->min_workers, &fixed_workers) ||
        dv_dispatch_mode_parse (options->dispatch_text, &options->dispatch))
        return -1;
    if (options->job) {
        int rc = dv_parse_uint64 (options->job, &self->job_id);
        if (rc == DV_PARSE_RANGE) {
            dv_log ("--job: %s is out of range 1..%" PRIu64, options->job, UINT64_MAX);
            return -1;
        }
        if (rc || !self->job_id) {
            dv_log ("--job: '%s' is not a non-zero 64-bit number", options->job);
            return -1;
        }
    } else
        while (!self->job_id)
            if (getrandom (&self->job_id, sizeof self->job_id, 0) !=
                sizeof self->job_id) {
                dv_log ("cannot draw a random job id");
                return -1;
            }
    if (options->input && (options->count_given || options->start_given)) {
        dv_log ("--input and --%s cannot be used together",
                options->count_given ? "count" : "start");
        return -1;
    }
    if (options->lines && !options->input) {
        dv_log ("--lines needs --input FILE (or '-' for stdin)");
        return -1;
    }
    if (options->lines ? dv_source_read_lines (&self->source, options->input)
        : options->input
            ? dv_source_read (&self->source, options->input)
            : dv_source_range (&self->source, options->start, (uint64_t) options->count))
        return -1;

    uint32_t batch_size =
        dv_plan_batch_size (self->source.count, (uint64_t) fixed_workers,
                            (uint64_t) options->batch, options->lines);
    dv_plan_init (&self->plan, self->source.count, batch_size,
                  dv_plan_window_tasks (batch_size, (uint64_t) options->window));
    //  Credit four times per window keeps the pipe full without chatter.
    uint64_t step = self->plan.window_tasks / 4;
    self->credit_step = (uint32_t) (step < 1 ? 1 : step > UINT32_MAX ? UINT32_MAX : step);
    self->announcement = (dv_announce_t){
        .job_id = self->job_id,
        .task_count = self->source.count,
        .is_range = self->source.is_range,
        .is_lines = self->source.is_lines,
        .range_start = self->source.is_range ? self->source.start : 0,
        .credit_step = self->credit_step,
    };
    if (!self->source.is_range) {
        if (!self->source.is_lines)
            self->announcement.expected_sum = dv_source_sum_of_squares (&self->source);
        self->announcement.input_digest = dv_source_digest (&self->source);
        //  The sink alone hears it: workers cannot tag values they altered.
        if (dv_tag_key_random (&self->announcement.tag_key)) {
            dv_log ("cannot draw a random key for the job's batch tags");
            return -1;
        }
    }
    self->shape = dv_announce_shape (&self->announcement);
    //  A CURVE server to workers, and a client of the sink.
    if (dv_security_new (&self->security, &options->curve, true, true))
        return -1;
    self->batch_buffer =
        malloc (self->source.is_lines ? DV_LINES_SIZE_MAX
                                      : DV_TASKS_SIZE (self->plan.batch_size));
    if (!self->batch_buffer) {
        dv_log ("out of memory");
        return -1;
    }
    dv_pace_init (&self->pace, options->rate);
    return dv_trace_open (&self->trace, options->trace);
}

static dv_session_fn s_on_sink;

//  Under CURVE, only worker keys still in --curve-allow get tasks: their
//  credit is refused (counted), and one revoked with credit is passed over.
static bool
s_admit (void *context, const char *key, bool credit)
{
    s_ventilator_t *self = context;
    dv_roles_verdict_t verdict = dv_roles_check (self->roles, key, DV_ROLE_WORKER);
    if (verdict == DV_ROLES_OK)
        return true;
    if (credit)
        dv_roles_refuse (self->roles, verdict, key, DV_ROLE_WORKER,
                         "refused credit (WANT) from", "; it gets no more tasks");
    else
        dv_roles_say (self->roles, verdict, key, DV_ROLE_WORKER,
                      "no more tasks for the worker with", "");
    return false;
}

static int
s_open_sockets (s_ventilator_t *self)
{
    s_options_t *options = &self->options;
    //  Credit bounds what each worker holds; the HWM must never bind first.
    //  With push, the marks and kernel buffers are all there is.
    dv_socket_config_t tasks_config = {
        .max_message_size = DV_WANT_CAP,
        .security = self->security,
        .curve_server = true,
    };
    dv_dispatch_socket_limits (options->dispatch, true, &tasks_config);
    //  The announcement must not be lost to a close; control only listens.
    const dv_socket_config_t announce_config = {
        .send_hwm = DV_HWM_DEFAULT,
        .linger_ms = DV_LINGER_MS,
        .security = self->security,
    };
    //  The gate's monitor must watch before the bind, or it misses the first
    //  workers, the ones that were waiting for us.
    self->tasks = dv_socket_open (dv_dispatch_socket_type (options->dispatch, true),
                                  DV_FLOW_TASKS, &tasks_config);
    if (!self->tasks || !(self->gate = dv_gate_new (self->tasks, options->min_workers)) ||
        !(self->dispatch = dv_dispatch_new (self->tasks, dv_plan_worker_cap (&self->plan),
                                            dv_plan_worker_share_min (&self->plan),
                                            options->dispatch)) ||
        dv_socket_attach (self->tasks, DV_FLOW_TASKS, options->tasks_endpoints, true))
        return -1;
    self->roles = dv_security_roles (self->security);
    if (self->roles)
        dv_dispatch_set_admit (self->dispatch, s_admit, self);
    self->announce = dv_socket_new (ZMQ_PUSH, DV_FLOW_RESULTS, options->results_endpoints,
                                    false, &announce_config);
    if (!self->announce)
        return -1;
    const dv_session_config_t session_config = {
        .control_endpoints = options->control_endpoints,
        .security = self->security,
        .peer_timeout_ms = options->peer_timeout_s * 1000,
        .job_control = true,
        .handler = s_on_sink,
        .context = self,
    };
    self->session = dv_session_new (&session_config);
    if (!self->session)
        return -1;
    dv_session_follow (self->session, self->job_id, self->shape);
    return 0;
}

static void
s_close_sockets (s_ventilator_t *self)
{
    dv_gate_destroy (&self->gate);
    dv_dispatch_destroy (&self->dispatch);
    dv_socket_destroy (&self->tasks, self->options.tasks_endpoints, true);
    dv_socket_destroy (&self->announce, self->options.results_endpoints, false);
    dv_session_destroy (&self->session);
}

//  Forgets the job's progress: the sink restarted and holds none of it.
static void
s_restart_job (s_ventilator_t *self)
{
    dv_log ("the sink lost job %" PRIu64 " (it restarted?): starting it again",
            self->job_id);
    self->job_accepted = false;
    self->first_announced_ms = self->announced_ms = 0;
    dv_plan_restart (&self->plan);
    dv_dispatch_forget (self->dispatch);
}

//  Takes the sink's RESEND: the tasks it lacks that were sent already, taken
//  back from the workers that held them (they lose credit and trust).
static void
s_on_resend (s_ventilator_t *self, const dv_resend_t *resend)
{
    uint32_t holders = dv_dispatch_take_back (self->dispatch, resend);
    if (holders)
        dv_log_limited (&self->holders_limit,
                        "%" PRIu32 " worker%s held tasks the sink lacks: %s credit "
                        "taken back, trusted less",
                        holders, holders == 1 ? "" : "s", holders == 1 ? "its" : "their");
    uint64_t tasks = dv_plan_take_resend (&self->plan, resend);
    if (tasks)
        dv_log_limited (&self->resend_limit,
                        "the sink lacks results: sending %" PRIu64 " tasks again", tasks);
}

//  Takes the sink's credit: the job accepted (or held already: resume).
static void
s_on_credit (s_ventilator_t *self, const dv_credit_t *credit)
{
    if (credit->job_id != self->job_id || credit->shape != self->shape)
        return; //  another job, or ours in another shape (the session says so)
    if (!self->job_accepted) {
        //  A job the sink already holds (we were restarted): resume from
        //  its first gap; later gaps come back as RESEND.
        self->job_accepted = true;
        dv_plan_resume (&self->plan, credit->first_missing);
        int64_t connected = dv_gate_connected (self->gate);
        dv_log ("job %" PRIu64 ": %" PRIu64 " tasks in batches of %" PRIu32 ", %" PRId64
                " worker%s connected%s",
                self->job_id, self->source.count, self->plan.batch_size, connected,
                connected == 1 ? "" : "s",
                credit->received ? " (resuming a job the sink holds)" : "");
    }
    dv_plan_received (&self->plan, credit->received);
    dv_plan_first_missing (&self->plan, credit->first_missing);
    //  Below first_missing every batch is in: its holder delivered it.
    dv_dispatch_confirm (self->dispatch, credit->first_missing);
}

//  Takes the sink's REFUSE of our job: the job cannot go on.
static void
s_on_refuse (s_ventilator_t *self, const dv_refuse_t *refuse)
{
    if (refuse->job_id != self->job_id || refuse->shape != self->shape || self->failed)
        return;
    switch (refuse->reason) {
        case DV_REFUSE_TOO_LARGE:
            dv_log ("the sink refused job %" PRIu64 ": %" PRIu64
                    " tasks is over its --max-tasks %" PRIu64,
                    self->job_id, self->source.count, refuse->detail);
            break;
        case DV_REFUSE_BUSY:
            dv_log ("the sink refused job %" PRIu64 ": it is busy with job %" PRIu64,
                    self->job_id, refuse->detail);
            break;
        case DV_REFUSE_SHAPE:
            dv_log ("the sink holds job %" PRIu64
                    " with another shape (other tasks or values): not resuming it",
                    self->job_id);
            break;
        case DV_REFUSE_NO_MEMORY:
            dv_log ("the sink refused job %" PRIu64 ": it has no memory for %" PRIu64
                    " tasks",
                    self->job_id, self->source.count);
            break;
    }
    self->failed = true;
}

//  Everything the sink says, after the session has taken it in.
static void
s_on_sink (void *context, dv_kind_t kind, const void *message)
{
    s_ventilator_t *self = context;
    if (kind == DV_KIND_CREDIT)
        s_on_credit (self, message);
    else if (kind == DV_KIND_REFUSE)
        s_on_refuse (self, message);
    else if (kind == DV_KIND_RESEND) {
        const dv_resend_t *resend = message;
        if (resend->job_id == self->job_id && self->job_accepted)
            s_on_resend (self, resend);
    } else if (kind == DV_KIND_HEARTBEAT) {
        const dv_heartbeat_t *heartbeat = message;
        if (heartbeat->job_id == self->job_id && heartbeat->shape == self->shape)
            dv_plan_received (&self->plan, heartbeat->received);
        else if (self->job_accepted && heartbeat->state == DV_STATE_IDLE)
            s_restart_job (self);
    }
}

//  Whether the job can go on, from what the sink said of it: -1 (logged)
//  when it cannot.
static int
s_check_job (s_ventilator_t *self)
{
    if (self->failed)
        return -1;
    switch (dv_session_job (self->session)) {
        case DV_SINK_JOB_OTHER_SHAPE:
            dv_log ("the sink holds job %" PRIu64
                    " with another shape (other tasks or values)%s: not ours",
                    self->job_id,
                    self->job_accepted ? ", announced by another ventilator after it "
                                         "restarted"
                                       : "");
            self->failed = true;
            return -1;
        case DV_SINK_JOB_ABANDONED:
            dv_log ("the sink abandoned job %" PRIu64
                    ": it did not hear from us within its peer timeout",
                    self->job_id);
            self->failed = true;
            return -1;
        default:
            return 0;
    }
}

//  Announces the job, at most every DV_ANNOUNCE_EVERY_MS: until the sink
//  answers, and then while the job runs, as the sink's sign that we live.
static void
s_announce (s_ventilator_t *self)
{
    int64_t now = dv_now_ms ();
    if (now - self->announced_ms < DV_ANNOUNCE_EVERY_MS)
        return;
    uint8_t buffer[DV_ANNOUNCE_SIZE];
    size_t size = dv_announce_encode (&self->announcement, buffer);
    zmq_send (zsock_resolve (self->announce), buffer, size, ZMQ_DONTWAIT);
    self->announced_ms = now;
    if (!self->first_announced_ms)
        self->first_announced_ms = now;
}

//  Announces a running job again; says what we wait for. -1 (logged) when
//  the sink has gone silent.
static dv_ventilator_counts_t
s_counts (s_ventilator_t *self)
{
    const dv_plan_t *plan = &self->plan;
    return (dv_ventilator_counts_t){
        self->job_accepted,
        plan->task_count,
        self->tasks_sent,
        plan->tasks_resent,
        plan->received,
        plan->window_tasks,
        plan->next_task > plan->received ? plan->next_task - plan->received : 0,
        dv_gate_connected (self->gate),
        self->malformed + dv_session_malformed (self->session)};
}

static int
s_check_sink (s_ventilator_t *self)
{
    dv_ventilator_counts_t counts = s_counts (self);
    dv_ventilator_observe_tick (&self->observe, &counts);
    if (self->job_accepted)
        s_announce (self);
    const char *waiting = NULL;
    char workers[512];
    int64_t connected = dv_gate_connected (self->gate);
    int64_t required = dv_gate_required (self->gate);
    if (!self->job_accepted && connected < required) {
        int length = snprintf (
            workers, sizeof workers,
            "%" PRId64 " of %" PRId64 " worker%s connected on %s (--tasks)", connected,
            required, required == 1 ? "" : "s", self->options.tasks_endpoints);
        //  We cannot tell a worker of the other mode from a probe (both
        //  close in the handshake), nor may a peer stop us: say it, wait on.
        uint64_t silent = dv_gate_silent_closes (self->gate);
        if (silent && length > 0 && (size_t) length < sizeof workers)
            snprintf (
                workers + length, sizeof workers - (size_t) length,
                "; %" PRIu64 " closed in their handshake (workers with "
                "--dispatch %s, not this ventilator's %s? or probes)",
                silent,
                dv_dispatch_mode_name (dv_dispatch_mode_other (self->options.dispatch)),
                dv_dispatch_mode_name (self->options.dispatch));
        waiting = workers;
    }
    return dv_session_check (self->session, waiting);
}

//  Waits up to timeout_ms for control messages, monitor events and worker
//  credit. Returns -1 when the job cannot go on: interrupted, or the sink
//  gone silent.
static int
s_wait (s_ventilator_t *self, int timeout_ms)
{
    zmq_pollitem_t items[] = {
        {zsock_resolve (dv_session_socket (self->session)), 0, ZMQ_POLLIN, 0},
        {zsock_resolve (dv_gate_monitor (self->gate)), 0, ZMQ_POLLIN, 0},
        {zsock_resolve (self->tasks), 0, dv_dispatch_poll_events (self->dispatch), 0},
    };
    int rc = zmq_poll (items, 3, timeout_ms);
    if (dv_interrupted ())
        return -1;
    dv_roles_refresh (self->roles, dv_now_ms ());
    if (rc > 0 && (items[1].revents & ZMQ_POLLIN))
        dv_gate_on_event (self->gate);
    if (rc > 0 && (items[2].revents & ZMQ_POLLIN))
        self->malformed += dv_dispatch_take_credit (self->dispatch);
    if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
        dv_session_drain (self->session);
    return s_check_job (self) || s_check_sink (self);
}

//  Before the job is accepted: announces it once the sink is heard and the
//  gate is open, again every second until the sink answers (a refusal comes
//  as REFUSE, at once). Returns -1 when a live sink has neither taken nor
//  refused the job for S_ACCEPT_TIMEOUT_MS (another protocol version?).
static int
s_try_to_start (s_ventilator_t *self)
{
    int64_t now = dv_now_ms ();
    int64_t connected = dv_gate_connected (self->gate);
    int64_t required = dv_gate_required (self->gate);
    //  Connected is not enough: a worker counts once its credit is in, so
    //  that the first batches already go round all of them. (A PULL worker
    //  sends nothing: with push, a handshaken connection is a worker.)
    if (dv_session_sink_heard (self->session) && connected >= required &&
        (self->options.dispatch == DV_DISPATCH_PUSH ||
         (int64_t) dv_dispatch_worker_count (self->dispatch) >= required))
        s_announce (self);
    if (self->first_announced_ms &&
        now - self->first_announced_ms >= S_ACCEPT_TIMEOUT_MS) {
        dv_log ("the sink has neither taken nor refused job %" PRIu64
                " in %d s (does it speak protocol version %d?)",
                self->job_id, S_ACCEPT_TIMEOUT_MS / 1000, DV_PROTOCOL_VERSION);
        return -1;
    }
    return 0;
}

//  A LINES batch of up to count tasks from first_task, as many as fit
//  DV_LINES_BATCH_BYTES (one at least): their number in *taken. Returns 0
//  when the input no longer reads as it did (said).
static size_t
s_encode_lines (s_ventilator_t *self, uint64_t first_task, uint32_t count,
                uint32_t *taken)
{
    uint8_t *buffer = self->batch_buffer;
    size_t size = dv_lines_encode_header (self->job_id, first_task, buffer);
    uint32_t index = 0;
    for (; index < count; index++) {
        const char *bytes;
        size_t length;
        if (dv_source_read_line (&self->source, first_task + index, &bytes, &length))
            return 0;
        if (size - DV_LINES_SIZE (0) + DV_LINE_ENTRY_SIZE (length) > DV_LINES_BATCH_BYTES)
            break; //  held by the source for the next batch
        uint64_t tag = dv_tag_line (&self->announcement.tag_key, self->job_id,
                                    first_task + index, dv_line_digest (bytes, length));
        size += dv_lines_put_line (buffer + size, tag, bytes, length);
    }
    dv_batch_put_count (buffer, index);
    *taken = index;
    return size;
}

//  Encodes up to count tasks from first_task into batch_buffer, *taken of
//  them (fewer for a line batch over its byte budget). Returns 0 when a
//  list job's input no longer reads as it did (said).
static size_t
s_encode_batch (s_ventilator_t *self, uint64_t first_task, uint32_t count,
                uint32_t *taken)
{
    if (self->encoded_count == count && self->encoded_first == first_task) {
        *taken = self->encoded_taken;
        return self->encoded_size;
    }
    *taken = count;
    if (self->source.is_lines) {
        self->encoded_count = 0;
        size_t size = s_encode_lines (self, first_task, count, taken);
        if (!size)
            return 0;
        self->encoded_first = first_task;
        self->encoded_count = count;
        self->encoded_taken = *taken;
        self->encoded_size = size;
        return size;
    }
    self->encoded_count = 0;
    size_t size;
    if (self->source.is_range) {
        //  A range's values are its start plus each task id: the batch
        //  carries its first one (the worker counts on), and no tag (the
        //  sink knows each value from its task id).
        size = dv_range_tasks_encode (self->job_id, first_task, count,
                                      dv_source_value (&self->source, first_task),
                                      self->batch_buffer);
    } else {
        size =
            dv_tasks_encode_header (self->job_id, first_task, count, self->batch_buffer);
        for (uint32_t index = 0; index < count; index++)
            dv_tasks_put_value (self->batch_buffer, index,
                                dv_source_value (&self->source, first_task + index));
        if (self->source.failed)
            return 0;
        dv_tasks_put_tag (self->batch_buffer,
                          dv_tag_batch (&self->announcement.tag_key, self->job_id,
                                        first_task, dv_tasks_values (self->batch_buffer),
                                        DV_TASK_SIZE, count));
    }
    self->encoded_first = first_task;
    self->encoded_count = count;
    self->encoded_taken = count;
    self->encoded_size = size;
    return size;
}

//  Waits out --rate's pause: in poll when a millisecond or more, else asleep.
static int
s_pause (s_ventilator_t *self, int64_t pause_ns)
{
    if (pause_ns >= 1000000)
        return s_wait (self, (int) (pause_ns / 1000000));
    nanosleep (&(struct timespec){0, (long) pause_ns}, NULL);
    return 0;
}

//  Runs the job until KILL: announce, stream within the window to workers
//  with credit, send again what the sink asks for.
static int
s_run (s_ventilator_t *self)
{
    unsigned since_drain = 0;
    while (dv_session_job (self->session) != DV_SINK_JOB_DONE) {
        if (dv_interrupted ())
            return -1;
        if (!self->job_accepted) {
            if (s_try_to_start (self) || s_wait (self, S_POLL_MS))
                return -1;
            continue;
        }
        //  Take credit and control in as they come, without a poll per batch.
        if (++since_drain >= S_DRAIN_EVERY) {
            since_drain = 0;
            dv_roles_refresh (self->roles, dv_now_ms ());
            self->malformed += dv_dispatch_take_credit (self->dispatch);
            dv_session_drain (self->session);
            if (s_check_job (self) || s_check_sink (self))
                return -1;
        }
        int64_t pause_ns = dv_pace_wait_ns (&self->pace, self->tasks_sent);
        if (pause_ns) {
            if (s_pause (self, pause_ns))
                return -1;
            continue;
        }
        uint64_t first_task;
        uint32_t count;
        size_t size = 0;
        if (dv_plan_next_batch (&self->plan, &first_task, &count) &&
            !(size = s_encode_batch (self, first_task, count, &count)))
            return -1;
        int64_t stamp = dv_trace_clock (&self->trace);
        if (size && dv_dispatch_send (
                        self->dispatch, self->batch_buffer, size,
                        dv_plan_fair_share (&self->plan,
                                            dv_dispatch_eligible_count (self->dispatch)),
                        first_task, count) == 0) {
            dv_plan_batch_sent (&self->plan, first_task, count);
            dv_trace_batch (&self->trace, first_task, count, stamp);
            self->tasks_sent += count;
            continue;
        }
        //  Nothing to send, or no worker to take it: wait for a change (a
        //  millisecond at most while a batch waits out the share's grace).
        since_drain = 0;
        if (s_wait (self, dv_dispatch_holding (self->dispatch) ? 1 : S_POLL_MS))
            return -1;
    }
    return 0;
}

int
dv_ventilator_main (int argc, char **argv)
{
    dv_process_init ("ventilator");
    s_ventilator_t self = {0};
    int parsed = s_parse_options (&self.options, argc, argv);
    if (parsed != DV_OPTIONS_RUN)
        return parsed == DV_OPTIONS_DONE ? DV_EXIT_OK : DV_EXIT_USAGE;
    if (s_prepare (&self)) {
        dv_trace_close (&self.trace);
        dv_security_destroy (&self.security);
        dv_source_free (&self.source);
        free (self.batch_buffer);
        return DV_EXIT_USAGE;
    }
    int exit_code = DV_EXIT_RUNTIME;
    if (dv_ventilator_observe_init (&self.observe, self.options.metrics,
                                    self.options.quiet, &exit_code))
        ; //  said why; exit_code says how
    else if (s_open_sockets (&self))
        exit_code = dv_socket_exit_code ();
    else if (s_run (&self) == 0) {
        dv_ventilator_counts_t counts = s_counts (&self);
        dv_ventilator_observe_final (&self.observe, &counts);
        //  Like the workers, stay until the sink has gone: it exits first.
        dv_session_wait_for_sink_exit (self.session);
        uint64_t refused = dv_roles_refused (self.roles);
        char refusals[64] = "";
        if (refused)
            snprintf (refusals, sizeof refusals, ", %" PRIu64 " credit messages refused",
                      refused);
        dv_log ("job %" PRIu64 " complete; %" PRIu64 " tasks sent again, %" PRIu64
                " malformed messages dropped%s",
                self.job_id, self.plan.tasks_resent,
                self.malformed + dv_session_malformed (self.session), refusals);
        exit_code = DV_EXIT_OK;
    } else if (dv_interrupted ()) {
        dv_log ("interrupted: stopping");
        exit_code = dv_interrupted_exit_code ();
    }
    s_close_sockets (&self);
    dv_ventilator_observe_destroy (&self.observe);
    dv_security_destroy (&self.security);
    dv_source_free (&self.source);
    free (self.batch_buffer);
    dv_trace_close (&self.trace);
    return exit_code;
}
