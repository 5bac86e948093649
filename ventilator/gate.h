/*  gate.h: the start gate. The ventilator starts a job only once enough
    workers are connected to its task socket, so that the first worker to
    connect cannot swallow the job. dv_peers_t (peers.h) counts connected
    workers: connections whose handshake succeeded, never a probe or a
    refused peer; the number required is fixed ("4") or the
    number of addresses a DNS name resolves to ("dns:worker", for Compose).
*/
#ifndef DV_GATE_H_INCLUDED
#define DV_GATE_H_INCLUDED

#include <czmq.h>

typedef struct dv_gate_t dv_gate_t;

//  Checks a --min-workers value: a whole number >= 1, or dns:NAME. Returns 0
//  and the fixed number (0 for dns:) or -1 after logging.
int dv_gate_check (const char *spec, int64_t *fixed_count);

//  Watches tasks, which must outlive the gate. Caller owns the return value;
//  NULL on failure (logged).
dv_gate_t *dv_gate_new (zsock_t *tasks, const char *spec);

void dv_gate_destroy (dv_gate_t **self_p);

//  The monitor socket to poll; call dv_gate_on_event when it is readable
//  (it handles every event waiting, and logs refused peers at a bounded rate).
zsock_t *dv_gate_monitor (dv_gate_t *self);
void dv_gate_on_event (dv_gate_t *self);

//  Workers connected now: handshaken connections that have not closed.
int64_t dv_gate_connected (dv_gate_t *self);

//  Connections closed in their handshake without a reason (dv_peers_t):
//  probes, or workers with another --dispatch mode.
uint64_t dv_gate_silent_closes (dv_gate_t *self);

//  Workers required now (for dns:, resolved again at most twice a second;
//  at least 1).
int64_t dv_gate_required (dv_gate_t *self);

#endif
