/*  observe.h: the sink's metrics (--metrics), from its job and its counters.

    The sink's thread calls dv_sink_observe_update with every heartbeat it
    publishes (every 200 ms while it runs, 100 ms while it lingers), so a
    scrape lags the sink by a heartbeat at most, and the last one, taken
    while it lingers, holds the final counts. Names per Prometheus: counters
    end in _total; the worker label takes the job's worker ids, which the job
    caps at DV_WORKER_IDS_MAX (the rest under "*").
*/
#ifndef DV_SINK_OBSERVE_H_INCLUDED
#define DV_SINK_OBSERVE_H_INCLUDED

#include "job.h"
#include "metrics.h"
#include "protocol.h"

typedef struct {
    dv_state_t state;
    uint64_t malformed;
    uint64_t refused;
    uint64_t resends;
    uint64_t tasks_requested;
    int64_t workers_connected;
} dv_sink_counts_t;

//  NULL when listen is NULL; else dv_metrics_new (which sets *exit_code
//  only when it fails).
dv_metrics_t *dv_sink_observe_new (const char *listen, int *exit_code);

//  Publishes the job (or NULL: none) and counts. metrics may be NULL.
void dv_sink_observe_update (dv_metrics_t *metrics, const dv_job_t *job,
                             const dv_sink_counts_t *counts);

#endif
