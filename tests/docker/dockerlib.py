"""Plumbing for the docker suite: the engine, the Compose flavours, the image,
and Compose projects that always clean up after themselves.

Python 3 standard library only. Every external command runs with a timeout;
a command that outlives it is killed with its whole process group. Each test
works in a project or stack of its own (divvy-test-<pid>-<flavour>), so it
never touches a user's containers, and removes it before and after.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77  # meson: the test was skipped

BASE_IMAGE = "debian:bookworm-slim"
IMAGE = "divvy:latest"

_started = time.monotonic()


# Cleanup commands to start at once if the test is terminated: (argv, env).
_on_terminate = []


def on_terminate(argv, env=None):
    """Registers a cleanup command for a terminated test; returns a handle
    for forget()."""
    entry = (list(argv), env)
    _on_terminate.append(entry)
    return entry


def forget(entry):
    if entry in _on_terminate:
        _on_terminate.remove(entry)


def _terminate(signum, _frame):
    # meson stops a test that runs out of time with SIGTERM to its process
    # group, and SIGKILL half a second later: too soon for `compose down`. So
    # the cleanup commands start here, detached in sessions of their own that
    # the SIGKILL does not reach, and finish by themselves; then the
    # exception lets every `finally` do what it still can.
    for argv, env in _on_terminate:
        try:
            subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env or clean_env(),
                             start_new_session=True)
        except OSError:
            pass
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _terminate)


def log(message):
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", flush=True)


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


class Failure(Exception):
    """A check that did not hold; the message says what and why."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def clean_env(extra=None):
    """The caller's environment without DIVVY_*, ZSYS_* and COMPOSE_* (a user's
    settings must not change what a test runs), plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DIVVY_", "ZSYS_", "COMPOSE_"))}
    env.update(extra or {})
    return env


def run(argv, timeout, env=None, output=None, check_rc=False):
    """Runs argv with a hard timeout. Returns (rc, text of stdout+stderr, seconds).
    output: a path to send the combined output to instead of memory (for the
    long logs of `compose up`); the text returned is then its last 20000
    characters."""
    start = time.monotonic()
    sink = open(output, "wb") if output else subprocess.PIPE
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT, env=env or clean_env(),
                                   start_new_session=True)
        try:
            data, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            raise Failure(f"timed out after {timeout} s: {' '.join(argv)}")
    finally:
        if output:
            sink.close()
    seconds = time.monotonic() - start
    if output:
        with open(output, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 20000))
            data = handle.read()
    text = data.decode("utf-8", "replace")
    if check_rc and process.returncode != 0:
        raise Failure(f"{' '.join(argv)} exited {process.returncode}:\n{text[-4000:]}")
    return process.returncode, text, seconds


def wait(process, timeout, what):
    """Waits for a process started in the background; kills its group and
    fails after timeout seconds."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise Failure(f"timed out after {timeout} s: {what}")


def stop_process(process):
    """Ends a background process (and its group) if it still runs."""
    if process.poll() is None:
        _kill_group(process)
        process.wait()


def _kill_group(process):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def docker(*args, timeout=60, check_rc=True):
    return run(["docker", *args], timeout, check_rc=check_rc)[1]


def require_engine():
    """Skips (77) unless a Docker engine answers."""
    if not shutil.which("docker"):
        skip("no docker command in PATH: the docker suite needs a Docker engine")
    try:
        rc, text, _ = run(["docker", "version", "--format", "{{.Server.Version}}"], 30)
    except Failure as failure:
        skip(f"the Docker engine does not answer: {failure}")
    if rc != 0:
        lines = text.strip().splitlines()
        skip(f"no Docker engine to talk to: {lines[-1] if lines else f'exit {rc}'}")
    log(f"Docker engine {text.strip()}")


# The two Compose flavours by label, with the command that runs each.
FLAVOURS = {"v2": "docker compose", "v1": "docker-compose"}


def in_ci():
    """CI mode: CI=true (as CI sets it, and .ci/run). There tools/check has
    made `docker compose` and installed docker-compose, so a missing flavour
    is a failure, not a skip."""
    return os.environ.get("CI", "").lower() == "true"


def compose_flavours(quiet=False):
    """[(label, argv prefix)] for each Compose present: v2 as `docker compose`,
    v1 as `docker-compose` (a docker-compose that is really v2 counts as v2,
    once). DIVVY_TEST_COMPOSE="docker compose,/path/to/docker-compose" picks
    the commands instead (comma-separated, each split on spaces). Logs each
    command that is absent (or answers no version), unless quiet."""
    wanted = os.environ.get("DIVVY_TEST_COMPOSE")
    candidates = ([c.split() for c in wanted.split(",") if c.strip()] if wanted
                  else [["docker", "compose"], ["docker-compose"]])
    note = (lambda _message: None) if quiet else log
    found, versions = [], set()
    for argv in candidates:
        command = " ".join(argv)
        if not shutil.which(argv[0]):
            note(f"`{command}`: absent ({argv[0]} is not in PATH)")
            continue
        try:
            rc, text, _ = run([*argv, "version"], 30)
        except Failure as failure:
            note(f"`{command}`: absent ({failure})")
            continue
        if rc != 0:
            lines = text.strip().splitlines()
            note(f"`{command}`: absent (`{command} version` exited {rc}: "
                 f"{lines[-1] if lines else ''})")
            continue
        match = re.search(r"version:?\s+v?(\d+\.\d+\.\d+)", text, re.IGNORECASE)
        version = match.group(1) if match else "unknown"
        # v1: "docker-compose version 1.29.2, build ..."; v2: "Docker Compose version v2.x"
        label = "v1" if re.search(r"docker-compose version 1\.", text) else "v2"
        if (label, version) in versions:
            continue
        versions.add((label, version))
        found.append((f"{label}-{version}", argv))
    return found


def missing_flavours(flavours):
    """The labels of FLAVOURS that `flavours` lacks."""
    labels = {label.split("-")[0] for label, _ in flavours}
    return [label for label in FLAVOURS if label not in labels]


def ensure_base_image(source):
    """The Dockerfile starts from debian:bookworm-slim; without a registry it is
    made by docker/make-base-image.sh (debootstrap, then docker import)."""
    rc, _, _ = run(["docker", "image", "inspect", BASE_IMAGE], 30)
    if rc == 0:
        return
    log(f"{BASE_IMAGE} is missing: docker/make-base-image.sh")
    rc, text, seconds = run([os.path.join(source, "docker", "make-base-image.sh")], 1200)
    check(rc == 0, f"docker/make-base-image.sh failed ({rc}):\n{text[-3000:]}")
    log(f"base image made in {seconds:.0f} s")


_build_lock = threading.Lock()


class Project:
    """One Compose project: `-p divvy-test-<pid>-<suffix>`, the repository's
    docker-compose.yml (followed by the override files in `overrides`, e.g.
    docker-compose.curve.yml), no .env file, and only the DIVVY_* variables
    given."""

    def __init__(self, source, flavour, suffix, overrides=()):
        self.source = source
        self.files = ("docker-compose.yml", *overrides)
        self.label, self.argv = flavour
        self.name = f"divvy-test-{os.getpid()}-{suffix}".lower()
        self.name = re.sub(r"[^a-z0-9_-]", "-", self.name)
        self.tmp = tempfile.mkdtemp(prefix=f"{self.name}-")
        self.env_file = os.path.join(self.tmp, "empty.env")
        open(self.env_file, "w").close()
        self.variables = {}
        self._cleanup = on_terminate(self._argv(["down", "--remove-orphans", "-v",
                                                 "--timeout", "10"]))

    def _argv(self, args):
        files = [arg for name in self.files for arg in ("-f", os.path.join(self.source, name))]
        return [*self.argv, *files,
                "-p", self.name, "--env-file", self.env_file, *args]

    def compose(self, *args, timeout=120, output=None, variables=None):
        env = clean_env({**self.variables, **(variables or {})})
        return run(self._argv(args), timeout, env=env, output=output)

    def compose_background(self, *args, output, variables=None):
        """Starts a compose command without waiting; finish it with wait()."""
        env = clean_env({**self.variables, **(variables or {})})
        with open(output, "wb") as sink:
            return subprocess.Popen(self._argv(args), stdin=subprocess.DEVNULL, stdout=sink,
                                    stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)

    def build(self, services=("sink",)):
        """Builds divvy:latest through Compose (its layer cache makes this a
        few seconds when nothing changed). Only the sink service: all three
        name the same image; services adds others of an override's."""
        args = ["build"]
        if self.label.startswith("v1"):
            args.append("--force-rm")  # no stopped build containers left behind
        # One build at a time: the flavours run side by side and tag the same
        # image; the second build finds every layer in the cache.
        with _build_lock:
            rc, text, seconds = self.compose(*args, *services, timeout=1200,
                                             output=os.path.join(self.tmp, "build.log"))
        check(rc == 0, f"[{self.label}] compose build failed ({rc}):\n{text[-4000:]}")
        log(f"[{self.label}] image built (or up to date) in {seconds:.1f} s")

    def down(self):
        rc, text, seconds = self.compose("down", "--remove-orphans", "-v",
                                         "--timeout", "10", timeout=180)
        if rc != 0:
            log(f"[{self.label}] down exited {rc}: {text[-2000:]}")
        return rc, seconds

    def containers(self, service=None):
        """Container ids of this project (all states), optionally of one service."""
        args = ["ps", "-a", "-q", "--no-trunc",
                "--filter", f"label=com.docker.compose.project={self.name}"]
        if service:
            args += ["--filter", f"label=com.docker.compose.service={service}"]
        return docker(*args).split()

    def leftovers(self):
        """What the project still has in the engine: containers, networks, volumes."""
        label = f"label=com.docker.compose.project={self.name}"
        found = {
            "containers": docker("ps", "-a", "-q", "--filter", label).split(),
            "networks": docker("network", "ls", "-q", "--filter", label).split(),
            "volumes": docker("volume", "ls", "-q", "--filter", label).split(),
        }
        # A network named after the project even without the label (older Compose).
        names = docker("network", "ls", "--format", "{{.Name}}").split()
        found["networks"] += [n for n in names if n.startswith(self.name + "_")
                              and n not in found["networks"]]
        return {k: v for k, v in found.items() if v}

    def teardown(self):
        """down, then check that nothing of the project is left."""
        rc, seconds = self.down()
        left = self.leftovers()
        shutil.rmtree(self.tmp, ignore_errors=True)
        forget(self._cleanup)
        check(rc == 0, f"[{self.label}] compose down exited {rc}")
        check(not left, f"[{self.label}] left behind after down: {left}")
        log(f"[{self.label}] down in {seconds:.1f} s: no containers, networks or volumes left")


def inspect(ids):
    if not ids:
        return []
    return json.loads(docker("inspect", *ids))


def describe(info):
    labels = info["Config"].get("Labels") or {}
    service = labels.get("com.docker.compose.service") or labels.get(
        "com.docker.swarm.service.name", "?")
    number = labels.get("com.docker.compose.container-number", "")
    return f"{service}{'#' + number if number else ''} ({info['Id'][:12]})"


def wait_exited(ids, timeout):
    """Waits until every container has exited; returns their inspect data."""
    deadline = time.monotonic() + timeout
    while True:
        infos = inspect(ids)
        running = [i for i in infos if i["State"]["Status"] not in ("exited", "dead")]
        if not running:
            return infos
        if time.monotonic() > deadline:
            raise Failure(f"still running after {timeout} s: "
                          + ", ".join(describe(i) for i in running))
        time.sleep(0.5)


def exit_codes(infos):
    return {describe(i): i["State"]["ExitCode"] for i in infos}


def logs(container, stream="both"):
    """A container's output: stdout, stderr or both (docker logs keeps them
    apart for a container without a TTY)."""
    process = subprocess.run(["docker", "logs", container], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if process.returncode != 0:
        raise Failure(f"docker logs {container[:12]} failed: {process.stderr[-500:]!r}")
    out = process.stdout.decode("utf-8", "replace")
    err = process.stderr.decode("utf-8", "replace")
    return {"stdout": out, "stderr": err, "both": out + err}[stream]


def sum_of_squares(start, count):
    """The exact sum of v*v for v in start .. start+count-1."""
    def upto(n):  # 1^2 + ... + n^2, for n >= 0
        return n * (n + 1) * (2 * n + 1) // 6
    end = start + count - 1
    if start >= 1:
        return upto(end) - upto(start - 1)
    return sum(v * v for v in range(start, end + 1))


#  The human summary's parser is the integration suite's (one definition).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
import human_summary  # noqa: E402


def parse_summary(stderr, outcome="complete"):
    """The sink's human summary on stderr (counts grouped), of a job that
    ended with outcome -> dict (job, received, tasks, duplicates, malformed,
    sum, verified, workers {id: count}, ...: human_summary.parse)."""
    try:
        summary = human_summary.parse(stderr)
    except ValueError as error:
        raise Failure(str(error)) from None
    check(summary and summary["outcome"] == outcome,
          f"no {outcome} summary in the sink's stderr:\n{stderr[-3000:]}")
    return summary


def last_json_line(stdout):
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise Failure(f"no JSON object in the sink's stdout:\n{stdout[-2000:]}")
