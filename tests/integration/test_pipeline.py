#!/usr/bin/env python3
"""test_pipeline.py CASE: one end-to-end test of ventilator, workers and sink.

Each case starts the real programs on private ipc endpoints (one on tcp),
waits for exit codes and output lines with bounded waits, and checks exact
behaviour: exit codes, every result line, the sum of squares computed here
with Python's integers, the JSON summary and what a user reads on stderr.
Exit 0: pass; 1: fail (the reason on stderr, then each process's output);
77: skip. `test_pipeline.py --list` prints the case names;
`--check-cases NAME...` checks that meson.build registers exactly them.
"""

import collections
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    INT64_MAX, INT64_MIN, Pipeline, check, check_clean_stderr,
    check_complete, check_equal, check_no_socket_files, check_one_line,
    free_tcp_port, human_summary, main, parse_result_lines, sink_output,
    wait_until_sleeping)

#  A job's processes all exit within this (seconds, scaled under sanitizers).
JOB_TIMEOUT = 60
#  A bad-option run ends at once; this only bounds a hang.
USAGE_TIMEOUT = 15
#  "exit within a second" after SIGINT / SIGTERM, with room for a loaded machine.
SIGNAL_EXIT_LIMIT_S = 2.0

QUIET_JSON = ["--quiet", "--json"]


def finish(pipeline, processes, timeout=JOB_TIMEOUT):
    """Every process exits 0, prints nothing alarming, and leaves no ipc file."""
    for process in processes:
        process.expect_exit(0, timeout)
    for process in processes:
        check_clean_stderr(process)
    check_no_socket_files(pipeline)


def check_worker_logs(workers, counts):
    """Each worker's own count of squared tasks matches what the sink
    credited to it, and the sink credited no one else."""
    seen = set()
    for worker in workers:
        found = worker.wait_for_line(
            "stderr", r"^worker: (\S+): job \d+ complete; squared (\d+) tasks$", 1)
        worker_id, squared = found.group(1), int(found.group(2))
        #  A worker may get no task of a small job: then the sink never
        #  heard of it.
        check_equal(squared, counts.get(worker_id, 0),
                    f"{worker_id}: tasks squared vs. the sink's count")
        seen.add(worker_id)
    check(set(counts) <= seen, f"the sink credits unknown workers: {counts}")


JobStart = collections.namedtuple("JobStart", "job count batch workers")


def job_started(ventilator, timeout):
    """Waits for the ventilator's line saying the job started; returns the
    job id, task count, batch size and (when it says) the workers."""
    found = ventilator.wait_for_line(
        "stderr", r"^ventilator: job (\d+): (\d+) tasks in batches of (\d+)(.*)$", timeout)
    workers = re.search(r"(\d+) workers? connected", found.group(4))
    return JobStart(found.group(1), int(found.group(2)), int(found.group(3)),
                    int(workers.group(1)) if workers else None)


def check_sink_human_summary(sink, values):
    """The human summary on stderr: complete, nothing dropped, verified, its
    counts grouped (human_summary.py parses only the grouped form)."""
    total = sum(value * value for value in values)
    summary = human_summary(sink.stderr)
    check_equal((summary["outcome"], summary["received"], summary["tasks"]),
                ("complete", len(values), len(values)), "human summary: outcome, of tasks")
    check_equal((summary["duplicates"], summary["malformed"]), (0, 0),
                "human summary: duplicates, malformed")
    check_equal((summary["sum"], summary["verdict"]), (total, "verified"),
                "human summary: sum of squares")


def run_job(pipeline, ventilator_args, workers=1, worker_args=None,
            sink_args=QUIET_JSON, ventilator_env=None, stdin_data=None):
    """Sink, workers, ventilator, in that order; each must end with 0."""
    sink = pipeline.sink(sink_args)
    started = [pipeline.worker(worker_args(index) if worker_args else [])
               for index in range(workers)]
    ventilator = pipeline.ventilator(ventilator_args, env=ventilator_env,
                                     stdin_data=stdin_data)
    finish(pipeline, [ventilator] + started + [sink])
    return sink, started, ventilator


#  Jobs that complete

def case_one_task():
    with Pipeline("one_task") as pipeline:
        sink, workers, ventilator = run_job(pipeline, ["--count", "1"],
                                            sink_args=["--json"])
        lines, summary = sink_output(sink)
        check_equal(lines, ["1 1"], "the sink's result lines")
        check_complete(summary, [1], workers=1)
        check_equal(list(summary["workers"].values()), [1], "worker counts")
        check_sink_human_summary(sink, [1])
        check_worker_logs(workers, summary["workers"])
        ventilator.wait_for_line("stderr", rf"^ventilator: job {summary['job']} complete\b", 1)


def case_million():
    with Pipeline("million") as pipeline:
        sink, workers, _ = run_job(
            pipeline, ["--count", "1000000", "--batch", "100", "--min-workers", "4"],
            workers=4)
        lines, summary = sink_output(sink)
        check_equal(lines, [], "result lines with --quiet")
        values = range(1, 1000001)
        check_equal(sum(value * value for value in values), 333333833333500000,
                    "Python's own sum (sanity)")
        check_complete(summary, values, workers=4)
        check_equal(summary["sum_of_squares"], "333333833333500000", "sum_of_squares")
        check_worker_logs(workers, summary["workers"])


def read_trace(path):
    """A --trace file: (first_task, count, ns) per line, each line whole."""
    rows = []
    with open(path) as stream:
        for line in stream:
            check(re.fullmatch(r"\d+ \d+ \d+\n", line), f"trace line {line!r} in {path}")
            rows.append(tuple(int(field) for field in line.split()))
    return rows


def case_trace():
    """--trace on the ventilator and the sink: one line per batch on each side,
    the batches tiling the job, each at the sink no earlier than it was sent,
    both on the clock this process reads (CLOCK_MONOTONIC)."""
    with Pipeline("trace") as pipeline:
        sent_path = os.path.join(pipeline.directory, "sent.trace")
        taken_path = os.path.join(pipeline.directory, "taken.trace")
        before = time.monotonic_ns()
        sink, workers, _ = run_job(
            pipeline, ["--count", "1000", "--batch", "7", "--min-workers", "2",
                       "--trace", sent_path],
            workers=2, sink_args=QUIET_JSON + ["--trace", taken_path])
        after = time.monotonic_ns()
        _, summary = sink_output(sink)
        check_complete(summary, range(1, 1001), workers=2)
        sent, taken = read_trace(sent_path), read_trace(taken_path)
        batches = [(first, min(7, 1000 - first)) for first in range(0, 1000, 7)]
        check_equal(sorted((f, c) for f, c, _ in sent), batches, "batches sent (trace)")
        check_equal(sorted((f, c) for f, c, _ in taken), batches, "batches taken (trace)")
        check_equal([ns for _, _, ns in sent], sorted(ns for _, _, ns in sent),
                    "the ventilator's stamps in order")
        sent_at = {first: ns for first, _, ns in sent}
        for first, _, ns in taken:
            check(before <= sent_at[first] <= ns <= after,
                  f"batch {first}: sent {sent_at[first]}, taken {ns}, "
                  f"run {before}..{after}")


def case_rate():
    """--rate R spaces the batches: the first and last sends of N tasks are
    at least (N - K) / R apart (a lower bound, read from the trace, that a
    slow machine only widens)."""
    with Pipeline("rate") as pipeline:
        sent_path = os.path.join(pipeline.directory, "sent.trace")
        sink, _, _ = run_job(pipeline, ["--count", "400", "--batch", "4", "--rate", "2000",
                                        "--trace", sent_path])
        _, summary = sink_output(sink)
        check_complete(summary, range(1, 401), workers=1)
        stamps = [ns for _, _, ns in read_trace(sent_path)]
        check_equal(len(stamps), 100, "batches sent")
        check(stamps[-1] - stamps[0] >= (400 - 4) / 2000 * 1e9 * 0.999,
              f"400 tasks at 2000/s sent in {(stamps[-1] - stamps[0]) / 1e6:.1f} ms")


ROLE_FLAGS = {"sink": QUIET_JSON, "ventilator": ["--count", "1000", "--min-workers", "2"]}


def start_order(order):
    """Starts the three roles in the given order, each one observably up
    before the next starts."""
    with Pipeline("order") as pipeline:
        sink = ventilator = None
        workers = []
        for position, role in enumerate(order):
            if role == "sink":
                sink = pipeline.sink(ROLE_FLAGS["sink"])
                pipeline.wait_bound(pipeline.results, sink)
                pipeline.wait_bound(pipeline.control, sink)
            elif role == "ventilator":
                ventilator = pipeline.ventilator(ROLE_FLAGS["ventilator"])
                pipeline.wait_bound(pipeline.tasks, ventilator)
            else:
                workers = [pipeline.worker(), pipeline.worker()]
                if position < 2:
                    #  Deliberate staggering: a connecting worker shows nothing
                    #  from outside, so give it a moment to be up and retrying
                    #  before the next role starts. The test is about order.
                    time.sleep(0.3)
        finish(pipeline, [ventilator] + workers + [sink])
        _, summary = sink_output(sink)
        #  Both workers were connected (the gate waits for two), but a small
        #  job need not reach both: only the totals are exact.
        check_complete(summary, range(1, 1001))
        check_worker_logs(workers, summary["workers"])


ORDERS = {
    "order_sink_workers_ventilator": ("sink", "workers", "ventilator"),
    "order_sink_ventilator_workers": ("sink", "ventilator", "workers"),
    "order_workers_sink_ventilator": ("workers", "sink", "ventilator"),
    "order_workers_ventilator_sink": ("workers", "ventilator", "sink"),
    "order_ventilator_sink_workers": ("ventilator", "sink", "workers"),
    "order_ventilator_workers_sink": ("ventilator", "workers", "sink"),
}


def case_human_summary():
    """The human summary on stderr says what the JSON one does, its counts
    grouped ("12,345 of 12,345 tasks", README "Output"), the job id and the
    sum of squares plain."""
    count = 12345
    with Pipeline("human_summary") as pipeline:
        sink, _, _ = run_job(pipeline, ["--count", str(count), "--batch", "100"], workers=2,
                             worker_args=lambda index: ["--id", f"w{index}"])
        _, summary = sink_output(sink)
        check_complete(summary, range(1, count + 1))
        check(f": job {summary['job']} complete: 12,345 of 12,345 tasks, 0 duplicates, "
              "0 malformed, 0 refused, 0 resends (0 tasks asked again)\n" in sink.stderr,
              f"the first line of the human summary is not grouped:\n{sink.stderr}")
        human = human_summary(sink.stderr)
        pairs = {"job": "job", "received": "results", "tasks": "tasks",
                 "duplicates": "duplicates", "malformed": "malformed",
                 "refused": "refused", "resends": "resends",
                 "asked_again": "tasks_requested_again", "workers": "workers"}
        check_equal({key: human[key] for key in pairs},
                    {key: summary[json_key] for key, json_key in pairs.items()},
                    "the human summary against the JSON one")
        check_equal(str(human["sum"]), summary["sum_of_squares"], "the human sum of squares")
        check(re.search(r"^sink: \d+\.\d{3} s, \d{1,3}(,\d{3})* tasks/s$", sink.stderr,
                        re.M), f"the rate line is not grouped:\n{sink.stderr}")


def input_job(values_text, values, use_stdin=False):
    with Pipeline("input") as pipeline:
        if use_stdin:
            arguments, stdin_data = ["--input", "-"], values_text.encode()
        else:
            path = pipeline.path("values.txt")
            with open(path, "w", newline="") as file:
                file.write(values_text)
            arguments, stdin_data = ["--input", path], None
        sink, workers, _ = run_job(pipeline, arguments, workers=2, sink_args=["--json"],
                                   stdin_data=stdin_data)
        lines, summary = sink_output(sink)
        check_equal(parse_result_lines(lines), collections.Counter(values),
                    "the sink's result lines (value -> times printed)")
        check_equal(len(lines), len(values), "number of result lines")
        check_complete(summary, values)
        check_sink_human_summary(sink, values)
        check_worker_logs(workers, summary["workers"])


def negative_values():
    values = [-value for value in range(1, 301)]
    values += [-3037000499, -3037000500, -(2 ** 31), -(2 ** 32) - 1, -(2 ** 62),
               -(10 ** 18), INT64_MIN + 1, INT64_MIN]
    return values


def case_input_negative():
    values = negative_values()
    input_job("".join(f"{value}\n" for value in values), values)


#  INT64_MIN, INT64_MAX, zero, -1, blank and white-space-only lines, padding,
#  a tab, a plus sign, a CRLF line end, "-0", and no newline at the very end.
MIXED_TEXT = (f"{INT64_MIN}\n{INT64_MAX}\n0\n-1\n\n   \n  42  \n\t-17\t\n+7\n5\r\n\n"
              f"{INT64_MAX - 1}\n-0\n{INT64_MIN + 1}\n123")
MIXED_VALUES = [INT64_MIN, INT64_MAX, 0, -1, 42, -17, 7, 5, INT64_MAX - 1, 0,
                INT64_MIN + 1, 123]


def case_input_mixed():
    input_job(MIXED_TEXT, MIXED_VALUES)


def case_input_stdin():
    input_job(MIXED_TEXT, MIXED_VALUES, use_stdin=True)


def case_print_all():
    with Pipeline("print_all") as pipeline:
        sink, workers, _ = run_job(pipeline, ["--start", "-5000", "--count", "10000"],
                                   workers=2, sink_args=[])
        lines, _ = sink_output(sink, json_summary=False)
        check_equal(len(lines), 10000, "number of stdout lines")
        values = range(-5000, 5000)
        check_equal(parse_result_lines(lines), collections.Counter(values),
                    "the sink's result lines (value -> times printed)")
        check_sink_human_summary(sink, values)


def case_json_only():
    with Pipeline("json_only") as pipeline:
        sink, _, _ = run_job(pipeline, ["--count", "1000"])
        text = sink.stdout
        check(text.endswith("\n") and text.count("\n") == 1,
              f"with --quiet --json stdout must be exactly one line, got {text!r}")
        _, summary = sink_output(sink)
        check_complete(summary, range(1, 1001), workers=1)
        check(isinstance(summary["seconds"], (int, float)) and summary["seconds"] >= 0,
              f"JSON seconds: {summary['seconds']!r}")
        check(isinstance(summary["tasks_per_s"], (int, float))
              and summary["tasks_per_s"] >= 0,
              f"JSON tasks_per_s: {summary['tasks_per_s']!r}")


def case_duplicate_ids():
    """Two workers under one id: the sink adds them up under that id."""
    with Pipeline("duplicate_ids") as pipeline:
        #  Short credit (two batches each) and a little time per task make
        #  sure that both twins get work.
        sink, workers, _ = run_job(
            pipeline, ["--count", "2000", "--batch", "10", "--min-workers", "2"], workers=2,
            worker_args=lambda index: ["--id", "twin", "--prefetch", "20",
                                       "--task-delay-us", "200"])
        text = sink.stdout
        check(text.count("\n") == 1, f"stdout is not exactly one line: {text!r}")
        _, summary = sink_output(sink)
        check_complete(summary, range(1, 2001), workers=1)
        check_equal(summary["workers"], {"twin": 2000}, "JSON workers")
        squared = []
        for worker in workers:
            found = worker.wait_for_line(
                "stderr", r"^worker: twin: job \d+ complete; squared (\d+) tasks$", 1)
            squared.append(int(found.group(1)))
        check(all(count > 0 for count in squared),
              f"with --min-workers 2 both workers should get tasks: {squared}")
        check_equal(sum(squared), 2000, "tasks squared by the two twins")


def case_late_worker():
    """A worker that joins a running job gets a share of it."""
    with Pipeline("late_worker") as pipeline:
        count = 20000
        sink = pipeline.sink(QUIET_JSON)
        slow = pipeline.worker(["--id", "slow", "--task-delay-us", "200"])
        ventilator = pipeline.ventilator(["--count", str(count), "--batch", "10",
                                          "--min-workers", "1"])
        started = job_started(ventilator, JOB_TIMEOUT)
        check_equal((started.count, started.batch), (count, 10), "job started (tasks, batch)")
        check(sink.running(), "the sink ended before the late worker joined")
        late = pipeline.worker(["--id", "late"])
        finish(pipeline, [ventilator, slow, late, sink])
        _, summary = sink_output(sink)
        check_complete(summary, range(1, count + 1), workers=2)
        check(summary["workers"].get("late", 0) > 0,
              f"the late worker delivered nothing: {summary['workers']}")
        check_worker_logs([slow, late], summary["workers"])


def case_worker_killed():
    """A worker killed outright loses the tasks it holds: the sink asks for
    them again (RESEND) and the job still completes, each result once."""
    with Pipeline("worker_killed") as pipeline:
        count = 5000
        sink = pipeline.sink(QUIET_JSON)
        #  A tenth of a second per task: once it sleeps, it holds a batch.
        doomed = pipeline.worker(["--id", "doomed", "--task-delay-us", "100000"])
        ventilator = pipeline.ventilator(["--count", str(count), "--batch", "10",
                                          "--min-workers", "1"])
        job_started(ventilator, JOB_TIMEOUT)
        wait_until_sleeping(doomed, JOB_TIMEOUT)
        steady = pipeline.worker(["--id", "steady"])
        doomed.popen.kill()
        check_equal(doomed.wait(10), -signal.SIGKILL, "the doomed worker's end")
        finish(pipeline, [ventilator, steady, sink])
        _, summary = sink_output(sink)
        check_complete(summary, range(1, count + 1))
        check(summary["workers"].get("steady", 0) > 0,
              f"the steady worker delivered nothing: {summary['workers']}")
        check(summary.get("resends", 0) >= 1 and summary.get("tasks_requested_again", 0) >= 10,
              "the doomed worker's batch came back without a RESEND: resends "
              f"{summary.get('resends')}, tasks asked again "
              f"{summary.get('tasks_requested_again')}")


def case_tcp():
    with Pipeline("tcp") as pipeline:
        ports = set()
        while len(ports) < 3:
            ports.add(free_tcp_port())
        tasks, results, control = (f"tcp://127.0.0.1:{port}" for port in sorted(ports))
        flags = ["--tasks", tasks, "--results", results, "--control", control]
        sink = pipeline.sink(flags + QUIET_JSON, endpoints=False)
        workers = [pipeline.worker(flags, endpoints=False) for _ in range(2)]
        ventilator = pipeline.ventilator(flags + ["--count", "5000", "--min-workers", "2"],
                                         endpoints=False)
        finish(pipeline, [ventilator] + workers + [sink])
        _, summary = sink_output(sink)
        check_complete(summary, range(1, 5001))
        check_worker_logs(workers, summary["workers"])


#  Configuration by environment

def endpoint_environment(pipeline):
    return {"DIVVY_TASKS": pipeline.tasks, "DIVVY_RESULTS": pipeline.results,
            "DIVVY_CONTROL": pipeline.control}


def case_env_vars():
    """Everything set by DIVVY_* variables only, no flags at all."""
    with Pipeline("env_vars") as pipeline:
        endpoints = endpoint_environment(pipeline)
        sink = pipeline.sink(endpoints=False,
                             env=dict(endpoints, DIVVY_QUIET="1", DIVVY_JSON="true"))
        pipeline.wait_bound(pipeline.control, sink)
        ventilator = pipeline.ventilator(
            endpoints=False,
            env=dict(endpoints, DIVVY_COUNT="500", DIVVY_START="-100", DIVVY_BATCH="7",
                     DIVVY_MIN_WORKERS="2", DIVVY_JOB="777"))
        first = pipeline.worker(endpoints=False, env=dict(endpoints, DIVVY_ID="env-one"))
        #  The ventilator reports what it waits for every few seconds: one
        #  worker of the two that DIVVY_MIN_WORKERS asks for.
        ventilator.wait_for_line(
            "stderr", r"^ventilator: waiting: sink heard on \S+ \(--control\); 1 of 2 workers connected on \S+ \(--tasks\)$",
            JOB_TIMEOUT)
        check(not re.search(r"gathering", sink.stderr),
              f"the job started with one worker of two:\n{sink.stderr}")
        second = pipeline.worker(endpoints=False, env=dict(endpoints, DIVVY_ID="env-two"))
        finish(pipeline, [ventilator, first, second, sink])
        started = job_started(ventilator, 1)
        check_equal((started.job, started.count, started.batch), ("777", 500, 7),
                    "job started (DIVVY_JOB, DIVVY_COUNT, DIVVY_BATCH)")
        check(started.workers is None or started.workers >= 2,
              f"DIVVY_MIN_WORKERS=2, the job started with {started.workers} workers")
        check(sink.stdout.count("\n") == 1,
              f"DIVVY_QUIET=1: stdout should be the JSON line only: {sink.stdout[:500]!r}")
        _, summary = sink_output(sink)
        check_equal(summary["job"], "777", "JSON job (DIVVY_JOB)")
        check_complete(summary, range(-100, 400), workers=2)
        check_equal(set(summary["workers"]), {"env-one", "env-two"}, "worker ids (DIVVY_ID)")


def case_env_flag_wins():
    """Every variable set to something else: the flags must win."""
    with Pipeline("env_flag_wins") as pipeline:
        wrong = {"DIVVY_TASKS": f"ipc://{pipeline.path('wrong-tasks')}",
                 "DIVVY_RESULTS": f"ipc://{pipeline.path('wrong-results')}",
                 "DIVVY_CONTROL": f"ipc://{pipeline.path('wrong-control')}"}
        sink = pipeline.sink(QUIET_JSON + ["--linger", "500"],
                             env=dict(wrong, DIVVY_QUIET="0", DIVVY_JSON="no",
                                      DIVVY_LINGER="600000"))
        worker = pipeline.worker(["--id", "flag-id"], env=dict(wrong, DIVVY_ID="env-id"))
        ventilator = pipeline.ventilator(
            ["--count", "20", "--batch", "3", "--job", "222", "--min-workers", "1"],
            env=dict(wrong, DIVVY_COUNT="500", DIVVY_BATCH="7", DIVVY_JOB="111",
                     DIVVY_MIN_WORKERS="5"))
        finish(pipeline, [ventilator, worker, sink])
        started = job_started(ventilator, 1)
        check_equal((started.job, started.count, started.batch), ("222", 20, 3),
                    "job started (--job, --count, --batch)")
        check(sink.stdout.count("\n") == 1,
              f"--quiet --json must win over DIVVY_QUIET=0: {sink.stdout[:500]!r}")
        _, summary = sink_output(sink)
        check_equal(summary["job"], "222", "JSON job")
        check_complete(summary, range(1, 21), workers=1)
        check_equal(summary["workers"], {"flag-id": 20}, "JSON workers")
        left = sorted(name for name in os.listdir(pipeline.directory)
                      if name.startswith("wrong-"))
        check_equal(left, [], "files from the overridden DIVVY_* endpoints")


def case_help_version():
    options = {
        "ventilator": ["tasks", "results", "control", "count", "start", "input", "batch",
                       "min-workers", "job", "window", "peer-timeout"],
        "worker": ["tasks", "results", "control", "id", "task-delay-us", "prefetch",
                   "peer-timeout"],
        "sink": ["tasks", "results", "control", "quiet", "json", "linger", "resend-after",
                 "max-tasks"],
    }
    versions = set()
    with Pipeline("help_version") as pipeline:
        for role, names in options.items():
            helper = pipeline.start(role, ["--help"], endpoints=False)
            helper.expect_exit(0, USAGE_TIMEOUT)
            check_equal(helper.stderr, "", f"{role} --help stderr")
            text = helper.stdout
            for name in names:
                variable = "DIVVY_" + name.upper().replace("-", "_")
                check(re.search(rf"^\s+--{name}\b", text, re.M),
                      f"{role} --help does not list --{name}:\n{text}")
                check(variable in text, f"{role} --help does not name {variable}:\n{text}")
            listed = re.findall(r"^\s+--([a-z][a-z0-9-]*)", text, re.M)
            for name in listed:
                if name in ("help", "version"):
                    continue
                variable = "DIVVY_" + name.upper().replace("-", "_")
                check(variable in text,
                      f"{role} --help lists --{name} without its variable {variable}")
            for must in ("--help", "--version", "Exit status", "130", "143"):
                check(must in text, f"{role} --help does not mention {must!r}:\n{text}")
            for code in ("0", "1", "2"):
                check(re.search(rf"^\s+{code}\s", text, re.M),
                      f"{role} --help does not explain exit code {code}:\n{text}")

            version = pipeline.start(role, ["--version"], endpoints=False)
            version.expect_exit(0, USAGE_TIMEOUT)
            check_equal(version.stderr, "", f"{role} --version stderr")
            lines = version.lines("stdout")
            #  The first line names the program and the version (help2man reads
            #  it); the second the protocol and libraries (test_command.py).
            check(len(lines) == 2, f"{role} --version: expected two lines, got {lines}")
            found = re.search(r"\b(\d+\.\d+(?:\.\d+)?)\b", lines[0])
            check(found and role in lines[0],
                  f"{role} --version does not show its name and a version: {lines[0]!r}")
            versions.add(found.group(1))
        check_equal(len(versions), 1, f"programs disagree on the version {versions}")


#  Signals

def stopping_lines(process):
    return [line for line in process.lines("stderr") if line.endswith("stopping")]


def check_stopped(process, number):
    """process exits 128 + number within the limit and says so in one line."""
    code = process.wait(10)
    check_equal(code, 128 + number,
                f"{process.name}'s exit code after {signal.Signals(number).name}")
    elapsed = process.seconds_since_signal()
    check(elapsed < SIGNAL_EXIT_LIMIT_S,
          f"{process.name} took {elapsed:.2f} s to exit after "
          f"{signal.Signals(number).name} (limit {SIGNAL_EXIT_LIMIT_S} s)")
    lines = stopping_lines(process)
    check(len(lines) == 1 and "interrupted" in lines[0],
          f"{process.name}: expected one 'interrupted ... stopping' line, got {lines}")
    check_equal(process.lines("stderr")[-1], lines[0],
                f"{process.name}: the last stderr line")
    check_clean_stderr(process)
    print(f"{process.name}: exit {code} {elapsed:.3f} s after "
          f"{signal.Signals(number).name}")


def check_interrupted_sink(sink):
    """An interrupted sink prints what it has and an incomplete summary."""
    lines, summary = sink_output(sink)
    values = parse_result_lines(lines)
    check_equal(summary["complete"], False, "JSON complete after a signal")
    check_equal(summary["verified"], None, "JSON verified after a signal")
    check_equal(summary["tasks"], 1000000, "JSON tasks")
    check_equal(summary["results"], len(lines), "JSON results vs. lines printed")
    check(max(values.values(), default=1) == 1, "a value was printed twice")
    total = sum(value * value * times for value, times in values.items())
    check_equal(summary["sum_of_squares"], str(total), "JSON sum of the printed squares")
    check_equal(sum(summary["workers"].values()), len(lines), "sum of the worker counts")
    human = human_summary(sink.stderr)
    check_equal((human["outcome"], human["received"], human["tasks"]),
                ("interrupted", summary["results"], 1000000),
                "the human summary: outcome, received, of tasks")
    check_equal(human["verdict"], "not verified: job incomplete", "the human verdict")


def signal_case(target, number):
    """A long job; signal one role mid-job, then stop the others by SIGTERM."""
    with Pipeline("signal") as pipeline:
        #  Result lines on stdout (no --quiet) show the job is under way:
        #  the sink writes them in blocks, and big values make a block fill
        #  after a few tens of thousands of results.
        sink = pipeline.sink(["--json"])
        pipeline.wait_bound(pipeline.control, sink)
        workers = [pipeline.worker(["--id", f"w{index}", "--task-delay-us", "100"])
                   for index in (1, 2)]
        ventilator = pipeline.ventilator(["--count", "1000000", "--start", str(10 ** 15),
                                          "--batch", "100", "--min-workers", "2"])
        check_equal(job_started(ventilator, JOB_TIMEOUT).batch, 100, "batch size")
        sink.wait_for_line("stdout", r"^\d+ \d+$", JOB_TIMEOUT)
        roles = {"sink": sink, "worker": workers[0], "ventilator": ventilator}
        victim = roles[target]
        check(all(process.running() for process in [sink, ventilator] + workers),
              "a process ended before the signal")
        victim.send_signal(number)
        check_stopped(victim, number)
        for process in [ventilator] + workers + [sink]:
            if process is victim:
                continue
            process.send_signal(signal.SIGTERM)
            check_stopped(process, signal.SIGTERM)
        check_interrupted_sink(sink)
        if target == "worker":
            found = workers[0].wait_for_line(
                "stderr", r"^worker: w1: interrupted after (\d+) tasks: stopping$", 1)
            check(int(found.group(1)) > 0, "worker w1 had squared nothing")
        check_no_socket_files(pipeline)


#  Bad options and input: exit 2 (or 1 for a runtime failure), one line on
#  stderr naming the problem, nothing on stdout, and nothing sent.

def ventilator_sends_nothing(args, keywords, env=None, code=2, prepare=None):
    """A bad ventilator run next to a live sink and worker: it must exit with
    code before binding or sending anything; then a good job through the same
    sink proves the sink saw nothing before it."""
    with Pipeline("bad") as pipeline:
        sink = pipeline.sink(["--json", "--linger", "300"])
        pipeline.wait_bound(pipeline.control, sink)
        worker = pipeline.worker(["--id", "witness"])
        if prepare:
            args, keywords = prepare(pipeline, args, keywords)
        bad = pipeline.ventilator(args, env=env)
        bad.expect_exit(code, USAGE_TIMEOUT)
        check_one_line(bad, keywords)
        check_clean_stderr(bad)
        check("tasks" not in pipeline.socket_files(),
              "the bad ventilator left its task socket file")
        check(sink.running() and worker.running(), "the sink or worker ended")
        check(not re.search(r"gathering", sink.stderr),
              f"the sink took a job from the bad ventilator:\n{sink.stderr}")
        #  The sink takes the first job it hears of: it must be this one.
        good = pipeline.ventilator(["--count", "3", "--job", "4242"])
        finish(pipeline, [good, worker, sink])
        lines, summary = sink_output(sink)
        check_equal(lines, ["1 1", "2 4", "3 9"], "the sink's result lines")
        check_equal(summary["job"], "4242", "the job the sink ran")
        check_complete(summary, [1, 2, 3], workers=1)
        check_equal(len(re.findall(r"gathering", sink.stderr)), 1,
                    "jobs the sink started")


def simple_bad(role, args, keywords, code=2, env=None):
    """A bad run of a worker or sink: exit code, one line, nothing bound."""
    with Pipeline("bad") as pipeline:
        bad = pipeline.start(role, args, env=env)
        bad.expect_exit(code, USAGE_TIMEOUT)
        check_one_line(bad, keywords)
        check_clean_stderr(bad)
        check_no_socket_files(pipeline)


def input_file(text):
    def prepare(pipeline, args, keywords):
        path = pipeline.path("values.txt")
        if text is not None:
            with open(path, "w") as file:
                file.write(text)
        return (args + ["--input", path],
                [keyword.replace("FILE", path) for keyword in keywords])
    return prepare


BAD_VENTILATOR = {
    "bad_count_negative": (["--count", "-5"], ["--count", "-5"], {}),
    "bad_count_zero": (["--count", "0"], ["--count", "0"], {}),
    "bad_batch_zero": (["--batch", "0"], ["--batch", "0"], {}),
    "bad_batch_big": (["--batch", "70000"], ["--batch", "70000"], {}),
    "bad_min_workers": (["--min-workers", "0"], ["--min-workers"], {}),
    "bad_job_zero": (["--job", "0"], ["--job", "'0'"], {}),
    "bad_job_text": (["--job", "xyz"], ["--job", "xyz"], {}),
    "bad_endpoint": (["--tasks", "foo://bar"], ["--tasks", "foo://bar"], {}),
    "bad_env_count": ([], ["--count", "DIVVY_COUNT", "-1"], {"env": {"DIVVY_COUNT": "-1"}}),
    "bad_rate_negative": (["--rate", "-1"], ["--rate", "-1"], {}),
    "bad_trace": (["--trace", "/nonexistent-dir/sent.trace"],
                  ["--trace", "/nonexistent-dir/sent.trace", "No such file"], {}),
    "bad_input_not_integer": ([], ["FILE:3", "not an integer", "abc"],
                              {"prepare": input_file("1\n2\nabc\n4\n")}),
    "bad_input_out_of_range": ([], ["FILE:2", "9223372036854775808", "range"],
                               {"prepare": input_file("1\n9223372036854775808\n3\n")}),
    "bad_input_missing": ([], ["FILE", "No such file"], {"prepare": input_file(None)}),
    "bad_input_empty": ([], ["FILE", "no integers"], {"prepare": input_file("")}),
}


def bad_everywhere(args, keywords):
    """The same bad argument to every program."""
    ventilator_sends_nothing(args, keywords)
    for role in ("worker", "sink"):
        simple_bad(role, args, keywords)


def case_port_in_use():
    with Pipeline("port_in_use") as pipeline, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        sink = pipeline.sink(["--results", f"tcp://127.0.0.1:{port}"])
        sink.expect_exit(1, USAGE_TIMEOUT)
        check_one_line(sink, ["--results", str(port), "in use"])
        check_clean_stderr(sink)
        check_no_socket_files(pipeline)


#  Endpoints: a malformed tcp endpoint is a usage error (2) on every program and
#  flow, before anything is bound or sent; a busy ipc path is a runtime error (1).

#  The flows each program opens (the sink accepts --tasks but never opens it).
FLOWS = {"ventilator": ("tasks", "results", "control"),
         "worker": ("tasks", "results", "control"), "sink": ("results", "control")}


def bad_endpoint_everywhere(endpoints):
    """Each endpoint, given to each flow option of each program, exits 2 with
    one line naming the option and the endpoint."""
    for endpoint in endpoints:
        for role, flows in FLOWS.items():
            for flow in flows:
                simple_bad(role, [f"--{flow}", endpoint], [f"--{flow}", f"'{endpoint}'"])


def case_bad_port_range():
    #  Unchecked, libzmq keeps the port modulo 65536 (87093 binds 21557, -1
    #  binds 65535) and connects to port 0 forever. '*' is the ephemeral port.
    bad_endpoint_everywhere([f"tcp://127.0.0.1:{port}" for port in
                             ("87093", "0", "65536", "-1", "99999999999999999999")])
    ventilator_sends_nothing(["--results", "tcp://127.0.0.1:65536"],
                             ["--results", "65536"])


def case_bad_address():
    bad_endpoint_everywhere(["tcp://256.1.1.1:5558", "tcp://1.2.3:5558", "tcp://:5558",
                             "tcp://1.2.3.4.5:5558", "tcp://127.0.0.1:5558x",
                             "tcp://[1::2::3]:5558", "tcp://[::1:5558"])
    ventilator_sends_nothing(["--control", "tcp://256.1.1.1:5559"],
                             ["--control", "256.1.1.1"])


def case_ipc_in_use():
    """A second binder of a live ipc path is refused and leaves the first
    one's socket files alone; the first then runs a job exactly."""
    with Pipeline("ipc_in_use") as pipeline:
        sink = pipeline.sink(QUIET_JSON)
        pipeline.wait_bound(pipeline.results, sink)
        pipeline.wait_bound(pipeline.control, sink)
        second = pipeline.sink(QUIET_JSON, name="second_sink")
        second.expect_exit(1, USAGE_TIMEOUT)
        check_one_line(second, ["--results", pipeline.results, "already in use"])
        check_clean_stderr(second)
        ventilator = pipeline.ventilator(["--count", "50"])
        pipeline.wait_bound(pipeline.tasks, ventilator)
        rival = pipeline.ventilator(["--count", "7"], name="second_ventilator")
        rival.expect_exit(1, USAGE_TIMEOUT)
        check_one_line(rival, ["--tasks", pipeline.tasks, "already in use"])
        check_clean_stderr(rival)
        check_equal(pipeline.socket_files(), ["control", "results", "tasks"],
                    "socket files after the refused binds")
        worker = pipeline.worker()
        finish(pipeline, [ventilator, worker, sink])
        _, summary = sink_output(sink)
        check_complete(summary, range(1, 51), workers=1)


def case_ipc_stale():
    """A socket file without a listener (a binder killed with SIGKILL leaves
    one) is replaced, and a job runs through it."""
    with Pipeline("ipc_stale") as pipeline:
        for name in ("results", "control"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
                stale.bind(pipeline.path(name))
        check_equal(pipeline.socket_files(), ["control", "results"], "stale files")
        run_job(pipeline, ["--count", "20"])


def case_bad_input_with_count():
    """--input and --count (or --start), from flags or DIVVY_*: one would be
    ignored, so the pair is refused (also when the value is the default)."""
    keywords = ["--input", "--count", "cannot be used together"]
    ventilator_sends_nothing(["--count", "5"], keywords, prepare=input_file("1\n2\n"))
    ventilator_sends_nothing([], keywords, env={"DIVVY_COUNT": "5"},
                             prepare=input_file("1\n2\n"))
    ventilator_sends_nothing(["--count", "100"], keywords, prepare=input_file("1\n2\n"))
    start_keywords = ["--input", "--start", "cannot be used together"]
    ventilator_sends_nothing(["--start", "1"], start_keywords, prepare=input_file("1\n2\n"))
    ventilator_sends_nothing([], start_keywords, env={"DIVVY_START": "-7"},
                             prepare=input_file("1\n2\n"))


CASES = {
    "one_task": case_one_task,
    "million": case_million,
    "input_negative": case_input_negative,
    "input_mixed": case_input_mixed,
    "input_stdin": case_input_stdin,
    "print_all": case_print_all,
    "human_summary": case_human_summary,
    "json_only": case_json_only,
    "duplicate_ids": case_duplicate_ids,
    "late_worker": case_late_worker,
    "worker_killed": case_worker_killed,
    "tcp": case_tcp,
    "trace": case_trace,
    "rate": case_rate,
    "env_vars": case_env_vars,
    "env_flag_wins": case_env_flag_wins,
    "help_version": case_help_version,
    "sigterm_sink": lambda: signal_case("sink", signal.SIGTERM),
    "sigterm_worker": lambda: signal_case("worker", signal.SIGTERM),
    "sigterm_ventilator": lambda: signal_case("ventilator", signal.SIGTERM),
    "sigint_sink": lambda: signal_case("sink", signal.SIGINT),
    "bad_unknown_option": lambda: bad_everywhere(["--bogus"], ["--bogus"]),
    "bad_positional": lambda: bad_everywhere(["extra"], ["extra"]),
    "bad_worker_id": lambda: simple_bad("worker", ["--id", "has space"],
                                        ["--id", "has space"]),
    "bad_sink_linger": lambda: simple_bad("sink", ["--linger", "-1"], ["--linger", "-1"]),
    "bad_sink_trace": lambda: simple_bad("sink", ["--trace", "/nonexistent-dir/taken.trace"],
                                         ["--trace", "/nonexistent-dir/taken.trace",
                                          "No such file"]),
    "port_in_use": case_port_in_use,
    "bad_port_range": case_bad_port_range,
    "bad_address": case_bad_address,
    "ipc_in_use": case_ipc_in_use,
    "ipc_stale": case_ipc_stale,
    "bad_input_with_count": case_bad_input_with_count,
    "bad_worker_id_equals": lambda: simple_bad("worker", ["--id", "a=b"], ["--id", "a=b"]),
}
for _name, _order in ORDERS.items():
    CASES[_name] = lambda order=_order: start_order(order)
for _name, (_args, _keywords, _extra) in BAD_VENTILATOR.items():
    CASES[_name] = (lambda args=_args, keywords=_keywords, extra=_extra:
                    ventilator_sends_nothing(args, keywords, **extra))


if __name__ == "__main__":
    sys.exit(main(CASES))
