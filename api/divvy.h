/*  divvy.h: libdivvy, for C programs that are divvy workers.

    A program built on it is `divvy worker` with a function of its own in
    place of --exec: it takes the same options (endpoints, --id, CURVE,
    --retries, --metrics, ...) and DIVVY_* variables, connects, and runs
    line jobs (`divvy ventilator --lines`) by calling the function once per
    task, in the worker's own thread, one task after another. Squares jobs
    it squares as every worker does: `divvy worker` and divvy-worker are
    this loop too, with no function of their own. Exactly once, RESEND,
    heartbeats and KILL work as for any worker: see the README, "Running
    real work".

        #include <divvy.h>

        static int
        shout (const char *task, size_t length, divvy_result_t *result, void *user)
        {
            ...make the result line...
            return divvy_result_set (result, line, line_length);
        }

        int
        main (int argc, char **argv)
        {
            return divvy_worker_main (argc, argv, shout, NULL);
        }

    Build: cc prog.c $(pkg-config --cflags --libs divvy)
*/
#ifndef DIVVY_H_INCLUDED
#define DIVVY_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

//  This header's version: it changes when a declaration below does.
#define DIVVY_API_VERSION 1

//  The longest task line and the longest result line, in bytes.
#define DIVVY_LINE_MAX 65536

//  Where a task's result goes (owned by libdivvy; valid during the call).
typedef struct divvy_result divvy_result_t;

//  Called once per task: task is its line, length bytes (no newline, not
//  NUL-terminated, may hold any byte but NUL and newline). Returns 0 with
//  the result set (divvy_result_set), or non-zero for a failed task (its
//  reason from divvy_result_fail, else "the task function returned N").
//  A failed task is tried again, --retries times in all, then reported
//  failed to the sink. The function must not block for long: control
//  messages are read between batches.
typedef int divvy_task_fn (const char *task, size_t length, divvy_result_t *result,
                           void *user);

//  Sets the task's result line: length bytes at bytes, copied. Returns 0,
//  or -1 when the line is longer than DIVVY_LINE_MAX or holds a NUL or a
//  newline (the task then fails, saying so, if the function returns 0).
int divvy_result_set (divvy_result_t *result, const void *bytes, size_t length);

//  Gives the reason a task failed (one line; kept to 512 bytes), for the
//  function to return non-zero after.
void divvy_result_fail (divvy_result_t *result, const char *reason);

//  Runs the worker with argv as its command line (argv[0] its name) and
//  returns the process's exit code, as `divvy worker` documents it (0 when
//  the job completed). task is called for every task of a line job, with
//  user; with task NULL the program is `divvy worker` itself, running line
//  jobs through --exec or --exec-each. Call once per process: it sets up
//  logging and signal handlers.
int divvy_worker_main (int argc, char **argv, divvy_task_fn *task, void *user);

#ifdef __cplusplus
}
#endif

#endif
