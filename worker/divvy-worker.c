/*  divvy-worker: the worker alone, for scripts and tests; `divvy worker` is
    the same. A libdivvy program (api/divvy.h) like any other: no task
    function, so it squares squares jobs and runs line jobs through --exec.
*/
#include "divvy.h"

int
main (int argc, char **argv)
{
    return divvy_worker_main (argc, argv, NULL, NULL);
}
