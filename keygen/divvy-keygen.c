/*  divvy-keygen: the keygen alone, for scripts and tests; `divvy keygen` is the same. */
#include "keygen.h"

int
main (int argc, char **argv)
{
    return dv_keygen_main (argc, argv);
}
