/*  sink.h: the entry point of the sink (gathers, checks and prints a job's results),
   shared by the program divvy-sink and the subcommand `divvy sink` (divvy/main.c).
*/
#ifndef DV_SINK_H_INCLUDED
#define DV_SINK_H_INCLUDED

#include "options.h"

//  Runs the sink with argv as its command line (argv[0] is its name, the
//  options follow) and returns the process's exit code (exit_codes.h).
//  Call once per process: it sets up CZMQ, logging and the signal handlers.
int dv_sink_main (int argc, char **argv);

//  Hands the sink's command and option table to use (options.h): the
//  names of its DIVVY_* variables, for the other commands' warnings.
int dv_sink_describe (dv_command_use_fn *use, void *context);

#endif
