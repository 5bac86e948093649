/*  test_lines.c: the line job's wire codec (LINES, LINE_RESULTS, the lines
    bit of ANNOUNCE), its caps, and its tags.

    Round trips at the smallest and largest legal sizes; every length that
    does not fit the frame, a line over DV_LINE_MAX, a NUL or a newline in
    the bytes, an unknown status, trailing bytes and a count that does not
    match are rejected. The largest legal message of each kind fits the
    receive cap of the socket that gets it (LINES at a worker, LINE_RESULTS
    at the sink), and a LINE_RESULTS message is never larger than the
    RESULTS message the sink's high-water mark is counted in.
*/
#include "net.h"
#include "protocol.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char s_worker_id[] = "w1";

//  A LINES message of count lines, line i being text[i].
static size_t
s_encode_lines (uint8_t *buffer, uint64_t first, const char *const *text, uint32_t count)
{
    size_t size = dv_lines_encode_header (7, first, buffer);
    for (uint32_t index = 0; index < count; index++)
        size += dv_lines_put_line (buffer + size, 100 + index, text[index],
                                   strlen (text[index]));
    dv_batch_put_count (buffer, count);
    return size;
}

static void
test_lines_round_trip (void **state)
{
    (void) state;
    uint8_t buffer[256];
    const char *const text[] = {"hello world", "", "tab\there"};
    size_t size = s_encode_lines (buffer, 40, text, 3);
    assert_int_equal (size,
                      DV_LINES_SIZE (DV_LINE_ENTRY_SIZE (11) + DV_LINE_ENTRY_SIZE (0) +
                                     DV_LINE_ENTRY_SIZE (8)));
    assert_int_equal (dv_message_kind (buffer, size), DV_KIND_LINES);
    dv_lines_t lines;
    assert_int_equal (dv_lines_decode (buffer, size, &lines), 0);
    assert_int_equal (lines.job_id, 7);
    assert_int_equal (lines.first_task, 40);
    assert_int_equal (lines.count, 3);
    size_t offset = 0;
    for (uint32_t index = 0; index < 3; index++) {
        dv_line_t line;
        dv_lines_next (&lines, &offset, &line);
        assert_int_equal (line.tag, 100 + index);
        assert_int_equal (line.length, strlen (text[index]));
        assert_memory_equal (line.bytes, text[index], line.length);
    }
    assert_int_equal (offset, lines.entries_size);
}

static void
test_lines_rejects (void **state)
{
    (void) state;
    uint8_t buffer[256], bad[256];
    const char *const text[] = {"abc", "de"};
    size_t size = s_encode_lines (buffer, 0, text, 2);
    dv_lines_t lines;
    //  Truncated anywhere, or one byte more.
    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal (dv_lines_decode (buffer, cut, &lines), -1);
    memcpy (bad, buffer, size);
    bad[size] = 0;
    assert_int_equal (dv_lines_decode (bad, size + 1, &lines), -1);
    //  A count that says more or fewer entries than there are, or none.
    for (uint32_t count = 0; count < 4; count++) {
        memcpy (bad, buffer, size);
        dv_batch_put_count (bad, count);
        assert_int_equal (dv_lines_decode (bad, size, &lines), count == 2 ? 0 : -1);
    }
    //  A length past the frame, or past DV_LINE_MAX.
    size_t first_length = DV_LINES_SIZE (0) + 8;
    memcpy (bad, buffer, size);
    dv_put_u64 (bad + first_length, 0); //  also clears the next 4 bytes
    bad[first_length] = 200;
    assert_int_equal (dv_lines_decode (bad, size, &lines), -1);
    memcpy (bad, buffer, size);
    bad[first_length + 2] = 1; //  65536 + 3
    assert_int_equal (dv_lines_decode (bad, size, &lines), -1);
    //  A NUL or a newline in the bytes.
    size_t at = DV_LINES_SIZE (0) + 12;
    memcpy (bad, buffer, size);
    bad[at + 1] = '\0';
    assert_int_equal (dv_lines_decode (bad, size, &lines), -1);
    memcpy (bad, buffer, size);
    bad[at + 1] = '\n';
    assert_int_equal (dv_lines_decode (bad, size, &lines), -1);
    //  Job id 0, a wrapping first task, the other kind.
    memcpy (bad, buffer, size);
    dv_put_u64 (bad + 8, 0);
    assert_int_equal (dv_lines_decode (bad, size, &lines), -1);
    memcpy (bad, buffer, size);
    dv_put_u64 (bad + 16, UINT64_MAX);
    assert_int_equal (dv_lines_decode (bad, size, &lines), -1);
    memcpy (bad, buffer, size);
    bad[1] = DV_KIND_TASKS;
    assert_int_equal (dv_lines_decode (bad, size, &lines), -1);
}

//  The longest line, and DV_BATCH_MAX empty lines, decode; a message over
//  DV_LINES_BATCH_BYTES does not; the largest fits a worker's task cap.
static void
test_lines_caps (void **state)
{
    (void) state;
    uint8_t *buffer = malloc (DV_LINES_SIZE_MAX + DV_LINE_ENTRY_SIZE (DV_LINE_MAX));
    char *longest = malloc (DV_LINE_MAX);
    assert_non_null (buffer);
    assert_non_null (longest);
    memset (longest, 'x', DV_LINE_MAX);
    dv_lines_t lines;

    //  As many longest lines as the budget takes, then short ones to its end.
    size_t size = dv_lines_encode_header (1, 0, buffer);
    uint32_t count = 0;
    while (size - DV_LINES_SIZE (0) + DV_LINE_ENTRY_SIZE (DV_LINE_MAX) <=
           DV_LINES_BATCH_BYTES) {
        size += dv_lines_put_line (buffer + size, 0, longest, DV_LINE_MAX);
        count++;
    }
    size_t left = DV_LINES_BATCH_BYTES - (size - DV_LINES_SIZE (0));
    assert_true (left >= DV_LINE_ENTRY_SIZE (0));
    size += dv_lines_put_line (buffer + size, 0, longest, left - DV_LINE_ENTRY_SIZE (0));
    count++;
    dv_batch_put_count (buffer, count);
    assert_int_equal (size, DV_LINES_SIZE_MAX);
    assert_int_equal (dv_lines_decode (buffer, size, &lines), 0);
    assert_true ((int64_t) size <= DV_TASKS_CAP);

    //  One byte more is over the budget.
    size = dv_lines_encode_header (1, 0, buffer);
    for (uint32_t index = 0; index + 1 < count; index++)
        size += dv_lines_put_line (buffer + size, 0, longest, DV_LINE_MAX);
    size +=
        dv_lines_put_line (buffer + size, 0, longest, left - DV_LINE_ENTRY_SIZE (0) + 1);
    dv_batch_put_count (buffer, count);
    assert_int_equal (size, DV_LINES_SIZE_MAX + 1);
    assert_int_equal (dv_lines_decode (buffer, size, &lines), -1);

    //  A line of DV_LINE_MAX + 1 bytes, alone.
    size = dv_lines_encode_header (1, 0, buffer);
    char *over_long = malloc (DV_LINE_MAX + 1);
    assert_non_null (over_long);
    memset (over_long, 'y', DV_LINE_MAX + 1);
    size += dv_lines_put_line (buffer + size, 0, over_long, DV_LINE_MAX + 1);
    dv_batch_put_count (buffer, 1);
    assert_int_equal (dv_lines_decode (buffer, size, &lines), -1);
    free (over_long);

    //  DV_BATCH_MAX empty lines fit the budget: a batch's count binds first.
    assert_true (DV_LINE_ENTRY_SIZE (0) * (size_t) DV_BATCH_MAX <= DV_LINES_BATCH_BYTES);
    size = dv_lines_encode_header (1, 0, buffer);
    for (uint32_t index = 0; index < DV_BATCH_MAX; index++)
        size += dv_lines_put_line (buffer + size, 0, "", 0);
    dv_batch_put_count (buffer, DV_BATCH_MAX);
    assert_int_equal (dv_lines_decode (buffer, size, &lines), 0);
    dv_batch_put_count (buffer, DV_BATCH_MAX + 1);
    assert_int_equal (dv_lines_decode (buffer, size, &lines), -1);
    assert_true (DV_TASKS_CAP >= DV_MESSAGE_CAP_MIN);
    free (longest);
    free (buffer);
}

static size_t
s_encode_results (uint8_t *buffer, const dv_line_result_t *results, uint32_t count)
{
    size_t size = dv_line_results_encode_header (9, 5, s_worker_id, 2, buffer);
    for (uint32_t index = 0; index < count; index++)
        size += dv_line_results_put (buffer + size, &results[index]);
    dv_batch_put_count (buffer, count);
    return size;
}

static void
test_line_results_round_trip (void **state)
{
    (void) state;
    uint8_t buffer[256];
    const dv_line_result_t in[] = {
        {DV_LINE_OK, 11, 12, "HELLO", 5},
        {DV_LINE_FAILED, 21, 22, "exit status 1", 13},
        {DV_LINE_OK, 31, 32, "", 0},
    };
    size_t size = s_encode_results (buffer, in, 3);
    assert_int_equal (size, DV_LINE_RESULTS_SIZE (2, DV_LINE_RESULT_ENTRY_SIZE (5) +
                                                         DV_LINE_RESULT_ENTRY_SIZE (13) +
                                                         DV_LINE_RESULT_ENTRY_SIZE (0)));
    dv_line_results_t results;
    assert_int_equal (dv_line_results_decode (buffer, size, &results), 0);
    assert_int_equal (results.job_id, 9);
    assert_int_equal (results.first_task, 5);
    assert_int_equal (results.count, 3);
    assert_int_equal (results.worker_id_length, 2);
    assert_memory_equal (results.worker_id, "w1", 2);
    size_t offset = 0;
    for (uint32_t index = 0; index < 3; index++) {
        dv_line_result_t out;
        dv_line_results_next (&results, &offset, &out);
        assert_int_equal (out.status, in[index].status);
        assert_int_equal (out.tag, in[index].tag);
        assert_int_equal (out.input_digest, in[index].input_digest);
        assert_int_equal (out.length, in[index].length);
        assert_memory_equal (out.bytes, in[index].bytes, out.length);
    }
}

static void
test_line_results_rejects (void **state)
{
    (void) state;
    uint8_t buffer[256], bad[256];
    const dv_line_result_t in[] = {{DV_LINE_OK, 1, 2, "ab", 2},
                                   {DV_LINE_OK, 3, 4, "c", 1}};
    size_t size = s_encode_results (buffer, in, 2);
    dv_line_results_t results;
    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal (dv_line_results_decode (buffer, cut, &results), -1);
    memcpy (bad, buffer, size);
    bad[size] = 0;
    assert_int_equal (dv_line_results_decode (bad, size + 1, &results), -1);
    for (uint32_t count = 0; count < 4; count++) {
        memcpy (bad, buffer, size);
        dv_batch_put_count (bad, count);
        assert_int_equal (dv_line_results_decode (bad, size, &results),
                          count == 2 ? 0 : -1);
    }
    size_t entry = DV_LINE_RESULTS_SIZE (2, 0);
    //  An unknown status.
    memcpy (bad, buffer, size);
    bad[entry] = 2;
    assert_int_equal (dv_line_results_decode (bad, size, &results), -1);
    //  A length past the frame.
    memcpy (bad, buffer, size);
    bad[entry + 17] = 100;
    assert_int_equal (dv_line_results_decode (bad, size, &results), -1);
    //  A NUL or a newline in a result.
    memcpy (bad, buffer, size);
    bad[entry + 21] = '\0';
    assert_int_equal (dv_line_results_decode (bad, size, &results), -1);
    memcpy (bad, buffer, size);
    bad[entry + 22] = '\n';
    assert_int_equal (dv_line_results_decode (bad, size, &results), -1);
    //  A bad worker id, and an id longer than the frame.
    memcpy (bad, buffer, size);
    bad[25] = ' ';
    assert_int_equal (dv_line_results_decode (bad, size, &results), -1);
    memcpy (bad, buffer, size);
    bad[24] = 200;
    assert_int_equal (dv_line_results_decode (bad, size, &results), -1);
    memcpy (bad, buffer, size);
    bad[24] = 0;
    assert_int_equal (dv_line_results_decode (bad, size, &results), -1);
}

//  The largest LINE_RESULTS (DV_WORKER_ID_MAX id, DV_LINE_RESULTS_BYTES of
//  entries) decodes and fits the sink's cap, and no larger one decodes;
//  it is no larger than the RESULTS message the result socket's
//  high-water mark is counted in, so that byte budget holds as it was.
static void
test_line_results_caps (void **state)
{
    (void) state;
    uint8_t *buffer = malloc (DV_LINE_RESULTS_SIZE_MAX + 1);
    char *longest = malloc (DV_LINE_MAX);
    assert_non_null (buffer);
    assert_non_null (longest);
    memset (longest, 'r', DV_LINE_MAX);
    char worker_id[DV_WORKER_ID_MAX];
    memset (worker_id, 'w', sizeof worker_id);
    for (int extra = 0; extra < 2; extra++) {
        size_t size =
            dv_line_results_encode_header (1, 0, worker_id, sizeof worker_id, buffer);
        size_t entries = 0;
        uint32_t count = 0;
        while (entries + DV_LINE_RESULT_ENTRY_SIZE (DV_LINE_MAX) <=
               DV_LINE_RESULTS_BYTES) {
            dv_line_result_t result = {DV_LINE_OK, 0, 0, longest, DV_LINE_MAX};
            size_t wrote = dv_line_results_put (buffer + size, &result);
            size += wrote;
            entries += wrote;
            count++;
        }
        size_t left = DV_LINE_RESULTS_BYTES - entries;
        assert_true (left >= DV_LINE_RESULT_ENTRY_SIZE (0));
        dv_line_result_t result = {DV_LINE_FAILED, 0, 0, longest,
                                   left - DV_LINE_RESULT_ENTRY_SIZE (0) + (size_t) extra};
        size += dv_line_results_put (buffer + size, &result);
        dv_batch_put_count (buffer, count + 1);
        dv_line_results_t results;
        if (!extra) {
            assert_int_equal (size, DV_LINE_RESULTS_SIZE_MAX);
            assert_int_equal (dv_line_results_decode (buffer, size, &results), 0);
            assert_true ((int64_t) size <= DV_RESULTS_CAP);
        } else
            assert_int_equal (dv_line_results_decode (buffer, size, &results), -1);
    }
    assert_true (DV_LINE_RESULTS_SIZE_MAX <= DV_RESULTS_SIZE_MAX);
    //  One entry of the longest result always fits a message.
    assert_true (DV_LINE_RESULT_ENTRY_SIZE (DV_LINE_MAX) <= DV_LINE_RESULTS_BYTES);
    assert_true (DV_LINE_ENTRY_SIZE (DV_LINE_MAX) <= DV_LINES_BATCH_BYTES);
    free (longest);
    free (buffer);
}

static void
test_announce_lines (void **state)
{
    (void) state;
    dv_announce_t announce = {.job_id = 3,
                              .task_count = 10,
                              .is_lines = true,
                              .input_digest = 77,
                              .credit_step = 4};
    memset (announce.tag_key.bytes, 1, DV_TAG_KEY_SIZE);
    uint8_t buffer[DV_ANNOUNCE_SIZE];
    size_t size = dv_announce_encode (&announce, buffer);
    assert_int_equal (buffer[24], 0x02);
    dv_announce_t decoded;
    assert_int_equal (dv_announce_decode (buffer, size, &decoded), 0);
    assert_true (decoded.is_lines);
    assert_false (decoded.is_range);
    //  A line job and a list job of the same digest are different jobs.
    dv_announce_t list = announce;
    list.is_lines = false;
    assert_int_not_equal (dv_announce_shape (&announce), dv_announce_shape (&list));
    //  Lines with a range bit, or with a sum of squares: rejected.
    uint8_t bad[DV_ANNOUNCE_SIZE];
    memcpy (bad, buffer, size);
    bad[24] = 0x03;
    assert_int_equal (dv_announce_decode (bad, size, &decoded), -1);
    memcpy (bad, buffer, size);
    bad[40] = 1;
    assert_int_equal (dv_announce_decode (bad, size, &decoded), -1);
    memcpy (bad, buffer, size);
    bad[24] = 0x04;
    assert_int_equal (dv_announce_decode (bad, size, &decoded), -1);
}

//  The tag binds the job, the task id and the line's digest.
static void
test_line_tag_and_digest (void **state)
{
    (void) state;
    //  FNV-1a test vectors: "" and "a".
    assert_int_equal (dv_line_digest ("", 0), 0xcbf29ce484222325ULL);
    assert_int_equal (dv_line_digest ("a", 1), 0xaf63dc4c8601ec8cULL);
    dv_tag_key_t key;
    memset (key.bytes, 9, sizeof key.bytes);
    uint64_t digest = dv_line_digest ("x", 1);
    uint64_t tag = dv_tag_line (&key, 1, 2, digest);
    assert_int_not_equal (tag, dv_tag_line (&key, 2, 2, digest));
    assert_int_not_equal (tag, dv_tag_line (&key, 1, 3, digest));
    assert_int_not_equal (tag, dv_tag_line (&key, 1, 2, dv_line_digest ("y", 1)));
    dv_tag_key_t other = key;
    other.bytes[0] ^= 1;
    assert_int_not_equal (tag, dv_tag_line (&other, 1, 2, digest));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_lines_round_trip),
        cmocka_unit_test (test_lines_rejects),
        cmocka_unit_test (test_lines_caps),
        cmocka_unit_test (test_line_results_round_trip),
        cmocka_unit_test (test_line_results_rejects),
        cmocka_unit_test (test_line_results_caps),
        cmocka_unit_test (test_announce_lines),
        cmocka_unit_test (test_line_tag_and_digest),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
