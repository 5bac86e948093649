/*  divvy-worker: the worker alone, for scripts and tests; `divvy worker` is the same. */
#include "worker.h"

int
main (int argc, char **argv)
{
    return dv_worker_main (argc, argv);
}
