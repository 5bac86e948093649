/*  divvy-sink: the sink alone, for scripts and tests; `divvy sink` is the same. */
#include "sink.h"

int
main (int argc, char **argv)
{
    return dv_sink_main (argc, argv);
}
