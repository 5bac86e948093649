#!/usr/bin/env python3
"""The docker suite's Swarm case: docker/stack.yml deployed for real on a
single-node swarm of the local engine.

    test_swarm.py SOURCE_DIR

If the engine is not in a swarm, the test makes one (`docker swarm init
--advertise-addr 127.0.0.1`) and leaves it afterwards, removing the
docker_gwbridge network the swarm created. If the engine is already part of
a swarm, the test skips: it never deploys into someone's swarm. If the engine
refuses to start a swarm, the test skips with the engine's reason.

It deploys the stack under a name of its own (DIVVY_WORKERS=8, a 100000-task
job, --quiet --json), waits for all ten tasks to end, and checks that every
container exited 0 and that the sink's JSON summary is complete, exact and
names the eight workers. It removes the stack, whatever happened, and checks
that no container or network of it remains.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dockerlib import (Failure, check, clean_env, docker, ensure_base_image, exit_codes,  # noqa: E402
                       inspect, last_json_line, log, logs, on_terminate, require_engine, run,
                       skip, sum_of_squares)

WORKERS = 8
COUNT = 100_000
NODE_LABEL = "divvy-test-swarm"


def swarm_state():
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()


def stack_containers(stack, service=None):
    args = ["ps", "-a", "-q", "--no-trunc",
            "--filter", f"label=com.docker.stack.namespace={stack}"]
    if service:
        args += ["--filter", f"label=com.docker.swarm.service.name={stack}_{service}"]
    return docker(*args).split()


def stack_networks(stack):
    return docker("network", "ls", "-q", "--filter",
                  f"label=com.docker.stack.namespace={stack}").split()


def task_errors(stack):
    """Tasks that failed or were rejected, with the reason Swarm gives."""
    rc, text, _ = run(["docker", "stack", "ps", stack, "--no-trunc",
                       "--format", "{{.Name}} {{.CurrentState}} {{.Error}}"], 60)
    if rc != 0:
        return []
    return [line for line in text.splitlines()
            if line.split()[1:2] and line.split()[1] in ("Failed", "Rejected")]


def wait_for_tasks(stack, expected, timeout):
    """Waits until the stack has `expected` containers and all have exited."""
    deadline = time.monotonic() + timeout
    while True:
        errors = task_errors(stack)
        check(not errors, "Swarm tasks failed: " + "; ".join(errors))
        ids = stack_containers(stack)
        if len(ids) >= expected:
            infos = inspect(ids)
            if all(i["State"]["Status"] in ("exited", "dead") for i in infos):
                return infos
        if time.monotonic() > deadline:
            raise Failure(f"the stack's {expected} tasks did not all end within {timeout} s; "
                          f"{len(ids)} containers: "
                          + str(exit_codes(inspect(ids))))
        time.sleep(1)


def remove_stack(stack):
    run(["docker", "stack", "rm", stack], 120)
    deadline = time.monotonic() + 120
    while stack_containers(stack) or stack_networks(stack):
        if time.monotonic() > deadline:
            raise Failure(f"stack {stack} left behind: containers "
                          f"{stack_containers(stack)}, networks {stack_networks(stack)}")
        time.sleep(1)
        # A network still held by an exiting container: try again.
        for network in stack_networks(stack):
            run(["docker", "network", "rm", network], 60)
    log(f"stack {stack} removed: no containers or networks left")


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} SOURCE_DIR", file=sys.stderr)
        return 2
    source = os.path.abspath(sys.argv[1])
    require_engine()
    state = swarm_state()
    if state == "active" and docker(
            "node", "inspect", "self", "--format",
            f'{{{{index .Spec.Labels "{NODE_LABEL}"}}}}', check_rc=False).strip() == "1":
        log("a swarm left by an earlier run of this test (it was killed): leaving it")
        run(["docker", "swarm", "leave", "--force"], 120)
        run(["docker", "network", "rm", "docker_gwbridge"], 60)
        state = swarm_state()
    if state != "inactive":
        skip(f"this engine is already in a swarm (state '{state}'): not deploying into it")
    ensure_base_image(source)
    # The image: build it the way Compose does, so the stack finds divvy:latest.
    rc, text, seconds = run(["docker", "build", "-q", "-t", "divvy:latest", source], 1200,
                            env=clean_env({"DOCKER_BUILDKIT": "0"}))
    check(rc == 0, f"docker build failed:\n{text[-3000:]}")
    log(f"divvy:latest built (or up to date) in {seconds:.1f} s")

    had_gwbridge = "docker_gwbridge" in docker("network", "ls", "--format", "{{.Name}}").split()
    rc, text, _ = run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], 120)
    if rc != 0:
        skip(f"the engine refuses to start a swarm: {text.strip()}")
    log("single-node swarm started (docker swarm init --advertise-addr 127.0.0.1)")
    # Mark the swarm as this test's, so that a run killed before it could
    # leave is cleaned up by the next one (and no one else's swarm ever is).
    node = docker("info", "--format", "{{.Swarm.NodeID}}").strip()
    docker("node", "update", "--label-add", f"{NODE_LABEL}=1", node, check_rc=False)
    stack = f"divvytest{os.getpid()}"
    # If the test is terminated: remove the stack, then leave the swarm.
    on_terminate(["sh", "-c", f"docker stack rm {stack}; sleep 10; docker swarm leave --force"
                  + ("" if had_gwbridge else "; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 2; "
                     "docker network rm docker_gwbridge && break; done")])
    failed = False
    try:
        env = clean_env({"DIVVY_WORKERS": str(WORKERS), "DIVVY_COUNT": str(COUNT),
                         "DIVVY_QUIET": "1", "DIVVY_JSON": "1"})
        start = time.monotonic()
        rc, text, _ = run(["docker", "stack", "deploy", "--resolve-image", "never",
                           "-c", os.path.join(source, "docker", "stack.yml"), stack], 120,
                          env=env)
        check(rc == 0, f"docker stack deploy failed:\n{text}")
        infos = wait_for_tasks(stack, WORKERS + 2, 180)
        seconds = time.monotonic() - start
        codes = exit_codes(infos)
        check(len(infos) == WORKERS + 2, f"{len(infos)} containers, expected {WORKERS + 2}: "
              f"{codes}")
        check(all(c == 0 for c in codes.values()), f"not every container exited 0: {codes}")
        log(f"all {len(infos)} tasks ended, every container exited 0, {seconds:.1f} s")
        sinks = stack_containers(stack, "sink")
        check(len(sinks) == 1, f"{len(sinks)} sink containers")
        summary = last_json_line(logs(sinks[0], "stdout"))
        expected = str(sum_of_squares(1, COUNT))
        check(summary["complete"] is True and summary["verified"] is True
              and summary["results"] == COUNT and summary["sum_of_squares"] == expected,
              f"summary not complete, exact and verified: {summary}")
        workers = summary["workers"]
        hosts = {i["Config"]["Hostname"] for i in inspect(stack_containers(stack, "worker"))}
        check(len(workers) == WORKERS and all(n > 0 for n in workers.values())
              and all(w.rsplit("-", 1)[0] in hosts for w in workers),
              f"expected the {WORKERS} workers {sorted(hosts)} each with tasks: {workers}")
        log(f"sink: {COUNT} of {COUNT}, sum {summary['sum_of_squares']} verified, "
            f"{summary['seconds']:.3f} s; workers "
            + " ".join(f"{k}={v}" for k, v in sorted(workers.items())))
    except Failure as failure:
        failed = True
        log(f"FAIL: {failure}")
        for info in inspect(stack_containers(stack)):
            tail = "\n    ".join(logs(info["Id"]).splitlines()[-10:])
            log(f"--- {info['Name']} exit {info['State']['ExitCode']}:\n    {tail}")
    finally:
        try:
            remove_stack(stack)
        except Failure as failure:
            failed = True
            log(f"FAIL at teardown: {failure}")
        rc, text, _ = run(["docker", "swarm", "leave", "--force"], 120)
        if rc != 0:
            failed = True
            log(f"FAIL: docker swarm leave --force: {text}")
        else:
            log("left the swarm")
        if not had_gwbridge:
            run(["docker", "network", "rm", "docker_gwbridge"], 60)
    print(f"swarm: {'FAIL' if failed else 'OK'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
