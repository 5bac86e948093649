#!/usr/bin/env python3
"""test_bounds.py CASE: no remote peer grows a divvy program without limit.

Hostile peers (bounds_peer.py, one process each, under /usr/bin/python3
with pyzmq) flood what a peer may send: subscriptions to the sink's control
socket, worker ids and the largest result batches to its result socket
(while its stdout is stalled), idle TCP connections that never handshake to
every bound port, under a low descriptor limit. Each case measures the
sink's or the ventilator's memory (VmRSS, VmHWM from /proc) or the time the
job takes against a normal job, checks the bound it is about, and checks
that the job's answer is still exact (check_exact: every result line once,
the sum of squares Python's own). Figures go to stdout.

Exit 0: pass; 1: fail; 77: skip (no pyzmq under /usr/bin/python3, no
prlimit). `--list`, `--check-cases NAME...` as in the fault suite. Run by
hand with DIVVY_TEST_BUILD_DIR=<absolute build dir>.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import (  # noqa: E402
    Pipeline, Process, TestFailure, TestSkip, check, check_equal, check_memory,
    clean_environment, free_tcp_port, main, scaled)
from test_faults import (  # noqa: E402
    JOB_TIMEOUT, check_exact, figures, finish, start, start_held, worker_args)

PEER_PYTHON = "/usr/bin/python3"
PEER = os.path.join(HERE, "bounds_peer.py")

#  The bounds under test, as the code defines them (lib/net.h, sink/job.h,
#  lib/protocol.h): a change there must be a change here, said in the diff.
HANDSHAKE_IVL_S = 3.0          # DV_HANDSHAKE_IVL_MS
WORKER_IDS_MAX = 1024          # DV_WORKER_IDS_MAX
OTHER_WORKERS = "*"            # DV_WORKER_IDS_OTHERS
RESULTS_SIZE_MAX = 16 + 9 + 64 + 65536 * 24  # DV_RESULTS_SIZE_MAX
RESULTS_QUEUED_MAX = 256 << 20  # DV_RESULTS_QUEUED_MAX, bytes per connection

MIB = 1024


def peer(pipeline, name, *args):
    """bounds_peer.py MODE ARGS as a process of pipeline."""
    process = Process("peer", name, [PEER_PYTHON, PEER, *map(str, args)],
                      clean_environment(), cwd=pipeline.directory)
    pipeline.processes.append(process)
    return process


def need_pyzmq():
    if not os.access(PEER_PYTHON, os.X_OK):
        raise TestSkip(f"no {PEER_PYTHON}")
    probe = subprocess.run([PEER_PYTHON, "-c", "import zmq"], capture_output=True,
                           timeout=30)
    if probe.returncode:
        raise TestSkip(f"{PEER_PYTHON} has no pyzmq (python3-zmq)")


def status_kib(process, field):
    """VmRSS, VmHWM, ... of a running process, in KiB."""
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise TestFailure(f"no {field} in /proc/{process.pid}/status")


def memory_at_summary(sink):
    """The sink's VmRSS and VmHWM once its JSON summary is out (it lingers,
    with --linger, before it exits)."""
    sink.wait_for_line("stdout", r"^\{", JOB_TIMEOUT)
    return status_kib(sink, "VmRSS"), status_kib(sink, "VmHWM")


def small_job(pipeline, count, sink=None, flags=None, **sink_options):
    """A job of count tasks on two workers; returns the sink (started here
    unless given), the workers and the ventilator."""
    flags = flags or {}
    if sink is None:
        sink = start(pipeline, "sink", ["--json", "--linger", 3000])
    workers = [start(pipeline, "worker", flags.get("worker", []) +
                     worker_args(index, 0, 400), name=f"worker{index}",
                     endpoints=not flags) for index in (1, 2)]
    ventilator = start(pipeline, "ventilator", flags.get("ventilator", []) +
                       ["--count", count, "--min-workers", 2], endpoints=not flags)
    return sink, workers, ventilator


def peer_line(process, pattern, timeout):
    return process.wait_for_line("stdout", pattern, timeout)


#  1. A subscription storm on the control socket: 30,000 random 1000-byte
#  subscriptions, then 30,000 distinct short ones (every 1- and 2-byte
#  topic, so within the 3-byte size a subscription may have). libzmq keeps
#  every subscription it is sent, per connection, even with ZMQ_XPUB_MANUAL;
#  the sink accepts only the protocol's own topics and closes a connection
#  that sends anything else. Its peak memory stays within STORM_SLACK of a
#  normal job's (measured: 1.5 to 8 MiB over, where it was 980 MiB over),
#  and a job run after the storm completes exactly.

STORM_COUNT = 30000
STORM_SECONDS = 40
#  CI saw 33 MiB over once (libzmq reads on before the close takes effect):
#  the "a few MiB" is not met reliably; this bounds the GiB it was.
STORM_SLACK_KIB = 64 * MIB
STORM_JOB = 20000


def case_subscription_storm():
    need_pyzmq()
    values = range(1, STORM_JOB + 1)
    with Pipeline("storm_baseline") as pipeline:
        sink, workers, ventilator = small_job(pipeline, STORM_JOB)
        base_rss, base_hwm = memory_at_summary(sink)
        finish([sink, ventilator] + workers)
        check_exact(sink, values)
    figures("subscription_storm", normal_job_rss_kib=base_rss,
            normal_job_hwm_kib=base_hwm)
    for kind in ("long", "short"):
        with Pipeline(f"storm_{kind}") as pipeline:
            sink = start(pipeline, "sink", ["--json", "--linger", 3000])
            pipeline.wait_bound(pipeline.control, sink)
            idle_rss = status_kib(sink, "VmRSS")
            storm = peer(pipeline, f"storm_{kind}", "subscribe", pipeline.control, kind,
                         STORM_COUNT, STORM_SECONDS)
            storm.expect_exit(0, STORM_SECONDS + 30)
            sent = int(peer_line(storm, r"^sent (\d+)$", 1).group(1))
            disconnects = int(peer_line(storm, r"^disconnects (\d+)$", 1).group(1))
            storm_rss, storm_hwm = status_kib(sink, "VmRSS"), status_kib(sink, "VmHWM")
            check(sink.running(), "the sink exited during the storm")
            sink, workers, ventilator = small_job(pipeline, STORM_JOB, sink=sink)
            job_rss, job_hwm = memory_at_summary(sink)
            finish([sink, ventilator] + workers)
            check_exact(sink, values)
            figures("subscription_storm", kind=kind, subscriptions_sent=sent,
                    sink_closed_the_storm=disconnects, idle_rss_kib=idle_rss,
                    after_storm_rss_kib=storm_rss, after_storm_hwm_kib=storm_hwm,
                    after_job_rss_kib=job_rss, after_job_hwm_kib=job_hwm,
                    over_normal_kib=job_hwm - base_hwm)
            check_equal(sent, STORM_COUNT, "subscriptions the storm sent")
            check_memory(job_hwm <= base_hwm + STORM_SLACK_KIB,
                  f"{kind} storm: the sink's peak memory is {job_hwm} KiB, more than "
                  f"{STORM_SLACK_KIB} KiB over a normal job's {base_hwm} KiB")


#  2. 100,000 one-task batches, each under a new worker id: the sink names
#  the first DV_WORKER_IDS_MAX ids and counts the rest under '*', says so
#  in one line, and every count is exact.

IDS_COUNT = 100000
#  A normal job of this size peaks near 9 MiB; 100,000 ids took 33 MiB.
IDS_RSS_LIMIT_KIB = 16 * MIB
#  The human summary's worker line: at most the named ids and the bucket,
#  each "id=count" with an id of at most 64 bytes.
WORKERS_LINE_MAX = (WORKER_IDS_MAX + 1) * (64 + 1 + 26 + 1) + 100  # 26: a grouped uint64


def ids_job(name):
    job = 4711
    values = list(range(1, IDS_COUNT + 1))
    with Pipeline(name) as pipeline:
        sink = start(pipeline, "sink", ["--json", "--linger", 3000])
        pipeline.wait_bound(pipeline.results, sink)
        sender = peer(pipeline, "ids", "ids", pipeline.results, pipeline.control, job,
                      IDS_COUNT)
        rss, hwm = memory_at_summary(sink)
        sender.expect_exit(0, 60)
        sink.expect_exit(0, JOB_TIMEOUT)
        summary = check_exact(sink, values)
        lines = sink.lines("stderr")
        return summary, lines, rss, hwm


def case_worker_ids():
    need_pyzmq()
    summary, lines, rss, hwm = ids_job("worker_ids")
    workers = summary["workers"]
    worker_line = [line for line in lines
                   if re.match(r"^sink: \d{1,3}(?:,\d{3})* workers:", line)]
    warnings = [line for line in lines if "worker ids" in line and "counted" in line]
    figures("worker_ids", ids_sent=IDS_COUNT, ids_named=len(workers),
            bucket=workers.get(OTHER_WORKERS), sink_rss_kib=rss, sink_hwm_kib=hwm,
            workers_line_bytes=len(worker_line[0]) if worker_line else -1,
            warning_lines=len(warnings))
    check_equal(len(workers), WORKER_IDS_MAX + 1, "ids in the JSON summary (named "
                "ones and the bucket)")
    check_equal(workers.get(OTHER_WORKERS), IDS_COUNT - WORKER_IDS_MAX,
                f"results counted under {OTHER_WORKERS!r}")
    check(all(count == 1 for name, count in workers.items() if name != OTHER_WORKERS),
          "a named id's count is not 1")
    check_equal(len(worker_line), 1, "the human summary's workers lines")
    check(len(worker_line[0]) <= WORKERS_LINE_MAX,
          f"the workers line is {len(worker_line[0])} bytes, over {WORKERS_LINE_MAX}")
    check_equal(len(warnings), 1, f"warning lines about worker ids ({warnings})")
    check_memory(hwm <= IDS_RSS_LIMIT_KIB,
          f"the sink's peak memory is {hwm} KiB for {IDS_COUNT} ids")


#  3. The largest valid result batches while the sink's stdout is stalled
#  (it takes no results then): 300 of them queued by one PUSH. What libzmq
#  may queue per connection is bounded by the result socket's high-water
#  mark, set from a byte budget (DV_RESULTS_QUEUED_MAX / DV_RESULTS_SIZE_MAX
#  messages); the frames are malformed (zeros after the header): those the
#  sink reads before the job completes are counted (it reads its
#  connections in turn, so not all of them), and the job completes exactly.

FLOOD_COUNT = 300
FLOOD_STALL_COUNT = 1000000
#  What one connection may add: the queue and the message being decoded
#  (DV_RESULTS_QUEUED_MAX), and the allocator's slack. The flood is 450 MiB.
FLOOD_LIMIT_KIB = RESULTS_QUEUED_MAX // 1024 + 8 * MIB


def case_results_flood_stalled():
    need_pyzmq()
    with Pipeline("results_flood_stalled") as pipeline:
        sink = start_held(pipeline, ["--json"])
        workers = [start(pipeline, "worker", ["--id", f"w{index}"],
                         name=f"worker{index}") for index in (1, 2)]
        ventilator = start(pipeline, "ventilator",
                           ["--count", FLOOD_STALL_COUNT, "--min-workers", 2])
        #  Timing is the point: stdout is not read, so within a few seconds the
        #  sink holds its 8 MiB of lines and stops taking results.
        time.sleep(4)
        check(not re.search(r"^sink: job \d+ complete", sink.stderr, re.M),
              "the job completed before the stall")
        before = status_kib(sink, "VmRSS")
        flood = peer(pipeline, "flood", "flood", pipeline.results, pipeline.control,
                     RESULTS_SIZE_MAX, FLOOD_COUNT, 120)
        peer_line(flood, r"^queued \d+$", 30)
        #  libzmq moves what it may into the sink within moments; a few
        #  seconds more for good measure, then the sink's memory.
        time.sleep(3)
        after = status_kib(sink, "VmRSS")
        grown = after - before
        figures("results_flood_stalled", messages=FLOOD_COUNT,
                message_bytes=RESULTS_SIZE_MAX, sink_rss_before_kib=before,
                sink_rss_after_kib=after, grown_kib=grown,
                limit_kib=FLOOD_LIMIT_KIB)
        sink.release()
        flood.expect_exit(0, 120)
        finish([ventilator] + workers + [sink])
        malformed = json.loads(sink.lines("stdout")[-1])["malformed"]
        figures("results_flood_stalled", malformed_read=malformed)
        check(0 < malformed <= FLOOD_COUNT, f"{malformed} malformed messages counted, "
              f"of the {FLOOD_COUNT} sent")
        check_exact(sink, range(1, FLOOD_STALL_COUNT + 1), malformed=malformed)
        check_memory(grown <= FLOOD_LIMIT_KIB,
              f"the sink grew by {grown} KiB under the flood, more than the "
              f"{FLOOD_LIMIT_KIB} KiB one connection may queue")


#  4. Idle TCP connections that never handshake, to every port a program
#  binds: each is closed by the binder within the handshake interval.

IDLE_PER_PORT = 20
IDLE_SLACK_S = 1.5


def tcp_flags():
    ports = [free_tcp_port() for _ in range(3)]
    bind = [f"tcp://127.0.0.1:{port}" for port in ports]
    flags = ["--tasks", bind[0], "--results", bind[1], "--control", bind[2]]
    return ports, {role: list(flags) for role in ("ventilator", "worker", "sink")}


def idle_report(process):
    found = peer_line(process, r"^connected (\d+) closed (\d+) first_s (\S+) "
                      r"last_s (\S+)$", 1)
    return (int(found.group(1)), int(found.group(2)), float(found.group(3)),
            float(found.group(4)))


def case_idle_connections_dropped():
    need_pyzmq()
    count = 20000
    with Pipeline("idle_connections_dropped") as pipeline:
        ports, flags = tcp_flags()
        sink = start(pipeline, "sink", flags["sink"] + ["--json"], endpoints=False)
        ventilator = start(pipeline, "ventilator", flags["ventilator"] +
                           ["--count", count, "--min-workers", 2], endpoints=False)
        time.sleep(0.5)  # the binds: a moment, then the idle peers retry anyway
        idlers = [peer(pipeline, f"idle{port}", "idle", "127.0.0.1", port,
                       IDLE_PER_PORT, HANDSHAKE_IVL_S * 4 + 10) for port in ports]
        for idler in idlers:
            idler.expect_exit(0, HANDSHAKE_IVL_S * 4 + 30)
        reports = [idle_report(idler) for idler in idlers]
        for port, (opened, closed, first, last) in zip(("tasks", "results", "control"),
                                                       reports):
            figures("idle_connections_dropped", port=port, connected=opened,
                    closed=closed, first_close_s=first, last_close_s=last)
        workers = [start(pipeline, "worker", flags["worker"] + worker_args(index, 0, 400),
                         name=f"worker{index}", endpoints=False) for index in (1, 2)]
        finish([sink, ventilator] + workers)
        check_exact(sink, range(1, count + 1))
        for port, (opened, closed, first, last) in zip(("tasks", "results", "control"),
                                                       reports):
            check_equal(opened, IDLE_PER_PORT, f"idle connections opened to {port}")
            check_equal(closed, opened, f"idle connections to {port} closed by the "
                        f"binder within {HANDSHAKE_IVL_S * 4 + 10:.0f} s")
            check(last <= HANDSHAKE_IVL_S + IDLE_SLACK_S,
                  f"an idle connection to {port} was closed after {last:.2f} s, "
                  f"more than the {HANDSHAKE_IVL_S} s handshake interval")


#  5. Descriptor exhaustion: the programs run with a soft descriptor limit
#  of 64 and a hard one of 256 (prlimit); each raises its soft limit to the
#  hard one at start. 300 idle TCP connections to the task port then hold
#  more descriptors than the ventilator has; the handshake interval frees
#  them, and a job started at the same time completes exactly and promptly.

FD_SOFT, FD_HARD = 64, 256
FD_IDLE = 300
FD_JOB_LIMIT_S = 4 * HANDSHAKE_IVL_S + 10  # libzmq's own 30 s must not decide


def soft_nofile(process, expected, timeout=10):
    """The soft descriptor limit of process once it is expected (the
    program sets it first thing), or what it is after timeout."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        with open(f"/proc/{process.pid}/limits") as limits:
            soft = [int(line.split()[3]) for line in limits
                    if line.startswith("Max open files")]
        check(soft, f"no 'Max open files' in /proc/{process.pid}/limits")
        if soft[0] == expected or time.monotonic() > deadline:
            return soft[0]
        time.sleep(0.01)  # polling a condition


def cpu_seconds(process):
    with open(f"/proc/{process.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def case_fd_exhaustion():
    need_pyzmq()
    prlimit = shutil.which("prlimit")
    if not prlimit:
        raise TestSkip("needs util-linux's prlimit")
    limited = [prlimit, f"--nofile={FD_SOFT}:{FD_HARD}", "--"]
    count = 20000
    with Pipeline("fd_exhaustion") as pipeline:
        ports, flags = tcp_flags()
        sink = start(pipeline, "sink", flags["sink"] + ["--json"], prefix=limited,
                     endpoints=False)
        ventilator = start(pipeline, "ventilator", flags["ventilator"] +
                           ["--count", count, "--min-workers", 2], prefix=limited,
                           endpoints=False)
        time.sleep(0.5)  # the binds; idle peers that come early just fail
        idler = peer(pipeline, "idle", "idle", "127.0.0.1", ports[0], FD_IDLE,
                     FD_JOB_LIMIT_S)
        #  The idle connections first: they take the descriptors. Timing: two
        #  seconds of the ventilator's CPU then (libzmq spun on accept).
        time.sleep(0.5)
        cpu_before = cpu_seconds(ventilator)
        time.sleep(2)
        spin = cpu_seconds(ventilator) - cpu_before
        began = time.monotonic()
        workers = [start(pipeline, "worker", flags["worker"] + worker_args(index, 0, 400),
                         name=f"worker{index}", prefix=limited, endpoints=False)
                   for index in (1, 2)]
        limits = {process.name: soft_nofile(process, FD_HARD)
                  for process in [sink, ventilator] + workers}
        finish([sink, ventilator] + workers, FD_JOB_LIMIT_S + 30)
        took = sink.ended - began
        idler.expect_exit(0, FD_JOB_LIMIT_S + 30)
        opened, closed, first, last = idle_report(idler)
        figures("fd_exhaustion", soft_limits=limits, idle_connected=opened,
                idle_closed=closed, first_close_s=first, last_close_s=last,
                job_s=f"{took:.2f}",
                ventilator_cpu_share_idle=f"{spin / 2:.2f}")
        check_exact(sink, range(1, count + 1))
        for name, soft in limits.items():
            check_equal(soft, FD_HARD, f"{name}'s soft descriptor limit (started "
                        f"with {FD_SOFT}, hard {FD_HARD})")
        check(took <= FD_JOB_LIMIT_S, f"the job took {took:.1f} s beside {FD_IDLE} "
              f"idle connections, more than {FD_JOB_LIMIT_S:.0f} s")
        #  Not all: past a full accept queue the kernel may answer with a SYN
        #  cookie and keep nothing, and a client that never sends never
        #  learns. What the binder accepts it closes in time
        #  (idle_connections_dropped); here, at least what it could hold.
        check(closed >= FD_HARD - 64, f"only {closed} of {opened} idle connections "
              f"were closed")
        check(first >= HANDSHAKE_IVL_S - 0.5,
              f"an idle connection was closed after {first:.2f} s, before the "
              f"handshake interval: not by the handshake timer")


#  6. A forged job without CURVE: an announcement of 2^32 tasks, then
#  131,072 one-task results, one per 2^15 tasks (one per page of the old
#  bitmap: it took 532 MB). The sink keeps a ring over the window
#  (DV_WINDOW_SPAN task ids past the first missing one) and refuses what
#  lies past it as malformed: the results inside count, the rest are
#  dropped, and its memory stays within the ring (and slack) of an idle
#  sink's. The forger never announces again: the job is abandoned.

DV_WINDOW_SPAN = 1 << 23     # lib/protocol.h
SCATTER_TASKS = 1 << 32
SCATTER_COUNT = 131072
SCATTER_STRIDE = 1 << 15
SCATTER_SLACK_KIB = 8 * MIB
SCATTER_PEER_TIMEOUT_S = 3


def case_forged_window():
    need_pyzmq()
    #  Task 0 comes first (the first missing task is 1 after it); task
    #  k * stride counts while it lies below 1 + DV_WINDOW_SPAN.
    accepted = sum(1 for k in range(SCATTER_COUNT)
                   if k * SCATTER_STRIDE + 1 <= (1 if k == 0 else 1 + DV_WINDOW_SPAN))
    with Pipeline("forged_window") as pipeline:
        sink = start(pipeline, "sink", ["--json", "--linger", 500, "--peer-timeout",
                                        SCATTER_PEER_TIMEOUT_S])
        pipeline.wait_bound(pipeline.results, sink)
        idle_hwm = status_kib(sink, "VmHWM")
        forger = peer(pipeline, "scatter", "scatter", pipeline.results, pipeline.control,
                      4242, SCATTER_TASKS, SCATTER_COUNT, SCATTER_STRIDE)
        rss, hwm = memory_at_summary(sink)
        sink.expect_exit(1, JOB_TIMEOUT)  # abandoned
        forger.expect_exit(0, 60)
        summary = json.loads(sink.lines("stdout")[-1])
        figures("forged_window", announced_tasks=SCATTER_TASKS, results_sent=SCATTER_COUNT,
                taken=summary["results"], malformed=summary["malformed"],
                idle_hwm_kib=idle_hwm, sink_rss_kib=rss, sink_hwm_kib=hwm,
                grown_kib=hwm - idle_hwm)
        check_equal(summary["results"], accepted, "results counted (inside the window)")
        check_equal(summary["malformed"], SCATTER_COUNT - accepted,
                    "results refused as past the window")
        check_equal(summary["complete"], False, "JSON complete")
        check(any("past the window" in line for line in sink.lines("stderr")),
              "the sink did not say why it dropped the results")
        ring_kib = DV_WINDOW_SPAN // 8 // 1024
        check_memory(hwm <= idle_hwm + ring_kib + SCATTER_SLACK_KIB,
                     f"the sink's peak is {hwm} KiB after the forged job, more than "
                     f"the ring ({ring_kib} KiB) and {SCATTER_SLACK_KIB} KiB over its "
                     f"idle {idle_hwm} KiB")


CASES = {
    "subscription_storm": case_subscription_storm,
    "worker_ids": case_worker_ids,
    "results_flood_stalled": case_results_flood_stalled,
    "idle_connections_dropped": case_idle_connections_dropped,
    "fd_exhaustion": case_fd_exhaustion,
    "forged_window": case_forged_window,
}

if __name__ == "__main__":
    sys.exit(main(CASES))
