/*  version.c: divvy's version and the libraries it runs on. */
#include "version.h"
#include "protocol.h"

#include <czmq.h>

#ifndef DV_VERSION_TEXT
#error "DV_VERSION_TEXT comes from lib/meson.build"
#endif

const char *
dv_version (void)
{
    return DV_VERSION_TEXT;
}

void
dv_version_print (const char *program, FILE *stream)
{
    int zmq_major, zmq_minor, zmq_patch;
    int czmq_major, czmq_minor, czmq_patch;
    zmq_version (&zmq_major, &zmq_minor, &zmq_patch);
    zsys_version (&czmq_major, &czmq_minor, &czmq_patch);
    if (program)
        fprintf (stream, "divvy-%s (divvy) %s\n", program, DV_VERSION_TEXT);
    else
        fprintf (stream, "divvy %s\n", DV_VERSION_TEXT);
    fprintf (stream,
             "protocol %d, libzmq %d.%d.%d, CZMQ %d.%d.%d (the libraries it runs on)\n",
             DV_PROTOCOL_VERSION, zmq_major, zmq_minor, zmq_patch, czmq_major, czmq_minor,
             czmq_patch);
}
