/*  session.c: the sink as the ventilator and the workers hear it. */
#include "session.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "process.h"

#include <inttypes.h>
#include <stdlib.h>

//  Messages taken per drain: a flood must not keep the caller from its
//  signal check, its peers and its own heartbeats.
#define S_DRAIN_MAX 256
//  How often a program that has not heard its peers says what it waits for.
#define S_WAITING_REPORT_MS 5000

struct dv_session_t {
    dv_session_config_t config;
    zsock_t *control;
    bool sink_heard;
    int64_t sink_heard_ms; //  any valid message from any sink
    int64_t job_heard_ms;  //  a message naming the followed job
    uint64_t job_id;       //  followed, 0 for none
    uint64_t shape;        //  followed, 0 for any
    bool adopted;          //  followed on the sink's word alone (adopt_running)
    dv_sink_job_t job;     //  what the sink said of it
    int64_t reported_ms;   //  when we last said what we wait for
    bool heard_live;       //  a sink heard idle or running, not only lingering
    int64_t started_ms;    //  jobs that ended before this are not ours
    bool gave_up;
    uint64_t malformed;
    dv_rate_limit_t malformed_limit;
};

dv_session_t *
dv_session_new (const dv_session_config_t *config)
{
    dv_session_t *self = calloc (1, sizeof *self);
    if (!self) {
        dv_log ("out of memory");
        return NULL;
    }
    self->config = *config;
    const dv_socket_config_t socket_config = {
        .receive_hwm = DV_HWM_DEFAULT,
        .max_message_size = DV_CONTROL_CAP,
        .security = config->security,
    };
    self->control = dv_socket_new (ZMQ_SUB, DV_FLOW_CONTROL, config->control_endpoints,
                                   false, &socket_config);
    if (!self->control) {
        free (self);
        return NULL;
    }
    //  Workers never see CREDIT, RESEND or REFUSE: the publisher filters them.
    const int worker_kinds[] = {DV_KIND_HEARTBEAT, DV_KIND_KILL};
    const int ventilator_kinds[] = {DV_KIND_HEARTBEAT, DV_KIND_KILL, DV_KIND_CREDIT,
                                    DV_KIND_RESEND, DV_KIND_REFUSE};
    if (config->job_control)
        dv_socket_subscribe (self->control, ventilator_kinds,
                             sizeof ventilator_kinds / sizeof ventilator_kinds[0]);
    else
        dv_socket_subscribe (self->control, worker_kinds,
                             sizeof worker_kinds / sizeof worker_kinds[0]);
    self->reported_ms = dv_now_ms ();
    //  From the process's start: a slow start must not make a job we were
    //  started for look like one that ended before we came.
    self->started_ms =
        dv_process_started_ms () ? dv_process_started_ms () : self->reported_ms;
    return self;
}

void
dv_session_destroy (dv_session_t **self_p)
{
    dv_session_t *self = *self_p;
    if (!self)
        return;
    dv_socket_destroy (&self->control, self->config.control_endpoints, false);
    free (self);
    *self_p = NULL;
}

zsock_t *
dv_session_socket (dv_session_t *self)
{
    return self->control;
}

void
dv_session_follow (dv_session_t *self, uint64_t job_id, uint64_t shape)
{
    if (job_id != self->job_id || shape != self->shape) {
        self->job_id = job_id;
        self->shape = shape;
        self->job = DV_SINK_JOB_UNKNOWN;
        self->job_heard_ms = 0;
    }
    self->adopted = false;
}

uint64_t
dv_session_job_id (dv_session_t *self)
{
    return self->job_id;
}

dv_sink_job_t
dv_session_job (dv_session_t *self)
{
    return self->job;
}

bool
dv_session_sink_heard (dv_session_t *self)
{
    return self->sink_heard;
}

uint64_t
dv_session_malformed (dv_session_t *self)
{
    return self->malformed;
}

//  Takes what the sink says of job_id in state; a job of another shape is
//  noted, never taken for ours.
static void
s_on_job_state (dv_session_t *self, uint64_t job_id, uint64_t shape, dv_state_t state,
                int64_t ended_ms)
{
    //  A job is ours to follow when we hear it run, or hear that it ended
    //  after we started (or after we had heard the sink live). A job that
    //  ended before we came is a previous one: its lingering KILL is not ours.
    if (job_id && !self->job_id && self->config.adopt_running &&
        (state == DV_STATE_RUNNING || self->heard_live || ended_ms >= self->started_ms)) {
        dv_session_follow (self, job_id, 0);
        self->adopted = true;
    }
    //  An adopted job that has not ended, and the sink idle: it forgot the
    //  job (no result ever came: a stray announcement) or restarted. So do
    //  we, to adopt the next one.
    if (state == DV_STATE_IDLE && self->adopted &&
        (self->job == DV_SINK_JOB_UNKNOWN || self->job == DV_SINK_JOB_RUNNING))
        dv_session_follow (self, 0, 0);
    if (state == DV_STATE_IDLE || state == DV_STATE_RUNNING)
        self->heard_live = true;
    if (!self->job_id || job_id != self->job_id)
        return;
    self->job_heard_ms = self->sink_heard_ms;
    if (self->shape && shape != self->shape) {
        self->job = DV_SINK_JOB_OTHER_SHAPE;
        return;
    }
    //  Done and abandoned are final; a repeat of running says nothing new.
    if (self->job == DV_SINK_JOB_DONE || self->job == DV_SINK_JOB_ABANDONED)
        return;
    switch (state) {
        case DV_STATE_RUNNING:
            self->job = DV_SINK_JOB_RUNNING;
            break;
        case DV_STATE_DONE:
            self->job = DV_SINK_JOB_DONE;
            break;
        case DV_STATE_ABANDONED:
            self->job = DV_SINK_JOB_ABANDONED;
            break;
        case DV_STATE_IDLE:
            break;
    }
}

//  Decodes one message; returns its kind with the view in *view, or 0.
static int
s_decode (dv_session_t *self, const uint8_t *data, size_t size, void *view)
{
    int kind = dv_message_kind (data, size);
    switch (kind) {
        case DV_KIND_HEARTBEAT:
            return dv_heartbeat_decode (data, size, view) ? 0 : kind;
        case DV_KIND_KILL:
            return dv_kill_decode (data, size, view) ? 0 : kind;
        case DV_KIND_CREDIT:
            return self->config.job_control && !dv_credit_decode (data, size, view) ? kind
                                                                                    : 0;
        case DV_KIND_RESEND:
            return self->config.job_control && !dv_resend_decode (data, size, view) ? kind
                                                                                    : 0;
        case DV_KIND_REFUSE:
            return self->config.job_control && !dv_refuse_decode (data, size, view) ? kind
                                                                                    : 0;
    }
    return 0;
}

static void
s_on_message (dv_session_t *self, const uint8_t *data, size_t size)
{
    union {
        dv_heartbeat_t heartbeat;
        dv_kill_t kill;
        dv_credit_t credit;
        dv_resend_t resend;
        dv_refuse_t refuse;
    } view;
    int kind = s_decode (self, data, size, &view);
    if (!kind) {
        self->malformed++;
        dv_log_limited (&self->malformed_limit, "dropped a malformed control message");
        return;
    }
    self->sink_heard = true;
    self->sink_heard_ms = dv_now_ms ();
    if (kind == DV_KIND_HEARTBEAT)
        s_on_job_state (self, view.heartbeat.job_id, view.heartbeat.shape,
                        view.heartbeat.state,
                        view.heartbeat.state >= DV_STATE_DONE
                            ? self->sink_heard_ms - (int64_t) view.heartbeat.ended_ms_ago
                            : 0);
    else if (kind == DV_KIND_KILL)
        s_on_job_state (self, view.kill.job_id, view.kill.shape, DV_STATE_DONE, 0);
    else if (kind == DV_KIND_CREDIT)
        s_on_job_state (self, view.credit.job_id, view.credit.shape, DV_STATE_RUNNING, 0);
    if (self->config.handler)
        self->config.handler (self->config.context, (dv_kind_t) kind, &view);
}

void
dv_session_drain (dv_session_t *self)
{
    zmq_msg_t message;
    zmq_msg_init (&message);
    void *control = zsock_resolve (self->control);
    for (int taken = 0;
         taken < S_DRAIN_MAX && zmq_msg_recv (&message, control, ZMQ_DONTWAIT) >= 0;
         taken++)
        s_on_message (self, zmq_msg_data (&message), zmq_msg_size (&message));
    zmq_msg_close (&message);
}

//  Says what we wait for, every few seconds.
static void
s_report_waiting (dv_session_t *self, int64_t now, const char *also_waiting_for)
{
    if (now - self->reported_ms < S_WAITING_REPORT_MS)
        return;
    dv_log ("waiting: %s on %s (--control)%s%s",
            self->sink_heard ? "sink heard" : "no sink heard",
            self->config.control_endpoints, also_waiting_for ? "; " : "",
            also_waiting_for ? also_waiting_for : "");
    self->reported_ms = now;
}

int
dv_session_check (dv_session_t *self, const char *also_waiting_for)
{
    int64_t now = dv_now_ms ();
    if (self->sink_heard && now - self->sink_heard_ms <= self->config.peer_timeout_ms) {
        if (also_waiting_for)
            s_report_waiting (self, now, also_waiting_for);
        return 0;
    }
    if (self->sink_heard) {
        if (!self->gave_up)
            dv_log ("the sink has been silent for %" PRId64 " s: giving up",
                    self->config.peer_timeout_ms / 1000);
        self->gave_up = true;
        return -1;
    }
    s_report_waiting (self, now, also_waiting_for);
    return 0;
}

void
dv_session_wait_for_sink_exit (dv_session_t *self)
{
    void *control = zsock_resolve (self->control);
    if (!self->job_heard_ms)
        self->job_heard_ms = dv_now_ms ();
    while (!dv_interrupted () && dv_now_ms () - self->job_heard_ms < DV_SINK_GONE_MS) {
        zmq_pollitem_t items[] = {{control, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, 1, DV_SINK_GONE_MS / 5) > 0)
            dv_session_drain (self);
        if (dv_session_check (self, NULL))
            break;
    }
}
