/*  ventilator: hands out a job's tasks in batches.

    The story of a job, from here: wait until the sink is heard on control and
    enough workers are connected (the gate); announce the job to the sink and
    wait for its credit; stream batches of consecutive tasks, never more than
    the window ahead of what the sink has received; then wait for the sink's
    KILL and exit 0. Nothing is sent before the options and the input are
    known to be good.
*/
#include "log.h"
#include "clock.h"
#include "process.h"
#include "exit_codes.h"
#include "dispatch.h"
#include "gate.h"
#include "net.h"
#include "options.h"
#include "protocol.h"
#include "source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define S_POLL_MS           100
#define S_ANNOUNCE_EVERY_MS 1000
#define S_WAIT_REPORT_MS    5000
#define S_ACCEPT_TIMEOUT_MS 10000
#define S_DRAIN_EVERY       64 //  batches between reads of credit and control
//  Caps what workers may send us (WANT), with room for ZMTP handshakes.
#define S_CREDIT_MESSAGE_MAX DV_MESSAGE_CAP_MIN
#define S_AUTO_BATCH_MAX     1024
#define S_COUNT_DEFAULT      100
#define S_AUTO_WINDOW_TASKS  65536 //  in flight at most, for batches of 16 and up
#define S_AUTO_WINDOW_MIN    16    //  batches
#define S_AUTO_WINDOW_MAX    4096  //  batches

typedef struct {
    const char *tasks_endpoints;
    const char *results_endpoints;
    const char *control_endpoints;
    int64_t count;
    int64_t start;
    const char *input;
    int64_t batch; //  0: auto
    const char *min_workers;
    const char *job; //  NULL: random
    int64_t window;  //  batches in flight; 0: auto
    int64_t peer_timeout_s;
    dv_security_options_t curve;
} s_options_t;

typedef struct {
    s_options_t options;
    dv_source_t source;
    uint64_t job_id;
    uint32_t batch_size;
    uint64_t window_tasks;
    uint32_t credit_step;
    zsock_t *tasks;    //  ROUTER: batches out, workers' credit in
    zsock_t *announce; //  PUSH to the sink's result socket
    zsock_t *control;  //  SUB to the sink's control socket
    dv_security_t *security;
    dv_gate_t *gate;
    dv_dispatch_t *dispatch;
    bool sink_heard;
    int64_t sink_heard_ms;
    bool job_accepted;
    int64_t announced_ms;
    int64_t first_announced_ms;
    int64_t reported_ms;
    bool job_done;
    uint64_t received;  //  the sink's count of distinct results
    uint64_t next_task; //  the first task never sent yet
    //  Tasks the sink asked for again, still to send: the latest RESEND's
    //  ranges below next_task (a newer RESEND replaces them).
    dv_range_t resend[DV_RESEND_RANGES_MAX];
    uint32_t resend_count;
    uint32_t resend_index;
    uint64_t tasks_resent;
    uint64_t malformed;
    uint8_t *batch_buffer;
    dv_rate_limit_t bad_control_limit;
    dv_rate_limit_t resend_limit;
} s_ventilator_t;

static int
s_parse_options (s_options_t *options, int argc, char **argv)
{
    *options = (s_options_t){
        .tasks_endpoints = dv_endpoint_default (DV_FLOW_TASKS, true),
        .results_endpoints = dv_endpoint_default (DV_FLOW_RESULTS, false),
        .control_endpoints = dv_endpoint_default (DV_FLOW_CONTROL, false),
        .count = 0, //  not given: S_COUNT_DEFAULT (0 is below --count's minimum)
        .start = 1,
        .min_workers = "1",
        .peer_timeout_s = 30,
    };
    const dv_option_t table[] = {
        {"tasks", DV_OPTION_TEXT, "ENDPOINTS", DV_SOCKET_HELP_TASKS, "tcp://*:5557", 0, 0,
         &options->tasks_endpoints},
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
        {"batch", DV_OPTION_INTEGER, "K", "tasks per message",
         "auto: N/(16 x workers), 1..1024", 1, DV_BATCH_MAX, &options->batch},
        {"min-workers", DV_OPTION_TEXT, "W",
         "start once W workers are connected; dns:NAME counts NAME's addresses", "1", 0,
         0, &options->min_workers},
        {"job", DV_OPTION_TEXT, "ID", "job id, a non-zero 64-bit number", "random", 0, 0,
         &options->job},
        {"window", DV_OPTION_INTEGER, "B",
         "batches in flight at most (sent, not yet at the sink)",
         "auto: 65536 tasks' worth, 16..4096 batches", 1, 1 << 20, &options->window},
        {"peer-timeout", DV_OPTION_INTEGER, "SECONDS",
         "give up when the sink, once heard, is silent this long", "30", 1, 86400,
         &options->peer_timeout_s},
        DV_SECURITY_OPTIONS (&options->curve),
    };
    const dv_command_t command = {
        "ventilator",
        "Hand out a job's integer tasks to divvy workers, in batches.",
        table,
        sizeof table / sizeof table[0],
        DV_EXIT_CODES_HELP,
        false,
    };
    return dv_options_parse (&command, argc, argv);
}

//  Checks options and input and fills in the job; -1 after logging.
static int
s_prepare (s_ventilator_t *self)
{
    s_options_t *options = &self->options;
    int64_t fixed_workers;
    if (dv_gate_check (options->min_workers, &fixed_workers))
        return -1;
    if (options->job) {
        if (dv_parse_uint64 (options->job, &self->job_id) || !self->job_id) {
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
    if (options->input && options->count) {
        dv_log ("--input and --count cannot be used together");
        return -1;
    }
    uint64_t count = options->count ? (uint64_t) options->count : S_COUNT_DEFAULT;
    if (options->input ? dv_source_read (&self->source, options->input)
                       : dv_source_range (&self->source, options->start, count))
        return -1;

    uint64_t batch = (uint64_t) options->batch;
    if (!batch) {
        uint64_t workers = fixed_workers ? (uint64_t) fixed_workers : 1;
        batch = self->source.count / (16 * workers);
        batch = batch < 1 ? 1 : batch > S_AUTO_BATCH_MAX ? S_AUTO_BATCH_MAX : batch;
    }
    self->batch_size = (uint32_t) batch;
    //  Measured: throughput needs a few thousand tiny batches, or a few
    //  hundred mid-sized ones, in flight; more only costs memory (results
    //  queue up at the workers: 256 batches of 4096 held 21 MiB per worker)
    //  and delays recovery. So 65536 tasks, within 16 .. 4096 batches.
    uint64_t window = (uint64_t) options->window;
    if (!window) {
        window = S_AUTO_WINDOW_TASKS / batch;
        window = window < S_AUTO_WINDOW_MIN   ? S_AUTO_WINDOW_MIN
                 : window > S_AUTO_WINDOW_MAX ? S_AUTO_WINDOW_MAX
                                              : window;
    }
    self->window_tasks = window * batch;
    //  Credit four times per window keeps the pipe full without chatter.
    uint64_t step = self->window_tasks / 4;
    self->credit_step = (uint32_t) (step < 1 ? 1 : step > UINT32_MAX ? UINT32_MAX : step);
    //  A CURVE server to workers, and a client of the sink.
    if (dv_security_new (&self->security, &options->curve, true, true))
        return -1;
    self->batch_buffer = malloc (DV_TASKS_SIZE (self->batch_size));
    if (!self->batch_buffer) {
        dv_log ("out of memory");
        return -1;
    }
    return 0;
}

static int
s_open_sockets (s_ventilator_t *self)
{
    s_options_t *options = &self->options;
    //  Credit bounds what each worker holds; the HWM must never bind first.
    const dv_socket_config_t tasks_config = {
        .max_message_size = S_CREDIT_MESSAGE_MAX,
        .security = self->security,
        .curve_server = true,
    };
    //  The announcement must not be lost to a close; control only listens.
    const dv_socket_config_t announce_config = {
        .send_hwm = DV_HWM_DEFAULT,
        .linger_ms = DV_LINGER_MS,
        .security = self->security,
    };
    const dv_socket_config_t control_config = {
        .receive_hwm = DV_HWM_DEFAULT,
        .max_message_size = DV_MESSAGE_CAP_MIN,
        .security = self->security,
    };
    //  The gate's monitor must watch before the bind, or it misses the first
    //  workers, the ones that were waiting for us.
    self->tasks = dv_socket_open (ZMQ_ROUTER, DV_FLOW_TASKS, &tasks_config);
    if (!self->tasks || !(self->gate = dv_gate_new (self->tasks, options->min_workers)) ||
        !(self->dispatch = dv_dispatch_new (self->tasks)) ||
        dv_socket_attach (self->tasks, DV_FLOW_TASKS, options->tasks_endpoints, true))
        return -1;
    self->announce = dv_socket_new (ZMQ_PUSH, DV_FLOW_RESULTS, options->results_endpoints,
                                    false, &announce_config);
    if (!self->announce)
        return -1;
    self->control = dv_socket_new (ZMQ_SUB, DV_FLOW_CONTROL, options->control_endpoints,
                                   false, &control_config);
    if (!self->control)
        return -1;
    const int kinds[] = {DV_KIND_HEARTBEAT, DV_KIND_CREDIT, DV_KIND_KILL, DV_KIND_RESEND};
    dv_socket_subscribe (self->control, kinds, sizeof kinds / sizeof kinds[0]);
    return 0;
}

static void
s_close_sockets (s_ventilator_t *self)
{
    dv_gate_destroy (&self->gate);
    dv_dispatch_destroy (&self->dispatch);
    dv_socket_destroy (&self->tasks, self->options.tasks_endpoints, true);
    dv_socket_destroy (&self->announce, self->options.results_endpoints, false);
    dv_socket_destroy (&self->control, self->options.control_endpoints, false);
}

//  Forgets the job's progress: the sink restarted and holds none of it.
static void
s_restart_job (s_ventilator_t *self)
{
    dv_log ("the sink lost job %" PRIu64 " (it restarted?): starting it again",
            self->job_id);
    self->job_accepted = false;
    self->first_announced_ms = 0;
    self->received = 0;
    self->next_task = 0;
    self->resend_count = self->resend_index = 0;
}

//  Takes the sink's RESEND: the tasks it lacks that were sent already.
static void
s_on_resend (s_ventilator_t *self, const dv_resend_t *resend)
{
    uint64_t tasks = 0;
    self->resend_count = self->resend_index = 0;
    for (uint32_t index = 0; index < resend->range_count; index++) {
        dv_range_t range = dv_resend_range (resend, index);
        if (range.first_task >= self->next_task)
            continue; //  not sent yet: it goes out in order anyway
        if (range.task_count > self->next_task - range.first_task)
            range.task_count = self->next_task - range.first_task;
        self->resend[self->resend_count++] = range;
        tasks += range.task_count;
    }
    if (tasks)
        dv_log_limited (&self->resend_limit,
                        "the sink lacks results: sending %" PRIu64 " tasks again", tasks);
}

//  Handles one control message. Returns -1 when the job cannot go on.
static int
s_on_control (s_ventilator_t *self, const uint8_t *data, size_t size)
{
    dv_heartbeat_t heartbeat;
    dv_credit_t credit;
    dv_resend_t resend;
    uint64_t job_id;
    self->sink_heard = true;
    self->sink_heard_ms = dv_now_ms ();
    switch (dv_message_kind (data, size)) {
        case DV_KIND_HEARTBEAT:
            if (dv_heartbeat_decode (data, size, &heartbeat))
                break;
            if (heartbeat.job_id == self->job_id) {
                if (heartbeat.state == DV_STATE_DONE)
                    self->job_done = true;
                if (heartbeat.received > self->received)
                    self->received = heartbeat.received;
            } else if (self->job_accepted && heartbeat.state == DV_STATE_IDLE)
                s_restart_job (self);
            else if (heartbeat.state == DV_STATE_RUNNING && !self->job_accepted) {
                dv_log ("the sink is busy with job %" PRIu64 "; job %" PRIu64
                        " not started",
                        heartbeat.job_id, self->job_id);
                return -1;
            }
            return 0;
        case DV_KIND_CREDIT:
            if (dv_credit_decode (data, size, &credit))
                break;
            if (credit.job_id != self->job_id)
                return 0;
            if (!self->job_accepted) {
                //  A job the sink already holds (we were restarted): resume
                //  from its first gap; later gaps come back as RESEND.
                self->job_accepted = true;
                self->next_task = credit.first_missing;
                dv_log ("job %" PRIu64 ": %" PRIu64 " tasks in batches of %" PRIu32
                        ", %" PRId64 " workers connected%s",
                        self->job_id, self->source.count, self->batch_size,
                        dv_gate_connected (self->gate),
                        credit.received ? " (resuming a job the sink holds)" : "");
            }
            if (credit.received > self->received)
                self->received = credit.received;
            return 0;
        case DV_KIND_RESEND:
            if (dv_resend_decode (data, size, &resend))
                break;
            if (resend.job_id == self->job_id && self->job_accepted)
                s_on_resend (self, &resend);
            return 0;
        case DV_KIND_KILL:
            if (dv_kill_decode (data, size, &job_id))
                break;
            if (job_id == self->job_id)
                self->job_done = true;
            return 0;
    }
    self->malformed++;
    dv_log_limited (&self->bad_control_limit, "dropped a malformed control message");
    return 0;
}

//  Receives every control message waiting. Returns -1 when the job cannot go on.
static int
s_drain_control (s_ventilator_t *self)
{
    zmq_msg_t message;
    zmq_msg_init (&message);
    int rc = 0;
    while (rc == 0 &&
           zmq_msg_recv (&message, zsock_resolve (self->control), ZMQ_DONTWAIT) >= 0)
        rc = s_on_control (self, zmq_msg_data (&message), zmq_msg_size (&message));
    zmq_msg_close (&message);
    return rc;
}

//  Waits up to timeout_ms for control messages, monitor events and worker
//  credit. Returns -1 when the job cannot go on: interrupted, or the sink
//  gone silent.
static int
s_wait (s_ventilator_t *self, int timeout_ms)
{
    zmq_pollitem_t items[] = {
        {zsock_resolve (self->control), 0, ZMQ_POLLIN, 0},
        {zsock_resolve (dv_gate_monitor (self->gate)), 0, ZMQ_POLLIN, 0},
        {zsock_resolve (self->tasks), 0, ZMQ_POLLIN, 0},
    };
    int rc = zmq_poll (items, 3, timeout_ms);
    if (dv_interrupted ())
        return -1;
    if (rc > 0 && (items[1].revents & ZMQ_POLLIN))
        dv_gate_on_event (self->gate);
    if (rc > 0 && (items[2].revents & ZMQ_POLLIN))
        self->malformed += dv_dispatch_take_credit (self->dispatch);
    if (rc > 0 && (items[0].revents & ZMQ_POLLIN) && s_drain_control (self))
        return -1;
    if (self->sink_heard &&
        dv_now_ms () - self->sink_heard_ms > self->options.peer_timeout_s * 1000) {
        dv_log ("the sink has been silent for %" PRId64 " s: giving up",
                self->options.peer_timeout_s);
        return -1;
    }
    return 0;
}

static void
s_announce (s_ventilator_t *self)
{
    dv_announce_t announce = {
        .job_id = self->job_id,
        .task_count = self->source.count,
        .is_range = self->source.is_range,
        .range_start = self->source.is_range ? self->source.start : 0,
        .credit_step = self->credit_step,
    };
    if (!announce.is_range)
        announce.expected_sum = dv_source_sum_of_squares (&self->source);
    uint8_t buffer[DV_ANNOUNCE_SIZE];
    size_t size = dv_announce_encode (&announce, buffer);
    zmq_send (zsock_resolve (self->announce), buffer, size, ZMQ_DONTWAIT);
}

//  Before the job is accepted: announces it once the sink is heard and the
//  gate is open, again every second until the sink answers. Returns -1 when
//  a live sink has not taken the job for S_ACCEPT_TIMEOUT_MS (it refused it:
//  too large for its --max-tasks, or it is busy; its log says which).
static int
s_try_to_start (s_ventilator_t *self)
{
    int64_t now = dv_now_ms ();
    int64_t connected = dv_gate_connected (self->gate);
    int64_t required = dv_gate_required (self->gate);
    //  Connected is not enough: a worker counts once its credit is in, so
    //  that the first batches already go round all of them.
    if (self->sink_heard && connected >= required &&
        (int64_t) dv_dispatch_worker_count (self->dispatch) >= required &&
        now - self->announced_ms >= S_ANNOUNCE_EVERY_MS) {
        s_announce (self);
        self->announced_ms = now;
        if (!self->first_announced_ms)
            self->first_announced_ms = now;
    }
    if (self->first_announced_ms &&
        now - self->first_announced_ms >= S_ACCEPT_TIMEOUT_MS) {
        dv_log ("the sink has not taken job %" PRIu64 " in %d s: refused (see its log)",
                self->job_id, S_ACCEPT_TIMEOUT_MS / 1000);
        return -1;
    }
    if (now - self->reported_ms >= S_WAIT_REPORT_MS) {
        dv_log ("waiting: %s, %" PRId64 " of %" PRId64 " workers connected",
                self->sink_heard ? "sink heard" : "no sink heard yet", connected,
                required);
        self->reported_ms = now;
    }
    return 0;
}

//  The next batch to send, if any: tasks asked for again first, then new
//  ones while the window allows. Returns false when there is none now.
static bool
s_next_batch (s_ventilator_t *self, uint64_t *first_task, uint32_t *count)
{
    uint64_t available;
    if (self->resend_index < self->resend_count) {
        dv_range_t *range = &self->resend[self->resend_index];
        *first_task = range->first_task;
        available = range->task_count;
    } else {
        uint64_t received =
            self->received < self->next_task ? self->received : self->next_task;
        if (self->next_task >= self->source.count ||
            self->next_task - received >= self->window_tasks)
            return false;
        *first_task = self->next_task;
        available = self->source.count - self->next_task;
    }
    *count = available < self->batch_size ? (uint32_t) available : self->batch_size;
    return true;
}

//  What one worker may take between two of its credit messages: an equal
//  part of the batches still to send, at least two.
static uint64_t
s_fair_share (s_ventilator_t *self)
{
    uint64_t tasks = self->source.count - self->next_task;
    for (uint32_t index = self->resend_index; index < self->resend_count; index++)
        tasks += self->resend[index].task_count;
    uint64_t batches = (tasks + self->batch_size - 1) / self->batch_size;
    uint64_t workers = dv_dispatch_worker_count (self->dispatch);
    uint64_t share = (batches + workers - 1) / (workers ? workers : 1);
    return share < 2 ? 2 : share;
}

//  Records that the batch from s_next_batch went out.
static void
s_batch_sent (s_ventilator_t *self, uint64_t first_task, uint32_t count)
{
    if (self->resend_index < self->resend_count &&
        first_task == self->resend[self->resend_index].first_task) {
        dv_range_t *range = &self->resend[self->resend_index];
        range->first_task += count;
        range->task_count -= count;
        if (!range->task_count)
            self->resend_index++;
        self->tasks_resent += count;
    } else
        self->next_task += count;
}

static size_t
s_encode_batch (s_ventilator_t *self, uint64_t first_task, uint32_t count)
{
    size_t size =
        dv_tasks_encode_header (self->job_id, first_task, count, self->batch_buffer);
    for (uint32_t index = 0; index < count; index++)
        dv_tasks_put_value (self->batch_buffer, index,
                            dv_source_value (&self->source, first_task + index));
    return size;
}

//  Runs the job until KILL: announce, stream within the window to workers
//  with credit, send again what the sink asks for.
static int
s_run (s_ventilator_t *self)
{
    unsigned since_drain = 0;
    self->reported_ms = dv_now_ms ();
    while (!self->job_done) {
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
            self->malformed += dv_dispatch_take_credit (self->dispatch);
            if (s_drain_control (self))
                return -1;
        }
        uint64_t first_task;
        uint32_t count;
        if (s_next_batch (self, &first_task, &count) &&
            dv_dispatch_send (self->dispatch, self->batch_buffer,
                              s_encode_batch (self, first_task, count),
                              s_fair_share (self)) == 0) {
            s_batch_sent (self, first_task, count);
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

//  After KILL, stays until the sink has gone quiet, like the workers (see
//  worker/main.c): the sink exits first.
static void
s_wait_for_sink_exit (s_ventilator_t *self)
{
    while (!dv_interrupted () && dv_now_ms () - self->sink_heard_ms < DV_SINK_GONE_MS)
        if (s_wait (self, DV_SINK_GONE_MS / 5))
            break;
}

int
main (int argc, char **argv)
{
    dv_process_init ("ventilator");
    s_ventilator_t self = {0};
    int parsed = s_parse_options (&self.options, argc, argv);
    if (parsed != DV_OPTIONS_RUN)
        return parsed == DV_OPTIONS_DONE ? DV_EXIT_OK : DV_EXIT_USAGE;
    if (s_prepare (&self)) {
        dv_security_destroy (&self.security);
        dv_source_free (&self.source);
        free (self.batch_buffer);
        return DV_EXIT_USAGE;
    }
    int exit_code = DV_EXIT_RUNTIME;
    if (s_open_sockets (&self))
        exit_code = dv_socket_exit_code ();
    else if (s_run (&self) == 0) {
        s_wait_for_sink_exit (&self);
        dv_log ("job %" PRIu64 " complete; %" PRIu64 " tasks sent again, %" PRIu64
                " malformed messages dropped",
                self.job_id, self.tasks_resent, self.malformed);
        exit_code = DV_EXIT_OK;
    } else if (dv_interrupted ()) {
        dv_log ("interrupted: stopping");
        exit_code = dv_interrupted_exit_code ();
    }
    s_close_sockets (&self);
    dv_security_destroy (&self.security);
    dv_source_free (&self.source);
    free (self.batch_buffer);
    return exit_code;
}
