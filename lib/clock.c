/*  clock.c: CLOCK_MONOTONIC, so that no timeout jumps with the wall clock. */
#include "clock.h"

#include <time.h>

int64_t
dv_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

int64_t
dv_now_ms (void)
{
    return dv_now_us () / 1000;
}
