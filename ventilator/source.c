/*  source.c: task values from a range or from a file of integers. */
#include "source.h"
#include "log.h"
#include "options.h"
#include "protocol.h"

#include <inttypes.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
dv_source_range (dv_source_t *self, int64_t start, uint64_t count)
{
    *self = (dv_source_t){.count = count, .is_range = true, .start = start};
    if (!dv_range_fits (start, count)) {
        dv_log ("--start %" PRId64 " with --count %" PRIu64
                " runs past the largest 64-bit integer",
                start, count);
        return -1;
    }
    return 0;
}

//  Strips leading and trailing white space in place; returns the start.
static char *
s_trim (char *line)
{
    while (isspace ((unsigned char) *line))
        line++;
    size_t length = strlen (line);
    while (length && isspace ((unsigned char) line[length - 1]))
        line[--length] = '\0';
    return line;
}

int
dv_source_read (dv_source_t *self, const char *path)
{
    *self = (dv_source_t){.is_range = false};
    bool is_stdin = !strcmp (path, "-");
    const char *name = is_stdin ? "stdin" : path;
    FILE *file = is_stdin ? stdin : fopen (path, "r");
    if (!file) {
        dv_log ("cannot read --input '%s': %s", path, strerror (errno));
        return -1;
    }
    size_t capacity = 0;
    char *line = NULL;
    size_t line_capacity = 0;
    uint64_t line_number = 0;
    int rc = 0;
    while (getline (&line, &line_capacity, file) != -1) {
        line_number++;
        char *text = s_trim (line);
        if (!*text)
            continue;
        int64_t value;
        if (dv_parse_int64 (text, &value)) {
            bool numeric =
                text[text[0] == '-' || text[0] == '+'] &&
                strspn (text + (text[0] == '-' || text[0] == '+'), "0123456789") ==
                    strlen (text + (text[0] == '-' || text[0] == '+'));
            dv_log ("%s:%" PRIu64 ": '%.40s%s' is %s", name, line_number, text,
                    strlen (text) > 40 ? "..." : "",
                    numeric ? "out of the 64-bit integer range" : "not an integer");
            rc = -1;
            break;
        }
        if (self->count == capacity) {
            capacity = capacity ? capacity * 2 : 4096;
            int64_t *grown = realloc (self->values, capacity * sizeof *grown);
            if (!grown) {
                dv_log ("%s: out of memory after %" PRIu64 " values", name, self->count);
                rc = -1;
                break;
            }
            self->values = grown;
        }
        self->values[self->count++] = value;
    }
    if (rc == 0 && ferror (file)) {
        dv_log ("cannot read --input '%s': %s", path, strerror (errno));
        rc = -1;
    }
    if (rc == 0 && self->count == 0) {
        dv_log ("%s holds no integers: nothing to do", name);
        rc = -1;
    }
    free (line);
    if (!is_stdin)
        fclose (file);
    if (rc)
        dv_source_free (self);
    return rc;
}

uint64_t
dv_source_digest (const dv_source_t *self)
{
    if (self->is_range)
        return 0;
    dv_digest_t digest;
    dv_digest_init (&digest);
    for (uint64_t task_id = 0; task_id < self->count; task_id++)
        dv_digest_add (&digest, self->values[task_id]);
    return digest.state;
}

dv_u256_t
dv_source_sum_of_squares (const dv_source_t *self)
{
    if (self->is_range)
        return dv_range_sum_of_squares (self->start, self->count);
    dv_u256_t sum = {{0}};
    for (uint64_t task_id = 0; task_id < self->count; task_id++)
        dv_u256_add_u128 (&sum, dv_square (self->values[task_id]));
    return sum;
}

void
dv_source_free (dv_source_t *self)
{
    free (self->values);
    self->values = NULL;
}
