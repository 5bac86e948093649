/*  seen.c: the task ids received, in a ring over the window (see seen.h). */
#include "seen.h"

#include <stdlib.h>

int
dv_seen_init (dv_seen_t *self, uint64_t task_count, uint64_t span)
{
    *self = (dv_seen_t){.task_count = task_count, .span = span};
    if (span < 64 || (span & (span - 1)) || task_count < 1)
        return -1;
    //  A job smaller than the window needs only itself.
    uint64_t bits = 64;
    while (bits < span && bits < task_count)
        bits *= 2;
    self->ring_bits = bits;
    self->ring_mask = bits - 1;
    //  calloc maps zero pages: memory is touched as the window moves over it.
    self->ring = calloc ((size_t) (bits / 64), sizeof (uint64_t));
    return self->ring ? 0 : -1;
}

void
dv_seen_free (dv_seen_t *self)
{
    free (self->ring);
    self->ring = NULL;
}

bool
dv_seen_in_job (const dv_seen_t *self, uint64_t first, uint64_t count)
{
    return count >= 1 && count <= self->task_count && first <= self->task_count - count;
}

bool
dv_seen_in_window (const dv_seen_t *self, uint64_t first, uint64_t count)
{
    return first + count <= dv_window_end_of (self->first_missing, self->span);
}

//  The ring word that holds id, and id's bit in it.
static uint64_t *
s_word (const dv_seen_t *self, uint64_t id)
{
    return &self->ring[(id & self->ring_mask) / 64];
}

static uint64_t
s_bit (uint64_t id)
{
    return (uint64_t) 1 << (id % 64);
}

bool
dv_seen_has (const dv_seen_t *self, uint64_t id)
{
    if (id < self->first_missing)
        return true;
    if (id >= self->received_end)
        return false;
    return *s_word (self, id) & s_bit (id);
}

void
dv_seen_settle (dv_seen_t *self)
{
    uint64_t id = self->first_missing;
    while (id < self->received_end) {
        uint64_t *word = s_word (self, id);
        if (id % 64 == 0 && *word == UINT64_MAX) {
            *word = 0;
            id += 64;
        } else if (*word & s_bit (id)) {
            *word &= ~s_bit (id);
            id++;
        } else
            break;
    }
    //  Past received_end nothing is in: the first of those is missing.
    self->first_missing = id < self->task_count ? id : self->task_count;
}

//  The first id from id on, below limit (at most received_end), whose bit is
//  set (want_set) or clear; limit when there is none. A word at a time.
static uint64_t
s_scan (const dv_seen_t *self, uint64_t id, uint64_t limit, bool want_set)
{
    while (id < limit) {
        uint64_t word = *s_word (self, id);
        uint64_t bits = (want_set ? word : ~word) & (UINT64_MAX << (id % 64));
        uint64_t base = id - id % 64;
        if (bits) {
            uint64_t found = base + (uint64_t) __builtin_ctzll (bits);
            return found < limit ? found : limit;
        }
        id = base + 64;
    }
    return limit;
}

uint32_t
dv_seen_missing (const dv_seen_t *self, uint64_t below, dv_range_t *ranges,
                 uint32_t range_max, uint64_t *task_total)
{
    uint64_t end = below < self->task_count ? below : self->task_count;
    uint32_t range_count = 0;
    *task_total = 0;
    uint64_t id = self->first_missing;
    while (id < end && range_count < range_max) {
        //  Below received_end a run of missing ids ends at the next id in;
        //  from there on every id is missing.
        uint64_t first =
            id < self->received_end ? s_scan (self, id, self->received_end, false) : id;
        if (first >= end)
            break;
        id = first < self->received_end ? s_scan (self, first, self->received_end, true)
                                        : end;
        if (id >= self->received_end)
            id = end;
        if (id > end)
            id = end;
        ranges[range_count].first_task = first;
        ranges[range_count].task_count = id - first;
        *task_total += id - first;
        range_count++;
    }
    return range_count;
}

bool
dv_seen_has_all (const dv_seen_t *self, const dv_range_t *ranges, uint32_t range_count)
{
    for (uint32_t index = 0; index < range_count; index++) {
        uint64_t first = ranges[index].first_task;
        uint64_t count = ranges[index].task_count;
        if (!dv_seen_in_job (self, first, count))
            return false;
        uint64_t end = first + count;
        if (end <= self->first_missing)
            continue;
        if (end > self->received_end)
            return false;
        uint64_t from = first > self->first_missing ? first : self->first_missing;
        if (s_scan (self, from, end, false) < end)
            return false;
    }
    return true;
}
