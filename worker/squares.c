/*  squares.c: a squares job's work (squares.h). */
#include "squares.h"
#include "exact.h"
#include "process.h"

#include <time.h>

static void
s_delay (int64_t microseconds)
{
    struct timespec pause = {microseconds / 1000000, (microseconds % 1000000) * 1000};
    while (nanosleep (&pause, &pause) && !dv_interrupted ())
        ;
}

//  A range batch's SQUARES: 8 bytes a square when the larger end's square
//  (the range is monotonic) is below 2^64.
static size_t
s_range_work (const dv_tasks_t *tasks, const char *id, size_t id_length, int64_t delay_us,
              uint8_t *buffer)
{
    int64_t last = dv_tasks_value (tasks, tasks->count - 1);
    size_t square_size =
        (dv_square (tasks->first_value) >> 64) || (dv_square (last) >> 64) ? 16 : 8;
    size_t message_size =
        dv_squares_encode_header (tasks->job_id, tasks->first_task, tasks->count,
                                  square_size, id, id_length, buffer);
    uint8_t *entries = dv_squares_entries (buffer, id_length);
    for (uint32_t index = 0; index < tasks->count; index++) {
        dv_squares_put (entries, index, square_size,
                        dv_square (dv_tasks_value (tasks, index)));
        if (delay_us) {
            s_delay (delay_us);
            if (dv_interrupted ())
                return 0;
        }
    }
    return message_size;
}

size_t
dv_squares_work (const dv_tasks_t *tasks, const char *id, size_t id_length,
                 int64_t delay_us, uint8_t *buffer)
{
    if (!tasks->values)
        return s_range_work (tasks, id, id_length, delay_us, buffer);
    //  The tag goes back as it came: the sink checks it against the values.
    size_t message_size =
        dv_results_encode_header (tasks->job_id, tasks->first_task, tasks->count,
                                  tasks->tag, id, id_length, buffer);
    uint8_t *entries = dv_results_entries (buffer, id_length);
    for (uint32_t index = 0; index < tasks->count; index++) {
        int64_t value = dv_tasks_value (tasks, index);
        dv_results_put_entry (entries, index, value, dv_square (value));
        if (delay_us) {
            s_delay (delay_us);
            if (dv_interrupted ())
                return 0;
        }
    }
    return message_size;
}
