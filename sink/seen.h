/*  seen.h: which task ids of a job the sink has received, in memory that
    does not grow with the job.

    Everything below first_missing is in and needs no memory. Above it, a
    ring of span bits (a power of two) holds task ids first_missing ..
    first_missing + span - 1: bit (id % span) says whether id is in. A batch
    that reaches past that is refused (dv_seen_fits), so the ring never
    overflows and nothing else is ever allocated; the ventilator sends no
    task past it (DV_WINDOW_SPAN, lib/protocol.h). When first_missing moves
    on, the bits it passes are cleared: they stand for the ids span further
    on, none of them in yet. Holes are the zero bits below received_end.

    A value type (dv_seen_init / dv_seen_free). Pure: no sockets, no clock,
    no logging. Fields are for reading; change them through the functions.
*/
#ifndef DV_SEEN_H_INCLUDED
#define DV_SEEN_H_INCLUDED

#include "protocol.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t task_count; //  N >= 1: task ids 0 .. N-1
    uint64_t span;       //  the window: ids at or past first_missing + span are refused
    uint64_t ring_bits;  //  min (span, N rounded up to a power of two), >= 64
    uint64_t ring_mask;  //  ring_bits - 1: id & ring_mask is where id is in the ring
    uint64_t *ring;      //  ring_bits bits, owned
    uint64_t first_missing; //  the lowest id not in (task_count when none)
    uint64_t received;      //  distinct ids in
    uint64_t received_end;  //  one past the highest id in (0: none)
} dv_seen_t;

//  Nothing in yet, for task_count >= 1 ids and a window of span ids (a power
//  of two, at least 64: DV_WINDOW_SPAN in the sink). Returns -1 when the
//  ring cannot be allocated (or span is not a power of two of 64 or more).
int dv_seen_init (dv_seen_t *self, uint64_t task_count, uint64_t span);

void dv_seen_free (dv_seen_t *self);

//  Whether a batch of count >= 1 ids from first lies inside the job.
bool dv_seen_in_job (const dv_seen_t *self, uint64_t first, uint64_t count);

//  Whether a batch inside the job lies inside the window: its last id below
//  dv_window_end_of (first_missing, span). A batch that does not may not be
//  taken: the ventilator never sends one.
bool dv_seen_in_window (const dv_seen_t *self, uint64_t first, uint64_t count);

//  Whether id is in (false for any id outside the job).
bool dv_seen_has (const dv_seen_t *self, uint64_t id);

//  Marks id in. id must lie in the job and the window as they were when its
//  batch was checked (dv_seen_in_window). Returns true when it is new, false
//  for a duplicate. first_missing moves on at dv_seen_settle. Inline: it
//  runs once per result.
static inline bool
dv_seen_add (dv_seen_t *self, uint64_t id)
{
    if (id < self->first_missing)
        return false;
    uint64_t *word = &self->ring[(id & self->ring_mask) / 64];
    uint64_t bit = (uint64_t) 1 << (id % 64);
    if (*word & bit)
        return false;
    *word |= bit;
    self->received++;
    if (id >= self->received_end)
        self->received_end = id + 1;
    return true;
}

//  Moves first_missing past every id in, clearing the ring bits it passes.
//  Call once after each batch's dv_seen_add calls.
void dv_seen_settle (dv_seen_t *self);

//  Writes up to range_max ranges of missing ids below below (clipped to it
//  and to the job), lowest first; returns how many, their task total in
//  *task_total.
uint32_t dv_seen_missing (const dv_seen_t *self, uint64_t below, dv_range_t *ranges,
                          uint32_t range_max, uint64_t *task_total);

//  True when every id of the range_count ranges is in (false when one
//  reaches outside the job).
bool dv_seen_has_all (const dv_seen_t *self, const dv_range_t *ranges,
                      uint32_t range_count);

#endif
