/*  worker.h: the entry point of the worker (squares task values), shared by the
    program divvy-worker and the subcommand `divvy worker` (divvy/main.c).
*/
#ifndef DV_WORKER_H_INCLUDED
#define DV_WORKER_H_INCLUDED

#include "divvy.h"
#include "options.h"

//  Runs the worker with argv as its command line (argv[0] is its name, the
//  options follow) and returns the process's exit code (exit_codes.h).
//  Call once per process: it sets up CZMQ, logging and the signal handlers.
int dv_worker_main (int argc, char **argv);

//  The same, with task run for every task of a line job (libdivvy's
//  divvy_worker_main: api/divvy.h); --exec and --exec-each are then refused.
int dv_worker_run (int argc, char **argv, divvy_task_fn *task, void *user);

//  Hands the worker's command and option table to use (options.h): the
//  names of its DIVVY_* variables, for the other commands' warnings.
int dv_worker_describe (dv_command_use_fn *use, void *context);

#endif
