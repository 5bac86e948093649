/*  clock.h: the monotonic clock every timeout is measured on. */
#ifndef DV_CLOCK_H_INCLUDED
#define DV_CLOCK_H_INCLUDED

#include <stdint.h>

//  Monotonic clock in milliseconds and microseconds.
int64_t dv_now_ms (void);
int64_t dv_now_us (void);

#endif
