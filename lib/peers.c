/*  peers.c: pairing a socket monitor's events per connection.

    Every connection is one entry, keyed by its fd from ACCEPTED (a binding
    socket) or CONNECTED (a connecting one) until its DISCONNECTED: the set
    grows only with connections that are open. An entry is pending until its
    handshake is known to have succeeded. HANDSHAKE_SUCCEEDED names no fd
    (its value is 0 in libzmq 4.3.4), so successes are held as a count
    against the pending entries and tied to fds by elimination; see peers.h.
*/
#include "peers.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

#define S_EVENTS_PER_CALL 256
#define S_HANDSHAKE_FAILED                                                               \
    (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |        \
     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
#define S_EVENTS                                                                         \
    (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |          \
     ZMQ_EVENT_DISCONNECTED | S_HANDSHAKE_FAILED)

typedef struct {
    int fd;
    bool handshaken;
} s_connection_t;

struct dv_peers_t {
    void *socket;                //  the monitored socket's libzmq handle
    zsock_t *monitor;            //  PAIR receiving its events
    char *flow_name;             //  for log lines
    s_connection_t *connections; //  open connections, in no order
    size_t connection_count;     //  entries in use
    size_t connection_capacity;  //  entries allocated
    int64_t handshaken;          //  entries known to be handshaken
    int64_t held_successes;      //  successes of pending entries, fd unknown
    int64_t held_failures;       //  failures of pending entries, fd unknown
    uint64_t departed;           //  handshaken connections that closed
    uint64_t silent_closes;      //  closed in the handshake, no failure event
    dv_rate_limit_t refused_limit;
};

dv_peers_t *
dv_peers_new (zsock_t *socket, const char *flow_name)
{
    assert (socket);
    assert (flow_name);
    dv_peers_t *self = calloc (1, sizeof *self);
    if (!self || !(self->flow_name = strdup (flow_name))) {
        dv_log ("cannot monitor the %s socket: out of memory", flow_name);
        free (self);
        return NULL;
    }
    self->socket = zsock_resolve (socket);
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://divvy-peers-%p", (void *) self);
    if (zmq_socket_monitor (self->socket, endpoint, S_EVENTS) ||
        !(self->monitor = zsock_new (ZMQ_PAIR)) ||
        zsock_connect (self->monitor, "%s", endpoint)) {
        dv_log ("cannot monitor the %s socket: %s", flow_name,
                zmq_strerror (zmq_errno ()));
        dv_peers_destroy (&self);
        return NULL;
    }
    zsock_set_rcvtimeo (self->monitor, 0);
    return self;
}

void
dv_peers_destroy (dv_peers_t **self_p)
{
    assert (self_p);
    dv_peers_t *self = *self_p;
    if (!self)
        return;
    if (self->monitor)
        zmq_socket_monitor (self->socket, NULL, 0);
    zsock_destroy (&self->monitor);
    free (self->connections);
    free (self->flow_name);
    free (self);
    *self_p = NULL;
}

zsock_t *
dv_peers_monitor (dv_peers_t *self)
{
    return self->monitor;
}

//  The entry of fd, or NULL.
static s_connection_t *
s_find (dv_peers_t *self, int fd)
{
    for (size_t index = 0; index < self->connection_count; index++)
        if (self->connections[index].fd == fd)
            return &self->connections[index];
    return NULL;
}

static void
s_remove (dv_peers_t *self, s_connection_t *connection)
{
    if (connection->handshaken)
        self->handshaken--;
    *connection = self->connections[--self->connection_count];
}

//  Ties held counts to fds where only one reading is possible, and keeps
//  them within what the pending entries can hold.
static void
s_resolve (dv_peers_t *self)
{
    int64_t pending = (int64_t) self->connection_count - self->handshaken;
    if (self->held_successes > pending)
        self->held_successes = pending;
    if (self->held_successes > 0 && self->held_successes == pending) {
        for (size_t index = 0; index < self->connection_count; index++)
            self->connections[index].handshaken = true;
        self->handshaken += pending;
        self->held_successes = 0;
        pending = 0;
    }
    if (self->held_failures > pending - self->held_successes)
        self->held_failures = pending - self->held_successes;
}

static void
s_on_opened (dv_peers_t *self, int fd)
{
    s_connection_t *stale = s_find (self, fd);
    if (stale)
        s_remove (self, stale); //  its close was not reported
    if (self->connection_count == self->connection_capacity) {
        size_t capacity = self->connection_capacity ? self->connection_capacity * 2 : 16;
        s_connection_t *grown = realloc (self->connections, capacity * sizeof *grown);
        if (!grown) {
            dv_log ("%s socket: out of memory: a connection is not counted",
                    self->flow_name);
            return;
        }
        self->connections = grown;
        self->connection_capacity = capacity;
    }
    self->connections[self->connection_count++] = (s_connection_t){.fd = fd};
}

static void
s_on_closed (dv_peers_t *self, int fd)
{
    s_connection_t *connection = s_find (self, fd);
    if (!connection)
        return;
    bool succeeded = connection->handshaken;
    if (!succeeded) {
        //  A pending entry: one of the held successes or failures. While
        //  both remain, it is taken as a failure (a refused peer closes at
        //  once or soon after its HANDSHAKE_FAILED_*); if that was wrong,
        //  the counts meet again when the other one closes.
        succeeded = self->held_successes > 0 && self->held_failures == 0;
        if (succeeded)
            self->held_successes--;
        else if (self->held_failures > 0)
            self->held_failures--;
        else
            self->silent_closes++;
    }
    if (succeeded)
        self->departed++;
    s_remove (self, connection);
}

static void
s_on_failed (dv_peers_t *self, uint16_t number)
{
    self->held_failures++;
    dv_log_limited (
        &self->refused_limit, "refused a peer on the %s socket: %s", self->flow_name,
        number == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
            ? "its CURVE key is not in --curve-allow"
            : "failed handshake (no CURVE, another socket type, or not divvy's?)");
}

//  Frame 1: event (u16) and value (u32); frame 2: the endpoint. Returns -1
//  when no event was waiting.
static int
s_on_event (dv_peers_t *self)
{
    zmsg_t *event = zmsg_recv (self->monitor);
    if (!event)
        return -1;
    zframe_t *header = zmsg_first (event);
    if (header && zframe_size (header) >= 6) {
        uint16_t number;
        uint32_t value;
        memcpy (&number, zframe_data (header), 2);
        memcpy (&value, zframe_data (header) + 2, 4);
        if (number == ZMQ_EVENT_ACCEPTED || number == ZMQ_EVENT_CONNECTED)
            s_on_opened (self, (int) value);
        else if (number == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            self->held_successes++;
        else if (number == ZMQ_EVENT_DISCONNECTED)
            s_on_closed (self, (int) value);
        else if (number & S_HANDSHAKE_FAILED)
            s_on_failed (self, number);
        s_resolve (self);
    }
    zmsg_destroy (&event);
    return 0;
}

void
dv_peers_on_events (dv_peers_t *self)
{
    for (int count = 0; count < S_EVENTS_PER_CALL; count++)
        if (s_on_event (self))
            break;
}

int64_t
dv_peers_connected (dv_peers_t *self)
{
    return self->handshaken + self->held_successes;
}

uint64_t
dv_peers_departed (dv_peers_t *self)
{
    return self->departed;
}

uint64_t
dv_peers_silent_closes (dv_peers_t *self)
{
    return self->silent_closes;
}

bool
dv_peers_is_connected (dv_peers_t *self, int fd)
{
    s_connection_t *connection = s_find (self, fd);
    return connection && (connection->handshaken || self->held_successes > 0);
}
