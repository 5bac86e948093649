/*  source.h: where a job's task values come from: a range, or a file of
    integers, streamed. A first pass reads the whole file and checks every
    line, so that a bad line stops the job before anything is sent; it
    counts the values, digests them, sums their squares and keeps the file
    offset of every stride-th task (at most DV_SOURCE_OFFSETS_MAX offsets:
    past that, every other one is dropped and the stride doubles). Values
    are then read again as batches go out, in order, and a RESEND seeks back
    to the nearest kept offset. Memory does not grow with the file (beyond
    the offsets, 512 KiB at most). stdin ('-') is first copied to an
    unlinked temporary file (in $TMPDIR, else /tmp), which is read the same
    way.

    A line job (--lines) reads any bytes: each line, without its newline,
    is one task (an empty line too; a last line without a newline counts).
    The first pass checks that no line is longer than DV_LINE_MAX or holds
    a NUL byte, and digests the lines (dv_line_digest of each, in order).
*/
#ifndef DV_SOURCE_H_INCLUDED
#define DV_SOURCE_H_INCLUDED

#include "exact.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

//  The most file offsets kept, and the stride they start at (a test may
//  build with smaller ones, to see the stride double).
#ifndef DV_SOURCE_OFFSETS_MAX
#define DV_SOURCE_OFFSETS_MAX 65536
#endif
#ifndef DV_SOURCE_STRIDE_MIN
#define DV_SOURCE_STRIDE_MIN 1024
#endif

typedef struct {
    uint64_t count; //  N >= 1: task ids are 0..N-1
    bool is_range;  //  task i has value start + i
    bool is_lines;  //  a line job: task i is line i of the file
    int64_t start;  //  with is_range
    //  Without is_range: the file, read again as tasks go out.
    FILE *file;        //  the input, or stdin's spool; owned
    char name[256];    //  for messages: the path, or "stdin"
    uint64_t *offsets; //  offsets[i]: where the line of task i * stride starts
    uint64_t offset_count;
    uint64_t stride; //  a power of two, >= DV_SOURCE_STRIDE_MIN
    uint64_t cursor; //  the task whose line the file is at
    bool failed;     //  the file no longer reads as it did (said already)
    char *line;      //  getline's buffer
    size_t line_capacity;
    //  A line job: the task whose line the buffer holds (its length), read
    //  and not yet used (it did not fit a batch's byte budget); or UINT64_MAX.
    uint64_t held_task;
    size_t held_length;
    uint64_t digest; //  of every value in order
    dv_u256_t sum;   //  of their squares
} dv_source_t;

//  A range of count values from start. Returns -1 and logs when the range
//  does not fit int64.
int dv_source_range (dv_source_t *self, int64_t start, uint64_t count);

//  Checks one integer per line from path ("-" for stdin); blank lines are
//  skipped. Returns -1 after logging "path:line: reason" on the first bad
//  line, when there is nothing to do, or when stdin cannot be spooled.
int dv_source_read (dv_source_t *self, const char *path);

//  Checks the lines of path ("-" for stdin) for a line job. Returns -1
//  after logging "path:line: reason" on the first bad line (too long, a
//  NUL byte), when there is no line, or when stdin cannot be spooled.
int dv_source_read_lines (dv_source_t *self, const char *path);

//  The line of a line job's task task_id (< count), without its newline:
//  *bytes (valid until the next call) and *length. At once when it is the
//  next one or the one read last, else after a seek. Returns -1 when the
//  file no longer holds what the first pass read (logged once; failed set).
int dv_source_read_line (dv_source_t *self, uint64_t task_id, const char **bytes,
                         size_t *length);

//  The value of a list job's task task_id (< count), read from the file:
//  at once when it is the next one, else after a seek. When the file no
//  longer holds what the first pass read (changed under us, or a read
//  error), logs once, sets failed and returns 0.
int64_t dv_source_read_value (dv_source_t *self, uint64_t task_id);

//  The value of task task_id (< count). For a list job check failed after
//  a batch's values.
static inline int64_t
dv_source_value (dv_source_t *self, uint64_t task_id)
{
    return self->is_range ? (int64_t) ((uint64_t) self->start + task_id)
                          : dv_source_read_value (self, task_id);
}

//  The digest of every value in order (dv_digest_t); 0 for a range.
uint64_t dv_source_digest (const dv_source_t *self);

//  The exact sum of the squares of every value.
dv_u256_t dv_source_sum_of_squares (const dv_source_t *self);

void dv_source_free (dv_source_t *self);

#endif
