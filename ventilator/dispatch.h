/*  dispatch.h: who gets the next batch. The task socket is a ROUTER; every
    worker grants credit (WANT messages, in batches) and the ventilator sends
    a batch only to a worker with credit, round robin. So a worker holds at
    most the few batches it asked for: the first to connect cannot swallow
    the job, a slow one cannot hoard it, and a dead one loses little.

    A worker may also lie: ask for all the credit there is, restate it, and
    drop what it gets (or answer wrongly: the sink drops that). So credit is
    capped, and each worker's ledger (ledger.h) keeps what it holds until
    the sink confirms it: a RESEND of batches a worker held costs it its
    credit and its trust, and those batches go to another worker.
*/
#ifndef DV_DISPATCH_H_INCLUDED
#define DV_DISPATCH_H_INCLUDED

#include "dispatch_mode.h"
#include "protocol.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dv_dispatch_t dv_dispatch_t;

//  Dispatches over tasks, a ROUTER that must outlive the dispatcher; a
//  worker's latest worker_cap (>= 1, dv_plan_worker_cap) batches are kept
//  in its ledger, and its credit is at most its share of worker_cap, or
//  share_min (dv_plan_worker_share_min, at least 2) when that is more.
//  Caller owns the return value; NULL when out of memory.
//  With DV_DISPATCH_PUSH, tasks is a PUSH: a batch goes to whichever worker
//  libzmq picks, there is no credit to read, no ledger and no trust (the
//  window and RESEND alone make the job exactly once), and every other
//  call here is a no-op that keeps its contract for zero workers.
dv_dispatch_t *dv_dispatch_new (zsock_t *tasks, uint32_t worker_cap, uint32_t share_min,
                                dv_dispatch_mode_t mode);

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

//  Sends one message, the batch of tasks first_task .. first_task + count
//  - 1, to the next worker with credit, preferring
//  one that has taken fewer than share messages since its last credit (0:
//  no share), so that the end of a job, or a small one, is spread over every
//  worker rather than taken by the first to ask. Suspect workers take it
//  only when no worker is trusted, and a worker that lost these tasks only
//  when no other may take them. Returns 0 when sent, -1 when no worker can
//  take it now.
int dv_dispatch_send (dv_dispatch_t *self, const void *data, size_t size, uint64_t share,
                      uint64_t first_task, uint32_t count);

//  The sink holds every task below first_missing (its CREDIT): confirms the
//  batches workers held there.
void dv_dispatch_confirm (dv_dispatch_t *self, uint64_t first_missing);

//  The sink lacks these tasks (its RESEND): takes them back from the workers
//  that held them, with their credit and some of their trust. Returns how
//  many workers held any.
uint32_t dv_dispatch_take_back (dv_dispatch_t *self, const dv_resend_t *resend);

//  The job starts again from nothing: no worker holds anything.
void dv_dispatch_forget (dv_dispatch_t *self);

//  True while a batch is held back for workers under their share.
bool dv_dispatch_holding (dv_dispatch_t *self);

//  What to poll the task socket for: ZMQ_POLLIN (credit to read) with
//  credit; with push, ZMQ_POLLOUT after a send found every pipe full, else
//  0 (a PUSH has nothing to read).
short dv_dispatch_poll_events (dv_dispatch_t *self);

//  Workers that have granted credit at least once and are not known gone.
//  (A fake that asked for credit counts too: nothing tells it from a worker
//  before the sink has missed its results.)
size_t dv_dispatch_worker_count (dv_dispatch_t *self);

//  Of those, the ones new batches may go to now: the trusted ones, or every
//  one when none is trusted.
size_t dv_dispatch_eligible_count (dv_dispatch_t *self);

#endif
