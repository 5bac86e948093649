#!/usr/bin/env python3
"""test_lines.py CASE: line jobs end to end (ventilator --lines, worker
--exec / --exec-each, the sink's TASK_ID<TAB>RESULT lines and failed tasks).

Each case runs the real programs on private ipc endpoints and checks every
output line exactly against what the same command gives when run here
serially, line by line; exit codes exactly (5: complete with failed tasks).
Exit 0: pass; 1: fail; 77: skip. `--list`, `--check-cases NAME...` as in
test_pipeline.py.
"""
import collections
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Pipeline, TestFailure, check, check_clean_stderr, check_complete, check_equal,
    check_no_socket_files, check_one_line, main, parse_result_lines, scaled,
    sink_output)

JOB_TIMEOUT = 120
USAGE_TIMEOUT = 15
EXIT_FAILED_TASKS = 5


def write_input(pipeline, name, lines):
    path = pipeline.path(name)
    with open(path, "wb") as file:
        file.write(b"".join(line + b"\n" for line in lines))
    return path


def serial(command, line):
    """What command prints for one line on its stdin, run here: (exit code,
    stdout)."""
    done = subprocess.run(["/bin/sh", "-c", command], input=line + b"\n",
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          timeout=scaled(30))
    return done.returncode, done.stdout


def serial_batch(command, lines):
    """The command over all lines at once, as `CMD < input` would run."""
    done = subprocess.run(["/bin/sh", "-c", command],
                          input=b"".join(line + b"\n" for line in lines),
                          stdout=subprocess.PIPE, timeout=scaled(60))
    check_equal(done.returncode, 0, f"the serial run of {command!r}")
    return done.stdout.split(b"\n")[:-1]


def results_of(sink):
    """The sink's stdout: {task id: result bytes} and the JSON summary;
    each task printed at most once."""
    text = sink.stdout
    lines = text.split("\n")
    check(lines and lines[-1] == "", "the sink's stdout does not end with a newline")
    lines = lines[:-1]
    check(lines, "the sink printed nothing, expected a JSON summary")
    summary = json.loads(lines[-1])
    results = {}
    for number, line in enumerate(lines[:-1], 1):
        task, tab, result = line.partition("\t")
        check(tab and task.isdigit(), f"stdout line {number} is not TASK_ID<TAB>RESULT: "
              f"{line[:200]!r}")
        check(int(task) not in results, f"task {task} printed twice")
        results[int(task)] = result.encode("utf-8")
    return results, summary


def finish(pipeline, processes, sink, sink_code=0, timeout=JOB_TIMEOUT):
    sink.expect_exit(sink_code, timeout)
    for process in processes:
        process.expect_exit(0, timeout)
    for process in processes + [sink]:
        check_clean_stderr(process)
    check_no_socket_files(pipeline)


def check_lines_summary(summary, tasks, failed=0):
    check_equal(summary.get("kind"), "lines", "JSON kind")
    check_equal(summary["complete"], True, "JSON complete")
    check_equal(summary["verified"], None, "JSON verified (a line job is not)")
    check_equal(summary["tasks"], tasks, "JSON tasks")
    check_equal(summary["results"], tasks, "JSON results")
    check_equal(summary["malformed"], 0, "JSON malformed")
    check_equal(summary["failed"], failed, "JSON failed")
    check("sum_of_squares" not in summary, "a line job's summary has a sum of squares")


def run_lines_job(pipeline, lines, worker_args, workers=1, sink_code=0, batch=None,
                  sink_args=("--json",), ventilator_args=()):
    path = write_input(pipeline, "input.txt", lines)
    sink = pipeline.sink(list(sink_args))
    started = [pipeline.worker(list(worker_args)) for _ in range(workers)]
    args = ["--lines", "--input", path, "--min-workers", str(workers)]
    if batch:
        args += ["--batch", str(batch)]
    ventilator = pipeline.ventilator(args + list(ventilator_args))
    finish(pipeline, [ventilator] + started, sink, sink_code)
    return sink, started, ventilator


def words(count, seed=7):
    """count lines of mixed text, deterministic."""
    vocabulary = [b"alpha", b"Bravo", b"charlie", b"delta-9", b"echo's", b"fox trot",
                  b"golf\tclub", b"hotel\\", b"\xc3\xa9t\xc3\xa9", b"", b"x"]
    state = seed
    out = []
    for index in range(count):
        state = (state * 1103515245 + 12345) % (1 << 31)
        first = vocabulary[state % len(vocabulary)]
        second = vocabulary[(state >> 8) % len(vocabulary)]
        out.append(b"%d %s %s" % (index, first, second))
    return out


def check_against_serial(results, lines, command):
    expected = serial_batch(command, lines)
    check_equal(len(expected), len(lines), f"serial {command!r}: lines out")
    check_equal(sorted(results), list(range(len(lines))), "task ids printed")
    for task, line in enumerate(lines):
        if results[task] != expected[task]:
            raise TestFailure(f"task {task} ({line!r}): expected {expected[task]!r}, "
                              f"got {results[task]!r}")


#  Cases

def case_lines_tr_100k():
    """100,000 lines through `tr a-z A-Z` on two workers, each line checked
    against a serial run."""
    with Pipeline("lines_tr_100k") as pipeline:
        lines = words(100000)
        sink, _, _ = run_lines_job(pipeline, lines, ["--exec", "tr a-z A-Z"], workers=2)
        results, summary = results_of(sink)
        check_lines_summary(summary, len(lines))
        check_against_serial(results, lines, "tr a-z A-Z")
        check("verified" not in sink.stderr.replace("not verified", ""),
              f"the human summary says verified: {sink.stderr[-500:]}")


def case_lines_filters():
    """sed, awk and grep as users type them (they block-buffer into a pipe)."""
    lines = [line for line in words(3000) if line]
    for command in ("sed 's/a/A/g; s/ /_/'", "awk '{print $2, NR}'",
                    "awk -F' ' '{ print toupper($1) }'", "grep -v '^$'", "cat"):
        with Pipeline("lines_filters") as pipeline:
            sink, _, _ = run_lines_job(pipeline, lines, ["--exec", command], batch=500)
            results, summary = results_of(sink)
            check_lines_summary(summary, len(lines))
            #  awk's NR counts within a batch: compare batch by batch.
            expected = []
            for start in range(0, len(lines), 500):
                expected += serial_batch(command, lines[start:start + 500])
            for task in range(len(lines)):
                check_equal(results.get(task), expected[task], f"{command!r} task {task}")


def case_lines_grep_fails_others():
    """`grep alpha`: lines without it print nothing and exit 1, so they fail
    with 'exit status 1'; the matching ones are exact; exit 5."""
    with Pipeline("lines_grep") as pipeline:
        lines = words(600)
        sink, _, _ = run_lines_job(pipeline, lines,
                                   ["--exec", "grep alpha", "--retries", "2"],
                                   sink_code=EXIT_FAILED_TASKS, batch=100)
        results, summary = results_of(sink)
        matching = {task for task, line in enumerate(lines) if b"alpha" in line}
        check_lines_summary(summary, len(lines), failed=len(lines) - len(matching))
        check_equal(set(results), matching, "the tasks printed")
        for task in matching:
            check_equal(results[task], lines[task], f"task {task}")
        for entry in summary["failed_tasks"]:
            check(entry["task"] not in matching, f"a matching task failed: {entry}")
            check_equal(entry["reason"], "exit status 1", f"task {entry['task']}'s reason")


FAILING = ("while IFS= read -r line; do case \"$line\" in *X*) "
           "echo \"cannot take: $line\" >&2; exit 1;; esac; "
           "printf '%s\\n' \"$line\" | rev; done")


def case_lines_failing():
    """A command that exits 1 on the lines holding X: those tasks fail with
    its last stderr line as reason (after --retries runs), the rest are
    exact, and the sink exits 5 and says so."""
    with Pipeline("lines_failing") as pipeline:
        lines = [b"%d line%s" % (index, b" X" if index % 37 == 5 else b"")
                 for index in range(1500)]
        bad = {task for task, line in enumerate(lines) if b"X" in line}
        sink, workers, _ = run_lines_job(pipeline, lines,
                                         ["--exec", FAILING, "--retries", "2"],
                                         workers=2, sink_code=EXIT_FAILED_TASKS,
                                         batch=64)
        results, summary = results_of(sink)
        check_lines_summary(summary, len(lines), failed=len(bad))
        check_equal(set(results), set(range(len(lines))) - bad, "tasks printed")
        for task in results:
            check_equal(results[task], lines[task][::-1], f"task {task}")
        check_equal(len(summary["failed_tasks"]), 5, "failed tasks named in JSON")
        for entry in summary["failed_tasks"]:
            check(entry["task"] in bad, f"task {entry['task']} should not fail")
            check_equal(entry["reason"], f"cannot take: {lines[entry['task']].decode()}",
                        "the reason")
        check(f"{len(bad)} tasks failed" in sink.stderr,
              f"the human summary does not count the failures: {sink.stderr[-800:]}")
        check("failed task " in sink.stderr, "the human summary names no failed task")


def case_lines_worker_killed():
    """A worker SIGKILLed while its command holds a batch: the sink asks for
    the batch again, the job completes exactly, nothing printed twice."""
    with Pipeline("lines_worker_killed") as pipeline:
        lines = words(20000)
        path = write_input(pipeline, "input.txt", lines)
        held = pipeline.path("held")
        sink = pipeline.sink(["--json"])
        #  The doomed worker's command says it holds a batch (its shell's
        #  pid, the group to clean up), then waits: it never answers.
        doomed = pipeline.worker(
            ["--id", "doomed", "--exec",
             f"echo $$ > {held}.new && mv {held}.new {held}; exec sleep 60"])
        ventilator = pipeline.ventilator(["--lines", "--input", path, "--batch", "200",
                                          "--min-workers", "1"])
        deadline = time.monotonic() + scaled(30)
        while not os.path.exists(held):
            check(time.monotonic() < deadline, "the doomed worker never held a batch")
            check(doomed.running(), "the doomed worker exited")
            time.sleep(0.01)  # polling for a file the command makes: an event
        with open(held) as file:
            group = int(file.read().strip())
        steady = pipeline.worker(["--id", "steady", "--exec", "tr a-z A-Z"])
        doomed.popen.kill()
        check_equal(doomed.wait(10), -signal.SIGKILL, "the doomed worker's end")
        try:
            os.killpg(group, signal.SIGKILL)  # its orphaned sleep
        except ProcessLookupError:
            pass
        finish(pipeline, [ventilator, steady], sink)
        results, summary = results_of(sink)
        check_lines_summary(summary, len(lines))
        check_against_serial(results, lines, "tr a-z A-Z")
        check_equal(list(summary["workers"]), ["steady"], "workers credited")
        check(summary["resends"] >= 1, "no RESEND brought the held batch back")


def group_alive(group):
    """Whether a process of process group group runs (zombies do not)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] not in "ZX":
            return True
    return False


def case_lines_kill_ends_command():
    """A worker whose command never answers, not killed: the other worker
    does its batch after a RESEND, and the sink's KILL makes the stuck
    worker kill its command (the whole group) and exit 0."""
    with Pipeline("lines_kill_ends_command") as pipeline:
        lines = words(3000)
        path = write_input(pipeline, "input.txt", lines)
        held = pipeline.path("held")
        sink = pipeline.sink(["--json", "--quiet"])
        stuck = pipeline.worker(
            ["--id", "stuck", "--prefetch", "1", "--exec",
             f"echo $$ > {held}.new && mv {held}.new {held}; sleep 50; sleep 50"])
        ventilator = pipeline.ventilator(["--lines", "--input", path, "--batch", "100",
                                          "--min-workers", "1"])
        deadline = time.monotonic() + scaled(30)
        while not os.path.exists(held):
            check(time.monotonic() < deadline, "the stuck worker never held a batch")
            time.sleep(0.01)  # polling for a file the command makes: an event
        with open(held) as file:
            group = int(file.read().strip())
        steady = pipeline.worker(["--id", "steady", "--exec", "cat"])
        sink.expect_exit(0, JOB_TIMEOUT)
        for process in (ventilator, steady, stuck):
            process.expect_exit(0, 15)
        #  Dead is enough: a zombie waits for its reaper, not for us.
        deadline = time.monotonic() + scaled(5)
        while group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.01)  # SIGKILL is delivered, the exit takes a moment
        alive = group_alive(group)
        if alive:
            os.killpg(group, signal.SIGKILL)
        check(not alive, "the stuck worker's command outlived it")
        check_no_socket_files(pipeline)


def case_lines_big_results():
    """Long lines doubled: a batch closes at 1 MiB of lines, its results
    (twice as long) travel in several messages; a result over 65536 bytes
    fails its task with the reason, the others are exact."""
    with Pipeline("lines_big_results") as pipeline:
        lines = [bytes([97 + index % 26]) * 30000 + b"%d" % index for index in range(120)]
        lines[77] = b"z" * 40000  # doubled: 80000 bytes, over DV_LINE_MAX
        sent, taken = pipeline.path("sent.trace"), pipeline.path("taken.trace")
        run_lines_job(pipeline, lines, ["--exec", "sed 's/.*/&&/'"], workers=2,
                      batch=100, sink_code=EXIT_FAILED_TASKS,
                      sink_args=("--json", "--trace", taken),
                      ventilator_args=("--trace", sent))
        sink = [p for p in pipeline.processes if p.role == "sink"][0]

        def spans(path):
            with open(path) as file:
                return [tuple(map(int, line.split()[:2])) for line in file if line.strip()]
        #  1 MiB of 30,015-byte entries: 34 lines a batch, not the 100 asked;
        #  results twice as long come in messages of 1 MiB of entries at most.
        check_equal(max(count for _, count in spans(sent)), 34, "the largest batch sent")
        reason = len("a result line over the 65536-byte limit (DV_LINE_MAX)")
        for first, count in spans(taken):
            size = sum(21 + (reason if task == 77 else 2 * len(lines[task]))
                       for task in range(first, first + count))
            check(size <= 1 << 20, f"results of {first}+{count}: {size} bytes of entries")
        check(len(spans(taken)) > len(spans(sent)), "no batch's results were split")
        results, summary = results_of(sink)
        check_lines_summary(summary, len(lines), failed=1)
        check_equal(sorted(results), [t for t in range(len(lines)) if t != 77], "printed")
        for task, result in results.items():
            check(result == lines[task] * 2, f"task {task}: a wrong result")
        check_equal(summary["failed_tasks"],
                    [{"task": 77,
                      "reason": "a result line over the 65536-byte limit (DV_LINE_MAX)"}],
                    "the failed task")


def case_lines_stdin():
    """--input - : stdin is spooled, so RESEND can read it again."""
    with Pipeline("lines_stdin") as pipeline:
        lines = words(5000)
        sink = pipeline.sink(["--json"])
        worker = pipeline.worker(["--exec", "sed 's/^/> /'"])
        ventilator = pipeline.ventilator(["--lines", "--input", "-"],
                                         stdin_data=b"".join(x + b"\n" for x in lines))
        finish(pipeline, [ventilator, worker], sink)
        results, summary = results_of(sink)
        check_lines_summary(summary, len(lines))
        for task, line in enumerate(lines):
            check_equal(results[task], b"> " + line, f"task {task}")


def case_lines_no_exec():
    """A worker without --exec given a line job fails its tasks, saying why."""
    with Pipeline("lines_no_exec") as pipeline:
        lines = [b"a", b"b", b"c"]
        sink, workers, _ = run_lines_job(pipeline, lines, ["--id", "plain"],
                                         sink_code=EXIT_FAILED_TASKS)
        results, summary = results_of(sink)
        check_lines_summary(summary, 3, failed=3)
        check_equal(results, {}, "results printed")
        check_equal(summary["failed_tasks"][0]["reason"],
                    "worker plain has no --exec or --exec-each to run a line task",
                    "the reason")
        check("has no --exec" in workers[0].stderr, "the worker does not say why")


def case_lines_exec_each():
    """--exec-each: one run per task, {} the line single-quoted; quotes,
    dollars, backslashes and spaces arrive as they are."""
    with Pipeline("lines_exec_each") as pipeline:
        lines = [b"plain", b"it's", b'say "hi"', b"$HOME and `id`", b"back\\slash",
                 b"  spaced  ", b"", b"semi;colon|pipe&amp", b"*", b"-n"]
        lines = lines * 20
        sink, _, _ = run_lines_job(pipeline, lines,
                                   ["--exec-each", "printf '[%s][%s]\\n' {} {}"], batch=7)
        results, summary = results_of(sink)
        check_lines_summary(summary, len(lines))
        for task, line in enumerate(lines):
            check_equal(results[task], b"[" + line + b"][" + line + b"]", f"task {task}")


def case_lines_exec_each_failures():
    """--exec-each: a non-zero exit fails after --retries; a result of two
    lines fails too; the rest exact."""
    with Pipeline("lines_exec_each_failures") as pipeline:
        lines = [b"ok1", b"fail", b"two", b"ok2"]
        command = ("case {} in fail) echo no good >&2; exit 3;; two) printf 'a\\nb\\n';; "
                   "*) echo {};; esac")
        sink, _, _ = run_lines_job(pipeline, lines, ["--exec-each", command],
                                   sink_code=EXIT_FAILED_TASKS)
        results, summary = results_of(sink)
        check_lines_summary(summary, 4, failed=2)
        check_equal(results, {0: b"ok1", 3: b"ok2"}, "results")
        reasons = {entry["task"]: entry["reason"] for entry in summary["failed_tasks"]}
        check_equal(reasons, {1: "no good", 2: "printed 2 lines (a result is one line)"},
                    "reasons")


def ordered_results(sink, count):
    """The sink's stdout under --ordered: task ids 0 .. count-1 in order;
    returns the result lines alone, as bytes, each with its newline."""
    text = sink.stdout
    lines = text.split("\n")[:-1]
    summary = json.loads(lines[-1])
    out = []
    for expected, line in enumerate(lines[:-1]):
        task, _, result = line.partition("\t")
        if task != str(expected):
            raise TestFailure(f"--ordered line {expected} is for task {task!r}")
        out.append(result.encode("utf-8") + b"\n")
    check_equal(len(out), count, "--ordered result lines")
    return b"".join(out), summary


def serial_output(command, lines):
    done = subprocess.run(["/bin/sh", "-c", command],
                          input=b"".join(line + b"\n" for line in lines),
                          stdout=subprocess.PIPE, timeout=scaled(60))
    check_equal(done.returncode, 0, f"the serial run of {command!r}")
    return done.stdout


def case_lines_ordered():
    """--ordered on three workers: the results, without their ids, are
    byte for byte `CMD < input`."""
    with Pipeline("lines_ordered") as pipeline:
        lines = words(50000)
        sink, _, _ = run_lines_job(pipeline, lines, ["--exec", "tr a-z A-Z"], workers=3,
                                   batch=300, sink_args=("--json", "--ordered"))
        output, summary = ordered_results(sink, len(lines))
        check_lines_summary(summary, len(lines))
        check(output == serial_output("tr a-z A-Z", lines),
              "--ordered output differs from the serial run")


def case_lines_ordered_killed():
    """--ordered, three workers and one SIGKILLed while it holds the first
    batches: the output is still byte for byte the serial run's."""
    with Pipeline("lines_ordered_killed") as pipeline:
        lines = words(30000)
        path = write_input(pipeline, "input.txt", lines)
        held = pipeline.path("held")
        sink = pipeline.sink(["--json", "--ordered"])
        doomed = pipeline.worker(
            ["--id", "doomed", "--exec",
             f"echo $$ > {held}.new && mv {held}.new {held}; exec sleep 60"])
        ventilator = pipeline.ventilator(["--lines", "--input", path, "--batch", "250",
                                          "--min-workers", "1"])
        deadline = time.monotonic() + scaled(30)
        while not os.path.exists(held):
            check(time.monotonic() < deadline, "the doomed worker never held a batch")
            time.sleep(0.01)  # polling for a file the command makes: an event
        with open(held) as file:
            group = int(file.read().strip())
        steady = [pipeline.worker(["--exec", "tr a-z A-Z"]) for _ in range(2)]
        #  Let the others run ahead of the held batch, past the budget.
        sink.wait_for_line("stderr", r"gathering", 30)
        doomed.popen.kill()
        check_equal(doomed.wait(10), -signal.SIGKILL, "the doomed worker's end")
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        finish(pipeline, [ventilator] + steady, sink)
        output, summary = ordered_results(sink, len(lines))
        check_lines_summary(summary, len(lines))
        check(output == serial_output("tr a-z A-Z", lines),
              "--ordered output differs from the serial run")


def case_lines_ordered_budget():
    """--ordered with a budget far under what arrives out of order: results
    over it are dropped uncounted and asked for again; the bytes held stay
    within the budget and one message; the output is the serial run's."""
    with Pipeline("lines_ordered_budget") as pipeline:
        lines = words(20000)
        budget = 8000
        sink, _, _ = run_lines_job(pipeline, lines, ["--exec", "tr a-z A-Z"], workers=3,
                                   batch=100,
                                   sink_args=("--json", "--ordered", "--ordered-budget",
                                              str(budget)))
        output, summary = ordered_results(sink, len(lines))
        check_lines_summary(summary, len(lines))
        check(output == serial_output("tr a-z A-Z", lines),
              "--ordered output differs from the serial run")
        found = sink.wait_for_line(
            "stderr", rf"^sink: --ordered: held (\d+) bytes at most \(budget {budget}\); "
            r"(\d+) result messages over it asked for again$", 1)
        held = int(found.group(1))
        check(held <= budget + (1 << 20) + 48 * 100, f"held too much: {found.group(0)}")
        check(int(found.group(2)) >= 1, f"nothing went over the budget: {found.group(0)}")
        check(summary["resends"] >= 1, "no RESEND brought the dropped results again")


def case_lines_bad_long_line():
    """A line over 65536 bytes: one line on stderr, exit 2, nothing sent."""
    with Pipeline("lines_bad_long") as pipeline:
        path = write_input(pipeline, "input.txt", [b"ok", b"y" * 65537, b"ok"])
        ventilator = pipeline.ventilator(["--lines", "--input", path])
        ventilator.expect_exit(2, USAGE_TIMEOUT)
        check_one_line(ventilator, ["input.txt:2", "65537", "65536"])
        check_no_socket_files(pipeline)
        #  The longest line is fine.
        path = write_input(pipeline, "input2.txt", [b"z" * 65536])
        sink = pipeline.sink(["--json", "--quiet"])
        worker = pipeline.worker(["--exec", "wc -c"])
        ventilator = pipeline.ventilator(["--lines", "--input", path])
        finish(pipeline, [ventilator, worker], sink)
        _, summary = results_of(sink)
        check_lines_summary(summary, 1)


def case_lines_bad_nul():
    with Pipeline("lines_bad_nul") as pipeline:
        path = write_input(pipeline, "input.txt", [b"a", b"b", b"c\0d"])
        ventilator = pipeline.ventilator(["--lines", "--input", path])
        ventilator.expect_exit(2, USAGE_TIMEOUT)
        check_one_line(ventilator, ["input.txt:3", "NUL"])
        path = write_input(pipeline, "empty.txt", [])
        ventilator = pipeline.ventilator(["--lines", "--input", path])
        ventilator.expect_exit(2, USAGE_TIMEOUT)
        ventilator = pipeline.ventilator(["--lines"])
        ventilator.expect_exit(2, USAGE_TIMEOUT)
        check_one_line(ventilator, ["--lines", "--input"])


def case_lines_env_exec():
    """DIVVY_EXEC sets --exec, as every option has its variable."""
    with Pipeline("lines_env_exec") as pipeline:
        lines = words(300)
        path = write_input(pipeline, "input.txt", lines)
        sink = pipeline.sink(["--json"])
        worker = pipeline.worker(env={"DIVVY_EXEC": "tr a-z A-Z", "DIVVY_RETRIES": "1"})
        ventilator = pipeline.ventilator(["--lines", "--input", path])
        finish(pipeline, [ventilator, worker], sink)
        results, summary = results_of(sink)
        check_lines_summary(summary, len(lines))
        check_against_serial(results, lines, "tr a-z A-Z")


def case_lines_bad_worker_options():
    with Pipeline("lines_bad_worker") as pipeline:
        worker = pipeline.worker(["--exec", "cat", "--exec-each", "echo {}"])
        worker.expect_exit(2, USAGE_TIMEOUT)
        check_one_line(worker, ["--exec", "--exec-each"])
        worker = pipeline.worker(["--exec", "cat", "--retries", "0"])
        worker.expect_exit(2, USAGE_TIMEOUT)
        check_one_line(worker, ["--retries"])


def rot13(line):
    return bytes((c - 97 + 13) % 26 + 97 if 97 <= c <= 122 else
                 (c - 65 + 13) % 26 + 65 if 65 <= c <= 90 else c for c in line)


def case_lines_c_api():
    """examples/rot13.c, a worker on libdivvy (divvy.h): 20,000 lines over
    two of them; every line rotated exactly once, the lines starting with
    '!' failed with the function's reason (exit 5)."""
    with Pipeline("lines_c_api") as pipeline:
        lines = [(b"!" if index % 101 == 3 else b"") + line
                 for index, line in enumerate(words(20000))]
        bad = {task for task, line in enumerate(lines) if line.startswith(b"!")}
        path = write_input(pipeline, "input.txt", lines)
        sink = pipeline.sink(["--json"])
        workers = [pipeline.start("rot13", ["--id", f"rot{index}", "--retries", "2",
                                            "--quiet"])
                   for index in (1, 2)]
        ventilator = pipeline.ventilator(["--lines", "--input", path, "--batch", "50",
                                          "--min-workers", "2"])
        finish(pipeline, [ventilator] + workers, sink, EXIT_FAILED_TASKS)
        results, summary = results_of(sink)
        check_lines_summary(summary, len(lines), failed=len(bad))
        check_equal(set(results), set(range(len(lines))) - bad, "tasks printed")
        for task in results:
            check_equal(results[task], rot13(lines[task]), f"task {task}")
        for entry in summary["failed_tasks"]:
            check(entry["task"] in bad, f"task {entry['task']} should not fail")
            check_equal(entry["reason"], "a line starting with '!' is refused",
                        "the reason")


def case_c_api_squares():
    """The squaring worker is libdivvy's loop (divvy_worker_main): a rot13
    program squares a squares job as divvy-worker does, side by side in one
    list job with 64-bit extremes, verified, each value printed once."""
    with Pipeline("c_api_squares") as pipeline:
        values = [-(1 << 63), (1 << 63) - 1, -3037000500, 3037000499, 0, -1]
        values += [(index * 2654435761) % (1 << 40) - (1 << 39) for index in range(20000)]
        path = pipeline.path("values.txt")
        with open(path, "w") as file:
            file.write("".join(f"{value}\n" for value in values))
        sink = pipeline.sink(["--json"])
        workers = [pipeline.start("rot13", ["--id", "rot", "--quiet"]),
                   pipeline.worker(["--id", "builtin", "--quiet"])]
        ventilator = pipeline.ventilator(["--input", path, "--batch", "50",
                                          "--min-workers", "2"])
        finish(pipeline, [ventilator] + workers, sink)
        lines, summary = sink_output(sink)
        check_equal(parse_result_lines(lines), collections.Counter(values),
                    "the sink's result lines (value -> times printed)")
        check_complete(summary, values, workers=2)
        check_equal(sorted(summary["workers"]), ["builtin", "rot"], "worker ids")


def case_lines_c_api_refuses_exec():
    """A libdivvy worker runs its own function: --exec is a usage error."""
    with Pipeline("lines_c_api_refuses_exec") as pipeline:
        worker = pipeline.start("rot13", ["--exec", "cat"])
        worker.expect_exit(2, USAGE_TIMEOUT)
        lines = worker.lines("stderr")
        check_equal(lines, ["worker: --exec: this worker runs tasks with its own function "
                            "(libdivvy)"], "the worker's stderr")
        check_equal(worker.stdout, "", "the worker's stdout")


CASES = {name[len("case_"):]: function for name, function in globals().items()
         if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(main(CASES))
