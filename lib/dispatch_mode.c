/*  dispatch_mode.c: --dispatch, its sockets, and the refusal watch. */
#include "dispatch_mode.h"
#include "log.h"

#include <czmq.h>
#include <string.h>

int
dv_dispatch_mode_parse (const char *text, dv_dispatch_mode_t *mode)
{
    if (!strcmp (text, "credit"))
        *mode = DV_DISPATCH_CREDIT;
    else if (!strcmp (text, "push"))
        *mode = DV_DISPATCH_PUSH;
    else {
        dv_log ("--dispatch (DIVVY_DISPATCH): '%s' is neither credit nor push", text);
        return -1;
    }
    return 0;
}

const char *
dv_dispatch_mode_name (dv_dispatch_mode_t mode)
{
    return mode == DV_DISPATCH_PUSH ? "push" : "credit";
}

dv_dispatch_mode_t
dv_dispatch_mode_other (dv_dispatch_mode_t mode)
{
    return mode == DV_DISPATCH_PUSH ? DV_DISPATCH_CREDIT : DV_DISPATCH_PUSH;
}

int
dv_dispatch_socket_type (dv_dispatch_mode_t mode, bool ventilator)
{
    if (mode == DV_DISPATCH_PUSH)
        return ventilator ? ZMQ_PUSH : ZMQ_PULL;
    return ventilator ? ZMQ_ROUTER : ZMQ_DEALER;
}

void
dv_dispatch_socket_limits (dv_dispatch_mode_t mode, bool ventilator,
                           dv_socket_config_t *config)
{
    if (mode != DV_DISPATCH_PUSH)
        return;
    //  The kernel buffer is set on the sending side only: small buffers at
    //  both ends stalled tcp for seconds now and then (net.h).
    if (ventilator) {
        config->send_hwm = DV_PUSH_HWM;
        config->send_buffer = DV_PUSH_KERNEL_BUFFER;
    } else
        config->receive_hwm = DV_PUSH_HWM;
}

void
dv_tasks_watch_event (dv_tasks_watch_t *self, uint16_t event, int64_t now_ms)
{
    //  Any event after a silent close (a retry, a new connection, a
    //  reason) says libzmq has not given up, or gave a reason.
    self->silent_close = false;
    switch (event) {
        case ZMQ_EVENT_CONNECTED:
        case ZMQ_EVENT_ACCEPTED:
            self->open++;
            break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            self->handshaken++;
            self->ever_handshaken = true;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            //  A reason given (CURVE, a broken peer): not a socket type. Its
            //  DISCONNECTED follows.
            self->failures++;
            break;
        case ZMQ_EVENT_DISCONNECTED:
            if (self->open > 0)
                self->open--;
            if (self->failures > 0)
                self->failures--;
            else if (self->open < self->handshaken)
                self->handshaken = self->open; //  a handshaken one closed
            else {
                self->silent_close = true;
                self->silent_close_ms = now_ms;
            }
            break;
        default:
            break;
    }
}

bool
dv_tasks_watch_refused (const dv_tasks_watch_t *self, int64_t now_ms)
{
    return !self->ever_handshaken && self->silent_close &&
           now_ms - self->silent_close_ms >= DV_TASKS_REFUSED_AFTER_MS;
}
