/*  divvy-keygen: the keygen alone, for scripts and tests; `divvy keygen` is the same. */
#include "keygen.h"
#include "commands.h"

int
main (int argc, char **argv)
{
    dv_commands_know ();
    return dv_keygen_main (argc, argv);
}
