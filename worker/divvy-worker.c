/*  divvy-worker: the worker alone, for scripts and tests; `divvy worker` is the same. */
#include "worker.h"
#include "commands.h"

int
main (int argc, char **argv)
{
    dv_commands_know ();
    return dv_worker_main (argc, argv);
}
