/*  linework.h: how a worker turns a batch of task lines into result lines.

    --exec CMD: CMD runs once per batch (exec.h) with the batch's lines on
    its stdin, each with a newline, and stdin then closed (the way of
    `parallel --pipe`: block-buffering filters such as tr, sed, grep and awk
    cannot deadlock). It must exit 0 and print exactly one line per input
    line, each at most DV_LINE_MAX bytes without a NUL: line i is task i's
    result. Otherwise the batch runs once more; if that fails too, each task
    runs alone (one line in, one line out) up to `retries` times, and a task
    that fails every time is failed, with the last reason: the command's
    last stderr line, else "exit status N", "killed by signal N", "printed
    N lines for 1 task", or what is wrong with its result line. A batch of
    one task is run up to `retries` times to begin with. So `grep PATTERN`
    fails the lines it does not match (it prints nothing and exits 1).

    --exec-each CMD: one run per task, with every {} in CMD replaced by the
    task line in single quotes (a ' inside becomes '\''), as GNU parallel
    quotes; without {}, the quoted line is appended after a space. Its stdin
    is empty. The result is its stdout without the final newline; a result
    that still holds a newline (more than one line) is failed. A run that
    exits non-zero is tried again, `retries` times in all.

    A C API worker's task function (divvy.h) is called once per task, up
    to `retries` times while it fails; between tasks a signal abandons the
    batch.

    Every wait goes through the caller's wait function, which polls the
    command's pipes beside the worker's sockets: when it returns -1 (the
    job ended, a signal, a silent sink) the command is killed and the batch
    abandoned.
*/
#ifndef DV_LINEWORK_H_INCLUDED
#define DV_LINEWORK_H_INCLUDED

#include "divvy.h"
#include "exec.h"
#include "protocol.h"

#include <stdbool.h>
#include <stdint.h>

//  --retries' default.
#define DV_LINEWORK_RETRIES_DEFAULT 3

//  Waits (briefly) until run's pipes or the worker's sockets have news, and
//  calls dv_exec_step (run). Returns -1 when the batch must be abandoned.
typedef int (dv_linework_wait_fn) (void *context, dv_exec_t *run);

typedef struct {
    const char *exec;      //  --exec CMD, or NULL
    const char *exec_each; //  --exec-each CMD, or NULL
    divvy_task_fn *task;   //  a C API worker's function, or NULL (one of the three)
    void *task_user;
    int retries; //  >= 1
    dv_linework_wait_fn *wait;
    void *context;
} dv_linework_config_t;

//  A batch's results: count of them, task i's bytes at store + offset[i].
typedef struct {
    uint32_t count;
    uint32_t failed; //  how many have DV_LINE_FAILED
    dv_line_status_t *status;
    size_t *offset;
    size_t *length;
    char *store;
    size_t store_size;
    size_t store_capacity;
} dv_linework_results_t;

//  Where a task function puts its result (divvy.h).
struct divvy_result {
    char bytes[DV_LINE_MAX];
    size_t length;
    bool set;   //  divvy_result_set took a line
    bool wrong; //  divvy_result_set was given a line it refused (reason says)
    char reason[DV_EXEC_REASON_MAX + 1];
};

//  Runs the batch lines into results (emptied first). Returns 0 when every
//  task has a result (ok or failed), -1 when the wait function said to
//  abandon it, or when memory ran out (results then partial).
int dv_linework_run (const dv_linework_config_t *config, const dv_lines_t *lines,
                     dv_linework_results_t *results);

//  Fails every task of lines with reason (a worker that cannot run them).
int dv_linework_fail_all (const dv_lines_t *lines, const char *reason,
                          dv_linework_results_t *results);

void dv_linework_results_free (dv_linework_results_t *results);

#endif
