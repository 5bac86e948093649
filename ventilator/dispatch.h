/*  dispatch.h: who gets the next batch. The task socket is a ROUTER; every
    worker grants credit (WANT messages, in batches) and the ventilator sends
    a batch only to a worker with credit, round robin. So a worker holds at
    most the few batches it asked for: the first to connect cannot swallow
    the job, a slow one cannot hoard it, and a dead one loses little.
*/
#ifndef DV_DISPATCH_H_INCLUDED
#define DV_DISPATCH_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dv_dispatch_t dv_dispatch_t;

//  Dispatches over tasks, a ROUTER that must outlive the dispatcher. Caller
//  owns the return value; NULL when out of memory.
dv_dispatch_t *dv_dispatch_new (zsock_t *tasks);

void dv_dispatch_destroy (dv_dispatch_t **self_p);

//  Whether the worker with CURVE key (Z85; NULL without CURVE) may have
//  tasks now. Asked for each credit message (credit: true; a refused one is
//  dropped) and before each batch sent (false; a refused worker is
//  forgotten, its credit with it).
typedef bool (dv_dispatch_admit_fn) (void *context, const char *key, bool credit);

//  Sets the check (NULL: everyone may). context goes to admit.
void dv_dispatch_set_admit (dv_dispatch_t *self, dv_dispatch_admit_fn *admit,
                            void *context);

//  Reads the credit messages waiting on the task socket, at most a bounded
//  number per call (a flood must not hold the caller from its signal
//  check). Returns how many were malformed (and dropped).
uint64_t dv_dispatch_take_credit (dv_dispatch_t *self);

//  Sends one message to the next worker with credit, preferring one that has
//  taken fewer than share messages since its last credit (0: no share), so
//  that the end of a job, or a small one, is spread over every worker rather
//  than taken by the first to ask. Returns 0 when sent, -1 when no worker
//  can take it now.
int dv_dispatch_send (dv_dispatch_t *self, const void *data, size_t size, uint64_t share);

//  True while a batch is held back for workers under their share.
bool dv_dispatch_holding (dv_dispatch_t *self);

//  Workers that have granted credit at least once and are not known gone.
size_t dv_dispatch_worker_count (dv_dispatch_t *self);

#endif
