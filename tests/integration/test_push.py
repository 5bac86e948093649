#!/usr/bin/env python3
"""test_push.py CASE: --dispatch push end to end, and modes that disagree.

With push the ventilator's task socket is a PUSH and the workers' a PULL;
the window and the sink's RESEND still make the job exactly once. Each case
runs the real programs on private ipc endpoints (harness.py) and checks
every result and the sum with Python's integers. `--list` and
`--check-cases` as in test_pipeline.py.
"""

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Pipeline, check, check_complete, check_equal, main, parse_result_lines,
    sink_output)
from test_pipeline import (  # noqa: E402
    JOB_TIMEOUT, QUIET_JSON, USAGE_TIMEOUT, check_worker_logs, finish, job_started,
    run_job)

PUSH = ["--dispatch", "push"]
#  The worker's documented exit code when the ventilator runs the other mode.
EXIT_DISPATCH = 4
#  A refusal is known about a second after the connection closed (libzmq
#  does not retry it); this only bounds a hang.
REFUSAL_TIMEOUT = 20


def push_jobs(workers):
    """W workers, batch 1 and batch 100: exact, every worker credited."""
    for batch, count in ((1, 20000), (100, 200000)):
        with Pipeline(f"push_w{workers}_b{batch}") as pipeline:
            sink, started, ventilator = run_job(
                pipeline, PUSH + ["--count", str(count), "--batch", str(batch),
                                  "--min-workers", str(workers)],
                workers=workers, worker_args=lambda index: PUSH)
            _, summary = sink_output(sink)
            check_complete(summary, range(1, count + 1))
            check_worker_logs(started, summary["workers"])


def case_push_input():
    """A list job (tags checked by the sink), by DIVVY_DISPATCH, every line."""
    values = [-(2 ** 63), 2 ** 63 - 1, 0, -1, 7] + list(range(-500, 500, 3))
    data = "".join(f"{value}\n" for value in values).encode()
    with Pipeline("push_input") as pipeline:
        env = {"DIVVY_DISPATCH": "push"}
        sink = pipeline.sink(["--json"])
        workers = [pipeline.worker(env=env) for _ in range(2)]
        ventilator = pipeline.ventilator(["--input", "-", "--batch", "7",
                                          "--min-workers", "2"], env=env,
                                         stdin_data=data)
        finish(pipeline, [ventilator] + workers + [sink])
        lines, summary = sink_output(sink)
        check_complete(summary, values)
        check_equal(parse_result_lines(lines), collections.Counter(values),
                    "the values of the result lines")


def case_push_late_joiner():
    """A worker that joins a running push job gets most of it: the early,
    slow worker's pipe holds only a little (DV_PUSH_HWM and a small send
    buffer), not the job."""
    with Pipeline("push_late_joiner") as pipeline:
        count = 20000
        sink = pipeline.sink(QUIET_JSON)
        #  2 ms a task: 40 s for the job alone, 500 tasks a second however
        #  long the late one takes to start; what it holds queued is a
        #  thousand or two single tasks.
        slow = pipeline.worker(PUSH + ["--id", "slow", "--task-delay-us", "2000"])
        ventilator = pipeline.ventilator(PUSH + ["--count", str(count), "--batch", "1",
                                                 "--min-workers", "1"])
        job_started(ventilator, JOB_TIMEOUT)
        check(sink.running(), "the sink ended before the late worker joined")
        late = pipeline.worker(PUSH + ["--id", "late"])
        finish(pipeline, [ventilator, slow, late, sink])
        _, summary = sink_output(sink)
        check_complete(summary, range(1, count + 1), workers=2)
        #  Not a speed: a bound on what sat in the slow one's pipe, and on
        #  what it can do while the late one starts.
        print(f"push_late_joiner: {summary['workers']}")
        check(summary["workers"].get("late", 0) >= count // 2,
              f"the late worker got less than half: {summary['workers']}")
        check_worker_logs([slow, late], summary["workers"])


def case_push_gate():
    """--min-workers 2 holds a push job until the second worker is
    connected; then both take part."""
    with Pipeline("push_gate") as pipeline:
        count = 20000
        sink = pipeline.sink(QUIET_JSON)
        first = pipeline.worker(PUSH + ["--id", "first"])
        ventilator = pipeline.ventilator(PUSH + ["--count", str(count), "--batch", "10",
                                                 "--min-workers", "2"])
        #  Its waiting line says one of two is connected: the gate is shut.
        ventilator.wait_for_line("stderr", r"1 of 2 workers connected", JOB_TIMEOUT)
        check("tasks in batches" not in ventilator.stderr,
              "the job started with one worker of two")
        second = pipeline.worker(PUSH + ["--id", "second"])
        started = job_started(ventilator, JOB_TIMEOUT)
        check_equal(started.workers, 2, "workers connected at the start")
        finish(pipeline, [ventilator, first, second, sink])
        _, summary = sink_output(sink)
        check_complete(summary, range(1, count + 1), workers=2)
        check_worker_logs([first, second], summary["workers"])


def mismatch(ventilator_mode, worker_mode):
    """A worker in one mode against a ventilator in the other: the worker
    exits EXIT_DISPATCH with one line naming both modes; the ventilator's
    waiting line names them too; nothing hangs."""
    with Pipeline(f"mismatch_{ventilator_mode}_{worker_mode}") as pipeline:
        sink = pipeline.sink(QUIET_JSON)
        ventilator = pipeline.ventilator(["--dispatch", ventilator_mode,
                                          "--count", "1000", "--min-workers", "1"])
        pipeline.wait_bound(pipeline.tasks, ventilator)
        worker = pipeline.worker(["--dispatch", worker_mode, "--id", "odd"])
        worker.expect_exit(EXIT_DISPATCH, REFUSAL_TIMEOUT)
        lines = worker.lines("stderr")
        check_equal(len(lines), 1, f"the worker's stderr lines {lines}")
        line = lines[0]
        for needed in (f"--dispatch {ventilator_mode}", f"this worker --dispatch "
                       f"{worker_mode}", "DIVVY_DISPATCH"):
            check(needed in line, f"the worker's line lacks {needed!r}: {line!r}")
        check(ventilator.running() and sink.running(),
              "a refused worker stopped the ventilator or the sink")
        #  The ventilator cannot tell it from a probe, so it only says so and
        #  waits on: libzmq reports the refusal on its side as a failed
        #  handshake or, as on the worker's, as a close without a reason (then
        #  its waiting line, every 5 s, counts it); which one varies.
        ventilator.wait_for_line(
            "stderr", rf"(refused a peer on the task socket: failed handshake "
            rf"\(no CURVE, another socket type|; \d+ closed in their handshake "
            rf"\(workers with --dispatch {worker_mode}, not this ventilator's "
            rf"{ventilator_mode}\? or probes\)$)", REFUSAL_TIMEOUT)
        #  The job still completes with a worker that agrees.
        good = pipeline.worker(["--dispatch", ventilator_mode])
        finish(pipeline, [ventilator, good, sink])
        _, summary = sink_output(sink)
        check_complete(summary, range(1, 1001), workers=1)


def bad_dispatch(role):
    with Pipeline(f"bad_dispatch_{role}") as pipeline:
        process = pipeline.start(role, ["--dispatch", "pull"])
        process.expect_exit(2, USAGE_TIMEOUT)
        lines = process.lines("stderr")
        check_equal(len(lines), 1, f"{role}'s stderr lines {lines}")
        check("--dispatch (DIVVY_DISPATCH): 'pull' is neither credit nor push" in lines[0],
              f"{role}'s line: {lines[0]!r}")


CASES = {
    "push_w1": lambda: push_jobs(1),
    "push_w2": lambda: push_jobs(2),
    "push_w3": lambda: push_jobs(3),
    "push_w4": lambda: push_jobs(4),
    "push_input": case_push_input,
    "push_late_joiner": case_push_late_joiner,
    "push_gate": case_push_gate,
    "mismatch_credit_push": lambda: mismatch("credit", "push"),
    "mismatch_push_credit": lambda: mismatch("push", "credit"),
    "bad_dispatch_ventilator": lambda: bad_dispatch("ventilator"),
    "bad_dispatch_worker": lambda: bad_dispatch("worker"),
}

if __name__ == "__main__":
    sys.exit(main(CASES))
