#!/usr/bin/env python3
"""test_command.py CASE: divvy as a command a person types.

The `divvy` dispatcher and its subcommands, --help and --version, the
warnings and messages a user reads (an unknown DIVVY_* variable, "1 worker",
numbers out of range, a missing CURVE file), tools/run-local, the man pages
and what `meson install` puts where. Same harness and conventions as
test_pipeline.py: exit 0 pass, 1 fail, 77 skip; `--check-cases NAME...`
checks that meson.build registers exactly the cases here.
"""

import ctypes
import ctypes.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Pipeline, TestFailure, TestSkip, binary, check, check_clean_stderr,
    check_complete, check_equal, check_one_line, clean_environment, main, scaled,
    sink_output)

USAGE_TIMEOUT = 15
JOB_TIMEOUT = 60
#  The subcommands that run a role, and the programs that run each alone.
ROLES = ("sink", "worker", "ventilator", "keygen", "status")


def run(argv, env=None, timeout=USAGE_TIMEOUT, stdin=subprocess.DEVNULL):
    """Runs argv to its end (bounded); returns (exit code, stdout, stderr)."""
    try:
        done = subprocess.run(argv, stdin=stdin, capture_output=True, text=True,
                              env=clean_environment(env), timeout=scaled(timeout))
    except subprocess.TimeoutExpired:
        raise TestFailure(f"{argv} did not end within {scaled(timeout):.0f} s")
    return done.returncode, done.stdout, done.stderr


def lines_of(text):
    return [line for line in text.split("\n") if line]


#  The dispatcher

def case_dispatch():
    divvy = binary("divvy")
    #  Every subcommand's help is its program's help, by `divvy help ROLE`,
    #  `divvy ROLE --help` and `-h`.
    for role in ROLES:
        code, alone, err = run([binary(role), "--help"])
        check_equal((code, err), (0, ""), f"divvy-{role} --help (exit, stderr)")
        check(alone.startswith(f"Usage: divvy {role} "),
              f"divvy-{role} --help does not start with its usage: {alone[:200]!r}")
        for argv in ([divvy, "help", role], [divvy, role, "--help"], [divvy, role, "-h"],
                     [binary(role), "-h"]):
            code, out, err = run(argv)
            check_equal((code, err), (0, ""), f"{argv[1:]} (exit, stderr)")
            check_equal(out, alone, f"{argv[1:]} vs. divvy-{role} --help")
    #  divvy's own help names every subcommand, status included.
    for argv in ([divvy, "--help"], [divvy, "-h"], [divvy, "help"]):
        code, out, err = run(argv)
        check_equal((code, err), (0, ""), f"{argv[1:]} (exit, stderr)")
        check(out.startswith("Usage: divvy "), f"{argv[1:]}: {out[:200]!r}")
        for name in ROLES + ("help",):
            check(re.search(rf"^\s+{name}\b", out, re.M),
                  f"divvy --help does not list {name}:\n{out}")
    #  Without a subcommand, or with an unknown one: usage, one line, exit 2.
    for argv, words in (([divvy], ["subcommand"]), ([divvy, "bogus"], ["bogus"]),
                        ([divvy, "help", "bogus"], ["bogus"]),
                        ([divvy, "--bogus"], ["--bogus"])):
        code, out, err = run(argv)
        check_equal((code, out), (2, ""), f"{argv[1:]} (exit, stdout)")
        check(len(lines_of(err)) == 1 and err.startswith("divvy: "),
              f"{argv[1:]}: expected one 'divvy: ' line on stderr, got {err!r}")
        for word in words:
            check(word in err, f"{argv[1:]}: the line does not name {word!r}: {err!r}")
    #  A subcommand runs for real: keygen writes a certificate.
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "key")
        code, out, err = run([divvy, "keygen", path])
        check_equal((code, err), (0, ""), "divvy keygen (exit, stderr)")
        check(out.startswith(path + " ") and os.path.exists(path + "_secret"),
              f"divvy keygen wrote no certificate: {out!r}")


def case_status():
    """`divvy status` is divvy-status: with no sink there, exit 1 after --timeout,
    one line from the status role."""
    code, out, err = run([binary("divvy"), "status", "--control", "ipc:///nowhere/control",
                          "--timeout", "300"])
    check_equal((code, out), (1, ""), "divvy status with no sink (exit, stdout)")
    check(len(lines_of(err)) == 1 and err.startswith("status: "),
          f"divvy status: expected one line from status, got {err!r}")


def runtime_version(library, symbol):
    """The version the shared library reports at run time, as 'x.y.z'."""
    name = ctypes.util.find_library(library)
    check(name, f"lib{library} not found")
    numbers = [ctypes.c_int() for _ in range(3)]
    getattr(ctypes.CDLL(name), symbol)(*[ctypes.byref(number) for number in numbers])
    return ".".join(str(number.value) for number in numbers)


def case_version():
    expected = os.environ.get("DIVVY_TEST_VERSION")
    check(expected, "DIVVY_TEST_VERSION (meson's project version) is not set")
    zmq = runtime_version("zmq", "zmq_version")
    czmq = runtime_version("czmq", "zsys_version")
    outputs = {}
    for name, argv in [("divvy", [binary("divvy"), "--version"])] + \
            [(f"divvy-{role}", [binary(role), "--version"]) for role in ROLES] + \
            [(f"divvy {role}", [binary("divvy"), role, "--version"]) for role in ROLES]:
        code, out, err = run(argv)
        check_equal((code, err), (0, ""), f"{name} --version (exit, stderr)")
        lines = lines_of(out)
        #  help2man reads the first line: "PROGRAM (divvy) VERSION".
        first = f"{name.replace(' ', '-')}{' (divvy)' if name != 'divvy' else ''} {expected}"
        check_equal(lines[0], first, f"{name} --version, first line")
        for word in (f"protocol {2}", f"libzmq {zmq}", f"CZMQ {czmq}"):
            check(word in out, f"{name} --version does not say {word!r}:\n{out}")
        outputs[name] = lines[1:]
    check(len({tuple(rest) for rest in outputs.values()}) == 1,
          f"the programs disagree below the first line: {outputs}")


#  Messages

TYPOS = {
    #  role: (misspelt variable, the option it should name)
    "sink": ("DIVVY_QIUET", "--quiet"),
    "worker": ("DIVVY_PREFECTH", "--prefetch"),
    "ventilator": ("DIVVY_MIN_WORKER", "--min-workers"),
    "keygen": ("DIVVY_FROCE", "--force"),
    "status": ("DIVVY_TIMEUOT", "--timeout"),
}


def case_unknown_variable():
    for role, (variable, option) in TYPOS.items():
        code, out, err = run([binary(role), "--version"], env={variable: "1"})
        check_equal(code, 0, f"{role} --version with {variable} set")
        lines = lines_of(err)
        check(len(lines) == 1, f"{role}: expected one warning line, got {lines}")
        for word in (f"{role}: ", variable, option, option.replace("--", "DIVVY_").upper()
                     .replace("-", "_")):
            check(word in lines[0], f"{role}: the warning does not name {word!r}: {lines[0]!r}")
        #  Known variables, even empty ones, are not warned about.
        known = option.replace("--", "DIVVY_").upper().replace("-", "_")
        code, out, err = run([binary(role), "--version"], env={known: "", "OTHER_X": "1"})
        check_equal((code, err), (0, ""), f"{role} --version with {known} set (exit, stderr)")
    #  The warning does not stop a job: the misspelt DIVVY_QIUET is ignored,
    #  so every result line is printed.
    with Pipeline("unknown_variable") as pipeline:
        sink = pipeline.sink(["--json"], env={"DIVVY_QIUET": "1"})
        pipeline.wait_bound(pipeline.control, sink)
        worker = pipeline.worker()
        ventilator = pipeline.ventilator(["--count", "10"])
        for process in (sink, worker, ventilator):
            process.expect_exit(0, JOB_TIMEOUT)
            check_clean_stderr(process)
        results, summary = sink_output(sink)
        check_complete(summary, range(1, 11))
        check_equal(len(results), 10, "result lines (DIVVY_QIUET is not DIVVY_QUIET)")
        warnings = [line for line in sink.lines("stderr") if "DIVVY_QIUET" in line]
        check_equal(len(warnings), 1, "sink warnings about DIVVY_QIUET")


#  One environment for every role, as Compose gives the sink's to its
#  healthcheck (divvy status): each variable is some command's option.
SHARED_ENV = {"DIVVY_LINGER": "500", "DIVVY_MAX_TASKS": "1000", "DIVVY_QUIET": "1",
              "DIVVY_JSON": "1", "DIVVY_CURVE_ALLOW": "/keys/allow",
              "DIVVY_PREFETCH": "64", "DIVVY_ID": "w1", "DIVVY_COUNT": "10",
              "DIVVY_WINDOW": "16", "DIVVY_TIMEOUT": "2000", "DIVVY_WATCH": "0",
              "DIVVY_FORCE": "0", "DIVVY_RESEND_AFTER": "100"}


def case_shared_environment():
    """Another role's variables are no typo: no program warns about them. A
    typo gets one warning naming the closest option of any command, and the
    command it belongs to when that is not the running one."""
    for role in ROLES:
        code, out, err = run([binary(role), "--version"], env=SHARED_ENV)
        check_equal((code, err), (0, ""), f"{role} --version in a shared environment "
                    "(exit, stderr)")
    code, _, err = run([binary("status"), "--version"],
                       env=dict(SHARED_ENV, DIVVY_PREFECTH="64"))
    lines = lines_of(err)
    check_equal((code, len(lines)), (0, 1), f"status with DIVVY_PREFECTH: exit, "
                f"warning lines {lines}")
    for words in ("status: warning: DIVVY_PREFECTH is not a variable of any divvy command",
                  "the closest is DIVVY_PREFETCH (--prefetch of divvy worker)"):
        check(words in lines[0], f"the warning does not say {words!r}: {lines[0]!r}")
    #  The divvy command knows them all too.
    code, _, err = run([binary("divvy"), "status", "--version"], env=SHARED_ENV)
    check_equal((code, err), (0, ""), "divvy status --version in a shared environment")


def case_one_worker():
    with Pipeline("one_worker") as pipeline:
        sink = pipeline.sink(["--quiet"])
        pipeline.wait_bound(pipeline.control, sink)
        worker = pipeline.worker(["--id", "only"])
        ventilator = pipeline.ventilator(["--count", "20"])
        for process in (sink, worker, ventilator):
            process.expect_exit(0, JOB_TIMEOUT)
            check_clean_stderr(process)
        check(re.search(r"^ventilator: job \d+: .*, 1 worker connected$", ventilator.stderr,
                        re.M), f"no '1 worker connected':\n{ventilator.stderr}")
        check(re.search(r"^sink: 1 worker: only=20$", sink.stderr, re.M),
              f"no 'sink: 1 worker: only=20':\n{sink.stderr}")
        for process in (sink, worker, ventilator):
            check("1 workers" not in process.stderr, f"{process.name} says '1 workers':\n"
                  f"{process.stderr}")


HUGE = "99999999999999999999"  # > 2^64


def case_out_of_range():
    runs = [
        ("ventilator", ["--count", HUGE], None, ["--count", HUGE, "out of range"]),
        ("ventilator", ["--count", "-" + HUGE], None, ["--count", "out of range"]),
        ("ventilator", [], {"DIVVY_BATCH": HUGE}, ["--batch", "DIVVY_BATCH", "out of range"]),
        ("ventilator", ["--job", HUGE], None, ["--job", HUGE, "out of range"]),
        ("ventilator", ["--min-workers", HUGE], None, ["--min-workers", "out of range"]),
        ("worker", ["--prefetch", HUGE], None, ["--prefetch", "out of range"]),
        ("sink", ["--linger", HUGE], None, ["--linger", "out of range"]),
    ]
    for role, args, env, words in runs:
        with Pipeline("out_of_range") as pipeline:
            process = pipeline.start(role, args, env=env)
            process.expect_exit(2, USAGE_TIMEOUT)
            check_one_line(process, words)
            check("not an integer" not in process.stderr and
                  "not a non-zero" not in process.stderr,
                  f"{role} {args} {env}: {process.stderr!r}")
    #  Text that is no number at all still says so.
    with Pipeline("out_of_range") as pipeline:
        process = pipeline.ventilator(["--count", "12abc"])
        process.expect_exit(2, USAGE_TIMEOUT)
        check_one_line(process, ["--count", "12abc", "not an integer"])


def case_curve_missing_file():
    with Pipeline("curve_missing_file") as pipeline:
        keys = {}
        for name in ("server", "worker"):
            keys[name] = pipeline.path(name)
            code, out, err = run([binary("keygen"), keys[name]])
            check_equal((code, err), (0, ""), f"divvy-keygen {name}")
        allow = pipeline.path("allow")
        os.mkdir(allow)
        shutil.copy(keys["worker"], allow)
        missing = pipeline.path("no-such-cert")
        #  A public certificate whose secret is gone: the secret's file is named.
        public_only = pipeline.path("public-only")
        shutil.copy(keys["server"], public_only)
        runs = [
            ("sink", ["--curve-cert", missing, "--curve-allow", allow],
             ["--curve-cert", missing, "No such file"]),
            ("worker", ["--curve-cert", keys["worker"], "--curve-server", missing],
             ["--curve-server", missing, "No such file"]),
            ("sink", ["--curve-cert", public_only, "--curve-allow", allow],
             ["--curve-cert", public_only + "_secret"]),
            ("sink", ["--curve-cert", keys["server"], "--curve-allow", missing],
             ["--curve-allow", missing]),
        ]
        for role, args, words in runs:
            process = pipeline.start(role, args)
            process.expect_exit(2, USAGE_TIMEOUT)
            check_one_line(process, words)
            check_clean_stderr(process)


#  tools/run-local

def run_local(args, timeout=JOB_TIMEOUT):
    script = os.path.join(os.environ["DIVVY_TEST_SOURCE_DIR"], "tools", "run-local")
    return run([script] + args, env={"BUILD_DIR": os.environ["DIVVY_TEST_BUILD_ROOT"]},
               timeout=timeout)


def case_run_local():
    for args in (["--help"], ["-h"], ["--workers", "2", "--help"]):
        code, out, err = run_local(args, timeout=USAGE_TIMEOUT)
        check_equal((code, err), (0, ""), f"run-local {args} (exit, stderr)")
        check(out.startswith("Usage: tools/run-local"), f"run-local {args}: {out[:300]!r}")
        for word in ("--workers", "--json", "--quiet", "--count", "Exit"):
            check(word in out, f"run-local --help does not mention {word}:\n{out}")
        check("ENDPOINTS" not in out, f"run-local --help is the ventilator's:\n{out}")
    code, out, err = run_local(["--workers", "0"], timeout=USAGE_TIMEOUT)
    check(code == 2 and len(lines_of(err)) == 1 and "--workers" in err,
          f"run-local --workers 0: {code} {err!r}")
    #  Sink options pass through: --json gives the summary on stdout, and
    #  without --quiet every result line comes first.
    code, out, err = run_local(["--workers", "2", "--count", "30", "--json"])
    check_equal(code, 0, f"run-local --json exit (stderr {err[-2000:]!r})")
    lines = lines_of(out)
    check_equal(len(lines), 31, "run-local --json: 30 result lines and the summary")
    summary = json.loads(lines[-1])
    check_complete(summary, range(1, 31), workers=None)
    code, out, err = run_local(["--workers", "1", "--count", "30", "--json", "--quiet",
                                "--start", "5"])
    check_equal(code, 0, f"run-local --json --quiet exit (stderr {err[-2000:]!r})")
    lines = lines_of(out)
    check_equal(len(lines), 1, "run-local --json --quiet: the summary alone")
    check_complete(json.loads(lines[0]), range(5, 35), workers=1)
    #  A bad ventilator option: the ventilator's own line, its exit code.
    code, out, err = run_local(["--workers", "1", "--count", "0"], timeout=USAGE_TIMEOUT)
    check(code == 2 and "--count" in err, f"run-local --count 0: {code} {err!r}")


#  Man pages and installation

def case_man_pages():
    pages = os.environ.get("DIVVY_TEST_MAN_PAGES", "").split()
    if not pages:
        raise TestSkip("no man pages built (help2man not found at setup)")
    check_equal(sorted(os.path.basename(page) for page in pages),
                sorted(["divvy.1"] + [f"divvy-{role}.1" for role in ROLES]),
                "man pages built")
    if not shutil.which("man"):
        raise TestSkip("man is not installed")
    for page in pages:
        name = os.path.basename(page)[:-len(".1")]
        #  groff's own warnings (-ww) must be none.
        code, _, err = run(["groff", "-man", "-Tutf8", "-ww", "-z", page])
        check_equal((code, err), (0, ""), f"groff -ww on {name}.1 (exit, warnings)")
        code, out, err = run(["man", "-l", page], env={"MANWIDTH": "80", "MANPAGER": "cat",
                                                        "PAGER": "cat", "LC_ALL": "C.UTF-8"})
        check_equal(code, 0, f"man -l {name}.1 exit (stderr {err!r})")
        text = re.sub(r".\x08", "", out)
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS"):
            check(re.search(rf"^{section}$", text, re.M),
                  f"{name}.1 has no {section} section:\n{text[:3000]}")
        check(re.search(rf"^\s+{re.escape(name)}\s+-\s+\S", text, re.M),
              f"{name}.1: NAME is not '{name} - what it does':\n{text[:1000]}")
        check(all(len(line) <= 80 for line in text.split("\n")),
              f"{name}.1 is wider than MANWIDTH=80")
        role = name[len("divvy-"):] if name != "divvy" else None
        if role:
            #  Every option of the program's --help is in its page.
            code, helptext, _ = run([binary(role), "--help"])
            options = re.findall(r"^\s+(--[a-z][a-z0-9-]*)", helptext, re.M)
            check(len(options) >= 2, f"divvy-{role} --help lists no options")
            for option in options:
                check(option in text, f"{name}.1 does not list {option}")
            check(re.search(r"^EXIT STATUS$|^\s+Exit status:$", text, re.M),
                  f"{name}.1 does not explain its exit codes")


def case_install():
    build = os.environ["DIVVY_TEST_BUILD_ROOT"]
    bindir = os.environ["DIVVY_TEST_BINDIR"]
    mandir = os.environ["DIVVY_TEST_MANDIR"]
    completions = os.environ["DIVVY_TEST_COMPLETIONS_DIR"]
    with_man = bool(os.environ.get("DIVVY_TEST_MAN_PAGES"))
    meson = shutil.which("meson")
    if not meson:
        raise TestSkip("meson is not on PATH")
    with tempfile.TemporaryDirectory(prefix="dv-install-") as destdir:
        code, out, err = run([meson, "install", "-C", build, "--no-rebuild", "--quiet",
                              "--destdir", destdir], timeout=120)
        check_equal(code, 0, f"meson install --destdir (stderr {err[-2000:]!r})")
        found = sorted(os.path.relpath(os.path.join(root, name), destdir)
                       for root, _, names in os.walk(destdir) for name in names)

        def inside(directory, names):
            return [os.path.join(directory.lstrip("/"), name) for name in names]

        expected = inside(bindir, ["divvy"] + [f"divvy-{role}" for role in ROLES])
        if with_man:
            expected += inside(os.path.join(mandir, "man1"),
                               ["divvy.1"] + [f"divvy-{role}.1" for role in ROLES])
        expected += inside(completions, ["divvy"])
        libdir = os.environ["DIVVY_TEST_LIBDIR"]
        expected += inside(libdir, ["libdivvy.a", "pkgconfig/divvy.pc"])
        expected += inside(os.environ["DIVVY_TEST_INCLUDEDIR"], ["divvy.h"])
        check_equal(found, sorted(expected), "files installed")
        for name in expected[:1 + len(ROLES)]:
            path = os.path.join(destdir, name)
            check(os.access(path, os.X_OK), f"{name} is not executable")
        code, out, err = run([os.path.join(destdir, expected[0]), "--version"])
        check_equal(code, 0, f"installed divvy --version (stderr {err!r})")
        check_api_installed(destdir, libdir)


def check_api_installed(destdir, libdir):
    """examples/rot13.c builds against the installed libdivvy as its
    comment says (cc rot13.c $(pkg-config --cflags --libs divvy)), the
    prefix moved under destdir, and runs."""
    pkg_config, compiler = shutil.which("pkg-config"), shutil.which("cc")
    if not pkg_config or not compiler:
        raise TestSkip("pkg-config or cc is not on PATH")
    prefix = os.environ["DIVVY_TEST_PREFIX"]
    env = dict(os.environ, PKG_CONFIG_PATH=destdir + os.path.join(libdir, "pkgconfig"))
    flags = subprocess.run([pkg_config, "--cflags", "--libs", "divvy",
                            f"--define-variable=prefix={destdir}{prefix}"],
                           env=env, capture_output=True, text=True, timeout=30)
    check_equal(flags.returncode, 0, f"pkg-config divvy (stderr {flags.stderr!r})")
    source = os.path.join(os.environ["DIVVY_TEST_SOURCE_DIR"], "examples", "rot13.c")
    program = os.path.join(destdir, "divvy-rot13")
    #  A sanitized build installs a sanitized archive: its users link the runtime.
    sanitize = os.environ.get("DIVVY_TEST_SANITIZE", "none")
    runtime = [f"-fsanitize={sanitize}"] if sanitize not in ("", "none") else []
    built = subprocess.run([compiler, source, *flags.stdout.split(), *runtime, "-o", program],
                           capture_output=True, text=True, timeout=120)
    check_equal(built.returncode, 0, f"cc rot13.c $(pkg-config divvy) (stderr "
                f"{built.stderr[-2000:]!r})")
    code, out, err = run([program, "--version"])
    check_equal(code, 0, f"the example built on the installed libdivvy: --version "
                f"(stderr {err!r})")


def case_completion():
    script = os.path.join(os.environ["DIVVY_TEST_SOURCE_DIR"], "divvy", "divvy.bash")
    bash = shutil.which("bash")
    if not bash:
        raise TestSkip("bash is not installed")
    divvy = binary("divvy")
    probe = f"""
source {script!r}
complete_for() {{
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}
    COMPREPLY=(); _divvy; printf '%s\\n' "${{COMPREPLY[@]}}" | sort | tr '\\n' ' '; echo
}}
PATH={os.path.dirname(divvy)!r}:$PATH
complete_for divvy ''
complete_for divvy s
complete_for divvy sink --qu
complete_for divvy worker --pre
complete_for divvy help ven
"""
    code, out, err = run([bash, "--norc", "--noprofile", "-c", probe])
    check_equal((code, err), (0, ""), "bash completion probe (exit, stderr)")
    lines = out.split("\n")
    check(all(word in lines[0].split() for word in ROLES + ("help",)),
          f"divvy <TAB>: {lines[0]!r}")
    check_equal(lines[1].split(), ["sink", "status"], "divvy s<TAB>")
    check_equal(lines[2].split(), ["--quiet"], "divvy sink --qu<TAB>")
    check_equal(lines[3].split(), ["--prefetch"], "divvy worker --pre<TAB>")
    check_equal(lines[4].split(), ["ventilator"], "divvy help ven<TAB>")


CASES = {
    "dispatch": case_dispatch,
    "status": case_status,
    "version": case_version,
    "unknown_variable": case_unknown_variable,
    "shared_environment": case_shared_environment,
    "one_worker": case_one_worker,
    "out_of_range": case_out_of_range,
    "curve_missing_file": case_curve_missing_file,
    "run_local": case_run_local,
    "man_pages": case_man_pages,
    "install": case_install,
    "completion": case_completion,
}

if __name__ == "__main__":
    sys.exit(main(CASES))
