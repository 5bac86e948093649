/*  net.h: the three flows' sockets, named and configured the same everywhere.

    Every program takes --tasks, --results and --control. The role decides
    whether an endpoint binds or connects; a leading '@' (bind) or '>'
    (connect) overrides it, and a comma separates several endpoints.
*/
#ifndef DV_NET_H_INCLUDED
#define DV_NET_H_INCLUDED

#include "protocol.h"
#include "security.h"

#include <czmq.h>
#include <stdbool.h>

typedef enum {
    DV_FLOW_TASKS,   //  ventilator -> workers
    DV_FLOW_RESULTS, //  workers (and the ventilator's announcement) -> sink
    DV_FLOW_CONTROL, //  sink -> everyone
} dv_flow_t;

//  "tasks", "results" or "control".
const char *dv_flow_name (dv_flow_t flow);

//  The default endpoint of a flow where it binds (tcp://*:PORT) or connects
//  (tcp://localhost:PORT). Ports are the ZeroMQ Guide's: 5557, 5558, 5559.
const char *dv_endpoint_default (dv_flow_t flow, bool binds);

//  Checks one endpoint (without its '@' / '>' prefix) for the mistakes libzmq
//  lets through or reports as if the world were wrong. For tcp: the port is
//  1..65535, or '*' (an ephemeral port) when binding; 0 is refused (write '*'),
//  and so is anything after the port. The host is not empty and, connecting,
//  not '*'; a host of only digits and dots is a dotted quad (four parts, each
//  at most 255; libc's shorthands such as 127.1 are refused); a bracketed host
//  holding a ':' is an IPv6 literal, with an optional %zone. libzmq's source
//  address form, tcp://SOURCE:PORT;HOST:PORT, is checked on both sides (the
//  source port may be 0 or '*': any). Host names and interface names (eth0)
//  pass: resolution is libzmq's. Other transports pass unchecked.
//  Returns NULL when the endpoint may be used, otherwise a static string
//  saying what is wrong.
const char *dv_endpoint_check (const char *endpoint, bool binds);

//  Help text for the three socket options, given which ones this role binds.
#define DV_SOCKET_HELP_TASKS   "task endpoint(s): ventilator binds, workers connect"
#define DV_SOCKET_HELP_RESULTS "result endpoint(s): sink binds, others connect"
#define DV_SOCKET_HELP_CONTROL "control endpoint(s): sink binds, others connect"

//  libzmq's default high-water mark; measured: lower costs throughput with
//  small messages, higher gains nothing.
#define DV_HWM_DEFAULT 1000

//  How long closing a socket may wait to deliver its last messages: long
//  enough to flush over a live connection, short enough that a signalled
//  program is gone within a second even when its peer is not.
#define DV_LINGER_MS 500

//  How long a connection may take over its ZMTP handshake (greeting,
//  security, READY) before libzmq closes it, on every socket: a connection
//  that never handshakes (a port scan, a stuck or hostile client, a flood
//  of idle connections) holds a descriptor this long at most, not libzmq's
//  default of 30 s. A CURVE handshake with zauth takes milliseconds.
#define DV_HANDSHAKE_IVL_MS 3000

//  What one connection may hold at the sink's result socket, in bytes: its
//  queue and the message being read. High-water marks count messages, so
//  the result socket's is this budget in messages of the largest size (169
//  of 1572953 bytes, 254 MiB, and one being read). Measured: a mark of 85
//  cost batch-1 jobs 15 % of their speed, 42 cost 30 %, 169 nothing. The
//  budget is per connection: N connections may hold N times as much.
#define DV_RESULTS_QUEUED_MAX ((size_t) 256 << 20)
#define DV_RESULTS_HWM                                                                   \
    ((int) ((DV_RESULTS_QUEUED_MAX - (size_t) DV_RESULTS_CAP) / DV_RESULTS_SIZE_MAX))

//  --dispatch push: what one worker's pipe may hold. DV_PUSH_HWM messages
//  at each end (the ventilator's PUSH sends, the worker's PULL receives),
//  and DV_PUSH_KERNEL_BUFFER bytes of ZMQ_SNDBUF on the ventilator (Linux
//  doubles it; the worker's receive buffer is the system's). libzmq's PUSH
//  round-robins over the pipes with room, so these bound how far the first
//  workers get ahead of a late one, and what a killed worker takes with it
//  (the sink's RESEND brings it back). Measured with bench/divvy-bench
//  --dispatch-only --quick and 600,000-task batch-1 jobs (tcp, W=2; late =
//  a late joiner's results over an even share, 1.0 = fair): the system's
//  buffers at both ends (they grow to megabytes) let the first worker take
//  the whole job (late 0.00, with marks of 16 to 1000); 4 to 32 KiB at both
//  ends made late 0.6-1.0, but a batch-1 job stalled now and then (20.4 s
//  instead of 0.4-0.8 s, 1 in 5; 3.6 s in 1 of 3), and 4 KiB cost K=4096
//  three quarters of its speed; 16 KiB on the receiving side only, late
//  0.00. 16 KiB on the sending side only: 10 of 10 batch-1 jobs in 0.57-0.73
//  s, late 0.96. Marks: 16 cost K=1 half its speed, 200 and up made late
//  0.00 (50: late 0.80, 100: 0.60, with 16 KiB both ends). No setting makes
//  push fair to a straggler: it takes its turn until its pipe is full.
#define DV_PUSH_HWM           50
#define DV_PUSH_KERNEL_BUFFER 16384

typedef struct {
    int send_hwm;             //  messages queued per peer; 0: no limit
    int receive_hwm;          //  messages queued per peer; 0: no limit
    int send_buffer;          //  ZMQ_SNDBUF, bytes; 0: the system's
    int receive_buffer;       //  ZMQ_RCVBUF, bytes; 0: the system's
    int linger_ms;            //  how long close waits to deliver queued messages
    int64_t max_message_size; //  bytes a received message may have; 0: no cap
    dv_security_t *security;  //  CURVE keys, or NULL for plaintext
    bool curve_server;        //  with security: be the CURVE server
} dv_socket_config_t;

//  Opens a socket of type for flow, applies config and ZMTP heartbeats, and
//  binds (binds == true) or connects every endpoint of the list. Every
//  endpoint is checked (dv_endpoint_check) before the first is attached. An
//  ipc path whose socket file has a live listener is refused as in use (libzmq
//  would take it over); a stale file, with no listener, is replaced. On
//  failure, logs one line naming the option, the endpoint and the reason, and
//  returns NULL. Caller owns the return value; close it with dv_socket_destroy.
zsock_t *dv_socket_new (int type, dv_flow_t flow, const char *endpoints, bool binds,
                        const dv_socket_config_t *config);

//  The two halves of dv_socket_new, for a caller that must act between them
//  (a socket monitor must watch a socket before it binds, or it misses the
//  first peers). dv_socket_attach returns 0, or -1 after logging.
zsock_t *dv_socket_open (int type, dv_flow_t flow, const dv_socket_config_t *config);
int dv_socket_attach (zsock_t *socket, dv_flow_t flow, const char *endpoints, bool binds);

//  The exit code for the last dv_socket_new failure: DV_EXIT_USAGE when the
//  endpoint itself was malformed (bad syntax, unknown transport), otherwise
//  DV_EXIT_RUNTIME (address in use, not available, ...).
int dv_socket_exit_code (void);

//  Subscribes a SUB socket to each kind in kinds (their two-byte topics).
void dv_socket_subscribe (zsock_t *socket, const int *kinds, size_t kind_count);

//  True when message (size bytes, as an XPUB reads it: 1 to subscribe or 0
//  to cancel, then the topic) names the topic of a kind the sink publishes
//  on control (HEARTBEAT, KILL, CREDIT, RESEND, REFUSE): the only
//  subscriptions the sink takes. The empty topic (everything) is not one:
//  no divvy program subscribes to it.
bool dv_subscription_is_control (const uint8_t *message, size_t size);

//  Closes the socket and removes the files of the ipc endpoints this socket
//  bound, and no other (a refused bind leaves the owner's file alone).
//  endpoints and binds are no longer needed (net.c records what was bound).
void dv_socket_destroy (zsock_t **self_p, const char *endpoints, bool binds);

#endif
