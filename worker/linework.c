/*  linework.c: a batch of task lines through --exec or --exec-each (see
    linework.h).
*/
#include "linework.h"
#include "process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  What a batch run's stdout may hold at most: more fails the batch (its
//  tasks then run alone, each bounded by DV_LINE_MAX).
#define S_BATCH_OUTPUT_MAX ((size_t) 64 << 20)

static int
s_reserve (dv_linework_results_t *results, uint32_t count)
{
    free (results->status);
    free (results->offset);
    free (results->length);
    results->status = calloc (count ? count : 1, sizeof *results->status);
    results->offset = calloc (count ? count : 1, sizeof *results->offset);
    results->length = calloc (count ? count : 1, sizeof *results->length);
    results->count = count;
    results->failed = 0;
    results->store_size = 0;
    return results->status && results->offset && results->length ? 0 : -1;
}

static int
s_store (dv_linework_results_t *results, uint32_t index, dv_line_status_t status,
         const char *bytes, size_t length)
{
    if (results->store_size + length > results->store_capacity) {
        size_t capacity = results->store_capacity ? results->store_capacity : 65536;
        while (capacity < results->store_size + length)
            capacity *= 2;
        char *grown = realloc (results->store, capacity);
        if (!grown)
            return -1;
        results->store = grown;
        results->store_capacity = capacity;
    }
    if (length)
        memcpy (results->store + results->store_size, bytes, length);
    results->status[index] = status;
    results->offset[index] = results->store_size;
    results->length[index] = length;
    results->store_size += length;
    if (status == DV_LINE_FAILED)
        results->failed++;
    return 0;
}

//  Runs command on input to the end. Returns -1 when abandoned (killed).
static int
s_run (const dv_linework_config_t *config, dv_exec_t *run, const char *command,
       const char *input, size_t input_size, size_t output_max)
{
    if (dv_exec_start (run, command, input, input_size, output_max)) {
        run->status = 127 << 8; //  as sh says of a command it cannot run
        run->reaped = true;
        return 0; //  error_line says why
    }
    while (!dv_exec_done (run))
        if (config->wait (config->context, run)) {
            dv_exec_kill (run);
            return -1;
        }
    return 0;
}

//  Says what is wrong with one result line, or returns false.
static bool
s_line_wrong (const char *bytes, size_t length, char *reason)
{
    if (length > DV_LINE_MAX)
        snprintf (reason, DV_EXEC_REASON_MAX + 1,
                  "a result line of %zu bytes, over the %d-byte limit (DV_LINE_MAX)",
                  length, DV_LINE_MAX);
    else if (length && memchr (bytes, '\0', length)) //  bytes may be NULL when 0
        snprintf (reason, DV_EXEC_REASON_MAX + 1, "a result line holds a NUL byte");
    else
        return false;
    return true;
}

//  The lines of a run's stdout: a last line without a newline counts.
static size_t
s_count_lines (const char *output, size_t size)
{
    size_t lines = 0;
    for (const char *at = output, *end = output + size; at < end; at++) {
        at = memchr (at, '\n', (size_t) (end - at));
        if (!at)
            return lines + 1;
        lines++;
    }
    return lines;
}

//  Whether a finished --exec run gave count good lines; if not, why.
static bool
s_batch_good (const dv_exec_t *run, uint32_t count, char *reason)
{
    if (dv_exec_failure (run, reason))
        return false;
    if (run->output_over) {
        snprintf (reason, DV_EXEC_REASON_MAX + 1,
                  count == 1 ? "a result line over the %d-byte limit (DV_LINE_MAX)"
                             : "printed more than %d bytes a line",
                  DV_LINE_MAX);
        return false;
    }
    size_t lines = s_count_lines (run->output, run->output_size);
    if (lines != count) {
        snprintf (reason, DV_EXEC_REASON_MAX + 1, "printed %zu line%s for %u task%s",
                  lines, lines == 1 ? "" : "s", count, count == 1 ? "" : "s");
        return false;
    }
    const char *at = run->output, *end = run->output + run->output_size;
    for (uint32_t index = 0; index < count; index++) {
        const char *newline = memchr (at, '\n', (size_t) (end - at));
        size_t length = (size_t) ((newline ? newline : end) - at);
        if (s_line_wrong (at, length, reason))
            return false;
        at += length + 1;
    }
    return true;
}

//  Stores a good run's lines as the results of tasks first .. first+count-1.
static int
s_store_lines (dv_linework_results_t *results, uint32_t first, uint32_t count,
               const dv_exec_t *run)
{
    const char *at = run->output, *end = run->output + run->output_size;
    for (uint32_t index = 0; index < count; index++) {
        const char *newline = memchr (at, '\n', (size_t) (end - at));
        size_t length = (size_t) ((newline ? newline : end) - at);
        if (s_store (results, first + index, DV_LINE_OK, at, length))
            return -1;
        at += length + 1;
    }
    return 0;
}

//  The batch's input: every line and a newline.
static char *
s_batch_input (const dv_lines_t *lines, size_t *size)
{
    char *input = malloc (lines->entries_size + 1);
    if (!input)
        return NULL;
    size_t offset = 0, used = 0;
    for (uint32_t index = 0; index < lines->count; index++) {
        dv_line_t line;
        dv_lines_next (lines, &offset, &line);
        memcpy (input + used, line.bytes, line.length);
        used += line.length;
        input[used++] = '\n';
    }
    *size = used;
    return input;
}

//  CMD with every {} replaced by the line, single-quoted; without {}, the
//  quoted line appended after a space. Caller owns the return value.
static char *
s_each_command (const char *template, const char *bytes, size_t length)
{
    //  The quoted line: 'text', with ' as '\'' (four bytes for one).
    size_t quoted_max = 2 + 4 * length;
    size_t places = 0;
    for (const char *at = template; (at = strstr (at, "{}")); at += 2)
        places++;
    size_t size = strlen (template) + 2 + (places ? places : 1) * quoted_max;
    char *command = malloc (size);
    if (!command)
        return NULL;
    char *out = command;
    const char *at = template;
    for (;;) {
        const char *place = places ? strstr (at, "{}") : NULL;
        size_t before = place ? (size_t) (place - at) : strlen (at);
        memcpy (out, at, before);
        out += before;
        if (!place && places)
            break;
        if (!places)
            *out++ = ' ';
        *out++ = '\'';
        for (size_t index = 0; index < length; index++) {
            if (bytes[index] == '\'') {
                memcpy (out, "'\\''", 4);
                out += 4;
            } else
                *out++ = bytes[index];
        }
        *out++ = '\'';
        if (!places)
            break;
        at = place + 2;
    }
    *out = '\0';
    return command;
}

//  Whether a finished --exec-each run gave one result; if not, why.
static bool
s_each_good (dv_exec_t *run, char *reason)
{
    if (dv_exec_failure (run, reason))
        return false;
    if (run->output_over) {
        snprintf (reason, DV_EXEC_REASON_MAX + 1,
                  "a result over the %d-byte limit (DV_LINE_MAX)", DV_LINE_MAX);
        return false;
    }
    if (run->output_size && run->output[run->output_size - 1] == '\n')
        run->output_size--;
    if (run->output_size && memchr (run->output, '\n', run->output_size)) {
        snprintf (reason, DV_EXEC_REASON_MAX + 1,
                  "printed %zu lines (a result is one line)",
                  s_count_lines (run->output, run->output_size));
        return false;
    }
    return !s_line_wrong (run->output, run->output_size, reason);
}

//  Runs task index of lines alone, up to retries times. -1: abandoned.
static int
s_run_alone (const dv_linework_config_t *config, const dv_line_t *line, uint32_t index,
             dv_linework_results_t *results)
{
    char reason[DV_EXEC_REASON_MAX + 1] = "not run";
    char *input = NULL, *command = NULL;
    size_t input_size = 0;
    if (config->exec_each)
        command = s_each_command (config->exec_each, line->bytes, line->length);
    else if ((input = malloc (line->length + 1))) {
        memcpy (input, line->bytes, line->length);
        input[line->length] = '\n';
        input_size = line->length + 1;
    }
    if (!command && !input)
        return -1;
    int rc = 0;
    bool good = false;
    for (int attempt = 0; attempt < config->retries && !good; attempt++) {
        dv_exec_t run;
        if (s_run (config, &run, command ? command : config->exec, input, input_size,
                   DV_LINE_MAX + 2)) {
            dv_exec_free (&run);
            rc = -1;
            break;
        }
        good = command ? s_each_good (&run, reason) : s_batch_good (&run, 1, reason);
        if (good) {
            //  --exec's one line, or --exec-each's output, final newline gone.
            size_t length = run.output_size;
            if (length && run.output[length - 1] == '\n')
                length--;
            rc = s_store (results, index, DV_LINE_OK, run.output, length);
        }
        dv_exec_free (&run);
    }
    if (rc == 0 && !good)
        rc = s_store (results, index, DV_LINE_FAILED, reason, strlen (reason));
    free (input);
    free (command);
    return rc;
}

int
divvy_result_set (divvy_result_t *result, const void *bytes, size_t length)
{
    result->set = false;
    if (s_line_wrong (bytes, length, result->reason) ||
        (length && memchr (bytes, '\n', length) &&
         snprintf (result->reason, sizeof result->reason,
                   "a result line holds a newline (a result is one line)"))) {
        result->wrong = true;
        return -1;
    }
    if (length)
        memcpy (result->bytes, bytes, length);
    result->length = length;
    result->set = true;
    return 0;
}

void
divvy_result_fail (divvy_result_t *result, const char *reason)
{
    //  One line: the reason travels as a result line does.
    size_t length = strcspn (reason, "\n");
    snprintf (result->reason, sizeof result->reason, "%.*s", (int) length, reason);
}

//  Runs task index through the task function, up to retries times.
static int
s_run_function (const dv_linework_config_t *config, const dv_line_t *line, uint32_t index,
                divvy_result_t *result, dv_linework_results_t *results)
{
    for (int attempt = 0; attempt < config->retries; attempt++) {
        result->length = 0;
        result->set = result->wrong = false;
        result->reason[0] = '\0';
        int rc = config->task (line->bytes, line->length, result, config->task_user);
        if (rc == 0 && result->set)
            return s_store (results, index, DV_LINE_OK, result->bytes, result->length);
        if (rc == 0 && !result->wrong)
            snprintf (result->reason, sizeof result->reason,
                      "the task function returned 0 and set no result");
        else if (!result->reason[0])
            snprintf (result->reason, sizeof result->reason,
                      "the task function returned %d", rc);
    }
    return s_store (results, index, DV_LINE_FAILED, result->reason,
                    strlen (result->reason));
}

int
dv_linework_run (const dv_linework_config_t *config, const dv_lines_t *lines,
                 dv_linework_results_t *results)
{
    if (s_reserve (results, lines->count))
        return -1;
    if (config->task) {
        divvy_result_t *result = malloc (sizeof *result);
        if (!result)
            return -1;
        size_t offset = 0;
        int rc = 0;
        for (uint32_t index = 0; index < lines->count && !rc; index++) {
            dv_line_t line;
            dv_lines_next (lines, &offset, &line);
            rc = dv_interrupted ()
                     ? -1
                     : s_run_function (config, &line, index, result, results);
        }
        free (result);
        return rc;
    }
    if (config->exec && !config->exec_each && lines->count > 1) {
        size_t input_size;
        char *input = s_batch_input (lines, &input_size);
        if (!input)
            return -1;
        size_t output_max = (size_t) lines->count * (DV_LINE_MAX + 1);
        if (output_max > S_BATCH_OUTPUT_MAX)
            output_max = S_BATCH_OUTPUT_MAX;
        char reason[DV_EXEC_REASON_MAX + 1];
        //  The whole batch, and once more: a passing failure costs no split.
        for (int attempt = 0; attempt < 2; attempt++) {
            dv_exec_t run;
            if (s_run (config, &run, config->exec, input, input_size, output_max)) {
                dv_exec_free (&run);
                free (input);
                return -1;
            }
            bool good = s_batch_good (&run, lines->count, reason);
            int rc = good ? s_store_lines (results, 0, lines->count, &run) : 0;
            dv_exec_free (&run);
            if (good || rc) {
                free (input);
                return rc;
            }
        }
        free (input);
    }
    //  One at a time, to find the tasks that fail.
    size_t offset = 0;
    for (uint32_t index = 0; index < lines->count; index++) {
        dv_line_t line;
        dv_lines_next (lines, &offset, &line);
        if (s_run_alone (config, &line, index, results))
            return -1;
    }
    return 0;
}

int
dv_linework_fail_all (const dv_lines_t *lines, const char *reason,
                      dv_linework_results_t *results)
{
    if (s_reserve (results, lines->count))
        return -1;
    for (uint32_t index = 0; index < lines->count; index++)
        if (s_store (results, index, DV_LINE_FAILED, reason, strlen (reason)))
            return -1;
    return 0;
}

void
dv_linework_results_free (dv_linework_results_t *results)
{
    free (results->status);
    free (results->offset);
    free (results->length);
    free (results->store);
    *results = (dv_linework_results_t){0};
}
