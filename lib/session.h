/*  session.h: a program's view of the sink, through the sink's control socket.

    The ventilator and every worker subscribe to the sink's control socket
    and need the same things of it: is a sink there (and, before it is, say
    so every few seconds, naming the endpoints), has it been silent past
    --peer-timeout, what does it say of the job this program follows
    (running, done, abandoned, or another job under the same id), and once
    the job is over, has the sink gone (it exits first). This class is that,
    once, for both.

    Liveness: any valid message from any sink counts. What the sink says of
    the followed job counts only when it names that job (and, when a shape
    is followed, that shape): a new sink on the same endpoints, or a
    previous job's lingering KILL, never ends a program's wait.
*/
#ifndef DV_SESSION_H_INCLUDED
#define DV_SESSION_H_INCLUDED

#include "protocol.h"
#include "security.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct dv_session_t dv_session_t;

//  Called for each valid message after the session has taken it in; message
//  points to the decoded view (dv_heartbeat_t, dv_kill_t, dv_credit_t,
//  dv_resend_t or dv_refuse_t), valid during the call only.
typedef void (dv_session_fn) (void *context, dv_kind_t kind, const void *message);

typedef struct {
    const char *control_endpoints; //  connected (unless '@')
    dv_security_t *security;       //  CURVE client keys, or NULL
    int64_t peer_timeout_ms;       //  once heard, silence this long ends the wait
    bool job_control;              //  also CREDIT, RESEND and REFUSE (the ventilator)
    //  Follow the job the sink runs, if none (workers); forgotten when the
    //  sink says idle before it ended, unless dv_session_follow chose it.
    bool adopt_running;
    dv_session_fn *handler; //  or NULL
    void *context;          //  for handler
} dv_session_config_t;

//  What the sink has said of the followed job.
typedef enum {
    DV_SINK_JOB_UNKNOWN,     //  nothing yet
    DV_SINK_JOB_RUNNING,     //  it gathers the job's results
    DV_SINK_JOB_DONE,        //  complete (KILL, or a done heartbeat)
    DV_SINK_JOB_ABANDONED,   //  given up: its ventilator went silent
    DV_SINK_JOB_OTHER_SHAPE, //  it holds or held the job id with another shape
} dv_sink_job_t;

//  Opens the control socket and subscribes to what the role needs. Returns
//  NULL after logging (dv_socket_exit_code says which exit code). Caller
//  owns the return value.
dv_session_t *dv_session_new (const dv_session_config_t *config);

void dv_session_destroy (dv_session_t **self_p);

//  The control socket, to poll; call dv_session_drain when readable.
zsock_t *dv_session_socket (dv_session_t *self);

//  Takes in the control messages waiting, at most a bounded number per call
//  so that a flood cannot hold the caller from its other duties. Malformed
//  messages are counted and logged at a bounded rate.
void dv_session_drain (dv_session_t *self);

//  Follows job_id from now on; shape 0 accepts any shape (a worker does not
//  know it). A new job forgets what was said of the previous one.
void dv_session_follow (dv_session_t *self, uint64_t job_id, uint64_t shape);

//  The followed job (0: none yet) and what the sink said of it.
uint64_t dv_session_job_id (dv_session_t *self);
dv_sink_job_t dv_session_job (dv_session_t *self);

//  True once any sink has been heard.
bool dv_session_sink_heard (dv_session_t *self);

//  0 while all is well. Before a sink is heard, logs every few seconds that
//  it waits, naming the control endpoints, and what (a short phrase for the
//  other flows; NULL for none). Returns -1, after logging once, when a sink
//  once heard has been silent past the peer timeout.
int dv_session_check (dv_session_t *self, const char *also_waiting_for);

//  After the followed job has ended: stays until the sink has said nothing
//  of the job for DV_SINK_GONE_MS (it exits first; other sinks do not
//  count), or a signal, or the peer timeout.
void dv_session_wait_for_sink_exit (dv_session_t *self);

//  Malformed control messages dropped so far.
uint64_t dv_session_malformed (dv_session_t *self);

#endif
