/*  ledger.h: which batches one worker holds, and how far it is trusted.

    The ventilator cannot see a worker's results: the sink checks them. What
    it can see is the sink's word on the job: CREDIT says the lowest task id
    not received yet (first_missing), so every batch below it is in; RESEND
    names ranges that went missing. The ledger keeps, per worker, the batches
    sent to it and not yet confirmed by first_missing, so that a RESEND can be
    laid at the door of the worker(s) that held those ranges.

    The ledger keeps the latest cap batches (dv_plan_worker_cap: one window)
    and forgets older ones. That is enough: the sink lacks at most a window
    of tasks at once, so a worker that drops everything never holds more
    than that, and a worker that works through its batches in order, as real
    ones do, has delivered all but its latest.

    What it holds unconfirmed is not what it holds now: while a lost batch
    keeps first_missing low (a worker died), every batch above it stays
    unconfirmed, delivered or not. So a worker that restates its credit (a
    reset WANT, which real workers send only after a dry spell, and within
    DV_CREDIT_REFRESH_MS only while they get nothing) is deemed to hold only
    what it was sent within that spell (dv_ledger_held_since); what it lost
    of the older ones a RESEND
    will lay at its door.

    Trust follows. A worker's credit is capped by its cap (dispatch.c says
    how), halved per failure. Each
    RESEND that names batches it held is a failure: its credit goes, its cap
    halves, and it is suspect for DV_LEDGER_SUSPECT_MS, doubled with each
    further failure; while suspect it gets new batches only when no worker is
    trusted. Each CREDIT that confirms batches it held takes one failure
    back. Ranges taken back from it are remembered (lost) until confirmed, so
    that they go to another worker while one can take them.

    A value type with one allocation, as large as what the worker holds
    (dv_ledger_init, dv_ledger_free): no
    sockets, no clock (the caller says what time it is), no logging. Fields
    are public for reading; change them only through the functions below.
*/
#ifndef DV_LEDGER_H_INCLUDED
#define DV_LEDGER_H_INCLUDED

#include "protocol.h"

#include <stdbool.h>
#include <stdint.h>

//  A first failure makes a worker suspect this long; each further one
//  doubles it, up to DV_LEDGER_SUSPECT_MAX_MS.
#define DV_LEDGER_SUSPECT_MS     2000
#define DV_LEDGER_SUSPECT_MAX_MS 120000
//  Failures counted at most (the cap is 1 batch long before).
#define DV_LEDGER_FAILURES_MAX 16

typedef struct {
    dv_range_t *held;    //  a ring of capacity: batches sent and not confirmed
    int64_t *held_ms;    //  beside each, when it was sent
    uint32_t held_start; //  where the oldest is
    uint32_t held_count; //  <= capacity
    uint32_t capacity;   //  the ring's size now: it grows up to cap
    uint32_t cap;        //  batches kept at most, and credit while trusted, >= 1
    uint32_t failures;   //  RESENDs that named its batches, less confirmations
    int64_t suspect_until_ms;
    //  Ranges taken back from it and not confirmed since (the latest
    //  DV_RESEND_RANGES_MAX).
    dv_range_t lost[DV_RESEND_RANGES_MAX];
    uint32_t lost_count;
} dv_ledger_t;

//  A trusted worker holding nothing, which may hold cap (>= 1) batches.
//  Returns 0, or -1 when out of memory.
int dv_ledger_init (dv_ledger_t *self, uint32_t cap);

void dv_ledger_free (dv_ledger_t *self);

//  Credit it may have now: cap halved per failure, at least 1.
uint32_t dv_ledger_cap (const dv_ledger_t *self);

//  True while a failure keeps it suspect, at now_ms.
bool dv_ledger_suspect (const dv_ledger_t *self, int64_t now_ms);

//  Records a batch sent to it at now_ms (never earlier than the batch
//  before), forgetting the oldest one it holds when it holds cap already.
void dv_ledger_sent (dv_ledger_t *self, uint64_t first_task, uint32_t count,
                     int64_t now_ms);

//  How many of the batches it holds unconfirmed were sent at since_ms or
//  later.
uint32_t dv_ledger_held_since (const dv_ledger_t *self, int64_t since_ms);

//  The sink holds every task below first_missing: forgets the batches
//  wholly below it, from the oldest on up to the first that is not (so a
//  batch sent again waits behind an older one still missing), and the lost
//  ranges wholly below it. When it held any, one failure is forgiven.
//  Returns how many of its batches were confirmed.
uint32_t dv_ledger_confirm (dv_ledger_t *self, uint64_t first_missing);

//  The sink lacks ranges (a RESEND's): takes back every batch it held that
//  meets one of them and remembers it as lost. When there was any, that is
//  one failure, at now_ms. Returns how many batches were taken back.
uint32_t dv_ledger_take_back (dv_ledger_t *self, const dv_range_t *ranges,
                              uint32_t range_count, int64_t now_ms);

//  True when tasks first_task .. first_task + count - 1 meet a range taken
//  back from it and not confirmed since.
bool dv_ledger_lost (const dv_ledger_t *self, uint64_t first_task, uint32_t count);

//  The job started again: nothing held, nothing lost. Failures are kept.
void dv_ledger_forget (dv_ledger_t *self);

#endif
