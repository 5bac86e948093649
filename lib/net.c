/*  net.c: opening and closing the flow sockets.

    zsock_attach already parses '@' / '>' prefixes and comma lists, but stops
    at the first failure without saying which endpoint failed, so we attach
    one endpoint at a time to name it in the error.
*/
#include "net.h"
#include "log.h"
#include "exit_codes.h"
#include "protocol.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

//  ZMTP heartbeats: a peer silent this long is dropped and reconnected.
#define S_HEARTBEAT_IVL_MS     1000
#define S_HEARTBEAT_TIMEOUT_MS 5000
#define S_ENDPOINT_MAX         1024

static bool s_last_failure_was_usage;

int
dv_socket_exit_code (void)
{
    return s_last_failure_was_usage ? DV_EXIT_USAGE : DV_EXIT_RUNTIME;
}

//  Errors that mean the endpoint text is wrong, not the world.
static bool
s_is_usage_error (int error)
{
    return error == EINVAL || error == EPROTONOSUPPORT || error == ENOCOMPATPROTO;
}

const char *
dv_flow_name (dv_flow_t flow)
{
    switch (flow) {
        case DV_FLOW_TASKS:
            return "tasks";
        case DV_FLOW_RESULTS:
            return "results";
        case DV_FLOW_CONTROL:
            return "control";
    }
    return "?";
}

const char *
dv_endpoint_default (dv_flow_t flow, bool binds)
{
    switch (flow) {
        case DV_FLOW_TASKS:
            return binds ? "tcp://*:5557" : "tcp://localhost:5557";
        case DV_FLOW_RESULTS:
            return binds ? "tcp://*:5558" : "tcp://localhost:5558";
        case DV_FLOW_CONTROL:
            return binds ? "tcp://*:5559" : "tcp://localhost:5559";
    }
    return NULL;
}

//  Copies the next comma-separated endpoint from *cursor into endpoint and
//  says whether it binds; returns false at the end of the list or when an
//  endpoint is too long or empty (*malformed set).
static bool
s_next_endpoint (const char **cursor, bool binds_by_default, char *endpoint, bool *binds,
                 bool *malformed)
{
    *malformed = false;
    if (!**cursor)
        return false;
    const char *end = strchr (*cursor, ',');
    size_t length = end ? (size_t) (end - *cursor) : strlen (*cursor);
    const char *start = *cursor;
    *cursor = end ? end + 1 : start + length;
    *binds = binds_by_default;
    if (length && (*start == '@' || *start == '>')) {
        *binds = *start == '@';
        start++;
        length--;
    }
    if (length == 0 || length >= S_ENDPOINT_MAX) {
        *malformed = true;
        return false;
    }
    memcpy (endpoint, start, length);
    endpoint[length] = '\0';
    return true;
}

zsock_t *
dv_socket_open (int type, dv_flow_t flow, const dv_socket_config_t *config)
{
    zsock_t *socket = zsock_new (type);
    s_last_failure_was_usage = false;
    if (!socket) {
        dv_log ("cannot create the %s socket: %s", dv_flow_name (flow),
                zmq_strerror (zmq_errno ()));
        return NULL;
    }
    zsock_set_sndhwm (socket, config->send_hwm);
    zsock_set_rcvhwm (socket, config->receive_hwm);
    zsock_set_linger (socket, config->linger_ms);
    if (config->max_message_size)
        zsock_set_maxmsgsize (socket, (int) config->max_message_size);
    zsock_set_heartbeat_ivl (socket, S_HEARTBEAT_IVL_MS);
    zsock_set_heartbeat_timeout (socket, S_HEARTBEAT_TIMEOUT_MS);
    zsock_set_heartbeat_ttl (socket, S_HEARTBEAT_TIMEOUT_MS);
    dv_security_apply (config->security, socket, config->curve_server);
    return socket;
}

int
dv_socket_attach (zsock_t *socket, dv_flow_t flow, const char *endpoints, bool binds)
{
    const char *cursor = endpoints;
    char endpoint[S_ENDPOINT_MAX];
    bool endpoint_binds, malformed;
    int attached = 0;
    s_last_failure_was_usage = false;
    while (s_next_endpoint (&cursor, binds, endpoint, &endpoint_binds, &malformed)) {
        int rc = endpoint_binds ? zsock_bind (socket, "%s", endpoint)
                                : zsock_connect (socket, "%s", endpoint);
        if (rc == -1) {
            s_last_failure_was_usage = s_is_usage_error (zmq_errno ());
            dv_log ("cannot %s --%s to '%s': %s", endpoint_binds ? "bind" : "connect",
                    dv_flow_name (flow), endpoint, zmq_strerror (zmq_errno ()));
            return -1;
        }
        attached++;
    }
    if (malformed || !attached) {
        s_last_failure_was_usage = true;
        dv_log ("--%s: '%s' is not a list of endpoints", dv_flow_name (flow), endpoints);
        return -1;
    }
    return 0;
}

zsock_t *
dv_socket_new (int type, dv_flow_t flow, const char *endpoints, bool binds,
               const dv_socket_config_t *config)
{
    zsock_t *socket = dv_socket_open (type, flow, config);
    if (socket && dv_socket_attach (socket, flow, endpoints, binds))
        zsock_destroy (&socket);
    return socket;
}

void
dv_socket_destroy (zsock_t **self_p, const char *endpoints, bool binds)
{
    if (!*self_p)
        return;
    zsock_destroy (self_p);
    const char *cursor = endpoints;
    char endpoint[S_ENDPOINT_MAX];
    bool endpoint_binds, malformed;
    while (s_next_endpoint (&cursor, binds, endpoint, &endpoint_binds, &malformed))
        if (endpoint_binds && !strncmp (endpoint, "ipc://", 6) && endpoint[6] != '@')
            unlink (endpoint + 6);
}

void
dv_socket_subscribe (zsock_t *socket, const int *kinds, size_t kind_count)
{
    for (size_t index = 0; index < kind_count; index++) {
        uint8_t topic[2];
        dv_topic ((dv_kind_t) kinds[index], topic);
        zmq_setsockopt (zsock_resolve (socket), ZMQ_SUBSCRIBE, topic, sizeof topic);
    }
}
