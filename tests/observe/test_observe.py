#!/usr/bin/env python3
"""The observe suite: --metrics on every role, a real Prometheus scraping a
live job, `divvy status`, and the status lines of the ventilator and the
workers. Python 3 standard library; it reuses ../integration/harness.py.

    test_observe.py CASE

Cases:
  metrics_live      each role's /metrics during a job passes `promtool check
                    metrics`; at the end the counters are exact (results, per
                    worker, tasks squared, tasks sent)
  metrics_bad       --metrics 99999: exit 2, one line; a busy port: exit 1,
                    one line; for each role
  prometheus        Prometheus (on loopback, a temp dir) scrapes the sink of a
                    live job; its HTTP API returns the job's size for
                    divvy_results_total
  status_once       divvy-status on an idle, a running and a done sink; --json
  status_watch      --watch --json through a job: counts never go back, the
                    last line says done, exit 0
  status_timeout    no sink: exit 1 within the bound, one line; bad option: 2
  status_lines      a 6 s job: the ventilator and the workers each say how they
                    are doing every 5 s; with --quiet they do not

Exit 0 on success, 1 on failure, 77 (skip) without promtool / prometheus.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import (Pipeline, TestFailure, TestSkip, check, check_clean_stderr,  # noqa: E402
                     check_equal, check_one_line, free_tcp_port, main, scaled)
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
from test_faults import curve_flags, make_keys  # noqa: E402

JOB_TIMEOUT = 60
METRICS_LINE = r"metrics on http://127\.0\.0\.1:(\d+)/metrics"


def tool(name):
    path = shutil.which(name)
    if not path:
        raise TestSkip(f"{name} is missing (Debian: apt-get install prometheus)")
    return path


def metrics_url(process):
    port = process.wait_for_line("stderr", METRICS_LINE, 10).group(1)
    return f"http://127.0.0.1:{port}/metrics"


def scrape(url):
    with urllib.request.urlopen(url, timeout=scaled(10)) as response:
        check_equal(response.status, 200, f"GET {url}")
        check(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"),
              f"{url}: Content-Type {response.headers['Content-Type']!r}")
        return response.read().decode()


def samples(text):
    """{name or name{labels}: value} of an exposition."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            found[key] = float(value)
    return found


def promtool_check(text, what):
    promtool = tool("promtool")
    run = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                         capture_output=True, timeout=scaled(30))
    check(run.returncode == 0,
          f"promtool check metrics on {what}: {run.returncode}: "
          f"{(run.stdout + run.stderr).decode()[-1000:]}")


def wait_for(what, predicate, timeout=20):
    """Polls predicate (a condition of a live process, not a sleep for
    synchronisation) until it returns something true."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TestFailure(f"not within {scaled(timeout):.0f} s: {what}")
        time.sleep(0.05)


def slow_job(pipeline, count, workers=2, delay_us=200, sink_args=(), role_args=()):
    """A sink, workers and a ventilator for a job that takes a while: count
    tasks at delay_us each in batches of 10."""
    sink = pipeline.sink(["--quiet", "--linger", "4000"] + list(sink_args))
    started = [pipeline.worker(["--id", f"w{index}", "--task-delay-us", str(delay_us)]
                               + list(role_args)) for index in range(workers)]
    ventilator = pipeline.ventilator(["--count", str(count), "--batch", "10",
                                      "--min-workers", str(workers)] + list(role_args))
    return sink, started, ventilator


def finish(processes):
    for process in processes:
        process.expect_exit(0, JOB_TIMEOUT)
        check_clean_stderr(process)


def case_metrics_live():
    count = 4000
    with Pipeline("metrics_live") as pipeline:
        listen = ["--metrics", "127.0.0.1:0"]
        sink, workers, ventilator = slow_job(pipeline, count, sink_args=listen,
                                             role_args=listen)
        urls = {process.name: metrics_url(process) for process in [sink, ventilator] + workers}
        sink_url = urls[sink.name]
        wait_for("the sink running (divvy_job_state 1)",
                 lambda: samples(scrape(sink_url)).get("divvy_job_state") == 1)
        for name, url in urls.items():
            text = scrape(url)
            promtool_check(text, f"{name} during the job")
            check(f'role="{name.rstrip("0123456789")}"' in text,
                  f"{name}: divvy_build_info names its role:\n{text[:400]}")
        during = samples(scrape(sink_url))
        check(during["divvy_results_total"] < count,
              f"the job was over before the scrape: {during}")
        #  At the end: exact.
        final = wait_for("the sink done (divvy_job_state 2)",
                         lambda: (lambda s: s if s.get("divvy_job_state") == 2 else None)(
                             samples(scrape(sink_url))), timeout=JOB_TIMEOUT)
        promtool_check(scrape(sink_url), "the sink at the end")
        check_equal(final["divvy_results_total"], count, "divvy_results_total")
        check_equal(final["divvy_job_tasks"], count, "divvy_job_tasks")
        check_equal(final["divvy_duplicates_total"], 0, "divvy_duplicates_total")
        check_equal(final["divvy_malformed_total"], 0, "divvy_malformed_total")
        per_worker = {key: value for key, value in final.items()
                      if key.startswith("divvy_worker_results_total{")}
        check_equal(sum(per_worker.values()), count, f"sum of {per_worker}")
        check(set(per_worker) <= {'divvy_worker_results_total{worker="w0"}',
                                  'divvy_worker_results_total{worker="w1"}'},
              f"worker labels: {sorted(per_worker)}")
        resent = final["divvy_resend_tasks_total"]
        squared = wait_for(
            "the workers' final counts",
            lambda: (lambda n: n if n >= count else None)(
                sum(samples(scrape(urls[w.name]))["divvy_tasks_squared_total"]
                    for w in workers)))
        check(count <= squared <= count + resent,
              f"tasks squared {squared}: not {count} (+ at most {resent} asked again)")
        vent = wait_for("the ventilator's final count",
                        lambda: (lambda s: s if s["divvy_tasks_sent_total"] >= count else None)(
                            samples(scrape(urls[ventilator.name]))))
        check_equal(vent["divvy_job_tasks"], count, "the ventilator's divvy_job_tasks")
        check_equal(vent["divvy_tasks_sent_total"] - vent["divvy_tasks_resent_total"], count,
                    "tasks sent less those sent again")
        for name, url in urls.items():
            promtool_check(scrape(url), f"{name} at the end")
        finish([sink, ventilator] + workers)


def case_metrics_bad():
    with Pipeline("metrics_bad") as pipeline:
        for role in ("sink", "worker", "ventilator"):
            bad = pipeline.start(role, ["--metrics", "99999"], name=f"{role}-bad")
            bad.expect_exit(2, 10)
            check_one_line(bad, ["--metrics", "99999"])
        holder = pipeline.sink(["--metrics", "127.0.0.1:0"], name="holder")
        port = holder.wait_for_line("stderr", METRICS_LINE, 10).group(1)
        for role in ("sink", "worker", "ventilator"):
            args = ["--metrics", f"127.0.0.1:{port}"]
            if role == "sink":  # its own ZeroMQ endpoints: the holder has the pipeline's
                args += ["--results", pipeline.results + "2", "--control",
                         pipeline.control + "2"]
            busy = pipeline.start(role, args, name=f"{role}-busy")
            busy.expect_exit(1, 10)
            check_one_line(busy, ["--metrics", port, "in use"])
        holder.send_signal(15)
        holder.expect_exit(143, 10)


PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 250ms
  scrape_timeout: 200ms
scrape_configs:
  - job_name: divvy-sink
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def prometheus_query(api, query):
    url = f"{api}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=scaled(5)) as response:
            answer = json.load(response)
    except (urllib.error.URLError, ConnectionError, OSError):
        return None  # not up yet
    check_equal(answer.get("status"), "success", f"query {query}: {answer}")
    return answer["data"]["result"]


def case_prometheus():
    prometheus = tool("prometheus")
    count = 3000
    directory = tempfile.mkdtemp(prefix="dv-prom-")
    server = None
    try:
        with Pipeline("prometheus") as pipeline:
            metrics_port = free_tcp_port()
            web_port = free_tcp_port()
            with open(os.path.join(directory, "prometheus.yml"), "w") as handle:
                handle.write(PROMETHEUS_CONFIG.format(port=metrics_port))
            log = open(os.path.join(directory, "prometheus.log"), "w")
            server = subprocess.Popen(
                [prometheus, f"--config.file={directory}/prometheus.yml",
                 f"--storage.tsdb.path={directory}/data",
                 f"--web.listen-address=127.0.0.1:{web_port}"],
                stdout=log, stderr=subprocess.STDOUT, cwd=directory)
            api = f"http://127.0.0.1:{web_port}"
            wait_for("Prometheus answering", lambda: prometheus_query(api, "up") is not None,
                     timeout=60)
            sink, workers, ventilator = slow_job(
                pipeline, count, sink_args=["--metrics", f"127.0.0.1:{metrics_port}",
                                            "--linger", "8000"])
            metrics_url(sink)

            def final_count():
                result = prometheus_query(api, 'divvy_results_total{job="divvy-sink"}')
                if result and float(result[0]["value"][1]) == count:
                    return result
                return None
            result = wait_for(f"Prometheus reading divvy_results_total {count}", final_count,
                              timeout=JOB_TIMEOUT)
            check_equal(result[0]["metric"].get("instance"), f"127.0.0.1:{metrics_port}",
                        "the series' instance")
            up = prometheus_query(api, 'up{job="divvy-sink"}')
            check_equal(up[0]["value"][1], "1", "up of the sink")
            finish([sink, ventilator] + workers)
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def status(pipeline, args, name="status"):
    return pipeline.start("status", ["--control", pipeline.control] + list(args),
                          name=name, endpoints=False)


def case_status_once():
    count = 20000
    with Pipeline("status_once") as pipeline:
        sink = pipeline.sink(["--quiet", "--linger", "4000"])
        pipeline.wait_bound(pipeline.control, sink)
        idle = status(pipeline, [], "idle")
        idle.expect_exit(0, 10)
        check_equal(idle.lines("stdout"), ["idle: no job"], "idle status")
        idle_json = status(pipeline, ["--json"], "idle-json")
        idle_json.expect_exit(0, 10)
        answer = json.loads(idle_json.stdout)
        check_equal((answer["state"], answer["job"], answer["total"]), ("idle", 0, 0),
                    "idle status --json")
        workers = [pipeline.worker(["--task-delay-us", "200"]) for _ in range(2)]
        ventilator = pipeline.ventilator(["--count", str(count), "--batch", "10",
                                          "--min-workers", "2", "--job", "77"])
        sink.wait_for_line("stderr", r"gathering", 20)
        running = status(pipeline, [], "running")
        running.expect_exit(0, 10)
        line = running.stdout.strip()
        check(re.fullmatch(r"running: job 77, [\d,]+ of 20,000 tasks \([\d.]+%\), "
                           r"[\d,]+ tasks/s, ETA .+", line), f"running status: {line!r}")
        running_json = status(pipeline, ["--json"], "running-json")
        running_json.expect_exit(0, 10)
        answer = json.loads(running_json.stdout)
        check(answer["state"] == "running" and answer["job"] == 77 and
              answer["total"] == count and answer["rate"] > 0 and answer["eta_s"] >= 0,
              f"running status --json: {answer}")
        sink.wait_for_line("stderr", r"complete", JOB_TIMEOUT)
        done = status(pipeline, [], "done")
        done.expect_exit(0, 10)
        check(re.fullmatch(r"done: job 77, 20,000 of 20,000 tasks \(100\.0%\), ended .+ ago",
                           done.stdout.strip()), f"done status: {done.stdout!r}")
        finish([sink, ventilator] + workers)


def case_status_watch():
    count = 20000
    with Pipeline("status_watch") as pipeline:
        sink = pipeline.sink(["--quiet"])
        pipeline.wait_bound(pipeline.control, sink)
        watch = status(pipeline, ["--watch", "--json"], "watch")
        watch.wait_for_line("stdout", r'"state":"idle"', 10)
        workers = [pipeline.worker(["--task-delay-us", "200"]) for _ in range(2)]
        ventilator = pipeline.ventilator(["--count", str(count), "--batch", "10",
                                          "--min-workers", "2"])
        watch.expect_exit(0, JOB_TIMEOUT)
        answers = [json.loads(line) for line in watch.lines("stdout")]
        states = [answer["state"] for answer in answers]
        check(states[-1] == "done" and "running" in states, f"watched states: {states}")
        received = [answer["received"] for answer in answers if answer["state"] != "idle"]
        check(received == sorted(received), f"received went back: {received}")
        check_equal(answers[-1]["received"], count, "the last line's received")
        check(len(answers) >= 3, f"one line a second at least: {len(answers)} lines")
        finish([sink, ventilator] + workers)


def case_status_timeout():
    with Pipeline("status_timeout") as pipeline:
        started = time.monotonic()
        nobody = status(pipeline, ["--timeout", "500"], "nobody")
        nobody.expect_exit(1, 10)
        check(time.monotonic() - started < scaled(5), "status took far past its timeout")
        check_one_line(nobody, ["no sink answered", "500 ms"])
        bad = status(pipeline, ["--timeout", "x"], "bad")
        bad.expect_exit(2, 10)
        check_one_line(bad, ["--timeout"])


def case_status_curve():
    """divvy status against a CURVE sink: with the sink's own environment
    (DIVVY_CURVE_CERT, DIVVY_CURVE_ALLOW, as Compose's healthcheck has it)
    and --curve-server, it answers, running and done, and warns about
    nothing; with a worker's certificate too. In plain text, or with a key
    the sink does not allow, no sink answers (1); a certificate without
    --curve-server is a usage error (2) that says what is missing."""
    count = 20000
    with Pipeline("status_curve") as pipeline:
        keys = make_keys(pipeline)
        sink = pipeline.sink(["--quiet", "--linger", "4000"] + curve_flags(keys, "sink"))
        pipeline.wait_bound(pipeline.control, sink)
        sink_env = {"DIVVY_CURVE_CERT": keys["server"], "DIVVY_CURVE_ALLOW": keys["allow"],
                    "DIVVY_QUIET": "1", "DIVVY_LINGER": "4000"}
        probe = ["--curve-server", keys["server"], "--timeout", "2000"]
        idle = pipeline.start("status", ["--control", pipeline.control] + probe,
                              name="healthcheck", env=sink_env, endpoints=False)
        idle.expect_exit(0, 10)
        check_equal(idle.lines("stdout"), ["idle: no job"], "CURVE status, idle")
        check_equal(idle.lines("stderr"), [], "CURVE status's stderr in the sink's env")
        plain = status(pipeline, ["--timeout", "1000"], "plain")
        plain.expect_exit(1, 10)
        check_one_line(plain, ["no sink answered"])
        intruder = status(pipeline, ["--curve-cert", keys["intruder"], "--timeout", "1000"]
                          + probe[:2], "intruder")
        intruder.expect_exit(1, 10)
        check_one_line(intruder, ["no sink answered"])
        half = pipeline.start("status", ["--control", pipeline.control], name="half",
                              env=sink_env, endpoints=False)
        half.expect_exit(2, 10)
        check_one_line(half, ["--curve-server"])
        workers = [pipeline.worker(["--task-delay-us", "200"] + curve_flags(keys, "worker"))
                   for _ in range(2)]
        ventilator = pipeline.ventilator(["--count", str(count), "--batch", "10",
                                          "--min-workers", "2"]
                                         + curve_flags(keys, "ventilator"))
        sink.wait_for_line("stderr", r"gathering", 20)
        running = status(pipeline, curve_flags(keys, "worker") + ["--json"], "worker-key")
        running.expect_exit(0, 10)
        answer = json.loads(running.stdout)
        check(answer["state"] in ("running", "done") and answer["total"] == count,
              f"CURVE status with a worker's key: {answer}")
        sink.wait_for_line("stderr", r"complete", JOB_TIMEOUT)
        done = pipeline.start("status", ["--control", pipeline.control] + probe,
                              name="done", env=sink_env, endpoints=False)
        done.expect_exit(0, 10)
        check(re.fullmatch(r"done: job \d+, 20,000 of 20,000 tasks \(100\.0%\), ended .+ ago",
                           done.stdout.strip()), f"CURVE status, done: {done.stdout!r}")
        finish([sink, ventilator] + workers)


def case_status_lines():
    count = 45000
    with Pipeline("status_lines") as pipeline:
        #  About 7 s: 45000 tasks at 400 us on three workers.
        sink, workers, ventilator = slow_job(pipeline, count, delay_us=400)
        quiet = pipeline.worker(["--id", "quiet", "--task-delay-us", "400", "--quiet"])
        finish([sink, ventilator] + workers + [quiet])
        seconds = float(re.search(r"sink: ([\d.]+) s,", sink.stderr).group(1))
        check(seconds >= 5.5, f"the job took {seconds} s: too short to show status lines")
        vent_lines = [line for line in ventilator.lines("stderr") if " in flight" in line]
        check(vent_lines and re.match(r"^ventilator: sent [\d,]+ tasks for a job of 45,000, "
                                      r"[\d,]+ again; the sink has [\d,]+; window [\d,]+ "
                                      r"tasks, [\d,]+ in flight$", vent_lines[0]),
              f"the ventilator's status lines: {vent_lines}")
        for worker in workers:
            lines = [line for line in worker.lines("stderr") if "tasks/s" in line]
            check(lines and re.match(r"^worker: w\d: job \d+: squared [\d,]+ tasks, "
                                     r"[\d,]+ tasks/s$", lines[0]),
                  f"{worker.name}'s status lines: {worker.lines('stderr')}")
        check(not [line for line in quiet.lines("stderr") if "tasks/s" in line],
              f"--quiet worker: {quiet.lines('stderr')}")


CASES = {
    "metrics_live": case_metrics_live,
    "metrics_bad": case_metrics_bad,
    "prometheus": case_prometheus,
    "status_once": case_status_once,
    "status_watch": case_status_watch,
    "status_timeout": case_status_timeout,
    "status_lines": case_status_lines,
    "status_curve": case_status_curve,
}

if __name__ == "__main__":
    sys.exit(main(CASES))
