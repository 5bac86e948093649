/*  peers.h: who is connected to a socket, one entry per connection.

    A libzmq socket monitor says when a connection opens, when its handshake
    succeeds or fails, and when it closes; libzmq 4.3.4 reports
    ZMQ_EVENT_DISCONNECTED after a *failed* handshake too (a raw TCP connect-
    and-close, a port scan, a plaintext or wrong-key peer under CURVE), so
    "handshakes minus disconnects" undercounts. This class pairs the events
    per connection instead, and counts only connections whose handshake
    succeeded. It does not care what the socket is for: the ventilator's
    gate uses it on tasks, the sink can use it on results.

    Pairing, as measured on libzmq 4.3.4: ACCEPTED / CONNECTED and
    DISCONNECTED carry the connection's fd, but HANDSHAKE_SUCCEEDED carries
    0 and the address frame of a binding socket is its own bound endpoint,
    the same for every connection. So a handshake is tied to its connection
    by elimination: when one connection is mid-handshake, it is that one;
    when several are, the success is held as unattributed until the others
    resolve (each failure's HANDSHAKE_FAILED_* comes right before its
    DISCONNECTED on libzmq's I/O thread). Counts are exact; which fd a held
    success belongs to may be learned only later (see dv_peers_is_connected).
    This relies on one libzmq I/O thread (CZMQ's default) for the ordering.
*/
#ifndef DV_PEERS_H_INCLUDED
#define DV_PEERS_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct dv_peers_t dv_peers_t;

//  Monitors socket (which must outlive this) from now on: call before it
//  binds or connects, or the first peers are missed. flow_name names the
//  socket in log lines ("task"). NULL on failure (logged). Caller owns the
//  return value; free it with dv_peers_destroy.
dv_peers_t *dv_peers_new (zsock_t *socket, const char *flow_name);

//  Stops monitoring and frees self; sets *self_p to NULL. NULL is a no-op.
void dv_peers_destroy (dv_peers_t **self_p);

//  The monitor socket to poll; call dv_peers_on_events when readable.
zsock_t *dv_peers_monitor (dv_peers_t *self);

//  Reads every event waiting (bounded per call); logs refused handshakes
//  (rate-limited) as the gate does today.
void dv_peers_on_events (dv_peers_t *self);

//  Connections whose handshake succeeded and that have not closed.
int64_t dv_peers_connected (dv_peers_t *self);

//  Handshaken connections that have closed since dv_peers_new (a failed
//  handshake never counts).
uint64_t dv_peers_departed (dv_peers_t *self);

//  Connections that closed before their handshake succeeded, with no
//  HANDSHAKE_FAILED_* event: a raw TCP connect-and-close (a probe, a
//  healthcheck), or a ZeroMQ peer of a socket type this one refuses (libzmq
//  4.3.4 reports no event for that; dispatch_mode.h).
uint64_t dv_peers_silent_closes (dv_peers_t *self);

//  True while the connection on fd (ZMQ_SRCFD of a message) is handshaken
//  and open. A message proves its connection handshook, so while several
//  connections are mid-handshake at once and a success is not yet tied to
//  one of them, an open fd still in that set also reads true.
bool dv_peers_is_connected (dv_peers_t *self, int fd);

#endif
