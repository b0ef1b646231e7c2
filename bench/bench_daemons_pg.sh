#!/usr/bin/env bash
# bench_daemons_pg.sh — several agentbudgetd on one PostgreSQL database, one budget tree
# (org/t/a0 … org/t/a15 under the same two ancestors): durable reserve + commit requests per
# second over all daemons, with 1, 2 and 3 daemons, each loaded by its own wrk (1 thread,
# 8 connections, bench/wrk_reserve_commit.lua). The baseline is one daemon in the same run
# (ratio = requests/s with N daemons over requests/s with one), and the server's count of
# "deadlock detected" lines is given with each result. Prints one JSON line per result.
# It starts and stops its own PostgreSQL server (tests/pg/pg_cluster.sh). Installs nothing:
# it needs wrk, curl, jq and psql (Debian: apt-get install -y wrk curl jq postgresql).
# usage: bench/bench_daemons_pg.sh [BUILD_DIR]   (default build; builds nothing)
# AB_BENCH_DAEMONS_SECONDS sets each run's length (default 10).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
if [ ! -d "$build" ] && [ -d "$root/$build" ]; then
    build=$root/$build
fi
seconds=${AB_BENCH_DAEMONS_SECONDS:-10}
budgets=16
daemon=$build/agentbudgetd
cli=$build/agentbudget
for bin in "$daemon" "$cli"; do
    [ -x "$bin" ] || { echo "error: '$bin' is missing: build first (cmake --build $build)" >&2; exit 2; }
done
for tool in wrk curl jq psql; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: '$tool' is missing (apt-get install -y wrk curl jq postgresql)" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/ab-bench-daemons-XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    bash "$root/tests/pg/pg_cluster.sh" stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$root/tests/pg/pg_cluster.sh" start "$tmp/pg" >/dev/null
base=$(cat "$tmp/pg/url")
psql -qX "$base/postgres" -c "CREATE DATABASE bench" >/dev/null
store=$base/bench
"$cli" --store "$store" set org --limit usd/total=1000000000 >/dev/null
"$cli" --store "$store" set org/t --limit usd/total=1000000000 >/dev/null
for i in $(seq 0 $((budgets - 1))); do
    "$cli" --store "$store" set "org/t/a$i" --limit usd/total=1000000000 >/dev/null
done
export AB_TOKEN AB_PREFIX=org/t/a AB_BUDGETS=$budgets
AB_TOKEN=$("$cli" --store "$store" --json token create --scope "" --role agent --label bench | jq -r .secret)

low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
# start_daemon: one more daemon on a free loopback port; its URL in $url
start_daemon() {
    local port i
    for _ in 1 2 3 4 5; do
        port=$((10000 + RANDOM % (low - 10000)))
        "$daemon" --listen "127.0.0.1:$port" --store "$store" --no-access-log \
            >/dev/null 2>"$tmp/daemon-$port.log" &
        local pid=$!
        for i in $(seq 1 200); do
            if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
                pids+=("$pid")
                url=http://127.0.0.1:$port
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "error: agentbudgetd did not start" >&2
    return 1
}
deadlocks() { grep -c 'deadlock detected' "$tmp/pg/server.log" 2>/dev/null || true; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

urls=()
baseline=
for n in 1 2 3; do
    while [ "${#urls[@]}" -lt "$n" ]; do
        start_daemon
        urls+=("$url")
    done
    before=$(deadlocks)
    wrks=()
    for i in $(seq 0 $((n - 1))); do
        wrk -t1 -c8 -d"${seconds}s" --latency -s "$root/bench/wrk_reserve_commit.lua" \
            "${urls[i]}/v1/reserve" >"$tmp/wrk-$n-$i.txt" &
        wrks+=("$!")
    done
    for w in "${wrks[@]}"; do wait "$w"; done
    requests=0 failed=0 p99=0 us=0
    for i in $(seq 0 $((n - 1))); do
        line=$(grep '^AB_RESULT ' "$tmp/wrk-$n-$i.txt" | head -1)
        requests=$((requests + $(field "$line" requests)))
        failed=$((failed + $(field "$line" failed) + $(field "$line" errors) + $(field "$line" non2xx)))
        d=$(field "$line" duration_us)
        p=$(field "$line" p99_us)
        [ "$d" -gt "$us" ] && us=$d
        [ "$p" -gt "$p99" ] && p99=$p
    done
    rps=$(awk -v r="$requests" -v us="$us" 'BEGIN { printf "%.0f", r / (us / 1e6) }')
    [ -z "$baseline" ] && baseline=$rps
    awk -v n="$n" -v rps="$rps" -v b="$baseline" -v p99="$p99" -v f="$failed" \
        -v dl="$(($(deadlocks) - before))" -v s="$seconds" 'BEGIN {
        printf "{\"bench\":\"pg_daemons_reserve_commit\",\"daemons\":%d,\"connections_per_daemon\":8," \
               "\"seconds\":%d,\"requests_per_s\":%d,\"baseline\":%d,\"baseline_what\":\"one daemon, " \
               "same run\",\"ratio\":%.3f,\"p99_ms\":%.1f,\"failed\":%d,\"deadlocks\":%d}\n",
               n, s, rps, b, rps / b, p99 / 1000, f, dl
    }'
done
