/*  divvy-status: dv_status_main as a program of its own (the Compose
    healthcheck and the Kubernetes readiness probe run it). */
#include "status.h"

int
main (int argc, char **argv)
{
    return dv_status_main (argc, argv);
}
