/*  api.c: libdivvy's entry point (divvy.h): the worker's loop
    (worker/main.c) with the caller's task function, or with none for the
    built-in worker (`divvy worker`, divvy-worker). The results it sets are
    linework's (worker/linework.c).
*/
#include "divvy.h"
#include "commands.h"
#include "worker.h"

int
divvy_worker_main (int argc, char **argv, divvy_task_fn *task, void *user)
{
    //  Its DIVVY_* warnings know every divvy command, as divvy-worker's do.
    dv_commands_know ();
    return dv_worker_run (argc, argv, task, user);
}
