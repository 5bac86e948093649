#!/usr/bin/env python3
"""Fails when a C file of the project differs from what clang-format makes of it."""
import pathlib
import subprocess
import sys

root = pathlib.Path(sys.argv[2])
clang_format = sys.argv[1]
folders = ["lib", "ventilator", "worker", "sink", "bench", "tests"]
files = sorted(
    str(path)
    for folder in folders
    for pattern in ("*.c", "*.h")
    for path in (root / folder).rglob(pattern)
)
if not files:
    sys.exit("no C files found under " + str(root))
result = subprocess.run([clang_format, "--dry-run", "-Werror", *files],
                        capture_output=True, text=True, timeout=120)
if result.returncode:
    sys.stderr.write(result.stderr[-4000:])
    sys.exit(f"clang-format: {result.stderr.count('error:')} places differ; "
             "run clang-format -i on the files named above")
print(f"{len(files)} files formatted per .clang-format")
