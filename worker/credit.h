/*  credit.h: the worker's credit policy, a pure decision of how many batches
    to ask the ventilator for (WANT). The worker asks for about 20 ms of work
    ahead at its measured speed, at least 2 batches and at most prefetch
    tasks' worth: a slow worker so holds little, and a fast one enough to stay
    busy across a round trip. Credit is topped up once a quarter of it is
    used, not once per batch, and restated from scratch after a dry spell:
    the ventilator may have granted less than we asked (it caps each worker's
    credit at its part of the window), or earlier credit may have died with a
    restarted ventilator. The first restate comes after DV_CREDIT_DRY_MS, each
    further one without a batch between after twice as long, up to
    DV_CREDIT_REFRESH_MS.

    No sockets, no clock, no logging: the caller measures, sends the WANT and
    reports with dv_credit_policy_sent what actually went out. (Not
    dv_credit_t: that is the sink's CREDIT message in protocol.h.)

    A value type (dv_credit_policy_init, no _destroy): a few numbers that live
    inside the worker's own state. Fields are public for reading.
*/
#ifndef DV_CREDIT_H_INCLUDED
#define DV_CREDIT_H_INCLUDED

#include "protocol.h" //  DV_CREDIT_REFRESH_MS: idle this long, restate from scratch

#include <stdbool.h>
#include <stdint.h>

#define DV_CREDIT_WANT_MIN 2       //  batches asked for at least
#define DV_CREDIT_AHEAD_US 20000.0 //  work to ask for ahead, at the measured speed
#define DV_CREDIT_DRY_MS   1       //  no batch this long: restate, backing off

typedef struct {
    uint64_t prefetch;    //  tasks to ask for ahead at most, >= 1
    uint32_t wanted;      //  batches we aim to have asked for and not received
    uint32_t outstanding; //  batches asked for and not received yet
    double us_per_task;   //  measured, smoothed; 0 before the first batch
    uint32_t dry_ms;      //  restate after this long without a batch
} dv_credit_policy_t;

//  A policy before the first batch: it wants DV_CREDIT_WANT_MIN batches,
//  none asked for yet.
void dv_credit_policy_init (dv_credit_policy_t *self, uint64_t prefetch);

//  After a batch of count (>= 1) tasks that took batch_us: updates the
//  measured speed and what we want. Returns the batches to ask for now (not
//  a reset), 0 for none.
uint32_t dv_credit_policy_after_batch (dv_credit_policy_t *self, uint32_t count,
                                       int64_t batch_us);

//  Records a WANT that went out: batches more, or with reset exactly batches.
//  Call it only when the send succeeded.
void dv_credit_policy_sent (dv_credit_policy_t *self, uint32_t batches, bool reset);

//  After idle_ms without a batch (or since the last restate): the batches to
//  restate with a reset WANT (what we want), 0 while not dry long enough.
uint32_t dv_credit_policy_idle (const dv_credit_policy_t *self, int64_t idle_ms);

#endif
