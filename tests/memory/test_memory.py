#!/usr/bin/env python3
"""test_memory.py CASE: memory does not grow with the job's size.

  sink_flat         the sink's peak RSS (VmHWM) for a range job of
                    LARGE_COUNT tasks stays within a bound derived from the
                    code's constants of its peak for SMALL_COUNT: the ring
                    over the window (DV_WINDOW_SPAN bits) and the result
                    batches the window lets be in flight, plus slack. The
                    old bitmap (a bit per task) took LARGE_COUNT / 8 bytes.
  ventilator_input  the ventilator's peak RSS for an INPUT_LINES-line
                    --input file (written to the test's directory, deleted
                    after) stays within the kept offsets' bound of its peak
                    for a small file, and under 64 MiB; the job is exact
                    (JSON sum of squares). Then a bad last line: refused
                    (exit 2, "path:line: ... is not an integer") before
                    anything is sent.

The jobs run with sink --quiet --json (the JSON summary is checked) and
two workers. RSS is checked with check_memory (reported, not asserted,
under AddressSanitizer). Figures go to stdout. Exit 0 pass, 1 fail, 77
skip; `--list`, `--check-cases NAME...` as in the other suites.
"""

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))

from harness import (  # noqa: E402
    Pipeline, TestFailure, check, check_equal, check_memory, main, scaled)
from test_faults import figures, finish, start  # noqa: E402

MIB = 1024  # KiB

#  The code's constants (lib/protocol.h, ventilator/plan.c, ventilator/
#  source.h): a change there must be a change here, said in the diff.
DV_WINDOW_SPAN = 1 << 23               # task ids the sink's ring covers
RING_KIB = DV_WINDOW_SPAN // 8 // 1024
AUTO_WINDOW_BATCHES_MIN = 16           # S_AUTO_WINDOW_MIN, batches in flight
RESULT_SIZE = 24                       # DV_RESULT_SIZE, bytes per result
DV_SOURCE_OFFSETS_MAX = 65536          # file offsets kept, 8 bytes each
OFFSETS_KIB = DV_SOURCE_OFFSETS_MAX * 8 // 1024

SINK_BATCH = 4096
#  What the window lets queue at the sink: its batches of results (the auto
#  window is 16 batches at this size).
WINDOW_KIB = AUTO_WINDOW_BATCHES_MIN * SINK_BATCH * RESULT_SIZE // 1024
SLACK_KIB = 2 * MIB                    # the allocator's and libzmq's noise
SMALL_COUNT = 1000000
#  The old bitmap took LARGE_COUNT / 8 bytes (12 MiB) more than here.
LARGE_COUNT = 100000000

INPUT_LINES = 10000000                 # the old ventilator held 8 bytes a line
INPUT_SMALL_LINES = 1000
INPUT_RSS_LIMIT_KIB = 64 * MIB

JOB_TIMEOUT = 120


def status_kib(process, field):
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise TestFailure(f"no {field} in /proc/{process.pid}/status")


def job(name, ventilator_args, count, expected_sum):
    """A job with sink --quiet --json and two workers; returns the sink's
    and the ventilator's VmHWM once the summary is out (both still run:
    the sink lingers, the ventilator waits for it)."""
    with Pipeline(name) as pipeline:
        sink = start(pipeline, "sink", ["--quiet", "--json", "--linger", 500])
        workers = [start(pipeline, "worker", ["--id", f"w{index}"],
                         name=f"worker{index}") for index in (1, 2)]
        ventilator = start(pipeline, "ventilator",
                           ventilator_args(pipeline) + ["--min-workers", 2])
        sink.wait_for_line("stdout", r"^\{", scaled(JOB_TIMEOUT))
        sink_hwm, ventilator_hwm = status_kib(sink, "VmHWM"), status_kib(ventilator,
                                                                          "VmHWM")
        finish([sink, ventilator] + workers, scaled(JOB_TIMEOUT))
        summary = json.loads(sink.lines("stdout")[-1])
        check_equal(summary["complete"], True, "JSON complete")
        check_equal(summary["verified"], True, "JSON verified")
        check_equal(summary["tasks"], count, "JSON tasks")
        check_equal(summary["sum_of_squares"], str(expected_sum), "JSON sum_of_squares")
        return sink_hwm, ventilator_hwm, summary


def squares_to(count):
    return count * (count + 1) * (2 * count + 1) // 6


def case_sink_flat():
    hwm = {}
    for count in (SMALL_COUNT, LARGE_COUNT):
        hwm[count], _, summary = job(
            f"sink_flat_{count}",
            lambda pipeline, count=count: ["--count", count, "--batch", SINK_BATCH],
            count, squares_to(count))
        figures("sink_flat", count=count, sink_hwm_kib=hwm[count],
                seconds=summary["seconds"])
    bound = RING_KIB + WINDOW_KIB + SLACK_KIB
    grown = hwm[LARGE_COUNT] - hwm[SMALL_COUNT]
    figures("sink_flat", grown_kib=grown, bound_kib=bound,
            old_bitmap_kib=LARGE_COUNT // 8 // 1024)
    check_memory(grown <= bound,
                 f"the sink's peak grew by {grown} KiB from {SMALL_COUNT} to "
                 f"{LARGE_COUNT} tasks, more than {bound} KiB (ring {RING_KIB}, "
                 f"window {WINDOW_KIB}, slack {SLACK_KIB})")


def write_input(path, lines):
    with open(path, "w") as output:
        step = 1000000
        for first in range(1, lines + 1, step):
            last = min(first + step, lines + 1)
            output.write("\n".join(map(str, range(first, last))) + "\n")


def case_ventilator_input():
    hwm = {}
    for lines in (INPUT_SMALL_LINES, INPUT_LINES):
        def args(pipeline, lines=lines):
            path = pipeline.path("input.txt")
            write_input(path, lines)
            return ["--input", path, "--batch", 65536]
        began = time.monotonic()
        _, hwm[lines], summary = job(f"ventilator_input_{lines}", args, lines,
                                     squares_to(lines))
        figures("ventilator_input", lines=lines, ventilator_hwm_kib=hwm[lines],
                seconds=f"{time.monotonic() - began:.1f}")
    grown = hwm[INPUT_LINES] - hwm[INPUT_SMALL_LINES]
    bound = OFFSETS_KIB + SLACK_KIB
    figures("ventilator_input", grown_kib=grown, bound_kib=bound,
            old_values_kib=INPUT_LINES * 8 // 1024)
    check_memory(grown <= bound,
                 f"the ventilator's peak grew by {grown} KiB from {INPUT_SMALL_LINES} "
                 f"to {INPUT_LINES} lines, more than {bound} KiB")
    check_memory(hwm[INPUT_LINES] <= INPUT_RSS_LIMIT_KIB,
                 f"the ventilator's peak is {hwm[INPUT_LINES]} KiB for {INPUT_LINES} "
                 f"lines, over {INPUT_RSS_LIMIT_KIB} KiB")
    #  A bad line at the very end: refused before anything is sent (no sink
    #  runs; the ventilator checks its input before it opens a socket).
    with Pipeline("ventilator_input_bad") as pipeline:
        path = pipeline.path("input.txt")
        write_input(path, INPUT_LINES)
        with open(path, "a") as output:
            output.write("12x\n")
        ventilator = start(pipeline, "ventilator", ["--input", path])
        ventilator.expect_exit(2, scaled(JOB_TIMEOUT))
        expected = f"ventilator: {path}:{INPUT_LINES + 1}: '12x' is not an integer"
        check_equal(ventilator.lines("stderr"), [expected], "the ventilator's stderr")
        check(not pipeline.socket_files(), "the ventilator bound a socket")
        os.unlink(path)


CASES = {
    "sink_flat": case_sink_flat,
    "ventilator_input": case_ventilator_input,
}

if __name__ == "__main__":
    sys.exit(main(CASES))
