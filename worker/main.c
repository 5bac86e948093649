/*  worker: does a job's tasks and sends the results to the sink.

    One batch in, one result batch out, under this worker's id: a squares
    job's values with their exact 128-bit squares (squares.c), or a line
    job's result lines (linework.c: --exec, --exec-each or a libdivvy
    task function). This loop is libdivvy's divvy_worker_main (api/api.c),
    which `divvy worker` and divvy-worker run as any libdivvy program does.
    The worker only connects, so any number can come and go. It exits 0
    when the sink announces, by KILL (or a "done" heartbeat), that its job
    is complete: the job of its tasks, or, before any task, the job it
    heard the sink run (a previous job's lingering KILL is not its own).
    It exits 1 when the sink abandons the job.
*/
#include "worker.h"
#include "log.h"
#include "clock.h"
#include "credit.h"
#include "linework.h"
#include "dispatch_mode.h"
#include "process.h"
#include "exit_codes.h"
#include "net.h"
#include "observe.h"
#include "options.h"
#include "protocol.h"
#include "session.h"
#include "squares.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_POLL_MS        250
#define S_DRAIN_EVERY    64  //  batches between reads of control while busy
#define S_DRAIN_EVERY_MS 100 //  or this long, whichever comes first

typedef struct {
    const char *tasks_endpoints;
    const char *results_endpoints;
    const char *control_endpoints;
    const char *id;
    int64_t task_delay_us;
    int64_t prefetch;
    int64_t peer_timeout_s;
    bool quiet;
    const char *metrics; //  [ADDRESS:]PORT, or NULL
    const char *dispatch_text;
    dv_dispatch_mode_t dispatch;
    dv_security_options_t curve;
    const char *exec;      //  --exec CMD, or NULL
    const char *exec_each; //  --exec-each CMD, or NULL
    int64_t retries;
} s_options_t;

typedef struct {
    s_options_t options;
    char id[DV_WORKER_ID_MAX + 1];
    size_t id_length;
    dv_security_t *security;
    zsock_t *tasks;         //  DEALER (credit) or PULL (push)
    zsock_t *tasks_monitor; //  PAIR: the task socket's monitor events
    dv_tasks_watch_t watch; //  whether the ventilator refused our socket type
    zsock_t *results;
    dv_session_t *session; //  the sink's control socket
    uint64_t job_id;       //  the job of the last batch, 0 before the first
    uint64_t tasks_done;
    uint64_t batches_done;
    uint64_t malformed;
    bool dispatch_refused;       //  the ventilator runs the other --dispatch (said)
    dv_worker_observe_t observe; //  metrics and the status line
    dv_credit_policy_t credit;   //  how many batches to ask for, and when
    int64_t last_batch_ms;
    //  The clock after the last batch or wait: where the next batch's time
    //  starts (one clock read per batch: at batch 1 they showed in profiles).
    int64_t clock_us;
    uint8_t *result_buffer;
    dv_rate_limit_t malformed_limit;
    dv_linework_results_t line_results; //  the last line batch's
    uint64_t tasks_failed;              //  line tasks reported failed
    bool kind_said;                     //  the --exec / job kind mismatch, said
    divvy_task_fn *task;                //  a C API worker's function, or NULL
    void *task_user;
} s_worker_t;

//  The worker's command over options, set to their defaults, handed to use:
//  the one definition of its options, for parsing and for dv_worker_describe.
static int
s_command (s_options_t *options, dv_command_use_fn *use, void *context)
{
    *options = (s_options_t){
        .tasks_endpoints = dv_endpoint_default (DV_FLOW_TASKS, false),
        .results_endpoints = dv_endpoint_default (DV_FLOW_RESULTS, false),
        .control_endpoints = dv_endpoint_default (DV_FLOW_CONTROL, false),
        .prefetch = DV_PREFETCH_DEFAULT,
        .peer_timeout_s = 30,
        .retries = DV_LINEWORK_RETRIES_DEFAULT,
        .dispatch_text = DV_DISPATCH_DEFAULT_TEXT,
    };
    const dv_option_t table[] = {
        {"tasks", DV_OPTION_TEXT, "ENDPOINTS", DV_SOCKET_HELP_TASKS,
         "tcp://localhost:5557", 0, 0, &options->tasks_endpoints},
        {"dispatch", DV_OPTION_TEXT, "MODE", DV_DISPATCH_HELP, DV_DISPATCH_DEFAULT_TEXT,
         0, 0, &options->dispatch_text},
        {"results", DV_OPTION_TEXT, "ENDPOINTS", DV_SOCKET_HELP_RESULTS,
         "tcp://localhost:5558", 0, 0, &options->results_endpoints},
        {"control", DV_OPTION_TEXT, "ENDPOINTS", DV_SOCKET_HELP_CONTROL,
         "tcp://localhost:5559", 0, 0, &options->control_endpoints},
        {"id", DV_OPTION_TEXT, "NAME",
         "this worker's id in the sink's summary (printable ASCII, no spaces, <= 64)",
         "HOST-PID", 0, 0, &options->id},
        {"task-delay-us", DV_OPTION_INTEGER, "MICROSECONDS",
         "extra time spent on every task, to simulate slow work", "0", 0, 60000000,
         &options->task_delay_us},
        {"prefetch", DV_OPTION_INTEGER, "TASKS",
         "tasks to ask for ahead (at least 2 batches): more is faster, less is fairer; "
         "credit only",
         DV_OPTION_DEFAULT (DV_PREFETCH_DEFAULT), 1, 1 << 24, &options->prefetch},
        {"peer-timeout", DV_OPTION_INTEGER, "SECONDS",
         "give up when the sink, once heard, is silent this long", "30", 1, 86400,
         &options->peer_timeout_s},
        {"quiet", DV_OPTION_FLAG, NULL, "no status line every 5 s during a job", "off", 0,
         0, &options->quiet},
        DV_METRICS_OPTION (&options->metrics),
        DV_SECURITY_OPTIONS (&options->curve),
        {"exec", DV_OPTION_TEXT, "CMD",
         "line jobs: run CMD (/bin/sh -c) per batch, lines in, one line out each", NULL,
         0, 0, &options->exec},
        {"exec-each", DV_OPTION_TEXT, "CMD",
         "line jobs: run CMD per task, {} the line (quoted); stdout is the result", NULL,
         0, 0, &options->exec_each},
        {"retries", DV_OPTION_INTEGER, "N", "a line task is failed after N failed runs",
         "3", 1, 100, &options->retries},
    };
    const dv_command_t command = {
        "worker",
        "Do divvy tasks and send the results to the sink: square integers, or\n"
        "with --exec / --exec-each run a command on the lines of a line job.",
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
dv_worker_describe (dv_command_use_fn *use, void *context)
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

//  Fills self->id from --id, or from the host name and pid.
static int
s_prepare (s_worker_t *self)
{
    if (dv_dispatch_mode_parse (self->options.dispatch_text, &self->options.dispatch))
        return -1;
    if (self->options.exec && self->options.exec_each) {
        dv_log ("--exec and --exec-each cannot be used together");
        return -1;
    }
    if (self->task && (self->options.exec || self->options.exec_each)) {
        dv_log ("--%s: this worker runs tasks with its own function (libdivvy)",
                self->options.exec ? "exec" : "exec-each");
        return -1;
    }
    if ((self->options.exec && !*self->options.exec) ||
        (self->options.exec_each && !*self->options.exec_each)) {
        dv_log ("--%s: the command is empty", self->options.exec ? "exec" : "exec-each");
        return -1;
    }
    if (self->options.id) {
        size_t length = strlen (self->options.id);
        if (!dv_worker_id_valid (self->options.id, length)) {
            dv_log ("--id: '%s' must be 1 to %d printable ASCII characters without "
                    "spaces, quotes, backslashes or '='",
                    self->options.id, DV_WORKER_ID_MAX);
            return -1;
        }
        memcpy (self->id, self->options.id, length + 1);
    } else {
        char host[256] = "worker";
        gethostname (host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf (self->id, sizeof self->id, "%.40s-%ld", host, (long) getpid ());
        //  Whatever the host is called, the id must be a valid one.
        for (char *c = self->id; *c; c++)
            if (!dv_worker_id_valid (c, 1))
                *c = '_';
    }
    self->id_length = strlen (self->id);
    //  A CURVE client of the ventilator and the sink.
    if (dv_security_new (&self->security, &self->options.curve, true, false))
        return -1;
    self->result_buffer = malloc (
        DV_MAX_OF (DV_RESULTS_SIZE (DV_BATCH_MAX, self->id_length),
                   DV_LINE_RESULTS_SIZE (self->id_length, DV_LINE_RESULTS_BYTES)));
    if (!self->result_buffer) {
        dv_log ("out of memory");
        return -1;
    }
    return 0;
}

static int
s_open_sockets (s_worker_t *self)
{
    s_options_t *options = &self->options;
    //  Our credit bounds what arrives; the HWM must never bind first. With
    //  push, the marks and kernel buffers are all there is.
    dv_socket_config_t tasks_config = {
        .max_message_size = DV_TASKS_CAP,
        .security = self->security,
    };
    dv_dispatch_socket_limits (options->dispatch, false, &tasks_config);
    const dv_socket_config_t results_config = {
        .send_hwm = DV_HWM_DEFAULT,
        .linger_ms = DV_LINGER_MS,
        .security = self->security,
    };
    //  The monitor watches before the connect: a refusal comes at once.
    self->tasks = dv_socket_open (dv_dispatch_socket_type (options->dispatch, false),
                                  DV_FLOW_TASKS, &tasks_config);
    if (!self->tasks)
        return -1;
    char monitor_endpoint[64];
    snprintf (monitor_endpoint, sizeof monitor_endpoint, "inproc://divvy-tasks-%p",
              (void *) self);
    if (zmq_socket_monitor (zsock_resolve (self->tasks), monitor_endpoint,
                            ZMQ_EVENT_ALL) ||
        !(self->tasks_monitor = zsock_new (ZMQ_PAIR)) ||
        zsock_connect (self->tasks_monitor, "%s", monitor_endpoint)) {
        dv_log ("cannot monitor the task socket: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    zsock_set_rcvtimeo (self->tasks_monitor, 0);
    if (dv_socket_attach (self->tasks, DV_FLOW_TASKS, options->tasks_endpoints, false))
        return -1;
    self->results = dv_socket_new (ZMQ_PUSH, DV_FLOW_RESULTS, options->results_endpoints,
                                   false, &results_config);
    if (!self->results)
        return -1;
    const dv_session_config_t session_config = {
        .control_endpoints = options->control_endpoints,
        .security = self->security,
        .peer_timeout_ms = options->peer_timeout_s * 1000,
        .adopt_running = true,
    };
    self->session = dv_session_new (&session_config);
    return self->session ? 0 : -1;
}

static void
s_close_sockets (s_worker_t *self)
{
    if (self->tasks_monitor)
        zmq_socket_monitor (zsock_resolve (self->tasks), NULL, 0);
    zsock_destroy (&self->tasks_monitor);
    dv_socket_destroy (&self->tasks, self->options.tasks_endpoints, false);
    dv_socket_destroy (&self->results, self->options.results_endpoints, false);
    dv_session_destroy (&self->session);
}

//  True once the sink has said our job is over (complete or abandoned).
static bool
s_job_over (s_worker_t *self)
{
    dv_sink_job_t job = dv_session_job (self->session);
    return job == DV_SINK_JOB_DONE || job == DV_SINK_JOB_ABANDONED;
}

//  Asks the ventilator for batches: batches more (reset: exactly batches, for
//  when earlier credit may have been lost with a restarted ventilator).
static void
s_want (s_worker_t *self, uint32_t batches, bool reset)
{
    if (self->options.dispatch == DV_DISPATCH_PUSH)
        return; //  a PULL asks for nothing: the ventilator pushes
    dv_want_t want = {.batches = batches, .is_reset = reset};
    uint8_t buffer[DV_WANT_SIZE];
    if (zmq_send (zsock_resolve (self->tasks), buffer, dv_want_encode (&want, buffer),
                  ZMQ_DONTWAIT) < 0)
        return; //  the idle refresh says it again
    dv_credit_policy_sent (&self->credit, batches, reset);
}

//  Squares one batch into the result buffer (squares.c); returns the
//  message size, or 0 when the message is not a valid batch or a signal
//  came mid-batch.
static size_t
s_square_batch (s_worker_t *self, const uint8_t *data, size_t size)
{
    dv_tasks_t tasks;
    if (dv_tasks_decode (data, size, &tasks)) {
        self->malformed++;
        dv_log_limited (&self->malformed_limit, "dropped a malformed task message");
        return 0;
    }
    if (tasks.job_id != self->job_id) {
        self->job_id = tasks.job_id;
        dv_session_follow (self->session, tasks.job_id, 0);
    }
    int64_t started_us = self->clock_us;
    size_t message_size =
        dv_squares_work (&tasks, self->id, self->id_length, self->options.task_delay_us,
                         self->result_buffer);
    self->clock_us = dv_now_us ();
    self->last_batch_ms = self->clock_us / 1000;
    if (!message_size)
        return 0;
    self->tasks_done += tasks.count;
    self->batches_done++;
    uint32_t batches = dv_credit_policy_after_batch (&self->credit, tasks.count,
                                                     self->clock_us - started_us);
    if (batches)
        s_want (self, batches, false);
    return message_size;
}

//  -1 (logged) when the sink, once heard, has been silent past --peer-timeout.
//  Before the first batch, says every few seconds what it waits for.
static int
s_check_sink (s_worker_t *self)
{
    dv_worker_counts_t counts = {self->job_id, self->tasks_done, self->batches_done,
                                 self->malformed};
    dv_worker_observe_tick (&self->observe, &counts);
    char waiting[256];
    if (!self->job_id)
        snprintf (waiting, sizeof waiting, "no tasks yet from %s (--tasks)",
                  self->options.tasks_endpoints);
    return dv_session_check (self->session, self->job_id ? NULL : waiting);
}

//  Reads the task socket's monitor events waiting. Returns -1 (logged) when
//  the ventilator refused our socket type: it runs the other --dispatch.
static int
s_check_tasks (s_worker_t *self)
{
    int64_t now = dv_now_ms ();
    zmsg_t *event;
    while ((event = zmsg_recv (self->tasks_monitor))) {
        zframe_t *header = zmsg_first (event);
        if (header && zframe_size (header) >= 2) {
            uint16_t number;
            memcpy (&number, zframe_data (header), 2);
            dv_tasks_watch_event (&self->watch, number, now);
        }
        zmsg_destroy (&event);
    }
    if (!dv_tasks_watch_refused (&self->watch, now))
        return 0;
    dv_dispatch_mode_t mode = self->options.dispatch;
    dv_log (
        "%s: the ventilator at %s refuses this worker's %s socket: it runs "
        "--dispatch %s, this worker --dispatch %s (give both the same DIVVY_DISPATCH; "
        "or --tasks names no ventilator)",
        self->id, self->options.tasks_endpoints,
        mode == DV_DISPATCH_PUSH ? "PULL" : "DEALER",
        dv_dispatch_mode_name (dv_dispatch_mode_other (mode)),
        dv_dispatch_mode_name (mode));
    self->dispatch_refused = true;
    return -1;
}

//  What s_wait waits for besides control messages.
typedef enum { S_WAIT_CONTROL, S_WAIT_TASKS, S_WAIT_ROOM } s_wait_for_t;

//  Waits up to timeout_ms for control messages, and for tasks or for room to
//  send results. Returns -1 on interrupt or a silent sink.
static int
s_wait (s_worker_t *self, s_wait_for_t wait_for, int timeout_ms)
{
    zmq_pollitem_t items[] = {
        {zsock_resolve (dv_session_socket (self->session)), 0, ZMQ_POLLIN, 0},
        {zsock_resolve (wait_for == S_WAIT_ROOM ? self->results : self->tasks), 0,
         wait_for == S_WAIT_ROOM ? ZMQ_POLLOUT : ZMQ_POLLIN, 0},
    };
    int rc = zmq_poll (items, wait_for == S_WAIT_CONTROL ? 1 : 2, timeout_ms);
    if (dv_interrupted ())
        return -1;
    if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
        dv_session_drain (self->session);
    //  Only before the first batch: one proves the modes agree.
    if (!self->job_id && s_check_tasks (self))
        return -1;
    self->clock_us = dv_now_us (); //  waiting is not the next batch's time
    return s_check_sink (self);
}

//  Sends size bytes of results, waiting for room while staying responsive.
static int
s_send_results (s_worker_t *self, size_t size)
{
    while (zmq_send (zsock_resolve (self->results), self->result_buffer, size,
                     ZMQ_DONTWAIT) < 0) {
        if (s_wait (self, S_WAIT_ROOM, S_POLL_MS) || s_job_over (self))
            return -1;
    }
    return 0;
}

//  linework's wait: the command's pipes beside control, for 100 ms at most.
//  -1 when the batch must go: a signal, the job over, a silent sink.
static int
s_wait_command (void *context, dv_exec_t *run)
{
    s_worker_t *self = context;
    zmq_pollitem_t items[4] = {
        {zsock_resolve (dv_session_socket (self->session)), 0, ZMQ_POLLIN, 0}};
    int count = 1 + dv_exec_poll_items (run, items + 1);
    //  No item at all (a kernel without pidfd_open): poll the reaping briefly.
    int rc = zmq_poll (items, count, count == 1 ? 5 : S_POLL_MS);
    if (dv_interrupted ())
        return -1;
    if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
        dv_session_drain (self->session);
    dv_exec_step (run);
    if (s_job_over (self) || s_check_sink (self))
        return -1;
    return 0;
}

//  Sends a line batch's results, in as many messages as DV_LINE_RESULTS_BYTES
//  needs (each entry checks alone at the sink).
static int
s_send_line_results (s_worker_t *self, const dv_lines_t *lines)
{
    const dv_linework_results_t *results = &self->line_results;
    size_t offset = 0;
    uint32_t index = 0;
    while (index < lines->count) {
        uint64_t first = lines->first_task + index;
        size_t size = dv_line_results_encode_header (
            lines->job_id, first, self->id, self->id_length, self->result_buffer);
        size_t entries = 0;
        uint32_t count = 0;
        while (index < lines->count) {
            size_t length = results->length[index];
            if (entries + DV_LINE_RESULT_ENTRY_SIZE (length) > DV_LINE_RESULTS_BYTES)
                break; //  the next message; one entry always fits
            dv_line_t line;
            dv_lines_next (lines, &offset, &line);
            dv_line_result_t result = {
                .status = results->status[index],
                .tag = line.tag,
                .input_digest = dv_line_digest (line.bytes, line.length),
                .bytes = results->store + results->offset[index],
                .length = length,
            };
            size_t wrote = dv_line_results_put (self->result_buffer + size, &result);
            size += wrote;
            entries += wrote;
            count++;
            index++;
        }
        dv_batch_put_count (self->result_buffer, count);
        if (s_send_results (self, size))
            return -1;
    }
    return 0;
}

//  Runs a line batch through --exec or --exec-each and sends its results.
//  Returns -1 when it was abandoned (the job over, a signal, a silent sink).
static int
s_line_batch (s_worker_t *self, const uint8_t *data, size_t size)
{
    dv_lines_t lines;
    if (dv_lines_decode (data, size, &lines)) {
        self->malformed++;
        dv_log_limited (&self->malformed_limit, "dropped a malformed task message");
        return 0;
    }
    if (lines.job_id != self->job_id) {
        self->job_id = lines.job_id;
        dv_session_follow (self->session, lines.job_id, 0);
    }
    int64_t started_us = dv_now_us ();
    self->last_batch_ms = started_us / 1000;
    const dv_linework_config_t config = {
        .exec = self->options.exec,
        .exec_each = self->options.exec_each,
        .task = self->task,
        .task_user = self->task_user,
        .retries = (int) self->options.retries,
        .wait = s_wait_command,
        .context = self,
    };
    int rc;
    if (!config.exec && !config.exec_each && !config.task) {
        //  A worker for squares: it says so, and fails the tasks (the sink
        //  reports them), rather than leave the job waiting on it.
        char reason[128];
        snprintf (reason, sizeof reason,
                  "worker %.64s has no --exec or --exec-each to run a line task",
                  self->id);
        if (!self->kind_said)
            dv_log ("%s: a line job's batch came, and this worker has no --exec or "
                    "--exec-each (DIVVY_EXEC): failing its tasks",
                    self->id);
        self->kind_said = true;
        rc = dv_linework_fail_all (&lines, reason, &self->line_results);
    } else
        rc = dv_linework_run (&config, &lines, &self->line_results);
    if (rc)
        return -1; //  abandoned: the sink asks again for its tasks
    if (s_send_line_results (self, &lines))
        return -1;
    self->tasks_done += lines.count;
    self->tasks_failed += self->line_results.failed;
    self->batches_done++;
    uint32_t batches = dv_credit_policy_after_batch (&self->credit, lines.count,
                                                     dv_now_us () - started_us);
    if (batches)
        s_want (self, batches, false);
    self->clock_us = dv_now_us ();
    self->last_batch_ms = self->clock_us / 1000;
    return 0;
}

static int
s_run (s_worker_t *self)
{
    zmq_msg_t message;
    zmq_msg_init (&message);
    int rc = 0;
    unsigned since_drain = 0;
    int64_t drained_ms = dv_now_ms ();
    int64_t checked_ms = drained_ms;
    self->clock_us = dv_now_us ();
    dv_credit_policy_init (&self->credit, (uint64_t) self->options.prefetch);
    s_want (self, self->credit.wanted, true);
    self->last_batch_ms = dv_now_ms ();
    while (!s_job_over (self)) {
        //  Work while there is work; poll only when the queue is empty.
        if (zmq_msg_recv (&message, zsock_resolve (self->tasks), ZMQ_DONTWAIT) >= 0) {
            const uint8_t *data = zmq_msg_data (&message);
            size_t message_size = zmq_msg_size (&message);
            if (dv_message_kind (data, message_size) == DV_KIND_LINES) {
                if (s_line_batch (self, data, message_size)) {
                    rc = s_job_over (self) ? 0 : -1;
                    break;
                }
                dv_session_drain (self->session);
                drained_ms = self->last_batch_ms;
                if (dv_interrupted () || s_check_sink (self)) {
                    rc = -1;
                    break;
                }
                continue;
            }
            if ((self->options.exec || self->options.exec_each) && !self->kind_said) {
                dv_log ("%s: a squares job: --exec is not used, the values are squared",
                        self->id);
                self->kind_said = true;
            }
            size_t size = s_square_batch (self, data, message_size);
            if (size && s_send_results (self, size)) {
                rc = s_job_over (self) ? 0 : -1;
                break;
            }
            //  Control as we go: a busy worker must still see its sink die. Not
            //  after every batch: an empty read costs libzmq a poll() (35% of a
            //  worker's time at batch 1).
            if (++since_drain >= S_DRAIN_EVERY ||
                self->last_batch_ms - drained_ms >= S_DRAIN_EVERY_MS) {
                dv_session_drain (self->session);
                since_drain = 0;
                drained_ms = self->last_batch_ms;
            }
            //  The sink's silence and the status line count in seconds:
            //  checked once per millisecond of batches, on the batch's clock.
            if (dv_interrupted () ||
                (self->last_batch_ms != checked_ms && s_check_sink (self))) {
                rc = -1;
                break;
            }
            checked_ms = self->last_batch_ms;
            continue;
        }
        //  A PULL worker has no credit to restate: it just waits.
        int64_t dry_left =
            self->options.dispatch == DV_DISPATCH_PUSH
                ? S_POLL_MS
                : (int64_t) self->credit.dry_ms - (dv_now_ms () - self->last_batch_ms);
        if (s_wait (self, S_WAIT_TASKS,
                    dry_left < 1           ? 1
                    : dry_left < S_POLL_MS ? (int) dry_left
                                           : S_POLL_MS)) {
            rc = -1;
            break;
        }
        //  Dry: the ventilator may have granted less than we asked, or our
        //  credit died with it; state it afresh.
        uint32_t batches =
            dv_credit_policy_idle (&self->credit, dv_now_ms () - self->last_batch_ms);
        if (batches) {
            s_want (self, batches, true);
            self->last_batch_ms = dv_now_ms ();
        }
    }
    zmq_msg_close (&message);
    return rc;
}

int
dv_worker_run (int argc, char **argv, divvy_task_fn *task, void *user)
{
    dv_process_init ("worker");
    s_worker_t self = {.task = task, .task_user = user};
    int parsed = s_parse_options (&self.options, argc, argv);
    if (parsed != DV_OPTIONS_RUN)
        return parsed == DV_OPTIONS_DONE ? DV_EXIT_OK : DV_EXIT_USAGE;
    if (s_prepare (&self)) {
        dv_security_destroy (&self.security);
        free (self.result_buffer);
        return DV_EXIT_USAGE;
    }
    int exit_code = DV_EXIT_RUNTIME;
    if (dv_worker_observe_init (&self.observe, self.options.metrics, self.options.quiet,
                                self.id, &exit_code))
        ; //  said why; exit_code says how
    else if (s_open_sockets (&self))
        exit_code = dv_socket_exit_code ();
    else if (s_run (&self) == 0) {
        //  The sink repeats KILL for its linger and exits first, which is
        //  what `docker compose up --exit-code-from sink` needs to report
        //  the sink's own exit code: stay until it has gone quiet.
        dv_worker_counts_t counts = {self.job_id, self.tasks_done, self.batches_done,
                                     self.malformed};
        dv_worker_observe_final (&self.observe, &counts);
        dv_session_wait_for_sink_exit (self.session);
        uint64_t job_id = dv_session_job_id (self.session);
        if (dv_session_job (self.session) == DV_SINK_JOB_ABANDONED)
            dv_log ("%s: the sink abandoned job %" PRIu64
                    " (its ventilator went silent); squared %" PRIu64 " tasks",
                    self.id, job_id, self.tasks_done);
        else {
            if (self.options.exec || self.options.exec_each || self.task)
                dv_log ("%s: job %" PRIu64 " complete; ran %" PRIu64 " tasks, %" PRIu64
                        " failed",
                        self.id, job_id, self.tasks_done, self.tasks_failed);
            else
                dv_log ("%s: job %" PRIu64 " complete; squared %" PRIu64 " tasks",
                        self.id, job_id, self.tasks_done);
            exit_code = DV_EXIT_OK;
        }
    } else if (self.dispatch_refused)
        exit_code = DV_EXIT_DISPATCH;
    else if (dv_interrupted ()) {
        dv_log ("%s: interrupted after %" PRIu64 " tasks: stopping", self.id,
                self.tasks_done);
        exit_code = dv_interrupted_exit_code ();
    }
    s_close_sockets (&self);
    dv_worker_observe_destroy (&self.observe);
    dv_security_destroy (&self.security);
    free (self.result_buffer);
    dv_linework_results_free (&self.line_results);
    return exit_code;
}
