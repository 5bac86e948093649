/*  divvy-ventilator: the ventilator alone, for scripts and tests; `divvy ventilator` is
 * the same. */
#include "ventilator.h"
#include "commands.h"

int
main (int argc, char **argv)
{
    dv_commands_know ();
    return dv_ventilator_main (argc, argv);
}
