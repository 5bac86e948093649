/*  common.c: process set-up, one-line logging, signals and clocks.

    CZMQ would log to stdout and hide which signal stopped us; we point its log
    at stderr and install our own handler, which still sets zsys_interrupted so
    that CZMQ's calls return as they would.
*/
#include "common.h"

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

static const char *s_program = "divvy";
static volatile sig_atomic_t s_signal_number;

static void
s_on_signal (int signal_number)
{
    s_signal_number = signal_number;
    zsys_interrupted = 1;
    zctx_interrupted = 1;
}

void
dv_process_init (const char *program)
{
    s_program = program;
    zsys_init ();
    zsys_set_logstream (stderr);
    zsys_set_logident (program);
    zsys_handler_set (s_on_signal);
    //  A closed peer must be an error return, never a process-killing signal.
    signal (SIGPIPE, SIG_IGN);
}

const char *
dv_program (void)
{
    return s_program;
}

void
dv_log_v (const char *format, va_list arguments)
{
    char line[1024];
    vsnprintf (line, sizeof line, format, arguments);
    fprintf (stderr, "%s: %s\n", s_program, line);
}

void
dv_log (const char *format, ...)
{
    va_list arguments;
    va_start (arguments, format);
    dv_log_v (format, arguments);
    va_end (arguments);
}

void
dv_log_limited (dv_rate_limit_t *limit, const char *format, ...)
{
    int64_t now = dv_now_ms ();
    if (limit->last_ms && now - limit->last_ms < 1000) {
        limit->suppressed++;
        return;
    }
    if (limit->suppressed)
        dv_log ("(%" PRIu64 " similar messages suppressed)", limit->suppressed);
    limit->suppressed = 0;
    limit->last_ms = now;
    va_list arguments;
    va_start (arguments, format);
    dv_log_v (format, arguments);
    va_end (arguments);
}

bool
dv_interrupted (void)
{
    return zsys_interrupted != 0;
}

int
dv_interrupted_exit_code (void)
{
    return 128 + (s_signal_number ? (int) s_signal_number : SIGINT);
}

int64_t
dv_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

int64_t
dv_now_ms (void)
{
    return dv_now_us () / 1000;
}
