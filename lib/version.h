/*  version.h: divvy's version, the same for every program, and --version.

    The version is meson's project version (meson.build), compiled into
    lib/version.c only.
*/
#ifndef DV_VERSION_H_INCLUDED
#define DV_VERSION_H_INCLUDED

#include <stdio.h>

//  "0.1.0": divvy's version.
const char *dv_version (void);

//  Prints the --version text to stream. The first line is "divvy-PROGRAM
//  (divvy) VERSION" (help2man reads it), or "divvy VERSION" when program is
//  NULL; the second the protocol version and the libzmq and CZMQ versions
//  this process runs on (zmq_version, zsys_version: the shared libraries
//  loaded, not the headers it was built with).
void dv_version_print (const char *program, FILE *stream);

#endif
