#!/usr/bin/env python3
"""test_push_peers.py CASE: --dispatch push with peers that are not divvy's.

With push, divvy's task socket is the Guide's: a PUSH that binds, workers'
PULLs that connect, one frame per message (no ROUTER identity frame). So a
ZeroMQ PULL written by anyone can be a worker, if it reads divvy's TASKS
encoding and PUSHes divvy's RESULTS to the sink; a peer that speaks the
Guide's text messages connects fine but its messages are not divvy's.

  foreign_pull_worker  a pyzmq PULL, the Guide's taskwork in shape, is the
                       only worker of a push job: every message it gets is
                       one TASKS frame; it squares them and PUSHes RESULTS;
                       the job completes exactly
  guide_ventilator     the Guide's taskvent in shape (a PUSH that binds and
                       sends decimal strings) feeds a divvy push worker: the
                       worker connects (no refusal: the socket types agree),
                       drops each message as malformed, says so, and keeps
                       running until stopped

Needs pyzmq (Debian: python3-zmq). Run by hand with
DIVVY_TEST_BUILD_DIR=<build dir> and /usr/bin/python3.
"""

import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from test_faults import (  # noqa: E402
    Pipeline, check, check_exact, check_no_socket_files, figures, finish, parse_tasks,
    results, start)
from harness import TestFailure, main, scaled  # noqa: E402

try:
    import zmq
except ImportError:  # the cases fail, saying why
    zmq = None

PUSH = ["--dispatch", "push"]
COUNT = 20_000


def need_zmq():
    if zmq is None:
        raise TestFailure("pyzmq is missing (Debian: python3-zmq)")


def case_foreign_pull_worker():
    need_zmq()
    with Pipeline("foreign_pull_worker") as pipeline:
        sink = start(pipeline, "sink", ["--json"])
        context = zmq.Context()
        tasks = context.socket(zmq.PULL)
        out = context.socket(zmq.PUSH)
        counts = {"messages": 0, "frames": 0, "not_tasks": 0}
        stop = threading.Event()

        def work():
            poller = zmq.Poller()
            poller.register(tasks, zmq.POLLIN)
            while not stop.is_set():
                if not poller.poll(50):
                    continue
                frames = tasks.recv_multipart()
                counts["messages"] += 1
                counts["frames"] += len(frames)
                batch = parse_tasks(frames[0])
                if batch is None:
                    counts["not_tasks"] += 1
                    continue
                out.send(results(batch.job, batch.first, batch.values, worker=b"pyzmq",
                                 tag=batch.tag))

        try:
            for sock in (tasks, out):
                sock.setsockopt(zmq.LINGER, 2000)
            tasks.connect(pipeline.tasks)
            out.connect(pipeline.results)
            thread = threading.Thread(target=work, daemon=True)
            thread.start()
            ventilator = start(pipeline, "ventilator",
                               PUSH + ["--count", COUNT, "--batch", 100,
                                       "--min-workers", 1])
            finish([ventilator, sink], scaled(60))
            stop.set()
            thread.join(10)
        finally:
            stop.set()
            tasks.close(0)
            out.close()
            context.term()
        summary = check_exact(sink, range(1, COUNT + 1))
        check(summary["workers"] == {"pyzmq": COUNT},
              f"the sink credits others than the foreign worker: {summary['workers']}")
        check(counts["frames"] == counts["messages"] and not counts["not_tasks"],
              f"not one TASKS frame per message: {counts}")
        figures("foreign_pull_worker", **counts)
        check_no_socket_files(pipeline)


def case_guide_ventilator():
    need_zmq()
    with Pipeline("guide_ventilator") as pipeline:
        context = zmq.Context()
        vent = context.socket(zmq.PUSH)
        try:
            vent.setsockopt(zmq.LINGER, 0)
            vent.bind(pipeline.tasks)
            worker = start(pipeline, "worker", PUSH + ["--id", "divvy"])
            #  The Guide's taskvent sends each task's workload in ms as text.
            for workload in range(1, 101):
                vent.send_string(str(workload))
            worker.wait_for_line("stderr", r"dropped a malformed task message", 30)
            check(worker.running(), "the worker stopped on the Guide's messages")
            check("--dispatch" not in worker.stderr,
                  "the worker took agreeing socket types for a mode mismatch")
            worker.send_signal(signal.SIGTERM)
            worker.expect_exit(128 + signal.SIGTERM, 10)
            figures("guide_ventilator", worker_stderr=worker.lines("stderr"))
        finally:
            vent.close(0)
            context.term()


CASES = {
    "foreign_pull_worker": case_foreign_pull_worker,
    "guide_ventilator": case_guide_ventilator,
}

if __name__ == "__main__":
    sys.exit(main(CASES))
