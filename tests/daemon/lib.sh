# lib.sh — what the end-to-end tests of agentbudgetd share: a private temporary directory, daemons
# started on free loopback ports (each with its own SQLite store) and always stopped on exit, an
# HTTP runner that captures status, headers and body, and assertions that count failures.
# Source it with the paths of agentbudgetd and agentbudget as $1 and $2 of the sourcing script.

set -u
set -o pipefail

ABD=${1:?usage: $0 PATH-TO-agentbudgetd PATH-TO-agentbudget}
AB=${2:?usage: $0 PATH-TO-agentbudgetd PATH-TO-agentbudget}
for bin in "$ABD" "$AB"; do
    [[ -x "$bin" ]] || { echo "error: '$bin' is not an executable" >&2; exit 2; }
done
for tool in curl jq sqlite3; do
    command -v "$tool" >/dev/null || { echo "error: '$tool' is required" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentbudgetd-test.XXXXXX") || exit 2
export HOME="$TMP/home" XDG_STATE_HOME="$TMP/state"
mkdir -p "$HOME" "$XDG_STATE_HOME"
unset AGENTBUDGET_STORE AGENTBUDGET_TOKEN AGENTBUDGET_URL http_proxy https_proxy HTTP_PROXY \
    HTTPS_PROXY all_proxy ALL_PROXY
for v in $(env | sed -n 's/^\(AGENTBUDGETD_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

DAEMON_PIDS=()
WATCH_PIDS=()
CLEANUP_DIRS=() # removed on exit with $TMP (scratch outside it, such as /dev/shm)
PG_DBS=()       # databases made by pg_db, dropped on exit

# stop_daemon PID — SIGTERM, then SIGKILL if it has not stopped within 5 s.
stop_daemon()
{
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

cleanup()
{
    local pid
    for pid in "${WATCH_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${DAEMON_PIDS[@]}"; do stop_daemon "$pid"; done
    for db in "${PG_DBS[@]}"; do
        psql -qX "$BASE/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
    done
    rm -rf "$TMP" "${CLEANUP_DIRS[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pg_db PG_DIR NAME — a new database ab_NAME_PID on the test server whose URL is in PG_DIR/url,
# dropped on exit (if the server is up then). Sets BASE (the server's URL, no database) and DB.
pg_db()
{
    BASE=$(cat "$1/url") || return 2
    DB="ab_$2_$$"
    psql -qX "$BASE/postgres" -c "CREATE DATABASE $DB" >/dev/null || return 2
    PG_DBS+=("$DB")
}

# start_daemon NAME [FLAGS...] — starts agentbudgetd on a free 127.0.0.1 port with the store
# sqlite:$TMP/NAME.db (or $DAEMON_STORE) and waits for /healthz. Sets URL, PORT, PID, ADMIN (the
# bootstrap secret), ADMIN_ID and STORE_FILE. A watchdog stops the daemon (and removes $TMP) should this script die
# without running its trap (SIGKILL, e.g. a CTest timeout). Returns non-zero if it could not start.
start_daemon()
{
    local name=$1 try port i
    shift
    STORE_FILE="$TMP/$name.db"
    for ((try = 0; try < 20; try++)); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        PORT=$port
        "$ABD" --listen "127.0.0.1:$port" --store "${DAEMON_STORE:-sqlite:$STORE_FILE}" "$@" \
            >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
        PID=$!
        DAEMON_PIDS+=("$PID")
        (
            while kill -0 "$$" 2>/dev/null && kill -0 "$PID" 2>/dev/null; do sleep 1; done
            if ! kill -0 "$$" 2>/dev/null; then # the script died without running its trap
                kill -TERM "$PID" 2>/dev/null
                sleep 1
                rm -rf "$TMP"
            fi
        ) >/dev/null 2>&1 </dev/null &
        WATCH_PIDS+=("$!")
        URL="http://127.0.0.1:$port"
        for ((i = 0; i < 100; i++)); do
            if ! kill -0 "$PID" 2>/dev/null; then
                break
            fi
            # the token is printed before the daemon serves: a 200 without it is someone else's
            if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/healthz") == 200 ]]; then
                ADMIN=$(sed -n 2p "$TMP/$name.out")
                ADMIN_ID=$(sed -n 's/^admin token \(t_[0-9a-f]*\) .*/\1/p' "$TMP/$name.out")
                [[ $ADMIN == abt_* && -n $ADMIN_ID ]] && kill -0 "$PID" 2>/dev/null && return 0
            fi
            sleep 0.1
        done
        if grep -q "cannot listen" "$TMP/$name.err" 2>/dev/null; then
            continue # the port was taken: another one
        fi
        echo "error: agentbudgetd did not start:" >&2
        cat "$TMP/$name.err" >&2
        stop_daemon "$PID"
        return 1
    done
    echo "error: no free port found" >&2
    return 1
}

PASSED=0
FAILED=0

# lock_store SECONDS — another process takes the write lock of $STORE_FILE (the last daemon's
# SQLite store) and holds it for SECONDS; returns once it has it. Sets LOCKER (its pid: wait for
# it). Needs python3.
lock_store()
{
    local i
    command -v python3 >/dev/null || { echo "error: 'python3' is required" >&2; exit 2; }
    rm -f "$TMP/locked"
    python3 - "$STORE_FILE" "$TMP/locked" "$1" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
db.execute("COMMIT")
PY
    LOCKER=$!
    for ((i = 0; i < 100; i++)); do [[ -e $TMP/locked ]] && return 0; sleep 0.05; done
    not_ok "the lock was taken" "no sign from the locking process in 5 s"
}

# req METHOD PATH [CURL-ARGS...] — one request to $URL; sets STATUS, BODY and HDRS (the response
# headers, CRs removed). TOKEN, when set and not empty, is sent as the bearer token.
TOKEN=
req()
{
    local method=$1 path=$2
    shift 2
    local auth=()
    [[ -n $TOKEN ]] && auth=(-H "Authorization: Bearer $TOKEN")
    STATUS=$(curl -s --path-as-is --max-time 20 -X "$method" "${auth[@]}" -o "$TMP/body" \
        -D "$TMP/hdrs" -w '%{http_code}' "$@" "$URL$path")
    BODY=$(cat "$TMP/body" 2>/dev/null)
    HDRS=$(tr -d '\r' <"$TMP/hdrs" 2>/dev/null)
}

# jreq METHOD PATH JSON [CURL-ARGS...] — req with a JSON body.
jreq()
{
    local method=$1 path=$2 json=$3
    shift 3
    req "$method" "$path" -H 'Content-Type: application/json' --data-binary "$json" "$@"
}

# header NAME — the value of response header NAME of the last request ("" if absent).
header()
{
    awk -v n="$1" 'tolower($0) ~ "^" tolower(n) ":" { sub(/^[^:]*: */, ""); print; exit }' <<<"$HDRS"
}

ok() { PASSED=$((PASSED + 1)); echo "ok $((PASSED + FAILED)) - $1"; }
not_ok()
{
    FAILED=$((FAILED + 1))
    echo "FAIL $((PASSED + FAILED)) - $1"
    shift
    local line
    for line in "$@"; do echo "    $line"; done
}

# expect_eq GOT WANT WHAT — exact string equality.
expect_eq()
{
    if [[ "$1" == "$2" ]]; then ok "$3"; else not_ok "$3" "expected: '${2:0:600}'" "got:      '${1:0:600}'"; fi
}

# expect_has HAYSTACK NEEDLE WHAT — NEEDLE occurs in HAYSTACK as text.
expect_has()
{
    if [[ "$1" == *"$2"* ]]; then ok "$3"; else not_ok "$3" "expected to contain: '$2'" "in: '${1:0:600}'"; fi
}

# expect_not_has HAYSTACK NEEDLE WHAT
expect_not_has()
{
    if [[ "$1" != *"$2"* ]]; then ok "$3"; else not_ok "$3" "expected not to contain: '$2'" "in: '${1:0:600}'"; fi
}

# expect_status WANT WHAT — the last request's status is WANT.
expect_status()
{
    if [[ "$STATUS" == "$1" ]]; then
        ok "$2: HTTP $1"
    else
        not_ok "$2: HTTP $1" "expected status $1, got $STATUS" "body: ${BODY:0:600}"
    fi
}

# expect_jq JSON FILTER WANT WHAT — `jq -r FILTER` of JSON prints exactly WANT.
expect_jq()
{
    local got
    if ! got=$(jq -r "$2" <<<"$1" 2>&1); then
        not_ok "$4" "not JSON or filter failed: $2: $got" "json: ${1:0:600}"
        return
    fi
    expect_eq "$got" "$3" "$4"
}

# expect_reply STATUS FILTER WANT WHAT — the last request's status, and a jq filter of its body
# (FILTER "=": the body itself, byte for byte).
expect_reply()
{
    local got
    if [[ "$STATUS" != "$1" ]]; then
        not_ok "$4" "expected status $1, got $STATUS" "body: ${BODY:0:600}"
        return
    fi
    if [[ "$2" == "=" ]]; then
        expect_eq "$BODY" "$3" "$4"
        return
    fi
    if ! got=$(jq -r "$2" <<<"$BODY" 2>&1); then
        not_ok "$4" "not JSON or filter failed: $2: $got" "body: ${BODY:0:600}"
        return
    fi
    expect_eq "$got" "$3" "$4"
}

# dump — the content of the last started daemon's store as SQL text (to compare before and after).
dump() { sqlite3 "$STORE_FILE" .dump; }

# finish — prints the summary line and exits non-zero if anything failed.
finish()
{
    echo "$PASSED passed, $FAILED failed"
    [[ "$FAILED" == 0 ]]
}
