#!/usr/bin/env python3
"""test_tag.py CASE: workers that alter values, against the batch tag.

Each case runs a real --input job (200,000 values) with two real workers and
one hostile peer: a Python DEALER that takes TASKS from the ventilator with
credit like a worker, and PUSHes RESULTS to the sink whose values are not its
tasks' values while every square is right for the value it sends (so a check
of squares, or of the sum of squares alone, cannot tell). The sink must never
count them: each such batch is malformed, its tasks are asked for again
(RESEND) and done by a real worker, and the job completes exactly
(check_exact: every value printed once, the sum of squares Python's own,
"verified": true because every value is right).

  negating_worker    sends -v and (-v)^2 for v, echoing the batch's tag
  permuting_worker   rotates the values within a batch, squares consistent
                     (the same multiset: the sum of squares cannot tell)
  forged_tag         alters values and forges the tag: a SipHash of the
                     altered values under a zero key, the tag of another
                     batch, the tag with a bit flipped, a random one, or the
                     true tag with one value off by one

  restarted_ventilator  no hostile peer: the ventilator of an input job is
                     killed mid-job and started again with the same --job; it
                     draws a new key, the sink takes it from the repeated
                     announcement and keeps the old one for batches still out,
                     and the job completes exactly

The hostile peer asks for a bounded number of batches (LIAR_BATCHES) and
sends every lie at once, so each reaches the sink while the job runs (the
job cannot complete while the peer holds its tasks) and the malformed count
is exact. It may get fewer: once a RESEND names its batches the ventilator
takes its credit and trust, so the test waits for the job, not for them.
Needs pyzmq (Debian: python3-zmq). Run by hand
with DIVVY_TEST_BUILD_DIR=<build dir> and /usr/bin/python3.
"""

import os
import random
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from test_faults import (  # noqa: E402
    Pipeline, Watcher, check, check_clean_stderr, check_equal, check_exact,
    check_no_socket_files, figures, finish, kill, parse_tasks, parse_summary, results,
    start, want)
from harness import TestFailure, main, scaled  # noqa: E402

try:
    import zmq
except ImportError:  # the cases fail, saying why
    zmq = None

VALUE_COUNT = 200_000
BATCH = 256
#  Batches the hostile peer takes, then it asks for no more: all of them come
#  early in a job of about 780 batches.
LIAR_BATCHES = 16
LIAR_CREDIT = 4
LIAR_ID = b"liar"
RESEND_AFTER_MS = 300
JOB_TIMEOUT = 90


#  SipHash-2-4 (Aumasson and Bernstein), for the forger: what a peer without
#  the job's key can compute.

MASK = 2 ** 64 - 1


def _rotl(value, bits):
    return ((value << bits) | (value >> (64 - bits))) & MASK


def _round(v0, v1, v2, v3):
    v0 = (v0 + v1) & MASK
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & MASK
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & MASK
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & MASK
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24(key, data):
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    tail = len(data) % 8
    last = data[len(data) - tail:] + bytes(7 - tail) + bytes([len(data) & 0xFF])
    for offset in range(0, len(data) - tail + 8, 8):
        word = data[offset:offset + 8] if offset < len(data) - tail else last
        (m,) = struct.unpack("<Q", word)
        v[3] ^= m
        for _ in range(2):
            v = list(_round(*v))
        v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        v = list(_round(*v))
    return v[0] ^ v[1] ^ v[2] ^ v[3]


class HostilePeer:
    """A worker that lies: takes TASKS from the ventilator's task socket (a
    DEALER granting credit, LIAR_BATCHES batches in all) and sends the sink
    RESULTS made by lie(tasks, index) -> (values, tag). Every square is right
    for the value sent. Runs in a thread of its own, which owns its sockets."""

    def __init__(self, pipeline, lie):
        self.pipeline = pipeline
        self.lie = lie
        self.condition = threading.Condition()
        self.sent = 0       # lying batches sent
        self.tasks = 0      # tasks in them
        self.tags = []      # the tag of each TASKS message taken
        self.error = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        context = zmq.Context()
        tasks = context.socket(zmq.DEALER)
        sink = context.socket(zmq.PUSH)
        try:
            tasks.setsockopt(zmq.LINGER, 0)
            sink.setsockopt(zmq.LINGER, 5000)
            tasks.connect(self.pipeline.tasks)
            sink.connect(self.pipeline.results)
            tasks.send(want(LIAR_CREDIT, reset=1))
            asked = LIAR_CREDIT
            while not self.stopped.is_set():
                if not tasks.poll(50):
                    continue
                batch = parse_tasks(tasks.recv())
                if batch is None:
                    continue
                values, tag = self.lie(batch, self.sent)
                squares = [value * value for value in values]
                sink.send(results(batch.job, batch.first, values, worker=LIAR_ID,
                                  squares=squares, tag=tag))
                with self.condition:
                    self.sent += 1
                    self.tasks += len(values)
                    self.tags.append(batch.tag)
                    self.condition.notify_all()
                if asked < LIAR_BATCHES:
                    tasks.send(want(1))
                    asked += 1
        except Exception as error:  # reported by the test, not lost in a thread
            self.error = error
        finally:
            tasks.close()
            sink.close()
            context.term()

    def wait_sent(self, count, timeout):
        deadline = time.monotonic() + scaled(timeout)
        with self.condition:
            while self.sent < count and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TestFailure(f"the hostile peer sent {self.sent} of {count} "
                                      f"batches within {scaled(timeout):.0f} s")
                self.condition.wait(left)
        if self.error is not None:
            raise TestFailure(f"the hostile peer failed: {self.error!r}")

    def stop(self):
        self.stopped.set()
        self.thread.join(scaled(10))
        check(not self.thread.is_alive(), "the hostile peer's thread did not end")


def input_values(seed):
    """VALUE_COUNT values, none 0 (so negating one changes it) and none whose
    negation leaves int64."""
    rng = random.Random(seed)
    values = []
    while len(values) < VALUE_COUNT:
        value = rng.randrange(-2 ** 62, 2 ** 62)
        if value:
            values.append(value)
    return values


def lying_job(case, lie, seed):
    """An --input job with two real workers and one hostile peer; checks the
    job is exact and that none of the peer's batches counted. Returns the
    summary and the peer."""
    if zmq is None:
        raise TestFailure("needs pyzmq (Debian: python3-zmq; meson.build picks a "
                          "python3 that has it)")
    values = input_values(seed)
    started = time.monotonic()
    with Pipeline(case) as pipeline:
        path = pipeline.path("input.txt")
        with open(path, "w") as file:
            file.write("".join(f"{value}\n" for value in values))
        sink = start(pipeline, "sink", ["--json", "--resend-after", RESEND_AFTER_MS])
        workers = [start(pipeline, "worker", ["--id", f"w{index}"], name=f"worker{index}")
                   for index in (1, 2)]
        peer = HostilePeer(pipeline, lie)
        try:
            #  Three: the job starts only once the peer's credit is in too.
            ventilator = start(pipeline, "ventilator",
                               ["--input", path, "--batch", BATCH, "--min-workers", 3])
            peer.wait_sent(1, 60)
            finish([sink, ventilator] + workers, JOB_TIMEOUT)
        finally:
            peer.stop()
        #  Every value right, so verified; the peer's batches all malformed.
        summary = check_exact(sink, values, malformed=peer.sent)
        check(LIAR_ID.decode() not in summary["workers"],
              f"the sink counted results of the hostile peer: {summary['workers']}")
        check_equal(sorted(summary["workers"]), ["w1", "w2"], "JSON worker ids")
        #  An input job's batches carry tags (a range job's are 0).
        check(all(peer.tags) and len(set(peer.tags)) == len(peer.tags),
              f"the batches the peer took have no distinct tags: {peer.tags}")
        check(summary["resends"] >= 1 and summary["tasks_requested_again"] >= peer.tasks,
              f"the hostile peer's {peer.tasks} tasks were not asked for again: "
              f"{summary}")
        check(any("malformed" in line for line in sink.lines("stderr")),
              "the sink did not say it dropped malformed results")
        for process in [sink, ventilator] + workers:
            check_clean_stderr(process)
        check_no_socket_files(pipeline)
        figures(case, values=len(values), liar_batches=peer.sent, liar_tasks=peer.tasks,
                malformed=summary["malformed"], resends=summary["resends"],
                tasks_requested_again=summary["tasks_requested_again"],
                duplicates=summary["duplicates"], job_seconds=summary["seconds"],
                case_seconds=f"{time.monotonic() - started:.2f}",
                workers=summary["workers"])
        return summary, peer


def case_negating_worker():
    lying_job("negating_worker", lambda batch, _: ([-v for v in batch.values], batch.tag),
              seed=9)


def case_permuting_worker():
    def rotate(batch, _):
        values = batch.values[1:] + batch.values[:1]
        check(values != batch.values, "a batch whose rotation is itself")
        return values, batch.tag

    lying_job("permuting_worker", rotate, seed=10)


def case_forged_tag():
    rng = random.Random(11)
    previous = []

    def forge(batch, index):
        negated = [-v for v in batch.values]
        way = index % 5
        if way == 0:
            #  SipHash under a key the peer can know: zero.
            data = struct.pack(f"<QQ{len(negated)}q", batch.job, batch.first, *negated)
            tag = siphash24(bytes(16), data)
        elif way == 1:
            #  Another batch's true tag (values right for that batch only).
            tag = previous[-1]
        elif way == 2:
            tag = batch.tag ^ 1
        elif way == 3:
            tag = rng.getrandbits(64)
        else:
            #  The true tag; one value off by one.
            negated = list(batch.values)
            negated[rng.randrange(len(negated))] += 1
            tag = batch.tag
        previous.append(batch.tag)
        return negated, tag

    lying_job("forged_tag", forge, seed=11)


def case_restarted_ventilator():
    count = 60_000
    values = input_values(12)[:count]
    started = time.monotonic()
    with Pipeline("restarted_ventilator") as pipeline:
        path = pipeline.path("input.txt")
        with open(path, "w") as file:
            file.write("".join(f"{value}\n" for value in values))
        arguments = ["--input", path, "--batch", 50, "--min-workers", 2, "--job", 9090]
        sink = start(pipeline, "sink", ["--json", "--resend-after", RESEND_AFTER_MS])
        watcher = Watcher(pipeline, pipeline.control)
        #  Slowed (50 us a task) so that the kill comes mid-job.
        workers = [start(pipeline, "worker", ["--id", f"w{index}", "--task-delay-us", 50],
                         name=f"worker{index}") for index in (1, 2)]
        first = start(pipeline, "ventilator", arguments)
        at = watcher.wait_received(count // 4)
        kill(first)
        second = start(pipeline, "ventilator", arguments, name="ventilator2")
        second.wait_for_line("stderr", r"resuming a job the sink holds", 60)
        finish([sink, second] + workers, JOB_TIMEOUT)
        summary = parse_summary(sink.lines("stdout")[-1])
        #  Batches made under either key count; any made under a key the
        #  sink did not hold yet are malformed and asked for again.
        summary = check_exact(sink, values, malformed=summary["malformed"])
        check(sink.wait_for_line("stderr", r"announced with a new tag key", 1),
              "the sink did not say it took the restarted ventilator's key")
        watcher.stop()
        check_no_socket_files(pipeline)
        figures("restarted_ventilator", values=count, killed_at_received=at,
                malformed=summary["malformed"], resends=summary["resends"],
                tasks_requested_again=summary["tasks_requested_again"],
                duplicates=summary["duplicates"], job_seconds=summary["seconds"],
                case_seconds=f"{time.monotonic() - started:.2f}")


CASES = {
    "negating_worker": case_negating_worker,
    "permuting_worker": case_permuting_worker,
    "forged_tag": case_forged_tag,
    "restarted_ventilator": case_restarted_ventilator,
}

if __name__ == "__main__":
    sys.exit(main(CASES))
