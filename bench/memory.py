#!/usr/bin/env python3
"""bench/memory.py: peak memory (VmHWM) of the sink and the ventilator
against the job's size.

  bench/memory.py BUILD_DIR sink COUNT... [-- VENTILATOR_OPTION...]
      For each COUNT, a range job (ventilator --count COUNT --batch 65536,
      2 workers, sink --quiet --json, stdout to /dev/null) over ipc; prints
      the sink's and the ventilator's peak RSS (KiB) and the seconds taken.
  bench/memory.py BUILD_DIR input LINES
      A LINES-line --input file written to a temporary directory (deleted
      after), the same job over it; prints the ventilator's peak RSS.

Peak RSS is VmHWM from /proc/PID/status, read every 20 ms while each
process runs (the last reading before it exits; VmHWM only grows).
ru_maxrss from wait4 would not do: it counts the forked Python parent's
pages before exec.
The issue's target: the sink's peak for 1,000,000,000 tasks within 4 MiB
of its peak for 1,000,000. `bench/memory.py build sink 1000000 1000000000`
takes about a minute on a 2-core machine (about 30 M tasks/s).
"""

import os
import subprocess
import sys
import tempfile
import time


def run_job(build, directory, ventilator_args):
    endpoints = []
    for flow in ("tasks", "results", "control"):
        endpoints += [f"--{flow}", f"ipc://{directory}/{flow}"]
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DIVVY_", "ZSYS_"))}
    devnull = subprocess.DEVNULL
    began = time.monotonic()
    sink = subprocess.Popen([f"{build}/sink/sink", *endpoints, "--quiet", "--json",
                             "--linger", "300"], stdout=devnull, env=env)
    workers = [subprocess.Popen([f"{build}/worker/worker", *endpoints, "--id", f"w{index}"],
                                env=env) for index in (1, 2)]
    ventilator = subprocess.Popen([f"{build}/ventilator/ventilator", *endpoints,
                                   "--min-workers", "2", *ventilator_args], env=env)
    processes = {"sink": sink, "ventilator": ventilator, "worker1": workers[0],
                 "worker2": workers[1]}
    peaks = {name: 0 for name in processes}
    while any(process.poll() is None for process in processes.values()):
        for name, process in processes.items():
            try:
                with open(f"/proc/{process.pid}/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            peaks[name] = max(peaks[name], int(line.split()[1]))
            except OSError:
                pass  # exited (or a zombie without an mm): its last reading stands
        time.sleep(0.02)  # sampling memory, not synchronising
    codes = {name: process.returncode for name, process in processes.items()}
    return peaks, codes, time.monotonic() - began


def main():
    if len(sys.argv) < 4 or sys.argv[2] not in ("sink", "input"):
        print(__doc__, file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="divvy-memory-") as directory:
        if sys.argv[2] == "sink":
            counts, extra = sys.argv[3:], []
            if "--" in counts:
                counts, extra = counts[:counts.index("--")], counts[counts.index("--") + 1:]
            for count in counts:
                peaks, codes, seconds = run_job(
                    build, directory, ["--count", count, "--batch", "65536", *extra])
                print(f"count={count} sink_hwm_kib={peaks['sink']} "
                      f"ventilator_hwm_kib={peaks['ventilator']} seconds={seconds:.1f} "
                      f"exit={codes}", flush=True)
        else:
            lines = int(sys.argv[3])
            path = os.path.join(directory, "input.txt")
            with open(path, "w") as output:
                step = 1000000
                for first in range(1, lines + 1, step):
                    last = min(first + step, lines + 1)
                    output.write("\n".join(map(str, range(first, last))) + "\n")
            peaks, codes, seconds = run_job(build, directory,
                                            ["--input", path, "--batch", "65536"])
            print(f"lines={lines} ventilator_hwm_kib={peaks['ventilator']} "
                  f"sink_hwm_kib={peaks['sink']} seconds={seconds:.1f} exit={codes}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
