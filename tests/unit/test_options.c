/*  test_options.c: unit tests for lib/options.h, options and DIVVY_* variables.

    One table of options, one of each type, is parsed again and again: from
    nothing, from variables, from the command line and from both. Each test
    starts from the defaults with none of the table's variables set. What the
    parser prints (--help, --version, errors) is captured and checked, so
    nothing but TAP reaches stdout.
*/
#include "options.h"
#include "version.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define S_ENDPOINT_DEFAULT "tcp://127.0.0.1:5557"
#define S_ARGUMENT_MAX     16
#define S_CAPTURE_MAX      8192

typedef struct {
    const char *endpoint;
    int64_t min_workers;
    int64_t offset;
    bool quiet;
    bool verbose;
} s_values_t;

static s_values_t s_values;

static const dv_option_t s_options[] = {
    {"endpoint", DV_OPTION_TEXT, "ENDPOINT", "where to connect", S_ENDPOINT_DEFAULT, 0, 0,
     &s_values.endpoint},
    {"min-workers", DV_OPTION_INTEGER, "N", "workers to wait for", "4", 1, 1000,
     &s_values.min_workers},
    {"offset", DV_OPTION_INTEGER, "N", "added to every value", "0", INT64_MIN, INT64_MAX,
     &s_values.offset},
    {"quiet", DV_OPTION_FLAG, NULL, "print nothing", NULL, 0, 0, &s_values.quiet},
    {"verbose", DV_OPTION_FLAG, NULL, "print more", "on", 0, 0, &s_values.verbose},
};

static bool s_given[sizeof s_options / sizeof s_options[0]];

static const char *s_variables[] = {
    "DIVVY_ENDPOINT", "DIVVY_MIN_WORKERS", "DIVVY_OFFSET", "DIVVY_QUIET", "DIVVY_VERBOSE",
};

static const dv_command_t s_command = {
    "test",
    "Tests the option parser.",
    s_options,
    sizeof s_options / sizeof s_options[0],
    "Epilogue: exit codes go here.\n",
    false,
    s_given,
    NULL,
};

static const s_values_t s_defaults = {S_ENDPOINT_DEFAULT, 4, 0, false, true};

//  Defaults back, the table's variables (and their look-alikes) gone.
static int
s_reset (void **state)
{
    (void) state;
    s_values = s_defaults;
    memset (s_given, 0, sizeof s_given);
    for (size_t index = 0; index < sizeof s_variables / sizeof s_variables[0]; index++)
        unsetenv (s_variables[index]);
    unsetenv ("DIVVY_MIN-WORKERS");
    unsetenv ("divvy_min_workers");
    unsetenv ("DIVVY_OTHER");
    return 0;
}

//  Parses the command line "test" followed by the NULL-terminated arguments;
//  s_parse (NULL) parses "test" alone.
static int
s_parse (const char *first, ...)
{
    //  getopt_long permutes argv, so it must be a writable array of pointers.
    char *argv[S_ARGUMENT_MAX + 2] = {"test"};
    int argc = 1;
    va_list arguments;
    va_start (arguments, first);
    for (const char *argument = first; argument;
         argument = va_arg (arguments, const char *)) {
        assert_true (argc <= S_ARGUMENT_MAX);
        argv[argc++] = (char *) argument;
    }
    va_end (arguments);
    argv[argc] = NULL;
    return dv_options_parse (&s_command, argc, argv);
}

//  Captures what is written to fd (1 or 2) between begin and end.
typedef struct {
    int fd;
    int saved_fd;
    FILE *file;
} s_capture_t;

static void
s_capture_begin (s_capture_t *capture, int fd)
{
    fflush (stdout);
    fflush (stderr);
    capture->fd = fd;
    capture->file = tmpfile ();
    assert_non_null (capture->file);
    capture->saved_fd = dup (fd);
    assert_true (capture->saved_fd >= 0);
    assert_true (dup2 (fileno (capture->file), fd) >= 0);
}

//  Stops capturing and returns what was written, NUL-terminated, in a static
//  buffer (so that a failing assertion leaks nothing), cut at S_CAPTURE_MAX.
static const char *
s_capture_end (s_capture_t *capture)
{
    static char text[S_CAPTURE_MAX + 1];
    fflush (stdout);
    fflush (stderr);
    assert_true (dup2 (capture->saved_fd, capture->fd) >= 0);
    close (capture->saved_fd);
    rewind (capture->file);
    size_t size = fread (text, 1, S_CAPTURE_MAX, capture->file);
    text[size] = '\0';
    fclose (capture->file);
    return text;
}

static size_t
s_line_count (const char *text)
{
    size_t lines = 0;
    for (; *text; text++)
        lines += *text == '\n';
    return lines;
}

//  Runs a parse expected to fail and checks that it said so in exactly one
//  line on stderr containing each of the NULL-terminated words.
#define s_assert_bad_with(outcome_expression, ...)                                       \
    do {                                                                                 \
        s_capture_t capture_;                                                            \
        s_capture_begin (&capture_, 2);                                                  \
        int outcome_ = (outcome_expression);                                             \
        const char *text_ = s_capture_end (&capture_);                                   \
        const char *words_[] = {__VA_ARGS__, NULL};                                      \
        assert_int_equal (outcome_, DV_OPTIONS_BAD);                                     \
        assert_int_equal (s_line_count (text_), 1);                                      \
        for (size_t word_ = 0; words_[word_]; word_++)                                   \
            if (!strstr (text_, words_[word_]))                                          \
                fail_msg ("'%s' not in error line: %s", words_[word_], text_);           \
    } while (0)

static void
s_assert_defaults (void)
{
    assert_string_equal (s_values.endpoint, s_defaults.endpoint);
    assert_int_equal (s_values.min_workers, s_defaults.min_workers);
    assert_int_equal (s_values.offset, s_defaults.offset);
    assert_int_equal (s_values.quiet, s_defaults.quiet);
    assert_int_equal (s_values.verbose, s_defaults.verbose);
}

//  ---------------------------------------------------------------------------
//  dv_parse_int64 and dv_parse_uint64

static void
test_parse_int64 (void **state)
{
    (void) state;
    struct {
        const char *text;
        int64_t value;
    } good[] = {
        {"0", 0},
        {"-0", 0},
        {"1", 1},
        {"-1", -1},
        {"+1", 1},  //  a sign is allowed for signed values
        {"007", 7}, //  decimal, never octal
        {"1000000", 1000000},
        {"9223372036854775807", INT64_MAX},
        {"-9223372036854775808", INT64_MIN},
        {"-9223372036854775807", INT64_MIN + 1},
    };
    for (size_t index = 0; index < sizeof good / sizeof good[0]; index++) {
        int64_t value = 12345;
        if (dv_parse_int64 (good[index].text, &value))
            fail_msg ("'%s' rejected", good[index].text);
        assert_int_equal (value, good[index].value);
    }
    const char *bad[] = {
        "",
        " ",
        " 1",
        "1 ",
        "\t1",
        "1\n",
        "-",
        "+",
        "--1",
        "+-1",
        "1x",
        "x1",
        "0x10",
        "1e3",
        "1.0",
        "1,000",
        "99999999999999999999999x",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        int64_t value = 12345;
        if (dv_parse_int64 (bad[index], &value) != -1)
            fail_msg ("'%s' accepted", bad[index]);
        assert_int_equal (value, 12345);
    }
    //  Numbers, but out of range: told apart, so that errors can say so.
    const char *out_of_range[] = {
        "9223372036854775808",  //  INT64_MAX + 1
        "-9223372036854775809", //  INT64_MIN - 1
        "99999999999999999999999",
        "18446744073709551615",
    };
    for (size_t index = 0; index < sizeof out_of_range / sizeof out_of_range[0];
         index++) {
        int64_t value = 12345;
        if (dv_parse_int64 (out_of_range[index], &value) != DV_PARSE_RANGE)
            fail_msg ("'%s' not out of range", out_of_range[index]);
        assert_int_equal (value, 12345);
    }
    int64_t value = 12345;
    assert_int_equal (dv_parse_int64 (NULL, &value), -1);
    assert_int_equal (value, 12345);
}

static void
test_parse_uint64 (void **state)
{
    (void) state;
    struct {
        const char *text;
        uint64_t value;
    } good[] = {
        {"0", 0},
        {"1", 1},
        {"010", 10}, //  decimal, never octal
        {"18446744073709551615", UINT64_MAX},
        {"0x0", 0},
        {"0x10", 16},
        {"0XfF", 255},
        {"0xffffffffffffffff", UINT64_MAX},
        {"0x000000000000000000001", 1},
    };
    for (size_t index = 0; index < sizeof good / sizeof good[0]; index++) {
        uint64_t value = 12345;
        if (dv_parse_uint64 (good[index].text, &value))
            fail_msg ("'%s' rejected", good[index].text);
        assert_int_equal (value, good[index].value);
    }
    const char *bad[] = {
        "",    " 1",   "1 ",   "-1",  "-0",   "+1",    "0x",
        "0x ", "0x-1", "0x+1", "0xg", "0x1g", "0x0x1", "0x10000000000000000g",
        "x10", "1x",   "1e3",  "0b1",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        uint64_t value = 12345;
        if (dv_parse_uint64 (bad[index], &value) != -1)
            fail_msg ("'%s' accepted", bad[index]);
        assert_int_equal (value, 12345);
    }
    const char *out_of_range[] = {
        "18446744073709551616", //  UINT64_MAX + 1
        "99999999999999999999999",
        "0x10000000000000000", //  2^64
    };
    for (size_t index = 0; index < sizeof out_of_range / sizeof out_of_range[0];
         index++) {
        uint64_t value = 12345;
        if (dv_parse_uint64 (out_of_range[index], &value) != DV_PARSE_RANGE)
            fail_msg ("'%s' not out of range", out_of_range[index]);
        assert_int_equal (value, 12345);
    }
    uint64_t value = 12345;
    assert_int_equal (dv_parse_uint64 (NULL, &value), -1);
    assert_int_equal (value, 12345);
}

//  ---------------------------------------------------------------------------
//  dv_options_parse

static void
test_defaults_kept (void **state)
{
    (void) state;
    assert_int_equal (s_parse (NULL), DV_OPTIONS_RUN);
    s_assert_defaults ();
    //  Variables that are not the table's are no business of ours.
    setenv ("DIVVY_OTHER", "x", 1);
    setenv ("DIVVY_MIN-WORKERS", "x", 1);
    setenv ("divvy_min_workers", "x", 1);
    assert_int_equal (s_parse (NULL), DV_OPTIONS_RUN);
    s_assert_defaults ();
    //  "--" ends the options and leaves no arguments.
    assert_int_equal (s_parse ("--", NULL), DV_OPTIONS_RUN);
    s_assert_defaults ();
}

static void
test_variables_applied (void **state)
{
    (void) state;
    setenv ("DIVVY_ENDPOINT", "ipc:///tmp/divvy-test", 1);
    setenv ("DIVVY_MIN_WORKERS", "12", 1);
    setenv ("DIVVY_OFFSET", "-9223372036854775808", 1);
    setenv ("DIVVY_QUIET", "yes", 1);
    setenv ("DIVVY_VERBOSE", "0", 1);
    assert_int_equal (s_parse (NULL), DV_OPTIONS_RUN);
    assert_string_equal (s_values.endpoint, "ipc:///tmp/divvy-test");
    assert_int_equal (s_values.min_workers, 12);
    assert_int_equal (s_values.offset, INT64_MIN);
    assert_true (s_values.quiet);
    assert_false (s_values.verbose);
}

static void
test_command_line_applied (void **state)
{
    (void) state;
    assert_int_equal (s_parse ("--endpoint", "tcp://*:1", "--min-workers=7", "--offset",
                               "-5", "--quiet", NULL),
                      DV_OPTIONS_RUN);
    assert_string_equal (s_values.endpoint, "tcp://*:1");
    assert_int_equal (s_values.min_workers, 7);
    assert_int_equal (s_values.offset, -5);
    assert_true (s_values.quiet);
    assert_true (s_values.verbose);

    //  The extremes of the table's ranges.
    assert_int_equal (
        s_parse ("--min-workers", "1", "--offset", "9223372036854775807", NULL),
        DV_OPTIONS_RUN);
    assert_int_equal (s_values.min_workers, 1);
    assert_int_equal (s_values.offset, INT64_MAX);
    assert_int_equal (
        s_parse ("--min-workers=1000", "--offset=-9223372036854775808", NULL),
        DV_OPTIONS_RUN);
    assert_int_equal (s_values.min_workers, 1000);
    assert_int_equal (s_values.offset, INT64_MIN);

    //  The last of a repeated option counts.
    assert_int_equal (s_parse ("--min-workers", "2", "--min-workers", "3", NULL),
                      DV_OPTIONS_RUN);
    assert_int_equal (s_values.min_workers, 3);
}

static void
test_flag_wins_over_variable (void **state)
{
    (void) state;
    setenv ("DIVVY_ENDPOINT", "tcp://from-variable:1", 1);
    setenv ("DIVVY_MIN_WORKERS", "12", 1);
    setenv ("DIVVY_OFFSET", "100", 1);
    setenv ("DIVVY_QUIET", "false", 1);
    setenv ("DIVVY_VERBOSE", "no", 1);
    assert_int_equal (s_parse ("--endpoint=tcp://from-flag:2", "--min-workers", "13",
                               "--quiet", "--verbose", NULL),
                      DV_OPTIONS_RUN);
    assert_string_equal (s_values.endpoint, "tcp://from-flag:2");
    assert_int_equal (s_values.min_workers, 13);
    assert_int_equal (s_values.offset, 100); //  no flag: the variable stands
    assert_true (s_values.quiet);
    assert_true (s_values.verbose);
}

static void
test_integer_rejects (void **state)
{
    (void) state;
    const char *bad[] = {
        "0",
        "1001",
        "-1",
        "abc",
        "12abc",
        "",
        " 12",
        "12 ",
        "1e3",
        "0x10",
        "12.0",
        "99999999999999999999",
        "-9223372036854775809",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        s_reset (NULL);
        s_assert_bad_with (s_parse ("--min-workers", bad[index], NULL), "--min-workers",
                           "command line");
        assert_int_equal (s_values.min_workers, 4);
        //  An empty variable is unset (see options.h), not a bad value.
        if (!*bad[index])
            continue;
        setenv ("DIVVY_MIN_WORKERS", bad[index], 1);
        s_assert_bad_with (s_parse (NULL), "--min-workers", "DIVVY_MIN_WORKERS");
        assert_int_equal (s_values.min_workers, 4);
    }
    //  Compose passes ${DIVVY_X:-} as an empty variable: it keeps the default.
    s_reset (NULL);
    setenv ("DIVVY_MIN_WORKERS", "", 1);
    assert_int_equal (s_parse (NULL), DV_OPTIONS_RUN);
    assert_int_equal (s_values.min_workers, 4);
    s_reset (NULL);
    //  The error says what the range is.
    s_assert_bad_with (s_parse ("--min-workers=1001", NULL), "1001", "1..1000");
    //  Just past int64, on the widest option: out of range, not "not an integer".
    s_assert_bad_with (s_parse ("--offset", "9223372036854775808", NULL), "--offset",
                       "out of range");
    s_assert_bad_with (s_parse ("--offset", "-9223372036854775809", NULL), "--offset",
                       "out of range");
    s_assert_bad_with (s_parse ("--min-workers", "99999999999999999999", NULL),
                       "--min-workers", "out of range 1..1000");
    s_assert_bad_with (s_parse ("--min-workers", "12abc", NULL), "--min-workers",
                       "not an integer");
    assert_int_equal (s_values.offset, 0);
    //  A bad variable is an error even when a flag would have replaced it:
    //  bad input is never silently ignored.
    setenv ("DIVVY_MIN_WORKERS", "abc", 1);
    s_assert_bad_with (s_parse ("--min-workers", "5", NULL), "DIVVY_MIN_WORKERS");
}

static void
test_text_rejects (void **state)
{
    (void) state;
    s_assert_bad_with (s_parse ("--endpoint=", NULL), "--endpoint");
    s_assert_bad_with (s_parse ("--endpoint", "", NULL), "--endpoint");
    //  An empty variable is unset: the default stays.
    setenv ("DIVVY_ENDPOINT", "", 1);
    assert_int_equal (s_parse (NULL), DV_OPTIONS_RUN);
    assert_string_equal (s_values.endpoint, S_ENDPOINT_DEFAULT);
}

static void
test_flag_variable_values (void **state)
{
    (void) state;
    struct {
        const char *text;
        bool value;
    } good[] = {
        {"1", true},  {"true", true},   {"yes", true}, {"TRUE", true},   {"Yes", true},
        {"0", false}, {"false", false}, {"no", false}, {"FALSE", false}, {"No", false},
    };
    for (size_t index = 0; index < sizeof good / sizeof good[0]; index++) {
        s_reset (NULL);
        s_values.quiet = !good[index].value;
        setenv ("DIVVY_QUIET", good[index].text, 1);
        if (s_parse (NULL) != DV_OPTIONS_RUN)
            fail_msg ("DIVVY_QUIET='%s' rejected", good[index].text);
        assert_int_equal (s_values.quiet, good[index].value);
    }
    //  Set but empty: unset, so the default (whatever it is) stays.
    s_reset (NULL);
    s_values.quiet = true;
    setenv ("DIVVY_QUIET", "", 1);
    assert_int_equal (s_parse (NULL), DV_OPTIONS_RUN);
    assert_true (s_values.quiet);
    const char *bad[] = {"2", "-1", "on", "off", "y", "n", " 1", "1 ", "truex", "yes!"};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        s_reset (NULL);
        setenv ("DIVVY_QUIET", bad[index], 1);
        s_assert_bad_with (s_parse (NULL), "DIVVY_QUIET");
        assert_false (s_values.quiet);
    }
}

static void
test_command_line_rejects (void **state)
{
    (void) state;
    s_assert_bad_with (s_parse ("--nope", NULL), "--nope");
    s_assert_bad_with (s_parse ("--quiet", "--nope=1", NULL), "--nope");
    s_assert_bad_with (s_parse ("-q", NULL), "-q");
    s_assert_bad_with (s_parse ("-x", NULL), "-x");
    //  A flag takes no value.
    s_assert_bad_with (s_parse ("--quiet=1", NULL), "--quiet");
    //  Missing values.
    s_assert_bad_with (s_parse ("--min-workers", NULL), "--min-workers");
    s_assert_bad_with (s_parse ("--quiet", "--endpoint", NULL), "--endpoint");
    //  Positional arguments, wherever they are.
    s_assert_bad_with (s_parse ("extra", NULL), "extra");
    s_assert_bad_with (s_parse ("--quiet", "extra", NULL), "extra");
    s_assert_bad_with (s_parse ("extra", "--quiet", NULL), "extra");
    s_assert_bad_with (s_parse ("-", NULL), "-");
    s_assert_bad_with (s_parse ("--", "--quiet", NULL), "--quiet");
    s_assert_bad_with (s_parse ("--min-workers", "3", "7", NULL), "7");
}

//  Runs a parse expected to fail with one line on stderr that contains one of
//  two texts.
static void
s_assert_bad_naming_either (int (*parse) (void), const char *one, const char *other)
{
    s_capture_t capture;
    s_capture_begin (&capture, 2);
    int outcome = parse ();
    const char *text = s_capture_end (&capture);
    assert_int_equal (outcome, DV_OPTIONS_BAD);
    assert_int_equal (s_line_count (text), 1);
    if (!strstr (text, one) && !strstr (text, other))
        fail_msg ("error line names neither %s nor %s: %s", one, other, text);
}

static int
s_parse_positional_then_unknown (void)
{
    return s_parse ("extra", "--nope", NULL);
}

static int
s_parse_positional_then_missing_value (void)
{
    return s_parse ("extra", "--endpoint", NULL);
}

//  getopt_long moves positional arguments past the options: an error line must
//  still name the argument that is wrong, never call the positional an option.
static void
test_error_names_the_right_argument (void **state)
{
    (void) state;
    s_assert_bad_naming_either (s_parse_positional_then_unknown, "'--nope'",
                                "argument 'extra'");
    s_assert_bad_naming_either (s_parse_positional_then_missing_value, "--endpoint",
                                "argument 'extra'");
}

static void
test_help_and_version (void **state)
{
    (void) state;
    s_capture_t capture;
    s_capture_begin (&capture, 1);
    int outcome = s_parse ("--version", NULL);
    const char *text = s_capture_end (&capture);
    assert_int_equal (outcome, DV_OPTIONS_DONE);
    //  The first line for help2man, then the protocol and the libraries.
    char first[64];
    snprintf (first, sizeof first, "divvy-test (divvy) %s\n", dv_version ());
    if (strncmp (text, first, strlen (first)) || !strstr (text, "\nprotocol ") ||
        !strstr (text, ", libzmq ") || !strstr (text, ", CZMQ "))
        fail_msg ("--version:\n%s", text);

    s_capture_begin (&capture, 1);
    outcome = s_parse ("--min-workers", "5", "--help", NULL);
    text = s_capture_end (&capture);
    assert_int_equal (outcome, DV_OPTIONS_DONE);
    const char *expected[] = {
        "Usage: divvy test [OPTION]...\n  or:  divvy-test [OPTION]...\n",
        "Tests the option parser.",
        "--endpoint ENDPOINT",
        "[DIVVY_ENDPOINT; default: " S_ENDPOINT_DEFAULT "]",
        "--min-workers N",
        "[DIVVY_MIN_WORKERS; default: 4]",
        "--offset N",
        "--quiet",
        "[DIVVY_QUIET]",
        "[DIVVY_VERBOSE; default: on]",
        "--help",
        "--version",
        "Epilogue: exit codes go here.\n",
    };
    for (size_t index = 0; index < sizeof expected / sizeof expected[0]; index++)
        if (!strstr (text, expected[index]))
            fail_msg ("'%s' not in --help:\n%s", expected[index], text);
}

//  -h is --help.
static void
test_short_help (void **state)
{
    (void) state;
    s_capture_t capture;
    s_capture_begin (&capture, 1);
    int outcome = s_parse ("-h", NULL);
    const char *text = s_capture_end (&capture);
    assert_int_equal (outcome, DV_OPTIONS_DONE);
    assert_non_null (strstr (text, "Usage: divvy test"));
}

//  A DIVVY_* variable that no option reads: one warning line naming the
//  closest option, and the parse goes on. Known names, and other prefixes,
//  say nothing.
static void
test_unknown_variable (void **state)
{
    (void) state;
    setenv ("DIVVY_MIN_WORKRS", "3", 1);
    s_capture_t capture;
    s_capture_begin (&capture, 2);
    int outcome = s_parse (NULL);
    const char *text = s_capture_end (&capture);
    unsetenv ("DIVVY_MIN_WORKRS");
    assert_int_equal (outcome, DV_OPTIONS_RUN);
    assert_int_equal (s_line_count (text), 1);
    const char *words[] = {"DIVVY_MIN_WORKRS", "DIVVY_MIN_WORKERS", "--min-workers",
                           "test"};
    for (size_t index = 0; index < sizeof words / sizeof words[0]; index++)
        if (!strstr (text, words[index]))
            fail_msg ("'%s' not in the warning: %s", words[index], text);
    assert_int_equal (s_values.min_workers, 4);

    setenv ("DIVVY_QUIETT", "", 1); //  empty, but still a typo
    s_capture_begin (&capture, 2);
    outcome = s_parse (NULL);
    text = s_capture_end (&capture);
    unsetenv ("DIVVY_QUIETT");
    assert_int_equal (outcome, DV_OPTIONS_RUN);
    assert_int_equal (s_line_count (text), 1);
    assert_non_null (strstr (text, "--quiet"));

    setenv ("DIVVY_QUIET", "1", 1);
    setenv ("DIVVYX_QUIET", "1", 1);
    s_capture_begin (&capture, 2);
    outcome = s_parse (NULL);
    text = s_capture_end (&capture);
    unsetenv ("DIVVYX_QUIET");
    assert_int_equal (outcome, DV_OPTIONS_RUN);
    assert_string_equal (text, "");
}

//  Each parse starts afresh, whatever the one before it left behind.
static void
test_parse_is_repeatable (void **state)
{
    (void) state;
    s_assert_bad_with (s_parse ("--nope", NULL), "--nope");
    assert_int_equal (s_parse (NULL), DV_OPTIONS_RUN);
    s_assert_bad_with (s_parse ("--min-workers", NULL), "--min-workers");
    assert_int_equal (s_parse ("--quiet", NULL), DV_OPTIONS_RUN);
    s_assert_bad_with (s_parse ("one", "two", NULL), "one");
    assert_int_equal (s_parse (NULL), DV_OPTIONS_RUN);
    //  A cluster of unknown short options stops after its first letter; the
    //  rest of the cluster must not leak into the next parse.
    s_assert_bad_with (s_parse ("-qz", NULL), "-qz");
    s_capture_t capture;
    s_capture_begin (&capture, 2);
    int outcome = s_parse ("--quiet", NULL);
    const char *text = s_capture_end (&capture);
    if (outcome != DV_OPTIONS_RUN)
        fail_msg ("'test --quiet' after 'test -qz' gave %d, said: %s", outcome, text);
    assert_true (s_values.quiet);
}

//  An option counts as given when a flag or a variable set it, even to its
//  default value, and not when only its default holds.
static void
test_given (void **state)
{
    (void) state;
    setenv ("DIVVY_OFFSET", "0", 1);
    assert_int_equal (s_parse ("--min-workers", "4", NULL), DV_OPTIONS_RUN);
    assert_true (dv_options_given (&s_command, "min-workers"));
    assert_true (dv_options_given (&s_command, "offset"));
    assert_false (dv_options_given (&s_command, "endpoint"));
    assert_false (dv_options_given (&s_command, "quiet"));
    assert_false (dv_options_given (&s_command, "no-such-option"));
}

//  Another command's table, as dv_ROLE_describe hands it over: its
//  variables are known to every command once dv_options_know names it.
static int
s_describe_other (dv_command_use_fn *use, void *context)
{
    int64_t linger_ms = 1000;
    const dv_option_t table[] = {
        {"linger", DV_OPTION_INTEGER, "MS", "linger", "1000", 0, 600000, &linger_ms},
    };
    const dv_command_t command = {
        "other", "Another command.", table, 1, NULL, false, NULL, NULL,
    };
    return use (&command, context);
}

//  With dv_options_know: another command's variable says nothing (one
//  environment serves several roles); a typo of it gets one warning naming
//  the closest option and its command; the running command's own option
//  wins a tie.
static void
test_known_commands (void **state)
{
    (void) state;
    dv_command_describe_fn *const known[] = {s_describe_other};
    dv_options_know (known, 1);
    setenv ("DIVVY_LINGER", "5", 1);
    s_capture_t capture;
    s_capture_begin (&capture, 2);
    int outcome = s_parse (NULL);
    const char *text = s_capture_end (&capture);
    assert_int_equal (outcome, DV_OPTIONS_RUN);
    assert_string_equal (text, "");
    unsetenv ("DIVVY_LINGER");

    setenv ("DIVVY_LINGR", "5", 1);
    s_capture_begin (&capture, 2);
    outcome = s_parse (NULL);
    text = s_capture_end (&capture);
    unsetenv ("DIVVY_LINGR");
    assert_int_equal (outcome, DV_OPTIONS_RUN);
    assert_int_equal (s_line_count (text), 1);
    const char *words[] = {"DIVVY_LINGR is not a variable of any divvy command",
                           "the closest is DIVVY_LINGER (--linger of divvy other)"};
    for (size_t index = 0; index < sizeof words / sizeof words[0]; index++)
        if (!strstr (text, words[index]))
            fail_msg ("'%s' not in the warning: %s", words[index], text);

    setenv ("DIVVY_MIN_WORKRS", "3", 1);
    s_capture_begin (&capture, 2);
    outcome = s_parse (NULL);
    text = s_capture_end (&capture);
    unsetenv ("DIVVY_MIN_WORKRS");
    assert_int_equal (s_line_count (text), 1);
    assert_non_null (strstr (text, "the closest is DIVVY_MIN_WORKERS (--min-workers)\n"));
    dv_options_know (NULL, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_int64),
        cmocka_unit_test (test_parse_uint64),
        cmocka_unit_test_setup_teardown (test_defaults_kept, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_variables_applied, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_command_line_applied, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_flag_wins_over_variable, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_integer_rejects, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_text_rejects, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_flag_variable_values, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_short_help, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_unknown_variable, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_known_commands, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_command_line_rejects, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_error_names_the_right_argument, s_reset,
                                         s_reset),
        cmocka_unit_test_setup_teardown (test_help_and_version, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_parse_is_repeatable, s_reset, s_reset),
        cmocka_unit_test_setup_teardown (test_given, s_reset, s_reset),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
