/*  divvy-ventilator: the ventilator alone, for scripts and tests; `divvy ventilator` is
 * the same. */
#include "ventilator.h"

int
main (int argc, char **argv)
{
    return dv_ventilator_main (argc, argv);
}
