/*  source.c: task values from a range or from a file of integers, streamed
    (see source.h).
*/
#define _GNU_SOURCE //  O_TMPFILE
#include "source.h"
#include "log.h"
#include "options.h"
#include "protocol.h"

#include <inttypes.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

//  stdio's buffer for the input: large reads, few system calls.
#define S_FILE_BUFFER (1 << 16)

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

//  The next line's integer: 1 and *value, 0 at the end of the file, -1 for
//  a line that is no integer (*text is it then), -2 when spool (if any)
//  cannot take the line as read. Blank lines are skipped; *bytes grows by
//  what was read, *line_number by the lines.
static int
s_next (dv_source_t *self, FILE *file, FILE *spool, int64_t *value, char **text,
        uint64_t *bytes, uint64_t *line_number)
{
    ssize_t length;
    while ((length = getline (&self->line, &self->line_capacity, file)) != -1) {
        if (spool && fwrite (self->line, 1, (size_t) length, spool) != (size_t) length)
            return -2;
        *bytes += (uint64_t) length;
        (*line_number)++;
        *text = s_trim (self->line);
        if (!**text)
            continue;
        return dv_parse_int64 (*text, value) ? -1 : 1;
    }
    return 0;
}

//  Keeps offset as that of task task_id when it is on the stride; past
//  DV_SOURCE_OFFSETS_MAX, every other offset goes and the stride doubles.
static int
s_keep_offset (dv_source_t *self, uint64_t task_id, uint64_t offset)
{
    if (task_id % self->stride)
        return 0;
    if (self->offset_count == DV_SOURCE_OFFSETS_MAX) {
        for (uint64_t index = 0; index < self->offset_count / 2; index++)
            self->offsets[index] = self->offsets[2 * index];
        self->offset_count /= 2;
        self->stride *= 2;
        if (task_id % self->stride)
            return 0;
    }
    self->offsets[self->offset_count++] = offset;
    return 0;
}

//  An unlinked temporary file in $TMPDIR (else /tmp), open for reading and
//  writing; NULL after logging.
static FILE *
s_spool_open (void)
{
    const char *directory = getenv ("TMPDIR");
    if (!directory || !*directory)
        directory = "/tmp";
    int fd = open (directory, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        //  A file system without O_TMPFILE: a named file, unlinked at once.
        char path[4096];
        snprintf (path, sizeof path, "%s/divvy-stdin-XXXXXX", directory);
        fd = mkstemp (path);
        if (fd >= 0)
            unlink (path);
    }
    FILE *file = fd < 0 ? NULL : fdopen (fd, "w+");
    if (!file) {
        dv_log ("cannot spool stdin (--input -) to a temporary file in %s: %s "
                "(set TMPDIR to a writable directory)",
                directory, strerror (errno));
        if (fd >= 0)
            close (fd);
    }
    return file;
}

//  Opens --input for its first pass (stdin with a spool to read it again
//  from). *input is NULL when it cannot be opened (said); else the return
//  is 0, or -1 (said) for s_end_first_pass to clean up.
static int
s_open_input (dv_source_t *self, const char *path, FILE **input, FILE **spool)
{
    bool is_stdin = !strcmp (path, "-");
    snprintf (self->name, sizeof self->name, "%s", is_stdin ? "stdin" : path);
    *spool = NULL;
    *input = is_stdin ? stdin : fopen (path, "r");
    if (!*input) {
        dv_log ("cannot read --input '%s': %s", path, strerror (errno));
        return -1;
    }
    self->offsets = malloc (DV_SOURCE_OFFSETS_MAX * sizeof *self->offsets);
    if (!self->offsets) {
        dv_log ("out of memory");
        return -1;
    }
    if (is_stdin && !(*spool = s_spool_open ()))
        return -1;
    setvbuf (*input, NULL, _IOFBF, S_FILE_BUFFER);
    return 0;
}

//  Ends a first pass that read rc so far: checks what is left to check,
//  keeps the file (stdin's spool) to read again from its start, or frees
//  everything on failure. what: the name of the tasks, for an empty input.
static int
s_end_first_pass (dv_source_t *self, const char *path, int rc, FILE *input, FILE *spool,
                  const dv_digest_t *digest, const char *what)
{
    if (rc == 0 && ferror (input)) {
        dv_log ("cannot read --input '%s': %s", path, strerror (errno));
        rc = -1;
    }
    if (rc == 0 && self->count == 0) {
        dv_log ("%s holds no %s: nothing to do", self->name, what);
        rc = -1;
    }
    if (rc == 0 && spool && (fflush (spool) || ferror (spool))) {
        dv_log ("cannot spool stdin (--input -) to a temporary file: %s",
                strerror (errno));
        rc = -1;
    }
    self->digest = digest->state;
    self->file = input == stdin ? spool : input;
    if (rc == 0 && fseeko (self->file, 0, SEEK_SET)) {
        dv_log ("cannot read --input '%s' again: %s", path, strerror (errno));
        rc = -1;
    }
    if (rc)
        dv_source_free (self);
    return rc;
}

int
dv_source_read (dv_source_t *self, const char *path)
{
    *self = (dv_source_t){.is_range = false, .stride = DV_SOURCE_STRIDE_MIN};
    FILE *input, *spool;
    int rc = s_open_input (self, path, &input, &spool);
    if (!input)
        return -1;
    dv_digest_t digest;
    dv_digest_init (&digest);
    uint64_t offset = 0, line_number = 0;
    while (!rc) {
        uint64_t line_start = offset;
        int64_t value;
        char *text;
        int next = s_next (self, input, spool, &value, &text, &offset, &line_number);
        if (next == 0)
            break;
        if (next == -2) {
            dv_log ("cannot spool stdin (--input -) to a temporary file: %s",
                    strerror (errno));
            rc = -1;
            break;
        }
        if (next < 0) {
            bool signed_ = text[0] == '-' || text[0] == '+';
            bool numeric = text[signed_] && strspn (text + signed_, "0123456789") ==
                                                strlen (text + signed_);
            dv_log ("%s:%" PRIu64 ": '%.40s%s' is %s", self->name, line_number, text,
                    strlen (text) > 40 ? "..." : "",
                    numeric ? "out of the 64-bit integer range" : "not an integer");
            rc = -1;
            break;
        }
        s_keep_offset (self, self->count, line_start);
        dv_digest_add (&digest, value);
        dv_u256_add_u128 (&self->sum, dv_square (value));
        self->count++;
    }
    return s_end_first_pass (self, path, rc, input, spool, &digest, "integers");
}

//  The next raw line of file: its length without the newline, or -1 at the
//  end. *bytes grows by what was read (the newline too).
static ssize_t
s_next_line (dv_source_t *self, FILE *file, uint64_t *bytes)
{
    ssize_t length = getline (&self->line, &self->line_capacity, file);
    if (length < 0)
        return -1;
    *bytes += (uint64_t) length;
    if (length && self->line[length - 1] == '\n')
        length--;
    return length;
}

int
dv_source_read_lines (dv_source_t *self, const char *path)
{
    *self = (dv_source_t){
        .is_lines = true, .stride = DV_SOURCE_STRIDE_MIN, .held_task = UINT64_MAX};
    FILE *input, *spool;
    int rc = s_open_input (self, path, &input, &spool);
    if (!input)
        return -1;
    dv_digest_t digest;
    dv_digest_init (&digest);
    uint64_t offset = 0;
    while (!rc) {
        uint64_t line_start = offset;
        ssize_t length = s_next_line (self, input, &offset);
        if (length < 0)
            break;
        size_t raw = (size_t) (offset - line_start);
        if (spool && fwrite (self->line, 1, raw, spool) != raw) {
            dv_log ("cannot spool stdin (--input -) to a temporary file: %s",
                    strerror (errno));
            rc = -1;
            break;
        }
        if (length > DV_LINE_MAX) {
            dv_log ("%s:%" PRIu64 ": the line is %zd bytes, over the %d-byte limit of a "
                    "task line (DV_LINE_MAX)",
                    self->name, self->count + 1, length, DV_LINE_MAX);
            rc = -1;
            break;
        }
        if (memchr (self->line, '\0', (size_t) length)) {
            dv_log ("%s:%" PRIu64 ": the line holds a NUL byte (task lines are text)",
                    self->name, self->count + 1);
            rc = -1;
            break;
        }
        s_keep_offset (self, self->count, line_start);
        dv_digest_add (&digest, (int64_t) dv_line_digest (self->line, (size_t) length));
        self->count++;
    }
    return s_end_first_pass (self, path, rc, input, spool, &digest, "lines");
}

//  Says once that the file no longer reads as the first pass read it.
static int64_t
s_fail (dv_source_t *self, const char *why)
{
    if (!self->failed)
        dv_log ("--input %s no longer holds what it did when the job started (%s): "
                "stopping",
                self->name, why);
    self->failed = true;
    return 0;
}

int64_t
dv_source_read_value (dv_source_t *self, uint64_t task_id)
{
    if (self->failed || !self->file)
        return s_fail (self, "not open");
    //  Far back or far ahead: from the kept offset at or before it.
    if (task_id < self->cursor || task_id - self->cursor >= self->stride) {
        uint64_t index = task_id / self->stride;
        if (fseeko (self->file, (off_t) self->offsets[index], SEEK_SET))
            return s_fail (self, strerror (errno));
        self->cursor = index * self->stride;
    }
    uint64_t bytes = 0, line_number = 0;
    for (;;) {
        int64_t value;
        char *text;
        int next = s_next (self, self->file, NULL, &value, &text, &bytes, &line_number);
        if (next <= 0)
            return s_fail (self, next ? "a line is no integer now" : "it is shorter");
        if (self->cursor++ == task_id)
            return value;
    }
}

int
dv_source_read_line (dv_source_t *self, uint64_t task_id, const char **bytes,
                     size_t *length)
{
    if (task_id == self->held_task) {
        *bytes = self->line;
        *length = self->held_length;
        return self->failed ? -1 : 0;
    }
    self->held_task = UINT64_MAX;
    if (self->failed || !self->file) {
        s_fail (self, "not open");
        return -1;
    }
    if (task_id < self->cursor || task_id - self->cursor >= self->stride) {
        uint64_t index = task_id / self->stride;
        if (fseeko (self->file, (off_t) self->offsets[index], SEEK_SET)) {
            s_fail (self, strerror (errno));
            return -1;
        }
        self->cursor = index * self->stride;
    }
    uint64_t read = 0;
    for (;;) {
        ssize_t got = s_next_line (self, self->file, &read);
        if (got < 0 || got > DV_LINE_MAX || memchr (self->line, '\0', (size_t) got)) {
            s_fail (self, got < 0 ? "it is shorter" : "a line is no task line now");
            return -1;
        }
        if (self->cursor++ == task_id) {
            self->held_task = task_id;
            self->held_length = (size_t) got;
            *bytes = self->line;
            *length = (size_t) got;
            return 0;
        }
    }
}

uint64_t
dv_source_digest (const dv_source_t *self)
{
    return self->is_range ? 0 : self->digest;
}

dv_u256_t
dv_source_sum_of_squares (const dv_source_t *self)
{
    if (self->is_range)
        return dv_range_sum_of_squares (self->start, self->count);
    return self->sum;
}

void
dv_source_free (dv_source_t *self)
{
    if (self->file)
        fclose (self->file);
    self->file = NULL;
    free (self->offsets);
    self->offsets = NULL;
    free (self->line);
    self->line = NULL;
}
