#!/bin/sh
# run.sh — runs every benchmark and prints their JSON lines (one per result) on stdout.
# usage: bench/run.sh [BUILD_DIR]   (default: build; builds nothing, the dir must be built)
# Takes about a minute: memory ~14 s, sqlite ~20 s plus fsync time, cli ~2 x 210 process runs.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
if [ ! -d "$build" ] && [ -d "$root/$build" ]; then
    build=$root/$build
fi
for exe in bench/bench_memory bench/bench_sqlite bench/bench_cli bench/bench_pg \
    bench/bench_pg_batch agentbudget; do
    if [ ! -x "$build/$exe" ]; then
        echo "error: '$build/$exe' is missing: build first (cmake --build $build)" >&2
        exit 2
    fi
done
if ! command -v sqlite3 >/dev/null 2>&1; then
    echo "error: the sqlite3 shell is missing (apt-get install -y sqlite3): cli bench needs it" >&2
    exit 2
fi

"$build/bench/bench_memory"
"$build/bench/bench_sqlite"
"$build/bench/bench_cli" "$build/agentbudget"

# PostgreSQL: a throwaway server on a free loopback port, stopped again on the way out
pgdir=$(mktemp -d /tmp/ab-bench-pg-XXXXXX)
trap '"$root/tests/pg/pg_cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true' EXIT INT TERM
"$root/tests/pg/pg_cluster.sh" start "$pgdir" >&2
"$build/bench/bench_pg" "$(cat "$pgdir/url")" "${AB_BENCH_PG_SECONDS:-8}"
"$build/bench/bench_pg_batch" "$(cat "$pgdir/url")" 2>/dev/null
