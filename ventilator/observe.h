/*  observe.h: what the ventilator shows of itself: --metrics, and unless
    --quiet a status line every DV_STATUS_LINE_MS while its job runs (sent,
    sent again, the window and what is in flight).

    dv_ventilator_observe_tick is cheap (one clock read): call it as often
    as the ventilator looks at its sink; it publishes the snapshot every
    DV_METRICS_PUBLISH_MS and says the line when it is due.
*/
#ifndef DV_VENTILATOR_OBSERVE_H_INCLUDED
#define DV_VENTILATOR_OBSERVE_H_INCLUDED

#include "human.h"
#include "metrics.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool job_accepted;
    uint64_t job_tasks;
    uint64_t tasks_sent;   //  every task sent, again or not
    uint64_t tasks_resent; //  tasks the sink asked for again
    uint64_t sink_received;
    uint64_t window_tasks;
    uint64_t in_flight; //  sent and not yet at the sink, by the plan
    int64_t workers_connected;
    uint64_t malformed;
} dv_ventilator_counts_t;

typedef struct {
    dv_metrics_t *metrics; //  or NULL
    bool quiet;
    int64_t published_ms;
    int64_t said_ms;
} dv_ventilator_observe_t;

//  Starts --metrics when listen is not NULL. -1 after logging, and only
//  then sets *exit_code (metrics.h).
int dv_ventilator_observe_init (dv_ventilator_observe_t *self, const char *listen,
                                bool quiet, int *exit_code);

void dv_ventilator_observe_tick (dv_ventilator_observe_t *self,
                                 const dv_ventilator_counts_t *counts);

//  Publishes counts a last time, without a status line.
void dv_ventilator_observe_final (dv_ventilator_observe_t *self,
                                  const dv_ventilator_counts_t *counts);

void dv_ventilator_observe_destroy (dv_ventilator_observe_t *self);

#endif
