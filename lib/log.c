/*  log.c: one-line logging and its rate limit. */
#include "log.h"
#include "clock.h"

#include <inttypes.h>
#include <stdio.h>

static const char *s_program = "divvy";

void
dv_log_set_program (const char *program)
{
    s_program = program;
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
