/*  worker.h: the worker's loop, libdivvy's divvy_worker_main (api/divvy.h),
    which the program divvy-worker, the subcommand `divvy worker` and every
    C program on libdivvy run.
*/
#ifndef DV_WORKER_H_INCLUDED
#define DV_WORKER_H_INCLUDED

#include "divvy.h"
#include "options.h"

//  Runs the worker with argv as its command line (argv[0] is its name, the
//  options follow) and returns the process's exit code (exit_codes.h):
//  squares jobs squared, line jobs' tasks run by task with user, or, when
//  task is NULL, by --exec or --exec-each (refused when task is not).
//  Call once per process: it sets up CZMQ, logging and the signal handlers.
int dv_worker_run (int argc, char **argv, divvy_task_fn *task, void *user);

//  Hands the worker's command and option table to use (options.h): the
//  names of its DIVVY_* variables, for the other commands' warnings.
int dv_worker_describe (dv_command_use_fn *use, void *context);

#endif
