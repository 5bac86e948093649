/*  version.h: divvy's version, the same for every program. */
#ifndef DV_VERSION_H_INCLUDED
#define DV_VERSION_H_INCLUDED

#define DV_VERSION_TEXT "0.1.0"

#endif
