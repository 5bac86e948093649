/*  keygen.h: the entry point of the keygen (makes CURVE certificates), shared by the
    program divvy-keygen and the subcommand `divvy keygen` (divvy/main.c).
*/
#ifndef DV_KEYGEN_H_INCLUDED
#define DV_KEYGEN_H_INCLUDED

#include "options.h"

//  Runs the keygen with argv as its command line (argv[0] is its name, the
//  options follow) and returns the process's exit code (exit_codes.h).
//  Call once per process: it sets up CZMQ, logging and the signal handlers.
int dv_keygen_main (int argc, char **argv);

//  Hands the keygen's command and option table to use (options.h): the
//  names of its DIVVY_* variables, for the other commands' warnings.
int dv_keygen_describe (dv_command_use_fn *use, void *context);

#endif
