#!/usr/bin/env bash
# sqlite_kill9.sh AGENTBUDGET [ROUNDS] — crash consistency of the SQLite store under kill -9.
# Each round, WRITERS loops of `agentbudget` processes (see lib.sh) charge, reserve, commit and
# release with idempotency keys on one SQLite file, and are all killed with SIGKILL after a
# random 20-150 ms. After every round:
#   - PRAGMA integrity_check on the store is ok;
#   - the checks of lib.sh: every acknowledged operation in the log exactly once, retries with
#     the keys replay and change nothing, tokens used and held equal the events' sums, no limit
#     exceeded.
set -euo pipefail
A=$(realpath "$1")
ROUNDS=${2:-100}
command -v sqlite3 >/dev/null || { echo "error: needs sqlite3" >&2; exit 2; }
round=0
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/abcrash.XXXXXX")
unset AGENTBUDGET_URL AGENTBUDGET_TOKEN
export AGENTBUDGET_STORE="sqlite:$dir/s.db"
trap 'kill_writers; rm -rf "$dir"' EXIT

setup_budgets
for round in $(seq 1 "$ROUNDS"); do
    start_writers
    sleep "$(printf 0.%03d $((RANDOM % 131 + 20)))"
    kill_writers
    [ "$(sqlite3 "$dir/s.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
    check_round
done
summary crash_sqlite_kill9
