/*  source.h: where a job's task values come from: a range, or a file of
    integers read whole before anything is sent, so that a bad line stops the
    job before it starts and the values stay in memory for resending.
*/
#ifndef DV_SOURCE_H_INCLUDED
#define DV_SOURCE_H_INCLUDED

#include "exact.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t count;  //  N >= 1: task ids are 0..N-1
    bool is_range;   //  task i has value start + i
    int64_t start;   //  with is_range
    int64_t *values; //  without is_range: N values, owned
} dv_source_t;

//  A range of count values from start. Returns -1 and logs when the range
//  does not fit int64.
int dv_source_range (dv_source_t *self, int64_t start, uint64_t count);

//  Reads one integer per line from path ("-" for stdin); blank lines are
//  skipped. Returns -1 after logging "path:line: reason" on the first bad
//  line, or when there is nothing to do.
int dv_source_read (dv_source_t *self, const char *path);

//  The value of task task_id (< count).
static inline int64_t
dv_source_value (const dv_source_t *self, uint64_t task_id)
{
    return self->is_range ? (int64_t) ((uint64_t) self->start + task_id)
                          : self->values[task_id];
}

//  The digest of every value in order (dv_digest_t); 0 for a range.
uint64_t dv_source_digest (const dv_source_t *self);

//  The exact sum of the squares of every value.
dv_u256_t dv_source_sum_of_squares (const dv_source_t *self);

void dv_source_free (dv_source_t *self);

#endif
