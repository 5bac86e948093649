/*  dispatch_mode.h: how tasks reach workers, chosen by --dispatch
    (DIVVY_DISPATCH) on the ventilator and on every worker alike.

    credit: the ventilator's task socket is a ROUTER, each worker's a DEALER;
    a worker states its credit (WANT) and gets no more batches than that
    (ventilator/dispatch.h). push: the ventilator's task socket is a PUSH,
    each worker's a PULL, the ZeroMQ Guide's "Divide and Conquer": libzmq
    round-robins batches over the connected workers whose pipes have room,
    and the small high-water marks and send buffer (DV_PUSH_*, net.h) keep
    each pipe short, so that the first worker to connect cannot swallow the
    job. The window and the sink's RESEND make both exactly
    once.

    A worker and a ventilator that disagree cannot talk: ZMTP refuses ROUTER
    against PULL and PUSH against DEALER at the handshake. libzmq 4.3.4's
    monitor reports no HANDSHAKE_FAILED_* event for that (measured): the
    connection opens, closes before its handshake succeeds, and libzmq
    never tries again. dv_tasks_watch_t recognises that from the monitor's
    events, so that the worker can say so in one line instead of waiting
    for tasks forever.
*/
#ifndef DV_DISPATCH_MODE_H_INCLUDED
#define DV_DISPATCH_MODE_H_INCLUDED

#include "net.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    DV_DISPATCH_CREDIT, //  ROUTER / DEALER with WANT credit
    DV_DISPATCH_PUSH,   //  PUSH / PULL
} dv_dispatch_mode_t;

//  The default of --dispatch, in both programs.
#define DV_DISPATCH_DEFAULT      DV_DISPATCH_CREDIT
#define DV_DISPATCH_DEFAULT_TEXT "credit"
#define DV_DISPATCH_HELP         "credit (ROUTER/DEALER) or push (PUSH/PULL): all must agree"

//  Reads "credit" or "push" into *mode; -1 after logging a line naming
//  --dispatch (DIVVY_DISPATCH) and the value.
int dv_dispatch_mode_parse (const char *text, dv_dispatch_mode_t *mode);

//  "credit" or "push".
const char *dv_dispatch_mode_name (dv_dispatch_mode_t mode);

//  The other mode.
dv_dispatch_mode_t dv_dispatch_mode_other (dv_dispatch_mode_t mode);

//  The task socket's type: the ventilator's (ROUTER or PUSH) or a worker's
//  (DEALER or PULL).
int dv_dispatch_socket_type (dv_dispatch_mode_t mode, bool ventilator);

//  Sets the task socket's queue limits for mode in *config: for push
//  DV_PUSH_HWM at both ends and DV_PUSH_KERNEL_BUFFER as the ventilator's
//  send buffer; for credit nothing (credit bounds what each worker holds,
//  so the marks must never bind first).
void dv_dispatch_socket_limits (dv_dispatch_mode_t mode, bool ventilator,
                                dv_socket_config_t *config);

//  How long after a connection closed before its handshake succeeded, with
//  no HANDSHAKE_FAILED_* event and no attempt to connect again, the worker
//  takes it as refused for its socket type. libzmq retries a lost
//  connection within its reconnect interval (100 ms), so this is many of
//  those.
#define DV_TASKS_REFUSED_AFTER_MS 1000

//  What a worker's task socket monitor has said: a pure state machine fed
//  with monitor events and the clock. A value type; zero it to start.
typedef struct {
    int open;                //  connections open, handshake or not
    int handshaken;          //  of those, handshaken
    int failures;            //  HANDSHAKE_FAILED_* whose DISCONNECTED is to come
    bool ever_handshaken;    //  some connection succeeded: the modes agree
    bool silent_close;       //  the last event: a close in a handshake, no reason
    int64_t silent_close_ms; //  when
} dv_tasks_watch_t;

//  Takes one monitor event (ZMQ_EVENT_*) seen at now_ms.
void dv_tasks_watch_event (dv_tasks_watch_t *self, uint16_t event, int64_t now_ms);

//  True when the ventilator refused this socket's type: a connection closed
//  in its handshake without a reason, nothing has happened since for
//  DV_TASKS_REFUSED_AFTER_MS, and no connection ever succeeded.
bool dv_tasks_watch_refused (const dv_tasks_watch_t *self, int64_t now_ms);

#endif
