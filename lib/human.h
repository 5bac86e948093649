/*  human.h: numbers and durations as people read them, for stderr.

    Counts get digit grouping ("1,234,567"), durations a compact form
    ("950 ms", "4.2 s", "3m07s", "2h05m"). Machine output (stdout, JSON,
    metrics) never goes through here: it stays plain digits.
*/
#ifndef DV_HUMAN_H_INCLUDED
#define DV_HUMAN_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

//  How often the ventilator and the workers say how they are doing (a
//  status line on stderr, unless --quiet).
#define DV_STATUS_LINE_MS 5000

//  Room for any uint64 with grouping (20 digits, 6 commas) and a NUL.
#define DV_HUMAN_COUNT_MAX 27
//  Room for any duration text and a NUL.
#define DV_HUMAN_DURATION_MAX 24

//  Writes value with a comma every three digits; returns buffer.
char *dv_human_count (uint64_t value, char buffer[DV_HUMAN_COUNT_MAX]);

//  Writes a duration of seconds (negative or not finite: "?"); returns buffer.
char *dv_human_duration (double seconds, char buffer[DV_HUMAN_DURATION_MAX]);

//  The width of the terminal on fd, or 0 when fd is no terminal. A line
//  for it is at most this minus one long (the last column wraps on some).
int dv_human_columns (int fd);

#endif
