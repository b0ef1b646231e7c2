#!/usr/bin/env bash
# bench_http.sh — agentbudgetd over HTTP, measured with wrk (64 connections, 2 threads):
#   http_check           POST /v1/check, against nginx serving a static file of the same bytes
#                        (a check reply) in the same run: the ratio of requests per second
#   http_reserve_commit  durable reserve + commit pairs per second (SQLite, sync=full), p50/p99
# Prints one JSON line per result. Installs nothing: it needs wrk, nginx, curl and jq
# (Debian: apt-get install -y wrk nginx-light curl jq).
# usage: bench/bench_http.sh [BUILD_DIR]   (default build; builds nothing)
# AB_BENCH_HTTP_SECONDS sets each wrk run's length (default 10); AB_BENCH_HTTP_DAEMON_FLAGS adds
# agentbudgetd flags (e.g. "--readers 64"), named in the JSON lines as daemon_flags.
# AB_BENCH_HTTP_STORE runs the daemon on another store (e.g. postgres://…/db, an empty database)
# instead of a fresh SQLite file, named in the JSON lines as store.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/bench
build=${1:-build}
if [ ! -d "$build" ] && [ -d "$root/$build" ]; then
    build=$root/$build
fi
seconds=${AB_BENCH_HTTP_SECONDS:-10}
flags=${AB_BENCH_HTTP_DAEMON_FLAGS:-}
store_url=${AB_BENCH_HTTP_STORE:-}
connections=64
threads=2
budgets=16

daemon=$build/agentbudgetd
if [ ! -x "$daemon" ]; then
    echo "error: '$daemon' is missing: build first (cmake --build $build)" >&2
    exit 2
fi
for tool in wrk nginx curl jq; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        echo "error: '$tool' is missing (apt-get install -y wrk nginx-light curl jq)" >&2
        exit 2
    fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d /tmp/ab-bench-http-XXXXXX)
daemon_pid=
nginx_pid=
cleanup() {
    # only the two processes started here, by their ids
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port below the ephemeral range (where clients' own ports come from) that nobody answers on;
# the starts below still check that it took, and try another if not.
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
free_port() {
    local port tries
    for tries in $(seq 1 50); do
        port=$((10000 + RANDOM % (low - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "error: no free loopback port found" >&2
    return 1
}

# wait_http URL: up to 10 s for a 2xx
wait_http() {
    local i
    for i in $(seq 1 200); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# ---- agentbudgetd: the default durable SQLite store (sync=full), no access log ----
store=${store_url:-sqlite:$tmp/b.db}
store_name=${store_url:+${store_url%%:*}}
store_name=${store_name:-sqlite sync=full}
for attempt in 1 2 3 4 5; do
    port=$(free_port)
    # shellcheck disable=SC2086 # the flags are words
    "$daemon" --listen "127.0.0.1:$port" --store "$store" --no-access-log $flags \
        >"$tmp/daemon.out" 2>"$tmp/daemon.log" &
    daemon_pid=$!
    if wait_http "http://127.0.0.1:$port/healthz"; then
        break
    fi
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=
done
if [ -z "$daemon_pid" ]; then
    echo "error: agentbudgetd did not start (see its log: $(tail -3 "$tmp/daemon.log"))" >&2
    exit 1
fi
base=http://127.0.0.1:$port
admin=$(sed -n '2p' "$tmp/daemon.out")
api() { # api METHOD PATH [BODY] with the admin token
    curl -fsS -X "$1" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
        ${3:+--data "$3"} "$base$2"
}
api PUT /v1/budgets/bench-check '{"limits":["usd/day=1000000000"]}' >/dev/null
for i in $(seq 0 $((budgets - 1))); do
    api PUT "/v1/budgets/bench-rc-$i" '{"limits":["usd/total=1000000000"]}' >/dev/null
done
agent=$(api POST /v1/tokens '{"scope":"","role":"agent","label":"bench_http"}' | jq -r .secret)

# ---- nginx: its own configuration in the temp dir, the static file = a real check reply ----
mkdir -p "$tmp/www" "$tmp/nginx"
curl -fsS -X POST -H "Authorization: Bearer $agent" -H 'Content-Type: application/json' \
    --data '{"budget":"bench-check","model":"claude-sonnet-4-5","usage":{"input":1000,"output":500}}' \
    "$base/v1/check" >"$tmp/www/check.json"
user_line=
[ "$(id -u)" -eq 0 ] && user_line="user root;" # workers would be nobody, who cannot read $tmp
for attempt in 1 2 3 4 5; do
    nport=$(free_port)
    cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/json;
    keepalive_requests 100000000;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nport;
        root $tmp/www;
    }
}
EOF
    "$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
        -g 'daemon off;' &
    nginx_pid=$!
    if wait_http "http://127.0.0.1:$nport/check.json"; then
        break
    fi
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
done
if [ -z "$nginx_pid" ]; then
    echo "error: nginx did not start: $(tail -3 "$tmp/nginx/error.log")" >&2
    exit 1
fi

# run_wrk NAME SCRIPT URL: the AB_RESULT line of the script's done() (wrk's own output is kept)
run_wrk() {
    wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$2" "$3" >"$tmp/wrk-$1.txt"
    grep '^AB_RESULT ' "$tmp/wrk-$1.txt" | head -1
}
# field LINE KEY
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

export AB_TOKEN=$agent AB_BUDGET=bench-check AB_PREFIX=bench-rc- AB_BUDGETS=$budgets
check=$(run_wrk check "$bench/wrk_check.lua" "$base/v1/check")
static=$(run_wrk nginx "$bench/wrk_static.lua" "http://127.0.0.1:$nport/check.json")
rc=$(run_wrk reserve_commit "$bench/wrk_reserve_commit.lua" "$base/v1/reserve")

awk -v c="$check" -v s="$static" -v conns="$connections" -v thr="$threads" -v secs="$seconds" \
    -v flags="$flags" \
    -v bytes="$(wc -c <"$tmp/www/check.json")" '
function get(line, key,   n, i, kv) {
    n = split(line, kv, " ")
    for (i = 1; i <= n; i++)
        if (index(kv[i], key "=") == 1)
            return substr(kv[i], length(key) + 2)
    return -1
}
BEGIN {
    rps = get(c, "requests") / (get(c, "duration_us") / 1e6)
    nrps = get(s, "requests") / (get(s, "duration_us") / 1e6)
    ratio = rps / nrps
    printf "{\"bench\":\"http_check\",\"daemon_flags\":\"%s\",\"connections\":%d,\"threads\":%d," \
           "\"seconds\":%d," \
           "\"rps\":%.0f,\"nginx_rps\":%.0f,\"ratio\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f," \
           "\"nginx_p50_ms\":%.3f,\"nginx_p99_ms\":%.3f,\"errors\":%d,\"non2xx\":%d," \
           "\"body_bytes\":%d,\"target_ratio\":0.5,\"meets_target\":%s}\n",
           flags, conns, thr, secs, rps, nrps, ratio, get(c, "p50_us") / 1000, get(c, "p99_us") / 1000,
           get(s, "p50_us") / 1000, get(s, "p99_us") / 1000,
           get(c, "errors") + get(s, "errors"), get(c, "non2xx") + get(s, "non2xx"), bytes,
           (ratio >= 0.5 ? "true" : "false")
}'
awk -v r="$rc" -v conns="$connections" -v thr="$threads" -v secs="$seconds" -v nb="$budgets" \
    -v flags="$flags" -v store="$store_name" '
function get(line, key,   n, i, kv) {
    n = split(line, kv, " ")
    for (i = 1; i <= n; i++)
        if (index(kv[i], key "=") == 1)
            return substr(kv[i], length(key) + 2)
    return -1
}
BEGIN {
    s = get(r, "duration_us") / 1e6
    pairs = get(r, "commits") / s
    p99 = get(r, "p99_us") / 1000
    ok = pairs >= 10000 && p99 <= 5
    printf "{\"bench\":\"http_reserve_commit\",\"daemon_flags\":\"%s\",\"connections\":%d," \
           "\"threads\":%d,\"seconds\":%d," \
           "\"budgets\":%d,\"store\":\"%s\",\"pairs_per_s\":%.0f," \
           "\"requests_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%d," \
           "\"failed\":%d,\"target_pairs_per_s\":10000,\"target_p99_ms\":5,\"meets_target\":%s}\n",
           flags, conns, thr, secs, nb, store, pairs, get(r, "requests") / s, get(r, "p50_us") / 1000, p99,
           get(r, "errors"), get(r, "failed"), (ok ? "true" : "false")
}'
