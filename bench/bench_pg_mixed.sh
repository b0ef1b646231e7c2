#!/usr/bin/env bash
# bench_pg_mixed.sh — writers of both kinds on one PostgreSQL tree (org/a, org/b, org/c under
# org): one agentbudgetd with 8 HTTP clients (curl, one reserve at a time; its group commits
# lock many chains each) and 4 loops of the agentbudget CLI (reserve, then commit about half),
# all with 1 s holds, so that holds expire and are swept all the time. Prints one JSON line:
# the calls each kind made, the slowest, how many took over 1 s, and the server's count of
# "deadlock detected" lines. The baseline is the same run with 600 s holds (no expiry): the
# ratio is calls with expiring holds over calls without. It starts and stops its own
# PostgreSQL server (tests/pg/pg_cluster.sh). Needs curl and psql.
# usage: bench/bench_pg_mixed.sh [BUILD_DIR]   (default build; builds nothing)
# AB_BENCH_MIXED_SECONDS sets each run's length (default 20).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
if [ ! -d "$build" ] && [ -d "$root/$build" ]; then
    build=$root/$build
fi
seconds=${AB_BENCH_MIXED_SECONDS:-20}
daemon=$build/agentbudgetd
cli=$build/agentbudget
for bin in "$daemon" "$cli"; do
    [ -x "$bin" ] || { echo "error: '$bin' is missing: build first (cmake --build $build)" >&2; exit 2; }
done
for tool in curl psql; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: '$tool' is missing (apt-get install -y curl postgresql)" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/ab-bench-mixed-XXXXXX)
dpid=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    bash "$root/tests/pg/pg_cluster.sh" stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bash "$root/tests/pg/pg_cluster.sh" start "$tmp/pg" >/dev/null
base=$(cat "$tmp/pg/url")
log="$tmp/pg/server.log"

# run NAME TTL — one run on a new database; its figures in $tmp/NAME.*
run() {
    local name=$1 ttl=$2 store port token i
    psql -qX "$base/postgres" -c "CREATE DATABASE $name" >/dev/null
    store="$base/$name"
    for b in org org/a org/b org/c; do "$cli" --store "$store" set "$b" >/dev/null; done
    port=$((20000 + RANDOM % 20000))
    "$daemon" --listen "127.0.0.1:$port" --store "$store" --no-access-log >"$tmp/$name.d.out" 2>"$tmp/$name.d.err" &
    dpid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
    token=$(grep -o 'abt_[a-z0-9_]*' "$tmp/$name.d.out" | head -1)
    grep -c "deadlock detected" "$log" >"$tmp/$name.dl0" || true
    local leaves=(org/a org/b org/c) end=$(($(date +%s) + seconds)) loops=()
    for i in 1 2 3 4; do
        (
            leaf=${leaves[$((i % 3))]}
            while [ "$(date +%s)" -lt "$end" ]; do
                t0=$(date +%s%N)
                h=$("$cli" --store "$store" reserve "$leaf" --input 100 --max-output 100 --ttl "$ttl" 2>/dev/null) && rc=0 || rc=$?
                echo "cli $rc $((($(date +%s%N) - t0) / 1000000))"
                if [ "$rc" = 0 ] && [ $((RANDOM % 2)) = 0 ]; then
                    "$cli" --store "$store" commit "$h" --input 50 --output 50 >/dev/null 2>&1 || true
                fi
            done >"$tmp/$name.cli$i"
        ) &
        loops+=($!)
    done
    for i in 1 2 3 4 5 6 7 8; do
        (
            leaf=${leaves[$((i % 3))]}
            while [ "$(date +%s)" -lt "$end" ]; do
                t0=$(date +%s%N)
                code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $token" \
                    -H 'Content-Type: application/json' \
                    -d "{\"budget\":\"$leaf\",\"usage\":{\"input\":100,\"output\":100},\"ttl_s\":$ttl}" \
                    "http://127.0.0.1:$port/v1/reserve") || code=000
                echo "http $code $((($(date +%s%N) - t0) / 1000000))"
            done >"$tmp/$name.http$i"
        ) &
        loops+=($!)
    done
    wait "${loops[@]}"
    kill "$dpid" && wait "$dpid" 2>/dev/null || true
    dpid=
    echo $(($(grep -c "deadlock detected" "$log" || true) - $(cat "$tmp/$name.dl0"))) >"$tmp/$name.dl"
    cat "$tmp/$name".cli* "$tmp/$name".http* | awk '{c[$1]++; if ($3 > m) m = $3; if ($3 > 1000) s++}
        END {printf "%d %d %d %d\n", c["cli"], c["http"], m, s}' >"$tmp/$name.sum"
}

run ab_mixed_base 600
run ab_mixed_expiring 1
read -r bcli bhttp bslow bover <"$tmp/ab_mixed_base.sum"
read -r cli_calls http_calls slowest over <"$tmp/ab_mixed_expiring.sum"
printf '{"bench":"pg_mixed_writers","seconds":%d,"cli_loops":4,"http_clients":8,"hold_ttl_s":1,'\
'"cli_calls":%d,"http_calls":%d,"slowest_ms":%d,"calls_over_1s":%d,"deadlocks":%d,'\
'"baseline_what":"the same run with 600 s holds","baseline_cli_calls":%d,"baseline_http_calls":%d,'\
'"baseline_slowest_ms":%d,"baseline_deadlocks":%d,"ratio":%.3f}\n' \
    "$seconds" "$cli_calls" "$http_calls" "$slowest" "$over" "$(cat "$tmp/ab_mixed_expiring.dl")" \
    "$bcli" "$bhttp" "$bslow" "$(cat "$tmp/ab_mixed_base.dl")" \
    "$(awk -v a=$((cli_calls + http_calls)) -v b=$((bcli + bhttp)) 'BEGIN {print b ? a / b : 0}')"
