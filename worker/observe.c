/*  observe.c: the worker's metric families and its status line. */
#include "observe.h"
#include "clock.h"
#include "exit_codes.h"
#include "human.h"
#include "log.h"

#include <inttypes.h>
#include <string.h>

typedef enum { S_TASKS_SQUARED, S_BATCHES, S_MALFORMED, S_FAMILY_COUNT } s_family_t;

static const dv_metric_family_t s_families[S_FAMILY_COUNT] = {
    [S_TASKS_SQUARED] = {"divvy_tasks_squared_total", DV_METRIC_COUNTER,
                         "Tasks squared and sent to the sink"},
    [S_BATCHES] = {"divvy_batches_total", DV_METRIC_COUNTER,
                   "Task batches squared and sent to the sink"},
    [S_MALFORMED] = {"divvy_malformed_total", DV_METRIC_COUNTER,
                     "Task messages dropped as malformed"},
};

int
dv_worker_observe_init (dv_worker_observe_t *self, const char *listen, bool quiet,
                        const char *id, int *exit_code)
{
    *self = (dv_worker_observe_t){.quiet = quiet, .id = id, .said_ms = dv_now_ms ()};
    if (!listen)
        return 0;
    const dv_metrics_config_t config = {
        .role = "worker",
        .families = s_families,
        .family_count = S_FAMILY_COUNT,
    };
    self->metrics = dv_metrics_new (listen, &config, exit_code);
    return self->metrics ? 0 : -1;
}

static void
s_publish (dv_worker_observe_t *self, const dv_worker_counts_t *counts)
{
    dv_metrics_set (self->metrics, S_TASKS_SQUARED, counts->tasks_squared);
    dv_metrics_set (self->metrics, S_BATCHES, counts->batches);
    dv_metrics_set (self->metrics, S_MALFORMED, counts->malformed);
    dv_metrics_publish (self->metrics);
}

void
dv_worker_observe_tick (dv_worker_observe_t *self, const dv_worker_counts_t *counts)
{
    int64_t now = dv_now_ms ();
    if (self->metrics && now - self->published_ms >= DV_METRICS_PUBLISH_MS) {
        s_publish (self, counts);
        self->published_ms = now;
    }
    if (now - self->said_ms < DV_STATUS_LINE_MS)
        return;
    //  A line during a job only: a worker waiting for its first batch says
    //  so already (session.h).
    if (!self->quiet && counts->job_id) {
        char squared[DV_HUMAN_COUNT_MAX], rate[DV_HUMAN_COUNT_MAX];
        double seconds = (double) (now - self->said_ms) / 1000.0;
        dv_log ("%s: job %" PRIu64 ": squared %s tasks, %s tasks/s", self->id,
                counts->job_id, dv_human_count (counts->tasks_squared, squared),
                dv_human_count (
                    (uint64_t) ((double) (counts->tasks_squared - self->said_tasks) /
                                    seconds +
                                0.5),
                    rate));
    }
    self->said_ms = now;
    self->said_tasks = counts->tasks_squared;
}

void
dv_worker_observe_final (dv_worker_observe_t *self, const dv_worker_counts_t *counts)
{
    if (self->metrics)
        s_publish (self, counts);
}

void
dv_worker_observe_destroy (dv_worker_observe_t *self)
{
    dv_metrics_destroy (&self->metrics);
}
