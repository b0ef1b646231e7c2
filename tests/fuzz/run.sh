#!/usr/bin/env bash
# run.sh [SECONDS_PER_HARNESS] — builds the libFuzzer harnesses with clang into build-fuzz/ (or
# $AB_FUZZ_BUILD) and runs each for SECONDS (default 20) on a copy of its seed corpus in
# tests/fuzz/corpus/<harness>/ (regress-* files there are past findings, run first). Fails on
# any crash, leak, timeout or out-of-memory; the failing inputs are kept under
# build-fuzz/artifacts/<harness>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECONDS_EACH=${1:-20}
BUILD=${AB_FUZZ_BUILD:-$ROOT/build-fuzz}
JOBS=$(nproc 2>/dev/null || echo 2)
CC_FUZZ=${CC_FUZZ:-clang}

command -v "$CC_FUZZ" >/dev/null || {
    echo "error: '$CC_FUZZ' not found (the fuzz harnesses need clang with libFuzzer)" >&2
    exit 2
}
cmake -S tests/fuzz -B "$BUILD" -DCMAKE_C_COMPILER="$CC_FUZZ" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$BUILD" -j"$JOBS" >/dev/null

# harness and its -max_len: big enough for its inputs, small enough to stay fast
HARNESSES=(fuzz_money:64 fuzz_limit_path:1024 fuzz_transcript:8192 fuzz_litellm:16384
    fuzz_store_url:512 fuzz_role:4096 fuzz_hook:4096 fuzz_http:4096)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
passed=0 failed=0
for entry in "${HARNESSES[@]}"; do
    h=${entry%%:*} max_len=${entry#*:}
    work=$(mktemp -d "${TMPDIR:-/tmp}/abfuzz-$h.XXXXXX")
    cp -R "tests/fuzz/corpus/$h" "$work/corpus"
    art="$BUILD/artifacts/$h"
    rm -rf "$art"
    mkdir -p "$art"
    rc=0
    "$BUILD/$h" "$work/corpus" -max_total_time="$SECONDS_EACH" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$art/" -print_final_stats=1 \
        >"$work/log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
    crashes=$(find "$art" -type f | wc -l)
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes=1 # a failure that left no input (the harness's own setup)
    fi
    echo "$h: ${execs:-0} execs, $crashes crashes"
    if [ "$crashes" -eq 0 ]; then
        passed=$((passed + 1))
        rm -rf "$art"
    else
        failed=$((failed + 1))
        cp "$work/log" "$art/log"
        echo "  inputs and log: $art/" >&2
        grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|property failed|^ +#[0-9]+ ' \
            "$work/log" | head -n 30 | sed 's/^/  /' >&2
    fi
    rm -rf "$work"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
