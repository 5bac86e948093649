/*  observe.c: the ventilator's metric families and its status line. */
#include "observe.h"
#include "clock.h"
#include "exit_codes.h"
#include "human.h"
#include "log.h"

typedef enum {
    S_TASKS_SENT,
    S_TASKS_RESENT,
    S_JOB_TASKS,
    S_SINK_RECEIVED,
    S_WINDOW,
    S_IN_FLIGHT,
    S_WORKERS,
    S_MALFORMED,
    S_FAMILY_COUNT
} s_family_t;

static const dv_metric_family_t s_families[S_FAMILY_COUNT] = {
    [S_TASKS_SENT] = {"divvy_tasks_sent_total", DV_METRIC_COUNTER,
                      "Tasks sent to workers, first time or again"},
    [S_TASKS_RESENT] = {"divvy_tasks_resent_total", DV_METRIC_COUNTER,
                        "Tasks the sink asked for again (RESEND)"},
    [S_JOB_TASKS] = {"divvy_job_tasks", DV_METRIC_GAUGE, "Tasks in the ventilator's job"},
    [S_SINK_RECEIVED] = {"divvy_sink_results", DV_METRIC_GAUGE,
                         "Distinct results the sink last said it holds (CREDIT)"},
    [S_WINDOW] = {"divvy_window_tasks", DV_METRIC_GAUGE,
                  "Tasks that may be in flight at most"},
    [S_IN_FLIGHT] =
        {"divvy_tasks_in_flight", DV_METRIC_GAUGE,
         "Tasks sent and not yet at the sink, as far as the ventilator knows"},
    [S_WORKERS] = {"divvy_workers_connected", DV_METRIC_GAUGE,
                   "Workers connected to the task socket"},
    [S_MALFORMED] = {"divvy_malformed_total", DV_METRIC_COUNTER,
                     "Credit messages dropped as malformed"},
};

int
dv_ventilator_observe_init (dv_ventilator_observe_t *self, const char *listen, bool quiet,
                            int *exit_code)
{
    *self = (dv_ventilator_observe_t){.quiet = quiet, .said_ms = dv_now_ms ()};
    if (!listen)
        return 0;
    const dv_metrics_config_t config = {
        .role = "ventilator",
        .families = s_families,
        .family_count = S_FAMILY_COUNT,
    };
    self->metrics = dv_metrics_new (listen, &config, exit_code);
    return self->metrics ? 0 : -1;
}

static void
s_publish (dv_ventilator_observe_t *self, const dv_ventilator_counts_t *counts)
{
    dv_metrics_set (self->metrics, S_TASKS_SENT, counts->tasks_sent);
    dv_metrics_set (self->metrics, S_TASKS_RESENT, counts->tasks_resent);
    dv_metrics_set (self->metrics, S_JOB_TASKS, counts->job_tasks);
    dv_metrics_set (self->metrics, S_SINK_RECEIVED, counts->sink_received);
    dv_metrics_set (self->metrics, S_WINDOW, counts->window_tasks);
    dv_metrics_set (self->metrics, S_IN_FLIGHT, counts->in_flight);
    dv_metrics_set (self->metrics, S_WORKERS,
                    counts->workers_connected > 0 ? (uint64_t) counts->workers_connected
                                                  : 0);
    dv_metrics_set (self->metrics, S_MALFORMED, counts->malformed);
    dv_metrics_publish (self->metrics);
}

void
dv_ventilator_observe_tick (dv_ventilator_observe_t *self,
                            const dv_ventilator_counts_t *counts)
{
    int64_t now = dv_now_ms ();
    if (self->metrics && now - self->published_ms >= DV_METRICS_PUBLISH_MS) {
        s_publish (self, counts);
        self->published_ms = now;
    }
    if (now - self->said_ms < DV_STATUS_LINE_MS)
        return;
    self->said_ms = now;
    //  Before the job runs, the session and the gate say what we wait for.
    if (self->quiet || !counts->job_accepted)
        return;
    char sent[DV_HUMAN_COUNT_MAX], total[DV_HUMAN_COUNT_MAX], resent[DV_HUMAN_COUNT_MAX];
    char received[DV_HUMAN_COUNT_MAX], window[DV_HUMAN_COUNT_MAX];
    char in_flight[DV_HUMAN_COUNT_MAX];
    dv_log ("sent %s tasks for a job of %s, %s again; the sink has %s; window %s tasks, "
            "%s in flight",
            dv_human_count (counts->tasks_sent, sent),
            dv_human_count (counts->job_tasks, total),
            dv_human_count (counts->tasks_resent, resent),
            dv_human_count (counts->sink_received, received),
            dv_human_count (counts->window_tasks, window),
            dv_human_count (counts->in_flight, in_flight));
}

void
dv_ventilator_observe_final (dv_ventilator_observe_t *self,
                             const dv_ventilator_counts_t *counts)
{
    if (self->metrics)
        s_publish (self, counts);
}

void
dv_ventilator_observe_destroy (dv_ventilator_observe_t *self)
{
    dv_metrics_destroy (&self->metrics);
}
