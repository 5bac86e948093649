"""harness.py: run the real divvy programs and watch what they do.

Python 3 standard library only. A test builds a Pipeline (a private temp
directory with ipc endpoints for tasks, results and control), starts
processes through it, waits for their exit codes and output lines with
bounded waits, and checks. Whatever happens, leaving the Pipeline kills every
process it started that is still running and removes the directory.

Synchronisation is by event: a process exiting, a line appearing on its
stdout or stderr, an ipc socket file appearing when a binder is up. Sleeping
is left to the tests that are about timing, which say so where they do it.

The binaries come from DIVVY_TEST_VENTILATOR / _WORKER / _SINK / _KEYGEN /
_DIVVY (meson sets them), or from DIVVY_TEST_BUILD_DIR/divvy/divvy-<role>
(divvy/divvy for the dispatcher) when run by hand. The
programs never see any DIVVY_* or ZSYS_* variable from the outer environment:
a test that wants one sets it itself.
"""

import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import human_summary as _human_summary

EXIT_SKIP = 77
INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1

#  Under sanitizers everything is slower: meson passes a scale for every
#  bounded wait (the waits are limits, not speeds: a fast run never waits them
#  out).
TIMEOUT_SCALE = float(os.environ.get("DIVVY_TEST_TIMEOUT_SCALE", "1") or "1")

#  Under AddressSanitizer a process's RSS is not the program's: freed memory
#  waits in ASan's quarantine (256 MiB by default) and shadow memory adds an
#  eighth. Memory bounds are checked in the plain build and reported here.
ADDRESS_SANITIZED = "address" in os.environ.get("DIVVY_TEST_SANITIZE", "")

ROLES = ("ventilator", "worker", "sink")


class TestFailure(Exception):
    """A check failed; the message says what was expected and what came."""


class TestSkip(Exception):
    """The test cannot run here (exit 77)."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def check_memory(condition, message):
    """check() for a memory bound, reported instead under AddressSanitizer."""
    if ADDRESS_SANITIZED:
        if not condition:
            print(f"not checked under AddressSanitizer: {message}", flush=True)
        return
    check(condition, message)


def check_equal(actual, expected, what):
    if actual != expected:
        raise TestFailure(f"{what}: expected {expected!r}, got {actual!r}")


def scaled(seconds):
    return seconds * TIMEOUT_SCALE


def binary(role):
    path = os.environ.get(f"DIVVY_TEST_{role.upper()}")
    if not path:
        build = os.environ.get("DIVVY_TEST_BUILD_DIR")
        if not build:
            raise TestFailure(
                f"DIVVY_TEST_{role.upper()} (or DIVVY_TEST_BUILD_DIR) is not set: "
                "run through 'meson test' or set it")
        path = os.path.join(build, "divvy", role if role == "divvy" else f"divvy-{role}")
    if not os.access(path, os.X_OK):
        raise TestFailure(f"{role} binary {path} is not an executable")
    return path


def clean_environment(extra=None):
    """The outer environment without DIVVY_* and ZSYS_* (CZMQ's own knobs),
    plus extra."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("DIVVY_") and not name.startswith("ZSYS_")
    }
    environment.update(extra or {})
    return environment


def free_tcp_port():
    """A port that was free a moment ago on 127.0.0.1 (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _short_temp_root():
    #  ipc paths must fit sun_path (107 bytes): stay short whatever TMPDIR is.
    root = tempfile.gettempdir()
    if len(root) > 40 and os.path.isdir("/tmp"):
        root = "/tmp"
    return root


class Process:
    """One running program with its output gathered line by line."""

    def __init__(self, role, name, argv, environment, stdin_data=None, cwd=None):
        self.role = role
        self.name = name
        self.argv = argv
        self.stdin_data = stdin_data
        self._condition = threading.Condition()
        self._lines = {"stdout": [], "stderr": []}
        self._eof = {"stdout": False, "stderr": False}
        self.started = time.monotonic()
        self.signalled_at = None
        self.ended = None
        self.popen = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            cwd=cwd,
        )
        self._threads = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in ("stdout", "stderr")
        ]
        if stdin_data is not None:
            self._threads.append(threading.Thread(target=self._write, daemon=True))
        for thread in self._threads:
            thread.start()

    def _write(self):
        try:
            self.popen.stdin.write(self.stdin_data)
        except (BrokenPipeError, OSError):
            pass
        finally:
            try:
                self.popen.stdin.close()
            except OSError:
                pass

    def _read(self, stream):
        pipe = getattr(self.popen, stream)
        for raw in iter(pipe.readline, b""):
            with self._condition:
                self._lines[stream].append(raw.decode("utf-8", "replace"))
                self._condition.notify_all()
        pipe.close()
        with self._condition:
            self._eof[stream] = True
            self._condition.notify_all()

    @property
    def pid(self):
        return self.popen.pid

    @property
    def returncode(self):
        return self.popen.poll()

    def running(self):
        return self.popen.poll() is None

    def send_signal(self, number):
        self.signalled_at = time.monotonic()
        self.popen.send_signal(number)

    def wait(self, timeout):
        """Waits for the exit and the end of its output; returns the exit code."""
        try:
            code = self.popen.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            raise TestFailure(
                f"{self.name} did not exit within {scaled(timeout):.1f} s") from None
        if self.ended is None:
            self.ended = time.monotonic()
        with self._condition:
            self._condition.wait_for(
                lambda: all(self._eof.values()), timeout=scaled(10))
        return code

    def expect_exit(self, code, timeout):
        actual = self.wait(timeout)
        if actual != code:
            raise TestFailure(
                f"{self.name} exited with {describe_exit(actual)}, expected "
                f"{describe_exit(code)}")
        return actual

    def seconds_since_signal(self):
        return self.ended - self.signalled_at

    def lines(self, stream):
        with self._condition:
            return [line.rstrip("\n") for line in self._lines[stream]]

    def text(self, stream):
        with self._condition:
            return "".join(self._lines[stream])

    @property
    def stdout(self):
        return self.text("stdout")

    @property
    def stderr(self):
        return self.text("stderr")

    def wait_for_line(self, stream, pattern, timeout):
        """Waits for a line of stream matching the regular expression;
        returns the match. Fails on timeout or when the stream ends first."""
        regex = re.compile(pattern)
        seen = 0
        deadline = time.monotonic() + scaled(timeout)
        with self._condition:
            while True:
                lines = self._lines[stream]
                for index in range(seen, len(lines)):
                    found = regex.search(lines[index])
                    if found:
                        return found
                seen = len(lines)
                if self._eof[stream]:
                    raise TestFailure(
                        f"{self.name} ended its {stream} without a line matching "
                        f"/{pattern}/ (exit {describe_exit(self.popen.poll())})")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TestFailure(
                        f"{self.name}: no {stream} line matching /{pattern}/ within "
                        f"{scaled(timeout):.1f} s")
                self._condition.wait(remaining)

    def report(self):
        """A few lines about this process for a failure message."""
        code = self.popen.poll()
        out = self.lines("stdout")
        err = self.lines("stderr")
        text = [f"--- {self.name}: {' '.join(self.argv)}",
                f"    exit: {describe_exit(code) if code is not None else 'still running'}"]
        text.append(f"    stderr ({len(err)} lines):")
        text += ["      " + line for line in err[-25:]]
        text.append(f"    stdout ({len(out)} lines), last ones:")
        text += ["      " + line[:300] for line in out[-4:]]
        return "\n".join(text)


#  Linux syscall numbers of nanosleep and clock_nanosleep, by machine.
_SLEEP_SYSCALLS = {"x86_64": {35, 230}, "aarch64": {101, 115}}


def wait_until_sleeping(process, timeout):
    """Waits until process's main thread sleeps in nanosleep (a worker with
    --task-delay-us does so only while it squares a task, so it is holding
    work). Reads /proc/PID/syscall; skips the test where that cannot work."""
    import platform
    numbers = _SLEEP_SYSCALLS.get(platform.machine())
    path = f"/proc/{process.pid}/syscall"
    if numbers is None or not os.path.exists(path):
        raise TestSkip(f"cannot see syscalls on {platform.machine()} ({path})")
    deadline = time.monotonic() + scaled(timeout)
    while True:
        try:
            with open(path) as file:
                fields = file.read().split()
        except PermissionError:
            raise TestSkip(f"{path} is not readable here") from None
        except OSError:
            fields = []
        if fields and fields[0].isdigit() and int(fields[0]) in numbers:
            return
        if process.popen.poll() is not None:
            raise TestFailure(f"{process.name} exited ({describe_exit(process.popen.poll())}) "
                              "before it started on a task")
        if time.monotonic() > deadline:
            raise TestFailure(f"{process.name} did not start on a task within "
                              f"{scaled(timeout):.1f} s")
        #  Polling a condition, not sleeping for synchronisation.
        time.sleep(0.002)


def describe_exit(code):
    if code is None:
        return "nothing (still running)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return str(code)


class Pipeline:
    """A private directory with ipc endpoints, and every process started in it.

    Use as a context manager: on leaving, any process still running is killed
    (SIGKILL) and reaped, and the directory removed. If the test body itself
    succeeded but left a process running, that is a failure.
    """

    def __init__(self, name):
        self.name = name
        self.directory = tempfile.mkdtemp(prefix="dv-", dir=_short_temp_root())
        self.tasks = f"ipc://{self.directory}/tasks"
        self.results = f"ipc://{self.directory}/results"
        self.control = f"ipc://{self.directory}/control"
        self.processes = []
        self._counts = collections.Counter()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        leftovers = self.kill_all()
        if kind is not None:
            self.dump()
        shutil.rmtree(self.directory, ignore_errors=True)
        if kind is None and leftovers:
            raise TestFailure("left running at the end: " + ", ".join(leftovers))
        return False

    def kill_all(self):
        """Kills and reaps every process still running; returns their names."""
        leftovers = []
        for process in self.processes:
            if process.popen.poll() is None:
                leftovers.append(process.name)
                try:
                    process.popen.kill()
                except ProcessLookupError:
                    pass
        for process in self.processes:
            try:
                process.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        return leftovers

    def dump(self):
        for process in self.processes:
            print(process.report(), file=sys.stderr)

    def path(self, name):
        return os.path.join(self.directory, name)

    def endpoint_flags(self):
        return ["--tasks", self.tasks, "--results", self.results,
                "--control", self.control]

    def start(self, role, args=(), name=None, env=None, stdin_data=None,
              endpoints=True):
        """Starts role with the pipeline's endpoints (unless endpoints is
        False) followed by args; env adds variables to the clean environment."""
        self._counts[role] += 1
        if name is None:
            name = role if role != "worker" else f"worker{self._counts[role]}"
        argv = [binary(role)] + (self.endpoint_flags() if endpoints else []) + list(args)
        process = Process(role, name, argv, clean_environment(env), stdin_data=stdin_data,
                          cwd=self.directory)
        self.processes.append(process)
        return process

    def sink(self, args=(), **options):
        return self.start("sink", args, **options)

    def worker(self, args=(), **options):
        return self.start("worker", args, **options)

    def ventilator(self, args=(), **options):
        return self.start("ventilator", args, **options)

    def wait_bound(self, endpoint, process, timeout=10):
        """Waits until process has bound the ipc endpoint (its socket file
        exists). Fails if process exits first."""
        check(endpoint.startswith("ipc://"), f"not an ipc endpoint: {endpoint}")
        path = endpoint[len("ipc://"):]
        deadline = time.monotonic() + scaled(timeout)
        while not os.path.exists(path):
            if process.popen.poll() is not None:
                raise TestFailure(
                    f"{process.name} exited ({describe_exit(process.popen.poll())}) "
                    f"before binding {endpoint}")
            if time.monotonic() > deadline:
                raise TestFailure(f"{process.name} did not bind {endpoint} within "
                                  f"{scaled(timeout):.1f} s")
            #  Polling a condition, not sleeping for synchronisation.
            time.sleep(0.005)

    def socket_files(self):
        return sorted(name for name in os.listdir(self.directory)
                      if name in ("tasks", "results", "control"))

    def check_no_socket_files(self):
        """Binders remove their ipc files on exit."""
        left = self.socket_files()
        check(not left, f"ipc socket files left behind: {left}")


#  Output checks

RESULT_LINE = re.compile(r"^(-?\d+) (\d+)$")

#  The summary holds at least these; counts that came later (resends) are
#  checked for type when present.
JSON_KEYS = {"job", "complete", "tasks", "results", "duplicates", "malformed",
             "seconds", "tasks_per_s", "sum_of_squares", "expected_sum_of_squares",
             "verified", "workers"}
JSON_COUNTS = ("tasks", "results", "duplicates", "malformed", "resends",
               "tasks_requested_again")


def parse_result_lines(lines):
    """Checks every line is "value square" with the exact square; returns a
    Counter of values."""
    values = collections.Counter()
    for number, line in enumerate(lines, 1):
        found = RESULT_LINE.match(line)
        check(found, f"stdout line {number} is not 'value square': {line[:200]!r}")
        value, square = int(found.group(1)), int(found.group(2))
        check(INT64_MIN <= value <= INT64_MAX,
              f"stdout line {number}: value {value} is not a 64-bit integer")
        check(square == value * value,
              f"stdout line {number}: {value} squared is {value * value}, "
              f"the sink printed {square}")
        values[value] += 1
    return values


def parse_summary(line):
    """Parses the sink's JSON summary line and checks its shape."""
    try:
        summary = json.loads(line)
    except ValueError as error:
        raise TestFailure(f"the sink's last stdout line is not JSON ({error}): "
                          f"{line[:300]!r}") from None
    check(isinstance(summary, dict), f"the JSON summary is not an object: {line[:300]}")
    missing = JSON_KEYS - set(summary)
    check(not missing, f"the JSON summary lacks {sorted(missing)}: {line[:300]}")
    check(isinstance(summary["job"], str) and summary["job"].isdigit(),
          f"JSON job is not a decimal string: {summary['job']!r}")
    for key in ("sum_of_squares", "expected_sum_of_squares"):
        check(isinstance(summary[key], str) and summary[key].isdigit(),
              f"JSON {key} is not a decimal string: {summary[key]!r}")
    for key in JSON_COUNTS:
        if key not in summary and key not in JSON_KEYS:
            continue
        check(isinstance(summary[key], int) and summary[key] >= 0,
              f"JSON {key} is not a count: {summary[key]!r}")
    check(isinstance(summary["workers"], dict), "JSON workers is not an object")
    check(summary["verified"] in (True, False, None),
          f"JSON verified is {summary['verified']!r}")
    return summary


def human_summary(stderr, required=True):
    """The sink's human summary in stderr (text) -> dict (human_summary.py:
    received, tasks, duplicates, ..., sum, verified, workers), grouped as
    the README shows it. None when there is none and not required."""
    try:
        summary = _human_summary.parse(stderr)
    except ValueError as error:
        raise TestFailure(str(error)) from None
    check(summary is not None or not required,
          f"no human summary on the sink's stderr:\n{stderr[-2000:]}")
    return summary


def sink_output(sink, json_summary=True):
    """Splits the sink's stdout into result lines and the summary (or None)."""
    lines = sink.lines("stdout")
    check(sink.stdout == "" or sink.stdout.endswith("\n"),
          "the sink's stdout does not end with a newline")
    if not json_summary:
        return lines, None
    check(lines, "the sink printed nothing on stdout, expected a JSON summary")
    return lines[:-1], parse_summary(lines[-1])


def check_complete(summary, values, workers=None):
    """The job over the given task values completed and verified exactly."""
    expected_sum = sum(value * value for value in values)
    check_equal(summary["complete"], True, "JSON complete")
    check_equal(summary["verified"], True, "JSON verified")
    check_equal(summary["tasks"], len(values), "JSON tasks")
    check_equal(summary["results"], len(values), "JSON results")
    check_equal(summary["duplicates"], 0, "JSON duplicates")
    check_equal(summary["malformed"], 0, "JSON malformed")
    check_equal(summary["sum_of_squares"], str(expected_sum), "JSON sum_of_squares")
    check_equal(summary["expected_sum_of_squares"], str(expected_sum),
                "JSON expected_sum_of_squares")
    counts = summary["workers"]
    check(all(isinstance(count, int) and count > 0 for count in counts.values()),
          f"a worker count is not positive: {counts}")
    check_equal(sum(counts.values()), len(values), "sum of the per-worker counts")
    if workers is not None:
        check_equal(len(counts), workers, f"number of worker ids in {counts}")


def check_one_line(process, keywords):
    """Exactly one stderr line naming the problem, nothing on stdout."""
    lines = process.lines("stderr")
    check(len(lines) == 1,
          f"{process.name}: expected one line on stderr, got {len(lines)}: {lines}")
    for keyword in keywords:
        check(keyword in lines[0],
              f"{process.name}: the stderr line does not name {keyword!r}: {lines[0]!r}")
    check(lines[0].startswith(process.role + ": "),
          f"{process.name}: the stderr line does not start with the program name: "
          f"{lines[0]!r}")
    check_equal(process.stdout, "", f"{process.name} stdout")


def check_clean_stderr(process):
    """No sanitizer report, no assertion."""
    text = process.stderr
    #  CZMQ warns about sockets left open at exit ("dangling sockets").
    for marker in ("runtime error:", "Sanitizer", "Assertion", "dangling"):
        check(marker not in text,
              f"{process.name} printed {marker!r} on stderr:\n{text[-2000:]}")


def main(cases):
    """Runs the case named by argv[1]: exit 0 pass, 1 fail, 77 skip. Also
    `--list` (the case names) and `--check-cases NAME...` (meson.build's list,
    which must name every case and no other)."""
    if sys.argv[1:2] == ["--list"]:
        print("\n".join(sorted(cases)))
        return 0
    if sys.argv[1:2] == ["--check-cases"]:
        registered = set(sys.argv[2:])
        missing, unknown = sorted(set(cases) - registered), sorted(registered - set(cases))
        if missing or unknown:
            print(f"FAIL: cases not in meson.build: {missing}; "
                  f"in meson.build but unknown here: {unknown}", file=sys.stderr)
            return 1
        print(f"PASS: all {len(cases)} cases registered")
        return 0

    def on_terminate(number, frame):
        raise SystemExit(f"stopped by signal {number}")

    signal.signal(signal.SIGTERM, on_terminate)
    if len(sys.argv) != 2 or sys.argv[1] not in cases:
        print(f"usage: {sys.argv[0]} CASE\ncases: {' '.join(sorted(cases))}",
              file=sys.stderr)
        return 2
    name = sys.argv[1]
    started = time.monotonic()
    try:
        cases[name]()
    except TestSkip as skip:
        print(f"SKIP {name}: {skip}")
        return EXIT_SKIP
    except TestFailure as failure:
        print(f"FAIL {name}: {failure}", file=sys.stderr)
        return 1
    print(f"PASS {name} ({time.monotonic() - started:.2f} s)")
    return 0


def check_no_socket_files(pipeline):
    pipeline.check_no_socket_files()
