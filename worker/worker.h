/*  worker.h: the entry point of the worker (squares task values), shared by the
    program divvy-worker and the subcommand `divvy worker` (divvy/main.c).
*/
#ifndef DV_WORKER_H_INCLUDED
#define DV_WORKER_H_INCLUDED

//  Runs the worker with argv as its command line (argv[0] is its name, the
//  options follow) and returns the process's exit code (exit_codes.h).
//  Call once per process: it sets up CZMQ, logging and the signal handlers.
int dv_worker_main (int argc, char **argv);

#endif
