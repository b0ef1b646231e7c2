#!/usr/bin/env bash
# bootstrap.sh — install what is missing (Debian 12), build, and then run the worked example and
# start agentbudgetd on the embedded SQLite store (`./bootstrap.sh demo`), every test
# (`./bootstrap.sh test`), or the benchmarks (`./bootstrap.sh bench`).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
MODE=${1:-demo}
JOBS=$(nproc 2>/dev/null || echo 2)

PACKAGES=(build-essential cmake pkg-config libsqlite3-dev libjansson-dev libpq-dev libssl-dev
    libmicrohttpd-dev libcurl4-openssl-dev sqlite3 jq curl postgresql python3 clang
    libclang-rt-14-dev)
command -v npm >/dev/null || PACKAGES+=(nodejs npm libnode-dev) # for bindings/node (Node.js 18)

install_missing() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "bootstrap: installing ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || {
            echo "error: missing packages ${missing[*]}; run as root or install sudo" >&2
            exit 2
        }
        sudo=sudo
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

build() { # build DIR [cmake args...]
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$dir" -DAB_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$JOBS"
}

# the tests' throwaway PostgreSQL servers stop with the tests (a CTest fixture); should the run be
# interrupted, stop whatever is left of them here
stop_test_servers() {
    local d
    for d in "$ROOT"/build*/tests/pgtest; do
        [ -d "$d" ] && tests/pg/pg_cluster.sh stop "$d" >/dev/null 2>&1 || true
    done
}

install_missing
case "$MODE" in
demo)
    build build
    # the embedded default store kind (SQLite), in a file of its own so the demo is repeatable
    export AGENTBUDGET_STORE="sqlite:$ROOT/build/demo.db"
    rm -f "$ROOT"/build/demo.db*
    examples/worked-example.sh "$ROOT/build/agentbudget"
    # the main job: the daemon on 127.0.0.1:8700 over the same store (Ctrl-C stops it)
    echo
    echo "starting agentbudgetd on 127.0.0.1:8700 (store $AGENTBUDGET_STORE; Ctrl-C stops it)"
    exec "$ROOT/build/agentbudgetd" --listen 127.0.0.1:8700
    ;;
test)
    trap stop_test_servers EXIT INT TERM
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    (cd build && ctest --output-on-failure -j"$JOBS")
    # the figures of the run: model checking, crash rounds, process limits (docs/reliability.md)
    grep -h '^{"test":' build/Testing/Temporary/LastTest.log || true
    # the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer, leaks on
    build build-asan -DCMAKE_BUILD_TYPE=Debug -DAB_SANITIZE=ON
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure -j"$JOBS" -LE crash)
    # the library's thread safety under ThreadSanitizer: one handle, many threads (test_threads)
    cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DAB_TSAN=ON >/dev/null
    cmake --build build-tsan --target test_threads -j"$JOBS" >/dev/null
    TSAN_OPTIONS=halt_on_error=1:exitcode=66 build-tsan/tests/test_threads "$ROOT/build-tsan"
    # and the daemon's threads (HTTP workers, the writer, readers): 64 clients in parallel, and a
    # stop under load, against a ThreadSanitizer build of it; a race stops it (exit 66)
    cmake --build build-tsan --target agentbudgetd agentbudget_cli load_parallel -j"$JOBS" >/dev/null
    TSAN_OPTIONS=halt_on_error=1:exitcode=66 build-tsan/tests/daemon_load/load_parallel \
        "$ROOT/build-tsan/agentbudgetd"
    TSAN_OPTIONS=halt_on_error=1:exitcode=66 bash tests/daemon/stop.sh \
        "$ROOT/build-tsan/agentbudgetd" "$ROOT/build-tsan/agentbudget"
    # libFuzzer harnesses (clang) for the parsers, 30 s each on copies of tests/fuzz/corpus
    tests/fuzz/run.sh 30
    ;;
bench)
    # the benchmarks (docs/performance.md): wrk and nginx are needed beside them
    PACKAGES=(wrk nginx-light)
    install_missing
    build build-bench -DCMAKE_BUILD_TYPE=Release
    bench/run.sh build-bench
    bench/bench_http.sh build-bench
    ;;
*)
    echo "usage: ./bootstrap.sh demo|test|bench" >&2
    exit 2
    ;;
esac
