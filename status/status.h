/*  status.h: `divvy status`, what a sink says of its job, for people and probes.

    It subscribes to the sink's control socket (heartbeats only, the topic a
    worker takes: the sink greets a new subscriber with one at once) and
    prints the sink's state (idle, running, done, abandoned), the job id,
    received of total, the rate and the ETA: once, or live with --watch.
    The rate is measured here, from the heartbeats' received counts over
    time (the sink sends one every 200 ms): once, it watches a running job
    for a second before it answers.

    Exit codes: 0 a sink answered (--watch: and the job it watched ended, or
    it was stopped by a signal: 130 / 143); 1 no sink answered within
    --timeout (or, with --watch, one went silent that long); 2 bad options.
*/
#ifndef DV_STATUS_H_INCLUDED
#define DV_STATUS_H_INCLUDED

#include "options.h"

//  The whole program: `divvy status` and divvy-status call it.
int dv_status_main (int argc, char **argv);

//  Hands the status's command and option table to use (options.h): the
//  names of its DIVVY_* variables, for the other commands' warnings.
int dv_status_describe (dv_command_use_fn *use, void *context);

#endif
