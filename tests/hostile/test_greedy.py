#!/usr/bin/env python3
"""test_greedy.py CASE: greedy fake workers must not stall a job.

A fake (divvy-greedy, built next to this script) connects to the
ventilator's task socket like a worker, asks for the most credit a WANT may
carry (65536 batches), restates it every 0.5 s and never does the work: it
drops every batch, or answers each with wrong squares (the sink drops those
as malformed). Fakes connect before the job starts and are counted by
--min-workers, as any worker that asked for credit is: the ventilator cannot
tell a fake from a worker before its results fail to arrive.

Each case runs a 2,000,000-task job on two real workers without fakes and
with them, interleaved, several times, and checks that every run is exact
(each value's line printed once, the sum of squares verified), that the
fakes stopped by themselves on the job's KILL, and that the job with fakes
took at most RATIO_LIMIT times as long as without (the best run of each:
the machine is shared). The figures line gives every run's seconds.

Exit 0: pass; 1: fail; 77: skip. Run by hand with DIVVY_TEST_BUILD_DIR=<build
dir> (absolute); `--list` and `--check-cases` as in test_faults.py.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import (  # noqa: E402
    Pipeline, Process, TestFailure, check, check_no_socket_files, clean_environment,
    main, scaled)
from test_faults import (  # noqa: E402
    JOB_TIMEOUT, check_exact, figures, finish, parse_summary, start)

COUNT = 2000000
#  The ventilator's own choice for this job with two or more workers (N/(16 x
#  workers), at most 1024), given so that every run has the same batches.
BATCH = 1024
REAL_WORKERS = 2
#  The bound: a job with fakes takes at most this many times as long
#  as without them. A behaviour bound, not a speed benchmark.
RATIO_LIMIT = 3.0
#  Runs of each configuration, interleaved; the best of each is compared.
ROUNDS = 3
#  A fake gives up after this (it should hear the job's KILL long before).
FAKE_SECONDS = 60

GREEDY_LINE = re.compile(r"^greedy (\S+) batches (\d+) tasks (\d+) wants (\d+) "
                         r"results (\d+) ended (kill|time)$")


def greedy_binary():
    path = os.environ.get("DIVVY_TEST_GREEDY")
    if not path:
        build = os.environ.get("DIVVY_TEST_BUILD_DIR")
        if not build:
            raise TestFailure("DIVVY_TEST_GREEDY (or DIVVY_TEST_BUILD_DIR) is not set: "
                              "run through 'meson test' or set it")
        path = os.path.join(build, "tests", "hostile", "divvy-greedy")
    if not os.access(path, os.X_OK):
        raise TestFailure(f"divvy-greedy binary {path} is not an executable")
    return path


def start_greedy(pipeline, index, wrong):
    name = f"greedy{index}"
    argv = [greedy_binary(), "--tasks", pipeline.tasks, "--control", pipeline.control,
            "--id", name, "--seconds", int(scaled(FAKE_SECONDS))]
    if wrong:
        argv += ["--results", pipeline.results]
    process = Process("greedy", name, [str(arg) for arg in argv], clean_environment(),
                      cwd=pipeline.directory)
    pipeline.processes.append(process)
    return process


def greedy_figures(fake):
    """What a fake took and sent, from its exit line."""
    found = [GREEDY_LINE.match(line) for line in fake.lines("stdout")]
    found = [match for match in found if match]
    check(len(found) == 1, f"{fake.name}: no exit line on stdout: {fake.stdout!r}")
    match = found[0]
    check(match.group(6) == "kill",
          f"{fake.name} gave up after {FAKE_SECONDS} s without hearing the job end")
    return {"batches": int(match.group(2)), "tasks": int(match.group(3)),
            "wants": int(match.group(4)), "results": int(match.group(5))}


def greedy_job(name, fakes=0, wrong=False):
    """One job of COUNT tasks on REAL_WORKERS workers and fakes greedy fakes
    (answering with wrong squares when wrong). Returns the sink's JSON summary
    and each fake's figures."""
    values = range(1, COUNT + 1)
    with Pipeline(name) as pipeline:
        sink = start(pipeline, "sink", ["--json"])
        #  The fakes first: they have asked for credit before the job starts.
        greedy = [start_greedy(pipeline, index, wrong) for index in range(1, fakes + 1)]
        workers = [start(pipeline, "worker", ["--id", f"w{index}"], name=f"worker{index}")
                   for index in range(1, REAL_WORKERS + 1)]
        ventilator = start(pipeline, "ventilator",
                           ["--count", COUNT, "--batch", BATCH,
                            "--min-workers", REAL_WORKERS + fakes])
        finish([sink, ventilator] + workers)
        for fake in greedy:
            fake.wait(JOB_TIMEOUT)
        taken = [greedy_figures(fake) for fake in greedy]
        lines = sink.lines("stdout")
        check(lines, "the sink printed nothing on stdout")
        summary = parse_summary(lines[-1])
        #  Each wrong answer that came before the job's end is one malformed
        #  message; those sent after it are never read.
        sent = sum(fake["results"] for fake in taken)
        check(summary["malformed"] <= sent,
              f"{summary['malformed']} malformed messages, but the fakes sent only "
              f"{sent} and nobody else sends any")
        if wrong:
            check(summary["malformed"] >= 1, "no wrong answer reached the sink: the "
                  "case does not test what it is for")
        check_exact(sink, values, malformed=summary["malformed"])
        check_no_socket_files(pipeline)
        return summary, taken


def greedy_case(case, fakes, wrong=False):
    runs = {"alone": [], "fakes": []}
    for round_ in range(1, ROUNDS + 1):
        runs["alone"].append(greedy_job(f"{case}_alone_{round_}"))
        runs["fakes"].append(greedy_job(f"{case}_fakes_{round_}", fakes, wrong))
    alone = min(summary["seconds"] for summary, _ in runs["alone"])
    mixed = min(summary["seconds"] for summary, _ in runs["fakes"])
    ratio = mixed / alone
    figures(case, fakes=fakes, wrong_squares=wrong,
            alone_s=[f"{summary['seconds']:.3f}" for summary, _ in runs["alone"]],
            with_fakes_s=[f"{summary['seconds']:.3f}" for summary, _ in runs["fakes"]],
            ratio=f"{ratio:.2f}",
            ratios=[f"{s['seconds'] / alone:.2f}" for s, _ in runs["fakes"]],
            fake_batches=[[fake["batches"] for fake in taken]
                          for _, taken in runs["fakes"]],
            resends=[summary["resends"] for summary, _ in runs["fakes"]],
            tasks_requested_again=[summary["tasks_requested_again"]
                                   for summary, _ in runs["fakes"]],
            duplicates=[summary["duplicates"] for summary, _ in runs["fakes"]],
            malformed=[summary["malformed"] for summary, _ in runs["fakes"]])
    check(ratio <= RATIO_LIMIT,
          f"with {fakes} greedy fake{'s' if fakes > 1 else ''} the job took "
          f"{mixed:.3f} s at best, {ratio:.2f} times the {alone:.3f} s without "
          f"(limit {RATIO_LIMIT})")


#  1. One greedy fake that drops every batch, beside two real workers.

def case_greedy_drops():
    greedy_case("greedy_drops", 1)


#  2. Three of them.

def case_greedy_drops_three():
    greedy_case("greedy_drops_three", 3)


#  3. One that answers every batch with wrong squares: the sink drops each
#  answer as malformed, and the job still completes in bounded time.

def case_greedy_wrong_squares():
    greedy_case("greedy_wrong_squares", 1, wrong=True)


CASES = {
    "greedy_drops": case_greedy_drops,
    "greedy_drops_three": case_greedy_drops_three,
    "greedy_wrong_squares": case_greedy_wrong_squares,
}

if __name__ == "__main__":
    sys.exit(main(CASES))
