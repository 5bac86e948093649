#!/usr/bin/env python3
"""The docker suite's Compose cases: the repository's docker-compose.yml run
for real, with every Compose flavour present (`docker compose` v2,
`docker-compose` v1), each in a project of its own.

    test_compose.py SOURCE_DIR CASE

Cases:
  flavours        both Compose flavours are there: `docker compose` and
                  `docker-compose`; a missing one skips (77), fails in CI (CI=true),
                  where tools/check makes Compose v2 and installs docker-compose
  config          both files load; the rules that keep them portable hold
  default         `up --scale worker=8`: a 100-task job, exact, 8 workers, all exit 0
  million         the same with DIVVY_COUNT=1000000 DIVVY_QUIET=1 DIVVY_JSON=1
  one_task        a 1-task job with 8 workers: all exit 0
  orders          the services started by hand in every order: all complete
  exit_code_from  `up --exit-code-from sink` returns the sink's code (0, and 2)
  stop            `docker stop` on a worker, the ventilator, the sink mid-job: 143, fast
  down            `down` on a running job removes everything, quickly
  kill_workers    `docker kill` two of 8 workers mid-job: still exact (RESEND), up 0,
                  the killed ones 137, the survivors 0
  healthy         the sink's healthcheck (divvy-status) turns healthy during a job
  curve           with docker-compose.curve.yml: keys made in a volume, an encrypted
                  job with 8 workers, keys kept by a second up, down -v drops them
  curve_healthy   healthy with docker-compose.curve.yml: the healthcheck talks CURVE
  prometheus      with docker-compose.prometheus.yml: a Prometheus (Debian's, on the
                  base image) scrapes the job and returns the sink's final count
  exec            with docker-compose.exec.yml: 6,000 lines through `tr a-z A-Z` in
                  8 worker containers, each result once and right, all exit 0

Each case runs once per flavour present, and says which flavour is absent. The
flavours run side by side (one thread each, separate projects; the image is
built by one at a time), except in the cases whose checks time a container's
stop (SEQUENTIAL below), where the other flavour's containers would compete
for the same two cores.

Exit 0 on success, 1 on failure, 77 (skip) without a Docker engine or Compose.
Every case removes its project before it starts (docker-compose 1.29.2 fails
to recreate containers on recent engines) and again at the end, whatever
happened, and checks that no container, network or volume of it remains.
"""

import itertools
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dockerlib import (FLAVOURS, Failure, Project, check, compose_flavours, describe,  # noqa: E402
                       docker, ensure_base_image, exit_codes, in_ci, inspect, last_json_line,
                       log, logs, missing_flavours, parse_summary, require_engine, skip,
                       stop_process, sum_of_squares, wait, wait_exited)

WORKERS = 8
SERVICES = ("sink", "ventilator", "worker")


def dump_logs(project):
    """On failure: what each container said (the tail)."""
    for info in inspect(project.containers()):
        try:
            text = logs(info["Id"])
        except Exception as error:  # noqa: BLE001 - best effort while failing
            text = f"(no logs: {error})"
        tail = "\n    ".join(text.splitlines()[-15:])
        log(f"--- {describe(info)} exit {info['State']['ExitCode']}:\n    {tail}")


def up_and_wait(project, variables, timeout, extra=()):
    """`up --scale worker=8` attached; returns (rc, seconds, output tail)."""
    rc, text, seconds = project.compose(
        "up", "--scale", f"worker={WORKERS}", "--no-color", *extra,
        timeout=timeout, variables=variables,
        output=os.path.join(project.tmp, "up.log"))
    log(f"[{project.label}] up {' '.join(extra)} returned {rc} after {seconds:.1f} s")
    return rc, seconds, text


def check_all_exited_zero(project, expected=WORKERS + 2, timeout=30):
    infos = wait_exited(project.containers(), timeout)
    codes = exit_codes(infos)
    check(len(infos) == expected, f"expected {expected} containers, found {len(infos)}: {codes}")
    bad = {k: v for k, v in codes.items() if v != 0}
    check(not bad, f"containers that did not exit 0: {bad}")
    log(f"[{project.label}] all {len(infos)} containers exited 0")
    return infos


def worker_hosts(project):
    """The hostnames of the worker containers: a worker's default id is HOST-PID."""
    return {i["Config"]["Hostname"] for i in inspect(project.containers("worker"))}


def sink_id(project):
    ids = project.containers("sink")
    check(len(ids) == 1, f"expected one sink container, found {len(ids)}")
    return ids[0]


def check_summary(project, count, start=1, workers=WORKERS, results_on_stdout=True):
    """The sink's stderr summary: complete, exact sum, verified, the expected
    number of workers, each of them one of this project's worker containers
    with at least one task; with results_on_stdout, stdout holds each value
    and its square exactly once."""
    sink = sink_id(project)
    summary = parse_summary(logs(sink, "stderr"))
    expected = sum_of_squares(start, count)
    check(summary["tasks"] == count and summary["received"] == count,
          f"summary counts {summary['received']} of {summary['tasks']}, expected {count}")
    check(summary["duplicates"] == 0 and summary["malformed"] == 0,
          f"duplicates/malformed in {summary}")
    check(summary["sum"] == expected, f"sum of squares {summary['sum']}, expected {expected}")
    check(summary["verified"], "the sink did not verify the sum")
    counts = summary["workers"]
    check(len(counts) == workers, f"{len(counts)} worker ids in the summary, expected "
          f"{workers}: {counts}")
    check(all(n > 0 for n in counts.values()), f"a worker with no task: {counts}")
    check(sum(counts.values()) == count, f"worker counts add up to {sum(counts.values())}")
    hosts = worker_hosts(project)
    strangers = [w for w in counts if w.rsplit("-", 1)[0] not in hosts]
    check(not strangers, f"worker ids {strangers} are not this project's workers {hosts}")
    if results_on_stdout:
        lines = [line for line in logs(sink, "stdout").splitlines()
                 if line.strip() and not line.startswith("{")]  # not the --json summary
        pairs = sorted(tuple(int(x) for x in line.split()) for line in lines)
        wanted = [(v, v * v) for v in range(start, start + count)]
        check(pairs == wanted, f"stdout holds {len(pairs)} result lines, not exactly "
              f"{start}..{start + count - 1} with their squares")
    log(f"[{project.label}] summary: {count} of {count} tasks, sum {summary['sum']} verified, "
        f"{len(counts)} workers {sorted(counts.values())}")
    return summary


# ---- cases -------------------------------------------------------------------

def case_config(project):
    """Both flavours load the file, and the portability rules hold."""
    rc, text, _ = project.compose("config", timeout=60)
    check(rc == 0, f"compose config failed:\n{text}")
    with open(os.path.join(project.source, "docker-compose.yml")) as handle:
        raw = handle.read()
    check(not re.search(r"^name:", raw, re.M), "top-level name: (docker-compose 1.29.2 rejects it)")
    check(not re.search(r"^\s+container_name:", raw, re.M), "container_name (a scaled service cannot have one)")
    check(not re.search(r"^\s+ports:", raw, re.M), "published ports (replicas would collide)")
    check(re.search(r"^\s+pull_policy: never\s*$", raw, re.M),
          "pull_policy: never (Compose v2 would try a registry before building)")
    check(re.search(r"^\s+init: true\s*$", raw, re.M),
          "init: true (a program that is PID 1 can lose an early SIGTERM)")
    for value in re.findall(r"depends_on:(.*)", raw):
        check(value.strip().startswith("["),
              "depends_on must be a list (no per-service restart/required: v1 rejects them)")
    rc, services, _ = project.compose("config", "--services", timeout=60)
    check(rc == 0 and set(services.split()) == set(SERVICES),
          f"services {services.split()}, expected {SERVICES}")
    for variable in ("DIVVY_COUNT=7", "DIVVY_MIN_WORKERS=3"):
        name, value = variable.split("=")
        rc, text, _ = project.compose("config", timeout=60, variables={name: value})
        check(rc == 0 and re.search(rf"{name}: ['\"]?{value}['\"]?\s*$", text, re.M),
              f"{name} from the environment does not reach the file:\n{text}")
    rc, text, _ = project.compose("config", timeout=60)
    check(re.search(r"DIVVY_COUNT: ['\"]?100['\"]?\s*$", text, re.M)
          and re.search(r"DIVVY_MIN_WORKERS: dns:worker\s*$", text, re.M),
          f"defaults DIVVY_COUNT=100 and DIVVY_MIN_WORKERS=dns:worker missing:\n{text}")
    # The CURVE override loads on top of it and adds only the keys service.
    project.files = ("docker-compose.yml", "docker-compose.curve.yml")
    try:
        rc, services, _ = project.compose("config", "--services", timeout=60)
    finally:
        project.files = ("docker-compose.yml",)
    check(rc == 0 and set(services.split()) == {*SERVICES, "keys"},
          f"with docker-compose.curve.yml: rc {rc}, services {services.split()}")
    log(f"[{project.label}] config: loads, three services, variables with defaults; "
        f"with docker-compose.curve.yml also keys")


def case_default(project):
    project.build()
    rc, _, text = up_and_wait(project, {}, timeout=300)
    check(rc == 0, f"up exited {rc}:\n{text[-3000:]}")
    check_all_exited_zero(project)
    check_summary(project, 100)


def case_million(project):
    project.build()
    count = 1_000_000
    rc, seconds, text = up_and_wait(
        project, {"DIVVY_COUNT": str(count), "DIVVY_QUIET": "1", "DIVVY_JSON": "1"},
        timeout=600)
    check(rc == 0, f"up exited {rc}:\n{text[-3000:]}")
    check_all_exited_zero(project)
    summary = last_json_line(logs(sink_id(project), "stdout"))
    expected = str(sum_of_squares(1, count))
    check(summary["complete"] is True and summary["verified"] is True,
          f"not complete and verified: {summary}")
    check(summary["tasks"] == count and summary["results"] == count,
          f"tasks/results {summary['tasks']}/{summary['results']}, expected {count}")
    check(summary["duplicates"] == 0 and summary["malformed"] == 0, f"{summary}")
    check(summary["sum_of_squares"] == expected == summary["expected_sum_of_squares"],
          f"sum {summary['sum_of_squares']}, expected {expected}")
    workers = summary["workers"]
    check(len(workers) == WORKERS and all(n > 0 for n in workers.values()),
          f"expected {WORKERS} workers each with tasks: {workers}")
    check(sum(workers.values()) == count, f"worker counts add up to {sum(workers.values())}")
    hosts = worker_hosts(project)
    check(all(w.rsplit("-", 1)[0] in hosts for w in workers),
          f"worker ids {sorted(workers)} are not this project's workers {hosts}")
    log(f"[{project.label}] MILLION: up (start to every container gone) {seconds:.1f} s; "
        f"sink job time {summary['seconds']:.3f} s, {summary['tasks_per_s']:.0f} tasks/s; "
        f"sum {summary['sum_of_squares']} verified; per worker "
        + " ".join(f"{k}={v}" for k, v in sorted(workers.items())))


def case_one_task(project):
    project.build()
    rc, _, text = up_and_wait(project, {"DIVVY_COUNT": "1"}, timeout=300)
    check(rc == 0, f"up exited {rc}:\n{text[-3000:]}")
    check_all_exited_zero(project)
    check_summary(project, 1, workers=1)


def case_orders(project):
    """Each order of sink, workers, ventilator, started one by one with
    `up -d --no-deps`. The ventilator's default gate, dns:worker, counts the
    worker replicas that exist when it looks; started before the workers it
    would see none (then it waits for one) and could start the job before all
    eight are up, so those orders set DIVVY_MIN_WORKERS=8 explicitly."""
    project.build()
    for order in itertools.permutations(SERVICES):
        variables = {}
        if order.index("ventilator") < order.index("worker"):
            variables["DIVVY_MIN_WORKERS"] = str(WORKERS)
        project.down()
        start = time.monotonic()
        for service in order:
            args = ["up", "-d", "--no-deps"]
            if service == "worker":
                args += ["--scale", f"worker={WORKERS}"]
            rc, text, _ = project.compose(*args, service, timeout=120, variables=variables)
            check(rc == 0, f"order {order}: up -d {service} exited {rc}:\n{text[-2000:]}")
            time.sleep(1)  # let the service really be up before the next one
        infos = wait_exited(project.containers(), 120)
        codes = exit_codes(infos)
        bad = {k: v for k, v in codes.items() if v != 0}
        if bad or len(infos) != WORKERS + 2:
            dump_logs(project)
        check(len(infos) == WORKERS + 2, f"order {order}: {len(infos)} containers: {codes}")
        check(not bad, f"order {order} ({variables or 'dns:worker'}): not 0: {bad}")
        check_summary(project, 100)
        log(f"[{project.label}] order {' -> '.join(order)} "
            f"({'DIVVY_MIN_WORKERS=8' if variables else 'dns:worker'}): complete, all exit 0, "
            f"{time.monotonic() - start:.1f} s")


def case_exit_code_from(project):
    project.build()
    rc, _, text = up_and_wait(project, {}, timeout=300, extra=("--exit-code-from", "sink"))
    check(rc == 0, f"up --exit-code-from sink returned {rc}, expected the sink's 0:\n"
          f"{text[-3000:]}")
    sink = inspect([sink_id(project)])[0]
    check(sink["State"]["ExitCode"] == 0, f"sink exit {sink['State']['ExitCode']}")
    check_summary(project, 100)
    # A sink that fails must fail the command with its own code: a sink
    # stopped mid-job exits 143, and so must `up --exit-code-from sink`.
    # (Not a sink that fails at start-up: Compose v2.29 goes on starting the
    # other services after the abort and then waits for them forever, see
    # docker/compose#12345; the workers and the ventilator wait for a sink.)
    project.down()
    output = os.path.join(project.tmp, "up-stopped.log")
    process = project.compose_background(
        "up", "--scale", f"worker={WORKERS}", "--no-color", "--exit-code-from", "sink",
        output=output, variables=LONG_JOB)
    try:
        sink = wait_for_job(project)
        start = time.monotonic()
        docker("stop", sink, timeout=60)
        rc = wait(process, 120, "up --exit-code-from sink, after docker stop of the sink")
    finally:
        stop_process(process)
    sink_code = inspect([sink])[0]["State"]["ExitCode"]
    check(sink_code == 143, f"the stopped sink exited {sink_code}, expected 143")
    with open(output, errors="replace") as handle:
        text = handle.read()
    check(rc == 143, f"up --exit-code-from sink returned {rc}, expected the sink's 143:\n"
          f"{text[-2000:]}")
    log(f"[{project.label}] --exit-code-from sink: 0 for a good job; 143 for a sink stopped "
        f"mid-job, {time.monotonic() - start:.1f} s after the stop")


# One task per batch, 20 ms per task, 100000 tasks: minutes with 8 workers.
LONG_JOB = {"DIVVY_COUNT": "100000", "DIVVY_BATCH": "1", "DIVVY_TASK_DELAY_US": "20000",
            "DIVVY_QUIET": "1"}


def wait_for_job(project, timeout=60, settle=1):
    """Waits until the sink has announced the job (the ventilator has passed
    its gate), then `settle` seconds so that results flow; returns the sink's
    container id."""
    deadline = time.monotonic() + timeout
    while True:
        ids = project.containers("sink")
        try:
            if ids and "gathering" in logs(ids[0], "stderr"):
                break
        except Failure:
            #  Compose lists a container while the engine is still creating
            #  it (seen under load: "No such container"); ask again.
            pass
        check(time.monotonic() < deadline, f"the job did not start within {timeout} s")
        time.sleep(0.5)
    time.sleep(settle)  # results are flowing now
    return ids[0]


def start_long_job(project):
    """`up -d` of a job that runs for minutes; returns once it is under way."""
    rc, text, _ = project.compose("up", "-d", "--scale", f"worker={WORKERS}", timeout=120,
                                  variables=LONG_JOB)
    check(rc == 0, f"up -d exited {rc}:\n{text[-2000:]}")
    return wait_for_job(project)


def stop_and_check(project, container, what, grace=5):
    start = time.monotonic()
    docker("stop", "-t", str(grace), container, timeout=grace + 30)
    seconds = time.monotonic() - start
    info = inspect([container])[0]
    code = info["State"]["ExitCode"]
    check(code == 143, f"{what}: exit {code} after docker stop, expected 143 (SIGTERM, "
          f"clean); 137 would mean it was killed after the grace period")
    check(seconds < grace - 1, f"{what}: docker stop took {seconds:.1f} s of a {grace} s grace")
    log(f"[{project.label}] docker stop {what}: exit 143 in {seconds:.2f} s (grace {grace} s)")
    return info


def case_stop(project):
    project.build()
    start_long_job(project)
    workers = project.containers("worker")
    check(len(workers) == WORKERS, f"{len(workers)} workers running")
    stop_and_check(project, workers[0], "a worker")
    stop_and_check(project, project.containers("ventilator")[0], "the ventilator")
    sink = sink_id(project)
    stop_and_check(project, sink, "the sink")
    text = logs(sink, "stderr")
    stopped = parse_summary(text, outcome="interrupted")
    check(stopped["tasks"] == 100000, f"the stopped sink's summary: {stopped}")
    log(f"[{project.label}] the stopped sink printed its (interrupted) summary")
    # A worker whose sink and ventilator are gone: it keeps reconnecting to
    # names that no longer resolve, and must still stop at once.
    time.sleep(2)
    stop_and_check(project, workers[1], "a worker whose sink and ventilator are gone",
                   grace=10)


def case_healthy(project):
    """The sink's healthcheck (divvy-status on its control socket) turns it
    healthy while a job runs; the health log shows the running job; the job
    then ends exact and every container exits 0."""
    check_healthy(project)


def case_curve_healthy(project):
    """case healthy with docker-compose.curve.yml: the healthcheck talks CURVE
    (the sink's certificate, --curve-server) and turns the sink healthy."""
    check_healthy(project)


def check_healthy(project):
    project.build()
    rc, text, _ = project.compose("up", "-d", "--scale", f"worker={WORKERS}", timeout=120,
                                  variables={"DIVVY_COUNT": "20000", "DIVVY_BATCH": "10",
                                             "DIVVY_TASK_DELAY_US": "3000",
                                             "DIVVY_QUIET": "1"})
    check(rc == 0, f"up -d exited {rc}:\n{text[-2000:]}")
    sink = sink_id(project)
    deadline = time.monotonic() + 120
    #  Healthy, and a probe that saw the job running, while the sink runs.
    while True:
        info = inspect([sink])[0]
        health = info["State"].get("Health") or {}
        check(health, "the sink container has no healthcheck")
        running = [entry.get("Output", "") for entry in health.get("Log") or []
                   if entry.get("ExitCode") == 0 and
                   re.search(r"^running: job \d+, [\d,]+ of 20,000 tasks",
                             entry.get("Output", ""), re.M)]
        if health.get("Status") == "healthy" and running:
            break
        check(info["State"]["Running"],
              f"the sink exited before a probe saw its job running: {health}")
        check(time.monotonic() < deadline,
              f"no healthy probe of the running job within 120 s: {health}")
        time.sleep(0.5)  # polling the engine's view, not synchronising
    log(f"[{project.label}] the sink turned healthy during the job: {running[-1].strip()!r}")
    infos = wait_exited(project.containers(), 300)
    codes = exit_codes(infos)
    check(all(code == 0 for code in codes.values()), f"exit codes: {codes}")
    summary = parse_summary(logs(sink, "stderr"))
    check(summary["received"] == summary["tasks"] == 20000 and summary["verified"],
          f"the sink's summary: {summary}")
    log(f"[{project.label}] healthy: job exact, all {len(infos)} containers exited 0")


def case_down(project):
    """`down` while a job runs: SIGTERM ends every container at once (no 10 s
    grace used up), and nothing of the project is left."""
    project.build()
    start_long_job(project)
    rc, seconds = project.down()
    check(rc == 0, f"down exited {rc}")
    left = project.leftovers()
    check(not left, f"left behind after down: {left}")
    check(seconds < 10, f"down took {seconds:.1f} s: some container ignored SIGTERM")
    log(f"[{project.label}] down of a running job in {seconds:.1f} s, nothing left")


# Long enough that two workers can be killed while it runs: 20000 tasks of 2 ms
# each in batches of 10, about 5 s of work for 8 workers.
KILL_JOB = {"DIVVY_COUNT": "20000", "DIVVY_BATCH": "10", "DIVVY_TASK_DELAY_US": "2000",
            "DIVVY_QUIET": "1", "DIVVY_JSON": "1"}
KILLED = 2


def check_json_summary(project, count, workers=None):
    """The sink's --json summary: complete, verified, the exact sum (computed
    here), every result once; returns it."""
    summary = last_json_line(logs(sink_id(project), "stdout"))
    expected = str(sum_of_squares(1, count))
    check(summary["complete"] is True and summary["verified"] is True,
          f"not complete and verified: {summary}")
    check(summary["tasks"] == count and summary["results"] == count,
          f"tasks/results {summary['tasks']}/{summary['results']}, expected {count}")
    check(summary["malformed"] == 0, f"malformed results: {summary}")
    check(summary["sum_of_squares"] == expected == summary["expected_sum_of_squares"],
          f"sum {summary['sum_of_squares']}, expected {expected}")
    counts = summary["workers"]
    check(sum(counts.values()) == count, f"worker counts add up to {sum(counts.values())}")
    if workers is not None:
        check(len(counts) == workers, f"{len(counts)} worker ids, expected {workers}: {counts}")
    return summary


def case_kill_workers(project):
    """`docker kill` (SIGKILL) two of eight workers while the job runs: the
    tasks they held are lost, the sink asks for them again (RESEND), the
    ventilator resends them, and the job still ends exact; `up` returns 0, the
    six survivors exit 0 and the two killed ones 137."""
    project.build()
    output = os.path.join(project.tmp, "up.log")
    process = project.compose_background(
        "up", "--scale", f"worker={WORKERS}", "--no-color", output=output,
        variables=KILL_JOB)
    try:
        # "gathering": the ventilator passed its gate (all eight workers
        # connected) and tasks are going out. Half a second later every
        # worker holds a window of tasks: kill two of them then.
        sink = wait_for_job(project, settle=0.5)
        workers = sorted(project.containers("worker"))
        check(len(workers) == WORKERS, f"{len(workers)} worker containers, expected {WORKERS}")
        victims = workers[:KILLED]
        states = [i["State"] for i in inspect([sink, *victims])]
        check(all(s["Running"] for s in states),
              "the job ended before two workers could be killed: make KILL_JOB longer")
        docker("kill", *victims, timeout=30)
        killed_at = time.monotonic()
        log(f"[{project.label}] killed workers "
            + ", ".join(describe(i) for i in inspect(victims)) + " mid-job")
        rc = wait(process, 300, "up after killing two workers")
    finally:
        stop_process(process)
    with open(output, errors="replace") as handle:
        text = handle.read()
    check(rc == 0, f"up exited {rc}:\n{text[-3000:]}")
    infos = wait_exited(project.containers(), 30)
    codes = {i["Id"]: i["State"]["ExitCode"] for i in infos}
    check(len(infos) == WORKERS + 2, f"expected {WORKERS + 2} containers: {exit_codes(infos)}")
    for victim in victims:
        check(codes[victim] == 137, f"killed worker exited {codes[victim]}, expected 137")
    others = {describe(i): i["State"]["ExitCode"] for i in infos if i["Id"] not in victims}
    bad = {k: v for k, v in others.items() if v != 0}
    check(not bad, f"survivors (sink, ventilator, six workers) that did not exit 0: {bad}")
    summary = check_json_summary(project, int(KILL_JOB["DIVVY_COUNT"]))
    check(summary["resends"] > 0 and summary["tasks_requested_again"] > 0,
          f"no RESEND although two workers died holding tasks: {summary}")
    log(f"[{project.label}] KILL_WORKERS: up 0, {len(summary['workers'])} worker ids, "
        f"killed 137 x{KILLED}, survivors (sink, ventilator, {len(others) - 2} workers) 0; complete, verified, sum "
        f"{summary['sum_of_squares']}; resends {summary['resends']}, "
        f"tasks_requested_again {summary['tasks_requested_again']}, duplicates "
        f"{summary['duplicates']}; job {summary['seconds']:.2f} s, the rest "
        f"{time.monotonic() - killed_at:.1f} s after the kill")


def keys_volumes(project):
    return docker("volume", "ls", "-q", "--filter",
                  f"label=com.docker.compose.project={project.name}").split()


def case_curve(project):
    """docker-compose.curve.yml: the `keys` service makes the certificates in
    a volume, the job runs encrypted with 8 workers, a second `up` keeps the
    keys, and `down -v` removes the volume."""
    project.build()
    rc, _, text = up_and_wait(project, {"DIVVY_JSON": "1"}, timeout=300)
    check(rc == 0, f"up exited {rc}:\n{text[-3000:]}")
    check_all_exited_zero(project, expected=WORKERS + 3)
    check_summary(project, 100)
    summary = check_json_summary(project, 100, workers=WORKERS)
    keys = project.containers("keys")
    check(len(keys) == 1, f"{len(keys)} keys containers")
    # CURVE was on: each program got its certificates (a missing or unreadable
    # one would have failed it, not made it run in plain text).
    wanted_env = {"sink": {"DIVVY_CURVE_CERT=/keys/server", "DIVVY_CURVE_ALLOW=/keys/allow"},
                  "ventilator": {"DIVVY_CURVE_CERT=/keys/server", "DIVVY_CURVE_ALLOW=/keys/allow",
                                 "DIVVY_CURVE_SERVER=/keys/server"},
                  "worker": {"DIVVY_CURVE_CERT=/keys/worker", "DIVVY_CURVE_SERVER=/keys/server"}}
    for service, wanted_vars in wanted_env.items():
        for info in inspect(project.containers(service)):
            missing = wanted_vars - set(info["Config"]["Env"])
            check(not missing, f"{describe(info)} lacks {missing}")
    volumes = keys_volumes(project)
    check(len(volumes) == 1 and volumes[0].endswith("_keys"), f"volumes {volumes}")
    # The files, as a divvy process sees them (same image, same user).
    listing = docker("run", "--rm", "--network", "none", "-v", f"{volumes[0]}:/keys:ro",
                     "--entrypoint", "/bin/sh", "divvy:latest", "-c",
                     "cd /keys && stat -c '%n %a %u' * allow/*", timeout=60)
    modes = dict((n, (m, u)) for n, m, u in (line.split() for line in listing.splitlines()))
    wanted = {"server": "644", "server_secret": "600", "worker": "644",
              "worker_secret": "600", "allow/server": "644", "allow/worker": "644"}
    check(set(modes) == set(wanted | {"allow": None}) or set(modes) == set(wanted),
          f"files in the keys volume: {modes}")
    for name, mode in wanted.items():
        check(modes[name] == (mode, "10001"), f"{name}: mode/uid {modes[name]}, "
              f"expected {mode} 10001")
    first = logs(keys[0])
    check(first.count("/keys/") >= 2 and "kept" not in first, f"keys said:\n{first}")
    # A new run on the same volume keeps the certificates.
    rc, text, _ = project.compose("rm", "-f", "-s", timeout=120)
    check(rc == 0, f"rm exited {rc}:\n{text[-2000:]}")
    check(keys_volumes(project) == volumes, "rm removed the keys volume")
    rc, _, text = up_and_wait(project, {"DIVVY_JSON": "1"}, timeout=300)
    check(rc == 0, f"second up exited {rc}:\n{text[-3000:]}")
    check_all_exited_zero(project, expected=WORKERS + 3)
    second = logs(project.containers("keys")[0])
    check(second.count("exists: kept") == 2, f"keys on the second run said:\n{second}")
    summary = check_json_summary(project, 100, workers=WORKERS)
    rc, seconds = project.down()
    check(rc == 0, f"down -v exited {rc}")
    check(not keys_volumes(project), f"down -v left the keys volume {keys_volumes(project)}")
    log(f"[{project.label}] CURVE: keys made once (0600 secrets, uid 10001), two encrypted "
        f"jobs verified with {len(summary['workers'])} workers, keys kept on the second "
        f"run, down -v removed the volume ({seconds:.1f} s)")


EXEC_LINES = 6000


def exec_lines():
    """Mixed-case ASCII lines, some empty, some with tabs and quotes."""
    words = ["Alpha", "bravo", "CHARLIE", "delta's", "echo\tfox", "", "golf \"hotel\""]
    return [f"{index} {words[index % 7]} {words[(index * 5) % 7]}".rstrip()
            for index in range(EXEC_LINES)]


def case_exec(project):
    """docker-compose.exec.yml as its comment runs it: a line job through
    `tr a-z A-Z` in 8 worker containers (the image's /bin/sh and coreutils),
    `up --exit-code-from sink` 0, every container 0, each line's result
    exactly once and right, every worker with tasks."""
    project.build()
    lines = exec_lines()
    path = os.path.join(project.tmp, "lines.txt")
    with open(path, "w") as handle:
        handle.write("".join(line + "\n" for line in lines))
    os.chmod(project.tmp, 0o755)  # the ventilator's user reads the mount
    os.chmod(path, 0o644)
    rc, _, text = up_and_wait(project, {"DIVVY_LINES_FILE": path, "DIVVY_JSON": "1"},
                              timeout=300, extra=("--exit-code-from", "sink"))
    check(rc == 0, f"up --exit-code-from sink returned {rc}:\n{text[-3000:]}")
    check_all_exited_zero(project)
    out = logs(sink_id(project), "stdout").splitlines()
    summary = last_json_line("\n".join(out))
    check(summary.get("kind") == "lines" and summary["complete"] is True,
          f"not a complete line job: {summary}")
    check(summary["tasks"] == EXEC_LINES and summary["results"] == EXEC_LINES
          and summary["failed"] == 0 and summary["duplicates"] == 0,
          f"counts in {summary}")
    results = {}
    for line in out[:-1]:
        task, tab, result = line.partition("\t")
        check(tab and task.isdigit() and int(task) not in results,
              f"not TASK_ID<TAB>RESULT, or a task printed twice: {line[:200]!r}")
        results[int(task)] = result
    check(sorted(results) == list(range(EXEC_LINES)),
          f"{len(results)} distinct tasks printed, expected {EXEC_LINES}")
    upper = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    wrong = [task for task, line in enumerate(lines) if results[task] != line.translate(upper)]
    check(not wrong, f"{len(wrong)} results differ from tr a-z A-Z, first task {wrong[:1]}")
    workers = summary["workers"]
    check(len(workers) == WORKERS and all(n > 0 for n in workers.values()),
          f"expected {WORKERS} workers each with tasks: {workers}")
    log(f"[{project.label}] exec: {EXEC_LINES} lines through tr a-z A-Z, exact, per worker "
        + " ".join(str(n) for n in sorted(workers.values())))


def prometheus_query(container, query):
    """One instant query through promtool inside the Prometheus container:
    {labels text: value}."""
    text = docker("exec", container, "promtool", "query", "instant", "http://127.0.0.1:9090",
                  query)
    found = {}
    for line in text.splitlines():
        match = re.match(r"^(.*) => (\S+) @\[[\d.]+\]$", line.strip())
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def case_prometheus(project):
    """docker-compose.prometheus.yml: a Prometheus built from the project's
    base image (Debian's package) scrapes every role's --metrics during a
    job; after it, its HTTP API (promtool query) returns the job's size for
    the sink's divvy_results_total; every divvy container exits 0."""
    count = 20000
    project.build(services=("sink", "prometheus"))
    rc, text, _ = project.compose("up", "-d", "--scale", f"worker={WORKERS}", timeout=120,
                                  variables={"DIVVY_COUNT": str(count), "DIVVY_BATCH": "10",
                                             "DIVVY_TASK_DELAY_US": "2000",
                                             "DIVVY_QUIET": "1", "DIVVY_LINGER": "3000"})
    check(rc == 0, f"up -d exited {rc}:\n{text[-2000:]}")
    prometheus = project.containers("prometheus")
    check(len(prometheus) == 1, f"{len(prometheus)} prometheus containers")
    roles = [c for service in SERVICES for c in project.containers(service)]
    infos = wait_exited(roles, 300)
    codes = exit_codes(infos)
    check(all(code == 0 for code in codes.values()), f"exit codes: {codes}")
    summary = parse_summary(logs(sink_id(project), "stderr"))
    check(summary["received"] == count and summary["verified"], f"the summary: {summary}")
    results = prometheus_query(prometheus[0],
                               'max_over_time(divvy_results_total{job="sink"}[1h])')
    check(list(results.values()) == [count],
          f"Prometheus' divvy_results_total: {results}, expected {count}")
    workers = prometheus_query(prometheus[0],
                               'count(max_over_time(divvy_tasks_squared_total[1h]))')
    sent = prometheus_query(prometheus[0],
                            'max_over_time(divvy_tasks_sent_total{job="ventilator"}[1h])')
    log(f"[{project.label}] Prometheus read divvy_results_total {count} from the sink; "
        f"workers scraped: {list(workers.values())}, ventilator tasks sent: "
        f"{list(sent.values())}")
    #  Found by DNS every 2 s: most replicas, all of them on a quiet machine.
    check(list(workers.values()) and list(workers.values())[0] >= 1,
          f"workers Prometheus scraped: {workers}")


def flavours_case(flavours):
    """Both flavours or, in CI, a failure; elsewhere a skip that says which
    is absent and how to get it."""
    missing = missing_flavours(flavours)
    how = {"v2": "tools/compose-v2 builds it (tools/check runs it when Go is there)",
           "v1": "apt-get install docker-compose (tools/check does)"}
    for label in missing:
        log(f"Compose {label} (`{FLAVOURS[label]}`) is absent: {how[label]}")
    if not missing:
        print("flavours: OK with " + ", ".join(f"{label} ({' '.join(argv)})"
                                              for label, argv in flavours))
        return 0
    if in_ci():
        print(f"flavours: FAIL: CI=true and {', '.join(FLAVOURS[m] for m in missing)} "
              "absent, after tools/check should have made it", flush=True)
        return 1
    skip(f"{', '.join(FLAVOURS[m] for m in missing)} absent: the Compose cases run with "
         + (", ".join(label for label, _ in flavours) or "no flavour"))
    return 77


def run_case(source, case, flavour):
    """One case with one flavour, in a project of its own; True if it passed."""
    project = Project(source, flavour,
                      f"{case.replace('_', '-')}-{flavour[0].split('-')[0]}",
                      overrides=OVERRIDES.get(case, ()))
    log(f"[{project.label}] case {case}, project {project.name}")
    passed = True
    start = time.monotonic()
    try:
        project.down()  # v1 cannot recreate containers: start from nothing
        CASES[case](project)
    except Failure as failure:
        passed = False
        log(f"[{project.label}] FAIL: {failure}")
        try:
            dump_logs(project)
        except Exception as error:  # noqa: BLE001
            log(f"(could not dump logs: {error})")
    except Exception as error:  # noqa: BLE001 - a thread must report, not vanish
        passed = False
        log(f"[{project.label}] FAIL: {type(error).__name__}: {error}")
    finally:
        try:
            project.teardown()
        except Failure as failure:
            passed = False
            log(f"[{project.label}] FAIL at teardown: {failure}")
    log(f"[{project.label}] case {case} {'passed' if passed else 'FAILED'} in "
        f"{time.monotonic() - start:.1f} s")
    return passed


OVERRIDES = {"curve": ("docker-compose.curve.yml",),
             "exec": ("docker-compose.exec.yml",),
             "curve_healthy": ("docker-compose.curve.yml",),
             "prometheus": ("docker-compose.prometheus.yml",)}
# Cases whose checks time how fast a container stops: one flavour at a time.
SEQUENTIAL = {"stop", "down"}
CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    names = ["flavours", *CASES]
    if len(sys.argv) != 3 or sys.argv[2] not in names:
        print(f"usage: {sys.argv[0]} SOURCE_DIR {{{'|'.join(names)}}}", file=sys.stderr)
        return 2
    source, case = os.path.abspath(sys.argv[1]), sys.argv[2]
    require_engine()
    flavours = compose_flavours()
    if case == "flavours":
        return flavours_case(flavours)
    if not flavours:
        skip("neither `docker compose` (v2) nor `docker-compose` (v1) is installed")
    for label in missing_flavours(flavours):
        log(f"Compose {label} (`{FLAVOURS[label]}`) is absent: case {case} runs without it")
    log("Compose flavours: " + ", ".join(f"{label} ({' '.join(argv)})"
                                         for label, argv in flavours))
    if case != "config":
        ensure_base_image(source)
    start = time.monotonic()
    results = {}
    if case in SEQUENTIAL or len(flavours) == 1:
        for flavour in flavours:
            results[flavour[0]] = run_case(source, case, flavour)
    else:
        def target(flavour):
            results[flavour[0]] = run_case(source, case, flavour)
        threads = [threading.Thread(target=target, args=(f,), name=f[0], daemon=True)
                   for f in flavours]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # a short join keeps SIGTERM's handler running
                thread.join(0.5)
    failed = [label for label, _ in flavours if not results.get(label)]
    how = "one after the other" if case in SEQUENTIAL or len(flavours) == 1 else "side by side"
    print(f"{case}: {'FAIL' if failed else 'OK'} with " + ", ".join(f[0] for f in flavours)
          + f" ({how}, {time.monotonic() - start:.1f} s)"
          + (f"; failed with {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
