/*  credit.c: the worker's credit policy (see credit.h). Pure: no sockets, no
    clock, no logging.
*/
#include "credit.h"
#include "protocol.h"

void
dv_credit_policy_init (dv_credit_policy_t *self, uint64_t prefetch)
{
    *self = (dv_credit_policy_t){
        .prefetch = prefetch, .wanted = DV_CREDIT_WANT_MIN, .dry_ms = DV_CREDIT_DRY_MS};
}

uint32_t
dv_credit_policy_after_batch (dv_credit_policy_t *self, uint32_t count, int64_t batch_us)
{
    if (self->outstanding)
        self->outstanding--;
    self->dry_ms = DV_CREDIT_DRY_MS;
    double us_per_task = (double) batch_us / count;
    self->us_per_task =
        self->us_per_task > 0 ? 0.8 * self->us_per_task + 0.2 * us_per_task : us_per_task;
    double ahead_tasks =
        DV_CREDIT_AHEAD_US / (self->us_per_task > 0.001 ? self->us_per_task : 0.001);
    if (ahead_tasks > (double) self->prefetch)
        ahead_tasks = (double) self->prefetch;
    uint64_t wanted = (uint64_t) ahead_tasks / count;
    wanted = wanted < DV_CREDIT_WANT_MIN    ? DV_CREDIT_WANT_MIN
             : wanted > DV_WANT_BATCHES_MAX ? DV_WANT_BATCHES_MAX
                                            : wanted;
    self->wanted = (uint32_t) wanted;
    uint32_t gap =
        self->outstanding < self->wanted ? self->wanted - self->outstanding : 0;
    return gap && gap >= (self->wanted + 3) / 4 ? gap : 0;
}

void
dv_credit_policy_sent (dv_credit_policy_t *self, uint32_t batches, bool reset)
{
    self->outstanding = reset ? batches : self->outstanding + batches;
    //  A restate that brings nothing (the window is full, or no ventilator)
    //  must not become a stream of them: each one waits twice as long.
    if (reset)
        self->dry_ms = self->dry_ms * 2 < DV_CREDIT_REFRESH_MS ? self->dry_ms * 2
                                                               : DV_CREDIT_REFRESH_MS;
}

uint32_t
dv_credit_policy_idle (const dv_credit_policy_t *self, int64_t idle_ms)
{
    return idle_ms >= self->dry_ms ? self->wanted : 0;
}
