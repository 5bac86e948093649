/*  ventilator.h: the entry point of the ventilator (hands out a job's tasks), shared by
   the program divvy-ventilator and the subcommand `divvy ventilator` (divvy/main.c).
*/
#ifndef DV_VENTILATOR_H_INCLUDED
#define DV_VENTILATOR_H_INCLUDED

#include "options.h"

//  Runs the ventilator with argv as its command line (argv[0] is its name, the
//  options follow) and returns the process's exit code (exit_codes.h).
//  Call once per process: it sets up CZMQ, logging and the signal handlers.
int dv_ventilator_main (int argc, char **argv);

//  Hands the ventilator's command and option table to use (options.h): the
//  names of its DIVVY_* variables, for the other commands' warnings.
int dv_ventilator_describe (dv_command_use_fn *use, void *context);

#endif
