/*  trace.c: per-batch timestamps and a steady send rate (see trace.h). */
#include "trace.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#define S_BUFFER_SIZE ((size_t) 1 << 20)

int64_t
dv_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

int
dv_trace_open (dv_trace_t *self, const char *path)
{
    *self = (dv_trace_t){.path = path};
    if (!path)
        return 0;
    self->file = fopen (path, "w");
    if (!self->file) {
        dv_log ("--trace: cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    setvbuf (self->file, NULL, _IOFBF, S_BUFFER_SIZE);
    return 0;
}

int64_t
dv_trace_clock (const dv_trace_t *self)
{
    return self->file ? dv_now_ns () : 0;
}

void
dv_trace_batch (dv_trace_t *self, uint64_t first_task, uint32_t count, int64_t ns)
{
    if (self->file)
        fprintf (self->file, "%" PRIu64 " %" PRIu32 " %" PRId64 "\n", first_task, count,
                 ns);
}

void
dv_trace_close (dv_trace_t *self)
{
    if (!self->file)
        return;
    if ((ferror (self->file) | fclose (self->file)) && !self->failed) {
        dv_log ("--trace: writing %s failed: %s", self->path, strerror (errno));
        self->failed = true;
    }
    self->file = NULL;
}

void
dv_pace_init (dv_pace_t *self, int64_t rate)
{
    *self = (dv_pace_t){.tasks_per_ns = (double) rate / 1e9};
}

int64_t
dv_pace_wait_ns (dv_pace_t *self, uint64_t sent)
{
    if (!(self->tasks_per_ns > 0))
        return 0;
    int64_t now = dv_now_ns ();
    if (!self->start_ns)
        self->start_ns = now;
    int64_t due = self->start_ns + (int64_t) ((double) sent / self->tasks_per_ns);
    return due > now ? due - now : 0;
}
