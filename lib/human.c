/*  human.c: digit grouping and short durations. */
#include "human.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

char *
dv_human_count (uint64_t value, char buffer[DV_HUMAN_COUNT_MAX])
{
    char digits[21];
    int length = snprintf (digits, sizeof digits, "%" PRIu64, value);
    size_t out = 0;
    for (int index = 0; index < length; index++) {
        if (index && (length - index) % 3 == 0)
            buffer[out++] = ',';
        buffer[out++] = digits[index];
    }
    buffer[out] = '\0';
    return buffer;
}

char *
dv_human_duration (double seconds, char buffer[DV_HUMAN_DURATION_MAX])
{
    if (!isfinite (seconds) || seconds < 0)
        snprintf (buffer, DV_HUMAN_DURATION_MAX, "?");
    else if (seconds < 1)
        snprintf (buffer, DV_HUMAN_DURATION_MAX, "%.0f ms", seconds * 1000);
    else if (seconds < 60)
        snprintf (buffer, DV_HUMAN_DURATION_MAX, "%.1f s", seconds);
    else if (seconds < 3600)
        snprintf (buffer, DV_HUMAN_DURATION_MAX, "%dm%02ds", (int) (seconds / 60),
                  (int) fmod (seconds, 60));
    else if (seconds < 1e9)
        snprintf (buffer, DV_HUMAN_DURATION_MAX, "%dh%02dm", (int) (seconds / 3600),
                  (int) fmod (seconds / 60, 60));
    else
        snprintf (buffer, DV_HUMAN_DURATION_MAX, "forever");
    return buffer;
}

int
dv_human_columns (int fd)
{
    struct winsize size;
    if (!isatty (fd))
        return 0;
    if (ioctl (fd, TIOCGWINSZ, &size) || size.ws_col == 0)
        return 80;
    return size.ws_col;
}
