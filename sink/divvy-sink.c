/*  divvy-sink: the sink alone, for scripts and tests; `divvy sink` is the same. */
#include "sink.h"
#include "commands.h"

int
main (int argc, char **argv)
{
    dv_commands_know ();
    return dv_sink_main (argc, argv);
}
