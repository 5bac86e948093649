#!/usr/bin/env python3
"""The docker suite's Kubernetes case: the manifests in docker/kubernetes/
checked for structure (no cluster needed).

    test_kubernetes.py SOURCE_DIR

Checks: every manifest is listed in kustomization.yaml and loads; the kinds
(a Namespace, ClusterIP Services `sink` and `ventilator`, Jobs `sink`,
`ventilator` and `worker`); each Service selects the pods of its Job and
targets ports they declare; every pod has enableServiceLinks: false, runs
divvy:latest (never pulled when present) as the image's UID with the role as
its argument, and is given only DIVVY_* variables; the sink's readiness probe
runs divvy-status against its control port; the workers are a
work-queue Job (parallelism, no completions) and the ventilator's
DIVVY_MIN_WORKERS equals that parallelism; the endpoints name the Services
and their ports. With kubectl present, `kubectl kustomize` must render the
same objects.

Needs PyYAML (Debian: python3-yaml); skips (77) without it.
"""

import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("SKIP: PyYAML is missing (apt-get install python3-yaml)", flush=True)
    sys.exit(77)

ROLES = ("sink", "ventilator", "worker")
PORTS = {"sink": {5558, 5559}, "ventilator": {5557}}
ENDPOINTS = {"DIVVY_TASKS": ("ventilator", 5557), "DIVVY_RESULTS": ("sink", 5558),
             "DIVVY_CONTROL": ("sink", 5559)}

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def image_uid(source):
    with open(os.path.join(source, "Dockerfile")) as handle:
        match = re.search(r"useradd\s+--uid\s+(\d+)", handle.read())
    return int(match.group(1)) if match else None


def load(directory):
    with open(os.path.join(directory, "kustomization.yaml")) as handle:
        kustomization = yaml.safe_load(handle)
    check(kustomization.get("kind") == "Kustomization", "kustomization.yaml: kind Kustomization")
    listed = kustomization.get("resources") or []
    present = sorted(f for f in os.listdir(directory)
                     if f.endswith((".yaml", ".yml")) and f != "kustomization.yaml")
    check(sorted(listed) == present,
          f"kustomization.yaml lists {sorted(listed)}, the folder holds {present}")
    objects = []
    for name in present:
        with open(os.path.join(directory, name)) as handle:
            for document in yaml.safe_load_all(handle):
                if document:
                    check("apiVersion" in document and "kind" in document,
                          f"{name}: a document without apiVersion/kind")
                    objects.append(document)
    return kustomization, objects


def by_kind(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o.get("kind") == kind}


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env") or []}


def check_pod(role, job, uid):
    where = f"Job {role}"
    pod = job["spec"]["template"]["spec"]
    check(pod.get("enableServiceLinks") is False, f"{where}: enableServiceLinks must be false")
    check(pod.get("restartPolicy") in ("Never", "OnFailure"),
          f"{where}: restartPolicy {pod.get('restartPolicy')}")
    security = pod.get("securityContext") or {}
    check(security.get("runAsNonRoot") is True, f"{where}: runAsNonRoot")
    check(uid is None or security.get("runAsUser") == uid,
          f"{where}: runAsUser {security.get('runAsUser')}, the image's user is {uid}")
    containers = pod.get("containers") or []
    if not check(len(containers) == 1, f"{where}: one container, found {len(containers)}"):
        return None
    container = containers[0]
    check(container.get("image") == "divvy:latest", f"{where}: image {container.get('image')}")
    check(container.get("imagePullPolicy") in ("IfNotPresent", "Never"),
          f"{where}: imagePullPolicy {container.get('imagePullPolicy')} would pull :latest")
    arguments = container.get("args") or container.get("command") or []
    check(arguments[:1] == [role], f"{where}: the role must be the first argument: {arguments}")
    check("command" not in container, f"{where}: keep the image's entrypoint (use args)")
    names = [e["name"] for e in container.get("env") or []]
    check(names and all(n.startswith("DIVVY_") for n in names),
          f"{where}: only DIVVY_* variables, found {names}")
    check(len(names) == len(set(names)), f"{where}: a variable set twice: {names}")
    check(all(isinstance(e.get("value"), str) for e in container.get("env") or []),
          f"{where}: every env value must be a string")
    context = container.get("securityContext") or {}
    check(context.get("allowPrivilegeEscalation") is False,
          f"{where}: allowPrivilegeEscalation false")
    return container


def check_readiness(source, sink):
    """The sink's readiness probe runs divvy-status, which the image installs,
    against the control port the container declares, with a timeout inside
    the probe's own."""
    probe = sink.get("readinessProbe") or {}
    command = (probe.get("exec") or {}).get("command") or []
    if not check(command, "sink: a readinessProbe that execs a command"):
        return
    with open(os.path.join(source, "Dockerfile")) as handle:
        dockerfile = handle.read()
    check(command[0] == "/usr/local/bin/divvy-status" and
          "/src/build/divvy/divvy-status" in dockerfile,
          f"sink readinessProbe: {command[0]} must be the image's /usr/local/bin/divvy-status")
    options = dict(zip(command[1::2], command[2::2]))
    declared = {p.get("name"): p.get("containerPort") for p in sink.get("ports") or []}
    check(options.get("--control") == f"tcp://127.0.0.1:{declared.get('control')}",
          f"sink readinessProbe: --control {options.get('--control')}, expected the "
          f"container's control port {declared.get('control')} on 127.0.0.1")
    timeout_ms = int(options.get("--timeout", "5000"))
    check(timeout_ms < 1000 * probe.get("timeoutSeconds", 1),
          f"sink readinessProbe: --timeout {timeout_ms} ms must end before the probe's "
          f"timeoutSeconds {probe.get('timeoutSeconds', 1)}")
    check(probe.get("periodSeconds", 10) <= 5, "sink readinessProbe: periodSeconds <= 5")


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} SOURCE_DIR", file=sys.stderr)
        return 2
    source = os.path.abspath(sys.argv[1])
    directory = os.path.join(source, "docker", "kubernetes")
    kustomization, objects = load(directory)
    namespace = kustomization.get("namespace")
    check(namespace, "kustomization.yaml: a namespace")
    check(set(by_kind(objects, "Namespace")) == {namespace},
          f"one Namespace object, {namespace}")
    for o in objects:
        if o["kind"] != "Namespace":
            check(o["metadata"].get("namespace") == namespace,
                  f"{o['kind']} {o['metadata']['name']}: namespace {namespace}")
    kinds = sorted(o["kind"] for o in objects)
    check(kinds == ["Job", "Job", "Job", "Namespace", "Service", "Service"],
          f"kinds {kinds}: expected 3 Jobs, 2 Services, 1 Namespace")

    jobs = by_kind(objects, "Job")
    services = by_kind(objects, "Service")
    check(set(jobs) == set(ROLES), f"Jobs {sorted(jobs)}, expected {ROLES}")
    check(set(services) == set(PORTS), f"Services {sorted(services)}, expected {sorted(PORTS)}")
    uid = image_uid(source)
    check(uid is not None, "Dockerfile: no useradd --uid")
    containers = {role: check_pod(role, jobs[role], uid) for role in ROLES if role in jobs}

    for name, service in services.items():
        spec = service["spec"]
        check(spec.get("type", "ClusterIP") == "ClusterIP" and spec.get("clusterIP") != "None",
              f"Service {name}: type ClusterIP with a cluster IP")
        ports = {p["port"] for p in spec.get("ports") or []}
        check(ports == PORTS[name], f"Service {name}: ports {ports}, expected {PORTS[name]}")
        job = jobs.get(name)
        if not job:
            continue
        labels = job["spec"]["template"]["metadata"].get("labels") or {}
        selector = spec.get("selector") or {}
        check(selector and all(labels.get(k) == v for k, v in selector.items()),
              f"Service {name}: selector {selector} does not select Job {name}'s pods {labels}")
        others = [r for r in ROLES if r != name and r in jobs]
        for other in others:
            other_labels = jobs[other]["spec"]["template"]["metadata"].get("labels") or {}
            check(not all(other_labels.get(k) == v for k, v in selector.items()),
                  f"Service {name}: selector also selects Job {other}'s pods")
        container = containers.get(name) or {}
        declared = {p.get("name"): p.get("containerPort") for p in container.get("ports") or []}
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port["port"])
            number = declared.get(target) if isinstance(target, str) else target
            check(number == port["port"],
                  f"Service {name}: port {port['port']} targets {target}, which is "
                  f"{number} in the container")

    worker = jobs.get("worker")
    if worker:
        spec = worker["spec"]
        parallelism = spec.get("parallelism")
        check(isinstance(parallelism, int) and parallelism >= 1,
              f"Job worker: parallelism {parallelism}")
        check("completions" not in spec, "Job worker: a work-queue Job has no completions")
        ventilator = containers.get("ventilator") or {}
        gate = env_of(ventilator).get("DIVVY_MIN_WORKERS")
        check(gate == str(parallelism),
              f"ventilator DIVVY_MIN_WORKERS {gate!r} must equal the worker Job's "
              f"parallelism {parallelism}")
    for role in ("sink", "ventilator"):
        if role in jobs:
            check(jobs[role]["spec"].get("completions", 1) == 1, f"Job {role}: one completion")

    for role, container in containers.items():
        env = env_of(container or {})
        for variable, (service, port) in ENDPOINTS.items():
            binds = (role == "ventilator" and variable == "DIVVY_TASKS") or (
                role == "sink" and variable in ("DIVVY_RESULTS", "DIVVY_CONTROL"))
            if binds:
                check(variable not in env, f"{role}: binds {variable}'s socket by default; "
                      f"do not set it")
            elif role != "sink" and not (role == "ventilator" and variable == "DIVVY_TASKS"):
                check(env.get(variable) == f"tcp://{service}:{port}",
                      f"{role}: {variable}={env.get(variable)}, expected tcp://{service}:{port}")

    check_readiness(source, containers.get("sink") or {})

    kubectl = shutil.which("kubectl")
    if kubectl:
        process = subprocess.run([kubectl, "kustomize", directory], capture_output=True,
                                 text=True, timeout=120)
        if check(process.returncode == 0, f"kubectl kustomize failed: {process.stderr}"):
            rendered = [d for d in yaml.safe_load_all(process.stdout) if d]
            got = sorted((d["kind"], d["metadata"]["name"], d["metadata"].get("namespace"))
                         for d in rendered)
            want = sorted((o["kind"], o["metadata"]["name"],
                           None if o["kind"] == "Namespace" else namespace) for o in objects)
            check(got == want, f"kubectl kustomize renders {got}, expected {want}")
            print("kubectl kustomize renders the same objects")
    else:
        print("kubectl not found: kustomize rendering not checked")

    for failure in failures:
        print(f"FAIL: {failure}")
    summary = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
    print(f"kubernetes: {'FAIL' if failures else 'OK'}: {summary}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
