/*  test_linework.c: a worker's line batches through real commands
    (worker/linework.c over worker/exec.c), without sockets: the wait
    function polls the command's pipes alone.

    A batch run whose lines all come back; a command that fails some lines
    (found by running them alone, reported with the last stderr line); the
    reasons a run gives (exit status, signal, line count, a line too long);
    --exec-each's quoting of awkward lines and its one-line rule; and a
    wait function that says stop, which kills the command.
*/
#include "linework.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <zmq.h>

#include <cmocka.h>

static int s_waits_left; //  -1: no limit

static int
s_wait (void *context, dv_exec_t *run)
{
    (void) context;
    if (s_waits_left == 0)
        return -1;
    if (s_waits_left > 0)
        s_waits_left--;
    zmq_pollitem_t items[3];
    int count = dv_exec_poll_items (run, items);
    if (count)
        zmq_poll (items, count, 1000);
    else
        zmq_poll (NULL, 0, 2);
    dv_exec_step (run);
    return 0;
}

//  A LINES message of the lines in buffer, decoded into lines.
static void
s_batch (uint8_t *buffer, const char *const *text, uint32_t count, dv_lines_t *lines)
{
    size_t size = dv_lines_encode_header (1, 0, buffer);
    for (uint32_t index = 0; index < count; index++)
        size +=
            dv_lines_put_line (buffer + size, index, text[index], strlen (text[index]));
    dv_batch_put_count (buffer, count);
    assert_int_equal (dv_lines_decode (buffer, size, lines), 0);
}

static void
s_expect (const dv_linework_results_t *results, uint32_t index, dv_line_status_t status,
          const char *bytes)
{
    assert_int_equal (results->status[index], status);
    assert_int_equal (results->length[index], strlen (bytes));
    assert_memory_equal (results->store + results->offset[index], bytes, strlen (bytes));
}

static dv_linework_config_t
s_config (const char *exec, const char *exec_each)
{
    s_waits_left = -1;
    return (dv_linework_config_t){
        .exec = exec, .exec_each = exec_each, .retries = 2, .wait = s_wait};
}

//  A C API task function: upper-cases; "fail" fails with a reason, "zero"
//  returns 0 with no result, "newline" sets a line holding one, "code"
//  returns 7 with no reason. Counts its calls.
static int s_calls;
static int
s_task (const char *task, size_t length, divvy_result_t *result, void *user)
{
    s_calls++;
    assert_ptr_equal (user, &s_calls);
    if (length == 4 && !memcmp (task, "fail", 4)) {
        divvy_result_fail (result, "refused: fail\nand more");
        return 1;
    }
    if (length == 4 && !memcmp (task, "zero", 4))
        return 0;
    if (length == 7 && !memcmp (task, "newline", 7))
        return divvy_result_set (result, "a\nb", 3) ? 0 : 2;
    if (length == 4 && !memcmp (task, "code", 4))
        return 7;
    char line[64];
    for (size_t index = 0; index < length; index++)
        line[index] = (char) toupper ((unsigned char) task[index]);
    return divvy_result_set (result, line, length);
}

static void
test_task_function (void **state)
{
    (void) state;
    uint8_t buffer[1024];
    const char *const text[] = {"hello", "fail", "", "zero", "newline", "code"};
    dv_lines_t lines;
    s_batch (buffer, text, 6, &lines);
    dv_linework_results_t results = {0};
    dv_linework_config_t config = {.task = s_task, .task_user = &s_calls, .retries = 3};
    s_calls = 0;
    assert_int_equal (dv_linework_run (&config, &lines, &results), 0);
    assert_int_equal (results.count, 6);
    assert_int_equal (results.failed, 4);
    s_expect (&results, 0, DV_LINE_OK, "HELLO");
    s_expect (&results, 1, DV_LINE_FAILED, "refused: fail");
    s_expect (&results, 2, DV_LINE_OK, "");
    s_expect (&results, 3, DV_LINE_FAILED,
              "the task function returned 0 and set no result");
    s_expect (&results, 4, DV_LINE_FAILED,
              "a result line holds a newline (a result is one line)");
    s_expect (&results, 5, DV_LINE_FAILED, "the task function returned 7");
    //  Two that pass once, four that fail --retries (3) times each.
    assert_int_equal (s_calls, 2 + 4 * 3);
    //  Too long a result line: refused by divvy_result_set.
    static divvy_result_t result;
    static char long_line[DIVVY_LINE_MAX + 1];
    memset (long_line, 'x', sizeof long_line);
    assert_int_equal (divvy_result_set (&result, long_line, DIVVY_LINE_MAX + 1), -1);
    assert_true (result.wrong);
    assert_int_equal (divvy_result_set (&result, long_line, DIVVY_LINE_MAX), 0);
    assert_int_equal (result.length, DIVVY_LINE_MAX);
    assert_int_equal (divvy_result_set (&result, "a\0b", 3), -1);
    dv_linework_results_free (&results);
}

static void
test_batch_run (void **state)
{
    (void) state;
    uint8_t buffer[1024];
    const char *const text[] = {"hello", "", "World 3", "tab\there"};
    dv_lines_t lines;
    s_batch (buffer, text, 4, &lines);
    dv_linework_results_t results = {0};
    dv_linework_config_t config = s_config ("tr a-z A-Z", NULL);
    assert_int_equal (dv_linework_run (&config, &lines, &results), 0);
    assert_int_equal (results.count, 4);
    assert_int_equal (results.failed, 0);
    s_expect (&results, 0, DV_LINE_OK, "HELLO");
    s_expect (&results, 1, DV_LINE_OK, "");
    s_expect (&results, 2, DV_LINE_OK, "WORLD 3");
    s_expect (&results, 3, DV_LINE_OK, "TAB\tHERE");
    //  A last line without its newline counts.
    config = s_config ("tr a-z A-Z | head -c -1", NULL);
    assert_int_equal (dv_linework_run (&config, &lines, &results), 0);
    assert_int_equal (results.failed, 0);
    s_expect (&results, 3, DV_LINE_OK, "TAB\tHERE");
    dv_linework_results_free (&results);
}

static void
test_failing_lines (void **state)
{
    (void) state;
    uint8_t buffer[1024];
    const char *const text[] = {"a", "bad one", "c", "bad two"};
    dv_lines_t lines;
    s_batch (buffer, text, 4, &lines);
    dv_linework_results_t results = {0};
    dv_linework_config_t config = s_config (
        "while read -r l; do case $l in bad*) echo \"no: $l\" >&2; exit 2;; esac; "
        "echo \"$l!\"; done",
        NULL);
    assert_int_equal (dv_linework_run (&config, &lines, &results), 0);
    assert_int_equal (results.failed, 2);
    s_expect (&results, 0, DV_LINE_OK, "a!");
    s_expect (&results, 1, DV_LINE_FAILED, "no: bad one");
    s_expect (&results, 2, DV_LINE_OK, "c!");
    s_expect (&results, 3, DV_LINE_FAILED, "no: bad two");
    dv_linework_results_free (&results);
}

static void
test_reasons (void **state)
{
    (void) state;
    uint8_t buffer[256];
    const char *const text[] = {"x"};
    dv_lines_t lines;
    s_batch (buffer, text, 1, &lines);
    dv_linework_results_t results = {0};
    const struct {
        const char *command;
        const char *reason;
    } cases[] = {
        {"exit 3", "exit status 3"},
        {"kill -9 $$", "killed by signal 9"},
        {"cat >/dev/null", "printed 0 lines for 1 task"},
        {"cat; echo more", "printed 2 lines for 1 task"},
        {"echo out; echo first >&2; echo last >&2; exit 1", "last"},
        {"grep nomatch", "exit status 1"},
        {"head -c 70000 /dev/zero | tr '\\0' y; echo",
         "a result line over the 65536-byte limit (DV_LINE_MAX)"},
        {"printf 'a\\0b\\n'", "a result line holds a NUL byte"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        dv_linework_config_t config = s_config (cases[index].command, NULL);
        assert_int_equal (dv_linework_run (&config, &lines, &results), 0);
        s_expect (&results, 0, DV_LINE_FAILED, cases[index].reason);
    }
    dv_linework_results_free (&results);
}

static void
test_exec_each_quoting (void **state)
{
    (void) state;
    uint8_t buffer[1024];
    const char *const text[] = {"it's", "$HOME `id`", "back\\slash", " two  spaces ", "",
                                "-n",   "*"};
    dv_lines_t lines;
    s_batch (buffer, text, 7, &lines);
    dv_linework_results_t results = {0};
    dv_linework_config_t config = s_config (NULL, "printf '<%s>' {}");
    assert_int_equal (dv_linework_run (&config, &lines, &results), 0);
    assert_int_equal (results.failed, 0);
    for (uint32_t index = 0; index < 7; index++) {
        char expected[64];
        snprintf (expected, sizeof expected, "<%s>", text[index]);
        s_expect (&results, index, DV_LINE_OK, expected);
    }
    //  Without {}: the quoted line after a space. Two lines: failed.
    config = s_config (NULL, "printf '%s\\n%s\\n' first");
    assert_int_equal (dv_linework_run (&config, &lines, &results), 0);
    assert_int_equal (results.failed, 7);
    s_expect (&results, 0, DV_LINE_FAILED, "printed 2 lines (a result is one line)");
    config = s_config (NULL, "echo");
    assert_int_equal (dv_linework_run (&config, &lines, &results), 0);
    s_expect (&results, 0, DV_LINE_OK, "it's");
    s_expect (&results, 1, DV_LINE_OK, "$HOME `id`");
    dv_linework_results_free (&results);
}

//  The wait function says stop: the command is killed, the batch abandoned.
static void
test_abandoned (void **state)
{
    (void) state;
    uint8_t buffer[256];
    const char *const text[] = {"x"};
    dv_lines_t lines;
    s_batch (buffer, text, 1, &lines);
    dv_linework_results_t results = {0};
    dv_linework_config_t config = s_config ("sleep 30", NULL);
    s_waits_left = 3;
    assert_int_equal (dv_linework_run (&config, &lines, &results), -1);
    dv_linework_results_free (&results);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_batch_run), cmocka_unit_test (test_failing_lines),
        cmocka_unit_test (test_reasons),   cmocka_unit_test (test_exec_each_quoting),
        cmocka_unit_test (test_abandoned), cmocka_unit_test (test_task_function),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
