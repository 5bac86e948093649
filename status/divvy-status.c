/*  divvy-status: dv_status_main as a program of its own (the Compose
    healthcheck and the Kubernetes readiness probe run it). */
#include "status.h"
#include "commands.h"

int
main (int argc, char **argv)
{
    dv_commands_know ();
    return dv_status_main (argc, argv);
}
