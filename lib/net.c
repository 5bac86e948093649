/*  net.c: opening and closing the flow sockets.

    zsock_attach already parses '@' / '>' prefixes and comma lists, but stops
    at the first failure without saying which endpoint failed, so we attach
    one endpoint at a time to name it in the error. libzmq also takes some
    endpoints it should refuse: it keeps a tcp port modulo 65536 (87093 binds
    21557), reads "5558x" as 5558, reports a malformed address as the
    network's fault, and binding an ipc path unlinks whatever socket file is
    there, a live listener's included. dv_endpoint_check and s_ipc_in_use
    catch those first.
*/
#include "net.h"
#include "log.h"
#include "exit_codes.h"
#include "protocol.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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

typedef enum { S_BIND, S_CONNECT, S_SOURCE } s_side_t;

//  True when host (length bytes) is only digits and dots.
static bool
s_is_numeric (const char *host, size_t length)
{
    for (size_t index = 0; index < length; index++)
        if (!isdigit ((unsigned char) host[index]) && host[index] != '.')
            return false;
    return true;
}

//  True when host (length bytes, digits and dots) is four parts of one to
//  three digits, each at most 255. Leading zeros pass: libc reads them as
//  octal, which is legal, if surprising.
static bool
s_is_dotted_quad (const char *host, size_t length)
{
    int parts = 0, digits = 0, value = 0;
    for (size_t index = 0; index <= length; index++) {
        if (index == length || host[index] == '.') {
            if (!digits || value > 255 || ++parts > 4)
                return false;
            digits = value = 0;
        } else if (++digits > 3)
            return false;
        else
            value = value * 10 + host[index] - '0';
    }
    return parts == 4;
}

//  Checks HOST:PORT (length bytes) on one side of a tcp endpoint.
static const char *
s_check_host_port (const char *text, size_t length, s_side_t side)
{
    const char *colon = NULL;
    for (size_t index = 0; index < length; index++)
        if (text[index] == ':')
            colon = text + index;
    if (!colon)
        return "a tcp endpoint needs HOST:PORT";
    const char *port = colon + 1;
    size_t port_length = length - (size_t) (port - text);
    if (port_length == 1 && *port == '*') {
        if (side == S_CONNECT)
            return "a connect needs a port number, not '*'";
    } else {
        uint32_t value = 0;
        if (!port_length)
            return "the port is missing";
        for (size_t index = 0; index < port_length; index++) {
            if (!isdigit ((unsigned char) port[index]))
                return "the port must be a number, with nothing after it";
            if (value <= 65535)
                value = value * 10 + (uint32_t) (port[index] - '0');
        }
        if (value > 65535 || (value == 0 && side != S_SOURCE))
            return side == S_BIND ? "the port must be 1..65535, or '*' for any"
                                  : "the port must be 1..65535";
    }
    const char *host = text;
    size_t host_length = (size_t) (colon - text);
    if (!host_length)
        return "the host is empty";
    if (*host == '[') {
        if (host_length < 2 || host[host_length - 1] != ']')
            return "a '[' without its ']'";
        host++;
        host_length -= 2;
        if (!host_length)
            return "the host is empty";
        if (memchr (host, ':', host_length)) {
            char literal[INET6_ADDRSTRLEN + 1];
            const char *zone = memchr (host, '%', host_length);
            size_t literal_length = zone ? (size_t) (zone - host) : host_length;
            struct in6_addr address;
            if (zone && zone + 1 == host + host_length)
                return "the IPv6 zone after '%' is empty";
            if (literal_length >= sizeof literal)
                return "not an IPv6 address";
            memcpy (literal, host, literal_length);
            literal[literal_length] = '\0';
            if (inet_pton (AF_INET6, literal, &address) != 1)
                return "not an IPv6 address";
            return NULL;
        }
    }
    if (memchr (host, '[', host_length) || memchr (host, ']', host_length))
        return "brackets belong around a whole IPv6 address";
    if (host_length == 1 && *host == '*')
        return side == S_CONNECT ? "a connect needs a host, not '*'" : NULL;
    if (s_is_numeric (host, host_length) && !s_is_dotted_quad (host, host_length))
        return "not an IPv4 address (four numbers 0..255 with dots)";
    return NULL;
}

const char *
dv_endpoint_check (const char *endpoint, bool binds)
{
    if (strncmp (endpoint, "tcp://", 6))
        return NULL;
    const char *address = endpoint + 6;
    //  libzmq splits a source address off at the last ';'.
    const char *source_end = strrchr (address, ';');
    if (source_end) {
        const char *reason =
            s_check_host_port (address, (size_t) (source_end - address), S_SOURCE);
        if (reason)
            return reason;
        address = source_end + 1;
    }
    return s_check_host_port (address, strlen (address), binds ? S_BIND : S_CONNECT);
}

//  True when path is a socket file with a live listener: a connect succeeds,
//  or finds the backlog full. ECONNREFUSED (a stale file), ENOENT, and paths
//  too long to probe are left to libzmq.
static bool
s_ipc_in_use (const char *path)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    size_t length = strlen (path);
    if (length >= sizeof address.sun_path)
        return false;
    memcpy (address.sun_path, path, length + 1);
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return false;
    int rc = connect (fd, (struct sockaddr *) &address, sizeof address);
    bool in_use = rc == 0 || errno == EAGAIN;
    close (fd);
    return in_use;
}

//  The path of an ipc endpoint whose file we would create and remove: not
//  abstract (@name) and not libzmq's wildcard (*); NULL otherwise.
static const char *
s_ipc_file (const char *endpoint)
{
    if (strncmp (endpoint, "ipc://", 6) || endpoint[6] == '@' ||
        !strcmp (endpoint + 6, "*"))
        return NULL;
    return endpoint + 6;
}

//  The ipc files each socket bound, so that closing a socket removes its own
//  files only.
typedef struct s_bound_file {
    struct s_bound_file *next;
    const zsock_t *socket;
    char path[];
} s_bound_file_t;

static s_bound_file_t *s_bound_files;

static void
s_bound_file_add (const zsock_t *socket, const char *path)
{
    size_t size = strlen (path) + 1;
    s_bound_file_t *file = malloc (sizeof *file + size);
    if (!file)
        return; //  The file stays behind: as harmless as a killed binder's.
    file->socket = socket;
    memcpy (file->path, path, size);
    file->next = s_bound_files;
    s_bound_files = file;
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
    if (config->send_buffer)
        zsock_set_sndbuf (socket, config->send_buffer);
    if (config->receive_buffer)
        zsock_set_rcvbuf (socket, config->receive_buffer);
    if (config->max_message_size)
        zsock_set_maxmsgsize (socket, (int) config->max_message_size);
    zsock_set_heartbeat_ivl (socket, S_HEARTBEAT_IVL_MS);
    zsock_set_heartbeat_timeout (socket, S_HEARTBEAT_TIMEOUT_MS);
    zsock_set_heartbeat_ttl (socket, S_HEARTBEAT_TIMEOUT_MS);
    zsock_set_handshake_ivl (socket, DV_HANDSHAKE_IVL_MS);
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
    //  Every endpoint is checked before the first is attached.
    while (s_next_endpoint (&cursor, binds, endpoint, &endpoint_binds, &malformed)) {
        const char *reason = dv_endpoint_check (endpoint, endpoint_binds);
        if (reason) {
            s_last_failure_was_usage = true;
            dv_log ("--%s: '%s': %s", dv_flow_name (flow), endpoint, reason);
            return -1;
        }
        attached++;
    }
    if (malformed || !attached) {
        s_last_failure_was_usage = true;
        dv_log ("--%s: '%s' is not a list of endpoints", dv_flow_name (flow), endpoints);
        return -1;
    }
    cursor = endpoints;
    while (s_next_endpoint (&cursor, binds, endpoint, &endpoint_binds, &malformed)) {
        const char *file = endpoint_binds ? s_ipc_file (endpoint) : NULL;
        if (file && s_ipc_in_use (file)) {
            dv_log (
                "cannot bind --%s to '%s': %s (a live listener holds the socket file)",
                dv_flow_name (flow), endpoint, zmq_strerror (EADDRINUSE));
            return -1;
        }
        int rc = endpoint_binds ? zsock_bind (socket, "%s", endpoint)
                                : zsock_connect (socket, "%s", endpoint);
        if (rc == -1) {
            s_last_failure_was_usage = s_is_usage_error (zmq_errno ());
            dv_log ("cannot %s --%s to '%s': %s", endpoint_binds ? "bind" : "connect",
                    dv_flow_name (flow), endpoint, zmq_strerror (zmq_errno ()));
            return -1;
        }
        if (file)
            s_bound_file_add (socket, file);
    }
    return 0;
}

zsock_t *
dv_socket_new (int type, dv_flow_t flow, const char *endpoints, bool binds,
               const dv_socket_config_t *config)
{
    zsock_t *socket = dv_socket_open (type, flow, config);
    if (socket && dv_socket_attach (socket, flow, endpoints, binds))
        dv_socket_destroy (&socket, endpoints, binds);
    return socket;
}

void
dv_socket_destroy (zsock_t **self_p, const char *endpoints, bool binds)
{
    //  The list of what this socket bound is exact; endpoints is not needed.
    (void) endpoints;
    (void) binds;
    if (!*self_p)
        return;
    for (s_bound_file_t **link = &s_bound_files; *link;) {
        s_bound_file_t *file = *link;
        if (file->socket == *self_p) {
            unlink (file->path);
            *link = file->next;
            free (file);
        } else
            link = &file->next;
    }
    zsock_destroy (self_p);
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

bool
dv_subscription_is_control (const uint8_t *message, size_t size)
{
    const dv_kind_t kinds[] = {DV_KIND_HEARTBEAT, DV_KIND_KILL, DV_KIND_CREDIT,
                               DV_KIND_RESEND, DV_KIND_REFUSE};
    if (size != 3 || message[0] > 1)
        return false;
    for (size_t index = 0; index < sizeof kinds / sizeof kinds[0]; index++) {
        uint8_t topic[2];
        dv_topic (kinds[index], topic);
        if (!memcmp (message + 1, topic, sizeof topic))
            return true;
    }
    return false;
}
