/*  test_source.c: unit tests for ventilator/source.h, a job's task values.

    Files are written to a fresh temporary directory; what dv_source_read
    logs is caught by pointing stderr at a file for the call, so that the
    "path:line: reason" message itself is checked. Expected sums are literals
    computed with Python's big integers.
*/
#include "protocol.h"
#include "source.h"
#include "exact.h"
#include "log.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char s_directory[] = "/tmp/test-source-XXXXXX";
static char s_path[sizeof s_directory + 32];
static char s_logged[4096];

static int
s_setup (void **state)
{
    (void) state;
    dv_log_set_program ("test");
    return mkdtemp (s_directory) ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    unlink (s_path);
    return rmdir (s_directory);
}

//  Writes text to the test file; returns its path.
static const char *
s_write (const char *text)
{
    snprintf (s_path, sizeof s_path, "%s/input.txt", s_directory);
    FILE *file = fopen (s_path, "w");
    assert_non_null (file);
    assert_int_equal (fwrite (text, 1, strlen (text), file), strlen (text));
    assert_int_equal (fclose (file), 0);
    return s_path;
}

//  Reads path into source with stderr caught in s_logged; returns the rc.
static int
s_read (dv_source_t *source, const char *path)
{
    char log_path[sizeof s_directory + 32];
    snprintf (log_path, sizeof log_path, "%s/stderr.txt", s_directory);
    fflush (stderr);
    int saved = dup (STDERR_FILENO);
    int log_fd = open (log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true (saved >= 0 && log_fd >= 0);
    dup2 (log_fd, STDERR_FILENO);
    int rc = dv_source_read (source, path);
    fflush (stderr);
    dup2 (saved, STDERR_FILENO);
    close (saved);
    ssize_t size = pread (log_fd, s_logged, sizeof s_logged - 1, 0);
    s_logged[size > 0 ? size : 0] = '\0';
    close (log_fd);
    unlink (log_path);
    return rc;
}

//  Expects the read of text to fail with the message "PATH:" + suffix.
static void
s_expect_refused (const char *text, const char *suffix)
{
    dv_source_t source;
    const char *path = s_write (text);
    assert_int_equal (s_read (&source, path), -1);
    assert_null (source.file);
    char expected[512];
    snprintf (expected, sizeof expected, "test: %s%s\n", path, suffix);
    assert_string_equal (s_logged, expected);
}

static void
s_expect_sum (const dv_source_t *source, const char *expected)
{
    dv_u256_t sum = dv_source_sum_of_squares (source);
    char text[DV_U256_TEXT_MAX + 1];
    dv_u256_format (&sum, text);
    assert_string_equal (text, expected);
}

static void
test_range (void **state)
{
    (void) state;
    dv_source_t source;
    assert_int_equal (dv_source_range (&source, -3, 7), 0);
    assert_true (source.is_range);
    assert_int_equal (source.count, 7);
    assert_int_equal (dv_source_value (&source, 0), -3);
    assert_int_equal (dv_source_value (&source, 6), 3);
    s_expect_sum (&source, "28");
    dv_source_free (&source);
    //  The largest ranges that fit, at either end.
    assert_int_equal (dv_source_range (&source, INT64_MAX, 1), 0);
    assert_int_equal (dv_source_value (&source, 0), INT64_MAX);
    assert_int_equal (dv_source_range (&source, INT64_MIN, UINT64_MAX), 0);
    assert_int_equal (dv_source_value (&source, UINT64_MAX - 1), INT64_MAX - 1);
    dv_source_free (&source);
}

static void
test_range_overflow_refused (void **state)
{
    (void) state;
    dv_source_t source;
    assert_int_equal (dv_source_range (&source, INT64_MAX, 2), -1);
    assert_int_equal (dv_source_range (&source, INT64_MAX - 9, 11), -1);
    assert_int_equal (dv_source_range (&source, 0, UINT64_MAX), -1);
    assert_int_equal (dv_source_range (&source, -1, (UINT64_C (1) << 63) + 1), 0);
    assert_int_equal (dv_source_range (&source, -1, (UINT64_C (1) << 63) + 2), -1);
    dv_source_free (&source);
}

static void
test_file_blank_lines_and_signs (void **state)
{
    (void) state;
    dv_source_t source;
    const char *path = s_write ("1\n\n  -2 \n+3\n\t\n\r\n4");
    assert_int_equal (s_read (&source, path), 0);
    assert_string_equal (s_logged, "");
    assert_false (source.is_range);
    assert_int_equal (source.count, 4);
    assert_int_equal (dv_source_value (&source, 0), 1);
    assert_int_equal (dv_source_value (&source, 1), -2);
    assert_int_equal (dv_source_value (&source, 2), 3);
    assert_int_equal (dv_source_value (&source, 3), 4); //  no final newline
    dv_source_free (&source);
    assert_null (source.file);
}

static void
test_file_many_values (void **state)
{
    (void) state;
    //  Past the first allocation (4096 values).
    enum { VALUES = 10000 };
    static char text[VALUES * 8];
    size_t length = 0;
    for (int value = 0; value < VALUES; value++)
        length += (size_t) snprintf (text + length, sizeof text - length, "%d\n",
                                     value - VALUES / 2);
    dv_source_t source;
    assert_int_equal (s_read (&source, s_write (text)), 0);
    assert_int_equal (source.count, VALUES);
    for (int value = 0; value < VALUES; value++)
        assert_int_equal (dv_source_value (&source, (uint64_t) value),
                          value - VALUES / 2);
    dv_source_free (&source);
}

static void
test_file_out_of_range (void **state)
{
    (void) state;
    s_expect_refused ("1\n9223372036854775808\n",
                      ":2: '9223372036854775808' is out of the 64-bit integer range");
    s_expect_refused ("\n\n-9223372036854775809\n",
                      ":3: '-9223372036854775809' is out of the 64-bit integer range");
    s_expect_refused ("+99999999999999999999999999999999999999999999999999\n",
                      ":1: '+999999999999999999999999999999999999999...' is out of the "
                      "64-bit integer range");
}

static void
test_file_not_an_integer (void **state)
{
    (void) state;
    s_expect_refused ("1\n2\nabc\n", ":3: 'abc' is not an integer");
    s_expect_refused ("12x\n", ":1: '12x' is not an integer");
    s_expect_refused ("1 2\n", ":1: '1 2' is not an integer");
    s_expect_refused ("+\n", ":1: '+' is not an integer");
    s_expect_refused ("-\n", ":1: '-' is not an integer");
    s_expect_refused ("0x10\n", ":1: '0x10' is not an integer");
    s_expect_refused ("1.5\n", ":1: '1.5' is not an integer");
}

static void
test_file_empty (void **state)
{
    (void) state;
    s_expect_refused ("", " holds no integers: nothing to do");
    s_expect_refused ("\n  \n\t\n", " holds no integers: nothing to do");
}

static void
test_file_missing (void **state)
{
    (void) state;
    dv_source_t source;
    char path[sizeof s_directory + 32];
    snprintf (path, sizeof path, "%s/no-such-file", s_directory);
    assert_int_equal (s_read (&source, path), -1);
    assert_null (source.file);
    char expected[512];
    snprintf (expected, sizeof expected,
              "test: cannot read --input '%s': No such file or directory\n", path);
    assert_string_equal (s_logged, expected);
}

static void
test_sum_of_squares_exact (void **state)
{
    (void) state;
    dv_source_t source;
    //  Python: sum (x * x for x in [-2**63, 2**63 - 1, -1, 3])
    const char *path = s_write ("-9223372036854775808\n9223372036854775807\n-1\n3\n");
    assert_int_equal (s_read (&source, path), 0);
    s_expect_sum (&source, "170141183460469231713240559642174554123");
    dv_source_free (&source);
    //  A file and the range it lists agree.
    assert_int_equal (s_read (&source, s_write ("-3\n-2\n-1\n0\n1\n2\n3\n")), 0);
    s_expect_sum (&source, "28");
    dv_source_free (&source);
    //  Python: sum (x * x for x in range (2**62, 2**62 + 1000))
    assert_int_equal (dv_source_range (&source, INT64_C (1) << 62, 1000), 0);
    s_expect_sum (&source, "21267647932558658573535245373446362145500");
    dv_source_free (&source);
}

//  Values read again in any order, as RESENDs ask: forward, back across
//  kept offsets, far ahead; the stride doubled whenever the offsets filled.
static void
test_file_seeks (void **state)
{
    (void) state;
    enum { VALUES = 20000 };
    static char text[VALUES * 12];
    size_t length = 0;
    for (int value = 0; value < VALUES; value++)
        length += (size_t) snprintf (text + length, sizeof text - length, "%s%d\n",
                                     value % 7 ? "" : "\n  ", value * 3 - 7);
    dv_source_t source;
    assert_int_equal (s_read (&source, s_write (text)), 0);
    assert_int_equal (source.count, VALUES);
    assert_true (source.offset_count <= DV_SOURCE_OFFSETS_MAX);
    assert_true (source.stride >= DV_SOURCE_STRIDE_MIN);
    assert_true (source.offset_count * source.stride >= VALUES);
    uint64_t seed = 99;
    for (int probe = 0; probe < 3000; probe++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint64_t task = (seed >> 33) % VALUES;
        uint64_t run = 1 + (seed >> 20) % 40;
        for (uint64_t id = task; id < task + run && id < VALUES; id++)
            assert_int_equal (dv_source_value (&source, id), (int64_t) id * 3 - 7);
    }
    assert_false (source.failed);
    dv_source_free (&source);
}

//  stdin is copied to an unlinked temporary file and read again from it.
static void
test_stdin_spooled (void **state)
{
    (void) state;
    const char *path = s_write ("5\n\n-6\n7");
    int saved = dup (STDIN_FILENO);
    int input = open (path, O_RDONLY);
    assert_true (saved >= 0 && input >= 0);
    dup2 (input, STDIN_FILENO);
    close (input);
    dv_source_t source;
    int rc = s_read (&source, "-");
    dup2 (saved, STDIN_FILENO);
    close (saved);
    assert_int_equal (rc, 0);
    assert_string_equal (source.name, "stdin");
    assert_int_equal (source.count, 3);
    assert_int_equal (dv_source_value (&source, 2), 7);
    assert_int_equal (dv_source_value (&source, 0), 5);
    assert_int_equal (dv_source_value (&source, 1), -6);
    s_expect_sum (&source, "110");
    dv_source_free (&source);
}

//  A file cut short after the checking pass: a value past its new end is
//  not made up (read after a seek back); the source says so and is failed.
static void
test_file_changed (void **state)
{
    (void) state;
    //  Larger than stdio's buffer, so that the seek back reads the file.
    enum { VALUES = 100000 };
    static char text[VALUES * 2 + 1];
    for (int value = 0; value < VALUES; value++)
        memcpy (text + 2 * value, "1\n", 2);
    dv_source_t source;
    const char *path = s_write (text);
    assert_int_equal (s_read (&source, path), 0);
    assert_int_equal (dv_source_value (&source, VALUES - 1), 1);
    assert_int_equal (truncate (path, 10), 0); //  five lines left
    fflush (stderr);
    int saved = dup (STDERR_FILENO);
    int log_fd = open ("/dev/null", O_WRONLY);
    dup2 (log_fd, STDERR_FILENO);
    dv_source_value (&source, VALUES / 2); //  back: a seek, and the file ends early
    dup2 (saved, STDERR_FILENO);
    close (saved);
    close (log_fd);
    assert_true (source.failed);
    dv_source_free (&source);
}

//  Reads path as a line job into source with stderr caught in s_logged.
static int
s_read_lines (dv_source_t *source, const char *path)
{
    char log_path[sizeof s_directory + 32];
    snprintf (log_path, sizeof log_path, "%s/stderr.txt", s_directory);
    fflush (stderr);
    int saved = dup (STDERR_FILENO);
    int log_fd = open (log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true (saved >= 0 && log_fd >= 0);
    dup2 (log_fd, STDERR_FILENO);
    int rc = dv_source_read_lines (source, path);
    fflush (stderr);
    dup2 (saved, STDERR_FILENO);
    close (saved);
    ssize_t size = pread (log_fd, s_logged, sizeof s_logged - 1, 0);
    s_logged[size > 0 ? size : 0] = '\0';
    close (log_fd);
    unlink (log_path);
    return rc;
}

static void
s_expect_line (dv_source_t *source, uint64_t task_id, const char *expected)
{
    const char *bytes;
    size_t length;
    assert_int_equal (dv_source_read_line (source, task_id, &bytes, &length), 0);
    assert_int_equal (length, strlen (expected));
    assert_memory_equal (bytes, expected, length);
}

//  Every line is a task, empty ones too, a last one without a newline too;
//  the digest is over the lines' digests; lines are read again in any
//  order, the one read last at once (a batch's byte budget holds it).
static void
test_lines_read_again (void **state)
{
    (void) state;
    enum { LINES = 5000 };
    static char text[LINES * 16];
    size_t length = 0;
    for (int line = 0; line < LINES; line++)
        length += (size_t) snprintf (text + length, sizeof text - length,
                                     line % 5 ? "line %d\n" : "\n", line);
    length += (size_t) snprintf (text + length, sizeof text - length, "last");
    dv_source_t source;
    assert_int_equal (s_read_lines (&source, s_write (text)), 0);
    assert_int_equal (source.count, LINES + 1);
    assert_true (source.is_lines);
    dv_digest_t digest;
    dv_digest_init (&digest);
    for (int line = 0; line < LINES; line++) {
        char expected[32];
        snprintf (expected, sizeof expected, line % 5 ? "line %d" : "", line);
        dv_digest_add (&digest, (int64_t) dv_line_digest (expected, strlen (expected)));
    }
    dv_digest_add (&digest, (int64_t) dv_line_digest ("last", 4));
    assert_int_equal (dv_source_digest (&source), digest.state);
    uint64_t seed = 5;
    for (int probe = 0; probe < 2000; probe++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint64_t task = (seed >> 33) % LINES;
        char expected[32];
        snprintf (expected, sizeof expected, task % 5 ? "line %d" : "", (int) task);
        s_expect_line (&source, task, expected);
        s_expect_line (&source, task, expected); //  held: the same again
    }
    s_expect_line (&source, LINES, "last");
    assert_false (source.failed);
    dv_source_free (&source);
}

//  A line over DV_LINE_MAX, or holding a NUL: refused, naming the line.
static void
test_lines_refused (void **state)
{
    (void) state;
    static char text[DV_LINE_MAX + 64];
    memset (text, 'a', sizeof text);
    memcpy (text, "ok\n", 3);
    text[3 + DV_LINE_MAX] = '\n'; //  line 2: exactly DV_LINE_MAX bytes
    memcpy (text + 4 + DV_LINE_MAX, "b\n", 3);
    dv_source_t source;
    const char *path = s_write (text);
    assert_int_equal (s_read_lines (&source, path), 0);
    assert_int_equal (source.count, 3);
    dv_source_free (&source);
    text[3 + DV_LINE_MAX] = 'a'; //  now DV_LINE_MAX + 2 bytes
    path = s_write (text);
    assert_int_equal (s_read_lines (&source, path), -1);
    assert_null (source.file);
    char expected[512];
    snprintf (expected, sizeof expected,
              "test: %s:2: the line is %d bytes, over the %d-byte limit of a task line "
              "(DV_LINE_MAX)\n",
              path, DV_LINE_MAX + 2, DV_LINE_MAX);
    assert_string_equal (s_logged, expected);
    //  A NUL: s_write takes a C string, so write it by hand.
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    assert_int_equal (fwrite ("a\nb\0c\n", 1, 6, file), 6);
    assert_int_equal (fclose (file), 0);
    assert_int_equal (s_read_lines (&source, path), -1);
    snprintf (expected, sizeof expected,
              "test: %s:2: the line holds a NUL byte (task lines are text)\n", path);
    assert_string_equal (s_logged, expected);
    assert_int_equal (s_read_lines (&source, s_write ("")), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_range),
        cmocka_unit_test (test_range_overflow_refused),
        cmocka_unit_test (test_file_blank_lines_and_signs),
        cmocka_unit_test (test_file_many_values),
        cmocka_unit_test (test_file_out_of_range),
        cmocka_unit_test (test_file_not_an_integer),
        cmocka_unit_test (test_file_empty),
        cmocka_unit_test (test_file_missing),
        cmocka_unit_test (test_sum_of_squares_exact),
        cmocka_unit_test (test_file_seeks),
        cmocka_unit_test (test_stdin_spooled),
        cmocka_unit_test (test_file_changed),
        cmocka_unit_test (test_lines_read_again),
        cmocka_unit_test (test_lines_refused),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
