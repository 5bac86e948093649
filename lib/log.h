/*  log.h: one-line messages on stderr, "program: message".

    Stdout belongs to results: everything a program says goes to stderr.
*/
#ifndef DV_LOG_H_INCLUDED
#define DV_LOG_H_INCLUDED

#include <stdarg.h>
#include <stdint.h>

//  Names the program in every line (dv_process_init calls it).
void dv_log_set_program (const char *program);

//  The program name lines start with.
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

#endif
