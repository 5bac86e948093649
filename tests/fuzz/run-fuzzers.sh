#!/usr/bin/env bash
# run-fuzzers.sh SECONDS [BUILD_DIR]: runs every libFuzzer target for SECONDS.
#
# Sets up a clang build in BUILD_DIR (default: build-fuzz at the repo root;
# an existing one is reused) with AddressSanitizer and UBSan, builds
# fuzz-decoders, fuzz-job and fuzz-lines (tests/fuzz/meson.build adds -fsanitize=fuzzer to
# them), and runs each for SECONDS seconds on a scratch copy of its seed
# corpus: the repo's corpus never grows. Prints one line per fuzzer with the
# executions run, from libFuzzer's final stats.
#
# Exits 0 when no fuzzer found anything; 1 on a crash, a sanitizer report, an
# invariant breach, a leak, a timeout or a fuzzer that did not run; 2 on
# usage. Crashing inputs are kept in BUILD_DIR/fuzz-findings/ with the
# fuzzer's log: to keep one as a regression test, copy it to
# tests/fuzz/corpus/<target>/regress-<what>.
set -uo pipefail

usage="usage: $0 SECONDS [BUILD_DIR]"
seconds=${1:-}
if [[ ! $seconds =~ ^[1-9][0-9]*$ ]] || (($# > 2)); then
    echo "$usage" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$root/build-fuzz}
targets=(decoders job lines)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The sanitizers are what turn a bad read into a finding: an existing build
# directory gets them too (its compiler must already be clang).
if [ -f "$build/build.ninja" ]; then
    setup=(meson configure "$build")
else
    setup=(env CC=clang meson setup "$build" "$root" -Dbuildtype=debugoptimized)
fi
if ! "${setup[@]}" -Db_sanitize=address,undefined -Db_lundef=false >"$scratch/setup.log" 2>&1; then
    cat "$scratch/setup.log" >&2
    echo "run-fuzzers: meson setup of $build failed" >&2
    exit 1
fi
names=()
for target in "${targets[@]}"; do
    names+=("fuzz-$target")
done
if ! meson compile -C "$build" "${names[@]}" >"$scratch/compile.log" 2>&1; then
    tail -40 "$scratch/compile.log" >&2
    echo "run-fuzzers: build failed (needs clang with libFuzzer: libclang-rt-14-dev)" >&2
    exit 1
fi

findings=$build/fuzz-findings
rm -rf "$findings"
status=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

for target in "${targets[@]}"; do
    binary=$build/tests/fuzz/fuzz-$target
    corpus=$scratch/$target/corpus
    log=$scratch/$target/log
    mkdir -p "$corpus" "$scratch/$target/artifacts"
    cp "$root/tests/fuzz/corpus/$target/"* "$corpus/"
    seeds=$(find "$corpus" -type f | wc -l)
    "$binary" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -max_len=8192 -artifact_prefix="$scratch/$target/artifacts/" \
        "$corpus" >"$log" 2>&1
    rc=$?

    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    units=$(find "$corpus" -type f | wc -l)
    problems=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant broken|SUMMARY: ' "$log")
    artifacts=$(find "$scratch/$target/artifacts" -type f | wc -l)

    if ((rc != 0 || problems > 0 || artifacts > 0)) || [ -z "$runs" ]; then
        status=1
        mkdir -p "$findings/$target"
        cp "$log" "$findings/$target/log"
        cp "$scratch/$target/artifacts/"* "$findings/$target/" 2>/dev/null
        echo "fuzz-$target: FAILED after ${runs:-?} runs (exit $rc); log and inputs in $findings/$target/"
        grep -E 'ERROR:|runtime error:|invariant broken|SUMMARY:|#[0-9]+ .* in (dv_|s_|LLVMFuzzerTestOneInput)' \
            "$log" | head -20 | sed 's/^ */  /'
        for artifact in "$scratch/$target/artifacts/"*; do
            [ -f "$artifact" ] || continue
            echo "  input $(basename "$artifact"): $(od -An -tx1 -v "$artifact" | tr -d ' \n' | cut -c1-512)"
        done
    else
        echo "fuzz-$target: $runs runs in ${seconds} s, corpus $seeds -> $units inputs, no finding"
    fi
done
exit $status
