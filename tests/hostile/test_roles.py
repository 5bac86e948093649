#!/usr/bin/env python3
"""test_roles.py CASE: keys carry roles, and a revoked key stops counting.

Under CURVE every peer holds a key that zauth accepted at its handshake.
These cases hold an *allowed* key and use it for what its role may not do:
a worker key announces a job, sends the ventilator's heartbeat (a repeated
announcement), or delivers results under another worker's id; and a worker's
certificate is removed from the allow-list directory mid-job. Without CURVE
there are no keys: a stray announcement from a raw peer must be abandoned
after --peer-timeout and leave the sink free for the real job.

The hostile peer is divvy-inject (its 'curve' command gives it a key). Every
case checks the job's answer exactly (tests/faults/test_faults.py's
check_exact), the exit codes, the refused count in the sink's JSON summary,
and prints what it measured. Exit 0: pass; 1: fail; 77: skip. Run by hand
with DIVVY_TEST_BUILD_DIR=<build dir> (an absolute path).
"""

import os
import re
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import (  # noqa: E402
    Pipeline, TestFailure, check, check_clean_stderr, check_equal,
    check_no_socket_files, describe_exit, main, scaled)
from test_faults import (  # noqa: E402
    announce, check_exact, curve_flags, figures, finish, kill, make_keys, matching,
    parse_summary, results, start, wait_exits, worker_args)

#  The sink's and the ventilator's one line per kind of refusal and key.
REFUSED_ANNOUNCE = r"^sink: refused a job announcement from CURVE key \S+: " \
                   r"not the ventilator's key"
REFUSED_FOREIGN_ID = r"^sink: refused results as 'w1' from CURVE key \S+: " \
                     r"the id belongs to another key"
REFUSED_SERVER_RESULTS = r"^sink: refused results as 'vent' from CURVE key \S+: " \
                         r"the ventilator's key is not a worker's"
REFUSED_REVOKED = r"^sink: refused results as 'w1' from CURVE key (\S+): the key is " \
                  r"not in --curve-allow \(revoked\?\); 'w1' has (\d+) results counted$"
#  Its credit refused, or its turn passed over: whichever comes first.
VENTILATOR_REVOKED = r"^ventilator: (refused credit \(WANT\) from|no more tasks for the " \
                     r"worker with) CURVE key (\S+): the key is not in --curve-allow " \
                     r"\(revoked\?\)"


def injector(pipeline, lines, name="injector"):
    """divvy-inject running the script lines ({control}, {results} and
    {tasks} stand for the pipeline's endpoints)."""
    text = "\n".join(lines).format(control=pipeline.control, results=pipeline.results,
                                   tasks=pipeline.tasks) + "\n"
    return start(pipeline, "inject", [], name=name, stdin_data=text.encode())


def allow(keys, name):
    """Adds keys[name]'s public certificate to the allow-list directory."""
    shutil.copy(keys[name], os.path.join(keys["allow"], name))


def stop(process):
    """SIGTERM for a helper whose exit is not what the case is about."""
    if process.running():
        process.send_signal(signal.SIGTERM)
    process.wait(10)


#  1. A worker key announces a job of 2^32 tasks to an idle sink. It is
#  refused (counted in the JSON summary, one line on stderr for five
#  announcements), the sink stays idle, and the real ventilator's job then
#  runs exactly and everyone exits 0.

FORGED_ANNOUNCEMENTS = 5


def case_worker_announces():
    count = 4000
    with Pipeline("worker_announces") as pipeline:
        keys = make_keys(pipeline)
        sink = start(pipeline, "sink", ["--json"] + curve_flags(keys, "sink"))
        pipeline.wait_bound(pipeline.results, sink)
        forged = announce(4242, 2 ** 32).hex()
        forger = injector(pipeline, [
            f"curve {keys['worker']} {keys['server']}",
            "socket c sub {control}",
            "until c 0 0 10000",  # the sink is up, and idle
            "socket r push {results}",
            "wait-event r connected 10000",
        ] + [f"send r {forged}"] * FORGED_ANNOUNCEMENTS + ["close r"])
        forger.expect_exit(0, 30)
        found = sink.wait_for_line(
            "stderr", rf"{REFUSED_ANNOUNCE}|^sink: job 4242: gathering", 10)
        check(found.group(0).startswith("sink: refused"),
              f"the sink took a worker key's announcement: {found.string!r}")
        workers = [start(pipeline, "worker", worker_args(index, 100, 200)
                         + curve_flags(keys, "worker"), name=f"worker{index}")
                   for index in (1, 2)]
        ventilator = start(pipeline, "ventilator",
                           ["--count", count, "--batch", 20, "--min-workers", 2]
                           + curve_flags(keys, "ventilator"))
        finish([sink, ventilator] + workers)
        summary = check_exact(sink, range(1, count + 1))
        lines = matching(sink, REFUSED_ANNOUNCE)
        figures("worker_announces", refused=summary.get("refused"),
                refusal_lines=len(lines), seconds=summary["seconds"])
        check_equal(summary.get("refused"), FORGED_ANNOUNCEMENTS, "JSON refused")
        check_equal(len(lines), 1, "refusal lines for one kind and one key")
        check_no_socket_files(pipeline)


#  2. Another allowed key ("other") delivers correct results under the id
#  'w1', which the real w1's key already owns: refused and counted, never
#  credited; so are results from the servers' key (the ventilator's, not a
#  worker's). The real workers w1 and w2 share one certificate (a pool: one
#  key, several ids), and the job completes exactly.

FOREIGN_BATCHES = 3


def case_foreign_worker_id():
    count, job = 20000, 901
    with Pipeline("foreign_worker_id") as pipeline:
        keys = make_keys(pipeline, ("server", "worker", "other"))
        allow(keys, "other")
        sink = start(pipeline, "sink", ["--json"] + curve_flags(keys, "sink"))
        w1 = start(pipeline, "worker", worker_args(1, 200, 200)
                   + curve_flags(keys, "worker"), name="worker1")
        ventilator = start(pipeline, "ventilator",
                           ["--count", count, "--batch", 20, "--min-workers", 1,
                            "--job", job] + curve_flags(keys, "ventilator"))
        #  Only w1 works until the forger is done: the results the sink has
        #  are w1's, so 'w1' is bound to the worker key by then.
        forged = [results(job, first, range(first + 1, first + 11), worker=b"w1").hex()
                  for first in range(count - 10 * FOREIGN_BATCHES, count, 10)]
        forger = injector(pipeline, [
            f"curve {keys['other']} {keys['server']}",
            "socket c sub {control}",
            "until c 1 200 60000",
            "socket r push {results}",
            "wait-event r connected 10000",
        ] + [f"send r {frame}" for frame in forged] + [
            "close r",
            f"curve {keys['server']} {keys['server']}",
            "socket v push {results}",
            "wait-event v connected 10000",
            f"send v {results(job, 0, range(1, 11), worker=b'vent').hex()}",
            "close v",
        ])
        forger.expect_exit(0, 60)
        w2 = start(pipeline, "worker", worker_args(2, 200, 200)
                   + curve_flags(keys, "worker"), name="worker2")
        finish([sink, ventilator, w1, w2])
        summary = check_exact(sink, range(1, count + 1))
        lines = matching(sink, REFUSED_FOREIGN_ID)
        figures("foreign_worker_id", refused=summary.get("refused"),
                refusal_lines=len(lines), workers=summary["workers"],
                duplicates=summary["duplicates"])
        check_equal(summary.get("refused"), FOREIGN_BATCHES + 1, "JSON refused")
        check_equal(sorted(summary["workers"]), ["w1", "w2"], "JSON worker ids")
        check_equal(len(lines), 1, "refusal lines for one kind and one key")
        check_equal(len(matching(sink, REFUSED_SERVER_RESULTS)), 1,
                    "refusal lines for results from the servers' key")
        check_no_socket_files(pipeline)


#  3. The ventilator is killed mid-job while a worker key repeats the job's
#  very announcement (its id and shape) every 200 ms: those are not the
#  ventilator's heartbeat, so the sink abandons the job within its peer
#  timeout (2 s) of the ventilator's death, as if they were not there.

PEER_TIMEOUT_S = 2
#  Not scaled: the sink mostly waits here, and this limit is the behaviour.
ABANDON_LIMIT_S = PEER_TIMEOUT_S + 3


def case_worker_heartbeats():
    count, job = 40000, 5150
    with Pipeline("worker_heartbeats") as pipeline:
        keys = make_keys(pipeline)
        sink = start(pipeline, "sink", ["--json", "--peer-timeout", PEER_TIMEOUT_S]
                     + curve_flags(keys, "sink"))
        workers = [start(pipeline, "worker", worker_args(index, 1000, 40)
                         + curve_flags(keys, "worker"), name=f"worker{index}")
                   for index in (1, 2)]
        ventilator = start(pipeline, "ventilator",
                           ["--count", count, "--batch", 10, "--min-workers", 2,
                            "--job", job] + curve_flags(keys, "ventilator"))
        beat = announce(job, count).hex()
        #  12 s of forged heartbeats: far past the limit below.
        forger = injector(pipeline, [
            f"curve {keys['worker']} {keys['server']}",
            "socket c sub {control}",
            "until c 1 500 60000",
            "socket r push {results}",
            "wait-event r connected 10000",
        ] + [f"send r {beat}\nsleep 200"] * 60)
        forger.wait_for_line("stdout", r"^sent r ", 60)
        kill(ventilator)
        killed = ventilator.ended
        wait_exits([sink], ABANDON_LIMIT_S + scaled(5))
        abandon_s = sink.ended - killed
        stop(forger)
        wait_exits(workers, scaled(15))
        summary = parse_summary(sink.lines("stdout")[-1])
        figures("worker_heartbeats", sink_exit_after_kill_s=f"{abandon_s:.2f}",
                refused=summary.get("refused"), received=summary["results"])
        check_equal(sink.returncode, 1, "the sink's exit after its ventilator died")
        check_equal(summary.get("outcome"), "abandoned", "JSON outcome")
        check(matching(sink, rf"^sink: the ventilator has been silent for "
                       rf"{PEER_TIMEOUT_S} s: abandoning job {job}"),
              f"no 'abandoning job' line: {sink.lines('stderr')[-5:]}")
        check(abandon_s <= ABANDON_LIMIT_S,
              f"the sink abandoned the job {abandon_s:.2f} s after its ventilator "
              f"died, more than {ABANDON_LIMIT_S} s: the forged heartbeats kept it")
        check(summary.get("refused", 0) >= 1, f"JSON refused: {summary.get('refused')}")
        check_equal(len(matching(sink, REFUSED_ANNOUNCE)), 1, "refusal lines")
        for worker in workers:
            check_equal(worker.returncode, 1, f"{worker.name} exit (job abandoned)")
        for process in [sink] + workers:
            check_clean_stderr(process)


#  4. Without CURVE there are no keys: a raw peer announces a job and says
#  nothing more. The sink abandons it after --peer-timeout, nothing came of
#  it, so it forgets it and is idle again; the workers that were waiting
#  stay, and the real ventilator's job then completes exactly, exit 0.

def case_stray_announce_plain():
    count = 4000
    with Pipeline("stray_announce_plain") as pipeline:
        sink = start(pipeline, "sink", ["--json", "--peer-timeout", PEER_TIMEOUT_S])
        pipeline.wait_bound(pipeline.results, sink)
        workers = [start(pipeline, "worker", worker_args(index, 100, 200),
                         name=f"worker{index}") for index in (1, 2)]
        stray = injector(pipeline, [
            "socket c sub {control}",
            "until c 0 0 10000",
            "socket r push {results}",
            "wait-event r connected 10000",
            f"send r {announce(999, 10 ** 6).hex()}",
            "close r",
            "until c 1 0 10000",   # the sink holds the stray job
            "until c 0 0 15000",   # then it is idle again
        ])
        stray.wait_for_line("stdout", r"^sent r ", 30)
        sent = time.monotonic()
        sink.wait_for_line("stderr", r"^sink: job 999: gathering", 10)
        sink.wait_for_line("stderr", r"abandoning job 999", PEER_TIMEOUT_S + 10)
        abandoned_s = time.monotonic() - sent
        stray.expect_exit(0, 30)
        idle_s = time.monotonic() - sent
        check(sink.running(), f"the sink exited ({describe_exit(sink.returncode)}) "
              f"after abandoning a stray announcement: {sink.lines('stderr')[-3:]}")
        ventilator = start(pipeline, "ventilator",
                           ["--count", count, "--batch", 20, "--min-workers", 2])
        finish([sink, ventilator] + workers)
        summary = check_exact(sink, range(1, count + 1))
        figures("stray_announce_plain", abandoned_after_s=f"{abandoned_s:.2f}",
                idle_again_after_s=f"{idle_s:.2f}", seconds=summary["seconds"])
        check(PEER_TIMEOUT_S * 0.75 <= abandoned_s <= ABANDON_LIMIT_S,
              f"the stray job was abandoned {abandoned_s:.2f} s after its "
              f"announcement, expected {PEER_TIMEOUT_S} to {ABANDON_LIMIT_S} s")
        check_no_socket_files(pipeline)


#  5. A worker's certificate (w1's own) is removed from the allow-list
#  directory 1.5 s into a job of about 6 s. Within about a second the sink
#  refuses its results and the ventilator its credit (it gets no more
#  tasks); nothing of w1's counts after the first refusal; the tasks it held
#  come back through RESEND and the other two workers (one shared key) do
#  them: the job is exact.

REVOKE_AFTER_S = 1.5
#  Reloads at most once a second, plus w1's next message (a batch of 10
#  tasks of 1 ms): the refusal comes within this of the removal.
REFUSAL_LIMIT_S = 2.5
TASK_DELAY_US = 1000
PREFETCH = 40


def case_revoked_mid_job():
    count, batch = 14000, 10
    with Pipeline("revoked_mid_job") as pipeline:
        keys = make_keys(pipeline, ("server", "worker", "revoked"))
        allow(keys, "revoked")
        sink = start(pipeline, "sink", ["--json"] + curve_flags(keys, "sink"))
        w1 = start(pipeline, "worker", worker_args(1, TASK_DELAY_US, PREFETCH)
                   + curve_flags(keys, "worker", "revoked"), name="worker1")
        others = [start(pipeline, "worker", worker_args(index, TASK_DELAY_US, PREFETCH)
                        + curve_flags(keys, "worker"), name=f"worker{index}")
                  for index in (2, 3)]
        ventilator = start(pipeline, "ventilator",
                           ["--count", count, "--batch", batch, "--min-workers", 3]
                           + curve_flags(keys, "ventilator"))
        sink.wait_for_line("stderr", r"^sink: job \d+: gathering", 30)
        #  Timing, not synchronisation: the revocation is 1.5 s into the job.
        time.sleep(REVOKE_AFTER_S)
        os.remove(os.path.join(keys["allow"], "revoked"))
        removed = time.monotonic()
        refused = sink.wait_for_line("stderr", REFUSED_REVOKED, 30)
        sink_s = time.monotonic() - removed
        ventilator.wait_for_line("stderr", VENTILATOR_REVOKED, 30)
        ventilator_s = time.monotonic() - removed
        counted_at_refusal = int(refused.group(2))
        finish([sink, ventilator, w1] + others)
        summary = check_exact(sink, range(1, count + 1))
        squared = int(w1.wait_for_line(
            "stderr", r"^worker: w1: job \d+ complete; squared (\d+) tasks$", 1).group(1))
        after = squared - summary["workers"].get("w1", 0)
        #  After the ventilator's refusal w1 gets nothing new; before it, w1
        #  squares at most one task a TASK_DELAY_US (it sleeps that long for
        #  each). What it held and had in flight: a few prefetches.
        bound = 3 * PREFETCH + max(0.0, ventilator_s - sink_s) * 1e6 / TASK_DELAY_US
        figures("revoked_mid_job", removal_to_sink_refusal_s=f"{sink_s:.2f}",
                removal_to_ventilator_refusal_s=f"{ventilator_s:.2f}",
                w1_counted=summary["workers"].get("w1", 0),
                w1_counted_at_first_refusal=counted_at_refusal,
                w1_squared=squared, w1_squared_not_counted=after,
                refused=summary.get("refused"), resends=summary["resends"],
                tasks_requested_again=summary["tasks_requested_again"],
                seconds=summary["seconds"], workers=summary["workers"])
        check(sink_s <= scaled(REFUSAL_LIMIT_S),
              f"the sink refused the revoked key {sink_s:.2f} s after the removal, "
              f"more than {REFUSAL_LIMIT_S} s")
        check(ventilator_s <= scaled(REFUSAL_LIMIT_S),
              f"the ventilator refused the revoked key {ventilator_s:.2f} s after the "
              f"removal, more than {REFUSAL_LIMIT_S} s")
        check_equal(summary["workers"].get("w1", 0), counted_at_refusal,
                    "w1's results counted (none after the first refusal)")
        check(summary.get("refused", 0) >= 1, f"JSON refused: {summary.get('refused')}")
        check(after <= bound, f"w1 squared {after} tasks that did not count, more than "
              f"{bound:.0f}: it went on getting tasks after its key was revoked")
        check(summary["resends"] >= 1, "no RESEND: w1's held tasks were not recovered")
        check(sorted(summary["workers"]) == ["w1", "w2", "w3"],
              f"JSON worker ids: {sorted(summary['workers'])}")
        check_no_socket_files(pipeline)


CASES = {
    "worker_announces": case_worker_announces,
    "foreign_worker_id": case_foreign_worker_id,
    "worker_heartbeats": case_worker_heartbeats,
    "stray_announce_plain": case_stray_announce_plain,
    "revoked_mid_job": case_revoked_mid_job,
}

if __name__ == "__main__":
    sys.exit(main(CASES))
