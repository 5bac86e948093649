/*  observe.h: what a worker shows of itself: --metrics, and unless --quiet a
    status line every DV_STATUS_LINE_MS during a job (tasks squared, rate).

    dv_worker_observe_tick is cheap (one clock read): call it as often as
    the worker looks at its sink; it publishes the snapshot every
    DV_METRICS_PUBLISH_MS and says the line when it is due.
*/
#ifndef DV_WORKER_OBSERVE_H_INCLUDED
#define DV_WORKER_OBSERVE_H_INCLUDED

#include "human.h"
#include "metrics.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t job_id; //  of the last batch; 0 before the first
    uint64_t tasks_squared;
    uint64_t batches;
    uint64_t malformed;
} dv_worker_counts_t;

typedef struct {
    dv_metrics_t *metrics; //  or NULL
    bool quiet;
    const char *id;
    int64_t published_ms;
    int64_t said_ms;
    uint64_t said_tasks; //  tasks_squared at the last line
} dv_worker_observe_t;

//  Starts --metrics when listen is not NULL. -1 after logging, and only
//  then sets *exit_code (metrics.h).
int dv_worker_observe_init (dv_worker_observe_t *self, const char *listen, bool quiet,
                            const char *id, int *exit_code);

void dv_worker_observe_tick (dv_worker_observe_t *self, const dv_worker_counts_t *counts);

//  Publishes counts a last time (for a scrape while the worker waits for the
//  sink to leave) without a status line.
void dv_worker_observe_final (dv_worker_observe_t *self,
                              const dv_worker_counts_t *counts);

void dv_worker_observe_destroy (dv_worker_observe_t *self);

#endif
