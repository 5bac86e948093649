/*  ledger.c: one worker's batches and trust (see ledger.h). Pure: no
    sockets, no clock, no logging. A ledger keeps at most a window of
    batches, so the scans below are over a few dozen entries (DV_PLAN_WORKER_CAP_MAX
    at most), and run per CREDIT or RESEND; per batch there is one store in a
    ring.
*/
#include "ledger.h"

#include <stdlib.h>

//  The ring starts this small and doubles as a worker holds more, up to cap:
//  a ledger costs what its worker holds, not what it may hold.
#define S_RING_MIN 64

//  The ring slot of the index-th batch held, oldest first.
static uint32_t
s_slot (const dv_ledger_t *self, uint32_t index)
{
    uint32_t slot = self->held_start + index;
    return slot < self->capacity ? slot : slot - self->capacity;
}

static dv_range_t *
s_held (dv_ledger_t *self, uint32_t index)
{
    return &self->held[s_slot (self, index)];
}

//  Makes room for capacity (<= cap) batches, the oldest first at slot 0.
//  Returns -1 when out of memory (the ring stays as it was).
static int
s_grow (dv_ledger_t *self, uint32_t capacity)
{
    //  One allocation: the ranges, then their times.
    dv_range_t *held = malloc (capacity * (sizeof *held + sizeof *self->held_ms));
    if (!held)
        return -1;
    int64_t *held_ms = (int64_t *) (held + capacity);
    for (uint32_t index = 0; index < self->held_count; index++) {
        held[index] = self->held[s_slot (self, index)];
        held_ms[index] = self->held_ms[s_slot (self, index)];
    }
    free (self->held);
    self->held = held;
    self->held_ms = held_ms;
    self->held_start = 0;
    self->capacity = capacity;
    return 0;
}

int
dv_ledger_init (dv_ledger_t *self, uint32_t cap)
{
    *self = (dv_ledger_t){.cap = cap ? cap : 1};
    return s_grow (self, self->cap < S_RING_MIN ? self->cap : S_RING_MIN);
}

void
dv_ledger_free (dv_ledger_t *self)
{
    free (self->held);
    self->held = NULL;
    self->held_ms = NULL;
    self->held_count = self->held_start = self->capacity = 0;
}

uint32_t
dv_ledger_cap (const dv_ledger_t *self)
{
    uint32_t cap = self->cap >> self->failures;
    return cap ? cap : 1;
}

bool
dv_ledger_suspect (const dv_ledger_t *self, int64_t now_ms)
{
    return self->failures && now_ms < self->suspect_until_ms;
}

static void
s_drop_oldest (dv_ledger_t *self)
{
    self->held_start = self->held_start + 1 < self->capacity ? self->held_start + 1 : 0;
    self->held_count--;
}

void
dv_ledger_sent (dv_ledger_t *self, uint64_t first_task, uint32_t count, int64_t now_ms)
{
    if (self->held_count == self->capacity) {
        uint32_t grown = self->capacity < self->cap / 2 ? self->capacity * 2 : self->cap;
        //  Full at cap, or out of memory to grow: the oldest goes.
        if (self->capacity == self->cap || s_grow (self, grown))
            s_drop_oldest (self);
    }
    uint32_t slot = s_slot (self, self->held_count++);
    self->held[slot] = (dv_range_t){first_task, count};
    self->held_ms[slot] = now_ms;
}

uint32_t
dv_ledger_held_since (const dv_ledger_t *self, int64_t since_ms)
{
    //  Sent in time order: count back from the newest.
    uint32_t count = 0;
    while (count < self->held_count &&
           self->held_ms[s_slot (self, self->held_count - 1 - count)] >= since_ms)
        count++;
    return count;
}

static bool
s_meets (const dv_range_t *range, uint64_t first_task, uint64_t count)
{
    return range->first_task < first_task + count &&
           first_task < range->first_task + range->task_count;
}

uint32_t
dv_ledger_confirm (dv_ledger_t *self, uint64_t first_missing)
{
    //  Batches go out in task order, but for those sent again: confirming
    //  from the oldest, and stopping at the first one still missing, costs
    //  only what is confirmed. A batch sent again that waits behind one
    //  still missing is confirmed with it.
    uint32_t confirmed = 0;
    while (self->held_count) {
        const dv_range_t *oldest = s_held (self, 0);
        if (oldest->first_task + oldest->task_count > first_missing)
            break;
        s_drop_oldest (self);
        confirmed++;
    }
    uint32_t kept = 0;
    for (uint32_t index = 0; index < self->lost_count; index++)
        if (self->lost[index].first_task + self->lost[index].task_count > first_missing)
            self->lost[kept++] = self->lost[index];
    self->lost_count = kept;
    if (confirmed && self->failures)
        self->failures--;
    return confirmed;
}

//  Remembers a range taken back, dropping the oldest when full.
static void
s_remember_lost (dv_ledger_t *self, dv_range_t range)
{
    if (self->lost_count == DV_RESEND_RANGES_MAX) {
        for (uint32_t index = 1; index < self->lost_count; index++)
            self->lost[index - 1] = self->lost[index];
        self->lost_count--;
    }
    self->lost[self->lost_count++] = range;
}

uint32_t
dv_ledger_take_back (dv_ledger_t *self, const dv_range_t *ranges, uint32_t range_count,
                     int64_t now_ms)
{
    uint32_t kept = 0, taken = 0;
    for (uint32_t index = 0; index < self->held_count; index++) {
        dv_range_t batch = *s_held (self, index);
        bool missing = false;
        for (uint32_t range = 0; range < range_count && !missing; range++)
            missing = s_meets (&ranges[range], batch.first_task, batch.task_count);
        if (missing) {
            s_remember_lost (self, batch);
            taken++;
        } else {
            int64_t sent_ms = self->held_ms[s_slot (self, index)];
            uint32_t slot = s_slot (self, kept++);
            self->held[slot] = batch;
            self->held_ms[slot] = sent_ms;
        }
    }
    self->held_count = kept;
    if (taken) {
        if (self->failures < DV_LEDGER_FAILURES_MAX)
            self->failures++;
        int64_t suspect_ms = DV_LEDGER_SUSPECT_MS;
        for (uint32_t failure = 1;
             failure < self->failures && suspect_ms < DV_LEDGER_SUSPECT_MAX_MS; failure++)
            suspect_ms *= 2;
        if (suspect_ms > DV_LEDGER_SUSPECT_MAX_MS)
            suspect_ms = DV_LEDGER_SUSPECT_MAX_MS;
        self->suspect_until_ms = now_ms + suspect_ms;
    }
    return taken;
}

bool
dv_ledger_lost (const dv_ledger_t *self, uint64_t first_task, uint32_t count)
{
    for (uint32_t index = 0; index < self->lost_count; index++)
        if (s_meets (&self->lost[index], first_task, count))
            return true;
    return false;
}

void
dv_ledger_forget (dv_ledger_t *self)
{
    self->held_count = self->held_start = 0;
    self->lost_count = 0;
}
