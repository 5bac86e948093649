/*  status.c: subscribe to a sink's control socket and say what it does.

    The session (session.h) does the socket, CURVE and decoding; the handler
    keeps the last heartbeat and a short history of (time, received) of the
    job it names, from which the rate comes. Printing is plain text (digit
    groups, one line; on a terminal with --watch, one live line that fits
    its width) or, with --json, one JSON object per line.
*/
#include "status.h"
#include "clock.h"
#include "exit_codes.h"
#include "human.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "process.h"
#include "protocol.h"
#include "security.h"
#include "session.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

//  Once, a running job is watched this long for its rate.
#define S_RATE_SAMPLE_MS 1000
//  --watch: the rate is over this many heartbeats at most (about 6 s).
#define S_HISTORY        32
#define S_WATCH_EVERY_MS 1000 //  --watch without a terminal: a line this often
#define S_LIVE_EVERY_MS  250  //  --watch on a terminal: the live line
#define S_LINE_MAX       256

typedef struct {
    const char *control_endpoints;
    bool json;
    bool watch;
    int64_t timeout_ms;
    dv_security_options_t curve;
} s_options_t;

typedef struct {
    int64_t ms;
    uint64_t received;
} s_sample_t;

typedef struct {
    s_options_t options;
    bool heard;
    int64_t heard_ms;
    dv_heartbeat_t last;
    s_sample_t history[S_HISTORY]; //  of last.job_id, oldest at first
    size_t first;
    size_t count;
} s_status_t;

//  The status probe's command over options, set to their defaults, handed to use:
//  the one definition of its options, for parsing and for dv_status_describe.
static int
s_command (s_options_t *options, dv_command_use_fn *use, void *context)
{
    *options = (s_options_t){
        .control_endpoints = dv_endpoint_default (DV_FLOW_CONTROL, false),
        .timeout_ms = 5000,
    };
    const dv_option_t table[] = {
        {"control", DV_OPTION_TEXT, "ENDPOINTS", "the sink's control endpoint(s) to ask",
         "tcp://localhost:5559", 0, 0, &options->control_endpoints},
        {"json", DV_OPTION_FLAG, NULL, "print one JSON object per line", "off", 0, 0,
         &options->json},
        {"watch", DV_OPTION_FLAG, NULL, "keep printing until the job ends", "off", 0, 0,
         &options->watch},
        {"timeout", DV_OPTION_INTEGER, "MS",
         "give up (exit 1) when no sink has answered in MS", "5000", 1, 86400000,
         &options->timeout_ms},
        DV_SECURITY_OPTIONS (&options->curve),
    };
    const dv_command_t command = {
        "status",
        "Ask a divvy sink what it is doing: idle, running (job, received of total,\n"
        "rate, ETA), done or abandoned; once, or live with --watch.",
        table,
        sizeof table / sizeof table[0],
        "Exit status:\n"
        "  0    a sink answered (--watch: and its job ended)\n"
        "  1    no sink answered within --timeout (--watch: or it went silent)\n"
        "  2    bad option or endpoint\n"
        "  130  stopped by SIGINT, 143 by SIGTERM\n",
        false,
        NULL,
        NULL,
    };
    return use (&command, context);
}

int
dv_status_describe (dv_command_use_fn *use, void *context)
{
    s_options_t options;
    return s_command (&options, use, context);
}

static int
s_parse_options (s_options_t *options, int argc, char **argv)
{
    dv_arguments_t arguments = {argc, argv};
    return s_command (options, dv_options_parse_use, &arguments);
}

static void
s_on_sink (void *context, dv_kind_t kind, const void *message)
{
    s_status_t *self = context;
    if (kind != DV_KIND_HEARTBEAT)
        return;
    const dv_heartbeat_t *heartbeat = message;
    int64_t now = dv_now_ms ();
    if (!self->heard || heartbeat->job_id != self->last.job_id ||
        heartbeat->received < self->last.received)
        self->count = 0; //  another job: its history starts now
    self->heard = true;
    self->heard_ms = now;
    self->last = *heartbeat;
    if (heartbeat->state != DV_STATE_RUNNING)
        return;
    if (self->count == S_HISTORY) {
        self->first = (self->first + 1) % S_HISTORY;
        self->count--;
    }
    self->history[(self->first + self->count++) % S_HISTORY] =
        (s_sample_t){now, heartbeat->received};
}

//  Tasks per second over the history; -1 when it is too short to say.
static double
s_rate (const s_status_t *self)
{
    if (self->count < 2)
        return -1;
    const s_sample_t *oldest = &self->history[self->first];
    const s_sample_t *newest =
        &self->history[(self->first + self->count - 1) % S_HISTORY];
    if (newest->ms - oldest->ms < 100)
        return -1;
    return (double) (newest->received - oldest->received) * 1000.0 /
           (double) (newest->ms - oldest->ms);
}

static const char *
s_state_name (dv_state_t state)
{
    return state == DV_STATE_IDLE      ? "idle"
           : state == DV_STATE_RUNNING ? "running"
           : state == DV_STATE_DONE    ? "done"
                                       : "abandoned";
}

static void
s_format_json (const s_status_t *self, char *line, size_t size)
{
    const dv_heartbeat_t *last = &self->last;
    double rate = s_rate (self);
    char rate_text[32] = "null", eta_text[32] = "null";
    if (last->state == DV_STATE_RUNNING && rate >= 0) {
        snprintf (rate_text, sizeof rate_text, "%.1f", rate);
        if (rate > 0)
            snprintf (eta_text, sizeof eta_text, "%.1f",
                      (double) (last->total - last->received) / rate);
    }
    snprintf (line, size,
              "{\"state\":\"%s\",\"job\":%" PRIu64 ",\"received\":%" PRIu64
              ",\"total\":%" PRIu64 ",\"rate\":%s,\"eta_s\":%s,\"ended_ms_ago\":%" PRIu32
              "}",
              s_state_name (last->state), last->job_id, last->received, last->total,
              rate_text, eta_text, last->ended_ms_ago);
}

static void
s_format_text (const s_status_t *self, char *line, size_t size)
{
    const dv_heartbeat_t *last = &self->last;
    char received[DV_HUMAN_COUNT_MAX], total[DV_HUMAN_COUNT_MAX];
    char rate_text[DV_HUMAN_COUNT_MAX], time_text[DV_HUMAN_DURATION_MAX];
    if (last->state == DV_STATE_IDLE) {
        snprintf (line, size, "idle: no job");
        return;
    }
    dv_human_count (last->received, received);
    dv_human_count (last->total, total);
    int length = snprintf (line, size, "%s: job %" PRIu64 ", %s of %s tasks (%.1f%%)",
                           s_state_name (last->state), last->job_id, received, total,
                           100.0 * (double) last->received / (double) last->total);
    if (length < 0 || (size_t) length >= size)
        return;
    if (last->state == DV_STATE_RUNNING) {
        double rate = s_rate (self);
        if (rate < 0)
            snprintf (line + length, size - (size_t) length, ", rate unknown yet");
        else if (rate == 0)
            snprintf (line + length, size - (size_t) length, ", 0 tasks/s, ETA unknown");
        else
            snprintf (line + length, size - (size_t) length, ", %s tasks/s, ETA %s",
                      dv_human_count ((uint64_t) (rate + 0.5), rate_text),
                      dv_human_duration ((double) (last->total - last->received) / rate,
                                         time_text));
    } else
        snprintf (line + length, size - (size_t) length, ", ended %s ago",
                  dv_human_duration (last->ended_ms_ago / 1000.0, time_text));
}

//  One line on stdout; on a terminal with --watch, the live line (columns
//  wide at most, the rest of the previous one cleared).
static void
s_print (const s_status_t *self, int columns, bool final)
{
    char line[S_LINE_MAX];
    if (self->options.json)
        s_format_json (self, line, sizeof line);
    else
        s_format_text (self, line, sizeof line);
    if (columns > 1) {
        if ((int) strlen (line) > columns - 1)
            line[columns - 1] = '\0';
        printf ("\r%s\033[K%s", line, final ? "\n" : "");
    } else
        printf ("%s\n", line);
    fflush (stdout);
}

static bool
s_job_ended (const s_status_t *self)
{
    return self->heard &&
           (self->last.state == DV_STATE_DONE || self->last.state == DV_STATE_ABANDONED);
}

//  Waits for the first heartbeat, then (once) for a rate, or (--watch) prints
//  until the job ends. Returns the exit code.
static int
s_run (s_status_t *self, dv_session_t *session)
{
    int64_t started_ms = dv_now_ms ();
    int64_t printed_ms = 0;
    int columns =
        self->options.watch && !self->options.json ? dv_human_columns (STDOUT_FILENO) : 0;
    int64_t every_ms = columns ? S_LIVE_EVERY_MS : S_WATCH_EVERY_MS;
    while (!dv_interrupted ()) {
        int64_t now = dv_now_ms ();
        if (!self->heard && now - started_ms >= self->options.timeout_ms) {
            dv_log ("no sink answered on %s within %" PRId64 " ms",
                    self->options.control_endpoints, self->options.timeout_ms);
            return DV_EXIT_RUNTIME;
        }
        if (self->heard && now - self->heard_ms >= self->options.timeout_ms) {
            if (columns && printed_ms)
                printf ("\n");
            dv_log ("the sink on %s has been silent for %" PRId64 " ms",
                    self->options.control_endpoints, self->options.timeout_ms);
            return DV_EXIT_RUNTIME;
        }
        if (self->heard && !self->options.watch) {
            bool measured =
                self->last.state != DV_STATE_RUNNING ||
                (self->count >= 2 &&
                 self->history[(self->first + self->count - 1) % S_HISTORY].ms -
                         self->history[self->first].ms >=
                     S_RATE_SAMPLE_MS) ||
                now - started_ms >= self->options.timeout_ms;
            if (measured) {
                s_print (self, 0, true);
                return DV_EXIT_OK;
            }
        }
        if (self->heard && self->options.watch) {
            if (s_job_ended (self)) {
                s_print (self, columns, true);
                return DV_EXIT_OK;
            }
            if (now - printed_ms >= every_ms) {
                s_print (self, columns, false);
                printed_ms = now;
            }
        }
        zmq_pollitem_t items[] = {
            {zsock_resolve (dv_session_socket (session)), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, 1, 50) > 0 && (items[0].revents & ZMQ_POLLIN))
            dv_session_drain (session);
    }
    if (columns && printed_ms)
        printf ("\n");
    return dv_interrupted_exit_code ();
}

int
dv_status_main (int argc, char **argv)
{
    dv_process_init ("status");
    s_status_t self = {0};
    int parsed = s_parse_options (&self.options, argc, argv);
    if (parsed != DV_OPTIONS_RUN)
        return parsed == DV_OPTIONS_DONE ? DV_EXIT_OK : DV_EXIT_USAGE;
    dv_security_t *security = NULL;
    if (dv_security_new (&security, &self.options.curve, true, false))
        return DV_EXIT_USAGE;
    const dv_session_config_t config = {
        .control_endpoints = self.options.control_endpoints,
        .security = security,
        .peer_timeout_ms = self.options.timeout_ms,
        .handler = s_on_sink,
        .context = &self,
    };
    dv_session_t *session = dv_session_new (&config);
    int exit_code;
    if (!session)
        exit_code = dv_socket_exit_code ();
    else
        exit_code = s_run (&self, session);
    dv_session_destroy (&session);
    dv_security_destroy (&security);
    return exit_code;
}
