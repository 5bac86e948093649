/*  common.h: what every divvy program shares: version, exit codes, logging,
    signals and time.

    Errors go to stderr as one line, "program: message"; stdout belongs to
    results. Exit codes are the same for all three programs.
*/
#ifndef DV_COMMON_H_INCLUDED
#define DV_COMMON_H_INCLUDED

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define DV_VERSION_TEXT "0.1.0"

#define DV_EXIT_OK      0 //  the job completed (or --help, --version)
#define DV_EXIT_RUNTIME 1 //  a runtime failure: bind, lost peer, refused job, wrong sum
#define DV_EXIT_USAGE   2 //  bad option, endpoint or input; nothing was sent
//  Stopped by a signal: 128 + the signal number (130 SIGINT, 143 SIGTERM).

//  Exit-code text for --help, the same in every program.
#define DV_EXIT_CODES_HELP                                                               \
    "Exit codes:\n"                                                                      \
    "  0    the job completed (also --help, --version)\n"                                \
    "  1    runtime failure: cannot bind, peer gone, job refused, sum wrong\n"           \
    "  2    bad option, endpoint or input; nothing was sent\n"                           \
    "  130  stopped by SIGINT, 143 by SIGTERM (after a clean shutdown)\n"

//  Sets up CZMQ (logging to stderr) and signal handling for program. Call
//  first in main.
void dv_process_init (const char *program);

//  The program name given to dv_process_init.
const char *dv_program (void);

//  Logs one line "program: message" to stderr.
void dv_log (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void dv_log_v (const char *format, va_list arguments);

//  Logs at most once per second per limiter; counts and reports what it held
//  back. For events a peer can cause at any rate (malformed messages).
typedef struct {
    int64_t last_ms;
    uint64_t suppressed;
} dv_rate_limit_t;
void dv_log_limited (dv_rate_limit_t *limit, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  True once SIGINT or SIGTERM has arrived.
bool dv_interrupted (void);

//  The exit code for the signal that interrupted us (128 + number).
int dv_interrupted_exit_code (void);

//  Monotonic clock in milliseconds and microseconds.
int64_t dv_now_ms (void);
int64_t dv_now_us (void);

#endif
