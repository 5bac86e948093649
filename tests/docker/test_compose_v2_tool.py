#!/usr/bin/env python3
"""tools/compose-v2 without building anything: its usage, its errors when Go
or the module proxy is missing, and installing a cached binary as the Docker
CLI plugin. Every run gets a Docker config directory and a cache of its own
(DOCKER_CONFIG, DIVVY_CACHE_DIR in a temporary folder), so the user's
`docker compose` is neither seen nor touched; the cached "Compose" is a small
script that answers the CLI's plugin protocol.

    test_compose_v2_tool.py SOURCE_DIR

Needs the docker command (not an engine); skips (77) without it.
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dockerlib import Failure, check, clean_env, log, skip  # noqa: E402

VERSION = "v2.40.3"  # the version pinned in tools/compose-v2

FAKE_PLUGIN = f"""#!/bin/sh
# Answers what the Docker CLI and tools/compose-v2 ask a compose plugin.
case "$1" in
    docker-cli-plugin-metadata)
        echo '{{"SchemaVersion":"0.1.0","Vendor":"divvy test","Version":"{VERSION}"}}' ;;
    compose) echo "Docker Compose version {VERSION}-fake" ;;
    version) echo "Docker Compose version {VERSION}-fake" ;;
    *) exit 1 ;;
esac
"""


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} SOURCE_DIR", file=sys.stderr)
        return 2
    if not shutil.which("docker"):
        skip("no docker command in PATH")
    tool = os.path.join(os.path.abspath(sys.argv[1]), "tools", "compose-v2")
    tmp = tempfile.mkdtemp(prefix="divvy-compose-v2-tool-")
    try:
        config, cache = os.path.join(tmp, "docker"), os.path.join(tmp, "cache")
        plugin = os.path.join(config, "cli-plugins", "docker-compose")
        env = clean_env({"DOCKER_CONFIG": config, "DIVVY_CACHE_DIR": cache,
                         "TMPDIR": tmp})

        def run(*args, extra=None):
            process = subprocess.run([tool, *args], stdin=subprocess.DEVNULL,
                                     capture_output=True, text=True, timeout=120,
                                     env={**env, **(extra or {})})
            return process.returncode, process.stdout, process.stderr

        rc, out, _ = run("--help")
        check(rc == 0 and "compose-v2" in out, f"--help: exit {rc}")
        rc, _, err = run("--bogus")
        check(rc == 2 and len(err.splitlines()) == 1, f"--bogus: exit {rc}, stderr {err!r}")

        before = subprocess.run(["docker", "compose", "version"], capture_output=True,
                                text=True, timeout=30, env=env)
        if before.returncode == 0:
            skip("docker compose answers with an empty DOCKER_CONFIG (a system-wide "
                 "plugin): the tool would do nothing")

        # No Go: one line naming the cause, exit 1, nothing installed.
        rc, _, err = run(extra={"DIVVY_GO": os.path.join(tmp, "no-such-go")})
        check(rc == 1 and len(err.splitlines()) == 1 and "Go not found" in err,
              f"without Go: exit {rc}, stderr {err!r}")
        check(not os.path.exists(plugin), "a plugin was installed without Go")
        log(f"without Go: exit 1, {err.strip()}")

        # Go without a module proxy.
        go = shutil.which("go") or "/usr/local/go/bin/go"
        if os.access(go, os.X_OK):
            rc, _, err = run(extra={"GOPROXY": "off", "DIVVY_GO": go})
            check(rc == 1 and len(err.splitlines()) == 1 and "no module proxy" in err,
                  f"GOPROXY=off: exit {rc}, stderr {err!r}")
            check(not os.path.exists(plugin), "a plugin was installed without a proxy")
            log(f"GOPROXY=off: exit 1, {err.strip()}")
        else:
            log("no Go here: the GOPROXY=off check is left out")

        # A cached binary is installed without Go, and then answers.
        cached = os.path.join(cache, "compose-v2", VERSION, "docker-compose")
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        with open(cached, "w") as handle:
            handle.write(FAKE_PLUGIN)
        os.chmod(cached, 0o755)
        rc, _, err = run(extra={"DIVVY_GO": os.path.join(tmp, "no-such-go")})
        check(rc == 0 and "using the cached" in err and "installed" in err,
              f"from the cache: exit {rc}, stderr {err!r}")
        check(os.access(plugin, os.X_OK), f"{plugin} not installed")
        version = subprocess.run(["docker", "compose", "version"], capture_output=True,
                                 text=True, timeout=30, env=env)
        check(version.returncode == 0 and f"{VERSION}-fake" in version.stdout,
              f"docker compose version after the install: {version.returncode} "
              f"{version.stdout!r} {version.stderr!r}")
        log(f"from the cache: installed, `docker compose version` says {version.stdout.strip()}")
        rc, _, err = run()
        check(rc == 0 and "already there" in err, f"second run: exit {rc}, stderr {err!r}")
        log("second run: docker compose is already there, exit 0")
    except Failure as failure:
        print(f"compose-v2 tool: FAIL: {failure}", flush=True)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("compose-v2 tool: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
