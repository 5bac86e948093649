/*  squares.h: a squares job's work, beside linework.h's line jobs: every
    task's exact 128-bit square, one result batch per batch: RESULTS (each
    value and its square) for a list job's TASKS, SQUARES (the squares
    alone, 8 bytes each where they fit) for a range job's RANGE_TASKS.
*/
#ifndef DV_SQUARES_H_INCLUDED
#define DV_SQUARES_H_INCLUDED

#include "protocol.h"

#include <stddef.h>
#include <stdint.h>

//  Writes the result message of tasks, under the worker id (id_length
//  bytes), into buffer (DV_RESULTS_SIZE (tasks->count, id_length) bytes,
//  the larger kind),
//  spending delay_us more on each task (--task-delay-us). Returns its size,
//  or 0 when a signal came mid-batch: a batch is never sent in part (the
//  sink asks again for it).
size_t dv_squares_work (const dv_tasks_t *tasks, const char *id, size_t id_length,
                        int64_t delay_us, uint8_t *buffer);

#endif
