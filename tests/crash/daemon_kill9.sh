#!/usr/bin/env bash
# daemon_kill9.sh AGENTBUDGET AGENTBUDGETD [ROUNDS] — crash consistency of agentbudgetd on a
# SQLite store under kill -9. Each round, WRITERS client loops (`agentbudget --url`, see lib.sh)
# charge, reserve, commit and release with keys through the daemon; after a random 20-150 ms
# they are killed with SIGKILL, and so is the daemon (in 7 rounds of 8) after its own random
# 20-150 ms: before the clients, while they still send, or after them. In the other rounds it
# is stopped with SIGTERM once the clients are dead, and must exit 0. Either way it must start
# again on the same store and socket within 5 s. After every round:
#   - PRAGMA integrity_check on the store file is ok (as the crash left it);
#   - the checks of lib.sh, through the (restarted) daemon: every acknowledged operation in the
#     log exactly once, retries with the keys replay and change nothing, tokens used and held
#     equal the events' sums, no limit exceeded.
set -euo pipefail
A=$(realpath "$1")
D=$(realpath "$2")
ROUNDS=${3:-100}
for tool in sqlite3 curl; do
    command -v $tool >/dev/null || { echo "error: needs $tool" >&2; exit 2; }
done
round=0
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/abcrash.XXXXXX")
dpid=""
unset AGENTBUDGET_STORE AGENTBUDGET_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY \
    all_proxy ALL_PROXY
export AGENTBUDGET_URL="unix:$dir/d.sock"
cleanup() {
    kill_writers
    [ -z "$dpid" ] || { kill -9 "$dpid" && wait "$dpid"; } 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

daemon_start() {
    "$D" --listen "unix:$dir/d.sock" --store "sqlite:$dir/s.db" --no-access-log \
        >>"$dir/d.out" 2>>"$dir/d.err" &
    dpid=$!
    for _ in $(seq 1 200); do
        curl -sf --unix-socket "$dir/d.sock" http://localhost/healthz >/dev/null 2>&1 && return 0
        kill -0 "$dpid" 2>/dev/null || break
        sleep 0.025
    done
    fail "the daemon did not start again: $(tail -n 3 "$dir/d.err")"
}

daemon_kill() {
    kill -9 "$dpid"
    wait "$dpid" 2>/dev/null || true
}

# daemon_stop: SIGTERM, which must answer what is in flight, commit and exit 0 within 15 s.
daemon_stop() {
    local rc=0
    kill -TERM "$dpid"
    for _ in $(seq 1 1500); do
        kill -0 "$dpid" 2>/dev/null || break
        sleep 0.01
    done
    kill -0 "$dpid" 2>/dev/null && fail "the daemon did not stop within 15 s of SIGTERM"
    wait "$dpid" || rc=$?
    [ $rc = 0 ] || fail "the daemon stopped on SIGTERM with status $rc"
}

daemon_start
AGENTBUDGET_TOKEN=$(sed -n 2p "$dir/d.out")
export AGENTBUDGET_TOKEN
setup_budgets

kills=0
for round in $(seq 1 "$ROUNDS"); do
    start_writers
    t_w=$((RANDOM % 131 + 20)) t_d=$((RANDOM % 131 + 20)) kill_d=$((RANDOM % 8 > 0))
    if ((kill_d && t_d < t_w)); then
        sleep "$(printf 0.%03d $t_d)"
        daemon_kill
        sleep "$(printf 0.%03d $((t_w - t_d)))"
        kill_writers
    else
        sleep "$(printf 0.%03d $t_w)"
        kill_writers
        if ((kill_d)); then
            sleep "$(printf 0.%03d $((t_d > t_w ? t_d - t_w : 0)))"
            daemon_kill
        else # so that no request of a killed client is still being handled when we look
            daemon_stop
        fi
    fi
    [ "$(sqlite3 "$dir/s.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
    kills=$((kills + kill_d))
    daemon_start
    check_round
done
summary crash_daemon_kill9 "daemon_kills=$kills"
