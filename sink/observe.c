/*  observe.c: the sink's metric families and what fills them. */
#include "observe.h"
#include "exit_codes.h"

#include <string.h>

typedef enum {
    S_RESULTS,
    S_DUPLICATES,
    S_MALFORMED,
    S_REFUSED,
    S_RESENDS,
    S_TASKS_REQUESTED,
    S_JOB_TASKS,
    S_JOB_STATE,
    S_WORKERS,
    S_FAMILY_COUNT
} s_family_t;

static const dv_metric_family_t s_families[S_FAMILY_COUNT] = {
    [S_RESULTS] = {"divvy_results_total", DV_METRIC_COUNTER,
                   "Distinct results received and checked (duplicates not counted)"},
    [S_DUPLICATES] = {"divvy_duplicates_total", DV_METRIC_COUNTER,
                      "Results dropped because their task was already in"},
    [S_MALFORMED] = {"divvy_malformed_total", DV_METRIC_COUNTER,
                     "Messages dropped as malformed or not fitting the job"},
    [S_REFUSED] =
        {"divvy_refused_total", DV_METRIC_COUNTER,
         "Messages refused under CURVE (key not allowed now, or not of the role)"},
    [S_RESENDS] = {"divvy_resends_total", DV_METRIC_COUNTER,
                   "RESEND messages published for missing tasks"},
    [S_TASKS_REQUESTED] = {"divvy_resend_tasks_total", DV_METRIC_COUNTER,
                           "Tasks the RESEND messages asked for, counted each time"},
    [S_JOB_TASKS] = {"divvy_job_tasks", DV_METRIC_GAUGE,
                     "Tasks in the sink's job (0 when idle)"},
    [S_JOB_STATE] = {"divvy_job_state", DV_METRIC_GAUGE,
                     "The sink's state: 0 idle, 1 running, 2 done, 3 abandoned"},
    [S_WORKERS] = {"divvy_result_connections", DV_METRIC_GAUGE,
                   "Connections to the result socket (workers and the ventilator)"},
};

static const dv_metric_family_t s_worker_results = {
    "divvy_worker_results_total", DV_METRIC_COUNTER,
    "Distinct results per worker id (ids past the cap counted under *)"};

dv_metrics_t *
dv_sink_observe_new (const char *listen, int *exit_code)
{
    if (!listen)
        return NULL;
    const dv_metrics_config_t config = {
        .role = "sink",
        .families = s_families,
        .family_count = S_FAMILY_COUNT,
        .labelled = &s_worker_results,
        .label_name = "worker",
        //  The capped ids and the bucket of the others.
        .label_max = DV_WORKER_IDS_MAX + 1,
        .label_length_max = DV_WORKER_ID_MAX,
    };
    return dv_metrics_new (listen, &config, exit_code);
}

void
dv_sink_observe_update (dv_metrics_t *metrics, const dv_job_t *job,
                        const dv_sink_counts_t *counts)
{
    if (!metrics)
        return;
    dv_metrics_set (metrics, S_RESULTS, job ? job->received : 0);
    dv_metrics_set (metrics, S_DUPLICATES, job ? job->duplicates : 0);
    dv_metrics_set (metrics, S_MALFORMED, counts->malformed);
    dv_metrics_set (metrics, S_REFUSED, counts->refused);
    dv_metrics_set (metrics, S_RESENDS, counts->resends);
    dv_metrics_set (metrics, S_TASKS_REQUESTED, counts->tasks_requested);
    dv_metrics_set (metrics, S_JOB_TASKS, job ? job->announce.task_count : 0);
    dv_metrics_set (metrics, S_JOB_STATE, (uint64_t) counts->state);
    dv_metrics_set (metrics, S_WORKERS,
                    counts->workers_connected > 0 ? (uint64_t) counts->workers_connected
                                                  : 0);
    dv_metrics_clear_labels (metrics);
    if (job)
        for (dv_job_worker_t *worker = zhashx_first (job->workers); worker;
             worker = zhashx_next (job->workers)) {
            const char *id = zhashx_cursor (job->workers);
            dv_metrics_set_label (metrics, id, strlen (id), worker->results);
        }
    dv_metrics_publish (metrics);
}
